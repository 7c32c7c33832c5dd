/* diagnostics.c — posterior summaries and convergence diagnostics, computed operation by
 * operation as R's posterior 1.4.0 (and base R) computes them, so the numbers agree to
 * rounding. Uses only the caller's work array: no allocation, no I/O. */
#include "diagnostics.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>

/* Layout of work (sizes from dims()): sorted copy of all draws (N), transformed / split
 * draws (N), scratch for ranking (2N) or for one ESS (FFT buffer 2M, twiddles M, acov
 * means and rho (nmax each), chain means, variances and sums of squares). */
typedef struct {
  size_t n_all;     /* nchains * ndraws */
  size_t nmax;      /* longest chain any computation sees (ndraws, or nchains: r_drop) */
  size_t fft_m;     /* complex FFT length: power of two >= 2 * nmax */
  size_t scratch;
} dims_t;

static dims_t dims(size_t nchains, size_t ndraws)
{
  dims_t d;
  d.n_all = nchains * ndraws;
  d.nmax = ndraws > nchains ? ndraws : nchains;
  d.fft_m = 1;
  while (d.fft_m < 2 * d.nmax) d.fft_m *= 2;
  size_t ess = 3 * d.fft_m + 2 * d.nmax + 6 * nchains + 6;
  d.scratch = 2 * d.n_all > ess ? 2 * d.n_all : ess;
  return d;
}

size_t bayes_summary_work(size_t nchains, size_t ndraws)
{
  dims_t d = dims(nchains, ndraws);
  return 2 * d.n_all + d.scratch;
}

static bool bad_args(const double *const *x, size_t nchains, size_t ndraws, const double *w)
{
  if (!x || !w || nchains == 0 || ndraws == 0) return true;
  if (ndraws > ((size_t)1 << 40) / nchains) return true;
  for (size_t c = 0; c < nchains; c++)
    if (!x[c]) return true;
  return false;
}

/* ---- base R arithmetic ---- */

/* mean(): long-double sum, then one correction pass (R summary.c, rsum/real_mean). */
static double r_mean(const double *x, size_t n)
{
  long double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  s /= (long double)n;
  if (isfinite((double)s)) {
    long double t = 0;
    for (size_t i = 0; i < n; i++) t += x[i] - s;
    s += t / (long double)n;
  }
  return (double)s;
}

/* var(): R cov.c (cov_complete1) — the mean as above, then sum of squared deviations in
 * long double over n - 1. NaN for n < 2 (R gives NA). */
static double r_var(const double *x, size_t n)
{
  if (n < 2) return NAN;
  double m = r_mean(x, n);
  long double s = 0;
  for (size_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
  return (double)(s / (long double)(n - 1));
}

/* colMeans / matrixStats::colMeans2: long-double sum over n, no correction pass */
static double col_mean(const double *x, size_t n)
{
  long double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return (double)(s / (long double)n);
}

static int cmp_double(const void *a, const void *b)
{
  double u = *(const double *)a, v = *(const double *)b;
  return (u > v) - (u < v);
}

/* median(): the middle value, or mean() of the two middle values */
static double median_sorted(const double *s, size_t n)
{
  size_t half = (n + 1) / 2;
  if (n % 2 == 1) return s[half - 1];
  return r_mean(s + half - 1, 2);
}

double bayes_quantile7(const double *sorted, size_t n, double p)
{
  /* R quantile.default, type 7 (Hyndman & Fan 1996, definition 7) */
  if (!sorted || n == 0 || !(p >= 0 && p <= 1)) return NAN;
  double index = 1 + (double)(n - 1) * p;
  double lo = floor(index), hi = ceil(index);
  double qs = sorted[(size_t)lo - 1], xhi = sorted[(size_t)hi - 1];
  if (index > lo && xhi != qs) {
    double h = index - lo;
    qs = (1 - h) * qs + h * xhi;
  }
  return qs;
}

/* posterior's should_return_NA: any NA or infinite value, or max - min < DBL_EPSILON */
static bool should_return_na(const double *x, size_t n)
{
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i])) return true;
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  return fabs(hi - lo) < DBL_EPSILON;
}

static bool any_nan(const double *const *x, size_t nchains, size_t ndraws)
{
  for (size_t c = 0; c < nchains; c++)
    for (size_t i = 0; i < ndraws; i++)
      if (isnan(x[c][i])) return true;
  return false;
}

/* ---- copying draws, split in halves (posterior .split_chains: for an odd length the
 * middle draw is dropped; a chain of one draw is not split) ---- */

typedef enum { T_ID, T_ABSDEV, T_LE, T_SQDEV } transform_t;

static double tr(transform_t t, double v, double a)
{
  switch (t) {
  case T_ABSDEV: return fabs(v - a);
  case T_LE: return v <= a ? 1.0 : 0.0;
  case T_SQDEV: { double d = v - a; return d * d; }
  default: return v;
  }
}

/* Writes the (optionally split) chains contiguously into y (chain after chain).
 * r_drop: reproduce what .split_chains does to a plain R matrix (not a draws_array) of 2 or
 * 3 draws per chain: x[1:1, ] drops to a vector, so cbind() makes 2 pseudo-chains, the
 * first and the last draw of every chain. summarise_draws hits this only in
 * .ess_quantile, whose indicator matrix has lost the draws_array class. */
static void copy_chains(const double *const *x, size_t nchains, size_t ndraws, bool split,
                        bool r_drop, transform_t t, double a, double *y, size_t *nc_out,
                        size_t *n_out)
{
  if (split && r_drop && ndraws / 2 == 1) {
    for (size_t c = 0; c < nchains; c++) {
      y[c] = tr(t, x[c][0], a);
      y[nchains + c] = tr(t, x[c][ndraws - 1], a);
    }
    *nc_out = 2;
    *n_out = nchains;
    return;
  }
  if (!split || ndraws == 1) {
    for (size_t c = 0; c < nchains; c++)
      for (size_t i = 0; i < ndraws; i++) y[c * ndraws + i] = tr(t, x[c][i], a);
    *nc_out = nchains;
    *n_out = ndraws;
    return;
  }
  size_t h = ndraws / 2, second = ndraws - h;
  for (size_t c = 0; c < nchains; c++)
    for (size_t i = 0; i < h; i++) {
      y[(2 * c) * h + i] = tr(t, x[c][i], a);
      y[(2 * c + 1) * h + i] = tr(t, x[c][second + i], a);
    }
  *nc_out = 2 * nchains;
  *n_out = h;
}

/* ---- rank normalisation (Vehtari et al. 2021, eq. 14; posterior z_scale): average ranks
 * of all draws together, then qnorm((r - 3/8) / (S - 2 * 3/8 + 1)) (Blom 1958) ---- */

static int cmp_pair(const void *a, const void *b) { return cmp_double(a, b); }

static void z_scale(double *y, size_t n, double *pairs)
{
  for (size_t i = 0; i < n; i++) {
    pairs[2 * i] = y[i];
    pairs[2 * i + 1] = (double)i;
  }
  qsort(pairs, n, 2 * sizeof(double), cmp_pair);
  const double c = 3.0 / 8.0, denom = (double)n - 2 * c + 1;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && pairs[2 * (j + 1)] == pairs[2 * i]) j++;
    double r = (double)(i + j + 2) / 2.0;    /* R's rank(ties.method = "average") */
    double z = gsl_cdf_ugaussian_Pinv((r - c) / denom);
    for (size_t k = i; k <= j; k++) y[(size_t)pairs[2 * k + 1]] = z;
    i = j + 1;
  }
}

/* ---- autocovariance by FFT (posterior autocovariance(); Geyer 1992). The padding length
 * differs from R's (a power of two instead of nextn), which changes nothing but rounding
 * as long as it is at least 2N: the circular correlation then equals the linear one.
 * Two real chains share one complex transform (a + ib), separated by the conjugate
 * symmetry of real transforms (Press et al., Numerical Recipes, 3rd ed., sec. 12.3). ---- */

/* tw[k] = exp(-2 pi i k / m), k < m / 2 */
static void twiddles(double *tw, size_t m)
{
  for (size_t k = 0; k < m / 2; k++) {
    double ang = -2.0 * M_PI * (double)k / (double)m;
    tw[2 * k] = cos(ang);
    tw[2 * k + 1] = sin(ang);
  }
}

/* iterative radix-2 Cooley-Tukey on interleaved complex data, unnormalised;
 * inverse: conjugated twiddles */
static void fft(double *a, size_t m, const double *tw, bool inverse)
{
  for (size_t i = 1, j = 0; i < m; i++) {
    size_t bit = m >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      double tr0 = a[2 * i], ti0 = a[2 * i + 1];
      a[2 * i] = a[2 * j];
      a[2 * i + 1] = a[2 * j + 1];
      a[2 * j] = tr0;
      a[2 * j + 1] = ti0;
    }
  }
  double sg = inverse ? -1.0 : 1.0;
  for (size_t len = 2; len <= m; len <<= 1) {
    size_t half = len / 2, step = m / len;
    for (size_t s = 0; s < m; s += len)
      for (size_t k = 0; k < half; k++) {
        double wr = tw[2 * k * step], wi = sg * tw[2 * k * step + 1];
        double *u = a + 2 * (s + k), *v = a + 2 * (s + k + half);
        double vr = v[0] * wr - v[1] * wi, vi = v[0] * wi + v[1] * wr;
        v[0] = u[0] - vr;
        v[1] = u[1] - vi;
        u[0] += vr;
        u[1] += vi;
      }
  }
}

/* Autocovariances of centred chains, averaged over chains (posterior: rowMeans2 of
 * apply(x, 2, autocovariance)), filled in on demand: the first lags by direct sums, which
 * is cheaper while Geyer's truncation comes early (it usually does), all remaining lags by
 * FFT once more are needed. Both equal R's FFT values up to rounding. */
typedef struct {
  double *y;                 /* nc centred chains of n */
  const double *var;         /* var(x) per chain; 0: the chain contributes zeros */
  const double *s0;          /* sum of squares per chain (lag 0 of the direct sums) */
  size_t nc, n, m, have, direct_limit;
  double *buf, *tw, *am;
} acov_t;

static void acov_direct(acov_t *a, size_t k)
{
  double s = 0, nd = (double)a->n;
  for (size_t c = 0; c < a->nc; c++) {
    if (a->var[c] == 0) continue;
    const double *y = a->y + c * a->n;
    double sk = 0;
    for (size_t i = 0; i + k < a->n; i++) sk += y[i] * y[i + k];
    s += sk / a->s0[c] * a->var[c] * (nd - 1) / nd;
  }
  a->am[k] = s / (double)a->nc;
}

/* Adds lags from..n-1 of chains ya and (if not NULL) yb, ac / ac[0] * var * (n - 1) / n,
 * to acc, with one complex transform of ya + i yb. */
static void acov_fft2(const acov_t *a, const double *ya, double va, const double *yb,
                      double vb, size_t from, double *acc)
{
  size_t n = a->n, m = a->m;
  double *buf = a->buf, nd = (double)n;
  for (size_t i = 0; i < m; i++) {
    buf[2 * i] = i < n ? ya[i] : 0.0;
    buf[2 * i + 1] = i < n && yb ? yb[i] : 0.0;
  }
  fft(buf, m, a->tw, false);
  /* A = (Z_k + conj Z_{m-k}) / 2, B = (Z_k - conj Z_{m-k}) / 2i; store |A|^2 + i |B|^2 */
  for (size_t k = 0; k <= m / 2; k++) {
    size_t j = (m - k) % m;
    double zr = buf[2 * k], zi = buf[2 * k + 1], wr = buf[2 * j], wi = buf[2 * j + 1];
    double ar = (zr + wr) / 2, ai = (zi - wi) / 2, br = (zi + wi) / 2, bi = (wr - zr) / 2;
    double pa = ar * ar + ai * ai, pb = br * br + bi * bi;
    buf[2 * k] = buf[2 * j] = pa;        /* both spectra are even in k */
    buf[2 * k + 1] = buf[2 * j + 1] = pb;
  }
  fft(buf, m, a->tw, true);
  double a0 = buf[0], b0 = buf[1];
  for (size_t k = from; k < n; k++) {
    acc[k] += buf[2 * k] / a0 * va * (nd - 1) / nd;
    if (yb) acc[k] += buf[2 * k + 1] / b0 * vb * (nd - 1) / nd;
  }
}

static void acov_fft_rest(acov_t *a)
{
  size_t from = a->have, n = a->n;
  for (size_t k = from; k < n; k++) a->am[k] = 0;
  twiddles(a->tw, a->m);
  const double *pend = NULL;
  double vpend = 0;
  for (size_t c = 0; c < a->nc; c++) {
    if (a->var[c] == 0) continue;
    const double *yc = a->y + c * n;
    if (!pend) {
      pend = yc;
      vpend = a->var[c];
      continue;
    }
    acov_fft2(a, pend, vpend, yc, a->var[c], from, a->am);
    pend = NULL;
  }
  if (pend) acov_fft2(a, pend, vpend, NULL, 0, from, a->am);
  for (size_t k = from; k < n; k++) a->am[k] /= (double)a->nc;
  a->have = n;
}

/* mean autocovariance at lag k (k < n) */
static double acov_at(acov_t *a, size_t k)
{
  while (a->have <= k) {
    if (a->have < a->direct_limit) acov_direct(a, a->have++);
    else acov_fft_rest(a);
  }
  return a->am[k];
}

/* posterior .ess(): ESS of chains y (nc chains of n, contiguous; centred in place) from
 * the multi-chain autocorrelation estimate and Geyer's initial monotone sequence (Vehtari et al. 2021,
 * eq. 10-11; Geyer 1992), tau bounded below by 1 / log10(nc * n). */
static double ess_core(double *y, size_t nc, size_t n, size_t fft_m, double *w)
{
  if (n < 3 || should_return_na(y, nc * n)) return NAN;
  double *buf = w, *tw = w + 2 * fft_m, *am = tw + fft_m, *rho = am + n, *cm = rho + n;
  double *var = cm + nc, *s0 = var + nc;
  double nd = (double)n;
  for (size_t c = 0; c < nc; c++) {
    double *yc = y + c * n;
    cm[c] = col_mean(yc, n);              /* matrixStats::colMeans2 */
    var[c] = r_var(yc, n);
    double mu = r_mean(yc, n);            /* autocovariance(): x - mean(x) */
    s0[c] = 0;
    for (size_t i = 0; i < n; i++) {
      yc[i] -= mu;
      s0[c] += yc[i] * yc[i];
    }
  }
  size_t lg = 0;
  while (((size_t)1 << lg) < fft_m) lg++;
  acov_t ac = {y, var, s0, nc, n, fft_m, 0, 4 * lg + 8, buf, tw, am};
  double mean_var = acov_at(&ac, 0) * nd / (nd - 1);
  double var_plus = mean_var * (nd - 1) / nd;
  if (nc > 1) var_plus = var_plus + r_var(cm, nc);
  for (size_t k = 0; k < n; k++) rho[k] = 0;
  size_t t = 0;
  double even = 1, odd = 1 - (mean_var - acov_at(&ac, 1)) / var_plus;
  rho[0] = even;
  rho[1] = odd;
  while (t + 5 < n && !isnan(even + odd) && even + odd > 0) {
    t += 2;
    even = 1 - (mean_var - acov_at(&ac, t)) / var_plus;
    odd = 1 - (mean_var - acov_at(&ac, t + 1)) / var_plus;
    if (even + odd >= 0) {
      rho[t] = even;
      rho[t + 1] = odd;
    }
  }
  size_t max_t = t;
  if (even > 0) rho[max_t] = even;
  /* initial monotone sequence */
  for (t = 0; t + 4 <= max_t;) {
    t += 2;
    if (rho[t] + rho[t + 1] > rho[t - 2] + rho[t - 1]) {
      rho[t] = (rho[t - 2] + rho[t - 1]) / 2;
      rho[t + 1] = rho[t];
    }
  }
  double ess = (double)(nc * n);
  /* R sums rho_hat_t[1:max_t]; with max_t == 0 that is 1:0, i.e. just rho[0] */
  long double sum = 0;
  size_t upto = max_t == 0 ? 1 : max_t;
  for (size_t k = 0; k < upto; k++) sum += rho[k];
  double tau = -1 + 2 * (double)sum + rho[max_t];
  double bound = 1 / log10(ess);
  if (tau < bound) tau = bound;
  return ess / tau;
}

/* posterior .rhat(): split-free potential scale reduction of chains y (Gelman & Rubin
 * 1992; Vehtari et al. 2021 eq. 3-4), variances as matrixStats::colVars(center=) does. */
static double rhat_core(const double *y, size_t nc, size_t n, double *w)
{
  if (should_return_na(y, nc * n)) return NAN;
  if (n < 2 || nc < 2) return NAN;           /* colVars / var give NA */
  double *cm = w, *cv = w + nc;
  double nd = (double)n;
  for (size_t c = 0; c < nc; c++) {
    const double *yc = y + c * n;
    cm[c] = col_mean(yc, n);
    long double s = 0;
    for (size_t i = 0; i < n; i++) {
      double d = yc[i] - cm[c];
      s += d * d;
    }
    cv[c] = (double)(s / (long double)n) * (nd / (nd - 1));
  }
  double var_between = nd * r_var(cm, nc);
  double var_within = r_mean(cv, nc);
  return sqrt((var_between / var_within + nd - 1) / nd);
}

/* ---- posterior measures ---- */

typedef struct {
  const double *const *x;
  size_t nchains, ndraws;
  dims_t d;
  double *sorted, *y, *scratch;
} ctx_t;

static ctx_t ctx_make(const double *const *x, size_t nchains, size_t ndraws, double *work)
{
  ctx_t c = {x, nchains, ndraws, dims(nchains, ndraws), work, NULL, NULL};
  c.y = work + c.d.n_all;
  c.scratch = c.y + c.d.n_all;
  return c;
}

static void ctx_sort(ctx_t *c)
{
  for (size_t k = 0; k < c->nchains; k++)
    for (size_t i = 0; i < c->ndraws; i++) c->sorted[k * c->ndraws + i] = c->x[k][i];
  qsort(c->sorted, c->d.n_all, sizeof(double), cmp_double);
}

static double ctx_ess(ctx_t *c, bool split, bool zscale, transform_t t, double a)
{
  size_t nc, n;
  copy_chains(c->x, c->nchains, c->ndraws, split, t == T_LE, t, a, c->y, &nc, &n);
  if (zscale) z_scale(c->y, nc * n, c->scratch);
  return ess_core(c->y, nc, n, c->d.fft_m, c->scratch);
}

static double ctx_rhat(ctx_t *c, bool split, bool zscale, transform_t t, double a)
{
  size_t nc, n;
  copy_chains(c->x, c->nchains, c->ndraws, split, false, t, a, c->y, &nc, &n);
  if (zscale) z_scale(c->y, nc * n, c->scratch);
  return rhat_core(c->y, nc, n, c->scratch);
}

static double all_mean(ctx_t *c)
{
  for (size_t k = 0; k < c->nchains; k++)
    for (size_t i = 0; i < c->ndraws; i++) c->y[k * c->ndraws + i] = c->x[k][i];
  return r_mean(c->y, c->d.n_all);
}

/* needs c->sorted */
static bool all_na(ctx_t *c) { return should_return_na(c->sorted, c->d.n_all); }

/* rhat(): max of bulk (rank-normalised split chains) and tail (the same of the draws
 * folded about the median), Vehtari et al. 2021 sec. 4.2. NA if either is NA. */
static double rhat_of(double bulk, double tail)
{
  if (isnan(bulk) || isnan(tail)) return NAN;
  return bulk > tail ? bulk : tail;
}

static double m_rhat(ctx_t *c)
{
  double bulk = ctx_rhat(c, true, true, T_ID, 0);
  double med = median_sorted(c->sorted, c->d.n_all);
  return rhat_of(bulk, ctx_rhat(c, true, true, T_ABSDEV, med));
}

/* .ess_quantile(): ESS of the indicator I(x <= quantile(x, p)) on split chains */
static double m_ess_quantile(ctx_t *c, double p)
{
  if (all_na(c)) return NAN;
  size_t len = c->d.n_all;
  if (p == 1) p = ((double)len - 0.5) / (double)len;
  double q = bayes_quantile7(c->sorted, len, p);
  return ctx_ess(c, true, false, T_LE, q);
}

/* ess_tail(): min of the ESS of the 5% and 95% quantiles; NA if either is */
static double ess_tail_of(double a, double b)
{
  if (isnan(a) || isnan(b)) return NAN;
  return a < b ? a : b;
}

/* qbeta(p, a, b). GSL's inverse fails to converge for some large shapes (NaN, e.g.
 * p = 0.1586553, a = 2049.5, b = 108.8); then bisect the CDF, which is monotone. */
static double qbeta(double p, double a, double b)
{
  double x = gsl_cdf_beta_Pinv(p, a, b);
  if (isfinite(x) && x > 0 && x < 1) return x;
  double lo = 0, hi = 1;
  for (int it = 0; it < 200 && hi - lo > 2 * DBL_EPSILON * hi; it++) {
    double mid = lo + (hi - lo) / 2;
    double f = gsl_cdf_beta_P(mid, a, b);
    if (isnan(f)) return NAN;
    if (f < p) lo = mid;
    else hi = mid;
  }
  return lo + (hi - lo) / 2;
}

/* .mcse_quantile() given ess_quantile(x, prob): half the width of the central ~68% interval of the quantile's
 * sampling distribution, from Beta(ess p + 1, ess (1 - p) + 1) order statistics
 * (Vehtari et al. 2021, sec. 4.3). */
static double m_mcse_quantile(ctx_t *c, double prob, double ess)
{
  if (isnan(ess)) return NAN;
  const double p1 = 0.1586553, p2 = 0.8413447;   /* posterior's literals */
  double a1 = qbeta(p1, ess * prob + 1, ess * (1 - prob) + 1);
  double a2 = qbeta(p2, ess * prob + 1, ess * (1 - prob) + 1);
  if (isnan(a1) || isnan(a2)) return NAN;
  double S = (double)c->d.n_all;
  double i1 = floor(a1 * S), i2 = ceil(a2 * S);
  if (i1 < 1) i1 = 1;
  if (i2 > S) i2 = S;
  return (c->sorted[(size_t)i2 - 1] - c->sorted[(size_t)i1 - 1]) / 2;
}

/* mcse_sd() of posterior 1.4: delta method on the variance, with the ESS of the squared
 * centred draws: sqrt((mean(d^4) - mean(d^2)^2) / ess / mean(d^2) / 4). */
static double m_mcse_sd(ctx_t *c)
{
  double mu = all_mean(c);
  double ess = ctx_ess(c, true, false, T_SQDEV, mu);
  size_t n = c->d.n_all;
  for (size_t k = 0; k < c->nchains; k++)
    for (size_t i = 0; i < c->ndraws; i++) {
      double d = c->x[k][i] - mu;
      c->y[k * c->ndraws + i] = d * d;
    }
  double evar = r_mean(c->y, n);
  for (size_t k = 0; k < c->nchains; k++)
    for (size_t i = 0; i < c->ndraws; i++) c->y[k * c->ndraws + i] = pow(c->x[k][i] - mu, 4.0);
  double m4 = r_mean(c->y, n);
  double varvar = (m4 - evar * evar) / ess;
  double varsd = varvar / evar / 4;
  return sqrt(varsd);
}

int bayes_summarise(const double *const *x, size_t nchains, size_t ndraws, double *work,
                    bayes_qsummary *out)
{
  if (bad_args(x, nchains, ndraws, work) || !out) return -1;
  ctx_t c = ctx_make(x, nchains, ndraws, work);
  if (any_nan(x, nchains, ndraws)) {
    /* R: mean is NaN, everything else NA */
    double *f = &out->mean;
    for (size_t i = 0; i < sizeof *out / sizeof(double); i++) f[i] = NAN;
    return 0;
  }
  size_t n = c.d.n_all;
  ctx_sort(&c);
  out->mean = all_mean(&c);
  double var = r_var(c.y, n);
  out->sd = sqrt(var);
  out->median = median_sorted(c.sorted, n);
  for (size_t i = 0; i < n; i++) c.y[i] = fabs(c.sorted[i] - out->median);
  qsort(c.y, n, sizeof(double), cmp_double);
  out->mad = 1.4826 * median_sorted(c.y, n);    /* stats::mad, constant = 1.4826 */
  out->q5 = bayes_quantile7(c.sorted, n, 0.05);
  out->q50 = bayes_quantile7(c.sorted, n, 0.5);
  out->q95 = bayes_quantile7(c.sorted, n, 0.95);
  /* rhat's bulk part and ess_bulk share the rank-normalised split chains */
  size_t nc2, n2;
  copy_chains(x, nchains, ndraws, true, false, T_ID, 0, c.y, &nc2, &n2);
  z_scale(c.y, nc2 * n2, c.scratch);
  double bulk = rhat_core(c.y, nc2, n2, c.scratch);
  out->ess_bulk = ess_core(c.y, nc2, n2, c.d.fft_m, c.scratch);
  double tail = ctx_rhat(&c, true, true, T_ABSDEV, out->median);
  out->rhat = rhat_of(bulk, tail);
  double ess_q5 = m_ess_quantile(&c, 0.05), ess_q50 = m_ess_quantile(&c, 0.5);
  double ess_q95 = m_ess_quantile(&c, 0.95);
  out->ess_tail = ess_tail_of(ess_q5, ess_q95);
  out->ess_mean = ctx_ess(&c, true, false, T_ID, 0);
  out->ess_sd = ctx_ess(&c, true, false, T_ABSDEV, out->mean);
  out->mcse_mean = out->sd / sqrt(out->ess_mean);
  out->mcse_sd = m_mcse_sd(&c);
  out->mcse_q5 = m_mcse_quantile(&c, 0.05, ess_q5);
  out->mcse_q50 = m_mcse_quantile(&c, 0.5, ess_q50);
  out->mcse_q95 = m_mcse_quantile(&c, 0.95, ess_q95);
  return 0;
}

double bayes_rhat(const double *const *x, size_t nchains, size_t ndraws, double *work)
{
  if (bad_args(x, nchains, ndraws, work) || any_nan(x, nchains, ndraws)) return NAN;
  ctx_t c = ctx_make(x, nchains, ndraws, work);
  ctx_sort(&c);
  return m_rhat(&c);
}

double bayes_ess_bulk(const double *const *x, size_t nchains, size_t ndraws, double *work)
{
  if (bad_args(x, nchains, ndraws, work) || any_nan(x, nchains, ndraws)) return NAN;
  ctx_t c = ctx_make(x, nchains, ndraws, work);
  return ctx_ess(&c, true, true, T_ID, 0);
}

double bayes_ess_tail(const double *const *x, size_t nchains, size_t ndraws, double *work)
{
  if (bad_args(x, nchains, ndraws, work) || any_nan(x, nchains, ndraws)) return NAN;
  ctx_t c = ctx_make(x, nchains, ndraws, work);
  ctx_sort(&c);
  return ess_tail_of(m_ess_quantile(&c, 0.05), m_ess_quantile(&c, 0.95));
}

double bayes_ess_basic(const double *const *x, size_t nchains, size_t ndraws, bool split,
                       double *work)
{
  if (bad_args(x, nchains, ndraws, work)) return NAN;
  ctx_t c = ctx_make(x, nchains, ndraws, work);
  return ctx_ess(&c, split, false, T_ID, 0);
}

double bayes_rhat_basic(const double *const *x, size_t nchains, size_t ndraws, bool split,
                        double *work)
{
  if (bad_args(x, nchains, ndraws, work)) return NAN;
  ctx_t c = ctx_make(x, nchains, ndraws, work);
  return ctx_rhat(&c, split, false, T_ID, 0);
}
