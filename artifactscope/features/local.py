"""Block ``local``: small corruptions that frame-wide statistics average away.

Dotted lines, the thin spikes of ``shape`` and stray line bundles cover a fraction of a percent of the frame;
pooled over the whole frame they vanish in the content. This block finds candidate pixels at full resolution
and reports how strongly they concentrate in one tile of a 16x9 grid, relative to the frame's own other tiles
(a frame is its own reference, which carries over between games), and how uniform their colour is there
(a corruption paints one colour; rendered detail varies).

Candidates are dots: pixels far brighter or darker than every pixel of the ring 2 px around them (isolated
1-2 px points), plus how many dots have another dot 3-6 px away (dots of a dotted line come in rows).
Thin strokes (top-hat / black-hat maps) were tried here and dropped: they did not separate ``shape`` or
``shader`` from clean frames of unseen sources and cost as much again.
"""

from __future__ import annotations

import cv2
import numpy as np

from ._prepare import Prepared

TILES = (16, 9)  # tile grid (columns, rows) for concentration statistics
DOT_CONTRAST = 28  # grey levels a dot stands out from its whole ring
COLOUR_TOL = 20  # max channel distance counted as "the same colour"
_EPS = 1e-4

_ROW5 = np.ones((1, 5), np.uint8)
_COL5 = np.ones((5, 1), np.uint8)
_ENDS_H = np.array([[1, 0, 0, 0, 1]], np.uint8)  # the pixels 2 to the left and right
_ENDS_V = np.ascontiguousarray(_ENDS_H.T)

_MAP_STATS = ("max", "top3", "contrast", "hot_tiles", "mean", "colour_same")
NAMES: tuple[str, ...] = (
    *(f"local.dot_{s}" for s in _MAP_STATS),
    "local.dot_paired", "local.dot_paired_max",
)
LENGTH = len(NAMES)


def _tile_density(mask: np.ndarray) -> np.ndarray:
    """Share of set pixels per tile of the :data:`TILES` grid (rows, columns)."""
    h, w = mask.shape
    # Integral image: exact counts per tile whatever the frame size (INTER_AREA on uint8 would round).
    ii = cv2.integral(mask.view(np.uint8))
    ys = np.arange(TILES[1] + 1) * h // TILES[1]
    xs = np.arange(TILES[0] + 1) * w // TILES[0]
    c = ii[ys][:, xs].astype(np.float64)
    counts = c[1:, 1:] - c[:-1, 1:] - c[1:, :-1] + c[:-1, :-1]
    area = np.diff(ys)[:, None] * np.diff(xs)[None, :]
    return counts / np.maximum(area, 1)


def _tile_bounds(shape: tuple[int, int], row: int, col: int) -> tuple[slice, slice]:
    h, w = shape
    return (slice(row * h // TILES[1], (row + 1) * h // TILES[1]),
            slice(col * w // TILES[0], (col + 1) * w // TILES[0]))


def _colour_same(image: np.ndarray, mask: np.ndarray, where: tuple[slice, slice]) -> float:
    """Share of the masked pixels inside `where` whose colour is within :data:`COLOUR_TOL` of their median."""
    pix = image[where][mask[where]]
    if len(pix) < 8:
        return 0.0
    med = np.median(pix, axis=0)
    return float(np.mean(np.abs(pix.astype(np.int16) - med.astype(np.int16)).max(axis=1) <= COLOUR_TOL))


def _map_stats(image: np.ndarray, mask: np.ndarray) -> tuple[list[float], tuple[slice, slice]]:
    """Concentration statistics of a candidate-pixel mask, and the bounds of its densest tile."""
    dens = _tile_density(mask)  # values in [0, 1] (mask is 0/1)
    flat = np.sort(dens.ravel())[::-1]
    med = float(np.median(flat))
    row, col = np.unravel_index(int(dens.argmax()), dens.shape)
    where = _tile_bounds(mask.shape, row, col)
    stats = [
        float(np.log1p(1000.0 * flat[0])),
        float(np.log1p(1000.0 * flat[:3].mean())),
        float(np.log((flat[0] + _EPS) / (med + _EPS))),
        float(np.mean(dens > 4.0 * med + 0.002)),
        float(np.log1p(1000.0 * flat.mean())),
        _colour_same(image, mask, where),
    ]
    return stats, where


def _ring_extremes(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Max and min over the 16-pixel ring at Chebyshev distance 2 around every pixel (edges replicated).

    The ring is two 5-px rows (y +- 2) and two 5-px columns (x +- 2): separable 5-px dilations / erosions
    followed by a two-point kernel are far cheaper than one ring-shaped kernel.
    """
    rep = cv2.BORDER_REPLICATE
    hmax, hmin = cv2.dilate(g, _ROW5, borderType=rep), cv2.erode(g, _ROW5, borderType=rep)
    vmax, vmin = cv2.dilate(g, _COL5, borderType=rep), cv2.erode(g, _COL5, borderType=rep)
    rmax = cv2.max(cv2.dilate(hmax, _ENDS_V, borderType=rep), cv2.dilate(vmax, _ENDS_H, borderType=rep))
    rmin = cv2.min(cv2.erode(hmin, _ENDS_V, borderType=rep), cv2.erode(vmin, _ENDS_H, borderType=rep))
    return rmax, rmin


def dot_map(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Isolated dots of a grey uint8 image, and those of them with another dot 3-6 px away.

    Returns two uint8 0/1 maps of the image's shape: ``dots`` (pixels at least :data:`DOT_CONTRAST` brighter
    or darker than every pixel of the ring 2 px around them) and ``paired`` (dots with a neighbour dot at
    Chebyshev distance 3-6: dots of a dotted line come in rows, scattered texture noise mostly does not).
    """
    rmax, rmin = _ring_extremes(grey)
    dots = cv2.threshold(cv2.max(cv2.subtract(grey, rmax), cv2.subtract(rmin, grey)), DOT_CONTRAST - 1, 1,
                         cv2.THRESH_BINARY)[1]
    # Dots in a 13x13 box minus those in a 5x5 box: the neighbours at Chebyshev distance 3-6.
    far = cv2.boxFilter(dots, -1, (13, 13), normalize=False)
    near = cv2.boxFilter(dots, -1, (5, 5), normalize=False)
    paired = cv2.bitwise_and(dots, cv2.compare(far, near, cv2.CMP_GT))
    return dots, paired


def compute(image: np.ndarray, work: Prepared) -> np.ndarray:
    """Compute the ``local`` block on the full-resolution frame.

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
    dots_u8, paired = dot_map(work.grey_full)
    dot_stats, where = _map_stats(image, dots_u8.view(bool))
    n_dots = cv2.countNonZero(dots_u8)
    in_tile = cv2.countNonZero(dots_u8[where])
    paired_stats = [
        cv2.countNonZero(paired) / n_dots if n_dots else 0.0,
        cv2.countNonZero(paired[where]) / in_tile if in_tile else 0.0,
    ]
    return np.asarray([*dot_stats, *paired_stats], dtype=np.float32)
