"""Localisation: an artifact pasted at a known place gives a region there; a clean frame gives none."""

import numpy as np
import pytest

from artifactscope.localize import CUES, Localization, grid_shape, heatmap_to_frame, localize
from artifactscope.scan import Region
from artifactscope.synth import procedural_frame

W, H = 640, 360


def _iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.fixture(scope="module")
def frame():
    return procedural_frame(np.random.default_rng(5), width=W, height=H)


@pytest.fixture(scope="module")
def bundle(tiny_bundle):
    from artifactscope.model_store import load_bundle

    return load_bundle(tiny_bundle)


def test_discoloration_patch_found_where_pasted(frame, bundle):
    img = frame.copy()
    box = (400, 200, 600, 330)  # lower-right quadrant
    img[box[1]:box[3], box[0]:box[2]] = (255, 0, 0)
    loc = localize(img, bundle, "discoloration")
    assert isinstance(loc, Localization) and loc.regions
    best = loc.regions[0]
    assert isinstance(best, Region) and best.label == "discoloration"
    assert _iou(best.box, box) > 0.5, best.box


def test_line_pixelation_band_found_where_pasted(frame, bundle):
    rng = np.random.default_rng(0)
    img = frame.copy()
    box = (0, 60, W, 100)  # a horizontal band across the top third
    blocks = rng.integers(0, 256, (10, W // 4, 3), dtype=np.uint8)
    img[60:100] = np.repeat(np.repeat(blocks, 4, 0), 4, 1)
    loc = localize(img, bundle, "line_pixelation")
    assert loc.regions
    x0, y0, x1, y1 = loc.regions[0].box
    assert y0 <= 80 <= y1 and _iou(loc.regions[0].box, box) > 0.3, loc.regions[0].box


def test_heatmap_is_a_coarse_grid_in_unit_range(frame, bundle):
    img = frame.copy()
    img[20:120, 20:200] = (0, 255, 0)
    loc = localize(img, bundle, "discoloration", score=0.8)
    assert loc.grid == grid_shape(W, H) == loc.heatmap.shape
    assert loc.heatmap.dtype == np.float32
    assert 0.0 <= loc.heatmap.min() and loc.heatmap.max() <= 1.0
    assert all(0 < r.score <= 0.8 for r in loc.regions)  # never above the frame's own score
    for r in loc.regions:
        x0, y0, x1, y1 = r.box
        assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H
    up = heatmap_to_frame(loc.heatmap, W, H)
    assert up.shape == (H, W) and up[70, 100] > up[300, 500]
    assert set(loc.to_dict()) >= {"label", "heatmap", "regions", "grid"}


def test_clean_frame_gives_no_region(bundle):
    # A smooth, unsaturated frame: no cue for these classes fires.
    y, x = np.mgrid[0:H, 0:W]
    grey = (60 + 80 * x / W + 40 * y / H).astype(np.uint8)
    clean = np.stack([grey, grey, (grey * 0.9).astype(np.uint8)], axis=-1)
    for label in ("discoloration", "morse_code", "dotted_line", "line_pixelation"):
        assert localize(clean, bundle, label).regions == [], label
    loc = localize(clean, bundle, "clean")
    assert loc.regions == [] and not loc.heatmap.any()


def test_label_none_uses_the_model(frame, bundle):
    loc = localize(frame, bundle)
    assert loc.label in ("clean", *CUES)
    if loc.label == "clean":
        assert loc.regions == []


def test_unknown_label_is_refused(frame):
    with pytest.raises(ValueError, match="unknown artifact"):
        localize(frame, None, "wobble")
    with pytest.raises(ValueError, match="label"):
        localize(frame, None)


@pytest.mark.parametrize("label", sorted(CUES))
def test_every_class_localises_small_frames(label, bundle):
    img = procedural_frame(np.random.default_rng(1), width=64, height=40)
    loc = localize(img, bundle, label)
    assert loc.heatmap.shape == loc.grid
    assert len(loc.regions) <= 3


def test_parallel_lines_bundle_found_where_drawn(frame, bundle):
    # 30 parallel segments at 20 degrees, all inside the right half; the left half carries thin scene lines
    # (a grid, as of bricks or tiles) of other directions, which must not join the region.
    import cv2

    img = frame.copy()
    for x in range(10, 300, 20):
        img[:, x] = (20, 20, 20)
    for y in range(10, H, 20):
        img[y, :300] = (20, 20, 20)
    rng = np.random.default_rng(3)
    d = np.array([np.cos(np.deg2rad(20)), np.sin(np.deg2rad(20))])
    box = (360, 60, 620, 300)
    for _ in range(30):
        x0, y0 = rng.uniform(box[0], box[0] + 60), rng.uniform(box[1], box[3] - 90)
        x1, y1 = x0 + d[0] * 200, y0 + d[1] * 200
        cv2.line(img, (int(x0), int(y0)), (int(x1), int(y1)), (250, 250, 250), 1, cv2.LINE_8)
    loc = localize(img, bundle, "parallel_lines")
    assert loc.regions
    x0, y0, x1, y1 = loc.regions[0].box
    assert x0 >= 300 and _iou(loc.regions[0].box, box) > 0.5, loc.regions[0].box


def _mask_box(mask):
    """Bounding box (x0, y0, x1, y1) of a mask's set pixels."""
    ys, xs = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def _assert_generated_artifact_found(generator, label, seed, bundle, width, height):
    """The synthesis generator's artifact on a procedural frame: the best region overlaps its mask's box."""
    rng = np.random.default_rng(seed)
    img, mask = generator(procedural_frame(rng, width=width, height=height), rng)
    box = _mask_box(mask)
    loc = localize(img, bundle, label)
    assert loc.regions and _iou(loc.regions[0].box, box) >= 0.5, (loc.regions, box)


def _fan(img, apex, angles_deg, lengths, widths, colour):
    """Thin triangles (spikes) from one apex, as the shape artifact draws them; returns their bounding box."""
    import cv2

    m = np.zeros(img.shape[:2], np.uint8)
    for a, ln, wd in zip(np.deg2rad(angles_deg), lengths, widths):
        half = np.arctan2(wd / 2, ln)
        tips = [(apex[0] + ln * np.cos(a + s * half), apex[1] + ln * np.sin(a + s * half)) for s in (-1, 1)]
        cv2.fillPoly(m, [np.round(np.array([apex, *tips])).astype(np.int32)], 1)
    img[m > 0] = colour
    return _mask_box(m)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shape_fan_found_where_drawn(seed, bundle):
    # A fan of 3-4 thin dark spikes at a random place on a textured frame: the region is the fan's box.
    rng = np.random.default_rng([11, seed])
    img = procedural_frame(rng, width=960, height=540)
    apex = (float(rng.uniform(250, 710)), float(rng.uniform(150, 390)))
    k = int(rng.integers(3, 5))
    angles = rng.uniform(0, 360) + np.sort(rng.uniform(0, 160, k))
    box = _fan(img, apex, angles, rng.uniform(90, 150, k), rng.uniform(3, 8, k), (20, 18, 25))
    loc = localize(img, bundle, "shape")
    assert loc.regions, "no region"
    assert _iou(loc.regions[0].box, box) >= 0.5, (loc.regions[0].box, box)


def _jpeg(img, quality):
    import cv2

    ok, buf = cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1].copy()


@pytest.mark.parametrize("seed", [0, 1])
def test_dotted_lines_found_where_drawn_after_jpeg(seed, bundle):
    # 25 dotted lines of 1-px dots around one centre, JPEG-compressed: the dots' colours smear across
    # several colour bins, and the region must still cover the whole tangle, not its densest corner.
    rng = np.random.default_rng([12, seed])
    img = procedural_frame(rng, width=960, height=540)
    c = np.array([rng.uniform(250, 710), rng.uniform(150, 390)])
    m = np.zeros(img.shape[:2], bool)
    for _ in range(25):
        a = rng.uniform(0, 2 * np.pi)
        start = c + rng.uniform(-60, 60, 2)
        for k in range(int(rng.integers(20, 35))):
            x, y = np.round(start + k * 4.0 * np.array([np.cos(a), np.sin(a)])).astype(int)
            if 0 <= x < 960 and 0 <= y < 540:
                m[y, x] = True
    img[m] = (230, 60, 200)
    img = _jpeg(img, 90)
    box = _mask_box(m)
    loc = localize(img, bundle, "dotted_line")
    assert loc.regions, "no region"
    assert _iou(loc.regions[0].box, box) >= 0.5, (loc.regions[0].box, box)


@pytest.mark.parametrize("seed", [3, 5])
def test_triangulation_mesh_found_where_drawn(seed, bundle):
    # A patch re-rendered as a mesh of flat triangles (the synthesis generator), in a scene with plenty of
    # axis-aligned flat-among-edges structure: the box must follow the mesh, not the whole frame.
    from artifactscope.synth.generators import triangulation

    _assert_generated_artifact_found(triangulation, "triangulation", seed, bundle, 960, 540)


@pytest.mark.parametrize("axis", [0, 1])
def test_swapped_blocks_found_where_swapped(frame, bundle, axis):
    # Two neighbouring blocks exchanged (screen stuttering): the region is the pair, not the whole frame.
    img = frame.copy()
    size = (H if axis == 0 else W) // 8
    a, b = [slice(None)] * 2, [slice(None)] * 2
    a[axis], b[axis] = slice(2 * size, 3 * size), slice(3 * size, 4 * size)
    img[tuple(a)], img[tuple(b)] = frame[tuple(b)], frame[tuple(a)]
    box = (0, 2 * size, W, 4 * size) if axis == 0 else (2 * size, 0, 4 * size, H)
    loc = localize(img, bundle, "screen_stuttering")
    assert loc.regions and _iou(loc.regions[0].box, box) >= 0.8, (loc.regions, box)


def test_discoloration_box_spans_small_separate_areas(frame, bundle):
    # The wrong colour lands on every bright area: a small one far from the main one still belongs in the box.
    img = frame.copy()
    img[200:330, 300:600] = (255, 0, 0)
    img[10:50, 30:70] = (255, 0, 0)  # about 4% of the main area
    loc = localize(img, bundle, "discoloration")
    assert loc.regions and _iou(loc.regions[0].box, (30, 10, 600, 330)) > 0.5, loc.regions


def test_shape_fan_apex_found_at_full_resolution(bundle):
    # At 1080p the fan's tips near the apex are 0-2 px wide and vanish at the segment detector's working
    # size; the full-size pass around the darkest cell (where the generator puts the apex) finds them.
    from artifactscope.synth.generators import shape

    _assert_generated_artifact_found(shape, "shape", 1, bundle, 1920, 1080)


def test_discoloration_beats_a_saturated_background():
    # An Atari-like maze: a saturated blue background (far more pixels than the artifact) between bright
    # walls. The wrong colour painted over one bright area borders only darker pixels; the background
    # borders the bright walls, so the artifact's hue wins although it has fewer pixels.
    img = np.zeros((H, W, 3), np.uint8)
    img[:] = (0, 28, 136)
    for y in range(20, H, 60):
        img[y:y + 16, 10:W - 10] = (228, 170, 170)  # pale: not a saturated-colour candidate itself
    box = (420, 140, 600, 300)
    img[box[1]:box[3], box[0]:box[2]] = (30, 200, 60)
    loc = localize(img, None, "discoloration")
    assert loc.regions and _iou(loc.regions[0].box, box) > 0.5, loc.regions


def test_line_pixelation_box_spans_a_gappy_band_but_not_the_scene_beside_it():
    # A sprites2d-like night sky at 1080p: the band's blocks are random colours, a third of them left unpainted
    # and two longer gaps where dark blocks vanish on the dark scene; above it, a row of sprites makes colour
    # jumps of its own. The box must take the whole band (not stop at a gap) and stay off the sprites.
    rng = np.random.default_rng(3)
    h, w, b = 1080, 1920, 8
    img = np.zeros((h, w, 3), np.uint8)
    img.reshape(-1, 3)[rng.integers(0, h * w, 1500)] = 200  # stars
    for x in range(300, 1600, 60):  # sprites: small flat tiles of two colours, 40 px above the band
        img[520:540, x:x + 24] = rng.integers(0, 256, 3, dtype=np.uint8)
        img[526:534, x + 8:x + 16] = rng.integers(0, 256, 3, dtype=np.uint8)
    band = (300, 580, 1620, 620)  # x0, y0, x1, y1: 5 rows of 8-px blocks
    rows, cols = (band[3] - band[1]) // b, (band[2] - band[0]) // b
    blocks = rng.integers(0, 256, (rows, cols, 3), dtype=np.uint8)
    blocks[rng.random((rows, cols)) < 0.3] = 0
    blocks[:, 40:43] = 0
    blocks[:, 110:113] = 0
    img[band[1]:band[3], band[0]:band[2]] = np.repeat(np.repeat(blocks, b, 0), b, 1)
    loc = localize(img, None, "line_pixelation")
    assert loc.regions
    x0, y0, x1, y1 = loc.regions[0].box
    assert x0 <= band[0] + 60 and x1 >= band[2] - 60, loc.regions[0].box  # all along the band
    assert y0 >= band[1] - 16 and y1 <= band[3] + 16, loc.regions[0].box  # not up to the sprites
    assert _iou(loc.regions[0].box, band) > 0.7, loc.regions[0].box


def test_line_pixelation_band_beats_dense_grey_text(frame, bundle):
    # HUD text and foliage are as dense in strong jumps as the band, but their jumps change brightness only
    # (all channels alike); the band's random colours change the hue.
    rng = np.random.default_rng(1)
    img = frame.copy()
    text = rng.integers(0, 2, (40, 100), dtype=np.uint8) * 255  # black / white "glyphs", 2 px pixels
    img[10:90, 10:210] = np.repeat(np.repeat(text, 2, 0), 2, 1)[:, :, None]
    box = (440, 0, 464, H)  # a thin vertical band, full height
    blocks = rng.integers(0, 256, (H // 4, 6, 3), dtype=np.uint8)
    img[:, 440:464] = np.repeat(np.repeat(blocks, 4, 0), 4, 1)
    loc = localize(img, bundle, "line_pixelation")
    assert loc.regions
    x0, y0, x1, y1 = loc.regions[0].box
    assert x0 < box[2] and x1 > box[0] and _iou(loc.regions[0].box, box) > 0.3, loc.regions[0].box


def test_shader_field_beats_hue_texture_of_even_brightness(bundle):
    # A red/green checker of (nearly) equal grey over a brightness ramp is smooth-with-slope in grey only;
    # per colour channel it is texture. The shader's blend is smooth in every channel.
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    img = np.empty((H, W, 3), np.uint8)
    ramp = 60 + 80 * x / W
    checker = ((y.astype(int) // 3 + x.astype(int) // 3) % 2).astype(bool)
    img[..., 0] = np.clip(np.where(checker, ramp * 1.6, ramp * 0.55), 0, 255)
    img[..., 1] = np.clip(np.where(checker, ramp * 0.55, ramp * 1.05), 0, 255)
    img[..., 2] = np.clip(ramp * 0.5, 0, 255)
    box = (360, 80, 600, 300)
    field = np.stack([120 + 100 * (x - 360) / 240, 90 + 60 * (y - 80) / 220, 150 - 50 * (x - 360) / 240], -1)
    img[80:300, 360:600] = np.clip(field[80:300, 360:600], 0, 255).astype(np.uint8)
    loc = localize(img, bundle, "shader")
    assert loc.regions
    assert _iou(loc.regions[0].box, box) > 0.5, loc.regions[0].box
