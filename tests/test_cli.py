"""The command line end to end: scan formats, schema, exit status, bad input, train and evaluate."""

import csv
import io
import json

import jsonschema
import numpy as np
import pytest

from artifactscope import cli
from artifactscope.reports import load_schema
from artifactscope.synth import corrupt, procedural_frame

from .conftest import _write_png


@pytest.fixture(scope="module")
def scan_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("scan")
    rng = np.random.default_rng(7)
    clean = procedural_frame(rng, width=320, height=180)
    _write_png(root / "clean_01.png", clean)
    shaded, _ = corrupt(clean, "shader", np.random.default_rng(1), reencode=False)
    _write_png(root / "shader_01.png", shaded)
    return root


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_validates_against_schema(scan_dir, tiny_bundle, capsys, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not an image")
    code, out, err = run(["scan", scan_dir, bad, "--model", tiny_bundle, "--format", "json"], capsys)
    records = json.loads(out)
    schema = load_schema()
    for record in records:
        jsonschema.validate(record, schema)
    assert [r["path"].rsplit("/", 1)[-1] for r in records] == ["clean_01.png", "shader_01.png", "broken.png"]
    assert records[2]["error"] and "broken.png" in err + records[2]["path"]
    assert records[0]["error"] is None and set(records[0]["scores"]) >= {"shader", "screen_tearing"}
    assert code in (1, 2)


def test_exit_status_clean_found_and_error(scan_dir, tiny_bundle, capsys, tmp_path):
    code, _, _ = run(["scan", scan_dir / "clean_01.png", "--model", tiny_bundle, "--threshold", "1"], capsys)
    assert code == 0
    code, _, _ = run(["scan", scan_dir, "--model", tiny_bundle, "--threshold", "0"], capsys)
    assert code == 1
    code, _, err = run(["scan", tmp_path / "missing.png", "--model", tiny_bundle], capsys)
    assert code == 2


def test_unreadable_files_do_not_stop_the_batch(scan_dir, tiny_bundle, capsys, tmp_path):
    (tmp_path / "zero.png").write_bytes(b"")
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    tiny = tmp_path / "tiny.png"
    _write_png(tiny, np.zeros((4, 4, 3), np.uint8))  # decodes, but too small to analyse
    code, out, _ = run(["scan", tmp_path / "zero.png", empty, scan_dir / "clean_01.png", tiny,
                        "--model", tiny_bundle, "--format", "jsonl", "--threshold", "1"], capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 4
    # The record's `path` names the file; `error` says what is wrong, the same way whatever went wrong.
    assert records[0]["error"] == "zero-byte file"
    assert records[1]["error"] == "folder contains no images or videos"
    assert records[2]["error"] is None and records[2]["corrupted"] is False
    assert records[3]["path"] == str(tiny) and records[3]["error"].startswith("cannot analyse frame (")
    assert "4x4" in records[3]["error"]
    assert code == 2  # nothing flagged, but input was unreadable


def test_csv_and_table_formats(scan_dir, tiny_bundle, capsys, tmp_path):
    out_file = tmp_path / "report.csv"
    code, out, err = run(["scan", scan_dir, "--model", tiny_bundle, "--format", "csv", "--out", out_file], capsys)
    rows = list(csv.DictReader(io.StringIO(out_file.read_text())))
    assert len(rows) == 2 and rows[0]["path"].endswith("clean_01.png")
    assert float(rows[1]["score_shader"]) >= 0
    assert "2 frame(s)" in err
    code, out, _ = run(["scan", scan_dir, "--model", tiny_bundle], capsys)
    assert "2 frame(s) scanned" in out and "clean_01.png" in out


def test_hostile_file_name_stays_text_in_csv(tiny_bundle, capsys, tmp_path):
    name = tmp_path / "=cmd()|calc.png"
    _write_png(name, procedural_frame(np.random.default_rng(3), width=160, height=90))
    out_file = tmp_path / "r.csv"
    run(["scan", name, "--model", tiny_bundle, "--format", "csv", "--out", out_file], capsys)
    row = next(csv.DictReader(io.StringIO(out_file.read_text())))
    assert row["path"].endswith("=cmd()|calc.png") and not row["path"].startswith("=")


def test_bad_model_and_bad_usage(scan_dir, capsys, tmp_path):
    code, _, err = run(["scan", scan_dir, "--model", tmp_path / "nomodel"], capsys)
    assert code == 2 and "no model bundle" in err
    with pytest.raises(SystemExit) as exc:
        cli.main(["scan", str(scan_dir), "--threshold", "7"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        cli.main(["scan"])
    assert exc.value.code == 2


def test_train_then_evaluate(frame_dirs, capsys, tmp_path):
    out = tmp_path / "model"
    code, stdout, _ = run(["train", frame_dirs, "--out", out, "--per-frame", "4", "--jobs", "1", "--no-cache",
                           "--combiner", "logreg"], capsys)
    assert code == 0, stdout
    assert "held-out evaluation" in stdout and (out / "manifest.json").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert "holdout" in manifest["metrics"]
    assert manifest["tile_stage"] is True  # trained on synthesised frames: the tile stage learns from the masks
    code, stdout, _ = run(["evaluate", frame_dirs, "--model", out, "--per-frame", "2", "--jobs", "1",
                           "--no-cache", "--json"], capsys)
    assert code == 0
    metrics = json.loads(stdout)
    assert 0.0 <= metrics["accuracy"] <= 1.0 and "confusion" in metrics


def test_synthesize_writes_labelled_tree_with_masks(frame_dirs, capsys, tmp_path):
    out = tmp_path / "synth"
    code, stdout, _ = run(["synthesize", frame_dirs / "alpha", out, "--per-class", "2", "--seed", "1"], capsys)
    assert code == 0
    from artifactscope.artifacts import ARTIFACT_NAMES

    for label in ARTIFACT_NAMES:
        images = [p for p in (out / label).glob("*.png") if not p.name.endswith(".mask.png")]
        masks = list((out / label).glob("*.mask.png"))
        assert len(images) == 2 and len(masks) == 2


def test_label_adds_to_library_and_reports_bad_files(scan_dir, capsys, tmp_path):
    library = tmp_path / "lib"
    code, out, err = run(["label", scan_dir / "shader_01.png", tmp_path / "missing.png", "--as", "shader",
                          "--library", library], capsys)
    assert code == 2 and "missing.png" in err
    assert "added" in out and "shader 1" in out
    code, out, _ = run(["label", scan_dir / "shader_01.png", "--as", "clean", "--library", library], capsys)
    assert code == 0 and "clean 1" in out and "shader" not in out.split("library")[-1]
    code, _, err = run(["label", scan_dir / "shader_01.png", "--as", "sparkles", "--library", library], capsys)
    assert code == 2 and "unknown label" in err
