#!/usr/bin/env python3
"""rtc_pair_bench.py: native peer to native peer throughput, two processes.

Starts two rtc-echo processes, relays their signaling (JSON lines), makes
one the offerer, puts the other in sink mode and streams N bytes one way.
Prints channel-open time and MB/s, as the CLI-to-CLI figure on loopback
(each peer on its own core, unlike tests/unit/test_rtc_loopback.c).

usage: rtc_pair_bench.py PATH/TO/rtc-echo [MiB]"""
import json, subprocess, sys, threading, time

def main():
    exe = sys.argv[1]
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    a = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    b = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    events = {"open": threading.Event(), "sunk": threading.Event()}
    result = {}

    def relay(src, dst, name):
        for line in src.stdout:
            m = json.loads(line)
            if m["type"] in ("offer", "answer", "candidate"):
                dst.stdin.write(line)
                dst.stdin.flush()
            elif m["type"] == "open" and name == "a":
                result["open_ms"] = m["ms"]
                events["open"].set()
            elif m["type"] == "sunk":
                result.update(m)
                events["sunk"].set()
            elif m["type"] == "state" and m["state"] in ("failed", "closed"):
                print(name, "state", m["state"], m.get("reason"), file=sys.stderr)

    for src, dst, n in ((a, b, "a"), (b, a, "b")):
        threading.Thread(target=relay, args=(src, dst, n), daemon=True).start()
    b.stdin.write('{"type":"sink"}\n'); b.stdin.flush()
    a.stdin.write('{"type":"create-offer","label":"bench"}\n'); a.stdin.flush()
    if not events["open"].wait(20):
        sys.exit("channel did not open")
    t0 = time.monotonic()
    a.stdin.write(json.dumps({"type": "stream", "bytes": mib << 20}) + "\n"); a.stdin.flush()
    if not events["sunk"].wait(600):
        sys.exit("stream did not finish")
    wall = time.monotonic() - t0
    assert result["bytes"] == mib << 20, result
    print(f"channel open {result['open_ms']:.1f} ms; {mib} MiB in {wall*1000:.0f} ms = "
          f"{(mib << 20) / wall / 1e6:.1f} MB/s (first byte to last at the receiver: "
          f"{(mib << 20) / (result['ms'] / 1000) / 1e6:.1f} MB/s)")
    for p in (a, b):
        p.stdin.close()
        p.wait(10)

main()
