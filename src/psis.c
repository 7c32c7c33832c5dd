/* psis.c — Pareto smoothed importance sampling (psis.h): the generalized Pareto fit of
 * Zhang & Stephens (2009) with loo's weakly informative prior on k, tail smoothing by
 * expected order statistics, multinomial resampling and the weights' effective size. */
#include "config.h"

#include "psis.h"

#include <math.h>
#include <stdlib.h>

#include "util.h"

/* Fewer than 5 tail draws cannot support a fit (Vehtari et al. 2024); loo 2.5.1 then
 * reports k = Inf and leaves the ratios unsmoothed. */
#define MIN_TAIL 5
/* loo's gpdfit(min_grid_pts = 30): the Zhang & Stephens grid has 30 + floor(sqrt(M))
 * points (their paper used 20 + floor(sqrt(M))). */
#define MIN_GRID 30
/* loo's gpdfit(wip = TRUE): k is pulled towards 0.5 as if by PRIOR_N extra observations
 * with k = 0.5, k <- (M k + PRIOR_N 0.5) / (M + PRIOR_N) (Vehtari et al. 2024,
 * the weakly informative prior that stabilises k-hat for short tails). */
#define PRIOR_N 10.0
#define PRIOR_K 0.5

/* One finite ratio and where it came from: sorting these ascending by (value, index)
 * reproduces R's stable order(), so ties in the tail get the same smoothed values as in
 * loo. */
typedef struct {
  double v;
  size_t i;
} entry;

static int entry_cmp(const void *a, const void *b)
{
  const entry *x = a, *y = b;
  if (x->v < y->v) return -1;
  if (x->v > y->v) return 1;
  return (x->i > y->i) - (x->i < y->i);
}

/* log sum exp of the finite entries of v (there is at least one). */
static double log_sum_exp(const double *v, size_t n)
{
  double mx = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (v[i] > mx) mx = v[i];
  double s = 0;
  for (size_t i = 0; i < n; i++)
    if (v[i] > -INFINITY) s += exp(v[i] - mx);
  return mx + log(s);
}

/* Quantile of the generalized Pareto distribution with location 0, shape k, scale sigma,
 * F^-1(p) = sigma ((1 - p)^-k - 1) / k, and its k -> 0 limit, the exponential. */
static double gpd_quantile(double p, double k, double sigma)
{
  if (k == 0) return -sigma * log1p(-p);
  return sigma * expm1(-k * log1p(-p)) / k;
}

/* Fits the generalized Pareto (location 0) to x[0..m-1] >= 0, sorted ascending, with the
 * estimator of Zhang & Stephens (2009) in their parameterisation theta = -k / sigma (k
 * here is theirs negated, as in loo): a grid of theta_j = 1/x(m) + (1 - sqrt(G/(j -
 * 1/2))) / (3 x*), j = 1..G, x* the first quartile x(floor(m/4 + 1/2)); the profile
 * log likelihood l(theta) = m (log(theta / kz) + kz - 1) with kz(theta) = -mean log(1 -
 * theta x) (their k); theta-hat = the l-weighted mean of the grid (their posterior mean
 * with a flat prior on the grid); then k = mean log(1 - theta-hat x), sigma = -k /
 * theta-hat. k gets loo's prior (PRIOR_N); sigma keeps the fitted k. *k is NaN when the
 * fit breaks down (x* = 0: a quarter or more of the exceedances are zero). */
static void gpd_fit(const double *x, size_t m, double *grid, double *ll, double *k,
                    double *sigma)
{
  size_t g = MIN_GRID + (size_t)floor(sqrt((double)m));
  double xstar = x[(size_t)floor((double)m / 4 + 0.5) - 1];
  if (!(xstar > 0)) {        /* the grid would be all -inf: no estimate */
    *k = *sigma = NAN;
    return;
  }
  double lmax = -INFINITY;
  for (size_t j = 0; j < g; j++) {
    double th = 1 / x[m - 1] + (1 - sqrt((double)g / ((double)j + 0.5))) / (3 * xstar);
    double a = 0;                       /* -kz */
    for (size_t i = 0; i < m; i++) a += log1p(-th * x[i]);
    a /= (double)m;
    grid[j] = th;
    ll[j] = (double)m * (log(-th / a) - a - 1);
    if (ll[j] > lmax) lmax = ll[j];
  }
  /* weights exp(l_j) / sum_i exp(l_i), shifted by the largest l */
  double wsum = 0, th_hat = 0;
  for (size_t j = 0; j < g; j++) {
    ll[j] = exp(ll[j] - lmax);
    wsum += ll[j];
  }
  for (size_t j = 0; j < g; j++) th_hat += grid[j] * (ll[j] / wsum);
  double kk = 0;
  for (size_t i = 0; i < m; i++) kk += log1p(-th_hat * x[i]);
  kk /= (double)m;
  *sigma = -kk / th_hat;
  *k = ((double)m * kk + PRIOR_N * PRIOR_K) / ((double)m + PRIOR_N);
}

int bayes_psis(const double *log_ratio, size_t n, double *log_w, double *khat)
{
  if (!log_ratio || !log_w || !khat || n == 0) return -1;
  size_t nf = 0;
  double mx = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    double v = log_ratio[i];
    if (isnan(v) || v == INFINITY) return -1;
    if (v > -INFINITY) {
      nf++;
      if (v > mx) mx = v;
    }
  }
  if (nf == 0) return -1;

  /* Vehtari et al. (2024) with r_eff = 1, rounded up as loo 2.5.1 does */
  size_t tail = (size_t)ceil(fmin(0.2 * (double)nf, 3 * sqrt((double)nf)));
  size_t g = MIN_GRID + (size_t)floor(sqrt((double)tail));
  entry *e = bayes_malloc(nf * sizeof *e);
  double *scratch = bayes_malloc((tail + 2 * g + 1) * sizeof *scratch);
  if (!e || !scratch) {
    bayes_free(e);
    bayes_free(scratch);
    return -2;
  }
  /* work relative to the largest ratio so that exp() cannot overflow; -inf ratios are
   * left out of the fit (as if they were never drawn) and keep weight 0 */
  for (size_t i = 0, j = 0; i < n; i++)
    if (log_ratio[i] > -INFINITY) e[j++] = (entry){log_ratio[i] - mx, i};
  for (size_t i = 0; i < n; i++) log_w[i] = log_ratio[i] - mx;
  qsort(e, nf, sizeof *e, entry_cmp);

  double k = INFINITY;
  if (tail >= MIN_TAIL) {
    const entry *t = e + (nf - tail);
    double cut = exp(e[nf - tail - 1].v);
    double *x = scratch;
    int all_equal = 1;
    for (size_t j = 0; j < tail; j++) {
      x[j] = exp(t[j].v) - cut;
      if (exp(t[j].v) != exp(t[0].v)) all_equal = 0;
    }
    /* a tail of one repeated value has no shape to fit: loo reports k = Inf and leaves
     * the ratios as they are */
    if (!all_equal) {
      double sigma;
      gpd_fit(x, tail, scratch + tail, scratch + tail + g, &k, &sigma);
      if (!isfinite(k)) k = INFINITY;
      else {
        /* Vehtari et al. (2024): the z-th smallest of the M tail ratios becomes
         * cut + F^-1((z - 1/2) / M), truncated at the largest raw ratio (0 here) */
        for (size_t z = 0; z < tail; z++) {
          double q = gpd_quantile(((double)z + 0.5) / (double)tail, k, sigma);
          double s = log(q + cut);
          log_w[t[z].i] = s < 0 ? s : 0;
        }
      }
    }
  }
  double lse = log_sum_exp(log_w, n);
  for (size_t i = 0; i < n; i++) log_w[i] -= lse;
  *khat = k;
  bayes_free(e);
  bayes_free(scratch);
  return 0;
}

int bayes_psis_resample(const double *log_w, size_t n, gsl_rng *rng, size_t m, size_t *idx)
{
  if (!log_w || n == 0 || !rng || (m > 0 && !idx)) return -1;
  double mx = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (isnan(log_w[i]) || log_w[i] == INFINITY) return -1;
    if (log_w[i] > mx) mx = log_w[i];
  }
  if (mx == -INFINITY) return -1;
  double *cum = bayes_malloc(n * sizeof *cum);
  if (!cum) return -2;
  double s = 0;
  size_t last = 0;           /* the last index of positive weight */
  for (size_t i = 0; i < n; i++) {
    double w = exp(log_w[i] - mx);
    if (w > 0) last = i;
    s += w;
    cum[i] = s;
  }
  /* index r is drawn when cum[r-1] <= u s < cum[r], an interval of length w_r: the
   * smallest r with cum[r] > u s, by bisection (a zero-weight r never qualifies) */
  for (size_t j = 0; j < m; j++) {
    double v = gsl_rng_uniform(rng) * s;
    size_t lo = 0, hi = last;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (cum[mid] > v) hi = mid;
      else lo = mid + 1;
    }
    idx[j] = lo;
  }
  bayes_free(cum);
  return 0;
}

double bayes_psis_ess(const double *log_w, size_t n)
{
  if (!log_w || n == 0) return NAN;
  for (size_t i = 0; i < n; i++)
    if (isnan(log_w[i]) || log_w[i] == INFINITY) return NAN;
  double mx = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (log_w[i] > mx) mx = log_w[i];
  if (mx == -INFINITY) return NAN;
  double lse = log_sum_exp(log_w, n), s2 = 0;
  for (size_t i = 0; i < n; i++) {
    double w = exp(log_w[i] - lse);
    s2 += w * w;
  }
  return 1 / s2;
}
