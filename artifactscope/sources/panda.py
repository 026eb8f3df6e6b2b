"""``panda3d``: Panda3D's software renderer (p3tinydisplay, offscreen; no GPU and no screen needed) with the
models bundled in the panda3d wheel (environment, panda, teapot, smiley, frowney, box).

Camera position/target, field of view, lighting colour/direction, background colour, models and their
colours vary with the seed. One ShowBase per process (Panda3D allows only one); one offscreen buffer per
frame size, cached. Deterministic for a seed (software rasteriser, no timing-dependent state).
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence

import numpy as np

from ._base import INSTALL_HINT, Size, SourceUnavailable, check_size, child_seed, fit_to, frame_variance_ok, pick_size

NAME = "panda3d"
_STATE: dict = {}
_PROPS = ["models/panda", "models/teapot", "models/smiley", "models/frowney", "models/box"]


def _base():
    if "base" in _STATE:
        return _STATE["base"]
    try:
        from panda3d.core import loadPrcFileData
    except ImportError as e:
        raise SourceUnavailable(NAME, f"panda3d is not installed ({e}): {INSTALL_HINT}") from None
    loadPrcFileData("artifactscope", "load-display p3tinydisplay\nwindow-type offscreen\naudio-library-name null\n"
                    "win-size 64 64\nsync-video 0\nframebuffer-multisample 0\nnotify-level error\n"
                    "default-directnotify-level error\nprint-pipe-types 0\n")
    try:
        from direct.showbase.ShowBase import ShowBase

        base = ShowBase(windowType="offscreen")
    except Exception as e:
        raise SourceUnavailable(NAME, f"Panda3D could not open an offscreen software buffer: {e}") from None
    if base.win is None:
        raise SourceUnavailable(NAME, "Panda3D opened no offscreen buffer (p3tinydisplay missing?)")
    base.disableMouse()
    _STATE["base"] = base
    _STATE["buffers"] = {}
    _STATE["models"] = {}
    # warm up: the first render after loading textures differs by +-1 from later ones; render everything once
    warm = _Scene(np.random.default_rng(0), all_props=True)
    warm.render((64, 64), (0.0, -10.0, 3.0), (0.0, 30.0, 0.0))
    warm.close()
    return base


def _buffer(size: Size):
    from panda3d.core import Texture

    base = _base()
    bufs = _STATE["buffers"]
    if size not in bufs:
        tex = Texture()
        buf = base.win.makeTextureBuffer(f"as{size[0]}x{size[1]}", size[0], size[1], tex, True)
        if buf is None:
            raise SourceUnavailable(NAME, f"could not make a {size} offscreen buffer")
        buf.setActive(False)
        cam = base.makeCamera(buf)
        cam.node().getLens().setAspectRatio(size[0] / size[1])
        bufs[size] = (buf, tex, cam)
    return bufs[size]


def _model(path: str):
    base = _base()
    m = _STATE["models"].get(path)
    if m is None:
        m = base.loader.loadModel(path)
        _STATE["models"][path] = m
    return m


class _Scene:
    def __init__(self, rng: np.random.Generator, all_props: bool = False):
        from panda3d.core import AmbientLight, DirectionalLight, NodePath, Vec4

        base = _base()
        self.root = NodePath("scene")
        self.root.reparentTo(base.render)
        env = _model("models/environment").instanceTo(self.root)
        env.setScale(0.25)
        env.setPos(-8, 42, 0)
        tint = 1 - rng.uniform(0, 0.35, 3)
        env.setColorScale(float(tint[0]), float(tint[1]), float(tint[2]), 1)
        props = list(_PROPS) if all_props else [str(rng.choice(_PROPS)) for _ in range(int(rng.integers(1, 7)))]
        for p in props:
            m = _model(p).instanceTo(self.root)
            s = {"models/panda": 0.3, "models/teapot": 1.0, "models/box": 2.0}.get(p, 1.2) * rng.uniform(0.5, 1.8)
            m.setScale(s)
            m.setPos(float(rng.uniform(-15, 15)), float(rng.uniform(10, 50)),
                     0.0 if p != "models/smiley" and p != "models/frowney" else float(rng.uniform(1, 4)))
            m.setH(float(rng.uniform(0, 360)))
            if rng.random() < 0.4:
                c = rng.uniform(0.4, 1, 3)
                m.setColorScale(float(c[0]), float(c[1]), float(c[2]), 1)
        amb = AmbientLight("amb")
        a = rng.uniform(0.15, 0.5)
        ac = a * rng.uniform(0.8, 1.0, 3)
        amb.setColor(Vec4(float(ac[0]), float(ac[1]), float(ac[2]), 1))
        sun = DirectionalLight("sun")
        sc = rng.uniform(0.5, 1.0) * np.array([1.0, rng.uniform(0.75, 1.0), rng.uniform(0.55, 1.0)])
        sun.setColor(Vec4(float(sc[0]), float(sc[1]), float(sc[2]), 1))
        self.lights = [self.root.attachNewNode(amb), self.root.attachNewNode(sun)]
        self.lights[1].setHpr(float(rng.uniform(0, 360)), float(rng.uniform(-80, -15)), 0)
        for ln in self.lights:
            self.root.setLight(ln)
        bg = rng.uniform(0.2, 0.9, 3) * np.array([0.6, 0.8, 1.0])
        self.bg = (float(bg[0]), float(bg[1]), float(bg[2]), 1.0)
        self.fov = float(rng.uniform(50, 90))
        self.rng = rng

    def random_view(self):
        rng = self.rng
        pos = (float(rng.uniform(-25, 25)), float(rng.uniform(-20, 40)), float(rng.uniform(1.5, 14)))
        tgt = (float(rng.uniform(-12, 12)), float(rng.uniform(15, 50)), float(rng.uniform(0, 4)))
        return pos, tgt

    def render(self, size: Size, pos, tgt) -> np.ndarray:
        base = _base()
        buf, tex, cam = _buffer(size)
        buf.setClearColor(self.bg)
        cam.node().getLens().setFov(self.fov)
        cam.node().setScene(self.root)
        cam.setPos(*pos)
        cam.lookAt(*tgt)
        buf.setActive(True)
        base.graphicsEngine.renderFrame()
        buf.setActive(False)
        data = tex.getRamImageAs("RGB")
        a = np.frombuffer(bytes(data), np.uint8).reshape(tex.getYSize(), tex.getXSize(), 3)[::-1]
        return np.ascontiguousarray(a[: size[1], : size[0]])

    def close(self):
        self.root.removeNode()


class Panda3DSource:
    name = NAME

    def available(self) -> str | None:
        import importlib.util

        if importlib.util.find_spec("panda3d") is None:
            return f"panda3d is not installed: {INSTALL_HINT}"
        try:
            _base()
        except SourceUnavailable as e:
            return e.reason
        return None

    def frames(self, n: int, seed: int, sizes: Sequence[Size] | None = None) -> Iterator[np.ndarray]:
        for i in range(int(n)):
            rng = child_seed(seed, 31, i)
            size = check_size(pick_size(rng, sizes))
            sc = _Scene(rng)
            try:
                for _ in range(8):
                    pos, tgt = sc.random_view()
                    img = sc.render(size, pos, tgt)
                    if frame_variance_ok(img, 15):
                        break
                yield img
            finally:
                sc.close()

    def clip(self, n: int, seed: int, size: Size | None = None) -> list[np.ndarray]:
        rng = child_seed(seed, 32)
        size = check_size(size) if size else pick_size(rng)
        sc = _Scene(rng)
        try:
            pos, tgt = sc.random_view()
            yaw = float(rng.uniform(-0.03, 0.03))
            step = np.array([rng.uniform(-0.3, 0.3), rng.uniform(0.1, 0.5), 0.0])
            out = []
            for j in range(int(n)):
                p = np.array(pos) + step * j
                t = np.array(tgt) - np.array(pos)
                c, s = math.cos(yaw * j), math.sin(yaw * j)
                t = np.array([t[0] * c - t[1] * s, t[0] * s + t[1] * c, t[2]]) + p
                out.append(sc.render(size, tuple(map(float, p)), tuple(map(float, t))))
            return out
        finally:
            sc.close()


SOURCE = Panda3DSource()
