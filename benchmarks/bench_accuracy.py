"""Accuracy on games never seen: leave-one-source-out over rendered sources (and the Godot screenshots when
present), our recipe and the study's ``paper`` recipe trained and tested on the very same samples.

    python benchmarks/bench_accuracy.py --renders WORK/renders [--frames-per-source 120]

``WORK/renders`` holds one folder of clean frames per source, as written by
``scripts/build_default_model.py`` (or ``artifactscope render``). Prints Markdown tables and the machine.
Targets (DESIGN.md): binary accuracy >= 0.95, false-positive rate on clean frames <= 0.03, artifact-type
accuracy >= 0.90, every class's recall >= 0.85.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from artifactscope import training  # noqa: E402
from machine import machine_lines  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", required=True, help="folder with one sub-folder of clean frames per source")
    parser.add_argument("--frames-per-source", type=int, default=120)
    parser.add_argument("--per-frame", type=int, default=5)
    parser.add_argument("--clean-per-frame", type=int, default=2)
    parser.add_argument("--recipes", default="ours,paper")
    parser.add_argument("--jobs", type=int, default=-1)
    parser.add_argument("--cache", default=None, help="feature cache (default: RENDERS/../cache)")
    args = parser.parse_args(argv)

    recipes = tuple(r for r in args.recipes.split(",") if r)
    cache = Path(args.cache) if args.cache else Path(args.renders).resolve().parent / "cache"
    t0 = time.perf_counter()

    def progress(stage, done, total):
        print(f"[{time.perf_counter() - t0:7.0f}s] {stage} {done}/{total}", file=sys.stderr, flush=True)

    ds = training.build_dataset([args.renders], per_frame=args.per_frame, n_clean=args.clean_per_frame, seed=0,
                                jobs=args.jobs, cache_dir=cache, with_paper="paper" in recipes,
                                max_frames_per_source=args.frames_per_source, progress=None)
    print(f"[{time.perf_counter() - t0:7.0f}s] dataset {ds.summary()}", file=sys.stderr, flush=True)
    result = training.leave_one_source_out(ds, recipes, progress=progress, n_jobs=args.jobs)
    elapsed = time.perf_counter() - t0

    print("## Leave-one-source-out accuracy (each source tested by models that never saw it)\n")
    for line in machine_lines():
        print(line)
    summary = ds.summary()
    print(f"samples: {summary['samples']} ({summary['by_label'].get('clean', 0)} clean) from "
          f"{len(summary['by_source'])} sources, {args.frames_per_source} frames per source at most; "
          f"{elapsed / 60:.1f} min in all\n")
    print(training.format_comparison(result))
    if "ours" in recipes and ds.C is not None:
        area = np.nanmean(ds.C.astype(np.float64), axis=1)
        print("\nRecall (flagged as corrupted) by the artifact's share of the frame, in thirds of each class's "
              "held-out samples:\n")
        print(training.format_recall_by_size(ds.y, result["predictions"]["ours"], area))
    return 0


if __name__ == "__main__":
    sys.exit(main())
