"""benchmarks/gui_speed.py keeps to throw-away settings, runs and autosave folders: it never reads or writes
the user's."""

import importlib.util
import shutil

from helpers import ROOT, SAMPLE_45

USER_VARS = ("LATTICE_WORKBENCH_SETTINGS", "LATTICE_WORKBENCH_RUNS", "LATTICE_WORKBENCH_AUTOSAVE",
             "LATTICE_WORKBENCH_DOCUMENTS")


def test_gui_speed_launch_probe_writes_only_into_its_temp_folder(tmp_path, monkeypatch):
    home = tmp_path / "home"                      # stands in for the user's own folders
    for var, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share")):
        monkeypatch.setenv(var, str(home / sub))
    for var in USER_VARS:                         # as a user runs it: none of the app's overrides set
        monkeypatch.delenv(var, raising=False)
    home.mkdir()
    spec = importlib.util.spec_from_file_location("gui_speed", ROOT / "benchmarks" / "gui_speed.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    data = tmp_path / "pairs.csv"
    shutil.copy(SAMPLE_45, data)
    work = tmp_path / "bench"
    work.mkdir()
    bench.isolate_user_files(str(work))           # what main() does first (the teardown restores the environment)
    assert len(bench.launch_seconds(data, 1)) == 1
    assert str(data.resolve()) in (work / "settings.ini").read_text()   # "last file" went to the temp settings
    assert [p for p in home.rglob("*") if p.is_file()] == []        # nothing in the user's config or data folders
