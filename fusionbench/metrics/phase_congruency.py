"""Zhao's phase-congruency-based fusion metric, Qp, and the phase congruency it is built on.

Definitions follow the MATLAB files of Liu et al.'s MFIF-Metrics (``fusion-metrics/metricZhao.m``,
``myphasecong3.m`` - Z. Liu's revision of P. Kovesi's ``phasecong3.m`` - and ``lowpassfilter.m``),
the reference code of the golden values.

Phase congruency (:func:`phase_congruency`, Kovesi's PC_2 measure with the defaults of
``myphasecong3``): 4 scales (minimum wavelength 3, factor 2.1, sigma_f / f0 = 0.55) x 6
orientations (angular sigma = pi / 6 / 1.2) of log-Gabor filters built on the FFT grid of the
image (ranges normalised to +-0.5 separately for odd and even sizes, as the reference), times a
Butterworth low-pass (cut-off 0.45, order 15); convolution is circular (FFT), so the image wraps
around at its borders. Noise compensation with k = 2 (threshold from the median of the smallest
scale's squared amplitude, divided by 1.7), frequency-spread weighting with cut-off 0.5 and gain
10. Returns the phase congruency map and the maximum and minimum moments M, m of the
phase-congruency covariance.

The noise estimate of the reference sums ``real(ifft2(filter))`` products over the image; here the
same sums are taken in the frequency domain (Parseval), which differs only by rounding.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import scipy.fft
from scipy import ndimage

from ._matlab import fspecial_gaussian
from ._shared import parallel_map, thread_count
from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["qp", "phase_congruency"]

_NSCALE = 4
_NORIENT = 6
_MIN_WAVELENGTH = 3.0
_MULT = 2.1
_SIGMA_ON_F = 0.55
_D_THETA_ON_SIGMA = 1.2
_K = 2.0
_CUT_OFF = 0.5
_G = 10.0
_EPSILON = 0.0001

_FEATURE_THRESHOLD = 0.1  # metricZhao's fea_threshold
_ZHAO_C = 0.0001  # metricZhao's C1 = C2 = C3


def _normalised_range(n: int) -> np.ndarray:
    """Frequency coordinates of ``myphasecong3`` / ``lowpassfilter``: odd n spans [-0.5, 0.5]
    in steps of 1/(n-1), even n spans [-0.5, 0.5) in steps of 1/n."""
    if n % 2:
        return np.arange(-(n - 1) // 2, (n - 1) // 2 + 1, dtype=np.float64) / (n - 1)
    return np.arange(-n // 2, n // 2, dtype=np.float64) / n


class _FilterBank:
    """Log-Gabor filters of one image size (zero frequency at [0, 0]) and the per-orientation
    noise statistics of the reference, which depend on the filters only."""

    def __init__(self, shape: tuple[int, int]) -> None:
        rows, cols = shape
        x = _normalised_range(cols)[np.newaxis, :]
        y = _normalised_range(rows)[:, np.newaxis]
        radius = np.sqrt(x**2 + y**2)
        radius_for_log = radius.copy()
        radius_for_log[rows // 2, cols // 2] = 1.0  # avoid log(0); undone below
        theta = np.arctan2(-y, x)
        radius_for_log = np.fft.ifftshift(radius_for_log)
        theta = np.fft.ifftshift(theta)
        sin_theta = np.sin(theta)
        cos_theta = np.cos(theta)
        lowpass = np.fft.ifftshift(1.0 / (1.0 + (radius / 0.45) ** 30))  # lowpassfilter(., .45, 15)

        log_gabor = []
        for s in range(_NSCALE):
            wavelength = _MIN_WAVELENGTH * _MULT**s
            fo = 1.0 / wavelength
            radial = np.exp(-(np.log(radius_for_log / fo) ** 2) / (2 * math.log(_SIGMA_ON_F) ** 2))
            radial = radial * lowpass
            radial[0, 0] = 0.0
            log_gabor.append(radial)

        theta_sigma = math.pi / _NORIENT / _D_THETA_ON_SIGMA
        # Index of -k for every frequency k (modulo the size): real(ifft2(H)) is the inverse
        # transform of the symmetric part (H(k) + H(-k)) / 2.
        neg_rows = (-np.arange(rows)) % rows
        neg_cols = (-np.arange(cols)) % cols
        self.shape = shape
        self.filters = np.empty((_NORIENT, _NSCALE, rows, cols))
        self.noise_scale = np.empty(_NORIENT)  # 2 sum(EstSumAn2) + 4 sum(EstSumAiAj)
        self.first_scale_power = np.empty(_NORIENT)  # EM_n
        self.angles = np.array([o * math.pi / _NORIENT for o in range(_NORIENT)])
        for o, angle in enumerate(self.angles):
            ds = sin_theta * math.cos(angle) - cos_theta * math.sin(angle)
            dc = cos_theta * math.cos(angle) + sin_theta * math.sin(angle)
            dtheta = np.abs(np.arctan2(ds, dc))
            spread = np.exp((-(dtheta**2)) / (2 * theta_sigma**2))
            symmetric = []
            for s in range(_NSCALE):
                h = log_gabor[s] * spread
                self.filters[o, s] = h
                symmetric.append((h + h[neg_rows][:, neg_cols]) / 2)
            self.first_scale_power[o] = np.sum(self.filters[o, 0] ** 2)
            # The reference sums products of real(ifft2(H)) * sqrt(rows * cols) over the image;
            # by Parseval that is the sum of the products of the symmetric parts.
            sum_an2 = sum(np.sum(sym * sym) for sym in symmetric)
            sum_aiaj = sum(
                np.sum(symmetric[i] * symmetric[j]) for i in range(_NSCALE) for j in range(i + 1, _NSCALE)
            )
            self.noise_scale[o] = 2 * sum_an2 + 4 * sum_aiaj
        self.filters.flags.writeable = False


@lru_cache(maxsize=2)
def _filter_bank(shape: tuple[int, int]) -> _FilterBank:
    return _FilterBank(shape)


def _order_statistics(values: np.ndarray, ranks: list[int]) -> np.ndarray:
    """The values of the given (sorted, 0-based) ranks, as ``np.partition`` gives them, but
    faster for ranks near the middle of a large array: a strided sample brackets them, and
    only the values inside the bracket are partitioned (the full array when it misses)."""
    flat = values.ravel()
    sample = np.sort(flat[:: max(1, flat.size // 4096)])
    middle = sample.size * ranks[0] // flat.size
    lo = sample[max(middle - 128, 0)]
    hi = sample[min(middle + 128, sample.size - 1)]
    below = np.count_nonzero(flat < lo)
    inside = flat[(flat >= lo) & (flat <= hi)]
    if below <= ranks[0] and ranks[-1] < below + inside.size:
        local = [rank - below for rank in ranks]
        return np.partition(inside, local)[local]
    return np.partition(flat, ranks)[ranks]


def _median_of_squares(values: np.ndarray) -> float:
    """``median(values(:).^2)`` for non-negative ``values`` (squaring keeps the order; for an
    even count the mean of the two middle squares)."""
    n = values.size
    if n % 2:
        middle = _order_statistics(values, [n // 2])[0]
        return float(middle * middle)
    low, high = _order_statistics(values, [n // 2 - 1, n // 2])
    return float((low * low + high * high) / 2)


def phase_congruency(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kovesi's phase congruency as ``[pc, or, M, m] = myphasecong3(image)`` computes it
    (orientation map omitted): returns ``(pc, M, m)``, each of the image's shape.

    ``pc`` = total noise-compensated, spread-weighted energy over the summed amplitudes (in
    [0, 1)); ``M`` / ``m`` = maximum / minimum moment of the phase-congruency covariance (edge /
    corner strength). A constant image has no filter response: ``pc`` = 0 and ``M``, ``m`` are
    NaN (0/0), as in the reference when its FFT (FFTW) returns exact zeros off zero frequency,
    which it does for most sizes (for some, e.g. 33 x 40, it returns ~1e-13 noise and the
    reference's maps are then driven by that noise; here the response is always exactly 0).
    P. Kovesi, "Image features from phase congruency", Videre 1(3) 1999; "Phase congruency
    detects corners and edges", DICTA 2003."""
    image = np.asarray(image, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 -> NaN for constant images
        return _phase_congruency(image, _filter_bank(image.shape), thread_count())


def _phase_congruency(
    image: np.ndarray, bank: _FilterBank, fft_workers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    shape = image.shape
    if image.min() == image.max():
        # A constant image has no energy off zero frequency; taking the transform's rounding
        # noise there as signal would make M and m depend on the FFT library (FFTW returns
        # exact zeros for most sizes, and the reference then gives NaN).
        spectrum = np.zeros(shape, dtype=np.complex128)
    else:
        spectrum = scipy.fft.fft2(image, workers=fft_workers)
    total_energy = np.zeros(shape)
    total_sum_an = np.zeros(shape)
    cov_x2 = np.zeros(shape)
    cov_y2 = np.zeros(shape)
    cov_xy = np.zeros(shape)
    product = np.empty((_NSCALE, *shape), dtype=np.complex128)
    sum_an = np.empty(shape)
    max_an = np.empty(shape)
    first_amplitude = np.empty(shape)
    energy = np.empty(shape)
    # Per-pixel work runs on blocks of rows, so that its temporaries stay in cache.
    step = max(1, 16384 // shape[1])
    row_blocks = [slice(start, start + step) for start in range(0, shape[0], step)]
    for o, angle in enumerate(bank.angles):
        # EO{s, o} = ifft2(imagefft .* filter) for the four scales at once.
        np.multiply(spectrum, bank.filters[o], out=product)
        responses = scipy.fft.ifft2(product, axes=(-2, -1), overwrite_x=True, workers=fft_workers)
        for rows in row_blocks:
            _orientation_energy(
                responses[:, rows], sum_an[rows], max_an[rows], first_amplitude[rows], energy[rows]
            )

        # Noise threshold from the median squared amplitude of the smallest scale.
        mean_e2n = -_median_of_squares(first_amplitude) / math.log(0.5)
        noise_power = mean_e2n / bank.first_scale_power[o]
        est_noise_energy2 = noise_power * bank.noise_scale[o]
        tau = math.sqrt(est_noise_energy2 / 2)
        est_noise_energy = tau * math.sqrt(math.pi / 2)
        est_noise_energy_sigma = math.sqrt((2 - math.pi / 2) * tau**2)
        threshold = (est_noise_energy + _K * est_noise_energy_sigma) / 1.7

        cos_angle, sin_angle = math.cos(angle), math.sin(angle)
        for rows in row_blocks:
            noise_free = np.maximum(energy[rows] - threshold, 0.0)
            # Weighting by the frequency spread: sigmoid of sum(An) / max(An) / nscale.
            width = sum_an[rows] / (max_an[rows] + _EPSILON) / _NSCALE
            weighted_energy = 1.0 / (1 + np.exp((_CUT_OFF - width) * _G)) * noise_free
            total_sum_an[rows] += sum_an[rows]
            total_energy[rows] += weighted_energy
            pc = weighted_energy / sum_an[rows]
            cov_x = pc * cos_angle
            cov_y = pc * sin_angle
            cov_x2[rows] += cov_x * cov_x
            cov_y2[rows] += cov_y * cov_y
            cov_xy[rows] += cov_x * cov_y

    pc = total_energy / (total_sum_an + _EPSILON)
    cov_x2 /= _NORIENT / 2
    cov_y2 /= _NORIENT / 2
    cov_xy /= _NORIENT
    denom = np.sqrt(cov_xy * cov_xy + (cov_x2 - cov_y2) ** 2) + _EPSILON
    moment_max = (cov_y2 + cov_x2 + denom) / 2
    moment_min = (cov_y2 + cov_x2 - denom) / 2
    return pc, moment_max, moment_min


def _orientation_energy(
    responses: np.ndarray,
    sum_an: np.ndarray,
    max_an: np.ndarray,
    first_amplitude: np.ndarray,
    energy: np.ndarray,
) -> None:
    """For a block of one orientation's responses EO (scales first): the summed and maximum
    amplitudes, the smallest scale's amplitude, and the energy
    sum over scales of E MeanE + O MeanO - |E MeanO - O MeanE| before noise compensation."""
    amplitude = np.abs(responses)
    np.sum(amplitude, axis=0, out=sum_an)
    np.max(amplitude, axis=0, out=max_an)
    first_amplitude[...] = amplitude[0]
    sum_eo = responses.sum(axis=0)  # sumE + i sumO
    x_energy = np.abs(sum_eo)
    x_energy += _EPSILON
    mean_eo = sum_eo / x_energy  # MeanE + i MeanO
    # Per scale the term is Re(z) - |Im(z)| with z = EO * conj(Mean); summed over scales,
    # Re(z) adds up to |sumEO|^2 / XEnergy.
    rotated = responses * np.conj(mean_eo)
    np.multiply(sum_eo.real, sum_eo.real, out=energy)
    energy += sum_eo.imag * sum_eo.imag
    energy /= x_energy
    energy -= np.abs(rotated.imag).sum(axis=0)


_ZHAO_WINDOW = fspecial_gaussian(11, 1.5)
_ZHAO_FACTOR = _ZHAO_WINDOW.sum(axis=0)


def _gaussian_same(image: np.ndarray) -> np.ndarray:
    """``filter2(fspecial('gaussian', 11, 1.5), X, 'same')`` (zero outside) as two 1-D passes;
    NaNs spread over their window only, as in ``conv2``."""
    out = ndimage.correlate1d(image, _ZHAO_FACTOR, axis=0, mode="constant")
    return ndimage.correlate1d(out, _ZHAO_FACTOR, axis=1, mode="constant")


def _feature_similarity(
    f1: np.ndarray, f2: np.ndarray, f_max: np.ndarray, fused: np.ndarray, masks: tuple[np.ndarray, ...]
) -> float:
    """``correlation_coeffcient`` of metricZhao.m: per pixel, the best of the local correlations
    (11x11 Gaussian window, constant 1e-4) of the fused feature map with the masked source maps
    and the masked max map, summed and divided by the size of the max map's mask."""
    mask1, mask2, mask3 = masks
    sources = [mask1 * f1, mask2 * f2, mask3 * f_max]
    means = np.stack([_gaussian_same(f) for f in sources])
    mean_fused = _gaussian_same(fused)
    variances = np.stack([_gaussian_same(f * f) for f in sources]) - means * means
    covariances = np.stack([_gaussian_same(f * fused) for f in sources]) - means * mean_fused
    variance_fused = _gaussian_same(fused * fused) - mean_fused * mean_fused
    corr = (covariances + _ZHAO_C) / (np.sqrt(np.abs(variances * variance_fused)) + _ZHAO_C)
    # Outside its mask a map scores 0 - or NaN where the first source's local mean is NaN: the
    # reference starts all three score maps from ``mu1 .* 0``. The best map per pixel ignores
    # NaN, as MATLAB's max does.
    scores = np.where(np.stack(masks), corr, means[0] * 0)
    best = np.fmax(np.fmax(scores[0], scores[1]), scores[2])
    return float(np.sum(best) / np.sum(mask3))


def _phase_congruencies(x: MetricInputs) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Phase congruency of a, b and fused (cached), the images computed in parallel threads."""
    roles = ("a", "b", "fused")

    def compute(role: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        image = x.image(role)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _phase_congruency(image, _filter_bank(image.shape), fft_workers=1)

    return x.cached(("phase_congruency", roles), lambda: parallel_map(compute, list(roles)))


@register_metric(
    "Qp",
    aliases=["QP", "Qzhao"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(-1, 1),
    reference="Zhao et al. 2007 (phase-congruency-based metric); MFIF-Metrics metricZhao.m",
)
def qp(x: MetricInputs) -> float:
    """Zhao's metric: product of three feature similarities between the fused image and the
    sources, computed on the phase congruency map and on the maximum and minimum moments
    (``metricZhao(A, B, F)``).

    Each similarity is the per-pixel maximum of the local correlation coefficients (11x11
    Gaussian window, sigma 1.5, zero padding, C = 1e-4) between the fused feature map and the
    source maps (masked where the source's phase congruency > 0.1) or the map of the source
    with the larger phase congruency (masked where that is > 0.1), summed and divided by the
    count of the last mask (which covers the other two). Range [-1, 1] (a product of three
    averages of correlation coefficients; up to rounding), 1 = best. NaN when the fused image
    or source a is constant (0/0 moments spread through the reference's masks; a constant b
    does not), as the reference. J. Zhao, R. Laganiere, Z. Liu,
    "Performance assessment of combinative pixel-level image fusion based on an absolute feature
    measurement", Int. J. Innovative Computing, Information and Control 3(6A) 2007."""
    (pc1, big1, small1), (pc2, big2, small2), (pcf, bigf, smallf) = _phase_congruencies(x)
    first = pc1 > pc2
    second = ~first
    # Literal mask products (not np.where) keep the reference's NaN propagation.
    pc_max = first * pc1 + second * pc2
    big_max = first * big1 + second * big2
    small_max = first * small1 + second * small2
    masks = (pc1 > _FEATURE_THRESHOLD, pc2 > _FEATURE_THRESHOLD, pc_max > _FEATURE_THRESHOLD)
    features = [(pc1, pc2, pc_max, pcf), (big1, big2, big_max, bigf), (small1, small2, small_max, smallf)]
    similarity_pc, similarity_big, similarity_small = parallel_map(
        lambda maps: _feature_similarity(*maps, masks), features
    )
    return similarity_pc * similarity_big * similarity_small
