"""Screen tearing across a clip: consecutive frames torn by a seam that moves through the picture.

The single-frame generator :func:`artifactscope.synth.generators.screen_tearing` splices two moments into one
frame at a random seam. In a capture, tearing comes in runs (a missed vertical sync repeats while the seam
rolls), which is what the temporal checks of :mod:`artifactscope.temporal` look for: :func:`rolling_tear`
makes such a run for sample clips and benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def rolling_tear(frames: Sequence[np.ndarray], torn: Sequence[int], *, vertical: bool = False,
                 first: float = 0.25, step: float = 0.15) -> tuple[list[np.ndarray], dict[int, tuple[slice, ...]]]:
    """Copy of `frames` in which frames `torn` still show the frame before above (left of) a moving seam.

    Parameters
    ----------
    frames : sequence of numpy.ndarray
        Consecutive uint8 RGB frames of one size; not modified.
    torn : sequence of int
        Indices of the torn frames (each at least 1), in order: the k-th has its seam at ``first + k * step``
        of the height (of the width when `vertical`).
    vertical : bool
        Left columns stale instead of top rows.

    Returns
    -------
    clip : list of numpy.ndarray
    stale : dict of int to tuple of slice
        Per torn frame, the index of its stale part (``clip[t][stale[t]]`` equals ``frames[t - 1][stale[t]]``).
    """
    clip = [np.array(f, copy=True) for f in frames]
    h, w = clip[0].shape[:2]
    stale: dict[int, tuple[slice, ...]] = {}
    for k, t in enumerate(torn):
        if not 1 <= t < len(clip):
            raise ValueError(f"torn frame {t} has no frame before it in a clip of {len(clip)}")
        share = first + step * k
        part = (slice(None), slice(0, int(w * share))) if vertical else (slice(0, int(h * share)),)
        clip[t][part] = frames[t - 1][part]
        stale[t] = part
    return clip, stale
