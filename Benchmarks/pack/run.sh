#!/usr/bin/env bash
# The pack indexer, where a clone or fetch from an anvcs:: store spends most of its time, beside
# `git index-pack` on the same pack: the store's pack of the remote benchmark's history (as a push
# through anvcs::file:// writes it), indexed by anvcs serially, by anvcs in pieces side by side
# (what it does by default on a pack this size), and by git (its threads on every core).
#   Benchmarks/pack/run.sh [commits]      (default 10000)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000}
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null 2>&1 || sudo apt-get install -y -qq hyperfine; }
bin=$(cd "$(scripts/release-build.sh git-anvcs git-remote-anvcs anvcs-pack-benchmark 2>/dev/null)" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PATH="$bin:$PATH" HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
mkdir -p "$HOME" "$work/out"

git init -q -b main "$work/src"
python3 Benchmarks/history.py "$N" | git -C "$work/src" fast-import --quiet
git -C "$work/src" push -q "anvcs::file://$work/store" main
pack=$(find "$work/store" -name '*.pack' | head -1)
echo "pack benchmark: $N commits, pack $(du -h "$pack" | cut -f1), $(nproc) cores" >&2
"$bin/anvcs-pack-benchmark" "$pack" "$work/out" >&2

hyperfine --warmup 2 --runs 15 --prepare "rm -f '$work/git.idx'" \
    -n "anvcs serial" "'$bin/anvcs-pack-benchmark' --pieces 1 '$pack' '$work/out'" \
    -n "anvcs in pieces" "'$bin/anvcs-pack-benchmark' '$pack' '$work/out'" \
    -n "git index-pack" "git index-pack -o '$work/git.idx' '$pack'"
