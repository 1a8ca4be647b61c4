"""resources/make_screenshots.py drives the real app: four window-sized PNGs, the training one taken mid-run."""

import importlib.util
import re
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication, QImage

from helpers import SAMPLE_45, small_config

pytestmark = [pytest.mark.gui, pytest.mark.slow]
SCRIPT = Path(__file__).resolve().parents[2] / "resources" / "make_screenshots.py"


def load_script():
    spec = importlib.util.spec_from_file_location("make_screenshots", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def colours(img: QImage) -> int:
    """Distinct colours on a coarse grid: a blank or one-colour capture has a handful."""
    return len({img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)})


def test_screenshots_of_the_real_app_fill_the_screen(qapp, env_dirs, cache_dir, tmp_path, capsys):
    from workbench.train.pipeline import prepare
    from workbench.train.record.sinks import run_folder_sinks
    from workbench.train.trainer import TrainingState, train
    sweep = tmp_path / "sweep"
    for i, lr in enumerate((3e-3, 1e-3)):          # two real trials, one run folder each, as a sweep writes them
        cfg = small_config(cache_dir, **{"optim.epochs": 1, "optim.lr": lr})
        prep = prepare(cfg, str(SAMPLE_45))
        rec = run_folder_sinks(sweep / f"trial-{i}", cfg, prep)     # as a sweep trial writes its folder
        for ev in train(TrainingState.create(cfg, prep.data, out_dir=sweep / f"trial-{i}")):
            rec(ev)
    out = tmp_path / "shots"
    assert load_script().main(["--data", str(SAMPLE_45), "--batches", "2", "--sweep", str(sweep),
                               "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    shot_after = re.search(r"training shot after (\d+) batch events", printed)
    assert shot_after and int(shot_after[1]) >= 2 and "preset 'recommended'" in printed, printed
    screen = QGuiApplication.primaryScreen().availableGeometry().size()
    for name in ("shot_dataset.png", "shot_training.png", "shot_cube.png", "shot_sweep.png"):
        assert str(out / name) in printed
        img = QImage(str(out / name))
        assert (img.width(), img.height()) == (screen.width(), screen.height()), name
        assert colours(img) > 50, name
    small = QImage(str(out / "shot_960x600.png"))                 # the window at its minimum size
    assert (small.width(), small.height()) == (960, 600) and colours(small) > 50
    assert not (tmp_path / "settings.ini").exists() or "shots" not in (tmp_path / "settings.ini").read_text()


def test_bad_arguments_exit_2_with_one_line(capsys, tmp_path):
    assert load_script().main(["--data", str(tmp_path / "missing.csv")]) == 2
    assert "--data" in capsys.readouterr().err
