/* bernoulli_logit.c — bernoulli_logit(alpha) = bernoulli(inv_logit(alpha)), evaluated on
 * the logit scale so that |alpha| of hundreds neither overflows nor rounds to log(0).
 * Kernels only: no allocation, no tape knowledge. */
#include "config.h"

#include <math.h>
#include <gsl/gsl_randist.h>

#include "dist.h"
#include "mv_util.h"

static const char *check(const double *th)
{
  if (isnan(th[0])) return "log-odds alpha must not be NaN";
  return NULL;
}

static double lpmf1(const double *x, double *g)
{
  double y = x[0], a = x[1];
  if (check(x + 1)) return NAN;
  if (y != 0 && y != 1) return -INFINITY;
  /* log inv_logit(a) = -log1p_exp(-a); log(1 - inv_logit(a)) = -log1p_exp(a) */
  if (y == 1) {
    if (g) g[1] = bayes_inv_logit(-a);
    return -bayes_log1p_exp(-a);
  }
  if (g) g[1] = -bayes_inv_logit(a);
  return -bayes_log1p_exp(a);
}

#if defined(HAVE_LIBMVEC) && defined(__x86_64__)
#include <immintrin.h>
#define BAYES_MVEC 1
/* glibc's vector math (libmvec): four doubles at a time, within 4 ulp */
__m256d _ZGVdN4v_exp(__m256d);
__m256d _ZGVdN4v_log1p(__m256d);

/* The scalar loop below, four elements at a time: y (inc 1, already checked to be 0 or 1)
 * and alpha (inc 1, no NaN). Returns the sum of the log probabilities and adds the
 * partials of alpha into ga (if not NULL). Handles n rounded down to a multiple of 4. */
__attribute__((target("avx2,fma"))) static double lpmf_avx2(size_t n, const double *y,
                                                             const double *a, double *ga,
                                                             double scale)
{
  const __m256d one = _mm256_set1_pd(1.0), zero = _mm256_setzero_pd();
  const __m256d sign = _mm256_set1_pd(-0.0), sc = _mm256_set1_pd(scale);
  __m256d acc = zero;
  for (size_t i = 0; i + 4 <= n; i += 4) {
    __m256d yv = _mm256_loadu_pd(y + i), av = _mm256_loadu_pd(a + i);
    __m256d pm = _mm256_sub_pd(_mm256_add_pd(yv, yv), one);      /* 2y - 1 */
    __m256d s = _mm256_mul_pd(pm, av);                            /* +a or -a */
    __m256d e = _ZGVdN4v_exp(_mm256_or_pd(s, sign));              /* exp(-|s|) */
    __m256d l = _mm256_sub_pd(_mm256_min_pd(s, zero), _ZGVdN4v_log1p(e));
    acc = _mm256_add_pd(acc, l);
    if (ga) {
      __m256d pos = _mm256_cmp_pd(s, zero, _CMP_GE_OQ);
      __m256d num = _mm256_blendv_pd(one, e, pos);                /* s >= 0 ? e : 1 */
      __m256d dlds = _mm256_div_pd(num, _mm256_add_pd(one, e));
      __m256d g = _mm256_loadu_pd(ga + i);
      _mm256_storeu_pd(ga + i, _mm256_fmadd_pd(sc, _mm256_mul_pd(dlds, pm), g));
    }
  }
  double t[4];
  _mm256_storeu_pd(t, acc);
  return (t[0] + t[1]) + (t[2] + t[3]);
}
#endif

/* The logistic-regression hot path: one exp and one log1p per element, no indirect call.
 * With s = alpha for y = 1 and -alpha for y = 0, log p = log inv_logit(s) and
 * d log p / ds = inv_logit(-s), both from e = exp(-|s|). */
static double lpmf(const bayes_dargs *d)
{
  size_t n = d->n, iy = d->a[0].inc, ia = d->a[1].inc;
  const double *y = d->a[0].x, *a = d->a[1].x;
  double *ga = d->a[1].g, total = 0;
  if (d->pw || d->w) return mvu_elementwise(d, 2, lpmf1);
  size_t start = 0;
#ifdef BAYES_MVEC
  if (iy == 1 && ia == 1 && n >= 8 && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma")) {
    /* check the whole vector first: the vector loop assumes valid input */
    for (size_t i = 0; i < n; i++) {
      if (isnan(a[i])) return NAN;
      if (y[i] != 0 && y[i] != 1) return -INFINITY;
    }
    start = n - n % 4;
    total = lpmf_avx2(start, y, a, ga, d->scale);
  }
#endif
  for (size_t i = start; i < n; i++) {
    double yi = y[i * iy], ai = a[i * ia];
    if (isnan(ai)) return NAN;
    if (yi != 0 && yi != 1) return -INFINITY;
    double s = yi == 1 ? ai : -ai;
    double e = exp(-fabs(s));
    total += (s < 0 ? s : 0) - log1p(e);
    if (ga) {
      double dlds = s >= 0 ? e / (1 + e) : 1 / (1 + e);
      ga[i * ia] += d->scale * (yi == 1 ? dlds : -dlds);
    }
  }
  return total;
}
static double rng(gsl_rng *r, const double *th)
{
  return gsl_ran_bernoulli(r, bayes_inv_logit(th[0]));
}

static const char *const names[] = {"alpha"};

const bayes_dist bayes_dist_bernoulli_logit = {
    .name = "bernoulli_logit", .nparams = 1, .nparams_min = 1, .param_names = names,
    .discrete = true, .support = BAYES_SUPPORT_INT_BINARY, .kind = BAYES_DIST_UNIVARIATE,
    .lpdf = lpmf, .rng = rng, .check = check};
