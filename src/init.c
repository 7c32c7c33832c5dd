/* init.c — Stan's initialize() for every backend (init.h). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <gsl/gsl_randist.h>

#include "init.h"

int bayes_initialize(bayes_ws *w, size_t n, unsigned flags, const double *init,
                     double radius, gsl_rng *rng, double *theta, double *grad, double *lp,
                     long *evals, char *err, size_t errlen)
{
  int tries = init || radius == 0 ? 1 : BAYES_INIT_TRIES;
  char why[200] = "";
  for (int t = 0; t < tries; t++) {
    for (size_t i = 0; i < n; i++)
      theta[i] = init ? init[i] : radius == 0 ? 0.0 : gsl_ran_flat(rng, -radius, radius);
    double v = NAN;
    if (bayes_ws_log_density(w, theta, flags, &v, grad) != 0) v = NAN;
    if (evals) (*evals)++;
    *lp = v;
    size_t bad = n;
    if (isfinite(v)) {
      for (size_t i = 0; i < n && bad == n; i++)
        if (!isfinite(grad[i])) bad = i;
      if (bad == n) return 0;
    }
    const char *reason = bayes_ws_error(w);
    if (reason && *reason)
      snprintf(why, sizeof why, "%s", reason);
    else if (!isfinite(v))
      snprintf(why, sizeof why, "the log density is %s", isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf");
    else
      snprintf(why, sizeof why, "element %zu of the gradient is %g", bad + 1, grad[bad]);
  }
  if (err && errlen) {
    if (init)
      snprintf(err, errlen, "Initialization failed at the given initial values: the log "
                            "density or its gradient is not finite there. Problem: %s", why);
    else
      snprintf(err, errlen, "Initialization failed after %d attempt%s: the log density is "
                            "-inf (or NaN) at every try. Last problem: %s",
               tries, tries == 1 ? "" : "s", why);
  }
  return BAYES_EDATA;
}
