"""Where is the artifact? Per-class evidence maps -> a coarse heatmap -> boxes in frame pixels.

Scoring tiles with the whole-frame experts was measured and rejected as the default: one feature vector costs
20-40 ms whatever the tile size (every tile is resized to the 512x288 working size), so even a 4x4 grid costs
0.3-0.6 s per 1080p frame on two cores (measured 40-56 ms per tile under load), against a 150 ms budget.
Instead every artifact class has a cheap pixel cue that says *which pixels* look like that artifact:

=================== ====================================================================================
class               cue (computed on the frame or its half-resolution copy)
=================== ====================================================================================
discoloration       saturated pixels of one hue (one wrong colour everywhere): of the hue histogram's peaks, the
                    one with many, bright pixels bordered by darker ones; the box spans every area of it with
                    >= 3% of the main area's mass, sparse cells (>= 5% of the densest) included
morse_code          1-2 px vertical strokes (horizontal top-hat / black-hat) in columns rich in them, one colour
dotted_line         isolated dots (in any colour channel) with neighbour dots 3-6 px away, of the one colour
                    that is mostly dots, +-40 (JPEG smears 1-px dots across colour bins)
parallel_lines      faint thin strokes (>= 7 from the 3x3 median) of the dominant direction (5x5 structure tensor,
                    axis-aligned scene geometry discounted) that continue along it for 41 px
shape               a fan: long straight segments (LSD at 960 px, and at full size around the darkest cell of
                    a 6x4 grid, where the thin tips start; dark tones lifted) whose lines meet where they all
                    start, sharing one side colour, >= 2 directions (at most 3 count); apexes in the darkest
                    cells (within 5 grey levels) count double, fans whose darker side is bright less;
                    box = apex + far ends
line_pixelation     blocky colour noise: dense strong colour jumps between neighbours (>= 60 in a channel) that
                    change the channels unequally (range of the signed differences >= 20: a new hue, not just
                    brightness as in HUD text and foliage); box from cells at >= 0.5 of the peak density, then
                    regrown to the rows and columns whose density stays >= 20% of the band's peak
triangulation       piecewise-flat patches among diagonal edges (density of flat pixels x density of
                    edges within 12 deg of 45/135 deg: the mesh cuts every cell along both diagonals)
shader              smooth but not flat fields: texture washed out (low Laplacian energy, max over colour
                    channels: hue texture of even brightness counts as texture), some slope in grey
screen_tearing      the seam row (or column): box = the torn part above (or left of) it
screen_stuttering   neighbouring blocks that look swapped (swapping them back makes their seams continuous,
                    :func:`artifactscope.features.swaps.swapped_pairs`): box = the pairs' extent; without
                    such a pair, block seams along rows and columns
=================== ====================================================================================

Each cue gives an evidence map (float32, 0 = normal). :func:`localize` pools it onto a coarse grid (cells of
about 40 px at 1080p) normalised to 0..1 - the heatmap - and thresholds it relative to its maximum into
connected regions (sparse cues - morse code, dotted and parallel lines - use a lower share, so that the thin
far ends of the artifact stay in the box); each region's box is then tightened to the evidence pixels inside
it. Heatmap and regions are plain arrays and :class:`artifactscope.scan.Region` objects, for reports and GUI
overlays alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from artifactscope.artifacts import ARTIFACT_NAMES, CLEAN
from artifactscope.features import extract, validate_image
from artifactscope.features._prepare import resize_to
from artifactscope.features.swaps import swapped_pairs

__all__ = ["CUES", "Localization", "evidence_map", "heatmap_to_frame", "localize", "regions_from_heatmap"]

#: Target number of heatmap cells along the frame's longer side (48 -> 40 px cells at 1920x1080).
GRID_LONG_SIDE = 48
#: A cell is part of a region when its heat reaches this share of the heatmap's maximum.
REL_THRESHOLD = 0.35
#: Discoloration: a hue's pixel score is multiplied by (median value / 255) to this power (measured: 2-6 alike).
DISCOLOUR_VALUE_POWER = 4.0
#: Line pixelation: the band spans the rows / columns whose jump density is >= this share of the densest one.
BAND_SHARE = 0.2
#: Line pixelation: dips in the density profile shorter than this (half-resolution pixels) do not end the band.
BAND_GAP = 17
#: Dotted lines: dot colours within this of the dots' main colour (max over channels) count.
DOT_TOL = 40
#: Dotted lines: the densest heatmap cell needs this share of dot pixels (0.003 = 5 dots in a 40x40 cell; JPEG
#: loses many 1-px dots: 0.006 localised 5 fewer of 420 dotted frames over 14 seeds, 0.0015 the same as 0.003).
DOT_FLOOR = 0.003


@dataclass
class Localization:
    """Where one artifact class shows in a frame.

    Attributes
    ----------
    label : str
        The artifact class localised (``clean`` when the model found none and no label was given).
    heatmap : numpy.ndarray
        float32 (rows, cols) in [0, 1]; cell (i, j) covers frame rows ``i*H/rows .. (i+1)*H/rows`` and
        columns ``j*W/cols .. (j+1)*W/cols``. Use :func:`heatmap_to_frame` for an overlay.
    regions : list of artifactscope.scan.Region
        Best first, boxes ``[x0, y0, x1, y1]`` in frame pixels (x1/y1 exclusive), scores in [0, 1].
    grid : tuple of int
        ``(rows, cols)`` of the heatmap.
    frame_size : tuple of int
        ``(width, height)`` of the frame.
    """

    label: str
    heatmap: np.ndarray
    regions: list = field(default_factory=list)
    grid: tuple = (0, 0)
    frame_size: tuple = (0, 0)

    def to_dict(self) -> dict:
        return {"label": self.label, "grid": list(self.grid), "frame_size": list(self.frame_size),
                "heatmap": np.round(self.heatmap, 3).tolist(), "regions": [r.to_dict() for r in self.regions]}


@dataclass
class _Evidence:
    """A cue's output: evidence map (any resolution covering the whole frame) and how to form boxes."""

    emap: np.ndarray  # float32 (h, w) >= 0
    floor: float  # pooled evidence below this is "nothing here" (absolute, in the map's units)
    merge: bool = False  # one box around every evidence region (artifacts that spread over the frame)
    pixel_level: float = 0.5  # evidence pixels at least this (relative to the map's max) tighten boxes
    box: tuple[int, int, int, int] | None = None  # a box the cue determined directly, in map pixels
    rel: float = REL_THRESHOLD  # cells at this share of the heatmap's maximum form regions (sparse cues: lower)
    keep: float = 0.15  # merge: components with this share of the largest one's mass join the region
    # Adjusts each region's box (x0, y0, x1, y1 in map pixels) to the artifact's own shape, after thresholding.
    refine: Callable[[tuple[int, int, int, int]], tuple[int, int, int, int]] | None = None


# ------------------------------------------------------------------------------------------------ helpers
def _chmax(img: np.ndarray) -> np.ndarray:
    return cv2.max(cv2.max(img[:, :, 0], img[:, :, 1]), img[:, :, 2])


def _half(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    if max(h, w) <= 1000:
        return image
    return resize_to(image, (w // 2, h // 2))


def _density(mask: np.ndarray, k: int) -> np.ndarray:
    return cv2.boxFilter(mask.astype(np.float32), -1, (k, k), normalize=True, borderType=cv2.BORDER_REFLECT)


def _thin_strokes(img: np.ndarray, level: int = 25) -> np.ndarray:
    """uint8 map: how far each pixel stands out from its 3x3 median (max over channels)."""
    return _chmax(cv2.absdiff(img, cv2.medianBlur(img, 3)))


def _mono_colour(img: np.ndarray, strokes: np.ndarray, levels: int = 6, tol: int | None = None) -> np.ndarray:
    """The stroke pixels of the one colour that appears mostly as strokes (these artifacts use one colour).

    Colours are quantised to `levels` per channel; a bin scores ``strokes_in_bin**2 / pixels_in_bin``: many
    stroke pixels, and few pixels of that colour elsewhere. With `tol`, every stroke pixel within `tol` (max
    over channels) of that bin's median stroke colour is kept, whichever bin it fell in.
    """
    lut = (np.arange(256) * levels // 256).astype(np.uint8)
    q = cv2.LUT(img, lut)
    # code = (r * levels + g) * levels + b, below 256 for levels <= 6: stays uint8 (cv2 arithmetic is fast).
    code = cv2.add(cv2.multiply(cv2.add(cv2.multiply(q[:, :, 0], levels), q[:, :, 1]), levels), q[:, :, 2])
    total = cv2.calcHist([code], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    inside = cv2.calcHist([code], [0], strokes.view(np.uint8), [256], [0, 256]).ravel().astype(np.float64)
    score = inside ** 2 / (total + 1.0)
    if tol is not None:
        # A colour that only a handful of strokes carry is scene noise, however rare the colour.
        score[inside < 0.1 * inside.sum()] = 0.0
    chosen = strokes & (code == int(np.argmax(score)))
    if tol is None or not chosen.any():
        return chosen
    # Tiny dots are blurred by anti-aliasing and JPEG: their colours straddle bin borders.
    ys, xs = np.nonzero(strokes)
    cols = img[ys, xs].astype(np.int16)
    ref = np.median(img[chosen], axis=0)
    near = np.abs(cols - ref).max(axis=1) <= tol
    out = np.zeros_like(strokes)
    out[ys[near], xs[near]] = True
    return out


# ------------------------------------------------------------------------------------------------ the cues
def _hue_peaks(hue: np.ndarray, strong: np.ndarray, count: int = 4, share: float = 0.002) -> list[int]:
    """The `count` strongest local maxima of the hue histogram of `strong` pixels (bins of 8), centre hues.

    Peaks below `share` of all pixels are ignored; the strongest peak is always returned.
    """
    hist = np.bincount(hue[strong].ravel() // 8, minlength=32).astype(np.float64)
    hist = hist + 0.5 * (np.roll(hist, 1) + np.roll(hist, -1))
    peaks = [b for b in range(32) if hist[b] >= hist[b - 1] and hist[b] > hist[(b + 1) % 32]
             and hist[b] > share * strong.size]
    peaks = sorted(peaks, key=lambda b: -hist[b])[:count] or [int(np.argmax(hist))]
    return [b * 8 + 4 for b in peaks]


def _bright_ring_share(sel: np.ndarray, bright: np.ndarray, level: int = 150, width: int = 7) -> float:
    """Share of the pixels just around `sel` (a `width` px ring) whose brightest channel reaches `level`."""
    ring = (cv2.dilate(sel, np.ones((width, width), np.uint8)) > 0) & (sel == 0)
    return float(np.mean(bright[ring] >= level)) if ring.any() else 0.0


def _cue_discoloration(image: np.ndarray) -> _Evidence:
    img = _half(image)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV_FULL)  # hue 0..255
    hue, sat, val = hsv[:, :, 0], hsv[:, :, 1], hsv[:, :, 2]
    strong = (sat >= 110) & (val >= 110)
    if np.count_nonzero(strong) < 0.0005 * strong.size:
        return _Evidence(np.zeros(img.shape[:2], np.float32), floor=1.0)
    bright = _chmax(img)
    best = None
    for mode in _hue_peaks(hue, strong):
        dh = np.abs(hue.astype(np.int16) - mode)
        sel = (strong & (np.minimum(dh, 256 - dh) <= 10)).view(np.uint8)
        # The wrong colour replaced *every* bright pixel in its area, so what borders it is darker; a scene
        # colour (an Atari background, a sky) borders brighter things too. Pixel count / bright-border share,
        # times brightness: the wrong colours are bright (value 200-255 before any shading or blending), while
        # the saturated scene colours that compete with them are mostly mid-tones (brown walls, dusk skies).
        score = np.count_nonzero(sel) / (_bright_ring_share(sel, bright) + 0.05)
        score *= (float(np.median(val[sel > 0])) / 255.0) ** DISCOLOUR_VALUE_POWER
        if best is None or score > best[0]:
            best = (score, sel)
    ev = best[1].astype(np.float32)
    # Every bright pixel takes the colour: small separate bright areas (a lit window, a mountain top) belong
    # to the artifact too, however little mass they carry next to the main area; and where the recoloured
    # pixels are scattered (specks of grass, a starfield), their sparse cells belong to it as much as a dense
    # patch of sky does.
    return _Evidence(ev, floor=0.05, merge=True, pixel_level=0.5, keep=0.03, rel=0.05)


def _cue_morse_code(image: np.ndarray) -> _Evidence:
    k = np.ones((1, 5), np.uint8)
    top = _chmax(cv2.morphologyEx(image, cv2.MORPH_TOPHAT, k))
    black = _chmax(cv2.morphologyEx(image, cv2.MORPH_BLACKHAT, k))
    strokes = cv2.max(top, black) >= 30
    h = strokes.shape[0]
    col = strokes.sum(axis=0).astype(np.float32)
    keep = col >= max(0.06 * h, 4.0 * float(np.median(col)) + 1.0)
    ev = _mono_colour(image, strokes & keep[None, :]).astype(np.float32)
    return _Evidence(ev, floor=0.01, merge=True, pixel_level=0.5, rel=0.1)


def _cue_dotted_line(image: np.ndarray) -> _Evidence:
    # The feature block's dot detector: isolated points that have neighbour dots 3-6 px away, of one colour.
    from artifactscope.features.local import dot_map

    # Per colour channel, not on grey: a dot of another hue but the same brightness as the scene under it
    # (magenta on green) vanishes in grey.
    paired = dot_map(np.ascontiguousarray(image[:, :, 0]))[1]
    for c in (1, 2):
        paired = cv2.bitwise_or(paired, dot_map(np.ascontiguousarray(image[:, :, c]))[1])
    dots = _mono_colour(image, paired.view(bool), tol=DOT_TOL).astype(np.float32)
    # Sparse: the lines' far ends carry few dots per cell, so cells well below the dense centre still count.
    return _Evidence(dots, floor=DOT_FLOOR, merge=True, pixel_level=0.5, rel=0.1)


def _orientation(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dominant gradient orientation in [0, pi) and its strength per pixel (5x5 structure tensor).

    The tensor, unlike the raw gradient, also gives the orientation at the centre of a 1-px line (where the
    gradient itself vanishes between its two opposite edges).
    """
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    jxx = cv2.boxFilter(gx * gx, -1, (5, 5))
    jyy = cv2.boxFilter(gy * gy, -1, (5, 5))
    jxy = cv2.boxFilter(gx * gy, -1, (5, 5))
    mag, ang = cv2.cartToPolar(jxx - jyy, 2 * jxy)
    return np.mod(ang / 2, np.pi), np.sqrt(mag)


def _line_kernel(theta: float, length: int) -> np.ndarray:
    """A normalised 1-px line of `length` along direction `theta` (radians, image axes)."""
    k = np.zeros((length, length), np.float32)
    c = (length - 1) / 2
    dx, dy = np.cos(theta) * c, np.sin(theta) * c
    cv2.line(k, (int(round(c - dx)), int(round(c - dy))), (int(round(c + dx)), int(round(c + dy))), 1.0, 1)
    return k / k.sum()


def _cue_parallel_lines(image: np.ndarray) -> _Evidence:
    # Many long thin strokes of ONE direction: keep the stroke pixels whose gradient is perpendicular to the
    # dominant stroke direction, then average them along that direction (long lines survive, short texture
    # edges that happen to share the angle fade).
    img = _half(image)
    strokes = _thin_strokes(img) >= 7
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    ang, mag = _orientation(grey)
    sel = strokes & (mag > 30)
    if np.count_nonzero(sel) < 50:
        return _Evidence(strokes.astype(np.float32), floor=0.01, merge=True, pixel_level=0.5)
    bins = 36
    hist = np.bincount((ang[sel] * (bins / np.pi)).astype(np.int64) % bins, minlength=bins).astype(np.float64)
    hist = hist + 0.5 * (np.roll(hist, 1) + np.roll(hist, -1))
    # Axis-aligned orientations are scene geometry far more often than artifact (which is 10-35 deg off axis).
    hist[[0, bins // 2 - 1, bins // 2, bins - 1]] *= 0.5
    theta = (int(np.argmax(hist)) + 0.5) * np.pi / bins
    d = np.abs(ang - theta)
    d = np.minimum(d, np.pi - d)
    along = (sel & (d <= np.deg2rad(8))).astype(np.float32)
    line = cv2.filter2D(along, -1, _line_kernel(theta + np.pi / 2, 41), borderType=cv2.BORDER_CONSTANT)
    ev = along * (line >= 0.25)
    # Sparse: the lines thin out towards their far ends, so cells well below the densest still count
    # (measured: 0.08 took 3-4 more of 210 frames than 0.15 on two sets of seven seeds).
    return _Evidence(ev.astype(np.float32), floor=0.01, merge=True, pixel_level=0.5, rel=0.08)


#: Working size (longer side) of the line-segment detector: spikes stay 1-8 px wide, LSD takes ~20 ms.
_FAN_WORK = 960
#: Dark tones lifted (square root) before segment detection: the spikes are mostly dark on dark ground.
_LIFT = (255 * np.sqrt(np.arange(256) / 255)).astype(np.uint8)
_LSD: list = []  # the detector, made on first use
#: Stray shapes: apexes in cells within this many grey levels of the darkest cell count fully (measured: 3-8).
DARK_CELL_TOL = 5.0
#: Stray shapes: fans whose darker side is brighter than this (max channel) score less, as (FAN_DARK / it)^2.
FAN_DARK = 50.0


def _detect_segments(grey: np.ndarray, min_len: float) -> np.ndarray:
    """OpenCV's LSD on dark-lifted `grey`: float32 (n, 4) rows ``x0, y0, x1, y1`` at least `min_len` long."""
    if not _LSD:  # made on first use (cv2 builds 3.4.6-4.5.0 lack it)
        _LSD.append(cv2.createLineSegmentDetector(cv2.LSD_REFINE_NONE))
    found = _LSD[0].detect(cv2.LUT(np.ascontiguousarray(grey), _LIFT))[0]
    if found is None:
        return np.zeros((0, 4), np.float32)
    seg = found.reshape(-1, 4)
    return seg[np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]) >= min_len]


def _dark_cells(grey: np.ndarray, tolerance: float = DARK_CELL_TOL) -> list[tuple[int, int]]:
    """(row, column) of the cells of a 6x4 grid over `grey` within `tolerance` grey levels of the darkest one,
    darkest first.

    The stray-shape artifact starts in the clean frame's darkest cell; its dark spikes darken the cells they
    cross, so in the corrupted frame a neighbour may come out darkest by a few levels.
    """
    cells = cv2.resize(grey, (6, 4), interpolation=cv2.INTER_AREA).astype(np.float32)
    order = np.argsort(cells, axis=None, kind="stable")
    near = [int(i) for i in order if cells.flat[i] <= cells.flat[order[0]] + tolerance]
    return [(i // 6, i % 6) for i in near]


def _segments(image: np.ndarray, min_len: float = 20.0, keep: int = 400
              ) -> tuple[np.ndarray, np.ndarray, float]:
    """Straight segments of a frame (:func:`_detect_segments` on its grey at `_FAN_WORK` px).

    Returns
    -------
    segments, small, scale
        float32 (n, 4) rows ``x0, y0, x1, y1`` in `small`'s pixels (the `keep` longest of at least `min_len`),
        the RGB copy they were found on, and its size relative to the frame.
    """
    h, w = image.shape[:2]
    s = min(1.0, _FAN_WORK / max(h, w))
    small = resize_to(image, (max(1, round(w * s)), max(1, round(h * s)))) if s < 1 else image
    seg = _detect_segments(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), min_len)
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    return seg[np.argsort(length)[::-1][:keep]], small, s


def _darkest_cell_segments(image: np.ndarray, scale: float, margin: float = 0.08, min_len: float = 20.0
                           ) -> np.ndarray:
    """Segments found at full resolution around the frame's darkest cell of a 6x4 grid, in `scale` units.

    The fan starts in that cell, where its spikes are thinnest (0-2 px near the apex) and darkest: at the
    working size of :func:`_segments` they often vanish, so the apex never becomes a candidate.
    """
    h, w = image.shape[:2]
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    cy, cx = _dark_cells(grey, 0.0)[0]
    mx, my = int(margin * w), int(margin * h)
    x0, y0 = max(0, cx * w // 6 - mx), max(0, cy * h // 4 - my)
    x1, y1 = min(w, (cx + 1) * w // 6 + mx), min(h, (cy + 1) * h // 4 + my)
    seg = _detect_segments(grey[y0:y1, x0:x1], min_len)
    return ((seg + np.array([x0, y0, x0, y0], np.float32)) * scale).astype(np.float32)


def _side_colours(img: np.ndarray, seg: np.ndarray, samples: int = 12, offset: float = 1.6) -> np.ndarray:
    """Mean colour just left and right of each segment: float32 (n, 2, 3)."""
    p, d = seg[:, :2], seg[:, 2:] - seg[:, :2]
    u = d / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-6)[:, None]
    v = np.stack([-u[:, 1], u[:, 0]], 1)
    pts = p[:, None, :] + np.linspace(0.1, 0.9, samples)[None, :, None] * d[:, None, :]
    h, w = img.shape[:2]
    sides = []
    for sgn in (-1.0, 1.0):
        q = pts + sgn * offset * v[:, None, :]
        x = np.clip(np.rint(q[..., 0]).astype(np.int64), 0, w - 1)
        y = np.clip(np.rint(q[..., 1]).astype(np.int64), 0, h - 1)
        sides.append(img[y, x].astype(np.float32).mean(1))
    return np.stack(sides, 1)


def _apex_candidates(seg: np.ndarray, size: tuple[int, int], cell: int = 6, count: int = 150,
                     reach: float = 1.5) -> np.ndarray:
    """Points where pairs of segments meet *and both start*: the apexes a fan of spikes could have.

    Every pair of segments at least 2 degrees apart votes for its lines' intersection when it lies beyond
    the near end of both (within `reach` segment lengths: a spike's thin part near the apex is often missed);
    the `count` strongest local maxima of the vote (cells of `cell` px) are returned as float (k, 2) x, y.
    """
    n = len(seg)
    p, d = seg[:, :2], seg[:, 2:] - seg[:, :2]
    length = np.hypot(d[:, 0], d[:, 1])
    u = d / np.maximum(length, 1e-6)[:, None]
    i, j = np.triu_indices(n, 1)
    cross = u[i, 0] * u[j, 1] - u[i, 1] * u[j, 0]
    ok = np.abs(cross) >= np.sin(np.deg2rad(2.0))
    i, j, cross = i[ok], j[ok], cross[ok]
    dp = p[j] - p[i]
    ti = (dp[:, 0] * u[j, 1] - dp[:, 1] * u[j, 0]) / cross
    tj = (dp[:, 0] * u[i, 1] - dp[:, 1] * u[i, 0]) / cross
    gi = np.where(ti < 0, -ti, ti - length[i])
    gj = np.where(tj < 0, -tj, tj - length[j])
    good = (gi >= -2) & (gi <= reach * length[i] + 10) & (gj >= -2) & (gj <= reach * length[j] + 10)
    pts = p[i[good]] + ti[good, None] * u[i[good]]
    w, h = size
    pts = pts[(pts[:, 0] > -cell) & (pts[:, 0] < w + cell) & (pts[:, 1] > -cell) & (pts[:, 1] < h + cell)]
    if len(pts) == 0:
        return np.zeros((0, 2))
    gh, gw = h // cell + 3, w // cell + 3
    flat = ((pts[:, 1] + cell) // cell).astype(np.int64) * gw + ((pts[:, 0] + cell) // cell).astype(np.int64)

    def pooled(weights):
        grid = np.bincount(flat, weights=weights, minlength=gh * gw).reshape(gh, gw).astype(np.float32)
        return cv2.boxFilter(grid, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT).ravel()

    votes = pooled(None)
    peaks = np.flatnonzero((votes >= cv2.dilate(votes.reshape(gh, gw), np.ones((3, 3), np.uint8)).ravel())
                           & (votes >= 1))
    peaks = peaks[np.argsort(votes[peaks])[::-1][:count]]
    # Each apex: the mean of the votes around its peak (finer than the cell).
    return np.stack([pooled(pts[:, 0])[peaks], pooled(pts[:, 1])[peaks]], 1) / votes[peaks, None]


def _fan(image: np.ndarray, colour_tol: float = 20.0, dark_weight: float = 0.5, reach: float = 1.5):
    """The best fan of straight spikes from one point: ``(box, small, apex, ends)`` or None.

    A candidate apex (:func:`_apex_candidates`) gathers the segments that point away from it (their line
    passes within ~2.5 px, their near end faces it); of those, the ones sharing one side colour (the spikes
    are one colour) form the fan, which needs at least two directions 3 degrees apart. Score: the segment
    length per direction (capped, best five) times sqrt(min(directions, 3)), less where the fan's darker side
    is bright (:data:`FAN_DARK`); apexes outside the frame's darkest cells of a 6x4 grid (where this artifact
    starts; :func:`_dark_cells`) count `dark_weight` as much. The box spans the apex and the
    far ends, in `small`'s pixels; `apex` (x, y) and the spikes' far `ends` (k, 2) are in them too.
    """
    seg, small, s = _segments(image)
    if s < 1:  # the apex's surroundings again at full resolution (thin spike tips)
        seg = np.vstack([seg, _darkest_cell_segments(image, s)])
    if len(seg) < 2:
        return None
    h, w = small.shape[:2]
    apexes = _apex_candidates(seg, (w, h), reach=reach)
    if len(apexes) == 0:
        return None
    sides = _side_colours(small, seg)
    p, q, d = seg[:, :2], seg[:, 2:], seg[:, 2:] - seg[:, :2]
    length = np.hypot(d[:, 0], d[:, 1])
    u = d / np.maximum(length, 1e-6)[:, None]
    r = apexes[:, None, :] - p[None]
    t = (r * u[None]).sum(2)
    perp = np.abs(r[..., 0] * u[None, :, 1] - r[..., 1] * u[None, :, 0])
    gap = np.where(t < 0, -t, t - length[None])
    far = np.maximum(np.abs(t), np.abs(t - length[None]))
    radial = (gap >= -2) & (gap <= reach * length[None] + 10) & (perp <= 2.5 + 0.015 * far)
    dark = set(_dark_cells(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)))
    step = np.deg2rad(3.0)
    best = None
    for a, rad in zip(apexes, radial):
        sel = np.flatnonzero(rad)
        if len(sel) < 2:
            continue
        # The fan's colour: the side colour that the most radial length shares (on either side).
        cols = sides[sel].reshape(-1, 3)
        match = ((np.abs(cols[:, None] - sides[sel][None, :, 0]).max(2) <= colour_tol)
                 | (np.abs(cols[:, None] - sides[sel][None, :, 1]).max(2) <= colour_tol))
        sel = sel[match[int(np.argmax(match @ length[sel]))]]
        if len(sel) < 2:
            continue
        ends = np.where((np.hypot(*(p[sel] - a).T) > np.hypot(*(q[sel] - a).T))[:, None], p[sel], q[sel])
        ang = np.arctan2(ends[:, 1] - a[1], ends[:, 0] - a[0])
        order = np.argsort(ang)
        gaps = np.diff(np.concatenate([ang[order], ang[order][:1] + 2 * np.pi]))
        directions = int(np.sum(gaps > step))
        if directions < 2:
            continue
        cluster = np.concatenate([[0], np.cumsum(gaps[:-1] > step)])
        if gaps[-1] <= step:  # the last cluster wraps around to the first
            cluster[cluster == cluster.max()] = 0
        support = np.bincount(cluster, weights=length[sel][order])
        # More than three directions add nothing: perspective lines and mesh edges converge in many.
        score = float(np.sort(np.minimum(support, 150))[::-1][:5].sum()) * np.sqrt(min(directions, 3))
        # The spikes are usually dark (the generator's colours have every channel < 50 in 85% of draws):
        # a fan whose darker side is bright is more likely scene geometry.
        darker = float(np.median(sides[sel].max(2).min(1)))
        score *= min(1.0, FAN_DARK / (darker + 1.0)) ** 2
        cx, cy = min(5, max(0, int(a[0] * 6 / w))), min(3, max(0, int(a[1] * 4 / h)))
        score *= 1.0 if (cy, cx) in dark else dark_weight
        if best is None or score > best[0]:
            xs, ys = np.append(ends[:, 0], a[0]), np.append(ends[:, 1], a[1])
            box = (max(0, int(xs.min())), max(0, int(ys.min())), min(w, int(xs.max()) + 1), min(h, int(ys.max()) + 1))
            best = (score, box, a, ends)
    if best is None:
        return None
    _score, box, apex, ends = best
    return box, small, apex, ends


def _cue_shape(image: np.ndarray) -> _Evidence:
    # Thin spikes fanning out from one point: long straight segments that start at a common point (LSD +
    # pairwise intersections), not thin dark pixels (which every scene has plenty of).
    fan = _fan(image)
    if fan is None:
        img = _half(image)
        return _Evidence(np.zeros(img.shape[:2], np.float32), floor=1.0)
    box, small, apex, ends = fan
    ev = np.zeros(small.shape[:2], np.float32)
    for e in ends:  # the spikes, drawn for the heatmap
        cv2.line(ev, (int(apex[0]), int(apex[1])), (int(e[0]), int(e[1])), 1.0, 3)
    return _Evidence(ev, floor=0.0, merge=True, box=box)


def _colour_jumps(a: np.ndarray, b: np.ndarray, level: int = 60, spread: int = 20) -> np.ndarray:
    """Where neighbours `a` and `b` differ by >= `level` in some channel *and* not alike in all channels.

    `spread` is the least range (max - min) of the per-channel signed differences: random colours change the
    channels independently (and the hue with them); HUD text, foliage and ordinary edges mostly change the
    brightness, all channels together.
    """
    d = cv2.split(cv2.subtract(a, b, dtype=cv2.CV_16S))
    hi = cv2.max(cv2.max(d[0], d[1]), d[2])
    lo = cv2.min(cv2.min(d[0], d[1]), d[2])
    return (cv2.max(hi, cv2.multiply(lo, -1)) >= level) & (cv2.subtract(hi, lo) >= spread)


def _cue_line_pixelation(image: np.ndarray) -> _Evidence:
    img = _half(image)
    jumps = np.zeros(img.shape[:2], bool)
    jumps[:, 1:] |= _colour_jumps(img[:, 1:], img[:, :-1])
    jumps[1:] |= _colour_jumps(img[1:], img[:-1])
    # Colour noise is dense in jumps; an ordinary hard edge is a 1-px line of them.
    density = _density(jumps, 5)
    # Boxes from the dense core only: at 0.3 the thin bands' boxes took in the scene texture beside them.
    # The core then misses the band's sparser parts (blocks left unpainted, colours near the scene's); the
    # band is a run of whole rows or columns, so the box is regrown along the density profiles.
    return _Evidence(density ** 2, floor=0.01, merge=False, pixel_level=0.5,
                     refine=lambda box: _band_extent(density, box))


def _dense_run(profile: np.ndarray, lo: int, hi: int, share: float, gap: int = BAND_GAP) -> tuple[int, int]:
    """The run of entries around the densest one in ``profile[lo:hi]`` that stay >= `share` of it (5-smoothed),
    across dips shorter than `gap` entries (blocks left unpainted, dark blocks on a dark scene)."""
    prof = np.convolve(profile, np.ones(5, np.float32) / 5, mode="same")
    peak = lo + int(np.argmax(prof[lo:hi])) if hi > lo else int(np.argmax(prof))
    ok = prof >= share * prof[peak]
    ok = cv2.morphologyEx(ok.astype(np.uint8)[None, :], cv2.MORPH_CLOSE, np.ones((1, gap), np.uint8)).ravel() > 0
    # First index of each run of "ok" and of "not ok"; the run holding the peak is between two changes.
    not_ok = np.flatnonzero(~ok)
    start = int(not_ok[not_ok < peak].max()) + 1 if np.any(not_ok < peak) else 0
    stop = int(not_ok[not_ok > peak].min()) if np.any(not_ok > peak) else len(ok)
    return start, stop


def _band_extent(density: np.ndarray, box: tuple[int, int, int, int], share: float = BAND_SHARE
                 ) -> tuple[int, int, int, int]:
    """A band's box: the rows where the jump density (over the box's columns) stays >= `share` of its peak,
    then the columns over those rows likewise (measured: 0.15-0.2 alike, 0.5 far worse; gaps of 9-17 bridged
    alike, 33 worse; bridged only along the band: 173 -> 179 of 210 over seven seeds)."""
    x0, y0, x1, y1 = box
    # Gaps are bridged only along the band: across it the stripes are adjacent, and a gap there is the scene.
    horizontal = (x1 - x0) >= (y1 - y0)
    y0, y1 = _dense_run(density[:, x0:x1].mean(axis=1), y0, y1, share, 1 if horizontal else BAND_GAP)
    x0, x1 = _dense_run(density[y0:y1].mean(axis=0), x0, x1, share, BAND_GAP if horizontal else 1)
    return x0, y0, x1, y1


def _diagonal_edges(img: np.ndarray, level: float = 8.0, tol: float = 12.0) -> np.ndarray:
    """Edge pixels whose gradient points within `tol` degrees of a diagonal (45 or 135 degrees).

    `level` is the step in grey levels (Sobel magnitude / 4).
    """
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    mag, ang = cv2.cartToPolar(gx, gy, angleInDegrees=True)
    return (mag >= 4 * level) & (np.abs(np.mod(ang, 90.0) - 45.0) <= tol)


def _cue_triangulation(image: np.ndarray) -> _Evidence:
    img = _half(image)
    dx = _chmax(cv2.absdiff(img[:, 1:], img[:, :-1]))
    dy = _chmax(cv2.absdiff(img[1:], img[:-1]))
    flat = np.zeros(img.shape[:2], np.uint8)
    flat[:-1, :-1] = (dx[:-1] <= 2) & (dy[:, :-1] <= 2)
    # Every cell of the mesh is cut by its two diagonals: flat patches bounded by diagonal edges. Scene
    # geometry (UI, pixel art, buildings, flat sky against anything) is mostly axis-aligned; any edge next to
    # a flat area made the old cue fire all over such frames.
    ev = _density(flat, 15) * _density(_diagonal_edges(img), 15) * 4
    return _Evidence(ev.astype(np.float32), floor=0.005, merge=True, pixel_level=0.5)


def _cue_shader(image: np.ndarray) -> _Evidence:
    img = _half(image)
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    # Per channel (max): texture of equal brightness but other hue (foliage, brick) is texture too.
    lap = _chmax(np.abs(cv2.Laplacian(img.astype(np.float32), cv2.CV_32F, ksize=3)))
    texture = cv2.boxFilter(lap, -1, (15, 15))
    # The blend is smooth but never flat: exactly flat areas (flat backgrounds, UI panels) are scene.
    slope = cv2.boxFilter(np.abs(cv2.Sobel(grey, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1)),
                          -1, (15, 15))
    smooth = ((texture < 12) & (slope >= 1.5)).astype(np.float32)
    return _Evidence(smooth, floor=0.1, merge=True, pixel_level=0.5)


def _seam_profile(grey: np.ndarray, axis: int) -> np.ndarray:
    """Mean absolute step across each row boundary (axis 0) or column boundary (axis 1), ratio to its context."""
    d = np.abs(np.diff(grey, axis=axis)).mean(axis=1 - axis)
    base = cv2.medianBlur(d.astype(np.float32).reshape(-1, 1), 5).ravel() if d.size >= 5 else d
    # Neighbouring steps measure the local texture; a seam stands out from both sides.
    return d / (np.maximum(base, 1.0) + 2.0)


def _cue_screen_tearing(image: np.ndarray) -> _Evidence:
    img = _half(image)
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    h, w = grey.shape
    rows, cols = _seam_profile(grey, 0), _seam_profile(grey, 1)
    m = max(2, int(0.05 * min(h, w)))  # a tear lies within r in [0.1, 0.9]; avoid the borders
    rows[:m] = rows[-m:] = 0
    cols[:m] = cols[-m:] = 0
    ev = np.zeros((h, w), np.float32)
    if rows.max() >= cols.max():
        y = int(np.argmax(rows)) + 1
        ev[:y] = 1.0
        box = (0, 0, w, y)
    else:
        x = int(np.argmax(cols)) + 1
        ev[:, :x] = 1.0
        box = (0, 0, x, h)
    return _Evidence(ev, floor=0.5, merge=True, box=box)


def _cue_screen_stuttering(image: np.ndarray) -> _Evidence:
    # Full resolution: the swap test compares 1-px seams at exact multiples of the block size.
    pairs = swapped_pairs(image)
    if pairs:
        h, w = image.shape[:2]
        ev = np.zeros((h, w), np.float32)
        boxes = []
        for axis, start, stop, score in pairs:
            part = (slice(None), slice(start, stop)) if axis == 1 else (slice(start, stop),)
            ev[part] = np.maximum(ev[part], score)
            boxes.append((start, 0, stop, h) if axis == 1 else (0, start, w, stop))
        x0, y0, x1, y1 = np.array(boxes).T
        return _Evidence(ev, floor=0.0, merge=True, box=(int(x0.min()), int(y0.min()), int(x1.max()), int(y1.max())))
    img = _half(image)
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    h, w = grey.shape
    ev = np.zeros((h, w), np.float32)
    rows, cols = _seam_profile(grey, 0), _seam_profile(grey, 1)
    ev[1:][rows >= 3] = 1.0
    ev[:, 1:][:, cols >= 3] = 1.0
    return _Evidence(ev, floor=0.0, merge=True, box=(0, 0, w, h))


#: Evidence function per artifact class.
CUES: dict[str, Callable[[np.ndarray], _Evidence]] = {
    "shader": _cue_shader,
    "shape": _cue_shape,
    "discoloration": _cue_discoloration,
    "morse_code": _cue_morse_code,
    "dotted_line": _cue_dotted_line,
    "parallel_lines": _cue_parallel_lines,
    "triangulation": _cue_triangulation,
    "line_pixelation": _cue_line_pixelation,
    "screen_stuttering": _cue_screen_stuttering,
    "screen_tearing": _cue_screen_tearing,
}
assert set(CUES) == set(ARTIFACT_NAMES)


# ------------------------------------------------------------------------------------------------ public API
def grid_shape(width: int, height: int, long_side: int = GRID_LONG_SIDE) -> tuple[int, int]:
    """Heatmap (rows, cols) for a frame: about `long_side` cells along its longer side, square-ish cells."""
    cell = max(width, height) / long_side
    return max(1, int(round(height / cell))), max(1, int(round(width / cell)))


def evidence_map(image: np.ndarray, label: str) -> np.ndarray:
    """The raw per-pixel evidence of one class (float32, 0 = normal; may be at half resolution)."""
    if label not in CUES:
        raise ValueError(f"unknown artifact {label!r}; expected one of {', '.join(CUES)}")
    return CUES[label](validate_image(image)).emap


def heatmap_to_frame(heatmap: np.ndarray, width: int, height: int) -> np.ndarray:
    """A heatmap upsampled to frame size (float32 (height, width), bilinear), e.g. for an overlay."""
    return cv2.resize(np.asarray(heatmap, np.float32), (int(width), int(height)), interpolation=cv2.INTER_LINEAR)


def _box_from_pixels(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    if ys.size == 0:
        return None
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def regions_from_heatmap(heat: np.ndarray, label: str, frame_size: tuple[int, int], *,
                         rel_threshold: float = REL_THRESHOLD, max_regions: int = 3, merge: bool = False,
                         emap: np.ndarray | None = None, pixel_level: float = 0.5,
                         min_heat: float = 0.0, keep: float = 0.15):
    """Threshold a heatmap into regions (boxes in frame pixels), best first.

    Cells at or above ``rel_threshold * max`` form 8-connected components (all of them one region when
    `merge`); each region's box is its cells' extent, tightened to the evidence pixels of `emap` (any
    resolution covering the frame) inside it at ``pixel_level * max`` or above when given. The score is the
    region's peak heat.
    """
    from artifactscope.scan import Region  # lazy: scan imports this module's users

    width, height = frame_size
    rows, cols = heat.shape
    peak = float(heat.max()) if heat.size else 0.0
    if peak <= min_heat or peak <= 0:
        return []
    cells = (heat >= rel_threshold * peak).astype(np.uint8)
    n, labels = cv2.connectedComponents(cv2.dilate(cells, np.ones((3, 3), np.uint8)), connectivity=8)
    labels = labels * cells
    if merge and n > 1:
        # One region from every component carrying a fair share of the evidence; small specks elsewhere
        # (scene pixels that happen to look alike) are left out.
        mass = np.bincount(labels.ravel(), weights=heat.ravel(), minlength=n)[1:]
        kept = np.flatnonzero(mass >= keep * mass.max()) + 1
        cells = np.isin(labels, kept).astype(np.uint8)
        labels = cells.astype(np.int32)
        n = 2
    found = []
    for k in range(1, n):
        comp = labels == k
        if not comp.any():
            continue
        mass = float(heat[comp].sum())
        ys, xs = np.flatnonzero(comp.any(axis=1)), np.flatnonzero(comp.any(axis=0))
        # Cell box in frame pixels, one cell of margin for the pixel refinement.
        cx0, cx1 = max(0, xs[0] - 1), min(cols, xs[-1] + 2)
        cy0, cy1 = max(0, ys[0] - 1), min(rows, ys[-1] + 2)
        box = (int(xs[0] * width / cols), int(ys[0] * height / rows),
               int(np.ceil((xs[-1] + 1) * width / cols)), int(np.ceil((ys[-1] + 1) * height / rows)))
        if emap is not None and emap.size:
            eh, ew = emap.shape
            sx, sy = ew / cols, eh / rows
            ex0, ex1 = int(cx0 * sx), int(np.ceil(cx1 * sx))
            ey0, ey1 = int(cy0 * sy), int(np.ceil(cy1 * sy))
            sub = emap[ey0:ey1, ex0:ex1]
            # Evidence pixels of cells in this component only (the margin may hold another component's).
            cellmask = cv2.resize(comp[cy0:cy1, cx0:cx1].astype(np.uint8) | (cells[cy0:cy1, cx0:cx1] == 0),
                                  (sub.shape[1], sub.shape[0]), interpolation=cv2.INTER_NEAREST)
            if merge:
                cellmask = cv2.resize(cells[cy0:cy1, cx0:cx1], (sub.shape[1], sub.shape[0]),
                                      interpolation=cv2.INTER_NEAREST)
                cellmask = cv2.dilate(cellmask, np.ones((3, 3), np.uint8), iterations=max(1, int(sx)))
            smax = float(sub.max()) if sub.size else 0.0
            if smax > 0:
                pix = (sub >= pixel_level * smax) & (cellmask > 0)
                tight = _box_from_pixels(pix)
                if tight is not None:
                    fx, fy = width / ew, height / eh
                    box = (int((ex0 + tight[0]) * fx), int((ey0 + tight[1]) * fy),
                           min(width, int(np.ceil((ex0 + tight[2]) * fx))),
                           min(height, int(np.ceil((ey0 + tight[3]) * fy))))
        found.append((mass, float(heat[comp].max()), box))
    found.sort(key=lambda t: -t[0])
    return [Region(label=label, score=round(score, 4), box=tuple(int(v) for v in box))
            for _, score, box in found[:max_regions]]


def _best_label(image: np.ndarray, model) -> str:
    ens = model.ensemble
    verdict = ens.decide(ens.predict_proba(extract(image)[None, :]))
    return str(verdict.labels[0])


def localize(image: np.ndarray, model=None, label: str | None = None, *, max_regions: int = 3,
             score: float | None = None) -> Localization:
    """Heatmap and regions of one artifact class in a frame.

    Parameters
    ----------
    image : numpy.ndarray
        RGB uint8 (H, W, 3) frame.
    model : ModelBundle, optional
        Used only when `label` is None, to decide the frame's label (a frame the model calls clean gets an
        empty localisation).
    label : str, optional
        The artifact to localise (the frame's verdict, as scan passes it).
    max_regions : int
        At most this many regions, best first.
    score : float, optional
        The frame's corruption probability; region scores are multiplied by it (so a region's score is never
        above the frame's), else they are the region's peak heat.

    Returns
    -------
    Localization
    """
    image = validate_image(image)
    height, width = image.shape[:2]
    rows, cols = grid_shape(width, height)
    if label is None:
        if model is None:
            raise ValueError("give the artifact label to localise, or a model to decide it")
        label = _best_label(image, model)
    if label == CLEAN:
        return Localization(CLEAN, np.zeros((rows, cols), np.float32), [], (rows, cols), (width, height))
    if label not in CUES:
        raise ValueError(f"unknown artifact {label!r}; expected one of {', '.join(CUES)}")
    ev = CUES[label](image)
    pooled = cv2.resize(ev.emap, (cols, rows), interpolation=cv2.INTER_AREA)
    peak = float(pooled.max())
    if ev.box is not None:
        eh, ew = ev.emap.shape
        bx0, by0, bx1, by1 = ev.box
        fx, fy = width / ew, height / eh
        box = (int(bx0 * fx), int(by0 * fy), min(width, int(np.ceil(bx1 * fx))), min(height, int(np.ceil(by1 * fy))))
        heat = (pooled / peak).astype(np.float32) if peak > 0 else np.zeros((rows, cols), np.float32)
        from artifactscope.scan import Region

        s = 1.0 if score is None else float(score)
        return Localization(label, heat, [Region(label, round(s, 4), box)], (rows, cols), (width, height))
    if peak < ev.floor or peak <= 0:
        return Localization(label, np.zeros((rows, cols), np.float32), [], (rows, cols), (width, height))
    heat = np.clip(pooled / peak, 0.0, 1.0).astype(np.float32)
    regions = regions_from_heatmap(heat, label, (width, height), max_regions=max_regions, merge=ev.merge,
                                   emap=ev.emap, pixel_level=ev.pixel_level, rel_threshold=ev.rel,
                                   keep=ev.keep)
    if ev.refine is not None:
        eh, ew = ev.emap.shape
        fx, fy = width / ew, height / eh
        refined = []
        for r in regions:
            x0, y0, x1, y1 = r.box
            b = ev.refine((int(x0 / fx), int(y0 / fy), max(int(x0 / fx) + 1, int(np.ceil(x1 / fx))),
                           max(int(y0 / fy) + 1, int(np.ceil(y1 / fy)))))
            box = (int(b[0] * fx), int(b[1] * fy),
                   min(width, int(np.ceil(b[2] * fx))), min(height, int(np.ceil(b[3] * fy))))
            if all(box != other.box for other in refined):  # two regions may grow into the same band
                refined.append(replace(r, box=box))
        regions = refined
    if score is not None:
        regions = [replace(r, score=round(float(r.score) * float(score), 4)) for r in regions]
    return Localization(label, heat, regions, (rows, cols), (width, height))
