/* optimize.h — posterior modes and the Laplace approximation. The optimizer runs L-BFGS
 * (lbfgs.h) on the negative log density over the unconstrained space: with the Jacobian of
 * the constraining transforms it finds the mode on the unconstrained space (what CmdStan
 * calls the MAP estimate, jacobian=1, and what a Laplace approximation there needs); without
 * it, the mode of the density of the constrained parameters (CmdStan's default jacobian=0,
 * which it calls the (penalised) maximum likelihood estimate). The Laplace approximation is
 * the Gaussian at the mode with the inverse of the negative Hessian, the Hessian taken by
 * finite differences of the AD gradient. Sees the model only through bayes.h; never prints.
 * Iterating never allocates. */
#ifndef BAYES_OPTIMIZE_H
#define BAYES_OPTIMIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <gsl/gsl_rng.h>

#include "approx.h"
#include "bayes.h"
#include "lbfgs.h"

typedef struct bayes_optimizer bayes_optimizer;

/* flags: BAYES_LD_* of the log density maximised (BAYES_LD_JACOBIAN or 0). NULL on out of
 * memory or a bad cfg. */
bayes_optimizer *bayes_optimizer_alloc(const bayes_model *m, const bayes_lbfgs_cfg *cfg,
                                       unsigned flags);
void bayes_optimizer_free(bayes_optimizer *o);
/* Starts at theta0 (unconstrained) or, if NULL, at uniform(-radius, radius) inits drawn
 * from rng, retried up to 100 times until the log density and gradient are finite (as
 * NUTS). Returns 0, or BAYES_EDATA with a plain-words message (naming the failing term). */
int bayes_optimizer_init(bayes_optimizer *o, const double *theta0, double radius,
                         gsl_rng *rng, char *err, size_t errlen);
/* One L-BFGS iteration: CONTINUE, or why it stopped (lbfgs.h). */
bayes_lbfgs_status bayes_optimizer_iterate(bayes_optimizer *o);
const double *bayes_optimizer_theta(const bayes_optimizer *o); /* current point */
double bayes_optimizer_lp(const bayes_optimizer *o);           /* log density there */
long bayes_optimizer_iterations(const bayes_optimizer *o);
long bayes_optimizer_evals(const bayes_optimizer *o);          /* gradient evaluations */

/* A constrained parameter whose mode is on the boundary of its support (or runs off to
 * infinity): the log density keeps increasing towards it, so the optimizer stops where the
 * gradient has become negligible (e.g. a log-transformed scale at exp(-18)) instead of at
 * an interior mode. Every coordinate of a parameter with a transform other than identity
 * whose unconstrained value is beyond BAYES_MODE_FAR is probed BAYES_MODE_PROBE further out
 * (towards the boundary); if the log density (flags) there is not lower, the mode is on the
 * boundary. Returns the parameter's index (bayes_model_param) with the coordinate in
 * *coord, or -1. An unbounded parameter may legitimately sit at any value: not checked. */
#define BAYES_MODE_FAR 8.0
#define BAYES_MODE_PROBE 5.0
long bayes_mode_on_boundary(const bayes_model *m, bayes_ws *w, const double *theta,
                            unsigned flags, size_t *coord);

/* The Hessian of the log density (flags BAYES_LD_*) at theta, dim x dim row-major, by
 * fourth-order central differences of the AD gradient with a step of 2^-10 max(1, |x_j|)
 * per coordinate (exact up to rounding, about 1e-11 relative, for a quadratic log density),
 * symmetrised. scratch: 2 * dim doubles. Returns 0, or BAYES_EDATA if a gradient was not
 * finite (message from bayes_ws_error in err). */
int bayes_hessian(bayes_ws *w, size_t dim, const double *theta, unsigned flags, double *H,
                  double *scratch, char *err, size_t errlen);

/* The Laplace approximation N(mode, Sigma), Sigma = (-H)^-1. */
typedef struct bayes_laplace bayes_laplace;
/* First refines the mode with up to BAYES_LAPLACE_NEWTON Newton steps (each taken only if
 * it raises the log density), so that the mean is the mode to rounding precision, not to
 * the optimizer's tolerance (exact after one step for a Gaussian posterior). Returns NULL
 * with *status BAYES_EDATA and a message when the negative Hessian is not positive
 * definite (a saddle point, a ridge, or a mode on a boundary), or -2 out of memory. */
#define BAYES_LAPLACE_NEWTON 3
bayes_laplace *bayes_laplace_alloc(const bayes_model *m, const double *mode, unsigned flags,
                                   int *status, char *err, size_t errlen);
void bayes_laplace_free(bayes_laplace *l);
const double *bayes_laplace_mean(const bayes_laplace *l);
const double *bayes_laplace_cov(const bayes_laplace *l);     /* dim x dim, row-major */
const double *bayes_laplace_hessian(const bayes_laplace *l); /* H (negative definite) */
int bayes_laplace_newton_steps(const bayes_laplace *l);      /* refinement steps taken */
/* Fills d (initialised with n draws of dimension dim) with draws, their normalised
 * log_q and the model's log_p (the flags of alloc). Returns 0. */
int bayes_laplace_draws(bayes_laplace *l, gsl_rng *rng, bayes_approx_draws *d);

#endif
