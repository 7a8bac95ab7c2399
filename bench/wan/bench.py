#!/usr/bin/env python3
"""bench/wan/bench.py: runs inside run.sh's private user+mount+PID namespace.

Namespaces A (10.77.0.1) and B (10.77.0.2) are each held by an
`unshare -n sleep` process; wanlink (./wanlink.c) joins them with a TUN in
each. For every link (delay, rate, loss) it starts a fresh wanlink, then runs
the cases round robin: peerdrop CLI -> CLI (server and sender in A, receiver
in B) and TCP (sender in A, receiver in B, BBR and cubic, 32 MiB buffers).
Every wait is bounded. Subcommands tcp-send/tcp-recv are the TCP peers.
"""
import json, os, random, re, select, signal, socket, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
A_IP, B_IP, DEV, PORT = '10.77.0.1', '10.77.0.2', 'wan0', 8089
TCP_PORT = 5201
VERIFY_LINKS = [tuple(map(float, l.split(','))) for l in os.environ.get('WAN_VERIFY_LINKS', '0,500;10,500;25,500;50,500;25,100').split(';')]
# WAN_FREEZE="N,B": in every case, the N-th UDP flow to cross the link (a
# peer connection; the session's is 1, its lanes follow) goes dead once it
# has carried B bytes (wanlink --freeze-flow): docs/protocol.md §5.11
FREEZE = tuple(int(x) for x in os.environ['WAN_FREEZE'].split(',')) if os.environ.get('WAN_FREEZE') else None
BUF32 = 32 * 1024 * 1024


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---- TCP peers (run inside a namespace via nsenter) ---------------------------

def tcp_recv(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('0.0.0.0', port))
    ls.listen(1)
    ls.settimeout(30)
    print('listening', flush=True)
    c, _ = ls.accept()
    c.settimeout(120)
    buf = bytearray(1 << 20)
    n, first = 0, None
    while True:
        k = c.recv_into(buf)
        if k == 0:
            break
        if first is None:
            first = time.monotonic()
        n += k
    print(json.dumps({'bytes': n, 'first': first, 'last': time.monotonic()}), flush=True)


def tcp_send(host, port, size, cc):
    s = socket.socket()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    s.settimeout(120)
    block = memoryview(os.urandom(1 << 20))
    t0 = time.monotonic()
    s.connect((host, port))
    left = size
    while left > 0:
        k = min(left, len(block))
        s.sendall(block[:k])
        left -= k
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # the receiver closes once it has everything
    print(json.dumps({'t0': t0}), flush=True)


# ---- namespaces and the link ---------------------------------------------------

class Net:
    def __init__(self):
        self.holders = {}
        for n in 'AB':
            self.holders[n] = subprocess.Popen(['unshare', '-n', 'sleep', '100000'])
        time.sleep(0.2)
        self.link = None

    def ns(self, n):
        return f'/proc/{self.holders[n].pid}/ns/net'

    def cmd(self, n, argv):
        return ['nsenter', f'--net={self.ns(n)}'] + argv

    def sh(self, n, argv, timeout=20):
        return subprocess.run(self.cmd(n, argv), check=True, timeout=timeout, capture_output=True, text=True).stdout

    def up(self, delay_ms, rate_mbit, loss_pct):
        """A fresh wanlink for this link; one-way delay = RTT / 2."""
        self.down()
        argv = [os.path.join(HERE, 'wanlink'), '--ns-a', self.ns('A'), '--ns-b', self.ns('B'),
                '--dev', DEV, '--delay-ms', str(delay_ms), '--rate-mbit', str(rate_mbit),
                '--loss-pct', str(loss_pct), '--seed', str(random.randrange(1, 1 << 40))]
        if FREEZE:
            argv += ['--freeze-flow', str(FREEZE[0]), '--freeze-after', str(FREEZE[1])]
        self.link = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        r, _, _ = select.select([self.link.stdout], [], [], 10)
        if not r or self.link.stdout.readline().strip() != 'ready':
            raise RuntimeError('wanlink did not start: ' + self.link.stderr.read())
        for n, ip in (('A', A_IP), ('B', B_IP)):
            self.sh(n, ['ip', 'link', 'set', 'lo', 'up'])
            self.sh(n, ['ip', 'addr', 'add', ip + '/24', 'dev', DEV])
            # the note: 500 packets overflow under an SCTP burst while the
            # forwarder waits for a core; 10,000 was enough
            self.sh(n, ['ip', 'link', 'set', DEV, 'up', 'txqueuelen', '10000'])
            for k in ('net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'):
                self.sh(n, ['sysctl', '-q', '-w', f'{k}=4096 131072 {BUF32}'])
            for k in ('net.core.rmem_max', 'net.core.wmem_max'):
                subprocess.run(self.cmd(n, ['sysctl', '-q', '-w', f'{k}={BUF32}']), capture_output=True)

    def tun_drops(self):
        out = {}
        for n in 'AB':
            j = json.loads(self.sh(n, ['ip', '-j', '-s', 'link', 'show', 'dev', DEV]))[0]['stats64']
            out[n] = {'tx_dropped': j['tx']['dropped'], 'rx_dropped': j['rx']['dropped']}
        return out

    def udp_drops(self):
        """Datagrams each namespace's kernel dropped because a socket's receive
        buffer was full (Udp RcvbufErrors): loss no link caused, e.g. a
        browser's network thread too busy to read its socket."""
        out = {}
        for n in 'AB':
            lines = [ln.split() for ln in self.sh(n, ['cat', '/proc/net/snmp']).splitlines() if ln.startswith('Udp:')]
            out[n] = int(dict(zip(lines[0][1:], lines[1][1:])).get('RcvbufErrors', 0)) if len(lines) >= 2 else 0
        return out

    def frozen(self):
        """--freeze-flow: makes wanlink forget its flows (the next case's
        are numbered from 1 again) and returns the drops so far."""
        self.link.send_signal(signal.SIGUSR1)
        r, _, _ = select.select([self.link.stdout], [], [], 5)
        line = self.link.stdout.readline().split() if r else []
        if len(line) != 2 or line[0] != 'frozen':
            raise RuntimeError(f'wanlink did not answer SIGUSR1: {line}')
        return int(line[1])

    def down(self):
        """Stops wanlink; returns its counter lines."""
        if not self.link:
            return ''
        self.link.send_signal(signal.SIGTERM)
        try:
            _, err = self.link.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.link.kill()
            _, err = self.link.communicate()
        self.link = None
        return err.strip()

    def close(self):
        self.down()
        for p in self.holders.values():
            p.kill()
            p.wait()


# ---- cases ---------------------------------------------------------------------

def quiet_wait(limit_s):
    """Waits (bounded) until the machine is under 15 % busy over 1 s."""
    def busy():
        with open('/proc/stat') as f:
            v = list(map(int, f.readline().split()[1:]))
        return v[0] + v[1] + v[2] + v[5] + v[6], sum(v)
    end = time.monotonic() + limit_s
    while True:
        b0, t0 = busy()
        time.sleep(1)
        b1, t1 = busy()
        pct = 100.0 * (b1 - b0) / max(1, t1 - t0)
        if pct < 15 or time.monotonic() > end:
            return pct


def lines_until(proc, pred, deadline):
    """Reads proc's stdout JSON lines until pred(j) or the deadline; returns (j, t, seen)."""
    seen = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError('timed out; saw ' + str(seen[-3:]))
        r, _, _ = select.select([proc.stdout], [], [], left)
        if not r:
            continue
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError('exited (%s); saw %s' % (proc.poll(), seen[-3:]))
        t = time.monotonic()
        try:
            j = json.loads(line)
        except ValueError:
            continue
        seen.append(j)
        if pred(j):
            return j, t, seen


def variant(cfg, case):
    """'cli-cli@name': WAN_VARIANTS 'name:/path/to/peerdrop' (another binary)
    or 'name:VAR=value,VAR=value' (extra environment for both CLIs)."""
    cli, env = cfg['cli'], dict(os.environ)
    if '@' in case:
        name = case.split('@', 1)[1]
        spec = dict(v.split(':', 1) for v in os.environ.get('WAN_VARIANTS', '').split(';') if ':' in v)
        if name not in spec:
            raise RuntimeError(f'no WAN_VARIANTS entry for {name}')
        if spec[name].startswith('/'):
            cli = spec[name]
        else:
            env.update(kv.split('=', 1) for kv in spec[name].split(',') if '=' in kv)
    return cli, env


def lanes_of(case):
    """'cli-cli-lanesN[@variant]': --lanes N on both CLIs; plain 'cli-cli'
    runs the CLI's default (docs/protocol.md §5.10)."""
    base = case.split('@', 1)[0]
    if base.startswith('cli-cli-lanes'):
        return ['--lanes', str(int(base[len('cli-cli-lanes'):]))]
    return []


def case_cli(net, cfg, work, size, limit_s, case='cli-cli'):
    cli, env = variant(cfg, case)
    lanes = lanes_of(case)
    out = tempfile.mkdtemp(dir=work)
    s = r = None
    # WAN_CLI_LOG=path: both CLIs' debug logs, appended there
    logpath = os.environ.get('WAN_CLI_LOG')
    errlog = open(logpath or os.devnull, 'a')
    dbg = ['--log-level', 'debug'] if logpath else []
    try:
        s = subprocess.Popen(net.cmd('A', [cli, 'send', cfg['file'], '--server', f'http://{A_IP}:{PORT}/',
                                           '--count', '1', '--json'] + lanes + dbg),
                             stdout=subprocess.PIPE, stderr=errlog, text=True, env=env)
        room, _, _ = lines_until(s, lambda j: j.get('event') == 'room', time.monotonic() + 30)
        t_spawn = time.monotonic()
        r = subprocess.Popen(net.cmd('B', [cli, 'receive', room['link'], '--yes', '-o', out, '--json'] + lanes + dbg),
                             stdout=subprocess.PIPE, stderr=errlog, text=True, env=env)
        deadline = time.monotonic() + limit_s
        _, t_offer, seen = lines_until(r, lambda j: j.get('event') == 'offer', deadline)
        _, t_first, seen2 = lines_until(r, lambda j: j.get('event') == 'progress' or j.get('event') == 'done', deadline)
        done, t_done, seen3 = lines_until(r, lambda j: j.get('event') in ('done', 'error', 'cancelled'), deadline)
        # lanes open at the receiver (its 'lanes' events), and the bytes they
        # carried (its summary, right after done)
        lanes_open = max([j.get('open', 0) for j in seen + seen2 + seen3 if j.get('event') == 'lanes'] or [0])
        # sessions the receiver had: more than one means a drop and a resume
        sessions = sum(1 for j in seen + seen2 + seen3 if j.get('event') == 'connected')
        if done['event'] != 'done':
            raise RuntimeError('receiver: ' + json.dumps(done))
        got = os.path.getsize(os.path.join(out, os.path.basename(cfg['file'])))
        if got != size:
            raise RuntimeError(f'received {got} bytes')
        res = {'mbps': size / 1e6 / (t_done - t_offer), 'ttfb_ms': 1000 * (t_first - t_spawn), 'lanes': lanes_open,
               'sessions': sessions, 'seconds': round(t_done - t_offer, 2)}
        try:
            summary, _, _ = lines_until(r, lambda j: j.get('event') == 'summary', time.monotonic() + 5)
            res['lane_bytes'] = summary.get('laneBytes', 0)
        except Exception:  # noqa: BLE001 (no summary: the figure is still good)
            pass
        return res
    finally:
        for p in (r, s):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        subprocess.run(['rm', '-rf', out])
        errlog.close()


# Browser cases: bench/transfer/bench.mjs, run inside namespace A, puts its
# server and each sending side there and each receiving side in B, across the
# link (BENCH_NS_B, BENCH_HOST). One case, one run per call; its figures come
# back on its "raw <key> [runs]" line.
BROWSER_CASES = {'raw-b2b': 'raw-b2b', 'cli-chromium': 'cli-chromium', 'chromium-cli': 'chromium-cli',
                 'app-app': 'app-b2b-65536'}


def case_browser(net, cfg, work, size, limit_s, case):
    base = case.split('@', 1)[0]
    cli, env = variant(cfg, case)
    bwork = tempfile.mkdtemp(dir=work)
    env.update({'BENCH_CASES': 'app-b2b' if base == 'app-app' else base, 'BENCH_APP_CHUNKS': '65536', 'REPEAT': '1',
                'BENCH_SIZE_MB': str(cfg['size_mb']), 'BENCH_WORK': bwork, 'BENCH_NS_B': net.ns('B'),
                'BENCH_HOST': A_IP, 'QUIET_WAIT': '0', 'PEERDROP_CLI': cli, 'PEERDROP_SERVER': cfg['server'],
                'BENCH_TRANSFER_LIMIT_S': str(limit_s)})
    try:
        p = subprocess.run(net.cmd('A', ['node', os.path.join(HERE, '..', 'transfer', 'bench.mjs')]), env=env,
                           capture_output=True, text=True, timeout=limit_s + 90)
        key = BROWSER_CASES[base]
        runs = next((json.loads(l.split(' ', 2)[2]) for l in p.stdout.splitlines() if l.startswith(f'raw {key} ')), [])
        if p.returncode != 0 or not runs:
            err = [l for l in p.stderr.splitlines() if 'FAILED' in l or 'rror' in l][-3:]
            raise RuntimeError(f'bench.mjs exited {p.returncode}: ' + ' | '.join(err)[:400])
        r = runs[0]
        out = {'mbps': r['mbps'], 'ttfb_ms': float('nan')}
        if r.get('cpuS'):
            out['cpu_s_per_gib'] = r['cpuS'] * (1 << 30) / size
        return out
    finally:
        subprocess.run(['rm', '-rf', bwork])


def case_web(net, cfg, size, limit_s, case):
    """'web-web@N': the web app in Chromium A (sender, in A) -> Chromium B
    (receiver, in B), each page offering N lanes (docs/protocol.md §5.10);
    web_case.mjs drives both. MB/s = size / (B's accept -> completed)."""
    lanes = case.split('@', 1)[1] if '@' in case else '0'
    p = subprocess.run(['node', os.path.join(HERE, 'web_case.mjs'), f'http://{A_IP}:{PORT}/', net.ns('A'), net.ns('B'),
                        cfg['file'], lanes, str(limit_s)], capture_output=True, text=True, timeout=limit_s + 120)
    line = (p.stdout.strip().splitlines() or ['{}'])[-1]
    res = json.loads(line)
    if 'error' in res or 'mbps' not in res:
        raise RuntimeError('web: ' + line + ' ' + p.stderr[-300:])
    return res


def case_tcp(net, cc, size, limit_s):
    me = os.path.abspath(__file__)
    r = subprocess.Popen(net.cmd('B', [sys.executable, me, 'tcp-recv', str(TCP_PORT)]),
                         stdout=subprocess.PIPE, text=True)
    s = None
    try:
        lines_until_text(r, 'listening', time.monotonic() + 10)
        s = subprocess.Popen(net.cmd('A', [sys.executable, me, 'tcp-send', B_IP, str(TCP_PORT), str(size), cc]),
                             stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + limit_s
        res, _, _ = lines_until(r, lambda j: 'bytes' in j, deadline)
        snd, _, _ = lines_until(s, lambda j: 't0' in j, deadline)
        if res['bytes'] != size:
            raise RuntimeError(f'received {res["bytes"]} bytes')
        return {'mbps': size / 1e6 / (res['last'] - snd['t0']), 'ttfb_ms': 1000 * (res['first'] - snd['t0'])}
    finally:
        for p in (s, r):
            if p and p.poll() is None:
                p.kill()
                p.wait()


def lines_until_text(proc, text, deadline):
    while time.monotonic() < deadline:
        r, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
        if r and proc.stdout.readline().strip() == text:
            return
    raise TimeoutError('no ' + text)


def verify(net):
    """ping shows the RTT, iperf3 the rate; returns text lines."""
    out = []
    for d, rate in VERIFY_LINKS:
        net.up(d, rate, 0)
        p = net.sh('A', ['ping', '-c', '5', '-i', '0.2', '-q', B_IP])
        rtt = re.search(r'= ([\d.]+)/([\d.]+)/', p)
        srv = subprocess.Popen(net.cmd('B', ['iperf3', '-s', '-1', '-B', B_IP]), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        try:
            txt = subprocess.run(net.cmd('A', ['iperf3', '-c', B_IP, '-t', '5', '-J']), timeout=30, capture_output=True, text=True).stdout
            j = json.loads(txt)
            if 'error' in j: raise RuntimeError(j['error'])
            ip = j['end']['sum_received']['bits_per_second'] / 8e6
            retr = j['end']['sum_sent'].get('retransmits')
        except Exception as e:  # noqa: BLE001
            ip, retr = float('nan'), str(e)[:300]
        finally:
            srv.kill()
            srv.wait()
        drops = net.tun_drops()
        counters = net.down()
        out.append(f'D={d} ms R={rate} Mbit/s: ping avg {rtt.group(2) if rtt else "?"} ms, iperf3 (BBR, tcp_wmem/rmem max 32 MiB) '
                   f'{ip:.1f} MB/s, {retr} retransmits; TUN drops {drops}')
        out.append('  ' + counters.replace('\n', '\n  '))
    return out


def main():
    if len(sys.argv) > 1 and sys.argv[1] == 'tcp-recv':
        return tcp_recv(int(sys.argv[2]))
    if len(sys.argv) > 1 and sys.argv[1] == 'tcp-send':
        return tcp_send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    cfg = json.loads(os.environ['WAN_CFG'])
    size = cfg['size_mb'] * 1024 * 1024
    work = tempfile.mkdtemp(prefix='peerdrop-wan.', dir=cfg['tmp'])
    cfg['file'] = os.path.join(work, 'big.bin')
    with open(cfg['file'], 'wb') as f:
        for _ in range(cfg['size_mb']):
            f.write(os.urandom(1 << 20))
    net = Net()
    server = None
    results = []
    try:
        if cfg['verify']:
            for line in verify(net):
                print('# ' + line, flush=True)
        for link in cfg['links']:
            rtt, rate, loss = link
            net.up(rtt / 2, rate, loss)
            server = subprocess.Popen(net.cmd('A', [cfg['server'], '--host', A_IP, '--port', str(PORT), '--argon2', 'min',
                                                    '--rate-limit', '0', '--log-level', 'warn',
                                                    '--web-root', os.path.join(HERE, '..', '..', 'web', 'dist')]),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            per = {c: [] for c in cfg['cases']}
            limit = cfg['limit_s']
            for rnd in range(cfg['rounds']):
                for c in cfg['cases']:
                    busy = quiet_wait(cfg['quiet_wait'])
                    d0 = net.tun_drops()
                    u0 = net.udp_drops()
                    f0 = net.frozen() if FREEZE else 0
                    try:
                        if c.split('@', 1)[0] in BROWSER_CASES:
                            res = case_browser(net, cfg, work, size, limit, c)
                        elif c.startswith('cli-cli'):
                            res = case_cli(net, cfg, work, size, limit, c)
                        elif c.startswith('web-web'):
                            res = case_web(net, cfg, size, limit, c)
                        else:
                            res = case_tcp(net, c.split('-')[1], size, limit)
                    except Exception as e:  # noqa: BLE001
                        res = {'mbps': 0.0, 'ttfb_ms': float('nan'), 'error': str(e)[:200]}
                    d1 = net.tun_drops()
                    res['tun_drops'] = sum(d1[n]['tx_dropped'] - d0[n]['tx_dropped'] for n in 'AB')
                    u1 = net.udp_drops()
                    res['udp_rcvbuf_drops'] = sum(u1[n] - u0[n] for n in 'AB')
                    res['udp_rcvbuf_drops_ab'] = [u1[n] - u0[n] for n in 'AB']  # A sends the file, B receives it
                    res['busy_before_pct'] = round(busy)
                    if FREEZE:
                        res['frozen_drops'] = net.frozen() - f0
                    per[c].append(res)
                    print(json.dumps({'rtt_ms': rtt, 'rate_mbit': rate, 'loss_pct': loss, 'case': c, 'round': rnd, **res}),
                          flush=True)
            server.terminate()
            server.wait(10)
            server = None
            counters = net.down()
            print('# link ' + counters.replace('\n', ' | '), flush=True)
            results.append((link, per))
    finally:
        if server:
            server.kill()
            server.wait()
        net.close()
        subprocess.run(['rm', '-rf', work])
    # the table
    print()
    print('| RTT | rate | loss | case | MB/s (median) | share of TCP ceiling | TTFB ms | runs (MB/s) | fails | TUN drops | UDP rcvbuf drops | browsers CPU s/GiB |')
    print('|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|')
    for (rtt, rate, loss), per in results:
        def med(c, k='mbps'):
            v = [r[k] for r in per.get(c, []) if 'error' not in r]
            return statistics.median(v) if v else float('nan')
        ceiling = max([x for x in (med('tcp-bbr'), med('tcp-cubic')) if x == x] or [0])
        for c in per:
            fails = sum(1 for r in per[c] if 'error' in r)
            drops = sum(r['tun_drops'] for r in per[c])
            udp = sum(r.get('udp_rcvbuf_drops', 0) for r in per[c])
            runs = ' '.join(f"{r['mbps']:.1f}" for r in per[c])
            share = f'{med(c) / ceiling:.0%}' if ceiling else '-'
            cpu = [r['cpu_s_per_gib'] for r in per[c] if 'cpu_s_per_gib' in r]
            cpu = f'{statistics.median(cpu):.0f}' if cpu else '-'
            print(f'| {rtt} ms | {rate} Mbit/s | {loss} % | {c} | {med(c):.1f} | {share} | '
                  f"{med(c, 'ttfb_ms'):.0f} | {runs} | {fails} | {drops} | {udp} | {cpu} |")


if __name__ == '__main__':
    main()
