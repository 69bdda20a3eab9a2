#!/usr/bin/env bash
# 16 agents, each in its own clone, commit and push their provenance notes to one bare remote
# at the same moment (`git anvcs push --notes-only`, which fetches, merges and retries on
# rejection). Prints the wall time, the retries, and how many notes arrived: the goal is zero lost.
#   Benchmarks/provenance/concurrent-notes.sh [agents] [commits-per-agent]
set -euo pipefail
cd "$(dirname "$0")/../.."
agents=${1:-16}
per=${2:-5}
. Benchmarks/common.sh
export ANVCS_HOOK_SYNC=1
git init -q --bare -b main "$work/remote.git"
git init -q -b main "$work/seed" && git -C "$work/seed" commit -q --allow-empty -m root && git -C "$work/seed" push -q "$work/remote.git" main
for i in $(seq 1 "$agents"); do
  git clone -q "$work/remote.git" "$work/agent$i"
  (cd "$work/agent$i" && git anvcs init -q && git checkout -q -b "agent$i" &&
   for j in $(seq 1 "$per"); do echo "$i.$j" > "f$i"; git add "f$i"; ANVCS_AGENT_ID="agent-$i" git commit -q -m "agent $i change $j"; done &&
   git push -q origin "agent$i")
done
start=$(date +%s%N)
for i in $(seq 1 "$agents"); do
  (cd "$work/agent$i" && git anvcs push --notes-only --verbose origin > "$work/log$i" 2>&1) &
done
wait
ms=$(( ($(date +%s%N) - start) / 1000000 ))
retries=$(cat "$work"/log* | grep -c "rejected" || true)
notes=$(git -C "$work/remote.git" notes --ref=anvcs list | wc -l)
expected=$((agents * per))
echo "$agents agents pushed notes at once in $ms ms, $retries rejected attempts retried; remote has $notes of $expected notes ($((expected - notes)) lost)"
[ "$notes" -eq "$expected" ]
