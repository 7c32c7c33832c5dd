/* skew_normal.c — skew_normal(xi, omega, alpha): log density, log CDF / CCDF (through
 * Owen's T function by quadrature) with exact partials, draws. Must not allocate or
 * report errors (NaN for bad parameters). */
#include <gsl/gsl_randist.h>

#include "dist_util.h"

static const char *check(const double *th)
{
  if (!isfinite(th[0])) return "location xi must be finite";
  if (!du_pos(th[1])) return "scale omega must be positive and finite";
  if (!isfinite(th[2])) return "shape alpha must be finite";
  return NULL;
}

/* density 2/omega phi(z) Phi(alpha z) (Azzalini 1985) */
static double lpdf_elem(const double *x, double *dx, unsigned need)
{
  if (check(x + 1)) return NAN;
  double om = x[2], al = x[3], z = (x[0] - x[1]) / om, lP = bayes_log_Phi_rel(al * z);
  if (dx) {
    double r = exp(du_log_phi(al * z) - lP); /* phi/Phi without underflow */
    du_locscale(dx, -z + al * r, z, om, 0, 1, 2);
    dx[2] -= 1 / om;
    dx[3] = z * r;
  }
  return BAYES_LOG2 - log(om) + du_log_phi(z) + lP;
}
DU_KERNEL(lpdf, 4, lpdf_elem)

/* Owen's T(h, a) = 1/(2 pi) int_0^a exp(-h^2 (1 + x^2) / 2) / (1 + x^2) dx (Owen 1956).
 * Reduced to 0 <= a <= 1 by oddness in a and, for a > 1, Owen's identity
 * T(h, a) + T(ah, 1/a) = Phi(h)/2 + Phi(ah)/2 - Phi(h) Phi(ah)   (h >= 0, a >= 0),
 * written with upper tails p, q so that it is a sum of positive terms. */
typedef struct { double h; } owen_par;
static double owen_f(double x, void *vp)
{
  double h = ((owen_par *)vp)->h, t = 1 + x * x;
  return exp(-0.5 * h * h * t) / t;
}
/* after u = h x, for h > 1: exp(-h^2/2) / h * int exp(-u^2/2) / (1 + u^2/h^2) du */
static double owen_g(double u, void *vp)
{
  double h = ((owen_par *)vp)->h;
  return exp(-0.5 * u * u) / (1 + u * u / (h * h));
}
static double owen_t(double h, double a)
{
  h = fabs(h);
  if (a < 0) return -owen_t(h, -a);
  if (a == 0) return 0;
  if (a > 1) {
    double p = 0.5 * erfc(h / BAYES_SQRT2), q = 0.5 * erfc(a * h / BAYES_SQRT2);
    return 0.5 * p + 0.5 * q - p * q - owen_t(a * h, 1 / a);
  }
  owen_par par = {h};
  if (h <= 1) return du_quad(owen_f, &par, 0, a, 1, 0) / (2 * M_PI);
  /* the integrand is below 1e-300 beyond u = 37.2 */
  double ub = fmin(a * h, 37.2);
  return exp(-0.5 * h * h) / (2 * M_PI * h) * du_quad(owen_g, &par, 0, ub, 1 + (int)(ub / 3), 0);
}

/* log of the integrand 2 phi(t) Phi(alpha t) of the CDF of z */
static double log_f(double t, double al) { return BAYES_LOG2 + du_log_phi(t) + bayes_log_Phi_rel(al * t); }

typedef struct { double z, al, lfz; } sn_par;
static double rel_f(double t, void *vp)
{
  sn_par *p = vp;
  return exp(log_f(t, p->al) - p->lfz);
}

/* log F(z) = log int_{-inf}^z 2 phi(t) Phi(alpha t) dt for alpha > 0, z < 0, where the Owen
 * form subtracts nearly equal numbers. The integrand is log-concave, so it stays below
 * f(z) e^{-rho (z - t)}, rho = -d log f / dt at z: cutting at z - 40 / rho loses < 1e-17
 * relative. Integrating f(t) / f(z) keeps everything in range however small F is. */
static double log_small_cdf(double z, double al)
{
  sn_par p = {z, al, log_f(z, al)};
  double rho = -z + al * exp(du_log_phi(al * z) - bayes_log_Phi_rel(al * z));
  return p.lfz + log(du_quad(rel_f, &p, z - 40 / rho, z, 8, 0));
}

/* F(z) = Phi(z) - 2 T(z, alpha); 1 - F = Phi(-z) + 2 T(z, alpha) (Azzalini 1985). When the
 * difference loses more than a digit (only possible for alpha z > 0 in the small tail) the
 * tail is integrated directly, using 1 - F(z; alpha) = F(-z; -alpha). */
static double cdf_common(const double *x, double *dx, unsigned need, int upper)
{
  if (check(x + 1)) return NAN;
  double om = x[2], al = x[3], z = (x[0] - x[1]) / om, sg = upper ? -1 : 1;
  if (isnan(z)) return NAN;
  if (isinf(z)) return (z > 0) == upper ? -INFINITY : 0;
  double T = owen_t(z, al), phi = 0.5 * erfc(-sg * z / BAYES_SQRT2); /* Phi(sg z) */
  double p = phi - sg * 2 * T, l = log(p);
  if (p < 0.1 * phi && sg * al > 0 && sg * z < 0) l = log_small_cdf(sg * z, sg * al);
  if (dx && isfinite(l)) {
    /* dF/dz = 2 phi(z) Phi(alpha z); dF/dalpha = -2 dT/da = -exp(-z^2(1+a^2)/2) / (pi (1+a^2)) */
    du_locscale(dx, sg * exp(log_f(z, al) - l), z, om, 0, 1, 2);
    double t = 1 + al * al;
    dx[3] = -sg * exp(-0.5 * z * z * t - l) / (M_PI * t);
  }
  return l;
}
DU_CDF_KERNELS(4, cdf_common)

/* Y = xi + omega (delta |U0| + sqrt(1 - delta^2) U1), delta = alpha / sqrt(1 + alpha^2)
 * (Azzalini & Dalla Valle 1996) */
static double rng(gsl_rng *r, const double *th)
{
  double d = th[2] / sqrt(1 + th[2] * th[2]);
  double u0 = fabs(gsl_ran_gaussian(r, 1)), u1 = gsl_ran_gaussian(r, 1);
  return th[0] + th[1] * (d * u0 + sqrt(1 - d * d) * u1);
}

static const char *const names[] = {"xi", "omega", "alpha"};

const bayes_dist bayes_dist_skew_normal = {
    .name = "skew_normal", .nparams = 3, .nparams_min = 3, .param_names = names,
    .support = BAYES_SUPPORT_REAL, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpdf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
