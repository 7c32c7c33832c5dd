/* ordered.c — "ordered" (x_1 = u_1, x_k = x_{k-1} + exp(u_k)) and "positive_ordered"
 * (x_1 = exp(u_1), same recursion) vectors (Stan reference manual, "Ordered vector",
 * "Positive ordered vector"). log|dx/du| = sum of the exponentiated u_k (triangular
 * Jacobian). The gradient runs as one suffix sum: no scratch. */
#include <math.h>
#include <stdio.h>

#include "transform.h"

static long unc_size(const bayes_shape *x, char *err, size_t errlen)
{
  char sb[64];
  if (x->rank != 1) {
    snprintf(err, errlen, "an ordered vector needs rank 1, not shape %s",
             bayes_shape_str(x, sb, sizeof sb));
    return -1;
  }
  return (long)x->dim[0];
}

static void fwd_common(const bayes_bound *b, bool positive)
{
  const double *u = b->x[0];
  double *x = b->y[0], lj = 0;
  size_t K = b->yn[0];
  for (size_t k = 0; k < K; k++) {
    if (k == 0) {
      x[0] = positive ? exp(u[0]) : u[0];
      if (positive) lj += u[0];
    } else {
      x[k] = x[k - 1] + exp(u[k]);
      lj += u[k];
    }
  }
  b->y[1][0] = lj;
}

/* dx_j / du_k = exp(u_k) for j >= k (except ordered's k = 1: 1), so the adjoint of u_k
 * is exp(u_k) times the suffix sum of the output adjoints. */
static void bwd_common(const bayes_bound *b, bool positive)
{
  const double *u = b->x[0], *g = b->gy[0];
  double *gu = b->gx[0];
  size_t K = b->yn[0];
  if (!gu) return;
  double gj = b->gy[1] ? b->gy[1][0] : 0.0, suffix = 0;
  for (size_t k = K; k-- > 0;) {
    if (g) suffix += g[k];
    bool exped = k > 0 || positive;
    gu[k] += exped ? suffix * exp(u[k]) + gj : suffix;
  }
}

static void ord_fwd(const bayes_bound *b) { fwd_common(b, false); }
static void ord_bwd(const bayes_bound *b) { bwd_common(b, false); }
static void pos_fwd(const bayes_bound *b) { fwd_common(b, true); }
static void pos_bwd(const bayes_bound *b) { bwd_common(b, true); }

static int inverse_common(const double *x, const bayes_shape *s, double *u, bool positive,
                          char *err, size_t errlen)
{
  size_t K = s->dim[0];
  for (size_t k = 0; k < K; k++) {
    if (!isfinite(x[k])) {
      snprintf(err, errlen, "element %zu (value %.15g) is not finite", k + 1, x[k]);
      return -1;
    }
    if (k == 0) {
      if (positive && !(x[0] > 0)) {
        snprintf(err, errlen, "element 1 (value %.15g) is not positive", x[0]);
        return -1;
      }
      u[0] = positive ? log(x[0]) : x[0];
    } else {
      if (!(x[k] > x[k - 1])) {
        snprintf(err, errlen, "element %zu (value %.15g) is not greater than element %zu (value %.15g)",
                 k + 1, x[k], k, x[k - 1]);
        return -1;
      }
      u[k] = log(x[k] - x[k - 1]);
    }
  }
  return 0;
}

static int ord_inverse(const double *x, const bayes_shape *s, const double *const *bounds,
                       const size_t *bn, double *u, char *err, size_t errlen)
{
  return inverse_common(x, s, u, false, err, errlen);
}

static int pos_inverse(const double *x, const bayes_shape *s, const double *const *bounds,
                       const size_t *bn, double *u, char *err, size_t errlen)
{
  return inverse_common(x, s, u, true, err, errlen);
}

static const bayes_op ord_op = {.name = "xform_ordered", .fwd = ord_fwd, .bwd = ord_bwd};
static const bayes_op pos_op = {.name = "xform_positive_ordered", .fwd = pos_fwd, .bwd = pos_bwd};

const bayes_transform bayes_transform_ordered = {
    .name = "ordered", .nbounds = 0, .unc_size = unc_size, .op = &ord_op,
    .inverse = ord_inverse};
const bayes_transform bayes_transform_positive_ordered = {
    .name = "positive_ordered", .nbounds = 0, .unc_size = unc_size, .op = &pos_op,
    .inverse = pos_inverse};
