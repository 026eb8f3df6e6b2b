"""Shared per-frame preparation: validation and the working images every block reads.

Each frame is resized once; the blocks then read the views they need from a :class:`Prepared` object, and the
more expensive derived images (full-resolution grey, gradients, spectrum) are computed lazily, at most once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import cv2
import numpy as np

#: Working resolution (width, height) of the RGB/grey image most blocks read, whatever the frame's aspect.
WORKING_SIZE: tuple[int, int] = (512, 288)
#: Side of the square grey image the 2-D spectrum is taken of.
SPECTRUM_SIZE: int = 256
#: Smallest accepted frame side; below this the spectra and profiles carry no information.
MIN_SIDE: int = 16
#: Largest accepted frame area (pixels); guards against decompression bombs reaching the extractor.
MAX_PIXELS: int = 200_000_000

# Hann window for the 2-D spectrum: suppresses the frame-border cross that would otherwise dominate it.
_HANN = np.outer(np.hanning(SPECTRUM_SIZE), np.hanning(SPECTRUM_SIZE)).astype(np.float32)


def validate_image(image: object) -> np.ndarray:
    """Check that `image` is an RGB uint8 frame and return it C-contiguous.

    Parameters
    ----------
    image : object
        Candidate frame; must be a numpy array of dtype uint8 and shape (H, W, 3), RGB order.

    Returns
    -------
    numpy.ndarray
        The same pixels, C-contiguous (a copy only when the input was a non-contiguous view).

    Raises
    ------
    ValueError
        With a message that says what to change (dtype, channels, size).
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array of shape (H, W, 3) and dtype uint8, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(
            f"image must have dtype uint8 (0-255 RGB), got {image.dtype}; convert with "
            "np.clip(img * 255, 0, 255).astype(np.uint8) for float images in [0, 1]")
    if image.ndim != 3 or image.shape[2] != 3:
        hint = ""
        if image.ndim == 2:
            hint = "; for a grey image use np.stack([img] * 3, axis=-1)"
        elif image.ndim == 3 and image.shape[2] == 4:
            hint = "; drop the alpha channel with img[..., :3]"
        raise ValueError(f"image must have shape (H, W, 3) RGB, got shape {image.shape}{hint}")
    h, w = image.shape[:2]
    if h < MIN_SIDE or w < MIN_SIDE:
        raise ValueError(f"image is {w}x{h} pixels; both sides must be at least {MIN_SIDE} pixels")
    if h * w > MAX_PIXELS:
        raise ValueError(f"image is {w}x{h} pixels ({h * w} pixels), more than the {MAX_PIXELS} accepted; "
                         "downscale it first")
    return np.ascontiguousarray(image)


def resize_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize `image` to `size` (width, height), area-averaging when shrinking.

    Exact halvings use OpenCV's fast 2x INTER_AREA path (a general non-integer INTER_AREA costs ~7 ms at 1080p);
    the remaining factor, below 2, is done with INTER_LINEAR, whose 2-tap footprint still covers every source
    pixel, so thin lines are attenuated rather than dropped.
    """
    tw, th = size
    img = image
    while img.shape[1] >= 2 * tw or img.shape[0] >= 2 * th:
        h, w = img.shape[:2]
        fx = 2 if w >= 2 * tw else 1
        fy = 2 if h >= 2 * th else 1
        # Crop to a multiple of the factor so the resize is an exact integer ratio (the fast path).
        img = img[: h - h % fy, : w - w % fx]
        img = cv2.resize(img, (img.shape[1] // fx, img.shape[0] // fy), interpolation=cv2.INTER_AREA)
    if (img.shape[1], img.shape[0]) != (tw, th):
        img = cv2.resize(img, (tw, th), interpolation=cv2.INTER_LINEAR)
    return img


@dataclass
class Gradients:
    """Sobel gradients of the working grey image (grey levels 0-255).

    Attributes
    ----------
    gx, gy : numpy.ndarray
        float32 (h, w) horizontal and vertical derivatives.
    mag : numpy.ndarray
        float32 gradient magnitude.
    ang : numpy.ndarray
        float32 unsigned orientation of the gradient in degrees, [0, 180).
    """

    gx: np.ndarray
    gy: np.ndarray
    mag: np.ndarray
    ang: np.ndarray


@dataclass
class Prepared:
    """One frame plus the derived images the feature blocks share.

    Attributes
    ----------
    image : numpy.ndarray
        The validated full-resolution RGB uint8 frame.
    work_rgb : numpy.ndarray
        The frame resized to :data:`WORKING_SIZE`, RGB uint8 (h, w, 3).
    """

    image: np.ndarray
    work_rgb: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.work_rgb = resize_to(self.image, WORKING_SIZE)

    @property
    def height(self) -> int:
        """Full-resolution height in pixels."""
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        """Full-resolution width in pixels."""
        return int(self.image.shape[1])

    @cached_property
    def grey_full(self) -> np.ndarray:
        """Full-resolution grey (uint8), for the blocks that look at 1-px structure."""
        return cv2.cvtColor(self.image, cv2.COLOR_RGB2GRAY)

    @cached_property
    def work_grey(self) -> np.ndarray:
        """Working-resolution grey, uint8."""
        return cv2.cvtColor(self.work_rgb, cv2.COLOR_RGB2GRAY)

    @cached_property
    def work_grey_f(self) -> np.ndarray:
        """Working-resolution grey, float32 in grey levels (0-255)."""
        return self.work_grey.astype(np.float32)

    @cached_property
    def color_index5(self) -> np.ndarray:
        """Working-resolution colour index with 5 bits per channel (uint16 (h, w), ``r<<10 | g<<5 | b``)."""
        r, g, b = cv2.split(self.work_rgb)
        return ((r >> 3).astype(np.uint16) << 10) | ((g >> 3).astype(np.uint16) << 5) | (b >> 3)

    @cached_property
    def color_counts5(self) -> np.ndarray:
        """Pixel count of each 5-bit-per-channel colour (32768 bins)."""
        return np.bincount(self.color_index5.ravel(), minlength=1 << 15)

    @cached_property
    def hsv(self) -> np.ndarray:
        """Working image in HSV (OpenCV ranges: H in [0, 180), S and V in [0, 255])."""
        return cv2.cvtColor(self.work_rgb, cv2.COLOR_RGB2HSV)

    @cached_property
    def gradients(self) -> Gradients:
        """Sobel gradients of the working grey image."""
        g = self.work_grey_f
        gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
        mag, ang = cv2.cartToPolar(gx, gy, angleInDegrees=True)
        # Orientation is unsigned: a line and its opposite-contrast twin are the same structure.
        ang = np.where(ang >= 180.0, ang - 180.0, ang)
        ang = np.where(ang >= 180.0, 0.0, ang).astype(np.float32)  # 359.99... - 180 can round to 180
        return Gradients(gx, gy, mag, ang)

    @cached_property
    def spectrum_grey(self) -> np.ndarray:
        """Square grey image (float32, [0, 1]) of side :data:`SPECTRUM_SIZE` for the 2-D spectrum."""
        g = resize_to(self.work_grey, (SPECTRUM_SIZE, SPECTRUM_SIZE))
        return g.astype(np.float32) * np.float32(1.0 / 255.0)

    @cached_property
    def spectrum(self) -> np.ndarray:
        """Half-plane 2-D DFT (``rfft2``, complex64) of the mean-removed, Hann-windowed spectrum grey.

        Shape (SPECTRUM_SIZE, SPECTRUM_SIZE // 2 + 1); axis 0 is the vertical frequency (FFT order).
        """
        import scipy.fft

        g = self.spectrum_grey
        g = (g - np.float32(g.mean())) * _HANN
        return scipy.fft.rfft2(g).astype(np.complex64)


def prepare(image: np.ndarray) -> Prepared:
    """Validate `image` and build its :class:`Prepared` working images."""
    return Prepared(validate_image(image))
