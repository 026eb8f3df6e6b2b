"""Shared pieces of the clean-frame sources: the exception, the protocol, resolutions, helpers.

Sizes are ``(width, height)`` tuples everywhere in this package; frames are ``numpy.uint8`` arrays of shape
``(height, width, 3)`` in **RGB** order.
"""

from __future__ import annotations

from typing import Iterator, Protocol, Sequence, runtime_checkable

import numpy as np

Size = tuple[int, int]

INSTALL_HINT = "pip install 'artifactscope[sources]'"


class SourceUnavailable(RuntimeError):
    """A clean-frame source cannot run here (its engine is not installed or cannot start headless)."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"source {name!r} is unavailable: {reason}")
        self.name = name
        self.reason = reason


@runtime_checkable
class Source(Protocol):
    """A renderer of clean, game-like frames."""

    name: str

    def available(self) -> str | None:
        """None if the source can run here, else the reason it cannot (cheap; does not render)."""

    def frames(self, n: int, seed: int, sizes: Sequence[Size] | None = None) -> Iterator[np.ndarray]:
        """Yield ``n`` varied clean frames (RGB uint8, H x W x 3); sizes are (width, height)."""

    def clip(self, n: int, seed: int, size: Size | None = None) -> list[np.ndarray]:
        """Return ``n`` consecutive frames of one moving scene, all of one size."""


# (width, height, weight). Mostly 16:9, some 4:3 and 16:10; 480p .. 1440p.
RESOLUTIONS: tuple[tuple[int, int, float], ...] = (
    (854, 480, 1.0), (960, 540, 1.5), (1024, 576, 1.0), (1280, 720, 2.5), (1366, 768, 1.0),
    (1600, 900, 1.0), (1920, 1080, 3.0), (2560, 1440, 1.0),
    (640, 480, 0.5), (800, 600, 0.5), (1024, 768, 0.6), (1440, 1080, 0.3), (1600, 1200, 0.2),
    (1280, 800, 0.5), (1440, 900, 0.5), (1680, 1050, 0.5), (1920, 1200, 0.4),
)


def pick_size(rng: np.random.Generator, sizes: Sequence[Size] | None = None) -> Size:
    """One (width, height): from ``sizes`` if given, else a weighted draw from RESOLUTIONS."""
    if sizes:
        w, h = sizes[int(rng.integers(len(sizes)))]
        return int(w), int(h)
    weights = np.array([r[2] for r in RESOLUTIONS])
    i = int(rng.choice(len(RESOLUTIONS), p=weights / weights.sum()))
    return RESOLUTIONS[i][0], RESOLUTIONS[i][1]


def check_size(size: Size) -> Size:
    w, h = int(size[0]), int(size[1])
    if w < 16 or h < 16 or w > 8192 or h > 8192:
        raise ValueError(f"frame size must be (width, height) between 16 and 8192, got {size!r}")
    return w, h


def fit_to(img: np.ndarray, size: Size, interpolation: int | None = None) -> np.ndarray:
    """Scale-and-crop ``img`` to exactly ``size`` (width, height), keeping its aspect ratio (cover)."""
    import cv2

    w, h = size
    ih, iw = img.shape[:2]
    if (iw, ih) == (w, h):
        return np.ascontiguousarray(img)
    s = max(w / iw, h / ih)
    nw, nh = max(w, int(round(iw * s))), max(h, int(round(ih * s)))
    if interpolation is None:
        interpolation = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    img = cv2.resize(img, (nw, nh), interpolation=interpolation)
    x0, y0 = (nw - w) // 2, (nh - h) // 2
    return np.ascontiguousarray(img[y0:y0 + h, x0:x0 + w])


def frame_variance_ok(img: np.ndarray, min_std: float = 12.0) -> bool:
    """True if the frame has enough content (not blank, not a flat wall)."""
    small = img[::8, ::8].astype(np.float32)
    return float(small.std()) >= min_std


def child_seed(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, *keys]))
