/* compile.c — declarations to a compiled model: data checked and turned into constants,
 * parameters given the transform their prior's support implies, likelihood and factor
 * terms summed into the log density, generated quantities, the instruction sections each
 * evaluation runs, and the public bayes.h interface over them. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compile.h"
#include "ops.h"

#define XERR(c, x, ...) bayes_cc_error((c), (x)->line, (x)->col, (x)->len, __VA_ARGS__)
#define EERR(c, e, ...) bayes_cc_error((c), (e)->line, (e)->col, (e)->len, __VA_ARGS__)

static bool is_dist_expr(bayes_cc *c, const bayes_ast *e)
{
  if (e->kind == BAYES_AST_INDEX) e = e->kids[0];
  if (e->kind == BAYES_AST_NAME) /* `flat`, unless the user has a `beta` of their own */
    return bayes_dist_find(e->name) && !bayes_mdef_find(c->m, e->name);
  return e->kind == BAYES_AST_CALL &&
         (bayes_dist_find(e->name) || strcmp(e->name, "mixture") == 0 ||
          strcmp(e->name, "truncated") == 0);
}

static int add_term(bayes_cc *c, int slot, bayes_term_kind kind, const char *label, int line,
                    int col)
{
  bayes_model *m = c->mod;
  if (bayes_grow(&m->terms, &m->terms_cap, m->nterms + 1, sizeof *m->terms)) {
    c->d->oom = 1;
    return -1;
  }
  bayes_term *t = &m->terms[m->nterms++];
  t->slot = slot;
  t->kind = kind;
  t->label = label;
  t->line = line;
  t->col = col;
  return 0;
}

static const char *labelf(bayes_cc *c, const char *fmt, const char *name)
{
  char buf[256];
  snprintf(buf, sizeof buf, fmt, name);
  return bayes_arena_strdup(&c->m->arena, buf);
}

/* ---- data ---- */

static void elem_name(char *buf, size_t len, const char *name, const bayes_shape *s, size_t f)
{
  if (s->rank == 0) {
    snprintf(buf, len, "%s", name);
    return;
  }
  size_t idx[BAYES_MAX_RANK];
  for (int j = s->rank - 1; j >= 0; j--) {
    idx[j] = f % s->dim[j];
    f /= s->dim[j];
  }
  int k = snprintf(buf, len, "%s[", name);
  for (int j = 0; j < s->rank && k > 0 && (size_t)k < len; j++)
    k += snprintf(buf + k, len - (size_t)k, "%s%zu", j ? ", " : "", idx[j] + 1);
  if (k > 0 && (size_t)k < len) snprintf(buf + k, len - (size_t)k, "]");
}

static void value_error(bayes_cc *c, bayes_decl *x, const bayes_value *v, const char *fmt,
                        const char *a)
{
  char msg[512];
  snprintf(msg, sizeof msg, fmt, a);
  if (v->src && v->line)
    bayes_error(c->d, v->src, v->line, v->col, 1, "%s", msg);
  else
    XERR(c, x, "%s", msg);
}

static int check_bound(bayes_cc *c, bayes_decl *x, const bayes_value *v, const bayes_ast *be,
                       bool lower, const bayes_shape *shape)
{
  int bs = bayes_cc_expr(c, be);
  if (bs < 0) return -1;
  const bayes_slot *sl = bayes_cc_slot(c, bs);
  if (!(sl->flags & BAYES_SLOT_CONST)) {
    EERR(c, be, "a bound on data must be known before sampling (data or a constant)");
    return -1;
  }
  if (sl->n != 1 && sl->n != v->n) {
    char b1[64], b2[64];
    EERR(c, be, "the bound has shape %s but '%s' has shape %s",
         bayes_shape_str(&sl->shape, b1, sizeof b1), x->name,
         bayes_shape_str(shape, b2, sizeof b2));
    return -1;
  }
  const double *b = c->prog->consts + sl->off;
  for (size_t i = 0; i < v->n; i++) {
    double bi = b[sl->n == 1 ? 0 : i], vi = v->v[i];
    if (isnan(vi)) continue;
    if (lower ? vi < bi : vi > bi) {
      char en[128], msg[300];
      elem_name(en, sizeof en, x->name, shape, i);
      snprintf(msg, sizeof msg, "%s = %.17g is %s %s bound %.17g", en, vi,
               lower ? "below its" : "above its", lower ? "lower" : "upper", bi);
      value_error(c, x, v, "%s", msg);
      return -1;
    }
  }
  return 0;
}

static int compile_data(bayes_cc *c, bayes_decl *x)
{
  bayes_mdef *m = c->m;
  /* where the value comes from, in order: --data, the model file, data: {file: ...} */
  const bayes_named_value *from_data =
      m->have_data_file ? bayes_dataset_get(&m->data_file, x->name) : NULL;
  const bayes_named_value *from_file =
      m->have_inline_file ? bayes_dataset_get(&m->inline_file, x->name) : NULL;
  const bayes_named_value *nv = NULL;
  bayes_dataset *ds = NULL;
  if (from_file) ((bayes_named_value *)from_file)->used = true; /* read, even if overridden */
  if (from_data) {
    if (x->has_value || from_file)
      bayes_diag_add(c->d, BAYES_DIAG_WARNING, &m->src, x->line, x->col, x->len,
                     "the value of '%s' in the --data file replaces the one given %s", x->name,
                     x->has_value ? "here" : "in the model's data file");
    nv = from_data;
    ds = &m->data_file;
  } else if (x->has_value) {
    if (from_file)
      bayes_diag_add(c->d, BAYES_DIAG_WARNING, &m->src, x->line, x->col, x->len,
                     "'%s' is given here and also in %s; the value given here is used",
                     x->name, m->inline_file.src ? m->inline_file.src->path : "the data file");
  } else if (from_file) {
    nv = from_file;
    ds = &m->inline_file;
  }
  bool have = x->has_value || nv;
  bayes_value v = x->value;
  if (nv) {
    ((bayes_named_value *)nv)->used = true;
    if (nv->bad) {
      bayes_dataset_explain(&m->arena, ds, nv, c->d);
      return -1;
    }
    v = nv->val;
  }
  if (!have) {
    XERR(c, x, "no value for data '%s': give it here, in the file named by --data, or in "
         "data: {file: ...}", x->name);
    return -1;
  }
  bayes_shape shape = v.shape;
  bool is_int = v.is_int;
  if (x->declared) {
    is_int = x->decl_int;
    if (x->decl_int && !v.is_int) {
      for (size_t i = 0; i < v.n; i++)
        if (v.v[i] != floor(v.v[i]) || !isfinite(v.v[i])) {
          char en[128];
          elem_name(en, sizeof en, x->name, &v.shape, i);
          char msg[256];
          snprintf(msg, sizeof msg, "'%s' is declared int, but %s = %.17g is not an integer",
                   x->name, en, v.v[i]);
          value_error(c, x, &v, "%s", msg);
          return -1;
        }
    }
    if (x->ndims >= 0) {
      bayes_shape want = bayes_shape_scalar();
      want.rank = x->ndims;
      bool any_unknown = false;
      for (int j = 0; j < x->ndims; j++) {
        if (!x->dims[j]) {
          any_unknown = true;
          want.dim[j] = j < v.shape.rank ? v.shape.dim[j] : 0;
          continue;
        }
        long dv;
        if (bayes_cc_const_int(c, x->dims[j], "a dimension", &dv)) return -1;
        if (dv < 0) {
          EERR(c, x->dims[j], "a dimension cannot be negative (got %ld)", dv);
          return -1;
        }
        want.dim[j] = (size_t)dv;
      }
      (void)any_unknown;
      size_t wn = bayes_shape_size(&want);
      bool ok = bayes_shape_eq(&want, &v.shape) ||
                (wn == v.n && (v.shape.rank <= 1 || wn == 0));
      if (!ok) {
        char b1[64], b2[64], msg[256];
        snprintf(msg, sizeof msg, "'%s' is declared with shape %s but its value has shape %s",
                 x->name, bayes_shape_str(&want, b1, sizeof b1),
                 bayes_shape_str(&v.shape, b2, sizeof b2));
        value_error(c, x, &v, "%s", msg);
        return -1;
      }
      shape = want;
    }
  }
  if (!x->allow_nan)
    for (size_t i = 0; i < v.n; i++)
      if (!isfinite(v.v[i])) {
        char en[128], msg[300];
        elem_name(en, sizeof en, x->name, &shape, i);
        snprintf(msg, sizeof msg, "%s is %s; missing or infinite values are not allowed in "
                 "data (declare allow_nan: true to permit them)", en,
                 isnan(v.v[i]) ? "NaN" : "infinite");
        value_error(c, x, &v, "%s", msg);
        return -1;
      }
  if (x->lower && check_bound(c, x, &v, x->lower, true, &shape)) return -1;
  if (x->upper && check_bound(c, x, &v, x->upper, false, &shape)) return -1;
  int s = bayes_prog_const(c->prog, &shape, is_int ? BAYES_SLOT_INT : 0, v.v);
  if (s < 0) {
    c->d->oom = 1;
    return -1;
  }
  c->prog->slots[s].name = x->name;
  return s;
}

/* ---- parameters ---- */

typedef struct {
  const char *tr;            /* transform name */
  const bayes_ast *lower, *upper;
  double clower, cupper;     /* constant bounds when the AST is NULL */
  bool has_clower, has_cupper;
} tchoice;

static const char *support_transform(bayes_support s)
{
  switch (s) {
  case BAYES_SUPPORT_SIMPLEX: return "simplex";
  case BAYES_SUPPORT_CORR_CHOLESKY: return "cholesky_corr";
  case BAYES_SUPPORT_CORR: return "corr";
  case BAYES_SUPPORT_COV: return "cov";
  default: return NULL;
  }
}

static int choose_transform(bayes_cc *c, bayes_decl *x, const bayes_dcall *dc, tchoice *t)
{
  memset(t, 0, sizeof *t);
  const bayes_dist *d = dc->dist;
  bayes_support sup = BAYES_SUPPORT_REAL;
  if (dc->kind == BAYES_DC_MIXTURE) {
    bayes_dcall cd;
    if (bayes_cc_dcall(c, dc->call->kids[1], &cd)) return -1;
    d = cd.dist;
  }
  if (d) sup = d->support;
  const bayes_ast *call = dc->kind == BAYES_DC_TRUNCATED ? dc->inner : dc->call;
  if (call->kind == BAYES_AST_INDEX) call = call->kids[0];
  switch (sup) {
  case BAYES_SUPPORT_POSITIVE:
  case BAYES_SUPPORT_NONNEG:
    t->has_clower = true;
    t->clower = 0;
    break;
  case BAYES_SUPPORT_UNIT:
    t->has_clower = t->has_cupper = true;
    t->clower = 0;
    t->cupper = 1;
    break;
  case BAYES_SUPPORT_INTERVAL:
  case BAYES_SUPPORT_LOWER: {
    int k = d->bound_arg - 1;  /* parameter index of the bound */
    if (dc->kind != BAYES_DC_PLAIN || k < 0 || k >= call->nkids) {
      EERR(c, call, "%s: cannot determine its support bounds here", d->name);
      return -1;
    }
    t->lower = call->kids[k];
    if (sup == BAYES_SUPPORT_INTERVAL) {
      if (k + 1 >= call->nkids) {
        EERR(c, call, "%s: cannot determine its support bounds here", d->name);
        return -1;
      }
      t->upper = call->kids[k + 1];
    }
    break;
  }
  case BAYES_SUPPORT_INT:
  case BAYES_SUPPORT_INT_NONNEG:
  case BAYES_SUPPORT_INT_BINARY:
  case BAYES_SUPPORT_INT_RANGE:
    XERR(c, x, "'%s' has a discrete prior (%s), but parameters must be continuous for "
         "gradient-based inference; marginalise the discrete variable instead: write the "
         "likelihood as mixture(weights, d1, d2, ...) or sum over its values with "
         "log_sum_exp in factors", x->name, d->name);
    return -1;
  default:
    break;
  }
  const char *special = support_transform(sup);
  if (dc->kind == BAYES_DC_TRUNCATED) {
    if (dc->trunc_lower) {
      t->lower = dc->trunc_lower;
      t->has_clower = false;
    }
    if (dc->trunc_upper) {
      t->upper = dc->trunc_upper;
      t->has_cupper = false;
    }
  }
  if (x->lower) {
    t->lower = x->lower;
    t->has_clower = false;
  }
  if (x->upper) {
    t->upper = x->upper;
    t->has_cupper = false;
  }
  bool has_lo = t->lower || t->has_clower, has_hi = t->upper || t->has_cupper;
  if (special) {
    if (x->lower || x->upper) {
      XERR(c, x, "'%s' has a %s support (from %s) and cannot also have bounds", x->name,
           special, d->name);
      return -1;
    }
    if (x->constraint && strcmp(x->constraint, special) != 0 &&
        !(strcmp(special, "cov") == 0 && strcmp(x->constraint, "cholesky_cov") == 0)) {
      bayes_cc_error(c, x->cline, x->ccol, (int)strlen(x->constraint),
                     "constraint '%s' does not fit the support of %s (%s)", x->constraint,
                     d->name, special);
      return -1;
    }
    t->tr = x->constraint ? x->constraint : special;
    return 0;
  }
  if (x->constraint) {
    const char *k = x->constraint;
    if (strcmp(k, "lower") == 0 || strcmp(k, "upper") == 0) {
      bayes_cc_error(c, x->cline, x->ccol, (int)strlen(k),
                     "give the bound itself, e.g. %s: 0, instead of constraint: %s", k, k);
      return -1;
    }
    bool positive = sup == BAYES_SUPPORT_POSITIVE || sup == BAYES_SUPPORT_NONNEG;
    if (strcmp(k, "positive_ordered") == 0 && (positive || sup == BAYES_SUPPORT_REAL) && !x->lower &&
        !x->upper) {
      t->tr = k;
      return 0;
    }
    if (sup != BAYES_SUPPORT_REAL || x->lower || x->upper) {
      bayes_cc_error(c, x->cline, x->ccol, (int)strlen(k),
                     "constraint '%s' cannot be combined with %s", k,
                     x->lower || x->upper ? "bounds" : "this prior's support");
      if (positive && strcmp(k, "ordered") == 0)
        bayes_diag_add(c->d, BAYES_DIAG_NOTE, &c->m->src, x->cline, x->ccol, (int)strlen(k),
                       "for positive ordered values use constraint: positive_ordered");
      return -1;
    }
    t->tr = k;
    return 0;
  }
  t->tr = has_lo && has_hi ? "lower_upper" : has_lo ? "lower" : has_hi ? "upper" : "identity";
  return 0;
}

/* The shape a prior implies when none is written: the broadcast shape of its arguments
 * (univariate) or the distribution's own rule (multivariate). */
static int implied_shape(bayes_cc *c, const bayes_dcall *dc, bayes_shape *out)
{
  const bayes_ast *call = dc->kind == BAYES_DC_TRUNCATED ? dc->inner : dc->call;
  if (call->kind == BAYES_AST_INDEX) call = call->kids[0];
  *out = bayes_shape_scalar();
  if (dc->kind == BAYES_DC_MIXTURE) {
    for (int j = 1; j < call->nkids; j++) {
      bayes_dcall cd;
      bayes_shape s;
      if (bayes_cc_dcall(c, call->kids[j], &cd) || implied_shape(c, &cd, &s)) return -1;
      if (!bayes_shape_broadcast(out, &s, out)) {
        EERR(c, call->kids[j], "mixture components have shapes that do not broadcast");
        return -1;
      }
    }
    return 0;
  }
  const bayes_dist *d = dc->dist;
  bayes_shape shapes[BAYES_DIST_MAXARG + 1];
  const bayes_shape *sp[BAYES_DIST_MAXARG + 1];
  int n = 0;
  shapes[0] = bayes_shape_scalar();
  sp[0] = &shapes[0];
  for (int i = 0; i < call->nkids && n < BAYES_DIST_MAXARG; i++) {
    int s = bayes_cc_expr(c, call->kids[i]);
    if (s < 0) return -1;
    shapes[n + 1] = bayes_cc_slot(c, s)->shape;
    sp[n + 1] = &shapes[n + 1];
    n++;
  }
  if (d->kind == BAYES_DIST_MULTIVARIATE) {
    char err[256] = "";
    if (!d->mv_shape || d->mv_shape(n + 1, sp, out, err, sizeof err) != 0) {
      if (!err[0]) snprintf(err, sizeof err, "give the parameter a shape");
      size_t nl = strlen(d->name);
      if (strncmp(err, d->name, nl) == 0 && (err[nl] == ' ' || err[nl] == ':'))
        EERR(c, call, "%s", err);
      else
        EERR(c, call, "%s: %s", d->name, err);
      return -1;
    }
    return 0;
  }
  for (int i = 1; i <= n; i++)
    if (!bayes_shape_broadcast(out, &shapes[i], out)) {
      char b1[64], b2[64];
      EERR(c, call, "the arguments of %s have shapes %s and %s, which do not broadcast",
           d->name, bayes_shape_str(out, b1, sizeof b1), bayes_shape_str(&shapes[i], b2, sizeof b2));
      return -1;
    }
  return 0;
}

static int const_slot(bayes_cc *c, double v)
{
  bayes_shape s = bayes_shape_scalar();
  int id = bayes_prog_const(c->prog, &s, 0, &v);
  if (id < 0) c->d->oom = 1;
  return id;
}

/* Named limit, so that a typo such as [100000000000] is a message, not out-of-memory. */
static bool shape_too_large(bayes_cc *c, const bayes_shape *s, const bayes_ast *at,
                            const char *name)
{
  double n = 1;
  for (int j = 0; j < s->rank; j++) n *= (double)s->dim[j];
  if (n <= BAYES_MAX_ELEMENTS) return false;
  EERR(c, at, "'%s' would have %.0f elements; at most %d are supported", name, n,
       BAYES_MAX_ELEMENTS);
  return true;
}

/* The parameter declared after x on which `slot` depends, or NULL. A parameter's bounds
 * may use data and earlier parameters only (spec section 3): points are mapped to the
 * unconstrained space in declaration order. */
static bayes_decl *later_param_dep(bayes_cc *c, int slot, const bayes_decl *x)
{
  bayes_prog *p = c->prog;
  if (bayes_cc_is_const(c, slot)) return NULL;
  unsigned char *need = bayes_calloc((size_t)p->nslots + 1, 1);
  if (!need) return NULL;
  need[slot] = 1;
  for (int i = p->nins - 1; i >= 0; i--) {
    if (c->mod->dead[i]) continue;
    const bayes_instr *ins = &p->ins[i];
    bool any = false;
    for (int k = 0; k < ins->nout; k++) any |= need[ins->out[k]];
    if (any)
      for (int k = 0; k < ins->nin; k++) need[ins->in[k]] = 1;
  }
  bayes_decl *found = NULL;
  for (size_t i = 0; i < c->m->ndecls && !found; i++) {
    bayes_decl *y = c->m->decls[i];
    if (y->kind != BAYES_DECL_PARAM || y->param_index <= x->param_index || y->state != 2) continue;
    if (need[c->mod->pc[y->param_index].u_slot]) found = y;
  }
  bayes_free(need);
  return found;
}

static int compile_param(bayes_cc *c, bayes_decl *x)
{
  bayes_dcall dc;
  if (!x->expr) return -1;
  if (bayes_cc_dcall(c, x->expr, &dc)) return -1;
  bayes_shape shape;
  const bayes_ast *dims = dc.dims;
  if (dims && x->ndims >= 0) {
    EERR(c, dims, "'%s' has a shape both here and in its shape: setting", x->name);
    return -1;
  }
  if (dims || x->ndims >= 0) {
    shape = bayes_shape_scalar();
    shape.rank = dims ? dims->nkids - 1 : x->ndims;
    if (shape.rank > BAYES_MAX_RANK) {
      EERR(c, dims ? dims : x->expr, "at most %d dimensions are supported", BAYES_MAX_RANK);
      return -1;
    }
    for (int j = 0; j < shape.rank; j++) {
      const bayes_ast *de = dims ? dims->kids[j + 1] : x->dims[j];
      long v;
      if (!de || bayes_cc_const_int(c, de, "a dimension", &v)) {
        if (!de) XERR(c, x, "every dimension of a parameter must be given");
        return -1;
      }
      if (v < 0) {
        EERR(c, de, "a dimension cannot be negative (got %ld)", v);
        return -1;
      }
      shape.dim[j] = (size_t)v;
    }
  } else if (implied_shape(c, &dc, &shape)) {
    return -1;
  }
  if (shape_too_large(c, &shape, dims ? (const bayes_ast *)dims : x->expr, x->name)) return -1;
  tchoice t;
  if (choose_transform(c, x, &dc, &t)) return -1;
  const bayes_transform *tr = bayes_transform_find(t.tr);
  if (!tr) {
    XERR(c, x, "internal error: transform '%s' is not registered (please report)", t.tr);
    return -1;
  }
  char err[256] = "";
  long m = tr->unc_size(&shape, err, sizeof err);
  if (m < 0) {
    char b[64];
    XERR(c, x, "'%s' cannot be %s with shape %s: %s", x->name, t.tr,
         bayes_shape_str(&shape, b, sizeof b), err);
    return -1;
  }
  /* bounds */
  int in[3], nin = 1;
  const bayes_ast *bexpr[2] = {t.lower, t.upper};
  double bval[2] = {t.clower, t.cupper};
  int which[2] = {0, 0};
  if (strcmp(t.tr, "lower") == 0) which[0] = 1;
  if (strcmp(t.tr, "upper") == 0) which[1] = 1;
  if (strcmp(t.tr, "lower_upper") == 0) which[0] = which[1] = 1;
  for (int k = 0; k < 2; k++) {
    if (!which[k]) continue;
    int s;
    if (bexpr[k]) {
      s = bayes_cc_expr(c, bexpr[k]);
      if (s < 0) return -1;
      bayes_decl *later = later_param_dep(c, s, x);
      if (later) {
        EERR(c, bexpr[k], "the %s bound of '%s' depends on '%s', which is declared after it; "
             "bounds may use data and earlier parameters only (declare '%s' first)",
             k ? "upper" : "lower", x->name, later->name, later->name);
        return -1;
      }
      const bayes_slot *sl = bayes_cc_slot(c, s);
      if (sl->n != 1 && sl->n != bayes_shape_size(&shape)) {
        char b1[64], b2[64];
        EERR(c, bexpr[k], "the %s bound has shape %s but '%s' has shape %s",
             k ? "upper" : "lower", bayes_shape_str(&sl->shape, b1, sizeof b1), x->name,
             bayes_shape_str(&shape, b2, sizeof b2));
        return -1;
      }
    } else {
      s = const_slot(c, bval[k]);
      if (s < 0) return -1;
    }
    in[nin++] = s;
  }
  if (nin - 1 != tr->nbounds) {
    XERR(c, x, "internal error: transform %s expects %d bounds (please report)", t.tr, tr->nbounds);
    return -1;
  }
  bayes_shape us = bayes_shape_vec((size_t)m);
  int u = bayes_prog_slot(c->prog, &us, BAYES_SLOT_ADJ);
  if (u < 0) return c->d->oom = 1, -1;
  c->prog->slots[u].name = x->name;
  in[0] = u;
  bayes_shape outs[2] = {shape, bayes_shape_scalar()};
  int first = c->prog->nins;
  int i = bayes_prog_add(c->prog, tr->op, nin, in, 2, outs, false);
  if (i < 0) return c->d->oom = 1, -1;
  bayes_instr *ins = &c->prog->ins[i];
  ins->line = x->line;
  ins->col = x->col;
  int xs = ins->out[0], lj = ins->out[1];
  c->prog->slots[xs].name = x->name;
  if (bayes_cc_emit_done(c, first)) return -1;
  /* record the parameter */
  bayes_model *mod = c->mod;
  bayes_pcomp *pc = &mod->pc[x->param_index];
  pc->u_slot = u;
  pc->x_slot = xs;
  pc->logj_slot = lj;
  pc->tr = tr;
  pc->nbounds = nin - 1;
  pc->bound_slot[0] = nin > 1 ? in[1] : -1;
  pc->bound_slot[1] = nin > 2 ? in[2] : -1;
  pc->prior = dc.dist;
  pc->decl = x;
  bayes_param_info *pi = &mod->pinfo[x->param_index];
  pi->name = x->name;
  pi->rank = shape.rank;
  for (int j = 0; j < shape.rank && j < 4; j++) pi->dim[j] = shape.dim[j];
  pi->size = bayes_shape_size(&shape);
  pi->unc_size = (size_t)m;
  pi->transform = tr->name;
  pi->prior = x->expr_text ? x->expr_text : "";
  /* the state must say "done" before the prior is compiled: the prior may refer to the
   * parameter's own value only as its variate */
  x->slot = xs;
  int lp = bayes_cc_dist_lpdf(c, x->expr, xs, x->name);
  if (lp < 0) return -1;
  if (add_term(c, lp, BAYES_TERM_PRIOR, labelf(c, "the prior of %s", x->name), x->line, x->col) ||
      add_term(c, lj, BAYES_TERM_JACOBIAN, labelf(c, "the log-Jacobian of %s", x->name), x->line,
               x->col))
    return -1;
  return xs;
}

/* ---- declarations on demand ---- */

int bayes_cc_decl(bayes_cc *c, bayes_decl *x, const bayes_ast *use)
{
  if (use) x->used = true;
  if (x->state == 2) {
    if (x->kind == BAYES_DECL_GENERATED && !c->in_generated && use) {
      EERR(c, use, "'%s' is a generated quantity; it is computed after inference and cannot "
           "be used in the model", x->name);
      return -1;
    }
    return x->slot;
  }
  if (x->state == 3) return -1;
  if (x->state == 1) {
    char path[512] = "";
    int from = 0;
    for (int i = 0; i < c->nstack; i++)
      if (c->stack[i] == x) from = i;
    for (int i = from; i < c->nstack; i++) {
      strncat(path, c->stack[i]->name, sizeof path - strlen(path) - 1);
      strncat(path, " -> ", sizeof path - strlen(path) - 1);
    }
    strncat(path, x->name, sizeof path - strlen(path) - 1);
    if (use && from == c->nstack - 1 && x->kind == BAYES_DECL_PARAM)
      EERR(c, use, "the prior of '%s' refers to '%s' itself; a prior's arguments must be data, "
           "constants or other parameters", x->name, x->name);
    else if (use && from == c->nstack - 1)
      EERR(c, use, "'%s' is defined in terms of itself", x->name);
    else if (use)
      EERR(c, use, "'%s' depends on itself: %s", x->name, path);
    else
      XERR(c, x, "'%s' depends on itself: %s", x->name, path);
    return -1;
  }
  if (x->kind == BAYES_DECL_GENERATED && !c->in_generated) {
    if (use)
      EERR(c, use, "'%s' is a generated quantity; it is computed after inference and cannot "
           "be used in the model", x->name);
    return -1;
  }
  if (c->nstack >= (int)(sizeof c->stack / sizeof *c->stack)) {
    XERR(c, x, "definitions nested too deeply (more than 256 levels)");
    return -1;
  }
  x->state = 1;
  c->stack[c->nstack++] = x;
  /* locals of an enclosing comprehension are not visible inside another declaration */
  int saved_locals = c->nlocals;
  c->nlocals = 0;
  bool saved_gen = c->in_generated;
  int s = -1;
  switch (x->kind) {
  case BAYES_DECL_DATA:
    s = compile_data(c, x);
    break;
  case BAYES_DECL_PARAM:
    s = compile_param(c, x);
    break;
  case BAYES_DECL_TRANSFORMED:
    if (!x->expr) break;
    if (is_dist_expr(c, x->expr)) {
      EERR(c, x->expr, "'%s' is a transformed quantity, computed from other values; a "
           "distribution belongs under parameters (a prior), likelihood, or generated (a draw)",
           x->name);
      break;
    }
    c->in_generated = false;
    s = bayes_cc_expr(c, x->expr);
    break;
  case BAYES_DECL_GENERATED:
    if (!x->expr) break;
    c->in_generated = true;
    s = is_dist_expr(c, x->expr) ? bayes_cc_dist_rng(c, x->expr) : bayes_cc_expr(c, x->expr);
    break;
  }
  c->in_generated = saved_gen;
  c->nlocals = saved_locals;
  c->nstack--;
  if (s >= 0 && !c->prog->slots[s].name) c->prog->slots[s].name = x->name;
  x->state = s < 0 ? 3 : 2;
  x->slot = s;
  return s;
}

/* ---- likelihood, factors ---- */

static void compile_likelihood(bayes_cc *c, bayes_lik *l)
{
  bayes_decl *x = bayes_mdef_find(c->m, l->lhs);
  if (!x) {
    const char *cands[1024];
    int n = 0;
    for (size_t i = 0; i < c->m->ndecls && n < 1000; i++)
      if (c->m->decls[i]->kind == BAYES_DECL_DATA) cands[n++] = c->m->decls[i]->name;
    cands[n] = NULL;
    const char *s = bayes_suggest(l->lhs, cands);
    bayes_cc_error(c, l->line, l->col, l->len, "'%s' is not declared under data%s%s%s", l->lhs,
                   s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
    return;
  }
  if (x->kind == BAYES_DECL_PARAM) {
    bayes_cc_error(c, l->line, l->col, l->len, "'%s' is a parameter: its prior goes under "
                   "parameters; the likelihood is for observed data", l->lhs);
    return;
  }
  if (x->kind == BAYES_DECL_GENERATED) {
    bayes_cc_error(c, l->line, l->col, l->len, "'%s' is a generated quantity, not observed data",
                   l->lhs);
    return;
  }
  x->used = true;
  int y = bayes_cc_decl(c, x, NULL);
  if (y < 0) return;
  if (!bayes_cc_is_const(c, y)) {
    bayes_cc_error(c, l->line, l->col, l->len, "the left side of a likelihood must be data, "
                   "but '%s' depends on parameters", l->lhs);
    return;
  }
  if (!l->dist) return;
  const bayes_ast *callee = l->dist->kind == BAYES_AST_INDEX ? l->dist->kids[0] : l->dist;
  bool unknown_call = callee->kind == BAYES_AST_CALL && !bayes_fn_find(callee->name) &&
                      strncmp(callee->name, "__", 2) != 0;
  /* an unknown name in call position is reported by bayes_cc_dcall with a suggestion */
  if (!is_dist_expr(c, l->dist) && !unknown_call) {
    EERR(c, l->dist, "expected a distribution for '%s', such as normal(mu, sigma)", l->lhs);
    return;
  }
  int lp = bayes_cc_dist_lpdf(c, l->dist, y, l->lhs);
  if (lp >= 0)
    add_term(c, lp, BAYES_TERM_LIKELIHOOD, labelf(c, "the likelihood of %s", l->lhs), l->line,
             l->col);
}

static void compile_factor(bayes_cc *c, bayes_factor *f, size_t k)
{
  if (!f->expr) return;
  if (is_dist_expr(c, f->expr)) {
    EERR(c, f->expr, "a factor is a log-density value, not a distribution; write e.g. "
         "normal_lpdf(x, 0, 1)");
    return;
  }
  int s = bayes_cc_expr(c, f->expr);
  if (s < 0) return;
  if (bayes_cc_slot(c, s)->n != 1) {
    const bayes_fn *sum = bayes_fn_find("sum");
    bayes_fnarg a = bayes_cc_fnarg(c, s, f->expr);
    bayes_shape copy = *a.shape;
    a.shape = &copy;
    a.cval = NULL;
    bayes_fnctx fx = {c->prog, f->line, f->col, "sum", bayes_cc_fnerr, c, 0};
    int first = c->prog->nins, out = -1;
    if (!sum || sum->emit(&fx, 1, &a, &out) || bayes_cc_emit_done(c, first)) return;
    s = out;
  }
  char label[64];
  snprintf(label, sizeof label, "factor %zu", k + 1);
  add_term(c, s, BAYES_TERM_FACTOR, bayes_arena_strdup(&c->m->arena, label), f->line, f->col);
}

/* ---- sections ---- */

static int reach(bayes_cc *c, const int *roots, int nroots, bayes_section *sec)
{
  bayes_prog *p = c->prog;
  unsigned char *need = bayes_calloc((size_t)p->nslots + 1, 1);
  int *list = bayes_calloc((size_t)p->nins + 1, sizeof *list);
  if (!need || !list) {
    bayes_free(need);
    bayes_free(list);
    c->d->oom = 1;
    return -1;
  }
  for (int i = 0; i < nroots; i++)
    if (roots[i] >= 0) need[roots[i]] = 1;
  int n = 0;
  for (int i = p->nins - 1; i >= 0; i--) {
    if (c->mod->dead[i]) continue;
    const bayes_instr *ins = &p->ins[i];
    bool any = false;
    for (int k = 0; k < ins->nout; k++) any |= need[ins->out[k]];
    if (!any) continue;
    list[n++] = i;
    for (int k = 0; k < ins->nin; k++) need[ins->in[k]] = 1;
  }
  for (int i = 0; i < n / 2; i++) {
    int t = list[i];
    list[i] = list[n - 1 - i];
    list[n - 1 - i] = t;
  }
  bayes_free(need);
  sec->ins = list;
  sec->n = n;
  return 0;
}

static int make_target(bayes_cc *c, bool with_likelihood)
{
  bayes_model *m = c->mod;
  int *in = bayes_calloc(m->nterms + 1, sizeof *in);
  unsigned char *isj = bayes_prog_aux(c->prog, m->nterms + 1);
  if (!in || !isj) {
    bayes_free(in);
    c->d->oom = 1;
    return -1;
  }
  int n = 0;
  for (size_t i = 0; i < m->nterms; i++) {
    if (!with_likelihood && m->terms[i].kind == BAYES_TERM_LIKELIHOOD) continue;
    isj[n] = m->terms[i].kind == BAYES_TERM_JACOBIAN;
    in[n++] = m->terms[i].slot;
  }
  bayes_shape sc = bayes_shape_scalar();
  int i = bayes_prog_add(c->prog, &bayes_op_target, n, in, 1, &sc, false);
  bayes_free(in);
  if (i < 0 || bayes_grow(&m->dead, &c->dead_cap, (size_t)c->prog->nins + 1, 1)) {
    c->d->oom = 1;
    return -1;
  }
  m->dead[i] = 0;
  c->prog->ins[i].aux = isj;
  /* the target is always evaluated (it is cheap), never folded: a model whose density is
   * constant still reports it through the same path */
  c->prog->slots[c->prog->ins[i].out[0]].flags |= BAYES_SLOT_ADJ;
  return c->prog->ins[i].out[0];
}

/* Stan's flattened names: column-major ("S.1.2" varies the first index fastest). */
static int add_outputs(bayes_cc *c, bayes_decl *x, int slot)
{
  bayes_model *m = c->mod;
  const bayes_slot *s = bayes_cc_slot(c, slot);
  size_t n = s->n;
  char **names = bayes_realloc(m->out_names, (m->nout + n + 1) * sizeof *names);
  int *os = bayes_realloc(m->out_slot, (m->nout + n + 1) * sizeof *os);
  if (names) m->out_names = names;
  if (os) m->out_slot = os;
  size_t *oe = bayes_realloc(m->out_elem, (m->nout + n + 1) * sizeof *oe);
  if (oe) m->out_elem = oe;
  if (!names || !os || !oe) return c->d->oom = 1, -1;
  const bayes_shape *sh = &s->shape;
  size_t pos[BAYES_MAX_RANK] = {0};
  for (size_t t = 0; t < n; t++) {
    char buf[256];
    int k = snprintf(buf, sizeof buf, "%s", x->name);
    size_t flat = 0;
    for (int j = 0; j < sh->rank; j++) {
      k += snprintf(buf + k, sizeof buf - (size_t)k, ".%zu", pos[j] + 1);
      flat = flat * sh->dim[j] + pos[j];
    }
    m->out_names[m->nout] = bayes_arena_strdup(&c->m->arena, buf);
    m->out_slot[m->nout] = slot;
    m->out_elem[m->nout] = flat;
    if (!m->out_names[m->nout]) return c->d->oom = 1, -1;
    m->nout++;
    for (int j = 0; j < sh->rank; j++) { /* first index fastest */
      if (++pos[j] < sh->dim[j]) break;
      pos[j] = 0;
    }
  }
  return 0;
}

static void warn_unused_data(bayes_cc *c, bool verbose)
{
  bayes_mdef *m = c->m;
  bayes_dataset *sets[2] = {&m->data_file, &m->inline_file};
  bool have[2] = {m->have_data_file, m->have_inline_file};
  for (int k = 0; k < 2 && verbose; k++) {
    if (!have[k]) continue;
    for (size_t i = 0; i < sets[k]->n; i++)
      if (!sets[k]->v[i].used)
        bayes_diag_add(c->d, BAYES_DIAG_NOTE, sets[k]->src, sets[k]->v[i].line, sets[k]->v[i].col,
                       (int)strlen(sets[k]->v[i].name), "'%s' is not used by the model",
                       sets[k]->v[i].name);
  }
}

/* ---- public interface ---- */

static int compile_model(bayes_model *mod, bayes_diag *d, bool verbose)
{
  bayes_cc cc;
  memset(&cc, 0, sizeof cc);
  bayes_cc *c = &cc;
  c->mod = mod;
  c->m = &mod->mdef;
  c->d = d;
  c->prog = &mod->prog;
  c->fold.prog = c->prog;
  bayes_mdef *m = c->m;
  size_t np = 0;
  for (size_t i = 0; i < m->ndecls; i++)
    if (m->decls[i]->kind == BAYES_DECL_PARAM) m->decls[i]->param_index = (int)np++;
  mod->nparams = np;
  mod->pc = bayes_calloc(np + 1, sizeof *mod->pc);
  mod->pinfo = bayes_calloc(np + 1, sizeof *mod->pinfo);
  if (!mod->pc || !mod->pinfo) return d->oom = 1, -1;
  static const bayes_decl_kind order[] = {BAYES_DECL_DATA, BAYES_DECL_PARAM,
                                          BAYES_DECL_TRANSFORMED};
  for (int k = 0; k < 3; k++)
    for (size_t i = 0; i < m->ndecls; i++)
      if (m->decls[i]->kind == order[k]) bayes_cc_decl(c, m->decls[i], NULL);
  for (size_t i = 0; i < m->nlik; i++) compile_likelihood(c, &m->lik[i]);
  for (size_t i = 0; i < m->nfactors; i++) compile_factor(c, &m->factors[i], i);
  c->in_generated = true;
  for (size_t i = 0; i < m->ndecls; i++)
    if (m->decls[i]->kind == BAYES_DECL_GENERATED) bayes_cc_decl(c, m->decls[i], NULL);
  c->in_generated = false;
  if (d->nerr || d->oom) return -1;
  /* the unconstrained vector: every parameter's u is a view into it, in file order */
  size_t off = 0;
  for (size_t i = 0; i < np; i++) {
    mod->pinfo[i].unc_offset = off;
    off += mod->pinfo[i].unc_size;
  }
  mod->dim = off;
  bayes_shape ts = bayes_shape_vec(off);
  mod->theta_slot = bayes_prog_slot(c->prog, &ts, BAYES_SLOT_ADJ);
  if (mod->theta_slot < 0) return d->oom = 1, -1;
  c->prog->slots[mod->theta_slot].name = "theta";
  for (size_t i = 0; i < np; i++) {
    bayes_slot *u = &c->prog->slots[mod->pc[i].u_slot];
    u->flags |= BAYES_SLOT_ALIAS;
    u->alias = mod->theta_slot;
    u->alias_off = mod->pinfo[i].unc_offset;
  }
  mod->target_full = make_target(c, true);
  mod->target_prior = make_target(c, false);
  if (mod->target_full < 0 || mod->target_prior < 0) return -1;
  /* outputs: parameters, per-draw transformed quantities, generated quantities */
  size_t nroots = 0;
  int *roots = bayes_calloc(m->ndecls + 1, sizeof *roots);
  if (!roots) return d->oom = 1, -1;
  for (int pass = 0; pass < 3; pass++)
    for (size_t i = 0; i < m->ndecls; i++) {
      bayes_decl *x = m->decls[i];
      bool take = (pass == 0 && x->kind == BAYES_DECL_PARAM) ||
                  (pass == 1 && x->kind == BAYES_DECL_TRANSFORMED && !bayes_cc_is_const(c, x->slot)) ||
                  (pass == 2 && x->kind == BAYES_DECL_GENERATED);
      if (!take || x->slot < 0) continue;
      if (add_outputs(c, x, x->slot)) {
        bayes_free(roots);
        return -1;
      }
      roots[nroots++] = x->slot;
      if (x->kind == BAYES_DECL_GENERATED) mod->has_rng = true;
    }
  int rc = reach(c, &mod->target_full, 1, &mod->s_full);
  if (!rc) rc = reach(c, &mod->target_prior, 1, &mod->s_prior);
  if (!rc) rc = reach(c, roots, (int)nroots, &mod->s_out);
  bayes_free(roots);
  if (rc) return -1;
  bayes_prog_layout(c->prog);
  warn_unused_data(c, verbose);
  for (size_t i = 0; i < m->ndecls; i++) {
    bayes_decl *x = m->decls[i];
    if (x->kind == BAYES_DECL_DATA && !x->used)
      bayes_diag_add(d, BAYES_DIAG_WARNING, &m->src, x->line, x->col, x->len,
                     "data '%s' is declared but never used", x->name);
  }
  return 0;
}

int bayes_model_load(const char *path, const bayes_load_opts *opts, bayes_model **out,
                     char **messages)
{
  bayes_diag d;
  bayes_diag_init(&d);
  *out = NULL;
  if (messages) *messages = NULL;
  bayes_model *m = bayes_calloc(1, sizeof *m);
  if (!m) return BAYES_EINTERNAL;
  bayes_prog_init(&m->prog);
  int rc = bayes_mdef_read(&m->mdef, path, opts, &d);
  /* after errors in declarations that were read, compiling the rest still finds
   * independent errors (several per run); a failed declaration stays quiet */
  if (rc == BAYES_OK || (rc == BAYES_EDATA && !m->mdef.stop && !d.limit_hit)) {
    if (compile_model(m, &d, opts && opts->verbose) != 0 || rc != BAYES_OK)
      rc = d.oom ? BAYES_EINTERNAL : BAYES_EDATA;
  }
  if (d.oom) {
    rc = BAYES_EINTERNAL;
    bayes_diag_add(&d, BAYES_DIAG_ERROR, NULL, 0, 0, 0, "out of memory");
  }
  if (messages && d.n) {
    bayes_sb sb;
    bayes_sb_init(&sb);
    bayes_diag_format(&d, &sb);
    *messages = sb.oom ? NULL : sb.s;
    if (sb.oom) bayes_sb_destroy(&sb);
  }
  bayes_diag_destroy(&d);
  if (rc != BAYES_OK) {
    bayes_model_free(m);
    return rc;
  }
  m->inf = m->mdef.inference.info;
  *out = m;
  return BAYES_OK;
}

void bayes_model_free(bayes_model *m)
{
  if (!m) return;
  bayes_free(m->dead);
  bayes_free(m->s_full.ins);
  bayes_free(m->s_prior.ins);
  bayes_free(m->s_out.ins);
  bayes_free(m->pc);
  bayes_free(m->pinfo);
  bayes_free(m->terms);
  bayes_free(m->out_names);
  bayes_free(m->out_slot);
  bayes_free(m->out_elem);
  bayes_prog_destroy(&m->prog);
  bayes_mdef_destroy(&m->mdef);
  bayes_free(m);
}

void bayes_string_free(char *s) { bayes_free(s); }
const char *bayes_model_name(const bayes_model *m) { return m->mdef.name; }
const char *bayes_model_description(const bayes_model *m)
{
  return m->mdef.description ? m->mdef.description : "";
}
size_t bayes_model_dim(const bayes_model *m) { return m->dim; }
size_t bayes_model_nparams(const bayes_model *m) { return m->nparams; }
const bayes_param_info *bayes_model_param(const bayes_model *m, size_t i)
{
  return i < m->nparams ? &m->pinfo[i] : NULL;
}
size_t bayes_model_nout(const bayes_model *m) { return m->nout; }
const char *bayes_model_out_name(const bayes_model *m, size_t i)
{
  return i < m->nout ? m->out_names[i] : NULL;
}
const bayes_inference_info *bayes_model_inference(const bayes_model *m) { return &m->inf; }

char *bayes_model_message(const bayes_model *m, const char *level, int line, int col,
                          int len, const char *fmt, ...)
{
  bayes_diag d;
  bayes_diag_init(&d);
  bayes_diag_level lv = strcmp(level, "warning") == 0 ? BAYES_DIAG_WARNING
                        : strcmp(level, "note") == 0  ? BAYES_DIAG_NOTE
                                                      : BAYES_DIAG_ERROR;
  va_list ap;
  va_start(ap, fmt);
  bayes_diag_vadd(&d, lv, &m->mdef.src, line, col, len, fmt, ap);
  va_end(ap);
  bayes_sb sb;
  bayes_sb_init(&sb);
  bayes_diag_format(&d, &sb);
  bayes_diag_destroy(&d);
  if (sb.oom) {
    bayes_sb_destroy(&sb);
    return NULL;
  }
  return sb.s;
}
const char *bayes_version(void) { return PACKAGE_VERSION; }

bayes_ws *bayes_ws_alloc(const bayes_model *m)
{
  bayes_ws *w = bayes_calloc(1, sizeof *w);
  if (!w) return NULL;
  w->m = m;
  w->ex = bayes_exec_alloc(&m->prog);
  if (!w->ex) {
    bayes_free(w);
    return NULL;
  }
  return w;
}

void bayes_ws_free(bayes_ws *w)
{
  if (!w) return;
  bayes_exec_free(w->ex);
  bayes_free(w);
}

const char *bayes_ws_error(const bayes_ws *w) { return w->err; }

static void note_failure(bayes_ws *w)
{
  const bayes_exec *ex = w->ex;
  const bayes_instr *ins = &w->m->prog.ins[ex->failed - 1];
  if (ins->line)
    snprintf(w->err, sizeof w->err, "%s:%d:%d: %s", w->m->mdef.src.path, ins->line, ins->col,
             ex->fail_msg);
  else
    snprintf(w->err, sizeof w->err, "%s", ex->fail_msg);
}

int bayes_ws_log_density(bayes_ws *w, const double *theta, unsigned flags, double *lp,
                         double *grad)
{
  const bayes_model *m = w->m;
  bayes_exec *ex = w->ex;
  w->err[0] = '\0';
  memcpy(bayes_exec_val(ex, m->theta_slot), theta, m->dim * sizeof(double));
  ex->grad = grad != NULL;
  ex->jacobian = (flags & BAYES_LD_JACOBIAN) != 0;
  const bayes_section *s = (flags & BAYES_LD_PRIOR_ONLY) ? &m->s_prior : &m->s_full;
  int target = (flags & BAYES_LD_PRIOR_ONLY) ? m->target_prior : m->target_full;
  bayes_exec_forward(ex, s);
  if (ex->failed) {
    note_failure(w);
    *lp = -INFINITY;
    if (grad) memset(grad, 0, m->dim * sizeof(double));
    return 0;
  }
  *lp = bayes_exec_val(ex, target)[0];
  if (grad) {
    bayes_exec_backward(ex, s, target);
    memcpy(grad, bayes_exec_adj(ex, m->theta_slot), m->dim * sizeof(double));
  }
  return 0;
}

static bool is_transform_ins(const bayes_model *m, int i)
{
  for (size_t k = 0; k < m->nparams; k++)
    if (m->prog.ins[i].op == m->pc[k].tr->op) return true;
  return false;
}

int bayes_ws_constrained_gradient(bayes_ws *w, const double *theta, unsigned flags,
                                  double *lp, double *const *grads)
{
  const bayes_model *m = w->m;
  bayes_exec *ex = w->ex;
  /* the gradient in the constrained space holds the other parameters' constrained values
   * fixed: the reverse pass stops at the transforms (no flow through a bound into the
   * parameter it constrains), and there is no Jacobian term */
  const bayes_section *s = (flags & BAYES_LD_PRIOR_ONLY) ? &m->s_prior : &m->s_full;
  int target = (flags & BAYES_LD_PRIOR_ONLY) ? m->target_prior : m->target_full;
  w->err[0] = '\0';
  memcpy(bayes_exec_val(ex, m->theta_slot), theta, m->dim * sizeof(double));
  ex->grad = true;
  ex->jacobian = false;
  bayes_exec_forward(ex, s);
  if (ex->failed) {
    note_failure(w);
    *lp = -INFINITY;
    return BAYES_EDATA;
  }
  *lp = bayes_exec_val(ex, target)[0];
  memset(ex->adj, 0, m->prog.nadj * sizeof(double));
  double *g0 = bayes_exec_adj(ex, target);
  if (g0) g0[0] = 1.0;
  for (int k = s->n - 1; k >= 0; k--) {
    int i = s->ins[k];
    const bayes_op *op = m->prog.ins[i].op;
    const bayes_bound *b = &ex->bound[i];
    if (!op->bwd || is_transform_ins(m, i)) continue;
    bool any = false;
    for (int j = 0; j < b->nout; j++)
      if (b->gy[j]) any = true;
    if (any) op->bwd(b);
  }
  for (size_t i = 0; i < m->nparams; i++) {
    const double *a = bayes_exec_adj(w->ex, m->pc[i].x_slot);
    for (size_t j = 0; j < m->pinfo[i].size; j++) grads[i][j] = a ? a[j] : 0.0;
  }
  return 0;
}

int bayes_ws_outputs(bayes_ws *w, const double *theta, gsl_rng *rng, double *out)
{
  const bayes_model *m = w->m;
  bayes_exec *ex = w->ex;
  w->err[0] = '\0';
  memcpy(bayes_exec_val(ex, m->theta_slot), theta, m->dim * sizeof(double));
  ex->grad = false;
  ex->rng = rng;
  if (m->has_rng && !rng) {
    snprintf(w->err, sizeof w->err, "generated quantities need a random number generator");
    return BAYES_EINTERNAL;
  }
  bayes_exec_forward(ex, &m->s_out);
  if (ex->failed) {
    note_failure(w);
    return BAYES_EDATA;
  }
  for (size_t i = 0; i < m->nout; i++) out[i] = bayes_exec_val(ex, m->out_slot[i])[m->out_elem[i]];
  return 0;
}

int bayes_ws_unconstrain(bayes_ws *w, const double *const *values, double *theta, char *err,
                         size_t errlen)
{
  const bayes_model *m = w->m;
  bayes_exec *ex = w->ex;
  memset(theta, 0, m->dim * sizeof(double));
  /* parameters in order: a parameter's bounds may depend on earlier ones only, so run the
   * program with what is known so far before inverting each transform */
  for (size_t i = 0; i < m->nparams; i++) {
    const bayes_pcomp *pc = &m->pc[i];
    const double *bounds[2] = {NULL, NULL};
    size_t bn[2] = {1, 1};
    if (pc->nbounds) {
      memcpy(bayes_exec_val(ex, m->theta_slot), theta, m->dim * sizeof(double));
      ex->grad = false;
      ex->jacobian = true;
      for (int k = 0; k < m->s_full.n; k++) {
        int ii = m->s_full.ins[k];
        ex->failed = 0;
        m->prog.ins[ii].op->fwd(&ex->bound[ii]);
      }
      ex->failed = 0;
      for (int k = 0; k < pc->nbounds; k++) {
        bounds[k] = bayes_exec_val(ex, pc->bound_slot[k]);
        bn[k] = m->prog.slots[pc->bound_slot[k]].n;
      }
    }
    char e2[256] = "";
    const bayes_shape *sh = &m->prog.slots[pc->x_slot].shape;
    if (pc->tr->inverse(values[i], sh, bounds, bn, theta + m->pinfo[i].unc_offset, e2,
                        sizeof e2) != 0) {
      snprintf(err, errlen, "%s: %s", m->pinfo[i].name, e2);
      return BAYES_EDATA;
    }
  }
  return 0;
}
