"""Training data, fitting and evaluation.

Two kinds of input folders:

* **labelled** folders, ``DATA/<label>/...`` with ``label`` = ``clean`` or an artifact name (what
  ``artifactscope synthesize`` writes, or frames sorted by a tester);
* **clean-only** folders: frames of games with no artifacts. Every frame gives clean samples and, through
  :mod:`artifactscope.synth`, corrupted ones. Each sub-folder is one *source* (game or engine); a folder
  with no sub-folders is one source named after it.

Features are computed in parallel and cached on disk (joblib.Memory keyed by file, size, mtime, seed and
feature version), so retraining and leave-one-source-out evaluation do not recompute them.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artifactscope import features, frames
from artifactscope.artifacts import ARTIFACT_NAMES, CLEAN, LABELS
from artifactscope.ensemble import ArtifactEnsemble, binary_metrics
from artifactscope.features.tiles import N_TILES, tile_coverage

ProgressFn = Callable[[str, int, int], None]  # (stage, done, total)

DEFAULT_CACHE = Path(os.environ.get("ARTIFACTSCOPE_CACHE", Path.home() / ".cache" / "artifactscope"))


@dataclass
class Dataset:
    """Feature vectors with labels, sources and origin files (plain arrays)."""

    X: np.ndarray  # (n, n_features) float32
    y: np.ndarray  # (n,) str labels
    groups: np.ndarray  # (n,) str source of each sample
    origin: np.ndarray  # (n,) str path of the frame the sample was made from
    P: np.ndarray | None = None  # (n, paper.N_FEATURES) the study's features of the same images, if asked for
    C: np.ndarray | None = None  # (n, N_TILES) share of each tile the synthesis mask covers; NaN where unknown

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, mask: np.ndarray) -> Dataset:
        return Dataset(self.X[mask], self.y[mask], self.groups[mask], self.origin[mask],
                       None if self.P is None else self.P[mask], None if self.C is None else self.C[mask])

    @staticmethod
    def concat(parts: Sequence[Dataset]) -> Dataset:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Dataset(np.zeros((0, features.n_features()), np.float32), *(np.array([], dtype=str),) * 3)
        fields = [np.concatenate([getattr(p, f) for p in parts]) for f in ("X", "y", "groups", "origin")]
        P = np.concatenate([p.P for p in parts]) if all(p.P is not None for p in parts) else None
        C = None
        if any(p.C is not None for p in parts):  # parts without masks: coverage unknown
            C = np.concatenate([p.C if p.C is not None else np.full((len(p), N_TILES), np.nan, np.float32)
                                for p in parts])
        return Dataset(*fields, P=P, C=C)

    def summary(self) -> dict:
        """Counts per label and per source (stored in model manifests)."""
        labels, counts = np.unique(self.y, return_counts=True)
        sources, scounts = np.unique(self.groups, return_counts=True)
        return {
            "samples": int(len(self.y)),
            "by_label": {str(k): int(v) for k, v in zip(labels, counts)},
            "by_source": {str(k): int(v) for k, v in zip(sources, scounts)},
        }

    def save(self, path: str | os.PathLike) -> None:
        """Save as a plain ``.npz`` (no pickled objects)."""
        extra = {} if self.C is None else {"C": self.C}
        np.savez_compressed(path, X=self.X, y=self.y.astype("U"), groups=self.groups.astype("U"),
                            origin=self.origin.astype("U"), **extra)

    @staticmethod
    def load(path: str | os.PathLike) -> Dataset:
        with np.load(path, allow_pickle=False) as z:
            return Dataset(z["X"], z["y"], z["groups"], z["origin"], C=z["C"] if "C" in z.files else None)


# -- discovering inputs ---------------------------------------------------------------------------------
def is_labelled_folder(folder: str | os.PathLike) -> bool:
    """True when `folder` has a sub-folder named ``clean`` or after an artifact."""
    folder = Path(folder)
    return folder.is_dir() and any((folder / label).is_dir() for label in LABELS)


def _images(folder: Path) -> list[str]:
    return sorted(
        str(p) for p in folder.rglob("*")
        if p.suffix.lower() in frames.IMAGE_EXTENSIONS and not p.name.endswith(".mask.png")
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def clean_sources(folder: str | os.PathLike) -> dict[str, list[str]]:
    """Clean frames of a clean-only folder grouped by source (sub-folder, or the folder itself)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    out = {}
    for sub in subdirs:
        imgs = _images(sub)
        if imgs:
            out[sub.name] = imgs
    top = sorted(str(p) for p in folder.iterdir()
                 if p.is_file() and p.suffix.lower() in frames.IMAGE_EXTENSIONS)
    if top:
        out.setdefault(folder.name, [])
        out[folder.name] = sorted(out[folder.name] + top)
    if not out:
        raise ValueError(f"{folder}: no images found (expected frames or one sub-folder per source)")
    return out


def labelled_items(folder: str | os.PathLike) -> list[tuple[str, str, str]]:
    """(path, label, source) for a labelled folder; sources come from ``index.csv`` when present."""
    folder = Path(folder)
    index = folder / "index.csv"
    source_of: dict[str, str] = {}
    if index.is_file():
        with open(index, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("path") and row.get("source"):
                    source_of[str((folder / row["path"]).resolve())] = row["source"]
    items = []
    for label in LABELS:
        sub = folder / label
        if sub.is_dir():
            for p in _images(sub):
                items.append((p, label, source_of.get(str(Path(p).resolve()), folder.name)))
    if not items:
        raise ValueError(f"{folder}: no labelled images (expected {folder}/<clean|artifact>/*.png)")
    return items


# -- feature extraction workers (module-level so joblib can send them to processes and cache them) ------
def _random_size(rng: np.random.Generator, w: int, h: int) -> tuple[int, int]:
    """A random target size between 480p and 1440p keeping the aspect ratio (never upscaling tiny frames by >2x)."""
    target_h = int(rng.choice([480, 540, 720, 900, 1080, 1440]))
    target_h = min(target_h, 2 * h)
    return max(16, int(round(w * target_h / h))), max(16, target_h)


def _maybe_jpeg(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    import cv2

    if rng.random() < 0.5:
        return img
    ok, buf = cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 96))])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1].copy()


def synth_samples(path: str, other_path: str | None, labels: Sequence[str], n_clean: int, seed: int,
                  rescale: bool = True, with_paper: bool = False, looks: bool = True) -> list[tuple]:
    """Features of `n_clean` clean variants and one corrupted variant per label of the frame at `path`.

    Clean variants get the same resizing, random look (:mod:`artifactscope.synth.looks`, with `looks`) and JPEG
    re-encoding as corrupted ones, so that the experts cannot use any of them as a cue. Returns
    ``(label, features, tile_cover)`` (the synthesis mask's share of each tile, float16), or
    ``(label, features, tile_cover, paper_features)`` with `with_paper` (the study's features of the very same
    image).
    """
    import cv2

    from artifactscope import synth
    from artifactscope.synth.looks import random_look

    rng = np.random.default_rng(seed)
    base = frames.read_image(path)
    other_base = frames.read_image(other_path) if other_path else None
    out = []
    for k in range(n_clean + len(labels)):
        frame, other = base, other_base
        if rescale and rng.random() < 0.6:
            w, h = _random_size(rng, base.shape[1], base.shape[0])
            frame = cv2.resize(base, (w, h), interpolation=cv2.INTER_AREA)
            if other is not None:
                other = cv2.resize(other, (w, h), interpolation=cv2.INTER_AREA)
        if looks:
            look = random_look(rng)
            frame = look(frame)
            other = look(other) if other is not None else None
        if k < n_clean:
            label, image = CLEAN, _maybe_jpeg(frame, rng)
            cover = np.zeros(N_TILES, np.float16)
        else:
            label = labels[k - n_clean]
            image, mask = synth.corrupt(frame, label, rng, other=other)
            cover = tile_coverage(mask).astype(np.float16)
        row = (label, features.extract(image), cover)
        if with_paper:
            from artifactscope import paper

            row += (paper.paper_features(image),)
        out.append(row)
    return out


def labelled_sample(path: str) -> np.ndarray:
    """Features of one labelled image."""
    return features.extract(frames.read_image(path))


def _memory(cache_dir: str | os.PathLike | None):
    from joblib import Memory

    return Memory(None if cache_dir is None else str(cache_dir), verbose=0)


def _file_key(path: str) -> tuple:
    st = os.stat(path)
    return (path, st.st_size, int(st.st_mtime_ns))


def _cached_synth(key, other_key, labels, n_clean, seed, rescale, feature_version):
    return synth_samples(key[0], other_key[0] if other_key else None, labels, n_clean, seed, rescale)


def _cached_synth_paper(key, other_key, labels, n_clean, seed, rescale, feature_version, paper_version):
    return synth_samples(key[0], other_key[0] if other_key else None, labels, n_clean, seed, rescale,
                         with_paper=True)


def _cached_labelled(key, feature_version):
    return labelled_sample(key[0])


def _clip_key(path: str) -> tuple[str, str]:
    """(folder, name without its trailing frame number): equal for frames of one clip."""
    p = Path(path)
    stem = p.stem.rstrip("0123456789").rstrip("_-")
    return str(p.parent), stem


def _next_moment(paths: Sequence[str], i: int) -> str | None:
    """The next frame of the same clip (a later moment of the same scene), or None when there is none;
    the tearing generator then fabricates one by camera motion instead of splicing unrelated scenes.
    Clip frames are those in a ``clips`` folder or named ``..clip.._NNN`` (what ``render`` writes)."""
    if "clip" not in Path(paths[i]).stem and Path(paths[i]).parent.name != "clips":
        return None
    for j in (i + 1, i - 1):
        if 0 <= j < len(paths) and _clip_key(paths[j]) == _clip_key(paths[i]):
            return paths[j]
    return None


def build_synthetic(
    sources: dict[str, list[str]],
    *,
    per_frame: int = 5,
    n_clean: int = 2,
    seed: int = 0,
    jobs: int = 1,
    cache_dir: str | os.PathLike | None = DEFAULT_CACHE,
    progress: ProgressFn | None = None,
    labels: Sequence[str] = ARTIFACT_NAMES,
    with_paper: bool = False,
    max_frames_per_source: int | None = None,
) -> Dataset:
    """Clean and corrupted samples from clean frames grouped by source.

    Every frame gives `n_clean` clean samples and `per_frame` corrupted ones; artifact labels cycle so that
    classes stay balanced. Tearing and stuttering take their second frame from the next frame of the same
    clip when there is one. `with_paper` also computes the study's features of the same images (``P``);
    `max_frames_per_source` takes an evenly spaced subset of each source's frames.
    """
    from joblib import Parallel, delayed

    memory = _memory(cache_dir)
    cached = memory.cache(_cached_synth_paper) if with_paper else memory.cache(_cached_synth)
    extra = (_paper_version(),) if with_paper else ()
    tasks, meta = [], []
    counter = 0
    for source, paths in sorted(sources.items()):
        if max_frames_per_source and len(paths) > max_frames_per_source:
            keep = np.linspace(0, len(paths) - 1, max_frames_per_source).round().astype(int)
            paths = [paths[k] for k in keep]
        for i, path in enumerate(paths):
            chosen = [labels[(counter + j) % len(labels)] for j in range(per_frame)]
            counter += per_frame
            other = _next_moment(paths, i)
            frame_seed = int(np.random.SeedSequence([seed, counter]).generate_state(1)[0])
            tasks.append(delayed(cached)(_file_key(path), _file_key(other) if other else None, tuple(chosen),
                                         n_clean, frame_seed, True, features.FEATURE_VERSION, *extra))
            meta.append((source, path))
    rows_X, rows_P, rows_C, rows_y, rows_g, rows_o = [], [], [], [], [], []
    results = Parallel(n_jobs=jobs, return_as="generator")(tasks)
    for done, (samples, (source, path)) in enumerate(zip(results, meta), start=1):
        for label, vec, cover, *paper_vec in samples:
            rows_X.append(vec)
            rows_C.append(cover)
            rows_P.extend(paper_vec)
            rows_y.append(label)
            rows_g.append(source)
            rows_o.append(path)
        if progress is not None:
            progress("features", done, len(tasks))
    if not rows_X:
        return Dataset.concat([])
    P = np.vstack(rows_P).astype(np.float32) if with_paper else None
    return Dataset(np.vstack(rows_X).astype(np.float32), np.array(rows_y), np.array(rows_g), np.array(rows_o), P,
                   np.vstack(rows_C).astype(np.float32))


def _paper_version() -> str:
    from artifactscope import paper

    return json.dumps(paper.PAPER_SPEC, sort_keys=True)


def build_labelled(
    folder: str | os.PathLike,
    *,
    jobs: int = 1,
    cache_dir: str | os.PathLike | None = DEFAULT_CACHE,
    progress: ProgressFn | None = None,
) -> Dataset:
    """Samples of a labelled folder (``DATA/<label>/...``)."""
    from joblib import Parallel, delayed

    items = labelled_items(folder)
    cached = _memory(cache_dir).cache(_cached_labelled)
    results = Parallel(n_jobs=jobs, return_as="generator")(
        delayed(cached)(_file_key(p), features.FEATURE_VERSION) for p, _, _ in items)
    X = []
    for done, vec in enumerate(results, start=1):
        X.append(vec)
        if progress is not None:
            progress("features", done, len(items))
    return Dataset(np.vstack(X).astype(np.float32), np.array([i[1] for i in items]),
                   np.array([i[2] for i in items]), np.array([i[0] for i in items]))


def build_dataset(
    folders: Sequence[str | os.PathLike],
    *,
    per_frame: int = 5,
    n_clean: int = 2,
    seed: int = 0,
    jobs: int = 1,
    cache_dir: str | os.PathLike | None = DEFAULT_CACHE,
    progress: ProgressFn | None = None,
    with_paper: bool = False,
    max_frames_per_source: int | None = None,
) -> Dataset:
    """One dataset from any mix of labelled and clean-only folders (see :func:`build_synthetic`)."""
    parts = []
    for folder in folders:
        if is_labelled_folder(folder):
            parts.append(build_labelled(folder, jobs=jobs, cache_dir=cache_dir, progress=progress))
        else:
            parts.append(build_synthetic(clean_sources(folder), per_frame=per_frame, n_clean=n_clean,
                                         seed=seed, jobs=jobs, cache_dir=cache_dir, progress=progress,
                                         with_paper=with_paper, max_frames_per_source=max_frames_per_source))
    return Dataset.concat(parts)


# -- fitting and evaluation -----------------------------------------------------------------------------
#: Sources of hard negatives rather than games (``ui``: menus, consoles, editor panels). They teach what is
#: clean, so they are always trained on: never held out as an unseen game, and split by frames across the
#: out-of-fold folds (held out whole, their legitimate text and widgets would raise every threshold).
HARD_NEGATIVE_SOURCES: frozenset[str] = frozenset({"ui"})


#: Keep every source's out-of-fold false-positive rate within the target (not only the pooled rate).
FPR_PER_SOURCE = True


def game_sources(ds: Dataset) -> list[str]:
    """The dataset's sources that are games (all but :data:`HARD_NEGATIVE_SOURCES`), sorted."""
    return sorted(str(s) for s in set(ds.groups) if s not in HARD_NEGATIVE_SOURCES)


def fit_groups(ds: Dataset, split: Sequence[str] | set | frozenset | None = None, n_chunks: int = 10,
               seed: int = 0) -> np.ndarray:
    """Groups for the out-of-fold outputs that set the combiner and the thresholds.

    Sources stay whole groups (so each one's out-of-fold outputs come from experts that never saw it), except
    those in `split` (default: :data:`HARD_NEGATIVE_SOURCES`), which are cut into `n_chunks` groups of whole
    frames: every fold's experts have then seen part of them, as the final model has.
    """
    split = HARD_NEGATIVE_SOURCES if split is None else split
    groups = ds.groups.astype(object).copy()
    rng = np.random.default_rng(seed)
    for source in sorted(set(split) & {str(g) for g in np.unique(ds.groups)}):
        rows = ds.groups == source
        origins = np.unique(ds.origin[rows])
        if len(origins) < n_chunks:
            continue
        chunk = dict(zip(rng.permutation(origins), np.arange(len(origins)) % n_chunks))
        groups[rows] = [f"{source}~{chunk[o]}" for o in ds.origin[rows]]
    return groups.astype(str)


def split_by_source(ds: Dataset, holdout: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Boolean train/test masks: whole game sources are held out when there are several, else whole frames."""
    rng = np.random.default_rng(seed)
    sources = np.array(game_sources(ds))
    if len(sources) >= 3:
        n_test = max(1, int(round(holdout * len(sources))))
        test_sources = rng.choice(sources, size=n_test, replace=False)
        test = np.isin(ds.groups, test_sources)
    else:
        # Split by origin frame so variants of one frame never sit on both sides.
        origins = np.unique(ds.origin)
        test_origins = rng.choice(origins, size=max(1, int(round(holdout * len(origins)))), replace=False)
        test = np.isin(ds.origin, test_origins)
    return ~test, test


def evaluate_predictions(y_true, y_pred) -> dict:
    """Binary figures, per-class recall and the confusion matrix (rows: truth, columns: prediction)."""
    y_true = np.asarray(y_true).astype(str)
    y_pred = np.asarray(y_pred).astype(str)
    metrics = binary_metrics(y_true, y_pred)
    binary_only = BINARY_FLAG in set(y_pred)
    if binary_only:  # a binary-only recipe (the paper's) names no artifact type
        metrics["type_accuracy"] = float("nan")
    present = [c for c in (*LABELS, BINARY_FLAG) if c in set(y_true) | set(y_pred)]
    index = {c: i for i, c in enumerate(present)}
    confusion = np.zeros((len(present), len(present)), dtype=int)
    for t, p in zip(y_true, y_pred):
        confusion[index[t], index[p]] += 1
    recall = {}
    for c in present:
        if c == CLEAN:
            continue
        truth = y_true == c
        if truth.any():
            recall[c] = float(np.mean(y_pred[truth] != CLEAN))  # flagged at all, whatever the type
    metrics["class_recall"] = recall
    metrics["confusion"] = {"labels": present, "matrix": confusion.tolist()}
    return metrics


BINARY_FLAG = "corrupted"  # the verdict of a recipe that says only corrupted-or-clean
RECIPES = ("ours", "paper")


def fit_recipe(recipe: str, ds: Dataset, progress: ProgressFn | None = None, **params):
    """Fit our ensemble (``ours``) or the study's configuration (``paper``, needs ``ds.P``)."""
    if recipe == "ours":
        return fit_ensemble(ds, progress=progress, **params)
    if recipe == "paper":
        from artifactscope.paper import PaperDetector

        if ds.P is None:
            raise ValueError("the paper recipe needs the study's features: build the dataset with with_paper=True")
        return PaperDetector(random_state=0).fit(ds.P, ds.y)
    raise ValueError(f"unknown recipe {recipe!r}; expected one of {RECIPES}")


def predict_recipe(recipe: str, model, ds: Dataset) -> np.ndarray:
    """Labels a fitted recipe gives the samples of `ds` (``corrupted`` for binary-only recipes)."""
    return model.predict(ds.P if recipe == "paper" else ds.X)


def leave_one_source_out(ds: Dataset, recipes: Sequence[str] = ("ours",), progress: ProgressFn | None = None,
                         **params) -> dict:
    """Train without each source in turn and test on it, for every recipe, on the same samples.

    Returns
    -------
    dict
        ``{"sources": {source: {recipe: metrics}}, "overall": {recipe: metrics}, "predictions": {recipe: labels}}``;
        overall figures pool the predictions of every fold (each sample predicted by the model that never saw its
        source), which ``predictions`` holds in `ds` order.
    """
    sources = game_sources(ds)  # hard negatives (ui) are always trained on, never a held-out game
    if len(sources) < 2:
        raise ValueError(f"leave-one-source-out needs at least two game sources, got {sources}")
    result: dict = {"sources": {}, "overall": {}, "predictions": {r: np.full(len(ds), "", dtype=object)
                                                                   for r in recipes}}
    for k, source in enumerate(sources):
        test = ds.groups == source
        result["sources"][source] = {}
        for recipe in recipes:
            if progress is not None:
                progress(f"{recipe}: without {source}", k, len(sources))
            model = fit_recipe(recipe, ds.subset(~test), **(params if recipe == "ours" else {}))
            pred = predict_recipe(recipe, model, ds.subset(test))
            result["sources"][source][recipe] = evaluate_predictions(ds.y[test], pred)
            result["predictions"][recipe][test] = pred
    tested = np.isin(ds.groups, sources)
    for recipe in recipes:
        result["overall"][recipe] = evaluate_predictions(ds.y[tested], result["predictions"][recipe][tested])
    return result


def format_recall_by_size(y: np.ndarray, pred: np.ndarray, area: np.ndarray) -> str:
    """Markdown table: per class, the share of samples flagged as corrupted (any artifact) in thirds of that
    class's samples sorted by `area` (the synthesis mask's share of the frame). Samples without a prediction
    (``""``, e.g. the hard negatives a leave-one-source-out never tests) or without an area are left out."""
    y, pred, area = np.asarray(y), np.asarray(pred).astype(str), np.asarray(area, dtype=np.float64)
    lines = ["| class | smallest third | middle third | largest third |", "|---|---:|---:|---:|"]
    for cls in ARTIFACT_NAMES:
        rows = np.flatnonzero((y == cls) & (pred != "") & np.isfinite(area))
        if len(rows) < 3:
            continue
        rows = rows[np.argsort(area[rows], kind="stable")]
        cells = [f"{np.mean(pred[part] != CLEAN):.2f} ({100 * area[part].min():.1f}-{100 * area[part].max():.1f}%)"
                 for part in np.array_split(rows, 3)]
        lines.append(f"| {cls} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_comparison(result: dict) -> str:
    """Leave-one-source-out figures as a Markdown table, recipes side by side, then per-class recall."""
    cols = [("accuracy", "binary acc"), ("precision", "precision"), ("recall", "recall"), ("fpr", "FPR clean"),
            ("type_accuracy", "type acc")]

    def cell(v):
        return f"{v:.3f}" if isinstance(v, float) and np.isfinite(v) else "n/a"

    lines = ["| held-out source | recipe | samples | " + " | ".join(c[1] for c in cols) + " |",
             "|---|---|---:|" + "---:|" * len(cols)]
    rows = [(s, r, m) for s, per in result["sources"].items() for r, m in per.items()]
    rows += [("**overall**", r, m) for r, m in result["overall"].items()]
    for source, recipe, m in rows:
        lines.append(f"| {source} | {recipe} | {m['n']} | " + " | ".join(cell(m[k]) for k, _ in cols) + " |")
    recipes = list(result["overall"])
    classes = sorted({c for m in result["overall"].values() for c in m["class_recall"]},
                     key=lambda c: LABELS.index(c))
    lines += ["", "| class recall (overall) | " + " | ".join(recipes) + " |", "|---|" + "---:|" * len(recipes)]
    for c in classes:
        lines.append(f"| {c} | " + " | ".join(cell(result["overall"][r]["class_recall"].get(c)) for r in recipes)
                     + " |")
    if "ours" in result["overall"]:
        lines += ["", "confusion of ours, all held-out sources pooled (rows: truth, columns: verdict):",
                  format_confusion(result["overall"]["ours"]["confusion"])]
    return "\n".join(lines)


#: Feature blocks every expert reads by default. Leaving out ``hog`` (its 210 per-cell values describe where the
#: content is, which is the game's, not the artifact's) changed no class's leave-one-source-out AUC by more than
#: 0.01 and makes each expert fit about three times faster (2026-12-03, 5 sources). ``tile_scores`` are the tile
#: stage's summaries (empty for a model without one); the raw ``tiles`` block is read by the stage only.
EXPERT_BLOCKS: tuple[str, ...] = ("dft", "laplacian", "color", "structure", "local", "swaps", "gate",
                                  "tile_scores")
DEFAULT_EXPERT_PARAMS: dict = {"*": {"blocks": EXPERT_BLOCKS}}


def fit_ensemble(ds: Dataset, progress: ProgressFn | None = None, experts: dict | None = None,
                 **params) -> ArtifactEnsemble:
    """Fit an :class:`ArtifactEnsemble` on a dataset, grouping out-of-fold predictions by source.

    ``expert_params`` defaults to :data:`DEFAULT_EXPERT_PARAMS`; other `params` go to the ensemble as given.
    `experts` (final experts already fitted on exactly this dataset) is passed to
    :meth:`ArtifactEnsemble.fit`.
    """
    if len(ds) == 0:
        raise ValueError("no training samples: give labelled folders or folders of clean frames")
    params.setdefault("expert_params", DEFAULT_EXPERT_PARAMS)
    ensemble = ArtifactEnsemble(**params)
    groups = fit_groups(ds, n_chunks=2 * int(ensemble.cv))
    return ensemble.fit(ds.X, ds.y, groups=groups, progress=progress, experts=experts,
                        fpr_groups=ds.groups if FPR_PER_SOURCE else None, tile_cover=ds.C)


def format_metrics(metrics: dict, title: str = "") -> str:
    """Metrics as readable text (for the CLI)."""
    lines = [title] if title else []
    keys = [("accuracy", "binary accuracy"), ("precision", "precision"), ("recall", "recall"),
            ("fpr", "false-positive rate (clean)"), ("type_accuracy", "artifact-type accuracy")]
    for key, name in keys:
        v = metrics.get(key)
        lines.append(f"  {name:<30} {v:.3f}" if isinstance(v, float) and np.isfinite(v) else f"  {name:<30} n/a")
    lines.append(f"  {'samples (clean)':<30} {metrics.get('n')} ({metrics.get('n_clean')})")
    if metrics.get("class_recall"):
        lines.append("  recall per class:")
        for c, v in metrics["class_recall"].items():
            lines.append(f"    {c:<26} {v:.3f}")
    if metrics.get("confusion"):
        lines.append("  confusion (rows: truth, columns: verdict):")
        lines.append(format_confusion(metrics["confusion"]))
    return "\n".join(lines)


def format_confusion(confusion: dict, indent: str = "    ") -> str:
    """A confusion matrix ``{"labels": [...], "matrix": [[...]]}`` as aligned text."""
    labels = confusion["labels"]
    lines = [indent + " " * 18 + " ".join(f"{lab[:6]:>6}" for lab in labels)]
    for lab, row in zip(labels, confusion["matrix"]):
        lines.append(f"{indent}{lab:<18}" + " ".join(f"{v:>6d}" for v in row))
    return "\n".join(lines)
