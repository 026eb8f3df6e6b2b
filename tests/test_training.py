"""Training helpers: out-of-fold groups, hard-negative sources, leave-one-source-out on a tiny dataset."""

from __future__ import annotations

import numpy as np

from artifactscope import training
from artifactscope.artifacts import CLEAN
from artifactscope.training import Dataset

CLASSES = ("shader", "shape")


def tiny_dataset(sources=("a", "b", "c", "ui"), frames_per_source=12, seed=0) -> Dataset:
    """Per frame one clean and one corrupted sample; artifact k raises feature k (an easy, known task)."""
    rng = np.random.default_rng(seed)
    X, y, groups, origin = [], [], [], []
    for s in sources:
        for f in range(frames_per_source):
            for label in (CLEAN, CLASSES[f % 2]):
                x = rng.normal(size=8)
                if label != CLEAN:
                    x[CLASSES.index(label)] += 8.0
                X.append(x)
                y.append(label)
                groups.append(s)
                origin.append(f"{s}/frame{f}.png")
    return Dataset(np.array(X, np.float32), np.array(y), np.array(groups), np.array(origin))


def test_fit_groups_splits_hard_negatives_by_frame_and_keeps_games_whole():
    ds = tiny_dataset()
    groups = training.fit_groups(ds, n_chunks=4, seed=0)
    for s in ("a", "b", "c"):
        assert set(groups[ds.groups == s]) == {s}
    ui = groups[ds.groups == "ui"]
    assert len(set(ui)) == 4 and all(g.startswith("ui~") for g in ui)
    for o in np.unique(ds.origin[ds.groups == "ui"]):  # a frame's variants never straddle two groups
        assert len(set(groups[ds.origin == o])) == 1
    everything = training.fit_groups(ds, split={"a", "b", "c", "ui"}, n_chunks=4, seed=0)
    assert len(set(everything)) == 16


def test_game_sources_and_split_never_hold_out_hard_negatives():
    ds = tiny_dataset()
    assert training.game_sources(ds) == ["a", "b", "c"]
    for seed in range(5):
        train, test = training.split_by_source(ds, holdout=0.5, seed=seed)
        assert test.any() and not (test & (ds.groups == "ui")).any()
        assert train[ds.groups == "ui"].all()


def test_leave_one_source_out_known_figures_on_an_easy_task():
    ds = tiny_dataset(frames_per_source=20)
    result = training.leave_one_source_out(
        ds, ("ours",), expert_params={"*": {"max_iter": 30}}, combiner="max", gate_blocks=None, cv=2,
        target_fpr=0.1, min_threshold=0.5)  # 30 boosting rounds on 80 rows: sure, but not always above 0.7
    assert sorted(result["sources"]) == ["a", "b", "c"]  # the hard-negative source is never a test game
    overall = result["overall"]["ours"]
    assert overall["n"] == 3 * 40 and overall["n_clean"] == 3 * 20
    # the artifacts are 8 standard deviations away: every held-out frame is judged right
    assert overall["accuracy"] == 1.0 and overall["fpr"] == 0.0 and overall["type_accuracy"] == 1.0
    assert overall["class_recall"] == {"shader": 1.0, "shape": 1.0}
    pred = result["predictions"]["ours"]  # every game frame predicted by the model that never saw its source
    games = ds.groups != "ui"
    assert list(pred[games]) == list(ds.y[games]) and (pred[~games] == "").all()


def test_base_features_keep_validation_rows_marked(tmp_path):
    from artifactscope.registry import load_features
    from artifactscope.retrain import write_base_features

    ds = tiny_dataset(frames_per_source=20)
    validation = np.isin(ds.origin, ["a/frame0.png", "b/frame1.png", "c/frame2.png"])
    write_base_features(tmp_path, ds, validation=validation, max_rows=60, max_validation=None)
    stored, extras = load_features(tmp_path / "base_features.npz")
    marks = np.asarray(extras["validation"], bool)
    assert len(marks) == len(stored) and marks.sum() == validation.sum() == 6  # all kept, apart from training
    assert set(stored.origin[marks]) <= {"a/frame0.png", "b/frame1.png", "c/frame2.png"}
    assert not np.isin(stored.origin[~marks], ["a/frame0.png", "b/frame1.png", "c/frame2.png"]).any()
    assert (~marks).sum() <= 60 + 8  # stratified subsample: at most one extra row per (label, source) stratum


def test_shipped_model_carries_validation_rows_it_never_trained_on():
    from pathlib import Path

    from artifactscope.registry import load_features

    bundle = Path(__file__).resolve().parent.parent / "artifactscope" / "models" / "default"
    stored, extras = load_features(bundle / "base_features.npz")
    marks = np.asarray(extras["validation"], bool)
    assert 0 < marks.sum() < len(marks)
    # whole frames are held out: no frame has rows on both sides
    assert not set(stored.origin[marks]) & set(stored.origin[~marks])


def test_recall_by_size_counts_flagged_frames_per_third_and_skips_unpredicted():
    y = np.array(["shader"] * 6 + ["clean", "shape"])
    pred = np.array(["clean", "clean", "shape", "clean", "shader", "shader", "clean", ""])
    area = np.array([0.01, 0.02, 0.10, 0.11, 0.50, 0.60, 0.0, 0.3])
    table = training.format_recall_by_size(y, pred, area)
    assert "| shader | 0.00 (1.0-2.0%) | 0.50 (10.0-11.0%) | 1.00 (50.0-60.0%) |" in table
    assert "shape" not in table  # its one sample has no prediction
