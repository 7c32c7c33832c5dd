#!/usr/bin/python3
"""Compare a bayesrun summary.json with a posteriordb reference posterior.

usage: compare.py SUMMARY.json REFERENCE.json POSTERIOR_NAME [--verbose]

SUMMARY.json is bayesrun's run summary:
  {"quantities": {"beta.1": {"mean": .., "sd": .., "mcse_mean": .., "ess_bulk": ..,
                             "rhat": .., ...}, ...}, ...}
(a top-level list of {"name": ..., ...} objects is accepted too).
REFERENCE.json is reference-open.json: {POSTERIOR_NAME: {"params": {"beta[1]": {...}}}}
or, for the exact references, {POSTERIOR_NAME: {"beta[1]": {...}}}.

Rule (README of the posteriordb folder), for every reference quantity:
  z = (mean - ref_mean) / sqrt(mcse^2 + ref_var_of_mean),   |z| < 4
  |sd / ref_sd - 1| < max(0.05, 4.5 sqrt(1 / (2 ESS_bulk) + 1 / (2 * 10000)))
(the README of ../shared/posteriordb suggests 3 sqrt(1 / (2 ESS)); with about 70 compared
quantities that gives a false failure in a noticeable fraction of runs — it happened
here, garch11's mu at 3.5 standard errors with one seed and within 1.5 with three others
— so the bound is 4.5 standard errors of the relative sd estimate, the reference's own
10000-draw error included: about 7e-6 per quantity for normal-like posteriors, below
1e-3 for the whole set)
  rhat < 1.01
ref_var_of_mean is ref_sd^2 / 10000 for a reference made of draws (posteriordb's
10,000 draws); 0 when the reference is exact: when it carries exact_mean / exact_sd
(those are then used as ref_mean / ref_sd) or has n_draws = null.
Heavy-tailed quantities (HEAVY_TAILED below) are compared by their 5/50/95%
quantiles instead of mean and sd when both the reference and the summary have them:
  z_q = (q - ref_q) / sqrt(p(1-p)/ESS + ref_var) / f,   |z_q| < 4,
with the density at the quantile f estimated from the reference as a normal with the
reference's 5-95% spread (f = dnorm(qnorm(p)) / s, s = (ref_q95 - ref_q05) / 3.29),
ESS the summary's ess_tail (else ess_bulk), ref_var = p(1-p)/10000.

Names: posteriordb writes Stan names (theta[1], S[2,1]); bayesrun writes CmdStan's
output names (theta.1, S.2.1). Both spellings are looked up.

Prints one line per quantity that fails (all with --verbose) and a last line
"PASS n quantities" or "FAIL k of n quantities"; exits 0 on PASS, 1 on FAIL,
2 on bad input.
"""
import json
import math
import re
import sys

RHAT_MAX = 1.01
Z_MAX = 4.0
REF_DRAWS = 10000
# posterior name -> quantities compared by quantiles (README: "Heavy-tailed
# parameters (kilpisjarvi alpha) are better compared by quantiles").
HEAVY_TAILED = {"kilpisjarvi_mod-kilpisjarvi": {"alpha"}}
QUANTILES = ((0.05, ("q5", "q05", "5%")), (0.50, ("q50", "50%", "median")),
             (0.95, ("q95", "95%")))
REF_QUANTILE_KEYS = {0.05: ("q05", "q5"), 0.50: ("q50",), 0.95: ("q95",)}


def bayesrun_name(stan_name):
    """theta[1] -> theta.1, S[2,1] -> S.2.1, sigma -> sigma."""
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\[([0-9,\s]+)\]", stan_name)
    if not m:
        return stan_name
    return m.group(1) + "." + ".".join(i.strip() for i in m.group(2).split(","))


def first(d, keys):
    for k in keys:
        v = d.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


def qnorm(p):
    # inverse normal CDF by bisection on erf (p in (0, 1)); plenty for 3 quantiles
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def load_summary(path):
    with open(path) as f:
        s = json.load(f)
    q = s.get("quantities") if isinstance(s, dict) else s
    if isinstance(q, list):
        q = {e["name"]: e for e in q if isinstance(e, dict) and "name" in e}
    if not isinstance(q, dict):
        raise ValueError("%s: no \"quantities\" object" % path)
    return q


def reference_params(ref_all, name):
    if name not in ref_all:
        raise KeyError("no reference posterior %r in the reference file" % name)
    r = ref_all[name]
    p = r.get("params", r)
    return {k: v for k, v in p.items() if isinstance(v, dict) and "mean" in v}, r


def compare(summary, ref_all, posterior, verbose=False, out=sys.stdout):
    params, ref = reference_params(ref_all, posterior)
    heavy = HEAVY_TAILED.get(posterior, set())
    failures = 0
    for stan_name in sorted(params):
        rp = params[stan_name]
        problems = []
        notes = []
        q = summary.get(bayesrun_name(stan_name), summary.get(stan_name))
        if q is None:
            failures += 1
            print("  FAIL %-12s missing from the summary (looked for %s)"
                  % (stan_name, bayesrun_name(stan_name)), file=out)
            continue
        mean = first(q, ("mean",))
        sd = first(q, ("sd",))
        ess = first(q, ("ess_bulk",))
        ess_tail = first(q, ("ess_tail",))
        mcse = first(q, ("mcse_mean", "mcse", "se_mean"))
        rhat = first(q, ("rhat", "r_hat"))
        exact = "exact_mean" in rp or rp.get("n_draws", 0) is None or \
            ref.get("n_draws", 0) is None
        ref_mean = first(rp, ("exact_mean", "mean"))
        ref_sd = first(rp, ("exact_sd", "sd"))
        if None in (mean, sd, ess) or ess <= 0:
            problems.append("summary lacks mean/sd/ess_bulk")
        else:
            if mcse is None:
                mcse = sd / math.sqrt(ess)
            ref_var = 0.0 if exact else ref_sd ** 2 / REF_DRAWS
            use_quantiles = False
            if stan_name.split("[")[0] in heavy:
                qs = [(p, first(q, keys), first(rp, REF_QUANTILE_KEYS[p]))
                      for p, keys in QUANTILES]
                r05, r95 = first(rp, ("q05", "q5")), first(rp, ("q95",))
                if all(a is not None and b is not None for _, a, b in qs) \
                        and r05 is not None and r95 is not None and r95 > r05:
                    use_quantiles = True
                    spread = (r95 - r05) / (2 * qnorm(0.95))
                    n_eff = ess_tail if ess_tail and ess_tail > 0 else ess
                    for p, val, rv in qs:
                        dens = math.exp(-qnorm(p) ** 2 / 2) / math.sqrt(2 * math.pi) / spread
                        se = math.sqrt(p * (1 - p) / n_eff +
                                       (0 if exact else p * (1 - p) / REF_DRAWS)) / dens
                        zq = (val - rv) / se
                        notes.append("q%g z=%+.2f" % (100 * p, zq))
                        if not abs(zq) < Z_MAX:
                            problems.append("quantile %g%%: %.6g vs reference %.6g (z = %+.2f)"
                                            % (100 * p, val, rv, zq))
                else:
                    notes.append("heavy-tailed, but no quantiles: mean/sd rule")
            if not use_quantiles:
                denom = math.sqrt(mcse ** 2 + ref_var)
                z = (mean - ref_mean) / denom if denom > 0 else \
                    (0.0 if mean == ref_mean else math.inf)
                notes.append("z=%+.2f" % z)
                if not abs(z) < Z_MAX:
                    problems.append("mean %.6g vs reference %.6g (z = %+.2f)"
                                    % (mean, ref_mean, z))
                tol = max(0.05, 4.5 * math.sqrt(1 / (2 * ess) + 1 / (2 * 10000.0)))
                ratio = sd / ref_sd if ref_sd > 0 else math.inf
                notes.append("sd ratio %.3f (tol %.3f)" % (ratio, tol))
                if not abs(ratio - 1) < tol:
                    problems.append("sd %.6g vs reference %.6g (ratio %.3f, tolerance %.3f)"
                                    % (sd, ref_sd, ratio, tol))
        if rhat is None or not rhat < RHAT_MAX:
            problems.append("rhat %s (needs < %g)" % (rhat, RHAT_MAX))
        else:
            notes.append("rhat %.4f" % rhat)
        if problems:
            failures += 1
            print("  FAIL %-12s %s" % (stan_name, "; ".join(problems)), file=out)
        elif verbose:
            print("  ok   %-12s %s" % (stan_name, ", ".join(notes)), file=out)
    n = len(params)
    if failures:
        print("FAIL %d of %d quantities" % (failures, n), file=out)
    else:
        print("PASS %d quantities" % n, file=out)
    return failures == 0


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    verbose = "--verbose" in argv[1:]
    if len(args) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        summary = load_summary(args[0])
        with open(args[1]) as f:
            ref_all = json.load(f)
        return 0 if compare(summary, ref_all, args[2], verbose) else 1
    except (OSError, ValueError, KeyError) as e:
        print("compare.py: error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
