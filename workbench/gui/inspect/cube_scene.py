"""The cube's VTK scene (pyvista), apart from the widget that shows it (cube.py): the meshes and actors of each
mode, built once per mode or grid shape, and the values written into them for each frame, so that a new frame
never recreates an actor or moves the camera.

Modes: thresholded voxels, points, volume rendering, three orthogonal slices. pyvista is imported inside the
functions: the window opens before it loads.
"""

from __future__ import annotations

import numpy as np

MODES = ("voxels", "points", "volume", "slices")
HIDDEN_CELL = 32  # vtkDataSetAttributes::HIDDENCELL: ghost value that hides a cell without rebuilding the mesh
VOLUME_OPACITY = np.abs(np.linspace(-1.0, 1.0, 21))   # over the colour range −lim…lim: |value| / lim


def build(p, shape: tuple[int, int, int], mode: str, colours: dict, channel: int, face: bool) -> tuple[dict, dict]:
    """Clear plotter p and build the mode's scene for an (X, Y, Z) grid: (meshes, actors), the actor to colour
    under "main". colours: the theme's VIEW_COLOURS entry; face: the question goes in at a face, not everywhere."""
    import pyvista as pv
    p.clear()
    X, Y, Z = shape
    cells = pv.ImageData(dimensions=(X + 1, Y + 1, Z + 1), origin=(0, 0, 0), spacing=(1, 1, 1))
    cells.cell_data["activation"] = np.zeros(X * Y * Z, np.float32)
    cells.cell_data["vtkGhostType"] = np.zeros(X * Y * Z, np.uint8)
    meshes, actors = {"cells": cells}, {}
    ink = colours["ink"]
    bar = dict(title=f"channel {channel}", vertical=True, position_x=0.86, position_y=0.15,
               height=0.7, title_font_size=14, label_font_size=12, color=ink, n_labels=5, fmt="%.2g")
    # a symmetric range from the start: the zeros before any data would label every tick "0" (write sets it)
    bar = dict(scalar_bar_args=bar, clim=[-1.0, 1.0])
    if mode == "voxels":
        actors["main"] = p.add_mesh(cells, scalars="activation", cmap="coolwarm", show_edges=True,
                                    edge_color="#777777", **bar)
    elif mode == "points":
        pts = pv.PolyData(cells.cell_centers().points)
        pts.point_data["activation"] = np.zeros(X * Y * Z, np.float32)
        meshes["points"] = pts
        actors["main"] = p.add_mesh(pts, scalars="activation", cmap="coolwarm", point_size=14,
                                    render_points_as_spheres=True, **bar)
    elif mode == "volume":
        vol = pv.ImageData(dimensions=(X, Y, Z), origin=(0.5, 0.5, 0.5), spacing=(1, 1, 1))
        vol.point_data["activation"] = np.zeros(X * Y * Z, np.float32)
        meshes["volume"] = vol
        # activations are signed: opaque at both ends, clear near 0 ("sigmoid" hid every negative value)
        actors["main"] = p.add_volume(vol, scalars="activation", cmap="coolwarm", opacity=VOLUME_OPACITY, **bar)
    else:
        actors["main"] = p.add_mesh(slices(cells, shape), scalars="activation", cmap="coolwarm",
                                    show_edges=True, edge_color="#999999", **bar)
    for sbar in getattr(p, "scalar_bars", {}).values():
        sbar.SetUseOpacity(False)     # the bar shows colours whole: the volume's opacity blanked half of it
    p.add_mesh(cells.outline(), color=ink)
    mark_faces(p, shape, face, colours)
    p.add_axes()
    return meshes, actors


def mark_faces(p, shape: tuple[int, int, int], face: bool, colours: dict) -> None:
    """Where the question goes in (green, z=0) and the answer comes out (red, the top), labelled."""
    import pyvista as pv
    X, Y, Z = shape
    label_in = "question in: face z=0" if face else "question in: whole volume, into channel 0"
    label_out = f"answer out: face z={Z - 1}" if face else "answer out: whole volume, from channel 0"
    for z, colour, label in ((0.0, "#2ca02c", label_in), (float(Z), "#d62728", label_out)):
        plane = pv.Plane(center=(X / 2, Y / 2, z), direction=(0, 0, 1), i_size=X, j_size=Y)
        p.add_mesh(plane, color=colour, style="wireframe", line_width=3)
        p.add_point_labels([(X / 2, -0.8, z)], [label], font_size=12, text_color=colour, bold=True,
                           shape_color=colours["background"], shape_opacity=0.8, show_points=False,
                           always_visible=True)


def write(meshes: dict, actors: dict, mode: str, values: np.ndarray, threshold: float) -> None:
    """One frame's (X, Y, Z) values into the built scene, on a symmetric colour range; voxels hide the cells whose
    |value| is below `threshold` × the largest (a ghost flag, not a new mesh)."""
    flat = np.ascontiguousarray(values).ravel(order="F").astype(np.float32)  # VTK: x varies fastest
    lim = float(np.abs(flat).max()) or 1.0
    cells = meshes["cells"]
    cells.cell_data["activation"][:] = flat
    if mode == "voxels":
        hide = np.abs(flat) < threshold * lim
        cells.cell_data["vtkGhostType"][:] = np.where(hide, HIDDEN_CELL, 0).astype(np.uint8)
    cells.Modified()
    if mode in ("points", "volume"):
        data = meshes[mode].point_data
        data["activation"][:] = flat
        meshes[mode].Modified()
    elif mode == "slices":
        actors["main"].mapper.SetInputData(slices(cells, tuple(cells.dimensions[i] - 1 for i in range(3))))
    actors["main"].mapper.scalar_range = (-lim, lim)


def slices(cells, shape: tuple[int, int, int]):
    """Three orthogonal slices through the middle, as one PolyData the mapper can take."""
    X, Y, Z = shape
    return cells.slice_orthogonal(x=X / 2, y=Y / 2, z=Z / 2).combine().extract_surface(algorithm="dataset_surface")
