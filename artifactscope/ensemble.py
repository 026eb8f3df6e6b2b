"""The mixture of experts: one ArtifactExpert per class, and a gated combiner that gives the verdict.

The combiner sees the experts' out-of-fold probabilities *and* the frame's content descriptors (the
``gate`` feature block: how much legitimate regular structure, text, grids or foliage the frame has), so
it learns how far to trust each expert on such content instead of taking a plain vote. It outputs a
probability for ``clean`` and for every artifact; the frame's corruption score is ``1 - P(clean)``, its
label the most probable artifact, and it is flagged when the score reaches that artifact's threshold.
Thresholds are chosen on out-of-fold predictions, grouped by source when sources are given, so that they
are set on frames of sources the experts were not trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from artifactscope.artifacts import ARTIFACT_NAMES, CLEAN
from artifactscope.experts import ArtifactExpert, block_columns

COMBINERS = ("max", "hgb", "logreg")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Verdicts:
    """Decisions for a batch of frames (plain arrays, one entry per frame)."""

    labels: np.ndarray  # str: "clean" or the most likely artifact when flagged
    best_artifact: np.ndarray  # str: the most likely artifact, flagged or not
    corrupted: np.ndarray  # bool
    score: np.ndarray  # float: P(corrupted) = 1 - P(clean)
    proba: np.ndarray  # (n, n_classes) in ``classes_`` order


class MaxCombiner(ClassifierMixin, BaseEstimator):
    """The most confident expert decides: P(clean) = 1 - max_j p_j, the rest shared in proportion to p_j².

    A combiner with nothing to learn but the class list. Measured on sources left out of training it beat
    the learned combiners (a gated gradient-boosting model, logistic regression): those learn how the
    experts behave on the training games, which is not how they behave on a new one, while the per-class
    thresholds on the experts' own out-of-fold outputs carry over. Input columns: the experts' log-odds in
    ``artifacts`` order, then any gate descriptors (ignored).

    Parameters
    ----------
    artifacts : tuple of str
        The artifact of each leading log-odds column, in column order.

    Attributes
    ----------
    classes_ : ndarray of str
        ``clean`` then `artifacts`, the order of :meth:`predict_proba`'s columns.
    """

    def __init__(self, artifacts: tuple[str, ...] = ()):
        self.artifacts = artifacts

    def fit(self, Z, y=None, sample_weight=None):
        """Check the input width and store the classes; returns self (y and weights are not needed)."""
        Z = np.asarray(Z, dtype=float)
        n = len(self.artifacts)
        if n == 0:
            raise ValueError("MaxCombiner needs the artifact of each expert column: pass artifacts=(...)")
        if Z.ndim != 2 or Z.shape[1] < n:
            raise ValueError(f"Z must have at least {n} columns (one per artifact), got shape {Z.shape}")
        self.classes_ = np.array([CLEAN, *self.artifacts])
        self.n_features_in_ = Z.shape[1]
        return self

    def predict_proba(self, Z) -> np.ndarray:
        """Class probabilities, shape (n_samples, 1 + len(artifacts)), rows summing to 1."""
        check_is_fitted(self)
        Z = np.asarray(Z, dtype=float)
        p = 1.0 / (1.0 + np.exp(-Z[:, : len(self.artifacts)]))
        top = p.max(axis=1, keepdims=True)
        # Shares by squared probability: the deciding expert keeps nearly all of the corrupted mass when the
        # others are unsure (0.9999 vs 0.015: its class shows 0.9996, not 0.97 beside a frame score of 1.00),
        # while two confident experts still split it.
        weight = p * p
        share = weight / np.maximum(weight.sum(axis=1, keepdims=True), 1e-12)
        return np.hstack([1.0 - top, top * share])


class ArtifactEnsemble(ClassifierMixin, BaseEstimator):
    """Experts per artifact class plus a gated combiner.

    Parameters
    ----------
    expert_params : mapping of str to dict, optional
        Per-artifact overrides of :class:`ArtifactExpert` parameters, e.g. ``{"shader": {"blocks": ("hog",)}}``;
        the key ``"*"`` applies to every expert.
    combiner : {"max", "hgb", "logreg"}
        ``max``: the most confident expert decides (:class:`MaxCombiner`, nothing learned); ``hgb`` / ``logreg``:
        a gradient-boosting / logistic model over [expert log-odds, gate descriptors] (the gated mixture).
    gate_blocks : tuple of str or None
        Feature blocks the combiner sees besides the experts' outputs; None or () for none.
    cv : int
        Folds for the out-of-fold expert outputs that train the combiner and set thresholds. With groups, at most
        one fold per source: the default (5) is leave-one-source-out for up to five sources, so that the
        thresholds are set on outputs of experts that saw all but one game, as the final model will face a new one.
    target_fpr : float
        False-positive rate on clean frames that the thresholds aim for (on out-of-fold predictions).
    min_threshold : float
        Lowest threshold any class may get: the margin of the classes whose experts never scored a clean
        training frame high. Out-of-fold scores come from games the training set holds; a new game's clean
        frames score higher, and a class left at an even 0.5 takes its false alarms first. Measured on the
        leave-one-source-out folds (thresholds re-chosen on the same fold models): 0.5 -> 0.7 cut the false
        alarms 0.022 -> 0.017 (Godot's 0.062 -> 0.042) for recall 0.371 -> 0.364.
    balance_clean : bool
        Weight the combiner's training samples so that clean and corrupted frames count equally: synthesised
        training data holds several corrupted variants per clean frame, and that prior would otherwise push
        every ambiguous clean frame towards "corrupted".
    tiles : bool
        Learn a tile stage (:class:`artifactscope.tiles.TileStage`) when :meth:`fit` gets full feature vectors
        and the synthesis masks' tile coverage: its summaries become the experts' ``tile_scores`` block.
    tile_params : dict, optional
        Parameters of the :class:`~artifactscope.tiles.TileStage`.
    n_jobs : int or None
        Processes fitting experts in parallel (joblib; each process gets an equal share of the cores'
        threads, which avoids the oversubscription of several multi-threaded fits on few cores).
    random_state : int or None

    Attributes
    ----------
    classes_ : ndarray of str
        ``clean`` first, then the artifacts present in the training labels.
    artifacts_ : list of str
    experts_ : dict of str to ArtifactExpert
    tile_stage_ : TileStage or None
        The tile stage whose summaries complete a full feature vector into the experts' input (see
        :meth:`model_input`); None when the experts read the frame blocks only.
    combiner_ : estimator
    thresholds_ : dict of str to float
    oof_metrics_ : dict
        Out-of-fold figures measured while fitting (binary accuracy, fpr, ...).
    oof_expert_proba_ : ndarray of shape (n_samples, n_artifacts)
        Out-of-fold expert probabilities (the combiner's training input).
    oof_proba_ : ndarray of shape (n_samples, n_classes)
        Out-of-fold combiner probabilities (what the thresholds were chosen on).
    oof_tile_scores_ : ndarray of shape (n_samples, n_tile_scores) or None
        The out-of-fold tile-stage summaries the experts were trained on when :meth:`fit` learned the stage
        (None otherwise): the training rows' model inputs are ``[frame blocks, oof_tile_scores_]``.
    """

    def __init__(
        self,
        expert_params: Mapping[str, dict] | None = None,
        combiner: str = "max",
        gate_blocks: tuple[str, ...] | None = ("gate",),
        cv: int = 5,
        target_fpr: float = 0.02,
        min_threshold: float = 0.7,
        balance_clean: bool = True,
        tiles: bool = True,
        tile_params: dict | None = None,
        n_jobs: int | None = None,
        random_state: int | None = 0,
    ):
        self.expert_params = expert_params
        self.combiner = combiner
        self.gate_blocks = gate_blocks
        self.cv = cv
        self.target_fpr = target_fpr
        self.min_threshold = min_threshold
        self.balance_clean = balance_clean
        self.tiles = tiles
        self.tile_params = tile_params
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- construction ---------------------------------------------------------------------------------
    def _make_expert(self, artifact: str) -> ArtifactExpert:
        params = dict((self.expert_params or {}).get("*", {}))
        params.update((self.expert_params or {}).get(artifact, {}))
        params.setdefault("random_state", self.random_state)
        return ArtifactExpert(artifact=artifact, **params)

    def _make_combiner(self):
        if self.combiner == "max":
            return MaxCombiner(artifacts=tuple(self.artifacts_))
        if self.combiner == "hgb":
            return HistGradientBoostingClassifier(
                max_iter=150, learning_rate=0.1, max_leaf_nodes=15, l2_regularization=1.0,
                early_stopping=False, random_state=self.random_state,
            )
        if self.combiner == "logreg":
            return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
        raise ValueError(f"combiner={self.combiner!r} is not supported; use one of {COMBINERS}")

    def _splits(self, y: np.ndarray, groups: np.ndarray | None):
        if groups is not None and len(np.unique(groups)) >= 2:
            n = min(self.cv, len(np.unique(groups)))
            return list(GroupKFold(n_splits=n).split(y, y, groups))
        n = max(2, min(self.cv, int(np.min(np.unique(y, return_counts=True)[1]))))
        return list(StratifiedKFold(n_splits=n, shuffle=True, random_state=self.random_state).split(y, y))

    def _gate(self, X: np.ndarray) -> np.ndarray:
        if not self.gate_blocks:
            return np.empty((X.shape[0], 0))
        return X[:, block_columns(self.gate_blocks, X.shape[1])]

    # -- fitting --------------------------------------------------------------------------------------
    def fit(self, X, y, groups=None, progress: Progress | None = None, experts: dict | None = None,
            fpr_groups=None, tile_cover=None, tile_stage=None, group_fpr: Mapping[str, float] | None = None):
        """Fit experts, combiner and thresholds.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Feature vectors from :func:`artifactscope.features.extract`, or model inputs (frame blocks plus
            tile scores, see :meth:`model_input`) of `tile_stage`.
        y : array of str
            ``clean`` or an artifact name per sample.
        groups : array, optional
            Source (game, engine) of each sample: out-of-fold predictions then never see their own source.
        progress : callable(stage, done, total), optional
        experts : dict of str to fitted ArtifactExpert, optional
            Final experts already fitted on exactly this X and y (e.g. from a saved bundle): only the
            out-of-fold experts and the combiner are fitted.
        fpr_groups : array, optional
            Source of each sample for the false-alarm budget: when given, the thresholds keep *every* source's
            out-of-fold false-positive rate within ``target_fpr`` (not only the pooled rate, which lets one
            game take all the false alarms); sources with too few clean samples to allow one false alarm count
            in the pooled budget only. ``groups`` may be finer (chunks of a source).
        group_fpr : mapping of str to float, optional
            False-positive-rate targets for some of the `fpr_groups`, replacing ``target_fpr`` for them. Such a
            group keeps its budget even where it allows no false alarm at all: a retrain for one game uses it so
            that the model does not start flagging the games it already knew.
        tile_cover : array of shape (n_samples, N_TILES), optional
            Share of each tile covered by the sample's synthesis mask (NaN where unknown): with full feature
            vectors and ``tiles=True``, a tile stage is learned from it, and the experts train on its
            out-of-fold summaries (grouped like the experts' out-of-fold outputs).
        tile_stage : TileStage, optional
            A fitted tile stage to keep as it is (a retrain of a model that has one): full feature vectors are
            summarised by it; model inputs are taken as they are.

        Returns
        -------
        self
        """
        y_arr = np.asarray(y).astype(str)
        groups = None if groups is None else np.asarray(groups)
        X = self._fit_tile_stage(X, y_arr, groups, tile_cover, tile_stage, progress)
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=4)
        y = np.asarray(y).astype(str)
        present = set(np.unique(y))
        if CLEAN not in present:
            raise ValueError(f"training labels contain no {CLEAN!r} samples; the combiner needs clean frames")
        unknown = present - {CLEAN, *ARTIFACT_NAMES}
        if unknown:
            raise ValueError(f"unknown label(s) {sorted(unknown)}; expected {CLEAN!r} or one of {ARTIFACT_NAMES}")
        self.artifacts_ = [a for a in ARTIFACT_NAMES if a in present]
        if not self.artifacts_:
            raise ValueError("training labels contain no artifact class; give corrupted samples too")
        self.classes_ = np.array([CLEAN, *self.artifacts_])

        splits = self._splits(y, groups)
        total = len(self.artifacts_) * (len(splits) + 1) + 1
        done = 0

        def step(stage: str):
            nonlocal done
            done += 1
            if progress is not None:
                progress(stage, done, total)

        # Out-of-fold expert outputs: the combiner must learn from outputs on frames the experts never saw.
        # Every (fold, artifact) fit and every final fit is an independent task, run across processes.
        from joblib import Parallel, delayed

        X32 = np.ascontiguousarray(X, dtype=np.float32)  # half the memory shipped to workers; trees bin anyway
        tasks, slots = [], []
        for k, (train, test) in enumerate(splits):
            for j, artifact in enumerate(self.artifacts_):
                tasks.append(delayed(_fit_expert)(self._make_expert(artifact), X32, y == artifact, train, test))
                slots.append((k, j, artifact))
        self.experts_ = dict(experts) if experts else {}
        for j, artifact in enumerate(self.artifacts_):
            if artifact in self.experts_:
                step(f"expert {artifact} (given)")
                continue
            tasks.append(delayed(_fit_expert)(self._make_expert(artifact), X32, y == artifact, None, None))
            slots.append((None, j, artifact))
        oof = np.zeros((len(y), len(self.artifacts_)))
        results = Parallel(n_jobs=self.n_jobs, return_as="generator")(tasks)
        for (k, j, artifact), (expert, proba) in zip(slots, results):
            if k is None:
                self.experts_[artifact] = expert
                step(f"expert {artifact}")
            else:
                oof[splits[k][1], j] = proba
                step(f"expert {artifact} (fold {k + 1})")

        self.oof_expert_proba_ = oof
        self._fit_combiner(X, y, oof, splits, fpr_groups, group_fpr)
        step("combiner")
        return self

    def _fit_tile_stage(self, X, y, groups, tile_cover, tile_stage, progress) -> np.ndarray:
        """Set ``tile_stage_`` and return the experts' input for X (see :meth:`fit`)."""
        X = np.asarray(X)
        self.tile_stage_ = tile_stage
        self.oof_tile_scores_ = None  # set below only when this fit learns the stage
        if X.ndim != 2 or X.shape[1] != _full_width():
            return X  # model inputs already, or data not made by artifactscope.features
        if tile_stage is None and self.tiles and tile_cover is not None:
            from artifactscope.tiles import TileStage, cross_fit_transform

            cover = np.asarray(tile_cover, dtype=np.float32)
            if progress is not None:
                progress("tile stage", 0, 1)
            self.oof_tile_scores_, self.tile_stage_ = cross_fit_transform(
                TileStage(**{"random_state": self.random_state, **(self.tile_params or {})}),
                X[:, _tiles_start():], cover, y, self._splits(y, groups))
            if progress is not None:
                progress("tile stage", 1, 1)
            return np.hstack([X[:, :_tiles_start()], self.oof_tile_scores_])
        return self.model_input(X)

    def model_input(self, X) -> np.ndarray:
        """What the experts read: full feature vectors with the raw ``tiles`` block replaced by the tile stage's
        summaries (dropped without a stage); any other width (model inputs already) is returned as it is."""
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != _full_width():
            return X
        frame = X[:, :_tiles_start()]
        if getattr(self, "tile_stage_", None) is None:
            return frame
        return np.hstack([frame, self.tile_stage_.transform(X[:, _tiles_start():])])

    def refit_combiner(self, X, y, oof_expert_proba, groups=None, fpr_groups=None, group_fpr=None):
        """Fit only the combiner and thresholds, on given out-of-fold expert outputs (experts kept as they are).

        For trying combiner settings without refitting the experts: ``oof_expert_proba`` is the
        ``oof_expert_proba_`` of an earlier :meth:`fit` on the same X, y and groups.
        """
        check_is_fitted(self)
        X = validate_data(self, self.model_input(X), dtype=np.float64, reset=False)
        y = np.asarray(y).astype(str)
        splits = self._splits(y, None if groups is None else np.asarray(groups))
        self.oof_expert_proba_ = np.asarray(oof_expert_proba, dtype=float)
        self._fit_combiner(X, y, self.oof_expert_proba_, splits, fpr_groups, group_fpr)
        return self

    def _combiner_weights(self, y: np.ndarray) -> np.ndarray | None:
        if not self.balance_clean:
            return None
        clean = y == CLEAN
        w = np.ones(len(y))
        if clean.any() and (~clean).any():
            w[clean] = (~clean).sum() / clean.sum()
        return w

    def _fit_combiner_model(self, Z, y):
        comb = clone(self._make_combiner())
        weights = self._combiner_weights(y)
        if weights is None:
            return comb.fit(Z, y)
        if self.combiner == "logreg":
            return comb.fit(Z, y, logisticregression__sample_weight=weights)
        if self.combiner == "max":
            return comb.fit(Z, y)
        return comb.fit(Z, y, sample_weight=weights)

    def _fit_combiner(self, X, y, oof, splits, fpr_groups=None, group_fpr=None) -> None:
        Z = np.hstack([_logit(oof), self._gate(X)])
        # Out-of-fold combiner outputs set the thresholds on frames neither stage was trained on.
        oof_proba = np.zeros((len(y), len(self.classes_)))
        for train, test in splits:
            comb = self._fit_combiner_model(Z[train], y[train])
            oof_proba[test] = self._align(comb, comb.predict_proba(Z[test]))
        self.combiner_ = self._fit_combiner_model(Z, y)
        self.oof_proba_ = oof_proba
        self.thresholds_ = self._choose_thresholds(oof_proba, y, fpr_groups, group_fpr)
        self.oof_metrics_ = binary_metrics(y, self.decide(oof_proba).labels)

    def _align(self, comb, proba: np.ndarray) -> np.ndarray:
        """Columns of a combiner's predict_proba reordered to ``classes_`` (absent classes get 0)."""
        out = np.zeros((proba.shape[0], len(self.classes_)))
        index = {c: i for i, c in enumerate(self.classes_)}
        for k, c in enumerate(comb.classes_):
            out[:, index[str(c)]] = proba[:, k]
        return out

    def _choose_thresholds(self, proba: np.ndarray, y: np.ndarray, fpr_groups=None,
                           group_fpr: Mapping[str, float] | None = None) -> dict[str, float]:
        """Per-artifact thresholds meeting ``target_fpr`` on clean frames at the least cost in detections.

        Start every class at ``min_threshold``; while too many clean frames are flagged (pooled, or in any one
        of `fpr_groups`, whose targets `group_fpr` may set apart), raise the threshold of the class where
        removing the next false alarm (of a group over its budget) loses the fewest correctly flagged frames.
        """
        group_fpr = dict(group_fpr or {})
        thresholds = {a: float(self.min_threshold) for a in self.artifacts_}
        score = 1.0 - proba[:, 0]
        best = np.asarray(self.artifacts_)[np.argmax(proba[:, 1:], axis=1)]
        clean = y == CLEAN
        budgets = [(clean, int(np.floor(self.target_fpr * clean.sum() + 1e-9)))]
        if fpr_groups is not None:
            fpr_groups = np.asarray(fpr_groups)
            for g in np.unique(fpr_groups[clean]):
                rows = clean & (fpr_groups == g)
                allowed = int(np.floor(group_fpr.get(str(g), self.target_fpr) * rows.sum() + 1e-9))
                # A source too small to allow even one false alarm (a handful of labelled samples) would force
                # every threshold above its worst frame: its false alarms count in the pooled budget only,
                # unless its target was set apart on purpose.
                if allowed >= 1 or str(g) in group_fpr:
                    budgets.append((rows, allowed))
        for _ in range(clean.sum() + 1):
            t = np.array([thresholds[a] for a in best])
            false_alarm = clean & (score >= t)
            over = np.zeros(len(y), bool)
            for rows, allowed in budgets:
                if np.count_nonzero(false_alarm & rows) > allowed:
                    over |= rows
            if not over.any():
                break
            best_cost, choice = None, None
            for a in self.artifacts_:
                fa = false_alarm & over & (best == a)
                if not fa.any():
                    continue
                # Towards +inf, not 1.0: a false alarm scored exactly 1.0 must still be removable (the class
                # then never fires, which is the honest answer for an expert that is sure on clean frames).
                new_t = float(np.nextafter(np.min(score[fa]), np.inf))
                lost = int(np.sum(~clean & (best == a) & (score >= thresholds[a]) & (score < new_t)))
                removed = int(np.sum(fa & (score < new_t)))
                cost = lost / removed
                if best_cost is None or cost < best_cost:
                    best_cost, choice = cost, (a, new_t)
            thresholds[choice[0]] = choice[1]
        # Round up so that a rounded threshold still excludes the false alarm it was raised above.
        return {a: float(np.ceil(v * 1e6) / 1e6) for a, v in thresholds.items()}

    # -- prediction -----------------------------------------------------------------------------------
    def expert_proba(self, X) -> np.ndarray:
        """Each expert's probability of its artifact, shape (n_samples, n_artifacts)."""
        check_is_fitted(self)
        return self._expert_proba(validate_data(self, self.model_input(X), dtype=np.float64, reset=False))

    def _expert_proba(self, X: np.ndarray) -> np.ndarray:
        """:meth:`expert_proba` of validated model inputs."""
        return np.column_stack([self.experts_[a].predict_proba(X)[:, 1] for a in self.artifacts_])

    def predict_proba(self, X) -> np.ndarray:
        """Probability of ``clean`` and of each artifact, shape (n_samples, n_classes), ``classes_`` order."""
        check_is_fitted(self)
        X = validate_data(self, self.model_input(X), dtype=np.float64, reset=False)
        Z = np.hstack([_logit(self._expert_proba(X)), self._gate(X)])
        return self._align(self.combiner_, self.combiner_.predict_proba(Z))

    def decide(self, proba: np.ndarray, threshold: float | None = None) -> Verdicts:
        """Turn class probabilities into verdicts.

        Parameters
        ----------
        proba : array of shape (n, n_classes)
            Output of :meth:`predict_proba`.
        threshold : float, optional
            One threshold for every class instead of the learned per-class ``thresholds_``.
        """
        check_is_fitted(self)
        proba = np.asarray(proba, dtype=float)
        score = 1.0 - proba[:, 0]
        best = np.asarray(self.artifacts_)[np.argmax(proba[:, 1:], axis=1)]
        if threshold is None:
            t = np.array([self.thresholds_[a] for a in best])
        else:
            t = np.full(len(best), float(threshold))
        corrupted = score >= t
        labels = np.where(corrupted, best, CLEAN)
        return Verdicts(labels=labels, best_artifact=best, corrupted=corrupted, score=score, proba=proba)

    def predict(self, X) -> np.ndarray:
        """``clean`` or the detected artifact for each sample, using the per-class thresholds."""
        return self.decide(self.predict_proba(X)).labels


def _full_width() -> int:
    from artifactscope import features

    return features.n_features()


def _tiles_start() -> int:
    from artifactscope import features

    return features.block_slices()["tiles"].start


def _fit_expert(expert: ArtifactExpert, X: np.ndarray, positive: np.ndarray, train, test):
    """Fit one expert on rows `train` (all rows when None); return it and its probabilities on rows `test`."""
    rows = slice(None) if train is None else train
    target = positive[rows].astype(int)
    if target.min() == target.max():  # class absent from this fold's training part: a constant answer
        return None, np.full(0 if test is None else len(test), float(target[0]))
    expert.fit(X[rows], target)
    return expert, None if test is None else expert.predict_proba(X[test])[:, 1]


def _logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of expert probabilities: a linear combiner adds evidence in this space."""
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def binary_metrics(y_true, y_pred) -> dict[str, float]:
    """Binary (corrupted vs clean) and artifact-type figures for label arrays.

    Returns
    -------
    dict
        ``accuracy`` (binary), ``precision``, ``recall``, ``fpr`` (on clean frames), ``type_accuracy`` (share
        of truly corrupted frames that were flagged with the right artifact), ``n``, ``n_clean``.
    """
    y_true = np.asarray(y_true).astype(str)
    y_pred = np.asarray(y_pred).astype(str)
    truth = y_true != CLEAN
    flagged = y_pred != CLEAN
    tp = int(np.sum(truth & flagged))
    fp = int(np.sum(~truth & flagged))
    fn = int(np.sum(truth & ~flagged))
    n_clean = int(np.sum(~truth))
    return {
        "n": int(len(y_true)),
        "n_clean": n_clean,
        "accuracy": float(np.mean(truth == flagged)) if len(y_true) else float("nan"),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "fpr": fp / n_clean if n_clean else float("nan"),
        "type_accuracy": float(np.mean(y_pred[truth] == y_true[truth])) if truth.any() else float("nan"),
    }
