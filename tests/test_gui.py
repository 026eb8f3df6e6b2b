"""The desktop application: the Qt-free session, and the window driven as a tester would (offscreen Qt)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from artifactscope.artifacts import ARTIFACT_NAMES, CLEAN  # noqa: E402
from artifactscope.scan import Region, ScanResult  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CLIP = REPO / "sample_frames" / "clean_procedural_clip.mp4"


class FakeLibrary:
    """The SampleLibrary API the GUI relies on, recording calls."""

    def __init__(self):
        self.added: list[dict] = []
        self.labels: dict = {}

    def add(self, image=None, *, label, origin, frame=None, time_s=None, verdict=None, score=None):
        created = (origin, frame) not in self.labels
        self.labels[(origin, frame)] = label
        self.added.append(dict(image=image, label=label, origin=origin, frame=frame, time_s=time_s,
                               verdict=verdict, score=score))
        return object(), created

    def label_of(self, origin, frame=None):
        return self.labels.get((origin, frame))


def _result(path, score, best="shader", threshold=0.5, frame=None, error=None, regions=()):
    if error:
        return ScanResult(path=path, frame=frame, error=error)
    scores = {a: (score if a == best else score / 10) for a in ARTIFACT_NAMES}
    corrupted = score >= threshold
    return ScanResult(path=path, frame=frame, time_s=None if frame is None else frame / 24,
                      label=best if corrupted else CLEAN, corrupted=corrupted, score=score, scores=scores,
                      regions=list(regions), width=320, height=180)


# ------------------------------------------------------------------------------------------------------------
# The Qt-free session (no display needed)


def test_session_redecides_filters_sorts_and_labels():
    from artifactscope.gui import session as S

    lib = FakeLibrary()
    s = S.Session(library=lib)
    events = []
    s.subscribe(events.append)
    s.add_results([_result("/a/b.png", 0.9), _result("/a/a.png", 0.3, best="shape"),
                   _result("/a/c.png", 0.6, best="morse_code", threshold=0.7),
                   _result("/a/bad.png", 0, error="zero-byte file")])
    assert events and len(s.visible) == 4
    # Model thresholds: the scan's own verdicts.
    assert [s.verdict(s.entries[i]) for i in range(3)] == [("shader", True), (CLEAN, False), (CLEAN, False)]
    # One threshold: flagged = score >= t, label = most likely artifact; no rescan needed.
    s.set_threshold(0.5)
    assert [s.verdict(s.entries[i]) for i in range(3)] == [("shader", True), (CLEAN, False), ("morse_code", True)]
    assert s.verdict(s.entries[3]) == (None, None)
    s.set_filter(S.FILTER_FLAGGED)
    assert [s.entry_at(r).name for r in range(len(s.visible))] == ["b.png", "c.png"]
    s.set_threshold(0.2)
    assert len(s.visible) == 3
    s.set_filter(S.FILTER_ALL, min_score=0.5)
    assert {s.entry_at(r).name for r in range(len(s.visible))} == {"b.png", "c.png", "bad.png"}  # errors stay
    s.set_filter(S.FILTER_ERRORS, min_score=0)
    assert [s.entry_at(0).name] == ["bad.png"] and len(s.visible) == 1
    s.set_filter("morse_code")
    assert [s.entry_at(0).name] == ["c.png"]
    s.set_filter(S.FILTER_ALL)
    s.set_sort(S.SORT_SCORE)
    assert [s.entry_at(r).name for r in range(4)] == ["bad.png", "b.png", "c.png", "a.png"]
    s.set_sort(S.SORT_NAME)
    assert [s.entry_at(r).name for r in range(4)] == ["a.png", "b.png", "bad.png", "c.png"]
    # Navigation among flagged frames (threshold 0.2: a, b, c flagged).
    s.set_threshold(0.55)
    assert s.next_flagged(None) == 1 and s.next_flagged(1) == 3 and s.next_flagged(3) is None
    assert s.next_flagged(3, -1) == 1
    # Judging goes to the library, and the list knows.
    entry = s.find("/a/b.png", None)
    assert s.judge(entry, S.JUDGE_CLEAN) == (CLEAN, True)
    assert lib.added[-1]["label"] == CLEAN and lib.added[-1]["origin"] == "/a/b.png"
    assert lib.added[-1]["verdict"] == "shader" and lib.added[-1]["score"] == pytest.approx(0.9)
    assert s.judge(entry, S.JUDGE_ARTIFACT, "triangulation") == ("triangulation", False)
    assert s.user_label(entry) == "triangulation" and s.summary()["labelled"] == 1
    with pytest.raises(ValueError):
        s.judge(s.find("/a/bad.png", None), S.JUDGE_CORRECT)
    # Export reflects the current threshold's verdicts.
    import io

    out = io.StringIO()
    s.set_filter(S.FILTER_ALL)
    assert s.export("json", out) == 4
    records = {r["path"]: r for r in json.loads(out.getvalue())}
    assert records["/a/c.png"]["label"] == "morse_code" and records["/a/c.png"]["corrupted"] is True
    assert records["/a/bad.png"]["error"] == "zero-byte file"


def test_session_without_library_reports_why():
    from artifactscope.gui import session as S

    def broken():
        raise ImportError("no module named artifactscope.library")

    s = S.Session(library_factory=broken)
    s.add_results([_result("/x.png", 0.9)])
    assert s.user_label(s.entries[0]) is None  # no crash while painting
    with pytest.raises(S.LabellingUnavailable, match="not available"):
        s.judge(s.entries[0], S.JUDGE_CORRECT)


# ------------------------------------------------------------------------------------------------------------
# The window


@pytest.fixture(scope="module")
def bundle(tiny_bundle):
    from artifactscope.model_store import load_bundle

    return load_bundle(tiny_bundle)


@pytest.fixture
def make_window(qtbot, tmp_path, tiny_bundle, bundle):
    from PySide6.QtCore import QSettings

    from artifactscope.gui.main_window import MainWindow

    def make(library=None, **kw):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        library = library if library is not None else FakeLibrary()  # (an empty SampleLibrary is falsy)
        w = MainWindow(settings=settings, library=library, model_dir=str(tiny_bundle), **kw)
        w._bundle, w._bundle_dir = bundle, str(tiny_bundle)  # skip reloading the model for every test
        qtbot.addWidget(w)
        w.resize(1280, 800)
        w.show()
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow, timeout=3000)  # single-key shortcuts work in the active window
        return w

    return make


def _drop(window, paths):
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    assert drop.isAccepted()


def _scan_and_wait(qtbot, window, paths, timeout=30000):
    with qtbot.waitSignal(window.scanFinished, timeout=timeout):
        _drop(window, paths)


@pytest.fixture(scope="module")
def many_frames(tmp_path_factory):
    """~200 small frames for cancel/responsiveness tests."""
    import cv2

    folder = tmp_path_factory.mktemp("many")
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (180, 320, 3), dtype=np.uint8)
    for i in range(200):
        img = np.roll(base, i * 3, axis=1)
        cv2.imwrite(str(folder / f"f{i:03d}.png"), img)
    return folder


def test_drop_files_and_folder_matches_scan(qtbot, make_window, frame_dirs, bundle):
    from artifactscope import scan

    w = make_window()
    files = sorted((frame_dirs / "beta").glob("*.png"))[:2]
    samples = [REPO / "sample_frames" / n for n in ("shader_doom_01.png", "clean_doom_01.png")]
    paths = [frame_dirs / "alpha", *files, *[p for p in samples if p.is_file()]]
    n = 8 + sum(p.is_file() for p in samples)
    _scan_and_wait(qtbot, w, paths)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # as the GUI's worker does (idle native pools spin on 2 cores)
        expected = list(scan.scan([str(p) for p in paths], bundle))
    assert len(expected) == n
    assert w.list_model.rowCount() == n
    got = {e.key: e.result for e in w.session.entries}
    for r in expected:
        g = got[(r.path, r.frame)]
        assert (g.label, g.corrupted) == (r.label, r.corrupted)
        assert g.score == pytest.approx(r.score)
    # The first result is shown in the viewer, with its scores.
    assert w._current is not None and w.bars.scores
    assert f"{n} frames" in w.count_label.text()
    assert w.recent_items()[0] == str(frame_dirs / "alpha")


def test_cancel_stops_within_a_second(qtbot, make_window, many_frames):
    from PySide6.QtCore import Qt

    w = make_window()
    _drop(w, [many_frames])
    qtbot.waitUntil(lambda: w.session.entries or w._scan_frames or w.progress.maximum() > 1, timeout=10000)
    t0 = time.monotonic()
    with qtbot.waitSignal(w.scanFinished, timeout=3000) as blocker:
        qtbot.mouseClick(w.cancel_button, Qt.MouseButton.LeftButton)
    assert time.monotonic() - t0 < 1.0
    assert blocker.args == [True]
    assert len(w.session.entries) < 200
    assert "cancelled" in w.statusBar().currentMessage()


def _ticking_timer(interval_ms: int):
    """A started QTimer that records the time of every tick: gaps between ticks are event-loop stalls."""
    from PySide6.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    return timer, ticks


def test_gui_thread_stays_responsive(qtbot, make_window, many_frames):
    w = make_window()
    timer, ticks = _ticking_timer(50)
    t0 = time.monotonic()
    _drop(w, [many_frames])
    qtbot.waitUntil(lambda: len(w.session.entries) >= 40, timeout=20000)
    elapsed = time.monotonic() - t0
    w.cancel_scan()
    qtbot.waitUntil(lambda: not w.is_scanning(), timeout=5000)
    timer.stop()
    assert elapsed > 0.3
    assert len(ticks) >= 0.4 * elapsed / 0.05, (len(ticks), elapsed)
    gaps = np.diff(ticks)
    assert gaps.max() < 0.75, gaps.max()


def test_judging_labels_the_current_frame(qtbot, make_window, frame_dirs):
    from PySide6.QtCore import Qt

    lib = FakeLibrary()
    w = make_window(library=lib)
    _scan_and_wait(qtbot, w, [frame_dirs / "gamma"])
    w.list_view.setCurrentIndex(w.list_model.index(2))
    entry = w._current
    qtbot.mouseClick(w.btn_false, Qt.MouseButton.LeftButton)
    assert lib.added[-1]["label"] == CLEAN and lib.added[-1]["origin"] == entry.result.path
    assert entry.user_label == CLEAN and "Labelled" in w.statusBar().currentMessage()
    w.artifact_menu.actions()[ARTIFACT_NAMES.index("dotted_line")].trigger()
    assert lib.labels[entry.key] == "dotted_line"
    assert "labelled: 0" not in w.count_label.text() and "1 labelled" in w.count_label.text()
    w.filter_combo.setCurrentIndex(w.filter_combo.findData("labelled"))
    assert w.list_model.rowCount() == 1
    w.list_view.grab()  # the labelled badge paints


def test_threshold_slider_changes_what_is_shown(qtbot, make_window, frame_dirs):
    w = make_window()
    _scan_and_wait(qtbot, w, [frame_dirs / "alpha", frame_dirs / "beta"])
    scores = sorted(e.score for e in w.session.entries)
    w.filter_combo.setCurrentIndex(w.filter_combo.findData("flagged"))
    w.threshold_slider.setValue(0)
    assert w.session.threshold == 0.0 and w.list_model.rowCount() == 12
    mid = round((scores[5] + scores[6]) / 2, 2)  # between two frames' scores, when they differ
    w.threshold_slider.setValue(round(mid * 100))
    assert w.list_model.rowCount() == sum(s >= w.session.threshold for s in scores)
    w.threshold_slider.setValue(100)
    assert w.list_model.rowCount() == sum(s >= 1.0 for s in scores)
    w.model_thresholds.setChecked(True)
    assert w.session.threshold is None
    assert w.list_model.rowCount() == sum(bool(e.result.corrupted) for e in w.session.entries)


def test_details_say_which_threshold_a_likely_corrupted_clean_frame_missed(qtbot, make_window, frame_dirs, bundle):
    w = make_window()
    _scan_and_wait(qtbot, w, [frame_dirs / "alpha"])  # the scan's thresholds: the model's
    t = bundle.thresholds["discoloration"]
    assert t > 0.5  # tiny model, seeded
    near = _result("/x/near.png", (0.5 + t) / 2, best="discoloration", threshold=t)
    low = _result("/x/low.png", 0.2, best="discoloration", threshold=t)
    w.session.add_results([near, low])

    def details(name):
        row = next(i for i in range(w.list_model.rowCount()) if w.session.entry_at(i).name == name)
        w.list_view.setCurrentIndex(w.list_model.index(row))
        return w.details.text()

    assert f"below the Discoloration threshold {t:.4g}" in details("near.png")
    assert "Why clean" not in details("low.png")
    w.threshold_slider.setValue(100)  # one threshold for every class: the note follows it
    assert "below the Discoloration threshold 1" in details("near.png")


def test_unreadable_file_gets_an_error_badge_and_the_rest_scan(qtbot, make_window, frame_dirs, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for p in sorted((frame_dirs / "alpha").glob("*.png"))[:3]:
        shutil.copy(p, folder / p.name)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    (folder / "empty.jpg").write_bytes(b"")
    w = make_window()
    _scan_and_wait(qtbot, w, [folder])
    errors = [e for e in w.session.entries if e.error]
    assert len(w.session.entries) == 5 and len(errors) == 2
    assert all(e.result.score is not None for e in w.session.entries if not e.error)
    row = w.session.row_of(errors[0])
    from PySide6.QtCore import Qt

    tip = w.list_model.index(row).data(Qt.ItemDataRole.ToolTipRole)
    assert "Could not be read" in tip
    from artifactscope.gui.widgets import ERROR_COLOR, row_badges

    assert all(row_badges(w.session, e) == [("unreadable", ERROR_COLOR)] for e in errors)
    from artifactscope.artifacts import ARTIFACTS

    assert {row_badges(w.session, e)[0][0] for e in w.session.entries if not e.error} <= {
        "clean", *(a.title for a in ARTIFACTS)}
    w.list_view.setCurrentIndex(w.list_model.index(row))
    assert not w.btn_correct.isEnabled() and "Error" in w.details.text()
    w.list_view.grab()  # error rows paint
    w.filter_combo.setCurrentIndex(w.filter_combo.findData("errors"))
    assert w.list_model.rowCount() == 2


def test_keyboard_navigation_overlay_and_export(qtbot, make_window, tmp_path):
    from PySide6.QtCore import Qt

    w = make_window()
    regions = [Region("shader", 0.9, (10, 20, 110, 90)), Region("shape", 0.7, (200, 50, 300, 150))]
    import cv2

    paths = [str(tmp_path / f"x{i}.png") for i in range(4)]
    for p in paths:
        cv2.imwrite(p, np.zeros((180, 320, 3), np.uint8))
    w.session.add_results([_result(paths[0], 0.1), _result(paths[1], 0.9, regions=regions),
                           _result(paths[2], 0.2), _result(paths[3], 0.8, best="shape")])
    w.list_view.setFocus()
    w.list_view.setCurrentIndex(w.list_model.index(0))
    qtbot.keyClick(w.list_view, Qt.Key.Key_N)
    assert w.current_row() == 1
    qtbot.waitUntil(w.view.has_image, timeout=5000)  # the frame loads off the GUI thread
    assert len(w.view.overlay_items()) == 4  # two boxes and their captions
    w.act_overlay.setChecked(False)
    assert w.view.overlay_items() == []
    w.act_overlay.setChecked(True)
    qtbot.keyClick(w.list_view, Qt.Key.Key_J)
    assert w.current_row() == 3
    qtbot.keyClick(w.list_view, Qt.Key.Key_P)
    assert w.current_row() == 1
    assert {"html", "csv", "json"} <= set(w.export_formats())
    for fmt in ("json", "csv"):
        out = tmp_path / f"r.{fmt}"
        assert w.export_to(str(out)) == 4
        assert out.read_text().count("x1.png") == 1
    assert w.export_to(str(tmp_path / "r.html")) == 4
    page = (tmp_path / "r.html").read_text()
    assert page.lstrip().lower().startswith("<!doctype html") and "x1.png" in page and "x3.png" in page


def test_video_timeline_and_bad_model_setting(qtbot, make_window, tmp_path):
    if not CLIP.is_file():
        pytest.skip("sample clip missing")
    w = make_window()
    w.every = 4
    _scan_and_wait(qtbot, w, [CLIP])
    assert len(w.session.entries) == 12 and all(e.result.frame is not None for e in w.session.entries)
    assert w.timeline_box.isVisible() and len(w.timeline.entries) == 12
    from PySide6.QtCore import QPoint, Qt

    x = int(w.timeline._x(40))
    qtbot.mouseClick(w.timeline, Qt.MouseButton.LeftButton, pos=QPoint(x, 20))
    assert w._current.result.frame == 40 and w.current_row() == 10
    qtbot.waitUntil(lambda: w.view.has_image(), timeout=5000)
    # A folder that is not a model: refused in the status bar, the old model kept.
    assert w.apply_settings(str(tmp_path), None, 2, 1) is False
    assert "Model not changed" in w.statusBar().currentMessage()
    assert w._bundle is not None and w.every == 2


def test_real_library_if_present(qtbot, make_window, frame_dirs, tmp_path):
    library = pytest.importorskip("artifactscope.library")
    lib = library.SampleLibrary(root=tmp_path / "lib")
    w = make_window(library=lib)
    _scan_and_wait(qtbot, w, [sorted((frame_dirs / "alpha").glob("*.png"))[0]])
    entry = w._current
    verdict = w.session.verdict(entry)[0]
    from PySide6.QtCore import Qt

    qtbot.keyClick(w.list_view, Qt.Key.Key_C)  # "correct", by keyboard
    w.judge("artifact", "shader")  # then changed to "it is: shader garbage": one sample, relabelled
    assert lib.label_of(entry.result.path, entry.result.frame) == "shader"
    from artifactscope import frames
    from artifactscope.gui.widgets import row_badges

    lib.close()
    reopened = library.SampleLibrary(root=tmp_path / "lib")  # written to disk, not only in memory
    [sample] = reopened.samples()
    assert (sample.label, sample.origin, sample.verdict) == ("shader", entry.result.path, verdict)
    history = reopened.history(sample.id)
    assert (history[0].action, history[0].label) == ("add", verdict) and history[-1].label == "shader"
    assert np.array_equal(frames.read_image(sample.path), frames.read_image(entry.result.path))
    assert row_badges(w.session, entry)[-1][0] == "✓ labelled Shader garbage"
    reopened.close()


def test_overlay_shows_heatmap_and_regions(qtbot, make_window):
    """A flagged frame gets a heatmap (computed off the GUI thread) under its region outlines; the overlay
    switch hides both; a frame flagged only under the slider's threshold is localised on demand."""
    sample = REPO / "sample_frames" / "morse_code_sprites2d_01.png"
    clean = REPO / "sample_frames" / "clean_doom_01.png"
    if not sample.is_file():
        pytest.skip("sample frames missing")
    w = make_window()
    # The morse-code frame as the scan would report it, but without regions (as when only the slider flags it).
    w.session.add_results([_result(str(sample), 0.6, best="morse_code", threshold=0.9),
                           _result(str(clean), 0.05)])
    w.act_overlay.setChecked(True)
    w.list_view.setCurrentIndex(w.list_model.index(0))
    assert not w.session.is_flagged(w._current)
    qtbot.wait(300)
    assert not w.view.heatmap_shown() and w.view.overlay_items() == []  # clean under the model's thresholds
    w.set_threshold(0.5)  # now flagged: the heatmap and regions come without a rescan
    qtbot.waitUntil(w.view.heatmap_shown, timeout=10000)
    qtbot.waitUntil(lambda: len(w.view.overlay_items()) >= 2, timeout=5000)
    heat = w.view._heat_image.convertToFormat(w.view._heat_image.Format.Format_RGBA8888)
    red = np.frombuffer(heat.constBits(), np.uint8).reshape(heat.height(), heat.width(), 4)[..., 0]
    assert (red > 200).mean() > 0.005 and (red == 0).mean() > 0.1  # hot somewhere, dimmed (no heat) elsewhere
    w.act_overlay.setChecked(False)
    assert not w.view.heatmap_shown() and w.view.overlay_items() == []
    w.act_overlay.setChecked(True)
    assert w.view.heatmap_shown()
    w.list_view.setCurrentIndex(w.list_model.index(1))  # a clean frame: no overlay at all
    assert not w.view.heatmap_shown() and w.view.overlay_items() == []


def test_timeline_marks_events_and_jumps(qtbot, make_window):
    """Runs of flagged video frames show as events (grouped as the reports group them); clicking an event's
    marker jumps to its worst frame, clicking the strip to the nearest sampled frame."""
    if not CLIP.is_file():
        pytest.skip("sample clip missing")
    w = make_window()
    scores = {8: 0.7, 12: 0.9, 16: 0.6, 32: 0.8}  # two events: frames 8-16 (peak 12) and frame 32
    w.session.add_results([_result(str(CLIP), scores.get(f, 0.1), best="morse_code" if f == 32 else "shader",
                                   frame=f) for f in range(0, 48, 4)])
    w.list_view.setCurrentIndex(w.list_model.index(0))
    tl = w.timeline
    assert w.timeline_box.isVisible()
    assert [(ev.start_frame, ev.end_frame, ev.label, ev.peak_frame) for ev in tl.events] == [
        (8, 16, "shader", 12), (32, 32, "morse_code", 32)]
    assert "2 events" in w.timeline_title.text() and "4 flagged" in w.timeline_title.text()
    from PySide6.QtCore import QPoint, Qt

    x0, x1 = tl._event_span(tl.events[0])
    qtbot.mouseClick(tl, Qt.MouseButton.LeftButton, pos=QPoint(int(x0 + 2), 4))  # the event's marker row
    assert w._current.result.frame == 12
    qtbot.mouseClick(tl, Qt.MouseButton.LeftButton, pos=QPoint(int(tl._x(37)), 30))
    assert w._current.result.frame == 36 and w.current_row() == 9
    # The slider re-groups without rescanning: at 0.75 only frames 12 and 32 remain, two one-frame events.
    w.set_threshold(0.75)
    assert [(ev.start_frame, ev.end_frame) for ev in tl.events] == [(12, 12), (32, 32)]
    tl.grab()  # paints


def test_keyboard_opens_and_labels(qtbot, make_window, tmp_path):
    """Enter opens the frame in the viewer; C, X and I + digit label it, without touching the mouse."""
    import cv2
    from PySide6.QtCore import Qt

    from artifactscope.gui.widgets import LABELLED_COLOR, row_badges

    lib = FakeLibrary()
    w = make_window(library=lib)
    paths = [str(tmp_path / f"k{i}.png") for i in range(3)]
    for p in paths:
        cv2.imwrite(p, np.full((90, 160, 3), 60, np.uint8))
    w.session.add_results([_result(paths[0], 0.9), _result(paths[1], 0.2), _result(paths[2], 0.8, best="shape")])
    w.list_view.setFocus()
    w.list_view.setCurrentIndex(w.list_model.index(0))
    qtbot.keyClick(w.list_view, Qt.Key.Key_Down)
    qtbot.keyClick(w.list_view, Qt.Key.Key_Return)  # open: shown in the viewer, which takes the focus
    assert w._current.result.path == paths[1] and w.view.hasFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_C)  # correct: the verdict (clean) is right
    assert lib.added[-1]["origin"] == paths[1] and lib.added[-1]["label"] == CLEAN
    qtbot.keyClick(w.view, Qt.Key.Key_N)  # next flagged frame
    assert w._current.result.path == paths[2]
    qtbot.keyClick(w.view, Qt.Key.Key_X)  # false alarm
    assert lib.added[-1] == {**lib.added[-1], "origin": paths[2], "label": CLEAN, "verdict": "shape"}
    qtbot.keyClick(w.view, Qt.Key.Key_I)  # "it is…": the menu opens, a digit picks the artifact
    qtbot.waitUntil(w.artifact_menu.isVisible, timeout=3000)
    digit = (ARTIFACT_NAMES.index("morse_code") + 1) % 10
    qtbot.keyClick(w.artifact_menu, getattr(Qt.Key, f"Key_{digit}"))
    qtbot.waitUntil(lambda: not w.artifact_menu.isVisible(), timeout=3000)
    assert lib.added[-1]["origin"] == paths[2] and lib.added[-1]["label"] == "morse_code"
    assert len(lib.added) == 3
    # The list shows which frames were labelled.
    entry = w.session.find(paths[2], None)
    assert row_badges(w.session, entry)[-1] == ("✓ labelled Morse code", LABELLED_COLOR)
    from artifactscope.artifacts import color_of

    assert row_badges(w.session, w.session.find(paths[0], None)) == [("Shader garbage", color_of("shader"))]


@pytest.fixture(scope="module")
def folder_5000(tmp_path_factory):
    """5,000 real (tiny) frame files in one folder."""
    import cv2

    folder = tmp_path_factory.mktemp("five-thousand")
    rng = np.random.default_rng(5)
    tiles = [rng.integers(0, 255, (18, 32, 3), dtype=np.uint8) for _ in range(16)]
    for i in range(5000):
        cv2.imwrite(str(folder / f"frame_{i:05d}.png"), tiles[i % 16])
    return folder


def test_5000_frame_folder_streams_without_freezing(qtbot, make_window, folder_5000, monkeypatch):
    """The GUI side of a 5,000-frame scan: results arriving faster than any real scan could produce them
    (about 5,000 a second, sorted by score and filtered while they stream, thumbnails loading) never stall the
    event loop, and every frame ends up in the list."""
    from artifactscope.gui import workers

    def fast_scan(paths, bundle, *, progress=None, cancel=None, **_):
        files = sorted(folder_5000.glob("*.png"))
        for i, f in enumerate(files):
            if cancel is not None and cancel():
                return
            if i % 5 == 0:
                time.sleep(0.001)
            if progress is not None:
                progress(i + 1, len(files))
            yield _result(str(f), ((i * 37) % 100) / 100, best=ARTIFACT_NAMES[i % len(ARTIFACT_NAMES)])

    monkeypatch.setattr(workers.scan_mod, "scan", fast_scan)
    w = make_window()
    w.sort_combo.setCurrentIndex(w.sort_combo.findData("score"))
    w.filter_combo.setCurrentIndex(w.filter_combo.findData("flagged"))
    w.set_threshold(0.3)
    timer, ticks = _ticking_timer(20)
    t0 = time.monotonic()
    with qtbot.waitSignal(w.scanFinished, timeout=60000):
        _drop(w, [folder_5000])
        qtbot.waitUntil(lambda: w.progress.maximum() == 5000, timeout=20000)  # the count came first
    elapsed = time.monotonic() - t0
    w.list_view.verticalScrollBar().setValue(w.list_view.verticalScrollBar().maximum() // 2)  # thumbnails
    qtbot.wait(300)
    timer.stop()
    assert len(w.session.entries) == 5000
    assert w.list_model.rowCount() == sum(((i * 37) % 100) >= 30 for i in range(5000))  # flagged at 0.3
    scores = [w.session.entry_at(r).score for r in range(w.list_model.rowCount())]
    assert scores == sorted(scores, reverse=True)
    assert "5000 frames" in w.count_label.text()
    gaps = np.diff(ticks)
    print(f"5000 frames streamed in {elapsed:.2f} s, {len(ticks)} ticks, longest gap {gaps.max() * 1000:.0f} ms")
    # Unbatched, the event loop stalls for ~7.5 s here; a quiet machine shows ~40 ms. The margin is for a CI
    # machine whose two cores also run the other test worker (553 ms was seen under a load of 8).
    assert gaps.max() < 1.5, (gaps.max(), elapsed)
    assert len(ticks) >= 0.25 * (time.monotonic() - t0) / 0.02, (len(ticks), elapsed)


def test_settings_recent_items_and_window_state_are_remembered(qtbot, tmp_path, tiny_bundle, frame_dirs):
    """Model, threshold and video sampling (Settings), recent items and the window layout survive a restart;
    a recent item scans again from the File menu."""
    from PySide6.QtCore import QSettings

    from artifactscope.gui.main_window import MainWindow, SettingsDialog

    path = str(tmp_path / "settings.ini")
    w1 = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat), library=FakeLibrary())
    qtbot.addWidget(w1)
    w1.show()
    dlg = SettingsDialog(w1, "", None, 1, 1)
    dlg.model_edit.setText(str(tiny_bundle))
    dlg.model_thresholds.setChecked(False)
    dlg.threshold.setValue(0.4)
    dlg.every.setValue(3)
    values = dlg.values()
    assert values == {"model_dir": str(tiny_bundle), "threshold": 0.4, "every": 3, "jobs": 1}
    assert w1.apply_settings(**values)
    assert w1.session.threshold == 0.4 and w1.threshold_slider.value() == 40
    with qtbot.waitSignal(w1.scanFinished, timeout=30000):
        w1.open_paths([str(frame_dirs / "beta")])
    assert w1.model_label.text() == "Model: tiny"
    w1.act_overlay.setChecked(False)
    w1.resize(w1.minimumSizeHint().width(), 650)  # (the offscreen screen is 800 px wide: no wider)
    w1.splitter.setSizes([300, w1.width() - 300])
    sizes, size = w1.splitter.sizes(), w1.size()
    w1.close()

    w2 = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat), library=FakeLibrary())
    qtbot.addWidget(w2)
    w2.show()
    assert (w2.model_dir, w2.default_threshold, w2.every) == (str(tiny_bundle), 0.4, 3)
    assert w2.session.threshold == 0.4 and w2.threshold_slider.value() == 40
    assert not w2.act_overlay.isChecked() and not w2.overlay_check.isChecked()
    assert w2.size() == size and size.height() == 650 and w2.splitter.sizes() == sizes
    w2._fill_recent()
    recent = [a for a in w2.recent_menu.actions() if a.text() == str(frame_dirs / "beta")]
    assert len(recent) == 1
    with qtbot.waitSignal(w2.scanFinished, timeout=30000):
        recent[0].trigger()
    assert len(w2.session.entries) == 6 and w2.model_label.text() == "Model: tiny"
    w2.close()
