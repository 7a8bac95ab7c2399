#!/usr/bin/env python3
"""bench/cluster/report.py RESULTS [RATE]: the table and the issue 15 targets
from the raw lines bench/cluster/run.sh writes (one case per line:
kind layout mode rc=... key=value...). run.sh calls it; it also re-renders a
kept results.txt (KEEP_LOGS=1)."""
import sys, statistics
path, rate = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5000
rows = []
for line in open(path):
    f = line.split()
    kv = dict(x.split("=", 1) for x in f[3:] if "=" in x)
    kv.update(kind=f[0], layout=f[1], mode=f[2])
    rows.append(kv)

def vals(kind, layout, mode, key):
    out = []
    for r in rows:
        if (r["kind"], r["layout"], r["mode"]) == (kind, layout, mode) and r.get("rc") == "0" and key in r:
            out.append(float(r[key]))
    return out

def best(kind, layout, mode, key, higher):
    v = vals(kind, layout, mode, key)
    return (max(v) if higher else min(v)) if v else None

def med(kind, layout, mode, key):
    v = vals(kind, layout, mode, key)
    return statistics.median(v) if v else None

COLS = [("peerdrop", "1"), ("peerdrop", "1r"), ("peerdrop", "2"), ("reference", "1"), ("reference", "2")]
METRICS = [
    ("relay with acks (msg/s) [best]", "relay", "msgs_per_s", True, "best"),
    ("relay: CPU per msg, nodes + Redis (µs) [median]", "relay", "server_cpu_us_per_msg", False, "med"),
    ("relay: p99 at saturation (µs) [best]", "relay", "lat_p99_us", False, "best"),
    (f"latency p50 @{rate} msg/s (µs) [best]", "latency", "lat_p50_us", False, "best"),
    (f"latency p99 @{rate} msg/s (µs) [best]", "latency", "lat_p99_us", False, "best"),
    (f"latency: CPU per msg @{rate} msg/s (µs) [median]", "latency", "server_cpu_us_per_msg", False, "med"),
    ("other processes' CPU during relay (% of a core) [median]", "relay", "other_cpu_pct", False, "med"),
    ("other processes' CPU during latency (% of a core) [median]", "latency", "other_cpu_pct", False, "med"),
]
def fmt(v):
    if v is None: return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"
print()
print("| metric | peerdrop 1 node | peerdrop 1 node, --redis | peerdrop 2 nodes | reference 1 node | reference 2 nodes | 2 nodes: peerdrop vs reference |")
print("|---|---:|---:|---:|---:|---:|---:|")
table = {}
for name, mode, key, higher, how in METRICS:
    cells = []
    for kind, layout in COLS:
        v = best(kind, layout, mode, key, higher) if how == "best" else med(kind, layout, mode, key)
        table[(name, kind, layout)] = v
        cells.append(fmt(v))
    a, b = table[(name, "peerdrop", "2")], table[(name, "reference", "2")]
    ratio = "-"
    if a and b and "other" not in name:
        ratio = f"{(a / b if higher else b / a):.1f}×"
    print(f"| {name} | " + " | ".join(cells) + f" | {ratio} |")
print()
a = table[(METRICS[0][0], "peerdrop", "2")]; b = table[(METRICS[0][0], "reference", "2")]
if a and b:
    r = a / b
    print(f"target: cross-node relay >= 5x the Node + redis-adapter reference: {r:.1f}x: {'PASS' if r >= 5 else 'FAIL'}")
p2 = table[(METRICS[4][0], "peerdrop", "2")]; p1 = table[(METRICS[4][0], "peerdrop", "1")]
if p2 is not None and p1 is not None:
    d = p2 - p1
    print(f"target: cross-node p99 @{rate} msg/s within 1 ms of one node's: {p2:.0f} - {p1:.0f} = {d:.0f} us: {'PASS' if d <= 1000 else 'FAIL'}")