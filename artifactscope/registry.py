"""The model registry: every trained model is a numbered version; one of them is active.

Layout::

    <root>/
      v0001/ v0002/ ...     one model bundle each (written with :func:`model_store.save_bundle`), plus
                            version.json    registry record: parent, notes, evaluation figures, sha256 of
                                            the extra files below
                            base_features.npz  (optional) the training features to retrain from
                            evaluation.npz     (optional) the held-out samples the version was evaluated on
      active                JSON ``{"active": "v0002", "previous": ["v0001", "base"]}``, replaced atomically
                            (temporary file + fsync + :func:`os.replace`); ``previous`` is the rollback stack
      .lock                 advisory lock serialising writers (POSIX ``fcntl``; best effort elsewhere)
      .staging-*            a version being written; renamed to ``vNNNN`` only when complete

``base`` names the implicit version 0: the shipped model (:func:`model_store.default_model_dir`). While no
version was ever activated, ``base`` is active.

Crash safety: a new version is written completely into a hidden staging folder and appears under its
``vNNNN`` name through one :func:`os.rename`; the ``active`` file is replaced with :func:`os.replace`. A
process killed at any moment leaves at most a hidden ``.staging-*`` folder (ignored, removed by
:meth:`ModelRegistry.prune`), never a half-written version or a changed active model.

Activation is gated: a candidate is compared with the active model on the candidate's stored evaluation
samples (held out from its training) and refused when its binary accuracy is lower, or its false-positive
rate higher, by more than ``tolerance`` on any part of that data, unless forced. Imported bundles are verified
with :func:`model_store.load_bundle` (hashes, type allow-list, versions) before they are registered.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import sys
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from artifactscope import model_store
from artifactscope._atomic import atomic_write, fsync_dir
from artifactscope.userdirs import user_data_dir
from artifactscope.model_store import MANIFEST, BundleError

__all__ = [
    "BASE",
    "MODELS_ENV",
    "ActivationRefused",
    "ModelRegistry",
    "RegistryError",
    "VersionInfo",
    "active_model_dir",
    "default_registry_dir",
    "load_features",
    "save_features",
]

MODELS_ENV = "ARTIFACTSCOPE_MODELS"
BASE = "base"
ACTIVE_FILE = "active"
VERSION_FILE = "version.json"
BASE_FEATURES = "base_features.npz"
EVALUATION = "evaluation.npz"
EXTRA_FILES = (BASE_FEATURES, EVALUATION)
DEFAULT_TOLERANCE = 0.01
_VERSION_RE = re.compile(r"^v(\d{4,})$")


class RegistryError(Exception):
    """The registry or a version in it cannot be used; the message says why."""


class ActivationRefused(RegistryError):
    """A candidate is worse than the active model beyond the tolerance (use force to activate anyway)."""

    def __init__(self, message: str, comparison: dict | None = None):
        super().__init__(message)
        self.comparison = comparison or {}


def default_registry_dir() -> Path:
    """``$ARTIFACTSCOPE_MODELS``, else the user data folder + ``artifactscope/models``.

    The data folder is the one :func:`artifactscope.library.default_library_dir` uses (XDG data dir on Linux,
    Application Support on macOS, %LOCALAPPDATA% on Windows).
    """
    env = os.environ.get(MODELS_ENV)
    if env:
        return Path(env).expanduser()
    return user_data_dir() / "models"


def active_model_dir(registry: str | os.PathLike | ModelRegistry | None = None) -> Path:
    """The model scan and the GUI should use when no ``--model`` is given.

    Order: ``$ARTIFACTSCOPE_MODEL`` (an explicit override), else the registry's active version, else the
    shipped model. A registry whose active version is missing falls back to the shipped model with a warning.
    Nothing is created on disk.
    """
    if os.environ.get(model_store.MODEL_ENV):
        return model_store.default_model_dir()
    reg = registry if isinstance(registry, ModelRegistry) else ModelRegistry(registry, create=False)
    try:
        return reg.path_of(reg.active())
    except RegistryError as exc:
        warnings.warn(f"{exc}; using the shipped model", stacklevel=2)
        return model_store.default_model_dir()


# -- plain-array feature files --------------------------------------------------------------------------
def save_features(path: str | os.PathLike, ds, **extra: np.ndarray) -> None:
    """Write a Dataset (and extra plain arrays, e.g. ``validation`` or ``part``) as a compressed ``.npz``."""
    arrays = {"X": np.asarray(ds.X, dtype=np.float32), "y": np.asarray(ds.y).astype("U"),
              "groups": np.asarray(ds.groups).astype("U"), "origin": np.asarray(ds.origin).astype("U")}
    for k, v in extra.items():
        arrays[k] = np.asarray(v)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)
        fh.flush()
        os.fsync(fh.fileno())


def load_features(path: str | os.PathLike, n_features: int | None = None):
    """Read a feature file written by :func:`save_features` (never unpickles); returns (Dataset, extras)."""
    from artifactscope.training import Dataset

    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise RegistryError(f"{path}: unreadable feature file ({exc})") from None
    missing = [k for k in ("X", "y", "groups", "origin") if k not in arrays]
    if missing:
        raise RegistryError(f"{path}: not a feature file (missing {', '.join(missing)})")
    X = arrays.pop("X")
    n = len(X)
    if X.ndim != 2 or any(len(arrays[k]) != n for k in ("y", "groups", "origin")):
        raise RegistryError(f"{path}: inconsistent array shapes")
    if n_features is not None and X.shape[1] != n_features:
        raise RegistryError(f"{path}: {X.shape[1]} feature columns, the model expects {n_features}")
    ds = Dataset(X.astype(np.float32, copy=False), arrays.pop("y").astype(str), arrays.pop("groups").astype(str),
                 arrays.pop("origin").astype(str))
    return ds, arrays


# -- helpers --------------------------------------------------------------------------------------------
def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _sha256(path: Path) -> str:
    return model_store.sha256_file(path)


_fsync_dir = fsync_dir
_atomic_write_text = atomic_write


@dataclass
class VersionInfo:
    """One registered version (or ``base``, the shipped model)."""

    name: str
    path: Path
    created: str | None = None
    parent: str | None = None
    note: str = ""
    active: bool = False
    has_base_features: bool = False
    has_evaluation: bool = False
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def evaluation(self) -> dict:
        return self.record.get("evaluation") or {}


# -- the registry ---------------------------------------------------------------------------------------
class ModelRegistry:
    """A folder of numbered model versions with an atomically replaced ``active`` pointer (module docstring).

    Parameters
    ----------
    root : path-like, optional
        Registry folder; default :func:`default_registry_dir`.
    base : path-like, optional
        The implicit version ``base``; default :func:`model_store.default_model_dir` (the shipped model).
    create : bool
        Create the folder now (writers create it anyway).
    """

    def __init__(self, root: str | os.PathLike | None = None, *, base: str | os.PathLike | None = None,
                 create: bool = True) -> None:
        self.root = Path(os.path.abspath(Path(root).expanduser() if root is not None else default_registry_dir()))
        self._base = Path(base) if base is not None else None
        if create:
            self._mkdir()

    def __repr__(self) -> str:
        return f"ModelRegistry({str(self.root)!r})"

    @property
    def base_dir(self) -> Path:
        return self._base if self._base is not None else model_store.default_model_dir()

    def _mkdir(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryError(f"{self.root}: cannot create the model registry ({exc.strerror or exc})") from None

    @contextlib.contextmanager
    def _locked(self):
        """Serialise writers (activation, registration) across processes."""
        self._mkdir()
        fh = open(self.root / ".lock", "a+b")
        try:
            try:
                import fcntl
            except ImportError:  # Windows: single-writer assumption; os.replace keeps files consistent
                fcntl = None
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            yield
        finally:
            fh.close()  # releases the lock

    # -- names and paths ----------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Registered version names, oldest first (not including ``base``)."""
        if not self.root.is_dir():
            return []
        found = []
        for p in self.root.iterdir():
            m = _VERSION_RE.match(p.name)
            if m and p.is_dir():
                found.append((int(m.group(1)), p.name))
        return [name for _, name in sorted(found)]

    def path_of(self, name: str) -> Path:
        """Folder of version `name` (``base`` is the shipped model); raises RegistryError when unknown."""
        if name == BASE:
            return self.base_dir
        if not _VERSION_RE.match(name or ""):
            raise RegistryError(f"{name!r} is not a version name (expected base or v0001, v0002, ...)")
        path = self.root / name
        if not path.is_dir():
            raise RegistryError(f"{self.root}: no version {name}; `artifactscope models list` shows them")
        return path

    def resolve(self, name: str) -> str:
        """Accept ``3``, ``v3``, ``v0003`` or ``base``; return the canonical name."""
        text = str(name).strip()
        if text == BASE or text == "0":
            return BASE
        m = re.fullmatch(r"v?(\d+)", text)
        if not m:
            raise RegistryError(f"{name!r} is not a version name (expected base or v0001, v0002, ...)")
        return f"v{int(m.group(1)):04d}"

    # -- the active pointer --------------------------------------------------------------------------------
    def _read_pointer(self) -> dict:
        path = self.root / ACTIVE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"active": BASE, "previous": []}
        except (OSError, ValueError) as exc:
            raise RegistryError(f"{path}: unreadable active-model pointer ({exc}); "
                                "`artifactscope models activate NAME` rewrites it") from None
        if not isinstance(data, dict) or not isinstance(data.get("active"), str):
            raise RegistryError(f"{path}: not an active-model pointer; `artifactscope models activate NAME` "
                                "rewrites it")
        data.setdefault("previous", [])
        return data

    def active(self) -> str:
        """Name of the active version (``base`` when none was activated)."""
        return self._read_pointer()["active"]

    def _write_pointer(self, active: str, previous: list[str], action: str) -> None:
        record = {"active": active, "previous": previous[-50:], "changed": _now(), "action": action}
        _atomic_write_text(self.root / ACTIVE_FILE, json.dumps(record, indent=2) + "\n")

    # -- reading versions ----------------------------------------------------------------------------------
    def info(self, name: str) -> VersionInfo:
        name = self.resolve(name)
        path = self.path_of(name)
        record: dict = {}
        if name != BASE:
            try:
                record = json.loads((path / VERSION_FILE).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                record = {}
        created = record.get("created")
        if created is None:
            with contextlib.suppress(OSError, ValueError):
                created = json.loads((path / MANIFEST).read_text(encoding="utf-8")).get("created")
        try:
            active = self.active() == name
        except RegistryError:
            active = False
        return VersionInfo(name=name, path=path, created=created, parent=record.get("parent"),
                           note=record.get("note", "shipped model" if name == BASE else ""), active=active,
                           has_base_features=(path / BASE_FEATURES).is_file(),
                           has_evaluation=(path / EVALUATION).is_file(), record=record)

    def versions(self) -> list[VersionInfo]:
        """``base`` (when the shipped model exists) and every registered version, oldest first."""
        out = []
        if (self.base_dir / MANIFEST).is_file():
            out.append(self.info(BASE))
        out.extend(self.info(n) for n in self.names())
        return out

    def verify(self, name: str) -> model_store.ModelBundle:
        """Load version `name` with all checks (hashes, allow-list, versions) and check its extra files."""
        name = self.resolve(name)
        path = self.path_of(name)
        bundle = model_store.load_bundle(path)
        if name != BASE:
            record = self.info(name).record
            for rel, digest in (record.get("files") or {}).items():
                f = path / rel
                if not f.is_file() or _sha256(f) != digest:
                    raise BundleError(f"{f}: missing, or does not match the sha256 in {VERSION_FILE}")
        return bundle

    def base_features(self, name: str):
        """(Dataset, extras) of a version's stored training features, or None when it has none."""
        path = self.path_of(self.resolve(name)) / BASE_FEATURES
        if not path.is_file():
            return None
        return load_features(path)

    def evaluation_data(self, name: str):
        """(Dataset, part array) of a version's stored evaluation samples, or None."""
        path = self.path_of(self.resolve(name)) / EVALUATION
        if not path.is_file():
            return None
        ds, extras = load_features(path)
        part = extras.get("part")
        if part is None or len(part) != len(ds):
            part = np.full(len(ds), "evaluation")
        return ds, part.astype(str)

    # -- writing versions ----------------------------------------------------------------------------------
    def _staging(self) -> Path:
        self._mkdir()
        path = self.root / f".staging-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        path.mkdir()
        return path

    def _publish(self, staging: Path) -> str:
        """Rename a complete staging folder to the next free ``vNNNN``; returns the name."""
        with self._locked():
            names = self.names()
            n = int(names[-1][1:]) + 1 if names else 1
            while True:
                name = f"v{n:04d}"
                try:
                    if (self.root / name).exists():
                        raise FileExistsError(name)
                    os.rename(staging, self.root / name)
                    break
                except (FileExistsError, IsADirectoryError, OSError) as exc:
                    if (self.root / name).exists():
                        n += 1
                        continue
                    raise RegistryError(f"{self.root}: cannot register the version ({exc})") from None
            _fsync_dir(self.root)
        return name

    def register(self, ensemble, *, name: str | None = None, training: dict | None = None,
                 metrics: dict | None = None, parent: str | None = None, note: str = "",
                 base_features=None, base_extras: dict | None = None, evaluation=None,
                 evaluation_part: np.ndarray | None = None, record: dict | None = None) -> str:
        """Write a fitted ensemble as a new version; returns its name (e.g. ``v0003``). Does not activate it.

        Parameters
        ----------
        base_features : Dataset, optional
            Training features the next retrain starts from (``base_features.npz``).
        base_extras : dict of arrays, optional
            Extra arrays stored with them (e.g. ``validation``: rows no model of this lineage trained on).
        evaluation : Dataset, optional
            Held-out samples the version was evaluated on; activation compares models on them.
        evaluation_part : array of str, optional
            Which part of the evaluation each sample belongs to (``library``, ``base``, ``captures``).
        record : dict, optional
            More fields for ``version.json`` (e.g. ``evaluation`` figures).
        """
        staging = self._staging()
        try:
            model_store.save_bundle(ensemble, staging / "bundle", name=name, training=training, metrics=metrics)
            for p in (staging / "bundle").iterdir():
                os.rename(p, staging / p.name)
            os.rmdir(staging / "bundle")
            files = {}
            if base_features is not None and len(base_features):
                save_features(staging / BASE_FEATURES, base_features, **(base_extras or {}))
                files[BASE_FEATURES] = _sha256(staging / BASE_FEATURES)
            if evaluation is not None and len(evaluation):
                part = evaluation_part if evaluation_part is not None else np.full(len(evaluation), "evaluation")
                save_features(staging / EVALUATION, evaluation, part=np.asarray(part).astype("U"))
                files[EVALUATION] = _sha256(staging / EVALUATION)
            rec = {"created": _now(), "parent": parent, "note": note, **(record or {}), "files": files}
            _atomic_write_text(staging / VERSION_FILE, json.dumps(model_store._jsonable(rec), indent=2) + "\n")
            _fsync_dir(staging)
            return self._publish(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def import_bundle(self, source: str | os.PathLike, note: str = "") -> str:
        """Verify a bundle folder (hashes, allow-list, versions) and register a copy; returns its name.

        Only the files the manifest lists (and, when they read as plain arrays, ``base_features.npz`` and
        ``evaluation.npz``) are copied. Raises BundleError when the bundle is refused.
        """
        source = Path(source)
        bundle = model_store.load_bundle(source)  # raises BundleError: changed bytes, unsafe types, versions
        n_features = int(bundle.manifest["n_features"])
        staging = self._staging()
        try:
            shutil.copy2(source / MANIFEST, staging / MANIFEST)
            for rel in bundle.manifest["files"]:
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / rel, staging / rel)
            model_store.load_bundle(staging)  # the copy is what will be used: check it again
            files = {}
            for extra in EXTRA_FILES:
                if (source / extra).is_file():
                    load_features(source / extra, n_features)  # plain arrays of the right width, or refused
                    shutil.copy2(source / extra, staging / extra)
                    files[extra] = _sha256(staging / extra)
            rec = {"created": _now(), "parent": None, "note": note or f"imported from {source}",
                   "imported_from": str(source.resolve()), "files": files}
            _atomic_write_text(staging / VERSION_FILE, json.dumps(rec, indent=2) + "\n")
            return self._publish(staging)
        except RegistryError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise BundleError(f"{source}: refused: {exc}") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def export(self, name: str, dest: str | os.PathLike) -> Path:
        """Copy version `name` (verified first) to the folder `dest` (created; must not exist or be empty)."""
        name = self.resolve(name)
        src = self.path_of(name)
        self.verify(name)
        dest = Path(dest)
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise RegistryError(f"{dest}: exists and is not an empty folder; choose a new folder")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.export-{uuid.uuid4().hex[:8]}")
        try:
            shutil.copytree(src, tmp, ignore=shutil.ignore_patterns(".*"))
            if dest.exists():
                dest.rmdir()
            os.replace(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return dest

    def prune(self) -> list[str]:
        """Remove leftovers of interrupted writes (``.staging-*`` folders of dead processes)."""
        removed = []
        if not self.root.is_dir():
            return removed
        for p in self.root.iterdir():
            if p.name.startswith(".staging-") and p.is_dir():
                pid = p.name.split("-")[1]
                if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
                    continue
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p.name)
        return removed

    # -- activation ----------------------------------------------------------------------------------------
    def compare(self, candidate: str, against: str | None = None, *, loaded: dict | None = None) -> dict:
        """Evaluate `candidate` and `against` (default: the active version) on the candidate's stored
        evaluation samples (or, when it has none, the other's). Returns ``{"parts": {part: {"candidate": m,
        "active": m}}, "data_of": name}`` or ``{}`` when neither has evaluation samples."""
        from artifactscope.training import evaluate_predictions

        candidate = self.resolve(candidate)
        against = self.resolve(against) if against is not None else self.active()
        data, data_of = self.evaluation_data(candidate), candidate
        if data is None:
            data, data_of = self.evaluation_data(against), against
        if data is None:
            return {}
        ds, part = data
        loaded = loaded or {}
        models = {"candidate": loaded.get(candidate) or self.verify(candidate),
                  "active": loaded.get(against) or self.verify(against)}
        out: dict = {"parts": {}, "data_of": data_of, "candidate": candidate, "active": against}
        for p in sorted(set(part)):
            rows = part == p
            out["parts"][p] = {k: evaluate_predictions(ds.y[rows], b.ensemble.predict(ds.X[rows]))
                               for k, b in models.items()}
        return out

    def activate(self, name: str, *, force: bool = False, tolerance: float = DEFAULT_TOLERANCE) -> dict:
        """Make version `name` the active model.

        Refused (:class:`ActivationRefused`) when, on any part of the evaluation samples, its binary accuracy
        is lower or its false-positive rate higher than the active model's by more than `tolerance`, or when
        there are no evaluation samples to compare on; `force` skips the check. The version is verified
        (:meth:`verify`) first either way. Returns the comparison (empty when forced or nothing to compare).
        """
        name = self.resolve(name)
        bundle = self.verify(name)
        with self._locked():
            pointer = self._read_pointer()
            current = pointer["active"]
            if current == name:
                return {}
            comparison = {}
            if not force:
                comparison = self.compare(name, current, loaded={name: bundle})
                problems = worse_by(comparison, tolerance)
                if not comparison:
                    raise ActivationRefused(
                        f"cannot compare {name} with the active model {current}: neither has stored evaluation "
                        "samples; use --force to activate it anyway")
                if problems:
                    raise ActivationRefused(
                        f"{name} is worse than the active model {current} beyond the tolerance {tolerance:g}: "
                        + "; ".join(problems) + ". Use --force to activate it anyway", comparison)
            self._write_pointer(name, [*pointer["previous"], current], "force-activate" if force else "activate")
        return comparison

    def rollback(self) -> str:
        """Re-activate the model that was active before the current one (no quality gate: it is the undo).
        Returns the name now active."""
        with self._locked():
            pointer = self._read_pointer()
            stack = list(pointer["previous"])
            while stack:
                prev = stack.pop()
                try:
                    self.path_of(prev)
                except RegistryError:
                    continue  # a version deleted by hand: skip it
                self._write_pointer(prev, stack, "rollback")
                return prev
        raise RegistryError("nothing to roll back to: no earlier active model is recorded")


def worse_by(comparison: dict, tolerance: float) -> list[str]:
    """Reasons the candidate is worse than the active model beyond `tolerance` (empty: not worse)."""
    problems = []
    for part, m in (comparison.get("parts") or {}).items():
        c, a = m["candidate"], m["active"]
        if np.isfinite(c["accuracy"]) and np.isfinite(a["accuracy"]) and c["accuracy"] < a["accuracy"] - tolerance:
            problems.append(f"binary accuracy on {part} {c['accuracy']:.3f} < {a['accuracy']:.3f}")
        if np.isfinite(c["fpr"]) and np.isfinite(a["fpr"]) and c["fpr"] > a["fpr"] + tolerance:
            problems.append(f"false-positive rate on {part} {c['fpr']:.3f} > {a['fpr']:.3f}")
    return problems


def _alive(pid: int) -> bool:
    if sys.platform.startswith("win"):
        return True  # cannot tell cheaply: keep it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
