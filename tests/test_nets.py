"""The shared network infrastructure (fusionbench.nets) with tiny networks defined here, one per
kind of supervision the fusion networks use, each trained a few steps on CPU: supervised
multi-focus pairs with ground truth and masks, autoencoder reconstruction, an adversarial pair
(a second optimiser) on unsupervised source pairs, and patch-pair classification. Plus the data
generators, the schedule (warm-up, time budget), worker processes, the weights format and its
checksum, the command line and the plots.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from scipy import ndimage
from torch import nn

from fusionbench.nets import NETWORKS, get_network
from fusionbench.nets.data import (
    MultiFocusDataset,
    PatchPairDataset,
    ReconstructionDataset,
    SourcePairDataset,
    collate,
    resolve_source,
)
from fusionbench.nets.network import Network, TrainConfig, float32, option
from fusionbench.nets.train import export_weights, read_log, train
from fusionbench.nets.weights import WeightsError, load_state, load_tensors, read_metadata, tensors_sha256

from .synthetic_images import write_bsds_layout


ONE_TORCH_THREAD = True  # tiny tensors (tests/conftest.py)


@pytest.fixture(scope="module")
def bsds(tmp_path_factory):
    """BSDS500 layout with four textured 48x56 images per split and 16x14 block segmentations."""
    return str(write_bsds_layout(tmp_path_factory.mktemp("bsds"), np.random.default_rng(7), 4, (48, 56), (16, 14)))


# ------------------------------------------------------------------ tiny networks, one per kind of data


@dataclass
class TinyConfig(TrainConfig):
    width: int = option(4, "feature channels")
    mask_weight: float = option(0.5, "weight of the mask term")
    steps: int = 4
    batch: int = 4
    crop: str = "16"
    lr: float = 1e-2
    val_pairs: int = 2
    val_crop: int = 16
    val_every: int = 2
    log_every: int = 1
    checkpoint_minutes: float = 60.0


class WeightMapNet(nn.Module):
    """Predicts a per-pixel weight of ``a``; fused = w a + (1 - w) b."""

    def __init__(self, channels: int, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(2 * channels, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, 1, 3, padding=1))

    def forward(self, a, b):
        w = torch.sigmoid(self.body(torch.cat([a, b], dim=1)))
        return w * a + (1 - w) * b, w


class SupervisedTiny(Network):
    """Multi-focus pairs with ground truth and focus masks (as IFCNN, DRPL, UFA-Fuse use)."""

    name = "tiny-supervised"
    config_class = TinyConfig
    summary = "test network: weight map trained on fused-image L1 and the focus mask"

    def build(self, config):
        return WeightMapNet(3, config.width)

    def dataset(self, config, role, crop, seed):
        return MultiFocusDataset(resolve_source(config.data, role, config.data_dir), crop=crop, seed=seed)

    def loss(self, model, batch, config):
        fused, w = model(batch["a"], batch["b"])
        with float32(fused):
            l1 = (fused.float() - batch["gt"]).abs().mean()
            mask = nn.functional.binary_cross_entropy(w.float(), batch["mask"])
        return {"loss": l1 + config.mask_weight * mask, "l1": l1, "mask_bce": mask}


class AutoEncoderTiny(Network):
    """Reconstruction crops (as DenseFuse and SESF-Fuse train their autoencoders), gray."""

    name = "tiny-autoencoder"
    config_class = TinyConfig

    def build(self, config):
        return nn.Sequential(nn.Conv2d(1, config.width, 3, padding=1), nn.ReLU(), nn.Conv2d(config.width, 1, 3, padding=1))

    def dataset(self, config, role, crop, seed):
        return ReconstructionDataset(resolve_source(config.data, role, config.data_dir), crop=crop, seed=seed, channels=1)

    def loss(self, model, batch, config):
        return {"loss": ((model(batch["image"]).float() - batch["image"]) ** 2).mean()}


class AdversarialTiny(Network):
    """Unsupervised source pairs with a discriminator (as MFF-GAN): a second optimiser."""

    name = "tiny-gan"
    config_class = TinyConfig

    def build(self, config):
        return WeightMapNet(3, config.width)

    def build_adversary(self, config):
        return nn.Sequential(nn.Conv2d(3, config.width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                             nn.Flatten(), nn.Linear(config.width, 1))

    def dataset(self, config, role, crop, seed):
        return SourcePairDataset(resolve_source(config.data, role, config.data_dir), crop=crop, seed=seed)

    def adversary_loss(self, model, adversary, batch, config):
        with torch.no_grad():
            fused, _ = model(batch["a"], batch["b"])
        real = torch.maximum(batch["a"], batch["b"])  # stands in for "sharp" images
        bce = nn.functional.binary_cross_entropy_with_logits
        real_logit, fake_logit = adversary(real), adversary(fused)
        return {"loss": bce(real_logit, torch.ones_like(real_logit)) + bce(fake_logit, torch.zeros_like(fake_logit))}

    def loss(self, model, batch, config, adversary=None):
        fused, _ = model(batch["a"], batch["b"])
        logit = adversary(fused)
        fool = nn.functional.binary_cross_entropy_with_logits(logit, torch.ones_like(logit))
        content = (fused - 0.5 * (batch["a"] + batch["b"])).abs().mean()
        return {"loss": content + 0.1 * fool, "content": content, "fool": fool}

    def validate(self, model, batch, config):
        fused, _ = model(batch["a"], batch["b"])
        return {"val_content": float((fused - 0.5 * (batch["a"] + batch["b"])).abs().mean())}


class PatchClassifierTiny(Network):
    """Sharp / blurred patch pairs with labels (as Liu et al. 2017's CNN), SGD."""

    name = "tiny-patches"
    config_class = TinyConfig

    def build(self, config):
        return nn.Sequential(nn.Conv2d(2, config.width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(config.width, 1))

    def dataset(self, config, role, crop, seed):
        return PatchPairDataset(resolve_source(config.data, role, config.data_dir), crop=crop, seed=seed)

    def loss(self, model, batch, config):
        logit = model(torch.cat([batch["a"], batch["b"]], dim=1))[:, 0]
        with float32(logit):
            loss = nn.functional.binary_cross_entropy_with_logits(logit.float(), batch["label"])
        accuracy = ((logit > 0).float() == batch["label"]).float().mean()
        return {"loss": loss, "accuracy": accuracy}

    def optimizer(self, parameters, lr):
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9)


TINY = {cls.name: cls for cls in (SupervisedTiny, AutoEncoderTiny, AdversarialTiny, PatchClassifierTiny)}


@pytest.fixture
def registered(monkeypatch):
    """The tiny networks listed in fusionbench.nets.NETWORKS (as a network module adds itself)."""
    for name, cls in TINY.items():
        monkeypatch.setitem(NETWORKS, name, f"{__name__}:{cls.__name__}")


def _states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------ the loop with each kind of network


@pytest.mark.parametrize("name", sorted(TINY))
def test_each_kind_trains_and_exports(name, bsds, tmp_path) -> None:
    network = TINY[name]()
    result = train(network, TinyConfig(data=bsds), tmp_path / "run")
    assert result.status == "done" and result.step == 4
    assert result.weights.name == f"{name}.safetensors"
    meta = read_metadata(result.weights)
    assert meta["network"] == name and meta["format"] == "fusionbench-weights-1"
    info = meta["info"]
    assert info["step"] == 4 and info["device"] == "cpu" and info["samples_seen"] == {"16": 16}
    assert info["width"] == 4 and "val_pairs" not in info  # settings recorded, monitoring left out
    torch.manual_seed(0)
    model = network.build(TinyConfig())
    load_state(model, result.weights, name)
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert _states_equal(model.state_dict(), checkpoint["model"])
    entries = read_log(tmp_path / "run")
    lines = [e for e in entries if "loss" in e]
    assert [e["step"] for e in lines] == [1, 2, 3, 4] and all(np.isfinite(e["loss"]) for e in lines)
    assert sum(any(k.startswith("val_") for k in e) for e in entries) == 2  # steps 2 and 4


def test_a_network_learns(bsds, tmp_path) -> None:
    """Sixty steps of the autoencoder: the reconstruction error falls by more than 5x."""
    result = train(AutoEncoderTiny(), TinyConfig(data=bsds, steps=60, log_every=10, val_every=60, batch=8, width=8),
                   tmp_path / "run")
    mse = [e["loss"] for e in read_log(tmp_path / "run") if "loss" in e]
    assert result.status == "done" and mse[-1] < mse[0] / 5


def test_adversary_has_its_own_optimiser_and_resumes_bit_for_bit(bsds, tmp_path) -> None:
    config = TinyConfig(data=bsds, steps=4, lr_milestones=[3])
    straight = train(AdversarialTiny(), config, tmp_path / "straight")

    def stop_at_step_2(entry):
        if entry.get("step") == 2 and "loss" in entry:
            os.kill(os.getpid(), signal.SIGTERM)

    first = train(AdversarialTiny(), dataclasses.replace(config), tmp_path / "split", progress=stop_at_step_2)
    assert first.status == "interrupted" and first.step == 2
    second = train(AdversarialTiny(), None, tmp_path / "split", resume=True)
    assert second.status == "done"
    a = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "split" / "checkpoint.pt", weights_only=True)
    assert _states_equal(a["model"], b["model"]) and _states_equal(a["adversary"], b["adversary"])
    assert a["adversary_optimizer"]["state"] and a["optimizer"]["state"]
    terms = lambda run: [(e["step"], e["loss"], e["adv_loss"]) for e in read_log(tmp_path / run) if "loss" in e]  # noqa: E731
    assert terms("split") == terms("straight")
    torch.manual_seed(0)
    initial = AdversarialTiny().build_adversary(config)
    assert not _states_equal(initial.state_dict(), a["adversary"])  # the adversary was trained
    assert set(load_tensors(straight.weights)[0]) == set(a["model"])  # only the network is exported


def test_workers_give_the_same_run(bsds, tmp_path) -> None:
    """Data made in worker processes: the same batches, hence the same losses and weights."""
    base = TinyConfig(data=bsds, steps=3, crop="16,24@2")
    here = train(SupervisedTiny(), base, tmp_path / "here")
    pool = train(SupervisedTiny(), dataclasses.replace(base, workers=2), tmp_path / "pool")
    losses = lambda run: [e["loss"] for e in read_log(tmp_path / run) if "loss" in e]  # noqa: E731
    assert losses("here") == losses("pool")
    assert _states_equal(load_tensors(here.weights)[0], load_tensors(pool.weights)[0])


def test_time_budget_ends_the_run_with_weights(bsds, tmp_path) -> None:
    config = TinyConfig(data=bsds, steps=10**6, time_budget=0.03, val_every=10**6, log_every=50)
    result = train(PatchClassifierTiny(), config, tmp_path / "run")
    assert result.status == "done" and 2 < result.step < 10**6
    entries = read_log(tmp_path / "run")
    milestone = next(e for e in entries if e.get("event") == "lr_milestone")
    assert 0 < milestone["step"] < result.step
    assert entries[-1]["event"] == "done" and entries[-1]["wall_s"] >= 1.8
    info = read_metadata(result.weights)["info"]
    assert info["steps"] == info["step"] == result.step and info["lr_milestones"] == [milestone["step"]]
    assert info["samples_seen"] == {"16": 4 * result.step}
    lr = [e["lr"] for e in entries if "lr" in e]
    assert lr[0] == pytest.approx(1e-2) and lr[-1] == pytest.approx(1e-3)


def test_learning_rate_schedule_and_samples_seen() -> None:
    config = TinyConfig(steps=30, lr=1e-3, lr_milestones=[20], warmup_steps=4, crop="16,32@10")
    assert [config.lr_at(s) for s in (0, 1, 3, 4, 19, 20)] == pytest.approx([2.5e-4, 5e-4, 1e-3, 1e-3, 1e-3, 1e-4])
    assert config.lr_at(25, base=4e-3) == pytest.approx(4e-4)
    assert config.samples_seen(6) == {"16": 24} and config.samples_seen(30) == {"16": 40, "32": 80}
    assert TinyConfig(steps=30).lr_milestones == [20]
    assert TinyConfig(steps=30, time_budget=1.0).lr_milestones is None  # set when 2/3 of the budget is reached


def test_resume_rules(bsds, tmp_path) -> None:
    run = tmp_path / "run"
    train(SupervisedTiny(), TinyConfig(data=bsds, steps=2), run)
    with pytest.raises(ValueError, match="different width"):
        train(SupervisedTiny(), None, run, resume=True, overrides={"width": 8})
    with pytest.raises(ValueError, match="changes the learning rate of steps already trained"):
        train(SupervisedTiny(), None, run, resume=True, overrides={"warmup_steps": 5, "steps": 4})
    with pytest.raises(ValueError, match="is a run of 'tiny-supervised', not 'tiny-autoencoder'"):
        train(AutoEncoderTiny(), None, run, resume=True)
    more = train(SupervisedTiny(), None, run, resume=True, overrides={"steps": 3, "log_every": 5})
    assert more.status == "done" and more.step == 3
    with pytest.raises(TypeError, match="configured by UFAConfig, not TinyConfig"):
        train(get_network("ufa"), TinyConfig(), tmp_path / "other")


# ------------------------------------------------------------------ data generators


def test_reconstruction_crops(bsds) -> None:
    source = resolve_source(bsds)
    rgb, gray = ReconstructionDataset(source, crop=20, seed=1), ReconstructionDataset(source, crop=20, seed=1, channels=1)
    for i in range(4):
        x, g = rgb[i]["image"], gray[i]["image"]
        assert x.shape == (3, 20, 20) and g.shape == (1, 20, 20)
        expected = np.tensordot(np.array([0.298936021293775, 0.587043074451121, 0.114020904255103]), x.numpy(), axes=1)
        np.testing.assert_allclose(g[0].numpy(), expected, atol=1e-6)
        assert torch.equal(rgb[i]["image"], x)  # deterministic
    assert not torch.equal(rgb[0]["image"], rgb[1]["image"])


def test_source_pairs(bsds) -> None:
    source = resolve_source(bsds)
    focus, reference = SourcePairDataset(source, crop=24, seed=3), MultiFocusDataset(source, crop=24, seed=3)
    for i in range(3):
        assert torch.equal(focus[i]["a"], reference[i]["a"]) and torch.equal(focus[i]["b"], reference[i]["b"])
        assert set(focus[i]) == {"a", "b"}
    exposure = SourcePairDataset(source, crop=24, seed=3, kind="exposure")
    orders = set()
    for i in range(12):
        a, b = exposure[i]["a"].numpy(), exposure[i]["b"].numpy()
        darker = bool(a.mean() < b.mean())
        under, over = (a, b) if darker else (b, a)
        assert (under <= over + 1e-6).all() and 0 <= under.min() and over.max() <= 1  # one scene, two exposures
        assert (over >= 1 - 1e-6).any() or over.mean() > 0.5  # the over-exposed side brightens (and saturates)
        orders.add(darker)
    assert orders == {True, False}
    with pytest.raises(ValueError, match="unknown source-pair kind"):
        SourcePairDataset(source, kind="infrared")


def test_patch_pairs_blur_the_same_patch(bsds) -> None:
    """The blurred patch is the patch of the whole image blurred ``level`` times (the window
    margin is wide enough), and the label says which input is sharp."""
    source = resolve_source(bsds)
    dataset = PatchPairDataset(source, crop=16, seed=0, channels=3)
    levels = set()
    for i in range(10):
        s = dataset.sample(i)
        image = source.image(s.image_index)
        found = False
        for flips in ((), (0,), (1,), (0, 1)):
            flipped = np.flip(image, flips) if flips else image
            view = np.lib.stride_tricks.sliding_window_view(flipped, (16, 16, 3))[..., 0, :, :, :]
            hits = np.argwhere((view == s.sharp).all(axis=(-3, -2, -1)))
            if len(hits):
                y, x = hits[0]
                whole = flipped
                for _ in range(s.level):
                    whole = ndimage.gaussian_filter(whole, (2, 2, 0), mode="reflect", truncate=1.5)
                np.testing.assert_allclose(s.soft, whole[y : y + 16, x : x + 16], atol=1e-5)
                found = True
                break
        assert found
        levels.add(s.level)
        item = dataset[i]
        first = s.sharp if s.label else s.soft
        np.testing.assert_array_equal(item["a"].numpy().transpose(1, 2, 0), first)
        assert float(item["label"]) == s.label
    assert levels <= {1, 2, 3, 4, 5} and len(levels) > 1
    gray = PatchPairDataset(source, crop=16, seed=0)[0]
    assert gray["a"].shape == (1, 16, 16)


def test_collate_stacks_dicts() -> None:
    items = [{"a": torch.zeros(1, 4, 4), "label": torch.tensor(1.0)} for _ in range(3)]
    batch = collate(items)
    assert batch["a"].shape == (3, 1, 4, 4) and batch["label"].shape == (3,)


# ------------------------------------------------------------------ weights format, command line, plots


def test_damaged_tensors_are_refused(bsds, tmp_path) -> None:
    """Weights whose tensor bytes changed after export (bit rot, a bad copy) raise WeightsError
    naming the file instead of fusing with wrong weights; the header still parses."""
    result = train(SupervisedTiny(), TinyConfig(data=bsds, steps=1), tmp_path / "run")
    data = bytearray(result.weights.read_bytes())
    header = 8 + int.from_bytes(data[:8], "little")
    damaged = tmp_path / "damaged.safetensors"
    data[header + 5] ^= 0x40  # one bit of one float
    damaged.write_bytes(bytes(data))
    assert read_metadata(damaged)["network"] == "tiny-supervised"
    with pytest.raises(WeightsError, match=r"damaged.safetensors: the tensors do not match the checksum"):
        load_state(SupervisedTiny().build(TinyConfig()), damaged, "the tiny network")
    tensors, meta = load_tensors(result.weights)
    assert meta["tensors_sha256"] == tensors_sha256(tensors)


def test_export_of_an_unfinished_run(registered, bsds, tmp_path) -> None:
    def stop(entry):
        if entry.get("step") == 2 and "loss" in entry:
            os.kill(os.getpid(), signal.SIGTERM)

    train(AutoEncoderTiny(), TinyConfig(data=bsds, steps=6), tmp_path / "run", progress=stop)
    out = tmp_path / "early.safetensors"
    export_weights(tmp_path / "run", out)
    info = read_metadata(out)["info"]
    assert info["step"] == 2 and info["samples_seen"] == {"16": 8} and read_metadata(out)["network"] == "tiny-autoencoder"


def test_cli_trains_a_registered_network_with_its_own_options(registered, bsds, tmp_path, capsys) -> None:
    from PIL import Image as PILImage

    from fusionbench.cli import main

    out = tmp_path / "run"
    assert main(["train", "tiny-supervised", "--data", bsds, "--out", str(out), "--steps", "3", "--width", "6",
                 "--mask-weight", "0.25", "--lr-milestones", "1,2", "--val-every", "3"]) == 0
    config = read_log(out)[0]["config"]
    assert config["width"] == 6 and config["mask_weight"] == 0.25 and config["lr_milestones"] == [1, 2]
    printed = capsys.readouterr().out
    assert "mask_bce" in printed and "val_l1" in printed and "done: 3 steps" in printed
    assert main(["train", "tiny-supervised", "--out", str(out), "--resume", "--steps", "4"]) == 0
    assert main(["train", "tiny-supervised", "--out", str(out), "--resume", "--width", "8"]) == 2
    assert "different width" in capsys.readouterr().err
    assert main(["plot-training", str(out), str(out), "-o", str(tmp_path / "curves.png")]) == 0
    assert PILImage.open(tmp_path / "curves.png").size[0] > 500
    with pytest.raises(SystemExit):
        main(["train", "no-such-network", "--out", str(out)])


def test_registry_of_networks() -> None:
    from fusionbench.nets import list_networks

    assert "ufa" in list_networks() and get_network("ufa").name == "ufa"
    with pytest.raises(KeyError, match="unknown network 'nope'; trainable networks: .*ufa"):
        get_network("nope")


class DivergingTiny(AutoEncoderTiny):
    name = "tiny-diverging"

    def loss(self, model, batch, config):
        out = model(batch["image"])
        return {"loss": (out * float("nan")).mean()}


def test_a_diverging_run_stops_with_a_clear_error(bsds, tmp_path) -> None:
    with pytest.raises(FloatingPointError, match="training diverged by step 2 .*lower --lr"):
        train(DivergingTiny(), TinyConfig(data=bsds, log_every=2, checkpoint_minutes=0.0), tmp_path / "run")
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["step"] == 1  # none written after it is seen
