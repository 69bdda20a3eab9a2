#!/usr/bin/env bash
# Stress: P pushers x K pushes each to one branch of an anvcs::file:// remote, each with a
# fetch-rebase-retry loop; then checks that every pushed commit is reachable from a fresh clone.
#   Benchmarks/remote/stress.sh [pushers=16] [pushes=50]     (ANVCS_BIN=<dir> for another build)
set -euo pipefail
cd "$(dirname "$0")/../.."
P=${1:-16}; K=${2:-50}
if [ -z "${ANVCS_BIN:-}" ]; then ANVCS_BIN=$(scripts/release-build.sh git-anvcs git-remote-anvcs 2>/dev/null); fi
ANVCS_BIN=$(cd "$ANVCS_BIN" && pwd)  # the benchmark cds into its repositories
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export PATH="$ANVCS_BIN:$PATH" HOME="$work" GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=s GIT_AUTHOR_EMAIL=s@example.com GIT_COMMITTER_NAME=s GIT_COMMITTER_EMAIL=s@example.com
url="anvcs::file://$work/store"
git init -q -b main "$work/seed"; echo seed > "$work/seed/seed"; git -C "$work/seed" add seed; git -C "$work/seed" commit -qm seed
git -C "$work/seed" push -q "$url" main
start=$(date +%s%N)
for p in $(seq 1 "$P"); do
  (
    set +e
    git clone -q "$url" "$work/p$p" || { echo "pusher $p: clone failed" >> "$work/errors"; exit 1; }
    cd "$work/p$p"
    for i in $(seq 1 "$K"); do
      echo "$p $i" > "f-$p-$i"; git add "f-$p-$i"; git commit -qm "pusher $p commit $i"
      tries=0
      until git push -q origin HEAD:main 2>/dev/null; do
        tries=$((tries+1)); [ $tries -gt 1000 ] && { echo "pusher $p gave up" >&2; exit 1; }
        git pull -q --rebase origin main > "$work/pull-$p.log" 2>&1 || {
          { echo "pusher $p: pull --rebase failed:"; tail -3 "$work/pull-$p.log"; } >> "$work/errors"
          git rebase --abort >/dev/null 2>&1
        }
      done
      echo $tries >> "$work/retries"
    done
  ) &
done
wait
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
git clone -q "$url" "$work/check"
git -C "$work/check" log --format=%s > "$work/subjects"
missing=0
for p in $(seq 1 "$P"); do for i in $(seq 1 "$K"); do
  grep -qx "pusher $p commit $i" "$work/subjects" || missing=$((missing+1))
done; done
git -C "$work/check" fsck --strict >/dev/null 2>&1 && fsck=ok || fsck=FAILED
[ -s "$work/errors" ] && { echo "errors ($(grep -c failed "$work/errors")), first ones:"; head -12 "$work/errors"; }
echo "pushers=$P pushes=$K elapsed_ms=$elapsed missing_commits=$missing fsck=$fsck total_retries=$(paste -sd+ "$work/retries" | bc) packs=$(ls "$work/store/packs" | wc -l)"
[ "$missing" -eq 0 ] && [ "$fsck" = ok ]
