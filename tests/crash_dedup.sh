#!/bin/bash
# tests/crash_dedup.sh — crash stacks group findings the way ClusterFuzz does: one bug, one stack.
#
# Usage: tests/crash_dedup.sh BINDIR REGRESSIONS_DIR
#   BINDIR holds the libFuzzer targets of a sanitizer build (fuzz-asan preset:
#   build/fuzz-asan/fuzz/targets); REGRESSIONS_DIR is corpus/regressions.
#
# For every corpus/regressions/<bug>[-variant]/ it replays repro.bin with the
# target named by expected.txt and SCHEDFUZZ_BUGS=<bug>, and reads the
# sanitizer's "==ERROR: AddressSanitizer: ABRT" stack. Like ClusterFuzz's stack
# analyzer it drops the frames of libc (raise, abort, pthread_kill), the
# sanitizer runtime and libFuzzer, and keeps the top three. It checks:
#   * the report's "signature:" line is spelled by the top frame
#     (SCHEDFUZZ_ + signature, '/' -> "__", '-' -> '_'), then the class
#     frame and SCHEDFUZZ_finding;
#   * the reproducers of one bug switch give one top-3 stack, and different
#     switches give different ones (8 bugs, 8 stacks);
#   * the DEDUP_TOKEN line (ASAN_OPTIONS=dedup_token_length=3) is those same
#     three frames: the signal is raised in the leaf itself, so no libc frame
#     comes first (libFuzzer's -fork mode and crash dedup read this token).
# Prints one line per reproducer; exits 1 on any failure.
set -uo pipefail
bindir="${1:?usage: crash_dedup.sh BINDIR REGRESSIONS_DIR}"
regdir="${2:?usage: crash_dedup.sh BINDIR REGRESSIONS_DIR}"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_abort=1:dedup_token_length=3:symbolize=1:detect_leaks=0"
unset SCHEDFUZZ_STRICT SCHEDFUZZ_NO_INVARIANTS
fail=0
declare -A stack_of_bug bug_of_stack
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
n=0
for dir in "$regdir"/*/; do
  name="$(basename "$dir")"
  bug="${name%%-*}"
  # A bug reachable only with another switch lists them all (expected.txt line 3, "bugs: a,b").
  bugs="$(sed -n 's/^bugs: *//p' "$dir/expected.txt")"
  target="$(sed -n 's/^target: *//p' "$dir/expected.txt")_fuzzer"
  bin="$bindir/$target"
  if [ ! -x "$bin" ]; then echo "FAIL $name: no $bin"; fail=1; continue; fi
  out="$tmp/$name.log"
  SCHEDFUZZ_BUGS="${bugs:-$bug}" "$bin" "$dir/repro.bin" >"$out" 2>&1
  status=$?
  if ! grep -q "==ERROR: AddressSanitizer: ABRT" "$out"; then
    echo "FAIL $name: no ASan ABRT report (exit status $status)"; tail -5 "$out"; fail=1; continue
  fi
  sig="$(sed -n 's/^  signature: //p' "$out" | head -1)"
  token="$(sed -n 's/^DEDUP_TOKEN: //p' "$out" | head -1)"
  # Frames of the first stack after the ABRT line: "#N 0x... in FUNC FILE:LINE" or "(MODULE+0x...)".
  frames="$(awk '/==ERROR: AddressSanitizer: ABRT/{on=1; next} on && /^ *#[0-9]+ /{sub(/^.* in /, ""); sub(/ [^ ]*[\/(].*$/, ""); print; next} on && NF==0 && seen{exit} on && /^ *#/{seen=1}' "$out" |
    grep -Ev '^(raise|abort|__GI_raise|__GI_abort|__pthread_kill_implementation|__pthread_kill_internal|pthread_kill|gsignal|__sanitizer|__asan|__ubsan)|^fuzzer::|^__interceptor_|^___interceptor_|libc\.so' | head -3)"
  top3="$(echo "$frames" | paste -sd' ' -)"
  n=$((n + 1))
  printf '%-22s %-62s %s\n' "$name" "$sig" "$top3"
  want="SCHEDFUZZ_$(echo "$sig" | sed 's#/#__#g; s#-#_#g')"
  cls="SCHEDFUZZ_${sig%%/*}"
  if [ -z "$sig" ]; then echo "FAIL $name: no signature: line in the report"; fail=1; fi
  if [ "$top3" != "$want $cls SCHEDFUZZ_finding" ]; then
    echo "FAIL $name: top frames '$top3', expected '$want $cls SCHEDFUZZ_finding'"; fail=1
  fi
  if [ "$token" != "$(echo "$frames" | paste -sd'\n' - | sed ':a;N;$!ba;s/\n/--/g')" ]; then
    echo "FAIL $name: DEDUP_TOKEN '$token' is not the top three frames"; fail=1
  fi
  if [ -n "${stack_of_bug[$bug]:-}" ] && [ "${stack_of_bug[$bug]}" != "$top3" ]; then
    echo "FAIL $name: bug $bug crashed with two stacks: '${stack_of_bug[$bug]}' and '$top3'"; fail=1
  fi
  stack_of_bug[$bug]="$top3"
  if [ -n "${bug_of_stack[$top3]:-}" ] && [ "${bug_of_stack[$top3]}" != "$bug" ]; then
    echo "FAIL $name: bugs ${bug_of_stack[$top3]} and $bug share the stack '$top3'"; fail=1
  fi
  bug_of_stack[$top3]="$bug"
done
echo "$n reproducers, ${#stack_of_bug[@]} bug switches, ${#bug_of_stack[@]} distinct top-3 stacks"
if [ "$n" -eq 0 ]; then echo "FAIL: no reproducers in $regdir"; fail=1; fi
if [ "${#stack_of_bug[@]}" -ne "${#bug_of_stack[@]}" ]; then fail=1; fi
[ $fail -eq 0 ] && echo "crash-dedup: PASS" || echo "crash-dedup: FAIL"
exit $fail
