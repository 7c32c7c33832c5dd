/* special.h — scalar special functions shared by distributions, ops and transforms,
 * written for accuracy at extreme arguments (log1p/expm1 forms, no overflow). Pure
 * functions: no allocation, no error reporting. */
#ifndef BAYES_SPECIAL_H
#define BAYES_SPECIAL_H

#define BAYES_LOG_SQRT_2PI 0.91893853320467274178  /* log(sqrt(2 pi)) */
#define BAYES_LOG_PI 1.14472988584940017414
#define BAYES_LOG2 0.69314718055994530942
#define BAYES_SQRT2 1.41421356237309504880

double bayes_log1p_exp(double x);          /* log(1 + exp(x)) */
double bayes_log1m_exp(double x);          /* log(1 - exp(x)), x < 0 */
double bayes_log_sum_exp2(double a, double b);
double bayes_log_diff_exp(double a, double b); /* log(exp(a) - exp(b)), a > b */
double bayes_inv_logit(double x);
double bayes_logit(double p);
double bayes_log_inv_logit(double x);      /* log(inv_logit(x)) = -log1p(exp(-x)) */
double bayes_log1m_inv_logit(double x);    /* log(1 - inv_logit(x)) */
double bayes_lbeta(double a, double b);
double bayes_lchoose(double n, double k);
double bayes_digamma(double x);
double bayes_trigamma(double x);
double bayes_Phi(double x);                /* standard normal CDF */
double bayes_log_Phi(double x);            /* log CDF, accurate in the far left tail */
double bayes_log_Phic(double x);           /* log(1 - Phi(x)) */
double bayes_Phi_approx(double x);         /* Stan's logistic approximation */
double bayes_inc_beta(double a, double b, double x);   /* regularised I_x(a, b) */
double bayes_gamma_p(double a, double x);  /* regularised lower incomplete gamma */
double bayes_gamma_q(double a, double x);  /* regularised upper incomplete gamma */
/* log of the modified Bessel function I0(x) (von Mises normaliser), x >= 0 */
double bayes_log_bessel_i0(double x);
/* d/dx log I0(x) = I1(x)/I0(x) */
double bayes_bessel_i1_over_i0(double x);
double bayes_lmgamma(int k, double x);     /* log multivariate gamma */

/* log Phi(x) with relative accuracy for every x: log1p(-Phi(-x)) for x > 0, erfc down to
 * x = -37.5 (where erfc is still relative-accurate), the Mills-ratio series beyond.
 * (bayes_log_Phi switches to its 12-term series already at x = -5, where the series'
 * truncation error is ~1e-8; kept unchanged for its existing callers.) */
double bayes_log_Phi_rel(double x);

#endif
