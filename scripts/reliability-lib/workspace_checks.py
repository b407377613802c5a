"""Shared pieces of the reliability campaign's harnesses (scripts/reliability.d/*).

Everything here reads a workspace from the outside, independently of the runner's own code:
the store's digests are recomputed with a re-implementation of ArtefactDigest, results/ is
walked file by file, and processes are found in /proc by a marker in their environment.
Python 3 standard library only.
"""

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Every process a harness starts carries this variable (with a value unique to the run), and
# every process the runner starts inherits it: the spawn server, stage processes and whatever
# they start. So "is anything of that runner still alive?" is a scan of /proc.
MARKER = "RUNNER_RELIABILITY_MARK"


# ---------------------------------------------------------------------------------------------
# The runner binary
# ---------------------------------------------------------------------------------------------

def runner_binary(explicit=None):
    """The runner to test: --runner, $RUNNER, or .build/release/runner (built if missing)."""
    path = explicit or os.environ.get("RUNNER") or os.path.join(REPO, ".build/release/runner")
    if not os.path.exists(path):
        if explicit or os.environ.get("RUNNER"):
            sys.exit(f"error: no runner binary at '{path}'")
        print(f"building {path} (swift build -c release --product runner) ...", flush=True)
        subprocess.run(["swift", "build", "-c", "release", "--product", "runner"], cwd=REPO, check=True)
    return os.path.abspath(path)


def runner_env(marker):
    env = dict(os.environ)
    env["NO_COLOR"] = "1"
    env["OPENBLAS_NUM_THREADS"] = "1"
    env[MARKER] = marker
    return env


# ---------------------------------------------------------------------------------------------
# Workspaces
# ---------------------------------------------------------------------------------------------

def new_workspace(parent, spec_paths):
    """A fresh workspace under `parent` holding copies of the given specs (repo-relative)."""
    ws = tempfile.mkdtemp(prefix="ws-", dir=parent)
    for rel in spec_paths:
        target = os.path.join(ws, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(REPO, rel), target)
    return ws


def remove_tree(path):
    """rm -rf that also works on the store's read-only directories when not root."""
    def make_writable_and_retry(func, p, _exc):
        try:
            os.chmod(os.path.dirname(p), 0o755)
            os.chmod(p, 0o755)
        except OSError:
            pass
        func(p)
    if os.path.lexists(path):
        shutil.rmtree(path, onerror=make_writable_and_retry)


def copy_workspace(source, target):
    """An exact copy (hard links between results/ and the store kept, modes and times too)."""
    subprocess.run(["cp", "-a", source, target], check=True)


# ---------------------------------------------------------------------------------------------
# Digests: a re-implementation of Sources/Engine/Store/ArtefactDigest.swift
# ---------------------------------------------------------------------------------------------

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def artefact_digest(path):
    """SHA-256 of a file's bytes, or of a directory's listing: one line per entry in path
    order, 'F <path> <digest> <x|->' for files and 'D <path>' for directories."""
    st = os.lstat(path)
    if os.path.islink(path):
        raise ValueError(f"'{path}' is a symbolic link")
    if not os.path.isdir(path):
        return sha256_file(path)
    lines = []

    def walk(directory, relative):
        for name in sorted(os.listdir(directory), key=lambda n: n.encode()):
            full = os.path.join(directory, name)
            rel = name if not relative else relative + "/" + name
            if os.path.islink(full):
                raise ValueError(f"'{full}' is a symbolic link")
            if os.path.isdir(full):
                lines.append(f"D {rel}\n")
                walk(full, rel)
            else:
                mode = os.lstat(full).st_mode
                lines.append(f"F {rel} {sha256_file(full)} {'x' if mode & 0o100 else '-'}\n")
    walk(path, "")
    del st
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def object_path(ws, digest):
    return os.path.join(ws, ".runner", "objects", digest[:2], digest)


def records(ws):
    """Every committed record: (file, parsed JSON or None when it does not parse)."""
    root = os.path.join(ws, ".runner", "runs")
    out = []
    if not os.path.isdir(root):
        return out
    for shard in sorted(os.listdir(root)):
        d = os.path.join(root, shard)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith(".json") or name.startswith(".tmp-"):
                continue
            path = os.path.join(d, name)
            try:
                with open(path, "rb") as f:
                    out.append((path, json.loads(f.read())))
            except (OSError, ValueError):
                out.append((path, None))
    return out


def verify_store(ws, cache=None):
    """Problems with the committed store: a record that does not parse or is filed under
    another key, an object it names that is missing, or one that does not re-hash to its
    digest (a partial artefact). `cache` (digest -> ok) saves re-hashing unchanged objects."""
    problems = []
    cache = {} if cache is None else cache
    for path, rec in records(ws):
        if rec is None:
            problems.append(f"{path}: record does not parse")
            continue
        if os.path.basename(path) != rec.get("key", "") + ".json":
            problems.append(f"{path}: record is filed under another key ({rec.get('key')})")
        for name, out in rec.get("outputs", {}).items():
            digest = out.get("digest", "")
            obj = object_path(ws, digest)
            if not os.path.exists(obj):
                problems.append(f"{rec.get('instance')}: output '{name}' object {digest[:12]} is missing")
                continue
            st = os.lstat(obj)
            stamp = (digest, st.st_ino, st.st_mtime_ns)
            if stamp not in cache:
                try:
                    cache[stamp] = artefact_digest(obj) == digest
                except (OSError, ValueError):
                    cache[stamp] = False
            if not cache[stamp]:
                problems.append(f"{rec.get('instance')}: output '{name}' object {digest[:12]} does not re-hash to its digest")
    return problems


def final_records(ws, pipeline):
    """instance -> (key, {output: digest}) of the pipeline's committed records."""
    out = {}
    for _, rec in records(ws):
        if rec and rec.get("pipeline") == pipeline:
            out[rec["instance"]] = (rec["key"], {n: o["digest"] for n, o in rec["outputs"].items()})
    return out


def records_by_key(ws):
    """key -> {output: digest} of every committed record. A record shared by two pipelines
    (same key) names only the pipeline that computed it, so compare by key across pipelines."""
    return {rec["key"]: {n: o["digest"] for n, o in rec["outputs"].items()} for _, rec in records(ws) if rec}


def results_digests(ws, pipeline):
    """relative path -> SHA-256 of every file under results/<pipeline>/, plus the leftovers
    (temporary '.tmp-' entries) found there."""
    root = os.path.join(ws, "results", pipeline)
    digests, leftovers = {}, []
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            if name.startswith(".tmp-"):
                leftovers.append(os.path.relpath(os.path.join(directory, name), root))
        for name in files:
            if name.startswith(".tmp-"):
                continue
            full = os.path.join(directory, name)
            digests[os.path.relpath(full, root)] = sha256_file(full)
    return digests, leftovers


def store_leftovers(ws):
    """Temporary files in the store that no run cleans up (half-written records, say)."""
    found = []
    for sub in ("runs", "objects"):
        root = os.path.join(ws, ".runner", sub)
        for directory, dirs, files in os.walk(root):
            for name in dirs + files:
                if name.startswith(".tmp-"):
                    found.append(os.path.relpath(os.path.join(directory, name), ws))
            dirs[:] = [d for d in dirs if not d.startswith(".tmp-")]
    staging = os.path.join(ws, ".runner", "staging")
    if os.path.isdir(staging):
        found += [os.path.join(".runner/staging", e) for e in os.listdir(staging)]
    return found


def snapshot_files(ws, subdirs=(".runner/objects", ".runner/runs")):
    """relative path -> SHA-256 of every regular file under the given store directories."""
    out = {}
    for sub in subdirs:
        root = os.path.join(ws, sub)
        for directory, _dirs, files in os.walk(root):
            for name in files:
                full = os.path.join(directory, name)
                if not os.path.islink(full):
                    out[os.path.relpath(full, ws)] = sha256_file(full)
    return out


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

def _environ(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return None


def _is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return True


def marked_processes(marker):
    """Live (non-zombie) processes carrying MARKER=marker: [(pid, RUNNER_INSTANCE or None)]."""
    want = f"{MARKER}={marker}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid == os.getpid():
            continue
        env = _environ(pid)
        if not env or want not in env:
            continue
        if _is_zombie(pid):
            continue
        instance = next((v[len(b"RUNNER_INSTANCE="):].decode() for v in env if v.startswith(b"RUNNER_INSTANCE=")), None)
        found.append((pid, instance))
    return found


def kill_marked(marker):
    for pid, _ in marked_processes(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# Specs and the runner's line output
# ---------------------------------------------------------------------------------------------

def load_spec(path):
    with open(path) as f:
        return json.load(f)


def stage_kind(spec, instance):
    return spec["stages"][instance.split("@", 1)[0]]["kind"]


def parse_events(text):
    """From the runner's line display: (started, finished) instance sets."""
    started, finished = set(), set()
    for line in text.splitlines():
        parts = line.split(None, 1)
        if len(parts) < 2:
            continue
        verb, rest = parts
        name = rest.split(" ", 1)[0].rstrip(":")
        if verb == "start":
            started.add(name)
        elif verb in ("done", "cached", "FAILED", "skipped"):
            finished.add(name)
    return started, finished


# ---------------------------------------------------------------------------------------------
# The ledger
# ---------------------------------------------------------------------------------------------

def attempt_rows(ws):
    """Rows of the ledger's attempt table that ran a stage: (run_id, instance, key, status,
    started, ended)."""
    path = os.path.join(ws, ".runner", "ledger.sqlite")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(
            "SELECT run_id, instance, key, status, started, ended FROM attempt "
            "WHERE status NOT IN ('cached', 'skipped', 'not run') AND started IS NOT NULL ORDER BY id").fetchall()
    finally:
        db.close()


def run_rows(ws):
    path = os.path.join(ws, ".runner", "ledger.sqlite")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT id, pid, started, ended, status FROM run ORDER BY started").fetchall()
    finally:
        db.close()


def now():
    return time.monotonic()
