#!/usr/bin/env python3
"""bench/soak.py — the fixed runtime must never produce a finding: a soak, as a benchmark.

Runs every libFuzzer target on the fixed runtime (no SCHEDFUZZ_BUGS) in each
configuration of

    build    plain (the `fuzz` preset) | asan (the `fuzz-asan` preset, ASan+UBSan, with
             OSS-Fuzz's ASAN_OPTIONS=detect_stack_use_after_return=1)
    corpus   empty | shipped (a fresh copy of corpus/<target>/)
    mode     default | strict (SCHEDFUZZ_STRICT=1: liveness precursors are findings too)

for --seconds of wall time each, --jobs at a time, with the target's .options flags
(scripts/fuzz_options.py, the one reader) and -seed=1, 2, ... A finding stops libFuzzer:
the artifact is kept, counted, and the configuration goes on with the next seed until its
time is spent. Per configuration it records executions (libFuzzer's final stats), CPU
seconds and peak RSS (wait4's rusage of the fuzzer process), findings, and the artifacts.

Writes bench/results/soak.json and bench/results/sections/4-soak.md (section 4 of
bench/REPORT.md; bench/report.py includes every results/sections/*.md). Exit status: 0 when every run ran (findings
are results, reported, not an error), 2 on a usage or build error.

    bench/soak.py [--seconds 225] [--jobs 2] [--targets ...] [--builds plain asan]
                  [--corpora empty shipped] [--modes default strict] [--no-build] [--first-seed 1]
"""
import argparse
import datetime
import json
import os
import resource
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import fuzz_options  # noqa: E402

PRESET = {"plain": "fuzz", "asan": "fuzz-asan"}


def build(presets):
    for p in presets:
        subprocess.run(["cmake", "--preset", p], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", "--preset", p], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def parse_stats(text):
    st = {}
    for line in text.splitlines():
        if line.startswith("stat::"):
            k, _, v = line[6:].partition(":")
            try:
                st[k.strip()] = int(v.strip())
            except ValueError:
                pass
    return st


class Config:
    def __init__(self, target, build, corpus, mode, seconds, work):
        self.target, self.build, self.corpus, self.mode = target, build, corpus, mode
        self.name = "%s/%s/%s/%s" % (target, build, corpus, mode)
        self.seconds = seconds
        self.dir = os.path.join(work, target, build, corpus, mode)
        self.execs = 0
        self.cpu = 0.0
        self.rss_kb = 0
        self.findings = []  # [(seed, artifact, first line of the report)]
        self.runs = 0
        self.seed = 0
        self.proc = None
        self.start = None
        self.spent = 0.0
        self.log = None

    def binary(self):
        return os.path.join(ROOT, "build", PRESET[self.build], "fuzz", "targets", self.target)

    def launch(self):
        self.seed += 1
        self.runs += 1
        if self.start is None:
            self.start = time.monotonic()
            shutil.rmtree(self.dir, ignore_errors=True)
            os.makedirs(os.path.join(self.dir, "corpus"))
            os.makedirs(os.path.join(self.dir, "artifacts"))
            if self.corpus == "shipped":
                src = os.path.join(ROOT, "corpus", self.target)
                for f in sorted(os.listdir(src)):
                    if not f.endswith(".txt"):  # the binary seeds; .txt are their sources
                        shutil.copy(os.path.join(src, f), os.path.join(self.dir, "corpus", f))
        left = max(1, int(round(self.seconds - (time.monotonic() - self.start))))
        opts = fuzz_options.libfuzzer_flags(os.path.join(ROOT, "fuzz", "targets", self.target + ".options"),
                                            "repo", ROOT, self.target)
        cmd = [self.binary(), "-seed=%d" % self.seed, "-max_total_time=%d" % left, "-print_final_stats=1",
               "-artifact_prefix=" + os.path.join(self.dir, "artifacts") + "/"] + opts + [os.path.join(self.dir, "corpus")]
        env = dict(os.environ)
        for v in ("SCHEDFUZZ_BUGS", "SCHEDFUZZ_STRICT", "SCHEDFUZZ_NO_INVARIANTS"):
            env.pop(v, None)
        if self.mode == "strict":
            env["SCHEDFUZZ_STRICT"] = "1"
        if self.build == "asan":
            env["ASAN_OPTIONS"] = "detect_stack_use_after_return=1:symbolize=1"
        self.log = open(os.path.join(self.dir, "run%d.log" % self.seed), "w+")
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def reap(self, status, ru):
        self.cpu += ru.ru_utime + ru.ru_stime
        self.rss_kb = max(self.rss_kb, ru.ru_maxrss)
        self.log.seek(0)
        text = self.log.read()
        self.log.close()
        st = parse_stats(text)
        self.execs += st.get("number_of_executed_units", 0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            arts = sorted(os.listdir(os.path.join(self.dir, "artifacts")))
            first = next((l for l in text.splitlines() if "FINDING" in l or "ERROR" in l), "exit %d" % code)
            self.findings.append({"seed": self.seed, "exit": code, "report": first.strip(),
                                  "artifacts": arts, "log": os.path.relpath(self.log.name, ROOT)})
        self.proc = None
        return time.monotonic() - self.start < self.seconds - 1  # more time: go on with the next seed

    def result(self):
        return {"config": self.name, "target": self.target, "build": self.build, "corpus": self.corpus,
                "mode": self.mode, "seconds": self.seconds, "executions": self.execs,
                "cpu_seconds": round(self.cpu, 1), "peak_rss_mb": round(self.rss_kb / 1024, 1),
                "libfuzzer_runs": self.runs, "findings": self.findings,
                "exec_per_cpu_s": round(self.execs / self.cpu) if self.cpu else 0}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=225, help="wall seconds per configuration")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--targets", nargs="+", default=["lockosthread_fuzzer", "sched_fuzzer"])
    ap.add_argument("--builds", nargs="+", default=["plain", "asan"], choices=sorted(PRESET))
    ap.add_argument("--corpora", nargs="+", default=["empty", "shipped"], choices=["empty", "shipped"])
    ap.add_argument("--modes", nargs="+", default=["default", "strict"], choices=["default", "strict"])
    ap.add_argument("--no-build", action="store_true", help="use the existing build/fuzz and build/fuzz-asan")
    ap.add_argument("--first-seed", type=int, default=1,
                    help="libFuzzer -seed of each configuration's first run (a second soak should not repeat the first)")
    ap.add_argument("--work", default=os.path.join(ROOT, "out", "soak"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    a = ap.parse_args()
    if a.seconds < 5 or a.jobs < 1:
        ap.error("--seconds must be >= 5 and --jobs >= 1")
    if not a.no_build:
        build([PRESET[b] for b in a.builds])
    configs = [Config(t, b, c, m, a.seconds, a.work)
               for t in a.targets for b in a.builds for c in a.corpora for m in a.modes]
    for c in configs:
        c.seed = a.first_seed - 1
    for c in configs:
        if not os.access(c.binary(), os.X_OK):
            print("soak: %s: no such fuzz target (build the %s preset)" % (c.binary(), PRESET[c.build]), file=sys.stderr)
            return 2
    t0 = time.monotonic()
    queue = list(configs)
    running = {}
    while queue or running:
        while queue and len(running) < a.jobs:
            c = queue.pop(0)
            c.launch()
            running[c.proc.pid] = c
        pid, status, ru = os.wait4(-1, 0)
        c = running.pop(pid, None)
        if c is None:
            continue
        if c.reap(status, ru):
            c.launch()
            running[c.proc.pid] = c
        else:
            r = c.result()
            print("%-48s %9d execs %8.1f CPU s %6.1f MB  findings %d" %
                  (c.name, r["executions"], r["cpu_seconds"], r["peak_rss_mb"], len(r["findings"])), flush=True)
    results = [c.result() for c in configs]
    wall = time.monotonic() - t0
    doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                    text=True).stdout.strip(),
           "command": "bench/soak.py " + " ".join(sys.argv[1:]), "wall_seconds": round(wall), "jobs": a.jobs,
           "configs": results}
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "soak.json"), "w") as f:
        json.dump(doc, f, indent=1)
    os.makedirs(os.path.join(a.out, "sections"), exist_ok=True)
    with open(os.path.join(a.out, "sections", "4-soak.md"), "w") as f:
        f.write("## 4. Soak: the fixed runtime never produces a finding\n\n" + markdown(doc))
    print(markdown(doc))
    return 0


def markdown(doc):
    out = []
    out.append("Fixed runtime (no `SCHEDFUZZ_BUGS`), libFuzzer with each target's `.options`, seeds 1, 2, ... "
               "(a finding ends a libFuzzer run; the configuration goes on with the next seed). "
               "`%s` at `%s`, %s, %d jobs on 2 cores, %d s wall in all. CPU seconds and peak RSS from `wait4` of "
               "the fuzzer processes; ASan runs with `ASAN_OPTIONS=detect_stack_use_after_return=1`.\n"
               % (doc["command"], doc["commit"], doc["date"], doc["jobs"], doc["wall_seconds"]))
    out.append("| target | build | corpus | mode | executions | CPU s | exec/CPU s | peak RSS MB | findings |")
    out.append("|:--|:--|:--|:--|--:|--:|--:|--:|--:|")
    tot = {}
    for r in doc["configs"]:
        out.append("| %s | %s | %s | %s | %s | %.0f | %s | %.0f | %d |" % (
            r["target"], r["build"], r["corpus"], r["mode"], format(r["executions"], ","), r["cpu_seconds"],
            format(r["exec_per_cpu_s"], ","), r["peak_rss_mb"], len(r["findings"])))
        t = tot.setdefault(r["target"], [0, 0.0, 0])
        t[0] += r["executions"]
        t[1] += r["cpu_seconds"]
        t[2] += len(r["findings"])
    for name, (e, cpu, n) in tot.items():
        out.append("| **%s, all** | | | | **%s** | **%.0f** (%.2f CPU-h) | | | **%d** |" % (name, format(e, ","), cpu, cpu / 3600, n))
    finds = [(r["config"], f) for r in doc["configs"] for f in r["findings"]]
    if finds:
        out.append("\nFindings:\n")
        for cfg, f in finds:
            out.append("* `%s` seed %d: %s (%s)" % (cfg, f["seed"], f["report"], ", ".join(f["artifacts"]) or "no artifact"))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
