/* compile.h — the compiler's internal state: resolving names, types and shapes, emitting
 * instructions, folding everything that depends on data alone, and the compiled model
 * that bayes.h exposes. Shared by compile.c (declarations, parameters, likelihood,
 * sections), compile_expr.c (expressions, distributions) and dump.c. */
#ifndef BAYES_COMPILE_H
#define BAYES_COMPILE_H

#include "bayes.h"
#include "dist.h"
#include "func.h"
#include "model.h"
#include "tape.h"
#include "transform.h"

#define BAYES_MAX_LOCALS 64
#define BAYES_MAX_UNROLL 100000  /* iterations of an unrolled comprehension or recur */
#define BAYES_MAX_INSTRS 5000000

typedef struct {
  const char *name;
  int slot;
} bayes_local;

typedef enum {
  BAYES_TERM_PRIOR,
  BAYES_TERM_JACOBIAN,
  BAYES_TERM_LIKELIHOOD,
  BAYES_TERM_FACTOR
} bayes_term_kind;

typedef struct {
  int slot;
  bayes_term_kind kind;
  const char *label;     /* "prior of mu", "likelihood of y", ... */
  int line, col;
} bayes_term;

typedef struct {
  int u_slot, x_slot, logj_slot;
  const bayes_transform *tr;
  int nbounds;
  int bound_slot[2];
  const bayes_dist *prior;
  bayes_decl *decl;
} bayes_pcomp;

typedef struct {
  int slot;              /* output slot */
  bayes_decl *decl;
} bayes_outvar;

struct bayes_model {
  bayes_mdef mdef;
  bayes_prog prog;
  unsigned char *dead;   /* per instruction: folded at compile time */
  bayes_section s_full, s_prior, s_out;
  int target_full, target_prior;
  int theta_slot;
  size_t dim;
  bayes_pcomp *pc;
  bayes_param_info *pinfo;
  size_t nparams;
  bayes_term *terms;
  size_t nterms, terms_cap;
  bayes_outvar *outvars;
  size_t noutvars;
  char **out_names;       /* flattened, column-major per variable */
  int *out_slot;
  size_t *out_elem;
  size_t nout;
  bool has_rng;
  bayes_inference_info inf;
};

struct bayes_ws {
  const bayes_model *m;
  bayes_exec *ex;
  char err[320];
};

typedef struct bayes_cc {
  bayes_model *mod;
  bayes_mdef *m;
  bayes_diag *d;
  bayes_prog *prog;
  size_t dead_cap;
  bayes_local locals[BAYES_MAX_LOCALS];
  int nlocals;
  bayes_decl *stack[256];   /* declarations being compiled (for cycle messages) */
  int nstack;
  bool in_generated;        /* random draws allowed */
  int depth;
  const bayes_ast *cur_call; /* the call being emitted: its span underlines op errors */
  bayes_exec fold;          /* a bare exec used to run folded instructions */
} bayes_cc;

/* compile_expr.c */
int bayes_cc_expr(bayes_cc *c, const bayes_ast *e);
/* A distribution expression: the log density of `y` (a slot) as a scalar term slot, or
 * (y < 0) random draws of shape *shape (NULL: from the arguments). variate_shape gives the
 * shape for a parameter whose prior must supply it. */
int bayes_cc_dist_lpdf(bayes_cc *c, const bayes_ast *e, int y, const char *yname);
int bayes_cc_dist_rng(bayes_cc *c, const bayes_ast *e);
/* Resolves a distribution expression: the distribution, its argument ASTs and a trailing
 * [dims]. Returns -1 after reporting. */
typedef struct {
  const bayes_dist *dist;
  const bayes_ast *call;
  int nargs;
  const bayes_ast *args[BAYES_DIST_MAXARG];
  const bayes_ast *dims;     /* INDEX node whose kids[1..] are dims, or NULL */
  enum { BAYES_DC_PLAIN, BAYES_DC_MIXTURE, BAYES_DC_TRUNCATED } kind;
  const bayes_ast *trunc_lower, *trunc_upper;  /* truncated(d, lower, upper) */
  const bayes_ast *inner;    /* truncated: the inner distribution call */
} bayes_dcall;
int bayes_cc_dcall(bayes_cc *c, const bayes_ast *e, bayes_dcall *dc);
/* A constant integer expression (dimension, count). */
int bayes_cc_const_int(bayes_cc *c, const bayes_ast *e, const char *what, long *out);
void bayes_cc_error(bayes_cc *c, int line, int col, int len, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int bayes_cc_emit_done(bayes_cc *c, int first_ins);   /* fold what is constant */
void bayes_cc_fnerr(void *ud, int line, int col, const char *msg);
static inline const bayes_slot *bayes_cc_slot(bayes_cc *c, int s) { return &c->prog->slots[s]; }
static inline bool bayes_cc_is_const(bayes_cc *c, int s)
{
  return (c->prog->slots[s].flags & BAYES_SLOT_CONST) != 0;
}
bayes_fnarg bayes_cc_fnarg(bayes_cc *c, int slot, const bayes_ast *at);

/* compile_lift.c: a comprehension with an elementwise body compiled once over the whole
 * index vector; -2 when the body is not elementwise (the caller unrolls), -1 on error. */
int bayes_cc_compr_lift(bayes_cc *c, const bayes_ast *e, long lo, long n);

/* compile_gp.c: gp_cov(x[, x2], kernel = K) */
int bayes_cc_gp_cov(bayes_cc *c, const bayes_ast *e);

/* compile.c */
int bayes_cc_decl(bayes_cc *c, bayes_decl *x, const bayes_ast *use);

/* extra ops defined in compile_expr.c */
extern const bayes_op bayes_op_log_mix;

#endif
