/* beta_binomial.c — beta_binomial(N, alpha, beta): C(N, y) B(y + alpha, N - y + beta) /
 * B(alpha, beta), y in 0..N (Stan's parameterisation). N is integer data (no gradient).
 * Kernels only: no allocation, no tape knowledge. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static const char *check(const double *th)
{
  if (!mvu_is_nonneg_int(th[0])) return "number of trials N must be a non-negative integer";
  if (!(th[1] > 0 && isfinite(th[1]))) return "prior successes alpha must be positive and finite";
  if (!(th[2] > 0 && isfinite(th[2]))) return "prior failures beta must be positive and finite";
  return NULL;
}

static double lpmf1(const double *x, double *g)
{
  double y = x[0], N = x[1], a = x[2], b = x[3];
  if (check(x + 1)) return NAN;
  if (!mvu_is_nonneg_int(y) || y > N) return -INFINITY;
  if (g) {
    double common = bayes_digamma(a + b) - bayes_digamma(N + a + b);
    g[2] = bayes_digamma(y + a) - bayes_digamma(a) + common;
    g[3] = bayes_digamma(N - y + b) - bayes_digamma(b) + common;
  }
  return bayes_lchoose(N, y) + bayes_lbeta(y + a, N - y + b) - bayes_lbeta(a, b);
}

static double lpmf(const bayes_dargs *d) { return mvu_elementwise(d, 4, lpmf1); }
/* the beta-binomial is the binomial with a Beta(alpha, beta) success probability */
static double rng(gsl_rng *r, const double *th)
{
  double p = gsl_ran_beta(r, th[1], th[2]);
  return gsl_ran_binomial(r, p, (unsigned)th[0]);
}

static const char *const names[] = {"N", "alpha", "beta"};

const bayes_dist bayes_dist_beta_binomial = {
    .name = "beta_binomial", .nparams = 3, .nparams_min = 3, .param_names = names,
    .discrete = true, .param_int = {[1] = true}, .support = BAYES_SUPPORT_INT_NONNEG,
    .kind = BAYES_DIST_UNIVARIATE, .lpdf = lpmf, .rng = rng, .check = check};
