/* flat.c — flat(): the improper uniform density on the real line, log density 0 and no
 * parameters. It has no CDF and no draws; it must never pretend to be normalisable. */
#include "dist_util.h"

static double lpdf(const bayes_dargs *d)
{
  double sum = 0;
  for (size_t i = 0; i < d->n; i++) {
    double y = d->a[0].x[i * d->a[0].inc], lp = isnan(y) ? NAN : 0.0;
    if (d->pw) d->pw[i] = lp;
    sum += lp;
  }
  return sum; /* the partial in y is 0: nothing to add */
}

const bayes_dist bayes_dist_flat = {
    .name = "flat", .nparams = 0, .nparams_min = 0, .support = BAYES_SUPPORT_REAL,
    .kind = BAYES_DIST_UNIVARIATE, .lpdf = lpdf};
