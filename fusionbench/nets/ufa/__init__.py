"""UFA-Fuse (Zang et al., "UFA-FUSE: A novel deep supervised and hybrid model for multi-focus
image fusion", IEEE Trans. Instrum. Meas. 2021): network (:mod:`.model`), tiled inference
(:mod:`.inference`), training declaration for the shared loop (:mod:`.train`, ``fusionbench
train ufa``) and weights files (:mod:`.weights`). The registered fusion methods ``ufa``,
``ufa-no-ca``, ``ufa-no-sa``, ``ufa-no-ufa`` live in ``fusionbench.methods.ufa``.

Submodules import torch; this package itself does not, so importing fusionbench stays fast.
"""
