"""A contact sheet: one clean frame and every artifact class applied to it, for eyeballing the generators."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from artifactscope.artifacts import ARTIFACT_NAMES, CLEAN, color_of
from artifactscope.synth.dataset import corrupt
from artifactscope.synth.generators import check_frame

__all__ = ["contact_sheet", "hex_to_rgb"]

_COLUMNS = 4


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` -> (r, g, b)."""
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def contact_sheet(frame: np.ndarray, seed: int, others: np.ndarray | Sequence[np.ndarray] | None = None,
                  cell_width: int = 480) -> np.ndarray:
    """Render a grid of the clean frame and every artifact class applied to it.

    Parameters
    ----------
    frame : numpy.ndarray
        uint8 RGB (H, W, 3) clean frame.
    seed : int
        Seed; class ``k`` uses ``default_rng([seed, k])`` (no JPEG re-encoding, so the sheet shows the generator).
    others : numpy.ndarray or sequence of numpy.ndarray, optional
        Another moment of the same scene (the first one is used) for the temporal classes.
    cell_width : int
        Width of each cell in pixels (>= 64); cell height keeps the frame's aspect ratio.

    Returns
    -------
    numpy.ndarray
        uint8 RGB image of 4 x 3 cells (11 used): each labelled on a dark strip, with the corrupted-pixel mask
        outlined in the class colour from ``artifacts.color_of``.
    """
    check_frame(frame)
    if int(cell_width) < 64:
        raise ValueError(f"cell_width must be >= 64, got {cell_width}")
    other = others if others is None or isinstance(others, np.ndarray) else (others[0] if len(others) else None)
    h, w = frame.shape[:2]
    cw = int(cell_width)
    ch = max(16, int(round(cw * h / w)))
    strip = max(14, cw // 22)
    font_scale = strip / 30.0
    labels = (CLEAN, *ARTIFACT_NAMES)
    rows = -(-len(labels) // _COLUMNS)
    sheet = np.full((rows * ch, _COLUMNS * cw, 3), 24, np.uint8)
    for k, label in enumerate(labels):
        img, mask = corrupt(frame, label, np.random.default_rng([int(seed), k]), other=other, reencode=False)
        cell = cv2.resize(img, (cw, ch), interpolation=cv2.INTER_AREA)
        colour = hex_to_rgb(color_of(label))
        if mask.any():
            small = cv2.resize(mask.astype(np.uint8), (cw, ch), interpolation=cv2.INTER_NEAREST)
            # Close small gaps first: a mask of scattered changed pixels would otherwise outline every pixel.
            ksize = max(3, cw // 60) | 1
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (ksize, ksize))
            small = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
            contours, _ = cv2.findContours(small, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(cell, contours, -1, colour, max(1, cw // 320), cv2.LINE_AA)
        cell[:strip] = (cell[:strip] * 0.25).astype(np.uint8)  # dark strip so the label reads on any frame
        cv2.rectangle(cell, (0, 0), (max(3, strip // 4), strip - 1), colour, -1)
        cv2.putText(cell, label, (strip // 2 + 2, int(strip * 0.75)), cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                    (255, 255, 255), 1, cv2.LINE_AA)
        r, c = divmod(k, _COLUMNS)
        sheet[r * ch:(r + 1) * ch, c * cw:(c + 1) * cw] = cell
    return sheet
