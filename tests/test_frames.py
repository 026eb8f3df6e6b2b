"""Tests of artifactscope.frames: reading images, videos and folders, and refusing bad input cleanly."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from artifactscope import frames
from artifactscope.frames import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    Frame,
    FrameReadError,
    discover,
    is_image,
    is_video,
    iter_frames,
    iter_video,
    read_image,
)

RED_BGR = (0, 0, 255)
FORMATS = [".png", ".jpg", ".bmp", ".webp", ".tiff"]
# Lossy formats get a tolerance; the lossless ones must round-trip exactly.
TOLERANCE = {".jpg": 8, ".webp": 8}


# ----------------------------------------------------------------------------------------------------------------
# Helpers


def write_image(path: Path, img: np.ndarray, params: tuple[int, ...] = ()) -> Path:
    """Encode with OpenCV and write through numpy, so that non-ASCII paths work."""
    ok, buf = cv2.imencode(path.suffix, img, list(params))
    assert ok
    buf.tofile(str(path))
    return path


def red_image(width: int = 32, height: int = 24) -> np.ndarray:
    img = np.zeros((height, width, 3), np.uint8)
    img[:] = RED_BGR
    return img


def png_chunk(ctype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", zlib.crc32(ctype + payload))


def grey_png(width: int, height: int, rows: int | None = None) -> bytes:
    """A valid 8-bit grey PNG of zeros; with ``rows``, only that many rows of data are compressed."""
    rows = height if rows is None else rows
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = zlib.compress(b"\x00" * (rows * (width + 1)), 9)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", raw) + png_chunk(b"IEND", b"")


def write_video(path: Path, fourcc: str, n: int = 20, fps: float = 10.0, size: tuple[int, int] = (64, 48)) -> Path:
    """Frame i is pure red of brightness 20 + 10 * i."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened()
    for i in range(n):
        img = np.zeros((size[1], size[0], 3), np.uint8)
        img[:, :, 2] = 20 + 10 * i
        writer.write(img)
    writer.release()
    assert path.stat().st_size > 0
    return path


def truncate(path: Path, fraction: float, dest: Path | None = None) -> Path:
    data = path.read_bytes()
    dest = dest or path.with_name("trunc_" + path.name)
    dest.write_bytes(data[: int(len(data) * fraction)])
    return dest


# ----------------------------------------------------------------------------------------------------------------
# Constants and small types


def test_extension_sets_and_limit():
    assert IMAGE_EXTENSIONS == {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
    assert VIDEO_EXTENSIONS == {".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".gif"}
    assert 7680 * 4320 <= DEFAULT_MAX_PIXELS == 100_000_000
    # OpenCV's own guard is configured (before cv2 was first imported).
    assert int(os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"]) >= 7680 * 4320


def test_is_video_case_insensitive():
    assert is_video("a/b/Clip.MP4") and is_video(Path("x.mkv"))
    assert not is_video("shot.png") and not is_video("noext")


def test_frame_ok_and_error_type(tmp_path):
    good = Frame("a.png", None, None, np.zeros((2, 2, 3), np.uint8))
    bad = Frame("b.png", None, None, None, "zero-byte file")
    assert good.ok and not bad.ok
    with pytest.raises(AttributeError):
        good.index = 3  # type: ignore[misc]
    err = FrameReadError(tmp_path / "x.png", "zero-byte file")
    assert err.path == str(tmp_path / "x.png") and err.reason == "zero-byte file"
    assert str(tmp_path / "x.png") in str(err) and "zero-byte" in str(err)


# ----------------------------------------------------------------------------------------------------------------
# Reading images


@pytest.mark.parametrize("ext", FORMATS)
def test_read_formats_as_rgb(tmp_path, ext):
    path = write_image(tmp_path / f"red{ext}", red_image())
    px = read_image(path)
    assert px.dtype == np.uint8 and px.shape == (24, 32, 3) and px.flags.c_contiguous
    tol = TOLERANCE.get(ext, 0)
    # Pure red in, pure red out in RGB order: channel 0 is red.
    assert np.all(px[..., 0] >= 255 - tol)
    assert np.all(px[..., 1:] <= tol)


def test_read_jpeg_extension_alias_and_content_sniffing(tmp_path):
    # A PNG saved with a .jpeg name is still read (the format comes from the content).
    data = cv2.imencode(".png", red_image())[1].tobytes()
    (tmp_path / "shot.jpeg").write_bytes(data)
    assert read_image(tmp_path / "shot.jpeg")[0, 0].tolist() == [255, 0, 0]


def test_grey_png_becomes_rgb(tmp_path):
    grey = np.full((10, 12), 77, np.uint8)
    px = read_image(write_image(tmp_path / "grey.png", grey))
    assert px.shape == (10, 12, 3) and px.dtype == np.uint8
    assert np.all(px == 77)


def test_rgba_png_drops_alpha(tmp_path):
    bgra = np.zeros((10, 12, 4), np.uint8)
    bgra[..., 2] = 255  # red
    bgra[..., 3] = 40  # mostly transparent: the colour is kept anyway
    px = read_image(write_image(tmp_path / "rgba.png", bgra))
    assert px.shape == (10, 12, 3)
    assert px[0, 0].tolist() == [255, 0, 0]


def test_16bit_pngs_scaled_to_uint8(tmp_path):
    colour = np.zeros((6, 8, 3), np.uint16)
    colour[..., 2] = 65535  # red
    colour[..., 1] = 32896  # 128 * 257
    px = read_image(write_image(tmp_path / "c16.png", colour))
    assert px.dtype == np.uint8 and px[0, 0].tolist() == [255, 128, 0]
    grey = np.full((6, 8), 257 * 200, np.uint16)
    px = read_image(write_image(tmp_path / "g16.png", grey))
    assert px.dtype == np.uint8 and px.shape == (6, 8, 3) and np.all(px == 200)


def test_non_ascii_image_path(tmp_path):
    path = write_image(tmp_path / "écran_テスト.png", red_image())
    assert read_image(path)[0, 0].tolist() == [255, 0, 0]
    [frame] = list(iter_frames([path]))
    assert frame.ok and frame.source == str(path)


HEADER_CASES = [
    (".png", ()),
    (".jpg", ()),
    (".jpg", (cv2.IMWRITE_JPEG_PROGRESSIVE, 1)),
    (".bmp", ()),
    (".webp", (cv2.IMWRITE_WEBP_QUALITY, 80)),  # lossy: VP8
    (".webp", (cv2.IMWRITE_WEBP_QUALITY, 101)),  # lossless: VP8L
    (".tiff", ()),
    (".tiff", (cv2.IMWRITE_TIFF_COMPRESSION, 1)),  # uncompressed
]


@pytest.mark.parametrize(("ext", "params"), HEADER_CASES)
def test_header_parsers_give_the_size(ext, params):
    img = np.random.default_rng(0).integers(0, 255, (23, 37, 3), dtype=np.uint8)
    data = cv2.imencode(ext, img, list(params))[1].tobytes()
    fmt = frames._sniff(data)
    assert fmt is not None
    assert frames._INFO[fmt](data) == (37, 23, True)
    # Cut short: the size is still read but the data is known to be incomplete, or (a TIFF whose directory
    # was written at the end) the header itself is missing.
    try:
        assert frames._INFO[fmt](data[: int(len(data) * 0.7)]) == (37, 23, False)
    except frames._Truncated:
        assert fmt == "tiff"


def test_webp_with_alpha_header(tmp_path):
    bgra = np.full((23, 37, 4), 200, np.uint8)
    data = cv2.imencode(".webp", bgra)[1].tobytes()
    assert frames._INFO["webp"](data) == (37, 23, True)


# ----------------------------------------------------------------------------------------------------------------
# Decompression bombs and size limits


def test_png_decompression_bomb_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    path.write_bytes(grey_png(14142, 14142, rows=8))
    assert path.stat().st_size < 10_000  # a few kB that claim 200 megapixels

    def no_decode(*args, **kwargs):
        raise AssertionError("the image must not be decoded")

    monkeypatch.setattr(frames.cv2, "imdecode", no_decode)
    with pytest.raises(FrameReadError) as info:
        read_image(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "14142x14142" in msg and "200.0 megapixels" in msg and "limit of 100.0 megapixels" in msg
    [frame] = list(iter_frames([path]))
    assert not frame.ok and frame.pixels is None and "megapixels" in frame.error


def test_truncated_bomb_reports_its_size(tmp_path):
    path = tmp_path / "cut_bomb.png"
    path.write_bytes(grey_png(14142, 14142, rows=8)[:100])
    with pytest.raises(FrameReadError, match="200.0 megapixels"):
        read_image(path)


def test_opencv_refuses_giant_images_too(tmp_path):
    # The second line of defence, for formats our header parser cannot size: with artifactscope.frames
    # imported first (OpenCV reads the variable once, when it loads), OpenCV itself refuses a 200-megapixel
    # image instead of allocating it. Run in a fresh interpreter: this one may have loaded cv2 earlier.
    path = tmp_path / "bomb.png"
    path.write_bytes(grey_png(14142, 14142, rows=8))
    code = (
        "import sys, numpy as np\n"
        "import artifactscope.frames\n"
        "import cv2\n"
        "try:\n"
        "    cv2.imdecode(np.fromfile(sys.argv[1], np.uint8), cv2.IMREAD_COLOR)\n"
        "except cv2.error as e:\n"
        "    print('refused' if 'CV_IO_MAX_IMAGE_PIXELS' in str(e) else e)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_IO_MAX_IMAGE_PIXELS"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env, timeout=60,
        cwd=Path(frames.__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "refused", out.stderr


def test_jpeg_bomb_from_sof_header(tmp_path, monkeypatch):
    data = bytearray(cv2.imencode(".jpg", red_image())[1].tobytes())
    sof = data.find(b"\xff\xc0")
    assert sof > 0
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)
    path = tmp_path / "bomb.jpg"
    path.write_bytes(bytes(data))
    monkeypatch.setattr(frames.cv2, "imdecode", lambda *a, **k: pytest.fail("decoded"))
    with pytest.raises(FrameReadError, match=r"60000x60000 = 3600\.0 megapixels"):
        read_image(path)


def test_webp_and_bmp_bombs_from_header(tmp_path, monkeypatch):
    monkeypatch.setattr(frames.cv2, "imdecode", lambda *a, **k: pytest.fail("decoded"))
    webp = bytearray(cv2.imencode(".webp", red_image(), [cv2.IMWRITE_WEBP_QUALITY, 101])[1].tobytes())
    assert webp[12:16] == b"VP8L"
    webp[21:25] = struct.pack("<I", (16383 | (16383 << 14)) | (int.from_bytes(webp[21:25], "little") & ~0xFFFFFFF))
    (tmp_path / "bomb.webp").write_bytes(bytes(webp))
    with pytest.raises(FrameReadError, match="16384x16384 = 268.4 megapixels"):
        read_image(tmp_path / "bomb.webp")
    bmp = bytearray(cv2.imencode(".bmp", red_image())[1].tobytes())
    bmp[18:26] = struct.pack("<ii", 20000, 20000)
    (tmp_path / "bomb.bmp").write_bytes(bytes(bmp))
    with pytest.raises(FrameReadError, match="20000x20000 = 400.0 megapixels"):
        read_image(tmp_path / "bomb.bmp")


@pytest.mark.parametrize("ext", FORMATS)
def test_max_pixels_applies_to_every_format(tmp_path, ext):
    path = write_image(tmp_path / f"small{ext}", red_image())
    with pytest.raises(FrameReadError, match=r"32x24 .* over the limit"):
        read_image(path, max_pixels=500)
    assert read_image(path, max_pixels=768).shape == (24, 32, 3)


def test_8k_image_passes_default_limit(tmp_path):
    path = tmp_path / "8k.png"
    path.write_bytes(grey_png(7680, 4320))
    px = read_image(path)
    assert px.shape == (4320, 7680, 3) and px.dtype == np.uint8


# ----------------------------------------------------------------------------------------------------------------
# Bad image files


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(FrameReadError, match="zero-byte file") as info:
        read_image(path)
    assert info.value.path == str(path) and str(path) in str(info.value)


def test_missing_file(tmp_path):
    path = tmp_path / "missing.png"
    with pytest.raises(FrameReadError, match="no such file or directory") as info:
        read_image(path)
    assert str(path) in str(info.value)


def test_text_file_renamed_png(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("these are not pixels\n" * 10)
    with pytest.raises(FrameReadError, match=r"not a PNG/JPEG/BMP/WebP/TIFF image \(unrecognised content\)") as info:
        read_image(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_truncated_png_and_jpeg(tmp_path, ext):
    img = np.random.default_rng(1).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    full = write_image(tmp_path / f"full{ext}", img)
    path = truncate(full, 0.5)
    with pytest.raises(FrameReadError, match="truncated image data") as info:
        read_image(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("fraction", [0.02, 0.5, 0.9])
def test_truncated_files_of_every_format_raise(tmp_path, ext, fraction):
    img = np.random.default_rng(2).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    path = truncate(write_image(tmp_path / f"full{ext}", img), fraction)
    with pytest.raises(FrameReadError):
        read_image(path)


def test_jpeg_with_trailing_padding_is_fine(tmp_path):
    data = cv2.imencode(".jpg", red_image())[1].tobytes()
    (tmp_path / "pad.jpg").write_bytes(data + b"\x00" * 64)
    assert read_image(tmp_path / "pad.jpg").shape == (24, 32, 3)


def test_corrupt_png_data_is_an_error(tmp_path):
    img = np.random.default_rng(3).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    data = bytearray(cv2.imencode(".png", img)[1].tobytes())
    mid = len(data) // 2
    data[mid : mid + 64] = bytes(range(64))  # garbage inside IDAT: checksum fails
    (tmp_path / "corrupt.png").write_bytes(bytes(data))
    with pytest.raises(FrameReadError, match="cannot decode PNG data"):
        read_image(tmp_path / "corrupt.png")


def test_directory_passed_to_read_image(tmp_path):
    with pytest.raises(FrameReadError, match="directory"):
        read_image(tmp_path)


# ----------------------------------------------------------------------------------------------------------------
# Videos


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("videos")
    return {
        "mp4": write_video(root / "clip.mp4", "mp4v"),
        "avi": write_video(root / "clip.avi", "MJPG"),
    }


def assert_red_brightness(frame: Frame) -> None:
    assert frame.ok and frame.pixels is not None
    assert frame.pixels.shape == (48, 64, 3) and frame.pixels.dtype == np.uint8
    expected = 20 + 10 * frame.index
    red, rest = frame.pixels[..., 0].mean(), frame.pixels[..., 1:].mean()
    assert abs(red - expected) < 8, (frame.index, red, expected)
    assert rest < 10  # RGB order: the red channel is the first


@pytest.mark.parametrize("kind", ["mp4", "avi"])
def test_video_every_5(videos, kind):
    got = list(iter_video(videos[kind], every=5))
    assert [f.index for f in got] == [0, 5, 10, 15]
    assert [f.time_s for f in got] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    for frame in got:
        assert frame.source == str(videos[kind])
        assert_red_brightness(frame)


@pytest.mark.parametrize("kind", ["mp4", "avi"])
def test_video_all_frames(videos, kind):
    got = list(iter_video(videos[kind]))
    assert [f.index for f in got] == list(range(20))
    for frame in got:
        assert_red_brightness(frame)


def test_animated_gif_is_read_as_a_video_and_a_still_gif_as_one_frame(tmp_path):
    # Screen-capture tools save clips as GIF; Pillow (a scikit-image dependency) writes them for the test.
    Image = pytest.importorskip("PIL.Image")
    clip = [Image.fromarray(np.full((48, 64, 3), (20 + 10 * i, 0, 0), np.uint8)) for i in range(6)]
    clip[0].save(tmp_path / "capture.gif", save_all=True, append_images=clip[1:], duration=100, loop=0)
    clip[0].save(tmp_path / "still.gif")
    assert is_video(tmp_path / "capture.gif") and not is_image(tmp_path / "capture.gif")
    got = list(iter_frames([tmp_path]))  # a folder: the GIFs are found, not skipped
    assert [(Path(f.source).name, f.index) for f in got] == [*(("capture.gif", i) for i in range(6)), ("still.gif", 0)]
    assert all(f.ok for f in got)
    assert [f.time_s for f in got[:6]] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    for frame in got[:6]:
        assert_red_brightness(frame)


def test_video_fps_sampling(videos):
    # 10 fps video sampled at 2 fps: every 5th frame; at 3 fps: round(10 / 3) = 3.
    assert [f.index for f in iter_video(videos["mp4"], fps=2)] == [0, 5, 10, 15]
    assert [f.index for f in iter_video(videos["mp4"], fps=3)] == [0, 3, 6, 9, 12, 15, 18]
    assert [f.index for f in iter_video(videos["mp4"], fps=100)] == list(range(20))


def test_video_bad_arguments(videos):
    with pytest.raises(ValueError):
        list(iter_video(videos["mp4"], every=0))
    with pytest.raises(ValueError):
        list(iter_video(videos["mp4"], fps=0))


def test_non_ascii_video_path(tmp_path):
    path = write_video(tmp_path / "écran_テスト.mp4", "mp4v", n=6)
    got = list(iter_video(path, every=2))
    assert [f.index for f in got] == [0, 2, 4] and all(f.ok for f in got)


@pytest.mark.parametrize("kind", ["mp4", "avi"])
def test_truncated_video_no_crash(videos, tmp_path, kind):
    path = truncate(videos[kind], 0.6, tmp_path / f"cut.{kind}")
    got = list(iter_video(path))
    good = [f for f in got if f.ok]
    bad = [f for f in got if not f.ok]
    assert len(good) < 20
    if not good:  # the container's index was cut off: one clear error
        assert len(bad) == 1 and "cannot decode any frame of the video" in bad[0].error
    else:  # the frames that survived, in order
        assert [f.index for f in good] == list(range(len(good)))
        for frame in good:
            assert_red_brightness(frame)


def test_truncated_avi_yields_its_first_frames(videos, tmp_path):
    path = truncate(videos["avi"], 0.6, tmp_path / "cut.avi")
    good = [f for f in iter_video(path) if f.ok]
    assert 0 < len(good) < 20


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "zero-byte file"),
        (b"definitely not a video\n" * 50, "cannot decode any frame of the video"),
        (None, "no such file or directory"),
    ],
)
def test_unreadable_video_gives_one_error_frame(tmp_path, content, expected):
    path = tmp_path / "bad.mp4"
    if content is not None:
        path.write_bytes(content)
    [frame] = list(iter_video(path))
    assert not frame.ok and frame.pixels is None and expected in frame.error
    assert frame.source == str(path)
    [frame] = list(iter_frames([path]))
    assert expected in frame.error


def test_video_frame_size_checked(videos):
    [frame] = list(iter_video(videos["mp4"], max_pixels=1000))
    assert not frame.ok and "64x48" in frame.error and "over the limit" in frame.error


# ----------------------------------------------------------------------------------------------------------------
# Folders and mixed inputs


def make_tree(root: Path) -> list[Path]:
    """A nested folder; returns the media files in the expected order."""
    (root / "b").mkdir(parents=True)
    (root / "b" / "deep").mkdir()
    (root / ".git").mkdir()
    expected = [
        write_image(root / "a.png", red_image()),
        write_image(root / "b" / "deep" / "z.png", red_image()),
        write_image(root / "b" / "frame2.png", red_image()),
        write_image(root / "b" / "frame10.png", red_image()),
        write_image(root / "C.JPG", red_image()),
        write_video(root / "clip.MP4", "mp4v", n=3),
    ]
    (root / "notes.txt").write_text("not an image")
    write_image(root / ".hidden.png", red_image())
    write_image(root / ".git" / "x.png", red_image())
    return expected


def test_discover_folder_recursive_sorted(tmp_path):
    expected = make_tree(tmp_path / "shots")
    got = list(discover([tmp_path / "shots"]))
    assert got == [(str(p), None) for p in expected]


def test_discover_explicit_files_and_errors(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    noext = tmp_path / "README"
    noext.write_text("x")
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "readme.md").write_text("x")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"junk")
    got = dict(discover([notes, noext, tmp_path / "missing.jpg", empty, broken]))
    assert got[str(notes)] == "unsupported file type '.txt' (expected an image or a video)"
    assert "unsupported file type" in got[str(noext)]
    assert got[str(tmp_path / "missing.jpg")] == "no such file or directory"
    # What was skipped is named: a folder of GIFs or notes is not the same as an empty one.
    assert got[str(empty)] == "folder contains no images or videos (skipped 1 other file: 1 .md)"
    assert got[str(broken)] is None  # reading will report it
    # A single path (not a list) is accepted too.
    assert list(discover(str(broken))) == [(str(broken), None)]


def test_iter_frames_mix_in_order(tmp_path):
    good = write_image(tmp_path / "good.png", red_image())
    missing = tmp_path / "missing.png"
    broken = tmp_path / "broken.png"
    broken.write_bytes(cv2.imencode(".png", red_image())[1].tobytes()[:40])
    folder = tmp_path / "folder"
    folder.mkdir()
    inner = [write_image(folder / "f1.png", red_image()), write_image(folder / "f2.jpg", red_image())]
    (folder / "notes.txt").write_text("skipped silently")
    empty = tmp_path / "nothing_here"
    empty.mkdir()
    notes = tmp_path / "explicit.txt"
    notes.write_text("x")

    got = list(iter_frames([good, missing, broken, folder, empty, notes]))
    assert [f.source for f in got] == [str(good), str(missing), str(broken), *map(str, inner), str(empty), str(notes)]
    assert [f.ok for f in got] == [True, False, False, True, True, False, False]
    assert "no such file or directory" in got[1].error
    assert "truncated image data" in got[2].error
    assert got[5].error.endswith("folder contains no images or videos")  # truly empty: nothing to name
    assert "unsupported file type '.txt'" in got[6].error
    for f in got:
        assert f.index is None and f.time_s is None
        assert (f.pixels is None) == (f.error is not None)
        if f.ok:
            assert f.pixels.shape == (24, 32, 3) and f.pixels[0, 0, 0] > 240


def test_iter_frames_folder_with_video(tmp_path):
    make_tree(tmp_path / "shots")
    got = list(iter_frames([tmp_path / "shots"], every=2))
    assert all(f.ok for f in got)
    video = [f for f in got if f.index is not None]
    assert [f.index for f in video] == [0, 2]
    assert len(got) == 5 + 2


def test_iter_frames_survives_unexpected_errors(tmp_path, monkeypatch):
    good = write_image(tmp_path / "good.png", red_image())
    calls = iter(range(2))

    def flaky(path, max_pixels=DEFAULT_MAX_PIXELS):
        if next(calls) == 0:
            raise RuntimeError("boom")
        return np.zeros((2, 2, 3), np.uint8)

    monkeypatch.setattr(frames, "read_image", flaky)
    first, second = iter_frames([good, good])
    assert not first.ok and "boom" in first.error
    assert second.ok


def test_folder_without_frames_names_the_kinds_of_files_it_skipped(tmp_path):
    folder = tmp_path / "captures"
    (folder / "sub").mkdir(parents=True)
    for name in ("a.psd", "b.PSD", "sub/c.psd", "d.raw", "e.txt", "f.log", "README", ".hidden.png"):
        (folder / name).write_text("x")
    ((path, error),) = discover([folder])
    assert path == str(folder)
    assert error == ("folder contains no images or videos "
                     "(skipped 7 other files: 3 .psd, 1 .log, 1 .raw and 2 more kinds)")
