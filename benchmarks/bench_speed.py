"""Speed: scanning 1080p PNG frames with the shipped model vs only decoding them, and the paper recipe.

    python benchmarks/bench_speed.py [--frames 48] [--model DIR]

Prints a table with the machine. Target (DESIGN.md): scanning costs at most 2x decoding.
The frames are ``sample_frames/`` images scaled to 1920x1080 (real rendered content, several engines).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from artifactscope import features, frames  # noqa: E402
from artifactscope.model_store import load_bundle  # noqa: E402
from artifactscope.scan import scan  # noqa: E402
from machine import machine_lines  # noqa: E402


def make_frames(out: Path, n: int) -> list[Path]:
    samples = sorted((REPO / "sample_frames").glob("*.png"))
    if not samples:
        raise SystemExit("sample_frames/ has no PNG files")
    paths = []
    for i in range(n):
        img = cv2.imread(str(samples[i % len(samples)]))
        img = cv2.resize(img, (1920, 1080), interpolation=cv2.INTER_CUBIC)
        p = out / f"frame_{i:04d}.png"
        cv2.imwrite(str(p), img)
        paths.append(p)
    return paths


def timed(fn, repeat: int = 3) -> float:
    """Best of `repeat` wall-clock runs (the least disturbed by other processes)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--model", default=None)
    parser.add_argument("--paper-samples", type=int, default=60, help="training samples for the paper recipe")
    args = parser.parse_args(argv)

    model = load_bundle(args.model)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_frames(Path(tmp), args.frames)
        n = len(paths)
        decode = timed(lambda: [frames.read_image(p) for p in paths])
        feats = timed(lambda: [features.extract(frames.read_image(p)) for p in paths])
        plain_s = timed(lambda: list(scan([tmp], model, jobs=1, regions=False)))
        scan_s = timed(lambda: list(scan([tmp], model, jobs=1)))
        scan2_s = timed(lambda: list(scan([tmp], model, jobs=2)), repeat=2)
        flagged = sum(r.corrupted is True for r in scan([tmp], model, jobs=1, regions=False))
        rows += [
            ("decode only (frames.read_image)", n / decode, decode / n * 1000),
            ("decode + features", n / feats, feats / n * 1000),
            ("scan, --jobs 1, --no-regions", n / plain_s, plain_s / n * 1000),
            (f"scan, --jobs 1, regions ({flagged}/{n} flagged)", n / scan_s, scan_s / n * 1000),
            ("scan, --jobs 2, regions", n / scan2_s, scan2_s / n * 1000),
        ]
        ratio = plain_s / decode
        paper_ms = paper_time(paths[:8], args.paper_samples)

    print("## Speed, 1920x1080 PNG frames\n")
    for line in machine_lines():
        print(line)
    print(f"frames: {n} (sample_frames/ scaled to 1080p); model: {model.name}\n")
    print(f"| {'what':<42} | {'frames/s':>9} | {'ms/frame':>9} |")
    print(f"|{'-' * 44}|{'-' * 11}|{'-' * 11}|")
    for name, fps, ms in rows:
        print(f"| {name:<42} | {fps:9.1f} | {ms:9.1f} |")
    if paper_ms is not None:
        print(f"| {'paper recipe (its features + its model)':<42} | {1000 / paper_ms:9.1f} | {paper_ms:9.1f} |")
    print(f"\nscan / decode time ratio (jobs 1, verdicts only): {ratio:.2f}  (target <= 2)")
    print("regions cost a second read and the localisation of each flagged frame; these sample frames are "
          "mostly corrupted, a night of captures mostly clean")
    return 0


def paper_time(paths: list[Path], n_train: int) -> float | None:
    """Time per 1080p frame of the study's recipe: its features plus a fitted PaperDetector's predict."""
    try:
        from artifactscope import paper, synth
    except ImportError:
        return None
    rng = np.random.default_rng(0)
    X, y = [], []
    labels = ["clean", "shader", "line_pixelation", "morse_code", "screen_tearing"]
    for i in range(n_train):
        frame = synth.procedural_frame(rng, width=480, height=270)
        label = labels[i % len(labels)]
        img = frame if label == "clean" else synth.corrupt(frame, label, rng, reencode=False)[0]
        X.append(paper.paper_features(img))
        y.append(label)
    detector = paper.PaperDetector(random_state=0).fit(np.vstack(X), np.array(y))
    images = [frames.read_image(p) for p in paths]

    def run():
        detector.predict(np.vstack([paper.paper_features(im) for im in images]))

    return timed(run, repeat=2) / len(images) * 1000


if __name__ == "__main__":
    sys.exit(main())
