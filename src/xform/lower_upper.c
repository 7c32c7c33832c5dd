/* lower_upper.c — bound transforms of any shape (Stan reference manual, "Constraint
 * transforms": lower bounded, upper bounded, lower and upper bounded scalar). Bounds are
 * op inputs (1 element or one per element) and may be parameters, so bwd differentiates
 * them too. Infinite bounds are not handled here: the compiler picks lower/upper instead. */
#include <math.h>
#include <stdio.h>

#include "special.h"
#include "transform.h"

/* "element 3 (value -1)" / "element [1, 2] (value -1)" / "value -1" (1-based). */
static void describe(const bayes_shape *s, size_t i, double v, char *buf, size_t len)
{
  if (s->rank == 0) {
    snprintf(buf, len, "value %.15g", v);
  } else if (s->rank == 1) {
    snprintf(buf, len, "element %zu (value %.15g)", i + 1, v);
  } else {
    size_t idx[BAYES_MAX_RANK], r = i;
    for (int d = s->rank - 1; d >= 0; d--) {
      idx[d] = r % s->dim[d] + 1;
      r /= s->dim[d];
    }
    size_t k = (size_t)snprintf(buf, len, "element [");
    for (int d = 0; d < s->rank && k < len; d++)
      k += (size_t)snprintf(buf + k, len - k, "%s%zu", d ? ", " : "", idx[d]);
    if (k < len) snprintf(buf + k, len - k, "] (value %.15g)", v);
  }
}

static long unc_size(const bayes_shape *x, char *err, size_t errlen)
{
  return (long)bayes_shape_size(x);
}

/* ---- lower: x = lb + exp(u), log|dx/du| = u ---- */

static void lower_fwd(const bayes_bound *b)
{
  const double *u = b->x[0], *lb = b->x[1];
  size_t n = b->yn[0], il = bayes_inc(b->xn[1]);
  double *x = b->y[0], lj = 0;
  for (size_t i = 0; i < n; i++) {
    x[i] = lb[i * il] + exp(u[i]);
    lj += u[i];
  }
  b->y[1][0] = lj;
}

static void lower_bwd(const bayes_bound *b)
{
  const double *u = b->x[0], *g = b->gy[0];
  double *gu = b->gx[0], *glb = b->gx[1];
  double gj = b->gy[1] ? b->gy[1][0] : 0.0;
  size_t n = b->yn[0], il = bayes_inc(b->xn[1]);
  for (size_t i = 0; i < n; i++) {
    double gi = g ? g[i] : 0.0;
    /* exp(u) rather than x - lb: the difference cancels when lb is large */
    if (gu) gu[i] += gi * exp(u[i]) + gj;
    if (glb) glb[i * il] += gi;
  }
}

static int check_finite(const double *x, const bayes_shape *s, size_t n, char *err,
                        size_t errlen)
{
  char d[96];
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) {
      describe(s, i, x[i], d, sizeof d);
      snprintf(err, errlen, "%s is not finite", d);
      return -1;
    }
  return 0;
}

static int lower_inverse(const double *x, const bayes_shape *s, const double *const *bounds,
                         const size_t *bn, double *u, char *err, size_t errlen)
{
  size_t n = bayes_shape_size(s), il = bayes_inc(bn[0]);
  char d[96];
  if (check_finite(x, s, n, err, errlen)) return -1;
  for (size_t i = 0; i < n; i++) {
    double lb = bounds[0][i * il];
    if (!(x[i] > lb)) {
      describe(s, i, x[i], d, sizeof d);
      snprintf(err, errlen, "%s is not above the lower bound %.15g", d, lb);
      return -1;
    }
    u[i] = log(x[i] - lb);
  }
  return 0;
}

/* ---- upper: x = ub - exp(u), log|dx/du| = u ---- */

static void upper_fwd(const bayes_bound *b)
{
  const double *u = b->x[0], *ub = b->x[1];
  size_t n = b->yn[0], iu = bayes_inc(b->xn[1]);
  double *x = b->y[0], lj = 0;
  for (size_t i = 0; i < n; i++) {
    x[i] = ub[i * iu] - exp(u[i]);
    lj += u[i];
  }
  b->y[1][0] = lj;
}

static void upper_bwd(const bayes_bound *b)
{
  const double *u = b->x[0], *g = b->gy[0];
  double *gu = b->gx[0], *gub = b->gx[1];
  double gj = b->gy[1] ? b->gy[1][0] : 0.0;
  size_t n = b->yn[0], iu = bayes_inc(b->xn[1]);
  for (size_t i = 0; i < n; i++) {
    double gi = g ? g[i] : 0.0;
    if (gu) gu[i] += -gi * exp(u[i]) + gj;
    if (gub) gub[i * iu] += gi;
  }
}

static int upper_inverse(const double *x, const bayes_shape *s, const double *const *bounds,
                         const size_t *bn, double *u, char *err, size_t errlen)
{
  size_t n = bayes_shape_size(s), iu = bayes_inc(bn[0]);
  char d[96];
  if (check_finite(x, s, n, err, errlen)) return -1;
  for (size_t i = 0; i < n; i++) {
    double ub = bounds[0][i * iu];
    if (!(x[i] < ub)) {
      describe(s, i, x[i], d, sizeof d);
      snprintf(err, errlen, "%s is not below the upper bound %.15g", d, ub);
      return -1;
    }
    u[i] = log(ub - x[i]);
  }
  return 0;
}

/* ---- lower_upper: x = lb + (ub - lb) inv_logit(u),
 *      log|dx/du| = log(ub - lb) + log_inv_logit(u) + log1m_inv_logit(u) ---- */

static void lu_fwd(const bayes_bound *b)
{
  const double *u = b->x[0], *lb = b->x[1], *ub = b->x[2];
  size_t n = b->yn[0], il = bayes_inc(b->xn[1]), iu = bayes_inc(b->xn[2]);
  double *x = b->y[0], lj = 0;
  for (size_t i = 0; i < n; i++) {
    double l = lb[i * il], h = ub[i * iu], d = h - l;
    if (!(d > 0)) {
      b->y[1][0] = NAN;
      if (n == 1)
        bayes_exec_fail(b, "lower_upper: the lower bound %.15g is not below the upper bound %.15g", l, h);
      else
        bayes_exec_fail(b, "lower_upper: element %zu: the lower bound %.15g is not below the upper bound %.15g",
                        i + 1, l, h);
      return;
    }
    /* measure from the nearer bound so that x keeps its precision near either end */
    x[i] = u[i] > 0 ? h - d * bayes_inv_logit(-u[i]) : l + d * bayes_inv_logit(u[i]);
    lj += log(d) + bayes_log_inv_logit(u[i]) + bayes_log1m_inv_logit(u[i]);
  }
  b->y[1][0] = lj;
}

static void lu_bwd(const bayes_bound *b)
{
  const double *u = b->x[0], *lb = b->x[1], *ub = b->x[2], *g = b->gy[0];
  double *gu = b->gx[0], *glb = b->gx[1], *gub = b->gx[2];
  double gj = b->gy[1] ? b->gy[1][0] : 0.0;
  size_t n = b->yn[0], il = bayes_inc(b->xn[1]), iu = bayes_inc(b->xn[2]);
  for (size_t i = 0; i < n; i++) {
    double d = ub[i * iu] - lb[i * il];
    double s = bayes_inv_logit(u[i]), t = bayes_inv_logit(-u[i]); /* t = 1 - s, no cancellation */
    double gi = g ? g[i] : 0.0;
    if (gu) gu[i] += gi * d * s * t + gj * (t - s);
    if (glb) glb[i * il] += gi * t - gj / d;
    if (gub) gub[i * iu] += gi * s + gj / d;
  }
}

static int lu_inverse(const double *x, const bayes_shape *s, const double *const *bounds,
                      const size_t *bn, double *u, char *err, size_t errlen)
{
  size_t n = bayes_shape_size(s), il = bayes_inc(bn[0]), iu = bayes_inc(bn[1]);
  char d[96];
  if (check_finite(x, s, n, err, errlen)) return -1;
  for (size_t i = 0; i < n; i++) {
    double l = bounds[0][i * il], h = bounds[1][i * iu];
    if (!(l < h)) {
      if (s->rank == 0)
        snprintf(err, errlen, "the lower bound %.15g is not below the upper bound %.15g", l, h);
      else
        snprintf(err, errlen, "element %zu: the lower bound %.15g is not below the upper bound %.15g",
                 i + 1, l, h);
      return -1;
    }
    if (!(x[i] > l)) {
      describe(s, i, x[i], d, sizeof d);
      snprintf(err, errlen, "%s is not above the lower bound %.15g", d, l);
      return -1;
    }
    if (!(x[i] < h)) {
      describe(s, i, x[i], d, sizeof d);
      snprintf(err, errlen, "%s is not below the upper bound %.15g", d, h);
      return -1;
    }
    /* logit((x - l) / (h - l)) written as a ratio of the two gaps, each exact-ish */
    u[i] = log((x[i] - l) / (h - x[i]));
  }
  return 0;
}

static const bayes_op lower_op = {.name = "xform_lower", .fwd = lower_fwd, .bwd = lower_bwd};
static const bayes_op upper_op = {.name = "xform_upper", .fwd = upper_fwd, .bwd = upper_bwd};
static const bayes_op lu_op = {.name = "xform_lower_upper", .fwd = lu_fwd, .bwd = lu_bwd};

const bayes_transform bayes_transform_lower = {
    .name = "lower", .nbounds = 1, .unc_size = unc_size, .op = &lower_op,
    .inverse = lower_inverse};
const bayes_transform bayes_transform_upper = {
    .name = "upper", .nbounds = 1, .unc_size = unc_size, .op = &upper_op,
    .inverse = upper_inverse};
const bayes_transform bayes_transform_lower_upper = {
    .name = "lower_upper", .nbounds = 2, .unc_size = unc_size, .op = &lu_op,
    .inverse = lu_inverse};
