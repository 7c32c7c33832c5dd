/* cauchy.c — cauchy(mu, sigma): log density, log CDF / CCDF with partials, draws. The
 * CDF uses atan2 so that both tails keep relative accuracy. Must not allocate or report
 * errors (NaN for bad parameters). */
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
    du_locscale(dx, -2 * z / (1 + z * z), z, x[2], 0, 1, 2);
    dx[2] -= 1 / x[2];
  }
  return -BAYES_LOG_PI - log(x[2]) - du_log1p_sq(z);
}
DU_KERNEL(lpdf, 3, lpdf_elem)

/* F(z) = 1/2 + atan(z)/pi = atan2(1, -z)/pi, free of cancellation as z -> -inf */
static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double z = (x[0] - x[1]) / x[2], p = atan2(1, upper ? z : -z) / M_PI, l = log(p);
  if (dx && isfinite(l))
    du_locscale(dx, (upper ? -1 : 1) / (M_PI * (1 + z * z) * p), z, x[2], 0, 1, 2);
  return l;
}
DU_CDF_KERNELS(3, cdf_common)

static double rng(gsl_rng *r, const double *th) { return th[0] + gsl_ran_cauchy(r, th[1]); }

static const char *const names[] = {"mu", "sigma"};

const bayes_dist bayes_dist_cauchy = {
    .name = "cauchy", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_REAL, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
