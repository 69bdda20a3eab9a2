#!/usr/bin/env bash
# Hook overhead: 200 one-line commits with plain git vs with ANVCS's hooks installed, timed by
# hyperfine in one run (each commit is preceded, untimed, by a one-line change and `git add`).
# Goal: ANVCS adds at most 10% to `git commit` wall time, and makes no network call.
#   Benchmarks/hooks/run.sh [runs]        (default 200; builds release first)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-200}
. Benchmarks/common.sh
for r in plain emptyhook anvcs; do
  git init -q -b main "$work/$r"
  seq 1 200 > "$work/$r/file.txt"
  git -C "$work/$r" add file.txt && git -C "$work/$r" commit -q -m base
done
git -C "$work/anvcs" anvcs init -q
# git's own floor: the cost of running any post-commit hook at all (one that only exits).
printf '#!/bin/sh\nexit 0\n' > "$work/emptyhook/.git/hooks/post-commit" && chmod +x "$work/emptyhook/.git/hooks/post-commit"
export ANVCS_AGENT_ID=bench-agent ANVCS_MODEL=bench-model ANVCS_PROMPT="benchmark prompt"
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/result.json" \
  --prepare "sh -c 'echo \$\$ >> $work/plain/file.txt && git -C $work/plain add file.txt'" \
  --prepare "sh -c 'echo \$\$ >> $work/emptyhook/file.txt && git -C $work/emptyhook add file.txt'" \
  --prepare "sh -c 'echo \$\$ >> $work/anvcs/file.txt && git -C $work/anvcs add file.txt'" \
  -n "git commit (plain)" "git -C $work/plain commit -q -m change" \
  -n "git commit (an empty post-commit hook)" "git -C $work/emptyhook commit -q -m change" \
  -n "git commit (ANVCS hooks)" "git -C $work/anvcs commit -q -m change"
python3 - "$work/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
plain, empty, anvcs = r[0], r[1], r[2]
print(f"mean plain {plain['mean']*1000:.2f} ms, empty hook {empty['mean']*1000:.2f} ms, with ANVCS {anvcs['mean']*1000:.2f} ms")
print(f"ratio ANVCS/plain {anvcs['mean']/plain['mean']:.3f} (median {anvcs['median']/plain['median']:.3f}; goal <= 1.10); "
      f"git's floor for any hook {empty['mean']/plain['mean']:.3f}; ANVCS over that floor {anvcs['mean']/empty['mean']:.3f}")
PY
start=$(date +%s%N)
notes=$(git -C "$work/anvcs" anvcs log --json | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin)["nodes"] if n["agent_id"] == "bench-agent"))')
end=$(date +%s%N)
commits=$(git -C "$work/anvcs" rev-list --count HEAD)
echo "notes recorded: $notes of $((commits - 1)) commits made with hooks (settled in $(( (end - start) / 1000000 )) ms after the last commit)"
