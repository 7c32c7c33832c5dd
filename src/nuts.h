/* nuts.h — the gradient-based MCMC backends: NUTS as in Stan (multinomial sampling,
 * biased progressive sampling at the top level, generalised U-turn criterion across
 * subtrees, divergence at an energy error above 1000) and static HMC, with Stan's warmup
 * (step-size heuristic, dual averaging, windowed metric adaptation). Sees the model only
 * through bayes.h. alloc / init / iterate / free, like GSL's iterative solvers: the
 * caller owns the loop (and so progress display, threads and output). Iterating never
 * allocates. One sampler per chain; chains share nothing but the immutable model. */
#ifndef BAYES_NUTS_H
#define BAYES_NUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bayes.h"

typedef enum { BAYES_ALGO_NUTS, BAYES_ALGO_HMC } bayes_algo;
typedef enum { BAYES_METRIC_DIAG, BAYES_METRIC_DENSE, BAYES_METRIC_UNIT } bayes_metric_kind;

/* Settings, with Stan's defaults from bayes_sampler_defaults(). */
typedef struct {
  bayes_algo algo;
  bayes_metric_kind metric;
  long warmup;              /* 1000 */
  long draws;               /* 1000 */
  long thin;                /* 1; iterate runs all warmup + draws iterations and the
                             * caller keeps every thin-th sampling iteration */
  int max_depth;            /* 10 */
  double hmc_int_time;      /* static HMC: integration time, 2 pi */
  double stepsize;          /* initial step size, 1 */
  double stepsize_jitter;   /* 0 */
  bool adapt;               /* true */
  double delta;             /* 0.8 target acceptance */
  double gamma, kappa, t0;  /* 0.05, 0.75, 10 */
  long init_buffer, term_buffer, window; /* 75, 50, 25 */
  double init_radius;       /* 2: inits uniform(-2, 2) on the unconstrained scale */
  unsigned flags;           /* BAYES_LD_* passed to the log density (JACOBIAN always set;
                             * PRIOR_ONLY for --prior) */
  uint64_t seed;
  int chain;                /* 1-based chain id; the RNG stream is derived from (seed, chain) */
} bayes_sampler_cfg;

void bayes_sampler_defaults(bayes_sampler_cfg *cfg);

/* One iteration's record: the sampler diagnostics columns of CmdStan's CSV. theta points
 * into the sampler (valid until the next iterate). */
typedef struct {
  double lp, accept_stat, stepsize, energy;
  int treedepth, n_leapfrog;
  bool divergent;
  bool warmup;              /* this iteration was a warmup iteration */
  long iteration;           /* 0-based, warmup first */
  const double *theta;      /* unconstrained position */
} bayes_draw;

typedef struct bayes_sampler bayes_sampler;

/* NULL on out-of-memory or an invalid cfg (negative counts, step size <= 0). */
bayes_sampler *bayes_sampler_alloc(const bayes_model *m, const bayes_sampler_cfg *cfg);
void bayes_sampler_free(bayes_sampler *s);

/* Initial point: `init` (unconstrained, length bayes_model_dim) or, if NULL, Stan's
 * random inits: uniform(-r, r) per coordinate, retried up to 100 times until the log
 * density and its gradient are finite (r = 0: the single point 0). Then, if adapting with
 * warmup > 0, the step-size heuristic (as Stan). Returns 0, or BAYES_EDATA with a message
 * in err naming the term that was -inf/NaN and at what values (from bayes_ws_error), once.
 * May be called again to restart the chain (metric reset to the identity). */
int bayes_sampler_init(bayes_sampler *s, const double *init, char *err, size_t errlen);

/* Advances one iteration (warmup iterations first, adapting; then sampling iterations).
 * Returns 1 while iterations remain after this one, 0 after the last, -1 on a failure
 * (no successful init, or no usable step size / metric after a window: the message is in
 * bayes_sampler_error). d may be NULL. */
int bayes_sampler_iterate(bayes_sampler *s, bayes_draw *d);

/* Adaptation results (for the CSV's adaptation block): the step size, and the inverse
 * metric (diagonal: dim values; dense: dim*dim, row-major). */
double bayes_sampler_stepsize(const bayes_sampler *s);
const double *bayes_sampler_inv_metric(const bayes_sampler *s);
/* The chain's RNG, for generated quantities of kept draws (same stream, so that draws
 * are reproducible from (seed, chain) alone). */
gsl_rng *bayes_sampler_rng(bayes_sampler *s);
/* Log-density gradient evaluations so far, initialisation and step-size heuristic
 * included (Stan's n_leapfrog__ counts only the leapfrogs of transitions). */
long bayes_sampler_grad_evals(const bayes_sampler *s);
/* Why the last bayes_sampler_iterate returned -1 (e.g. the step-size heuristic found no
 * usable step size after a metric update); "" if nothing failed. */
const char *bayes_sampler_error(const bayes_sampler *s);

#endif
