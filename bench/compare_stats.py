#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The figures of bench/compare.sh from its sender's rounds and the tools' counts.

  compare_stats.py ROUNDS SEEN FLOWS

ROUNDS: udp_flood's output ("round CYCLE NAME packets= wall_ns= cpu_ns= softirqd_ns= proc_ns=..."
lines, then "total NAME packets=N"). SEEN: one tab-separated line per target, NAME SENT RECEIVED
"SEEN DROPPED [FLOWS]" WHY, as compare.sh writes it. The first target is the baseline. FLOWS: how
many flows the sender's frames make on each veth (flowmeta's table must hold exactly those).

Per tool: the kernel share is the mean over the cycles of (CPU 0's ns per packet in the tool's
round - in its paired baseline round); the process share is the tool's CPU time summed over the
run per packet it saw; the total is their sum. Intervals: 95 % percentile bootstrap, resampling
whole cycles (every figure and ratio of one resample from the same cycles). Prints the figures,
the ratios against the targets, and what every tool saw of its traffic; the exit status is 1 only
when the input cannot be read (a missed target or a miscount is a result).
"""
import random
import sys

TARGETS = {"softflowd": (1 / 3, "1/3"), "pmacctd": (1 / 20, "1/20")}
# Targets with no process, a kernel share only: what the method and the hook cost by themselves.
FLOORS = {
    "null": "the method's floor: two unmetered veths",
    "tc_empty": "an empty TC program on clsact ingress: the hook alone",
    "tcx_empty": "the same on tcx ingress (a BPF link)",
}
RESAMPLES = 2000


def parse_rounds(path):
    rounds, totals = [], {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if p and p[0] == "round":
                v = dict(x.split("=", 1) for x in p[3:])
                rounds.append({
                    "cycle": int(p[1]), "name": p[2], "packets": int(v["packets"]),
                    "wall": int(v["wall_ns"]), "cpu": int(v["cpu_ns"]) + int(v["softirqd_ns"]),
                    "proc": [int(x) for x in v["proc_ns"].split(",")],
                })
            elif p and p[0] == "total":
                totals[p[1]] = int(p[2].split("=", 1)[1])
    return rounds, totals


def parse_seen(path):
    seen = {}
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 5:
                continue
            counts = [int(x) for x in p[3].split()] if p[3].strip() else []
            seen[p[0]] = {"sent": int(p[1]), "rx": int(p[2]), "counts": counts, "why": p[4]}
    return seen


def per_cycle(rounds, names):
    """Per target (not the baseline), lists over the cycles that have its pair."""
    base = names[0]
    out = {n: {"k": [], "kw": [], "proc": [], "pkts": []} for n in names[1:]}
    cycles = {}
    for r in rounds:
        cycles.setdefault(r["cycle"], []).append(r)
    for c in sorted(cycles):
        rs = cycles[c]
        proc = [sum(r["proc"][i] for r in rs) for i in range(len(names))]
        for i in range(0, len(rs) - 1, 2):
            a, b = rs[i], rs[i + 1]
            tool, bl = (a, b) if b["name"] == base else (b, a)
            if bl["name"] != base or tool["name"] == base or not a["packets"] or not b["packets"]:
                raise ValueError(f"cycle {c}: rounds {a['name']}, {b['name']} are not a pair")
            o = out[tool["name"]]
            o["k"].append(tool["cpu"] / tool["packets"] - bl["cpu"] / bl["packets"])
            o["kw"].append(tool["wall"] / tool["packets"] - bl["wall"] / bl["packets"])
            o["proc"].append(proc[names.index(tool["name"])])
            o["pkts"].append(tool["packets"])
    return out


def figures(d, idx, scale):
    """Kernel, wall-clock kernel, process and total share over the cycles idx."""
    n = len(idx)
    k = sum(map(d["k"].__getitem__, idx)) / n
    kw = sum(map(d["kw"].__getitem__, idx)) / n
    pk = sum(map(d["pkts"].__getitem__, idx))
    p = sum(map(d["proc"].__getitem__, idx)) / (pk * scale) if pk else 0.0
    return k, kw, p, k + p


def interval(xs):
    xs = sorted(xs)
    return xs[int(0.025 * (len(xs) - 1))], xs[int(0.975 * (len(xs) - 1))]


def fmt(x, lohi):
    lo, hi = lohi
    digits = 1 if max(abs(lo), abs(hi)) < 100 else 0
    return f"{x:.{digits}f} ns [{lo:.{digits}f}, {hi:.{digits}f}]"


def verdict(lo, hi, target):
    if hi <= target:
        return "OK"
    if lo > target:
        return "MISSED"
    return "UNDECIDED (the interval spans the target: run longer, FM_CMP_CYCLES)"


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 1
    rounds, totals = parse_rounds(argv[1])
    seen = parse_seen(argv[2])
    flows = int(argv[3])
    names = list(seen)
    if not rounds or not names:
        print("compare: no rounds from the sender", file=sys.stderr)
        return 1
    base = names[0]
    cyc = per_cycle(rounds, names)
    ncyc = len(cyc[names[1]]["k"])
    tools = [n for n in names[1:]
             if (n in FLOORS and not seen[n]["why"]) or seen[n]["counts"]]

    # The share of its packets a tool saw scales its process share: CPU per packet it handled.
    scale = {}
    for n in tools:
        c = seen[n]["counts"]
        scale[n] = c[0] / seen[n]["sent"] if c and seen[n]["sent"] else 1.0
    point = {n: figures(cyc[n], range(ncyc), scale[n]) for n in tools}
    rng = random.Random(1)
    boot = {n: [] for n in tools}
    for _ in range(RESAMPLES):
        idx = rng.choices(range(ncyc), k=ncyc)
        for n in tools:
            boot[n].append(figures(cyc[n], idx, scale[n]))

    b = [r for r in rounds if r["name"] == base]
    bp = sum(r["packets"] for r in b)
    cpu_ns = sum(r["cpu"] for r in b) / bp
    wall_ns = sum(r["wall"] for r in b) / bp
    print(f"  baseline: {cpu_ns:.0f} ns of CPU 0 a packet ({1e6 / cpu_ns:.0f} k packets/s of"
          f" its time; {1e6 / wall_ns:.0f} k/s by the clock: {100 * cpu_ns / wall_ns:.0f} % of"
          f" CPU 0 was ours); {ncyc} pairs a tool")
    print(f"  {'':<22}{'kernel share':<26}{'process share':<26}total")
    for n in tools:
        k, kw, p, t = point[n]
        ks = fmt(k, interval([x[0] for x in boot[n]]))
        if n in FLOORS:
            print(f"  {n:<22}{ks:<26}({FLOORS[n]})")
            continue
        ps = fmt(p, interval([x[2] for x in boot[n]]))
        ts = fmt(t, interval([x[3] for x in boot[n]]))
        print(f"  {n:<22}{ks:<26}{ps:<26}{ts}")
    for n in names[1:]:
        if n not in tools:
            print(f"  {n:<22}not measured: {seen[n]['why'] or 'no counts'}")
    wall = [f"{n} {fmt(point[n][1], interval([x[1] for x in boot[n]]))}"
            for n in tools if n not in FLOORS]
    if wall:
        print("  info: kernel share by the wall-clock rate instead: " + "; ".join(wall))

    fm = "flowmeta"
    for peer, (target, tname) in TARGETS.items():
        name = f"{fm} / {peer}"
        if fm not in point or peer not in point:
            miss = peer if peer not in point else fm
            print(f"  {name:<22}n/a  target <= {tname}  MISSED (no figure for {miss})")
            continue
        ratios = [f[3] / p[3] if p[3] > 0 else float("inf") for f, p in zip(boot[fm], boot[peer])]
        r = point[fm][3] / point[peer][3]
        lo, hi = interval(ratios)
        print(f"  {name:<22}{r:.3f} [{lo:.3f}, {hi:.3f}]  target <= {tname} ({target:.3f})"
              f"  {verdict(lo, hi, target)}")

    for n in names:
        s = seen[n]
        line = f"  seen: {n:<10} {s['sent']} frames sent, {s['rx']} reached its veth"
        if s["rx"] != s["sent"] or totals.get(n) != s["sent"]:
            line += "  MISCOUNT"
        c = s["counts"]
        if n == fm and c:
            line += f"; {c[0]} in its flow table, {c[2]} flows"
            ok = c[0] == s["sent"] and c[2] == flows
        elif c:
            line += f"; it {'processed' if n == 'softflowd' else 'received'} {c[0]}, dropped {c[1]}"
            ok = c[0] == s["sent"] and c[1] == 0
        else:
            ok = None
        if ok is True:
            line += " (exact)"
        elif ok is False:
            line += (f"  MISSED {s['sent'] - c[0]} of them: its figures cover what it saw,"
                     " it is not cheaper for missing packets")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
