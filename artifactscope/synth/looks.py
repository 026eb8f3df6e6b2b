"""Random "looks": global changes of a clean frame's appearance that other games might have.

Experts trained on a handful of engines learn those engines' colour grading, contrast and sharpness along with
the artifacts, and then fire on clean frames of a game that simply looks different. Training applies one random
look to a frame *before* it is (or is not) corrupted, so clean and corrupted samples share every look and only
the artifact separates them. A look is drawn once and applied to both frames of a tearing/stuttering pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Look", "random_look"]


@dataclass(frozen=True)
class Look:
    """One global appearance change (identity when every field is neutral).

    Attributes
    ----------
    gamma : float
        Tone curve exponent (<1 brightens shadows).
    contrast, brightness : float
        ``out = (in - 128) * contrast + 128 + brightness`` after the tone curve.
    saturation : float
        Scale of the chroma around each pixel's grey value.
    hue_shift : int
        Rotation of hue in OpenCV's 0-179 units.
    blur_sigma : float
        Gaussian blur (soft rendering / upscaled output); 0 for none.
    sharpen : float
        Unsharp-mask amount (post-process sharpening); 0 for none.
    noise_sigma : float
        Film-grain noise in grey levels; 0 for none.
    noise_seed : int
        Seed of the grain, so both frames of a pair get the same look.
    """

    gamma: float = 1.0
    contrast: float = 1.0
    brightness: float = 0.0
    saturation: float = 1.0
    hue_shift: int = 0
    blur_sigma: float = 0.0
    sharpen: float = 0.0
    noise_sigma: float = 0.0
    noise_seed: int = 0

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """The frame (uint8 RGB) with this look; a new array."""
        out = frame
        if self.hue_shift or self.saturation != 1.0:
            hsv = cv2.cvtColor(out, cv2.COLOR_RGB2HSV)
            if self.hue_shift:
                hsv[..., 0] = ((hsv[..., 0].astype(np.int16) + self.hue_shift) % 180).astype(np.uint8)
            if self.saturation != 1.0:
                hsv[..., 1] = cv2.convertScaleAbs(hsv[..., 1], alpha=self.saturation)
            out = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
        if self.gamma != 1.0 or self.contrast != 1.0 or self.brightness:
            x = np.arange(256, dtype=np.float32) / 255.0
            curve = (x ** self.gamma) * 255.0
            curve = (curve - 128.0) * self.contrast + 128.0 + self.brightness
            out = cv2.LUT(out, np.clip(curve + 0.5, 0, 255).astype(np.uint8))
        if self.blur_sigma > 0:
            out = cv2.GaussianBlur(out, (0, 0), self.blur_sigma)
        if self.sharpen > 0:
            soft = cv2.GaussianBlur(out, (0, 0), 1.2)
            out = cv2.addWeighted(out, 1.0 + self.sharpen, soft, -self.sharpen, 0.0)
        if self.noise_sigma > 0:
            grain = np.random.default_rng(self.noise_seed).normal(0.0, self.noise_sigma, out.shape[:2])
            out = np.clip(out.astype(np.float32) + grain[..., None].astype(np.float32), 0, 255).astype(np.uint8)
        return out if out is not frame else frame.copy()


def random_look(rng: np.random.Generator, p: float = 0.6) -> Look:
    """Draw a look: with probability `p` some random changes, else the identity.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    p : float
        Probability of a non-identity look.

    Returns
    -------
    Look
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
    if rng.random() >= p:
        return Look()
    kw: dict = {}
    if rng.random() < 0.5:
        kw["gamma"] = float(np.exp(rng.uniform(np.log(0.6), np.log(1.6))))
    if rng.random() < 0.5:
        kw["contrast"] = float(rng.uniform(0.7, 1.3))
        kw["brightness"] = float(rng.uniform(-25, 25))
    if rng.random() < 0.5:
        kw["saturation"] = float(rng.uniform(0.3, 1.6))
    if rng.random() < 0.3:
        kw["hue_shift"] = int(rng.integers(-20, 21))
    effect = rng.random()
    if effect < 0.2:
        kw["blur_sigma"] = float(rng.uniform(0.5, 1.2))
    elif effect < 0.4:
        kw["sharpen"] = float(rng.uniform(0.3, 1.0))
    if rng.random() < 0.2:
        kw["noise_sigma"] = float(rng.uniform(1.5, 5.0))
        kw["noise_seed"] = int(rng.integers(0, 2**31))
    return Look(**kw)
