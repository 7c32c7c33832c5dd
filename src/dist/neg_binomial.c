/* neg_binomial.c — neg_binomial(alpha, beta) (Stan): C(y + alpha - 1, alpha - 1)
 * (beta / (1 + beta))^alpha (1 / (1 + beta))^y, mean alpha / beta.
 * Kernels only: no allocation, no tape knowledge. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static const char *check(const double *th)
{
  if (!(th[0] > 0 && isfinite(th[0]))) return "shape alpha must be positive and finite";
  if (!(th[1] > 0 && isfinite(th[1]))) return "inverse scale beta must be positive and finite";
  return NULL;
}

static double lpmf1(const double *x, double *g)
{
  double y = x[0], a = x[1], b = x[2];
  if (check(x + 1)) return NAN;
  if (!mvu_is_nonneg_int(y)) return -INFINITY;
  /* alpha log(beta / (1 + beta)) = -alpha log1p(1 / beta); y log(1 / (1 + beta)) =
   * -y log1p(beta) */
  double l1 = log1p(1 / b);
  if (g) {
    g[1] = bayes_digamma(y + a) - bayes_digamma(a) - l1;
    g[2] = (a / b - y) / (1 + b);
  }
  return lgamma(y + a) - lgamma(y + 1) - lgamma(a) - a * l1 - y * log1p(b);
}

static double lpmf(const bayes_dargs *d) { return mvu_elementwise(d, 3, lpmf1); }
/* GSL's negative binomial counts failures before the n-th success with success
 * probability p: n = alpha, p = beta / (1 + beta) gives Stan's parameterisation. */
static double rng(gsl_rng *r, const double *th)
{
  return gsl_ran_negative_binomial(r, th[1] / (1 + th[1]), th[0]);
}

static const char *const names[] = {"alpha", "beta"};

const bayes_dist bayes_dist_neg_binomial = {
    .name = "neg_binomial", .nparams = 2, .nparams_min = 2, .param_names = names,
    .discrete = true, .support = BAYES_SUPPORT_INT_NONNEG, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpmf, .rng = rng, .check = check};
