"""``doom``: ViZDoom (a real Doom engine, software renderer) playing the Freedoom WADs it ships.

Headless (no window), RGB24 screen, depth buffer used by a wall-avoiding random-walk policy: walk forward
with small random turns; when the centre of the depth buffer says a wall is near, turn away until the way is
clear. Frames whose centre is a close wall or whose contrast is tiny are skipped. Maps, HUD style (full status
bar, minimal HUD, none), weapon, crosshair and resolution vary with the seed. Deterministic for a seed
(ViZDoom is deterministic given its seed and the action sequence).
"""

from __future__ import annotations

import os
from typing import Iterator, Sequence

import numpy as np

from ._base import INSTALL_HINT, Size, SourceUnavailable, check_size, child_seed, fit_to, frame_variance_ok, pick_size

NAME = "doom"

# Native ViZDoom resolutions (width, height) usable for 480p+ frames; others are scaled from the nearest aspect.
_NATIVE = [(640, 360), (800, 450), (1024, 576), (1280, 720), (1400, 787), (1600, 900), (1920, 1080),
           (640, 480), (800, 600), (1024, 768), (1280, 960), (1400, 1050), (1600, 1200),
           (640, 400), (800, 500), (1024, 640), (1280, 800), (1400, 875), (1600, 1000), (1280, 1024)]
_MAPS = {"freedoom2.wad": [f"MAP{i:02d}" for i in range(1, 33)],
         "freedoom1.wad": [f"E{e}M{m}" for e in range(1, 5) for m in range(1, 10)]}


def _vzd():
    try:
        import vizdoom
    except ImportError as e:
        raise SourceUnavailable(NAME, f"vizdoom is not installed ({e}): {INSTALL_HINT}") from None
    return vizdoom


def _native_for(size: Size) -> tuple[int, int]:
    """The native resolution to render for a requested size: same aspect, smallest >= size (or the largest)."""
    w, h = size
    asp = w / h
    same = [r for r in _NATIVE if abs(r[0] / r[1] - asp) < 0.02]
    pool = same or sorted(_NATIVE, key=lambda r: abs(r[0] / r[1] - asp))[:6]
    big = [r for r in pool if r[0] >= w and r[1] >= h]
    return min(big, key=lambda r: r[0] * r[1]) if big else max(pool, key=lambda r: r[0] * r[1])


class _Game:
    """One configured ViZDoom instance on one map."""

    def __init__(self, rng: np.random.Generator, native: tuple[int, int], hud: str | None = None):
        vzd = _vzd()
        pkg = os.path.dirname(vzd.__file__)
        wad = str(rng.choice(sorted(_MAPS)))
        path = os.path.join(pkg, wad)
        if not os.path.exists(path):
            raise SourceUnavailable(NAME, f"{wad} not found in the vizdoom package at {pkg}")
        g = vzd.DoomGame()
        g.set_doom_game_path(path)
        g.set_doom_map(str(rng.choice(_MAPS[wad])))
        g.set_doom_skill(int(rng.integers(1, 4)))
        res = getattr(vzd.ScreenResolution, f"RES_{native[0]}X{native[1]}")
        g.set_screen_resolution(res)
        g.set_screen_format(vzd.ScreenFormat.RGB24)
        g.set_depth_buffer_enabled(True)
        g.set_window_visible(False)
        g.set_sound_enabled(False)
        g.set_mode(vzd.Mode.PLAYER)
        hud = hud or str(rng.choice(["full", "full", "minimal", "none"]))
        g.set_render_hud(hud != "none")
        g.set_render_minimal_hud(hud == "minimal")
        g.set_render_weapon(bool(rng.random() < 0.85))
        g.set_render_crosshair(bool(rng.random() < 0.5))
        g.set_render_decals(True)
        g.set_render_particles(True)
        g.set_render_effects_sprites(True)
        g.set_render_messages(bool(rng.random() < 0.3))
        g.set_render_corpses(True)
        g.set_render_screen_flashes(False)
        g.set_episode_timeout(0)
        g.set_seed(int(rng.integers(0, 2 ** 31 - 1)))
        g.add_game_args("+sv_cheats 1 +vizdoom_nocheat 0")
        for b in (vzd.Button.MOVE_FORWARD, vzd.Button.TURN_LEFT, vzd.Button.TURN_RIGHT, vzd.Button.MOVE_LEFT,
                  vzd.Button.MOVE_RIGHT, vzd.Button.ATTACK, vzd.Button.USE, vzd.Button.SPEED):
            g.add_available_button(b)
        try:
            g.init()
        except Exception as e:   # vizdoom raises its own exception types
            raise SourceUnavailable(NAME, f"ViZDoom failed to start: {e}") from None
        g.send_game_command("god")
        self.g, self.rng = g, rng
        self.turn_dir = 0
        self.turn_left = 0

    def close(self):
        try:
            self.g.close()
        except Exception:
            pass

    def _centre_depth(self, depth: np.ndarray) -> float:
        h, w = depth.shape
        c = depth[int(h * 0.2):int(h * 0.5), int(w * 0.38):int(w * 0.62)]   # above the weapon sprite
        return float(np.percentile(c, 20))

    def step(self, tics: int, per: int = 7) -> tuple[np.ndarray | None, float]:
        """Advance about ``tics`` tics with the policy, deciding every ``per`` tics (only those are rendered).

        Returns (screen RGB or None, centre depth) of the last state."""
        g, rng = self.g, self.rng
        tics = max(1, -(-int(tics) // per))
        if g.is_episode_finished() or g.is_player_dead():
            g.new_episode()
            g.send_game_command("god")
        screen, depth = None, 255.0
        for _ in range(tics):
            st = g.get_state()
            if st is None:
                g.new_episode()
                g.send_game_command("god")
                continue
            d = self._centre_depth(st.depth_buffer)
            a = [0.0] * 8
            if self.turn_left > 0:
                a[1 if self.turn_dir < 0 else 2] = 1
                self.turn_left -= 1
                if d > 40 and self.turn_left < 1:
                    self.turn_left = 0
            elif d < 14:
                # wall ahead: turn towards the deeper side
                dep = st.depth_buffer
                h, w = dep.shape
                band = dep[int(h * 0.3):int(h * 0.7)]
                left, right = float(band[:, : w // 3].mean()), float(band[:, -w // 3:].mean())
                self.turn_dir = -1 if left > right else 1
                if rng.random() < 0.15:
                    self.turn_dir *= -1
                self.turn_left = int(rng.integers(1, 4))
                a[1 if self.turn_dir < 0 else 2] = 1
            else:
                a[0] = 1
                r = rng.random()
                if r < 0.12:
                    a[1] = 1
                elif r < 0.24:
                    a[2] = 1
                elif r < 0.3:
                    a[3 + int(rng.integers(2))] = 1
                if rng.random() < 0.03:
                    a[5] = 1
                if rng.random() < 0.05:
                    a[6] = 1
                a[7] = float(rng.random() < 0.3)
            g.make_action(a, per)
            st = g.get_state()
            if st is not None:
                screen, depth = st.screen_buffer, self._centre_depth(st.depth_buffer)
                top = st.depth_buffer[: int(st.depth_buffer.shape[0] * 0.8)]
                if float(top[::4, ::4].std()) < 8 or float(np.percentile(top[::4, ::4], 90)) < 28:
                    depth = 0.0                # flat wall fills the view
        return screen, depth


def _good(screen: np.ndarray | None, depth: float) -> bool:
    return screen is not None and depth >= 10 and frame_variance_ok(screen, 18.0)


class DoomSource:
    name = NAME

    def available(self) -> str | None:
        try:
            vzd = _vzd()
        except SourceUnavailable as e:
            return e.reason
        pkg = os.path.dirname(vzd.__file__)
        missing = [w for w in _MAPS if not os.path.exists(os.path.join(pkg, w))]
        if len(missing) == len(_MAPS):
            return f"no Freedoom WAD in the vizdoom package ({pkg})"
        return None

    def frames(self, n: int, seed: int, sizes: Sequence[Size] | None = None) -> Iterator[np.ndarray]:
        done, session = 0, 0
        while done < n:
            rng = child_seed(seed, 11, session)
            session += 1
            size = check_size(pick_size(rng, sizes))
            game = _Game(rng, _native_for(size))
            try:
                game.step(int(rng.integers(60, 300)))        # leave the start spot
                per = int(rng.integers(3, 8))
                got, tries = 0, 0
                while got < per and done < n and tries < per * 6:
                    tries += 1
                    screen, depth = game.step(int(rng.integers(21, 70)))
                    if not _good(screen, depth):
                        continue
                    yield fit_to(screen, size)
                    got += 1
                    done += 1
            finally:
                game.close()

    def clip(self, n: int, seed: int, size: Size | None = None) -> list[np.ndarray]:
        rng = child_seed(seed, 12)
        size = check_size(size) if size else pick_size(rng)
        game = _Game(rng, _native_for(size))
        try:
            game.step(int(rng.integers(60, 400)))
            for _ in range(30):                      # start the clip at a view with something to see
                screen, depth = game.step(4)
                if _good(screen, depth):
                    break
            out = [fit_to(screen, size)] if screen is not None else []
            while len(out) < n:
                screen, _ = game.step(1, per=1)
                if screen is not None:
                    out.append(fit_to(screen, size))
            return out[:n]
        finally:
            game.close()


SOURCE = DoomSource()
