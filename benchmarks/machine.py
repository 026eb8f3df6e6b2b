"""A few lines describing the machine a benchmark ran on (printed with every table)."""

from __future__ import annotations

import datetime as _dt
import os
import platform


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_lines() -> list[str]:
    import cv2
    import numpy
    import sklearn

    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        mem_text = f"{mem:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        mem_text = "RAM unknown"
    return [
        f"machine: {_cpu_model()}, {os.cpu_count()} cores, {mem_text}, {platform.system()} {platform.release()}",
        f"python {platform.python_version()}, numpy {numpy.__version__}, opencv {cv2.__version__}, "
        f"scikit-learn {sklearn.__version__}; date {_dt.date.today().isoformat()}",
    ]
