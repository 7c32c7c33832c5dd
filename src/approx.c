/* approx.c — draws from a posterior approximation and their PSIS diagnostics (approx.h). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "approx.h"
#include "util.h"

int bayes_approx_draws_init(bayes_approx_draws *d, size_t dim, size_t n)
{
  memset(d, 0, sizeof *d);
  d->dim = dim;
  d->n = n;
  d->theta = bayes_calloc(n * dim + 1, sizeof *d->theta);
  d->log_p = bayes_calloc(n + 1, sizeof *d->log_p);
  d->log_q = bayes_calloc(n + 1, sizeof *d->log_q);
  if (!d->theta || !d->log_p || !d->log_q) {
    bayes_approx_draws_destroy(d);
    return -2;
  }
  return 0;
}

void bayes_approx_draws_destroy(bayes_approx_draws *d)
{
  bayes_free(d->theta);
  bayes_free(d->log_p);
  bayes_free(d->log_q);
  memset(d, 0, sizeof *d);
}
