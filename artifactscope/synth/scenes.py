"""Procedural game-like clean frames.

A quick stand-in for real captures: used by the tests and as a fallback clean source when no renderer or
capture folder is available. The scenes are crude but have what the detectors must not confuse with artifacts:
gradients, textured terrain, straight edges, windows in a grid, text and a HUD.
"""

from __future__ import annotations

import numpy as np
import cv2

__all__ = ["procedural_frame"]

# (sky top, sky horizon, terrain base) RGB per time of day; jittered per frame.
_PALETTES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]] = {
    "day": ((40, 110, 210), (170, 210, 245), (70, 140, 60)),
    "sunset": ((60, 40, 110), (250, 150, 80), (90, 80, 50)),
    "night": ((5, 8, 25), (30, 40, 80), (20, 35, 30)),
    "overcast": ((120, 125, 135), (195, 195, 200), (95, 110, 85)),
    "desert": ((90, 150, 220), (235, 215, 180), (200, 160, 100)),
    "alien": ((30, 10, 40), (150, 60, 140), (60, 30, 90)),
}


def _jitter(rng: np.random.Generator, colour: tuple[int, int, int], amount: int) -> np.ndarray:
    return np.clip(np.asarray(colour, np.float32) + rng.uniform(-amount, amount, 3), 0, 255)


def _noise_texture(rng: np.random.Generator, height: int, width: int, cell: int) -> np.ndarray:
    """Smooth value noise in [-1, 1], (H, W) float32: drawn coarse and upsampled, which is cheap."""
    small = rng.uniform(-1.0, 1.0, (max(2, height // cell), max(2, width // cell))).astype(np.float32)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def procedural_frame(rng: np.random.Generator, width: int = 960, height: int = 540) -> np.ndarray:
    """Render a random game-like clean frame.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness; the same state gives the same frame.
    width, height : int
        Frame size in pixels (at least 32 x 32).

    Returns
    -------
    numpy.ndarray
        uint8 RGB image of shape (height, width, 3): a sky gradient, layered hills with a noise texture, a few
        buildings / trees / crates, and a HUD strip with text and a health bar.
    """
    if width < 32 or height < 32:
        raise ValueError(f"procedural_frame needs at least 32x32 pixels, got {width}x{height}")
    h, w = int(height), int(width)
    s = min(h / 540.0, w / 960.0)
    tod = list(_PALETTES)[rng.integers(len(_PALETTES))]
    top, horizon, ground = (_jitter(rng, c, 25) for c in _PALETTES[tod])

    # Sky: vertical gradient, with fine grain so that shifted copies of it differ (real renders are not flat).
    horizon_y = int(h * rng.uniform(0.35, 0.7))
    t = np.clip(np.arange(h, dtype=np.float32) / max(horizon_y, 1), 0, 1)[:, None] ** rng.uniform(0.6, 1.6)
    rows = np.clip(top * (1 - t) + horizon * t - 3, 0, 250).astype(np.uint8)  # (h, 3)
    img = cv2.resize(rows[:, None, :], (w, h), interpolation=cv2.INTER_NEAREST)
    grain = rng.integers(0, 7, (h, w), dtype=np.uint8)
    img = cv2.add(img, cv2.merge([grain, grain, grain]))

    if tod in ("night", "alien"):  # stars
        n = int(rng.integers(20, 120) * s * s) + 5
        ys, xs = rng.integers(0, horizon_y, n), rng.integers(0, w, n)
        img[ys, xs] = rng.integers(160, 256, (n, 1))
    body = (int(rng.integers(0, w)), int(rng.integers(0, max(horizon_y // 2, 1))))
    body_col = (250, 240, 200) if tod != "night" else (220, 220, 235)
    cv2.circle(img, body, max(3, int(rng.uniform(12, 40) * s)), body_col, -1, cv2.LINE_AA)

    # Terrain: 2-4 hill layers, far ones lighter (aerial perspective), each with its own noise texture.
    xs = np.arange(w, dtype=np.float32)
    n_layers = int(rng.integers(2, 5))
    terrain = np.zeros((h, w), np.uint8)
    y_top = h - 1
    for k in range(n_layers):
        depth = (k + 1) / n_layers
        base = horizon_y + (h - horizon_y) * 0.35 * depth
        prof = np.full(w, base, np.float32)
        for _ in range(3):
            prof += rng.uniform(5, 50) * s * np.sin(xs / (w * rng.uniform(0.05, 0.5)) + rng.uniform(0, 6.3))
        pts = np.concatenate([np.stack([xs, prof], 1)[:: max(1, w // 120)], [[w - 1, h], [0, h]]]).astype(np.int32)
        col = np.clip(ground * (0.6 + 0.5 * depth) * rng.uniform(0.8, 1.1) + horizon * 0.35 * (1 - depth), 0, 255)
        y_top = min(y_top, int(np.clip(prof.min(), 0, h - 1)))
        cv2.fillPoly(img, [pts], col.tolist())
        cv2.fillPoly(terrain, [pts], 255)
    # One texture pass over all layers (two octaves of value noise), only on the rows terrain can cover.
    rows_h = h - y_top
    tex = 0.12 * _noise_texture(rng, rows_h, w, max(3, int(rng.integers(8, 30) * s)))
    tex += 0.08 * _noise_texture(rng, rows_h, w, max(2, int(rng.integers(2, 6) * s)))
    sub = img[y_top:]
    shaded = np.clip(sub * (1 + tex[:, :, None]), 0, 255).astype(np.uint8)
    np.copyto(sub, shaded, where=terrain[y_top:, :, None] > 0)

    # Props standing on the ground: buildings with window grids, trees, crates.
    for _ in range(int(rng.integers(2, 9))):
        kind = rng.choice(["building", "tree", "crate"], p=[0.4, 0.4, 0.2])
        x = int(rng.integers(0, w))
        y = int(np.clip(horizon_y + rng.uniform(0.05, 0.5) * (h - horizon_y), 0, h - 1))
        sz = max(6, int(rng.uniform(30, 140) * s))
        if kind == "building":
            bw, bh = sz, int(sz * rng.uniform(0.8, 2.5))
            wall = rng.uniform(40, 200, 3)
            cv2.rectangle(img, (x, y - bh), (x + bw, y), wall.tolist(), -1)
            lit = rng.uniform(150, 255, 3) if tod in ("night", "sunset") else wall * 0.45
            step = max(4, sz // 5)
            for wy in range(y - bh + step // 2, y - step // 2, step):
                for wx in range(x + step // 3, x + bw - step // 2, step):
                    if rng.random() < 0.8:
                        cv2.rectangle(img, (wx, wy), (wx + step // 2, wy + step // 2), lit.tolist(), -1)
        elif kind == "tree":
            trunk = max(2, sz // 8)
            cv2.rectangle(img, (x - trunk // 2, y - sz // 2), (x + trunk // 2, y), (90, 60, 35), -1)
            leaf = (rng.uniform(20, 90), rng.uniform(90, 180), rng.uniform(20, 80))
            tri = np.array([[x - sz // 2, y - sz // 3], [x + sz // 2, y - sz // 3], [x, y - int(sz * 1.3)]], np.int32)
            cv2.fillPoly(img, [tri], leaf, cv2.LINE_AA)
        else:
            c = rng.uniform(90, 200, 3)
            cv2.rectangle(img, (x, y - sz // 2), (x + sz // 2, y), c.tolist(), -1)
            cv2.rectangle(img, (x, y - sz // 2), (x + sz // 2, y), (c * 0.5).tolist(), max(1, sz // 20))
            cv2.line(img, (x, y - sz // 2), (x + sz // 2, y), (c * 0.5).tolist(), max(1, sz // 20))

    # HUD strip (top or bottom): translucent bar, score text, health bar.
    hud_h = max(12, int(h * rng.uniform(0.06, 0.1)))
    y0 = 0 if rng.random() < 0.5 else h - hud_h
    img[y0:y0 + hud_h] = (img[y0:y0 + hud_h] * 0.35).astype(np.uint8)
    font_scale = max(0.3, hud_h / 45.0)
    text_col = tuple(float(v) for v in rng.choice([[255, 255, 255], [255, 220, 80], [120, 255, 120]]))
    base_y = y0 + int(hud_h * 0.72)
    label = rng.choice(["SCORE", "PTS", "GOLD", "XP"])
    cv2.putText(img, f"{label} {int(rng.integers(0, 99999)):05d}", (int(8 * s) + 2, base_y),
                cv2.FONT_HERSHEY_SIMPLEX, font_scale, text_col, 1, cv2.LINE_AA)
    bar_w, bar_h = int(w * rng.uniform(0.15, 0.3)), max(3, hud_h // 3)
    bx, by = w - bar_w - int(10 * s) - 2, y0 + (hud_h - bar_h) // 2
    cv2.rectangle(img, (bx, by), (bx + bar_w, by + bar_h), (60, 20, 20), -1)
    cv2.rectangle(img, (bx, by), (bx + int(bar_w * rng.uniform(0.1, 1.0)), by + bar_h), (220, 40, 40), -1)
    cv2.rectangle(img, (bx, by), (bx + bar_w, by + bar_h), (240, 240, 240), 1)
    cv2.putText(img, "HP", (bx - int(hud_h * 0.9), base_y), cv2.FONT_HERSHEY_SIMPLEX, font_scale * 0.8,
                text_col, 1, cv2.LINE_AA)
    return img
