"""``sprites2d``: 2D platformer scenes drawn with pygame (dummy video driver, no display) from the CC0 Kenney
sprites and tiles shipped inside the ``arcade`` wheel.

A level (a few hundred tile columns) is generated from the seed: terrain heights with cliffs, gaps of water or
lava, floating platforms, decorations, coins/gems, enemies and the player, over a sky gradient or a parallax
background; a HUD shows score, coins, lives and time. Frames look at random scroll positions; a clip scrolls
horizontally. Deterministic for a seed.
"""

from __future__ import annotations

import os
from typing import Iterator, Sequence

import numpy as np

from ._base import INSTALL_HINT, Size, SourceUnavailable, check_size, child_seed, pick_size

NAME = "sprites2d"
_SETS = ("grass", "dirt", "sand", "snow", "stone", "planet")
_DECOR = {"grass": ["bush", "rock", "mushroomRed", "plantPurple", "grass_sprout", "signRight"],
          "dirt": ["bush", "rock", "mushroomRed", "boxCrate", "torch1"],
          "sand": ["cactus", "rock", "boxCrate", "signRight"],
          "snow": ["snow_pile", "rock", "boxCrate_double", "signExit"],
          "stone": ["torch1", "boxCrate", "rock", "spikes", "leverLeft"],
          "planet": ["plantPurple", "rock", "mushroomRed", "spikes"]}
_ENEMIES = ["bee", "fly", "frog", "ladybug", "mouse", "slimeBlue", "slimeGreen", "slimePurple", "wormGreen",
            "wormPink", "saw"]
_ITEMS = ["coinGold", "coinSilver", "coinBronze", "gemBlue", "gemGreen", "gemRed", "gemYellow", "star", "keyBlue"]
_CHARS = ["female_adventurer/femaleAdventurer", "female_person/femalePerson", "male_adventurer/maleAdventurer",
          "male_person/malePerson", "robot/robot", "zombie/zombie"]


def _assets() -> str:
    try:
        import arcade  # noqa: F401  (only its resource folder is used)
        base = os.path.dirname(arcade.__file__)
    except Exception:
        import importlib.util

        spec = importlib.util.find_spec("arcade")
        if spec is None or not spec.submodule_search_locations:
            raise SourceUnavailable(NAME, f"arcade (for the Kenney sprites) is not installed: {INSTALL_HINT}") from None
        base = list(spec.submodule_search_locations)[0]
    d = os.path.join(base, "resources", "assets", "images")
    if not os.path.isdir(os.path.join(d, "tiles")):
        raise SourceUnavailable(NAME, f"the arcade package has no sprite folder at {d}")
    return d


def _pygame():
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        import pygame
    except ImportError as e:
        raise SourceUnavailable(NAME, f"pygame is not installed ({e}): {INSTALL_HINT}") from None
    if not pygame.font.get_init():
        pygame.font.init()
    return pygame


class _Art:
    """Loads and caches scaled sprites."""

    def __init__(self):
        self.pg = _pygame()
        self.dir = _assets()
        self._raw: dict[str, object] = {}
        self._scaled: dict[tuple, object] = {}
        self._fonts: dict[int, object] = {}

    def raw(self, rel: str):
        s = self._raw.get(rel)
        if s is None:
            s = self.pg.image.load(os.path.join(self.dir, rel))
            self._raw[rel] = s
        return s

    def get(self, rel: str, w: int, h: int | None = None, flip: bool = False):
        key = (rel, w, h, flip)
        s = self._scaled.get(key)
        if s is None:
            r = self.raw(rel)
            if h is None:
                h = max(1, round(r.get_height() * w / r.get_width()))
            s = self.pg.transform.smoothscale(r, (max(1, w), max(1, h)))
            if flip:
                s = self.pg.transform.flip(s, True, False)
            self._scaled[key] = s
        return s

    def exists(self, rel: str) -> bool:
        return os.path.exists(os.path.join(self.dir, rel))

    def font(self, size: int):
        f = self._fonts.get(size)
        if f is None:
            f = self.pg.font.Font(None, size)
            self._fonts[size] = f
        return f


_ART: _Art | None = None


def _art() -> _Art:
    global _ART
    if _ART is None:
        _ART = _Art()
    return _ART


class _Level:
    def __init__(self, rng: np.random.Generator, art: _Art):
        self.rng = rng
        self.set = str(rng.choice(_SETS))
        n = 260
        self.n = n
        self.rows = int(rng.integers(9, 14))          # visible tile rows
        h = np.zeros(n, int)
        cur = int(rng.integers(2, 4))
        i = 0
        self.gap = np.zeros(n, bool)
        while i < n:
            run = int(rng.integers(3, 10))
            h[i:i + run] = cur
            if rng.random() < 0.18 and i > 6:
                g = int(rng.integers(2, 4))
                self.gap[i:i + g] = True
                i += g
            i += run
            cur = int(np.clip(cur + rng.integers(-2, 3), 1, self.rows // 2))
        self.h = h
        self.liquid = str(rng.choice(["water", "lava"])) if self.set != "snow" else "water"
        self.platforms = []
        for _ in range(n // 6):
            x = int(rng.integers(0, n - 4))
            self.platforms.append((x, int(rng.integers(2, 5)), int(h[x] + rng.integers(3, 5))))
        self.decor = [(int(x), str(rng.choice(_DECOR[self.set]))) for x in rng.choice(n, n // 4, replace=False)]
        self.items = []
        for _ in range(n // 3):
            x = int(rng.integers(0, n))
            self.items.append((x, float(h[x] + rng.integers(1, 4)), str(rng.choice(_ITEMS[:3] if rng.random() < 0.7 else _ITEMS))))
        for (px, pw, py) in self.platforms:
            if rng.random() < 0.5:
                for k in range(pw):
                    self.items.append((px + k, float(py + 1), "coinGold"))
        self.enemies = [(int(x), str(rng.choice(_ENEMIES)), bool(rng.random() < 0.5))
                        for x in rng.choice(n, n // 10, replace=False)]
        self.char = str(rng.choice(_CHARS))
        self.bg = str(rng.choice(["sky", "sky", "cybercity", "miami", "stars"]))
        top = np.array([[90, 170, 240], [40, 60, 140], [250, 160, 110], [120, 200, 230], [20, 20, 50]])[int(rng.integers(5))]
        self.sky_top = np.clip(top + rng.integers(-20, 20, 3), 0, 255)
        self.sky_bot = np.clip(self.sky_top * 0.4 + np.array([255, 240, 220]) * 0.6 + rng.integers(-20, 20, 3), 0, 255)
        self.hills = [(float(rng.uniform(0, 1)), float(rng.uniform(0.1, 0.3)),
                       tuple(int(v) for v in np.clip(rng.integers(60, 160, 3) * np.array([0.6, 1, 0.7]), 0, 255)))
                      for _ in range(int(rng.integers(3, 9)))]
        self.hud = dict(score=int(rng.integers(0, 99999)), coins=int(rng.integers(0, 99)),
                        lives=int(rng.integers(1, 6)), time=int(rng.integers(10, 400)),
                        world=f"{int(rng.integers(1, 9))}-{int(rng.integers(1, 5))}",
                        style=int(rng.integers(3)), col=[(255, 255, 255), (255, 230, 90), (20, 20, 30)][int(rng.integers(3))])


def _draw(level: _Level, art: _Art, W: int, H: int, scroll_px: float):
    pg = art.pg
    surf = pg.Surface((W, H))
    T = max(8, int(round(H / level.rows)))
    # background
    if level.bg in ("cybercity", "miami", "stars"):
        if level.bg == "cybercity":
            layers = ["cybercity_background/far-buildings.png", "cybercity_background/back-buildings.png",
                      "cybercity_background/foreground.png"]
        elif level.bg == "miami":
            layers = ["miami_synth_parallax/layers/back.png", "miami_synth_parallax/layers/sun.png",
                      "miami_synth_parallax/layers/buildings.png", "miami_synth_parallax/layers/palms.png"]
        else:
            layers = ["backgrounds/stars.png"]
        for k, rel in enumerate(layers):
            r = art.raw(rel)
            sh = H
            sw = max(1, round(r.get_width() * sh / r.get_height()))
            img = art.get(rel, sw, sh)
            off = int(scroll_px * (0.1 + 0.2 * k)) % sw
            x = -off
            while x < W:
                surf.blit(img, (x, 0))
                x += sw
    else:
        t = np.linspace(0, 1, H)[:, None]
        col = (level.sky_top[None, :] * (1 - t) + level.sky_bot[None, :] * t).astype(np.uint8)
        arr = np.broadcast_to(col[None, :, :], (W, H, 3))
        pg.surfarray.blit_array(surf, np.ascontiguousarray(arr))
        for cx, r, colr in level.hills:
            px = int((cx * W * 2 - scroll_px * 0.3) % (W * 2)) - W // 2
            pg.draw.circle(surf, colr, (px, H - int(T * 1.5)), int(r * H * 1.6))
    # terrain
    s = level.set
    x0 = int(scroll_px // T)
    off = int(scroll_px - x0 * T)
    cols = W // T + 2

    def tile(name, cx, row):
        rel = f"tiles/{name}.png"
        if not art.exists(rel):
            rel = f"tiles/{s}.png"
        surf.blit(art.get(rel, T, T), (cx * T - off, H - (row + 1) * T))

    for c in range(cols):
        i = x0 + c
        if i < 0 or i >= level.n:
            continue
        if level.gap[i]:
            tile(f"{level.liquid}Top_low" if level.liquid != "lava" else "lavaTop_low", c, 0)
            continue
        h = level.h[i]
        for r in range(h - 1):
            tile(f"{s}Center", c, r)
        left = i == 0 or level.gap[i - 1] or level.h[i - 1] < h
        right = i == level.n - 1 or level.gap[i + 1] or level.h[i + 1] < h
        name = f"{s}Left" if left and not right else f"{s}Right" if right and not left else f"{s}Mid"
        tile(name, c, h - 1)
    for px, pw, py in level.platforms:
        for k in range(pw):
            c = px + k - x0
            if 0 <= c < cols:
                nm = f"{s}Half_left" if k == 0 else f"{s}Half_right" if k == pw - 1 else f"{s}Half_mid"
                tile(nm, c, py)
    for x, name in level.decor:
        c = x - x0
        if 0 <= c < cols and not level.gap[x]:
            tile(name, c, level.h[x])
    for x, y, name in level.items:
        c = x - x0
        if 0 <= c < cols and not level.gap[x]:
            im = art.get(f"items/{name}.png", int(T * 0.8))
            surf.blit(im, (c * T - off + T // 10, H - int((y + 1) * T) + T // 10))
    for x, name, flip in level.enemies:
        c = x - x0
        if 0 <= c < cols and not level.gap[x]:
            im = art.get(f"enemies/{name}.png", int(T * 0.8), None, flip)
            surf.blit(im, (c * T - off, H - level.h[x] * T - im.get_height()))
    # player at a third of the screen
    pc = int((scroll_px + W / 3) // T)
    if 0 <= pc < level.n:
        rel = f"animated_characters/{level.char}_{'walk' + str(int(scroll_px / T * 4) % 8) if not level.gap[pc] else 'jump'}.png"
        if not art.exists(rel):
            rel = f"animated_characters/{level.char}_idle.png"
        im = art.get(rel, int(T * 1.0))
        gy = H - (level.h[pc] if not level.gap[pc] else level.h[max(0, pc - 1)] + 1) * T
        surf.blit(im, (int(W / 3), gy - im.get_height()))
    _hud(surf, level, art, W, H)
    return surf


def _hud(surf, level, art, W, H):
    pg = art.pg
    hd = level.hud
    fs = max(12, int(H / 18))
    f = art.font(fs)
    col = hd["col"]
    shadow = (0, 0, 0) if col != (20, 20, 30) else (255, 255, 255)

    def text(s, x, y):
        surf.blit(f.render(s, True, shadow), (x + max(1, fs // 16), y + max(1, fs // 16)))
        surf.blit(f.render(s, True, col), (x, y))

    m = fs // 2
    if hd["style"] == 0:
        text(f"SCORE {hd['score']:06d}", m, m)
        ic = art.get("items/coinGold.png", fs)
        surf.blit(ic, (W // 2 - fs * 2, m - fs // 8))
        text(f"x {hd['coins']:02d}", W // 2 - fs, m)
        text(f"WORLD {hd['world']}   TIME {hd['time']}", W - int(fs * 10), m)
    else:
        panel = pg.Surface((int(fs * 9), int(fs * 2.6)), pg.SRCALPHA)
        panel.fill((0, 0, 0, 110))
        surf.blit(panel, (m, m))
        text(f"{hd['score']}", m * 2, m + fs // 4)
        ic = art.get("items/coinGold.png", fs)
        surf.blit(ic, (m * 2, m + int(fs * 1.2)))
        text(f"{hd['coins']}", m * 2 + fs + 4, m + int(fs * 1.3))
    # lives as hearts (drawn) or character heads
    for k in range(hd["lives"]):
        x = W - m - (k + 1) * int(fs * 1.2)
        y = m + (int(fs * 1.3) if hd["style"] == 0 else 0)
        r = fs // 4
        pg.draw.circle(surf, (220, 30, 40), (x + r, y + r), r)
        pg.draw.circle(surf, (220, 30, 40), (x + 3 * r, y + r), r)
        pg.draw.polygon(surf, (220, 30, 40), [(x, y + r), (x + 4 * r, y + r), (x + 2 * r, y + 4 * r)])


def _to_array(art, surf) -> np.ndarray:
    return np.ascontiguousarray(art.pg.surfarray.array3d(surf).transpose(1, 0, 2))


class Sprites2DSource:
    name = NAME

    def available(self) -> str | None:
        import importlib.util

        if importlib.util.find_spec("pygame") is None:
            return f"pygame is not installed: {INSTALL_HINT}"
        try:
            _assets()
        except SourceUnavailable as e:
            return e.reason
        return None

    def frames(self, n: int, seed: int, sizes: Sequence[Size] | None = None) -> Iterator[np.ndarray]:
        art = _art()
        for i in range(int(n)):
            rng = child_seed(seed, 21, i)
            W, H = check_size(pick_size(rng, sizes))
            level = _Level(rng, art)
            T = max(8, int(round(H / level.rows)))
            scroll = float(rng.uniform(0, max(1, level.n * T - W)))
            yield _to_array(art, _draw(level, art, W, H, scroll))

    def clip(self, n: int, seed: int, size: Size | None = None) -> list[np.ndarray]:
        art = _art()
        rng = child_seed(seed, 22)
        W, H = check_size(size) if size else pick_size(rng)
        level = _Level(rng, art)
        T = max(8, int(round(H / level.rows)))
        speed = float(rng.uniform(0.05, 0.3)) * T
        start = float(rng.uniform(0, max(1, level.n * T - W - speed * n)))
        return [_to_array(art, _draw(level, art, W, H, start + j * speed)) for j in range(int(n))]


SOURCE = Sprites2DSource()
