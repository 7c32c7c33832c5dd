/* test_diagnostics.c — unit tests of diagnostics.c against numbers computed by R's
 * posterior 1.4.0 (tests/data/diagnostics_reference.json), plus the work-array contract.
 * The reference is independent of this code: it is written only by
 * tests/fixtures/make_diagnostics_reference.R (posterior::summarise_draws, mcse_*, ess_*,
 * rhat_basic on fixed-seed draws) and must never be regenerated from our own output. */
#include <check.h>

#include "testutil.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data.h"
#include "diag.h"
#include "diagnostics.h"
#include "util.h"

#define NCASES 17
#define RTOL_EXACT 1e-12   /* order statistics, means, sd: the same few roundings as R */
#define RTOL_ITER 1e-8     /* FFT autocovariances, qnorm, qbeta: the tolerance */

typedef struct {
  bayes_arena arena;
  bayes_src src;
  bayes_dataset ds;
} fixture;

static void fixture_load(fixture *f)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/data/diagnostics_reference.json", bt_srcdir());
  bayes_arena_init(&f->arena);
  memset(&f->ds, 0, sizeof f->ds);
  ck_assert_msg(bayes_src_read(&f->src, path) == 0, "cannot read %s", path);
  bayes_diag d;
  bayes_diag_init(&d);
  int rc = bayes_data_load_json(&f->arena, &f->src, &f->ds, &d);
  ck_assert_int_eq(d.nerr, 0);
  bayes_diag_destroy(&d);
  ck_assert_int_eq(rc, 0);
}

static void fixture_destroy(fixture *f)
{
  bayes_dataset_destroy(&f->ds);
  bayes_arena_destroy(&f->arena);
  bayes_src_destroy(&f->src);
}

static const bayes_value *get(const fixture *f, int k, const char *what)
{
  char key[128];
  snprintf(key, sizeof key, "case%d_%s", k, what);
  const bayes_named_value *nv = bayes_dataset_get(&f->ds, key);
  ck_assert_msg(nv != NULL && !nv->bad, "fixture has no numeric %s", key);
  return &nv->val;
}

static double get_num(const fixture *f, int k, const char *what)
{
  const bayes_value *v = get(f, k, what);
  ck_assert_uint_eq(v->n, 1);
  return v->v[0];
}

/* NaN exactly where R gives NA; otherwise |got - want| <= rtol |want| */
static void check_close(const fixture *f, int k, const char *what, double got, double rtol)
{
  double want = get_num(f, k, what);
  if (isnan(want)) {
    ck_assert_msg(isnan(got), "case %d %s: got %.17g, R gives NA", k, what, got);
    return;
  }
  ck_assert_msg(!isnan(got), "case %d %s: got NaN, R gives %.17g", k, what, want);
  ck_assert_msg(fabs(got - want) <= rtol * fabs(want), "case %d %s: got %.17g, R %.17g "
                "(rel err %.3g > %.0e)", k, what, got, want, fabs(got - want) / fabs(want), rtol);
}

/* Draws of case k as chain pointers into the fixture (rows are chains). */
static const double **case_draws(const fixture *f, int k, size_t *nchains, size_t *ndraws)
{
  const bayes_value *v = get(f, k, "draws");
  ck_assert_int_eq(v->shape.rank, 2);
  *nchains = (size_t)v->shape.dim[0];
  *ndraws = (size_t)v->shape.dim[1];
  const double **x = bayes_malloc(*nchains * sizeof *x);
  ck_assert_ptr_nonnull(x);
  for (size_t c = 0; c < *nchains; c++) x[c] = v->v + c * *ndraws;
  return x;
}

#define GUARD 64
#define SENTINEL (-1234.5678)

static double *work_alloc(size_t nchains, size_t ndraws)
{
  size_t n = bayes_summary_work(nchains, ndraws);
  double *w = bayes_malloc((n + GUARD) * sizeof *w);
  ck_assert_ptr_nonnull(w);
  for (size_t i = 0; i < n + GUARD; i++) w[i] = SENTINEL;
  return w;
}

static void work_check_free(double *w, size_t nchains, size_t ndraws)
{
  size_t n = bayes_summary_work(nchains, ndraws);
  for (size_t i = n; i < n + GUARD; i++)
    ck_assert_msg(w[i] == SENTINEL, "work array overrun at %zu (size %zu)", i, n);
  bayes_free(w);
}

/* ---- every case of the fixture, every measure ---- */

START_TEST(test_fixture_count)
{
  fixture f;
  fixture_load(&f);
  const bayes_named_value *nv = bayes_dataset_get(&f.ds, "ncases");
  ck_assert_ptr_nonnull(nv);
  ck_assert_int_eq((int)nv->val.v[0], NCASES);
  fixture_destroy(&f);
}
END_TEST

START_TEST(test_summary_matches_posterior)
{
  int k = _i + 1;
  fixture f;
  fixture_load(&f);
  size_t nc, nd;
  const double **x = case_draws(&f, k, &nc, &nd);
  double *w = work_alloc(nc, nd);
  bayes_qsummary s;
  long allocs = bayes_alloc_count();
  ck_assert_int_eq(bayes_summarise(x, nc, nd, w, &s), 0);
  ck_assert_int_eq(bayes_alloc_count(), allocs);     /* all scratch from work */

  check_close(&f, k, "mean", s.mean, RTOL_EXACT);
  check_close(&f, k, "median", s.median, RTOL_EXACT);
  check_close(&f, k, "sd", s.sd, RTOL_EXACT);
  check_close(&f, k, "mad", s.mad, RTOL_EXACT);
  check_close(&f, k, "q5", s.q5, RTOL_EXACT);
  check_close(&f, k, "q50", s.q50, RTOL_EXACT);
  check_close(&f, k, "q95", s.q95, RTOL_EXACT);
  check_close(&f, k, "rhat", s.rhat, RTOL_ITER);
  check_close(&f, k, "ess_bulk", s.ess_bulk, RTOL_ITER);
  check_close(&f, k, "ess_tail", s.ess_tail, RTOL_ITER);
  check_close(&f, k, "ess_mean", s.ess_mean, RTOL_ITER);
  check_close(&f, k, "ess_sd", s.ess_sd, RTOL_ITER);
  check_close(&f, k, "mcse_mean", s.mcse_mean, RTOL_ITER);
  check_close(&f, k, "mcse_sd", s.mcse_sd, RTOL_ITER);
  /* differences of two order statistics picked via qbeta: exact when the ranks agree */
  check_close(&f, k, "mcse_q5", s.mcse_q5, RTOL_EXACT);
  check_close(&f, k, "mcse_q50", s.mcse_q50, RTOL_EXACT);
  check_close(&f, k, "mcse_q95", s.mcse_q95, RTOL_EXACT);

  work_check_free(w, nc, nd);
  bayes_free(x);
  fixture_destroy(&f);
}
END_TEST

START_TEST(test_single_measures_match_posterior)
{
  int k = _i + 1;
  fixture f;
  fixture_load(&f);
  size_t nc, nd;
  const double **x = case_draws(&f, k, &nc, &nd);
  double *w = work_alloc(nc, nd);
  check_close(&f, k, "rhat", bayes_rhat(x, nc, nd, w), RTOL_ITER);
  check_close(&f, k, "ess_bulk", bayes_ess_bulk(x, nc, nd, w), RTOL_ITER);
  check_close(&f, k, "ess_tail", bayes_ess_tail(x, nc, nd, w), RTOL_ITER);
  check_close(&f, k, "ess_basic", bayes_ess_basic(x, nc, nd, true, w), RTOL_ITER);
  check_close(&f, k, "ess_basic_nosplit", bayes_ess_basic(x, nc, nd, false, w), RTOL_ITER);
  check_close(&f, k, "rhat_basic", bayes_rhat_basic(x, nc, nd, true, w), RTOL_ITER);
  check_close(&f, k, "rhat_basic_nosplit", bayes_rhat_basic(x, nc, nd, false, w), RTOL_ITER);
  work_check_free(w, nc, nd);
  bayes_free(x);
  fixture_destroy(&f);
}
END_TEST

/* The fixture exercises what it claims to (so the comparisons above are not vacuous). */
START_TEST(test_fixture_covers_edge_cases)
{
  fixture f;
  fixture_load(&f);
  for (int k = 1; k <= NCASES; k++) {
    const bayes_named_value *nv = NULL;
    char key[64];
    snprintf(key, sizeof key, "case%d_name", k);
    nv = bayes_dataset_get(&f.ds, key);
    ck_assert_ptr_nonnull(nv);
  }
  ck_assert(get_num(&f, 4, "rhat") > 1.1);                 /* nonconverged */
  ck_assert(get_num(&f, 1, "rhat") < 1.01);                /* iid */
  ck_assert(isnan(get_num(&f, 15, "rhat")));               /* all constant */
  ck_assert(isnan(get_num(&f, 15, "ess_bulk")));
  ck_assert(!isnan(get_num(&f, 9, "rhat")));               /* one constant chain only */
  ck_assert(isnan(get_num(&f, 14, "ess_tail")));           /* bernoulli: q95 = max */
  ck_assert(!isnan(get_num(&f, 14, "ess_bulk")));
  ck_assert(isnan(get_num(&f, 16, "rhat")));               /* 2 draws: halves of 1 */
  /* antithetic chains: tau capped at 1 / log10(S), so ESS = S log10(S) exactly */
  ck_assert(fabs(get_num(&f, 13, "ess_basic") - 200 * log10(200.0)) < 1e-9);
  fixture_destroy(&f);
}
END_TEST

/* ---- properties that need no reference ---- */

START_TEST(test_quantile7)
{
  const double s[] = {1, 2, 3, 4, 5};
  ck_assert_double_eq_tol(bayes_quantile7(s, 5, 0.3), 2.2, 1e-15);
  ck_assert(bayes_quantile7(s, 5, 0) == 1);
  ck_assert(bayes_quantile7(s, 5, 1) == 5);
  ck_assert(bayes_quantile7(s, 5, 0.5) == 3);
  const double t[] = {7, 7, 7, 9};
  ck_assert(bayes_quantile7(t, 4, 0.4) == 7);    /* equal neighbours: no interpolation */
  ck_assert(isnan(bayes_quantile7(s, 5, 1.5)));
  ck_assert(isnan(bayes_quantile7(s, 0, 0.5)));
}
END_TEST

START_TEST(test_bad_arguments)
{
  double a[4] = {1, 2, 3, 4}, w[256];
  const double *x[2] = {a, NULL};
  bayes_qsummary s;
  ck_assert_int_eq(bayes_summarise(x, 1, 4, NULL, &s), -1);
  ck_assert_int_eq(bayes_summarise(x, 1, 4, w, NULL), -1);
  ck_assert_int_eq(bayes_summarise(x, 0, 4, w, &s), -1);
  ck_assert_int_eq(bayes_summarise(x, 1, 0, w, &s), -1);
  ck_assert_int_eq(bayes_summarise(x, 2, 4, w, &s), -1);   /* NULL chain */
  ck_assert_int_eq(bayes_summarise(NULL, 1, 4, w, &s), -1);
  ck_assert(isnan(bayes_rhat(x, 0, 4, w)));
  ck_assert(isnan(bayes_ess_bulk(NULL, 1, 4, w)));
  ck_assert(bayes_summary_work(1, 4) <= 256);
  ck_assert_int_eq(bayes_summarise(x, 1, 4, w, &s), 0);
  ck_assert(s.mean == 2.5);
}
END_TEST

/* R: mean(c(..., NaN)) is NaN and every other measure is NA */
START_TEST(test_nan_draw)
{
  double a[50], b[50];
  for (int i = 0; i < 50; i++) {
    a[i] = sin(i * 1.3);
    b[i] = cos(i * 0.7);
  }
  b[17] = NAN;
  const double *x[2] = {a, b};
  double *w = work_alloc(2, 50);
  bayes_qsummary s;
  ck_assert_int_eq(bayes_summarise(x, 2, 50, w, &s), 0);
  const double *fld = &s.mean;
  for (size_t i = 0; i < sizeof s / sizeof(double); i++) ck_assert(isnan(fld[i]));
  ck_assert(isnan(bayes_rhat(x, 2, 50, w)));
  ck_assert(isnan(bayes_ess_tail(x, 2, 50, w)));
  work_check_free(w, 2, 50);
}
END_TEST

/* Summaries of many quantities share one work array: results do not depend on what it
 * held before. */
START_TEST(test_work_reuse)
{
  fixture f;
  fixture_load(&f);
  size_t nc, nd, nc2, nd2;
  const double **x = case_draws(&f, 2, &nc, &nd);
  const double **y = case_draws(&f, 11, &nc2, &nd2);
  size_t n = bayes_summary_work(nc, nd), n2 = bayes_summary_work(nc2, nd2);
  double *w = bayes_malloc((n > n2 ? n : n2) * sizeof *w);
  ck_assert_ptr_nonnull(w);
  bayes_qsummary a, b, c;
  ck_assert_int_eq(bayes_summarise(x, nc, nd, w, &a), 0);
  ck_assert_int_eq(bayes_summarise(y, nc2, nd2, w, &b), 0);
  ck_assert_int_eq(bayes_summarise(x, nc, nd, w, &c), 0);
  ck_assert_int_eq(memcmp(&a, &c, sizeof a), 0);
  bayes_free(w);
  bayes_free(x);
  bayes_free(y);
  fixture_destroy(&f);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("diagnostics");
  TCase *tc = tcase_create("posterior");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_fixture_count);
  tcase_add_loop_test(tc, test_summary_matches_posterior, 0, NCASES);
  tcase_add_loop_test(tc, test_single_measures_match_posterior, 0, NCASES);
  tcase_add_test(tc, test_fixture_covers_edge_cases);
  suite_add_tcase(s, tc);
  TCase *tp = tcase_create("properties");
  tcase_add_test(tp, test_quantile7);
  tcase_add_test(tp, test_bad_arguments);
  tcase_add_test(tp, test_nan_draw);
  tcase_add_test(tp, test_work_reuse);
  suite_add_tcase(s, tp);
  return s;
}

int main(void) { return bt_run_suite(suite()); }
