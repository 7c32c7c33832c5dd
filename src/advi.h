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
  bool precondition;        /* true (not Stan's): run on z = (theta - mode) / sd with the
                             * Laplace approximation's mode and sds, from N(0, I) on z;
                             * off, or when no interior mode is found: Stan's ADVI */
  unsigned flags;           /* BAYES_LD_* (JACOBIAN is always added: the approximation
                             * lives on the unconstrained space) */
  uint64_t seed;            /* the RNG is bayes_rng_alloc(seed, 1): CmdStan runs
                             * variational as chain id 1, so the random initial point is
                             * the one NUTS chain 1 gets from the same seed */
} bayes_advi_cfg;

void bayes_advi_defaults(bayes_advi_cfg *cfg);

typedef enum {
  BAYES_ADVI_RUNNING = 0,
  BAYES_ADVI_CONVERGED_MEAN,    /* mean relative ELBO change below tol_rel_obj (reported
                                 * when both the mean and the median are) */
  BAYES_ADVI_CONVERGED_MEDIAN,  /* median relative ELBO change below tol_rel_obj */
  BAYES_ADVI_MAX_ITER,          /* not converged */
  BAYES_ADVI_FAILED             /* a gradient estimate dropped 10 * grad_samples draws
                                 * with a non-finite log density or gradient, or an ELBO
                                 * estimate dropped elbo_samples draws (Stan's limits), or
                                 * the ELBO, its gradient or the approximation became
                                 * NaN/infinite: a one-line message in bayes_advi_error,
                                 * with the model's reason for the last bad draw */
} bayes_advi_status;

/* One iteration's record, for the ELBO trace. */
typedef struct {
  long iter;                /* 1-based iteration of the main phase */
  double elbo;              /* NaN unless the ELBO was evaluated at this iteration */
  double rel_mean, rel_median; /* mean and median relative ELBO change |(prev - elbo) / elbo|
                             * over the window of the last max(0.1 iter / eval_elbo, 2);
                             * the latest values (NaN before the first ELBO). As in Stan,
                             * the first change is 1 (the previous ELBO starts at 0) and
                             * the median of an even count is the upper middle value */
  long grad_evals;          /* log-density evaluations with gradient since init: the
                             * initial point's tries, the eta search, the iterations
                             * (dropped draws included); not the value-only ELBO draws */
} bayes_advi_record;

typedef struct bayes_advi bayes_advi;

/* NULL on out of memory or invalid settings (iter, grad_samples, elbo_samples, eval_elbo
 * < 1; tol_rel_obj <= 0; init_radius < 0; adapt_iter < 1 with adapt; eta <= 0 without). */
bayes_advi *bayes_advi_alloc(const bayes_model *m, const bayes_advi_cfg *cfg);
void bayes_advi_free(bayes_advi *a);
/* Initial mean (unconstrained, or NULL for random inits uniform(-r, r) retried up to 100
 * times until the log density and its gradient are finite, as NUTS); the approximation
 * starts there with omega = 0 (sd 1) or L = I. Then, if cfg->adapt, Stan's eta search: each
 * eta of {100, 10, 1, 0.1, 0.01} runs adapt_iter steps from the initial approximation and
 * ends with an ELBO estimate; the search stops at the first eta whose ELBO is below the
 * previous eta's while that one beat the initial ELBO, keeping the previous eta; the last
 * eta is kept if its ELBO beats the initial one; else every eta failed (so a model without
 * parameters, whose ELBO cannot change, always fails it, as in Stan). The approximation is
 * then reset to the initial one. May be called again to restart. Returns 0 or BAYES_EDATA
 * with a plain-words message in err (and bayes_advi_error): no finite initial point; the
 * initial ELBO cannot be estimated; no eta beat the initial ELBO. */
int bayes_advi_init(bayes_advi *a, const double *init, char *err, size_t errlen);
/* One stochastic-gradient step (and an ELBO evaluation every eval_elbo steps). Returns
 * RUNNING, or the final status (CONVERGED_* when the window's mean or median change is
 * below tol_rel_obj at an ELBO evaluation, MAX_ITER at iteration cfg->iter, FAILED); once
 * final, further calls return it again without work. Before a successful init: FAILED.
 * rec may be NULL. */
bayes_advi_status bayes_advi_iterate(bayes_advi *a, bayes_advi_record *rec);
const char *bayes_advi_error(const bayes_advi *a);   /* "" if none */
double bayes_advi_eta(const bayes_advi *a);          /* the eta in use */

/* The approximation on the unconstrained space: mean (dim) and, mean-field, sd (dim) or,
 * full-rank, the lower Cholesky factor L (dim * dim, row-major) of the covariance. They
 * are computed into buffers of a (hence not const), valid until the next call. */
const double *bayes_advi_mean(bayes_advi *a);
const double *bayes_advi_sd(bayes_advi *a);       /* NULL for full-rank */
const double *bayes_advi_chol(bayes_advi *a);     /* NULL for mean-field */
bool bayes_advi_preconditioned(const bayes_advi *a);    /* the Laplace map was used */
/* An ELBO estimate with n draws (n = 0: cfg elbo_samples) at the current approximation,
 * with the algorithm's own RNG (so it changes the rest of the run); Stan's rule for draws
 * with a non-finite log density (dropped and redrawn, at most n). NaN if that fails, or
 * before init. */
double bayes_advi_elbo(bayes_advi *a, int n);

/* Fills d (initialised with d->n draws of dimension bayes_model_dim) with draws from the
 * approximation (with rng, or the algorithm's own if NULL), their log_q and the model's
 * log_p (cfg flags with the Jacobian; -inf where not finite). log_q is the NORMALISED
 * Gaussian log density -d/2 log(2 pi) - log|det L| - |L^-1 (theta - mu)|^2 / 2, not Stan's
 * log_g column (which is -|L^-1 (theta - mu)|^2 / 2 only). Returns 0, or -1 if d's
 * dimension differs or before init. Never allocates. */
int bayes_advi_draws(bayes_advi *a, gsl_rng *rng, bayes_approx_draws *d);

/* Per-coordinate KL diagnostic of a mean-field fit ("posterior collapse"): for each
 * unconstrained coordinate i, KL( q_i || p_i ) where q_i = N(mean_i, sd_i^2) and p_i is
 * the prior conditional of coordinate i (BAYES_LD_PRIOR_ONLY | BAYES_LD_JACOBIAN) given the
 * other coordinates, averaged over ndraws (>= 1) draws of the others from q (one draw of
 * all coordinates serves every i; rng advances). Per coordinate and draw: the
 * conditional's mode and scale (safeguarded Newton on the AD gradient), log Z by
 * double-exponential quadrature (split at the mode if it is a kink), E_q[log p_i] by
 * 20-point Gauss-Hermite quadrature: about 80-110 prior-only evaluations for smooth
 * conditionals (up to ~300 for kinked ones such as laplace), so about
 * 100 * ndraws * dim in all. kl[i] is NaN where the conditional prior is improper (flat,
 * or tails that do not die out), or cannot be evaluated; +inf where it is zero somewhere q
 * is not. Accuracy: ~1e-9 absolute on smooth conditionals (up to the rounding of f's
 * other terms). Allocates its own workspace. Returns 0, -2 on out of memory (-1 if the
 * quadrature nodes cannot be computed, which does not happen). */
int bayes_latent_kl(const bayes_model *m, const double *mean, const double *sd,
                    int ndraws, gsl_rng *rng, double *kl);
/* KL below which a coordinate is reported as collapsed onto its prior (nats). */
#define BAYES_LATENT_KL_COLLAPSED 0.01

#endif
