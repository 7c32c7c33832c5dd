/* ops_hmm.c — hmm_marginal(log_omega, Gamma, rho): the log marginal likelihood of a hidden
 * Markov model by the scaled forward algorithm, with reverse mode by the backward
 * recursion. Semantics follow Stan's functions reference; fwd/bwd never allocate. */
#include <math.h>
#include <string.h>

#include "func.h"

/* Layout of the work area for K states and N time points (all written by fwd, read by
 * bwd): om[N*K] scaled emissions exp(log_omega[k, t] - max_k log_omega[., t]) stored
 * time-major, a[N*K] normalised forward variables, c[N] their normalisers, and three
 * K-vectors for the backward pass. */
static size_t hmm_work(size_t K, size_t N) { return 2 * K * N + N + 3 * K; }

/* Forward algorithm with per-step normalisation (Rabiner 1989, "A tutorial on hidden
 * Markov models", Proc. IEEE 77(2), eqs. 19-20 and section V.A on scaling):
 *   alpha_1(j) = rho_j omega_j1,  alpha_t(j) = omega_jt sum_i alpha_{t-1}(i) Gamma_ij,
 *   p = sum_j alpha_N(j).
 * Each column of omega is divided by its largest entry e^{m_t} and each alpha_t by its sum
 * c_t, so log p = sum_t (m_t + log c_t) never under- or overflows.
 * The inputs are not required to be simplexes (the simplex constraint of the parameters
 * ensures that); the function is the polynomial above for any non-negative Gamma, rho,
 * which is also what the gradient differentiates. */
static void hmm_fwd(const bayes_bound *b)
{
  size_t K = b->xs[0]->dim[0], N = b->xs[0]->dim[1];
  const double *lo = b->x[0], *G = b->x[1], *rho = b->x[2];
  double *om = b->work, *a = om + K * N, *c = a + K * N;
  for (size_t i = 0; i < K * K; i++)
    if (!(G[i] >= 0)) {
      bayes_exec_fail(b, "hmm_marginal: Gamma[%zu, %zu] = %g is not a probability", i / K + 1,
                      i % K + 1, G[i]);
      b->y[0][0] = NAN;
      return;
    }
  double rs = 0;
  for (size_t k = 0; k < K; k++) {
    if (!(rho[k] >= 0)) {
      bayes_exec_fail(b, "hmm_marginal: rho[%zu] = %g is not a probability", k + 1, rho[k]);
      b->y[0][0] = NAN;
      return;
    }
    rs += rho[k];
  }
  if (N == 0) { /* no observations: the probability of any start */
    b->y[0][0] = log(rs);
    return;
  }
  double lp = 0;
  for (size_t t = 0; t < N; t++) {
    double m = -INFINITY;
    for (size_t k = 0; k < K; k++) {
      double v = lo[k * N + t];
      if (isnan(v) || v == INFINITY) {
        bayes_exec_fail(b, "hmm_marginal: log_omega[%zu, %zu] = %g", k + 1, t + 1, v);
        b->y[0][0] = NAN;
        return;
      }
      if (v > m) m = v;
    }
    if (m == -INFINITY) { /* no state can emit observation t */
      b->y[0][0] = -INFINITY;
      return;
    }
    double *ot = om + t * K, *at = a + t * K, s = 0;
    for (size_t k = 0; k < K; k++) ot[k] = exp(lo[k * N + t] - m);
    for (size_t j = 0; j < K; j++) {
      double v;
      if (t == 0) {
        v = rho[j];
      } else {
        const double *ap = at - K;
        v = 0;
        for (size_t i = 0; i < K; i++) v += ap[i] * G[i * K + j];
      }
      at[j] = v * ot[j];
      s += at[j];
    }
    if (!(s > 0)) {
      b->y[0][0] = -INFINITY;
      return;
    }
    for (size_t j = 0; j < K; j++) at[j] /= s;
    c[t] = s;
    lp += m + log(s);
  }
  b->y[0][0] = lp;
}

/* Backward recursion with the same scaling (Rabiner 1989, eqs. 24-25): beta_N = 1,
 *   beta_t(i) = sum_j Gamma_ij omega'_{j,t+1} beta_{t+1}(j) / c_{t+1},
 * so that sum_k a_t(k) beta_t(k) = 1 and, writing u_t(j) = omega'_jt beta_t(j) / c_t,
 *   d log p / d log_omega[k, t] = a_t(k) beta_t(k)          (posterior state marginal)
 *   d log p / d Gamma_ij        = sum_{t>1} a_{t-1}(i) u_t(j)
 *   d log p / d rho_k           = u_1(k).
 * At log p = -inf the gradient is undefined and nothing is added. */
static void hmm_bwd(const bayes_bound *b)
{
  size_t K = b->xs[0]->dim[0], N = b->xs[0]->dim[1];
  const double *G = b->x[1], *rho = b->x[2];
  double *glo = b->gx[0], *gG = b->gx[1], *grho = b->gx[2];
  double g = b->gy[0][0];
  if (!isfinite(b->y[0][0])) return;
  if (N == 0) {
    double rs = 0;
    for (size_t k = 0; k < K; k++) rs += rho[k];
    if (grho)
      for (size_t k = 0; k < K; k++) grho[k] += g / rs;
    return;
  }
  const double *om = b->work, *a = om + K * N, *c = a + K * N;
  double *beta = (double *)c + N, *nb = beta + K, *u = nb + K;
  for (size_t k = 0; k < K; k++) beta[k] = 1.0;
  for (size_t t = N; t-- > 0;) {
    const double *at = a + t * K, *ot = om + t * K;
    if (glo)
      for (size_t k = 0; k < K; k++) glo[k * N + t] += g * at[k] * beta[k];
    for (size_t j = 0; j < K; j++) u[j] = ot[j] * beta[j] / c[t];
    if (t == 0) {
      if (grho)
        for (size_t k = 0; k < K; k++) grho[k] += g * u[k];
      break;
    }
    const double *ap = at - K;
    for (size_t i = 0; i < K; i++) {
      double s = 0;
      for (size_t j = 0; j < K; j++) {
        if (gG) gG[i * K + j] += g * ap[i] * u[j];
        s += G[i * K + j] * u[j];
      }
      nb[i] = s;
    }
    memcpy(beta, nb, K * sizeof *beta);
  }
}

static const bayes_op op_hmm_marginal = {"hmm_marginal", hmm_fwd, hmm_bwd, NULL};

static int hmm_emit(bayes_fnctx *c, int nargs, const bayes_fnarg *args, int *out)
{
  bayes_shape lo = *args[0].shape, G = *args[1].shape, rho = *args[2].shape;
  char b1[64], b2[64];
  if (lo.rank != 2 || lo.dim[0] == 0) {
    bayes_fn_error(c, &args[0], "hmm_marginal: log_omega must be a [K, N] matrix with K >= 1 "
                   "states, got %s", bayes_shape_str(&lo, b1, sizeof b1));
    return -1;
  }
  size_t K = lo.dim[0], N = lo.dim[1];
  bayes_shape want = bayes_shape_mat(K, K);
  if (!bayes_shape_eq(&G, &want)) {
    bayes_fn_error(c, &args[1], "hmm_marginal: Gamma must be [%zu, %zu] to match log_omega "
                   "%s, got %s", K, K, bayes_shape_str(&lo, b1, sizeof b1),
                   bayes_shape_str(&G, b2, sizeof b2));
    return -1;
  }
  want = bayes_shape_vec(K);
  if (!bayes_shape_eq(&rho, &want)) {
    bayes_fn_error(c, &args[2], "hmm_marginal: rho must be [%zu] to match log_omega %s, got %s",
                   K, bayes_shape_str(&lo, b1, sizeof b1), bayes_shape_str(&rho, b2, sizeof b2));
    return -1;
  }
  /* Known probabilities are checked once, as Stan does (to 1e-8): every row of Gamma and
   * rho must be a simplex. Values that depend on parameters come from simplex-constrained
   * parameters in practice; checking them per evaluation would also defeat finite
   * differences, so they are not checked. */
  for (int a = 1; a <= 2; a++) {
    const double *v = args[a].cval;
    if (!v) continue;
    size_t rows = a == 1 ? K : 1;
    for (size_t r = 0; r < rows; r++) {
      double sum = 0;
      for (size_t j = 0; j < K; j++) {
        double x = v[r * K + j];
        if (!(x >= 0)) {
          bayes_fn_error(c, &args[a], "hmm_marginal: %s%.0zu has a negative or NaN element "
                         "(%g); it must hold probabilities", a == 1 ? "row " : "rho",
                         a == 1 ? r + 1 : 0, x);
          return -1;
        }
        sum += x;
      }
      if (fabs(sum - 1) > 1e-8) {
        if (a == 1)
          bayes_fn_error(c, &args[a], "hmm_marginal: row %zu of Gamma sums to %.15g, not 1 "
                         "(each row is the distribution of the next state)", r + 1, sum);
        else
          bayes_fn_error(c, &args[a], "hmm_marginal: rho sums to %.15g, not 1 (it is the "
                         "distribution of the first state)", sum);
        return -1;
      }
    }
  }
  int in[3] = {args[0].slot, args[1].slot, args[2].slot};
  bayes_shape o = bayes_shape_scalar();
  int i = bayes_fn_emit(c, &op_hmm_marginal, 3, in, 1, &o, false);
  if (i < 0) return -1;
  c->prog->ins[i].work = hmm_work(K, N);
  *out = c->prog->ins[i].out[0];
  return 0;
}

static const char *const hmm_args[] = {"log_omega", "Gamma", "rho", NULL};
static const bayes_fn fn_hmm_marginal = {"hmm_marginal", 3, 3, hmm_args, hmm_emit};

const bayes_fn *const bayes_fns_hmm[] = {&fn_hmm_marginal, NULL};
