"""Hand-made image features: one fixed-length float32 vector per frame, assembled from named blocks.

Blocks (in vector order, see :data:`BLOCKS`):

``dft``        2-D spectrum pooled into polar bins, spectral peaks, full-resolution row/column profile spectra.
``hog``        gradient-orientation histograms on a 4x4 grid and global orientation statistics.
``laplacian``  the graph-Laplacian colour-anomaly measure (see :func:`laplacian_anomaly_map`).
``color``      saturation/hue histograms, pure primaries, dominant colours, flat regions, thin dark strokes.
``structure``  full-resolution thin lines, seams, block lattices and blockiness.
``local``      full-resolution isolated dots and how they concentrate in one tile, in one colour.
``swaps``      whether swapping neighbouring blocks back would make the seams continuous (screen stuttering).
``gate``       content descriptors (lines, text, tile grids, colour count, brightness, size) for the gate.
``tiles``      per-tile descriptors of a 16x9 grid, read by the learned tile stage (:mod:`artifactscope.tiles`),
               not by the experts.

Every frame is validated and resized once (:class:`Prepared`); each block module exposes ``NAMES``, ``LENGTH``
and ``compute(image, work)``. Experts select blocks by name through :func:`block_slices`; a model's experts see
the *model input* instead (:func:`model_input_slices`): the frame blocks with ``tiles`` replaced by the tile
stage's few ``tile_scores``. Bump
:data:`FEATURE_VERSION` whenever any block's output changes: model bundles store it and refuse a mismatch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType

import numpy as np

from artifactscope._alloc import keep_large_allocations

from . import color, dft, gate, hog, laplacian, local, structure, swaps, tiles
from ._prepare import MIN_SIDE, SPECTRUM_SIZE, WORKING_SIZE, Prepared, prepare, validate_image
from .laplacian import laplacian_anomaly_map

__all__ = [
    "BLOCKS", "FEATURE_VERSION", "MIN_SIDE", "SPECTRUM_SIZE", "WORKING_SIZE", "Prepared",
    "FRAME_BLOCKS", "TILE_SCORES", "block_slices", "extract", "extract_blocks", "extract_many", "feature_names",
    "feature_spec",
    "laplacian_anomaly_map", "model_input_slices", "n_features", "prepare", "validate_image",
]

keep_large_allocations()  # full-resolution blocks allocate frame-sized buffers per frame: reuse, don't re-fault

FEATURE_VERSION: str = "1.3.0"

_MODULES: dict[str, ModuleType] = {
    "dft": dft, "hog": hog, "laplacian": laplacian, "color": color, "structure": structure, "local": local,
    "swaps": swaps, "gate": gate, "tiles": tiles,
}
BLOCKS: tuple[str, ...] = tuple(_MODULES)
#: Blocks that describe the whole frame (all but the raw ``tiles``, which only the tile stage reads).
FRAME_BLOCKS: tuple[str, ...] = tuple(b for b in BLOCKS if b != "tiles")
#: Name of the block of tile-stage summaries that replaces ``tiles`` in a model's input.
TILE_SCORES: str = "tile_scores"

# Values are clipped to this magnitude: a guard, never reached by sane frames, that keeps the vector finite.
_CLIP = 1e6


def _block_lengths() -> dict[str, int]:
    return {name: int(mod.LENGTH) for name, mod in _MODULES.items()}


def n_features() -> int:
    """Total length of the feature vector."""
    return sum(_block_lengths().values())


def block_slices() -> dict[str, slice]:
    """Where each block sits in the vector returned by :func:`extract`, in :data:`BLOCKS` order."""
    out: dict[str, slice] = {}
    start = 0
    for name, length in _block_lengths().items():
        out[name] = slice(start, start + length)
        start += length
    return out


def model_input_slices(n_tile_scores: int) -> dict[str, slice]:
    """Where each block sits in a model input: :data:`FRAME_BLOCKS` as in :func:`block_slices`, then
    :data:`TILE_SCORES` (`n_tile_scores` values) where the raw ``tiles`` block was."""
    slices = {name: s for name, s in block_slices().items() if name in FRAME_BLOCKS}
    start = max(s.stop for s in slices.values())
    if start != block_slices()["tiles"].start:
        raise RuntimeError("the tiles block must come last in BLOCKS")
    slices[TILE_SCORES] = slice(start, start + n_tile_scores)
    return slices


def feature_names() -> list[str]:
    """One name per feature value, ``"<block>.<feature>"`` (e.g. ``"dft.polar_3_7"``), in vector order."""
    return [n for mod in _MODULES.values() for n in mod.NAMES]


def feature_spec() -> dict:
    """JSON-serialisable description of the feature vector, stored in model manifests.

    Returns
    -------
    dict
        ``version``, ``working_size`` ([width, height]), ``spectrum_size``, ``n_features`` and ``blocks``: a
        list of ``{"name", "start", "length"}`` in vector order.
    """
    slices = block_slices()
    return {
        "version": FEATURE_VERSION,
        "working_size": list(WORKING_SIZE),
        "spectrum_size": SPECTRUM_SIZE,
        "n_features": n_features(),
        "blocks": [{"name": n, "start": s.start, "length": s.stop - s.start} for n, s in slices.items()],
    }


def _check_blocks(blocks: Iterable[str] | None) -> tuple[str, ...]:
    if blocks is None:
        return BLOCKS
    chosen = tuple(blocks)
    unknown = [b for b in chosen if b not in _MODULES]
    if unknown:
        raise ValueError(f"unknown feature block(s) {unknown}; expected some of: {', '.join(BLOCKS)}")
    return chosen


def extract_blocks(image: np.ndarray, blocks: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Compute feature blocks of one frame.

    Parameters
    ----------
    image : numpy.ndarray
        RGB uint8 frame of shape (H, W, 3), both sides at least :data:`MIN_SIDE`.
    blocks : iterable of str, optional
        Names of the blocks to compute (default: all, in :data:`BLOCKS` order).

    Returns
    -------
    dict of str to numpy.ndarray
        Block name -> 1-D float32 vector (finite), in the requested order.

    Raises
    ------
    ValueError
        When the image is not an RGB uint8 array of a usable size, or a block name is unknown.
    """
    chosen = _check_blocks(blocks)
    work = prepare(image)
    out: dict[str, np.ndarray] = {}
    for name in chosen:
        mod = _MODULES[name]
        vec = np.asarray(mod.compute(work.image, work), dtype=np.float32)
        if vec.shape != (mod.LENGTH,):
            raise RuntimeError(f"feature block {name!r} returned shape {vec.shape}, expected ({mod.LENGTH},)")
        out[name] = np.clip(np.nan_to_num(vec, nan=0.0, posinf=_CLIP, neginf=-_CLIP), -_CLIP, _CLIP)
    return out


def extract(image: np.ndarray) -> np.ndarray:
    """Feature vector of one frame: all blocks concatenated in :data:`BLOCKS` order.

    Parameters
    ----------
    image : numpy.ndarray
        RGB uint8 frame of shape (H, W, 3), both sides at least :data:`MIN_SIDE`.

    Returns
    -------
    numpy.ndarray
        1-D float32 vector of length :func:`n_features`, finite.
    """
    return np.concatenate(list(extract_blocks(image).values()))


def extract_many(images: Iterable[np.ndarray], n_jobs: int = 1,
                 progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Feature matrix of many frames.

    Parameters
    ----------
    images : iterable of numpy.ndarray
        RGB uint8 frames (any sizes).
    n_jobs : int
        1 computes in this process; any other value is passed to :class:`joblib.Parallel` (-1: all cores).
    progress : callable, optional
        Called with the number of frames done so far (sequential mode only).

    Returns
    -------
    numpy.ndarray
        float32 array of shape (n_frames, n_features()).
    """
    if not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero int (1: sequential, -1: all cores), got {n_jobs!r}")
    if n_jobs == 1:
        rows = []
        for i, img in enumerate(images, 1):
            rows.append(extract(img))
            if progress is not None:
                progress(i)
    else:
        from joblib import Parallel, delayed

        rows = Parallel(n_jobs=n_jobs)(delayed(extract)(img) for img in images)
    if not rows:
        return np.zeros((0, n_features()), dtype=np.float32)
    return np.stack(rows).astype(np.float32, copy=False)
