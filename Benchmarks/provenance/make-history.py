#!/usr/bin/env python3
"""Writes a git fast-import stream: N commits on main, each with a provenance note in
refs/notes/anvcs (16 agents round-robin, 4 models, some failing tests). Fixed dates, so the
same N always gives the same history."""
import json, sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
out = sys.stdout.buffer
models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-pro"]
base = 1_767_225_600

def data(b):
    out.write(b"data %d\n" % len(b) + b + b"\n")

for i in range(1, n + 1):
    out.write(b"commit refs/heads/main\nmark :%d\n" % i)
    t = base + i * 60
    out.write(b"author Bench <bench@example.com> %d +0000\ncommitter Bench <bench@example.com> %d +0000\n" % (t, t))
    data(b"change %d" % i)
    if i > 1:
        out.write(b"from :%d\n" % (i - 1))
    out.write(b"M 100644 inline src/f%d.txt\n" % (i % 100))
    data(b"line %d\n" % i)
for i in range(1, n + 1):
    note = {"schema": "anvcs/provenance/1", "commit_id": "", "created_at": "2026-01-01T00:00:00Z",
            "ai_meta": {"prompt": "task %d" % i, "model": models[i % 4], "agent_id": "agent-%d" % (i % 16),
                        "tests_passed": i % 7 != 0, "coverage": 80 + i % 20, "env": {"os": "Linux"}, "artifacts": []}}
    if i == 1:
        out.write(b"commit refs/notes/anvcs\n")
        out.write(b"committer Bench <bench@example.com> %d +0000\n" % (base + n * 60 + 60))
        data(b"notes")
    out.write(b"N inline :%d\n" % i)
    data(json.dumps(note, indent=2).encode() + b"\n")
