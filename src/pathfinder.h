/* pathfinder.h — Pathfinder variational inference (Zhang, Carpenter, Gelman & Vehtari 2022,
 * "Pathfinder: parallel quasi-Newton variational inference", JMLR 23(306)): along an
 * L-BFGS optimisation path, a Gaussian with the L-BFGS inverse-Hessian estimate
 * (diagonal plus low rank, their Alg. 2 and 4) at every iterate, the one with the highest
 * ELBO kept (Alg. 1); multi-path Pathfinder pools several independent paths and
 * importance-resamples them with PSIS (Alg. 5) — done by the caller with approx.h, so that
 * paths can run in threads. Sees the model only through bayes.h; never prints. */
#ifndef BAYES_PATHFINDER_H
#define BAYES_PATHFINDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "approx.h"
#include "bayes.h"
#include "lbfgs.h"

/* Settings, with CmdStan's defaults from bayes_pathfinder_defaults(). */
typedef struct {
  int num_paths;            /* 4 (used by the caller) */
  long num_draws;           /* 1000: draws returned (after resampling, multi-path) */
  long draws_per_path;      /* 1000: draws from each path's best approximation */
  int num_elbo_draws;       /* 25 */
  int history;              /* 5: (s, y) pairs of the inverse-Hessian estimate, and of
                             * L-BFGS itself (CmdStan's one history_size sets both:
                             * lbfgs.history is not used) */
  bool psis_resample;       /* true */
  double init_radius;       /* 2 */
  bayes_lbfgs_cfg lbfgs;    /* CmdStan's pathfinder defaults (max_iter 1000, the
                             * optimizer's tolerances and init_alpha) except tol_rel_obj =
                             * tol_rel_grad = 0: see bayes_pathfinder_defaults */
  unsigned flags;           /* BAYES_LD_* (JACOBIAN always set by the CLI) */
  uint64_t seed;
} bayes_pathfinder_cfg;

void bayes_pathfinder_defaults(bayes_pathfinder_cfg *cfg);

/* What one path found. */
typedef struct {
  long lbfgs_iter;          /* L-BFGS iterations */
  bayes_lbfgs_status lbfgs_status;
  long best_iter;           /* the iterate whose approximation had the highest ELBO */
  double best_elbo;
  long grad_evals;          /* log-density evaluations: inits and L-BFGS (with gradient),
                             * ELBO and returned draws (without) */
} bayes_pathfinder_info;

/* Runs path number `path` (0-based; its RNG stream is (cfg->seed, path), so the result
 * does not depend on which thread runs it) from init (unconstrained) or, if NULL, from
 * random inits uniform(-r, r) retried until finite (100 tries, as Stan's initialize;
 * one try with init or r = 0). Fills all d->n draws of d (initialised with
 * draws_per_path draws of dimension bayes_model_dim) with draws from the best
 * approximation, their log_q and the model's log_p (-inf where not finite). info may be
 * NULL. The method, CmdStan's differences and the ELBO rule are described at the top of
 * pathfinder.c. Returns 0; BAYES_EDATA with a plain-words message in err when the path
 * fails (no finite initial point; L-BFGS fails at the first iteration; no iterate has a
 * finite ELBO); BAYES_EINTERNAL when d->dim is not the model's dimension; -2 on out of
 * memory. */
int bayes_pathfinder_path(const bayes_model *m, const bayes_pathfinder_cfg *cfg, int path,
                          const double *init, bayes_approx_draws *d,
                          bayes_pathfinder_info *info, char *err, size_t errlen);

/* The same, also writing the chosen Gaussian's mean (bayes_model_dim values) and dense
 * covariance (dim x dim, row-major) when those are non-NULL: for tests and diagnostics
 * (the draws alone only estimate them; the covariance costs O(dim^2 history)). */
int bayes_pathfinder_path_gaussian(const bayes_model *m, const bayes_pathfinder_cfg *cfg,
                                   int path, const double *init, bayes_approx_draws *d,
                                   bayes_pathfinder_info *info, double *mean, double *cov,
                                   char *err, size_t errlen);

/* The Gaussian of Alg. 2 / 4 on its own, for tests: from J (s, y) pairs (S and Y hold J
 * rows of d values, oldest first, each with s'y > 0), the diagonal initial inverse
 * Hessian alpha (d, positive), an iterate x and the gradient g of -log p there, writes the
 * mean x - H g, the dense covariance H (d x d, row-major) and log det H (each if
 * non-NULL). Returns 0, -1 on bad pairs or a non-positive-definite H, -2 on out of
 * memory. */
int bayes_pathfinder_gaussian(size_t d, int J, const double *S, const double *Y,
                              const double *alpha, const double *x, const double *g,
                              double *mean, double *cov, double *logdet);

#endif
