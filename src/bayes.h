/* bayes.h — the public interface of libbayes: compile a model file, then evaluate its log
 * density and gradient on the unconstrained space and map unconstrained points to named
 * constrained outputs. This is all an inference backend ever sees.
 *
 * Ownership: bayes_X_alloc / bayes_model_load results are freed with the matching
 * bayes_X_free (NULL is fine). Strings returned by accessors belong to the model.
 * Threads: a bayes_model is immutable after loading and may be shared; a bayes_ws
 * (workspace) belongs to one thread. Evaluating never allocates. */
#ifndef BAYES_H
#define BAYES_H

#include <stdbool.h>
#include <stddef.h>
#include <gsl/gsl_rng.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes, equal to the sysexits.h values the CLI exits with. */
enum {
  BAYES_OK = 0,
  BAYES_EUSAGE = 64,   /* bad command-line usage */
  BAYES_EDATA = 65,    /* bad model or data (located message) */
  BAYES_ENOINPUT = 66, /* input file missing or unreadable */
  BAYES_EINTERNAL = 70,/* internal error or out of memory */
  BAYES_EIO = 74       /* cannot write output */
};

typedef struct bayes_model bayes_model;
typedef struct bayes_ws bayes_ws;

typedef struct {
  const char *data_file;   /* --data FILE (CmdStan JSON), or NULL */
  bool verbose;            /* list unused data keys etc. as notes */
} bayes_load_opts;

/* Parses, checks and compiles the model file. On failure *model is NULL and the returned
 * status says why; *messages (if non-NULL) receives every diagnostic, formatted
 * "FILE:LINE:COL: error: ..." with source line and caret (also warnings and notes on
 * success), to be freed with bayes_string_free. */
int bayes_model_load(const char *path, const bayes_load_opts *opts, bayes_model **model,
                     char **messages);
void bayes_model_free(bayes_model *m);
void bayes_string_free(char *s);

const char *bayes_model_name(const bayes_model *m);
const char *bayes_model_description(const bayes_model *m);  /* "" if none */
size_t bayes_model_dim(const bayes_model *m);  /* length of the unconstrained vector */

/* Parameters, in declaration order. */
typedef struct {
  const char *name;
  int rank;
  size_t dim[4];
  size_t size;              /* constrained element count */
  size_t unc_offset;        /* position in the unconstrained vector */
  size_t unc_size;
  const char *transform;    /* "identity", "lower", "simplex", ... */
  const char *prior;        /* the prior as written */
} bayes_param_info;
size_t bayes_model_nparams(const bayes_model *m);
const bayes_param_info *bayes_model_param(const bayes_model *m, size_t i);

/* Outputs written per draw: constrained parameters, then per-draw transformed quantities,
 * then generated quantities; names as Stan writes them ("theta.1", column-major "S.2.1"). */
size_t bayes_model_nout(const bayes_model *m);
const char *bayes_model_out_name(const bayes_model *m, size_t i);

/* One `inference:` setting as written, with its position (for backends to interpret and
 * to report errors at the line: see bayes_model_message). */
typedef struct {
  const char *key, *value;
  int line, col, len;        /* of the value */
} bayes_setting;

/* Default inference settings from the file's `inference:` section (NULL/0 if absent).
 * Every setting written is also in settings[] (including the typed ones below): a
 * backend must use or reject each one, never ignore it. */
typedef struct {
  const char *method;       /* "nuts" unless the file says otherwise */
  long chains, warmup, draws, seed, thin;
  bool has_chains, has_warmup, has_draws, has_seed, has_thin;
  const bayes_setting *settings;
  size_t nsettings;
} bayes_inference_info;
const bayes_inference_info *bayes_model_inference(const bayes_model *m);
/* A located message about the model file ("FILE:LINE:COL: error: MSG", the source line
 * and a caret), for errors found after loading (e.g. an inference setting a backend
 * rejects). level: "error", "warning" or "note". Free with bayes_string_free. */
char *bayes_model_message(const bayes_model *m, const char *level, int line, int col,
                          int len, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

bayes_ws *bayes_ws_alloc(const bayes_model *m);
void bayes_ws_free(bayes_ws *w);

enum {
  BAYES_LD_JACOBIAN = 1,    /* add log|det J| of the constraining transforms */
  BAYES_LD_PRIOR_ONLY = 2   /* leave out the likelihood (prior predictive) */
};
/* Log density at the unconstrained point theta (length bayes_model_dim). If grad is
 * non-NULL it receives the gradient. Returns 0; a point where the density is not finite
 * (outside a support, non-SPD matrix...) still returns 0 with *lp = -inf or NaN, and
 * bayes_ws_error tells why. */
int bayes_ws_log_density(bayes_ws *w, const double *theta, unsigned flags, double *lp,
                         double *grad);
const char *bayes_ws_error(const bayes_ws *w);  /* "" if the last evaluation was fine */

/* Writes bayes_model_nout values (constrained parameters, transformed and generated
 * quantities) for the unconstrained point theta. rng draws the random generated
 * quantities (may be NULL if the model has none). Returns 0, or BAYES_EDATA if evaluation
 * failed (message in bayes_ws_error). */
int bayes_ws_outputs(bayes_ws *w, const double *theta, gsl_rng *rng, double *out);

/* Maps constrained parameter values to the unconstrained vector. values[i] holds the
 * constrained values of parameter i (size elements, row-major). Returns 0, or BAYES_EDATA
 * with a message (e.g. "tau = -1 is below its lower bound 0") in err. */
int bayes_ws_unconstrain(bayes_ws *w, const double *const *values, double *theta,
                         char *err, size_t errlen);
/* Reads a point from a JSON file of parameter values by name (CmdStan JSON layout):
 * constrained values (mapped through the inverse transforms) or, if unconstrained, the
 * unconstrained vector of each parameter. Every parameter must be present, with its shape;
 * unknown names are errors. Fills theta (bayes_model_dim). Returns 0 or a status, with
 * located messages ("point.json:3:9: error: ...") in *messages (free with
 * bayes_string_free). */
int bayes_ws_read_point(bayes_ws *w, const char *path, bool unconstrained, double *theta,
                        char **messages);

/* Gradient of the log density with respect to the CONSTRAINED parameters (each partial
 * holding the other parameters' constrained values fixed), evaluated at the unconstrained
 * point theta; grads[i] (size elements) for parameter i. There is no Jacobian term in the
 * constrained space: the BAYES_LD_JACOBIAN flag is ignored. */
int bayes_ws_constrained_gradient(bayes_ws *w, const double *theta, unsigned flags,
                                  double *lp, double *const *grads);

/* Textual dumps (`bayesrun check --dump`): what = "ast", "graph" or "tape"; and the
 * compiled-model summary printed by `bayesrun check`; and Graphviz DOT. Return a string
 * to free with bayes_string_free, or NULL on out-of-memory. */
char *bayes_model_dump(const bayes_model *m, const char *what);
char *bayes_model_summary(const bayes_model *m);
char *bayes_model_dot(const bayes_model *m);

const char *bayes_version(void);

/* Number of threads the BLAS library may use (OpenBLAS; a no-op with other BLAS). The
 * matrices of one log density are small and chains run in their own threads, so the CLI
 * sets 1: a threaded BLAS would spend more time waking threads than computing. */
void bayes_blas_threads(int n);

#ifdef __cplusplus
}
#endif
#endif
