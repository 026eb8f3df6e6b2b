"""Scanning at scale: resume after a kill, the Dask backend, and bad files that must not stop a batch."""

import json
import os
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from artifactscope import cli
from artifactscope import scan as scan_mod
from artifactscope.model_store import load_bundle
from artifactscope.synth import procedural_frame

from .conftest import REPO, _write_png

W, H = 64, 48


def _frame(i):
    return procedural_frame(np.random.default_rng(i), width=W, height=H)


def _write_video(path, n, fourcc="MJPG", start=0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10, (W, H))
    for i in range(n):
        writer.write(_frame(start + i)[:, :, ::-1].copy())
    writer.release()
    assert path.stat().st_size > 0


@pytest.fixture(scope="module")
def model(tiny_bundle):
    return load_bundle(tiny_bundle)


@pytest.fixture(scope="module")
def mixed_dir(tmp_path_factory):
    """10 images, a 10-frame video, 10 more images: 30 frames."""
    root = tmp_path_factory.mktemp("mixed")
    for i in range(10):
        _write_png(root / f"a{i:02d}.png", _frame(i))
        _write_png(root / f"c{i:02d}.png", _frame(100 + i))
    _write_video(root / "b_clip.avi", 10, start=200)
    return root


def _records(results):
    return [r.to_dict() for r in results]


# Runs the CLI and sends itself SIGNAL (SIGKILL: a kill; SIGINT: Ctrl-C) right after the SIGNAL_AFTER-th record.
SIGNALLER = textwrap.dedent("""
    import os, signal, sys
    from artifactscope import cli, scan
    original, seen = scan.ResultsFile.write, [0]
    sig = getattr(signal, os.environ["SIGNAL"])
    def write(self, result):
        original(self, result)
        seen[0] += 1
        if seen[0] == int(os.environ["SIGNAL_AFTER"]):
            if sig == signal.SIGKILL:
                self._fh.flush()  # what the OS already has survives the kill; the rest is lost
            os.kill(os.getpid(), sig)
    scan.ResultsFile.write = write
    sys.exit(cli.main(sys.argv[1:]))
""")


def test_resume_after_kill_skips_done_files_and_matches_uninterrupted_run(mixed_dir, tiny_bundle, tmp_path,
                                                                           monkeypatch, capsys):
    common = ["scan", str(mixed_dir), "--model", str(tiny_bundle), "--format", "json", "--progress", "never"]
    ref_code = cli.main(common + ["--out", str(tmp_path / "ref.json")])
    results = tmp_path / "results.jsonl"

    # Killed in the middle of the video: 10 images done, 5 of the video's 10 records written.
    env = dict(os.environ, SIGNAL="SIGKILL", SIGNAL_AFTER="15", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", SIGNALLER, *common, "--resume", str(results)], env=env,
                          capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    lines = results.read_bytes().splitlines(keepends=True)
    assert sum(ln.startswith(b'{"done":') for ln in lines) == 10
    with open(results, "ab") as fh:  # and a torn last line, as a kill in the middle of a write leaves
        fh.write(b'{"path": "' + str(mixed_dir).encode() + b'/b_clip.avi", "fra')
    kept = b"".join(lines[:1 + 2 * 10])  # header + 10 images with their "done" lines

    reads = []
    real_read = scan_mod.frames.read_image
    monkeypatch.setattr(scan_mod.frames, "read_image", lambda p, **kw: reads.append(p) or real_read(p, **kw))
    code = cli.main(common + ["--out", str(tmp_path / "resumed.json"), "--resume", str(results)])
    capsys.readouterr()
    # The 10 finished images were skipped; the video and the other 10 were scanned (flagged images are read
    # a second time for their regions, so count distinct files).
    assert len(set(reads)) == 10
    assert results.read_bytes().startswith(kept)  # nothing already complete was lost or rewritten
    resumed = json.loads((tmp_path / "resumed.json").read_text())
    assert resumed == json.loads((tmp_path / "ref.json").read_text())
    assert len(resumed) == 30 and code == ref_code
    done = [json.loads(ln)["done"] for ln in results.read_text().splitlines() if ln.startswith('{"done":')]
    assert len(done) == len(set(done)) == 21

    # Everything done: a third run scans nothing and reports the same.
    reads.clear()
    assert cli.main(common + ["--out", str(tmp_path / "again.json"), "--resume", str(results)]) == ref_code
    assert reads == [] and json.loads((tmp_path / "again.json").read_text()) == resumed


def test_results_file_with_other_settings_or_foreign_content_is_refused(mixed_dir, model, tmp_path):
    results = tmp_path / "r.jsonl"
    list(scan_mod.scan([mixed_dir / "a00.png"], model, results_file=results))
    with pytest.raises(scan_mod.ResultsFileError, match="other settings"):
        list(scan_mod.scan([mixed_dir / "a00.png"], model, results_file=results, threshold=0.5))
    foreign = tmp_path / "notes.txt"
    foreign.write_text("my notes\n")
    with pytest.raises(scan_mod.ResultsFileError, match="not an artifactscope results file"):
        list(scan_mod.scan([mixed_dir / "a00.png"], model, results_file=foreign))
    assert foreign.read_text() == "my notes\n"


def test_dask_backend_gives_the_local_results(mixed_dir, model, tmp_path):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    paths = [mixed_dir, tmp_path / "broken.png", tmp_path / "missing.png"]
    local = _records(scan_mod.scan(paths, model, every=2))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        remote = _records(scan_mod.scan(paths, model, every=2, backend="dask", scheduler=cluster.scheduler_address,
                                        files_per_task=4, max_in_flight=2,
                                        results_file=tmp_path / "dask.jsonl"))
    assert remote == local
    assert [r.to_dict() for r in scan_mod.read_results(tmp_path / "dask.jsonl")] == local


def test_dask_missing_or_without_scheduler_is_a_clear_error(mixed_dir, model, monkeypatch, tiny_bundle, capsys):
    assert cli.main(["scan", str(mixed_dir), "--model", str(tiny_bundle), "--backend", "dask"]) == 2
    assert "--scheduler" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(scan_mod.BackendUnavailable, match=r"artifactscope\[dask\]"):
        list(scan_mod.scan([mixed_dir], model, backend="dask", scheduler="tcp://127.0.0.1:1"))


def test_bad_files_each_give_an_error_and_the_scan_goes_on(model, tmp_path):
    _write_video(tmp_path / "b_full.avi", 30)
    data = (tmp_path / "b_full.avi").read_bytes()
    (tmp_path / "c_truncated.avi").write_bytes(data[: len(data) // 2])
    _write_video(tmp_path / "d_noindex.mp4", 30, fourcc="mp4v")  # the index (moov) is written last
    data = (tmp_path / "d_noindex.mp4").read_bytes()
    assert data.find(b"moov") > len(data) // 2
    (tmp_path / "d_noindex.mp4").write_bytes(data[: int(len(data) * 0.9)])
    (tmp_path / "e_empty.png").write_bytes(b"")
    (tmp_path / "e_empty.mp4").write_bytes(b"")
    _write_png(tmp_path / "f_vanishes.png", _frame(1))
    _write_png(tmp_path / "g_last.png", _frame(2))

    def progress(done, total):  # discovery has listed f_vanishes.png; it goes before it is read
        if done == 1:
            (tmp_path / "f_vanishes.png").unlink()

    results = list(scan_mod.scan([tmp_path], model, batch_size=1, progress=progress))
    by_file = {}
    for r in results:
        by_file.setdefault(os.path.basename(r.path), []).append(r)
    assert [r.frame for r in by_file["b_full.avi"]] == list(range(30))
    assert all(r.error is None for r in by_file["b_full.avi"])
    truncated = by_file["c_truncated.avi"]
    assert all(r.error is None for r in truncated[:-1]) and len(truncated) < 30
    assert "truncated video" in truncated[-1].error
    for name, reason in [("d_noindex.mp4", "cannot open video"), ("e_empty.png", "zero-byte"),
                         ("e_empty.mp4", "zero-byte"), ("f_vanishes.png", "no such file")]:
        assert len(by_file[name]) == 1 and reason in by_file[name][0].error, (name, by_file[name])
    assert by_file["g_last.png"][0].error is None and by_file["g_last.png"][0].score is not None


def test_fps_sampling_and_cli_option(model, tiny_bundle, tmp_path, capsys):
    _write_video(tmp_path / "clip.avi", 20)  # 10 fps
    assert [r.frame for r in scan_mod.scan([tmp_path / "clip.avi"], model, fps=2.5)] == [0, 4, 8, 12, 16]
    code = cli.main(["scan", str(tmp_path / "clip.avi"), "--model", str(tiny_bundle), "--fps", "5",
                     "--format", "jsonl"])
    out = capsys.readouterr().out
    assert code in (0, 1) and [json.loads(ln)["frame"] for ln in out.splitlines()] == [0, 2, 4, 6, 8, 10, 12, 14,
                                                                                       16, 18]


def test_ctrl_c_stops_cleanly_keeps_what_is_written_and_resumes(mixed_dir, tiny_bundle, tmp_path):
    common = ["scan", str(mixed_dir), "--model", str(tiny_bundle), "--format", "json", "--progress", "never"]
    results = tmp_path / "results.jsonl"
    env = dict(os.environ, SIGNAL="SIGINT", SIGNAL_AFTER="5", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", SIGNALLER, *common, "--resume", str(results),
                           "--out", str(tmp_path / "partial.json")], env=env, capture_output=True, timeout=120)
    assert proc.returncode == 130, proc.stderr.decode()[-2000:]
    assert b"interrupted" in proc.stderr and b"run the same command to resume" in proc.stderr
    assert b"Traceback" not in proc.stderr
    assert not (tmp_path / "partial.json").exists()  # no half-written report
    done = [json.loads(ln)["done"] for ln in results.read_text().splitlines() if ln.startswith('{"done":')]
    # The 5th record was interrupted before its "done" mark: it is redone on resume, the 4 before are kept.
    assert 4 <= len(done) < 21  # what was finished is on disk, and the scan did stop early
    code = cli.main(common + ["--out", str(tmp_path / "resumed.json"), "--resume", str(results)])
    ref = cli.main(common + ["--out", str(tmp_path / "ref.json")])
    assert code == ref
    assert json.loads((tmp_path / "resumed.json").read_text()) == json.loads((tmp_path / "ref.json").read_text())
