"""Training declarations of densefuse, deepfuse and ifcnn on the shared loop: a few steps on
tiny synthetic BSDS500-like data, the weights they export, and the shipped weights' records."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

import fusionbench
from fusionbench.nets import get_network, list_networks
from fusionbench.nets.train import read_log, train
from fusionbench.nets.weights import read_metadata, shipped_weights

from .synthetic_images import write_bsds_layout

REPORTS = Path(__file__).resolve().parent.parent / "reports" / "training"


ONE_TORCH_THREAD = True  # tiny tensors (tests/conftest.py)


@pytest.fixture(scope="module")
def bsds(tmp_path_factory):
    """BSDS500 layout with three textured 40x48 images per split and 20x16 block segmentations."""
    return str(write_bsds_layout(tmp_path_factory.mktemp("bsds"), np.random.default_rng(3), 3, (40, 48), (20, 16)))


CASES = [
    ("densefuse", {}, "densefuse", ("loss", "mse", "ssim"), "val_psnr"),
    ("deepfuse", {}, "deepfuse", ("loss", "mef_ssim", "luminance_mse"), "val_mef_ssim"),
    ("ifcnn", {"rule": "sum"}, "ifcnn-sum", ("loss",), "val_psnr"),
]


@pytest.mark.parametrize("name,extra,weights_name,terms,val_key", CASES, ids=[c[0] for c in CASES])
def test_trains_and_exports_weights_the_method_loads(name, extra, weights_name, terms, val_key, bsds, tmp_path) -> None:
    assert name in list_networks()
    network = get_network(name)
    config = network.config_class(data=bsds, steps=4, batch=2, crop="24", lr=1e-3, val_pairs=1, val_crop=24,
                                  val_every=4, log_every=2, **extra)
    result = train(network, config, tmp_path / "run", device="cpu")
    assert result.status == "done" and result.weights.name == f"{weights_name}.safetensors"
    entries = read_log(tmp_path / "run")
    logged = [e for e in entries if "loss" in e]
    assert len(logged) == 2 and all(np.isfinite(e[t]) for e in logged for t in terms)
    assert any(val_key in e for e in entries)
    meta = read_metadata(result.weights)
    assert meta["network"] == name and meta["info"]["samples_seen"] == {"24": 8}
    method = {"densefuse": "densefuse", "deepfuse": "deepfuse", "ifcnn": "ifcnn"}[name]
    a = np.random.default_rng(0).random((20, 22), dtype=np.float32)
    fused = fusionbench.fuse(a, a[::-1].copy(), method, weights=str(result.weights), **extra)
    assert fused.shape == a.shape and np.isfinite(fused).all()


def test_ifcnn_weights_record_their_rule_and_start_a_second_stage(bsds, tmp_path) -> None:
    from fusionbench.nets.weights import WeightsError, load_tensors

    network = get_network("ifcnn")
    config = network.config_class(data=bsds, steps=1, batch=2, crop="16", val_pairs=1, val_crop=16, rule="max")
    first = train(network, config, tmp_path / "run", device="cpu")
    assert read_metadata(first.weights)["rule"] == "max"
    # A second stage starts from the first stage's weights and adds the SSIM term.
    second = network.config_class(**{**config.to_dict(), "init_weights": str(first.weights), "ssim_weight": 1.0,
                                     "steps": 2, "lr": 0.0})
    torch.manual_seed(second.seed)
    start = network.build(second)
    for name, tensor in load_tensors(first.weights)[0].items():
        assert torch.equal(start.state_dict()[name], tensor), name
    result = train(network, second, tmp_path / "stage2", device="cpu")
    logged = [e for e in read_log(tmp_path / "stage2") if "loss" in e]
    assert all(e["loss"] == pytest.approx(e["mse"] + 1.0 - e["ssim"], rel=1e-5) for e in logged)
    third = network.config_class(**{**second.to_dict(), "gradient_weight": 2.0})
    train(network, third, tmp_path / "stage3", device="cpu")
    logged = [e for e in read_log(tmp_path / "stage3") if "loss" in e]
    assert all(e["loss"] == pytest.approx(e["mse"] + 1.0 - e["ssim"] + 2.0 * e["gradient"], rel=1e-5) for e in logged)
    with pytest.raises(ValueError, match="gradient_weight must be >= 0"):
        network.config_class(gradient_weight=-1.0)
    assert read_metadata(result.weights)["info"]["init_weights"] == str(first.weights)
    with pytest.raises(WeightsError, match="trained with rule 'max', not 'sum'"):
        network.build(network.config_class(init_weights=str(first.weights), rule="sum"))
    with pytest.raises(ValueError, match="unknown IFCNN fusion rule"):
        network.config_class(rule="min")
    with pytest.raises(ValueError, match="--pairs 'focus'"):
        get_network("deepfuse").config_class(pairs="focus")


def _listed(name: str, report: str) -> None:
    path = shipped_weights(name)
    assert path.is_file(), f"{path} missing: ship the trained weights (reports/training/{report}.md)"
    meta = read_metadata(path)
    assert meta["info"]["step"] > 0 and meta["info"]["data"] == "bsds500"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sha in (REPORTS / f"{report}.md").read_text(), f"{path.name}: sha256 {sha} not in reports/training/{report}.md"


@pytest.mark.parametrize("name,report", [("densefuse", "densefuse"), ("deepfuse", "deepfuse"),
                                         ("ifcnn-max", "ifcnn"), ("ifcnn-sum", "ifcnn")])
def test_shipped_weights_are_listed_with_their_hash(name: str, report: str) -> None:
    _listed(name, report)


def test_ifcnn_gradient_term_sees_detail_not_brightness() -> None:
    from fusionbench.nets.ifcnn import gradient_l1

    x = torch.rand(2, 3, 8, 9)
    assert float(gradient_l1(x, x + 0.3)) < 1e-6  # a constant offset has the same differences (to rounding)
    ramp = torch.arange(9.0).expand(1, 1, 8, 9)  # horizontal differences 1, vertical 0
    assert float(gradient_l1(ramp, torch.zeros_like(ramp))) == pytest.approx(1.0)
    assert float(gradient_l1(ramp.transpose(2, 3), torch.zeros(1, 1, 9, 8))) == pytest.approx(1.0)

