#!/usr/bin/env python3
"""Summarises scripts/bench-comm-mpi.sh output against issue 3's M1 and G8 targets.

Usage: scripts/bench-comm-mpi.sh LOOM 2 4 8 > sweep.jsonl; scripts/summarize-comm-mpi.py sweep.jsonl...

Prints, per collective and rank count, the ratio OpenMPI time / loom time at every size
(M1 wants >= 1.0 from 1 MiB up and >= 0.8 below), then the points that miss; for Adasum, the
ratio Adasum time / sum time on the same schedule (G8 wants <= 1.25, and <= 1.5 for >= 1000
tensors). Standard library only.
"""
import json
import sys
from collections import defaultdict

MIB = 1 << 20


def size_label(b):
    for unit, scale in (("GiB", 1 << 30), ("MiB", MIB), ("KiB", 1 << 10)):
        if b >= scale and b % scale == 0:
            return f"{b // scale}{unit}"
    return f"{b}B"


def main(paths):
    rows = []
    for path in paths:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.startswith("{")]
    m1 = defaultdict(dict)
    g8 = []
    for r in rows:
        if r["collective"] == "adasum":
            g8.append(r)
        else:
            m1[(r["collective"], r["ranks"])][r["bytes"]] = r["ratio"]
    misses, points = [], 0
    for (coll, ranks), by_size in sorted(m1.items()):
        cells = []
        for b, ratio in sorted(by_size.items()):
            points += 1
            target = 1.0 if b >= MIB else 0.8
            mark = "" if ratio >= target else "*"
            if mark:
                misses.append(f"{coll} {ranks} ranks {size_label(b)}: {ratio:.2f} (target {target})")
            cells.append(f"{size_label(b)} {ratio:.2f}{mark}")
        print(f"{coll:9} {ranks} ranks: " + ", ".join(cells))
    print(f"M1: {points - len(misses)} of {points} points meet the target (* = miss)")
    for m in misses:
        print("  miss:", m)
    for r in g8:
        tensors = r.get("tensors", 1)
        target = 1.5 if tensors >= 1000 else 1.25
        ratio = r["loom_us"] / r["sum_vhdd_us"]  # Adasum time / sum time, same schedule
        mark = "" if ratio <= target else "*"
        print(f"adasum {r['ranks']} ranks {size_label(r['bytes'])} {tensors} tensor(s): "
              f"adasum/sum {ratio:.2f}{mark} (target <= {target})")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
