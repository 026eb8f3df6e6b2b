"""Tests of the artifact generators, `corrupt`, `synthesize_dataset`, `contact_sheet` and procedural scenes."""

from __future__ import annotations

import csv
import time

import cv2
import numpy as np
import pytest

from artifactscope.artifacts import ARTIFACT_NAMES, CLEAN, LABELS
from artifactscope.synth import (GENERATORS, VISIBLE_DIFF, contact_sheet, corrupt, procedural_frame,
                                 rolling_tear, synthesize_dataset)

W, H = 320, 180


def _frame(seed: int, w: int = W, h: int = H) -> np.ndarray:
    return procedural_frame(np.random.default_rng(seed), width=w, height=h)


def _diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)


def _check_contract(name: str, frame: np.ndarray, seed: int, *, other: np.ndarray | None = None) -> np.ndarray:
    """Run one generator and check everything every generator promises; return the mask."""
    before = frame.copy()
    out, mask = GENERATORS[name](frame, np.random.default_rng(seed), other=other)
    assert np.array_equal(frame, before), "input frame was modified"
    assert out.dtype == np.uint8 and out.shape == frame.shape
    assert out is not frame
    assert mask.dtype == bool and mask.shape == frame.shape[:2]
    assert mask.any(), f"{name}: empty mask"
    changed = _diff(out, frame) >= VISIBLE_DIFF
    assert not (changed & ~mask).any(), f"{name}: {int((changed & ~mask).sum())} changed pixels outside the mask"
    # The mask is not absurdly larger than the change (screen_tearing marks the whole torn part, but on these
    # textured frames most of it changes too).
    assert changed[mask].mean() >= 0.3, f"{name}: only {changed[mask].mean():.2f} of the mask changed"
    return mask


def test_generators_follow_the_taxonomy():
    assert tuple(GENERATORS) == ARTIFACT_NAMES


@pytest.mark.parametrize("name", ARTIFACT_NAMES)
def test_generator_contract(name):
    for seed in range(4):
        _check_contract(name, _frame(seed), seed)


@pytest.mark.parametrize("name", ARTIFACT_NAMES)
def test_generator_is_deterministic(name):
    frame = _frame(7)
    a = GENERATORS[name](frame, np.random.default_rng(3))
    b = GENERATORS[name](frame, np.random.default_rng(3))
    c = GENERATORS[name](frame, np.random.default_rng(4))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("name", ARTIFACT_NAMES)
@pytest.mark.parametrize("size", [(640, 360), (500, 700)], ids=["640x360", "500x700"])
def test_generator_sizes(name, size):
    _check_contract(name, _frame(11, *size), 5)


@pytest.mark.parametrize("name", ["shader", "triangulation", "screen_tearing"])
def test_generator_full_hd(name):
    frame = _frame(12, 1920, 1080)
    t0 = time.perf_counter()
    _check_contract(name, frame, 1)
    assert time.perf_counter() - t0 < 2.0


@pytest.mark.parametrize("name", ARTIFACT_NAMES)
def test_generator_on_very_dark_frame(name):
    frame = (_frame(3).astype(np.float32) * 0.07).astype(np.uint8)  # max level ~18
    assert frame.max() < 20
    mask = _check_contract(name, frame, 2)
    if name in ("shape", "discoloration"):
        out, _ = GENERATORS[name](frame, np.random.default_rng(2))
        assert _diff(out, frame)[mask].mean() >= 20, "artifact barely visible on a dark frame"


@pytest.mark.parametrize("name", ARTIFACT_NAMES)
def test_generator_on_flat_frame(name):
    frame = np.full((H, W, 3), (150, 140, 120), np.uint8)
    if name == "screen_stuttering":
        # Documented: swapping identical blocks cannot change anything.
        out, mask = GENERATORS[name](frame, np.random.default_rng(0))
        assert not mask.any() and np.array_equal(out, frame)
        return
    for seed in range(3):
        _check_contract(name, frame, seed)


def test_shape_starts_in_the_darkest_cell():
    frame = np.full((H, W, 3), 200, np.uint8)
    cx, cy = 4, 1  # column 4 of 6, row 1 of 4
    frame[cy * H // 4:(cy + 1) * H // 4, cx * W // 6:(cx + 1) * W // 6] = 90
    for seed in range(3):
        _, mask = GENERATORS["shape"](frame, np.random.default_rng(seed))
        cell = mask[cy * H // 4:(cy + 1) * H // 4, cx * W // 6:(cx + 1) * W // 6]
        assert cell.any()


def test_discoloration_colours_are_saturated_or_strong():
    frame = _frame(21)
    for seed in range(6):
        out, mask = GENERATORS["discoloration"](frame, np.random.default_rng(seed))
        assert out[mask].max() >= 100


def test_screen_tearing_takes_the_other_frame():
    frame, other = _frame(1), _frame(2, 640, 360)  # different size: resized to the frame's
    for seed in range(4):
        out, mask = GENERATORS["screen_tearing"](frame, np.random.default_rng(seed), other=other)
        resized = cv2.resize(other, (W, H), interpolation=cv2.INTER_AREA)
        assert np.array_equal(out[mask], resized[mask])
        assert np.array_equal(out[~mask], frame[~mask])
        rows, cols = mask.any(1), mask.any(0)
        assert rows[0] and cols[0]  # anchored at the top (or left) border
        assert mask.all(1)[rows].all() or mask.all(0)[cols].all()  # full rows or full columns


def test_screen_tearing_with_identical_other_still_tears():
    frame = _frame(4)
    _check_contract("screen_tearing", frame, 0, other=frame.copy())


def test_generators_validate_input():
    with pytest.raises(ValueError, match="uint8"):
        GENERATORS["shader"](np.zeros((H, W, 3), np.float32), np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        GENERATORS["shader"](_frame(0), 0)


def test_corrupt_validation():
    frame = _frame(0)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"uint8 array of shape \(H, W, 3\)"):
        corrupt(frame.astype(np.float64), "shader", rng)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        corrupt(frame[:, :, 0], "shader", rng)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        corrupt(np.zeros((H, W, 4), np.uint8), "shader", rng)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        corrupt(frame.tolist(), "shader", rng)
    with pytest.raises(ValueError) as err:
        corrupt(frame, "glitter", rng)
    assert all(label in str(err.value) for label in LABELS)
    with pytest.raises(ValueError, match="other"):
        corrupt(frame, "screen_tearing", rng, other=np.zeros((H, W), np.uint8))


def test_corrupt_reencodes_half_the_time_and_keeps_the_mask():
    frame = _frame(5)
    reencoded = 0
    for seed in range(12):
        plain, plain_mask = GENERATORS["morse_code"](frame, np.random.default_rng(seed))
        out, mask = corrupt(frame, "morse_code", np.random.default_rng(seed))
        assert np.array_equal(mask, plain_mask)
        reencoded += not np.array_equal(out, plain)
        raw, _ = corrupt(frame, "morse_code", np.random.default_rng(seed), reencode=False)
        assert np.array_equal(raw, plain)
    assert 2 <= reencoded <= 10
    out, mask = corrupt(frame, CLEAN, np.random.default_rng(0), reencode=False)
    assert np.array_equal(out, frame) and not mask.any()


def test_synthesize_dataset(tmp_path):
    clean = tmp_path / "clean_src" / "caps"
    clean.mkdir(parents=True)
    paths = []
    for i in range(3):
        p = clean / f"frame_{i}.png"
        ok, buf = cv2.imencode(".png", cv2.cvtColor(_frame(100 + i, 96, 64), cv2.COLOR_RGB2BGR))
        buf.tofile(str(p))
        paths.append(str(p))
    calls = []
    out = tmp_path / "out"
    summary = synthesize_dataset(paths, out, per_class=2, seed=1, progress=lambda d, t: calls.append((d, t)))
    assert summary == {label: 2 for label in LABELS}
    assert calls[-1] == (2 * len(LABELS), 2 * len(LABELS))
    with open(out / "index.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * len(LABELS)
    assert set(rows[0]) == {"path", "label", "source", "seed"}
    for row in rows:
        img_path = out / row["path"]
        assert img_path.is_file() and img_path.parent.name == row["label"]
        assert row["source"] in paths
        img = cv2.imread(str(img_path))
        assert img.shape == (64, 96, 3)
        mask_path = img_path.with_name(img_path.name[:-4] + ".mask.png")
        if row["label"] == CLEAN:
            assert not mask_path.exists()
        else:
            mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
            assert mask.shape == (64, 96) and set(np.unique(mask)) <= {0, 255} and mask.max() == 255
    # Same seed, same data set.
    again = tmp_path / "again"
    synthesize_dataset(paths, again, per_class=2, seed=1)
    for row in rows:
        assert (out / row["path"]).read_bytes() == (again / row["path"]).read_bytes()


def test_synthesize_dataset_skips_unreadable_and_refuses_none(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    good = tmp_path / "good.png"
    ok, buf = cv2.imencode(".png", _frame(9, 96, 64))
    buf.tofile(str(good))
    summary = synthesize_dataset([str(bad), str(good)], tmp_path / "o1", per_class=1, seed=0)
    assert all(v == 1 for v in summary.values())
    with pytest.raises(ValueError, match="could be read"):
        synthesize_dataset([str(bad)], tmp_path / "o2", per_class=1, seed=0)
    with pytest.raises(ValueError):
        synthesize_dataset([], tmp_path / "o3", per_class=1, seed=0)


def test_contact_sheet():
    frame = _frame(8)
    sheet = contact_sheet(frame, seed=0, cell_width=160)
    cell_h = round(160 * H / W)
    assert sheet.dtype == np.uint8 and sheet.ndim == 3 and sheet.shape[2] == 3
    assert sheet.shape[0] * sheet.shape[1] >= (1 + len(ARTIFACT_NAMES)) * 160 * cell_h
    assert sheet.shape[1] % 160 == 0 and sheet.shape[0] % cell_h == 0
    assert np.array_equal(sheet, contact_sheet(frame, seed=0, cell_width=160))


def test_procedural_frame_is_varied_and_fast():
    frames = [_frame(i, 960, 540) for i in range(5)]
    assert all(f.shape == (540, 960, 3) and f.dtype == np.uint8 for f in frames)
    assert np.array_equal(frames[0], _frame(0, 960, 540))
    means = [f.mean(axis=(0, 1)) for f in frames]
    assert max(np.abs(means[0] - m).max() for m in means[1:]) > 10
    t0 = time.perf_counter()
    for i in range(10):
        _frame(50 + i, 960, 540)
    assert (time.perf_counter() - t0) / 10 < 0.06  # ~10-15 ms typical; generous for slow CI machines
    with pytest.raises(ValueError):
        procedural_frame(np.random.default_rng(0), width=10, height=10)


# --- random looks (training augmentation) -------------------------------------------------------------------

def test_identity_look_copies_the_frame():
    from artifactscope.synth.looks import Look, random_look

    frame = procedural_frame(np.random.default_rng(0), 96, 160)
    out = Look()(frame)
    assert out is not frame and np.array_equal(out, frame)
    assert random_look(np.random.default_rng(0), p=0.0) == Look()


def test_random_looks_are_seeded_and_change_appearance():
    from artifactscope.synth.looks import Look, random_look

    frame = procedural_frame(np.random.default_rng(1), 96, 160)
    looks = [random_look(np.random.default_rng(s), p=1.0) for s in range(20)]
    assert looks == [random_look(np.random.default_rng(s), p=1.0) for s in range(20)]
    changed = 0
    for look in looks:
        out = look(frame)
        assert out.shape == frame.shape and out.dtype == np.uint8
        assert np.array_equal(out, look(frame))  # grain too is seeded: both frames of a pair match
        changed += look != Look() and not np.array_equal(out, frame)
    assert changed >= 15


@pytest.mark.parametrize("field, value, check", [
    ("saturation", 0.0, lambda f, o: np.ptp(o.astype(int), axis=2).max() <= 2),  # grey
    ("gamma", 0.5, lambda f, o: o.mean() > f.mean() + 10),  # shadows lifted
    ("blur_sigma", 1.5, lambda f, o: np.abs(np.diff(o.astype(int), axis=1)).mean()
     < np.abs(np.diff(f.astype(int), axis=1)).mean()),
])
def test_look_fields_have_their_effect(field, value, check):
    from artifactscope.synth.looks import Look

    frame = procedural_frame(np.random.default_rng(2), 96, 160)
    assert check(frame, Look(**{field: value})(frame))


def test_random_look_validates_p():
    from artifactscope.synth.looks import random_look

    with pytest.raises(ValueError, match="probability"):
        random_look(np.random.default_rng(0), p=1.5)


def test_rolling_tear_keeps_the_frame_before_above_a_moving_seam():
    frames = [np.full((40, 60, 3), 10 * i, np.uint8) for i in range(6)]
    clip, stale = rolling_tear(frames, [2, 3], first=0.25, step=0.25)
    assert stale == {2: (slice(0, 10),), 3: (slice(0, 20),)}
    assert (clip[2][:10] == 10).all() and (clip[2][10:] == 20).all()  # rows above the seam: frame 1
    assert (clip[3][:20] == 20).all() and (clip[3][20:] == 30).all()
    assert all((clip[t] == frames[t]).all() for t in (0, 1, 4, 5)) and (frames[2] == 20).all()  # input untouched
    clip, stale = rolling_tear(frames, [1], vertical=True, first=0.5)
    assert stale[1] == (slice(None), slice(0, 30)) and (clip[1][:, :30] == 0).all() and (clip[1][:, 30:] == 10).all()
    with pytest.raises(ValueError, match="no frame before it"):
        rolling_tear(frames, [0])
