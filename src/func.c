/* func.c — the function registry (a search over the lists each ops file exports) and the
 * helpers function emitters use to add instructions and report located errors. */
#include "func.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const bayes_fn *const *const lists[] = {
    bayes_fns_elementwise, bayes_fns_reduce, bayes_fns_shape, bayes_fns_linalg, bayes_fns_hmm,
    NULL};

const bayes_fn *bayes_fn_find(const char *name)
{
  for (int l = 0; lists[l]; l++)
    for (const bayes_fn *const *f = lists[l]; *f; f++)
      if (strcmp((*f)->name, name) == 0) return *f;
  return NULL;
}

const char *const *bayes_fn_names(void)
{
  /* built once; the registry is immutable so the result never changes */
  static const char *names[512];
  static int built;
  if (!built) {
    int n = 0;
    for (int l = 0; lists[l]; l++)
      for (const bayes_fn *const *f = lists[l]; *f && n < 511; f++)
        if (strncmp((*f)->name, "__", 2) != 0) names[n++] = (*f)->name;
    names[n] = NULL;
    built = 1;
  }
  return names;
}

void bayes_fn_error(bayes_fnctx *c, const bayes_fnarg *a, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  c->nerr++;
  if (c->error) c->error(c->ud, a ? a->line : c->line, a ? a->col : c->col, msg);
}

int bayes_fn_emit(bayes_fnctx *c, const bayes_op *op, int nin, const int *in, int nout,
                  const bayes_shape *out_shapes, bool out_int)
{
  for (int k = 0; k < nout; k++) {
    double n = 1;
    for (int j = 0; j < out_shapes[k].rank; j++) n *= (double)out_shapes[k].dim[j];
    if (n > BAYES_MAX_ELEMENTS) {
      bayes_fn_error(c, NULL, "%s: the result would have %.0f elements; at most %d are "
                     "supported", c->fname ? c->fname : op->name, n, BAYES_MAX_ELEMENTS);
      return -1;
    }
  }
  int i = bayes_prog_add(c->prog, op, nin, in, nout, out_shapes, out_int);
  if (i < 0) {
    bayes_fn_error(c, NULL, "out of memory");
    return -1;
  }
  c->prog->ins[i].line = c->line;
  c->prog->ins[i].col = c->col;
  return i;
}

int bayes_fn_broadcast(bayes_fnctx *c, int n, const bayes_fnarg *args, int *slots,
                       bayes_shape *out)
{
  bayes_shape s = bayes_shape_scalar();
  for (int i = 0; i < n; i++) {
    bayes_shape t;
    if (!bayes_shape_broadcast(&s, args[i].shape, &t)) {
      char b1[64], b2[64];
      /* name the first argument whose shape disagrees with what came before */
      int j = 0;
      while (j < i && bayes_shape_size(args[j].shape) == 1) j++;
      bayes_fn_error(c, &args[i], "shapes %s and %s do not broadcast",
                     bayes_shape_str(args[j].shape, b1, sizeof b1),
                     bayes_shape_str(args[i].shape, b2, sizeof b2));
      return -1;
    }
    s = t;
  }
  size_t n_out = bayes_shape_size(&s);
  for (int i = 0; i < n; i++) {
    slots[i] = args[i].slot;
    if (args[i].n == n_out || args[i].n == 1) continue;
    int k = bayes_fn_emit(c, &bayes_op_broadcast, 1, &args[i].slot, 1, &s, args[i].is_int);
    if (k < 0) return -1;
    slots[i] = c->prog->ins[k].out[0];
  }
  *out = s;
  return 0;
}
