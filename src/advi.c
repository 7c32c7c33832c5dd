/* advi.c — automatic differentiation variational inference (advi.h) as Stan implements it,
 * and the per-coordinate KL diagnostic of a mean-field fit.
 *
 * Sources. Kucukelbir, Tran, Ranganath, Gelman & Blei (2017), "Automatic differentiation
 * variational inference", JMLR 18(14) ("K17" below): the ELBO on the unconstrained space
 * (eq. 5), elliptical standardisation zeta = mu + L eta (which makes the gradients
 * expectations over a fixed N(0, I)), the gradients (eq. 7-9), the step-size sequence
 * (eq. 10-11) and Algorithm 1. Stan's reference manual, chapter
 * "Variational inference" (stochastic gradient ascent, Monte Carlo ELBO and gradients, the
 * eta search, the relative-tolerance convergence test), and the behaviour of Stan's
 * variational/advi.hpp and families/normal_{meanfield,fullrank}.hpp (read for their
 * constants and corner cases, not copied). Where we deviate from Stan the comment says so.
 *
 * Sees the model only through bayes.h. Every buffer is allocated in bayes_advi_alloc:
 * init, iterate, the ELBO and the draws never allocate. Never prints. */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "advi.h"
#include "init.h"
#include "optimize.h"
#include "util.h"

/* Stan's constants: a gradient estimate gives up after 10 * grad_samples dropped draws (calc_grad's
 * n_retries); the eta candidates of adapt_eta; the step-size sequence's tau and its
 * moving-average weight alpha = 0.1 (K17 eq. 11; advi.hpp's post_factor). */
#define GRAD_RETRIES 10
#define N_ETA 5
static const double ETA_SEQ[N_ETA] = {100, 10, 1, 0.1, 0.01};
#define SGA_TAU 1.0
#define SGA_ALPHA 0.1

/* RNG stream of bayes_rng_alloc(cfg->seed, ADVI_STREAM): CmdStan runs variational with
 * chain id 1, so a seed gives ADVI the random initial point NUTS chain 1 gets, as in
 * CmdStan. */
#define ADVI_STREAM 1

#define LOG_2PI 1.8378770664093454836

struct bayes_advi {
  const bayes_model *m;
  bayes_advi_cfg cfg;
  size_t n;                 /* unconstrained dimension */
  size_t npar;              /* variational parameters: n (mu) + n (omega) or n * n (L) */
  bool fullrank;
  unsigned ldflags;
  bayes_ws *ws;
  gsl_rng *rng;
  double *block;            /* every double array below lives here */

  /* The variational parameters as one vector (mu, then omega or L row-major, whose upper
   * triangle stays 0: its gradient is 0), so that the step of K17 eq. 10 is one loop. */
  double *par, *mu, *lam;
  double *par0;             /* the initial approximation, restored after each eta tried */
  double *grad;             /* ELBO gradient estimate, same layout */
  double *hist;             /* s_k of K17 eq. 11, same layout */
  double *sd;               /* mean-field: exp(omega), kept in step with omega */
  double *eps, *zeta, *g;   /* a standard normal draw, its image mu + L eps, grad log p */
  /* iterate averaging: sums of the parameters over the current and the previous ELBO
   * evaluation period, and their counts */
  double *avg, *avg_prev;
  long avg_n, avg_prev_n;
  /* preconditioning: the variational family lives on z, theta = pm + ps .* z (pm the
   * mode, ps the Laplace sds); identity (0, 1) when off or when no mode was found */
  double *pm, *ps, log_ps;  /* log_ps = sum log ps, the Jacobian of z -> theta */
  double *xbuf, *gbuf;      /* theta and grad log p(theta) of one evaluation */
  double *out_mean, *out_sd, *out_chol; /* the approximation on theta */
  bool preconditioned;

  /* relative ELBO changes: Stan's circular buffer and a scratch copy for the median */
  double *win, *win_tmp;
  long win_cap, win_len, win_next;

  double eta;
  long iter;                /* main-phase iterations done */
  long grad_evals;
  double elbo, elbo_prev, rel_mean, rel_median;
  bayes_advi_status status;
  bool ready;
  char why[256];            /* the last non-finite evaluation, in words */
  char errmsg[768];
};

/* ---------------------------------------------------------------- helpers */

static void set_sd(bayes_advi *a)
{
  if (a->fullrank) return;
  for (size_t i = 0; i < a->n; i++) a->sd[i] = exp(a->lam[i]);
}

/* zeta = mu + sd .* eps (mean-field) or mu + L eps (full-rank), eps ~ N(0, I) drawn one
 * coordinate after another as Stan's sample() does (K17's elliptical standardisation,
 * inverted). */
static void draw(const bayes_advi *a, gsl_rng *rng, double *eps, double *zeta)
{
  size_t n = a->n;
  for (size_t i = 0; i < n; i++) eps[i] = gsl_ran_gaussian_ziggurat(rng, 1.0);
  if (a->fullrank) {
    for (size_t i = 0; i < n; i++) {
      const double *Li = a->lam + i * n;
      double v = a->mu[i];
      for (size_t j = 0; j <= i; j++) v += Li[j] * eps[j];
      zeta[i] = v;
    }
  } else {
    for (size_t i = 0; i < n; i++) zeta[i] = a->mu[i] + a->sd[i] * eps[i];
  }
}

/* log |det L| (mean-field: sum omega). Full-rank: a zero diagonal element is skipped, as
 * Stan's entropy() does, so that the ELBO stays finite. */
static double log_det_scale(const bayes_advi *a)
{
  double s = 0;
  if (a->fullrank) {
    for (size_t i = 0; i < a->n; i++) {
      double d = fabs(a->lam[i * a->n + i]);
      if (d != 0) s += log(d);
    }
  } else {
    for (size_t i = 0; i < a->n; i++) s += a->lam[i];
  }
  return s;
}

/* Entropy of the Gaussian: 0.5 d (1 + log 2 pi) + log |det L|. */
static double entropy(const bayes_advi *a)
{
  return 0.5 * (double)a->n * (1.0 + LOG_2PI) + log_det_scale(a);
}

/* log density of z (theta = pm + ps .* z): log p(theta) + sum log ps, gradient ps .* grad */
static double eval(bayes_advi *a, const double *z, double *grad)
{
  double lp = NAN;
  for (size_t i = 0; i < a->n; i++) a->xbuf[i] = a->pm[i] + a->ps[i] * z[i];
  if (bayes_ws_log_density(a->ws, a->xbuf, a->ldflags, &lp, grad ? a->gbuf : NULL) != 0)
    lp = NAN;
  if (grad) {
    a->grad_evals++;
    for (size_t i = 0; i < a->n; i++) grad[i] = a->ps[i] * a->gbuf[i];
  }
  return lp + a->log_ps;
}

/* Is (lp, grad) finite? On no, records why in a->why (the model's own reason if any). */
static bool finite_eval(bayes_advi *a, double lp, const double *grad)
{
  size_t bad = a->n;
  if (isfinite(lp) && grad) {
    for (size_t i = 0; i < a->n; i++)
      if (!isfinite(grad[i])) {
        bad = i;
        break;
      }
    if (bad == a->n) return true;
  } else if (isfinite(lp)) {
    return true;
  }
  const char *reason = bayes_ws_error(a->ws);
  if (reason && *reason)
    snprintf(a->why, sizeof a->why, "%s", reason);
  else if (!isfinite(lp))
    snprintf(a->why, sizeof a->why, "the log density is %s",
             isnan(lp) ? "NaN" : lp > 0 ? "+inf" : "-inf");
  else
    snprintf(a->why, sizeof a->why, "element %zu of the gradient of the log density is %g",
             bad + 1, grad[bad]);
  return false;
}

static bool finite_vec(const double *v, size_t n, size_t *bad)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i])) {
      *bad = i;
      return false;
    }
  return true;
}

/* ---------------------------------------------------------------- ELBO and gradient */

/* Monte Carlo ELBO (K17 eq. 5): the mean of log p over n draws from q plus the entropy.
 * As Stan's calc_ELBO: a draw where the log density is not finite is dropped and redrawn;
 * after n dropped draws the estimate fails. Also fails when the result is not finite (Stan
 * would carry an infinite entropy on). Returns 0, or -1 with a message in msg. */
static int calc_elbo(bayes_advi *a, int n, gsl_rng *rng, double *out, char *msg, size_t len)
{
  double sum = 0;
  int drops = 0;
  for (int k = 0; k < n;) {
    draw(a, rng, a->eps, a->zeta);
    double lp = eval(a, a->zeta, NULL);
    if (!finite_eval(a, lp, NULL)) {
      if (++drops >= n) {
        snprintf(msg, len,
                 "the log density was not finite at %d draws from the approximation while "
                 "estimating the ELBO (at most %d may be dropped); the model may be severely "
                 "ill-conditioned or misspecified, or the approximation has collapsed. Last "
                 "problem: %s", drops, n, a->why);
        return -1;
      }
      continue;
    }
    sum += lp;
    k++;
  }
  double e = sum / n + entropy(a);
  if (!isfinite(e)) {
    snprintf(msg, len, "the ELBO estimate is %s (mean log density %g, entropy %g)",
             isnan(e) ? "NaN" : e > 0 ? "+inf" : "-inf", sum / n, entropy(a));
    return -1;
  }
  *out = e;
  return 0;
}

/* Reparameterisation gradient of the ELBO with grad_samples draws (K17 eq. 7-9):
 *   mu:    mean of grad log p(zeta)
 *   omega: mean of grad log p(zeta) .* eps, times sd, plus 1 (the entropy's gradient)
 *   L:     mean of grad log p(zeta) eps' on the lower triangle, plus diag(1 / L_ii) (the
 *          lower triangle of (L^-1)', K17 eq. 9).
 * As Stan's calc_grad: a dropped draw is redrawn, and the estimate fails after
 * 10 * grad_samples dropped draws. Stan drops a draw when the model throws (a domain
 * error) or the gradient is not finite; bayes.h reports domain errors as a log density of
 * -inf or NaN instead, so we drop a draw whose log density or gradient is not finite. The
 * estimate also fails when it is not finite: Stan's set_mu / set_omega refuse NaN, and an
 * infinite one would turn the approximation into NaN at the next step.
 * Returns 0, or -1 with a message in a->errmsg. */
static int calc_grad(bayes_advi *a)
{
  size_t n = a->n;
  int G = a->cfg.grad_samples;
  long drops = 0, max_drops = (long)GRAD_RETRIES * G;
  double *gmu = a->grad, *glam = a->grad + n;
  memset(a->grad, 0, a->npar * sizeof(double));
  for (int k = 0; k < G;) {
    draw(a, a->rng, a->eps, a->zeta);
    double lp = eval(a, a->zeta, a->g);
    if (!finite_eval(a, lp, a->g)) {
      if (++drops >= max_drops) {
        snprintf(a->errmsg, sizeof a->errmsg,
                 "the log density or its gradient was not finite at %ld draws from the "
                 "approximation while estimating the ELBO gradient (at most %ld may be "
                 "dropped); the model may be severely ill-conditioned or misspecified. Last "
                 "problem: %s", drops, max_drops, a->why);
        return -1;
      }
      continue;
    }
    for (size_t i = 0; i < n; i++) gmu[i] += a->g[i];
    if (a->fullrank) {
      for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) glam[i * n + j] += a->g[i] * a->eps[j];
    } else {
      for (size_t i = 0; i < n; i++) glam[i] += a->g[i] * a->eps[i];
    }
    k++;
  }
  for (size_t p = 0; p < a->npar; p++) a->grad[p] /= G;
  if (a->fullrank) {
    for (size_t i = 0; i < n; i++) glam[i * n + i] += 1.0 / a->lam[i * n + i];
  } else {
    for (size_t i = 0; i < n; i++) glam[i] = glam[i] * a->sd[i] + 1.0;
  }
  size_t bad = 0;
  if (!finite_vec(a->grad, a->npar, &bad)) {
    snprintf(a->errmsg, sizeof a->errmsg,
             "the ELBO gradient estimate is not finite (%s element %zu is %g)",
             bad < n ? "mean" : a->fullrank ? "Cholesky factor" : "log-sd",
             (bad < n ? bad : bad - n) + 1, a->grad[bad]);
    return -1;
  }
  return 0;
}

/* One step of stochastic gradient ascent with Stan's step-size sequence (K17 eq. 10-11,
 * elementwise): s_k = alpha g_k^2 + (1 - alpha) s_{k-1} with s_1 = g_1^2, and
 * rho_k = eta k^(-1/2 + eps) / (tau + sqrt(s_k)). K17 writes eps = 1e-16; Stan's code (and
 * so we) uses eta / sqrt(k): k^1e-16 differs from 1 by less than the rounding of k^-1/2. */
static void sga_step(bayes_advi *a, long k, double eta)
{
  double scale = eta / sqrt((double)k);
  for (size_t p = 0; p < a->npar; p++) {
    double gp = a->grad[p];
    a->hist[p] = k == 1 ? gp * gp : (1.0 - SGA_ALPHA) * a->hist[p] + SGA_ALPHA * gp * gp;
    a->par[p] += scale * gp / (SGA_TAU + sqrt(a->hist[p]));
  }
  set_sd(a);
}

static void restore_initial(bayes_advi *a)
{
  memcpy(a->par, a->par0, a->npar * sizeof(double));
  memset(a->hist, 0, a->npar * sizeof(double));
  set_sd(a);
}

/* ---------------------------------------------------------------- eta adaptation */

/* Stan's adapt_eta: from the initial approximation, adapt_iter steps with each eta of
 * {100, 10, 1, 0.1, 0.01} in turn, each followed by an ELBO estimate; a failed gradient
 * counts as zero and a failed ELBO as -DBL_MAX ("it's OK if it diverges"). The search
 * stops at the first eta whose ELBO is below the previous eta's while that previous one
 * beat the initial ELBO, keeping the previous eta; otherwise it moves on. At the last eta,
 * it is kept if its ELBO beats the initial one, else every eta failed. The approximation
 * is reset to the initial one after each eta. Returns 0, or -1 with a message. */
static int adapt_eta(bayes_advi *a)
{
  char inner[512];
  double elbo_init;
  if (calc_elbo(a, a->cfg.elbo_samples, a->rng, &elbo_init, inner, sizeof inner) != 0) {
    snprintf(a->errmsg, sizeof a->errmsg,
             "eta adaptation: cannot compute the ELBO of the initial approximation (mean at "
             "the initial point, unit scale): %s", inner);
    return -1;
  }
  double elbo = -DBL_MAX, elbo_best = -DBL_MAX, eta_best = 0;
  double elbos[N_ETA];
  int tried = 0;
  bool done = false;
  for (int idx = 0; idx < N_ETA && !done; idx++) {
    double eta = ETA_SEQ[idx];
    for (long t = 1; t <= a->cfg.adapt_iter; t++) {
      if (calc_grad(a) != 0) memset(a->grad, 0, a->npar * sizeof(double));
      sga_step(a, t, eta);
    }
    if (calc_elbo(a, a->cfg.elbo_samples, a->rng, &elbo, inner, sizeof inner) != 0)
      elbo = -DBL_MAX;
    elbos[tried++] = elbo;
    if (elbo < elbo_best && elbo_best > elbo_init) {
      a->eta = eta_best;
      done = true;
    } else if (idx < N_ETA - 1) {
      elbo_best = elbo;
      eta_best = eta;
    } else if (elbo > elbo_init) {
      a->eta = eta;
      done = true;
    } else if (a->preconditioned) {
      /* starting from the Laplace approximation, 50 steps may not beat it: keep the
       * scale that spoilt it least */
      int kb = 0;
      for (int k = 1; k < tried; k++)
        if (elbos[k] > elbos[kb]) kb = k;
      a->eta = ETA_SEQ[kb];
      done = true;
    } else {
      int off = snprintf(a->errmsg, sizeof a->errmsg,
                         "eta adaptation: every step-size scale tried gave an ELBO no better "
                         "than the initial approximation's (%g) after %ld iterations:",
                         elbo_init, a->cfg.adapt_iter);
      for (int k = 0; k < tried && off > 0 && (size_t)off < sizeof a->errmsg; k++) {
        int w;
        if (elbos[k] == -DBL_MAX)
          w = snprintf(a->errmsg + off, sizeof a->errmsg - (size_t)off,
                       "%s eta %g: not finite", k ? "," : "", ETA_SEQ[k]);
        else
          w = snprintf(a->errmsg + off, sizeof a->errmsg - (size_t)off, "%s eta %g: %g",
                       k ? "," : "", ETA_SEQ[k], elbos[k]);
        if (w < 0) break;
        off += w;
      }
      if (off > 0 && (size_t)off < sizeof a->errmsg)
        snprintf(a->errmsg + off, sizeof a->errmsg - (size_t)off,
                 ". The model may be severely ill-conditioned or misspecified");
      restore_initial(a);
      return -1;
    }
    restore_initial(a);
  }
  a->errmsg[0] = '\0';  /* failures while trying an eta are part of the search */
  return 0;
}

/* ---------------------------------------------------------------- convergence window */

/* k-th smallest of v[0..n-1] (reorders v): Hoare's selection (FIND, 1961), like the
 * std::nth_element Stan's circ_buff_median calls. */
static double select_kth(double *v, long n, long k)
{
  long lo = 0, hi = n - 1;
  while (lo < hi) {
    double pivot = v[lo + (hi - lo) / 2];
    long i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        double t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      break;
  }
  return v[k];
}

/* Pushes a relative ELBO change into the window (dropping the oldest when full) and
 * updates its mean and median. The median is the element of rank floor(len / 2), the upper
 * one of the two middle values for an even length, as Stan's circ_buff_median. NaN changes
 * (an ELBO of exactly 0) are kept, as in Stan, and then no comparison passes. */
static void window_push(bayes_advi *a, double rel)
{
  a->win[a->win_next] = rel;
  a->win_next = (a->win_next + 1) % a->win_cap;
  if (a->win_len < a->win_cap) a->win_len++;
  double s = 0;
  bool has_nan = false;
  for (long k = 0; k < a->win_len; k++) {
    s += a->win[k];
    has_nan |= isnan(a->win[k]);
  }
  a->rel_mean = s / (double)a->win_len;
  if (has_nan) {
    a->rel_median = NAN;
    return;
  }
  memcpy(a->win_tmp, a->win, (size_t)a->win_len * sizeof(double));
  a->rel_median = select_kth(a->win_tmp, a->win_len, a->win_len / 2);
}

/* ---------------------------------------------------------------- public */

void bayes_advi_defaults(bayes_advi_cfg *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->family = BAYES_ADVI_MEANFIELD;
  cfg->iter = 10000;
  cfg->grad_samples = 1;
  cfg->elbo_samples = 100;
  cfg->eta = 1;
  cfg->adapt = true;
  cfg->adapt_iter = 50;
  cfg->tol_rel_obj = 0.01;
  cfg->precondition = true;
  cfg->eval_elbo = 100;
  cfg->init_radius = 2;
  cfg->flags = BAYES_LD_JACOBIAN;
  cfg->seed = 0;
}

bayes_advi *bayes_advi_alloc(const bayes_model *m, const bayes_advi_cfg *cfg)
{
  if (!m || !cfg) return NULL;
  if ((cfg->family != BAYES_ADVI_MEANFIELD && cfg->family != BAYES_ADVI_FULLRANK) ||
      cfg->iter < 1 || cfg->grad_samples < 1 || cfg->elbo_samples < 1 ||
      cfg->eval_elbo < 1 || !(cfg->tol_rel_obj > 0) || !(cfg->init_radius >= 0) ||
      !isfinite(cfg->init_radius) || (cfg->adapt && cfg->adapt_iter < 1) ||
      (!cfg->adapt && !(cfg->eta > 0 && isfinite(cfg->eta))))
    return NULL;
  bayes_advi *a = bayes_calloc(1, sizeof *a);
  if (!a) return NULL;
  a->m = m;
  a->cfg = *cfg;
  a->n = bayes_model_dim(m);
  a->fullrank = cfg->family == BAYES_ADVI_FULLRANK;
  /* ADVI lives on the unconstrained space, where the Jacobian belongs to the density */
  a->ldflags = cfg->flags | BAYES_LD_JACOBIAN;
  size_t n = a->n, nlam = a->fullrank ? n * n : n;
  a->npar = n + nlam;
  /* Stan's window: max(0.1 iter / eval_elbo, 2) relative changes, truncated */
  double cap = 0.1 * (double)cfg->iter / (double)cfg->eval_elbo;
  a->win_cap = (long)(cap > 2.0 ? cap : 2.0);
  size_t total = 6 * a->npar      /* par, par0, grad, hist, avg, avg_prev */
                 + 6 * n + nlam   /* pm, ps, xbuf, gbuf, out_mean, out_sd, out_chol */
                 + n              /* sd */
                 + 3 * n          /* eps, zeta, g */
                 + 2 * (size_t)a->win_cap;
  a->block = bayes_malloc(total * sizeof(double) + sizeof(double));
  a->ws = bayes_ws_alloc(m);
  a->rng = bayes_rng_alloc(cfg->seed, ADVI_STREAM);
  if (!a->block || !a->ws || !a->rng) {
    bayes_advi_free(a);
    return NULL;
  }
  memset(a->block, 0, total * sizeof(double));
  double *bp = a->block;
  a->par = bp, bp += a->npar;
  a->par0 = bp, bp += a->npar;
  a->grad = bp, bp += a->npar;
  a->hist = bp, bp += a->npar;
  a->avg = bp, bp += a->npar;
  a->avg_prev = bp, bp += a->npar;
  a->pm = bp, bp += n;
  a->ps = bp, bp += n;
  a->xbuf = bp, bp += n;
  a->gbuf = bp, bp += n;
  a->out_mean = bp, bp += n;
  a->out_sd = bp, bp += n;
  a->out_chol = bp, bp += nlam;
  for (size_t i = 0; i < n; i++) a->ps[i] = 1;
  a->sd = bp, bp += n;
  a->eps = bp, bp += n;
  a->zeta = bp, bp += n;
  a->g = bp, bp += n;
  a->win = bp, bp += a->win_cap;
  a->win_tmp = bp, bp += a->win_cap;
  a->mu = a->par;
  a->lam = a->par + n;
  a->eta = cfg->eta;
  a->elbo = a->elbo_prev = a->rel_mean = a->rel_median = NAN;
  return a;
}

void bayes_advi_free(bayes_advi *a)
{
  if (!a) return;
  bayes_rng_free(a->rng);
  bayes_ws_free(a->ws);
  bayes_free(a->block);
  bayes_free(a);
}

static void precondition(bayes_advi *a);

int bayes_advi_init(bayes_advi *a, const double *init, char *err, size_t errlen)
{
  const bayes_advi_cfg *c = &a->cfg;
  size_t n = a->n;
  if (err && errlen) err[0] = '\0';
  a->ready = false;
  a->status = BAYES_ADVI_RUNNING;
  a->iter = 0;
  a->grad_evals = 0;
  a->errmsg[0] = '\0';
  a->why[0] = '\0';

  /* Stan's initialize(), on theta: the map to z starts as the identity (a re-init
   * forgets an earlier preconditioning). The point goes into zeta. */
  memset(a->pm, 0, n * sizeof(double));
  for (size_t i = 0; i < n; i++) a->ps[i] = 1;
  a->log_ps = 0;
  a->preconditioned = false;
  double lp0;
  if (bayes_initialize(a->ws, n, a->ldflags, init, c->init_radius, a->rng, a->zeta, a->g,
                       &lp0, &a->grad_evals, a->errmsg, sizeof a->errmsg) != 0) {
    if (err && errlen) snprintf(err, errlen, "%s", a->errmsg);
    return BAYES_EDATA;
  }

  /* Preconditioning (not Stan's): find the mode from this point with L-BFGS and the
   * Laplace sds there, and run ADVI on z = (theta - mode) / sd, starting from the
   * standard Gaussian on z, i.e. from the Laplace approximation's diagonal. Stan's ADVI
   * takes steps of about eta / sqrt(k) in absolute units of theta whatever the posterior's
   * scale, and starts from N(init, I): on posteriors far from unit scale (posteriordb's
   * blr, sds 0.001; kidscore, intercept 80 with slopes of 0.5) it stopped 2-80 sds from
   * the mean; on z the posterior has unit scale, which is what its step sizes assume. */
  if (c->precondition) precondition(a);
  if (a->preconditioned)
    memset(a->zeta, 0, n * sizeof(double));

  /* the initial approximation: mean at the point, omega = 0 or L = I (Stan's Q(cont_params)
   * constructors; K17 Algorithm 1 starts from a standard Gaussian) */
  memset(a->par0, 0, a->npar * sizeof(double));
  memcpy(a->par0, a->zeta, n * sizeof(double));
  if (a->fullrank)
    for (size_t i = 0; i < n; i++) a->par0[n + i * n + i] = 1.0;
  restore_initial(a);

  if (c->adapt) {
    if (adapt_eta(a) != 0) {
      if (err && errlen) snprintf(err, errlen, "%s", a->errmsg);
      return BAYES_EDATA;
    }
  } else {
    a->eta = c->eta;
  }
  restore_initial(a);

  /* Stan's stochastic_gradient_ascent starts its "previous ELBO" at 0, so the first
   * relative change in the window is |0 - elbo| / |elbo| = 1. */
  a->elbo = 0;
  a->elbo_prev = NAN;
  a->rel_mean = a->rel_median = NAN;
  a->win_len = a->win_next = 0;
  a->ready = true;
  return BAYES_OK;
}

/* The mode and Laplace sds from the point in a->zeta (theta; the map is still the
 * identity). Leaves the identity map when the optimizer ends on the boundary of a
 * parameter's support or the Hessian is not negative definite there, or beyond
 * PRECOND_MAX_DIM (the Hessian costs 4 n gradients and O(n^3)). */
#define PRECOND_MAX_DIM 1000
static void precondition(bayes_advi *a)
{
  size_t n = a->n;
  a->preconditioned = false;
  if (n == 0 || n > PRECOND_MAX_DIM) return;
  bayes_lbfgs_cfg lc;
  bayes_lbfgs_defaults(&lc);
  bayes_optimizer *o = bayes_optimizer_alloc(a->m, &lc, a->ldflags);
  bayes_laplace *l = NULL;
  char err[256];
  if (!o || bayes_optimizer_init(o, a->zeta, 0, NULL, err, sizeof err) != 0) goto out;
  bayes_lbfgs_status st;
  while ((st = bayes_optimizer_iterate(o)) == BAYES_LBFGS_CONTINUE) {}
  a->grad_evals += bayes_optimizer_evals(o);
  /* not converged (a failed line search on a ridge, say) is fine: the Newton steps of the
   * Laplace approximation refine the point, and a Hessian that is not negative definite
   * there rejects it */
  (void)st;
  if (bayes_mode_on_boundary(a->m, a->ws, bayes_optimizer_theta(o), a->ldflags, NULL) >= 0)
    goto out;
  int status;
  l = bayes_laplace_alloc(a->m, bayes_optimizer_theta(o), a->ldflags, &status, err, sizeof err);
  if (!l) goto out;
  a->grad_evals += 4 * (long)n * (1 + bayes_laplace_newton_steps(l));
  const double *cov = bayes_laplace_cov(l), *mode = bayes_laplace_mean(l);
  for (size_t i = 0; i < n; i++)
    if (!(cov[i * n + i] > 0) || !isfinite(cov[i * n + i])) goto out;
  a->log_ps = 0;
  for (size_t i = 0; i < n; i++) {
    a->pm[i] = mode[i];
    a->ps[i] = sqrt(cov[i * n + i]);
    a->log_ps += log(a->ps[i]);
  }
  a->preconditioned = true;
out:
  bayes_laplace_free(l);
  bayes_optimizer_free(o);
}

/* The approximation returned is the average of the iterates over the last one or two ELBO
 * evaluation periods (at least eval_elbo iterations), not the last iterate: Stan's ADVI
 * returns the last, whose step noise left means off by 0.5-1 posterior sd on posteriordb's
 * regressions; averaging (Polyak & Juditsky 1992; recommended for ADVI by Dhaka et al.
 * 2020, "Robust, accurate stochastic optimization for variational inference", NeurIPS)
 * removes most of it. */
static void average_iterates(bayes_advi *a)
{
  long n = a->avg_n + a->avg_prev_n;
  if (n < 1) return;
  for (size_t i = 0; i < a->npar; i++) a->par[i] = (a->avg[i] + a->avg_prev[i]) / (double)n;
  if (!a->fullrank) set_sd(a);
}

bayes_advi_status bayes_advi_iterate(bayes_advi *a, bayes_advi_record *rec)
{
  double elbo_now = NAN;
  if (!a->ready) {
    if (!a->errmsg[0])
      snprintf(a->errmsg, sizeof a->errmsg, "bayes_advi_iterate before a successful init");
    a->status = BAYES_ADVI_FAILED;
    goto out;
  }
  if (a->status != BAYES_ADVI_RUNNING) goto out;

  long k = ++a->iter;
  if (calc_grad(a) != 0) {
    char inner[sizeof a->errmsg];
    snprintf(inner, sizeof inner, "%s", a->errmsg);
    snprintf(a->errmsg, sizeof a->errmsg, "iteration %ld: %.700s", k, inner);
    a->status = BAYES_ADVI_FAILED;
    goto out;
  }
  sga_step(a, k, a->eta);
  size_t bad = 0;
  if (!finite_vec(a->par, a->npar, &bad)) {
    snprintf(a->errmsg, sizeof a->errmsg,
             "iteration %ld: the approximation's %s element %zu became %g (a step with eta = "
             "%g overflowed); try a smaller eta", k,
             bad < a->n ? "mean" : a->fullrank ? "Cholesky factor" : "log-sd",
             (bad < a->n ? bad : bad - a->n) + 1, a->par[bad], a->eta);
    a->status = BAYES_ADVI_FAILED;
    goto out;
  }

  for (size_t i = 0; i < a->npar; i++) a->avg[i] += a->par[i];
  a->avg_n++;
  if (k % a->cfg.eval_elbo == 0) {
    char inner[512];
    double e;
    if (calc_elbo(a, a->cfg.elbo_samples, a->rng, &e, inner, sizeof inner) != 0) {
      snprintf(a->errmsg, sizeof a->errmsg, "iteration %ld: %s", k, inner);
      a->status = BAYES_ADVI_FAILED;
      goto out;
    }
    a->elbo_prev = a->elbo;
    a->elbo = e;
    elbo_now = e;
    /* Stan's rel_difference(elbo, elbo_prev) = |(elbo_prev - elbo) / elbo| */
    window_push(a, fabs((a->elbo_prev - e) / e));
    if (a->rel_mean < a->cfg.tol_rel_obj)
      a->status = BAYES_ADVI_CONVERGED_MEAN;
    else if (a->rel_median < a->cfg.tol_rel_obj)
      a->status = BAYES_ADVI_CONVERGED_MEDIAN;
  }
  if (a->status == BAYES_ADVI_RUNNING && k >= a->cfg.iter) a->status = BAYES_ADVI_MAX_ITER;
  if (a->status != BAYES_ADVI_RUNNING) {
    average_iterates(a);
  } else if (k % a->cfg.eval_elbo == 0) {
    memcpy(a->avg_prev, a->avg, a->npar * sizeof *a->avg);
    a->avg_prev_n = a->avg_n;
    memset(a->avg, 0, a->npar * sizeof *a->avg);
    a->avg_n = 0;
  }

out:
  if (rec) {
    rec->iter = a->iter;
    rec->elbo = elbo_now;
    rec->rel_mean = a->rel_mean;
    rec->rel_median = a->rel_median;
    rec->grad_evals = a->grad_evals;
  }
  return a->status;
}

const char *bayes_advi_error(const bayes_advi *a) { return a->errmsg; }
double bayes_advi_eta(const bayes_advi *a) { return a->eta; }
/* the approximation on theta: pm + ps .* mu, ps .* sd, diag(ps) L */
const double *bayes_advi_mean(bayes_advi *a)
{
  for (size_t i = 0; i < a->n; i++) a->out_mean[i] = a->pm[i] + a->ps[i] * a->mu[i];
  return a->out_mean;
}

const double *bayes_advi_sd(bayes_advi *a)
{
  if (a->fullrank) return NULL;
  for (size_t i = 0; i < a->n; i++) a->out_sd[i] = a->ps[i] * a->sd[i];
  return a->out_sd;
}

const double *bayes_advi_chol(bayes_advi *a)
{
  if (!a->fullrank) return NULL;
  for (size_t i = 0; i < a->n; i++)
    for (size_t j = 0; j < a->n; j++) a->out_chol[i * a->n + j] = a->ps[i] * a->lam[i * a->n + j];
  return a->out_chol;
}

bool bayes_advi_preconditioned(const bayes_advi *a) { return a->preconditioned; }

double bayes_advi_elbo(bayes_advi *a, int n)
{
  if (!a->ready) return NAN;
  char msg[512];
  double e;
  if (calc_elbo(a, n > 0 ? n : a->cfg.elbo_samples, a->rng, &e, msg, sizeof msg) != 0)
    return NAN;
  return e;
}

int bayes_advi_draws(bayes_advi *a, gsl_rng *rng, bayes_approx_draws *d)
{
  if (!a->ready || !d || d->dim != a->n) return -1;
  if (!rng) rng = a->rng;
  size_t n = a->n;
  /* log q(zeta) = -d/2 log 2 pi - log |det L| - |eps|^2 / 2 with eps = L^-1 (zeta - mu):
   * the normalised density (Stan writes the unnormalised log_g = -|eps|^2 / 2). */
  double c0 = -0.5 * (double)n * LOG_2PI - log_det_scale(a) - a->log_ps;
  for (size_t r = 0; r < d->n; r++) {
    double *theta = d->theta + r * n;
    draw(a, rng, a->eps, theta);
    double q = 0;
    for (size_t i = 0; i < n; i++) q += a->eps[i] * a->eps[i];
    d->log_q[r] = c0 - 0.5 * q;
    double lp = eval(a, theta, NULL) - a->log_ps;
    for (size_t i = 0; i < n; i++) theta[i] = a->pm[i] + a->ps[i] * theta[i];
    d->log_p[r] = isfinite(lp) ? lp : -INFINITY;
  }
  return 0;
}

/* ================================================================ latent KL diagnostic
 *
 * For coordinate i and a draw z of the other coordinates, the prior conditional is
 * p_i(x) = exp(f(x)) / Z with f(x) = log p(z with z_i = x), prior only, with the Jacobian.
 * KL(q_i || p_i) = E_q[log q_i] - E_q[f] + log Z, where E_q[log q_i] = -log(s sqrt(2 pi e)).
 *  1. The mode x* of f: a bracket of the sign change of f' found by steps uphill (a Newton
 *     step from a finite-difference slope of f', at least doubling), then a safeguarded
 *     Newton iteration inside the bracket (Newton with secant slopes, bisection whenever a
 *     step leaves the bracket: the scheme of Brent 1973, "Algorithms for minimization
 *     without derivatives", ch. 4, and Press et al.'s rtsafe). Then f' at x* +- delta and
 *     +- 16 delta gives the scale s* = (-f''(x*))^-1/2, or reveals a kink (laplace), where
 *     f' does not shrink towards x*. A flat or ever-increasing f (no mode within
 *     |x| < 1e15) is improper: NaN.
 *  2. log Z by the double-exponential trapezoidal rule in log space (Takahasi & Mori 1974;
 *     Mori & Sugihara 2001, "The double exponential transformation in numerical analysis",
 *     J. Comput. Appl. Math. 127): x = x* + s* sinh(pi/2 sinh t) on the whole line, or for
 *     a kink x = x* +- s exp(pi/2 sinh t) on each side, with the one-sided scales. Nodes
 *     t = k h from 0 outwards until two in a row are below 1e-18 of the largest term; the
 *     step h = 1/2 is halved until two estimates agree to 1e-5, the error of the finer one
 *     being then about the square of that (halving the step doubles the rule's correct
 *     digits; measured: 6e-12 for a Gaussian, 1e-15 for a Cauchy). Handles algebraic
 *     (Cauchy) tails; if the terms out to |t| = 5 (|x - x*| ~ 1e50 s*) do not become
 *     negligible, the conditional is not integrable: NaN.
 *  3. E_q[f] by 20-point Gauss-Hermite quadrature under q_i = N(m_i, s_i^2) (exact for a
 *     Gaussian conditional, whose f is quadratic); if a kink lies within 10 sd of m_i, by
 *     the half-line double-exponential rule on each side of it instead.
 * Cost per coordinate and draw, measured: 6-14 gradient evaluations for the mode, 51-75
 * value-only ones for log Z (51 for a Gaussian, 59 gamma/exponential/student_t, 67
 * beta/half_cauchy, 75 cauchy) and 20 for E_q[f]: about 80-110 prior-only log-density
 * evaluations; a kink costs ~50 for the mode, ~100 for log Z and ~150 for E_q[f] near it. */

#define GH_ORDER 20
#define KL_IMPROPER_X 1e15
#define DE_TMAX 5.0
#define DE_H0 0.5
#define DE_LEVELS 6
#define DE_TOL 1e-5
#define DE_NEGLIGIBLE (-41.4)  /* log(1e-18): a term this far below the largest is noise */

/* Nodes and weights of n-point Gauss-Hermite quadrature (weight exp(-x^2)): the roots of
 * the orthonormal Hermite polynomial p_n, found by scanning for sign changes on a grid over
 * the interval (-sqrt(2n+1), sqrt(2n+1)) that holds them all (Szego 1975, Theorem 6.32)
 * and bisecting; weights 1 / (n p_{n-1}(x)^2) (Christoffel numbers for orthonormal p).
 * p_{k+1} = x sqrt(2/(k+1)) p_k - sqrt(k/(k+1)) p_{k-1}, p_0 = pi^-1/4. Returns the number
 * of nodes found (n unless something is badly wrong). */
static double hermite_p(int n, double x, double *pnm1)
{
  double p0 = 0, p1 = 0.75112554446494248286;  /* pi^-1/4 */
  for (int k = 0; k < n; k++) {
    double p2 = x * sqrt(2.0 / (k + 1)) * p1 - sqrt((double)k / (k + 1)) * p0;
    p0 = p1;
    p1 = p2;
  }
  *pnm1 = p0;
  return p1;
}

static int gauss_hermite(int n, double *x, double *w)
{
  double B = sqrt(2.0 * n + 1.0) + 0.1, step = 1e-3 * B, pm;
  int found = 0;
  /* the grid is offset by a third of a step so that no root (0 for odd n) sits on it */
  double xa = -B - step / 3, fa = hermite_p(n, xa, &pm);
  while (xa < B && found < n) {
    double xb = xa + step, fb = hermite_p(n, xb, &pm);
    if ((fa < 0) != (fb < 0)) {
      double lo = xa, hi = xb, flo = fa;
      for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi);
        if (mid <= lo || mid >= hi) break;
        double fmid = hermite_p(n, mid, &pm);
        if ((fmid < 0) == (flo < 0))
          lo = mid, flo = fmid;
        else
          hi = mid;
      }
      double r = 0.5 * (lo + hi);
      hermite_p(n, r, &pm);
      x[found] = r;
      w[found] = 1.0 / ((double)n * pm * pm);
      found++;
    }
    xa = xb;
    fa = fb;
  }
  return found;
}

typedef struct {
  bayes_ws *ws;
  double *z, *g;
  size_t i;
  long nevals;
} cond;

/* f(x) = the prior log density (with the Jacobian) with coordinate i set to x, and, if d
 * is non-NULL, f'(x) (NaN where f is not finite). NaN counts as -inf (outside the
 * support). */
static double cond_f(cond *c, double x, double *d)
{
  c->z[c->i] = x;
  double lp = NAN;
  if (bayes_ws_log_density(c->ws, c->z, BAYES_LD_PRIOR_ONLY | BAYES_LD_JACOBIAN, &lp,
                           d ? c->g : NULL) != 0)
    lp = NAN;
  c->nevals++;
  if (isnan(lp)) lp = -INFINITY;
  if (d) *d = lp > -INFINITY ? c->g[c->i] : NAN;
  return lp;
}

static bool usable(double f, double d) { return f > -INFINITY && f < INFINITY && isfinite(d); }

enum { MODE_OK = 0, MODE_IMPROPER = 1, MODE_NOEVAL = -1 };

/* What the mode search found: the mode x (f there), the scale s, and for a kink (a mode
 * where f' jumps, as laplace's) the one-sided scales 1 / |f'| on each side. */
typedef struct {
  double x, f, s;
  bool kink;
  double s_lo, s_hi;
} cond_mode_t;

/* From a point where f' is zero with no negative curvature (flat, or a minimum): probes
 * x +- r for growing r. Moves to a higher point (returns 0, *moved), or finds the flat
 * stretch ends (returns 0, !*moved, *width = r), or it is flat out to 1e15 (improper). */
static int probe_flat(cond *c, double *x, double *f, double *d, bool *moved, double *width)
{
  *moved = false;
  for (double r = 1e-3 * fmax(1.0, fabs(*x)); r < KL_IMPROPER_X; r *= 4) {
    double dp, dm;
    double fp = cond_f(c, *x + r, &dp), fm = cond_f(c, *x - r, &dm);
    if (fp == INFINITY || fm == INFINITY) return MODE_IMPROPER;
    bool up = fp > *f && isfinite(dp), down = fm > *f && isfinite(dm);
    if (up || down) {
      if (up && down) up = fp >= fm;
      *x = up ? *x + r : *x - r;
      *f = up ? fp : fm;
      *d = up ? dp : dm;
      *moved = true;
      return MODE_OK;
    }
    if (fp < *f && fm < *f) {
      *width = r;
      return MODE_OK;
    }
  }
  return MODE_IMPROPER;
}

/* Final look at a mode x* with provisional scale s: f' at x* +- delta and x* +- 16 delta
 * (delta = 1e-4 s, at least 4 w, w the width of the bracket left around x*). Beside a
 * smooth peak f' grows about 16-fold from delta to 16 delta; beside a kink (laplace) it
 * stays about the same, and the one-sided scales 1 / |f'| are used. For a smooth peak the
 * scale becomes the central difference (-f'')^-1/2 over +-16 delta. */
static int finish_mode(cond *c, cond_mode_t *md, double w)
{
  double x = md->x, res = 1e-12 * fmax(1.0, fabs(x));
  double delta = fmax(fmax(1e-4 * md->s, 4 * w), res);
  double d1p, d1m, d2p, d2m;
  double f1p = cond_f(c, x + delta, &d1p), f1m = cond_f(c, x - delta, &d1m);
  double f2p = cond_f(c, x + 16 * delta, &d2p), f2m = cond_f(c, x - 16 * delta, &d2m);
  if (f1p == INFINITY || f1m == INFINITY || f2p == INFINITY || f2m == INFINITY)
    return MODE_IMPROPER;
  if (usable(f1p, d1p) && usable(f1m, d1m) && usable(f2p, d2p) && usable(f2m, d2m) &&
      d1p < 0 && d2p < 0 && d1m > 0 && d2m > 0) {
    if (-d2p < 4 * -d1p && d2m < 4 * d1m) {
      md->kink = true;
      md->s_lo = 1.0 / d2m;
      md->s_hi = -1.0 / d2p;
    } else {
      md->s = sqrt(32 * delta / (d2m - d2p));
    }
  }
  if (!(md->s >= res)) md->s = res;
  return MODE_OK;
}

/* Mode and scale of the conditional (see the block comment above). */
static int cond_mode(cond *c, double x0, cond_mode_t *out)
{
  double d, f = cond_f(c, x0, &d), x = x0;
  out->kink = false;
  if (f == INFINITY) return MODE_IMPROPER;
  if (!usable(f, d)) {
    /* a start outside the numerical support: try 0, then +-4^k */
    bool ok = false;
    for (int k = -1; k < 16 && !ok; k++)
      for (int sgn = 1; sgn >= -1 && !ok; sgn -= 2) {
        x = k < 0 ? 0.0 : sgn * pow(4.0, k);
        f = cond_f(c, x, &d);
        if (f == INFINITY) return MODE_IMPROPER;
        ok = usable(f, d);
        if (k < 0) break;
      }
    if (!ok) return MODE_NOEVAL;
  }

  for (int restart = 0; restart < 8; restart++) {
    /* slope of f' at x by a forward difference: the first Newton step */
    double h = 1e-4 * fmax(1.0, fabs(x)), dh, fh = cond_f(c, x + h, &dh);
    double slope = usable(fh, dh) ? (dh - d) / h : NAN;
    if (d == 0) {
      if (slope < 0) {
        out->x = x, out->f = f, out->s = 1.0 / sqrt(-slope);
        return finish_mode(c, out, 0);
      }
      bool moved;
      double width = 1;
      int r = probe_flat(c, &x, &f, &d, &moved, &width);
      if (r != MODE_OK) return r;
      if (!moved) {
        out->x = x, out->f = f, out->s = width;
        return MODE_OK;
      }
      if (d == 0) continue;
      fh = cond_f(c, x + h, &dh);
      slope = usable(fh, dh) ? (dh - d) / h : NAN;
    }

    /* bracket: walk uphill until f' changes sign or f leaves the support */
    double dir = d > 0 ? 1.0 : -1.0;
    double step = slope < 0 ? 1.5 * fabs(d / slope) : fmax(1.0, 1e-3 * fabs(x));
    double xa = x, fa = f, da = d, xb, fb, db;
    for (;;) {
      xb = xa + dir * step;
      if (fabs(xb) > KL_IMPROPER_X) return MODE_IMPROPER;
      fb = cond_f(c, xb, &db);
      if (fb == INFINITY) return MODE_IMPROPER;
      if (!usable(fb, db) || db * dir <= 0) break;
      double s = (db - da) / (xb - xa);
      double newton = s < 0 ? 1.5 * fabs(db / s) : 0;
      step = fmax(2.0 * step, newton);
      xa = xb, fa = fb, da = db;
    }

    /* safeguarded Newton inside [lo, hi], which holds a sign change of f' */
    double lo = dir > 0 ? xa : xb, hi = dir > 0 ? xb : xa;
      double xc = xa, fc = fa, dc = da, sc = NAN;
    if (usable(fb, db)) {
      sc = (db - da) / (xb - xa);
      if (fb > fa) xc = xb, fc = fb, dc = db;
    } else if (slope < 0 && xa == x) {
      sc = slope;
    }
    bool narrowed = false;  /* stopped because the bracket closed, not by a Newton step */
    for (int it = 0; it < 200; it++) {
      if (dc == 0) break;
      double xn = sc < 0 ? xc - dc / sc : NAN;
      if (!(xn > lo && xn < hi)) xn = 0.5 * (lo + hi);
      if (xn <= lo || xn >= hi) {  /* the bracket is down to adjacent doubles */
        narrowed = true;
        break;
      }
      double dn, fn = cond_f(c, xn, &dn);
      if (fn == INFINITY) return MODE_IMPROPER;
      if (!usable(fn, dn)) {
        if (xn > xc) hi = xn;
        else lo = xn;
        continue;
      }
      if (dn > 0) lo = xn;
      else if (dn < 0) hi = xn;
      double s = (dn - dc) / (xn - xc), moved = fabs(xn - xc);
      if (isfinite(s) && s != 0) sc = s;
      xc = xn, fc = fn, dc = dn;
      if (sc < 0 && moved < 1e-7 / sqrt(-sc)) break;
      if (hi - lo <= 1e-13 * fmax(1.0, fabs(xc))) {
        narrowed = true;
        break;
      }
    }
    out->x = xc;
    out->f = fc;
    out->s = sc < 0 && isfinite(sc) ? 1.0 / sqrt(-sc) : fmax(hi - lo, 1e-6 * fmax(1.0, fabs(xc)));
    return finish_mode(c, out, narrowed ? hi - lo : 0);
  }
  return MODE_NOEVAL;
}

/* Running sum of exp(l_k) kept as exp(M) * S. */
typedef struct {
  double M, S;
} lsum;

static void lsum_add(lsum *s, double l)
{
  if (l == -INFINITY) return;
  if (l <= s->M) {
    s->S += exp(l - s->M);
  } else {
    s->S = s->S * exp(s->M - l) + 1.0;
    s->M = l;
  }
}

/* The DE maps: the whole line, x = x* + s sinh(pi/2 sinh t); a half line on either side of
 * x* (for kinks), x = x* +- s exp(pi/2 sinh t) (Mori & Sugihara 2001, sec. 2). */
typedef enum { DE_LINE, DE_UP, DE_DOWN } de_map;

/* log of the integrand of the DE rule at t: f(x(t)) - fm + log dx/dt. A value of +inf far
 * out in a tail is a rounding artefact of the transform (say inv_logit(u) = 1 exactly
 * inside a beta density with a < 1) and counts as outside the support, like NaN. */
static double de_term(cond *c, de_map map, double t, double xm, double fm, double sm)
{
  double u = M_PI_2 * sinh(t), x, lw;
  if (map == DE_LINE) {
    x = xm + sm * sinh(u);
    lw = log(sm * M_PI_2 * cosh(t) * cosh(u));
  } else {
    double v = sm * exp(u);
    x = map == DE_UP ? xm + v : xm - v;
    lw = log(sm * M_PI_2 * cosh(t)) + u;
    if (x == xm) return -INFINITY;  /* at the kink to rounding: weight ~ 0 */
  }
  if (!isfinite(x) || !isfinite(lw)) return -INFINITY;
  double f = cond_f(c, x, NULL);
  if (!(f < INFINITY)) return -INFINITY;
  return f - fm + lw;
}

/* log of the integral of exp(f - fm) under one map (see the block comment above); returns
 * MODE_OK, or MODE_IMPROPER when the tails do not die out by |t| = DE_TMAX. */
static int de_integrate(cond *c, de_map map, double xm, double fm, double sm, double *logI)
{
  lsum s = {-INFINITY, 0};
  lsum_add(&s, de_term(c, map, 0, xm, fm, sm));
  double tend[2];
  for (int side = 0; side < 2; side++) {
    double sgn = side ? -1.0 : 1.0;
    int small = 0;
    double first_small = 0;
    for (long k = 1;; k++) {
      double t = (double)k * DE_H0;
      if (t > DE_TMAX) {
        if (small == 0) return MODE_IMPROPER;  /* tails that do not die out */
        break;
      }
      double l = de_term(c, map, sgn * t, xm, fm, sm);
      lsum_add(&s, l);
      if (l < s.M + DE_NEGLIGIBLE) {
        if (small++ == 0) first_small = t;
        if (small >= 2) break;
      } else {
        small = 0;
      }
    }
    /* finer levels stop at the first negligible node: beyond it all are negligible */
    tend[side] = first_small;
  }
  if (!(s.S > 0) || !isfinite(s.M)) return MODE_IMPROPER;
  double h = DE_H0, prev = s.M + log(h * s.S);
  for (int level = 1; level <= DE_LEVELS; level++) {
    h *= 0.5;
    /* the new nodes (2j + 1) h inside the level-0 range */
    for (int side = 0; side < 2; side++) {
      double sgn = side ? -1.0 : 1.0;
      for (long j = 0;; j++) {
        double t = (2.0 * (double)j + 1.0) * h;
        if (t >= tend[side]) break;
        lsum_add(&s, de_term(c, map, sgn * t, xm, fm, sm));
      }
    }
    double cur = s.M + log(h * s.S);
    if (fabs(cur - prev) < DE_TOL) {
      *logI = cur;
      return MODE_OK;
    }
    prev = cur;
  }
  *logI = prev;
  return MODE_OK;
}

/* log of the integral of exp(f - f(x*)) over the line: one whole-line rule, or for a kink
 * one half-line rule on each side, so that the kink is an end point. */
static int cond_lognorm(cond *c, const cond_mode_t *md, double *logI)
{
  if (!md->kink) return de_integrate(c, DE_LINE, md->x, md->f, md->s, logI);
  double a, b;
  int r = de_integrate(c, DE_DOWN, md->x, md->f, md->s_lo, &a);
  if (r == MODE_OK) r = de_integrate(c, DE_UP, md->x, md->f, md->s_hi, &b);
  if (r != MODE_OK) return r;
  *logI = fmax(a, b) + log1p(exp(-fabs(a - b)));
  return MODE_OK;
}

/* E_q[f] on one side of a kink at xk, q = N(mq, sq^2): the integral of f(x) phi_q(x) over
 * the half line by the exp-sinh rule x = xk +- sq exp(pi/2 sinh t), halving the step
 * until two estimates agree to 1e-6 (relative, or absolute below 1). -inf if f is -inf
 * where q has weight. */
static double de_expect_half(cond *c, de_map map, double xk, double mq, double sq)
{
  double h = DE_H0, sum = 0, amax = 0, tend[2];
  const double norm = 1.0 / (sq * sqrt(2 * M_PI));
#define HALF_TERM(t, out)                                                                  \
  do {                                                                                     \
    double u_ = M_PI_2 * sinh(t), v_ = sq * exp(u_);                                       \
    double x_ = map == DE_UP ? xk + v_ : xk - v_, z_ = (x_ - mq) / sq;                     \
    double w_ = v_ * M_PI_2 * cosh(t) * norm * exp(-0.5 * z_ * z_);                        \
    if (!(w_ > 0) || x_ == xk) {                                                           \
      (out) = 0;                                                                           \
    } else {                                                                               \
      double f_ = cond_f(c, x_, NULL);                                                     \
      if (!(f_ < INFINITY)) return -INFINITY;                                              \
      (out) = w_ * f_;                                                                     \
    }                                                                                      \
  } while (0)
  double t0;
  HALF_TERM(0.0, t0);
  sum = t0;
  amax = fabs(t0);
  for (int side = 0; side < 2; side++) {
    double sgn = side ? -1.0 : 1.0, first_small = 0;
    int small = 0;
    for (long k = 1;; k++) {
      double t = (double)k * DE_H0, term;
      if (t > DE_TMAX) break;
      HALF_TERM(sgn * t, term);
      sum += term;
      amax = fmax(amax, fabs(term));
      if (fabs(term) <= 1e-18 * amax) {
        if (small++ == 0) first_small = t;
        if (small >= 2) break;
      } else {
        small = 0;
      }
    }
    tend[side] = small ? first_small : DE_TMAX;
  }
  double prev = h * sum;
  for (int level = 1; level <= DE_LEVELS; level++) {
    h *= 0.5;
    for (int side = 0; side < 2; side++) {
      double sgn = side ? -1.0 : 1.0;
      for (long j = 0;; j++) {
        double t = (2.0 * (double)j + 1.0) * h, term;
        if (t >= tend[side]) break;
        HALF_TERM(sgn * t, term);
        sum += term;
      }
    }
    double cur = h * sum;
    if (fabs(cur - prev) <= 1e-6 * fmax(1.0, fabs(cur))) return cur;
    prev = cur;
  }
#undef HALF_TERM
  return prev;
}

/* E_q[f] for q = N(mq, sq^2): 20-point Gauss-Hermite, exact for the quadratic f of a
 * Gaussian conditional; but a kink within 10 sd of mq would spoil its accuracy (like
 * h^2), so then the expectation is split at the kink into two half-line DE rules. */
static double cond_expect(cond *c, const cond_mode_t *md, const double *gx,
                          const double *gw, double mq, double sq)
{
  if (md->kink && fabs(md->x - mq) < 10 * sq)
    return de_expect_half(c, DE_DOWN, md->x, mq, sq) + de_expect_half(c, DE_UP, md->x, mq, sq);
  double ef = 0;
  for (int q = 0; q < GH_ORDER; q++) ef += gw[q] * cond_f(c, mq + M_SQRT2 * sq * gx[q], NULL);
  return ef / sqrt(M_PI);
}

int bayes_latent_kl(const bayes_model *m, const double *mean, const double *sd,
                    int ndraws, gsl_rng *rng, double *kl)
{
  size_t n = bayes_model_dim(m);
  if (ndraws < 1) ndraws = 1;
  double gx[GH_ORDER], gw[GH_ORDER];
  if (gauss_hermite(GH_ORDER, gx, gw) != GH_ORDER) return -1;
  double *buf = bayes_malloc((4 * n + 1) * sizeof(double));
  bayes_ws *ws = bayes_ws_alloc(m);
  if (!buf || !ws) {
    bayes_free(buf);
    bayes_ws_free(ws);
    return -2;
  }
  double *z = buf, *g = buf + n, *acc = buf + 2 * n, *start = buf + 3 * n;
  for (size_t i = 0; i < n; i++) {
    acc[i] = 0;
    start[i] = mean[i];
  }
  cond c = {ws, z, g, 0, 0};
  for (int dr = 0; dr < ndraws; dr++) {
    for (size_t j = 0; j < n; j++) z[j] = mean[j] + sd[j] * gsl_ran_gaussian_ziggurat(rng, 1.0);
    for (size_t i = 0; i < n; i++) {
      if (isnan(acc[i])) continue;  /* already found improper */
      double zi = z[i], logI = 0, k = NAN;
      c.i = i;
      cond_mode_t md;
      int r = cond_mode(&c, start[i], &md);
      if (r == MODE_OK) r = cond_lognorm(&c, &md, &logI);
      if (r == MODE_OK) {
        start[i] = md.x;
        double ef = cond_expect(&c, &md, gx, gw, mean[i], sd[i]);
        double elogq = -log(sd[i]) - 0.5 * (LOG_2PI + 1.0);
        k = elogq - ef + (md.f + logI);
      }
      acc[i] += k;
      z[i] = zi;
    }
  }
  for (size_t i = 0; i < n; i++) kl[i] = acc[i] / ndraws;
  bayes_free(buf);
  bayes_ws_free(ws);
  return 0;
}
