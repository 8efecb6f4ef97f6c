#!/bin/bash
# corpus/build_seeds.sh [--check] — encode the readable programs of corpus/ into the binary form.
#
#   corpus/<target>/<name>.txt          seed source (text form)   -> corpus/<target>/<name>
#                                        (<target>: lockosthread_fuzzer, sched_fuzzer, world_fuzzer)
#   corpus/regressions/<dir>/repro.txt  reproducer (text form)    -> corpus/regressions/<dir>/repro.bin
#                                        (alphabet from expected.txt's "target: lockosthread|sched|world" line)
#
# Layout: a seed's binary is a top-level regular file without an extension, its
# source sits beside it as <name>.txt. That is the layout every consumer of
# corpus/<target>/ already uses: oss-fuzz/build.sh zips corpus/<t>/* minus *.txt
# (flat, checked by oss-fuzz/check_local.sh), scripts/fuzz.sh copies the same
# set into its working corpus, and fuzz/targets/CMakeLists.txt replays
# corpus/<t>/* minus *.txt as the ctest corpus.<t> (a subdirectory there would be
# handed to the replay main, which would run its .txt files as binary inputs).
#
# The encoder below follows docs/schedule-format.md ("Binary form v1") and
# fuzz/program.cpp's encode(): header = gomaxprocs-1 | (nscripts-1)<<2 | walk<<4;
# per script a length byte and one byte per op (selector = the op's first index
# in the target's alphabet | arg<<4); then two bytes per choice (delay, then
# target, or 0x80 for preempt). Without choices, trailing empty scripts get no
# length byte. tests/corpus_test.cpp and tests/regressions_test.cpp check that
# decode(binary) == parseText(source) for every file, so a format change that
# this encoder misses fails the tests instead of going unnoticed.
#
# --check also replays every seed with build-h8's (or $SCHEDFUZZ_TOOLS')
# schedfuzz-replay on the fixed runtime and under every single bug switch, and
# fails if any seed is a finding: seeds exercise the protocol but must contain
# no bug reproducer (the fuzzer has to rediscover each bug on its own).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

python3 - <<'EOF'
import os, re, sys

OPS = ["lock", "unlock", "gosched", "go", "newm", "stw", "syscall", "exit", "spin",
       "gomaxprocs", "syscallblock", "wait", "signal", "sleep", "nanosleep", "syscallwait", "gc", "exec"]
HAS_ARG = {"go", "syscall", "spin", "gomaxprocs", "syscallblock", "wait", "signal", "sleep", "nanosleep", "syscallwait"}
ALPHABETS = {
    "lockosthread": ["lock", "unlock", "gosched", "newm", "stw", "exit", "spin"],
    "sched": OPS[:15],
    "world": ["lock", "unlock", "gosched", "go", "newm", "stw", "syscall", "exit", "spin",
              "gomaxprocs", "wait", "signal", "nanosleep", "syscallwait", "gc", "exec"],
}
TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|([0-9]+)|(->|[:()+]))")

def fail(path, line, msg):
    sys.exit(f"build_seeds.sh: {path}:{line}: {msg}")

def parse(path):
    gomaxprocs, walk, scripts, choices = 1, 0, [], []
    in_choices = False
    text = open(path, encoding="utf-8").read()
    if not text.startswith("# schedfuzz program"):
        fail(path, 1, "expected the header line '# schedfuzz program v1'")
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r").split("#", 1)[0].strip()
        if not line:
            continue
        toks, pos = [], 0
        while pos < len(line):
            m = TOKEN.match(line, pos)
            if not m or m.end() == pos:
                fail(path, n, f"unexpected text at column {pos + 1}")
            toks.append(m.group(m.lastindex))
            pos = m.end()
        head = toks[0]
        if head == "gomaxprocs":
            gomaxprocs = int(toks[1])
            if not 1 <= gomaxprocs <= 4 or len(toks) != 2: fail(path, n, "gomaxprocs 1..4")
        elif head == "walk":
            walk = int(toks[1])
            if not 0 <= walk <= 15 or len(toks) != 2: fail(path, n, "walk 0..15")
        elif re.fullmatch(r"g[0-9]+", head):
            if int(head[1:]) != len(scripts) or len(scripts) == 4 or toks[1:2] != [":"]:
                fail(path, n, f"expected script g{len(scripts)}:")
            ops, i = [], 2
            while i < len(toks):
                name = toks[i]
                if name not in OPS: fail(path, n, f"unknown op '{name}'")
                arg = 0
                if i + 1 < len(toks) and toks[i + 1] == "(":
                    if name not in HAS_ARG: fail(path, n, f"'{name}' takes no argument")
                    arg = int(toks[i + 2])
                    if not 0 <= arg <= 15 or toks[i + 3] != ")": fail(path, n, "argument 0..15")
                    i += 3
                ops.append((name, arg))
                i += 1
            if len(ops) > 16: fail(path, n, "at most 16 ops in a script")
            scripts.append(ops)
        elif head == "choices" or (in_choices and head in ("switch", "preempt")):
            i = 2 if head == "choices" else 0
            in_choices = True
            while i < len(toks):
                kind, plus, delay = toks[i:i + 3]
                if kind not in ("switch", "preempt") or plus != "+" or not 0 <= int(delay) <= 255:
                    fail(path, n, "expected 'switch+D->tN' or 'preempt+D'")
                if kind == "switch":
                    arrow, t = toks[i + 3:i + 5]
                    if arrow != "->" or not re.fullmatch(r"t[0-9]+", t) or int(t[1:]) > 15:
                        fail(path, n, "expected 'switch+D->tN' with N 0..15")
                    choices.append((int(delay), int(t[1:])))
                    i += 5
                else:
                    choices.append((int(delay), None))
                    i += 3
        else:
            fail(path, n, f"unexpected '{head}'")
    if not scripts: fail(path, 1, "no script line 'g0:'")
    if len(choices) > 256: fail(path, 1, "at most 256 choices")
    return gomaxprocs, walk, scripts, choices

def encode(prog, alphabet, path):
    gomaxprocs, walk, scripts, choices = prog
    ops = ALPHABETS[alphabet]
    bodies = []
    for k, s in enumerate(scripts):
        body = []
        for name, arg in s:
            if name not in ops: fail(path, 1, f"g{k}: '{name}' is not in the {alphabet} alphabet")
            body.append(ops.index(name) | ((arg if name in HAS_ARG else 0) << 4))
        bodies.append(body)
    written = len(bodies)
    if not choices:
        while written > 0 and not bodies[written - 1]:
            written -= 1
    out = bytearray([(gomaxprocs - 1) | ((len(scripts) - 1) << 2) | (walk << 4)])
    for body in bodies[:written]:
        out.append(len(body))
        out += bytes(body)
    for delay, target in choices:
        out += bytes([delay, 0x80 if target is None else target])
    return bytes(out)

def write(path, data):
    old = open(path, "rb").read() if os.path.exists(path) else None
    if old != data:
        open(path, "wb").write(data)
        print(f"wrote {path} ({len(data)} bytes)")

count = 0
for target_dir, alphabet in (("lockosthread_fuzzer", "lockosthread"), ("sched_fuzzer", "sched"), ("world_fuzzer", "world")):
    if not os.path.isdir(target_dir):
        continue
    for name in sorted(os.listdir(target_dir)):
        if name.endswith(".txt"):
            src = os.path.join(target_dir, name)
            write(src[:-4], encode(parse(src), alphabet, src))
            count += 1
for d in sorted(os.listdir("regressions")):
    src = os.path.join("regressions", d, "repro.txt")
    exp = os.path.join("regressions", d, "expected.txt")
    if not os.path.exists(src):
        continue
    lines = open(exp).read().split("\n")
    m = re.fullmatch(r"target: (lockosthread|sched|world)", lines[1] if len(lines) > 1 else "")
    if not m: fail(exp, 2, "expected 'target: lockosthread|sched|world'")
    write(os.path.join("regressions", d, "repro.bin"), encode(parse(src), m.group(1), src))
    count += 1
print(f"build_seeds.sh: {count} programs encoded")
EOF

if [ "${1:-}" = "--check" ]; then
  tools="${SCHEDFUZZ_TOOLS:-../build-h8/fuzz/tools}"
  replay="$tools/schedfuzz-replay"
  [ -x "$replay" ] || { echo "build_seeds.sh: no $replay (set SCHEDFUZZ_TOOLS)" >&2; exit 2; }
  # The --bugs line of --help lists every switch (it may wrap): "one of: issue38931 ... issue6070".
  bugs=$("$replay" --help | tr -s ' \n' '  ' | sed 's/.*; one of: \([a-z0-9 ]*\) .*/\1/')
  bad=0
  for t in lockosthread_fuzzer sched_fuzzer world_fuzzer; do
    for f in "$t"/*; do
      [ -f "$f" ] || continue
      case "$f" in *.txt) continue ;; esac
      for b in "" $bugs; do
        if ! out=$("$replay" --quiet --target="$t" --bugs="$b" "$f"); then
          echo "build_seeds.sh: FINDING with bugs='${b:-none}': $out" >&2
          bad=1
        fi
      done
    done
  done
  [ "$bad" = 0 ] && echo "build_seeds.sh: every seed is ok on the fixed runtime and under each of: $bugs"
  exit "$bad"
fi
