/* pareto.c — pareto(y_min, alpha) on y >= y_min: log density, log CDF / CCDF with
 * partials, draws. Must not allocate or report errors (NaN for bad parameters). */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!du_pos(th[0])) return "scale y_min must be positive and finite";
  if (!du_pos(th[1])) return "shape alpha must be positive and finite";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double y = x[0], m = x[1], a = x[2];
  if (!(y >= m)) return isnan(y) ? NAN : -INFINITY;
  double ly = log(y), lm = log(m);
  if (dx) {
    dx[0] = -(a + 1) / y;
    dx[1] = a / m;
    dx[2] = 1 / a + lm - ly;
  }
  return log(a) + a * lm - (a + 1) * ly;
}
DU_KERNEL(lpdf, 3, lpdf_elem)

/* 1 - F = (y_min / y)^alpha = exp(L), L = alpha log(y_min / y) <= 0;
 * log F = log1m_exp(L), d/dL = -1 / expm1(-L) */
static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double y = x[0], m = x[1], a = x[2];
  if (isnan(y)) return NAN;
  if (y <= m) return upper ? 0 : -INFINITY;
  double lr = log(m / y), L = a * lr, l = upper ? L : bayes_log1m_exp(L);
  if (dx && isfinite(l) && isfinite(y)) {
    double gL = upper ? 1 : -1 / expm1(-L);
    dx[0] = -gL * a / y;
    dx[1] = gL * a / m;
    dx[2] = gL * lr;
  }
  return l;
}
DU_CDF_KERNELS(3, cdf_common)

/* GSL's Pareto takes (shape, scale) */
static double rng(gsl_rng *r, const double *th) { return gsl_ran_pareto(r, th[1], th[0]); }

static const char *const names[] = {"y_min", "alpha"};

const bayes_dist bayes_dist_pareto = {
    .name = "pareto", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_LOWER, .bound_arg = 1, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
