"""Make the README's inspect figures by driving the real app on a 1366×768 screen.

    xvfb-run -a -s "-screen 0 1366x768x24" python resources/make_inspect_figures.py --run RUN --data DATA \
        --replay-run RUN2 --replay-data DATA2 [--first symptoms --second treatment] [--out resources/]

RUN must hold RUN/inspect/knockout.npy and inspect.json, made beforehand by
`workbench-inspect RUN DATA --split val --knockout` (the app loads them with the run, as a user's would).
Saves:
  shot_inspect_knockout.png  the cube's "knockout" source (colour bar in cosine units), a clicked cell's
                             figures and the step-dynamics chart beside it;
  shot_inspect_dynamics.png  the step-dynamics chart alone, its line at the last step;
  shot_inspect_atlas.png     the "atlas" source: mean states of --first minus those of --second (computed by
                             the app in its background thread over DATA's rows);
  shot_inspect_replay.png    RUN2's epoch replay, one rendered frame per recorded epoch side by side, and
  inspect_replay.gif         the same frames as an animation (the app's Save ▸ Epoch replay).
Settings, runs and autosave go to a temporary folder (as make_screenshots.py); the embedding cache is the user's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "resources"))
from benchmarks.gui_speed import isolate_user_files  # noqa: E402
from make_screenshots import new_window, pump, settle  # noqa: E402


def grab(widget, path: Path, view=None) -> None:
    """The widget as the screen shows it, the cube (a native window of its own) painted in."""
    from workbench.gui.inspect.save_view import grab_window
    if not grab_window(widget, view).save(str(path)):
        raise SystemExit(f"make_inspect_figures: could not save {path}")
    print(path, flush=True)


def open_run(win, run: Path) -> None:
    """What Run ▸ Open run folder does for a finished run: its best checkpoint goes to Ask and the inspect panel."""
    win.ask_panel.set_checkpoint(str(run / "best.safetensors"))
    pump(lambda: not win.inspect.tasks.busy, 300, "the run's saved inspection to load")
    settle()


def cube_first(win) -> None:
    lay = win.window_layout
    lay.center.setSizes([0, lay.center.height()])           # the charts folded away: cube and panel get it all
    lay.cube_row.setSizes([int(lay.cube_row.width() * 0.64), int(lay.cube_row.width() * 0.36)])
    lay.dataset_dock.hide()
    lay.training_dock.hide()
    settle()


def shot_knockout(win, out: Path) -> None:
    import numpy as np
    panel, cube = win.inspect, win.lattice
    if panel.knockout_result is None:
        raise SystemExit("make_inspect_figures: RUN/inspect/knockout.npy is missing: run workbench-inspect "
                         "RUN DATA --split val --knockout first")
    cube.mode.setCurrentText("voxels")
    cube.threshold.setValue(25)
    vol = panel.knockout_result[0]
    cell = np.unravel_index(int(np.argmin(vol)), vol.shape)          # the most important cell, as a click gives it
    cube.click_at(tuple(float(c) + 0.5 for c in cell))
    cube.step.setValue(cube.step.maximum())
    settle()
    cube.refresh()
    grab(win.window_layout.cube_row, out / "shot_inspect_knockout.png", win.lattice)
    grab(panel.chart, out / "shot_inspect_dynamics.png")


def shot_atlas(win, out: Path, first: str, second: str) -> None:
    tab, cube = win.inspect.atlas_tab, win.lattice
    if not tab.compute_atlas():
        raise SystemExit(f"make_inspect_figures: the atlas could not start: {win.inspect.status.text()}")
    pump(lambda: tab.atlas is not None, 1800, "the category atlas")
    names = tab.atlas.names
    for name in (first, second):
        if name not in names:
            raise SystemExit(f"make_inspect_figures: no category '{name}' (have: {', '.join(names)})")
    tab.first.setCurrentIndex(names.index(first))
    tab.second.setCurrentIndex(names.index(second) + 1)
    cube.mode.setCurrentText("slices")
    cube.step.setValue(cube.step.maximum())
    settle()
    cube.refresh()
    grab(win.window_layout.cube_row, out / "shot_inspect_atlas.png", win.lattice)


def labelled(frame, text: str):
    """The frame at half size with `text` written in its top-left corner (Pillow, which imageio uses)."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont
    img = Image.fromarray(frame).resize((frame.shape[1] // 2, frame.shape[0] // 2), Image.LANCZOS)
    draw = ImageDraw.Draw(img)
    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", 22)
    except OSError:
        font = ImageFont.load_default()
    draw.text((12, 8), text, fill=(20, 20, 20), font=font)
    return np.asarray(img)


def shot_replay(win, out: Path) -> None:
    import imageio.v2 as imageio
    import numpy as np
    panel, cube = win.inspect, win.lattice
    pump(lambda: panel.replay.count() > 1, 60, "the run's epoch replay")
    cube.mode.setCurrentText("voxels")
    cube.threshold.setValue(30)
    cube.step.setValue(cube.step.maximum())
    panel.replay.slider.setValue(0)
    settle()
    frames = panel.replay.frames()
    keep = np.unique(np.linspace(0, len(frames) - 1, min(5, len(frames))).round().astype(int))
    epochs = [int(panel.replay.replay.epochs[i]) for i in keep]
    strip = np.concatenate([labelled(frames[i], f"epoch {e}" + (" (untrained)" if e == 0 else ""))
                            for i, e in zip(keep, epochs)], axis=1)
    imageio.imwrite(out / "shot_inspect_replay.png", strip)
    print(out / "shot_inspect_replay.png", f"epochs {epochs}", flush=True)
    print(panel.save_epochs(str(out / "inspect_replay.gif")), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a run folder with RUN/inspect/ made by workbench-inspect")
    ap.add_argument("--data", type=Path, required=True, help="the dataset the app opens for the atlas")
    ap.add_argument("--replay-run", type=Path, required=True, help="a run folder holding replay.npz")
    ap.add_argument("--replay-data", type=Path, required=True, help="the dataset of --replay-run")
    ap.add_argument("--first", default="symptoms", help="the atlas's first category")
    ap.add_argument("--second", default="treatment", help="the category subtracted from it")
    ap.add_argument("--out", type=Path, default=ROOT / "resources", help="folder for the figures")
    args = ap.parse_args(argv)
    for path in (args.run, args.data, args.replay_run, args.replay_data):
        if not path.exists():
            print(f"make_inspect_figures: {path}: no such file or folder", file=sys.stderr)
            return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lattice-inspect-shots-") as tmp:
        isolate_user_files(tmp)
        from PySide6.QtWidgets import QApplication
        app = QApplication.instance() or QApplication(sys.argv[:1])
        win = new_window(args.data)
        cube_first(win)
        open_run(win, args.run)
        shot_knockout(win, args.out)
        shot_atlas(win, args.out, args.first, args.second)
        win.model.undo.setClean()
        win.close()
        win = new_window(args.replay_data)
        cube_first(win)
        open_run(win, args.replay_run)
        shot_replay(win, args.out)
        win.model.undo.setClean()
        win.close()
        app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
