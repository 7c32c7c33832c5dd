/* test_compile.c — what the compiler makes of a model, through the public API (bayes.h):
 * constant folding of data-only quantities, golden dumps of eight schools, parameter
 * information and the transforms chosen from priors and bounds, the values of
 * comprehensions, recur, vector literals, slicing and indexing, and deterministic
 * compilation. Expected values are typed here by hand, never taken from the compiler. */
#include <check.h>

#include "testutil.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>

#include "bayes.h"




static void rtrim(char *s)
{
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = '\0';
}

/* ---- constant folding ---- */

/* Whether an instruction of the per-evaluation tape (the dump up to its first "; "
 * section line after the header) applies op: "%8 = log(...)" or, for elementwise unary
 * ops, "%8 = unary(...)log". */
static bool tape_has_op(const char *tape, const char *op)
{
  const char *end = strstr(tape + 1, "\n; ");
  size_t ol = strlen(op);
  for (const char *l = tape; l && *l && (!end || l < end);) {
    const char *nl = strchr(l, '\n'), *eq = strstr(l, " = ");
    size_t len = nl ? (size_t)(nl - l) : strlen(l);
    if (eq && eq < l + len) {
      const char *o = eq + 3, *par = strchr(o, '(');
      if (par && (size_t)(par - o) == ol && strncmp(o, op, ol) == 0) return true;
      if (strncmp(o, "unary(", 6) == 0) {
        /* the op name follows the argument list */
        const char *p2 = o + 6;
        int depth = 1;
        while (p2 < l + len && depth) {
          if (*p2 == '(') depth++;
          if (*p2 == ')') depth--;
          p2++;
        }
        if (strncmp(p2, op, ol) == 0 && (p2[ol] == ' ' || p2[ol] == '\n' || p2[ol] == '\0'))
          return true;
      }
    }
    l = nl ? nl + 1 : NULL;
  }
  return false;
}

static const char *summary_line(const char *summary, const char *name, char *buf, size_t len)
{
  const char *p = summary;
  size_t nl = strlen(name);
  while ((p = strstr(p, name)) != NULL) {
    if ((p == summary || p[-1] == ' ' || p[-1] == '\n') && p[nl] == ' ') {
      const char *b = p, *e = strchr(p, '\n');
      while (b > summary && b[-1] != '\n') b--;
      size_t n = e ? (size_t)(e - b) : strlen(b);
      if (n >= len) n = len - 1;
      memcpy(buf, b, n);
      buf[n] = '\0';
      return buf;
    }
    p += nl;
  }
  return NULL;
}

START_TEST(test_fold_data_only)
{
  bayes_model *m = bt_load_text("model: fold\n"
                             "data:\n"
                             "  y: [1.5, 2.0, 4.0]\n"
                             "transformed:\n"
                             "  log_y: log(y)\n"
                             "parameters:\n"
                             "  mu: normal(0, 1)\n"
                             "likelihood:\n"
                             "  log_y: normal(mu, 1)\n");
  char *tape = bayes_model_dump(m, "tape"), *sum = bayes_model_summary(m), line[512];
  ck_assert(tape && sum);
  ck_assert_msg(!tape_has_op(tape, "log"), "log(y) is evaluated per draw:\n%s", tape);
  ck_assert_msg(summary_line(sum, "log_y", line, sizeof line) != NULL, "no log_y in:\n%s", sum);
  ck_assert_msg(strstr(line, "computed once") != NULL, "log_y: '%s'", line);
  /* and it has the right value: the likelihood of log(y) */
  bayes_ws *w = bayes_ws_alloc(m);
  double mu = 0.25, lp;
  ck_assert_int_eq(bayes_ws_log_density(w, &mu, 0, &lp, NULL), 0);
  double want = -0.5 * log(2 * M_PI) - 0.5 * mu * mu;
  static const double y[3] = {1.5, 2.0, 4.0};
  for (int i = 0; i < 3; i++) want += -0.5 * log(2 * M_PI) - 0.5 * pow(log(y[i]) - mu, 2);
  ck_assert_double_eq_tol(lp, want, 1e-12);
  /* data-only quantities are not written per draw */
  ck_assert_uint_eq(bayes_model_nout(m), 1);
  bayes_ws_free(w);
  bayes_string_free(tape);
  bayes_string_free(sum);
  bayes_model_free(m);
}
END_TEST

START_TEST(test_fold_param_dependent)
{
  bayes_model *m = bt_load_text("model: nofold\n"
                             "data:\n"
                             "  y: [1.5, 2.0, 4.0]\n"
                             "parameters:\n"
                             "  s: half_normal(1)\n"
                             "transformed:\n"
                             "  log_s: log(s)\n"
                             "likelihood:\n"
                             "  y: normal(log_s, 1)\n");
  char *tape = bayes_model_dump(m, "tape"), *sum = bayes_model_summary(m), line[512];
  ck_assert_msg(tape_has_op(tape, "log"), "log(s) is missing from the tape:\n%s", tape);
  ck_assert(summary_line(sum, "log_s", line, sizeof line) != NULL);
  ck_assert_msg(strstr(line, "computed once") == NULL && strstr(line, "per draw") != NULL,
                "log_s: '%s'", line);
  ck_assert_uint_eq(bayes_model_nout(m), 2);
  ck_assert_str_eq(bayes_model_out_name(m, 1), "log_s");
  bayes_string_free(tape);
  bayes_string_free(sum);
  bayes_model_free(m);
}
END_TEST

START_TEST(test_fold_poisson_glm)
{
  bayes_model *m = bt_load_rel("models/poisson_glm.yaml");
  char *tape = bayes_model_dump(m, "tape"), *sum = bayes_model_summary(m), line[512];
  ck_assert_msg(!tape_has_op(tape, "log"), "log(exposure) is evaluated per draw:\n%s", tape);
  ck_assert(summary_line(sum, "log_exposure", line, sizeof line) != NULL);
  ck_assert(strstr(line, "computed once") != NULL);
  bayes_string_free(tape);
  bayes_string_free(sum);
  bayes_model_free(m);
}
END_TEST

/* ---- golden dumps ---- */

static void golden(const char *what)
{
  bayes_model *m = bt_load_rel("models/eight_schools.yaml");
  char *got = bayes_model_dump(m, what), p[1024];
  ck_assert(got != NULL);
  snprintf(p, sizeof p, "%s/tests/data/eight_schools.%s.expected", bt_srcdir(), what);
  char *want = bt_slurp(p);
  rtrim(got);
  rtrim(want);
  ck_assert_msg(strcmp(got, want) == 0, "--dump %s differs from %s:\n--- got\n%s\n--- expected\n%s",
                what, p, got, want);
  free(want);
  bayes_string_free(got);
  bayes_model_free(m);
}

START_TEST(test_golden_ast) { golden("ast"); }
END_TEST

START_TEST(test_golden_tape) { golden("tape"); }
END_TEST

/* ---- parameter information ---- */

START_TEST(test_param_info_eight_schools)
{
  bayes_model *m = bt_load_rel("models/eight_schools.yaml");
  ck_assert_str_eq(bayes_model_name(m), "eight_schools");
  ck_assert_str_eq(bayes_model_description(m), "Rubin (1981), non-centred parameterisation.");
  ck_assert_uint_eq(bayes_model_dim(m), 10);
  ck_assert_uint_eq(bayes_model_nparams(m), 3);
  static const struct {
    const char *name, *tr, *prior;
    int rank;
    size_t size, off;
  } want[3] = {{"mu", "identity", "normal(0, 5)", 0, 1, 0},
               {"tau", "lower", "half_cauchy(5)", 0, 1, 1},
               {"eta", "identity", "normal(0, 1) [J]", 1, 8, 2}};
  for (size_t i = 0; i < 3; i++) {
    const bayes_param_info *p = bayes_model_param(m, i);
    ck_assert_str_eq(p->name, want[i].name);
    ck_assert_str_eq(p->transform, want[i].tr);
    ck_assert_str_eq(p->prior, want[i].prior);
    ck_assert_int_eq(p->rank, want[i].rank);
    ck_assert_uint_eq(p->size, want[i].size);
    ck_assert_uint_eq(p->unc_size, want[i].size);
    ck_assert_uint_eq(p->unc_offset, want[i].off);
  }
  ck_assert_uint_eq(bayes_model_param(m, 2)->dim[0], 8);
  const bayes_inference_info *inf = bayes_model_inference(m);
  ck_assert_str_eq(inf->method, "nuts");
  ck_assert(inf->has_chains && inf->chains == 4);
  ck_assert(inf->has_warmup && inf->warmup == 1000);
  ck_assert(inf->has_draws && inf->draws == 1000);
  ck_assert(inf->has_seed && inf->seed == 20261125);
  ck_assert(!inf->has_thin);
  bayes_model_free(m);
}
END_TEST

static const char *const transforms_model =
    "model: transforms\n"
    "data:\n"
    "  K: 3\n"
    "parameters:\n"
    "  tau: half_cauchy(5)\n"
    "  p: beta(2, 3)\n"
    "  w: dirichlet([1, 1, 1])\n"
    "  L: lkj_corr_cholesky(2) [K, K]\n"
    "  a: normal(0, 1)\n"
    "  u: uniform(a, a + 2)\n"
    "  c: {prior: normal(0, 5), shape: [K], constraint: ordered}\n"
    "  lo: {prior: normal(0, 1), lower: -1}\n"
    "  up: {prior: normal(0, 1), upper: 3}\n"
    "  hu: {prior: half_normal(1), upper: 5}\n"
    "  el: {prior: exponential(1), lower: 2}\n"
    "  both: {prior: student_t(3, 0, 1), lower: -2, upper: 0.5}\n"
    "  po: {prior: exponential(1), shape: [2], constraint: positive_ordered}\n"
    "  S: inv_wishart(4, [[1, 0], [0, 1]]) [2, 2]\n"
    "  v: normal(0, 1) [2, 3]\n";

START_TEST(test_param_transforms)
{
  bayes_model *m = bt_load_text(transforms_model);
  static const struct {
    const char *name, *tr;
    size_t size, unc;
  } want[] = {{"tau", "lower", 1, 1},          {"p", "lower_upper", 1, 1},
              {"w", "simplex", 3, 2},          {"L", "cholesky_corr", 9, 3},
              {"a", "identity", 1, 1},         {"u", "lower_upper", 1, 1},
              {"c", "ordered", 3, 3},          {"lo", "lower", 1, 1},
              {"up", "upper", 1, 1},           {"hu", "lower_upper", 1, 1},
              {"el", "lower", 1, 1},           {"both", "lower_upper", 1, 1},
              {"po", "positive_ordered", 2, 2}, {"S", "cov", 4, 3},
              {"v", "identity", 6, 6}};
  size_t np = sizeof want / sizeof *want, off = 0;
  ck_assert_uint_eq(bayes_model_nparams(m), np);
  for (size_t i = 0; i < np; i++) {
    const bayes_param_info *p = bayes_model_param(m, i);
    ck_assert_str_eq(p->name, want[i].name);
    ck_assert_msg(strcmp(p->transform, want[i].tr) == 0, "%s: transform %s, expected %s",
                  p->name, p->transform, want[i].tr);
    ck_assert_uint_eq(p->size, want[i].size);
    ck_assert_uint_eq(p->unc_size, want[i].unc);
    ck_assert_uint_eq(p->unc_offset, off);
    off += want[i].unc;
  }
  ck_assert_uint_eq(bayes_model_dim(m), off);
  const bayes_param_info *v = bayes_model_param(m, np - 1);
  ck_assert_int_eq(v->rank, 2);
  ck_assert_uint_eq(v->dim[0], 2);
  ck_assert_uint_eq(v->dim[1], 3);

  /* The bounds really are the ones chosen: push every coordinate far out both ways. */
  size_t n = bayes_model_dim(m), nout = bayes_model_nout(m);
  double *theta = calloc(n, sizeof *theta), *out = calloc(nout, sizeof *out);
  bayes_ws *w = bayes_ws_alloc(m);
  for (int sgn = -1; sgn <= 1; sgn += 2) {
    for (size_t i = 0; i < n; i++) theta[i] = 0.3 * sgn;
    /* a = theta[a]; only the scalar bounded ones are pushed to the edge */
    static const char *const edge[] = {"tau", "p", "u", "lo", "up", "hu", "el", "both"};
    for (size_t e = 0; e < sizeof edge / sizeof *edge; e++)
      for (size_t i = 0; i < np; i++)
        if (strcmp(bayes_model_param(m, i)->name, edge[e]) == 0)
          theta[bayes_model_param(m, i)->unc_offset] = 25.0 * sgn;
    ck_assert_int_eq(bayes_ws_outputs(w, theta, NULL, out), 0);
    double a = out[1 + 1 + 3 + 9];
    double tau = out[0], p = out[1], u = out[15], lo = out[19], up = out[20], hu = out[21],
           el = out[22], both = out[23];
    if (sgn > 0) {
      ck_assert(tau > 1e9);
      ck_assert(p < 1 && p > 1 - 1e-9);
      ck_assert(u < a + 2 && u > a + 2 - 1e-9);
      ck_assert(lo > 1e9);
      ck_assert(up < -1e9); /* Stan: x = U - exp(u) */
      ck_assert(hu < 5 && hu > 5 - 1e-9);
      ck_assert(el > 1e9);
      ck_assert(both < 0.5 && both > 0.5 - 1e-9);
    } else {
      ck_assert(tau > 0 && tau < 1e-9);
      ck_assert(p > 0 && p < 1e-9);
      ck_assert(u > a && u < a + 1e-9);
      ck_assert(lo > -1 && lo < -1 + 1e-9);
      ck_assert(up < 3 && up > 3 - 1e-9);
      ck_assert(hu > 0 && hu < 1e-9);
      ck_assert(el > 2 && el < 2 + 1e-9);
      ck_assert(both > -2 && both < -2 + 1e-9);
    }
  }
  /* names of the outputs at the checked positions */
  ck_assert_str_eq(bayes_model_out_name(m, 14), "a");
  ck_assert_str_eq(bayes_model_out_name(m, 15), "u");
  ck_assert_str_eq(bayes_model_out_name(m, 23), "both");
  bayes_ws_free(w);
  free(out);
  free(theta);
  bayes_model_free(m);
}
END_TEST

/* ---- values of expressions ---- */

static size_t out_named(const bayes_model *m, const char *name)
{
  for (size_t i = 0; i < bayes_model_nout(m); i++)
    if (strcmp(bayes_model_out_name(m, i), name) == 0) return i;
  ck_abort_msg("no output named %s", name);
  return 0;
}

static void expect(const bayes_model *m, const double *out, const char *name, double want)
{
  double got = out[out_named(m, name)];
  ck_assert_msg(fabs(got - want) <= 1e-12 * (1 + fabs(want)), "%s = %.17g, expected %.17g", name,
                got, want);
}

START_TEST(test_expression_values)
{
  bayes_model *m = bt_load_rel("tests/data/exprs.yaml");
  double a[5] = {0.5, -1.2, 2.0, 0.3, -0.7}, rho = 0.6, b[2] = {1.5, -0.25}, s = 0.8;
  const double *vals[4] = {a, &rho, b, &s};
  size_t n = bayes_model_dim(m), nout = bayes_model_nout(m);
  double *theta = calloc(n, sizeof *theta), *out = calloc(nout, sizeof *out);
  bayes_ws *w = bayes_ws_alloc(m);
  char err[256], nm[32];
  ck_assert_msg(bayes_ws_unconstrain(w, vals, theta, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(bayes_ws_outputs(w, theta, NULL, out), 0);
  /* recur: r1 = a1, r_t = rho r_{t-1} + a_t */
  double r = a[0];
  for (int t = 1; t <= 5; t++) {
    if (t > 1) r = rho * r + a[t - 1];
    snprintf(nm, sizeof nm, "r.%d", t);
    expect(m, out, nm, r);
    snprintf(nm, sizeof nm, "sq.%d", t);
    expect(m, out, nm, a[t - 1] * a[t - 1]);
  }
  expect(m, out, "r.5", (((0.5 * 0.6 - 1.2) * 0.6 + 2.0) * 0.6 + 0.3) * 0.6 - 0.7);
  expect(m, out, "lit.1", a[0]);
  expect(m, out, "lit.2", 2 * b[1]);
  expect(m, out, "lit.3", s);
  for (int i = 1; i <= 4; i++) {
    snprintf(nm, sizeof nm, "tail.%d", i);
    expect(m, out, nm, a[i]);
  }
  expect(m, out, "g.1", a[2]);
  expect(m, out, "g.2", a[0]);
  expect(m, out, "g.3", a[2]);
  static const double X[3][2] = {{1.0, 0.5}, {0.2, -1.0}, {0.7, 0.3}};
  for (int i = 0; i < 3; i++) {
    snprintf(nm, sizeof nm, "mu.%d", i + 1);
    expect(m, out, nm, X[i][0] * b[0] + X[i][1] * b[1]);
  }
  double z = exp(a[0]) + exp(a[1]) + exp(a[2]);
  for (int i = 0; i < 3; i++) {
    snprintf(nm, sizeof nm, "sm.%d", i + 1);
    expect(m, out, nm, exp(a[i]) / z);
  }
  double lse = 0;
  for (int i = 0; i < 5; i++) lse += exp(a[i]);
  expect(m, out, "lse", log(lse));
  double M[3][2] = {{a[0], a[1]}, {a[2], a[3]}, {a[4], s}};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++) {
      snprintf(nm, sizeof nm, "M.%d.%d", i + 1, j + 1);
      expect(m, out, nm, M[i][j]);
    }
  /* column-major: M.1.1, M.2.1, M.3.1, M.1.2, ... */
  size_t m0 = out_named(m, "M.1.1");
  ck_assert_str_eq(bayes_model_out_name(m, m0 + 1), "M.2.1");
  ck_assert_str_eq(bayes_model_out_name(m, m0 + 3), "M.1.2");
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      double v = 0;
      for (int k = 0; k < 3; k++) v += M[k][i] * X[k][j];
      snprintf(nm, sizeof nm, "P.%d.%d", i + 1, j + 1);
      expect(m, out, nm, v);
    }
  bayes_ws_free(w);
  free(out);
  free(theta);
  bayes_model_free(m);
}
END_TEST

START_TEST(test_indexing_values)
{
  bayes_model *m = bt_load_text("model: ix\n"
                             "data:\n"
                             "  idx: [3, 1]\n"
                             "  J: 2\n"
                             "parameters:\n"
                             "  B: normal(0, 1) [2, 3]\n"
                             "transformed:\n"
                             "  e1: B[2, 3]\n"
                             "  e2: B[2]\n"
                             "  e3: \"B[:, 2]\"\n"
                             "  e4: \"B[J, 2:3]\"\n"
                             "  e5: \"B[1:2, idx[2]]\"\n"
                             "  e6: \"B[1, idx]\"\n"
                             "  e7: t(B) @ B\n"
                             "  e8: cumulative_sum(B[1])\n"
                             "  e9: \"[B[1, j] * j for j in 1:3]\"\n"
                             "  e10: \"[[B[i, j] + 10 * i for j in 1:3] for i in 1:2]\"\n");
  double B[2][3] = {{0.5, -1.5, 2.25}, {3.0, 0.75, -0.125}};
  const double *vals[1] = {&B[0][0]};
  size_t n = bayes_model_dim(m), nout = bayes_model_nout(m);
  double *theta = calloc(n, sizeof *theta), *out = calloc(nout, sizeof *out);
  bayes_ws *w = bayes_ws_alloc(m);
  char err[256], nm[32];
  ck_assert_msg(bayes_ws_unconstrain(w, vals, theta, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(bayes_ws_outputs(w, theta, NULL, out), 0);
  /* B itself, column-major */
  static const char *const bn[6] = {"B.1.1", "B.2.1", "B.1.2", "B.2.2", "B.1.3", "B.2.3"};
  for (int k = 0; k < 6; k++) {
    ck_assert_str_eq(bayes_model_out_name(m, (size_t)k), bn[k]);
    ck_assert_double_eq(out[k], B[k % 2][k / 2]);
  }
  expect(m, out, "e1", B[1][2]);
  for (int j = 0; j < 3; j++) {
    snprintf(nm, sizeof nm, "e2.%d", j + 1);
    expect(m, out, nm, B[1][j]);
  }
  expect(m, out, "e3.1", B[0][1]);
  expect(m, out, "e3.2", B[1][1]);
  expect(m, out, "e4.1", B[1][1]);
  expect(m, out, "e4.2", B[1][2]);
  expect(m, out, "e5.1", B[0][0]);
  expect(m, out, "e5.2", B[1][0]);
  expect(m, out, "e6.1", B[0][2]);
  expect(m, out, "e6.2", B[0][0]);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      snprintf(nm, sizeof nm, "e7.%d.%d", i + 1, j + 1);
      expect(m, out, nm, B[0][i] * B[0][j] + B[1][i] * B[1][j]);
    }
  expect(m, out, "e8.1", B[0][0]);
  expect(m, out, "e8.2", B[0][0] + B[0][1]);
  expect(m, out, "e8.3", B[0][0] + B[0][1] + B[0][2]);
  for (int j = 0; j < 3; j++) {
    snprintf(nm, sizeof nm, "e9.%d", j + 1);
    expect(m, out, nm, B[0][j] * (j + 1));
  }
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++) {
      snprintf(nm, sizeof nm, "e10.%d.%d", i + 1, j + 1);
      expect(m, out, nm, B[i][j] + 10 * (i + 1));
    }
  bayes_ws_free(w);
  free(out);
  free(theta);
  bayes_model_free(m);
}
END_TEST

/* The spec's own comprehension, `lx: [log(x[i]) for i in 1:N]`, written without quotes
 * (section 4), and vector literals with indexed or multiplied elements. */
START_TEST(test_unquoted_brackets)
{
  bayes_model *m = bt_load_text("model: unquoted\n"
                             "data:\n"
                             "  N: 3\n"
                             "  x: [1.0, 2.0, 3.0]\n"
                             "parameters:\n"
                             "  a: normal(0, 1) [2]\n"
                             "transformed:\n"
                             "  lx: [log(x[i]) for i in 1:N]\n"
                             "  v: [a[1], 2 * a[2]]\n"
                             "  q: [a[i] * a[i] for i in 1:2]\n");
  bayes_model_free(m);
}
END_TEST

/* ---- determinism ---- */

START_TEST(test_deterministic)
{
  static const char *const files[] = {"models/eight_schools.yaml", "models/ar1.yaml",
                                      "models/gaussian_mixture.yaml", "tests/data/mvn_lkj.yaml",
                                      "tests/data/exprs.yaml", "tests/data/hmm.yaml"};
  static const char *const what[] = {"ast", "graph", "tape"};
  for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
    bayes_model *a = bt_load_rel(files[f]), *b = bt_load_rel(files[f]);
    for (size_t k = 0; k < 3; k++) {
      char *da = bayes_model_dump(a, what[k]), *db = bayes_model_dump(b, what[k]);
      ck_assert(da && db && *da);
      ck_assert_msg(strcmp(da, db) == 0, "%s: two compilations give different %s dumps",
                    files[f], what[k]);
      bayes_string_free(da);
      bayes_string_free(db);
    }
    char *sa = bayes_model_summary(a), *sb = bayes_model_summary(b);
    char *ga = bayes_model_dot(a), *gb = bayes_model_dot(b);
    ck_assert_str_eq(sa, sb);
    ck_assert_str_eq(ga, gb);
    ck_assert_msg(strncmp(ga, "digraph", 7) == 0, "DOT starts with: %.20s", ga);
    bayes_string_free(sa);
    bayes_string_free(sb);
    bayes_string_free(ga);
    bayes_string_free(gb);
    bayes_model_free(a);
    bayes_model_free(b);
  }
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("compile");
  TCase *t = tcase_create("fold");
  tcase_add_test(t, test_fold_data_only);
  tcase_add_test(t, test_fold_param_dependent);
  tcase_add_test(t, test_fold_poisson_glm);
  suite_add_tcase(s, t);
  t = tcase_create("golden");
  tcase_add_test(t, test_golden_ast);
  tcase_add_test(t, test_golden_tape);
  suite_add_tcase(s, t);
  t = tcase_create("params");
  tcase_add_test(t, test_param_info_eight_schools);
  tcase_add_test(t, test_param_transforms);
  suite_add_tcase(s, t);
  t = tcase_create("values");
  tcase_add_test(t, test_expression_values);
  tcase_add_test(t, test_indexing_values);
  tcase_add_test(t, test_unquoted_brackets);
  suite_add_tcase(s, t);
  t = tcase_create("determinism");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, test_deterministic);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return bt_run_suite(suite()); }
