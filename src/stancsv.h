/* stancsv.h — writing draws in CmdStan's CSV format (one file per chain: the comment
 * header with the run's configuration and "(Default)" markers, the column names, the
 * adaptation block, the draws, the elapsed-time footer), so that rstan::read_stan_csv,
 * cmdstanpy, ArviZ and posterior read bayesrun's output unchanged; and reading such files
 * back for `bayesrun summary`. Files are written under a temporary name in the same
 * folder and renamed when complete: a killed run never leaves a file that looks whole. */
#ifndef BAYES_STANCSV_H
#define BAYES_STANCSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "util.h"
#include "nuts.h"

/* What the header says about the run. */
typedef struct {
  const char *model;          /* model name */
  const bayes_sampler_cfg *cfg;
  int num_chains;
  const char *data_file;      /* "" if none */
  const char *init;           /* "2" (the default radius) or a file name */
  const char *output_file;    /* the final file name, as CmdStan writes it */
  const char *method;         /* "sample" (NUTS/HMC) */
  int num_threads;
  bool save_warmup;           /* the caller writes warmup rows too (it also thins: the
                               * writer writes every row it is given) */
  const char *start_datetime; /* NULL: now, "YYYY-MM-DD HH:MM:SS UTC" (set by tests) */
  /* Methods other than sample (NUTS/HMC), with cfg NULL: */
  const char *method_config;  /* the method's settings, written verbatim after
                               * "# method = M" (lines "#   variational\n#     algorithm =
                               * meanfield (Default)\n...", nested as CmdStan prints them) */
  uint64_t seed;              /* the run's seed (cfg's when cfg is given) */
  const char *const *lead;    /* the method's own leading columns, e.g. "lp__" (optimize),
                               * "log_p__", "log_g__" (laplace); NULL: the seven sampler
                               * columns lp__ .. energy__ */
  size_t nlead;
} bayes_csv_header;

/* One "#<indent>key = value" header line, with " (Default)" when is_default, as CmdStan
 * nests its arguments (depth 1 under "method = ..."): for building method_config. */
void bayes_csv_kv(bayes_sb *sb, int depth, const char *key, const char *val, bool is_default);
void bayes_csv_kv_num(bayes_sb *sb, int depth, const char *key, double v, double dflt);
void bayes_csv_section(bayes_sb *sb, int depth, const char *name);

typedef struct bayes_csv_writer bayes_csv_writer;

/* Opens `path`.tmp.PID and writes the header and the column names: the seven sampler
 * columns lp__ .. energy__, then names[0..n-1] (Stan's "theta.1" style). Returns NULL
 * with a message in err on failure. */
bayes_csv_writer *bayes_csv_open(const char *path, const bayes_csv_header *h, size_t n,
                                 const char *const *names, char *err, size_t errlen);
/* The adaptation block written after the column names and before the first kept draw:
 * "# Adaptation terminated", "# Step size = ...", "# Diagonal elements of inverse mass
 * matrix:" (or "# Elements of inverse mass matrix:" with one line per row for dense). */
int bayes_csv_adaptation(bayes_csv_writer *w, double stepsize, const double *inv_metric,
                         size_t dim, bool dense);
/* Comment lines after the column names (each line of text is written as "# line"): the
 * result block of a method (e.g. the optimizer's stopping reason). 0, -1 on error. */
int bayes_csv_comment(bayes_csv_writer *w, const char *text);
/* One row of a method with its own leading columns: nlead values, then the n outputs. */
int bayes_csv_values(bayes_csv_writer *w, const double *lead, const double *values);
/* One row: the sampler record and the n output values (shortest exact decimal form;
 * treedepth__, n_leapfrog__, divergent__ as integers; nan, inf, -inf as CmdStan writes
 * them). Every row given is written: the caller thins, and passes warmup rows only when
 * h->save_warmup (before calling bayes_csv_adaptation). Returns 0, -1 on a write error. */
int bayes_csv_row(bayes_csv_writer *w, const bayes_draw *d, const double *values);
/* Writes the elapsed-time footer, flushes, fsyncs and renames to the final name.
 * Returns 0 or -1 with err. */
int bayes_csv_close(bayes_csv_writer *w, double warmup_seconds, double sampling_seconds,
                    char *err, size_t errlen);
/* Removes the temporary file (a run that failed or was interrupted) and frees w.
 * bayes_csv_abort(NULL) is a no-op. After bayes_csv_close (either result) w is freed. */
void bayes_csv_abort(bayes_csv_writer *w);

/* ---- Reading ----
 * A CmdStan sample CSV, from bayesrun or from CmdStan itself (2.x, booleans as 0/1 or
 * false/true) or rstan's sample_file: the comment header (key = value lines), the line of
 * column names, the optional adaptation block, the draws (warmup rows first when
 * save_warmup was on) and the elapsed-time footer. */
typedef struct {
  char *model;               /* "" if the header has none */
  char *method;              /* "sample", "optimize", ... ("" if absent) */
  char *engine;              /* "nuts" or "static" ("" if absent) */
  char *metric;              /* "diag_e", "dense_e", "unit_e" ("" if absent) */
  uint64_t seed;
  bool has_seed;
  int chain_id;              /* "id" (1 if absent) */
  long num_warmup, num_samples, thin; /* -1 if absent */
  int max_depth;             /* 10 if absent */
  bool save_warmup;
  size_t ncols;
  char **names;              /* ncols column names */
  size_t nrows;
  double *values;            /* nrows * ncols, row-major; warmup rows first */
  size_t nwarmup;            /* the first nwarmup rows are warmup draws (or, method
                              * variational, the approximation's mean written before the
                              * draws, as CmdStan does) */
  double stepsize;           /* from the adaptation block; NaN if there is none */
  double *inv_metric;        /* metric_len values (dense: dim*dim, row-major); or NULL */
  size_t metric_len;
  bool dense;
  double warmup_seconds, sampling_seconds; /* footer; NaN if absent */
  double psis_khat;          /* "# PSIS k-hat = X" after the column names; NaN if absent */
  bool psis_resampled;       /* "# PSIS resampled = 1" */
  char *failure;             /* "# Did not converge: ..." (NULL if absent) */
} bayes_csv_table;

void bayes_csv_table_init(bayes_csv_table *t);
void bayes_csv_table_destroy(bayes_csv_table *t);
/* Parses src (read with bayes_src_read, kept alive while d's messages are used) into t,
 * which must be initialised. Returns 0; BAYES_EDATA with located errors in d for a
 * malformed file (no column names, ragged rows, cells that are not numbers, a bad
 * adaptation block); BAYES_EINTERNAL when out of memory. On failure t is left empty. */
int bayes_csv_read(const bayes_src *src, bayes_csv_table *t, bayes_diag *d);
/* The index of a column by name, or -1. */
long bayes_csv_column(const bayes_csv_table *t, const char *name);

#endif
