"""Build the shipped model: render clean frames from every available source, synthesise artifacts, train,
evaluate on held-out sources, and write the bundle (default ``artifactscope/models/default``).

    python scripts/build_default_model.py --work ~/artifactscope-work

Rendering needs the optional engines (``pip install -e '.[sources]'``); sources that cannot run here are
skipped with their reason. Godot engine screenshots are added as one more source when the developer data
folder ``../shared/data/godot-demos`` exists (``--no-godot`` leaves them out). Rendered frames and the
feature cache live under ``--work`` and are reused by later runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from artifactscope import model_store, sources, training  # noqa: E402
from artifactscope.ensemble import COMBINERS  # noqa: E402

GODOT = REPO.parent / "shared" / "data" / "godot-demos"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def fit_progress(stage: str, done: int, total: int) -> None:
    log(f"  fit {done}/{total}: {stage}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default=str(Path.home() / "artifactscope-work"),
                        help="folder for rendered frames and the feature cache")
    parser.add_argument("--out", default=str(REPO / "artifactscope" / "models" / "default"))
    parser.add_argument("--frames", type=int, default=220, help="varied frames per source")
    parser.add_argument("--clips", type=int, default=14, help="clips per source (for tearing/stuttering)")
    parser.add_argument("--clip-len", type=int, default=6)
    parser.add_argument("--render-seed", type=int, default=11)
    parser.add_argument("--per-frame", type=int, default=5)
    parser.add_argument("--clean-per-frame", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=-1)
    parser.add_argument("--no-godot", action="store_true")
    parser.add_argument("--combiner", choices=COMBINERS, default="max")
    parser.add_argument("--cv", type=int, default=5,
                        help="folds of the out-of-fold outputs, at most one per source (5: leave-one-source-out)")
    parser.add_argument("--reuse-experts", metavar="BUNDLE",
                        help="take the final experts from this bundle (trained on the same data) and fit only the "
                             "out-of-fold experts and the combiner")
    parser.add_argument("--validation", type=float, default=0.05,
                        help="share of every source's frames kept out of the final fit, for validation (0: none)")
    parser.add_argument("--holdout", action="store_true",
                        help="also fit once without some sources and report on them (the final fit's out-of-fold "
                             "figures are grouped by source already; benchmarks/bench_accuracy.py does it fully)")
    args = parser.parse_args(argv)

    work = Path(args.work)
    renders = work / "renders"
    for name, reason in sources.available_sources().items():
        target = renders / name
        if reason is not None:
            log(f"skipping source {name}: {reason}")
            continue
        if target.is_dir() and any(target.glob("*.png")):
            log(f"source {name}: reusing frames in {target}")
            continue
        log(f"rendering {name} ...")
        sources.render(name, target, n_frames=args.frames, seed=args.render_seed, clips=args.clips,
                       clip_len=args.clip_len)
    if not args.no_godot and GODOT.is_dir():
        link = renders / "godot"
        if not link.exists():
            link.symlink_to(GODOT, target_is_directory=True)
        log("adding Godot screenshots as a source")
    elif (renders / "godot").is_symlink():
        (renders / "godot").unlink()

    log("building features (cached) ...")
    ds = training.build_dataset([renders], per_frame=args.per_frame, n_clean=args.clean_per_frame,
                                seed=0, jobs=args.jobs, cache_dir=work / "cache")
    log(f"dataset: {ds.summary()}")

    metrics = {}
    if args.holdout:
        train, test = training.split_by_source(ds, seed=0)
        held = sorted(str(g) for g in set(ds.groups[test]))
        log(f"held-out evaluation on sources {held} ...")
        candidate = training.fit_ensemble(ds.subset(train), n_jobs=args.jobs, progress=fit_progress,
                                          combiner=args.combiner, cv=args.cv)
        metrics["holdout"] = training.evaluate_predictions(ds.y[test], candidate.predict(ds.X[test]))
        metrics["holdout"]["sources"] = held
        print(training.format_metrics(metrics["holdout"], f"held out: {', '.join(held)}"), flush=True)

    # Whole frames of every source held out of the final fit: measured here, and stored marked in
    # base_features.npz so that a retrain compares its candidate with this model on rows neither trained on.
    from artifactscope.retrain import base_model_input, split_origins, write_base_features

    validation = split_origins(ds, args.validation, np.random.default_rng(0))
    full, ds = ds, ds.subset(~validation)
    log(f"fitting the final model on all sources ({int(validation.sum())} samples of "
        f"{len(np.unique(full.origin[validation]))} frames held out for validation) ...")
    experts = None
    if args.reuse_experts:
        experts = model_store.load_bundle(args.reuse_experts).ensemble.experts_
        log(f"reusing the final experts of {args.reuse_experts}")
    ensemble = training.fit_ensemble(ds, progress=fit_progress, experts=experts, n_jobs=args.jobs,
                                     combiner=args.combiner, cv=args.cv)
    np.savez_compressed(work / "oof_expert_proba.npz", oof=ensemble.oof_expert_proba_)
    log(f"out-of-fold (grouped by source): {ensemble.oof_metrics_}; thresholds: {ensemble.thresholds_}")
    metrics["oof_by_source"] = ensemble.oof_metrics_
    if validation.any():
        metrics["validation"] = training.evaluate_predictions(full.y[validation],
                                                              ensemble.predict(full.X[validation]))
        print(training.format_metrics(metrics["validation"], "held-out frames of the training sources"), flush=True)
    model_store.save_bundle(ensemble, args.out, name="default", training=ds.summary(), metrics=metrics)
    # What `artifactscope retrain` refits on: model inputs (frame blocks + tile summaries), not raw tiles.
    write_base_features(args.out, base_model_input(ensemble, full, validation), validation=validation)
    size = sum(f.stat().st_size for f in Path(args.out).rglob("*") if f.is_file())
    log(f"model written to {args.out} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
