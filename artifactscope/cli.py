"""The ``artifactscope`` command.

Exit status of ``scan``: 0 every frame clean, 1 artifacts found, 2 usage error or unreadable input (and no
artifact found). Other commands: 0 success, 2 usage or I/O error.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from artifactscope import __version__
from artifactscope._terminal import printable
from artifactscope.artifacts import ARTIFACT_NAMES

EXIT_CLEAN, EXIT_FOUND, EXIT_ERROR = 0, 1, 2
WRITER_NAMES = ("table", "json", "jsonl", "csv", "html", "junit")  # keys of artifactscope.reports.WRITERS


class _Progress:
    """A tqdm bar on stderr, shown only on a terminal (or when forced) and when there is enough work."""

    def __init__(self, desc: str, enabled: bool | None, unit: str = "file"):
        self.desc, self.enabled, self.unit, self.bar = desc, enabled, unit, None

    def __call__(self, done: int, total: int | None, *_):
        if self.enabled is False:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr,
                            disable=None if self.enabled is None else False, leave=False)
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def stage(self, stage: str, done: int, total: int):
        if stage != self.desc:  # a new stage gets a new bar
            self.close()
            self.desc = stage
        self(done, total)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _fail(message: str) -> int:
    print(f"artifactscope: error: {printable(message)}", file=sys.stderr)
    return EXIT_ERROR


@contextlib.contextmanager
def _output(path: str | None):
    """stdout, or a file written to a temporary name and moved into place only when complete."""
    if path is None or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            yield fh
    except BaseException:
        tmp.unlink(missing_ok=True)  # the previous report, if any, stays as it was
        raise
    os.replace(tmp, target)


def _load_model(path: str | None):
    from artifactscope.model_store import BundleError, load_bundle

    if path is None:  # the registry's active version (after a retrain), else the shipped model
        from artifactscope.registry import active_model_dir

        path = active_model_dir()
    try:
        return load_bundle(path), None
    except BundleError as exc:
        return None, str(exc)


# -- scan -----------------------------------------------------------------------------------------------
def cmd_scan(args) -> int:
    from artifactscope import scan as scan_mod
    from artifactscope.reports import WRITERS

    if args.backend == "dask" and not args.scheduler:
        return _fail("--backend dask needs --scheduler ADDRESS (e.g. tcp://scheduler:8786)")
    model, error = _load_model(args.model)
    if model is None:
        return _fail(error)
    tally = scan_mod.Tally()
    # No counting pass over huge folders: the bar's total appears once discovery has finished.
    single = len(args.paths) == 1 and not os.path.isdir(args.paths[0])
    show = args.progress == "always" or (args.progress == "auto" and not single)
    bar = _Progress("scanning", None if args.progress == "auto" else args.progress == "always")
    try:
        results = scan_mod.scan(args.paths, model, threshold=args.threshold, every=args.every, fps=args.fps,
                                jobs=args.jobs, progress=bar if show else None, backend=args.backend,
                                scheduler=args.scheduler, results_file=args.resume, regions=not args.no_regions,
                                temporal=not args.no_temporal)
        if args.resume:
            # Records go to the results file as they come; the report is made from all of it, old and new.
            for _ in results:
                pass
            bar.close()
            results = scan_mod.read_results(args.resume)
        write = WRITERS[args.format]
        if args.format in ("table", "html", "junit"):  # they explain near misses with the thresholds in effect
            write = functools.partial(write, thresholds=model.thresholds if args.threshold is None else args.threshold)
        with _output(args.out) as out:
            write(tally.watch(results), out)
    except KeyboardInterrupt:
        bar.close()
        kept = f"; finished files are kept in {args.resume}, run the same command to resume" if args.resume else ""
        print(f"artifactscope: interrupted{kept}", file=sys.stderr)
        return 130
    except (scan_mod.ResultsFileError, scan_mod.BackendUnavailable) as exc:
        bar.close()
        return _fail(str(exc))
    except OSError as exc:
        bar.close()
        return _fail(f"cannot write the results: {exc}")
    bar.close()
    summary = tally.as_dict()
    if args.out and args.out != "-" or args.format != "table":
        found = ", ".join(f"{k} {v}" for k, v in sorted(summary["by_artifact"].items()))
        print(f"{summary['frames']} frame(s), {summary['flagged']} flagged" + (f" ({found})" if found else "")
              + f", {summary['errors']} unreadable", file=sys.stderr)
    return scan_mod.exit_status(summary)


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


# -- train / evaluate -----------------------------------------------------------------------------------
def _dataset(args, bar: _Progress):
    from artifactscope import training

    return training.build_dataset(args.data, per_frame=args.per_frame, n_clean=args.clean_per_frame,
                                  seed=args.seed, jobs=args.jobs, cache_dir=None if args.no_cache else args.cache,
                                  progress=bar.stage, with_paper="paper" in getattr(args, "recipes", ()),
                                  max_frames_per_source=getattr(args, "max_frames_per_source", None))


def _dataset_or_error(args, bar: _Progress):
    """(dataset, None), or (None, message) when the folders hold nothing usable; the bar is closed either way."""
    try:
        return _dataset(args, bar), None
    except (ValueError, FileNotFoundError) as exc:
        return None, str(exc)
    finally:
        bar.close()


def _check_folders(folders: Sequence[str]) -> str | None:
    for folder in folders:
        if not Path(folder).is_dir():
            return f"{folder}: no such folder"
    return None


def cmd_train(args) -> int:
    from artifactscope import model_store, training

    problem = _check_folders(args.data)
    if problem:
        return _fail(problem)
    bar = _Progress("features", None, unit="frame")
    ds, problem = _dataset_or_error(args, bar)
    if ds is None:
        return _fail(problem)
    print(f"dataset: {len(ds)} samples from {len(set(ds.groups))} source(s)", file=sys.stderr)
    params = {"target_fpr": args.target_fpr, "combiner": args.combiner, "n_jobs": args.jobs}
    metrics = {}
    if not args.no_holdout:
        train, test = training.split_by_source(ds, seed=args.seed)
        held = sorted(str(g) for g in set(ds.groups[test]))
        candidate = training.fit_ensemble(ds.subset(train), progress=bar.stage, **params)
        bar.close()
        metrics["holdout"] = training.evaluate_predictions(ds.y[test], candidate.predict(ds.X[test]))
        metrics["holdout"]["sources"] = held
        print(training.format_metrics(metrics["holdout"], f"held-out evaluation (sources: {', '.join(held)})"))
    ensemble = training.fit_ensemble(ds, progress=bar.stage, **params)
    bar.close()
    metrics["oof"] = ensemble.oof_metrics_
    try:
        model_store.save_bundle(ensemble, args.out, name=args.name, training=ds.summary(), metrics=metrics)
    except OSError as exc:
        return _fail(f"cannot write the model to {args.out}: {exc}")
    print(f"model written to {args.out}")
    return EXIT_CLEAN


def cmd_evaluate(args) -> int:
    from artifactscope import training

    problem = _check_folders(args.data)
    if problem:
        return _fail(problem)
    if args.by_source:
        return _evaluate_by_source(args)
    model, error = _load_model(args.model)
    if model is None:
        return _fail(error)
    bar = _Progress("features", None, unit="frame")
    ds, problem = _dataset_or_error(args, bar)
    if ds is None:
        return _fail(problem)
    verdicts = model.ensemble.decide(model.ensemble.predict_proba(ds.X), threshold=args.threshold)
    metrics = training.evaluate_predictions(ds.y, verdicts.labels)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print(training.format_metrics(metrics, f"model {model.name} on {len(ds)} samples"))
    return EXIT_CLEAN


def _recipes(text: str) -> tuple[str, ...]:
    from artifactscope.training import RECIPES

    names = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    unknown = [n for n in names if n not in RECIPES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(RECIPES)}")
    return names


def _evaluate_by_source(args) -> int:
    from artifactscope import training

    bar = _Progress("features", None, unit="frame")
    try:
        ds = _dataset(args, bar)
        bar.close()
        print(f"dataset: {len(ds)} samples from sources {', '.join(sorted(set(ds.groups)))}", file=sys.stderr)
        result = training.leave_one_source_out(ds, args.recipes, progress=bar.stage, n_jobs=args.jobs)
    except (ValueError, FileNotFoundError) as exc:
        bar.close()
        return _fail(str(exc))
    bar.close()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(training.format_comparison(result))
    return EXIT_CLEAN


# -- labelled samples -----------------------------------------------------------------------------------
def cmd_label(args) -> int:
    from artifactscope import frames
    from artifactscope.artifacts import validate_label
    from artifactscope.library import LibraryError, SampleLibrary

    try:
        validate_label(args.label)
        library = SampleLibrary(args.library)
    except (ValueError, LibraryError, OSError) as exc:
        return _fail(str(exc))
    failed = 0
    with library:
        for path in args.files:
            try:
                stored = library.add_file(path, label=args.label, frame=args.frame)
            except (ValueError, frames.FrameReadError, OSError) as exc:
                print(f"artifactscope: error: {printable(exc)}", file=sys.stderr)
                failed += 1
                continue
            for sample, created in stored:
                where = path if sample.frame is None else f"{path} [frame {sample.frame}]"
                print(f"{'added' if created else 'already in the library'}: {printable(where)} as {sample.label}")
        counts = ", ".join(f"{k} {v}" for k, v in library.counts().items() if v)
        print(f"library {printable(library.root)}: {counts or 'empty'}")
    return EXIT_ERROR if failed else EXIT_CLEAN


# -- synthesis ------------------------------------------------------------------------------------------
def cmd_synthesize(args) -> int:
    from artifactscope import synth, training

    try:
        sources = training.clean_sources(args.clean)
    except (ValueError, FileNotFoundError) as exc:
        return _fail(str(exc))
    paths = [p for ps in sources.values() for p in ps]
    bar = _Progress("synthesizing", None, unit="image")
    try:
        summary = synth.synthesize_dataset(paths, args.out, per_class=args.per_class, seed=args.seed,
                                           progress=bar)
    except (ValueError, OSError) as exc:
        bar.close()
        return _fail(str(exc))
    bar.close()
    for label, n in summary.items():
        print(f"{label:<20} {n}")
    print(f"written to {args.out}")
    return EXIT_CLEAN


def cmd_contact_sheet(args) -> int:
    import cv2

    from artifactscope import frames, synth

    try:
        frame = frames.read_image(args.frame)
    except frames.FrameReadError as exc:
        return _fail(str(exc))
    others = None
    if args.other:
        try:
            others = frames.read_image(args.other)
        except frames.FrameReadError as exc:
            return _fail(str(exc))
    sheet = synth.contact_sheet(frame, seed=args.seed, others=others, cell_width=args.cell_width)
    ok, buf = cv2.imencode(Path(args.out).suffix or ".png", sheet[:, :, ::-1].copy())
    if not ok:
        return _fail(f"cannot encode {args.out}")
    buf.tofile(args.out)
    print(f"contact sheet written to {args.out}")
    return EXIT_CLEAN


def cmd_render(args) -> int:
    from artifactscope import sources

    reasons = sources.available_sources()
    if args.source not in reasons:
        return _fail(f"unknown source {args.source!r}; available: {', '.join(reasons)}")
    if reasons[args.source] is not None:
        return _fail(f"source {args.source!r} cannot run here: {reasons[args.source]}")
    bar = _Progress(f"rendering {args.source}", None, unit="frame")
    try:
        paths = sources.render(args.source, args.out, n_frames=args.frames, seed=args.seed, clips=args.clips,
                               clip_len=args.clip_len, progress=bar)
    except (sources.SourceUnavailable, OSError) as exc:
        bar.close()
        return _fail(str(exc))
    bar.close()
    print(f"{len(paths)} frame(s) written to {args.out}")
    return EXIT_CLEAN


def cmd_gui(args) -> int:
    try:
        from artifactscope.gui.app import main as gui_main
    except ImportError as exc:
        return _fail(f"the desktop application needs PySide6: pip install 'artifactscope[gui]' ({exc})")
    return gui_main([str(p) for p in args.paths])


# -- parser ---------------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text}")
    return value


def _jobs(text: str) -> int:
    value = int(text)
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError("expected a positive number of processes, or -1 for all cores")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text}")
    return value


def _add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", nargs="+", metavar="DATA",
                   help="labelled folders (DATA/<clean|artifact>/...) and/or folders of clean frames "
                        "(one sub-folder per source; artifacts are synthesised)")
    p.add_argument("--per-frame", type=_positive_int, default=5,
                   help="corrupted samples synthesised per clean frame (default 5)")
    p.add_argument("--clean-per-frame", type=_positive_int, default=2,
                   help="clean variants (rescaled, re-encoded) per clean frame (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=_jobs, default=-1, help="worker processes (default: all cores)")
    p.add_argument("--cache", default=None, help="feature cache folder (default ~/.cache/artifactscope)")
    p.add_argument("--no-cache", action="store_true", help="do not cache features on disk")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="artifactscope",
        description="Find graphics corruptions (screen artifacts) in video-game frames.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("scan", help="scan images, folders and videos for artifacts",
                       description="Scan images, folders (recursively) and videos. Exit status: 0 all clean, "
                                   "1 artifacts found, 2 usage error or unreadable input.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--format", choices=sorted(WRITER_NAMES), default="table")
    p.add_argument("--out", help="write the report to this file instead of standard output")
    p.add_argument("--model", help="model bundle folder (default: the shipped model)")
    p.add_argument("--threshold", type=_probability,
                   help="one decision threshold for all classes instead of the model's per-class thresholds")
    p.add_argument("--every", type=_positive_int, default=1, help="analyse every N-th video frame (default 1)")
    p.add_argument("--no-regions", action="store_true",
                   help="do not locate artifacts in flagged frames (faster; 'regions' stays empty)")
    p.add_argument("--no-temporal", action="store_true",
                   help="videos: only the single-frame experts, no tearing/stutter checks across neighbouring frames")
    p.add_argument("--fps", type=_positive_float,
                   help="analyse about F video frames per second instead (--every applies when a video's frame "
                        "rate is unknown)")
    p.add_argument("--jobs", type=_jobs, default=1, help="worker processes (default 1; -1: all cores)")
    p.add_argument("--resume", metavar="FILE",
                   help="JSON-lines results file, appended as the scan goes; run again with the same FILE after "
                        "an interruption to skip the files already done (the report covers them all)")
    p.add_argument("--backend", choices=["local", "dask"], default="local",
                   help="local processes (default) or a Dask cluster (needs --scheduler; "
                        "pip install 'artifactscope[dask]')")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://host:8786")
    p.add_argument("--progress", choices=["auto", "always", "never"], default="auto",
                   help="progress bar on stderr (auto: on a terminal when scanning several files)")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("train", help="train a model bundle from labelled and/or clean frames")
    _add_data_options(p)
    p.add_argument("--out", required=True, help="model bundle folder to write (replaced atomically)")
    p.add_argument("--name", help="model name stored in the manifest")
    p.add_argument("--target-fpr", type=_probability, default=0.02,
                   help="false-positive rate on clean frames the thresholds aim for (default 0.02)")
    p.add_argument("--combiner", choices=["max", "hgb", "logreg"], default="max",
                   help="max: the most confident expert decides (default; best on unseen games so far); "
                        "hgb/logreg: a learned, gated combiner")
    p.add_argument("--no-holdout", action="store_true", help="skip the held-out evaluation before the final fit")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="measure a model on labelled or clean data")
    _add_data_options(p)
    p.add_argument("--model", help="model bundle folder (default: the shipped model)")
    p.add_argument("--threshold", type=_probability)
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--by-source", action="store_true",
                   help="leave-one-source-out: train without each source and test on it (unseen-game figures); "
                        "ignores --model")
    p.add_argument("--recipes", type=_recipes, default=("ours", "paper"),
                   help="with --by-source: recipes to compare, from ours,paper (default both)")
    p.add_argument("--max-frames-per-source", type=_positive_int, default=None,
                   help="use an evenly spaced subset of each source's frames")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("label", help="add frames to the labelled-sample library (to retrain on later)",
                       description="Store frames with the label a tester gives them. Duplicates (same pixels) "
                                   "are stored once; giving a stored frame another label relabels it.")
    p.add_argument("files", nargs="+", metavar="FILE", help="images, or videos with --frame")
    p.add_argument("--as", dest="label", required=True, metavar="LABEL",
                   help="clean or an artifact name (" + ", ".join(ARTIFACT_NAMES) + ")")
    p.add_argument("--frame", type=int, action="append", help="video frame index (repeatable)")
    p.add_argument("--library", help="library folder (default: $ARTIFACTSCOPE_LIBRARY or the user data folder)")
    p.set_defaults(func=cmd_label)

    p = sub.add_parser("synthesize", help="write a labelled corrupted dataset (with masks) from clean frames")
    p.add_argument("clean", metavar="CLEAN", help="folder of clean frames")
    p.add_argument("out", metavar="OUT", help="output folder: OUT/<label>/*.png and *.mask.png")
    p.add_argument("--per-class", type=_positive_int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_synthesize)

    p = sub.add_parser("gui", help="open the desktop application (drop frames, folders, videos on it)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="scan these right away")
    p.set_defaults(func=cmd_gui)

    p = sub.add_parser("render", help="render clean game-like frames (and clips) from a built-in source",
                       description="Render clean training frames headless on the CPU. Sources need the optional "
                                   "extra: pip install 'artifactscope[sources]'.")
    p.add_argument("source", metavar="SOURCE",
                   help="procedural, doom, sprites2d, panda3d, atari or ui (menus and editor panels: hard negatives)")
    p.add_argument("out", metavar="OUT", help="output folder")
    p.add_argument("--frames", type=_positive_int, default=100, help="varied frames to render (default 100)")
    p.add_argument("--clips", type=int, default=0, help="short clips of consecutive frames (default 0)")
    p.add_argument("--clip-len", type=_positive_int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("contact-sheet", help="one image showing every artifact class applied to a frame")
    p.add_argument("frame", metavar="FRAME")
    p.add_argument("--out", required=True)
    p.add_argument("--other", help="a second frame of the same scene, for screen tearing")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cell-width", type=_positive_int, default=480)
    p.set_defaults(func=cmd_contact_sheet)

    from artifactscope import cli_models

    cli_models.register(sub)  # retrain, models
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with status 2 and a usage message on bad arguments
    if getattr(args, "cache", None) is None and hasattr(args, "cache"):
        from artifactscope.training import DEFAULT_CACHE

        args.cache = DEFAULT_CACHE
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
