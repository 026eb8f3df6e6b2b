"""The scan engine: order, parallel equals serial, cancellation, video frames, summaries."""

import cv2
import numpy as np
import pytest

from artifactscope import scan as scan_mod
from artifactscope.model_store import load_bundle
from artifactscope.synth import procedural_frame

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
