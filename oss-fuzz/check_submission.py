#!/usr/bin/env python3
"""oss-fuzz/check_submission.py — checks a rendered projects/schedfuzz/ the way google/oss-fuzz's presubmit would.

    oss-fuzz/check_submission.py DIR --repo URL --contact EMAIL [--cc EMAIL]...

DIR is the projects/schedfuzz/ directory written by oss-fuzz/render.sh. Prints
one line per finding and exits 1 if there is any, 0 otherwise.

The project.yaml, licence-header, apt-get and seed-corpus rules are those of
google/oss-fuzz infra/presubmit.py (ProjectYamlChecker: VALID_SECTION_NAMES,
REQUIRED_SECTIONS, SECTIONS_AND_CONSTANTS from infra/constants.py, the e-mail and
language checks, VALID_PROJECT_REGEX; check_license; check_apt_update;
check_seed_corpus; check_lib_fuzzing_engine), as of google/oss-fuzz commit
955c6866c152 (2026-08). On top of them, schedfuzz's own expectations: the
values are the ones asked for, the Dockerfile clones the given repository into
$SRC/schedfuzz, and build.sh is byte for byte the repository's oss-fuzz/build.sh.
"""
# Copyright 2026 The schedfuzz Authors. Licensed under the Apache License, Version 2.0,
# http://www.apache.org/licenses/LICENSE-2.0 (LICENSE). SPDX-License-Identifier: Apache-2.0
import argparse
import os
import re
import sys

import yaml  # python3-yaml

# infra/presubmit.py ProjectYamlChecker.VALID_SECTION_NAMES
VALID_SECTION_NAMES = [
    'architectures', 'auto_ccs', 'blackbox', 'builds_per_day', 'coverage_extra_args', 'disabled',
    'disable_remediation', 'disable_remediation_pre_review', 'fuzzing_engines', 'help_url', 'homepage',
    'language', 'labels', 'main_repo', 'primary_contact', 'run_tests', 'sanitizers', 'selective_unpack',
    'vendor_ccs', 'view_restrictions', 'file_github_issue', 'indexer', 'base_os_version',
]
REQUIRED_SECTIONS = ['main_repo']
# infra/constants.py
LANGUAGES = ['c', 'c++', 'go', 'javascript', 'jvm', 'python', 'rust', 'swift', 'ruby']
SANITIZERS = ['address', 'none', 'memory', 'undefined', 'thread', 'coverage', 'introspector', 'hwaddress']
ARCHITECTURES = ['i386', 'x86_64', 'aarch64']
ENGINES = ['libfuzzer', 'afl', 'honggfuzz', 'centipede', 'none', 'wycheproof']
SECTIONS_AND_CONSTANTS = {'sanitizers': SANITIZERS, 'architectures': ARCHITECTURES, 'fuzzing_engines': ENGINES}
# infra/build/functions/build_lib.py ENGINE_INFO['libfuzzer'].supported_sanitizers: anything
# else in project.yaml is dropped without a word (e.g. thread), so we refuse it here.
LIBFUZZER_SANITIZERS = ['address', 'memory', 'undefined']
VALID_PROJECT_REGEX = re.compile(r'^[a-z0-9_-]+$')
LICENSE_STRING = 'http://www.apache.org/licenses/LICENSE-2.0'
PROJECT = 'schedfuzz'


def check(project_dir, repo, contact, ccs, repo_build_sh):
    errors = []
    err = errors.append

    name = os.path.basename(os.path.normpath(project_dir))
    if name != PROJECT:
        err(f'{project_dir}: the directory must be named projects/{PROJECT}')
    if not VALID_PROJECT_REGEX.match(name) or 'google' in name or 'g00gle' in name:
        err(f'{name}: not a valid OSS-Fuzz project name')
    present = sorted(os.listdir(project_dir)) if os.path.isdir(project_dir) else []
    if present != ['Dockerfile', 'build.sh', 'project.yaml']:
        err(f'{project_dir}: expected exactly Dockerfile, build.sh, project.yaml; found {present}')
    for f in present:
        if f.endswith('.zip'):
            err(f'{f}: seed corpora must not be committed to google/oss-fuzz')
    if os.path.exists(os.path.join(project_dir, 'project.yml')):
        err('project.yml must be named project.yaml')

    # project.yaml
    path = os.path.join(project_dir, 'project.yaml')
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        err(f'project.yaml: {e}')
        data = None
    if data is not None and not isinstance(data, dict):
        err('project.yaml: not a mapping')
        data = None
    if data is not None:
        for key in data:
            if key not in VALID_SECTION_NAMES:
                err(f'project.yaml: {key} is not a valid section name')
        for key in REQUIRED_SECTIONS:
            if key not in data:
                err(f'project.yaml: {key} section is missing')
        for section, allowed in SECTIONS_AND_CONSTANTS.items():
            for value in data.get(section) or []:
                v = value if isinstance(value, str) else (list(value)[0] if isinstance(value, dict) and len(value) == 1 else None)
                if v not in allowed:
                    err(f'project.yaml: {value!r} is not a valid {section} value')
                if section == 'sanitizers' and v not in LIBFUZZER_SANITIZERS:
                    err(f'project.yaml: sanitizer {v!r} would be silently dropped (libFuzzer runs {LIBFUZZER_SANITIZERS})')
        if data.get('language') not in LANGUAGES:
            err(f'project.yaml: language {data.get("language")!r} is not supported')
        if data.get('language') != 'c++':
            err('project.yaml: language must be c++')
        emails = [data.get('primary_contact')] + list(data.get('auto_ccs') or [])
        for e in emails:
            if not isinstance(e, str) or '@' not in e or '.' not in e:
                err(f'project.yaml: {e!r} is an invalid email address')
        if data.get('main_repo') != repo:
            err(f'project.yaml: main_repo is {data.get("main_repo")!r}, expected {repo!r}')
        if data.get('homepage') is None:
            err('project.yaml: homepage is missing')
        if data.get('primary_contact') != contact:
            err(f'project.yaml: primary_contact is {data.get("primary_contact")!r}, expected {contact!r}')
        if list(data.get('auto_ccs') or []) != list(ccs):
            err(f'project.yaml: auto_ccs is {data.get("auto_ccs")!r}, expected {list(ccs)!r}')
        if 'libfuzzer' not in (data.get('fuzzing_engines') or ['libfuzzer']):
            err('project.yaml: libfuzzer is required by OSS-Fuzz')

    # Dockerfile
    path = os.path.join(project_dir, 'Dockerfile')
    try:
        docker = open(path).read()
    except OSError as e:
        err(f'Dockerfile: {e}')
        docker = ''
    if docker:
        if LICENSE_STRING not in docker:
            err('Dockerfile: missing license header')
        if 'RUN apt install' in docker or 'RUN apt-get install' in docker:
            err('Dockerfile: apt-get install without apt-get update in the same RUN')
        lines = [l.strip() for l in docker.splitlines() if l.strip() and not l.lstrip().startswith('#')]
        if not lines or not re.match(r'^FROM gcr\.io/oss-fuzz-base/base-builder(:\S+)?$', lines[0]):
            err('Dockerfile: must start FROM gcr.io/oss-fuzz-base/base-builder')
        clones = [l for l in lines if re.match(r'^RUN git clone\b', l)]
        want = re.compile(r'^RUN git clone (--depth[ =]1 )?' + re.escape(repo) + r'(\.git)? ' + PROJECT + r'$')
        if len(clones) != 1 or not want.match(clones[0]):
            err(f'Dockerfile: expected one "RUN git clone --depth 1 {repo} {PROJECT}", found {clones}')
        if 'COPY build.sh $SRC/' not in lines:
            err('Dockerfile: must COPY build.sh $SRC/')
        if re.search(r'@[A-Z_]+@', docker):
            err('Dockerfile: unfilled template token')

    # build.sh
    path = os.path.join(project_dir, 'build.sh')
    try:
        build = open(path, 'rb').read()
    except OSError as e:
        err(f'build.sh: {e}')
        build = b''
    if build:
        if build != open(repo_build_sh, 'rb').read():
            err(f'build.sh: differs from {repo_build_sh}')
        text = build.decode('utf-8', 'replace')
        if LICENSE_STRING not in text:
            err('build.sh: missing license header')
        for n, line in enumerate(text.splitlines(), 1):
            if '-lFuzzingEngine' in line.split('#')[0]:
                err(f'build.sh:{n}: deprecated -lFuzzingEngine (use $LIB_FUZZING_ENGINE)')
        if not text.startswith('#!/bin/bash'):
            err('build.sh: must start with #!/bin/bash')
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('dir', help='the rendered projects/schedfuzz/ directory')
    ap.add_argument('--repo', required=True)
    ap.add_argument('--contact', required=True)
    ap.add_argument('--cc', action='append', default=[])
    ap.add_argument('--build-sh', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'build.sh'),
                    help="the repository's build.sh (default: the one next to this script)")
    a = ap.parse_args()
    errors = check(a.dir, a.repo, a.contact, a.cc, a.build_sh)
    for e in errors:
        print(f'check_submission: {e}')
    if errors:
        return 1
    print(f'check_submission: {a.dir}: OK (project.yaml, Dockerfile, build.sh)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
