"""``atari``: frames of real Atari 2600 games (the ROMs bundled in the ``ale-py`` wheel), upscaled.

A different kind of game from the 3D engines: flat 2D pixel art, tile grids, playfield stripes, score digits.
Each frame plays a randomly chosen game for a random number of steps with random actions, then upscales the
160x210 screen with nearest-neighbour to a random resolution, either filling the frame (cropped) or
pillar-boxed at the 4:3 shape emulators show. Deterministic for a seed (ALE is seeded, sticky actions off).
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from ._base import INSTALL_HINT, Size, SourceUnavailable, check_size, child_seed, fit_to, frame_variance_ok, pick_size

NAME = "atari"
GAMES = ("breakout", "pong", "space_invaders", "ms_pacman", "seaquest", "boxing", "freeway", "enduro",
         "riverraid", "asterix", "montezuma_revenge", "pitfall", "frostbite", "kangaroo", "qbert", "alien",
         "battle_zone", "hero", "road_runner", "beam_rider")


def _ale(game: str, seed: int):
    try:
        import ale_py
        from ale_py import roms
    except ImportError as e:
        raise SourceUnavailable(NAME, f"ale-py is not installed ({e}): {INSTALL_HINT}") from None
    ale = ale_py.ALEInterface()
    ale.setLoggerMode(ale_py.LoggerMode.Error)
    ale.setInt("random_seed", int(seed) % (2**31 - 1))
    ale.setFloat("repeat_action_probability", 0.0)
    ale.loadROM(roms.get_rom_path(game))
    return ale


def _play(ale, rng: np.random.Generator, steps: int) -> None:
    """Random play with held actions (a player holds a direction for a while); restarts after game over."""
    actions = ale.getMinimalActionSet()
    action, left = actions[0], 0
    for _ in range(steps):
        if left == 0:
            action, left = actions[int(rng.integers(len(actions)))], int(rng.integers(1, 12))
        ale.act(action)
        left -= 1
        if ale.game_over():
            ale.reset_game()


def _present(screen: np.ndarray, size: Size, boxed: bool) -> np.ndarray:
    """The 160x210 screen at `size`: nearest-neighbour, filling (cropped) or pillar-boxed at 4:3."""
    import cv2

    w, h = size
    if not boxed:
        return fit_to(screen, (w, h), interpolation=cv2.INTER_NEAREST)
    inner_w = min(w, int(round(h * 4 / 3)))
    out = np.zeros((h, w, 3), np.uint8)
    x0 = (w - inner_w) // 2
    out[:, x0:x0 + inner_w] = cv2.resize(screen, (inner_w, h), interpolation=cv2.INTER_NEAREST)
    return out


class AtariSource:
    name = NAME

    def available(self) -> str | None:
        try:
            _ale(GAMES[0], 0)
        except SourceUnavailable as e:
            return e.reason
        except Exception as e:  # a ROM that will not load: say so rather than fail a whole render
            return f"ale-py could not load its ROMs: {e}"
        return None

    def frames(self, n: int, seed: int, sizes: Sequence[Size] | None = None) -> Iterator[np.ndarray]:
        for i in range(int(n)):
            rng = child_seed(seed, 41, i)
            size = check_size(pick_size(rng, sizes))
            ale = _ale(GAMES[int(rng.integers(len(GAMES)))], int(rng.integers(2**31 - 1)))
            _play(ale, rng, int(rng.integers(60, 1500)))
            for _ in range(10):  # skip title cards and blank transition screens
                if frame_variance_ok(ale.getScreenRGB(), 10):
                    break
                _play(ale, rng, 60)
            yield _present(ale.getScreenRGB(), size, boxed=bool(rng.random() < 0.4))

    def clip(self, n: int, seed: int, size: Size | None = None) -> list[np.ndarray]:
        rng = child_seed(seed, 42)
        size = check_size(size) if size else pick_size(rng)
        ale = _ale(GAMES[int(rng.integers(len(GAMES)))], int(rng.integers(2**31 - 1)))
        _play(ale, rng, int(rng.integers(200, 1500)))
        boxed = bool(rng.random() < 0.4)
        out = []
        for _ in range(int(n)):
            _play(ale, rng, 2)
            out.append(_present(ale.getScreenRGB(), size, boxed))
        return out


SOURCE = AtariSource()
