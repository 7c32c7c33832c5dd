/* psis.h — Pareto smoothed importance sampling: the k-hat diagnostic of how well a proposal
 * (an approximation) covers a target, smoothed importance weights, and importance
 * resampling. Vehtari, Simpson, Gelman, Yao & Gabry (2024), "Pareto smoothed importance
 * sampling", JMLR 25(72); the generalized Pareto fit of Zhang & Stephens (2009),
 * Technometrics 51(3), with the weakly informative prior on k used by R's loo package, so
 * that k-hat equals loo::psis(r_eff = 1)'s pareto_k. Not a hot path: allocates its own
 * scratch; never prints. */
#ifndef BAYES_PSIS_H
#define BAYES_PSIS_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

/* k-hat above which importance sampling (and so the approximation) is unreliable. */
#define BAYES_PSIS_KHAT_BAD 0.7

/* Smooths log importance ratios log_ratio[0..n-1] (log target - log proposal; constants
 * do not matter): the largest M = min(0.2 n, 3 sqrt(n)) ratios are replaced by expected
 * order statistics of the fitted generalized Pareto distribution, truncated at the largest
 * raw ratio. Writes normalised log weights (log-sum-exp 0) to log_w (may alias log_ratio)
 * and the shape estimate to *khat (as loo: when the tail is too short to fit, the weights
 * are the raw normalised ratios and *khat is NaN... say exactly what loo does). Ratios of
 * -inf are weight 0; NaN or +inf ratios, or all -inf, give -1. Returns 0, -1 on bad input,
 * -2 on out of memory. */
int bayes_psis(const double *log_ratio, size_t n, double *log_w, double *khat);

/* Draws m indices in [0, n) with replacement with probabilities exp(log_w) (normalised),
 * (multinomial resampling, as CmdStan's pathfinder). Returns 0, -1 on bad input, -2 on out of memory. */
int bayes_psis_resample(const double *log_w, size_t n, gsl_rng *rng, size_t m, size_t *idx);

/* ESS of normalised weights, 1 / sum w^2. */
double bayes_psis_ess(const double *log_w, size_t n);

#endif
