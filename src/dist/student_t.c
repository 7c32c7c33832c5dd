/* student_t.c — student_t(nu, mu, sigma): log density with partials in y, nu (digamma),
 * mu, sigma; log CDF / CCDF (exact values from GSL's t CDF, nu-derivative by Richardson
 * differences); draws. Must not allocate or report errors (NaN for bad parameters). */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!du_pos(th[0])) return "degrees of freedom nu must be positive and finite";
  if (!isfinite(th[1])) return "location mu must be finite";
  if (!du_pos(th[2])) return "scale sigma must be positive and finite";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double nu = x[1], s = x[3], z = (x[0] - x[2]) / s, lq = du_log1p_sq(z / sqrt(nu));
  if (dx) {
    /* d/dz of -(nu+1)/2 log1p(z^2/nu) */
    double gz = -(nu + 1) * z / (nu + z * z);
    du_locscale(dx, gz, z, s, 0, 2, 3);
    dx[3] -= 1 / s;
    if (DU_NEED(1))
      dx[1] = 0.5 * (bayes_digamma(0.5 * (nu + 1)) - bayes_digamma(0.5 * nu) - 1 / nu -
                     lq + (nu + 1) / nu / (1 + nu / (z * z)));
  }
  return lgamma(0.5 * (nu + 1)) - lgamma(0.5 * nu) - 0.5 * (log(nu) + BAYES_LOG_PI) -
         log(s) - 0.5 * (nu + 1) * lq;
}
DU_KERNEL(lpdf, 4, lpdf_elem)

/* GSL computes either tail directly (no 1 - P), so both keep relative accuracy */
static double tail_val(double z, double nu, int upper)
{
  double p = upper ? gsl_cdf_tdist_Q(z, nu) : gsl_cdf_tdist_P(z, nu);
  return log(p);
}
static double lcdf_val(const double *x) { return tail_val((x[0] - x[2]) / x[3], x[1], 0); }
static double lccdf_val(const double *x) { return tail_val((x[0] - x[2]) / x[3], x[1], 1); }

static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double z = (x[0] - x[2]) / x[3], l = tail_val(z, x[1], upper);
  if (dx && isfinite(l)) {
    double lf = lpdf_elem(x, NULL, 0) + log(x[3]); /* log density of z */
    du_locscale(dx, (upper ? -1 : 1) * exp(lf - l), z, x[3], 0, 2, 3);
    if (DU_NEED(1)) dx[1] = du_rich(upper ? lccdf_val : lcdf_val, x, 1, du_shape_step(x[1]));
  }
  return l;
}
DU_CDF_KERNELS(4, cdf_common)

static double rng(gsl_rng *r, const double *th)
{
  return th[1] + th[2] * gsl_ran_tdist(r, th[0]);
}

static const char *const names[] = {"nu", "mu", "sigma"};

const bayes_dist bayes_dist_student_t = {
    .name = "student_t", .nparams = 3, .nparams_min = 3, .param_names = names,
    .support = BAYES_SUPPORT_REAL, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
