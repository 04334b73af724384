"""The registered network methods densefuse, deepfuse and ifcnn with weights files written here
(random weights): loading and its errors, gray and colour, tiling, the rules' weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fusionbench
from fusionbench.io import RGB2GRAY_COEFFS
from fusionbench.nets.deepfuse import DeepFuse
from fusionbench.nets.densefuse import DenseFuse
from fusionbench.nets.ifcnn import IFCNN
from fusionbench.nets.init import he_normal_
from fusionbench.nets.weights import WeightsError, save_weights


ONE_TORCH_THREAD = True  # tiny tensors (tests/conftest.py)


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    files = {}
    for name, model, network, metadata in (
        ("densefuse", he_normal_(DenseFuse()), "densefuse", {}),
        ("deepfuse", he_normal_(DeepFuse()), "deepfuse", {}),
        ("ifcnn-max", he_normal_(IFCNN("max"), mode="fan_out"), "ifcnn", {"rule": "max"}),
        ("ifcnn-sum", he_normal_(IFCNN("sum"), mode="fan_out"), "ifcnn", {"rule": "sum"}),
    ):
        files[name] = folder / f"{name}.safetensors"
        save_weights(model, files[name], network=network, metadata=metadata)
    return files


CASES = [
    ("densefuse", {"rule": "add"}, "densefuse"),
    ("densefuse", {"rule": "l1"}, "densefuse"),
    ("deepfuse", {}, "deepfuse"),
    ("ifcnn", {"rule": "max"}, "ifcnn-max"),
    ("ifcnn", {"rule": "sum"}, "ifcnn-sum"),
    ("ifcnn", {"rule": "mean"}, "ifcnn-sum"),
]
IDS = ["densefuse-add", "densefuse-l1", "deepfuse", "ifcnn-max", "ifcnn-sum", "ifcnn-mean"]


def _images(color: bool, size=(30, 34)):
    rng = np.random.default_rng(11)
    shape = size + (3,) if color else size
    return rng.random(shape, dtype=np.float32), rng.random(shape, dtype=np.float32)


@pytest.mark.parametrize("name,params,weights", CASES, ids=IDS)
def test_fuses_gray_and_colour(name, params, weights, weight_files) -> None:
    method = fusionbench.create_method(name, weights=str(weight_files[weights]), **params)
    for color in (False, True):
        a, b = _images(color)
        fused = method.fuse(a, b)
        assert fused.shape == a.shape and fused.dtype == np.float32
        assert 0.0 <= fused.min() and fused.max() <= 1.0
        np.testing.assert_array_equal(fused, method.fuse(a, b))
    # Tiles: the same result.
    tiled = fusionbench.create_method(name, weights=str(weight_files[weights]), max_pixels=64, tile=16, **params)
    np.testing.assert_allclose(tiled.fuse(a, b), method.fuse(a, b), atol=1e-5)


def test_identity_holds_the_weights_hash(weight_files) -> None:
    from fusionbench.nets.weights import sha256_file

    method = fusionbench.create_method("deepfuse", weights=str(weight_files["deepfuse"]))
    assert method.identity()["weights_sha256"] == sha256_file(weight_files["deepfuse"])
    assert method.identity()["params"]["weights"] == str(weight_files["deepfuse"])


def test_ifcnn_gray_is_the_rgb2gray_of_the_replicated_pair(weight_files) -> None:
    method = fusionbench.create_method("ifcnn", weights=str(weight_files["ifcnn-max"]))
    a, b = _images(False)
    rgb = method.fuse(np.repeat(a[..., None], 3, axis=2), np.repeat(b[..., None], 3, axis=2))
    np.testing.assert_allclose(method.fuse(a, b), rgb @ np.asarray(RGB2GRAY_COEFFS, dtype=np.float32), atol=1e-6)


def test_ifcnn_mean_equals_sum(weight_files) -> None:
    a, b = _images(True)
    summed = fusionbench.fuse(a, b, "ifcnn", rule="sum", weights=str(weight_files["ifcnn-sum"]))
    mean = fusionbench.fuse(a, b, "ifcnn", rule="mean", weights=str(weight_files["ifcnn-sum"]))
    np.testing.assert_allclose(mean, summed, atol=1e-6)


def test_densefuse_rules_differ(weight_files) -> None:
    a, b = _images(False)
    add = fusionbench.fuse(a, b, "densefuse", rule="add", weights=str(weight_files["densefuse"]))
    l1 = fusionbench.fuse(a, b, "densefuse", rule="l1", weights=str(weight_files["densefuse"]))
    assert np.abs(add - l1).max() > 1e-3


def test_weights_errors_name_the_file(weight_files, tmp_path) -> None:
    a, b = _images(False)
    missing = tmp_path / "nothing.safetensors"
    with pytest.raises(WeightsError, match="nothing.safetensors: weights file of method 'deepfuse' not found"):
        fusionbench.fuse(a, b, "deepfuse", weights=str(missing))
    with pytest.raises(WeightsError, match="holds weights of the network 'densefuse', not 'deepfuse'"):
        fusionbench.fuse(a, b, "deepfuse", weights=str(weight_files["densefuse"]))
    with pytest.raises(WeightsError, match="ifcnn-max.safetensors: IFCNN weights trained with rule 'max' cannot be used with 'sum'"):
        fusionbench.fuse(a, b, "ifcnn", rule="sum", weights=str(weight_files["ifcnn-max"]))
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(weight_files["deepfuse"].read_bytes()[:-100])
    with pytest.raises(WeightsError, match="damaged.safetensors"):
        fusionbench.fuse(a, b, "deepfuse", weights=str(damaged))


def test_methods_state_their_networks_receptive_radius() -> None:
    from fusionbench.nets import deepfuse, densefuse, ifcnn
    from fusionbench.registry import get_method_class

    for name, module in (("densefuse", densefuse), ("deepfuse", deepfuse), ("ifcnn", ifcnn)):
        assert get_method_class(name).radius == module.RECEPTIVE_RADIUS, name


def test_parameters_are_checked() -> None:
    with pytest.raises(TypeError, match="parameter 'rule' must be one of 'add', 'l1'"):
        fusionbench.create_method("densefuse", rule="max")
    with pytest.raises(TypeError, match="parameter 'rule' must be one of 'max', 'sum', 'mean'"):
        fusionbench.create_method("ifcnn", rule="l1")
    with pytest.raises(ValueError, match="tile >= 16"):
        fusionbench.create_method("deepfuse", tile=4)


def test_listing_methods_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, fusionbench; fusionbench.list_methods(); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_paper_tables_map_their_network_rows_to_our_methods() -> None:
    from fusionbench.paper import published
    from fusionbench.runner import parse_method_specs

    dense = {"DenseFuse-ADD": "densefuse[rule=add]", "DeepFuse": "deepfuse"}
    expected = {
        "table5": {**dense, "DenseFuse-L1": "densefuse[rule=l1]", "IFCNN-MAX": "ifcnn[rule=max]"},
        "table6": {**dense, "IFCNN-SUM": "ifcnn[rule=sum]"},
        "table7": {**dense, "IFCNN-SUM": "ifcnn[rule=sum]"},
    }
    for table, rows in expected.items():
        frame, _ = published(table)
        mapping = dict(zip(frame["row"], frame["method"]))
        for row, spec in rows.items():
            assert mapping[row] == spec, (table, row)
            parsed = parse_method_specs(spec)[0]
            fusionbench.create_method(parsed.name, **parsed.params)  # a valid spec


def test_densefuse_output_spans_the_sources_range(weight_files) -> None:
    """The authors' min-max normalisation: the ADD rule's doubled features are not twice as bright."""
    rng = np.random.default_rng(2)
    a = (0.1 + 0.6 * rng.random((30, 34))).astype(np.float32)
    b = (0.2 + 0.5 * rng.random((30, 34))).astype(np.float32)
    for rule in ("add", "l1"):
        fused = fusionbench.fuse(a, b, "densefuse", rule=rule, weights=str(weight_files["densefuse"]))
        assert fused.min() == pytest.approx(min(a.min(), b.min()), abs=1e-6)
        assert fused.max() == pytest.approx(max(a.max(), b.max()), abs=1e-6)


@pytest.mark.parametrize("name", ["ufa", "drpl", "mffgan", "ifcnn"])
def test_the_under_trained_shipped_weights_carry_a_caveat_that_users_weights_do_not(name: str, tmp_path) -> None:
    import shutil

    shipped = fusionbench.create_method(name)
    assert "reports/" in shipped.caveat()  # says where to read what was trained
    copy = tmp_path / f"{name}-mine.safetensors"
    shutil.copy(shipped.weights_path(), copy)
    assert fusionbench.create_method(name, weights=str(copy)).caveat() == ""


def test_a_network_validated_against_its_authors_has_no_caveat() -> None:
    assert fusionbench.create_method("cnn").caveat() == ""
