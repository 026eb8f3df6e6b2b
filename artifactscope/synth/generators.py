"""One corruption generator per artifact class.

Every generator has the signature ``fn(frame, rng, *, other=None) -> (corrupted, mask)``:

* ``frame`` is a uint8 RGB image (H, W, 3); it is never modified.
* ``rng`` is a :class:`numpy.random.Generator`; the same state gives the same output.
* ``corrupted`` is a new uint8 RGB image of the same shape.
* ``mask`` is a bool (H, W) array of the corrupted pixels.

Conventions shared by all generators
------------------------------------
* Sizes follow the study at 1920x1080 and scale with ``sqrt(H * W / (1920 * 1080))``; every parameter is drawn
  from a wider range than the study used (see DESIGN.md) so that the experts learn the artifact, not the generator.
* A pixel counts as corrupted when one of its channels moved by at least ``VISIBLE_DIFF`` levels. Fainter changes
  (the transparent tail of a shader fade, a triangle whose centroid colour equals the pixel) are reverted, so for
  every generator except ``screen_tearing`` the mask is *exactly* the set of pixels that differ from the input.
  ``screen_tearing`` marks the whole part taken from the other frame (static content included), because that is
  the region a tester would point at.
* A minimum visible effect is guaranteed by a bounded retry loop: each generator states a minimum corrupted area
  and a minimum mean change; a draw that falls short is redrawn, and late attempts switch to contrasting colours or
  stronger parameters (e.g. dark triangles on a black frame get the brightest "dark" colour, then a light one).
  The best attempt is returned if none qualifies. The one case that cannot be helped is ``screen_stuttering`` on
  a frame whose blocks are all identical (a flat frame): swapping them changes nothing and the mask is empty;
  callers building datasets must skip such samples (``synthesize_dataset`` does).
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import cv2
import numpy as np

from artifactscope.artifacts import ARTIFACT_NAMES

__all__ = ["GENERATORS", "VISIBLE_DIFF", "Generator", "check_frame"] + list(ARTIFACT_NAMES)

Generator = Callable[..., "tuple[np.ndarray, np.ndarray]"]

#: Smallest per-channel change (in levels) that counts as a corrupted pixel.
VISIBLE_DIFF = 4
_ATTEMPTS = 6
_REF_AREA = 1920 * 1080


# --------------------------------------------------------------------------------------------------- helpers
def check_frame(frame: object, what: str = "frame") -> np.ndarray:
    """Return `frame` if it is a uint8 (H, W, 3) array of at least 8x8 pixels, else raise ValueError."""
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"{what} must be a numpy uint8 array of shape (H, W, 3) in RGB order, "
                         f"got {type(frame).__name__}")
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"{what} must be a numpy uint8 array of shape (H, W, 3) in RGB order, "
                         f"got dtype {frame.dtype} and shape {frame.shape}")
    if frame.shape[0] < 8 or frame.shape[1] < 8:
        raise ValueError(f"{what} is too small ({frame.shape[1]}x{frame.shape[0]}); need at least 8x8 pixels")
    return frame


def _scale(frame: np.ndarray) -> float:
    """Linear size factor relative to 1920x1080 (geometric mean, so portrait frames scale sensibly)."""
    h, w = frame.shape[:2]
    return math.sqrt(h * w / _REF_AREA)


def _colour(c: np.ndarray | tuple) -> tuple[int, int, int]:
    """A colour as the plain int tuple cv2 drawing functions want."""
    return tuple(int(round(float(v))) for v in np.clip(c, 0, 255))  # type: ignore[return-value]


def _contrasting(rng: np.random.Generator, ref: np.ndarray, min_dist: float = 100.0) -> np.ndarray:
    """A random colour at least `min_dist` levels (in some channel) from `ref`; falls back to the far corner."""
    ref = np.asarray(ref, np.float32)
    for _ in range(20):
        c = rng.integers(0, 256, 3).astype(np.float32)
        if np.abs(c - ref).max() >= min_dist:
            return c
    return np.where(ref < 128, 255.0, 0.0).astype(np.float32)


def _saturated_colour(rng: np.random.Generator, value: tuple[float, float] = (200, 255)) -> np.ndarray:
    """A random hue with saturation 0.5-1 and brightest channel in `value`."""
    hsv = np.array([[[rng.uniform(0, 180), rng.uniform(128, 255), rng.uniform(*value)]]], np.float32)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def _opacity(rng: np.random.Generator, p_opaque: float = 0.5) -> float:
    """Opacity 1 with probability `p_opaque`, else uniform in [0.5, 1)."""
    return 1.0 if rng.random() < p_opaque else float(rng.uniform(0.5, 1.0))


def _chmax(img: np.ndarray) -> np.ndarray:
    """Per-pixel maximum over the three channels (cv2 is ~25x faster than ``ndarray.max(axis=2)`` here)."""
    return cv2.max(cv2.max(img[:, :, 0], img[:, :, 1]), img[:, :, 2])


def _as_u8(mask: np.ndarray) -> np.ndarray:
    """A bool or 0/1 mask as the uint8 mask cv2 wants (a view when possible)."""
    return mask.view(np.uint8) if mask.dtype == bool else mask.astype(np.uint8, copy=False)


def _blend_into(out: np.ndarray, src: np.ndarray, region: np.ndarray, alpha: float) -> None:
    """``out = (1 - alpha) * out + alpha * src`` where `region` is set, in place."""
    if alpha < 1.0:
        src = cv2.addWeighted(out, 1.0 - alpha, src, alpha, 0.0)
    cv2.copyTo(src, _as_u8(region), out)


def _paint(out: np.ndarray, region: np.ndarray, colour: np.ndarray, alpha: float) -> None:
    """Blend one colour into `out` where `region` (bool or uint8 mask) is set, in place."""
    solid = np.empty_like(out)
    solid[:] = _colour(colour)
    _blend_into(out, solid, region, alpha)


def _settle(frame: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Revert sub-visible changes and return (out, mask, per-pixel max channel difference)."""
    diff = _chmax(cv2.absdiff(frame, out))
    mask = diff >= VISIBLE_DIFF
    # Faint changes are reverted so that the mask is exactly the set of changed pixels.
    cv2.copyTo(frame, _as_u8(~mask), out)
    return out, mask, diff


def _best_of(draw: Callable[[np.ndarray, np.random.Generator, int], np.ndarray], frame: np.ndarray,
             rng: np.random.Generator, *, min_area: float, min_contrast: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Draw until the effect is visible: at least `min_area` changed pixels, mean change >= `min_contrast`.

    `draw(frame, rng, attempt)` returns a corrupted copy; from attempt ``_ATTEMPTS // 2`` on, draws are expected
    to pick stronger / contrasting parameters. The best attempt is returned when none qualifies.
    """
    min_area = max(8.0, min_area)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for attempt in range(_ATTEMPTS):
        out, mask, diff = _settle(frame, draw(frame, rng, attempt))
        area = int(np.count_nonzero(mask))
        contrast = float(diff[mask].mean()) if area else 0.0
        if area >= min_area and contrast >= min_contrast:
            return out, mask
        score = min(area / min_area, 1.0) + min(contrast / min_contrast, 1.0)
        if best is None or score > best[0]:
            best = (score, out, mask)
    assert best is not None
    return best[1], best[2]


def _generator(fn: Callable[..., tuple[np.ndarray, np.ndarray]]) -> Generator:
    """Validate arguments once for every generator, so each body can assume a proper frame."""

    @functools.wraps(fn)
    def wrapper(frame: np.ndarray, rng: np.random.Generator, *, other: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        check_frame(frame)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        if other is not None:
            check_frame(other, "other")
        return fn(frame, rng, other=other)

    return wrapper


# ------------------------------------------------------------------------------------------------ generators
@_generator
def shader(frame: np.ndarray, rng: np.random.Generator, *, other: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """1-3 large n-gons of blended image colours whose opacity fades linearly along one direction.

    Parameters
    ----------
    frame : numpy.ndarray
        uint8 RGB (H, W, 3) clean frame; not modified.
    rng : numpy.random.Generator
        Source of randomness.
    other : numpy.ndarray, optional
        Ignored (accepted for a uniform signature).

    Returns
    -------
    corrupted, mask : numpy.ndarray
        The corrupted copy and the bool (H, W) mask of changed pixels.

    Notes
    -----
    Polygons have 3-6 vertices around a random centre (vertices may lie outside the frame, radius 15-60% of
    the longer side). Colours are 2-4 image pixels +-30 blended by inverse-distance weighting; opacity goes
    linearly from 0.5-1.0 to 0-25% of that across the polygon. Late retries use contrasting colours, so the
    artifact is visible on flat frames too.
    """
    h, w = frame.shape[:2]

    def draw(frame: np.ndarray, rng: np.random.Generator, attempt: int) -> np.ndarray:
        out = frame.copy()
        poly = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(1, 4))):
            n = int(rng.integers(3, 7))
            centre = np.array([rng.uniform(0, w), rng.uniform(0, h)])
            radius = rng.uniform(0.15, 0.6) * max(h, w)
            ang = np.sort(rng.uniform(0, 2 * np.pi, n))  # sorted angles: a simple (non-self-crossing) polygon
            pts = centre + (radius * rng.uniform(0.4, 1.2, n))[:, None] * np.stack([np.cos(ang), np.sin(ang)], 1)
            poly[:] = 0
            cv2.fillPoly(poly, [np.round(pts).astype(np.int32)], 1)
            x, y, bw, bh = cv2.boundingRect(poly)
            if bw == 0 or bh == 0:
                continue
            roi = out[y:y + bh, x:x + bw]
            # Colour field: k anchor colours blended by inverse squared distance, computed coarse then upsampled.
            k = int(rng.integers(2, 5))
            if attempt < _ATTEMPTS // 2:
                cols = frame[rng.integers(0, h, k), rng.integers(0, w, k)].astype(np.float32)
                cols = np.clip(cols + rng.uniform(-30, 30, (k, 3)), 0, 255)
            else:
                ref = np.array(cv2.mean(roi)[:3], np.float32)
                cols = np.stack([_contrasting(rng, ref) for _ in range(k)])
            gw, gh = max(2, min(bw, 64)), max(2, min(bh, 64))
            ax, ay = rng.uniform(0, gw, k), rng.uniform(0, gh, k)
            gy, gx = np.mgrid[0:gh, 0:gw].astype(np.float32)
            wts = 1.0 / ((gx[..., None] - ax) ** 2 + (gy[..., None] - ay) ** 2 + 1.0)
            field = (wts @ cols) / wts.sum(-1, keepdims=True)
            field = cv2.resize(field.astype(np.float32), (bw, bh), interpolation=cv2.INTER_LINEAR)
            # Opacity: linear ramp along a random direction, from a0 at one end of the polygon to a1 at the other.
            theta = rng.uniform(0, 2 * np.pi)
            d = np.array([np.cos(theta), np.sin(theta)])
            proj_v = pts @ d
            lo, hi = proj_v.min(), proj_v.max()
            a0 = rng.uniform(0.5, 1.0)
            a1 = a0 * rng.uniform(0.0, 0.25)
            yy = np.arange(y, y + bh, dtype=np.float32)[:, None]
            xx = np.arange(x, x + bw, dtype=np.float32)[None, :]
            t = np.clip(((xx * d[0] + yy * d[1]) - lo) / max(hi - lo, 1.0), 0, 1)
            alpha = ((a0 + (a1 - a0) * t) * poly[y:y + bh, x:x + bw])[..., None].astype(np.float32)
            roi[:] = np.clip(roi * (1 - alpha) + field * alpha + 0.5, 0, 255).astype(np.uint8)
        return out

    return _best_of(draw, frame, rng, min_area=0.02 * h * w, min_contrast=12)


@_generator
def shape(frame: np.ndarray, rng: np.random.Generator, *, other: np.ndarray | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """2-5 thin mono-coloured (usually dark) triangles fanning out from a point in the darkest grid cell.

    Parameters
    ----------
    frame : numpy.ndarray
        uint8 RGB (H, W, 3) clean frame; not modified.
    rng : numpy.random.Generator
        Source of randomness.
    other : numpy.ndarray, optional
        Ignored.

    Returns
    -------
    corrupted, mask : numpy.ndarray
        The corrupted copy and the bool (H, W) mask of changed pixels.

    Notes
    -----
    The apex lies in the darkest cell of a 6x4 grid (there is always one, even on a bright frame). Spikes are
    150-600 px long at 1080p, 2-16 px wide at the base; the colour has every channel < 50 (85%) or is any colour
    (15%). On a dark frame, retries use the brightest dark colours, then a contrasting colour.
    """
    h, w = frame.shape[:2]
    s = _scale(frame)
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    cells = cv2.resize(gray, (6, 4), interpolation=cv2.INTER_AREA)
    cy, cx = np.unravel_index(int(np.argmin(cells)), cells.shape)

    def draw(frame: np.ndarray, rng: np.random.Generator, attempt: int) -> np.ndarray:
        px = rng.uniform(cx * w / 6, (cx + 1) * w / 6)
        py = rng.uniform(cy * h / 4, (cy + 1) * h / 4)
        n = int(rng.integers(2, 6))
        spread = np.deg2rad(rng.uniform(20, 300))
        base = rng.uniform(0, 2 * np.pi)
        angles = base + np.sort(rng.uniform(-spread / 2, spread / 2, n))
        local = frame[max(0, int(py) - 20):int(py) + 20, max(0, int(px) - 20):int(px) + 20].reshape(-1, 3).mean(0)
        if attempt < _ATTEMPTS // 2:
            colour = rng.integers(0, 50, 3) if rng.random() < 0.85 else rng.integers(0, 256, 3)
        elif attempt < _ATTEMPTS - 1:
            # Still "dark" (channels < 50) but as far from the local background as that allows.
            colour = np.where(local < 25, rng.integers(40, 50, 3), rng.integers(0, 10, 3))
        else:
            colour = _contrasting(rng, local)
        tri_mask = np.zeros((h, w), np.uint8)
        for a in angles:
            length = rng.uniform(150, 600) * s
            half = math.atan2(rng.uniform(1, 8) * max(s, 0.25), length)  # thin: 2-16 px wide base at 1080p
            tip = [(px + length * math.cos(a + sgn * half), py + length * math.sin(a + sgn * half)) for sgn in (-1, 1)]
            tri = np.round(np.array([(px, py), *tip])).astype(np.int32)
            cv2.fillPoly(tri_mask, [tri], 1)
        out = frame.copy()
        _paint(out, tri_mask, colour, 1.0 if rng.random() < 0.7 else float(rng.uniform(0.7, 1.0)))
        return out

    return _best_of(draw, frame, rng, min_area=500 * s * s, min_contrast=20)


@_generator
def discoloration(frame: np.ndarray, rng: np.random.Generator, *, other: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Bright pixels (some channel above t in [100, 140)) take a wrong, saturated colour.

    Parameters
    ----------
    frame : numpy.ndarray
        uint8 RGB (H, W, 3) clean frame; not modified.
    rng : numpy.random.Generator
        Source of randomness.
    other : numpy.ndarray, optional
        Ignored.

    Returns
    -------
    corrupted, mask : numpy.ndarray
        The corrupted copy and the bool (H, W) mask of changed pixels.

    Notes
    -----
    Scope: the whole frame (35%), a random rectangle (30%) or 1-3 connected bright areas (35%). Colour: pure red,
    green or blue (50%) or one random hue of value 200-255; opacity 1 or 0.5-1; in 25% of draws the colour is
    shaded by the pixel's brightness. On a dark frame too few pixels pass t, so t drops to a high percentile of the
    frame's brightness instead (the brightest 5-30% are discoloured).
    """
    h, w = frame.shape[:2]
    bright = _chmax(frame)
    min_area = 0.004 * h * w

    def draw(frame: np.ndarray, rng: np.random.Generator, attempt: int) -> np.ndarray:
        t = int(rng.integers(100, 140))
        cand = bright > t
        if np.count_nonzero(cand) < 4 * min_area:
            # Dark frame: lower the threshold to a high percentile of the brightness instead.
            t = int(np.percentile(bright, 100 * (1 - rng.uniform(0.05, 0.3)))) - 1
            cand = bright > min(t, int(bright.max()) - 1)
        variant = rng.choice(["whole", "region", "component"], p=[0.35, 0.3, 0.35])
        if variant == "region":
            rw, rh = int(w * rng.uniform(0.25, 0.8)), int(h * rng.uniform(0.25, 0.8))
            x0, y0 = int(rng.integers(0, w - rw + 1)), int(rng.integers(0, h - rh + 1))
            sub = np.zeros_like(cand)
            sub[y0:y0 + rh, x0:x0 + rw] = cand[y0:y0 + rh, x0:x0 + rw]
            if np.count_nonzero(sub) >= min_area:
                cand = sub
        elif variant == "component":
            n, labels, stats, _ = cv2.connectedComponentsWithStats(cand.astype(np.uint8), connectivity=8)
            areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
            big = np.flatnonzero(areas >= min_area / 2) + 1
            if big.size:
                k = min(big.size, int(rng.integers(1, 4)))
                chosen = rng.choice(big, size=k, replace=False, p=areas[big - 1] / areas[big - 1].sum())
                lut = np.zeros(n, bool)
                lut[chosen] = True
                cand = lut[labels]
        ref = np.array(cv2.mean(frame, mask=_as_u8(cand) if cand.any() else None)[:3], np.float32)
        if attempt >= _ATTEMPTS // 2:
            colour, alpha, shaded = _contrasting(rng, ref, 120), 1.0, False
        else:
            if rng.random() < 0.5:
                colour = np.zeros(3, np.float32)
                colour[rng.integers(0, 3)] = 255
            else:
                colour = _saturated_colour(rng)
            alpha, shaded = _opacity(rng), rng.random() < 0.25
        out = frame.copy()
        if shaded:  # keep the scene's shading: colour scaled by the pixel's brightness
            gain = 0.4 + (0.6 / 255.0) * bright.astype(np.float32)
            new = np.clip(gain[:, :, None] * np.asarray(colour, np.float32), 0, 255).astype(np.uint8)
            _blend_into(out, new, cand, alpha)
        else:
            _paint(out, cand, colour, alpha)
        return out

    return _best_of(draw, frame, rng, min_area=min_area, min_contrast=25)


# dot gap dot gap dash(3) gap dot gap dot gap: 12 units per period
_MORSE_UNITS = np.array([1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0], bool)


@_generator
def morse_code(frame: np.ndarray, rng: np.random.Generator, *, other: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Thin vertical columns carrying a dot-dot-dash-dot-dot pattern in one colour.

    Parameters
    ----------
    frame : numpy.ndarray
        uint8 RGB (H, W, 3) clean frame; not modified.
    rng : numpy.random.Generator
        Source of randomness.
    other : numpy.ndarray, optional
        Ignored.

    Returns
    -------
    corrupted, mask : numpy.ndarray
        The corrupted copy and the bool (H, W) mask of changed pixels.

    Notes
    -----
    Candidate columns every 0.7-1.5% of the width, each kept with p in [0.15, 0.5]; 1 px wide (70%) or 2 px. The
    pattern period is 3-6% of the height, in phase across columns (50%) or not. In 35% of draws the columns cover
    only a vertical span (>= 25% of H), in 30% only a horizontal span (>= 30% of W).
    """
    h, w = frame.shape[:2]

    def draw(frame: np.ndarray, rng: np.random.Generator, attempt: int) -> np.ndarray:
        step = max(2, int(round(w * rng.uniform(0.007, 0.015))))
        xs = np.arange(int(rng.integers(0, step)), w, step)
        if rng.random() < 0.3:  # only part of the width
            span = int(w * rng.uniform(0.3, 1.0))
            x0 = int(rng.integers(0, w - span + 1))
            xs = xs[(xs >= x0) & (xs < x0 + span)]
        kept = xs[rng.random(xs.size) < rng.uniform(0.15, 0.5)]
        if kept.size < 2 and xs.size:
            kept = rng.choice(xs, size=min(xs.size, 2), replace=False)
        thick = 1 if rng.random() < 0.7 else 2
        period = max(12.0, h * rng.uniform(0.03, 0.06))
        y0, y1 = 0, h
        if rng.random() < 0.35:  # only part of the height
            span = int(h * rng.uniform(0.25, 1.0))
            y0 = int(rng.integers(0, h - span + 1))
            y1 = y0 + span
        ys = np.arange(y0, y1)
        aligned = rng.random() < 0.5
        phase = rng.uniform(0, period)
        ref = np.array(cv2.mean(frame)[:3], np.float32)
        colour = rng.integers(0, 256, 3) if attempt < _ATTEMPTS // 2 else _contrasting(rng, ref, 140)
        alpha = 1.0 if rng.random() < 0.6 else float(rng.uniform(0.6, 1.0))
        region = np.zeros((h, w), bool)
        for x in kept:
            ph = phase if aligned else rng.uniform(0, period)
            on = _MORSE_UNITS[(((ys + ph) % period) * (12 / period)).astype(np.int64) % 12]
            region[ys[on], x:x + thick] = True
        out = frame.copy()
        _paint(out, region, colour, alpha)
        return out

    return _best_of(draw, frame, rng, min_area=0.5 * h, min_contrast=25)


@_generator
def dotted_line(frame: np.ndarray, rng: np.random.Generator, *, other: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """A few dozen fine dotted lines of one colour at random angles near one spot (or radial from it).

    Parameters
    ----------
    frame : numpy.ndarray
        uint8 RGB (H, W, 3) clean frame; not modified.
    rng : numpy.random.Generator
        Source of randomness.
    other : numpy.ndarray, optional
        Ignored.

    Returns
    -------
    corrupted, mask : numpy.ndarray
        The corrupted copy and the bool (H, W) mask of changed pixels.

    Notes
    -----
    10-40 lines of 20-50 dots, a dot every 3-6 px at 1080p (never closer than 2 px), dots 1 px (70%) or 2 px
    (scaled). Lines start within 20-150 px of the centre (scaled) at random angles, or (30%) radiate from it.
    """
    h, w = frame.shape[:2]
    s = _scale(frame)

    def draw(frame: np.ndarray, rng: np.random.Generator, attempt: int) -> np.ndarray:
        n_lines = int(rng.integers(10, 41))
        n_dots = rng.integers(20, 51, n_lines)
        spacing = max(2.0, rng.uniform(3, 6) * max(s, 0.5))
        dot = max(1, int(round((1 if rng.random() < 0.7 else 2) * s)))
        c = np.array([rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h])
        ang = rng.uniform(0, 2 * np.pi, n_lines)
        d = np.stack([np.cos(ang), np.sin(ang)], 1)
        if rng.random() < 0.3:  # radial from one point
            starts = c + d * rng.uniform(0, 10 * s, (n_lines, 1))
        else:
            starts = c + rng.uniform(-1, 1, (n_lines, 2)) * rng.uniform(20, 150) * max(s, 0.3)
        k = np.arange(n_dots.max())
        pts = starts[:, None, :] + d[:, None, :] * (k[None, :, None] * spacing)
        pts = pts[k[None, :] < n_dots[:, None]]  # (n, 2) dot positions of all lines
        xs, ys = np.round(pts[:, 0]).astype(np.int64), np.round(pts[:, 1]).astype(np.int64)
        region = np.zeros((h, w), bool)
        for oy in range(dot):
            for ox in range(dot):
                ok = (xs + ox >= 0) & (xs + ox < w) & (ys + oy >= 0) & (ys + oy < h)
                region[ys[ok] + oy, xs[ok] + ox] = True
        ref = frame[int(c[1]), int(c[0])].astype(np.float32)
        colour = rng.integers(0, 256, 3) if attempt < _ATTEMPTS // 2 else _contrasting(rng, ref, 140)
        out = frame.copy()
        _paint(out, region, colour, 1.0 if rng.random() < 0.6 else float(rng.uniform(0.6, 1.0)))
        return out

    return _best_of(draw, frame, rng, min_area=150 * s * s, min_contrast=30)


@_generator
def parallel_lines(frame: np.ndarray, rng: np.random.Generator, *, other: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """A bundle of 40-120 parallel segments from the middle region to one border, each in its start colour.

    Parameters
    ----------
    frame : numpy.ndarray
        uint8 RGB (H, W, 3) clean frame; not modified.
    rng : numpy.random.Generator
        Source of randomness.
    other : numpy.ndarray, optional
        Ignored.

    Returns
    -------
    corrupted, mask : numpy.ndarray
        The corrupted copy and the bool (H, W) mask of changed pixels.

    Notes
    -----
    One slope of 10-35 degrees (either sign) from the horizontal (75%) or the vertical, lines 1-3 px thick at
    1080p, starting in a central box (20-60% of each side) and running to the border (70%) or for 10-50% of the
    width. A line drawn in the colour of its start only shows over other content, so on a flat frame the late
    retries shift the colours away from the start pixel.
    """
    h, w = frame.shape[:2]
    s = _scale(frame)

    def draw(frame: np.ndarray, rng: np.random.Generator, attempt: int) -> np.ndarray:
        n = int(rng.integers(40, 121))
        slope = np.deg2rad(rng.uniform(10, 35)) * rng.choice([-1, 1])
        if rng.random() < 0.75:
            d = np.array([math.cos(slope), math.sin(slope)]) * rng.choice([-1, 1])
        else:
            d = np.array([math.sin(slope), math.cos(slope)]) * rng.choice([-1, 1])
        bw, bh = w * rng.uniform(0.2, 0.6), h * rng.uniform(0.2, 0.6)
        cx, cy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.35, 0.65)
        sx = np.clip(rng.uniform(cx - bw / 2, cx + bw / 2, n), 0, w - 1)
        sy = np.clip(rng.uniform(cy - bh / 2, cy + bh / 2, n), 0, h - 1)
        to_border = rng.random() < 0.7
        length = 2.0 * (w + h) if to_border else w * rng.uniform(0.1, 0.5)
        thick = np.maximum(1, np.round(rng.integers(1, 4, n) * s)).astype(int)
        cols = frame[sy.astype(int), sx.astype(int)].astype(np.float32)
        if attempt >= _ATTEMPTS // 2:  # flat content: start colours would not show
            cols = np.stack([_contrasting(rng, c, 80) for c in cols])
        layer = frame.copy()
        region = np.zeros((h, w), np.uint8)
        for i in range(n):
            p0 = (int(sx[i]), int(sy[i]))
            p1 = (int(sx[i] + d[0] * length), int(sy[i] + d[1] * length))
            cv2.line(layer, p0, p1, _colour(cols[i]), int(thick[i]), cv2.LINE_8)
            cv2.line(region, p0, p1, 1, int(thick[i]), cv2.LINE_8)
        out = frame.copy()
        _blend_into(out, layer, region, _opacity(rng, 0.6))
        return out

    return _best_of(draw, frame, rng, min_area=0.003 * h * w, min_contrast=15)


# Centroids of the four triangles of a unit cell split by its diagonals, indexed by the code used below:
# 0 top, 1 left, 2 right, 3 bottom (as (u, v) = (x, y) inside the cell).
_TRI_CENTROIDS = np.array([[0.5, 1 / 6], [1 / 6, 0.5], [5 / 6, 0.5], [0.5, 5 / 6]], np.float32)
_TRI_SHADE = np.array([1.0, -0.5, 0.5, -1.0], np.float32)  # facet lighting from the top right


@_generator
def triangulation(frame: np.ndarray, rng: np.random.Generator, *, other: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A rectangular region re-rendered as flat-coloured triangles (each grid cell split by its diagonals).

    Parameters
    ----------
    frame : numpy.ndarray
        uint8 RGB (H, W, 3) clean frame; not modified.
    rng : numpy.random.Generator
        Source of randomness.
    other : numpy.ndarray, optional
        Ignored.

    Returns
    -------
    corrupted, mask : numpy.ndarray
        The corrupted copy and the bool (H, W) mask of changed pixels.

    Notes
    -----
    The region covers 20-100% of the frame's area; cells are W/40-W/20 wide with a random grid origin. Each
    triangle takes the colour at its centroid; half of the draws add facet shading (+-8-25 levels by triangle
    orientation), which late retries force (20-40 levels) so that the mesh shows on flat frames too.
    """
    h, w = frame.shape[:2]

    def draw(frame: np.ndarray, rng: np.random.Generator, attempt: int) -> np.ndarray:
        a = rng.uniform(0.2, 1.0)
        fw = rng.uniform(a, 1.0)
        rw, rh = max(2, int(round(fw * w))), max(2, int(round(a / fw * h)))
        x0, y0 = int(rng.integers(0, w - rw + 1)), int(rng.integers(0, h - rh + 1))
        cell = max(3.0, w / rng.uniform(20, 40))
        ox, oy = x0 - rng.uniform(0, cell), y0 - rng.uniform(0, cell)  # grid origin (not aligned to the region)
        gx = (np.arange(x0, x0 + rw) - ox) / cell
        gy = (np.arange(y0, y0 + rh) - oy) / cell
        ix, iy = gx.astype(np.int64), gy.astype(np.int64)
        u, v = (gx - ix).astype(np.float32), (gy - iy).astype(np.float32)
        # Which triangle: compare v with u and with 1 - u (the two diagonals).
        code = (v[:, None] >= u[None, :]).astype(np.int64) + 2 * ((u[None, :] + v[:, None]) >= 1)
        nx, ny = int(ix[-1]) + 1, int(iy[-1]) + 1
        # Colour table (ny, nx, 4, 3): the frame at each triangle's centroid.
        cxs = ox + (np.arange(nx)[:, None] + _TRI_CENTROIDS[None, :, 0]) * cell  # (nx, 4)
        cys = oy + (np.arange(ny)[:, None] + _TRI_CENTROIDS[None, :, 1]) * cell  # (ny, 4)
        px = np.clip(np.round(cxs), 0, w - 1).astype(np.int64)
        py = np.clip(np.round(cys), 0, h - 1).astype(np.int64)
        table = frame[py[:, None, :], px[None, :, :]].astype(np.float32)  # (ny, nx, 4, 3)
        amp = 0.0
        if attempt >= _ATTEMPTS // 2:
            amp = rng.uniform(20, 40)
        elif rng.random() < 0.5:
            amp = rng.uniform(8, 25)
        table = np.clip(table + amp * _TRI_SHADE[None, None, :, None], 0, 255).astype(np.uint8)
        flat = (iy[:, None] * nx + ix[None, :]) * 4 + code
        tri = table.reshape(-1, 3)[flat]
        out = frame.copy()
        roi = out[y0:y0 + rh, x0:x0 + rw]
        alpha = 1.0 if rng.random() < 0.7 else float(rng.uniform(0.6, 1.0))
        if alpha >= 1.0:
            roi[:] = tri
        else:
            roi[:] = cv2.addWeighted(tri, alpha, roi, 1 - alpha, 0.0)
        return out

    return _best_of(draw, frame, rng, min_area=0.02 * h * w, min_contrast=8)


@_generator
def line_pixelation(frame: np.ndarray, rng: np.random.Generator, *, other: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """A band of adjacent stripes made of blocky random-coloured pixels, horizontal or vertical.

    Parameters
    ----------
    frame : numpy.ndarray
        uint8 RGB (H, W, 3) clean frame; not modified.
    rng : numpy.random.Generator
        Source of randomness.
    other : numpy.ndarray, optional
        Ignored.

    Returns
    -------
    corrupted, mask : numpy.ndarray
        The corrupted copy and the bool (H, W) mask of changed pixels.

    Notes
    -----
    Blocks are H/300-H/120 px (at least 2 px); the band has 5-40 stripes (at most 40% of the frame across),
    horizontal (60%) or vertical, running the full length (50%) or 20-100% of it. Each block is painted with
    probability 1 (50%) or 0.3-1. Colours: uniform random (55%), the band's own colours +-20-60 (30%), or a palette
    of 2-6 random colours.
    """
    h, w = frame.shape[:2]

    def draw(frame: np.ndarray, rng: np.random.Generator, attempt: int) -> np.ndarray:
        img = frame if rng.random() < 0.6 else frame.transpose(1, 0, 2)  # vertical band: work transposed
        ih, iw = img.shape[:2]
        b = max(2, int(round(h * rng.uniform(1 / 300, 1 / 120))))
        n_stripes = int(min(rng.integers(5, 41), max(1, int(0.4 * ih) // b)))
        band = n_stripes * b
        y0 = int(rng.integers(0, max(1, ih - band + 1)))
        length = iw if rng.random() < 0.5 else max(b, int(iw * rng.uniform(0.2, 1.0)))
        x0 = int(rng.integers(0, iw - length + 1))
        nb = -(-length // b)
        mode = rng.choice(["random", "near", "palette"], p=[0.55, 0.3, 0.15])
        if attempt >= _ATTEMPTS // 2:
            mode = "random"
        if mode == "random":
            cols = rng.integers(0, 256, (n_stripes, nb, 3))
        elif mode == "near":
            src = img[y0:y0 + band, x0:x0 + length].reshape(-1, 3)
            pick = src[rng.integers(0, src.shape[0], n_stripes * nb)].reshape(n_stripes, nb, 3)
            spread = rng.uniform(20, 60)
            cols = pick.astype(np.float32) + rng.uniform(-spread, spread, (n_stripes, nb, 3))
        else:
            pal = rng.integers(0, 256, (int(rng.integers(2, 7)), 3))
            cols = pal[rng.integers(0, pal.shape[0], (n_stripes, nb))]
        cols = np.clip(cols, 0, 255).astype(np.uint8)
        keep = rng.random((n_stripes, nb)) < (1.0 if rng.random() < 0.5 else rng.uniform(0.3, 1.0))
        big = np.repeat(np.repeat(cols, b, 0), b, 1)[:band, :length]
        big_keep = np.repeat(np.repeat(keep, b, 0), b, 1)[:band, :length]
        out_t = img.copy()
        roi = out_t[y0:y0 + band, x0:x0 + length]
        big_keep = big_keep[:roi.shape[0], :roi.shape[1]]
        big = big[:roi.shape[0], :roi.shape[1]]
        alpha = 1.0 if rng.random() < 0.7 else float(rng.uniform(0.6, 1.0))
        blend = big if alpha >= 1.0 else cv2.addWeighted(big, alpha, roi, 1 - alpha, 0.0)
        np.copyto(roi, blend, where=big_keep[:, :, None])
        return np.ascontiguousarray(out_t if img is frame else out_t.transpose(1, 0, 2))

    return _best_of(draw, frame, rng, min_area=0.001 * h * w, min_contrast=20)


def _block_size(n: int, rng: np.random.Generator) -> int:
    """A block size that divides `n` (usually) into 2-16 blocks; otherwise n // k with a remainder left alone."""
    divisors = [k for k in range(2, 17) if n % k == 0]
    k = int(rng.choice(divisors)) if divisors and rng.random() < 0.8 else int(rng.integers(2, 17))
    return max(1, n // k)


@_generator
def screen_stuttering(frame: np.ndarray, rng: np.random.Generator, *, other: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The picture cut into blocks with neighbouring blocks swapped (columns, rows, or tiles; 1-4 passes).

    Parameters
    ----------
    frame : numpy.ndarray
        uint8 RGB (H, W, 3) clean frame; not modified.
    rng : numpy.random.Generator
        Source of randomness.
    other : numpy.ndarray, optional
        Ignored (the swap is within the frame).

    Returns
    -------
    corrupted, mask : numpy.ndarray
        The corrupted copy and the bool (H, W) mask of moved pixels that actually changed. Empty when the frame
        has no content that a swap could change (a flat frame).

    Notes
    -----
    Block sizes divide W and H into 2-16 blocks (80% exact divisors). Each pass swaps adjacent column blocks,
    row blocks, or (30%) single tiles with a neighbour; either one random pair or every other pair (each with
    p 0.3-1).
    """
    h, w = frame.shape[:2]

    def swap_pairs(out: np.ndarray, size: int, count: int, axis: int, rng: np.random.Generator) -> None:
        if count < 2:
            return
        if rng.random() < 0.5:
            starts = [int(rng.integers(0, count - 1))]
        else:
            p = rng.uniform(0.3, 1.0)
            starts = [i for i in range(int(rng.integers(0, 2)), count - 1, 2) if rng.random() < p] or [0]
        for i in starts:
            a = [slice(None)] * 2
            b = [slice(None)] * 2
            a[axis], b[axis] = slice(i * size, (i + 1) * size), slice((i + 1) * size, (i + 2) * size)
            tmp = out[tuple(a)].copy()
            out[tuple(a)] = out[tuple(b)]
            out[tuple(b)] = tmp

    def draw(frame: np.ndarray, rng: np.random.Generator, attempt: int) -> np.ndarray:
        bw, bh = _block_size(w, rng), _block_size(h, rng)
        out = frame.copy()
        for _ in range(int(rng.integers(1, 5))):
            kind = rng.choice(["columns", "rows", "both", "tiles"], p=[0.3, 0.2, 0.2, 0.3])
            if kind in ("columns", "both"):
                swap_pairs(out, bw, w // bw, 1, rng)
            if kind in ("rows", "both"):
                swap_pairs(out, bh, h // bh, 0, rng)
            if kind == "tiles":
                for _ in range(int(rng.integers(1, 6))):
                    i, j = int(rng.integers(0, h // bh)), int(rng.integers(0, w // bw))
                    di, dj = ((0, 1) if rng.random() < 0.5 else (1, 0))
                    i2, j2 = i + di, j + dj
                    if i2 >= h // bh or j2 >= w // bw:
                        i2, j2 = i - di, j - dj
                    if i2 < 0 or j2 < 0:
                        continue
                    ta = out[i * bh:(i + 1) * bh, j * bw:(j + 1) * bw].copy()
                    out[i * bh:(i + 1) * bh, j * bw:(j + 1) * bw] = out[i2 * bh:(i2 + 1) * bh, j2 * bw:(j2 + 1) * bw]
                    out[i2 * bh:(i2 + 1) * bh, j2 * bw:(j2 + 1) * bw] = ta
        return out

    return _best_of(draw, frame, rng, min_area=0.01 * h * w, min_contrast=10)


def _fake_other(frame: np.ndarray, rng: np.random.Generator, strong: bool) -> np.ndarray:
    """Fabricate 'the same scene at another moment' by a camera move (and a lighting change when `strong`)."""
    h, w = frame.shape[:2]
    dx = rng.uniform(0.02, 0.08) * w * rng.choice([-1, 1])
    dy = rng.uniform(0.0, 0.08) * h * rng.choice([-1, 1])
    zoom = rng.uniform(0.95, 1.08) if rng.random() < 0.4 else 1.0
    angle = rng.uniform(-3, 3) if rng.random() < 0.3 else 0.0
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, zoom)
    m[:, 2] += (dx, dy)
    other = cv2.warpAffine(frame, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if strong or rng.random() < 0.3:  # exposure / lighting changed between the two moments
        gain = rng.uniform(0.85, 1.15)
        # A strong change moves away from the clipped end, so a dark frame brightens rather than turning black.
        away = 1.0 if float(cv2.mean(frame)[0:3][1]) < 128 else -1.0
        offset = rng.uniform(12, 30) * away if strong else rng.uniform(-10, 10)
        other = np.clip(other * np.float32(gain) + np.float32(offset) + 0.5, 0, 255).astype(np.uint8)
    return other


@_generator
def screen_tearing(frame: np.ndarray, rng: np.random.Generator, *, other: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The top r*H rows (p=0.6) or left r*W columns (r in [0.1, 0.9]) come from another moment of the scene.

    Parameters
    ----------
    frame : numpy.ndarray
        uint8 RGB (H, W, 3) clean frame; not modified.
    rng : numpy.random.Generator
        Source of randomness.
    other : numpy.ndarray, optional
        The same scene at a different moment (uint8 RGB; resized to the frame's size if needed). When None, or
        when it hardly differs from `frame`, one is fabricated from `frame` by a camera move (translation by 2-8%
        of the size, sometimes a slight zoom/rotation, BORDER_REFLECT) and sometimes a lighting change.

    Returns
    -------
    corrupted, mask : numpy.ndarray
        The corrupted copy and the bool (H, W) mask of the part taken from `other` (the whole part, including
        pixels that happen to be equal in both moments).
    """
    h, w = frame.shape[:2]
    if other is not None and other.shape[:2] != (h, w):
        other = cv2.resize(other, (w, h), interpolation=cv2.INTER_AREA)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for attempt in range(_ATTEMPTS):
        src = other
        if src is None or attempt >= _ATTEMPTS // 2:
            src = _fake_other(frame, rng, strong=attempt >= 2)
        r = rng.uniform(0.1, 0.9)
        mask = np.zeros((h, w), bool)
        if rng.random() < 0.6:
            mask[:max(1, int(round(r * h)))] = True
        else:
            mask[:, :max(1, int(round(r * w)))] = True
        out = frame.copy()
        np.copyto(out, src, where=mask[:, :, None])
        diff = _chmax(cv2.absdiff(frame, out))[mask]
        changed = float(np.mean(diff >= VISIBLE_DIFF))
        if changed >= 0.3 and float(diff.mean()) >= 8:
            return out, mask
        if best is None or changed > best[0]:
            best = (changed, out, mask)
    assert best is not None
    return best[1], best[2]


#: Generator per artifact class, in the order of ``artifacts.ARTIFACT_NAMES``.
GENERATORS: dict[str, Generator] = {name: globals()[name] for name in ARTIFACT_NAMES}
