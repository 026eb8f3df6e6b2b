"""Screenshots of the desktop application for the docs: ``docs/gui_main.png``, ``docs/gui_video.png`` and
``docs/gui_retrain.png``.

    xvfb-run -s "-screen 0 1600x900x24" python scripts/gui_screenshots.py [--only retrain]

The window (1600x900) scans ``sample_frames/`` with the shipped model (``artifactscope/models/default``), or,
while that is missing or stale (made for an older feature version), with a small model trained here on the
clean sample frames (``--model`` names another). The retrain dialog is shown after a real retrain (the
model's stored training features, the sample frames labelled by their file names, frames of the sample clip
as clean captures). The video screenshot scans a copy of the sample clip with two synthesised
glitches (see ``GLITCHES``), so that its timeline has events to show. Settings, the sample library, the model
registry and the feature cache go to a temporary folder: your own preferences, library and models are not
touched.
"""

from __future__ import annotations

import argparse
import os
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
SHOTS = ("main", "video", "retrain")


def usable(path: Path) -> bool:
    """Whether a model bundle loads here (one made for an older feature version does not)."""
    from artifactscope.model_store import BundleError, load_bundle

    if not (path / "manifest.json").is_file():
        return False
    try:
        load_bundle(path)
    except BundleError as exc:
        print(f"not using {path}: {exc}", file=sys.stderr)
        return False
    return True


def quick_model() -> Path:
    """A small model trained on the clean sample frames (a stand-in while the shipped model is missing or
    stale)."""
    if usable(FALLBACK_MODEL):
        return FALLBACK_MODEL
    data = Path(tempfile.mkdtemp(prefix="artifactscope-gui-data-"))
    for p in SAMPLES.glob("clean_*.png"):
        source = p.stem.split("_")[1]
        (data / source).mkdir(exist_ok=True)
        shutil.copy(p, data / source / p.name)
    print(f"training a stand-in model into {FALLBACK_MODEL} (the shipped model is missing or stale)…", flush=True)
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


def label_of_sample(path: Path) -> str | None:
    """The label a sample frame's file name starts with (``shader_doom_01.png`` -> ``shader``), or None."""
    from artifactscope.artifacts import LABELS

    return next((lb for lb in sorted(LABELS, key=len, reverse=True) if path.stem.startswith(lb + "_")), None)


def retrain_shot(app, w, library, tmp: Path, out: Path) -> int:
    """3. The retrain dialog after a short retrain: counts, captures, before/after figures."""
    import cv2

    from artifactscope import frames

    if library is None:
        print("no sample library: no retrain screenshot", file=sys.stderr)
        return 1
    for p in sorted(SAMPLES.glob("*.png")):  # the sample frames, labelled as their names say
        label = label_of_sample(p)
        if label is not None:
            library.add_file(p, label=label)
    # "Teach it my game": frames of the sample clip as clean captures of the studio's game.
    captures = tmp / "captures" / "procedural_clip"
    captures.mkdir(parents=True)
    clip = next(iter(sorted(SAMPLES.glob("clean_*_clip.mp4"))), None)
    for fr in frames.iter_video(str(clip), every=6) if clip is not None else ():
        if fr.ok:
            cv2.imwrite(str(captures / f"frame_{fr.index:03d}.png"), fr.pixels[:, :, ::-1])
    w.act_retrain.trigger()
    dlg = w.retrain_window
    # The real retrain, with the shipped model's recipe in fast mode (about a minute and a half here).
    dlg.options.update(jobs=w.jobs, cache_dir=str(tmp / "cache"))
    if any(captures.iterdir()):
        dlg.add_capture_folder(tmp / "captures")
    t0 = time.monotonic()
    dlg.start_retrain()
    if not wait_for(app, lambda: not dlg.is_running(), 900):
        print("retrain did not finish", file=sys.stderr)
        dlg.cancel_retrain()  # stop the worker thread before the window goes
        wait_for(app, lambda: not dlg.is_running(), 60)
        return 1
    if dlg.retrain_result is None:
        print(f"retrain failed: {dlg.message_label.text()}", file=sys.stderr)
        return 1
    settle(app, 0.5)
    dlg.grab().save(str(out / "gui_retrain.png"))
    print(f"wrote {out / 'gui_retrain.png'} (retrained in {time.monotonic() - t0:.0f} s as "
          f"{dlg.retrain_result.version})")
    dlg.discard_candidate()
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model bundle folder (default: the shipped model, else a stand-in)")
    parser.add_argument("--out", default=str(REPO / "docs"))
    parser.add_argument("--only", nargs="+", choices=SHOTS, default=list(SHOTS), metavar="SHOT",
                        help=f"make only these screenshots ({', '.join(SHOTS)}; default all)")
    args = parser.parse_args(argv)
    model = Path(args.model) if args.model else (DEFAULT_MODEL if usable(DEFAULT_MODEL) else quick_model())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from artifactscope.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp(prefix="artifactscope-gui-shots-"))
    # The retrain dialog uses the default registry, whose base is the default model: both point here.
    from artifactscope.model_store import MODEL_ENV
    from artifactscope.registry import MODELS_ENV

    os.environ[MODELS_ENV] = str(tmp / "registry")
    os.environ[MODEL_ENV] = str(model)
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    try:
        from artifactscope.library import SampleLibrary

        library = SampleLibrary(root=tmp / "library")
    except ImportError:
        library = None
    w = MainWindow(settings=settings, library=library, model_dir=str(model))
    w.resize(1600, 900)
    w.show()

    try:
        if "main" in args.only and main_shot(app, w, library, out):
            return 1
        if "video" in args.only and video_shot(app, w, tmp, out):
            return 1
        if "retrain" in args.only and retrain_shot(app, w, library, tmp, out):
            return 1
    finally:
        w.close()  # stops the image loader thread, on the error paths too
    return 0


def main_shot(app, w, library, out: Path) -> int:
    """1. The sample folder, most suspicious first, a corrupted frame selected with the overlay on."""
    w.every = 4
    w.open_paths([str(SAMPLES)])
    if not wait_for(app, lambda: not w.is_scanning() and w.session.entries, 300):
        print("scan did not finish", file=sys.stderr)
        return 1
    w.sort_combo.setCurrentIndex(w.sort_combo.findData("score"))
    stills = [e for e in w.session.entries if e.result.frame is None and e.error is None]
    flagged = [e for e in stills if w.session.is_flagged(e)] or stills
    # Prefer a frame whose file name says which artifact it holds and that the model named correctly, and
    # whose region covers part of the frame (a box around the whole frame shows little).
    named = [e for e in flagged if e.name.startswith(str(w.session.verdict(e)[0]) + "_")]

    def local(e) -> bool:
        r = e.result
        area = sum((b.box[2] - b.box[0]) * (b.box[3] - b.box[1]) for b in r.regions)
        return bool(r.regions) and r.width is not None and area < 0.6 * r.width * r.height

    pick = max([e for e in named if local(e)] or named or flagged, key=lambda e: e.result.score)
    others = [e for e in flagged if e is not pick]
    if others and library is not None:  # one judged frame, so the list shows a "labelled" badge
        w.show_entry(others[0])
        w.judge("correct")
    w.show_entry(pick)
    w.act_overlay.setChecked(True)
    wait_for(app, lambda: full_image_loaded(w), 30)
    wait_for(app, w.view.heatmap_shown, 30)
    settle(app, 1.0)  # thumbnails
    w.grab().save(str(out / "gui_main.png"))
    print(f"wrote {out / 'gui_main.png'} ({pick.name}: {w.session.verdict(pick)})")
    return 0


#: Glitches written into the sample clip for the timeline screenshot: (first frame, last frame, artifact).
GLITCHES = ((8, 14, "line_pixelation"), (30, 35, "triangulation"))


def glitchy_clip(tmp: Path) -> Path | None:
    """The sample clip with two glitches (artifacts synthesised on a few consecutive frames, the same
    corruption through each glitch), written to `tmp`; None when the clip is missing."""
    import cv2
    import numpy as np

    from artifactscope import frames, synth

    clip = next(iter(sorted(SAMPLES.glob("clean_*_clip.mp4"))), None)
    if clip is None:
        return None
    fps = cv2.VideoCapture(str(clip)).get(cv2.CAP_PROP_FPS) or 24.0
    out = tmp / "glitchy_procedural_clip.mp4"
    writer = None
    for fr in frames.iter_video(str(clip)):
        if not fr.ok:
            continue
        rgb = fr.pixels
        for i, (a, b, label) in enumerate(GLITCHES):
            if a <= fr.index <= b:
                rgb, _ = synth.corrupt(rgb, label, np.random.default_rng(100 + i), reencode=False)
        if writer is None:
            h, w = rgb.shape[:2]
            writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        writer.write(np.ascontiguousarray(rgb[:, :, ::-1]))
    if writer is not None:
        writer.release()
    return out


def video_shot(app, w, tmp: Path, out: Path) -> int:
    """2. A video with glitches: its timeline with the flagged events, the worst frame shown."""
    w.clear_results()
    w.sort_combo.setCurrentIndex(w.sort_combo.findData("order"))
    clip = glitchy_clip(tmp)
    if clip is None:
        print("no clip in sample_frames/", file=sys.stderr)
        return 1
    w.every = 1
    w.open_paths([str(clip)])
    wait_for(app, lambda: not w.is_scanning() and w.session.entries, 300)
    entries = w.session.frames_of(str(clip))
    flagged = [e for e in entries if w.session.is_flagged(e)]
    target = max(flagged, key=lambda e: e.result.score) if flagged else entries[len(entries) // 2]
    w.show_entry(target)
    wait_for(app, lambda: full_image_loaded(w), 30)
    if flagged:
        wait_for(app, w.view.heatmap_shown, 30)
    settle(app, 1.0)
    w.grab().save(str(out / "gui_video.png"))
    print(f"wrote {out / 'gui_video.png'} ({len(entries)} frames, {len(flagged)} flagged)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
