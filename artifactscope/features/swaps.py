"""Block ``swaps``: would swapping two neighbouring blocks back make the picture continuous again?

Screen stuttering cuts the frame into blocks whose sizes divide W (or H) and swaps neighbours. Where that
happened, the three seams of the pair (left edge, middle, right edge) are discontinuous, and swapping the pair
back joins columns that were neighbours in the picture: the seams become as smooth as the rest of the frame.
Tile maps, pixel art and HUD panels have discontinuous block edges too (they defeat a plain lattice test), but
exchanging two of their blocks does not make the edges any smoother. For every block count k in 2..16 and
every adjacent pair, the score is ``log((current + n) / (swapped back + n))`` of the mean colour difference
across the pair's seams, with `n` the frame's typical difference between neighbouring columns (so that flat
areas, where every seam is smooth either way, score 0). The same along rows.

Columns are read at full resolution (a seam is 1 px wide) but only every few rows, as in ``structure``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._prepare import Prepared

_ROW_SAMPLES = 180  # rows sampled when comparing columns (columns sampled when comparing rows)
_BLOCK_COUNTS = range(2, 17)
_MIN_BLOCK = 4  # px: narrower blocks are not looked at (pixel-art cells, not swapped blocks)
_HOT = 0.3  # a pair whose seams improve by this much (log ratio) counts as swapped

NAMES: tuple[str, ...] = tuple(
    f"swaps.{axis}_{stat}" for axis in ("cols", "rows") for stat in ("best", "top3", "hot_pairs")
) + ("swaps.best",)
LENGTH = len(NAMES)


@lru_cache(maxsize=64)
def _pairs(n: int) -> tuple[np.ndarray, ...]:
    """Seam index pairs for every block count and adjacent block pair along an axis of length `n`.

    Returns ``(current_a, current_b, back_a, back_b, n_seams, extent)``: arrays of shape (pairs, 3) holding,
    for the pair's left, middle and right seam, the two lines that meet there now (``current``) and after
    swapping the pair back (``back``); a seam at the frame's border is marked by index -1 in both.
    ``n_seams`` counts the real seams of each pair, ``extent`` (pairs, 2) is the pair's first line and the
    line after its last.
    """
    cur_a, cur_b, back_a, back_b, extent = [], [], [], [], []
    for k in _BLOCK_COUNTS:
        b = n // k
        if b < _MIN_BLOCK:
            continue
        for i in range(k - 1):
            p0, p1, p2 = i * b, (i + 1) * b, (i + 2) * b
            left = p0 > 0
            right = p2 < n
            cur_a.append((p0 - 1 if left else -1, p1 - 1, p2 - 1 if right else -1))
            cur_b.append((p0 if left else -1, p1, p2 if right else -1))
            # Swapped back: the block now at i+1 returns to i, so its first line meets the line left of p0,
            # its last line meets the first line of the block now at i, whose last line meets p2.
            back_a.append((p0 - 1 if left else -1, p2 - 1, p1 - 1 if right else -1))
            back_b.append((p1 if left else -1, p0, p2 if right else -1))
            extent.append((p0, p2))
    arrays = [np.array(x, dtype=np.int64).reshape(-1, 3) for x in (cur_a, cur_b, back_a, back_b)]
    n_seams = (arrays[0] >= 0).sum(axis=1).astype(np.float32)
    return (*arrays, n_seams, np.array(extent, dtype=np.int64).reshape(-1, 2))


def _axis_scores(lines: np.ndarray) -> np.ndarray:
    """Log-ratio score of every (block count, adjacent pair) for lines along axis 0 of `lines`.

    `lines` is float32 (n_lines, samples, 3): line j is column j (or row j) sampled along its length.
    """
    n = lines.shape[0]
    cur_a, cur_b, back_a, back_b, n_seams, _ = _pairs(n)
    if len(cur_a) == 0:
        return np.zeros(0, np.float32)
    # Per-line mean difference between neighbours: the frame's own level of change from one line to the next.
    neighbour = np.abs(lines[1:] - lines[:-1]).mean(axis=(1, 2))
    typical = float(np.median(neighbour)) + 1.0

    def seam_cost(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        valid = a >= 0
        cost = np.abs(lines[np.where(valid, a, 0)] - lines[np.where(valid, b, 0)]).mean(axis=(2, 3))
        return (cost * valid).sum(axis=1)

    now = seam_cost(cur_a, cur_b) / n_seams
    back = seam_cost(back_a, back_b) / n_seams
    return np.log((now + typical) / (back + typical)).astype(np.float32)


def _stats(scores: np.ndarray) -> list[float]:
    if scores.size == 0:
        return [0.0, 0.0, 0.0]
    top = np.sort(scores)[::-1]
    return [float(top[0]), float(top[:3].mean()), float(np.count_nonzero(scores > _HOT))]


def _lines(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns and rows of an RGB frame as float32 (n_lines, samples, 3), each sampled along its length."""
    h, w = img.shape[:2]
    cols = np.ascontiguousarray(img[:: max(1, h // _ROW_SAMPLES)].transpose(1, 0, 2), dtype=np.float32)
    rows = np.asarray(img[:, :: max(1, w // _ROW_SAMPLES)], dtype=np.float32)
    return cols, rows


def swapped_pairs(image: np.ndarray, level: float = _HOT) -> list[tuple[int, int, int, float]]:
    """Adjacent block pairs that look swapped: ``(axis, start, stop, score)``, best first.

    `axis` 1 means a pair of column blocks spanning columns ``start:stop``, axis 0 a pair of row blocks; only
    pairs scoring at least `level` are listed, and a pair overlapping a better one along the same axis is left
    out (the same swap is seen at several block counts).
    """
    found: list[tuple[int, int, int, float]] = []
    cols, rows = _lines(image)
    for axis, lines in ((1, cols), (0, rows)):
        scores = _axis_scores(lines)
        extent = _pairs(lines.shape[0])[5]
        taken: list[tuple[int, int]] = []
        for k in np.argsort(scores)[::-1]:
            if scores[k] < level:
                break
            a, b = (int(v) for v in extent[k])
            if any(a < y and x < b for x, y in taken):
                continue
            taken.append((a, b))
            found.append((axis, a, b, float(scores[k])))
    return sorted(found, key=lambda t: -t[3])


def compute(image: np.ndarray, work: Prepared) -> np.ndarray:
    """The block's values for one frame (see the module docstring)."""
    cols, rows = _lines(work.image)
    col_stats, row_stats = _stats(_axis_scores(cols)), _stats(_axis_scores(rows))
    return np.array([*col_stats, *row_stats, max(col_stats[0], row_stats[0])], dtype=np.float32)
