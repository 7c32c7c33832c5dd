/* func.h — the registry of functions of the expression language (spec §4). A function
 * turns already-compiled arguments into instructions of the program: it checks types and
 * shapes (reporting located errors through bayes_fn_error) and emits ops. It never sees
 * the syntax tree. Adding a function is one table entry plus its ops. */
#ifndef BAYES_FUNC_H
#define BAYES_FUNC_H

#include <stdbool.h>

#include "tape.h"

typedef struct {
  int slot;
  const bayes_shape *shape;
  size_t n;
  bool is_int;
  const double *cval;   /* value if known at compile time (data or folded), else NULL */
  int line, col;
} bayes_fnarg;

typedef struct bayes_fnctx {
  bayes_prog *prog;
  int line, col;                          /* the call */
  const char *fname;
  void (*error)(void *ud, int line, int col, const char *msg);
  void *ud;
  int nerr;
} bayes_fnctx;

/* Report an error at argument i (or at the call when i < 0). */
void bayes_fn_error(bayes_fnctx *c, const bayes_fnarg *a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Add an instruction; returns its index or -1 (out of memory, reported). The caller may
 * then set ins->aux / iarg / darg / work via &c->prog->ins[idx]. */
int bayes_fn_emit(bayes_fnctx *c, const bayes_op *op, int nin, const int *in, int nout,
                  const bayes_shape *out_shapes, bool out_int);
/* Broadcast args[0..n-1] to a common shape, inserting `broadcast` ops where an argument
 * is neither scalar nor of the full shape. slots[] receives the (possibly new) slot ids.
 * Returns 0, or -1 after reporting "shapes [a] and [b] do not broadcast". */
int bayes_fn_broadcast(bayes_fnctx *c, int n, const bayes_fnarg *args, int *slots,
                       bayes_shape *out);
/* Convert an int slot to real is free (same storage); nothing to do. */

typedef struct bayes_fn {
  const char *name;
  int min_args, max_args;
  const char *const *arg_names;   /* for keyword arguments; may be NULL */
  /* Emit code; *out receives the result slot. Returns 0, or -1 after reporting. */
  int (*emit)(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out);
} bayes_fn;

const bayes_fn *bayes_fn_find(const char *name);
/* Each ops file exports a NULL-terminated list; func.c searches them all. Operators are
 * registered under internal names that user code cannot call: "__add" "__sub" "__mul"
 * "__div" "__pow" "__matmul" "__neg" "__pos" "__not" "__lt" "__le" "__gt" "__ge" "__eq"
 * "__ne" "__and" "__or" "__cond" (3 args) "__transpose". */
extern const bayes_fn *const bayes_fns_elementwise[];
extern const bayes_fn *const bayes_fns_reduce[];
extern const bayes_fn *const bayes_fns_shape[];
extern const bayes_fn *const bayes_fns_linalg[];
extern const bayes_fn *const bayes_fns_hmm[];
/* Every user-callable function name (for "did you mean"), NULL-terminated, built on
 * first use; NULL on out-of-memory. */
const char *const *bayes_fn_names(void);

/* Ops the compiler itself needs (defined with the other ops). */
/* broadcast: in[0] (any shape that NumPy-broadcasts to the output shape) -> out; bwd sums
 * over the broadcast dimensions. Defined in ops_shape.c. */
extern const bayes_op bayes_op_broadcast;

#endif
