"""Background work for the GUI: the scan (a QThread running ``scan.scan``), retraining and image loading.

The GUI thread never reads an image or runs a model. Results stream back in small batches through queued
signals (at most every ~80 ms, so a 5,000-frame folder does not flood the event loop); Cancel sets a
``threading.Event`` that the scan's ``cancel`` callable polls between frames. :class:`RetrainWorker` runs
``retrain.retrain`` the same way (progress through signals, Cancel through the ``cancel`` callable).
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

from artifactscope import frames, scan as scan_mod
from artifactscope.model_store import load_bundle

BATCH_INTERVAL_S = 0.08
BATCH_MAX = 256


class ScanWorker(QObject):
    """Runs one scan in a worker thread. Create, ``moveToThread``, connect ``thread.started`` to ``run``."""

    modelLoaded = Signal(object)  # ModelBundle (so the window can reuse it for the next scan)
    started = Signal(int)  # number of files to visit
    batch = Signal(object)  # list[ScanResult]
    progress = Signal(int, int)  # files done, files total
    finished = Signal(bool, str)  # cancelled, error message ("" when none)

    def __init__(self, paths: list[str], *, bundle=None, model_path: str | None = None, every: int = 1,
                 jobs: int = 1) -> None:
        super().__init__()
        self.paths = [str(p) for p in paths]
        self.bundle = bundle
        self.model_path = model_path
        self.every = every
        self.jobs = jobs
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Thread-safe: ask the scan to stop after the frame in hand."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @Slot()
    def run(self) -> None:
        error = ""
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - reported in the status bar, never a crash
            error = str(exc) or type(exc).__name__
        self.finished.emit(self._cancel.is_set(), error)

    def _run(self) -> None:
        # One thread for native thread pools (OpenMP in scikit-learn, BLAS) inside this worker: their idle
        # threads busy-wait, and on a small machine a second team spinning beside the GUI (or beside another
        # scan) can make a batch prediction take seconds instead of milliseconds.
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            self._scan()
            return
        with threadpool_limits(limits=1):
            self._scan()

    def _scan(self) -> None:
        if self.bundle is None:
            self.bundle = load_bundle(self.model_path)  # raises BundleError with a readable message
            self.modelLoaded.emit(self.bundle)
        if self._cancel.is_set():
            return
        total = scan_mod.count_files(self.paths)
        self.started.emit(total)
        last_progress = 0.0

        def progress(done: int, total_: int | None) -> None:
            nonlocal last_progress
            now = time.monotonic()
            if now - last_progress >= 0.05 or done == total_:
                last_progress = now
                self.progress.emit(done, total_ or total)

        pending: list = []
        last_emit = time.monotonic()
        results = scan_mod.scan(self.paths, self.bundle, every=self.every, jobs=self.jobs, batch_size=16,
                                progress=progress, cancel=self._cancel.is_set, total_files=total)
        # Consume to the end even after Cancel: the scan stops by itself and hands over what it had computed.
        for r in results:
            pending.append(r)
            now = time.monotonic()
            if len(pending) >= BATCH_MAX or now - last_emit >= BATCH_INTERVAL_S:
                self.batch.emit(pending)
                pending = []
                last_emit = now
        if pending:
            self.batch.emit(pending)


class RetrainWorker(QObject):
    """Runs one :func:`artifactscope.retrain.retrain` in a worker thread (same pattern as :class:`ScanWorker`).

    Parameters
    ----------
    **options
        Keyword arguments for ``retrain.retrain`` (``library``, ``clean_captures``, ``registry``, ``jobs``,
        ...); ``progress`` and ``cancel`` are supplied here.

    Notes
    -----
    ``finished(result, error, cancelled)`` comes exactly once: the :class:`~artifactscope.retrain.RetrainResult`
    (None when it failed or was cancelled), the error message ("" when none) and whether Cancel stopped it.
    """

    progress = Signal(str, int, int)  # stage, done, total
    finished = Signal(object, str, bool)  # RetrainResult or None, error message, cancelled

    def __init__(self, **options) -> None:
        super().__init__()
        self.options = options
        self._cancel = threading.Event()
        self._saving = False
        self._last_emit = 0.0
        self._last_stage: str | None = None

    def cancel(self) -> None:
        """Thread-safe: ask the retrain to stop at its next progress step."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _should_stop(self) -> bool:
        # Once the candidate is being written, finish: retrain polls cancel again right after registering,
        # and stopping there would report "cancelled" for a version that was registered after all.
        return self._cancel.is_set() and not self._saving

    def _progress(self, stage: str, done: int, total: int) -> None:
        if stage == "saving":
            self._saving = True
        now = time.monotonic()
        # Library features report once per sample: at most ~20 updates a second reach the event loop.
        if stage != self._last_stage or done >= total or now - self._last_emit >= 0.05:
            self._last_stage, self._last_emit = stage, now
            self.progress.emit(stage, int(done), int(total))

    @Slot()
    def run(self) -> None:
        from artifactscope import retrain as rt  # imported here: the GUI starts without the training stack

        result, error, cancelled = None, "", False
        try:
            result = rt.retrain(**self.options, progress=self._progress, cancel=self._should_stop)
        except rt.Cancelled:
            cancelled = True
        except Exception as exc:  # noqa: BLE001 - shown in the dialog, never a crash
            error = str(exc) or type(exc).__name__
        self.finished.emit(result, error, cancelled)


# ----------------------------------------------------------------------------------------------------------
# Images


def read_video_frame(path: str, index: int) -> np.ndarray:
    """RGB pixels of frame `index` of a video (seek, then decode forward), via the same reader as the scan."""
    import cv2

    cap = cv2.VideoCapture(str(Path(path).resolve()), cv2.CAP_FFMPEG)
    try:
        if not cap.isOpened():
            raise frames.FrameReadError(path, "cannot open video")
        if index > 0:
            cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            pos = int(cap.get(cv2.CAP_PROP_POS_FRAMES))
            if pos != index:  # inexact seek: decode from the start
                cap.release()
                cap = cv2.VideoCapture(str(Path(path).resolve()), cv2.CAP_FFMPEG)
                for _ in range(index):
                    if not cap.grab():
                        raise frames.FrameReadError(path, f"video has no frame {index}")
        ok, img = cap.read()
        if not ok or img is None:
            raise frames.FrameReadError(path, f"cannot decode frame {index} of the video")
        return np.ascontiguousarray(img[:, :, ::-1])
    finally:
        cap.release()


def read_pixels(path: str, frame: int | None) -> np.ndarray:
    """RGB pixels of a still image (frame None) or a video frame."""
    if frame is None:
        return frames.read_image(path)
    return read_video_frame(path, frame)


def to_qimage(rgb: np.ndarray) -> QImage:
    """An RGB uint8 (H, W, 3) array as a QImage that owns its pixels."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()  # copy: own the buffer


#: Third element of an image key that asks for a heatmap overlay: ``(path, frame, (HEAT, artifact))``.
HEAT = "heat"
#: Heat below this share of the frame's peak counts as none (the frame is dimmed there).
HEAT_FLOOR = 0.12
#: Opacity (0-255) of the dimming where there is no heat, and of the warm tint where the heat peaks: the
#: artifact stays visible under a light tint while the rest of the frame steps back.
COLD_ALPHA = 120
HOT_ALPHA = 60


@dataclass
class HeatOverlay:
    """A heatmap ready to draw over a frame, and the regions :func:`artifactscope.localize.localize` found.

    Attributes
    ----------
    label : str
        The artifact class localised.
    image : QImage or None
        RGBA image covering the whole frame (at a lower resolution; scale it to the frame's size); None when
        the cue found no evidence anywhere.
    regions : list of artifactscope.scan.Region
        Boxes in frame pixels, best first (possibly empty).
    peak : float
        The heatmap's maximum before normalisation to the image (0 when the cue found nothing).
    """

    label: str
    image: QImage | None
    regions: list = field(default_factory=list)
    peak: float = 0.0


def heat_qimage(heatmap: np.ndarray, upsample: int = 8) -> QImage:
    """A heatmap in [0, 1] as a translucent overlay: the frame is dimmed where there is no heat, and tinted
    from dark red to yellow, more lightly, as the heat rises (so the artifact itself stays readable).

    Parameters
    ----------
    heatmap : numpy.ndarray
        float (rows, cols) in [0, 1], one value per cell.
    upsample : int
        Cells are interpolated bilinearly to ``upsample`` pixels each, so the overlay has soft edges.
    """
    from artifactscope.localize import heatmap_to_frame

    heat = np.clip(np.asarray(heatmap, np.float32), 0.0, 1.0)
    rows, cols = heat.shape[:2]
    heat = heatmap_to_frame(heat, max(1, cols * upsample), max(1, rows * upsample))
    a = np.sqrt(np.clip((heat - HEAT_FLOOR) / (1.0 - HEAT_FLOOR), 0.0, 1.0))
    rgba = np.empty(heat.shape + (4,), np.uint8)
    rgba[..., 0] = np.round(255 * a).astype(np.uint8)  # black (no heat) -> red -> yellow (hottest)
    rgba[..., 1] = np.round(255 * a * heat).astype(np.uint8)
    rgba[..., 2] = np.round(60 * a * heat * heat).astype(np.uint8)
    rgba[..., 3] = np.round(COLD_ALPHA + (HOT_ALPHA - COLD_ALPHA) * a).astype(np.uint8)
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


def heat_overlay(path: str, frame: int | None, label: str) -> HeatOverlay:
    """Read a frame and localise `label` in it (the same :func:`~artifactscope.localize.localize` as the scan)."""
    from artifactscope.localize import localize

    rgb = read_pixels(path, frame)
    loc = localize(rgb, label=label)
    peak = float(loc.heatmap.max()) if loc.heatmap.size else 0.0
    image = heat_qimage(loc.heatmap) if peak > 0 else None  # nothing found: no dimming of the whole frame
    return HeatOverlay(label=label, image=image, regions=list(loc.regions), peak=peak)


def scaled(rgb: np.ndarray, max_w: int, max_h: int) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    f = min(max_w / w, max_h / h, 1.0)
    if f >= 1.0:
        return rgb
    return cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


class ImageLoader(QThread):
    """Loads thumbnails, full frames and heatmap overlays off the GUI thread, newest request first.

    ``request(key)`` with ``key = (path, frame, size)``: size None for the full frame (a QImage), ``(w, h)``
    of the thumbnail box (a QImage), or ``(HEAT, artifact)`` for a :class:`HeatOverlay`. Scrolling through
    thousands of rows queues many requests; only the most recent ``max_pending`` are kept (the rest scrolled
    out of sight), and the newest is served first.
    """

    loaded = Signal(object, object)  # key, QImage or HeatOverlay
    failed = Signal(object, str)  # key, reason

    def __init__(self, parent=None, max_pending: int = 200) -> None:
        super().__init__(parent)
        self._queue: collections.OrderedDict = collections.OrderedDict()
        self._cond = threading.Condition()
        self._stop = False
        self.max_pending = max_pending

    def request(self, key) -> None:
        with self._cond:
            self._queue.pop(key, None)
            self._queue[key] = None
            while len(self._queue) > self.max_pending:
                self._queue.popitem(last=False)
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._queue.clear()
            self._cond.notify()
        self.wait(3000)

    def run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                key, _ = self._queue.popitem(last=True)
            path, frame, size = key
            try:
                if size is not None and size[0] == HEAT:
                    image = heat_overlay(path, frame, size[1])
                else:
                    rgb = read_pixels(path, frame)
                    if size is not None:
                        rgb = scaled(rgb, *size)
                    image = to_qimage(rgb)
            except Exception as exc:  # noqa: BLE001
                self.failed.emit(key, str(getattr(exc, "reason", None) or exc))
                continue
            self.loaded.emit(key, image)


class ImageCache(QObject):
    """Bounded cache in front of an :class:`ImageLoader`; ``changed(key)`` when an image arrives."""

    changed = Signal(object)

    def __init__(self, parent=None, capacity: int = 1500) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self._images: collections.OrderedDict = collections.OrderedDict()
        self._failed: dict = {}
        self._asked: dict = {}  # key -> time requested (re-asked after a while: the queue may drop it)
        self.loader = ImageLoader(self)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        self.loader.start()

    def get(self, key) -> QImage | HeatOverlay | None:
        """The image (or heat overlay) if loaded, else None (and it is requested)."""
        img = self._images.get(key)
        if img is not None:
            self._images.move_to_end(key)
            return img
        now = time.monotonic()
        if key not in self._failed and now - self._asked.get(key, -10.0) > 2.0:
            self._asked[key] = now
            self.loader.request(key)
        return None

    def error(self, key) -> str | None:
        return self._failed.get(key)

    def _on_loaded(self, key, image) -> None:
        self._asked.pop(key, None)
        self._images[key] = image
        while len(self._images) > self.capacity:
            self._images.popitem(last=False)
        self.changed.emit(key)

    def _on_failed(self, key, reason: str) -> None:
        self._asked.pop(key, None)
        self._failed[key] = reason
        self.changed.emit(key)

    def shutdown(self) -> None:
        self.loader.stop()
