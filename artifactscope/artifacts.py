"""The artifact taxonomy: the single source of truth for names, descriptions and display colours.

Every other module (synthesis, experts, reports, GUI) takes the list of classes from here.
"""

from __future__ import annotations

from dataclasses import dataclass

CLEAN = "clean"


@dataclass(frozen=True)
class Artifact:
    """One artifact class.

    Attributes
    ----------
    name : str
        Identifier used everywhere (folder names, JSON, CLI).
    title : str
        Human-readable name for reports and the GUI.
    description : str
        What a tester sees.
    color : str
        Display colour as ``#rrggbb``.
    temporal : bool
        True when the artifact is defined by a relation between frames (needs a second frame to synthesise).
    """

    name: str
    title: str
    description: str
    color: str
    temporal: bool = False


ARTIFACTS: tuple[Artifact, ...] = (
    Artifact("shader", "Shader garbage",
             "1-3 large polygons of a few blended colours fading into transparency", "#e6194b"),
    Artifact("shape", "Stray shapes",
             "thin mono-coloured (usually dark) triangles fanning out from one point", "#3cb44b"),
    Artifact("discoloration", "Discoloration",
             "bright areas take a wrong, saturated colour", "#ffe119"),
    Artifact("morse_code", "Morse code",
             "dot-dot-dash-dot-dot patterns in 1-px vertical columns", "#4363d8"),
    Artifact("dotted_line", "Dotted lines",
             "a few dozen fine dotted lines of one colour near one spot", "#f58231"),
    Artifact("parallel_lines", "Parallel lines",
             "a bundle of many parallel line segments, each in the colour where it starts", "#911eb4"),
    Artifact("triangulation", "Triangulation",
             "a region rendered as a coarse mesh of flat-coloured triangles", "#42d4f4"),
    Artifact("line_pixelation", "Line pixelation",
             "a band of stripes made of blocky random-coloured pixels", "#f032e6"),
    Artifact("screen_stuttering", "Screen stuttering",
             "the picture cut into blocks with neighbouring blocks swapped", "#bfef45", temporal=True),
    Artifact("screen_tearing", "Screen tearing",
             "the upper (or left) part of the frame comes from a different moment than the rest", "#fabed4",
             temporal=True),
)

ARTIFACT_NAMES: tuple[str, ...] = tuple(a.name for a in ARTIFACTS)
LABELS: tuple[str, ...] = (CLEAN, *ARTIFACT_NAMES)
CLEAN_COLOR = "#7f8c8d"

_BY_NAME = {a.name: a for a in ARTIFACTS}


def get(name: str) -> Artifact:
    """Return the artifact called `name`, with an error that lists the valid names."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown artifact {name!r}; expected one of: {', '.join(ARTIFACT_NAMES)}") from None


def validate_label(label: str) -> str:
    """Return `label` if it is ``clean`` or an artifact name, else raise ValueError naming the valid labels."""
    if label not in LABELS:
        raise ValueError(f"unknown label {label!r}; expected one of: {', '.join(LABELS)}")
    return label


def color_of(label: str) -> str:
    """Display colour of a label (``clean`` included)."""
    return CLEAN_COLOR if label == CLEAN else get(label).color
