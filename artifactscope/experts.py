"""ArtifactExpert: one binary scikit-learn estimator for one artifact class.

An expert looks only at the feature blocks it was given (``blocks``), so that each class can use the
features that measurement showed to work for it (spectra for periodic artifacts, colour for
discoloration, ...). It follows scikit-learn's conventions: parameters are stored as given, ``fit``
returns ``self``, learned attributes end in ``_``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

MODELS = ("hgb", "logreg")


def block_columns(blocks: Sequence[str] | None, n_columns: int) -> np.ndarray:
    """Column indices of the named feature blocks in a full feature vector.

    Parameters
    ----------
    blocks : sequence of str or None
        Block names from :data:`artifactscope.features.BLOCKS`; None selects every column.
    n_columns : int
        Width of the feature matrix the columns index into.

    Returns
    -------
    numpy.ndarray of int
    """
    if blocks is None:
        return np.arange(n_columns)
    from artifactscope import features  # local: features is heavy and only needed with named blocks

    slices = features.block_slices()
    tiles_start = slices["tiles"].start
    if n_columns != features.n_features():
        if n_columns < tiles_start:
            raise ValueError(
                f"X has {n_columns} columns but artifactscope.features produces {features.n_features()} "
                f"(a model input at least {tiles_start}); named blocks need full feature vectors or model inputs "
                "(use blocks=None for other data)"
            )
        slices = features.model_input_slices(n_columns - tiles_start)  # frame blocks + tile-stage scores
    unknown = [b for b in blocks if b not in slices]
    if unknown:
        raise ValueError(f"unknown feature block(s) {unknown}; expected names from {list(slices)}")
    return np.concatenate([np.arange(slices[b].start, slices[b].stop) for b in blocks])


class ArtifactExpert(ClassifierMixin, BaseEstimator):
    """Binary detector for one artifact class.

    Parameters
    ----------
    artifact : str
        Name of the artifact class this expert detects (informational; y decides the classes).
    blocks : tuple of str or None
        Feature blocks to use; None uses all columns of X.
    model : {"hgb", "logreg"}
        Histogram gradient boosting (default) or a standardised logistic regression.
    max_iter : int
        Boosting iterations (hgb) or solver iterations (logreg).
    learning_rate : float
        Boosting learning rate.
    max_leaf_nodes : int
        Leaves per tree (hgb).
    max_features : float
        Share of the features each split considers (hgb): faster, and less reliance on any single feature.
    l2_regularization : float
        L2 penalty of the trees (hgb).
    C : float
        Inverse regularisation strength (logreg).
    class_weight : {"balanced", None}
        Re-weight classes inversely to their frequency. Off by default: the ensemble sets each expert's
        threshold on out-of-fold outputs, which absorbs the one-vs-rest imbalance, and with weights
        scikit-learn's gradient boosting bins every feature by weighted percentiles, which makes a fit
        about three times slower.
    random_state : int or None
        Seed of the estimator.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    columns_ : ndarray of int
        Columns of X the expert uses.
    estimator_ : estimator
        The fitted underlying scikit-learn estimator.
    n_features_in_ : int
    """

    def __init__(
        self,
        artifact: str = "artifact",
        blocks: tuple[str, ...] | None = None,
        model: str = "hgb",
        max_iter: int = 150,
        learning_rate: float = 0.12,
        max_leaf_nodes: int = 31,
        max_features: float = 0.5,
        l2_regularization: float = 1.0,
        C: float = 1.0,
        class_weight: str | None = None,
        random_state: int | None = 0,
    ):
        self.artifact = artifact
        self.blocks = blocks
        self.model = model
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.max_features = max_features
        self.l2_regularization = l2_regularization
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    def _make_estimator(self):
        if self.model == "hgb":
            return HistGradientBoostingClassifier(
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                max_features=self.max_features,
                l2_regularization=self.l2_regularization,
                class_weight=self.class_weight,
                early_stopping=False,
                random_state=self.random_state,
            )
        if self.model == "logreg":
            return make_pipeline(
                StandardScaler(),
                LogisticRegression(C=self.C, max_iter=max(self.max_iter, 1000), class_weight=self.class_weight),
            )
        raise ValueError(f"model={self.model!r} is not supported; use one of {MODELS}")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # one expert answers one yes/no question
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit the expert on features X and binary targets y; returns self."""
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {y_type}: "
                f"ArtifactExpert needs positives of {self.artifact!r} and negatives (two classes)"
            )
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"ArtifactExpert is a binary classifier but y has a single class {self.classes_.tolist()}; "
                f"give positives of {self.artifact!r} and negatives"
            )
        self.columns_ = block_columns(self.blocks, X.shape[1])
        estimator = self._make_estimator()
        fit_params = {}
        if sample_weight is not None:
            weight = np.asarray(sample_weight)
            if self.model == "logreg":  # the scaler must see the weights too, or weights != repetitions
                fit_params = {"standardscaler__sample_weight": weight, "logisticregression__sample_weight": weight}
            else:
                fit_params = {"sample_weight": weight}
        self.estimator_ = clone(estimator).fit(X[:, self.columns_], y, **fit_params)
        final = self.estimator_[-1] if self.model == "logreg" else self.estimator_
        self.n_iter_ = int(np.max(final.n_iter_))
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probability of each class in ``classes_`` order, shape (n_samples, 2)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.estimator_.predict_proba(X[:, self.columns_])

    def predict(self, X) -> np.ndarray:
        """Most probable class of each sample."""
        proba = self.predict_proba(X)  # checks fitting before classes_ is touched
        return self.classes_[np.argmax(proba, axis=1)]
