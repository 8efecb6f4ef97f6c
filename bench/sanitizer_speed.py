#!/usr/bin/env python3
# bench/sanitizer_speed.py — libFuzzer throughput of two builds side by side, plain and under ASan (issue 12).
#
# Usage:
#   bench/sanitizer_speed.py --base DIR --new DIR [--reps 3] [--json OUT]
#                            [--runs lockosthread_fuzzer=5000,sched_fuzzer=3000]
#                            [--long lockosthread_fuzzer:asan-uar=2000,20000]
#
# DIR is a source tree whose build/fuzz and build/fuzz-asan hold lockosthread_fuzzer and
# sched_fuzzer (cmake --preset fuzz / fuzz-asan; cmake --build build/<preset> --target <t>).
# Each measurement runs
#   <target> -runs=N -seed=1 <the [libfuzzer] flags of fuzz/targets/<target>.options>
#            -dict=fuzz/schedfuzz.dict <fresh empty corpus dir>
# under /usr/bin/time -v, in four configurations: plain (`fuzz` build), asan (`fuzz-asan`, ASan +
# UBSan, no ASAN_OPTIONS), asan-uar (`fuzz-asan`, ASAN_OPTIONS=detect_stack_use_after_return=1, as
# OSS-Fuzz runs it) and ubsan (`fuzz-ubsan`, UBSan only, OSS-Fuzz's undefined build). Rounds alternate the two trees and the configurations, so load from other
# jobs on the machine falls on both sides alike; the table gives medians over the rounds of
# exec/s (wall), executions per CPU second (user + sys; what one unshared core would do) and peak
# RSS. --long adds single runs of one configuration at two lengths, both sides, for the cost per
# execution early and late in a run (the marginal cost between the two lengths). Prints a
# Markdown table; nothing here passes or fails on time.
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

TARGETS = ["lockosthread_fuzzer", "sched_fuzzer"]
CONFIGS = {
    "plain": ("fuzz", None),
    "asan": ("fuzz-asan", None),
    "asan-uar": ("fuzz-asan", "detect_stack_use_after_return=1"),
    "ubsan": ("fuzz-ubsan", None),
}


def options_flags(tree, target):
    flags = []
    in_lf = False
    with open(os.path.join(tree, "fuzz", "targets", target + ".options")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                in_lf = line == "[libfuzzer]"
                continue
            if in_lf and "=" in line:
                k, v = (x.strip() for x in line.split("=", 1))
                if k == "dict":
                    continue  # the shared dictionary, below
                flags.append(f"-{k}={v}")
    flags.append("-dict=" + os.path.join(tree, "fuzz", "schedfuzz.dict"))
    return flags


def run_one(tree, target, config, runs):
    preset, asan = CONFIGS[config]
    binary = os.path.join(tree, "build", preset, "fuzz", "targets", target)
    corpus = tempfile.mkdtemp(prefix="sanspeed-")
    env = dict(os.environ)
    env.pop("ASAN_OPTIONS", None)
    if asan:
        env["ASAN_OPTIONS"] = asan
    cmd = ["/usr/bin/time", "-v", binary, f"-runs={runs}", "-seed=1"] + options_flags(tree, target) + [corpus]
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finally:
        shutil.rmtree(corpus, ignore_errors=True)
    err = p.stderr
    m = re.search(r"Done (\d+) runs", err)
    if p.returncode != 0 or not m:
        sys.exit(f"{' '.join(cmd)} failed (exit {p.returncode}):\n{err[-3000:]}")

    def field(name):
        return re.search(re.escape(name) + r":\s*(\S+)", err).group(1)

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(x) for x in wall.split(":")]
    wall_s = sum(x * 60 ** i for i, x in enumerate(reversed(parts)))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    return {
        "runs": int(m.group(1)),
        "wall_s": wall_s,
        "cpu_s": cpu,
        "rss_kb": int(field("Maximum resident set size (kbytes)")),
    }


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--runs", default="lockosthread_fuzzer=5000,sched_fuzzer=3000")
    ap.add_argument("--long", default="lockosthread_fuzzer:asan-uar=2000,20000")
    ap.add_argument("--configs", default="plain,asan,asan-uar,ubsan")
    ap.add_argument("--json")
    a = ap.parse_args()
    trees = {"base": os.path.abspath(a.base), "new": os.path.abspath(a.new)}
    runs = dict((k, int(v)) for k, v in (x.split("=") for x in a.runs.split(",")))
    configs = a.configs.split(",")
    results = []
    for rep in range(a.reps):
        for target in TARGETS:
            for ci, config in enumerate(configs):
                sides = ["base", "new"] if (rep + ci) % 2 == 0 else ["new", "base"]
                for side in sides:
                    r = run_one(trees[side], target, config, runs[target])
                    r.update(side=side, target=target, config=config, rep=rep)
                    results.append(r)
                    print(f"# rep {rep} {target} {config} {side}: {r['runs']} runs, {r['wall_s']:.2f} s wall, "
                          f"{r['cpu_s']:.2f} s CPU, {r['rss_kb'] // 1024} MB", file=sys.stderr, flush=True)
    longs = []
    if a.long:
        spec, lens = a.long.split("=")
        target, config = spec.split(":")
        n1, n2 = (int(x) for x in lens.split(","))
        for n in (n1, n2):
            for side in ("new", "base"):
                r = run_one(trees[side], target, config, n)
                r.update(side=side, target=target, config=config, long=True)
                longs.append(r)
                print(f"# long {target} {config} {side}: {r['runs']} runs, {r['wall_s']:.2f} s wall, "
                      f"{r['cpu_s']:.2f} s CPU, {r['rss_kb'] // 1024} MB", file=sys.stderr, flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"results": results, "long": longs, "trees": trees}, f, indent=1)

    print("| target | build | runs | exec/s before | exec/s after | exec per CPU s before | after | "
          "peak RSS before | after |")
    print("|:--|:--|--:|--:|--:|--:|--:|--:|--:|")
    for target in TARGETS:
        for config in configs:
            row = {}
            for side in ("base", "new"):
                rs = [r for r in results if r["side"] == side and r["target"] == target and r["config"] == config]
                row[side] = (med([r["runs"] / r["wall_s"] for r in rs]), med([r["runs"] / r["cpu_s"] for r in rs]),
                             med([r["rss_kb"] / 1024 for r in rs]))
            print(f"| `{target}` | {config} | {runs[target]:,} | {row['base'][0]:,.0f} | {row['new'][0]:,.0f} | "
                  f"{row['base'][1]:,.0f} | {row['new'][1]:,.0f} | {row['base'][2]:.0f} MB | {row['new'][2]:.0f} MB |")
    if "plain" in configs:
        print()
        print("| target | build | exec per CPU s / plain's, before | after |")
        print("|:--|:--|--:|--:|")
        for target in TARGETS:
            for config in configs:
                if config == "plain":
                    continue
                cells = []
                for side in ("base", "new"):
                    def per_cpu(c):
                        return med([r["runs"] / r["cpu_s"] for r in results
                                    if r["side"] == side and r["target"] == target and r["config"] == c])
                    cells.append(f"1/{per_cpu('plain') / per_cpu(config):.1f}")
                print(f"| `{target}` | {config} | {cells[0]} | {cells[1]} |")
    if longs:
        print()
        print("| side | runs | wall s | CPU s | CPU ms per exec | marginal CPU ms per exec | peak RSS |")
        print("|:--|--:|--:|--:|--:|--:|--:|")
        for side in ("base", "new"):
            rs = sorted((r for r in longs if r["side"] == side), key=lambda r: r["runs"])
            prev = None
            for r in rs:
                marg = ""
                if prev:
                    marg = f"{1000 * (r['cpu_s'] - prev['cpu_s']) / (r['runs'] - prev['runs']):.2f}"
                print(f"| {side} | {r['runs']:,} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
                      f"{1000 * r['cpu_s'] / r['runs']:.2f} | {marg} | {r['rss_kb'] // 1024} MB |")
                prev = r


if __name__ == "__main__":
    main()
