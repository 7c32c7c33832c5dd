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
 * do not matter) as loo 2.5.1's psis(r_eff = 1) (Vehtari et al. 2024): of the S finite
 * ratios, the largest M = ceil(min(0.2 S, 3 sqrt(S))) are replaced by
 * cutoff + F^-1((z - 1/2) / M), z = 1..M, with F the generalized Pareto fitted to their
 * exceedances over the cutoff (the (M+1)-th largest ratio, on the ratio scale), then
 * truncated at the largest raw ratio. Ties are ordered by index, as R's order(). Writes
 * normalised log weights (log-sum-exp 0) to log_w (may alias log_ratio) and loo's pareto_k
 * to *khat: the fitted shape with loo's prior, (M k + 10 * 0.5) / (M + 10).
 * As loo, *khat is +Inf and log_w the raw ratios normalised (no smoothing, no truncation)
 * when the tail is too short (M < 5, i.e. S <= 20), when the M tail ratios are all equal
 * as ratios (after exp; so constant ratios, even a perfect proposal, give +Inf), or when
 * the fit breaks down: the first quartile of the exceedances, their floor(M/4 + 1/2)-th
 * smallest, is 0 (that many tail ratios tie with the cutoff), or the fit is not finite.
 * Ratios of -inf (target density 0) are left out (S counts only finite ratios; loo
 * rejects -inf) and get log weight -inf.
 * NaN or +inf ratios, all -inf, or n = 0 give -1. Returns 0, -1 on bad input, -2 on out
 * of memory. */
int bayes_psis(const double *log_ratio, size_t n, double *log_w, double *khat);

/* Draws m indices in [0, n) with replacement with probabilities exp(log_w) (normalised
 * here, so log_w need not be), multinomial resampling as CmdStan's pathfinder: one
 * gsl_rng_uniform per index, located in the cumulative weights by bisection, so the
 * result depends only on the rng state. Indices of weight 0 are never drawn. NaN or +inf
 * weights, all weights 0, n = 0 or m > 0 with idx NULL give -1. Returns 0, -1 on bad
 * input, -2 on out of memory. */
int bayes_psis_resample(const double *log_w, size_t n, gsl_rng *rng, size_t m, size_t *idx);

/* Effective sample size of the weights exp(log_w) normalised here: 1 / sum w^2 (between 1
 * and n). NaN on the inputs bayes_psis_resample rejects. */
double bayes_psis_ess(const double *log_w, size_t n);

#endif
