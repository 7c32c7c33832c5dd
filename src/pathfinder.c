/* pathfinder.c — single-path Pathfinder (pathfinder.h): Zhang, Carpenter, Gelman &
 * Vehtari (2022), "Pathfinder: parallel quasi-Newton variational inference", JMLR
 * 23(306), Algorithms 1-4. Everything is allocated before L-BFGS starts.
 *
 * Along the L-BFGS path on f = -log p (Alg. 1), at every accepted iterate l = 1..L:
 *  - the pair (s, y) = (x_l - x_l-1, g_l - g_l-1) (g the gradient of f) joins the history
 *    of the last J = cfg->history pairs only if y's > 1e-12 |y|^2 (Alg. 3; CmdStan keeps
 *    every pair in the history and applies this test only to the diagonal update);
 *  - the diagonal initial inverse Hessian alpha (1 at the start) is updated with each
 *    accepted pair as in Alg. 3, Gilbert & Lemarechal (1989, "Some numerical experiments
 *    with variable-storage quasi-Newton algorithms", eq. 4.9): with D = 1/alpha (the
 *    Hessian diagonal) and theta = y' diag(alpha) y / y's, D is scaled by theta and given
 *    the diagonal of the BFGS Hessian update: D_i <- theta D_i + y_i^2 / y's
 *    - theta D_i^2 s_i^2 / s' D s;
 *  - the inverse Hessian estimate is the compact L-BFGS form (Byrd, Nocedal & Schnabel
 *    1994, "Representations of quasi-Newton matrices", Thm 2.2; the paper's Alg. 2)
 *    H = A + beta Gamma beta', A = diag(alpha), beta = [A Y, S] (d x 2J'),
 *    Gamma = [[0, -R^-1], [-R^-T, R^-T (E + Y'AY) R^-1]], R = upper triangle of S'Y,
 *    E = diag(S'Y), pairs oldest first;
 *  - the Gaussian is N(mu, H), mu = x_l - H g_l (Alg. 2), evaluated in the factored form of
 *    Alg. 4: with the thin QR  A^-1/2 beta = Q Rb  (Q: d x k orthonormal, k = min(d, 2J'))
 *    and the Cholesky factor  I_k + Rb Gamma Rb' = L L',
 *      H = A^1/2 C C' A^1/2,  C = I + Q (L - I) Q',
 *    so a draw is mu + A^1/2 (u + Q (L - I) Q'u), u ~ N(0, I_d), at O(d J) cost, and
 *    log q = -d/2 log 2 pi - 1/2 log det H - 1/2 u'u with
 *    log det H = sum log alpha_i + 2 sum log L_jj (det C = det L);
 *  - its ELBO is estimated with K = num_elbo_draws draws as the mean of log p - log q
 *    (Alg. 1). A draw where log p is not finite makes that ELBO -inf, as in CmdStan (its
 *    mean of lp ratios then is -inf or NaN, and NaN never compares greater): the iterate
 *    is not chosen; the remaining ELBO draws of that iterate are then not evaluated.
 * The iterate with the highest ELBO (the first of equal ones) is kept; draws_per_path
 * fresh draws are made from it. (CmdStan reuses the best iterate's K ELBO draws as the
 * first K of its draws; fresh draws keep the returned draws independent of the selection,
 * for K more log-density evaluations.) */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "init.h"
#include "pathfinder.h"
#include "util.h"

#define CURV_EPS 1e-12       /* the curvature test of Alg. 3 */
#define LOG_2PI 1.8378770664093454836

/* One Gaussian N(mu, H) in factored form. */
typedef struct {
  int np;          /* pairs used, J' */
  int k;           /* min(d, 2 J') */
  double *mu;      /* d */
  double *sqa;     /* d: sqrt(alpha) */
  double *W;       /* d x 2J, column-major: Householder vectors below the diagonal */
  double *tau;     /* 2J: Householder scalars */
  double *L;       /* 2J x 2J row-major: Cholesky factor of I_k + Rb Gamma Rb' */
  double logdet;   /* log det H */
} gauss;

typedef struct {
  const bayes_model *m;
  bayes_ws *ws;
  unsigned flags;
  long evals;
} target;

typedef struct {
  size_t d;
  int J;
  target t;
  gsl_rng *rng;
  bayes_lbfgs *opt;
  double *block;
  /* path state */
  double *x0, *g0;            /* previous iterate and gradient (of f) */
  double *S, *Y;              /* J pairs each of d, oldest first (shifted on overflow) */
  int np;
  double *alpha;              /* d */
  /* approximation workspace */
  double *Rinv, *M;           /* J x J */
  double *Gam;                /* 2J x 2J */
  double *tmp2J;              /* 2J */
  double *u, *z, *theta;      /* d */
  gauss cur, best;
} pf;

/* f = -log p and its gradient; +inf where either is not finite. */
static double neg_log_p(void *ctx, const double *x, double *g)
{
  target *t = ctx;
  double lp = NAN;
  t->evals++;
  bayes_ws_log_density(t->ws, x, t->flags, &lp, g);
  size_t d = bayes_model_dim(t->m);
  for (size_t i = 0; i < d; i++) g[i] = -g[i];
  return isfinite(lp) ? -lp : INFINITY;
}

void bayes_pathfinder_defaults(bayes_pathfinder_cfg *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->num_paths = 4;
  cfg->num_draws = 1000;
  cfg->draws_per_path = 1000;
  cfg->num_elbo_draws = 25;
  cfg->history = 5;
  cfg->psis_resample = true;
  cfg->init_radius = 2;
  bayes_lbfgs_defaults(&cfg->lbfgs);
  cfg->lbfgs.max_iter = 1000;
  /* Not CmdStan's: the relative tests are off. They are computed with the L-BFGS
   * inverse-Hessian estimate, which on ill-conditioned posteriors (a regression on an
   * uncentred predictor: posteriordb's earn_height, kilpisjarvi) under-estimates the
   * curvature along the ridge by orders of magnitude, so paths stopped 6 posterior sds
   * from the mode, every approximation along them was poor (k-hat 0.9) and the pooled
   * means were off by 2-6 sd. Without them the absolute tests, the line search (no more
   * progress) and max_iter end a path: 2-3 times the iterations there, errors below
   * 0.05 sd, k-hat 0.3. */
  cfg->lbfgs.tol_rel_obj = 0;
  cfg->lbfgs.tol_rel_grad = 0;
  cfg->flags = BAYES_LD_JACOBIAN;
  cfg->seed = 0;
}

static double dot(const double *a, const double *b, size_t n)
{
  double r = 0;
  for (size_t i = 0; i < n; i++) r += a[i] * b[i];
  return r;
}

/* ------------------------------------------------------------- linear algebra */

/* Householder QR of the d x c column-major matrix W (c columns), k = min(d, c)
 * reflectors: H_j = I - tau_j v_j v_j', v_j = (0, ..., 1, W[j+1.., j]) (Golub & Van Loan
 * 2013, "Matrix Computations", Alg. 5.1.1 and 5.2.1). R is left on and above the
 * diagonal. */
static void householder_qr(double *W, size_t d, int c, double *tau)
{
  int k = (int)d < c ? (int)d : c;
  for (int j = 0; j < k; j++) {
    double *col = W + (size_t)j * d;
    double a = col[j], xn2 = 0;
    for (size_t i = (size_t)j + 1; i < d; i++) xn2 += col[i] * col[i];
    if (xn2 == 0) {
      tau[j] = 0;
      continue;
    }
    double beta = -copysign(sqrt(a * a + xn2), a);
    tau[j] = (beta - a) / beta;
    double sc = 1 / (a - beta);
    for (size_t i = (size_t)j + 1; i < d; i++) col[i] *= sc;
    col[j] = beta;
    for (int c2 = j + 1; c2 < c; c2++) {
      double *w = W + (size_t)c2 * d;
      double s = w[j];
      for (size_t i = (size_t)j + 1; i < d; i++) s += col[i] * w[i];
      s *= tau[j];
      w[j] -= s;
      for (size_t i = (size_t)j + 1; i < d; i++) w[i] -= s * col[i];
    }
  }
}

/* v <- H_j v for reflector j of W. */
static void apply_reflector(const double *W, size_t d, int j, double tau, double *v)
{
  if (tau == 0) return;
  const double *col = W + (size_t)j * d;
  double s = v[j];
  for (size_t i = (size_t)j + 1; i < d; i++) s += col[i] * v[i];
  s *= tau;
  v[j] -= s;
  for (size_t i = (size_t)j + 1; i < d; i++) v[i] -= s * col[i];
}

/* In-place Cholesky of the k x k row-major SPD matrix K (lower triangle); -1 if not
 * positive definite. */
static int cholesky(double *K, int k)
{
  for (int j = 0; j < k; j++) {
    double s = K[j * k + j];
    for (int l = 0; l < j; l++) s -= K[j * k + l] * K[j * k + l];
    if (!(s > 0) || !isfinite(s)) return -1;
    double ljj = sqrt(s);
    K[j * k + j] = ljj;
    for (int i = j + 1; i < k; i++) {
      double t = K[i * k + j];
      for (int l = 0; l < j; l++) t -= K[i * k + l] * K[j * k + l];
      K[i * k + j] = t / ljj;
    }
    for (int l = j + 1; l < k; l++) K[j * k + l] = 0;
  }
  return 0;
}

/* ------------------------------------------------------------- the approximation */

/* Builds the Gaussian of the current pairs, alpha, iterate x and gradient g into p->cur.
 * Returns 0, or -1 if the estimate is not positive definite (or not finite). */
static int build(pf *p, const double *x, const double *g)
{
  size_t d = p->d;
  int J = p->np, c = 2 * J;
  gauss *q = &p->cur;
  q->np = J;
  q->k = (int)d < c ? (int)d : c;
  int k = q->k;
  const double *alpha = p->alpha;
  double logdet = 0;
  for (size_t i = 0; i < d; i++) {
    q->sqa[i] = sqrt(alpha[i]);
    logdet += log(alpha[i]);
  }
  /* R = upper triangle of S'Y (J x J), and its inverse by back substitution */
  double *Rinv = p->Rinv;
  double *R = p->Gam; /* scratch: Gam is filled only after R^-1 is known */
  for (int i = 0; i < J; i++)
    for (int j = 0; j < J; j++)
      R[i * J + j] = j >= i ? dot(p->S + (size_t)i * d, p->Y + (size_t)j * d, d) : 0;
  for (int j = 0; j < J; j++) {
    /* column j of R^-1: solve R r = e_j */
    for (int i = J - 1; i >= 0; i--) {
      double s = i == j ? 1 : 0;
      for (int l = i + 1; l < J; l++) s -= R[i * J + l] * Rinv[l * J + j];
      Rinv[i * J + j] = s / R[i * J + i];
    }
  }
  /* M = E + Y'AY (J x J), E = diag(R) */
  double *M = p->M;
  for (int i = 0; i < J; i++)
    for (int j = 0; j <= i; j++) {
      const double *yi = p->Y + (size_t)i * d, *yj = p->Y + (size_t)j * d;
      double a = 0;
      for (size_t r = 0; r < d; r++) a += yi[r] * alpha[r] * yj[r];
      M[i * J + j] = M[j * J + i] = a + (i == j ? R[i * J + i] : 0);
    }
  double *Gam = p->Gam;
  memset(Gam, 0, (size_t)c * c * sizeof(double));
  /* blocks: top-right = -R^-1, bottom-left = -R^-T, bottom-right = R^-T M R^-1 */
  for (int i = 0; i < J; i++)
    for (int j = 0; j < J; j++) {
      Gam[i * c + (J + j)] = -Rinv[i * J + j];
      Gam[(J + i) * c + j] = -Rinv[j * J + i];
    }
  for (int a = 0; a < J; a++)
    for (int b = 0; b < J; b++) {
      /* (R^-T M R^-1)_ab = sum_ij Rinv_ia M_ij Rinv_jb */
      double s = 0; /* R^-1 is upper triangular: Rinv_ia = 0 for i > a */
      for (int i = 0; i <= a; i++)
        for (int j = 0; j <= b; j++) s += Rinv[i * J + a] * M[i * J + j] * Rinv[j * J + b];
      Gam[(J + a) * c + (J + b)] = s;
    }

  /* mu = x - H g, H g = A g + beta Gamma beta' g, beta' g = [Y'(A g); S'g] */
  double *bg = p->tmp2J;
  for (int j = 0; j < J; j++) {
    const double *yj = p->Y + (size_t)j * d, *sj = p->S + (size_t)j * d;
    double a = 0;
    for (size_t r = 0; r < d; r++) a += yj[r] * alpha[r] * g[r];
    bg[j] = a;
    bg[J + j] = dot(sj, g, d);
  }
  for (size_t r = 0; r < d; r++) q->mu[r] = x[r] - alpha[r] * g[r];
  for (int i = 0; i < c; i++) {
    double s = 0;
    for (int j = 0; j < c; j++) s += Gam[i * c + j] * bg[j];
    /* column i of beta: A y_i (i < J) or s_(i-J) */
    if (i < J) {
      const double *yi = p->Y + (size_t)i * d;
      for (size_t r = 0; r < d; r++) q->mu[r] -= s * alpha[r] * yi[r];
    } else {
      const double *si = p->S + (size_t)(i - J) * d;
      for (size_t r = 0; r < d; r++) q->mu[r] -= s * si[r];
    }
  }

  /* Wb = A^-1/2 beta = [A^1/2 Y, A^-1/2 S], then its QR */
  for (int j = 0; j < J; j++) {
    const double *yj = p->Y + (size_t)j * d, *sj = p->S + (size_t)j * d;
    double *w1 = q->W + (size_t)j * d, *w2 = q->W + (size_t)(J + j) * d;
    for (size_t r = 0; r < d; r++) {
      w1[r] = q->sqa[r] * yj[r];
      w2[r] = sj[r] / q->sqa[r];
    }
  }
  householder_qr(q->W, d, c, q->tau);
  /* K = I_k + Rb Gamma Rb', Rb (k x c) upper trapezoidal: Rb[i][j] = W[j*d + i], j >= i */
  double *K = q->L;
  for (int i = 0; i < k; i++)
    for (int j = 0; j <= i; j++) {
      double s = 0;
      for (int a = i; a < c; a++) {
        double rb_ia = q->W[(size_t)a * d + i];
        double t = 0;
        for (int b = j; b < c; b++) t += Gam[a * c + b] * q->W[(size_t)b * d + j];
        s += rb_ia * t;
      }
      K[i * k + j] = K[j * k + i] = s + (i == j ? 1 : 0);
    }
  if (cholesky(K, k) != 0) return -1;
  for (int j = 0; j < k; j++) logdet += 2 * log(K[j * k + j]);
  q->logdet = logdet;
  if (!isfinite(logdet)) return -1;
  for (size_t r = 0; r < d; r++)
    if (!isfinite(q->mu[r])) return -1;
  return 0;
}

/* One draw from q: theta = mu + A^1/2 (u + Q (L - I) Q'u). Returns log q(theta). */
static double draw(pf *p, const gauss *q, double *theta)
{
  size_t d = p->d;
  int k = q->k;
  double uu = 0;
  for (size_t r = 0; r < d; r++) {
    p->u[r] = gsl_ran_gaussian_ziggurat(p->rng, 1.0);
    uu += p->u[r] * p->u[r];
    p->z[r] = p->u[r];
  }
  if (k > 0) {
    /* z = Q'u: the first k entries are the thin Q'u */
    for (int j = 0; j < k; j++) apply_reflector(q->W, d, j, q->tau[j], p->z);
    /* w = (L - I) z[0..k-1], padded with zeros, then Q w */
    double *w = p->tmp2J;
    for (int i = 0; i < k; i++) {
      double s = -p->z[i];
      for (int j = 0; j <= i; j++) s += q->L[i * k + j] * p->z[j];
      w[i] = s;
    }
    for (size_t r = 0; r < d; r++) p->z[r] = (int)r < k ? w[r] : 0;
    for (int j = k - 1; j >= 0; j--) apply_reflector(q->W, d, j, q->tau[j], p->z);
    for (size_t r = 0; r < d; r++) p->z[r] += p->u[r];
  }
  for (size_t r = 0; r < d; r++) theta[r] = q->mu[r] + q->sqa[r] * p->z[r];
  return -0.5 * ((double)d * LOG_2PI + q->logdet + uu);
}

static double log_p(pf *p, const double *theta)
{
  double lp = NAN;
  p->t.evals++;
  bayes_ws_log_density(p->t.ws, theta, p->t.flags, &lp, NULL);
  return isfinite(lp) ? lp : -INFINITY;
}

static double elbo(pf *p, int K)
{
  double s = 0;
  for (int i = 0; i < K; i++) {
    double lq = draw(p, &p->cur, p->theta);
    double lp = log_p(p, p->theta);
    if (!isfinite(lp)) return -INFINITY;
    s += lp - lq;
  }
  return K > 0 ? s / K : -INFINITY;
}

static void copy_gauss(gauss *dst, const gauss *src, size_t d, int J)
{
  size_t c = 2 * (size_t)J;
  dst->np = src->np;
  dst->k = src->k;
  dst->logdet = src->logdet;
  memcpy(dst->mu, src->mu, d * sizeof(double));
  memcpy(dst->sqa, src->sqa, d * sizeof(double));
  memcpy(dst->W, src->W, d * (size_t)(2 * src->np) * sizeof(double));
  memcpy(dst->tau, src->tau, c * sizeof(double));
  memcpy(dst->L, src->L, (size_t)src->k * (size_t)src->k * sizeof(double));
}

/* Adds the pair (s, y) (Alg. 3): skipped without curvature; else the diagonal update and
 * the history push (dropping the oldest beyond J). */
static void add_pair(pf *p, const double *s, const double *y)
{
  size_t d = p->d;
  double sy = dot(s, y, d), yy = dot(y, y, d);
  if (!(sy > CURV_EPS * yy)) return;
  /* Gilbert-Lemarechal diagonal update, in terms of D = 1 / alpha */
  double yay = 0, sds = 0;
  for (size_t r = 0; r < d; r++) {
    yay += y[r] * p->alpha[r] * y[r];
    sds += s[r] * s[r] / p->alpha[r];
  }
  double theta = yay / sy;
  bool ok = isfinite(theta) && theta > 0 && sds > 0;
  for (size_t r = 0; r < d && ok; r++) {
    double D = 1 / p->alpha[r];
    double Dn = theta * D + y[r] * y[r] / sy - theta * D * D * s[r] * s[r] / sds;
    p->z[r] = 1 / Dn;
    ok = isfinite(p->z[r]) && p->z[r] > 0;
  }
  if (ok) memcpy(p->alpha, p->z, d * sizeof(double));
  if (p->np == p->J) {
    memmove(p->S, p->S + d, (size_t)(p->J - 1) * d * sizeof(double));
    memmove(p->Y, p->Y + d, (size_t)(p->J - 1) * d * sizeof(double));
    p->np--;
  }
  memcpy(p->S + (size_t)p->np * d, s, d * sizeof(double));
  memcpy(p->Y + (size_t)p->np * d, y, d * sizeof(double));
  p->np++;
}

static void pf_free(pf *p)
{
  bayes_lbfgs_free(p->opt);
  bayes_rng_free(p->rng);
  bayes_ws_free(p->t.ws);
  bayes_free(p->block);
}

/* The numeric workspace for dimension d and history J. */
static int pf_alloc_work(pf *p, size_t d, int history)
{
  memset(p, 0, sizeof *p);
  size_t J = (size_t)history, c = 2 * J;
  p->d = d;
  p->J = history;
  size_t per_gauss = d + d + d * c + c + c * c;
  size_t total = 2 * d + 2 * J * d + d + 2 * J * J + c * c + c + 3 * d + 2 * per_gauss;
  p->block = bayes_calloc(total + 1, sizeof(double));
  if (!p->block) return -2;
  double *bp = p->block;
  p->x0 = bp, bp += d;
  p->g0 = bp, bp += d;
  p->S = bp, bp += J * d;
  p->Y = bp, bp += J * d;
  p->alpha = bp, bp += d;
  p->Rinv = bp, bp += J * J;
  p->M = bp, bp += J * J;
  p->Gam = bp, bp += c * c;
  p->tmp2J = bp, bp += c;
  p->u = bp, bp += d;
  p->z = bp, bp += d;
  p->theta = bp, bp += d;
  gauss *gs[] = {&p->cur, &p->best};
  for (int k = 0; k < 2; k++) {
    gs[k]->mu = bp, bp += d;
    gs[k]->sqa = bp, bp += d;
    gs[k]->W = bp, bp += d * c;
    gs[k]->tau = bp, bp += c;
    gs[k]->L = bp, bp += c * c;
  }
  for (size_t r = 0; r < d; r++) p->alpha[r] = 1;
  return 0;
}

static int pf_alloc(pf *p, const bayes_model *m, const bayes_pathfinder_cfg *cfg, int path)
{
  size_t d = bayes_model_dim(m);
  if (pf_alloc_work(p, d, cfg->history) != 0) return -2;
  p->t.m = m;
  p->t.flags = cfg->flags;
  bayes_lbfgs_cfg lc = cfg->lbfgs;
  lc.history = cfg->history; /* CmdStan's one history_size serves both */
  p->t.ws = bayes_ws_alloc(m);
  p->rng = bayes_rng_alloc(cfg->seed, (uint64_t)(int64_t)path);
  p->opt = bayes_lbfgs_alloc(d, &lc);
  if (!p->t.ws || !p->rng || !p->opt) return -2;
  return 0;
}

/* The dense covariance of q: H = A^1/2 C C' A^1/2, column by column (for tests). */
static void dense_cov(pf *p, const gauss *q, double *cov)
{
  size_t d = p->d;
  int k = q->k;
  /* cov_ij = v_i . v_j with v_i = C' A^1/2 e_i, C' = I + Q (L' - I) Q': the v_i go
   * into the rows of cov first, then the Gram matrix replaces them */
  for (size_t i = 0; i < d; i++) {
    double *v = cov + i * d;
    memset(v, 0, d * sizeof(double));
    v[i] = q->sqa[i];
    if (k > 0) {
      memcpy(p->z, v, d * sizeof(double));
      for (int j = 0; j < k; j++) apply_reflector(q->W, d, j, q->tau[j], p->z);
      double *w = p->tmp2J;
      for (int a = 0; a < k; a++) {
        double s = -p->z[a];
        for (int b = a; b < k; b++) s += q->L[b * k + a] * p->z[b]; /* (L' z)_a */
        w[a] = s;
      }
      for (size_t r = 0; r < d; r++) p->z[r] = (int)r < k ? w[r] : 0;
      for (int j = k - 1; j >= 0; j--) apply_reflector(q->W, d, j, q->tau[j], p->z);
      for (size_t r = 0; r < d; r++) v[r] += p->z[r];
    }
  }
  /* the lower triangle, last row first: row i needs rows j <= i, still intact */
  for (size_t i = d; i-- > 0;) {
    for (size_t j = 0; j <= i; j++) p->u[j] = dot(cov + i * d, cov + j * d, d);
    memcpy(cov + i * d, p->u, (i + 1) * sizeof(double));
  }
  for (size_t i = 0; i < d; i++)
    for (size_t j = i + 1; j < d; j++) cov[i * d + j] = cov[j * d + i];
}

static int run_path(const bayes_model *m, const bayes_pathfinder_cfg *cfg, int path,
                    const double *init, bayes_approx_draws *dr, bayes_pathfinder_info *info,
                    double *mean, double *cov, char *err, size_t errlen)
{
  bayes_pathfinder_info dummy;
  if (!info) info = &dummy;
  memset(info, 0, sizeof *info);
  info->best_iter = -1;
  info->best_elbo = -INFINITY;
  if (err && errlen) err[0] = '\0';
  size_t d = bayes_model_dim(m);
  if (cfg->history < 1 || cfg->num_elbo_draws < 1 || !(cfg->init_radius >= 0)) {
    bayes_errf(err, errlen, "Pathfinder: history_size and num_elbo_draws must be at least 1 "
                            "and init_radius non-negative");
    return BAYES_EDATA;
  }
  if (d == 0) {
    bayes_errf(err, errlen, "Pathfinder: the model has no parameters");
    return BAYES_EDATA;
  }
  if (!dr || dr->dim != d) {
    bayes_errf(err, errlen, "Pathfinder: the draws container has dimension %zu, the model %zu",
               dr ? dr->dim : 0, d);
    return BAYES_EINTERNAL;
  }
  pf P, *p = &P;
  if (pf_alloc(p, m, cfg, path) != 0) {
    pf_free(p);
    bayes_errf(err, errlen, "out of memory");
    return -2;
  }
  int rc = BAYES_OK;

  /* initial point: Stan's initialize() */
  double lp0;
  char why[512];
  if (bayes_initialize(p->t.ws, d, p->t.flags, init, cfg->init_radius, p->rng, p->x0, p->g0,
                       &lp0, &p->t.evals, why, sizeof why) != 0) {
    bayes_errf(err, errlen, "Pathfinder: %s", why);
    info->lbfgs_status = BAYES_LBFGS_NONFINITE;
    rc = BAYES_EDATA;
    goto done;
  }

  /* L-BFGS, with the Pathfinder approximation at each accepted iterate */
  bayes_lbfgs_status st = bayes_lbfgs_init(p->opt, neg_log_p, &p->t, p->x0);
  memcpy(p->g0, bayes_lbfgs_grad(p->opt), d * sizeof(double)); /* of f = -log p */
  double *s = p->u, *y = p->theta; /* scratch for the new pair (free until a draw) */
  long best = -1;
  double best_elbo = -INFINITY;
  while (st == BAYES_LBFGS_CONTINUE) {
    long before = bayes_lbfgs_iterations(p->opt);
    st = bayes_lbfgs_iterate(p->opt);
    if (bayes_lbfgs_iterations(p->opt) == before) break; /* no step (line search failed) */
    const double *x = bayes_lbfgs_x(p->opt), *g = bayes_lbfgs_grad(p->opt);
    for (size_t i = 0; i < d; i++) {
      s[i] = x[i] - p->x0[i];
      y[i] = g[i] - p->g0[i];
    }
    add_pair(p, s, y);
    memcpy(p->x0, x, d * sizeof(double));
    memcpy(p->g0, g, d * sizeof(double));
    if (build(p, x, g) != 0) continue;
    double e = elbo(p, cfg->num_elbo_draws);
    if (e > best_elbo) {
      best_elbo = e;
      best = bayes_lbfgs_iterations(p->opt);
      copy_gauss(&p->best, &p->cur, d, p->J);
    }
  }
  info->lbfgs_iter = bayes_lbfgs_iterations(p->opt);
  info->lbfgs_status = st;
  if (info->lbfgs_iter == 0) {
    bayes_errf(err, errlen, "Pathfinder: L-BFGS failed at the first iteration (%s); "
                            "Pathfinder cannot be run", bayes_lbfgs_describe(st));
    rc = BAYES_EDATA;
    goto done;
  }
  if (best < 0) {
    bayes_errf(err, errlen, "Pathfinder: none of the %ld L-BFGS iterations gave an "
                            "approximation with a finite ELBO (the log density was not "
                            "finite at some of the draws of every one)", info->lbfgs_iter);
    rc = BAYES_EDATA;
    goto done;
  }
  info->best_iter = best;
  info->best_elbo = best_elbo;

  /* the draws */
  for (size_t i = 0; i < dr->n; i++) {
    double *th = dr->theta + i * d;
    dr->log_q[i] = draw(p, &p->best, th);
    dr->log_p[i] = log_p(p, th);
  }
  if (mean) memcpy(mean, p->best.mu, d * sizeof(double));
  if (cov) dense_cov(p, &p->best, cov);

done:
  info->grad_evals = p->t.evals;
  pf_free(p);
  return rc;
}

int bayes_pathfinder_path(const bayes_model *m, const bayes_pathfinder_cfg *cfg, int path,
                          const double *init, bayes_approx_draws *d,
                          bayes_pathfinder_info *info, char *err, size_t errlen)
{
  return run_path(m, cfg, path, init, d, info, NULL, NULL, err, errlen);
}

int bayes_pathfinder_path_gaussian(const bayes_model *m, const bayes_pathfinder_cfg *cfg,
                                   int path, const double *init, bayes_approx_draws *d,
                                   bayes_pathfinder_info *info, double *mean, double *cov,
                                   char *err, size_t errlen)
{
  return run_path(m, cfg, path, init, d, info, mean, cov, err, errlen);
}

int bayes_pathfinder_gaussian(size_t d, int J, const double *S, const double *Y,
                              const double *alpha, const double *x, const double *g,
                              double *mean, double *cov, double *logdet)
{
  if (J < 0) return -1;
  pf P, *p = &P;
  if (pf_alloc_work(p, d, J > 0 ? J : 1) != 0) {
    pf_free(p);
    return -2;
  }
  int rc = 0;
  for (int j = 0; j < J && rc == 0; j++)
    if (!(dot(S + (size_t)j * d, Y + (size_t)j * d, d) > 0)) rc = -1;
  for (size_t r = 0; r < d && rc == 0; r++)
    if (!(alpha[r] > 0)) rc = -1;
  if (rc == 0) {
    memcpy(p->S, S, (size_t)J * d * sizeof(double));
    memcpy(p->Y, Y, (size_t)J * d * sizeof(double));
    memcpy(p->alpha, alpha, d * sizeof(double));
    p->np = J;
    rc = build(p, x, g);
  }
  if (rc == 0) {
    if (mean) memcpy(mean, p->cur.mu, d * sizeof(double));
    if (cov) dense_cov(p, &p->cur, cov);
    if (logdet) *logdet = p->cur.logdet;
  }
  pf_free(p);
  return rc;
}
