"""The labelled-sample library: frames a tester labelled, kept for retraining.

One folder holds the samples by label, indexed in SQLite::

    <root>/
      index.sqlite                 samples, label history, schema version (WAL mode)
      samples/<label>/<sha256>.png one lossless RGB copy per distinct picture

``<root>/samples`` is itself a labelled data folder (``DATA/<artifact or clean>/...``) that ``artifactscope
train`` reads as it is. The core is Qt-free: the CLI (``artifactscope label FILE... --as LABEL``) and the GUI
both call :class:`SampleLibrary`.

Identity and duplicates
    A sample is identified by the SHA-256 of its *pixels* (shape and RGB bytes), not of the PNG file, so the
    same picture from two files (a PNG and its BMP copy, a screenshot saved twice) is stored once. Adding a
    picture that is already stored returns the existing sample with ``created=False``; when the new label
    differs the sample is relabelled (a tester correcting a label) and the change is kept in the history.

Safety
    - Two processes (or threads) may add at once: SQLite runs in WAL mode with a 30 s busy timeout and every
      change happens in one ``BEGIN IMMEDIATE`` transaction; ``sha256`` is UNIQUE.
    - A crash loses nothing already stored. The image file is written first (temporary file in the same
      folder, fsync, :func:`os.replace`), the row is inserted afterwards in a transaction, and a file is
      deleted only after the row that pointed to it is gone. A crash in between leaves at most an *orphan*
      file (or a hidden ``.*.tmp`` file) that no row refers to: :meth:`SampleLibrary.verify` reports it,
      :meth:`SampleLibrary.prune` deletes it, the index ignores it, and adding the same picture again reuses
      its name. Files are written and deleted only under the index's write lock, so a process never deletes
      a file another one has just stored under the same name. No row ever points to a
      missing or partial file.
    - Paths are stored relative to the root, so the folder can be moved or copied elsewhere.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import frames
from ._atomic import atomic_write, fsync_dir
from .userdirs import user_data_dir
from .artifacts import LABELS, validate_label

__all__ = [
    "INDEX_NAME",
    "SCHEMA_VERSION",
    "LabelEvent",
    "LibraryError",
    "Sample",
    "SampleLibrary",
    "default_library_dir",
    "pixel_sha256",
]

SCHEMA_VERSION = 1
INDEX_NAME = "index.sqlite"
SAMPLES_DIR = "samples"
BUSY_TIMEOUT_S = 30.0
_PNG_PARAMS = None  # filled lazily: [cv2.IMWRITE_PNG_COMPRESSION, 3]


class LibraryError(Exception):
    """The library folder cannot be used (unreadable index, newer schema, not a library)."""


def default_library_dir() -> Path:
    """Where the sample library lives when no ``--library`` is given.

    ``$ARTIFACTSCOPE_LIBRARY`` if set; else the user's data directory + ``artifactscope/library``:
    ``$XDG_DATA_HOME`` (or ``~/.local/share``) on Linux and other Unix, ``~/Library/Application Support`` on
    macOS, ``%LOCALAPPDATA%`` (or ``~/AppData/Local``) on Windows. :mod:`platformdirs` is used when it is
    installed (it is not a dependency).

    Returns
    -------
    pathlib.Path
        The folder (not created here).
    """
    env = os.environ.get("ARTIFACTSCOPE_LIBRARY")
    if env:
        return Path(env).expanduser()
    return user_data_dir() / "library"


@dataclass(frozen=True)
class Sample:
    """One stored sample.

    Attributes
    ----------
    id : int
        Row id in the index (stable while the sample exists).
    path : pathlib.Path
        The stored lossless PNG (absolute, under the library root).
    label : str
        ``clean`` or an artifact name (the tester's word, latest wins).
    sha256 : str
        SHA-256 of the pixels (see :func:`pixel_sha256`): the duplicate key.
    origin : str
        The file the sample first came from (absolute path).
    frame : int or None
        Frame index in ``origin`` when it is a video.
    time_s : float or None
        Video time of the frame.
    verdict : str or None
        What the model said about the frame before the tester labelled it (``"shader"``, ``"clean"``, ...).
    score : float or None
        The model's corruption probability then.
    added : str
        When the sample was first stored (ISO 8601, UTC).
    width, height : int
        Image size in pixels.
    """

    id: int
    path: Path
    label: str
    sha256: str
    origin: str
    frame: int | None
    time_s: float | None
    verdict: str | None
    score: float | None
    added: str
    width: int
    height: int


@dataclass(frozen=True)
class LabelEvent:
    """One entry of the label history: a sample added, seen again, relabelled or removed.

    ``action`` is ``"add"``, ``"duplicate"`` (same pixels added again with the same label), ``"relabel"`` or
    ``"remove"``; ``previous`` is the label before a relabel.
    """

    id: int
    sample_id: int
    sha256: str
    action: str
    label: str
    previous: str | None
    origin: str
    frame: int | None
    verdict: str | None
    score: float | None
    at: str


def pixel_sha256(image: np.ndarray) -> str:
    """SHA-256 of an RGB ``uint8`` image's shape and pixel bytes (independent of any file encoding)."""
    image = _check_image(image)
    h = hashlib.sha256(f"rgb8:{image.shape[0]}x{image.shape[1]}:".encode())
    h.update(np.ascontiguousarray(image).data)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------------------------
# Helpers


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _check_image(image: object) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array (RGB uint8, HxWx3), got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 RGB (HxWx3), got dtype {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be RGB uint8 of shape (H, W, 3), got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty (shape {image.shape})")
    return image


def _norm_origin(origin: str | os.PathLike[str]) -> str:
    s = os.fspath(origin)
    if isinstance(s, bytes):
        s = os.fsdecode(s)
    if not s:
        raise ValueError("origin must name the file the sample comes from")
    return os.path.abspath(os.path.expanduser(s))


def _check_frame(frame: object) -> int | None:
    if frame is None:
        return None
    if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)) or frame < 0:
        raise ValueError(f"frame must be a non-negative integer or None, got {frame!r}")
    return int(frame)


def _opt_float(value: object, what: str) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number or None, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return out


def _encode_png(image: np.ndarray) -> bytes:
    import cv2

    global _PNG_PARAMS
    if _PNG_PARAMS is None:
        _PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 3]
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(image[:, :, ::-1]), _PNG_PARAMS)
    if not ok:
        raise ValueError("cannot encode the image as PNG")
    return buf.tobytes()


_fsync_dir = fsync_dir
_atomic_write = atomic_write


def _read_video_frames(path: str, wanted: Iterable[int]) -> Iterator[frames.Frame]:
    """Yield the frames of `path` at the indices `wanted` (sorted, unique), decoding the video once."""
    wanted = sorted(set(wanted))
    # iter_video keeps indices 0, every, 2*every, ...: the gcd of the wanted indices converts few extras.
    every = math.gcd(*wanted) if any(wanted) else 1
    remaining = set(wanted)
    for fr in frames.iter_video(path, every=max(1, every)):
        if fr.index is None:  # the whole file failed
            raise frames.FrameReadError(path, fr.error or "cannot read the video")
        if fr.index in remaining:
            if not fr.ok:
                raise frames.FrameReadError(path, fr.error or f"cannot decode frame {fr.index} of the video")
            remaining.discard(fr.index)
            yield fr
            if not remaining:
                return
    if remaining:
        missing = ", ".join(str(i) for i in sorted(remaining))
        raise frames.FrameReadError(path, f"the video has no frame {missing} (it ends before)")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256      TEXT NOT NULL UNIQUE,
    path        TEXT NOT NULL UNIQUE,
    file_sha256 TEXT NOT NULL,
    label       TEXT NOT NULL,
    origin      TEXT NOT NULL,
    frame       INTEGER,
    time_s      REAL,
    verdict     TEXT,
    score       REAL,
    added       TEXT NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_label ON samples(label);
CREATE TABLE IF NOT EXISTS history (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id INTEGER NOT NULL,
    sha256    TEXT NOT NULL,
    action    TEXT NOT NULL,
    label     TEXT NOT NULL,
    previous  TEXT,
    origin    TEXT NOT NULL,
    frame     INTEGER,
    verdict   TEXT,
    score     REAL,
    at        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_origin ON history(origin, frame);
CREATE INDEX IF NOT EXISTS history_sample ON history(sample_id);
"""

# Future migrations: {from_version: [sql, ...]} taking the schema to from_version + 1.
_MIGRATIONS: dict[int, list[str]] = {}

_SAMPLE_COLUMNS = "id, path, label, sha256, origin, frame, time_s, verdict, score, added, width, height"


# --------------------------------------------------------------------------------------------------------------


class SampleLibrary:
    """A folder of labelled samples indexed in SQLite (see the module docstring).

    Parameters
    ----------
    root : str or os.PathLike, optional
        The library folder; created when missing. Default :func:`default_library_dir`.

    Raises
    ------
    LibraryError
        If the index cannot be opened or was written by a newer artifactscope.

    Notes
    -----
    One object may be shared by threads (calls are serialised); several processes may open the same folder.
    Use it as a context manager or call :meth:`close`.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_library_dir()
        self.root = Path(os.path.abspath(self.root))
        self.samples_dir = self.root / SAMPLES_DIR
        self.index_path = self.root / INDEX_NAME
        try:
            for label in LABELS:
                (self.samples_dir / label).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(f"{self.root}: cannot create the library folder ({exc.strerror or exc})") from None
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                self.index_path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise LibraryError(f"{self.index_path}: cannot open the index ({exc})") from None
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # e.g. a network file system without shared memory
                self._db.execute("PRAGMA journal_mode = DELETE")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._init_schema()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise LibraryError(f"{self.index_path}: not a usable sample index ({exc})") from None
        except BaseException:
            self._db.close()
            raise

    # -- set-up -------------------------------------------------------------------------------------------------

    def _init_schema(self) -> None:
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        db.execute(stmt)
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                return
            version = int(row[0])
            if version > SCHEMA_VERSION:
                raise LibraryError(
                    f"{self.index_path}: the library was written by a newer artifactscope (schema {version}, "
                    f"this version reads up to {SCHEMA_VERSION}); upgrade artifactscope to use it"
                )
            while version < SCHEMA_VERSION:
                for stmt in _MIGRATIONS[version]:
                    db.execute(stmt)
                version += 1
                db.execute("UPDATE schema_version SET version = ?", (version,))

    class _Tx:
        def __init__(self, lib: SampleLibrary) -> None:
            self.lib = lib

        def __enter__(self) -> sqlite3.Connection:
            self.lib._lock.acquire()
            try:
                self.lib._db.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.lib._lock.release()
                raise
            return self.lib._db

        def __exit__(self, exc_type, exc, tb) -> None:
            try:
                if exc_type is None:
                    self.lib._db.execute("COMMIT")
                else:
                    try:
                        self.lib._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
            finally:
                self.lib._lock.release()

    def _transaction(self) -> SampleLibrary._Tx:
        return SampleLibrary._Tx(self)

    # -- life cycle ---------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the index (the object cannot be used afterwards)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> SampleLibrary:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SampleLibrary({str(self.root)!r})"

    # -- adding -------------------------------------------------------------------------------------------------

    def add(
        self,
        image: np.ndarray | None = None,
        *,
        label: str,
        origin: str | os.PathLike[str],
        frame: int | None = None,
        time_s: float | None = None,
        verdict: str | None = None,
        score: float | None = None,
    ) -> tuple[Sample, bool]:
        """Store one labelled picture.

        Parameters
        ----------
        image : numpy.ndarray, optional
            RGB ``uint8`` of shape ``(H, W, 3)``. When None the picture is read from `origin` (frame `frame` of
            it when `origin` is a video).
        label : str
            ``clean`` or an artifact name.
        origin : str or os.PathLike
            The file the picture comes from (stored as an absolute path).
        frame : int, optional
            Frame index in `origin` when it is a video (required to read a video).
        time_s : float, optional
            Video time of the frame (taken from the video when read here and not given).
        verdict : str, optional
            The model's earlier verdict (``clean`` or an artifact name).
        score : float, optional
            The model's earlier corruption probability.

        Returns
        -------
        (Sample, bool)
            The stored sample and whether it is new. ``False`` means the same pixels were already stored;
            if their label differed, the sample now carries the new `label` (the change is in
            :meth:`history`).

        Raises
        ------
        ValueError
            Unknown label or verdict, image not RGB uint8 HxWx3, bad frame/score, video without a frame.
        artifactscope.frames.FrameReadError
            `origin` could not be read (when `image` is None).
        """
        validate_label(label)
        if verdict is not None:
            validate_label(verdict)
        frame = _check_frame(frame)
        time_s = _opt_float(time_s, "time_s")
        score = _opt_float(score, "score")
        origin = _norm_origin(origin)
        if image is None:
            if frames.is_video(origin):
                if frame is None:
                    raise ValueError(f"{origin}: a video needs the index of the frame to store (frame=...)")
                fr = next(_read_video_frames(origin, [frame]))
                image = fr.pixels
                if time_s is None:
                    time_s = fr.time_s
            else:
                image = frames.read_image(origin)
        image = _check_image(image)
        return self._store(image, label, origin, frame, time_s, verdict, score)

    def add_file(
        self,
        path: str | os.PathLike[str],
        *,
        label: str,
        frame: int | Iterable[int] | None = None,
        verdict: str | None = None,
        score: float | None = None,
    ) -> list[tuple[Sample, bool]]:
        """Store an image file, or chosen frames of a video, under `label`.

        Parameters
        ----------
        path : str or os.PathLike
            An image (one sample; `frame` must be None) or a video (`frame` required: one index or several,
            all read in one pass).
        label, verdict, score
            As in :meth:`add`.

        Returns
        -------
        list of (Sample, bool)
            One per stored picture, in the order of the frame indices (sorted).
        """
        validate_label(label)
        spath = _norm_origin(path)
        if not frames.is_video(spath):
            if frame is not None:
                raise ValueError(f"{spath}: frame= applies to videos only; an image is one sample")
            return [self.add(None, label=label, origin=spath, verdict=verdict, score=score)]
        if frame is None:
            raise ValueError(f"{spath}: a video needs the index of the frame(s) to store (frame=...)")
        wanted = [frame] if isinstance(frame, (int, np.integer)) else list(frame)
        wanted = [_check_frame(f) for f in wanted]
        if not wanted:
            raise ValueError(f"{spath}: no frame index given")
        return [
            self.add(fr.pixels, label=label, origin=spath, frame=fr.index, time_s=fr.time_s,
                     verdict=verdict, score=score)
            for fr in _read_video_frames(spath, wanted)  # type: ignore[arg-type]
        ]

    def _store(self, image: np.ndarray, label: str, origin: str, frame: int | None, time_s: float | None,
               verdict: str | None, score: float | None) -> tuple[Sample, bool]:
        sha = pixel_sha256(image)
        data = _encode_png(image)  # encoded outside the lock
        file_sha = hashlib.sha256(data).hexdigest()
        rel = f"{SAMPLES_DIR}/{label}/{sha}.png"
        now = _now()
        old_file: Path | None = None
        with self._transaction() as db:
            row = db.execute(f"SELECT {_SAMPLE_COLUMNS} FROM samples WHERE sha256 = ?", (sha,)).fetchone()
            if row is not None:
                existing = self._sample(row)
                if existing.label == label:
                    self._log(db, existing.id, sha, "duplicate", label, None, origin, frame, verdict, score, now)
                    return existing, False
                # A tester correcting a label: the new file first, then the row, the old file last.
                _atomic_write(self.root / rel, data)
                db.execute("UPDATE samples SET label = ?, path = ?, file_sha256 = ? WHERE id = ?",
                           (label, rel, file_sha, existing.id))
                self._log(db, existing.id, sha, "relabel", label, existing.label, origin, frame, verdict, score,
                          now)
                old_file = existing.path
                sample_id = existing.id
                created = False
            else:
                # File first (atomically), row second: a crash in between leaves only an orphan file.
                _atomic_write(self.root / rel, data)
                sample_id = self._insert_row(db, (sha, rel, file_sha, label, origin, frame, time_s, verdict,
                                                  score, now, int(image.shape[1]), int(image.shape[0])))
                self._log(db, sample_id, sha, "add", label, None, origin, frame, verdict, score, now)
                created = True
            row = db.execute(f"SELECT {_SAMPLE_COLUMNS} FROM samples WHERE id = ?", (sample_id,)).fetchone()
        if old_file is not None:
            self._unlink_unreferenced(old_file)
        return self._sample(row), created

    def _unlink_unreferenced(self, path: Path) -> None:
        # Under the write lock, and only if no row refers to the file any more: another process may have
        # stored the same picture under this name again since our commit.
        rel = Path(os.path.relpath(path, self.root)).as_posix()
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM samples WHERE path = ?", (rel,)).fetchone() is None:
                try:
                    path.unlink()
                except OSError:
                    pass  # an orphan: reported by verify(), removed by prune(), harmless

    @staticmethod
    def _insert_row(db: sqlite3.Connection, values: tuple) -> int:
        cur = db.execute(
            "INSERT INTO samples (sha256, path, file_sha256, label, origin, frame, time_s, verdict, score, added,"
            " width, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        return int(cur.lastrowid)

    @staticmethod
    def _log(db: sqlite3.Connection, sample_id: int, sha: str, action: str, label: str, previous: str | None,
             origin: str, frame: int | None, verdict: str | None, score: float | None, at: str) -> None:
        db.execute(
            "INSERT INTO history (sample_id, sha256, action, label, previous, origin, frame, verdict, score, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sample_id, sha, action, label, previous, origin, frame, verdict, score, at),
        )

    # -- reading ------------------------------------------------------------------------------------------------

    def _sample(self, row: tuple) -> Sample:
        sid, rel, label, sha, origin, frame, time_s, verdict, score, added, width, height = row
        return Sample(int(sid), self.root / Path(rel), label, sha, origin, frame, time_s, verdict, score, added,
                      int(width), int(height))

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def get(self, sample_id: int) -> Sample:
        """The sample with this id; KeyError if there is none."""
        rows = self._query(f"SELECT {_SAMPLE_COLUMNS} FROM samples WHERE id = ?", (int(sample_id),))
        if not rows:
            raise KeyError(f"no sample with id {sample_id} in {self.root}")
        return self._sample(rows[0])

    def find(self, image: np.ndarray) -> Sample | None:
        """The stored sample with exactly these pixels, or None."""
        rows = self._query(f"SELECT {_SAMPLE_COLUMNS} FROM samples WHERE sha256 = ?", (pixel_sha256(image),))
        return self._sample(rows[0]) if rows else None

    def samples(self, label: str | None = None) -> list[Sample]:
        """All samples (or those with `label`), oldest first."""
        if label is None:
            rows = self._query(f"SELECT {_SAMPLE_COLUMNS} FROM samples ORDER BY id")
        else:
            validate_label(label)
            rows = self._query(f"SELECT {_SAMPLE_COLUMNS} FROM samples WHERE label = ? ORDER BY id", (label,))
        return [self._sample(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Number of samples per label: every label of :data:`artifacts.LABELS` (0 included)."""
        out = dict.fromkeys(LABELS, 0)
        for label, n in self._query("SELECT label, COUNT(*) FROM samples GROUP BY label"):
            out[label] = int(n)
        return out

    def __len__(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM samples")[0][0])

    def label_of(self, origin: str | os.PathLike[str], frame: int | None = None) -> str | None:
        """What a tester last said about this origin file (and video frame), or None.

        None also when the sample that label went to has since been removed.
        """
        rows = self._query(
            "SELECT h.label, EXISTS(SELECT 1 FROM samples s WHERE s.id = h.sample_id) FROM history h"
            " WHERE h.origin = ? AND h.frame IS ? AND h.action != 'remove' ORDER BY h.id DESC LIMIT 1",
            (_norm_origin(origin), _check_frame(frame)),
        )
        if not rows or not rows[0][1]:
            return None
        return rows[0][0]

    def history(self, sample_id: int | None = None) -> list[LabelEvent]:
        """The label history (of one sample, or all), oldest first."""
        cols = "id, sample_id, sha256, action, label, previous, origin, frame, verdict, score, at"
        if sample_id is None:
            rows = self._query(f"SELECT {cols} FROM history ORDER BY id")
        else:
            rows = self._query(f"SELECT {cols} FROM history WHERE sample_id = ? ORDER BY id", (int(sample_id),))
        return [LabelEvent(*r) for r in rows]

    # -- removing -----------------------------------------------------------------------------------------------

    def remove(self, sample_id: int) -> None:
        """Delete a sample (row first, then its file); KeyError if there is none."""
        with self._transaction() as db:
            row = db.execute(f"SELECT {_SAMPLE_COLUMNS} FROM samples WHERE id = ?", (int(sample_id),)).fetchone()
            if row is None:
                raise KeyError(f"no sample with id {sample_id} in {self.root}")
            s = self._sample(row)
            db.execute("DELETE FROM samples WHERE id = ?", (s.id,))
            self._log(db, s.id, s.sha256, "remove", s.label, None, s.origin, s.frame, None, None, _now())
        self._unlink_unreferenced(s.path)

    def prune(self) -> list[str]:
        """Delete orphan and leftover temporary files (what a crash can leave); return their relative paths.

        Safe while other processes use the library: files are written and rows changed only under the
        index's write lock, which this holds while it looks.
        """
        removed: list[str] = []
        with self._transaction() as db:
            known = {r[0] for r in db.execute("SELECT path FROM samples")}
            for rel in self._files():
                if rel not in known:
                    try:
                        (self.root / rel).unlink()
                    except OSError:
                        continue
                    removed.append(rel)
        return removed

    def _files(self) -> list[str]:
        out: list[str] = []
        if self.samples_dir.is_dir():
            for dirpath, dirs, files in os.walk(self.samples_dir):
                dirs.sort()
                for name in sorted(files):
                    out.append(Path(os.path.relpath(os.path.join(dirpath, name), self.root)).as_posix())
        return out

    # -- checking -----------------------------------------------------------------------------------------------

    def verify(self, deep: bool = False) -> list[str]:
        """Check the folder against the index.

        Parameters
        ----------
        deep : bool, optional
            Also decode every image and check its pixel hash (slow); by default the file bytes are hashed.

        Returns
        -------
        list of str
            One line per problem, empty when all is well: ``"missing file: ..."`` (a row without its file),
            ``"hash mismatch: ..."`` (a file changed since it was stored), ``"orphan file: ..."`` (a file no
            row refers to, e.g. left by a crash; harmless, :meth:`prune` deletes it) and
            ``"leftover temporary file: ..."``. verify takes no lock, so while another process is adding, the
            file it is writing can show up as an orphan or temporary file for a moment.
        """
        rows = self._query("SELECT id, path, sha256, file_sha256 FROM samples ORDER BY id")
        problems: list[str] = []
        known: set[str] = set()
        for sid, rel, sha, file_sha in rows:
            known.add(rel)
            path = self.root / rel
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                problems.append(f"missing file: sample {sid} -> {rel}")
                continue
            except OSError as exc:
                problems.append(f"unreadable file: sample {sid} -> {rel} ({exc.strerror or exc})")
                continue
            if hashlib.sha256(data).hexdigest() != file_sha:
                problems.append(f"hash mismatch: sample {sid} -> {rel} (file changed since it was stored)")
                continue
            if deep:
                try:
                    ok = pixel_sha256(frames.read_image(path)) == sha
                except (frames.FrameReadError, ValueError):
                    ok = False
                if not ok:
                    problems.append(f"hash mismatch: sample {sid} -> {rel} (pixels differ from the index)")
        for rel in self._files():
            if rel in known:
                continue
            name = rel.rsplit("/", 1)[-1]
            if name.startswith(".") and name.endswith(".tmp"):
                problems.append(f"leftover temporary file: {rel}")
            else:
                problems.append(f"orphan file: {rel} (no sample refers to it)")
        return problems
