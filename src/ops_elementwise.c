/* ops_elementwise.c — operators and scalar math functions of the language (spec §2, §4),
 * elementwise with NumPy broadcasting settled at emit time (bayes_fn_broadcast). Ops must
 * not allocate, and only ever see inputs of the output's element count or 1. */
#include <math.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_psi.h>

#include "func.h"
#include "special.h"

#define LN2 0.69314718055994530942
#define LN10 2.30258509299404568402
#define TWO_OVER_SQRTPI 1.12837916709551257390
#define INV_SQRT_2PI 0.39894228040143267794

/* ==== arithmetic: dedicated loops, since these are most of every model's tape ==== */

/* Runs EXPR (in u = a element, v = b element) over the output, with a scalar operand
 * hoisted out of the loop instead of read through an increment. */
#define BIN_FWD(EXPR)                                                              \
  do {                                                                             \
    size_t n_ = b->yn[0];                                                          \
    const double *p_ = b->x[0], *q_ = b->x[1];                                     \
    double *y_ = b->y[0];                                                          \
    if (b->xn[0] == n_ && b->xn[1] == n_) {                                        \
      for (size_t i = 0; i < n_; i++) {                                            \
        double u = p_[i], v = q_[i];                                               \
        y_[i] = (EXPR);                                                            \
      }                                                                            \
    } else if (b->xn[1] == n_) {                                                   \
      double u = p_[0];                                                            \
      for (size_t i = 0; i < n_; i++) {                                            \
        double v = q_[i];                                                          \
        y_[i] = (EXPR);                                                            \
      }                                                                            \
    } else {                                                                       \
      double v = q_[0];                                                            \
      for (size_t i = 0; i < n_; i++) {                                            \
        double u = p_[i * bayes_inc(b->xn[0])];                                    \
        y_[i] = (EXPR);                                                            \
      }                                                                            \
    }                                                                              \
  } while (0)

/* Adds G (in g = output adjoint, u, v, y) into input K's adjoint, summing over the
 * output when input K is a broadcast scalar. */
#define BIN_BWD(K, G)                                                              \
  do {                                                                             \
    double *gx_ = b->gx[K];                                                        \
    if (!gx_) break;                                                               \
    size_t n_ = b->yn[0], ia_ = bayes_inc(b->xn[0]), ib_ = bayes_inc(b->xn[1]);    \
    const double *p_ = b->x[0], *q_ = b->x[1], *gy_ = b->gy[0], *y_ = b->y[0];     \
    (void)p_, (void)q_, (void)y_;                                                  \
    if (b->xn[K] == n_) {                                                          \
      for (size_t i = 0; i < n_; i++) {                                            \
        double g = gy_[i], u = p_[i * ia_], v = q_[i * ib_], y = y_[i];            \
        (void)u, (void)v, (void)y;                                                 \
        gx_[i] += (G);                                                             \
      }                                                                            \
    } else {                                                                       \
      double s_ = 0;                                                               \
      for (size_t i = 0; i < n_; i++) {                                            \
        double g = gy_[i], u = p_[i * ia_], v = q_[i * ib_], y = y_[i];            \
        (void)u, (void)v, (void)y;                                                 \
        s_ += (G);                                                                 \
      }                                                                            \
      gx_[0] += s_;                                                                \
    }                                                                              \
  } while (0)

static void add_fwd(const bayes_bound *b) { BIN_FWD(u + v); }
static void add_bwd(const bayes_bound *b)
{
  BIN_BWD(0, g);
  BIN_BWD(1, g);
}
static void sub_fwd(const bayes_bound *b) { BIN_FWD(u - v); }
static void sub_bwd(const bayes_bound *b)
{
  BIN_BWD(0, g);
  BIN_BWD(1, -g);
}
static void mul_fwd(const bayes_bound *b) { BIN_FWD(u * v); }
static void mul_bwd(const bayes_bound *b)
{
  BIN_BWD(0, g * v);
  BIN_BWD(1, g * u);
}
static void div_fwd(const bayes_bound *b) { BIN_FWD(u / v); }
static void div_bwd(const bayes_bound *b)
{
  BIN_BWD(0, g / v);
  BIN_BWD(1, -g * y / v);
}

static const bayes_op op_add = {"add", add_fwd, add_bwd, NULL};
static const bayes_op op_sub = {"sub", sub_fwd, sub_bwd, NULL};
static const bayes_op op_mul = {"mul", mul_fwd, mul_bwd, NULL};
static const bayes_op op_div = {"div", div_fwd, div_bwd, NULL};

/* x ^ c with c known at compile time (darg[0]): the common squares and roots skip pow(). */
static void powc_fwd(const bayes_bound *b)
{
  double c = b->ins->darg[0];
  const double *x = b->x[0];
  double *y = b->y[0];
  size_t n = b->yn[0];
  if (c == 2)
    for (size_t i = 0; i < n; i++) y[i] = x[i] * x[i];
  else if (c == 0.5)
    for (size_t i = 0; i < n; i++) y[i] = sqrt(x[i]);
  else if (c == -1)
    for (size_t i = 0; i < n; i++) y[i] = 1 / x[i];
  else
    for (size_t i = 0; i < n; i++) y[i] = pow(x[i], c);
}
static void powc_bwd(const bayes_bound *b)
{
  double c = b->ins->darg[0], *gx = b->gx[0];
  const double *x = b->x[0], *gy = b->gy[0];
  if (!gx || c == 0) return;
  size_t n = b->yn[0];
  if (c == 2)
    for (size_t i = 0; i < n; i++) gx[i] += 2 * x[i] * gy[i];
  else
    for (size_t i = 0; i < n; i++) gx[i] += gy[i] * c * pow(x[i], c - 1);
}
static void powc_dump(const bayes_instr *ins, bayes_sb *sb)
{
  bayes_sb_puts(sb, "^");
  bayes_sb_double(sb, ins->darg[0]);
}
static const bayes_op op_powc = {"powc", powc_fwd, powc_bwd, powc_dump};

static void neg_fwd(const bayes_bound *b)
{
  for (size_t i = 0, n = b->yn[0]; i < n; i++) b->y[0][i] = -b->x[0][i];
}
static void neg_bwd(const bayes_bound *b)
{
  if (!b->gx[0]) return;
  for (size_t i = 0, n = b->yn[0]; i < n; i++) b->gx[0][i] -= b->gy[0][i];
}
static const bayes_op op_neg = {"neg", neg_fwd, neg_bwd, NULL};

/* ==== comparisons and logicals: integer 0/1 results, no gradient (bwd NULL) ==== */

enum { CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_EQ, CMP_NE, CMP_AND, CMP_OR };

static void cmp_fwd(const bayes_bound *b)
{
  switch (b->ins->iarg[0]) {
  case CMP_LT: BIN_FWD(u < v); break;
  case CMP_LE: BIN_FWD(u <= v); break;
  case CMP_GT: BIN_FWD(u > v); break;
  case CMP_GE: BIN_FWD(u >= v); break;
  case CMP_EQ: BIN_FWD(u == v); break;
  case CMP_NE: BIN_FWD(u != v); break;
  case CMP_AND: BIN_FWD(u != 0 && v != 0); break;
  default: BIN_FWD(u != 0 || v != 0); break;
  }
}
static void cmp_dump(const bayes_instr *ins, bayes_sb *sb)
{
  static const char *const sym[] = {"<", "<=", ">", ">=", "==", "!=", "&&", "||"};
  bayes_sb_puts(sb, sym[ins->iarg[0] & 7]);
}
static const bayes_op op_cmp = {"cmp", cmp_fwd, NULL, cmp_dump};

static void not_fwd(const bayes_bound *b)
{
  for (size_t i = 0, n = b->yn[0]; i < n; i++) b->y[0][i] = b->x[0][i] == 0;
}
static const bayes_op op_not = {"not", not_fwd, NULL, NULL};

/* cond ? a : b. The condition gets no gradient (it is piecewise constant); each output
 * element's adjoint goes to the branch that was chosen. */
static void cond_fwd(const bayes_bound *b)
{
  size_t n = b->yn[0], ic = bayes_inc(b->xn[0]), ia = bayes_inc(b->xn[1]),
         ib = bayes_inc(b->xn[2]);
  const double *c = b->x[0], *p = b->x[1], *q = b->x[2];
  double *y = b->y[0];
  for (size_t i = 0; i < n; i++) y[i] = c[i * ic] != 0 ? p[i * ia] : q[i * ib];
}
static void cond_bwd(const bayes_bound *b)
{
  size_t n = b->yn[0], ic = bayes_inc(b->xn[0]), ia = bayes_inc(b->xn[1]),
         ib = bayes_inc(b->xn[2]);
  const double *c = b->x[0], *gy = b->gy[0];
  double *ga = b->gx[1], *gb = b->gx[2];
  for (size_t i = 0; i < n; i++) {
    if (c[i * ic] != 0) {
      if (ga) ga[i * ia] += gy[i];
    } else if (gb) {
      gb[i * ib] += gy[i];
    }
  }
}
static const bayes_op op_cond = {"cond", cond_fwd, cond_bwd, NULL};

/* ==== generic unary functions: aux = const unary_def * ==== */

typedef struct {
  const char *name;
  double (*f)(double);
  double (*df)(double x, double y);   /* dy/dx given x and y = f(x) */
  int int_rule;                       /* INT_NEVER, INT_KEEP (int in, int out), INT_ALWAYS */
} unary_def;

enum { INT_NEVER, INT_KEEP, INT_ALWAYS };

static void unary_fwd(const bayes_bound *b)
{
  const unary_def *d = b->ins->aux;
  const double *x = b->x[0];
  double *y = b->y[0];
  for (size_t i = 0, n = b->yn[0]; i < n; i++) y[i] = d->f(x[i]);
}
static void unary_bwd(const bayes_bound *b)
{
  const unary_def *d = b->ins->aux;
  double *gx = b->gx[0];
  if (!gx || !d->df) return; /* df NULL: piecewise constant, zero gradient */
  const double *x = b->x[0], *y = b->y[0], *gy = b->gy[0];
  for (size_t i = 0, n = b->yn[0]; i < n; i++) gx[i] += gy[i] * d->df(x[i], y[i]);
}
static void unary_dump(const bayes_instr *ins, bayes_sb *sb)
{
  bayes_sb_puts(sb, ((const unary_def *)ins->aux)->name);
}
static const bayes_op op_unary = {"unary", unary_fwd, unary_bwd, unary_dump};

/* Derivatives, d(x, y) = dy/dx. */
static double d_exp(double x, double y) { return y; }
static double d_log(double x, double y) { return 1 / x; }
static double d_log1p(double x, double y) { return 1 / (1 + x); }
static double d_expm1(double x, double y) { return y + 1; }
static double d_sqrt(double x, double y) { return 0.5 / y; }
static double f_square(double x) { return x * x; }
static double d_square(double x, double y) { return 2 * x; }
static double d_abs(double x, double y) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }
static double d_sin(double x, double y) { return cos(x); }
static double d_cos(double x, double y) { return -sin(x); }
static double d_tan(double x, double y) { return 1 + y * y; }
static double d_asin(double x, double y) { return 1 / sqrt(1 - x * x); }
static double d_acos(double x, double y) { return -1 / sqrt(1 - x * x); }
static double d_atan(double x, double y) { return 1 / (1 + x * x); }
static double d_sinh(double x, double y) { return cosh(x); }
static double d_cosh(double x, double y) { return sinh(x); }
static double d_tanh(double x, double y) { return 1 - y * y; }
static double d_asinh(double x, double y) { return 1 / sqrt(x * x + 1); }
static double d_acosh(double x, double y) { return 1 / sqrt(x * x - 1); }
static double d_atanh(double x, double y) { return 1 / (1 - x * x); }
static double d_inv_logit(double x, double y) { return y * (1 - y); }
static double d_logit(double x, double y) { return 1 / (x * (1 - x)); }
static double d_log_inv_logit(double x, double y) { return bayes_inv_logit(-x); }
static double d_log1m_inv_logit(double x, double y) { return -bayes_inv_logit(x); }
static double f_log1m(double x) { return log1p(-x); }
static double d_log1m(double x, double y) { return -1 / (1 - x); }
static double d_log1p_exp(double x, double y) { return bayes_inv_logit(x); }
/* d/dx log(1 - e^x) = -e^x / (1 - e^x) = -1 / expm1(-x), accurate near x = 0 */
static double d_log1m_exp(double x, double y) { return -1 / expm1(-x); }
static double d_lgamma(double x, double y) { return bayes_digamma(x); }
static double d_digamma(double x, double y) { return bayes_trigamma(x); }
static double d_trigamma(double x, double y)
{
  gsl_sf_result r;
  return gsl_sf_psi_n_e(2, x, &r) == GSL_SUCCESS ? r.val : NAN;
}
static double d_tgamma(double x, double y) { return y * bayes_digamma(x); }
static double d_erf(double x, double y) { return TWO_OVER_SQRTPI * exp(-x * x); }
static double d_erfc(double x, double y) { return -TWO_OVER_SQRTPI * exp(-x * x); }
static double d_Phi(double x, double y) { return INV_SQRT_2PI * exp(-0.5 * x * x); }
/* Phi_approx(x) = inv_logit(0.07056 x^3 + 1.5976 x) (Bowling et al. 2009, as Stan) */
static double d_Phi_approx(double x, double y)
{
  return y * (1 - y) * (3 * 0.07056 * x * x + 1.5976);
}
static double f_inv(double x) { return 1 / x; }
static double d_inv(double x, double y) { return -y * y; }
static double f_inv_sqrt(double x) { return 1 / sqrt(x); }
static double d_inv_sqrt(double x, double y) { return -0.5 * y / x; }
static double f_inv_square(double x) { return 1 / (x * x); }
static double d_inv_square(double x, double y) { return -2 * y / x; }
static double d_cbrt(double x, double y) { return 1 / (3 * y * y); }
static double d_exp2(double x, double y) { return y * LN2; }
static double d_log2(double x, double y) { return 1 / (x * LN2); }
static double d_log10(double x, double y) { return 1 / (x * LN10); }
/* Stan's conventions: step(x) = x < 0 ? 0 : 1, so step(0) = step(NaN) = 1;
 * int_step(x) = x > 0, so int_step(0) = int_step(NaN) = 0. */
static double f_step(double x) { return x < 0 ? 0.0 : 1.0; }
static double f_int_step(double x) { return x > 0 ? 1.0 : 0.0; }

static int emit_unary_def(bayes_fnctx *c, const bayes_fnarg *a, int *out, const unary_def *d)
{
  bayes_shape s = *a->shape;
  bool is_int = d->int_rule == INT_ALWAYS || (d->int_rule == INT_KEEP && a->is_int);
  int i = bayes_fn_emit(c, &op_unary, 1, &a->slot, 1, &s, is_int);
  if (i < 0) return -1;
  c->prog->ins[i].aux = d;
  *out = c->prog->ins[i].out[0];
  return 0;
}

/* One definition, one emitter and one registry entry per function: bayes_fn carries no
 * user data, so the emitter is what tells the functions apart. */
#define UNARY(NAME, F, DF, RULE)                                                      \
  static const unary_def def_##NAME = {#NAME, F, DF, RULE};                           \
  static int emit_##NAME(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out) \
  {                                                                                   \
    return emit_unary_def(c, &args[0], out, &def_##NAME);                             \
  }                                                                                   \
  static const bayes_fn fn_##NAME = {#NAME, 1, 1, NULL, emit_##NAME};

UNARY(exp, exp, d_exp, INT_NEVER)
UNARY(log, log, d_log, INT_NEVER)
UNARY(log1p, log1p, d_log1p, INT_NEVER)
UNARY(expm1, expm1, d_expm1, INT_NEVER)
UNARY(sqrt, sqrt, d_sqrt, INT_NEVER)
UNARY(square, f_square, d_square, INT_NEVER)
UNARY(abs, fabs, d_abs, INT_KEEP)
UNARY(fabs, fabs, d_abs, INT_NEVER)
UNARY(floor, floor, NULL, INT_KEEP)
UNARY(ceil, ceil, NULL, INT_KEEP)
UNARY(round, round, NULL, INT_KEEP)
UNARY(trunc, trunc, NULL, INT_KEEP)
UNARY(sin, sin, d_sin, INT_NEVER)
UNARY(cos, cos, d_cos, INT_NEVER)
UNARY(tan, tan, d_tan, INT_NEVER)
UNARY(asin, asin, d_asin, INT_NEVER)
UNARY(acos, acos, d_acos, INT_NEVER)
UNARY(atan, atan, d_atan, INT_NEVER)
UNARY(sinh, sinh, d_sinh, INT_NEVER)
UNARY(cosh, cosh, d_cosh, INT_NEVER)
UNARY(tanh, tanh, d_tanh, INT_NEVER)
UNARY(asinh, asinh, d_asinh, INT_NEVER)
UNARY(acosh, acosh, d_acosh, INT_NEVER)
UNARY(atanh, atanh, d_atanh, INT_NEVER)
UNARY(inv_logit, bayes_inv_logit, d_inv_logit, INT_NEVER)
UNARY(logit, bayes_logit, d_logit, INT_NEVER)
UNARY(log_inv_logit, bayes_log_inv_logit, d_log_inv_logit, INT_NEVER)
UNARY(log1m_inv_logit, bayes_log1m_inv_logit, d_log1m_inv_logit, INT_NEVER)
UNARY(log1m, f_log1m, d_log1m, INT_NEVER)
UNARY(log1p_exp, bayes_log1p_exp, d_log1p_exp, INT_NEVER)
UNARY(log1m_exp, bayes_log1m_exp, d_log1m_exp, INT_NEVER)
UNARY(lgamma, lgamma, d_lgamma, INT_NEVER)
UNARY(digamma, bayes_digamma, d_digamma, INT_NEVER)
UNARY(trigamma, bayes_trigamma, d_trigamma, INT_NEVER)
UNARY(tgamma, tgamma, d_tgamma, INT_NEVER)
UNARY(erf, erf, d_erf, INT_NEVER)
UNARY(erfc, erfc, d_erfc, INT_NEVER)
UNARY(Phi, bayes_Phi, d_Phi, INT_NEVER)
UNARY(Phi_approx, bayes_Phi_approx, d_Phi_approx, INT_NEVER)
UNARY(inv, f_inv, d_inv, INT_NEVER)
UNARY(inv_sqrt, f_inv_sqrt, d_inv_sqrt, INT_NEVER)
UNARY(inv_square, f_inv_square, d_inv_square, INT_NEVER)
UNARY(cbrt, cbrt, d_cbrt, INT_NEVER)
UNARY(exp2, exp2, d_exp2, INT_NEVER)
UNARY(log2, log2, d_log2, INT_NEVER)
UNARY(log10, log10, d_log10, INT_NEVER)
UNARY(step, f_step, NULL, INT_NEVER)
UNARY(int_step, f_int_step, NULL, INT_ALWAYS)

/* ==== generic binary functions: aux = const binary_def * ==== */

typedef struct {
  const char *name;
  double (*f)(double a, double b);
  double (*dfa)(double a, double b, double y);   /* dy/da */
  double (*dfb)(double a, double b, double y);   /* dy/db */
} binary_def;

static void binary_fwd(const bayes_bound *b)
{
  const binary_def *d = b->ins->aux;
  BIN_FWD(d->f(u, v));
}
static void binary_bwd(const bayes_bound *b)
{
  const binary_def *d = b->ins->aux;
  BIN_BWD(0, g * d->dfa(u, v, y));
  BIN_BWD(1, g * d->dfb(u, v, y));
}
static void binary_dump(const bayes_instr *ins, bayes_sb *sb)
{
  bayes_sb_puts(sb, ((const binary_def *)ins->aux)->name);
}
static const bayes_op op_binary = {"binary", binary_fwd, binary_bwd, binary_dump};

/* fmin/fmax: the gradient goes to the argument that was returned, the first one on a
 * tie; libm's rule that a NaN argument loses is kept for values and gradients alike. */
static double fmin_pick_a(double a, double b) { return a <= b || isnan(b); }
static double fmax_pick_a(double a, double b) { return a >= b || isnan(b); }
static double f_fmin(double a, double b) { return fmin_pick_a(a, b) != 0 ? a : b; }
static double f_fmax(double a, double b) { return fmax_pick_a(a, b) != 0 ? a : b; }
static double d_fmin_a(double a, double b, double y) { return fmin_pick_a(a, b); }
static double d_fmin_b(double a, double b, double y) { return 1 - fmin_pick_a(a, b); }
static double d_fmax_a(double a, double b, double y) { return fmax_pick_a(a, b); }
static double d_fmax_b(double a, double b, double y) { return 1 - fmax_pick_a(a, b); }
/* atan2(a, b) = angle of (b, a): d/da = b / r^2, d/db = -a / r^2 */
static double d_atan2_a(double a, double b, double y) { return b / (a * a + b * b); }
static double d_atan2_b(double a, double b, double y) { return -a / (a * a + b * b); }
static double d_hypot_a(double a, double b, double y) { return y == 0 ? 0.0 : a / y; }
static double d_hypot_b(double a, double b, double y) { return y == 0 ? 0.0 : b / y; }
static double d_fdim_a(double a, double b, double y) { return a > b ? 1.0 : 0.0; }
static double d_fdim_b(double a, double b, double y) { return a > b ? -1.0 : 0.0; }
static double d_lbeta_a(double a, double b, double y)
{
  return bayes_digamma(a) - bayes_digamma(a + b);
}
static double d_lbeta_b(double a, double b, double y)
{
  return bayes_digamma(b) - bayes_digamma(a + b);
}
/* lchoose(n, k) = lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) */
static double d_lchoose_n(double n, double k, double y)
{
  return bayes_digamma(n + 1) - bayes_digamma(n - k + 1);
}
static double d_lchoose_k(double n, double k, double y)
{
  return bayes_digamma(n - k + 1) - bayes_digamma(k + 1);
}
/* log(e^a - e^b): d/da = 1 / (1 - e^(b-a)), d/db = -1 / (e^(a-b) - 1), via expm1 */
static double d_ldexp_a(double a, double b, double y) { return -1 / expm1(b - a); }
static double d_ldexp_b(double a, double b, double y) { return -1 / expm1(a - b); }
/* d/db uses log(a), taken as 0 at a = 0 (as Stan) so that a base that is exactly 0 does
 * not turn the exponent's gradient into NaN. */
static double d_pow_a(double a, double b, double y) { return b == 0 ? 0.0 : b * pow(a, b - 1); }
static double d_pow_b(double a, double b, double y) { return a == 0 ? 0.0 : y * log(a); }

static const binary_def def_fmin = {"fmin", f_fmin, d_fmin_a, d_fmin_b};
static const binary_def def_fmax = {"fmax", f_fmax, d_fmax_a, d_fmax_b};
static const binary_def def_atan2 = {"atan2", atan2, d_atan2_a, d_atan2_b};
static const binary_def def_hypot = {"hypot", hypot, d_hypot_a, d_hypot_b};
static const binary_def def_fdim = {"fdim", fdim, d_fdim_a, d_fdim_b};
static const binary_def def_lbeta = {"lbeta", bayes_lbeta, d_lbeta_a, d_lbeta_b};
static const binary_def def_lchoose = {"lchoose", bayes_lchoose, d_lchoose_n, d_lchoose_k};
static const binary_def def_log_diff_exp = {"log_diff_exp", bayes_log_diff_exp, d_ldexp_a,
                                            d_ldexp_b};
static const binary_def def_pow = {"pow", pow, d_pow_a, d_pow_b};

/* Broadcast the first n args and emit `op` over them; the output is int iff is_int. */
static int emit_nary(bayes_fnctx *c, int n, const bayes_fnarg *args, int *out,
                     const bayes_op *op, const void *aux, long iarg0, bool is_int)
{
  int slots[3];
  bayes_shape s;
  if (bayes_fn_broadcast(c, n, args, slots, &s)) return -1;
  int i = bayes_fn_emit(c, op, n, slots, 1, &s, is_int);
  if (i < 0) return -1;
  c->prog->ins[i].aux = aux;
  c->prog->ins[i].iarg[0] = iarg0;
  *out = c->prog->ins[i].out[0];
  return 0;
}

static bool all_int(int n, const bayes_fnarg *args)
{
  for (int i = 0; i < n; i++)
    if (!args[i].is_int) return false;
  return true;
}

#define BINARY(NAME)                                                                  \
  static int emit_##NAME(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out) \
  {                                                                                   \
    return emit_nary(c, 2, args, out, &op_binary, &def_##NAME, 0, false);             \
  }                                                                                   \
  static const bayes_fn fn_##NAME = {#NAME, 2, 2, NULL, emit_##NAME};

BINARY(fmin)
BINARY(fmax)
BINARY(atan2)
BINARY(hypot)
BINARY(fdim)
BINARY(lbeta)
BINARY(lchoose)
BINARY(log_diff_exp)

/* ==== operators ==== */

static int emit_add(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return emit_nary(c, 2, args, out, &op_add, NULL, 0, all_int(2, args));
}
static int emit_sub(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return emit_nary(c, 2, args, out, &op_sub, NULL, 0, all_int(2, args));
}
static int emit_mul(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return emit_nary(c, 2, args, out, &op_mul, NULL, 0, all_int(2, args));
}
static int emit_div(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return emit_nary(c, 2, args, out, &op_div, NULL, 0, false);
}

/* x ^ c with a compile-time scalar c becomes a one-input op: no broadcast, no exponent
 * adjoint, and squares/roots without pow(). */
static int emit_pow(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  if (args[1].cval && args[1].n == 1 && args[1].shape->rank == 0) {
    double e = args[1].cval[0];
    bayes_shape s = *args[0].shape;
    int i = bayes_fn_emit(c, &op_powc, 1, &args[0].slot, 1, &s, false);
    if (i < 0) return -1;
    c->prog->ins[i].darg[0] = e;
    *out = c->prog->ins[i].out[0];
    return 0;
  }
  return emit_nary(c, 2, args, out, &op_binary, &def_pow, 0, false);
}

static int emit_neg(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  bayes_shape s = *args[0].shape;
  int i = bayes_fn_emit(c, &op_neg, 1, &args[0].slot, 1, &s, args[0].is_int);
  if (i < 0) return -1;
  *out = c->prog->ins[i].out[0];
  return 0;
}

/* Unary plus is the identity: the result is the operand's own slot, no instruction. */
static int emit_pos(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  *out = args[0].slot;
  return 0;
}

static int emit_not(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  bayes_shape s = *args[0].shape;
  int i = bayes_fn_emit(c, &op_not, 1, &args[0].slot, 1, &s, true);
  if (i < 0) return -1;
  *out = c->prog->ins[i].out[0];
  return 0;
}

#define COMPARE(NAME, KIND)                                                           \
  static int emit_##NAME(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out) \
  {                                                                                   \
    return emit_nary(c, 2, args, out, &op_cmp, NULL, KIND, true);                     \
  }                                                                                   \
  static const bayes_fn fn_##NAME = {"__" #NAME, 2, 2, NULL, emit_##NAME};

COMPARE(lt, CMP_LT)
COMPARE(le, CMP_LE)
COMPARE(gt, CMP_GT)
COMPARE(ge, CMP_GE)
COMPARE(eq, CMP_EQ)
COMPARE(ne, CMP_NE)
COMPARE(and, CMP_AND)
COMPARE(or, CMP_OR)

static int emit_cond(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  return emit_nary(c, 3, args, out, &op_cond, NULL, 0, args[1].is_int && args[2].is_int);
}

static const bayes_fn fn_add = {"__add", 2, 2, NULL, emit_add};
static const bayes_fn fn_sub = {"__sub", 2, 2, NULL, emit_sub};
static const bayes_fn fn_mul = {"__mul", 2, 2, NULL, emit_mul};
static const bayes_fn fn_div = {"__div", 2, 2, NULL, emit_div};
static const bayes_fn fn_opow = {"__pow", 2, 2, NULL, emit_pow};
static const bayes_fn fn_pow = {"pow", 2, 2, NULL, emit_pow};
static const bayes_fn fn_neg = {"__neg", 1, 1, NULL, emit_neg};
static const bayes_fn fn_pos = {"__pos", 1, 1, NULL, emit_pos};
static const bayes_fn fn_not = {"__not", 1, 1, NULL, emit_not};
static const bayes_fn fn_cond = {"__cond", 3, 3, NULL, emit_cond};

const bayes_fn *const bayes_fns_elementwise[] = {
    &fn_add, &fn_sub, &fn_mul, &fn_div, &fn_opow, &fn_neg, &fn_pos, &fn_not,
    &fn_lt, &fn_le, &fn_gt, &fn_ge, &fn_eq, &fn_ne, &fn_and, &fn_or, &fn_cond,
    &fn_exp, &fn_log, &fn_log1p, &fn_expm1, &fn_sqrt, &fn_square, &fn_abs, &fn_fabs,
    &fn_floor, &fn_ceil, &fn_round, &fn_trunc, &fn_sin, &fn_cos, &fn_tan, &fn_asin,
    &fn_acos, &fn_atan, &fn_sinh, &fn_cosh, &fn_tanh, &fn_asinh, &fn_acosh, &fn_atanh,
    &fn_inv_logit, &fn_logit, &fn_log_inv_logit, &fn_log1m_inv_logit, &fn_log1m,
    &fn_log1p_exp, &fn_log1m_exp, &fn_lgamma, &fn_digamma, &fn_trigamma, &fn_tgamma,
    &fn_erf, &fn_erfc, &fn_Phi, &fn_Phi_approx, &fn_inv, &fn_inv_sqrt, &fn_inv_square,
    &fn_cbrt, &fn_exp2, &fn_log2, &fn_log10, &fn_step, &fn_int_step,
    &fn_pow, &fn_fmin, &fn_fmax, &fn_atan2, &fn_hypot, &fn_fdim, &fn_lbeta, &fn_lchoose,
    &fn_log_diff_exp, NULL};
