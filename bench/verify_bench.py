#!/usr/bin/env python3
"""bench/verify_bench.py — schedfuzz-verify side by side with random, PCT d=3 and libFuzzer.

For every catalogue bug, on its regression's program (repro.txt; the strategies
ignore its `choices:`):
  * schedfuzz-verify --preemptions=K: schedules to the first finding (deterministic,
    one number), the fewest preemptions, schedules/s;
  * schedfuzz-explore --strategy=random and --strategy=pct --depth=3 with
    --program: runs to the first finding, median over --seeds seeds;
  * libFuzzer: the median executions of bench/results/ttb.json (REPORT §2: an
    empty corpus, so libFuzzer also has to find the program: not the same task).
And the testprog scenario (issue38931-stw): K <= 1 with and without the bug.
Writes results/verify.json and results/sections/7-verify.md (report.py
includes sections/*.md). Prints figures; nothing passes or fails on time.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)

# (regression dir, bug switch, libFuzzer strategy name in ttb.json)
CASES = [
    ("issue28979", "issue28979", "libfuzzer-lockosthread"),
    ("issue20676", "issue20676", "libfuzzer-lockosthread"),
    ("issue20395", "issue20395", "libfuzzer-lockosthread"),
    ("issue20458", "issue20458", "libfuzzer-lockosthread"),
    ("asyncpreemptoff", "asyncpreemptoff", "libfuzzer-sched"),
    ("issue38931", "issue38931", "libfuzzer-lockosthread"),
    ("issue6070", "issue6070", "libfuzzer-sched"),
    ("issue40368", "issue40368", "libfuzzer-sched"),
]


def run(cmd, log):
    log.append(" ".join(cmd))
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=SRC, capture_output=True, text=True)
    return p.returncode, p.stdout, time.monotonic() - t0


def verify(tools, repro, bug, k, max_schedules, log, jobs=1):
    cmd = [f"{tools}/schedfuzz-verify", f"--bugs={bug}", f"--preemptions={k}", "--progress-every=0",
           f"--jobs={jobs}", "--out=/tmp/schedfuzz-verify-bench-finding", repro]
    if max_schedules:
        cmd.insert(3, f"--max-schedules={max_schedules}")
    for ext in (".bin", ".txt"):
        try:
            os.remove("/tmp/schedfuzz-verify-bench-finding" + ext)
        except FileNotFoundError:
            pass
    rc, out, wall = run(cmd, log)
    levels = [dict(k=int(m[0]), schedules=int(m[1]), new=int(m[2]), seconds=float(m[3]), rate=float(m[4]),
                   complete=m[5] == "1")
              for m in re.findall(r"^LEVEL K=(\d+) schedules=(\d+) new=(\d+) seconds=([\d.]+) schedules/s=([\d.]+) "
                                  r"complete=(\d)", out, re.M)]
    res = re.search(r"^RESULT found=(\d) verified=(\d) preemptions=(\d+) schedules=(\d+) seconds=([\d.]+) kind=(.*)$",
                    out, re.M)
    return dict(cmd=" ".join(cmd), rc=rc, levels=levels, found=res.group(1) == "1", verified=res.group(2) == "1",
                preemptions=int(res.group(3)), schedules=int(res.group(4)), seconds=float(res.group(5)),
                kind=res.group(6), wall=wall)


def explore(tools, repro, bug, strategy, seed, runs, seconds, log):
    cmd = [f"{tools}/schedfuzz-explore", f"--strategy={strategy}", f"--bugs={bug}", f"--program={repro}",
           f"--seed={seed}", f"--runs={runs}", f"--seconds={seconds}", "--progress-every=0",
           "--out=/tmp/schedfuzz-verify-bench-explore"]
    if strategy == "pct":
        cmd.insert(2, "--depth=3")
    for ext in (".bin", ".txt"):
        try:
            os.remove("/tmp/schedfuzz-verify-bench-explore" + ext)
        except FileNotFoundError:
            pass
    rc, out, _ = run(cmd, log)
    m = re.search(r"^RESULT .* found=(\d) runs=(\d+) seconds=([\d.]+)", out, re.M)
    return dict(seed=seed, found=m.group(1) == "1", runs=int(m.group(2)), seconds=float(m.group(3)))


def libfuzzer_median(bug, name):
    try:
        d = json.load(open(os.path.join(HERE, "results", "ttb.json")))
    except OSError:
        return None
    cells = [r for r in d["results"] if r.get("bug") == bug and r.get("name") == name]
    found = [r["execs"] for r in cells if r.get("found")]
    return dict(name=name, seeds=len(cells), found=len(found), median=statistics.median(found) if found else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build/default", help="a build with fuzz/tools (default build/default)")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--max-k", type=int, default=4)
    ap.add_argument("--explore-runs", type=int, default=20000)
    ap.add_argument("--explore-seconds", type=float, default=10)
    ap.add_argument("--max-schedules", type=int, default=300000, help="per level, for verify")
    ap.add_argument("--skip-testprog", action="store_true")
    args = ap.parse_args()
    tools = os.path.join(args.build, "fuzz", "tools")
    log = []
    out = dict(params=vars(args), cases=[], testprog=None)
    for d, bug, lf in CASES:
        repro = f"corpus/regressions/{d}/repro.txt"
        v = verify(tools, repro, bug, args.max_k, args.max_schedules, log)
        fixed = None
        if v["found"]:
            fixed = verify(tools, repro, "", v["preemptions"], args.max_schedules, log)
        rnd = [explore(tools, repro, bug, "random", s, args.explore_runs, args.explore_seconds, log)
               for s in range(1, args.seeds + 1)]
        pct = [explore(tools, repro, bug, "pct", s, args.explore_runs, args.explore_seconds, log)
               for s in range(1, args.seeds + 1)]
        case = dict(dir=d, bug=bug, verify=v, fixed=fixed, random=rnd, pct3=pct, libfuzzer=libfuzzer_median(bug, lf))
        out["cases"].append(case)
        print(f"{d}: verify found={v['found']} K={v['preemptions']} schedules={v['schedules']}; "
              f"random {sum(r['found'] for r in rnd)}/{len(rnd)}; pct {sum(r['found'] for r in pct)}/{len(pct)}",
              flush=True)
    if not args.skip_testprog:
        repro = "corpus/regressions/issue38931-stw/repro.txt"
        out["testprog"] = dict(
            bug=verify(tools, repro, "issue38931", 1, 0, log),
            fixed=verify(tools, repro, "", 1, 0, log),
        )
        print("testprog:", out["testprog"]["bug"]["schedules"], out["testprog"]["fixed"]["schedules"], flush=True)
    out["commands"] = log
    with open(os.path.join(HERE, "results", "verify.json"), "w") as f:
        json.dump(out, f, indent=1)
    write_section(out)


def med(xs):
    found = [x["runs"] for x in xs if x["found"]]
    if not found:
        return f"0/{len(xs)}"
    return f"{statistics.median(found):,.0f} ({len(found)}/{len(xs)})"


def write_section(out):
    p = out["params"]
    L = []
    L.append("## 7. Verify: bounded systematic search (schedfuzz-verify)\n")
    L.append("`schedfuzz-verify` runs every schedule of one program with at most K preemptions, K = 0, 1, ... "
             "(fuzz/dfs.h; no partial-order reduction). For each catalogue bug, on its regression's program "
             "(`repro.txt`, whose `choices:` every strategy here ignores): the schedules verify ran up to and "
             "including the first failing one (deterministic), the fewest preemptions of a failing schedule "
             "(smallest K by construction: every level below ran to the end), and the same program verified "
             f"at that K without the switch. Random and PCT d=3 are `schedfuzz-explore --program` runs to the "
             f"first finding, median over the seeds that found it ({p['seeds']} seeds, at most "
             f"{p['explore_runs']:,} runs or {p['explore_seconds']:g} s each). libFuzzer is §2's median "
             "(empty corpus: libFuzzer also has to find the program, so it solves a harder problem and the "
             "column is context, not a like-for-like race). Build: `" + p["build"] + "` (RelWithDebInfo). "
             "Shared 2-core machine under load: seconds are inflated, counts are not. Produced by "
             "`python3 bench/verify_bench.py` (every command line in `results/verify.json`).\n")
    L.append("| bug | fewest preemptions | verify: schedules to the finding (s) | fixed runtime verified at that K: "
             "schedules (s) | schedules/s | random (found/seeds) | PCT d=3 | libFuzzer (§2) |")
    L.append("|---|---|---|---|---|---|---|---|")
    for c in out["cases"]:
        v, fx = c["verify"], c["fixed"]
        if v["found"]:
            fewest = str(v["preemptions"])
            vcell = f"{v['schedules']:,} ({v['seconds']:.2f})"
        else:
            cut = [l for l in v["levels"] if not l["complete"]]
            fewest = f"> {max(l['k'] for l in v['levels'] if l['complete'])}" if any(
                l["complete"] for l in v["levels"]) else "?"
            vcell = (f"none in {v['schedules']:,} ({v['seconds']:.1f} s; level K={cut[0]['k']} cut at "
                     f"{cut[0]['schedules']:,})" if cut else f"none in {v['schedules']:,}")
        if fx:
            fcell = (f"{fx['schedules']:,} ({fx['seconds']:.2f})" if fx["verified"] else
                     f"NOT verified ({fx['kind']})")
        else:
            fcell = "—"
        rates = [l["rate"] for l in v["levels"] if l["schedules"] >= 1000]
        rate = f"{max(rates):,.0f}" if rates else "—"
        lf = c["libfuzzer"]
        lcell = (f"{lf['median']:,.0f} ({lf['found']}/{lf['seeds']})" if lf and lf["median"] is not None else
                 (f"0/{lf['seeds']}" if lf else "—"))
        L.append(f"| `{c['bug']}` | {fewest} | {vcell} | {fcell} | {rate} | {med(c['random'])} | {med(c['pct3'])} "
                 f"| {lcell} |")
    L.append("")
    v38931 = next((c["verify"] for c in out["cases"] if c["bug"] == "issue38931"), None)
    n38931 = f"{v38931['schedules']:,}" if v38931 and v38931["found"] else "?"
    L.append("schedules/s: wall-clock rate of the fastest level with at least 1,000 schedules (a level runs "
             "in one process; no start-up in it). Reading the table: to a *first* finding, sampling is "
             "usually faster than enumeration (random and PCT hit #38931's program in a few runs, verify "
             f"after {n38931} schedules, because DFS order is not a search heuristic); what verify adds is "
             "the bound (every schedule below the finding's K ran and passed, so the reported schedule has "
             "the fewest preemptions) and the claim for the fixed runtime (no schedule within the bound "
             "fails), which no number of samples gives.\n")
    tp = out.get("testprog")
    if tp:
        b, f = tp["bug"], tp["fixed"]
        lv = lambda r, k: next(l for l in r["levels"] if l["k"] == k)
        L.append("### The testprog scenario (corpus/regressions/issue38931-stw)\n")
        L.append("Go's `TestLockOSThreadTemplateThreadRace` shape: `gomaxprocs 3`, a stop-the-world goroutine and "
                 "two lockers.\n")
        L.append("| runtime | K=0 schedules | K=1 schedules | total | seconds | schedules/s (K=1) | result |")
        L.append("|---|---|---|---|---|---|---|")
        for name, r in (("with `issue38931`", b), ("fixed", f)):
            L.append(f"| {name} | {lv(r, 0)['schedules']:,} | {lv(r, 1)['schedules']:,} | {r['schedules']:,} | "
                     f"{r['seconds']:.1f} | {lv(r, 1)['rate']:,.0f} | "
                     f"{'no failure with <= 1 preemption (complete)' if r['verified'] else ('FOUND ' + r['kind'] if r['found'] else 'cut')} |")
        L.append("")
    text = "\n".join(L) + "\n"
    path = os.path.join(HERE, "results", "sections", "7-verify.md")
    extra = os.path.join(HERE, "results", "sections", "7-verify.notes")
    if os.path.exists(extra):
        text += "\n" + open(extra).read()
    with open(path, "w") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--section-only":
        write_section(json.load(open(os.path.join(HERE, "results", "verify.json"))))
    else:
        main()
