// trivial.stan — one parameter, standard normal: its grad_log_prob time is the per-call
// overhead of going through R and rstan, subtracted in bench/anchor_stan.R.
parameters {
  real x;
}
model {
  target += -0.5 * x * x;
}
