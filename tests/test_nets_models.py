"""DenseFuse, DeepFuse and IFCNN: the papers' layers, the fusion rules on hand-made feature maps,
locality (the receptive radii that make tiled inference exact), the MEF-SSIM loss against a
literal transcription of Ma et al.'s reference code. Tiny inputs, random weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fusionbench.nets import densefuse, deepfuse, ifcnn
from fusionbench.nets.densefuse import DenseFuse, fuse_features, l1_weights
from fusionbench.nets.deepfuse import DeepFuse, deepfuse_loss, mef_ssim
from fusionbench.nets.ifcnn import IFCNN
from fusionbench.nets.init import he_normal_
from fusionbench.nets.tiled import run_local


ONE_TORCH_THREAD = True  # tiny tensors (tests/conftest.py)


def _conv_params(cin: int, cout: int, k: int, bias: bool = True) -> int:
    return cin * cout * k * k + (cout if bias else 0)


def test_parameter_counts_follow_the_papers_layer_tables() -> None:
    dense = (_conv_params(1, 16, 3) + _conv_params(16, 16, 3) + _conv_params(32, 16, 3) + _conv_params(48, 16, 3)
             + _conv_params(64, 64, 3) + _conv_params(64, 32, 3) + _conv_params(32, 16, 3) + _conv_params(16, 1, 3))
    deep = (_conv_params(1, 16, 5) + _conv_params(16, 32, 7) + _conv_params(32, 32, 7) + _conv_params(32, 16, 5)
            + _conv_params(16, 1, 5))
    batch_norm = 2 * 64  # scale and shift
    ifc = (_conv_params(3, 64, 7, bias=False) + 2 * (_conv_params(64, 64, 3, bias=False) + batch_norm)
           + _conv_params(64, 3, 1))
    for model, expected in ((DenseFuse(), dense), (DeepFuse(), deep), (IFCNN(), ifc)):
        assert sum(p.numel() for p in model.parameters()) == expected, type(model).__name__


def test_forward_shapes() -> None:
    gray = torch.rand(2, 1, 20, 24)
    model = DenseFuse()
    assert model.encode(gray).shape == (2, 64, 20, 24)
    assert model(gray).shape == gray.shape
    for rule in densefuse.RULES:
        assert model.fuse(gray, gray.flip(0), rule).shape == gray.shape
    assert DeepFuse()(gray, gray.flip(0)).shape == gray.shape
    rgb = torch.rand(2, 3, 20, 24)
    for rule in ifcnn.RULES:
        assert IFCNN(rule).eval()(rgb, rgb.flip(0)).shape == rgb.shape


def test_densefuse_add_rule_sums_features() -> None:
    phi_1, phi_2 = torch.rand(1, 64, 5, 5), torch.rand(1, 64, 5, 5)
    torch.testing.assert_close(fuse_features(phi_1, phi_2, "add"), phi_1 + phi_2)
    with pytest.raises(ValueError, match="unknown DenseFuse fusion rule"):
        fuse_features(phi_1, phi_2, "max")


def test_densefuse_l1_rule_on_hand_made_features() -> None:
    # Source 1 is active (l1-norm 64 * 3) on the left two columns of a 3x4 map and silent on the
    # right; source 2 has l1-norm 64 * 1 everywhere.
    phi_1 = torch.zeros(1, 64, 3, 4)
    phi_1[..., :2] = 3.0
    phi_2 = torch.ones(1, 64, 3, 4)
    w1, w2 = l1_weights(phi_1, phi_2, radius=0)
    torch.testing.assert_close(w1[0, 0], torch.tensor([[0.75, 0.75, 0.0, 0.0]] * 3))
    torch.testing.assert_close(w1 + w2, torch.ones_like(w1))
    # With the paper's 3x3 block average (clipped at the border), column 1 averages columns
    # 0..2 of source 1's activity: (3 + 3 + 0) / 3 = 2, against 1: w = 2 / 3; column 2 sees
    # (3 + 0 + 0) / 3 = 1: w = 1 / 2; column 3 (border, columns 2..3) sees 0: w = 0.
    w1, _ = l1_weights(phi_1, phi_2)
    torch.testing.assert_close(w1[0, 0, 1], torch.tensor([0.75, 2 / 3, 0.5, 0.0]))
    fused = fuse_features(phi_1, phi_2, "l1")
    torch.testing.assert_close(fused, w1 * phi_1 + (1 - w1) * phi_2)
    # Activity 0 in both sources: equal weights, no NaN.
    w1, w2 = l1_weights(torch.zeros(1, 64, 3, 3), torch.zeros(1, 64, 3, 3))
    assert torch.all(w1 == 0.5) and torch.all(w2 == 0.5)


def test_densefuse_stretch_maps_the_extremes_onto_the_range() -> None:
    from fusionbench.nets.densefuse import stretch

    decoded = np.array([[0.2, 1.6], [0.9, 0.55]], dtype=np.float32)
    out = stretch(decoded, 16 / 255, 235 / 255)
    np.testing.assert_allclose(out, 16 / 255 + (decoded - 0.2) / 1.4 * (219 / 255), rtol=1e-6)
    assert out.dtype == np.float32 and out.min() == pytest.approx(16 / 255) and out.max() == pytest.approx(235 / 255)
    np.testing.assert_array_equal(stretch(np.full((2, 2), 1.3, np.float32), 0.0, 1.0), np.ones((2, 2)))


def test_ifcnn_rules_on_hand_made_features() -> None:
    f1 = torch.tensor([[[[1.0, 5.0]]]])
    f2 = torch.tensor([[[[3.0, 2.0]]]])
    expected = {"max": [3.0, 5.0], "sum": [4.0, 7.0], "mean": [2.0, 3.5]}
    for rule, values in expected.items():
        torch.testing.assert_close(IFCNN(rule).fuse_features(f1, f2)[0, 0, 0], torch.tensor(values))
    with pytest.raises(ValueError, match="unknown IFCNN fusion rule"):
        IFCNN("min")


def test_ifcnn_sum_network_is_a_mean_network_with_conv3_doubled() -> None:
    torch.manual_seed(0)
    summed = IFCNN("sum")
    summed.train()
    summed(torch.rand(4, 3, 16, 16), torch.rand(4, 3, 16, 16))  # non-trivial running statistics
    mean = IFCNN("mean")
    mean.load_state_dict(summed.state_dict())
    with torch.no_grad():
        mean.conv3[0].weight.mul_(2.0)
    a, b = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    with torch.inference_mode():
        torch.testing.assert_close(mean.eval()(a, b), summed.eval()(a, b))


def test_ifcnn_state_is_float_only_and_reloads() -> None:
    model = IFCNN()
    state = {k: v.clone() for k, v in model.state_dict().items()}  # as read from a file: no metadata
    assert all(v.is_floating_point() for v in state.values())
    IFCNN().load_state_dict(state)


def _networks():
    """(name, function of input tensors, inputs, channels, receptive radius) with He-initialised weights."""
    torch.manual_seed(1)
    dense, deep, ifc = (he_normal_(m).eval() for m in (DenseFuse(), DeepFuse(), IFCNN()))
    return [
        ("densefuse-add", lambda a, b: dense.fuse(a, b, "add"), 1, densefuse.RECEPTIVE_RADIUS - densefuse.BLOCK_RADIUS),
        ("densefuse-l1", lambda a, b: dense.fuse(a, b, "l1"), 1, densefuse.RECEPTIVE_RADIUS),
        ("deepfuse", deep, 1, deepfuse.RECEPTIVE_RADIUS),
        ("ifcnn", ifc, 3, ifcnn.RECEPTIVE_RADIUS),
    ]


@pytest.mark.parametrize("index", range(4), ids=["densefuse-add", "densefuse-l1", "deepfuse", "ifcnn"])
def test_receptive_radius_is_exact(index: int) -> None:
    """Changing one input pixel changes the output within the stated radius and nowhere else
    (what makes tiled inference exact)."""
    name, network, channels, radius = _networks()[index]
    size, centre = 41, 20
    rng = np.random.default_rng(0)
    a = torch.from_numpy(rng.random((1, channels, size, size), dtype=np.float32))
    b = torch.from_numpy(rng.random((1, channels, size, size), dtype=np.float32))
    changed = a.clone()
    changed[..., centre, centre] = 1.0 - changed[..., centre, centre]
    with torch.inference_mode():
        diff = (network(changed, b).double() - network(a, b).double()).abs().amax(dim=(0, 1))
    ys, xs = torch.nonzero(diff > 1e-6, as_tuple=True)
    reach = int(max((ys - centre).abs().max(), (xs - centre).abs().max()))
    assert reach == radius, f"{name}: the output changed up to {reach} px away, radius stated {radius}"


@pytest.mark.parametrize("index", range(4), ids=["densefuse-add", "densefuse-l1", "deepfuse", "ifcnn"])
def test_tiled_inference_equals_untiled(index: int) -> None:
    name, network, channels, radius = _networks()[index]
    rng = np.random.default_rng(3)
    a, b = (rng.random((channels, 37, 45), dtype=np.float32) for _ in range(2))
    whole = run_local(network, [a, b], radius)
    tiled = run_local(network, [a, b], radius, max_pixels=100, tile=16)
    np.testing.assert_allclose(tiled, whole, atol=3e-6, err_msg=name)
    # A halo one pixel short is not exact: the test above would notice a wrong radius.
    short = run_local(network, [a, b], radius - 1, max_pixels=100, tile=16)
    assert np.abs(short - whole).max() > 2e-5, name


def test_models_are_deterministic() -> None:
    for name, network, channels, _ in _networks():
        a, b = torch.rand(1, channels, 24, 24), torch.rand(1, channels, 24, 24)
        with torch.inference_mode():
            assert torch.equal(network(a, b), network(a, b)), name


def _mef_ssim_reference(seq: np.ndarray, fused: np.ndarray, window: int = 11, sigma: float = 1.5) -> float:
    """Ma et al.'s single-scale MEF-SSIM as their MATLAB reference computes it, patch by patch
    (images on the 0..255 scale; ``seq`` (H, W, K))."""
    h, w, k = seq.shape
    x = np.arange(window) - (window - 1) / 2
    g1 = np.exp(-(x**2) / (2 * sigma**2))
    gauss = np.outer(g1, g1) / np.outer(g1, g1).sum()
    bd = window // 2
    eps = np.finfo(np.float64).eps
    scores = []
    for i in range(bd, h - bd):
        for j in range(bd, w - bd):
            blocks = seq[i - bd : i + bd + 1, j - bd : j + bd + 1, :].reshape(-1, k)
            mu = blocks.mean(axis=0)
            centred = blocks - mu
            ed = np.sqrt(np.maximum((centred**2).sum(axis=0), 0)) + 0.001
            total = blocks.sum(axis=1)
            r = (np.linalg.norm(total - total.mean()) + eps) / (np.linalg.norm(centred, axis=0).sum() + eps)
            r = min(max(r, eps), 1 - eps)
            p = min(math.tan(math.pi / 2 * r), 10.0)
            weights = (ed / window) ** p
            weights /= weights.sum()
            ref = (weights * centred / ed).sum(axis=1)
            if np.linalg.norm(ref) > 0:
                ref = ref / np.linalg.norm(ref) * ed.max()
            f = fused[i - bd : i + bd + 1, j - bd : j + bd + 1].reshape(-1)
            gw = gauss.reshape(-1)
            mu_r, mu_f = (gw * ref).sum(), (gw * f).sum()
            var_r = (gw * (ref - mu_r) ** 2).sum()
            var_f = (gw * (f - mu_f) ** 2).sum()
            cov = (gw * (ref - mu_r) * (f - mu_f)).sum()
            c = (0.03 * 255) ** 2
            scores.append((2 * cov + c) / (var_r + var_f + c))
    return float(np.mean(scores))


def test_mef_ssim_matches_the_reference_code() -> None:
    rng = np.random.default_rng(5)
    from scipy import ndimage

    base = ndimage.gaussian_filter(rng.random((24, 26)), 1.5)
    base = (base - base.min()) / (base.max() - base.min())
    under, over = 0.4 * base, np.clip(0.3 + 1.2 * base, 0, 1)  # an exposure pair
    under[:, :8] = 0.2  # a flat region in one source: the weights follow the other
    for fused in (0.5 * (under + over), over, ndimage.gaussian_filter(base, 1.0), rng.random((24, 26))):
        expected = _mef_ssim_reference(np.stack([under, over], axis=2) * 255, fused * 255)
        t = [torch.from_numpy(x.astype(np.float32))[None, None] for x in (under, over, fused)]
        score, _ = mef_ssim(*t)
        assert float(score) == pytest.approx(expected, abs=2e-4)


def test_mef_ssim_properties_and_loss() -> None:
    a = torch.rand(2, 1, 30, 30)
    b = torch.rand(2, 1, 30, 30)
    score, lum = mef_ssim(a, a, a, luminance=True)
    assert float(score) == pytest.approx(1.0, abs=1e-5) and float(lum) == pytest.approx(0.0, abs=1e-10)
    # Structure and contrast only: a constant offset of the fused image does not change it.
    fused = (a + b) / 2
    torch.testing.assert_close(mef_ssim(a, b, fused)[0], mef_ssim(a, b, fused + 0.2)[0], atol=1e-5, rtol=0)
    # The loss's luminance term does see it: the squared offset of the local means.
    loss, _, lum = deepfuse_loss(a, b, fused + 0.2)
    assert float(lum) == pytest.approx(0.04, rel=1e-3)
    assert float(loss) == pytest.approx(float(deepfuse_loss(a, b, fused)[0]) + 0.04, rel=1e-3)
    fused = fused.clone().requires_grad_(True)
    loss, _, _ = deepfuse_loss(a, b, fused)
    loss.backward()
    assert torch.isfinite(fused.grad).all() and fused.grad.abs().sum() > 0


def test_he_initialisation_scale() -> None:
    torch.manual_seed(0)
    model = he_normal_(DeepFuse())
    std = float(model.c3.weight.detach().std())
    assert std == pytest.approx(math.sqrt(2 / (32 * 49)), rel=0.05)
    assert float(model.c3.bias.abs().max()) == 0.0
    fan_out = he_normal_(IFCNN(), mode="fan_out")
    assert float(fan_out.conv1.weight.detach().std()) == pytest.approx(math.sqrt(2 / (64 * 49)), rel=0.05)
