"""Expected values of the ``cddfuse`` convention: CDDFuse's own ``utils/Evaluator.py``
(unmodified, imported from a checkout of github.com/Zhaozixiang1228/MMIF-CDDFuse) run on the
19 golden cases and two colour Lytro triples. Writes CSV rows
``case_id,a,b,fused,metric,value,call`` to stdout (paths relative to the shared folder).

Usage (in a Python 3.9 virtual environment with CDDFuse's pinned libraries, see
cddfuse_reference.csv header):

    python cddfuse_reference.py CDDFUSE_CHECKOUT SHARED_FOLDER  # CSV rows, without the header comments
"""
import csv
import sys
import warnings
from pathlib import Path

sys.path.insert(0, sys.argv[1])
from utils.Evaluator import Evaluator, image_read_cv2  # noqa: E402

warnings.filterwarnings("ignore")
SHARED = Path(sys.argv[2])
GOLDEN = SHARED / "golden"
cases = []
with open(GOLDEN / "cases.csv") as fh:
    for row in csv.DictReader(fh):
        cid = row["case_id"]
        cases.append((cid, f"golden/inputs/{cid}-A.png", f"golden/inputs/{cid}-B.png", f"golden/inputs/{cid}-F.png"))
for n in ("01", "02"):
    cases.append((f"lytro_{n}_DPRL_colour", f"datasets/mfifb/lytro_{n}-A.jpg", f"datasets/mfifb/lytro_{n}-B.jpg",
                  f"reference-results/mfifb-lytro/lytro_{n}_DPRL.jpg"))
calls = [
    ("EN", "Evaluator.EN(F)", lambda F, A, B: Evaluator.EN(F)),
    ("SD", "Evaluator.SD(F)", lambda F, A, B: Evaluator.SD(F)),
    ("SF", "Evaluator.SF(F)", lambda F, A, B: Evaluator.SF(F)),
    ("AG", "Evaluator.AG(F)", lambda F, A, B: Evaluator.AG(F)),
    ("MI", "Evaluator.MI(F,A,B)", lambda F, A, B: Evaluator.MI(F, A, B)),
    ("SCD", "Evaluator.SCD(F,A,B)", lambda F, A, B: Evaluator.SCD(F, A, B)),
    ("VIF", "Evaluator.VIFF(F,A,B)", lambda F, A, B: Evaluator.VIFF(F, A, B)),
    ("Qabf", "Evaluator.Qabf(F,A,B)", lambda F, A, B: Evaluator.Qabf(F, A, B)),
    ("SSIM", "Evaluator.SSIM(F,A,B)", lambda F, A, B: Evaluator.SSIM(F, A, B)),
    ("CC", "Evaluator.CC(F,A,B)", lambda F, A, B: Evaluator.CC(F, A, B)),
]
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["case_id", "a", "b", "fused", "metric", "value", "call"])
for cid, a, b, f in cases:
    A = image_read_cv2(str(SHARED / a), "GRAY")
    B = image_read_cv2(str(SHARED / b), "GRAY")
    F = image_read_cv2(str(SHARED / f), "GRAY")
    for name, call, fn in calls:
        out.writerow([cid, a, b, f, name, "%.17g" % float(fn(F, A, B)), call])
    sys.stdout.flush()
