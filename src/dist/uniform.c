/* uniform.c — uniform(alpha, beta): log density -log(beta - alpha) on [alpha, beta], with
 * partials in both bounds; log CDF / CCDF with partials, draws. Must not allocate or report
 * errors (NaN for bad parameters). */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!isfinite(th[0])) return "lower bound alpha must be finite";
  if (!isfinite(th[1])) return "upper bound beta must be finite";
  if (!(th[0] < th[1])) return "lower bound alpha must be less than upper bound beta";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double y = x[0], a = x[1], b = x[2];
  if (!(y >= a && y <= b)) return isnan(y) ? NAN : -INFINITY;
  if (dx) {
    dx[1] = 1 / (b - a);
    dx[2] = -1 / (b - a);
  }
  return -log(b - a);
}
DU_KERNEL(lpdf, 3, lpdf_elem)

/* log((y - a) / (b - a)) and log((b - y) / (b - a)) */
static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double y = x[0], a = x[1], b = x[2];
  if (isnan(y)) return NAN;
  if (y <= a) return upper ? 0 : -INFINITY;
  if (y >= b) return upper ? -INFINITY : 0;
  double r = 1 / (b - a);
  if (dx) {
    if (upper) {
      dx[0] = -1 / (b - y);
      dx[1] = r;
      dx[2] = 1 / (b - y) - r;
    } else {
      dx[0] = 1 / (y - a);
      dx[1] = -1 / (y - a) + r;
      dx[2] = -r;
    }
  }
  return upper ? log((b - y) * r) : log((y - a) * r);
}
DU_CDF_KERNELS(3, cdf_common)

static double rng(gsl_rng *r, const double *th) { return gsl_ran_flat(r, th[0], th[1]); }

static const char *const names[] = {"alpha", "beta"};

const bayes_dist bayes_dist_uniform = {
    .name = "uniform", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_INTERVAL, .bound_arg = 1, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
