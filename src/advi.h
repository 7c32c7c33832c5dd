/* advi.h — automatic differentiation variational inference (Kucukelbir, Tran, Ranganath,
 * Gelman & Blei 2017, "Automatic differentiation variational inference", JMLR 18(14)), as
 * Stan implements it: a Gaussian on the unconstrained space, mean-field (mu, omega = log
 * sd) or full-rank (mu, lower-triangular L), the stochastic ELBO gradient by the
 * reparameterisation trick, Stan's adaptive step-size sequence with the eta scale chosen
 * from {100, 10, 1, 0.1, 0.01} by a short adaptation phase, convergence when the mean or
 * median relative ELBO change over a window falls below tol_rel_obj. alloc / init /
 * iterate / free: the caller owns the loop (progress, the ELBO trace file). Sees the model
 * only through bayes.h. Iterating never allocates; never prints. */
#ifndef BAYES_ADVI_H
#define BAYES_ADVI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "approx.h"
#include "bayes.h"

typedef enum { BAYES_ADVI_MEANFIELD, BAYES_ADVI_FULLRANK } bayes_advi_family;

/* Settings, with CmdStan's defaults from bayes_advi_defaults(). */
typedef struct {
  bayes_advi_family family; /* meanfield */
  long iter;                /* 10000: maximum iterations */
  int grad_samples;         /* 1: Monte Carlo draws per gradient */
  int elbo_samples;         /* 100: draws per ELBO estimate */
  double eta;               /* 1: step-size scale (used as is when adapt is false) */
  bool adapt;               /* true: choose eta by the adaptation phase */
  long adapt_iter;          /* 50: iterations per eta tried */
  double tol_rel_obj;       /* 0.01 */
  long eval_elbo;           /* 100: ELBO evaluated every eval_elbo iterations */
  double init_radius;       /* 2: mu starts uniform(-r, r) when no init is given */
  unsigned flags;           /* BAYES_LD_* (JACOBIAN always set by the CLI) */
  uint64_t seed;
} bayes_advi_cfg;

void bayes_advi_defaults(bayes_advi_cfg *cfg);

typedef enum {
  BAYES_ADVI_RUNNING = 0,
  BAYES_ADVI_CONVERGED_MEAN,    /* mean relative ELBO change below tol_rel_obj */
  BAYES_ADVI_CONVERGED_MEDIAN,  /* median relative ELBO change below tol_rel_obj */
  BAYES_ADVI_MAX_ITER,          /* not converged */
  BAYES_ADVI_FAILED             /* NaN/infinite ELBO or gradient, or no eta worked:
                                 * message in bayes_advi_error */
} bayes_advi_status;

/* One iteration's record, for the ELBO trace. */
typedef struct {
  long iter;                /* 1-based iteration of the main phase */
  double elbo;              /* NaN unless the ELBO was evaluated at this iteration */
  double rel_mean, rel_median; /* relative ELBO changes over the window (NaN until known) */
  long grad_evals;          /* log-density gradient evaluations so far */
} bayes_advi_record;

typedef struct bayes_advi bayes_advi;

bayes_advi *bayes_advi_alloc(const bayes_model *m, const bayes_advi_cfg *cfg);
void bayes_advi_free(bayes_advi *a);
/* Initial mean (unconstrained, or NULL for random inits retried until the log density is
 * finite, as NUTS), then the eta adaptation if cfg->adapt. Returns 0 or BAYES_EDATA with a
 * plain-words message in err (no finite initial point; every eta gave a non-finite ELBO). */
int bayes_advi_init(bayes_advi *a, const double *init, char *err, size_t errlen);
/* One stochastic-gradient step (and an ELBO evaluation every eval_elbo steps). Returns
 * RUNNING, or the final status. rec may be NULL. */
bayes_advi_status bayes_advi_iterate(bayes_advi *a, bayes_advi_record *rec);
const char *bayes_advi_error(const bayes_advi *a);   /* "" if none */
double bayes_advi_eta(const bayes_advi *a);          /* the eta in use */

/* The approximation: mean (dim) and, mean-field, sd (dim) or, full-rank, the lower
 * Cholesky factor L (dim * dim, row-major) of the covariance. */
const double *bayes_advi_mean(const bayes_advi *a);
const double *bayes_advi_sd(const bayes_advi *a);       /* NULL for full-rank */
const double *bayes_advi_chol(const bayes_advi *a);     /* NULL for mean-field */
/* An ELBO estimate with n draws (n = 0: cfg elbo_samples) at the current approximation. */
double bayes_advi_elbo(bayes_advi *a, int n);

/* Fills d (initialised with n draws of dimension bayes_model_dim) with draws from the
 * approximation, their log_q and the model's log_p. Returns 0 or -2. */
int bayes_advi_draws(bayes_advi *a, gsl_rng *rng, bayes_approx_draws *d);

/* Per-coordinate KL diagnostic of a mean-field fit ("posterior collapse"): for each
 * unconstrained coordinate i, KL( q_i || p_i ) where q_i = N(mean_i, sd_i^2) and p_i is
 * the prior conditional of coordinate i (BAYES_LD_PRIOR_ONLY, with the Jacobian) given the
 * other coordinates, averaged over ndraws draws of the others from q; the conditional is
 * normalised by one-dimensional quadrature. kl[i] is NaN where the conditional prior is
 * improper (not integrable). Returns 0, -2 on out of memory. */
int bayes_latent_kl(const bayes_model *m, const double *mean, const double *sd,
                    int ndraws, gsl_rng *rng, double *kl);
/* KL below which a coordinate is reported as collapsed onto its prior (nats). */
#define BAYES_LATENT_KL_COLLAPSED 0.01

#endif
