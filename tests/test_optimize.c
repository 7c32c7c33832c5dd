/* test_optimize.c — the optimizer (mode by L-BFGS), the finite-difference Hessian and the
 * Laplace approximation (optimize.c) through their interfaces. References are closed forms:
 * the mode and covariance of Gaussian posteriors, conjugate normal-normal updating, the
 * lognormal's mode on both scales, the gamma log density's second derivative. Nothing here
 * is statistical except the Laplace draws' moments (bounds and rates stated there). */
#include <check.h>

#include "testutil.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bayes.h"
#include "optimize.h"
#include "util.h"

/* runs the optimizer to its end from init (or 0) and returns the status; mode in theta */
static bayes_lbfgs_status optimize(const bayes_model *m, unsigned flags, const double *init,
                                   double *theta, double *lp)
{
  bayes_lbfgs_cfg cfg;
  bayes_lbfgs_defaults(&cfg);
  bayes_optimizer *o = bayes_optimizer_alloc(m, &cfg, flags);
  ck_assert_ptr_nonnull(o);
  char err[256];
  ck_assert_int_eq(bayes_optimizer_init(o, init, 0, NULL, err, sizeof err), 0);
  bayes_lbfgs_status st;
  while ((st = bayes_optimizer_iterate(o)) == BAYES_LBFGS_CONTINUE) {}
  memcpy(theta, bayes_optimizer_theta(o), bayes_model_dim(m) * sizeof *theta);
  if (lp) *lp = bayes_optimizer_lp(o);
  bayes_optimizer_free(o);
  return st;
}

/* A correlated 3-D Gaussian: the mode is its mean and the Laplace covariance its
 * covariance, both to 1e-6 (the "exact recovery"). The log density is quadratic,
 * so the five-point Hessian is exact up to rounding. */
static const char gauss3[] =
    "model: g3\ndata:\n  mu: [1.5, -2, 0.25]\n"
    "  S: [[2, 0.9, -0.3], [0.9, 1, 0.2], [-0.3, 0.2, 0.5]]\n"
    "parameters:\n  x: multi_normal(mu, S)\n";

START_TEST(gaussian_mode_and_covariance)
{
  bayes_model *m = bt_load_text(gauss3);
  const double mu[3] = {1.5, -2, 0.25};
  const double S[9] = {2, 0.9, -0.3, 0.9, 1, 0.2, -0.3, 0.2, 0.5};
  double theta[3], lp, init[3] = {-3, 4, 2};
  bayes_lbfgs_status st = optimize(m, BAYES_LD_JACOBIAN, init, theta, &lp);
  ck_assert_msg(bayes_lbfgs_converged(st), "status %d: %s", st, bayes_lbfgs_describe(st));
  /* L-BFGS stops at CmdStan's tolerances (relative gradient 1e7 eps): within 1e-3 */
  for (int i = 0; i < 3; i++)
    ck_assert_msg(fabs(theta[i] - mu[i]) < 1e-3, "mode[%d] = %.12g, want %g", i, theta[i], mu[i]);
  /* log density at the mode: -3/2 log(2 pi) - 1/2 log det S */
  double detS = 2 * (1 * 0.5 - 0.2 * 0.2) - 0.9 * (0.9 * 0.5 - 0.2 * -0.3) +
                -0.3 * (0.9 * 0.2 - 1 * -0.3);
  ck_assert_double_eq_tol(lp, -1.5 * log(2 * M_PI) - 0.5 * log(detS), 1e-6);
  int status;
  char err[256];
  bayes_laplace *l = bayes_laplace_alloc(m, theta, BAYES_LD_JACOBIAN, &status, err, sizeof err);
  ck_assert_msg(l, "laplace failed: %s", err);
  /* Laplace refines the mode by Newton steps: exact up to rounding */
  for (int i = 0; i < 3; i++)
    ck_assert_msg(fabs(bayes_laplace_mean(l)[i] - mu[i]) < 1e-9, "mean[%d] = %.15g, want %g", i,
                  bayes_laplace_mean(l)[i], mu[i]);
  const double *C = bayes_laplace_cov(l);
  for (int i = 0; i < 9; i++)
    ck_assert_msg(fabs(C[i] - S[i]) < 1e-6, "cov[%d] = %.12g, want %g", i, C[i], S[i]);
  bayes_laplace_free(l);
  bayes_model_free(m);
}
END_TEST

/* Normal-normal with known sigma: posterior N((m0/s0^2 + sum y/s^2) / prec, 1 / prec). */
START_TEST(conjugate_normal)
{
  bayes_model *m = bt_load_text("model: nn\ndata:\n  y: [2.1, 3.3, 1.7, 2.9, 2.4]\n"
                             "parameters:\n  mu: normal(1, 2)\nlikelihood:\n  y: normal(mu, 0.8)\n");
  double y[5] = {2.1, 3.3, 1.7, 2.9, 2.4}, sum = 0;
  for (int i = 0; i < 5; i++) sum += y[i];
  double prec = 1 / 4.0 + 5 / 0.64, mean = (1 / 4.0 + sum / 0.64) / prec;
  double theta[1];
  ck_assert(bayes_lbfgs_converged(optimize(m, BAYES_LD_JACOBIAN, NULL, theta, NULL)));
  ck_assert_double_eq_tol(theta[0], mean, 1e-7);
  int status;
  char err[256];
  bayes_laplace *l = bayes_laplace_alloc(m, theta, BAYES_LD_JACOBIAN, &status, err, sizeof err);
  ck_assert_ptr_nonnull(l);
  ck_assert_double_eq_tol(bayes_laplace_cov(l)[0], 1 / prec, 1e-9);
  bayes_laplace_free(l);
  bayes_model_free(m);
}
END_TEST

/* sigma ~ lognormal(m, s): with the Jacobian, log sigma ~ N(m, s^2) exactly, so the mode
 * on the unconstrained scale is m and the Laplace variance s^2; without it the mode of the
 * lognormal density itself, exp(m - s^2). */
START_TEST(jacobian_or_not)
{
  bayes_model *m = bt_load_text("model: ln\nparameters:\n  sigma: lognormal(0.7, 0.4)\n");
  double theta[1], init[1] = {2};
  ck_assert(bayes_lbfgs_converged(optimize(m, BAYES_LD_JACOBIAN, init, theta, NULL)));
  ck_assert_double_eq_tol(theta[0], 0.7, 1e-7);
  int status;
  char err[256];
  bayes_laplace *l = bayes_laplace_alloc(m, theta, BAYES_LD_JACOBIAN, &status, err, sizeof err);
  ck_assert_ptr_nonnull(l);
  ck_assert_double_eq_tol(bayes_laplace_cov(l)[0], 0.16, 1e-9);
  bayes_laplace_free(l);
  ck_assert(bayes_lbfgs_converged(optimize(m, 0, init, theta, NULL)));
  ck_assert_double_eq_tol(exp(theta[0]), exp(0.7 - 0.16), 1e-7);
  bayes_model_free(m);
}
END_TEST

/* lambda ~ gamma(a, b) on u = log lambda with the Jacobian: f(u) = a u - b e^u + c, so
 * f''(u) = -b e^u at any u (a non-quadratic density: the stencil's O(h^4) error shows). */
START_TEST(hessian_of_gamma)
{
  bayes_model *m = bt_load_text("model: ga\nparameters:\n  lambda: gamma(3, 2)\n");
  bayes_ws *w = bayes_ws_alloc(m);
  double H[1], scratch[2], err_[1];
  char err[256];
  (void)err_;
  for (double u = -2; u <= 2; u += 0.5) {
    double x[1] = {u};
    ck_assert_int_eq(bayes_hessian(w, 1, x, BAYES_LD_JACOBIAN, H, scratch, err, sizeof err), 0);
    ck_assert_msg(fabs(H[0] + 2 * exp(u)) < 1e-9 * fmax(1, 2 * exp(u)), "u %g: H %.15g want %.15g",
                  u, H[0], -2 * exp(u));
  }
  bayes_ws_free(w);
  bayes_model_free(m);
}
END_TEST

/* exponential(1) without the Jacobian has its density's maximum at sigma = 0: the mode is
 * on the boundary and must be reported, not returned as a fit. */
START_TEST(mode_on_boundary)
{
  bayes_model *m = bt_load_text("model: ex\nparameters:\n  a: normal(0, 1)\n  sigma: exponential(1)\n");
  double theta[2], init[2] = {0.3, 0};
  optimize(m, 0, init, theta, NULL);
  size_t coord = 99;
  bayes_ws *w = bayes_ws_alloc(m);
  ck_assert_msg(theta[1] < -BAYES_MODE_FAR, "log sigma stopped at %g", theta[1]);
  ck_assert_int_eq(bayes_mode_on_boundary(m, w, theta, 0, &coord), 1);
  ck_assert_uint_eq(coord, 1);
  /* with the Jacobian the mode is interior: log sigma = 0 (the exponential(1) of sigma
   * times sigma is maximal at sigma = 1) */
  ck_assert(bayes_lbfgs_converged(optimize(m, BAYES_LD_JACOBIAN, init, theta, NULL)));
  ck_assert_int_eq(bayes_mode_on_boundary(m, w, theta, BAYES_LD_JACOBIAN, NULL), -1);
  ck_assert_double_eq_tol(theta[1], 0, 1e-6);
  /* an interior point far out (log sigma = -10, where the Jacobian-adjusted density falls
   * steeply towards 0) is not a boundary mode */
  theta[1] = -10;
  ck_assert_int_eq(bayes_mode_on_boundary(m, w, theta, BAYES_LD_JACOBIAN, NULL), -1);
  bayes_ws_free(w);
  bayes_model_free(m);
}
END_TEST

/* A flat direction: no Gaussian there, a plain-words error. */
START_TEST(not_negative_definite)
{
  bayes_model *m = bt_load_text("model: fl\nparameters:\n  a: normal(0, 1)\n  b: flat()\n");
  double theta[2] = {0, 5};
  int status;
  char err[256] = "";
  bayes_laplace *l = bayes_laplace_alloc(m, theta, BAYES_LD_JACOBIAN, &status, err, sizeof err);
  ck_assert_ptr_null(l);
  ck_assert_int_eq(status, BAYES_EDATA);
  ck_assert_msg(strstr(err, "not negative definite"), "%s", err);
  bayes_model_free(m);
}
END_TEST

/* Laplace draws: log_q is the Gaussian density of the draw (recomputed here from the known
 * covariance), log_p the model's, and the sample mean of 20000 draws is within 5 standard
 * errors of the mode in every coordinate (false-failure rate 3 x 5.7e-7). */
START_TEST(laplace_draws)
{
  bayes_model *m = bt_load_text(gauss3);
  const double mu[3] = {1.5, -2, 0.25};
  const double S[9] = {2, 0.9, -0.3, 0.9, 1, 0.2, -0.3, 0.2, 0.5};
  int status;
  char err[256];
  bayes_laplace *l = bayes_laplace_alloc(m, mu, BAYES_LD_JACOBIAN, &status, err, sizeof err);
  ck_assert_ptr_nonnull(l);
  bayes_approx_draws d;
  ck_assert_int_eq(bayes_approx_draws_init(&d, 3, 20000), 0);
  gsl_rng *rng = bayes_rng_alloc(42, 1);
  ck_assert_int_eq(bayes_laplace_draws(l, rng, &d), 0);
  double sum[3] = {0};
  for (size_t k = 0; k < d.n; k++) {
    const double *x = d.theta + 3 * k;
    for (int i = 0; i < 3; i++) sum[i] += x[i];
    /* for a Gaussian model the approximation is exact: log_q == log_p */
    ck_assert_msg(fabs(d.log_q[k] - d.log_p[k]) < 1e-8, "draw %zu: log_q %.12g log_p %.12g",
                  k, d.log_q[k], d.log_p[k]);
  }
  for (int i = 0; i < 3; i++) {
    double se = sqrt(S[4 * i] / (double)d.n);
    ck_assert_msg(fabs(sum[i] / (double)d.n - mu[i]) < 5 * se, "mean[%d] %g", i, sum[i] / (double)d.n);
  }
  bayes_rng_free(rng);
  bayes_approx_draws_destroy(&d);
  bayes_laplace_free(l);
  bayes_model_free(m);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("optimize");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, gaussian_mode_and_covariance);
  tcase_add_test(tc, conjugate_normal);
  tcase_add_test(tc, jacobian_or_not);
  tcase_add_test(tc, hessian_of_gamma);
  tcase_add_test(tc, mode_on_boundary);
  tcase_add_test(tc, not_negative_definite);
  tcase_add_test(tc, laplace_draws);
  suite_add_tcase(s, tc);
  return bt_run_suite(s);
}
