"""Clean-frame sources: render varied, game-like frames headless on the CPU, for training data.

Every source renders RGB ``uint8`` frames of shape ``(height, width, 3)``; sizes are ``(width, height)``.
The engines are optional (``pip install 'artifactscope[sources]'``) and imported lazily, so importing this
package never needs them; a source whose engine is missing raises :class:`SourceUnavailable` when used.

========== ============================================================ ==========================
name       what                                                         needs
========== ============================================================ ==========================
procedural numpy/OpenCV 2.5D scenes: sky, hills, town/nature, HUD        nothing extra
doom       ViZDoom + the Freedoom WADs it ships; real engine and HUD     ``vizdoom``
sprites2d  pygame + the CC0 Kenney sprites/tiles in the ``arcade`` wheel ``pygame-ce``, ``arcade``
panda3d    Panda3D offscreen software renderer with its bundled models    ``panda3d``
moderngl   moderngl on EGL (Mesa llvmpipe): terrain, houses, trees, sky  ``moderngl`` + libEGL
atari      ale-py Atari ROMs, upscaled nearest-neighbour                  ``ale-py``
ui         menus, settings, consoles, editor panels, inventories (Pillow) ``arcade`` (its fonts)
========== ============================================================ ==========================

Use :func:`available_sources` to see which run here, :data:`SOURCES` to get one, :func:`render` to write PNGs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from ._base import RESOLUTIONS, Size, Source, SourceUnavailable, pick_size
from .procedural import SOURCE as _procedural

__all__ = ["SOURCES", "RESOLUTIONS", "Size", "Source", "SourceUnavailable", "available_sources", "get_source",
           "pick_size", "render", "save_mp4", "save_png"]

SOURCES: dict[str, Source] = {_procedural.name: _procedural}


def _register_optional() -> None:
    import importlib

    for mod in ("doom", "sprites2d", "panda", "gl", "atari", "ui"):
        try:
            m = importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as e:   # the module file itself is missing (engines load lazily)
            if e.name == f"{__name__}.{mod}":
                continue
            raise
        SOURCES[m.SOURCE.name] = m.SOURCE


_register_optional()


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(SOURCES)}") from None


def available_sources() -> dict[str, str | None]:
    """Name -> None if the source can run here, else the reason it cannot."""
    out: dict[str, str | None] = {}
    for name, src in SOURCES.items():
        try:
            out[name] = src.available()
        except Exception as e:  # a broken engine install must not break the listing
            out[name] = f"{type(e).__name__}: {e}"
    return out


def save_png(path: str | os.PathLike, rgb: np.ndarray) -> None:
    """Write an RGB frame as PNG (works with non-ASCII paths)."""
    import cv2

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise OSError(f"PNG encoding failed for {path}")
    buf.tofile(str(path))


def save_mp4(path: str | os.PathLike, frames: list[np.ndarray], fps: float = 24) -> None:
    """Write RGB frames of one size as an MPEG-4 (``mp4v``) video."""
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    try:
        for f in frames:
            writer.write(np.ascontiguousarray(f[..., ::-1]))
    finally:
        writer.release()


def render(source: str, out_dir: str | os.PathLike, n_frames: int, seed: int, clips: int = 0, clip_len: int = 8,
           progress: Callable[[int, int], None] | None = None, sizes: list[Size] | None = None) -> list[str]:
    """Render ``n_frames`` frames and ``clips`` clips of ``clip_len`` frames from one source into ``out_dir``.

    Frames go to ``out_dir/<source>_<seed>_<i:05d>.png``; clips to
    ``out_dir/clips/<source>_<seed>_clip<k>_<j:03d>.png``. ``progress(done, total)`` is called after each
    file. Returns the written paths. Deterministic for a seed as far as the engine allows.
    """
    src = get_source(source)
    reason = src.available()
    if reason:
        raise SourceUnavailable(source, reason)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    total = int(n_frames) + int(clips) * int(clip_len)
    done = 0
    paths: list[str] = []
    for i, fr in enumerate(src.frames(int(n_frames), seed, sizes)):
        p = out / f"{source}_{seed}_{i:05d}.png"
        save_png(p, fr)
        paths.append(str(p))
        done += 1
        if progress:
            progress(done, total)
    if clips:
        cdir = out / "clips"
        cdir.mkdir(exist_ok=True)
        for k in range(int(clips)):
            size = pick_size(np.random.default_rng([int(seed) & 0xFFFFFFFF, 77, k]), sizes)
            for j, fr in enumerate(src.clip(int(clip_len), int(seed) * 1000 + k, size)):
                p = cdir / f"{source}_{seed}_clip{k}_{j:03d}.png"
                save_png(p, fr)
                paths.append(str(p))
                done += 1
                if progress:
                    progress(done, total)
    return paths
