#!/bin/sh
# Release builds as install.sh installs them and the benchmarks measure them: the Swift runtime
# and Foundation linked statically, so a process does not map and relocate ~20 shared libraries
# at start (measured: `git anvcs --version` 31 -> 20 ms). Every caller uses these same flags, so
# release builds are never rebuilt for a flag change. Prints the directory of the binaries.
#   scripts/release-build.sh PRODUCT...
set -eu
cd "$(dirname "$0")/.."
for product in "$@"; do
    swift build -c release --static-swift-stdlib --product "$product" >&2
done
swift build -c release --static-swift-stdlib --show-bin-path
