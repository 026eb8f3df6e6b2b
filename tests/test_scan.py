"""The scan engine: order, parallel equals serial, cancellation, video frames, summaries."""

import json
import threading
import time

import cv2
import numpy as np
import pytest

from artifactscope import scan as scan_mod
from artifactscope.model_store import load_bundle
from artifactscope.synth import procedural_frame
from artifactscope.temporal import TemporalChecker

from .conftest import _write_png


@pytest.fixture(scope="module")
def model(tiny_bundle):
    return load_bundle(tiny_bundle)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("frames")
    for i in range(7):
        _write_png(root / f"f{i:02d}.png", procedural_frame(np.random.default_rng(i), width=200, height=112))
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return root


def _key(r):
    return (r.path, r.frame, r.label, r.error, None if r.score is None else round(r.score, 9))


def test_results_in_input_order_with_errors_in_place(folder, model):
    results = list(scan_mod.scan([folder], model, batch_size=3))
    names = [r.path.rsplit("/", 1)[-1] for r in results]
    assert names == ["broken.png"] + [f"f{i:02d}.png" for i in range(7)]
    assert results[0].error and results[0].score is None
    assert all(r.error is None and 0.0 <= r.score <= 1.0 for r in results[1:])
    assert all(r.width == 200 and r.height == 112 for r in results[1:])


def test_two_processes_give_the_same_results(folder, model):
    serial = [_key(r) for r in scan_mod.scan([folder], model, jobs=1)]
    parallel = [_key(r) for r in scan_mod.scan([folder], model, jobs=2)]
    assert parallel == serial


def test_cancel_stops_early(folder, model):
    seen = []
    results = list(scan_mod.scan([folder], model, batch_size=1, cancel=lambda: len(seen) >= 2,
                                 progress=lambda done, total: seen.append(done)))
    assert 1 <= len(results) < 8


def test_read_ahead_stays_bounded_and_stops_with_the_scan(folder, model, monkeypatch):
    decoded = []
    real = scan_mod._decode_image
    monkeypatch.setattr(scan_mod, "_decode_image", lambda path, opts: decoded.append(path) or real(path, opts))
    results = scan_mod.scan([folder], model, batch_size=1)
    first = next(results)
    assert first.path.endswith("broken.png")
    time.sleep(0.3)  # let the reader run as far ahead as it may
    # handed over (broken.png) + being analysed + the queue (2) + one decoded and waiting for room: not all 8
    assert 2 <= len(decoded) <= 5
    results.close()
    assert not any(t.name == "artifactscope-prefetch" and t.is_alive() for t in threading.enumerate())


def test_progress_reports_files(folder, model):
    calls = []
    list(scan_mod.scan([folder / "f00.png", folder / "f01.png"], model, progress=lambda d, t: calls.append((d, t)),
                       total_files=2))
    assert calls == [(1, 2), (2, 2)]


def test_video_frames_are_sampled_with_times(tmp_path, model):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 90))
    for i in range(12):
        writer.write(procedural_frame(np.random.default_rng(i), width=160, height=90)[:, :, ::-1].copy())
    writer.release()
    results = list(scan_mod.scan([path], model, every=4))
    assert [r.frame for r in results] == [0, 4, 8]
    assert [r.time_s for r in results] == pytest.approx([0.0, 0.4, 0.8])


def test_threshold_one_flags_nothing_and_zero_everything(folder, model):
    none = list(scan_mod.scan([folder], model, threshold=1.0))
    assert not any(r.corrupted for r in none if r.error is None)
    every = list(scan_mod.scan([folder], model, threshold=0.0))
    assert all(r.corrupted for r in every if r.error is None)
    summary = scan_mod.summarize(every)
    assert summary["flagged"] == 7 and summary["errors"] == 1
    assert scan_mod.exit_status(summary) == 1
    assert scan_mod.exit_status(scan_mod.summarize(none)) == 2


def test_bad_arguments(model, folder):
    with pytest.raises(ValueError, match="every"):
        list(scan_mod.scan([folder], model, every=0))
    with pytest.raises(ValueError, match="threshold"):
        list(scan_mod.scan([folder], model, threshold=1.5))


def test_flagged_frames_get_regions_inside_the_frame(folder, model):
    results = [r for r in scan_mod.scan([folder], model, threshold=0.0) if r.error is None]
    assert results and all(r.corrupted for r in results)
    with_regions = [r for r in results if r.regions]
    assert with_regions, "no flagged frame got a region"
    for r in with_regions:
        for region in r.regions:
            x0, y0, x1, y1 = region.box
            assert 0 <= x0 < x1 <= r.width and 0 <= y0 < y1 <= r.height
            assert region.label == r.label and 0.0 <= region.score <= r.score + 1e-4  # scores are rounded
    quiet = list(scan_mod.scan([folder], model, threshold=0.0, regions=False))
    assert all(r.regions == [] for r in quiet)
    parallel = [r for r in scan_mod.scan([folder], model, threshold=0.0, jobs=2) if r.error is None]
    assert [r.regions for r in parallel] == [r.regions for r in results]


# -- temporal checks on video -------------------------------------------------------------------------------
TW, TH = 160, 96


def _scrolling_clip(n=60):
    """A camera panning 4 px a frame over smooth texture (motion everywhere), as RGB frames."""
    rng = np.random.default_rng(3)
    big = cv2.resize(rng.integers(0, 255, (24, 140, 3), dtype=np.uint8), (TW + 4 * n, TH),
                     interpolation=cv2.INTER_CUBIC)
    return [big[:, 4 * i:4 * i + TW].copy() for i in range(n)]


def _write_clip(path, frames_rgb, fourcc="MJPG"):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10, (TW, TH))
    for f in frames_rgb:
        writer.write(f[:, :, ::-1].copy())
    writer.release()
    return path


@pytest.fixture(scope="module")
def torn_clip(tmp_path_factory):
    """Frames 20-24 torn: above a seam that rolls down the screen, the picture is still the previous frame's."""
    clean = _scrolling_clip()
    clip = list(clean)
    for t, seam in zip(range(20, 25), (20, 35, 50, 65, 80)):
        clip[t] = clean[t].copy()
        clip[t][:seam] = clean[t - 1][:seam]
    root = tmp_path_factory.mktemp("temporal")
    return _write_clip(root / "torn.avi", clip), _write_clip(root / "torn.mp4", clip, "mp4v")


@pytest.fixture(scope="module")
def shipped():
    """The shipped model: the tiny test model calls this texture morse_code at 0.99999 on every frame."""
    return load_bundle(None)


@pytest.mark.parametrize("which", [0, 1], ids=["mjpeg-avi", "mpeg4-mp4"])
def test_tear_at_known_frames_is_one_event_at_those_frames(torn_clip, shipped, which):
    from artifactscope.events import group_events

    results = list(scan_mod.scan([torn_clip[which]], shipped))
    assert [r.frame for r in results] == list(range(60)) and all(r.error is None for r in results)
    tears = [r.frame for r in results if r.corrupted and r.label == "screen_tearing"]
    assert tears == [20, 21, 22, 23, 24], [(r.frame, r.label, r.score) for r in results if r.corrupted]
    events = [e for e in group_events(results) if e.label == "screen_tearing"]
    assert [(e.start_frame, e.end_frame, e.frames) for e in events] == [(20, 24, 5)]
    assert events[0].peak_score > 0.9
    # The region is the band that still shows the previous frame: the rows between the last two seams.
    assert results[22].regions[0].label == "screen_tearing"
    x0, y0, x1, y1 = results[22].regions[0].box
    assert (x0, x1) == (0, TW) and abs(y0 - 35) <= 3 and abs(y1 - 50) <= 3


def test_without_temporal_checks_the_tear_is_not_found(torn_clip, shipped):
    results = list(scan_mod.scan([torn_clip[0]], shipped, temporal=False))
    assert not any(r.corrupted and r.label == "screen_tearing" for r in results)
    assert max(r.scores["screen_tearing"] for r in results) < 0.5


def test_temporal_checks_run_the_same_in_worker_processes(torn_clip, model):
    serial = [r.to_dict() for r in scan_mod.scan([torn_clip[0]], model)]
    assert [r.to_dict() for r in scan_mod.scan([torn_clip[0]], model, jobs=2)] == serial


def _temporal_findings(frames_rgb):
    """Run the temporal checks alone: {frame: [(artifact, p)]} for findings with p >= 0.5."""
    checks, out = TemporalChecker(), []
    for i, f in enumerate(frames_rgb):
        out += checks.push(scan_mod._Item("clip", i, i / 10, np.zeros(1), None, TW, TH), f)
    out += checks.finish()
    assert [it.frame for it in out] == list(range(len(frames_rgb)))  # every frame comes out, in order
    return {it.frame: [(a, p) for a, p, _ in it.temporal if p >= 0.5] for it in out if
            any(p >= 0.5 for _, p, _ in it.temporal)}


def test_repeated_frames_in_steady_motion_are_stutter_and_regular_repeats_are_not():
    clip = _scrolling_clip()
    assert _temporal_findings(clip) == {}  # steady pan: nothing
    stutter = list(clip)
    stutter[30] = stutter[31] = clip[29]  # the picture hangs for two frames
    found = _temporal_findings(stutter)
    assert sorted(found) == [30, 31] and all(f[0][0] == "screen_stuttering" for f in found.values())
    # 30 fps content shown at 60 (every frame twice, all along) and a long pause are not stutter.
    assert _temporal_findings([clip[i // 2] for i in range(60)]) == {}
    paused = clip[:20] + [clip[19]] * 20 + clip[20:40]
    assert _temporal_findings(paused) == {}


def test_an_object_appearing_in_a_still_scene_is_not_a_tear():
    still = np.full((TH, TW, 3), 80, np.uint8)
    clip = [still.copy() for _ in range(30)]
    for i in range(15, 30):
        clip[i][60:, 5 * i - 60:5 * i - 30] = 250  # an object enters the lower part and moves
    assert _temporal_findings(clip) == {}


def test_a_slow_band_that_then_jumps_is_not_a_tear_but_a_repeated_one_is():
    # The left half drifts slowly (1 px a frame over a soft gradient) and then jumps, while the right half pans
    # steadily: relative to the jump the left half looks stale, but it changed: no tear. The same band copied
    # exactly from the previous frame is one.
    from artifactscope.temporal import tear_score

    rng = np.random.default_rng(5)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (90, 400)).astype(np.float32), (0, 0), 6)
    prev, cur, nxt = (tex[:, s:s + 160].copy() for s in (0, 4, 8))  # steady pan
    prev[:, :80], cur[:, :80], nxt[:, :80] = tex[:, 200:280], tex[:, 201:281], tex[:, 300:380]  # slow, then a jump
    assert tear_score(prev, cur, nxt)[0] < 0.1
    cur[:, :80] = prev[:, :80]  # now it repeats its predecessor exactly
    p, axis, start, end = tear_score(prev, cur, nxt)
    assert p > 0.9 and axis == "cols" and start == 0.0 and end == pytest.approx(0.5, abs=0.05)


def test_cli_no_temporal_option_turns_the_checks_off(torn_clip, tmp_path):
    from artifactscope import cli

    runs = {}
    for name, extra in (("with", []), ("without", ["--no-temporal"])):
        out = tmp_path / f"{name}.json"
        cli.main(["scan", str(torn_clip[0]), "--format", "json", "--out", str(out), *extra])
        runs[name] = json.loads(out.read_text())
    assert any(r["label"] == "screen_tearing" for r in runs["with"])
    assert not any(r["label"] == "screen_tearing" for r in runs["without"])
