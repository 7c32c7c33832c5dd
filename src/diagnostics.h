/* diagnostics.h — convergence diagnostics and summaries of MCMC draws, as R's posterior
 * package 1.4 computes them (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021,
 * "Rank-normalization, folding, and localization: an improved R-hat"), so that the
 * numbers equal posterior::summarise_draws on the same draws. Pure computation on
 * arrays: no I/O, no model. */
#ifndef BAYES_DIAGNOSTICS_H
#define BAYES_DIAGNOSTICS_H

#include <stdbool.h>
#include <stddef.h>

/* draws of one quantity: x[c][i], c < nchains, i < ndraws (every chain equally long) */
typedef struct {
  double mean, median, sd, mad;
  double q5, q50, q95;
  double mcse_mean, mcse_sd, mcse_q5, mcse_q50, mcse_q95;
  double rhat;       /* rank-normalised split R-hat (max of bulk and tail) */
  double ess_bulk, ess_tail, ess_mean, ess_sd;
} bayes_qsummary;

/* Fills every field (NaN where posterior returns NA: constant draws, a NaN draw, fewer
 * than 3 draws per split half; with 2-3 draws per chain ess_tail and mcse_q* keep
 * posterior's values, see diagnostics.c, copy_chains). work: scratch
 * of bayes_summary_work(nchains, ndraws) doubles. Returns 0, -1 on bad arguments. */
int bayes_summarise(const double *const *x, size_t nchains, size_t ndraws, double *work,
                    bayes_qsummary *out);
size_t bayes_summary_work(size_t nchains, size_t ndraws);

/* The individual measures, each as posterior defines it (NaN where it gives NA); work as
 * for bayes_summarise. */
double bayes_rhat(const double *const *x, size_t nchains, size_t ndraws, double *work);
double bayes_ess_bulk(const double *const *x, size_t nchains, size_t ndraws, double *work);
double bayes_ess_tail(const double *const *x, size_t nchains, size_t ndraws, double *work);
double bayes_ess_basic(const double *const *x, size_t nchains, size_t ndraws, bool split,
                       double *work);
double bayes_rhat_basic(const double *const *x, size_t nchains, size_t ndraws, bool split,
                        double *work);
/* quantile with R's type 7 (posterior's default) */
double bayes_quantile7(const double *sorted, size_t n, double p);

#endif
