/* ops.h — op tables defined across the ops_*.c and dist_ops.c files, for the compiler.
 * Each op's input/output contract is stated next to its declaration. */
#ifndef BAYES_OPS_H
#define BAYES_OPS_H

#include "dist.h"
#include "tape.h"

/* ---- distributions (dist_ops.c); aux = const bayes_dist *, iarg[0] = bayes_dist_fn ---- */
typedef enum { BAYES_DF_LPDF, BAYES_DF_LCDF, BAYES_DF_LCCDF } bayes_dist_fn;
/* in: [y, p1..pk] (univariate: each n or 1 elements); out: scalar sum.
 * work: bayes_dist_sum_work(ins) doubles (set by bayes_dist_emit_work). */
extern const bayes_op bayes_op_dist_sum;
/* in: as above; out: [n] per-element values (univariate only). work: none. */
extern const bayes_op bayes_op_dist_pw;
/* in: [p1..pk]; out: draws of the output shape (univariate: params n or 1). */
extern const bayes_op bayes_op_dist_rng;
/* multivariate: in [y, p1..pk] -> scalar; work set by bayes_dist_work */
extern const bayes_op bayes_op_dist_mv_sum;
/* multivariate rng: in [p1..pk] -> out: one variate, or (iarg[1] != 0) several stacked
 * along the first dimension. For bayes_dist_work, shapes[0] is one variate's shape. */
extern const bayes_op bayes_op_dist_mv_rng;
/* Workspace doubles needed by a dist op instruction with the given input sizes. */
size_t bayes_dist_work(const bayes_dist *d, const bayes_op *op, int nin,
                       const bayes_shape *const *shapes);

/* ---- structural ops (compile-level, ops_shape.c) ---- */
/* gather: out[j] = x[map[j]]; aux = const size_t *map (length = out size) */
extern const bayes_op bayes_op_gather;
/* stack: out = concatenation of all inputs' elements in order (each input any size);
 * the compiler gives the output its shape (e.g. [k] for k scalars, [k, m] for k vectors) */
extern const bayes_op bayes_op_stack;
/* sum of inputs into a scalar target; iarg unused; aux = const unsigned char *is_jac
 * (per input: 1 if it is a log-Jacobian term, skipped when !ex->jacobian) */
extern const bayes_op bayes_op_target;

#endif
