"""Save what the cube shows: the current view as PNG, the step or epoch replay as an animated GIF or MP4.

Frames are rendered by the cube itself (its VTK window, in the GUI thread, as every render) and written
through imageio, an optional extra: `pip install 'lattice-workbench[anim]'` (GIF through Pillow, MP4 through
the ffmpeg binary imageio-ffmpeg ships). Without it PNG still works and GIF/MP4 say what to install.
Files are written to a temporary name beside the target and moved into place, never left half-written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

ANIMATION_SUFFIXES = (".gif", ".mp4")
INSTALL = "pip install 'lattice-workbench[anim]'"


class ExportError(Exception):
    """A file that cannot be written, or imageio missing; the message is one line."""


def save_png(view, path: str | Path) -> Path:
    """The cube's current render as a PNG."""
    if view.plotter is None:
        raise ExportError("the 3D view has not started yet: nothing to save")
    path = Path(path).with_suffix(".png") if Path(path).suffix.lower() != ".png" else Path(path)
    _write(path, lambda tmp: view.plotter.screenshot(str(tmp)))
    return path


def grab_window(widget, view=None):
    """widget.grab() with the cube painted in: the cube renders into a native window of its own (see the pyvistaqt
    pin in pyproject.toml), which QWidget.grab() does not see (it leaves garbage there). The cube's own render,
    scaled to the cube's place in the widget, goes over that area. Returns a QPixmap."""
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtGui import QImage, QPainter
    pix = widget.grab()
    plotter = getattr(view, "plotter", None)
    if plotter is None or not plotter.isVisible() or not widget.isAncestorOf(plotter) or min(
            plotter.width(), plotter.height()) < 2:     # a collapsed cube row: nothing of it on screen
        return pix
    try:
        if not getattr(plotter, "_rendered", True):
            plotter.render()          # pyvista reads no image before its first render() (Qt's paints do not count)
        img = np.ascontiguousarray(np.asarray(plotter.screenshot(None, return_img=True))[..., :3])
    except (AttributeError, RuntimeError):   # no picture of the cube: the window's is still worth saving
        return pix
    qimg = QImage(img.data, img.shape[1], img.shape[0], img.strides[0], QImage.Format_RGB888)
    target = QRect(plotter.mapTo(widget, QPoint(0, 0)), plotter.size())
    painter = QPainter(pix)
    painter.drawImage(target, qimg)
    painter.end()
    return pix


def grab_frames(view, show: Callable[[int], None], count: int) -> list[np.ndarray]:
    """Render frame i = 0..count-1 after show(i) (which moves a slider) and keep each image (H, W, 3)."""
    if view.plotter is None:
        raise ExportError("the 3D view has not started yet: nothing to save")
    frames = []
    for i in range(count):
        show(i)
        view.refresh()
        frames.append(np.asarray(view.plotter.screenshot(None, return_img=True))[..., :3].copy())
    return frames


def write_animation(path: str | Path, frames: list[np.ndarray], fps: float = 2.0) -> Path:
    """An animated GIF (looping) or an MP4 of the frames, by the path's suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ANIMATION_SUFFIXES:
        raise ExportError(f"{path}: an animation is saved as {' or '.join(ANIMATION_SUFFIXES)}, not '{suffix}'")
    if not frames:
        raise ExportError("no frames to save")
    try:
        import imageio.v2 as imageio
    except ImportError:
        raise ExportError(f"saving {suffix} needs imageio: {INSTALL}") from None
    if suffix == ".gif":
        _write(path, lambda tmp: imageio.mimsave(tmp, frames, format="GIF", duration=1000.0 / fps, loop=0))
    else:
        try:
            import imageio_ffmpeg  # noqa: F401  (the ffmpeg binary MP4 needs)
        except ImportError:
            raise ExportError(f"saving .mp4 needs imageio-ffmpeg: {INSTALL}") from None
        even = [f[:f.shape[0] // 2 * 2, :f.shape[1] // 2 * 2] for f in frames]   # H.264 (yuv420p) needs even sizes
        _write(path, lambda tmp: imageio.mimsave(tmp, even, format="FFMPEG", fps=fps, macro_block_size=1))
    return path


def _write(path: Path, write: Callable[[str], object]) -> None:
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        write(str(tmp))
        if not tmp.is_file() or tmp.stat().st_size == 0:    # ffmpeg can fail with only a message on stderr
            raise ExportError(f"{path}: the encoder wrote nothing (see the console for its message)")
        os.replace(tmp, path)
    except OSError as exc:
        raise ExportError(f"{exc.filename or path}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
