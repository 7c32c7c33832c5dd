/* dump.c — textual views of a compiled model: the summary `bayesrun check` prints, the
 * --dump ast|graph|tape listings that golden tests compare, and Graphviz DOT for teaching.
 * Reads the model; changes nothing. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compile.h"

static const char *kind_title[] = {"data", "parameters", "transformed", "generated"};

static void shape_decl(bayes_sb *sb, const bayes_slot *s)
{
  bayes_sb_puts(sb, (s->flags & BAYES_SLOT_INT) ? "int" : "real");
  if (s->shape.rank) {
    bayes_sb_putc(sb, '[');
    for (int j = 0; j < s->shape.rank; j++) bayes_sb_printf(sb, "%s%zu", j ? ", " : "", s->shape.dim[j]);
    bayes_sb_putc(sb, ']');
  }
}

static void values_preview(bayes_sb *sb, const bayes_model *m, const bayes_slot *s)
{
  const double *v = m->prog.consts + s->off;
  size_t n = s->n < 6 ? s->n : 6;
  if (s->shape.rank == 0) {
    bayes_sb_puts(sb, "= ");
    bayes_sb_double(sb, v[0]);
    return;
  }
  bayes_sb_puts(sb, "= [");
  for (size_t i = 0; i < n; i++) {
    if (i) bayes_sb_puts(sb, ", ");
    bayes_sb_double(sb, v[i]);
  }
  if (s->n > n) bayes_sb_puts(sb, ", ...");
  bayes_sb_putc(sb, ']');
}

static void pad(bayes_sb *sb, size_t start, size_t col)
{
  size_t cur = sb->len - start;
  do bayes_sb_putc(sb, ' ');
  while (++cur < col);
}

char *bayes_model_summary(const bayes_model *m)
{
  bayes_sb sb;
  bayes_sb_init(&sb);
  const bayes_mdef *d = &m->mdef;
  bayes_sb_printf(&sb, "model %s", d->name);
  if (d->description) bayes_sb_printf(&sb, ": %s", d->description);
  bayes_sb_putc(&sb, '\n');
  for (int k = 0; k < 4; k++) {
    bool any = false;
    for (size_t i = 0; i < d->ndecls; i++) {
      const bayes_decl *x = d->decls[i];
      if ((int)x->kind != k || x->slot < 0) continue;
      if (!any) {
        if (k == BAYES_DECL_PARAM)
          bayes_sb_printf(&sb, "parameters (%zu unconstrained):\n", m->dim);
        else
          bayes_sb_printf(&sb, "%s:\n", kind_title[k]);
        any = true;
      }
      const bayes_slot *s = &m->prog.slots[x->slot];
      size_t start = sb.len;
      bayes_sb_printf(&sb, "  %s", x->name);
      pad(&sb, start, 12);
      shape_decl(&sb, s);
      pad(&sb, start, 28);
      if (k == BAYES_DECL_DATA) {
        values_preview(&sb, m, s);
      } else if (k == BAYES_DECL_PARAM) {
        const bayes_param_info *p = &m->pinfo[x->param_index];
        bayes_sb_printf(&sb, "%s", p->prior);
        pad(&sb, start, 56);
        bayes_sb_printf(&sb, "transform %s", p->transform);
      } else if (k == BAYES_DECL_TRANSFORMED) {
        bayes_sb_printf(&sb, "%s", x->expr_text ? x->expr_text : "");
        pad(&sb, start, 56);
        bayes_sb_puts(&sb, (s->flags & BAYES_SLOT_CONST) ? "computed once" : "per draw");
      } else {
        bayes_sb_printf(&sb, "%s", x->expr_text ? x->expr_text : "");
      }
      bayes_sb_putc(&sb, '\n');
    }
  }
  bool any = false;
  for (size_t i = 0; i < m->nterms; i++) {
    const bayes_term *t = &m->terms[i];
    if (t->kind != BAYES_TERM_LIKELIHOOD) continue;
    if (!any) bayes_sb_puts(&sb, "likelihood:\n");
    any = true;
  }
  for (size_t i = 0; i < d->nlik; i++)
    bayes_sb_printf(&sb, "  %s ~ %s\n", d->lik[i].lhs, d->lik[i].text ? d->lik[i].text : "");
  if (d->nfactors) {
    bayes_sb_puts(&sb, "factors:\n");
    for (size_t i = 0; i < d->nfactors; i++)
      bayes_sb_printf(&sb, "  %s\n", d->factors[i].text ? d->factors[i].text : "");
  }
  if (!d->nlik && !d->nfactors) bayes_sb_puts(&sb, "no likelihood: the model samples its prior\n");
  int folded = 0;
  for (int i = 0; i < m->prog.nins; i++) folded += m->dead[i];
  bayes_sb_printf(&sb, "log density: %d operation%s per evaluation (%d in total, %d folded "
                  "into constants)\n", m->s_full.n, m->s_full.n == 1 ? "" : "s", m->prog.nins,
                  folded);
  if (sb.oom) {
    bayes_sb_destroy(&sb);
    return NULL;
  }
  return sb.s;
}

static void slot_ref(bayes_sb *sb, const bayes_model *m, int s)
{
  const bayes_slot *sl = &m->prog.slots[s];
  if (sl->flags & BAYES_SLOT_CONST) {
    if (sl->n == 1) {
      bayes_sb_putc(sb, '#');
      bayes_sb_double(sb, m->prog.consts[sl->off]);
      return;
    }
    if (sl->name) {
      bayes_sb_printf(sb, "%s", sl->name);
      return;
    }
  }
  bayes_sb_printf(sb, "%%%d", s);
  if (sl->name) bayes_sb_printf(sb, "(%s)", sl->name);
}

static void dump_section(bayes_sb *sb, const bayes_model *m, const bayes_section *sec,
                         bool work)
{
  for (int k = 0; k < sec->n; k++) {
    const bayes_instr *ins = &m->prog.ins[sec->ins[k]];
    char b[64];
    for (int j = 0; j < ins->nout; j++) {
      bayes_sb_printf(sb, "%s%%%d", j ? ", " : "", ins->out[j]);
      const bayes_slot *o = &m->prog.slots[ins->out[j]];
      if (o->name) bayes_sb_printf(sb, "(%s)", o->name);
      bayes_sb_printf(sb, ":%s", bayes_shape_str(&o->shape, b, sizeof b));
    }
    bayes_sb_printf(sb, " = %s", ins->op->name);
    if (ins->aux && (strncmp(ins->op->name, "dist", 4) == 0))
      bayes_sb_printf(sb, "[%s]", ((const bayes_dist *)ins->aux)->name);
    bayes_sb_putc(sb, '(');
    for (int j = 0; j < ins->nin; j++) {
      if (j) bayes_sb_puts(sb, ", ");
      slot_ref(sb, m, ins->in[j]);
    }
    bayes_sb_putc(sb, ')');
    if (ins->op->dump) ins->op->dump(ins, sb);
    if (work && ins->work) bayes_sb_printf(sb, " work=%zu", ins->work);
    if (ins->line) bayes_sb_printf(sb, "  ; line %d", ins->line);
    bayes_sb_putc(sb, '\n');
  }
}

char *bayes_model_dump(const bayes_model *m, const char *what)
{
  bayes_sb sb;
  bayes_sb_init(&sb);
  const bayes_mdef *d = &m->mdef;
  if (strcmp(what, "ast") == 0) {
    for (int k = 0; k < 4; k++)
      for (size_t i = 0; i < d->ndecls; i++) {
        const bayes_decl *x = d->decls[i];
        if ((int)x->kind != k) continue;
        bayes_sb_printf(&sb, "%s %s", kind_title[k], x->name);
        if (x->expr) {
          bayes_sb_puts(&sb, " = ");
          bayes_ast_dump(x->expr, &sb);
        }
        bayes_sb_putc(&sb, '\n');
      }
    for (size_t i = 0; i < d->nlik; i++) {
      bayes_sb_printf(&sb, "likelihood %s ~ ", d->lik[i].lhs);
      if (d->lik[i].dist) bayes_ast_dump(d->lik[i].dist, &sb);
      bayes_sb_putc(&sb, '\n');
    }
    for (size_t i = 0; i < d->nfactors; i++) {
      bayes_sb_puts(&sb, "factor ");
      if (d->factors[i].expr) bayes_ast_dump(d->factors[i].expr, &sb);
      bayes_sb_putc(&sb, '\n');
    }
  } else if (strcmp(what, "tape") == 0) {
    bayes_sb_printf(&sb, "; log density: %d instructions, theta = %%%d[%zu], target = %%%d\n",
                    m->s_full.n, m->theta_slot, m->dim, m->target_full);
    dump_section(&sb, m, &m->s_full, true);
  } else {
    bayes_sb_puts(&sb, "; parameters\n");
    for (size_t i = 0; i < m->nparams; i++) {
      const bayes_pcomp *pc = &m->pc[i];
      bayes_sb_printf(&sb, "%s: theta[%zu:%zu] -> %s -> %%%d\n", m->pinfo[i].name,
                      m->pinfo[i].unc_offset + 1, m->pinfo[i].unc_offset + m->pinfo[i].unc_size,
                      pc->tr->name, pc->x_slot);
    }
    bayes_sb_puts(&sb, "; log density\n");
    dump_section(&sb, m, &m->s_full, false);
    bayes_sb_puts(&sb, "; terms\n");
    static const char *tk[] = {"prior", "jacobian", "likelihood", "factor"};
    for (size_t i = 0; i < m->nterms; i++) {
      bayes_sb_printf(&sb, "%s ", tk[m->terms[i].kind]);
      slot_ref(&sb, m, m->terms[i].slot);
      bayes_sb_printf(&sb, "  ; %s\n", m->terms[i].label);
    }
    bayes_sb_puts(&sb, "; outputs\n");
    dump_section(&sb, m, &m->s_out, false);
  }
  if (sb.oom) {
    bayes_sb_destroy(&sb);
    return NULL;
  }
  return sb.s ? sb.s : bayes_strdup("");
}

/* names an expression refers to, for graph edges */
static void refs(const bayes_ast *e, const bayes_mdef *d, const char **out, int *n, int max)
{
  if (!e) return;
  if (e->kind == BAYES_AST_NAME && bayes_mdef_find(d, e->name)) {
    for (int i = 0; i < *n; i++)
      if (strcmp(out[i], e->name) == 0) return;
    if (*n < max) out[(*n)++] = e->name;
  }
  for (int i = 0; i < e->nkids; i++) refs(e->kids[i], d, out, n, max);
}

static void dot_edges(bayes_sb *sb, const bayes_ast *e, const bayes_mdef *d, const char *to)
{
  const char *r[256];
  int n = 0;
  refs(e, d, r, &n, 256);
  for (int i = 0; i < n; i++)
    if (strcmp(r[i], to) != 0) bayes_sb_printf(sb, "  \"%s\" -> \"%s\";\n", r[i], to);
}

char *bayes_model_dot(const bayes_model *m)
{
  bayes_sb sb;
  bayes_sb_init(&sb);
  const bayes_mdef *d = &m->mdef;
  bayes_sb_printf(&sb, "digraph \"%s\" {\n  rankdir=TB;\n  node [fontname=\"Helvetica\"];\n",
                  d->name);
  for (size_t i = 0; i < d->ndecls; i++) {
    const bayes_decl *x = d->decls[i];
    bool observed = false;
    for (size_t j = 0; j < d->nlik; j++)
      if (strcmp(d->lik[j].lhs, x->name) == 0) observed = true;
    const char *style;
    switch (x->kind) {
    case BAYES_DECL_DATA:
      style = observed ? "shape=box, style=filled, fillcolor=\"#d0d0d0\"" : "shape=box";
      break;
    case BAYES_DECL_PARAM: style = "shape=ellipse"; break;
    case BAYES_DECL_TRANSFORMED:
      style = observed ? "shape=box, style=\"filled,dashed\", fillcolor=\"#d0d0d0\""
                       : "shape=ellipse, style=dashed";
      break;
    default: style = "shape=diamond"; break;
    }
    bayes_sb_printf(&sb, "  \"%s\" [%s, label=\"%s", x->name, style, x->name);
    if (x->kind == BAYES_DECL_PARAM && x->expr_text) {
      bayes_sb_puts(&sb, "\\n~ ");
      for (const char *p = x->expr_text; *p; p++) {
        if (*p == '"' || *p == '\\') bayes_sb_putc(&sb, '\\');
        bayes_sb_putc(&sb, *p == '\n' ? ' ' : *p);
      }
    }
    bayes_sb_puts(&sb, "\"];\n");
  }
  for (size_t i = 0; i < d->ndecls; i++) {
    const bayes_decl *x = d->decls[i];
    dot_edges(&sb, x->expr, d, x->name);
    dot_edges(&sb, x->lower, d, x->name);
    dot_edges(&sb, x->upper, d, x->name);
  }
  for (size_t i = 0; i < d->nlik; i++) dot_edges(&sb, d->lik[i].dist, d, d->lik[i].lhs);
  for (size_t i = 0; i < d->nfactors; i++) {
    char name[32];
    snprintf(name, sizeof name, "factor %zu", i + 1);
    bayes_sb_printf(&sb, "  \"%s\" [shape=octagon];\n", name);
    dot_edges(&sb, d->factors[i].expr, d, name);
  }
  bayes_sb_puts(&sb, "}\n");
  if (sb.oom) {
    bayes_sb_destroy(&sb);
    return NULL;
  }
  return sb.s;
}
