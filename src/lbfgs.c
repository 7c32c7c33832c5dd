/* lbfgs.c — limited-memory BFGS minimisation (lbfgs.h).
 *
 * Search direction: the two-loop recursion of Nocedal & Wright (2006), "Numerical
 * Optimization", 2nd ed., Alg. 7.4, with the initial inverse Hessian H0 = gamma I,
 * gamma = s'y / y'y of the newest pair (ibid. eq. 7.20). A pair is stored only if it has
 * curvature, s'y > CURV_EPS |y|^2 (ibid. section 7.2 and 6.1: the update keeps H positive
 * definite only when s'y > 0; under the strong Wolfe conditions s'y > 0 holds in exact
 * arithmetic, so this only drops pairs spoiled by rounding). With no pair stored (first
 * iteration, after a reset, or when every pair was skipped) the direction is -g.
 *
 * Line search: N&W Alg. 3.5 (bracketing) and 3.6 (zoom) for the strong Wolfe conditions
 * (eq. 3.7, c1 = 1e-4, c2 = 0.9), the zoom step by cubic interpolation of phi and phi' at
 * both ends of the bracket (eq. 3.59), safeguarded by bisection. A trial point where f or
 * its gradient is not finite is treated as "too far": the step is shrunk towards the last
 * finite point (halved distance), as CmdStan's line search does.
 *
 * Step lengths and tests follow CmdStan's optimizer (stan/optimization/bfgs.hpp, read for
 * its defaults, not copied): the first step (and the first after a reset) is
 * x - init_alpha g; later line searches start at alpha0 = min(1, 1.01 a*), a* the
 * minimiser over [1e-12, 1] of the cubic Hermite interpolant of the previous line's phi
 * (its value and slope at 0 and at the accepted step). A line search that fails along
 * the L-BFGS direction is retried once along -g with the history cleared. Convergence
 * tests, in CmdStan's order: |f_k-1 - f_k| < tol_obj; ||g_k||_2 < tol_grad;
 * ||x_k - x_k-1||_2 < tol_param; k >= max_iter; |f_k-1 - f_k| / max(|f_k-1|, |f_k|, 1)
 * < tol_rel_obj eps; g_k' H_k g_k / max(|f_k|, 1) < tol_rel_grad eps, with H_k the
 * updated L-BFGS inverse Hessian (so -H_k g_k is the next search direction). */
#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "lbfgs.h"
#include "util.h"

#define C1 1e-4
#define C2 0.9
#define CURV_EPS DBL_EPSILON
#define MIN_ALPHA 1e-12   /* CmdStan's minAlpha: lower end of the initial-step cubic */
#define EXPAND 10.0       /* bracketing: the next trial step is 10 times the last */
#define MAX_LS_EVALS 60   /* evaluations of f in one line search before giving up */

struct bayes_lbfgs {
  size_t n;
  bayes_lbfgs_cfg cfg;
  bayes_lbfgs_fn fn;
  void *ctx;
  double *x, *g, f;        /* current point */
  double *p;               /* search direction from x */
  double *xt, *gt;         /* line search trial point */
  double *xlo, *glo;       /* the best point of the line search (lowest f) */
  double flo;              /* f at xlo (f at x until the search goes lower) */
  double *xbest, *gbest;   /* best point over a failed search and its retry */
  double fbest;
  double *S, *Y, *rho, *a; /* history: m rows of n; circular, newest at head */
  int m, count, head;
  double gamma;            /* s'y / y'y of the newest pair */
  /* the previous line search, for the next initial step */
  bool have_prev;
  double prev_d0, prev_d1, prev_df, prev_alpha;
  long iter, evals;
  bool ready;
  bayes_lbfgs_status done; /* CONTINUE while running */
};

void bayes_lbfgs_defaults(bayes_lbfgs_cfg *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->history = 5;
  cfg->max_iter = 2000;
  cfg->init_alpha = 0.001;
  cfg->tol_obj = 1e-12;
  cfg->tol_rel_obj = 1e4;
  cfg->tol_grad = 1e-8;
  cfg->tol_rel_grad = 1e7;
  cfg->tol_param = 1e-8;
}

bool bayes_lbfgs_converged(bayes_lbfgs_status st)
{
  return st == BAYES_LBFGS_TOL_OBJ || st == BAYES_LBFGS_TOL_REL_OBJ ||
         st == BAYES_LBFGS_TOL_GRAD || st == BAYES_LBFGS_TOL_REL_GRAD ||
         st == BAYES_LBFGS_TOL_PARAM;
}

const char *bayes_lbfgs_describe(bayes_lbfgs_status st)
{
  switch (st) {
  case BAYES_LBFGS_CONTINUE: return "Successful step completed";
  case BAYES_LBFGS_TOL_OBJ:
    return "Convergence detected: absolute change in objective function was below tolerance";
  case BAYES_LBFGS_TOL_REL_OBJ:
    return "Convergence detected: relative change in objective function was below tolerance";
  case BAYES_LBFGS_TOL_GRAD: return "Convergence detected: gradient norm is below tolerance";
  case BAYES_LBFGS_TOL_REL_GRAD:
    return "Convergence detected: relative gradient magnitude is below tolerance";
  case BAYES_LBFGS_TOL_PARAM:
    return "Convergence detected: absolute parameter change was below tolerance";
  case BAYES_LBFGS_MAX_ITER: return "Maximum number of iterations hit, may not be at an optima";
  case BAYES_LBFGS_LINESEARCH:
    return "Line search failed to achieve a sufficient decrease, no more progress can be made";
  case BAYES_LBFGS_NONFINITE: return "Error evaluating initial BFGS point.";
  }
  return "Unknown termination code";
}

bayes_lbfgs *bayes_lbfgs_alloc(size_t n, const bayes_lbfgs_cfg *cfg)
{
  if (!cfg || cfg->history < 1 || cfg->max_iter < 0 || !(cfg->init_alpha > 0) ||
      !(cfg->tol_obj >= 0) || !(cfg->tol_rel_obj >= 0) || !(cfg->tol_grad >= 0) ||
      !(cfg->tol_rel_grad >= 0) || !(cfg->tol_param >= 0))
    return NULL;
  bayes_lbfgs *s = bayes_calloc(1, sizeof *s);
  if (!s) return NULL;
  s->n = n;
  s->cfg = *cfg;
  s->m = cfg->history;
  size_t m = (size_t)cfg->history;
  double **vecs[] = {&s->x, &s->g, &s->p, &s->xt, &s->gt, &s->xlo, &s->glo, &s->xbest,
                     &s->gbest};
  for (size_t k = 0; k < sizeof vecs / sizeof *vecs; k++) {
    *vecs[k] = bayes_calloc(n + 1, sizeof(double));
    if (!*vecs[k]) goto fail;
  }
  s->S = bayes_calloc(m * n + 1, sizeof(double));
  s->Y = bayes_calloc(m * n + 1, sizeof(double));
  s->rho = bayes_calloc(m, sizeof(double));
  s->a = bayes_calloc(m, sizeof(double));
  if (!s->S || !s->Y || !s->rho || !s->a) goto fail;
  s->f = NAN;
  return s;
fail:
  bayes_lbfgs_free(s);
  return NULL;
}

void bayes_lbfgs_free(bayes_lbfgs *s)
{
  if (!s) return;
  bayes_free(s->x);
  bayes_free(s->g);
  bayes_free(s->p);
  bayes_free(s->xt);
  bayes_free(s->gt);
  bayes_free(s->xlo);
  bayes_free(s->glo);
  bayes_free(s->xbest);
  bayes_free(s->gbest);
  bayes_free(s->S);
  bayes_free(s->Y);
  bayes_free(s->rho);
  bayes_free(s->a);
  bayes_free(s);
}

static double dot(const double *a, const double *b, size_t n)
{
  double r = 0;
  for (size_t i = 0; i < n; i++) r += a[i] * b[i];
  return r;
}

/* f and gradient at x; +inf when either is not finite (the caller only compares). */
static double eval(bayes_lbfgs *s, const double *x, double *g)
{
  s->evals++;
  double f = s->fn(s->ctx, x, g);
  if (!isfinite(f)) return INFINITY;
  for (size_t i = 0; i < s->n; i++)
    if (!isfinite(g[i])) return INFINITY;
  return f;
}

/* r = -H g by the two-loop recursion (N&W Alg. 7.4), H0 = gamma I. */
static void direction(bayes_lbfgs *s, const double *g, double *r)
{
  size_t n = s->n;
  for (size_t i = 0; i < n; i++) r[i] = -g[i];
  if (s->count == 0) return;
  int k = s->head;
  for (int j = 0; j < s->count; j++) { /* newest to oldest */
    const double *sj = s->S + (size_t)k * n, *yj = s->Y + (size_t)k * n;
    double a = s->rho[k] * dot(sj, r, n);
    s->a[k] = a;
    for (size_t i = 0; i < n; i++) r[i] -= a * yj[i];
    k = (k + s->m - 1) % s->m;
  }
  for (size_t i = 0; i < n; i++) r[i] *= s->gamma;
  for (int j = 0; j < s->count; j++) { /* oldest to newest */
    k = (k + 1) % s->m;
    const double *sj = s->S + (size_t)k * n, *yj = s->Y + (size_t)k * n;
    double b = s->rho[k] * dot(yj, r, n);
    double c = s->a[k] - b;
    for (size_t i = 0; i < n; i++) r[i] += c * sj[i];
  }
}

/* Minimiser over [lo, hi] of the cubic c with c(0) = 0, c'(0) = d0, c(a) = df,
 * c'(a) = d1 (Hermite interpolation): c(t) = d0 t + b t^2 + e t^3 with
 * e = ((d0 + d1) a - 2 df) / a^3 and b = (3 df - (2 d0 + d1) a) / a^2. The minimum is at
 * an end of the interval or at a root of c'(t) = d0 + 2 b t + 3 e t^2 inside it. */
static double cubic_min(double d0, double a, double df, double d1, double lo, double hi)
{
  double e = ((d0 + d1) * a - 2 * df) / (a * a * a);
  double b = (3 * df - (2 * d0 + d1) * a) / (a * a);
#define CUBIC(t) ((t) * (d0 + (t) * (b + (t) * e)))
  double best = lo, fbest = CUBIC(lo);
  if (CUBIC(hi) < fbest) best = hi, fbest = CUBIC(hi);
  double roots[2];
  int nr = 0;
  if (fabs(e) > 0) {
    double disc = b * b - 3 * e * d0;
    if (disc >= 0) {
      double sq = sqrt(disc);
      roots[nr++] = (-b + sq) / (3 * e);
      roots[nr++] = (-b - sq) / (3 * e);
    }
  } else if (fabs(b) > 0) {
    roots[nr++] = -d0 / (2 * b);
  }
  for (int k = 0; k < nr; k++) {
    double t = roots[k];
    if (isfinite(t) && t > lo && t < hi && CUBIC(t) < fbest) best = t, fbest = CUBIC(t);
  }
#undef CUBIC
  return isfinite(best) ? best : hi;
}

/* A trial point of the line search: its step, phi and phi'. */
typedef struct {
  double a, f, d;
} trial;

static void try_step(bayes_lbfgs *s, double a, trial *t)
{
  for (size_t i = 0; i < s->n; i++) s->xt[i] = s->x[i] + a * s->p[i];
  t->a = a;
  t->f = eval(s, s->xt, s->gt);
  t->d = isfinite(t->f) ? dot(s->gt, s->p, s->n) : NAN;
}

/* Keeps the trial point (f below every earlier point of the search) as the lowest. */
static void keep_lo(bayes_lbfgs *s, double f)
{
  s->flo = f;
  memcpy(s->xlo, s->xt, s->n * sizeof(double));
  memcpy(s->glo, s->gt, s->n * sizeof(double));
}

/* True when steps a and b give the same point to working precision. */
static bool same_point(const bayes_lbfgs *s, double a, double b)
{
  double pmax = 0, xmax = 1;
  for (size_t i = 0; i < s->n; i++) {
    if (fabs(s->p[i]) > pmax) pmax = fabs(s->p[i]);
    if (fabs(s->x[i]) > xmax) xmax = fabs(s->x[i]);
  }
  return fabs(a - b) * pmax <= DBL_EPSILON * xmax;
}

/* N&W Alg. 3.6 (zoom) between lo (satisfies sufficient decrease, lowest f so far) and hi;
 * hi_ok is false when phi is not finite at hi (then the interval is bisected). Returns 0
 * with the accepted point in xt/gt and *acc, or -1. */
static int zoom(bayes_lbfgs *s, double f0, double d0, trial lo, trial hi, bool hi_ok,
                int *nev, trial *acc)
{
  double width = fabs(hi.a - lo.a);
  bool bisect = false;
  while (*nev < MAX_LS_EVALS) {
    if (same_point(s, lo.a, hi.a)) return -1;
    double aj;
    double amin = fmin(lo.a, hi.a), amax = fmax(lo.a, hi.a), w = amax - amin;
    if (!hi_ok || bisect) {
      aj = 0.5 * (lo.a + hi.a);
    } else {
      /* cubic interpolation (N&W eq. 3.59) with a_i-1 = lo, a_i = hi */
      double dd1 = lo.d + hi.d - 3 * (lo.f - hi.f) / (lo.a - hi.a);
      double r = dd1 * dd1 - lo.d * hi.d;
      if (r < 0) {
        aj = 0.5 * (lo.a + hi.a);
      } else {
        double dd2 = (hi.a > lo.a ? 1.0 : -1.0) * sqrt(r);
        aj = hi.a - (hi.a - lo.a) * (hi.d + dd2 - dd1) / (hi.d - lo.d + 2 * dd2);
      }
      /* safeguard: stay clear of the ends of the bracket */
      if (!(aj > amin + 0.01 * w && aj < amax - 0.01 * w)) aj = 0.5 * (lo.a + hi.a);
    }
    trial t;
    try_step(s, aj, &t);
    (*nev)++;
    if (!isfinite(t.f)) {
      hi = t;
      hi_ok = false;
    } else if (t.f > f0 + C1 * t.a * d0 || t.f >= lo.f) {
      hi = t;
      hi_ok = true;
    } else {
      if (fabs(t.d) <= -C2 * d0) {
        *acc = t;
        return 0;
      }
      if (t.d * (hi.a - lo.a) >= 0) {
        hi = lo;
        hi_ok = true;
      }
      lo = t;
      keep_lo(s, t.f);
    }
    /* bisect next time unless the bracket shrank by a third (a safeguard against
     * interpolation steps that creep along one end) */
    double nw = fabs(hi.a - lo.a);
    bisect = nw > (2.0 / 3.0) * width;
    width = nw;
  }
  return -1;
}

/* Strong Wolfe line search along p from x (N&W Alg. 3.5), starting at step a1.
 * Returns 0 with the accepted point in xt/gt (step in *alpha, phi'(alpha) in *d1), or -1
 * (the lowest point seen, if it decreased f, is in xlo/glo with s->flo < f). */
static int line_search(bayes_lbfgs *s, double a1, double *alpha, double *fnew, double *d1)
{
  double f0 = s->f, d0 = dot(s->g, s->p, s->n);
  s->flo = f0;
  if (!(d0 < 0)) return -1; /* not a descent direction */
  trial prev = {0, f0, d0};
  int nev = 0;
  double a = a1, amax = INFINITY; /* amax: the shortest step known to be non-finite */
  int rc = -1;
  trial acc = prev;
  for (int i = 1; nev < MAX_LS_EVALS; i++) {
    trial t;
    try_step(s, a, &t);
    nev++;
    if (!isfinite(t.f)) {
      /* outside the domain: shrink towards the last finite point */
      if (same_point(s, prev.a, a)) break;
      amax = a;
      a = prev.a + 0.5 * (a - prev.a);
      i--;
      continue;
    }
    if (t.f > f0 + C1 * a * d0 || (i > 1 && t.f >= prev.f)) {
      rc = zoom(s, f0, d0, prev, t, true, &nev, &acc);
      break;
    }
    keep_lo(s, t.f);
    if (fabs(t.d) <= -C2 * d0) {
      acc = t;
      rc = 0;
      break;
    }
    if (t.d >= 0) {
      rc = zoom(s, f0, d0, t, prev, true, &nev, &acc);
      break;
    }
    prev = t;
    /* longer steps; never past a known non-finite point (halve the distance to it) */
    a = fmin(a * EXPAND, a + 0.5 * (amax - a));
    if (!isfinite(a)) break;
  }
  if (rc == 0) {
    *alpha = acc.a;
    *fnew = acc.f;
    *d1 = acc.d;
    return 0;
  }
  return -1;
}

bayes_lbfgs_status bayes_lbfgs_init(bayes_lbfgs *s, bayes_lbfgs_fn fn, void *ctx,
                                    const double *x0)
{
  s->fn = fn;
  s->ctx = ctx;
  s->iter = 0;
  s->evals = 0;
  s->count = 0;
  s->head = 0;
  s->gamma = 1;
  s->have_prev = false;
  memcpy(s->x, x0, s->n * sizeof(double));
  s->f = eval(s, s->x, s->g);
  if (!isfinite(s->f)) {
    s->ready = false;
    s->done = BAYES_LBFGS_NONFINITE;
    return BAYES_LBFGS_NONFINITE;
  }
  direction(s, s->g, s->p);
  s->ready = true;
  s->done = BAYES_LBFGS_CONTINUE;
  return BAYES_LBFGS_CONTINUE;
}

/* The lowest point of the line search, if its f is below fbest, becomes the best. */
static void note_best(bayes_lbfgs *s)
{
  if (s->flo < s->fbest) {
    s->fbest = s->flo;
    memcpy(s->xbest, s->xlo, s->n * sizeof(double));
    memcpy(s->gbest, s->glo, s->n * sizeof(double));
  }
}

bayes_lbfgs_status bayes_lbfgs_iterate(bayes_lbfgs *s)
{
  if (!s->ready) return s->done == BAYES_LBFGS_CONTINUE ? BAYES_LBFGS_NONFINITE : s->done;
  if (s->done != BAYES_LBFGS_CONTINUE) return s->done;
  if (s->iter >= s->cfg.max_iter) return s->done = BAYES_LBFGS_MAX_ITER; /* max_iter 0 */
  size_t n = s->n;
  bool reset = s->count == 0;
  double a0;
  if (reset || !s->have_prev) {
    for (size_t i = 0; i < n; i++) s->p[i] = -s->g[i];
    a0 = s->cfg.init_alpha;
    reset = true;
  } else {
    a0 = fmin(1.0, 1.01 * cubic_min(s->prev_d0, s->prev_alpha, s->prev_df, s->prev_d1,
                                    MIN_ALPHA, 1.0));
    /* s->p already holds -H g from the end of the previous iteration */
  }
  double alpha = 0, fnew = 0, d1 = 0;
  s->fbest = s->f;
  int rc = line_search(s, a0, &alpha, &fnew, &d1);
  note_best(s);
  if (rc != 0 && !reset) {
    /* CmdStan's fallback: forget the history, step along -g from init_alpha */
    s->count = 0;
    reset = true;
    for (size_t i = 0; i < n; i++) s->p[i] = -s->g[i];
    rc = line_search(s, s->cfg.init_alpha, &alpha, &fnew, &d1);
    note_best(s);
  }
  if (rc != 0) {
    /* no acceptable step: stay at the best point seen (the lowest f) */
    if (s->fbest < s->f) {
      memcpy(s->x, s->xbest, n * sizeof(double));
      memcpy(s->g, s->gbest, n * sizeof(double));
      s->f = s->fbest;
    }
    s->done = BAYES_LBFGS_LINESEARCH;
    return s->done;
  }

  /* accept: s = xt - x, y = gt - g (in the line-search scratch xlo, glo until kept) */
  double d0 = dot(s->g, s->p, n);
  if (reset) s->count = 0;
  double *sk = s->xlo, *yk = s->glo;
  double snorm2 = 0, gnorm2 = 0;
  for (size_t i = 0; i < n; i++) {
    sk[i] = s->xt[i] - s->x[i];
    yk[i] = s->gt[i] - s->g[i];
    snorm2 += sk[i] * sk[i];
    gnorm2 += s->gt[i] * s->gt[i];
  }
  double sy = dot(sk, yk, n), yy = dot(yk, yk, n);
  double fold = s->f;
  memcpy(s->x, s->xt, n * sizeof(double));
  memcpy(s->g, s->gt, n * sizeof(double));
  s->f = fnew;
  s->iter++;

  /* the next initial step: this line's cubic, in the scale of the next direction (after a
   * reset the direction was -g rather than -gamma g: rescale as CmdStan does) */
  s->prev_d0 = d0;
  s->prev_d1 = d1;
  s->prev_df = fnew - fold;
  s->prev_alpha = alpha;
  s->have_prev = true;
  if (sy > CURV_EPS * yy) {
    int slot = s->count == 0 ? 0 : (s->head + 1) % s->m;
    memcpy(s->S + (size_t)slot * n, sk, n * sizeof(double));
    memcpy(s->Y + (size_t)slot * n, yk, n * sizeof(double));
    s->rho[slot] = 1 / sy;
    s->gamma = sy / yy;
    s->head = slot;
    if (s->count < s->m) s->count++;
    if (reset) {
      s->prev_d0 *= s->gamma;
      s->prev_d1 *= s->gamma;
      s->prev_alpha /= s->gamma;
    }
  }
  direction(s, s->g, s->p);

  /* CmdStan's convergence tests, in its order */
  double df = fabs(fold - s->f);
  bayes_lbfgs_status st = BAYES_LBFGS_CONTINUE;
  if (df < s->cfg.tol_obj)
    st = BAYES_LBFGS_TOL_OBJ;
  else if (sqrt(gnorm2) < s->cfg.tol_grad)
    st = BAYES_LBFGS_TOL_GRAD;
  else if (sqrt(snorm2) < s->cfg.tol_param)
    st = BAYES_LBFGS_TOL_PARAM;
  else if (s->iter >= s->cfg.max_iter)
    st = BAYES_LBFGS_MAX_ITER;
  else if (df / fmax(fmax(fabs(fold), fabs(s->f)), 1.0) < s->cfg.tol_rel_obj * DBL_EPSILON)
    st = BAYES_LBFGS_TOL_REL_OBJ;
  else if (-dot(s->p, s->g, n) / fmax(fabs(s->f), 1.0) < s->cfg.tol_rel_grad * DBL_EPSILON)
    st = BAYES_LBFGS_TOL_REL_GRAD;
  s->done = st;
  return st;
}

const double *bayes_lbfgs_x(const bayes_lbfgs *s) { return s->x; }
const double *bayes_lbfgs_grad(const bayes_lbfgs *s) { return s->g; }
double bayes_lbfgs_f(const bayes_lbfgs *s) { return s->f; }
long bayes_lbfgs_iterations(const bayes_lbfgs *s) { return s->iter; }
long bayes_lbfgs_evals(const bayes_lbfgs *s) { return s->evals; }
