"""fusionbench's trained networks: one training loop, one weights format, shared data generators.

A trained network method is made of

* its network (an ``nn.Module``) and inference, in a module or package here
  (e.g. :mod:`fusionbench.nets.ufa`);
* its training declaration, a :class:`~fusionbench.nets.network.Network` (settings, model,
  loss, data), listed in :data:`NETWORKS` so that ``fusionbench train NAME`` trains it with the
  shared loop (:mod:`fusionbench.nets.train`: resumable bit for bit, atomic checkpoints,
  SIGTERM-safe, JSON-lines log, validation, bf16 on CUDA, time budgets);
* weights files in the shared format (:mod:`fusionbench.nets.weights`: safetensors with a
  metadata header and a tensor checksum), shipped in ``fusionbench/weights/``;
* the registered fusion method in ``methods/<name>.py``, a thin
  :class:`~fusionbench.nets.method.NetworkMethod` that loads the weights and fuses.

Training data: :mod:`fusionbench.nets.data` (multi-focus pairs with ground truth and masks,
reconstruction crops, unsupervised source pairs, focus-classification patch pairs, from
BSDS500 or other natural images). Curves: :mod:`fusionbench.nets.plot`. CONTRIBUTING.md
walks through adding a network.

Importing this package does not import torch.
"""

from __future__ import annotations

import importlib

__all__ = ["NETWORKS", "get_network", "list_networks"]

# Trainable networks: `fusionbench train NAME` -> "module:class" of its Network (imported on use).
NETWORKS: dict[str, str] = {
    "ufa": "fusionbench.nets.ufa.train:UFANetwork",
    "densefuse": "fusionbench.nets.densefuse:DenseFuseNetwork",
    "deepfuse": "fusionbench.nets.deepfuse:DeepFuseNetwork",
    "ifcnn": "fusionbench.nets.ifcnn:IFCNNNetwork",
    "cnn": "fusionbench.nets.cnn:CNNNetwork",
    "sesf": "fusionbench.nets.sesf:SESFNetwork",
    "drpl": "fusionbench.nets.drpl:DRPLNetwork",
    "mffgan": "fusionbench.nets.mffgan:MFFGANNetwork",
}


def list_networks() -> list[str]:
    return sorted(NETWORKS)


def get_network(name: str):
    """The :class:`~fusionbench.nets.network.Network` registered as ``name``."""
    try:
        target = NETWORKS[name]
    except KeyError:
        raise KeyError(f"unknown network {name!r}; trainable networks: {', '.join(list_networks())}") from None
    module, _, cls = target.partition(":")
    network = getattr(importlib.import_module(module), cls)()
    if network.name != name:
        raise RuntimeError(f"{target} declares the name {network.name!r}, but NETWORKS lists it as {name!r}")
    return network
