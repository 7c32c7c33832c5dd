/* special.c — accurate scalar special functions (see special.h). Thin wrappers over GSL
 * where GSL is exact, with GSL's error handler bypassed through the _e forms so that an
 * out-of-domain argument gives NaN/inf instead of an abort. */
#include "special.h"

#include <math.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>

double bayes_log1p_exp(double x)
{
  if (x > 0) return x + log1p(exp(-x));
  return log1p(exp(x));
}

double bayes_log1m_exp(double x)
{
  if (x >= 0) return x == 0 ? -INFINITY : NAN;
  /* Maechler (2012), "Accurately computing log(1 - exp(-|a|))" */
  return x > -BAYES_LOG2 ? log(-expm1(x)) : log1p(-exp(x));
}

double bayes_log_sum_exp2(double a, double b)
{
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

double bayes_log_diff_exp(double a, double b)
{
  if (b == -INFINITY) return a;
  if (b > a) return NAN;
  return a + bayes_log1m_exp(b - a);
}

double bayes_inv_logit(double x)
{
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

double bayes_logit(double p) { return log(p / (1.0 - p)); }

double bayes_log_inv_logit(double x)
{
  if (x < 0) return x - log1p(exp(x));
  return -log1p(exp(-x));
}

double bayes_log1m_inv_logit(double x)
{
  if (x > 0) return -x - log1p(exp(-x));
  return -log1p(exp(x));
}

double bayes_lbeta(double a, double b)
{
  gsl_sf_result r;
  if (gsl_sf_lnbeta_e(a, b, &r) != GSL_SUCCESS) return lgamma(a) + lgamma(b) - lgamma(a + b);
  return r.val;
}

double bayes_lchoose(double n, double k)
{
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}

double bayes_digamma(double x)
{
  gsl_sf_result r;
  if (gsl_sf_psi_e(x, &r) != GSL_SUCCESS) return NAN;
  return r.val;
}

double bayes_trigamma(double x)
{
  gsl_sf_result r;
  if (gsl_sf_psi_1_e(x, &r) != GSL_SUCCESS) return NAN;
  return r.val;
}

double bayes_Phi(double x) { return 0.5 * erfc(-x / BAYES_SQRT2); }

/* the relative-accuracy version (switching to the asymptotic series only below -37.5,
 * log1p form for x > 0) is the one every caller should get */
double bayes_log_Phi(double x) { return bayes_log_Phi_rel(x); }

double bayes_log_Phic(double x) { return bayes_log_Phi(-x); }

double bayes_Phi_approx(double x)
{
  return bayes_inv_logit(0.07056 * x * x * x + 1.5976 * x);
}

double bayes_inc_beta(double a, double b, double x)
{
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  return gsl_cdf_beta_P(x, a, b);
}

double bayes_gamma_p(double a, double x)
{
  gsl_sf_result r;
  if (x <= 0) return 0;
  if (gsl_sf_gamma_inc_P_e(a, x, &r) != GSL_SUCCESS) return NAN;
  return r.val;
}

double bayes_gamma_q(double a, double x)
{
  gsl_sf_result r;
  if (x <= 0) return 1;
  if (gsl_sf_gamma_inc_Q_e(a, x, &r) != GSL_SUCCESS) return NAN;
  return r.val;
}

double bayes_log_bessel_i0(double x)
{
  gsl_sf_result r;
  x = fabs(x);
  /* I0_scaled(x) = exp(-x) I0(x) */
  if (gsl_sf_bessel_I0_scaled_e(x, &r) != GSL_SUCCESS) return NAN;
  return x + log(r.val);
}

double bayes_bessel_i1_over_i0(double x)
{
  gsl_sf_result r0, r1;
  double ax = fabs(x);
  if (gsl_sf_bessel_I0_scaled_e(ax, &r0) != GSL_SUCCESS) return NAN;
  if (gsl_sf_bessel_I1_scaled_e(ax, &r1) != GSL_SUCCESS) return NAN;
  return (x < 0 ? -1 : 1) * r1.val / r0.val;
}

double bayes_lmgamma(int k, double x)
{
  double r = k * (k - 1) * 0.25 * BAYES_LOG_PI;
  for (int j = 1; j <= k; j++) r += lgamma(x + (1.0 - j) / 2.0);
  return r;
}

double bayes_log_Phi_rel(double x)
{
  if (x > 0) return log1p(-0.5 * erfc(x / BAYES_SQRT2));
  if (x > -37.5) return log(0.5 * erfc(-x / BAYES_SQRT2));
  /* Abramowitz & Stegun 26.2.12; at x <= -37.5 the 12th term is below 1e-20 */
  double z = x * x, s = 1, t = 1;
  for (int k = 1; k <= 12; k++) {
    t *= -(2.0 * k - 1) / z;
    s += t;
  }
  return -0.5 * z - log(-x) - BAYES_LOG_SQRT_2PI + log(s);
}
