"""Batch scanning: frames in, one :class:`ScanResult` per frame out, in input order.

The same generator serves the CLI and the GUI. Work is streamed: files are discovered lazily, features are
computed per file (in worker processes with ``jobs > 1``), and predictions are made in small batches, so
memory stays bounded whatever the number of files. Progress goes to a callback; a ``cancel`` callable
stops the scan between frames.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field

import numpy as np

from artifactscope import features, frames
from artifactscope.artifacts import CLEAN
from artifactscope.model_store import ModelBundle

ProgressFn = Callable[[int, int | None], None]  # (files done, files total or None while unknown)
CancelFn = Callable[[], bool]


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


def _file_items(path: str, every: int, max_pixels: int) -> Iterator[_Item]:
    for fr in frames.iter_frames([path], every=every, max_pixels=max_pixels):
        if not fr.ok:
            yield _Item(fr.source, fr.index, fr.time_s, None, fr.error)
            continue
        try:
            vec = features.extract(fr.pixels)
        except Exception as exc:  # a frame the features cannot handle must not stop the batch
            yield _Item(fr.source, fr.index, fr.time_s, None, f"{fr.source}: cannot analyse frame ({exc})")
            continue
        h, w = fr.pixels.shape[:2]
        yield _Item(fr.source, fr.index, fr.time_s, vec, None, w, h)


def _file_items_list(path: str, every: int, max_pixels: int) -> list[_Item]:
    return list(_file_items(path, every, max_pixels))


def _items(
    paths: Iterable[str | os.PathLike], every: int, max_pixels: int, jobs: int, on_file: Callable[[], None]
) -> Iterator[_Item]:
    if jobs == 1:
        for path, error in frames.discover(paths):
            if error is not None:
                yield _Item(str(path), None, None, None, error)
            else:
                yield from _file_items(path, every, max_pixels)
            on_file()
        return

    from joblib import Parallel, delayed

    # Errors found while discovering are passed through the pool as ready-made results to keep input order.
    def tasks():
        for path, error in frames.discover(paths):
            if error is not None:
                yield delayed(_error_items)(str(path), error)
            else:
                yield delayed(_file_items_list)(path, every, max_pixels)

    with Parallel(n_jobs=jobs, return_as="generator", pre_dispatch="2*n_jobs") as parallel:
        for file_items in parallel(tasks()):
            yield from file_items
            on_file()


def _error_items(path: str, error: str) -> list[_Item]:
    return [_Item(path, None, None, None, error)]


def count_files(paths: Iterable[str | os.PathLike]) -> int:
    """How many files (and error entries) a scan of `paths` will visit."""
    return sum(1 for _ in frames.discover(paths))


def scan(
    paths: Iterable[str | os.PathLike],
    model: ModelBundle,
    *,
    threshold: float | None = None,
    every: int = 1,
    jobs: int = 1,
    batch_size: int = 32,
    max_pixels: int = frames.DEFAULT_MAX_PIXELS,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    total_files: int | None = None,
) -> Iterator[ScanResult]:
    """Scan images, folders and videos; yield one result per frame (or per unreadable file), in order.

    Parameters
    ----------
    paths : iterable of path-like
        Images, videos and folders (searched recursively).
    model : ModelBundle
        From :func:`artifactscope.model_store.load_bundle`.
    threshold : float, optional
        One decision threshold for every class instead of the model's per-class thresholds.
    every : int
        Analyse every N-th frame of videos.
    jobs : int
        Worker processes reading and analysing files (-1: all cores).
    batch_size : int
        Frames predicted together (bigger batches amortise the estimators' per-call overhead).
    progress : callable(files_done, files_total), optional
    cancel : callable() -> bool, optional
        Polled between frames; when it returns True the scan stops after the current batch.
    total_files : int, optional
        Known number of files, reported to `progress`.
    """
    if every < 1:
        raise ValueError(f"every must be a positive number of frames, got {every}")
    if threshold is not None and not (0.0 <= threshold <= 1.0):
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    if jobs == 0 or jobs < -1:
        raise ValueError(f"jobs must be a positive number of processes or -1 for all cores, got {jobs}")
    if jobs == -1:
        jobs = os.cpu_count() or 1

    done = 0

    def on_file():
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total_files)

    ensemble = model.ensemble
    pending: list[_Item] = []
    # A batch of a few dozen rows gains nothing from BLAS/OpenMP threads, and their spinning idle threads
    # can stall a 2-core machine for seconds: predict single-threaded.
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()

    def flush() -> Iterator[ScanResult]:
        ready = [it for it in pending if it.features is not None]
        verdicts = None
        if ready:
            with controller.limit(limits=1):
                proba = ensemble.predict_proba(np.vstack([it.features for it in ready]))
            verdicts = ensemble.decide(proba, threshold=threshold)
        k = 0
        for it in pending:
            if it.features is None:
                yield ScanResult(path=it.path, frame=it.frame, time_s=it.time_s, error=it.error)
                continue
            row = verdicts.proba[k]
            scores = {str(c): float(p) for c, p in zip(ensemble.classes_, row) if c != CLEAN}
            yield ScanResult(
                path=it.path, frame=it.frame, time_s=it.time_s,
                label=str(verdicts.labels[k]), corrupted=bool(verdicts.corrupted[k]),
                score=float(verdicts.score[k]), scores=scores, regions=[],
                width=it.width, height=it.height,
            )
            k += 1
        pending.clear()

    for item in _items(paths, every, max_pixels, jobs, on_file):
        pending.append(item)
        if len(pending) >= batch_size:
            yield from flush()
        if cancel is not None and cancel():
            break
    yield from flush()


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


def exit_status(summary: dict) -> int:
    """0 when every frame is clean, 1 when artifacts were found, 2 when only unreadable input spoiled it."""
    if summary["flagged"]:
        return 1
    if summary["errors"]:
        return 2
    return 0
