/* lognormal.c — lognormal(mu, sigma): log density, log CDF / CCDF with partials, draws.
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
  double y = x[0], s = x[2];
  if (!(y > 0)) return y <= 0 ? -INFINITY : NAN;
  double ly = log(y), z = (ly - x[1]) / s;
  if (dx) {
    dx[0] = -(1 + z / s) / y;
    dx[1] = z / s;
    dx[2] = (z * z - 1) / s;
  }
  return -0.5 * z * z - BAYES_LOG_SQRT_2PI - log(s) - ly;
}
DU_KERNEL(lpdf, 3, lpdf_elem)

/* log Phi(+-z), z = (log y - mu) / sigma; dz/dy = 1 / (y sigma) */
static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double y = x[0], s = x[2];
  if (!(y > 0)) return y <= 0 ? (upper ? 0 : -INFINITY) : NAN;
  double z = (log(y) - x[1]) / s, sg = upper ? -1 : 1, l = bayes_log_Phi_rel(sg * z);
  if (dx && isfinite(l) && isfinite(z)) {
    double gz = sg * exp(du_log_phi(z) - l);
    dx[0] = gz / (y * s);
    dx[1] = -gz / s;
    dx[2] = -gz * z / s;
  }
  return l;
}
DU_CDF_KERNELS(3, cdf_common)

static double rng(gsl_rng *r, const double *th) { return gsl_ran_lognormal(r, th[0], th[1]); }

static const char *const names[] = {"mu", "sigma"};

const bayes_dist bayes_dist_lognormal = {
    .name = "lognormal", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_POSITIVE, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
