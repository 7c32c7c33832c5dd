/* tape.c — building, laying out and executing programs of vectorised instructions.
 * Execution (forward/backward) touches only memory allocated by bayes_exec_alloc. */
#include "tape.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- shapes ---- */

size_t bayes_shape_size(const bayes_shape *s)
{
  size_t n = 1;
  for (int i = 0; i < s->rank; i++) n *= s->dim[i];
  return n;
}

bool bayes_shape_eq(const bayes_shape *a, const bayes_shape *b)
{
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dim[i] != b->dim[i]) return false;
  return true;
}

bayes_shape bayes_shape_scalar(void)
{
  bayes_shape s;
  memset(&s, 0, sizeof s);
  return s;
}

bayes_shape bayes_shape_vec(size_t n)
{
  bayes_shape s = bayes_shape_scalar();
  s.rank = 1;
  s.dim[0] = n;
  return s;
}

bayes_shape bayes_shape_mat(size_t r, size_t c)
{
  bayes_shape s = bayes_shape_scalar();
  s.rank = 2;
  s.dim[0] = r;
  s.dim[1] = c;
  return s;
}

bool bayes_shape_broadcast(const bayes_shape *a, const bayes_shape *b, bayes_shape *out)
{
  bayes_shape r = bayes_shape_scalar();
  r.rank = a->rank > b->rank ? a->rank : b->rank;
  for (int i = 0; i < r.rank; i++) {
    /* align from the right */
    int ia = a->rank - r.rank + i, ib = b->rank - r.rank + i;
    size_t da = ia >= 0 ? a->dim[ia] : 1, db = ib >= 0 ? b->dim[ib] : 1;
    if (da == db || db == 1)
      r.dim[i] = da;
    else if (da == 1)
      r.dim[i] = db;
    else
      return false;
  }
  *out = r;
  return true;
}

const char *bayes_shape_str(const bayes_shape *s, char *buf, size_t len)
{
  if (s->rank == 0) {
    snprintf(buf, len, "scalar");
    return buf;
  }
  size_t k = 0;
  k += (size_t)snprintf(buf + k, len - k, "[");
  for (int i = 0; i < s->rank && k < len; i++)
    k += (size_t)snprintf(buf + k, len - k, "%s%zu", i ? ", " : "", s->dim[i]);
  if (k < len) snprintf(buf + k, len - k, "]");
  return buf;
}

/* ---- program construction ---- */

int bayes_prog_init(bayes_prog *p)
{
  memset(p, 0, sizeof *p);
  bayes_arena_init(&p->arena);
  return 0;
}

void bayes_prog_destroy(bayes_prog *p)
{
  if (!p) return;
  bayes_free(p->slots);
  bayes_free(p->ins);
  bayes_free(p->consts);
  bayes_arena_destroy(&p->arena);
  memset(p, 0, sizeof *p);
}

void *bayes_prog_aux(bayes_prog *p, size_t n) { return bayes_arena_alloc(&p->arena, n); }

int bayes_prog_slot(bayes_prog *p, const bayes_shape *s, unsigned flags)
{
  if (bayes_grow(&p->slots, &p->slots_cap, (size_t)p->nslots + 1, sizeof *p->slots))
    return -1;
  bayes_slot *sl = &p->slots[p->nslots];
  memset(sl, 0, sizeof *sl);
  sl->shape = *s;
  sl->n = bayes_shape_size(s);
  sl->flags = flags;
  sl->alias = -1;
  return p->nslots++;
}

int bayes_prog_const(bayes_prog *p, const bayes_shape *s, unsigned flags, const double *v)
{
  size_t n = bayes_shape_size(s);
  if (bayes_grow(&p->consts, &p->consts_cap, p->nconsts + n, sizeof *p->consts)) return -1;
  int id = bayes_prog_slot(p, s, flags | BAYES_SLOT_CONST);
  if (id < 0) return -1;
  p->slots[id].off = p->nconsts;
  if (n == 0) return id;
  if (v)
    memcpy(p->consts + p->nconsts, v, n * sizeof *v);
  else
    memset(p->consts + p->nconsts, 0, n * sizeof *v);
  p->nconsts += n;
  return id;
}

int bayes_prog_add(bayes_prog *p, const bayes_op *op, int nin, const int *in, int nout,
                   const bayes_shape *out_shapes, bool out_int)
{
  if (bayes_grow(&p->ins, &p->ins_cap, (size_t)p->nins + 1, sizeof *p->ins)) return -1;
  int *inb = bayes_prog_aux(p, sizeof(int) * (size_t)(nin + 1));
  int *outb = bayes_prog_aux(p, sizeof(int) * (size_t)(nout + 1));
  if (!inb || !outb) return -1;
  unsigned adj = 0;
  for (int i = 0; i < nin; i++) {
    inb[i] = in[i];
    if (p->slots[in[i]].flags & BAYES_SLOT_ADJ) adj = BAYES_SLOT_ADJ;
  }
  if (!op->bwd) adj = 0;
  for (int k = 0; k < nout; k++) {
    int s = bayes_prog_slot(p, &out_shapes[k], adj | (out_int ? BAYES_SLOT_INT : 0));
    if (s < 0) return -1;
    outb[k] = s;
  }
  bayes_instr *ins = &p->ins[p->nins];
  memset(ins, 0, sizeof *ins);
  ins->op = op;
  ins->nin = nin;
  ins->nout = nout;
  ins->in = inb;
  ins->out = outb;
  return p->nins++;
}

int bayes_prog_layout(bayes_prog *p)
{
  size_t off = 0, work = 0;
  /* slots with adjoints first, so that a reverse pass clears one short prefix */
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < p->nslots; i++) {
      bayes_slot *s = &p->slots[i];
      if (s->flags & (BAYES_SLOT_CONST | BAYES_SLOT_ALIAS)) continue;
      if (((s->flags & BAYES_SLOT_ADJ) != 0) != (pass == 0)) continue;
      s->off = off;
      off += s->n;
    }
    if (pass == 0) p->nadj = off;
  }
  for (int i = 0; i < p->nslots; i++) {
    bayes_slot *s = &p->slots[i];
    if (!(s->flags & BAYES_SLOT_ALIAS)) continue;
    const bayes_slot *t = &p->slots[s->alias];
    s->off = t->off + s->alias_off;
    if (t->flags & BAYES_SLOT_CONST) s->flags |= BAYES_SLOT_CONST;
  }
  for (int i = 0; i < p->nins; i++) work += p->ins[i].work;
  p->nvals = off;
  p->nwork = work;
  return 0;
}

/* ---- execution ---- */

double *bayes_exec_val(bayes_exec *ex, int slot)
{
  const bayes_slot *s = &ex->prog->slots[slot];
  if (s->flags & BAYES_SLOT_CONST) return ex->prog->consts + s->off;
  return ex->val + s->off;
}

double *bayes_exec_adj(bayes_exec *ex, int slot)
{
  const bayes_slot *s = &ex->prog->slots[slot];
  if (!(s->flags & BAYES_SLOT_ADJ) || (s->flags & BAYES_SLOT_CONST)) return NULL;
  return ex->adj + s->off;
}

void bayes_exec_free(bayes_exec *ex)
{
  if (!ex) return;
  bayes_free(ex->val);
  bayes_free(ex->adj);
  bayes_free(ex->work);
  if (ex->bound) {
    for (int i = 0; i < ex->prog->nins; i++) {
      bayes_free(ex->bound[i].x);
    }
    bayes_free(ex->bound);
  }
  bayes_free(ex);
}

bayes_exec *bayes_exec_alloc(const bayes_prog *p)
{
  bayes_exec *ex = bayes_calloc(1, sizeof *ex);
  if (!ex) return NULL;
  ex->prog = p;
  ex->jacobian = true;
  ex->val = bayes_calloc(p->nvals ? p->nvals : 1, sizeof(double));
  ex->adj = bayes_calloc(p->nvals ? p->nvals : 1, sizeof(double));
  ex->work = bayes_calloc(p->nwork ? p->nwork : 1, sizeof(double));
  ex->bound = bayes_calloc((size_t)p->nins + 1, sizeof *ex->bound);
  if (!ex->val || !ex->adj || !ex->work || !ex->bound) goto fail;
  size_t woff = 0;
  for (int i = 0; i < p->nins; i++) {
    const bayes_instr *ins = &p->ins[i];
    bayes_bound *b = &ex->bound[i];
    int nio = ins->nin + ins->nout;
    /* one block holds every per-operand array of this instruction */
    size_t bytes = (size_t)nio * (2 * sizeof(double *) + sizeof(bayes_shape *) + sizeof(size_t));
    char *blk = bayes_calloc(1, bytes + 1);
    if (!blk) goto fail;
    b->x = (double **)blk;
    b->gx = b->x + ins->nin;
    b->y = b->gx + ins->nin;
    b->gy = b->y + ins->nout;
    const bayes_shape **shp = (const bayes_shape **)(b->gy + ins->nout);
    b->xs = shp;
    b->ys = shp + ins->nin;
    size_t *ns = (size_t *)(shp + nio);
    b->xn = ns;
    b->yn = ns + ins->nin;
    b->ins = ins;
    b->ex = ex;
    b->nin = ins->nin;
    b->nout = ins->nout;
    for (int k = 0; k < ins->nin; k++) {
      b->x[k] = bayes_exec_val(ex, ins->in[k]);
      b->gx[k] = bayes_exec_adj(ex, ins->in[k]);
      b->xs[k] = &p->slots[ins->in[k]].shape;
      ns[k] = p->slots[ins->in[k]].n;
    }
    for (int k = 0; k < ins->nout; k++) {
      b->y[k] = bayes_exec_val(ex, ins->out[k]);
      b->gy[k] = bayes_exec_adj(ex, ins->out[k]);
      b->ys[k] = &p->slots[ins->out[k]].shape;
      ns[ins->nin + k] = p->slots[ins->out[k]].n;
    }
    b->work = ex->work + woff;
    woff += ins->work;
  }
  return ex;
fail:
  bayes_exec_free(ex);
  return NULL;
}

void bayes_exec_one(bayes_exec *ex, int i) { ex->prog->ins[i].op->fwd(&ex->bound[i]); }

void bayes_exec_forward(bayes_exec *ex, const bayes_section *s)
{
  ex->failed = 0;
  for (int k = 0; k < s->n; k++) {
    int i = s->ins[k];
    ex->prog->ins[i].op->fwd(&ex->bound[i]);
    if (ex->failed) return;
  }
}

void bayes_exec_backward(bayes_exec *ex, const bayes_section *s, int target)
{
  memset(ex->adj, 0, ex->prog->nadj * sizeof(double));
  double *g = bayes_exec_adj(ex, target);
  if (!g) return;
  g[0] = 1.0;
  for (int k = s->n - 1; k >= 0; k--) {
    int i = s->ins[k];
    const bayes_op *op = ex->prog->ins[i].op;
    const bayes_bound *b = &ex->bound[i];
    if (!op->bwd) continue;
    /* skip instructions whose outputs have no adjoint (not on a path to a parameter) */
    bool any = false;
    for (int j = 0; j < b->nout; j++)
      if (b->gy[j]) any = true;
    if (any) op->bwd(b);
  }
}

void bayes_exec_fail(const bayes_bound *b, const char *fmt, ...)
{
  bayes_exec *ex = b->ex;
  if (ex->failed) return;
  ex->failed = (int)(b->ins - ex->prog->ins) + 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ex->fail_msg, sizeof ex->fail_msg, fmt, ap);
  va_end(ap);
}
