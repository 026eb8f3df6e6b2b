"""Corrupting frames for training: one call per sample (`corrupt`) and a whole labelled data set on disk."""

from __future__ import annotations

import csv
import logging
import os
import re
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from artifactscope.artifacts import ARTIFACT_NAMES, CLEAN, LABELS, get
from artifactscope.synth.generators import GENERATORS, check_frame

__all__ = ["corrupt", "jpeg_roundtrip", "synthesize_dataset"]

log = logging.getLogger(__name__)

_P_REENCODE = 0.5
_JPEG_QUALITY = (60, 95)


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode an RGB uint8 image as JPEG at `quality` and decode it again (RGB in, RGB out)."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - cv2 only fails here on invalid input, which check_frame rules out
        raise RuntimeError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def corrupt(frame: np.ndarray, label: str, rng: np.random.Generator | int, *, other: np.ndarray | None = None,
            reencode: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Apply the generator of `label` to `frame`, then (p=0.5) round-trip the result through JPEG.

    Parameters
    ----------
    frame : numpy.ndarray
        uint8 RGB (H, W, 3) clean frame; not modified.
    label : str
        An artifact name from ``artifacts.ARTIFACT_NAMES``, or ``"clean"`` (no corruption; the re-encoding
        still applies, so clean and corrupted samples share the same compression statistics).
    rng : numpy.random.Generator or int
        Source of randomness (an int is used as a seed).
    other : numpy.ndarray, optional
        Another moment of the same scene, used by the temporal classes (``screen_tearing``).
    reencode : bool
        When True, re-encode as JPEG with quality 60-95 with probability 0.5, so that the experts learn the
        artifact and not the lossless look of the generator. The mask is left as the generator made it.

    Returns
    -------
    corrupted, mask : numpy.ndarray
        uint8 RGB (H, W, 3) image and bool (H, W) mask of the corrupted pixels (all False for ``clean``).

    Raises
    ------
    ValueError
        If `frame` or `other` is not a uint8 (H, W, 3) array, or `label` is unknown.
    """
    check_frame(frame)
    if label not in LABELS:
        raise ValueError(f"unknown label {label!r}; expected one of: {', '.join(LABELS)}")
    if other is not None:
        check_frame(other, "other")
    rng = np.random.default_rng(rng)
    if label == CLEAN:
        out, mask = frame.copy(), np.zeros(frame.shape[:2], bool)
    else:
        out, mask = GENERATORS[label](frame, rng, other=other)
    if reencode and rng.random() < _P_REENCODE:
        out = jpeg_roundtrip(out, int(rng.integers(_JPEG_QUALITY[0], _JPEG_QUALITY[1] + 1)))
    return out, mask


# ------------------------------------------------------------------------------------------------ data set
def _write_png(path: Path, image: np.ndarray) -> None:
    """Write RGB (or single-channel) uint8 as PNG; imencode + tofile works with non-ASCII paths."""
    data = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, buf = cv2.imencode(".png", data)
    if not ok:  # pragma: no cover
        raise OSError(f"could not encode {path}")
    buf.tofile(str(path))


def _safe_stem(path: str) -> str:
    """File-name stem reduced to a portable alphabet (names must survive zips, CI artefacts, other OSes)."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(path).stem).strip("_")
    return stem[:40] or "frame"


def _thumb(image: np.ndarray) -> np.ndarray:
    return cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (64, 36), interpolation=cv2.INTER_AREA
                      ).astype(np.float32)


def synthesize_dataset(clean_paths: Sequence[str | os.PathLike], out_dir: str | os.PathLike, per_class: int,
                       seed: int, progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Write a labelled, masked data set of synthetic artifacts made from clean frames.

    Parameters
    ----------
    clean_paths : sequence of str or path-like
        Clean frames (any format ``artifactscope.frames.read_image`` reads). Unreadable files are logged and
        skipped.
    out_dir : str or path-like
        Output folder; created if missing. Receives ``<label>/<name>.png`` and, for artifact classes,
        ``<label>/<name>.mask.png`` (0/255), ``clean/<name>.png``, and ``index.csv`` (path, label, source, seed;
        paths relative to `out_dir`, seed = the integer seed of that sample's generator).
    per_class : int
        Samples per artifact class and clean frames written (>= 1). Frames are used in a cycle, so every class
        sees the same frames (content does not give the class away).
    seed : int
        Master seed; sample ``i`` of class ``k`` uses ``SeedSequence([seed, k, i])``.
    progress : callable, optional
        Called as ``progress(done, total)`` after each sample.

    Returns
    -------
    dict
        ``{label: count}`` for ``clean`` and every artifact class.

    Notes
    -----
    Temporal classes (``screen_tearing``, ``screen_stuttering``) get as `other` the nearest other frame of the
    same folder among `clean_paths` when it looks like the same scene (grey 64x36 thumbnails within 40 levels
    mean absolute difference); otherwise the generator fabricates one by a camera move. A corrupted sample whose
    mask comes out empty (e.g. stuttering on a flat frame) is redrawn on the next frame.
    """
    from artifactscope.frames import FrameReadError, read_image  # lazy: frames.py is a sibling module

    if int(per_class) < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    paths = [str(p) for p in clean_paths]
    if not paths:
        raise ValueError("clean_paths is empty; give at least one clean frame")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    cache: OrderedDict[str, np.ndarray | None] = OrderedDict()

    def load(path: str) -> np.ndarray | None:
        if path in cache:
            cache.move_to_end(path)
            return cache[path]
        try:
            img: np.ndarray | None = read_image(path)
        except (FrameReadError, OSError, ValueError) as exc:
            log.warning("skipping unreadable clean frame %s: %s", path, exc)
            img = None
        cache[path] = img
        if len(cache) > 16:
            cache.popitem(last=False)
        return img

    by_folder: dict[str, list[int]] = {}
    for i, p in enumerate(paths):
        by_folder.setdefault(str(Path(p).parent), []).append(i)
    for idx in by_folder.values():
        idx.sort(key=lambda j: paths[j])

    def pick_other(j: int, frame: np.ndarray) -> np.ndarray | None:
        sib = by_folder[str(Path(paths[j]).parent)]
        pos = sib.index(j)
        for k in (pos + 1, pos - 1):
            if 0 <= k < len(sib) and paths[sib[k]] != paths[j]:
                cand = load(paths[sib[k]])
                if cand is not None and float(np.abs(_thumb(cand) - _thumb(frame)).mean()) < 40:
                    return cand
        return None

    labels = (CLEAN, *ARTIFACT_NAMES)
    total = per_class * len(labels)
    done = 0
    summary = {label: 0 for label in labels}
    rows: list[tuple[str, str, str, int]] = []
    for k, label in enumerate(labels):
        (out / label).mkdir(exist_ok=True)
        temporal = label != CLEAN and get(label).temporal
        for i in range(per_class):
            sample_seed = int(np.random.SeedSequence([int(seed), k, i]).generate_state(1)[0])
            written = readable = False
            for step in range(len(paths)):
                j = (i + step) % len(paths)
                frame = load(paths[j])
                if frame is None:
                    continue
                readable = True
                other = pick_other(j, frame) if temporal else None
                img, mask = corrupt(frame, label, np.random.default_rng(sample_seed), other=other)
                if label != CLEAN and not mask.any():
                    continue  # this frame cannot show the artifact (e.g. stuttering on a flat frame)
                name = f"{i:05d}_{_safe_stem(paths[j])}"
                _write_png(out / label / f"{name}.png", img)
                if label != CLEAN:
                    _write_png(out / label / f"{name}.mask.png", mask.astype(np.uint8) * 255)
                rows.append((f"{label}/{name}.png", label, paths[j], sample_seed))
                summary[label] += 1
                written = True
                break
            if not readable:
                raise ValueError(f"none of the {len(paths)} clean frames could be read")
            if not written:
                log.warning("no usable clean frame for %s sample %d", label, i)
            done += 1
            if progress is not None:
                progress(done, total)

    with open(out / "index.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "label", "source", "seed"])
        writer.writerows(rows)
    return summary
