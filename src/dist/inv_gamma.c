/* inv_gamma.c — inv_gamma(alpha, beta) with shape alpha and scale beta: log density with
 * partials, log CDF / CCDF (F = Q(alpha, beta / y); the alpha-derivative by Richardson
 * differences), draws as 1 / gamma. Must not allocate or report errors. */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!du_pos(th[0])) return "shape alpha must be positive and finite";
  if (!du_pos(th[1])) return "scale beta must be positive and finite";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double y = x[0], a = x[1], b = x[2];
  if (!(y > 0)) return y <= 0 ? -INFINITY : NAN;
  double ly = log(y), lb = log(b);
  if (dx) {
    dx[0] = -(a + 1) / y + b / (y * y);
    if (DU_NEED(1)) dx[1] = lb - bayes_digamma(a) - ly;
    dx[2] = a / b - 1 / y;
  }
  return a * lb - lgamma(a) - (a + 1) * ly - b / y;
}
DU_KERNEL(lpdf, 3, lpdf_elem)

static double lcdf_val(const double *x) { return log(bayes_gamma_q(x[1], x[2] / x[0])); }
static double lccdf_val(const double *x) { return log(bayes_gamma_p(x[1], x[2] / x[0])); }

/* F = Q(alpha, beta / y): d/dy = f / F, d/dbeta = -(y / beta) d/dy, both exact. */
static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double y = x[0];
  if (!(y > 0)) return y <= 0 ? (upper ? 0 : -INFINITY) : NAN;
  double l = upper ? lccdf_val(x) : lcdf_val(x);
  if (dx && isfinite(l) && isfinite(y)) {
    double gy = (upper ? -1 : 1) * exp(lpdf_elem(x, NULL, 0) - l);
    dx[0] = gy;
    dx[2] = -gy * y / x[2];
    if (DU_NEED(1)) dx[1] = du_rich(upper ? lccdf_val : lcdf_val, x, 1, du_shape_step(x[1]));
  }
  return l;
}
DU_CDF_KERNELS(3, cdf_common)

/* 1 / Gamma(alpha, rate beta); GSL's gamma takes the scale 1 / beta */
static double rng(gsl_rng *r, const double *th) { return 1 / gsl_ran_gamma(r, th[0], 1 / th[1]); }

static const char *const names[] = {"alpha", "beta"};

const bayes_dist bayes_dist_inv_gamma = {
    .name = "inv_gamma", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_POSITIVE, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
