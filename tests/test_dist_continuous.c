/* test_dist_continuous.c — unit tests of the 22 univariate continuous distributions:
 * log densities and log CDFs against independent references (GSL, textbook formulas),
 * finite-difference gradient checks through the dist ops, DKW-bounded KS tests of the
 * RNGs against GSL's CDFs, and domain handling. Must not use the registry (dist.c). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_bessel.h>

#include "dist.h"
#include "ops.h"
#include "testutil.h"

extern const bayes_dist bayes_dist_normal, bayes_dist_student_t, bayes_dist_cauchy,
    bayes_dist_logistic, bayes_dist_laplace, bayes_dist_gumbel, bayes_dist_skew_normal,
    bayes_dist_lognormal, bayes_dist_half_normal, bayes_dist_half_cauchy,
    bayes_dist_half_student_t, bayes_dist_exponential, bayes_dist_gamma, bayes_dist_inv_gamma,
    bayes_dist_weibull, bayes_dist_chi_square, bayes_dist_inv_chi_square, bayes_dist_beta,
    bayes_dist_uniform, bayes_dist_von_mises, bayes_dist_pareto, bayes_dist_flat;

enum { LPDF = BAYES_DF_LPDF, LCDF = BAYES_DF_LCDF, LCCDF = BAYES_DF_LCCDF };
static const char *const fn_name[] = {"lpdf", "lcdf", "lccdf"};

/* ---------- helpers ---------- */

static double (*kern(const bayes_dist *d, int fn))(const bayes_dargs *)
{
  return fn == LCDF ? d->lcdf : fn == LCCDF ? d->lccdf : d->lpdf;
}

/* one element through the kernel itself (n = 1, no partials) */
static double eval1(const bayes_dist *d, int fn, double y, const double *th)
{
  bayes_dargs a;
  memset(&a, 0, sizeof a);
  a.n = 1;
  a.scale = 1;
  a.a[0].x = &y;
  for (int k = 0; k < d->nparams; k++) a.a[k + 1].x = &th[k];
  return kern(d, fn)(&a);
}

/* Values are compared to relative 1e-12 (of max(1, |ref|): a log density near 0 is
 * compared absolutely, since its relative error is not meaningful). */
static void expect_close(const bayes_dist *d, int fn, double y, const double *th, double ref,
                         double tol)
{
  double v = eval1(d, fn, y, th);
  ck_assert_msg(fabs(v - ref) <= tol * fmax(1, fabs(ref)),
                "%s_%s(%g | %g, %g, %g) = %.17g, reference %.17g", d->name, fn_name[fn], y,
                th[0], th[1], th[2], v, ref);
}
#define TOL 1e-12
#define V(d, fn, y, ref, ...) expect_close(&(d), fn, y, (const double[4]){__VA_ARGS__}, ref, TOL)
#define VT(d, fn, y, ref, tol, ...) expect_close(&(d), fn, y, (const double[4]){__VA_ARGS__}, ref, tol)

static double lsq(double x) { return log(x); }

/* ---------- 1. values against independent references ---------- */

START_TEST(val_normal)
{
  double mu = 1, s = 2;
  for (double y = -7; y <= 9; y += 1.6) {
    V(bayes_dist_normal, LPDF, y, lsq(gsl_ran_gaussian_pdf(y - mu, s)), mu, s);
    V(bayes_dist_normal, LCDF, y, lsq(gsl_cdf_gaussian_P(y - mu, s)), mu, s);
    V(bayes_dist_normal, LCCDF, y, lsq(gsl_cdf_gaussian_Q(y - mu, s)), mu, s);
  }
  /* far tails: GSL's pdf underflows, so the textbook closed form */
  V(bayes_dist_normal, LPDF, 1e3, -0.5e6 - 0.5 * log(2 * M_PI), 0, 1);
  for (double z = -38; z < -4; z += 0.9) {
    V(bayes_dist_normal, LCDF, z, lsq(gsl_cdf_ugaussian_P(z)), 0, 1);
    V(bayes_dist_normal, LCCDF, -z, lsq(gsl_cdf_ugaussian_Q(-z)), 0, 1);
  }
  V(bayes_dist_normal, LCCDF, -9, log1p(-gsl_cdf_ugaussian_P(-9)), 0, 1); /* ~ -1e-19 */
  V(bayes_dist_normal, LCCDF, 35, lsq(gsl_cdf_ugaussian_Q(35)), 0, 1);
  /* Mills-ratio asymptotics log Phi(z) ~ -z^2/2 - log(-z) - log sqrt(2 pi)
   * + log(1 - 1/z^2 + 3/z^4 - 15/z^6 + 105/z^8) at z = -60 (A&S 26.2.12) */
  double z = -60, z2 = z * z;
  double ref = -0.5 * z2 - log(-z) - 0.5 * log(2 * M_PI) +
               log(1 - 1 / z2 + 3 / (z2 * z2) - 15 / (z2 * z2 * z2) + 105 / (z2 * z2 * z2 * z2));
  V(bayes_dist_normal, LCDF, z, ref, 0, 1);
  V(bayes_dist_normal, LCCDF, -z, ref, 0, 1);
}
END_TEST

START_TEST(val_normal_vector_paths)
{
  /* the scalar-sigma fast path (value only, pw, partials) against the generic path */
  double y[5] = {0.3, -2, 7, 1e3, 1}, mu[5] = {1, 0, -1, 2, 1}, s = 1.7, sv[5];
  for (int i = 0; i < 5; i++) sv[i] = s;
  double ref = 0;
  for (int i = 0; i < 5; i++) ref += -0.5 * pow((y[i] - mu[i]) / s, 2) - log(s) - 0.5 * log(2 * M_PI);
  bayes_dargs a;
  memset(&a, 0, sizeof a);
  a.n = 5;
  a.scale = 1;
  a.a[0] = (bayes_darg){y, 1, NULL};
  a.a[1] = (bayes_darg){mu, 1, NULL};
  a.a[2] = (bayes_darg){&s, 0, NULL};
  double v_fast = bayes_dist_normal.lpdf(&a);
  a.a[2] = (bayes_darg){sv, 1, NULL};
  double v_gen = bayes_dist_normal.lpdf(&a);
  ck_assert_msg(fabs(v_fast - ref) <= 1e-12 * fabs(ref), "fast %.17g ref %.17g", v_fast, ref);
  ck_assert_msg(fabs(v_gen - ref) <= 1e-12 * fabs(ref), "generic %.17g ref %.17g", v_gen, ref);
  /* weighted, scaled partials: fast path vs generic path */
  double g1[3][5] = {{0}}, g2[3][5] = {{0}}, pw1[5], pw2[5], w[5] = {1, 2, 0.5, 3, -1};
  a.w = w;
  a.scale = 0.7;
  a.pw = pw1;
  a.a[0].g = g1[0];
  a.a[1].g = g1[1];
  a.a[2] = (bayes_darg){&s, 0, g1[2]};
  bayes_dist_normal.lpdf(&a);
  a.pw = pw2;
  a.a[0].g = g2[0];
  a.a[1].g = g2[1];
  a.a[2] = (bayes_darg){sv, 1, g2[2]};
  bayes_dist_normal.lpdf(&a);
  double gs = 0;
  for (int i = 0; i < 5; i++) {
    ck_assert_msg(fabs(pw1[i] - pw2[i]) <= 1e-12 * fabs(pw2[i]), "pw[%d]", i);
    ck_assert_msg(fabs(g1[0][i] - g2[0][i]) <= 1e-12 * fmax(1, fabs(g2[0][i])), "dy[%d]", i);
    ck_assert_msg(fabs(g1[1][i] - g2[1][i]) <= 1e-12 * fmax(1, fabs(g2[1][i])), "dmu[%d]", i);
    gs += g2[2][i];
  }
  ck_assert_msg(fabs(g1[2][0] - gs) <= 1e-9 * fmax(1, fabs(gs)), "dsigma %g vs %g", g1[2][0], gs);
  /* a non-finite location is NaN on the fast path too */
  mu[2] = INFINITY;
  a.a[0].g = a.a[1].g = NULL;
  a.a[2] = (bayes_darg){&s, 0, NULL};
  a.pw = NULL;
  ck_assert(isnan(bayes_dist_normal.lpdf(&a)));
}
END_TEST

START_TEST(val_student_t)
{
  const double nus[] = {0.7, 3, 30};
  for (int j = 0; j < 3; j++)
    for (double y = -20; y <= 25; y += 4.5) {
      double nu = nus[j], mu = 0.5, s = 1.5, z = (y - mu) / s;
      V(bayes_dist_student_t, LPDF, y, lsq(gsl_ran_tdist_pdf(z, nu) / s), nu, mu, s);
      V(bayes_dist_student_t, LCDF, y, lsq(gsl_cdf_tdist_P(z, nu)), nu, mu, s);
      V(bayes_dist_student_t, LCCDF, y, lsq(gsl_cdf_tdist_Q(z, nu)), nu, mu, s);
    }
  /* far tail: closed form lgamma terms - (nu+1)/2 log(1 + z^2/nu), z = 1e200 */
  double nu = 3, ref = lgamma(2) - lgamma(1.5) - 0.5 * log(3 * M_PI) - 2 * (2 * log(1e200) - log(3));
  V(bayes_dist_student_t, LPDF, 1e200, ref, nu, 0, 1);
}
END_TEST

START_TEST(val_cauchy)
{
  for (double y = -50; y <= 50; y += 7.3) {
    V(bayes_dist_cauchy, LPDF, y, lsq(gsl_ran_cauchy_pdf(y - 2, 0.5)), 2, 0.5);
    V(bayes_dist_cauchy, LCDF, y, lsq(gsl_cdf_cauchy_P(y - 2, 0.5)), 2, 0.5);
    V(bayes_dist_cauchy, LCCDF, y, lsq(gsl_cdf_cauchy_Q(y - 2, 0.5)), 2, 0.5);
  }
  /* far left tail: F ~ 1 / (pi |z|) (the 1/2 + atan/pi form cancels to 0) */
  V(bayes_dist_cauchy, LCDF, -1e20, -log(M_PI * 1e20), 0, 1);
  V(bayes_dist_cauchy, LCCDF, 1e20, -log(M_PI * 1e20), 0, 1);
  V(bayes_dist_cauchy, LPDF, 1e200, -log(M_PI) - 400 * log(10), 0, 1);
}
END_TEST

START_TEST(val_logistic)
{
  for (double y = -30; y <= 30; y += 3.7) {
    V(bayes_dist_logistic, LPDF, y, lsq(gsl_ran_logistic_pdf(y + 1, 2)), -1, 2);
    V(bayes_dist_logistic, LCDF, y, lsq(gsl_cdf_logistic_P(y + 1, 2)), -1, 2);
    V(bayes_dist_logistic, LCCDF, y, lsq(gsl_cdf_logistic_Q(y + 1, 2)), -1, 2);
  }
  /* z = -800: exp(-z) overflows; f = e^z / (1 + e^z)^2, F = e^z / (1 + e^z) */
  V(bayes_dist_logistic, LPDF, -800, -800 - 2 * log1p(exp(-800)), 0, 1);
  V(bayes_dist_logistic, LCDF, -800, -800 - log1p(exp(-800)), 0, 1);
  V(bayes_dist_logistic, LCCDF, 800, -800 - log1p(exp(-800)), 0, 1);
}
END_TEST

START_TEST(val_laplace)
{
  for (double y = -20; y <= 20; y += 2.9) {
    V(bayes_dist_laplace, LPDF, y, lsq(gsl_ran_laplace_pdf(y - 0.5, 1.5)), 0.5, 1.5);
    V(bayes_dist_laplace, LCDF, y, lsq(gsl_cdf_laplace_P(y - 0.5, 1.5)), 0.5, 1.5);
    V(bayes_dist_laplace, LCCDF, y, lsq(gsl_cdf_laplace_Q(y - 0.5, 1.5)), 0.5, 1.5);
  }
  V(bayes_dist_laplace, LCDF, -1e4, -1e4 - log(2), 0, 1);
  ck_assert_str_eq(bayes_dist_laplace.alias, "double_exponential");
}
END_TEST

START_TEST(val_gumbel)
{
  /* GSL type-1 Gumbel p(x) = a b exp(-(b e^{-ax} + ax)) is gumbel(0, 1/a) for b = 1 */
  double mu = 1, b = 2;
  for (double y = -4; y <= 30; y += 2.3) {
    V(bayes_dist_gumbel, LPDF, y, lsq(gsl_ran_gumbel1_pdf(y - mu, 1 / b, 1)), mu, b);
    V(bayes_dist_gumbel, LCDF, y, lsq(gsl_cdf_gumbel1_P(y - mu, 1 / b, 1)), mu, b);
    V(bayes_dist_gumbel, LCCDF, y, lsq(gsl_cdf_gumbel1_Q(y - mu, 1 / b, 1)), mu, b);
  }
  /* far right: 1 - exp(-e^{-z}) ~ e^{-z}, log = -z - e^{-z}/2 */
  V(bayes_dist_gumbel, LCCDF, 800, -800, 0, 1);
}
END_TEST

static double Phi(double z) { return gsl_cdf_ugaussian_P(z); }

typedef struct {
  double xi, om, al;
} sn_par;
static double sn_pdf_textbook(double y, void *vp)
{
  sn_par *p = vp;
  double z = (y - p->xi) / p->om;
  return 2 / p->om * gsl_ran_ugaussian_pdf(z) * Phi(p->al * z);
}
/* reference CDF by adaptive quadrature of the textbook density (independent of Owen's T) */
static double sn_tail_quad(double y, double xi, double om, double al, int upper)
{
  sn_par p = {xi, om, al};
  gsl_function F = {sn_pdf_textbook, &p};
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(200);
  double r, err;
  if (upper)
    gsl_integration_qagiu(&F, y, 0, 1e-13, 200, w, &r, &err);
  else
    gsl_integration_qagil(&F, y, 0, 1e-13, 200, w, &r, &err);
  gsl_integration_workspace_free(w);
  return r;
}

START_TEST(val_skew_normal)
{
  double xi = 0.5, om = 1.5;
  const double als[] = {-4, -1, 0, 0.7, 1, 3};
  for (int j = 0; j < 6; j++)
    for (double y = -6; y <= 6; y += 1.1) {
      double al = als[j], z = (y - xi) / om;
      V(bayes_dist_skew_normal, LPDF, y,
        log(2 / om) + log(gsl_ran_ugaussian_pdf(z)) + log(Phi(al * z)), xi, om, al);
    }
  /* alpha = 1: F = Phi(z)^2; alpha = -1: F = 1 - Phi(-z)^2; alpha = 0: normal */
  for (double y = -6; y <= 6; y += 1.1) {
    double z = (y - xi) / om;
    V(bayes_dist_skew_normal, LCDF, y, 2 * log(Phi(z)), xi, om, 1);
    V(bayes_dist_skew_normal, LCCDF, y, log1p(-Phi(z) * Phi(z)), xi, om, 1);
    V(bayes_dist_skew_normal, LCDF, y, log1p(-Phi(-z) * Phi(-z)), xi, om, -1);
    V(bayes_dist_skew_normal, LCCDF, y, 2 * log(Phi(-z)), xi, om, -1);
    V(bayes_dist_skew_normal, LCDF, y, log(Phi(z)), xi, om, 0);
    for (int j = 0; j < 6; j++) {
      /* each tail integrated separately, so neither reference is 1 - (almost 1) */
      VT(bayes_dist_skew_normal, LCDF, y, log(sn_tail_quad(y, xi, om, als[j], 0)), 1e-9, xi, om, als[j]);
      VT(bayes_dist_skew_normal, LCCDF, y, log(sn_tail_quad(y, xi, om, als[j], 1)), 1e-9, xi, om, als[j]);
    }
  }
  /* alpha z = -30: Phi(-30) ~ 5e-198 still representable */
  V(bayes_dist_skew_normal, LPDF, 3, log(2.0) + log(gsl_ran_ugaussian_pdf(3)) + log(Phi(-30)), 0, 1, -10);
}
END_TEST

START_TEST(val_lognormal)
{
  for (double y = 0.01; y <= 40; y *= 1.9) {
    V(bayes_dist_lognormal, LPDF, y, lsq(gsl_ran_lognormal_pdf(y, 0.3, 0.8)), 0.3, 0.8);
    V(bayes_dist_lognormal, LCDF, y, lsq(gsl_cdf_lognormal_P(y, 0.3, 0.8)), 0.3, 0.8);
    V(bayes_dist_lognormal, LCCDF, y, lsq(gsl_cdf_lognormal_Q(y, 0.3, 0.8)), 0.3, 0.8);
  }
  V(bayes_dist_lognormal, LPDF, 1e-300, -0.5 * pow(log(1e-300), 2) - 0.5 * log(2 * M_PI) - log(1e-300), 0, 1);
}
END_TEST

START_TEST(val_half)
{
  for (double y = 0.05; y <= 30; y *= 1.7) {
    double s = 1.3, nu = 2.5, z = y / s;
    V(bayes_dist_half_normal, LPDF, y, lsq(2 * gsl_ran_gaussian_pdf(y, s)), s);
    V(bayes_dist_half_normal, LCDF, y, lsq(gsl_cdf_ugaussian_P(z) - gsl_cdf_ugaussian_Q(z)), s);
    V(bayes_dist_half_normal, LCCDF, y, lsq(2 * gsl_cdf_ugaussian_Q(z)), s);
    V(bayes_dist_half_cauchy, LPDF, y, lsq(2 * gsl_ran_cauchy_pdf(y, s)), s);
    V(bayes_dist_half_cauchy, LCDF, y, lsq(gsl_cdf_cauchy_P(y, s) - gsl_cdf_cauchy_Q(y, s)), s);
    V(bayes_dist_half_cauchy, LCCDF, y, lsq(2 * gsl_cdf_cauchy_Q(y, s)), s);
    V(bayes_dist_half_student_t, LPDF, y, lsq(2 * gsl_ran_tdist_pdf(z, nu) / s), nu, s);
    V(bayes_dist_half_student_t, LCDF, y, lsq(gsl_cdf_tdist_P(z, nu) - gsl_cdf_tdist_Q(z, nu)), nu, s);
    V(bayes_dist_half_student_t, LCCDF, y, lsq(2 * gsl_cdf_tdist_Q(z, nu)), nu, s);
  }
  /* near 0 the CDF is a small difference for GSL; F ~ 2 f(0) y there */
  VT(bayes_dist_half_normal, LCDF, 1e-9, log(2 * 1e-9 / sqrt(2 * M_PI)), 1e-12, 1);
  VT(bayes_dist_half_cauchy, LCDF, 1e-9, log(2 * 1e-9 / M_PI), 1e-12, 1);
  V(bayes_dist_half_normal, LCCDF, 40, log(2 * gsl_cdf_ugaussian_Q(40)), 1);
}
END_TEST

START_TEST(val_exponential)
{
  for (double y = 0.001; y <= 50; y *= 2.1) {
    V(bayes_dist_exponential, LPDF, y, lsq(gsl_ran_exponential_pdf(y, 1 / 0.7)), 0.7);
    V(bayes_dist_exponential, LCDF, y, lsq(gsl_cdf_exponential_P(y, 1 / 0.7)), 0.7);
    V(bayes_dist_exponential, LCCDF, y, lsq(gsl_cdf_exponential_Q(y, 1 / 0.7)), 0.7);
  }
  V(bayes_dist_exponential, LCCDF, 1e5, -0.7e5, 0.7);
}
END_TEST

START_TEST(val_gamma)
{
  const double as[] = {0.4, 1, 3.5, 40};
  for (int j = 0; j < 4; j++)
    for (double y = 0.01; y <= 80; y *= 1.8) {
      double a = as[j], b = 0.6;
      V(bayes_dist_gamma, LPDF, y, lsq(gsl_ran_gamma_pdf(y, a, 1 / b)), a, b);
      V(bayes_dist_gamma, LCDF, y, lsq(gsl_cdf_gamma_P(y, a, 1 / b)), a, b);
      V(bayes_dist_gamma, LCCDF, y, lsq(gsl_cdf_gamma_Q(y, a, 1 / b)), a, b);
      /* inverse gamma: density of 1/X with X ~ gamma(a, rate b)... scale b for inv_gamma
       * means 1/Y ~ gamma(a, rate b): f_Y(y) = f_X(1/y) / y^2 */
      V(bayes_dist_inv_gamma, LPDF, y, lsq(gsl_ran_gamma_pdf(1 / y, a, 1 / b) / (y * y)), a, b);
      V(bayes_dist_inv_gamma, LCDF, y, lsq(gsl_cdf_gamma_Q(1 / y, a, 1 / b)), a, b);
      V(bayes_dist_inv_gamma, LCCDF, y, lsq(gsl_cdf_gamma_P(1 / y, a, 1 / b)), a, b);
    }
  /* textbook formula in linear space at a moderate point */
  double a = 2.5, b = 1.5, y = 0.8;
  V(bayes_dist_inv_gamma, LPDF, y, log(pow(b, a) / tgamma(a) * pow(y, -a - 1) * exp(-b / y)), a, b);
  V(bayes_dist_gamma, LPDF, 1e-200, 2 * log(3.0) - lgamma(2) + log(1e-200) - 3e-200, 2, 3);
}
END_TEST

START_TEST(val_weibull)
{
  const double as[] = {0.5, 1, 2.5};
  for (int j = 0; j < 3; j++)
    for (double y = 0.01; y <= 20; y *= 1.8) {
      double a = as[j], s = 1.7;
      V(bayes_dist_weibull, LPDF, y, lsq(gsl_ran_weibull_pdf(y, s, a)), a, s);
      V(bayes_dist_weibull, LCDF, y, lsq(gsl_cdf_weibull_P(y, s, a)), a, s);
      V(bayes_dist_weibull, LCCDF, y, lsq(gsl_cdf_weibull_Q(y, s, a)), a, s);
    }
  V(bayes_dist_weibull, LCDF, 1e-10, log(1e-10 / 2) - 0.5 * 1e-10 / 2, 1, 2);
}
END_TEST

START_TEST(val_chi_square)
{
  const double nus[] = {0.8, 2, 7.5};
  for (int j = 0; j < 3; j++)
    for (double y = 0.01; y <= 60; y *= 1.8) {
      double nu = nus[j];
      V(bayes_dist_chi_square, LPDF, y, lsq(gsl_ran_chisq_pdf(y, nu)), nu);
      V(bayes_dist_chi_square, LCDF, y, lsq(gsl_cdf_chisq_P(y, nu)), nu);
      V(bayes_dist_chi_square, LCCDF, y, lsq(gsl_cdf_chisq_Q(y, nu)), nu);
      /* inverse chi-square: 1/Y ~ chi^2_nu, f_Y(y) = f(1/y) / y^2 */
      V(bayes_dist_inv_chi_square, LPDF, y, lsq(gsl_ran_chisq_pdf(1 / y, nu) / (y * y)), nu);
      V(bayes_dist_inv_chi_square, LCDF, y, lsq(gsl_cdf_chisq_Q(1 / y, nu)), nu);
      V(bayes_dist_inv_chi_square, LCCDF, y, lsq(gsl_cdf_chisq_P(1 / y, nu)), nu);
    }
  /* Stan's density 2^(-nu/2) / Gamma(nu/2) y^(-nu/2-1) exp(-1/(2y)), in linear space */
  double nu = 3, y = 0.4;
  V(bayes_dist_inv_chi_square, LPDF, y,
    log(pow(2, -nu / 2) / tgamma(nu / 2) * pow(y, -nu / 2 - 1) * exp(-1 / (2 * y))), nu);
}
END_TEST

START_TEST(val_beta)
{
  const double ab[][2] = {{0.5, 0.5}, {2, 3}, {0.8, 7}, {30, 4}};
  for (int j = 0; j < 4; j++)
    for (double y = 0.01; y < 1; y += 0.07) {
      double a = ab[j][0], b = ab[j][1];
      V(bayes_dist_beta, LPDF, y, lsq(gsl_ran_beta_pdf(y, a, b)), a, b);
      V(bayes_dist_beta, LCDF, y, lsq(gsl_cdf_beta_P(y, a, b)), a, b);
      V(bayes_dist_beta, LCCDF, y, lsq(gsl_cdf_beta_Q(y, a, b)), a, b);
    }
  /* 1 - y near 1e-12: log1p keeps log(1 - y) (beta(1, 2) density 2 (1 - y); 1 - y is
   * exact in floating point here) */
  double y = 1 - 1e-12;
  V(bayes_dist_beta, LPDF, y, log(2 * (1 - y)), 1, 2);
}
END_TEST

START_TEST(val_uniform)
{
  for (double y = -1.9; y <= 2.9; y += 0.4) {
    V(bayes_dist_uniform, LPDF, y, lsq(gsl_ran_flat_pdf(y, -2, 3)), -2, 3);
    V(bayes_dist_uniform, LCDF, y, lsq(gsl_cdf_flat_P(y, -2, 3)), -2, 3);
    V(bayes_dist_uniform, LCCDF, y, lsq(gsl_cdf_flat_Q(y, -2, 3)), -2, 3);
  }
}
END_TEST

typedef struct {
  double mu, k;
} vm_tpar;
static double vm_pdf_textbook(double y, void *vp)
{
  vm_tpar *p = vp;
  return exp(p->k * cos(y - p->mu)) / (2 * M_PI * gsl_sf_bessel_I0(p->k));
}
static double vm_quad(double lo, double hi, double mu, double k)
{
  vm_tpar p = {mu, k};
  gsl_function F = {vm_pdf_textbook, &p};
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(200);
  double r, err;
  gsl_integration_qags(&F, lo, hi, 0, 1e-13, 200, w, &r, &err);
  gsl_integration_workspace_free(w);
  return r;
}
static double vm_cdf_quad(double y, double mu, double k) { return vm_quad(mu - M_PI, y, mu, k); }

START_TEST(val_von_mises)
{
  const double ks[] = {0, 0.5, 3, 40};
  for (int j = 0; j < 4; j++)
    for (double y = -9; y <= 9; y += 0.77) {
      double mu = 0.4, k = ks[j];
      V(bayes_dist_von_mises, LPDF, y, log(vm_pdf_textbook(y, &(vm_tpar){mu, k})), mu, k);
      if (y > mu - M_PI && y < mu + M_PI) {
        /* each tail integrated separately, so neither reference is 1 - (almost 1) */
        VT(bayes_dist_von_mises, LCDF, y, log(vm_quad(mu - M_PI, y, mu, k)), 1e-10, mu, k);
        VT(bayes_dist_von_mises, LCCDF, y, log(vm_quad(y, mu + M_PI, mu, k)), 1e-10, mu, k);
      }
    }
  /* large kappa: the scaled Bessel function keeps the normaliser finite */
  double k = 1000, ref = -log(2 * M_PI) - log(gsl_sf_bessel_I0_scaled(k));
  V(bayes_dist_von_mises, LPDF, 1, ref, 1, k);
  /* outside the period [mu - pi, mu + pi] the CDF is 0 or 1 */
  ck_assert(eval1(&bayes_dist_von_mises, LCDF, -3.5, (double[]){0, 1}) == -INFINITY);
  ck_assert(eval1(&bayes_dist_von_mises, LCDF, 3.5, (double[]){0, 1}) == 0);
}
END_TEST

START_TEST(val_pareto)
{
  for (double y = 1.6; y <= 100; y *= 1.5) {
    V(bayes_dist_pareto, LPDF, y, lsq(gsl_ran_pareto_pdf(y, 2.5, 1.5)), 1.5, 2.5);
    V(bayes_dist_pareto, LCDF, y, lsq(gsl_cdf_pareto_P(y, 2.5, 1.5)), 1.5, 2.5);
    V(bayes_dist_pareto, LCCDF, y, lsq(gsl_cdf_pareto_Q(y, 2.5, 1.5)), 1.5, 2.5);
  }
  /* just above y_min: F = 1 - (1 + eps)^-alpha ~ alpha eps */
  double y = 1 + 1e-12, eps = y - 1; /* exact */
  V(bayes_dist_pareto, LCDF, y, log(-expm1(-2 * log1p(eps))), 1, 2);
}
END_TEST

START_TEST(val_flat)
{
  double y[3] = {-1e300, 0, 5}, pw[3], g[3] = {0};
  bayes_dargs a;
  memset(&a, 0, sizeof a);
  a.n = 3;
  a.scale = 1;
  a.pw = pw;
  a.a[0] = (bayes_darg){y, 1, g};
  ck_assert(bayes_dist_flat.lpdf(&a) == 0);
  for (int i = 0; i < 3; i++) ck_assert(pw[i] == 0 && g[i] == 0);
  ck_assert(bayes_dist_flat.nparams == 0 && !bayes_dist_flat.rng);
  ck_assert(!bayes_dist_flat.lcdf && !bayes_dist_flat.lccdf);
  ck_assert(bayes_dist_flat.support == BAYES_SUPPORT_REAL);
}
END_TEST

/* ---------- 2. gradients through the tape ops ---------- */

typedef struct {
  const bayes_dist *d;
  double y[3];
  double p[4][3];
} gcase;

/* points well inside the support; column 0 of the parameters also fits every y, for the
 * broadcast-scalar checks */
static const gcase gcases[] = {
    {&bayes_dist_normal, {0.3, -1.2, 2.5}, {{0.1, -0.5, 1}, {1.3, 0.7, 2}}},
    {&bayes_dist_student_t, {0.3, -1.2, 2.5}, {{3, 5.5, 1.5}, {0.1, -0.5, 1}, {1.3, 0.7, 2}}},
    {&bayes_dist_cauchy, {0.3, -1.2, 2.5}, {{0.1, -0.5, 1}, {1.3, 0.7, 2}}},
    {&bayes_dist_logistic, {0.3, -1.2, 2.5}, {{0.1, -0.5, 1}, {1.3, 0.7, 2}}},
    {&bayes_dist_laplace, {0.3, -1.2, 2.5}, {{0.1, -0.5, 1}, {1.3, 0.7, 2}}},
    {&bayes_dist_gumbel, {0.3, -1.2, 2.5}, {{0.1, -0.5, 1}, {1.3, 0.7, 2}}},
    {&bayes_dist_skew_normal, {0.3, -1.2, 2.5}, {{0.1, -0.5, 1}, {1.3, 0.7, 2}, {2, -1.5, 0.5}}},
    {&bayes_dist_lognormal, {0.5, 1.7, 3}, {{0.1, -0.3, 0.8}, {0.6, 1.2, 0.9}}},
    {&bayes_dist_half_normal, {0.5, 1.7, 3}, {{1, 2, 1.5}}},
    {&bayes_dist_half_cauchy, {0.5, 1.7, 3}, {{1, 2, 1.5}}},
    {&bayes_dist_half_student_t, {0.5, 1.7, 3}, {{3, 5.5, 1.5}, {1, 2, 1.5}}},
    {&bayes_dist_exponential, {0.5, 1.7, 3}, {{0.8, 1.5, 0.3}}},
    {&bayes_dist_gamma, {0.5, 1.7, 3}, {{2.5, 0.8, 4}, {1.2, 0.5, 2}}},
    {&bayes_dist_inv_gamma, {0.5, 1.7, 3}, {{2.5, 0.8, 4}, {1.2, 0.5, 2}}},
    {&bayes_dist_weibull, {0.5, 1.7, 3}, {{1.5, 0.8, 3}, {1.2, 2, 1.6}}},
    {&bayes_dist_chi_square, {0.5, 1.7, 3}, {{3, 1.5, 6}}},
    {&bayes_dist_inv_chi_square, {0.3, 0.8, 0.2}, {{3, 1.5, 6}}},
    {&bayes_dist_beta, {0.3, 0.6, 0.85}, {{2, 0.8, 3.5}, {1.5, 2.5, 0.9}}},
    {&bayes_dist_uniform, {0.3, 0.7, 0.5}, {{0, -0.5, -2}, {1, 3, 1}}},
    {&bayes_dist_von_mises, {0.3, -1, 2}, {{0.1, 0.5, 1.5}, {0.5, 3, 1.2}}},
    {&bayes_dist_pareto, {2.5, 3, 2.2}, {{1, 0.5, 2}, {2, 1.5, 3}}},
    {&bayes_dist_flat, {0.3, -1, 2}, {{0}}},
    /* tails and extremes: the direct small-tail quadrature of the skew normal, many
     * quadrature panels for the von Mises CDF, Richardson shape derivatives far out */
    {&bayes_dist_skew_normal, {-4, -3, 3}, {{0, 0, 0}, {1, 1, 1}, {3, 2, -3}}},
    {&bayes_dist_von_mises, {0.3, -0.2, 0.5}, {{0.1, 0, 0.4}, {50, 200, 800}}},
    {&bayes_dist_gamma, {0.05, 20, 8}, {{2.5, 3, 0.7}, {1, 0.5, 2}}},
    {&bayes_dist_student_t, {-9, 12, 30}, {{2, 4, 7}, {0, 1, -1}, {1, 0.5, 3}}},
    {&bayes_dist_beta, {0.02, 0.5, 0.97}, {{3, 0.4, 6}, {2, 0.6, 1.5}}},
    {&bayes_dist_normal, {-7, 6, -30}, {{0, 0, 1}, {1, 1, 1}}},
};
#define NG (sizeof gcases / sizeof gcases[0])

/* One gradient check of op (sum or pointwise) for fn; `bcast`: parameters as rank-0
 * scalars; `only_y`: only the variate is differentiable (parameters are constants). */
static void grad_one(const gcase *c, const bayes_op *op, int fn, bool bcast, bool only_y)
{
  const bayes_dist *d = c->d;
  int nin = 1 + d->nparams;
  bayes_shape xs[BAYES_DIST_MAXARG], ys[1];
  const double *xv[BAYES_DIST_MAXARG];
  const bayes_shape *sp[BAYES_DIST_MAXARG];
  bool diff[BAYES_DIST_MAXARG];
  xs[0] = bayes_shape_vec(3);
  xv[0] = c->y;
  diff[0] = true;
  for (int k = 1; k < nin; k++) {
    xs[k] = bcast ? bayes_shape_scalar() : bayes_shape_vec(3);
    xv[k] = c->p[k - 1];
    diff[k] = !only_y;
  }
  for (int k = 0; k < nin; k++) sp[k] = &xs[k];
  ys[0] = op == &bayes_op_dist_pw ? bayes_shape_vec(3) : bayes_shape_scalar();
  bt_opcheck oc = {.op = op, .nin = nin, .nout = 1, .xs = xs, .xv = xv, .diff = diff,
                   .ys = ys, .aux = d, .iarg = {fn}};
  oc.work = bayes_dist_work(d, op, nin, sp);
  char rep[256];
  double err = bt_op_grad_check(&oc, rep, sizeof rep);
  ck_assert_msg(err <= 1e-6, "%s_%s (%s%s%s): error %g: %s", d->name, fn_name[fn], op->name,
                bcast ? ", scalar parameters" : "", only_y ? ", d/dy only" : "", err, rep);
}

START_TEST(grad_dist)
{
  const gcase *c = &gcases[_i];
  for (int fn = LPDF; fn <= LCCDF; fn++) {
    if (!kern(c->d, fn)) continue;
    for (int b = 0; b < 2; b++) {
      grad_one(c, &bayes_op_dist_sum, fn, b, false);
      grad_one(c, &bayes_op_dist_pw, fn, b, false);
    }
    grad_one(c, &bayes_op_dist_sum, fn, false, true);
  }
  /* every one of these except flat has both log CDFs */
  if (c->d != &bayes_dist_flat) ck_assert(c->d->lcdf && c->d->lccdf && c->d->rng && c->d->check);
}
END_TEST

/* lcdf and lccdf are complements: log(e^lcdf + e^lccdf) = 0 */
START_TEST(cdf_complement)
{
  const gcase *c = &gcases[_i];
  if (!c->d->lcdf) return;
  for (int i = 0; i < 3; i++) {
    double th[4];
    for (int k = 0; k < c->d->nparams; k++) th[k] = c->p[k][i];
    double a = eval1(c->d, LCDF, c->y[i], th), b = eval1(c->d, LCCDF, c->y[i], th);
    double s = a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
    ck_assert_msg(fabs(s) < 1e-13, "%s: lcdf %g lccdf %g", c->d->name, a, b);
  }
}
END_TEST

/* ---------- 3. random draws against GSL's CDFs ---------- */

typedef struct {
  const bayes_dist *d;
  double th[3];
  double (*cdf)(double, const void *); /* ctx = th */
} rcase;

#define P ((const double *)p)
static double c_normal(double y, const void *p) { return gsl_cdf_gaussian_P(y - P[0], P[1]); }
static double c_t(double y, const void *p) { return gsl_cdf_tdist_P((y - P[1]) / P[2], P[0]); }
static double c_cauchy(double y, const void *p) { return gsl_cdf_cauchy_P(y - P[0], P[1]); }
static double c_logistic(double y, const void *p) { return gsl_cdf_logistic_P(y - P[0], P[1]); }
static double c_laplace(double y, const void *p) { return gsl_cdf_laplace_P(y - P[0], P[1]); }
static double c_gumbel(double y, const void *p) { return gsl_cdf_gumbel1_P(y - P[0], 1 / P[1], 1); }
/* skew normal with alpha = +-1 has closed-form CDFs Phi(z)^2 and 1 - Phi(-z)^2 */
static double c_sn(double y, const void *p)
{
  double z = (y - P[0]) / P[1];
  return P[2] > 0 ? pow(Phi(z), 2) : 1 - pow(Phi(-z), 2);
}
static double c_lognormal(double y, const void *p) { return gsl_cdf_lognormal_P(y, P[0], P[1]); }
static double c_hn(double y, const void *p) { return 1 - 2 * gsl_cdf_gaussian_Q(y, P[0]); }
static double c_hc(double y, const void *p) { return 1 - 2 * gsl_cdf_cauchy_Q(y, P[0]); }
static double c_ht(double y, const void *p) { return 1 - 2 * gsl_cdf_tdist_Q(y / P[1], P[0]); }
static double c_exp(double y, const void *p) { return gsl_cdf_exponential_P(y, 1 / P[0]); }
static double c_gamma(double y, const void *p) { return gsl_cdf_gamma_P(y, P[0], 1 / P[1]); }
static double c_igamma(double y, const void *p) { return gsl_cdf_gamma_Q(1 / y, P[0], 1 / P[1]); }
static double c_weibull(double y, const void *p) { return gsl_cdf_weibull_P(y, P[1], P[0]); }
static double c_chisq(double y, const void *p) { return gsl_cdf_chisq_P(y, P[0]); }
static double c_ichisq(double y, const void *p) { return gsl_cdf_chisq_Q(1 / y, P[0]); }
static double c_beta(double y, const void *p) { return gsl_cdf_beta_P(y, P[0], P[1]); }
static double c_unif(double y, const void *p) { return gsl_cdf_flat_P(y, P[0], P[1]); }
static double c_vm(double y, const void *p) { return vm_cdf_quad(y, P[0], P[1]); }
static double c_pareto(double y, const void *p) { return gsl_cdf_pareto_P(y, P[1], P[0]); }
#undef P

static const rcase rcases[] = {
    {&bayes_dist_normal, {0, 1}, c_normal},
    {&bayes_dist_normal, {-3, 0.2}, c_normal},
    {&bayes_dist_student_t, {3, 1, 2}, c_t},
    {&bayes_dist_student_t, {0.8, -1, 0.5}, c_t},
    {&bayes_dist_cauchy, {0, 1}, c_cauchy},
    {&bayes_dist_cauchy, {2, 0.3}, c_cauchy},
    {&bayes_dist_logistic, {0, 1}, c_logistic},
    {&bayes_dist_logistic, {-2, 3}, c_logistic},
    {&bayes_dist_laplace, {0, 1}, c_laplace},
    {&bayes_dist_laplace, {1.5, 0.4}, c_laplace},
    {&bayes_dist_gumbel, {0, 1}, c_gumbel},
    {&bayes_dist_gumbel, {3, 0.5}, c_gumbel},
    {&bayes_dist_skew_normal, {0, 1, 1}, c_sn},
    {&bayes_dist_skew_normal, {2, 0.5, -1}, c_sn},
    {&bayes_dist_lognormal, {0, 1}, c_lognormal},
    {&bayes_dist_lognormal, {1, 0.3}, c_lognormal},
    {&bayes_dist_half_normal, {1}, c_hn},
    {&bayes_dist_half_normal, {3.5}, c_hn},
    {&bayes_dist_half_cauchy, {1}, c_hc},
    {&bayes_dist_half_cauchy, {0.2}, c_hc},
    {&bayes_dist_half_student_t, {3, 1}, c_ht},
    {&bayes_dist_half_student_t, {1.5, 2.5}, c_ht},
    {&bayes_dist_exponential, {1}, c_exp},
    {&bayes_dist_exponential, {4}, c_exp},
    {&bayes_dist_gamma, {2.5, 1}, c_gamma},
    {&bayes_dist_gamma, {0.5, 3}, c_gamma},
    {&bayes_dist_inv_gamma, {3, 2}, c_igamma},
    {&bayes_dist_inv_gamma, {0.7, 0.5}, c_igamma},
    {&bayes_dist_weibull, {1.5, 2}, c_weibull},
    {&bayes_dist_weibull, {0.6, 0.5}, c_weibull},
    {&bayes_dist_chi_square, {3}, c_chisq},
    {&bayes_dist_chi_square, {0.7}, c_chisq},
    {&bayes_dist_inv_chi_square, {4}, c_ichisq},
    {&bayes_dist_inv_chi_square, {1.2}, c_ichisq},
    {&bayes_dist_beta, {2, 3}, c_beta},
    {&bayes_dist_beta, {0.4, 0.6}, c_beta},
    {&bayes_dist_uniform, {0, 1}, c_unif},
    {&bayes_dist_uniform, {-3, 7}, c_unif},
    {&bayes_dist_von_mises, {0.5, 2}, c_vm},
    {&bayes_dist_von_mises, {-1, 0.3}, c_vm},
    {&bayes_dist_pareto, {1, 3}, c_pareto},
    {&bayes_dist_pareto, {0.5, 1.2}, c_pareto},
};
#define NR (sizeof rcases / sizeof rcases[0])

/* KS distance of 20000 draws to the exact CDF. By the DKW inequality (Massart 1990),
 * P(D_n > eps) <= 2 exp(-2 n eps^2), so with eps = bt_dkw_eps(n, 1e-6) a correct sampler
 * fails this test with probability at most 1e-6. */
START_TEST(rng_ks)
{
  const rcase *c = &rcases[_i];
  enum { N = 20000 };
  static double xs[N];
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 20240601 + (unsigned long)_i);
  ck_assert_msg(c->d->check(c->th) == NULL, "%s: test parameters invalid", c->d->name);
  for (int i = 0; i < N; i++) xs[i] = c->d->rng(r, c->th);
  gsl_rng_free(r);
  double D = bt_ks_distance(xs, N, c->cdf, c->th), eps = bt_dkw_eps(N, 1e-6);
  ck_assert_msg(D <= eps, "%s(%g, %g, %g): KS distance %g > %g", c->d->name, c->th[0],
                c->th[1], c->th[2], D, eps);
}
END_TEST

/* the KS test can detect a wrong sampler: a deliberately shifted CDF must fail it */
static double c_normal_shifted(double y, const void *p) { return gsl_cdf_gaussian_P(y - 0.05, 1); }
START_TEST(rng_ks_has_power)
{
  enum { N = 20000 };
  static double xs[N];
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  for (int i = 0; i < N; i++) xs[i] = bayes_dist_normal.rng(r, (double[]){0, 1});
  gsl_rng_free(r);
  ck_assert(bt_ks_distance(xs, N, c_normal_shifted, NULL) > bt_dkw_eps(N, 1e-6));
}
END_TEST

/* ---------- 4. domains ---------- */

typedef struct {
  const bayes_dist *d;
  double bad[3];      /* invalid parameters */
  const char *word;   /* expected in the check message */
  double good[3];
  double outside;     /* a variate outside the support (NAN: real support) */
} dcase;

static const dcase dcases[] = {
    {&bayes_dist_normal, {0, -1}, "sigma", {0, 1}, NAN},
    {&bayes_dist_normal, {INFINITY, 1}, "mu", {0, 1}, NAN},
    {&bayes_dist_student_t, {0, 0, 1}, "nu", {3, 0, 1}, NAN},
    {&bayes_dist_student_t, {3, 0, 0}, "sigma", {3, 0, 1}, NAN},
    {&bayes_dist_cauchy, {0, -2}, "sigma", {0, 1}, NAN},
    {&bayes_dist_logistic, {NAN, 1}, "mu", {0, 1}, NAN},
    {&bayes_dist_laplace, {0, INFINITY}, "sigma", {0, 1}, NAN},
    {&bayes_dist_gumbel, {0, 0}, "beta", {0, 1}, NAN},
    {&bayes_dist_skew_normal, {0, 1, INFINITY}, "alpha", {0, 1, 2}, NAN},
    {&bayes_dist_skew_normal, {0, -1, 1}, "omega", {0, 1, 2}, NAN},
    {&bayes_dist_lognormal, {0, -1}, "sigma", {0, 1}, -0.5},
    {&bayes_dist_half_normal, {-1}, "sigma", {1}, -0.5},
    {&bayes_dist_half_cauchy, {0}, "sigma", {1}, -0.5},
    {&bayes_dist_half_student_t, {-2, 1}, "nu", {2, 1}, -0.5},
    {&bayes_dist_exponential, {-1}, "beta", {1}, -0.5},
    {&bayes_dist_gamma, {-1, 1}, "alpha", {2, 1}, -0.5},
    {&bayes_dist_gamma, {1, 0}, "beta", {2, 1}, -0.5},
    {&bayes_dist_inv_gamma, {1, -1}, "beta", {2, 1}, -0.5},
    {&bayes_dist_weibull, {0, 1}, "alpha", {2, 1}, -0.5},
    {&bayes_dist_chi_square, {-3}, "nu", {2}, -0.5},
    {&bayes_dist_inv_chi_square, {0}, "nu", {2}, -0.5},
    {&bayes_dist_beta, {1, -1}, "beta", {2, 2}, 1.5},
    {&bayes_dist_uniform, {1, 0}, "less than", {0, 1}, 1.5},
    {&bayes_dist_von_mises, {0, -1}, "kappa", {0, 1}, NAN},
    {&bayes_dist_pareto, {0, 1}, "y_min", {1, 2}, 0.5},
    {&bayes_dist_pareto, {1, -1}, "alpha", {1, 2}, 0.5},
};
#define ND (sizeof dcases / sizeof dcases[0])

START_TEST(domain)
{
  const dcase *c = &dcases[_i];
  const bayes_dist *d = c->d;
  const char *msg = d->check(c->bad);
  ck_assert_msg(msg && strstr(msg, c->word), "%s: check says '%s'", d->name, msg ? msg : "(null)");
  ck_assert_msg(d->check(c->good) == NULL, "%s: good parameters rejected", d->name);
  for (int fn = LPDF; fn <= LCCDF; fn++)
    ck_assert_msg(isnan(eval1(d, fn, 0.7, c->bad)), "%s_%s: bad params not NaN", d->name, fn_name[fn]);
  if (!isnan(c->outside)) {
    ck_assert_msg(eval1(d, LPDF, c->outside, c->good) == -INFINITY, "%s: outside not -inf", d->name);
    /* the log CDF beyond the support is 0 (above) or -inf (below), never NaN */
    double lc = eval1(d, LCDF, c->outside, c->good), lq = eval1(d, LCCDF, c->outside, c->good);
    ck_assert_msg((lc == -INFINITY && lq == 0) || (lc == 0 && lq == -INFINITY),
                  "%s: lcdf %g, lccdf %g outside the support", d->name, lc, lq);
  }
  /* through the op: the failure message names the distribution and the problem */
  int nin = 1 + d->nparams;
  bayes_shape xs[BAYES_DIST_MAXARG], ys = bayes_shape_scalar();
  const double *xv[BAYES_DIST_MAXARG];
  double y = 0.7;
  xs[0] = bayes_shape_scalar();
  xv[0] = &y;
  for (int k = 1; k < nin; k++) {
    xs[k] = bayes_shape_scalar();
    xv[k] = &c->bad[k - 1];
  }
  bool diff[BAYES_DIST_MAXARG] = {false, false, false, false, false};
  bt_opcheck oc = {.op = &bayes_op_dist_sum, .nin = nin, .nout = 1, .xs = xs, .xv = xv,
                   .diff = diff, .ys = &ys, .aux = d, .iarg = {LPDF}, .work = nin};
  char m[256] = "";
  double out;
  double *outs[1] = {&out};
  ck_assert_int_eq(bt_op_eval(&oc, outs, m, sizeof m), -1);
  ck_assert_msg(strstr(m, d->name) && strstr(m, c->word), "op message '%s'", m);
}
END_TEST

START_TEST(supports)
{
  const bayes_dist *real[] = {&bayes_dist_normal, &bayes_dist_student_t, &bayes_dist_cauchy,
                              &bayes_dist_logistic, &bayes_dist_laplace, &bayes_dist_gumbel,
                              &bayes_dist_skew_normal, &bayes_dist_flat, &bayes_dist_von_mises};
  const bayes_dist *pos[] = {&bayes_dist_lognormal, &bayes_dist_half_normal,
                             &bayes_dist_half_cauchy, &bayes_dist_half_student_t,
                             &bayes_dist_exponential, &bayes_dist_gamma, &bayes_dist_inv_gamma,
                             &bayes_dist_weibull, &bayes_dist_chi_square,
                             &bayes_dist_inv_chi_square};
  for (size_t i = 0; i < sizeof real / sizeof *real; i++)
    ck_assert_msg(real[i]->support == BAYES_SUPPORT_REAL, "%s", real[i]->name);
  for (size_t i = 0; i < sizeof pos / sizeof *pos; i++)
    ck_assert_msg(pos[i]->support == BAYES_SUPPORT_POSITIVE, "%s", pos[i]->name);
  ck_assert(bayes_dist_beta.support == BAYES_SUPPORT_UNIT);
  ck_assert(bayes_dist_uniform.support == BAYES_SUPPORT_INTERVAL && bayes_dist_uniform.bound_arg == 1);
  ck_assert(bayes_dist_pareto.support == BAYES_SUPPORT_LOWER && bayes_dist_pareto.bound_arg == 1);
  for (size_t i = 0; i < NG; i++) {
    const bayes_dist *d = gcases[i].d;
    ck_assert_msg(d->kind == BAYES_DIST_UNIVARIATE && !d->discrete, "%s", d->name);
    ck_assert_msg(d->nparams_min == d->nparams, "%s: no defaults", d->name);
    for (int k = 0; k < d->nparams; k++) ck_assert(d->param_names && d->param_names[k]);
  }
  ck_assert_int_eq(bayes_dist_student_t.nparams, 3);
  ck_assert_int_eq(bayes_dist_half_normal.nparams, 1);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("dist_continuous");
  TCase *v = tcase_create("values");
  tcase_add_test(v, val_normal);
  tcase_add_test(v, val_normal_vector_paths);
  tcase_add_test(v, val_student_t);
  tcase_add_test(v, val_cauchy);
  tcase_add_test(v, val_logistic);
  tcase_add_test(v, val_laplace);
  tcase_add_test(v, val_gumbel);
  tcase_add_test(v, val_skew_normal);
  tcase_add_test(v, val_lognormal);
  tcase_add_test(v, val_half);
  tcase_add_test(v, val_exponential);
  tcase_add_test(v, val_gamma);
  tcase_add_test(v, val_weibull);
  tcase_add_test(v, val_chi_square);
  tcase_add_test(v, val_beta);
  tcase_add_test(v, val_uniform);
  tcase_add_test(v, val_von_mises);
  tcase_add_test(v, val_pareto);
  tcase_add_test(v, val_flat);
  tcase_add_loop_test(v, cdf_complement, 0, NG);
  suite_add_tcase(s, v);
  TCase *g = tcase_create("gradients");
  tcase_set_timeout(g, 60);
  tcase_add_loop_test(g, grad_dist, 0, NG);
  suite_add_tcase(s, g);
  TCase *r = tcase_create("rng");
  tcase_set_timeout(r, 60);
  tcase_add_loop_test(r, rng_ks, 0, NR);
  tcase_add_test(r, rng_ks_has_power);
  suite_add_tcase(s, r);
  TCase *d = tcase_create("domain");
  tcase_add_loop_test(d, domain, 0, ND);
  tcase_add_test(d, supports);
  suite_add_tcase(s, d);
  return s;
}

int main(void) { return bt_run_suite(suite()); }
