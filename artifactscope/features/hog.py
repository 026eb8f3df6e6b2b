"""Block ``hog``: gradient-orientation features of the working grey image.

Magnitude-weighted, unsigned orientation histograms over a coarse grid (a light HOG without block
normalisation, built from ``cv2.Sobel`` and one ``np.bincount``; ``skimage.feature.hog`` costs ~10x more), plus
global statistics: a bundle of parallel lines concentrates the orientation histogram in one off-axis bin and
raises the doubled-angle coherence; the entropy and the strong-gradient fraction describe how busy the frame is.
"""

from __future__ import annotations

import numpy as np

from ._prepare import WORKING_SIZE, Prepared

N_BINS = 12
GRID = (4, 4)  # (rows, columns) of cells
STRONG = 40.0  # Sobel magnitude (grey levels x ~8) counted as a strong edge
_BIN_DEG = 180.0 / N_BINS
_AXIS_BINS = (0, N_BINS // 2)  # bins centred on 0 (vertical edges) and 90 degrees (horizontal edges)

# Static cell index of every working-resolution pixel.
_W, _H = WORKING_SIZE
_cy = np.minimum(np.arange(_H) * GRID[0] // _H, GRID[0] - 1)
_cx = np.minimum(np.arange(_W) * GRID[1] // _W, GRID[1] - 1)
_CELL = (_cy[:, None] * GRID[1] + _cx[None, :]).ravel().astype(np.int64) * N_BINS
_N_CELLS = GRID[0] * GRID[1]
assert _W % GRID[1] == 0 and _H % GRID[0] == 0, "the hog grid must divide the working size"

NAMES: tuple[str, ...] = (
    *(f"hog.cell_{r}_{c}_{b}" for r in range(GRID[0]) for c in range(GRID[1]) for b in range(N_BINS)),
    *(f"hog.cell_energy_{r}_{c}" for r in range(GRID[0]) for c in range(GRID[1])),
    *(f"hog.global_{b}" for b in range(N_BINS)),
    "hog.concentration", "hog.concentration_off_axis", "hog.coherence", "hog.coherence_strong",
    "hog.entropy", "hog.strong_frac", "hog.mean_mag_log", "hog.cell_concentration_max",
    "hog.cell_coherence_max",
)
LENGTH = len(NAMES)


def orientation_bins(ang_deg: np.ndarray) -> np.ndarray:
    """Map unsigned orientations in degrees [0, 180) to bin indices, bins centred on multiples of 180/N_BINS."""
    b = (ang_deg * np.float32(N_BINS / 180.0) + np.float32(0.5)).astype(np.intp)
    b[b >= N_BINS] -= N_BINS
    return b


def _cell_sums(a: np.ndarray) -> np.ndarray:
    """Sum of a working-resolution map over each grid cell (the grid divides the working size exactly)."""
    return a.reshape(GRID[0], _H // GRID[0], GRID[1], _W // GRID[1]).sum(axis=(1, 3), dtype=np.float64).ravel()


def compute(image: np.ndarray, work: Prepared) -> np.ndarray:
    """Compute the ``hog`` block.

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
    gr = work.gradients
    mag = gr.mag
    b = orientation_bins(gr.ang).ravel()
    hist = np.bincount(_CELL + b, weights=mag.ravel(), minlength=_N_CELLS * N_BINS).reshape(_N_CELLS, N_BINS)
    cell_sum = hist.sum(axis=1)
    cell_hist = hist / (cell_sum[:, None] + 1e-6)  # per-cell L1: shape of the orientation distribution
    total = float(cell_sum.sum())
    npx = mag.size
    cell_energy = np.log1p(cell_sum / (npx / _N_CELLS))  # log mean magnitude per cell
    glob = hist.sum(axis=0) / (total + 1e-6)
    concentration = float(glob.max())
    off = np.delete(glob, _AXIS_BINS)

    # Doubled-angle unit vectors (cos 2t, sin 2t) = ((gx^2 - gy^2), 2 gx gy) / mag^2: no trigonometry.
    gx, gy = gr.gx, gr.gy
    inv2 = 1.0 / (mag * mag + np.float32(1e-6))
    u = (gx * gx - gy * gy) * inv2
    v = (2.0 * gx * gy) * inv2
    mu, mv = u * mag, v * mag
    # Resultant length: 1 when every gradient has one orientation (parallel lines), ~0 for isotropic texture.
    cu, cv = _cell_sums(mu), _cell_sums(mv)
    coherence = float(np.hypot(cu.sum(), cv.sum()) / (total + 1e-6))
    strong = (mag > STRONG).astype(np.float32)
    n_strong = float(strong.sum(dtype=np.float64))
    if n_strong:
        coh_strong = float(np.hypot(np.dot(strong.ravel(), u.ravel()), np.dot(strong.ravel(), v.ravel())) / n_strong)
    else:
        coh_strong = 0.0
    p = glob[glob > 0]
    entropy = float(-(p * np.log(p)).sum() / np.log(N_BINS)) if p.size else 0.0

    # Per-cell coherence: a local bundle of parallel lines; near-empty cells (flat sky) are ignored.
    cell_coh = np.hypot(cu, cv) / (cell_sum + 1e-6)
    busy = cell_sum > 0.05 * total / _N_CELLS
    cell_coh_max = float(cell_coh[busy].max()) if busy.any() else 0.0
    cell_conc_max = float(cell_hist[busy].max()) if busy.any() else 0.0

    out = np.concatenate([
        cell_hist.ravel(), cell_energy, glob,
        [concentration, float(off.max()), coherence, coh_strong, entropy,
         n_strong / npx, float(np.log1p(total / npx)), cell_conc_max, cell_coh_max],
    ])
    return out.astype(np.float32)
