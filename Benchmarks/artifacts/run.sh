#!/bin/sh
# Artifacts side by side with git-lfs, in one run, on the same data:
#   add+commit  SMALL_COUNT small binaries (SMALL_KB KiB each) and one LARGE_MB MiB file
#   push        to a bare file:// remote (ANVCS: pre-push uploads to a local store directory;
#               git-lfs: its standalone file:// transfer into the remote's lfs/objects)
#   clone       fresh clone with eager hydration (every artifact's bytes in the work tree)
#   switch      git checkout of a branch that changes 100 small files and drops the large one,
#               and back (the large file is written again from the local cache)
# Prints wall time (s) and peak RSS (MiB, the largest single process: git or its filter).
#
# Usage (from the repository root): Benchmarks/artifacts/run.sh
#   LARGE_MB=1024 SMALL_COUNT=1000 SMALL_KB=16 by default.
set -eu
cd "$(dirname "$0")/../.."
command -v git-lfs >/dev/null || { apt-get install -y -qq git-lfs >/dev/null 2>&1 || sudo apt-get install -y -qq git-lfs; }
. Benchmarks/common.sh

LARGE_MB=${LARGE_MB:-1024}
SMALL_COUNT=${SMALL_COUNT:-1000}
SMALL_KB=${SMALL_KB:-16}

git config --global init.defaultBranch main
git config --global filter.anvcs.process "git anvcs filter-process"
git config --global filter.anvcs.required true
git config --global anvcs.adapters.local.path "$work/anvcs-store"  # the store every clone shares
git lfs install --skip-repo >/dev/null

echo "data: $SMALL_COUNT x $SMALL_KB KiB + 1 x $LARGE_MB MiB (random bytes); $(nproc) cores; $(git --version); $(git lfs version)" >&2
data=$work/data
mkdir -p "$data/small" "$work/other"
i=0
while [ $i -lt "$SMALL_COUNT" ]; do
  head -c $((SMALL_KB * 1024)) /dev/urandom > "$data/small/f$i.bin"
  i=$((i + 1))
done
head -c $((LARGE_MB * 1024 * 1024)) /dev/urandom > "$data/large.bin"
i=0
while [ $i -lt 100 ]; do head -c $((SMALL_KB * 1024)) /dev/urandom > "$work/other/f$i.bin"; i=$((i + 1)); done

results=$work/results
: > "$results"
# The tool's own processes (git-anvcs, git-lfs) are sampled for their peak RSS (VmHWM) every
# 20 ms while a step runs: git itself holds a whole file in memory when it filters it, which
# /usr/bin/time's figure (the largest process of the tree) shows for both tools alike.
cat > "$work/sampler.py" <<'PY'
import os, sys, time
pattern, sentinel, out = sys.argv[1].encode(), sys.argv[2], sys.argv[3]
home = b"HOME=" + sys.argv[4].encode() + b"\0"  # only this benchmark's processes, not other users of the tool
peak = 0
while os.path.exists(sentinel):
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid(): continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if pattern not in f.read(): continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                if home not in f.read(): continue
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"): peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
    time.sleep(0.02)
open(out, "w").write(f"{peak}\n")
PY
# measure TOOL STEP DIR COMMAND...: wall seconds, peak RSS of the process tree, peak RSS of the tool.
measure() {
  tool=$1 step=$2 dir=$3
  shift 3
  sync
  case $tool in anvcs) pattern=git-anvcs ;; *) pattern=git-lfs ;; esac
  : > "$work/sampling"
  python3 "$work/sampler.py" "$pattern" "$work/sampling" "$work/peak.out" "$HOME" &
  sampler=$!
  ( cd "$dir" && /usr/bin/time -f "%e %M" -o "$work/time.out" "$@" ) >/dev/null 2>"$work/stderr.out" || {
    rm -f "$work/sampling"; echo "$tool $step failed:" >&2; cat "$work/stderr.out" >&2; exit 1; }
  sleep 0.1  # background work the step started (ANVCS's post-commit drainer) is sampled too
  rm -f "$work/sampling"
  wait $sampler
  read -r secs kb < "$work/time.out"
  read -r own < "$work/peak.out"
  echo "$tool $step $secs $((kb / 1024)) $((own / 1024))" >> "$results"
}

setup_repo() {  # setup_repo DIR TOOL
  git init -q "$1"
  cp -r "$data/small" "$1/small"
  cp "$data/large.bin" "$1/large.bin"
  if [ "$2" = anvcs ]; then
    (cd "$1" && git anvcs init -q && git anvcs track "*.bin" >/dev/null)
  else
    (cd "$1" && git lfs install --local >/dev/null && git lfs track "*.bin" >/dev/null)
  fi
}

for tool in anvcs lfs; do
  repo=$work/$tool-repo remote=$work/$tool-remote.git clone=$work/$tool-clone
  setup_repo "$repo" $tool
  git init -q --bare "$remote"
  git -C "$repo" remote add origin "file://$remote"
  measure $tool add+commit "$repo" sh -c 'git add -A && git commit -q -m data'
  # The branch to switch to: 100 small files changed, the large one gone.
  (cd "$repo" && git checkout -q -b other && cp "$work"/other/*.bin small/ && git rm -q large.bin && git add -A && git commit -q -m other && git checkout -q main)
  measure $tool push "$repo" git push -q origin main other
  measure $tool clone "$work" git clone -q "file://$remote" "$clone"
  cmp -s "$clone/large.bin" "$data/large.bin" || { echo "$tool: the clone's large.bin differs from the original" >&2; exit 1; }
  git -C "$clone" checkout -q other && git -C "$clone" checkout -q main  # warm: both branches' bytes are local
  measure $tool switch "$clone" sh -c 'git checkout -q other && git checkout -q main'
  cmp -s "$clone/large.bin" "$data/large.bin" || { echo "$tool: large.bin differs after switching back" >&2; exit 1; }
  # Keep the disk footprint to one copy per tool at a time (after ANVCS's background drainer is done).
  while [ -e "$repo/.git/anvcs/pending/.drainer" ]; do sleep 0.1; done
  n=0
  until rm -rf "$repo" "$clone" 2>/dev/null; do n=$((n + 1)); [ $n -lt 50 ] || exit 1; sleep 0.2; done
done

echo "wall s; peak RSS MiB of the whole step (git included) / of the tool's own processes"
printf '%-11s %9s %14s %11s %14s %8s\n' step "anvcs s" "anvcs MiB" "git-lfs s" "git-lfs MiB" "ratio"
for step in add+commit push clone switch; do
  set -- $(grep "^anvcs $step " "$results") ; a_s=$3 a_m=$4 a_o=$5
  set -- $(grep "^lfs $step " "$results") ; l_s=$3 l_m=$4 l_o=$5
  ratio=$(awk -v a="$a_s" -v l="$l_s" 'BEGIN { if (l > 0) printf "%.2f", a / l; else print "-" }')
  printf '%-11s %9s %14s %11s %14s %8s\n' "$step" "$a_s" "$a_m / $a_o" "$l_s" "$l_m / $l_o" "$ratio"
done
