/* laplace.c — laplace(mu, sigma), alias double_exponential: log density, log CDF / CCDF
 * with partials, draws. At y = mu the derivative in y is taken as 0 (a subgradient).
 * Must not allocate or report errors (NaN for bad parameters). */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!isfinite(th[0])) return "location mu must be finite";
  if (!du_pos(th[1])) return "scale sigma must be positive and finite";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double z = (x[0] - x[1]) / x[2];
  if (dx) {
    du_locscale(dx, z > 0 ? -1 : z < 0 ? 1 : 0, z, x[2], 0, 1, 2);
    dx[2] -= 1 / x[2];
  }
  return -BAYES_LOG2 - log(x[2]) - fabs(z);
}
DU_KERNEL(lpdf, 3, lpdf_elem)

/* lower tail for z = (y - mu)/sigma, upper tail by symmetry with -z:
 * z < 0: log F = z - log 2;  z >= 0: log F = log1p(-exp(-z)/2) */
static double lower_tail(double z, double *gz)
{
  if (z < 0) {
    *gz = 1;
    return z - BAYES_LOG2;
  }
  double e = 0.5 * exp(-z);
  *gz = e / (1 - e);
  return log1p(-e);
}
static double lcdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double gz, z = (x[0] - x[1]) / x[2], l = lower_tail(z, &gz);
  if (dx && isfinite(l)) du_locscale(dx, gz, z, x[2], 0, 1, 2);
  return l;
}
static double lccdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double gz, z = (x[0] - x[1]) / x[2], l = lower_tail(-z, &gz);
  if (dx && isfinite(l)) du_locscale(dx, -gz, z, x[2], 0, 1, 2);
  return l;
}
DU_KERNEL(lcdf, 3, lcdf_elem)
DU_KERNEL(lccdf, 3, lccdf_elem)

static double rng(gsl_rng *r, const double *th) { return th[0] + gsl_ran_laplace(r, th[1]); }

static const char *const names[] = {"mu", "sigma"};

const bayes_dist bayes_dist_laplace = {
    .name = "laplace", .alias = "double_exponential", .nparams = 2, .nparams_min = 2,
    .param_names = names, .support = BAYES_SUPPORT_REAL, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
