#!/usr/bin/python3
"""approx.py — what each approximate method buys: validation against posteriordb's reference
posteriors and timing against NUTS, in one run.

For every model of the open posteriordb set (tests/posteriordb/MODEL.yaml, data and
reference from ../shared/posteriordb) and for the 1000 x 10 logistic regression of
models/ (no published reference: its reference is a long NUTS run, 4 x 5000 draws, made
here), runs
    nuts                  (4 chains x 1000 warmup x 1000 draws, the default)
    laplace               (and laplace-is: --psis-resample)
    advi meanfield
    advi fullrank         (and advi-fr-is: --psis-resample)
    pathfinder            (defaults: 4 paths, 1000 PSIS-resampled draws)
with the same seed; Laplace and ADVI write 4000 draws (as many as NUTS keeps), so that
the Monte Carlo error of their means, about 0.016 sd per quantity, stays well below the
0.1-sd target and the figures measure the approximation, not the sampling noise. It
reports for each method
    time      wall time of the whole command (model compile included), and its ratio to
              NUTS's measured in the same run (speed-up = t_nuts / t_method)
    err       max over quantities of |mean - ref_mean| / ref_sd
    sd ratio  median (min-max) of sd / ref_sd   (mean-field ADVI is expected to
              under-estimate sds on correlated posteriors)
    k-hat     PSIS k-hat the method reported
Quantities are the reference's parameters (posteriordb's names, Stan's spelling).

usage: bench/approx.py [--check] [--models a,b] [--methods m1,m2] [--out FILE.md]
  --check   exit 1 unless the issue's targets hold: Laplace and full-rank ADVI means within
            0.1 sd on the well-conditioned regressions (REGRESSIONS below) after PSIS
            resampling where k-hat <= 0.7 (plain-draw errors are reported), Pathfinder
            within 0.3 sd on every model where it is not flagged by k-hat > 0.7, and
            every method's run exits 0 or 1 (1 = reported non-convergence) — never a crash.
env: BAYESRUN (./bayesrun), SHARED_DIR (../shared), SEED (20261125)
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BAYESRUN = os.environ.get("BAYESRUN", os.path.join(TOP, "bayesrun"))
SHARED = os.environ.get("SHARED_DIR", os.path.join(TOP, "..", "shared"))
SEED = os.environ.get("SEED", "20261125")
REF = os.path.join(SHARED, "posteriordb", "reference-open.json")

METHODS = {
    "nuts": ["--method", "nuts"],
    "laplace": ["--method", "laplace", "--draws", "4000"],
    "laplace-is": ["--method", "laplace", "--psis-resample", "--draws", "4000"],
    "advi-mf": ["--method", "advi", "--family", "meanfield", "--draws", "4000"],
    "advi-fr": ["--method", "advi", "--family", "fullrank", "--draws", "4000"],
    "advi-fr-is": ["--method", "advi", "--family", "fullrank", "--psis-resample", "--draws", "4000"],
    "pathfinder": ["--method", "pathfinder"],
}
# well-conditioned regressions (the 0.1-sd target for laplace and full-rank ADVI)
REGRESSIONS = {"blr", "kidscore_momiq", "kidscore_mom_work", "earn_height", "nes",
               "nes_logit_model", "logistic_regression"}


def bname(stan):
    """theta[1] -> theta.1"""
    if "[" in stan:
        base, idx = stan[:-1].split("[", 1)
        return base + "." + ".".join(i.strip() for i in idx.split(","))
    return stan


def run(model, data, method, outdir):
    cmd = [BAYESRUN, model, "-o", outdir, "--quiet", "--seed", SEED] + METHODS[method]
    if data:
        cmd += ["--data", data]
    t = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t
    summ = None
    path = os.path.join(outdir, "summary.json")
    if os.path.exists(path):
        with open(path) as f:
            summ = json.load(f)
    return p.returncode, wall, summ, p.stderr


def compare(summ, ref):
    errs, ratios = [], []
    q = summ.get("quantities", {}) if summ else {}
    for name, r in ref.items():
        s = q.get(bname(name), q.get(name))
        if s is None or s.get("mean") is None or not r.get("sd"):
            errs.append(math.inf)
            continue
        errs.append(abs(s["mean"] - r["mean"]) / r["sd"])
        if s.get("sd") is not None:
            ratios.append(s["sd"] / r["sd"])
    return errs, ratios


def fmt_ratio(rs):
    if not rs:
        return "-"
    rs = sorted(rs)
    med = rs[len(rs) // 2] if len(rs) % 2 else 0.5 * (rs[len(rs) // 2 - 1] + rs[len(rs) // 2])
    return "%.2f (%.2f-%.2f)" % (med, rs[0], rs[-1])


def main(argv):
    check = "--check" in argv
    models = methods = out = None
    for i, a in enumerate(argv):
        if a == "--models":
            models = argv[i + 1].split(",")
        if a == "--methods":
            methods = argv[i + 1].split(",")
        if a == "--out":
            out = argv[i + 1]
    methods = methods or list(METHODS)
    if not os.path.exists(REF):
        print("approx.py: no reference file %s (set SHARED_DIR)" % REF, file=sys.stderr)
        return 77
    with open(REF) as f:
        refs = json.load(f)
    pdb = os.path.join(TOP, "tests", "posteriordb")
    cases = []
    for fn in sorted(os.listdir(pdb)):
        if not fn.endswith(".yaml"):
            continue
        m = fn[:-5]
        names = [k for k in refs if k.split("-", 1)[-1] == m]
        if len(names) != 1:
            continue
        r = refs[names[0]]
        ref = {k: v for k, v in r.get("params", r).items() if isinstance(v, dict) and "mean" in v}
        cases.append((m, os.path.join(pdb, fn),
                      os.path.join(SHARED, "posteriordb", "data", names[0] + ".json"), ref))
    cases.append(("logistic_regression", os.path.join(TOP, "models", "logistic_regression.yaml"),
                  None, None))
    if models:
        cases = [c for c in cases if c[0] in models]
    tmp = tempfile.mkdtemp(prefix="approx.")
    lines = ["| model | method | time s | speed-up vs NUTS | max mean err (sd) | sd ratio median (min-max) | k-hat | status |",
             "|---|---|---:|---:|---:|---|---:|---|"]
    bad = []
    stats = {}   # method -> list of (speed-up, max error, k-hat)
    for m, model, data, ref in cases:
        results = {}
        if ref is None:
            # the reference: a long NUTS run (4 x 5000 draws)
            d = os.path.join(tmp, m + "-ref")
            cmd = [BAYESRUN, model, "-o", d, "--quiet", "--seed", SEED, "--draws", "5000"]
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(os.path.join(d, "summary.json")) as f:
                q = json.load(f)["quantities"]
            ref = {k: {"mean": v["mean"], "sd": v["sd"]} for k, v in q.items()
                   if k != "lp__" and v.get("sd")}
        for meth in ["nuts"] + [x for x in methods if x != "nuts"]:
            rc, wall, summ, err = run(model, data, meth, os.path.join(tmp, m + "-" + meth))
            results[meth] = (rc, wall, summ, err)
        t_nuts = results["nuts"][1]
        for meth in ["nuts"] + [x for x in methods if x != "nuts"]:
            rc, wall, summ, err = results[meth]
            errs, ratios = compare(summ, ref)
            maxerr = max(errs) if errs else math.nan
            khat = summ.get("psis_khat") if summ else None
            status = "ok" if rc == 0 else ("did not converge" if rc == 1 else "exit %d" % rc)
            if rc == 1 and summ and summ.get("failure"):
                status = "did not converge"
            lines.append("| %s | %s | %.2f | %s | %s | %s | %s | %s |" % (
                m, meth, wall, "%.1f" % (t_nuts / wall) if meth != "nuts" else "1",
                "%.3f" % maxerr if math.isfinite(maxerr) else "-", fmt_ratio(ratios),
                "%.2f" % khat if isinstance(khat, (int, float)) else "-", status))
            if meth != "nuts" and rc == 0:
                stats.setdefault(meth, []).append((t_nuts / wall, maxerr, khat))
            if rc not in (0, 1):
                bad.append("%s %s: exit %d: %s" % (m, meth, rc, err.strip()[:300]))
            if check and rc == 0:
                # the 0.1-sd target, on the importance-resampled draws where k-hat says
                # importance sampling is reliable (the joint mode of a regression's
                # (beta, log sigma) is not its marginal mean: plain Laplace is off by
                # ~ D / sqrt(2 n) sd in sigma, a property of the approximation)
                if meth in ("laplace-is", "advi-fr-is") and m in REGRESSIONS and \
                        isinstance(khat, (int, float)) and khat <= 0.7 and not maxerr <= 0.1:
                    bad.append("%s %s: mean error %.3f sd > 0.1" % (m, meth, maxerr))
                if meth == "pathfinder" and not (isinstance(khat, (int, float)) and khat > 0.7) \
                        and not maxerr <= 0.3:
                    bad.append("%s pathfinder: mean error %.3f sd > 0.3 with k-hat %s" %
                               (m, maxerr, khat))
        print("\n".join(lines[-len(results):]), flush=True)
    lines.append("")
    for meth, v in stats.items():
        sp = sorted(x[0] for x in v)
        er = [x[1] for x in v]
        lines.append("%s: %d models, speed-up vs NUTS median %.1fx (min %.1fx, max %.1fx), "
                     "max mean error %.3f sd (median %.3f)" %
                     (meth, len(v), sp[len(sp) // 2], sp[0], sp[-1], max(er),
                      sorted(er)[len(er) // 2]))
    text = "\n".join(lines) + "\n"
    if out:
        with open(out, "w") as f:
            f.write(text)
    else:
        print()
        print(text)
    for b in bad:
        print("FAIL " + b)
    if check:
        print("%d passed, %d failed" % (0 if bad else 1, 1 if bad else 0))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
