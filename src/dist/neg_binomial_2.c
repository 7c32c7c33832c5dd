/* neg_binomial_2.c — neg_binomial_2(mu, phi) (Stan): C(y + phi - 1, y) (mu / (mu + phi))^y
 * (phi / (mu + phi))^phi, mean mu, variance mu + mu^2 / phi; with log CDF / CCDF.
 * Kernels only: no allocation, no tape knowledge. */
#include <math.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static const char *check(const double *th)
{
  if (!(th[0] > 0 && isfinite(th[0]))) return "location mu must be positive and finite";
  if (!(th[1] > 0 && isfinite(th[1]))) return "precision phi must be positive and finite";
  return NULL;
}

static double lpmf1(const double *x, double *g)
{
  double y = x[0], mu = x[1], phi = x[2];
  if (check(x + 1)) return NAN;
  if (!mvu_is_nonneg_int(y)) return -INFINITY;
  /* phi log(phi / (mu + phi)) = -phi log1p(mu / phi): exact as phi -> inf (Poisson limit) */
  double lq = log1p(mu / phi);
  double lp = lgamma(y + phi) - lgamma(y + 1) - lgamma(phi) - phi * lq;
  if (y > 0) lp -= y * log1p(phi / mu);
  if (g) {
    g[1] = y / mu - (y + phi) / (mu + phi);
    g[2] = bayes_digamma(y + phi) - bayes_digamma(phi) - lq + (mu - y) / (mu + phi);
  }
  return lp;
}

/* With p = phi / (mu + phi):  P(Y <= k) = I_p(phi, k + 1),  P(Y > k) = I_{1-p}(k + 1, phi)
 * (Johnson, Kemp & Kotz, Univariate Discrete Distributions, 3rd ed., ch. 5). d/dmu is
 * closed: dI_p/dp (the Beta(phi, k + 1) density) times dp/dmu. dI_p(phi, .)/dphi has no
 * closed form, so the phi derivative of the log CDF is a Richardson-extrapolated central
 * difference of the exact value (mvu_richardson, relative step 1e-2, error O(h^6)); Stan
 * uses a series (grad_reg_inc_beta) for the same reason. */
typedef struct {
  double mu, k;
  bool upper;
} cdf_ctx;

static double log_cdf_at(double phi, const void *vc)
{
  const cdf_ctx *c = vc;
  double s = c->mu + phi;
  return c->upper ? log(gsl_cdf_beta_P(c->mu / s, c->k + 1, phi))
                  : log(gsl_cdf_beta_P(phi / s, phi, c->k + 1));
}

static double cdf_common(const double *x, double *g, bool upper)
{
  double mu = x[1], phi = x[2];
  if (check(x + 1) || isnan(x[0])) return NAN;
  double k = floor(x[0]);
  if (k < 0) return upper ? 0 : -INFINITY;
  cdf_ctx c = {mu, k, upper};
  double lp = log_cdf_at(phi, &c);
  if (g && isfinite(lp)) {
    double s = mu + phi;
    double ldens = (phi - 1) * log(phi / s) + k * log(mu / s) - bayes_lbeta(phi, k + 1);
    double d = exp(ldens - lp) * phi / (s * s);
    g[1] = upper ? d : -d;
    g[2] = mvu_richardson(log_cdf_at, &c, phi, 1e-2 * phi);
  }
  return lp;
}

static double lcdf1(const double *x, double *g) { return cdf_common(x, g, false); }
static double lccdf1(const double *x, double *g) { return cdf_common(x, g, true); }

static double lpmf(const bayes_dargs *d) { return mvu_elementwise(d, 3, lpmf1); }
static double lcdf(const bayes_dargs *d) { return mvu_elementwise(d, 3, lcdf1); }
static double lccdf(const bayes_dargs *d) { return mvu_elementwise(d, 3, lccdf1); }
/* gamma-Poisson mixture: lambda ~ Gamma(shape phi, scale mu / phi), y ~ Poisson(lambda) */
static double rng(gsl_rng *r, const double *th)
{
  double lam = gsl_ran_gamma(r, th[1], th[0] / th[1]);
  return lam < 1073741824.0 ? gsl_ran_poisson(r, lam) : NAN;
}

static const char *const names[] = {"mu", "phi"};

const bayes_dist bayes_dist_neg_binomial_2 = {
    .name = "neg_binomial_2", .nparams = 2, .nparams_min = 2, .param_names = names,
    .discrete = true, .support = BAYES_SUPPORT_INT_NONNEG, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpmf, .lcdf = lcdf, .lccdf = lccdf, .rng = rng, .check = check};
