/* normal.c — normal(mu, sigma): log density, log CDF / CCDF with partials, and draws.
 * The lpdf is the benchmarks' hot path: no per-element log or division when sigma is a
 * broadcast scalar. Must not allocate or report errors (NaN for bad parameters). */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!isfinite(th[0])) return "location mu must be finite";
  if (!du_pos(th[1])) return "scale sigma must be positive and finite";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double is = 1 / x[2], z = (x[0] - x[1]) * is;
  if (dx) {
    dx[0] = -z * is;
    dx[1] = z * is;
    dx[2] = (z * z - 1) * is;
  }
  return -0.5 * z * z - BAYES_LOG_SQRT_2PI - log(x[2]);
}
DU_KERNEL(lpdf_generic, 3, lpdf_elem)

static double lpdf(const bayes_dargs *d)
{
  const bayes_darg *Y = &d->a[0], *M = &d->a[1], *S = &d->a[2];
  double s = S->x[0];
  if (S->inc != 0 || !du_pos(s)) return lpdf_generic(d);
  double is = 1 / s, c = -BAYES_LOG_SQRT_2PI - log(s), ss = 0;
  size_t n = d->n, iy = Y->inc, im = M->inc;
  int bad = 0;
  if (!d->pw && !Y->g && !M->g && !S->g) {
    /* value only: the sampler's plain log-density evaluations */
    for (size_t i = 0; i < n; i++) {
      double mu = M->x[i * im], z = (Y->x[i * iy] - mu) * is;
      bad |= !isfinite(mu);
      ss += z * z;
    }
    return bad ? NAN : n * c - 0.5 * ss;
  }
  double gs = 0;
  for (size_t i = 0; i < n; i++) {
    double mu = M->x[i * im], z = (Y->x[i * iy] - mu) * is, lp = c - 0.5 * z * z;
    if (!isfinite(mu)) lp = NAN;
    if (d->pw) d->pw[i] = lp;
    ss += z * z;
    bad |= !isfinite(mu);
    if (isfinite(lp)) {
      double w = d->scale * (d->w ? d->w[i] : 1.0), gz = w * z * is;
      if (Y->g) Y->g[i * iy] -= gz;
      if (M->g) M->g[i * im] += gz;
      gs += gz * z - w * is;
    }
  }
  if (S->g) S->g[0] += gs;
  return bad ? NAN : n * c - 0.5 * ss;
}

/* log Phi(z) with d/dz = phi(z) / Phi(z), accurate in the far left tail (special.c) */
static double lcdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double z = (x[0] - x[1]) / x[2], l = bayes_log_Phi_rel(z);
  if (dx && isfinite(l)) du_locscale(dx, exp(du_log_phi(z) - l), z, x[2], 0, 1, 2);
  return l;
}
DU_KERNEL(lcdf, 3, lcdf_elem)

static double lccdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double z = (x[0] - x[1]) / x[2], l = bayes_log_Phi_rel(-z);
  if (dx && isfinite(l)) du_locscale(dx, -exp(du_log_phi(z) - l), z, x[2], 0, 1, 2);
  return l;
}
DU_KERNEL(lccdf, 3, lccdf_elem)

static double rng(gsl_rng *r, const double *th) { return th[0] + gsl_ran_gaussian(r, th[1]); }

static const char *const names[] = {"mu", "sigma"};

const bayes_dist bayes_dist_normal = {
    .name = "normal", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_REAL, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
