/* binomial_logit.c — binomial_logit(N, alpha) = binomial(N, inv_logit(alpha)), on the logit
 * scale for stability at large |alpha|. N is integer data (no gradient).
 * Kernels only: no allocation, no tape knowledge. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static const char *check(const double *th)
{
  if (!mvu_is_nonneg_int(th[0])) return "number of trials N must be a non-negative integer";
  if (isnan(th[1])) return "log-odds alpha must not be NaN";
  return NULL;
}

static double lpmf1(const double *x, double *g)
{
  double y = x[0], N = x[1], a = x[2];
  if (check(x + 1)) return NAN;
  if (!mvu_is_nonneg_int(y) || y > N) return -INFINITY;
  double lp = bayes_lchoose(N, y);
  if (y > 0) lp -= y * bayes_log1p_exp(-a);
  if (N - y > 0) lp -= (N - y) * bayes_log1p_exp(a);
  if (g) g[2] = y - N * bayes_inv_logit(a);
  return lp;
}

static double lpmf(const bayes_dargs *d) { return mvu_elementwise(d, 3, lpmf1); }
static double rng(gsl_rng *r, const double *th)
{
  return gsl_ran_binomial(r, bayes_inv_logit(th[1]), (unsigned)th[0]);
}

static const char *const names[] = {"N", "alpha"};

const bayes_dist bayes_dist_binomial_logit = {
    .name = "binomial_logit", .nparams = 2, .nparams_min = 2, .param_names = names,
    .discrete = true, .param_int = {[1] = true}, .support = BAYES_SUPPORT_INT_NONNEG,
    .kind = BAYES_DIST_UNIVARIATE, .lpdf = lpmf, .rng = rng, .check = check};
