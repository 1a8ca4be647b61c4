"""Issue 7 (reliability): --resume checks the split, fails before embedding, never overwrites later epochs."""

from __future__ import annotations

import csv
import shutil

from workbench.cli import train as cli
from workbench.train.record.checkpoint import load_checkpoint, read_state, save_checkpoint
from helpers import SAMPLE_45

FAST = ["--set", "lattice.channels=4", "--set", "lattice.hidden=8", "--set", "lattice.steps=2",
        "--set", "lattice.neighbourhood=von_neumann", "--set", "optim.batch_size=8"]


def first_run(tmp_path, cache_dir, capsys, epochs=1, data=SAMPLE_45):
    out = tmp_path / "run"
    base = [str(data), "--out", str(out), "--cache-dir", str(cache_dir), "--quiet", *FAST]
    assert cli.run(base + ["--epochs", str(epochs)]) == 0
    capsys.readouterr()
    return out, base


def test_resume_with_another_seed_or_split_is_refused_before_embedding(tmp_path, cache_dir, capsys):
    out, base = first_run(tmp_path, cache_dir, capsys)
    assert read_state(out / "last.safetensors")["split_fingerprint"]
    fresh = tmp_path / "fresh-cache"            # an empty cache: embedding anything would write a store here
    code = cli.run([str(SAMPLE_45), "--out", str(out), "--cache-dir", str(fresh), "--quiet", *FAST, "--epochs", "2",
                    "--resume", str(out / "last.safetensors"), "--seed", "7", "--set", "split.val_fraction=0.3",
                    "--set", "split.group_column="])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "seed (checkpoint 0, this run 7)" in err and "split.val_fraction (checkpoint 0.2, this run 0.3)" in err
    assert "split.group_column (checkpoint 'auto', this run '')" in err
    assert not fresh.exists() or not any(fresh.iterdir())      # refused from the header, before any embedding


def test_resume_with_edited_data_is_refused_and_an_old_checkpoint_warns(tmp_path, cache_dir, capsys):
    data = tmp_path / "pairs.csv"
    shutil.copy(SAMPLE_45, data)
    out, base = first_run(tmp_path, cache_dir, capsys, data=data)
    with open(data, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[3][1] = rows[3][1] + " Edited."
    with open(data, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    resume = base + ["--epochs", "2", "--resume", str(out / "last.safetensors")]
    assert cli.run(resume) == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "the data file's rows changed" in err and "Traceback" not in err
    # a checkpoint from before the fingerprint: resumed, with a warning
    ck = load_checkpoint(out / "last.safetensors")
    del ck["split_fingerprint"]
    save_checkpoint(out / "last.safetensors", ck)
    assert cli.run(resume) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "written before checkpoints recorded their split" in err


def test_resume_from_best_into_its_own_folder_is_refused_and_overwrite_moves_it_aside(tmp_path, cache_dir, capsys):
    out, base = first_run(tmp_path, cache_dir, capsys, epochs=2)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    best = out / "best.safetensors"
    assert cli.run(base + ["--epochs", "3", "--resume", str(best)]) == 2
    err = capsys.readouterr().err
    assert "would overwrite" in err and "--out NEW_FOLDER" in err and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before               # last epochs untouched
    # into a new folder: fine, the original run stays as it was
    other = tmp_path / "branch"
    assert cli.run([str(SAMPLE_45), "--out", str(other), "--cache-dir", str(cache_dir), "--quiet", *FAST,
                    "--epochs", "3", "--resume", str(best)]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # --overwrite: the run is moved aside whole and the resume reads the moved best.safetensors
    assert cli.run(base + ["--epochs", "3", "--resume", str(best), "--overwrite"]) == 0
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("run.old-")]
    assert len(aside) == 1 and {p.name: p.read_bytes() for p in aside[0].iterdir()} == before
    assert "the checkpoint as moved aside" in capsys.readouterr().err
    assert (out / "last.safetensors").exists()
