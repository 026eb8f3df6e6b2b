"""Block ``dft``: spectral features.

* the log-magnitude 2-D spectrum of the square grey image pooled into polar bins (radius x angle; the half-plane
  ``rfft2`` already folds the conjugate symmetry), each relative to the spectrum's mean level so the bins
  describe the spectrum's shape, not the frame's contrast;
* peak-to-ring-mean log ratios: periodic lines and grids give strong isolated peaks above the smooth 1/f
  falloff of natural images;
* 1-D spectra of the full-resolution column-mean and row-mean profiles pooled into log-spaced bins in cycles per
  frame (resolution independent): 1-px columns every 1% of the width give peaks at 100, 200, ... cycles that
  the downscaled 2-D spectrum cannot resolve.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import median_filter

from ._prepare import SPECTRUM_SIZE, Prepared

N_RADIAL = 12
N_ANGULAR = 16
N_PROFILE_BINS = 16
_R_MIN = 4.0  # below this radius (cycles per frame) image content, not artifacts, dominates
_R_MAX = SPECTRUM_SIZE / 2.0
_EPS = 1e-4

# --- static polar geometry of the rfft2 half-plane -------------------------------------------------------------
_fy = np.fft.fftfreq(SPECTRUM_SIZE, d=1.0 / SPECTRUM_SIZE)[:, None]
_fx = np.arange(SPECTRUM_SIZE // 2 + 1, dtype=np.float64)[None, :]
_R = np.sqrt(_fx ** 2 + _fy ** 2)
_THETA = np.mod(np.arctan2(_fy, _fx), np.pi)  # [0, pi): orientation of the frequency vector
# Square-root spaced radial edges: equal-ish pixel counts per ring, so no polar bin is empty.
_R_EDGES = np.linspace(np.sqrt(_R_MIN), np.sqrt(_R_MAX), N_RADIAL + 1) ** 2
_IN = ((_R >= _R_MIN) & (_R < _R_MAX)).ravel()
_r_bin = np.clip(np.searchsorted(_R_EDGES, _R.ravel(), side="right") - 1, 0, N_RADIAL - 1)
_a_bin = np.minimum((_THETA.ravel() / np.pi * N_ANGULAR).astype(np.int64), N_ANGULAR - 1)
_POLAR_IDX = (_r_bin * N_ANGULAR + _a_bin)[_IN]
_POLAR_COUNT = np.bincount(_POLAR_IDX, minlength=N_RADIAL * N_ANGULAR).astype(np.float64)
assert _POLAR_COUNT.min() > 0, "polar binning leaves an empty bin; change N_RADIAL/N_ANGULAR/_R_MIN"
# 1-px rings for the peak detector's local baseline.
_RING = np.rint(_R.ravel()).astype(np.int64)
_RING_IN = _RING[_IN]
_RING_COUNT = np.maximum(np.bincount(_RING_IN, minlength=int(_R_MAX) + 2), 1).astype(np.float64)
_fx_in = np.broadcast_to(_fx, _R.shape).ravel()[_IN]
_fy_in = np.broadcast_to(_fy, _R.shape).ravel()[_IN]
_AXIS_X = np.abs(_fy_in) <= 1  # energy along fx: variation across x, i.e. vertical lines/columns
_AXIS_Y = _fx_in <= 1  # energy along fy: horizontal lines/rows
_OFF_AXIS = ~(_AXIS_X | _AXIS_Y)
_LOG_R_CENTRES = np.log(np.sqrt(_R_EDGES[:-1] * _R_EDGES[1:]))
_LOG_R_CENTRES_C = _LOG_R_CENTRES - _LOG_R_CENTRES.mean()
_PEAK_LOG = float(np.log(10.0))  # "peak": 10x above its ring's mean magnitude
# Log-spaced profile-spectrum bins, in cycles per frame (2 .. 1024).
_PROF_EDGES = np.geomspace(2.0, 1024.0, N_PROFILE_BINS + 1)

NAMES: tuple[str, ...] = (
    *(f"dft.polar_{r}_{a}" for r in range(N_RADIAL) for a in range(N_ANGULAR)),
    *(f"dft.radial_{r}" for r in range(N_RADIAL)),
    "dft.level", "dft.slope",
    "dft.peak_max", "dft.peak_top10", "dft.peak_frac", "dft.peak_axis_x", "dft.peak_axis_y", "dft.peak_off_axis",
    *(f"dft.colprof_{i}" for i in range(N_PROFILE_BINS)),
    "dft.colprof_peak", "dft.colprof_harmonic",
    *(f"dft.rowprof_{i}" for i in range(N_PROFILE_BINS)),
    "dft.rowprof_peak", "dft.rowprof_harmonic",
)
LENGTH = len(NAMES)


def _polar(logmag: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Polar-pooled log-magnitude relative to its mean, radial profile, mean level and 1/f slope."""
    sums = np.bincount(_POLAR_IDX, weights=logmag, minlength=N_RADIAL * N_ANGULAR)
    polar = sums / _POLAR_COUNT
    level = float(logmag.mean())
    radial = polar.reshape(N_RADIAL, N_ANGULAR).mean(axis=1)
    # Least-squares slope of log|F| against log r: ~-1 for natural images, flatter for noise/sharp patterns.
    slope = float(np.dot(_LOG_R_CENTRES_C, radial - radial.mean()) / np.dot(_LOG_R_CENTRES_C, _LOG_R_CENTRES_C))
    return polar - level, radial - level, level, slope


def _peaks(logmag: np.ndarray) -> list[float]:
    """Peak statistics: log ratio of each coefficient to its 1-px ring's mean log-magnitude."""
    ring_mean = np.bincount(_RING_IN, weights=logmag, minlength=_RING_COUNT.size) / _RING_COUNT
    resid = logmag - ring_mean[_RING_IN]
    top = np.partition(resid, resid.size - 10)[-10:]
    return [
        float(resid.max()),
        float(top.mean()),
        float(np.mean(resid > _PEAK_LOG)),
        float(resid[_AXIS_X].max()),
        float(resid[_AXIS_Y].max()),
        float(resid[_OFF_AXIS].max()),
    ]


def profile_spectrum(profile: np.ndarray) -> np.ndarray:
    """Pooled 1-D spectrum of a mean profile: per log-spaced bin, the largest log ratio of power to its running median.

    Parameters
    ----------
    profile : numpy.ndarray
        1-D float profile (e.g. the column means of a frame), one value per pixel line, so frequencies are in
        cycles per frame.

    Returns
    -------
    numpy.ndarray
        float64 vector of ``N_PROFILE_BINS + 2`` values: the pooled bins (0 where the bin lies above the
        profile's Nyquist frequency), the strongest bin, and a harmonic-comb score (mean log ratio of the first
        four harmonics of the best fundamental) that rewards evenly spaced columns.
    """
    # First difference whitens the profile: smooth content (gradients, 1/f scenery) would otherwise put all
    # the power in the lowest bins, while evenly spaced thin columns stay periodic.
    p = np.diff(profile.astype(np.float64))
    n = p.size
    p = (p - p.mean()) * np.hanning(n)
    power = np.abs(np.fft.rfft(p)) ** 2
    k = np.arange(power.size)
    usable = power[2:]
    out = np.zeros(N_PROFILE_BINS + 2)
    if usable.size < 4 or float(usable.max()) < 1e-6:
        return out  # flat profile: no periodic structure at all
    # Baseline: running median over 15 frequencies, so a peak is measured against its spectral neighbourhood
    # (a global median would reward any spectrum that merely falls with frequency).
    base = median_filter(power, size=15, mode="nearest") + 1e-3 * float(usable.mean())
    # Floor at e^-4: how far a bin dips below its neighbours carries no artifact evidence, and the floor keeps
    # the values bounded.
    logratio = np.log(np.maximum(power / base, np.exp(-4.0)))
    idx = np.searchsorted(_PROF_EDGES, k, side="right") - 1
    valid = (idx >= 0) & (idx < N_PROFILE_BINS)
    pooled = np.full(N_PROFILE_BINS, -np.inf)
    np.maximum.at(pooled, idx[valid], logratio[valid])
    pooled[~np.isfinite(pooled)] = 0.0
    out[:N_PROFILE_BINS] = pooled
    out[N_PROFILE_BINS] = pooled.max()
    # Harmonic comb: fundamentals f in [8, n/8] cycles, mean of log ratios at f, 2f, 3f, 4f.
    fmax = (power.size - 1) // 4
    if fmax >= 8:
        f = np.arange(8, fmax + 1)
        harm = logratio[f[:, None] * np.arange(1, 5)[None, :]].mean(axis=1)
        out[N_PROFILE_BINS + 1] = harm.max()
    return out


def compute(image: np.ndarray, work: Prepared) -> np.ndarray:
    """Compute the ``dft`` block.

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
    spec = work.spectrum
    mag = np.abs(spec).ravel()[_IN]
    logmag = np.log(mag + _EPS).astype(np.float64)
    polar, radial, level, slope = _polar(logmag)
    peaks = _peaks(logmag)
    grey = work.grey_full
    col = cv2.reduce(grey, 0, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
    row = cv2.reduce(grey, 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
    out = np.concatenate([
        polar, radial, [level, slope], peaks,
        profile_spectrum(col), profile_spectrum(row),
    ])
    return out.astype(np.float32)
