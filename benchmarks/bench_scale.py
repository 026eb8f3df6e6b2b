"""Scale: scan throughput beside decode-only throughput, flat memory over 1,000 vs 10,000 frames, --jobs 2.

    python benchmarks/bench_scale.py [--model DIR] [--frames 48] [--jobs-frames 200] [--small 1000,10000]

Prints a table and the machine. Targets (DESIGN.md): scanning 1080p costs at most 2x decoding it (ratio <= 2);
a scan's peak memory does not grow with the number of frames. The 1080p inputs are ``sample_frames/`` images
scaled to 1920x1080 (PNG folder, and the same frames as an MPEG-4 video); the memory runs use tiny
procedural PNGs, each scanned in a fresh process (peak RSS from getrusage) with a results file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from artifactscope import features, frames  # noqa: E402
from artifactscope.model_store import load_bundle  # noqa: E402
from artifactscope.scan import scan  # noqa: E402
from machine import machine_lines  # noqa: E402

MEMORY_CHILD = """
import resource, sys, time
from artifactscope.model_store import load_bundle
from artifactscope.scan import scan
model = load_bundle(sys.argv[2])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
n = sum(1 for _ in scan([sys.argv[1]], model, results_file=sys.argv[3]))
dt = time.perf_counter() - t
print(n, base / 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, dt)
"""


def make_1080p(out: Path, n: int) -> tuple[Path, Path]:
    samples = sorted((REPO / "sample_frames").glob("*.png"))
    folder = out / "png1080"
    folder.mkdir()
    video = out / "clip1080.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30, (1920, 1080))
    for i in range(n):
        img = cv2.resize(cv2.imread(str(samples[i % len(samples)])), (1920, 1080), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(folder / f"frame_{i:04d}.png"), img)
        writer.write(img)
    writer.release()
    return folder, video


def make_small(folder: Path, n: int) -> None:
    from artifactscope.synth import procedural_frame

    folder.mkdir()
    base = [procedural_frame(np.random.default_rng(i), width=48, height=32)[:, :, ::-1].copy() for i in range(50)]
    for i in range(n):
        cv2.imwrite(str(folder / f"f{i:05d}.png"), base[i % 50])


def timed(fn) -> tuple[float, int]:
    t = time.perf_counter()
    n = fn()
    return time.perf_counter() - t, n


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None, help="model bundle (default: the shipped one)")
    parser.add_argument("--frames", type=int, default=48, help="1080p frames (PNG folder and video)")
    parser.add_argument("--jobs-frames", type=int, default=200,
                        help="1080p PNGs for the --jobs 2 speed-up (enough that worker start-up does not dominate)")
    parser.add_argument("--small", default="1000,10000", help="frame counts for the memory runs")
    args = parser.parse_args(argv)
    model = load_bundle(args.model)
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder, video = make_1080p(tmp, max(args.frames, args.jobs_frames))
        first = sorted(folder.glob("*.png"))[: args.frames]
        sub = tmp / "png_sub"
        sub.mkdir()
        for p in first:
            os.link(p, sub / p.name)

        def decode_video():
            return sum(1 for f in frames.iter_video(video) if f.ok and f.index < args.frames)

        def decode_pngs():
            return sum(1 for p, _ in frames.discover([sub]) if frames.read_image(p) is not None)

        def features_video():
            return sum(1 for f in frames.iter_video(video) if f.index < args.frames
                       and features.extract(f.pixels) is not None)

        def scanner(path, **kw):
            return lambda: sum(1 for r in scan([path], model, regions=False, **kw) if r.error is None)

        short = tmp / "clip_short.mp4"  # the first --frames frames of the video, for like-for-like counts
        writer = cv2.VideoWriter(str(short), cv2.VideoWriter_fourcc(*"mp4v"), 30, (1920, 1080))
        for p in first:
            writer.write(cv2.imread(str(p)))
        writer.release()

        list(scan([folder / "frame_0000.png"], model))  # warm-up (imports, first predict)
        td, n = timed(decode_video)
        tf, _ = timed(features_video)
        ts, m = timed(scanner(short))
        tn, _ = timed(scanner(short, temporal=False))
        assert n == m == args.frames, (n, m)
        rows += [
            ("1080p video (mp4v): decode only", f"{n / td:7.1f} frames/s   {1000 * td / n:6.1f} ms/frame"),
            ("1080p video: decode + features, one thread", f"{n / tf:7.1f} frames/s   ratio to decode {tf / td:.2f}"),
            ("1080p video: scan --jobs 1", f"{m / ts:7.1f} frames/s   ratio scan/decode {ts / td:.2f}"),
            ("1080p video: scan --jobs 1, no temporal checks", f"{m / tn:7.1f} frames/s   ratio {tn / td:.2f}"),
        ]
        td, n = timed(decode_pngs)
        ts, m = timed(scanner(sub))
        assert n == m == args.frames, (n, m)
        rows += [
            ("1080p PNG folder: decode only", f"{n / td:7.1f} frames/s   {1000 * td / n:6.1f} ms/frame"),
            ("1080p PNG folder: scan --jobs 1", f"{m / ts:7.1f} frames/s   ratio scan/decode {ts / td:.2f}"),
        ]
        t1, m1 = timed(scanner(folder))
        t2, m2 = timed(scanner(folder, jobs=2))
        assert m1 == m2 == args.jobs_frames, (m1, m2)
        rows += [
            (f"{m1} 1080p PNGs: scan --jobs 1", f"{m1 / t1:7.1f} frames/s"),
            (f"{m2} 1080p PNGs: scan --jobs 2", f"{m2 / t2:7.1f} frames/s   speed-up {t1 / t2:.2f}x "
                                                "(incl. worker start-up)"),
        ]
        for n in (int(x) for x in args.small.split(",")):
            small = tmp / f"small{n}"
            make_small(small, n)
            out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(small), str(model.path),
                                  str(tmp / f"results{n}.jsonl")], capture_output=True, text=True,
                                 env=dict(os.environ, PYTHONPATH=str(REPO)), check=True).stdout.split()
            count, base, peak, dt = int(out[0]), float(out[1]), float(out[2]), float(out[3])
            rows.append((f"{n:,} tiny PNGs (48x32): peak RSS", f"{peak:7.1f} MiB (after model load {base:.1f} MiB; "
                                                                f"+{peak - base:.1f} MiB; {count / dt:.0f} frames/s)"))
    width = max(len(a) for a, _ in rows)
    print(f"artifactscope scale benchmark, model {model.name} (verdicts only: --no-regions; scan includes the "
          "temporal checks on video unless said)")
    for a, b in rows:
        print(f"  {a:<{width}}  {b}")
    for line in machine_lines():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
