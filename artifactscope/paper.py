"""The ``paper`` recipe: the study's own configuration (Davarmanesh et al. 2020), as closely as our design allows.

It is the baseline artifactscope is compared with, trained and evaluated on the same data. Features
(:func:`paper_features`, one 1-D float32 vector per frame, blocks named by :func:`paper_blocks`):

``spectrum``
    Log-magnitude DFT spectrum of the whole grey frame (``log1p(|F| / sqrt(h*w))``, fftshift), resized to
    ``S x S`` with area averaging (S = ``PAPER_SPEC["spectrum_size"]`` = 128). The DFT is taken at the frame's
    own resolution (frames over 1920x1080 pixels are first shrunk to that area), so fine periodic patterns
    (1-px Morse columns) reach the spectrum before it is resized; the normalisation by ``sqrt(h*w)`` and the
    resize to a fixed grid of relative frequencies make it comparable across resolutions.
``hog``
    HOG of the grey frame resized to 480x270: 9 orientations, 10x10-pixel cells, 2x2-cell blocks (as in the
    study), L2-Hys: 26 x 47 blocks x 36 = 43,992 values.
``laplacian``
    The study's graph-Laplacian colour-anomaly measure (channels as the nodes of a graph weighted by
    ``exp(-(m_i - m_j)^2 / sigma^2)``, see :func:`artifactscope.features.laplacian.laplacian_anomaly_map`) on the
    frame resized to 960x540. For each score level: the area fraction above it, and the largest share of
    anomalous pixels in a horizontal band and in a vertical band one sixtieth of the frame across (line
    pixelation is a band of stripes); plus the mean score. 10 values.

:class:`PaperDetector` is the study's mixture of experts, binary only (the study named no artifact type):
per artifact class in the training labels one binary expert trained on that class against the clean frames --

* spectrum classes: PCA of the spectrum block + LogisticRegression, LinearDiscriminantAnalysis or SVC, the
  best per class by 3-fold cross-validation on the training data (as the study picked a model per class). One
  whitened PCA (64 components) is fitted per fold on all the fold's training frames and shared by the seven
  spectrum experts -- a deviation for speed: one PCA per class and fold costs 28 randomized PCAs of 16k columns;
* ``shader`` and ``screen_tearing``: L2 LogisticRegression (class-balanced) on the full 43,992-value HOG
  block, no reduction; solved exactly in the span of the training rows (see :class:`_RowSpaceLogistic`);
* ``line_pixelation``: a threshold rule on one Laplacian statistic (statistic and threshold learned);

and a LogisticRegression combiner on the experts' 0/1 outputs, trained on out-of-fold outputs (the same 3 folds,
stratified by label). Experts use ``class_weight="balanced"`` (LDA: equal priors) and are scored by balanced
accuracy, since clean frames outnumber each class in one-vs-clean training.

Memory: a sample is 16,384 + 43,992 + 10 = 60,386 float32 values (236 KB); 3,000 samples take 0.7 GB, and the
detector makes no dense copy of the HOG block larger than one expert's training subset. Measured on 2 cores
(busy machine): fit on 3,000 samples ~26 s with one BLAS thread; predict ~2 ms per row; paper_features
60-100 ms per 1080p frame. Multi-threaded OpenBLAS on a loaded machine made the same fit 5-25x slower: limit
BLAS to one thread (threadpoolctl) when timing or when running several jobs.
"""

from __future__ import annotations

import time
import warnings

import cv2
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted, validate_data

from artifactscope.artifacts import ARTIFACT_NAMES, CLEAN, LABELS

PAPER_SPEC: dict = {
    "version": 1,
    "spectrum_size": 128,           # S: the log spectrum is resized to S x S
    "spectrum_max_pixels": 1920 * 1080,  # larger frames are shrunk to this area before the DFT
    "hog_size": [480, 270],         # (width, height) of the grey frame HOG is computed on
    "hog_cell": [10, 10],
    "hog_block": [2, 2],            # cells per block, as in the study
    "hog_orientations": 9,
    "hog_block_norm": "L2-Hys",
    "laplacian_size": [960, 540],   # (width, height) the colour-anomaly map is computed at
    "laplacian_sigma": 0.1,         # channel-graph weighting exp(-(m_i - m_j)^2 / sigma^2)
    "laplacian_levels": [0.1, 0.25, 0.5],
    "laplacian_band": 1 / 60,       # band width (fraction of the frame) for the line statistics
}

SPECTRUM_CLASSES: tuple[str, ...] = (
    "morse_code", "dotted_line", "parallel_lines", "triangulation", "shape", "discoloration", "screen_stuttering",
)
HOG_CLASSES: tuple[str, ...] = ("shader", "screen_tearing")
LAPLACIAN_CLASSES: tuple[str, ...] = ("line_pixelation",)
SPECTRUM_MODELS: tuple[str, ...] = ("logistic", "lda", "svc")
CORRUPTED = "corrupted"


def _hog_length() -> int:
    (w, h), (cw, ch), (bw, bh) = PAPER_SPEC["hog_size"], PAPER_SPEC["hog_cell"], PAPER_SPEC["hog_block"]
    nx, ny = w // cw, h // ch
    return (nx - bw + 1) * (ny - bh + 1) * bw * bh * PAPER_SPEC["hog_orientations"]


_N_SPECTRUM = PAPER_SPEC["spectrum_size"] ** 2
_N_HOG = _hog_length()
_N_LAPLACIAN = 3 * len(PAPER_SPEC["laplacian_levels"]) + 1
N_FEATURES = _N_SPECTRUM + _N_HOG + _N_LAPLACIAN
LAPLACIAN_NAMES: tuple[str, ...] = (
    *(f"{stat}_{level}" for level in PAPER_SPEC["laplacian_levels"] for stat in ("frac", "row_band", "col_band")),
    "mean",
)


def paper_blocks() -> dict[str, slice]:
    """Column slices of the blocks ``spectrum``, ``hog`` and ``laplacian`` in a :func:`paper_features` vector."""
    return {
        "spectrum": slice(0, _N_SPECTRUM),
        "hog": slice(_N_SPECTRUM, _N_SPECTRUM + _N_HOG),
        "laplacian": slice(_N_SPECTRUM + _N_HOG, N_FEATURES),
    }


def _resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    shrink = img.shape[1] >= w and img.shape[0] >= h
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _spectrum(grey: np.ndarray) -> np.ndarray:
    h, w = grey.shape
    limit = PAPER_SPEC["spectrum_max_pixels"]
    if h * w > limit:
        f = np.sqrt(limit / (h * w))
        grey = cv2.resize(grey, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
        h, w = grey.shape
    spec = cv2.dft(grey.astype(np.float32), flags=cv2.DFT_COMPLEX_OUTPUT)
    mag = cv2.magnitude(spec[:, :, 0], spec[:, :, 1]) * np.float32(1.0 / np.sqrt(h * w))
    mag = np.fft.fftshift(np.log1p(mag))
    s = PAPER_SPEC["spectrum_size"]
    interp = cv2.INTER_AREA if (w >= s and h >= s) else cv2.INTER_LINEAR
    return cv2.resize(mag, (s, s), interpolation=interp).ravel()


def _hog(grey: np.ndarray) -> np.ndarray:
    from skimage.feature import hog

    small = _resize(grey, tuple(PAPER_SPEC["hog_size"]))
    return hog(small, orientations=PAPER_SPEC["hog_orientations"], pixels_per_cell=tuple(PAPER_SPEC["hog_cell"]),
               cells_per_block=tuple(PAPER_SPEC["hog_block"]), block_norm=PAPER_SPEC["hog_block_norm"],
               feature_vector=True)


def _laplacian(image: np.ndarray) -> np.ndarray:
    from artifactscope.features.laplacian import laplacian_anomaly_map

    w, h = PAPER_SPEC["laplacian_size"]
    score = laplacian_anomaly_map(_resize(image, (w, h)), sigma=PAPER_SPEC["laplacian_sigma"])
    band_h = max(1, int(round(h * PAPER_SPEC["laplacian_band"])))
    band_w = max(1, int(round(w * PAPER_SPEC["laplacian_band"])))
    out = []
    for level in PAPER_SPEC["laplacian_levels"]:
        mask = (score > level).astype(np.float32)
        rows = np.convolve(mask.mean(axis=1), np.ones(band_h) / band_h, mode="valid")
        cols = np.convolve(mask.mean(axis=0), np.ones(band_w) / band_w, mode="valid")
        out += [float(mask.mean()), float(rows.max()), float(cols.max())]
    out.append(float(score.mean()))
    return np.asarray(out, np.float32)


def paper_features(image: np.ndarray) -> np.ndarray:
    """The study's features of one frame.

    Parameters
    ----------
    image : numpy.ndarray
        RGB uint8 (H, W, 3) frame, any resolution (at least 2x2).

    Returns
    -------
    numpy.ndarray
        float32 vector of length ``N_FEATURES`` (60,386): spectrum, HOG, Laplacian statistics, in the column
        ranges of :func:`paper_blocks`.
    """
    from artifactscope.features._prepare import validate_image

    image = validate_image(image)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    out = np.empty(N_FEATURES, np.float32)
    blocks = paper_blocks()
    out[blocks["spectrum"]] = _spectrum(grey)
    out[blocks["hog"]] = _hog(grey)
    out[blocks["laplacian"]] = _laplacian(image)
    return out


# -- experts -----------------------------------------------------------------------------------------------
class _ThresholdRule:
    """Decision stump on one column: flag when ``x[:, column] > threshold`` (best balanced accuracy)."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> _ThresholdRule:
        best = (-1.0, 0, np.inf)
        pos, neg = y == 1, y == 0
        for j in range(X.shape[1]):
            v = X[:, j].astype(np.float64)
            cands = np.unique(v)
            if len(cands) > 256:
                cands = np.unique(np.quantile(v, np.linspace(0, 1, 257)))
            # threshold between consecutive candidate values; "> t"
            ts = np.concatenate([[cands[0] - 1.0], (cands[:-1] + cands[1:]) / 2]) if len(cands) > 1 else cands - 1.0
            flagged = v[:, None] > ts[None, :]
            tpr = flagged[pos].mean(axis=0) if pos.any() else np.zeros(len(ts))
            tnr = 1.0 - flagged[neg].mean(axis=0) if neg.any() else np.zeros(len(ts))
            bal = (tpr + tnr) / 2
            k = int(np.argmax(bal))
            if bal[k] > best[0] + 1e-12:
                best = (float(bal[k]), j, float(ts[k]))
        self.score_, self.column_, self.threshold_ = best
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (X[:, self.column_] > self.threshold_).astype(np.int64)


class _RowSpaceLogistic:
    """L2 logistic regression on wide data (HOG: 43,992 columns, a few thousand rows), solved exactly in the rows' span.

    The penalised optimum's weights lie in the span of the training rows (the loss gradient is a combination of
    them), so fitting ``LogisticRegression(C)`` on the coordinates ``Z = U * s`` of the rows in an orthonormal
    basis of that span (from the eigen-decomposition of the Gram matrix) gives the same model as fitting it on the
    full columns, with ``n`` instead of 43,992 parameters: scipy's L-BFGS-B costs ~0.15 s per iteration at 44k
    parameters, which made the two HOG experts most of the fit time.
    """

    def __init__(self, C: float, max_iter: int):
        self.C, self.max_iter = C, max_iter

    def fit(self, X: np.ndarray, y: np.ndarray) -> _RowSpaceLogistic:
        X = np.asarray(X, np.float32)
        gram = (X @ X.T).astype(np.float64)
        evals, evecs = np.linalg.eigh(gram)
        keep = evals > max(evals.max(), 1e-30) * 1e-9
        s = np.sqrt(evals[keep])
        u = evecs[:, keep]
        z = u * s  # coordinates of the rows in the basis V = X^T u / s
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter, class_weight="balanced").fit(z, y)
        self.coef_ = (X.T @ (u @ (lr.coef_.ravel() / s)).astype(np.float32)).astype(np.float32)  # V @ w_z
        self.intercept_ = float(lr.intercept_[0])
        self.n_iter_ = int(lr.n_iter_[0])
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, np.float32) @ self.coef_ + self.intercept_

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(np.int64)


def _expert_kind(artifact: str) -> str:
    if artifact in HOG_CLASSES:
        return "hog"
    if artifact in LAPLACIAN_CLASSES:
        return "laplacian"
    return "spectrum"


class PaperDetector(ClassifierMixin, BaseEstimator):
    """The study's mixture of experts (binary: ``clean`` / ``corrupted``).

    Parameters
    ----------
    spectrum_components : int
        PCA components of the spectrum block per spectrum expert (capped by the training subset's size).
    spectrum_models : tuple of str
        Candidate classifiers for the spectrum experts, chosen per class by cross-validation: any of
        ``"logistic"``, ``"lda"``, ``"svc"`` (RBF kernel).
    hog_C : float
        Inverse regularisation of the HOG logistic regressions.
    max_iter : int
        Solver iterations of the logistic regressions.
    cv : int
        Folds for the per-class model choice and for the combiner's out-of-fold expert outputs.
    random_state : int or None
        Seed of the folds, PCA and SVC.

    Attributes
    ----------
    classes_ : ndarray of str, ``["clean", "corrupted"]``
    artifacts_ : list of str
        Artifact classes with an expert, in ``ARTIFACT_NAMES`` order.
    experts_ : dict
        artifact -> fitted expert: a classifier on the PCA'd spectrum, a logistic regression on the HOG block, the
        Laplacian threshold rule, or ``("constant", 0 or 1)`` when its training data had a single class.
    spectrum_pca_ : PCA or None
        The spectrum PCA fitted on all training frames (None when no spectrum class was in y).
    expert_models_ : dict
        artifact -> ``"logistic"`` / ``"lda"`` / ``"svc"`` / ``"hog_logistic"`` / ``"laplacian_threshold"``.
    cv_scores_ : dict
        artifact -> {model: mean balanced accuracy over the folds} (out-of-fold, class vs clean).
    combiner_ : LogisticRegression
        Fitted on the experts' out-of-fold 0/1 outputs.
    fit_seconds_ : dict
        artifact -> seconds spent on its cross-validation and final fit.
    n_features_in_ : int
    """

    def __init__(self, spectrum_components: int = 64, spectrum_models: tuple[str, ...] = SPECTRUM_MODELS,
                 hog_C: float = 1.0, max_iter: int = 500, cv: int = 3, random_state: int | None = 0):
        self.spectrum_components = spectrum_components
        self.spectrum_models = spectrum_models
        self.hog_C = hog_C
        self.max_iter = max_iter
        self.cv = cv
        self.random_state = random_state

    # -- building blocks ---------------------------------------------------------------------------------
    def _candidates(self, artifact: str) -> dict:
        kind = _expert_kind(artifact)
        if kind == "hog":
            return {"hog_logistic": _RowSpaceLogistic(self.hog_C, self.max_iter)}
        if kind == "laplacian":
            return {"laplacian_threshold": _ThresholdRule()}
        out = {}
        for name in self.spectrum_models:
            if name == "logistic":
                out[name] = LogisticRegression(max_iter=self.max_iter, class_weight="balanced")
            elif name == "lda":
                out[name] = LinearDiscriminantAnalysis(priors=[0.5, 0.5])
            elif name == "svc":
                out[name] = SVC(kernel="rbf", class_weight="balanced", random_state=self.random_state)
            else:
                raise ValueError(f"spectrum_models: unknown model {name!r}; use any of {SPECTRUM_MODELS}")
        return out

    def _fit_pca(self, X: np.ndarray, rows: np.ndarray) -> PCA:
        n_comp = int(max(1, min(self.spectrum_components, len(rows) - 1, _N_SPECTRUM)))
        solver = "full" if len(rows) < 1000 else "randomized"  # randomized is slower on few rows
        pca = PCA(n_components=n_comp, whiten=True, svd_solver=solver, random_state=self.random_state)
        return pca.fit(X[rows, paper_blocks()["spectrum"]])

    @staticmethod
    def _block(X: np.ndarray, artifact: str, rows=None) -> np.ndarray:
        cols = paper_blocks()[_expert_kind(artifact)]
        return X[:, cols] if rows is None else X[rows, cols]

    @staticmethod
    def _fit_one(model, Xb: np.ndarray, yb: np.ndarray):
        if len(np.unique(yb)) < 2:  # a fold without positives or negatives: a constant expert
            return ("constant", int(yb[0]) if len(yb) else 0)
        if isinstance(model, _ThresholdRule):
            return _ThresholdRule().fit(Xb, yb)
        if isinstance(model, _RowSpaceLogistic):
            return _RowSpaceLogistic(model.C, model.max_iter).fit(Xb, yb)
        return clone(model).fit(Xb, yb)

    @staticmethod
    def _predict_one(model, Xb: np.ndarray) -> np.ndarray:
        if isinstance(model, tuple):
            return np.full(len(Xb), model[1], np.int64)
        return np.asarray(model.predict(Xb)).astype(np.int64)

    def _check_labels(self, y) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be a 1-D array of labels, got shape {y.shape}")
        y = y.astype(str)
        bad = sorted(set(y.tolist()) - set(LABELS))
        if bad:
            raise ValueError(f"unknown label(s) {bad[:5]}; PaperDetector expects 'clean' or an artifact name: "
                             f"{', '.join(LABELS)}")
        if CLEAN not in y:
            raise ValueError("PaperDetector needs clean frames: every expert is trained on its class vs 'clean'")
        if not (y != CLEAN).any():
            raise ValueError(f"PaperDetector needs corrupted frames of at least one artifact class "
                             f"({', '.join(ARTIFACT_NAMES)})")
        return y

    # -- estimator API -----------------------------------------------------------------------------------
    def fit(self, X, y):
        """Fit one expert per artifact class in y and the combiner; returns self.

        Parameters
        ----------
        X : array-like of shape (n_samples, N_FEATURES)
            Rows from :func:`paper_features`.
        y : array-like of str
            ``"clean"`` or artifact names.
        """
        y = self._check_labels(y)
        X = validate_data(self, X, dtype=np.float32, ensure_min_samples=2)
        if X.shape[1] != N_FEATURES:
            raise ValueError(f"X has {X.shape[1]} columns; PaperDetector needs paper_features rows ({N_FEATURES})")
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
        self.artifacts_ = [a for a in ARTIFACT_NAMES if a in set(y.tolist())]
        clean = y == CLEAN
        n_splits = int(self.cv)
        if n_splits < 2:
            raise ValueError(f"cv must be at least 2, got {self.cv}")
        counts = {lab: int(np.sum(y == lab)) for lab in np.unique(y)}
        n_splits = max(2, min(n_splits, max(counts.values())))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
            folds = list(StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=self.random_state)
                         .split(np.zeros(len(y)), y))

        # One PCA of the spectrum block per fold (on the fold's training frames) and one on all frames, shared
        # by the spectrum experts: fitting it per class and fold would cost 28 randomized PCAs of 16k columns.
        need_pca = any(_expert_kind(a) == "spectrum" for a in self.artifacts_)
        spec_cols = paper_blocks()["spectrum"]
        pcas = [self._fit_pca(X, rows) if need_pca else None for rows in [f[0] for f in folds] + [np.arange(len(y))]]
        reduced = [p.transform(X[:, spec_cols]).astype(np.float32) if p is not None else None for p in pcas]

        def block(artifact: str, which: int, rows) -> np.ndarray:
            if _expert_kind(artifact) == "spectrum":
                return reduced[which][rows]
            return X[rows, paper_blocks()[_expert_kind(artifact)]]

        oof = np.zeros((len(y), len(self.artifacts_)), np.int64)
        self.experts_, self.expert_models_, self.cv_scores_, self.fit_seconds_ = {}, {}, {}, {}
        for k, artifact in enumerate(self.artifacts_):
            start = time.perf_counter()
            member = clean | (y == artifact)
            target = (y == artifact).astype(np.int64)
            candidates = self._candidates(artifact)
            scores = {name: [] for name in candidates}
            fold_out = {name: np.zeros(len(y), np.int64) for name in candidates}
            for f, (train, test) in enumerate(folds):
                tr = train[member[train]]
                Xtr, Xte = block(artifact, f, tr), block(artifact, f, test)
                te_member = member[test]
                for name, model in candidates.items():
                    pred = self._predict_one(self._fit_one(model, Xtr, target[tr]), Xte)
                    fold_out[name][test] = pred
                    t, p = target[test][te_member], pred[te_member]
                    tpr = p[t == 1].mean() if (t == 1).any() else np.nan
                    tnr = 1 - p[t == 0].mean() if (t == 0).any() else np.nan
                    scores[name].append(np.nanmean([tpr, tnr]) if np.isfinite([tpr, tnr]).any() else np.nan)
            mean_scores = {name: float(np.nanmean(v)) if np.isfinite(v).any() else 0.0 for name, v in scores.items()}
            best = max(mean_scores, key=lambda n: (mean_scores[n], -list(candidates).index(n)))
            oof[:, k] = fold_out[best]
            rows = np.flatnonzero(member)
            expert = self._fit_one(candidates[best], block(artifact, len(folds), rows), target[rows])
            self.experts_[artifact] = expert
            self.cv_scores_[artifact] = mean_scores
            self.expert_models_[artifact] = best
            self.fit_seconds_[artifact] = time.perf_counter() - start
        self.spectrum_pca_ = pcas[-1]
        if need_pca:  # whitened projection as one float32 matrix: PCA.transform costs ~9 ms per call on one row
            p = self.spectrum_pca_
            self.spectrum_mean_ = p.mean_.astype(np.float32)
            self.spectrum_projection_ = (p.components_.T / np.sqrt(p.explained_variance_)).astype(np.float32)
        self.combiner_ = LogisticRegression(max_iter=1000, random_state=self.random_state).fit(oof, (~clean).astype(int))
        self.classes_ = np.array([CLEAN, CORRUPTED])
        return self

    def expert_outputs(self, X) -> np.ndarray:
        """The experts' 0/1 outputs, shape (n_samples, len(artifacts_)), columns in ``artifacts_`` order."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        reduced = None
        if self.spectrum_pca_ is not None:
            reduced = (X[:, paper_blocks()["spectrum"]] - self.spectrum_mean_) @ self.spectrum_projection_
        cols = []
        for a in self.artifacts_:
            kind = _expert_kind(a)
            cols.append(self._predict_one(self.experts_[a], reduced if kind == "spectrum" else self._block(X, a)))
        return np.column_stack(cols)

    def predict_proba(self, X) -> np.ndarray:
        """[P(clean), P(corrupted)] of each sample, shape (n_samples, 2)."""
        outputs = self.expert_outputs(X)  # checks fitting first
        return self.combiner_.predict_proba(outputs)

    def predict(self, X) -> np.ndarray:
        """``"clean"`` or ``"corrupted"`` for each sample."""
        proba = self.predict_proba(X)  # checks fitting before classes_ is touched
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
