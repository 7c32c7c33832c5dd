/* binomial.c — binomial(N, theta): C(N, y) theta^y (1 - theta)^(N - y), y in 0..N, with
 * log CDF / CCDF through the regularised incomplete beta function. N is integer data (no
 * gradient). Kernels only: no allocation, no tape knowledge. */
#include <math.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static const char *check(const double *th)
{
  if (!mvu_is_nonneg_int(th[0])) return "number of trials N must be a non-negative integer";
  if (!(th[1] >= 0 && th[1] <= 1)) return "probability theta must be in [0, 1]";
  return NULL;
}

static double lpmf1(const double *x, double *g)
{
  double y = x[0], N = x[1], th = x[2];
  if (check(x + 1)) return NAN;
  if (!mvu_is_nonneg_int(y) || y > N) return -INFINITY;
  double lp = bayes_lchoose(N, y) + mvu_xlogy(y, th);
  if (N - y > 0) lp += (N - y) * log1p(-th);
  if (g) g[2] = (y > 0 ? y / th : 0) - (N - y > 0 ? (N - y) / (1 - th) : 0);
  return lp;
}

/* For 0 <= k < N:  P(Y <= k) = 1 - I_theta(k + 1, N - k)  (Abramowitz & Stegun 26.5.24),
 * and d/dtheta P(Y > k) is the Beta(k + 1, N - k) density at theta. */
static double cdf_common(const double *x, double *g, bool upper)
{
  double N = x[1], th = x[2];
  if (check(x + 1) || isnan(x[0])) return NAN;
  double k = floor(x[0]);
  if (k < 0) return upper ? 0 : -INFINITY;
  if (k >= N) return upper ? -INFINITY : 0;
  double a = k + 1, b = N - k;
  double p = upper ? gsl_cdf_beta_P(th, a, b) : gsl_cdf_beta_Q(th, a, b);
  double lp = log(p);
  if (g && isfinite(lp)) {
    double ldens = mvu_xlogy(k, th) + mvu_xlogy(b - 1, 1 - th) - bayes_lbeta(a, b);
    double d = exp(ldens - lp);
    g[2] = upper ? d : -d;
  }
  return lp;
}

static double lcdf1(const double *x, double *g) { return cdf_common(x, g, false); }
static double lccdf1(const double *x, double *g) { return cdf_common(x, g, true); }

static double lpmf(const bayes_dargs *d) { return mvu_elementwise(d, 3, lpmf1); }
static double lcdf(const bayes_dargs *d) { return mvu_elementwise(d, 3, lcdf1); }
static double lccdf(const bayes_dargs *d) { return mvu_elementwise(d, 3, lccdf1); }
static double rng(gsl_rng *r, const double *th)
{
  return gsl_ran_binomial(r, th[1], (unsigned)th[0]);
}

static const char *const names[] = {"N", "theta"};

const bayes_dist bayes_dist_binomial = {
    .name = "binomial", .nparams = 2, .nparams_min = 2, .param_names = names,
    .discrete = true, .param_int = {[1] = true}, .support = BAYES_SUPPORT_INT_NONNEG,
    .kind = BAYES_DIST_UNIVARIATE, .lpdf = lpmf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng,
    .check = check};
