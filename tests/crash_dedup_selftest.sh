#!/bin/bash
# tests/crash_dedup_selftest.sh — tests/crash_dedup.sh can fail: it is run on canned sanitizer reports.
#
# A fake lockosthread_fuzzer prints an ASan ABRT report whose frames come from
# the environment (FAKE_STACK_<bug>), so each case below decides what the
# "crash" looks like: distinct stacks per bug (pass), two bugs sharing one
# (fail), one bug with two (fail), a leaf that does not spell the signature
# (fail), and libc frames above the leaf with a DEDUP_TOKEN of libc frames
# (fail: the token must be the signature's frames).
set -uo pipefail
ulimit -c 0 2>/dev/null || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
cat >"$tmp/bin/lockosthread_fuzzer" <<'FAKE'
#!/bin/bash
var="FAKE_STACK_${SCHEDFUZZ_BUGS}"; stack="${!var}"
dvar="FAKE_STACK_DIR_$(basename "$(dirname "$1")" | tr - _)"; stack="${!dvar:-$stack}"
sigvar="FAKE_SIG_${SCHEDFUZZ_BUGS}"; sig="${!sigvar}"
echo "==schedfuzz== FINDING: fake"
echo "  signature: $sig"
echo "==1==ERROR: AddressSanitizer: ABRT on unknown address 0x000000000001 (pc 0x1 bp 0x1 sp 0x1 T0)"
i=0; top=()
for f in $stack; do echo "    #$i 0x55 in $f /src/x.cpp:1:1"; i=$((i + 1)); done
echo "    #$i 0x55 in schedfuzz::targetRun(schedfuzz::TargetSpec const&, unsigned char const*, unsigned long) /src/target.cpp:56:3"
echo "    #$((i + 1)) 0x55 in fuzzer::Fuzzer::ExecuteCallback(unsigned char const*, unsigned long) (/bin/x+0xd1373)"
echo
tokvar="FAKE_TOKEN_${SCHEDFUZZ_BUGS}"; echo "DEDUP_TOKEN: ${!tokvar}"
exit 1
FAKE
chmod +x "$tmp/bin/lockosthread_fuzzer"
for b in bugA-x bugA-y bugB; do
  mkdir -p "$tmp/reg/$b"; printf 'hang: fake\ntarget: lockosthread\n' >"$tmp/reg/$b/expected.txt"; : >"$tmp/reg/$b/repro.bin"
done
ok() {  # ok <bugA leaf> <bugB leaf> [libc]: sets FAKE_* for both bugs
  local pre="${3:-}"
  export FAKE_SIG_bugA="stall/$1" FAKE_SIG_bugB="stall/$2"
  local la="SCHEDFUZZ_stall__${1//-/_}" lb="SCHEDFUZZ_stall__${2//-/_}"
  export FAKE_STACK_bugA="$pre $la SCHEDFUZZ_stall SCHEDFUZZ_finding" FAKE_STACK_bugB="$pre $lb SCHEDFUZZ_stall SCHEDFUZZ_finding"
  if [ -n "$pre" ]; then
    export FAKE_TOKEN_bugA="raise--abort--$la" FAKE_TOKEN_bugB="raise--abort--$lb"
  else
    export FAKE_TOKEN_bugA="$la--SCHEDFUZZ_stall--SCHEDFUZZ_finding" FAKE_TOKEN_bugB="$lb--SCHEDFUZZ_stall--SCHEDFUZZ_finding"
  fi
}
fail=0
expect() {  # expect <exit status> <grep pattern> <case name>
  local out status
  out="$("$here/crash_dedup.sh" "$tmp/bin" "$tmp/reg" 2>&1)"; status=$?
  if [ "$status" -ne "$1" ] || ! grep -q -- "$2" <<<"$out"; then
    echo "SELFTEST FAIL: $3: exit $status, expected $1 and /$2/ in:"; echo "$out"; fail=1
  else
    echo "ok: $3"
  fi
}
ok P-in-transit P-orphaned;                      expect 0 "crash-dedup: PASS" "distinct stacks pass"
ok P-in-transit P-in-transit;                    expect 1 "share the stack" "two bugs, one stack"
ok P-in-transit P-orphaned raise;                expect 1 "DEDUP_TOKEN" "libc frames in the token"
ok P-in-transit P-orphaned; export FAKE_SIG_bugB="stall/P-reserved"
                                                 expect 1 "top frames" "leaf does not spell the signature"
ok P-in-transit P-orphaned; export FAKE_STACK_DIR_bugA_y="SCHEDFUZZ_stall__P_in_transit SCHEDFUZZ_budget SCHEDFUZZ_finding"
                                                 expect 1 "two stacks" "one bug, two stacks"
unset FAKE_STACK_DIR_bugA_y
ok P-in-transit P-orphaned
mv "$tmp/reg/bugA-y" "$tmp/reg/bugB-y"           # bugB now has two reproducers, with bugB's stack
export FAKE_STACK_bugB="SCHEDFUZZ_stall__P_orphaned SCHEDFUZZ_stall SCHEDFUZZ_finding"
expect 0 "crash-dedup: PASS" "one bug, two reproducers, one stack"
exit $fail
