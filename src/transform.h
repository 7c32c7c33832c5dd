/* transform.h — constraint transforms from unconstrained R^n to a parameter's support,
 * with log-Jacobians (Stan reference manual, "Constraint transforms"). A transform is one
 * op in the tape plus an inverse used for user-supplied constrained points.
 *
 * The op takes inputs [u, bound_1, ..., bound_nbounds] (u has unc_size elements, shape
 * [m]; a bound has 1 element or as many as x) and produces two outputs: x (the
 * constrained value, the parameter's shape) and logJ (a scalar: log |det dx/du|).
 * Its bwd adds gy[0] (adjoint of x) and gy[1] (adjoint of logJ; may be NULL when the
 * Jacobian is off) into gx[0] and into the bound adjoints. */
#ifndef BAYES_TRANSFORM_H
#define BAYES_TRANSFORM_H

#include "tape.h"

typedef struct bayes_transform {
  const char *name;            /* "identity", "lower", "upper", "lower_upper", "simplex", ... */
  int nbounds;
  /* unconstrained element count for constrained shape x; -1 and err if x is not valid
   * for this transform (e.g. simplex needs rank 1 and length >= 1) */
  long (*unc_size)(const bayes_shape *x, char *err, size_t errlen);
  const bayes_op *op;
  /* x -> u. bounds[k] has bn[k] elements (1 or n). Returns 0, or -1 with a message in
   * err naming the offending element when x is outside the support. */
  int (*inverse)(const double *x, const bayes_shape *s, const double *const *bounds,
                 const size_t *bn, double *u, char *err, size_t errlen);
} bayes_transform;

const bayes_transform *bayes_transform_find(const char *name);

/* Shared by the inverses of the matrix transforms: checks that the K x K matrix x is
 * symmetric (to 1e-8, relative to the entries' size when `relative`), factors it
 * (Cholesky, lower) and hands L to from_L. Not on the gradient path: it allocates.
 * Returns 0, or -1 with a message naming the offending element in err. */
int bayes_xform_spd_inverse(const double *x, size_t K, bool relative,
                            void (*from_L)(const double *L, size_t K, double *u), double *u,
                            char *err, size_t errlen);
/* Checks of the matrix transforms' constrained values (K x K, row-major): every element
 * finite; and a Cholesky factor: finite, 0 above the diagonal, positive diagonal and, if
 * unit_rows, rows of length 1 (to 1e-8). Return 0, or -1 with a message naming the first
 * offending element in err. */
int bayes_xform_check_finite(const double *x, size_t K, char *err, size_t errlen);
int bayes_xform_check_cholesky(const double *x, size_t K, bool unit_rows, char *err,
                               size_t errlen);
extern const bayes_transform *const bayes_transforms[];

#endif
