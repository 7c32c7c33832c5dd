/* compile_gp.c — the gp_cov special form: gp_cov(x, kernel = K) and gp_cov(x1, x2,
 * kernel = K), where K is a kernel expression (kernel calls joined by + and *, or scaled
 * by a value). K is not a value: it becomes a tree (kernel.h) whose hyperparameters are
 * compiled as ordinary expressions, and the whole covariance is one instruction. */
#include <string.h>

#include "compile.h"
#include "kernel.h"

#define EERR(c, e, ...) bayes_cc_error((c), (e)->line, (e)->col, (e)->len, __VA_ARGS__)

typedef struct {
  int in[64];       /* input slots beyond x1, x2 */
  int nin;
} kin;

static bool is_kernel(const bayes_ast *e)
{
  if (e->kind == BAYES_AST_CALL) return bayes_kernel_find(e->name) != NULL;
  if (e->kind == BAYES_AST_BINOP && (e->op == '+' || e->op == '*'))
    return is_kernel(e->kids[0]) || is_kernel(e->kids[1]);
  return false;
}

static int add_input(bayes_cc *c, kin *k, int slot, const bayes_ast *at)
{
  if (k->nin >= (int)(sizeof k->in / sizeof *k->in)) {
    EERR(c, at, "gp_cov: too many kernel hyperparameters (at most 64)");
    return -1;
  }
  k->in[k->nin] = slot;
  return 2 + k->nin++;
}

static bayes_kexpr *build(bayes_cc *c, const bayes_ast *e, kin *k)
{
  bayes_kexpr *n = bayes_prog_aux(c->prog, sizeof *n);
  if (!n) return c->d->oom = 1, NULL;
  if (e->kind == BAYES_AST_CALL) {
    const bayes_kernel_type *t = bayes_kernel_find(e->name);
    if (!t) {
      EERR(c, e, "'%s' is not a kernel (kernels: rbf, matern12, matern32, matern52, "
           "rational_quadratic, periodic, linear, polynomial, white, constant)", e->name);
      return NULL;
    }
    n->kind = BAYES_K_LEAF;
    n->type = t;
    const bayes_ast *given[BAYES_KERNEL_MAX_HYPER] = {0};
    int npos = 0;
    for (int i = 0; i < e->nkids; i++) {
      const char *kw = e->kw ? e->kw[i] : NULL;
      int j = -1;
      if (!kw) {
        if (npos >= t->nhyper) {
          EERR(c, e->kids[i], "%s takes at most %d argument%s", t->name, t->nhyper,
               t->nhyper == 1 ? "" : "s");
          return NULL;
        }
        j = npos++;
      } else {
        for (int h = 0; h < t->nhyper; h++)
          if (strcmp(t->hyper_names[h], kw) == 0) j = h;
        if (j < 0) {
          const char *const *names = t->hyper_names;
          char list[128] = "";
          for (int h = 0; h < t->nhyper; h++) {
            strncat(list, h ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, names[h], sizeof list - strlen(list) - 1);
          }
          EERR(c, e->kids[i], "%s has no argument named '%s' (its arguments are %s)", t->name,
               kw, list);
          return NULL;
        }
      }
      if (given[j]) {
        EERR(c, e->kids[i], "argument '%s' of %s is given twice", t->hyper_names[j], t->name);
        return NULL;
      }
      given[j] = e->kids[i];
    }
    for (int h = 0; h < BAYES_KERNEL_MAX_HYPER; h++) n->hyper_in[h] = -1;
    for (int h = 0; h < t->nhyper; h++) {
      if (!given[h]) {
        if (t->defaults[h] != t->defaults[h]) { /* NaN: required */
          EERR(c, e, "%s needs its argument '%s'", t->name, t->hyper_names[h]);
          return NULL;
        }
        continue;
      }
      int s = bayes_cc_expr(c, given[h]);
      if (s < 0) return NULL;
      if ((n->hyper_in[h] = add_input(c, k, s, given[h])) < 0) return NULL;
    }
    return n;
  }
  if (e->kind == BAYES_AST_BINOP && (e->op == '+' || e->op == '*')) {
    bool ka = is_kernel(e->kids[0]), kb = is_kernel(e->kids[1]);
    if (ka && kb) {
      n->kind = e->op == '+' ? BAYES_K_SUM : BAYES_K_PROD;
      n->a = build(c, e->kids[0], k);
      n->b = n->a ? build(c, e->kids[1], k) : NULL;
      return n->b ? n : NULL;
    }
    if (e->op == '*') {
      /* a value times a kernel: scaling */
      const bayes_ast *val = ka ? e->kids[1] : e->kids[0], *ker = ka ? e->kids[0] : e->kids[1];
      int s = bayes_cc_expr(c, val);
      if (s < 0) return NULL;
      if (bayes_cc_slot(c, s)->n != 1) {
        EERR(c, val, "a kernel can only be scaled by a single value");
        return NULL;
      }
      n->kind = BAYES_K_SCALE;
      if ((n->scale_in = add_input(c, k, s, val)) < 0) return NULL;
      n->a = build(c, ker, k);
      return n->a ? n : NULL;
    }
    EERR(c, e, "a kernel can only be added to another kernel (for a constant, use "
         "constant(alpha))");
    return NULL;
  }
  EERR(c, e, "expected a kernel such as rbf(ell, alpha), or a sum or product of kernels");
  return NULL;
}

int bayes_cc_gp_cov(bayes_cc *c, const bayes_ast *e)
{
  const bayes_ast *xs[2] = {NULL, NULL}, *kexpr = NULL;
  int nx = 0;
  for (int i = 0; i < e->nkids; i++) {
    const char *kw = e->kw ? e->kw[i] : NULL;
    if (kw && strcmp(kw, "kernel") != 0) {
      EERR(c, e->kids[i], "gp_cov has no argument named '%s' (use gp_cov(x, kernel = ...))", kw);
      return -1;
    }
    if (kw || (!kexpr && is_kernel(e->kids[i]))) {
      if (kexpr) {
        EERR(c, e->kids[i], "gp_cov takes one kernel");
        return -1;
      }
      kexpr = e->kids[i];
      continue;
    }
    if (nx == 2) {
      EERR(c, e->kids[i], "gp_cov takes one or two sets of inputs and a kernel");
      return -1;
    }
    xs[nx++] = e->kids[i];
  }
  if (nx == 0 || !kexpr) {
    EERR(c, e, "gp_cov needs inputs and a kernel: gp_cov(x, kernel = rbf(ell, alpha))");
    return -1;
  }
  int x1 = bayes_cc_expr(c, xs[0]);
  int x2 = nx == 2 ? bayes_cc_expr(c, xs[1]) : x1;
  if (x1 < 0 || x2 < 0) return -1;
  bayes_shape s1 = bayes_cc_slot(c, x1)->shape, s2 = bayes_cc_slot(c, x2)->shape;
  for (int i = 0; i < nx; i++) {
    const bayes_shape *s = i ? &s2 : &s1;
    if (s->rank < 1 || s->rank > 2) {
      char b[64];
      EERR(c, xs[i], "gp_cov: inputs must be a vector (one-dimensional points) or a matrix "
           "with one row per point, got shape %s", bayes_shape_str(s, b, sizeof b));
      return -1;
    }
  }
  size_t d1 = s1.rank == 2 ? s1.dim[1] : 1, d2 = s2.rank == 2 ? s2.dim[1] : 1;
  if (d1 != d2) {
    EERR(c, e, "gp_cov: the two sets of inputs have %zu and %zu dimensions", d1, d2);
    return -1;
  }
  kin k;
  memset(&k, 0, sizeof k);
  bayes_kexpr *tree = build(c, kexpr, &k);
  if (!tree) return -1;
  int in[66];
  in[0] = x1;
  in[1] = x2;
  for (int i = 0; i < k.nin; i++) in[2 + i] = k.in[i];
  int nin = 2 + k.nin;
  const bayes_shape *shp[66];
  const double *cv[66];
  bayes_shape copies[66];
  for (int i = 0; i < nin; i++) {
    copies[i] = bayes_cc_slot(c, in[i])->shape;
    shp[i] = &copies[i];
    cv[i] = bayes_cc_is_const(c, in[i]) ? c->prog->consts + bayes_cc_slot(c, in[i])->off : NULL;
  }
  char err[256] = "";
  if (bayes_kexpr_check(tree, shp, nin, d1, err, sizeof err) != 0 ||
      bayes_kexpr_check_const(tree, cv, nin, err, sizeof err) != 0) {
    EERR(c, kexpr, "gp_cov: %s", err);
    return -1;
  }
  size_t n1 = s1.dim[0], n2 = s2.dim[0];
  bayes_shape out = bayes_shape_mat(n1, n2);
  int first = c->prog->nins;
  int i = bayes_prog_add(c->prog, &bayes_op_gp_cov, nin, in, 1, &out, false);
  if (i < 0) return c->d->oom = 1, -1;
  bayes_instr *ins = &c->prog->ins[i];
  ins->aux = tree;
  ins->iarg[0] = nx == 1;
  ins->work = bayes_gp_cov_work(tree, n1, n2, d1, k.nin);
  ins->line = e->line;
  ins->col = e->col;
  int o = ins->out[0];
  if (bayes_cc_emit_done(c, first)) return -1;
  return o;
}
