"""Model bundles: a folder with ``manifest.json``, one skops file per expert, one for the combiner and, when the
model has one, one for its tile stage.

Safety rules:

* Files are loaded with :func:`skops.io.load` and an explicit allow-list of types; a file that needs any
  other type is refused before anything in it is constructed (no pickle, no joblib.load).
* Every file's sha256 is in the manifest and checked before loading; a changed byte is refused.
* A bundle made with another scikit-learn minor version, another feature version or another bundle
  format is refused with a message saying how to retrain.
* Saving writes a complete new bundle into a temporary sibling folder and swaps it in with
  :func:`os.replace`, so a crash mid-save leaves the old bundle (or nothing), never a half-new one.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skops.io as sio

import artifactscope
from artifactscope import features
from artifactscope.ensemble import ArtifactEnsemble

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MODEL_ENV = "ARTIFACTSCOPE_MODEL"
TILE_STAGE_FILE = "tile_stage.skops"

# Types beyond skops' built-in trusted set that a bundle may contain. Anything else is refused.
ALLOWED_TYPES: tuple[str, ...] = (
    "artifactscope.experts.ArtifactExpert",
    "artifactscope.ensemble.MaxCombiner",
    "artifactscope.tiles.TileStage",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.link.Interval",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss._loss.CyHalfMultinomialLoss",
    "numpy.dtype",
    "builtins.slice",
)


class BundleError(Exception):
    """A model bundle that cannot be used; the message says why and what to do."""


RETRAIN_HINT = (
    "retrain it with `artifactscope train DATA... --out DIR` (or use the model shipped with this version)"
)


@dataclass
class ModelBundle:
    """A loaded model and its manifest."""

    ensemble: ArtifactEnsemble
    manifest: dict[str, Any]
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self.ensemble.thresholds_)

    @property
    def name(self) -> str:
        return self.manifest.get("name") or (self.path.name if self.path else "model")


def default_model_dir() -> Path:
    """The model used when none is named: ``$ARTIFACTSCOPE_MODEL`` or the bundle shipped in the package."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "models" / "default"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def save_bundle(
    ensemble: ArtifactEnsemble,
    path: str | os.PathLike,
    *,
    name: str | None = None,
    training: dict | None = None,
    metrics: dict | None = None,
) -> Path:
    """Write a fitted ensemble as a bundle folder at `path`, atomically replacing any bundle there.

    Parameters
    ----------
    ensemble : ArtifactEnsemble
        A fitted ensemble.
    path : path-like
        Destination folder.
    name : str, optional
        Human-readable model name stored in the manifest.
    training, metrics : dict, optional
        Training-data summary and evaluation figures stored in the manifest.

    Returns
    -------
    pathlib.Path
        The bundle folder.
    """
    if not hasattr(ensemble, "experts_"):
        raise ValueError("the ensemble is not fitted; call fit() before saving it")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        files: dict[str, str] = {}
        (tmp / "experts").mkdir()
        for artifact, expert in ensemble.experts_.items():
            rel = f"experts/{artifact}.skops"
            _dump(expert, tmp / rel)
            files[rel] = sha256_file(tmp / rel)
        _dump(ensemble.combiner_, tmp / "combiner.skops")
        files["combiner.skops"] = sha256_file(tmp / "combiner.skops")
        if getattr(ensemble, "tile_stage_", None) is not None:
            _dump(ensemble.tile_stage_, tmp / TILE_STAGE_FILE)
            files[TILE_STAGE_FILE] = sha256_file(tmp / TILE_STAGE_FILE)
        manifest = {
            "format_version": FORMAT_VERSION,
            "name": name or path.name,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "artifactscope_version": artifactscope.__version__,
            "sklearn_version": sklearn.__version__,
            "feature_spec": features.feature_spec(),
            "classes": [str(c) for c in ensemble.classes_],
            "artifacts": list(ensemble.artifacts_),
            "thresholds": dict(ensemble.thresholds_),
            "ensemble_params": _jsonable(ensemble.get_params(deep=False)),
            "n_features": int(ensemble.n_features_in_),
            "tile_stage": getattr(ensemble, "tile_stage_", None) is not None,
            "training": _jsonable(training or {}),
            "metrics": _jsonable(metrics or {"oof": getattr(ensemble, "oof_metrics_", {})}),
            "files": files,
        }
        with open(tmp / MANIFEST, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, sort_keys=False)
            fh.flush()
            os.fsync(fh.fileno())
        _swap_in(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _dump(obj, file: Path) -> None:
    # Tree arrays compress about 3x: the shipped bundle stays well under its 20 MB budget.
    sio.dump(obj, file, compression=zipfile.ZIP_DEFLATED, compresslevel=6)


def _swap_in(new: Path, target: Path) -> None:
    """Put folder `new` at `target`; the old bundle is moved aside first and deleted only afterwards."""
    if not target.exists():
        os.replace(new, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rmdir(old)
    os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old, target)  # put the previous bundle back
        raise
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a bundle's manifest (format, versions); raises BundleError."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not path.is_dir():
        raise BundleError(f"{path}: no model bundle here (not a folder); {RETRAIN_HINT}")
    if not manifest_path.is_file():
        raise BundleError(f"{path}: no {MANIFEST} in this folder; it is not a model bundle")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"{manifest_path}: unreadable manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"{path}: bundle format {manifest.get('format_version') if isinstance(manifest, dict) else '?'} "
            f"is not the supported format {FORMAT_VERSION}; {RETRAIN_HINT}"
        )
    made_with = str(manifest.get("sklearn_version", "?"))
    if _minor(made_with) != _minor(sklearn.__version__):
        raise BundleError(
            f"{path}: made with scikit-learn {made_with}, but scikit-learn {sklearn.__version__} is installed; "
            f"models do not carry across scikit-learn versions: install scikit-learn=={made_with} or {RETRAIN_HINT}"
        )
    spec_version = (manifest.get("feature_spec") or {}).get("version")
    if spec_version != features.FEATURE_VERSION:
        raise BundleError(
            f"{path}: made for feature version {spec_version!r}, this artifactscope computes "
            f"{features.FEATURE_VERSION!r}; {RETRAIN_HINT}"
        )
    return manifest


def _safe_load(file: Path) -> Any:
    untrusted = sio.get_untrusted_types(file=file)
    unsafe = sorted(set(untrusted) - set(ALLOWED_TYPES))
    if unsafe:
        raise BundleError(
            f"{file}: refused, it contains types outside artifactscope's allow-list: {', '.join(unsafe)}. "
            "Only load bundles you made with artifactscope; " + RETRAIN_HINT
        )
    return sio.load(file, trusted=list(untrusted))


def load_bundle(path: str | os.PathLike | None = None) -> ModelBundle:
    """Load a bundle after checking versions, file hashes and the type allow-list.

    Parameters
    ----------
    path : path-like, optional
        Bundle folder; the default model when None.

    Raises
    ------
    BundleError
        With a message naming the bundle and the problem.
    """
    path = Path(path) if path is not None else default_model_dir()
    manifest = read_manifest(path)
    files = manifest.get("files") or {}
    expected = {f"experts/{a}.skops" for a in manifest.get("artifacts", [])} | {"combiner.skops"}
    if manifest.get("tile_stage"):
        expected.add(TILE_STAGE_FILE)
    if set(files) != expected:
        raise BundleError(f"{path}: the manifest's file list does not match its artifacts; {RETRAIN_HINT}")
    for rel, digest in files.items():
        file = path / rel
        if not file.is_file():
            raise BundleError(f"{file}: missing from the bundle; {RETRAIN_HINT}")
        if sha256_file(file) != digest:
            raise BundleError(
                f"{file}: contents do not match the manifest's sha256 (the file was changed or damaged); "
                "refusing to load it. Restore the bundle or " + RETRAIN_HINT
            )
    experts = {}
    for artifact in manifest["artifacts"]:
        expert = _safe_load(path / f"experts/{artifact}.skops")
        if type(expert).__name__ != "ArtifactExpert":
            raise BundleError(f"{path}: experts/{artifact}.skops does not hold an ArtifactExpert")
        experts[artifact] = expert
    combiner = _safe_load(path / "combiner.skops")
    tile_stage = None
    if manifest.get("tile_stage"):
        tile_stage = _safe_load(path / TILE_STAGE_FILE)
        if type(tile_stage).__name__ != "TileStage":
            raise BundleError(f"{path}: {TILE_STAGE_FILE} does not hold a TileStage")

    params = {k: v for k, v in manifest.get("ensemble_params", {}).items()}
    if params.get("gate_blocks") is not None:
        params["gate_blocks"] = tuple(params["gate_blocks"])
    try:
        ensemble = ArtifactEnsemble(**params)
    except TypeError as exc:
        raise BundleError(f"{path}: ensemble parameters do not fit this version ({exc}); {RETRAIN_HINT}") from None
    ensemble.experts_ = experts
    ensemble.combiner_ = combiner
    ensemble.tile_stage_ = tile_stage
    ensemble.artifacts_ = list(manifest["artifacts"])
    ensemble.classes_ = np.array(manifest["classes"])
    ensemble.thresholds_ = {k: float(v) for k, v in manifest["thresholds"].items()}
    ensemble.n_features_in_ = int(manifest["n_features"])
    return ModelBundle(ensemble=ensemble, manifest=manifest, path=path)
