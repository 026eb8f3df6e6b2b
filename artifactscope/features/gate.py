"""Block ``gate``: content descriptors for the mixture-of-experts gate.

These say how much *legitimate* regular structure a frame has (UI panels and long straight edges, text, tile
grids, pixel art, flat colour), so the gate can learn how far to trust each expert on such content. They are
cheap proxies: the structure-tensor coherence of strong edges stands in for a Hough line count, small
high-contrast top-hat blobs for text, and the autocorrelation (from the spectrum the ``dft`` block already
computed) for tile-grid regularity.
"""

from __future__ import annotations

import cv2
import numpy as np

from ._prepare import SPECTRUM_SIZE, Prepared

EDGE = 40.0  # Sobel magnitude of an edge pixel
_TOPHAT = cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7))
_MIN_LAG = 4  # autocorrelation lags closer than this are the central peak's shoulder
_yy, _xx = np.meshgrid(np.fft.fftfreq(SPECTRUM_SIZE, 1.0 / SPECTRUM_SIZE),
                       np.fft.fftfreq(SPECTRUM_SIZE, 1.0 / SPECTRUM_SIZE), indexing="ij")
_FAR = (np.abs(_yy) >= _MIN_LAG) | (np.abs(_xx) >= _MIN_LAG)
_LAG_X = (np.abs(_yy) == 0) & (np.abs(_xx) >= _MIN_LAG)
_LAG_Y = (np.abs(_xx) == 0) & (np.abs(_yy) >= _MIN_LAG)
# 1-px rings of the rfft2 half-plane, for whitening the spectrum.
_fy = np.fft.fftfreq(SPECTRUM_SIZE, 1.0 / SPECTRUM_SIZE)[:, None]
_fx = np.arange(SPECTRUM_SIZE // 2 + 1)[None, :]
_RING = np.rint(np.hypot(_fx, _fy)).astype(np.int64).ravel()
_RING_COUNT = np.bincount(_RING).astype(np.float64)

NAMES: tuple[str, ...] = (
    "gate.edge_density", "gate.line_like", "gate.axis_line_frac", "gate.h_line_peak", "gate.v_line_peak",
    "gate.text_blobs", "gate.text_frac",
    "gate.acf_max", "gate.acf_axis_x", "gate.acf_axis_y",
    "gate.colors_log", "gate.brightness", "gate.contrast", "gate.colorfulness", "gate.flat_frac",
    "gate.log_width", "gate.log_height", "gate.aspect",
)
LENGTH = len(NAMES)


def _lines(work: Prepared) -> list[float]:
    """Straight-line proxies from the structure tensor and axis-aligned edge projections."""
    gr = work.gradients
    gx, gy = gr.gx, gr.gy
    edges = gr.mag > EDGE
    n_edges = int(np.count_nonzero(edges))
    density = n_edges / edges.size
    if n_edges == 0:
        return [0.0, 0.0, 0.0, 0.0, 0.0]
    # Structure tensor averaged over 7x7: coherence ~1 along straight edges, lower at corners and texture.
    jxx = cv2.boxFilter(gx * gx, -1, (7, 7))
    jyy = cv2.boxFilter(gy * gy, -1, (7, 7))
    jxy = cv2.boxFilter(gx * gy, -1, (7, 7))
    coh_num = cv2.magnitude(jxx - jyy, 2.0 * jxy)
    line_like = np.count_nonzero(edges & (coh_num > 0.9 * (jxx + jyy + 1e-3))) / n_edges
    agx, agy = np.abs(gx), np.abs(gy)
    axis_frac = np.count_nonzero(edges & ((agx < 0.2 * agy) | (agy < 0.2 * agx))) / n_edges
    # Long horizontal (vertical) edges: rows (columns) whose mean |gy| (|gx|) towers over the median row.
    row = cv2.reduce(agy, 1, cv2.REDUCE_AVG).ravel()
    col = cv2.reduce(agx, 0, cv2.REDUCE_AVG).ravel()
    h_peak = float(np.log((row.max() + 1.0) / (np.median(row) + 1.0)))
    v_peak = float(np.log((col.max() + 1.0) / (np.median(col) + 1.0)))
    return [density, line_like, axis_frac, h_peak, v_peak]


def _small_blobs(mask: np.ndarray) -> int:
    if not mask.any():
        return 0
    _, _, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)
    s = stats[1:]
    small = ((s[:, cv2.CC_STAT_AREA] >= 3) & (s[:, cv2.CC_STAT_AREA] <= 80)
             & (s[:, cv2.CC_STAT_HEIGHT] <= 14) & (s[:, cv2.CC_STAT_WIDTH] <= 14))
    return int(small.sum())


def _text(work: Prepared) -> list[float]:
    """Small high-contrast blobs (glyph-sized), the signature of HUD text.

    Bright-on-dark (top-hat) and dark-on-bright (black-hat) glyphs are counted separately: in one combined mask
    the gaps between glyphs would join a whole line of text into one large blob.
    """
    g = work.work_grey
    bright = (cv2.morphologyEx(g, cv2.MORPH_TOPHAT, _TOPHAT) > 60).view(np.uint8)
    dark = (cv2.morphologyEx(g, cv2.MORPH_BLACKHAT, _TOPHAT) > 60).view(np.uint8)
    n_small = max(_small_blobs(bright), _small_blobs(dark))
    frac = max(cv2.countNonZero(bright), cv2.countNonZero(dark)) / g.size
    return [n_small / g.size * 1e3, frac]


def _autocorrelation(work: Prepared) -> list[float]:
    """Tile-grid regularity: strongest autocorrelation away from the zero lag of the whitened image.

    The power spectrum is divided by its radial mean first: without that, the smooth content of every natural
    frame correlates strongly at small lags and hides the tile period.
    """
    power = (np.abs(work.spectrum) ** 2).astype(np.float64)
    ring_mean = np.bincount(_RING, weights=power.ravel(), minlength=_RING_COUNT.size) / _RING_COUNT
    white = power / (ring_mean[_RING].reshape(power.shape) + 1e-12)
    white[0, 0] = 0.0
    acf = np.fft.irfft2(white, s=(SPECTRUM_SIZE, SPECTRUM_SIZE))
    zero = float(acf[0, 0])
    if zero <= 1e-9 or float(ring_mean.max()) <= 1e-12:
        return [0.0, 0.0, 0.0]
    acf = acf / zero
    return [float(acf[_FAR].max()), float(acf[_LAG_X].max()), float(acf[_LAG_Y].max())]


def compute(image: np.ndarray, work: Prepared) -> np.ndarray:
    """Compute the ``gate`` block.

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
    n_colors = np.count_nonzero(work.color_counts5)
    mean_grey, std_grey = (float(x[0][0]) for x in cv2.meanStdDev(work.work_grey))
    # Hasler & Suesstrunk colourfulness; on a 2x-reduced image (a global statistic, needs no detail).
    small = cv2.resize(work.work_rgb, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    r, g, b = (c.astype(np.float32) for c in cv2.split(small))
    rg, yb = r - g, 0.5 * (r + g) - b
    (m_rg,), (s_rg,) = cv2.meanStdDev(rg)
    (m_yb,), (s_yb,) = cv2.meanStdDev(yb)
    colorfulness = float(np.hypot(s_rg[0], s_yb[0]) + 0.3 * np.hypot(m_rg[0], m_yb[0])) / 255.0
    flat = cv2.countNonZero((work.gradients.mag <= 2.0).view(np.uint8)) / work.gradients.mag.size
    out = np.concatenate([
        _lines(work), _text(work), _autocorrelation(work),
        [float(np.log(n_colors)), mean_grey / 255.0, std_grey / 255.0, colorfulness, flat,
         float(np.log(work.width)), float(np.log(work.height)), float(np.log(work.width / work.height))],
    ])
    return out.astype(np.float32)
