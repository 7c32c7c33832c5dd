/* ops_reduce.c — reductions and vector functions of the language (sum, mean, sd,
 * log_sum_exp, softmax, dot, row/column sums ..., spec §4), each one op with its own
 * reverse pass. Ops never allocate: the little scratch they need is ins->work. */
#include <math.h>
#include <string.h>

#include "func.h"
#include "special.h"

/* ==== whole-array reductions to a scalar ==== */

static void sum_fwd(const bayes_bound *b)
{
  double s = 0;
  for (size_t i = 0, n = b->xn[0]; i < n; i++) s += b->x[0][i];
  b->y[0][0] = s;
}
static void sum_bwd(const bayes_bound *b)
{
  if (!b->gx[0]) return;
  double g = b->gy[0][0];
  for (size_t i = 0, n = b->xn[0]; i < n; i++) b->gx[0][i] += g;
}
static const bayes_op op_sum = {"sum", sum_fwd, sum_bwd, NULL};

static void prod_fwd(const bayes_bound *b)
{
  double p = 1;
  for (size_t i = 0, n = b->xn[0]; i < n; i++) p *= b->x[0][i];
  b->y[0][0] = p;
}
/* d/dx_i = prod_{j != i} x_j, from prefix (work) and suffix products rather than y / x_i,
 * so that zeros in x give the right gradient. work: n doubles. */
static void prod_bwd(const bayes_bound *b)
{
  double *gx = b->gx[0], *pre = b->work;
  if (!gx) return;
  const double *x = b->x[0];
  size_t n = b->xn[0];
  double p = 1, s = b->gy[0][0];
  for (size_t i = 0; i < n; i++) {
    pre[i] = p;
    p *= x[i];
  }
  for (size_t i = n; i-- > 0;) {
    gx[i] += pre[i] * s;
    s *= x[i];
  }
}
static const bayes_op op_prod = {"prod", prod_fwd, prod_bwd, NULL};

static double mean_of(const double *x, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s / (double)n;
}

static void mean_fwd(const bayes_bound *b) { b->y[0][0] = mean_of(b->x[0], b->xn[0]); }
static void mean_bwd(const bayes_bound *b)
{
  if (!b->gx[0]) return;
  double g = b->gy[0][0] / (double)b->xn[0];
  for (size_t i = 0, n = b->xn[0]; i < n; i++) b->gx[0][i] += g;
}
static const bayes_op op_mean = {"mean", mean_fwd, mean_bwd, NULL};

/* Sample variance (n - 1 denominator, as Stan and R), two-pass for accuracy; 0 for one
 * element, as Stan. */
static double variance_of(const double *x, size_t n, double *m)
{
  *m = mean_of(x, n);
  if (n < 2) return 0;
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (x[i] - *m) * (x[i] - *m);
  return s / (double)(n - 1);
}

/* iarg[0]: 0 variance, 1 sd */
static void var_fwd(const bayes_bound *b)
{
  double m, v = variance_of(b->x[0], b->xn[0], &m);
  b->y[0][0] = b->ins->iarg[0] ? sqrt(v) : v;
}
/* d var / dx_i = 2 (x_i - m) / (n - 1) (the mean's own derivative sums to zero);
 * d sd = d var / (2 sd), taken as 0 where sd = 0 (all elements equal), as Stan. */
static void var_bwd(const bayes_bound *b)
{
  double *gx = b->gx[0];
  size_t n = b->xn[0];
  if (!gx || n < 2) return;
  double m = mean_of(b->x[0], n), g = b->gy[0][0];
  double k = 2 * g / (double)(n - 1);
  if (b->ins->iarg[0]) {
    if (b->y[0][0] == 0) return;
    k /= 2 * b->y[0][0];
  }
  for (size_t i = 0; i < n; i++) gx[i] += k * (b->x[0][i] - m);
}
static void var_dump(const bayes_instr *ins, bayes_sb *sb)
{
  bayes_sb_puts(sb, ins->iarg[0] ? "sd" : "variance");
}
static const bayes_op op_var = {"variance", var_fwd, var_bwd, var_dump};

/* log(sum(exp(x))) shifted by the maximum so nothing overflows; -inf for no elements
 * or all -inf, +inf if any element is +inf. */
static double lse_of(const double *x, size_t n)
{
  double m = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (x[i] > m || isnan(x[i])) m = x[i];
  if (!isfinite(m)) return m;
  double s = 0;
  for (size_t i = 0; i < n; i++) s += exp(x[i] - m);
  return m + log(s);
}
static void lse_fwd(const bayes_bound *b) { b->y[0][0] = lse_of(b->x[0], b->xn[0]); }
/* d/dx_i = softmax(x)_i = exp(x_i - y) */
static void lse_bwd(const bayes_bound *b)
{
  if (!b->gx[0]) return;
  double y = b->y[0][0], g = b->gy[0][0];
  if (!isfinite(y)) return;
  for (size_t i = 0, n = b->xn[0]; i < n; i++) b->gx[0][i] += g * exp(b->x[0][i] - y);
}
static const bayes_op op_lse = {"log_sum_exp", lse_fwd, lse_bwd, NULL};

/* iarg[0]: 0 max, 1 min. The first extreme element wins a tie and gets the gradient; a
 * NaN element is the result. */
static size_t arg_extreme(const double *x, size_t n, bool min)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(x[i])) return i;
    if (min ? x[i] < x[k] : x[i] > x[k]) k = i;
  }
  return k;
}
static void ext_fwd(const bayes_bound *b)
{
  b->y[0][0] = b->x[0][arg_extreme(b->x[0], b->xn[0], b->ins->iarg[0] != 0)];
}
static void ext_bwd(const bayes_bound *b)
{
  if (!b->gx[0]) return;
  b->gx[0][arg_extreme(b->x[0], b->xn[0], b->ins->iarg[0] != 0)] += b->gy[0][0];
}
static void ext_dump(const bayes_instr *ins, bayes_sb *sb)
{
  bayes_sb_puts(sb, ins->iarg[0] ? "min" : "max");
}
static const bayes_op op_ext = {"extreme", ext_fwd, ext_bwd, ext_dump};

/* ==== elementwise two-argument max/min/log_sum_exp (broadcast like the operators) ==== */

enum { PAIR_MAX, PAIR_MIN, PAIR_LSE };

/* Whether the first argument is the one returned (ties: first), for max and min. */
static bool pair_pick_a(long kind, double u, double v)
{
  if (isnan(u)) return true;
  if (isnan(v)) return false;
  return kind == PAIR_MAX ? u >= v : u <= v;
}

static void pair_fwd(const bayes_bound *b)
{
  long kind = b->ins->iarg[0];
  size_t n = b->yn[0], ia = bayes_inc(b->xn[0]), ib = bayes_inc(b->xn[1]);
  const double *p = b->x[0], *q = b->x[1];
  double *y = b->y[0];
  for (size_t i = 0; i < n; i++) {
    double u = p[i * ia], v = q[i * ib];
    y[i] = kind == PAIR_LSE ? bayes_log_sum_exp2(u, v) : pair_pick_a(kind, u, v) ? u : v;
  }
}
static void pair_bwd(const bayes_bound *b)
{
  long kind = b->ins->iarg[0];
  size_t n = b->yn[0], ia = bayes_inc(b->xn[0]), ib = bayes_inc(b->xn[1]);
  const double *p = b->x[0], *q = b->x[1], *y = b->y[0], *gy = b->gy[0];
  double *ga = b->gx[0], *gb = b->gx[1];
  for (size_t i = 0; i < n; i++) {
    double u = p[i * ia], v = q[i * ib], da, db;
    if (kind == PAIR_LSE) {
      /* d/du = exp(u - y); an all -inf pair has no defined gradient: give none */
      da = isfinite(y[i]) ? exp(u - y[i]) : 0.0;
      db = isfinite(y[i]) ? exp(v - y[i]) : 0.0;
    } else {
      da = pair_pick_a(kind, u, v);
      db = 1 - da;
    }
    if (ga) ga[i * ia] += gy[i] * da;
    if (gb) gb[i * ib] += gy[i] * db;
  }
}
static void pair_dump(const bayes_instr *ins, bayes_sb *sb)
{
  static const char *const name[] = {"max", "min", "log_sum_exp"};
  bayes_sb_puts(sb, name[ins->iarg[0] % 3]);
}
static const bayes_op op_pair = {"pair", pair_fwd, pair_bwd, pair_dump};

/* ==== vector functions ==== */

static void cumsum_fwd(const bayes_bound *b)
{
  double s = 0;
  for (size_t i = 0, n = b->xn[0]; i < n; i++) b->y[0][i] = s += b->x[0][i];
}
/* gx_i += sum_{j >= i} gy_j */
static void cumsum_bwd(const bayes_bound *b)
{
  if (!b->gx[0]) return;
  double s = 0;
  for (size_t i = b->xn[0]; i-- > 0;) b->gx[0][i] += s += b->gy[0][i];
}
static const bayes_op op_cumsum = {"cumulative_sum", cumsum_fwd, cumsum_bwd, NULL};

static void dot_fwd(const bayes_bound *b)
{
  double s = 0;
  for (size_t i = 0, n = b->xn[0]; i < n; i++) s += b->x[0][i] * b->x[1][i];
  b->y[0][0] = s;
}
static void dot_bwd(const bayes_bound *b)
{
  double g = b->gy[0][0];
  for (size_t i = 0, n = b->xn[0]; i < n; i++) {
    if (b->gx[0]) b->gx[0][i] += g * b->x[1][i];
    if (b->gx[1]) b->gx[1][i] += g * b->x[0][i];
  }
}
static const bayes_op op_dot = {"dot", dot_fwd, dot_bwd, NULL};

static void dot_self_fwd(const bayes_bound *b)
{
  double s = 0;
  for (size_t i = 0, n = b->xn[0]; i < n; i++) s += b->x[0][i] * b->x[0][i];
  b->y[0][0] = s;
}
static void dot_self_bwd(const bayes_bound *b)
{
  if (!b->gx[0]) return;
  double g = 2 * b->gy[0][0];
  for (size_t i = 0, n = b->xn[0]; i < n; i++) b->gx[0][i] += g * b->x[0][i];
}
static const bayes_op op_dot_self = {"dot_self", dot_self_fwd, dot_self_bwd, NULL};

/* iarg[0]: 0 squared_distance, 1 distance (its gradient taken as 0 at distance 0). */
static void dist_fwd(const bayes_bound *b)
{
  double s = 0;
  for (size_t i = 0, n = b->xn[0]; i < n; i++) {
    double d = b->x[0][i] - b->x[1][i];
    s += d * d;
  }
  b->y[0][0] = b->ins->iarg[0] ? sqrt(s) : s;
}
static void dist_bwd(const bayes_bound *b)
{
  double k = 2 * b->gy[0][0];
  if (b->ins->iarg[0]) {
    if (b->y[0][0] == 0) return;
    k = b->gy[0][0] / b->y[0][0];
  }
  for (size_t i = 0, n = b->xn[0]; i < n; i++) {
    double d = k * (b->x[0][i] - b->x[1][i]);
    if (b->gx[0]) b->gx[0][i] += d;
    if (b->gx[1]) b->gx[1][i] -= d;
  }
}
static const bayes_op op_dist = {"squared_distance", dist_fwd, dist_bwd, NULL};

/* iarg[0]: 0 softmax, 1 log_softmax; both y from x - log_sum_exp(x). */
static void softmax_fwd(const bayes_bound *b)
{
  size_t n = b->xn[0];
  double l = lse_of(b->x[0], n);
  bool lg = b->ins->iarg[0] != 0;
  for (size_t i = 0; i < n; i++) {
    double z = b->x[0][i] - l;
    b->y[0][i] = lg ? z : exp(z);
  }
}
/* softmax: gx_i += s_i (gy_i - sum_j gy_j s_j); log_softmax: gx_i += gy_i - s_i sum_j gy_j */
static void softmax_bwd(const bayes_bound *b)
{
  double *gx = b->gx[0];
  if (!gx) return;
  size_t n = b->xn[0];
  const double *y = b->y[0], *gy = b->gy[0];
  double t = 0;
  if (b->ins->iarg[0]) {
    for (size_t i = 0; i < n; i++) t += gy[i];
    for (size_t i = 0; i < n; i++) gx[i] += gy[i] - exp(y[i]) * t;
  } else {
    for (size_t i = 0; i < n; i++) t += gy[i] * y[i];
    for (size_t i = 0; i < n; i++) gx[i] += y[i] * (gy[i] - t);
  }
}
static const bayes_op op_softmax = {"softmax", softmax_fwd, softmax_bwd, NULL};

/* Rank-2 [r, c] -> [c] (iarg[0] = 0, column sums) or [r] (1, row sums); darg[0] is the
 * scale (1, or 1/r resp. 1/c for the means). */
static void margin_fwd(const bayes_bound *b)
{
  size_t r = b->xs[0]->dim[0], c = b->xs[0]->dim[1];
  bool rows = b->ins->iarg[0] != 0;
  double k = b->ins->darg[0], *y = b->y[0];
  const double *x = b->x[0];
  memset(y, 0, b->yn[0] * sizeof *y);
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++) y[rows ? i : j] += x[i * c + j];
  for (size_t k2 = 0; k2 < b->yn[0]; k2++) y[k2] *= k;
}
static void margin_bwd(const bayes_bound *b)
{
  double *gx = b->gx[0];
  if (!gx) return;
  size_t r = b->xs[0]->dim[0], c = b->xs[0]->dim[1];
  bool rows = b->ins->iarg[0] != 0;
  double k = b->ins->darg[0];
  const double *gy = b->gy[0];
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++) gx[i * c + j] += k * gy[rows ? i : j];
}
static const bayes_op op_margin = {"margin", margin_fwd, margin_bwd, NULL};

/* ==== emitters ==== */

static int emit1(bayes_fnctx *c, const bayes_op *op, int nin, const int *in,
                 const bayes_shape *s, bool is_int, long iarg0, double darg0, size_t work,
                 int *out)
{
  int i = bayes_fn_emit(c, op, nin, in, 1, s, is_int);
  if (i < 0) return -1;
  bayes_instr *ins = &c->prog->ins[i];
  ins->iarg[0] = iarg0;
  ins->darg[0] = darg0;
  ins->work = work;
  *out = ins->out[0];
  return 0;
}

static int need_rank(bayes_fnctx *c, const char *fname, const bayes_fnarg *a, int rank,
                     const char *what)
{
  if (a->shape->rank == rank) return 0;
  char buf[64];
  bayes_fn_error(c, a, "%s: expected %s, got %s", fname, what,
                 bayes_shape_str(a->shape, buf, sizeof buf));
  return -1;
}

/* Scalar result of a whole-array reduction. */
static int reduce(bayes_fnctx *c, const bayes_fnarg *a, const bayes_op *op, bool is_int,
                  long iarg0, size_t work, int *out)
{
  bayes_shape s = bayes_shape_scalar();
  return emit1(c, op, 1, &a->slot, &s, is_int, iarg0, 0, work, out);
}

static int sum_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return reduce(c, &args[0], &op_sum, args[0].is_int, 0, 0, out);
}
static int prod_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return reduce(c, &args[0], &op_prod, args[0].is_int, 0, args[0].n, out);
}
static int mean_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  if (args[0].n == 0) {
    bayes_fn_error(c, &args[0], "mean: the argument has no elements");
    return -1;
  }
  return reduce(c, &args[0], &op_mean, false, 0, 0, out);
}
static int variance_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  if (args[0].n == 0) {
    bayes_fn_error(c, &args[0], "variance: the argument has no elements");
    return -1;
  }
  return reduce(c, &args[0], &op_var, false, 0, 0, out);
}
static int sd_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  if (args[0].n == 0) {
    bayes_fn_error(c, &args[0], "sd: the argument has no elements");
    return -1;
  }
  return reduce(c, &args[0], &op_var, false, 1, 0, out);
}

/* Two arguments: elementwise with broadcasting, like the operators. */
static int pair_emit(bayes_fnctx *c, const bayes_fnarg *args, long kind, int *out)
{
  int slots[2];
  bayes_shape s;
  if (bayes_fn_broadcast(c, 2, args, slots, &s)) return -1;
  bool is_int = kind != PAIR_LSE && args[0].is_int && args[1].is_int;
  return emit1(c, &op_pair, 2, slots, &s, is_int, kind, 0, 0, out);
}

/* log_sum_exp(x) reduces; log_sum_exp(a, b) is elementwise: one name, so that the
 * registry holds it once. */
static int lse_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  if (nargs == 2) return pair_emit(c, args, PAIR_LSE, out);
  return reduce(c, &args[0], &op_lse, false, 0, 0, out);
}
static int ext_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out, bool min)
{
  if (nargs == 2) return pair_emit(c, args, min ? PAIR_MIN : PAIR_MAX, out);
  if (args[0].n == 0) {
    bayes_fn_error(c, &args[0], "%s: the argument has no elements", min ? "min" : "max");
    return -1;
  }
  return reduce(c, &args[0], &op_ext, args[0].is_int, min, 0, out);
}
static int max_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return ext_emit(c, nargs, args, out, false);
}
static int min_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return ext_emit(c, nargs, args, out, true);
}

static int cumsum_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  if (need_rank(c, "cumulative_sum", &args[0], 1, "a vector")) return -1;
  bayes_shape s = *args[0].shape;
  return emit1(c, &op_cumsum, 1, &args[0].slot, &s, args[0].is_int, 0, 0, 0, out);
}

/* Two vectors of one length (two scalars also, for the distances, as Stan). */
static int same_vectors(bayes_fnctx *c, const char *fname, const bayes_fnarg *args,
                        bool scalars_ok)
{
  for (int k = 0; k < 2; k++) {
    int r = args[k].shape->rank;
    if (r == 1 || (scalars_ok && r == 0)) continue;
    return need_rank(c, fname, &args[k], 1, "a vector");
  }
  if (args[0].shape->rank != args[1].shape->rank || args[0].n != args[1].n) {
    char b1[64], b2[64];
    bayes_fn_error(c, &args[1], "%s: arguments of shapes %s and %s differ in length", fname,
                   bayes_shape_str(args[0].shape, b1, sizeof b1),
                   bayes_shape_str(args[1].shape, b2, sizeof b2));
    return -1;
  }
  return 0;
}

static int dot_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  if (same_vectors(c, "dot", args, false)) return -1;
  int in[2] = {args[0].slot, args[1].slot};
  bayes_shape s = bayes_shape_scalar();
  return emit1(c, &op_dot, 2, in, &s, args[0].is_int && args[1].is_int, 0, 0, 0, out);
}
static int dot_self_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  if (need_rank(c, "dot_self", &args[0], 1, "a vector")) return -1;
  return reduce(c, &args[0], &op_dot_self, args[0].is_int, 0, 0, out);
}
static int distance_emit(bayes_fnctx *c, const bayes_fnarg *args, bool root, int *out)
{
  if (same_vectors(c, root ? "distance" : "squared_distance", args, true)) return -1;
  int in[2] = {args[0].slot, args[1].slot};
  bayes_shape s = bayes_shape_scalar();
  return emit1(c, &op_dist, 2, in, &s, false, root, 0, 0, out);
}
static int sqdist_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return distance_emit(c, args, false, out);
}
static int dist_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return distance_emit(c, args, true, out);
}

static int softmax_any(bayes_fnctx *c, const bayes_fnarg *a, bool lg, int *out)
{
  const char *name = lg ? "log_softmax" : "softmax";
  if (need_rank(c, name, a, 1, "a vector")) return -1;
  if (a->n == 0) {
    bayes_fn_error(c, a, "%s: the argument has no elements", name);
    return -1;
  }
  bayes_shape s = *a->shape;
  return emit1(c, &op_softmax, 1, &a->slot, &s, false, lg, 0, 0, out);
}
static int softmax_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return softmax_any(c, &args[0], false, out);
}
static int log_softmax_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return softmax_any(c, &args[0], true, out);
}

static int margin_emit(bayes_fnctx *c, const bayes_fnarg *a, const char *name, bool rows,
                       bool mean, int *out)
{
  if (need_rank(c, name, a, 2, "a matrix")) return -1;
  size_t r = a->shape->dim[0], cl = a->shape->dim[1];
  size_t across = rows ? cl : r; /* elements summed into each result */
  if (mean && across == 0) {
    bayes_fn_error(c, a, "%s: the argument has no elements", name);
    return -1;
  }
  bayes_shape s = bayes_shape_vec(rows ? r : cl);
  return emit1(c, &op_margin, 1, &a->slot, &s, a->is_int && !mean, rows,
               mean ? 1.0 / (double)across : 1.0, 0, out);
}
static int col_sums_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return margin_emit(c, &args[0], "col_sums", false, false, out);
}
static int col_means_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return margin_emit(c, &args[0], "col_means", false, true, out);
}
static int row_sums_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return margin_emit(c, &args[0], "row_sums", true, false, out);
}
static int row_means_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return margin_emit(c, &args[0], "row_means", true, true, out);
}

static const bayes_fn fn_sum = {"sum", 1, 1, NULL, sum_emit};
static const bayes_fn fn_prod = {"prod", 1, 1, NULL, prod_emit};
static const bayes_fn fn_mean = {"mean", 1, 1, NULL, mean_emit};
static const bayes_fn fn_sd = {"sd", 1, 1, NULL, sd_emit};
static const bayes_fn fn_variance = {"variance", 1, 1, NULL, variance_emit};
static const bayes_fn fn_lse = {"log_sum_exp", 1, 2, NULL, lse_emit};
static const bayes_fn fn_max = {"max", 1, 2, NULL, max_emit};
static const bayes_fn fn_min = {"min", 1, 2, NULL, min_emit};
static const bayes_fn fn_cumsum = {"cumulative_sum", 1, 1, NULL, cumsum_emit};
static const bayes_fn fn_dot = {"dot", 2, 2, NULL, dot_emit};
static const bayes_fn fn_dot_self = {"dot_self", 1, 1, NULL, dot_self_emit};
static const bayes_fn fn_sqdist = {"squared_distance", 2, 2, NULL, sqdist_emit};
static const bayes_fn fn_distance = {"distance", 2, 2, NULL, dist_emit};
static const bayes_fn fn_softmax = {"softmax", 1, 1, NULL, softmax_emit};
static const bayes_fn fn_log_softmax = {"log_softmax", 1, 1, NULL, log_softmax_emit};
static const bayes_fn fn_col_sums = {"col_sums", 1, 1, NULL, col_sums_emit};
static const bayes_fn fn_col_means = {"col_means", 1, 1, NULL, col_means_emit};
static const bayes_fn fn_row_sums = {"row_sums", 1, 1, NULL, row_sums_emit};
static const bayes_fn fn_row_means = {"row_means", 1, 1, NULL, row_means_emit};

const bayes_fn *const bayes_fns_reduce[] = {
    &fn_sum, &fn_prod, &fn_mean, &fn_sd, &fn_variance, &fn_lse, &fn_max, &fn_min,
    &fn_cumsum, &fn_dot, &fn_dot_self, &fn_sqdist, &fn_distance, &fn_softmax,
    &fn_log_softmax, &fn_col_sums, &fn_col_means, &fn_row_sums, &fn_row_means, NULL};
