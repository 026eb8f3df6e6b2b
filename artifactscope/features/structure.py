"""Block ``structure``: thin lines, seams and blocks at full resolution.

Downscaling to the working size erases 1-px columns (morse code), 1-px seams (tearing, stuttering) and the
exact pixel runs of line pixelation, so this block reads the full-resolution grey image, subsampling only along
the direction it averages over (every few rows for per-column profiles, every few columns for per-row ones):

* per-column / per-row mean |second difference|, their robust spikes (local maxima far above a running median),
  and a harmonic-comb score of the spike train (morse columns sit on a lattice of 1% of the width);
* the strongest horizontal and vertical seam: mean |I[y] - I[y-1]| relative to the running median of its
  neighbours, and how consistently the jump spans the whole row (tearing);
* block-boundary lattices: discontinuity strength at multiples of each divisor of the frame size (stuttering
  swaps blocks whose sizes divide W and H);
* blockiness: rows (columns) made of flat runs separated by isolated sharp jumps (line pixelation).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter, uniform_filter1d

from ._prepare import Prepared

_TARGET_SAMPLES = (360, 480)  # rows sampled for column profiles, columns sampled for row profiles
SPIKE_Z = 6.0  # robust z-score of a spike
SPIKE_MIN = 2.0  # ... and at least this many grey levels above the running median
JUMP = 20  # grey-level step counted as a sharp jump
FLAT = 2  # grey-level step still counted as flat (JPEG noise)
_SEGMENTS = 8
_D2_ROW = np.array([[1, -2, 1]], dtype=np.float32)  # second difference along a row
_D2_COL = np.ascontiguousarray(_D2_ROW.T)

_PROFILE_STATS = ("d2_maxmed", "spike_rate", "spike_zmax", "spike_comb")
_SEAM_STATS = ("ratio", "excess", "pos", "consistency")
_BLOCKY_STATS = ("max", "frac", "mean")
NAMES: tuple[str, ...] = (
    *(f"structure.col_{s}" for s in _PROFILE_STATS),
    *(f"structure.row_{s}" for s in _PROFILE_STATS),
    *(f"structure.seam_row_{s}" for s in _SEAM_STATS),
    *(f"structure.seam_col_{s}" for s in _SEAM_STATS),
    "structure.lattice_col_score", "structure.lattice_col_hits", "structure.lattice_col_size",
    "structure.lattice_row_score", "structure.lattice_row_hits", "structure.lattice_row_size",
    *(f"structure.blocky_rows_{s}" for s in _BLOCKY_STATS),
    *(f"structure.blocky_cols_{s}" for s in _BLOCKY_STATS),
    "structure.d1_col_mean_log", "structure.d1_row_mean_log", "structure.flat_step_frac",
)
LENGTH = len(NAMES)


def _robust_residual(profile: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """Profile minus its running median, and the residual's robust sigma (floored: flat frames have none)."""
    base = median_filter(profile, size=size, mode="nearest")
    res = profile - base
    sigma = 1.4826 * float(np.median(np.abs(res))) + 0.25
    return res, sigma


def _comb_score(train: np.ndarray) -> float:
    """Harmonic-comb score: best mean power of the first four harmonics, relative to the mean power.

    ~1 for a random spike train, about the number of spikes for spikes on a regular lattice.
    """
    n = train.size
    x = train - train.mean()
    power = np.abs(np.fft.rfft(x)) ** 2
    mean_p = float(power[1:].mean()) if power.size > 1 else 0.0
    fmax = (power.size - 1) // 4
    if mean_p <= 1e-12 or fmax < 8 or n < 64:
        return 0.0
    f = np.arange(8, fmax + 1)
    harm = power[f[:, None] * np.arange(1, 5)[None, :]].mean(axis=1)
    return float(np.log1p(harm.max() / mean_p))


def _profile_stats(d2: np.ndarray) -> list[float]:
    """Spike statistics of a mean |second difference| profile (thin 1-px lines across the frame)."""
    res, sigma = _robust_residual(d2, 9)
    z = res / sigma
    # A 1-px line gives a [1, 2, 1] bump in |second difference|: count only the local maxima.
    peak = np.zeros(z.size, bool)
    peak[1:-1] = (res[1:-1] >= res[:-2]) & (res[1:-1] > res[2:])
    spikes = peak & (z > SPIKE_Z) & (res > SPIKE_MIN)
    train = np.where(spikes, np.minimum(z, 50.0), 0.0)
    return [
        float(np.log((d2.max() + 1.0) / (np.median(d2) + 1.0))),
        float(spikes.sum()) / d2.size * 100.0,  # spikes per 1% of the length
        float(np.log1p(max(float(z.max()), 0.0))),
        _comb_score(train),
    ]


def _seam(d1: np.ndarray, grey: np.ndarray, axis: int) -> list[float]:
    """Strongest seam of a mean |first difference| profile and how consistently it spans the frame.

    ``d1[i]`` is the mean step between lines ``i`` and ``i + 1`` (rows when axis is 0, columns when 1).
    """
    n = d1.size
    base = median_filter(d1, size=17, mode="nearest")
    ratio = (d1 + 1.0) / (base + 1.0)
    margin = max(2, n // 50)
    if n - 2 * margin < 1:
        return [0.0, 0.0, 0.0, 0.0]
    inner = ratio[margin:n - margin]
    i = int(inner.argmax()) + margin
    lines = np.take(grey, [i - 2, i - 1, i, i + 1, i + 2, i + 3], axis=axis).astype(np.int16)
    if axis == 1:
        lines = lines.T
    m = lines.shape[1] - lines.shape[1] % _SEGMENTS
    seg = lambda a, b: np.abs(a[:m] - b[:m]).reshape(_SEGMENTS, -1).mean(axis=1)  # noqa: E731
    jump = seg(lines[3], lines[2])
    neigh = np.maximum(seg(lines[1], lines[0]), seg(lines[5], lines[4]))
    consistency = float(np.mean(jump > 1.5 * neigh + 1.0))
    return [float(np.log(inner.max())), float(d1[i] - base[i]), i / n, consistency]


@lru_cache(maxsize=64)
def _divisors(n: int, lo: int, hi: int) -> np.ndarray:
    return np.array([b for b in range(max(lo, 1), hi + 1) if n % b == 0], dtype=np.int64)


def _lattice(d1: np.ndarray, n: int) -> list[float]:
    """Discontinuity strength on block-boundary lattices whose spacing divides the frame size `n`."""
    res, sigma = _robust_residual(d1, 9)
    res = maximum_filter1d(np.maximum(res, 0.0), 3)  # +-1 px tolerance for resampled frames
    sizes = _divisors(n, max(8, n // 64), n // 4)
    if sizes.size == 0:
        return [0.0, 0.0, 0.0]
    base = float(res.mean()) + 0.1
    best, hits, best_b = 0.0, 0.0, 0
    for b in sizes:
        at = res[np.arange(b, n, b) - 1]
        score = float(at.mean()) / base
        if score > best:
            best, hits, best_b = score, float(np.mean(at > 3.0 * sigma)), int(b)
    return [float(np.log1p(best)), hits, best_b / n]


def _blocky(step: np.ndarray, axis: int) -> list[float]:
    """Rate of isolated sharp jumps (flat on both sides) per line, smoothed over neighbouring lines.

    `step` holds uint8 absolute differences taken along `axis` (1: along rows, one rate per row; 0: along
    columns, one rate per column). Line pixelation makes lines of flat blocks separated by sharp jumps;
    anti-aliased edges and textures have ramps or noise beside their jumps.
    """
    if step.shape[axis] < 3:
        return [0.0, 0.0, 0.0]
    flat = step <= FLAT
    if axis == 1:
        iso = (step[:, 1:-1] > JUMP) & flat[:, :-2] & flat[:, 2:]
    else:
        iso = (step[1:-1] > JUMP) & flat[:-2] & flat[2:]
    # cv2.reduce counts far faster than numpy's boolean mean along an axis.
    rate = cv2.reduce(iso.view(np.uint8), axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() / iso.shape[axis]
    rate = uniform_filter1d(rate, size=3, mode="nearest")
    return [float(rate.max()), float(np.mean(rate > 0.05)), float(rate.mean())]


def compute(image: np.ndarray, work: Prepared) -> np.ndarray:
    """Compute the ``structure`` block on the full-resolution grey image.

    Parameters
    ----------
    image : numpy.ndarray
        Full-resolution RGB uint8 frame (validated).
    work : Prepared
        Shared working images of the same frame.

    Returns
    -------
    numpy.ndarray
        float32 vector of length :data:`LENGTH`.
    """
    g = work.grey_full
    h, w = g.shape
    sr = max(1, h // _TARGET_SAMPLES[0])
    sc = max(1, w // _TARGET_SAMPLES[1])
    # Horizontal differences on every sr-th row -> per-column profiles (cv2 takes the row-strided view as is).
    a = g[::sr]
    dh1 = cv2.absdiff(a[:, 1:], a[:, :-1])
    dh2 = np.abs(cv2.filter2D(a, cv2.CV_16S, _D2_ROW)[:, 1:-1])
    # Vertical differences on every sc-th column -> per-row profiles.
    b = np.ascontiguousarray(g[:, ::sc])
    dv1 = cv2.absdiff(b[1:], b[:-1])
    dv2 = np.abs(cv2.filter2D(b, cv2.CV_16S, _D2_COL)[1:-1])
    col_d1 = cv2.reduce(dh1, 0, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel().astype(np.float64)
    row_d1 = cv2.reduce(dv1, 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel().astype(np.float64)
    col_d2 = cv2.reduce(dh2, 0, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel().astype(np.float64)
    row_d2 = cv2.reduce(dv2, 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel().astype(np.float64)
    n_flat = cv2.countNonZero(cv2.threshold(dh1, FLAT, 255, cv2.THRESH_BINARY_INV)[1])
    out = np.concatenate([
        _profile_stats(col_d2),
        _profile_stats(row_d2),
        _seam(row_d1, g, axis=0),
        _seam(col_d1, g, axis=1),
        _lattice(col_d1, w),
        _lattice(row_d1, h),
        _blocky(dh1, axis=1),
        _blocky(dv1, axis=0),
        [float(np.log1p(col_d1.mean())), float(np.log1p(row_d1.mean())), n_flat / dh1.size],
    ])
    return out.astype(np.float32)
