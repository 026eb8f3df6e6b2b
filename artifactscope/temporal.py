"""Temporal checks for videos: screen tearing and stuttering, judged across consecutive sampled frames.

Both artifacts are relations *between* frames, which a single-frame expert cannot see reliably: a torn frame is
made of two moments (a band of it still shows the previous sample), and a stutter is a picture that hangs for a
few samples while the scene is otherwise moving. :class:`TemporalChecker` therefore compares each sampled frame
of one video with the samples before and after it, on small grey copies (at most ``_T_WIDTH`` pixels wide, so
that the checks are cheap and codec noise is averaged out), and attaches its findings to the frame's item:

- Tearing (:func:`tear_score`): per row (and per column), is the frame closer to its predecessor or to its
  successor? A band of rows (columns) that clearly repeats the predecessor while the rest has moved on, in a
  moving scene, is a tear. One sample of delay: a frame is judged once its successor has arrived.
- Stuttering: a short run (1 to ``_T_MAX_FREEZE`` samples) that repeats the sample before it, with steady
  motion both before and after the run. Regular repeats (30 fps content shown at 60) and long pauses are not
  flagged.

The checks are streamed: memory is a few small grey frames and at most ``_T_MAX_FREEZE + 1`` held items,
whatever the video's length. Used by :mod:`artifactscope.scan`; the verdicts go on to event grouping
(:mod:`artifactscope.events`) in the reports. No GUI dependency (the core never imports Qt); OpenCV is imported
lazily.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import math
from typing import Generic, Protocol, TypeVar

import numpy as np

__all__ = ["STUTTER", "TEAR", "TemporalChecker", "TemporalItem", "tear_score"]

Box = tuple[int, int, int, int]


class TemporalItem(Protocol):
    """What :class:`TemporalChecker` needs of a frame's item (a frozen dataclass, e.g. ``scan._Item``)."""

    @property
    def features(self) -> np.ndarray | None: ...  # None for a frame that could not be read or analysed

    @property
    def width(self) -> int | None: ...

    @property
    def height(self) -> int | None: ...

    @property
    def temporal(self) -> tuple[tuple[str, float, Box | None], ...]: ...  # (artifact, p, box) findings


ItemT = TypeVar("ItemT", bound=TemporalItem)

TEAR = "screen_tearing"
STUTTER = "screen_stuttering"
_T_WIDTH = 160  # frames are compared as grey images about this wide
_T_EPS = 2.0  # grey levels: differences below this are noise (codec, dithering)
_T_R_EPS = 1.0  # grey levels added to the denominator of r (below _T_EPS: codec noise averages out per row)
_T_STALE_R = -0.4  # a stale band's mean r (-1: repeats its predecessor) is at most this
_T_STALE = 0.2  # a stale band's mean |cur - prev| is at most this share of the rest's
_T_MOVING = 2.0  # mean grey difference above which two frames are "moving" (content changed)
_T_MAX_FREEZE = 6  # longest run of repeated frames that is still a stutter, not a legitimate pause


def _grey_small(pixels: np.ndarray) -> np.ndarray:
    """A small grey float32 copy of a frame (at most _T_WIDTH wide) for the temporal checks."""
    import cv2

    h, w = pixels.shape[:2]
    if w > _T_WIDTH:
        pixels = cv2.resize(pixels, (_T_WIDTH, max(8, round(h * _T_WIDTH / w))), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _logistic(x: float) -> float:
    return float(1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x)))))


@functools.lru_cache(maxsize=16)
def _bands(n: int, lo: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every band ``[i, j)`` of n rows at least `lo` long that leaves at least `lo` outside, with both sizes."""
    i, j = np.triu_indices(n + 1, lo)
    keep = (j - i) <= n - lo
    i, j = i[keep], j[keep]
    return i, j, (j - i).astype(np.float64), (n - (j - i)).astype(np.float64)


def tear_score(prev: np.ndarray, cur: np.ndarray, nxt: np.ndarray, min_part: float = 0.1
               ) -> tuple[float, str, float, float]:
    """How much `cur` looks torn, judged against the samples before and after it: ``(p, axis, start, end)``.

    A tear is a seam (a row, or a column) where the picture on one side comes from an earlier moment than the
    rest. Per row (column), ``r = (|cur - prev| - |cur - next|) / (|cur - prev| + |cur - next| + eps)`` is -1
    where the frame repeats its predecessor, +1 where it already shows its successor, about 0 with steady
    motion. The stale part is the band of rows (columns), at least `min_part` of the frame, whose mean ``r``
    lies furthest below the rest's (and below -0.4): a band, not only a top part, because in a run of torn
    frames the neighbours are torn too. The statistic is that difference less the spread of ``r`` on
    both sides; it counts only where the scene moves (``|prev - next|`` over _T_MOVING) in at least half of
    both the band and the rest, so a still part next to a moving one, or one object appearing, is no tear;
    and the band must nearly repeat its predecessor (mean ``|cur - prev|`` at most ``_T_STALE`` of the rest's),
    so a slow part that jumps at the next sample (a camera leaving a flat wall) is no tear either.
    A frame whose part already shows the next moment (``r`` near +1) is the frame *before* a tear: not flagged.

    Parameters
    ----------
    prev, cur, nxt : numpy.ndarray
        Grey float images of the same shape (consecutive samples of one video).

    Returns
    -------
    p : float
        About 0 for a steadily moving or still frame, near 1 for a tear.
    axis : {"rows", "cols"}
        "rows": the stale band is rows ``[start, end)`` (a horizontal seam); "cols": columns.
    start, end : float
        The stale band, as fractions of the frame's height (rows) or width (cols).
    """
    dp, dn, moving = np.abs(cur - prev), np.abs(cur - nxt), np.abs(prev - nxt)
    best = (0.0, "rows", 0.0, 0.0)
    for axis, reduce_over in (("rows", 1), ("cols", 0)):
        a, b = dp.mean(axis=reduce_over), dn.mean(axis=reduce_over)
        r = ((a - b) / (a + b + _T_R_EPS)).astype(np.float64)
        mov = (moving.mean(axis=reduce_over) >= _T_MOVING).astype(np.float64)
        n = len(r)
        lo = max(1, int(math.ceil(min_part * n)))
        if n - lo < lo:
            continue
        ca = np.concatenate([[0.0], np.cumsum(a)])
        c1 = np.concatenate([[0.0], np.cumsum(r)])
        c2 = np.concatenate([[0.0], np.cumsum(r * r)])
        cm = np.concatenate([[0.0], np.cumsum(mov)])
        i, j, k_in, k_out = _bands(n, lo)
        s_in, q_in, m_in = c1[j] - c1[i], c2[j] - c2[i], cm[j] - cm[i]
        s_out, q_out, m_out = c1[-1] - s_in, c2[-1] - q_in, cm[-1] - m_in
        mean_in, mean_out = s_in / k_in, s_out / k_out
        sd_in = np.sqrt(np.maximum(q_in / k_in - mean_in ** 2, 0.0))
        sd_out = np.sqrt(np.maximum(q_out / k_out - mean_out ** 2, 0.0))
        stat = (mean_out - mean_in) - 0.5 * (sd_in + sd_out)
        # A stale band repeats the earlier sample: it barely differs from it, next to the motion of the rest
        # (a flat wall the camera is about to leave is merely slow, and then jumps: no tear).
        step_in, step_out = (ca[j] - ca[i]) / k_in, (ca[-1] - (ca[j] - ca[i])) / k_out
        ok = ((mean_in <= _T_STALE_R) & (m_in >= 0.5 * k_in) & (m_out >= 0.5 * k_out)
              & (step_in <= _T_STALE * step_out))
        stat = np.where(ok, stat, 0.0)
        t = int(np.argmax(stat))
        if stat[t] > best[0]:
            best = (float(stat[t]), axis, float(i[t]) / n, float(j[t]) / n)
    stat, axis, start, end = best
    return _logistic((stat - 0.45) / 0.06), axis, start, end


class TemporalChecker(Generic[ItemT]):
    """Temporal checks over a video's sampled frames, streamed: items go in, come out with their findings.

    - Tearing: :func:`tear_score` of each frame against the samples before and after it (one-sample delay).
    - Stuttering, repeated content: a run of 1 to ``_T_MAX_FREEZE`` samples that repeat the one before
      (mean grey difference under 15% of the motion around and under _T_EPS) while the scene moves
      steadily before (two moving steps) and after it. A video that repeats every other frame all the
      time (30 fps shown at 60) never has two moving steps in a row, so it is not flagged; nor is a long pause.
      Block-swapped content inside one frame is the single-frame expert's job.

    Findings are ``(artifact, p, box)`` with the box (the stale part of a torn frame, the whole of a
    repeated one) in frame pixels. An unreadable frame breaks the chain of neighbours. Memory: a few small
    grey frames and at most ``_T_MAX_FREEZE + 1`` items.
    """

    def __init__(self) -> None:
        self.grey: collections.deque = collections.deque(maxlen=2)  # the last two samples' small grey frames
        self.held: collections.deque = collections.deque()  # items not yet released (frame t, or a freeze)
        self.motion: collections.deque = collections.deque(maxlen=3)  # mean |diff| of the last steps
        self.freeze: list[ItemT] = []  # repeated samples waiting for the motion that ends them
        self.freeze_step = 0.0  # the largest difference between consecutive samples of the freeze

    def _flush_held(self) -> list[ItemT]:
        out = list(self.freeze) + list(self.held)
        self.freeze.clear()
        self.held.clear()
        return out

    def push(self, item: ItemT, pixels: np.ndarray | None) -> list[ItemT]:
        """Take the next sample of the video; return the items whose checks are complete.

        Parameters
        ----------
        item : TemporalItem
            The sample's item; ``item.features is None`` marks a frame that could not be read or analysed.
        pixels : numpy.ndarray or None
            The sample's RGB pixels (uint8, height x width x 3), or None for an error frame.

        Returns
        -------
        list
            The items released by this sample, in input order, each with its findings appended to
            ``temporal``; possibly empty (items are held until their neighbours have been seen).
        """
        if item.features is None or pixels is None:  # an error frame: no neighbours across it
            out = self._flush_held() + [item]
            self.grey.clear()
            self.motion.clear()
            return out
        g = _grey_small(pixels)
        out: list[ItemT] = []
        if self.grey and self.grey[-1].shape != g.shape:  # size change mid-stream: start over
            out += self._flush_held()
            self.grey.clear()
            self.motion.clear()
        step = float(np.abs(g - self.grey[-1]).mean()) if self.grey else None

        # Tearing: the held frame (the previous sample) now has both neighbours.
        if len(self.grey) == 2 and self.held:
            prev_item = self.held.pop()
            p, axis, start, end = tear_score(self.grey[0], self.grey[1], g)
            self.held.append(self._with(prev_item, TEAR, p, self._tear_box(prev_item, axis, start, end)))

        # Stuttering: is this sample a repeat of the last one?
        if step is not None:
            before = list(self.motion)
            still = step < _T_EPS and (not before or step < 0.15 * max(before[-1], _T_MOVING))
            if still and (self.freeze or len(before) >= 2 and min(before[-2:]) >= _T_MOVING):
                if len(self.freeze) < _T_MAX_FREEZE:
                    self.freeze_step = step if not self.freeze else max(self.freeze_step, step)
                    out += list(self.held)  # earlier frames are done
                    self.held.clear()
                    self.freeze.append(item)
                    self.grey.append(g)  # compare the next one with the repeat (same content)
                    return out
                out += self.freeze  # too long: a pause, not a stutter
                self.freeze.clear()
            elif self.freeze:
                if step >= _T_MOVING:  # motion resumes: the run was a stutter
                    around = min(self.motion[-1], step)  # the steps before and after the run
                    p = _logistic(4.0 - 20.0 * self.freeze_step / max(around, _T_MOVING))
                    out += [self._with(it, STUTTER, p, None) for it in self.freeze]
                else:
                    out += self.freeze
                self.freeze.clear()
            self.motion.append(step)
        out += list(self.held)
        self.held.clear()
        self.held.append(item)
        self.grey.append(g)
        return out

    def finish(self) -> list[ItemT]:
        """End of the video (or of its readable part): release every item still held, in input order."""
        return self._flush_held()

    @staticmethod
    def _tear_box(item: TemporalItem, axis: str, start: float, end: float) -> Box | None:
        """The stale band in frame pixels."""
        w, h = item.width or 0, item.height or 0
        if not w or not h:
            return None
        if axis == "rows":
            return (0, round(start * h), w, round(end * h))
        return (round(start * w), 0, round(end * w), h)

    @staticmethod
    def _with(item: ItemT, artifact: str, p: float, box: Box | None) -> ItemT:
        if box is None and item.width and item.height:
            box = (0, 0, item.width, item.height)
        return dataclasses.replace(item, temporal=item.temporal + ((artifact, round(p, 6), box),))
