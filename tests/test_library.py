"""Tests of artifactscope.library: the labelled-sample library (storage, duplicates, history, concurrency,
crash safety)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from artifactscope import library
from artifactscope.artifacts import LABELS
from artifactscope.frames import FrameReadError, read_image
from artifactscope.library import LibraryError, SampleLibrary, default_library_dir, pixel_sha256

REPO = Path(__file__).resolve().parent.parent


def img(seed: int, h: int = 24, w: int = 32) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture()
def lib(tmp_path):
    with SampleLibrary(tmp_path / "lib") as lib:
        yield lib


def broken(problems):
    return [p for p in problems if not p.startswith(("orphan file", "leftover temporary file"))]


# --------------------------------------------------------------------------------------------------------------


def test_default_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("ARTIFACTSCOPE_LIBRARY", str(tmp_path / "mine"))
    assert default_library_dir() == tmp_path / "mine"
    monkeypatch.delenv("ARTIFACTSCOPE_LIBRARY")
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        assert default_library_dir() == tmp_path / "xdg" / "artifactscope" / "library"
        monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
        assert default_library_dir() == Path.home() / ".local" / "share" / "artifactscope" / "library"


def test_layout_and_round_trip(lib, tmp_path):
    root = tmp_path / "lib"
    assert (root / "index.sqlite").is_file()
    assert all((root / "samples" / label).is_dir() for label in LABELS)
    assert len(lib) == 0 and lib.counts() == dict.fromkeys(LABELS, 0)

    a, b, c = img(1), img(2), img(3, 40, 20)
    s1, created = lib.add(a, label="shader", origin="game/a.png", verdict="clean", score=0.12)
    assert created
    assert s1.path == root / "samples" / "shader" / f"{s1.sha256}.png"
    assert s1.sha256 == pixel_sha256(a)
    assert (s1.label, s1.origin, s1.frame, s1.verdict, s1.score) == (
        "shader", os.path.abspath("game/a.png"), None, "clean", 0.12)
    assert (s1.width, s1.height) == (32, 24) and s1.added.endswith("+00:00")
    np.testing.assert_array_equal(read_image(s1.path), a)  # lossless, RGB order kept

    s2, _ = lib.add(b, label="clean", origin="game/b.png")
    s3, _ = lib.add(c, label="shader", origin="clip.mp4", frame=7, time_s=0.28)
    assert (s3.frame, s3.time_s, s3.width, s3.height) == (7, 0.28, 20, 40)
    assert lib.get(s1.id) == s1 and lib.get(s3.id) == s3
    assert len(lib) == 3
    counts = lib.counts()
    assert set(counts) == set(LABELS) and counts["shader"] == 2 and counts["clean"] == 1
    assert counts["screen_tearing"] == 0
    assert [s.id for s in lib.samples("shader")] == [s1.id, s3.id]
    assert [s.id for s in lib.samples()] == [s1.id, s2.id, s3.id]
    assert lib.find(b) == s2 and lib.find(img(99)) is None
    assert lib.verify(deep=True) == []

    lib.remove(s2.id)
    assert not s2.path.exists() and len(lib) == 2
    with pytest.raises(KeyError):
        lib.get(s2.id)
    with pytest.raises(KeyError):
        lib.remove(s2.id)
    assert lib.verify() == []


def test_duplicates_detected_by_pixels(lib):
    a = img(5)
    s1, created1 = lib.add(a, label="morse_code", origin="x/one.png")
    s2, created2 = lib.add(a.copy(), label="morse_code", origin="y/two.png")
    assert created1 and not created2
    assert s2 == s1  # the stored sample is unchanged (first origin kept)
    assert len(lib) == 1
    assert len(list((lib.root / "samples" / "morse_code").iterdir())) == 1
    # The second origin's labelling is recorded.
    assert [e.action for e in lib.history(s1.id)] == ["add", "duplicate"]
    assert lib.label_of("y/two.png") == "morse_code"


def test_relabel_updates_and_keeps_history(lib):
    a = img(6)
    s1, _ = lib.add(a, label="shader", origin="a.png", verdict="shader", score=0.9)
    s2, created = lib.add(a, label="clean", origin="a.png")
    assert not created and s2.id == s1.id and s2.label == "clean"
    assert s2.path == lib.root / "samples" / "clean" / f"{s1.sha256}.png"
    assert s2.path.is_file() and not s1.path.exists()
    assert lib.counts()["shader"] == 0 and lib.counts()["clean"] == 1
    hist = lib.history(s1.id)
    assert [(e.action, e.label, e.previous) for e in hist] == [("add", "shader", None), ("relabel", "clean", "shader")]
    assert hist[0].verdict == "shader" and hist[0].score == 0.9
    assert lib.label_of("a.png") == "clean"
    assert lib.verify(deep=True) == []


def test_label_of(lib):
    lib.add(img(7), label="shape", origin="v.mp4", frame=3)
    lib.add(img(8), label="clean", origin="v.mp4", frame=4)
    s, _ = lib.add(img(9), label="dotted_line", origin="still.png")
    assert lib.label_of("v.mp4", 3) == "shape"
    assert lib.label_of(os.path.abspath("v.mp4"), 4) == "clean"
    assert lib.label_of("v.mp4", 5) is None
    assert lib.label_of("v.mp4") is None  # frame None is not frame 3
    assert lib.label_of("still.png") == "dotted_line"
    assert lib.label_of("other.png") is None
    lib.remove(s.id)
    assert lib.label_of("still.png") is None


def test_invalid_input(lib, tmp_path):
    with pytest.raises(ValueError, match="unknown label 'glitch'.*shader"):
        lib.add(img(1), label="glitch", origin="a.png")
    with pytest.raises(ValueError, match="unknown label"):
        lib.add(img(1), label="clean", origin="a.png", verdict="bad")
    with pytest.raises(ValueError, match="unknown label"):
        lib.samples("nope")
    bad = [
        img(1).astype(np.float32),
        img(1)[:, :, 0],
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((0, 4, 3), np.uint8),
        [[1, 2, 3]],
    ]
    for b in bad:
        with pytest.raises(ValueError, match="image"):
            lib.add(b, label="clean", origin="a.png")
    with pytest.raises(ValueError, match="frame"):
        lib.add(img(1), label="clean", origin="a.png", frame=-1)
    with pytest.raises(ValueError, match="score"):
        lib.add(img(1), label="clean", origin="a.png", score=float("nan"))
    with pytest.raises(ValueError, match="origin"):
        lib.add(img(1), label="clean", origin="")
    with pytest.raises(FrameReadError, match="no such file"):
        lib.add(label="clean", origin=tmp_path / "missing.png")
    (tmp_path / "junk.png").write_bytes(b"not a png at all")
    with pytest.raises(FrameReadError):
        lib.add_file(tmp_path / "junk.png", label="clean")
    with pytest.raises(ValueError, match="needs the index"):
        lib.add(label="clean", origin=tmp_path / "v.mp4")
    assert len(lib) == 0 and lib.verify() == []


def test_add_file_image(lib, tmp_path):
    a = img(11)
    path = tmp_path / "shot.png"
    assert cv2.imwrite(str(path), a[:, :, ::-1].copy())
    [(s, created)] = lib.add_file(path, label="triangulation", verdict="clean", score=0.3)
    assert created and s.origin == str(path) and s.frame is None and s.verdict == "clean"
    np.testing.assert_array_equal(read_image(s.path), a)
    # The same picture as BMP is a duplicate.
    bmp = tmp_path / "shot.bmp"
    assert cv2.imwrite(str(bmp), a[:, :, ::-1].copy())
    [(s2, created2)] = lib.add_file(bmp, label="triangulation")
    assert not created2 and s2.id == s.id
    with pytest.raises(ValueError, match="videos only"):
        lib.add_file(path, label="clean", frame=0)


def test_survives_reopening(tmp_path):
    root = tmp_path / "lib"
    with SampleLibrary(root) as lib:
        s, _ = lib.add(img(12), label="shape", origin="a.png")
        lib.add(img(12), label="clean", origin="a.png")
    moved = tmp_path / "moved"
    os.replace(root, moved)  # paths are relative: the folder can move
    with SampleLibrary(moved) as lib:
        assert len(lib) == 1
        got = lib.get(s.id)
        assert got.label == "clean" and got.path == moved / "samples" / "clean" / f"{s.sha256}.png"
        assert len(lib.history(s.id)) == 2 and lib.label_of("a.png") == "clean"
        assert lib.verify(deep=True) == []
        assert lib.add(img(12), label="clean", origin="b.png")[1] is False


def test_newer_schema_and_garbage_index_refused(tmp_path):
    root = tmp_path / "lib"
    SampleLibrary(root).close()
    db = sqlite3.connect(root / "index.sqlite")
    db.execute("UPDATE schema_version SET version = 99")
    db.commit()
    db.close()
    with pytest.raises(LibraryError, match="newer artifactscope"):
        SampleLibrary(root)
    other = tmp_path / "other"
    other.mkdir()
    (other / "index.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(LibraryError, match="not a usable sample index"):
        SampleLibrary(other)


def test_verify_reports_problems(lib):
    s1, _ = lib.add(img(13), label="clean", origin="a.png")
    s2, _ = lib.add(img(14), label="clean", origin="b.png")
    s1.path.unlink()
    s2.path.write_bytes(s2.path.read_bytes() + b"x")
    (lib.root / "samples" / "shader" / "stray.png").write_bytes(b"x")
    problems = lib.verify()
    assert len(problems) == 3
    assert any(p.startswith("missing file: sample %d" % s1.id) for p in problems)
    assert any(p.startswith("hash mismatch: sample %d" % s2.id) for p in problems)
    assert any(p.startswith("orphan file: samples/shader/stray.png") for p in problems)
    (lib.root / "samples" / "clean" / ".x.png.1.ab.tmp").write_bytes(b"x")
    assert any(p.startswith("leftover temporary file: samples/clean/.x.png") for p in lib.verify())
    assert sorted(lib.prune()) == ["samples/clean/.x.png.1.ab.tmp", "samples/shader/stray.png"]
    assert len(lib.verify()) == 2 and s2.path.exists()  # rows and their files are never pruned


# --------------------------------------------------------------------------------------------------------------
# Crashes and concurrency


def test_failed_file_write_leaves_library_consistent(lib, monkeypatch):
    s1, _ = lib.add(img(20), label="clean", origin="a.png")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(library.os, "replace", boom)
    with pytest.raises(OSError, match="No space"):
        lib.add(img(21), label="shader", origin="b.png")
    monkeypatch.undo()
    assert len(lib) == 1 and lib.get(s1.id) == s1
    assert lib.verify(deep=True) == []  # the temp file was cleaned up
    assert lib.add(img(21), label="shader", origin="b.png")[1] is True


def test_failed_insert_leaves_only_an_orphan(lib, monkeypatch):
    s1, _ = lib.add(img(22), label="clean", origin="a.png")

    def boom(db, values):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(SampleLibrary, "_insert_row", staticmethod(boom))
    with pytest.raises(sqlite3.OperationalError):
        lib.add(img(23), label="shader", origin="b.png")
    monkeypatch.undo()
    assert len(lib) == 1 and lib.get(s1.id) == s1 and lib.history(s1.id)[-1].action == "add"
    problems = lib.verify()
    assert len(problems) == 1 and problems[0].startswith("orphan file: samples/shader/")
    # Adding the same picture again reclaims the orphan's name.
    s2, created = lib.add(img(23), label="shader", origin="b.png")
    assert created and lib.verify(deep=True) == []


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_process_killed_mid_add(tmp_path):
    root = tmp_path / "lib"
    with SampleLibrary(root) as lib:
        for i in range(3):
            lib.add(img(30 + i), label="clean", origin=f"{i}.png")
    # A real crash: the process dies after the image file is written, inside the open transaction.
    code = f"""
        import os, numpy as np
        from artifactscope.library import SampleLibrary
        lib = SampleLibrary({str(root)!r})
        def die(db, values):
            os._exit(17)
        SampleLibrary._insert_row = staticmethod(die)
        lib.add(np.full((8, 8, 3), 77, np.uint8), label="shader", origin="crash.png")
    """
    proc = subprocess.run(_python(code), env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 17, proc.stderr
    with SampleLibrary(root) as lib:
        assert len(lib) == 3 and lib.counts()["clean"] == 3
        assert broken(lib.verify(deep=True)) == []
        assert lib.label_of("crash.png") is None
        s, created = lib.add(np.full((8, 8, 3), 77, np.uint8), label="shader", origin="crash.png")
        assert created and lib.verify() == []


def test_two_processes_add_at_once(tmp_path):
    root = tmp_path / "lib"
    go = tmp_path / "go"
    code = """
        import os, sys, time, numpy as np
        from artifactscope.library import SampleLibrary
        root, go, worker = sys.argv[1], sys.argv[2], int(sys.argv[3])
        lib = SampleLibrary(root)
        while not os.path.exists(go):
            time.sleep(0.005)
        for i in range(25):
            pixels = np.random.default_rng(1000 * worker + i).integers(0, 256, (16, 16, 3), dtype=np.uint8)
            sample, created = lib.add(pixels, label=("clean", "shader")[worker], origin=f"w{worker}/{i}.png")
            assert created
            # A picture both workers add: one stores it, the other sees a duplicate.
            lib.add(np.zeros((4, 4, 3), np.uint8), label="clean", origin=f"w{worker}/shared.png")
        lib.close()
    """
    # Both processes also create the library at the same time.
    procs = [
        subprocess.Popen(_python(code) + [str(root), str(go), str(w)], env=_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in (0, 1)
    ]
    deadline = time.monotonic() + 30
    while not (root / "index.sqlite").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    go.touch()
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    with SampleLibrary(root) as lib:
        assert len(lib) == 51
        counts = lib.counts()
        assert counts["clean"] == 26 and counts["shader"] == 25
        files = [f for f in (root / "samples").rglob("*") if f.is_file()]
        assert len(files) == 51
        assert lib.verify() == []
        assert lib.label_of("w0/shared.png") == "clean" and lib.label_of("w1/shared.png") == "clean"


# --------------------------------------------------------------------------------------------------------------
# Video frames


@pytest.fixture()
def video(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (64, 48))
    assert writer.isOpened()
    for i in range(8):
        frame = np.zeros((48, 64, 3), np.uint8)
        frame[:, : 8 * (i + 1)] = 255  # white bar, 8 px wider each frame
        writer.write(frame)
    writer.release()
    return path


def _bar_width(pixels: np.ndarray) -> int:
    return int((pixels[24, :, 0] > 128).sum())


def test_video_frame(lib, video):
    s, created = lib.add(label="screen_tearing", origin=video, frame=3, verdict="clean")
    assert created and s.frame == 3 and s.time_s == pytest.approx(3 / 25)
    assert (s.width, s.height) == (64, 48)
    assert abs(_bar_width(read_image(s.path)) - 32) <= 2
    got = lib.add_file(video, label="clean", frame=[6, 0, 3])
    assert [x.frame for x, _ in got] == [0, 3, 6]
    assert [c for _, c in got] == [True, False, True]  # frame 3 is already stored
    assert lib.get(s.id).label == "clean"  # ... and was relabelled
    assert [abs(_bar_width(read_image(x.path)) - 8 * (x.frame + 1)) <= 2 for x, _ in got] == [True] * 3
    assert lib.label_of(video, 6) == "clean" and lib.label_of(video, 1) is None
    with pytest.raises(FrameReadError, match="no frame 50"):
        lib.add_file(video, label="clean", frame=50)
    with pytest.raises(ValueError, match="needs the index"):
        lib.add_file(video, label="clean")
    assert lib.verify(deep=True) == []
