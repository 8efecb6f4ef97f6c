#!/bin/bash
# oss-fuzz/render.sh — writes projects/schedfuzz/ (project.yaml, Dockerfile, build.sh) for a pull request to google/oss-fuzz.
#
#   oss-fuzz/render.sh --repo URL --contact EMAIL [--cc EMAIL]... [--homepage URL] [--out DIR]
#
# Values come from oss-fuzz/project.env (or $SCHEDFUZZ_PROJECT_ENV), overridden by the options. The output
# is DIR/projects/schedfuzz/ (DIR defaults to ./oss-fuzz-submission); copy that
# directory into a google/oss-fuzz checkout and open the PR from there.
#   project.yaml  from oss-fuzz/project.yaml.in  (homepage, main_repo, primary_contact, auto_ccs)
#   Dockerfile    from oss-fuzz/Dockerfile.in    (git clone of --repo)
#   build.sh      oss-fuzz/build.sh, byte for byte
# Exits 2, writing nothing, on a missing or malformed value.
set -euo pipefail
# Copyright 2026 The schedfuzz Authors. Licensed under the Apache License, Version 2.0,
# http://www.apache.org/licenses/LICENSE-2.0 (LICENSE). SPDX-License-Identifier: Apache-2.0

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT=schedfuzz

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}
die() {  # die <message>: a usage error
  echo "render.sh: $*" >&2
  echo "usage: oss-fuzz/render.sh --repo URL --contact EMAIL [--cc EMAIL]... [--homepage URL] [--out DIR]  (--help for more)" >&2
  exit 2
}

# SCHEDFUZZ_PROJECT_ENV: another values file (check_local.sh uses /dev/null to test
# the command line alone).
# shellcheck source=project.env
source "${SCHEDFUZZ_PROJECT_ENV:-$HERE/project.env}"
repo="${SCHEDFUZZ_REPO:-}"
homepage="${SCHEDFUZZ_HOMEPAGE:-}"
contact="${SCHEDFUZZ_CONTACT:-}"
read -r -a ccs <<<"${SCHEDFUZZ_AUTO_CCS:-}"
out="oss-fuzz-submission"

while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --repo|--contact|--cc|--homepage|--out)
      [ $# -ge 2 ] && [ -n "$2" ] && [[ "$2" != --* ]] || die "$1 needs a value"
      case "$1" in
        --repo) repo="$2" ;;
        --contact) contact="$2" ;;
        --cc) ccs+=("$2") ;;
        --homepage) homepage="$2" ;;
        --out) out="$2" ;;
      esac
      shift 2 ;;
    --repo=*|--contact=*|--cc=*|--homepage=*|--out=*)
      v="${1#*=}"; [ -n "$v" ] || die "${1%%=*} needs a value"
      case "$1" in
        --repo=*) repo="$v" ;;
        --contact=*) contact="$v" ;;
        --cc=*) ccs+=("$v") ;;
        --homepage=*) homepage="$v" ;;
        --out=*) out="$v" ;;
      esac
      shift ;;
    *) die "unknown argument '$1'" ;;
  esac
done

[ -n "$repo" ] || die "no repository: give --repo URL (or set SCHEDFUZZ_REPO in oss-fuzz/project.env)"
[ -n "$contact" ] || die "no contact: give --contact EMAIL (or set SCHEDFUZZ_CONTACT in oss-fuzz/project.env)"
[ -n "$homepage" ] || homepage="$repo"

# OSS-Fuzz clones main_repo anonymously over https; anything else (ssh, a local
# path, credentials in the URL, spaces or quotes that would break the YAML or the
# Dockerfile line) is refused here rather than at OSS-Fuzz's build.
url_re='^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%+-]+)+/?$'
[[ "$repo" =~ $url_re ]] || die "--repo '$repo' is not an https:// URL of a repository (https://HOST/PATH, no credentials, spaces or quotes)"
[[ "$homepage" =~ $url_re ]] || die "--homepage '$homepage' is not an https:// URL"
case "$repo" in *TODO*|*placeholder*|*example.com*|*example.org*) die "--repo '$repo' looks like a placeholder" ;; esac
email_re='^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$'
for e in "$contact" "${ccs[@]}"; do
  [[ "$e" =~ $email_re ]] || die "'$e' is not an e-mail address (name@domain.tld)"
  case "$e" in *TODO*|*placeholder*|*@example.com|*@example.org) die "'$e' looks like a placeholder" ;; esac
done

for f in project.yaml.in Dockerfile.in build.sh; do
  [ -f "$HERE/$f" ] || { echo "render.sh: missing $HERE/$f" >&2; exit 1; }
done

dest="$out/projects/$PROJECT"
mkdir -p "$dest"
auto_ccs=""
if [ ${#ccs[@]} -gt 0 ]; then
  auto_ccs="auto_ccs:"$'\n'
  for e in "${ccs[@]}"; do auto_ccs+="  - \"$e\""$'\n'; done
fi
# Fill the templates: drop '#@' template comments, replace every @TOKEN@, and
# refuse a template that lacks one of its tokens or keeps an unknown one.
render() {  # render <template> <output> TOKEN=value...
  python3 - "$@" <<'PY'
import re, sys
src, dst, *pairs = sys.argv[1:]
text = "".join(l for l in open(src) if not l.startswith("#@"))
for pair in pairs:
    key, value = pair.split("=", 1)
    token = "@%s@" % key
    if token not in text:
        sys.exit("render.sh: %s has no %s" % (src, token))
    text = text.replace(token, value)
left = re.findall(r"@[A-Z_]+@", text)
if left:
    sys.exit("render.sh: %s: unfilled %s" % (src, " ".join(sorted(set(left)))))
open(dst, "w").write(text)
PY
}
render "$HERE/project.yaml.in" "$dest/project.yaml" HOMEPAGE="$homepage" MAIN_REPO="$repo" \
  PRIMARY_CONTACT="$contact" AUTO_CCS="$auto_ccs"
render "$HERE/Dockerfile.in" "$dest/Dockerfile" MAIN_REPO="$repo"
cp "$HERE/build.sh" "$dest/build.sh"
chmod +x "$dest/build.sh"
echo "render.sh: wrote $dest/ (project.yaml, Dockerfile, build.sh) for $repo"
