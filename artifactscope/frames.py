"""Read images, videos and folders into frames.

Every pixel array this module returns is ``numpy.uint8`` of shape ``(H, W, 3)`` in **RGB** order: OpenCV's
BGR is converted here, at the boundary, so no other module has to think about it. Grey and RGBA inputs
become 3-channel RGB (alpha is dropped) and 16-bit images are scaled to 8 bits.

Bad input never crashes a batch: :func:`read_image` raises :class:`FrameReadError` with a message that names
the file and the problem, and :func:`iter_frames` turns every problem into one :class:`Frame` whose ``error``
is set, then goes on with the next input. Image dimensions are read from the file header and checked
against ``max_pixels`` *before* anything is decoded, so a few-kilobyte "decompression bomb" cannot make us
allocate gigabytes.
"""

from __future__ import annotations

import collections
import math
import os
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

DEFAULT_MAX_PIXELS: int = 100_000_000
"""Largest image (width * height) read by default; 8K (7680x4320, 33 megapixels) passes."""

# OpenCV reads these variables once, when the library loads, so they must be set before the first
# ``import cv2`` anywhere in the process. setdefault keeps a value the user chose.
# - Second line of defence behind our own header check (formats we cannot parse, odd TIFFs): OpenCV refuses
#   to decode anything larger than the default limit.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(DEFAULT_MAX_PIXELS))
# - A hostile "video" can be an HLS/concat playlist that makes FFmpeg open URLs; local files only.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "protocol_whitelist;file")

import cv2  # noqa: E402  (must follow the environment set-up above)
import numpy as np  # noqa: E402

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "Frame",
    "FrameReadError",
    "discover",
    "is_image",
    "is_video",
    "iter_frames",
    "iter_video",
    "read_image",
]

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})
# Animated GIFs (screen-capture tools make them) are read as videos; a still GIF is a one-frame video.
VIDEO_EXTENSIONS: frozenset[str] = frozenset({".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".gif"})

_FORMAT_NAMES = "PNG/JPEG/BMP/WebP/TIFF"
# A file far larger than any image of max_pixels could be (uncompressed 4-channel 32-bit float is 16 bytes
# a pixel) is not worth reading into memory.
_MAX_BYTES_PER_PIXEL = 16
_MAX_HEADER_SLACK = 16 * 1024 * 1024


class FrameReadError(Exception):
    """An image or video could not be read.

    Parameters
    ----------
    path : str
        The file (or folder) concerned.
    reason : str
        What is wrong with it, without the path (e.g. ``"zero-byte file"``).

    Attributes
    ----------
    path : str
        The file (or folder) concerned.
    reason : str
        What is wrong with it; ``str(error)`` is ``"<path>: <reason>"``.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True, eq=False)
class Frame:
    """One frame to scan, or the record of an input that could not be read.

    Attributes
    ----------
    source : str
        The path as given or as found inside a folder.
    index : int or None
        Frame index in a video; None for a still image.
    time_s : float or None
        Video time in seconds (``index / fps``); None for a still image or when the frame rate is unknown.
    pixels : numpy.ndarray or None
        RGB ``uint8`` array of shape ``(H, W, 3)``; None when ``error`` is set.
    error : str or None
        Why the frame (or the whole file) could not be read; the path is in ``source``, not repeated here.
    """

    source: str
    index: int | None
    time_s: float | None
    pixels: np.ndarray | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """bool : True when the frame has pixels and no error."""
        return self.error is None and self.pixels is not None


# --------------------------------------------------------------------------------------------------------------
# Small helpers


def _ext(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def is_video(path: str | os.PathLike[str]) -> bool:
    """Tell whether a path names a video, by its extension (case-insensitive).

    Parameters
    ----------
    path : str or os.PathLike
        Any path; it need not exist.

    Returns
    -------
    bool
        True when the extension is one of :data:`VIDEO_EXTENSIONS`.
    """
    return _ext(os.fspath(path)) in VIDEO_EXTENSIONS


def is_image(path: str | os.PathLike[str]) -> bool:
    """Tell whether a path names an image, by its extension (case-insensitive).

    Parameters
    ----------
    path : str or os.PathLike
        Any path; it need not exist.

    Returns
    -------
    bool
        True when the extension is one of :data:`IMAGE_EXTENSIONS`.
    """
    return _ext(os.fspath(path)) in IMAGE_EXTENSIONS


def _os_error_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot read file ({exc.strerror or exc})"


def _megapixels(n: int) -> str:
    return f"{n / 1e6:.1f} megapixels"


def _check_pixels(path: str, width: int, height: int, max_pixels: int, what: str = "image") -> None:
    if width <= 0 or height <= 0:
        raise FrameReadError(path, f"{what} header declares an empty size {width}x{height}")
    n = width * height
    if n > max_pixels:
        raise FrameReadError(
            path,
            f"{what} is {width}x{height} = {_megapixels(n)}, over the limit of {_megapixels(max_pixels)} "
            "(raise it with max_pixels)",
        )


def _to_rgb_uint8(img: np.ndarray) -> np.ndarray:
    """Convert an OpenCV image (BGR/BGRA/grey, 8/16-bit or float) to contiguous RGB uint8."""
    if img.dtype == np.uint16:
        # Exact rounding of v * 255 / 65535.
        img = ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif img.dtype.kind == "f":
        # Float TIFF/EXR convention: 0..1.
        img = np.clip(np.nan_to_num(img) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise ValueError(f"unsupported sample type {img.dtype}")
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    channels = img.shape[2]
    if channels == 1:
        return cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2RGB)
    if channels == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if channels == 4:
        # Alpha is dropped, not composited: screenshot tools often write junk alpha over valid colour.
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    raise ValueError(f"unsupported channel count {channels}")


# --------------------------------------------------------------------------------------------------------------
# Image headers: format sniffing, dimensions and completeness, all without decoding


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"BM"):
        return "bmp"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    return None


class _Truncated(Exception):
    """The file ends before the header gives the image size."""


def _png_info(data: bytes) -> tuple[int, int, bool]:
    # Walk the chunk list: it gives the size (IHDR) and proves the file is complete (IEND reached with every
    # chunk whole) without inflating anything.
    pos = 8
    size: tuple[int, int] | None = None
    seen_idat = False
    n = len(data)
    while True:
        if pos + 8 > n:
            break
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if size is None:
            if end > n:
                break
            if ctype != b"IHDR" or length < 8:
                raise ValueError("PNG does not start with an IHDR chunk")
            size = struct.unpack(">II", data[pos + 8 : pos + 16])
        elif end > n:
            break
        elif ctype == b"IDAT":
            seen_idat = True
        elif ctype == b"IEND":
            if not seen_idat:
                raise ValueError("PNG has no image data (IDAT chunk)")
            return size[0], size[1], True
        pos = end
    if size is None:
        raise _Truncated
    return size[0], size[1], False


# SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_info(data: bytes) -> tuple[int, int, bool]:
    pos = 2
    n = len(data)
    size: tuple[int, int] | None = None
    while True:
        # Markers may be preceded by any number of 0xFF fill bytes.
        while pos < n and data[pos] == 0xFF and pos + 1 < n and data[pos + 1] == 0xFF:
            pos += 1
        if pos + 2 > n:
            break
        if data[pos] != 0xFF:
            raise ValueError("corrupt JPEG marker structure")
        marker = data[pos + 1]
        if marker == 0xD9:  # EOI before any scan
            raise ValueError("JPEG has no image data")
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # stand-alone markers, no length
            pos += 2
            continue
        if pos + 4 > n:
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2:
            raise ValueError("corrupt JPEG segment length")
        if marker in _JPEG_SOF:
            if pos + 9 > n:
                break
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            size = (width, height)
        if marker == 0xDA:  # SOS: entropy-coded data follows
            if size is None:
                raise ValueError("JPEG scan before any frame header (SOF)")
            # Inside entropy-coded data 0xFF is stuffed as FF 00 and restart markers are FF D0-D7, so the first
            # FF D9 after the first scan is the end-of-image marker. Searching for it (rather than demanding it
            # be the last two bytes) accepts trailing padding and camera trailers alike; EXIF thumbnails, with
            # their own FF D9, sit in APP segments before the scan and were skipped above.
            return size[0], size[1], data.find(b"\xff\xd9", pos + 2 + length) >= 0
        pos += 2 + length
    if size is None:
        raise _Truncated
    return size[0], size[1], False


def _bmp_info(data: bytes) -> tuple[int, int, bool]:
    if len(data) < 26:
        raise _Truncated
    file_size, _, _, pixel_offset, dib_size = struct.unpack("<IHHII", data[2:18])
    if dib_size == 12:  # OS/2 BITMAPCOREHEADER
        width, height = struct.unpack("<hh", data[18:22])
        bits, compression = struct.unpack("<H", data[24:26])[0], 0
    else:
        if len(data) < 34:
            raise _Truncated
        width, height, _, bits, compression = struct.unpack("<iiHHI", data[18:34])
    width, height = abs(width), abs(height)  # negative height = top-down rows
    complete = file_size <= len(data)
    if compression in (0, 3) and bits in (1, 4, 8, 16, 24, 32):  # uncompressed: the data size is known
        stride = ((width * bits + 31) // 32) * 4
        complete = complete and pixel_offset + stride * height <= len(data)
    return width, height, complete


def _webp_info(data: bytes) -> tuple[int, int, bool]:
    if len(data) < 30:
        raise _Truncated
    (riff_size,) = struct.unpack("<I", data[4:8])
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
    elif chunk == b"VP8L":
        if data[20] != 0x2F:
            raise ValueError("corrupt lossless WebP signature")
        (bits,) = struct.unpack("<I", data[21:25])
        width = 1 + (bits & 0x3FFF)
        height = 1 + ((bits >> 14) & 0x3FFF)
    elif chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise ValueError("corrupt lossy WebP start code")
        width, height = struct.unpack("<HH", data[26:30])
        width, height = width & 0x3FFF, height & 0x3FFF
    else:
        raise ValueError(f"unknown WebP chunk {chunk!r}")
    return width, height, riff_size + 8 <= len(data)


_TIFF_TYPES = {1: ("B", 1), 3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}  # BYTE, SHORT, LONG, LONG8


def _tiff_info(data: bytes) -> tuple[int, int, bool]:
    # Reads the first IFD (the page OpenCV decodes): size, and where the strips/tiles end, which proves the
    # file is not cut short.
    n = len(data)
    e = "<" if data[:2] == b"II" else ">"
    big = struct.unpack(e + "H", data[2:4])[0] == 43
    try:
        if big:
            (ifd,) = struct.unpack(e + "Q", data[8:16])
            (count,) = struct.unpack(e + "Q", data[ifd : ifd + 8])
            entry_start, entry_size, value_size = ifd + 8, 20, 8
            head = e + "HHQ"
        else:
            (ifd,) = struct.unpack(e + "I", data[4:8])
            (count,) = struct.unpack(e + "H", data[ifd : ifd + 2])
            entry_start, entry_size, value_size = ifd + 2, 12, 4
            head = e + "HHI"
    except struct.error:
        raise _Truncated from None
    if count > 4096:
        raise ValueError("corrupt TIFF directory")
    tags: dict[int, list[int]] = {}
    for i in range(count):
        pos = entry_start + i * entry_size
        hdr = data[pos : pos + entry_size]
        if len(hdr) < entry_size:
            raise _Truncated
        tag, typ, cnt = struct.unpack(head, hdr[: entry_size - value_size])
        if tag not in (256, 257, 273, 279, 324, 325) or typ not in _TIFF_TYPES:
            continue
        fmt, item = _TIFF_TYPES[typ]
        if cnt > n:  # more values than the file has bytes: corrupt
            raise ValueError("corrupt TIFF directory entry")
        if cnt * item <= value_size:
            raw = hdr[entry_size - value_size : entry_size - value_size + cnt * item]
        else:
            (off,) = struct.unpack(e + ("Q" if big else "I"), hdr[entry_size - value_size :])
            raw = data[off : off + cnt * item]
            if len(raw) < cnt * item:
                raise _Truncated
        tags[tag] = list(struct.unpack(f"{e}{cnt}{fmt}", raw))
    if 256 not in tags or 257 not in tags:
        raise ValueError("TIFF directory has no image size")
    offsets, counts = tags.get(273) or tags.get(324), tags.get(279) or tags.get(325)
    complete = not (offsets and counts and max(o + c for o, c in zip(offsets, counts)) > n)
    return tags[256][0], tags[257][0], complete


_INFO = {"png": _png_info, "jpeg": _jpeg_info, "bmp": _bmp_info, "webp": _webp_info, "tiff": _tiff_info}


# --------------------------------------------------------------------------------------------------------------
# Public readers


def read_image(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read one image file into an RGB ``uint8`` array.

    The format is recognised from the content, not the extension. The header is parsed first: the image size
    is checked against ``max_pixels`` and the file is checked to be complete before anything is decoded.

    Parameters
    ----------
    path : str or os.PathLike
        A PNG, JPEG, BMP, WebP or TIFF file. Non-ASCII paths work.
    max_pixels : int, optional
        Largest accepted ``width * height``. Images over :data:`DEFAULT_MAX_PIXELS` are also refused by
        OpenCV unless ``OPENCV_IO_MAX_IMAGE_PIXELS`` is raised before OpenCV is imported.

    Returns
    -------
    numpy.ndarray
        ``uint8`` array of shape ``(H, W, 3)`` in RGB order.

    Raises
    ------
    FrameReadError
        For a missing, empty, unrecognised, truncated, corrupt or oversized file; the message names the file
        and the problem.
    """
    spath = os.fspath(path)
    try:
        # Python's own file I/O (not cv2.imread) so that non-ASCII paths work everywhere; stat first so that
        # an absurdly large file is refused before it is read into memory.
        with open(spath, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                raise FrameReadError(spath, "zero-byte file")
            limit = max_pixels * _MAX_BYTES_PER_PIXEL + _MAX_HEADER_SLACK
            if size > limit:
                raise FrameReadError(
                    spath,
                    f"file is {size / 1e6:.1f} MB, too large for an image of at most {_megapixels(max_pixels)} "
                    "(raise it with max_pixels)",
                )
            data = fh.read()
    except OSError as exc:
        raise FrameReadError(spath, _os_error_reason(exc)) from None

    fmt = _sniff(data)
    if fmt is None:
        raise FrameReadError(spath, f"not a {_FORMAT_NAMES} image (unrecognised content)")
    try:
        width, height, complete = _INFO[fmt](data)
    except _Truncated:
        raise FrameReadError(spath, "truncated image data") from None
    except (ValueError, struct.error, IndexError) as exc:
        raise FrameReadError(spath, f"corrupt {fmt.upper()} header ({exc or 'unreadable'})") from None
    # Size first: a bomb is reported as such even when its data is cut short.
    _check_pixels(spath, width, height, max_pixels)
    if not complete:
        # Decoders fill a cut-off image with grey and only warn on stderr; a partial frame would be scanned
        # as a (corrupted-looking) real one.
        raise FrameReadError(spath, "truncated image data")

    try:
        # COLOR|ANYDEPTH: always 3 channels (grey expanded, alpha dropped), 16 bits kept for exact scaling,
        # and EXIF orientation applied.
        img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH)
    except cv2.error as exc:
        if width * height > _opencv_pixel_limit():
            reason = (
                f"image is {width}x{height} = {_megapixels(width * height)}, over OpenCV's limit of "
                f"{_megapixels(_opencv_pixel_limit())} (set OPENCV_IO_MAX_IMAGE_PIXELS before importing cv2)"
            )
        else:
            reason = f"cannot decode {fmt.upper()} data ({str(exc).strip().splitlines()[-1]})"
        raise FrameReadError(spath, reason) from None
    if img is None or img.size == 0:
        raise FrameReadError(spath, f"cannot decode {fmt.upper()} data (corrupt or unsupported variant)")
    try:
        return _to_rgb_uint8(img)
    except ValueError as exc:
        raise FrameReadError(spath, f"cannot convert {fmt.upper()} image to RGB ({exc})") from None


def _opencv_pixel_limit() -> int:
    try:
        return int(os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS", 1 << 30))
    except ValueError:
        return 1 << 30


def iter_video(
    path: str | os.PathLike[str],
    every: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    fps: float | None = None,
) -> Iterator[Frame]:
    """Yield sampled frames of a video, reading until the decoder stops.

    The frame count in the container is never trusted (a truncated capture can claim more frames than it
    holds): frames are decoded until the stream ends. Skipped frames are only grabbed, not converted.

    Parameters
    ----------
    path : str or os.PathLike
        A video file FFmpeg can read. Non-ASCII paths work on Linux.
    every : int, optional
        Keep frames ``0, every, 2 * every, ...``.
    max_pixels : int, optional
        Largest accepted frame ``width * height``.
    fps : float, optional
        If given, sample about this many frames per second instead: ``every = max(1, round(video_fps / fps))``
        (``every`` is kept when the video's frame rate is unknown).

    Yields
    ------
    Frame
        One per sampled frame, with ``index`` and ``time_s = index / video_fps``. When the file cannot be
        opened or yields no frame at all, a single Frame with ``error`` set and ``pixels`` None; a frame that
        fails to decode mid-stream gives an error Frame for that index and the iteration goes on.

    Raises
    ------
    ValueError
        If ``every`` < 1 or ``fps`` <= 0 (programming errors, not bad input).
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    if fps is not None and not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    spath = os.fspath(path)

    def failed(reason: str) -> Frame:
        return Frame(spath, None, None, None, reason)

    try:
        size = os.stat(spath).st_size
    except OSError as exc:
        yield failed(_os_error_reason(exc))
        return
    if os.path.isdir(spath):
        yield failed("is a directory, not a file")
        return
    if size == 0:
        yield failed("zero-byte file")
        return

    # An absolute path keeps FFmpeg from reading a "name:" prefix as a protocol.
    cap = cv2.VideoCapture(os.path.abspath(spath), cv2.CAP_FFMPEG)
    try:
        if not cap.isOpened():
            yield failed("cannot open video: cannot decode any frame of the video (unrecognised or corrupt file)")
            return
        video_fps = cap.get(cv2.CAP_PROP_FPS)
        if not (math.isfinite(video_fps) and video_fps > 0):
            video_fps = 0.0
        if fps is not None and video_fps:
            every = max(1, round(video_fps / fps))
        # The container's size is checked before decoding; each frame is checked again below in case the
        # header lied (0 = unknown).
        width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width > 0 and height > 0:
            try:
                _check_pixels(spath, width, height, max_pixels, what="video frame")
            except FrameReadError as exc:
                yield failed(exc.reason)
                return

        index = 0
        while cap.grab():
            if index % every == 0:
                time_s = index / video_fps if video_fps else None
                ok, img = cap.retrieve()
                if not ok or img is None or img.size == 0:
                    yield Frame(spath, index, time_s, None, f"cannot decode frame {index} of the video")
                else:
                    h, w = img.shape[:2]
                    if w * h > max_pixels:
                        yield Frame(
                            spath, index, time_s, None,
                            f"video frame is {w}x{h} = {_megapixels(w * h)}, over the limit of "
                            f"{_megapixels(max_pixels)} (raise it with max_pixels)",
                        )
                        return
                    yield Frame(spath, index, time_s, _to_rgb_uint8(img))
            index += 1
        if index == 0:
            yield failed("cannot decode any frame of the video")
    finally:
        cap.release()


def _natural_key(part: str) -> list[str | int]:
    # Alternating text / number chunks (re.split with a group always starts with text), so lists compare
    # element by element without mixing types: "frame2" < "frame10".
    chunks = re.split(r"(\d+)", part.casefold())
    return [int(c) if i % 2 else c for i, c in enumerate(chunks)]


def _path_key(rel: str) -> tuple[list[list[str | int]], str]:
    return [_natural_key(p) for p in rel.split(os.sep)], rel


def _unsupported(path: str) -> str:
    ext = _ext(path)
    what = f"'{ext}'" if ext else "(no extension)"
    return f"unsupported file type {what} (expected an image or a video)"


def discover(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[str, str | None]]:
    """Expand inputs into the image and video files to read.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        Files and folders, in the order wanted (a single path is accepted too).

    Yields
    ------
    tuple of (str, str or None)
        ``(path, error)``. A file gives itself: error None when its extension is an image or video one (even
        if its content turns out to be broken: reading reports that), else an "unsupported file type"
        message. A folder is walked recursively and gives its image and video files (extensions compared
        case-insensitively) in natural order of their relative paths (``frame2`` before ``frame10``); other
        files and hidden files or folders (name starting with ``.``) are skipped silently, symbolic links to
        folders are not followed, and a folder with none gives one ``(folder, "folder contains no images or
        videos")``, naming the kinds of other files it skipped, if any. A missing path gives
        ``(path, "no such file or directory")``.
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]  # type: ignore[list-item]
    for raw in paths:
        path = os.fspath(raw)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if os.path.isdir(path):
            yield from _walk(path)
        elif not os.path.lexists(path):
            yield path, "no such file or directory"
        elif not os.path.exists(path):
            yield path, "broken symbolic link (no such file or directory)"
        elif is_image(path) or is_video(path):
            yield path, None
        else:
            yield path, _unsupported(path)


def _walk(folder: str) -> Iterator[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    errors: list[OSError] = []
    others: collections.Counter[str] = collections.Counter()  # skipped files by extension, for the message
    for root, dirs, files in os.walk(folder, onerror=errors.append):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            if is_image(name) or is_video(name):
                found.append((os.path.join(root, name), None))
            else:
                others[_ext(name) or "without extension"] += 1
    # An unreadable sub-folder is reported where it would have been listed; the walk goes on.
    for exc in errors:
        if exc.filename is not None:
            sub = os.fsdecode(exc.filename)
            found.append((sub, f"cannot list folder ({_os_error_reason(exc)})"))
    if not found:
        # Name what was there: a folder of .psd or .raw captures is not the same as an empty one.
        total = sum(others.values())
        kinds = ", ".join(f"{n} {ext}" for ext, n in sorted(others.items(), key=lambda kv: (-kv[1], kv[0]))[:3])
        more = f" and {len(others) - 3} more kinds" if len(others) > 3 else ""
        skipped = f" (skipped {total} other file{'s' if total > 1 else ''}: {kinds}{more})" if total else ""
        yield folder, "folder contains no images or videos" + skipped
        return
    found.sort(key=lambda item: _path_key(os.path.relpath(item[0], folder)))
    yield from found


def iter_frames(
    paths: Iterable[str | os.PathLike[str]],
    every: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Iterator[Frame]:
    """Discover and read every input, one :class:`Frame` at a time.

    Never raises for bad input: every problem (missing path, empty folder, unsupported type, unreadable,
    truncated or oversized file) becomes one Frame with ``error`` set and ``pixels`` None, and the iteration
    goes on with the next input.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        Images, videos and folders (see :func:`discover`).
    every : int, optional
        Video sampling: keep every N-th frame (see :func:`iter_video`).
    max_pixels : int, optional
        Largest accepted image or video frame, in pixels.

    Yields
    ------
    Frame
        Images give one Frame (``index`` and ``time_s`` None); videos give their sampled frames.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    for path, error in discover(paths):
        if error is not None:
            yield Frame(path, None, None, None, error)
            continue
        if is_video(path):
            frames = iter_video(path, every=every, max_pixels=max_pixels)
            while True:
                try:
                    frame = next(frames)
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001 - one hostile file must not end the batch
                    yield Frame(path, None, None, None, f"unexpected error reading video: {exc!r}")
                    break
                yield frame
            continue
        try:
            pixels = read_image(path, max_pixels=max_pixels)
        except FrameReadError as exc:
            yield Frame(path, None, None, None, exc.reason)
        except MemoryError:
            yield Frame(path, None, None, None, "out of memory while decoding the image")
        except Exception as exc:  # noqa: BLE001 - one hostile file must not end the batch
            yield Frame(path, None, None, None, f"unexpected error reading image: {exc!r}")
        else:
            yield Frame(path, None, None, pixels)
