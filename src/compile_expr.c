/* compile_expr.c — expressions and distribution terms to instructions. Names resolve to
 * locals (lambda and comprehension variables) or declarations (compiled on demand, so
 * order in the file does not matter and cycles are found). Every instruction whose inputs
 * are all constant is executed at once and replaced by its value (constant folding), so
 * that nothing that depends on data alone is computed during inference. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compile.h"
#include "ops.h"
#include "special.h"

void bayes_cc_error(bayes_cc *c, int line, int col, int len, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  bayes_diag_vadd(c->d, BAYES_DIAG_ERROR, &c->m->src, line, col, len > 0 ? len : 1, fmt, ap);
  va_end(ap);
}

#define EERR(c, e, ...) bayes_cc_error((c), (e)->line, (e)->col, (e)->len, __VA_ARGS__)

void bayes_cc_fnerr(void *ud, int line, int col, const char *msg)
{
  bayes_cc *c = ud;
  /* an error placed at the start of the call underlines the whole call */
  const bayes_ast *e = c->cur_call;
  int len = e && e->line == line && e->col == col ? e->len : 1;
  bayes_cc_error(c, line, col, len, "%s", msg);
}

static bool is_rng_op(const bayes_op *op)
{
  return op == &bayes_op_dist_rng || op == &bayes_op_dist_mv_rng;
}

static int fold_one(bayes_cc *c, int i)
{
  bayes_prog *p = c->prog;
  bayes_instr *ins = &p->ins[i];
  size_t need = 0;
  for (int k = 0; k < ins->nout; k++) need += p->slots[ins->out[k]].n;
  if (bayes_grow(&p->consts, &p->consts_cap, p->nconsts + need, sizeof *p->consts)) return -1;
  for (int k = 0; k < ins->nout; k++) {
    bayes_slot *s = &p->slots[ins->out[k]];
    s->flags = (s->flags & ~(unsigned)BAYES_SLOT_ADJ) | BAYES_SLOT_CONST;
    s->off = p->nconsts;
    memset(p->consts + s->off, 0, s->n * sizeof(double));
    p->nconsts += s->n;
  }
  int nio = ins->nin + ins->nout;
  double **ptrs = bayes_calloc((size_t)nio * 2 + 1, sizeof *ptrs);
  const bayes_shape **shp = bayes_calloc((size_t)nio + 1, sizeof *shp);
  size_t *ns = bayes_calloc((size_t)nio + 1, sizeof *ns);
  double *work = bayes_calloc(ins->work + 1, sizeof *work);
  int rc = -1;
  if (!ptrs || !shp || !ns || !work) goto done;
  bayes_bound b;
  memset(&b, 0, sizeof b);
  b.ins = ins;
  b.ex = &c->fold;
  b.nin = ins->nin;
  b.nout = ins->nout;
  b.x = ptrs;
  b.gx = ptrs + ins->nin;       /* all NULL */
  b.y = ptrs + 2 * ins->nin;
  b.gy = ptrs + 2 * ins->nin + ins->nout;
  b.xs = shp;
  b.ys = shp + ins->nin;
  b.xn = ns;
  b.yn = ns + ins->nin;
  b.work = work;
  for (int k = 0; k < ins->nin; k++) {
    b.x[k] = p->consts + p->slots[ins->in[k]].off;
    shp[k] = &p->slots[ins->in[k]].shape;
    ns[k] = p->slots[ins->in[k]].n;
  }
  for (int k = 0; k < ins->nout; k++) {
    b.y[k] = p->consts + p->slots[ins->out[k]].off;
    shp[ins->nin + k] = &p->slots[ins->out[k]].shape;
    ns[ins->nin + k] = p->slots[ins->out[k]].n;
  }
  c->fold.failed = 0;
  c->fold.grad = false;
  c->fold.prog = p;
  ins->op->fwd(&b);
  if (c->fold.failed)
    bayes_cc_error(c, ins->line, ins->col, 1, "%s", c->fold.fail_msg);
  c->mod->dead[i] = 1;
  rc = c->fold.failed ? -2 : 0;
done:
  bayes_free(ptrs);
  bayes_free(shp);
  bayes_free(ns);
  bayes_free(work);
  return rc;
}

int bayes_cc_emit_done(bayes_cc *c, int first)
{
  bayes_prog *p = c->prog;
  if (bayes_grow(&c->mod->dead, &c->dead_cap, (size_t)p->nins + 1, 1)) {
    c->d->oom = 1;
    return -1;
  }
  if (p->nins > BAYES_MAX_INSTRS) {
    bayes_cc_error(c, 0, 0, 1, "the model is too large (more than %d operations)",
                   BAYES_MAX_INSTRS);
    return -1;
  }
  for (int i = first; i < p->nins; i++) {
    c->mod->dead[i] = 0;
    const bayes_instr *ins = &p->ins[i];
    if (is_rng_op(ins->op)) continue;
    bool all = true;
    for (int k = 0; k < ins->nin && all; k++) all = bayes_cc_is_const(c, ins->in[k]);
    if (!all) continue;
    int rc = fold_one(c, i);
    if (rc == -1) {
      c->d->oom = 1;
      return -1;
    }
    if (rc == -2) return -1;
  }
  return 0;
}

bayes_fnarg bayes_cc_fnarg(bayes_cc *c, int slot, const bayes_ast *at)
{
  bayes_fnarg a;
  const bayes_slot *s = bayes_cc_slot(c, slot);
  a.slot = slot;
  a.shape = &s->shape;
  a.n = s->n;
  a.is_int = (s->flags & BAYES_SLOT_INT) != 0;
  a.cval = (s->flags & BAYES_SLOT_CONST) ? c->prog->consts + s->off : NULL;
  a.line = at ? at->line : 0;
  a.col = at ? at->col : 0;
  return a;
}

/* bayes_fnarg.shape points into the slot array, which moves when slots are added: take
 * copies of the shapes before emitting. */
typedef struct {
  bayes_fnarg a[16];
  bayes_shape s[16];
} argpack;

static void pack(bayes_cc *c, argpack *ap, int n, const int *slots, const bayes_ast *const *at)
{
  for (int i = 0; i < n; i++) {
    ap->a[i] = bayes_cc_fnarg(c, slots[i], at ? at[i] : NULL);
    ap->s[i] = *ap->a[i].shape;
    ap->a[i].shape = &ap->s[i];
  }
}

/* Calls a registered function on compiled argument slots. */
static int call_fn(bayes_cc *c, const bayes_fn *fn, int n, const int *slots,
                   const bayes_ast *const *at, const bayes_ast *call)
{
  if (n > 16) {
    EERR(c, call, "%s: too many arguments", fn->name);
    return -1;
  }
  argpack ap;
  pack(c, &ap, n, slots, at);
  /* constant values may move too when the pool grows: copy them out */
  double *cv[16] = {0};
  for (int i = 0; i < n; i++)
    if (ap.a[i].cval) {
      cv[i] = bayes_prog_aux(c->prog, ap.a[i].n * sizeof(double) + 8);
      if (!cv[i]) {
        c->d->oom = 1;
        return -1;
      }
      memcpy(cv[i], ap.a[i].cval, ap.a[i].n * sizeof(double));
      ap.a[i].cval = cv[i];
    }
  bayes_fnctx fx;
  memset(&fx, 0, sizeof fx);
  fx.prog = c->prog;
  fx.line = call->line;
  fx.col = call->col;
  fx.fname = fn->name;
  fx.error = bayes_cc_fnerr;
  fx.ud = c;
  int first = c->prog->nins, out = -1;
  const bayes_ast *saved = c->cur_call;
  c->cur_call = call;
  int rc = fn->emit(&fx, n, ap.a, &out);
  c->cur_call = saved;
  if (rc != 0 || fx.nerr) return -1;
  if (bayes_cc_emit_done(c, first) != 0) return -1;
  return out;
}

static int call_named(bayes_cc *c, const char *name, int n, const int *slots,
                      const bayes_ast *const *at, const bayes_ast *call)
{
  const bayes_fn *fn = bayes_fn_find(name);
  if (!fn) {
    EERR(c, call, "internal error: operator %s is not registered (please report)", name);
    return -1;
  }
  return call_fn(c, fn, n, slots, at, call);
}

int bayes_cc_const_int(bayes_cc *c, const bayes_ast *e, const char *what, long *out)
{
  int s = bayes_cc_expr(c, e);
  if (s < 0) return -1;
  const bayes_slot *sl = bayes_cc_slot(c, s);
  if (!(sl->flags & BAYES_SLOT_CONST)) {
    EERR(c, e, "%s must be known before sampling (data or a constant), but it depends on a "
         "parameter", what);
    return -1;
  }
  if (sl->n != 1) {
    char b[64];
    EERR(c, e, "%s must be a single integer, got shape %s", what,
         bayes_shape_str(&sl->shape, b, sizeof b));
    return -1;
  }
  double v = c->prog->consts[sl->off];
  if (!(sl->flags & BAYES_SLOT_INT) && v != floor(v)) {
    EERR(c, e, "%s must be an integer, got %g", what, v);
    return -1;
  }
  if (!isfinite(v) || fabs(v) > 1e15) {
    EERR(c, e, "%s is too large", what);
    return -1;
  }
  *out = (long)v;
  return 0;
}

static int const_scalar(bayes_cc *c, double v, bool is_int)
{
  bayes_shape s = bayes_shape_scalar();
  int id = bayes_prog_const(c->prog, &s, is_int ? BAYES_SLOT_INT : 0, &v);
  if (id < 0) c->d->oom = 1;
  return id;
}

static const char *const *dist_names(void)
{
  static const char *names[128];
  static int built;
  if (!built) {
    int n = 0;
    for (const bayes_dist *const *d = bayes_dists; *d && n < 120; d++) {
      names[n++] = (*d)->name;
      if ((*d)->alias) names[n++] = (*d)->alias;
    }
    names[n++] = "mixture";
    names[n++] = "truncated";
    names[n] = NULL;
    built = 1;
  }
  return names;
}

/* "NAME: message", unless the message already starts with the distribution's name */
static void dist_error(bayes_cc *c, const bayes_ast *at, const bayes_dist *d, const char *err)
{
  size_t n = strlen(d->name);
  if (strncmp(err, d->name, n) == 0 && (err[n] == ' ' || err[n] == ':'))
    bayes_cc_error(c, at->line, at->col, at->len, "%s", err);
  else
    bayes_cc_error(c, at->line, at->col, at->len, "%s: %s", d->name, err);
}

/* ---- names ---- */

static int compile_name(bayes_cc *c, const bayes_ast *e)
{
  for (int i = c->nlocals - 1; i >= 0; i--)
    if (strcmp(c->locals[i].name, e->name) == 0) return c->locals[i].slot;
  bayes_decl *x = bayes_mdef_find(c->m, e->name);
  if (x) return bayes_cc_decl(c, x, e);
  if (bayes_dist_find(e->name)) {
    EERR(c, e, "'%s' is a distribution, not a value; call %s_lpdf(...) for its log density "
         "or %s_rng(...) for a draw", e->name, e->name, e->name);
    return -1;
  }
  if (bayes_fn_find(e->name)) {
    EERR(c, e, "'%s' is a function; call it with arguments: %s(...)", e->name, e->name);
    return -1;
  }
  const char *cands[1024];
  int n = 0;
  for (int i = 0; i < c->nlocals && n < 1000; i++) cands[n++] = c->locals[i].name;
  for (size_t i = 0; i < c->m->ndecls && n < 1000; i++) cands[n++] = c->m->decls[i]->name;
  cands[n] = NULL;
  const char *s = bayes_suggest(e->name, cands);
  if (s)
    EERR(c, e, "unknown name '%s'; did you mean '%s'?", e->name, s);
  else
    EERR(c, e, "unknown name '%s' (not data, a parameter or a transformed quantity)", e->name);
  return -1;
}

/* ---- indexing: every index is known at compile time, so x[...] is one gather ---- */

typedef struct {
  int kind;        /* 0 scalar (drops the dimension), 1 list */
  size_t n;
  size_t *idx;     /* 0-based */
} dimsel;

static int compile_index(bayes_cc *c, const bayes_ast *e)
{
  const bayes_ast *base = e->kids[0];
  if (base->kind == BAYES_AST_CALL && (bayes_dist_find(base->name) ||
                                       strcmp(base->name, "mixture") == 0 ||
                                       strcmp(base->name, "truncated") == 0)) {
    EERR(c, e, "a shape in brackets after a distribution is only allowed for a parameter's "
         "prior or a generated draw");
    return -1;
  }
  int bs = bayes_cc_expr(c, base);
  if (bs < 0) return -1;
  bayes_shape sh = bayes_cc_slot(c, bs)->shape;
  int nidx = e->nkids - 1;
  if (nidx > sh.rank) {
    char b[64];
    EERR(c, e, "too many indices: %d given, but the value has shape %s", nidx,
         bayes_shape_str(&sh, b, sizeof b));
    return -1;
  }
  dimsel sel[BAYES_MAX_RANK];
  bayes_shape out = bayes_shape_scalar();
  for (int j = 0; j < sh.rank; j++) {
    const bayes_ast *ix = j < nidx ? e->kids[j + 1] : NULL;
    size_t dj = sh.dim[j];
    if (!ix || ix->kind == BAYES_AST_ALL) {
      sel[j].kind = 1;
      sel[j].n = dj;
      sel[j].idx = NULL; /* identity */
    } else if (ix->kind == BAYES_AST_RANGE) {
      long lo = 1, hi = (long)dj;
      if (ix->kids[0] && bayes_cc_const_int(c, ix->kids[0], "a slice bound", &lo)) return -1;
      if (ix->kids[1] && bayes_cc_const_int(c, ix->kids[1], "a slice bound", &hi)) return -1;
      if (hi < lo - 1 || lo < 1 || (hi >= lo && (size_t)hi > dj)) {
        EERR(c, ix, "slice %ld:%ld is out of range for dimension %d, which has %zu elements",
             lo, hi, j + 1, dj);
        return -1;
      }
      sel[j].kind = 1;
      sel[j].n = (size_t)(hi - lo + 1);
      sel[j].idx = bayes_prog_aux(c->prog, (sel[j].n + 1) * sizeof(size_t));
      if (!sel[j].idx) return c->d->oom = 1, -1;
      for (size_t t = 0; t < sel[j].n; t++) sel[j].idx[t] = (size_t)lo - 1 + t;
    } else {
      int is = bayes_cc_expr(c, ix);
      if (is < 0) return -1;
      const bayes_slot *s = bayes_cc_slot(c, is);
      if (!(s->flags & BAYES_SLOT_CONST)) {
        EERR(c, ix, "an index must be known before sampling (data or a constant), but this "
             "one depends on a parameter");
        return -1;
      }
      if (!(s->flags & BAYES_SLOT_INT)) {
        if (ix->kind == BAYES_AST_NUM)
          EERR(c, ix, "an index must be a whole number, got %g", ix->num);
        else if (ix->kind == BAYES_AST_NAME && bayes_mdef_find(c->m, ix->name) &&
                 bayes_mdef_find(c->m, ix->name)->kind == BAYES_DECL_DATA)
          EERR(c, ix, "an index must be an integer, but '%s' is real-valued (write its values "
               "without a decimal point, or declare it as int)", ix->name);
        else
          EERR(c, ix, "an index must be an integer, but this value is real-valued");
        return -1;
      }
      if (s->shape.rank > 1) {
        EERR(c, ix, "an index array must be a vector of integers");
        return -1;
      }
      const double *v = c->prog->consts + s->off;
      sel[j].kind = s->shape.rank == 0 ? 0 : 1;
      sel[j].n = s->n;
      sel[j].idx = bayes_prog_aux(c->prog, (s->n + 1) * sizeof(size_t));
      if (!sel[j].idx) return c->d->oom = 1, -1;
      for (size_t t = 0; t < s->n; t++) {
        if (v[t] < 1 || v[t] > (double)dj) {
          /* "'theta' has 3 elements", "dimension 2 of 'X' has 3 elements" */
          char what[160];
          const char *bn = base->kind == BAYES_AST_NAME ? base->name : NULL;
          if (sh.rank == 1 && bn)
            snprintf(what, sizeof what, "'%s' has %zu element%s", bn, dj, dj == 1 ? "" : "s");
          else if (bn)
            snprintf(what, sizeof what, "dimension %d of '%s' has %zu element%s", j + 1, bn, dj,
                     dj == 1 ? "" : "s");
          else
            snprintf(what, sizeof what, "dimension %d has %zu element%s", j + 1, dj,
                     dj == 1 ? "" : "s");
          if (s->n == 1)
            EERR(c, ix, "index %g is out of range: %s (indices start at 1)", v[t], what);
          else if (ix->kind == BAYES_AST_NAME)
            EERR(c, ix, "%s[%zu] = %g is out of range as an index: %s", ix->name, t + 1, v[t],
                 what);
          else
            EERR(c, ix, "index %g (element %zu of the index) is out of range: %s", v[t], t + 1,
                 what);
          return -1;
        }
        sel[j].idx[t] = (size_t)v[t] - 1;
      }
    }
    if (sel[j].kind == 1) out.dim[out.rank++] = sel[j].n;
  }
  /* identity selection: the value itself */
  bool ident = true;
  for (int j = 0; j < sh.rank; j++)
    if (sel[j].kind != 1 || sel[j].idx) ident = false;
  if (ident) return bs;
  size_t n = bayes_shape_size(&out);
  size_t *map = bayes_prog_aux(c->prog, (n + 1) * sizeof(size_t));
  if (!map) return c->d->oom = 1, -1;
  size_t stride[BAYES_MAX_RANK], pos[BAYES_MAX_RANK] = {0};
  for (int j = sh.rank - 1; j >= 0; j--)
    stride[j] = j == sh.rank - 1 ? 1 : stride[j + 1] * sh.dim[j + 1];
  for (size_t t = 0; t < n; t++) {
    size_t f = 0;
    for (int j = 0; j < sh.rank; j++) {
      size_t p = sel[j].kind == 0 ? 0 : pos[j];
      f += (sel[j].idx ? sel[j].idx[p] : p) * stride[j];
    }
    map[t] = f;
    for (int j = sh.rank - 1; j >= 0; j--) {
      if (sel[j].kind == 0) continue;
      if (++pos[j] < sel[j].n) break;
      pos[j] = 0;
    }
  }
  int first = c->prog->nins;
  bool is_int = (bayes_cc_slot(c, bs)->flags & BAYES_SLOT_INT) != 0;
  int i = bayes_prog_add(c->prog, &bayes_op_gather, 1, &bs, 1, &out, is_int);
  if (i < 0) return c->d->oom = 1, -1;
  c->prog->ins[i].aux = map;
  c->prog->ins[i].line = e->line;
  c->prog->ins[i].col = e->col;
  int o = c->prog->ins[i].out[0];
  if (bayes_cc_emit_done(c, first)) return -1;
  return o;
}

/* ---- stacking: vector literals, comprehensions, recur ---- */

static int stack_slots(bayes_cc *c, int n, const int *slots, const bayes_ast *e)
{
  bayes_shape el = n ? bayes_cc_slot(c, slots[0])->shape : bayes_shape_scalar();
  bool is_int = true;
  for (int i = 0; i < n; i++) {
    const bayes_slot *s = bayes_cc_slot(c, slots[i]);
    if (!bayes_shape_eq(&s->shape, &el)) {
      char b1[64], b2[64];
      EERR(c, e, "elements must all have the same shape: element 1 has shape %s, element %d "
           "has shape %s", bayes_shape_str(&el, b1, sizeof b1), i + 1,
           bayes_shape_str(&s->shape, b2, sizeof b2));
      return -1;
    }
    if (!(s->flags & BAYES_SLOT_INT)) is_int = false;
  }
  if (el.rank >= BAYES_MAX_RANK) {
    EERR(c, e, "arrays of more than %d dimensions are not supported", BAYES_MAX_RANK);
    return -1;
  }
  bayes_shape out = bayes_shape_scalar();
  out.rank = el.rank + 1;
  out.dim[0] = (size_t)n;
  for (int j = 0; j < el.rank; j++) out.dim[j + 1] = el.dim[j];
  if (n == 0) {
    int id = bayes_prog_const(c->prog, &out, 0, NULL);
    if (id < 0) c->d->oom = 1;
    return id;
  }
  int first = c->prog->nins;
  int i = bayes_prog_add(c->prog, &bayes_op_stack, n, slots, 1, &out, is_int);
  if (i < 0) return c->d->oom = 1, -1;
  c->prog->ins[i].line = e->line;
  c->prog->ins[i].col = e->col;
  int o = c->prog->ins[i].out[0];
  if (bayes_cc_emit_done(c, first)) return -1;
  return o;
}

static int push_local(bayes_cc *c, const char *name, int slot, const bayes_ast *at)
{
  if (c->nlocals >= BAYES_MAX_LOCALS) {
    EERR(c, at, "too many nested local names (at most %d)", BAYES_MAX_LOCALS);
    return -1;
  }
  c->locals[c->nlocals].name = name;
  c->locals[c->nlocals].slot = slot;
  c->nlocals++;
  return 0;
}

static int compile_vec(bayes_cc *c, const bayes_ast *e)
{
  int *slots = bayes_calloc((size_t)e->nkids + 1, sizeof *slots);
  if (!slots) return c->d->oom = 1, -1;
  int rc = 0;
  for (int i = 0; i < e->nkids; i++) {
    slots[i] = bayes_cc_expr(c, e->kids[i]);
    if (slots[i] < 0) rc = -1;
  }
  if (rc == 0) rc = stack_slots(c, e->nkids, slots, e);
  bayes_free(slots);
  return rc;
}

static int compile_compr(bayes_cc *c, const bayes_ast *e)
{
  const bayes_ast *r = e->kids[1];
  if (r->kind != BAYES_AST_RANGE || !r->kids[0] || !r->kids[1]) {
    EERR(c, r, "a comprehension needs a range such as 1:N after 'in'");
    return -1;
  }
  long lo, hi;
  if (bayes_cc_const_int(c, r->kids[0], "the start of the range", &lo) ||
      bayes_cc_const_int(c, r->kids[1], "the end of the range", &hi))
    return -1;
  if (hi < lo - 1) {
    EERR(c, r, "the range %ld:%ld is empty backwards (end before start)", lo, hi);
    return -1;
  }
  long n = hi - lo + 1;
  if (n > BAYES_MAX_UNROLL) {
    EERR(c, r, "the range has %ld elements; at most %d are supported", n, BAYES_MAX_UNROLL);
    return -1;
  }
  int lifted = bayes_cc_compr_lift(c, e, lo, n);
  if (lifted != -2) return lifted;
  int *slots = bayes_calloc((size_t)n + 1, sizeof *slots);
  if (!slots) return c->d->oom = 1, -1;
  int rc = 0;
  for (long t = 0; t < n && rc == 0; t++) {
    int iv = const_scalar(c, (double)(lo + t), true);
    if (iv < 0 || push_local(c, e->name, iv, e) != 0) {
      rc = -1;
      break;
    }
    slots[t] = bayes_cc_expr(c, e->kids[0]);
    c->nlocals--;
    if (slots[t] < 0) rc = -1;
  }
  if (rc == 0) rc = stack_slots(c, (int)n, slots, e);
  bayes_free(slots);
  return rc;
}

static int compile_recur(bayes_cc *c, const bayes_ast *e)
{
  if (e->nkids == 3 && e->kids[2]->kind == BAYES_AST_LAMBDA && e->kids[2]->nparams != 2) {
    EERR(c, e->kids[2], "recur's function must take two arguments, (prev, t) -> ..., but this "
         "one takes %d", e->kids[2]->nparams);
    return -1;
  }
  if (e->nkids != 3 || e->kids[2]->kind != BAYES_AST_LAMBDA) {
    EERR(c, e, "recur takes (first, n, (prev, t) -> expression)");
    return -1;
  }
  const bayes_ast *lam = e->kids[2];
  int first = bayes_cc_expr(c, e->kids[0]);
  long n;
  if (first < 0 || bayes_cc_const_int(c, e->kids[1], "the length of recur", &n)) return -1;
  if (n < 1 || n > BAYES_MAX_UNROLL) {
    EERR(c, e->kids[1], "the length of recur must be between 1 and %d, got %ld",
         BAYES_MAX_UNROLL, n);
    return -1;
  }
  int *slots = bayes_calloc((size_t)n + 1, sizeof *slots);
  if (!slots) return c->d->oom = 1, -1;
  slots[0] = first;
  bayes_shape fs = bayes_cc_slot(c, first)->shape;
  int rc = 0;
  for (long t = 2; t <= n && rc == 0; t++) {
    int tv = const_scalar(c, (double)t, true);
    if (tv < 0 || push_local(c, lam->params[0], slots[t - 2], lam) ||
        push_local(c, lam->params[1], tv, lam)) {
      rc = -1;
      break;
    }
    int s = bayes_cc_expr(c, lam->kids[0]);
    c->nlocals -= 2;
    if (s < 0) {
      rc = -1;
      break;
    }
    if (!bayes_shape_eq(&bayes_cc_slot(c, s)->shape, &fs)) {
      char b1[64], b2[64];
      EERR(c, lam->kids[0], "recur: the lambda returns shape %s but the first value has shape %s",
           bayes_shape_str(&bayes_cc_slot(c, s)->shape, b1, sizeof b1),
           bayes_shape_str(&fs, b2, sizeof b2));
      rc = -1;
      break;
    }
    slots[t - 1] = s;
  }
  if (rc == 0) rc = stack_slots(c, (int)n, slots, e);
  bayes_free(slots);
  return rc;
}

/* ---- calls ---- */

static const bayes_dist *dist_fn(const char *name, int *which, bool *rng)
{
  static const struct {
    const char *suffix;
    int which;
    bool rng;
  } sfx[] = {{"_lpdf", BAYES_DF_LPDF, false}, {"_lpmf", BAYES_DF_LPDF, false},
             {"_lcdf", BAYES_DF_LCDF, false}, {"_lccdf", BAYES_DF_LCCDF, false},
             {"_rng", 0, true}};
  size_t len = strlen(name);
  for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++) {
    size_t sl = strlen(sfx[i].suffix);
    if (len > sl && strcmp(name + len - sl, sfx[i].suffix) == 0) {
      char base[64];
      if (len - sl >= sizeof base) return NULL;
      memcpy(base, name, len - sl);
      base[len - sl] = '\0';
      const bayes_dist *d = bayes_dist_find(base);
      if (!d) return NULL;
      /* _lpmf only for discrete, _lpdf only for continuous */
      if ((strcmp(sfx[i].suffix, "_lpmf") == 0 && !d->discrete) ||
          (strcmp(sfx[i].suffix, "_lpdf") == 0 && d->discrete))
        return NULL;
      *which = sfx[i].which;
      *rng = sfx[i].rng;
      return d;
    }
  }
  return NULL;
}

static int emit_dist_op(bayes_cc *c, const bayes_dist *d, const bayes_op *op, int which,
                        int nin, const int *in, const bayes_shape *out, bool out_int,
                        const bayes_ast *at, long iarg1)
{
  int first = c->prog->nins;
  int i = bayes_prog_add(c->prog, op, nin, in, 1, out, out_int);
  if (i < 0) return c->d->oom = 1, -1;
  bayes_instr *ins = &c->prog->ins[i];
  ins->aux = d;
  ins->iarg[0] = which;
  ins->iarg[1] = iarg1;
  ins->line = at->line;
  ins->col = at->col;
  const bayes_shape *shp[BAYES_DIST_MAXARG + 1];
  bayes_shape vshape;
  int k = 0;
  if (op == &bayes_op_dist_mv_rng) {
    vshape = *out;
    if (iarg1) {
      vshape.rank--;
      memmove(vshape.dim, vshape.dim + 1, sizeof(size_t) * (size_t)vshape.rank);
    }
    shp[k++] = &vshape;
  }
  for (int j = 0; j < nin && k <= BAYES_DIST_MAXARG; j++) shp[k++] = &c->prog->slots[in[j]].shape;
  ins->work = bayes_dist_work(d, op, k, shp);
  int o = ins->out[0];
  if (bayes_cc_emit_done(c, first)) return -1;
  return o;
}

/* Compile a distribution's arguments (after the variate) in parameter order, applying
 * keyword arguments and defaults. */
static int dist_args(bayes_cc *c, const bayes_dist *d, const bayes_ast *call, int skip,
                     int *slots, const bayes_ast **at)
{
  const bayes_ast *given[BAYES_DIST_MAXARG] = {0};
  int npos = 0;
  int nk = call->nkids - skip;
  for (int i = 0; i < nk; i++) {
    const bayes_ast *a = call->kids[i + skip];
    const char *kw = call->kw ? call->kw[i + skip] : NULL;
    if (!kw) {
      if (npos >= d->nparams) {
        char names[128] = "";
        for (int t = 0; t < d->nparams && d->param_names; t++) {
          strncat(names, t ? ", " : " (", sizeof names - strlen(names) - 1);
          strncat(names, d->param_names[t], sizeof names - strlen(names) - 1);
        }
        if (names[0]) strncat(names, ")", sizeof names - strlen(names) - 1);
        EERR(c, a, "%s takes %d argument%s%s%s, got %d", call->name, d->nparams,
             d->nparams == 1 ? "" : "s", names, d->nparams ? "" : " (it is improper)", nk);
        return -1;
      }
      given[npos++] = a;
      continue;
    }
    int j;
    for (j = 0; j < d->nparams; j++)
      if (d->param_names && strcmp(d->param_names[j], kw) == 0) break;
    if (j == d->nparams) {
      /* param_names has exactly nparams entries; bayes_suggest wants a terminated list */
      const char *cands[BAYES_DIST_MAXARG + 1] = {0};
      for (int t = 0; t < d->nparams && d->param_names; t++) cands[t] = d->param_names[t];
      const char *s = bayes_suggest(kw, cands);
      char names[128] = "";
      for (int t = 0; t < d->nparams && d->param_names; t++) {
        strncat(names, t ? ", " : "", sizeof names - strlen(names) - 1);
        strncat(names, d->param_names[t], sizeof names - strlen(names) - 1);
      }
      if (s)
        EERR(c, a, "%s has no argument named '%s'; did you mean '%s'?", d->name, kw, s);
      else if (names[0])
        EERR(c, a, "%s has no argument named '%s' (its arguments are %s)", d->name, kw, names);
      else
        EERR(c, a, "%s has no argument named '%s' (it takes no arguments)", d->name, kw);
      return -1;
    }
    if (given[j]) {
      EERR(c, a, "argument '%s' of %s is given twice", kw, d->name);
      return -1;
    }
    given[j] = a;
  }
  int n = d->nparams;
  for (int j = 0; j < d->nparams; j++) {
    if (given[j]) continue;
    if (j >= d->nparams_min && d->param_defaults) continue;
    char names[128] = "";
    for (int t = 0; t < d->nparams && d->param_names; t++) {
      strncat(names, t ? ", " : "", sizeof names - strlen(names) - 1);
      strncat(names, d->param_names[t], sizeof names - strlen(names) - 1);
    }
    EERR(c, call, "%s takes %d argument%s (%s), got %d", d->name, d->nparams,
         d->nparams == 1 ? "" : "s", names, npos);
    return -1;
  }
  int rc = 0;
  for (int j = 0; j < n; j++) {
    if (given[j]) {
      slots[j] = bayes_cc_expr(c, given[j]);
      at[j] = given[j];
      if (slots[j] < 0) {
        rc = -1;
        continue;
      }
      if (d->param_int[j + 1] && !(bayes_cc_slot(c, slots[j])->flags & BAYES_SLOT_INT)) {
        if (given[j]->kind == BAYES_AST_NAME)
          EERR(c, given[j], "argument %s of %s must be an integer, but '%s' is real-valued",
               d->param_names[j], d->name, given[j]->name);
        else
          EERR(c, given[j], "argument %s of %s must be an integer", d->param_names[j], d->name);
        rc = -1;
      }
    } else {
      slots[j] = const_scalar(c, d->param_defaults[j], d->param_int[j + 1]);
      at[j] = call;
      if (slots[j] < 0) rc = -1;
    }
  }
  return rc ? -1 : n;
}

static int compile_dist_fn(bayes_cc *c, const bayes_ast *e, const bayes_dist *d, int which,
                           bool rng)
{
  if (e->kw)
    for (int i = 0; i < e->nkids; i++)
      if (e->kw[i] && rng == false && i == 0) {
        EERR(c, e->kids[0], "the first argument of %s is the variate and has no name", e->name);
        return -1;
      }
  if (rng) {
    if (!c->in_generated) {
      EERR(c, e, "random draws (%s) are only allowed under 'generated'", e->name);
      return -1;
    }
    return bayes_cc_dist_rng(c, e);
  }
  if (e->nkids < 1) {
    EERR(c, e, "%s needs the variate as its first argument", e->name);
    return -1;
  }
  if (which != BAYES_DF_LPDF && ((which == BAYES_DF_LCDF && !d->lcdf) ||
                                 (which == BAYES_DF_LCCDF && !d->lccdf))) {
    EERR(c, e, "%s has no %s", d->name, which == BAYES_DF_LCDF ? "log CDF" : "log CCDF");
    return -1;
  }
  int y = bayes_cc_expr(c, e->kids[0]);
  if (y < 0) return -1;
  if (which == BAYES_DF_LPDF) return bayes_cc_dist_lpdf(c, e, y, NULL);
  if (d->kind != BAYES_DIST_UNIVARIATE) {
    EERR(c, e, "%s: CDFs exist only for univariate distributions", e->name);
    return -1;
  }
  int slots[BAYES_DIST_MAXARG + 1];
  const bayes_ast *at[BAYES_DIST_MAXARG + 1];
  slots[0] = y;
  at[0] = e->kids[0];
  int n = dist_args(c, d, e, 1, slots + 1, at + 1);
  if (n < 0) return -1;
  argpack ap;
  pack(c, &ap, n + 1, slots, at);
  bayes_fnctx fx = {c->prog, e->line, e->col, e->name, bayes_cc_fnerr, c, 0};
  int bs[BAYES_DIST_MAXARG + 1];
  bayes_shape out;
  int first = c->prog->nins;
  if (bayes_fn_broadcast(&fx, n + 1, ap.a, bs, &out)) return -1;
  if (bayes_cc_emit_done(c, first)) return -1;
  bayes_shape sc = bayes_shape_scalar();
  return emit_dist_op(c, d, &bayes_op_dist_sum, which, n + 1, bs, &sc, false, e, 0);
}

static int compile_call(bayes_cc *c, const bayes_ast *e)
{
  if (strncmp(e->name, "__", 2) == 0) {
    EERR(c, e, "unknown function '%s'", e->name);
    return -1;
  }
  if (strcmp(e->name, "recur") == 0) return compile_recur(c, e);
  if (strcmp(e->name, "gp_cov") == 0) return bayes_cc_gp_cov(c, e);
  if (strcmp(e->name, "mixture") == 0 || strcmp(e->name, "truncated") == 0 ||
      bayes_dist_find(e->name)) {
    const bayes_dist *dd = bayes_dist_find(e->name);
    if (dd)
      EERR(c, e, "%s(...) is a distribution; it can be a prior (under parameters), a "
           "likelihood, or a draw under generated, but not a value in an expression; for its "
           "log density call %s_%s(y, ...)", e->name, e->name, dd->discrete ? "lpmf" : "lpdf");
    else
      EERR(c, e, "%s(...) is a distribution; it can be a prior (under parameters), a "
           "likelihood, or a draw under generated, but not a value in an expression", e->name);
    return -1;
  }
  int which;
  bool rng;
  const bayes_dist *d = dist_fn(e->name, &which, &rng);
  if (d) return compile_dist_fn(c, e, d, which, rng);
  const bayes_fn *fn = bayes_fn_find(e->name);
  if (!fn) {
    /* normal_lpmf / poisson_lpdf: right distribution, wrong suffix */
    size_t len = strlen(e->name);
    if (len > 5 && (strcmp(e->name + len - 5, "_lpdf") == 0 ||
                    strcmp(e->name + len - 5, "_lpmf") == 0)) {
      char base[64];
      if (len - 5 < sizeof base) {
        memcpy(base, e->name, len - 5);
        base[len - 5] = '\0';
        const bayes_dist *bd = bayes_dist_find(base);
        if (bd) {
          EERR(c, e, "%s is %s: its log %s is %s_%s", bd->name,
               bd->discrete ? "a distribution over integers" : "a continuous distribution",
               bd->discrete ? "probability" : "density", base, bd->discrete ? "lpmf" : "lpdf");
          return -1;
        }
      }
    }
    const char *const *fnames = bayes_fn_names();
    const char *s = fnames ? bayes_suggest(e->name, fnames) : NULL;
    const char *sd = s ? NULL : bayes_suggest(e->name, dist_names());
    if (s)
      EERR(c, e, "unknown function '%s'; did you mean '%s'?", e->name, s);
    else if (sd)
      EERR(c, e, "unknown function '%s'; did you mean the distribution '%s'? (a distribution "
           "is not a value: use %s_lpdf or %s_rng in an expression)", e->name, sd, sd, sd);
    else
      EERR(c, e, "unknown function '%s'", e->name);
    return -1;
  }
  int n = e->nkids;
  if (n > 16) {
    EERR(c, e, "%s: too many arguments", e->name);
    return -1;
  }
  /* order arguments: positional first, then keywords by arg_names */
  const bayes_ast *ord[16] = {0};
  int npos = 0, nmax = 0;
  for (int i = 0; i < n; i++) {
    const char *kw = e->kw ? e->kw[i] : NULL;
    if (!kw) {
      ord[npos++] = e->kids[i];
      if (npos > nmax) nmax = npos;
      continue;
    }
    int j = -1;
    if (fn->arg_names)
      for (int t = 0; fn->arg_names[t] && t < 16; t++)
        if (strcmp(fn->arg_names[t], kw) == 0) j = t;
    if (j < 0) {
      char names[160] = "";
      for (int t = 0; fn->arg_names && fn->arg_names[t] && t < 16; t++) {
        strncat(names, t ? ", " : "", sizeof names - strlen(names) - 1);
        strncat(names, fn->arg_names[t], sizeof names - strlen(names) - 1);
      }
      if (names[0])
        EERR(c, e->kids[i], "%s has no argument named '%s' (its arguments are %s)", e->name, kw,
             names);
      else
        EERR(c, e->kids[i], "%s has no argument named '%s' (give its arguments by position)",
             e->name, kw);
      return -1;
    }
    if (ord[j]) {
      EERR(c, e->kids[i], "argument '%s' of %s is given twice", kw, e->name);
      return -1;
    }
    ord[j] = e->kids[i];
    if (j + 1 > nmax) nmax = j + 1;
  }
  for (int j = 0; j < nmax; j++)
    if (!ord[j]) {
      EERR(c, e, "%s: argument %d (%s) is missing", e->name, j + 1,
           fn->arg_names ? fn->arg_names[j] : "?");
      return -1;
    }
  if (nmax < fn->min_args || nmax > fn->max_args) {
    if (fn->min_args == fn->max_args)
      EERR(c, e, "%s takes %d argument%s, got %d", e->name, fn->min_args,
           fn->min_args == 1 ? "" : "s", nmax);
    else
      EERR(c, e, "%s takes %d to %d arguments, got %d", e->name, fn->min_args, fn->max_args, nmax);
    return -1;
  }
  int slots[16];
  int rc = 0;
  for (int j = 0; j < nmax; j++) {
    if (ord[j]->kind == BAYES_AST_LAMBDA) {
      EERR(c, ord[j], "%s does not take a function argument", e->name);
      return -1;
    }
    slots[j] = bayes_cc_expr(c, ord[j]);
    if (slots[j] < 0) rc = -1;
  }
  if (rc) return -1;
  return call_fn(c, fn, nmax, slots, ord, e);
}

static const char *binop_fn(int op)
{
  switch (op) {
  case '+': return "__add";
  case '-': return "__sub";
  case '*': return "__mul";
  case '/': return "__div";
  case '^': return "__pow";
  case '@': return "__matmul";
  case '<': return "__lt";
  case '>': return "__gt";
  case BAYES_OP_LE: return "__le";
  case BAYES_OP_GE: return "__ge";
  case BAYES_OP_EQ: return "__eq";
  case BAYES_OP_NE: return "__ne";
  case BAYES_OP_AND: return "__and";
  case BAYES_OP_OR: return "__or";
  }
  return NULL;
}

static const char *binop_text(int op, char *buf)
{
  switch (op) {
  case BAYES_OP_LE: return "<=";
  case BAYES_OP_GE: return ">=";
  case BAYES_OP_EQ: return "==";
  case BAYES_OP_NE: return "!=";
  case BAYES_OP_AND: return "&&";
  case BAYES_OP_OR: return "||";
  }
  buf[0] = (char)op;
  buf[1] = '\0';
  return buf;
}

int bayes_cc_expr(bayes_cc *c, const bayes_ast *e)
{
  if (++c->depth > BAYES_EXPR_MAX_DEPTH * 4) {
    EERR(c, e, "expression nested too deeply");
    c->depth--;
    return -1;
  }
  int r = -1;
  switch (e->kind) {
  case BAYES_AST_NUM:
    r = const_scalar(c, e->num, e->is_int);
    break;
  case BAYES_AST_NAME:
    r = compile_name(c, e);
    break;
  case BAYES_AST_CALL:
    r = compile_call(c, e);
    break;
  case BAYES_AST_INDEX:
    r = compile_index(c, e);
    break;
  case BAYES_AST_BINOP:
  case BAYES_AST_COND: {
    int s[3], rc = 0;
    for (int i = 0; i < e->nkids; i++)
      if ((s[i] = bayes_cc_expr(c, e->kids[i])) < 0) rc = -1;
    if (rc) break;
    if (e->kind == BAYES_AST_BINOP && e->op != '@') {
      /* name the operator and both shapes; the op's own message only knows its inputs */
      bayes_shape bo;
      const bayes_shape *l = &bayes_cc_slot(c, s[0])->shape, *rt = &bayes_cc_slot(c, s[1])->shape;
      if (!bayes_shape_broadcast(l, rt, &bo)) {
        char b1[64], b2[64], opn[4];
        const char *os = binop_text(e->op, opn);
        EERR(c, e, "the two sides of '%s' have shapes %s and %s, which do not broadcast "
             "(each dimension must be equal, or 1 on one side)", os,
             bayes_shape_str(l, b1, sizeof b1), bayes_shape_str(rt, b2, sizeof b2));
        break;
      }
    }
    const bayes_ast *at[3] = {e->kids[0], e->kids[1], e->nkids > 2 ? e->kids[2] : NULL};
    r = call_named(c, e->kind == BAYES_AST_COND ? "__cond" : binop_fn(e->op), e->nkids, s, at, e);
    break;
  }
  case BAYES_AST_UNOP:
  case BAYES_AST_TRANSPOSE: {
    int s = bayes_cc_expr(c, e->kids[0]);
    if (s < 0) break;
    const char *f = e->kind == BAYES_AST_TRANSPOSE ? "__transpose"
                    : e->op == '-'                ? "__neg"
                    : e->op == '!'                ? "__not"
                                                  : "__pos";
    const bayes_ast *at[1] = {e->kids[0]};
    r = call_named(c, f, 1, &s, at, e);
    break;
  }
  case BAYES_AST_VEC:
    r = compile_vec(c, e);
    break;
  case BAYES_AST_COMPR:
    r = compile_compr(c, e);
    break;
  case BAYES_AST_LAMBDA:
    EERR(c, e, "a function (lambda) can only be the last argument of recur(...)");
    break;
  case BAYES_AST_RANGE:
  case BAYES_AST_ALL:
    EERR(c, e, "a range such as 1:N is only allowed inside [...] indexing or after 'in'");
    break;
  }
  c->depth--;
  return r;
}

/* ---- distributions ---- */

int bayes_cc_dcall(bayes_cc *c, const bayes_ast *e, bayes_dcall *dc)
{
  memset(dc, 0, sizeof *dc);
  const bayes_ast *call = e;
  if (e->kind == BAYES_AST_INDEX &&
      (e->kids[0]->kind == BAYES_AST_CALL ||
       (e->kids[0]->kind == BAYES_AST_NAME && bayes_dist_find(e->kids[0]->name) &&
        !bayes_mdef_find(c->m, e->kids[0]->name)))) {
    dc->dims = e;
    call = e->kids[0];
  }
  if (call->kind == BAYES_AST_NAME && bayes_dist_find(call->name) &&
      !bayes_mdef_find(c->m, call->name)) {
    /* a bare name: `prior: flat` as the spec writes it, i.e. a call without arguments */
    const bayes_dist *bd = bayes_dist_find(call->name);
    int need = bd->param_defaults ? bd->nparams_min : bd->nparams;
    if (need > 0) {
      char names[128] = "";
      for (int t = 0; t < bd->nparams && bd->param_names; t++) {
        strncat(names, t ? ", " : "", sizeof names - strlen(names) - 1);
        strncat(names, bd->param_names[t], sizeof names - strlen(names) - 1);
      }
      EERR(c, call, "%s needs its arguments: %s(%s)", call->name, call->name, names);
      return -1;
    }
    bayes_ast *nc = bayes_arena_alloc(&c->m->arena, sizeof *nc);
    if (!nc) return c->d->oom = 1, -1;
    *nc = *call;
    nc->kind = BAYES_AST_CALL;
    nc->nkids = 0;
    nc->kids = NULL;
    nc->kw = NULL;
    if (dc->dims) {
      bayes_ast *ni = bayes_arena_alloc(&c->m->arena, sizeof *ni);
      bayes_ast **k = bayes_arena_alloc(&c->m->arena, (size_t)e->nkids * sizeof *k);
      if (!ni || !k) return c->d->oom = 1, -1;
      *ni = *e;
      memcpy(k, e->kids, (size_t)e->nkids * sizeof *k);
      k[0] = nc;
      ni->kids = k;
      dc->dims = ni;
    }
    call = nc;
  }
  if (call->kind != BAYES_AST_CALL) {
    EERR(c, e, "expected a distribution such as normal(0, 1) here");
    return -1;
  }
  dc->call = call;
  if (strcmp(call->name, "mixture") == 0) {
    dc->kind = BAYES_DC_MIXTURE;
    if (call->nkids < 3) {
      EERR(c, call, "mixture takes weights and at least two distributions: "
           "mixture(w, normal(m1, s1), normal(m2, s2))");
      return -1;
    }
    if (call->nkids - 1 > BAYES_DIST_MAXARG) {
      EERR(c, call, "mixture supports at most %d components", BAYES_DIST_MAXARG);
      return -1;
    }
    return 0;
  }
  if (strcmp(call->name, "truncated") == 0) {
    dc->kind = BAYES_DC_TRUNCATED;
    if (call->nkids < 2 || call->nkids > 3 || (call->kw && call->kw[0])) {
      EERR(c, call, "truncated takes a distribution and bounds: truncated(normal(0, 1), "
           "lower = 0) or truncated(d, lower, upper)");
      return -1;
    }
    dc->inner = call->kids[0];
    for (int i = 1; i < call->nkids; i++) {
      const char *kw = call->kw ? call->kw[i] : NULL;
      if (!kw)
        kw = i == 1 ? "lower" : "upper";
      if (strcmp(kw, "lower") == 0 && !dc->trunc_lower)
        dc->trunc_lower = call->kids[i];
      else if (strcmp(kw, "upper") == 0 && !dc->trunc_upper)
        dc->trunc_upper = call->kids[i];
      else {
        EERR(c, call->kids[i], "truncated: expected the bounds 'lower' and 'upper'");
        return -1;
      }
    }
    bayes_dcall in;
    if (bayes_cc_dcall(c, dc->inner, &in)) return -1;
    if (in.kind != BAYES_DC_PLAIN || in.dims || in.dist->kind != BAYES_DIST_UNIVARIATE) {
      EERR(c, dc->inner, "truncated: the distribution must be a plain univariate one");
      return -1;
    }
    if (!in.dist->lcdf || !in.dist->lccdf) {
      EERR(c, dc->inner, "truncated: %s has no CDF, so it cannot be truncated", in.dist->name);
      return -1;
    }
    dc->dist = in.dist;
    return 0;
  }
  dc->kind = BAYES_DC_PLAIN;
  dc->dist = bayes_dist_find(call->name);
  if (!dc->dist) {
    if (bayes_fn_find(call->name)) {
      EERR(c, call, "'%s' is a function, not a distribution", call->name);
      return -1;
    }
    const char *s = bayes_suggest(call->name, dist_names());
    if (s)
      EERR(c, call, "unknown distribution '%s'; did you mean '%s'?", call->name, s);
    else
      EERR(c, call, "unknown distribution '%s'", call->name);
    return -1;
  }
  return 0;
}

/* The log density of y under a plain univariate distribution; pointwise (out [n]) for
 * mixtures, or the sum. */
static int plain_lpdf(bayes_cc *c, const bayes_ast *call, const bayes_dist *d, int y,
                      const char *yname, bool pointwise, int which)
{
  int slots[BAYES_DIST_MAXARG + 1];
  const bayes_ast *at[BAYES_DIST_MAXARG + 1];
  int skip = (strcmp(call->name, d->name) == 0 || (d->alias && strcmp(call->name, d->alias) == 0)) ? 0 : 1;
  slots[0] = y;
  at[0] = call;
  int n = dist_args(c, d, call, skip, slots + 1, at + 1);
  if (n < 0) return -1;
  const bayes_slot *ys = bayes_cc_slot(c, y);
  bayes_shape yshape = ys->shape;
  if (d->discrete && !(ys->flags & BAYES_SLOT_INT)) {
    /* say whether the data holds fractions or only looks real ("2.0") */
    size_t bad = (size_t)-1;
    if (ys->flags & BAYES_SLOT_CONST)
      for (size_t i = 0; i < ys->n && bad == (size_t)-1; i++) {
        double v = c->prog->consts[ys->off + i];
        if (v != floor(v)) bad = i;
      }
    if (yname && bad != (size_t)-1)
      EERR(c, call, "%s is a distribution over integers, but '%s' holds fractional values "
           "(element %zu is %g)", d->name, yname, bad + 1, c->prog->consts[ys->off + bad]);
    else if (yname)
      EERR(c, call, "%s is a distribution over integers, but '%s' is real-valued (write its "
           "values without a decimal point, or declare it as int)", d->name, yname);
    else
      EERR(c, call, "%s is a distribution over integers, but its variate is real-valued", d->name);
    return -1;
  }
  /* Data that no parameter value can make possible (a count below 0 for poisson, a
   * negative value for gamma) is a data error, reported before sampling rather than as a
   * log density of -inf at every point. Only where the support does not depend on the
   * parameters, and only outside its closure (beta(1, 1) at 0 is fine). */
  if (which == BAYES_DF_LPDF && !pointwise && (ys->flags & BAYES_SLOT_CONST)) {
    const double *yv = c->prog->consts + ys->off;
    const char *desc = NULL;
    for (size_t i = 0; i < ys->n && !desc; i++) {
      double yi = yv[i];
      switch (d->support) {
      case BAYES_SUPPORT_POSITIVE:
      case BAYES_SUPPORT_NONNEG:
        if (yi < 0) desc = "non-negative values";
        break;
      case BAYES_SUPPORT_UNIT:
        if (yi < 0 || yi > 1) desc = "values between 0 and 1";
        break;
      case BAYES_SUPPORT_INT_NONNEG:
        if (yi < 0) desc = "the integers 0, 1, 2, ...";
        break;
      case BAYES_SUPPORT_INT_BINARY:
        if (yi != 0 && yi != 1) desc = "0 and 1";
        break;
      default:
        break;
      }
      if (desc) {
        char en[128];
        if (ys->n == 1)
          snprintf(en, sizeof en, "%s", yname ? yname : "the variate");
        else
          snprintf(en, sizeof en, "%s[%zu]", yname ? yname : "the variate", i + 1);
        EERR(c, call, "%s = %g is outside the support of %s (%s): its probability is zero "
             "whatever the parameters", en, yi, d->name, desc);
        return -1;
      }
    }
  }
  if (d->kind == BAYES_DIST_MULTIVARIATE) {
    if (pointwise) {
      EERR(c, call, "mixture components must be univariate distributions; %s is not", d->name);
      return -1;
    }
    const bayes_shape *shp[BAYES_DIST_MAXARG + 1];
    bayes_shape copies[BAYES_DIST_MAXARG + 1];
    for (int k = 0; k <= n; k++) {
      copies[k] = bayes_cc_slot(c, slots[k])->shape;
      shp[k] = &copies[k];
    }
    char err[256] = "";
    if (d->mv_check && d->mv_check(n + 1, shp, err, sizeof err) != 0) {
      dist_error(c, call, d, err);
      return -1;
    }
    bayes_shape sc = bayes_shape_scalar();
    return emit_dist_op(c, d, &bayes_op_dist_mv_sum, BAYES_DF_LPDF, n + 1, slots, &sc, false,
                        call, 0);
  }
  /* name the argument that does not fit the variate, and both shapes */
  for (int k = 1; k <= n; k++) {
    bayes_shape bo;
    const bayes_shape *as = &bayes_cc_slot(c, slots[k])->shape;
    if (bayes_shape_broadcast(&yshape, as, &bo) && bayes_shape_size(&bo) == bayes_shape_size(&yshape))
      continue;
    if (bayes_shape_size(as) == bayes_shape_size(&yshape)) continue; /* same length */
    char b1[64], b2[64];
    EERR(c, at[k], "argument %s of %s has shape %s, but %s%s%s has shape %s",
         d->param_names ? d->param_names[k - 1] : "?", d->name,
         bayes_shape_str(as, b1, sizeof b1), yname ? "'" : "the variate", yname ? yname : "",
         yname ? "'" : "", bayes_shape_str(&yshape, b2, sizeof b2));
    return -1;
  }
  argpack ap;
  pack(c, &ap, n + 1, slots, at);
  bayes_fnctx fx = {c->prog, call->line, call->col, d->name, bayes_cc_fnerr, c, 0};
  int bs[BAYES_DIST_MAXARG + 1];
  bayes_shape out;
  int first = c->prog->nins;
  if (bayes_fn_broadcast(&fx, n + 1, ap.a, bs, &out)) return -1;
  if (bayes_cc_emit_done(c, first)) return -1;
  if (!bayes_shape_eq(&out, &yshape) && bayes_shape_size(&out) != bayes_shape_size(&yshape)) {
    char b1[64], b2[64];
    EERR(c, call, "the arguments of %s have shape %s, which does not match %s%s's shape %s",
         d->name, bayes_shape_str(&out, b1, sizeof b1), yname ? "" : "the variate",
         yname ? yname : "", bayes_shape_str(&yshape, b2, sizeof b2));
    return -1;
  }
  if (pointwise) {
    bayes_shape pw = bayes_shape_vec(bayes_shape_size(&out));
    return emit_dist_op(c, d, &bayes_op_dist_pw, which, n + 1, bs, &pw, false, call, 0);
  }
  bayes_shape sc = bayes_shape_scalar();
  return emit_dist_op(c, d, &bayes_op_dist_sum, which, n + 1, bs, &sc, false, call, 0);
}

/* Broadcast a bound to y's shape, so that the normaliser has one term per element. */
static int bound_like(bayes_cc *c, const bayes_ast *bound, int y)
{
  int s = bayes_cc_expr(c, bound);
  if (s < 0) return -1;
  int sl[2] = {s, y};
  const bayes_ast *at[2] = {bound, bound};
  argpack ap;
  pack(c, &ap, 2, sl, at);
  bayes_fnctx fx = {c->prog, bound->line, bound->col, "truncated", bayes_cc_fnerr, c, 0};
  int bs[2];
  bayes_shape out;
  int first = c->prog->nins;
  if (bayes_fn_broadcast(&fx, 2, ap.a, bs, &out)) return -1;
  if (bayes_cc_emit_done(c, first)) return -1;
  if (bayes_shape_size(&out) != bayes_cc_slot(c, y)->n) {
    EERR(c, bound, "the truncation bound does not match the variate's shape");
    return -1;
  }
  /* one normalising term per element of y, also when the bound is a single value */
  if (bayes_cc_slot(c, bs[0])->n != bayes_cc_slot(c, y)->n) {
    bayes_shape ys = bayes_cc_slot(c, y)->shape;
    first = c->prog->nins;
    bool is_int = (bayes_cc_slot(c, bs[0])->flags & BAYES_SLOT_INT) != 0;
    int i = bayes_fn_emit(&fx, &bayes_op_broadcast, 1, &bs[0], 1, &ys, is_int);
    if (i < 0) return -1;
    int o = c->prog->ins[i].out[0];
    if (bayes_cc_emit_done(c, first)) return -1;
    return o;
  }
  return bs[0];
}

/* A variate outside its truncation bounds has density zero. Checked once when both are
 * known before sampling; otherwise by this op, which adds 0 or -inf to the log density.
 * in: [y, bound] (bound n or 1 elements); iarg[0]: 0 lower (y >= b), 1 upper (y <= b). */
static void trunc_check_fwd(const bayes_bound *b)
{
  size_t n = b->xn[0], ib = bayes_inc(b->xn[1]);
  double r = 0;
  for (size_t i = 0; i < n; i++) {
    double yi = b->x[0][i], bi = b->x[1][i * ib];
    if (b->ins->iarg[0] ? yi > bi : yi < bi) r = -INFINITY;
  }
  b->y[0][0] = r;
}

static const bayes_op op_trunc_check = {"truncation_check", trunc_check_fwd, NULL, NULL};

static int trunc_bounds_ok(bayes_cc *c, const bayes_ast *at, int y, int bound, bool upper,
                           const char *yname, int *term)
{
  *term = -1;
  const bayes_slot *ys = bayes_cc_slot(c, y), *bsl = bayes_cc_slot(c, bound);
  if ((ys->flags & BAYES_SLOT_CONST) && (bsl->flags & BAYES_SLOT_CONST)) {
    const double *yv = c->prog->consts + ys->off, *bv = c->prog->consts + bsl->off;
    size_t ib = bayes_inc(bsl->n);
    for (size_t i = 0; i < ys->n; i++)
      if (upper ? yv[i] > bv[i * ib] : yv[i] < bv[i * ib]) {
        if (ys->n == 1)
          EERR(c, at, "%s = %.17g is %s the truncation bound %.17g", yname ? yname : "the variate",
               yv[i], upper ? "above" : "below", bv[i * ib]);
        else
          EERR(c, at, "%s[%zu] = %.17g is %s the truncation bound %.17g",
               yname ? yname : "the variate", i + 1, yv[i], upper ? "above" : "below", bv[i * ib]);
        return -1;
      }
    return 0;
  }
  if (!(ys->flags & BAYES_SLOT_CONST)) return 0; /* a parameter: its transform keeps it inside */
  int in[2] = {y, bound};
  bayes_shape sc = bayes_shape_scalar();
  int first = c->prog->nins;
  int i = bayes_prog_add(c->prog, &op_trunc_check, 2, in, 1, &sc, false);
  if (i < 0) return c->d->oom = 1, -1;
  c->prog->ins[i].iarg[0] = upper;
  c->prog->ins[i].line = at->line;
  c->prog->ins[i].col = at->col;
  *term = c->prog->ins[i].out[0];
  return bayes_cc_emit_done(c, first);
}

/* Sum over the elements of y of log(F(U) - F(L)) (or log(1 - F(L)), or log F(U)). */
static int trunc_norm(bayes_cc *c, const bayes_dcall *dc, int y, const char *yname, int *chk)
{
  const bayes_ast *call = dc->inner;
  int lo = -1, hi = -1, r;
  if (dc->trunc_lower && (lo = bound_like(c, dc->trunc_lower, y)) < 0) return -1;
  if (dc->trunc_upper && (hi = bound_like(c, dc->trunc_upper, y)) < 0) return -1;
  chk[0] = chk[1] = -1;
  if (lo >= 0 && trunc_bounds_ok(c, dc->trunc_lower, y, lo, false, yname, &chk[0])) return -1;
  if (hi >= 0 && trunc_bounds_ok(c, dc->trunc_upper, y, hi, true, yname, &chk[1])) return -1;
  if (lo >= 0 && dc->dist->discrete) {
    /* P(K >= L) = 1 - F(L - 1) for a distribution on the integers (as Stan does) */
    int one = const_scalar(c, 1, true);
    int s2[2] = {lo, one};
    const bayes_ast *at[2] = {dc->trunc_lower, dc->trunc_lower};
    if (one < 0 || (lo = call_named(c, "__sub", 2, s2, at, dc->trunc_lower)) < 0) return -1;
  }
  if (lo >= 0 && hi >= 0) {
    int fu = plain_lpdf(c, call, dc->dist, hi, NULL, true, BAYES_DF_LCDF);
    int fl = fu < 0 ? -1 : plain_lpdf(c, call, dc->dist, lo, NULL, true, BAYES_DF_LCDF);
    if (fl < 0) return -1;
    int s2[2] = {fu, fl};
    const bayes_ast *at[2] = {call, call};
    r = call_named(c, "log_diff_exp", 2, s2, at, call);
  } else if (lo >= 0) {
    r = plain_lpdf(c, call, dc->dist, lo, NULL, true, BAYES_DF_LCCDF);
  } else {
    r = plain_lpdf(c, call, dc->dist, hi, NULL, true, BAYES_DF_LCDF);
  }
  if (r < 0) return -1;
  const bayes_ast *at1[1] = {call};
  return call_named(c, "sum", 1, &r, at1, call);
}

int bayes_cc_dist_lpdf(bayes_cc *c, const bayes_ast *e, int y, const char *yname)
{
  bayes_dcall dc;
  /* NAME_lpdf(y, ...) calls come here with e the call itself */
  int which;
  bool rng;
  const bayes_dist *fd = e->kind == BAYES_AST_CALL ? dist_fn(e->name, &which, &rng) : NULL;
  if (fd) return plain_lpdf(c, e, fd, y, yname, false, BAYES_DF_LPDF);
  if (bayes_cc_dcall(c, e, &dc)) return -1;
  if (dc.dims) {
    /* a shape on a likelihood must agree with the data */
    bayes_shape s = bayes_shape_scalar();
    s.rank = dc.dims->nkids - 1;
    for (int i = 1; i < dc.dims->nkids; i++) {
      long v;
      if (bayes_cc_const_int(c, dc.dims->kids[i], "a dimension", &v)) return -1;
      s.dim[i - 1] = (size_t)v;
    }
    const bayes_shape *ys = &bayes_cc_slot(c, y)->shape;
    if (!bayes_shape_eq(&s, ys)) {
      char b1[64], b2[64];
      EERR(c, dc.dims, "the shape %s does not match %s's shape %s",
           bayes_shape_str(&s, b1, sizeof b1), yname ? yname : "the variate",
           bayes_shape_str(ys, b2, sizeof b2));
      return -1;
    }
  }
  if (dc.kind == BAYES_DC_PLAIN) return plain_lpdf(c, dc.call, dc.dist, y, yname, false, BAYES_DF_LPDF);
  if (dc.kind == BAYES_DC_TRUNCATED) {
    const bayes_ast *inner = dc.inner;
    int lp = plain_lpdf(c, inner, dc.dist, y, yname, false, BAYES_DF_LPDF);
    if (lp < 0) return -1;
    int chk[2];
    int nz = trunc_norm(c, &dc, y, yname, chk);
    if (nz < 0) return -1;
    int s2[2] = {lp, nz};
    const bayes_ast *at[2] = {e, e};
    int r = call_named(c, "__sub", 2, s2, at, e);
    for (int k = 0; k < 2 && r >= 0; k++)
      if (chk[k] >= 0) {
        int s3[2] = {r, chk[k]};
        r = call_named(c, "__add", 2, s3, at, e);
      }
    return r;
  }
  /* mixture(w, d1, ..., dk): sum_i log sum_k w_k p_k(y_i) */
  const bayes_ast *call = dc.call;
  int in[BAYES_DIST_MAXARG + 1];
  int w = bayes_cc_expr(c, call->kids[0]);
  if (w < 0) return -1;
  int k = call->nkids - 1;
  const bayes_slot *ws = bayes_cc_slot(c, w);
  if (ws->shape.rank != 1 || ws->n != (size_t)k) {
    char b[64];
    EERR(c, call->kids[0], "mixture weights must be a vector of %d (one per component), got "
         "shape %s", k, bayes_shape_str(&ws->shape, b, sizeof b));
    return -1;
  }
  in[0] = w;
  size_t n = bayes_cc_slot(c, y)->n;
  for (int j = 0; j < k; j++) {
    bayes_dcall cd;
    if (bayes_cc_dcall(c, call->kids[j + 1], &cd)) return -1;
    if (cd.kind != BAYES_DC_PLAIN || cd.dims || cd.dist->kind != BAYES_DIST_UNIVARIATE) {
      EERR(c, call->kids[j + 1], "mixture components must be plain univariate distributions");
      return -1;
    }
    in[j + 1] = plain_lpdf(c, cd.call, cd.dist, y, yname, true, BAYES_DF_LPDF);
    if (in[j + 1] < 0) return -1;
    if (bayes_cc_slot(c, in[j + 1])->n != n) {
      EERR(c, call->kids[j + 1], "mixture component %d does not match the variate's length", j + 1);
      return -1;
    }
  }
  bayes_shape sc = bayes_shape_scalar();
  int first = c->prog->nins;
  int i = bayes_prog_add(c->prog, &bayes_op_log_mix, k + 1, in, 1, &sc, false);
  if (i < 0) return c->d->oom = 1, -1;
  c->prog->ins[i].line = call->line;
  c->prog->ins[i].col = call->col;
  c->prog->ins[i].work = (size_t)k + (size_t)k * n;
  int o = c->prog->ins[i].out[0];
  if (bayes_cc_emit_done(c, first)) return -1;
  return o;
}

int bayes_cc_dist_rng(bayes_cc *c, const bayes_ast *e)
{
  int which;
  bool rngf;
  const bayes_dist *d;
  const bayes_ast *call = e;
  const bayes_ast *dims = NULL;
  int skip = 0;
  if (e->kind == BAYES_AST_CALL && (d = dist_fn(e->name, &which, &rngf)) && rngf) {
    skip = 0;
  } else {
    bayes_dcall dc;
    if (bayes_cc_dcall(c, e, &dc)) return -1;
    if (dc.kind != BAYES_DC_PLAIN) {
      EERR(c, e, "random draws from %s(...) are not supported; draw the pieces separately",
           dc.kind == BAYES_DC_MIXTURE ? "mixture" : "truncated");
      return -1;
    }
    d = dc.dist;
    call = dc.call;
    dims = dc.dims;
  }
  if (!d->rng && !d->mv_rng) {
    EERR(c, call, "%s has no random number generator (it is improper)", d->name);
    return -1;
  }
  int slots[BAYES_DIST_MAXARG];
  const bayes_ast *at[BAYES_DIST_MAXARG];
  int n = dist_args(c, d, call, skip, slots, at);
  if (n < 0) return -1;
  bayes_shape want = bayes_shape_scalar();
  bool have_dims = false;
  if (dims) {
    want.rank = dims->nkids - 1;
    for (int i = 1; i < dims->nkids; i++) {
      long v;
      if (bayes_cc_const_int(c, dims->kids[i], "a dimension", &v)) return -1;
      if (v < 0) {
        EERR(c, dims->kids[i], "a dimension cannot be negative");
        return -1;
      }
      want.dim[i - 1] = (size_t)v;
    }
    double nw = 1;
    for (int j = 0; j < want.rank; j++) nw *= (double)want.dim[j];
    if (nw > BAYES_MAX_ELEMENTS) {
      EERR(c, dims, "%.0f draws are too many; at most %d are supported", nw, BAYES_MAX_ELEMENTS);
      return -1;
    }
    have_dims = true;
  }
  if (d->kind == BAYES_DIST_MULTIVARIATE) {
    const bayes_shape *shp[BAYES_DIST_MAXARG + 1];
    bayes_shape copies[BAYES_DIST_MAXARG + 1];
    /* a declared shape tells distributions whose parameters do not (lkj_corr(2) [3, 3]) */
    copies[0] = have_dims ? want : bayes_shape_scalar();
    shp[0] = &copies[0];
    for (int k = 0; k < n; k++) {
      copies[k + 1] = bayes_cc_slot(c, slots[k])->shape;
      shp[k + 1] = &copies[k + 1];
    }
    bayes_shape one;
    char err[256] = "";
    if (d->mv_shape(n + 1, shp, &one, err, sizeof err) != 0) {
      dist_error(c, call, d, err);
      return -1;
    }
    long reps = 0;
    bayes_shape out = one;
    if (have_dims && !bayes_shape_eq(&want, &one)) {
      /* [N] before the variate's own shape: N independent draws */
      if (want.rank == 1 && one.rank + 1 <= BAYES_MAX_RANK) {
        reps = (long)want.dim[0];
        out.rank = one.rank + 1;
        out.dim[0] = want.dim[0];
        for (int j = 0; j < one.rank; j++) out.dim[j + 1] = one.dim[j];
      } else if (!bayes_shape_eq(&want, &one)) {
        char b1[64], b2[64];
        EERR(c, dims, "the shape %s does not fit %s draws of shape %s",
             bayes_shape_str(&want, b1, sizeof b1), d->name, bayes_shape_str(&one, b2, sizeof b2));
        return -1;
      }
    }
    return emit_dist_op(c, d, &bayes_op_dist_mv_rng, 0, n, slots, &out, d->discrete, call, reps);
  }
  argpack ap;
  pack(c, &ap, n, slots, at);
  bayes_fnctx fx = {c->prog, call->line, call->col, d->name, bayes_cc_fnerr, c, 0};
  int bs[BAYES_DIST_MAXARG];
  bayes_shape out = bayes_shape_scalar();
  int first = c->prog->nins;
  if (n > 0 && bayes_fn_broadcast(&fx, n, ap.a, bs, &out)) return -1;
  if (bayes_cc_emit_done(c, first)) return -1;
  if (have_dims) {
    size_t no = bayes_shape_size(&out);
    if (no != 1 && !bayes_shape_eq(&out, &want)) {
      char b1[64], b2[64];
      EERR(c, dims, "the arguments of %s have shape %s, which does not match the shape %s",
           d->name, bayes_shape_str(&out, b1, sizeof b1), bayes_shape_str(&want, b2, sizeof b2));
      return -1;
    }
    out = want;
  }
  return emit_dist_op(c, d, &bayes_op_dist_rng, 0, n, bs, &out, d->discrete, call, 0);
}

/* ---- log_mix op: in [w (k), lp_1 (n), ..., lp_k (n)] -> sum_i log sum_j w_j exp(lp_j[i]).
 * work: k + k*n doubles: log w, then (in gradient mode) the responsibilities
 * r_ij = w_j exp(lp_j[i]) / sum_l w_l exp(lp_l[i]) that the reverse pass applies. */

static void log_mix_fwd(const bayes_bound *b)
{
  int k = b->nin - 1;
  size_t n = b->xn[1];
  double *lw = b->work, *resp = b->work + k;
  for (int j = 0; j < k; j++) lw[j] = log(b->x[0][j]);
  double total = 0;
  for (size_t i = 0; i < n; i++) {
    double m = -INFINITY;
    for (int j = 0; j < k; j++) {
      double t = lw[j] + b->x[j + 1][i];
      if (t > m) m = t;
    }
    if (m == -INFINITY) {
      total = -INFINITY;
      continue;
    }
    double s = 0;
    for (int j = 0; j < k; j++) s += exp(lw[j] + b->x[j + 1][i] - m);
    total += m + log(s);
    if (b->ex->grad)
      for (int j = 0; j < k; j++) resp[i * (size_t)k + j] = exp(lw[j] + b->x[j + 1][i] - m) / s;
  }
  b->y[0][0] = total;
}

static void log_mix_bwd(const bayes_bound *b)
{
  int k = b->nin - 1;
  size_t n = b->xn[1];
  const double *w = b->x[0], *resp = b->work + k;
  double g = b->gy[0][0];
  for (size_t i = 0; i < n; i++)
    for (int j = 0; j < k; j++) {
      double r = resp[i * (size_t)k + j];
      if (b->gx[j + 1]) b->gx[j + 1][i] += g * r;
      if (b->gx[0] && w[j] > 0) b->gx[0][j] += g * r / w[j];
    }
}

const bayes_op bayes_op_log_mix = {"log_mix", log_mix_fwd, log_mix_bwd, NULL};
