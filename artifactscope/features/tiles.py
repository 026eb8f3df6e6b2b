"""Block ``tiles``: per-tile descriptors of the working image, for the learned tile stage.

A shader polygon, a fan of thin dark spikes or a discoloured patch covers a few tiles of the frame; frame-wide
statistics average it away in the game's content. This block describes every tile of a 16x9 grid (32x32 px of
the 512x288 working image) by colour, texture, darkness, smooth gradients without texture and a histogram of
strong edge orientations. The values are not read by the experts directly: the tile stage
(:mod:`artifactscope.tiles`) learns, from the synthesis masks, which tiles are corrupted and hands the experts a
few summaries of its tile probabilities (``tile_scores``).

Per tile, :data:`TILE_NAMES` in this order; the block is the (rows, columns, values) array flattened row-major.
"""

from __future__ import annotations

import cv2
import numpy as np

from ._prepare import WORKING_SIZE, Prepared, resize_to

GRID: tuple[int, int] = (16, 9)  # (columns, rows)
_PLAIN = ("red", "green", "blue", "grey", "gradient", "laplacian", "saturation")
TILE_NAMES: tuple[str, ...] = (
    *(f"{n}_mean" for n in _PLAIN), *(f"{n}_std" for n in _PLAIN),
    "dark", "flat", "smooth", *(f"orient_{k}" for k in range(8)), "orient_peak", "strong",
)
N_TILES: int = GRID[0] * GRID[1]
N_TILE_VALUES: int = len(TILE_NAMES)
NAMES: tuple[str, ...] = tuple(f"tiles.{r}_{c}_{n}" for r in range(GRID[1]) for c in range(GRID[0])
                               for n in TILE_NAMES)
LENGTH = len(NAMES)

_DARK = 50  # every channel below this is "dark" (the shape artifact's colour)
_FLAT = 4.0  # gradient magnitude below this is flat
_STRONG = 20.0  # gradient magnitude above this is an edge whose orientation counts
_EPS = 1e-6


def _pool(m: np.ndarray) -> np.ndarray:
    """Mean of each tile: (rows, columns) or (rows, columns, k)."""
    return cv2.resize(m, GRID, interpolation=cv2.INTER_AREA)


def tile_matrix(work: Prepared) -> np.ndarray:
    """The (rows, columns, :data:`N_TILE_VALUES`) float32 descriptors of the working image's tiles."""
    rgb = work.work_rgb
    assert (rgb.shape[1], rgb.shape[0]) == WORKING_SIZE
    grey = work.work_grey_f
    grad = work.gradients
    mag = grad.mag
    lap = cv2.absdiff(cv2.Laplacian(grey, cv2.CV_32F, ksize=3), 0)
    r, g, b = cv2.split(rgb)
    hi = cv2.max(cv2.max(r, g), b)
    sat = cv2.subtract(hi, cv2.min(cv2.min(r, g), b)).astype(np.float32)
    plain = [rgb.astype(np.float32), grey, mag, lap, sat]
    mean = np.dstack([_pool(m) for m in plain])
    sq = np.dstack([_pool(cv2.multiply(m, m)) for m in plain])
    std = np.sqrt(np.maximum(sq - mean * mean, 0))
    flat = mag < _FLAT
    smooth = ~flat & (lap < 0.25 * mag)  # a gradient without texture: blended fills, fades
    strong = (mag > _STRONG).astype(np.float32)
    orient = np.minimum((grad.ang * (8 / 180.0)).astype(np.intp), 7)
    binned = np.zeros(mag.shape + (8,), np.float32)
    np.put_along_axis(binned, orient[..., None], strong[..., None], axis=2)
    edges = _pool(strong)
    hist = _pool(binned) / (edges[..., None] + _EPS)
    return np.dstack([
        mean, std, _pool((hi < _DARK).astype(np.float32)), _pool(flat.astype(np.float32)),
        _pool(smooth.astype(np.float32)), hist, hist.max(axis=-1), edges,
    ]).astype(np.float32)


def compute(image: np.ndarray, work: Prepared) -> np.ndarray:
    """Every tile's descriptors, flattened: :data:`LENGTH` float32 values (see :data:`NAMES`).

    Parameters
    ----------
    image : numpy.ndarray
        The RGB uint8 frame (unused: the block reads the working image of `work`).
    work : Prepared
        The frame's shared working images.

    Returns
    -------
    numpy.ndarray
        float32 vector of length :data:`LENGTH`.
    """
    return tile_matrix(work).reshape(-1)


def tile_coverage(mask: np.ndarray) -> np.ndarray:
    """Share of each tile covered by a synthesis mask, (:data:`N_TILES`,) float32 in row-major tile order.

    Parameters
    ----------
    mask : numpy.ndarray
        bool or 0/1 (H, W) mask at the frame's own resolution.
    """
    m = np.asarray(mask, dtype=np.float32)
    if m.ndim != 2:
        raise ValueError(f"mask must be a 2-D array, got shape {m.shape}")
    # Resize to the working image first (the tiles' own pixels), then average per tile.
    return _pool(resize_to(m, WORKING_SIZE)).reshape(-1).astype(np.float32)
