/* ops_shape.c — structural ops (broadcast, gather, stack, target sum, linspace) and the
 * shape functions of the language (rep seq rows cols size to_vector to_matrix, spec §4).
 * Ops here only move or sum values; they never allocate and never look at the AST. */
#include <math.h>
#include <string.h>

#include "func.h"
#include "ops.h"

/* ---- broadcast ---- */

/* Per-output-dimension input strides: 0 where the input dimension is missing (aligned
 * from the right, as NumPy) or 1, so one running offset walks the input. */
static int bcast_strides(const bayes_shape *in, const bayes_shape *out, size_t *st)
{
  int r = out->rank, q = in->rank;
  size_t s = 1;
  for (int d = r - 1; d >= 0; d--) {
    int id = d - (r - q);
    if (id >= 0 && in->dim[id] != 1) {
      st[d] = s;
      s *= in->dim[id];
    } else {
      st[d] = 0;
    }
  }
  return r;
}

/* Advance the multi-index idx of `out` by one element, keeping *off the input offset. */
static inline void bcast_next(const bayes_shape *out, const size_t *st, size_t *idx, size_t *off)
{
  for (int d = out->rank - 1; d >= 0; d--) {
    idx[d]++;
    *off += st[d];
    if (idx[d] < out->dim[d]) return;
    *off -= st[d] * out->dim[d];
    idx[d] = 0;
  }
}

static void broadcast_fwd(const bayes_bound *b)
{
  size_t st[BAYES_MAX_RANK], idx[BAYES_MAX_RANK] = {0}, off = 0;
  const bayes_shape *os = b->ys[0];
  bcast_strides(b->xs[0], os, st);
  const double *x = b->x[0];
  double *y = b->y[0];
  for (size_t j = 0, n = b->yn[0]; j < n; j++) {
    y[j] = x[off];
    bcast_next(os, st, idx, &off);
  }
}

static void broadcast_bwd(const bayes_bound *b)
{
  if (!b->gx[0]) return;
  size_t st[BAYES_MAX_RANK], idx[BAYES_MAX_RANK] = {0}, off = 0;
  const bayes_shape *os = b->ys[0];
  bcast_strides(b->xs[0], os, st);
  double *gx = b->gx[0];
  const double *gy = b->gy[0];
  for (size_t j = 0, n = b->yn[0]; j < n; j++) {
    gx[off] += gy[j];
    bcast_next(os, st, idx, &off);
  }
}

const bayes_op bayes_op_broadcast = {"broadcast", broadcast_fwd, broadcast_bwd, NULL};

/* ---- gather ---- */

static void gather_fwd(const bayes_bound *b)
{
  const size_t *map = b->ins->aux;
  const double *x = b->x[0];
  double *y = b->y[0];
  for (size_t j = 0, n = b->yn[0]; j < n; j++) y[j] = x[map[j]];
}

static void gather_bwd(const bayes_bound *b)
{
  if (!b->gx[0]) return;
  const size_t *map = b->ins->aux;
  double *gx = b->gx[0];
  const double *gy = b->gy[0];
  for (size_t j = 0, n = b->yn[0]; j < n; j++) gx[map[j]] += gy[j];
}

const bayes_op bayes_op_gather = {"gather", gather_fwd, gather_bwd, NULL};

/* ---- stack ---- */

static void stack_fwd(const bayes_bound *b)
{
  double *y = b->y[0];
  for (int k = 0; k < b->nin; k++) {
    memcpy(y, b->x[k], b->xn[k] * sizeof *y);
    y += b->xn[k];
  }
}

static void stack_bwd(const bayes_bound *b)
{
  const double *gy = b->gy[0];
  for (int k = 0; k < b->nin; k++) {
    double *gx = b->gx[k];
    if (gx)
      for (size_t i = 0; i < b->xn[k]; i++) gx[i] += gy[i];
    gy += b->xn[k];
  }
}

const bayes_op bayes_op_stack = {"stack", stack_fwd, stack_bwd, NULL};

/* ---- target ---- */

/* Jacobian terms are skipped (not zeroed) when ex->jacobian is off, so an optimiser's
 * objective and its gradient agree. Inputs are meant to be scalars; a larger input is
 * summed whole, which keeps the op safe if the compiler ever passes one. */
static bool target_skip(const bayes_bound *b, int k)
{
  const unsigned char *is_jac = b->ins->aux;
  return is_jac && is_jac[k] && !b->ex->jacobian;
}

static void target_fwd(const bayes_bound *b)
{
  double s = 0;
  for (int k = 0; k < b->nin; k++) {
    if (target_skip(b, k)) continue;
    for (size_t i = 0; i < b->xn[k]; i++) s += b->x[k][i];
  }
  b->y[0][0] = s;
}

static void target_bwd(const bayes_bound *b)
{
  double g = b->gy[0][0];
  for (int k = 0; k < b->nin; k++) {
    if (!b->gx[k] || target_skip(b, k)) continue;
    for (size_t i = 0; i < b->xn[k]; i++) b->gx[k][i] += g;
  }
}

const bayes_op bayes_op_target = {"target", target_fwd, target_bwd, NULL};

/* ---- linspace: seq(from, to, length) with from/to unknown before sampling ---- */

/* iarg[0] = length. The last element is `to` exactly (t = 1), as R's seq. */
static void linspace_fwd(const bayes_bound *b)
{
  double a = b->x[0][0], z = b->x[1][0];
  size_t n = b->yn[0];
  double *y = b->y[0];
  for (size_t i = 0; i < n; i++) {
    double t = n > 1 ? (double)i / (double)(n - 1) : 0.0;
    y[i] = i + 1 == n && n > 1 ? z : a + (z - a) * t;
  }
}

static void linspace_bwd(const bayes_bound *b)
{
  size_t n = b->yn[0];
  const double *gy = b->gy[0];
  double ga = 0, gz = 0;
  for (size_t i = 0; i < n; i++) {
    double t = n > 1 ? (double)i / (double)(n - 1) : 0.0;
    ga += gy[i] * (1 - t);
    gz += gy[i] * t;
  }
  if (b->gx[0]) b->gx[0][0] += ga;
  if (b->gx[1]) b->gx[1][0] += gz;
}

static const bayes_op op_linspace = {"linspace", linspace_fwd, linspace_bwd, NULL};

/* ---- functions ---- */

/* A compile-time integer argument (a count or a dimension); reports and returns -1 if
 * it is not a known scalar integer >= lo. */
static int const_int(bayes_fnctx *c, const char *fname, const char *what, const bayes_fnarg *a,
                     long lo, long *v)
{
  if (!a->cval) {
    bayes_fn_error(c, a, "%s: the %s must be known before sampling (data or a constant)", fname,
                   what);
    return -1;
  }
  if (a->n != 1 || a->shape->rank != 0) {
    bayes_fn_error(c, a, "%s: the %s must be a scalar", fname, what);
    return -1;
  }
  double d = a->cval[0];
  if (!a->is_int || d != floor(d)) {
    bayes_fn_error(c, a, "%s: the %s must be an integer", fname, what);
    return -1;
  }
  if (d < (double)lo) {
    bayes_fn_error(c, a, "%s: the %s must be at least %ld (got %.0f)", fname, what, lo, d);
    return -1;
  }
  if (d > BAYES_MAX_ELEMENTS) {
    bayes_fn_error(c, a, "%s: the %s %.0f is too large; at most %d elements are supported",
                   fname, what, d, BAYES_MAX_ELEMENTS);
    return -1;
  }
  *v = (long)d;
  return 0;
}

static int emit_const(bayes_fnctx *c, const bayes_shape *s, bool is_int, const double *v,
                      int *out)
{
  int k = bayes_prog_const(c->prog, s, is_int ? BAYES_SLOT_INT : 0, v);
  if (k < 0) {
    bayes_fn_error(c, NULL, "out of memory");
    return -1;
  }
  *out = k;
  return 0;
}

/* rep(x, n), R's rep(x, times = n): x's elements (row-major) repeated n times, as a
 * vector. A gather, so the gradient of every copy flows back to x. */
static int rep_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  long n;
  if (const_int(c, "rep", "count", &args[1], 0, &n)) return -1;
  size_t m = args[0].n;
  if (n > 0 && m > (size_t)BAYES_MAX_ELEMENTS / (size_t)n) {
    bayes_fn_error(c, NULL, "rep: the result would have %.0f elements; at most %d are supported",
                   (double)m * (double)n, BAYES_MAX_ELEMENTS);
    return -1;
  }
  size_t total = m * (size_t)n;
  bayes_shape s = bayes_shape_vec(total);
  size_t *map = bayes_prog_aux(c->prog, (total + 1) * sizeof *map);
  if (!map) {
    bayes_fn_error(c, NULL, "out of memory");
    return -1;
  }
  for (size_t j = 0; j < total; j++) map[j] = j % m;
  int in = args[0].slot;
  int i = bayes_fn_emit(c, &bayes_op_gather, 1, &in, 1, &s, args[0].is_int);
  if (i < 0) return -1;
  c->prog->ins[i].aux = map;
  *out = c->prog->ins[i].out[0];
  return 0;
}

static int scalar_arg(bayes_fnctx *c, const char *fname, const char *what, const bayes_fnarg *a)
{
  if (a->n == 1 && a->shape->rank == 0) return 0;
  char buf[64];
  bayes_fn_error(c, a, "%s: %s must be a scalar, not %s", fname, what,
                 bayes_shape_str(a->shape, buf, sizeof buf));
  return -1;
}

/* seq(from, to): the integers from..to (empty when from = to + 1), known before sampling
 * because the length is a shape. seq(from, to, length): `length` evenly spaced reals. */
static int seq_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  if (scalar_arg(c, "seq", "from", &args[0]) || scalar_arg(c, "seq", "to", &args[1])) return -1;
  if (nargs == 2) {
    for (int k = 0; k < 2; k++) {
      if (!args[k].cval) {
        bayes_fn_error(c, &args[k],
                       "seq: the bounds must be known before sampling (data or a constant)");
        return -1;
      }
      if (!args[k].is_int || args[k].cval[0] != floor(args[k].cval[0])) {
        bayes_fn_error(c, &args[k],
                       "seq: the bounds must be integers (seq(from, to, length) gives reals)");
        return -1;
      }
    }
    double a = args[0].cval[0], z = args[1].cval[0];
    if (a > z + 1) {
      bayes_fn_error(c, NULL, "seq: from (%.0f) is greater than to + 1 (%.0f)", a, z + 1);
      return -1;
    }
    if (z - a + 1 > BAYES_MAX_ELEMENTS) {
      bayes_fn_error(c, NULL, "seq: the result would have %.0f elements; at most %d are "
                     "supported", z - a + 1, BAYES_MAX_ELEMENTS);
      return -1;
    }
    size_t n = (size_t)(z - a + 1);
    double *v = bayes_malloc((n + 1) * sizeof *v);
    if (!v) {
      bayes_fn_error(c, NULL, "out of memory");
      return -1;
    }
    for (size_t i = 0; i < n; i++) v[i] = a + (double)i;
    bayes_shape s = bayes_shape_vec(n);
    int rc = emit_const(c, &s, true, v, out);
    bayes_free(v);
    return rc;
  }
  long len;
  if (const_int(c, "seq", "length", &args[2], 1, &len)) return -1;
  bayes_shape s = bayes_shape_vec((size_t)len);
  if (args[0].cval && args[1].cval) {
    /* fold now: the values are the linspace op's, computed the same way */
    double a = args[0].cval[0], z = args[1].cval[0];
    double *v = bayes_malloc(((size_t)len + 1) * sizeof *v);
    if (!v) {
      bayes_fn_error(c, NULL, "out of memory");
      return -1;
    }
    for (long i = 0; i < len; i++) {
      double t = len > 1 ? (double)i / (double)(len - 1) : 0.0;
      v[i] = i + 1 == len && len > 1 ? z : a + (z - a) * t;
    }
    int rc = emit_const(c, &s, false, v, out);
    bayes_free(v);
    return rc;
  }
  int in[2] = {args[0].slot, args[1].slot};
  int i = bayes_fn_emit(c, &op_linspace, 2, in, 1, &s, false);
  if (i < 0) return -1;
  c->prog->ins[i].iarg[0] = len;
  *out = c->prog->ins[i].out[0];
  return 0;
}

/* rows/cols follow the column-vector convention (a [n] vector is n x 1); they are
 * properties of the shape, so they are constants even when x is a parameter. */
static int dim_emit(bayes_fnctx *c, const bayes_fnarg *a, const char *fname, int which, int *out)
{
  const bayes_shape *s = a->shape;
  double v;
  if (which == 2) {
    v = (double)a->n;
  } else {
    if (s->rank == 0) {
      bayes_fn_error(c, a, "%s: the argument is a scalar", fname);
      return -1;
    }
    v = which == 0 ? (double)s->dim[0] : s->rank >= 2 ? (double)s->dim[1] : 1.0;
  }
  bayes_shape sc = bayes_shape_scalar();
  return emit_const(c, &sc, true, &v, out);
}

static int rows_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return dim_emit(c, &args[0], "rows", 0, out);
}

static int cols_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return dim_emit(c, &args[0], "cols", 1, out);
}

/* size(x) is the total element count (NumPy's size), 1 for a scalar. */
static int size_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return dim_emit(c, &args[0], "size", 2, out);
}

/* A reshape is a one-input stack: storage is row-major, so the elements keep their order. */
static int reshape(bayes_fnctx *c, const bayes_fnarg *a, const bayes_shape *s, int *out)
{
  int in = a->slot;
  int i = bayes_fn_emit(c, &bayes_op_stack, 1, &in, 1, s, a->is_int);
  if (i < 0) return -1;
  *out = c->prog->ins[i].out[0];
  return 0;
}

/* to_vector flattens in row-major order (NumPy's ravel). Unlike Stan, whose
 * to_vector(matrix) is column-major: our storage and broadcasting are NumPy's. */
static int to_vector_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  bayes_shape s = bayes_shape_vec(args[0].n);
  return reshape(c, &args[0], &s, out);
}

/* to_matrix(x, m, n) fills row by row (NumPy's reshape), the inverse of to_vector. */
static int to_matrix_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  long m, n;
  if (const_int(c, "to_matrix", "number of rows", &args[1], 0, &m) ||
      const_int(c, "to_matrix", "number of columns", &args[2], 0, &n))
    return -1;
  if ((size_t)m * (size_t)n != args[0].n) {
    bayes_fn_error(c, &args[0], "to_matrix: %zu elements do not fill a %ld x %ld matrix",
                   args[0].n, m, n);
    return -1;
  }
  bayes_shape s = bayes_shape_mat((size_t)m, (size_t)n);
  return reshape(c, &args[0], &s, out);
}

static const char *const rep_names[] = {"x", "times", NULL};
static const char *const seq_names[] = {"from", "to", "length", NULL};
static const char *const to_matrix_names[] = {"x", "rows", "cols", NULL};

static const bayes_fn fn_rep = {"rep", 2, 2, rep_names, rep_emit};
static const bayes_fn fn_seq = {"seq", 2, 3, seq_names, seq_emit};
static const bayes_fn fn_rows = {"rows", 1, 1, NULL, rows_emit};
static const bayes_fn fn_cols = {"cols", 1, 1, NULL, cols_emit};
static const bayes_fn fn_size = {"size", 1, 1, NULL, size_emit};
static const bayes_fn fn_to_vector = {"to_vector", 1, 1, NULL, to_vector_emit};
static const bayes_fn fn_to_matrix = {"to_matrix", 3, 3, to_matrix_names, to_matrix_emit};

const bayes_fn *const bayes_fns_shape[] = {&fn_rep,  &fn_seq,       &fn_rows,      &fn_cols,
                                           &fn_size, &fn_to_vector, &fn_to_matrix, NULL};
