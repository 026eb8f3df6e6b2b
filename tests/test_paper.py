"""The ``paper`` recipe: the study's features and mixture of experts (binary)."""

import json

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from artifactscope.paper import N_FEATURES, PAPER_SPEC, PaperDetector, paper_blocks, paper_features
from artifactscope.synth import corrupt, procedural_frame

CLASSES = ("line_pixelation", "shader", "morse_code", "triangulation")


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # Multi-threaded BLAS on tiny matrices thrashes on a loaded 2-core machine (25x slower fits); one thread is
    # also what makes the timings repeatable.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def dataset():
    """Small procedural frames: 3 clean variants and one corrupted frame per class for each of 16 scenes."""
    rng = np.random.default_rng(7)
    X, y = [], []
    for _ in range(16):
        frame = procedural_frame(rng, 192, 108)
        for _ in range(3):
            X.append(paper_features(corrupt(frame, "clean", rng, reencode=False)[0]))
            y.append("clean")
        for label in CLASSES:
            X.append(paper_features(corrupt(frame, label, rng, reencode=False)[0]))
            y.append(label)
    return np.vstack(X), np.array(y)


def test_spec_is_json():
    spec = json.loads(json.dumps(PAPER_SPEC))
    assert spec["hog_size"] == [480, 270] and spec["hog_cell"] == [10, 10]


@pytest.mark.parametrize("size", [(1920, 1080), (320, 180)])
def test_features_shape_dtype_finite(size):
    frame = procedural_frame(np.random.default_rng(0), *size)
    f = paper_features(frame)
    assert f.shape == (N_FEATURES,) and f.dtype == np.float32
    assert np.isfinite(f).all()


def test_blocks_cover_the_vector():
    blocks = paper_blocks()
    assert list(blocks) == ["spectrum", "hog", "laplacian"]
    covered = np.zeros(N_FEATURES, int)
    for sl in blocks.values():
        covered[sl] += 1
    assert (covered == 1).all()
    assert blocks["spectrum"].stop - blocks["spectrum"].start == PAPER_SPEC["spectrum_size"] ** 2
    assert blocks["hog"].stop - blocks["hog"].start == 26 * 47 * 36  # 480x270, 10x10 cells, 2x2 blocks


def test_bad_image_rejected():
    with pytest.raises(ValueError):
        paper_features(np.zeros((50, 50), np.uint8))


def test_not_fitted_before_fit(dataset):
    X, _ = dataset
    with pytest.raises(NotFittedError):
        PaperDetector().predict(X[:2])


def test_bad_labels_rejected(dataset):
    X, y = dataset
    bad = y.copy()
    bad[0] = "glitchy"
    with pytest.raises(ValueError, match="unknown label.*glitchy.*expects"):
        PaperDetector().fit(X, bad)
    with pytest.raises(ValueError, match="clean"):
        PaperDetector().fit(X[y != "clean"], y[y != "clean"])
    with pytest.raises(ValueError, match="corrupted"):
        PaperDetector().fit(X[y == "clean"], y[y == "clean"])
    with pytest.raises(ValueError, match="columns"):
        PaperDetector().fit(X[:, :100], y)


@pytest.fixture(scope="module")
def fitted(dataset):
    X, y = dataset
    det = PaperDetector(random_state=3)
    assert det.fit(X, y) is det
    return det


def test_fit_predict(dataset, fitted):
    X, y = dataset
    det = fitted
    assert det.get_params()["spectrum_components"] == 64
    assert list(det.classes_) == ["clean", "corrupted"]
    assert det.artifacts_ == ["shader", "morse_code", "triangulation", "line_pixelation"]
    assert det.expert_models_["line_pixelation"] == "laplacian_threshold"
    assert det.expert_models_["shader"] == "hog_logistic"
    assert det.expert_models_["morse_code"] in ("logistic", "lda", "svc")
    pred = det.predict(X)
    assert set(pred) <= {"clean", "corrupted"}
    proba = det.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1.0)
    truth = np.where(y == "clean", "clean", "corrupted")
    accuracy = np.mean(pred == truth)
    majority = max(np.mean(truth == "clean"), np.mean(truth == "corrupted"))
    assert accuracy > majority + 0.1, (accuracy, majority)
    assert det.expert_outputs(X).shape == (len(X), 4)


def test_same_seed_same_predictions(dataset, fitted):
    X, y = dataset
    a = fitted
    b = PaperDetector(random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))
