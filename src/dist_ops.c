/* dist_ops.c — tape ops that evaluate registered distributions: fused log density with
 * partials (value and derivatives in one forward pass, applied in bwd), pointwise log
 * densities (mixtures), and random draws. Kernels come from the registry; nothing here
 * knows a particular distribution. */
#include <math.h>
#include <string.h>

#include "dist.h"
#include "ops.h"

static const bayes_dist *dist_of(const bayes_bound *b) { return b->ins->aux; }

static double (*kernel_of(const bayes_bound *b))(const bayes_dargs *)
{
  const bayes_dist *d = dist_of(b);
  switch ((bayes_dist_fn)b->ins->iarg[0]) {
  case BAYES_DF_LCDF: return d->lcdf;
  case BAYES_DF_LCCDF: return d->lccdf;
  default: return d->lpdf;
  }
}

static size_t common_n(const bayes_bound *b)
{
  size_t n = 1;
  for (int k = 0; k < b->nin; k++)
    if (b->xn[k] != 1) n = b->xn[k];
  return n;
}

/* "y = 3, mu = 0, sigma = -1" for element i, into buf: the values the message is about. */
static void element_values(const bayes_bound *b, size_t i, size_t n, char *buf, size_t len)
{
  const bayes_dist *d = dist_of(b);
  size_t k0 = 0;
  buf[0] = '\0';
  if (n > 1) k0 += (size_t)snprintf(buf, len, "at element %zu: ", i + 1);
  for (int k = 0; k < b->nin && k0 < len; k++) {
    const char *name = k == 0 ? "y" : d->param_names ? d->param_names[k - 1] : "?";
    k0 += (size_t)snprintf(buf + k0, len - k0, "%s%s = %.6g", k ? ", " : "", name,
                           b->x[k][i * bayes_inc(b->xn[k])]);
  }
}

/* Why the log density is not finite, for the message the run reports when every initial
 * point fails (or a proposal is rejected): the first element whose parameters are invalid
 * (NaN) or whose variate is outside the support (-inf), with its values. Only on this
 * path, never per evaluation. */
static void explain(const bayes_bound *b, size_t n, double v)
{
  const bayes_dist *d = dist_of(b);
  double th[BAYES_DIST_MAXARG];
  char vals[200];
  for (size_t i = 0; i < n; i++) {
    for (int k = 1; k < b->nin; k++) th[k - 1] = b->x[k][i * bayes_inc(b->xn[k])];
    const char *msg = d->check ? d->check(th) : NULL;
    if (msg) {
      element_values(b, i, n, vals, sizeof vals);
      bayes_exec_fail(b, "%s: %s (%s)", d->name, msg, vals);
      return;
    }
  }
  if (isnan(v)) {
    bayes_exec_fail(b, "%s: log density is NaN", d->name);
    return;
  }
  /* -inf: find the element whose variate is outside the support */
  for (size_t i = 0; i < n; i++) {
    bayes_dargs a;
    memset(&a, 0, sizeof a);
    a.n = 1;
    a.scale = 1.0;
    for (int k = 0; k < b->nin; k++) {
      a.a[k].x = b->x[k] + i * bayes_inc(b->xn[k]);
      a.a[k].inc = 0;
    }
    if (kernel_of(b)(&a) == -INFINITY) {
      element_values(b, i, n, vals, sizeof vals);
      bayes_exec_fail(b, "%s: the value is outside the distribution's support, so the log "
                      "density is -inf (%s)", d->name, vals);
      return;
    }
  }
}

static void setup(const bayes_bound *b, bayes_dargs *a, size_t n)
{
  memset(a, 0, sizeof *a);
  a->n = n;
  a->scale = 1.0;
  for (int k = 0; k < b->nin; k++) {
    a->a[k].x = b->x[k];
    a->a[k].inc = bayes_inc(b->xn[k]);
  }
}

static void sum_fwd(const bayes_bound *b)
{
  size_t n = common_n(b);
  bayes_dargs a;
  setup(b, &a, n);
  if (b->ex->grad) {
    double *w = b->work;
    for (int k = 0; k < b->nin; k++) {
      if (b->gx[k]) {
        memset(w, 0, b->xn[k] * sizeof *w);
        a.a[k].g = w;
      }
      w += b->xn[k];
    }
  }
  double v = n ? kernel_of(b)(&a) : 0.0;
  if (!(v > -INFINITY)) explain(b, n, v);
  b->y[0][0] = v;
}

static void sum_bwd(const bayes_bound *b)
{
  double g = b->gy[0][0];
  const double *w = b->work;
  for (int k = 0; k < b->nin; k++) {
    if (b->gx[k])
      for (size_t i = 0; i < b->xn[k]; i++) b->gx[k][i] += g * w[i];
    w += b->xn[k];
  }
}

const bayes_op bayes_op_dist_sum = {"dist", sum_fwd, sum_bwd, NULL};

static void pw_fwd(const bayes_bound *b)
{
  size_t n = b->yn[0];
  bayes_dargs a;
  setup(b, &a, n);
  a.pw = b->y[0];
  double v = n ? kernel_of(b)(&a) : 0.0;
  if (!(v > -INFINITY)) explain(b, n, v);
}

static void pw_bwd(const bayes_bound *b)
{
  size_t n = b->yn[0];
  bayes_dargs a;
  setup(b, &a, n);
  a.w = b->gy[0];
  for (int k = 0; k < b->nin; k++) a.a[k].g = b->gx[k];
  kernel_of(b)(&a);
}

const bayes_op bayes_op_dist_pw = {"dist_pointwise", pw_fwd, pw_bwd, NULL};

static void rng_fwd(const bayes_bound *b)
{
  const bayes_dist *d = dist_of(b);
  double th[BAYES_DIST_MAXARG];
  size_t n = b->yn[0];
  for (size_t i = 0; i < n; i++) {
    for (int k = 0; k < b->nin; k++) th[k] = b->x[k][i * bayes_inc(b->xn[k])];
    if (d->check) {
      const char *msg = d->check(th);
      if (msg) {
        bayes_exec_fail(b, "%s_rng: %s", d->name, msg);
        return;
      }
    }
    b->y[0][i] = d->rng(b->ex->rng, th);
  }
}

const bayes_op bayes_op_dist_rng = {"dist_rng", rng_fwd, NULL, NULL};

/* ---- multivariate ---- */

static size_t mv_partials(const bayes_bound *b)
{
  size_t s = 0;
  for (int k = 0; k < b->nin; k++) s += b->xn[k];
  return s;
}

static void mv_setup(const bayes_bound *b, bayes_mvargs *m, char *err)
{
  memset(m, 0, sizeof *m);
  m->nargs = b->nin;
  m->scale = 1.0;
  m->err = err;
  for (int k = 0; k < b->nin; k++) {
    m->a[k].x = b->x[k];
    m->a[k].s = b->xs[k];
  }
}

static void mv_fwd(const bayes_bound *b)
{
  const bayes_dist *d = dist_of(b);
  bayes_mvargs m;
  char err[128] = "";
  mv_setup(b, &m, err);
  double *w = b->work;
  if (b->ex->grad) {
    for (int k = 0; k < b->nin; k++) {
      if (b->gx[k]) {
        memset(w, 0, b->xn[k] * sizeof *w);
        m.a[k].g = w;
      }
      w += b->xn[k];
    }
  }
  m.work = b->work + mv_partials(b);
  double v = d->mv_lpdf(&m);
  if (isnan(v)) bayes_exec_fail(b, "%s: %s", d->name, err[0] ? err : "log density is NaN");
  b->y[0][0] = v;
}

const bayes_op bayes_op_dist_mv_sum = {"dist_mv", mv_fwd, sum_bwd, NULL};

static void mv_rng_fwd(const bayes_bound *b)
{
  const bayes_dist *d = dist_of(b);
  bayes_mvargs m;
  char err[128] = "";
  memset(&m, 0, sizeof m);
  /* parameters shift by one: a[0] is the (absent) variate, its shape is the draw shape */
  m.nargs = b->nin + 1;
  m.scale = 1.0;
  m.err = err;
  /* iarg[1] != 0: the output holds several draws stacked along its first dimension */
  bayes_shape one_shape = *b->ys[0];
  if (b->ins->iarg[1]) {
    one_shape.rank--;
    memmove(one_shape.dim, one_shape.dim + 1, sizeof(size_t) * (size_t)one_shape.rank);
  }
  const bayes_shape *vs = &one_shape;
  m.a[0].s = vs;
  for (int k = 0; k < b->nin; k++) {
    m.a[k + 1].x = b->x[k];
    m.a[k + 1].s = b->xs[k];
  }
  m.work = b->work;
  size_t one = bayes_shape_size(vs), reps = b->yn[0] / (one ? one : 1);
  for (size_t r = 0; r < reps; r++) {
    if (d->mv_rng(b->ex->rng, &m, b->y[0] + r * one) != 0) {
      bayes_exec_fail(b, "%s_rng: %s", d->name, err[0] ? err : "invalid parameters");
      return;
    }
  }
}

const bayes_op bayes_op_dist_mv_rng = {"dist_mv_rng", mv_rng_fwd, NULL, NULL};

size_t bayes_dist_work(const bayes_dist *d, const bayes_op *op, int nin,
                       const bayes_shape *const *shapes)
{
  size_t s = 0;
  if (op == &bayes_op_dist_sum || op == &bayes_op_dist_mv_sum)
    for (int k = 0; k < nin; k++) s += bayes_shape_size(shapes[k]);
  if ((op == &bayes_op_dist_mv_sum || op == &bayes_op_dist_mv_rng) && d->mv_work)
    s += d->mv_work(nin, shapes);
  return s;
}
