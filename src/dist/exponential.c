/* exponential.c — exponential(beta) with rate beta: log density, log CDF / CCDF with
 * partials, draws. Must not allocate or report errors (NaN for bad parameters). */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!du_pos(th[0])) return "rate beta must be positive and finite";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double y = x[0], b = x[1];
  if (y < 0) return -INFINITY;
  if (dx) {
    dx[0] = -b;
    dx[1] = 1 / b - y;
  }
  return log(b) - b * y;
}
DU_KERNEL(lpdf, 2, lpdf_elem)

/* log(1 - exp(-t)), t = beta y; d/dt = 1 / expm1(t) */
static double lcdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double y = x[0], b = x[1];
  if (!(y > 0)) return y <= 0 ? -INFINITY : NAN;
  double t = b * y, l = bayes_log1m_exp(-t);
  if (dx && isfinite(l) && isfinite(t)) {
    double gt = 1 / expm1(t);
    dx[0] = gt * b;
    dx[1] = gt * y;
  }
  return l;
}
static double lccdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double y = x[0], b = x[1];
  if (!(y > 0)) return y <= 0 ? 0 : NAN;
  if (dx) {
    dx[0] = -b;
    dx[1] = -y;
  }
  return -b * y;
}
DU_KERNEL(lcdf, 2, lcdf_elem)
DU_KERNEL(lccdf, 2, lccdf_elem)

/* GSL's exponential takes the mean, 1 / beta */
static double rng(gsl_rng *r, const double *th) { return gsl_ran_exponential(r, 1 / th[0]); }

static const char *const names[] = {"beta"};

const bayes_dist bayes_dist_exponential = {
    .name = "exponential", .nparams = 1, .nparams_min = 1, .param_names = names,
    .support = BAYES_SUPPORT_POSITIVE, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
