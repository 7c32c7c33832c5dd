/* compile_lift.c — vectorised comprehensions. When the body of [body for i in a:b] is
 * elementwise in i (arithmetic, elementwise functions, conditionals, and indexing in which
 * i appears in at most one position), the loop variable is bound to the whole index vector
 * a..b and the body is compiled once: the result is a handful of vector instructions
 * instead of one copy of the body per iteration. Anything else is unrolled by the caller.
 * Nothing here changes what a comprehension means, only how it is evaluated. */
#include <string.h>

#include "compile.h"

typedef enum { LIFT_NO, LIFT_CONST, LIFT_VAR } lift_kind;

static bool mentions(const bayes_ast *e, const char *var)
{
  if (!e) return false;
  if (e->kind == BAYES_AST_NAME && strcmp(e->name, var) == 0) return true;
  /* an inner comprehension or lambda that rebinds the name hides it */
  if (e->kind == BAYES_AST_COMPR && strcmp(e->name, var) == 0) return mentions(e->kids[1], var);
  if (e->kind == BAYES_AST_LAMBDA)
    for (int i = 0; i < e->nparams; i++)
      if (strcmp(e->params[i], var) == 0) return false;
  for (int i = 0; i < e->nkids; i++)
    if (mentions(e->kids[i], var)) return true;
  return false;
}

static bool is_elementwise_fn(const char *name)
{
  const bayes_fn *f = bayes_fn_find(name);
  if (!f) return false;
  for (const bayes_fn *const *p = bayes_fns_elementwise; *p; p++)
    if (*p == f) return true;
  return false;
}

/* Is e, evaluated with var bound to one index, a scalar computed elementwise? Compiles the
 * parts that do not mention var (to learn their shapes); those compilations are reused or
 * left unreachable. */
static lift_kind analyse(bayes_cc *c, const bayes_ast *e, const char *var)
{
  if (!mentions(e, var)) {
    if (e->kind == BAYES_AST_NUM) return LIFT_CONST;
    if (e->kind == BAYES_AST_LAMBDA || e->kind == BAYES_AST_RANGE || e->kind == BAYES_AST_ALL)
      return LIFT_NO;
    /* must be a scalar: compile it quietly is not possible (errors would be reported), so
     * only names and simple constant forms are accepted here */
    if (e->kind == BAYES_AST_NAME) {
      for (int i = c->nlocals - 1; i >= 0; i--)
        if (strcmp(c->locals[i].name, e->name) == 0)
          return bayes_cc_slot(c, c->locals[i].slot)->n == 1 ? LIFT_CONST : LIFT_NO;
      bayes_decl *x = bayes_mdef_find(c->m, e->name);
      if (!x || x->kind == BAYES_DECL_GENERATED) return LIFT_NO;
      int s = bayes_cc_decl(c, x, e);
      return s >= 0 && bayes_cc_slot(c, s)->n == 1 ? LIFT_CONST : LIFT_NO;
    }
    if (e->kind == BAYES_AST_UNOP || e->kind == BAYES_AST_BINOP || e->kind == BAYES_AST_COND ||
        e->kind == BAYES_AST_INDEX || e->kind == BAYES_AST_CALL)
      goto structural;
    return LIFT_NO;
  }
structural:
  switch (e->kind) {
  case BAYES_AST_NAME:
    return strcmp(e->name, var) == 0 ? LIFT_VAR : LIFT_NO;
  case BAYES_AST_UNOP:
  case BAYES_AST_BINOP:
  case BAYES_AST_COND: {
    if (e->kind == BAYES_AST_BINOP && e->op == '@') return LIFT_NO;
    lift_kind r = LIFT_CONST;
    for (int i = 0; i < e->nkids; i++) {
      lift_kind k = analyse(c, e->kids[i], var);
      if (k == LIFT_NO) return LIFT_NO;
      if (k == LIFT_VAR) r = LIFT_VAR;
    }
    return r;
  }
  case BAYES_AST_CALL: {
    if (!is_elementwise_fn(e->name)) return LIFT_NO;
    if (e->kw)
      for (int i = 0; i < e->nkids; i++)
        if (e->kw[i]) return LIFT_NO;
    lift_kind r = LIFT_CONST;
    for (int i = 0; i < e->nkids; i++) {
      lift_kind k = analyse(c, e->kids[i], var);
      if (k == LIFT_NO) return LIFT_NO;
      if (k == LIFT_VAR) r = LIFT_VAR;
    }
    return r;
  }
  case BAYES_AST_INDEX: {
    const bayes_ast *base = e->kids[0];
    if (mentions(base, var) || base->kind != BAYES_AST_NAME) return LIFT_NO;
    bayes_decl *x = bayes_mdef_find(c->m, base->name);
    int bs = -1;
    for (int i = c->nlocals - 1; i >= 0 && bs < 0; i--)
      if (strcmp(c->locals[i].name, base->name) == 0) bs = c->locals[i].slot;
    if (bs < 0) {
      if (!x || x->kind == BAYES_DECL_GENERATED) return LIFT_NO;
      bs = bayes_cc_decl(c, x, base);
    }
    if (bs < 0) return LIFT_NO;
    /* every dimension indexed by one scalar: the element is a scalar */
    if (e->nkids - 1 != bayes_cc_slot(c, bs)->shape.rank) return LIFT_NO;
    int nvar = 0;
    for (int i = 1; i < e->nkids; i++) {
      const bayes_ast *ix = e->kids[i];
      if (ix->kind == BAYES_AST_RANGE || ix->kind == BAYES_AST_ALL) return LIFT_NO;
      lift_kind k = analyse(c, ix, var);
      if (k == LIFT_NO) return LIFT_NO;
      if (k == LIFT_VAR) nvar++;
    }
    /* i in two positions would select a block, not a diagonal */
    return nvar > 1 ? LIFT_NO : nvar ? LIFT_VAR : LIFT_CONST;
  }
  default:
    return LIFT_NO;
  }
}

int bayes_cc_compr_lift(bayes_cc *c, const bayes_ast *e, long lo, long n)
{
  if (n < 2) return -2;
  int saved_errors = c->d->nerr;
  lift_kind k = analyse(c, e->kids[0], e->name);
  if (c->d->nerr != saved_errors) return -1;
  if (k != LIFT_VAR) return -2;
  bayes_shape s = bayes_shape_vec((size_t)n);
  double *v = bayes_calloc((size_t)n, sizeof *v);
  if (!v) return c->d->oom = 1, -1;
  for (long t = 0; t < n; t++) v[t] = (double)(lo + t);
  int iv = bayes_prog_const(c->prog, &s, BAYES_SLOT_INT, v);
  bayes_free(v);
  if (iv < 0) return c->d->oom = 1, -1;
  if (c->nlocals >= BAYES_MAX_LOCALS) return -2;
  c->locals[c->nlocals].name = e->name;
  c->locals[c->nlocals].slot = iv;
  c->nlocals++;
  int r = bayes_cc_expr(c, e->kids[0]);
  c->nlocals--;
  if (r < 0) return -1;
  const bayes_slot *rs = bayes_cc_slot(c, r);
  if (rs->n != (size_t)n || rs->shape.rank != 1) {
    bayes_cc_error(c, e->line, e->col, e->len,
                   "internal error: vectorised comprehension has the wrong shape (please report)");
    return -1;
  }
  return r;
}
