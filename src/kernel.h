/* kernel.h — covariance kernels of Gaussian processes (spec §6) and the gp_cov op that
 * evaluates a kernel expression (sums, products and scalings of kernel calls) over all
 * pairs of points in ONE instruction, with reverse mode for hyperparameters and latent
 * inputs. The compiler builds the expression tree; nothing here parses or allocates at
 * run time.
 *
 * CONVENTIONS (Stan's; alpha / sigma are marginal standard deviations). For points x, x'
 * of dimension D, r = |x - x'| (Euclidean). Stationary kernels with an ARD lengthscale
 * vector ell[D] use the scaled distance u, u² = sum_d ((x_d - x'_d) / ell_d)²; with a
 * scalar ell, u = r / ell.
 *
 *   rbf(ell, alpha = 1)           alpha² exp(-u²/2)                    Stan gp_exp_quad_cov
 *   matern12(ell, alpha = 1)      alpha² exp(-u)                       Stan gp_exponential_cov
 *   matern32(ell, alpha = 1)      alpha² (1 + √3 u) exp(-√3 u)         Stan gp_matern32_cov
 *   matern52(ell, alpha = 1)      alpha² (1 + √5 u + 5u²/3) exp(-√5 u) Stan gp_matern52_cov
 *   rational_quadratic(ell, alpha = 1, a = 1)
 *                                 alpha² (1 + u²/(2a))^(-a)
 *       = ConstantKernel(alpha²) * sklearn RationalQuadratic(length_scale=ell, alpha=a).
 *   periodic(ell, alpha = 1, period)   [ell scalar only, no ARD]
 *                                 alpha² exp(-2 sin²(π r / period) / ell²)  Stan gp_periodic_cov
 *       Other libraries (checked against their source):
 *       - sklearn ExpSineSquared(length_scale=l, periodicity=p): exp(-2 sin²(π d/p)/l²),
 *         d Euclidean: identical, l = ell, p = period (times ConstantKernel(alpha²)).
 *       - GPyTorch PeriodicKernel: exp(-2 Σ_d sin²(π (x_d - x'_d)/p) / λ) — λ is NOT
 *         squared and the sum is over dimensions, not of the Euclidean distance. For D = 1
 *         it is ours with λ = ell²; for D > 1 it is a different kernel.
 *       - GPflow 2 Periodic(SquaredExponential(variance=v, lengthscales=l), period=p):
 *         v exp(-0.5 Σ_d sin²(π (x_d - x'_d)/p) / l²) (K_r2 of the scaled sines). For D = 1
 *         it is ours with l = ell / 2, v = alpha² (NOT l = ell: GPflow absorbs the factor 4
 *         of MacKay's form into l). For D > 1 it differs as GPyTorch's does.
 *       For D > 1 this Euclidean-distance form (Stan's, sklearn's) is not positive
 *       definite in general: a periodic radial function cannot be (Schoenberg). Use a
 *       product of 1-D periodic kernels of single columns for multi-dimensional periodicity.
 *   linear(sigma = 0)             sigma² + x·x'                        Stan gp_dot_prod_cov
 *   polynomial(degree, c = 1, alpha = 1)
 *                                 alpha² (x·x' + c)^degree, degree a compile-time integer
 *                                 constant in 0..BAYES_KERNEL_MAX_DEGREE (sklearn's
 *                                 polynomial_kernel with gamma = 1, coef0 = c).
 *   white(sigma)                  sigma² on the diagonal of gp_cov(x) only (the same point
 *                                 of the same data); 0 in cross-covariances gp_cov(x1, x2),
 *                                 even where two points happen to coincide.
 *   constant(alpha)               alpha²
 *
 * Domain: lengthscales, period and a must be finite and > 0 (else the op fails, as Stan's
 * checks do); magnitudes (alpha, sigma) and c must be finite, any sign (only alpha² enters).
 *
 * Gradients at coincident points: matern12 is not differentiable in x at x == x' (a cusp);
 * the op returns 0 there (the symmetric subgradient), and for its lengthscale the limit,
 * which is 0. All other kernels are smooth there and use the limit.
 */
#ifndef BAYES_KERNEL_H
#define BAYES_KERNEL_H

#include <stddef.h>

#include "tape.h"

#define BAYES_KERNEL_MAX_HYPER 8
/* Largest polynomial degree accepted (higher powers of x·x' overflow for ordinary data and
 * make ill-conditioned covariances anyway). */
#define BAYES_KERNEL_MAX_DEGREE 32
/* Largest kernel expression (nodes: calls, +, *, scalings) in one gp_cov; the op walks the
 * tree recursively per pair of points, so this also bounds its stack depth. */
#define BAYES_KEXPR_MAX_NODES 256

/* One pair of points seen by a kernel. */
typedef struct bayes_kpair {
  const double *x1, *x2;  /* D coordinates each */
  size_t d;
  int same;               /* 1: the same point of the same data set (white applies) */
} bayes_kpair;

typedef struct bayes_kernel_type {
  const char *name;                 /* "rbf", ... */
  int nhyper;                       /* hyperparameters, at most BAYES_KERNEL_MAX_HYPER */
  int nhyper_min;                   /* fewest positional arguments accepted */
  const char *const *hyper_names;   /* nhyper names, for keyword arguments */
  /* nhyper defaults; NAN marks a required hyperparameter. A required one may sit after an
   * optional one (periodic(ell, alpha, period)): it must then be given by keyword when the
   * optional one is left out. The compiler checks that every NAN-default one is given. */
  const double *defaults;
  unsigned ard_mask;                /* bit k: hyperparameter k may be a vector of length D */
  unsigned pos_mask;                /* bit k: must be > 0 (checked at run time) */
  unsigned const_mask;              /* bit k: must be a compile-time integer constant
                                       (polynomial's degree; see bayes_kexpr_check_const) */
  /* Value at one pair. h[k]: hyperparameter k's values, hn[k] of them (1, or D for ARD). */
  double (*value)(const struct bayes_kernel_type *t, const bayes_kpair *p,
                  const double *const *h, const size_t *hn);
  /* Given g = adjoint of this kernel's value at the pair, ADD g * dk/dh_k into gh[k]
   * (hn[k] entries) and g * dk/dx1, g * dk/dx2 into gx1, gx2 (D entries); NULL: skip. */
  void (*grad)(const struct bayes_kernel_type *t, const bayes_kpair *p,
               const double *const *h, const size_t *hn, double g, double *const *gh,
               double *gx1, double *gx2);
  /* Shared by the stationary kernels of the scaled distance (rbf, Matérn, rational
   * quadratic), whose hyperparameters are (ell, alpha[, extra]): k = alpha² phi(q; extra)
   * with q = u². Returns phi; writes dphi/dq to *dq and dphi/dextra to *dextra when those
   * are not NULL. extra is h[2] (NULL when nhyper == 2). NULL for the other kernels. */
  double (*profile)(double q, const double *extra, double *dq, double *dextra);
} bayes_kernel_type;

/* Kernel registry: look up by name (NULL if unknown); the list is NULL-terminated. */
const bayes_kernel_type *bayes_kernel_find(const char *name);
extern const bayes_kernel_type *const bayes_kernels[];

typedef enum { BAYES_K_LEAF, BAYES_K_SUM, BAYES_K_PROD, BAYES_K_SCALE } bayes_kexpr_kind;

/* A kernel expression, built by the compiler in the program's arena (aux of the op).
 *   LEAF   a kernel call: type, and hyper_in[k] = index INTO THE OP'S INPUTS (>= 2) of
 *          hyperparameter k, or -1 for "use type->defaults[k]" (only where not NAN).
 *   SUM    a + b;  PROD  a * b;  SCALE  s * a with s = input scale_in, a scalar. */
typedef struct bayes_kexpr {
  bayes_kexpr_kind kind;
  const bayes_kernel_type *type;          /* LEAF */
  int hyper_in[BAYES_KERNEL_MAX_HYPER];   /* LEAF; entries >= type->nhyper are ignored */
  int scale_in;                           /* SCALE */
  struct bayes_kexpr *a, *b;              /* SUM/PROD: operands; SCALE: a */
} bayes_kexpr;

/* gp_cov: inputs [x1, x2, hyperparameter inputs...]. A matrix x is [N, D] (rows are
 * points), a vector x is [N] (N one-dimensional points); x1 and x2 have the same D.
 * Output [N1, N2], K[i, j] = k(x1[i], x2[j]).
 *   aux     = const bayes_kexpr * (the root);
 *   iarg[0] = 1 when x2 is the same data as x1 (gp_cov(x)): then N1 == N2, white() adds
 *             on the diagonal, and only one triangle is computed. x2 should then be the
 *             same slot as x1 (a different slot with equal values also works).
 *   work    = bayes_gp_cov_work(...).
 * Gradients: every hyperparameter input (scalar or ARD vector), the scales, and x1 / x2
 * when they have adjoints (latent inputs). A single rbf with a scalar lengthscale,
 * optionally plus white(), takes a specialised path without per-pair calls (its bwd
 * reuses the output instead of recomputing exp); everything else walks the tree per pair
 * (products recompute their factors' values at the pair in bwd). The same kexpr node may
 * appear twice in a tree (it is walked twice). */
extern const bayes_op bayes_op_gp_cov;

/* Doubles of scratch the op needs (set ins->work to this). */
size_t bayes_gp_cov_work(const bayes_kexpr *k, size_t n1, size_t n2, size_t d,
                         int nhyper_inputs);

/* Validates the tree against the op's input shapes (in_shapes[0..nin-1], x1 and x2
 * first) for dimension d: hyper_in / scale_in in range, defaults exist where a
 * hyperparameter is missing, scalars where scalars are needed, ARD vectors of length d,
 * x1 / x2 vectors (d = 1) or [N, d] matrices, tree size <= BAYES_KEXPR_MAX_NODES.
 * Returns 0, or -1 with a message ("rbf: ell must be a scalar or a vector of length 2
 * (one per input dimension), got [3]") in err. */
int bayes_kexpr_check(const bayes_kexpr *k, const bayes_shape *const *in_shapes, int nin,
                      size_t d, char *err, size_t errlen);
/* Validates const_mask hyperparameters: in_cvals[i] is input i's value when known at
 * compile time, else NULL. Returns 0, or -1 with a message in err. */
int bayes_kexpr_check_const(const bayes_kexpr *k, const double *const *in_cvals, int nin,
                            char *err, size_t errlen);
/* Number of nodes of the tree. */
int bayes_kexpr_size(const bayes_kexpr *k);

#endif
