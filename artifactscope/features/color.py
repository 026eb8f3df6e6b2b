"""Block ``color``: colour statistics of the working RGB image.

Targets the colour-driven artifacts: discoloration (bright areas turned into one pure primary or one exact
saturated colour), triangulation (many small perfectly flat regions), shader garbage (few blended colours) and
stray shapes (thin, very dark strokes). Implemented with OpenCV masks and histograms: numpy reductions over the
3-long colour axis cost tens of times more.
"""

from __future__ import annotations

import cv2
import numpy as np

from ._prepare import Prepared

N_SAT = 16
N_HUE = 12
PURE_HI = 245  # a "pure" primary: one channel >= PURE_HI ...
PURE_LO = 10  # ... and the other two <= PURE_LO
BRIGHT = 100  # value (max channel) above this: the pixels the discoloration generator may recolour
DARK = 50  # all channels below this: the stray-shape generator's colours
FLAT_MAG = 2.0  # Sobel magnitude at or below this counts as flat (survives mild JPEG noise)
_OPEN5 = np.ones((5, 5), np.uint8)
_OPEN9 = np.ones((9, 9), np.uint8)
_CLOSE7 = np.ones((7, 7), np.uint8)
_PURE_RANGES = (
    ((PURE_HI, 0, 0), (255, PURE_LO, PURE_LO)),
    ((0, PURE_HI, 0), (PURE_LO, 255, PURE_LO)),
    ((0, 0, PURE_HI), (PURE_LO, PURE_LO, 255)),
)

NAMES: tuple[str, ...] = (
    *(f"color.sat_{i}" for i in range(N_SAT)),
    *(f"color.hue_{i}" for i in range(N_HUE)),
    "color.pure_red", "color.pure_green", "color.pure_blue", "color.pure_any",
    "color.bright_frac", "color.dominant_bright_frac", "color.dominant_bright_sat", "color.dominant_pure_frac",
    "color.distinct_4bit", "color.distinct_5bit_log",
    "color.flat_frac", "color.flat_small_frac", "color.flat_small_ratio",
    "color.dark_frac", "color.dark_thin_frac", "color.dark_thin_ratio", "color.blackhat_frac",
)
LENGTH = len(NAMES)


def _dominant(work: Prepared, bright: np.ndarray, n_bright: int) -> tuple[float, float]:
    """Share of the bright area taken by its most frequent 5-bit colour, and that colour's saturation."""
    if n_bright == 0:
        return 0.0, 0.0
    counts = np.bincount(work.color_index5[bright > 0], minlength=1 << 15)
    top = int(counts.argmax())
    rgb = np.array([(top >> 10) & 31, (top >> 5) & 31, top & 31], dtype=np.float64) * 8.0 + 4.0
    sat = (rgb.max() - rgb.min()) / rgb.max()
    return float(counts[top]) / n_bright, float(sat)


def compute(image: np.ndarray, work: Prepared) -> np.ndarray:
    """Compute the ``color`` block.

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
    rgb = work.work_rgb
    npx = rgb.shape[0] * rgb.shape[1]
    hsv = work.hsv
    sat_hist = cv2.calcHist([hsv], [1], None, [N_SAT], [0, 256]).ravel() / npx
    vivid = cv2.inRange(hsv, (0, 129, 65), (180, 255, 255))
    hue_hist = cv2.calcHist([hsv], [0], vivid, [N_HUE], [0, 180]).ravel() / npx

    pure_n = [cv2.countNonZero(cv2.inRange(rgb, lo, hi)) for lo, hi in _PURE_RANGES]
    n_pure = sum(pure_n)  # the three ranges are disjoint

    # Discoloration recolours bright pixels to one colour: how much of the bright area is a single colour?
    bright = cv2.inRange(hsv, (0, 0, BRIGHT + 1), (180, 255, 255))
    n_bright = cv2.countNonZero(bright)
    dom_frac, dom_sat = _dominant(work, bright, n_bright)
    counts5 = work.color_counts5
    # 4-bit counts by merging 2x2x2 neighbouring 5-bit bins.
    counts4 = counts5.reshape(16, 2, 16, 2, 16, 2).sum(axis=(1, 3, 5))
    distinct4 = np.count_nonzero(counts4) / min(npx, 1 << 12)
    distinct5 = float(np.log1p(np.count_nonzero(counts5)))

    # Triangulation fills small triangles with one colour: flat pixels in regions a 9x9 opening removes.
    flat = (work.gradients.mag <= FLAT_MAG).view(np.uint8)
    n_flat = cv2.countNonZero(flat)
    n_flat_small = n_flat - cv2.countNonZero(cv2.morphologyEx(flat, cv2.MORPH_OPEN, _OPEN9)) if n_flat else 0

    dark = cv2.inRange(rgb, (0, 0, 0), (DARK - 1, DARK - 1, DARK - 1))
    n_dark = cv2.countNonZero(dark)
    # Thin dark strokes vanish under a 5x5 opening; solid dark areas survive it.
    n_thin = n_dark - cv2.countNonZero(cv2.morphologyEx(dark, cv2.MORPH_OPEN, _OPEN5)) if n_dark else 0
    blackhat = cv2.morphologyEx(work.work_grey, cv2.MORPH_BLACKHAT, _CLOSE7)
    n_blackhat = cv2.countNonZero(cv2.threshold(blackhat, 40, 255, cv2.THRESH_BINARY)[1])

    out = np.concatenate([
        sat_hist, hue_hist, [n / npx for n in pure_n], [n_pure / npx],
        [n_bright / npx, dom_frac, dom_sat, n_pure / max(n_bright, 1), distinct4, distinct5],
        [n_flat / npx, n_flat_small / npx, n_flat_small / max(n_flat, 1)],
        [n_dark / npx, n_thin / npx, n_thin / max(n_dark, 1), n_blackhat / npx],
    ])
    return out.astype(np.float32)
