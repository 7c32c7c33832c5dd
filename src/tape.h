/* tape.h — the reverse-mode AD engine: a compiled program of vectorised instructions
 * (an op over a whole array is one instruction) over value and adjoint buffers that are
 * allocated once per workspace. Executing a program must never allocate.
 *
 * Storage: every value is an array of doubles in row-major (C) order; integer-typed
 * values hold exact integers in doubles. Shapes have rank 0..BAYES_MAX_RANK.
 *
 * An op implements
 *   fwd(b): compute outputs from inputs. If b->ex->grad is set, the op may also store
 *           partial derivatives in b->work for its bwd to use (fused, as Stan's
 *           operands_and_partials).
 *   bwd(b): given output adjoints b->gy[k], ADD (+=) the contribution to every input
 *           adjoint b->gx[i] that is not NULL. A NULL gx[i] means input i does not depend
 *           on parameters: skip its gradient work entirely.
 * Ops report domain failures (a non-SPD matrix, an index out of range) by calling
 * bayes_exec_fail(); the log density is then -inf and the message says which op. */
#ifndef BAYES_TAPE_H
#define BAYES_TAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <gsl/gsl_rng.h>

#include "util.h"

#define BAYES_MAX_RANK 4
/* Elements of any one value (a parameter, a draw, a function's result): 400 MB of
 * doubles. Larger is a located user error, not an out-of-memory failure. */
#define BAYES_MAX_ELEMENTS 50000000

typedef struct {
  int rank;
  size_t dim[BAYES_MAX_RANK];
} bayes_shape;

size_t bayes_shape_size(const bayes_shape *s);
bool bayes_shape_eq(const bayes_shape *a, const bayes_shape *b);
bayes_shape bayes_shape_scalar(void);
bayes_shape bayes_shape_vec(size_t n);
bayes_shape bayes_shape_mat(size_t r, size_t c);
/* NumPy broadcasting of a and b into *out; returns false if they do not broadcast. */
bool bayes_shape_broadcast(const bayes_shape *a, const bayes_shape *b, bayes_shape *out);
/* "[3, 4]" or "scalar" into buf. */
const char *bayes_shape_str(const bayes_shape *s, char *buf, size_t len);

struct bayes_exec;
struct bayes_instr;

typedef struct bayes_bound {
  const struct bayes_instr *ins;
  struct bayes_exec *ex;
  int nin, nout;
  double **x;               /* input values */
  double **gx;              /* input adjoints; NULL entry: constant input */
  const bayes_shape **xs;   /* input shapes */
  const size_t *xn;         /* input element counts */
  double **y;               /* output values */
  double **gy;              /* output adjoints (NULL when no adjoint is kept) */
  const bayes_shape **ys;
  const size_t *yn;
  double *work;             /* ins->work doubles, private to this instruction */
} bayes_bound;

typedef struct bayes_op {
  const char *name;
  void (*fwd)(const bayes_bound *b);
  void (*bwd)(const bayes_bound *b); /* NULL: not differentiable (integer result, rng) */
  /* optional: print op-specific arguments for `--dump tape` */
  void (*dump)(const struct bayes_instr *ins, bayes_sb *sb);
} bayes_op;

typedef struct bayes_instr {
  const bayes_op *op;
  int nin, nout;
  int *in, *out;            /* slot ids */
  long iarg[4];
  double darg[4];
  const void *aux;          /* op-specific data, owned by the program's arena */
  size_t work;              /* doubles of workspace */
  int line, col;            /* source location (1-based), 0 if none */
} bayes_instr;

/* Slot flags */
enum {
  BAYES_SLOT_CONST = 1,     /* value fixed at compile time (data, folded) */
  BAYES_SLOT_INT = 2,       /* integer-typed */
  BAYES_SLOT_ADJ = 4,       /* depends on parameters: has an adjoint */
  BAYES_SLOT_ALIAS = 8      /* shares storage with slot `alias` at offset `alias_off` */
};

typedef struct {
  bayes_shape shape;
  size_t n;                 /* element count */
  unsigned flags;
  int alias;                /* for BAYES_SLOT_ALIAS */
  size_t alias_off;
  size_t off;               /* offset in const pool (CONST) or value buffer */
  const char *name;         /* for dumps, may be NULL */
} bayes_slot;

/* A section is a list of instructions executed in order. */
typedef struct {
  int *ins;
  int n;
} bayes_section;

typedef struct bayes_prog {
  bayes_slot *slots;
  int nslots;
  size_t slots_cap;
  bayes_instr *ins;
  int nins;
  size_t ins_cap;
  double *consts;           /* constant pool */
  size_t nconsts, consts_cap;
  size_t nvals;             /* doubles in a value buffer (assigned by bayes_prog_layout) */
  size_t nadj;              /* the slots with adjoints come first: [0, nadj) is all a
                             * reverse pass has to clear */
  size_t nwork;
  bayes_arena arena;
} bayes_prog;

typedef struct bayes_exec {
  const bayes_prog *prog;
  double *val;              /* value buffer */
  double *adj;              /* adjoint buffer (same layout as val) */
  double *work;
  bayes_bound *bound;       /* one per instruction */
  gsl_rng *rng;             /* for rng ops; owned by the caller */
  bool grad;                /* current pass computes gradients */
  bool jacobian;            /* include log-Jacobian terms */
  int failed;               /* instruction index + 1 of the first failure */
  char fail_msg[256];
} bayes_exec;

/* Program construction (used by the compiler). All return -1 on out-of-memory. */
int bayes_prog_init(bayes_prog *p);
void bayes_prog_destroy(bayes_prog *p);
void *bayes_prog_aux(bayes_prog *p, size_t n);         /* zeroed memory owned by p */
int bayes_prog_slot(bayes_prog *p, const bayes_shape *s, unsigned flags);
int bayes_prog_const(bayes_prog *p, const bayes_shape *s, unsigned flags, const double *v);
/* Adds an instruction with nin inputs and nout new output slots of the given shapes.
 * Output flags: INT if `out_int`, ADJ if any input has ADJ and op->bwd != NULL.
 * Returns the instruction index; its output slot ids are p->ins[i].out[...]. */
int bayes_prog_add(bayes_prog *p, const bayes_op *op, int nin, const int *in, int nout,
                   const bayes_shape *out_shapes, bool out_int);
static inline double *bayes_prog_const_ptr(const bayes_prog *p, int slot)
{
  return p->consts + p->slots[slot].off;
}
/* Assign value-buffer offsets to every non-constant slot (call once, after building). */
int bayes_prog_layout(bayes_prog *p);

/* Execution */
bayes_exec *bayes_exec_alloc(const bayes_prog *p);
void bayes_exec_free(bayes_exec *ex);
double *bayes_exec_val(bayes_exec *ex, int slot);   /* value storage of a slot */
double *bayes_exec_adj(bayes_exec *ex, int slot);   /* NULL if the slot has no adjoint */
void bayes_exec_forward(bayes_exec *ex, const bayes_section *s);
/* Zeroes adjoints, sets adjoint of `target` (a scalar slot) to 1, runs bwd in reverse. */
void bayes_exec_backward(bayes_exec *ex, const bayes_section *s, int target);
void bayes_exec_fail(const bayes_bound *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Run one instruction forward (used for constant folding). */
void bayes_exec_one(bayes_exec *ex, int ins);

/* Broadcasting contract: an elementwise op (and a univariate distribution) only ever
 * sees inputs whose element count is either that of the output or 1 (a scalar, read
 * with increment 0). The compiler inserts the `broadcast` op for anything else. */
static inline size_t bayes_inc(size_t n) { return n == 1 ? 0 : 1; }

#endif
