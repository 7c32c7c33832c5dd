/* neg_binomial_2_log.c — neg_binomial_2_log(eta, phi) = neg_binomial_2(exp(eta), phi),
 * with log(mu + phi) formed as log_sum_exp(eta, log phi) so large eta does not overflow.
 * Kernels only: no allocation, no tape knowledge. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static const char *check(const double *th)
{
  if (!isfinite(th[0])) return "log location eta must be finite";
  if (!(th[1] > 0 && isfinite(th[1]))) return "precision phi must be positive and finite";
  return NULL;
}

static double lpmf1(const double *x, double *g)
{
  double y = x[0], eta = x[1], phi = x[2];
  if (check(x + 1)) return NAN;
  if (!mvu_is_nonneg_int(y)) return -INFINITY;
  double lphi = log(phi), lsum = bayes_log_sum_exp2(eta, lphi); /* log(mu + phi) */
  if (g) {
    /* mu / (mu + phi) = inv_logit(eta - log phi) */
    double frac = bayes_inv_logit(eta - lphi);
    g[1] = y - (y + phi) * frac;
    g[2] = bayes_digamma(y + phi) - bayes_digamma(phi) + lphi - lsum + frac - y / exp(lsum);
  }
  return lgamma(y + phi) - lgamma(y + 1) - lgamma(phi) + y * (eta - lsum) + phi * (lphi - lsum);
}

static double lpmf(const bayes_dargs *d) { return mvu_elementwise(d, 3, lpmf1); }
static double rng(gsl_rng *r, const double *th)
{
  double mu = exp(th[0]);
  double lam = gsl_ran_gamma(r, th[1], mu / th[1]);
  return lam < 1073741824.0 ? gsl_ran_poisson(r, lam) : NAN;
}

static const char *const names[] = {"eta", "phi"};

const bayes_dist bayes_dist_neg_binomial_2_log = {
    .name = "neg_binomial_2_log", .nparams = 2, .nparams_min = 2, .param_names = names,
    .discrete = true, .support = BAYES_SUPPORT_INT_NONNEG, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpmf, .rng = rng, .check = check};
