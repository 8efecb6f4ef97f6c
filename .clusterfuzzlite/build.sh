#!/bin/bash -eu
# ClusterFuzzLite build: the same build as OSS-Fuzz's (oss-fuzz/build.sh), one source of truth.
exec "$SRC/schedfuzz/oss-fuzz/build.sh"
