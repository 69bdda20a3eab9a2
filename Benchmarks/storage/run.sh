#!/usr/bin/env bash
# Storage throughput: our S3 client (anvcs-storage-benchmark, release build) beside `aws s3 cp`
# (awscli from PyPI), uploading and downloading the same file to one local moto server in one
# run; plus sha256 hashing beside sha256sum. Peak RSS of each run from /usr/bin/time -v.
#
#   Benchmarks/storage/run.sh [SIZE_MIB]     (default 1024; moto keeps every object in memory)
#
# Run from anywhere; needs python3 and network access to PyPI the first time.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
size_mib=${1:-1024}

export ANVCS_VENV=${ANVCS_VENV:-$root/.venv}
scripts/test-deps.d/s3.sh >/dev/null
bench_venv=$root/.build/bench-venv
[ -x "$bench_venv/bin/python" ] || python3 -m venv "$bench_venv"
"$bench_venv/bin/python" -c 'import awscli' 2>/dev/null \
    || "$bench_venv/bin/pip" install --quiet --disable-pip-version-check awscli
aws=$bench_venv/bin/aws
ours=$(scripts/release-build.sh anvcs-storage-benchmark 2>/dev/null)/anvcs-storage-benchmark

work=$(mktemp -d)
moto_pid=
cleanup() {
    if [ -n "$moto_pid" ]; then kill -9 "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# moto without signature checks (both clients still sign every request), on a free port.
"$ANVCS_VENV/bin/python" -c '
from moto.server import ThreadedMotoServer
import threading
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
threading.Event().wait()
' >"$work/moto.port" 2>"$work/moto.log" &
moto_pid=$!
for _ in $(seq 100); do [ -s "$work/moto.port" ] && break; sleep 0.1; done
endpoint=http://127.0.0.1:$(cat "$work/moto.port")
export AWS_ACCESS_KEY_ID=AKIABENCHMARK0000000 AWS_SECRET_ACCESS_KEY=benchmark AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true NO_PROXY=127.0.0.1 no_proxy=127.0.0.1
"$aws" --endpoint-url "$endpoint" s3api create-bucket --bucket bench >/dev/null
"$aws" --endpoint-url "$endpoint" s3api put-bucket-versioning --bucket bench \
    --versioning-configuration Status=Enabled >/dev/null

file=$work/payload.bin
head -c $((size_mib << 20)) /dev/urandom >"$file"
bytes=$(stat -c %s "$file")

# timed LABEL COMMAND...: runs it under /usr/bin/time -v; leaves seconds and peak KiB in
# $seconds and $peak_kib, and the command's stdout in $work/out.
timed() {
    local label=$1; shift
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$work/time.$label" "$@" >"$work/out"
    end=$(date +%s.%N)
    seconds=$(echo "$end - $start" | bc -l)
    peak_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.$label")
}
rate() { echo "scale=1; $bytes / 1048576 / $1" | bc -l; }
row() { printf '%-42s %8.2f s %9s MiB/s %8s MiB peak RSS\n' "$1" "$2" "$(rate "$2")" "$(echo "scale=1; $3 / 1024" | bc -l)"; }

echo "storage benchmark: $size_mib MiB file, moto $("$ANVCS_VENV/bin/python" -c 'import moto; print(moto.__version__)') at $endpoint,"
echo "$("$aws" --version 2>&1 | cut -d' ' -f1-2), $(nproc) cores; one run each, file in the page cache"
echo

# Hashing: best of three alternating runs each (the 2 cores are shared, so single runs are noisy).
cat "$file" >/dev/null
best_sum=999999; best_ours=999999
for _ in 1 2 3; do
    timed sha256sum sha256sum "$file"; expected=$(cut -d' ' -f1 "$work/out")
    if (( $(echo "$seconds < $best_sum" | bc -l) )); then best_sum=$seconds; sum_kib=$peak_kib; fi
    timed hash "$ours" hash "$file"
    grep -q "\"$expected\"" "$work/out" || { echo "our sha256 differs from sha256sum's" >&2; exit 1; }
    if (( $(echo "$seconds < $best_ours" | bc -l) )); then best_ours=$seconds; ours_kib=$peak_kib; fi
done
row "sha256sum (best of 3)" "$best_sum" "$sum_kib"
row "anvcs ContentDigest.hashFile (best of 3)" "$best_ours" "$ours_kib"
echo

timed ours-up "$ours" upload "$endpoint" bench ours.bin "$file"
ours_up=$seconds
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["versionId"])' "$work/out")
row "anvcs upload (hash + multipart)" "$seconds" "$peak_kib"
timed aws-up "$aws" --endpoint-url "$endpoint" s3 cp --only-show-errors "$file" s3://bench/aws.bin
aws_up=$seconds
row "aws s3 cp upload" "$seconds" "$peak_kib"

timed ours-down "$ours" download "$endpoint" bench ours.bin "$version" "$expected" "$work/ours.out"
ours_down=$seconds
row "anvcs download (sha256-verified)" "$seconds" "$peak_kib"
timed aws-down "$aws" --endpoint-url "$endpoint" s3 cp --only-show-errors s3://bench/aws.bin "$work/aws.out"
aws_down=$seconds
row "aws s3 cp download" "$seconds" "$peak_kib"
[ "$(sha256sum "$work/aws.out" | cut -d' ' -f1)" = "$expected" ] || { echo "aws download differs" >&2; exit 1; }
[ "$(sha256sum "$work/ours.out" | cut -d' ' -f1)" = "$expected" ] || { echo "our download differs" >&2; exit 1; }

echo
printf 'upload:   anvcs %.2fx the throughput of aws s3 cp\n' "$(echo "$aws_up / $ours_up" | bc -l)"
printf 'download: anvcs %.2fx the throughput of aws s3 cp\n' "$(echo "$aws_down / $ours_down" | bc -l)"
echo "(goal: at least 1.5x, with peak RSS under 64 MiB)"
