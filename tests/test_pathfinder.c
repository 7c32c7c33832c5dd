/* test_pathfinder.c — single-path Pathfinder (pathfinder.c) through its public interface:
 * the Gaussian of Alg. 2 / 4 against a dense BFGS recursion and against closed forms, whole
 * paths on Gaussian targets whose moments are known, a constrained model, the failure
 * messages, determinism and RNG streams. References come from closed forms or from dense
 * linear algebra written here, never from pathfinder.c itself.
 *
 * Why the Gaussian of a whole path is not exact on a correlated Gaussian target: on a
 * quadratic with Hessian A, a BFGS update H+ = V'HV + rho s s' (V = I - rho y s') with the
 * pair (s, y = A s) keeps H y_j = s_j for an older pair only if s' A s_j = 0: then
 * V y_j = y_j and V' s_j = s_j, so H+ y_j = V' H y_j = s_j (the hereditary property behind
 * quadratic termination; Fletcher 1987, "Practical Methods of Optimization", section 3.4).
 * With d A-conjugate pairs H y_j = s_j on a basis, so H = A^-1 whatever the initial
 * diagonal. Exact line searches make the steps conjugate; Wolfe line searches do not (the
 * first trial step is kept whenever it satisfies the Wolfe conditions), so "exact after d
 * steps with history >= d" holds for conjugate pairs (test_conjugate_exact) and for targets
 * where one pair fixes H: a 1-D or an isotropic Gaussian (y = s / sigma^2 makes the
 * Gilbert-Lemarechal diagonal sigma^2 exactly, and the update keeps H = sigma^2 I), tested
 * end to end in test_exact_paths. On a correlated Gaussian a path's approximation is
 * checked through its exact KL divergence to the target, with a bound measured over many
 * seeds (test_correlated).
 *
 * Statistical checks and their false-failure rates. Draw moments are compared with the
 * exposed mean and covariance of the chosen Gaussian (exact quantities), at 5 standard
 * errors: P(|Z| > 5) = 5.7e-7 per check (normal approximation; for sample covariances with
 * 1000 draws the CLT error is far below this margin), 20 checks per run (d = 5: 5 means,
 * 15 covariances), two runs: below 3e-5 for the file. The KL bound of test_correlated has a
 * measured rate, stated there. The seeds are fixed, so
 * every run is deterministic; the rates say how likely a correct implementation is to fail
 * for a given seed. */
#include <check.h>

#include "testutil.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bayes.h"
#include "pathfinder.h"
#include "util.h"

#define LOG_2PI 1.8378770664093454836

/* ------------------------------------------------------------------ helpers */

static double urand(unsigned long *r)
{
  *r = *r * 6364136223846793005UL + 1442695040888963407UL;
  return (double)(*r >> 11) / 9007199254740992.0 * 2 - 1;
}

/* In-place Cholesky (lower, row-major) of an SPD d x d matrix; returns log det. */
static double chol(double *M, int d)
{
  double ld = 0;
  for (int j = 0; j < d; j++) {
    double s = M[j * d + j];
    for (int l = 0; l < j; l++) s -= M[j * d + l] * M[j * d + l];
    ck_assert_msg(s > 0, "not positive definite");
    M[j * d + j] = sqrt(s);
    ld += log(s);
    for (int i = j + 1; i < d; i++) {
      double t = M[i * d + j];
      for (int l = 0; l < j; l++) t -= M[i * d + l] * M[j * d + l];
      M[i * d + j] = t / M[j * d + j];
    }
    for (int l = j + 1; l < d; l++) M[j * d + l] = 0;
  }
  return ld;
}

/* log N(x | m, L L') with L from chol and its log det. */
static double mvn_logpdf(const double *x, const double *m, const double *L, double ld, int d)
{
  double z[16], q = 0;
  for (int i = 0; i < d; i++) {
    double s = x[i] - m[i];
    for (int l = 0; l < i; l++) s -= L[i * d + l] * z[l];
    z[i] = s / L[i * d + i];
    q += z[i] * z[i];
  }
  return -0.5 * (d * LOG_2PI + ld + q);
}

/* Inverse of an SPD matrix from its Cholesky factor L (Linv' Linv). */
static void spd_inverse(const double *L, int d, double *inv)
{
  double Li[256];
  memset(Li, 0, sizeof Li);
  for (int j = 0; j < d; j++) {
    for (int i = j; i < d; i++) {
      double s = i == j ? 1 : 0;
      for (int l = j; l < i; l++) s -= L[i * d + l] * Li[l * d + j];
      Li[i * d + j] = s / L[i * d + i];
    }
  }
  for (int i = 0; i < d; i++)
    for (int j = 0; j < d; j++) {
      double s = 0;
      for (int l = 0; l < d; l++) s += Li[l * d + i] * Li[l * d + j];
      inv[i * d + j] = s;
    }
}

/* H after the BFGS updates of the pairs (oldest first) applied to diag(alpha), densely:
 * H <- (I - rho s y') H (I - rho y s') + rho s s' (N&W eq. 6.17). */
static void bfgs_dense(int d, int J, const double *S, const double *Y, const double *alpha,
                       double *H)
{
  double T[256], U[256];
  memset(H, 0, sizeof(double) * d * d);
  for (int i = 0; i < d; i++) H[i * d + i] = alpha[i];
  for (int j = 0; j < J; j++) {
    const double *s = S + j * d, *y = Y + j * d;
    double sy = 0;
    for (int i = 0; i < d; i++) sy += s[i] * y[i];
    double rho = 1 / sy;
    for (int a = 0; a < d; a++)
      for (int b = 0; b < d; b++) {
        double v = 0;
        for (int c = 0; c < d; c++) v += H[a * d + c] * ((c == b) - rho * y[c] * s[b]);
        T[a * d + b] = v;
      }
    for (int a = 0; a < d; a++)
      for (int b = 0; b < d; b++) {
        double v = 0;
        for (int c = 0; c < d; c++) v += ((c == a) - rho * y[c] * s[a]) * T[c * d + b];
        U[a * d + b] = v + rho * s[a] * s[b];
      }
    memcpy(H, U, sizeof(double) * d * d);
  }
}

/* A correlated d x d covariance B B' + 0.5 I (B uniform(-1, 1) from a fixed seed) and a
 * mean; the model text "x: multi_normal(m, S)" with them as data. */
static bayes_model *mvn_model(int d, unsigned long seed, double *mu, double *S)
{
  double B[256];
  for (int i = 0; i < d * d; i++) B[i] = urand(&seed);
  for (int i = 0; i < d; i++) {
    mu[i] = i - 1.5;
    for (int j = 0; j < d; j++) {
      double s = i == j ? 0.5 : 0;
      for (int k = 0; k < d; k++) s += B[i * d + k] * B[j * d + k];
      S[i * d + j] = s;
    }
  }
  char txt[16384];
  int o = snprintf(txt, sizeof txt, "model: mvn\ndata:\n  m: [");
  for (int i = 0; i < d; i++) o += snprintf(txt + o, sizeof txt - o, "%s%.17g", i ? ", " : "", mu[i]);
  o += snprintf(txt + o, sizeof txt - o, "]\n  S: [");
  for (int i = 0; i < d; i++) {
    o += snprintf(txt + o, sizeof txt - o, "%s[", i ? ", " : "");
    for (int j = 0; j < d; j++)
      o += snprintf(txt + o, sizeof txt - o, "%s%.17g", j ? ", " : "", S[i * d + j]);
    o += snprintf(txt + o, sizeof txt - o, "]");
  }
  snprintf(txt + o, sizeof txt - o, "]\nparameters:\n  x: multi_normal(m, S)\n");
  return bt_load_text(txt);
}

static void tight(bayes_pathfinder_cfg *c)
{
  c->lbfgs.tol_obj = c->lbfgs.tol_rel_obj = c->lbfgs.tol_rel_grad = c->lbfgs.tol_param = 0;
  c->lbfgs.tol_grad = 1e-10;
}

/* Draws against the exposed Gaussian: log_q equals its log density (to 1e-9), and the
 * sample mean and covariance agree with it at 5 standard errors. */
static void check_draws_vs_gaussian(const bayes_approx_draws *dr, const double *mean,
                                    const double *cov, int d)
{
  double L[256];
  memcpy(L, cov, sizeof(double) * d * d);
  double ld = chol(L, d);
  for (size_t i = 0; i < dr->n; i++) {
    double lq = mvn_logpdf(dr->theta + i * d, mean, L, ld, d);
    ck_assert_msg(fabs(lq - dr->log_q[i]) < 1e-9 * fmax(1, fabs(lq)),
                  "draw %zu: log_q %.17g, N(mean, cov) gives %.17g", i, dr->log_q[i], lq);
  }
  double n = (double)dr->n, xm[16] = {0};
  for (size_t i = 0; i < dr->n; i++)
    for (int k = 0; k < d; k++) xm[k] += dr->theta[i * d + k] / n;
  for (int k = 0; k < d; k++) {
    double se = sqrt(cov[k * d + k] / n);
    ck_assert_msg(fabs(xm[k] - mean[k]) < 5 * se, "mean[%d]: %g vs %g (se %g)", k, xm[k],
                  mean[k], se);
  }
  for (int a = 0; a < d; a++)
    for (int b = 0; b <= a; b++) {
      double s = 0;
      for (size_t i = 0; i < dr->n; i++)
        s += (dr->theta[i * d + a] - mean[a]) * (dr->theta[i * d + b] - mean[b]);
      s /= n;
      /* Var((x_a - m_a)(x_b - m_b)) = S_aa S_bb + S_ab^2 for a Gaussian */
      double se = sqrt((cov[a * d + a] * cov[b * d + b] + cov[a * d + b] * cov[a * d + b]) / n);
      ck_assert_msg(fabs(s - cov[a * d + b]) < 5 * se, "cov[%d][%d]: %g vs %g (se %g)", a, b,
                    s, cov[a * d + b], se);
    }
}

/* ------------------------------------------------------------------ tests */

START_TEST(test_defaults)
{
  bayes_pathfinder_cfg c;
  bayes_pathfinder_defaults(&c);
  ck_assert_int_eq(c.num_paths, 4);
  ck_assert_int_eq(c.num_draws, 1000);
  ck_assert_int_eq(c.draws_per_path, 1000);
  ck_assert_int_eq(c.num_elbo_draws, 25);
  ck_assert_int_eq(c.history, 5);
  ck_assert(c.psis_resample);
  ck_assert(c.init_radius == 2);
  ck_assert_int_eq(c.lbfgs.max_iter, 1000);
  /* CmdStan's, except the relative tests, off (see bayes_pathfinder_defaults) */
  ck_assert(c.lbfgs.init_alpha == 0.001 && c.lbfgs.tol_obj == 1e-12 &&
            c.lbfgs.tol_rel_obj == 0 && c.lbfgs.tol_grad == 1e-8 &&
            c.lbfgs.tol_rel_grad == 0 && c.lbfgs.tol_param == 1e-8);
  ck_assert(c.flags & BAYES_LD_JACOBIAN);
}
END_TEST

/* Alg. 2 / 4 (compact form, thin QR, Cholesky) equals the dense BFGS recursion from
 * diag(alpha) over the same pairs, for 2J below, at and above d; mean x - H g; log det H
 * from a dense Cholesky. Pairs y = A s (A SPD) have curvature. */
START_TEST(test_gaussian_vs_dense)
{
  for (int d = 1; d <= 9; d++)
    for (int J = 0; J <= 6; J++) {
      unsigned long r = (unsigned long)(d * 100 + J);
      double S[64], Y[64], A[81], B[81], alpha[9], x[9], g[9];
      for (int i = 0; i < d * d; i++) B[i] = urand(&r);
      for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
          double s = i == j;
          for (int k = 0; k < d; k++) s += B[i * d + k] * B[j * d + k];
          A[i * d + j] = s;
        }
      for (int j = 0; j < J; j++)
        for (int i = 0; i < d; i++) S[j * d + i] = urand(&r);
      for (int j = 0; j < J; j++)
        for (int i = 0; i < d; i++) {
          double s = 0;
          for (int k = 0; k < d; k++) s += A[i * d + k] * S[j * d + k];
          Y[j * d + i] = s;
        }
      for (int i = 0; i < d; i++) {
        alpha[i] = 0.5 + 0.5 * (urand(&r) + 1);
        x[i] = urand(&r);
        g[i] = urand(&r);
      }
      double mean[9], cov[81], ld, H[81];
      ck_assert_int_eq(bayes_pathfinder_gaussian((size_t)d, J, S, Y, alpha, x, g, mean, cov,
                                                 &ld), 0);
      bfgs_dense(d, J, S, Y, alpha, H);
      double hmax = 0;
      for (int i = 0; i < d * d; i++) hmax = fmax(hmax, fabs(H[i]));
      for (int i = 0; i < d * d; i++)
        ck_assert_msg(fabs(cov[i] - H[i]) < 1e-12 * hmax, "d %d J %d: H[%d] %.17g vs %.17g",
                      d, J, i, cov[i], H[i]);
      for (int i = 0; i < d; i++) {
        double hg = 0;
        for (int k = 0; k < d; k++) hg += H[i * d + k] * g[k];
        ck_assert_msg(fabs(mean[i] - (x[i] - hg)) < 1e-12 * fmax(1, fabs(mean[i])),
                      "d %d J %d: mean[%d]", d, J, i);
      }
      double ldd = chol(H, d);
      ck_assert_msg(fabs(ld - ldd) < 1e-10, "d %d J %d: log det %.17g vs %.17g", d, J, ld, ldd);
    }
  /* a pair without curvature is refused */
  double s[2] = {1, 0}, y[2] = {-1, 0}, a[2] = {1, 1}, x[2] = {0, 0};
  ck_assert_int_eq(bayes_pathfinder_gaussian(2, 1, s, y, a, x, x, NULL, NULL, NULL), -1);
}
END_TEST

/* d A-conjugate pairs of a quadratic with Hessian A = Sigma^-1 give H = Sigma exactly and
 * mean = the minimiser, whatever alpha (the hereditary property, see the top). s_j =
 * column j of the Cholesky factor C of Sigma = C C': s_i' A s_j = e_i' C' C^-T C^-1 C e_j
 * = delta_ij. */
START_TEST(test_conjugate_exact)
{
  const int d = 6;
  double mu[6], Sig[36], C[36], A[36];
  bayes_model *m = mvn_model(d, 7, mu, Sig);
  bayes_model_free(m);
  memcpy(C, Sig, sizeof C);
  chol(C, d);
  spd_inverse(C, d, A);
  double S[36], Y[36], alpha[6], x[6], g[6];
  for (int j = 0; j < d; j++)
    for (int i = 0; i < d; i++) S[j * d + i] = C[i * d + j];
  for (int j = 0; j < d; j++)
    for (int i = 0; i < d; i++) {
      double s = 0;
      for (int k = 0; k < d; k++) s += A[i * d + k] * S[j * d + k];
      Y[j * d + i] = s;
    }
  unsigned long r = 3;
  for (int i = 0; i < d; i++) {
    alpha[i] = 0.1 + urand(&r) + 1;
    x[i] = 3 * urand(&r);
  }
  for (int i = 0; i < d; i++) { /* gradient of f = -log p: A (x - mu) */
    double s = 0;
    for (int k = 0; k < d; k++) s += A[i * d + k] * (x[k] - mu[k]);
    g[i] = s;
  }
  double mean[6], cov[36];
  ck_assert_int_eq(bayes_pathfinder_gaussian(d, d, S, Y, alpha, x, g, mean, cov, NULL), 0);
  for (int i = 0; i < d; i++) ck_assert_msg(fabs(mean[i] - mu[i]) < 1e-10, "mean[%d]", i);
  for (int i = 0; i < d * d; i++)
    ck_assert_msg(fabs(cov[i] - Sig[i]) < 1e-10, "cov[%d] %.17g vs %.17g", i, cov[i], Sig[i]);
}
END_TEST

/* Whole paths where the approximation is exact (see the top): a 1-D normal with sd 3 and
 * an isotropic 4-D normal with sd 2; the chosen mean and covariance equal the target's to
 * 1e-8, and every draw has log_q = log_p (both normalised densities of the same law). */
START_TEST(test_exact_paths)
{
  const char *txt[2] = {"model: n1\nparameters:\n  x: normal(1.5, 3)\n",
                        "model: n4\ndata:\n  m: [-2, 0.5, 1, 4]\nparameters:\n"
                        "  x: normal(m, 2) [4]\n"};
  const double mus[2][4] = {{1.5}, {-2, 0.5, 1, 4}};
  const double var[2] = {9, 4};
  for (int t = 0; t < 2; t++) {
    bayes_model *m = bt_load_text(txt[t]);
    int d = (int)bayes_model_dim(m);
    bayes_pathfinder_cfg c;
    bayes_pathfinder_defaults(&c);
    tight(&c);
    c.seed = 11;
    bayes_approx_draws dr;
    ck_assert_int_eq(bayes_approx_draws_init(&dr, (size_t)d, 200), 0);
    bayes_pathfinder_info info;
    char err[512];
    double mean[4], cov[16];
    int rc = bayes_pathfinder_path_gaussian(m, &c, 0, NULL, &dr, &info, mean, cov, err,
                                            sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert(bayes_lbfgs_converged(info.lbfgs_status));
    for (int i = 0; i < d; i++) {
      ck_assert_msg(fabs(mean[i] - mus[t][i]) < 1e-8, "mean[%d] = %.17g", i, mean[i]);
      for (int j = 0; j < d; j++)
        ck_assert_msg(fabs(cov[i * d + j] - (i == j ? var[t] : 0)) < 1e-8, "cov[%d][%d] = %g",
                      i, j, cov[i * d + j]);
    }
    for (size_t i = 0; i < dr.n; i++)
      ck_assert_msg(fabs(dr.log_p[i] - dr.log_q[i]) < 1e-8, "draw %zu: log_p %g log_q %g", i,
                    dr.log_p[i], dr.log_q[i]);
    ck_assert(fabs(info.best_elbo) < 1e-8);
    bayes_approx_draws_destroy(&dr);
    bayes_model_free(m);
  }
}
END_TEST

/* A correlated 5-D Gaussian (multi_normal with known mean and covariance, no data), history
 * d, tight L-BFGS tolerances: L-BFGS takes >= d steps; the chosen Gaussian is close to the
 * target in KL divergence; the draws match the chosen Gaussian (log_q exactly, moments
 * statistically) and log_p is the target's log density. The KL bound: over 1000 seeds
 * (path 0) the largest KL(q || p) was 1.09 with the tight tolerances and 0.95 with
 * CmdStan's defaults (means 0.13 and 0.16; L-BFGS took at least 15 and 8 iterations). We
 * fail above 2, reached by none of those 2000 runs: a false-failure rate below 0.15% per
 * run (rule of three), below 0.3% for the test. */
START_TEST(test_correlated)
{
  const int d = 5;
  double mu[5], Sig[25];
  bayes_model *m = mvn_model(d, 99, mu, Sig);
  double Lp[25], Sinv[25];
  memcpy(Lp, Sig, sizeof Lp);
  double ldp = chol(Lp, d);
  spd_inverse(Lp, d, Sinv);
  for (int v = 0; v < 2; v++) {
    bayes_pathfinder_cfg c;
    bayes_pathfinder_defaults(&c);
    if (v == 0) tight(&c);
    c.history = d;
    c.seed = 2024;
    bayes_approx_draws dr;
    ck_assert_int_eq(bayes_approx_draws_init(&dr, (size_t)d, 1000), 0);
    bayes_pathfinder_info info;
    char err[512];
    double mean[5], cov[25];
    int rc = bayes_pathfinder_path_gaussian(m, &c, 3, NULL, &dr, &info, mean, cov, err,
                                            sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_msg(info.lbfgs_iter >= d, "%ld L-BFGS iterations", info.lbfgs_iter);
    ck_assert(bayes_lbfgs_converged(info.lbfgs_status));
    ck_assert(info.best_iter >= 1 && info.best_iter <= info.lbfgs_iter);
    ck_assert(isfinite(info.best_elbo));
    ck_assert_int_ge(info.grad_evals, info.lbfgs_iter + (long)dr.n + c.num_elbo_draws);
    /* KL(q || p) = 1/2 [tr(Sp^-1 Sq) + (mp - mq)' Sp^-1 (mp - mq) - d + ln |Sp| / |Sq|] */
    double Lq[25];
    memcpy(Lq, cov, sizeof Lq);
    double ldq = chol(Lq, d);
    double tr = 0, qf = 0;
    for (int i = 0; i < d; i++)
      for (int j = 0; j < d; j++) {
        tr += Sinv[i * d + j] * cov[j * d + i];
        qf += (mean[i] - mu[i]) * Sinv[i * d + j] * (mean[j] - mu[j]);
      }
    double kl = 0.5 * (tr + qf - d + ldp - ldq);
    ck_assert_msg(kl >= -1e-12 && kl < 2, "KL(q || p) = %g", kl);
    check_draws_vs_gaussian(&dr, mean, cov, d);
    for (size_t i = 0; i < dr.n; i++) {
      double lp = mvn_logpdf(dr.theta + i * d, mu, Lp, ldp, d);
      ck_assert_msg(fabs(lp - dr.log_p[i]) < 1e-9 * fmax(1, fabs(lp)), "draw %zu log_p", i);
    }
    bayes_approx_draws_destroy(&dr);
  }
  bayes_model_free(m);
}
END_TEST

/* A model with constrained parameters: eight schools (non-centred, tau > 0) and its
 * centred form. With CmdStan's defaults the path runs and (nearly) every draw has a finite
 * log density: on the unconstrained scale the density is finite everywhere but where
 * exp(log tau) overflows, which no Gaussian draw near the path reaches; we require 99%. */
START_TEST(test_eight_schools)
{
  const char *names[2] = {"models/eight_schools.yaml", "models/eight_schools_centered.yaml"};
  for (int k = 0; k < 2; k++) {
    bayes_model *m = bt_load_rel(names[k]);
    size_t d = bayes_model_dim(m);
    bayes_pathfinder_cfg c;
    bayes_pathfinder_defaults(&c);
    c.seed = 5;
    bayes_approx_draws dr;
    ck_assert_int_eq(bayes_approx_draws_init(&dr, d, (size_t)c.draws_per_path), 0);
    bayes_pathfinder_info info;
    char err[512];
    int rc = bayes_pathfinder_path(m, &c, 1, NULL, &dr, &info, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: %s", names[k], err);
    long finite = 0;
    for (size_t i = 0; i < dr.n; i++) {
      finite += isfinite(dr.log_p[i]);
      ck_assert(isfinite(dr.log_q[i]));
    }
    ck_assert_msg(finite >= 990, "%s: %ld finite log_p of 1000", names[k], finite);
    ck_assert(info.best_iter >= 1 && info.best_iter <= info.lbfgs_iter);
    ck_assert(isfinite(info.best_elbo));
    bayes_approx_draws_destroy(&dr);
    bayes_model_free(m);
  }
}
END_TEST

/* No finite initial point: BAYES_EDATA with a one-line message naming the problem. */
START_TEST(test_no_finite_init)
{
  bayes_model *m = bt_load_text("model: bad\ndata:\n  y: [1.0, 2.0]\n  s: 0\n"
                             "parameters:\n  mu: normal(0, 1)\nlikelihood:\n"
                             "  y: normal(mu, s)\n");
  bayes_pathfinder_cfg c;
  bayes_pathfinder_defaults(&c);
  bayes_approx_draws dr;
  ck_assert_int_eq(bayes_approx_draws_init(&dr, 1, 10), 0);
  bayes_pathfinder_info info;
  char err[1024];
  ck_assert_int_eq(bayes_pathfinder_path(m, &c, 0, NULL, &dr, &info, err, sizeof err),
                   BAYES_EDATA);
  ck_assert_msg(strstr(err, "Initialization failed after 100 attempts") &&
                    strstr(err, "sigma"), "message: %s", err);
  ck_assert_ptr_null(strchr(err, '\n'));
  ck_assert_int_eq(info.grad_evals, 100);
  ck_assert_int_eq(info.lbfgs_status, BAYES_LBFGS_NONFINITE);
  ck_assert_int_eq(info.lbfgs_iter, 0);
  double x0 = 0.5;
  ck_assert_int_eq(bayes_pathfinder_path(m, &c, 0, &x0, &dr, &info, err, sizeof err),
                   BAYES_EDATA);
  ck_assert_msg(strstr(err, "given initial values"), "message: %s", err);
  ck_assert_int_eq(info.grad_evals, 1);
  bayes_approx_draws_destroy(&dr);
  bayes_model_free(m);
}
END_TEST

/* The same (seed, path) gives bitwise the same draws; another path another stream. */
START_TEST(test_determinism)
{
  bayes_model *m = bt_load_rel("models/eight_schools.yaml");
  size_t d = bayes_model_dim(m);
  bayes_pathfinder_cfg c;
  bayes_pathfinder_defaults(&c);
  c.seed = 77;
  bayes_approx_draws a, b, e;
  ck_assert_int_eq(bayes_approx_draws_init(&a, d, 100), 0);
  ck_assert_int_eq(bayes_approx_draws_init(&b, d, 100), 0);
  ck_assert_int_eq(bayes_approx_draws_init(&e, d, 100), 0);
  bayes_pathfinder_info ia, ib, ie;
  char err[512];
  ck_assert_int_eq(bayes_pathfinder_path(m, &c, 2, NULL, &a, &ia, err, sizeof err), 0);
  ck_assert_int_eq(bayes_pathfinder_path(m, &c, 2, NULL, &b, &ib, err, sizeof err), 0);
  ck_assert_int_eq(bayes_pathfinder_path(m, &c, 3, NULL, &e, &ie, err, sizeof err), 0);
  ck_assert(memcmp(a.theta, b.theta, d * 100 * sizeof(double)) == 0);
  ck_assert(memcmp(a.log_p, b.log_p, 100 * sizeof(double)) == 0);
  ck_assert(memcmp(a.log_q, b.log_q, 100 * sizeof(double)) == 0);
  ck_assert(ia.best_iter == ib.best_iter && ia.best_elbo == ib.best_elbo &&
            ia.grad_evals == ib.grad_evals && ia.lbfgs_iter == ib.lbfgs_iter);
  ck_assert(memcmp(a.theta, e.theta, d * sizeof(double)) != 0);
  bayes_approx_draws_destroy(&a);
  bayes_approx_draws_destroy(&b);
  bayes_approx_draws_destroy(&e);
  bayes_model_free(m);
}
END_TEST

/* Out of memory at any allocation: -2, never a crash or a leak of a half-built path. */
START_TEST(test_alloc_failure)
{
  bayes_model *m = bt_load_text("model: g\nparameters:\n  x: normal(0, 1) [3]\n");
  bayes_pathfinder_cfg c;
  bayes_pathfinder_defaults(&c);
  bayes_approx_draws dr;
  ck_assert_int_eq(bayes_approx_draws_init(&dr, 3, 10), 0);
  int fails = 0;
  for (long k = 1; k <= 40; k++) {
    char err[256];
    bayes_fail_alloc_after(k);
    int rc = bayes_pathfinder_path(m, &c, 0, NULL, &dr, NULL, err, sizeof err);
    bayes_fail_alloc_after(0);
    ck_assert(rc == 0 || rc == -2);
    fails += rc == -2;
  }
  ck_assert_int_gt(fails, 0);
  bayes_approx_draws_destroy(&dr);
  bayes_model_free(m);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("pathfinder");
  TCase *t = tcase_create("pathfinder");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, test_defaults);
  tcase_add_test(t, test_gaussian_vs_dense);
  tcase_add_test(t, test_conjugate_exact);
  tcase_add_test(t, test_exact_paths);
  tcase_add_test(t, test_correlated);
  tcase_add_test(t, test_eight_schools);
  tcase_add_test(t, test_no_finite_init);
  tcase_add_test(t, test_determinism);
  tcase_add_test(t, test_alloc_failure);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return bt_run_suite(suite()); }
