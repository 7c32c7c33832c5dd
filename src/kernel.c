/* kernel.c — the kernel registry and the gp_cov op (see kernel.h for the conventions).
 * The op walks the kernel expression once per pair of points; scratch for a pair is
 * O(tree size) and lives in the instruction's work area. fwd/bwd never allocate. */
#include "kernel.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- kernels of the scaled distance: k = alpha² phi(q), q = Σ_d ((x_d - x'_d)/ell_d)² ---- */

static double scaled_sq(const bayes_kpair *p, const double *ell, size_t nell)
{
  double q = 0;
  if (nell == 1) {
    for (size_t j = 0; j < p->d; j++) {
      double t = p->x1[j] - p->x2[j];
      q += t * t;
    }
    return q / (ell[0] * ell[0]);
  }
  for (size_t j = 0; j < p->d; j++) {
    double t = (p->x1[j] - p->x2[j]) / ell[j];
    q += t * t;
  }
  return q;
}

static double stat_value(const bayes_kernel_type *t, const bayes_kpair *p,
                         const double *const *h, const size_t *hn)
{
  double q = scaled_sq(p, h[0], hn[0]), a = h[1][0];
  return a * a * t->profile(q, t->nhyper > 2 ? h[2] : NULL, NULL, NULL);
}

static void stat_grad(const bayes_kernel_type *t, const bayes_kpair *p,
                      const double *const *h, const size_t *hn, double g,
                      double *const *gh, double *gx1, double *gx2)
{
  const double *ell = h[0];
  size_t nell = hn[0];
  double q = scaled_sq(p, ell, nell), a = h[1][0], dq, de = 0;
  double *gextra = t->nhyper > 2 ? gh[2] : NULL;
  double phi = t->profile(q, t->nhyper > 2 ? h[2] : NULL, &dq, gextra ? &de : NULL);
  if (gh[1]) gh[1][0] += g * 2 * a * phi;
  if (gextra) gextra[0] += g * a * a * de;
  double c = g * a * a * dq; /* adjoint of q */
  if (gh[0] && nell == 1) gh[0][0] += c * (-2 * q / ell[0]);
  if (!gx1 && !gx2 && !(gh[0] && nell > 1)) return;
  for (size_t j = 0; j < p->d; j++) {
    double e = ell[nell == 1 ? 0 : j], u = (p->x1[j] - p->x2[j]) / e;
    double dx = c * 2 * u / e;
    if (gx1) gx1[j] += dx;
    if (gx2) gx2[j] -= dx;
    if (gh[0] && nell > 1) gh[0][j] += c * (-2 * u * u / e);
  }
}

static double rbf_profile(double q, const double *extra, double *dq, double *dextra)
{
  double phi = exp(-0.5 * q);
  if (dq) *dq = -0.5 * phi;
  return phi;
}

/* d phi/dq = -exp(-u)/(2u) is unbounded at u = 0, but it always multiplies (x - x') or
 * (x - x')² in the chain rule: the lengthscale derivative tends to 0 there and the input
 * derivative is undefined (a cusp); 0 is returned for both (see kernel.h). */
static double m12_profile(double q, const double *extra, double *dq, double *dextra)
{
  double u = sqrt(q), phi = exp(-u);
  if (dq) *dq = u > 0 ? -phi / (2 * u) : 0.0;
  return phi;
}

/* d/du [(1 + √3u) e^{-√3u}] = -3u e^{-√3u}, so d/dq = -(3/2) e^{-√3u}: smooth at 0. */
static double m32_profile(double q, const double *extra, double *dq, double *dextra)
{
  double s = sqrt(3.0 * q), e = exp(-s);
  if (dq) *dq = -1.5 * e;
  return (1 + s) * e;
}

/* d/du [(1 + √5u + 5u²/3) e^{-√5u}] = -(5/3) u (1 + √5u) e^{-√5u}. */
static double m52_profile(double q, const double *extra, double *dq, double *dextra)
{
  double s = sqrt(5.0 * q), e = exp(-s);
  if (dq) *dq = -(5.0 / 6.0) * (1 + s) * e;
  return (1 + s + 5.0 * q / 3.0) * e;
}

/* phi = (1 + t)^(-a), t = q/(2a); dphi/dq = -phi/(2(1+t)); dphi/da = phi (t/(1+t) - log1p t). */
static double rq_profile(double q, const double *extra, double *dq, double *dextra)
{
  double a = extra[0], t = q / (2 * a), l = log1p(t), phi = exp(-a * l);
  if (dq) *dq = -0.5 * phi / (1 + t);
  if (dextra) *dextra = phi * (t / (1 + t) - l);
  return phi;
}

/* ---- periodic: alpha² exp(-2 sin²(π r/p) / ell²), r Euclidean ---- */

static double per_value(const bayes_kernel_type *t, const bayes_kpair *p,
                        const double *const *h, const size_t *hn)
{
  double r2 = 0;
  for (size_t j = 0; j < p->d; j++) {
    double u = p->x1[j] - p->x2[j];
    r2 += u * u;
  }
  double ell = h[0][0], a = h[1][0], per = h[2][0];
  double s = sin(M_PI * sqrt(r2) / per);
  return a * a * exp(-2 * s * s / (ell * ell));
}

static void per_grad(const bayes_kernel_type *t, const bayes_kpair *p,
                     const double *const *h, const size_t *hn, double g,
                     double *const *gh, double *gx1, double *gx2)
{
  double r2 = 0;
  for (size_t j = 0; j < p->d; j++) {
    double u = p->x1[j] - p->x2[j];
    r2 += u * u;
  }
  double ell = h[0][0], a = h[1][0], per = h[2][0], r = sqrt(r2);
  double s = sin(M_PI * r / per), S = s * s, e = exp(-2 * S / (ell * ell)), k = a * a * e;
  double w = 2 * M_PI / per, s2 = sin(w * r);
  if (gh[0]) gh[0][0] += g * k * 4 * S / (ell * ell * ell);
  if (gh[1]) gh[1][0] += g * 2 * a * e;
  if (gh[2]) gh[2][0] += g * k * 2 * M_PI * r * s2 / (ell * ell * per * per);
  if (!gx1 && !gx2) return;
  /* dk/dr = -k (w/ell²) sin(w r); dr/dx = (x - x')/r; sin(w r)/r -> w as r -> 0, where
   * the kernel is smooth in x (it is an even function of r). */
  double sr = r > 0 ? s2 / r : w;
  double c = -g * k * (w / (ell * ell)) * sr;
  for (size_t j = 0; j < p->d; j++) {
    double dx = c * (p->x1[j] - p->x2[j]);
    if (gx1) gx1[j] += dx;
    if (gx2) gx2[j] -= dx;
  }
}

/* ---- dot-product kernels ---- */

static double dot(const bayes_kpair *p)
{
  double s = 0;
  for (size_t j = 0; j < p->d; j++) s += p->x1[j] * p->x2[j];
  return s;
}

static double lin_value(const bayes_kernel_type *t, const bayes_kpair *p,
                        const double *const *h, const size_t *hn)
{
  return h[0][0] * h[0][0] + dot(p);
}

static void lin_grad(const bayes_kernel_type *t, const bayes_kpair *p,
                     const double *const *h, const size_t *hn, double g,
                     double *const *gh, double *gx1, double *gx2)
{
  if (gh[0]) gh[0][0] += g * 2 * h[0][0];
  for (size_t j = 0; j < p->d; j++) {
    if (gx1) gx1[j] += g * p->x2[j];
    if (gx2) gx2[j] += g * p->x1[j];
  }
}

static double powi(double x, int n)
{
  double r = 1;
  for (; n > 0; n >>= 1, x *= x)
    if (n & 1) r *= x;
  return r;
}

static double poly_value(const bayes_kernel_type *t, const bayes_kpair *p,
                         const double *const *h, const size_t *hn)
{
  int n = (int)h[0][0];
  double a = h[2][0];
  return a * a * powi(dot(p) + h[1][0], n);
}

static void poly_grad(const bayes_kernel_type *t, const bayes_kpair *p,
                      const double *const *h, const size_t *hn, double g,
                      double *const *gh, double *gx1, double *gx2)
{
  int n = (int)h[0][0];
  double a = h[2][0], s = dot(p) + h[1][0];
  double ds = n > 0 ? g * a * a * n * powi(s, n - 1) : 0.0; /* adjoint of s */
  /* degree is a constant: no gradient (gh[0] stays untouched) */
  if (gh[1]) gh[1][0] += ds;
  if (gh[2]) gh[2][0] += g * 2 * a * powi(s, n);
  for (size_t j = 0; j < p->d; j++) {
    if (gx1) gx1[j] += ds * p->x2[j];
    if (gx2) gx2[j] += ds * p->x1[j];
  }
}

/* ---- white and constant ---- */

static double white_value(const bayes_kernel_type *t, const bayes_kpair *p,
                          const double *const *h, const size_t *hn)
{
  return p->same ? h[0][0] * h[0][0] : 0.0;
}

static void white_grad(const bayes_kernel_type *t, const bayes_kpair *p,
                       const double *const *h, const size_t *hn, double g,
                       double *const *gh, double *gx1, double *gx2)
{
  if (p->same && gh[0]) gh[0][0] += g * 2 * h[0][0];
}

static double const_value(const bayes_kernel_type *t, const bayes_kpair *p,
                          const double *const *h, const size_t *hn)
{
  return h[0][0] * h[0][0];
}

static void const_grad(const bayes_kernel_type *t, const bayes_kpair *p,
                       const double *const *h, const size_t *hn, double g,
                       double *const *gh, double *gx1, double *gx2)
{
  if (gh[0]) gh[0][0] += g * 2 * h[0][0];
}

/* ---- registry ---- */

static const char *const names_ell_alpha[] = {"ell", "alpha"};
static const double dflt_ell_alpha[] = {NAN, 1.0};
static const char *const names_rq[] = {"ell", "alpha", "a"};
static const double dflt_rq[] = {NAN, 1.0, 1.0};
static const char *const names_per[] = {"ell", "alpha", "period"};
static const double dflt_per[] = {NAN, 1.0, NAN};
static const char *const names_sigma[] = {"sigma"};
static const double dflt_lin[] = {0.0};
static const double dflt_req1[] = {NAN};
static const char *const names_poly[] = {"degree", "c", "alpha"};
static const double dflt_poly[] = {NAN, 1.0, 1.0};
static const char *const names_alpha[] = {"alpha"};

#define STATIONARY(var, nm, prof)                                                        \
  static const bayes_kernel_type var = {nm, 2, 1, names_ell_alpha, dflt_ell_alpha, 1u, 1u, \
                                        0u, stat_value, stat_grad, prof}
STATIONARY(k_rbf, "rbf", rbf_profile);
STATIONARY(k_m12, "matern12", m12_profile);
STATIONARY(k_m32, "matern32", m32_profile);
STATIONARY(k_m52, "matern52", m52_profile);
static const bayes_kernel_type k_rq = {"rational_quadratic", 3, 1, names_rq, dflt_rq, 1u,
                                       1u | 4u, 0u, stat_value, stat_grad, rq_profile};
static const bayes_kernel_type k_per = {"periodic", 3, 1, names_per, dflt_per, 0u, 1u | 4u,
                                        0u, per_value, per_grad, NULL};
static const bayes_kernel_type k_lin = {"linear", 1, 0, names_sigma, dflt_lin, 0u, 0u, 0u,
                                        lin_value, lin_grad, NULL};
static const bayes_kernel_type k_poly = {"polynomial", 3, 1, names_poly, dflt_poly, 0u, 0u,
                                         1u, poly_value, poly_grad, NULL};
static const bayes_kernel_type k_white = {"white", 1, 1, names_sigma, dflt_req1, 0u, 0u, 0u,
                                          white_value, white_grad, NULL};
static const bayes_kernel_type k_const = {"constant", 1, 1, names_alpha, dflt_req1, 0u, 0u,
                                          0u, const_value, const_grad, NULL};

const bayes_kernel_type *const bayes_kernels[] = {
    &k_rbf, &k_m12, &k_m32, &k_m52, &k_rq, &k_per, &k_lin, &k_poly, &k_white, &k_const,
    NULL};

const bayes_kernel_type *bayes_kernel_find(const char *name)
{
  for (int i = 0; bayes_kernels[i]; i++)
    if (strcmp(bayes_kernels[i]->name, name) == 0) return bayes_kernels[i];
  return NULL;
}

/* ---- trees ---- */

int bayes_kexpr_size(const bayes_kexpr *k)
{
  switch (k->kind) {
  case BAYES_K_LEAF: return 1;
  case BAYES_K_SCALE: return 1 + bayes_kexpr_size(k->a);
  default: return 1 + bayes_kexpr_size(k->a) + bayes_kexpr_size(k->b);
  }
}

size_t bayes_gp_cov_work(const bayes_kexpr *k, size_t n1, size_t n2, size_t d,
                         int nhyper_inputs)
{
  /* node values at the current pair + subtree sizes, both in preorder */
  return 2 * (size_t)bayes_kexpr_size(k);
}

static const char *shape_s(const bayes_shape *s, char *buf, size_t len)
{
  return bayes_shape_str(s, buf, len);
}

static int check_node(const bayes_kexpr *k, const bayes_shape *const *sh, int nin, size_t d,
                      char *err, size_t errlen, int depth)
{
  char b[64];
  if (depth > BAYES_KEXPR_MAX_NODES) {
    snprintf(err, errlen, "kernel expression has more than %d terms", BAYES_KEXPR_MAX_NODES);
    return -1;
  }
  switch (k->kind) {
  case BAYES_K_LEAF: {
    const bayes_kernel_type *t = k->type;
    if (!t || t->nhyper > BAYES_KERNEL_MAX_HYPER) {
      snprintf(err, errlen, "kernel expression: leaf without a kernel type");
      return -1;
    }
    for (int i = 0; i < t->nhyper; i++) {
      int s = k->hyper_in[i];
      if (s < 0) {
        if (isnan(t->defaults[i])) {
          snprintf(err, errlen, "%s: missing argument %s", t->name, t->hyper_names[i]);
          return -1;
        }
        continue;
      }
      if (s < 2 || s >= nin) {
        snprintf(err, errlen, "%s: %s: input index %d out of range", t->name,
                 t->hyper_names[i], s);
        return -1;
      }
      const bayes_shape *h = sh[s];
      if (bayes_shape_size(h) == 1 && h->rank == 0) continue;
      if ((t->ard_mask >> i) & 1u) {
        if (h->rank == 1 && h->dim[0] == d) continue;
        snprintf(err, errlen,
                 "%s: %s must be a scalar or a vector of length %zu (one per input "
                 "dimension), got %s",
                 t->name, t->hyper_names[i], d, shape_s(h, b, sizeof b));
      } else {
        snprintf(err, errlen, "%s: %s must be a scalar, got %s", t->name,
                 t->hyper_names[i], shape_s(h, b, sizeof b));
      }
      return -1;
    }
    return 0;
  }
  case BAYES_K_SCALE:
    if (k->scale_in < 2 || k->scale_in >= nin) {
      snprintf(err, errlen, "kernel expression: scale input index %d out of range",
               k->scale_in);
      return -1;
    }
    if (sh[k->scale_in]->rank != 0) {
      snprintf(err, errlen, "a kernel can only be scaled by a scalar, got %s",
               shape_s(sh[k->scale_in], b, sizeof b));
      return -1;
    }
    if (!k->a) break;
    return check_node(k->a, sh, nin, d, err, errlen, depth + 1);
  case BAYES_K_SUM:
  case BAYES_K_PROD:
    if (!k->a || !k->b) break;
    if (check_node(k->a, sh, nin, d, err, errlen, depth + 1)) return -1;
    return check_node(k->b, sh, nin, d, err, errlen, depth + 1);
  }
  snprintf(err, errlen, "kernel expression: node without operands");
  return -1;
}

int bayes_kexpr_check(const bayes_kexpr *k, const bayes_shape *const *in_shapes, int nin,
                      size_t d, char *err, size_t errlen)
{
  char b[64];
  if (nin < 2) {
    snprintf(err, errlen, "gp_cov: needs the two point sets as inputs");
    return -1;
  }
  for (int i = 0; i < 2; i++) {
    const bayes_shape *s = in_shapes[i];
    if ((s->rank == 1 && d == 1) || (s->rank == 2 && s->dim[1] == d)) continue;
    if (s->rank == 1 || s->rank == 2)
      snprintf(err, errlen, "gp_cov: points of dimension %zu expected, got %s", d,
               shape_s(s, b, sizeof b));
    else
      snprintf(err, errlen,
               "gp_cov: points must be a vector (one dimension) or a matrix with one row "
               "per point, got %s",
               shape_s(s, b, sizeof b));
    return -1;
  }
  if (check_node(k, in_shapes, nin, d, err, errlen, 0)) return -1;
  if (bayes_kexpr_size(k) > BAYES_KEXPR_MAX_NODES) {
    snprintf(err, errlen, "kernel expression has more than %d terms", BAYES_KEXPR_MAX_NODES);
    return -1;
  }
  return 0;
}

int bayes_kexpr_check_const(const bayes_kexpr *k, const double *const *in_cvals, int nin,
                            char *err, size_t errlen)
{
  switch (k->kind) {
  case BAYES_K_LEAF: {
    const bayes_kernel_type *t = k->type;
    for (int i = 0; i < t->nhyper; i++) {
      if (!((t->const_mask >> i) & 1u)) continue;
      int s = k->hyper_in[i];
      const double *v = s < 0 ? &t->defaults[i] : (s < nin ? in_cvals[s] : NULL);
      if (!v) {
        snprintf(err, errlen, "%s: %s must be a constant", t->name, t->hyper_names[i]);
        return -1;
      }
      if (!(v[0] >= 0 && v[0] <= BAYES_KERNEL_MAX_DEGREE && v[0] == floor(v[0]))) {
        snprintf(err, errlen, "%s: %s must be an integer from 0 to %d, got %g", t->name,
                 t->hyper_names[i], BAYES_KERNEL_MAX_DEGREE, v[0]);
        return -1;
      }
    }
    return 0;
  }
  case BAYES_K_SCALE: return bayes_kexpr_check_const(k->a, in_cvals, nin, err, errlen);
  default:
    if (bayes_kexpr_check_const(k->a, in_cvals, nin, err, errlen)) return -1;
    return bayes_kexpr_check_const(k->b, in_cvals, nin, err, errlen);
  }
}

/* ---- the op ---- */

typedef struct {
  const bayes_bound *b;
  double *vals;      /* node values at the current pair, preorder; NULL: not kept */
  const double *sz;  /* subtree sizes, preorder */
} walk;

static void leaf_hyper(const bayes_bound *b, const bayes_kexpr *k, const double **h,
                       size_t *hn, double **gh)
{
  const bayes_kernel_type *t = k->type;
  for (int i = 0; i < t->nhyper; i++) {
    int s = k->hyper_in[i];
    if (s >= 0) {
      h[i] = b->x[s];
      hn[i] = b->xn[s];
      if (gh) gh[i] = b->gx[s];
    } else {
      h[i] = &t->defaults[i];
      hn[i] = 1;
      if (gh) gh[i] = NULL;
    }
  }
}

static double tree_value(const walk *w, const bayes_kexpr *k, const bayes_kpair *p,
                         int *pos)
{
  int me = (*pos)++;
  double v;
  switch (k->kind) {
  case BAYES_K_LEAF: {
    const double *h[BAYES_KERNEL_MAX_HYPER];
    size_t hn[BAYES_KERNEL_MAX_HYPER];
    leaf_hyper(w->b, k, h, hn, NULL);
    v = k->type->value(k->type, p, h, hn);
    break;
  }
  case BAYES_K_SUM: {
    double va = tree_value(w, k->a, p, pos);
    v = va + tree_value(w, k->b, p, pos);
    break;
  }
  case BAYES_K_PROD: {
    double va = tree_value(w, k->a, p, pos);
    v = va * tree_value(w, k->b, p, pos);
    break;
  }
  default: v = w->b->x[k->scale_in][0] * tree_value(w, k->a, p, pos); break;
  }
  if (w->vals) w->vals[me] = v;
  return v;
}

/* Pushes the adjoint g of node k down the tree; needs w->vals from tree_value at the same
 * pair when the tree has products or scalings. */
static void tree_grad(const walk *w, const bayes_kexpr *k, const bayes_kpair *p, int *pos,
                      double g, double *gx1, double *gx2)
{
  int me = (*pos)++;
  switch (k->kind) {
  case BAYES_K_LEAF: {
    const double *h[BAYES_KERNEL_MAX_HYPER];
    size_t hn[BAYES_KERNEL_MAX_HYPER];
    double *gh[BAYES_KERNEL_MAX_HYPER];
    leaf_hyper(w->b, k, h, hn, gh);
    k->type->grad(k->type, p, h, hn, g, gh, gx1, gx2);
    break;
  }
  case BAYES_K_SUM:
    tree_grad(w, k->a, p, pos, g, gx1, gx2);
    tree_grad(w, k->b, p, pos, g, gx1, gx2);
    break;
  case BAYES_K_PROD: {
    int ia = me + 1, ib = ia + (int)w->sz[ia];
    double va = w->vals[ia], vb = w->vals[ib];
    tree_grad(w, k->a, p, pos, g * vb, gx1, gx2);
    tree_grad(w, k->b, p, pos, g * va, gx1, gx2);
    break;
  }
  default: {
    double s = w->b->x[k->scale_in][0], *gs = w->b->gx[k->scale_in];
    if (gs) gs[0] += g * w->vals[me + 1];
    tree_grad(w, k->a, p, pos, g * s, gx1, gx2);
    break;
  }
  }
}

/* Subtree sizes in preorder; returns the size of k. */
static int fill_sizes(const bayes_kexpr *k, double *sz, int *pos)
{
  int me = (*pos)++, n = 1;
  if (k->kind != BAYES_K_LEAF) n += fill_sizes(k->a, sz, pos);
  if (k->kind == BAYES_K_SUM || k->kind == BAYES_K_PROD) n += fill_sizes(k->b, sz, pos);
  sz[me] = n;
  return n;
}

static bool has_prod(const bayes_kexpr *k)
{
  switch (k->kind) {
  case BAYES_K_LEAF: return false;
  case BAYES_K_SUM: return has_prod(k->a) || has_prod(k->b);
  default: return true;
  }
}

/* Run-time domain checks (Stan checks the same): returns 0 or fails the op. */
static int check_domain(const bayes_bound *b, const bayes_kexpr *k)
{
  switch (k->kind) {
  case BAYES_K_LEAF: {
    const bayes_kernel_type *t = k->type;
    for (int i = 0; i < t->nhyper; i++) {
      int s = k->hyper_in[i];
      if (s < 0) continue;
      const double *v = b->x[s];
      bool pos = (t->pos_mask >> i) & 1u;
      for (size_t j = 0; j < b->xn[s]; j++) {
        if (!isfinite(v[j]) || (pos && !(v[j] > 0))) {
          bayes_exec_fail(b, "gp_cov: %s: %s must be %s, got %g", t->name,
                          t->hyper_names[i], pos ? "positive" : "finite", v[j]);
          return -1;
        }
        if (((t->const_mask >> i) & 1u) &&
            !(v[j] >= 0 && v[j] <= BAYES_KERNEL_MAX_DEGREE && v[j] == floor(v[j]))) {
          bayes_exec_fail(b, "gp_cov: %s: %s must be an integer from 0 to %d, got %g",
                          t->name, t->hyper_names[i], BAYES_KERNEL_MAX_DEGREE, v[j]);
          return -1;
        }
      }
    }
    return 0;
  }
  case BAYES_K_SCALE:
    if (!isfinite(b->x[k->scale_in][0])) {
      bayes_exec_fail(b, "gp_cov: kernel scale must be finite, got %g", b->x[k->scale_in][0]);
      return -1;
    }
    return check_domain(b, k->a);
  default:
    if (check_domain(b, k->a)) return -1;
    return check_domain(b, k->b);
  }
}

static size_t point_dim(const bayes_shape *s) { return s->rank == 2 ? s->dim[1] : 1; }

static inline size_t zmin(size_t a, size_t b) { return a < b ? a : b; }

/* Visits pairs (i, j), i < n1, j < n2 (only j >= i when tri), in TILE x TILE blocks so that
 * the mirrored accesses K[j][i] / G[j][i] of the one-triangle paths stay in cache (row by
 * row they stride a whole row per element: 2-3x slower at N = 2000). */
#define TILE 64
#define FOR_PAIRS(n1, n2, tri, i, j)                                              \
  for (size_t i##_0 = 0; i##_0 < (n1); i##_0 += TILE)                             \
    for (size_t j##_0 = (tri) ? i##_0 : 0; j##_0 < (n2); j##_0 += TILE)           \
      for (size_t i = i##_0; i < zmin(i##_0 + TILE, (n1)); i++)                   \
        for (size_t j = (tri) && j##_0 < i ? i : j##_0; j < zmin(j##_0 + TILE, (n2)); j++)

/* The specialised path: rbf(ell, alpha) with a scalar ell, alone or plus white(sigma). */
typedef struct {
  double ell, alpha, sigma; /* sigma = 0 without white */
  int ell_in, alpha_in, sigma_in;
} rbf_fast;

static bool is_rbf_scalar(const bayes_bound *b, const bayes_kexpr *k)
{
  return k->kind == BAYES_K_LEAF && k->type == &k_rbf && k->hyper_in[0] >= 0 &&
         b->xn[k->hyper_in[0]] == 1;
}

static bool match_rbf_fast(const bayes_bound *b, const bayes_kexpr *k, rbf_fast *f)
{
  const bayes_kexpr *r = NULL, *wh = NULL;
  if (is_rbf_scalar(b, k)) {
    r = k;
  } else if (k->kind == BAYES_K_SUM) {
    if (is_rbf_scalar(b, k->a) && k->b->kind == BAYES_K_LEAF && k->b->type == &k_white) {
      r = k->a;
      wh = k->b;
    } else if (is_rbf_scalar(b, k->b) && k->a->kind == BAYES_K_LEAF &&
               k->a->type == &k_white) {
      r = k->b;
      wh = k->a;
    }
  }
  if (!r) return false;
  f->ell_in = r->hyper_in[0];
  f->alpha_in = r->hyper_in[1];
  f->sigma_in = wh ? wh->hyper_in[0] : -1;
  f->ell = b->x[f->ell_in][0];
  f->alpha = f->alpha_in >= 0 ? b->x[f->alpha_in][0] : 1.0;
  f->sigma = wh ? b->x[f->sigma_in][0] : 0.0;
  return true;
}

static inline double sqdist(const double *a, const double *c, size_t d)
{
  if (d == 1) {
    double t = a[0] - c[0];
    return t * t;
  }
  double q = 0;
  for (size_t j = 0; j < d; j++) {
    double t = a[j] - c[j];
    q += t * t;
  }
  return q;
}

static void rbf_fast_fwd(const bayes_bound *b, const rbf_fast *f, size_t n1, size_t n2,
                         size_t d, bool same)
{
  const double *x1 = b->x[0], *x2 = b->x[1];
  double *K = b->y[0], a2 = f->alpha * f->alpha, c = -0.5 / (f->ell * f->ell);
  double w2 = same ? f->sigma * f->sigma : 0.0;
  if (same) {
    FOR_PAIRS(n1, n2, true, i, j)
    {
      if (i == j)
        K[i * n2 + i] = a2 + w2;
      else
        K[i * n2 + j] = K[j * n2 + i] = a2 * exp(c * sqdist(x1 + i * d, x2 + j * d, d));
    }
    return;
  }
  for (size_t i = 0; i < n1; i++)
    for (size_t j = 0; j < n2; j++) K[i * n2 + j] = a2 * exp(c * sqdist(x1 + i * d, x2 + j * d, d));
}

/* Uses the output for the kernel values: dk/dell = k q/ell³, dk/dalpha = 2k/alpha,
 * dk/dx1 = -k (x1 - x2)/ell². */
static void rbf_fast_bwd(const bayes_bound *b, const rbf_fast *f, size_t n1, size_t n2,
                         size_t d, bool same, bool sym)
{
  const double *x1 = b->x[0], *x2 = b->x[1], *K = b->y[0], *G = b->gy[0];
  double *g1 = b->gx[0], *g2 = b->gx[1];
  double *gell = b->gx[f->ell_in];
  double *galpha = f->alpha_in >= 0 ? b->gx[f->alpha_in] : NULL;
  double *gsigma = f->sigma_in >= 0 ? b->gx[f->sigma_in] : NULL;
  double a2 = f->alpha * f->alpha, il2 = 1.0 / (f->ell * f->ell);
  bool needq = gell || g1 || g2;
  double acc_k = 0, acc_q = 0, acc_diag = 0;
  FOR_PAIRS(n1, n2, sym, i, j)
  {
    double g = G[i * n2 + j];
    if (sym && j != i) g += G[j * n2 + i];
    bool diag = same && i == j;
    if (diag) acc_diag += g;
    if (g == 0) continue;
    double k = diag ? a2 : K[i * n2 + j], gk = g * k;
    acc_k += gk;
    if (!needq || diag) continue; /* x == x': q = 0 and the x gradient is 0 */
    const double *p1 = x1 + i * d, *p2 = x2 + j * d;
    if (gell) acc_q += gk * sqdist(p1, p2, d);
    if (g1 || g2) {
      double c = gk * il2;
      for (size_t t = 0; t < d; t++) {
        double dx = c * (p1[t] - p2[t]);
        if (g1) g1[i * d + t] -= dx;
        if (g2) g2[j * d + t] += dx;
      }
    }
  }
  if (gell) gell[0] += acc_q * il2 / f->ell;
  /* at alpha = 0 every k is 0 and so is dk/dalpha = 2 alpha exp(.) */
  if (galpha && f->alpha != 0) galpha[0] += 2 * acc_k / f->alpha;
  if (gsigma) gsigma[0] += 2 * f->sigma * acc_diag;
}

static int prepare(const bayes_bound *b, size_t *n1, size_t *n2, size_t *d, bool *same)
{
  *n1 = b->xs[0]->dim[0];
  *n2 = b->xs[1]->dim[0];
  *d = point_dim(b->xs[0]);
  *same = b->ins->iarg[0] == 1;
  if (point_dim(b->xs[1]) != *d || (*same && *n1 != *n2)) {
    bayes_exec_fail(b, "gp_cov: internal error: inconsistent point sets (please report)");
    return -1;
  }
  return 0;
}

static void gp_cov_fwd(const bayes_bound *b)
{
  const bayes_kexpr *root = b->ins->aux;
  size_t n1, n2, d;
  bool same;
  if (prepare(b, &n1, &n2, &d, &same) || check_domain(b, root)) return;
  rbf_fast f;
  if (match_rbf_fast(b, root, &f)) {
    rbf_fast_fwd(b, &f, n1, n2, d, same);
    return;
  }
  const double *x1 = b->x[0], *x2 = b->x[1];
  double *K = b->y[0];
  walk w = {b, NULL, NULL};
  bayes_kpair p = {NULL, NULL, d, 0};
  FOR_PAIRS(n1, n2, same, i, j)
  {
    int pos = 0;
    p.x1 = x1 + i * d;
    p.x2 = x2 + j * d;
    p.same = same && i == j;
    double v = tree_value(&w, root, &p, &pos);
    K[i * n2 + j] = v;
    if (same) K[j * n2 + i] = v;
  }
}

static void gp_cov_bwd(const bayes_bound *b)
{
  const bayes_kexpr *root = b->ins->aux;
  size_t n1, n2, d;
  bool same;
  if (!b->gy[0] || prepare(b, &n1, &n2, &d, &same)) return;
  /* One triangle suffices when both point sets' adjoints (if any) go to the same place:
   * then pair (j, i) contributes what pair (i, j) does, with the points swapped. */
  bool sym = same && b->gx[0] == b->gx[1];
  rbf_fast f;
  if (match_rbf_fast(b, root, &f)) {
    rbf_fast_bwd(b, &f, n1, n2, d, same, sym);
    return;
  }
  int nn = bayes_kexpr_size(root);
  if (b->ins->work < 2 * (size_t)nn) {
    bayes_exec_fail(b, "gp_cov: internal error: work area too small (please report)");
    return;
  }
  int pos = 0;
  fill_sizes(root, b->work + nn, &pos);
  walk w = {b, has_prod(root) ? b->work : NULL, b->work + nn};
  const double *x1 = b->x[0], *x2 = b->x[1], *G = b->gy[0];
  double *g1 = b->gx[0], *g2 = b->gx[1];
  bayes_kpair p = {NULL, NULL, d, 0};
  FOR_PAIRS(n1, n2, sym, i, j)
  {
    double g = G[i * n2 + j];
    if (sym && j != i) g += G[j * n2 + i];
    if (g == 0) continue;
    p.x1 = x1 + i * d;
    p.x2 = x2 + j * d;
    p.same = same && i == j;
    if (w.vals) {
      pos = 0;
      tree_value(&w, root, &p, &pos);
    }
    pos = 0;
    tree_grad(&w, root, &p, &pos, g, g1 ? g1 + i * d : NULL, g2 ? g2 + j * d : NULL);
  }
}

static void dump_node(const bayes_kexpr *k, const bayes_instr *ins, bayes_sb *sb, int prec)
{
  switch (k->kind) {
  case BAYES_K_LEAF:
    bayes_sb_printf(sb, "%s(", k->type->name);
    for (int i = 0; i < k->type->nhyper; i++) {
      if (i) bayes_sb_puts(sb, ", ");
      if (k->hyper_in[i] >= 0) {
        bayes_sb_printf(sb, "%%%d", ins->in[k->hyper_in[i]]);
      } else {
        bayes_sb_printf(sb, "%s=", k->type->hyper_names[i]);
        bayes_sb_double(sb, k->type->defaults[i]);
      }
    }
    bayes_sb_putc(sb, ')');
    break;
  case BAYES_K_SUM:
    if (prec > 0) bayes_sb_putc(sb, '(');
    dump_node(k->a, ins, sb, 0);
    bayes_sb_puts(sb, " + ");
    dump_node(k->b, ins, sb, 0);
    if (prec > 0) bayes_sb_putc(sb, ')');
    break;
  case BAYES_K_PROD:
    dump_node(k->a, ins, sb, 1);
    bayes_sb_puts(sb, " * ");
    dump_node(k->b, ins, sb, 1);
    break;
  case BAYES_K_SCALE:
    bayes_sb_printf(sb, "%%%d * ", ins->in[k->scale_in]);
    dump_node(k->a, ins, sb, 1);
    break;
  }
}

static void gp_cov_dump(const bayes_instr *ins, bayes_sb *sb)
{
  bayes_sb_puts(sb, " kernel=");
  if (ins->aux) dump_node(ins->aux, ins, sb, 0);
  if (ins->iarg[0] == 1) bayes_sb_puts(sb, " same");
}

const bayes_op bayes_op_gp_cov = {"gp_cov", gp_cov_fwd, gp_cov_bwd, gp_cov_dump};
