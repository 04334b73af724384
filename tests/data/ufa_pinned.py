"""How tests/data/ufa_pinned.npz was made: run at commit 3f035e4 (fusionbench/ufa, the UFA-only
trainer, before UFA-Fuse moved onto the shared network loop of fusionbench/nets), with
`python tests/data/ufa_pinned.py tests/data/ufa_pinned.npz`; it printed the tensor digests
that tests/test_ufa.py pins (PINNED_TENSORS). It imports the old module paths, so it does not
run on later commits; tests/test_ufa.py checks today's code against its output."""
import hashlib, json, sys, tempfile
import numpy as np, torch
torch.set_num_threads(1)
import fusionbench
from fusionbench.data import example
from safetensors.torch import load_file
from fusionbench.ufa.weights import WEIGHTS_DIR
from fusionbench.ufa.train import TrainConfig, train, read_log
from fusionbench.ufa.weights import load_model

def tensors_digest(tensors):
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        h.update(name.encode()); h.update(str(t.dtype).encode()); h.update(repr(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()

out = {}
digests = {}
for p in sorted(WEIGHTS_DIR.glob("*.safetensors")):
    digests[p.stem] = tensors_digest(load_file(str(p)))
pair = example(color=True)
a, b = pair.a[200:220, 230:254].copy(), pair.b[200:220, 230:254].copy()
out["input_a"], out["input_b"] = a, b
for name in ("ufa", "ufa-no-ca", "ufa-no-sa", "ufa-no-ufa"):
    out[f"fused_{name}"] = fusionbench.create_method(name).fuse(a, b)
out["fused_ufa-ablation"] = fusionbench.create_method("ufa", weights="ufa-ablation").fuse(a, b)
out["fused_ufa_gray"] = fusionbench.create_method("ufa").fuse(a[..., 1], b[..., 1])
out["fused_ufa_tiled"] = fusionbench.create_method("ufa", max_pixels=100, tile=8).fuse(a, b)
with tempfile.TemporaryDirectory() as tmp:
    cfg = TrainConfig(data="skimage", steps=3, batch=2, crop="16,24@2", lr=1e-3, lr_milestones=[2], val_pairs=2,
                      val_crop=16, val_every=3, log_every=1, checkpoint_minutes=60.0)
    res = train(cfg, tmp + "/run")
    log = read_log(tmp + "/run")
    model = load_model(res.weights)
    train_lines = [[e["step"], e["loss"], e["l1"], e["ssim"], e["lr"], e["crop"]] for e in log if "loss" in e]
    val = [e for e in log if "val_psnr" in e][-1]
    out["train_log"] = np.array([[x for x in l] for l in train_lines], dtype=np.float64)
    out["train_val"] = np.array([val["val_psnr"], val["val_ssim"], val["val_l1"], val["val_loss"]])
    sd = model.state_dict()
    out["train_param_names"] = np.array(sorted(sd))
    out["train_param_sums"] = np.array([float(sd[k].double().sum()) for k in sorted(sd)])
    out["train_param_abs_sums"] = np.array([float(sd[k].double().abs().sum()) for k in sorted(sd)])
np.savez_compressed(sys.argv[1], **out)
print(json.dumps(digests, indent=1))
print(out["train_log"]); print(out["train_val"])
