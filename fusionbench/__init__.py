"""fusionbench: a benchmarking suite for image fusion.

Data path: dataset -> pairs -> method.fuse -> cache -> metrics -> results table -> reports.
Conventions (value ranges, colour handling) are stated in :mod:`fusionbench.io`.
"""

from ._allocator import tune_allocator

tune_allocator()

from .data import example  # noqa: E402
from .io import ImageReadError, read_image, to_gray, write_image  # noqa: E402
from .metrics import evaluate, get_metric, list_metrics, register_metric  # noqa: E402
from .registry import FusionMethod, create_method, fuse, list_methods, register_method  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "ImageReadError",
    "FusionMethod",
    "create_method",
    "evaluate",
    "example",
    "fuse",
    "get_metric",
    "list_methods",
    "list_metrics",
    "read_image",
    "register_method",
    "register_metric",
    "to_gray",
    "write_image",
]
