#!/usr/bin/env python3
"""Regenerate the merge evaluation corpus from merge commits of public repositories.

For every two-parent merge commit M = merge(P1, P2) with a single merge base B, each file that
both parents changed since B (and that exists in B, P1, P2 and M) becomes one scenario:
base (B), ours (P1), theirs (P2) and the human's committed result (M).

Repositories come from repos.txt beside this script. A local bare copy is used when present
(--mirror, laid out as <mirror>/<owner>+<name>/repo, as the ANVCS helper tooling fetches them),
otherwise the repository is cloned from GitHub into the mirror directory.

The corpus itself is never committed: it is written to --out (default /tmp/anvcs-merge-corpus).
Kept for an independent evaluation and therefore never mined here: pallets/flask,
pytest-dev/pytest, expressjs/express, typeorm/typeorm, jupyterlab/jupyterlab, Mergiraf's examples.
"""
import argparse
import json
import os
import subprocess
import sys

EXTENSIONS = {".py", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".json", ".yaml", ".yml", ".swift"}
EXCLUDED = {"pallets/flask", "pytest-dev/pytest", "expressjs/express", "typeorm/typeorm", "jupyterlab/jupyterlab",
            "mergiraf/mergiraf"}
MAX_BYTES = 400_000


def git(repo, *args, check=True):
    result = subprocess.run(["git", "-C", repo, *args], capture_output=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {repo}: {result.stderr.decode(errors='replace')}")
    return result


def blob(repo, commit, path):
    result = git(repo, "cat-file", "blob", f"{commit}:{path}", check=False)
    return result.stdout if result.returncode == 0 else None


def locate(owner_name, mirror):
    directory = os.path.join(mirror, owner_name.replace("/", "+"), "repo")
    if os.path.isdir(directory):
        return directory
    os.makedirs(os.path.dirname(directory), exist_ok=True)
    subprocess.run(["git", "clone", "--bare", "--quiet", f"https://github.com/{owner_name}", directory], check=True)
    return directory


def mine(owner_name, repo, out, per_repo, max_merges):
    merges = git(repo, "rev-list", "--merges", f"--max-count={max_merges}", "HEAD").stdout.decode().split()
    count = 0
    for merge in merges:
        if count >= per_repo:
            break
        parents = git(repo, "rev-list", "--parents", "-n", "1", merge).stdout.decode().split()[1:]
        if len(parents) != 2:
            continue
        bases = git(repo, "merge-base", "--all", parents[0], parents[1], check=False).stdout.decode().split()
        if len(bases) != 1:
            continue
        base = bases[0]
        changed = []
        for parent in parents:
            names = git(repo, "diff", "--name-only", "--no-renames", base, parent).stdout.decode().splitlines()
            changed.append({n for n in names if os.path.splitext(n)[1].lower() in EXTENSIONS})
        for path in sorted(changed[0] & changed[1]):
            texts = [blob(repo, c, path) for c in (base, parents[0], parents[1], merge)]
            if any(t is None or len(t) > MAX_BYTES for t in texts):
                continue
            b, o, t, r = texts
            if o == t or o == b or t == b:
                continue
            ext = os.path.splitext(path)[1]
            directory = os.path.join(out, owner_name.replace("/", "+"), f"{merge[:12]}-{count:04d}")
            os.makedirs(directory, exist_ok=True)
            for name, data in (("base", b), ("ours", o), ("theirs", t), ("result", r)):
                with open(os.path.join(directory, name + ext), "wb") as f:
                    f.write(data)
            with open(os.path.join(directory, "scenario.json"), "w") as f:
                json.dump({"repo": owner_name, "merge": merge, "base": base, "ours": parents[0],
                           "theirs": parents[1], "path": path}, f, indent=1)
            count += 1
            if count >= per_repo:
                break
    return count


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", default=os.path.join(here, "repos.txt"))
    parser.add_argument("--mirror", default="/work/.mirror")
    parser.add_argument("--out", default="/tmp/anvcs-merge-corpus")
    parser.add_argument("--per-repo", type=int, default=120)
    parser.add_argument("--max-merges", type=int, default=4000)
    args = parser.parse_args()
    with open(args.repos) as f:
        repos = [line.split("#")[0].strip() for line in f if line.split("#")[0].strip()]
    total = 0
    for owner_name in repos:
        if owner_name.lower() in EXCLUDED:
            print(f"skipping {owner_name}: kept for the independent evaluation", file=sys.stderr)
            continue
        try:
            repo = locate(owner_name, args.mirror)
            n = mine(owner_name, repo, args.out, args.per_repo, args.max_merges)
        except Exception as error:  # one unreachable repository must not stop the rest
            print(f"{owner_name}: {error}", file=sys.stderr)
            continue
        print(f"{owner_name}: {n} scenarios", file=sys.stderr)
        total += n
    print(f"{total} scenarios in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
