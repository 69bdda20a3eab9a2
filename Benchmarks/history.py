# A fast-import stream of N commits over 200 files in 20 directories, each commit changing one
# file: the history the remote and pack benchmarks push, clone and index.
#   python3 Benchmarks/history.py N | git fast-import --quiet
import sys
n = int(sys.argv[1])
out = sys.stdout
for i in range(1, n + 1):
    data = f"line {i}\n" * (1 + i % 7) + f"file {i % 200} revision {i}\n"
    msg = f"commit {i}\n"
    out.write(f"commit refs/heads/main\nmark :{i}\ncommitter bench <bench@example.com> {1700000000 + i} +0000\n")
    out.write(f"data {len(msg)}\n{msg}")
    if i > 1: out.write(f"from :{i-1}\n")
    out.write(f"M 100644 inline dir{i % 20}/file{i % 200}.txt\ndata {len(data)}\n{data}\n")
