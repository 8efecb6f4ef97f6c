#!/bin/bash
# scripts/realgo.sh FINDING [flags] — reproduce a schedfuzz finding on the real Go runtime (realgo/README.md).
#
# 1. Installs Debian's golang-1.19-go if it is missing (apt-get, as root).
# 2. Copies its GOROOT twice under build/realgo/ (never touching the system Go):
#    goroot-fixed = realgo/patches/0001 (the schedule hook) + realgo/go/schedfuzz.go;
#    goroot-bug   = the same + the bug patches that --bugs names (issue38931: 0002,
#    the revert of 11b3730a).
# 3. Exports FINDING (schedfuzz-export --go: main.go and the GOSCHEDFUZZ knob) and
#    builds the program with each GOROOT.
# 4. Runs it --runs times in each configuration (bug + knob, bug without knob,
#    fixed + knob: the control), --jobs at a time, each under a --timeout; a run
#    killed by the timeout is a hang, a non-zero exit other than that a crash.
#    A run whose stderr has "GOSCHEDFUZZ: timeout" did not follow the schedule; exit
#    status 3 with "TAINT: " is the thread-taint oracle of a silent bug (export.cpp).
# 5. Prints hang and crash rates with 95% Wilson intervals and the median time per
#    run, then reruns bug + knob with GOTRACEBACK=crash GODEBUG=schedtrace,scheddetail
#    until a hang (at most 10 tries), keeps its scheduler dump, and checks that it
#    shows the state the finding's signature names (stall/P-in-transit: #38931); for
#    an oracle/ signature it shows the TAINT lines instead.
#
# Exit status: 0 done (whatever the rates), 1 the dump check failed, 2 usage or build error.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/realgo.sh FINDING [--runs N] [--bugs LIST] [--timeout S] [--jobs J]
                         [--target T] [--out DIR] [--knob KNOB] [--skip-control] [--no-dump]
       scripts/realgo.sh --help

Reproduces FINDING (a schedfuzz reproducer: text form, or binary with --target) on
Debian's Go 1.19 runtime, patched with schedfuzz's schedule hook (GOSCHEDFUZZ) in a
copy of its GOROOT under build/realgo/, with and without the knob that
schedfuzz-export --go derives from the finding, and on the runtime with the fix (the
control). Prints one line per configuration:

  <config>: runs=N ok=.. hang=.. crash=.. taint=.. hang-rate=..% (95% CI lo-hi%) crash-rate=..%
            taint-rate=..% schedule-not-followed=.. median-run=.. ms

(taint: exit status 3 and "TAINT: ..." from the thread-taint oracle that the export adds
for a silent bug's finding; crash: any other failing exit)

  --runs N        runs per configuration (default 20)
  --bugs LIST     bug switches of the finding, also the Go patches applied (default issue38931;
                  also issue20676, issue20395, issue28979)
  --timeout S     seconds before a run counts as a hang (default 2)
  --jobs J        runs at a time (default 4: a hung run is idle)
  --target T      target of a binary FINDING (lockosthread, sched or world)
  --out DIR       work directory (default build/realgo/<finding name>)
  --knob KNOB     run with this GOSCHEDFUZZ instead of the exported one (e.g. an ablation)
  --skip-control  do not run the fixed runtime
  --no-dump       do not capture a scheduler dump of a hang
EOF
}

die() { echo "realgo.sh: $*" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KNOBFLAG="" FINDING="" RUNS=20 BUGS=issue38931 TIMEOUT=2 JOBS=4 TARGET="" OUT="" CONTROL=1 DUMP=1
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --runs) RUNS=${2:?--runs needs N}; shift ;;
    --runs=*) RUNS=${1#*=} ;;
    --bugs) BUGS=${2?--bugs needs LIST}; shift ;;
    --bugs=*) BUGS=${1#*=} ;;
    --timeout) TIMEOUT=${2:?--timeout needs S}; shift ;;
    --timeout=*) TIMEOUT=${1#*=} ;;
    --jobs) JOBS=${2:?--jobs needs J}; shift ;;
    --jobs=*) JOBS=${1#*=} ;;
    --target) TARGET=${2:?--target needs T}; shift ;;
    --target=*) TARGET=${1#*=} ;;
    --out) OUT=${2:?--out needs DIR}; shift ;;
    --out=*) OUT=${1#*=} ;;
    --knob) KNOBFLAG=${2:?--knob needs KNOB}; shift ;;
    --knob=*) KNOBFLAG=${1#*=} ;;
    --skip-control) CONTROL=0 ;;
    --no-dump) DUMP=0 ;;
    -*) die "$1: unknown flag (see --help)" ;;
    *) [ -z "$FINDING" ] || die "$1: expected one FINDING, found a second (see --help)"; FINDING=$1 ;;
  esac
  shift
done
[ -n "$FINDING" ] || die "expected a FINDING (see --help)"
[ -f "$FINDING" ] || die "$FINDING: no such file"
[[ "$RUNS" =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 1 ] || die "--runs=$RUNS: expected a whole number >= 1"
[[ "$JOBS" =~ ^[0-9]+$ ]] && [ "$JOBS" -ge 1 ] || die "--jobs=$JOBS: expected a whole number >= 1"
[[ "$TIMEOUT" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--timeout=$TIMEOUT: expected seconds, e.g. 2 or 1.5"

# Bug switch -> Go patch. Switches without one cannot be reproduced on the real runtime.
declare -A GOPATCH=([issue38931]=0002-issue38931-revert-11b3730a.patch
                    [issue20676]=0003-issue20676-newm-clones-locked-thread.patch
                    [issue20395]=0004-issue20395-locked-exit-reuses-thread.patch
                    [issue28979]=0005-issue28979-locked-exit-clears-lockedExt.patch)
PATCHES=()
IFS=, read -ra BUGLIST <<<"$BUGS"
for b in "${BUGLIST[@]}"; do
  [ -n "$b" ] || continue
  [ -n "${GOPATCH[$b]:-}" ] || die "--bugs: $b has no Go patch (have: ${!GOPATCH[*]})"
  PATCHES+=("${GOPATCH[$b]}")
done

# 1. Go.
SYSGO=/usr/lib/go-1.19
if [ ! -x $SYSGO/bin/go ]; then
  [ "$(id -u)" = 0 ] || die "golang-1.19-go is missing and installing it needs root"
  echo "realgo.sh: installing golang-1.19-go" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-1.19-go >&2
fi
GOVERSION=$(cat $SYSGO/VERSION)

# 2. The GOROOT copies (rebuilt when a patch or the hook changes).
BASE=$ROOT/build/realgo
mkdir -p "$BASE"
makeroot() {  # makeroot NAME PATCH...
  local name=$1; shift
  local dir=$BASE/goroot-$name
  local stamp
  stamp=$(cat "$ROOT/realgo/patches/0001-schedfuzz-hook.patch" "$ROOT/realgo/go/schedfuzz.go" \
            $(for p in "$@"; do echo "$ROOT/realgo/patches/$p"; done) | sha1sum | cut -c1-16)
  if [ -f "$dir/.schedfuzz-stamp" ] && [ "$(cat "$dir/.schedfuzz-stamp")" = "$GOVERSION $stamp" ]; then return; fi
  rm -rf "$dir"
  mkdir -p "$dir"
  cp -a $SYSGO/VERSION $SYSGO/bin "$dir/"
  cp -aL $SYSGO/src "$dir/src"           # src is a symlink into /usr/share: copy the files
  ln -s $SYSGO/pkg "$dir/pkg"            # the toolchain (compile, link): used as is, read-only
  chmod -R u+w "$dir/src/runtime"
  (cd "$dir" && patch -p1 -s --no-backup-if-mismatch < "$ROOT/realgo/patches/0001-schedfuzz-hook.patch") ||
    die "realgo/patches/0001-schedfuzz-hook.patch does not apply to $GOVERSION"
  cp "$ROOT/realgo/go/schedfuzz.go" "$dir/src/runtime/schedfuzz.go"
  for p in "$@"; do
    (cd "$dir" && patch -p1 -s --no-backup-if-mismatch < "$ROOT/realgo/patches/$p") || die "realgo/patches/$p does not apply"
  done
  echo "$GOVERSION $stamp" > "$dir/.schedfuzz-stamp"
}
makeroot fixed
makeroot bug "${PATCHES[@]}"

# 3. Export and build.
EXPORT=$ROOT/build/default/fuzz/tools/schedfuzz-export
if [ ! -x "$EXPORT" ] || [ "$ROOT/fuzz/tools/export.cpp" -nt "$EXPORT" ]; then
  (cd "$ROOT" && { [ -f build/default/build.ninja ] || [ -f build/default/Makefile ] || cmake --preset default >&2; } &&
     cmake --build build/default -j2 --target schedfuzz-export >&2) || die "cannot build schedfuzz-export"
fi
NAME=$(basename "$(dirname "$(realpath "$FINDING")")")-$(basename "$FINDING" | sed 's/\.[a-z]*$//')
WORK=${OUT:-$BASE/$NAME}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)   # the go build runs in $WORK/src
TARGETFLAG=()
[ -z "$TARGET" ] || TARGETFLAG=(--target="$TARGET")
"$EXPORT" --go --bugs="$BUGS" "${TARGETFLAG[@]}" --dir="$WORK/src" "$FINDING" > "$WORK/export.txt" 2> "$WORK/export-notes.txt" ||
  { cat "$WORK/export-notes.txt" >&2; die "schedfuzz-export failed"; }
KNOB=$(cat "$WORK/src/knob.txt")
[ -z "$KNOBFLAG" ] || KNOB=$KNOBFLAG
NPROCS=$(cat "$WORK/src/gomaxprocs.txt")
for v in fixed bug; do
  (cd "$WORK/src" && GOROOT=$BASE/goroot-$v GOCACHE=$BASE/gocache-$v GOPATH=$BASE/gopath GOFLAGS=-mod=mod GOPROXY=off \
     GOTOOLCHAIN=local "$BASE/goroot-$v/bin/go" build -o "$WORK/prog-$v" .) >&2 || die "go build with goroot-$v failed"
done

echo "realgo: $FINDING (bugs $BUGS) on $GOVERSION, GOMAXPROCS=$NPROCS, $RUNS runs per configuration," \
     "timeout ${TIMEOUT}s, $JOBS at a time"
echo "realgo: GOSCHEDFUZZ=$KNOB"
sed 's/^schedfuzz-export: /realgo: export /' "$WORK/export-notes.txt"

# 4. One run: prints "<status> <ms> <followed>" (status ok|hang|crash).
cat > "$WORK/run1.sh" <<'EOF'
#!/bin/bash
# run1.sh PROG KNOB TIMEOUT ERRFILE
t0=$(date +%s%N)
set +e
GOSCHEDFUZZ="$2" timeout --foreground -s KILL "$3" "$1" > /dev/null 2> "$4"
rc=$?
t1=$(date +%s%N)
case $rc in 0) st=ok ;; 124|137) st=hang ;; *) st=crash ;; esac
[ $rc = 3 ] && grep -q "^TAINT: " "$4" && st=taint
f=1; grep -q "^GOSCHEDFUZZ: timeout" "$4" && f=0
echo "$st $(( (t1 - t0) / 1000000 )) $f $rc"
EOF
chmod +x "$WORK/run1.sh"

wilson() {  # wilson K N -> "rate% (95% CI lo-hi%)"
  python3 -c "
import math,sys
k,n=int(sys.argv[1]),int(sys.argv[2]); z=1.959964
p=k/n; d=1+z*z/n; c=(p+z*z/(2*n))/d; h=z*math.sqrt(p*(1-p)/n+z*z/(4*n*n))/d
print('%.1f%% (95%% CI %.1f-%.1f%%)'%(100*p,100*max(0,c-h),100*min(1,c+h)))" "$1" "$2"
}

runconfig() {  # runconfig LABEL PROG KNOB
  local label=$1 prog=$2 knob=$3 res=$WORK/runs-$1.txt
  mkdir -p "$WORK/err-$label"
  seq "$RUNS" | GOMAXPROCS=$NPROCS xargs -P "$JOBS" -I{} "$WORK/run1.sh" "$prog" "$knob" "$TIMEOUT" \
    "$WORK/err-$label/{}.txt" > "$res"
  local ok hang crash taint nf med
  ok=$(grep -c '^ok ' "$res" || true); hang=$(grep -c '^hang ' "$res" || true); crash=$(grep -c '^crash ' "$res" || true)
  taint=$(grep -c '^taint ' "$res" || true)
  nf=$(awk '$3==0' "$res" | wc -l)
  med=$(awk '{print $2}' "$res" | sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}')
  printf '%s: runs=%d ok=%d hang=%d crash=%d taint=%d hang-rate=%s crash-rate=%s taint-rate=%s schedule-not-followed=%d median-run=%s ms\n' \
    "$label" "$RUNS" "$ok" "$hang" "$crash" "$taint" "$(wilson "$hang" "$RUNS")" "$(wilson "$crash" "$RUNS")" \
    "$(wilson "$taint" "$RUNS")" "$nf" "$med"
}

# 5. The rates.
runconfig bug+knob "$WORK/prog-bug" "$KNOB"
runconfig bug-noknob "$WORK/prog-bug" ""
[ "$CONTROL" = 0 ] || runconfig fixed+knob "$WORK/prog-fixed" "$KNOB"

# 6. A scheduler dump of a hang, checked against the finding's signature.
[ "$DUMP" = 1 ] || exit 0
SIG=$("$ROOT/build/default/fuzz/tools/schedfuzz-replay" --bugs="$BUGS" "${TARGETFLAG[@]}" "$FINDING" 2>/dev/null |
        sed -n 's/^  signature: //p' | head -1 || true)
if [[ "$SIG" == oracle/* ]]; then
  # A silent bug: the program's thread-taint oracle is the evidence, not a hang.
  t=$(grep -h '^TAINT: ' "$WORK"/err-bug+knob/*.txt 2>/dev/null | sort | uniq -c | sort -rn | head -3 || true)
  if [ -n "$t" ]; then echo "realgo: the oracle fired ($SIG):"; echo "$t" | sed 's/^/  | /'
  else echo "realgo: the oracle never fired with the knob ($SIG)"; exit 1; fi
  exit 0
fi
DUMPF=$WORK/hang-dump.txt
got=0
for try in $(seq 10); do
  set +e
  GOMAXPROCS=$NPROCS GOTRACEBACK=crash GODEBUG=schedtrace=100,scheddetail=1 GOSCHEDFUZZ="$KNOB" \
    timeout --foreground -s QUIT -k 2 "$TIMEOUT" "$WORK/prog-bug" > "$DUMPF" 2>&1
  rc=$?
  set -e
  if [ $rc = 124 ] || [ $rc = 137 ]; then got=1; break; fi
done
if [ $got = 0 ]; then echo "realgo: dump: no hang in 10 tries"; exit 0; fi
# The last detailed SCHED block before the SIGQUIT traceback that the crash itself did not
# print after freezetheworld (stopwait=0x7fffffff).
awk '/^SIGQUIT/{exit}
     /^SCHED /{ if (blk != "" && hdr !~ /stopwait=2147483647/) good = blk; blk = ""; hdr = $0 }
     { blk = blk $0 "\n" }
     END { if (hdr !~ /stopwait=2147483647/) good = blk; printf "%s", good }' "$DUMPF" > "$WORK/hang-sched.txt"
echo "realgo: dump of a hang (try $try): $DUMPF; its last scheduler state:"
grep -v ': status=4' "$WORK/hang-sched.txt" | sed 's/^/  | /' | head -30
case "$SIG" in
  stall/P-in-transit)
    S=$WORK/hang-sched.txt fail=0
    check() { if eval "$2"; then echo "realgo: check ok:   $1"; else echo "realgo: check FAIL: $1"; fail=1; fi; }
    if grep -q 'runtime.ReadMemStats\|runtime.GOMAXPROCS([1-9]' "$WORK/src/main.go"; then  # the program stops the world
      check "stop-the-world pending (gcwaiting=1, stopwait>=1)" \
        "grep -qE '^SCHED .*gcwaiting=1 .*stopwait=[1-9]' $S"
    fi
    check "a P _Pidle that no M holds (status=0 m=-1): the P in transit" \
      "grep -qE '^  P[0-9]+: status=0 .* m=-1 ' $S"
    check "an M queued on newmHandoff with haveTemplateThread=1 (no template thread to create it)" \
      "grep -qE '^  newmHandoff: haveTemplateThread=1 .*newm=\[ M[0-9]+' $S"
    check "the template thread's creator runnable in newm under startTemplateThread" \
      "awk '/^goroutine [0-9]+ \\[runnable/{g=NR} g && NR==g+1 && /^runtime.newm\\(/{n=NR} n && NR==n+2 && /^runtime.startTemplateThread\\(/{f=1} END{exit !f}' $DUMPF"
    [ $fail = 0 ] && echo "realgo: the dump shows the finding's state ($SIG)" || { echo "realgo: the dump does NOT show $SIG"; exit 1; }
    ;;
  *) echo "realgo: no dump check for signature '${SIG:-none}'" ;;
esac
