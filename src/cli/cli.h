/* cli.h — the bayesrun command-line program: subcommands, shared option handling and
 * output helpers. The CLI prints and exits; the library never does. */
#ifndef BAYES_CLI_H
#define BAYES_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bayes.h"
#include "util.h"

/* sysexits.h values */
#define EX_OK_ 0
#define EX_USAGE_ 64
#define EX_DATAERR_ 65
#define EX_NOINPUT_ 66
#define EX_UNAVAILABLE_ 69
#define EX_SOFTWARE_ 70
#define EX_CANTCREAT_ 73
#define EX_IOERR_ 74

typedef struct {
  const char *model;
  const char *data;
  bool verbose;
} cli_common;

int cli_check(int argc, char **argv);
int cli_logdensity(int argc, char **argv);
int cli_graph(int argc, char **argv);
int cli_fit(int argc, char **argv);      /* cmd_fit.c: bayesrun MODEL.yaml */
int cli_summary(int argc, char **argv);  /* cmd_summary.c: bayesrun summary */

/* ---- bayesrun MODEL.yaml: the fit options (cmd_fit.c parses them; cmd_approx.c runs the
 * approximate methods) ---- */

/* Methods, as bits (which options apply to which method). */
enum {
  CLI_M_NUTS = 1, CLI_M_HMC = 2, CLI_M_OPTIMIZE = 4, CLI_M_LAPLACE = 8, CLI_M_ADVI = 16,
  CLI_M_PATHFINDER = 32, CLI_M_SMC = 64, CLI_M_SEQUENTIAL = 128
};
#define CLI_M_SAMPLE (CLI_M_NUTS | CLI_M_HMC)
#define CLI_M_ALL 0xff

/* The settings of the approximate methods: one table (cmd_fit.c) gives each its flag,
 * its key in the file's `inference:` section, its type and range and the methods it
 * applies to. */
typedef enum {
  CLI_O_FAMILY, CLI_O_ITER, CLI_O_TOL_OBJ, CLI_O_TOL_REL_OBJ, CLI_O_TOL_GRAD,
  CLI_O_TOL_REL_GRAD, CLI_O_TOL_PARAM, CLI_O_HISTORY, CLI_O_INIT_ALPHA, CLI_O_JACOBIAN,
  CLI_O_ETA, CLI_O_ADAPT_ITER, CLI_O_GRAD_SAMPLES, CLI_O_ELBO_SAMPLES, CLI_O_EVAL_ELBO,
  CLI_O_PATHS, CLI_O_DRAWS_PER_PATH, CLI_O_ELBO_DRAWS, CLI_O_PSIS_RESAMPLE, CLI_O_KL_DRAWS, CLI_O_PRECONDITION,
  CLI_NOPT
} cli_opt_id;

typedef struct {
  const char *method, *data, *outdir, *init, *metric;
  unsigned mbit;               /* CLI_M_* of method */
  long chains, threads, warmup, draws, thin, max_depth, seed;
  double adapt_delta, stepsize;
  bool has_chains, has_threads, has_warmup, has_draws, has_thin, has_max_depth, has_seed;
  bool has_adapt_delta, has_stepsize, prior, quiet, verbose, fail_on_warnings;
  const char *model_path;
  bool method_from_flag;
  /* the approximate methods' settings: given[] says which were set (flag or file) */
  bool given[CLI_NOPT];
  double num[CLI_NOPT];        /* numbers, and 0/1 for booleans */
  const char *str[CLI_NOPT];   /* strings (family) */
} cli_fit_opts;

/* The run's seed: --seed, or a new one, printed. */
uint64_t cli_seed(const cli_fit_opts *o);
/* --init: a radius >= 0 (into *radius) or a JSON file of parameter values (into *theta,
 * malloc'd, bayes_model_dim values). Returns 0 or an exit code, messages printed. */
int cli_init_values(const bayes_model *m, const char *init, double *radius, double **theta);
/* cmd_approx.c: runs optimize, laplace, advi or pathfinder; returns the exit code. */
int cli_fit_approx(const bayes_model *m, cli_fit_opts *o);
/* Pathfinder's draws as NUTS inits (--init pathfinder): nchains unconstrained points
 * (nchains * bayes_model_dim values, malloc'd into *thetas). Returns 0 or an exit code. */
int cli_pathfinder_inits(const bayes_model *m, const cli_fit_opts *o, uint64_t seed,
                         int nchains, double **thetas);

/* mkdir -p; 0 or -1 (errno set) */
int cli_make_dir(const char *path);
/* monotonic seconds */
double cli_now(void);

/* Load a model, printing diagnostics to stderr. Returns 0 or the exit code. */
int cli_load(const cli_common *o, bayes_model **m);
/* "bayesrun: error: ..." on stderr; returns code */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
