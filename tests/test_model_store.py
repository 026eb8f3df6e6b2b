"""Model bundles: round trip, manifest, refusal of tampered, unsafe or foreign-version bundles, atomic saves."""

import json
import os
import shutil

import numpy as np
import pytest
import skops.io as sio
import sklearn

from artifactscope import features, model_store
from artifactscope.model_store import BundleError, load_bundle, save_bundle, sha256_file


@pytest.fixture
def bundle_copy(tiny_bundle, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(tiny_bundle, dst)
    return dst


def _rewrite_manifest(path, **changes):
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.update(changes)
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_round_trip_predicts_the_same(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle)
    X = np.random.default_rng(0).normal(size=(5, features.n_features()))
    again = load_bundle(save_bundle(bundle.ensemble, tmp_path / "again"))
    np.testing.assert_array_equal(bundle.ensemble.predict_proba(X), again.ensemble.predict_proba(X))
    assert again.thresholds == bundle.thresholds


def test_tile_stage_is_stored_and_summarises_full_vectors(tiny_bundle):
    bundle = load_bundle(tiny_bundle)
    manifest = json.loads((tiny_bundle / "manifest.json").read_text())
    assert manifest["tile_stage"] is True and "tile_stage.skops" in manifest["files"]
    stage = bundle.ensemble.tile_stage_
    assert type(stage).__name__ == "TileStage" and stage.classes_
    X = np.random.default_rng(1).normal(size=(3, features.n_features()))
    inputs = bundle.ensemble.model_input(X)
    start = features.block_slices()["tiles"].start
    assert inputs.shape == (3, start + stage.n_summaries_) == (3, manifest["n_features"])
    np.testing.assert_array_equal(inputs[:, :start], X[:, :start])
    # a model input is taken as it is: the same verdicts either way
    np.testing.assert_array_equal(bundle.ensemble.predict_proba(X), bundle.ensemble.predict_proba(inputs))


def test_manifest_records_versions_hashes_and_spec(tiny_bundle):
    manifest = json.loads((tiny_bundle / "manifest.json").read_text())
    assert manifest["sklearn_version"] == sklearn.__version__
    assert manifest["feature_spec"]["version"] == features.FEATURE_VERSION
    assert manifest["classes"][0] == "clean"
    assert set(manifest["thresholds"]) == set(manifest["artifacts"])
    assert manifest["training"]["samples"] > 0
    for rel, digest in manifest["files"].items():
        assert sha256_file(tiny_bundle / rel) == digest


@pytest.mark.parametrize("name", ["combiner.skops", "tile_stage.skops"])
def test_changed_byte_is_refused(bundle_copy, name):
    target = bundle_copy / name
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=f"{name}.*sha256"):
        load_bundle(bundle_copy)


def test_unsafe_type_is_refused_before_construction(bundle_copy):
    from sklearn.preprocessing import FunctionTransformer

    # A file whose hash matches the manifest but which carries a type outside the allow-list.
    sio.dump(FunctionTransformer(func=os.system), bundle_copy / "combiner.skops")
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    manifest["files"]["combiner.skops"] = sha256_file(bundle_copy / "combiner.skops")
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="allow-list.*system"):
        load_bundle(bundle_copy)


def test_other_sklearn_version_is_refused_with_retrain_hint(bundle_copy):
    _rewrite_manifest(bundle_copy, sklearn_version="0.24.2")
    with pytest.raises(BundleError, match=r"scikit-learn 0\.24\.2.*retrain"):
        load_bundle(bundle_copy)


def test_other_feature_version_is_refused(bundle_copy):
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    manifest["feature_spec"]["version"] = "0.0.0-old"
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="feature version"):
        load_bundle(bundle_copy)


def test_missing_or_non_bundle_folder(tmp_path):
    with pytest.raises(BundleError, match="no model bundle"):
        load_bundle(tmp_path / "nowhere")
    with pytest.raises(BundleError, match="manifest.json"):
        load_bundle(tmp_path)


def test_crash_during_save_keeps_the_old_bundle(bundle_copy, monkeypatch):
    bundle = load_bundle(bundle_copy)
    before = {p.name: p.read_bytes() for p in bundle_copy.rglob("*") if p.is_file()}
    calls = {"n": 0}
    real_dump = sio.dump

    def failing_dump(obj, file, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (simulated)")
        return real_dump(obj, file, **kw)

    monkeypatch.setattr(model_store.sio, "dump", failing_dump)
    with pytest.raises(OSError, match="simulated"):
        save_bundle(bundle.ensemble, bundle_copy)
    after = {p.name: p.read_bytes() for p in bundle_copy.rglob("*") if p.is_file()}
    assert after == before
    assert load_bundle(bundle_copy).thresholds == bundle.thresholds
    leftovers = [p.name for p in bundle_copy.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_unfitted_ensemble_cannot_be_saved(tmp_path):
    from artifactscope.ensemble import ArtifactEnsemble

    with pytest.raises(ValueError, match="not fitted"):
        save_bundle(ArtifactEnsemble(), tmp_path / "x")


def test_bundle_with_max_combiner_round_trips(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle)
    X = np.random.default_rng(1).normal(size=(40, features.n_features()))
    y = np.array(["clean", *bundle.ensemble.artifacts_] * 4)[:40]
    ens = bundle.ensemble
    ens.set_params(combiner="max").refit_combiner(X, y, ens.expert_proba(X))
    again = load_bundle(save_bundle(ens, tmp_path / "max"))
    assert type(again.ensemble.combiner_).__name__ == "MaxCombiner"
    np.testing.assert_array_equal(ens.predict_proba(X), again.ensemble.predict_proba(X))
