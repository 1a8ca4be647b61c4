"""Atomic saves keep the file's mode, write through a symlink (issue 7 item 8), and name the path on a full disk (item 6)."""

import errno
import os
import stat

import pytest

from workbench.cli import train as cli
from workbench.data import atomic
from workbench.data.atomic import DiskFullError, atomic_write_text
from workbench.data.dataset import load_dataset, save_dataset
from helpers import SAMPLE_45


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def leftovers(folder) -> list[str]:
    return [p for p in os.listdir(folder) if p.endswith(".tmp")]


def test_save_keeps_the_file_mode(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("question,answer\nWhat?,That.\n")
    os.chmod(path, 0o664)
    save_dataset(load_dataset(SAMPLE_45), path)
    assert mode(path) == 0o664 and len(load_dataset(path)) == 45
    os.chmod(path, 0o640)
    atomic_write_text(path, "question,answer\nWhat now?,This.\n")
    assert mode(path) == 0o640
    fresh = tmp_path / "new.json"                   # a new file gets what open() would give it, not mkstemp's 0600
    save_dataset(load_dataset(SAMPLE_45), fresh)
    umask = os.umask(0)
    os.umask(umask)
    assert mode(fresh) == 0o666 & ~umask


def test_save_writes_through_a_symlink(tmp_path):
    real_dir = tmp_path / "store"
    real_dir.mkdir()
    real = real_dir / "pairs.jsonl"
    save_dataset(load_dataset(SAMPLE_45).subset([0, 1, 2]), real)
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    save_dataset(load_dataset(SAMPLE_45), link)
    assert link.is_symlink() and os.readlink(link) == str(real)   # the link is still a link...
    assert len(load_dataset(real)) == 45                           # ...and its target has the new content
    assert not leftovers(tmp_path) and not leftovers(real_dir)


def test_full_disk_names_the_path_and_the_space_needed(tmp_path, monkeypatch):
    path = tmp_path / "pairs.csv"
    save_dataset(load_dataset(SAMPLE_45), path)
    before = path.read_bytes()

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic.os, "fsync", no_space)
    with pytest.raises(DiskFullError) as e:
        save_dataset(load_dataset(SAMPLE_45), path)
    err = e.value
    assert err.errno == errno.ENOSPC and err.filename == str(path)
    assert str(path) in err.strerror and "needs at least" in err.strerror and "free on that disk" in err.strerror
    assert path.read_bytes() == before and not leftovers(tmp_path)
    with pytest.raises(DiskFullError) as e:
        atomic_write_text(tmp_path / "big.txt", "x" * 2_000_000)
    assert "needs at least 2.0 MB free" in e.value.strerror


def test_cli_reports_a_full_disk_with_the_path(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\n" + "What is a GPU?,   \n" * 3)

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic.os, "fsync", no_space)
    assert cli.run([str(bad), "--out", str(tmp_path / "run")]) == 2          # writing data_problems.csv fails
    err = capsys.readouterr().err
    assert "could not write the full list to" in err and "data_problems.csv" in err and "disk full" in err
