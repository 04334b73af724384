"""The deep multi-focus baselines of issue 12 (CNN, SESF-Fuse, DRPL, MFF-GAN): their networks'
geometry and the post-processing that decides their fused images, checked on hand-made maps
against brute-force or scikit-image versions of the authors' steps; weights with batch
normalisation counters; and a two-step training of each network through the shared loop
whose weights the method then fuses with. Agreement with the authors' fused images:
tests/test_deep_multifocus_validation.py."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import fusionbench
from fusionbench.methods._common import guided_filter
from fusionbench.methods.cnn import focus_map, remove_small_regions
from fusionbench.methods.sesf import consistency_verification, sesf_guided_filter


def _blobs(shape: tuple[int, int], seed: int, sigma: float = 4.0) -> np.ndarray:
    from scipy import ndimage

    field = ndimage.gaussian_filter(np.random.default_rng(seed).standard_normal(shape), sigma)
    return field > 0.1


# --- CNN ----------------------------------------------------------------------------------


def _matlab_focus_map(scores: np.ndarray, height: int, width: int) -> np.ndarray:
    """CNN_Fusion.m's loop: each score added to its 16x16 window from (2j, 2i), clipped."""
    total, count = np.zeros((height, width)), np.zeros((height, width))
    for j in range(scores.shape[0]):
        for i in range(scores.shape[1]):
            total[2 * j : 2 * j + 16, 2 * i : 2 * i + 16] += scores[j, i]
            count[2 * j : 2 * j + 16, 2 * i : 2 * i + 16] += 1
    return total / count


@pytest.mark.parametrize("shape", [(37, 29), (40, 52), (16, 17)])
def test_cnn_focus_map_equals_the_authors_accumulation(shape: tuple[int, int]) -> None:
    h, w = math.ceil(shape[0] / 2) - 7, math.ceil(shape[1] / 2) - 7  # the network's score map
    scores = np.random.default_rng(1).random((h, w))
    np.testing.assert_allclose(focus_map(scores, shape), _matlab_focus_map(scores, *shape), rtol=1e-12, atol=1e-12)


def test_cnn_small_regions_of_both_values_are_removed() -> None:
    mask = np.zeros((60, 60), dtype=bool)
    mask[:, :30] = True  # two large regions
    mask[5:9, 40:44] = True  # 16-pixel island on the false side
    mask[50:53, 10:13] = False  # 9-pixel hole on the true side
    mask[20:35, 45:55] = True  # 150 pixels: kept
    cleaned = remove_small_regions(mask, 36)  # ceil(0.01 * 60 * 60)
    expected = np.zeros_like(mask)
    expected[:, :30] = True
    expected[20:35, 45:55] = True
    np.testing.assert_array_equal(cleaned, expected)
    # 8-connectivity: a diagonal chain of pixels is one region.
    chain = np.zeros((20, 20), dtype=bool)
    chain[np.arange(10), np.arange(10)] = True
    assert remove_small_regions(chain, 10)[0, 0] and not remove_small_regions(chain, 11).any()


def test_cnn_focus_scores_are_the_softmax_output() -> None:
    from fusionbench.nets.cnn import CNNFocusNet

    torch.manual_seed(0)
    model = CNNFocusNet().eval()
    a, b = torch.rand(2, 1, 37, 30), torch.rand(2, 1, 37, 30)
    with torch.inference_mode():
        logits = model(a, b)
        scores = model.focus_scores(a, b)
    assert logits.shape == (2, 2, math.ceil(37 / 2) - 7, 30 // 2 - 7)
    torch.testing.assert_close(scores[:, 0], torch.softmax(logits, 1)[:, 1], rtol=1e-5, atol=1e-6)


# --- SESF-Fuse ------------------------------------------------------------------------------


def _skimage_consistency(decision: np.ndarray, area: float) -> np.ndarray:
    """The authors' steps with scikit-image 0.26: ``mode="min"`` (outside the image is false
    for erosion, as in the scikit-image they used) and ``max_size`` = holes of that size or
    fewer (their ``area_threshold``: holes strictly smaller)."""
    from skimage import morphology

    max_size = math.ceil(area) - 1
    disk = morphology.disk(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        dm = morphology.binary_opening(decision, disk, mode="min")
        dm = ~morphology.remove_small_holes(~dm, max_size=max_size)
        dm = morphology.binary_closing(dm, disk, mode="min")
        return morphology.remove_small_holes(dm, max_size=max_size)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sesf_consistency_verification_matches_scikit_image(seed: int) -> None:
    decision = _blobs((90, 120), seed, sigma=2.0)  # speckled, touching the border: every step acts
    ours = consistency_verification(decision, disk_radius=5, area_ratio=0.01)
    np.testing.assert_array_equal(ours, _skimage_consistency(decision, 0.01 * decision.size))
    assert ours.sum() != decision.sum()


def test_sesf_consistency_verification_at_the_border() -> None:
    # Outside the image is false for erosion: a band along the border thinner than the disk
    # (11 pixels) is opened away, and the closing strips 5 pixels off a thick one where it
    # meets the border (the authors' outputs show those strips).
    decision = np.zeros((60, 60), dtype=bool)
    decision[:10] = True
    assert not consistency_verification(decision).any()
    decision[:30] = True
    expected = np.zeros_like(decision)
    expected[5:30, 5:55] = True
    np.testing.assert_array_equal(consistency_verification(decision), expected)


def _brute_force_sesf_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    h, w = src.shape

    def mean(x: np.ndarray) -> np.ndarray:
        out = np.empty_like(x)
        for y in range(h):
            for x_ in range(w):
                out[y, x_] = x[max(0, y - r) : y + r + 1, max(0, x_ - r) : x_ + r + 1].mean(axis=(0, 1))
        return out

    p = src[..., None]
    mean_i, mean_p = mean(guide), mean(p)
    a = (mean(guide * p) - mean_i * mean_p) / (mean(guide * guide) - mean_i**2 + eps)
    b = mean_p - (a * mean_i).sum(axis=2, keepdims=True)
    return ((mean(a) * guide).sum(axis=2, keepdims=True) + mean(b))[..., 0]


def test_sesf_guided_filter_colour_variant_and_gray() -> None:
    rng = np.random.default_rng(3)
    guide = rng.integers(0, 256, (13, 17, 3)).astype(np.float64)
    src = _blobs((13, 17), 4, sigma=1.5).astype(np.float64)
    np.testing.assert_allclose(sesf_guided_filter(guide, src, 2, 0.1), _brute_force_sesf_filter(guide, src, 2, 0.1), atol=1e-9)
    gray = guide[..., 1]
    np.testing.assert_allclose(sesf_guided_filter(gray, src, 4, 0.1), guided_filter(gray, src, 4, 0.1), atol=1e-9)


def test_sesf_spatial_frequency_on_features() -> None:
    from fusionbench.nets.sesf import spatial_frequency

    f = torch.rand(1, 3, 9, 11, dtype=torch.float64)
    x = f[0].numpy()
    padded = np.pad(x, ((0, 0), (1, 0), (1, 0)))
    energy = ((padded[:, 1:, :-1] - x) ** 2 + (padded[:, :-1, 1:] - x) ** 2).sum(axis=0)
    windowed = np.pad(energy, 2)
    expected = np.array([[windowed[y : y + 5, x_ : x_ + 5].sum() for x_ in range(11)] for y in range(9)])
    np.testing.assert_allclose(spatial_frequency(f, radius=2)[0].numpy(), expected, rtol=1e-12)


# --- DRPL, MFF-GAN ----------------------------------------------------------------------------


def test_drpl_fusion_weight_and_gradient_map() -> None:
    from fusionbench.nets.drpl import fusion_weights, laplacian_residual

    masks = torch.tensor([[[[1.0, 0.0, 0.8]], [[0.0, 1.0, 0.4]]]])  # (1, 2, 1, 3)
    torch.testing.assert_close(fusion_weights(masks), torch.tensor([[[[1.0, 0.0, 0.7]]]]))
    flat = torch.full((1, 3, 5, 5), 0.5)
    inner = laplacian_residual(flat)[:, :, 1:-1, 1:-1]  # constant image: the Laplacian is 0 inside
    torch.testing.assert_close(inner, flat[:, :, 1:-1, 1:-1])


def test_mffgan_decision_block_picks_the_sharp_source() -> None:
    from scipy import ndimage

    from fusionbench.nets.mffgan import decision_scores

    sharp = np.random.default_rng(5).random((40, 40))
    soft = ndimage.uniform_filter(sharp, 7)
    near = np.where(np.arange(40) < 20, sharp, soft)  # near is sharp on the left
    far = np.where(np.arange(40) < 20, soft, sharp)
    near_score, far_score = decision_scores(*(torch.from_numpy(x)[None, None] for x in (near, far)))
    assert torch.equal(near_score + far_score, torch.ones_like(near_score))
    assert far_score[0, 0, 4:-4, 4:16].mean() < 0.1 and far_score[0, 0, 4:-4, 24:36].mean() > 0.9


# --- weights and training through the shared loop -----------------------------------------


def test_weights_with_batch_norm_counters_round_trip(tmp_path) -> None:
    from fusionbench.nets.drpl import DRPLNet
    from fusionbench.nets.weights import WeightsError, load_state, save_weights

    torch.manual_seed(0)
    model = DRPLNet().initialize()
    model.head[0][1].num_batches_tracked += 7
    save_weights(model.eval(), tmp_path / "drpl.safetensors", network="drpl")
    loaded = DRPLNet()
    load_state(loaded, tmp_path / "drpl.safetensors", "the DRPL network")
    for (name, x), y in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(x, y), name
    # A float where the model has an integer counter is refused.
    from safetensors.torch import save_file

    tensors = {k: v.float() for k, v in model.state_dict().items()}
    save_file(tensors, str(tmp_path / "bad.safetensors"))
    with pytest.raises(WeightsError, match="bad.safetensors"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_state(DRPLNet(), tmp_path / "bad.safetensors", "the DRPL network")


TRAINING = {
    "cnn": ["--batch", "8", "--val-pairs", "4"],
    "sesf": ["--crop", "32", "--batch", "2", "--val-pairs", "1", "--val-crop", "32"],
    "drpl": ["--crop", "24", "--batch", "2", "--val-pairs", "1", "--val-crop", "24"],
    "mffgan": ["--batch", "2", "--val-pairs", "1"],
}


@pytest.mark.parametrize("name", sorted(TRAINING))
def test_trains_and_fuses_with_its_weights(name: str, tmp_path) -> None:
    from fusionbench.cli import main
    from fusionbench.nets.weights import read_metadata

    out = tmp_path / name
    args = ["train", name, "--data", "skimage", "--out", str(out), "--steps", "2", "--val-every", "2", "--threads", "1"]
    assert main(args + TRAINING[name]) == 0
    weights = out / f"{name}.safetensors"
    assert read_metadata(weights)["network"] == name
    ex = fusionbench.example(color=True)
    a, b = ex.a[:48, :64], ex.b[:48, :64]
    method = fusionbench.create_method(name, weights=str(weights))
    fused = method.fuse(a, b)
    assert fused.shape == a.shape and fused.dtype == np.float32
    np.testing.assert_array_equal(fused, method.fuse(a, b))
    assert method.fuse(a[..., 0], b[..., 0]).shape == a.shape[:2]
    if name == "cnn":
        with pytest.raises(ValueError, match="16x16"):
            method.fuse(a[:15], b[:15])
    if name == "drpl":  # bf16 autocast: the same fusion up to bf16 rounding of the masks
        np.testing.assert_allclose(fusionbench.create_method(name, weights=str(weights), precision="bf16").fuse(a, b), fused, atol=0.05)


# --- architectures and shipped weights --------------------------------------------------------


def _parameters(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_architectures_have_the_papers_layers() -> None:
    from fusionbench.nets.cnn import CNNFocusNet
    from fusionbench.nets.drpl import RESIDUAL_BLOCKS, DRPLNet
    from fusionbench.nets.mffgan import MFFDiscriminator, MFFGenerator
    from fusionbench.nets.sesf import SESFNet

    cnn = CNNFocusNet()  # conv 64, 128, 256 (3x3) per branch; fc2 . fc1 as one 512x8x8 -> 2 map
    assert [tuple(c.weight.shape) for c in (cnn.conv1, cnn.conv2, cnn.conv3, cnn.fc)] == [
        (64, 1, 3, 3), (128, 64, 3, 3), (256, 128, 3, 3), (2, 512, 8, 8)]
    sesf = SESFNet()
    assert sesf.encode(torch.zeros(1, 1, 8, 8)).shape == (1, 64, 8, 8)  # four dense 16-channel outputs
    assert sesf(torch.zeros(1, 1, 8, 8)).shape == (1, 1, 8, 8)
    drpl = DRPLNet()
    convs = [m for m in drpl.modules() if isinstance(m, torch.nn.Conv2d)]
    assert RESIDUAL_BLOCKS == 12 and len(convs) == 3 + 2 * 12 + 2 + 1 and convs[0].kernel_size == (9, 9)
    assert drpl(torch.zeros(1, 3, 20, 20), torch.zeros(1, 3, 20, 20)).shape == (1, 2, 20, 20)
    generator = MFFGenerator()
    assert generator.out.in_channels == 128 and generator.near.conv1.kernel_size == (5, 5)
    assert _parameters(generator.near) == _parameters(generator.far)  # two branches, own weights
    assert MFFDiscriminator()(torch.zeros(2, 1, 60, 60)).shape == (2, 1)


SHIPPED = ("cnn", "sesf", "drpl", "mffgan")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weights_are_listed_with_their_hash(name: str) -> None:
    import hashlib
    from pathlib import Path

    from fusionbench.nets.weights import read_metadata, shipped_weights

    path = shipped_weights(name)
    assert path.is_file(), f"{path} missing: ship the trained weights (reports/training/{name}.md)"
    meta = read_metadata(path)
    assert meta["network"] == name and meta["info"]["step"] > 0 and meta["info"]["data"] == "bsds500"
    report = Path(__file__).resolve().parent.parent / "reports" / "training" / f"{name}.md"
    assert hashlib.sha256(path.read_bytes()).hexdigest() in report.read_text()
    fusionbench.create_method(name).network()  # loads, checksum verified


@pytest.mark.parametrize("name", ["sesf"])  # its squeeze-excitation pools over the whole image: no exact tiles
def test_a_pair_too_large_for_memory_is_refused_with_the_fix(name: str, monkeypatch) -> None:
    import numpy as np

    from fusionbench.nets import method as network_method
    from fusionbench.registry import get_method_class

    a = np.random.default_rng(0).random((64, 80, 3)).astype(np.float32)
    needed = 64 * 80 * get_method_class(name).bytes_per_pixel / 2**20
    monkeypatch.setattr(network_method, "available_memory", lambda: 2**20)
    with pytest.raises(network_method.ImageTooLargeError,
                       match=rf"{name}: a 80x64 pair needs about {needed:.0f} MiB .*, 1 MiB are available; fuse smaller images \(crop or downscale"):
        fusionbench.fuse(a, a[::-1].copy(), method=name)
    monkeypatch.setattr(network_method, "available_memory", lambda: None)  # unknown: no check
    assert fusionbench.fuse(a, a[::-1].copy(), method=name).shape == a.shape


def test_cnn_scores_large_pairs_in_tiles_with_the_same_result() -> None:
    import numpy as np
    import torch

    ex = fusionbench.example(color=False)
    a, b = ex.a[:203, :157], ex.b[:203, :157]  # odd sizes: the pooling's ceil mode at the border
    net = fusionbench.create_method("cnn").network()
    with torch.inference_mode():
        x, y = (torch.from_numpy(np.asarray(v, np.float32))[None, None] for v in (a, b))
        whole = net.focus_scores(x, y)
        for tile in (1, 5, 33):  # one score per tile, tiles cut everywhere, tiles past the edge
            np.testing.assert_allclose(net.tiled_focus_scores(x, y, tile=tile), whole, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fusionbench.create_method("cnn", max_pixels=1, tile=7).fuse(a, b),
                               fusionbench.create_method("cnn").fuse(a, b), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="max_pixels and tile must be >= 1"):
        fusionbench.create_method("cnn", tile=0)


@pytest.mark.parametrize("name", ["drpl", "mffgan"])
@pytest.mark.parametrize("color", [True, False])
def test_local_networks_fuse_large_pairs_in_tiles_with_the_same_result(name: str, color: bool) -> None:
    import numpy as np

    from fusionbench.nets.method import LocalNetworkMethod
    from fusionbench.registry import get_method_class

    assert issubclass(get_method_class(name), LocalNetworkMethod)
    ex = fusionbench.example(color=True)
    a, b = ex.a[:83, :101], ex.b[:83, :101]  # 6 x 7 tiles of 16 with their halos
    if not color:
        a, b = a.mean(axis=2), b.mean(axis=2)
    whole = fusionbench.create_method(name).fuse(a, b)
    np.testing.assert_allclose(fusionbench.create_method(name, max_pixels=1, tile=16).fuse(a, b), whole, rtol=0, atol=1e-6)

