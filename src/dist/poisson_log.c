/* poisson_log.c — poisson_log(alpha) = poisson(exp(alpha)), evaluated with the log rate so
 * that y alpha - exp(alpha) never forms log(exp(alpha)). Kernels only: no allocation,
 * no tape knowledge. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static const char *check(const double *th)
{
  if (isnan(th[0]) || th[0] == INFINITY) return "log rate alpha must be finite or -inf";
  return NULL;
}

static double lpmf1(const double *x, double *g)
{
  double y = x[0], a = x[1];
  if (check(x + 1)) return NAN;
  if (!mvu_is_nonneg_int(y)) return -INFINITY;
  if (a == -INFINITY) return y == 0 ? 0 : -INFINITY;
  if (g) g[1] = y - exp(a);
  return y * a - exp(a) - lgamma(y + 1);
}

static double lpmf(const bayes_dargs *d) { return mvu_elementwise(d, 2, lpmf1); }
static double rng(gsl_rng *r, const double *th)
{
  double lam = exp(th[0]);
  return lam < 1073741824.0 ? gsl_ran_poisson(r, lam) : NAN;
}

static const char *const names[] = {"alpha"};

const bayes_dist bayes_dist_poisson_log = {
    .name = "poisson_log", .nparams = 1, .nparams_min = 1, .param_names = names,
    .discrete = true, .support = BAYES_SUPPORT_INT_NONNEG, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpmf, .rng = rng, .check = check};
