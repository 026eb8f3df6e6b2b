"""scikit-learn conventions and behaviour of ArtifactExpert and ArtifactEnsemble on synthetic features."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from artifactscope.artifacts import ARTIFACT_NAMES, CLEAN
from artifactscope.ensemble import ArtifactEnsemble, binary_metrics
from artifactscope.experts import ArtifactExpert


def _expected_failures(estimator):
    if estimator.model == "hgb":
        # Gradient boosting bins features on a subsample, so weights are not exactly repetitions
        # (scikit-learn's own HistGradientBoostingClassifier is marked the same way).
        return {"check_sample_weight_equivalence_on_dense_data": "binning makes weights inexact"}
    return {}


@parametrize_with_checks(
    [ArtifactExpert(model="logreg"), ArtifactExpert(model="hgb", max_iter=10)],
    expected_failed_checks=_expected_failures,
)
def test_expert_follows_sklearn_conventions(estimator, check):
    check(estimator)


def make_features(n_per_class=40, n_noise=6, seed=0, classes=ARTIFACT_NAMES[:4]):
    """Clean samples are noise; artifact k raises feature k. Sources alternate between three groups."""
    rng = np.random.default_rng(seed)
    labels = [CLEAN] * (2 * n_per_class) + [c for c in classes for _ in range(n_per_class)]
    X = rng.normal(size=(len(labels), len(classes) + n_noise))
    for i, label in enumerate(labels):
        if label != CLEAN:
            X[i, classes.index(label)] += 6.0
    groups = np.array([f"src{i % 3}" for i in range(len(labels))])
    return X, np.array(labels), groups


def small_ensemble(**kw):
    params = dict(expert_params={"*": {"max_iter": 30}}, combiner="logreg", gate_blocks=None, cv=3,
                  random_state=0)
    params.update(kw)
    return ArtifactEnsemble(**params)


def test_ensemble_learns_which_artifact():
    X, y, groups = make_features()
    model = small_ensemble()
    assert model.fit(X, y, groups=groups) is model
    assert list(model.classes_) == [CLEAN, *ARTIFACT_NAMES[:4]]
    Xt, yt, _ = make_features(seed=1)
    metrics = binary_metrics(yt, model.predict(Xt))
    assert metrics["accuracy"] > 0.9
    assert metrics["type_accuracy"] > 0.9
    proba = model.predict_proba(Xt)
    assert proba.shape == (len(yt), 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_thresholds_meet_target_fpr_out_of_fold():
    X, y, groups = make_features(n_per_class=30)
    model = small_ensemble(target_fpr=0.02).fit(X, y, groups=groups)
    assert set(model.thresholds_) == set(ARTIFACT_NAMES[:4])
    assert all(0.5 <= t < 1.0 for t in model.thresholds_.values())
    assert model.oof_metrics_["fpr"] <= 0.02 + 1e-9


def test_decide_with_global_threshold_overrides_per_class():
    X, y, groups = make_features()
    model = small_ensemble().fit(X, y, groups=groups)
    proba = model.predict_proba(X)
    nothing = model.decide(proba, threshold=1.0)
    assert not nothing.corrupted.any() and set(nothing.labels) == {CLEAN}
    everything = model.decide(proba, threshold=0.0)
    assert everything.corrupted.all()


def test_ensemble_params_and_clone():
    model = small_ensemble(target_fpr=0.05)
    assert model.get_params()["target_fpr"] == 0.05
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.predict(np.zeros((2, 10)))


def test_ensemble_rejects_bad_labels_with_clear_messages():
    X, y, groups = make_features()
    with pytest.raises(ValueError, match="no 'clean' samples"):
        small_ensemble().fit(X[y != CLEAN], y[y != CLEAN])
    bad = y.copy()
    bad[0] = "sparkles"
    with pytest.raises(ValueError, match="unknown label"):
        small_ensemble().fit(X, bad)


def test_expert_rejects_single_class():
    with pytest.raises(ValueError, match="binary"):
        ArtifactExpert().fit(np.zeros((5, 3)), np.ones(5))


def test_binary_metrics_known_figures():
    y_true = ["clean", "clean", "clean", "clean", "shader", "shader", "shape", "shape"]
    y_pred = ["clean", "clean", "clean", "shader", "shader", "shape", "shape", "clean"]
    m = binary_metrics(y_true, y_pred)
    assert m["fpr"] == 0.25
    assert m["recall"] == 0.75
    assert m["precision"] == 0.75
    assert m["accuracy"] == 0.75
    assert m["type_accuracy"] == 0.5


def test_thresholds_can_exclude_a_clean_frame_scored_exactly_one():
    # A clean frame the combiner is certain about (score 1.0) must not break threshold selection.
    ens = ArtifactEnsemble(target_fpr=0.0)
    ens.artifacts_ = ["shader", "shape"]
    proba = np.array([[0.0, 1.0, 0.0],   # clean, scored 1.0 as shader
                      [0.1, 0.9, 0.0],   # shader
                      [0.2, 0.0, 0.8]])  # shape
    y = np.array(["clean", "shader", "shape"])
    thresholds = ens._choose_thresholds(proba, y)
    assert thresholds["shader"] > 1.0  # shader can no longer fire...
    assert thresholds["shape"] == ens.min_threshold  # ...and shape is untouched


def test_thresholds_keep_every_source_within_its_false_alarm_budget():
    # Pooled, 3 false alarms among 500 clean frames meet a 2% target even when one game (50 clean frames,
    # budget 1) has all three; with per-source budgets that game must lose two of them. A source too small
    # for even one false alarm (a few labelled samples) only counts in the pooled budget.
    ens = ArtifactEnsemble(target_fpr=0.02)
    ens.artifacts_ = ["shader", "shape"]
    n_clean = 500
    proba = np.zeros((n_clean + 3, 3))
    proba[:, 0] = 0.9
    proba[:, 1] = 0.1
    proba[:3] = [[0.2, 0.8, 0.0], [0.3, 0.0, 0.7], [0.25, 0.75, 0.0]]  # the small game's three false alarms
    proba[n_clean:] = [[0.1, 0.9, 0.0], [0.1, 0.0, 0.9], [0.1, 0.9, 0.0]]  # detections, scored higher
    y = np.array(["clean"] * n_clean + ["shader", "shape", "shader"])
    source = np.array(["small"] * 50 + ["big"] * (n_clean - 50) + ["big"] * 3)
    pooled = ens._choose_thresholds(proba, y)
    assert pooled == {"shader": ens.min_threshold, "shape": ens.min_threshold}
    per_source = ens._choose_thresholds(proba, y, fpr_groups=source)
    flagged = [1 - proba[i, 0] >= per_source[a] for i, a in enumerate(["shader", "shape", "shader"])]
    assert sum(flagged) <= 1  # the small game keeps at most its one allowed false alarm...
    assert per_source["shader"] <= 0.9 and per_source["shape"] <= 0.9  # ...and the detections stay
    tiny = source.copy()
    tiny[3:50] = "big"  # now "small" has 3 clean frames: no budget of its own
    assert ens._choose_thresholds(proba, y, fpr_groups=tiny) == pooled
    # A target set apart for a group holds even where it allows no false alarm (a game the model knew).
    known = ens._choose_thresholds(proba, y, fpr_groups=tiny, group_fpr={"small": 0.0})
    assert not any(1 - proba[i, 0] >= known[a] for i, a in enumerate(["shader", "shape", "shader"]))
    assert known["shader"] <= 0.9 and known["shape"] <= 0.9


def test_max_combiner_lets_the_most_confident_expert_decide():
    from artifactscope.ensemble import MaxCombiner, _logit

    p = np.array([[0.10, 0.95, 0.20], [0.30, 0.20, 0.10], [0.60, 0.60, 0.0]])
    comb = MaxCombiner(artifacts=("shader", "shape", "morse_code")).fit(_logit(p), None)
    assert list(comb.classes_) == [CLEAN, "shader", "shape", "morse_code"]
    proba = comb.predict_proba(np.hstack([_logit(p), np.ones((3, 2))]))  # gate columns are ignored
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(1 - proba[:, 0], [0.95, 0.30, 0.60], atol=1e-6)
    assert list(np.argmax(proba[:, 1:], axis=1)[:2]) == [1, 0]
    with pytest.raises(ValueError, match="artifacts"):
        MaxCombiner().fit(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="at least 3 columns"):
        MaxCombiner(artifacts=("a", "b", "c")).fit(np.zeros((2, 2)))


def test_ensemble_with_max_combiner_learns_which_artifact():
    X, y, groups = make_features()
    model = small_ensemble(combiner="max").fit(X, y, groups=groups)
    Xt, yt, _ = make_features(seed=1)
    metrics = binary_metrics(yt, model.predict(Xt))
    assert metrics["accuracy"] > 0.9 and metrics["type_accuracy"] > 0.9
    assert model.oof_proba_.shape == (len(y), 5)
    assert model.oof_metrics_["fpr"] <= model.target_fpr + 1e-9


def test_max_combiner_gives_the_deciding_class_nearly_all_of_the_score():
    from artifactscope.ensemble import MaxCombiner, _logit

    p = np.array([[0.9999, 0.015, 0.013], [0.9, 0.8, 0.0]])
    proba = MaxCombiner(artifacts=("a", "b", "c")).fit(_logit(p)).predict_proba(_logit(p))
    assert proba[0, 1] > 0.999 * (1 - proba[0, 0])  # a lone confident expert: its class is the frame's score
    assert 0.3 < proba[1, 2] / (1 - proba[1, 0]) < 0.5  # two confident experts split it
