/* nuts.c — NUTS (Stan's multinomial variant) and static HMC on a Euclidean metric, with
 * Stan's warmup. Sees the model only through bayes.h; never prints. All state is allocated
 * in bayes_sampler_alloc: iterating (and the recursion of the tree builder) never allocates. */
#include "nuts.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "init.h"
#include "util.h"

/* Stan's constants: energy error that marks a divergence (base_nuts.hpp max_deltaH_) and
 * the step-size bounds at which init_stepsize gives up (base_hmc.hpp). */
#define MAX_DELTA_H 1000.0
#define MAX_STEPSIZE 1e7

/* A point in phase space: position, momentum, gradient of the log density at q, and the
 * log density (so V = -lp). */
typedef struct {
  double *q, *p, *g;
  double lp;
} point;

/* Scratch of one recursion level of build_tree (Stan's locals, allocated once). */
typedef struct {
  double *p_init_end, *ps_init_end, *rho_init;
  double *p_final_beg, *ps_final_beg, *rho_final;
  point z_final;
} level;

/* Welford's running mean and (co)variance (Welford 1962; Stan's welford_var_estimator and
 * welford_covar_estimator). m2 holds n or n*n values. */
typedef struct {
  long n;
  double *mean, *m2, *delta;
} welford;

struct bayes_sampler {
  const bayes_model *m;
  bayes_sampler_cfg cfg;
  size_t n;
  unsigned ldflags;
  bayes_ws *ws;
  gsl_rng *rng;
  double *block;             /* every double array below lives here */

  /* metric */
  double *inv_metric;        /* n (diag, unit) or n*n (dense) */
  double *chol;              /* dense: lower Cholesky factor of inv_metric */

  /* the chain's state and the trajectory */
  point cur, z, z_fwd, z_bck, z_sample, z_propose;
  double *p_fwd_fwd, *ps_fwd_fwd, *p_fwd_bck, *ps_fwd_bck;
  double *p_bck_fwd, *ps_bck_fwd, *p_bck_bck, *ps_bck_bck;
  double *rho, *rho_fwd, *rho_bck, *rho_ext;
  double *qdot;              /* leapfrog scratch: M^-1 p */
  level *lv;                 /* max_depth + 1 levels */
  int max_depth;

  /* step size and dual averaging (Hoffman & Gelman 2014, sec. 3.2; Stan's
   * stepsize_adaptation.hpp) */
  double nom_eps, eps;
  double da_mu, da_xbar, da_sbar;
  long da_counter;

  /* windowed metric adaptation (Stan's windowed_adaptation.hpp) */
  long num_warmup_w, init_buf, term_buf, base_win;
  long win_counter, win_size, next_win;
  welford wf;

  /* per-transition results */
  int depth, n_leapfrog;
  bool divergent;
  double energy, accept_stat;

  long iter, total;
  long grad_evals;
  bool ready;
  char errmsg[256];
};

/* ---------------------------------------------------------------- small helpers */

static double log_sum_exp(double a, double b)
{
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  double mx = a > b ? a : b;
  return mx + log1p(exp(-fabs(a - b)));
}

static double dot(const double *a, const double *b, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

static void copy_vec(double *dst, const double *src, size_t n)
{
  memcpy(dst, src, n * sizeof *dst);
}

static void copy_point(bayes_sampler *s, point *dst, const point *src)
{
  copy_vec(dst->q, src->q, s->n);
  copy_vec(dst->p, src->p, s->n);
  copy_vec(dst->g, src->g, s->n);
  dst->lp = src->lp;
}

static double uniform(bayes_sampler *s) { return gsl_rng_uniform(s->rng); }

/* ---------------------------------------------------------------- Hamiltonian */

/* p_sharp = dtau/dp = M^-1 p (Betancourt 2017, "A conceptual introduction to HMC",
 * appendix A.4.2). */
static void p_sharp(const bayes_sampler *s, const double *p, double *out)
{
  size_t n = s->n;
  if (s->cfg.metric == BAYES_METRIC_DENSE) {
    for (size_t i = 0; i < n; i++) out[i] = dot(s->inv_metric + i * n, p, n);
  } else {
    for (size_t i = 0; i < n; i++) out[i] = s->inv_metric[i] * p[i];
  }
}

/* Kinetic energy tau = 0.5 p' M^-1 p. */
static double kinetic(const bayes_sampler *s, const double *p)
{
  size_t n = s->n;
  double t = 0;
  if (s->cfg.metric == BAYES_METRIC_DENSE) {
    for (size_t i = 0; i < n; i++) t += p[i] * dot(s->inv_metric + i * n, p, n);
  } else {
    for (size_t i = 0; i < n; i++) t += s->inv_metric[i] * p[i] * p[i];
  }
  return 0.5 * t;
}

/* H = tau + V with V = -lp; a NaN log density counts as V = +inf (Stan). */
static double hamiltonian(const bayes_sampler *s, const point *z)
{
  double v = isnan(z->lp) ? INFINITY : -z->lp;
  double h = kinetic(s, z->p) + v;
  return isnan(h) ? INFINITY : h;
}

/* p ~ N(0, M). Diagonal: p_i = u_i / sqrt(Minv_i). Dense: with Minv = L L', p = L^-T u has
 * covariance L^-T L^-1 = (L L')^-1 = M (Stan's dense_e_metric::sample_p solves with the
 * upper factor the same way); L is factored once per metric update. */
static void sample_p(bayes_sampler *s, double *p)
{
  size_t n = s->n;
  for (size_t i = 0; i < n; i++) p[i] = gsl_ran_gaussian_ziggurat(s->rng, 1.0);
  if (s->cfg.metric == BAYES_METRIC_DENSE) {
    for (size_t ii = n; ii-- > 0;) {       /* back substitution with L' */
      double v = p[ii];
      for (size_t k = ii + 1; k < n; k++) v -= s->chol[k * n + ii] * p[k];
      p[ii] = v / s->chol[ii * n + ii];
    }
  } else {
    for (size_t i = 0; i < n; i++) p[i] /= sqrt(s->inv_metric[i]);
  }
}

static void eval(bayes_sampler *s, point *z)
{
  double lp = NAN;
  if (bayes_ws_log_density(s->ws, z->q, s->ldflags, &lp, z->g) != 0) lp = NAN;
  s->grad_evals++;
  z->lp = lp;
}

/* Leapfrog (Stan's expl_leapfrog): half step in p with the gradient of V = -lp, full step
 * in q with M^-1 p, half step in p. */
static void leapfrog(bayes_sampler *s, point *z, double eps)
{
  size_t n = s->n;
  for (size_t i = 0; i < n; i++) z->p[i] += 0.5 * eps * z->g[i];
  p_sharp(s, z->p, s->qdot);
  for (size_t i = 0; i < n; i++) z->q[i] += eps * s->qdot[i];
  eval(s, z);
  for (size_t i = 0; i < n; i++) z->p[i] += 0.5 * eps * z->g[i];
}

/* ---------------------------------------------------------------- NUTS */

/* Generalised no-U-turn criterion (Betancourt 2017, sec. A.4.2): both ends' sharp momenta
 * point along the summed momentum rho. */
static bool criterion(const bayes_sampler *s, const double *ps_minus, const double *ps_plus,
                      const double *rho)
{
  return dot(ps_plus, rho, s->n) > 0 && dot(ps_minus, rho, s->n) > 0;
}

typedef struct {
  double H0, sign, lsw;     /* lsw: log sum of weights of this (sub)tree */
  double sum_metro;
} tree_acc;

/* Builds a subtree of 2^depth leapfrogs from s->z in direction sign (Stan's base_nuts
 * build_tree, 2.21+: multinomial sampling with uniform progressive sampling inside, and the
 * U-turn checked over the whole subtree and across its two halves). Adds this subtree's
 * summed momentum to rho and its log weight to *lsw; writes the sampled point into zp and
 * the momenta and sharp momenta at its two ends. Returns whether the subtree is valid. */
static bool build_tree(bayes_sampler *s, int depth, point *zp, double *ps_beg,
                       double *ps_end, double *rho, double *p_beg, double *p_end,
                       tree_acc *acc, double *lsw)
{
  size_t n = s->n;
  if (depth == 0) {
    leapfrog(s, &s->z, acc->sign * s->eps);
    s->n_leapfrog++;
    double h = hamiltonian(s, &s->z);
    if (h - acc->H0 > MAX_DELTA_H) s->divergent = true;
    *lsw = log_sum_exp(*lsw, acc->H0 - h);
    acc->sum_metro += acc->H0 - h > 0 ? 1.0 : exp(acc->H0 - h);
    copy_point(s, zp, &s->z);
    p_sharp(s, s->z.p, ps_beg);
    copy_vec(ps_end, ps_beg, n);
    for (size_t i = 0; i < n; i++) rho[i] += s->z.p[i];
    copy_vec(p_beg, s->z.p, n);
    copy_vec(p_end, s->z.p, n);
    return !s->divergent;
  }
  level *L = &s->lv[depth];
  double lsw_init = -INFINITY, lsw_final = -INFINITY;

  memset(L->rho_init, 0, n * sizeof(double));
  if (!build_tree(s, depth - 1, zp, ps_beg, L->ps_init_end, L->rho_init, p_beg, L->p_init_end,
                  acc, &lsw_init))
    return false;

  memset(L->rho_final, 0, n * sizeof(double));
  if (!build_tree(s, depth - 1, &L->z_final, L->ps_final_beg, ps_end, L->rho_final,
                  L->p_final_beg, p_end, acc, &lsw_final))
    return false;

  /* uniform progressive sampling between the two halves */
  double lsw_sub = log_sum_exp(lsw_init, lsw_final);
  *lsw = log_sum_exp(*lsw, lsw_sub);
  if (lsw_final > lsw_sub || uniform(s) < exp(lsw_final - lsw_sub))
    copy_point(s, zp, &L->z_final);

  /* rho_init + rho_final is the subtree's rho; the two cross checks extend each half by
   * the neighbouring end momentum of the other half. */
  bool ok;
  double *ext = s->rho_ext;
  for (size_t i = 0; i < n; i++) {
    double r = L->rho_init[i] + L->rho_final[i];
    rho[i] += r;
    ext[i] = r;
  }
  ok = criterion(s, ps_beg, ps_end, ext);
  for (size_t i = 0; i < n; i++) ext[i] = L->rho_init[i] + L->p_final_beg[i];
  ok = ok && criterion(s, ps_beg, L->ps_final_beg, ext);
  for (size_t i = 0; i < n; i++) ext[i] = L->rho_final[i] + L->p_init_end[i];
  ok = ok && criterion(s, L->ps_init_end, ps_end, ext);
  return ok;
}

static void nuts_transition(bayes_sampler *s)
{
  size_t n = s->n;
  copy_point(s, &s->z, &s->cur);
  sample_p(s, s->z.p);
  copy_point(s, &s->z_fwd, &s->z);
  copy_point(s, &s->z_bck, &s->z);
  copy_point(s, &s->z_sample, &s->z);
  copy_point(s, &s->z_propose, &s->z);

  p_sharp(s, s->z.p, s->ps_fwd_fwd);
  copy_vec(s->p_fwd_fwd, s->z.p, n);
  copy_vec(s->p_fwd_bck, s->z.p, n);
  copy_vec(s->p_bck_fwd, s->z.p, n);
  copy_vec(s->p_bck_bck, s->z.p, n);
  copy_vec(s->ps_fwd_bck, s->ps_fwd_fwd, n);
  copy_vec(s->ps_bck_fwd, s->ps_fwd_fwd, n);
  copy_vec(s->ps_bck_bck, s->ps_fwd_fwd, n);
  copy_vec(s->rho, s->z.p, n);

  tree_acc acc = {.H0 = hamiltonian(s, &s->z), .sum_metro = 0};
  double lsw = 0; /* log(exp(H0 - H0)): the initial point has weight 1 */
  s->depth = 0;
  s->n_leapfrog = 0;
  s->divergent = false;

  while (s->depth < s->max_depth) {
    double lsw_sub = -INFINITY;
    bool valid;
    memset(s->rho_fwd, 0, n * sizeof(double));
    memset(s->rho_bck, 0, n * sizeof(double));
    if (uniform(s) > 0.5) {
      /* the old trajectory becomes the backward part */
      copy_vec(s->rho_bck, s->rho, n);
      copy_vec(s->p_bck_fwd, s->p_fwd_fwd, n);
      copy_vec(s->ps_bck_fwd, s->ps_fwd_fwd, n);
      copy_point(s, &s->z, &s->z_fwd);
      acc.sign = 1;
      valid = build_tree(s, s->depth, &s->z_propose, s->ps_fwd_bck, s->ps_fwd_fwd, s->rho_fwd,
                         s->p_fwd_bck, s->p_fwd_fwd, &acc, &lsw_sub);
      copy_point(s, &s->z_fwd, &s->z);
    } else {
      copy_vec(s->rho_fwd, s->rho, n);
      copy_vec(s->p_fwd_bck, s->p_bck_bck, n);
      copy_vec(s->ps_fwd_bck, s->ps_bck_bck, n);
      copy_point(s, &s->z, &s->z_bck);
      acc.sign = -1;
      valid = build_tree(s, s->depth, &s->z_propose, s->ps_bck_fwd, s->ps_bck_bck, s->rho_bck,
                         s->p_bck_fwd, s->p_bck_bck, &acc, &lsw_sub);
      copy_point(s, &s->z_bck, &s->z);
    }
    if (!valid) break;
    s->depth++;

    /* biased progressive sampling at the top level (Betancourt 2017, sec. A.3.2) */
    if (lsw_sub > lsw || uniform(s) < exp(lsw_sub - lsw))
      copy_point(s, &s->z_sample, &s->z_propose);
    lsw = log_sum_exp(lsw, lsw_sub);

    for (size_t i = 0; i < n; i++) s->rho[i] = s->rho_bck[i] + s->rho_fwd[i];
    bool ok = criterion(s, s->ps_bck_bck, s->ps_fwd_fwd, s->rho);
    for (size_t i = 0; i < n; i++) s->rho_ext[i] = s->rho_bck[i] + s->p_fwd_bck[i];
    ok = ok && criterion(s, s->ps_bck_bck, s->ps_fwd_bck, s->rho_ext);
    for (size_t i = 0; i < n; i++) s->rho_ext[i] = s->rho_fwd[i] + s->p_bck_fwd[i];
    ok = ok && criterion(s, s->ps_bck_fwd, s->ps_fwd_fwd, s->rho_ext);
    if (!ok) break;
  }

  s->accept_stat = s->n_leapfrog > 0 ? acc.sum_metro / s->n_leapfrog : 0;
  copy_point(s, &s->cur, &s->z_sample);
  s->energy = hamiltonian(s, &s->cur);
}

/* ---------------------------------------------------------------- static HMC */

/* Fixed integration time T: L = max(1, (int)(T / nominal epsilon)) leapfrogs, then a
 * Metropolis correction (Neal 2011, "MCMC using Hamiltonian dynamics", sec. 5.2). */
static void hmc_transition(bayes_sampler *s)
{
  copy_point(s, &s->z, &s->cur);
  sample_p(s, s->z.p);
  double H0 = hamiltonian(s, &s->z);
  double Ld = floor(s->cfg.hmc_int_time / s->nom_eps);
  int L = !(Ld >= 1) ? 1 : Ld > INT_MAX ? INT_MAX : (int)Ld;
  for (int k = 0; k < L; k++) leapfrog(s, &s->z, s->eps);
  double h = hamiltonian(s, &s->z);
  double a = exp(H0 - h);
  s->divergent = h - H0 > MAX_DELTA_H;
  s->n_leapfrog = L;
  s->depth = 0;
  if (a >= 1 || uniform(s) <= a) {
    copy_point(s, &s->cur, &s->z);
    s->energy = h;
  } else {
    s->energy = H0;  /* the old position with the momentum drawn for it (Stan) */
  }
  s->accept_stat = a > 1 ? 1 : a;
}

/* ---------------------------------------------------------------- step size */

/* Stan's init_stepsize heuristic (base_hmc.hpp; Hoffman & Gelman 2014, Algorithm 4): from
 * the current position, double or halve the nominal step size until the acceptance of one
 * leapfrog with fresh momentum crosses 0.8 in the direction first observed. Returns 0 or
 * -1 with a message. */
static int init_stepsize(bayes_sampler *s)
{
  if (s->nom_eps == 0 || s->nom_eps > MAX_STEPSIZE || isnan(s->nom_eps)) return 0;
  int direction = 0;
  for (;;) {
    copy_point(s, &s->z, &s->cur);
    sample_p(s, s->z.p);
    double H0 = hamiltonian(s, &s->z);
    leapfrog(s, &s->z, s->nom_eps);
    double dH = H0 - hamiltonian(s, &s->z);
    if (direction == 0) {
      direction = dH > log(0.8) ? 1 : -1;
      continue;
    }
    if (direction == 1 && !(dH > log(0.8))) break;
    if (direction == -1 && !(dH < log(0.8))) break;
    s->nom_eps = direction == 1 ? 2 * s->nom_eps : 0.5 * s->nom_eps;
    if (s->nom_eps > MAX_STEPSIZE) {
      snprintf(s->errmsg, sizeof s->errmsg,
               "step size initialisation: the step size grew beyond %g; the posterior is "
               "probably improper", MAX_STEPSIZE);
      return -1;
    }
    if (s->nom_eps == 0) {
      snprintf(s->errmsg, sizeof s->errmsg,
               "step size initialisation: no acceptably small step size; the log density "
               "is probably not continuous");
      return -1;
    }
  }
  return 0;
}

/* Dual averaging of log epsilon (Nesterov 2009; Hoffman & Gelman 2014, eq. (6); Stan's
 * stepsize_adaptation::learn_stepsize). */
static void learn_stepsize(bayes_sampler *s, double adapt_stat)
{
  const bayes_sampler_cfg *c = &s->cfg;
  s->da_counter++;
  if (adapt_stat > 1) adapt_stat = 1;
  double t = (double)s->da_counter;
  double eta = 1.0 / (t + c->t0);
  s->da_sbar = (1 - eta) * s->da_sbar + eta * (c->delta - adapt_stat);
  double x = s->da_mu - s->da_sbar * sqrt(t) / c->gamma;
  double xeta = pow(t, -c->kappa);
  s->da_xbar = (1 - xeta) * s->da_xbar + xeta * x;
  s->nom_eps = exp(x);
}

static void restart_stepsize(bayes_sampler *s)
{
  s->da_counter = 0;
  s->da_sbar = 0;
  s->da_xbar = 0;
}

/* ---------------------------------------------------------------- metric adaptation */

static void window_restart(bayes_sampler *s)
{
  s->win_counter = 0;
  s->win_size = s->base_win;
  s->next_win = s->init_buf + s->win_size - 1;
}

/* Stan's set_window_params: no metric adaptation below 20 warmup iterations; if the
 * buffers do not fit, 15% / 75% / 10% of the warmup. Stan (2.21 to at least 2.3x) does not
 * restart its window schedule in that case, so its metric stays the identity for warmup
 * < 150 (checked with rstan 2.21.7, warmup 100); we restart it, as Stan's own warning
 * ("Reducing each adaptation stage to 15%/75%/10%") promises. */
static void window_setup(bayes_sampler *s)
{
  const bayes_sampler_cfg *c = &s->cfg;
  long w = c->warmup;
  s->num_warmup_w = 0;
  s->init_buf = s->term_buf = s->base_win = 0;
  if (w >= 20) {
    s->num_warmup_w = w;
    if (c->init_buffer + c->window + c->term_buffer > w) {
      s->init_buf = (long)(0.15 * (double)w);
      s->term_buf = (long)(0.10 * (double)w);
      s->base_win = w - (s->init_buf + s->term_buf);
    } else {
      s->init_buf = c->init_buffer;
      s->term_buf = c->term_buffer;
      s->base_win = c->window;
    }
  }
  window_restart(s);
  if (s->num_warmup_w == 0) s->next_win = -1;
}

static bool in_window(const bayes_sampler *s)
{
  return s->win_counter >= s->init_buf && s->win_counter < s->num_warmup_w - s->term_buf &&
         s->win_counter != s->num_warmup_w;
}

static bool end_window(const bayes_sampler *s)
{
  return s->win_counter == s->next_win && s->win_counter != s->num_warmup_w;
}

/* Each window doubles; a window whose successor would overrun the slow phase is stretched
 * to its end. */
static void next_window(bayes_sampler *s)
{
  long last = s->num_warmup_w - s->term_buf - 1;
  if (s->next_win == last) return;
  s->win_size *= 2;
  s->next_win = s->win_counter + s->win_size;
  if (s->next_win == last) return;
  if (s->next_win + 2 * s->win_size >= s->num_warmup_w - s->term_buf) s->next_win = last;
}

static void welford_restart(bayes_sampler *s)
{
  size_t n = s->n;
  size_t m = s->cfg.metric == BAYES_METRIC_DENSE ? n * n : n;
  s->wf.n = 0;
  memset(s->wf.mean, 0, n * sizeof(double));
  memset(s->wf.m2, 0, m * sizeof(double));
}

static void welford_add(bayes_sampler *s, const double *q)
{
  size_t n = s->n;
  welford *w = &s->wf;
  w->n++;
  for (size_t i = 0; i < n; i++) {
    w->delta[i] = q[i] - w->mean[i];
    w->mean[i] += w->delta[i] / (double)w->n;
  }
  if (s->cfg.metric == BAYES_METRIC_DENSE) {
    for (size_t i = 0; i < n; i++) {
      double a = q[i] - w->mean[i];
      for (size_t j = 0; j < n; j++) w->m2[i * n + j] += a * w->delta[j];
    }
  } else {
    for (size_t i = 0; i < n; i++) w->m2[i] += (q[i] - w->mean[i]) * w->delta[i];
  }
}

/* Lower Cholesky factor of the dense inverse metric, into s->chol. */
static int factor_metric(bayes_sampler *s)
{
  if (s->cfg.metric != BAYES_METRIC_DENSE) return 0;
  size_t n = s->n;
  copy_vec(s->chol, s->inv_metric, n * n);
  gsl_matrix_view v = gsl_matrix_view_array(s->chol, n, n);
  if (gsl_linalg_cholesky_decomp1(&v.matrix) != GSL_SUCCESS) {
    snprintf(s->errmsg, sizeof s->errmsg,
             "the adapted inverse metric is not positive definite");
    return -1;
  }
  return 0;
}

/* End of a window: the sample (co)variance, shrunk towards 1e-3 I with weight 5 / (n + 5)
 * (Stan's var_adaptation / covar_adaptation regularisation). */
static int update_metric(bayes_sampler *s)
{
  size_t n = s->n;
  welford *w = &s->wf;
  double k = (double)w->n;
  if (w->n > 1) {
    double a = k / (k + 5.0), b = 1e-3 * (5.0 / (k + 5.0));
    if (s->cfg.metric == BAYES_METRIC_DENSE) {
      for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
          s->inv_metric[i * n + j] =
              a * w->m2[i * n + j] / (k - 1.0) + (i == j ? b : 0.0);
      /* symmetrise against rounding */
      for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) {
          double v = 0.5 * (s->inv_metric[i * n + j] + s->inv_metric[j * n + i]);
          s->inv_metric[i * n + j] = s->inv_metric[j * n + i] = v;
        }
    } else {
      for (size_t i = 0; i < n; i++) s->inv_metric[i] = a * w->m2[i] / (k - 1.0) + b;
    }
  }
  welford_restart(s);
  return factor_metric(s);
}

/* Stan's learn_variance / learn_covariance: called once per warmup iteration with the new
 * position. Returns 1 when a window closed (metric updated), 0 if not, -1 on failure. */
static int learn_metric(bayes_sampler *s, const double *q)
{
  if (in_window(s)) welford_add(s, q);
  if (end_window(s)) {
    next_window(s);
    if (update_metric(s) != 0) return -1;
    s->win_counter++;
    return 1;
  }
  s->win_counter++;
  return 0;
}

/* ---------------------------------------------------------------- public */

void bayes_sampler_defaults(bayes_sampler_cfg *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->algo = BAYES_ALGO_NUTS;
  cfg->metric = BAYES_METRIC_DIAG;
  cfg->warmup = 1000;
  cfg->draws = 1000;
  cfg->thin = 1;
  cfg->max_depth = 10;
  cfg->hmc_int_time = 2 * M_PI;
  cfg->stepsize = 1;
  cfg->stepsize_jitter = 0;
  cfg->adapt = true;
  cfg->delta = 0.8;
  cfg->gamma = 0.05;
  cfg->kappa = 0.75;
  cfg->t0 = 10;
  cfg->init_buffer = 75;
  cfg->term_buffer = 50;
  cfg->window = 25;
  cfg->init_radius = 2;
  cfg->flags = BAYES_LD_JACOBIAN;
  cfg->seed = 0;
  cfg->chain = 1;
}

static void carve_point(double **bp, point *z, size_t n)
{
  z->q = *bp, *bp += n;
  z->p = *bp, *bp += n;
  z->g = *bp, *bp += n;
  z->lp = NAN;
}

static void reset_metric(bayes_sampler *s)
{
  size_t n = s->n;
  if (s->cfg.metric == BAYES_METRIC_DENSE) {
    memset(s->inv_metric, 0, n * n * sizeof(double));
    for (size_t i = 0; i < n; i++) s->inv_metric[i * n + i] = 1;
  } else {
    for (size_t i = 0; i < n; i++) s->inv_metric[i] = 1;
  }
}

bayes_sampler *bayes_sampler_alloc(const bayes_model *m, const bayes_sampler_cfg *cfg)
{
  bayes_sampler *s = bayes_calloc(1, sizeof *s);
  if (!s) return NULL;
  s->m = m;
  s->cfg = *cfg;
  s->n = bayes_model_dim(m);
  s->max_depth = cfg->max_depth > 0 ? cfg->max_depth : 1;
  s->ldflags = cfg->flags | BAYES_LD_JACOBIAN;
  if (cfg->warmup < 0 || cfg->draws < 0 || !(cfg->stepsize > 0) ||
      (cfg->metric != BAYES_METRIC_DIAG && cfg->metric != BAYES_METRIC_DENSE &&
       cfg->metric != BAYES_METRIC_UNIT))
    goto fail;
  size_t n = s->n, mm = cfg->metric == BAYES_METRIC_DENSE ? n * n : n;
  size_t nlev = (size_t)s->max_depth + 1;
  size_t total = mm                /* inv_metric */
                 + (cfg->metric == BAYES_METRIC_DENSE ? n * n : 0) /* chol */
                 + 6 * 3 * n       /* points */
                 + 13 * n          /* boundary momenta, rho, scratch */
                 + nlev * (6 + 3) * n  /* levels */
                 + 2 * n + mm;     /* welford */
  s->block = bayes_malloc((total ? total : 1) * sizeof(double));
  s->lv = bayes_calloc(nlev, sizeof *s->lv);
  s->ws = bayes_ws_alloc(m);
  /* one stream per (seed, chain) */
  s->rng = bayes_rng_alloc(cfg->seed, (uint64_t)(int64_t)cfg->chain);
  if (!s->block || !s->lv || !s->ws || !s->rng) goto fail;
  memset(s->block, 0, (total ? total : 1) * sizeof(double));

  double *bp = s->block;
  s->inv_metric = bp, bp += mm;
  if (cfg->metric == BAYES_METRIC_DENSE) s->chol = bp, bp += n * n;
  point *pts[] = {&s->cur, &s->z, &s->z_fwd, &s->z_bck, &s->z_sample, &s->z_propose};
  for (size_t k = 0; k < 6; k++) carve_point(&bp, pts[k], n);
  double **vecs[] = {&s->p_fwd_fwd, &s->ps_fwd_fwd, &s->p_fwd_bck, &s->ps_fwd_bck,
                     &s->p_bck_fwd, &s->ps_bck_fwd, &s->p_bck_bck, &s->ps_bck_bck,
                     &s->rho, &s->rho_fwd, &s->rho_bck, &s->rho_ext, &s->qdot};
  for (size_t k = 0; k < 13; k++) *vecs[k] = bp, bp += n;
  for (size_t l = 0; l < nlev; l++) {
    level *L = &s->lv[l];
    L->p_init_end = bp, bp += n;
    L->ps_init_end = bp, bp += n;
    L->rho_init = bp, bp += n;
    L->p_final_beg = bp, bp += n;
    L->ps_final_beg = bp, bp += n;
    L->rho_final = bp, bp += n;
    carve_point(&bp, &L->z_final, n);
  }
  s->wf.mean = bp, bp += n;
  s->wf.delta = bp, bp += n;
  s->wf.m2 = bp, bp += mm;

  reset_metric(s);
  s->total = cfg->warmup + cfg->draws;
  return s;

fail:
  bayes_sampler_free(s);
  return NULL;
}

void bayes_sampler_free(bayes_sampler *s)
{
  if (!s) return;
  bayes_rng_free(s->rng);
  bayes_ws_free(s->ws);
  bayes_free(s->lv);
  bayes_free(s->block);
  bayes_free(s);
}

int bayes_sampler_init(bayes_sampler *s, const double *init, char *err, size_t errlen)
{
  const bayes_sampler_cfg *c = &s->cfg;
  size_t n = s->n;
  if (err && errlen) err[0] = '\0';
  s->ready = false;
  s->iter = 0;
  s->grad_evals = 0;
  s->errmsg[0] = '\0';
  reset_metric(s);
  factor_metric(s); /* the identity always factors */

  /* Stan's initialize() */
  if (bayes_initialize(s->ws, n, s->ldflags, init, c->init_radius, s->rng, s->cur.q,
                       s->cur.g, &s->cur.lp, &s->grad_evals, err, errlen) != 0)
    return BAYES_EDATA;
  memset(s->cur.p, 0, n * sizeof(double));
  copy_point(s, &s->z_sample, &s->cur);

  s->nom_eps = c->stepsize;
  s->eps = s->nom_eps;
  /* Stan sets mu from the user's step size, before the heuristic runs (services). */
  s->da_mu = log(10 * c->stepsize);
  restart_stepsize(s);
  window_setup(s);
  welford_restart(s);
  if (c->adapt && c->warmup > 0) {
    if (init_stepsize(s) != 0) {
      if (err && errlen) snprintf(err, errlen, "%s", s->errmsg);
      return BAYES_EDATA;
    }
  }
  s->ready = true;
  return BAYES_OK;
}

int bayes_sampler_iterate(bayes_sampler *s, bayes_draw *d)
{
  const bayes_sampler_cfg *c = &s->cfg;
  if (!s->ready || s->iter >= s->total) {
    if (!s->ready && !s->errmsg[0])
      snprintf(s->errmsg, sizeof s->errmsg, "bayes_sampler_iterate before a successful init");
    return -1;
  }
  bool warm = s->iter < c->warmup;

  s->eps = s->nom_eps;
  if (c->stepsize_jitter > 0) s->eps *= 1.0 + c->stepsize_jitter * (2.0 * uniform(s) - 1.0);
  if (c->algo == BAYES_ALGO_HMC)
    hmc_transition(s);
  else
    nuts_transition(s);

  if (d) {
    d->lp = s->cur.lp;
    d->accept_stat = s->accept_stat;
    d->stepsize = s->eps;
    d->energy = s->energy;
    d->treedepth = s->depth;
    d->n_leapfrog = s->n_leapfrog;
    d->divergent = s->divergent;
    d->warmup = warm;
    d->iteration = s->iter;
    d->theta = s->cur.q;
  }

  if (warm && c->adapt) {
    learn_stepsize(s, s->accept_stat);
    if (c->metric != BAYES_METRIC_UNIT) {
      int up = learn_metric(s, s->cur.q);
      if (up < 0) return -1;
      if (up > 0) {
        if (init_stepsize(s) != 0) return -1;
        s->da_mu = log(10 * s->nom_eps);
        restart_stepsize(s);
      }
    }
    if (s->iter == c->warmup - 1) s->nom_eps = exp(s->da_xbar);
  }
  s->iter++;
  return s->iter < s->total ? 1 : 0;
}

double bayes_sampler_stepsize(const bayes_sampler *s) { return s->nom_eps; }
const double *bayes_sampler_inv_metric(const bayes_sampler *s) { return s->inv_metric; }
gsl_rng *bayes_sampler_rng(bayes_sampler *s) { return s->rng; }
long bayes_sampler_grad_evals(const bayes_sampler *s) { return s->grad_evals; }
const char *bayes_sampler_error(const bayes_sampler *s) { return s->errmsg; }
