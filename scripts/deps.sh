# scripts/deps.sh — sourced by scripts/*.sh and .ci/run: the Debian 12 packages this
# project needs, and ensure_deps, which installs the missing ones (apt-get, as root)
# and does nothing, quickly, when all are present.
#
#   build-essential g++ cmake ninja-build   the default (g++) preset
#   clang-14 llvm-14 libclang-rt-14-dev      clang presets, libFuzzer, ASan/UBSan/TSan runtimes,
#                                           llvm-symbolizer, llvm-profdata-14/llvm-cov-14 (coverage)
#   libgtest-dev nlohmann-json3-dev         the GoogleTest suite; JSON checks in the tests (find_package(nlohmann_json))
#   libc++-14-dev libc++abi-14-dev          OSS-Fuzz-style libc++ builds (oss-fuzz/check_local.sh)
#   zip unzip file binutils python3         seed corpus zips, check_build's checks, test tools
#   python3-yaml                            oss-fuzz/check_local.sh validates the ClusterFuzzLite workflows
# libbenchmark-dev is added only when SCHEDFUZZ_BENCH=ON is wanted (SCHEDFUZZ_WITH_BENCH=1).
SCHEDFUZZ_PACKAGES=(build-essential g++ cmake ninja-build clang-14 llvm-14 libclang-rt-14-dev
                    libgtest-dev nlohmann-json3-dev libc++-14-dev libc++abi-14-dev zip unzip file binutils python3 python3-yaml)
if [ "${SCHEDFUZZ_WITH_BENCH:-0}" = 1 ]; then SCHEDFUZZ_PACKAGES+=(libbenchmark-dev); fi

# ensure_deps [package...]: default = all of SCHEDFUZZ_PACKAGES.
ensure_deps() {
  local want=("$@") missing=() p
  [ ${#want[@]} -eq 0 ] && want=("${SCHEDFUZZ_PACKAGES[@]}")
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -qx "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  echo "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
