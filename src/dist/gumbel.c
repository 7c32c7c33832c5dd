/* gumbel.c — gumbel(mu, beta): log density, log CDF / CCDF with partials, draws.
 * Must not allocate or report errors (NaN for bad parameters). */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!isfinite(th[0])) return "location mu must be finite";
  if (!du_pos(th[1])) return "scale beta must be positive and finite";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double z = (x[0] - x[1]) / x[2], e = exp(-z);
  if (dx) {
    du_locscale(dx, e - 1, z, x[2], 0, 1, 2);
    dx[2] -= 1 / x[2];
  }
  return -log(x[2]) - z - e;
}
DU_KERNEL(lpdf, 3, lpdf_elem)

/* F = exp(-u), u = exp(-z) */
static double lcdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double z = (x[0] - x[1]) / x[2], u = exp(-z);
  if (dx && isfinite(u)) du_locscale(dx, u, z, x[2], 0, 1, 2);
  return -u;
}
/* log(1 - exp(-u)); d/dz = -u / expm1(u). For z > 30, u < 1e-13 and the series
 * log(1 - exp(-u)) = log u - u/2 + O(u^2) keeps the value finite when u underflows. */
static double lccdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double z = (x[0] - x[1]) / x[2], u = exp(-z), l, gz;
  if (z > 30) {
    l = -z - 0.5 * u;
    gz = -1 + 0.5 * u;
  } else {
    l = bayes_log1m_exp(-u);
    gz = u > 700 ? 0 : -u / expm1(u);
  }
  if (dx && isfinite(l)) du_locscale(dx, gz, z, x[2], 0, 1, 2);
  return l;
}
DU_KERNEL(lcdf, 3, lcdf_elem)
DU_KERNEL(lccdf, 3, lccdf_elem)

/* GSL's type-1 Gumbel with a = b = 1 is the standard Gumbel(0, 1) */
static double rng(gsl_rng *r, const double *th)
{
  return th[0] + th[1] * gsl_ran_gumbel1(r, 1.0, 1.0);
}

static const char *const names[] = {"mu", "beta"};

const bayes_dist bayes_dist_gumbel = {
    .name = "gumbel", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_REAL, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
