/* half_cauchy.c — half_cauchy(sigma) = cauchy(0, sigma) folded onto y >= 0 (density
 * 2 Cauchy(y | 0, sigma)): log density, log CDF / CCDF with partials, draws. Must not
 * allocate or report errors (NaN for bad parameters). */
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
    du_locscale(dx, -2 * z / (1 + z * z), z, s, 0, -1, 1);
    dx[1] -= 1 / s;
  }
  return BAYES_LOG2 - BAYES_LOG_PI - log(s) - du_log1p_sq(z);
}
DU_KERNEL(lpdf, 2, lpdf_elem)

/* F = (2/pi) atan(z), 1 - F = (2/pi) atan2(1, z): both relative-accurate; f = 2/(pi(1+z^2)) */
static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double y = x[0], s = x[1];
  if (!(y > 0)) return y <= 0 ? (upper ? 0 : -INFINITY) : NAN;
  double z = y / s, p = 2 / M_PI * (upper ? atan2(1, z) : atan(z)), l = log(p);
  if (dx && isfinite(l))
    du_locscale(dx, (upper ? -1 : 1) * 2 / (M_PI * (1 + z * z) * p), z, s, 0, -1, 1);
  return l;
}
DU_CDF_KERNELS(2, cdf_common)

static double rng(gsl_rng *r, const double *th) { return fabs(gsl_ran_cauchy(r, th[0])); }

static const char *const names[] = {"sigma"};

const bayes_dist bayes_dist_half_cauchy = {
    .name = "half_cauchy", .nparams = 1, .nparams_min = 1, .param_names = names,
    .support = BAYES_SUPPORT_POSITIVE, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
