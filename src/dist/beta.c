/* beta.c — beta(alpha, beta) on (0, 1): log density with partials (digamma), log CDF /
 * CCDF (regularised incomplete beta; shape derivatives by Richardson differences), draws.
 * Must not allocate or report errors (NaN for bad parameters). */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!du_pos(th[0])) return "shape alpha must be positive and finite";
  if (!du_pos(th[1])) return "shape beta must be positive and finite";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double y = x[0], a = x[1], b = x[2];
  if (!(y > 0 && y < 1)) return isnan(y) ? NAN : -INFINITY;
  double ly = log(y), l1y = log1p(-y);
  if (dx) {
    dx[0] = (a - 1) / y - (b - 1) / (1 - y);
    if (DU_NEED(1) || DU_NEED(2)) {
      double dab = bayes_digamma(a + b);
      dx[1] = ly - bayes_digamma(a) + dab;
      dx[2] = l1y - bayes_digamma(b) + dab;
    }
  }
  return (a - 1) * ly + (b - 1) * l1y - bayes_lbeta(a, b);
}
DU_KERNEL(lpdf, 3, lpdf_elem)

/* F = I_y(a, b), 1 - F = I_{1-y}(b, a): each tail computed directly */
static double lcdf_val(const double *x) { return log(bayes_inc_beta(x[1], x[2], x[0])); }
static double lccdf_val(const double *x) { return log(bayes_inc_beta(x[2], x[1], 1 - x[0])); }

static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double y = x[0];
  if (isnan(y)) return NAN;
  if (y <= 0) return upper ? 0 : -INFINITY;
  if (y >= 1) return upper ? -INFINITY : 0;
  double l = upper ? lccdf_val(x) : lcdf_val(x);
  if (dx && isfinite(l)) {
    du_val_fn f = upper ? lccdf_val : lcdf_val;
    dx[0] = (upper ? -1 : 1) * exp(lpdf_elem(x, NULL, 0) - l);
    if (DU_NEED(1)) dx[1] = du_rich(f, x, 1, du_shape_step(x[1]));
    if (DU_NEED(2)) dx[2] = du_rich(f, x, 2, du_shape_step(x[2]));
  }
  return l;
}
DU_CDF_KERNELS(3, cdf_common)

static double rng(gsl_rng *r, const double *th) { return gsl_ran_beta(r, th[0], th[1]); }

static const char *const names[] = {"alpha", "beta"};

const bayes_dist bayes_dist_beta = {
    .name = "beta", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_UNIT, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
