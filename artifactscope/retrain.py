"""Retraining on the studio's own frames: the base features, the labelled-sample library, clean captures.

:func:`retrain` refits the experts and the combiner on

* the **base training features** the active model carries (``base_features.npz`` in its version folder:
  plain arrays, read with ``allow_pickle=False``; never recomputed). A stratified subsample of at most
  ``max_base`` rows is trained on, which keeps a retrain within minutes on two cores;
* the **library's samples** (:class:`artifactscope.library.SampleLibrary`, features cached on disk);
* **synthesised artifacts on clean captures** of the studio's game ("teach it my game"): every capture frame
  gives clean variants and corrupted ones, as in :func:`training.build_synthetic` (cached).

A part of the library and of the captures is held out, and so are the base rows marked ``validation``
(rows no model of this lineage trained on; chosen at the first retrain of a model that has none). The
candidate and the active model are evaluated side by side on these parts, the candidate is registered as a
new version in the :class:`artifactscope.registry.ModelRegistry` with its evaluation samples, and it becomes
active only through :meth:`ModelRegistry.activate` (gated) -- never implicitly.

Long work reports ``progress(stage, done, total)`` and polls ``cancel() -> bool`` (at every progress step and
between stages); a cancelled retrain raises :class:`Cancelled` and leaves the registry as it was.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from artifactscope import features, model_store, training
from artifactscope.artifacts import CLEAN
from artifactscope.registry import BASE, ModelRegistry, RegistryError, load_features
from artifactscope.training import Dataset

__all__ = ["Cancelled", "RetrainResult", "capture_dataset", "format_evaluation", "library_dataset", "retrain",
           "write_base_features"]

ProgressFn = Callable[[str, int, int], None]
CancelFn = Callable[[], bool]

LIBRARY_SOURCE = "library"
# Settings that keep a retrain short. Experts are unweighted by default (see ArtifactExpert.class_weight);
# this keeps a base model that asked for weights from making a retrain several times slower. Three folds
# instead of one per source: 40 expert fits instead of 60 (measured: a retrain after adding 50 samples took
# 167 s with six fits per expert on 3,700 samples; the target is 2 minutes).
FAST_PARAMS = {"expert_class_weight": None, "cv": 3}


class Cancelled(Exception):
    """The retrain was cancelled through its ``cancel`` callback; nothing was registered."""


@dataclass
class RetrainResult:
    """What a retrain produced."""

    ensemble: object
    parent: str  # the version the candidate was compared with (and whose base features it used)
    version: str | None  # the registered version, None when not registered
    evaluation: dict  # {part: {"candidate": metrics, "active": metrics}}
    notes: list[str] = field(default_factory=list)
    training: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)  # per stage


class _Guard:
    """Wraps the caller's progress and cancel callbacks; raises Cancelled when asked to stop."""

    def __init__(self, progress: ProgressFn | None, cancel: CancelFn | None):
        self.progress, self.cancel = progress, cancel

    def check(self) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled("retraining was cancelled; the registry and the active model are unchanged")

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.check()
        if self.progress is not None:
            self.progress(stage, done, total)

    def prefixed(self, prefix: str) -> ProgressFn:
        return lambda stage, done, total: self(f"{prefix}: {stage}" if stage != prefix else prefix, done, total)


# -- data -----------------------------------------------------------------------------------------------
def library_dataset(library, *, jobs: int = 1, cache_dir=training.DEFAULT_CACHE,
                    progress: ProgressFn | None = None) -> Dataset:
    """Features of every sample of a :class:`SampleLibrary` (or library folder); source ``library``."""
    from joblib import Parallel, delayed

    from artifactscope.library import SampleLibrary

    lib = library if isinstance(library, SampleLibrary) else SampleLibrary(library)
    try:
        samples = lib.samples()
    finally:
        if lib is not library:
            lib.close()
    if not samples:
        return Dataset.concat([])
    cached = training._memory(cache_dir).cache(training._cached_labelled)
    results = Parallel(n_jobs=jobs, return_as="generator")(
        delayed(cached)(training._file_key(str(s.path)), features.FEATURE_VERSION) for s in samples)
    X = []
    for done, vec in enumerate(results, start=1):
        X.append(vec)
        if progress is not None:
            progress("library", done, len(samples))
    return Dataset(np.vstack(X).astype(np.float32), np.array([s.label for s in samples]),
                   np.full(len(samples), LIBRARY_SOURCE), np.array([s.sha256 for s in samples]))


def capture_dataset(folders: Sequence[str | os.PathLike], *, per_frame: int = 5, n_clean: int = 2, seed: int = 0,
                    jobs: int = 1, cache_dir=training.DEFAULT_CACHE,
                    progress: ProgressFn | None = None) -> Dataset:
    """Clean and synthesised corrupted samples from folders of clean captures (one source per sub-folder)."""
    sources: dict[str, list[str]] = {}
    for folder in folders:
        for name, paths in training.clean_sources(folder).items():
            sources.setdefault(name, []).extend(paths)
    if not sources:
        return Dataset.concat([])
    return training.build_synthetic(sources, per_frame=per_frame, n_clean=n_clean, seed=seed, jobs=jobs,
                                    cache_dir=cache_dir, progress=progress)


def as_model_input(ds: Dataset, ensemble) -> Dataset:
    """`ds` with full feature vectors replaced by `ensemble`'s model inputs (:meth:`ArtifactEnsemble.model_input`:
    frame blocks plus tile-stage summaries); other rows are kept as they are."""
    if not len(ds) or ds.X.shape[1] != features.n_features():
        return ds
    return Dataset(ensemble.model_input(ds.X).astype(np.float32), ds.y, ds.groups, ds.origin, ds.P, ds.C)


def base_model_input(ensemble, full: Dataset, validation: np.ndarray) -> Dataset:
    """Model inputs of a model's whole data set, for :func:`write_base_features`.

    `ensemble` was fitted on ``full.subset(~validation)`` (in that order): its training rows get the out-of-fold
    tile summaries its experts were trained on, the other rows (`validation`: not trained on) the final stage's.
    """
    X = ensemble.model_input(full.X).astype(np.float32)
    oof = getattr(ensemble, "oof_tile_scores_", None)
    if oof is not None and X.shape[1] != full.X.shape[1]:
        start = X.shape[1] - oof.shape[1]
        X[~np.asarray(validation, bool), start:] = oof
    return Dataset(X, full.y, full.groups, full.origin)


def split_origins(ds: Dataset, fraction: float, rng: np.random.Generator, by: np.ndarray | None = None
                   ) -> np.ndarray:
    """Mask of rows held out: about `fraction` of the origins (frames) of each stratum of `by`."""
    held = np.zeros(len(ds), bool)
    if fraction <= 0 or not len(ds):
        return held
    strata = ds.groups if by is None else by
    for s in np.unique(strata):
        rows = strata == s
        origins = np.unique(ds.origin[rows])
        if len(origins) < 2:
            continue
        k = min(len(origins) - 1, max(1, int(round(fraction * len(origins)))))
        pick = rng.choice(origins, size=k, replace=False)
        held |= rows & np.isin(ds.origin, pick)
    return held


def _subsample(ds: Dataset, n: int | None, rng: np.random.Generator) -> np.ndarray:
    """Mask keeping at most `n` rows, the same share of every (label, source) stratum."""
    keep = np.ones(len(ds), bool)
    if n is None or len(ds) <= n:
        return keep
    keep[:] = False
    strata = np.char.add(np.char.add(ds.y.astype(str), "|"), ds.groups.astype(str))
    share = n / len(ds)
    for s in np.unique(strata):
        rows = np.flatnonzero(strata == s)
        k = max(1, int(round(share * len(rows))))
        keep[rng.choice(rows, size=min(k, len(rows)), replace=False)] = True
    return keep


# -- the retrain ------------------------------------------------------------------------------------------
def retrain(
    *,
    library=None,
    clean_captures: Sequence[str | os.PathLike] = (),
    registry: ModelRegistry | str | os.PathLike | None = None,
    base: str | None = None,
    base_features: str | os.PathLike | Dataset | None = None,
    cache_dir: str | os.PathLike | None = training.DEFAULT_CACHE,
    jobs: int = 1,
    seed: int = 0,
    holdout: float = 0.25,
    base_validation: float = 0.1,
    max_base: int | None = 3000,
    per_frame: int = 5,
    n_clean: int = 2,
    fast: bool = True,
    known_fpr: float | None = 0.0,
    fit_params: dict | None = None,
    register: bool = True,
    note: str = "",
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> RetrainResult:
    """Refit the model on base features + library samples + synthesised artifacts on clean captures.

    Parameters
    ----------
    library : SampleLibrary or path-like, optional
        The labelled-sample library (default folder when None; ``False`` for none).
    clean_captures : sequence of path-like
        Folders of clean frames of the studio's game (one source per sub-folder, or the folder itself).
    registry : ModelRegistry or path-like, optional
        Where the candidate is registered (default :func:`registry.default_registry_dir`).
    base : str, optional
        Version to start from and compare with; default the active one.
    base_features : path-like or Dataset, optional
        Training features to use instead of those stored with `base`.
    holdout : float
        Share of the library's samples (per label) and of the capture frames held out for evaluation.
    base_validation : float
        Share of base frames (per source) held out when the base features mark none as validation.
    max_base : int or None
        Train on at most this many base rows (stratified subsample); None for all.
    fast : bool
        Use :data:`FAST_PARAMS` (fewer folds) on top of the base model's parameters.
    known_fpr : float or None
        Out-of-fold false-positive-rate budget, per source, on the clean base frames of the games the model
        already knew (every base source not being taught by the library or the captures). The default, 0,
        lets the candidate trade none of their clean frames for detections: teaching one game must not start
        false alarms on the others. None gives them the model's usual ``target_fpr``.
    fit_params : dict, optional
        :class:`ArtifactEnsemble` parameters overriding the base model's.
    register : bool
        Register the candidate as a new version (not activated).
    progress, cancel : callables
        ``progress(stage, done, total)``; ``cancel() -> bool`` polled at every step.

    Raises
    ------
    Cancelled
        When `cancel` returned True; nothing was registered.
    ValueError
        When there is nothing to train on, or `known_fpr` is not a rate.
    """
    if known_fpr is not None and not 0.0 <= known_fpr < 1.0:
        raise ValueError(f"known_fpr must be a rate in [0, 1) or None, got {known_fpr}")
    guard = _Guard(progress, cancel)
    timings: dict[str, float] = {}
    notes: list[str] = []
    rng = np.random.default_rng(seed)
    reg = registry if isinstance(registry, ModelRegistry) else ModelRegistry(registry)
    parent = reg.resolve(base) if base is not None else reg.active()
    t0 = time.perf_counter()

    # 1. the active (parent) model and its training features
    guard("loading the active model", 0, 1)
    try:
        active = reg.verify(parent)
    except (RegistryError, model_store.BundleError) as exc:
        raise ValueError(f"cannot load the model to start from ({parent}): {exc}") from None
    n_feat = int(active.manifest["n_features"])
    extras: dict = {}
    if isinstance(base_features, Dataset):
        base_ds = base_features
    elif base_features is not None:
        base_ds, extras = load_features(base_features, n_feat)
    else:
        stored = reg.base_features(parent)
        if stored is None:
            base_ds = Dataset.concat([])
            notes.append(f"the model {parent} carries no training features ({reg.path_of(parent).name}/"
                         "base_features.npz is missing): retraining on the library and the captures only")
        else:
            base_ds, extras = stored
    guard("loading the active model", 1, 1)
    timings["base"] = time.perf_counter() - t0

    # 2. the library
    t = time.perf_counter()
    guard.check()
    lib_ds = Dataset.concat([])
    if library is not False:
        lib_ds = library_dataset(library, jobs=jobs, cache_dir=cache_dir, progress=guard.prefixed("library"))
        if not len(lib_ds):
            notes.append("the sample library is empty")
    timings["library"] = time.perf_counter() - t

    # 3. clean captures with synthesised artifacts
    t = time.perf_counter()
    guard.check()
    cap_ds = Dataset.concat([])
    if clean_captures:
        cap_ds = capture_dataset(clean_captures, per_frame=per_frame, n_clean=n_clean, seed=seed, jobs=jobs,
                                 cache_dir=cache_dir, progress=guard.prefixed("captures"))
    timings["captures"] = time.perf_counter() - t
    guard.check()
    if not len(lib_ds) and not len(cap_ds) and base_features is None:
        # Refitting on the stored base rows alone teaches nothing, and on their subsample gives a weaker copy of
        # the model it starts from, registered as if it were new.
        where = "the sample library is empty" if library is not False else "the sample library is not used"
        captures = "the clean-capture folders hold no frames" if clean_captures else "no clean captures were given"
        raise ValueError(f"nothing to teach: {where} and {captures}; label frames first "
                         "(artifactscope label FILE --as clean|ARTIFACT) or pass --clean-captures DIR")

    # 4. splits: library and captures held out per label / per source; base validation rows
    lib_held = split_origins(lib_ds, holdout, rng, by=lib_ds.y) if len(lib_ds) >= 4 else np.zeros(len(lib_ds), bool)
    if len(lib_ds) and not lib_held.any():
        notes.append("too few library samples to hold some out: the library part is not evaluated")
    cap_held = split_origins(cap_ds, holdout, rng)
    # The experts read model inputs: the library's and the captures' full feature vectors are summarised by the
    # parent's tile stage, which the candidate keeps (stored base rows are model inputs already).
    lib_ds, cap_ds = as_model_input(lib_ds, active.ensemble), as_model_input(cap_ds, active.ensemble)
    base_ds = as_model_input(base_ds, active.ensemble)  # base features given as full vectors (e.g. by a caller)
    def _extra(key):
        v = extras.get(key)
        return None if v is None or len(v) != len(base_ds) else np.asarray(v, bool)

    if len(base_ds):
        validation, taught = _extra("validation"), _extra("capture")
        if taught is None:
            taught = np.zeros(len(base_ds), bool)
        if len(cap_ds):  # frames taught again replace their stored rows
            fresh = ~np.isin(base_ds.origin, np.unique(cap_ds.origin))
            base_ds, taught = base_ds.subset(fresh), taught[fresh]
            validation = None if validation is None else validation[fresh]
        if validation is None:
            validation = split_origins(base_ds, base_validation, rng)
            notes.append(f"base validation: {int(validation.sum())} samples held out of {len(base_ds)}; "
                         f"the model {parent} may have been trained on them (its figures there are optimistic)")
    else:
        validation, taught = np.zeros(0, bool), np.zeros(0, bool)
    base_train = base_ds.subset(~validation) if len(base_ds) else base_ds
    taught_train = taught[~validation] if len(base_ds) else taught
    # Captures taught earlier are kept whole; the rest of the base is subsampled.
    keep = taught_train.copy()
    keep[~taught_train] = _subsample(base_train.subset(~taught_train), max_base, rng)
    if len(base_train) and not keep.all():
        notes.append(f"trained on a stratified subsample of {int(keep.sum())} of {len(base_train)} base samples")
    train = Dataset.concat([base_train.subset(keep), lib_ds.subset(~lib_held), cap_ds.subset(~cap_held)])
    if not len(train) or CLEAN not in set(train.y) or set(train.y) == {CLEAN}:
        raise ValueError("nothing to retrain on: the training needs clean and corrupted samples (give clean "
                         "captures with --clean-captures, label frames with `artifactscope label`, or use a model "
                         "that carries base_features.npz)")

    # 5. fit
    t = time.perf_counter()
    params = {k: v for k, v in active.manifest.get("ensemble_params", {}).items()}
    if params.get("gate_blocks") is not None:
        params["gate_blocks"] = tuple(params["gate_blocks"])
    if fast:
        params = _fast_params(params)
    params.update(fit_params or {})
    params["n_jobs"] = jobs
    from artifactscope.ensemble import ArtifactEnsemble

    ensemble = ArtifactEnsemble(**params)
    # Every source split by frames: thresholds for games the model was taught (see the README), and the
    # false-alarm budget kept per source, so that no one game takes all of it.
    groups = training.fit_groups(train, split=set(np.unique(train.groups)), n_chunks=2 * int(ensemble.cv), seed=seed)
    ensemble.fit(train.X, train.y, groups=groups, fpr_groups=train.groups, progress=guard.prefixed("fitting"),
                 tile_stage=getattr(active.ensemble, "tile_stage_", None),
                 group_fpr=_known_sources_fpr(base_train.subset(keep), taught_train[keep], lib_ds, cap_ds, known_fpr))
    timings["fit"] = time.perf_counter() - t
    guard.check()

    # 6. evaluate candidate and active side by side
    t = time.perf_counter()
    parts = {"library": lib_ds.subset(lib_held), "base": base_ds.subset(validation) if len(base_ds) else base_ds,
             "captures": cap_ds.subset(cap_held)}
    parts = {k: v for k, v in parts.items() if len(v)}
    evaluation = {}
    for i, (name, ds) in enumerate(parts.items()):
        guard("evaluating", i, len(parts))
        evaluation[name] = {
            "candidate": training.evaluate_predictions(ds.y, ensemble.predict(ds.X)),
            "active": training.evaluate_predictions(ds.y, active.ensemble.predict(ds.X)),
        }
    guard("evaluating", len(parts), len(parts))
    timings["evaluate"] = time.perf_counter() - t

    # 7. register (not activate)
    version = None
    if register:
        guard.check()
        t = time.perf_counter()
        guard("saving", 0, 1)
        new_base = Dataset.concat([base_ds, cap_ds])
        new_validation = np.concatenate([validation, cap_held]) if len(new_base) else None
        new_taught = np.concatenate([taught, np.ones(len(cap_ds), bool)]) if len(new_base) else None
        eval_ds = Dataset.concat(list(parts.values()))
        eval_part = np.concatenate([np.full(len(v), k) for k, v in parts.items()]) if parts else None
        summary = train.summary()
        version = reg.register(
            ensemble, name=None, training=summary,
            metrics={"oof": ensemble.oof_metrics_, "retrain": evaluation},
            parent=parent, note=note or _describe(lib_ds, cap_ds, base_ds),
            base_features=new_base if len(new_base) else None,
            base_extras={"validation": new_validation, "capture": new_taught} if len(new_base) else None,
            evaluation=eval_ds if len(eval_ds) else None, evaluation_part=eval_part,
            record={"evaluation": evaluation, "notes": notes,
                    "captures": [str(Path(c).resolve()) for c in clean_captures]},
        )
        # Registered: from here a cancel request changes nothing, so report without checking it.
        if progress is not None:
            progress("saving", 1, 1)
        timings["save"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    return RetrainResult(ensemble=ensemble, parent=parent, version=version, evaluation=evaluation, notes=notes,
                         training=train.summary(), seconds=timings)


def _known_sources_fpr(base_train: Dataset, taught: np.ndarray, lib_ds: Dataset, cap_ds: Dataset,
                       known_fpr: float | None) -> dict[str, float] | None:
    """``{source: known_fpr}`` for the base sources nobody is teaching now or taught before."""
    if known_fpr is None or not len(base_train):
        return None
    teaching = set(lib_ds.groups) | set(cap_ds.groups) | set(base_train.groups[taught])
    return {str(g): float(known_fpr) for g in np.unique(base_train.groups) if g not in teaching}


def write_base_features(bundle_dir: str | os.PathLike, ds: Dataset, *, validation: np.ndarray | None = None,
                        max_rows: int | None = 3000, max_validation: int | None = 600, seed: int = 0) -> Path:
    """Store a model's training features in its bundle folder as ``base_features.npz`` (for retraining).

    A stratified (label x source) subsample of at most `max_rows` training rows keeps the file small (3000 rows
    of ~625 float32 model inputs: about 6.5 MB compressed). Rows in `validation` (frames the model was *not* trained
    on) are stored marked as such, at most `max_validation` of them: a retrain then compares the candidate and
    this model on data neither has seen. Plain arrays only, written to a temporary name and moved into place;
    call it after :func:`model_store.save_bundle` (which replaces the whole folder).
    """
    from artifactscope.registry import BASE_FEATURES, save_features

    bundle_dir = Path(bundle_dir)
    rng = np.random.default_rng(seed)
    val = np.zeros(len(ds), bool) if validation is None else np.asarray(validation, bool)
    keep = np.zeros(len(ds), bool)
    keep[~val] = _subsample(ds.subset(~val), max_rows, rng)
    if val.any():
        keep[val] = _subsample(ds.subset(val), max_validation, rng)
    extra = {"validation": val[keep]} if val.any() else {}
    target = bundle_dir / BASE_FEATURES
    tmp = bundle_dir / f".{BASE_FEATURES}.{os.getpid()}.tmp"
    try:
        save_features(tmp, ds.subset(keep), **extra)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _fast_params(params: dict) -> dict:
    """The base model's ensemble parameters with :data:`FAST_PARAMS` applied."""
    params = dict(params)
    fast = dict(FAST_PARAMS)
    if "expert_class_weight" in fast:
        weight = fast.pop("expert_class_weight")
        experts = {k: dict(v) for k, v in (params.get("expert_params") or {}).items()}
        experts.setdefault("*", {})
        for overrides in experts.values():
            if overrides.get("model", experts["*"].get("model", "hgb")) == "hgb":
                overrides["class_weight"] = weight
        params["expert_params"] = experts
    params.update(fast)
    return params


def _describe(lib_ds: Dataset, cap_ds: Dataset, base_ds: Dataset) -> str:
    bits = []
    if len(base_ds):
        bits.append(f"{len(base_ds)} base samples")
    if len(lib_ds):
        bits.append(f"{len(lib_ds)} library samples")
    if len(cap_ds):
        bits.append(f"{len(np.unique(cap_ds.origin))} clean captures ({', '.join(sorted(set(cap_ds.groups)))})")
    return "retrained on " + ", ".join(bits)


def format_evaluation(evaluation: dict, candidate: str = "candidate", active: str = "active") -> str:
    """Candidate and active model side by side per evaluation part, as a text table."""
    cols = [("accuracy", "binary acc"), ("fpr", "FPR clean"), ("recall", "recall"), ("type_accuracy", "type acc")]

    def cell(v):
        return f"{v:.3f}" if isinstance(v, float) and np.isfinite(v) else "n/a"

    head = f"{'held-out part':<14} {'samples':>7}  " + "  ".join(
        f"{name + ' ' + who:>{max(len(name + ' ' + who), 8)}}" for _, name in cols for who in ("new", "old"))
    lines = [f"evaluation: new = {candidate}, old = {active}", head]
    for part, m in evaluation.items():
        c, a = m["candidate"], m["active"]
        row = f"{part:<14} {c['n']:>7}  " + "  ".join(
            f"{cell(x[key]):>{max(len(name + ' ' + who), 8)}}" for key, name in cols
            for who, x in (("new", c), ("old", a)))
        lines.append(row)
    return "\n".join(lines)
