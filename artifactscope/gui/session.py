"""The GUI's state as plain Python: scan results, verdicts under the current threshold, filter, sort, labels.

Nothing here imports Qt. Qt widgets observe a :class:`Session` through :meth:`Session.subscribe` (a thin
``QAbstractListModel`` adapts it for the list view), so the logic can be tested without a display and the
same rules decide what the list, the export and the keyboard navigation see.

Verdicts are re-decided here without rescanning: the scan keeps every frame's ``score`` (probability of
corruption) and ``scores`` (per artifact). With ``threshold`` None the scan's own verdict (the model's
per-class thresholds) is shown; with a number, a frame is flagged when ``score >= threshold`` and labelled
with its most likely artifact -- exactly what ``scan.scan(..., threshold=t)`` would have said.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from artifactscope.artifacts import ARTIFACT_NAMES, CLEAN, validate_label

# Filter choices besides an artifact name.
FILTER_ALL = "all"
FILTER_FLAGGED = "flagged"
FILTER_CLEAN = "clean"
FILTER_ERRORS = "errors"
FILTER_LABELLED = "labelled"
FILTERS = (FILTER_ALL, FILTER_FLAGGED, FILTER_CLEAN, FILTER_ERRORS, FILTER_LABELLED, *ARTIFACT_NAMES)

SORT_ORDER = "order"  # scan order: input order, then frame order within a video
SORT_SCORE = "score"  # most suspicious first
SORT_NAME = "name"
SORT_TIME = "time"  # file modification time, then video time
SORTS = (SORT_ORDER, SORT_SCORE, SORT_NAME, SORT_TIME)

# Judgements a tester can give on a frame.
JUDGE_CORRECT = "correct"
JUDGE_CLEAN = "clean"  # false alarm: the frame is clean
JUDGE_ARTIFACT = "artifact"  # it is <artifact>


@dataclass
class Entry:
    """One row: a scan result plus what the GUI knows about it."""

    result: Any  # artifactscope.scan.ScanResult
    seq: int  # position in scan order
    best: str | None  # most likely artifact (argmax of scores), None for errors
    user_label: str | None = None  # label the tester gave (or the library already had)
    label_checked: bool = False  # whether the library was asked about this frame already
    mtime: float | None = None

    @property
    def key(self) -> tuple[str, int | None]:
        return (self.result.path, self.result.frame)

    @property
    def error(self) -> str | None:
        return self.result.error

    @property
    def score(self) -> float | None:
        return self.result.score

    @property
    def name(self) -> str:
        return os.path.basename(self.result.path) or self.result.path


class LabellingUnavailable(RuntimeError):
    """The sample library cannot be used (not installed yet, or failed to open)."""


def _best_artifact(scores: dict[str, float]) -> str | None:
    if not scores:
        return None
    return max(scores.items(), key=lambda kv: kv[1])[0]


class Session:
    """Scan results and the view state the GUI shows.

    Parameters
    ----------
    library : object, optional
        A sample library with ``add(image=None, *, label, origin, frame=None, time_s=None, verdict=None,
        score=None) -> (sample, created)`` and ``label_of(origin, frame) -> str | None``. When None, it is
        created on first use from ``library_factory`` (default: ``artifactscope.library.SampleLibrary()``).
    library_factory : callable, optional
        Makes the library lazily (so that opening the window never waits on it).
    frame_loader : callable(path, frame) -> numpy array, optional
        Reads a video frame's pixels to pass to ``library.add``; by default ``image=None`` and the library
        reads the frame from ``origin``/``frame`` itself.
    """

    def __init__(self, library: Any = None, library_factory: Callable[[], Any] | None = None,
                 frame_loader: Callable[[str, int], Any] | None = None) -> None:
        self.entries: list[Entry] = []
        self.visible: list[int] = []  # indices into entries, in display order
        self.threshold: float | None = None
        self.filter: str = FILTER_ALL
        self.min_score: float = 0.0
        self.sort: str = SORT_ORDER
        self._by_key: dict[tuple[str, int | None], int] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._library = library
        self._library_factory = library_factory
        self._library_error: str | None = None
        self._frame_loader = frame_loader
        self._seq = 0

    # -- observers ------------------------------------------------------------------------------------------

    def subscribe(self, fn: Callable[[str], None]) -> None:
        """Call ``fn(event)`` after changes: ``"rows"`` (visible rows changed), ``"verdicts"`` (same rows,
        new verdicts), ``"labels"`` (a frame's user label changed)."""
        self._listeners.append(fn)

    def _emit(self, event: str) -> None:
        for fn in list(self._listeners):
            fn(event)

    # -- results --------------------------------------------------------------------------------------------

    def add_results(self, results: Iterable[Any]) -> int:
        """Add scan results (a result for a frame already listed replaces it); returns how many came."""
        n = 0
        for r in results:
            entry = Entry(result=r, seq=self._seq, best=_best_artifact(r.scores) if r.error is None else None)
            self._seq += 1
            old = self._by_key.get(entry.key)
            if old is not None:
                entry.user_label = self.entries[old].user_label
                entry.label_checked = self.entries[old].label_checked
                self.entries[old] = entry
            else:
                self._by_key[entry.key] = len(self.entries)
                self.entries.append(entry)
            n += 1
        if n:
            self._refresh()
        return n

    def clear(self) -> None:
        self.entries.clear()
        self._by_key.clear()
        self._seq = 0
        self._refresh()

    def entry_at(self, row: int) -> Entry:
        return self.entries[self.visible[row]]

    def row_of(self, entry: Entry) -> int | None:
        """Display row of an entry, or None when the filter hides it."""
        idx = self._by_key.get(entry.key)
        if idx is None:
            return None
        try:
            return self.visible.index(idx)
        except ValueError:
            return None

    def find(self, path: str, frame: int | None) -> Entry | None:
        idx = self._by_key.get((path, frame))
        return None if idx is None else self.entries[idx]

    def frames_of(self, path: str) -> list[Entry]:
        """All entries of one video (or image), in frame order: what the timeline shows."""
        found = [e for e in self.entries if e.result.path == path and e.result.frame is not None]
        return sorted(found, key=lambda e: e.result.frame)

    # -- verdicts -------------------------------------------------------------------------------------------

    def verdict(self, entry: Entry) -> tuple[str | None, bool | None]:
        """``(label, corrupted)`` under the current threshold; ``(None, None)`` for an unreadable frame."""
        r = entry.result
        if r.error is not None or r.score is None:
            return None, None
        if self.threshold is None:
            return r.label, bool(r.corrupted)
        flagged = r.score >= self.threshold
        return (entry.best if flagged and entry.best else CLEAN), flagged

    def is_flagged(self, entry: Entry) -> bool:
        return bool(self.verdict(entry)[1])

    def decided(self, entry: Entry) -> Any:
        """The entry's ScanResult with label/corrupted as currently decided (for export)."""
        label, corrupted = self.verdict(entry)
        r = entry.result
        if r.error is not None or (label == r.label and corrupted == r.corrupted):
            return r
        return dataclasses.replace(r, label=label, corrupted=corrupted)

    def summary(self) -> dict[str, int]:
        s = {"frames": 0, "flagged": 0, "errors": 0, "labelled": 0, "shown": len(self.visible)}
        for e in self.entries:
            if e.error is not None:
                s["errors"] += 1
                continue
            s["frames"] += 1
            s["flagged"] += self.is_flagged(e)
            s["labelled"] += e.user_label is not None
        return s

    # -- view state -----------------------------------------------------------------------------------------

    def set_threshold(self, threshold: float | None) -> None:
        """A number in [0, 1] (flagged = score >= threshold), or None for the model's own thresholds."""
        if threshold is not None:
            threshold = float(threshold)
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
        if threshold == self.threshold:
            return
        self.threshold = threshold
        self._refresh(event="verdicts")

    def set_filter(self, artifact: str | None = None, min_score: float | None = None) -> None:
        if artifact is not None:
            if artifact not in FILTERS:
                raise ValueError(f"unknown filter {artifact!r}; expected one of: {', '.join(FILTERS)}")
            self.filter = artifact
        if min_score is not None:
            self.min_score = max(0.0, min(1.0, float(min_score)))
        self._refresh()

    def set_sort(self, key: str) -> None:
        if key not in SORTS:
            raise ValueError(f"unknown sort {key!r}; expected one of: {', '.join(SORTS)}")
        self.sort = key
        self._refresh()

    def _shown(self, e: Entry) -> bool:
        f = self.filter
        if e.error is not None:
            return f in (FILTER_ALL, FILTER_ERRORS)
        if f == FILTER_ERRORS:
            return False
        if self.min_score > 0 and (e.score or 0.0) < self.min_score:
            return False
        if f == FILTER_ALL:
            return True
        if f == FILTER_LABELLED:
            return e.user_label is not None
        label, flagged = self.verdict(e)
        if f == FILTER_FLAGGED:
            return bool(flagged)
        if f == FILTER_CLEAN:
            return not flagged
        return label == f

    def _mtime(self, e: Entry) -> float:
        if e.mtime is None:
            try:
                e.mtime = os.stat(e.result.path).st_mtime
            except OSError:
                e.mtime = 0.0
        return e.mtime

    def _sort_key(self, i: int):
        e = self.entries[i]
        r = e.result
        if self.sort == SORT_SCORE:
            # Most suspicious first; errors at the very top (they need attention as well).
            return (0 if r.error is not None else 1, -(r.score or 0.0), e.seq)
        if self.sort == SORT_NAME:
            return (e.name.casefold(), r.path, r.frame if r.frame is not None else -1)
        if self.sort == SORT_TIME:
            return (self._mtime(e), r.path, r.time_s if r.time_s is not None else (r.frame or 0), e.seq)
        return e.seq

    def _refresh(self, event: str = "rows") -> None:
        visible = [i for i, e in enumerate(self.entries) if self._shown(e)]
        if self.sort != SORT_ORDER:
            visible.sort(key=self._sort_key)
        else:
            visible.sort(key=lambda i: self.entries[i].seq)
        changed = visible != self.visible
        self.visible = visible
        self._emit("rows" if changed else event)

    # -- navigation -----------------------------------------------------------------------------------------

    def next_flagged(self, row: int | None, step: int = 1) -> int | None:
        """Row of the next (step=1) or previous (step=-1) flagged frame from `row`, or None."""
        n = len(self.visible)
        if n == 0:
            return None
        start = (-1 if step > 0 else n) if row is None else row
        r = start + step
        while 0 <= r < n:
            if self.is_flagged(self.entries[self.visible[r]]):
                return r
            r += step
        return None

    # -- labelling ------------------------------------------------------------------------------------------

    @property
    def library(self) -> Any:
        """The sample library, created on first use; raises LabellingUnavailable with the reason."""
        if self._library is None:
            if self._library_error is not None:
                raise LabellingUnavailable(self._library_error)
            try:
                if self._library_factory is not None:
                    self._library = self._library_factory()
                else:
                    from artifactscope.library import SampleLibrary  # written alongside; imported lazily

                    self._library = SampleLibrary(root=None)
            except Exception as exc:  # noqa: BLE001 - a missing/broken library must not take the GUI down
                self._library_error = f"the sample library is not available ({exc})"
                raise LabellingUnavailable(self._library_error) from None
        return self._library

    def user_label(self, entry: Entry) -> str | None:
        """The label the library holds for this frame (asked once, then remembered)."""
        if not entry.label_checked and entry.error is None:
            entry.label_checked = True
            try:
                lib = self.library
                entry.user_label = lib.label_of(entry.result.path, entry.result.frame)
            except Exception:  # noqa: BLE001 - no library, no label
                pass
        return entry.user_label

    def judge(self, entry: Entry, judgement: str, artifact: str | None = None) -> tuple[str, bool]:
        """Record the tester's judgement of a frame in the sample library.

        Parameters
        ----------
        judgement : {"correct", "clean", "artifact"}
            "correct": the current verdict is right; "clean": false alarm; "artifact": it is `artifact`.

        Returns
        -------
        (label, created)
            The label stored and whether the library made a new sample.

        Raises
        ------
        LabellingUnavailable, ValueError
            No library, an unreadable frame, or an unknown judgement.
        """
        r = entry.result
        if r.error is not None:
            raise ValueError(f"{r.path}: cannot label a frame that could not be read")
        verdict, _ = self.verdict(entry)
        if judgement == JUDGE_CORRECT:
            label = verdict or CLEAN
        elif judgement == JUDGE_CLEAN:
            label = CLEAN
        elif judgement == JUDGE_ARTIFACT:
            if not artifact or artifact == CLEAN:
                raise ValueError("name the artifact the frame shows")
            label = artifact
        else:
            raise ValueError(f"unknown judgement {judgement!r}")
        validate_label(label)
        lib = self.library
        image = None
        if r.frame is not None and self._frame_loader is not None:
            image = self._frame_loader(r.path, r.frame)  # a video frame has no file of its own
        _, created = lib.add(image, label=label, origin=r.path, frame=r.frame, time_s=r.time_s,
                             verdict=verdict, score=r.score)
        entry.user_label = label
        entry.label_checked = True
        if self.filter == FILTER_LABELLED:
            self._refresh()
        else:
            self._emit("labels")
        return label, bool(created)

    # -- export ---------------------------------------------------------------------------------------------

    def export_results(self, shown_only: bool = True) -> list[Any]:
        """Results to export, with verdicts as currently decided, in display order (or scan order)."""
        indices = self.visible if shown_only else sorted(range(len(self.entries)),
                                                         key=lambda i: self.entries[i].seq)
        return [self.decided(self.entries[i]) for i in indices]

    def export(self, fmt: str, out, shown_only: bool = True) -> int:
        """Write the results with ``artifactscope.reports.WRITERS[fmt]``; returns the number of records."""
        from artifactscope.reports import WRITERS

        if fmt not in WRITERS:
            raise ValueError(f"unknown report format {fmt!r}; available: {', '.join(sorted(WRITERS))}")
        results = self.export_results(shown_only)
        WRITERS[fmt](results, out)
        return len(results)
