"""The ``retrain`` and ``models`` sub-commands (added to the ``artifactscope`` parser by :func:`register`).

    artifactscope retrain [--library DIR] [--clean-captures DIR...] [--activate] [--force]
    artifactscope models list | activate NAME [--force] | rollback | export NAME DEST | import SRC [--activate]

Exit status: 0 success, 2 usage or I/O error, a refused activation or a cancelled retrain.
"""

from __future__ import annotations

import argparse
import json
import sys

from artifactscope._terminal import printable

EXIT_OK, EXIT_ERROR = 0, 2


def _fail(message: str) -> int:
    print(f"artifactscope: error: {printable(message)}", file=sys.stderr)
    return EXIT_ERROR


def _registry(args):
    from artifactscope.registry import ModelRegistry

    return ModelRegistry(args.registry)


class _Bar:
    """A tqdm bar per stage on stderr (only on a terminal)."""

    def __init__(self):
        self.bar, self.stage = None, None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if stage != self.stage:
            self.close()
            from tqdm import tqdm

            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, file=sys.stderr, leave=False)
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# -- retrain ----------------------------------------------------------------------------------------------
def cmd_retrain(args) -> int:
    from artifactscope import retrain as rt
    from artifactscope.library import LibraryError
    from artifactscope.model_store import BundleError
    from artifactscope.registry import ActivationRefused, RegistryError

    for folder in args.clean_captures or ():
        from pathlib import Path

        if not Path(folder).is_dir():
            return _fail(f"{folder}: no such folder")
    bar = _Bar()
    try:
        reg = _registry(args)
        result = rt.retrain(library=False if args.no_library else args.library,
                            clean_captures=args.clean_captures or (), registry=reg, base=args.base,
                            base_features=args.base_features, cache_dir=None if args.no_cache else args.cache,
                            jobs=args.jobs, seed=args.seed, holdout=args.holdout, max_base=args.max_base or None,
                            per_frame=args.per_frame, fast=not args.full, note=args.note or "", progress=bar,
                            known_fpr=args.known_fpr)
    except KeyboardInterrupt:
        bar.close()
        print("artifactscope: interrupted; the registry and the active model are unchanged", file=sys.stderr)
        return 130
    except rt.Cancelled as exc:
        bar.close()
        return _fail(str(exc))
    except (ValueError, FileNotFoundError, LibraryError, RegistryError, BundleError, OSError) as exc:
        bar.close()
        return _fail(str(exc))
    bar.close()
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps({"version": result.version, "parent": result.parent, "evaluation": result.evaluation,
                          "notes": result.notes, "training": result.training, "seconds": result.seconds},
                         indent=2, default=str))
    else:
        print(f"trained on {result.training['samples']} samples from "
              f"{', '.join(sorted(result.training['by_source']))} in {result.seconds['total']:.0f} s")
        if result.evaluation:
            print(rt.format_evaluation(result.evaluation, result.version or "candidate", result.parent))
        else:
            print("no held-out samples to evaluate on")
        print(f"registered as {result.version} (active: {result.parent})")
    if args.activate:
        try:
            reg.activate(result.version, force=args.force, tolerance=args.tolerance)
        except ActivationRefused as exc:
            return _fail(f"not activated: {exc}")
        except (RegistryError, BundleError) as exc:
            return _fail(str(exc))
        print(f"{result.version} is now the active model")
    elif not args.json:
        print(f"activate it with: artifactscope models activate {result.version}")
    return EXIT_OK


# -- models -----------------------------------------------------------------------------------------------
def _fmt(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else "-"


def cmd_models_list(args) -> int:
    from artifactscope.registry import RegistryError

    try:
        reg = _registry(args)
        versions = reg.versions()
        active = reg.active()
    except RegistryError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps([{"name": v.name, "path": str(v.path), "active": v.active, "created": v.created,
                           "parent": v.parent, "note": v.note, "base_features": v.has_base_features,
                           "evaluation": v.evaluation} for v in versions], indent=2, default=str))
        return EXIT_OK
    print(f"registry {reg.root} (active: {active})")
    print(f"  {'':1} {'version':<8} {'created':<25} {'parent':<8} {'acc':>6} {'FPR':>6}  note")
    for v in versions:
        ev = v.evaluation
        part = ev.get("library") or ev.get("captures") or ev.get("base") or {}
        cand = part.get("candidate", {})
        print(f"  {'*' if v.active else ' '} {v.name:<8} {v.created or '?':<25} {v.parent or '-':<8} "
              f"{_fmt(cand.get('accuracy')):>6} {_fmt(cand.get('fpr')):>6}  {printable(v.note)}")
    if not versions:
        print("  (empty: the shipped model is used)")
    return EXIT_OK


def cmd_models_activate(args) -> int:
    from artifactscope.model_store import BundleError
    from artifactscope.registry import ActivationRefused, RegistryError

    try:
        reg = _registry(args)
        name = reg.resolve(args.name)
        comparison = reg.activate(name, force=args.force, tolerance=args.tolerance)
    except ActivationRefused as exc:
        return _fail(f"not activated: {exc}")
    except (RegistryError, BundleError) as exc:
        return _fail(str(exc))
    for part, m in (comparison.get("parts") or {}).items():
        c, a = m["candidate"], m["active"]
        print(f"  {part}: accuracy {_fmt(c['accuracy'])} (was {_fmt(a['accuracy'])}), "
              f"FPR {_fmt(c['fpr'])} (was {_fmt(a['fpr'])})")
    print(f"{name} is now the active model" + (" (forced)" if args.force else ""))
    return EXIT_OK


def cmd_models_rollback(args) -> int:
    from artifactscope.registry import RegistryError

    try:
        reg = _registry(args)
        before = reg.active()
        now = reg.rollback()
    except RegistryError as exc:
        return _fail(str(exc))
    print(f"rolled back from {before} to {now}; {now} is now the active model")
    return EXIT_OK


def cmd_models_export(args) -> int:
    from artifactscope.model_store import BundleError
    from artifactscope.registry import RegistryError

    try:
        reg = _registry(args)
        dest = reg.export(args.name, args.dest)
    except (RegistryError, BundleError, OSError) as exc:
        return _fail(str(exc))
    print(f"{reg.resolve(args.name)} exported to {dest}")
    return EXIT_OK


def cmd_models_import(args) -> int:
    from artifactscope.model_store import BundleError
    from artifactscope.registry import ActivationRefused, RegistryError

    try:
        reg = _registry(args)
        name = reg.import_bundle(args.source, note=args.note or "")
    except (RegistryError, BundleError, OSError) as exc:
        return _fail(f"import refused: {exc}")
    print(f"imported {args.source} as {name}")
    if args.activate:
        try:
            reg.activate(name, force=args.force, tolerance=args.tolerance)
        except ActivationRefused as exc:
            return _fail(f"imported but not activated: {exc}")
        except (RegistryError, BundleError) as exc:
            return _fail(str(exc))
        print(f"{name} is now the active model")
    return EXIT_OK


# -- parser -----------------------------------------------------------------------------------------------
def _jobs(text: str) -> int:
    value = int(text)
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError("expected a positive number of processes, or -1 for all cores")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text}")
    return value


def _rate_or_usual(text: str) -> float | None:
    """A false-positive rate in [0, 1), or None for -1 (the model's usual target)."""
    if text.strip() == "-1":
        return None
    return _share(text)


def _registry_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--registry", metavar="DIR",
                   help="model registry folder (default: $ARTIFACTSCOPE_MODELS or the user data folder)")


def _gate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true", help="activate even if worse than the active model")
    p.add_argument("--tolerance", type=float, default=0.01,
                   help="how much lower accuracy / higher FPR than the active model is accepted (default 0.01)")


def register(subparsers) -> None:
    """Add the ``retrain`` and ``models`` sub-commands to the ``artifactscope`` sub-parsers."""
    p = subparsers.add_parser(
        "retrain", help="retrain on the labelled-sample library and clean captures of your game",
        description="Refit the experts and the combiner on the active model's training features, the library's "
                    "samples and artifacts synthesised on clean captures; compare with the active model on held-out "
                    "data and register the result as a new model version (activate it with --activate or "
                    "`artifactscope models activate`).")
    p.add_argument("--library", help="library folder (default: $ARTIFACTSCOPE_LIBRARY or the user data folder)")
    p.add_argument("--no-library", action="store_true", help="do not use the sample library")
    p.add_argument("--clean-captures", nargs="+", metavar="DIR",
                   help="folders of clean frames of your game (artifacts are synthesised on them)")
    _registry_option(p)
    p.add_argument("--base", metavar="VERSION", help="version to start from and compare with (default: active)")
    p.add_argument("--base-features", metavar="FILE.npz",
                   help="training features to use instead of those stored with the base version")
    p.add_argument("--max-base", type=int, default=3000,
                   help="train on at most this many base samples, a stratified subsample (default 3000; 0: all)")
    p.add_argument("--holdout", type=_share, default=0.25,
                   help="share of library samples and capture frames held out for evaluation (default 0.25)")
    p.add_argument("--per-frame", type=int, default=5, help="corrupted samples per capture frame (default 5)")
    p.add_argument("--full", action="store_true", help="use the base model's fitting settings (slower)")
    p.add_argument("--known-fpr", type=_rate_or_usual, default=0.0, metavar="RATE",
                   help="false-alarm budget per game on the clean frames of the games the model already knew "
                        "(default 0: teaching your game must not start false alarms on them; -1: the model's "
                        "usual 2%%)")
    p.add_argument("--activate", action="store_true", help="activate the new version when it is not worse")
    _gate_options(p)
    p.add_argument("--note", help="a note stored with the version")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=_jobs, default=1, help="worker processes (default 1; -1: all cores)")
    p.add_argument("--cache", default=None, help="feature cache folder (default ~/.cache/artifactscope)")
    p.add_argument("--no-cache", action="store_true", help="do not cache features on disk")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_retrain)

    p = subparsers.add_parser("models", help="list, activate, roll back, export and import model versions")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    q = msub.add_parser("list", help="the registered versions (* marks the active one)")
    _registry_option(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_models_list)
    q = msub.add_parser("activate", help="make a version the active model (refused if worse, unless --force)")
    q.add_argument("name", metavar="VERSION", help="v0003, 3 or base")
    _registry_option(q)
    _gate_options(q)
    q.set_defaults(func=cmd_models_activate)
    q = msub.add_parser("rollback", help="re-activate the model that was active before")
    _registry_option(q)
    q.set_defaults(func=cmd_models_rollback)
    q = msub.add_parser("export", help="copy a version to a folder")
    q.add_argument("name", metavar="VERSION")
    q.add_argument("dest", metavar="DEST", help="new (or empty) folder")
    _registry_option(q)
    q.set_defaults(func=cmd_models_export)
    q = msub.add_parser("import", help="verify a model bundle folder and register it as a new version")
    q.add_argument("source", metavar="SRC")
    q.add_argument("--note")
    q.add_argument("--activate", action="store_true", help="activate it when it is not worse")
    _gate_options(q)
    _registry_option(q)
    q.set_defaults(func=cmd_models_import)


def main(argv=None) -> int:
    """Run ``retrain`` / ``models`` alone (``python -m artifactscope.cli_models models list``)."""
    from artifactscope.training import DEFAULT_CACHE

    parser = argparse.ArgumentParser(prog="artifactscope")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    if hasattr(args, "cache") and args.cache is None:
        args.cache = DEFAULT_CACHE
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
