/* unit_vector.c — "unit_vector": x = u / |u| with Stan's "log-Jacobian" -u'u/2 (Stan
 * reference manual, "Unit vector"): not a Jacobian (the map is not injective) but a
 * standard normal on u that keeps |u| away from 0 and infinity. Must keep exactly Stan's
 * term so that models translate one to one. */
#include <math.h>
#include <stdio.h>

#include "transform.h"

static long unc_size(const bayes_shape *x, char *err, size_t errlen)
{
  char sb[64];
  if (x->rank != 1 || x->dim[0] < 1) {
    snprintf(err, errlen, "unit_vector needs a vector of length at least 1, not shape %s",
             bayes_shape_str(x, sb, sizeof sb));
    return -1;
  }
  return (long)x->dim[0];
}

/* |u| scaled by the largest element so that the sum of squares cannot overflow */
static double norm(const double *u, size_t n)
{
  double m = 0, ss = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs(u[i]) > m) m = fabs(u[i]);
  if (m == 0 || !isfinite(m)) return m;
  for (size_t i = 0; i < n; i++) ss += (u[i] / m) * (u[i] / m);
  return m * sqrt(ss);
}

static void fwd(const bayes_bound *b)
{
  const double *u = b->x[0];
  double *x = b->y[0], ss = 0;
  size_t K = b->yn[0];
  double r = norm(u, K);
  if (!(r > 0) || !isfinite(r)) {
    b->y[1][0] = NAN;
    bayes_exec_fail(b, "unit_vector: the unconstrained vector has norm %g", r);
    return;
  }
  for (size_t i = 0; i < K; i++) {
    x[i] = u[i] / r;
    ss += u[i] * u[i];
  }
  b->y[1][0] = -0.5 * ss;
}

/* dx/du = (I - x x') / r; d(-u'u/2)/du = -u */
static void bwd(const bayes_bound *b)
{
  const double *u = b->x[0], *x = b->y[0], *g = b->gy[0];
  double *gu = b->gx[0];
  size_t K = b->yn[0];
  if (!gu) return;
  double gj = b->gy[1] ? b->gy[1][0] : 0.0, xg = 0, r = norm(u, K);
  if (g)
    for (size_t i = 0; i < K; i++) xg += x[i] * g[i];
  for (size_t i = 0; i < K; i++) gu[i] += (g ? (g[i] - x[i] * xg) / r : 0.0) - gj * u[i];
}

static int inverse(const double *x, const bayes_shape *s, const double *const *bounds,
                   const size_t *bn, double *u, char *err, size_t errlen)
{
  size_t K = s->dim[0];
  double ss = 0;
  for (size_t i = 0; i < K; i++) {
    if (!isfinite(x[i])) {
      snprintf(err, errlen, "element %zu (value %.15g) is not finite", i + 1, x[i]);
      return -1;
    }
    ss += x[i] * x[i];
  }
  if (fabs(sqrt(ss) - 1.0) > 1e-8) {
    snprintf(err, errlen, "the vector has length %.15g, not 1", sqrt(ss));
    return -1;
  }
  for (size_t i = 0; i < K; i++) u[i] = x[i];
  return 0;
}

static const bayes_op op = {.name = "xform_unit_vector", .fwd = fwd, .bwd = bwd};

const bayes_transform bayes_transform_unit_vector = {
    .name = "unit_vector", .nbounds = 0, .unc_size = unc_size, .op = &op, .inverse = inverse};
