"""The main window: drop or open inputs, watch results stream in, inspect frames, judge them, export."""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QThread, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QFrame, QHBoxLayout, QLabel, QLineEdit, QMainWindow,
                               QMenu, QProgressBar, QPushButton, QSizePolicy, QSlider, QSpinBox, QSplitter,
                               QToolButton, QVBoxLayout, QWidget)

from artifactscope import frames
from artifactscope.artifacts import ARTIFACT_NAMES, ARTIFACTS, CLEAN, CLEAN_COLOR, color_of
from artifactscope.gui import session as S
from artifactscope.gui.widgets import (LABELLED_COLOR, EntryRole, FrameView, ResultDelegate, ResultsListModel,
                                       ResultsView, ScoreBars, Timeline, color_icon, frame_caption, text_color_on,
                                       title_of)
from artifactscope.gui.workers import HEAT, HeatOverlay, ImageCache, ScanWorker
from artifactscope.scan import near_miss

ORGANISATION = "artifactscope"
APPLICATION = "artifactscope"
MAX_RECENT = 10

FILTER_TITLES = [
    (S.FILTER_ALL, "All frames"),
    (S.FILTER_FLAGGED, "Flagged only"),
    (S.FILTER_CLEAN, "Clean only"),
    (S.FILTER_ERRORS, "Unreadable files"),
    (S.FILTER_LABELLED, "Labelled by me"),
    *[(a.name, a.title) for a in ARTIFACTS],
]
SORT_TITLES = [(S.SORT_ORDER, "Scan order"), (S.SORT_SCORE, "Score (highest first)"), (S.SORT_NAME, "Name"),
               (S.SORT_TIME, "Time (file date, video time)")]
FORMAT_SUFFIX = {"html": "html", "csv": "csv", "json": "json", "jsonl": "jsonl", "junit": "xml", "table": "txt"}
FORMAT_TITLE = {"html": "HTML report", "csv": "CSV", "json": "JSON", "jsonl": "JSON lines", "junit": "JUnit XML",
                "table": "Text table"}


def _badge_html(text: str, color: str) -> str:
    from PySide6.QtGui import QColor

    fg = text_color_on(QColor(color)).name()
    return f"<span style='background-color:{color};color:{fg};font-weight:bold'>&nbsp;{html.escape(text)}&nbsp;</span>"


def _settings_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


class SettingsDialog(QDialog):
    """Model folder, default threshold, video sampling and worker processes."""

    def __init__(self, parent, model_dir: str, threshold: float | None, every: int, jobs: int) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.model_edit = QLineEdit(model_dir)
        self.model_edit.setPlaceholderText("the shipped model")
        self.model_edit.setMinimumWidth(360)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        default = QPushButton("Use shipped model")
        default.clicked.connect(lambda: self.model_edit.setText(""))
        row.addWidget(self.model_edit, 1)
        row.addWidget(browse)
        row.addWidget(default)
        form.addRow("Model folder:", row)
        trow = QHBoxLayout()
        self.model_thresholds = QCheckBox("The model's per-class thresholds")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setValue(0.5 if threshold is None else threshold)
        self.model_thresholds.setChecked(threshold is None)
        self.threshold.setEnabled(threshold is not None)
        self.model_thresholds.toggled.connect(lambda on: self.threshold.setEnabled(not on))
        trow.addWidget(self.model_thresholds)
        trow.addWidget(self.threshold)
        form.addRow("Threshold:", trow)
        self.every = QSpinBox()
        self.every.setRange(1, 10_000)
        self.every.setValue(every)
        self.every.setSuffix(" frame(s)")
        form.addRow("Video: analyse every", self.every)
        self.jobs = QSpinBox()
        self.jobs.setRange(1, max(1, os.cpu_count() or 1))
        self.jobs.setValue(max(1, min(jobs, self.jobs.maximum())))
        form.addRow("Worker processes:", self.jobs)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder", self.model_edit.text())
        if folder:
            self.model_edit.setText(folder)

    def values(self) -> dict:
        return {
            "model_dir": self.model_edit.text().strip(),
            "threshold": None if self.model_thresholds.isChecked() else round(self.threshold.value(), 2),
            "every": self.every.value(),
            "jobs": self.jobs.value(),
        }


class MainWindow(QMainWindow):
    """The artifactscope desktop window.

    Parameters
    ----------
    settings : QSettings, optional
        Where preferences, recent items and the window layout live (default: organisation "artifactscope").
    library, library_factory :
        The sample library used for judgements (see :class:`~artifactscope.gui.session.Session`).
    model_dir : str, optional
        Model bundle folder overriding the saved preference for this window.
    """

    scanFinished = Signal(bool)  # cancelled
    entryShown = Signal(object)

    def __init__(self, settings: QSettings | None = None, library=None, library_factory=None,
                 model_dir: str | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings(ORGANISATION, APPLICATION)
        # The library reads the frame itself (image=None), video frames included.
        self.session = S.Session(library=library, library_factory=library_factory)
        self.cache = ImageCache(self)
        self.cache.changed.connect(self._on_image)
        self._bundle = None
        self._bundle_dir: str | None = None
        self._scan_thresholds: dict[str, float] | None = None
        self._worker: ScanWorker | None = None
        self._thread: QThread | None = None
        self._queued: list[str] = []
        self._current: S.Entry | None = None
        self._scan_total = 0
        self._scan_frames = 0
        self._last_scan_cancelled = False
        self._last_scan_error = ""
        self.retrain_window = None  # the open RetrainDialog, if any (one at a time)

        self.model_dir = model_dir if model_dir is not None else str(self.settings.value("model_dir", "") or "")
        t = self.settings.value("threshold", None)
        self.default_threshold = None if t in (None, "", "model") else float(t)
        self.every = int(self.settings.value("every", 1) or 1)
        self.jobs = int(self.settings.value("jobs", 1) or 1)

        self.setWindowTitle("artifactscope")
        self.setAcceptDrops(True)
        self._build_actions()
        self._build_ui()
        self._build_menus()
        self.session.subscribe(self._on_session)
        self._set_threshold_controls(self.default_threshold)
        self._restore_layout()
        self._update_counts()
        self._show_entry(None)

    # ------------------------------------------------------------------------------------------------------
    # Construction

    def _action(self, text: str, slot, shortcut=None, tip: str | None = None, checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcut:
            if isinstance(shortcut, (list, tuple)):
                a.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.setCheckable(checkable)
        if checkable:
            a.toggled.connect(slot)
        else:
            a.triggered.connect(slot)
        self.addAction(a)  # shortcuts work wherever the focus is in the window
        return a

    def _build_actions(self) -> None:
        self.act_open_files = self._action("Open files…", self.open_files_dialog, QKeySequence.StandardKey.Open,
                                           "Scan images or videos")
        self.act_open_folder = self._action("Open folder…", self.open_folder_dialog, "Ctrl+Shift+O",
                                            "Scan every image and video in a folder (recursively)")
        self.act_export = self._action("Export…", self.export_dialog, "Ctrl+E",
                                       "Save the results shown as an HTML, CSV or JSON report")
        self.act_clear = self._action("Clear results", self.clear_results, None, "Remove every result")
        self.act_settings = self._action("Settings…", self.settings_dialog, "Ctrl+,",
                                         "Model folder, threshold, video sampling")
        self.act_quit = self._action("Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_next = self._action("Next flagged frame", lambda: self.goto_flagged(1), ["N", "J"],
                                     "Next flagged frame (N or J)")
        self.act_prev = self._action("Previous flagged frame", lambda: self.goto_flagged(-1), ["P", "K"],
                                     "Previous flagged frame (P or K)")
        self.act_overlay = self._action("Show overlay", self._set_overlay, "O",
                                        "Draw the artifact's heatmap and the regions where it was found (O)",
                                        checkable=True)
        self.act_fit = self._action("Fit to window", lambda: self.view.fit(), "F")
        self.act_actual = self._action("Actual size", lambda: self.view.actual_size(), "1")
        self.act_zoom_in = self._action("Zoom in", lambda: self.view.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn)
        self.act_zoom_out = self._action("Zoom out", lambda: self.view.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)
        self.act_correct = self._action("Correct", lambda: self.judge(S.JUDGE_CORRECT), "C",
                                        "The verdict on this frame is right (C)")
        self.act_false = self._action("False alarm: clean", lambda: self.judge(S.JUDGE_CLEAN), "X",
                                      "The frame is clean (X)")
        self.act_is = self._action("It is…", self.pop_artifact_menu, "I",
                                   "The frame shows another artifact (I, then the artifact's digit)")
        self.act_cancel = self._action("Cancel scan", self.cancel_scan, "Esc")
        self.act_retrain = self._action("Retrain…", self.retrain_dialog, "Ctrl+R",
                                        "Retrain the model on your labelled frames and clean captures of your game")
        self.act_cancel.setEnabled(False)

    def _build_ui(self) -> None:
        # Toolbar: loading, export, threshold.
        tb = self.addToolBar("Main")
        tb.setObjectName("main_toolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        tb.addAction(self.act_open_files)
        tb.addAction(self.act_open_folder)
        tb.addAction(self.act_export)
        tb.addAction(self.act_settings)
        tb.addSeparator()
        box = QWidget()
        hl = QHBoxLayout(box)
        hl.setContentsMargins(8, 0, 8, 0)
        hl.addWidget(QLabel("Threshold:"))
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(0, 100)
        self.threshold_slider.setFixedWidth(220)
        self.threshold_slider.setToolTip("A frame is flagged when its score reaches the threshold (no rescan)")
        self.threshold_slider.valueChanged.connect(self._on_slider)
        self.threshold_label = QLabel()
        self.threshold_label.setMinimumWidth(150)
        self.model_thresholds = QCheckBox("Model's thresholds")
        self.model_thresholds.setToolTip("Use the per-class thresholds the model was calibrated with")
        self.model_thresholds.toggled.connect(self._on_model_thresholds)
        hl.addWidget(self.threshold_slider)
        hl.addWidget(self.threshold_label)
        hl.addWidget(self.model_thresholds)
        box.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        tb.addWidget(box)

        # Left: filter bar + list.
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(6, 6, 0, 6)
        fl = QHBoxLayout()
        self.filter_combo = QComboBox()
        for key, title in FILTER_TITLES:
            self.filter_combo.addItem(title, key)
        self.filter_combo.currentIndexChanged.connect(
            lambda _: self.session.set_filter(artifact=self.filter_combo.currentData()))
        self.min_score = QDoubleSpinBox()
        self.min_score.setRange(0.0, 1.0)
        self.min_score.setSingleStep(0.05)
        self.min_score.setDecimals(2)
        self.min_score.setPrefix("score ≥ ")
        self.min_score.setToolTip("Hide frames scoring below this")
        self.min_score.valueChanged.connect(lambda v: self.session.set_filter(min_score=v))
        self.sort_combo = QComboBox()
        for key, title in SORT_TITLES:
            self.sort_combo.addItem(title, key)
        self.sort_combo.currentIndexChanged.connect(lambda _: self.session.set_sort(self.sort_combo.currentData()))
        fl.addWidget(self.filter_combo, 2)
        fl.addWidget(self.min_score, 1)
        lv.addLayout(fl)
        sl = QHBoxLayout()
        sl.addWidget(QLabel("Sort:"))
        sl.addWidget(self.sort_combo, 1)
        lv.addLayout(sl)
        self.list_model = ResultsListModel(self.session, self)
        self.list_view = ResultsView()
        self.list_view.setModel(self.list_model)
        self.list_view.setItemDelegate(ResultDelegate(self.session, self.cache, self.list_view))
        self.list_view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.list_view.activated.connect(self._on_activated)
        self.list_view.setAcceptDrops(False)
        self.list_view.viewport().setAcceptDrops(False)
        lv.addWidget(self.list_view, 1)
        self.count_label = QLabel()
        lv.addWidget(self.count_label)

        # Right: header, viewer, timeline, details + scores + judging.
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 6, 6, 6)
        header = QHBoxLayout()
        self.title_label = QLabel()
        self.title_label.setTextFormat(Qt.TextFormat.RichText)
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        header.addWidget(self.title_label, 1)
        self.overlay_check = QCheckBox("Overlay: heatmap + regions")
        self.overlay_check.setToolTip(self.act_overlay.toolTip())
        self.overlay_check.toggled.connect(self.act_overlay.setChecked)
        self.act_overlay.toggled.connect(self.overlay_check.setChecked)
        header.addWidget(self.overlay_check)
        for act in (self.act_fit, self.act_actual):
            b = QToolButton()
            b.setDefaultAction(act)
            header.addWidget(b)
        rv.addLayout(header)
        self.view = FrameView()
        self.view.setAcceptDrops(False)
        self.view.viewport().setAcceptDrops(False)
        rv.addWidget(self.view, 1)
        self.timeline = Timeline(self.session)
        self.timeline.frameClicked.connect(self.show_entry)
        self.timeline_box = QWidget()
        tl = QVBoxLayout(self.timeline_box)
        tl.setContentsMargins(0, 2, 0, 2)
        self.timeline_title = QLabel()
        tl.addWidget(self.timeline_title)
        tl.addWidget(self.timeline)
        rv.addWidget(self.timeline_box)

        bottom = QHBoxLayout()
        self.details = QLabel()
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setWordWrap(True)
        self.details.setMinimumWidth(280)
        self.details.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bottom.addWidget(self._framed("Frame", self.details), 3)
        self.bars = ScoreBars()
        bottom.addWidget(self._framed("Scores per artifact", self.bars), 4)
        judge = QWidget()
        jv = QVBoxLayout(judge)
        jv.setContentsMargins(0, 0, 0, 0)
        self.btn_correct = QPushButton("✓  Correct")
        self.btn_correct.setToolTip(self.act_correct.toolTip())
        self.btn_correct.clicked.connect(self.act_correct.trigger)
        self.btn_false = QPushButton("False alarm: clean")
        self.btn_false.setToolTip(self.act_false.toolTip())
        self.btn_false.clicked.connect(self.act_false.trigger)
        self.btn_is = QPushButton("It is…")
        self.btn_is.setToolTip(self.act_is.toolTip())
        self.artifact_menu = QMenu(self)
        for i, a in enumerate(ARTIFACTS):  # digits 1..9, 0 pick an artifact once the menu is open (key I)
            act = self.artifact_menu.addAction(color_icon(a.color), f"&{(i + 1) % 10}  {a.title}")
            act.triggered.connect(lambda _=False, n=a.name: self.judge(S.JUDGE_ARTIFACT, n))
        self.btn_is.setMenu(self.artifact_menu)
        self.judge_status = QLabel()
        self.judge_status.setWordWrap(True)
        for w in (self.btn_correct, self.btn_false, self.btn_is):
            w.setMinimumHeight(30)
            jv.addWidget(w)
        jv.addWidget(self.judge_status)
        jv.addStretch(1)
        keys = QLabel("Keys: <b>C</b> correct · <b>X</b> false alarm · <b>I</b> then <b>1</b>–<b>0</b> the "
                      "artifact · <b>N</b>/<b>P</b> next/previous flagged · <b>O</b> overlay")
        keys.setWordWrap(True)
        keys.setStyleSheet("color: gray")
        jv.addWidget(keys)
        bottom.addWidget(self._framed("Your judgement", judge), 2)
        rv.addLayout(bottom)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([440, 1160])
        self.setCentralWidget(self.splitter)

        # Status bar: progress while scanning.
        sb = self.statusBar()
        self.model_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setFixedWidth(260)
        self.progress.setVisible(False)
        self.progress_label = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the scan (Esc); results so far are kept")
        self.cancel_button.clicked.connect(self.cancel_scan)
        self.cancel_button.setVisible(False)
        sb.addPermanentWidget(self.progress_label)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)
        sb.addPermanentWidget(self.model_label)
        self._update_model_label()

    def _framed(self, title: str, widget: QWidget) -> QWidget:
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        v = QVBoxLayout(box)
        v.setContentsMargins(8, 6, 8, 6)
        t = QLabel(f"<b>{html.escape(title)}</b>")
        v.addWidget(t)
        v.addWidget(widget, 1)
        return box

    def _build_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_open_files)
        m.addAction(self.act_open_folder)
        self.recent_menu = m.addMenu("Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._fill_recent()
        m.addSeparator()
        m.addAction(self.act_export)
        m.addAction(self.act_clear)
        m.addSeparator()
        m.addAction(self.act_settings)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&View")
        for a in (self.act_next, self.act_prev, None, self.act_overlay, self.act_fit, self.act_actual,
                  self.act_zoom_in, self.act_zoom_out):
            m.addSeparator() if a is None else m.addAction(a)
        m = mb.addMenu("&Judge")
        m.addAction(self.act_correct)
        m.addAction(self.act_false)
        m.addMenu(self.artifact_menu).setText("It is")
        m = mb.addMenu("&Scan")
        m.addAction(self.act_cancel)
        m = mb.addMenu("&Model")
        m.addAction(self.act_retrain)

    # ------------------------------------------------------------------------------------------------------
    # Settings and layout persistence

    def _restore_layout(self) -> None:
        geo = self.settings.value("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            self.resize(1600, 900)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        split = self.settings.value("window/splitter")
        if split is not None:
            self.splitter.restoreState(split)
        overlay = self.settings.value("overlay", True)
        self.act_overlay.setChecked(overlay in (True, "true", "1", 1))
        self.view.set_overlay_visible(self.act_overlay.isChecked())

    def _save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("overlay", self.act_overlay.isChecked())
        self.settings.sync()

    def recent_items(self) -> list[str]:
        return _settings_list(self.settings.value("recent", []))

    def _remember(self, paths: list[str]) -> None:
        recent = self.recent_items()
        for p in reversed(paths):
            p = os.path.abspath(p)
            if p in recent:
                recent.remove(p)
            recent.insert(0, p)
        self.settings.setValue("recent", recent[:MAX_RECENT])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = self.recent_items()
        if not items:
            a = self.recent_menu.addAction("(nothing opened yet)")
            a.setEnabled(False)
            return
        for p in items:
            a = self.recent_menu.addAction(p)
            a.triggered.connect(lambda _=False, p=p: self.open_paths([p]))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear recent items").triggered.connect(
            lambda: self.settings.setValue("recent", []))

    def closeEvent(self, event) -> None:
        self._queued.clear()
        self.cancel_scan()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(5000)
        self.cache.shutdown()
        self._save_layout()
        super().closeEvent(event)

    # ------------------------------------------------------------------------------------------------------
    # Loading

    def dragEnterEvent(self, event) -> None:
        md = event.mimeData()
        if md.hasUrls() and any(u.isLocalFile() for u in md.urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_paths(paths)

    def open_files_dialog(self) -> None:
        exts = " ".join(f"*{e}" for e in sorted(frames.IMAGE_EXTENSIONS | frames.VIDEO_EXTENSIONS))
        files, _ = QFileDialog.getOpenFileNames(self, "Open frames or videos", self._last_dir(),
                                                f"Images and videos ({exts});;All files (*)")
        if files:
            self.open_paths(files)

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open folder", self._last_dir())
        if folder:
            self.open_paths([folder])

    def _last_dir(self) -> str:
        recent = self.recent_items()
        if recent:
            p = Path(recent[0])
            return str(p if p.is_dir() else p.parent)
        return str(Path.home())

    def open_paths(self, paths: list[str]) -> None:
        """Scan `paths` (files, folders, videos); results are added to the list as they come."""
        paths = [str(p) for p in paths if str(p)]
        if not paths:
            return
        self._remember(paths)
        if self.is_scanning():
            self._queued.extend(paths)
            self.statusBar().showMessage(f"Queued {len(paths)} item(s) after the current scan", 5000)
            return
        self._start_scan(paths)

    # ------------------------------------------------------------------------------------------------------
    # Scanning

    def is_scanning(self) -> bool:
        return self._worker is not None

    def _model_dir(self) -> str | None:
        """The model chosen in Settings, else what the command line uses: the registry's active version."""
        if self.model_dir:
            return self.model_dir
        from artifactscope.registry import active_model_dir

        try:
            return str(active_model_dir())
        except Exception:  # an unreadable registry must not stop scanning: the worker loads the shipped model
            return None

    def _start_scan(self, paths: list[str]) -> None:
        target = self._model_dir() or ""
        # Reuse the loaded model only while it is still the one to use (`models activate` may have changed it).
        reuse = self._bundle if self._bundle is not None and self._bundle_dir == target else None
        worker = ScanWorker(paths, bundle=reuse, model_path=self._model_dir(), every=self.every, jobs=self.jobs)
        if reuse is not None:  # else set when the worker has loaded the model
            self._scan_thresholds = reuse.thresholds
        thread = QThread(self)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.modelLoaded.connect(self._on_model_loaded)
        worker.started.connect(self._on_scan_started)
        worker.batch.connect(self._on_batch)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_scan_finished)
        worker.finished.connect(thread.quit)
        self._worker, self._thread = worker, thread
        self._model_dir_scanning = target
        self._scan_frames = 0
        self._scan_total = 0
        self.progress.setRange(0, 0)  # busy until the files are counted
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.act_cancel.setEnabled(True)
        self.progress_label.setText("Loading model…" if reuse is None else "Counting files…")
        self.statusBar().clearMessage()
        thread.start()

    def cancel_scan(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._queued.clear()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Cancelling…")

    def _on_model_loaded(self, bundle) -> None:
        self._bundle = bundle
        # The thresholds the shown verdicts were decided with (a model chosen later applies on rescan only).
        self._scan_thresholds = bundle.thresholds
        self._bundle_dir = getattr(self, "_model_dir_scanning", self._model_dir() or "")
        self._update_model_label()

    def _on_scan_started(self, total: int) -> None:
        self._scan_total = total
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(0)
        self.progress_label.setText(f"0 / {total} files")

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress_label.setText(f"{done} / {total} files · {self._scan_frames} frames")

    def _on_batch(self, results: list) -> None:
        self._scan_frames += len(results)
        self._streaming = True  # keep the user's scroll position: no jumping back to the selected row
        try:
            self.session.add_results(results)
        finally:
            self._streaming = False
        if self._current is None and self.session.visible:
            self.list_view.setCurrentIndex(self.list_model.index(0))

    def _on_scan_finished(self, cancelled: bool, error: str) -> None:
        thread = self._thread
        self._worker = None
        self._thread = None
        if thread is not None:
            thread.quit()  # the queued quit from worker.finished has not run yet: ask now, then join
            thread.wait(2000)
            thread.deleteLater()
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.act_cancel.setEnabled(False)
        self.progress_label.setText("")
        s = self.session.summary()
        self._last_scan_cancelled = cancelled
        self._last_scan_error = error
        if error:
            self.statusBar().showMessage(f"Scan failed: {error}")
        elif cancelled:
            self.statusBar().showMessage(f"Scan cancelled after {self._scan_frames} frame(s); results so far kept")
        else:
            self.statusBar().showMessage(
                f"Scan done: {self._scan_frames} frame(s) — {s['flagged']} flagged, {s['errors']} unreadable "
                "(all results)", 15000)
        self.scanFinished.emit(cancelled)
        if self._queued and not error:
            paths, self._queued = self._queued, []
            self._start_scan(paths)

    def _update_model_label(self) -> None:
        if self._bundle is not None:
            name = self._bundle.name
        else:
            name = Path(self.model_dir).name if self.model_dir else "shipped model"
        self.model_label.setText(f"Model: {name}")

    # ------------------------------------------------------------------------------------------------------
    # Session events, list and viewer

    def _on_session(self, event: str) -> None:
        if event == "rows":
            self._restore_current()
        else:
            self.list_view.viewport().update()
        if event in ("verdicts", "labels", "rows") and self._current is not None:
            self._refresh_panels()
        self._update_counts()

    def _restore_current(self) -> None:
        if self._current is None:
            return
        # The entry may have been replaced by a rescan of the same frame.
        cur = self.session.find(*self._current.key) or self._current
        row = self.session.row_of(cur)
        sm = self.list_view.selectionModel()
        sm.blockSignals(True)
        if row is not None:
            idx = self.list_model.index(row)
            streaming = getattr(self, "_streaming", False)
            self.list_view.setAutoScroll(not streaming)  # setCurrentIndex scrolls to it when auto-scrolling
            self.list_view.setCurrentIndex(idx)
            self.list_view.setAutoScroll(True)
            if not streaming:
                self.list_view.scrollTo(idx)
        else:
            self.list_view.clearSelection()
        sm.blockSignals(False)
        self._current = cur

    def _update_counts(self) -> None:
        s = self.session.summary()
        parts = [f"{s['shown']} shown", f"{s['frames']} frames", f"{s['flagged']} flagged"]
        if s["errors"]:
            parts.append(f"{s['errors']} unreadable")
        if s["labelled"]:
            parts.append(f"{s['labelled']} labelled")
        self.count_label.setText(" · ".join(parts))
        if self.is_scanning() and self._scan_total:
            self.progress_label.setText(f"{self.progress.value()} / {self._scan_total} files · "
                                        f"{self._scan_frames} frames")

    def _on_current_changed(self, current, previous) -> None:
        if current.isValid():
            self.show_entry(current.data(EntryRole), select=False)

    def _on_activated(self, index) -> None:
        self.show_entry(index.data(EntryRole), select=False)
        self.view.fit()
        self.view.setFocus()

    def show_entry(self, entry: S.Entry | None, select: bool = True) -> None:
        """Show a frame in the viewer (and select its row when the filter shows it)."""
        if select and entry is not None:
            row = self.session.row_of(entry)
            if row is not None:
                sm = self.list_view.selectionModel()
                sm.blockSignals(True)
                idx = self.list_model.index(row)
                self.list_view.setAutoScroll(False)
                self.list_view.setCurrentIndex(idx)
                self.list_view.setAutoScroll(True)
                if not self.list_view.viewport().rect().contains(self.list_view.visualRect(idx)):
                    # A jump (timeline, screenshot script): the row in the middle, whole, with its neighbours.
                    self.list_view.scrollTo(idx, self.list_view.ScrollHint.PositionAtCenter)
                sm.blockSignals(False)
        self._show_entry(entry)

    def _show_entry(self, entry: S.Entry | None) -> None:
        self._current = entry
        if entry is None:
            self.view.message = ("Drop screenshots, folders or videos anywhere on this window"
                                 if not self.session.entries else "Select a frame in the list")
            self.view.set_image(None)
            self._overlay_state = None
            self.view.set_heatmap(None)
            self.view.set_regions([])
            self.timeline_box.setVisible(False)
            self.title_label.setText("")
            self._refresh_panels()
            return
        r = entry.result
        if r.error is not None:
            self.view.message = f"Could not read this file:\n{r.error}"
            self.view.set_image(None)
        else:
            self.view.message = "Loading…"
            full = self.cache.get((r.path, r.frame, None))
            if full is None:
                thumb = self.cache.get((r.path, r.frame, (112, 63)))
                size = (r.width, r.height) if r.width and r.height else None
                self.view.set_image(thumb, size) if thumb is not None else self.view.set_image(None)
            else:
                self.view.set_image(full)
        self._overlay_state = None
        self.view.set_heatmap(None)
        self.view.set_regions([])
        if r.frame is not None:
            self.timeline_box.setVisible(True)
        else:
            self.timeline_box.setVisible(False)
        self._refresh_panels()
        self.entryShown.emit(entry)

    def _on_image(self, key) -> None:
        self.list_view.viewport().update()
        e = self._current
        if e is None or e.error is not None:
            return
        path, frame, size = key
        if (path, frame) != e.key:
            return
        if size is not None and size[0] == HEAT:
            self._update_heat()
        elif size is None:
            err = self.cache.error(key)
            if err:
                self.view.message = f"Could not load the frame: {err}"
                self.view.set_image(None)
            else:
                self.view.set_image(self.cache.get(key), keep_view=self.view.has_image())
        elif not self.view.has_image() and self.cache.get(key) is not None:
            r = e.result
            self.view.set_image(self.cache.get(key), (r.width, r.height) if r.width else None)

    def _refresh_panels(self) -> None:
        e = self._current
        has = e is not None and e.error is None
        for w in (self.btn_correct, self.btn_false, self.btn_is):
            w.setEnabled(has)
        self.act_correct.setEnabled(has)
        self.act_false.setEnabled(has)
        self.act_is.setEnabled(has)
        self._update_heat()
        if e is None:
            self.details.setText("<i>No frame selected.</i>")
            self.bars.set_scores(None)
            self.judge_status.setText("")
            return
        r = e.result
        label, flagged = self.session.verdict(e)
        esc = html.escape
        folder = f"<span style='color:gray'>{esc(os.path.dirname(r.path))}</span>"
        rows = [("File", f"{esc(os.path.basename(r.path))}<br>{folder}")]
        if r.frame is not None:
            rows.append(("Frame", esc(frame_caption(r))))
        if r.width:
            rows.append(("Size", f"{r.width} × {r.height}"))
        if r.error is not None:
            rows.append(("Error", f"<span style='color:#c0392b'>{esc(r.error)}</span>"))
        else:
            verdict = title_of(label) if flagged else "clean"
            rows.append(("Verdict", _badge_html(verdict, color_of(label) if flagged else CLEAN_COLOR)))
            rows.append(("Score", f"{r.score:.3f}"
                         + (f" (threshold {self.session.threshold:.2f})" if self.session.threshold is not None
                            else " (model thresholds)")))
            thresholds = self.session.threshold if self.session.threshold is not None else self._scan_thresholds
            miss = near_miss(self.session.decided(e), thresholds)
            if miss:
                rows.append(("Why clean", esc(f"below the {title_of(miss[0])} threshold {miss[1]:.4g}")))
            best = title_of(e.best) if e.best else "—"
            rows.append(("Most likely", esc(best)))
            rows.append(("Regions", str(len(r.regions)) if r.regions else "none reported"))
            user = self.session.user_label(e)
            rows.append(("Labelled", _badge_html(f"✓ {title_of(user)}", LABELLED_COLOR) if user else "not yet"))
        self.details.setText("<table cellspacing=2>" + "".join(
            f"<tr><td style='color:gray;padding-right:8px'>{k}</td><td>{v}</td></tr>" for k, v in rows) + "</table>")
        user = self.session.user_label(e) if r.error is None else None
        self.judge_status.setText(f"You said: <b>{esc(title_of(user))}</b>" if user else "")
        self.bars.set_scores(r.scores if r.error is None else None, self.session.threshold)
        self.title_label.setText(f"<b>{esc(e.name)}</b>"
                                 + (f"&nbsp;&nbsp;<span style='color:gray'>{esc(frame_caption(r))}</span>"
                                    if r.frame is not None else ""))
        if r.frame is not None:
            from artifactscope.events import group_events

            entries = self.session.frames_of(r.path)
            events = group_events([self.session.decided(x) for x in entries])  # as the reports group them
            self.timeline.set_video(entries, e, events)
            n_flag = sum(self.session.is_flagged(x) for x in entries)
            self.timeline_title.setText(
                f"Timeline: {len(entries)} sampled frames, {n_flag} flagged in {len(events)} "
                f"event{'s' if len(events) != 1 else ''} — click a frame, or an event's dot for its worst frame")

    # ------------------------------------------------------------------------------------------------------
    # Navigation, overlay, threshold

    def current_row(self) -> int | None:
        idx = self.list_view.currentIndex()
        return idx.row() if idx.isValid() else None

    def goto_flagged(self, step: int) -> None:
        row = self.session.next_flagged(self.current_row(), step)
        if row is None:
            self.statusBar().showMessage("No more flagged frames " + ("below" if step > 0 else "above"), 3000)
            return
        idx = self.list_model.index(row)
        self.list_view.setCurrentIndex(idx)
        self.list_view.scrollTo(idx)

    def _set_overlay(self, on: bool) -> None:
        self.view.set_overlay_visible(on)
        self._update_heat()

    def _heat_key(self, entry: S.Entry | None):
        """Cache key of the heatmap overlay for a frame flagged under the current threshold, else None."""
        if entry is None or entry.error is not None:
            return None
        label, flagged = self.session.verdict(entry)
        if not flagged or label not in ARTIFACT_NAMES:
            return None
        return (entry.result.path, entry.result.frame, (HEAT, label))

    def _update_heat(self) -> None:
        """Show the current frame's heatmap (computed off the GUI thread on first use) and its regions.

        Regions are the scan's; a frame flagged only under the slider's threshold (the scan did not locate
        it) gets the regions found with its heatmap."""
        e = self._current
        key = self._heat_key(e)
        overlay = self.cache.get(key) if key is not None and self.act_overlay.isChecked() else None
        if not isinstance(overlay, HeatOverlay):
            overlay = None
        regions = [] if key is None else list(e.result.regions)
        if key is not None and not regions and overlay is not None:
            regions = overlay.regions
        state = (key, id(overlay), tuple(regions))
        if state == getattr(self, "_overlay_state", None):
            return
        self._overlay_state = state
        self.view.set_heatmap(overlay.image if overlay is not None else None)
        self.view.set_regions(regions)

    def _set_threshold_controls(self, threshold: float | None) -> None:
        self.model_thresholds.blockSignals(True)
        self.model_thresholds.setChecked(threshold is None)
        self.model_thresholds.blockSignals(False)
        self.threshold_slider.blockSignals(True)
        self.threshold_slider.setValue(50 if threshold is None else round(threshold * 100))
        self.threshold_slider.blockSignals(False)
        self.session.set_threshold(threshold)
        self._update_threshold_label()

    def _update_threshold_label(self) -> None:
        t = self.session.threshold
        self.threshold_label.setText("per class (model)" if t is None else f"score ≥ {t:.2f}")

    def _on_slider(self, value: int) -> None:
        self.model_thresholds.blockSignals(True)
        self.model_thresholds.setChecked(False)
        self.model_thresholds.blockSignals(False)
        self.session.set_threshold(value / 100.0)
        self._update_threshold_label()

    def _on_model_thresholds(self, on: bool) -> None:
        self.session.set_threshold(None if on else self.threshold_slider.value() / 100.0)
        self._update_threshold_label()

    def set_threshold(self, threshold: float | None) -> None:
        """Programmatic equivalent of moving the slider (None: the model's thresholds)."""
        if threshold is None:
            self.model_thresholds.setChecked(True)
        else:
            self.threshold_slider.setValue(round(threshold * 100))
            self._on_slider(self.threshold_slider.value())

    # ------------------------------------------------------------------------------------------------------
    # Judging

    def pop_artifact_menu(self) -> None:
        """Open the "It is…" menu under its button (not modal: the digit keys pick an artifact)."""
        if self._current is None or self._current.error is not None:
            return
        self.artifact_menu.popup(self.btn_is.mapToGlobal(self.btn_is.rect().bottomLeft()))

    def judge(self, judgement: str, artifact: str | None = None) -> None:
        e = self._current
        if e is None:
            self.statusBar().showMessage("Select a frame first", 3000)
            return
        try:
            label, created = self.session.judge(e, judgement, artifact)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.statusBar().showMessage(f"Could not label the frame: {exc}", 8000)
            self.judge_status.setText(f"<span style='color:#c0392b'>{html.escape(str(exc))}</span>")
            return
        what = "clean" if label == CLEAN else title_of(label)
        msg = f"Labelled {e.name}{'' if e.result.frame is None else f' frame {e.result.frame}'} as {what}"
        msg += "" if created else " (the library already had these pixels; label updated)"
        self.statusBar().showMessage(msg, 5000)
        self.judge_status.setText(f"You said: <b>{html.escape(what)}</b> (saved)")

    # ------------------------------------------------------------------------------------------------------
    # Export, settings

    def export_formats(self) -> list[str]:
        from artifactscope.reports import WRITERS

        preferred = ["html", "csv", "json", "jsonl", "junit", "table"]
        return [f for f in preferred if f in WRITERS] + sorted(set(WRITERS) - set(preferred))

    def export_to(self, path: str, fmt: str | None = None) -> int:
        """Write the results shown (with the current threshold's verdicts) to `path`; returns the count."""
        if fmt is None:
            ext = Path(path).suffix.lower().lstrip(".")
            fmt = next((f for f, s in FORMAT_SUFFIX.items() if s == ext and f in self.export_formats()), None)
            if fmt is None:
                raise ValueError(f"cannot tell the report format from {path!r}; "
                                 f"use one of: {', '.join(self.export_formats())}")
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".export-", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                n = self.session.export(fmt, fh)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return n

    def export_dialog(self) -> None:
        if not self.session.entries:
            self.statusBar().showMessage("Nothing to export yet: scan some frames first", 5000)
            return
        formats = self.export_formats()
        filters = [f"{FORMAT_TITLE.get(f, f.upper())} (*.{FORMAT_SUFFIX.get(f, f)})" for f in formats]
        path, chosen = QFileDialog.getSaveFileName(self, "Export results", os.path.join(self._last_dir(),
                                                   f"artifactscope.{FORMAT_SUFFIX.get(formats[0], formats[0])}"),
                                                   ";;".join(filters))
        if not path:
            return
        fmt = formats[filters.index(chosen)] if chosen in filters else None
        if fmt is not None and not Path(path).suffix:
            path += "." + FORMAT_SUFFIX.get(fmt, fmt)
        try:
            n = self.export_to(path, fmt)
        except Exception as exc:  # noqa: BLE001
            self.statusBar().showMessage(f"Export failed: {exc}", 10000)
            return
        self.statusBar().showMessage(f"Exported {n} result(s) to {path}", 8000)

    def settings_dialog(self) -> None:
        dlg = SettingsDialog(self, self.model_dir, self.default_threshold, self.every, self.jobs)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        self.apply_settings(**dlg.values())

    def apply_settings(self, model_dir: str, threshold: float | None, every: int, jobs: int) -> bool:
        """Apply and remember settings; a model folder that does not load is refused (status bar message)."""
        ok = True
        if model_dir != self.model_dir:
            from artifactscope.model_store import load_bundle

            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                bundle = load_bundle(model_dir or None)
            except Exception as exc:  # noqa: BLE001 - BundleError and I/O errors alike
                ok = False
                self.statusBar().showMessage(f"Model not changed: {exc}", 15000)
            else:
                self.model_dir = model_dir
                self._bundle, self._bundle_dir = bundle, model_dir
                self.settings.setValue("model_dir", model_dir)
                self.statusBar().showMessage(f"Model: {bundle.name} (rescan to apply it)", 8000)
            finally:
                QApplication.restoreOverrideCursor()
            self._update_model_label()
        self.every = int(every)
        self.jobs = int(jobs)
        self.default_threshold = threshold
        self.settings.setValue("every", self.every)
        self.settings.setValue("jobs", self.jobs)
        self.settings.setValue("threshold", "model" if threshold is None else threshold)
        self._set_threshold_controls(threshold)
        return ok

    def retrain_dialog(self):
        """Open the retrain dialog on the session's sample library (or raise the one already open).

        Returns
        -------
        RetrainDialog
            The dialog (not modal: the tester can keep judging frames while a retrain runs).
        """
        from artifactscope.gui.retrain_dialog import RetrainDialog  # only when asked for

        if self.retrain_window is not None:
            self.retrain_window.refresh()
            self.retrain_window.raise_()
            self.retrain_window.activateWindow()
            return self.retrain_window
        library, reason = None, None
        try:
            library = self.session.library
        except S.LabellingUnavailable as exc:
            reason = str(exc)
        dlg = RetrainDialog(self, library=library, library_error=reason, options={"jobs": self.jobs})
        dlg.activated.connect(self._on_model_activated)
        dlg.discarded.connect(lambda v: self.statusBar().showMessage(
            f"Discarded {v}: the active model is unchanged ({v} stays in the registry, inactive)", 10000))
        dlg.finished.connect(lambda _code: setattr(self, "retrain_window", None))
        self.retrain_window = dlg
        dlg.show()
        return dlg

    def _on_model_activated(self, version: str, folder: str) -> None:
        # The accepted version is this window's model from now on (remembered like a model chosen in Settings,
        # and so kept even where $ARTIFACTSCOPE_MODEL overrides the registry); the next scan loads it off the
        # GUI thread.
        self.model_dir = folder
        self._bundle, self._bundle_dir = None, None
        self.settings.setValue("model_dir", folder)
        self._update_model_label()
        self.statusBar().showMessage(f"{version} is now the active model; the next scans use it", 15000)

    def clear_results(self) -> None:
        if self.is_scanning():
            self.statusBar().showMessage("Cancel the scan before clearing", 3000)
            return
        self._current = None
        self.session.clear()
        self._show_entry(None)

    # Used by tests and the screenshot script.
    def wait_idle(self, timeout_ms: int = 60000) -> bool:
        """Process events until no scan runs (returns False on timeout)."""
        from PySide6.QtCore import QDeadlineTimer, QEventLoop

        deadline = QDeadlineTimer(timeout_ms)
        while self.is_scanning() and not deadline.hasExpired():
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        return not self.is_scanning()


__all__ = ["MainWindow", "SettingsDialog", "ORGANISATION", "APPLICATION"]
