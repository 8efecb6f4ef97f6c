#!/usr/bin/env python3
"""bench/report.py — turns bench/results/*.json (written by bench/run.sh via bench/drive.py and
exec_bench) into bench/REPORT.md and the SVG plots next to it.

    python3 bench/report.py --results bench/results --out bench/REPORT.md [--build-dirs DIR...]

Statistics: medians and p90 are nearest-rank over *all* runs of a cell, a miss counting as
+infinity, so a cell where more than half the seeds missed has median "miss". Proportions get
Wilson 95% intervals.
"""
import argparse
import glob
import json
import math
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svgplot  # noqa: E402
from drive import fuzzer_options  # noqa: E402


def options_text(src):
    """The libFuzzer flags each target's .options file gives, as text."""
    out = []
    for t in ("lockosthread_fuzzer", "sched_fuzzer"):
        fl = [f.replace(src + "/", "") for f in fuzzer_options(src, t)]
        out.append("`%s`: `%s`" % (t, " ".join(fl)))
    return "; ".join(out)

INF = float("inf")
BUG_ORDER = ["issue38931", "issue28979", "issue20395", "issue20676", "issue20458", "asyncpreemptoff", "issue6070"]
STRAT_ORDER = ["libfuzzer-lockosthread", "libfuzzer-sched", "random", "pct-d1", "pct-d2", "pct-d3",
               "libfuzzer-lockosthread-nodict", "libfuzzer-lockosthread-prev", "libfuzzer-lockosthread-fast",
               "libfuzzer-lockosthread-optsonly"]
STRAT_LABEL = {
    "libfuzzer-lockosthread": "libFuzzer lockosthread_fuzzer",
    "libfuzzer-sched": "libFuzzer sched_fuzzer",
    "random": "random walk (explore)",
    "pct-d1": "PCT d=1 (explore)",
    "pct-d2": "PCT d=2 (explore)",
    "pct-d3": "PCT d=3 (explore)",
    "libfuzzer-lockosthread-nodict": "libFuzzer lockosthread, no dict",
    "libfuzzer-lockosthread-optsonly": "libFuzzer lockosthread, default len_control",
    "libfuzzer-lockosthread-fast": "libFuzzer lockosthread, no trace-cmp, -entropic=0",
    "libfuzzer-lockosthread-prev": "libFuzzer lockosthread, full instrumentation + Entropic + hit counts",
}


# ---- small helpers -----------------------------------------------------------------------------------

def load(results, name):
    p = os.path.join(results, name)
    return json.load(open(p)) if os.path.exists(p) else None


def nearest_rank(values, q):
    """Nearest-rank percentile of values (may hold INF)."""
    if not values:
        return None
    v = sorted(values)
    k = max(1, math.ceil(q * len(v)))
    return v[k - 1]


def median(values):
    """The standard library's low median (statistics.median_low), or None for no values.
    For an even count it is the lower middle value, not the mean of the two: a median
    number of executions stays a count that some run actually needed, a cell where half
    the seeds missed (inf) still shows the last seed that found the bug, and it is the
    nearest-rank median every published figure (REPORT.md, README) was computed with."""
    return statistics.median_low(values) if values else None


def wilson(k, n, z=1.96):
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def fnum(v, unit="", digits=3):
    """Human number: 3 significant digits, thousands separators for big ones; 'miss' for INF."""
    if v is None:
        return "—"
    if v == INF:
        return "miss"
    if abs(v) >= 1000:
        return "{:,.0f}{}".format(v, unit)
    if v == 0:
        return "0" + unit
    return ("{:.%dg}" % digits).format(v) + unit


def fsec(v):
    if v is None:
        return "—"
    if v == INF:
        return "miss"
    if v < 1:
        return "%.0f ms" % (v * 1000)
    if v < 120:
        return "%.1f s" % v
    if v < 7200:
        return "%.1f min" % (v / 60)
    return "%.1f h" % (v / 3600)


def table(header, rows, align=None):
    out = ["| " + " | ".join(header) + " |"]
    align = align or (["l"] + ["r"] * (len(header) - 1))
    out.append("|" + "|".join(":--" if a == "l" else "--:" for a in align) + "|")
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, shell=True).stdout.strip()
    except OSError:
        return ""


def cmake_cache(build_dir, key):
    p = os.path.join(build_dir, "CMakeCache.txt")
    if not os.path.exists(p):
        return None
    for line in open(p):
        m = re.match(r"%s(?::\w+)?=(.*)$" % re.escape(key), line)
        if m:
            return m.group(1).strip()
    return None


# ---- exec_bench ----------------------------------------------------------------------------------------

def exec_bench(results):
    """run_name -> {"cpu_ns", "real_ns", counters..., "cpu_min", "cpu_max", "reps"} (medians)."""
    eb = load(results, "exec_bench.json")
    if not eb:
        return {}, None
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
    out = {}
    reps = {}
    for b in eb["benchmarks"]:
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "iteration":
            reps.setdefault(name, []).append(b["cpu_time"] * scale[b["time_unit"]])
        elif b.get("aggregate_name") == "median":
            d = {k: v for k, v in b.items() if isinstance(v, (int, float))}
            d["cpu_ns"] = b["cpu_time"] * scale[b["time_unit"]]
            d["real_ns"] = b["real_time"] * scale[b["time_unit"]]
            d["label"] = b.get("label", "")
            out[name] = d
    for name, r in reps.items():
        if name not in out:  # a single repetition: no aggregates
            out[name] = {"cpu_ns": median(r)}
        out[name]["cpu_min"], out[name]["cpu_max"], out[name]["reps"] = min(r), max(r), len(r)
    # Set benchmarks time a pass over `inputs` inputs: per execution, divide.
    for d in out.values():
        n = d.get("inputs") or 1
        for k in ("cpu_ns", "real_ns", "cpu_min", "cpu_max"):
            if k in d:
                d[k] /= n
    return out, eb.get("context", {})


def extra_text(d):
    """ plus the extra flags a drive.py run added, if any."""
    ex = (d or {}).get("libfuzzer_extra") or ((d or {}).get("params") or {}).get("libfuzzer_extra") or []
    return " plus `%s`" % " ".join(ex) if ex else ""


def us(ns):
    return ns / 1000.0


# ---- the report ------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default="bench/results")
    ap.add_argument("--out", default="bench/REPORT.md")
    ap.add_argument("--build-dirs", nargs="*", default=["build-h7-rel", "build-h7-fuzz", "build-h7-fuzz-cmp"])
    a = ap.parse_args()
    outdir = os.path.dirname(os.path.abspath(a.out))
    src = os.path.dirname(outdir)
    opt_text = options_text(src)
    R = a.results
    meta = load(R, "meta.json") or {}
    thr = load(R, "throughput.json")
    abl = load(R, "ablate.json")
    prof = load(R, "profile.json")
    rss = load(R, "rss.json")
    ttb = load(R, "ttb.json")
    stress = load(R, "stress.json")
    compare = load(R, "compare.json")
    eb, eb_ctx = exec_bench(R)
    cmds = open(os.path.join(R, "commands.txt")).read().strip() if os.path.exists(os.path.join(R, "commands.txt")) else ""
    L = []  # report lines
    P = L.append

    quick = meta.get("mode") == "quick"
    P("# schedfuzz benchmark report%s" % (" (quick mode: fewer seeds, shorter budgets)" if quick else ""))
    P("")
    P("Generated by `bench/run.sh%s` on %s; the whole run took %.0f minutes. Raw results: "
      "[`bench/results/`](results/) (regenerate this page with `python3 bench/report.py`). "
      "Benchmarks here print figures; nothing passes or fails on time."
      % (" --quick" if quick else "", meta.get("date", "?"), meta.get("wall_minutes", 0)))
    P("")

    # ---- machine ----
    P("## Machine and builds")
    P("")
    la0, la1 = meta.get("loadavg_start", ["?"] * 3), meta.get("loadavg_end", ["?"] * 3)
    rows = [
        ["CPU", "%s, `nproc` = %s" % (meta.get("cpu", "?"), meta.get("nproc", "?"))],
        ["memory", meta.get("mem", "?")],
        ["kernel", meta.get("kernel", "?")],
        ["load average (1/5/15 min)", "at start %s; at end %s" % (" / ".join(la0), " / ".join(la1))],
        ["compilers", "%s; %s (not used for these builds)" % (sh("clang++-14 --version | head -1"),
                                                             sh("g++ --version | head -1"))],
        ["libFuzzer", "the one in clang 14's compiler-rt (`-fsanitize=fuzzer`)"],
        ["Google Benchmark", "libbenchmark-dev %s (Debian's build; it warns that the *library* was built "
                             "as DEBUG, which does not touch the timed code)"
         % sh("dpkg-query -W -f='${Version}' libbenchmark-dev")],
        ["build tools", "%s, ninja %s, %s" % (sh("cmake --version | head -1"), sh("ninja --version"),
                                             sh("python3 --version"))],
    ]
    P(table(["", ""], rows, ["l", "l"]))
    P("")
    brows = []
    for d in a.build_dirs:
        if not os.path.exists(os.path.join(d, "CMakeCache.txt")):
            continue
        bt = cmake_cache(d, "CMAKE_BUILD_TYPE")
        flags = (cmake_cache(d, "CMAKE_CXX_FLAGS") or "") + " " + (cmake_cache(d, "CMAKE_CXX_FLAGS_" + (bt or "").upper()) or "")
        eng = cmake_cache(d, "SCHEDFUZZ_FUZZ_ENGINE") or "(replay mains)"
        note = ""
        if "fuzzer-no-link" in flags:
            lean = cmake_cache(d, "SCHEDFUZZ_LEAN_COVERAGE")
            note = (", `-DSCHEDFUZZ_LEAN_COVERAGE=OFF`" if lean == "OFF" else
                    " (+ `-fno-sanitize-coverage=trace-cmp,indirect-calls` on our code)" if lean == "ON" else "")
        brows.append(["`%s`" % d, bt, "`%s`%s" % (flags.strip(), note), "`%s`" % eng,
                      {"build-h7-rel": "exec_bench, schedfuzz-explore/-replay, lockosthread_template_race",
                       "build-h7-fuzz": "lockosthread_fuzzer, sched_fuzzer (throughput, time to bug, RSS, profile)",
                       "build-h7-fuzz-nocmp": "lockosthread_fuzzer without trace-cmp (ablation only)",
                       "build-h7-fuzz-cmp": "lockosthread_fuzzer with trace-cmp and indirect-call tracing kept "
                                            "(ablation only)"}.get(d, "")])
    if brows:
        P(table(["build dir", "type", "CXX flags", "link engine", "used for"], brows, ["l"] * 5))
        P("")
    P("The machine is shared with other engineers' jobs (see the load averages), so "
      "wall-clock figures are inflated and noisy. Where it matters, figures are also given per **CPU second** "
      "of our process (wait4 rusage), time to bug is primarily counted in **executions** (independent of "
      "load), and Google Benchmark figures are the **median CPU time** of %s repetitions run in random "
      "interleaving." % (eb_ctx.get("repetitions", "several") if eb_ctx else "several"))
    P("")

    # ================= 1. throughput =================
    P("## 1. Throughput")
    P("")
    P("### (a) libFuzzer's exec/s, fixed runtime, one process")
    P("")
    bar_groups = []
    if thr:
        rows = []
        for r in thr["runs"]:
            f = r.get("findings") or []
            rows.append(["`%s`" % r["target"], "empty corpus" if r["phase"] == "empty" else "its own grown corpus",
                         fnum(r.get("execs")), "%.1f" % r["wall"], "%.1f" % r["cpu"], fnum(r.get("exec_per_sec")),
                         fnum(r.get("exec_per_cpu_sec")), "%d → %d" % (r["corpus_start"], r["corpus_end"]),
                         fnum(r.get("peak_rss_mb"), " MB"),
                         "%d × %s" % (len(f), ", ".join(sorted(set(f)))) if f else "none"])
        P(table(["target", "start", "executions", "wall s", "CPU s", "exec/s (wall)",
                 "exec per CPU s", "corpus", "peak RSS", "findings on the fixed runtime (restarts)"], rows))
        P("")
        P("Executions are libFuzzer's `stat::number_of_executed_units`; exec/s (wall) divides them by the "
          "monotonic wall time of the process (libFuzzer's own `exec/s`, but including start-up), \"exec per CPU "
          "s\" by its CPU time (what one unshared core would do). %d s per run, `-seed=1`, flags from "
          "`fuzz/targets/<target>.options` (%s)%s. The second run starts from the corpus the first one grew "
          "(loading it is part of its time)." % (thr["seconds"], opt_text, extra_text(thr)))
        if any(r.get("findings") for r in thr["runs"]):
            P("")
            P("**A target that reports a finding on the fixed runtime stops early** (that is a false positive, or "
              "a bug of the fixed runtime: see the last column). It is restarted on its corpus (seed "
              "1+100000·k) until the time is spent, and its figures include those restarts.")
        P("")
        for tgt in sorted({r["target"] for r in thr["runs"]}):
            g = {}
            for r in thr["runs"]:
                if r["target"] != tgt:
                    continue
                tag = "empty corpus" if r["phase"] == "empty" else "from corpus"
                g["%s, wall" % tag] = r.get("exec_per_sec")
                g["%s, per CPU s" % tag] = r.get("exec_per_cpu_sec")
            bar_groups.append((tgt, g))
        names = ["empty corpus, wall", "from corpus, wall", "empty corpus, per CPU s", "from corpus, per CPU s"]
        open(os.path.join(outdir, "throughput.svg"), "w").write(svgplot.hbars(
            bar_groups, names, "libFuzzer executions per second, fixed runtime", "executions per second"))
        P("![exec/s per target](throughput.svg)")
        P("")
    else:
        P("(no throughput results)")
        P("")

    # ---- ablation ----
    abl_ratio = {}
    if abl:
        P("#### What libFuzzer's own per-input work costs (measured)")
        P("")
        by = {}
        for r in abl["rows"]:
            by.setdefault(r["config"], []).append(r)
        base = median([r["exec_per_cpu_sec"] for r in by.get("as built", by.get("as built (-fsanitize=fuzzer-no-link)",
                                                                                  []))]) or 1
        rows = []
        for cfg, rs in by.items():
            m = median([r["exec_per_cpu_sec"] for r in rs])
            w = median([r["exec_per_sec"] or 0 for r in rs])
            abl_ratio[cfg] = m / base
            rows.append([cfg, len(rs), fnum(w), fnum(m), "×%.2f" % (m / base)])
        P(table(["`%s`, from its grown corpus" % abl["target"], "runs", "libFuzzer exec/s (wall, median)",
                 "exec per CPU s (median)", "vs as built"], rows))
        P("")
        P("Same corpus copy, same seed and flags; configurations alternate within each round. \"As built\" is "
          "the target as shipped: `-fsanitize=fuzzer-no-link` with `-fno-sanitize-coverage=trace-cmp,indirect-calls` "
          "added to gort, the harness and the targets by `fuzz/targets/CMakeLists.txt` (the edge counters stay; "
          "the `__sanitizer_cov_trace_*cmp*` callbacks at every comparison and `__sanitizer_cov_trace_pc_indir` "
          "at every indirect call go), run with its `.options` (for `lockosthread_fuzzer` `-entropic=0 "
          "-use_counters=0`). Each other row puts one thing back: the full instrumentation (`build-h7-fuzz-cmp`, "
          "`-DSCHEDFUZZ_LEAN_COVERAGE=OFF`), Entropic (libFuzzer's default power schedule, whose rare-feature "
          "bookkeeping runs after every execution), hit counts of edges; the last row all three, the "
          "configuration before they were dropped.")
        P("")

    # ---- (b) exec_bench vs shape ----
    P("### (b) One execution (`runProgram`), release build, no instrumentation: `bench/exec_bench`")
    P("")
    if eb:
        P("Median CPU time per execution over the repetitions (min–max in brackets); `steps` = scheduling "
          "points, `threads` = Ms started (including sysmon and the template thread), `allocs` = `operator "
          "new` calls per execution. Programs run under ByteChooser with no choice entries (the fuzz "
          "target's default policy), invariants and trace on (the fuzz target's configuration).")
        P("")

        def rowfor(name, first):
            d = eb.get(name)
            if not d:
                return None
            return [first, fnum(d.get("steps")), fnum(d.get("threads")), fnum(d.get("tswitch")),
                    "%s (%s–%s)" % (fnum(us(d["cpu_ns"])), fnum(us(d["cpu_min"])), fnum(us(d["cpu_max"]))),
                    fnum(d["cpu_ns"] / d["steps"]) if d.get("steps") else "—", fnum(d.get("allocs"))]

        hdr = ["steps", "threads", "M switches", "µs / exec", "ns / step", "allocs"]
        P("**vs number of ops.** The format caps a script at 16 ops and a program at 4 scripts, so the "
          "programs are built as `Program` objects directly (runProgram does not check the caps): 2 scripts on "
          "GOMAXPROCS 2, each repeating `spin(2) gosched lock spin(0) unlock`, N ops in total (no script ends "
          "locked), step budget raised to 50 M.")
        P("")
        rows = [r for r in (rowfor("BM_Exec_Ops/%d" % n, "%s" % fnum(eb.get("BM_Exec_Ops/%d" % n, {}).get("ops", n)))
                            for n in (10, 100, 1000)) if r]
        P(table(["ops"] + hdr, rows))
        P("")
        P("**vs goroutines** (GOMAXPROCS 2; main starts 2 scripts, the rest come from `go` ops of script 0, "
          "at most 14, so these are valid fuzz inputs; every goroutine runs `spin(3) gosched spin(3)`):")
        P("")
        rows = [r for r in (rowfor("BM_Exec_Goroutines/%d" % g, str(g)) for g in (1, 2, 4, 8, 16)) if r]
        P(table(["goroutines"] + hdr, rows))
        g1, g16 = eb.get("BM_Exec_Goroutines/1"), eb.get("BM_Exec_Goroutines/16")
        if g1 and g16:
            P("")
            P("Marginal cost of a goroutine (start, run its 3 ops, exit): %s µs." %
              fnum(us((g16["cpu_ns"] - g1["cpu_ns"]) / 15)))
        P("")
        P("**vs Ms** (GOMAXPROCS 1..4; four goroutines each `lock spin(3) gosched spin(3) unlock spin(1)`: a "
          "locked goroutine's gosched parks its M in stoplockedm and hands the P on, which forces extra Ms):")
        P("")
        rows = [r for r in (rowfor("BM_Exec_Ms/%d" % m, str(m)) for m in (1, 2, 3, 4)) if r]
        P(table(["GOMAXPROCS"] + hdr, rows))
        e = eb.get("BM_Exec_Empty")
        if e:
            P("")
            P("Fixed cost of an execution (one empty script: Runtime + SimPlatform set-up, runtime.main, exit): "
              "**%s µs**, %s scheduling points, %s allocations." % (fnum(us(e["cpu_ns"])), fnum(e.get("steps")),
                                                                    fnum(e.get("allocs"))))
        P("")

    # ---- (c) cost split ----
    P("### (c) Where one execution's time goes")
    P("")
    split_text = []
    if eb:
        ps = eb.get("BM_FiberSwitch_PingPong")
        ns_switch = ps.get("ns/switch") if ps else None
        if ns_switch is None and ps:
            ns_switch = ps["cpu_ns"] / 2
        tr = {k: eb.get(k) for k in ("BM_Sim_Trivial<false>/1/0", "BM_Sim_Trivial<false>/4/1000",
                                     "BM_Sim_Trivial<false>/4/10000", "BM_Sim_Trivial<true>/4/10000")}
        ex_fixed = tr["BM_Sim_Trivial<false>/1/0"]["cpu_ns"] if tr["BM_Sim_Trivial<false>/1/0"] else 0
        ex_step = None
        a1, a2 = tr["BM_Sim_Trivial<false>/4/1000"], tr["BM_Sim_Trivial<false>/4/10000"]
        if a1 and a2 and a2.get("steps") and a1.get("steps"):
            ex_step = (a2["cpu_ns"] - a1["cpu_ns"]) / (a2["steps"] - a1["steps"])
        sw = tr["BM_Sim_Trivial<true>/4/10000"]
        P("Building blocks, measured alone:")
        P("")
        rows = []
        if ps:
            rows.append(["`gort::Fiber::Switch` (ping-pong between two fibers)", fnum(ns_switch) + " ns per switch"])
        fc = eb.get("BM_Fiber_CreateDestroy")
        if fc:
            rows.append(["`Fiber::Create` + `Destroy` (pooled stack)", fnum(fc["cpu_ns"]) + " ns"])
        if tr["BM_Sim_Trivial<false>/1/0"]:
            rows.append(["SimPlatform set-up + run + tear-down, one thread, no scheduling point",
                         fnum(ex_fixed) + " ns"])
        if ex_step:
            rows.append(["SimPlatform scheduling point, trivial threads, default policy (switch every 64 points)",
                         fnum(ex_step) + " ns per point (marginal, 4 threads)"])
        if sw and sw.get("steps"):
            rows.append(["SimPlatform scheduling point, trivial threads, switching at every point",
                         fnum(sw["cpu_ns"] / sw["steps"]) + " ns per point"])
        P(table(["", "median CPU"], rows, ["l", "r"]))
        P("")
        lib_cost = {}
        if thr:
            for r in thr["runs"]:
                if r["phase"] == "corpus" and r.get("exec_per_cpu_sec"):
                    lib_cost[r["target"]] = 1e9 / r["exec_per_cpu_sec"]
        for arg, tgt in ((0, "lockosthread_fuzzer"), (1, "sched_fuzzer")):
            full = eb.get("BM_Split_Full/%d" % arg)
            if not full:
                continue
            noinv, notr, bare = (eb.get("BM_Split_%s/%d" % (k, arg)) for k in ("NoInvariants", "NoTrace", "Bare"))
            dec, body = eb.get("BM_Split_Decode/%d" % arg), eb.get("BM_Split_TargetBody/%d" % arg)
            steps = full.get("steps") or 1
            inv = full["cpu_ns"] - noinv["cpu_ns"]
            trc = full["cpu_ns"] - notr["cpu_ns"]
            fib = (full.get("tswitch", 0) + 2 * full.get("gexec", 0)) * (ns_switch or 0)
            exe = ex_fixed + steps * (ex_step or 0)
            rest = full["cpu_ns"] - inv - trc - fib - exe
            decn = dec["cpu_ns"] if dec else 0
            feat = body["cpu_ns"] - full["cpu_ns"] - decn if body else 0
            total = body["cpu_ns"] if body else full["cpu_ns"] + decn
            P("**`%s` inputs** (%s; per execution %s scheduling points, %s M switches, %s goroutine runs, "
              "%s threads, %s%% ran ok on the fixed runtime):" % (
                  tgt, body.get("label", "") if body else "", fnum(steps), fnum(full.get("tswitch")),
                  fnum(full.get("gexec")), fnum(full.get("threads")), fnum(100 * full.get("ok", 1))))
            P("")
            def mm(d):
                return "%s–%s" % (fnum(us(d["cpu_min"])), fnum(us(d["cpu_max"]))) if "cpu_min" in d else ""
            rows = [["decode + run (invariants, trace) + interleaving features = the target's body (`BM_Split_TargetBody`)",
                     fnum(us(total)), mm(body) if body else "", "100%", fnum(total / steps)],
                    ["run, invariants on, trace on (`BM_Split_Full`)", fnum(us(full["cpu_ns"])), mm(full),
                     "%.0f%%" % (100 * full["cpu_ns"] / total), fnum(full["cpu_ns"] / steps)],
                    ["run, invariants off", fnum(us(noinv["cpu_ns"])), mm(noinv), "", fnum(noinv["cpu_ns"] / steps)],
                    ["run, trace off", fnum(us(notr["cpu_ns"])), mm(notr), "", fnum(notr["cpu_ns"] / steps)],
                    ["run, both off (`BM_Split_Bare`)", fnum(us(bare["cpu_ns"])), mm(bare), "",
                     fnum(bare["cpu_ns"] / steps)]]
            P(table(["measured", "µs / exec (median)", "min–max of the repetitions", "share", "ns / step"], rows))
            P("")
            comp = [("invariant checks (full − invariants off)", inv),
                    ("trace recording (full − trace off)", trc),
                    ("fiber switching (est.: (M switches + 2 × goroutine runs) × ns/switch)", fib),
                    ("executor bookkeeping (est.: set-up + steps × ns/point of the trivial SimPlatform)", exe),
                    ("gort runtime + harness (the rest of the run)", rest),
                    ("decoding (`decode()` alone)", decn),
                    ("interleaving features (target body − run − decode)", feat)]
            rows = [[c, fnum(us(v)), "%.0f%%" % (100 * v / total), fnum(v / steps)] if v > 0 else
                    [c, "≈0 (below noise: %s)" % fnum(us(v)), "0%", "—"] for c, v in comp]
            P(table(["component of the target's body", "µs / exec", "share", "ns / step"], rows))
            P("")
            P("The components are differences of medians (and two estimates from the building blocks); on this "
              "loaded machine the repetitions of one benchmark spread by the min–max shown above, so a component "
              "is only known to within that spread, and the shares need not add up exactly (the rest absorbs it).")
            P("")
            if tgt in lib_cost:
                lc = lib_cost[tgt]
                P("Under libFuzzer (instrumented build, from its corpus) the same target costs **%s µs of CPU per "
                  "execution** (%s exec per CPU s, ≈ %s ns per scheduling point): the uninstrumented body above is "
                  "%.0f%% of it; the rest is libFuzzer's engine and the coverage instrumentation (see the profiles "
                  "below)." % (fnum(us(lc)), fnum(1e9 / lc), fnum(lc / steps), 100 * total / lc))
                P("")
            split_text.append((tgt, dict(comp), total, steps, lib_cost.get(tgt)))
    profb = load(a.results, "profile_bench.json")
    if prof and prof.get("symbols"):
        P("**Profiles** (`perf record -e cpu-clock`, self time by category). Left: a libFuzzer run of `%s` from "
          "its grown corpus on the fixed runtime (%s executions), i.e. one execution as the fuzzer pays for it. "
          "Right: the target's body alone, uninstrumented (`exec_bench` `BM_Split_TargetBody/0`, same kind of "
          "inputs)." % (prof["target"], fnum(prof.get("execs"))))
        P("")
        pc = prof["categories"]
        bc = (profb or {}).get("categories", {})
        cats = sorted(set(pc) | set(bc), key=lambda c: -(pc.get(c, 0)))
        P(table(["category", "% libFuzzer run", "% target body alone"],
                [[c, "%.1f" % pc.get(c, 0), "%.1f" % bc.get(c, 0) if bc else "—"] for c in cats]))
        P("")
        if profb and profb.get("symbols"):
            P("<details><summary>Top symbols of the target body alone</summary>")
            P("")
            P(table(["% self", "symbol", "category"],
                    [["%.2f" % x["pct"], "`%s`" % x["sym"][:110].replace("|", "\\|"), x["category"]]
                     for x in profb["symbols"][:25]], ["r", "l", "l"]))
            P("")
            P("</details>")
            P("")
        P("<details><summary>Top symbols of the libFuzzer run</summary>")
        P("")
        P(table(["% self", "symbol", "category"],
                [["%.2f" % s["pct"], "`%s`" % s["sym"][:110].replace("|", "\\|"), s["category"]]
                 for s in prof["symbols"][:25]], ["r", "l", "l"]))
        P("")
        P("</details>")
        P("")

    # ---- largest cost paragraph ----
    P("#### The largest cost in one execution, and what would halve it")
    P("")
    P(largest_cost_text(prof, abl_ratio, split_text, profb, ttb))
    P("")

    # ---- (d) RSS ----
    P("### (d) Peak RSS over a long run")
    P("")
    runs = (rss or {}).get("runs") or ([rss] if rss and rss.get("samples") else [])
    runs = [r for r in runs if r.get("samples")]
    if runs:
        series, markers, rows = [], [], []
        for r in runs:
            s_ = r["samples"]
            series.append(("%s VmRSS" % r["target"], [(t / 60, x / 1024) for t, x, _ in s_]))
            pts = [(n / eps / 60, m) for n, _, eps, m in r["status"] if eps and m]
            pts = pts[::max(1, len(pts) // 300)]  # at most ~300 dots per target
            markers.append(("%s status rss: (t ≈ #N / exec/s)" % r["target"], pts))

            def at(frac, s_=s_):
                t_end = s_[-1][0]
                return next((x for t, x, _ in s_ if t >= frac * t_end), s_[-1][1]) / 1024

            half = [(t, x) for t, x, _ in s_ if t >= s_[-1][0] / 2]
            slope = 0.0
            if len(half) > 2:
                n = len(half)
                mt = sum(t for t, _ in half) / n
                mr = sum(x for _, x in half) / n
                den = sum((t - mt) ** 2 for t, _ in half)
                slope = sum((t - mt) * (x - mr) for t, x in half) / den * 60 / 1024 if den else 0
            rows.append(["`%s`" % r["target"], "%.1f min" % (r["wall"] / 60), fnum(r.get("execs")),
                         "%.1f / %.1f / %.1f MB" % (at(0.1), at(0.5), at(1.0)), "%.1f MB" % (s_[-1][2] / 1024),
                         "%.1f MB" % (r["ru_maxrss_kb"] / 1024), "%+.2f MB/min" % slope,
                         "ran to the end" if r["rc"] == 0 else "stopped: %s" % (r.get("kind") or "rc %d" % r["rc"])])
        open(os.path.join(outdir, "rss.svg"), "w").write(svgplot.timeseries(
            series, "RSS over a long libFuzzer run (fixed runtime)", "minutes", "MB", markers=markers))
        P(table(["target", "ran", "executions", "RSS at 10% / 50% / end", "VmHWM at end", "ru_maxrss",
                 "RSS slope over the second half", "end"], rows))
        P("")
        P("![RSS over time](rss.svg)")
        P("")
        P("Sampled from `/proc/<pid>/status` every second by the driver (VmHWM is the peak so far, the same figure "
          "as `ru_maxrss` at the end); the dots are the `rss:` field of libFuzzer's status lines, placed at "
          "t ≈ #N / exec/s since the lines carry no time. These runs shared the 2 cores with the time-to-bug jobs "
          "of section 2 (they ran alongside them), which slows them but does not change memory.")
        P("")
        for r in runs:
            if r["rc"] != 0:
                P("**`%s` stopped after %.1f min on a finding on the fixed runtime** (%s): a false positive or a bug "
                  "of the fixed runtime, not a memory problem; its input is in `%s`. Its curve ends there."
                  % (r["target"], r["wall"] / 60, r.get("kind") or "rc %d" % r["rc"],
                     re.search(r"-artifact_prefix=(\S+)", r["cmd"]).group(1).replace(src + "/", "")))
                P("")
        P("Commands: " + "; ".join("`%s`" % r["cmd"] for r in runs))
        P("")
    else:
        P("(no RSS results)")
        P("")

    # ================= 2. time to bug =================
    P("## 2. Time to bug, from nothing")
    P("")
    if ttb:
        ttb_section(P, ttb, outdir, src)
    else:
        P("(no time-to-bug results)")
        P("")
    if compare:
        compare_section(P, compare)

    # ================= 3. stress baseline =================
    P("## 3. Real-thread stress baseline: Go's own method")
    P("")
    if stress:
        stress_section(P, stress, ttb)
    else:
        P("(no stress results)")
        P("")

    # ================= sections written by other benchmarks =================
    # results/sections/*.md, in name order, as they are: bench/soak.py's soak of the fixed
    # runtime (4-soak.md) and the hand-run before/after comparisons, each with its command.
    for f in sorted(glob.glob(os.path.join(R, "sections", "*.md"))):
        P(open(f).read().rstrip())
        P("")

    # ================= commands =================
    P("## Exact commands")
    P("")
    P("Everything above ran from one `bench/run.sh%s` in `%s`. Its steps, in order (per-run command lines "
      "of the time-to-bug cells are in the tables' notes and in `results/ttb.json`):" % (
          " --quick" if quick else "", os.path.dirname(outdir)))
    P("")
    P("```")
    P(cmds)
    P("```")
    P("")
    if ttb:
        P("Representative per-run commands (seed 1 of each strategy, bug issue38931 or the first bug it ran):")
        P("")
        P("```")
        seen = set()
        for r in sorted(ttb["results"], key=lambda r: (r["seed"], r["bug"] != "issue38931", r["name"])):
            if r["name"] in seen:
                continue
            seen.add(r["name"])
            P(r["cmd"])
        P("```")
        P("")
    if thr:
        P("```")
        for r in thr["runs"]:
            P(r["cmd"])
        P("```")
        P("")
    open(a.out, "w").write("\n".join(L) + "\n")
    print("wrote %s" % a.out)


def ttb_cell_median(ttb, bug, name):
    if not ttb:
        return None, 0, 0
    rs = [r for r in ttb["results"] if r["bug"] == bug and r["name"] == name]
    if not rs:
        return None, 0, 0
    return median([r["execs"] if r["found"] else INF for r in rs]), sum(r["found"] for r in rs), len(rs)


def ttb_cell_cpu(ttb, bug, name):
    rs = [r for r in (ttb or {}).get("results", []) if r["bug"] == bug and r["name"] == name]
    return median([r["cpu"] if r["found"] else INF for r in rs]) if rs else None


def largest_cost_text(prof, abl_ratio, split, profb=None, ttb=None):
    parts = []
    if prof and prof.get("categories"):
        c = prof["categories"]
        lf = c.get("libFuzzer: engine (mutate, feature collection, corpus)", 0)
        cov = c.get("libFuzzer: coverage callbacks", 0)
        ours = sum(v for k, v in c.items() if k.startswith(("executor", "invariant", "fiber", "runtime", "harness",
                                                           "trace", "decode")))
        top_engine = [s for s in prof["symbols"] if s["category"].startswith("libFuzzer: engine")][:2]
        engine_top = " and ".join("`%s` %.1f%%" % (s["sym"].split("(")[0], s["pct"]) for s in top_engine)
        cov_syms = [x for x in prof["symbols"] if x["category"] == "libFuzzer: coverage callbacks" and x["pct"] >= 0.5]
        cmp_share = sum(x["pct"] for x in cov_syms if "cmp" in x["sym"])
        if cmp_share >= 5:
            parts.append(
                "**As the fuzzer runs it, the largest cost of one execution is libFuzzer itself, not the code under "
                "test.** In the profile, %.0f%% of the samples are libFuzzer's engine (the top two: %s) and %.0f%% "
                "are the `__sanitizer_cov_trace_*cmp*` callbacks that `-fsanitize=fuzzer-no-link` puts at every "
                "comparison in gort, the executor and the harness; the runtime, executor, detectors, fibers and "
                "harness together are %.0f%%." % (lf, engine_top, cov, ours))
        else:
            parts.append(
                "**As the fuzzer runs it, most of one execution is the code under test and the harness**: the "
                "runtime, executor, detectors, fibers and harness together are %.0f%% of the samples; libFuzzer's "
                "engine is %.0f%% (the top two: %s) and coverage callbacks %.0f%%%s (the edge counters are inline; "
                "`fuzz/targets/CMakeLists.txt` leaves the comparison and indirect-call callbacks out of our code "
                "unless `-DSCHEDFUZZ_LEAN_COVERAGE=OFF`)." % (
                    ours, lf, engine_top, cov,
                    " (%s)" % ", ".join("`%s` %.1f%%" % (x["sym"], x["pct"]) for x in cov_syms[:2]) if cov_syms
                    else ""))
    if abl_ratio:
        def r(k):
            return abl_ratio.get(k)
        bits = []
        for k, label in (("full instrumentation", "trace-cmp and indirect-call callbacks back"),
                         ("-entropic=1", "Entropic back"),
                         ("-use_counters=1", "hit counts back"),
                         ("full instrumentation, -entropic=1, -use_counters=1", "all three (the configuration before)")):
            if r(k):
                bits.append("%s ×%.2f" % (label, r(k)))
        if bits:
            parts.append("Measured on the same corpus (executions per CPU second, relative to as built): %s."
                         % ", ".join(bits))
        m0, k0, n0 = ttb_cell_median(ttb, "issue38931", "libfuzzer-lockosthread")
        m1, k1, n1 = ttb_cell_median(ttb, "issue38931", "libfuzzer-lockosthread-prev")
        if n0 and n1:
            c0 = ttb_cell_cpu(ttb, "issue38931", "libfuzzer-lockosthread")
            c1 = ttb_cell_cpu(ttb, "issue38931", "libfuzzer-lockosthread-prev")
            parts.append(
                "Time to bug is the judge of these choices: on #38931 (section 2) the target as built needed a "
                "median of %s executions (%d/%d found, median CPU %s); with the full instrumentation, Entropic and "
                "hit counts back, %s (%d/%d, median CPU %s)." % (fnum(m0), k0, n0, fsec(c0), fnum(m1), k1, n1,
                                                                 fsec(c1)))
    for tgt, comp, total, steps, lib in split:
        top = sorted(comp.items(), key=lambda kv: -kv[1])[:3]
        parts.append(
            "In the target's own body (`%s` inputs, uninstrumented, %s µs and %s scheduling points per execution) "
            "the split of (c) gives %s." % (tgt, fnum(total / 1000), fnum(steps), "; ".join(
                "%s %.0f%%" % (k.split(" (")[0], 100 * v / total) for k, v in top)))
    if profb and profb.get("categories"):
        bc = sorted(profb["categories"].items(), key=lambda kv: -kv[1])[:3]

        def pct(name):
            return sum(x["pct"] for x in profb["symbols"] if name in x["sym"])
        parts.append(
            "The profile of the body (lockosthread inputs) attributes it better: %s. The executor's share is "
            "larger there than the split's estimate from trivial threads, because real runs make every point do "
            "more (trace events, futex wait queues, the chooser's decisions); the split's \"rest\" holds that "
            "difference. The per-point path is `ByteChooser::chooseThread` %.0f%% (perf annotate puts much of it on the "
            "walk's splitmix64 draw, made at every scheduling point when the program's walk nibble is set), "
            "`SimPlatform::Impl::pick` %.0f%% and `syncPoint`/`event`/`tlsGet` %.0f%%; the invariant checks are "
            "`checkPAccounting` %.0f%%, `checkLocked` %.0f%%, `checkTaint` %.0f%%." % (
                "; ".join("%s %.0f%%" % kv for kv in bc), pct("ByteChooser::chooseThread"), pct("Impl::pick"),
                pct("SimPlatform::syncPoint") + pct("SimPlatform::event") + pct("SimPlatform::tlsGet"),
                pct("checkPAccounting"), pct("checkLocked"), pct("checkTaint")))
    if split:
        parts.append(
            "Halving the body itself needs two things together, because no single part is half: (1) run the "
            "invariant checks only where the checked state can have changed (a dirty flag set by the runtime's "
            "P/M/G status transitions, instead of walking every P, M and G at every switch), and (2) make the "
            "per-point path of the executor cheaper (the chooser call is virtual and `pick()` does the budget, "
            "clock, timed-wake and checker logic at every point; a fast path for \"the chooser keeps the current "
            "thread and nobody has a deadline\" skips most of it). The fiber switch itself (an asm switch, no "
            "syscall) is already a small share.")
    return "\n\n".join(parts) if parts else "(no profile or split data)"


def spurious_text(res):
    by = {}
    for r in res:
        for k in r.get("spurious", []):
            by.setdefault((r["name"], k), 0)
            by[(r["name"], k)] += 1
    if not by:
        return "**No spurious finding occurred in this run.**"
    return "**Spurious findings in this run**: %s." % "; ".join(
        "%s: %d × %s" % (STRAT_LABEL.get(n, n), c, k) for (n, k), c in sorted(by.items(), key=lambda kv: -kv[1]))


def ttb_section(P, ttb, outdir, src):
    params = ttb["params"]
    res = ttb["results"]
    cells = {}
    for r in res:
        cells.setdefault((r["bug"], r["name"]), []).append(r)
    planned = {(c["bug"], c["name"]): c for c in params["cells"]}
    seeds = params["seeds"]
    P("Every cell: %d seeds, from an empty corpus / nothing, bug switch on, first finding ends the run. "
      "Budgets: libFuzzer %g s per run; explore %d runs or %g s, whichever first. %s2 runs at a time on the "
      "2 cores (so wall times include contention with each other and with other users' jobs; executions "
      "do not)." % (
          seeds, params["libfuzzer_budget"], params["explore_budget_runs"], params["explore_budget_s"],
          "Early stop: a cell whose first %d seeds all missed runs no more seeds (shown as \"n run\"). "
          % params["early_stop"] if params.get("early_stop") else ""))
    P("")
    P("* **libFuzzer**: the target with `SCHEDFUZZ_BUGS=<bug>`, flags from `fuzz/targets/<target>.options` "
      "(%s)%s, `-seed=S`, a fresh corpus directory, `-artifact_prefix` in a scratch directory. Executions: "
      "`stat::number_of_executed_units` (`-print_final_stats=1`); time: monotonic clock around the process."
      % (options_text(src), extra_text(ttb)))
    P("* **random walk / PCT**: `schedfuzz-explore --strategy=random|pct --depth=d --seed=S` on fresh random "
      "programs (no `--program`): the `lockosthread` alphabet for the five bugs it can express, the `sched` "
      "alphabet (every op) for asyncpreemptoff and issue6070. Executions: the `runs=` of its RESULT line.")
    P("* **A finding counts only if it is the bug**: the found input is run again on the fixed runtime "
      "(libFuzzer: the crash artifact through the target; explore: its reproducer through `schedfuzz-replay "
      "--bugs=`, and only a VERIFIED reproducer counts). If the fixed runtime also reports a finding, it is "
      "*spurious*: the search goes on (libFuzzer restarts on the corpus it grew with seed S+100000·k; explore "
      "restarts with that seed, its runs being independent), executions and time adding up, until the budget "
      "is spent. The \"spurious\" column counts them. %s" % spurious_text(res))
    P("* Statistics over all runs of a cell, a miss counting as +∞ (nearest rank): a cell that missed in more "
      "than half its runs has median \"miss\".")
    P("")
    # Summary matrix.
    strategies = [s for s in STRAT_ORDER if any(k[1] == s for k in planned)]
    bugs = [b for b in BUG_ORDER if any(k[0] == b for k in planned)]
    P("### Summary: median executions to the bug (median wall time), found / runs")
    P("")
    rows = []
    for b in bugs:
        row = ["**%s**" % b]
        for s in strategies:
            rs = cells.get((b, s))
            if (b, s) not in planned:
                row.append("n/a")
                continue
            if not rs:
                row.append("not run")
                continue
            ex = [r["execs"] if r["found"] else INF for r in rs]
            wt = [r["wall"] if r["found"] else INF for r in rs]
            k = sum(r["found"] for r in rs)
            me = median(ex)
            row.append("miss, %d/%d" % (k, len(rs)) if me == INF else
                       "%s (%s), %d/%d" % (fnum(me), fsec(median(wt)), k, len(rs)))
        rows.append(row)
    P(table(["bug"] + [STRAT_LABEL.get(s, s) for s in strategies], rows, ["l"] + ["r"] * len(strategies)))
    P("")
    lf = [r for r in res if r["strategy"] == "libfuzzer" and r["found"]]
    if lf:
        fastest = min(lf, key=lambda r: r["wall"])
        P("Wall times of libFuzzer include its process start-up and dictionary/corpus set-up: its fastest finding "
          "took %s for %s executions, so sub-second libFuzzer figures are mostly start-up on this loaded machine; "
          "explore's runs start in milliseconds." % (fsec(fastest["wall"]), fnum(fastest["execs"])))
        P("")
    P("n/a: the lockosthread alphabet (lock unlock gosched newm stw exit spin) cannot express the bug "
      "(asyncpreemptoff needs a goroutine spinning on a flag, issue6070 a syscall). The libFuzzer ablation "
      "columns were run for issue38931 only, with %d seeds: *no dict* drops `-dict=` (the shared dictionary "
      "holds the whole #38931 program as one token); *full instrumentation + Entropic + hit counts* is "
      "`build-h7-fuzz-cmp` with `-entropic=1 -use_counters=1`, the build and options before they were dropped "
      "(with today's chooser and features)." % params.get("ablation_seeds", 0))
    if params.get("deadline_hit"):
        P("")
        P("**The deadline of %g minutes was hit**: the cells show fewer runs than planned (all cells lose the "
          "same last seeds, since runs are scheduled seed by seed)." % params["deadline_min"])
    P("")
    # Per-bug detail tables + CDF panels.
    panels_e, panels_w = [], []
    for b in bugs:
        P("### %s" % b)
        P("")
        rows = []
        ser_e, ser_w = {}, {}
        for s in strategies:
            if (b, s) not in planned:
                continue
            rs = sorted(cells.get((b, s), []), key=lambda r: r["seed"])
            if not rs:
                continue
            c = planned[(b, s)]
            found = [r for r in rs if r["found"]]
            ex = [r["execs"] if r["found"] else INF for r in rs]
            wt = [r["wall"] if r["found"] else INF for r in rs]
            ct = [r["cpu"] if r["found"] else INF for r in rs]
            spur = sum(len(r["spurious"]) for r in rs)
            kinds = sorted({r["kind"] for r in found})
            n_note = "%d" % len(rs) + (" (stopped early)" if len(rs) < c.get("seeds", seeds) else "")
            rows.append([STRAT_LABEL.get(s, s), "`%s`" % c["target"], n_note, "%d" % len(found),
                         fnum(median(ex)), fnum(nearest_rank(ex, 0.9)),
                         fnum(min(ex)) if ex else "—", fnum(max(ex)) if ex else "—",
                         fsec(median(wt)), fsec(nearest_rank(wt, 0.9)), fsec(median(ct)), str(spur),
                         ", ".join(kinds) or "—"])
            ser_e[STRAT_LABEL.get(s, s)] = ([r["execs"] for r in found], len(rs))
            ser_w[STRAT_LABEL.get(s, s)] = ([max(r["wall"], 1e-3) for r in found], len(rs))
        P(table(["strategy", "target / alphabet", "runs", "found", "execs median", "p90", "min", "max",
                 "wall median", "wall p90", "CPU median", "spurious", "finding kind"], rows,
                ["l", "l"] + ["r"] * 10 + ["l"]))
        P("")
        panels_e.append((b, ser_e))
        panels_w.append((b, ser_w))
    names = [STRAT_LABEL.get(s, s) for s in strategies]
    open(os.path.join(outdir, "ttb_cdf_execs.svg"), "w").write(svgplot.cdf_panels(
        panels_e, names, "Time to bug: fraction of seeds that found the bug within x executions",
        "executions (log)", "Curves end below 1 where runs missed (budget spent without the bug)."))
    open(os.path.join(outdir, "ttb_cdf_seconds.svg"), "w").write(svgplot.cdf_panels(
        panels_w, names, "Time to bug: fraction of seeds that found the bug within x wall seconds",
        "wall seconds (log; shared, loaded machine)", "Curves end below 1 where runs missed."))
    P("### CDFs")
    P("")
    P("![CDF of executions to the bug](ttb_cdf_execs.svg)")
    P("")
    P("![CDF of wall seconds to the bug](ttb_cdf_seconds.svg)")
    P("")


def compare_section(P, cmp):
    prm = cmp["params"]
    P("### #38931 before and after: `drive.py compare`")
    P("")
    P("`%s` on `%s`, %d seeds (`-seed=%d..%d`), every run `-runs=%d` from %s, the configurations interleaved "
      "seed by seed, %d at a time. *To report*: wall time until the finding's report appeared on the output "
      "(after it, libFuzzer's crash handler still symbolizes a stack trace and writes the artifact, which the "
      "*wall* column includes). A finding counts only if the fixed runtime runs the artifact cleanly. Medians "
      "and p90 nearest-rank, a miss counting as +∞." % (
          prm["bug"], prm["target"], prm["seeds"], prm["first_seed"], prm["first_seed"] + prm["seeds"] - 1,
          prm["runs"], "a copy of `%s`" % prm["seed_corpus"] if prm.get("seed_corpus") else "an empty corpus",
          prm["jobs"]))
    P("")
    rows = []
    for s_ in cmp["summary"]:
        spec = s_["spec"]
        rows.append(["`%s`" % s_["config"], "%d/%d" % (s_["found"], s_["runs"]), fnum(s_["median_execs"]),
                     fnum(s_["p90_execs"]), fsec(s_["median_cpu"]), fsec(s_["median_wall"]),
                     fsec(s_["median_to_report"]),
                     "`%s`%s%s%s" % (spec["binary"], ", options `%s`" % spec["options"] if spec.get("options") else "",
                                     " +`%s`" % " ".join(spec["extra"]) if spec.get("extra") else "",
                                     ", no dict" if spec.get("nodict") else "")])
    P(table(["config", "found", "execs median", "execs p90", "CPU median", "wall median", "to report median",
             "binary and options"], rows, ["l", "r", "r", "r", "r", "r", "r", "l"]))
    P("")
    first = {}
    for r in sorted(cmp["results"], key=lambda r: r["seed"]):
        first.setdefault(r["config"], r["cmd"])
    P("Seed 1 of each configuration:")
    P("")
    P("```")
    for c, cmd in first.items():
        P(cmd)
    P("```")
    P("")


def stress_section(P, stress, ttb):
    rows = []
    base = None
    for r in stress["rows"]:
        n, h = r["runs"], r["hung"]
        lo, hi = wilson(h, n)
        to = r["timeout_ms"] / 1000.0
        t_ok = (r["wall"] - h * to) / max(1, n - h)
        per_run = r["wall"] / n

        def expect(p):
            return INF if p <= 0 else (1 / p - 1) * t_ok + to

        if h:
            e = expect(h / n)
            et = "**%s** (%s – %s)" % (fsec(e), fsec(expect(hi)), fsec(expect(lo)))
            if r["bugs"] != "none" and (base is None or e < base[0]):
                base = (e, r)
        else:
            et = "no hang in %d runs (≥ %s at 95%%)" % (n, fsec(expect(hi)))
        rows.append(["`--bugs=%s`%s" % (r["bugs"] if r["bugs"] != "none" else "", " `--stress`" if r["stress"] else ""),
                     "%d" % n, "%d" % h, "%.2f%%" % (100 * h / n), "%.2f%% – %.2f%%" % (100 * lo, 100 * hi),
                     "%.1f ms" % (1000 * per_run), "%.1f ms" % (1000 * t_ok), et])
    P("`examples/lockosthread_template_race` runs Go's testprog LockOSThreadTemplateThreadRace on gort with real "
      "threads and futexes (GOMAXPROCS 4 on 2 cores), one forked child per run; a run that has not finished after "
      "`--timeout-ms=%d` is a hang. `--stress` makes every SyncPoint yield at random. These runs had the machine "
      "to themselves as far as this benchmark goes (nothing else of ours ran), but not other users' jobs."
      % stress["rows"][0]["timeout_ms"])
    P("")
    P(table(["configuration", "runs", "hung", "hangs / run", "95% CI (Wilson)", "wall / run", "wall / ok run",
             "expected wall time to first hang (95% CI)"], rows))
    P("")
    P("Expected wall time to a first hang = (1/p − 1) × (wall per ok run) + timeout (a hang is only noticed "
      "when the timeout fires), with p and its Wilson bounds. The fixed runtime (`--bugs=`) must show 0 hangs; "
      "its interval is the upper bound this many runs can put on its hang rate.")
    P("")
    if ttb:
        res = [r for r in ttb["results"] if r["bug"] == "issue38931"]
        by = {}
        for r in res:
            by.setdefault(r["name"], []).append(r)
        rows = []
        for s in STRAT_ORDER:
            rs = by.get(s)
            if not rs:
                continue
            wt = median([r["wall"] if r["found"] else INF for r in rs])
            ct = median([r["cpu"] if r["found"] else INF for r in rs])
            if base and wt not in (INF, None) and wt > 0:
                ratio = base[0] / wt
                rt = ("×%.0f" % ratio if ratio >= 10 else "×%.2g" % ratio) + (" (slower)" if ratio < 1 else "")
            else:
                rt = "—"
            rows.append([STRAT_LABEL.get(s, s), fsec(wt), fsec(ct), rt,
                         "%d/%d" % (sum(r["found"] for r in rs), len(rs)), "yes, exactly (from the input)"])
        if base:
            rows.append(["real threads: `%s`" % ("--stress" if base[1]["stress"] else "no --stress"),
                         fsec(base[0]) + " (expected)", "—", "×1", "%d/%d runs hung" % (base[1]["hung"], base[1]["runs"]),
                         "no"])
        P("**#38931: the fuzzer vs Go's method.** Median wall time to find (section 2; a miss counts as +∞) against "
          "the expected wall time to a first hang on real threads (the best configuration above). Every finding "
          "of the deterministic strategies replays exactly from its input; a real-thread hang never does.")
        P("")
        P(table(["method", "median wall time to #38931", "median CPU time", "faster than real threads by",
                 "found in", "the finding replays"], rows, ["l", "r", "r", "r", "l", "l"]))
        P("")
    P("Commands: " + "; ".join("`%s`" % r["cmd"] for r in stress["rows"]))
    P("")


if __name__ == "__main__":
    main()
