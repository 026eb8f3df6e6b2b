"""Block ``laplacian``: the study's graph-Laplacian colour-anomaly measure.

The three colour channels are the nodes of a complete graph with Laplacian ``L = D - A``. For a pixel's
mean-centred colour ``s = (pixel - mean colour) / 255`` the quadratic form ``s^T L s`` equals
``sum_{i<j} w_ij (s_i - s_j)^2``: it is zero for any colour whose chroma matches the frame's average chroma
(greys in a grey frame) and large for colours far off it in chroma, such as pure primaries on a natural scene.
Thresholding it at several levels gives masks whose coverage (rows, columns, area, largest blob) describes
discoloration and stray saturated shapes.
"""

from __future__ import annotations

import cv2
import numpy as np

from ._prepare import Prepared, validate_image

#: Score levels (normalised to [0, 1]) at which anomaly masks are taken.
LEVELS: tuple[float, ...] = (0.1, 0.25, 0.45, 0.7)
N_HIST = 16
# Largest blob is computed only at the two upper levels: connected components are the block's main cost.
_BLOB_LEVELS = (2, 3)
_DILATE = np.ones((3, 3), np.uint8)

NAMES: tuple[str, ...] = (
    *(f"laplacian.{stat}_{i}" for i in range(len(LEVELS)) for stat in ("row_cov", "col_cov", "frac")),
    *(f"laplacian.blob_{i}" for i in _BLOB_LEVELS),
    # Histogram bins are even on a square-root scale: most pixels score near 0, the tail is where artifacts live.
    *(f"laplacian.hist_{i}" for i in range(N_HIST)),
    "laplacian.mean", "laplacian.p99", "laplacian.max", "laplacian.mean_chroma_spread",
)
LENGTH = len(NAMES)


def channel_weights(mean_rgb: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """Edge weights of the channel graph for pairs (R,G), (G,B), (B,R).

    Parameters
    ----------
    mean_rgb : numpy.ndarray
        Mean colour of the frame, in [0, 1].
    sigma : float or None
        None gives the unweighted complete graph (all ones). A positive value weights each pair by
        ``exp(-(m_i - m_j)^2 / sigma^2)`` as the study did, down-weighting channel pairs whose means already
        differ (a frame with a legitimate colour cast).

    Returns
    -------
    numpy.ndarray
        Three float weights.
    """
    if sigma is None:
        return np.ones(3)
    if sigma <= 0:
        raise ValueError(f"sigma must be positive or None, got {sigma}")
    m = np.asarray(mean_rgb, dtype=np.float64)
    d = np.array([m[0] - m[1], m[1] - m[2], m[2] - m[0]])
    return np.exp(-(d ** 2) / sigma ** 2)


def laplacian_anomaly_map(image: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """Per-pixel graph-Laplacian colour-anomaly score of an RGB frame.

    Parameters
    ----------
    image : numpy.ndarray
        RGB uint8 (h, w, 3) at any resolution; the map has the same resolution.
    sigma : float or None
        Channel-graph weighting, see :func:`channel_weights`; None (default) is the unweighted graph.

    Returns
    -------
    numpy.ndarray
        float32 (h, w) in [0, 1]: ``s^T L s / 2`` clipped to 1, where ``s`` is the pixel's colour minus the
        frame's mean colour in [0, 1] units (a pure primary on a grey frame scores 1, any grey scores 0).
    """
    image = validate_image(image)
    return _score_map(image, sigma)


def _score_map(image: np.ndarray, sigma: float | None = None) -> np.ndarray:
    mean = np.array(cv2.mean(image)[:3]) / 255.0  # cv2.mean: numpy's reduction over a 3-long axis is ~50x slower
    w = channel_weights(mean, sigma)
    # s_i - s_j = (p_i - p_j) - (m_i - m_j): one affine colour transform gives the three centred differences.
    k = np.float32(1.0 / 255.0)
    m = np.array([
        [k, -k, 0.0, -(mean[0] - mean[1])],
        [0.0, k, -k, -(mean[1] - mean[2])],
        [-k, 0.0, k, -(mean[2] - mean[0])],
    ], dtype=np.float32)
    d = cv2.transform(image.astype(np.float32), m)
    score = cv2.transform(cv2.multiply(d, d), (0.5 * w).astype(np.float32)[None, :])
    return np.minimum(score.reshape(image.shape[:2]), np.float32(1.0))


def _largest_blob(mask: np.ndarray) -> float:
    """Area fraction of the largest 8-connected region of a 0/1 mask."""
    if not mask.any():
        return 0.0
    # Labels + bincount: OpenCV's WithStats variants cost ~1 ms even on an empty mask.
    n, labels = cv2.connectedComponentsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)
    if n <= 1:
        return 0.0
    return float(np.bincount(labels.ravel(), minlength=n)[1:].max()) / mask.size


def compute(image: np.ndarray, work: Prepared) -> np.ndarray:
    """Compute the ``laplacian`` block on the working RGB image.

    Parameters
    ----------
    image : numpy.ndarray
        Full-resolution RGB uint8 frame (validated).
    work : Prepared
        Shared working images of the same frame.

    Returns
    -------
    numpy.ndarray
        float32 vector of length :data:`LENGTH`.
    """
    score = _score_map(work.work_rgb)
    npx = score.size
    feats: list[float] = []
    blobs: list[float] = []
    for i, level in enumerate(LEVELS):
        mask = (score > level).view(np.uint8)
        if mask.any():
            # Dilation joins the speckle of an anti-aliased or JPEG-compressed anomaly into one region.
            mask = cv2.dilate(mask, _DILATE)
            feats += [np.count_nonzero(mask.any(axis=1)) / mask.shape[0],
                      np.count_nonzero(mask.any(axis=0)) / mask.shape[1],
                      np.count_nonzero(mask) / npx]
        else:
            feats += [0.0, 0.0, 0.0]
        if i in _BLOB_LEVELS:
            blobs.append(_largest_blob(mask))
    # One fine histogram on a square-root scale serves both the coarse histogram and the 99th percentile
    # (np.histogram with uneven edges and np.partition each cost about a millisecond here).
    fine_n = N_HIST * 16
    fine = cv2.calcHist([cv2.sqrt(score)], [0], None, [fine_n], [0.0, 1.0 + 1e-6]).ravel() / npx
    hist = fine.reshape(N_HIST, 16).sum(axis=1)
    p99 = float(min(int(np.searchsorted(np.cumsum(fine), 0.99)), fine_n - 1) / fine_n) ** 2  # bin lower edge
    smin, smax = cv2.minMaxLoc(score)[:2]
    mean_rgb = np.array(cv2.mean(work.work_rgb)[:3]) / 255.0
    spread = float(mean_rgb.max() - mean_rgb.min())  # the frame's own colour cast
    out = np.concatenate([feats, blobs, hist, [cv2.mean(score)[0], p99, smax, spread]])
    return out.astype(np.float32)
