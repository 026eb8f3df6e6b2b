"""Screenshots of the desktop application for the docs: ``docs/gui_main.png`` and ``docs/gui_video.png``.

    xvfb-run -s "-screen 0 1600x900x24" python scripts/gui_screenshots.py

The window (1600x900) scans ``sample_frames/`` with the shipped model (``artifactscope/models/default``), or,
while that is not built yet, with a small model trained here on the clean sample frames (``--model`` names
another). Settings and the sample library go to a temporary folder: your own preferences are not touched.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SAMPLES = REPO / "sample_frames"
DEFAULT_MODEL = REPO / "artifactscope" / "models" / "default"
FALLBACK_MODEL = Path(tempfile.gettempdir()) / "artifactscope-gui-screenshot-model"


def quick_model() -> Path:
    """A small model trained on the clean sample frames (a stand-in until the shipped model exists)."""
    if (FALLBACK_MODEL / "manifest.json").is_file():
        return FALLBACK_MODEL
    data = Path(tempfile.mkdtemp(prefix="artifactscope-gui-data-"))
    for p in SAMPLES.glob("clean_*.png"):
        source = p.stem.split("_")[1]
        (data / source).mkdir(exist_ok=True)
        shutil.copy(p, data / source / p.name)
    print(f"training a stand-in model into {FALLBACK_MODEL} (the shipped model is not built yet)…", flush=True)
    subprocess.run([sys.executable, "-m", "artifactscope", "train", str(data), "--out", str(FALLBACK_MODEL),
                    "--per-frame", "8", "--no-holdout", "--combiner", "logreg", "--no-cache", "--jobs", "1"],
                   check=True, cwd=REPO)
    return FALLBACK_MODEL


def settle(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def wait_for(app, cond, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if cond():
            return True
        time.sleep(0.02)
    return False


def full_image_loaded(w) -> bool:
    e = w._current
    return e is not None and w.cache.get((e.result.path, e.result.frame, None)) is not None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model bundle folder (default: the shipped model, else a stand-in)")
    parser.add_argument("--out", default=str(REPO / "docs"))
    args = parser.parse_args(argv)
    model = Path(args.model) if args.model else (DEFAULT_MODEL if (DEFAULT_MODEL / "manifest.json").is_file()
                                                 else quick_model())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from artifactscope.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp(prefix="artifactscope-gui-shots-"))
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    try:
        from artifactscope.library import SampleLibrary

        library = SampleLibrary(root=tmp / "library")
    except ImportError:
        library = None
    w = MainWindow(settings=settings, library=library, model_dir=str(model))
    w.resize(1600, 900)
    w.show()
    w.every = 4

    # 1. The sample folder, most suspicious first, a corrupted frame selected with the overlay on.
    w.open_paths([str(SAMPLES)])
    if not wait_for(app, lambda: not w.is_scanning() and w.session.entries, 300):
        print("scan did not finish", file=sys.stderr)
        return 1
    w.sort_combo.setCurrentIndex(w.sort_combo.findData("score"))
    stills = [e for e in w.session.entries if e.result.frame is None and e.error is None]
    flagged = [e for e in stills if w.session.is_flagged(e)] or stills
    # Prefer a frame whose file name says which artifact it holds and that the model named correctly.
    named = [e for e in flagged if e.name.startswith(str(w.session.verdict(e)[0]) + "_")]
    pick = max(named or flagged, key=lambda e: e.result.score)
    others = [e for e in flagged if e is not pick]
    if others and library is not None:  # one judged frame, so the list shows a "labelled" badge
        w.show_entry(others[0])
        w.judge("correct")
    w.show_entry(pick)
    w.act_overlay.setChecked(True)
    wait_for(app, lambda: full_image_loaded(w), 30)
    settle(app, 1.0)  # thumbnails
    w.grab().save(str(out / "gui_main.png"))
    print(f"wrote {out / 'gui_main.png'} ({pick.name}: {w.session.verdict(pick)})")

    # 2. A video with its timeline.
    w.clear_results()
    w.sort_combo.setCurrentIndex(w.sort_combo.findData("order"))
    clip = next(iter(sorted(SAMPLES.glob("clean_*_clip.mp4"))), None)
    if clip is None:
        print("no clip in sample_frames/", file=sys.stderr)
        return 1
    w.every = 2
    w.open_paths([str(clip)])
    wait_for(app, lambda: not w.is_scanning() and w.session.entries, 300)
    entries = w.session.frames_of(str(clip))
    flagged = [e for e in entries if w.session.is_flagged(e)]
    target = max(flagged, key=lambda e: e.result.score) if flagged else entries[len(entries) // 2]
    w.show_entry(target)
    wait_for(app, lambda: full_image_loaded(w), 30)
    settle(app, 1.0)
    w.grab().save(str(out / "gui_video.png"))
    print(f"wrote {out / 'gui_video.png'} ({len(entries)} frames, {len(flagged)} flagged)")
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
