"""Temporal tearing check on rendered video: torn frames found, and tearing false alarms on clean frames.

For every available render source, ``--clips`` clips of ``--frames`` consecutive frames are rendered; each is
written twice as mp4: clean, and with frames 10-13 torn (the part above a seam rolling down, or left of a seam
moving right in every other clip, still shows the frame before, as with a missed vertical sync). Both are
scanned with the shipped model (temporal checks on) and the table gives, per source, the torn frames labelled
``screen_tearing`` (only those whose stale part differs visibly from the fresh picture) and the other frames
labelled ``screen_tearing`` (false alarms).

    python benchmarks/bench_temporal.py [--clips 4 --frames 30]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from artifactscope import scan as scan_mod  # noqa: E402
from artifactscope import sources, synth  # noqa: E402
from artifactscope.model_store import load_bundle  # noqa: E402
from artifactscope.temporal import TEAR  # noqa: E402
from machine import machine_lines  # noqa: E402

TORN = range(10, 14)
VISIBLE = 2.0  # mean grey-level change of the stale part below which a tear is invisible (a still scene)


def visibly_torn(frames: list[np.ndarray], stale: dict[int, tuple[slice, ...]]) -> list[int]:
    """The torn frames whose stale part differs visibly from the fresh picture."""
    return [t for t, part in stale.items() if cv2.absdiff(frames[t][part], frames[t - 1][part]).mean() >= VISIBLE]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=4, help="clips per source")
    ap.add_argument("--frames", type=int, default=30, help="frames per clip (at least 16)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sources", default=None, help="comma-separated sources (default: every available one)")
    args = ap.parse_args(argv)
    if args.frames < 16:
        ap.error("--frames must be at least 16 (frames 10-13 are torn)")
    names = args.sources.split(",") if args.sources else [
        n for n, reason in sources.available_sources().items() if reason is None]
    model = load_bundle(None)
    work = Path(tempfile.mkdtemp(prefix="bench-temporal-"))
    rows, t0 = [], time.perf_counter()
    for s_i, name in enumerate(names):
        found = torn_total = false_alarms = other_frames = 0
        for c in range(args.clips):
            frames = sources.get_source(name).clip(args.frames, args.seed + 100 * s_i + c, (640, 360))
            clean, torn = work / f"{name}_{c}_clean.mp4", work / f"{name}_{c}_torn.mp4"
            torn_clip, stale = synth.rolling_tear(frames, TORN, vertical=bool(c % 2))
            visible = visibly_torn(frames, stale)
            sources.save_mp4(clean, frames)
            sources.save_mp4(torn, torn_clip)
            for path, torn_frames in ((clean, ()), (torn, visible)):
                for r in scan_mod.scan([path], model):
                    if r.error is not None:
                        continue
                    hit = bool(r.corrupted) and r.label == TEAR
                    if r.frame in TORN and r.frame not in torn_frames:
                        continue  # torn, but invisibly (nothing moved there): neither a hit nor a false alarm
                    if r.frame in torn_frames:
                        torn_total += 1
                        found += hit
                    else:
                        other_frames += 1
                        false_alarms += hit
        rows.append((name, found, torn_total, false_alarms, other_frames))
    print("## Temporal tearing check on rendered clips (mp4, 640x360, shipped model)\n")
    for line in machine_lines():
        print(line)
    print(f"{args.clips} clips of {args.frames} frames per source, seed {args.seed}; "
          f"{(time.perf_counter() - t0) / 60:.1f} min\n")
    print("| source | visibly torn frames found | tearing false alarms (other frames) |")
    print("|---|---:|---:|")
    for name, found, total, fa, other in rows:
        print(f"| {name} | {found}/{total} | {fa}/{other} |")
    found, total = sum(r[1] for r in rows), sum(r[2] for r in rows)
    fa, other = sum(r[3] for r in rows), sum(r[4] for r in rows)
    print(f"| **all** | {found}/{total} = {found / max(total, 1):.2f} | {fa}/{other} = {fa / max(other, 1):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
