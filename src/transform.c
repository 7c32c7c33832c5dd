/* transform.c — the constraint-transform registry: one line per transform (the
 * transforms themselves live in src/xform/). Lookup only; nothing here computes. */
#include <string.h>

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
