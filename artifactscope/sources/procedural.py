"""``procedural``: a pure numpy/OpenCV 2.5D game-scene renderer (no optional dependency).

Each scene is drawn from a seed: time of day (day, dusk, dawn, night, overcast), biome (grassland, town with a
road grid, desert, winter), textured perspective ground with distance fog and mip-like filtering, sky with sun
glow, clouds and stars, parallax hills, shaded buildings with windows and gabled roofs, trees, rocks, crates,
street lamps, and a HUD (first-person shooter, RPG, racing or none) with text, bars, a minimap and a compass.
A clip moves and turns the camera through one scene.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from ._base import Size, check_size, child_seed, pick_size

NAME = "procedural"


# --------------------------------------------------------------------------------------------------- helpers
def _pnoise(rng: np.random.Generator, n: int, beta: float) -> np.ndarray:
    """Periodic (tileable) 1/f^beta noise, n x n, zero mean, unit std, float32."""
    white = rng.standard_normal((n, n))
    fx = np.fft.fftfreq(n)
    f = np.sqrt(fx[:, None] ** 2 + fx[None, :] ** 2)
    f[0, 0] = 1.0
    spec = np.fft.fft2(white) / f ** beta
    spec[0, 0] = 0
    out = np.real(np.fft.ifft2(spec))
    out /= out.std() + 1e-9
    return out.astype(np.float32)


def _upwrap(a: np.ndarray, n: int) -> np.ndarray:
    """Upscale a tileable array to n x n keeping it tileable."""
    import cv2

    m = a.shape[0]
    p = 2
    padded = np.pad(a, ((p, p), (p, p)) + ((0, 0),) * (a.ndim - 2), mode="wrap")
    s = n / m
    big = cv2.resize(padded, (int(round((m + 2 * p) * s)),) * 2, interpolation=cv2.INTER_CUBIC)
    o = int(round(p * s))
    return np.ascontiguousarray(big[o:o + n, o:o + n])


def _wrap(a: np.ndarray, scale: float, n: int) -> np.ndarray:
    """(a * scale) mod n as float32 (faster than np.mod)."""
    t = a * np.float32(scale)
    t -= np.floor(t * np.float32(1.0 / n)) * np.float32(n)
    return t.astype(np.float32, copy=False)


def _jit(rng, col, amount=18):
    return np.clip(np.asarray(col, np.float32) + rng.uniform(-amount, amount, 3), 0, 255)


def _c(col) -> tuple[int, int, int]:
    return tuple(int(v) for v in np.clip(col, 0, 255))


# --------------------------------------------------------------------------------------------------- scene
@dataclass
class _Scene:
    tod: str
    biome: str
    zenith: np.ndarray
    horizon: np.ndarray
    fog: np.ndarray
    sun_col: np.ndarray
    ambient: float
    diffuse: float
    sun_dir: np.ndarray            # world unit vector towards the sun (x, y up, z)
    show_sun: bool
    fog_dist: float
    atlas: np.ndarray              # ground colour atlas, float32 RGB, tileable
    atlas_blur: np.ndarray
    atlas_mean: np.ndarray
    atlas_m: float                 # metres covered by the atlas
    detail: np.ndarray             # single-channel multiplicative detail texture, tileable
    detail_m: float
    clouds: np.ndarray             # panorama (elevation x azimuth), float32 0..1
    cloud_col: np.ndarray
    stars: np.ndarray              # (N, 3) unit directions
    hills: list = field(default_factory=list)   # (amps, phases, colour, base)
    objects: list = field(default_factory=list)
    hud: str = "none"
    hud_col: tuple = (255, 255, 255)
    hud_font: int = 0
    hud_vals: dict = field(default_factory=dict)
    cam_h: float = 1.7
    fov: float = 80.0


_TOD = ("day", "day", "day", "dusk", "dawn", "night", "overcast")
_BIOMES = ("grass", "town", "town", "desert", "winter")


def _make_scene(rng: np.random.Generator) -> _Scene:
    tod = str(rng.choice(_TOD))
    biome = str(rng.choice(_BIOMES))
    az = rng.uniform(0, 2 * math.pi)
    if tod == "day":
        zen, hor, sun, amb, dif, el = (50, 110, 215), (165, 200, 235), (255, 248, 230), 0.5, 0.75, rng.uniform(25, 60)
    elif tod in ("dusk", "dawn"):
        zen = (45, 55, 120) if tod == "dusk" else (70, 90, 150)
        hor = (250, 145, 80) if tod == "dusk" else (250, 190, 140)
        sun, amb, dif, el = (255, 185, 110), 0.38, 0.7, rng.uniform(2, 9)
    elif tod == "night":
        zen, hor, sun, amb, dif, el = (4, 7, 22), (22, 32, 58), (150, 170, 230), 0.22, 0.35, rng.uniform(20, 50)
    else:
        zen, hor, sun, amb, dif, el = (135, 142, 152), (188, 190, 196), (230, 230, 235), 0.65, 0.3, rng.uniform(30, 60)
    zen, hor, sun = _jit(rng, zen), _jit(rng, hor), _jit(rng, sun, 10)
    el = math.radians(el)
    sun_dir = np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)], np.float32)
    fog_dist = {"overcast": rng.uniform(60, 120), "night": rng.uniform(50, 110)}.get(tod, rng.uniform(120, 320))

    # --- ground atlas
    n = 256
    low = _upwrap(_pnoise(rng, 64, 1.6), n)
    mid = _upwrap(_pnoise(rng, 128, 1.0), n)
    light = (amb + dif * max(0.0, float(sun_dir[1]))) * sun / 255.0
    if biome in ("grass", "town"):
        a, b = _jit(rng, (70, 115, 45), 15), _jit(rng, (115, 100, 60), 15)
    elif biome == "desert":
        a, b = _jit(rng, (205, 175, 120), 12), _jit(rng, (175, 140, 95), 12)
    else:
        a, b = _jit(rng, (230, 234, 242), 8), _jit(rng, (180, 190, 205), 10)
    t = np.clip(0.5 + 0.35 * low, 0, 1)[..., None]
    atlas = a * (1 - t) + b * t
    atlas = atlas * (1 + 0.12 * mid[..., None])
    atlas_m = 48.0
    if biome == "town":
        ppm = n / atlas_m
        road_w = rng.uniform(7, 10)
        walk = 2.0
        coords = (np.arange(n) + 0.5) / ppm
        d = np.minimum(coords, atlas_m - coords)           # distance to the road centre line at 0 / 48 m
        road_x = d < road_w / 2
        walk_x = (d >= road_w / 2) & (d < road_w / 2 + walk)
        road = road_x[None, :] | road_x[:, None]
        walkm = (walk_x[None, :] | walk_x[:, None]) & ~road
        asphalt = _jit(rng, (70, 72, 76), 10) * (1 + 0.06 * mid[..., None])
        pav = _jit(rng, (165, 160, 150), 12) * (1 + 0.05 * mid[..., None])
        atlas = np.where(road[..., None], asphalt, atlas)
        atlas = np.where(walkm[..., None], pav, atlas)
        # paving joints and lane dashes
        joint = ((np.arange(n) % max(2, int(ppm * 1.5))) == 0)
        jm = walkm & (joint[None, :] | joint[:, None])
        atlas[jm] *= 0.8
        dash = (np.abs(coords - 0) < 0.2) | (np.abs(coords - atlas_m) < 0.2)
        along = ((coords % 6.0) < 3.0)
        lane_col = _jit(rng, (230, 220, 160), 15)
        inter = road_x[None, :] & road_x[:, None]
        lane = ((dash[None, :] & along[:, None]) | (dash[:, None] & along[None, :])) & ~inter
        atlas[lane] = lane_col
    atlas = np.clip(atlas * light, 0, 255).astype(np.float32)
    atlas_blur = _blur_wrap(atlas, 3.0)
    detail = 1.0 + 0.22 * np.tanh(_pnoise(rng, 128, 0.7))
    if biome == "desert":
        yy = np.arange(128, dtype=np.float32)[:, None]
        detail = detail * (1 + 0.08 * np.sin(yy / 128 * 2 * math.pi * 9 + 0.6 * _upwrap(_pnoise(rng, 32, 1.5), 128)))
    detail = detail.astype(np.float32)

    # --- sky extras
    cov = {"overcast": 0.75, "night": 0.2}.get(tod, rng.uniform(0.0, 0.55))
    cn = _pnoise(rng, 128, 1.4)
    cn = np.concatenate([cn[:32], cn[32:64]], axis=1)        # 32 x 256 panorama, periodic in azimuth
    clouds = np.clip((cn - (1.4 - 2.2 * cov)) / 1.2, 0, 1) ** 1.2
    cloud_col = _jit(rng, (250, 250, 252) if tod == "day" else
                     (250, 190, 170) if tod in ("dusk", "dawn") else
                     (40, 45, 60) if tod == "night" else (165, 168, 175), 8)
    ns = 500 if tod == "night" else 0
    sd = rng.standard_normal((ns, 3))
    sd[:, 1] = np.abs(sd[:, 1])
    stars = (sd / (np.linalg.norm(sd, axis=1, keepdims=True) + 1e-9)).astype(np.float32)

    sc = _Scene(tod=tod, biome=biome, zenith=zen, horizon=hor, fog=hor * 0.9 + zen * 0.1, sun_col=sun,
                ambient=amb, diffuse=dif, sun_dir=sun_dir, show_sun=tod != "overcast", fog_dist=fog_dist,
                atlas=atlas, atlas_blur=atlas_blur, atlas_mean=atlas.reshape(-1, 3).mean(0), atlas_m=atlas_m,
                detail=detail, detail_m=rng.uniform(1.2, 2.5), clouds=clouds.astype(np.float32),
                cloud_col=cloud_col, stars=stars)
    sc.cam_h = float(rng.uniform(1.5, 2.2) if rng.random() < 0.8 else rng.uniform(3, 9))
    sc.fov = float(rng.uniform(65, 100))

    # --- hills (angular heights as functions of azimuth)
    hill_base = {"desert": (170, 130, 95), "winter": (200, 205, 220)}.get(biome, (60, 95, 70))
    for layer in range(int(rng.integers(1, 4))):
        k = np.arange(1, 12)
        amps = rng.uniform(0, 1, k.size) / k ** rng.uniform(0.9, 1.5)
        amps *= rng.uniform(0.03, 0.12) / (amps.sum() + 1e-9)
        phases = rng.uniform(0, 2 * math.pi, k.size)
        col = _jit(rng, hill_base, 20) * (light * 0.9)
        mix = 0.75 - 0.22 * layer
        col = col * (1 - mix) + sc.fog * mix
        sc.hills.append((amps, phases, col, rng.uniform(0.005, 0.03) * (3 - layer) / 3))
    sc.hills.reverse()   # far first: the first created (mix largest) is drawn first after reverse? keep far->near
    sc.hills.sort(key=lambda h: -float(np.mean(np.abs(np.asarray(h[2]) - sc.fog))))
    sc.hills.reverse()

    _populate(sc, rng)
    _make_hud(sc, rng)
    return sc


def _blur_wrap(img: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    p = int(3 * sigma) + 1
    padded = np.pad(img, ((p, p), (p, p), (0, 0)), mode="wrap")
    return np.ascontiguousarray(cv2.GaussianBlur(padded, (0, 0), sigma)[p:-p, p:-p])


def _populate(sc: _Scene, rng: np.random.Generator) -> None:
    """World objects within ~160 m of the origin (where every camera starts)."""
    objs = sc.objects
    R = 170.0
    if sc.biome == "town":
        M = sc.atlas_m
        wall_cols = [(190, 180, 165), (170, 90, 70), (150, 150, 155), (215, 205, 180), (120, 130, 150),
                     (200, 160, 110), (235, 235, 230)]
        for bx in range(-4, 4):
            for bz in range(-4, 4):
                x0, z0 = bx * M + 7.5, bz * M + 7.5           # block interior (roads at multiples of M)
                span = M - 15
                if rng.random() < 0.12:     # park block
                    for _ in range(int(rng.integers(4, 10))):
                        objs.append(_tree(rng, x0 + rng.uniform(0, span), z0 + rng.uniform(0, span), sc))
                    continue
                nx = int(rng.integers(1, 4))
                nz = int(rng.integers(1, 3))
                cw, cd = span / nx, span / nz
                tall = rng.uniform(1, 3.5)
                for i in range(nx):
                    for j in range(nz):
                        if rng.random() < 0.15:
                            continue
                        w = cw * rng.uniform(0.7, 0.95)
                        d = cd * rng.uniform(0.7, 0.95)
                        h = rng.uniform(4, 10) * tall
                        objs.append(dict(kind="building", x0=x0 + i * cw, z0=z0 + j * cd, x1=x0 + i * cw + w,
                                         z1=z0 + j * cd + d, h=h,
                                         col=_jit(rng, wall_cols[int(rng.integers(len(wall_cols)))], 15),
                                         roof=bool(h < 12 and rng.random() < 0.6),
                                         roof_col=_jit(rng, (120, 60, 50) if rng.random() < 0.6 else (70, 75, 85)),
                                         floor_h=rng.uniform(2.8, 3.6), win_w=rng.uniform(1.0, 1.8),
                                         win_sp=rng.uniform(2.2, 3.5), lit=rng.uniform(0.2, 0.7)))
                # street trees and lamps along the block edge
                for s in np.arange(3, M - 3, rng.uniform(8, 14)):
                    if rng.random() < 0.5:
                        objs.append(_tree(rng, bx * M + 6.2, bz * M + s, sc, scale=0.7))
                    if rng.random() < 0.35:
                        objs.append(dict(kind="lamp", x=bx * M + 5.6, z=bz * M + s + 4, h=rng.uniform(4.5, 6)))
        for _ in range(int(rng.integers(3, 12))):
            bx, bz = rng.integers(-3, 3, 2)
            objs.append(_crate(rng, bx * M + rng.choice([-1, 1]) * 5.5, bz * M + rng.uniform(0, M), sc))
    else:
        n_trees = {"grass": rng.integers(60, 220), "winter": rng.integers(50, 200), "desert": rng.integers(0, 12)}
        for _ in range(int(n_trees[sc.biome])):
            r, a = R * math.sqrt(rng.uniform(0.002, 1)), rng.uniform(0, 2 * math.pi)
            objs.append(_tree(rng, r * math.sin(a), r * math.cos(a), sc))
        for _ in range(int(rng.integers(8, 40))):
            r, a = R * math.sqrt(rng.uniform(0.005, 1)), rng.uniform(0, 2 * math.pi)
            objs.append(dict(kind="rock", x=r * math.sin(a), z=r * math.cos(a), s=rng.uniform(0.4, 3.5),
                             col=_jit(rng, (120, 115, 110) if sc.biome != "desert" else (160, 120, 85), 20),
                             shape=rng.uniform(0.6, 1.3, 9)))
        house_cols = [(150, 105, 70), (200, 190, 170), (120, 80, 55), (180, 175, 160)]
        for _ in range(int(rng.integers(2, 14))):
            r, a = rng.uniform(15, R), rng.uniform(0, 2 * math.pi)
            x, z = r * math.sin(a), r * math.cos(a)
            w, d = rng.uniform(5, 12), rng.uniform(5, 10)
            objs.append(dict(kind="building", x0=x, z0=z, x1=x + w, z1=z + d, h=rng.uniform(3, 7),
                             col=_jit(rng, house_cols[int(rng.integers(len(house_cols)))], 15),
                             roof=sc.biome != "desert", roof_col=_jit(rng, (110, 55, 45)),
                             floor_h=3.0, win_w=1.0, win_sp=rng.uniform(2.5, 4), lit=0.5))
        for _ in range(int(rng.integers(0, 10))):
            r, a = rng.uniform(4, 60), rng.uniform(0, 2 * math.pi)
            objs.append(_crate(rng, r * math.sin(a), r * math.cos(a), sc))


def _tree(rng, x, z, sc: _Scene, scale: float = 1.0) -> dict:
    conifer = sc.biome == "winter" or rng.random() < (0.1 if sc.biome == "desert" else 0.3)
    h = rng.uniform(4, 12) * scale
    if sc.biome == "desert":
        col = (70, 120, 60)
    elif sc.biome == "winter":
        col = (35, 75, 50)
    else:
        col = ((40, 90, 35), (60, 110, 40), (85, 120, 45), (140, 110, 40))[int(rng.integers(4))]
    return dict(kind="conifer" if conifer else "tree", x=x, z=z, h=h, r=h * rng.uniform(0.22, 0.38),
                col=_jit(rng, col, 15), trunk=_jit(rng, (90, 65, 45), 10), snow=sc.biome == "winter",
                blobs=rng.uniform(-1, 1, (6, 3)))


def _crate(rng, x, z, sc) -> dict:
    s = rng.uniform(0.7, 1.6)
    a = rng.uniform(0, math.pi / 2)
    col = _jit(rng, ((150, 110, 65), (90, 100, 80), (160, 60, 50), (60, 90, 140))[int(rng.integers(4))], 12)
    return dict(kind="crate", x=x, z=z, s=s, a=a, col=col)


def _make_hud(sc: _Scene, rng) -> None:
    sc.hud = str(rng.choice(["fps", "fps", "rpg", "race", "none"]))
    sc.hud_col = _c(_jit(rng, ((240, 240, 240), (255, 220, 90), (120, 230, 255), (140, 255, 140))[int(rng.integers(4))], 10))
    sc.hud_font = int(rng.choice([0, 2, 3, 4]))    # cv2 HERSHEY SIMPLEX / DUPLEX / COMPLEX / TRIPLEX
    sc.hud_vals = dict(hp=float(rng.uniform(0.1, 1)), mp=float(rng.uniform(0, 1)), ammo=int(rng.integers(0, 31)),
                       reserve=int(rng.integers(0, 240)), score=int(rng.integers(0, 99999)),
                       lap=int(rng.integers(1, 4)), pos=int(rng.integers(1, 9)), speed=int(rng.integers(40, 260)),
                       t=float(rng.uniform(0, 300)), slots=rng.integers(0, 6, 10).tolist(),
                       quest=str(rng.choice(["Find the lost relic", "Reach the outpost", "Defeat the warden",
                                             "Collect 5 crystals", "Escort the caravan", "Return to town"])),
                       level=int(rng.integers(1, 60)), weapon=bool(rng.random() < 0.6))


# --------------------------------------------------------------------------------------------------- camera
@dataclass
class _Cam:
    x: float
    z: float
    yaw: float
    pitch: float
    h: float


def _start_cam(sc: _Scene, rng) -> _Cam:
    if sc.biome == "town":
        M = sc.atlas_m
        if rng.random() < 0.5:
            x, z, yaw = rng.uniform(-1.5, 1.5) + rng.integers(-1, 2) * M, rng.uniform(-M, M), rng.choice([0, math.pi])
        else:
            z, x, yaw = rng.uniform(-1.5, 1.5) + rng.integers(-1, 2) * M, rng.uniform(-M, M), rng.choice([0.5, 1.5]) * math.pi
        yaw += rng.uniform(-0.5, 0.5)
    else:
        x, z, yaw = rng.uniform(-5, 5), rng.uniform(-5, 5), rng.uniform(0, 2 * math.pi)
    return _Cam(float(x), float(z), float(yaw), float(rng.uniform(-0.12, 0.1)), sc.cam_h)


# --------------------------------------------------------------------------------------------------- render
def _render(sc: _Scene, cam: _Cam, W: int, H: int) -> np.ndarray:
    import cv2

    F = (W / 2) / math.tan(math.radians(sc.fov) / 2)
    hz = H / 2 - F * math.tan(cam.pitch)
    hz = float(np.clip(hz, H * 0.2, H * 0.8))
    fx, fz = math.sin(cam.yaw), math.cos(cam.yaw)      # forward
    rx, rz = math.cos(cam.yaw), -math.sin(cam.yaw)     # right
    img = np.empty((H, W, 3), np.float32)

    # ---- sky at quarter resolution
    hs = int(math.ceil(hz)) + 1
    sw, sh = max(8, W // 4), max(4, hs // 4)
    u = ((np.arange(sw) + 0.5) * (W / sw) - W / 2) / F
    v = (hz - (np.arange(sh) + 0.5) * (hs / sh)) / F
    dx = u[None, :] * rx + fx + 0 * v[:, None]
    dz = u[None, :] * rz + fz + 0 * v[:, None]
    dy = v[:, None] + 0 * u[None, :]
    nrm = np.sqrt(dx * dx + dy * dy + dz * dz)
    dx, dy, dz = dx / nrm, dy / nrm, dz / nrm
    el = np.clip(dy, 0, 1)
    t = (el ** 0.55)[..., None]
    sky = sc.horizon * (1 - t) + sc.zenith * t
    sdot = dx * sc.sun_dir[0] + dy * sc.sun_dir[1] + dz * sc.sun_dir[2]
    if sc.show_sun:
        glow = np.clip(sdot, 0, 1) ** 24 * 0.6 + np.clip(sdot, 0, 1) ** 4 * 0.25
        if sc.tod == "night":
            glow *= 0.3
        sky = sky + glow[..., None] * (sc.sun_col - sky) * 0.9
    # clouds from the panorama (elevation x azimuth)
    azi = (np.arctan2(dx, dz) / (2 * math.pi) % 1.0) * sc.clouds.shape[1]
    elev = np.arcsin(np.clip(dy, 0, 1)) / (math.pi / 2)
    cy = np.clip(elev, 0, 1) ** 0.5 * (sc.clouds.shape[0] - 1)
    cl = cv2.remap(sc.clouds, azi.astype(np.float32), cy.astype(np.float32), cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_WRAP)
    cl = cl * np.clip(el * 12, 0, 1)
    shade = 1 - 0.25 * np.clip(cl * 1.5 - 0.3, 0, 1)
    sky = sky * (1 - cl[..., None]) + (sc.cloud_col * shade[..., None]) * cl[..., None]
    img[:hs] = cv2.resize(sky.astype(np.float32), (W, hs), interpolation=cv2.INTER_LINEAR)[:hs]

    def project_dir(d):
        """Screen position of a world direction (or None if behind)."""
        cz = d[0] * fx + d[2] * fz
        if cz <= 0.05:
            return None
        cx = d[0] * rx + d[2] * rz
        return W / 2 + F * cx / cz, hz - F * d[1] / cz

    out = img  # alias
    if len(sc.stars):
        cz = sc.stars[:, 0] * fx + sc.stars[:, 2] * fz
        ok = cz > 0.1
        cx = sc.stars[ok, 0] * rx + sc.stars[ok, 2] * rz
        su = (W / 2 + F * cx / cz[ok]).astype(int)
        svv = (hz - F * sc.stars[ok, 1] / cz[ok]).astype(int)
        m = (su >= 0) & (su < W) & (svv >= 0) & (svv < int(hz) - 2)
        b = (np.arange(m.sum()) * 37 % 160 + 90).astype(np.float32)[:, None]
        out[svv[m], su[m]] = np.maximum(out[svv[m], su[m]], b)
    if sc.show_sun:
        p = project_dir(sc.sun_dir)
        if p is not None and p[1] < hz:
            rr = max(2, int(F * (0.045 if sc.tod == "night" else 0.03)))
            disc = _c(sc.sun_col * 0.3 + 255 * 0.7) if sc.tod != "night" else (235, 235, 220)
            cv2.circle(out, (int(p[0]), int(p[1])), rr, disc, -1, cv2.LINE_AA)

    # ---- hills
    cols = np.arange(0, W + 8, 8, dtype=np.float64)
    az = cam.yaw + np.arctan((cols - W / 2) / F)
    k = np.arange(1, 12)
    for amps, phases, col, base in sc.hills:
        ang = base + (np.sin(az[:, None] * k[None, :] + phases[None, :]) * amps[None, :]).sum(1) + amps.sum()
        ang = np.clip(ang, 0.002, 0.5)
        top = hz - F * np.tan(ang) / np.cos(np.arctan((cols - W / 2) / F))
        pts = np.stack([cols, top], 1)
        poly = np.concatenate([pts, [[W + 8, hz + 2], [0, hz + 2]]]).astype(np.int32)
        cv2.fillPoly(out, [poly], _c(col), cv2.LINE_AA)

    # ---- ground
    g0 = int(math.floor(hz)) + 1
    if g0 < H:
        vv = np.arange(g0, H, dtype=np.float32) + 0.5
        zc = (F * cam.h / np.maximum(vv - hz, 0.5)).astype(np.float32)       # depth per row
        xn = ((np.arange(W, dtype=np.float32) + 0.5) - W / 2) / F
        X = cam.x + zc[:, None] * (xn[None, :] * rx + fx)
        Z = cam.z + zc[:, None] * (xn[None, :] * rz + fz)
        n = sc.atlas.shape[0]
        s = n / sc.atlas_m
        fp = zc / F * s                                      # atlas texels per pixel (decreases down the rows)
        wb = np.clip(np.log2(np.maximum(fp, 1e-3)) / 2.5, 0, 1)
        wm = np.clip((fp - 6) / 10, 0, 1)
        fogr = np.maximum(1 - np.exp(-zc / sc.fog_dist), np.clip(1 - (vv - hz) / 3.0, 0, 1)).astype(np.float32)
        g = np.empty((len(vv), W, 3), np.float32)
        far = int(np.searchsorted(-wm, -0.999))              # rows [0, far) are flat mean colour
        g[:far] = sc.atlas_mean
        if far < len(vv):
            Xs, Zs = X[far:], Z[far:]
            mu, mv = _wrap(Xs, s, n), _wrap(Zs, s, n)
            gg = cv2.remap(sc.atlas, mu, mv, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
            sharp_from = int(np.searchsorted(-wb[far:], -0.0005))   # rows from here need no blur
            if sharp_from > 0:
                b = cv2.remap(sc.atlas_blur, mu[:sharp_from], mv[:sharp_from], cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_WRAP)
                w = wb[far:far + sharp_from, None, None]
                gg[:sharp_from] += (b - gg[:sharp_from]) * w
                w = wm[far:far + sharp_from, None, None]
                gg[:sharp_from] += (sc.atlas_mean - gg[:sharp_from]) * w
            g[far:] = gg
        # fine detail near the camera
        dn = sc.detail.shape[0]
        ds = dn / sc.detail_m
        dfp = zc / F * ds
        near = np.nonzero(dfp < 2.0)[0]
        if near.size:
            r0 = near[0]
            det = cv2.remap(sc.detail, _wrap(X[r0:], ds, dn), _wrap(Z[r0:], ds, dn), cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_WRAP)
            wd = np.clip(2.0 - dfp[r0:], 0, 1)[:, None]
            det -= 1
            det *= wd
            det += 1
            g[r0:] *= det[..., None]
        g *= (1 - fogr)[:, None, None]
        g += (fogr[:, None] * sc.fog[None, :].astype(np.float32))[:, None, :]
        out[g0:] = g

    # ---- objects, far to near
    draw = []
    for o in sc.objects:
        if o["kind"] == "building":
            ox, oz = (o["x0"] + o["x1"]) / 2, (o["z0"] + o["z1"]) / 2
            rad = math.hypot(o["x1"] - o["x0"], o["z1"] - o["z0"]) / 2
        else:
            ox, oz = o["x"], o["z"]
            rad = o.get("r", o.get("s", 1.0)) + 0.5
        ddx, ddz = ox - cam.x, oz - cam.z
        czz = ddx * fx + ddz * fz
        if czz < -rad or czz > sc.fog_dist * 3.2 + rad:
            continue
        cxx = ddx * rx + ddz * rz
        if abs(cxx) - rad > (czz + rad) * (W / 2) / F + 2:
            continue
        draw.append((czz, o))
    draw.sort(key=lambda t: -t[0])

    ctx = _Ctx(sc, cam, W, H, F, hz, fx, fz, rx, rz)
    for czz, o in draw:
        k = o["kind"]
        if k == "building":
            ctx.building(out, o)
        elif k == "crate":
            ctx.crate(out, o)
        elif k in ("tree", "conifer"):
            ctx.tree(out, o)
        elif k == "rock":
            ctx.rock(out, o)
        elif k == "lamp":
            ctx.lamp(out, o)

    frame = np.clip(out, 0, 255).astype(np.uint8)
    _hud(frame, sc, cam)
    return frame


class _Ctx:
    """Projection and drawing of world objects for one camera."""

    def __init__(self, sc, cam, W, H, F, hz, fx, fz, rx, rz):
        self.sc, self.cam, self.W, self.H, self.F, self.hz = sc, cam, W, H, F, hz
        self.fx, self.fz, self.rx, self.rz = fx, fz, rx, rz
        self.near = 0.35

    def cam_space(self, P: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dx = P[..., 0] - self.cam.x
        dz = P[..., 2] - self.cam.z
        return dx * self.rx + dz * self.rz, P[..., 1] - self.cam.h, dx * self.fx + dz * self.fz

    def proj(self, P: np.ndarray):
        cx, cy, cz = self.cam_space(P)
        czc = np.maximum(cz, 1e-3)
        return np.stack([self.W / 2 + self.F * cx / czc, self.hz - self.F * cy / czc], -1), cz

    def light(self, col, normal) -> np.ndarray:
        sc = self.sc
        d = max(0.0, float(np.dot(normal, sc.sun_dir)))
        return np.asarray(col) * (sc.ambient + sc.diffuse * d) * sc.sun_col / 255.0

    def fogged(self, col, depth) -> tuple:
        f = 1 - math.exp(-max(depth, 0) / self.sc.fog_dist)
        return _c(np.asarray(col) * (1 - f) + self.sc.fog * f)

    def poly(self, img, pts2d: np.ndarray, col):
        p = np.round(pts2d * 8).astype(np.int32)
        if np.abs(p).max() > 2 ** 26:
            return
        import cv2

        cv2.fillPoly(img, [p], col, cv2.LINE_AA, shift=3)

    def face(self, img, P: np.ndarray, col, normal) -> bool:
        """Draw a planar 3D polygon if in front of the camera and facing it."""
        centre = P.mean(0)
        to_cam = np.array([self.cam.x, self.cam.h, self.cam.z]) - centre
        if np.dot(to_cam, normal) <= 0:
            return False
        pts, cz = self.proj(P)
        if cz.min() < self.near:
            return False
        self.poly(img, pts, self.fogged(self.light(col, normal), float(cz.mean())))
        return True

    def box(self, img, x0, z0, x1, z1, y0, y1, col):
        c = np.array
        faces = [
            (c([[x0, y0, z0], [x1, y0, z0], [x1, y1, z0], [x0, y1, z0]]), c([0, 0, -1.0])),
            (c([[x1, y0, z1], [x0, y0, z1], [x0, y1, z1], [x1, y1, z1]]), c([0, 0, 1.0])),
            (c([[x0, y0, z1], [x0, y0, z0], [x0, y1, z0], [x0, y1, z1]]), c([-1.0, 0, 0])),
            (c([[x1, y0, z0], [x1, y0, z1], [x1, y1, z1], [x1, y1, z0]]), c([1.0, 0, 0])),
            (c([[x0, y1, z0], [x1, y1, z0], [x1, y1, z1], [x0, y1, z1]]), c([0, 1.0, 0])),
        ]
        drawn = []
        for P, nrm in faces:
            if self.face(img, P, col, nrm):
                drawn.append((P, nrm))
        return drawn

    def building(self, img, o):
        x0, z0, x1, z1, h = o["x0"], o["z0"], o["x1"], o["z1"], o["h"]
        corners = np.array([[x, y, z] for x in (x0, x1) for y in (0, h) for z in (z0, z1)])
        _, cz = self.proj(corners)
        if cz.min() < self.near:
            return
        drawn = self.box(img, x0, z0, x1, z1, 0.0, h, o["col"])
        sc = self.sc
        night = sc.tod in ("night", "dusk")
        # windows
        for P, nrm in drawn:
            if nrm[1] != 0:
                continue
            a, b = P[0], P[1]
            length = float(np.linalg.norm(b - a))
            pts, czs = self.proj(P)
            if (pts[:, 0].max() - pts[:, 0].min()) < 12 or (pts[:, 1].max() - pts[:, 1].min()) < 12:
                continue
            nwin = int(length // o["win_sp"])
            nfl = int((h - 0.5) // o["floor_h"])
            if nwin < 1 or nfl < 1 or nwin * nfl > 1200:
                continue
            along = (b - a) / length
            off = (length - nwin * o["win_sp"]) / 2 + (o["win_sp"] - o["win_w"]) / 2
            xs = off + np.arange(nwin) * o["win_sp"]
            ys = 0.9 + np.arange(nfl) * o["floor_h"]
            wh = o["floor_h"] * 0.5
            X, Y = np.meshgrid(xs, ys)
            X, Y = X.ravel(), Y.ravel()
            base = a[None, :] + along[None, :] * X[:, None] + nrm[None, :] * 0.02
            quad = np.stack([base + along * 0,
                             base + along * o["win_w"],
                             base + along * o["win_w"] + np.array([0, 1.0, 0]) * wh,
                             base + np.array([0, 1.0, 0]) * wh], 1)
            quad[..., 1] += Y[:, None]
            q2, qz = self.proj(quad)
            depth = float(qz.mean())
            rng = np.random.default_rng(int(abs(x0 * 7919 + z0 * 104729)) % (2 ** 32))
            lit = rng.random(len(quad)) < (o["lit"] if night else 0.0)
            glass = self.fogged(self.light(np.array([70, 90, 120]), nrm) * (1.3 if sc.tod == "day" else 1.0), depth)
            lamp = self.fogged(np.array([255, 215, 140]), depth * 0.5)
            import cv2

            pd = [np.round(q * 8).astype(np.int32) for q, L in zip(q2, lit) if not L]
            pl = [np.round(q * 8).astype(np.int32) for q, L in zip(q2, lit) if L]
            if pd:
                cv2.fillPoly(img, pd, glass, cv2.LINE_AA, shift=3)
            if pl:
                cv2.fillPoly(img, pl, lamp, cv2.LINE_AA, shift=3)
        if o["roof"]:
            self.roof(img, o)

    def roof(self, img, o):
        x0, z0, x1, z1, h = o["x0"], o["z0"], o["x1"], o["z1"], o["h"]
        rh = min(x1 - x0, z1 - z0) * 0.35
        e = 0.3
        col = o["roof_col"]
        if (x1 - x0) >= (z1 - z0):
            zm = (z0 + z1) / 2
            A = np.array([[x0 - e, h, z0 - e], [x1 + e, h, z0 - e], [x1 + e, h + rh, zm], [x0 - e, h + rh, zm]])
            B = np.array([[x1 + e, h, z1 + e], [x0 - e, h, z1 + e], [x0 - e, h + rh, zm], [x1 + e, h + rh, zm]])
            n1 = np.array([0, z1 - z0, -2 * rh]); n2 = np.array([0, z1 - z0, 2 * rh])
            T1 = np.array([[x0, h, z1], [x0, h, z0], [x0, h + rh, zm]]); t1n = np.array([-1.0, 0, 0])
            T2 = np.array([[x1, h, z0], [x1, h, z1], [x1, h + rh, zm]]); t2n = np.array([1.0, 0, 0])
        else:
            xm = (x0 + x1) / 2
            A = np.array([[x0 - e, h, z1 + e], [x0 - e, h, z0 - e], [xm, h + rh, z0 - e], [xm, h + rh, z1 + e]])
            B = np.array([[x1 + e, h, z0 - e], [x1 + e, h, z1 + e], [xm, h + rh, z1 + e], [xm, h + rh, z0 - e]])
            n1 = np.array([-2 * rh, x1 - x0, 0]); n2 = np.array([2 * rh, x1 - x0, 0])
            T1 = np.array([[x0, h, z0], [x1, h, z0], [xm, h + rh, z0]]); t1n = np.array([0, 0, -1.0])
            T2 = np.array([[x1, h, z1], [x0, h, z1], [xm, h + rh, z1]]); t2n = np.array([0, 0, 1.0])
        n1 = n1 / np.linalg.norm(n1); n2 = n2 / np.linalg.norm(n2)
        self.face(img, T1, o["col"], t1n)
        self.face(img, T2, o["col"], t2n)
        self.face(img, A, col, n1)
        self.face(img, B, col, n2)

    def crate(self, img, o):
        s, a = o["s"], o["a"]
        ca, sa = math.cos(a), math.sin(a)
        x, z = o["x"], o["z"]
        # rotated box: draw as faces
        loc = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * s / 2
        xz = np.stack([x + loc[:, 0] * ca - loc[:, 1] * sa, z + loc[:, 0] * sa + loc[:, 1] * ca], 1)
        drawn_any = False
        for i in range(4):
            p, q = xz[i], xz[(i + 1) % 4]
            P = np.array([[p[0], 0, p[1]], [q[0], 0, q[1]], [q[0], s, q[1]], [p[0], s, p[1]]])
            nrm = np.array([q[1] - p[1], 0, -(q[0] - p[0])])
            nrm = nrm / (np.linalg.norm(nrm) + 1e-9)
            if self.face(img, P, o["col"], nrm):
                drawn_any = True
                pts, cz = self.proj(P)
                if np.ptp(pts[:, 1]) > 20:
                    import cv2

                    dark = self.fogged(self.light(o["col"] * 0.6, nrm), float(cz.mean()))
                    p8 = np.round(pts * 8).astype(np.int32)
                    th = max(1, int(np.ptp(pts[:, 1]) / 14))
                    cv2.polylines(img, [p8], True, dark, th, cv2.LINE_AA, shift=3)
                    cv2.line(img, tuple(p8[0]), tuple(p8[2]), dark, th, cv2.LINE_AA, shift=3)
        top = np.array([[xz[i][0], s, xz[i][1]] for i in range(4)])
        if drawn_any:
            self.face(img, top, o["col"] * 1.05, np.array([0, 1.0, 0]))

    def tree(self, img, o):
        import cv2

        base = np.array([[o["x"], 0.0, o["z"]], [o["x"], o["h"], o["z"]]])
        pts, cz = self.proj(base)
        if cz.min() < self.near + 0.5:
            return
        depth = float(cz[0])
        px = self.F / depth                      # pixels per metre
        (bx, by), (tx, ty) = pts
        trunk_w = max(1, int(px * o["h"] * 0.035))
        trunk = self.fogged(self.light(o["trunk"], np.array([0, 0.3, -1.0])), depth)
        up = np.array([0, 1.0, 0])
        lo = self.fogged(self.light(o["col"] * 0.75, np.array([0, 0.0, 1.0])), depth)
        hi = self.fogged(self.light(o["col"] * 1.15, up), depth)
        snow = self.fogged(self.light(np.array([235, 240, 250]), up), depth)
        r = o["r"] * px
        sun_sx = float(self.sc.sun_dir[0] * self.rx + self.sc.sun_dir[2] * self.rz)
        if o["kind"] == "conifer":
            cv2.line(img, (int(bx), int(by)), (int(bx), int(by - 0.3 * (by - ty))), trunk, trunk_w, cv2.LINE_AA)
            for i in range(3):
                f0 = 0.2 + i * 0.22
                yb = by + (ty - by) * f0
                yt = by + (ty - by) * min(1.0, f0 + 0.45)
                w = r * (1.25 - 0.3 * i)
                tri = np.array([[bx - w, yb], [bx + w, yb], [bx, yt]])
                self.poly(img, tri, lo)
                half = np.array([[bx, yb], [bx + w * (1 if sun_sx > 0 else -1), yb], [bx, yt]])
                self.poly(img, half, hi)
                if o["snow"]:
                    cap = np.array([[bx - w * 0.35, yb + (yt - yb) * 0.65], [bx + w * 0.35, yb + (yt - yb) * 0.65],
                                    [bx, yt]])
                    self.poly(img, cap, snow)
        else:
            cv2.line(img, (int(bx), int(by)), (int(bx), int(by - 0.6 * (by - ty))), trunk, trunk_w, cv2.LINE_AA)
            cyc = ty + r * 0.9
            for dx, dy, dr in o["blobs"]:
                cv2.circle(img, (int(bx + dx * r * 0.55), int(cyc + dy * r * 0.35)), max(1, int(r * (0.6 + 0.15 * dr))),
                           lo, -1, cv2.LINE_AA)
            for dx, dy, dr in o["blobs"][:4]:
                cv2.circle(img, (int(bx + dx * r * 0.4 + np.sign(sun_sx) * r * 0.2), int(cyc + dy * r * 0.25 - r * 0.2)),
                           max(1, int(r * (0.35 + 0.1 * dr))), hi, -1, cv2.LINE_AA)

    def rock(self, img, o):
        p, cz = self.proj(np.array([[o["x"], 0.0, o["z"]]]))
        if cz[0] < self.near + o["s"]:
            return
        px = self.F / cz[0]
        bx, by = p[0]
        r = o["s"] * px
        ang = np.linspace(0, math.pi, 9)
        pts = np.stack([bx + np.cos(ang) * r * o["shape"], by - np.sin(ang) * r * 0.7 * o["shape"]], 1)
        self.poly(img, pts, self.fogged(self.light(o["col"], np.array([0, 0.3, -1.0])), cz[0]))
        hi = pts.copy()
        hi[:, 1] = by - (by - hi[:, 1]) * 0.55 - r * 0.25
        hi[:, 0] = bx + (hi[:, 0] - bx) * 0.7
        self.poly(img, hi, self.fogged(self.light(o["col"] * 1.1, np.array([0, 1.0, 0])), cz[0]))

    def lamp(self, img, o):
        import cv2

        P = np.array([[o["x"], 0.0, o["z"]], [o["x"], o["h"], o["z"]], [o["x"] + 1.2, o["h"], o["z"]]])
        pts, cz = self.proj(P)
        if cz.min() < self.near + 0.5:
            return
        depth = float(cz[0])
        w = max(1, int(self.F / depth * 0.15))
        col = self.fogged(self.light(np.array([50, 55, 60]), np.array([0, 0, -1.0])), depth)
        p = [tuple(int(v) for v in q) for q in pts]
        cv2.line(img, p[0], p[1], col, w, cv2.LINE_AA)
        cv2.line(img, p[1], p[2], col, w, cv2.LINE_AA)
        if self.sc.tod in ("night", "dusk", "dawn", "overcast"):
            rr = max(2, int(self.F / depth * 0.35))
            cv2.circle(img, p[2], rr * 2, self.fogged(np.array([140, 120, 80]), depth), -1, cv2.LINE_AA)
            cv2.circle(img, p[2], rr, (255, 240, 200), -1, cv2.LINE_AA)


# --------------------------------------------------------------------------------------------------- HUD
def _text(img, s, org, scale, col, font, thick=None, outline=True):
    import cv2

    thick = thick or max(1, int(round(scale * 2)))
    if outline:   # offset copies: a thicker stroke would also widen OpenCV's glyph advance
        o = max(1, int(round(scale * 1.5)))
        for dx, dy in ((-o, 0), (o, 0), (0, -o), (0, o), (o, o)):
            cv2.putText(img, s, (org[0] + dx, org[1] + dy), font, scale, (0, 0, 0), thick, cv2.LINE_AA)
    cv2.putText(img, s, org, font, scale, col, thick, cv2.LINE_AA)


def _panel(img, x0, y0, x1, y1, col=(0, 0, 0), alpha=0.45):
    H, W = img.shape[:2]
    x0, y0, x1, y1 = max(0, int(x0)), max(0, int(y0)), min(W, int(x1)), min(H, int(y1))
    if x1 <= x0 or y1 <= y0:
        return
    roi = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = (roi * (1 - alpha) + np.asarray(col, np.float32) * alpha).astype(np.uint8)


def _bar(img, x, y, w, h, frac, col, back=(40, 40, 40)):
    import cv2

    _panel(img, x - 2, y - 2, x + w + 2, y + h + 2, (0, 0, 0), 0.6)
    cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), back, -1)
    cv2.rectangle(img, (int(x), int(y)), (int(x + w * frac), int(y + h)), col, -1)
    hi = tuple(min(255, int(c * 1.3 + 30)) for c in col)
    cv2.rectangle(img, (int(x), int(y)), (int(x + w * frac), int(y + h * 0.35)), hi, -1)


def _minimap(img, sc: _Scene, cam: _Cam, cx, cy, r, circle=True):
    import cv2

    H, W = img.shape[:2]
    x0, y0, x1, y1 = int(cx - r), int(cy - r), int(cx + r), int(cy + r)
    if x0 < 0 or y0 < 0 or x1 > W or y1 > H:
        return
    _panel(img, x0, y0, x1, y1, (20, 30, 25), 0.6)
    scale = r / 60.0                     # 60 m radius
    c, s = math.cos(cam.yaw), math.sin(cam.yaw)
    for o in sc.objects:
        if o["kind"] == "building":
            ox, oz = (o["x0"] + o["x1"]) / 2, (o["z0"] + o["z1"]) / 2
        else:
            ox, oz = o["x"], o["z"]
        dx, dz = ox - cam.x, oz - cam.z
        mx, mz = dx * c - dz * s, dx * s + dz * c
        if mx * mx + mz * mz > 60 * 60:
            continue
        px, py = int(cx + mx * scale), int(cy - mz * scale)
        if o["kind"] == "building":
            hw = max(1, int((o["x1"] - o["x0"]) * scale / 2))
            hd = max(1, int((o["z1"] - o["z0"]) * scale / 2))
            cv2.rectangle(img, (px - hw, py - hd), (px + hw, py + hd), (150, 150, 140), -1)
        elif o["kind"] in ("tree", "conifer"):
            cv2.circle(img, (px, py), max(1, int(r / 40)), (60, 140, 60), -1)
    tri = np.array([[cx, cy - r * 0.09], [cx - r * 0.06, cy + r * 0.06], [cx + r * 0.06, cy + r * 0.06]], np.int32)
    cv2.fillPoly(img, [tri], (255, 220, 60), cv2.LINE_AA)
    if circle:
        cv2.circle(img, (int(cx), int(cy)), int(r), (200, 200, 200), max(1, int(r / 40)), cv2.LINE_AA)
    else:
        cv2.rectangle(img, (x0, y0), (x1, y1), (200, 200, 200), max(1, int(r / 40)))


def _hud(img: np.ndarray, sc: _Scene, cam: _Cam) -> None:
    import cv2

    H, W = img.shape[:2]
    s = H / 720.0
    v = sc.hud_vals
    font, col = sc.hud_font, sc.hud_col
    if sc.hud == "none":
        return
    if sc.hud == "fps":
        if v["weapon"]:
            gx, gy = W * 0.68, H
            body = np.array([[gx, gy], [gx + 60 * s, gy - 150 * s], [gx + 110 * s, gy - 170 * s],
                             [gx + 170 * s, gy - 120 * s], [gx + 200 * s, gy]], np.float64)
            barrel = np.array([[gx + 70 * s, gy - 150 * s], [gx + 25 * s, gy - 300 * s], [gx + 55 * s, gy - 310 * s],
                               [gx + 110 * s, gy - 165 * s]])
            base = np.array([55, 58, 62]) * (sc.ambient + sc.diffuse * 0.6)
            cv2.fillPoly(img, [np.round(body * 8).astype(np.int32)], _c(base * 1.2), cv2.LINE_AA, 3)
            cv2.fillPoly(img, [np.round(barrel * 8).astype(np.int32)], _c(base * 0.8), cv2.LINE_AA, 3)
            cv2.line(img, (int(gx + 40 * s), int(gy - 228 * s)), (int(gx + 82 * s), int(gy - 160 * s)),
                     _c(base * 2.2), max(1, int(4 * s)), cv2.LINE_AA)
        c = (W // 2, H // 2)
        g, L = int(6 * s), int(14 * s)
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            cv2.line(img, (c[0] + dx * g, c[1] + dy * g), (c[0] + dx * (g + L), c[1] + dy * (g + L)), col,
                     max(1, int(2 * s)), cv2.LINE_AA)
        _bar(img, 40 * s, H - 60 * s, 260 * s, 22 * s, v["hp"], (200, 40, 40) if v["hp"] < 0.3 else (60, 200, 80))
        _text(img, f"{int(v['hp'] * 100)}", (int(40 * s), int(H - 72 * s)), 1.1 * s, col, font)
        _text(img, f"{v['ammo']:02d} / {v['reserve']}", (int(W - 300 * s), int(H - 40 * s)), 1.5 * s, col, font)
        _text(img, f"SCORE {v['score']:05d}", (int(40 * s), int(50 * s)), 0.9 * s, col, font)
        _minimap(img, sc, cam, W - 110 * s, 110 * s, 90 * s, circle=bool(v["score"] % 2))
    elif sc.hud == "rpg":
        _panel(img, 20 * s, 20 * s, 120 * s, 120 * s, (30, 20, 10), 0.7)
        cv2.circle(img, (int(70 * s), int(62 * s)), int(28 * s), (200, 160, 130), -1, cv2.LINE_AA)
        cv2.rectangle(img, (int(20 * s), int(20 * s)), (int(120 * s), int(120 * s)), (190, 160, 90), max(1, int(3 * s)))
        _bar(img, 135 * s, 30 * s, 240 * s, 18 * s, v["hp"], (190, 30, 30))
        _bar(img, 135 * s, 58 * s, 240 * s, 18 * s, v["mp"], (40, 80, 210))
        _text(img, f"Lv {v['level']}", (int(135 * s), int(108 * s)), 0.8 * s, col, font)
        n = 10
        sw = 56 * s
        x0 = W / 2 - n * sw / 2
        pal = [(200, 60, 60), (60, 160, 220), (220, 200, 60), (120, 220, 120), (200, 120, 220), (230, 140, 60)]
        for i in range(n):
            x = x0 + i * sw
            _panel(img, x + 3, H - 70 * s, x + sw - 3, H - 70 * s + sw - 6, (10, 10, 10), 0.65)
            cv2.rectangle(img, (int(x + 3), int(H - 70 * s)), (int(x + sw - 3), int(H - 70 * s + sw - 6)),
                          (170, 150, 100), max(1, int(2 * s)))
            k = v["slots"][i]
            if k:
                cc = (int(x + sw / 2), int(H - 70 * s + sw / 2 - 3))
                if k % 2:
                    cv2.circle(img, cc, int(sw * 0.28), pal[k], -1, cv2.LINE_AA)
                else:
                    d = int(sw * 0.28)
                    cv2.fillPoly(img, [np.array([[cc[0], cc[1] - d], [cc[0] + d, cc[1]], [cc[0], cc[1] + d],
                                                 [cc[0] - d, cc[1]]], np.int32)], pal[k], cv2.LINE_AA)
            _text(img, str((i + 1) % 10), (int(x + 6 * s), int(H - 52 * s)), 0.45 * s, (230, 230, 230), font, 1)
        # compass
        cw = 420 * s
        _panel(img, W / 2 - cw / 2, 14 * s, W / 2 + cw / 2, 46 * s, (0, 0, 0), 0.5)
        for name, ang in (("N", 0), ("E", 90), ("S", 180), ("W", 270), ("NE", 45), ("SE", 135), ("SW", 225), ("NW", 315)):
            d = (math.radians(ang) - cam.yaw + math.pi) % (2 * math.pi) - math.pi
            if abs(d) < math.radians(60):
                xx = int(W / 2 + d / math.radians(60) * cw / 2)
                _text(img, name, (xx - int(8 * s), int(38 * s)), (0.7 if len(name) == 1 else 0.5) * s, col, font, None, False)
        _text(img, "QUEST", (int(W - 360 * s), int(160 * s)), 0.7 * s, (255, 210, 90), font)
        _text(img, v["quest"], (int(W - 360 * s), int(190 * s)), 0.6 * s, col, font)
        _minimap(img, sc, cam, W - 100 * s, 80 * s, 65 * s, circle=True)
    elif sc.hud == "race":
        cx, cy, r = W - 130 * s, H - 130 * s, 100 * s
        cv2.circle(img, (int(cx), int(cy)), int(r), (15, 15, 20), -1, cv2.LINE_AA)
        cv2.circle(img, (int(cx), int(cy)), int(r), (220, 220, 220), max(1, int(3 * s)), cv2.LINE_AA)
        for i in range(0, 13):
            a = math.radians(225 - i * 22.5)
            p0 = (int(cx + math.cos(a) * r * 0.8), int(cy - math.sin(a) * r * 0.8))
            p1 = (int(cx + math.cos(a) * r * 0.95), int(cy - math.sin(a) * r * 0.95))
            cv2.line(img, p0, p1, (230, 230, 230), max(1, int(2 * s)), cv2.LINE_AA)
        a = math.radians(225 - v["speed"] / 280 * 270)
        cv2.line(img, (int(cx), int(cy)), (int(cx + math.cos(a) * r * 0.85), int(cy - math.sin(a) * r * 0.85)),
                 (240, 50, 40), max(1, int(4 * s)), cv2.LINE_AA)
        _text(img, f"{v['speed']}", (int(cx - 30 * s), int(cy + 55 * s)), 1.0 * s, col, font)
        _text(img, f"POS {v['pos']}/8", (int(30 * s), int(60 * s)), 1.3 * s, col, font)
        t = v["t"]
        _text(img, f"LAP {v['lap']}/3   {int(t // 60)}:{t % 60:06.3f}", (int(30 * s), int(105 * s)), 0.9 * s, col, font)
        _minimap(img, sc, cam, 110 * s, H - 120 * s, 90 * s, circle=False)


# --------------------------------------------------------------------------------------------------- source
class ProceduralSource:
    name = NAME

    def available(self) -> str | None:
        try:
            import cv2  # noqa: F401
        except ImportError as e:     # pragma: no cover - cv2 is a core dependency
            return f"OpenCV is not importable: {e}"
        return None

    def frames(self, n: int, seed: int, sizes: Sequence[Size] | None = None) -> Iterator[np.ndarray]:
        for i in range(int(n)):
            rng = child_seed(seed, 1, i)
            W, H = check_size(pick_size(rng, sizes))
            sc = _make_scene(rng)
            cam = _start_cam(sc, rng)
            # walk a little so that views are not all at the start point
            d = rng.uniform(0, 30)
            cam.x += math.sin(cam.yaw) * d
            cam.z += math.cos(cam.yaw) * d
            yield _render(sc, cam, W, H)

    def clip(self, n: int, seed: int, size: Size | None = None) -> list[np.ndarray]:
        rng = child_seed(seed, 2)
        W, H = check_size(size) if size else pick_size(rng)
        sc = _make_scene(rng)
        cam = _start_cam(sc, rng)
        speed = rng.uniform(0.1, 0.5)
        turn = rng.uniform(-0.02, 0.02)
        bob = rng.uniform(0, 0.03)
        out = []
        for j in range(int(n)):
            c = _Cam(cam.x + math.sin(cam.yaw) * speed * j, cam.z + math.cos(cam.yaw) * speed * j,
                     cam.yaw + turn * j, cam.pitch + bob * math.sin(j * 0.7), cam.h)
            sc.hud_vals["t"] = sc.hud_vals["t"] + 1 / 30
            out.append(_render(sc, c, W, H))
        return out


SOURCE = ProceduralSource()
