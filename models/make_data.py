#!/usr/bin/env python3
"""Regenerates the simulated data sets in models/data (fixed seeds; pure Python so that it
runs anywhere). The committed JSON files are the output; nothing in the build runs this."""
import json, math, random, os

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

def dump(name, obj):
    with open(os.path.join(here, name), "w") as f:
        json.dump(obj, f, indent=None, separators=(", ", ": "))
        f.write("\n")

def r6(x):
    return float("%.6g" % x)

# linear regression: y = 1.5 + X b + noise, N = 100, K = 3
rng = random.Random(1)
N, K = 100, 3
b = [0.8, -1.2, 0.3]
X = [[r6(rng.gauss(0, 1)) for _ in range(K)] for _ in range(N)]
y = [r6(1.5 + sum(X[i][k] * b[k] for k in range(K)) + rng.gauss(0, 0.7)) for i in range(N)]
dump("linear_regression.json", {"N": N, "K": K, "X": X, "y": y})

# logistic regression: N = 1000 rows, K = 10 predictors (the benchmark size)
rng = random.Random(2)
N, K = 1000, 10
b = [rng.gauss(0, 0.7) for _ in range(K)]
X = [[r6(rng.gauss(0, 1)) for _ in range(K)] for _ in range(N)]
y = []
for i in range(N):
    eta = -0.4 + sum(X[i][k] * b[k] for k in range(K))
    y.append(1 if rng.random() < 1 / (1 + math.exp(-eta)) else 0)
dump("logistic_regression.json", {"N": N, "K": K, "X": X, "y": y})

# Poisson GLM with an exposure offset: counts of events, N = 200
rng = random.Random(3)
N = 200
x = [r6(rng.uniform(-1, 1)) for _ in range(N)]
expo = [r6(rng.uniform(0.5, 3)) for _ in range(N)]
def poisson(lam):
    L, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p < L:
            return k
        k += 1
counts = [poisson(expo[i] * math.exp(0.3 + 0.9 * x[i])) for i in range(N)]
dump("poisson_glm.json", {"N": N, "x": x, "exposure": expo, "y": counts})

# radon-style hierarchical model: J = 20 counties, log radon with a floor indicator
rng = random.Random(4)
J = 20
a = [1.4 + rng.gauss(0, 0.35) for _ in range(J)]
county, floor, logr = [], [], []
for j in range(J):
    n = 3 + int(rng.random() * 20)
    for _ in range(n):
        f = 1 if rng.random() < 0.25 else 0
        county.append(j + 1)
        floor.append(f)
        logr.append(r6(a[j] - 0.65 * f + rng.gauss(0, 0.75)))
dump("radon.json", {"N": len(logr), "J": J, "county": county, "floor": floor, "log_radon": logr})

# two-component Gaussian mixture, N = 300
rng = random.Random(5)
ys = [r6(rng.gauss(-2, 1) if rng.random() < 0.3 else rng.gauss(2.5, 1)) for _ in range(300)]
dump("gaussian_mixture.json", {"N": len(ys), "y": ys})

# latent AR(1) observed with noise, N = 100
rng = random.Random(6)
N, phi, sx, sy = 100, 0.8, 0.5, 0.3
x, obs = [], []
cur = rng.gauss(0, sx / math.sqrt(1 - phi * phi))
for t in range(N):
    if t:
        cur = phi * cur + rng.gauss(0, sx)
    obs.append(r6(cur + rng.gauss(0, sy)))
dump("ar1.json", {"N": N, "y": obs})
