"""artifactscope: find graphics corruptions (screen artifacts) in video-game frames."""

import os as _os

# OpenCV reads these once, when cv2 is first imported anywhere in the process, so they are set here,
# before any submodule can import cv2. setdefault keeps a value the user chose.
# - the pixel limit makes OpenCV itself refuse decompression bombs (frames.py also checks headers first);
# - the protocol whitelist stops a hostile "video" (a playlist) from making FFmpeg open URLs.
_os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(100_000_000))
_os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "protocol_whitelist;file")

__version__ = "0.1.0"
