"""``ui``: game menus, settings screens, consoles, editor panels and inventories - hard negatives.

Real captures are full of legitimate interface: lines of text in one colour (a console looks like morse
code to a naive detector), rows of thin separators and slider tracks (parallel lines), dotted leaders, tile
and slot grids (stuttering, triangulation), flat saturated buttons (discoloration). These screens teach the
experts that such structure is clean. Each frame draws a random layout of panels and widgets - text in the
fonts shipped with ``arcade`` (Liberation sans, serif and mono; Kenney pixel and display fonts), buttons,
sliders, check boxes, drop-downs, tabs, tree lists, log consoles, slot grids, isometric tile floors - on a flat
theme colour, a gradient, or a (blurred, darkened) procedural game scene. Clips scroll the console and move a
slider, as a live menu does. Deterministic for a seed.
"""

from __future__ import annotations

import functools
import string
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ._base import INSTALL_HINT, Size, SourceUnavailable, check_size, child_seed, pick_size

NAME = "ui"
_WORDS = ("load save options audio video controls quit resume start new game continue settings volume music "
          "effects brightness gamma shadows quality texture resolution fullscreen vsync language subtitles "
          "inventory map quest journal skills health mana stamina level score player ready connect host join "
          "server lobby name port error warning info debug frame time memory node scene script mesh light "
          "camera physics collision sprite animation input mouse keyboard gamepad invert sensitivity apply "
          "cancel back accept default low medium high ultra on off enabled disabled").split()
_THEMES = (  # (background, panel, widget, text, accent)
    ((34, 36, 42), (46, 49, 57), (62, 66, 77), (220, 222, 228), (86, 156, 214)),
    ((28, 28, 30), (40, 40, 44), (58, 58, 64), (200, 200, 200), (230, 150, 40)),
    ((236, 236, 238), (250, 250, 252), (220, 222, 226), (30, 30, 34), (40, 110, 220)),
    ((18, 24, 38), (28, 38, 60), (44, 58, 90), (210, 225, 255), (120, 220, 140)),
    ((60, 40, 28), (84, 60, 42), (110, 82, 58), (245, 230, 200), (220, 180, 60)),
    ((10, 10, 10), (20, 20, 20), (40, 40, 40), (0, 230, 60), (0, 160, 255)),
)
_LOG_COLOURS = ((235, 235, 235), (255, 205, 60), (255, 90, 80), (120, 200, 255), (150, 150, 150))


def _fonts() -> list[Path]:
    try:
        import arcade  # noqa: F401 - only to locate the fonts it ships
    except ImportError as e:
        raise SourceUnavailable(NAME, f"arcade (for its fonts) is not installed ({e}): {INSTALL_HINT}") from None
    import importlib.util

    root = Path(importlib.util.find_spec("arcade").origin).parent / "resources" / "system" / "fonts" / "ttf"
    fonts = sorted(root.rglob("*.ttf"))
    if not fonts:
        raise SourceUnavailable(NAME, f"no fonts found under {root}")
    return fonts


@functools.lru_cache(maxsize=256)
def _font(path: str, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size)


def _jitter(rng: np.random.Generator, col, amount: int = 12) -> tuple[int, int, int]:
    return tuple(int(v) for v in np.clip(np.asarray(col) + rng.integers(-amount, amount + 1, 3), 0, 255))


def _phrase(rng: np.random.Generator, lo: int = 1, hi: int = 4) -> str:
    words = [_WORDS[int(i)] for i in rng.integers(0, len(_WORDS), int(rng.integers(lo, hi + 1)))]
    s = " ".join(words)
    return s.capitalize() if rng.random() < 0.7 else s.upper()


def _log_line(rng: np.random.Generator) -> str:
    kind = rng.integers(4)
    if kind == 0:
        return f"[{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}:{int(rng.integers(0, 60)):02d}] {_phrase(rng, 2, 6)}"
    if kind == 1:
        return f"   at: {_phrase(rng, 1, 2).lower().replace(' ', '_')} (core/{_WORDS[int(rng.integers(len(_WORDS)))]}.cpp:{int(rng.integers(10, 3000))})"
    if kind == 2:
        return f"{_phrase(rng, 1, 3)}: {rng.uniform(0, 1000):.2f} ms, {int(rng.integers(0, 99999))} objects"
    return "".join(rng.choice(list(string.ascii_letters + string.digits + "_./-= "), int(rng.integers(10, 60))))


class _SafeDraw:
    """ImageDraw whose boxes may come out inverted on tiny frames (a widget wider than its panel): sorted."""

    def __init__(self, draw):
        self._draw = draw

    def __getattr__(self, name):
        return getattr(self._draw, name)

    @staticmethod
    def _sorted(box):
        x0, y0, x1, y1 = box
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    def rectangle(self, box, **kw):
        self._draw.rectangle(self._sorted(box), **kw)

    def rounded_rectangle(self, box, **kw):
        self._draw.rounded_rectangle(self._sorted(box), **kw)

    def ellipse(self, box, **kw):
        self._draw.ellipse(self._sorted(box), **kw)


class _Painter:
    """Widgets drawn with Pillow at a UI scale `u` (1.0 at 1080p)."""

    def __init__(self, img, rng: np.random.Generator, theme, fonts: list[Path], u: float):
        from PIL import ImageDraw

        self.draw, self.rng, self.u = _SafeDraw(ImageDraw.Draw(img)), rng, u
        self.bg, self.panel, self.widget, self.text, self.accent = (_jitter(rng, c) for c in theme)
        mono = [f for f in fonts if "Mono" in f.name] or fonts
        sans = [f for f in fonts if "Sans" in f.name or "Serif" in f.name] or fonts
        self.mono = str(mono[int(rng.integers(len(mono)))])
        self.sans = str(sans[int(rng.integers(len(sans)))]) if rng.random() < 0.8 else \
            str(fonts[int(rng.integers(len(fonts)))])
        self.size = int(round(rng.uniform(13, 24) * u))

    def font(self, mono: bool = False, scale: float = 1.0):
        return _font(self.mono if mono else self.sans, max(8, int(self.size * scale)))

    def panel_box(self, box, title: bool) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = box
        r = int(self.rng.integers(0, 8) * self.u)
        self.draw.rounded_rectangle(box, radius=r, fill=self.panel,
                                    outline=self.widget if self.rng.random() < 0.6 else None, width=max(1, int(self.u)))
        if title and y1 - y0 > 4 * self.size:
            h = int(self.size * 1.8)
            self.draw.rectangle((x0, y0, x1, y0 + h), fill=self.widget)
            self.draw.text((x0 + self.size // 2, y0 + h // 2), _phrase(self.rng), fill=self.text, font=self.font(),
                           anchor="lm")
            y0 += h
        return x0, y0, x1, y1

    # each widget draws into (x0, y, x1) and returns the next free y
    def text_lines(self, x0, y, x1, y1, log: bool, skip: int = 0) -> int:
        """Lines of text (a console log when `log`); `skip` scrolls the log by that many lines."""
        f = self.font(mono=log, scale=0.9 if log else 1.0)
        step = int(self.size * self.rng.uniform(1.15, 1.6))
        single = self.rng.random() < 0.4
        # The lines come from their own generator, so that scrolling leaves the rest of the layout unchanged.
        lines = np.random.default_rng(int(self.rng.integers(2**31 - 1)))
        for _ in range(skip):
            self._line(lines, log, single)
        while y + step < y1:
            text, col, indent = self._line(lines, log, single)
            self.draw.text((x0 + indent, y), text, fill=col, font=f)
            y += step
        return y

    def _line(self, rng: np.random.Generator, log: bool, single: bool) -> tuple[str, tuple, int]:
        col = self.text
        if log and not single:
            col = _LOG_COLOURS[int(rng.choice(5, p=[0.55, 0.15, 0.1, 0.1, 0.1]))]
        text = _log_line(rng) if log else _phrase(rng, 2, 9)
        indent = int(rng.integers(0, 3)) * self.size if log else 0
        return text, col, indent

    def button_row(self, x0, y, x1) -> int:
        h = int(self.size * 2.0)
        x = x0
        while True:
            label = _phrase(self.rng, 1, 2)
            w = int(self.draw.textlength(label, font=self.font()) + 2 * self.size)
            if x + w > x1:
                break
            fill = self.accent if self.rng.random() < 0.2 else self.widget
            self.draw.rounded_rectangle((x, y, x + w, y + h), radius=int(self.rng.integers(0, 10) * self.u),
                                        fill=fill, outline=self.text if self.rng.random() < 0.3 else None)
            self.draw.text((x + w // 2, y + h // 2), label, fill=self.text, font=self.font(), anchor="mm")
            x += w + int(self.size * self.rng.uniform(0.3, 1.0))
        return y + h + self.size // 2

    def setting(self, x0, y, x1) -> int:
        """A labelled slider, check box or drop-down."""
        h = int(self.size * 1.9)
        mid = x0 + int((x1 - x0) * self.rng.uniform(0.35, 0.55))
        self.draw.text((x0, y + h // 2), _phrase(self.rng, 1, 3), fill=self.text, font=self.font(), anchor="lm")
        kind = self.rng.integers(3)
        if kind == 0:  # slider: track, filled part, knob, value
            frac = self.rng.uniform(0, 1)
            t = max(2, int(self.size * 0.25))
            end = x1 - 3 * self.size
            self.draw.rectangle((mid, y + h // 2 - t // 2, end, y + h // 2 + t // 2), fill=self.widget)
            knob = mid + int(frac * (end - mid))
            self.draw.rectangle((mid, y + h // 2 - t // 2, knob, y + h // 2 + t // 2), fill=self.accent)
            r = int(self.size * 0.45)
            self.draw.ellipse((knob - r, y + h // 2 - r, knob + r, y + h // 2 + r), fill=self.text)
            self.draw.text((x1, y + h // 2), f"{int(frac * 100)}", fill=self.text, font=self.font(), anchor="rm")
        elif kind == 1:  # check box
            s = int(self.size * 0.9)
            self.draw.rectangle((mid, y + (h - s) // 2, mid + s, y + (h + s) // 2), outline=self.text,
                                width=max(1, int(self.u * 1.5)), fill=self.accent if self.rng.random() < 0.5 else None)
        else:  # drop-down
            self.draw.rectangle((mid, y + 2, x1, y + h - 2), fill=self.widget, outline=self.panel)
            self.draw.text((mid + self.size // 2, y + h // 2), _phrase(self.rng, 1, 2), fill=self.text,
                           font=self.font(), anchor="lm")
            a = int(self.size * 0.35)
            cx = x1 - self.size
            self.draw.polygon([(cx - a, y + h // 2 - a // 2), (cx + a, y + h // 2 - a // 2), (cx, y + h // 2 + a // 2)],
                              fill=self.text)
        if self.rng.random() < 0.3:  # thin separator
            self.draw.line((x0, y + h + 2, x1, y + h + 2), fill=self.widget, width=1)
        return y + h + int(self.size * self.rng.uniform(0.1, 0.6))

    def tree(self, x0, y, x1, y1) -> int:
        step = int(self.size * 1.6)
        alt = self.rng.random() < 0.5
        k = 0
        while y + step < y1:
            if alt and k % 2:
                self.draw.rectangle((x0, y, x1, y + step), fill=self.widget)
            if self.rng.random() < 0.08:
                self.draw.rectangle((x0, y, x1, y + step), fill=self.accent)
            depth = int(self.rng.integers(0, 4))
            ix = x0 + depth * self.size + self.size // 2
            s = int(self.size * 0.7)
            icol = _LOG_COLOURS[int(self.rng.integers(1, 4))] if self.rng.random() < 0.6 else self.text
            self.draw.rectangle((ix, y + (step - s) // 2, ix + s, y + (step + s) // 2), fill=icol)
            self.draw.text((ix + s + self.size // 2, y + step // 2), _phrase(self.rng, 1, 3).lower().replace(" ", "_"),
                           fill=self.text, font=self.font(scale=0.9), anchor="lm")
            y += step
            k += 1
        return y

    def tabs(self, x0, y, x1) -> int:
        h = int(self.size * 1.8)
        x = x0
        sel = int(self.rng.integers(0, 4))
        for i in range(int(self.rng.integers(2, 7))):
            label = _phrase(self.rng, 1, 2)
            w = int(self.draw.textlength(label, font=self.font()) + 1.5 * self.size)
            if x + w > x1:
                break
            self.draw.rectangle((x, y, x + w, y + h), fill=self.panel if i == sel else self.widget,
                                outline=self.bg)
            self.draw.text((x + w // 2, y + h // 2), label, fill=self.text, font=self.font(), anchor="mm")
            x += w
        self.draw.line((x0, y + h, x1, y + h), fill=self.accent if self.rng.random() < 0.5 else self.widget, width=1)
        return y + h + self.size // 2

    def slots(self, x0, y, x1, y1) -> int:
        s = int(self.size * self.rng.uniform(2.2, 4.0))
        gap = int(self.rng.integers(1, max(2, s // 6)))
        cols = max(1, (x1 - x0) // (s + gap))
        rows = max(1, (y1 - y) // (s + gap))
        for r in range(rows):
            for c in range(cols):
                bx, by = x0 + c * (s + gap), y + r * (s + gap)
                self.draw.rectangle((bx, by, bx + s, by + s), fill=self.widget, outline=self.text if gap < 3 else None)
                if self.rng.random() < 0.45:  # an item icon
                    col = tuple(int(v) for v in self.rng.integers(40, 256, 3))
                    m = s // 5
                    shape = self.rng.integers(3)
                    if shape == 0:
                        self.draw.ellipse((bx + m, by + m, bx + s - m, by + s - m), fill=col)
                    elif shape == 1:
                        self.draw.polygon([(bx + s // 2, by + m), (bx + s - m, by + s - m), (bx + m, by + s - m)], fill=col)
                    else:
                        self.draw.rectangle((bx + m, by + m, bx + s - m, by + s - m), fill=col)
                    if self.rng.random() < 0.4:
                        self.draw.text((bx + s - 2, by + s - 2), str(int(self.rng.integers(1, 99))), fill=self.text,
                                       font=self.font(scale=0.7), anchor="rd")
        return y + rows * (s + gap)


def _iso_floor(img, rng: np.random.Generator, u: float) -> None:
    """Isometric tile floor: rhombi with darker edges and a side face (2.5D games, level editors)."""
    from PIL import ImageDraw

    d = ImageDraw.Draw(img)
    w, h = img.size
    tw = int(rng.uniform(60, 180) * u)
    th = tw // 2
    top = tuple(int(v) for v in rng.integers(60, 200, 3))
    edge = tuple(int(v * 0.7) for v in top)
    side = tuple(int(v * 0.5) for v in top)
    depth = int(th * rng.uniform(0.1, 0.4))
    holes = rng.random((h // th + 4, w // tw + 4)) < rng.uniform(0, 0.4)
    for r in range(-2, h // (th // 2) + 2):
        for c in range(-1, w // tw + 2):
            if holes[(r // 2) % holes.shape[0], c % holes.shape[1]]:
                continue
            cx = c * tw + (tw // 2 if r % 2 else 0)
            cy = r * th // 2
            pts = [(cx, cy - th // 2), (cx + tw // 2, cy), (cx, cy + th // 2), (cx - tw // 2, cy)]
            d.polygon([(cx - tw // 2, cy), (cx, cy + th // 2), (cx, cy + th // 2 + depth), (cx - tw // 2, cy + depth)],
                      fill=side)
            d.polygon([(cx + tw // 2, cy), (cx, cy + th // 2), (cx, cy + th // 2 + depth), (cx + tw // 2, cy + depth)],
                      fill=edge)
            d.polygon(pts, fill=top, outline=edge)


def _background(rng: np.random.Generator, size: Size, theme) -> np.ndarray:
    import cv2

    w, h = size
    kind = rng.choice(["flat", "gradient", "scene", "iso"], p=[0.35, 0.2, 0.3, 0.15])
    if kind == "scene":
        from .procedural import SOURCE as procedural

        scene = next(iter(procedural.frames(1, int(rng.integers(2**31 - 1)), sizes=[(w, h)])))
        if rng.random() < 0.6:
            scene = cv2.GaussianBlur(scene, (0, 0), rng.uniform(2, 12) * w / 1920)
        return np.clip(scene.astype(np.float32) * rng.uniform(0.3, 0.9), 0, 255).astype(np.uint8)
    out = np.empty((h, w, 3), np.uint8)
    out[:] = _jitter(rng, theme[0], 8)
    if kind == "gradient":
        ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        other = np.asarray(_jitter(rng, theme[1], 30), np.float32)
        out = (out * (1 - ramp) + other * ramp).astype(np.uint8)
    elif kind == "iso":
        from PIL import Image

        img = Image.fromarray(out)
        _iso_floor(img, rng, w / 1920)
        out = np.asarray(img).copy()
    return out


def _cursor(img, at: tuple[float, float], u: float) -> None:
    """A mouse pointer (white arrow, dark outline) with its tip at `at` (fractions of the frame)."""
    from PIL import ImageDraw

    w, h = img.size
    x, y = at[0] * w, at[1] * h
    s = 22 * u
    pts = [(x, y), (x, y + s), (x + 0.28 * s, y + 0.75 * s), (x + 0.5 * s, y + 1.1 * s), (x + 0.62 * s, y + 1.05 * s),
           (x + 0.42 * s, y + 0.7 * s), (x + 0.75 * s, y + 0.7 * s)]
    ImageDraw.Draw(img).polygon(pts, fill=(255, 255, 255), outline=(0, 0, 0))


def _layout(rng: np.random.Generator, size: Size, fonts: list[Path], scroll: int = 0,
            slider_shift: float = 0.0, cursor: tuple[float, float] | None = None) -> np.ndarray:
    """One UI screen; `scroll`, `slider_shift` and `cursor` vary a clip's frames (the layout stays the same)."""
    from PIL import Image

    w, h = size
    u = h / 1080
    theme = _THEMES[int(rng.integers(len(_THEMES)))]
    base = _background(rng, size, theme)
    img = Image.fromarray(base)
    p = _Painter(img, rng, theme, fonts, u)
    # 1-4 panels tiling part of the screen: columns (editor docks) or centred dialogs (game menus)
    boxes = []
    if rng.random() < 0.5:
        xs = np.sort(rng.uniform(0.05, 0.95, int(rng.integers(1, 4))))
        edges = [0, *(int(x * w) for x in xs), w]
        for a, b in zip(edges[:-1], edges[1:]):
            if b - a > 8 * p.size and rng.random() < 0.8:
                boxes.append((a + 2, int(rng.uniform(0, 0.1) * h), b - 2, h - int(rng.uniform(0, 0.1) * h)))
    else:
        for _ in range(int(rng.integers(1, 3))):
            bw, bh = int(w * rng.uniform(0.3, 0.7)), int(h * rng.uniform(0.3, 0.8))
            x0, y0 = int(rng.integers(0, w - bw + 1)), int(rng.integers(0, h - bh + 1))
            boxes.append((x0, y0, x0 + bw, y0 + bh))
    for box in boxes:
        x0, y0, x1, y1 = p.panel_box(box, title=bool(rng.random() < 0.6))
        pad = p.size // 2 + 2
        x0, x1, y = x0 + pad, x1 - pad, y0 + pad
        while y < y1 - 2 * p.size:
            kind = rng.choice(["log", "text", "buttons", "settings", "tree", "tabs", "slots"],
                              p=[0.18, 0.14, 0.14, 0.22, 0.12, 0.08, 0.12])
            span = int(rng.uniform(0.2, 0.7) * (y1 - y)) + 2 * p.size
            if kind == "log":
                y = p.text_lines(x0, y, x1, min(y1, y + span), log=True, skip=scroll)
            elif kind == "text":
                y = p.text_lines(x0, y, x1, min(y1, y + span), log=False)
            elif kind == "buttons":
                y = p.button_row(x0, y, x1)
            elif kind == "settings":
                for _ in range(int(rng.integers(2, 9))):
                    if y > y1 - 2 * p.size:
                        break
                    y = p.setting(x0, y, x1 - int(slider_shift * p.size))
            elif kind == "tree":
                y = p.tree(x0, y, x1, min(y1, y + span))
            elif kind == "tabs":
                y = p.tabs(x0, y, x1)
            else:
                y = p.slots(x0, y, x1, min(y1, y + span))
            y += int(p.size * rng.uniform(0.3, 1.2))
    if cursor is not None:
        _cursor(img, cursor, u)
    return np.asarray(img.convert("RGB")).copy()


class UISource:
    name = NAME

    def available(self) -> str | None:
        try:
            _fonts()
            import PIL  # noqa: F401
        except SourceUnavailable as e:
            return e.reason
        except ImportError as e:
            return f"Pillow is not installed ({e}): {INSTALL_HINT}"
        return None

    def frames(self, n: int, seed: int, sizes: Sequence[Size] | None = None) -> Iterator[np.ndarray]:
        fonts = _fonts()
        for i in range(int(n)):
            rng = child_seed(seed, 51, i)
            size = check_size(pick_size(rng, sizes))
            cursor = (float(rng.uniform(0, 0.95)), float(rng.uniform(0, 0.95))) if rng.random() < 0.5 else None
            yield _layout(rng, size, fonts, cursor=cursor)

    def clip(self, n: int, seed: int, size: Size | None = None) -> list[np.ndarray]:
        fonts = _fonts()
        rng = child_seed(seed, 52)
        size = check_size(size) if size else pick_size(rng)
        layout_seed = int(rng.integers(2**31 - 1))
        # Same layout every frame (same seed); the console scrolls a line now and then, a slider and the
        # mouse pointer move.
        out, scroll = [], 0
        at, step = rng.uniform(0.1, 0.8, 2), rng.uniform(-0.03, 0.03, 2)
        for k in range(int(n)):
            if rng.random() < 0.3:
                scroll += 1
            at = np.clip(at + step, 0, 0.95)
            out.append(_layout(np.random.default_rng(layout_seed), size, fonts, scroll=scroll,
                               slider_shift=0.1 * k, cursor=(float(at[0]), float(at[1]))))
        return out


SOURCE = UISource()
