/* test_dist_multivariate.c — unit tests of the vector-parameter discrete and multivariate
 * distributions: values against GSL and hand-typed closed forms, shape messages, gradients
 * against finite differences of the tape op, draws against exact moments and marginals. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_gamma.h>

#include "dist.h"
#include "ops.h"
#include "testutil.h"

extern const bayes_dist bayes_dist_categorical, bayes_dist_categorical_logit,
    bayes_dist_multinomial, bayes_dist_ordered_logistic, bayes_dist_multi_normal,
    bayes_dist_multi_normal_cholesky, bayes_dist_multi_student_t, bayes_dist_dirichlet,
    bayes_dist_lkj_corr, bayes_dist_lkj_corr_cholesky, bayes_dist_wishart,
    bayes_dist_inv_wishart;

#define TOL 1e-10

/* ------------------------------------------------------------------ fixtures */

static const double Sigma3[9] = {2.0, 0.3, -0.4, 0.3, 1.5, 0.2, -0.4, 0.2, 1.0};
static const double Omega3[9] = {1, 0.3, -0.2, 0.3, 1, 0.4, -0.2, 0.4, 1};
static const double Y43[12] = {0.5, -1.2, 0.3, 2.1, 0.4, -0.7, -0.3, 0.9, 1.4, 1.0, 1.0, -2.0};
static const double Mu3[3] = {0.2, -0.5, 0.1};

static bayes_shape S0(void) { return bayes_shape_scalar(); }
static bayes_shape S1(size_t n) { return bayes_shape_vec(n); }
static bayes_shape S2(size_t r, size_t c) { return bayes_shape_mat(r, c); }

/* Evaluates d's mv_lpdf directly (after mv_check, which must pass). err gets the domain
 * message, if any. */
static double mv_lp(const bayes_dist *d, int nargs, const bayes_shape *s, const double *const *x,
                    char *err)
{
  const bayes_shape *sp[BAYES_DIST_MAXARG];
  char buf[128] = "";
  for (int k = 0; k < nargs; k++) sp[k] = &s[k];
  ck_assert_msg(d->mv_check(nargs, sp, buf, sizeof buf) == 0, "%s: mv_check: %s", d->name, buf);
  size_t w = d->mv_work ? d->mv_work(nargs, sp) : 0;
  double *work = malloc((w + 1) * sizeof *work);
  bayes_mvargs m;
  memset(&m, 0, sizeof m);
  m.nargs = nargs;
  m.scale = 1;
  m.work = work;
  m.err = err ? err : buf;
  m.err[0] = '\0';
  for (int k = 0; k < nargs; k++) {
    m.a[k].x = x[k];
    m.a[k].s = sp[k];
  }
  double v = d->mv_lpdf(&m);
  free(work);
  return v;
}

static void close_to(const char *what, double got, double ref)
{
  ck_assert_msg(fabs(got - ref) <= TOL * fmax(1, fabs(ref)), "%s: got %.15g, reference %.15g",
                what, got, ref);
}

/* gradient check of the fused op (tolerance 1e-6) */
static void mv_grad(const bayes_dist *d, int nargs, const bayes_shape *s, const double *const *x,
                    const bool *diff)
{
  const bayes_shape *sp[BAYES_DIST_MAXARG];
  for (int k = 0; k < nargs; k++) sp[k] = &s[k];
  bayes_shape ys = S0();
  bt_opcheck c = {.op = &bayes_op_dist_mv_sum, .nin = nargs, .nout = 1, .xs = s, .xv = x,
                  .diff = diff, .ys = &ys, .aux = d, .iarg = {BAYES_DF_LPDF},
                  .work = bayes_dist_work(d, &bayes_op_dist_mv_sum, nargs, sp)};
  char rep[256] = "";
  double e = bt_op_grad_check(&c, rep, sizeof rep);
  ck_assert_msg(e < 1e-6, "%s: gradient error %g: %s", d->name, e, rep);
}

/* ndraw draws of shape s[0] (parameters s[1..], x[1..]) into a new array */
static double *mv_draws(const bayes_dist *d, int nargs, const bayes_shape *s,
                        const double *const *x, size_t ndraw, gsl_rng *r)
{
  const bayes_shape *sp[BAYES_DIST_MAXARG];
  for (int k = 0; k < nargs; k++) sp[k] = &s[k];
  size_t one = bayes_shape_size(&s[0]);
  size_t w = d->mv_work ? d->mv_work(nargs, sp) : 0;
  double *work = malloc((w + 1) * sizeof *work), *out = malloc(ndraw * one * sizeof *out);
  char err[128] = "";
  bayes_mvargs m;
  memset(&m, 0, sizeof m);
  m.nargs = nargs;
  m.scale = 1;
  m.work = work;
  m.err = err;
  m.a[0].s = sp[0];
  for (int k = 1; k < nargs; k++) {
    m.a[k].x = x[k];
    m.a[k].s = sp[k];
  }
  for (size_t i = 0; i < ndraw; i++)
    ck_assert_msg(d->mv_rng(r, &m, out + i * one) == 0, "%s_rng: %s", d->name, err);
  free(work);
  return out;
}

/* ---- independent reference computations (GSL, LU-based where a Cholesky would mirror
 * the code under test) */

static gsl_matrix *gmat(const double *a, size_t K)
{
  gsl_matrix *m = gsl_matrix_alloc(K, K);
  memcpy(m->data, a, K * K * sizeof(double));
  return m;
}

static double ref_logdet(const double *a, size_t K)
{
  gsl_matrix *m = gmat(a, K);
  gsl_permutation *p = gsl_permutation_alloc(K);
  int sg;
  gsl_linalg_LU_decomp(m, p, &sg);
  double ld = gsl_linalg_LU_lndet(m);
  gsl_permutation_free(p);
  gsl_matrix_free(m);
  return ld;
}

static void ref_inverse(const double *a, double *inv, size_t K)
{
  gsl_matrix *m = gmat(a, K), *mi = gsl_matrix_alloc(K, K);
  gsl_permutation *p = gsl_permutation_alloc(K);
  int sg;
  gsl_linalg_LU_decomp(m, p, &sg);
  gsl_linalg_LU_invert(m, p, mi);
  memcpy(inv, mi->data, K * K * sizeof(double));
  gsl_permutation_free(p);
  gsl_matrix_free(m);
  gsl_matrix_free(mi);
}

static gsl_matrix *ref_chol(const double *a, size_t K)
{
  gsl_matrix *m = gmat(a, K);
  gsl_linalg_cholesky_decomp1(m);
  for (size_t i = 0; i < K; i++)
    for (size_t j = i + 1; j < K; j++) gsl_matrix_set(m, i, j, 0);
  return m;
}

static double ref_mvn(const double *y, const double *mu, const double *S, size_t K)
{
  gsl_matrix *L = ref_chol(S, K);
  gsl_vector_const_view x = gsl_vector_const_view_array(y, K), m = gsl_vector_const_view_array(mu, K);
  gsl_vector *w = gsl_vector_alloc(K);
  double r;
  gsl_ran_multivariate_gaussian_log_pdf(&x.vector, &m.vector, L, &r, w);
  gsl_vector_free(w);
  gsl_matrix_free(L);
  return r;
}

/* Wishart log density typed from the textbook formula (Anderson 2003, Thm 7.2.2) with LU
 * determinants and inverse. (GSL 2.7's gsl_ran_wishart_log_pdf is not usable as a
 * reference: it sums lngamma((df - i + 1)/2) for i = 0..p-1, i.e. Gamma_p((n+1)/2)
 * instead of Gamma_p(n/2), which is off by 0.46 already at p = 1.) */
static double ref_wishart(const double *W, double nu, const double *S, size_t K)
{
  double Si[16], tr = 0, lmg = K * (K - 1) / 4.0 * log(M_PI);
  ref_inverse(S, Si, K);
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++) tr += Si[i * K + j] * W[j * K + i];
  for (size_t j = 1; j <= K; j++) lmg += lgamma(nu / 2 + (1.0 - j) / 2);
  return -nu * K / 2 * M_LN2 - lmg - nu / 2 * ref_logdet(S, K) +
         (nu - K - 1) / 2 * ref_logdet(W, K) - tr / 2;
}

/* ------------------------------------------------------------------ multi_normal */

START_TEST(test_multi_normal_values)
{
  char err[128];
  /* one row */
  bayes_shape s[3] = {S1(3), S1(3), S2(3, 3)};
  const double *x[3] = {Y43, Mu3, Sigma3};
  close_to("multi_normal [3]", mv_lp(&bayes_dist_multi_normal, 3, s, x, err),
           ref_mvn(Y43, Mu3, Sigma3, 3));
  /* four rows, one mu */
  double ref = 0;
  for (int i = 0; i < 4; i++) ref += ref_mvn(Y43 + 3 * i, Mu3, Sigma3, 3);
  bayes_shape s2[3] = {S2(4, 3), S1(3), S2(3, 3)};
  close_to("multi_normal [4, 3]", mv_lp(&bayes_dist_multi_normal, 3, s2, x, err), ref);
  /* four rows of mu, one y */
  double mus[12];
  for (int i = 0; i < 12; i++) mus[i] = 0.1 * i - 0.4;
  ref = 0;
  for (int i = 0; i < 4; i++) ref += ref_mvn(Y43, mus + 3 * i, Sigma3, 3);
  bayes_shape s3[3] = {S1(3), S2(4, 3), S2(3, 3)};
  const double *x3[3] = {Y43, mus, Sigma3};
  close_to("multi_normal mu [4, 3]", mv_lp(&bayes_dist_multi_normal, 3, s3, x3, err), ref);
  /* the upper triangle is never read */
  double junk[9];
  memcpy(junk, Sigma3, sizeof junk);
  junk[1] = 55;
  junk[2] = -7;
  junk[5] = 1e300;
  const double *xj[3] = {Y43, Mu3, junk};
  close_to("multi_normal upper ignored", mv_lp(&bayes_dist_multi_normal, 3, s, xj, err),
           ref_mvn(Y43, Mu3, Sigma3, 3));
  /* K = 2 against GSL's bivariate Gaussian */
  double sx = 1.3, sy = 0.6, rho = -0.45, y2[2] = {0.7, -0.2}, m2[2] = {0.1, 0.3};
  double S2x2[4] = {sx * sx, rho * sx * sy, rho * sx * sy, sy * sy};
  bayes_shape sb[3] = {S1(2), S1(2), S2(2, 2)};
  const double *xb[3] = {y2, m2, S2x2};
  close_to("multi_normal K = 2", mv_lp(&bayes_dist_multi_normal, 3, sb, xb, err),
           log(gsl_ran_bivariate_gaussian_pdf(y2[0] - m2[0], y2[1] - m2[1], sx, sy, rho)));
}
END_TEST

START_TEST(test_multi_normal_errors)
{
  char err[128] = "";
  double bad[9] = {1, 2, 0, 2, 1, 0, 0, 0, 1}; /* indefinite */
  bayes_shape s[3] = {S1(3), S1(3), S2(3, 3)};
  const double *x[3] = {Y43, Mu3, bad};
  ck_assert(isnan(mv_lp(&bayes_dist_multi_normal, 3, s, x, err)));
  ck_assert_str_eq(err, "covariance matrix Sigma is not positive definite");
  /* shape mismatches name both shapes */
  bayes_shape a[3] = {S2(10, 3), S1(4), S2(4, 4)};
  const bayes_shape *ap[3] = {&a[0], &a[1], &a[2]};
  ck_assert_int_eq(bayes_dist_multi_normal.mv_check(3, ap, err, sizeof err), -1);
  ck_assert_str_eq(err, "y has shape [10, 3] but mu has length 4");
  bayes_shape b[3] = {S1(3), S1(3), S2(3, 4)};
  const bayes_shape *bp[3] = {&b[0], &b[1], &b[2]};
  ck_assert_int_eq(bayes_dist_multi_normal.mv_check(3, bp, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "Sigma has shape [3, 4]"), "%s", err);
  bayes_shape c[3] = {S1(3), S1(4), S2(3, 3)};
  const bayes_shape *cp[3] = {&c[0], &c[1], &c[2]};
  ck_assert_int_eq(bayes_dist_multi_normal.mv_check(3, cp, err, sizeof err), -1);
  ck_assert_str_eq(err, "mu has length 4 but Sigma has shape [3, 3]");
  bayes_shape e[3] = {S2(5, 3), S2(4, 3), S2(3, 3)};
  const bayes_shape *ep[3] = {&e[0], &e[1], &e[2]};
  ck_assert_int_eq(bayes_dist_multi_normal.mv_check(3, ep, err, sizeof err), -1);
  ck_assert_str_eq(err, "y has shape [5, 3] but mu has shape [4, 3]");
  /* mv_shape: one variate has mu's shape */
  bayes_shape v;
  ck_assert_int_eq(bayes_dist_multi_normal.mv_shape(3, cp, &v, err, sizeof err), -1);
  ck_assert_int_eq(bayes_dist_multi_normal.mv_shape(3, ap + 0, &v, err, sizeof err), 0);
  ck_assert(v.rank == 1 && v.dim[0] == 4);
}
END_TEST

START_TEST(test_multi_normal_grad)
{
  bayes_shape s[3] = {S2(4, 3), S1(3), S2(3, 3)};
  const double *x[3] = {Y43, Mu3, Sigma3};
  mv_grad(&bayes_dist_multi_normal, 3, s, x, NULL);
  double mus[6] = {0.1, 0.2, -0.3, 1.0, -1.0, 0.5};
  bayes_shape s2[3] = {S1(3), S2(2, 3), S2(3, 3)};
  const double *x2[3] = {Y43, mus, Sigma3};
  mv_grad(&bayes_dist_multi_normal, 3, s2, x2, NULL);
  bool diff[3] = {false, false, true}; /* Sigma only (the path without y / mu partials) */
  mv_grad(&bayes_dist_multi_normal, 3, s, x, diff);
}
END_TEST

/* ------------------------------------------------------------------ multi_normal_cholesky */

START_TEST(test_multi_normal_cholesky)
{
  gsl_matrix *L = ref_chol(Sigma3, 3);
  double Ld[9];
  memcpy(Ld, L->data, sizeof Ld);
  gsl_matrix_free(L);
  bayes_shape s[3] = {S2(4, 3), S1(3), S2(3, 3)};
  const double *x[3] = {Y43, Mu3, Ld};
  double ref = 0;
  for (int i = 0; i < 4; i++) ref += ref_mvn(Y43 + 3 * i, Mu3, Sigma3, 3);
  close_to("multi_normal_cholesky", mv_lp(&bayes_dist_multi_normal_cholesky, 3, s, x, NULL), ref);
  mv_grad(&bayes_dist_multi_normal_cholesky, 3, s, x, NULL);
  char err[128];
  Ld[4] = -Ld[4];
  ck_assert(isnan(mv_lp(&bayes_dist_multi_normal_cholesky, 3, s, x, err)));
  ck_assert_msg(strstr(err, "positive finite diagonal"), "%s", err);
}
END_TEST

/* ------------------------------------------------------------------ multi_student_t */

/* hand-typed: Gamma((nu+K)/2) / (Gamma(nu/2) (nu pi)^(K/2) |S|^(1/2)) (1 + q/nu)^(-(nu+K)/2) */
static double ref_mst(const double *y, double nu, const double *mu, const double *S, size_t K)
{
  double Si[9], r[3], q = 0;
  ref_inverse(S, Si, K);
  for (size_t i = 0; i < K; i++) r[i] = y[i] - mu[i];
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++) q += r[i] * Si[i * K + j] * r[j];
  return lgamma((nu + K) / 2) - lgamma(nu / 2) - K / 2.0 * log(nu * M_PI) -
         0.5 * ref_logdet(S, K) - (nu + K) / 2 * log(1 + q / nu);
}

START_TEST(test_multi_student_t)
{
  double nu = 4.5;
  bayes_shape s[4] = {S2(4, 3), S0(), S1(3), S2(3, 3)};
  const double *x[4] = {Y43, &nu, Mu3, Sigma3};
  double ref = 0;
  for (int i = 0; i < 4; i++) ref += ref_mst(Y43 + 3 * i, nu, Mu3, Sigma3, 3);
  close_to("multi_student_t", mv_lp(&bayes_dist_multi_student_t, 4, s, x, NULL), ref);
  /* K = 1 is the scaled Student-t of GSL */
  double y = 1.7, mu = 0.4, var = 2.25;
  bayes_shape s1[4] = {S1(1), S0(), S1(1), S2(1, 1)};
  const double *x1[4] = {&y, &nu, &mu, &var};
  close_to("multi_student_t K = 1", mv_lp(&bayes_dist_multi_student_t, 4, s1, x1, NULL),
           log(gsl_ran_tdist_pdf((y - mu) / 1.5, nu) / 1.5));
  mv_grad(&bayes_dist_multi_student_t, 4, s, x, NULL);
  char err[128];
  double nub = -1;
  const double *xb[4] = {Y43, &nub, Mu3, Sigma3};
  ck_assert(isnan(mv_lp(&bayes_dist_multi_student_t, 4, s, xb, err)));
  ck_assert_msg(strstr(err, "nu must be positive"), "%s", err);
}
END_TEST

/* ------------------------------------------------------------------ dirichlet */

START_TEST(test_dirichlet)
{
  double al[4] = {0.7, 2.5, 1.0, 4.0};
  double y[8] = {0.1, 0.3, 0.2, 0.4, 0.25, 0.25, 0.05, 0.45};
  bayes_shape s[2] = {S2(2, 4), S1(4)};
  const double *x[2] = {y, al};
  close_to("dirichlet", mv_lp(&bayes_dist_dirichlet, 2, s, x, NULL),
           gsl_ran_dirichlet_lnpdf(4, al, y) + gsl_ran_dirichlet_lnpdf(4, al, y + 4));
  mv_grad(&bayes_dist_dirichlet, 2, s, x, NULL);
  /* rows of alpha */
  double al2[8] = {0.7, 2.5, 1.0, 4.0, 3, 3, 0.5, 1.5};
  bayes_shape s2[2] = {S2(2, 4), S2(2, 4)};
  const double *x2[2] = {y, al2};
  close_to("dirichlet rows", mv_lp(&bayes_dist_dirichlet, 2, s2, x2, NULL),
           gsl_ran_dirichlet_lnpdf(4, al2, y) + gsl_ran_dirichlet_lnpdf(4, al2 + 4, y + 4));
  mv_grad(&bayes_dist_dirichlet, 2, s2, x2, NULL);
  /* outside the simplex; invalid alpha */
  double ybad[4] = {0.5, 0.5, 0.5, -0.5}, ybad2[4] = {0.2, 0.2, 0.2, 0.2};
  bayes_shape s1[2] = {S1(4), S1(4)};
  const double *xb[2] = {ybad, al}, *xb2[2] = {ybad2, al};
  ck_assert(mv_lp(&bayes_dist_dirichlet, 2, s1, xb, NULL) == -INFINITY);
  ck_assert(mv_lp(&bayes_dist_dirichlet, 2, s1, xb2, NULL) == -INFINITY);
  double albad[4] = {1, 0, 1, 1};
  const double *xa[2] = {y, albad};
  char err[128];
  ck_assert(isnan(mv_lp(&bayes_dist_dirichlet, 2, s1, xa, err)));
  ck_assert_msg(strstr(err, "alpha must be positive"), "%s", err);
}
END_TEST

/* ------------------------------------------------------------------ LKJ */

/* K = 2: Omega = [[1, r], [r, 1]] has det 1 - r^2, and
 *   int_{-1}^{1} (1 - r^2)^(eta-1) dr = 2^(2 eta - 1) B(eta, eta)   (r = 2u - 1),
 * so the density of r is (1 - r^2)^(eta - 1) / (2^(2 eta - 1) B(eta, eta)). */
static double ref_lkj2(double r, double eta)
{
  return (eta - 1) * log1p(-r * r) - (2 * eta - 1) * M_LN2 - gsl_sf_lnbeta(eta, eta);
}

/* General K, in the Gamma-function form of the normalising constant (as in the Julia
 * Distributions.jl documentation; algebraically equal to LKJ 2009, typed independently):
 *   c_K = prod_{k=1}^{K-1} pi^(k/2) Gamma(eta + (K-1-k)/2) / Gamma(eta + (K-1)/2). */
static double ref_lkj(const double *O, size_t K, double eta)
{
  double lc = 0;
  for (size_t k = 1; k < K; k++)
    lc += 0.5 * k * log(M_PI) + lgamma(eta + (K - 1.0 - k) / 2) - lgamma(eta + (K - 1.0) / 2);
  return (eta - 1) * ref_logdet(O, K) - lc;
}

START_TEST(test_lkj_corr_values)
{
  const double etas[] = {0.5, 1.0, 2.7};
  for (int e = 0; e < 3; e++) {
    double eta = etas[e];
    for (double r = -0.9; r < 0.95; r += 0.3) {
      double O[4] = {1, r, r, 1};
      bayes_shape s[2] = {S2(2, 2), S0()};
      const double *x[2] = {O, &eta};
      close_to("lkj_corr K = 2", mv_lp(&bayes_dist_lkj_corr, 2, s, x, NULL), ref_lkj2(r, eta));
      double L[4] = {1, 0, r, sqrt(1 - r * r)};
      const double *xl[2] = {L, &eta};
      close_to("lkj_corr_cholesky K = 2", mv_lp(&bayes_dist_lkj_corr_cholesky, 2, s, xl, NULL),
               ref_lkj2(r, eta));
    }
    bayes_shape s3[2] = {S2(3, 3), S0()};
    const double *x3[2] = {Omega3, &eta};
    close_to("lkj_corr K = 3", mv_lp(&bayes_dist_lkj_corr, 2, s3, x3, NULL),
             ref_lkj(Omega3, 3, eta));
    /* the Cholesky factor's density adds the Jacobian prod_{i=2}^K L_ii^(K-i) */
    gsl_matrix *L = ref_chol(Omega3, 3);
    double Ld[9];
    memcpy(Ld, L->data, sizeof Ld);
    gsl_matrix_free(L);
    const double *xl3[2] = {Ld, &eta};
    close_to("lkj_corr_cholesky K = 3", mv_lp(&bayes_dist_lkj_corr_cholesky, 2, s3, xl3, NULL),
             ref_lkj(Omega3, 3, eta) + log(Ld[4]));
  }
  /* K = 3, eta = 1: uniform on the 3 x 3 correlation matrices, whose volume is pi^2 / 2 */
  double one = 1;
  bayes_shape s3[2] = {S2(3, 3), S0()};
  const double *x3[2] = {Omega3, &one};
  close_to("lkj_corr uniform K = 3", mv_lp(&bayes_dist_lkj_corr, 2, s3, x3, NULL),
           -log(M_PI * M_PI / 2));
  /* K = 4 */
  double O4[16] = {1, 0.2, 0.1, -0.3, 0.2, 1, 0.25, 0.1, 0.1, 0.25, 1, 0.3, -0.3, 0.1, 0.3, 1};
  double eta4 = 1.8;
  bayes_shape s4[2] = {S2(4, 4), S0()};
  const double *x4[2] = {O4, &eta4};
  close_to("lkj_corr K = 4", mv_lp(&bayes_dist_lkj_corr, 2, s4, x4, NULL), ref_lkj(O4, 4, eta4));
}
END_TEST

START_TEST(test_lkj_errors_and_grad)
{
  double eta = 2.2;
  bayes_shape s3[2] = {S2(3, 3), S0()};
  const double *x3[2] = {Omega3, &eta};
  mv_grad(&bayes_dist_lkj_corr, 2, s3, x3, NULL);
  gsl_matrix *L = ref_chol(Omega3, 3);
  double Ld[9];
  memcpy(Ld, L->data, sizeof Ld);
  gsl_matrix_free(L);
  const double *xl[2] = {Ld, &eta};
  mv_grad(&bayes_dist_lkj_corr_cholesky, 2, s3, xl, NULL);
  /* not positive definite / not a correlation matrix: outside the support */
  double bad[9] = {1, 0.9, -0.9, 0.9, 1, 0.9, -0.9, 0.9, 1};
  const double *xb[2] = {bad, &eta};
  ck_assert(mv_lp(&bayes_dist_lkj_corr, 2, s3, xb, NULL) == -INFINITY);
  double notcorr[9] = {2, 0, 0, 0, 1, 0, 0, 0, 1};
  const double *xn[2] = {notcorr, &eta};
  ck_assert(mv_lp(&bayes_dist_lkj_corr, 2, s3, xn, NULL) == -INFINITY);
  double Lbad[9] = {1, 0, 0, 0.5, 0.5, 0, 0, 0, 1}; /* row 2 not unit length */
  const double *xlb[2] = {Lbad, &eta};
  ck_assert(mv_lp(&bayes_dist_lkj_corr_cholesky, 2, s3, xlb, NULL) == -INFINITY);
  double etab = 0;
  const double *xe[2] = {Omega3, &etab};
  char err[128];
  ck_assert(isnan(mv_lp(&bayes_dist_lkj_corr, 2, s3, xe, err)));
  ck_assert_msg(strstr(err, "eta must be positive"), "%s", err);
  /* the variate's shape cannot come from eta */
  bayes_shape sc = S0(), v;
  const bayes_shape *none[2] = {NULL, &sc};
  ck_assert_int_eq(bayes_dist_lkj_corr.mv_shape(2, none, &v, err, sizeof err), -1);
  ck_assert_str_eq(err, "lkj_corr needs a shape, e.g. lkj_corr(2) [3, 3]");
  bayes_shape scal = S0();
  const bayes_shape *sscal[2] = {&scal, &sc};
  ck_assert_int_eq(bayes_dist_lkj_corr_cholesky.mv_shape(2, sscal, &v, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "lkj_corr_cholesky needs a shape"), "%s", err);
  const bayes_shape *given[2] = {&s3[0], &sc};
  ck_assert_int_eq(bayes_dist_lkj_corr.mv_shape(2, given, &v, err, sizeof err), 0);
  ck_assert(bayes_shape_eq(&v, &s3[0]));
}
END_TEST

/* ------------------------------------------------------------------ Wishart */

static const double W3[9] = {3.0, 0.5, -0.2, 0.5, 2.0, 0.4, -0.2, 0.4, 1.5};

START_TEST(test_wishart_values)
{
  double nu = 5.5;
  bayes_shape s[3] = {S2(3, 3), S0(), S2(3, 3)};
  const double *x[3] = {W3, &nu, Sigma3};
  close_to("wishart K = 3", mv_lp(&bayes_dist_wishart, 3, s, x, NULL),
           ref_wishart(W3, nu, Sigma3, 3));
  /* inv_wishart: W^-1 ~ wishart(nu, S^-1), and dW^-1/dW has |det| = |W|^-(K+1) */
  double Wi[9], Si[9];
  ref_inverse(W3, Wi, 3);
  ref_inverse(Sigma3, Si, 3);
  /* the references need exactly symmetric inputs */
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < i; j++) {
      Wi[j * 3 + i] = Wi[i * 3 + j];
      Si[j * 3 + i] = Si[i * 3 + j];
    }
  close_to("inv_wishart K = 3", mv_lp(&bayes_dist_inv_wishart, 3, s, x, NULL),
           ref_wishart(Wi, nu, Si, 3) - 4 * ref_logdet(W3, 3));
  /* K = 1: wishart(nu, s) = gamma(nu/2, scale 2 s); inv_wishart(nu, s) = inv_gamma(nu/2,
   * scale s/2), whose density at w is the gamma(nu/2, scale 2/s) density at 1/w over w^2 */
  double w = 1.7, sc = 0.8;
  bayes_shape s1[3] = {S2(1, 1), S0(), S2(1, 1)};
  const double *x1[3] = {&w, &nu, &sc};
  close_to("wishart K = 1", mv_lp(&bayes_dist_wishart, 3, s1, x1, NULL),
           log(gsl_ran_gamma_pdf(w, nu / 2, 2 * sc)));
  close_to("inv_wishart K = 1", mv_lp(&bayes_dist_inv_wishart, 3, s1, x1, NULL),
           log(gsl_ran_gamma_pdf(1 / w, nu / 2, 2 / sc) / (w * w)));
}
END_TEST

START_TEST(test_wishart_grad_errors)
{
  double nu = 5.5;
  bayes_shape s[3] = {S2(3, 3), S0(), S2(3, 3)};
  const double *x[3] = {W3, &nu, Sigma3};
  mv_grad(&bayes_dist_wishart, 3, s, x, NULL);
  mv_grad(&bayes_dist_inv_wishart, 3, s, x, NULL);
  bool dW[3] = {true, false, false}, dS[3] = {false, false, true};
  mv_grad(&bayes_dist_wishart, 3, s, x, dW);
  mv_grad(&bayes_dist_wishart, 3, s, x, dS);
  mv_grad(&bayes_dist_inv_wishart, 3, s, x, dW);
  mv_grad(&bayes_dist_inv_wishart, 3, s, x, dS);
  char err[128];
  double nub = 1.5;
  const double *xn[3] = {W3, &nub, Sigma3};
  ck_assert(isnan(mv_lp(&bayes_dist_wishart, 3, s, xn, err)));
  ck_assert_msg(strstr(err, "greater than K - 1"), "%s", err);
  double bad[9] = {1, 2, 0, 2, 1, 0, 0, 0, 1};
  const double *xs[3] = {W3, &nu, bad}, *xw[3] = {bad, &nu, Sigma3};
  ck_assert(isnan(mv_lp(&bayes_dist_wishart, 3, s, xs, err)));
  ck_assert_str_eq(err, "scale matrix S is not positive definite");
  ck_assert(isnan(mv_lp(&bayes_dist_inv_wishart, 3, s, xs, err)));
  ck_assert_str_eq(err, "scale matrix S is not positive definite");
  ck_assert(mv_lp(&bayes_dist_wishart, 3, s, xw, NULL) == -INFINITY);
  ck_assert(mv_lp(&bayes_dist_inv_wishart, 3, s, xw, NULL) == -INFINITY);
  bayes_shape m[3] = {S2(2, 2), S0(), S2(3, 3)};
  const bayes_shape *mp[3] = {&m[0], &m[1], &m[2]};
  ck_assert_int_eq(bayes_dist_wishart.mv_check(3, mp, err, sizeof err), -1);
  ck_assert_str_eq(err, "W has shape [2, 2] but S has shape [3, 3]");
}
END_TEST

/* ------------------------------------------------------------------ discrete, vector params */

START_TEST(test_categorical)
{
  double th[4] = {0.1, 0.2, 0.3, 0.4}, y[5] = {1, 4, 4, 2, 3};
  bayes_shape s[2] = {S1(5), S1(4)};
  const double *x[2] = {y, th};
  close_to("categorical", mv_lp(&bayes_dist_categorical, 2, s, x, NULL),
           log(0.1) + 2 * log(0.4) + log(0.2) + log(0.3));
  bool diff[2] = {false, true};
  mv_grad(&bayes_dist_categorical, 2, s, x, diff);
  bayes_shape s0[2] = {S0(), S1(4)};
  close_to("categorical scalar", mv_lp(&bayes_dist_categorical, 2, s0, x, NULL), log(0.1));
  /* categorical_logit: log softmax, typed out */
  double b[4] = {0.5, -1, 2, 0.1}, z = log(exp(0.5) + exp(-1) + exp(2) + exp(0.1));
  const double *xl[2] = {y, b};
  close_to("categorical_logit", mv_lp(&bayes_dist_categorical_logit, 2, s, xl, NULL),
           0.5 + 2 * 0.1 - 1 + 2 - 5 * z);
  mv_grad(&bayes_dist_categorical_logit, 2, s, xl, diff);
  /* outside the support, invalid simplex */
  double yb[2] = {0, 5};
  bayes_shape s1[2] = {S0(), S1(4)};
  const double *xb[2] = {yb, th}, *xb2[2] = {yb + 1, th};
  ck_assert(mv_lp(&bayes_dist_categorical, 2, s1, xb, NULL) == -INFINITY);
  ck_assert(mv_lp(&bayes_dist_categorical, 2, s1, xb2, NULL) == -INFINITY);
  ck_assert(mv_lp(&bayes_dist_categorical_logit, 2, s1, xb2, NULL) == -INFINITY);
  double thb[4] = {0.5, 0.5, 0.5, 0.5};
  const double *xt[2] = {y, thb};
  char err[128];
  ck_assert(isnan(mv_lp(&bayes_dist_categorical, 2, s0, xt, err)));
  ck_assert_msg(strstr(err, "simplex"), "%s", err);
}
END_TEST

START_TEST(test_multinomial)
{
  double th[3] = {0.2, 0.5, 0.3}, y[6] = {2, 5, 0, 1, 1, 4};
  unsigned u[6] = {2, 5, 0, 1, 1, 4};
  bayes_shape s[2] = {S2(2, 3), S1(3)};
  const double *x[2] = {y, th};
  close_to("multinomial", mv_lp(&bayes_dist_multinomial, 2, s, x, NULL),
           gsl_ran_multinomial_lnpdf(3, th, u) + gsl_ran_multinomial_lnpdf(3, th, u + 3));
  bool diff[2] = {false, true};
  mv_grad(&bayes_dist_multinomial, 2, s, x, diff);
  /* with N given: a row with another total is outside the support */
  double N = 7;
  bayes_shape s3[3] = {S1(3), S1(3), S0()};
  const double *x3[3] = {y, th, &N}, *x3b[3] = {y + 3, th, &N};
  close_to("multinomial N", mv_lp(&bayes_dist_multinomial, 3, s3, x3, NULL),
           gsl_ran_multinomial_lnpdf(3, th, u));
  ck_assert(mv_lp(&bayes_dist_multinomial, 3, s3, x3b, NULL) == -INFINITY);
  double yb[3] = {1, -1, 2};
  const double *xb[2] = {yb, th};
  ck_assert(mv_lp(&bayes_dist_multinomial, 2, s3, xb, NULL) == -INFINITY);
  /* draws need N */
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  bayes_mvargs m;
  double out[3], w[3];
  char err[128] = "";
  memset(&m, 0, sizeof m);
  m.nargs = 2;
  m.a[0].s = &s3[0];
  m.a[1].x = th;
  m.a[1].s = &s3[1];
  m.work = w;
  m.err = err;
  ck_assert_int_eq(bayes_dist_multinomial.mv_rng(r, &m, out), -1);
  ck_assert_msg(strstr(err, "number of trials"), "%s", err);
  gsl_rng_free(r);
}
END_TEST

/* P(y = k) from the definition, with inv_logit typed out */
static double ref_ordlog(int y, double eta, const double *c, int K)
{
  double hi = y == 1 ? 1 : 1 / (1 + exp(-(eta - c[y - 2])));
  double lo = y == K ? 0 : 1 / (1 + exp(-(eta - c[y - 1])));
  return log(hi - lo);
}

START_TEST(test_ordered_logistic)
{
  double c[3] = {-1.0, 0.3, 2.0}, eta[5] = {0.2, -1.5, 1.1, 3.0, 0.0}, y[5] = {1, 2, 3, 4, 2};
  bayes_shape s[3] = {S1(5), S1(5), S1(3)};
  const double *x[3] = {y, eta, c};
  double ref = 0;
  for (int i = 0; i < 5; i++) ref += ref_ordlog((int)y[i], eta[i], c, 4);
  close_to("ordered_logistic", mv_lp(&bayes_dist_ordered_logistic, 3, s, x, NULL), ref);
  bool diff[3] = {false, true, true};
  mv_grad(&bayes_dist_ordered_logistic, 3, s, x, diff);
  /* scalar eta broadcast over y */
  bayes_shape s2[3] = {S1(5), S0(), S1(3)};
  ref = 0;
  for (int i = 0; i < 5; i++) ref += ref_ordlog((int)y[i], eta[2], c, 4);
  const double *x2[3] = {y, eta + 2, c};
  close_to("ordered_logistic scalar eta", mv_lp(&bayes_dist_ordered_logistic, 3, s2, x2, NULL), ref);
  mv_grad(&bayes_dist_ordered_logistic, 3, s2, x2, diff);
  /* extreme predictors: the log_diff_exp form stays finite and exact where
   * inv_logit(a) - inv_logit(b) would round to 0 */
  double far = 45, y2 = 2;
  bayes_shape s3[3] = {S0(), S0(), S1(3)};
  const double *x3[3] = {&y2, &far, c};
  /* P(y = 2) = inv_logit(eta - c1) - inv_logit(eta - c2) ~ exp(-(eta - c2)) - exp(-(eta - c1)) */
  double refx = -(far - c[1]) + log1p(-exp(c[0] - c[1]));
  ck_assert_msg(fabs(mv_lp(&bayes_dist_ordered_logistic, 3, s3, x3, NULL) - refx) < 1e-9,
                "far tail: %g vs %g", mv_lp(&bayes_dist_ordered_logistic, 3, s3, x3, NULL), refx);
  /* errors */
  double cb[3] = {0, -1, 2};
  const double *xb[3] = {y, eta, cb};
  char err[128];
  ck_assert(isnan(mv_lp(&bayes_dist_ordered_logistic, 3, s, xb, err)));
  ck_assert_msg(strstr(err, "increasing"), "%s", err);
  double yb = 5;
  const double *xy[3] = {&yb, &far, c};
  ck_assert(mv_lp(&bayes_dist_ordered_logistic, 3, s3, xy, NULL) == -INFINITY);
  bayes_shape m[3] = {S1(4), S1(5), S1(3)};
  const bayes_shape *mp[3] = {&m[0], &m[1], &m[2]};
  ck_assert_int_eq(bayes_dist_ordered_logistic.mv_check(3, mp, err, sizeof err), -1);
  ck_assert_str_eq(err, "y has length 4 but eta has length 5");
}
END_TEST

/* ------------------------------------------------------------------ random draws */

/* Moment checks: a sample mean of 20000 iid values of f is compared with its exact
 * expectation within 6 estimated standard errors; by the CLT each check fails falsely with
 * probability ~2e-9 (P(|Z| > 6)), so even the ~60 checks below have a family-wise false-
 * failure rate below 2e-7. Marginal checks use the DKW bound at alpha = 1e-6. The seed is
 * fixed, so a passing run is reproducible. */
enum { NDRAW = 20000 };

/* values v[i * stride] (i < n): |mean - expect| <= 6 se */
static void check_mean(const char *what, const double *v, size_t n, size_t stride, double expect)
{
  double m = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) m += v[i * stride];
  m /= n;
  for (size_t i = 0; i < n; i++) s2 += (v[i * stride] - m) * (v[i * stride] - m);
  double se = sqrt(s2 / (n - 1) / n);
  ck_assert_msg(fabs(m - expect) <= 6 * se, "%s: mean %.6g, expected %.6g (se %.3g)", what, m,
                expect, se);
}

/* E[(x_i - mu_i)(x_j - mu_j)] = C_ij for draws x of length K (exact mean mu) */
static void check_cov(const char *what, const double *x, size_t n, size_t K, const double *mu,
                      const double *C)
{
  double *p = malloc(n * sizeof *p);
  char buf[96];
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j <= i; j++) {
      for (size_t t = 0; t < n; t++) p[t] = (x[t * K + i] - mu[i]) * (x[t * K + j] - mu[j]);
      snprintf(buf, sizeof buf, "%s cov[%zu][%zu]", what, i, j);
      check_mean(buf, p, n, 1, C[i * K + j]);
    }
  free(p);
}

START_TEST(test_rng_multi_normal)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 11);
  bayes_shape s[3] = {S1(3), S1(3), S2(3, 3)};
  const double *x[3] = {NULL, Mu3, Sigma3};
  double *d = mv_draws(&bayes_dist_multi_normal, 3, s, x, NDRAW, r);
  for (int k = 0; k < 3; k++) check_mean("multi_normal mean", d + k, NDRAW, 3, Mu3[k]);
  check_cov("multi_normal", d, NDRAW, 3, Mu3, Sigma3);
  free(d);
  gsl_matrix *L = ref_chol(Sigma3, 3);
  const double *xc[3] = {NULL, Mu3, L->data};
  d = mv_draws(&bayes_dist_multi_normal_cholesky, 3, s, xc, NDRAW, r);
  for (int k = 0; k < 3; k++) check_mean("multi_normal_cholesky mean", d + k, NDRAW, 3, Mu3[k]);
  check_cov("multi_normal_cholesky", d, NDRAW, 3, Mu3, Sigma3);
  free(d);
  gsl_matrix_free(L);
  /* several rows at once: row i uses mu row i */
  double mus[6] = {10, 0, 0, -10, 5, 1};
  bayes_shape s2[3] = {S2(2, 3), S2(2, 3), S2(3, 3)};
  const double *x2[3] = {NULL, mus, Sigma3};
  d = mv_draws(&bayes_dist_multi_normal, 3, s2, x2, NDRAW, r);
  for (int k = 0; k < 6; k++) check_mean("multi_normal rows", d + k, NDRAW, 6, mus[k]);
  free(d);
  /* multi_student_t, nu = 10: mean mu, covariance nu / (nu - 2) Sigma */
  double nu = 10, C[9];
  for (int i = 0; i < 9; i++) C[i] = nu / (nu - 2) * Sigma3[i];
  bayes_shape st[4] = {S1(3), S0(), S1(3), S2(3, 3)};
  const double *xt[4] = {NULL, &nu, Mu3, Sigma3};
  d = mv_draws(&bayes_dist_multi_student_t, 4, st, xt, NDRAW, r);
  for (int k = 0; k < 3; k++) check_mean("multi_student_t mean", d + k, NDRAW, 3, Mu3[k]);
  check_cov("multi_student_t", d, NDRAW, 3, Mu3, C);
  free(d);
  gsl_rng_free(r);
}
END_TEST

START_TEST(test_rng_dirichlet)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 12);
  double al[3] = {0.8, 2.0, 4.5}, a0 = 7.3, mu[3], C[9];
  for (int i = 0; i < 3; i++) mu[i] = al[i] / a0;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) C[i * 3 + j] = ((i == j) * mu[i] - mu[i] * mu[j]) / (a0 + 1);
  bayes_shape s[2] = {S1(3), S1(3)};
  const double *x[2] = {NULL, al};
  double *d = mv_draws(&bayes_dist_dirichlet, 2, s, x, NDRAW, r);
  for (int t = 0; t < NDRAW; t++)
    ck_assert(fabs(d[3 * t] + d[3 * t + 1] + d[3 * t + 2] - 1) < 1e-12);
  for (int k = 0; k < 3; k++) check_mean("dirichlet mean", d + k, NDRAW, 3, mu[k]);
  check_cov("dirichlet", d, NDRAW, 3, mu, C);
  free(d);
  gsl_rng_free(r);
}
END_TEST

typedef struct {
  double b;
} beta_ctx;

/* r = 2 u - 1 with u ~ Beta(b, b) */
static double corr_cdf(double r, const void *c)
{
  return gsl_cdf_beta_P((r + 1) / 2, ((const beta_ctx *)c)->b, ((const beta_ctx *)c)->b);
}

/* LKJ(eta), K = 3: every off-diagonal correlation is 2 Beta(eta - 1 + K/2, same) - 1
 * (Lewandowski et al. 2009, section 3.2); KS with the DKW bound at alpha = 1e-6 per
 * margin. Both rngs: lkj_corr (Omega) and lkj_corr_cholesky (L, checked via L L'). */
START_TEST(test_rng_lkj)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 13);
  const double etas[] = {0.7, 1.0, 3.5};
  double eps = bt_dkw_eps(NDRAW, 1e-6), *m = malloc(NDRAW * sizeof *m);
  for (int e = 0; e < 3; e++) {
    double eta = etas[e];
    beta_ctx bc = {eta - 1 + 1.5};
    bayes_shape s[2] = {S2(3, 3), S0()};
    const double *x[2] = {NULL, &eta};
    double *O = mv_draws(&bayes_dist_lkj_corr, 2, s, x, NDRAW, r);
    double *L = mv_draws(&bayes_dist_lkj_corr_cholesky, 2, s, x, NDRAW, r);
    for (int t = 0; t < NDRAW; t++) {
      const double *o = O + 9 * t, *l = L + 9 * t;
      for (int i = 0; i < 3; i++) {
        ck_assert(o[4 * i] == 1);
        double nrm = 0;
        for (int j = 0; j < 3; j++) {
          ck_assert(o[3 * i + j] == o[3 * j + i]);
          nrm += l[3 * i + j] * l[3 * i + j];
          if (j > i) ck_assert(l[3 * i + j] == 0);
        }
        ck_assert(fabs(nrm - 1) < 1e-12 && l[4 * i] > 0);
      }
    }
    const int ij[3][2] = {{1, 0}, {2, 0}, {2, 1}};
    for (int p = 0; p < 3; p++) {
      int i = ij[p][0], j = ij[p][1];
      for (int t = 0; t < NDRAW; t++) m[t] = O[9 * t + 3 * i + j];
      double D = bt_ks_distance(m, NDRAW, corr_cdf, &bc);
      ck_assert_msg(D <= eps, "lkj_corr eta %g r[%d][%d]: KS %g > %g", eta, i, j, D, eps);
      for (int t = 0; t < NDRAW; t++) {
        const double *l = L + 9 * t;
        double v = 0;
        for (int k = 0; k < 3; k++) v += l[3 * i + k] * l[3 * j + k];
        m[t] = v;
      }
      D = bt_ks_distance(m, NDRAW, corr_cdf, &bc);
      ck_assert_msg(D <= eps, "lkj_corr_cholesky eta %g r[%d][%d]: KS %g > %g", eta, i, j, D, eps);
    }
    free(O);
    free(L);
  }
  free(m);
  gsl_rng_free(r);
}
END_TEST

typedef struct {
  double a, b;
} gam_ctx;
static double gamma_cdf(double x, const void *c)
{
  return gsl_cdf_gamma_P(x, ((const gam_ctx *)c)->a, ((const gam_ctx *)c)->b);
}
/* inv_gamma(a, scale s): P(W <= w) = P(1/W >= 1/w), 1/W ~ gamma(a, scale 1/s) */
static double inv_gamma_cdf(double x, const void *c)
{
  return gsl_cdf_gamma_Q(1 / x, ((const gam_ctx *)c)->a, 1 / ((const gam_ctx *)c)->b);
}

START_TEST(test_rng_wishart)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 14);
  double eps = bt_dkw_eps(NDRAW, 1e-6);
  /* K = 3 wishart: E W = nu S, E (W_ij - nu S_ij)^2 = nu (S_ij^2 + S_ii S_jj) */
  double nu = 6.5;
  bayes_shape s[3] = {S2(3, 3), S0(), S2(3, 3)};
  const double *x[3] = {NULL, &nu, Sigma3};
  double *d = mv_draws(&bayes_dist_wishart, 3, s, x, NDRAW, r), *p = malloc(NDRAW * sizeof *p);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j <= i; j++) {
      check_mean("wishart mean", d + 3 * i + j, NDRAW, 9, nu * Sigma3[3 * i + j]);
      for (int t = 0; t < NDRAW; t++) {
        double dev = d[9 * t + 3 * i + j] - nu * Sigma3[3 * i + j];
        p[t] = dev * dev;
      }
      check_mean("wishart variance", p, NDRAW, 1,
                 nu * (Sigma3[3 * i + j] * Sigma3[3 * i + j] + Sigma3[4 * i] * Sigma3[4 * j]));
    }
  free(d);
  /* K = 3 inv_wishart, nu = K + 8 (finite variance): E W = S / (nu - K - 1) */
  double nui = 11;
  const double *xi[3] = {NULL, &nui, Sigma3};
  d = mv_draws(&bayes_dist_inv_wishart, 3, s, xi, NDRAW, r);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j <= i; j++)
      check_mean("inv_wishart mean", d + 3 * i + j, NDRAW, 9, Sigma3[3 * i + j] / (nui - 4));
  free(d);
  /* K = 1: the whole distribution against the gamma / inverse gamma CDF */
  double s1v = 0.8, nu1 = 3.3;
  bayes_shape s1[3] = {S2(1, 1), S0(), S2(1, 1)};
  const double *x1[3] = {NULL, &nu1, &s1v};
  d = mv_draws(&bayes_dist_wishart, 3, s1, x1, NDRAW, r);
  gam_ctx g = {nu1 / 2, 2 * s1v};
  double D = bt_ks_distance(d, NDRAW, gamma_cdf, &g);
  ck_assert_msg(D <= eps, "wishart K = 1: KS %g > %g", D, eps);
  free(d);
  d = mv_draws(&bayes_dist_inv_wishart, 3, s1, x1, NDRAW, r);
  gam_ctx ig = {nu1 / 2, s1v / 2};
  D = bt_ks_distance(d, NDRAW, inv_gamma_cdf, &ig);
  ck_assert_msg(D <= eps, "inv_wishart K = 1: KS %g > %g", D, eps);
  free(d);
  free(p);
  gsl_rng_free(r);
}
END_TEST

/* discrete draws over 1..K: empirical CDF within the DKW bound (alpha = 1e-6) of the
 * exact one, and the mean within 6 standard errors */
static void check_discrete(const char *what, const double *d, size_t n, const double *p, int K)
{
  double F = 0, Fn = 0, D = 0, mean = 0, m2 = 0, sum = 0;
  for (size_t t = 0; t < n; t++) {
    ck_assert_msg(d[t] >= 1 && d[t] <= K && d[t] == floor(d[t]), "%s draw %g", what, d[t]);
    sum += d[t];
  }
  for (int k = 1; k <= K; k++) {
    size_t c = 0;
    for (size_t t = 0; t < n; t++) c += d[t] == k;
    F += p[k - 1];
    Fn += (double)c / n;
    D = fmax(D, fabs(F - Fn));
    mean += k * p[k - 1];
    m2 += (double)k * k * p[k - 1];
  }
  ck_assert_msg(D <= bt_dkw_eps(n, 1e-6), "%s: sup |F_n - F| = %g", what, D);
  ck_assert_msg(fabs(sum / n - mean) <= 6 * sqrt((m2 - mean * mean) / n), "%s: mean %g vs %g",
                what, sum / n, mean);
}

START_TEST(test_rng_discrete)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 15);
  double th[4] = {0.1, 0.45, 0.05, 0.4};
  bayes_shape s[2] = {S0(), S1(4)};
  const double *x[2] = {NULL, th};
  double *d = mv_draws(&bayes_dist_categorical, 2, s, x, NDRAW, r);
  check_discrete("categorical", d, NDRAW, th, 4);
  free(d);
  double b[4] = {0.3, -1.0, 1.2, 0.0}, z = 0, pb[4];
  for (int k = 0; k < 4; k++) z += exp(b[k]);
  for (int k = 0; k < 4; k++) pb[k] = exp(b[k]) / z;
  const double *xb[2] = {NULL, b};
  d = mv_draws(&bayes_dist_categorical_logit, 2, s, xb, NDRAW, r);
  check_discrete("categorical_logit", d, NDRAW, pb, 4);
  free(d);
  double eta = 0.4, c[3] = {-1.0, 0.5, 1.5}, po[4];
  for (int k = 1; k <= 4; k++) po[k - 1] = exp(ref_ordlog(k, eta, c, 4));
  bayes_shape so[3] = {S0(), S0(), S1(3)};
  const double *xo[3] = {NULL, &eta, c};
  d = mv_draws(&bayes_dist_ordered_logistic, 3, so, xo, NDRAW, r);
  check_discrete("ordered_logistic", d, NDRAW, po, 4);
  free(d);
  /* multinomial(theta, N = 12): each draw sums to N, E y_k = N theta_k */
  double N = 12;
  bayes_shape sm[3] = {S1(4), S1(4), S0()};
  const double *xm[3] = {NULL, th, &N};
  d = mv_draws(&bayes_dist_multinomial, 3, sm, xm, NDRAW, r);
  for (int t = 0; t < NDRAW; t++) ck_assert(d[4 * t] + d[4 * t + 1] + d[4 * t + 2] + d[4 * t + 3] == N);
  for (int k = 0; k < 4; k++) check_mean("multinomial mean", d + k, NDRAW, 4, N * th[k]);
  free(d);
  gsl_rng_free(r);
}
END_TEST

/* an rng with bad parameters reports instead of drawing */
START_TEST(test_rng_errors)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  double bad[9] = {1, 2, 0, 2, 1, 0, 0, 0, 1}, out[9], w[64];
  char err[128] = "";
  bayes_shape s[3] = {S1(3), S1(3), S2(3, 3)};
  bayes_mvargs m;
  memset(&m, 0, sizeof m);
  m.nargs = 3;
  m.a[0].s = &s[0];
  m.a[1].x = Mu3;
  m.a[1].s = &s[1];
  m.a[2].x = bad;
  m.a[2].s = &s[2];
  m.work = w;
  m.err = err;
  ck_assert_int_eq(bayes_dist_multi_normal.mv_rng(r, &m, out), -1);
  ck_assert_str_eq(err, "covariance matrix Sigma is not positive definite");
  double nu = 1;
  bayes_shape sw[3] = {S2(3, 3), S0(), S2(3, 3)};
  m.a[0].s = &sw[0];
  m.a[1].x = &nu;
  m.a[1].s = &sw[1];
  m.a[2].x = Sigma3;
  m.a[2].s = &sw[2];
  ck_assert_int_eq(bayes_dist_wishart.mv_rng(r, &m, out), -1);
  ck_assert_msg(strstr(err, "nu must be"), "%s", err);
  gsl_rng_free(r);
}
END_TEST

START_TEST(test_tables)
{
  const bayes_dist *all[] = {&bayes_dist_categorical, &bayes_dist_categorical_logit,
                             &bayes_dist_multinomial, &bayes_dist_ordered_logistic,
                             &bayes_dist_multi_normal, &bayes_dist_multi_normal_cholesky,
                             &bayes_dist_multi_student_t, &bayes_dist_dirichlet,
                             &bayes_dist_lkj_corr, &bayes_dist_lkj_corr_cholesky,
                             &bayes_dist_wishart, &bayes_dist_inv_wishart};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    const bayes_dist *d = all[i];
    ck_assert(d->kind == BAYES_DIST_MULTIVARIATE);
    ck_assert(d->mv_shape && d->mv_check && d->mv_lpdf && d->mv_rng && d->param_names);
    ck_assert(d->discrete == (i < 4));
  }
  ck_assert_int_eq(bayes_dist_dirichlet.support, BAYES_SUPPORT_SIMPLEX);
  ck_assert_int_eq(bayes_dist_lkj_corr.support, BAYES_SUPPORT_CORR);
  ck_assert_int_eq(bayes_dist_lkj_corr_cholesky.support, BAYES_SUPPORT_CORR_CHOLESKY);
  ck_assert_int_eq(bayes_dist_wishart.support, BAYES_SUPPORT_COV);
  ck_assert_int_eq(bayes_dist_inv_wishart.support, BAYES_SUPPORT_COV);
  ck_assert_int_eq(bayes_dist_categorical.support, BAYES_SUPPORT_INT_RANGE);
  ck_assert_int_eq(bayes_dist_ordered_logistic.support, BAYES_SUPPORT_INT_RANGE);
  ck_assert_int_eq(bayes_dist_multinomial.support, BAYES_SUPPORT_INT_NONNEG);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("dist_multivariate");
  TCase *t = tcase_create("density");
  tcase_add_test(t, test_multi_normal_values);
  tcase_add_test(t, test_multi_normal_errors);
  tcase_add_test(t, test_multi_normal_grad);
  tcase_add_test(t, test_multi_normal_cholesky);
  tcase_add_test(t, test_multi_student_t);
  tcase_add_test(t, test_dirichlet);
  tcase_add_test(t, test_lkj_corr_values);
  tcase_add_test(t, test_lkj_errors_and_grad);
  tcase_add_test(t, test_wishart_values);
  tcase_add_test(t, test_wishart_grad_errors);
  tcase_add_test(t, test_categorical);
  tcase_add_test(t, test_multinomial);
  tcase_add_test(t, test_ordered_logistic);
  tcase_add_test(t, test_tables);
  suite_add_tcase(s, t);
  t = tcase_create("rng");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, test_rng_multi_normal);
  tcase_add_test(t, test_rng_dirichlet);
  tcase_add_test(t, test_rng_lkj);
  tcase_add_test(t, test_rng_wishart);
  tcase_add_test(t, test_rng_discrete);
  tcase_add_test(t, test_rng_errors);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return bt_run_suite(suite()); }
