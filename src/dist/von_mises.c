/* von_mises.c — von_mises(mu, kappa): density exp(kappa cos(y - mu)) / (2 pi I0(kappa)),
 * evaluated at any real y (periodic); log CDF / CCDF on the period [mu - pi, mu + pi] by
 * quadrature, with partials; draws in that period. Must not allocate or report errors. */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!isfinite(th[0])) return "location mu must be finite";
  if (!(th[1] >= 0 && isfinite(th[1]))) return "concentration kappa must be non-negative and finite";
  return NULL;
}

static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double d = x[0] - x[1], k = x[2], c = cos(d);
  if (!isfinite(d)) return isnan(d) ? NAN : -INFINITY;
  if (dx) {
    dx[0] = -k * sin(d);
    dx[1] = -dx[0];
    dx[2] = c - bayes_bessel_i1_over_i0(k);
  }
  return k * c - BAYES_LOG2 - BAYES_LOG_PI - bayes_log_bessel_i0(k);
}
DU_KERNEL(lpdf, 3, lpdf_elem)

/* density of s = y - mu on [-pi, pi], scaled to avoid overflow:
 * exp(kappa (cos s - 1)) / (2 pi e^-kappa I0(kappa)); `a` is I1/I0 for the kappa-derivative
 * integrand (cos s - A(kappa)) g(s). */
typedef struct {
  double k, norm, a;
} vm_par;
static double vm_g(double s, void *vp)
{
  vm_par *p = vp;
  return exp(p->k * (cos(s) - 1) - p->norm);
}
static double vm_gk(double s, void *vp)
{
  vm_par *p = vp;
  return (cos(s) - p->a) * vm_g(s, vp);
}

/* Integral of f over [lo, hi] within [-pi, pi], on panels of width about 1.5 / sqrt(kappa)
 * (the density's scale), skipping where the integrand underflows: kappa (1 - cos s) > 745. */
static double vm_int(double (*f)(double, void *), vm_par *p, double lo, double hi, double eabs)
{
  double L = p->k > 745.0 / 2 ? acos(1 - 745.0 / p->k) : M_PI;
  lo = fmax(lo, -L);
  hi = fmin(hi, L);
  if (!(lo < hi)) return 0;
  int panels = 1 + (int)((hi - lo) * sqrt(p->k) / 1.5);
  return du_quad(f, p, lo, hi, panels, eabs);
}

/* F(s) = int_{-pi}^{s} g; the smaller part is integrated (so it keeps relative accuracy)
 * and the other is 1 minus it. dF/dy = g(s) = -dF/dmu; dF/dkappa = int_{-pi}^{s} g_kappa,
 * where int_{-pi}^{pi} g_kappa = 0. */
static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double s = x[0] - x[1];
  if (isnan(s)) return NAN;
  if (s <= -M_PI) return upper ? 0 : -INFINITY;
  if (s >= M_PI) return upper ? -INFINITY : 0;
  vm_par p = {x[2], BAYES_LOG2 + BAYES_LOG_PI + bayes_log_bessel_i0(x[2]) - x[2], 0};
  /* integrate the tail that is the smaller: [-pi, s] if s <= 0, else [s, pi] */
  int left = s <= 0;
  double part = left ? vm_int(vm_g, &p, -M_PI, s, 0) : vm_int(vm_g, &p, s, M_PI, 0);
  /* want F (lower) or 1 - F (upper); `part` is F when left, 1 - F otherwise */
  int direct = left != upper;
  double l = direct ? log(part) : log1p(-part);
  double v = exp(l);
  if (dx && isfinite(l)) {
    double sg = upper ? -1 : 1, g = vm_g(s, &p);
    dx[0] = sg * g / v;
    dx[1] = -dx[0];
    if (DU_NEED(2)) {
      p.a = bayes_bessel_i1_over_i0(x[2]);
      double ik = left ? vm_int(vm_gk, &p, -M_PI, s, 1e-15 * part)
                       : -vm_int(vm_gk, &p, s, M_PI, 1e-15 * part); /* = dF/dkappa */
      dx[2] = sg * ik / v;
    }
  }
  return l;
}
DU_CDF_KERNELS(3, cdf_common)

/* Best & Fisher (1979), "Efficient simulation of the von Mises distribution", Appl.
 * Statist. 28(2), algorithm VM; accepts in [mu - pi, mu + pi]. */
static double rng(gsl_rng *r, const double *th)
{
  double mu = th[0], k = th[1];
  if (k < 1e-8) return mu + M_PI * (2 * gsl_rng_uniform(r) - 1);
  double tau = 1 + sqrt(1 + 4 * k * k), rho = (tau - sqrt(2 * tau)) / (2 * k);
  double rr = (1 + rho * rho) / (2 * rho), f;
  for (;;) {
    double u1 = gsl_rng_uniform(r), u2 = gsl_rng_uniform_pos(r);
    double z = cos(M_PI * u1);
    f = (1 + rr * z) / (rr + z);
    double c = k * (rr - f);
    if (c * (2 - c) - u2 > 0 || log(c / u2) + 1 - c >= 0) break;
  }
  double t = acos(fmax(-1, fmin(1, f)));
  return mu + (gsl_rng_uniform(r) < 0.5 ? -t : t);
}

static const char *const names[] = {"mu", "kappa"};

const bayes_dist bayes_dist_von_mises = {
    .name = "von_mises", .nparams = 2, .nparams_min = 2, .param_names = names,
    .support = BAYES_SUPPORT_REAL, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
