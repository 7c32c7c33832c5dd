/* test_kernel.c — unit tests of the GP kernels and the gp_cov op (kernel.c): values against
 * independent references (the general Matérn formula through GSL's Bessel K, MacKay's
 * periodic construction, fixtures computed with NumPy/SciPy), finite-difference gradient
 * checks for every kernel and combination (including x2 == x1 as one slot), symmetry and
 * positive semi-definiteness, the fast rbf path against the general one, and errors. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_sf_gamma.h>
#include <lapacke.h>

#include "kernel.h"
#include "testutil.h"

#define GRAD_TOL 1e-6
#define MAXIN 20
#define MAXV 256          /* doubles per input */
#define KMAX (64 * 64)    /* output elements of the small cases */

static gsl_rng *rng;

static void fill_rand(double *x, size_t n, double lo, double hi)
{
  for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * gsl_rng_uniform(rng);
}

/* ---- a gp_cov instruction under construction ---- */

typedef struct {
  bayes_kexpr node[32];
  int nnode;
  int nin;
  bayes_shape xs[MAXIN];
  double val[MAXIN][MAXV];
  const double *xv[MAXIN];
  bool diff[MAXIN];
  size_t n1, n2, d;
  bool same;
  bayes_kexpr *root;
} kcase;

static bayes_shape pts_shape(size_t n, size_t d, bool as_matrix)
{
  return (d == 1 && !as_matrix) ? bayes_shape_vec(n) : bayes_shape_mat(n, d);
}

/* Points: x1 [n1, d], x2 [n2, d] (vectors when d == 1 and !as_matrix). same: x2 = x1. */
static void kc_init(kcase *c, size_t n1, size_t n2, size_t d, bool same, bool as_matrix)
{
  memset(c, 0, sizeof *c);
  c->n1 = n1;
  c->n2 = same ? n1 : n2;
  c->d = d;
  c->same = same;
  c->nin = 2;
  c->xs[0] = pts_shape(n1, d, as_matrix);
  c->xs[1] = pts_shape(c->n2, d, as_matrix);
  ck_assert(n1 * d <= MAXV && c->n2 * d <= MAXV);
  fill_rand(c->val[0], n1 * d, -2, 2);
  if (same)
    memcpy(c->val[1], c->val[0], n1 * d * sizeof(double));
  else
    fill_rand(c->val[1], c->n2 * d, -2, 2);
  for (int i = 0; i < MAXIN; i++) {
    c->xv[i] = c->val[i];
    c->diff[i] = true;
  }
}

/* A hyperparameter input: n == 0 scalar, else a vector of n. Returns its input index. */
static int kc_in(kcase *c, size_t n, const double *v)
{
  int i = c->nin++;
  ck_assert_int_lt(i, MAXIN);
  c->xs[i] = n == 0 ? bayes_shape_scalar() : bayes_shape_vec(n);
  memcpy(c->val[i], v, (n ? n : 1) * sizeof(double));
  return i;
}
static int kc_s(kcase *c, double v) { return kc_in(c, 0, &v); }

static bayes_kexpr *kc_node(kcase *c, bayes_kexpr_kind kind)
{
  ck_assert_int_lt(c->nnode, 32);
  bayes_kexpr *k = &c->node[c->nnode++];
  k->kind = kind;
  return k;
}
/* hyper: input indices, -1 = default; entries beyond the type's nhyper are ignored */
static bayes_kexpr *kc_leaf(kcase *c, const char *name, int h0, int h1, int h2)
{
  bayes_kexpr *k = kc_node(c, BAYES_K_LEAF);
  k->type = bayes_kernel_find(name);
  ck_assert_msg(k->type != NULL, "kernel %s not registered", name);
  int h[3] = {h0, h1, h2};
  for (int i = 0; i < BAYES_KERNEL_MAX_HYPER; i++) k->hyper_in[i] = i < 3 ? h[i] : -1;
  return k;
}
static bayes_kexpr *kc_bin(kcase *c, bayes_kexpr_kind kind, bayes_kexpr *a, bayes_kexpr *b)
{
  bayes_kexpr *k = kc_node(c, kind);
  k->a = a;
  k->b = b;
  return k;
}
static bayes_kexpr *kc_scale(kcase *c, int s, bayes_kexpr *a)
{
  bayes_kexpr *k = kc_node(c, BAYES_K_SCALE);
  k->scale_in = s;
  k->a = a;
  return k;
}

static bt_opcheck kc_check(kcase *c, bayes_shape *ys)
{
  *ys = bayes_shape_mat(c->n1, c->n2);
  bt_opcheck oc = {0};
  oc.op = &bayes_op_gp_cov;
  oc.nin = c->nin;
  oc.nout = 1;
  oc.xs = c->xs;
  oc.xv = c->xv;
  oc.diff = c->diff;
  oc.ys = ys;
  oc.aux = c->root;
  oc.iarg[0] = c->same ? 1 : 0;
  oc.work = bayes_gp_cov_work(c->root, c->n1, c->n2, c->d, c->nin - 2);
  return oc;
}

static void kc_validate(kcase *c)
{
  const bayes_shape *sh[MAXIN];
  char err[256];
  for (int i = 0; i < c->nin; i++) sh[i] = &c->xs[i];
  int rc = bayes_kexpr_check(c->root, sh, c->nin, c->d, err, sizeof err);
  ck_assert_msg(rc == 0, "kexpr_check: %s", err);
}

/* Evaluates the op; K must hold n1*n2. */
static void kc_eval(kcase *c, double *K)
{
  bayes_shape ys;
  kc_validate(c);
  bt_opcheck oc = kc_check(c, &ys);
  char msg[256] = "";
  int rc = bt_op_eval(&oc, (double *const[]){K}, msg, sizeof msg);
  ck_assert_msg(rc == 0, "gp_cov failed: %s", msg);
}

/* ---- independent references ---- */

/* Matérn of smoothness nu at scaled distance u: 2^(1-nu)/Γ(nu) z^nu K_nu(z), z = √(2nu) u
 * (Rasmussen & Williams eq. 4.14). */
static double matern_ref(double nu, double u)
{
  if (u == 0) return 1.0;
  double z = sqrt(2 * nu) * u;
  return pow(2.0, 1 - nu) / gsl_sf_gamma(nu) * pow(z, nu) * gsl_sf_bessel_Knu(nu, z);
}

static double ref_leaf(const kcase *c, const bayes_kexpr *k, const double *x, const double *y,
                       int same)
{
  const char *nm = k->type->name;
  double h[3];
  const double *hv[3];
  size_t hn[3];
  for (int i = 0; i < k->type->nhyper; i++) {
    int s = k->hyper_in[i];
    hv[i] = s >= 0 ? c->val[s] : &k->type->defaults[i];
    hn[i] = s >= 0 ? bayes_shape_size(&c->xs[s]) : 1;
    h[i] = hv[i][0];
  }
  size_t d = c->d;
  double q = 0, r2 = 0, dot = 0;
  for (size_t j = 0; j < d; j++) {
    double e = k->type->nhyper > 0 && hn[0] > 1 ? hv[0][j] : h[0];
    q += pow((x[j] - y[j]) / e, 2);
    r2 += pow(x[j] - y[j], 2);
    dot += x[j] * y[j];
  }
  if (!strcmp(nm, "rbf")) return h[1] * h[1] * exp(-q / 2);
  if (!strcmp(nm, "matern12")) return h[1] * h[1] * matern_ref(0.5, sqrt(q));
  if (!strcmp(nm, "matern32")) return h[1] * h[1] * matern_ref(1.5, sqrt(q));
  if (!strcmp(nm, "matern52")) return h[1] * h[1] * matern_ref(2.5, sqrt(q));
  if (!strcmp(nm, "rational_quadratic"))
    return h[1] * h[1] * pow(1 + q / (2 * h[2]), -h[2]);
  if (!strcmp(nm, "periodic")) {
    if (d == 1) {
      /* MacKay: an rbf of u(x) = (cos(2πx/p), sin(2πx/p)) with lengthscale ell */
      double w = 2 * M_PI / h[2];
      double du = pow(cos(w * x[0]) - cos(w * y[0]), 2) + pow(sin(w * x[0]) - sin(w * y[0]), 2);
      return h[1] * h[1] * exp(-du / (2 * h[0] * h[0]));
    }
    return h[1] * h[1] * exp(-2 * pow(sin(M_PI * sqrt(r2) / h[2]), 2) / (h[0] * h[0]));
  }
  if (!strcmp(nm, "linear")) return h[0] * h[0] + dot;
  if (!strcmp(nm, "polynomial")) return h[2] * h[2] * pow(dot + h[1], h[0]);
  if (!strcmp(nm, "white")) return same ? h[0] * h[0] : 0.0;
  if (!strcmp(nm, "constant")) return h[0] * h[0];
  ck_abort_msg("no reference for %s", nm);
  return NAN;
}

static double ref_tree(const kcase *c, const bayes_kexpr *k, const double *x, const double *y,
                       int same)
{
  switch (k->kind) {
  case BAYES_K_LEAF: return ref_leaf(c, k, x, y, same);
  case BAYES_K_SUM: return ref_tree(c, k->a, x, y, same) + ref_tree(c, k->b, x, y, same);
  case BAYES_K_PROD: return ref_tree(c, k->a, x, y, same) * ref_tree(c, k->b, x, y, same);
  default: return c->val[k->scale_in][0] * ref_tree(c, k->a, x, y, same);
  }
}

static void kc_compare_ref(kcase *c, double tol)
{
  double *K = malloc(c->n1 * c->n2 * sizeof(double));
  kc_eval(c, K);
  for (size_t i = 0; i < c->n1; i++)
    for (size_t j = 0; j < c->n2; j++) {
      double r = ref_tree(c, c->root, c->val[0] + i * c->d, c->val[1] + j * c->d,
                          c->same && i == j);
      double v = K[i * c->n2 + j];
      ck_assert_msg(fabs(v - r) <= tol * fmax(1.0, fabs(r)),
                    "K[%zu,%zu] = %.17g, reference %.17g", i, j, v, r);
    }
  free(K);
}

/* ---- x2 == x1 as the same slot: a hand-built program and its own FD check ---- */

static double same_slot_grad_check(kcase *c, char *report, size_t len)
{
  bayes_prog p;
  bayes_prog_init(&p);
  int slot[MAXIN], in[MAXIN];
  for (int k = 0; k < c->nin; k++) {
    if (k == 1) {
      slot[1] = slot[0];
    } else {
      slot[k] = c->diff[k] ? bayes_prog_slot(&p, &c->xs[k], BAYES_SLOT_ADJ)
                           : bayes_prog_const(&p, &c->xs[k], 0, c->val[k]);
    }
    in[k] = slot[k];
  }
  bayes_shape ys = bayes_shape_mat(c->n1, c->n1);
  int ii = bayes_prog_add(&p, &bayes_op_gp_cov, c->nin, in, 1, &ys, false);
  ck_assert_int_ge(ii, 0);
  bayes_instr *ins = &p.ins[ii];
  ins->aux = c->root;
  ins->iarg[0] = 1;
  ins->work = bayes_gp_cov_work(c->root, c->n1, c->n1, c->d, c->nin - 2);
  int out = ins->out[0];
  p.slots[out].flags |= BAYES_SLOT_ADJ;
  ck_assert_int_eq(bayes_prog_layout(&p), 0);
  bayes_exec *ex = bayes_exec_alloc(&p);
  ck_assert_ptr_nonnull(ex);
  for (int k = 0; k < c->nin; k++)
    if (k != 1 && c->diff[k])
      memcpy(bayes_exec_val(ex, slot[k]), c->val[k], bayes_shape_size(&c->xs[k]) * sizeof(double));
  size_t n = c->n1 * c->n1;
  double *wts = malloc(n * sizeof(double));
  for (size_t j = 0; j < n; j++) wts[j] = 0.5 + gsl_rng_uniform(rng);
  ex->grad = true;
  bayes_exec_one(ex, ii);
  ck_assert_msg(!ex->failed, "forward failed: %s", ex->fail_msg);
  memset(ex->adj, 0, p.nvals * sizeof(double));
  memcpy(bayes_exec_adj(ex, out), wts, n * sizeof(double));
  bayes_op_gp_cov.bwd(&ex->bound[ii]);
  ex->grad = false;
  double worst = 0;
  for (int k = 0; k < c->nin; k++) {
    if (k == 1 || !c->diff[k]) continue;
    double *x = bayes_exec_val(ex, slot[k]);
    const double *g = bayes_exec_adj(ex, slot[k]);
    size_t m = bayes_shape_size(&c->xs[k]);
    for (size_t i = 0; i < m; i++) {
      double x0 = x[i], h = 1e-4 * fmax(1.0, fabs(x0)), f[4];
      const double off[4] = {-2, -1, 1, 2};
      for (int t = 0; t < 4; t++) {
        x[i] = x0 + off[t] * h;
        bayes_exec_one(ex, ii);
        const double *K = bayes_exec_val(ex, out);
        f[t] = 0;
        for (size_t j = 0; j < n; j++) f[t] += wts[j] * K[j];
      }
      x[i] = x0;
      double fd = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h);
      double err = fabs(g[i] - fd) / fmax(1.0, fabs(fd));
      if (!(err <= worst)) {
        worst = isnan(err) ? INFINITY : err;
        snprintf(report, len, "input %d element %zu: reverse %.10g, fd %.10g", k, i, g[i], fd);
      }
    }
  }
  free(wts);
  bayes_exec_free(ex);
  bayes_prog_destroy(&p);
  return worst;
}

/* ---- kernel builders used by many tests: one leaf of each kind with random hypers ---- */

static const char *const all_kernels[] = {"rbf", "matern12", "matern32", "matern52",
                                          "rational_quadratic", "periodic", "linear",
                                          "polynomial", "white", "constant", NULL};

/* Adds a leaf of kernel `name` with fresh hyperparameter inputs (ARD lengthscale if ard and
 * the kernel allows it). */
static bayes_kexpr *kc_any(kcase *c, const char *name, bool ard)
{
  const bayes_kernel_type *t = bayes_kernel_find(name);
  ck_assert_ptr_nonnull(t);
  if (!strcmp(name, "polynomial")) {
    int deg = kc_s(c, 3), cc = kc_s(c, 0.4 + gsl_rng_uniform(rng)), a = kc_s(c, 0.8);
    c->diff[deg] = false; /* an integer constant */
    return kc_leaf(c, name, deg, cc, a);
  }
  if (!strcmp(name, "linear")) return kc_leaf(c, name, kc_s(c, 0.7), -1, -1);
  if (!strcmp(name, "white")) return kc_leaf(c, name, kc_s(c, 0.3), -1, -1);
  if (!strcmp(name, "constant")) return kc_leaf(c, name, kc_s(c, 0.9), -1, -1);
  int ell;
  if (ard && (t->ard_mask & 1u)) {
    double v[8];
    fill_rand(v, c->d, 0.5, 2.0);
    ell = kc_in(c, c->d, v);
  } else {
    ell = kc_s(c, 0.5 + 1.5 * gsl_rng_uniform(rng));
  }
  int a = kc_s(c, 0.5 + gsl_rng_uniform(rng));
  if (!strcmp(name, "rational_quadratic")) return kc_leaf(c, name, ell, a, kc_s(c, 0.7));
  if (!strcmp(name, "periodic")) return kc_leaf(c, name, ell, a, kc_s(c, 1.7));
  return kc_leaf(c, name, ell, a, -1);
}

/* ---- tests ---- */

START_TEST(test_registry)
{
  for (int i = 0; all_kernels[i]; i++) {
    const bayes_kernel_type *t = bayes_kernel_find(all_kernels[i]);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->name, all_kernels[i]);
    ck_assert_int_le(t->nhyper, BAYES_KERNEL_MAX_HYPER);
    ck_assert_int_le(t->nhyper_min, t->nhyper);
    for (int k = 0; k < t->nhyper_min; k++) ck_assert(isnan(t->defaults[k]));
  }
  int n = 0;
  while (bayes_kernels[n]) n++;
  ck_assert_int_eq(n, 10);
  ck_assert_ptr_null(bayes_kernel_find("rbff"));
  ck_assert_ptr_null(bayes_kernel_find("nngp"));
}
END_TEST

/* Fixed values computed independently (NumPy / SciPy's kv for the Matérn kernels) at
 * x = (0.3, -1.2), x' = (1.1, 0.4), ARD ell = (0.7, 1.9), alpha = 1.3. */
START_TEST(test_fixtures)
{
  static const struct {
    const char *name;
    double want;
  } fx[] = {{"rbf", 0.6169894632125128},      {"matern12", 0.408660182783738},
            {"matern32", 0.49999193415983795}, {"matern52", 0.532438810825274},
            {"rational_quadratic", 0.8803810868490061}, {"periodic", 0.37717376444980333},
            {"polynomial", 0.07245874999999999}, {"linear", 0.21}};
  const double x1[2] = {0.3, -1.2}, x2[2] = {1.1, 0.4}, ell[2] = {0.7, 1.9};
  for (size_t t = 0; t < sizeof fx / sizeof fx[0]; t++) {
    kcase c;
    kc_init(&c, 1, 1, 2, false, true);
    memcpy(c.val[0], x1, sizeof x1);
    memcpy(c.val[1], x2, sizeof x2);
    const char *nm = fx[t].name;
    if (!strcmp(nm, "periodic"))
      c.root = kc_leaf(&c, nm, kc_s(&c, 0.9), kc_s(&c, 1.3), kc_s(&c, 2.5));
    else if (!strcmp(nm, "polynomial"))
      c.root = kc_leaf(&c, nm, kc_s(&c, 3), kc_s(&c, 0.5), kc_s(&c, 1.3));
    else if (!strcmp(nm, "linear"))
      c.root = kc_leaf(&c, nm, kc_s(&c, 0.6), -1, -1);
    else if (!strcmp(nm, "rational_quadratic"))
      c.root = kc_leaf(&c, nm, kc_in(&c, 2, ell), kc_s(&c, 1.3), kc_s(&c, 0.8));
    else
      c.root = kc_leaf(&c, nm, kc_in(&c, 2, ell), kc_s(&c, 1.3), -1);
    double K;
    kc_eval(&c, &K);
    ck_assert_msg(fabs(K - fx[t].want) < 1e-13, "%s: %.17g, want %.17g", nm, K, fx[t].want);
  }
  /* a 1-D case by hand: rbf(ell = 2, alpha = 1.5) at distance 1 is 2.25 exp(-1/8) */
  kcase c;
  kc_init(&c, 1, 1, 1, false, false);
  c.val[0][0] = 0;
  c.val[1][0] = 1;
  c.root = kc_leaf(&c, "rbf", kc_s(&c, 2), kc_s(&c, 1.5), -1);
  double K;
  kc_eval(&c, &K);
  ck_assert_double_eq_tol(K, 1.9856180308153395, 1e-15);
}
END_TEST

/* Every kernel alone: 1-D (vector and [N,1]), 2-D, 2-D ARD; cross and same. */
START_TEST(test_values_each)
{
  for (int t = 0; all_kernels[t]; t++)
    for (int layout = 0; layout < 4; layout++)
      for (int same = 0; same < 2; same++) {
        size_t d = layout < 2 ? 1 : 3;
        kcase c;
        kc_init(&c, 5, 4, d, same, layout == 1);
        c.root = kc_any(&c, all_kernels[t], layout == 3);
        kc_compare_ref(&c, 1e-12);
      }
}
END_TEST

static bayes_kexpr *combo(kcase *c, int which, bool ard)
{
  switch (which) {
  case 0: /* rbf + white */
    return kc_bin(c, BAYES_K_SUM, kc_any(c, "rbf", ard), kc_any(c, "white", ard));
  case 1: /* white + rbf (fast path, other order) */
    return kc_bin(c, BAYES_K_SUM, kc_any(c, "white", ard), kc_any(c, "rbf", ard));
  case 2: /* periodic * rbf (locally periodic) */
    return kc_bin(c, BAYES_K_PROD, kc_any(c, "periodic", ard), kc_any(c, "rbf", ard));
  case 3: /* s * matern52 + linear */
    return kc_bin(c, BAYES_K_SUM, kc_scale(c, kc_s(c, 1.7), kc_any(c, "matern52", ard)),
                  kc_any(c, "linear", ard));
  case 4: /* (matern32 + constant) * rational_quadratic + s * (polynomial * matern12) + white */
    return kc_bin(
        c, BAYES_K_SUM,
        kc_bin(c, BAYES_K_SUM,
               kc_bin(c, BAYES_K_PROD,
                      kc_bin(c, BAYES_K_SUM, kc_any(c, "matern32", ard),
                             kc_any(c, "constant", ard)),
                      kc_any(c, "rational_quadratic", ard)),
               kc_scale(c, kc_s(c, 0.6),
                        kc_bin(c, BAYES_K_PROD, kc_any(c, "polynomial", ard),
                               kc_any(c, "matern12", ard)))),
        kc_any(c, "white", ard));
  case 5: { /* rbf * rbf with a shared lengthscale input, scaled twice */
    int ell = kc_s(c, 0.9), a = kc_s(c, 1.1);
    bayes_kexpr *r1 = kc_leaf(c, "rbf", ell, a, -1), *r2 = kc_leaf(c, "rbf", ell, -1, -1);
    return kc_scale(c, kc_s(c, 0.5), kc_scale(c, kc_s(c, -1.5), kc_bin(c, BAYES_K_PROD, r1, r2)));
  }
  default: return NULL;
  }
}
#define NCOMBO 6

START_TEST(test_values_combos)
{
  for (int w = 0; w < NCOMBO; w++)
    for (int d = 1; d <= 2; d++)
      for (int same = 0; same < 2; same++)
        for (int ard = 0; ard < 2; ard++) {
          kcase c;
          kc_init(&c, 6, 3, d, same, false);
          c.root = combo(&c, w, ard);
          kc_compare_ref(&c, 1e-12);
        }
}
END_TEST

/* The specialised rbf path against the general one (an ARD vector with equal entries). */
START_TEST(test_rbf_fast_vs_general)
{
  for (int same = 0; same < 2; same++)
    for (int d = 1; d <= 3; d += 2) {
      kcase a, b;
      kc_init(&a, 7, 5, d, same, false);
      b = a; /* the same points; the value pointers must point into b */
      for (int i = 0; i < MAXIN; i++) b.xv[i] = b.val[i];
      double ellv[3] = {0.8, 0.8, 0.8};
      a.root = kc_bin(&a, BAYES_K_SUM, kc_leaf(&a, "rbf", kc_s(&a, 0.8), kc_s(&a, 1.2), -1),
                      kc_leaf(&a, "white", kc_s(&a, 0.4), -1, -1));
      b.root = kc_bin(&b, BAYES_K_SUM,
                      kc_leaf(&b, "rbf", kc_in(&b, d, ellv), kc_s(&b, 1.2), -1),
                      kc_leaf(&b, "white", kc_s(&b, 0.4), -1, -1));
      double Ka[KMAX], Kb[KMAX];
      kc_eval(&a, Ka);
      kc_eval(&b, Kb);
      for (size_t i = 0; i < a.n1 * a.n2; i++) ck_assert_double_eq_tol(Ka[i], Kb[i], 1e-14);
    }
}
END_TEST

static void grad_ok(kcase *c, const char *what)
{
  bayes_shape ys;
  kc_validate(c);
  bt_opcheck oc = kc_check(c, &ys);
  char rep[512];
  double e = bt_op_grad_check(&oc, rep, sizeof rep);
  ck_assert_msg(e < GRAD_TOL, "%s: gradient error %g: %s", what, e, rep);
}

/* Cross-covariances: hyperparameters and both point sets (latent inputs). */
START_TEST(test_grad_each)
{
  for (int t = 0; all_kernels[t]; t++)
    for (int layout = 0; layout < 3; layout++) {
      size_t d = layout == 0 ? 1 : 2;
      kcase c;
      kc_init(&c, 4, 3, d, false, false);
      c.root = kc_any(&c, all_kernels[t], layout == 2);
      char what[64];
      snprintf(what, sizeof what, "%s layout %d", all_kernels[t], layout);
      grad_ok(&c, what);
    }
}
END_TEST

/* gp_cov(x) with data x (the one-triangle path): hyperparameter gradients only. */
START_TEST(test_grad_same_data)
{
  for (int t = 0; all_kernels[t]; t++)
    for (int ard = 0; ard < 2; ard++) {
      kcase c;
      kc_init(&c, 5, 5, 2, true, false);
      c.root = kc_any(&c, all_kernels[t], ard);
      c.diff[0] = c.diff[1] = false;
      grad_ok(&c, all_kernels[t]);
    }
  for (int w = 0; w < NCOMBO; w++) {
    kcase c;
    kc_init(&c, 5, 5, 1, true, false);
    c.root = combo(&c, w, false);
    c.diff[0] = c.diff[1] = false;
    grad_ok(&c, "combo same data");
  }
}
END_TEST

START_TEST(test_grad_combos)
{
  for (int w = 0; w < NCOMBO; w++)
    for (int d = 1; d <= 2; d++)
      for (int ard = 0; ard < 2; ard++) {
        kcase c;
        kc_init(&c, 4, 3, d, false, false);
        c.root = combo(&c, w, ard);
        char what[64];
        snprintf(what, sizeof what, "combo %d d %d ard %d", w, d, ard);
        grad_ok(&c, what);
      }
}
END_TEST

/* gp_cov(x) with latent x: x1 and x2 are ONE slot, so both adjoint contributions land in
 * the same array (and white's diagonal must not move with x). */
START_TEST(test_grad_same_slot)
{
  char rep[256];
  for (int t = 0; all_kernels[t]; t++)
    for (int d = 1; d <= 2; d++) {
      kcase c;
      kc_init(&c, 5, 5, d, true, false);
      c.root = kc_any(&c, all_kernels[t], d == 2);
      double e = same_slot_grad_check(&c, rep, sizeof rep);
      ck_assert_msg(e < GRAD_TOL, "%s d=%d: error %g: %s", all_kernels[t], d, e, rep);
    }
  for (int w = 0; w < NCOMBO; w++) {
    kcase c;
    kc_init(&c, 5, 5, 2, true, false);
    c.root = combo(&c, w, true);
    double e = same_slot_grad_check(&c, rep, sizeof rep);
    ck_assert_msg(e < GRAD_TOL, "combo %d: error %g: %s", w, e, rep);
  }
}
END_TEST

/* Coincident points: Matérn 3/2, 5/2, rbf, periodic are smooth there (gradient = limit);
 * matern12's x-gradient at x == x' is defined as 0 and its ell-gradient is the limit 0. */
START_TEST(test_coincident_points)
{
  const char *smooth[] = {"rbf", "matern32", "matern52", "rational_quadratic", "periodic"};
  for (int t = 0; t < 5; t++) {
    kcase c;
    kc_init(&c, 3, 3, 2, false, false);
    memcpy(c.val[1], c.val[0], 6 * sizeof(double)); /* x2 = x1 but a cross-covariance */
    c.root = kc_any(&c, smooth[t], true);
    grad_ok(&c, smooth[t]);
  }
  kcase c;
  kc_init(&c, 1, 1, 2, false, true);
  c.val[1][0] = c.val[0][0];
  c.val[1][1] = c.val[0][1];
  c.root = kc_any(&c, "matern12", false);
  bayes_shape ys;
  bt_opcheck oc = kc_check(&c, &ys);
  /* the op's gradient at the cusp: run bwd by hand through the harness pieces */
  bayes_prog p;
  bayes_prog_init(&p);
  int in[4];
  for (int k = 0; k < c.nin; k++) in[k] = bayes_prog_slot(&p, &c.xs[k], BAYES_SLOT_ADJ);
  int ii = bayes_prog_add(&p, &bayes_op_gp_cov, c.nin, in, 1, &ys, false);
  p.ins[ii].aux = c.root;
  p.ins[ii].work = oc.work;
  p.slots[p.ins[ii].out[0]].flags |= BAYES_SLOT_ADJ;
  bayes_prog_layout(&p);
  bayes_exec *ex = bayes_exec_alloc(&p);
  for (int k = 0; k < c.nin; k++)
    memcpy(bayes_exec_val(ex, in[k]), c.val[k], bayes_shape_size(&c.xs[k]) * sizeof(double));
  ex->grad = true;
  bayes_exec_one(ex, ii);
  memset(ex->adj, 0, p.nvals * sizeof(double));
  bayes_exec_adj(ex, p.ins[ii].out[0])[0] = 1;
  bayes_op_gp_cov.bwd(&ex->bound[ii]);
  double alpha = c.val[3][0];
  ck_assert_double_eq_tol(bayes_exec_val(ex, p.ins[ii].out[0])[0], alpha * alpha, 1e-15);
  for (int k = 0; k < 3; k++) {
    const double *g = bayes_exec_adj(ex, in[k]);
    for (size_t j = 0; j < bayes_shape_size(&c.xs[k]); j++)
      ck_assert_msg(g[j] == 0.0, "input %d: gradient %g at the cusp", k, g[j]);
  }
  ck_assert_double_eq_tol(bayes_exec_adj(ex, in[3])[0], 2 * alpha, 1e-15);
  bayes_exec_free(ex);
  bayes_prog_destroy(&p);
}
END_TEST

static void assert_psd(const double *K, size_t n, const char *what)
{
  double A[KMAX];
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      ck_assert_msg(K[i * n + j] == K[j * n + i], "%s: not symmetric at %zu,%zu", what, i, j);
      A[i * n + j] = K[i * n + j] + (i == j ? 1e-9 : 0.0);
    }
  lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, A, (lapack_int)n);
  ck_assert_msg(info == 0, "%s: Cholesky of K + 1e-9 I failed (info %d)", what, (int)info);
}

START_TEST(test_symmetric_psd)
{
  double K[KMAX];
  for (int rep = 0; rep < 5; rep++) {
    for (int t = 0; all_kernels[t]; t++)
      for (size_t d = 1; d <= 3; d += 2) {
        /* periodic with the Euclidean distance is not positive definite for D > 1 (a
         * periodic radial function cannot be, by Schoenberg's theorem): 1-D only */
        if (!strcmp(all_kernels[t], "periodic") && d > 1) continue;
        kcase c;
        kc_init(&c, 8, 8, d, true, false);
        c.root = kc_any(&c, all_kernels[t], d > 1);
        kc_eval(&c, K);
        assert_psd(K, 8, all_kernels[t]);
      }
    for (int w = 0; w < NCOMBO; w++) {
      if (w == 5) continue; /* negative scale -1.5 * 0.5: not a covariance */
      kcase c;
      kc_init(&c, 8, 8, 1, true, false);
      c.root = combo(&c, w, false);
      kc_eval(&c, K);
      assert_psd(K, 8, "combo");
    }
  }
}
END_TEST

/* White noise belongs to gp_cov(x) only: a cross-covariance gets none, even where points
 * coincide. */
START_TEST(test_white_cross)
{
  kcase c;
  kc_init(&c, 3, 3, 1, false, false);
  memcpy(c.val[1], c.val[0], 3 * sizeof(double));
  c.root = kc_leaf(&c, "white", kc_s(&c, 2.0), -1, -1);
  double K[9];
  kc_eval(&c, K);
  for (int i = 0; i < 9; i++) ck_assert_double_eq(K[i], 0.0);
  kc_init(&c, 3, 3, 1, true, false);
  c.root = kc_leaf(&c, "white", kc_s(&c, 2.0), -1, -1);
  kc_eval(&c, K);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) ck_assert_double_eq(K[i * 3 + j], i == j ? 4.0 : 0.0);
}
END_TEST

START_TEST(test_defaults)
{
  /* rbf(ell) has alpha = 1; rational_quadratic(ell) has alpha = a = 1; linear() sigma 0 */
  kcase c;
  kc_init(&c, 3, 2, 1, false, false);
  c.root = kc_bin(&c, BAYES_K_SUM, kc_leaf(&c, "rbf", kc_s(&c, 1.3), -1, -1),
                  kc_bin(&c, BAYES_K_PROD, kc_leaf(&c, "rational_quadratic", kc_s(&c, 0.7), -1, -1),
                         kc_leaf(&c, "linear", -1, -1, -1)));
  double K[6];
  kc_eval(&c, K);
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 2; j++) {
      double dx = c.val[0][i] - c.val[1][j], dot = c.val[0][i] * c.val[1][j];
      double want = exp(-dx * dx / (2 * 1.69)) + dot / (1 + dx * dx / (2 * 0.49));
      ck_assert_double_eq_tol(K[i * 2 + j], want, 1e-14);
    }
  grad_ok(&c, "defaults");
}
END_TEST

START_TEST(test_domain_failures)
{
  static const struct {
    const char *name;
    int bad;
    double v;
    const char *msg;
  } cases[] = {{"rbf", 0, -1.0, "gp_cov: rbf: ell must be positive, got -1"},
               {"matern32", 0, 0.0, "gp_cov: matern32: ell must be positive, got 0"},
               {"periodic", 2, 0.0, "gp_cov: periodic: period must be positive, got 0"},
               {"rational_quadratic", 2, -2.0,
                "gp_cov: rational_quadratic: a must be positive, got -2"},
               {"rbf", 1, INFINITY, "gp_cov: rbf: alpha must be finite, got inf"},
               {"polynomial", 0, 2.5,
                "gp_cov: polynomial: degree must be an integer from 0 to 32, got 2.5"}};
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    kcase c;
    kc_init(&c, 2, 2, 1, false, false);
    int h[3] = {kc_s(&c, 1.0), kc_s(&c, 1.0), kc_s(&c, 1.0)};
    c.val[h[cases[t].bad]][0] = cases[t].v;
    c.root = kc_leaf(&c, cases[t].name, h[0], h[1], h[2]);
    bayes_shape ys;
    bt_opcheck oc = kc_check(&c, &ys);
    double K[4];
    char msg[256] = "";
    ck_assert_int_eq(bt_op_eval(&oc, (double *const[]){K}, msg, sizeof msg), -1);
    ck_assert_msg(strstr(msg, cases[t].msg) != NULL, "message '%s' lacks '%s'", msg,
                  cases[t].msg);
  }
  /* a non-finite scale */
  kcase c;
  kc_init(&c, 2, 2, 1, false, false);
  c.root = kc_scale(&c, kc_s(&c, NAN), kc_leaf(&c, "constant", kc_s(&c, 1), -1, -1));
  bayes_shape ys;
  bt_opcheck oc = kc_check(&c, &ys);
  double K[4];
  char msg[256] = "";
  ck_assert_int_eq(bt_op_eval(&oc, (double *const[]){K}, msg, sizeof msg), -1);
  ck_assert_ptr_nonnull(strstr(msg, "scale must be finite"));
}
END_TEST

static void expect_check_error(kcase *c, size_t d, const char *want)
{
  const bayes_shape *sh[MAXIN];
  for (int i = 0; i < c->nin; i++) sh[i] = &c->xs[i];
  char err[256] = "";
  ck_assert_int_eq(bayes_kexpr_check(c->root, sh, c->nin, d, err, sizeof err), -1);
  ck_assert_msg(strcmp(err, want) == 0, "got '%s', want '%s'", err, want);
}

START_TEST(test_check_errors)
{
  kcase c;
  double v3[3] = {1, 2, 3};
  kc_init(&c, 3, 3, 2, false, false);
  c.root = kc_leaf(&c, "rbf", kc_in(&c, 3, v3), -1, -1);
  expect_check_error(&c, 2,
                     "rbf: ell must be a scalar or a vector of length 2 (one per input "
                     "dimension), got [3]");
  kc_init(&c, 3, 3, 2, false, false);
  c.root = kc_leaf(&c, "periodic", kc_in(&c, 2, v3), -1, kc_s(&c, 1));
  expect_check_error(&c, 2, "periodic: ell must be a scalar, got [2]");
  kc_init(&c, 3, 3, 2, false, false);
  c.root = kc_leaf(&c, "periodic", kc_s(&c, 1), -1, -1);
  expect_check_error(&c, 2, "periodic: missing argument period");
  kc_init(&c, 3, 3, 2, false, false);
  c.root = kc_scale(&c, kc_in(&c, 2, v3), kc_leaf(&c, "white", kc_s(&c, 1), -1, -1));
  expect_check_error(&c, 2, "a kernel can only be scaled by a scalar, got [2]");
  kc_init(&c, 3, 3, 2, false, false);
  c.root = kc_leaf(&c, "white", kc_s(&c, 1), -1, -1);
  expect_check_error(&c, 3, "gp_cov: points of dimension 3 expected, got [3, 2]");
  kc_init(&c, 3, 3, 2, false, false);
  c.root = kc_leaf(&c, "white", 7, -1, -1);
  expect_check_error(&c, 2, "white: sigma: input index 7 out of range");

  /* a deep (but legal-looking) tree beyond the node limit */
  static bayes_kexpr big[2 * BAYES_KEXPR_MAX_NODES];
  kc_init(&c, 3, 3, 1, false, false);
  int s = kc_s(&c, 1);
  big[0] = (bayes_kexpr){.kind = BAYES_K_LEAF, .type = bayes_kernel_find("constant")};
  big[0].hyper_in[0] = s;
  for (int i = 1; i < BAYES_KEXPR_MAX_NODES + 1; i++)
    big[i] = (bayes_kexpr){.kind = BAYES_K_SCALE, .scale_in = s, .a = &big[i - 1]};
  c.root = &big[BAYES_KEXPR_MAX_NODES];
  char want[128];
  snprintf(want, sizeof want, "kernel expression has more than %d terms", BAYES_KEXPR_MAX_NODES);
  expect_check_error(&c, 1, want);

  /* const hyperparameters */
  kc_init(&c, 3, 3, 1, false, false);
  int deg = kc_s(&c, 2.5);
  c.root = kc_leaf(&c, "polynomial", deg, -1, -1);
  const double *cv[MAXIN] = {NULL};
  char err[256];
  ck_assert_int_eq(bayes_kexpr_check_const(c.root, cv, c.nin, err, sizeof err), -1);
  ck_assert_str_eq(err, "polynomial: degree must be a constant");
  cv[deg] = c.val[deg];
  ck_assert_int_eq(bayes_kexpr_check_const(c.root, cv, c.nin, err, sizeof err), -1);
  ck_assert_str_eq(err, "polynomial: degree must be an integer from 0 to 32, got 2.5");
  c.val[deg][0] = 4;
  ck_assert_int_eq(bayes_kexpr_check_const(c.root, cv, c.nin, err, sizeof err), 0);
}
END_TEST

START_TEST(test_dump)
{
  kcase c;
  kc_init(&c, 3, 3, 1, true, false);
  int e = kc_s(&c, 1), a = kc_s(&c, 1), s = kc_s(&c, 2);
  c.root = kc_bin(&c, BAYES_K_PROD,
                  kc_bin(&c, BAYES_K_SUM, kc_leaf(&c, "rbf", e, a, -1),
                         kc_leaf(&c, "matern32", e, -1, -1)),
                  kc_scale(&c, s, kc_leaf(&c, "white", a, -1, -1)));
  int in[6] = {10, 10, 11, 12, 13};
  bayes_instr ins = {0};
  ins.op = &bayes_op_gp_cov;
  ins.nin = 5;
  ins.in = in;
  ins.aux = c.root;
  ins.iarg[0] = 1;
  bayes_sb sb;
  bayes_sb_init(&sb);
  bayes_op_gp_cov.dump(&ins, &sb);
  ck_assert_str_eq(bayes_sb_cstr(&sb),
                   " kernel=(rbf(%11, %12) + matern32(%11, alpha=1)) * %13 * white(%12) same");
  bayes_sb_destroy(&sb);
}
END_TEST

/* More points than one 64 x 64 tile of the one-triangle loops, N not a multiple of it:
 * values, and gradients through both the rbf path and the general one. */
START_TEST(test_many_points)
{
  char rep[256];
  for (int w = 0; w < 3; w++) {
    kcase c;
    kc_init(&c, 150, 150, 1, true, false);
    if (w == 0)
      c.root = kc_bin(&c, BAYES_K_SUM, kc_any(&c, "rbf", false), kc_any(&c, "white", false));
    else if (w == 1)
      c.root = kc_bin(&c, BAYES_K_SUM, kc_any(&c, "matern52", false), kc_any(&c, "white", false));
    else
      c.root = combo(&c, 2, false);
    kc_compare_ref(&c, 1e-12);
    double e = same_slot_grad_check(&c, rep, sizeof rep);
    ck_assert_msg(e < GRAD_TOL, "same slot, case %d: error %g: %s", w, e, rep);
    c.diff[0] = c.diff[1] = false; /* data x */
    grad_ok(&c, "many points, data x");
    c.same = false; /* a cross-covariance of 150 x 70 points */
    c.n2 = 70;
    c.xs[1] = bayes_shape_vec(70);
    c.diff[0] = c.diff[1] = true;
    kc_compare_ref(&c, 1e-12);
    grad_ok(&c, "many points, cross");
  }
}
END_TEST

static Suite *kernel_suite(void)
{
  Suite *s = suite_create("kernel");
  TCase *tc = tcase_create("kernel");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_registry);
  tcase_add_test(tc, test_fixtures);
  tcase_add_test(tc, test_values_each);
  tcase_add_test(tc, test_values_combos);
  tcase_add_test(tc, test_rbf_fast_vs_general);
  tcase_add_test(tc, test_grad_each);
  tcase_add_test(tc, test_grad_same_data);
  tcase_add_test(tc, test_grad_combos);
  tcase_add_test(tc, test_grad_same_slot);
  tcase_add_test(tc, test_coincident_points);
  tcase_add_test(tc, test_symmetric_psd);
  tcase_add_test(tc, test_white_cross);
  tcase_add_test(tc, test_defaults);
  tcase_add_test(tc, test_domain_failures);
  tcase_add_test(tc, test_check_errors);
  tcase_add_test(tc, test_dump);
  tcase_add_test(tc, test_many_points);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  gsl_set_error_handler_off();
  rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, 20240611);
  SRunner *sr = srunner_create(kernel_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  gsl_rng_free(rng);
  return failures != 0;
}
