#!/usr/bin/env bash
# Provenance queries on a 20,000-commit history with a note per commit, side by side with the
# plain-git equivalent (git log --notes=anvcs piped through a JSON filter), in one run.
# Goals: filtered query <= 50 ms warm and >= 20x faster than plain git; incremental index
# update after one commit <= 5 ms; reindex of 20,000 commits < 3 s.
#   Benchmarks/provenance/run.sh [commits]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-20000}
. Benchmarks/common.sh
repo="$work/repo"
git init -q -b main "$repo"
start=$(date +%s%N)
python3 Benchmarks/provenance/make-history.py "$n" | git -C "$repo" fast-import --quiet
git -C "$repo" reset -q --hard main
echo "built $n commits with notes in $(( ($(date +%s%N) - start) / 1000000 )) ms (git fast-import)"
cd "$repo"
echo "== reindex"
git anvcs reindex
git anvcs reindex
cat > "$work/filter.py" <<'PY'
import json, sys
out = []
for rec in sys.stdin.buffer.read().split(b"\x1e"):
    rec = rec.strip()
    if not rec:
        continue
    head, _, note = rec.partition(b"\x00")
    commit, parents, author, date, subject = head.decode().split("\x1f")
    try:
        meta = json.loads(note)["ai_meta"] if note.strip() else {}
    except ValueError:
        meta = {}
    if meta.get("agent_id") == sys.argv[1]:
        out.append({"id": commit, "parents": parents.split(), "author": author, "date": date, "summary": subject,
                    "agent_id": meta.get("agent_id"), "model": meta.get("model"), "tests_passed": meta.get("tests_passed")})
json.dump({"nodes": out}, sys.stdout)
PY
echo "== filtered query, warm: ANVCS index vs plain git"
git anvcs log --filter agent:agent-3 --json >/dev/null
hyperfine -N --warmup 3 --runs 20 --export-json "$work/q.json" \
  -n "git anvcs log --filter agent:agent-3 --json" "git anvcs log --filter agent:agent-3 --json" \
  -n "git log --notes=anvcs | JSON filter" "sh -c \"git log --notes=anvcs --format='%H%x1f%P%x1f%an%x1f%aI%x1f%s%x00%N%x1e' | python3 $work/filter.py agent-3\""
python3 - "$work/q.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(f"anvcs {r[0]['mean']*1000:.1f} ms, plain git {r[1]['mean']*1000:.1f} ms: {r[1]['mean']/r[0]['mean']:.1f}x faster (goals: <= 50 ms, >= 20x)")
PY
a=$(git anvcs log --filter agent:agent-3 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["nodes"]))')
b=$(git log --notes=anvcs --format='%H%x1f%P%x1f%an%x1f%aI%x1f%s%x00%N%x1e' | python3 "$work/filter.py" agent-3 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["nodes"]))')
echo "both list the same number of commits: anvcs $a, plain git $b"
echo "== incremental index update after one commit with its note (5 rounds; goal <= 5 ms)"
for round in 1 2 3 4 5; do
  echo "change $round" >> src/f1.txt && git add src/f1.txt && git commit -q -m "round $round"
  git notes --ref=anvcs add -m "{\"schema\":\"anvcs/provenance/1\",\"ai_meta\":{\"agent_id\":\"agent-3\",\"model\":\"m\"}}" HEAD
  git anvcs reindex --incremental
done
