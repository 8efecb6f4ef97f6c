#!/usr/bin/env python3
"""bench/drive.py — runs the measurements of bench/run.sh and writes raw results as JSON.

Subcommands (each writes one JSON file; bench/report.py turns them into REPORT.md):

  throughput  libFuzzer's own exec/s per target on the fixed runtime: a fixed-duration
              run from an empty corpus, then one from the corpus that run grew.
  rss         one long libFuzzer run; samples VmRSS/VmHWM of the process every second
              and libFuzzer's "rss:" status field.
  ttb         time to bug: every (bug, strategy) cell, several seeds, 2 jobs at a time.
  stress      Go's method on real threads: examples/lockosthread_template_race --runs=N.
  compare     time to one bug for several libFuzzer configurations (builds, options files,
              flags) side by side: the same seeds, runs interleaved, e.g. before/after a change.

Clocks: wall time is time.monotonic() around each process; CPU time is the child's
ru_utime + ru_stime from wait4. The machine is shared, so executions (which do not
depend on load) are the primary time-to-bug figure, and exec/s is also given per CPU
second.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
import fuzz_options  # noqa: E402  the one .options reader (scripts/fuzz_options.py)

BUGS = ["issue38931", "issue28979", "issue20395", "issue20676", "issue20458", "asyncpreemptoff", "issue6070", "issue40368"]
# Bugs the lockosthread alphabet (lock unlock gosched newm stw exit spin) can express.
LOCKOSTHREAD_BUGS = BUGS[:5]


# ---- running one process ---------------------------------------------------------------

def run_timed(cmd, log_path, env=None, cwd=None, kill_after=None, on_start=None):
    """Runs cmd with stdout+stderr to log_path. Returns dict(rc, wall, cpu).

    kill_after: seconds after which the process is killed (a safety net; the tools have
    their own budgets). on_start(pid) is called once the process runs (RSS sampler).
    """
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    t0 = time.monotonic()
    with open(log_path, "wb") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=full_env, cwd=cwd,
                             start_new_session=True)
        timer = None
        if kill_after:
            timer = threading.Timer(kill_after, lambda: _kill(p.pid))
            timer.start()
        stop = threading.Event()
        sampler = None
        if on_start:
            sampler = threading.Thread(target=on_start, args=(p.pid, stop, t0), daemon=True)
            sampler.start()
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        if timer:
            timer.cancel()
        if sampler:
            sampler.join()
    return {"rc": p.returncode, "wall": time.monotonic() - t0, "cpu": ru.ru_utime + ru.ru_stime,
            "maxrss_kb": ru.ru_maxrss}


def _kill(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def read(path):
    with open(path, "r", errors="replace") as f:
        return f.read()


# ---- libFuzzer -----------------------------------------------------------------------------

def fuzzer_options(src, target):
    """The [libfuzzer] section of fuzz/targets/<target>.options as -key=value flags (dict
    resolved to the dictionary in the source tree, as scripts/fuzz.sh does): the shared
    reader, scripts/fuzz_options.py."""
    return fuzz_options.target_flags(src, target, dict_mode="repo")


STATUS_RE = re.compile(r"^#(\d+)\s+(\w+)\s.*?exec/s: (\d+)(?:\s+rss: (\d+)Mb)?", re.M)


def parse_libfuzzer(text):
    """Execution count, exec/s and status lines of a libFuzzer log."""
    r = {}
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", text)
    if m:
        r["execs"] = int(m.group(1))
    m = re.search(r"stat::average_exec_per_sec:\s*(\d+)", text)
    if m:
        r["exec_per_sec"] = int(m.group(1))
    m = re.search(r"stat::peak_rss_mb:\s*(\d+)", text)
    if m:
        r["peak_rss_mb"] = int(m.group(1))
    status = [(int(a), b, int(c), int(d) if d else None) for a, b, c, d in STATUS_RE.findall(text)]
    r["status"] = status
    if "execs" not in r:
        m = re.search(r"Done (\d+) runs in", text)
        if m:
            r["execs"] = int(m.group(1))
        elif status:
            r["execs"] = status[-1][0]
    m = re.search(r"==schedfuzz== FINDING: (.*)", text)
    if m:
        r["kind"] = m.group(1).strip()
    m = re.search(r"INFO: Seed: (\d+)", text)
    if m:
        r["seed"] = int(m.group(1))
    return r


def corpus_size(d):
    return len([f for f in os.listdir(d) if not f.startswith(".")]) if os.path.isdir(d) else 0


def cmd_throughput(a):
    res = {"seconds": a.seconds, "libfuzzer_extra": a.libfuzzer_extra, "runs": []}
    for target in a.targets:
        binary = os.path.join(a.fuzz_build, "fuzz", "targets", target)
        opts = fuzzer_options(a.src, target)
        corpus = os.path.join(a.work, "corpus-" + target)
        shutil.rmtree(corpus, ignore_errors=True)
        os.makedirs(corpus)
        for phase in ("empty", "corpus"):
            if phase == "corpus":
                # The second run starts from what the first one grew (kept as it was, for exec_bench).
                grown = os.path.join(a.work, "grown-" + target)
                shutil.rmtree(grown, ignore_errors=True)
                shutil.copytree(corpus, grown)
            arts = os.path.join(a.work, "artifacts-thr-" + target) + "/"
            os.makedirs(arts, exist_ok=True)
            cmd = [binary, "-seed=1", "-max_total_time=%d" % a.seconds, "-print_final_stats=1"] + opts + \
                  a.libfuzzer_extra + ["-artifact_prefix=" + arts, corpus]
            start_size = corpus_size(corpus)
            # A finding on the fixed runtime ends libFuzzer early (sched_fuzzer's step-budget
            # findings, see ttb); libFuzzer is then restarted on the same corpus with the next
            # seed until the duration is spent, and the segments add up.
            tot = {"execs": 0, "wall": 0.0, "cpu": 0.0}
            kinds, peak, seg = [], 0, 0
            while a.seconds - tot["wall"] >= 1:
                c = list(cmd)
                c[1] = "-seed=%d" % (1 + 100000 * seg)
                c[2] = "-max_total_time=%d" % int(a.seconds - tot["wall"])
                log = os.path.join(a.work, "thr-%s-%s-%d.log" % (target, phase, seg))
                t = run_timed(c, log, env={"SCHEDFUZZ_BUGS": ""}, kill_after=a.seconds + 120)
                p = parse_libfuzzer(read(log))
                tot["execs"] += p.get("execs") or 0
                tot["wall"] += t["wall"]
                tot["cpu"] += t["cpu"]
                peak = max(peak, p.get("peak_rss_mb") or 0)
                seg += 1
                if t["rc"] == 0:
                    break
                kinds.append(p.get("kind", "rc=%d" % t["rc"]))
            row = {"target": target, "phase": phase, "cmd": " ".join(["SCHEDFUZZ_BUGS="] + cmd), "segments": seg,
                   "wall": tot["wall"], "cpu": tot["cpu"], "execs": tot["execs"],
                   "exec_per_sec": tot["execs"] / max(tot["wall"], 1e-9), "peak_rss_mb": peak,
                   "corpus_start": start_size, "corpus_end": corpus_size(corpus), "findings": kinds}
            row["exec_per_cpu_sec"] = tot["execs"] / max(tot["cpu"], 1e-9)
            res["runs"].append(row)
            print("throughput %-20s %-6s execs=%d exec/s=%.0f per-CPU-s=%.0f corpus %d->%d segments=%d" %
                  (target, phase, row["execs"], row["exec_per_sec"], row["exec_per_cpu_sec"],
                   start_size, row["corpus_end"], seg), flush=True)
    json.dump(res, open(a.out, "w"), indent=1)


# ---- what would make libFuzzer's executions cheaper: measured, not guessed ------------------------------
# The same target from the same corpus, alternating configurations within each round so that
# load drift on the shared machine hits all of them alike.

def cmd_ablate(a):
    """What libFuzzer's own per-input work and the instrumentation cost, from one corpus. The
    target's .options give the configuration as built (no trace-cmp or indirect-call tracing in
    our code, -entropic=0, and for lockosthread_fuzzer -use_counters=0); each other row puts one
    of them back, the last row all of them (the configuration before they were dropped)."""
    main_bin = os.path.join(a.fuzz_build, "fuzz", "targets", a.target)
    configs = [("as built", main_bin, [])]
    cmp_bin = os.path.join(a.cmp_build, "fuzz", "targets", a.target) if a.cmp_build else None
    if cmp_bin:
        configs.append(("full instrumentation", cmp_bin, []))
    configs.append(("-entropic=1", main_bin, ["-entropic=1"]))
    configs.append(("-use_counters=1", main_bin, ["-use_counters=1"]))
    if cmp_bin:
        configs.append(("full instrumentation, -entropic=1, -use_counters=1", cmp_bin,
                        ["-entropic=1", "-use_counters=1"]))
    rows = []
    opts = fuzzer_options(a.src, a.target) + a.libfuzzer_extra
    for rnd in range(a.rounds):
        for name, binary, extra in configs:
            corpus = os.path.join(a.work, "ablate-corpus")
            shutil.rmtree(corpus, ignore_errors=True)
            shutil.copytree(a.corpus, corpus)
            arts = os.path.join(a.work, "artifacts-ablate") + "/"
            os.makedirs(arts, exist_ok=True)
            cmd = [binary, "-seed=1", "-max_total_time=%d" % a.seconds, "-print_final_stats=1"] + opts + extra + \
                  ["-artifact_prefix=" + arts, corpus]
            log = os.path.join(a.work, "ablate-%d-%d.log" % (rnd, len(rows)))
            t = run_timed(cmd, log, env={"SCHEDFUZZ_BUGS": ""}, kill_after=a.seconds + 120)
            p = parse_libfuzzer(read(log))
            row = {"config": name, "round": rnd, "cmd": " ".join(["SCHEDFUZZ_BUGS="] + cmd), "execs": p.get("execs"),
                   "wall": t["wall"], "cpu": t["cpu"], "exec_per_sec": p.get("exec_per_sec")}
            row["exec_per_cpu_sec"] = (row["execs"] or 0) / max(t["cpu"], 1e-9)
            rows.append(row)
            print("ablate %-40s round %d: libFuzzer exec/s %s, per CPU s %.0f" % (name, rnd, row["exec_per_sec"],
                                                                               row["exec_per_cpu_sec"]), flush=True)
    json.dump({"target": a.target, "rows": rows}, open(a.out, "w"), indent=1)


# ---- RSS over a long run -------------------------------------------------------------------------

def rss_one(a, target):
    binary = os.path.join(a.fuzz_build, "fuzz", "targets", target)
    corpus = os.path.join(a.work, "rss-corpus-" + target)
    shutil.rmtree(corpus, ignore_errors=True)
    os.makedirs(corpus)
    arts = os.path.join(a.work, "artifacts-rss-" + target) + "/"
    os.makedirs(arts, exist_ok=True)
    secs = int(a.minutes * 60)
    cmd = [binary, "-seed=1", "-max_total_time=%d" % secs, "-print_final_stats=1"] + \
          fuzzer_options(a.src, target) + a.libfuzzer_extra + ["-artifact_prefix=" + arts, corpus]
    samples = []

    def sampler(pid, stop, t0):
        while not stop.is_set():
            try:
                st = read("/proc/%d/status" % pid)
                rss = int(re.search(r"VmRSS:\s*(\d+)", st).group(1))
                hwm = int(re.search(r"VmHWM:\s*(\d+)", st).group(1))
                samples.append((time.monotonic() - t0, rss, hwm))
            except (OSError, AttributeError):
                pass
            stop.wait(a.interval)

    log = os.path.join(a.work, "rss-%s.log" % target)
    t = run_timed(cmd, log, env={"SCHEDFUZZ_BUGS": ""}, kill_after=secs + 120, on_start=sampler)
    p = parse_libfuzzer(read(log))
    print("rss %s: %d samples, ru_maxrss %d kB, execs %s, rc %d%s" % (
        target, len(samples), t["maxrss_kb"], p.get("execs"), t["rc"],
        " (stopped early: %s)" % p.get("kind") if t["rc"] else ""), flush=True)
    return {"target": target, "minutes": a.minutes, "cmd": " ".join(["SCHEDFUZZ_BUGS="] + cmd), "rc": t["rc"],
            "wall": t["wall"], "cpu": t["cpu"], "ru_maxrss_kb": t["maxrss_kb"], "execs": p.get("execs"),
            "peak_rss_mb": p.get("peak_rss_mb"), "kind": p.get("kind"), "samples": samples,
            "status": [(n, kind, eps, rss) for n, kind, eps, rss in p["status"]]}


def cmd_rss(a):
    """One long libFuzzer run per target (all at once), RSS sampled every --interval seconds."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(a.targets)) as ex:
        runs = list(ex.map(lambda t: rss_one(a, t), a.targets))
    json.dump({"runs": runs}, open(a.out, "w"))


# ---- time to bug -------------------------------------------------------------------------------------
#
# A job is one (bug, strategy, seed) with a budget. The run ends at the first finding.
# A finding is checked against the fixed runtime: the fuzz target (or schedfuzz-replay for
# explore's reproducer) runs the found input again with no bug switch. If the fixed runtime
# also reports a finding, the finding is not the bug ("spurious"); the search then goes on
# (libFuzzer: restarted on the corpus it grew, with the next seed; explore: restarted with
# the next seed; explore's runs are independent, so this is the same search) until the
# budget is spent. Executions and time add up over restarts.

def libfuzzer_job(a, job, d):
    target = job["target"]
    binary = os.path.join(job.get("fuzz_build") or a.fuzz_build, "fuzz", "targets", target)
    corpus = os.path.join(d, "corpus")
    arts = os.path.join(d, "artifacts")
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(arts, exist_ok=True)
    opts = fuzzer_options(a.src, target) + a.libfuzzer_extra + job.get("extra", [])
    if job.get("nodict"):
        opts = [o for o in opts if not o.startswith("-dict=")]
    budget = job["budget_s"]
    total = {"execs": 0, "wall": 0.0, "cpu": 0.0}
    spurious = []
    restart = 0
    cmd0 = None
    while True:
        left = budget - total["wall"]
        if left < 1:
            break
        seed = job["seed"] + 100000 * restart
        cmd = [binary, "-seed=%d" % seed, "-max_total_time=%d" % max(1, int(left)), "-print_final_stats=1"] + \
              opts + ["-artifact_prefix=" + arts + "/", corpus]
        cmd0 = cmd0 or cmd
        before = set(os.listdir(arts))
        log = os.path.join(d, "run%d.log" % restart)
        t = run_timed(cmd, log, env={"SCHEDFUZZ_BUGS": job["bug"]}, kill_after=left + 120)
        p = parse_libfuzzer(read(log))
        total["execs"] += p.get("execs") or 0
        total["wall"] += t["wall"]
        total["cpu"] += t["cpu"]
        new = sorted(f for f in set(os.listdir(arts)) - before if f.startswith("crash-"))
        if not new:
            break  # budget spent without a crash (or libFuzzer stopped by itself)
        art = os.path.join(arts, new[0])
        chk = run_timed([binary, art], os.path.join(d, "check%d.log" % restart), env={"SCHEDFUZZ_BUGS": ""},
                        kill_after=120)
        if chk["rc"] == 0:
            return dict(found=True, kind=p.get("kind", "?"), artifact=art, spurious=spurious, restarts=restart,
                        cmd=cmd0, **total)
        spurious.append(p.get("kind", "?"))
        restart += 1
    return dict(found=False, kind=None, spurious=spurious, restarts=restart, cmd=cmd0, **total)


RESULT_RE = re.compile(r"^RESULT .*found=(\d) runs=(\d+) seconds=([\d.]+) kind=(.*)$", re.M)


def explore_job(a, job, d):
    tool = os.path.join(a.rel_build, "fuzz", "tools", "schedfuzz-explore")
    replay = os.path.join(a.rel_build, "fuzz", "tools", "schedfuzz-replay")
    total = {"execs": 0, "wall": 0.0, "cpu": 0.0}
    spurious = []
    restart = 0
    cmd0 = None
    while True:
        runs_left = job["budget_runs"] - total["execs"]
        secs_left = job["budget_s"] - total["wall"]
        if runs_left <= 0 or secs_left < 0.5:
            break
        seed = job["seed"] + 100000 * restart
        prefix = os.path.join(d, "finding%d" % restart)
        cmd = [tool, "--strategy=" + job["strategy"], "--seed=%d" % seed, "--target=" + job["target"],
               "--bugs=" + job["bug"], "--runs=%d" % runs_left, "--seconds=%.1f" % secs_left,
               "--progress-every=0", "--out=" + prefix]
        if job["strategy"] == "pct":
            cmd.insert(2, "--depth=%d" % job["depth"])
        cmd0 = cmd0 or cmd
        log = os.path.join(d, "run%d.log" % restart)
        t = run_timed(cmd, log, kill_after=secs_left + 120)
        text = read(log)
        m = RESULT_RE.search(text)
        if not m:
            raise RuntimeError("no RESULT line in %s" % log)
        found, runs, kind = m.group(1) == "1", int(m.group(2)), m.group(4).strip()
        total["execs"] += runs
        total["wall"] += t["wall"]
        total["cpu"] += t["cpu"]
        if not found:
            break
        verified = "VERIFIED" in text
        # The reproducer on the fixed runtime: a finding there too means this is not the bug.
        chk = run_timed([replay, "--quiet", "--bugs=", "--target=" + job["target"], prefix + ".bin"],
                        os.path.join(d, "check%d.log" % restart), kill_after=120)
        # Counted only if the reproducer replays as the finding (VERIFIED) and the fixed
        # runtime runs it cleanly. An unverified reproducer (a schedule longer than an input
        # holds, cut to 256 choices) cannot be told apart from the fixed runtime's own
        # step-budget findings, so it does not count and the search goes on.
        if verified and chk["rc"] == 0:
            return dict(found=True, kind=kind, verified=verified, spurious=spurious, restarts=restart, cmd=cmd0,
                        **total)
        spurious.append(kind if verified else kind + " (unverified)")
        restart += 1
    return dict(found=False, kind=None, spurious=spurious, restarts=restart, cmd=cmd0, **total)


def strategy_name(s):
    return s["name"]


def make_cells(a):
    """The (bug, strategy) cells, each with its target and budget."""
    cells = []
    for bug in a.bugs:
        for s in a.strategies:
            if s == "libfuzzer-lockosthread":
                if bug not in LOCKOSTHREAD_BUGS:
                    continue
                cells.append(dict(bug=bug, strategy="libfuzzer", name=s, target="lockosthread_fuzzer",
                                  budget_s=a.libfuzzer_budget))
            elif s == "libfuzzer-lockosthread-nodict":
                # Ablation, #38931 only: without the dictionary (it holds the whole #38931
                # program as a token).
                if bug != "issue38931":
                    continue
                cells.append(dict(bug=bug, strategy="libfuzzer", name=s, target="lockosthread_fuzzer",
                                  budget_s=a.libfuzzer_budget, nodict=True))
            elif s == "libfuzzer-lockosthread-prev":
                # Ablation, #38931 only: the build and libFuzzer options as they were before
                # (full instrumentation, Entropic, hit counts), with today's chooser and features.
                if bug != "issue38931" or not a.cmp_build:
                    continue
                cells.append(dict(bug=bug, strategy="libfuzzer", name=s, target="lockosthread_fuzzer",
                                  budget_s=a.libfuzzer_budget, fuzz_build=a.cmp_build,
                                  extra=["-entropic=1", "-use_counters=1"]))
            elif s == "libfuzzer-sched":
                cells.append(dict(bug=bug, strategy="libfuzzer", name=s, target="sched_fuzzer",
                                  budget_s=a.libfuzzer_budget))
            else:
                # Random programs for explore: the lockosthread alphabet where it can express
                # the bug (as the regression's note did), else every op (sched).
                target = "lockosthread" if bug in LOCKOSTHREAD_BUGS else "sched"
                if s == "random":
                    cells.append(dict(bug=bug, strategy="random", name=s, target=target,
                                      budget_s=a.explore_budget_s, budget_runs=a.explore_budget_runs))
                else:
                    depth = int(s.split("=")[1])
                    cells.append(dict(bug=bug, strategy="pct", depth=depth, name="pct-d%d" % depth, target=target,
                                      budget_s=a.explore_budget_s, budget_runs=a.explore_budget_runs))
    return cells


def cmd_ttb(a):
    cells = make_cells(a)
    results = []
    lock = threading.Lock()
    state = {}  # cell key -> {"run": n, "found": n, "stopped": bool}
    out_path = a.out

    def key(c):
        return c["bug"] + "/" + c["name"]

    def save():
        json.dump({"params": vars(a) | {"cells": cells, "deadline_hit": bool(state.get("_deadline_hit"))},
                   "results": results}, open(out_path, "w"), indent=1)

    # Ablation cells (names with a suffix after the target) get --ablation-seeds seeds.
    for c in cells:
        c["seeds"] = a.ablation_seeds if c["name"].startswith("libfuzzer-lockosthread-") else a.seeds
    # Seeds are scheduled seed-major (every cell's seed 1, then every cell's seed 2, ...),
    # so that the early stop below can see a cell's first seeds before its later ones, and a
    # deadline cuts every cell's seeds alike.
    jobs = [dict(c, seed=s) for s in range(1, a.seeds + 1) for c in cells if s <= c["seeds"]]
    deadline = time.monotonic() + a.deadline_min * 60 if a.deadline_min else None

    def worker(job):
        k = key(job)
        with lock:
            st = state.setdefault(k, {"run": 0, "found": 0, "stopped": False})
            # Early stop: a cell whose first `early_stop` seeds all missed is hopeless within
            # this budget; its later seeds are not run (the report shows them as not run).
            if st["stopped"] or (a.early_stop and st["run"] >= a.early_stop and st["found"] == 0):
                st["stopped"] = True
                return None
            if deadline and time.monotonic() > deadline:
                state["_deadline_hit"] = True
                return None
        d = os.path.join(a.work, "ttb", k.replace("/", "-"), "seed%d" % job["seed"])
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        r = (libfuzzer_job if job["strategy"] == "libfuzzer" else explore_job)(a, job, d)
        r.update(job)
        r["cmd"] = " ".join((["SCHEDFUZZ_BUGS=" + job["bug"]] if job["strategy"] == "libfuzzer" else []) + r["cmd"])
        with lock:
            st["run"] += 1
            st["found"] += r["found"]
            results.append(r)
            save()
            print("ttb %-16s %-24s seed %2d: %s execs=%d wall=%.2fs cpu=%.2fs%s" % (
                job["bug"], job["name"], job["seed"], "FOUND " + r["kind"] if r["found"] else "miss",
                r["execs"], r["wall"], r["cpu"], " (spurious: %s)" % ", ".join(r["spurious"]) if r["spurious"] else ""),
                flush=True)
        return r

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        list(ex.map(worker, jobs))
    save()
    print("ttb: %d runs in %.0f s wall" % (len(results), time.monotonic() - t0), flush=True)


# ---- before/after: several libFuzzer configurations on one bug, interleaved -------------------------------
# Each configuration is NAME=BINARY[,options=FILE][,extra=FLAGS][,nodict]: the target binary, the
# .options file whose [libfuzzer] flags it runs with (default: the source tree's
# fuzz/targets/<target>.options; its dict is resolved as in fuzzer_options), and extra flags.
# Jobs go seed-major with the configurations alternating, so load drift on the shared machine
# hits all of them alike. Every run is -runs=N from an empty corpus (or --seed-corpus), and
# ends at its first crash. Besides executions, CPU (wait4) and wall time of the process, it
# records the wall time until the finding's report appeared on the output ("to report"):
# after the report, libFuzzer's crash handler still symbolizes a stack trace and writes the
# artifact.

def parse_compare_config(src, text):
    name, rest = text.split("=", 1)
    parts = rest.split(",")
    cfg = {"name": name, "binary": parts[0], "options": None, "extra": [], "nodict": False}
    for p in parts[1:]:
        if p.startswith("options="):
            cfg["options"] = p[len("options="):]
        elif p.startswith("extra="):
            cfg["extra"] = p[len("extra="):].split()
        elif p == "nodict":
            cfg["nodict"] = True
        else:
            raise SystemExit("compare: bad config part %r in %r" % (p, text))
    return cfg


def options_flags(src, target, path):
    if not path:
        return fuzzer_options(src, target)
    return fuzz_options.libfuzzer_flags(path, "repo", src, target)


def run_to_report(cmd, log_path, env):
    """Like run_timed, and also the wall time at which '==schedfuzz== FINDING' was printed."""
    full_env = dict(os.environ)
    full_env.update(env)
    t0 = time.monotonic()
    t_report = None
    with open(log_path, "wb") as out:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=full_env,
                             start_new_session=True)
        for line in p.stdout:
            if t_report is None and line.startswith(b"==schedfuzz== FINDING"):
                t_report = time.monotonic() - t0
            out.write(line)
        _, status, ru = os.wait4(p.pid, 0)
    return {"rc": os.waitstatus_to_exitcode(status), "wall": time.monotonic() - t0, "to_report": t_report,
            "cpu": ru.ru_utime + ru.ru_stime}


def cmd_compare(a):
    cfgs = [parse_compare_config(a.src, c) for c in a.config]
    results = []
    lock = threading.Lock()
    jobs = [(s, c) for s in range(a.first_seed, a.first_seed + a.seeds) for c in cfgs]

    def worker(job):
        seed, c = job
        d = os.path.join(a.work, "compare-" + a.bug, c["name"], "seed%d" % seed)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(os.path.join(d, "corpus"))
        os.makedirs(os.path.join(d, "artifacts"))
        if a.seed_corpus:
            for f in sorted(os.listdir(a.seed_corpus)):
                if not f.endswith(".txt") and os.path.isfile(os.path.join(a.seed_corpus, f)):
                    shutil.copy(os.path.join(a.seed_corpus, f), os.path.join(d, "corpus"))
        opts = options_flags(a.src, a.target, c["options"]) + c["extra"]
        if c["nodict"]:
            opts = [o for o in opts if not o.startswith("-dict=")]
        cmd = [c["binary"], "-seed=%d" % seed, "-runs=%d" % a.runs, "-print_final_stats=1"] + opts + \
              ["-artifact_prefix=" + os.path.join(d, "artifacts") + "/", os.path.join(d, "corpus")]
        t = run_to_report(cmd, os.path.join(d, "run.log"), {"SCHEDFUZZ_BUGS": a.bug})
        p = parse_libfuzzer(read(os.path.join(d, "run.log")))
        arts = sorted(f for f in os.listdir(os.path.join(d, "artifacts")) if f.startswith("crash-"))
        found, spurious = False, False
        if arts:
            chk = run_timed([c["binary"], os.path.join(d, "artifacts", arts[0])], os.path.join(d, "check.log"),
                            env={"SCHEDFUZZ_BUGS": ""}, kill_after=120)
            found, spurious = chk["rc"] == 0, chk["rc"] != 0
        r = {"config": c["name"], "seed": seed, "found": found, "spurious": spurious, "kind": p.get("kind"),
             "execs": p.get("execs"), "new_units": None, "cmd": " ".join(["SCHEDFUZZ_BUGS=" + a.bug] + cmd), **t}
        m = re.search(r"stat::new_units_added:\s*(\d+)", read(os.path.join(d, "run.log")))
        if m:
            r["new_units"] = int(m.group(1))
        with lock:
            results.append(r)
            print("compare %-12s %-14s seed %3d: %s execs=%s cpu=%.3fs wall=%.3fs to-report=%s" % (
                a.bug, c["name"], seed, "FOUND" if found else ("SPURIOUS" if spurious else "miss "), r["execs"],
                r["cpu"], r["wall"], "%.3fs" % r["to_report"] if r["to_report"] is not None else "-"), flush=True)
        return r

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        list(ex.map(worker, jobs))
    summary = []
    for c in cfgs:
        rs = [r for r in results if r["config"] == c["name"]]
        inf = float("inf")

        def med(key):
            v = sorted(r[key] if r["found"] and r[key] is not None else inf for r in rs)
            return v[(len(v) - 1) // 2] if v else None

        def p90(key):
            v = sorted(r[key] if r["found"] and r[key] is not None else inf for r in rs)
            return v[max(0, -(-9 * len(v) // 10) - 1)] if v else None
        summary.append({"config": c["name"], "runs": len(rs), "found": sum(r["found"] for r in rs),
                        "median_execs": med("execs"), "p90_execs": p90("execs"), "median_cpu": med("cpu"),
                        "median_wall": med("wall"), "median_to_report": med("to_report"),
                        "p90_cpu": p90("cpu"), "spec": c})
    print("\n%-16s %7s %10s %9s %9s %9s %10s" % ("config", "found", "med execs", "med CPU", "med wall",
                                                 "to report", "p90 execs"))
    for s_ in summary:
        print("%-16s %3d/%-3d %10s %9.3f %9.3f %9.3f %10s" % (
            s_["config"], s_["found"], s_["runs"], s_["median_execs"], s_["median_cpu"], s_["median_wall"],
            s_["median_to_report"], s_["p90_execs"]))
    json.dump({"params": {k: v for k, v in vars(a).items()}, "summary": summary, "results": results,
               "wall_s": time.monotonic() - t0, "loadavg_end": open("/proc/loadavg").read().split()[:3]},
              open(a.out, "w"), indent=1, default=str)


# ---- real-thread stress baseline ---------------------------------------------------------------------

def cmd_stress(a):
    binary = os.path.join(a.rel_build, "examples", "lockosthread_template_race")
    rows = []
    for bugs, stress in (("issue38931", False), ("issue38931", True), ("", False), ("", True)):
        cmd = [binary, "--runs=%d" % a.runs, "--bugs=" + bugs, "--timeout-ms=%d" % a.timeout_ms] + \
              (["--stress"] if stress else [])
        log = os.path.join(a.work, "stress-%s-%d.log" % (bugs or "fixed", stress))
        t = run_timed(cmd, log, kill_after=a.runs * (a.timeout_ms / 1000.0 + 1) + 60)
        m = re.search(r"(\d+) runs, (\d+) hung", read(log))
        row = {"bugs": bugs or "none", "stress": stress, "cmd": " ".join(cmd), "runs": int(m.group(1)),
               "hung": int(m.group(2)), "wall": t["wall"], "cpu": t["cpu"], "timeout_ms": a.timeout_ms}
        rows.append(row)
        print("stress bugs=%-10s stress=%d: %d runs, %d hung, %.1f s wall" % (row["bugs"], stress, row["runs"],
                                                                            row["hung"], t["wall"]), flush=True)
    json.dump({"rows": rows}, open(a.out, "w"), indent=1)


# ---- where a libFuzzer execution's time goes: perf ------------------------------------------------------

CATEGORIES = [  # (category, regex on "dso symbol"), first match wins
    ("kernel", r"\[k\]|\[kernel"),
    ("libFuzzer: coverage callbacks", r"__sanitizer_cov|__sanitizer_weak_hook"),
    ("libFuzzer: engine (mutate, feature collection, corpus)", r"fuzzer::|LLVMFuzzerRunDriver"),
    ("fiber switch", r"gort_fiber_swap|gort::Fiber::|Fiber::Impl"),
    ("executor (SimPlatform)", r"SimPlatform|schedfuzz::Chooser|ByteChooser|DefaultPolicy|nextRunnableAfter"),
    ("invariant checks (Detectors)", r"Detectors"),
    ("trace / interleaving features", r"interleavingFeatures|TraceEvent|takeTrace"),
    ("decode / program", r"schedfuzz::decode|schedfuzz::stepBudget|walkSeed|scriptCost|hasWait"),
    ("harness (runProgram, Interp)", r"schedfuzz::"),
    ("runtime (gort)", r"gort::"),
    ("malloc / free", r"malloc|free|operator new|operator delete|_int_|cfree|tcache"),
    ("libc / libstdc++ other", r"libc|libstdc|std::|mem(cpy|set|move|cmp)"),
]


def perf_categories(data):
    """Self time per symbol and per category from a perf.data file."""
    res = {"symbols": [], "categories": {}}
    rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,sym",
                          "--percent-limit", "0"], capture_output=True, text=True)
    for line in rep.stdout.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+(\[.\])\s+(.*)$", line)
        if not m:
            continue
        pct, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
        key = "%s %s %s" % (kind, dso, sym)
        cat = next((c for c, rx in CATEGORIES if re.search(rx, key)), "other")
        res["symbols"].append({"pct": pct, "dso": dso, "sym": sym, "category": cat})
        res["categories"][cat] = res["categories"].get(cat, 0) + pct
    return res


def cmd_profile_bench(a):
    """The target's body alone, uninstrumented: exec_bench's BM_Split_TargetBody under perf."""
    data = os.path.join(a.work, "perf-exec_bench.data")
    cmd = ["perf", "record", "-e", "cpu-clock", "-F", "1999", "-o", data, "--",
           os.path.join(a.rel_build, "bench", "exec_bench"), "--benchmark_filter=^%s$" % a.filter,
           "--benchmark_min_time=%g" % a.seconds]
    t = run_timed(cmd, os.path.join(a.work, "perf-exec_bench.log"), kill_after=a.seconds * 20 + 120)
    res = {"cmd": " ".join(cmd), "rc": t["rc"]}
    res.update(perf_categories(data))
    print("profile-bench: %d symbols; %s" % (len(res["symbols"]), ", ".join(
        "%s %.1f%%" % kv for kv in sorted(res["categories"].items(), key=lambda kv: -kv[1])[:6])), flush=True)
    json.dump(res, open(a.out, "w"), indent=1)


def cmd_profile(a):
    binary = os.path.join(a.fuzz_build, "fuzz", "targets", a.target)
    corpus = os.path.join(a.work, "profile-corpus-" + a.target)
    shutil.rmtree(corpus, ignore_errors=True)
    if a.corpus and os.path.isdir(a.corpus):
        shutil.copytree(a.corpus, corpus)
    else:
        os.makedirs(corpus)
    arts = os.path.join(a.work, "artifacts-profile") + "/"
    os.makedirs(arts, exist_ok=True)
    data = os.path.join(a.work, "perf-%s.data" % a.target)
    fuzz = [binary, "-seed=1", "-max_total_time=%d" % a.seconds, "-print_final_stats=1"] + \
        fuzzer_options(a.src, a.target) + a.libfuzzer_extra + ["-artifact_prefix=" + arts, corpus]
    cmd = ["perf", "record", "-e", "cpu-clock", "-F", "1999", "-o", data, "--"] + fuzz
    t = run_timed(cmd, os.path.join(a.work, "perf-record-%s.log" % a.target), env={"SCHEDFUZZ_BUGS": ""},
                  kill_after=a.seconds + 120)
    res = {"target": a.target, "cmd": " ".join(["SCHEDFUZZ_BUGS="] + cmd), "rc": t["rc"]}
    res.update(perf_categories(data))
    p = parse_libfuzzer(read(os.path.join(a.work, "perf-record-%s.log" % a.target)))
    res["execs"], res["exec_per_sec"] = p.get("execs"), p.get("exec_per_sec")
    print("profile %s: %d symbols; %s" % (a.target, len(res["symbols"]), ", ".join(
        "%s %.1f%%" % kv for kv in sorted(res["categories"].items(), key=lambda kv: -kv[1])[:6])), flush=True)
    json.dump(res, open(a.out, "w"), indent=1)


# ---- main ----------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True, help="source tree")
    ap.add_argument("--fuzz-build", help="build dir of the libFuzzer targets")
    ap.add_argument("--rel-build", help="build dir of the tools, examples and exec_bench")
    ap.add_argument("--work", required=True, help="scratch directory (corpora, artifacts, logs)")
    sub = ap.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("throughput")
    t.add_argument("--seconds", type=int, default=30)
    t.add_argument("--targets", nargs="+", default=["lockosthread_fuzzer", "sched_fuzzer"])
    t.add_argument("--libfuzzer-extra", type=lambda v: v.split(), default=[])
    t.add_argument("--out", required=True)

    ab = sub.add_parser("ablate")
    ab.add_argument("--target", default="lockosthread_fuzzer")
    ab.add_argument("--corpus", required=True, help="every run starts from a fresh copy of this corpus")
    ab.add_argument("--cmp-build", help="build dir of the targets with full instrumentation (-DSCHEDFUZZ_LEAN_COVERAGE=OFF)")
    ab.add_argument("--seconds", type=int, default=15)
    ab.add_argument("--rounds", type=int, default=2)
    ab.add_argument("--libfuzzer-extra", type=lambda v: v.split(), default=[])
    ab.add_argument("--out", required=True)

    r = sub.add_parser("rss")
    r.add_argument("--targets", nargs="+", default=["lockosthread_fuzzer"])
    r.add_argument("--minutes", type=float, default=5)
    r.add_argument("--interval", type=float, default=1.0)
    r.add_argument("--libfuzzer-extra", type=lambda v: v.split(), default=[])
    r.add_argument("--out", required=True)

    b = sub.add_parser("ttb")
    b.add_argument("--bugs", nargs="+", default=BUGS)
    b.add_argument("--strategies", nargs="+",
                   default=["libfuzzer-lockosthread", "libfuzzer-sched", "random", "pct=1", "pct=2", "pct=3"])
    b.add_argument("--seeds", type=int, default=20)
    b.add_argument("--jobs", type=int, default=2)
    b.add_argument("--libfuzzer-budget", type=float, default=60)
    b.add_argument("--libfuzzer-extra", type=lambda v: v.split(), default=[],
                   help="extra libFuzzer flags, one string, e.g. '-len_control=0'")
    b.add_argument("--explore-budget-s", type=float, default=30)
    b.add_argument("--explore-budget-runs", type=int, default=20000)
    b.add_argument("--ablation-seeds", type=int, default=10)
    b.add_argument("--cmp-build", help="build dir with full instrumentation (for libfuzzer-lockosthread-prev)")
    b.add_argument("--deadline-min", type=float, default=0,
                   help="start no new run after this many minutes (0: none); the rest are reported as not run")
    b.add_argument("--early-stop", type=int, default=0,
                   help="stop a cell after this many seeds if all of them missed (0: never)")
    b.add_argument("--out", required=True)

    s = sub.add_parser("stress")
    s.add_argument("--runs", type=int, default=2000)
    s.add_argument("--timeout-ms", type=int, default=1000)
    s.add_argument("--out", required=True)

    c = sub.add_parser("compare")
    c.add_argument("--bug", default="issue38931")
    c.add_argument("--target", default="lockosthread_fuzzer")
    c.add_argument("--config", action="append", required=True,
                   help="NAME=BINARY[,options=FILE][,extra=FLAGS][,nodict]; repeat for each configuration")
    c.add_argument("--seeds", type=int, default=21)
    c.add_argument("--first-seed", type=int, default=1)
    c.add_argument("--runs", type=int, default=100000, help="libFuzzer -runs per run (the budget)")
    c.add_argument("--jobs", type=int, default=2)
    c.add_argument("--seed-corpus", default="", help="start every run from a copy of this directory's inputs")
    c.add_argument("--out", required=True)

    pb = sub.add_parser("profile-bench")
    pb.add_argument("--filter", default="BM_Split_TargetBody/0")
    pb.add_argument("--seconds", type=float, default=5)
    pb.add_argument("--out", required=True)

    pr = sub.add_parser("profile")
    pr.add_argument("--target", default="lockosthread_fuzzer")
    pr.add_argument("--seconds", type=int, default=20)
    pr.add_argument("--corpus", help="start from a copy of this corpus")
    pr.add_argument("--libfuzzer-extra", type=lambda v: v.split(), default=[])
    pr.add_argument("--out", required=True)

    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    {"throughput": cmd_throughput, "rss": cmd_rss, "ttb": cmd_ttb, "stress": cmd_stress,
     "profile": cmd_profile, "ablate": cmd_ablate, "profile-bench": cmd_profile_bench,
     "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    main()
