/* simplex.c — the "simplex" transform: Stan's stick-breaking map from R^(K-1) to the
 * open unit K-simplex, with its log-Jacobian (Stan reference manual, "Unit simplex").
 * The stick is carried as a product and its log as a sum, never as 1 - sum(x), which
 * cancels catastrophically once most of the stick is used. */
#include <math.h>
#include <stdio.h>

#include "special.h"
#include "transform.h"

static long unc_size(const bayes_shape *x, char *err, size_t errlen)
{
  char sb[64];
  if (x->rank != 1 || x->dim[0] < 1) {
    snprintf(err, errlen, "simplex needs a vector of length at least 1, not shape %s",
             bayes_shape_str(x, sb, sizeof sb));
    return -1;
  }
  return (long)x->dim[0] - 1;
}

/* Stan: z_k = inv_logit(u_k - log(K - k)) (1-based k), so that u = 0 maps to the
 * centre of the simplex; x_k = s_k z_k with stick s_1 = 1, s_{k+1} = s_k (1 - z_k),
 * x_K = s_K; logJ = sum_k log s_k + log z_k + log(1 - z_k). */
static void fwd(const bayes_bound *b)
{
  const double *u = b->x[0];
  size_t K = b->yn[0];
  double *x = b->y[0], s = 1.0, logs = 0.0, lj = 0.0;
  for (size_t k = 0; k + 1 < K; k++) {
    double a = u[k] - log((double)(K - 1 - k));
    double l1m = bayes_log1m_inv_logit(a);
    x[k] = s * bayes_inv_logit(a);
    lj += logs + bayes_log_inv_logit(a) + l1m;
    logs += l1m;
    s *= bayes_inv_logit(-a);
  }
  x[K - 1] = s;
  b->y[1][0] = lj;
}

/* Reverse sweep. With adjoints g_k of x_k and gs of the stick s_{k+1}:
 *   d/da_k = s_k z_k (1 - z_k) (g_k - gs),  gs <- g_k z_k + gs (1 - z_k);
 * the stick s_k = x_k + ... + x_K is rebuilt from the outputs (a sum of positives).
 * d logJ / d a_k = (1 - z_k) - z_k (K - 1 - k) (0-based k): the own term gives
 * 1 - 2 z_k, and log s_j for each later j < K contributes -z_k. */
static void bwd(const bayes_bound *b)
{
  const double *u = b->x[0], *x = b->y[0], *g = b->gy[0];
  double *gu = b->gx[0];
  size_t K = b->yn[0];
  if (!gu || K < 2) return;
  double gj = b->gy[1] ? b->gy[1][0] : 0.0;
  double gs = g ? g[K - 1] : 0.0, stick = x[K - 1];
  for (size_t k = K - 1; k-- > 0;) {
    double a = u[k] - log((double)(K - 1 - k));
    double z = bayes_inv_logit(a), t = bayes_inv_logit(-a);
    double sk = stick + x[k];
    double ga = 0.0;
    if (g) {
      ga = sk * z * t * (g[k] - gs);
      gs = g[k] * z + gs * t;
    }
    ga += gj * (t - z * (double)(K - 1 - k));
    gu[k] += ga;
    stick = sk;
  }
}

static int inverse(const double *x, const bayes_shape *s, const double *const *bounds,
                   const size_t *bn, double *u, char *err, size_t errlen)
{
  size_t K = s->dim[0];
  double sum = 0;
  for (size_t k = 0; k < K; k++) {
    if (!isfinite(x[k])) {
      snprintf(err, errlen, "element %zu (value %.15g) is not finite", k + 1, x[k]);
      return -1;
    }
    if (x[k] < 0) {
      snprintf(err, errlen, "element %zu (value %.15g) is negative", k + 1, x[k]);
      return -1;
    }
    /* zero is in the closed simplex but has no unconstrained value (u = -inf) */
    if (x[k] == 0) {
      snprintf(err, errlen, "element %zu is 0: a simplex parameter needs every element > 0",
               k + 1);
      return -1;
    }
    sum += x[k];
  }
  if (fabs(sum - 1.0) > 1e-8) {
    snprintf(err, errlen, "the elements sum to %.15g, not 1", sum);
    return -1;
  }
  /* u_k = logit(z_k) + log(K - 1 - k) with z_k = x_k / s_k, 1 - z_k = s_{k+1} / s_k,
   * the sticks summed from the end so that no subtraction occurs */
  double rest = x[K - 1];
  for (size_t k = K - 1; k-- > 0;) {
    u[k] = log(x[k] / rest) + log((double)(K - 1 - k));
    rest += x[k];
  }
  return 0;
}

static const bayes_op op = {.name = "xform_simplex", .fwd = fwd, .bwd = bwd};

const bayes_transform bayes_transform_simplex = {
    .name = "simplex", .nbounds = 0, .unc_size = unc_size, .op = &op, .inverse = inverse};
