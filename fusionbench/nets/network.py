"""What a trainable network declares: its settings (:class:`TrainConfig`), model, loss and data
(:class:`Network`). The shared loop (:func:`fusionbench.nets.train.train`) does the rest:
batches, optimiser and learning-rate schedule, bf16 autocast on CUDA, validation, the log,
checkpoints, resume, weights export.

A minimal network (see ``tests/test_nets.py`` for one that trains)::

    @dataclass
    class MyConfig(TrainConfig):
        alpha: float = option(0.5, "weight of the gradient term")

    class MyNetwork(Network):
        name = "mynet"                   # fusionbench train mynet; weights mynet.safetensors
        config_class = MyConfig
        summary = "my fusion network (Author, Journal 2024)"

        def build(self, config):          # after torch.manual_seed(config.seed)
            return MyNet()
        def dataset(self, config, role, crop, seed):
            return MultiFocusDataset(resolve_source(config.data, role, config.data_dir), crop, seed)
        def loss(self, model, batch, config):
            fused = model(batch["a"], batch["b"])
            with float32(fused):
                l1 = (fused.float() - batch["gt"]).abs().mean()
            return {"loss": l1}

and one line in :data:`fusionbench.nets.NETWORKS`.
"""

from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, NamedTuple

__all__ = ["TrainConfig", "Network", "Curve", "option", "parse_crop_schedule", "float32"]


def option(default: Any, help: str, **extra: Any) -> Any:  # noqa: A002 - argparse's word
    """A config field with its command-line help; ``flag="--name"`` renames the option,
    ``choices=(...)`` restricts it."""
    return field(default=default, metadata={"help": help, **extra})


@dataclass
class TrainConfig:
    """Settings that determine the trained weights, plus monitoring settings (:attr:`MONITORING`,
    free to change when a run is resumed). Subclass it for a network's own settings; every
    field becomes a ``fusionbench train NAME --field-name`` option (its ``metadata["help"]``
    is the help text; ``metadata["flag"]`` renames the option, ``metadata["choices"]``
    restricts it).

    ``crop``: crop-size schedule ``"SIZE[@FROM_STEP],..."``, e.g. ``"64,128@6000"`` (64x64 crops
    for steps 0..5999, then 128x128). ``lr_milestones``: steps at which the learning rate is
    multiplied by ``lr_factor``; None: at 2/3 of ``steps`` (with ``time_budget``: at the step
    reached after 2/3 of the budget, recorded when it happens). ``warmup_steps``: the learning
    rate rises linearly over the first steps (large batches). ``time_budget``: minutes of
    training wall time after which the run ends and exports its weights, ``steps`` then being
    the step reached (recorded). ``micro_batch_pixels``: a batch is processed in chunks of at
    most this many pixels and the gradients summed (same gradient, bounded memory).
    """

    data: str = option("skimage", "bsds500 (under --data-dir or $FUSIONBENCH_DATA), skimage (offline), "
                        "or a folder laid out like DUTS (DUTS-TR-Image/, DUTS-TR-Mask/) or BSDS500")
    data_dir: str | None = option(None, "folder holding bsds500/ (default $FUSIONBENCH_DATA)")
    steps: int = option(1000, "total optimisation steps")
    batch: int = option(8, "pairs per step")
    crop: str = option("256", "crop size, or schedule SIZE[@STEP],... e.g. 64,128@6000")
    lr: float = option(1e-4, "initial Adam learning rate")
    lr_milestones: list[int] | None = option(None, "steps at which the lr is multiplied by --lr-factor "
                                              "(default: 2/3 of --steps, or of --time-budget)")
    lr_factor: float = option(0.1, "lr decay factor")
    warmup_steps: int = option(0, "linear learning-rate warm-up over this many steps")
    time_budget: float | None = option(None, "minutes of training after which the run ends and exports its "
                                        "weights (steps = the step reached)")
    seed: int = option(0, "seed of the initial weights and of the data")
    micro_batch_pixels: int = option(32768, "process a batch in chunks of this many pixels")
    # monitoring only (free to change on resume)
    workers: int = option(0, "data-generating worker processes (0: in the training process)")
    val_pairs: int = option(8, "held-out validation samples")
    val_crop: int = option(192, "size of the validation samples")
    val_every: int = option(250, "validate every N steps")
    log_every: int = option(10, "log every N steps")
    checkpoint_minutes: float = option(5.0, "checkpoint interval in minutes")

    MONITORING: ClassVar[tuple[str, ...]] = (
        "workers", "val_pairs", "val_crop", "val_every", "log_every", "checkpoint_minutes", "data_dir",
    )

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch < 1:
            raise ValueError("steps and batch must be positive")
        if self.warmup_steps < 0 or self.workers < 0:
            raise ValueError("warmup_steps and workers must be >= 0")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError(f"time_budget must be a positive number of minutes, got {self.time_budget}")
        parse_crop_schedule(self.crop)
        if self.lr_milestones is None and self.time_budget is None:
            self.lr_milestones = [max(1, round(self.steps * 2 / 3))]
        if self.lr_milestones is not None:
            self.lr_milestones = sorted(int(m) for m in self.lr_milestones)

    def crop_at(self, step: int) -> int:
        return max((start, size) for size, start in parse_crop_schedule(self.crop) if start <= step)[1]

    def lr_at(self, step: int, base: float | None = None) -> float:
        """Learning rate of ``step`` for an optimiser whose initial rate is ``base`` (default ``lr``)."""
        lr = (self.lr if base is None else base) * self.lr_factor ** sum(step >= m for m in self.lr_milestones or ())
        if step < self.warmup_steps:
            lr *= (step + 1) / self.warmup_steps
        return lr

    def samples_seen(self, step: int) -> dict[str, int]:
        """Training samples per crop size after ``step`` steps, e.g. ``{"64": 17600, "128": 1280}``."""
        seen: dict[str, int] = {}
        phases = parse_crop_schedule(self.crop)
        for (size, start), nxt in zip(phases, phases[1:] + [(0, step)]):
            n = max(0, min(step, nxt[1]) - start) * self.batch
            if n:
                seen[str(size)] = seen.get(str(size), 0) + n
        return seen

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> "TrainConfig":
        """The config of a saved run (``config.json``/checkpoint); fields added since then take
        their defaults (subclasses adjust when an old default differs)."""
        return cls(**saved)


def parse_crop_schedule(spec: str | int) -> list[tuple[int, int]]:
    """``"64,128@6000"`` -> ``[(64, 0), (128, 6000)]`` (size, first step)."""
    phases = []
    for part in str(spec).split(","):
        size, _, start = part.strip().partition("@")
        try:
            phases.append((int(size), int(start) if start else 0))
        except ValueError:
            raise ValueError(f"bad crop schedule {spec!r}; expected e.g. '128' or '64,128@6000'") from None
    if phases[0][1] != 0 or any(b[1] <= a[1] for a, b in zip(phases, phases[1:])):
        raise ValueError(f"bad crop schedule {spec!r}: the first phase starts at step 0, later ones at increasing steps")
    if any(size < 8 for size, _ in phases):
        raise ValueError(f"bad crop schedule {spec!r}: crops must be at least 8 pixels")
    return phases


def float32(tensor):
    """Context in which autocast is off, for the precision-sensitive part of a loss (the loop
    runs :meth:`Network.loss` under bf16 autocast on CUDA): ``with float32(fused): ...``."""
    import torch

    return torch.autocast(tensor.device.type, enabled=False)


class Curve(NamedTuple):
    """One panel of ``fusionbench plot-training``: a log key, a title, log scale or not, and an
    optional transform of the values (e.g. ``lambda s: 1 - s`` to show 1 - SSIM)."""

    key: str
    title: str
    log: bool = True
    transform: Callable[[float], float] | None = None


class Network(abc.ABC):
    """A trainable network: its settings, model, loss and data. The shared loop calls:

    * :meth:`build` once per run, right after ``torch.manual_seed(config.seed)``, so the
      initial weights depend only on the config;
    * :meth:`dataset` for each crop size of the schedule (``role="train"``, ``seed=config.seed``)
      and once for validation (``role="validation"``, ``crop=config.val_crop``, a fixed seed).
      A dataset maps an index to a dict of tensors and must depend only on ``(seed, index)``
      (batch ``k`` holds samples ``k*batch .. k*batch+batch-1``), which makes runs resumable
      bit for bit; :mod:`fusionbench.nets.data` has generators for the usual kinds;
    * :meth:`loss` on each (micro-)batch, under bf16 autocast on CUDA: a dict of scalar
      tensors whose ``"loss"`` is minimised (Adam) and whose every entry is logged;
    * :meth:`validate` on each held-out sample (a batch of one) every ``val_every`` steps;
    * :meth:`weights_name` and :meth:`weights_metadata` when the weights are exported.

    A network trained against an adversary (a GAN) returns a module from :meth:`build_adversary`;
    each step then first updates the adversary with :meth:`adversary_loss` (its own Adam, learning
    rate :meth:`adversary_lr`, same schedule), then the network with :meth:`loss`, which receives
    the adversary as the keyword ``adversary``. Only the network is exported; the checkpoint
    holds both.
    """

    name: ClassVar[str] = ""
    config_class: ClassVar[type[TrainConfig]] = TrainConfig
    summary: ClassVar[str] = ""
    curves: ClassVar[tuple[Curve, ...]] = ()  # empty: one panel per logged term and validation metric

    @abc.abstractmethod
    def build(self, config: TrainConfig):
        """The network to train (an ``nn.Module``), initialised."""

    @abc.abstractmethod
    def dataset(self, config: TrainConfig, role: str, crop: int, seed: int):
        """Training (``role="train"``) or held-out (``"validation"``) samples of size ``crop``."""

    @abc.abstractmethod
    def loss(self, model, batch: dict[str, Any], config: TrainConfig, **adversary: Any) -> dict[str, Any]:
        """Scalar tensors; ``"loss"`` is minimised, all are logged (averaged over ``log_every`` steps)."""

    def validate(self, model, batch: dict[str, Any], config: TrainConfig) -> dict[str, float]:
        """Metrics of one held-out sample (averaged over the samples); default: the loss terms."""
        return {f"val_{k}": float(v) for k, v in self.loss(model, batch, config).items()}

    def weights_name(self, config: TrainConfig) -> str:
        """File stem of the exported weights (= the registered method using them)."""
        return self.name

    def weights_metadata(self, config: TrainConfig) -> dict[str, str]:
        """Extra string entries of the weights file's metadata header."""
        return {}

    def run_label(self, config: TrainConfig) -> str:
        """What distinguishes a run in plots (e.g. ``"full, λ=0.2"``)."""
        return self.name

    def optimizer(self, parameters, lr: float):
        """The optimiser of the network (and of the adversary); the loop sets its learning rate
        every step from the schedule. Default: Adam with PyTorch's defaults."""
        import torch

        return torch.optim.Adam(parameters, lr=lr)

    def build_adversary(self, config: TrainConfig):
        """The adversary (e.g. a discriminator) of a GAN, or None."""
        return None

    def adversary_loss(self, model, adversary, batch: dict[str, Any], config: TrainConfig) -> dict[str, Any]:
        """Loss terms of the adversary's update (``"loss"`` minimised over its parameters)."""
        raise NotImplementedError(f"{type(self).__name__} builds an adversary but defines no adversary_loss")

    def adversary_lr(self, config: TrainConfig) -> float:
        return config.lr
