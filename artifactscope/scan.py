"""Batch scanning: frames in, one :class:`ScanResult` per frame out, in input order.

The same generator serves the CLI and the GUI. Work is streamed, so memory stays bounded whatever the number
of files: files are discovered lazily (no list of all files or all results is ever built here), frames are
predicted in small batches, and the results are yielded as they come.

Engines (all give the same records, in the same order):

- ``jobs=1``: everything in this process; frames of consecutive files are predicted together.
- ``jobs>1``: worker processes each read, analyse *and predict* a task (a few consecutive images, or one
  video) and send back that task's records in a compact form; the model reaches each worker once, at start.
  At most ``2 * jobs`` tasks are in flight.
- ``backend="dask"``: the same per-file tasks on a Dask distributed cluster; workers load the model from its
  bundle path (cached per worker process), so the bundle and the scanned files must be visible to them at the
  same (absolute) paths.

A **results file** (``results_file=``) makes a scan resumable: every record is appended to it as a JSON line,
and once all records of a file are written a ``{"done": path, "records": n}`` line follows (flushed at once,
``fsync``'d every few seconds). Re-running the same scan with the same results file skips the files that are
done; a file whose records are not all there (a video cut short by Ctrl-C or a kill) is scanned again, and
whatever follows the last complete file (a torn line from a kill) is cut off. The first line records the
settings (model, threshold, sampling) so that a resume with other settings is refused rather than mixed.
:func:`read_results` streams the records back for the final report.

Videos also get **temporal checks** (:mod:`artifactscope.temporal`): screen tearing and stuttering are relations
between frames, so each sampled frame is compared with the samples before and after it, on top of the
single-frame experts; the verdicts then go to event grouping (:mod:`artifactscope.events`) in the reports.
Images and video frames are decoded a few ahead in a thread (:class:`_Prefetch`), overlapping with the
analysis.

Progress goes to a callback ``(files_done, files_total)``, where the total stays None until discovery has
finished; a ``cancel`` callable is polled between results.
"""

from __future__ import annotations

import collections
import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from artifactscope import features, frames
from artifactscope.artifacts import CLEAN
from artifactscope.model_store import ModelBundle
from artifactscope.temporal import TemporalChecker

ProgressFn = Callable[[int, int | None], None]  # (files done, files total or None while unknown)
CancelFn = Callable[[], bool]

BACKENDS = ("local", "dask")
RESULTS_FORMAT = 1
DASK_HINT = "pip install 'artifactscope[dask]'"

__all__ = [
    "BACKENDS", "BackendUnavailable", "Region", "ResultsFile", "ResultsFileError", "ScanResult", "Tally",
    "count_files", "exit_status", "near_miss", "read_results", "scan", "summarize",
]


class BackendUnavailable(RuntimeError):
    """The requested backend cannot run here (e.g. dask is not installed); the message says what to do."""


class ResultsFileError(ValueError):
    """A results file that cannot be resumed (not ours, or written with other settings)."""


@dataclass(frozen=True)
class Region:
    """Where an artifact was seen: box in frame pixels, ``[x0, y0, x1, y1]`` with x1/y1 exclusive."""

    label: str
    score: float
    box: tuple[int, int, int, int]

    def to_dict(self) -> dict:
        return {"label": self.label, "score": round(float(self.score), 4), "box": [int(v) for v in self.box]}


@dataclass
class ScanResult:
    """The verdict on one frame; the fields are DESIGN.md's result schema."""

    path: str
    frame: int | None = None
    time_s: float | None = None
    label: str | None = None
    corrupted: bool | None = None
    score: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    regions: list[Region] = field(default_factory=list)
    error: str | None = None
    width: int | None = None
    height: int | None = None

    def to_dict(self) -> dict:
        """The JSON record (schema fields only, rounded scores)."""
        d = asdict(self)
        d.pop("width")
        d.pop("height")
        d["regions"] = [r.to_dict() for r in self.regions]
        d["scores"] = {k: round(float(v), 4) for k, v in self.scores.items()}
        if self.score is not None:
            d["score"] = round(float(self.score), 4)
        if self.time_s is not None:
            d["time_s"] = round(float(self.time_s), 4)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ScanResult:
        """The inverse of :meth:`to_dict` (width and height are not part of the record)."""
        return cls(
            path=d["path"], frame=d.get("frame"), time_s=d.get("time_s"), label=d.get("label"),
            corrupted=d.get("corrupted"), score=d.get("score"), scores=dict(d.get("scores") or {}),
            regions=[Region(g["label"], g["score"], tuple(g["box"])) for g in d.get("regions") or []],
            error=d.get("error"),
        )


# -- reading ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Item:
    """A frame's metadata and features (or its error), as passed from readers to the predictor."""

    path: str
    frame: int | None
    time_s: float | None
    features: np.ndarray | None
    error: str | None
    width: int | None = None
    height: int | None = None
    temporal: tuple[tuple[str, float, tuple[int, int, int, int] | None], ...] = ()  # (artifact, p, box)


@dataclass(frozen=True)
class _FileEnd:
    """Marks that every record of `path` has gone before."""

    path: str


@dataclass(frozen=True)
class _Options:
    every: int = 1
    fps: float | None = None
    max_pixels: int = frames.DEFAULT_MAX_PIXELS
    threshold: float | None = None
    batch_size: int = 32
    regions: bool = True
    temporal: bool = True


def _analyse(display: str, fr: frames.Frame) -> _Item:
    if not fr.ok:
        return _Item(display, fr.index, fr.time_s, None, fr.error)
    try:
        vec = features.extract(fr.pixels)
    except Exception as exc:  # noqa: BLE001 - a frame the features cannot handle must not stop the batch
        return _Item(display, fr.index, fr.time_s, None, f"cannot analyse frame ({exc})")
    h, w = fr.pixels.shape[:2]
    return _Item(display, fr.index, fr.time_s, vec, None, w, h)


def _declared_frames(path: str) -> int:
    """The frame count the container declares (0 when unknown); header only, nothing decoded."""
    import cv2

    cap = cv2.VideoCapture(os.path.abspath(path), cv2.CAP_FFMPEG)
    try:
        n = cap.get(cv2.CAP_PROP_FRAME_COUNT) if cap.isOpened() else 0
    finally:
        cap.release()
    return int(n) if math.isfinite(n) and n > 0 else 0


class _Prefetch:
    """Run an iterator in a background thread, up to `depth` items ahead (bounded memory).

    Decoding a video frame (FFmpeg) and analysing the previous one (OpenCV/numpy) both release the GIL, so
    on two or more cores they overlap: the scan then costs about max(decode, analysis) per frame rather than
    their sum. Exceptions of the iterator are raised in the consumer, where they would have been raised
    without the thread. :meth:`close` stops the thread and closes the iterator (in that thread's stead).
    """

    _END = object()

    def __init__(self, iterator: Iterator, depth: int = 3) -> None:
        import queue

        self._it = iterator
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="artifactscope-prefetch", daemon=True)
        self._thread.start()

    def _put(self, x) -> bool:
        import queue

        while not self._stop.is_set():
            try:
                self._queue.put(x, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for x in self._it:
                if not self._put((True, x)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._put((False, exc))
            return
        self._put((True, self._END))

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        ok, x = self._queue.get()
        if not ok:
            self._done()
            raise x
        if x is self._END:
            self._done()
            raise StopIteration
        return x

    def _done(self) -> None:
        self._stop.set()
        self._thread.join()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        close = getattr(self._it, "close", None)
        if close is not None:
            close()


def _decode_image(read_path: str, opts: _Options) -> tuple[np.ndarray | None, str | None]:
    """An image file's pixels, or None and the reason it cannot be read (never raises)."""
    try:
        return frames.read_image(read_path, max_pixels=opts.max_pixels), None
    except frames.FrameReadError as exc:
        return None, exc.reason
    except MemoryError:
        return None, "out of memory while decoding the image"
    except Exception as exc:  # noqa: BLE001 - one hostile file must not end the batch
        return None, f"unexpected error reading image: {exc!r}"


def _with_images_decoded(entries: Iterable[tuple[str, str, str | None]], opts: _Options) -> Iterator[tuple]:
    """Each ``(read path, display path, discovery error)`` entry plus its image decoded, ``(pixels, reason)``,
    or None for videos (read frame by frame later) and entries with an error."""
    for read_path, display, error in entries:
        decoded = None
        if error is None and not frames.is_video(read_path):
            decoded = _decode_image(read_path, opts)
        yield read_path, display, error, decoded


def _read_file(read_path: str, display: str, opts: _Options,
               decoded: tuple[np.ndarray | None, str | None] | None = None) -> Iterator[_Item]:
    """Items of one file; every problem becomes an error item and reading goes on with the next file.
    `decoded` is an image already decoded by :func:`_decode_image`."""
    if not frames.is_video(read_path):
        pixels, reason = decoded if decoded is not None else _decode_image(read_path, opts)
        if pixels is None:
            yield _Item(display, None, None, None, reason)
        else:
            yield _analyse(display, frames.Frame(display, None, None, pixels))
        return

    declared = 0
    last = step = None
    temporal = TemporalChecker() if opts.temporal else None
    # Frames are decoded a few ahead in a thread, overlapping with the analysis of the current one.
    reader = _Prefetch(frames.iter_video(read_path, every=opts.every, max_pixels=opts.max_pixels, fps=opts.fps),
                       depth=3)
    try:
        while True:
            try:
                fr = next(reader)
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001 - one hostile file must not end the batch
                if temporal is not None:
                    yield from temporal.finish()
                yield _Item(display, None, None, None, f"unexpected error reading video: {exc!r}")
                return
            if fr.index is None:  # the whole file failed
                if temporal is not None:
                    yield from temporal.finish()
                yield _Item(display, None, None, None, fr.error)
                return
            if last is None:
                declared = _declared_frames(read_path)
            elif step is None:
                step = fr.index - last
            last = fr.index
            item = _analyse(display, fr)
            if temporal is None:
                yield item
            else:
                yield from temporal.push(item, fr.pixels)
        if temporal is not None:
            yield from temporal.finish()
    finally:
        reader.close()
    if step is None and opts.every == 1 and opts.fps is None:
        step = 1
    # FFmpeg stops quietly at the end of a cut-off file: compare with the count the container declares
    # (estimated by some containers, hence the tolerance).
    if last is not None and step and declared and declared - (last + step) > max(2, 0.02 * declared):
        yield _Item(display, None, None, None,
                    f"truncated video: the stream ends after frame {last} (at most {last + step} of the "
                    f"{declared} frames the container declares could be read)")


def _read_items(entries: Iterable[tuple[str, str, str | None]], opts: _Options,
                cancel: CancelFn | None = None) -> Iterator[_Item | _FileEnd]:
    """Items of each ``(read path, display path, discovery error)`` entry, each file closed by a _FileEnd.
    `cancel` is polled between frames, so a cancelled scan stops reading at once instead of after a batch
    (the frames already read are still predicted and handed over).

    Images are decoded one or two files ahead in a thread (:class:`_Prefetch`), overlapping with the analysis
    of the current one, as video frames are.
    """
    reader = _Prefetch(_with_images_decoded(entries, opts), depth=2)
    try:
        for read_path, display, error, decoded in reader:
            if cancel is not None and cancel():
                return
            if error is not None:
                yield _Item(display, None, None, None, error)
            else:
                for item in _read_file(read_path, display, opts, decoded):
                    yield item
                    if cancel is not None and cancel():
                        return  # no _FileEnd: a half-read file is not done (resume rescans it)
            yield _FileEnd(display)
    finally:
        reader.close()


# -- prediction ---------------------------------------------------------------------------------------------
def _frame_pixels(path: str, frame: int | None, max_pixels: int) -> np.ndarray | None:
    """Read one frame again (an image, or frame `frame` of a video); None when it cannot be read now."""
    try:
        if frame is None:
            return frames.read_image(path, max_pixels=max_pixels)
        for fr in frames.iter_video(path, every=max(1, frame), max_pixels=max_pixels):
            if fr.index == frame:
                return fr.pixels
            if fr.index is None or fr.index > frame:
                return None
    except Exception:  # noqa: BLE001 - regions are a bonus; the verdict stands without them
        return None
    return None


class _Predictor:
    def __init__(self, model: ModelBundle, threshold: float | None, regions: bool = True,
                 max_pixels: int = frames.DEFAULT_MAX_PIXELS) -> None:
        from threadpoolctl import ThreadpoolController

        self.model = model
        self.ensemble = model.ensemble
        self.threshold = threshold
        self.regions = regions
        self.max_pixels = max_pixels
        self.controller = ThreadpoolController()

    def _regions(self, it: _Item, label: str, score: float) -> list[Region]:
        """Where the artifact is, for a flagged frame. Flagged frames are few, so they are read again rather
        than keeping every frame's pixels in memory until its batch is predicted."""
        from artifactscope.localize import localize

        pixels = _frame_pixels(it.path, it.frame, self.max_pixels)
        if pixels is None:
            return []
        return localize(pixels, self.model, label, score=score).regions

    def __call__(self, items: list[_Item]) -> list[ScanResult]:
        ensemble = self.ensemble
        ready = [it for it in items if it.features is not None]
        verdicts = None
        if ready:
            # A batch of a few dozen rows gains nothing from BLAS/OpenMP threads, and their spinning idle
            # threads can stall a 2-core machine for seconds: predict single-threaded.
            with self.controller.limit(limits=1):
                proba = ensemble.predict_proba(np.vstack([it.features for it in ready]))
            verdicts = ensemble.decide(proba, threshold=self.threshold)
        out, k = [], 0
        for it in items:
            if it.features is None:
                out.append(ScanResult(path=it.path, frame=it.frame, time_s=it.time_s, error=it.error))
                continue
            row = verdicts.proba[k]
            scores = {str(c): float(p) for c, p in zip(ensemble.classes_, row) if c != CLEAN}
            label, flagged, score = str(verdicts.labels[k]), bool(verdicts.corrupted[k]), float(verdicts.score[k])
            regions = None
            # Temporal findings (video): they raise their artifact's score and, over the threshold, decide the
            # verdict when they are more certain than the single-frame experts.
            for artifact, p, box in it.temporal:
                if artifact in scores:
                    scores[artifact] = max(scores[artifact], p)
                if p >= (0.5 if self.threshold is None else self.threshold) and (not flagged or p > score):
                    label, flagged, score = artifact, True, p
                    regions = [Region(artifact, p, box)] if box is not None and self.regions else []
            if regions is None:
                regions = self._regions(it, label, score) if flagged and self.regions else []
            out.append(ScanResult(
                path=it.path, frame=it.frame, time_s=it.time_s,
                label=label, corrupted=flagged, score=score, scores=scores,
                regions=regions, width=it.width, height=it.height,
            ))
            k += 1
        return out


def _predicted(items: Iterable[_Item | _FileEnd], predict: _Predictor, batch_size: int
               ) -> Iterator[ScanResult | _FileEnd]:
    """Results in item order; frames are predicted in batches of `batch_size` (across files)."""
    pending: list[_Item | _FileEnd] = []
    n_ready = 0

    def flush() -> Iterator[ScanResult | _FileEnd]:
        nonlocal n_ready
        batch = [x for x in pending if isinstance(x, _Item)]
        results = iter(predict(batch)) if batch else iter(())
        out = [x if isinstance(x, _FileEnd) else next(results) for x in pending]
        pending.clear()
        n_ready = 0
        yield from out

    for x in items:
        pending.append(x)
        if isinstance(x, _Item) and x.features is not None:
            n_ready += 1
        # A file end with no frame waiting for prediction goes out at once (progress, results file).
        if n_ready >= batch_size or n_ready == 0 and isinstance(x, _FileEnd):
            yield from flush()
    yield from flush()


# -- tasks for worker processes and clusters ----------------------------------------------------------------
@dataclass
class _Packed:
    """The records of one file, compact (a few numbers per frame) for the trip back from a worker."""

    path: str
    names: tuple[str, ...]
    frame: np.ndarray  # int64, -1 for None
    time_s: np.ndarray  # float64, nan for None
    label: np.ndarray  # int16 index into names, -1 clean/None
    corrupted: np.ndarray  # int8: -1 None
    score: np.ndarray  # float64 nan for None
    scores: np.ndarray  # float64 (n, len(names))
    size: np.ndarray  # int32 (n, 2) width/height, -1 for None
    errors: dict[int, str]
    labels: tuple[str, ...]
    regions: dict[int, list[Region]] = field(default_factory=dict)  # flagged frames only: few

    @classmethod
    def pack(cls, path: str, results: list[ScanResult]) -> _Packed:
        names = next((tuple(r.scores) for r in results if r.error is None), ())
        labels = tuple(dict.fromkeys(r.label for r in results if r.label is not None))
        n = len(results)
        p = cls(path, names, np.full(n, -1, np.int64), np.full(n, np.nan), np.full(n, -1, np.int16),
                np.full(n, -1, np.int8), np.full(n, np.nan), np.full((n, len(names)), np.nan),
                np.full((n, 2), -1, np.int32), {}, labels)
        for i, r in enumerate(results):
            if r.frame is not None:
                p.frame[i] = r.frame
            if r.time_s is not None:
                p.time_s[i] = r.time_s
            if r.error is not None:
                p.errors[i] = r.error
                continue
            p.label[i] = labels.index(r.label)
            p.corrupted[i] = bool(r.corrupted)
            p.score[i] = r.score
            p.scores[i] = [r.scores[k] for k in names]
            p.size[i] = (r.width if r.width is not None else -1, r.height if r.height is not None else -1)
            if r.regions:
                p.regions[i] = list(r.regions)
        return p

    def unpack(self) -> Iterator[ScanResult]:
        for i in range(len(self.frame)):
            frame = int(self.frame[i]) if self.frame[i] >= 0 else None
            t = float(self.time_s[i]) if not np.isnan(self.time_s[i]) else None
            if i in self.errors:
                yield ScanResult(path=self.path, frame=frame, time_s=t, error=self.errors[i])
                continue
            w, h = (int(v) for v in self.size[i])
            yield ScanResult(
                path=self.path, frame=frame, time_s=t, label=self.labels[self.label[i]],
                corrupted=bool(self.corrupted[i]), score=float(self.score[i]),
                scores={k: float(v) for k, v in zip(self.names, self.scores[i])},
                regions=list(self.regions.get(i, [])),
                width=w if w >= 0 else None, height=h if h >= 0 else None,
            )


_WORKER_LOCK = threading.Lock()
_WORKER_MODELS: dict[tuple, ModelBundle] = {}


def _worker_init(bundle: ModelBundle | None) -> None:
    """Process-pool initializer: the model arrives once per worker, not once per task."""
    if bundle is not None:
        _WORKER_MODELS[("local",)] = bundle


def _worker_model(model_ref: str | None) -> ModelBundle:
    """The worker's model: the one sent at start (local pool) or loaded once from its bundle path (dask)."""
    if model_ref is None:
        return _WORKER_MODELS[("local",)]
    from artifactscope.model_store import load_bundle

    path = Path(model_ref)
    key = (str(path), (path / "manifest.json").stat().st_mtime_ns)
    with _WORKER_LOCK:
        if key not in _WORKER_MODELS:
            _WORKER_MODELS[key] = load_bundle(path)
        return _WORKER_MODELS[key]


def _run_task(entries: list[tuple[str, str, str | None]], model_ref: str | None, opts: _Options) -> list[_Packed]:
    """Read, analyse and predict the files of one task; one _Packed per file, in order."""
    out: list[_Packed] = []
    try:
        predict = _Predictor(_worker_model(model_ref), opts.threshold, opts.regions, opts.max_pixels)
    except Exception as exc:  # noqa: BLE001 - e.g. the bundle is not visible on this worker
        return _failed_task(entries, f"the worker cannot load the model ({exc})")
    current: list[ScanResult] = []
    for x in _predicted(_read_items(entries, opts), predict, opts.batch_size):
        if isinstance(x, _FileEnd):
            out.append(_Packed.pack(x.path, current))
            current = []
        else:
            current.append(x)
    return out


def _failed_task(entries, message: str) -> list[_Packed]:
    return [_Packed.pack(display, [ScanResult(path=display, error=message)]) for _, display, _ in entries]


def _tasks(entries: Iterable[tuple[str, str, str | None]], files_per_task: int
           ) -> Iterator[list[tuple[str, str, str | None]]]:
    """Group consecutive images (and discovery errors) into tasks of up to `files_per_task`; a video alone."""
    group: list[tuple[str, str, str | None]] = []
    for entry in entries:
        if entry[2] is None and frames.is_video(entry[0]):
            if group:
                yield group
                group = []
            yield [entry]
            continue
        group.append(entry)
        if len(group) >= files_per_task:
            yield group
            group = []
    if group:
        yield group


def _ordered(submit: Callable, tasks: Iterator[list], max_in_flight: int, on_failure: Callable
             ) -> Iterator[list[_Packed]]:
    """Submit tasks keeping at most `max_in_flight` outstanding; yield their results in submission order."""
    window: collections.deque = collections.deque()
    tasks = iter(tasks)
    exhausted = False
    try:
        while True:
            while not exhausted and len(window) < max_in_flight:
                task = next(tasks, None)
                if task is None:
                    exhausted = True
                else:
                    window.append((task, submit(task)))
            if not window:
                return
            task, fut = window.popleft()
            try:
                result = fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker died, the cluster lost the task, ...
                result = on_failure(task, exc)
            yield result
    finally:
        for _, fut in window:
            fut.cancel()


def _local_pool(tasks: Iterator[list], model: ModelBundle, opts: _Options, jobs: int) -> Iterator[list[_Packed]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # spawn, not fork: the parent may hold threads (progress bar, BLAS pools) that fork would copy mid-lock.
    ctx = multiprocessing.get_context("spawn")
    state = {"pool": None}

    def pool():
        if state["pool"] is None:
            state["pool"] = ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init, initargs=(model,))
        return state["pool"]

    def on_failure(task, exc):
        if isinstance(exc, BrokenProcessPool):  # a worker died (a decoder crash?): start a fresh pool
            state["pool"].shutdown(wait=False, cancel_futures=True)
            state["pool"] = None
            return _failed_task(task, "a worker process died while scanning this file or one scanned beside it")
        return _failed_task(task, f"unexpected error in the worker: {exc!r}")

    def submit(task):
        try:
            return pool().submit(_run_task, task, None, opts)
        except BrokenProcessPool:
            state["pool"] = None
            return pool().submit(_run_task, task, None, opts)

    try:
        yield from _ordered(submit, tasks, 2 * jobs, on_failure)
    finally:
        if state["pool"] is not None:
            state["pool"].shutdown(wait=True, cancel_futures=True)


def _dask_client(scheduler):
    try:
        from distributed import Client
    except ImportError:
        raise BackendUnavailable(f"the dask backend needs dask.distributed, which is not installed: {DASK_HINT}"
                                 ) from None
    if scheduler is None:
        raise ValueError("the dask backend needs a scheduler address (e.g. tcp://host:8786)")
    if isinstance(scheduler, Client):
        return scheduler, False
    try:
        return Client(scheduler, timeout="30s"), True
    except (OSError, TimeoutError) as exc:
        raise BackendUnavailable(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None


def _dask_backend(tasks: Iterator[list], model: ModelBundle, opts: _Options, scheduler, max_in_flight: int | None
                  ) -> Iterator[list[_Packed]]:
    if model.path is None:
        raise ValueError("the dask backend loads the model on the workers from its bundle path; this model has none")
    client, owned = _dask_client(scheduler)
    model_ref = str(Path(model.path).resolve())
    try:
        if max_in_flight is None:
            max_in_flight = max(2, 2 * sum(client.nthreads().values()))

        def submit(task):
            return client.submit(_run_task, task, model_ref, opts, pure=False)

        def on_failure(task, exc):
            return _failed_task(task, f"the scan task failed on the cluster: {exc!r}")

        yield from _ordered(submit, tasks, max_in_flight, on_failure)
    finally:
        if owned:
            client.close()


# -- results file -------------------------------------------------------------------------------------------
def _model_id(model: ModelBundle) -> str:
    files = model.manifest.get("files") or {}
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


class ResultsFile:
    """An append-only JSON-lines results file that a scan can resume from (see the module docstring).

    Open it with :meth:`open`; ``done`` counts, per path, the files whose records are all in the file.
    """

    FSYNC_EVERY_S = 5.0

    def __init__(self, path: Path, fh, done: collections.Counter, dropped_bytes: int, partial: str | None):
        self.path, self._fh, self.done = path, fh, done
        self.dropped_bytes, self.partial = dropped_bytes, partial
        self._count = 0
        self._last_sync = time.monotonic()

    @classmethod
    def open(cls, path: str | os.PathLike, settings: dict) -> ResultsFile:
        """Open (creating, or checking and repairing) the results file for a scan with `settings`.

        Raises
        ------
        ResultsFileError
            When the file is not an artifactscope results file or was written with other settings.
        OSError
            When it cannot be read or written.
        """
        path = Path(path)
        header = {"artifactscope_results": RESULTS_FORMAT, "settings": settings}
        done: collections.Counter = collections.Counter()
        good_end, partial, size = 0, None, 0
        if path.exists() and path.stat().st_size > 0:
            good_end, done, partial, size = cls._recover(path, settings)
        if good_end == 0:  # new, empty, or cut off inside its header
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(path, "w", encoding="utf-8", newline="\n")
            fh.write(json.dumps(header) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
            return cls(path, fh, done, size, partial)
        fh = open(path, "r+", encoding="utf-8", newline="\n")
        if good_end < size:  # drop a partial file's records and any torn line
            fh.truncate(good_end)
            os.fsync(fh.fileno())
        fh.seek(good_end)
        return cls(path, fh, done, size - good_end, partial)

    @staticmethod
    def _recover(path: Path, settings: dict):
        done: collections.Counter = collections.Counter()
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            first = fh.readline()
            if not first.endswith(b"\n"):
                return 0, done, None, size
            try:
                head = json.loads(first)
            except ValueError:
                head = None
            if not isinstance(head, dict) or head.get("artifactscope_results") != RESULTS_FORMAT:
                raise ResultsFileError(f"{path}: not an artifactscope results file; refusing to append to it "
                                       "(choose another file)")
            if head.get("settings") != settings:
                theirs = head.get("settings") or {}
                diff = ", ".join(f"{k}: {theirs.get(k)!r} then, {v!r} now" for k, v in settings.items()
                                 if theirs.get(k) != v)
                raise ResultsFileError(f"{path}: written by a scan with other settings ({diff}); resume with the "
                                       "same settings, or use another results file")
            good_end = pos = fh.tell()
            current, count = None, 0
            for line in fh:
                pos += len(line)
                if not line.endswith(b"\n"):
                    break
                try:
                    rec = json.loads(line)
                except ValueError:
                    break
                if not isinstance(rec, dict):
                    break
                if "done" in rec and "path" not in rec:
                    if rec["done"] != current or rec.get("records") != count:
                        break
                    done[current] += 1
                    good_end, current, count = pos, None, 0
                elif isinstance(rec.get("path"), str):
                    if current is None:
                        current = rec["path"]
                    elif rec["path"] != current:
                        break
                    count += 1
                else:
                    break
        return good_end, done, current, size

    def is_done(self, path: str) -> bool:
        """True (once per finished occurrence) when the records of `path` are already in the file."""
        if self.done.get(path, 0) > 0:
            self.done[path] -= 1
            if not self.done[path]:
                del self.done[path]
            return True
        return False

    def write(self, result: ScanResult) -> None:
        self._fh.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        self._count += 1

    def file_done(self, path: str) -> None:
        self._fh.write(json.dumps({"done": path, "records": self._count}, ensure_ascii=False) + "\n")
        self._count = 0
        self._fh.flush()
        if time.monotonic() - self._last_sync > self.FSYNC_EVERY_S:
            os.fsync(self._fh.fileno())
            self._last_sync = time.monotonic()

    def close(self) -> None:
        if self._fh.closed:
            return
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
        finally:
            self._fh.close()


def _complete_end(fh) -> int:
    """Offset just after the last "done" line of a results file (0 when there is none), read backwards."""
    end = fh.seek(0, os.SEEK_END)
    marker, chunk, pos, tail = b'\n{"done":', 1 << 20, end, b""
    while pos > 0:
        start = max(0, pos - chunk)
        fh.seek(start)
        buf = fh.read(pos - start) + tail
        i = buf.rfind(marker)
        if i >= 0:
            nl = buf.find(b"\n", i + 1)
            if nl >= 0:
                return start + nl + 1
        tail = buf[: len(marker)]
        pos = start
    return 0


def read_results(path: str | os.PathLike) -> Iterator[ScanResult]:
    """Stream the records of a results file (the header and the per-file "done" lines are skipped).

    Only complete files are read: records after the last "done" line (a file cut short) are left out.
    """
    with open(path, "rb") as fh:
        end = _complete_end(fh)
        fh.seek(0)
        pos = len(fh.readline())
        while pos < end:
            line = fh.readline()
            pos += len(line)
            if not line.startswith(b'{"done":'):
                yield ScanResult.from_dict(json.loads(line))


def results_settings(model: ModelBundle, *, threshold=None, every=1, fps=None,
                     max_pixels=frames.DEFAULT_MAX_PIXELS, temporal=True) -> dict:
    """What must match for a results file to be resumed: the model and everything that changes records."""
    return {"model": model.name, "model_id": _model_id(model), "threshold": threshold, "every": every,
            "fps": fps, "max_pixels": max_pixels, "temporal": temporal}


# -- the engine ---------------------------------------------------------------------------------------------
class _Discovery:
    """frames.discover, lazily, minus files already done; counts for the progress total."""

    def __init__(self, paths, skip: Callable[[str], bool] | None) -> None:
        self.paths, self.skip = paths, skip
        self.seen = 0
        self.skipped = 0
        self.total: int | None = None
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[tuple[str, str, str | None]]:
        for path, error in frames.discover(self.paths):
            path = os.fspath(path)
            with self._lock:
                self.seen += 1
                if self.skip is not None and self.skip(path):
                    self.skipped += 1
                    continue
            # Workers read the absolute path (their working folder may differ); records keep the path found.
            yield (os.path.abspath(path), path, error)
        self.total = self.seen


def count_files(paths: Iterable[str | os.PathLike]) -> int:
    """How many files (and error entries) a scan of `paths` will visit (a full discovery pass)."""
    return sum(1 for _ in frames.discover(paths))


def scan(
    paths: Iterable[str | os.PathLike],
    model: ModelBundle,
    *,
    threshold: float | None = None,
    every: int = 1,
    fps: float | None = None,
    jobs: int = 1,
    batch_size: int = 32,
    max_pixels: int = frames.DEFAULT_MAX_PIXELS,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    total_files: int | None = None,
    backend: str = "local",
    scheduler=None,
    results_file: str | os.PathLike | None = None,
    files_per_task: int = 8,
    max_in_flight: int | None = None,
    regions: bool = True,
    temporal: bool = True,
) -> Iterator[ScanResult]:
    """Scan images, folders and videos; yield one result per frame (or per unreadable file), in order.

    Parameters
    ----------
    paths : iterable of path-like
        Images, videos and folders (searched recursively); read lazily.
    model : ModelBundle
        From :func:`artifactscope.model_store.load_bundle`.
    threshold : float, optional
        One decision threshold for every class instead of the model's per-class thresholds.
    every : int
        Analyse every N-th frame of videos.
    fps : float, optional
        Analyse about this many frames per second of video instead (``every`` is kept for videos whose frame
        rate is unknown).
    jobs : int
        Worker processes reading and analysing files (-1: all cores); local backend only.
    batch_size : int
        Frames predicted together (bigger batches amortise the estimators' per-call overhead).
    progress : callable(files_done, files_total), optional
        Called as each file is finished; files_total is `total_files`, else None until discovery has finished.
    cancel : callable() -> bool, optional
        Polled between results; when it returns True the scan stops.
    total_files : int, optional
        Known number of files, reported to `progress`.
    backend : {"local", "dask"}
    scheduler : str or distributed.Client, optional
        The Dask scheduler address (or a connected client) for ``backend="dask"``.
    results_file : path-like, optional
        JSON-lines results file to append to and resume from; files already done in it are skipped and only
        the new results are yielded (read them all back with :func:`read_results`).
    files_per_task : int
        Images per task sent to a worker process or the cluster (a video is always a task of its own).
    max_in_flight : int, optional
        Most tasks outstanding on the cluster (default: twice its threads).
    regions : bool
        Locate the artifact in flagged frames (boxes in ``ScanResult.regions``); the frame is read again.
    temporal : bool
        Run the temporal checks on videos (tearing and stuttering judged against the neighbouring samples,
        see :class:`artifactscope.temporal.TemporalChecker`) on top of the single-frame experts.

    Raises
    ------
    ValueError
        For bad arguments, or a results file that cannot be resumed (:class:`ResultsFileError`).
    BackendUnavailable
        When the dask backend is asked for but dask is missing or the scheduler cannot be reached.
    """
    if every < 1:
        raise ValueError(f"every must be a positive number of frames, got {every}")
    if fps is not None and not fps > 0:
        raise ValueError(f"fps must be a positive number of frames per second, got {fps}")
    if threshold is not None and not (0.0 <= threshold <= 1.0):
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    if jobs == 0 or jobs < -1:
        raise ValueError(f"jobs must be a positive number of processes or -1 for all cores, got {jobs}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if files_per_task < 1 or batch_size < 1:
        raise ValueError("files_per_task and batch_size must be positive")
    if jobs == -1:
        jobs = os.cpu_count() or 1
    return _scan(paths, model, _Options(every, fps, max_pixels, threshold, batch_size, regions, temporal), jobs,
                 progress, cancel,
                 total_files, backend, scheduler, results_file, files_per_task, max_in_flight)


def _scan(paths, model, opts: _Options, jobs, progress, cancel, total_files, backend, scheduler, results_file,
          files_per_task, max_in_flight) -> Iterator[ScanResult]:
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    log = None
    if results_file is not None:
        settings = results_settings(model, threshold=opts.threshold, every=opts.every, fps=opts.fps,
                                    max_pixels=opts.max_pixels, temporal=opts.temporal)
        log = ResultsFile.open(results_file, settings)
    discovery = _Discovery(paths, log.is_done if log is not None else None)

    if backend == "dask":
        packed = _dask_backend(_tasks(discovery, files_per_task), model, opts, scheduler, max_in_flight)
        stream = _unpacked(packed)
    elif jobs > 1:
        stream = _unpacked(_local_pool(_tasks(discovery, files_per_task), model, opts, jobs))
    else:
        predictor = _Predictor(model, opts.threshold, opts.regions, opts.max_pixels)
        stream = _predicted(_read_items(discovery, opts, cancel), predictor, opts.batch_size)

    finished = 0
    try:
        for x in stream:
            if isinstance(x, _FileEnd):
                finished += 1
                if log is not None:
                    log.file_done(x.path)
                if progress is not None:
                    progress(finished + discovery.skipped,
                             total_files if total_files is not None else discovery.total)
                continue
            if log is not None:
                log.write(x)
            yield x
            if cancel is not None and cancel():
                break
    finally:
        try:
            stream.close()
        finally:
            if log is not None:
                log.close()


def _unpacked(packed: Iterator[list[_Packed]]) -> Iterator[ScanResult | _FileEnd]:
    try:
        for task in packed:
            for p in task:
                yield from p.unpack()
                yield _FileEnd(p.path)
    finally:
        packed.close()


class Tally:
    """Running counts of a scan (frames, flagged, unreadable, flagged per artifact), fed as results stream."""

    def __init__(self) -> None:
        self.frames = 0
        self.flagged = 0
        self.errors = 0
        self.by_artifact: dict[str, int] = {}

    def add(self, r: ScanResult) -> None:
        if r.error is not None:
            self.errors += 1
            return
        self.frames += 1
        if r.corrupted:
            self.flagged += 1
            self.by_artifact[r.label] = self.by_artifact.get(r.label, 0) + 1

    def watch(self, results: Iterable[ScanResult]) -> Iterator[ScanResult]:
        """Pass results through unchanged, counting them."""
        for r in results:
            self.add(r)
            yield r

    def as_dict(self) -> dict:
        return {"frames": self.frames, "flagged": self.flagged, "errors": self.errors,
                "by_artifact": dict(self.by_artifact)}


def summarize(results: Iterable[ScanResult]) -> dict:
    """Counts for a summary line: frames, flagged, errors, and flagged frames per artifact."""
    tally = Tally()
    for r in results:
        tally.add(r)
    return tally.as_dict()


def near_miss(result: ScanResult, thresholds: Mapping[str, float] | float | None,
              least: float = 0.5) -> tuple[str, float] | None:
    """Why a likely-corrupted frame was called clean: ``(artifact, threshold)``, else None.

    A frame whose `score` reaches `least` (more likely corrupted than not) can still be clean when its most
    likely artifact's threshold is higher: a tester seeing "clean 0.994" should learn that it missed that
    artifact's threshold (0.995, say) rather than wonder. `thresholds` are the thresholds the scan used: the
    model's per-class ones (mapping) or the one ``--threshold`` for all (float).

    Parameters
    ----------
    result : ScanResult
        One frame's verdict.
    thresholds : mapping of str to float, float or None
        Per-artifact thresholds, one threshold for every artifact, or None (unknown: no answer).
    least : float
        Scores below this are ordinary clean frames, not near misses.
    """
    if thresholds is None or result.error is not None or result.corrupted or result.score is None:
        return None
    if result.score < least or not result.scores:
        return None
    artifact = max(result.scores.items(), key=lambda kv: kv[1])[0]
    if isinstance(thresholds, Mapping):
        if artifact not in thresholds:
            return None
        threshold = float(thresholds[artifact])
    else:
        threshold = float(thresholds)
    # In video a temporal finding can raise an artifact's score above the one the experts' verdict rested on;
    # the note is only given where it is true.
    return (artifact, threshold) if result.score < threshold else None


def exit_status(summary: dict) -> int:
    """0 when every frame is clean, 1 when artifacts were found, 2 when only unreadable input spoiled it."""
    if summary["flagged"]:
        return 1
    if summary["errors"]:
        return 2
    return 0
