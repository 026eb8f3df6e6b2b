"""Where artifactscope keeps per-user data (sample library, model registry)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def user_data_dir() -> Path:
    """The per-user data folder ``.../artifactscope``: platformdirs when installed, else the platform rule
    (XDG on Linux, Application Support on macOS, LOCALAPPDATA on Windows)."""
    try:
        import platformdirs  # optional
    except ImportError:
        platformdirs = None
    if platformdirs is not None:
        return Path(platformdirs.user_data_dir("artifactscope", appauthor=False))
    home = Path.home()
    if sys.platform.startswith("win"):
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else home / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        # The XDG spec: a relative value is invalid and must be ignored.
        base = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".local" / "share"
    return base / "artifactscope"
