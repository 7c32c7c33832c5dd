/* chi_square.c — chi_square(nu) = gamma(nu/2, rate 1/2): log density with partials (nu
 * via digamma), log CDF / CCDF (incomplete gamma; the nu-derivative by Richardson
 * differences), draws. Must not allocate or report errors. */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!du_pos(th[0])) return "degrees of freedom nu must be positive and finite";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double y = x[0], h = 0.5 * x[1];
  if (!(y > 0 && y < INFINITY)) return isnan(y) ? NAN : -INFINITY;
  double ly = log(y);
  if (dx) {
    dx[0] = (h - 1) / y - 0.5;
    if (DU_NEED(1)) dx[1] = 0.5 * (ly - BAYES_LOG2 - bayes_digamma(h));
  }
  return -h * BAYES_LOG2 - lgamma(h) + (h - 1) * ly - 0.5 * y;
}
DU_KERNEL(lpdf, 2, lpdf_elem)

static double lcdf_val(const double *x) { return log(bayes_gamma_p(0.5 * x[1], 0.5 * x[0])); }
static double lccdf_val(const double *x) { return log(bayes_gamma_q(0.5 * x[1], 0.5 * x[0])); }

static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double y = x[0];
  if (!(y > 0)) return y <= 0 ? (upper ? 0 : -INFINITY) : NAN;
  double l = upper ? lccdf_val(x) : lcdf_val(x);
  if (dx && isfinite(l) && isfinite(y)) {
    dx[0] = (upper ? -1 : 1) * exp(lpdf_elem(x, NULL, 0) - l);
    if (DU_NEED(1)) dx[1] = du_rich(upper ? lccdf_val : lcdf_val, x, 1, du_shape_step(x[1]));
  }
  return l;
}
DU_CDF_KERNELS(2, cdf_common)

static double rng(gsl_rng *r, const double *th) { return gsl_ran_chisq(r, th[0]); }

static const char *const names[] = {"nu"};

const bayes_dist bayes_dist_chi_square = {
    .name = "chi_square", .nparams = 1, .nparams_min = 1, .param_names = names,
    .support = BAYES_SUPPORT_POSITIVE, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
