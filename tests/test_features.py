"""Tests of artifactscope.features: shapes, validation, determinism and known responses of each block."""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

from artifactscope import features as F
from artifactscope.features import laplacian_anomaly_map
from artifactscope.features import tiles as tiles_block


def _natural(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A natural-ish frame: smooth colour fields, fine texture and a few hard-edged shapes."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.random((max(h // 16, 2), max(w // 16, 2), 3)).astype(np.float32), (w, h),
                      interpolation=cv2.INTER_CUBIC)
    tex = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 1.5)
    img = np.clip(base * 190 + tex * 50 + 10, 0, 255).astype(np.uint8)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(w // 20, w // 4)), y0 + int(rng.integers(h // 20, h // 4))
        cv2.ellipse(img, ((x0 + x1) // 2, (y0 + y1) // 2), (max((x1 - x0) // 2, 1), max((y1 - y0) // 2, 1)),
                    float(rng.integers(0, 180)), 0.0, 360.0, tuple(int(c) for c in rng.integers(30, 220, 3)), -1,
                    cv2.LINE_AA)
    return img


def _value(vec: np.ndarray, name: str) -> float:
    return float(vec[F.feature_names().index(name)])


def _block(image: np.ndarray, block: str) -> dict[str, float]:
    vec = F.extract_blocks(image)[block]
    names = F.feature_names()[F.block_slices()[block]]
    return dict(zip(names, vec.tolist()))


# --- API and shapes ---------------------------------------------------------------------------------------------

def test_api_consistency():
    n = F.n_features()
    names = F.feature_names()
    assert len(names) == n and len(set(names)) == n
    assert F.BLOCKS == ("dft", "hog", "laplacian", "color", "structure", "local", "swaps", "gate", "tiles")
    slices = F.block_slices()
    assert list(slices) == list(F.BLOCKS)
    assert slices["dft"].start == 0 and slices["tiles"].stop == n
    for a, b in zip(F.BLOCKS, F.BLOCKS[1:]):
        assert slices[a].stop == slices[b].start
    for block, sl in slices.items():
        assert all(nm.startswith(block + ".") for nm in names[sl])
    frame = slices["tiles"].start
    assert 200 <= frame <= 1500  # compact whole-frame vector
    assert n - frame == 16 * 9 * len(tiles_block.TILE_NAMES)  # a 16x9 grid of tile descriptors
    assert isinstance(F.FEATURE_VERSION, str) and F.FEATURE_VERSION
    assert len(F.WORKING_SIZE) == 2


def test_model_input_replaces_the_tiles_block_with_tile_scores():
    slices = F.model_input_slices(12)
    assert list(slices) == [*F.FRAME_BLOCKS, F.TILE_SCORES]
    assert slices[F.TILE_SCORES] == slice(F.block_slices()["tiles"].start, F.block_slices()["tiles"].start + 12)
    for block in F.FRAME_BLOCKS:
        assert slices[block] == F.block_slices()[block]


def test_feature_spec_is_json_and_consistent():
    spec = json.loads(json.dumps(F.feature_spec()))
    assert spec["version"] == F.FEATURE_VERSION
    assert spec["n_features"] == F.n_features()
    assert [b["name"] for b in spec["blocks"]] == list(F.BLOCKS)
    assert sum(b["length"] for b in spec["blocks"]) == F.n_features()
    assert tuple(spec["working_size"]) == F.WORKING_SIZE


@pytest.mark.parametrize("shape", [(1080, 1920), (360, 640), (700, 500), (32, 32), (16, 16), (17, 1000)])
def test_extract_shape_dtype_finite(shape):
    img = _natural(*shape, seed=1)
    vec = F.extract(img)
    assert vec.shape == (F.n_features(),)
    assert vec.dtype == np.float32
    assert np.isfinite(vec).all()
    blocks = F.extract_blocks(img)
    assert list(blocks) == list(F.BLOCKS)
    np.testing.assert_array_equal(np.concatenate(list(blocks.values())), vec)
    for name, sl in F.block_slices().items():
        assert blocks[name].dtype == np.float32 and blocks[name].shape == (sl.stop - sl.start,)


@pytest.mark.parametrize("value", [0, 128, 255])
def test_constant_frames_are_finite(value):
    vec = F.extract(np.full((90, 160, 3), value, np.uint8))
    assert np.isfinite(vec).all()


def test_random_noise_is_finite():
    rng = np.random.default_rng(3)
    assert np.isfinite(F.extract(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))).all()


def test_non_contiguous_input_matches_contiguous():
    img = _natural(120, 200, seed=4)
    bgr_view = np.ascontiguousarray(img[..., ::-1])[..., ::-1]  # a negative-stride view of the same pixels
    assert not bgr_view.flags.c_contiguous
    np.testing.assert_array_equal(F.extract(bgr_view), F.extract(img))


def test_deterministic():
    img = _natural(360, 640, seed=5)
    a = F.extract(img)
    b = F.extract(img.copy())
    np.testing.assert_array_equal(a, b)


def test_extract_many_sequential_and_parallel():
    imgs = [_natural(90, 160, seed=s) for s in range(3)] + [_natural(64, 48, seed=9)]
    seq = F.extract_many(imgs)
    assert seq.shape == (4, F.n_features()) and seq.dtype == np.float32
    np.testing.assert_array_equal(seq[0], F.extract(imgs[0]))
    par = F.extract_many(iter(imgs), n_jobs=2)
    np.testing.assert_array_equal(par, seq)
    assert F.extract_many([]).shape == (0, F.n_features())
    with pytest.raises(ValueError, match="n_jobs"):
        F.extract_many(imgs, n_jobs=0)


def test_extract_blocks_subset_and_unknown():
    img = _natural(64, 64)
    sub = F.extract_blocks(img, ["gate", "dft"])
    assert list(sub) == ["gate", "dft"]
    with pytest.raises(ValueError, match="unknown feature block"):
        F.extract_blocks(img, ["nope"])


# --- validation -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad, message", [
    (np.zeros((1, 1, 3), np.uint8), "at least"),
    (np.zeros((0, 10, 3), np.uint8), "at least"),
    (np.zeros((10, 0, 3), np.uint8), "at least"),
    (np.zeros((8, 100, 3), np.uint8), "at least"),
    (np.zeros((32, 32, 3), np.float32), "uint8"),
    (np.zeros((32, 32, 3), np.uint16), "uint8"),
    (np.zeros((32, 32), np.uint8), r"\(H, W, 3\)"),
    (np.zeros((32, 32, 4), np.uint8), "alpha"),
    (np.zeros((2, 32, 32, 3), np.uint8), r"\(H, W, 3\)"),
    ([[1, 2, 3]], "numpy array"),
])
def test_invalid_input_raises_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        F.extract(bad)


def test_laplacian_map_validates_input():
    with pytest.raises(ValueError, match="uint8"):
        laplacian_anomaly_map(np.zeros((32, 32, 3), np.float64))


# --- known responses --------------------------------------------------------------------------------------------

def test_periodic_vertical_lines_give_spectral_peaks():
    h, w = 360, 640
    lines = np.full((h, w, 3), 90, np.uint8)
    lines[:, ::16] = 220
    lines[:, 1::16] = 220
    rng = np.random.default_rng(0)
    gradient = np.repeat(np.linspace(0, 255, w, dtype=np.float32)[None, :, None], h, 0).repeat(3, 2)
    gradient = (gradient + np.linspace(0, 60, h, dtype=np.float32)[:, None, None]).clip(0, 255).astype(np.uint8)
    noise = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    peak = {name: _block(img, "dft") for name, img in
            [("lines", lines), ("gradient", gradient), ("noise", noise)]}
    for key in ("dft.peak_max", "dft.peak_axis_x"):
        assert peak["lines"][key] > peak["gradient"][key] + 1.0, key
        assert peak["lines"][key] > peak["noise"][key] + 1.0, key
    # (not against the uint8 ramp: its quantisation steps are themselves periodic in the column profile)
    assert peak["lines"]["dft.colprof_peak"] > peak["noise"]["dft.colprof_peak"] + 1.0
    # log ratio > 3: the strongest coefficient stands > 20x above its ring's mean level
    assert peak["lines"]["dft.peak_max"] > 3.0


def test_laplacian_flat_grey_zero_and_red_patch_positive():
    grey = np.full((180, 320, 3), 128, np.uint8)
    g = _block(grey, "laplacian")
    assert all(g[f"laplacian.{s}_{i}"] == 0.0 for s in ("row_cov", "col_cov", "frac") for i in range(4))
    assert g["laplacian.max"] == 0.0
    red = grey.copy()
    red[40:80, 100:160] = (255, 0, 0)
    r = _block(red, "laplacian")
    assert r["laplacian.row_cov_0"] > 0.15 and r["laplacian.col_cov_0"] > 0.15
    assert r["laplacian.frac_3"] > 0.02  # the pure red scores above the top level
    assert r["laplacian.blob_3"] > 0.02
    m = laplacian_anomaly_map(red)
    assert m.shape == red.shape[:2] and m.dtype == np.float32
    assert m[60, 130] > 0.9 and m[10, 10] < 0.05
    assert float(m.min()) >= 0.0 and float(m.max()) <= 1.0


def test_laplacian_weighted_graph_option():
    red = np.full((64, 64, 3), 128, np.uint8)
    red[20:40, 20:40] = (255, 0, 0)
    plain = laplacian_anomaly_map(red)
    weighted = laplacian_anomaly_map(red, sigma=0.1)
    assert weighted.shape == plain.shape
    assert float(weighted.max()) <= float(plain.max()) + 1e-6
    with pytest.raises(ValueError, match="sigma"):
        laplacian_anomaly_map(red, sigma=-1.0)


def test_parallel_diagonal_lines_concentrate_orientation():
    h, w = 360, 640
    base = _natural(h, w, seed=7)
    lines = np.full((h, w, 3), 40, np.uint8)
    for c in range(-h, w, 12):
        cv2.line(lines, (c, h), (c + h, 0), (230, 230, 230), 2)  # 45-degree bundle
    hb, hl = _block(base, "hog"), _block(lines, "hog")
    assert hl["hog.concentration"] > 0.6
    assert hl["hog.concentration"] > hb["hog.concentration"] + 0.3
    assert hl["hog.coherence"] > hb["hog.coherence"] + 0.4
    assert hl["hog.concentration_off_axis"] > 0.6
    assert hl["hog.entropy"] < hb["hog.entropy"]


def test_morse_columns_raise_column_spike_features():
    h, w = 1080, 1920
    clean = _natural(h, w, seed=11)
    rng = np.random.default_rng(11)
    morse = clean.copy()
    period = max(int(0.04 * h), 5)
    pattern = np.zeros(period, bool)
    # dot-dot-dash-dot-dot over one period
    for start, length in [(0, 2), (4, 2), (8, 8), (20, 2), (24, 2)]:
        pattern[start:start + length] = True
    on = np.resize(pattern, h)
    for x in range(0, w, w // 100):
        if rng.random() < 0.5:
            morse[on, x] = (250, 240, 30)
    c, m = _block(clean, "structure"), _block(morse, "structure")
    assert m["structure.col_spike_rate"] > c["structure.col_spike_rate"] + 0.15
    assert m["structure.col_spike_zmax"] > c["structure.col_spike_zmax"]
    assert m["structure.col_spike_comb"] > c["structure.col_spike_comb"] + 1.0
    assert m["structure.col_d2_maxmed"] > c["structure.col_d2_maxmed"]
    # the column-profile spectrum of the dft block sees the lattice too
    assert _block(morse, "dft")["dft.colprof_harmonic"] > _block(clean, "dft")["dft.colprof_harmonic"] + 1.0


def _dotted_lines(frame: np.ndarray, rng: np.random.Generator, centre: tuple[int, int]) -> np.ndarray:
    """Twenty rows of 1-px dots, 4 px apart, of one colour, fanning out near `centre`."""
    out = frame.copy()
    for a in rng.uniform(0, 2 * np.pi, 20):
        for k in range(30):
            x, y = int(centre[0] + 4 * k * np.cos(a)), int(centre[1] + 4 * k * np.sin(a))
            if 0 <= x < out.shape[1] and 0 <= y < out.shape[0]:
                out[y, x] = (240, 250, 60)
    return out


def test_dotted_lines_raise_local_dot_features():
    clean = _natural(540, 960, seed=5)
    dotted = _dotted_lines(clean, np.random.default_rng(5), (300, 200))
    c, d = _block(clean, "local"), _block(dotted, "local")
    assert d["local.dot_max"] > c["local.dot_max"] + 1.0
    assert d["local.dot_contrast"] > c["local.dot_contrast"] + 1.0
    assert d["local.dot_colour_same"] > 0.8  # the dots in the densest tile share one colour
    assert d["local.dot_paired_max"] > 0.8  # ... and have neighbours 3-6 px away


def test_local_block_ignores_flat_frames_and_solid_lines():
    flat = np.full((360, 640, 3), 90, np.uint8)
    assert not np.any(F.extract_blocks(flat, ["local"])["local"])
    lines = flat.copy()
    for y in range(20, 360, 12):  # 1-px solid lines are strokes, not dots
        lines[y] = 250
    assert _block(lines, "local")["local.dot_max"] == 0.0


def test_local_tile_density_is_exact_for_any_size():
    from artifactscope.features import local

    mask = np.zeros((97, 131), bool)
    mask[0, 0] = True
    dens = local._tile_density(mask)
    assert dens.shape == (local.TILES[1], local.TILES[0])
    assert dens[0, 0] == pytest.approx(1 / ((97 // 9) * (131 // 16)))
    assert dens.sum() == pytest.approx(dens[0, 0])


def test_horizontal_seam_raises_seam_feature():
    h, w = 540, 960
    frame = _natural(h, w, seed=21)
    other = _natural(h, w, seed=22)  # "a different moment"
    torn = frame.copy()
    torn[: h // 3] = other[: h // 3]
    c, t = _block(frame, "structure"), _block(torn, "structure")
    assert t["structure.seam_row_ratio"] > c["structure.seam_row_ratio"] + 0.5
    assert t["structure.seam_row_consistency"] >= 0.75
    assert abs(t["structure.seam_row_pos"] - (h // 3 - 1) / (h - 1)) < 0.01


def test_shifted_top_half_raises_seam_feature():
    h, w = 360, 640
    frame = _natural(h, w, seed=23)
    shifted = frame.copy()
    shifted[: h // 2] = np.roll(frame[: h // 2], 40, axis=1)
    c, s = _block(frame, "structure"), _block(shifted, "structure")
    assert s["structure.seam_row_ratio"] > c["structure.seam_row_ratio"] + 0.3


def test_block_swap_raises_lattice_feature():
    h, w = 360, 640
    frame = _natural(h, w, seed=31)
    stut = frame.copy()
    b = 64  # divides 640
    for x in range(0, w - 2 * b + 1, 2 * b):
        stut[:, x:x + b], stut[:, x + b:x + 2 * b] = frame[:, x + b:x + 2 * b], frame[:, x:x + b]
    c, s = _block(frame, "structure"), _block(stut, "structure")
    assert s["structure.lattice_col_score"] > c["structure.lattice_col_score"] + 0.3
    assert min(abs(s["structure.lattice_col_size"] - b / w), abs(s["structure.lattice_col_size"] - 2 * b / w)) < 1e-6


def _swap_pair(frame: np.ndarray, axis: int, first: int, size: int) -> np.ndarray:
    """`frame` with blocks `first` and `first` + 1 (of `size` lines along `axis`) exchanged."""
    out = frame.copy()
    a, b = [slice(None)] * 2, [slice(None)] * 2
    a[axis], b[axis] = slice(first * size, (first + 1) * size), slice((first + 1) * size, (first + 2) * size)
    out[tuple(a)], out[tuple(b)] = frame[tuple(b)], frame[tuple(a)]
    return out


@pytest.mark.parametrize("axis", [0, 1])
def test_swapped_blocks_score_as_swappable_back(axis):
    h, w = 360, 640
    frame = _natural(h, w, seed=33)
    size = (h if axis == 0 else w) // 8
    stut = _swap_pair(frame, axis, 3, size)
    which = "rows" if axis == 0 else "cols"
    c, s = _block(frame, "swaps"), _block(stut, "swaps")
    assert s[f"swaps.{which}_best"] > 0.5 > c[f"swaps.{which}_best"]
    assert s["swaps.best"] == max(s["swaps.cols_best"], s["swaps.rows_best"])
    assert s[f"swaps.{which}_hot_pairs"] >= 1 and c[f"swaps.{which}_hot_pairs"] == 0


def test_pixel_art_tile_grid_is_not_a_swap():
    # Tiles of unrelated colours meet at hard edges on a lattice (like a tile map), but exchanging two of them
    # makes no seam smoother: a lattice of discontinuities alone must not look like swapped blocks.
    rng = np.random.default_rng(34)
    cells = rng.integers(0, 256, (9, 16, 3)).astype(np.uint8)
    grid = cv2.resize(cells, (640, 360), interpolation=cv2.INTER_NEAREST)
    s = _block(grid, "swaps")
    assert s["swaps.best"] < 0.5
    assert _block(_swap_pair(_natural(360, 640, seed=35), 1, 0, 80), "swaps")["swaps.best"] > s["swaps.best"] + 1.0


def test_swaps_of_flat_frames_score_zero():
    flat = np.full((200, 300, 3), 90, np.uint8)
    assert all(v == 0.0 for v in _block(flat, "swaps").values())


def test_pixelated_band_raises_blockiness():
    h, w = 720, 1280
    frame = _natural(h, w, seed=41)
    rng = np.random.default_rng(41)
    k = max(h // 200, 2)
    band = rng.integers(0, 256, (60 // k + 1, w // k + 1, 3), dtype=np.uint8)
    blocks = np.repeat(np.repeat(band, k, 0), k, 1)[:60, :w]
    pix = frame.copy()
    pix[300:360] = blocks
    c, p = _block(frame, "structure"), _block(pix, "structure")
    assert p["structure.blocky_rows_max"] > c["structure.blocky_rows_max"] + 0.05


def test_discoloration_pure_primary_detected():
    frame = _natural(270, 480, seed=51)
    disc = frame.copy()
    bright = frame.max(axis=2) > 150
    disc[bright] = (0, 255, 0)
    c, d = _block(frame, "color"), _block(disc, "color")
    assert d["color.pure_green"] > 0.01 and c["color.pure_green"] == 0.0
    assert d["color.dominant_bright_frac"] > c["color.dominant_bright_frac"] + 0.2


def test_gate_descriptors():
    img = _natural(360, 640, seed=61)
    g = _block(img, "gate")
    assert g["gate.log_width"] == pytest.approx(np.log(640), abs=1e-5)
    assert g["gate.aspect"] == pytest.approx(np.log(640 / 360), abs=1e-5)
    tiles = np.tile(_natural(32, 32, seed=62), (12, 20, 1))
    assert _block(tiles, "gate")["gate.acf_max"] > g["gate.acf_max"] + 0.2
    text = np.full((360, 640, 3), 30, np.uint8)
    for y in range(30, 360, 30):
        cv2.putText(text, "HP 100 AMMO 42 SCORE 9001", (10, y), cv2.FONT_HERSHEY_PLAIN, 1.0, (240, 240, 240), 1)
    assert _block(text, "gate")["gate.text_blobs"] > g["gate.text_blobs"] + 1.0


def test_allocator_keeps_frame_buffers_on_glibc_and_can_be_turned_off():
    import subprocess
    import sys

    from artifactscope import _alloc

    if sys.platform.startswith("linux"):
        assert _alloc.keep_large_allocations() is True  # features' import tuned it; asking again is harmless
    code = "from artifactscope import _alloc; print(_alloc.keep_large_allocations())"
    env = {**os.environ, "ARTIFACTSCOPE_KEEP_BUFFERS": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
