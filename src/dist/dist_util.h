/* dist_util.h — shared plumbing for the univariate continuous kernels in src/dist/: the
 * element loop (broadcast reads, pointwise output, weighted partial accumulation) and
 * derivative / quadrature helpers. Header-only and stateless: nothing here allocates. */
#ifndef BAYES_DIST_UTIL_H
#define BAYES_DIST_UTIL_H

#include <math.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

#include "dist.h"
#include "special.h"

/* One element of a kernel: x[0] is the variate, x[1..] the parameters. Returns the log
 * density (or log CDF); when dx != NULL (some partial is wanted) stores d l / d x[k] into
 * dx[k] for at least every k whose bit is set in `need` (dx arrives zeroed). Invalid
 * parameters give NAN, a variate outside the support -INFINITY. */
typedef double (*du_elem_fn)(const double *x, double *dx, unsigned need);

/* The kernel contract of dist.h for an element function f over nargs arguments. */
static inline double du_run(const bayes_dargs *d, int nargs, du_elem_fn f)
{
  unsigned need = 0;
  for (int k = 0; k < nargs; k++)
    if (d->a[k].g) need |= 1u << k;
  double sum = 0, x[BAYES_DIST_MAXARG], dx[BAYES_DIST_MAXARG];
  for (size_t i = 0; i < d->n; i++) {
    for (int k = 0; k < nargs; k++) {
      x[k] = d->a[k].x[i * d->a[k].inc];
      dx[k] = 0;
    }
    double lp = f(x, need ? dx : NULL, need);
    if (d->pw) d->pw[i] = lp;
    sum += lp;
    /* outside the support (or NaN) the partials are left untouched, as dist.h says */
    if (need && isfinite(lp)) {
      double s = d->scale * (d->w ? d->w[i] : 1.0);
      for (int k = 0; k < nargs; k++)
        if (d->a[k].g) d->a[k].g[i * d->a[k].inc] += s * dx[k];
    }
  }
  return sum;
}

/* Defines the kernel `name` (a bayes_dargs function) from element function `elem`. */
#define DU_KERNEL(name, nargs, elem) \
  static double name(const bayes_dargs *d) { return du_run(d, (nargs), (elem)); }

/* The lcdf and lccdf kernels of a distribution whose two tails share one function
 * common(x, dx, need, upper). */
#define DU_CDF_KERNELS(nargs, common)                                            \
  static double lcdf_elem(const double *x, double *dx, unsigned need)            \
  {                                                                              \
    return common(x, dx, need, 0);                                               \
  }                                                                              \
  static double lccdf_elem(const double *x, double *dx, unsigned need)           \
  {                                                                              \
    return common(x, dx, need, 1);                                               \
  }                                                                              \
  DU_KERNEL(lcdf, (nargs), lcdf_elem)                                            \
  DU_KERNEL(lccdf, (nargs), lccdf_elem)

#define DU_NEED(k) (need & (1u << (k)))

/* Chain rule for location-scale families: given dl/dz at z = (y - mu) / sigma, fill
 * dy, dmu and dsigma (argument slots iy, imu, isig; imu < 0 when there is no location). */
static inline void du_locscale(double *dx, double gz, double z, double sigma, int iy,
                               int imu, int isig)
{
  if (!isfinite(z)) return; /* y = +-inf: the CDF is flat there, partials stay 0 */
  dx[iy] = gz / sigma;
  if (imu >= 0) dx[imu] = -gz / sigma;
  dx[isig] += -gz * z / sigma;
}

/* log of the standard normal density */
static inline double du_log_phi(double z) { return -0.5 * z * z - BAYES_LOG_SQRT_2PI; }

/* log(1 + z^2) without overflow of z^2 for |z| > 1e154 */
static inline double du_log1p_sq(double z)
{
  double a = fabs(z);
  return a > 1 ? 2 * log(a) + log1p(1 / (a * a)) : log1p(a * a);
}

static inline int du_pos(double s) { return s > 0 && isfinite(s); }

/* Derivative of the value function f with respect to x[k] by central differences with
 * steps h and h/2 combined by Richardson extrapolation (error O(h^4) plus rounding of
 * order eps |f| / h). Used only for shape-parameter derivatives of incomplete gamma and
 * beta functions, which have no closed form; the caller keeps x[k] +- h in the domain. */
typedef double (*du_val_fn)(const double *x);
static inline double du_rich(du_val_fn f, const double *x, int k, double h)
{
  double xx[BAYES_DIST_MAXARG], dd[2];
  memcpy(xx, x, sizeof xx);
  for (int j = 0; j < 2; j++) {
    double hj = j ? h / 2 : h;
    xx[k] = x[k] + hj;
    double fp = f(xx);
    xx[k] = x[k] - hj;
    double fm = f(xx);
    dd[j] = (fp - fm) / (2 * hj);
  }
  return (4 * dd[1] - dd[0]) / 3;
}
/* The step for a positive shape parameter a: small relative to a, so a - h > 0. */
static inline double du_shape_step(double a) { return 1e-3 * a; }

/* Integral of f over [a, b] as the sum of `panels` non-adaptive Gauss–Kronrod rules
 * (gsl_integration_qng needs no workspace, so no allocation in the hot path). The
 * integrand must be smooth on each panel. Returns NAN if a panel does not converge. */
static inline double du_quad(double (*f)(double, void *), void *par, double a, double b,
                             int panels, double epsabs)
{
  gsl_function F = {f, par};
  double sum = 0, h = (b - a) / panels;
  for (int p = 0; p < panels; p++) {
    double r, err, lo = a + p * h, hi = p == panels - 1 ? b : a + (p + 1) * h;
    size_t neval;
    if (gsl_integration_qng(&F, lo, hi, epsabs / panels, 1e-12, &r, &err, &neval) !=
        GSL_SUCCESS)
      return NAN;
    sum += r;
  }
  return sum;
}

#endif
