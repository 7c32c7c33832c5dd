/* dist.h — the distribution registry. A distribution is one table of function pointers
 * (log density with partials, RNG, log CDFs) and one line in the registry (dist.c).
 * Log densities always include every normalising constant. Parameterisations follow
 * Stan's functions reference. Nothing here knows about the parser or the compiler.
 *
 * Univariate kernels work on n elements at once. Argument k (k = 0 is the variate,
 * k = 1..nparams the parameters) is read as a[k].x[i * a[k].inc], inc 0 meaning a scalar
 * broadcast over all n elements. Every kernel returns the SUM of the n log densities and:
 *   - if pw != NULL, stores each element's log density in pw[i];
 *   - for every k with a[k].g != NULL, ADDS  scale * (w ? w[i] : 1) * d l_i / d x_k  to
 *     a[k].g[i * a[k].inc]  (so a broadcast argument accumulates into one element).
 * Outside the support the log density is -INFINITY (partials then are left untouched).
 * Integer variates (lpmf) arrive as doubles holding exact integers. */
#ifndef BAYES_DIST_H
#define BAYES_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <gsl/gsl_rng.h>

#include "tape.h"

#define BAYES_DIST_MAXARG 5 /* variate + up to 4 parameters */

typedef struct {
  const double *x;
  size_t inc;  /* 0 (broadcast scalar) or 1 */
  double *g;   /* partial accumulator or NULL */
} bayes_darg;

typedef struct {
  size_t n;
  bayes_darg a[BAYES_DIST_MAXARG];
  double *pw;        /* optional pointwise output */
  const double *w;   /* optional per-element weights on the partials */
  double scale;      /* multiplies every partial (normally 1) */
} bayes_dargs;

/* Support of the variate: decides the default transform of a parameter. */
typedef enum {
  BAYES_SUPPORT_REAL,
  BAYES_SUPPORT_POSITIVE,     /* (0, inf) */
  BAYES_SUPPORT_NONNEG,       /* [0, inf) — still log transform for continuous */
  BAYES_SUPPORT_LOWER,        /* (lower, inf) where lower is parameter `bound_arg` */
  BAYES_SUPPORT_INTERVAL,     /* (a, b) given by parameters bound_arg, bound_arg + 1 */
  BAYES_SUPPORT_UNIT,         /* (0, 1) */
  BAYES_SUPPORT_CIRCLE,       /* von Mises: (mu - pi, mu + pi) — Stan: any real; we use real */
  BAYES_SUPPORT_SIMPLEX,
  BAYES_SUPPORT_CORR_CHOLESKY,
  BAYES_SUPPORT_CORR,
  BAYES_SUPPORT_COV,          /* symmetric positive definite */
  BAYES_SUPPORT_INT,          /* integers (discrete; not a parameter) */
  BAYES_SUPPORT_INT_NONNEG,
  BAYES_SUPPORT_INT_BINARY,
  BAYES_SUPPORT_INT_RANGE     /* 1..K (categorical, ordered_logistic) */
} bayes_support;

typedef enum {
  BAYES_DIST_UNIVARIATE,      /* elementwise, broadcasting kernels above */
  BAYES_DIST_MULTIVARIATE     /* works on whole vectors / matrices (see bayes_mvargs) */
} bayes_dist_kind;

/* Multivariate arguments: whole tensors. g as above (accumulate scale * partial). */
typedef struct {
  const double *x;
  const bayes_shape *s;
  double *g;
} bayes_mvarg;

typedef struct {
  int nargs;                          /* variate + parameters */
  bayes_mvarg a[BAYES_DIST_MAXARG];
  double scale;
  double *work;                       /* mv_work(...) doubles of scratch */
  char *err;                          /* domain error text (size 128) or NULL */
} bayes_mvargs;

typedef struct bayes_dist {
  const char *name;
  const char *alias;                  /* e.g. "double_exponential" for laplace */
  int nparams;                        /* number of parameters (without the variate) */
  int nparams_min;                    /* fewer allowed with defaults (half_normal(s)) */
  const char *const *param_names;     /* for keyword arguments and messages */
  const double *param_defaults;       /* used when fewer than nparams are given */
  bool discrete;                      /* lpmf on integers */
  bool param_int[BAYES_DIST_MAXARG];  /* parameter k (1-based index into a[]) is integer */
  bayes_support support;
  int bound_arg;                      /* for LOWER / INTERVAL supports */
  bayes_dist_kind kind;

  /* univariate */
  double (*lpdf)(const bayes_dargs *d);
  double (*lcdf)(const bayes_dargs *d);    /* may be NULL */
  double (*lccdf)(const bayes_dargs *d);   /* may be NULL */
  double (*rng)(gsl_rng *r, const double *theta); /* theta[0..nparams-1] */
  /* Parameter-domain check for element params theta (e.g. sigma > 0); returns NULL if
   * valid, else a message "scale sigma must be positive". */
  const char *(*check)(const double *theta);

  /* multivariate. shapes[0] is the variate's shape, shapes[1..nargs-1] the parameters'.
   * mv_shape: the shape of ONE variate implied by the parameters (shapes[0] ignored);
   * mv_check: whether the variate shape fits the parameters — the variate may hold several
   *   independent draws stacked along its first dimension (y: [N, K] for a K-vector
   *   distribution); returns 0, or -1 with a message naming both shapes in err;
   * mv_work: doubles of scratch that mv_lpdf / mv_rng need. */
  int (*mv_shape)(int nargs, const bayes_shape *const *shapes, bayes_shape *variate,
                  char *err, size_t errlen);
  int (*mv_check)(int nargs, const bayes_shape *const *shapes, char *err, size_t errlen);
  size_t (*mv_work)(int nargs, const bayes_shape *const *shapes);
  double (*mv_lpdf)(const bayes_mvargs *m);
  /* draws one variate of shape shapes[0] into out (work as mv_work) */
  int (*mv_rng)(gsl_rng *r, const bayes_mvargs *m, double *out);
} bayes_dist;

const bayes_dist *bayes_dist_find(const char *name);
/* Registry iteration (NULL-terminated). */
extern const bayes_dist *const bayes_dists[];

#endif
