#!/usr/bin/env python3
"""scripts/fuzz_options.py — the one reader of fuzz/targets/<target>.options files.

A .options file is an INI file in OSS-Fuzz's convention: its [libfuzzer]
section holds libFuzzer flags as `key = value`, read by OSS-Fuzz's base-runner
(parse_options.py, with Python's configparser) and turned into -key=value. Every
place in this repository that runs a target with its options goes through this
module, so they all read a file the same way base-runner does:

    scripts/fuzz.sh             python3 scripts/fuzz_options.py --dict=repo FILE
    bench/drive.py, report.py   import fuzz_options; fuzz_options.libfuzzer_flags(...)

`dict` names a dictionary next to the target in OSS-Fuzz's $OUT
(lockosthread_fuzzer.dict). Run from the source tree that file does not exist,
so --dict says what to do with it: keep (as written, for $OUT), drop, or repo
(fuzz/<target>.dict if it exists, else the shared fuzz/schedfuzz.dict).

As a command it prints one flag per line; a file that does not parse is an
error (exit 2) naming the file and configparser's reason.
"""
import argparse
import configparser
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_section(path, section="libfuzzer"):
    """[(key, value)] of `section` in order, [] if the file or section is absent.
    Raises configparser.Error on a malformed file."""
    cp = configparser.ConfigParser()
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        cp.read_file(f, source=path)
    return cp.items(section) if cp.has_section(section) else []


def repo_dict(target, src=REPO):
    """The dictionary a target uses in the source tree."""
    d = os.path.join(src, "fuzz", target + ".dict")
    return d if os.path.exists(d) else os.path.join(src, "fuzz", "schedfuzz.dict")


def libfuzzer_flags(path, dict_mode="repo", src=REPO, target=None):
    """The [libfuzzer] section of `path` as ["-key=value", ...]. dict_mode: "keep",
    "drop" or "repo" (see the module doc); target defaults to the file's name."""
    if target is None:
        target = os.path.splitext(os.path.basename(path))[0]
    flags = []
    for k, v in read_section(path):
        if k == "dict":
            if dict_mode == "drop":
                continue
            if dict_mode == "repo":
                v = repo_dict(target, src)
        flags.append("-%s=%s" % (k, v))
    return flags


def target_flags(src, target, dict_mode="repo"):
    """libfuzzer_flags of src/fuzz/targets/<target>.options."""
    return libfuzzer_flags(os.path.join(src, "fuzz", "targets", target + ".options"), dict_mode, src, target)


def main(argv):
    ap = argparse.ArgumentParser(description="Print the [libfuzzer] flags of a .options file, one per line.")
    ap.add_argument("--dict", choices=("keep", "drop", "repo"), default="repo",
                    help="what to do with its dict= entry (default: the repository's dictionary)")
    ap.add_argument("--src", default=REPO, help="source tree for --dict=repo (default: this one)")
    ap.add_argument("file")
    a = ap.parse_args(argv)
    if not os.path.isfile(a.file):
        print("%s: %s: no such file" % (sys.argv[0], a.file), file=sys.stderr)
        return 2
    try:
        flags = libfuzzer_flags(a.file, a.dict, a.src)
    except (configparser.Error, UnicodeDecodeError, OSError) as e:
        print("%s: %s: does not parse as an .options file: %s" % (sys.argv[0], a.file, e), file=sys.stderr)
        return 2
    for f in flags:
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
