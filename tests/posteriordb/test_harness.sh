#!/bin/sh
# test_harness.sh — tests check.sh and compare.py without a sampler: a fake bayesrun
# writes a summary.json built from the reference posterior itself (optionally
# perturbed), or exits with 69 as a bayesrun that cannot sample does.
# usage: tests/posteriordb/test_harness.sh   (SHARED_DIR as for check.sh)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
SHARED_DIR=${SHARED_DIR:-$repo/../shared}
export SHARED_DIR
tmp=$(mktemp -d "${TMPDIR:-/tmp}/posteriordb-harness.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/fake_bayesrun" <<'EOF'
#!/usr/bin/python3
# fake bayesrun MODEL.yaml --data DATA.json -o OUT --quiet: summary.json from the
# reference. FAKE_MODE: pass | unavailable | crash | shift:MODEL:QTY |
# sd:MODEL:QTY | rhat:MODEL:QTY | missing:MODEL:QTY | qshift:MODEL:QTY | mshift:MODEL:QTY
import json, math, os, re, sys
mode = os.environ.get("FAKE_MODE", "pass")
if mode == "unavailable":
    print("bayesrun: the method nuts is not available in this build", file=sys.stderr)
    sys.exit(69)
if mode == "crash":
    sys.exit(70)
a = sys.argv[1:]
model = os.path.basename(a[0])[:-5]
data = a[a.index("--data") + 1]
out = a[a.index("-o") + 1]
name = os.path.basename(data)[:-5]
ref = json.load(open(os.path.join(os.environ["SHARED_DIR"], "posteriordb", "reference-open.json")))[name]
params = ref.get("params", ref)
kind, _, target = mode.partition(":")
tmodel, _, tq = target.partition(":")
ess = 4000.0
q = {}
for n, r in params.items():
    if not isinstance(r, dict) or "mean" not in r:
        continue
    bn = re.sub(r"\[(.*)\]", lambda m: "." + m.group(1).replace(",", "."), n)
    mean, sd = r["mean"], r["sd"]
    e = {"mean": mean, "sd": sd, "mcse_mean": sd / math.sqrt(ess), "ess_bulk": ess,
         "ess_tail": ess, "rhat": 1.002}
    for k, rk in (("q5", "q05"), ("q50", "q50"), ("q95", "q95")):
        if rk in r:
            e[k] = r[rk]
    if model == tmodel and n == tq:
        if kind == "missing":
            continue
        if kind == "shift":        # 6 standard errors off
            e["mean"] = mean + 6 * math.sqrt(e["mcse_mean"] ** 2 + sd ** 2 / 10000)
        if kind == "mshift":       # mean 6 se off, quantiles right
            e["mean"] = mean + 6 * math.sqrt(e["mcse_mean"] ** 2 + sd ** 2 / 10000)
        if kind == "qshift":       # median off by 0.5 sd
            e["q50"] = e["q50"] + 0.5 * sd
        if kind == "sd":
            e["sd"] = 1.2 * sd
        if kind == "rhat":
            e["rhat"] = 1.02
    q[bn] = e
os.makedirs(out, exist_ok=True)
json.dump({"method": "nuts", "quantities": q}, open(os.path.join(out, "summary.json"), "w"))
EOF
chmod +x "$tmp/fake_bayesrun"
export BAYESRUN="$tmp/fake_bayesrun"

fails=0
# expect STATUS PATTERN [check.sh args...]: the exit status and a line of the output
expect() {
  want=$1 pattern=$2
  shift 2
  "$here/check.sh" "$@" >"$tmp/out" 2>&1
  rc=$?
  if [ $rc -ne "$want" ] || ! grep -q -- "$pattern" "$tmp/out"; then
    echo "not ok: FAKE_MODE=$FAKE_MODE $*: status $rc (want $want), want a line matching '$pattern'"
    sed 's/^/    /' "$tmp/out"
    fails=$((fails + 1))
  else
    echo "ok: FAKE_MODE=$FAKE_MODE $*: status $rc, '$pattern'"
  fi
}

FAKE_MODE=pass; export FAKE_MODE
expect 0 '^13 passed, 0 failed (1 skipped)$'
expect 0 '^SKIP lotka_volterra: .*issue 7'
expect 0 '^PASS kilpisjarvi'
FAKE_MODE=unavailable expect 77 '^SKIP arK: bayesrun cannot sample yet (exit 69)$'
FAKE_MODE=unavailable expect 77 '^0 passed, 0 failed (14 skipped)$'
FAKE_MODE=crash expect 1 '^FAIL blr: bayesrun exited with status 70' blr
FAKE_MODE=shift:arK:beta[3] expect 1 'FAIL beta\[3\] *mean .*z = +6.00' arK nes
FAKE_MODE=shift:arK:beta[3] expect 1 '^1 passed, 1 failed' arK nes
FAKE_MODE=sd:garch11:alpha1 expect 1 'FAIL alpha1 *sd .*ratio 1.200' garch11
FAKE_MODE=rhat:hmm_example:theta1[2] expect 1 'FAIL theta1\[2\] *rhat 1.02' hmm_example
FAKE_MODE=missing:low_dim_gauss_mix:mu[2] expect 1 'FAIL mu\[2\] *missing from the summary (looked for mu.2)' low_dim_gauss_mix
# exact references (no draws): the mean must be within 4 MCSE of the exact value
FAKE_MODE=shift:Rate_1_model:theta expect 1 'FAIL theta *mean' Rate_1_model
FAKE_MODE=shift:nes_logit_model:beta[1] expect 1 'FAIL beta\[1\]' nes_logit_model
# kilpisjarvi alpha is compared by quantiles: a wrong mean alone passes, a wrong median fails
FAKE_MODE=mshift:kilpisjarvi:alpha expect 0 '^PASS kilpisjarvi' kilpisjarvi
FAKE_MODE=qshift:kilpisjarvi:alpha expect 1 'FAIL alpha *quantile 50%' kilpisjarvi
FAKE_MODE=shift:kilpisjarvi:beta expect 1 'FAIL beta *mean' kilpisjarvi
# compare.py on its own: usage errors and verbose output
FAKE_MODE=pass VERBOSE=1 expect 0 'ok   beta\[1\] *z=+0.00' blr
if /usr/bin/python3 "$here/compare.py" /nonexistent.json "$SHARED_DIR/posteriordb/reference-open.json" arK-arK 2>/dev/null; then
  echo "not ok: compare.py accepted a missing summary"; fails=$((fails + 1))
else
  echo "ok: compare.py refuses a missing summary"
fi

echo "$fails failed"
[ $fails -eq 0 ]
