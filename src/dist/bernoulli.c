/* bernoulli.c — bernoulli(theta): P(y = 1) = theta, P(y = 0) = 1 - theta (Stan's
 * bernoulli), with log CDF / CCDF. Kernels only: no allocation, no tape knowledge. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static const char *check(const double *th)
{
  if (!(th[0] >= 0 && th[0] <= 1)) return "probability theta must be in [0, 1]";
  return NULL;
}

static double lpmf1(const double *x, double *g)
{
  double y = x[0], th = x[1];
  if (check(x + 1)) return NAN;
  if (y != 0 && y != 1) return -INFINITY;
  if (y == 1) {
    if (g) g[1] = 1 / th;
    return log(th);
  }
  if (g) g[1] = -1 / (1 - th);
  return log1p(-th);
}

/* The CDF is a step function of real y: F(y) = 0 (y < 0), 1 - theta (0 <= y < 1), 1. */
static double lcdf1(const double *x, double *g)
{
  double y = x[0], th = x[1];
  if (check(x + 1) || isnan(y)) return NAN;
  if (y < 0) return -INFINITY;
  if (y >= 1) return 0;
  if (g) g[1] = -1 / (1 - th);
  return log1p(-th);
}

static double lccdf1(const double *x, double *g)
{
  double y = x[0], th = x[1];
  if (check(x + 1) || isnan(y)) return NAN;
  if (y < 0) return 0;
  if (y >= 1) return -INFINITY;
  if (g) g[1] = 1 / th;
  return log(th);
}

static double lpmf(const bayes_dargs *d) { return mvu_elementwise(d, 2, lpmf1); }
static double lcdf(const bayes_dargs *d) { return mvu_elementwise(d, 2, lcdf1); }
static double lccdf(const bayes_dargs *d) { return mvu_elementwise(d, 2, lccdf1); }
static double rng(gsl_rng *r, const double *th) { return gsl_ran_bernoulli(r, th[0]); }

static const char *const names[] = {"theta"};

const bayes_dist bayes_dist_bernoulli = {
    .name = "bernoulli", .nparams = 1, .nparams_min = 1, .param_names = names,
    .discrete = true, .support = BAYES_SUPPORT_INT_BINARY, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpmf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
