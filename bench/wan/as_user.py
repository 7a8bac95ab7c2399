"""bench/wan/as_user.py: a transfer as a new user makes it, across bench/wan's
emulated link: `peerdrop send <file>` in namespace A prints its link,
`peerdrop receive <link> --yes -o Downloads` in namespace B, both with their
human output (no --json), then the two files are compared. Prints what each
side said and how long the receive command took. Not part of CI.

    unshare -r -m -p -f --mount-proc --kill-child python3 bench/wan/as_user.py [size_mib] [rtt_ms] [rate_mbit] [loss_pct]

Defaults: 1024 MiB over 100 ms, 500 Mbit/s, no loss (issue 16's check).
PEERDROP_CLI, PEERDROP_SERVER: binaries (build/peerdrop, build/peerdrop-server).
"""
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
sys.path.insert(0, HERE)
import bench  # noqa: E402  (the link: bench.Net)

size_mib, rtt, rate, loss = (list(map(float, sys.argv[1:5])) + [1024, 100, 500, 0][len(sys.argv[1:5]):])
cli = os.environ.get('PEERDROP_CLI', os.path.join(ROOT, 'build', 'peerdrop'))
server_bin = os.environ.get('PEERDROP_SERVER', os.path.join(ROOT, 'build', 'peerdrop-server'))
work = tempfile.mkdtemp(prefix='peerdrop-as-user.', dir='/dev/shm' if os.access('/dev/shm', os.W_OK) else None)
f = os.path.join(work, 'holiday-video.mkv')
with open(f, 'wb') as out:
    for _ in range(int(size_mib)):
        out.write(os.urandom(1 << 20))
net = bench.Net()
procs = []
try:
    net.up(rtt / 2, rate, loss)
    procs.append(subprocess.Popen(net.cmd('A', [server_bin, '--host', bench.A_IP, '--port', str(bench.PORT)]),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(1)
    s = subprocess.Popen(net.cmd('A', [cli, 'send', f, '--server', f'http://{bench.A_IP}:{bench.PORT}/']),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    procs.append(s)
    link, said, deadline = None, [], time.monotonic() + 30
    while link is None and time.monotonic() < deadline:
        line = s.stdout.readline()
        if not line:
            break
        # what is shown keeps the room key out (it is a secret even here)
        said.append(re.sub(r'key=[^&\s\']+', 'key=(hidden)', line.rstrip()))
        m = re.search(r'(http://\S+#\S+)', line)
        link = m.group(1) if m else None
    print('sender said:', *said, sep='\n  ')
    if not link:
        sys.exit('no link from the sender')
    downloads = os.path.join(work, 'Downloads')
    t0 = time.monotonic()
    r = subprocess.run(net.cmd('B', [cli, 'receive', link, '--yes', '-o', downloads]),
                       capture_output=True, text=True, timeout=max(120, size_mib))
    took = time.monotonic() - t0
    lines = [x for x in re.split(r'[\r\n]', r.stdout + r.stderr) if x.strip()]
    print('receiver said (last lines):', *lines[-4:], sep='\n  ')
    print(f'receive command: {took:.1f} s, exit {r.returncode}')
    got = os.path.join(downloads, os.path.basename(f))
    same = subprocess.run(['cmp', '-s', f, got]).returncode == 0
    print('same bytes:', same)
    sys.exit(0 if r.returncode == 0 and same else 1)
finally:
    for p in procs:
        p.kill()
        p.wait()
    net.close()
    subprocess.run(['rm', '-rf', work])
