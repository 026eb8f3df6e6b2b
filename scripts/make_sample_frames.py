"""Write ``sample_frames/``: clean and corrupted frames from several render sources, each file named after
its true label first (``clean_doom_01.png``, ``shader_panda3d_02.png``), plus a short clean clip, a clip
with a few torn frames (frames 20-23) and the README's contact sheet. Uses a render seed the shipped model was
not trained on.

    python scripts/make_sample_frames.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from artifactscope import sources, synth  # noqa: E402
from artifactscope.artifacts import ARTIFACT_NAMES  # noqa: E402
from artifactscope.sources import save_mp4, save_png  # noqa: E402

SIZE = (960, 540)


TORN = range(20, 24)  # frames of the torn clip whose upper part still shows the frame before


def write_torn_clip(out: Path, name: str, seed: int) -> Path:
    """``screen_tearing_<name>_clip.mp4``: 48 frames of a moving scene; in frames :data:`TORN` the rows above a
    seam that rolls down the screen still show the frame before (what a missed vertical sync shows)."""
    torn, _ = synth.rolling_tear(sources.get_source(name).clip(48, seed + 199, (640, 360)), TORN, first=0.3,
                                 step=0.12)
    path = out / f"screen_tearing_{name}_clip.mp4"
    save_mp4(path, torn)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(REPO / "sample_frames"))
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--sheet", default=str(REPO / "docs" / "contact_sheet.jpg"))
    args = parser.parse_args(argv)

    usable = [name for name, reason in sources.available_sources().items() if reason is None]
    if not usable:
        print("no render source can run here", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    counter: dict[str, int] = {}

    def write(label: str, source: str, image: np.ndarray) -> None:
        counter[(label, source)] = counter.get((label, source), 0) + 1
        save_png(out / f"{label}_{source}_{counter[(label, source)]:02d}.png", image)

    # Clips give each frame a later moment of the same scene (for tearing) and a clip for the video sample.
    clips = {name: sources.get_source(name).clip(6, args.seed + k, SIZE) for k, name in enumerate(usable)}
    for k, name in enumerate(usable):
        write("clean", name, clips[name][0])
    for i, label in enumerate(ARTIFACT_NAMES):
        for j in range(2):
            name = usable[(2 * i + j) % len(usable)]
            frame, later = clips[name][2 + j], clips[name][5]
            corrupted, _ = synth.corrupt(frame, label, rng, other=later, reencode=False)
            write(label, name, corrupted)

    # A short clean clip (mp4): consecutive frames of one moving scene; and one with a few torn frames.
    name = usable[0]
    save_mp4(out / f"clean_{name}_clip.mp4", sources.get_source(name).clip(48, args.seed + 99, (640, 360)))
    write_torn_clip(out, name, args.seed)

    sheet_frame = clips[usable[0]][1]
    sheet = synth.contact_sheet(sheet_frame, seed=args.seed, others=clips[usable[0]][4], cell_width=400)
    Path(args.sheet).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.sheet, np.ascontiguousarray(sheet[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"{sum(counter.values())} frames and two clips written to {out}; contact sheet {args.sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
