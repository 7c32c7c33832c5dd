/* geometric.c — geometric(theta): failures before the first success, p(y) = theta (1 -
 * theta)^y on y = 0, 1, 2, ... (R's dgeom; Stan has none; GSL counts trials from 1), with
 * log CDF / CCDF in closed form. Kernels only: no allocation, no tape knowledge. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static const char *check(const double *th)
{
  if (!(th[0] > 0 && th[0] <= 1)) return "success probability theta must be in (0, 1]";
  return NULL;
}

static double lpmf1(const double *x, double *g)
{
  double y = x[0], th = x[1];
  if (check(x + 1)) return NAN;
  if (!mvu_is_nonneg_int(y)) return -INFINITY;
  if (g) g[1] = 1 / th - (y > 0 ? y / (1 - th) : 0);
  return log(th) + (y > 0 ? y * log1p(-th) : 0);
}

/* P(Y > k) = (1 - theta)^(k + 1), so log CCDF = (k + 1) log1p(-theta) and
 * log CDF = log1m_exp of that. */
static double lcdf1(const double *x, double *g)
{
  double th = x[1];
  if (check(x + 1) || isnan(x[0])) return NAN;
  double k = floor(x[0]);
  if (k < 0) return -INFINITY;
  if (th == 1) return 0;
  double ls = (k + 1) * log1p(-th), lp = bayes_log1m_exp(ls);
  /* d/dtheta log(1 - (1 - theta)^(k+1)) = (k + 1) (1 - theta)^k / F */
  if (g && isfinite(lp)) g[1] = (k + 1) * exp(k * log1p(-th) - lp);
  return lp;
}

static double lccdf1(const double *x, double *g)
{
  double th = x[1];
  if (check(x + 1) || isnan(x[0])) return NAN;
  double k = floor(x[0]);
  if (k < 0) return 0;
  if (th == 1) return -INFINITY;
  if (g) g[1] = -(k + 1) / (1 - th);
  return (k + 1) * log1p(-th);
}

static double lpmf(const bayes_dargs *d) { return mvu_elementwise(d, 2, lpmf1); }
static double lcdf(const bayes_dargs *d) { return mvu_elementwise(d, 2, lcdf1); }
static double lccdf(const bayes_dargs *d) { return mvu_elementwise(d, 2, lccdf1); }
static double rng(gsl_rng *r, const double *th) { return gsl_ran_geometric(r, th[0]) - 1.0; }

static const char *const names[] = {"theta"};

const bayes_dist bayes_dist_geometric = {
    .name = "geometric", .nparams = 1, .nparams_min = 1, .param_names = names,
    .discrete = true, .support = BAYES_SUPPORT_INT_NONNEG, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpmf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
