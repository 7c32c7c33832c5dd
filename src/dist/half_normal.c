/* half_normal.c — half_normal(sigma) = normal(0, sigma) folded onto y >= 0 (density
 * 2 N(y | 0, sigma)): log density, log CDF / CCDF with partials, draws. Must not allocate
 * or report errors (NaN for bad parameters). */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!du_pos(th[0])) return "scale sigma must be positive and finite";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double y = x[0], s = x[1];
  if (y < 0) return -INFINITY;
  double z = y / s;
  if (dx) {
    dx[0] = -z / s;
    dx[1] = (z * z - 1) / s;
  }
  return BAYES_LOG2 - 0.5 * z * z - BAYES_LOG_SQRT_2PI - log(s);
}
DU_KERNEL(lpdf, 2, lpdf_elem)

/* F = erf(z / sqrt 2) (log of erf near 0, log1p(-erfc) away from it);
 * 1 - F = 2 Phi(-z) (log_Phi keeps the far tail). dF/dz = 2 phi(z). */
static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double y = x[0], s = x[1];
  if (!(y > 0)) return y <= 0 ? (upper ? 0 : -INFINITY) : NAN;
  double z = y / s, l;
  if (upper)
    l = BAYES_LOG2 + bayes_log_Phi_rel(-z);
  else
    l = z < 1 ? log(erf(z / BAYES_SQRT2)) : log1p(-erfc(z / BAYES_SQRT2));
  if (dx && isfinite(l) && isfinite(z))
    du_locscale(dx, (upper ? -1 : 1) * exp(BAYES_LOG2 + du_log_phi(z) - l), z, s, 0, -1, 1);
  return l;
}
DU_CDF_KERNELS(2, cdf_common)

static double rng(gsl_rng *r, const double *th) { return fabs(gsl_ran_gaussian(r, th[0])); }

static const char *const names[] = {"sigma"};

const bayes_dist bayes_dist_half_normal = {
    .name = "half_normal", .nparams = 1, .nparams_min = 1, .param_names = names,
    .support = BAYES_SUPPORT_POSITIVE, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
