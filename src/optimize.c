/* optimize.c — the mode of the log density by L-BFGS, its Hessian by finite differences of
 * the AD gradient, and the Laplace approximation built on them (optimize.h). */
#include "config.h"

#include <lapacke.h>
#include <math.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>

#include "init.h"
#include "optimize.h"
#include "util.h"

struct bayes_optimizer {
  const bayes_model *m;
  bayes_ws *ws;
  bayes_lbfgs *lb;
  unsigned flags;
  size_t n;
  double *x, *g;            /* init point and its gradient */
  long evals;
};

/* f = -log p for the minimiser */
static double neg_lp(void *ctx, const double *x, double *grad)
{
  bayes_optimizer *o = ctx;
  double lp;
  o->evals++;
  bayes_ws_log_density(o->ws, x, o->flags, &lp, grad);
  for (size_t i = 0; i < o->n; i++) grad[i] = -grad[i];
  return isnan(lp) ? INFINITY : -lp;
}

bayes_optimizer *bayes_optimizer_alloc(const bayes_model *m, const bayes_lbfgs_cfg *cfg,
                                       unsigned flags)
{
  bayes_optimizer *o = bayes_calloc(1, sizeof *o);
  if (!o) return NULL;
  o->m = m;
  o->n = bayes_model_dim(m);
  o->flags = flags;
  o->ws = bayes_ws_alloc(m);
  o->lb = bayes_lbfgs_alloc(o->n, cfg);
  o->x = bayes_calloc(o->n + 1, sizeof *o->x);
  o->g = bayes_calloc(o->n + 1, sizeof *o->g);
  if (!o->ws || !o->lb || !o->x || !o->g) {
    bayes_optimizer_free(o);
    return NULL;
  }
  return o;
}

void bayes_optimizer_free(bayes_optimizer *o)
{
  if (!o) return;
  bayes_ws_free(o->ws);
  bayes_lbfgs_free(o->lb);
  bayes_free(o->x);
  bayes_free(o->g);
  bayes_free(o);
}

int bayes_optimizer_init(bayes_optimizer *o, const double *theta0, double radius,
                         gsl_rng *rng, char *err, size_t errlen)
{
  double lp;
  if (bayes_initialize(o->ws, o->n, o->flags, theta0, radius, rng, o->x, o->g, &lp, &o->evals,
                       err, errlen) != 0)
    return BAYES_EDATA;
  if (bayes_lbfgs_init(o->lb, neg_lp, o, o->x) != BAYES_LBFGS_CONTINUE) {
    bayes_errf(err, errlen, "the log density is not finite at the initial point");
    return BAYES_EDATA;
  }
  return 0;
}

bayes_lbfgs_status bayes_optimizer_iterate(bayes_optimizer *o) { return bayes_lbfgs_iterate(o->lb); }
const double *bayes_optimizer_theta(const bayes_optimizer *o) { return bayes_lbfgs_x(o->lb); }
double bayes_optimizer_lp(const bayes_optimizer *o) { return -bayes_lbfgs_f(o->lb); }
long bayes_optimizer_iterations(const bayes_optimizer *o) { return bayes_lbfgs_iterations(o->lb); }
long bayes_optimizer_evals(const bayes_optimizer *o) { return o->evals; }

long bayes_mode_on_boundary(const bayes_model *m, bayes_ws *w, const double *theta,
                            unsigned flags, size_t *coord)
{
  size_t n = bayes_model_dim(m);
  double lp0;
  bayes_ws_log_density(w, theta, flags, &lp0, NULL);
  if (!isfinite(lp0)) return -1;
  double *x = bayes_malloc((n + 1) * sizeof *x);
  if (!x) return -1;
  memcpy(x, theta, n * sizeof *x);
  long found = -1;
  for (size_t p = 0; p < bayes_model_nparams(m) && found < 0; p++) {
    const bayes_param_info *pi = bayes_model_param(m, p);
    if (!strcmp(pi->transform, "identity")) continue;
    for (size_t k = 0; k < pi->unc_size && found < 0; k++) {
      size_t i = pi->unc_offset + k;
      if (fabs(theta[i]) <= BAYES_MODE_FAR) continue;
      double lp;
      x[i] = theta[i] + copysign(BAYES_MODE_PROBE, theta[i]);
      bayes_ws_log_density(w, x, flags, &lp, NULL);
      x[i] = theta[i];
      if (isfinite(lp) && lp >= lp0 - 1e-9 * (1 + fabs(lp0))) {
        found = (long)p;
        if (coord) *coord = i;
      }
    }
  }
  bayes_free(x);
  return found;
}

/* ---- Hessian ---- */

int bayes_hessian(bayes_ws *w, size_t dim, const double *theta, unsigned flags, double *H,
                  double *scratch, char *err, size_t errlen)
{
  /* row j: dg/dx_j by the five-point stencil
   * (-g(x + 2h) + 8 g(x + h) - 8 g(x - h) + g(x - 2h)) / 12h, error O(h^4); h a power of
   * two times max(1, |x_j|) so that x_j +- h is computed with little rounding */
  static const double off[4] = {2, 1, -1, -2}, wt[4] = {-1, 8, -8, 1};
  double *x = scratch, *g = scratch + dim;
  memcpy(x, theta, dim * sizeof *x);
  for (size_t j = 0; j < dim; j++) {
    double h = ldexp(fmax(1.0, fabs(theta[j])), -10);
    double *row = H + j * dim;
    memset(row, 0, dim * sizeof *row);
    for (int k = 0; k < 4; k++) {
      x[j] = theta[j] + off[k] * h;
      double lp;
      bayes_ws_log_density(w, x, flags, &lp, g);
      bool ok = isfinite(lp);
      for (size_t i = 0; i < dim && ok; i++) ok = isfinite(g[i]);
      if (!ok) {
        const char *why = bayes_ws_error(w);
        bayes_errf(err, errlen, "the log density or its gradient is not finite next to the "
                   "mode (coordinate %zu moved by %g)%s%s%s", j + 1, off[k] * h,
                   *why ? ": " : "", why, "");
        return BAYES_EDATA;
      }
      for (size_t i = 0; i < dim; i++) row[i] += wt[k] * g[i];
    }
    x[j] = theta[j];
    for (size_t i = 0; i < dim; i++) row[i] /= 12 * h;
  }
  for (size_t i = 0; i < dim; i++)
    for (size_t j = 0; j < i; j++) H[i * dim + j] = H[j * dim + i] = 0.5 * (H[i * dim + j] + H[j * dim + i]);
  return 0;
}

/* ---- Laplace ---- */

struct bayes_laplace {
  const bayes_model *m;
  bayes_ws *ws;
  unsigned flags;
  size_t n;
  double *mean, *H, *cov;
  double *R;                /* lower Cholesky factor of the precision -H = R R' */
  double logdet_R;          /* sum log R_ii */
  int newton;               /* refinement steps taken */
  double *z;
};

void bayes_laplace_free(bayes_laplace *l)
{
  if (!l) return;
  bayes_ws_free(l->ws);
  bayes_free(l->mean);
  bayes_free(l->H);
  bayes_free(l->cov);
  bayes_free(l->R);
  bayes_free(l->z);
  bayes_free(l);
}

bayes_laplace *bayes_laplace_alloc(const bayes_model *m, const double *mode, unsigned flags,
                                   int *status, char *err, size_t errlen)
{
  size_t n = bayes_model_dim(m);
  bayes_laplace *l = bayes_calloc(1, sizeof *l);
  double *scratch = bayes_malloc((2 * n + 1) * sizeof *scratch);
  *status = -2;
  if (!l || !scratch) goto fail;
  l->m = m;
  l->n = n;
  l->flags = flags;
  l->ws = bayes_ws_alloc(m);
  l->mean = bayes_malloc((n + 1) * sizeof *l->mean);
  l->H = bayes_malloc((n * n + 1) * sizeof *l->H);
  l->cov = bayes_malloc((n * n + 1) * sizeof *l->cov);
  l->R = bayes_malloc((n * n + 1) * sizeof *l->R);
  l->z = bayes_malloc((n + 1) * sizeof *l->z);
  if (!l->ws || !l->mean || !l->H || !l->cov || !l->R || !l->z) goto fail;
  memcpy(l->mean, mode, n * sizeof *mode);
  /* Newton steps x <- x + (-H)^-1 g from the optimizer's point, while they raise the log
   * density; the last Hessian is the one at the returned mean */
  for (int it = 0;; it++) {
    if ((*status = bayes_hessian(l->ws, n, l->mean, flags, l->H, scratch, err, errlen)) != 0)
      goto fail;
    for (size_t i = 0; i < n * n; i++) l->R[i] = -l->H[i];
    if (n && LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, l->R, (lapack_int)n) != 0) {
      bayes_errf(err, errlen, "the Hessian of the log density at the mode is not negative "
                 "definite (a saddle point, a flat ridge, or a mode on the boundary of a "
                 "parameter's support), so there is no Gaussian approximation there");
      *status = BAYES_EDATA;
      goto fail;
    }
    if (it == BAYES_LAPLACE_NEWTON || n == 0) break;
    double lp0, lp1;
    bayes_ws_log_density(l->ws, l->mean, flags, &lp0, l->z);
    /* step = (R R')^-1 g */
    double *step = scratch;
    memcpy(step, l->z, n * sizeof *step);
    LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, 1, l->R, (lapack_int)n, step, 1);
    double *x = scratch + n, big = 0;
    for (size_t i = 0; i < n; i++) {
      x[i] = l->mean[i] + step[i];
      big = fmax(big, fabs(step[i]) / (1 + fabs(l->mean[i])));
    }
    bayes_ws_log_density(l->ws, x, flags, &lp1, NULL);
    if (!(lp1 >= lp0)) break;          /* keep the last point and its Hessian */
    memcpy(l->mean, x, n * sizeof *x);
    l->newton++;
    if (big < 1e-14) break;
  }
  l->logdet_R = 0;
  for (size_t i = 0; i < n; i++) {
    l->logdet_R += log(l->R[i * n + i]);
    for (size_t j = i + 1; j < n; j++) l->R[i * n + j] = 0;
  }
  /* Sigma = (R R')^-1 */
  memcpy(l->cov, l->R, n * n * sizeof *l->cov);
  if (n && LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, l->cov, (lapack_int)n) != 0) {
    bayes_errf(err, errlen, "the negative Hessian at the mode is singular");
    *status = BAYES_EDATA;
    goto fail;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++) l->cov[j * n + i] = l->cov[i * n + j];
  bayes_free(scratch);
  *status = 0;
  return l;
fail:
  if (*status == -2) bayes_errf(err, errlen, "out of memory");
  bayes_free(scratch);
  bayes_laplace_free(l);
  return NULL;
}

const double *bayes_laplace_mean(const bayes_laplace *l) { return l->mean; }
const double *bayes_laplace_cov(const bayes_laplace *l) { return l->cov; }
const double *bayes_laplace_hessian(const bayes_laplace *l) { return l->H; }
int bayes_laplace_newton_steps(const bayes_laplace *l) { return l->newton; }

int bayes_laplace_draws(bayes_laplace *l, gsl_rng *rng, bayes_approx_draws *d)
{
  size_t n = l->n;
  const double c = -0.5 * (double)n * log(2 * M_PI) + l->logdet_R;
  for (size_t k = 0; k < d->n; k++) {
    double *x = d->theta + k * n, zz = 0;
    for (size_t i = 0; i < n; i++) {
      x[i] = gsl_ran_gaussian_ziggurat(rng, 1.0);
      zz += x[i] * x[i];
    }
    /* x = mean + R'^-1 z, so that cov(x) = (R R')^-1 */
    if (n) cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (int)n, l->R, (int)n, x, 1);
    for (size_t i = 0; i < n; i++) x[i] += l->mean[i];
    /* q(x) = |det R| phi(z) */
    d->log_q[k] = c - 0.5 * zz;
    double lp;
    bayes_ws_log_density(l->ws, x, l->flags, &lp, NULL);
    d->log_p[k] = isfinite(lp) ? lp : -INFINITY;
  }
  return 0;
}
