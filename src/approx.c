/* approx.c — draws from a posterior approximation and their PSIS diagnostics (approx.h). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "approx.h"
#include "psis.h"
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

int bayes_approx_psis(const bayes_approx_draws *d, gsl_rng *rng, double *khat,
                      bayes_approx_draws *resample)
{
  if (!d || !khat || d->n == 0) return -1;
  if (resample && (resample == d || !rng || resample->dim != d->dim ||
                   resample->n != d->n))
    return -1;
  size_t n = d->n, dim = d->dim, nfinite = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(d->log_q[i]) || d->log_p[i] == INFINITY) return -1;
    if (isfinite(d->log_p[i])) nfinite++;
  }
  if (nfinite == 0) return -1;
  double *lw = bayes_malloc(n * sizeof *lw);
  size_t *idx = resample ? bayes_malloc(n * sizeof *idx) : NULL;
  if (!lw || (resample && !idx)) {
    bayes_free(lw);
    bayes_free(idx);
    return -2;
  }
  /* a draw where the model's density is 0 (or could not be evaluated) has weight 0 */
  for (size_t i = 0; i < n; i++)
    lw[i] = isfinite(d->log_p[i]) ? d->log_p[i] - d->log_q[i] : -INFINITY;
  int rc = bayes_psis(lw, n, lw, khat);
  if (rc == 0 && resample) rc = bayes_psis_resample(lw, n, rng, n, idx);
  if (rc == 0 && resample) {
    for (size_t j = 0; j < n; j++) {
      size_t i = idx[j];
      memcpy(resample->theta + j * dim, d->theta + i * dim, dim * sizeof *d->theta);
      resample->log_p[j] = d->log_p[i];
      resample->log_q[j] = d->log_q[i];
    }
  }
  bayes_free(lw);
  bayes_free(idx);
  return rc;
}
