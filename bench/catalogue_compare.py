#!/usr/bin/env python3
# bench/catalogue_compare.py — executions and CPU seconds to the first finding of every catalogue
# bug, two source trees' libFuzzer builds side by side (issue 12's before/after).
#
# Usage:
#   bench/catalogue_compare.py --base DIR --new DIR [--seeds 9] [--runs 200000] [--bugs a,b]
#                              [--work DIR] [--json OUT]
#
# DIR is a source tree whose build/fuzz holds lockosthread_fuzzer and sched_fuzzer (cmake --preset
# fuzz). For each bug, `drive.py compare` runs both builds with the same seeds (1..N), each with its
# own tree's fuzz/targets/<target>.options and dictionary, from an empty corpus, the bug switch on;
# a finding counts only if the fixed runtime does not report it too. The target is
# lockosthread_fuzzer for the bugs its alphabet expresses, sched_fuzzer for the others (as in
# REPORT.md section 2). Prints a Markdown table of medians (a miss counts as +inf); nothing here
# passes or fails on time.
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from drive import BUGS, LOCKOSTHREAD_BUGS  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--seeds", type=int, default=9)
    ap.add_argument("--runs", type=int, default=200000)
    ap.add_argument("--bugs", default=",".join(BUGS))
    ap.add_argument("--work", default=os.path.join(HERE, "..", "build-h7-work", "catalogue-compare"))
    ap.add_argument("--json")
    a = ap.parse_args()
    out = []
    for bug in a.bugs.split(","):
        target = "lockosthread_fuzzer" if bug in LOCKOSTHREAD_BUGS else "sched_fuzzer"
        cfgs = []
        for name, tree in (("before", a.base), ("after", a.new)):
            tree = os.path.abspath(tree)
            cfgs += ["--config", "%s=%s,options=%s" % (name, os.path.join(tree, "build", "fuzz", "fuzz", "targets", target),
                                                      os.path.join(tree, "fuzz", "targets", target + ".options"))]
        js = os.path.join(os.path.abspath(a.work), bug + ".json")
        os.makedirs(os.path.dirname(js), exist_ok=True)
        cmd = [sys.executable, os.path.join(HERE, "drive.py"), "--src", os.path.abspath(a.new), "--work", os.path.abspath(a.work),
               "compare", "--bug", bug, "--target", target.replace("_fuzzer", ""), "--seeds", str(a.seeds),
               "--runs", str(a.runs), "--out", js] + cfgs
        print("#", " ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True, stdout=sys.stderr)
        with open(js) as f:
            r = json.load(f)
        out.append({"bug": bug, "target": target, "summary": r["summary"]})
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1, default=str)

    def fmt(x, unit=""):
        if x is None or x == float("inf") or x == "inf" or x == "Infinity":
            return "miss"
        return ("%s" % f"{x:,.0f}") if unit == "" else f"{x:.2f} s"

    print("| bug | target | found before | after | median execs before | after | median CPU before | after |")
    print("|:--|:--|--:|--:|--:|--:|--:|--:|")
    for row in out:
        s = {x["config"]: x for x in row["summary"]}
        b, n = s["before"], s["after"]
        print(f"| {row['bug']} | `{row['target']}` | {b['found']}/{b['runs']} | {n['found']}/{n['runs']} | "
              f"{fmt(b['median_execs'])} | {fmt(n['median_execs'])} | {fmt(b['median_cpu'], 's')} | {fmt(n['median_cpu'], 's')} |")


if __name__ == "__main__":
    main()
