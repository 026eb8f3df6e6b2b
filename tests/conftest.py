"""Shared test set-up: headless Qt, a private feature cache, and the optional ../shared data."""

import os
from pathlib import Path

# One BLAS/OpenMP thread per test process: pytest-xdist already runs one process per core, and
# multi-threaded fits in several processes on the same cores slow each other down many times over.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(1)  # in case numpy was imported before the variables above were read

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    # Tests never touch the user's feature cache.
    monkeypatch.setenv("ARTIFACTSCOPE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def godot_dir():
    path = SHARED_DATA / "godot-demos"
    if not path.is_dir():
        pytest.skip("../shared/data/godot-demos is not present (developer data, absent on user machines)")
    return path


def _write_png(path, rgb):
    import cv2

    ok, buf = cv2.imencode(".png", rgb[:, :, ::-1].copy())
    assert ok
    buf.tofile(str(path))


@pytest.fixture(scope="session")
def frame_dirs(tmp_path_factory):
    """Small procedural clean frames in two source folders (deterministic)."""
    import numpy as np

    from artifactscope.synth import procedural_frame

    root = tmp_path_factory.mktemp("clean")
    for s, source in enumerate(("alpha", "beta", "gamma")):
        folder = root / source
        folder.mkdir()
        for i in range(6):
            rng = np.random.default_rng(1000 * s + i)
            _write_png(folder / f"{source}_{i:02d}.png", procedural_frame(rng, width=320, height=180))
    return root


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory, frame_dirs):
    """A small model trained on procedural frames: fast, good enough to exercise the whole pipeline."""
    from artifactscope import model_store, training

    ds = training.build_dataset([frame_dirs], per_frame=10, n_clean=3, seed=0, jobs=1, cache_dir=None)
    # Logistic experts are fast to fit; one small boosted expert keeps tree types in the bundle round trip.
    params = {"*": {"model": "logreg", "max_iter": 300}, "shader": {"model": "hgb", "max_iter": 10}}
    ensemble = training.fit_ensemble(ds, expert_params=params, combiner="logreg", cv=3)
    path = tmp_path_factory.mktemp("models") / "tiny"
    model_store.save_bundle(ensemble, path, name="tiny", training=ds.summary())
    return path
