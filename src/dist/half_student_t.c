/* half_student_t.c — half_student_t(nu, sigma) = student_t(nu, 0, sigma) folded onto
 * y >= 0: log density with partials (nu via digamma), log CDF / CCDF (incomplete beta,
 * nu-derivative by Richardson differences), draws. Must not allocate or report errors. */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!du_pos(th[0])) return "degrees of freedom nu must be positive and finite";
  if (!du_pos(th[1])) return "scale sigma must be positive and finite";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double y = x[0], nu = x[1], s = x[2];
  if (y < 0) return -INFINITY;
  double z = y / s, lq = du_log1p_sq(z / sqrt(nu));
  if (dx) {
    du_locscale(dx, -(nu + 1) * z / (nu + z * z), z, s, 0, -1, 2);
    dx[2] -= 1 / s;
    if (DU_NEED(1))
      dx[1] = 0.5 * (bayes_digamma(0.5 * (nu + 1)) - bayes_digamma(0.5 * nu) - 1 / nu -
                     lq + (nu + 1) / nu / (1 + nu / (z * z)));
  }
  return BAYES_LOG2 + lgamma(0.5 * (nu + 1)) - lgamma(0.5 * nu) -
         0.5 * (log(nu) + BAYES_LOG_PI) - log(s) - 0.5 * (nu + 1) * lq;
}
DU_KERNEL(lpdf, 3, lpdf_elem)

/* For T ~ t_nu: P(|T| <= z) = I_{z^2/(nu+z^2)}(1/2, nu/2) and
 * P(|T| > z) = I_{nu/(nu+z^2)}(nu/2, 1/2) (Abramowitz & Stegun 26.7.1), each computed
 * directly so that neither tail is a difference. */
static double tail_val(double z, double nu, int upper)
{
  double d = nu + z * z;
  return log(upper ? bayes_inc_beta(0.5 * nu, 0.5, nu / d) : bayes_inc_beta(0.5, 0.5 * nu, z * z / d));
}
static double lcdf_val(const double *x) { return tail_val(x[0] / x[2], x[1], 0); }
static double lccdf_val(const double *x) { return tail_val(x[0] / x[2], x[1], 1); }

static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double y = x[0], s = x[2];
  if (!(y > 0)) return y <= 0 ? (upper ? 0 : -INFINITY) : NAN;
  double z = y / s, l = tail_val(z, x[1], upper);
  if (dx && isfinite(l) && isfinite(z)) {
    double lf = lpdf_elem(x, NULL, 0) + log(s); /* log density of z */
    du_locscale(dx, (upper ? -1 : 1) * exp(lf - l), z, s, 0, -1, 2);
    if (DU_NEED(1)) dx[1] = du_rich(upper ? lccdf_val : lcdf_val, x, 1, du_shape_step(x[1]));
  }
  return l;
}
DU_CDF_KERNELS(3, cdf_common)

static double rng(gsl_rng *r, const double *th) { return th[1] * fabs(gsl_ran_tdist(r, th[0])); }

static const char *const names[] = {"nu", "sigma"};

const bayes_dist bayes_dist_half_student_t = {
    .name = "half_student_t", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_POSITIVE, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
