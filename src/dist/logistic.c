/* logistic.c — logistic(mu, s): log density, log CDF / CCDF with partials, draws, all
 * through the overflow-free log1p_exp / log_inv_logit forms of special.c. Must not
 * allocate or report errors (NaN for bad parameters). */
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
    du_locscale(dx, 1 - 2 * bayes_inv_logit(z), z, x[2], 0, 1, 2);
    dx[2] -= 1 / x[2];
  }
  return -log(x[2]) - z - 2 * bayes_log1p_exp(-z);
}
DU_KERNEL(lpdf, 3, lpdf_elem)

static double lcdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double z = (x[0] - x[1]) / x[2], l = bayes_log_inv_logit(z);
  if (dx && isfinite(l)) du_locscale(dx, bayes_inv_logit(-z), z, x[2], 0, 1, 2);
  return l;
}
DU_KERNEL(lcdf, 3, lcdf_elem)

static double lccdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double z = (x[0] - x[1]) / x[2], l = bayes_log1m_inv_logit(z);
  if (dx && isfinite(l)) du_locscale(dx, -bayes_inv_logit(z), z, x[2], 0, 1, 2);
  return l;
}
DU_KERNEL(lccdf, 3, lccdf_elem)

static double rng(gsl_rng *r, const double *th) { return th[0] + gsl_ran_logistic(r, th[1]); }

static const char *const names[] = {"mu", "sigma"};

const bayes_dist bayes_dist_logistic = {
    .name = "logistic", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_REAL, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
