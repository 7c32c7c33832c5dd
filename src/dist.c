/* dist.c — the distribution registry: one line per distribution. */
#include <string.h>

#include "dist.h"

extern const bayes_dist bayes_dist_normal;
extern const bayes_dist bayes_dist_student_t;
extern const bayes_dist bayes_dist_cauchy;
extern const bayes_dist bayes_dist_logistic;
extern const bayes_dist bayes_dist_laplace;
extern const bayes_dist bayes_dist_gumbel;
extern const bayes_dist bayes_dist_skew_normal;
extern const bayes_dist bayes_dist_lognormal;
extern const bayes_dist bayes_dist_half_normal;
extern const bayes_dist bayes_dist_half_cauchy;
extern const bayes_dist bayes_dist_half_student_t;
extern const bayes_dist bayes_dist_exponential;
extern const bayes_dist bayes_dist_gamma;
extern const bayes_dist bayes_dist_inv_gamma;
extern const bayes_dist bayes_dist_weibull;
extern const bayes_dist bayes_dist_chi_square;
extern const bayes_dist bayes_dist_inv_chi_square;
extern const bayes_dist bayes_dist_beta;
extern const bayes_dist bayes_dist_uniform;
extern const bayes_dist bayes_dist_von_mises;
extern const bayes_dist bayes_dist_pareto;
extern const bayes_dist bayes_dist_flat;
extern const bayes_dist bayes_dist_bernoulli;
extern const bayes_dist bayes_dist_bernoulli_logit;
extern const bayes_dist bayes_dist_binomial;
extern const bayes_dist bayes_dist_binomial_logit;
extern const bayes_dist bayes_dist_beta_binomial;
extern const bayes_dist bayes_dist_poisson;
extern const bayes_dist bayes_dist_poisson_log;
extern const bayes_dist bayes_dist_neg_binomial;
extern const bayes_dist bayes_dist_neg_binomial_2;
extern const bayes_dist bayes_dist_neg_binomial_2_log;
extern const bayes_dist bayes_dist_geometric;
extern const bayes_dist bayes_dist_categorical;
extern const bayes_dist bayes_dist_categorical_logit;
extern const bayes_dist bayes_dist_multinomial;
extern const bayes_dist bayes_dist_ordered_logistic;
extern const bayes_dist bayes_dist_multi_normal;
extern const bayes_dist bayes_dist_multi_normal_cholesky;
extern const bayes_dist bayes_dist_multi_student_t;
extern const bayes_dist bayes_dist_dirichlet;
extern const bayes_dist bayes_dist_lkj_corr;
extern const bayes_dist bayes_dist_lkj_corr_cholesky;
extern const bayes_dist bayes_dist_wishart;
extern const bayes_dist bayes_dist_inv_wishart;

const bayes_dist *const bayes_dists[] = {
    &bayes_dist_normal,
    &bayes_dist_student_t,
    &bayes_dist_cauchy,
    &bayes_dist_logistic,
    &bayes_dist_laplace,
    &bayes_dist_gumbel,
    &bayes_dist_skew_normal,
    &bayes_dist_lognormal,
    &bayes_dist_half_normal,
    &bayes_dist_half_cauchy,
    &bayes_dist_half_student_t,
    &bayes_dist_exponential,
    &bayes_dist_gamma,
    &bayes_dist_inv_gamma,
    &bayes_dist_weibull,
    &bayes_dist_chi_square,
    &bayes_dist_inv_chi_square,
    &bayes_dist_beta,
    &bayes_dist_uniform,
    &bayes_dist_von_mises,
    &bayes_dist_pareto,
    &bayes_dist_flat,
    &bayes_dist_bernoulli,
    &bayes_dist_bernoulli_logit,
    &bayes_dist_binomial,
    &bayes_dist_binomial_logit,
    &bayes_dist_beta_binomial,
    &bayes_dist_poisson,
    &bayes_dist_poisson_log,
    &bayes_dist_neg_binomial,
    &bayes_dist_neg_binomial_2,
    &bayes_dist_neg_binomial_2_log,
    &bayes_dist_geometric,
    &bayes_dist_categorical,
    &bayes_dist_categorical_logit,
    &bayes_dist_multinomial,
    &bayes_dist_ordered_logistic,
    &bayes_dist_multi_normal,
    &bayes_dist_multi_normal_cholesky,
    &bayes_dist_multi_student_t,
    &bayes_dist_dirichlet,
    &bayes_dist_lkj_corr,
    &bayes_dist_lkj_corr_cholesky,
    &bayes_dist_wishart,
    &bayes_dist_inv_wishart,
    NULL};

const bayes_dist *bayes_dist_find(const char *name)
{
  for (const bayes_dist *const *d = bayes_dists; *d; d++)
    if (strcmp((*d)->name, name) == 0 || ((*d)->alias && strcmp((*d)->alias, name) == 0))
      return *d;
  return NULL;
}
