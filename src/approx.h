/* approx.h — draws from an approximation of the posterior (Laplace, ADVI, Pathfinder), the
 * common currency of the approximate backends: unconstrained points with the model's log
 * density and the approximation's log density at each, from which PSIS k-hat and
 * importance-resampled draws follow. Sees the model only through bayes.h. */
#ifndef BAYES_APPROX_H
#define BAYES_APPROX_H

#include <stdbool.h>
#include <stddef.h>
#include <gsl/gsl_rng.h>

#include "bayes.h"

typedef struct {
  size_t dim, n;           /* unconstrained dimension, number of draws */
  double *theta;           /* n * dim, row-major */
  double *log_p;           /* n: the model's log density (with the Jacobian) at each draw;
                            * -inf where it is not finite */
  double *log_q;           /* n: the approximation's normalised log density at each draw */
} bayes_approx_draws;

/* Allocates room for n draws of dimension dim (zeroed). Returns 0, -2 on out of memory. */
int bayes_approx_draws_init(bayes_approx_draws *d, size_t dim, size_t n);
void bayes_approx_draws_destroy(bayes_approx_draws *d);

/* PSIS of the draws against the model: *khat = bayes_psis's k-hat of log_p - log_q, where
 * draws with log_p -inf or NaN have weight 0 (+Inf when it cannot be estimated: fewer than
 * 21 draws with finite log_p, or all ratios equal, e.g. log_q = log_p + const). If resample is non-NULL
 * it receives n draws resampled with the smoothed weights (bayes_psis_resample with rng:
 * multinomial, with replacement; rows of theta with their log_p and log_q); it must be
 * another set initialised with the same dim and n. Returns 0, -1 if no draw has a finite
 * log density or on bad input (log_p +inf, log_q not finite, resample mismatched or
 * aliasing d, rng NULL with resample), -2 on out of memory. */
int bayes_approx_psis(const bayes_approx_draws *d, gsl_rng *rng, double *khat,
                      bayes_approx_draws *resample);

#endif
