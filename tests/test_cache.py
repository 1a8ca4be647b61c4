"""The SQLite embedding store: compact, batched, verified on read, safe across processes and kill -9."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from workbench.teacher.cache import LOOKUP_CHUNK, EmbeddingStore, row_crc
from workbench.teacher.encoder import Teacher, TeacherConfig

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TEXTS = ["What is a neural network?", "A neural network is layers of weighted sums and non-linearities.",
         "How do I bake bread?", "Mix flour, water, salt and yeast, let it rise, then bake it hot."]

# a writer process: batch b holds keys "b:i" and vectors from seed b; prints b once batch b is committed
WRITER = """
import hashlib, sys, numpy as np
from workbench.teacher.cache import EmbeddingStore
store, first, n, size = EmbeddingStore(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for b in range(first, first + n):
    keys = [hashlib.sha256(f"{b}:{i}".encode()).digest() for i in range(size)]
    vecs = np.random.default_rng(b).standard_normal((size, 384)).astype(np.float32)
    assert store.put_many(keys, vecs, np.arange(size) % 3 == 0), store.problems
    print(b, flush=True)
"""


def batch(b: int, size: int) -> tuple[list[bytes], np.ndarray]:
    return ([hashlib.sha256(f"{b}:{i}".encode()).digest() for i in range(size)],
            np.random.default_rng(b).standard_normal((size, 384)).astype(np.float32))


def test_store_is_one_file_near_the_raw_float32_size(tmp_path):
    store = EmbeddingStore(tmp_path / "t.sqlite3")
    for b in range(20):
        assert store.put_many(*batch(b, 250))
    store.close()
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == ["t.sqlite3"]          # the WAL is folded back in on close
    raw = 20 * 250 * 384 * 4
    assert files[0].stat().st_size < 1.15 * raw, files[0].stat().st_size / raw


def test_30k_vectors_come_back_exactly_in_a_few_batched_queries(tmp_path):
    store = EmbeddingStore(tmp_path / "t.sqlite3")
    keys, vecs = [], []
    for b in range(30):
        k, v = batch(b, 1000)
        store.put_many(k, v)
        keys += k
        vecs.append(v)
    fresh = EmbeddingStore(tmp_path / "t.sqlite3")
    statements: list[str] = []
    fresh._connection().set_trace_callback(statements.append)
    order = np.random.default_rng(0).permutation(len(keys))
    got = fresh.get_many([keys[i] for i in order], 384)
    assert got.found.all() and got.damaged == 0
    assert np.array_equal(got.vectors, np.concatenate(vecs)[order])
    assert np.array_equal(got.truncated, np.zeros(len(keys), bool))
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == -(-len(keys) // LOOKUP_CHUNK)          # 60 queries for 30k keys, not 30k


def test_kill_9_mid_writing_leaves_every_committed_batch_readable(tmp_path):
    path = tmp_path / "t.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "0", "100000", "500"], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    committed = -1
    while committed < 6:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        committed = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    store = EmbeddingStore(path)
    good, bad = store.verify()                                    # SQLite integrity check + every row's checksum
    assert bad == 0 and good == len(store) and good % 500 == 0    # whole transactions only, never half a batch
    for b in range(committed + 1):
        keys, vecs = batch(b, 500)
        got = store.get_many(keys, 384)
        assert got.found.all() and np.array_equal(got.vectors, vecs)
        assert np.array_equal(got.truncated, np.arange(500) % 3 == 0)


def test_two_writer_processes_and_a_reader_share_one_store(tmp_path):
    path = tmp_path / "t.sqlite3"
    EmbeddingStore(path).put_many(*batch(999, 10))                # created before the race, as a real run would
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(first), "15", "200"], env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for first in (0, 10)]                              # batches 10..14 are written by both
    reader = EmbeddingStore(path)
    keys, _ = batch(12, 200)
    reads = 0
    while any(w.poll() is None for w in writers):
        got = reader.get_many(keys, 384)
        assert got.damaged == 0 and got.found.sum() in (0, 200)   # a batch is seen whole or not at all
        reads += 1
        time.sleep(0.01)
    for w in writers:
        out, err = w.communicate()
        assert w.returncode == 0, err
    assert reads > 0 and len(reader) == 25 * 200 + 10
    assert reader.verify() == (25 * 200 + 10, 0) and not reader.problems


def damage(path: Path, key: bytes, how: str) -> None:
    with sqlite3.connect(path) as db:
        vec, trunc = db.execute("SELECT vec, truncated FROM emb WHERE key = ?", (key,)).fetchone()
        if how == "truncated":
            vec = vec[:100]
        elif how == "flipped":
            vec = bytes([vec[0] ^ 0xFF]) + vec[1:]
        else:                                                     # NaN with a checksum that matches
            arr = np.frombuffer(vec, "<f4").copy()
            arr[7] = np.nan
            vec = arr.tobytes()
        crc = row_crc(key, trunc, vec) if how == "nan" else \
            db.execute("SELECT crc FROM emb WHERE key = ?", (key,)).fetchone()[0]
        db.execute("UPDATE emb SET vec = ?, crc = ? WHERE key = ?", (vec, crc, key))


def test_damaged_entries_are_re_encoded_with_a_note(tmp_path):
    cfg = TeacherConfig(cache_dir=str(tmp_path))
    first = Teacher(cfg)
    ref = first.encode(TEXTS)
    first.cache.close()
    for text, how in zip(TEXTS, ("truncated", "flipped", "nan")):
        damage(first.cache.path, first._key(text), how)
    t = Teacher(cfg)
    again = t.encode(TEXTS)
    assert t.model_calls == 1 and t.last_stats.damaged == 3 and t.last_stats.cache_hits == 1
    assert np.isfinite(again).all() and np.allclose(again, ref, atol=1e-5)
    assert any("3 damaged entries" in n and "re-encoded" in n and str(t.cache.path) in n for n in t.last_notes)
    assert t.cache.verify() == (4, 0)                             # the re-encoded vectors replaced the bad rows
    third = Teacher(cfg)
    third.encode(TEXTS)
    assert third.model_calls == 0 and third.last_notes == []


def test_a_damaged_cache_in_a_run_is_a_note_not_a_diverged_run(tmp_path, make_config):
    from workbench.train.pipeline import prepare
    from helpers import SAMPLE_45
    cfg = make_config()
    cfg.teacher.cache_dir = str(tmp_path)
    first = prepare(cfg, str(SAMPLE_45))
    t = Teacher(cfg.teacher)
    for q in first.train.questions()[:5]:
        damage(t.cache.path, t._key(q), "nan")
    again = prepare(cfg, str(SAMPLE_45), teacher=t)
    assert any("5 damaged entries" in n and "re-encoded" in n for n in again.notes)
    assert np.isfinite(again.data.q_train).all()
    assert np.allclose(again.data.q_train, first.data.q_train, atol=1e-5)


def test_a_cache_folder_that_cannot_be_created_only_costs_speed(tmp_path, teacher):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    t = Teacher(TeacherConfig(cache_dir=str(blocker / "cache")))
    emb = t.encode(TEXTS)
    assert np.allclose(emb, teacher.encode(TEXTS), atol=1e-5)
    assert len(t.last_notes) == 1 and str(blocker / "cache") in t.last_notes[0] and "only costs speed" in t.last_notes[0]
    t.encode(TEXTS[:2])
    assert t.last_notes == []                                     # reported once, not per call


def test_a_full_disk_is_reported_once_and_the_run_goes_on(tmp_path):
    t = Teacher(TeacherConfig(cache_dir=str(tmp_path)))
    t.encode(TEXTS[:1])
    conn = t.cache._connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")                # SQLite now answers "database or disk is full"
    new = [f"Question number {i}: what does a lattice cell compute?" for i in range(40)]   # > 1 page of rows
    emb = t.encode(TEXTS + new)
    assert emb.shape == (44, 384) and np.isfinite(emb).all()
    full = [n for n in t.last_notes if str(t.cache.path) in n]
    assert len(full) == 1 and "full" in full[0] and "cannot be written" in full[0]
    t.encode(["Yet another new text."])
    assert t.last_notes == [] and t.cache.get_many([t._key(TEXTS[0])], 384).found.all()


def test_a_file_that_is_not_a_database_is_moved_aside(tmp_path):
    t = Teacher(TeacherConfig(cache_dir=str(tmp_path)))
    t.cache.path.write_bytes(b"garbage, not SQLite" * 100)
    t.encode(TEXTS[:2])
    assert any("moved to" in n for n in t.last_notes)
    assert list(tmp_path.glob("*.damaged-*")) and len(t.cache) == 2


def test_repeated_texts_are_embedded_once(tmp_path):
    t = Teacher(TeacherConfig(cache_dir=str(tmp_path)))
    emb = t.encode([TEXTS[0], TEXTS[1], TEXTS[0], TEXTS[0]])
    assert t.last_stats.distinct == 2 and len(t.cache) == 2
    assert np.array_equal(emb[0], emb[2]) and np.array_equal(emb[0], emb[3])


def test_vectors_encoded_before_an_interrupt_are_kept(tmp_path):
    t = Teacher(TeacherConfig(cache_dir=str(tmp_path), batch_size=1))   # one text per model batch

    def stop_after_two(ev):
        if ev.encoded == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        t.encode(TEXTS, progress=stop_after_two)
    assert len(t.cache) == 2                       # written on the way out, not lost with the interrupted run
    again = Teacher(TeacherConfig(cache_dir=str(tmp_path)))
    again.encode(TEXTS)
    assert again.last_stats.cache_hits == 2 and again.last_stats.encoded == 2
