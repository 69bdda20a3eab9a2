#!/usr/bin/env bash
# Push and clone a generated history through anvcs::file:// and anvcs::s3:// (moto), next to
# `git clone` of a local bare repository and awslabs' git-remote-s3 on the same moto server;
# then the time of an incremental one-commit push. Prints milliseconds: each clone the median of
# seven interleaved rounds, each one-commit push the median of five, the first push one run.
#   Benchmarks/remote/run.sh [commits]      (default 10000; ANVCS_BIN=<dir> to use another build)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000}
root=$PWD
if [ -z "${ANVCS_BIN:-}" ]; then
    ANVCS_BIN=$(scripts/release-build.sh git-anvcs git-remote-anvcs 2>/dev/null)
fi
ANVCS_BIN=$(cd "$ANVCS_BIN" && pwd)  # the benchmark cds into its repositories
venv=$(cd "${ANVCS_VENV:-$root/.venv}" 2>/dev/null && pwd || echo "$root/.venv")
scripts/test-deps.d/s3.sh >/dev/null
"$venv/bin/python" -c 'import git_remote_s3' 2>/dev/null || "$venv/bin/pip" install --quiet --disable-pip-version-check git-remote-s3
work=$(mktemp -d)
moto_pid=
trap '[ -n "$moto_pid" ] && kill $moto_pid 2>/dev/null; rm -rf "$work"' EXIT
export PATH="$ANVCS_BIN:$venv/bin:$PATH" HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
mkdir -p "$HOME"; git config --global init.defaultBranch main

ms() { local s; s=$(date +%s%N); "$@" >/dev/null 2>"$work/last.err" || { echo "FAILED: $*" >&2; tail -5 "$work/last.err" >&2; return 1; }; echo $(( ($(date +%s%N) - s) / 1000000 )); }
# The middle of five numbers, one per line.
median() { sort -n | sed -n 3p; }
# Median of five one-commit pushes from $1 to $2.
incremental() {
    local dir=$1 url=$2 times=() i
    for i in 1 2 3 4 5; do
        echo "$i $RANDOM" >> "$dir/incremental.txt"; git -C "$dir" add incremental.txt; git -C "$dir" commit -qm "incremental $i"
        times+=("$(cd "$dir" && ms git push -q "$url" main)")
    done
    printf '%s\n' "${times[@]}" | median
}

echo "remote benchmark: $N commits; binaries from $ANVCS_BIN" >&2
# 1. History: N commits over 200 files (git fast-import, a few seconds).
git init -q "$work/src"
python3 Benchmarks/history.py "$N" > "$work/stream"
git -C "$work/src" fast-import --quiet < "$work/stream"
git -C "$work/src" checkout -q main
git -C "$work/src" repack -adq
echo "history: $(git -C "$work/src" rev-list --count main) commits, pack $(du -sh "$work/src/.git/objects/pack" | cut -f1)" >&2

# 2. Plain git baselines.
git clone -q --bare "$work/src" "$work/base.git"

# 3. anvcs::file://
cp -r "$work/src" "$work/w-file"
t_file_push=$(cd "$work/w-file" && ms git push -q "anvcs::file://$work/store" main)

# 4. moto server and a versioned bucket.
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy "$venv/bin/python" -m moto.server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto_pid=$!
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" NO_PROXY=127.0.0.1 no_proxy=127.0.0.1
for _ in $(seq 100); do "$venv/bin/python" -c "import socket; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null && break; sleep 0.2; done
"$venv/bin/python" - <<PY
import boto3
s3 = boto3.client("s3")
for b in ("anvcs-bench", "grs3-bench"):
    s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
PY

# 5. anvcs::s3://
cp -r "$work/src" "$work/w-s3"
s3url="anvcs::s3://anvcs-bench/repo"
t_s3_push=$(cd "$work/w-s3" && ms git push -q "$s3url" main)

# 6. awslabs git-remote-s3 (s3:// URLs), same server.
cp -r "$work/src" "$work/w-grs3"
t_grs3_push=$(cd "$work/w-grs3" && ms git push -q "s3://grs3-bench/repo" main) || t_grs3_push=failed

# 7. Clones, interleaved: each round clones from every remote in turn, so a change in the machine's
# load (from one minute to the next it moves every time here by 2-5x) hits all of them alike. A
# clone time is the median over the rounds; a ratio the median of each round's ratio, with its range.
names=(git-local git-file file s3 grs3)
urls=("$work/base.git" "file://$work/base.git" "anvcs::file://$work/store" "$s3url" "s3://grs3-bench/repo")
options=(-q --no-local -q -q -q)  # -q twice where git clone needs no option
: > "$work/clones"
for round in $(seq 7); do
    for i in "${!names[@]}"; do
        rm -rf "$work/c-${names[$i]}"
        t=$(ms git clone -q "${options[$i]}" "${urls[$i]}" "$work/c-${names[$i]}") || t=failed
        echo "$round ${names[$i]} $t" >> "$work/clones"
    done
done
summary() { python3 - "$work/clones" "$@" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
by = {}
for r, name, t in rows: by.setdefault(name, {})[r] = None if t == "failed" else int(t)
what, args = sys.argv[2], sys.argv[3:]
if what == "median":
    times = [t for t in by.get(args[0], {}).values() if t is not None]
    print(int(statistics.median(times)) if len(times) == len(by[args[0]]) else "failed")
else:
    a, b = by.get(args[0], {}), by.get(args[1], {})
    ratios = [a[r] / b[r] for r in a if a[r] and b.get(r)]
    print(f"{statistics.median(ratios):.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f})" if ratios else "n/a")
PY
}
t_git_local=$(summary median git-local)
t_git_file=$(summary median git-file)
t_file_clone=$(summary median file)
t_s3_clone=$(summary median s3)
t_grs3_clone=$(summary median grs3)

# 8. One-commit pushes (after the clones, which compare each clone's HEAD with the history's).
t_file_inc=$(incremental "$work/w-file" "anvcs::file://$work/store")
t_s3_inc=$(incremental "$work/w-s3" "$s3url")
t_grs3_inc=$(incremental "$work/w-grs3" "s3://grs3-bench/repo") || t_grs3_inc=failed

for c in c-file c-s3 c-grs3; do
    [ -d "$work/$c" ] || { echo "WARNING: $c was not cloned" >&2; continue; }
    [ "$(git -C "$work/$c" rev-parse HEAD)" = "$(git -C "$work/src" rev-parse HEAD)" ] || echo "WARNING: $c has a different HEAD" >&2
done

printf '\n%-34s %10s %10s %18s\n' "remote ($N commits)" "push ms" "clone ms" "1-commit push ms"
printf '%-34s %10s %10s %18s\n' "git clone <bare path> (hardlinks)" "-" "$t_git_local" "-"
printf '%-34s %10s %10s %18s\n' "git clone --no-local file://" "-" "$t_git_file" "-"
printf '%-34s %10s %10s %18s\n' "anvcs::file://" "$t_file_push" "$t_file_clone" "$t_file_inc"
printf '%-34s %10s %10s %18s\n' "anvcs::s3:// (moto)" "$t_s3_push" "$t_s3_clone" "$t_s3_inc"
printf '%-34s %10s %10s %18s\n' "git-remote-s3 s3:// (moto)" "$t_grs3_push" "$t_grs3_clone" "$t_grs3_inc"
echo
echo "clone anvcs::file:// / git --no-local file://: $(summary ratio file git-file) (goal <= 1.5)"
echo "clone anvcs::s3://  / git --no-local file://: $(summary ratio s3 git-file)"
echo "git-remote-s3 clone / anvcs::s3:// clone: $(summary ratio grs3 s3) (goal >= 3)"
