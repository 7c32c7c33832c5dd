/* weibull.c — weibull(alpha, sigma) with shape alpha and scale sigma: log density, log
 * CDF / CCDF with partials, draws. Must not allocate or report errors. */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!du_pos(th[0])) return "shape alpha must be positive and finite";
  if (!du_pos(th[1])) return "scale sigma must be positive and finite";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double y = x[0], a = x[1], s = x[2];
  if (!(y > 0 && y < INFINITY)) return isnan(y) ? NAN : -INFINITY;
  double lr = log(y / s), t = exp(a * lr); /* t = (y / sigma)^alpha */
  if (dx) {
    dx[0] = (a - 1 - a * t) / y;
    dx[1] = 1 / a + lr * (1 - t);
    dx[2] = a * (t - 1) / s;
  }
  return log(a) - log(s) + (a - 1) * lr - t;
}
DU_KERNEL(lpdf, 3, lpdf_elem)

/* F = 1 - exp(-t); dt/dy = alpha t / y, dt/dalpha = t log(y / sigma), dt/dsigma = -alpha t / sigma */
static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double y = x[0], a = x[1], s = x[2];
  if (!(y > 0)) return y <= 0 ? (upper ? 0 : -INFINITY) : NAN;
  double lr = log(y / s), t = exp(a * lr), l = upper ? -t : bayes_log1m_exp(-t);
  if (dx && isfinite(l) && isfinite(t)) {
    double gt = upper ? -1 : 1 / expm1(t);
    dx[0] = gt * a * t / y;
    dx[1] = gt * t * lr;
    dx[2] = -gt * a * t / s;
  }
  return l;
}
DU_CDF_KERNELS(3, cdf_common)

/* GSL's Weibull takes (scale, shape) */
static double rng(gsl_rng *r, const double *th) { return gsl_ran_weibull(r, th[1], th[0]); }

static const char *const names[] = {"alpha", "sigma"};

const bayes_dist bayes_dist_weibull = {
    .name = "weibull", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_POSITIVE, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
