"""Retraining and the model registry: label -> retrain -> activate -> rollback, crash safety, verified imports,
the activation gate, cancellation."""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import skops.io as sio

from artifactscope import cli_models, features, frames, model_store, synth
from artifactscope.library import SampleLibrary
from artifactscope.model_store import BundleError, load_bundle, sha256_file
from artifactscope.registry import BASE, ModelRegistry, active_model_dir
from artifactscope.retrain import Cancelled, retrain

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = {"expert_params": {"*": {"max_iter": 15}}, "combiner": "logreg", "cv": 2}


def run_cli(*argv) -> int:
    parser = argparse.ArgumentParser(prog="artifactscope")
    cli_models.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([str(a) for a in argv])
    if getattr(args, "cache", "x") is None:
        args.cache = os.environ["ARTIFACTSCOPE_CACHE"]
    return args.func(args)


@pytest.fixture(scope="module")
def library_dir(tmp_path_factory, frame_dirs):
    """A library with clean frames and a few corrupted ones labelled by a 'tester'."""
    root = tmp_path_factory.mktemp("library")
    rng = np.random.default_rng(7)
    with SampleLibrary(root) as lib:
        for i, path in enumerate(sorted((frame_dirs / "gamma").glob("*.png"))):
            image = frames.read_image(path)
            lib.add(image, label="clean", origin=path)
            for label in ("shader", "morse_code"):
                bad, _ = synth.corrupt(image, label, rng)
                lib.add(bad, label=label, origin=f"{path}#{label}")
    return root


def _retrain(reg, library_dir, frame_dirs, **kw):
    kw.setdefault("fit_params", FAST)
    if "cache_dir" not in kw:
        kw["cache_dir"] = os.environ["ARTIFACTSCOPE_CACHE"]
    return retrain(library=library_dir, clean_captures=[frame_dirs / "alpha"], registry=reg, jobs=1,
                   per_frame=3, n_clean=1, **kw)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_bundle, library_dir, frame_dirs):
    """One retrain shared by the tests: a registry holding v0001 (not activated), its result, its stages."""
    cache = tmp_path_factory.getbasetemp() / "cache"  # the folder conftest's _private_cache names
    root = tmp_path_factory.mktemp("trained") / "registry"
    stages = []
    result = _retrain(ModelRegistry(root, base=tiny_bundle), library_dir, frame_dirs,
                      progress=lambda s, d, t: stages.append(s), cache_dir=cache)
    return root, result, stages


@pytest.fixture
def empty(tiny_bundle, tmp_path, monkeypatch):
    """An empty registry whose implicit base version is the tiny bundle (also for the CLI)."""
    monkeypatch.setenv(model_store.MODEL_ENV, str(tiny_bundle))
    reg_dir = tmp_path / "registry"
    monkeypatch.setenv("ARTIFACTSCOPE_MODELS", str(reg_dir))
    return ModelRegistry(reg_dir, base=tiny_bundle)


@pytest.fixture
def env(empty, trained):
    """A copy of the trained registry (v0001 registered, base active)."""
    shutil.copytree(trained[0], empty.root, dirs_exist_ok=True)
    return empty


def test_label_retrain_activate_rollback_round_trip(env, trained, capsys, monkeypatch):
    reg = env
    _, result, stages = trained
    assert result.version == "v0001" and result.parent == BASE
    assert any("carries no training features" in n for n in result.notes)  # the tiny bundle has none
    assert {"library", "captures"} <= set(result.evaluation)
    assert result.training["by_source"]["library"] > 0 and result.training["by_source"]["alpha"] > 0
    assert any(s.startswith("fitting") for s in stages) and "saving" in stages
    assert reg.active() == BASE and reg.names() == ["v0001"]  # registered, not activated

    v1 = reg.info("v0001")
    assert v1.has_base_features and v1.has_evaluation and v1.parent == BASE
    reg.verify("v0001")
    # the candidate keeps its parent's tile stage and stores model inputs (frame blocks + tile scores)
    parent_stage = load_bundle(reg.base_dir).ensemble.tile_stage_
    stage = load_bundle(reg.path_of("v0001")).ensemble.tile_stage_
    assert stage.classes_ == parent_stage.classes_
    tiles = features.block_slices()["tiles"]
    T = np.random.default_rng(3).normal(size=(4, tiles.stop - tiles.start))
    np.testing.assert_array_equal(stage.transform(T), parent_stage.transform(T))
    stored = reg.base_features("v0001")[0].X
    assert stored.shape[1] == load_bundle(reg.path_of("v0001")).ensemble.n_features_in_
    # the next retrain starts from v0001's stored features (the captures it was taught)
    assert reg.base_features("v0001")[0].groups.tolist().count("alpha") > 0

    assert run_cli("models", "activate", "v0001", "--force") == 0
    assert reg.active() == "v0001"
    monkeypatch.delenv(model_store.MODEL_ENV)
    assert active_model_dir(reg) == reg.root / "v0001"
    load_bundle(active_model_dir(reg))
    monkeypatch.setenv(model_store.MODEL_ENV, str(reg.base_dir))

    assert run_cli("models", "list") == 0
    out = capsys.readouterr().out
    assert "* v0001" in out and "base" in out

    assert run_cli("models", "export", "1", reg.root.parent / "exported") == 0
    load_bundle(reg.root.parent / "exported")

    assert run_cli("models", "rollback") == 0
    assert reg.active() == BASE
    assert run_cli("models", "rollback") == 2  # nothing earlier
    assert "nothing to roll back" in capsys.readouterr().err


def test_retrain_cli_prints_side_by_side(empty, library_dir, frame_dirs, capsys, monkeypatch):
    monkeypatch.setattr("artifactscope.retrain.FAST_PARAMS", FAST)
    code = run_cli("retrain", "--library", library_dir, "--clean-captures", frame_dirs / "alpha",
                   "--registry", empty.root, "--per-frame", "3")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "registered as v0001" in captured.out
    assert "FPR clean new" in captured.out and "library" in captured.out
    assert "base_features.npz is missing" in captured.err


def test_cancel_raises_and_registers_nothing(empty, library_dir, frame_dirs):
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled, match="cancelled"):
        _retrain(empty, library_dir, frame_dirs, cancel=cancel)
    assert empty.names() == [] and empty.active() == BASE


def test_nothing_to_teach_is_refused_and_registers_nothing(empty, tmp_path, capsys):
    # An empty library and no captures: refitting the base rows alone would register a weaker copy as "new".
    with pytest.raises(ValueError, match="nothing to teach: the sample library is empty"):
        retrain(library=tmp_path / "no-samples", registry=empty, fit_params=FAST)
    assert run_cli("retrain", "--no-library", "--registry", empty.root) == 2
    assert "nothing to teach: the sample library is not used" in capsys.readouterr().err
    assert empty.names() == [] and empty.active() == BASE


def test_worse_candidate_is_refused_without_force(env, capsys):
    reg = env
    good = "v0001"
    reg.activate(good, force=True)
    # A candidate that flags everything: same evaluation samples, far higher false-positive rate.
    bad = load_bundle(reg.path_of(good)).ensemble
    bad.thresholds_ = {a: 0.0 for a in bad.thresholds_}
    ds, part = reg.evaluation_data(good)
    worse = reg.register(bad, parent=good, note="broken", evaluation=ds, evaluation_part=part)
    assert run_cli("models", "activate", worse) == 2
    err = capsys.readouterr().err
    assert "not activated" in err and "false-positive rate" in err and "--force" in err
    assert reg.active() == good
    assert run_cli("models", "activate", worse, "--force") == 0
    assert reg.active() == worse
    assert reg.rollback() == good


def test_import_refuses_changed_byte_and_unsafe_type(empty, tiny_bundle, tmp_path, capsys):
    env = empty
    from sklearn.preprocessing import FunctionTransformer

    changed = tmp_path / "changed"
    shutil.copytree(tiny_bundle, changed)
    f = changed / "combiner.skops"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))
    assert run_cli("models", "import", changed) == 2
    assert "sha256" in capsys.readouterr().err

    unsafe = tmp_path / "unsafe"
    shutil.copytree(tiny_bundle, unsafe)
    sio.dump(FunctionTransformer(func=os.system), unsafe / "combiner.skops")
    manifest = json.loads((unsafe / "manifest.json").read_text())
    manifest["files"]["combiner.skops"] = sha256_file(unsafe / "combiner.skops")
    (unsafe / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="allow-list.*system"):
        env.import_bundle(unsafe)
    assert env.names() == []  # nothing registered, no leftovers
    assert not [p for p in env.root.iterdir() if p.name.startswith(".staging")]

    assert run_cli("models", "import", tiny_bundle) == 0
    assert env.names() == ["v0001"]
    load_bundle(env.path_of("v0001"))


_KILLED_RETRAIN = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {repo!r})
    import skops.io as sio
    from artifactscope import retrain
    real_dump = sio.dump
    def slow_dump(obj, file, **kw):
        real_dump(obj, file, **kw)
        open({flag!r}, "w").close()  # the save has begun: the parent kills us now
        time.sleep(60)
    sio.dump = slow_dump
    retrain.retrain(library={library!r}, clean_captures=[{captures!r}], registry={registry!r}, jobs=1,
                    cache_dir={cache!r}, per_frame=3, n_clean=1, fit_params={fit!r})
""")


def test_killed_retrain_leaves_active_model_unchanged(env, library_dir, frame_dirs, tmp_path):
    reg = env
    good = "v0001"
    reg.activate(good, force=True)
    before = (reg.root / "active").read_bytes()
    flag = tmp_path / "saving"
    script = _KILLED_RETRAIN.format(repo=REPO, flag=str(flag), library=str(library_dir),
                                    captures=str(frame_dirs / "alpha"), registry=str(reg.root),
                                    cache=os.environ["ARTIFACTSCOPE_CACHE"], fit=FAST)
    proc = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 45
        while not flag.exists():
            assert proc.poll() is None, "the retrain subprocess ended before saving"
            assert time.monotonic() < deadline, "the retrain subprocess never began saving"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert (reg.root / "active").read_bytes() == before
    assert reg.active() == good and reg.names() == [good]
    load_bundle(reg.path_of(reg.active()))
    leftovers = [p.name for p in reg.root.iterdir() if p.name.startswith(".staging")]
    assert leftovers  # the half-written version is hidden, never registered...
    assert reg.prune() == leftovers  # ...and pruned


def test_known_games_get_their_own_false_alarm_target():
    # The games the model already knew keep `known_fpr`; the game being taught (captures, library, or captures
    # of an earlier retrain) keeps the model's usual target.
    from artifactscope.retrain import _known_sources_fpr
    from artifactscope.training import Dataset

    def ds(groups):
        n = len(groups)
        return Dataset(np.zeros((n, 3), np.float32), np.array(["clean"] * n), np.array(groups),
                       np.array([f"f{i}" for i in range(n)]))

    base = ds(["doom", "doom", "ui", "mygame_old", "newgame"])
    taught = np.array([False, False, False, True, False])
    assert _known_sources_fpr(base, taught, ds(["library"]), ds(["newgame"]), 0.0) == {"doom": 0.0, "ui": 0.0}
    assert _known_sources_fpr(base, taught, ds([]), ds([]), 0.005) == {"doom": 0.005, "ui": 0.005,
                                                                        "newgame": 0.005}
    assert _known_sources_fpr(base, taught, ds([]), ds(["newgame"]), None) is None
    with pytest.raises(ValueError, match="known_fpr must be a rate"):
        retrain(library=False, known_fpr=2.0)
