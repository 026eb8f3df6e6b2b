"""The tile stage: learned per-tile detectors for artifacts that cover a few tiles of the frame.

Shader polygons, fans of thin dark spikes and discoloured patches are local: frame-wide features average them
away in the game's content (leave-one-source-out recall 0.03-0.20 with frame features alone). Every synthetic
training sample comes with a pixel mask, so each tile of the ``tiles`` feature block
(:mod:`artifactscope.features.tiles`, a 16x9 grid) has a label: corrupted where the mask covers enough of it.
:class:`TileStage` learns one gradient-boosting classifier per class on the tiles' descriptors plus their
*context* (the tile minus its neighbours, and minus the frame's median tile: a frame is its own reference, which
carries over between games), and summarises a frame's tile probabilities in a few values per class
(:data:`SUMMARIES`) that the experts read as the ``tile_scores`` block.

The stage is fitted inside :meth:`artifactscope.ensemble.ArtifactEnsemble.fit`; the experts' training rows get
*out-of-fold* summaries (:func:`cross_fit_transform`), from stages that never saw their source, as the final
stage's summaries of a new game will be.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_is_fitted

from artifactscope.artifacts import ARTIFACT_NAMES
from artifactscope.features.tiles import GRID, N_TILE_VALUES, N_TILES

#: Classes with a tile detector: the local artifacts that frame-wide features miss.
TILE_CLASSES: tuple[str, ...] = ("shader", "shape", "discoloration")
#: Share of a tile the mask must cover for the tile to count as corrupted. Shape's spikes are thin: a spike
#: crossing a tile covers a few percent of it.
POSITIVE_COVER: dict[str, float] = {"shape": 0.03}
DEFAULT_POSITIVE_COVER = 0.2
#: Per class and frame: highest tile probability, mean of the top three, share of tiles above 0.5, and the
#: largest 4-connected group of such tiles (as a share of all tiles): one corrupted object covers neighbours.
SUMMARIES: tuple[str, ...] = ("max", "top3", "hot", "blob")
HOT = 0.5
_CHUNK = 512  # frames per batch in transform (the context triples the tile values)


def tile_context(T: np.ndarray) -> np.ndarray:
    """Tile descriptors with their context, shape (n_frames, N_TILES, 3 * N_TILE_VALUES).

    Parameters
    ----------
    T : numpy.ndarray
        (n_frames, N_TILES * N_TILE_VALUES) raw ``tiles`` blocks.

    Returns
    -------
    numpy.ndarray
        float32: each tile's values, the values minus the mean of its (up to 8) neighbours, and minus the
        frame's median tile.
    """
    T = np.asarray(T, dtype=np.float32)
    if T.ndim != 2 or T.shape[1] != N_TILES * N_TILE_VALUES:
        raise ValueError(f"T must have shape (n_frames, {N_TILES * N_TILE_VALUES}) (the raw tiles block), "
                         f"got {T.shape}")
    cols, rows = GRID
    grid = T.reshape(len(T), rows, cols, N_TILE_VALUES)
    out = np.empty((len(T), rows, cols, 3 * N_TILE_VALUES), np.float32)
    ones = np.ones((rows, cols), np.float32)
    count = cv2.boxFilter(ones, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT) - 1
    for i, g in enumerate(grid):
        box = cv2.boxFilter(g, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
        out[i, ..., :N_TILE_VALUES] = g
        out[i, ..., N_TILE_VALUES:2 * N_TILE_VALUES] = g - (box - g) / count[..., None]
        out[i, ..., 2 * N_TILE_VALUES:] = g - np.median(g.reshape(-1, N_TILE_VALUES), axis=0)
    return out.reshape(len(T), N_TILES, 3 * N_TILE_VALUES)


def _largest_blob(hot: np.ndarray) -> float:
    """Largest 4-connected group of True tiles in a (rows, columns) grid, as a share of all tiles."""
    if not hot.any():
        return 0.0
    _, labels = cv2.connectedComponents(hot.astype(np.uint8), connectivity=4)
    return float(np.bincount(labels.ravel())[1:].max()) / hot.size


def summarise(proba: np.ndarray) -> np.ndarray:
    """Frame summaries of tile probabilities: (n_frames, N_TILES, k) -> (n_frames, k * len(SUMMARIES)).

    Values per class in :data:`SUMMARIES` order, classes in the order of the last axis.
    """
    n, _, k = proba.shape
    ordered = np.sort(proba, axis=1)
    hot = proba > HOT
    cols, rows = GRID
    out = np.empty((n, k, len(SUMMARIES)), np.float32)
    out[..., 0] = ordered[:, -1]
    out[..., 1] = ordered[:, -3:].mean(axis=1)
    out[..., 2] = hot.mean(axis=1)
    for i in range(n):
        for j in range(k):
            out[i, j, 3] = _largest_blob(hot[i, :, j].reshape(rows, cols))
    return out.reshape(n, -1)


class TileStage(BaseEstimator):
    """One gradient-boosting tile classifier per local artifact class, and frame summaries of its outputs.

    Parameters
    ----------
    classes : tuple of str
        Artifact classes to learn tile detectors for (those absent from the training labels are skipped).
    max_iter, learning_rate, max_leaf_nodes : int, float, int
        Of each :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
    max_positive : int
        At most this many corrupted tiles per class (a random subset), which bounds the fitting time.
    negatives_per_frame : int
        Clean tiles drawn from each training frame (of every label; tiles the mask touches are never negatives).
    random_state : int or None

    Attributes
    ----------
    classes_ : list of str
        Classes with a fitted tile detector, in summary order.
    estimators_ : dict of str to HistGradientBoostingClassifier
    n_tiles_ : dict of str to (int, int)
        Corrupted and clean tiles each detector was trained on.
    """

    def __init__(self, classes: Sequence[str] = TILE_CLASSES, max_iter: int = 150, learning_rate: float = 0.1,
                 max_leaf_nodes: int = 31, max_positive: int = 8000, negatives_per_frame: int = 8,
                 random_state: int | None = 0):
        self.classes = classes
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.max_positive = max_positive
        self.negatives_per_frame = negatives_per_frame
        self.random_state = random_state

    def _rows(self, cover: np.ndarray, y: np.ndarray, cls: str, rng: np.random.Generator):
        """(frame, tile) indices and 0/1 targets of the training tiles for one class."""
        threshold = POSITIVE_COVER.get(cls, DEFAULT_POSITIVE_COVER)
        known = np.isfinite(cover).all(axis=1)
        pos_f, pos_t = np.nonzero((cover >= threshold) & (y == cls)[:, None] & known[:, None])
        if len(pos_f) > self.max_positive:
            keep = rng.choice(len(pos_f), self.max_positive, replace=False)
            pos_f, pos_t = pos_f[keep], pos_t[keep]
        neg_f, neg_t = [], []
        for i in np.flatnonzero(known):
            free = np.flatnonzero(cover[i] == 0)
            if len(free):
                pick = rng.choice(free, min(self.negatives_per_frame, len(free)), replace=False)
                neg_f.append(np.full(len(pick), i))
                neg_t.append(pick)
        neg_f = np.concatenate(neg_f) if neg_f else np.zeros(0, int)
        neg_t = np.concatenate(neg_t) if neg_t else np.zeros(0, int)
        frames = np.concatenate([pos_f, neg_f])
        tiles = np.concatenate([pos_t, neg_t])
        return frames, tiles, np.r_[np.ones(len(pos_f)), np.zeros(len(neg_f))]

    def fit(self, T, cover, y):
        """Fit the tile detectors.

        Parameters
        ----------
        T : array of shape (n_frames, N_TILES * N_TILE_VALUES)
            Raw ``tiles`` blocks of the training frames.
        cover : array of shape (n_frames, N_TILES)
            Share of each tile covered by the frame's synthesis mask (0 for clean frames); NaN where unknown
            (e.g. frames labelled by a tester, which have no mask): those frames are not used.
        y : array of str
            Label of each frame.

        Returns
        -------
        self
        """
        T = np.asarray(T, dtype=np.float32)
        cover = np.asarray(cover, dtype=np.float32)
        y = np.asarray(y).astype(str)
        if cover.shape != (len(T), N_TILES) or len(y) != len(T):
            raise ValueError(f"cover must have shape ({len(T)}, {N_TILES}) and y {len(T)} labels; got "
                             f"{cover.shape} and {len(y)}")
        unknown = [c for c in self.classes if c not in ARTIFACT_NAMES]
        if unknown:
            raise ValueError(f"unknown tile class(es) {unknown}; expected names from {ARTIFACT_NAMES}")
        rng = np.random.default_rng(self.random_state)
        self.classes_, self.estimators_, self.n_tiles_ = [], {}, {}
        context = tile_context(T)  # (n_frames, N_TILES, values): every class reads the same tiles
        for cls in self.classes:
            frames, tiles, target = self._rows(cover, y, cls, rng)
            if target.min(initial=1) == target.max(initial=0):
                continue  # no corrupted (or no clean) tile of this class: no detector
            rows = context[frames, tiles]
            est = HistGradientBoostingClassifier(
                max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
                l2_regularization=1.0, early_stopping=False, random_state=self.random_state)
            self.estimators_[cls] = est.fit(rows, target)
            self.classes_.append(cls)
            self.n_tiles_[cls] = (int(target.sum()), int(len(target) - target.sum()))
        return self

    def tile_proba(self, T) -> np.ndarray:
        """Probability that each tile holds each class, shape (n_frames, N_TILES, len(classes_))."""
        check_is_fitted(self, "estimators_")
        T = np.asarray(T, dtype=np.float32)
        out = np.zeros((len(T), N_TILES, len(self.classes_)), np.float32)
        for start in range(0, len(T), _CHUNK):
            ctx = tile_context(T[start:start + _CHUNK])
            flat = ctx.reshape(-1, ctx.shape[-1])
            for j, cls in enumerate(self.classes_):
                out[start:start + len(ctx), :, j] = self.estimators_[cls].predict_proba(flat)[:, 1].reshape(
                    len(ctx), N_TILES)
        return out

    def transform(self, T) -> np.ndarray:
        """Frame summaries (:func:`summarise`) of the tile probabilities, (n_frames, n_summaries) float32."""
        return summarise(self.tile_proba(T))

    @property
    def n_summaries_(self) -> int:
        check_is_fitted(self, "estimators_")
        return len(self.classes_) * len(SUMMARIES)

    def summary_names(self) -> list[str]:
        """``tile_scores.<class>_<summary>`` for each value of :meth:`transform`."""
        check_is_fitted(self, "estimators_")
        return [f"tile_scores.{c}_{s}" for c in self.classes_ for s in SUMMARIES]


def cross_fit_transform(stage: TileStage, T, cover, y, splits) -> tuple[np.ndarray, TileStage]:
    """Out-of-fold summaries for every frame, and the stage fitted on all frames.

    Each fold's rows are summarised by a clone of `stage` fitted on the other folds (with grouped `splits`,
    stages that never saw the rows' source), so that the experts train on summaries that behave like the final
    stage's on a new game. Folds whose stage learned fewer classes than the final one get zeros there.
    """
    final = clone(stage).fit(T, cover, y)
    out = np.zeros((len(T), final.n_summaries_), np.float32)
    width = len(SUMMARIES)
    for train, test in splits:
        fold = clone(stage).fit(T[train], cover[train], y[train])
        part = fold.transform(T[test])
        for j, cls in enumerate(fold.classes_):
            k = final.classes_.index(cls)
            out[np.asarray(test)[:, None], np.arange(k * width, (k + 1) * width)] = part[:, j * width:(j + 1) * width]
    return out, final
