/* init.h — Stan's initialize(), the initial point of every backend: given values, or
 * uniform(-R, R) per unconstrained coordinate retried until the log density and its
 * gradient are finite. One copy for NUTS, the optimizer, ADVI and Pathfinder, so that they
 * start alike and fail with the same message. Sees the model only through bayes.h. */
#ifndef BAYES_INIT_H
#define BAYES_INIT_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

#include "bayes.h"

#define BAYES_INIT_TRIES 100  /* Stan's services/util/initialize.hpp */

/* theta = init (one try), the point 0 (radius 0: one try) or uniform(-radius, radius)
 * drawn from rng coordinate by coordinate, up to BAYES_INIT_TRIES times, until the log
 * density (flags) and its gradient are finite. Leaves the point in theta, its gradient in
 * grad and its log density in *lp; adds the evaluations to *evals (may be NULL). Returns 0,
 * or BAYES_EDATA with Stan's message in err ("Initialization failed after 100 attempts:
 * ... Last problem: WHY", WHY the model's reason from bayes_ws_error or the non-finite
 * value). Allocates nothing. */
int bayes_initialize(bayes_ws *w, size_t n, unsigned flags, const double *init,
                     double radius, gsl_rng *rng, double *theta, double *grad, double *lp,
                     long *evals, char *err, size_t errlen);

#endif
