"""The retrain dialog: labelled samples per class, clean captures, a background retrain, before/after figures,
Accept or Discard.

The dialog calls the same core functions as the command line: :func:`artifactscope.retrain.retrain` (what
``artifactscope retrain`` runs), in a :class:`~artifactscope.gui.workers.RetrainWorker` off the GUI thread,
then :meth:`artifactscope.registry.ModelRegistry.activate` (what ``artifactscope models activate`` runs) on
Accept. A retrain registers its candidate as a new, inactive version; Accept activates it through the
registry's quality gate, and a refusal is shown with its reason and an explicit, confirmed "Activate anyway".
Discard leaves the active model as it is: the candidate stays registered but inactive, as after
``artifactscope retrain`` without ``--activate`` (the registry keeps every version; it has no delete).
"""

from __future__ import annotations

import html
import math
import os
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QElapsedTimer, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QAbstractScrollArea, QApplication, QDialog, QFileDialog,
                               QGroupBox, QHBoxLayout, QHeaderView, QLabel, QListWidget, QMessageBox, QProgressBar,
                               QPushButton, QSizePolicy, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from artifactscope.artifacts import CLEAN, CLEAN_COLOR, LABELS, color_of
from artifactscope.gui.widgets import ERROR_COLOR, LABELLED_COLOR, color_icon, title_of
from artifactscope.gui.workers import RetrainWorker

if TYPE_CHECKING:  # the registry and retrain modules are imported when used, not with the GUI
    from artifactscope.registry import ModelRegistry
    from artifactscope.retrain import RetrainResult

__all__ = ["RetrainDialog"]

# Held-out parts that retrain.retrain evaluates on, in the order shown.
PART_TITLES = {
    "library": "Your labelled samples",
    "captures": "Your clean captures\n(with synthesised artifacts)",
    "base": "Base validation samples",
}
# (metric key, title, higher is better)
MEASURES = (
    ("accuracy", "Binary accuracy (corrupted vs clean)", True),
    ("fpr", "False alarms on clean frames", False),
    ("recall", "Corrupted frames found (recall)", True),
    ("type_accuracy", "Right artifact type", True),
)
STAGE_TITLES = {
    "loading the active model": "Loading the active model",
    "library": "Reading your labelled samples",
    "captures": "Synthesising artifacts on your captures",
    "fitting": "Fitting",
    "evaluating": "Comparing with the active model",
    "saving": "Saving the new version",
}
MUTED = "#707070"


def _stage_text(stage: str) -> str:
    """A readable line for a ``retrain`` progress stage (``"fitting: expert shader (fold 1)"``)."""
    head, _, rest = stage.partition(": ")
    title = STAGE_TITLES.get(head, head[:1].upper() + head[1:])
    return f"{title}: {rest}" if rest else title


def _percent(value: Any) -> str:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f"{100 * value:.1f} %"
    return "n/a"


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


class RetrainDialog(QDialog):
    """Retrain the model on the tester's labelled samples and clean captures, then accept or discard it.

    Parameters
    ----------
    parent : QWidget, optional
        The main window.
    library : SampleLibrary or None
        The labelled-sample library whose counts are shown and whose samples are trained on (None: no library;
        `library_error` says why).
    library_error : str, optional
        Why there is no library (shown in place of the counts).
    registry : ModelRegistry or path-like, optional
        Where the candidate is registered and activated (default: the same registry as the command line).
    options : dict, optional
        More keyword arguments for :func:`artifactscope.retrain.retrain` (``jobs``, ``max_base``,
        ``per_frame``, ``cache_dir``, ``fit_params``, ...). Kept in :attr:`options`; change it before
        :meth:`start_retrain` to retrain otherwise.
    tolerance : float, optional
        The activation gate's tolerance (default: the registry's, as ``artifactscope models activate``).

    Notes
    -----
    Signals: ``activated(version, folder)`` after Accept made the candidate the active model,
    ``discarded(version)`` after Discard, ``retrainProgress(stage, done, total)`` while retraining,
    ``retrainFinished(ok)`` when a retrain ends (False: failed or cancelled).
    """

    activated = Signal(str, str)
    discarded = Signal(str)
    retrainProgress = Signal(str, int, int)
    retrainFinished = Signal(bool)

    def __init__(self, parent: QWidget | None = None, *, library: Any = None, library_error: str | None = None,
                 registry: ModelRegistry | str | os.PathLike | None = None, options: dict | None = None,
                 tolerance: float | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retrain the model")
        self.library = library
        self.library_error = library_error
        self.options: dict = dict(options or {})
        self.tolerance = tolerance
        self.retrain_result: RetrainResult | None = None
        self._registry_arg = registry
        self._registry: ModelRegistry | None = None
        self._worker: RetrainWorker | None = None
        self._thread: QThread | None = None
        self._close_when_done = False
        self._refusal: str | None = None
        self._stage = ""
        self._elapsed = QElapsedTimer()
        self._tick = QTimer(self)
        self._tick.setInterval(1000)  # the elapsed time moves on during a long expert fit, too
        self._tick.timeout.connect(self._update_stage_label)
        self._build_ui()
        self.refresh()
        self.resize(1180, 840)
        app = QApplication.instance()
        if app is not None:  # a retrain still running when the application quits is stopped, not killed
            app.aboutToQuit.connect(self._stop_for_quit)

    # ------------------------------------------------------------------------------------------------------
    # Construction

    def _build_ui(self) -> None:
        outer = QVBoxLayout(self)
        self.header = QLabel()
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        outer.addWidget(self.header)

        columns = QHBoxLayout()
        outer.addLayout(columns, 1)

        # Left: what the library holds.
        counts_box = QGroupBox("Labelled samples per class")
        cv = QVBoxLayout(counts_box)
        self.counts_table = QTableWidget(0, 2)
        self.counts_table.setHorizontalHeaderLabels(["Class", "Samples"])
        self.counts_table.verticalHeader().setVisible(False)
        self.counts_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.counts_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.counts_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        hh = self.counts_table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        # As tall as its rows (no empty grid below the total); scrolls only when the dialog is made small.
        self.counts_table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.counts_table.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        cv.addWidget(self.counts_table)
        self.library_label = QLabel()
        self.library_label.setWordWrap(True)
        self.library_label.setTextFormat(Qt.TextFormat.RichText)
        cv.addWidget(self.library_label)
        how = QLabel("Every judgement in the main window adds a sample here: <b>C</b> (the verdict is correct), "
                     "<b>X</b> (false alarm: clean) or <b>It is…</b> (another artifact). A few dozen per class "
                     "make a difference; held-out ones measure it below.")
        how.setWordWrap(True)
        how.setTextFormat(Qt.TextFormat.RichText)
        how.setStyleSheet(f"color: {MUTED}")
        cv.addSpacing(8)
        cv.addWidget(how)
        cv.addStretch(1)
        counts_box.setMinimumWidth(300)
        counts_box.setMaximumWidth(380)
        columns.addWidget(counts_box)

        right = QVBoxLayout()
        columns.addLayout(right, 1)

        # Right, top: clean captures of the studio's game ("teach it my game").
        caps_box = QGroupBox("Clean captures of your game (optional)")
        kv = QVBoxLayout(caps_box)
        hint = QLabel("Folders of frames without artifacts, one sub-folder per game or level. Artifacts are "
                      "synthesised on them, so the model learns what your game looks like when it is clean.")
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color: {MUTED}")
        kv.addWidget(hint)
        row = QHBoxLayout()
        self.captures_list = QListWidget()
        self.captures_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.captures_list.setMaximumHeight(88)
        self.captures_list.itemSelectionChanged.connect(self._update_buttons)
        row.addWidget(self.captures_list, 1)
        bcol = QVBoxLayout()
        self.add_folder_button = QPushButton("Add folder…")
        self.add_folder_button.clicked.connect(self._browse_capture_folder)
        self.remove_folder_button = QPushButton("Remove")
        self.remove_folder_button.clicked.connect(self.remove_selected_folders)
        bcol.addWidget(self.add_folder_button)
        bcol.addWidget(self.remove_folder_button)
        bcol.addStretch(1)
        row.addLayout(bcol)
        kv.addLayout(row)
        right.addWidget(caps_box)

        # Right, middle: the run.
        run = QHBoxLayout()
        self.retrain_button = QPushButton("Retrain")
        self.retrain_button.setToolTip("Refit the model on its training samples, your labelled samples and your "
                                       "captures, in the background (the same as `artifactscope retrain`)")
        self.retrain_button.setMinimumHeight(30)
        self.retrain_button.clicked.connect(self.start_retrain)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop retraining; the registry and the active model stay as they are")
        self.cancel_button.clicked.connect(self.cancel_retrain)
        self.cancel_button.setVisible(False)
        run.addWidget(self.retrain_button)
        run.addWidget(self.progress_bar, 1)
        run.addWidget(self.cancel_button)
        right.addLayout(run)
        self.stage_label = QLabel("Ready.")
        self.stage_label.setWordWrap(True)
        right.addWidget(self.stage_label)

        # Right, bottom: before / after.
        figs_box = QGroupBox("Before and after, on samples held out of the training")
        fv = QVBoxLayout(figs_box)
        self.verdict_label = QLabel("Retrain to compare the new model with the active one.")
        self.verdict_label.setTextFormat(Qt.TextFormat.RichText)
        self.verdict_label.setWordWrap(True)
        fv.addWidget(self.verdict_label)
        self.figures_table = QTableWidget(0, 5)
        self.figures_table.verticalHeader().setVisible(False)
        # Compact rows: three groups of four figures fit without a scroll bar at the dialog's size.
        self.figures_table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.figures_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.figures_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.figures_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._set_figure_headers("active", "new")
        self.figures_table.setWordWrap(True)
        fh = self.figures_table.horizontalHeader()
        # The part's title spans its four rows: a fixed width that wraps it, rows of one height.
        fh.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self.figures_table.setColumnWidth(0, 190)
        fh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for c in (2, 3, 4):
            fh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        fv.addWidget(self.figures_table, 1)
        self.notes_label = QLabel()
        self.notes_label.setTextFormat(Qt.TextFormat.RichText)
        self.notes_label.setWordWrap(True)
        self.notes_label.setStyleSheet(f"color: {MUTED}")
        self.notes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        fv.addWidget(self.notes_label)
        right.addWidget(figs_box, 1)

        # Bottom: messages and the decision.
        self.message_label = QLabel()
        self.message_label.setTextFormat(Qt.TextFormat.RichText)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        outer.addWidget(self.message_label)
        buttons = QHBoxLayout()
        self.accept_button = QPushButton("Accept")
        self.accept_button.setToolTip("Make the new version the active model (refused when it is worse than the "
                                      "active one; the same check as `artifactscope models activate`)")
        self.accept_button.clicked.connect(self.accept_candidate)
        self.force_button = QPushButton("Activate anyway…")
        self.force_button.setToolTip("Activate the new version although the check refused it (asks first)")
        self.force_button.clicked.connect(self.activate_anyway)
        self.force_button.setVisible(False)
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Keep the active model; the new version stays in the registry, inactive")
        self.discard_button.clicked.connect(self.discard_candidate)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        for b in (self.accept_button, self.force_button, self.discard_button, self.close_button):
            b.setMinimumHeight(30)
            b.setAutoDefault(False)  # Enter must not accept a model by accident
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.force_button)
        buttons.addStretch(1)
        buttons.addWidget(self.discard_button)
        buttons.addWidget(self.close_button)
        outer.addLayout(buttons)
        self._update_buttons()

    def _set_figure_headers(self, before: str, after: str) -> None:
        self.figures_table.setHorizontalHeaderLabels(
            ["Held-out samples", "Measure", f"Before: {before}", f"After: {after}", "Change"])
        change = self.figures_table.horizontalHeaderItem(4)
        change.setToolTip("After minus before, in percentage points (green: better, red: worse)")

    # ------------------------------------------------------------------------------------------------------
    # State

    def registry(self) -> ModelRegistry:
        """The model registry (opened on first use); raises RegistryError with the reason."""
        if self._registry is None:
            from artifactscope.registry import ModelRegistry

            arg = self._registry_arg
            self._registry = arg if isinstance(arg, ModelRegistry) else ModelRegistry(arg)
        return self._registry

    def is_running(self) -> bool:
        """Whether a retrain is running in the background."""
        return self._worker is not None

    def refresh(self) -> None:
        """Re-read the library's counts and the active model (the tester may label frames meanwhile)."""
        self._fill_counts()
        try:
            reg = self.registry()
            active = reg.active()
            note = reg.info(active).note
        except Exception as exc:  # noqa: BLE001 - RegistryError, OSError: shown, the dialog stays usable
            self.header.setText(f"<b>The model registry cannot be used:</b> {html.escape(str(exc))}")
            return
        about = f" ({html.escape(note)})" if note else ""
        self.header.setText(
            f"Retraining starts from the active model <b>{html.escape(active)}</b>{about} and registers the "
            "result as a new version. It becomes the active model only when you accept it."
            f"<br><span style='color:{MUTED}'>Registry: {html.escape(str(reg.root))}</span>")

    def counts(self) -> dict[str, int] | None:
        """Labelled samples per class (every class, clean included), or None without a usable library."""
        if self.library is None:
            return None
        return {label: int(n) for label, n in self.library.counts().items()}

    def _fill_counts(self) -> None:
        table = self.counts_table
        try:
            counts = self.counts()
        except Exception as exc:  # noqa: BLE001 - a broken index must not take the dialog down
            counts, self.library_error = None, f"the sample library cannot be read ({exc})"
        table.setRowCount(0)
        if counts is None:
            why = self.library_error or "no sample library"
            self.library_label.setText(f"<span style='color:{ERROR_COLOR}'>{html.escape(why)}</span><br>"
                                       "Retraining uses the model's own samples and your captures only.")
            return
        labels = [*LABELS, *sorted(set(counts) - set(LABELS))]
        table.setRowCount(len(labels) + 1)
        for r, label in enumerate(labels):
            color = CLEAN_COLOR if label == CLEAN else color_of(label)
            name = QTableWidgetItem(color_icon(color), title_of(label) if label in LABELS else label)
            name.setData(Qt.ItemDataRole.UserRole, label)
            n = QTableWidgetItem(str(counts.get(label, 0)))
            n.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if not counts.get(label, 0):
                n.setForeground(QColor(MUTED))
            table.setItem(r, 0, name)
            table.setItem(r, 1, n)
        total = sum(counts.values())
        bold = QFont(table.font())
        bold.setBold(True)
        t_name, t_n = QTableWidgetItem("Total"), QTableWidgetItem(str(total))
        t_n.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for item in (t_name, t_n):
            item.setFont(bold)
        table.setItem(len(labels), 0, t_name)
        table.setItem(len(labels), 1, t_n)
        table.resizeRowsToContents()
        root = getattr(self.library, "root", None)
        where = f"<span style='color:{MUTED}'>Library: {html.escape(str(root))}</span>" if root else ""
        hint = "" if total else "<b>No labelled frames yet.</b><br>"
        self.library_label.setText(hint + where)

    def capture_folders(self) -> list[str]:
        """The clean-capture folders listed."""
        return [self.captures_list.item(i).text() for i in range(self.captures_list.count())]

    def add_capture_folder(self, path: str | os.PathLike) -> bool:
        """List a folder of clean captures; False (and a message) when it is not a folder or already listed."""
        folder = os.path.abspath(os.fspath(path))
        if not os.path.isdir(folder):
            self._message(f"{folder}: no such folder", error=True)
            return False
        if folder in self.capture_folders():
            return False
        self.captures_list.addItem(folder)
        self._update_buttons()
        return True

    def remove_selected_folders(self) -> None:
        for item in self.captures_list.selectedItems():
            self.captures_list.takeItem(self.captures_list.row(item))
        self._update_buttons()

    def _browse_capture_folder(self) -> None:
        folders = self.capture_folders()
        start = os.path.dirname(folders[-1]) if folders else os.path.expanduser("~")
        folder = QFileDialog.getExistingDirectory(self, "Folder of clean captures", start)
        if folder:
            self.add_capture_folder(folder)

    def _update_buttons(self) -> None:
        running = self.is_running()
        result = self.retrain_result
        has_candidate = not running and result is not None and result.version is not None
        self.retrain_button.setEnabled(not running)
        self.retrain_button.setText("Retrain again" if result is not None and not running else "Retrain")
        self.add_folder_button.setEnabled(not running)
        self.remove_folder_button.setEnabled(not running and bool(self.captures_list.selectedItems()))
        self.cancel_button.setVisible(running)
        self.accept_button.setEnabled(has_candidate and self._refusal is None)
        self.force_button.setVisible(has_candidate and self._refusal is not None)
        self.discard_button.setEnabled(has_candidate)
        if result is not None and result.version is not None:
            self.accept_button.setText(f"Accept: make {result.version} active")
        else:
            self.accept_button.setText("Accept")

    def _message(self, text: str, error: bool = False) -> None:
        color = ERROR_COLOR if error else LABELLED_COLOR
        self.message_label.setText(f"<span style='color:{color}'>{html.escape(text)}</span>" if text else "")

    def _library_argument(self) -> Any:
        """What ``retrain(library=...)`` gets: the library itself, its folder, or False for none."""
        lib = self.library
        if lib is None:
            return False
        from artifactscope.library import SampleLibrary

        if isinstance(lib, SampleLibrary):
            return lib  # thread-safe: calls are serialised (check_same_thread=False)
        root = getattr(lib, "root", None)
        return root if root is not None else False

    # ------------------------------------------------------------------------------------------------------
    # The retrain

    def start_retrain(self) -> bool:
        """Start retraining in the background; False (and a message) when it cannot start."""
        if self.is_running():
            return False
        self.refresh()
        try:
            reg = self.registry()
        except Exception as exc:  # noqa: BLE001
            self._message(f"Cannot retrain: the model registry cannot be used ({exc})", error=True)
            return False
        options = {**self.options, "library": self._library_argument(), "clean_captures": self.capture_folders(),
                   "registry": reg}
        self.retrain_result, self._refusal = None, None
        self._clear_figures()
        self._message("")
        worker = RetrainWorker(**options)
        thread = QThread(self)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.finished.connect(thread.quit)
        self._worker, self._thread = worker, thread
        self._stage = "Starting"
        self.progress_bar.setRange(0, 0)  # busy until the first stage reports
        self.cancel_button.setEnabled(True)
        self._elapsed.start()
        self._tick.start()
        self._update_stage_label()
        self._update_buttons()
        thread.start()
        return True

    def cancel_retrain(self) -> None:
        """Ask the running retrain to stop at its next step (nothing is registered)."""
        if self._worker is None:
            return
        self._worker.cancel()
        self.cancel_button.setEnabled(False)
        self._stage = "Cancelling (at the next step)"
        self._update_stage_label()

    def _on_progress(self, stage: str, done: int, total: int) -> None:
        if self._worker is None:
            return
        if not self._worker.cancelled:
            self._stage = _stage_text(stage)
        if stage == "saving":
            self.cancel_button.setEnabled(False)  # writing the version: too late to cancel
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(min(done, max(1, total)))
        self._update_stage_label()
        self.retrainProgress.emit(stage, done, total)

    def _update_stage_label(self) -> None:
        seconds = self._elapsed.elapsed() / 1000 if self._elapsed.isValid() else 0.0
        self.stage_label.setText(f"{self._stage}… ({seconds:.0f} s)")

    def _on_finished(self, result: RetrainResult | None, error: str, cancelled: bool) -> None:
        thread = self._thread
        self._worker, self._thread = None, None
        self._tick.stop()
        if thread is not None:
            thread.quit()  # the queued quit from worker.finished has not run yet: ask now, then join
            thread.wait(5000)
            thread.deleteLater()
        seconds = self._elapsed.elapsed() / 1000 if self._elapsed.isValid() else 0.0
        self.progress_bar.setRange(0, 1)
        if result is not None:
            self.progress_bar.setValue(1)
            self.stage_label.setText(f"Done in {seconds:.0f} s.")
            self.show_result(result)
        else:
            self.progress_bar.setValue(0)
            if cancelled:
                self.stage_label.setText(f"Cancelled after {seconds:.0f} s.")
                self._message("Retraining was cancelled: the registry and the active model are unchanged.")
            else:
                self.stage_label.setText(f"Failed after {seconds:.0f} s.")
                self._message(f"Retraining failed: {error}", error=True)
            self._update_buttons()
        self.retrainFinished.emit(result is not None)
        if self._close_when_done:
            super().reject()

    def _stop_for_quit(self) -> None:
        if self._worker is not None and self._thread is not None:
            self._worker.cancel()
            self._thread.quit()
            self._thread.wait(60000)

    # ------------------------------------------------------------------------------------------------------
    # Before / after

    def _clear_figures(self) -> None:
        self.figures_table.setRowCount(0)
        self.figures_table.clearSpans()
        self._set_figure_headers("active", "new")
        self.verdict_label.setText("Retrain to compare the new model with the active one.")
        self.notes_label.setText("")

    def show_result(self, result: RetrainResult) -> None:
        """Show a finished retrain: the candidate against the model it started from, per held-out part."""
        self.retrain_result, self._refusal = result, None
        before, after = result.parent, result.version or "candidate"
        self._clear_figures()
        self._set_figure_headers(before, after)
        table = self.figures_table
        parts = [p for p in PART_TITLES if p in result.evaluation]
        parts += [p for p in result.evaluation if p not in parts]
        table.setRowCount(len(parts) * len(MEASURES))
        better_c, worse_c = QColor(LABELLED_COLOR), QColor(ERROR_COLOR)
        for i, part in enumerate(parts):
            cand, act = result.evaluation[part]["candidate"], result.evaluation[part]["active"]
            top = i * len(MEASURES)
            head = QTableWidgetItem(f"{PART_TITLES.get(part, part)}\n{cand.get('n', 0)} samples")
            head.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(top, 0, head)
            table.setSpan(top, 0, len(MEASURES), 1)
            for j, (key, title, higher) in enumerate(MEASURES):
                r = top + j
                table.setItem(r, 1, QTableWidgetItem(title))
                a, c = act.get(key), cand.get(key)
                for col, v in ((2, a), (3, c)):
                    item = QTableWidgetItem(_percent(v))
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    table.setItem(r, col, item)
                change = QTableWidgetItem("")
                change.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if _finite(a) and _finite(c):
                    d = 100 * (c - a)
                    if abs(d) < 0.05:
                        change.setText("same")
                        change.setForeground(QColor(MUTED))
                    else:
                        good = (d > 0) == higher
                        change.setText(f"{'▲' if d > 0 else '▼'} {d:+.1f} pts")
                        change.setForeground(better_c if good else worse_c)
                table.setItem(r, 4, change)
        self._show_verdict(result)
        lines = []
        tr = result.training or {}
        if tr.get("samples"):
            sources = ", ".join(f"{k} {v}" for k, v in sorted((tr.get("by_source") or {}).items()))
            total = (result.seconds or {}).get("total")
            took = f" in {total:.0f} s" if total is not None else ""
            lines.append(f"Trained on {tr['samples']} samples ({sources}){took}.")
        lines.extend(f"Note: {n}" for n in result.notes)
        self.notes_label.setText("<br>".join(html.escape(s) for s in lines))
        if result.version is not None:
            self._message(f"Registered as {result.version}, not active yet: Accept makes it the active model, "
                          f"Discard keeps {result.parent}.")
        self._update_buttons()

    def _show_verdict(self, result: RetrainResult) -> None:
        from artifactscope.registry import DEFAULT_TOLERANCE, worse_by

        tol = DEFAULT_TOLERANCE if self.tolerance is None else self.tolerance
        version = html.escape(result.version or "the new model")
        if not result.evaluation:
            self.verdict_label.setText(
                "No samples were held out to compare on: the activation check will refuse it, and "
                "“Activate anyway” will ask you to confirm.")
            return
        problems = worse_by({"parts": result.evaluation}, tol)
        points = f"{100 * tol:g} percentage point" + ("" if 100 * tol == 1 else "s")
        if problems:
            self.verdict_label.setText(
                f"<span style='color:{ERROR_COLOR}'><b>{version} is worse than {html.escape(result.parent)}</b> "
                f"by more than {points}: {html.escape('; '.join(problems))}.</span> Accept will be refused; "
                "you can still activate it anyway.")
        else:
            self.verdict_label.setText(
                f"<span style='color:{LABELLED_COLOR}'><b>{version} is not worse than "
                f"{html.escape(result.parent)}</b></span> in binary accuracy or false alarms on any held-out "
                f"part (by more than {points}).")

    # ------------------------------------------------------------------------------------------------------
    # The decision

    def _candidate(self) -> str | None:
        return None if self.retrain_result is None else self.retrain_result.version

    def _activate(self, force: bool) -> bool:
        from artifactscope.model_store import BundleError
        from artifactscope.registry import DEFAULT_TOLERANCE, ActivationRefused, RegistryError

        version = self._candidate()
        if version is None or self.is_running():
            return False
        tol = DEFAULT_TOLERANCE if self.tolerance is None else self.tolerance
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # compares both models on held-out samples
        try:
            reg = self.registry()
            reg.activate(version, force=force, tolerance=tol)
            folder = str(reg.path_of(version))
        except ActivationRefused as exc:
            reason = str(exc)
            for cli in ("Use --force to activate it anyway", "use --force to activate it anyway"):
                reason = reason.replace(cli, "“Activate anyway…” activates it regardless")
            self._refusal = reason
            self._message(f"Not activated: {reason}", error=True)
            self._update_buttons()
            return False
        except (RegistryError, BundleError, OSError) as exc:
            self._message(f"Not activated: {exc}", error=True)
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self._message(f"{version} is now the active model" + (" (activated anyway)" if force else "") + ".")
        self.activated.emit(version, folder)
        self.accept()
        return True

    def accept_candidate(self) -> bool:
        """Accept: activate the candidate through the registry's quality gate. True when it is now active."""
        return self._activate(force=False)

    def _confirm_force(self) -> bool:
        version = self._candidate()
        box = QMessageBox(QMessageBox.Icon.Warning, "Activate anyway?",
                          f"{version} was not activated: {self._refusal}\n\nMake {version} the active model "
                          "anyway? `artifactscope models rollback` undoes it.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    def activate_anyway(self) -> bool:
        """After a refusal: ask for confirmation, then activate without the gate. True when it is now active."""
        if self._candidate() is None or self._refusal is None:
            return False
        if not self._confirm_force():
            self._message(f"Not activated: {self._refusal}", error=True)
            return False
        return self._activate(force=True)

    def discard_candidate(self) -> None:
        """Discard: the active model stays; the candidate stays in the registry, inactive."""
        version = self._candidate()
        if version is None or self.is_running():
            return
        self.discarded.emit(version)
        super().reject()

    def reject(self) -> None:
        """Close (Esc, the window's close button): a running retrain is cancelled first, then the dialog closes."""
        if self.is_running():
            self._close_when_done = True
            self.cancel_retrain()
            return
        super().reject()
