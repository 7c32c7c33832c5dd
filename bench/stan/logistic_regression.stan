// logistic_regression.stan — the same model as models/logistic_regression.yaml, for the
// gradient-cost comparison in bench/anchor_stan.R. target += *_lpmf keeps every constant.
data {
  int<lower=0> N;
  int<lower=0> K;
  matrix[N, K] X;
  int<lower=0, upper=1> y[N];
}
parameters {
  real alpha;
  vector[K] beta;
}
model {
  target += normal_lpdf(alpha | 0, 2.5);
  target += normal_lpdf(beta | 0, 2.5);
  target += bernoulli_logit_lpmf(y | alpha + X * beta);
}
