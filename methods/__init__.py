"""Built-in fusion methods, one module each; importing a module registers its method."""

from . import average  # noqa: F401
