"""Built-in fusion methods, one module each; importing a module registers its method."""

from . import average  # noqa: F401
from . import choose_max, dtcwt, dwt, gff, lp, mp, precomputed, rp, sf, swt  # noqa: F401
from . import dsift, imf, mwgf  # noqa: F401
from . import cvt, nsct, sr  # noqa: F401
from . import gtf  # noqa: F401
from . import ufa  # noqa: F401  (torch is imported only when UFA-Fuse fuses)
from . import cnn, drpl, mffgan, sesf  # noqa: F401  (networks trained by fusionbench; torch imported on use)
from . import deepfuse, densefuse, ifcnn  # noqa: F401  (torch is imported only when they fuse)
