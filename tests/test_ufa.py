"""UFA-Fuse: training-pair generator, network, loss, training/resume, weights files, tiled
inference, the registered methods and the train / plot-training commands.

Everything runs offline on tiny inputs: a DUTS-style folder and a BSDS500-style folder of
small random images are made in a temporary directory.
"""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import torch
from PIL import Image

from fusionbench.nets.data import (
    BLUR_INTERVALS,
    MultiFocusDataset,
    draw_blur_size,
    mean_filter,
    resolve_source,
    skimage_source,
)
from fusionbench.nets.losses import ssim
from fusionbench.nets.train import read_log, train
from fusionbench.nets.ufa.inference import fuse_arrays
from fusionbench.nets.ufa.model import VARIANTS, UFAFuse
from fusionbench.nets.ufa.train import UFAConfig
from fusionbench.nets.ufa.weights import load_model
from fusionbench.nets.weights import WeightsError, read_metadata, save_weights

from .synthetic_images import texture, write_bsds_layout

ALLOWED_BLUR = {k for lo, hi in BLUR_INTERVALS for k in range(lo, hi + 1)}


ONE_TORCH_THREAD = True  # tiny tensors (tests/conftest.py)
SCALES = (0.7, 2.0, 4.0)  # of the textures


@pytest.fixture(scope="module")
def duts_dir(tmp_path_factory):
    """Six 72x64 textures with elliptical saliency masks, DUTS layout."""
    root = tmp_path_factory.mktemp("duts")
    (root / "DUTS-TR-Image").mkdir()
    (root / "DUTS-TR-Mask").mkdir()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:72, :64]
    for i in range(6):
        Image.fromarray(texture(rng, 72, 64, SCALES)).save(root / "DUTS-TR-Image" / f"im{i}.jpg", quality=95)
        cy, cx, r = rng.uniform(20, 50), rng.uniform(20, 44), rng.uniform(10, 25)
        mask = (((yy - cy) ** 2 + (xx - cx) ** 2) < r * r).astype(np.uint8) * 255
        Image.fromarray(mask).save(root / "DUTS-TR-Mask" / f"im{i}.png")
    return root


@pytest.fixture(scope="module")
def bsds_dir(tmp_path_factory):
    """BSDS500 layout: images/<split>/<id>.jpg + segments/<split>/<id>.png label maps."""
    # 12 blocks of 16x14; PIL's default JPEG quality
    return write_bsds_layout(tmp_path_factory.mktemp("bsds"), np.random.default_rng(1), 2, (48, 56), (16, 14), SCALES, 75)


# ------------------------------------------------------------------ generator


@pytest.mark.parametrize("kind", ["duts", "bsds", "skimage"])
def test_generator_invariants(kind, duts_dir, bsds_dir) -> None:
    source = {"duts": lambda: resolve_source(str(duts_dir)), "bsds": lambda: resolve_source(str(bsds_dir)),
              "skimage": lambda: skimage_source()}[kind]()
    dataset = MultiFocusDataset(source, crop=40, seed=3)
    margin = 6  # interior pixels: the box of the largest size (10) stays inside the crop
    for index in range(6):
        s = dataset.sample(index)
        assert s.blur_size in ALLOWED_BLUR
        m = s.mask[..., None]
        np.testing.assert_array_equal(np.where(m, s.near, 0), np.where(m, s.gt, 0))  # near sharp on the mask
        np.testing.assert_array_equal(np.where(m, 0, s.far), np.where(m, 0, s.gt))  # far sharp off it
        inner = (slice(margin, -margin), slice(margin, -margin))
        blurred, on = mean_filter(s.gt, s.blur_size)[inner], s.mask[inner][..., None]
        np.testing.assert_allclose(np.where(on, s.near[inner], blurred), s.near[inner], atol=1e-6)  # near blurred off
        np.testing.assert_allclose(np.where(on, blurred, s.far[inner]), s.far[inner], atol=1e-6)  # far blurred on
        item = dataset[index]
        assert item["a"].shape == (3, 40, 40) and item["a"].dtype == torch.float32
        np.testing.assert_array_equal(item["gt"].numpy().transpose(1, 2, 0), s.gt)
        first = s.far if s.swapped else s.near
        np.testing.assert_array_equal(item["a"].numpy().transpose(1, 2, 0), first)
        sharp_a = item["mask"][0].numpy().astype(bool)  # where a is the sharp input
        np.testing.assert_array_equal(np.where(sharp_a[..., None], item["gt"].numpy().transpose(1, 2, 0), 0),
                                      np.where(sharp_a[..., None], first, 0))


def test_generator_is_deterministic_and_seeded(duts_dir) -> None:
    source = resolve_source(str(duts_dir))
    one, two = MultiFocusDataset(source, crop=32, seed=5), MultiFocusDataset(source, crop=32, seed=5)
    other = MultiFocusDataset(source, crop=32, seed=6)
    for i in (0, 7):
        for key in ("a", "b", "gt", "mask"):
            assert torch.equal(one[i][key], two[i][key])
    assert not torch.equal(one[0]["gt"], other[0]["gt"]) or not torch.equal(one[0]["a"], other[0]["a"])
    swaps = {one.sample(i).swapped for i in range(20)}
    assert swaps == {True, False}


def test_blur_sizes_cover_the_paper_intervals() -> None:
    rng = np.random.default_rng(0)
    sizes = {draw_blur_size(rng) for _ in range(400)}
    assert sizes == ALLOWED_BLUR == set(range(2, 11))


def test_bsds_focus_maps_are_unions_of_segments(bsds_dir) -> None:
    dataset = MultiFocusDataset(resolve_source(str(bsds_dir)), crop=40, seed=0)
    fractions = [dataset.sample(i).mask.mean() for i in range(12)]
    assert all(0.0 < f < 1.0 for f in fractions)


def test_data_errors_name_the_problem(tmp_path) -> None:
    with pytest.raises(ValueError, match="not 'bsds500', 'skimage' or an existing folder"):
        resolve_source(str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="DUTS-TR-Image"):
        resolve_source(str(tmp_path))


# ------------------------------------------------------------------ network and loss


def test_parameter_count_matches_table_ii() -> None:
    counts = {v: sum(p.numel() for p in UFAFuse(v).parameters()) for v in VARIANTS}
    # FEB1..7 + 7x7 (no bias) + FFB + ICB1..4
    full = (3 * 64 * 9 + 64) + 6 * (64 * 64 * 9 + 64) + 2 * 49 + (128 * 64 + 64) + 3 * (64 * 64 * 9 + 64) + (64 * 3 * 9 + 3)
    assert counts == {"full": full, "no-ca": full, "no-sa": full - 98, "no-ufa": full - 98}
    assert 0.34e6 < full < 0.35e6


def test_kaiming_initialisation() -> None:
    torch.manual_seed(0)
    model = UFAFuse("full").initialize("kaiming")
    gain = torch.nn.init.calculate_gain("leaky_relu", 0.01)
    for name, conv in model.named_modules():
        if isinstance(conv, torch.nn.Conv2d):
            fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
            assert float(conv.weight.detach().std()) == pytest.approx(gain / fan_in**0.5, rel=0.25 if conv.weight.numel() < 500 else 0.05), name
            assert conv.bias is None or not conv.bias.any()
    torch.manual_seed(0)
    again = UFAFuse("full").initialize("kaiming")
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), again.parameters()))
    with pytest.raises(ValueError, match="unknown initialisation"):
        model.initialize("xavier")


@pytest.mark.parametrize("variant", VARIANTS)
def test_forward_shapes_and_attention_maps(variant) -> None:
    torch.manual_seed(0)
    model = UFAFuse(variant).eval()
    a, b = torch.rand(2, 3, 20, 28), torch.rand(2, 3, 20, 28)
    with torch.no_grad():
        out, att = model(a, b, return_attention=True)
    assert out.shape == (2, 3, 20, 28) and float(out.min()) > 0 and float(out.max()) < 1
    if variant in ("full", "no-sa"):
        assert att.channel.shape == (2, 2, 64)
        torch.testing.assert_close(att.channel.sum(dim=1), torch.ones(2, 64))
    else:
        assert att.channel is None
    if variant in ("full", "no-ca"):
        assert att.spatial.shape == (2, 2, 20, 28)
        torch.testing.assert_close(att.spatial.sum(dim=1), torch.ones(2, 20, 28))
    else:
        assert att.spatial is None


def test_swapping_inputs_swaps_attention() -> None:
    torch.manual_seed(1)
    model = UFAFuse("full").eval()
    a, b = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        _, ab = model(a, b, return_attention=True)
        _, ba = model(b, a, return_attention=True)
    torch.testing.assert_close(ab.spatial, ba.spatial.flip(1))
    torch.testing.assert_close(ab.channel, ba.channel.flip(1))


def test_ssim_matches_scikit_image() -> None:
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    x = rng.random((40, 36))
    y = np.clip(x + rng.normal(0, 0.1, x.shape), 0, 1)
    expected = structural_similarity(x, y, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False)
    got = ssim(torch.from_numpy(x)[None, None], torch.from_numpy(y)[None, None])
    assert float(got) == pytest.approx(expected, abs=1e-10)
    assert float(ssim(torch.from_numpy(x)[None, None], torch.from_numpy(x)[None, None])) == pytest.approx(1.0)


# ------------------------------------------------------------------ training


def _tiny_config(data: str, **kw) -> UFAConfig:
    base = dict(data=data, steps=4, batch=2, crop="16,24@2", lr=1e-3, lr_milestones=[3], val_pairs=1,
                val_crop=16, val_every=2, log_every=1, checkpoint_minutes=60.0)
    return UFAConfig(**{**base, **kw})


def test_resume_after_sigterm_is_bit_for_bit(tmp_path, duts_dir) -> None:
    straight = train("ufa", _tiny_config(str(duts_dir)), tmp_path / "straight")
    assert straight.status == "done" and straight.step == 4

    def stop_at_step_2(entry):
        if entry.get("step") == 2 and "loss" in entry:
            os.kill(os.getpid(), signal.SIGTERM)

    first = train("ufa", _tiny_config(str(duts_dir)), tmp_path / "split", progress=stop_at_step_2)
    assert first.status == "interrupted" and first.step == 2 and first.weights is None
    second = train("ufa", None, tmp_path / "split", resume=True)
    assert second.status == "done" and second.step == 4
    a, b = load_model(straight.weights), load_model(second.weights)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    losses = lambda run: [(e["step"], e["loss"]) for e in read_log(tmp_path / run) if "loss" in e]  # noqa: E731
    assert losses("split") == losses("straight")
    with pytest.raises(ValueError, match="different lam"):
        train("ufa", None, tmp_path / "split", resume=True, overrides={"lam": 0.5})
    with pytest.raises(FileExistsError, match="--resume"):
        train("ufa", _tiny_config(str(duts_dir)), tmp_path / "split")


def test_cli_train_and_plot(tmp_path, duts_dir) -> None:
    from fusionbench.cli import main

    out = tmp_path / "run"
    args = ["train", "ufa", "--data", str(duts_dir), "--out", str(out), "--variant", "no-sa", "--lambda", "0.5",
            "--steps", "2", "--batch", "1", "--crop", "16", "--val-pairs", "1", "--val-crop", "16"]
    assert main(args) == 0
    meta = read_metadata(out / "ufa-no-sa.safetensors")
    assert meta["variant"] == "no-sa" and meta["info"]["lam"] == 0.5 and meta["info"]["step"] == 2
    entries = read_log(out)
    assert {"step", "loss", "l1", "ssim", "lr", "images_per_s"} <= set(next(e for e in entries if "loss" in e))
    assert any("val_psnr" in e for e in entries)
    assert main(["plot-training", str(out), "-o", str(tmp_path / "curves.png")]) == 0
    assert Image.open(tmp_path / "curves.png").size[0] > 500


# ------------------------------------------------------------------ weights files


def test_weights_roundtrip_and_errors(tmp_path) -> None:
    torch.manual_seed(0)
    model = UFAFuse("no-ca")
    path = tmp_path / "w.safetensors"
    save_weights(model, path, network="ufa", info={"steps": 7}, metadata={"variant": "no-ca"})
    loaded = load_model(path)
    assert loaded.variant == "no-ca"
    assert all(torch.equal(p, q) for p, q in zip(model.state_dict().values(), loaded.state_dict().values()))
    assert read_metadata(path)["info"] == {"steps": 7}

    with pytest.raises(WeightsError, match="variant 'no-ca', not 'full'"):
        load_model(path, "full")
    with pytest.raises(WeightsError, match="not found"):
        load_model(tmp_path / "nothing.safetensors")

    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00" * 64)
    with pytest.raises(WeightsError, match="corrupt.safetensors"):
        load_model(corrupt)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(WeightsError, match="truncated.safetensors"):
        load_model(truncated)

    from safetensors.torch import save_file

    state = {k: v.contiguous() for k, v in UFAFuse("full").state_dict().items()}
    state.pop("ffb.bias")
    state["image_construction.0.weight"] = torch.zeros(64, 64, 5, 5)
    mismatched = tmp_path / "mismatched.safetensors"
    save_file(state, str(mismatched), metadata={"variant": "full"})
    with pytest.raises(WeightsError, match=r"mismatched.safetensors.*missing: ffb.bias.*wrong shape: image_construction.0.weight"), \
            pytest.warns(UserWarning, match="mismatched.safetensors: the file records no tensor checksum"):
        load_model(mismatched)


# ------------------------------------------------------------------ inference and methods


@pytest.mark.parametrize("variant", ["full", "no-ca"])  # with and without the global channel pooling
def test_tiled_inference_equals_untiled(variant) -> None:
    torch.manual_seed(2)
    model = UFAFuse(variant)
    rng = np.random.default_rng(0)
    a, b = (rng.random((45, 53, 3), dtype=np.float32) for _ in range(2))
    whole = fuse_arrays(model, a, b)
    tiled = fuse_arrays(model, a, b, max_pixels=100, tile=18)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)
    batch = fuse_arrays(model, [a, b], [b, a])
    np.testing.assert_allclose(batch[0], whole, atol=1e-5)


def test_method_with_weights_file(tmp_path) -> None:
    import fusionbench

    torch.manual_seed(3)
    path = tmp_path / "mine.safetensors"
    save_weights(UFAFuse("full"), path, network="ufa", metadata={"variant": "full"})
    method = fusionbench.create_method("ufa", weights=str(path), max_pixels=400, tile=16)
    rng = np.random.default_rng(1)
    gray_a, gray_b = rng.random((30, 26), dtype=np.float32), rng.random((30, 26), dtype=np.float32)
    fused = method.fuse(gray_a, gray_b)
    assert fused.shape == (30, 26)
    rgb = fusionbench.create_method("ufa", weights=str(path)).fuse(
        np.repeat(gray_a[..., None], 3, 2), np.repeat(gray_b[..., None], 3, 2))
    np.testing.assert_allclose(fused, rgb @ np.array([0.298936021293775, 0.587043074451121, 0.114020904255103]),
                               atol=1e-5)
    first = method.identity()["weights_sha256"]
    save_weights(UFAFuse("full"), path, network="ufa", metadata={"variant": "full"})  # new weights: new cache key
    assert method.identity()["weights_sha256"] != first
    with pytest.raises(WeightsError, match="variant 'full', not 'no-sa'"):
        fusionbench.create_method("ufa-no-sa", weights=str(path)).fuse(gray_a, gray_b)


def test_shipped_weights_are_listed_with_their_hash() -> None:
    import hashlib

    from fusionbench.nets.ufa.weights import shipped_weights

    report = open(os.path.join(os.path.dirname(__file__), "..", "reports", "training", "ufa.md")).read()
    for variant in VARIANTS:
        path = shipped_weights(variant)
        assert path.is_file(), f"{path} missing: ship the trained weights (reports/training/ufa.md)"
        meta = read_metadata(path)
        assert meta["variant"] == variant and meta["info"]["step"] > 0
    for path in sorted(shipped_weights("full").parent.glob("ufa*.safetensors")):  # the lambda sweep's too
        assert hashlib.sha256(path.read_bytes()).hexdigest() in report, f"{path.name}: sha256 not in reports/training/ufa.md"


def test_methods_listing_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, fusionbench; fusionbench.list_methods(); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_attention_maps_of_shipped_model_follow_focus() -> None:
    """Trained weights: the spatial attention favours the sharp source (paper Fig. 3)."""
    from fusionbench.data import example
    from fusionbench.nets.ufa.weights import shipped_weights

    pair = example(color=True)
    model = load_model(shipped_weights("full"))
    a, b = (torch.from_numpy(x[128:384, 192:320].copy()).permute(2, 0, 1)[None] for x in (pair.a, pair.b))
    with torch.inference_mode():
        _, att = model(a, b, return_attention=True)
    left, right = att.spatial[0, 0, :, 16:48].mean(), att.spatial[0, 0, :, 80:112].mean()
    assert float(left) > float(right)  # a is sharp on the left half, b on the right


# ------------------------------------------------------------------ pinned to the code before the shared loop

# The 3-step training run was recorded with the UFA-only trainer (commit 3f035e4, before
# fusionbench/ufa moved onto the shared network loop; tests/data/ufa_pinned.py); the shipped
# weights' tensors (sha256 over name, dtype, shape and bytes in name order) and the fused output
# of a 20x24 crop of the embedded example pair with each shipped network were re-recorded when
# the GPU-trained weights were shipped (tests/data/ufa_pinned_outputs.py): they guard refactoring.
PINNED_TENSORS = {
    "ufa": "ff8aecc3001f4f84828f516fc44f1fffd0feee68f716968d88c3c9c90a8da71e",
    "ufa-ablation": "5d0d82e30a401029701d22a3b140be4c32aa92c753340ad62401f6aaf16d5078",
    "ufa-lambda0.0": "f38593b819572c51214ad67ffd5c97f127563def8838905eb86358e1f7301c1e",
    "ufa-lambda0.4": "d06cd07352621ba0d160c2f86005a7c8bfc115bfe7230773dbd37eac6580b5c2",
    "ufa-lambda0.6": "5e695524a62302b16b280e72055baea1d975cec19e0389c6b134cb7f5b22b1e5",
    "ufa-lambda0.8": "36c84bdd5156a5f579efdace476ac15f41eb4e9a6194de6aae940821fa050952",
    "ufa-lambda1.0": "0d4dbf738c18b27673aad92c070cd4d4fab876a65937b3c770475340cd3a02a9",
    "ufa-no-ca": "1ce38234f85061f39c2c5449a44d7fe19b83f16e6ddcd9eaa2e710be8a3caa3c",
    "ufa-no-sa": "2b46784eae8968051a295e62796f450822a6bca5fcfd7a84beaa722ff6ca1c27",
    "ufa-no-ufa": "0972fe8a69ba93399c283a4bf3b29f5d7a95b1e3b3c023a303c02d680cd2a89f",
}
PINNED = os.path.join(os.path.dirname(__file__), "data", "ufa_pinned.npz")


def test_shipped_weights_tensors_are_unchanged() -> None:
    from safetensors.torch import load_file

    from fusionbench.nets.weights import shipped_weights, tensors_sha256

    for name, digest in PINNED_TENSORS.items():
        assert tensors_sha256(load_file(str(shipped_weights(name)))) == digest, name


def test_fused_outputs_are_unchanged() -> None:
    """Same input, same shipped weights: the fused images of the code before the refactor (float
    rounding of another CPU's convolution kernels aside)."""
    import fusionbench

    pinned = np.load(PINNED)
    a, b = pinned["input_a"], pinned["input_b"]
    outputs = {f"fused_{name}": fusionbench.create_method(name).fuse(a, b)
               for name in ("ufa", "ufa-no-ca", "ufa-no-sa", "ufa-no-ufa")}
    outputs["fused_ufa-ablation"] = fusionbench.create_method("ufa", weights="ufa-ablation").fuse(a, b)
    outputs["fused_ufa_gray"] = fusionbench.create_method("ufa").fuse(a[..., 1], b[..., 1])
    outputs["fused_ufa_tiled"] = fusionbench.create_method("ufa", max_pixels=100, tile=8).fuse(a, b)
    for key, fused in outputs.items():
        np.testing.assert_allclose(fused, pinned[key], atol=2e-6, rtol=0, err_msg=key)


def test_training_is_unchanged(tmp_path) -> None:
    """A 3-step run (offline data, a crop change and an lr drop) logs the losses and validation
    values of the UFA-only trainer and ends with the same weights."""
    pinned = np.load(PINNED)
    config = UFAConfig(data="skimage", steps=3, batch=2, crop="16,24@2", lr=1e-3, lr_milestones=[2], val_pairs=2,
                       val_crop=16, val_every=3, log_every=1, checkpoint_minutes=60.0)
    result = train("ufa", config, tmp_path / "run")
    entries = read_log(tmp_path / "run")
    logged = np.array([[e["step"], e["loss"], e["l1"], e["ssim"], e["lr"], e["crop"]] for e in entries if "loss" in e])
    np.testing.assert_allclose(logged, pinned["train_log"], rtol=1e-5)
    val = next(e for e in reversed(entries) if "val_psnr" in e)
    np.testing.assert_allclose([val["val_psnr"], val["val_ssim"], val["val_l1"], val["val_loss"]], pinned["train_val"], rtol=1e-5)
    state = load_model(result.weights).state_dict()
    assert sorted(state) == list(pinned["train_param_names"])
    np.testing.assert_allclose([float(state[k].double().sum()) for k in sorted(state)], pinned["train_param_sums"],
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose([float(state[k].double().abs().sum()) for k in sorted(state)],
                               pinned["train_param_abs_sums"], rtol=1e-5)


def test_shipped_weights_carry_a_verified_tensor_checksum(recwarn) -> None:
    from fusionbench.nets.weights import load_tensors, shipped_weights

    for name in PINNED_TENSORS:
        tensors, meta = load_tensors(shipped_weights(name))
        assert meta["tensors_sha256"] == PINNED_TENSORS[name] and meta["network"] == "ufa"
        info = meta["info"]
        assert info["device"] == "cuda:NVIDIA H200" and info["samples_seen"] == {"256": info["batch"] * info["step"]}
    assert not [w for w in recwarn if "checksum" in str(w.message)]


def test_damaged_shipped_weights_are_refused_naming_the_file(tmp_path) -> None:
    """A copy of the shipped ufa weights with a few tensor bytes changed (the header intact):
    loading it, directly or through the method, raises WeightsError naming the file."""
    import fusionbench
    from fusionbench.nets.weights import shipped_weights

    data = bytearray(shipped_weights("ufa").read_bytes())
    start = 8 + int.from_bytes(data[:8], "little")  # the tensors follow the JSON header
    for offset in (start + 1001, len(data) - 3):
        data[offset] ^= 0x01
    damaged = tmp_path / "ufa-damaged.safetensors"
    damaged.write_bytes(bytes(data))
    assert read_metadata(damaged)["variant"] == "full"
    with pytest.raises(WeightsError, match=r"ufa-damaged.safetensors: the tensors do not match the checksum"):
        load_model(damaged)
    rng = np.random.default_rng(0)
    a, b = rng.random((16, 16, 3), dtype=np.float32), rng.random((16, 16, 3), dtype=np.float32)
    with pytest.raises(WeightsError, match="ufa-damaged.safetensors"):
        fusionbench.create_method("ufa", weights=str(damaged)).fuse(a, b)
