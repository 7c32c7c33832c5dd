/* summary.h — the run summary shown after a fit and by `bayesrun summary`: per quantity
 * mean, sd, MCSE, 5/50/95% quantiles, ESS_bulk, ESS_tail and R-hat (computed by
 * diagnostics.h), the sampler's own diagnostics (divergences, tree-depth saturation,
 * E-BFMI per chain), warnings in plain sentences, and the same as summary.json. Works on
 * draws in memory, whichever backend or file they came from; prints nothing.
 * Ownership: bayes_summary_compute's result is freed with bayes_summary_free; strings
 * returned by bayes_summary_text / bayes_summary_json are freed with bayes_free. */
#ifndef BAYES_SUMMARY_H
#define BAYES_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diagnostics.h"

/* Thresholds of the warnings (as CmdStan's diagnose and posterior recommend). */
#define BAYES_SUMMARY_RHAT_MAX 1.01
#define BAYES_SUMMARY_ESS_MIN 400.0
#define BAYES_SUMMARY_EBFMI_MIN 0.3
/* Quantities named in one grouped R-hat or ESS warning (the worst ones). */
#define BAYES_SUMMARY_WORST_SHOWN 3

/* The draws of a run: per chain a row-major ndraws x ncols matrix with CmdStan's column
 * names (a bayes_csv_table's values past its warmup rows have this layout). Columns whose
 * names end in "__" are the sampler's: lp__ is summarised like a quantity, the others
 * (accept_stat__, stepsize__, treedepth__, n_leapfrog__, divergent__, energy__) feed the
 * sampler diagnostics when present and are not summarised. */
typedef struct {
  const char *method;            /* "nuts", "hmc", "advi", ... */
  size_t nchains, ndraws, ncols; /* ndraws kept draws per chain */
  const char *const *names;      /* ncols */
  const double *const *chains;   /* nchains pointers to ndraws * ncols values */
  long warmup;                   /* warmup iterations per chain; -1 unknown */
  uint64_t seed;
  bool has_seed;
  int max_depth;                 /* NUTS tree-depth limit (0: 10) */
  const double *warmup_seconds;  /* nchains values, or NULL if unknown */
  const double *sampling_seconds;/* nchains values, or NULL */
  double total_seconds;          /* wall-clock time of the run; NaN: the longest chain */
  /* Approximate methods (optimize, laplace, advi, pathfinder): */
  bool approximate;              /* the draws come from an approximation or are a mode */
  const char *failure;           /* NULL, or why the run did not converge (plain words):
                                  * the summary is marked "did not converge" */
  double psis_khat;              /* PSIS k-hat of the approximation (NaN: not estimated) */
  bool psis_resampled;           /* the draws were importance-resampled */
  const char *details_text;      /* the method's own report, printed after the table */
  const char *details_json;      /* members of summary.json's "details" object, e.g.
                                  * "\"iterations\": 31, \"elbo\": -12.5" (or NULL) */
  const char *const *notes;      /* the method's own warnings (plain sentences) */
  size_t nnotes;
} bayes_summary_input;

/* k-hat above which the summary warns that an approximation is unreliable (Vehtari et al.
 * 2024, "Pareto smoothed importance sampling", JMLR 25(72), section 3.2.4). */
#define BAYES_SUMMARY_KHAT_MAX 0.7

typedef struct {
  char *method;
  size_t nchains, ndraws;
  long warmup;
  uint64_t seed;
  bool has_seed;
  size_t nq;                     /* summarised quantities */
  char **names;                  /* nq */
  bayes_qsummary *q;             /* nq */
  bool has_divergent, has_treedepth; /* the sampler columns were there */
  long divergences;              /* transitions with divergent__ = 1 (all chains) */
  long treedepth_hits;           /* transitions with treedepth__ >= max_depth */
  int max_depth;
  double *ebfmi;                 /* nchains values (NaN where there is no energy__) */
  bool has_energy;
  double *warmup_seconds, *sampling_seconds; /* nchains values (NaN unknown) */
  double total_seconds;
  bool approximate;
  char *failure;                 /* NULL when the run converged */
  double psis_khat;
  bool psis_resampled;
  char *details_text, *details_json; /* NULL if none */
  size_t nnotes;
  char **notes;
  size_t nwarnings;
  char **warnings;               /* each one or two plain sentences */
} bayes_run_summary;

/* Summarises the draws. Returns NULL with a message in err on bad input (no chains, no
 * draws, a NULL pointer) or out of memory. */
bayes_run_summary *bayes_summary_compute(const bayes_summary_input *in, char *err,
                                         size_t errlen);
void bayes_summary_free(bayes_run_summary *s);

/* Rebuilds s->warnings from the figures in s (compute calls it; tests change figures
 * and call it again). Returns 0, -1 on out of memory. */
int bayes_summary_warnings(bayes_run_summary *s);

/* E-BFMI of one chain's energy__ values (n of them, stride apart):
 * sum_t (E_t - E_{t-1})^2 / sum_t (E_t - mean E)^2, the estimator of Betancourt 2016,
 * "Diagnosing suboptimal cotangent disintegrations in HMC" (arXiv:1604.00695). ArviZ's
 * bfmi (mean squared difference over the variance) is this times n / (n - 1). NaN for
 * n < 2 or constant energy. */
double bayes_ebfmi(const double *energy, size_t n, size_t stride);

/* The terminal summary: a one-line description of the run, the aligned table (name,
 * mean, sd, mcse, q5, q50, q95, ess_bulk, ess_tail, rhat; NA where undefined) and the
 * warnings, one paragraph each. NULL on out of memory. */
char *bayes_summary_text(const bayes_run_summary *s);
/* summary.json (one object; NaN and infinities as null). NULL on out of memory. */
char *bayes_summary_json(const bayes_run_summary *s);
/* Writes bayes_summary_json to path through a temporary file in the same folder, renamed
 * when complete. Returns 0, or -1 with a message in err. */
int bayes_summary_write_json(const bayes_run_summary *s, const char *path, char *err,
                             size_t errlen);

#endif
