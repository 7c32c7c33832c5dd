/* testutil.h — helpers shared by the unit tests: finite-difference gradient checks of any
 * op (and so of every distribution and transform), and statistical test bounds. */
#ifndef BAYES_TESTUTIL_H
#define BAYES_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "tape.h"

typedef struct {
  const bayes_op *op;
  int nin, nout;
  const bayes_shape *xs;       /* nin input shapes */
  const double *const *xv;     /* nin input values */
  const bool *diff;            /* nin: differentiate w.r.t. this input (NULL: all) */
  const bayes_shape *ys;       /* nout output shapes */
  bool out_int;
  const void *aux;
  long iarg[4];
  double darg[4];
  size_t work;
  bool jacobian;               /* ex->jacobian during the check (default false=off!) */
} bt_opcheck;

/* Runs op forward, then checks bwd (with random output adjoints, fixed seed) against a
 * fourth-order central finite difference of the projected output. Returns the worst
 * error max|ad - fd| / max(1, |fd|); writes a description of the worst element into
 * report (if non-NULL). Outputs that are not finite at the point make it return +inf. */
double bt_op_grad_check(const bt_opcheck *c, char *report, size_t len);

/* Runs op forward once and copies output k into out (returns 0, or -1 if the op failed,
 * with the failure message in msg if non-NULL). */
int bt_op_eval(const bt_opcheck *c, double *const *out, char *msg, size_t len);

/* One-sample Kolmogorov–Smirnov distance of xs[0..n-1] to the CDF F. */
double bt_ks_distance(double *xs, size_t n, double (*cdf)(double, const void *),
                      const void *ctx);
/* DKW bound: P(D_n > eps) <= 2 exp(-2 n eps^2); the eps with false-failure rate alpha. */
double bt_dkw_eps(size_t n, double alpha);

/* Runs every test of the suite (GSL's error handler off, as in the CLI), prints Check's
 * summary and returns the process exit status: 0 when nothing failed. */
struct Suite;
int bt_run_suite(struct Suite *s);

/* Test files: the source tree ($top_srcdir, default "."), a whole file read into a
 * malloc'd string (the test fails if it cannot be read), and a text written to a file. */
const char *bt_srcdir(void);
char *bt_slurp(const char *path);
void bt_write_file(const char *path, const char *text);

/* A compiled model (the test fails with the messages if it does not load): from a path
 * (with load options, or NULL), from a path relative to the source tree ("models/eight_schools.yaml"), or from model
 * text written to a temporary file. */
#include "bayes.h"
bayes_model *bt_load_path(const char *path, const bayes_load_opts *opts);
bayes_model *bt_load_rel(const char *rel);
bayes_model *bt_load_text(const char *text);

#endif
