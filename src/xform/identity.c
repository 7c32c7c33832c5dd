/* identity.c — the "identity" transform for unconstrained parameters of any shape:
 * x = u, log-Jacobian 0. Exists so that every parameter goes through one code path; it
 * must stay a plain copy (no checks: every real value is in the support). */
#include <string.h>

#include "transform.h"

static long unc_size(const bayes_shape *x, char *err, size_t errlen)
{
  return (long)bayes_shape_size(x);
}

static void fwd(const bayes_bound *b)
{
  if (b->yn[0]) memcpy(b->y[0], b->x[0], b->yn[0] * sizeof(double));
  b->y[1][0] = 0.0;
}

static void bwd(const bayes_bound *b)
{
  double *gu = b->gx[0];
  const double *g = b->gy[0];
  if (!gu || !g) return;
  for (size_t i = 0; i < b->yn[0]; i++) gu[i] += g[i];
}

static int inverse(const double *x, const bayes_shape *s, const double *const *bounds,
                   const size_t *bn, double *u, char *err, size_t errlen)
{
  size_t n = bayes_shape_size(s);
  if (n) memcpy(u, x, n * sizeof(double));
  return 0;
}

static const bayes_op op = {.name = "xform_identity", .fwd = fwd, .bwd = bwd};

const bayes_transform bayes_transform_identity = {
    .name = "identity", .nbounds = 0, .unc_size = unc_size, .op = &op, .inverse = inverse};
