"""What a run shows: per-batch charts on a samples-seen axis, legends, the cube's captions, traced rows,
the report's figures, Evaluate on file, overlaid runs, and the labels of a separate validation file."""

import csv
import math
import threading

import numpy as np
import pytest

from gui_helpers import wait_for_run
from helpers import SAMPLE_45, SAMPLE_160

pytestmark = pytest.mark.gui


def write_val_file(path, n=20):
    """Pairs of the 160-pair sample that are not in the 45-pair table: a validation file that does not overlap."""
    table = {r["question"] for r in csv.DictReader(open(SAMPLE_45, encoding="utf-8"))}
    rows = [r for r in csv.DictReader(open(SAMPLE_160, encoding="utf-8")) if r["question"] not in table][:n]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["question", "answer", "category"])
        w.writeheader()
        w.writerows(rows)
    return path


def below_and_apart(label, plot_widget) -> bool:
    a = label.geometry()
    b = plot_widget.geometry()
    return label.parentWidget() is plot_widget.parentWidget() and a.top() >= b.bottom() and not a.intersects(b)


def test_a_run_per_batch_charts_cube_captions_traced_rows_report_and_evaluate(window, qtbot, tmp_path):
    win = window
    win.lattice.ensure_plotter()
    assert win.start_training()
    wait_for_run(qtbot, win)
    assert win.last_finished.reason == "completed" and not win.errors
    charts, run, started = win.charts, win.charts.current, win.runs.started
    n_train, bs = started.n_train, win.runs.run_config.optim.batch_size
    # one loss point per batch, at the samples seen so far; validation where each epoch ended, on the same axis
    assert run.batch_loss.n == 3 * math.ceil(n_train / bs)
    assert np.all(np.diff(run.batch_loss.x) > 0) and run.batch_loss.x[-1] == 3 * n_train
    charts.redraw()
    x, y = charts.curves["val_cosine"].xData, charts.curves["val_cosine"].yData
    assert list(x) == [n_train, 2 * n_train, 3 * n_train] and np.all(np.isfinite(y))
    bx, by = charts.batch_smooth.xData, charts.batch_smooth.yData
    assert len(bx) == run.batch_loss.n and np.all(np.isfinite(by))
    assert charts.batch_raw.opts["clipToView"] and charts.batch_raw.opts["autoDownsample"]
    # legends sit under their chart, never over it; baselines are named with their values there
    for title, plot in charts.plots.items():
        assert below_and_apart(charts.legends[title], plot.getViewWidget()), title
    ident = started.baselines["identity"]["val_cosine"]
    legend = charts.legends["Q→A cosine"].text()
    assert f"identity\xa0{ident:.3f}" in legend and "ridge" in legend     # an entry wraps as a whole (no-break spaces)
    # ETA belongs to a running run only
    assert win.training.eta.text() == "" and "completed" in win.training.train_bar.format()

    # the cube's caption says what is shown: epoch, pair, channel and step; the colour bar follows the channel
    lat = win.lattice
    steps = win.runs.run_config.lattice.steps
    assert lat.info.toolTip().startswith("epoch 3 · validation pair")
    assert f"channel 0, step {steps} of {steps}" in lat.info.toolTip()
    assert lat.step_label.text() == f"step {steps}/{steps}"
    lat.channel.setValue(1)
    lat.step.setValue(1)
    assert "channel 1, step 1 of" in lat.info.toolTip() and lat.step_label.text() == f"step 1/{steps}"
    assert [b.GetTitle() for b in lat.plotter.scalar_bars.values()] == ["channel 1"]

    # a TRAINING row traced through the trained lattice says so (not "validation pair", no fake epoch)
    row = next(i for i, p in enumerate(win.model.dataset.pairs) if win.model.splits.get(id(p)) == "train")
    threads = []
    trace = win.ask_panel.session.trace
    win.ask_panel.session.trace = lambda *a: (threads.append(threading.current_thread().name), trace(*a))[1]
    with qtbot.waitSignal(win.inspector.traced, timeout=60_000):
        assert win.inspect_row(row)
        assert lat.busy.isVisibleTo(lat)                     # busy while the teacher runs in the background
    assert threads == ["lattice-probe"]                       # never on the GUI thread
    what = lat.latest.what
    assert what.startswith(f"row {row + 1} (train pair)") and "validation" not in what and "1000000" not in what
    assert f"best epoch {win.last_finished.best_epoch}" in what and not lat.busy.isVisibleTo(lat)

    # the report's figures: the lattice beside every baseline in metrics.json, and any ablation rows present
    rep = win.report
    names = [rep.figures.item(r, 0).text() for r in range(rep.figures.rowCount())]
    assert names[:3] == ["identity (answer := question)", "mean training answer", "ridge linear map"]
    assert names[-1].startswith("lattice (best epoch")
    rep.show_figures({**rep.metrics, "ablation_no_lattice_val_cosine": 0.5, "ablation_no_lattice_val_top1": 0.25})
    row_texts = {rep.figures.item(r, 0).text(): [rep.figures.item(r, c).text() for c in range(1, 4)]
                 for r in range(rep.figures.rowCount())}
    assert row_texts["ablation: no lattice"] == ["0.500", "0.250", "–"]

    # Evaluate on file: the run's best checkpoint on a file it never saw, beside identity and ridge
    val = write_val_file(tmp_path / "other.csv")
    with qtbot.waitSignal(rep.evaluated, timeout=120_000) as done:
        assert rep.evaluate(str(val))
        assert rep.eval_busy.isVisibleTo(rep)
    result = done.args[0]
    assert result.n == 20 and result.ridge is not None
    cells = [[rep.eval_table.item(r, c).text() for c in range(4)] for r in range(3)]
    assert cells[0][1] == f"{result.identity.cosine:.3f}" and cells[2][1] == f"{result.model.cosine:.3f}"
    assert cells[1][2] == f"{result.ridge.top1:.3f}"


def test_eta_is_the_trainers_active_clock_estimate(window):
    from workbench.train.events import BatchProgress
    t = window.training
    t.set_running(True)
    # 1000 s have passed (a long pause among them): the ETA shown is the trainer's, not elapsed-based arithmetic
    t.show_batch(BatchProgress(2, 5, 10, 0.5, 1000.0, n_epochs=4, samples_seen=120, running_loss=0.4,
                               samples_per_s=33.0, eta_s=125.0))
    t._show_pending()
    assert "ETA 2 min 05 s" in t.eta.text() and "33 samples/s" in t.eta.text()
    assert t.train_bar.value() == 15 and t.train_bar.maximum() == 40
    t.set_running(False)
    assert t.eta.text() == ""


def test_validation_file_labels_only_table_rows_and_runs_overlay_with_names(window, qtbot, tmp_path):
    win = window
    val = write_val_file(tmp_path / "val.csv")
    win.training.form.set_value("optim.epochs", 1)
    assert win.training.form.set_value("split.val_file", str(val))
    assert win.start_training()
    wait_for_run(qtbot, win)
    assert win.last_finished.reason == "completed", win.errors
    # every table row trained; the file's 20 rows must not label table rows 1..20 as "val"
    assert win.runs.prepared.val_file == str(val) and win.runs.started.n_val == 20
    assert list(win.model.splits.values()) == ["train"] * win.model.rowCount()
    # a second run, then the first overlaid on it: both named in the run legend
    win.training.form.set_value("split.val_file", "")
    assert win.start_training()
    wait_for_run(qtbot, win)
    charts = win.charts
    assert [r.name for r in charts.runs] == ["run 1", "run 2"] and charts.current.name == "run 2"
    assert not charts.overlays
    charts.run_list.item(0).setCheckState(charts.run_list.item(0).checkState().__class__.Checked)
    charts.redraw()
    assert charts.overlays and all(o.getViewBox() is not None for o in charts.overlays)
    legend = charts.run_legend.text()
    assert "run 2 (current)" in legend and "run 1" in legend
    assert not charts.run_list.item(0).icon().isNull() and charts.run_list.item(1).font().bold()


def test_log_axis_labels_decades_and_never_piles_up(qtbot):
    from workbench.gui.charts.axes import LogAxis
    ax = LogAxis("left")
    ax.setLogMode(False, True)
    ax.setRange(-4.2, 0.3)                       # 1e-4 … 2: decades in view → only decades are labelled
    assert ax.logTickStrings([-4, -3, -2, -1, 0], 1.0, 1.0) == ["1e-4", "1e-3", "0.01", "0.1", "1"]
    minor = list(-3 + np.log10(np.arange(2, 10)))
    assert ax.logTickStrings(minor, 1.0, None) == [""] * 8
    ax.setRange(-2.9, -2.1)                      # inside one decade: 2e-3 and 5e-3 get labels, the rest none
    labels = ax.logTickStrings(minor, 1.0, None)
    assert [s for s in labels if s] == ["2e-3", "5e-3"]


def test_charts_take_many_batches_without_a_redraw_per_point(qtbot):
    from workbench.gui.charts.panel import ChartsPanel
    charts = ChartsPanel()
    qtbot.addWidget(charts)
    charts.show()
    charts.start_run("big", {"identity": {"val_cosine": 0.6, "val_top1": 0.5}}, 0.8, n_train=10_000)
    charts.redraw()
    before = charts.redraws
    rng = np.random.default_rng(0)
    for e in range(20):                              # 10k pairs × 20 epochs at batch 25: 8,000 batches
        for b in range(400):
            charts.add_batch(e * 10_000 + (b + 1) * 25, float(1.0 / (1 + e) + 0.05 * rng.random()), n_epochs=20)
        charts.add_epoch({"epoch": e + 1, "loss": 1.0 / (1 + e), "val_cosine": 0.6 + e / 100, "lr": 1e-3})
    assert charts.redraws == before                  # points only go into buffers; the timer redraws
    qtbot.waitUntil(lambda: charts.redraws > before, timeout=2000)
    assert len(charts.batch_raw.xData) == 8000                    # the batch curves at the first tick
    assert charts.pending_epoch_plots                              # the per-epoch plots one per tick after it
    qtbot.waitUntil(lambda: not charts.pending_epoch_plots, timeout=5000)
    assert len(charts.batch_raw.xData) == 8000 and charts.batch_raw.xData[-1] == 200_000
    assert charts.batch_raw.opts["autoDownsample"] and charts.batch_raw.opts["clipToView"]
    assert charts.current.batch_loss._x.size <= 2 * 8000          # buffers grow by doubling, not per point
    ex = charts.curves["val_cosine"].xData
    assert list(ex) == [(e + 1) * 10_000 for e in range(20)]
    base = charts.baseline_items[("Q→A cosine", "identity")].yData
    assert list(base) == [0.6, 0.6]



def test_between_epochs_a_redraw_repaints_only_the_loss_curves(qtbot):
    """Per-batch redraws feed the two batch-loss curves only; the per-epoch plots, baselines and epoch ticks are
    set again only when an epoch ends. The shared x-axis does not auto-range (it grew each redraw and, through the
    x-link, repainted every plot): it grows in doublings (next test)."""
    from workbench.gui.charts.panel import PANELS, ChartsPanel
    charts = ChartsPanel()
    qtbot.addWidget(charts)
    charts.show()
    charts.start_run("run", {"identity": {"val_cosine": 0.6, "val_top1": 0.5}}, 0.8, n_train=1_000)
    calls = {"epoch": 0, "batch": 0}
    for curve in [*charts.curves.values(), *charts.baseline_items.values(), charts.target_line]:
        original = curve.setData
        curve.setData = lambda *a, _o=original, **k: (calls.__setitem__("epoch", calls["epoch"] + 1), _o(*a, **k))
    original_batch = charts.batch_raw.setData
    charts.batch_raw.setData = lambda *a, **k: (calls.__setitem__("batch", calls["batch"] + 1), original_batch(*a, **k))
    for b in range(1, 11):                               # epoch 1 of 4: ten batches, a redraw after each
        charts.add_batch(b * 50, 1.0 / b, n_epochs=4)
        charts.redraw()
    first = calls["epoch"]
    assert calls["batch"] == 10 and 0 < first <= len(charts.curves) + len(charts.baseline_items) + 1
    for b in range(11, 21):                              # more batches, no new epoch: no per-epoch setData
        charts.add_batch(b * 50, 1.0 / b, n_epochs=4)
        charts.redraw()
    assert calls["epoch"] == first and calls["batch"] == 20
    charts.add_epoch({"epoch": 1, "samples_seen": 1_000, "loss": 0.2, "val_cosine": 0.65, "lr": 1e-3})
    charts.redraw()
    assert calls["epoch"] > first                        # an epoch ended: its points are drawn
    assert not charts.plots[PANELS[0][0]].getViewBox().autoRangeEnabled()[0]


def test_the_x_range_follows_the_data_in_doublings_and_a_new_run_resets_it(qtbot):
    """Issue 19: the first batches fill the charts (not a sliver of the planned 4,000 samples), the range grows
    by doubling when the curve reaches the edge (a handful of range changes in a whole run), ends at the planned
    run, and a new run or a manual zoom is not overridden."""
    from workbench.gui.charts.panel import PANELS, ChartsPanel
    charts = ChartsPanel()
    qtbot.addWidget(charts)
    charts.show()
    vb = charts.plots[PANELS[0][0]].getViewBox()
    changes = []
    vb.sigXRangeChanged.connect(lambda *_: changes.append(vb.viewRange()[0][1]))
    charts.start_run("run", {}, 0.8, n_train=1_000)
    changes.clear()
    for b in range(1, 5):
        charts.add_batch(b * 50, 1.0, n_epochs=4)
    charts.redraw()                                      # ranges change at the timer's redraws, not per batch
    x1 = vb.viewRange()[0][1]
    assert 200 <= x1 <= 2 * 200 * 1.03                   # 200 samples seen: they fill at least half the width
    for b in range(5, 81):                               # the whole run: 4 epochs of 20 batches of 50
        charts.add_batch(b * 50, 1.0, n_epochs=4)
        if b % 20 == 0:
            charts.add_epoch({"epoch": b // 20, "loss": 0.5, "val_cosine": 0.6, "lr": 1e-3})
        charts.redraw()
    assert 4_000 <= vb.viewRange()[0][1] <= 4_000 * 1.05  # capped at the planned end
    assert len(changes) <= 8                             # 100, 200, …, 3,200, then the cap: log2(4000/50) + 1
    assert {p.getViewBox().viewRange()[0][1] for p in charts.plots.values()} == {vb.viewRange()[0][1]}
    charts.start_run("next", {}, 0.8, n_train=500)       # a new run: nothing of the last one's range stays
    assert vb.autoRangeEnabled()[0] and charts.x_follow.span == 0
    charts.add_batch(25, 1.0, n_epochs=2)
    charts.redraw()
    assert vb.viewRange()[0][1] <= 60
    vb.sigRangeChangedManually.emit(vb.mouseEnabled())   # a zoom by the user
    charts.add_batch(2_000, 1.0, n_epochs=2)
    charts.redraw()
    assert vb.viewRange()[0][1] <= 60                    # not taken back by the next batch


def test_a_new_x_range_reaches_one_plot_per_tick_and_a_users_zoom_reaches_all_at_once(qtbot):
    """Each chart is a QGraphicsScene of its own, and Qt flushes each scene's repaint to the screen on its own:
    a range set on all five plots at once was five flushes in a row, the GUI thread's longest stall during a run
    (gui_events.py: ~100–250 ms on 2 busy cores). So the timer's redraw moves the loss plot (repainted every
    tick for its batch curves) and at most one other plot; a user's zoom still moves every plot together."""
    from workbench.gui.charts.panel import PANELS, ChartsPanel
    charts = ChartsPanel()
    qtbot.addWidget(charts)
    charts.show()
    charts.start_run("run", {}, 0.8, n_train=1_000)
    charts.add_batch(50, 1.0, n_epochs=4)
    charts.redraw()                                      # every plot at 0…100
    moved: list[str] = []
    for title, p in charts.plots.items():
        p.getViewBox().sigXRangeChanged.connect(lambda *_, t=title: moved.append(t))
    charts.add_batch(150, 1.0, n_epochs=4)               # past the edge: the range doubles
    charts.redraw(staggered=True)                        # one timer tick
    assert PANELS[0][0] in moved and len(set(moved)) == 2
    ticks = 1
    while charts.pending_epoch_plots:
        moved.clear()
        charts.redraw(staggered=True)
        ticks += 1
        assert len(set(moved) - {PANELS[0][0]}) <= 1
    assert ticks == len(PANELS) - 1
    spans = {round(p.getViewBox().viewRange()[0][1]) for p in charts.plots.values()}
    assert len(spans) == 1 and 200 <= spans.pop() <= 420
    zoomed = charts.plots["Q→A cosine"].getViewBox()     # a user's zoom on any chart: every chart at once
    zoomed.setXRange(30, 90, padding=0.0)
    zoomed.sigRangeChangedManually.emit(zoomed.mouseEnabled())
    assert {tuple(np.round(p.getViewBox().viewRange()[0])) for p in charts.plots.values()} == {(30.0, 90.0)}
    charts.add_batch(5_000, 1.0, n_epochs=4)
    charts.redraw()
    assert tuple(np.round(zoomed.viewRange()[0])) == (30.0, 90.0)   # and following stops until the next run


def test_the_learning_rate_chart_draws_the_warm_up_per_batch(qtbot):
    """A warm-up moves the rate every batch; the lr chart shows it before the first epoch ends, with one point
    per 1% step (not one per batch), so the chart repaints rarely."""
    from workbench.gui.charts.panel import ChartsPanel
    charts = ChartsPanel()
    qtbot.addWidget(charts)
    charts.show()
    charts.start_run("run", {}, 0.8, n_train=10_000)
    for b in range(1, 401):                              # warm-up over 200 batches, then constant
        charts.add_batch(b * 25, 1.0, n_epochs=2, lr=1e-3 * min(1.0, b / 200))
    charts.redraw()
    x, y = charts.batch_lr.xData, charts.batch_lr.yData
    assert len(x) >= 20 and y[0] == pytest.approx(5e-6) and y[-1] == pytest.approx(1e-3, rel=0.011)
    assert len(x) < 400 and charts.current.batch_lr.n < 200   # a point per 1% step, nothing once it stopped moving
    assert x[-1] == 400 * 25                             # the held rate runs on to the latest batch


def test_the_learning_rate_chart_holds_a_constant_rate_until_it_drops(qtbot):
    """A constant rate, then a drop (a plateau schedule): flat at the old rate up to the drop, a step there, not
    a diagonal from the first batch to the drop (the two recorded points joined)."""
    from workbench.gui.charts.panel import ChartsPanel
    charts = ChartsPanel()
    qtbot.addWidget(charts)
    charts.show()
    charts.start_run("run", {}, 0.8, n_train=1_000)
    for b in range(1, 81):                               # 1e-3 for 60 batches, then 1e-4
        charts.add_batch(b * 50, 1.0, n_epochs=4, lr=1e-3 if b <= 60 else 1e-4)
    charts.redraw()
    x, y = charts.batch_lr.getData()                     # as drawn (log y: log10 of the rate)
    assert np.interp(59 * 50, x, y) == pytest.approx(-3.0)          # just before the drop: still the old rate
    assert np.interp(70 * 50, x, y) == pytest.approx(-4.0) and x[-1] == 80 * 50


def test_stop_while_the_teacher_embeds_ends_the_run_quietly(window, qtbot, tmp_path):
    win = window
    assert win.training.form.set_value("teacher.cache_dir", str(tmp_path / "cold-cache"))   # nothing cached
    assert win.start_training()
    win.training.stop_btn.click()
    assert "stopping" in win.training.train_bar.format()
    qtbot.waitUntil(lambda: not win.run.is_running(), timeout=120_000)
    qtbot.wait(100)
    assert win.runs.started is None and win.last_finished is None   # never got to training
    assert not win.errors and win.training.start_btn.isEnabled()   # a stop is not a failure
    assert win.training.embed_bar.value() < 90                     # the teacher stopped before embedding all 90 texts


def test_a_plot_still_auto_ranging_does_not_push_its_range_onto_the_followed_charts(qtbot):
    """pyqtgraph applies a plot's own x auto-range when it paints. At a run's first ticks the plots not yet given
    the followed range still auto-range (the lr plot on its one point, 49.5…50.5): that is not a user's zoom, and
    must not be passed on to the loss plot (nor repaint every chart)."""
    from workbench.gui.charts.panel import ChartsPanel
    charts = ChartsPanel()
    qtbot.addWidget(charts)
    charts.show()
    charts.start_run("run", {}, 0.8, n_train=1_000)
    charts.add_batch(50, 1.0, n_epochs=4, lr=1e-3)
    charts.redraw(staggered=True)                        # tick 1: the loss plot takes 0…100
    qtbot.wait(100)                                      # paint: the others apply their own auto-range
    assert charts.plots["loss"].getViewBox().viewRange()[0][1] >= 100
    assert charts.x_follow.following


def test_the_auto_range_button_is_a_users_choice_and_stops_following(qtbot):
    from workbench.gui.charts.panel import ChartsPanel
    charts = ChartsPanel()
    qtbot.addWidget(charts)
    charts.show()
    charts.start_run("run", {}, 0.8, n_train=1_000)
    charts.add_batch(50, 1.0, n_epochs=4)
    charts.redraw()
    charts.plots["Q→A cosine"].autoBtnClicked()          # the small "A" in a chart's corner
    assert not charts.x_follow.following


def test_runs_shown_only_as_overlays_share_the_loss_charts_x_range(qtbot):
    """A sweep folder opened as overlaid runs (no live run): each chart would auto-range on its own points (the
    per-epoch charts start at the first epoch's end); they all take the loss chart's range, as linked axes do."""
    from workbench.gui.charts.data import RunSeries
    from workbench.gui.charts.panel import ChartsPanel
    charts = ChartsPanel()
    qtbot.addWidget(charts)
    charts.show()
    for name in ("trial-0", "trial-1"):
        run = RunSeries(name, 0.9)
        for b in range(1, 301):
            run.add_batch(b * 24, 1.0 / b, 1e-3)
            if b % 100 == 0:
                run.add_epoch({"epoch": b // 100, "loss": 0.5, "val_cosine": 0.7, "val_top1": 0.3, "lr": 1e-3,
                               "grad_norm": 1.0})
        charts.add_run(run)
        charts.set_checked(run, True)
    charts.redraw()
    qtbot.wait(200)                                      # paint: the charts apply their auto-range
    ranges = {t: tuple(np.round(p.getViewBox().viewRange()[0])) for t, p in charts.plots.items()}
    assert len(set(ranges.values())) == 1, ranges
    assert ranges["loss"][0] <= 24 and ranges["loss"][1] >= 7_200
