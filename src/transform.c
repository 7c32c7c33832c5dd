/* transform.c — the constraint-transform registry: one line per transform (the
 * transforms themselves live in src/xform/), and the one helper their inverses share. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <lapacke.h>

#include "transform.h"

extern const bayes_transform bayes_transform_identity;
extern const bayes_transform bayes_transform_lower;
extern const bayes_transform bayes_transform_upper;
extern const bayes_transform bayes_transform_lower_upper;
extern const bayes_transform bayes_transform_simplex;
extern const bayes_transform bayes_transform_ordered;
extern const bayes_transform bayes_transform_positive_ordered;
extern const bayes_transform bayes_transform_unit_vector;
extern const bayes_transform bayes_transform_cholesky_corr;
extern const bayes_transform bayes_transform_corr;
extern const bayes_transform bayes_transform_cov;
extern const bayes_transform bayes_transform_cholesky_cov;

const bayes_transform *const bayes_transforms[] = {
    &bayes_transform_identity,
    &bayes_transform_lower,
    &bayes_transform_upper,
    &bayes_transform_lower_upper,
    &bayes_transform_simplex,
    &bayes_transform_ordered,
    &bayes_transform_positive_ordered,
    &bayes_transform_unit_vector,
    &bayes_transform_cholesky_corr,
    &bayes_transform_corr,
    &bayes_transform_cov,
    &bayes_transform_cholesky_cov,
    NULL,
};

const bayes_transform *bayes_transform_find(const char *name)
{
  for (const bayes_transform *const *t = bayes_transforms; *t; t++)
    if (strcmp((*t)->name, name) == 0) return *t;
  return NULL;
}

int bayes_xform_spd_inverse(const double *x, size_t K, bool relative,
                            void (*from_L)(const double *L, size_t K, double *u), double *u,
                            char *err, size_t errlen)
{
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < i; j++) {
      double a = x[i * K + j], c = x[j * K + i];
      double tol = relative ? 1e-8 * fmax(1.0, fmax(fabs(a), fabs(c))) : 1e-8;
      if (fabs(a - c) > tol) {
        snprintf(err, errlen, "element [%zu, %zu] (value %.15g) differs from element [%zu, %zu] "
                 "(value %.15g): the matrix is not symmetric", i + 1, j + 1, a, j + 1, i + 1, c);
        return -1;
      }
    }
  double *L = bayes_malloc(K * K * sizeof(double) + 1);
  if (!L) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  memcpy(L, x, K * K * sizeof(double));
  lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)K, L, (lapack_int)K);
  int rc = 0;
  if (info != 0) {
    snprintf(err, errlen, "the matrix is not positive definite");
    rc = -1;
  } else {
    from_L(L, K, u);
  }
  bayes_free(L);
  return rc;
}

int bayes_xform_check_finite(const double *x, size_t K, char *err, size_t errlen)
{
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++)
      if (!isfinite(x[i * K + j])) {
        snprintf(err, errlen, "element [%zu, %zu] (value %.15g) is not finite", i + 1, j + 1,
                 x[i * K + j]);
        return -1;
      }
  return 0;
}

int bayes_xform_check_cholesky(const double *x, size_t K, bool unit_rows, char *err,
                               size_t errlen)
{
  if (bayes_xform_check_finite(x, K, err, errlen)) return -1;
  for (size_t i = 0; i < K; i++) {
    for (size_t j = i + 1; j < K; j++)
      if (x[i * K + j] != 0) {
        snprintf(err, errlen, "element [%zu, %zu] (value %.15g) is above the diagonal and not 0",
                 i + 1, j + 1, x[i * K + j]);
        return -1;
      }
    if (!(x[i * K + i] > 0)) {
      snprintf(err, errlen, "diagonal element [%zu, %zu] (value %.15g) is not positive", i + 1,
               i + 1, x[i * K + i]);
      return -1;
    }
    if (!unit_rows) continue;
    double ss = 0;
    for (size_t j = 0; j <= i; j++) ss += x[i * K + j] * x[i * K + j];
    if (fabs(sqrt(ss) - 1.0) > 1e-8) {
      snprintf(err, errlen, "row %zu has length %.15g, not 1", i + 1, sqrt(ss));
      return -1;
    }
  }
  return 0;
}
