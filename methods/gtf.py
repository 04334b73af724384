"""Gradient transfer fusion, GTF (J. Ma, C. Chen, C. Li, J. Huang, "Infrared and visible image
fusion via gradient transfer and total variation minimization", Information Fusion 31:100-109,
2016).

Roles: ``a`` is the infrared image ``u`` (its intensities are kept), ``b`` the visible image
``v`` (its gradients are transferred). This is the role order of the infrared-visible datasets
(TNO, RoadScene: A = IR, B = VIS). On the medical sets A is CT, PET or SPECT and B is MRI
(the order in which CDDFuse feeds them to infrared-visible methods), so the image with bright,
sparse structures and little texture (bone in CT, like warm targets in IR) keeps its
intensities and MRI's soft-tissue edges are transferred. That order also matches the UFA-Fuse
paper's Table VII GTF row better: on our 21 CT-MRI pairs (ufa-paper convention) CT as
intensity gives Qabf 0.432 and AVG 6.77 (paper: 0.450, 6.433), MRI as intensity 0.325 and
5.83 (reports/validation/gtf.md).
To fuse the other way round, swap the inputs.

Model (the paper's, with the L1 fidelity it uses, p = 1): the fused image ``x`` solves

    x = argmin_x  ||x - u||_1 + lam * sum_i |(grad x)_i - (grad v)_i|,

with the isotropic gradient magnitude ``|g_i| = sqrt(g_x^2 + g_y^2)`` of forward differences
(zero across the last column / row, as in the authors' code). With ``y = x - v`` this is the
L1-TV problem ``y = argmin ||y - (u - v)||_1 + lam TV(y)`` and ``x = y + v``, clipped to
[0, 1] as the authors' ``im2gray`` does. ``lam = 4``: the authors' published setting (their
``Demo.m``); range ``lam > 0``, larger keeps more of the visible gradients.

Solver, as in the authors' code (``Demo.m`` of github.com/jiayi-ma/GTF, which calls
``irntv`` of P. Rodriguez and B. Wohlberg's NUMIPAD toolbox: "Efficient minimization method
for a generalized total variation functional", IEEE TIP 18(2):322-332, 2009): iteratively
reweighted norm (IRN), ``loops`` = 5 outer iterations started at ``y0 = s = u - v``. Each
replaces both L1 norms by weighted L2 norms,

    1/2 ||W_F^(1/2) (y - s)||^2 + lam/2 * sum_i W_R,i ((D_x y)_i^2 + (D_y y)_i^2),

``W_F = 2 / max(|y - s|, eps_F)``, ``W_R = 2 / sqrt(max(|grad y|^2, eps_R))``, and solves its
normal equations in the substituted form ``y = W_F^(-1/2) z`` (``NMP_TV_SUBSTITUTION``):

    (I + lam W_F^(-1/2) (D_x' W_R D_x + D_y' W_R D_y) W_F^(-1/2)) z = W_F^(1/2) s

by conjugate gradients warm-started at the current ``z``, stopped once the residual has
dropped by a factor 5 from its value at the start (``adaptPCGtol``, ``rrs = 5``) or after
``cg_max_iterations`` (then the iterate of least residual is kept, as Octave's ``pcg``
does). The thresholds adapt to the image (``adapt_epsF``, ``adapt_epsR``): each is a bin
centre of a 1000-bin histogram between the minimum and maximum of ``|y - s|`` (5 % cut-off,
the next bin's centre) or ``|grad y|^2`` (1 % cut-off, the first positive centre), the bins
filled as Octave's ``hist`` does. The first loop uses the toolbox's start weight
``W_F^(-1/2) = 2 sqrt(0.1)`` everywhere (``y0 - s`` is zero there). The loops stop early when
the conjugate-gradient step makes no iteration. The toolbox's 5 loops and factor-5 residual
reduction stop well short of the L1-TV minimum (more ``loops`` keep lowering the energy);
they are what the authors' published code runs, and what benchmarks such as VIFB ran, so they
are the defaults.

Numerics: float64 throughout (MATLAB doubles), output float32; working memory about 150 bytes
per pixel (0.6 GB at 2048 x 2048; the problem is global, so it is not tiled). A constant ``u - v`` (e.g.
identical sources) is returned as ``x = u``, the exact minimiser (the authors' histogram has
no range there and the toolbox stops with an error); a histogram without range later on
falls back to the toolbox's fixed thresholds (``eps_F = 1e-2``, ``eps_R = 1e-4``).

Colour: the registry's policy (Y of BT.601 YCbCr fused, chroma by the ``|C - 128|`` rule).
GTF is not scale-invariant in its first loop (the start weight is fixed), so a gray image
stored as RGB - fused as studio-swing Y, 219/255 of the gray range - gives a slightly
different output from the same image read as gray (43.9 dB or more on TNO and CT-MRI). The
VIFB benchmark instead feeds the colour visible image to the authors' code, whose ``irntv``
then runs a vector TV on ``I - V`` in RGB. Validation against the authors' code run in GNU
Octave (and against VIFB's published outputs): ``reports/validation/gtf.md``.
"""

from __future__ import annotations

import numpy as np

from fusionbench.registry import FusionMethod, register_method

# Constants of the authors' demo / NUMIPAD's irntvInputPars('l1tv').
_START_WEIGHT = 2.0 * np.sqrt(0.1)  # (2/p) * 0.1^((2-p)/2) with p = 1: W_F^(-1/2) of loop 1
_FIDELITY_CUTOFF = 0.05  # epsF_cutoff
_REGULARISATION_CUTOFF = 0.01  # epsR_cutoff
_FIXED_EPS_F = 1e-2  # epsF, epsR: the non-adaptive thresholds (fallback only)
_FIXED_EPS_R = 1e-4
_RESIDUAL_REDUCTION = 5.0  # rrs
_HISTOGRAM_BINS = 1000


@register_method(
    "gtf",
    family="variational",
    reference="Ma, Chen, Li & Huang, Infrared and visible image fusion via gradient transfer and "
    "total variation minimization, Information Fusion 31, 2016",
)
class GradientTransferFusion(FusionMethod):
    """GTF: infrared intensities with visible gradients, L1-TV solved by IRN (a = infrared)."""

    lam: float = 4.0
    loops: int = 5
    cg_max_iterations: int = 500

    def __post_init__(self) -> None:  # ranges; the registry checks the types
        if not (np.isfinite(self.lam) and self.lam > 0):
            raise ValueError(f"gtf: lam must be a finite number > 0, got {self.lam!r}")
        for name in ("loops", "cg_max_iterations"):
            if getattr(self, name) < 1:
                raise ValueError(f"gtf: {name} must be an integer >= 1, got {getattr(self, name)!r}")

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        infrared = a.astype(np.float64)
        visible = b.astype(np.float64)
        y = l1tv_irn(infrared - visible, float(self.lam), self.loops, self.cg_max_iterations)
        y += visible
        return np.clip(y, 0.0, 1.0, out=y).astype(np.float32)


def l1tv_irn(s: np.ndarray, lam: float, loops: int = 5, cg_max_iterations: int = 500) -> np.ndarray:
    """``argmin_y ||y - s||_1 + lam TV(y)`` by NUMIPAD's IRN iterations as the GTF authors run
    them (see the module docstring); ``s`` float64 (H, W), returns float64 (H, W)."""
    if s.min() == s.max():  # TV(s) = 0: s itself is the minimiser
        return s.copy()
    y = s.copy()
    for loop in range(loops):
        if loop == 0:  # y = s: the toolbox's start weight
            w = np.full_like(s, _START_WEIGHT)
        else:
            residual = np.abs(y - s)
            threshold = _adaptive_threshold(residual, _FIDELITY_CUTOFF, first_positive=False, fallback=_FIXED_EPS_F)
            np.maximum(residual, threshold, out=residual)
            w = np.sqrt(residual * 0.5)  # W_F^(-1/2) = sqrt(p/2) max(|y - s|, eps_F)^((2-p)/2)
        operator = _SubstitutedSystem(w, _regularisation_weights(y), lam)
        rhs = s / w
        z, iterations = _conjugate_gradient(operator, rhs, y / w, cg_max_iterations)
        y = w * z
        if iterations == 0:  # the toolbox's `if (pit == 0) break;`
            break
    return y


def _regularisation_weights(y: np.ndarray) -> np.ndarray:
    """``W_R = (2/q) max(|grad y|^2, eps_R)^((q-2)/2)`` with q = 1 (forward differences, zero
    across the last column / row)."""
    squared = np.zeros_like(y)
    dx = np.diff(y, axis=1)
    squared[:, :-1] = dx * dx
    dy = np.diff(y, axis=0)
    squared[:-1, :] += dy * dy
    threshold = _adaptive_threshold(squared, _REGULARISATION_CUTOFF, first_positive=True, fallback=_FIXED_EPS_R)
    np.maximum(squared, threshold, out=squared)
    np.sqrt(squared, out=squared)
    return np.divide(2.0, squared, out=squared)


def _adaptive_threshold(values: np.ndarray, cutoff: float, *, first_positive: bool, fallback: float) -> float:
    """NUMIPAD's adaptive threshold: the histogram of ``values`` over 1000 bin centres from
    their minimum to their maximum (Octave's ``hist``: a value on the boundary between two
    bins counts in the lower one), ``pos`` the first bin where the cumulative fraction exceeds
    ``cutoff``; returns the centre of bin ``pos + 1`` (``fF_adapt``) or, with
    ``first_positive``, of bin ``pos`` if it is positive, else ``pos + 1`` (``fR_adapt``).
    ``fallback`` where all values are equal (no histogram range)."""
    low, high = float(values.min()), float(values.max())
    if low == high:
        return high if high > 0 else fallback
    step = (high - low) / (_HISTOGRAM_BINS - 1)
    centres = low + step * np.arange(_HISTOGRAM_BINS)
    centres[-1] = high  # Octave's range ends exactly at its limit
    boundaries = (centres[:-1] + centres[1:]) / 2
    counts = np.bincount(np.searchsorted(boundaries, values.ravel(), side="left"), minlength=_HISTOGRAM_BINS)
    fraction = np.cumsum(counts) / values.size
    pos = int(np.argmax(fraction > cutoff))
    if first_positive and centres[pos] > 0:
        return float(centres[pos])
    return float(centres[min(pos + 1, _HISTOGRAM_BINS - 1)])


class _SubstitutedSystem:
    """``z -> z + lam W (D_x' W_R D_x + D_y' W_R D_y) (W z)`` (NUMIPAD's ``IWDTWDW``), with the
    differences' transposes written out: ``D'g`` is ``-g`` at the first index, ``g[i-1] - g[i]``
    inside and ``g[n-2]`` at the last."""

    def __init__(self, w: np.ndarray, w_r: np.ndarray, lam: float) -> None:
        self.w = w
        self.weight_x = lam * w_r[:, :-1]
        self.weight_y = lam * w_r[:-1, :]

    def __call__(self, z: np.ndarray) -> np.ndarray:
        wz = self.w * z
        gx = np.diff(wz, axis=1)
        gx *= self.weight_x
        gy = np.diff(wz, axis=0)
        gy *= self.weight_y
        out = np.zeros_like(z)
        out[:, :-1] -= gx
        out[:, 1:] += gx
        out[:-1, :] -= gy
        out[1:, :] += gy
        out *= self.w
        out += z
        return out


def _conjugate_gradient(operator, rhs: np.ndarray, z: np.ndarray, max_iterations: int) -> tuple[np.ndarray, int]:
    """Conjugate gradients from ``z`` as the authors' code runs Octave's ``pcg`` (no
    preconditioner): tolerance ``relres / 5`` with ``relres`` the starting relative residual;
    stops once the updated residual is within it or after ``max_iterations``; returns the
    iterate of least residual and its iteration number (0: no step taken)."""
    residual = rhs - operator(z)
    rhs_norm = float(np.linalg.norm(rhs))
    residual_norm = float(np.linalg.norm(residual))
    tolerance = residual_norm / rhs_norm / _RESIDUAL_REDUCTION
    target = tolerance * rhs_norm
    best, best_norm, best_iteration = z, residual_norm, 0
    if residual_norm <= target:
        return z, 0
    z = z.copy()
    direction = np.zeros_like(z)
    previous_tau = 1.0
    for iteration in range(1, max_iterations + 1):
        tau = float(np.vdot(residual, residual))
        direction *= tau / previous_tau
        direction += residual
        previous_tau = tau
        product = operator(direction)
        alpha = tau / float(np.vdot(direction, product))
        z += alpha * direction
        residual -= alpha * product
        residual_norm = float(np.linalg.norm(residual))
        if residual_norm <= best_norm:
            best, best_norm, best_iteration = z.copy(), residual_norm, iteration
        if residual_norm <= target:
            break
    return best, best_iteration
