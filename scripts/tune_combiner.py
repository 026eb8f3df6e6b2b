"""Try combiner settings on the out-of-fold expert outputs saved by ``build_default_model.py`` and
optionally write the best into the bundle (the experts stay as they are).

    python scripts/tune_combiner.py --work WORKDIR [--write]

Figures are out-of-fold and grouped by source: every sample is judged by a combiner (and experts) that
never saw its source. The variant with the highest binary accuracy at the target false-positive rate wins.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from artifactscope import model_store, training  # noqa: E402

VARIANTS = {
    "hgb+gate": {"combiner": "hgb", "gate_blocks": ("gate",)},
    "hgb": {"combiner": "hgb", "gate_blocks": None},
    "logreg+gate": {"combiner": "logreg", "gate_blocks": ("gate",)},
    "logreg": {"combiner": "logreg", "gate_blocks": None},
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True)
    parser.add_argument("--model", default=str(REPO / "artifactscope" / "models" / "default"))
    parser.add_argument("--target-fpr", type=float, default=0.02)
    parser.add_argument("--write", action="store_true", help="write the best variant into --model")
    parser.add_argument("--per-frame", type=int, default=5, help="as given to build_default_model.py")
    parser.add_argument("--clean-per-frame", type=int, default=2, help="as given to build_default_model.py")
    args = parser.parse_args(argv)

    work = Path(args.work)
    ds = training.build_dataset([work / "renders"], per_frame=args.per_frame, n_clean=args.clean_per_frame, seed=0, jobs=-1,
                                cache_dir=work / "cache")
    oof = np.load(work / "oof_expert_proba.npz", allow_pickle=False)["oof"]
    bundle = model_store.load_bundle(args.model)
    results = {}
    for name, params in VARIANTS.items():
        ens = training.ArtifactEnsemble(target_fpr=args.target_fpr, **params)
        ens.experts_ = bundle.ensemble.experts_
        ens.artifacts_ = list(bundle.ensemble.artifacts_)
        ens.classes_ = bundle.ensemble.classes_
        ens.n_features_in_ = ds.X.shape[1]
        ens.refit_combiner(ds.X, ds.y, oof, groups=ds.groups)
        results[name] = ens
        m = ens.oof_metrics_
        print(f"{name:<12} accuracy {m['accuracy']:.3f}  recall {m['recall']:.3f}  fpr {m['fpr']:.3f}  "
              f"type {m['type_accuracy']:.3f}")
    best = max(results, key=lambda k: results[k].oof_metrics_["accuracy"])
    print(f"best: {best}; thresholds {results[best].thresholds_}")
    if args.write:
        manifest = bundle.manifest
        metrics = dict(manifest.get("metrics", {}))
        metrics["oof_by_source"] = results[best].oof_metrics_
        model_store.save_bundle(results[best], args.model, name=manifest.get("name"),
                                training=manifest.get("training"), metrics=metrics)
        print(f"written to {args.model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
