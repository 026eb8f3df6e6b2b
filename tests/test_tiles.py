"""The tile block and the learned tile stage: shapes, known responses, out-of-fold summaries, estimator rules."""

from __future__ import annotations

import numpy as np
import pytest

from artifactscope import features
from artifactscope.features import tiles as block
from artifactscope.tiles import SUMMARIES, TileStage, cross_fit_transform, summarise, tile_context

COLS, ROWS = block.GRID


def _frame(seed: int = 0, size=(288, 512)) -> np.ndarray:
    """A textured grey-green frame (noise), the same look everywhere."""
    rng = np.random.default_rng(seed)
    base = np.array([90, 120, 80], np.float32) + rng.normal(0, 18, (*size, 1))
    return np.clip(base + rng.normal(0, 6, (*size, 3)), 0, 255).astype(np.uint8)


def _tiles(image: np.ndarray) -> np.ndarray:
    return block.tile_matrix(features.prepare(image))


def test_block_shape_dtype_and_finite():
    vec = features.extract_blocks(_frame(), ["tiles"])["tiles"]
    assert vec.shape == (block.LENGTH,) and vec.dtype == np.float32 and np.isfinite(vec).all()
    assert block.LENGTH == ROWS * COLS * block.N_TILE_VALUES


@pytest.mark.parametrize("size", [(288, 512), (1080, 1920), (480, 640)])
def test_a_dark_smooth_patch_shows_in_its_own_tile(size):
    img = _frame(1, size)
    h, w = size
    r0, c0 = 2 * h // ROWS, 5 * w // COLS  # tile (row 2, column 5)
    img[r0:r0 + h // ROWS, c0:c0 + w // COLS] = 10
    t = _tiles(img)
    dark = t[..., block.TILE_NAMES.index("dark")]
    assert np.unravel_index(np.argmax(dark), dark.shape) == (2, 5)
    assert dark[2, 5] > 0.5 and np.delete(dark.ravel(), 2 * COLS + 5).max() < 0.5
    flat = t[..., block.TILE_NAMES.index("flat")]
    assert flat[2, 5] > flat.mean() + 0.3  # the patch has no texture


def test_orientation_histogram_finds_vertical_stripes():
    img = np.full((288, 512, 3), 60, np.uint8)
    img[:, ::8] = 250  # vertical lines: horizontal gradients, orientation bin 0 (or 7 at the wrap)
    t = _tiles(img)
    hist = t[..., [block.TILE_NAMES.index(f"orient_{k}") for k in range(8)]]
    np.testing.assert_allclose(hist.sum(-1), 1.0, atol=1e-3)
    assert (hist[..., 0] + hist[..., 7]).min() > 0.9


def test_coverage_of_a_mask():
    mask = np.zeros((1080, 1920), bool)
    mask[:120, :120] = True  # exactly tile (0, 0) of the 16x9 grid
    cov = block.tile_coverage(mask)
    assert cov.shape == (block.N_TILES,) and cov.dtype == np.float32
    assert cov[0] == pytest.approx(1.0, abs=0.02) and cov[1:].max() < 0.05
    with pytest.raises(ValueError, match="2-D"):
        block.tile_coverage(np.zeros((4, 4, 3)))


def _data(n_frames=60, seed=0):
    """Raw tile blocks where 'shader' frames have a 2x2 tile patch with a shifted mean colour."""
    rng = np.random.default_rng(seed)
    T = rng.normal(0, 1, (n_frames, ROWS, COLS, block.N_TILE_VALUES)).astype(np.float32)
    cover = np.zeros((n_frames, ROWS, COLS), np.float32)
    y = np.array(["clean", "shader"] * (n_frames // 2))
    for i in np.flatnonzero(y == "shader"):
        r, c = rng.integers(0, ROWS - 1), rng.integers(0, COLS - 1)
        T[i, r:r + 2, c:c + 2, :3] += 4.0
        cover[i, r:r + 2, c:c + 2] = 1.0
    return T.reshape(n_frames, -1), cover.reshape(n_frames, -1), y


def test_context_is_the_tile_minus_neighbours_and_frame_median():
    T, _, _ = _data(4)
    ctx = tile_context(T)
    n = block.N_TILE_VALUES
    assert ctx.shape == (4, block.N_TILES, 3 * n)
    grid = T.reshape(4, ROWS, COLS, n)
    nb = np.mean([grid[1, 3 + dr, 4 + dc] for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)], 0)
    np.testing.assert_allclose(ctx[1, 3 * COLS + 4, n:2 * n], grid[1, 3, 4] - nb, atol=1e-5)
    np.testing.assert_allclose(ctx[1, 0, 2 * n:], grid[1, 0, 0] - np.median(grid[1].reshape(-1, n), 0), atol=1e-5)
    with pytest.raises(ValueError, match="raw tiles block"):
        tile_context(T[:, :10])


def test_stage_learns_where_the_patch_is():
    T, cover, y = _data()
    stage = TileStage(classes=("shader", "shape"), max_iter=30).fit(T, cover, y)
    assert stage.classes_ == ["shader"]  # no shape tiles: no detector
    Tt, ct, yt = _data(20, seed=1)
    proba = stage.tile_proba(Tt)[..., 0]
    assert proba[ct > 0].mean() > 0.8 and proba[ct == 0].mean() < 0.2
    S = stage.transform(Tt)
    assert S.shape == (20, len(SUMMARIES)) and stage.summary_names()[0] == "tile_scores.shader_max"
    assert S[yt == "shader", 0].min() > S[yt == "clean", 0].max()  # the max tile separates the frames
    # the blob of a 2x2 patch is 4 tiles
    assert np.median(S[yt == "shader", 3]) == pytest.approx(4 / block.N_TILES)


def test_stage_is_deterministic_and_skips_unknown_cover():
    T, cover, y = _data()
    a = TileStage(max_iter=20).fit(T, cover, y).transform(T[:5])
    b = TileStage(max_iter=20).fit(T, cover, y).transform(T[:5])
    np.testing.assert_array_equal(a, b)
    cover_nan = cover.copy()
    cover_nan[y == "shader"] = np.nan  # frames labelled by hand: no mask, not used
    with_nan = TileStage(max_iter=20).fit(T, cover_nan, y)
    assert with_nan.classes_ == []
    with pytest.raises(ValueError, match="unknown tile class"):
        TileStage(classes=("sparkles",)).fit(T, cover, y)
    with pytest.raises(ValueError, match="cover must have shape"):
        TileStage().fit(T, cover[:, :5], y)


def test_summaries_of_known_probabilities():
    p = np.zeros((1, block.N_TILES, 1), np.float32)
    p[0, [0, 1, COLS], 0] = [0.9, 0.8, 0.7]  # an L of three neighbours
    p[0, 50, 0] = 0.6  # one more, apart
    s = summarise(p)[0]
    assert s[0] == pytest.approx(0.9) and s[1] == pytest.approx(0.8)
    assert s[2] == pytest.approx(4 / block.N_TILES) and s[3] == pytest.approx(3 / block.N_TILES)


def test_cross_fit_gives_out_of_fold_summaries():
    T, cover, y = _data(80)
    splits = [(np.arange(40, 80), np.arange(0, 40)), (np.arange(0, 40), np.arange(40, 80))]
    stage = TileStage(max_iter=20)
    oof, final = cross_fit_transform(stage, T, cover, y, splits)
    assert oof.shape == (80, final.n_summaries_)
    fold = TileStage(max_iter=20).fit(T[40:], cover[40:], y[40:])
    np.testing.assert_allclose(oof[:40], fold.transform(T[:40]), atol=1e-6)
    assert not hasattr(stage, "estimators_")  # the given stage is a template, cloned
