/* bernoulli_logit.c — bernoulli_logit(alpha) = bernoulli(inv_logit(alpha)), evaluated on
 * the logit scale so that |alpha| of hundreds neither overflows nor rounds to log(0).
 * Kernels only: no allocation, no tape knowledge. */
#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static const char *check(const double *th)
{
  if (isnan(th[0])) return "log-odds alpha must not be NaN";
  return NULL;
}

static double lpmf1(const double *x, double *g)
{
  double y = x[0], a = x[1];
  if (check(x + 1)) return NAN;
  if (y != 0 && y != 1) return -INFINITY;
  /* log inv_logit(a) = -log1p_exp(-a); log(1 - inv_logit(a)) = -log1p_exp(a) */
  if (y == 1) {
    if (g) g[1] = bayes_inv_logit(-a);
    return -bayes_log1p_exp(-a);
  }
  if (g) g[1] = -bayes_inv_logit(a);
  return -bayes_log1p_exp(a);
}

/* The logistic-regression hot path: one exp and one log1p per element, no indirect call.
 * With s = alpha for y = 1 and -alpha for y = 0, log p = log inv_logit(s) and
 * d log p / ds = inv_logit(-s), both from e = exp(-|s|). */
static double lpmf(const bayes_dargs *d)
{
  size_t n = d->n, iy = d->a[0].inc, ia = d->a[1].inc;
  const double *y = d->a[0].x, *a = d->a[1].x;
  double *ga = d->a[1].g, total = 0;
  if (d->pw || d->w) return mvu_elementwise(d, 2, lpmf1);
  for (size_t i = 0; i < n; i++) {
    double yi = y[i * iy], ai = a[i * ia];
    if (isnan(ai)) return NAN;
    if (yi != 0 && yi != 1) return -INFINITY;
    double s = yi == 1 ? ai : -ai;
    double e = exp(-fabs(s));
    total += (s < 0 ? s : 0) - log1p(e);
    if (ga) {
      double dlds = s >= 0 ? e / (1 + e) : 1 / (1 + e);
      ga[i * ia] += d->scale * (yi == 1 ? dlds : -dlds);
    }
  }
  return total;
}
static double rng(gsl_rng *r, const double *th)
{
  return gsl_ran_bernoulli(r, bayes_inv_logit(th[0]));
}

static const char *const names[] = {"alpha"};

const bayes_dist bayes_dist_bernoulli_logit = {
    .name = "bernoulli_logit", .nparams = 1, .nparams_min = 1, .param_names = names,
    .discrete = true, .support = BAYES_SUPPORT_INT_BINARY, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpmf, .rng = rng, .check = check};
