"""Localisation benchmark: do the regions land on the synthesised artifact, and what does it cost?

Frames of sources the model was not trained on are corrupted with every artifact class (``synth.corrupt``,
JPEG re-encoding included); the model classifies each frame, and every *flagged* frame is localised with the
model's label (as scan does). Per class the table gives: frames, flagged, the share of flagged frames whose
best region overlaps the bounding box of the synthesis mask with IoU >= 0.5, the same for every frame
localised with the true label (``IoU@true``, the localiser alone), pixel precision / recall of the heatmap
(cells at >= 0.35 of the maximum, upsampled to the frame, against the mask) and milliseconds per frame of
localisation. ``--model`` is a bundle trained without the test sources; ``--frames`` a folder of clean test
frames (rendered, e.g. ``artifactscope.sources.render('doom', ...)``). Without ``--model`` only the localiser
is measured: every frame is localised with its true label (``flag`` and ``IoU>=.5`` are then blank, and pixel
precision / recall and milliseconds are those of the true-label localisation).

``--fit-without SOURCES`` fits that model here instead of ``--model``: the shipped recipe with retrain's fast
settings (:data:`artifactscope.retrain.FAST_PARAMS`), on every source of ``--renders`` but the named ones (the
features come from ``--cache``, as the build script leaves them), and saves it under ``--cache`` for reuse.

``--frames`` takes one folder or several (one per game source): with several, test frames are taken from the
folders in turn (round-robin), and each folder's frames are visited spread over the whole folder (golden-ratio
order, not its first files: rendered clips keep consecutive, near-identical frames together), so every source
is represented whatever ``--per-class``. One folder keeps its sorted order.

    python benchmarks/bench_localize.py --model /tmp/loc/model --frames /tmp/loc/test --per-class 20
    python benchmarks/bench_localize.py --fit-without atari,doom,godot --renders WORK/renders --cache WORK/cache \
        --frames WORK/renders/{atari,doom,godot} --per-class 30   # fits the model itself (fast recipe, ~9 min)
    python benchmarks/bench_localize.py --frames work-data/renders/doom --per-class 15   # localiser alone
    python benchmarks/bench_localize.py --frames work-data/renders/{atari,doom,godot,panda3d,procedural,sprites2d} \
        --per-class 30   # localiser alone, six sources
"""

from __future__ import annotations

import argparse
import functools
import glob
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from artifactscope import features  # noqa: E402
from artifactscope.artifacts import ARTIFACT_NAMES, CLEAN  # noqa: E402
from artifactscope.localize import REL_THRESHOLD, heatmap_to_frame, localize  # noqa: E402
from artifactscope.model_store import load_bundle  # noqa: E402
from artifactscope.synth import corrupt  # noqa: E402

TARGETS = ("shader", "shape", "discoloration", "morse_code", "dotted_line", "parallel_lines", "triangulation",
           "line_pixelation")


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def spread_order(n: int) -> np.ndarray:
    """Positions 0..n-1 in golden-ratio order: every prefix is spread evenly over the whole range."""
    return np.argsort(np.argsort(np.mod(np.arange(n) * 0.6180339887498949, 1.0), kind="stable"), kind="stable")


def frame_paths(folders: list[str]) -> list[str]:
    """The test frames (PNG, searched recursively) of one folder in sorted order, or of several round-robin.

    With several folders the i-th frame comes from folder ``i % len(folders)`` (while it has frames left), and
    each folder's frames are taken in :func:`spread_order`, so that a short run sees every source, and in each
    source frames from all over the folder.
    """
    lists = [sorted(glob.glob(os.path.join(f, "**", "*.png"), recursive=True)) for f in folders]
    if len(lists) == 1:
        return lists[0]
    lists = [[paths[j] for j in spread_order(len(paths))] for paths in lists]
    out: list[str] = []
    for k in range(max((len(p) for p in lists), default=0)):
        out += [paths[k] for paths in lists if k < len(paths)]
    return out


class _Frames:
    """Test frames read when used, at one size; a few recent ones kept (all of them would not fit in memory)."""

    def __init__(self, paths: list[str], width: int, height: int):
        self.paths, self.size = paths, (width, height)
        self._read = functools.lru_cache(maxsize=32)(self._load)

    def __len__(self) -> int:
        return len(self.paths)

    def _load(self, i: int) -> np.ndarray:
        img = cv2.cvtColor(cv2.imread(self.paths[i]), cv2.COLOR_BGR2RGB)
        if img.shape[:2] != self.size[::-1]:
            img = cv2.resize(img, self.size, interpolation=cv2.INTER_AREA)
        return img

    def __getitem__(self, i: int) -> np.ndarray:
        return self._read(i)


def fit_without(held: list[str], renders: str, cache: str | None) -> str:
    """Fit the fast recipe on every source of `renders` but `held`; returns the saved bundle's folder."""
    from artifactscope import model_store, training
    from artifactscope.retrain import _fast_params

    cache = cache or str(Path(renders).resolve().parent / "cache")
    ds = training.build_dataset([renders], per_frame=5, n_clean=2, seed=0, jobs=2, cache_dir=cache)
    unknown = sorted(set(held) - set(ds.groups))
    if unknown:
        raise SystemExit(f"--fit-without: no source {unknown} under {renders} (sources: {sorted(set(ds.groups))})")
    train = ds.subset(~np.isin(ds.groups, held))
    out = Path(cache) / f"localize-model-without-{'-'.join(sorted(held))}"
    t0 = time.perf_counter()
    ensemble = training.fit_ensemble(train, n_jobs=2,
                                     **_fast_params({"expert_params": training.DEFAULT_EXPERT_PARAMS}))
    model_store.save_bundle(ensemble, out, name=f"without {', '.join(held)}", training=train.summary())
    print(f"fitted without {', '.join(held)} on {len(train)} samples in {time.perf_counter() - t0:.0f} s: {out}",
          flush=True)
    return str(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model bundle trained without the test sources (omit: localiser alone)")
    ap.add_argument("--frames", required=True, nargs="+",
                    help="folder(s) of clean test frames (searched recursively); several: taken round-robin")
    ap.add_argument("--per-class", type=int, default=20)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--seed", type=int, default=2024,
                    help="first entry of every sample's seed: another value draws another sample set (with 30 "
                         "per class one class.s share moved by up to 0.16 between sets; compare on several)")
    ap.add_argument("--fit-without", metavar="SOURCES",
                    help="comma-separated sources: fit a model on --renders without them (instead of --model)")
    ap.add_argument("--renders", help="with --fit-without: folder with one sub-folder of clean frames per source")
    ap.add_argument("--cache", help="with --fit-without: feature cache (default RENDERS/../cache)")
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    if args.fit_without:
        if not args.renders or args.model:
            ap.error("--fit-without needs --renders and replaces --model")
        args.model = fit_without(args.fit_without.split(","), args.renders, args.cache)
    bundle = load_bundle(args.model) if args.model else None
    paths = frame_paths(args.frames)
    if not paths:
        print(f"no frames under {' '.join(args.frames)}")
        return 2
    base = _Frames(paths, width, height)
    for label in ARTIFACT_NAMES:  # warm-up: first calls pay for imports and OpenCV's lazy initialisation
        localize(base[0], bundle, label)
    ens = bundle.ensemble if bundle is not None else None
    print(f"model {args.model or '(none: true labels)'}; test frames {len(base)} from {' '.join(args.frames)}; "
          f"{args.per_class} per class at "
          f"{width}x{height}, seed {args.seed}")
    head = f"{'class':18s} {'n':>3s} {'flag':>4s} {'IoU>=.5':>7s} {'IoU@true':>8s} {'pix P':>6s} {'pix R':>6s} {'ms':>5s}"
    print(head)
    print("-" * len(head))
    all_ms, tgt_hits, tgt_n, tgt_true, tgt_n_true = [], 0, 0, 0, 0
    for k, label in enumerate(ARTIFACT_NAMES):
        n = flagged = hits = hits_true = 0
        precs, recs, ms = [], [], []
        for i in range(args.per_class):
            frame = base[(i * 7 + k) % len(base)]
            img, mask = corrupt(frame, label, np.random.default_rng([args.seed, k, i]))
            if not mask.any():
                continue
            n += 1
            box = mask_box(mask)
            # The localiser alone, given the true class.
            t0 = time.perf_counter()
            loc_true = localize(img, bundle, label)
            ms_true = 1000 * (time.perf_counter() - t0)
            hits_true += bool(loc_true.regions) and iou(loc_true.regions[0].box, box) >= 0.5
            if ens is None:
                loc = loc_true
                ms.append(ms_true)
            else:
                verdict = ens.decide(ens.predict_proba(features.extract(img)[None, :]))
                if not verdict.corrupted[0]:
                    continue
                flagged += 1
                t0 = time.perf_counter()
                loc = localize(img, bundle, str(verdict.labels[0]), score=float(verdict.score[0]))
                ms.append(1000 * (time.perf_counter() - t0))
                hits += bool(loc.regions) and iou(loc.regions[0].box, box) >= 0.5
            hot = heatmap_to_frame(loc.heatmap, img.shape[1], img.shape[0]) >= REL_THRESHOLD
            if loc.regions:
                tp = int(np.count_nonzero(hot & mask))
                precs.append(tp / max(1, int(np.count_nonzero(hot))))
                recs.append(tp / max(1, int(np.count_nonzero(mask))))
            else:
                precs.append(0.0)
                recs.append(0.0)
        all_ms += ms
        if label in TARGETS:
            tgt_true += hits_true
            tgt_n_true += n
            tgt_hits += hits
            tgt_n += flagged
        share = f"{hits / flagged:7.2f}" if flagged else f"{'-':>7s}"
        flag = f"{flagged:4d}" if ens is not None else f"{'-':>4s}"
        print(f"{label:18s} {n:3d} {flag} {share} {hits_true / max(n, 1):8.2f} "
              f"{np.mean(precs) if precs else float('nan'):6.2f} {np.mean(recs) if recs else float('nan'):6.2f} "
              f"{np.mean(ms) if ms else float('nan'):5.0f}", flush=True)
    print("-" * len(head))
    if tgt_n:
        print(f"target classes: IoU>=0.5 on {tgt_hits}/{tgt_n} flagged frames = {tgt_hits / tgt_n:.2f}")
    if ens is None:
        print(f"target classes: IoU@true >= 0.5 on {tgt_true}/{tgt_n_true} frames = "
              f"{tgt_true / max(tgt_n_true, 1):.2f}")
    if all_ms:
        what = "flagged " if ens is not None else ""
        print(f"localisation per {what}{width}x{height} frame: median {np.median(all_ms):.0f} ms, "
              f"p90 {np.percentile(all_ms, 90):.0f} ms, max {np.max(all_ms):.0f} ms")
    try:
        from machine import machine_lines

        for line in machine_lines():
            print(line)
    except Exception:  # pragma: no cover - the table stands without the machine lines
        pass
    return 0


if __name__ == "__main__":
    _ = CLEAN
    sys.exit(main())
