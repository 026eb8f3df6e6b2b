"""Synthetic artifacts: one generator per artifact class, data-set writing, and procedural clean frames.

Every generator is a pure function ``fn(frame, rng, *, other=None) -> (corrupted, mask)`` on uint8 RGB
frames; see :mod:`artifactscope.synth.generators` for the shared conventions (scaling, masks, minimum effect).
"""

from __future__ import annotations

from artifactscope.synth.clips import rolling_tear
from artifactscope.synth.dataset import corrupt, jpeg_roundtrip, synthesize_dataset
from artifactscope.synth.generators import GENERATORS, VISIBLE_DIFF, check_frame
from artifactscope.synth.scenes import procedural_frame
from artifactscope.synth.sheet import contact_sheet

__all__ = ["GENERATORS", "VISIBLE_DIFF", "check_frame", "contact_sheet", "corrupt", "jpeg_roundtrip",
           "procedural_frame", "rolling_tear", "synthesize_dataset"]
