"""Replays an editing trace in Loro and pycrdt (Yrs) the way crdt-replay does in ANVCS:
one local edit and one commit per patch, encode, merge the history into an empty document,
and prints the same figures. Usage: others.py TRACE.json.gz"""
import gc
import gzip
import json
import resource
import sys
import time


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        trace = json.load(handle)
    if trace.get("kind") == "concurrent":
        sys.exit("others.py: only the sequential form is supported for the comparison")
    patches = [tuple(p) for txn in trace["txns"] for p in txn["patches"]]
    return trace, patches


def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def report(name, version, replay_ms, slowest_us, merge_ms, encoded, matched, kept_kib):
    print(f"{name:<8} {version:<8} matched={'yes' if matched else 'NO'} local replay {replay_ms:10.1f} ms"
          f"   slowest op {slowest_us:9.1f} µs   merge into empty {merge_ms:8.2f} ms"
          f"   encoded {encoded:8d} bytes   RSS growth {kept_kib} KiB")


def bench_loro(trace, patches):
    import loro
    from importlib.metadata import version
    gc.collect()
    rss = rss_kib()
    doc = loro.LoroDoc()
    text = doc.get_text("text")
    slowest = 0.0
    start = time.perf_counter()
    for pos, deleted, inserted in patches:
        t0 = time.perf_counter()
        if deleted:
            text.delete(pos, deleted)
        if inserted:
            text.insert(pos, inserted)
        doc.commit()
        slowest = max(slowest, time.perf_counter() - t0)
    replay = time.perf_counter() - start
    kept = rss_kib() - rss
    encoded = doc.export(loro.ExportMode.Snapshot())
    updates = doc.export(loro.ExportMode.Updates(loro.VersionVector()))
    start = time.perf_counter()
    other = loro.LoroDoc()
    other.import_(updates)
    merge = time.perf_counter() - start
    matched = other.get_text("text").to_string() == trace["endContent"] == text.to_string()
    report("Loro", version("loro"), replay * 1e3, slowest * 1e6, merge * 1e3, len(encoded), matched, kept)


def bench_pycrdt(trace, patches):
    import pycrdt
    from importlib.metadata import version
    gc.collect()
    rss = rss_kib()
    doc = pycrdt.Doc()
    text = doc.get("text", type=pycrdt.Text)
    slowest = 0.0
    start = time.perf_counter()
    for pos, deleted, inserted in patches:
        t0 = time.perf_counter()
        with doc.transaction():
            if deleted:
                del text[pos:pos + deleted]
            if inserted:
                text.insert(pos, inserted)
        slowest = max(slowest, time.perf_counter() - t0)
    replay = time.perf_counter() - start
    kept = rss_kib() - rss
    update = doc.get_update()
    start = time.perf_counter()
    other = pycrdt.Doc()
    other.apply_update(update)
    merge = time.perf_counter() - start
    matched = str(other.get("text", type=pycrdt.Text)) == trace["endContent"] == str(text)
    report("pycrdt", version("pycrdt"), replay * 1e3, slowest * 1e6, merge * 1e3, len(update), matched, kept)


if __name__ == "__main__":
    trace, patches = load(sys.argv[1])
    which = sys.argv[2:] or ["loro", "pycrdt"]
    if "loro" in which:
        bench_loro(trace, patches)
    if "pycrdt" in which:
        bench_pycrdt(trace, patches)
