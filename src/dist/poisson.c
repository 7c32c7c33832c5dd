/* poisson.c — poisson(lambda): lambda^y exp(-lambda) / y!, with log CDF / CCDF through the
 * regularised incomplete gamma function. Kernels only: no allocation, no tape knowledge. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static const char *check(const double *th)
{
  if (!(th[0] >= 0 && isfinite(th[0]))) return "rate lambda must be non-negative and finite";
  return NULL;
}

static double lpmf1(const double *x, double *g)
{
  double y = x[0], lam = x[1];
  if (check(x + 1)) return NAN;
  if (!mvu_is_nonneg_int(y)) return -INFINITY;
  if (g) g[1] = (y > 0 ? y / lam : 0) - 1;
  return mvu_xlogy(y, lam) - lam - lgamma(y + 1);
}

/* P(Y <= k) = Q(k + 1, lambda), the regularised upper incomplete gamma (A&S 6.5.2 with
 * 26.4.21), and d/dlambda P(Y <= k) = -P(Y = k): both derivatives are closed forms. */
static double cdf_common(const double *x, double *g, bool upper)
{
  double lam = x[1];
  if (check(x + 1) || isnan(x[0])) return NAN;
  double k = floor(x[0]);
  if (k < 0) return upper ? 0 : -INFINITY;
  double p = upper ? bayes_gamma_p(k + 1, lam) : bayes_gamma_q(k + 1, lam);
  double lp = log(p);
  if (g && isfinite(lp)) {
    double d = exp(mvu_xlogy(k, lam) - lam - lgamma(k + 1) - lp);
    g[1] = upper ? d : -d;
  }
  return lp;
}

static double lcdf1(const double *x, double *g) { return cdf_common(x, g, false); }
static double lccdf1(const double *x, double *g) { return cdf_common(x, g, true); }

static double lpmf(const bayes_dargs *d) { return mvu_elementwise(d, 2, lpmf1); }
static double lcdf(const bayes_dargs *d) { return mvu_elementwise(d, 2, lcdf1); }
static double lccdf(const bayes_dargs *d) { return mvu_elementwise(d, 2, lccdf1); }
/* GSL returns an unsigned int: rates beyond 2^30 (Stan's limit too) would overflow it */
static double rng(gsl_rng *r, const double *th)
{
  return th[0] < 1073741824.0 ? gsl_ran_poisson(r, th[0]) : NAN;
}

static const char *const names[] = {"lambda"};

const bayes_dist bayes_dist_poisson = {
    .name = "poisson", .nparams = 1, .nparams_min = 1, .param_names = names,
    .discrete = true, .support = BAYES_SUPPORT_INT_NONNEG, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpmf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
