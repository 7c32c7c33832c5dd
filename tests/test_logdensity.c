/* test_logdensity.c — whole models through the public API (bayes.h): log densities against
 * independent scipy references (tests/data/NAME.points.json, written by
 * tests/fixtures/make_reference.py), log-Jacobians against numerical determinants and
 * Stan's formulas, gradients against finite differences, round trips, output names and
 * order, generated quantities, the no-allocation hot path and data loading. It must not
 * compute a reference with bayesrun's own code. */
#include <check.h>

#include "testutil.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_gamma.h>

#include "bayes.h"
#include "util.h"

#define MAXP 64    /* reference points per file */
#define MAXD 256   /* unconstrained dimension handled by the dense numerical Jacobian */

/* Every model checked here; `own` says where it lives. Models whose bounds depend on
 * other parameters cannot be perturbed one constrained value at a time. */
typedef struct {
  const char *name;
  bool in_models;      /* models/NAME.yaml, else tests/data/NAME.yaml */
  bool param_bounds;   /* some bound depends on a parameter */
} mdef;

static const mdef models[] = {
    {"eight_schools", true, false},
    {"eight_schools_centered", true, false},
    {"ar1", true, false},
    {"gaussian_mixture", true, false},
    {"linear_regression", true, false},
    {"logistic_regression", true, false},
    {"poisson_glm", true, false},
    {"radon", true, false},
    {"priors", false, true},
    {"dirichlet_cat", false, false},
    {"mvn_lkj", false, false},
    {"counts", false, false},
    {"exprs", false, false},
    {"hmm", false, false},
    {"gp", false, false},
    {"truncated", false, false},
};
#define NMODELS ((int)(sizeof models / sizeof models[0]))


static void model_path(const mdef *d, char *buf, size_t len)
{
  snprintf(buf, len, "%s/%s/%s.yaml", bt_srcdir(), d->in_models ? "models" : "tests/data", d->name);
}

static bayes_model *load(const mdef *d)
{
  char p[1024];
  model_path(d, p, sizeof p);
  return bt_load_path(p, NULL);
}



/* The points file holds one {"point": {...}, "log_density": x} per line (json.dumps), so
 * the point is the brace-matched object after "point": and the value follows
 * "log_density":. */
typedef struct {
  char *point[MAXP];
  double ld[MAXP];
  int n;
} refs;

static void read_refs(const char *name, refs *r)
{
  char p[1024];
  snprintf(p, sizeof p, "%s/tests/data/%s.points.json", bt_srcdir(), name);
  char *s = bt_slurp(p), *q = s;
  r->n = 0;
  while ((q = strstr(q, "{\"point\": ")) != NULL) {
    ck_assert(r->n < MAXP);
    char *b = q + strlen("{\"point\": "), *e = b;
    int depth = 0;
    do {
      if (*e == '{') depth++;
      if (*e == '}') depth--;
      e++;
    } while (depth > 0 && *e);
    r->point[r->n] = strndup(b, (size_t)(e - b));
    char *l = strstr(e, "\"log_density\": ");
    ck_assert(l != NULL);
    r->ld[r->n] = strtod(l + strlen("\"log_density\": "), NULL);
    r->n++;
    q = e;
  }
  free(s);
  ck_assert_msg(r->n == 3, "%s: expected 3 reference points, found %d", p, r->n);
}

static void free_refs(refs *r)
{
  for (int i = 0; i < r->n; i++) free(r->point[i]);
}

static void tmp_path(char *buf, size_t len, const char *suffix)
{
  static int k;
  snprintf(buf, len, "%s/bayes_test_ld_%ld_%d%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
           (long)getpid(), k++, suffix);
}

/* theta for the constrained point given as JSON text */
static void point_theta(bayes_ws *w, const char *json, double *theta)
{
  char p[512];
  tmp_path(p, sizeof p, ".json");
  bt_write_file(p, json);
  char *msg = NULL;
  int rc = bayes_ws_read_point(w, p, false, theta, &msg);
  ck_assert_msg(rc == BAYES_OK, "reading point %s failed (%d): %s", json, rc, msg ? msg : "");
  bayes_string_free(msg);
  unlink(p);
}


static bool close_rel(double a, double ref, double tol)
{
  return fabs(a - ref) <= tol * (fabs(ref) < 1 ? 1 : fabs(ref));
}

static double ld(bayes_ws *w, const double *theta, unsigned flags, double *grad)
{
  double lp = NAN;
  ck_assert_int_eq(bayes_ws_log_density(w, theta, flags, &lp, grad), 0);
  return lp;
}

/* ---- log density against the references ---- */

START_TEST(test_reference)
{
  const mdef *d = &models[_i];
  bayes_model *m = load(d);
  bayes_ws *w = bayes_ws_alloc(m);
  ck_assert(w != NULL);
  refs r;
  read_refs(d->name, &r);
  size_t n = bayes_model_dim(m);
  double *theta = calloc(n + 1, sizeof *theta);
  for (int k = 0; k < r.n; k++) {
    point_theta(w, r.point[k], theta);
    double lp = ld(w, theta, 0, NULL);
    ck_assert_msg(close_rel(lp, r.ld[k], 1e-9),
                  "%s point %d: log density %.17g, reference %.17g (diff %.3g): %s", d->name,
                  k + 1, lp, r.ld[k], lp - r.ld[k], bayes_ws_error(w));
    /* the gradient must not change the value */
    double *g = calloc(n + 1, sizeof *g);
    ck_assert(ld(w, theta, 0, g) == lp);
    free(g);
  }
  free(theta);
  free_refs(&r);
  bayes_ws_free(w);
  bayes_model_free(m);
}
END_TEST

/* ---- output layout helpers ---- */

/* Offset of parameter i among the outputs (parameters come first, in order). */
static size_t out_offset(const bayes_model *m, size_t i)
{
  size_t off = 0;
  for (size_t j = 0; j < i; j++) off += bayes_model_param(m, j)->size;
  return off;
}

/* Index among the outputs of element (row-major flat index f) of parameter i. The outputs
 * are column-major, as Stan writes them. */
static size_t out_index(const bayes_param_info *p, size_t off, size_t f)
{
  if (p->rank < 2) return off + f;
  /* convert a row-major flat index to column-major */
  size_t idx[4], rem = f, cm = 0, stride = 1;
  for (int j = p->rank - 1; j >= 0; j--) {
    idx[j] = rem % p->dim[j];
    rem /= p->dim[j];
  }
  for (int j = 0; j < p->rank; j++) {
    cm += idx[j] * stride;
    stride *= p->dim[j];
  }
  return off + cm;
}

/* Constrained values of every parameter, row-major per parameter, from the outputs. */
static double **param_values(const bayes_model *m, const double *out)
{
  size_t np = bayes_model_nparams(m);
  double **v = calloc(np + 1, sizeof *v);
  for (size_t i = 0; i < np; i++) {
    const bayes_param_info *p = bayes_model_param(m, i);
    size_t off = out_offset(m, i);
    v[i] = calloc(p->size + 1, sizeof **v);
    for (size_t f = 0; f < p->size; f++) v[i][f] = out[out_index(p, off, f)];
  }
  return v;
}

static void free_values(const bayes_model *m, double **v)
{
  for (size_t i = 0; i < bayes_model_nparams(m); i++) free(v[i]);
  free(v);
}

/* The "free" constrained coordinates of a parameter (row-major flat indices): all of them
 * for the transforms that keep the dimension; the first K-1 of a simplex; the strictly
 * lower triangle of a correlation Cholesky factor; the lower triangle of a covariance
 * matrix (Stan's conventions for the Jacobians of these transforms). */
static size_t free_coords(const bayes_param_info *p, size_t *f)
{
  size_t n = 0;
  if (strcmp(p->transform, "simplex") == 0) {
    for (size_t k = 0; k + 1 < p->size; k++) f[n++] = k;
  } else if (strcmp(p->transform, "cholesky_corr") == 0 || strcmp(p->transform, "cov") == 0) {
    size_t K = p->dim[0];
    bool diag = strcmp(p->transform, "cov") == 0;
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < (diag ? i + 1 : i); j++) f[n++] = i * K + j;
  } else {
    for (size_t k = 0; k < p->size; k++) f[n++] = k;
  }
  return n;
}

static bool same_dim_transform(const char *t)
{
  return strcmp(t, "identity") == 0 || strcmp(t, "lower") == 0 || strcmp(t, "upper") == 0 ||
         strcmp(t, "lower_upper") == 0 || strcmp(t, "ordered") == 0 ||
         strcmp(t, "positive_ordered") == 0;
}

/* Stan reference manual, "Constraint transforms": log|J| from the constrained value.
 * simplex (stick-breaking): z_k = x_k / (1 - sum_{k'<k} x_k'),
 *   log J = sum_{k<K} log z_k + log(1 - z_k) + log(1 - sum_{k'<k} x_k');
 * cholesky_corr: z_ij = L_ij / sqrt(1 - sum_{k<j} L_ik^2) (canonical partial correlations),
 *   log J = sum_{i>j} log(1 - z_ij^2) + 0.5 log(1 - sum_{k<j} L_ik^2);
 * cov: L = chol(Sigma), log J = K log 2 + sum_{k=1}^K (K - k + 2) log L_kk. */
static double analytic_logj(const bayes_param_info *p, const double *x)
{
  double lj = 0;
  if (strcmp(p->transform, "simplex") == 0) {
    double used = 0;
    for (size_t k = 0; k + 1 < p->size; k++) {
      double rest = 1 - used, z = x[k] / rest;
      lj += log(z) + log1p(-z) + log(rest);
      used += x[k];
    }
  } else if (strcmp(p->transform, "cholesky_corr") == 0) {
    size_t K = p->dim[0];
    for (size_t i = 0; i < K; i++) {
      double ss = 0;
      for (size_t j = 0; j < i; j++) {
        double rem = 1 - ss, z = x[i * K + j] / sqrt(rem);
        lj += log1p(-z * z) + 0.5 * log(rem);
        ss += x[i * K + j] * x[i * K + j];
      }
    }
  } else if (strcmp(p->transform, "cov") == 0) {
    size_t K = p->dim[0];
    gsl_matrix *A = gsl_matrix_alloc(K, K);
    for (size_t i = 0; i < K * K; i++) A->data[i] = x[i];
    ck_assert_int_eq(gsl_linalg_cholesky_decomp1(A), 0);
    lj = (double)K * log(2.0);
    for (size_t k = 0; k < K; k++) lj += (double)(K - k + 1) * log(gsl_matrix_get(A, k, k));
    gsl_matrix_free(A);
  } else {
    ck_abort_msg("no analytic Jacobian for %s", p->transform);
  }
  return lj;
}

/* Fourth-order central difference of the free constrained coordinates with respect to
 * theta: J[r * n + c] = d x_free[r] / d theta[c]. */
static void numeric_jacobian(const bayes_model *m, bayes_ws *w, gsl_rng *rng,
                             const double *theta, double *J, size_t *rows_of_param)
{
  size_t n = bayes_model_dim(m), nout = bayes_model_nout(m), np = bayes_model_nparams(m);
  double *t = malloc(n * sizeof *t), *o[4];
  for (int s = 0; s < 4; s++) o[s] = malloc((nout + 1) * sizeof **o);
  size_t *fr = malloc(4096 * sizeof *fr);
  const double h = 1e-4;
  static const double steps[4] = {-2, -1, 1, 2};
  for (size_t c = 0; c < n; c++) {
    for (int s = 0; s < 4; s++) {
      memcpy(t, theta, n * sizeof *t);
      t[c] += steps[s] * h;
      gsl_rng_set(rng, 1);
      ck_assert_int_eq(bayes_ws_outputs(w, t, rng, o[s]), 0);
    }
    size_t r = 0;
    for (size_t i = 0; i < np; i++) {
      const bayes_param_info *p = bayes_model_param(m, i);
      size_t off = out_offset(m, i), nf = free_coords(p, fr);
      if (rows_of_param) rows_of_param[i] = r;
      for (size_t k = 0; k < nf; k++, r++) {
        size_t q = out_index(p, off, fr[k]);
        J[r * n + c] = (o[0][q] - 8 * o[1][q] + 8 * o[2][q] - o[3][q]) / (12 * h);
      }
    }
    ck_assert_msg(r == n, "free coordinates %zu != dim %zu", r, n);
  }
  for (int s = 0; s < 4; s++) free(o[s]);
  free(t);
  free(fr);
}

static double log_abs_det(const double *J, size_t n, size_t r0, size_t nb)
{
  if (nb == 0) return 0;
  gsl_matrix *A = gsl_matrix_alloc(nb, nb);
  gsl_permutation *p = gsl_permutation_alloc(nb);
  int sg;
  for (size_t i = 0; i < nb; i++)
    for (size_t j = 0; j < nb; j++) gsl_matrix_set(A, i, j, J[(r0 + i) * n + r0 + j]);
  gsl_linalg_LU_decomp(A, p, &sg);
  double v = gsl_linalg_LU_lndet(A);
  gsl_matrix_free(A);
  gsl_permutation_free(p);
  return v;
}

START_TEST(test_jacobian)
{
  const mdef *d = &models[_i];
  bayes_model *m = load(d);
  bayes_ws *w = bayes_ws_alloc(m);
  refs r;
  read_refs(d->name, &r);
  size_t n = bayes_model_dim(m), np = bayes_model_nparams(m), nout = bayes_model_nout(m);
  ck_assert_msg(n <= MAXD, "%s: dimension %zu too large for the dense Jacobian", d->name, n);
  double *theta = calloc(n + 1, sizeof *theta), *J = calloc(n * n + 1, sizeof *J);
  double *out = calloc(nout + 1, sizeof *out);
  size_t *row0 = calloc(np + 1, sizeof *row0);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  for (int k = 0; k < r.n; k++) {
    point_theta(w, r.point[k], theta);
    double lj = ld(w, theta, BAYES_LD_JACOBIAN, NULL) - ld(w, theta, 0, NULL);
    numeric_jacobian(m, w, rng, theta, J, row0);
    /* whole determinant (block lower triangular in declaration order, since a bound may
     * only refer to earlier parameters) */
    double whole = log_abs_det(J, n, 0, n);
    ck_assert_msg(fabs(lj - whole) < 1e-6 * (1 + fabs(whole)),
                  "%s point %d: log-Jacobian %.12g, numerical log|det| %.12g", d->name, k + 1,
                  lj, whole);
    /* per parameter: diagonal blocks numerically, or Stan's closed forms */
    gsl_rng_set(rng, 1);
    ck_assert_int_eq(bayes_ws_outputs(w, theta, rng, out), 0);
    double **v = param_values(m, out), sum = 0;
    for (size_t i = 0; i < np; i++) {
      const bayes_param_info *p = bayes_model_param(m, i);
      if (same_dim_transform(p->transform)) {
        sum += log_abs_det(J, n, row0[i], p->unc_size);
      } else {
        double a = analytic_logj(p, v[i]), num = log_abs_det(J, n, row0[i], p->unc_size);
        ck_assert_msg(fabs(a - num) < 1e-6 * (1 + fabs(a)),
                      "%s: %s (%s): Stan's log-Jacobian %.12g, numerical %.12g", d->name,
                      p->name, p->transform, a, num);
        sum += a;
      }
    }
    ck_assert_msg(fabs(lj - sum) < 1e-6 * (1 + fabs(sum)),
                  "%s point %d: log-Jacobian %.12g, sum over parameters %.12g", d->name, k + 1,
                  lj, sum);
    free_values(m, v);
  }
  gsl_rng_free(rng);
  free(row0);
  free(out);
  free(J);
  free(theta);
  free_refs(&r);
  bayes_ws_free(w);
  bayes_model_free(m);
}
END_TEST

/* ---- gradients ---- */

static double fd4(bayes_ws *w, double *t, size_t c, unsigned flags, double h)
{
  double x0 = t[c], f[4];
  static const double steps[4] = {-2, -1, 1, 2};
  for (int s = 0; s < 4; s++) {
    t[c] = x0 + steps[s] * h;
    f[s] = ld(w, t, flags, NULL);
  }
  t[c] = x0;
  return (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h);
}

START_TEST(test_gradient)
{
  const mdef *d = &models[_i];
  bayes_model *m = load(d);
  bayes_ws *w = bayes_ws_alloc(m);
  size_t n = bayes_model_dim(m);
  double *theta = calloc(n + 1, sizeof *theta), *g = calloc(n + 1, sizeof *g);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, 20261125);
  static const unsigned flags[] = {0, BAYES_LD_JACOBIAN, BAYES_LD_PRIOR_ONLY,
                                   BAYES_LD_PRIOR_ONLY | BAYES_LD_JACOBIAN};
  for (int k = 0; k < 3; k++) {
    for (size_t c = 0; c < n; c++) theta[c] = -2 + 4 * gsl_rng_uniform(rng);
    for (size_t fi = 0; fi < sizeof flags / sizeof *flags; fi++) {
      double lp = ld(w, theta, flags[fi], g);
      ck_assert_msg(isfinite(lp), "%s: log density %g at a random point: %s", d->name, lp,
                    bayes_ws_error(w));
      for (size_t c = 0; c < n; c++) {
        double fd = fd4(w, theta, c, flags[fi], 1e-4);
        double tol = 1e-6 * (fabs(g[c]) > 1 ? fabs(g[c]) : 1);
        ck_assert_msg(fabs(g[c] - fd) <= tol,
                      "%s point %d flags %u: d/dtheta[%zu] = %.12g, finite difference %.12g",
                      d->name, k + 1, flags[fi], c, g[c], fd);
      }
    }
  }
  gsl_rng_free(rng);
  free(g);
  free(theta);
  bayes_ws_free(w);
  bayes_model_free(m);
}
END_TEST

/* Gradient with respect to constrained values: perturb one constrained value, map the
 * point back with bayes_ws_unconstrain, evaluate. Elements of simplexes, correlation
 * factors and covariance matrices cannot move alone without leaving their set, so only
 * parameters with dimension-preserving transforms are checked. */
START_TEST(test_constrained_gradient)
{
  const mdef *d = &models[_i];
  if (d->param_bounds) return; /* moving a bound's parameter moves the other's support */
  bayes_model *m = load(d);
  bayes_ws *w = bayes_ws_alloc(m);
  size_t n = bayes_model_dim(m), np = bayes_model_nparams(m), nout = bayes_model_nout(m);
  double *theta = calloc(n + 1, sizeof *theta), *t2 = calloc(n + 1, sizeof *t2);
  double *out = calloc(nout + 1, sizeof *out);
  double **grads = calloc(np, sizeof *grads);
  for (size_t i = 0; i < np; i++) grads[i] = calloc(bayes_model_param(m, i)->size + 1, sizeof **grads);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, 7);
  char err[256];
  int checked = 0;
  static const unsigned flags[] = {0, BAYES_LD_PRIOR_ONLY};
  for (int k = 0; k < 3; k++) {
    for (size_t c = 0; c < n; c++) theta[c] = -2 + 4 * gsl_rng_uniform(rng);
    ck_assert_int_eq(bayes_ws_outputs(w, theta, rng, out), 0);
    double **v = param_values(m, out);
    for (size_t fi = 0; fi < 2; fi++) {
      double lp;
      ck_assert_int_eq(bayes_ws_constrained_gradient(w, theta, flags[fi], &lp, grads), 0);
      ck_assert_msg(close_rel(lp, ld(w, theta, flags[fi], NULL), 1e-12),
                    "%s: constrained_gradient's value %.17g differs from log_density's", d->name, lp);
      for (size_t i = 0; i < np; i++) {
        const bayes_param_info *p = bayes_model_param(m, i);
        if (!same_dim_transform(p->transform)) continue;
        for (size_t e = 0; e < p->size; e++) {
          double x0 = v[i][e], h = 1e-5 * (fabs(x0) > 1 ? fabs(x0) : 1), f[4];
          static const double steps[4] = {-2, -1, 1, 2};
          for (int s = 0; s < 4; s++) {
            v[i][e] = x0 + steps[s] * h;
            ck_assert_msg(bayes_ws_unconstrain(w, (const double *const *)v, t2, err, sizeof err) == 0,
                          "%s: %s", d->name, err);
            f[s] = ld(w, t2, flags[fi], NULL);
          }
          v[i][e] = x0;
          double fd = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h);
          double tol = 1e-6 * (fabs(fd) > 1 ? fabs(fd) : 1);
          ck_assert_msg(fabs(grads[i][e] - fd) <= tol,
                        "%s: d/d%s[%zu] = %.12g, finite difference %.12g (flags %u)", d->name,
                        p->name, e, grads[i][e], fd, flags[fi]);
          checked++;
        }
      }
    }
    free_values(m, v);
  }
  ck_assert(checked > 0);
  gsl_rng_free(rng);
  for (size_t i = 0; i < np; i++) free(grads[i]);
  free(grads);
  free(out);
  free(t2);
  free(theta);
  bayes_ws_free(w);
  bayes_model_free(m);
}
END_TEST

/* ---- round trip ---- */

START_TEST(test_round_trip)
{
  const mdef *d = &models[_i];
  bayes_model *m = load(d);
  bayes_ws *w = bayes_ws_alloc(m);
  size_t n = bayes_model_dim(m), nout = bayes_model_nout(m);
  double *theta = calloc(n + 1, sizeof *theta), *back = calloc(n + 1, sizeof *back);
  double *out = calloc(nout + 1, sizeof *out);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, 99);
  char err[256];
  for (int k = 0; k < 5; k++) {
    for (size_t c = 0; c < n; c++) theta[c] = -2 + 4 * gsl_rng_uniform(rng);
    ck_assert_int_eq(bayes_ws_outputs(w, theta, rng, out), 0);
    double **v = param_values(m, out);
    ck_assert_msg(bayes_ws_unconstrain(w, (const double *const *)v, back, err, sizeof err) == 0,
                  "%s: %s", d->name, err);
    for (size_t c = 0; c < n; c++)
      ck_assert_msg(fabs(back[c] - theta[c]) <= 1e-9 * (fabs(theta[c]) > 1 ? fabs(theta[c]) : 1),
                    "%s: theta[%zu] = %.17g comes back as %.17g", d->name, c, theta[c], back[c]);
    free_values(m, v);
  }
  gsl_rng_free(rng);
  free(out);
  free(back);
  free(theta);
  bayes_ws_free(w);
  bayes_model_free(m);
}
END_TEST

/* ---- output names and order ---- */

START_TEST(test_eight_schools_names)
{
  bayes_model *m = load(&models[0]);
  const char *want[3 + 3 * 8];
  static char buf[3 * 8][16];
  size_t k = 0;
  want[k++] = "mu";
  want[k++] = "tau";
  static const char *const groups[] = {"eta", "theta", "y_rep"};
  for (int g = 0; g < 3; g++) {
    for (int j = 1; j <= 8; j++) {
      snprintf(buf[g * 8 + j - 1], sizeof buf[0], "%s.%d", groups[g], j);
      want[k++] = buf[g * 8 + j - 1];
    }
  }
  ck_assert_uint_eq(bayes_model_nout(m), 26);
  for (size_t i = 0; i < 26; i++)
    ck_assert_str_eq(bayes_model_out_name(m, i), want[i]);
  ck_assert_uint_eq(bayes_model_dim(m), 10);
  /* values in the same order: theta.j = mu + tau * eta.j */
  double theta[10], out[26];
  for (int i = 0; i < 10; i++) theta[i] = 0.1 * i - 0.3;
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  bayes_ws *w = bayes_ws_alloc(m);
  ck_assert_int_eq(bayes_ws_outputs(w, theta, rng, out), 0);
  ck_assert_double_eq_tol(out[0], theta[0], 1e-15);
  ck_assert_double_eq_tol(out[1], exp(theta[1]), 1e-15);
  for (int j = 0; j < 8; j++) {
    ck_assert_double_eq_tol(out[2 + j], theta[2 + j], 1e-15);
    ck_assert_double_eq_tol(out[10 + j], out[0] + out[1] * out[2 + j], 1e-13);
  }
  gsl_rng_free(rng);
  bayes_ws_free(w);
  bayes_model_free(m);
}
END_TEST

START_TEST(test_matrix_names)
{
  bayes_model *m = load(&models[10]); /* mvn_lkj */
  ck_assert_str_eq(bayes_model_name(m), "mvn_lkj");
  const bayes_param_info *L = bayes_model_param(m, 0);
  ck_assert_str_eq(L->name, "L");
  ck_assert_int_eq(L->rank, 2);
  static const char *const want[9] = {"L.1.1", "L.2.1", "L.3.1", "L.1.2", "L.2.2",
                                      "L.3.2", "L.1.3", "L.2.3", "L.3.3"};
  for (size_t i = 0; i < 9; i++) ck_assert_str_eq(bayes_model_out_name(m, i), want[i]);
  /* values: a known L (row-major input) comes out column-major */
  double Lv[9] = {1, 0, 0, 0.6, 0.8, 0, 0.0, 0.6, 0.8};
  double tau = 1.5, sigma[3] = {1, 2, 3}, mu[3] = {0, 0, 0}, S[4] = {2, 0.5, 0.5, 1};
  const double *vals[5] = {Lv, &tau, sigma, mu, S};
  bayes_ws *w = bayes_ws_alloc(m);
  size_t n = bayes_model_dim(m), nout = bayes_model_nout(m);
  double *theta = calloc(n, sizeof *theta), *out = calloc(nout, sizeof *out);
  char err[256];
  ck_assert_msg(bayes_ws_unconstrain(w, vals, theta, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(bayes_ws_outputs(w, theta, NULL, out), 0);
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 3; j++)
      ck_assert_msg(fabs(out[j * 3 + i] - Lv[i * 3 + j]) < 1e-12, "L[%zu, %zu]: out %g want %g",
                    i + 1, j + 1, out[j * 3 + i], Lv[i * 3 + j]);
  /* the transformed Sigma follows the parameters: Sigma.1.2 = sigma1 sigma2 (L L')_12 */
  size_t is = 9 + 1 + 3 + 3 + 4;
  ck_assert_str_eq(bayes_model_out_name(m, is), "Sigma.1.1");
  ck_assert_str_eq(bayes_model_out_name(m, is + 3), "Sigma.1.2");
  ck_assert_double_eq_tol(out[is + 3], 1 * 2 * 0.6, 1e-12);
  ck_assert_double_eq_tol(out[is + 5], 2 * 3 * (0.6 * 0.0 + 0.8 * 0.6), 1e-12); /* Sigma.3.2 */
  free(out);
  free(theta);
  bayes_ws_free(w);
  bayes_model_free(m);
}
END_TEST

/* ---- generated quantities ---- */

START_TEST(test_generated)
{
  bayes_model *m = load(&models[0]); /* eight_schools */
  bayes_ws *w = bayes_ws_alloc(m);
  double theta[10], a[26], b[26];
  for (int i = 0; i < 10; i++) theta[i] = 0.2 * i - 1;
  gsl_rng *r1 = gsl_rng_alloc(gsl_rng_mt19937), *r2 = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r1, 42);
  gsl_rng_set(r2, 42);
  ck_assert_int_eq(bayes_ws_outputs(w, theta, r1, a), 0);
  ck_assert_int_eq(bayes_ws_outputs(w, theta, r2, b), 0);
  ck_assert(memcmp(a, b, sizeof a) == 0);
  ck_assert_int_eq(bayes_ws_outputs(w, theta, r1, b), 0);
  ck_assert_msg(memcmp(a + 18, b + 18, 8 * sizeof *a) != 0, "two draws gave the same y_rep");
  ck_assert(memcmp(a, b, 18 * sizeof *a) == 0); /* parameters and theta do not move */
  /* y_rep[j] ~ normal(theta[j], sigma[j]); j = 1 (sigma 15) and j = 5 (sigma 9). With
   * n = 4000 the mean's standard error is sigma / sqrt(n) and the sample sd's is close to
   * sigma / sqrt(2 (n - 1)); a 5-SE two-sided bound fails by chance with probability
   * 5.7e-7 per check (4 checks: about 2.3e-6 for a new seed; the seed is fixed). */
  const int n = 4000;
  static const int js[2] = {0, 4};
  static const double sig[8] = {15, 10, 16, 11, 9, 11, 10, 18};
  for (int q = 0; q < 2; q++) {
    int j = js[q];
    double s1 = 0, s2 = 0;
    gsl_rng_set(r1, 2026 + (unsigned long)q);
    for (int t = 0; t < n; t++) {
      ck_assert_int_eq(bayes_ws_outputs(w, theta, r1, b), 0);
      s1 += b[18 + j];
      s2 += b[18 + j] * b[18 + j];
    }
    double mean = s1 / n, sd = sqrt((s2 - n * mean * mean) / (n - 1)), mu = a[10 + j];
    ck_assert_msg(fabs(mean - mu) < 5 * sig[j] / sqrt(n), "y_rep.%d mean %g, expected %g", j + 1,
                  mean, mu);
    ck_assert_msg(fabs(sd - sig[j]) < 5 * sig[j] / sqrt(2.0 * (n - 1)), "y_rep.%d sd %g, expected %g",
                  j + 1, sd, sig[j]);
  }
  gsl_rng_free(r1);
  gsl_rng_free(r2);
  bayes_ws_free(w);
  bayes_model_free(m);
}
END_TEST

/* ---- the hot path allocates nothing ---- */

START_TEST(test_no_alloc)
{
  const mdef *d = &models[_i];
  bayes_model *m = load(d);
  bayes_ws *w = bayes_ws_alloc(m);
  size_t n = bayes_model_dim(m);
  double *theta = calloc(n + 1, sizeof *theta), *g = calloc(n + 1, sizeof *g), lp;
  for (size_t c = 0; c < n; c++) theta[c] = 0.01 * (double)c - 0.2;
  ck_assert_int_eq(bayes_ws_log_density(w, theta, BAYES_LD_JACOBIAN, &lp, g), 0); /* warm */
  long before = bayes_alloc_count();
  for (int k = 0; k < 1000; k++) {
    theta[k % n] += 1e-3;
    ck_assert_int_eq(bayes_ws_log_density(w, theta, k % 3 == 0 ? 0 : BAYES_LD_JACOBIAN, &lp, g), 0);
  }
  ck_assert_msg(bayes_alloc_count() == before, "%s: %ld allocations in 1000 evaluations",
                d->name, bayes_alloc_count() - before);
  free(g);
  free(theta);
  bayes_ws_free(w);
  bayes_model_free(m);
}
END_TEST

/* ---- data through the API ---- */

/* log N(y | mu, 1), typed here */
static double lnorm1(double y, double mu) { return -0.5 * log(2 * M_PI) - 0.5 * (y - mu) * (y - mu); }

static double one_param_ld(bayes_model *m, double mu)
{
  bayes_ws *w = bayes_ws_alloc(m);
  ck_assert_uint_eq(bayes_model_dim(m), 1);
  double lp = ld(w, &mu, 0, NULL);
  bayes_ws_free(w);
  return lp;
}

START_TEST(test_data_loading)
{
  char dir[512];
  tmp_path(dir, sizeof dir, "_dir");
  char cmd[1100];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
  char mp[700], dp[700], d2[700], cp[700];
  snprintf(mp, sizeof mp, "%s/m.yaml", dir);
  snprintf(dp, sizeof dp, "%s/inline.json", dir);
  snprintf(d2, sizeof d2, "%s/override.json", dir);
  snprintf(cp, sizeof cp, "%s/obs.csv", dir);
  bt_write_file(dp, "{\"N\": 2, \"y\": [1.5, -0.5], \"unused\": [1, 2, 3]}\n");
  bt_write_file(d2, "{\"N\": 3, \"y\": [0.25, 2, 1], \"extra\": [[1, 2], [3, 4]], \"also\": 7}\n");
  bt_write_file(cp, "time,flux,other\n0,1.25,x\n1,-0.75,y\n2,3.5,z\n");
  bt_write_file(mp, "model: data_api\n"
                 "data:\n"
                 "  file: inline.json\n"
                 "  N: int\n"
                 "  y: real[N]\n"
                 "parameters:\n"
                 "  mu: normal(0, 1)\n"
                 "likelihood:\n"
                 "  y: normal(mu, 1)\n");
  double mu = 0.3;
  /* inline {file:} data */
  bayes_model *m = bt_load_path(mp, NULL);
  double want = lnorm1(mu, 0) + lnorm1(1.5, mu) + lnorm1(-0.5, mu);
  ck_assert_double_eq_tol(one_param_ld(m, mu), want, 1e-12);
  bayes_model_free(m);
  /* --data replaces it; unknown keys are ignored */
  bayes_load_opts o = {.data_file = d2, .verbose = false};
  m = bt_load_path(mp, &o);
  want = lnorm1(mu, 0) + lnorm1(0.25, mu) + lnorm1(2, mu) + lnorm1(1, mu);
  ck_assert_double_eq_tol(one_param_ld(m, mu), want, 1e-12);
  bayes_model_free(m);
  /* a missing data file is ENOINPUT */
  char missing[800];
  snprintf(missing, sizeof missing, "%s/nope.json", dir);
  bayes_load_opts o2 = {.data_file = missing, .verbose = false};
  bayes_model *bad = NULL;
  char *msg = NULL;
  ck_assert_int_eq(bayes_model_load(mp, &o2, &bad, &msg), BAYES_ENOINPUT);
  ck_assert(bad == NULL);
  bayes_string_free(msg);
  /* {csv:, column:} next to the model */
  bt_write_file(mp, "model: csv_api\n"
                 "data:\n"
                 "  y: {csv: obs.csv, column: flux}\n"
                 "parameters:\n"
                 "  mu: normal(0, 1)\n"
                 "likelihood:\n"
                 "  y: normal(mu, 1)\n");
  m = bt_load_path(mp, NULL);
  want = lnorm1(mu, 0) + lnorm1(1.25, mu) + lnorm1(-0.75, mu) + lnorm1(3.5, mu);
  ck_assert_double_eq_tol(one_param_ld(m, mu), want, 1e-12);
  bayes_model_free(m);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The spec (section 2): a data file's keys that the model does not use are ignored, as
 * CmdStan's are. Whatever their value (a string, a boolean, an object such as CmdStan's
 * tuples), they must not stop the run. */
START_TEST(test_data_unused_keys_any_value)
{
  char mp[512], dp[512];
  tmp_path(mp, sizeof mp, ".yaml");
  tmp_path(dp, sizeof dp, ".json");
  bt_write_file(mp, "model: unused\ndata:\n  N: int\nparameters:\n  mu: normal(0, N)\n");
  bt_write_file(dp, "{\"N\": 2, \"label\": \"run 7\", \"flag\": true, \"tup\": {\"1\": 1, \"2\": [1, 2]}}\n");
  bayes_load_opts o = {.data_file = dp, .verbose = false};
  bayes_model *m = bt_load_path(mp, &o);
  bayes_model_free(m);
  unlink(mp);
  unlink(dp);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("logdensity");
  TCase *t = tcase_create("reference");
  tcase_set_timeout(t, 120);
  tcase_add_loop_test(t, test_reference, 0, NMODELS);
  suite_add_tcase(s, t);
  t = tcase_create("jacobian");
  tcase_set_timeout(t, 300);
  tcase_add_loop_test(t, test_jacobian, 0, NMODELS);
  suite_add_tcase(s, t);
  t = tcase_create("gradient");
  tcase_set_timeout(t, 300);
  tcase_add_loop_test(t, test_gradient, 0, NMODELS);
  tcase_add_loop_test(t, test_constrained_gradient, 0, NMODELS);
  suite_add_tcase(s, t);
  t = tcase_create("outputs");
  tcase_set_timeout(t, 120);
  tcase_add_loop_test(t, test_round_trip, 0, NMODELS);
  tcase_add_test(t, test_eight_schools_names);
  tcase_add_test(t, test_matrix_names);
  tcase_add_test(t, test_generated);
  suite_add_tcase(s, t);
  t = tcase_create("hot_path");
  tcase_set_timeout(t, 120);
  tcase_add_loop_test(t, test_no_alloc, 0, NMODELS);
  suite_add_tcase(s, t);
  t = tcase_create("data");
  tcase_add_test(t, test_data_loading);
  tcase_add_test(t, test_data_unused_keys_any_value);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return bt_run_suite(suite()); }
