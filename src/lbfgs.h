/* lbfgs.h — limited-memory BFGS minimisation for the optimisation and Pathfinder backends:
 * the two-loop recursion (Nocedal & Wright 2006, "Numerical Optimization", Alg. 7.4 and
 * 7.5) with a line search satisfying the strong Wolfe conditions (ibid., Alg. 3.5 and
 * 3.6, cubic interpolation) and CmdStan's five convergence tests with its defaults.
 * Own code rather than GSL's multimin: GSL has no limited-memory method (its bfgs2 keeps
 * only the last step), gives no access to the (s, y) history that Pathfinder needs, and has
 * none of CmdStan's relative tests. alloc / init / iterate / free like GSL's solvers: the
 * caller owns the loop. Never allocates after alloc; never prints. */
#ifndef BAYES_LBFGS_H
#define BAYES_LBFGS_H

#include <stdbool.h>
#include <stddef.h>

/* The objective to MINIMISE: returns f(x) and writes its gradient. A non-finite value
 * (outside the support) makes the line search shrink its step. */
typedef double (*bayes_lbfgs_fn)(void *ctx, const double *x, double *grad);

/* Settings, with CmdStan's defaults from bayes_lbfgs_defaults(). */
typedef struct {
  int history;           /* 5: (s, y) pairs kept */
  long max_iter;         /* 2000 */
  double init_alpha;     /* 0.001: the first line search (and the one after a reset)
                          * starts at x - init_alpha g; later ones at CmdStan's
                          * min(1, 1.01 x the previous line's cubic minimiser) */
  double tol_obj;        /* 1e-12: |f_k - f_k-1| */
  double tol_rel_obj;    /* 1e4: |f_k - f_k-1| / max(|f_k|, |f_k-1|, 1), in units of
                          * DBL_EPSILON */
  double tol_grad;       /* 1e-8: ||g||_2 (CmdStan tests the Euclidean norm) */
  double tol_rel_grad;   /* 1e7: g' H^-1 g / max(|f|, 1) with the L-BFGS inverse Hessian,
                          * in units of DBL_EPSILON */
  double tol_param;      /* 1e-8: ||x_k - x_k-1||_2 */
} bayes_lbfgs_cfg;

void bayes_lbfgs_defaults(bayes_lbfgs_cfg *cfg);

typedef enum {
  BAYES_LBFGS_CONTINUE = 0,  /* not finished: iterate again */
  BAYES_LBFGS_TOL_OBJ,       /* converged: ... (the five tests, as CmdStan reports them;
                              * tested in CmdStan's order: obj, grad, param, then the
                              * iteration limit, then rel_obj, rel_grad) */
  BAYES_LBFGS_TOL_REL_OBJ,
  BAYES_LBFGS_TOL_GRAD,
  BAYES_LBFGS_TOL_REL_GRAD,
  BAYES_LBFGS_TOL_PARAM,
  BAYES_LBFGS_MAX_ITER,      /* not converged: the iteration limit was reached */
  BAYES_LBFGS_LINESEARCH,    /* not converged: no step along the search direction decreased
                              * f enough (after restarting once along -g) */
  BAYES_LBFGS_NONFINITE      /* init: f or its gradient is not finite at the start */
} bayes_lbfgs_status;

bool bayes_lbfgs_converged(bayes_lbfgs_status st);
/* CmdStan's plain sentence for a status ("Convergence detected: relative gradient
 * magnitude is below tolerance", "Maximum number of iterations hit, may not be at an
 * optima", ...). */
const char *bayes_lbfgs_describe(bayes_lbfgs_status st);

typedef struct bayes_lbfgs bayes_lbfgs;

/* NULL on out of memory or a bad cfg (history < 1, negative tolerances). */
bayes_lbfgs *bayes_lbfgs_alloc(size_t n, const bayes_lbfgs_cfg *cfg);
void bayes_lbfgs_free(bayes_lbfgs *s);
/* Starts at x0 (n values): evaluates f there. Returns BAYES_LBFGS_CONTINUE, or
 * BAYES_LBFGS_NONFINITE if f(x0) or its gradient is not finite. */
bayes_lbfgs_status bayes_lbfgs_init(bayes_lbfgs *s, bayes_lbfgs_fn fn, void *ctx,
                                    const double *x0);
/* One iteration (a search direction, a line search, a history update, the convergence
 * tests). Returns CONTINUE while not finished, else the reason it stopped; after a
 * LINESEARCH or MAX_ITER stop the current point is the best point found. */
bayes_lbfgs_status bayes_lbfgs_iterate(bayes_lbfgs *s);

const double *bayes_lbfgs_x(const bayes_lbfgs *s);     /* current point */
const double *bayes_lbfgs_grad(const bayes_lbfgs *s);  /* gradient of f there */
double bayes_lbfgs_f(const bayes_lbfgs *s);
long bayes_lbfgs_iterations(const bayes_lbfgs *s);     /* completed iterations */
long bayes_lbfgs_evals(const bayes_lbfgs *s);          /* calls of fn */

#endif
