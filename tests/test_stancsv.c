/* test_stancsv.c — unit tests of stancsv.c and summary.c: exact round trip of every
 * double through the CSV writer and reader, the temporary-file discipline, a golden file
 * for the header layout, reading CmdStan's and rstan's files, located errors for
 * malformed files; E-BFMI, warning sentences, the table and summary.json. */
#include <check.h>

#include "testutil.h"
#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bayes.h"
#include "diag.h"
#include "stancsv.h"
#include "summary.h"
#include "util.h"

static char tmpdir[256];

static void make_tmpdir(void)
{
  snprintf(tmpdir, sizeof tmpdir, "/tmp/test_stancsv.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

static bool exists(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0;
}

/* ---- a fixed fake run ---- */

static const char *const names3[] = {"mu", "theta.1", "theta.2"};

static void fake_cfg(bayes_sampler_cfg *cfg)
{
  bayes_sampler_defaults(cfg);
  cfg->draws = 4;
  cfg->seed = 20240611;
  cfg->chain = 1;
  cfg->delta = 0.95;      /* not Stan's default: no marker */
}

static bayes_csv_header fake_header(const bayes_sampler_cfg *cfg, const char *out)
{
  bayes_csv_header h = {.model = "eight_schools",
                        .cfg = cfg,
                        .num_chains = 4,
                        .data_file = "eight_schools.json",
                        .init = "2",
                        .output_file = out,
                        .method = "sample",
                        .num_threads = 1,
                        .save_warmup = false,
                        .start_datetime = "2024-06-11 09:30:00 UTC"};
  return h;
}

static bayes_draw fake_draw(int i)
{
  bayes_draw d = {.lp = -7.25 - 0.5 * i,
                  .accept_stat = i == 2 ? 1 : 0.8125 + 0.01 * i,
                  .stepsize = 0.911297,
                  .energy = 8.5 + i / 3.0,
                  .treedepth = 1 + i % 3,
                  .n_leapfrog = 3 + 4 * (i % 2),
                  .divergent = i == 3,
                  .warmup = false,
                  .iteration = 1000 + i};
  return d;
}

/* values that a decimal writer easily gets wrong */
static const double tricky[][3] = {
    {0.1, 1e-300, -0.0},
    {1.0 / 3.0, 5e-324, DBL_MAX},
    {NAN, INFINITY, -INFINITY},
    {-2.5, 123456789.123456789, 2.2250738585072014e-308},
};

static void write_fake(const char *path, const char *out_name)
{
  bayes_sampler_cfg cfg;
  fake_cfg(&cfg);
  bayes_csv_header h = fake_header(&cfg, out_name);
  char err[256] = "";
  bayes_csv_writer *w = bayes_csv_open(path, &h, 3, names3, err, sizeof err);
  ck_assert_msg(w != NULL, "open: %s", err);
  const double im[3] = {0.25, 1.5, 1e-3};
  ck_assert_int_eq(bayes_csv_adaptation(w, 0.911297, im, 3, false), 0);
  for (int i = 0; i < 4; i++) {
    bayes_draw d = fake_draw(i);
    ck_assert_int_eq(bayes_csv_row(w, &d, tricky[i]), 0);
  }
  ck_assert_msg(bayes_csv_close(w, 1.2344, 0.5, err, sizeof err) == 0, "close: %s", err);
}

static int read_file(const char *path, bayes_src *src, bayes_csv_table *t, bayes_diag *d)
{
  ck_assert_int_eq(bayes_src_read(src, path), 0);
  bayes_csv_table_init(t);
  bayes_diag_init(d);
  return bayes_csv_read(src, t, d);
}

static bool same_double(double a, double b)
{
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
  return a == b && signbit(a) == signbit(b);
}

START_TEST(test_roundtrip)
{
  make_tmpdir();
  char path[300];
  snprintf(path, sizeof path, "%s/chain1.csv", tmpdir);
  write_fake(path, "chain1.csv");
  bayes_src src;
  bayes_csv_table t;
  bayes_diag d;
  ck_assert_int_eq(read_file(path, &src, &t, &d), 0);
  ck_assert_int_eq(t.ncols, 10);
  const char *want[] = {"lp__", "accept_stat__", "stepsize__", "treedepth__", "n_leapfrog__",
                        "divergent__", "energy__", "mu", "theta.1", "theta.2"};
  for (int j = 0; j < 10; j++) ck_assert_str_eq(t.names[j], want[j]);
  ck_assert_int_eq(t.nrows, 4);
  ck_assert_int_eq(t.nwarmup, 0);
  for (int i = 0; i < 4; i++) {
    bayes_draw dr = fake_draw(i);
    const double *row = t.values + i * t.ncols;
    ck_assert(row[0] == dr.lp && row[1] == dr.accept_stat && row[2] == dr.stepsize);
    ck_assert(row[3] == dr.treedepth && row[4] == dr.n_leapfrog && row[5] == dr.divergent);
    ck_assert(row[6] == dr.energy);
    for (int j = 0; j < 3; j++)
      ck_assert_msg(same_double(row[7 + j], tricky[i][j]), "row %d col %d: %.17g != %.17g",
                    i, j, row[7 + j], tricky[i][j]);
  }
  ck_assert_str_eq(t.model, "eight_schools");
  ck_assert_str_eq(t.method, "sample");
  ck_assert_str_eq(t.engine, "nuts");
  ck_assert_str_eq(t.metric, "diag_e");
  ck_assert(t.has_seed && t.seed == 20240611);
  ck_assert_int_eq(t.chain_id, 1);
  ck_assert_int_eq(t.num_warmup, 1000);
  ck_assert_int_eq(t.num_samples, 4);
  ck_assert_int_eq(t.thin, 1);
  ck_assert_int_eq(t.max_depth, 10);
  ck_assert(t.stepsize == 0.911297);
  ck_assert_int_eq(t.metric_len, 3);
  ck_assert(!t.dense && t.inv_metric[0] == 0.25 && t.inv_metric[2] == 1e-3);
  ck_assert(t.warmup_seconds == 1.234 && t.sampling_seconds == 0.5);
  ck_assert_int_eq(bayes_csv_column(&t, "theta.2"), 9);
  ck_assert_int_eq(bayes_csv_column(&t, "theta.3"), -1);
  /* integers are written as integers, non-finite values as CmdStan writes them */
  char *text = bt_slurp(path);
  ck_assert_ptr_nonnull(strstr(text, ",0.911297,1,3,0,8.5,0.1,1e-300,-0\n"));
  ck_assert_ptr_nonnull(strstr(text, ",nan,inf,-inf\n"));
  free(text);
  bayes_csv_table_destroy(&t);
  bayes_src_destroy(&src);
  bayes_diag_destroy(&d);
  remove_tmpdir();
}
END_TEST

START_TEST(test_temp_file)
{
  make_tmpdir();
  char path[300], tmp[340];
  snprintf(path, sizeof path, "%s/out.csv", tmpdir);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  bayes_sampler_cfg cfg;
  fake_cfg(&cfg);
  bayes_csv_header h = fake_header(&cfg, "out.csv");
  char err[256];
  /* completed: the final name appears only on close */
  bayes_csv_writer *w = bayes_csv_open(path, &h, 3, names3, err, sizeof err);
  ck_assert_ptr_nonnull(w);
  bayes_draw d = fake_draw(0);
  ck_assert_int_eq(bayes_csv_row(w, &d, tricky[0]), 0);
  ck_assert(!exists(path));
  ck_assert(exists(tmp));
  ck_assert_int_eq(bayes_csv_close(w, 0, 0, err, sizeof err), 0);
  ck_assert(exists(path));
  ck_assert(!exists(tmp));
  /* interrupted: nothing is left, and an older complete file is untouched */
  char *before = bt_slurp(path);
  w = bayes_csv_open(path, &h, 3, names3, err, sizeof err);
  ck_assert_ptr_nonnull(w);
  ck_assert_int_eq(bayes_csv_row(w, &d, tricky[1]), 0);
  bayes_csv_abort(w);
  ck_assert(!exists(tmp));
  char *after = bt_slurp(path);
  ck_assert_str_eq(before, after);
  free(before);
  free(after);
  bayes_csv_abort(NULL);
  /* a folder that does not exist: a message, no crash */
  char bad[340];
  snprintf(bad, sizeof bad, "%s/no/such/dir/x.csv", tmpdir);
  ck_assert_ptr_null(bayes_csv_open(bad, &h, 3, names3, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "cannot create"));
  remove_tmpdir();
}
END_TEST

/* the whole file, byte for byte, except the line with bayesrun's version */
START_TEST(test_golden)
{
  make_tmpdir();
  char path[300], gold[600];
  snprintf(path, sizeof path, "%s/golden_chain1.csv", tmpdir);
  snprintf(gold, sizeof gold, "%s/tests/data/stancsv/golden_chain1.csv", bt_srcdir());
  write_fake(path, "out/golden_chain1.csv");
  char *got = bt_slurp(path);
  char *vl = strstr(got, "# bayesrun_version = ");
  ck_assert_ptr_nonnull(vl);
  char *ve = strchr(vl, '\n');
  memmove(vl + strlen("# bayesrun_version = X"), ve, strlen(ve) + 1);
  vl[strlen("# bayesrun_version = X") - 1] = 'X';
  if (getenv("BAYES_UPDATE_GOLDEN")) bt_write_file(gold, got);
  char *want = bt_slurp(gold);
  if (strcmp(got, want)) {
    size_t i = 0;
    while (got[i] && got[i] == want[i]) i++;
    ck_abort_msg("differs from %s at byte %zu: got \"%.60s\", want \"%.60s\"", gold, i,
                 got + i, want + i);
  }
  free(got);
  free(want);
  remove_tmpdir();
}
END_TEST

/* Two chains of a plausible run (AR(1) draws from a fixed generator), kept as golden files
 * in tests/data/stancsv/normal/ for tests/r_readers.sh and `bayesrun summary` on a folder. */
static double lcg_normal(unsigned long long *x)
{
  double u[2];
  for (int k = 0; k < 2; k++) {
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    u[k] = ((double)(*x >> 11) + 0.5) / 9007199254740992.0;
  }
  return sqrt(-2 * log(u[0])) * cos(2 * M_PI * u[1]);
}

static void write_normal_chain(const char *path, int chain)
{
  static const char *const nm[] = {"mu",        "sigma",     "y_rep.1.1",
                                   "y_rep.2.1", "y_rep.1.2", "y_rep.2.2"};
  bayes_sampler_cfg cfg;
  bayes_sampler_defaults(&cfg);
  cfg.draws = 100;
  cfg.warmup = 100;
  cfg.seed = 99;
  cfg.chain = chain;
  bayes_csv_header h = {.model = "normal", .cfg = &cfg, .num_chains = 2, .init = "2",
                        .output_file = "normal/chain.csv", .method = "sample",
                        .num_threads = 1, .start_datetime = "2024-06-11 09:30:00 UTC"};
  char err[256];
  bayes_csv_writer *w = bayes_csv_open(path, &h, 6, nm, err, sizeof err);
  ck_assert_msg(w != NULL, "%s", err);
  const double im[2] = {0.9, 0.04};
  ck_assert_int_eq(bayes_csv_adaptation(w, 0.75, im, 2, false), 0);
  unsigned long long x = 1000 + (unsigned long long)chain;
  double mu = 0, ls = 0;
  for (int i = 0; i < 100; i++) {
    mu = 0.5 * mu + sqrt(0.75) * lcg_normal(&x);
    ls = 0.3 * ls + 0.2 * lcg_normal(&x);
    double sigma = exp(ls), v[6];
    v[0] = 1 + mu;
    v[1] = sigma;
    for (int k = 2; k < 6; k++) v[k] = v[0] + sigma * lcg_normal(&x);
    bayes_draw d = {.lp = -0.5 * mu * mu - ls, .accept_stat = 0.9, .stepsize = 0.75,
                    .energy = 0.5 * mu * mu + ls + 1 + 0.5 * lcg_normal(&x),
                    .treedepth = 2 + (i % 7 == 0), .n_leapfrog = 3 + 4 * (i % 7 == 0),
                    .divergent = chain == 2 && i == 50, .iteration = 100 + i};
    ck_assert_int_eq(bayes_csv_row(w, &d, v), 0);
  }
  ck_assert_int_eq(bayes_csv_close(w, 0.012, 0.01, err, sizeof err), 0);
}

START_TEST(test_golden_normal)
{
  make_tmpdir();
  for (int chain = 1; chain <= 2; chain++) {
    char path[300], gold[600];
    snprintf(path, sizeof path, "%s/chain%d.csv", tmpdir, chain);
    snprintf(gold, sizeof gold, "%s/tests/data/stancsv/normal/chain%d.csv", bt_srcdir(), chain);
    write_normal_chain(path, chain);
    char *got = bt_slurp(path);
    char *vl = strstr(got, "# bayesrun_version = ");
    char *ve = strchr(vl, '\n');
    memmove(vl + strlen("# bayesrun_version = X"), ve, strlen(ve) + 1);
    vl[strlen("# bayesrun_version = X") - 1] = 'X';
    if (getenv("BAYES_UPDATE_GOLDEN")) bt_write_file(gold, got);
    char *want = bt_slurp(gold);
    ck_assert_msg(!strcmp(got, want), "%s differs from what the writer writes now", gold);
    free(got);
    free(want);
  }
  remove_tmpdir();
}
END_TEST

START_TEST(test_default_markers)
{
  make_tmpdir();
  char path[300];
  snprintf(path, sizeof path, "%s/m.csv", tmpdir);
  bayes_sampler_cfg cfg;
  bayes_sampler_defaults(&cfg);
  cfg.algo = BAYES_ALGO_HMC;
  cfg.metric = BAYES_METRIC_DENSE;
  cfg.max_depth = 12;
  bayes_csv_header h = {.model = "m", .cfg = &cfg, .num_chains = 1, .save_warmup = true};
  char err[256];
  bayes_csv_writer *w = bayes_csv_open(path, &h, 0, NULL, err, sizeof err);
  ck_assert_ptr_nonnull(w);
  const double im[4] = {2, 0.5, 0.5, 3};
  ck_assert_int_eq(bayes_csv_adaptation(w, 0.5, im, 2, true), 0);
  ck_assert_int_eq(bayes_csv_close(w, 0, 0, err, sizeof err), 0);
  char *s = bt_slurp(path);
  ck_assert_ptr_nonnull(strstr(s, "\n#     num_samples = 1000 (Default)\n"));
  ck_assert_ptr_nonnull(strstr(s, "\n#     save_warmup = 1\n"));
  ck_assert_ptr_nonnull(strstr(s, "\n#       delta = 0.8 (Default)\n"));
  ck_assert_ptr_nonnull(strstr(s, "\n#         engine = static\n#           static\n"
                                  "#             int_time = 6.2831853071795862 (Default)\n"));
  ck_assert_ptr_nonnull(strstr(s, "\n#         metric = dense_e\n"));
  ck_assert_ptr_nonnull(strstr(s, "\n# data\n#   file =  (Default)\n"));
  ck_assert_ptr_nonnull(strstr(s, "\n# id = 1 (Default)\n"));
  ck_assert_ptr_nonnull(strstr(s, "# Elements of inverse mass matrix:\n# 2, 0.5\n# 0.5, 3\n"));
  ck_assert_ptr_nonnull(strstr(s, "#  Elapsed Time: 0 seconds (Warm-up)\n"));
  ck_assert_ptr_null(strstr(s, "max_depth"));  /* static HMC has no tree */
  free(s);
  /* and the dense metric reads back */
  bayes_src src;
  bayes_csv_table t;
  bayes_diag d;
  ck_assert_int_eq(read_file(path, &src, &t, &d), 0);
  ck_assert(t.dense && t.metric_len == 4 && t.inv_metric[3] == 3 && t.stepsize == 0.5);
  ck_assert_str_eq(t.engine, "static");
  ck_assert(t.save_warmup);
  ck_assert_int_eq(t.nrows, 0);
  bayes_csv_table_destroy(&t);
  bayes_src_destroy(&src);
  bayes_diag_destroy(&d);
  remove_tmpdir();
}
END_TEST

START_TEST(test_read_cmdstan)
{
  char path[600];
  snprintf(path, sizeof path, "%s/tests/data/stancsv/cmdstan233_bernoulli.csv", bt_srcdir());
  bayes_src src;
  bayes_csv_table t;
  bayes_diag d;
  ck_assert_int_eq(read_file(path, &src, &t, &d), 0);
  ck_assert_str_eq(t.model, "bernoulli_model");
  ck_assert_int_eq(t.chain_id, 2);
  ck_assert(t.has_seed && t.seed == 589886520);
  ck_assert_int_eq(t.ncols, 8);
  ck_assert_str_eq(t.names[7], "theta");
  ck_assert_int_eq(t.nrows, 10);
  ck_assert_int_eq(t.nwarmup, 0);
  ck_assert_int_eq(t.num_samples, 10);
  ck_assert(!t.save_warmup);
  ck_assert(t.stepsize == 0.911297);
  ck_assert(t.metric_len == 1 && t.inv_metric[0] == 0.566254);
  ck_assert(t.values[0] == -8.07514 && t.values[7] == 0.0898933);
  ck_assert(t.values[7 * 8 + 5] == 1);
  ck_assert(t.values[9 * 8 + 7] == 0.335521);
  ck_assert(t.warmup_seconds == 0.005 && t.sampling_seconds == 0.001);
  bayes_csv_table_destroy(&t);
  bayes_src_destroy(&src);
  bayes_diag_destroy(&d);
}
END_TEST

/* rstan's sample_file: key=value without spaces, other key names, warmup rows saved */
START_TEST(test_read_rstan)
{
  char path[600];
  snprintf(path, sizeof path, "%s/tests/data/stancsv/rstan_eight_schools.csv", bt_srcdir());
  bayes_src src;
  bayes_csv_table t;
  bayes_diag d;
  ck_assert_int_eq(read_file(path, &src, &t, &d), 0);
  ck_assert(t.has_seed && t.seed == 11);
  ck_assert_int_eq(t.chain_id, 1);
  ck_assert_int_eq(t.num_warmup, 20);
  ck_assert_int_eq(t.num_samples, 20);
  ck_assert(t.save_warmup);
  ck_assert_int_eq(t.ncols, 25);
  ck_assert_str_eq(t.names[8], "tau");
  ck_assert_str_eq(t.names[24], "theta.8");
  ck_assert_int_eq(t.nrows, 40);
  ck_assert_int_eq(t.nwarmup, 20);
  ck_assert_str_eq(t.engine, "nuts");
  ck_assert_str_eq(t.metric, "diag_e");
  ck_assert_int_eq(t.metric_len, 10);
  ck_assert(t.stepsize == 0.471015);
  ck_assert(t.values[20 * 25] == -52.1195); /* the first kept draw's lp__ */
  bayes_csv_table_destroy(&t);
  bayes_src_destroy(&src);
  bayes_diag_destroy(&d);
}
END_TEST

static int parse_text(const char *text, bayes_src *src, bayes_csv_table *t, bayes_diag *d)
{
  ck_assert_int_eq(bayes_src_from_string(src, "f.csv", text), 0);
  bayes_csv_table_init(t);
  bayes_diag_init(d);
  return bayes_csv_read(src, t, d);
}

/* CmdStan 2.37 writes booleans as true/false; warmup rows come before the adaptation
 * block; CRLF line ends and blank lines are tolerated */
START_TEST(test_read_variants)
{
  const char *text = "# model = m_model\r\n# method = sample (Default)\r\n"
                     "#     num_samples = 2\r\n#     num_warmup = 3\r\n"
                     "#     save_warmup = true\r\n#     thin = 1 (Default)\r\n"
                     "# id = 3\r\n#   seed = 18446744073709551615\r\n"
                     "lp__,accept_stat__,a\r\n"
                     "-1,0.5,1\r\n-2,0.5,2\r\n-3,0.5,3\r\n"
                     "# Adaptation terminated\r\n# Step size = 0.5\r\n"
                     "# Diagonal elements of inverse mass matrix:\r\n# 1, 2\r\n"
                     "\r\n-4,0.5,NaN\r\n-5,0.5,-Inf\r\n";
  bayes_src src;
  bayes_csv_table t;
  bayes_diag d;
  ck_assert_int_eq(parse_text(text, &src, &t, &d), 0);
  ck_assert_int_eq(t.nrows, 5);
  ck_assert_int_eq(t.nwarmup, 3);
  ck_assert(t.save_warmup);
  ck_assert_int_eq(t.chain_id, 3);
  ck_assert(t.seed == UINT64_MAX);
  ck_assert_int_eq(t.metric_len, 2);
  ck_assert(isnan(t.values[3 * 3 + 2]) && t.values[4 * 3 + 2] == -INFINITY);
  ck_assert(isnan(t.warmup_seconds));
  bayes_csv_table_destroy(&t);
  bayes_src_destroy(&src);
  bayes_diag_destroy(&d);
  /* warmup rows and adaptation off: the header says how many rows are warmup */
  text = "#     num_warmup = 3\n#     save_warmup = 1\n#     thin = 2\n#       engaged = 0\n"
         "x\n1\n2\n3\n4\n";
  ck_assert_int_eq(parse_text(text, &src, &t, &d), 0);
  ck_assert_int_eq(t.nwarmup, 2);
  ck_assert(isnan(t.stepsize));
  bayes_csv_table_destroy(&t);
  bayes_src_destroy(&src);
  bayes_diag_destroy(&d);
}
END_TEST

static char *errors_of(const char *text)
{
  bayes_src src;
  bayes_csv_table t;
  bayes_diag d;
  int rc = parse_text(text, &src, &t, &d);
  ck_assert_int_eq(rc, BAYES_EDATA);
  ck_assert_int_eq(t.nrows, 0);  /* left empty */
  ck_assert_ptr_null(t.values);
  bayes_sb sb;
  bayes_sb_init(&sb);
  bayes_diag_format(&d, &sb);
  char *s = strdup(bayes_sb_cstr(&sb));
  bayes_sb_destroy(&sb);
  bayes_csv_table_destroy(&t);
  bayes_src_destroy(&src);
  bayes_diag_destroy(&d);
  return s;
}

#define EXPECT_ERR(text, want)                                                  \
  do {                                                                          \
    char *e_ = errors_of(text);                                                 \
    ck_assert_msg(strstr(e_, want) != NULL, "want '%s' in:\n%s", want, e_);     \
    free(e_);                                                                   \
  } while (0)

START_TEST(test_malformed)
{
  /* short row: the caret at the end of the line */
  EXPECT_ERR("# c\nlp__,a,b\n1,2,3\n4,5\n",
             "f.csv:4:4: error: this row has only 2 values, but the line of column names has 3");
  /* long row: the extra cells underlined */
  EXPECT_ERR("lp__,a\n1,2,3,4\n",
             "f.csv:2:5: error: this row has 4 values, but the line of column names has 2\n"
             "1,2,3,4\n    ^~~");
  /* a cell that is not a number */
  EXPECT_ERR("lp__,a,b\n1,2,3\n1,x7,3\n", "f.csv:3:3: error: 'x7' is not a number (column 'a')");
  EXPECT_ERR("lp__,a,b\n1,,3\n", "f.csv:2:3: error: empty cell in column 'a'");
  EXPECT_ERR("lp__,a,b\n1,2,3e\n", "'3e' is not a number (column 'b')");
  /* draws without a header line */
  EXPECT_ERR("# model = m\n-7.1,0.9,1\n",
             "f.csv:2:1: error: expected the line of column names");
  EXPECT_ERR("", "f.csv: error: no line of column names");
  EXPECT_ERR("# only comments\n#\n", "f.csv: error: no line of column names");
  EXPECT_ERR("lp__,a,a\n", "f.csv:1:8: error: column 'a' appears twice (also column 2)");
  EXPECT_ERR("lp__,,b\n", "f.csv:1:6: error: column 2 has no name");
  /* a broken adaptation block */
  EXPECT_ERR("lp__\n# Adaptation terminated\n# Step size = fast\n1\n",
             "f.csv:3:14: error: the step size is not a number");
  EXPECT_ERR("lp__\n# Elements of inverse mass matrix:\n# 1, 2\n# 3, x\n",
             "f.csv:4:6: error: this element of the inverse mass matrix is not a number");
  EXPECT_ERR("lp__\n# Elements of inverse mass matrix:\n# 1, 2\n1\n",
             "f.csv: error: the inverse mass matrix has 2 elements");
  /* several errors are collected, not just the first */
  char *e = errors_of("lp__,a\n1,x\n2\n3,4\n5,y\n");
  ck_assert_ptr_nonnull(strstr(e, "f.csv:2:3:"));
  ck_assert_ptr_nonnull(strstr(e, "f.csv:3:2:"));
  ck_assert_ptr_nonnull(strstr(e, "f.csv:5:3:"));
  free(e);
  /* binary junk: errors, no crash */
  char junk[300];
  for (int i = 0; i < 299; i++) junk[i] = (char)(1 + (i * 37) % 254);
  junk[299] = 0;
  bayes_src src;
  bayes_csv_table t;
  bayes_diag d;
  (void)parse_text(junk, &src, &t, &d);
  bayes_csv_table_destroy(&t);
  bayes_src_destroy(&src);
  bayes_diag_destroy(&d);
}
END_TEST

/* ==== summary ==== */

START_TEST(test_ebfmi)
{
  /* alternating energies: differences 1, mean 1.5: 3 / (4 * 0.25) */
  const double e1[] = {1, 2, 1, 2};
  ck_assert_double_eq_tol(bayes_ebfmi(e1, 4, 1), 3.0, 1e-15);
  /* strided (a column of a row-major matrix) */
  const double e2[] = {1, 9, 2, 9, 1, 9, 2, 9};
  ck_assert_double_eq_tol(bayes_ebfmi(e2, 4, 2), 3.0, 1e-15);
  /* a slowly drifting energy: 0..99, differences 1, variance large */
  double e3[100];
  for (int i = 0; i < 100; i++) e3[i] = i;
  /* sum of squared deviations of 0..99 = 100 (100^2 - 1) / 12 */
  ck_assert_double_eq_tol(bayes_ebfmi(e3, 100, 1), 99.0 / (100.0 * 9999.0 / 12.0), 1e-15);
  ck_assert(isnan(bayes_ebfmi(e1, 1, 1)));
  const double c[] = {5, 5, 5};
  ck_assert(isnan(bayes_ebfmi(c, 3, 1)));
}
END_TEST

/* 2 chains x 200 draws of (lp__, divergent__, treedepth__, energy__, mu, tau); chain 2's
 * energy drifts slowly (E-BFMI well below 0.3) */
#define ND 200
#define NCOL 6
static double chain_buf[2][ND * NCOL];
static const char *const snames[NCOL] = {"lp__", "divergent__", "treedepth__", "energy__",
                                          "mu", "tau"};

static bayes_run_summary *crafted_n(int ndiv, int nsat, bool must)
{
  unsigned long long x = 12345;
  for (int c = 0; c < 2; c++)
    for (int i = 0; i < ND; i++) {
      double *row = chain_buf[c] + i * NCOL;
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      double u = (double)(x >> 11) / 9007199254740992.0;
      row[0] = -10 + u;
      row[1] = (c == 0 && i < ndiv) ? 1 : 0;
      row[2] = (c == 1 && i < nsat) ? 10 : 3;
      row[3] = c == 0 ? 10 + ((i * 7919) % 13) : 10 + i * 0.1 + 0.01 * u;
      row[4] = u;
      row[5] = 1 + u * u;
    }
  const double *ch[2] = {chain_buf[0], chain_buf[1]};
  const double ws[2] = {1.5, 1.25}, ss[2] = {2, 2.5};
  bayes_summary_input in = {.method = "nuts", .nchains = 2, .ndraws = ND, .ncols = NCOL,
                            .names = snames, .chains = ch, .warmup = 1000, .seed = 7,
                            .has_seed = true, .max_depth = 10, .warmup_seconds = ws,
                            .sampling_seconds = ss, .total_seconds = NAN};
  char err[128];
  bayes_run_summary *s = bayes_summary_compute(&in, err, sizeof err);
  if (must) ck_assert_msg(s != NULL, "%s", err);
  return s;
}

static bayes_run_summary *crafted(int ndiv, int nsat) { return crafted_n(ndiv, nsat, true); }
static bayes_run_summary *crafted_try(void) { return crafted_n(3, 3, false); }

START_TEST(test_summary_sampler_checks)
{
  bayes_run_summary *s = crafted(12, 5);
  ck_assert_int_eq(s->nq, 3);   /* lp__, mu, tau */
  ck_assert_str_eq(s->names[0], "lp__");
  ck_assert_str_eq(s->names[2], "tau");
  ck_assert_int_eq(s->divergences, 12);
  ck_assert_int_eq(s->treedepth_hits, 5);
  ck_assert(s->ebfmi[0] > 1 && s->ebfmi[1] < 0.01);
  ck_assert_double_eq(s->total_seconds, 3.75); /* the longest chain */
  double m = 0;
  for (int c = 0; c < 2; c++)
    for (int i = 0; i < ND; i++) m += chain_buf[c][i * NCOL + 4];
  ck_assert_double_eq_tol(s->q[1].mean, m / (2 * ND), 1e-12);  /* mu's column, both chains */
  ck_assert_int_ge(s->nwarnings, 3);
  ck_assert_str_eq(s->warnings[0],
                   "12 of 400 transitions ended with a divergence. The sampler could not "
                   "follow the posterior's curvature there, so the draws may be biased. Try "
                   "a non-centred parameterisation or increase adapt_delta (e.g. "
                   "--adapt-delta 0.95).");
  ck_assert_str_eq(s->warnings[1],
                   "5 of 400 transitions stopped at the maximum tree depth (10). This does "
                   "not bias the draws, but the sampler is taking many small steps and "
                   "explores slowly. Reparameterise (e.g. give parameters similar scales) "
                   "or raise the limit (e.g. --max-depth 12).");
  char want[64];
  snprintf(want, sizeof want, "E-BFMI is %.2g in chain 2 (below 0.3): ", s->ebfmi[1]);
  ck_assert_msg(!strncmp(s->warnings[2], want, strlen(want)), "%s", s->warnings[2]);
  bayes_summary_free(s);
  /* nothing to report: no sampler warnings */
  s = crafted(0, 0);
  for (size_t i = 0; i < s->nwarnings; i++) {
    ck_assert_ptr_null(strstr(s->warnings[i], "divergence"));
    ck_assert_ptr_null(strstr(s->warnings[i], "tree depth"));
  }
  bayes_summary_free(s);
}
END_TEST

/* R-hat and ESS warnings from set figures (independent of diagnostics.c's numbers) */
START_TEST(test_summary_rhat_ess_warnings)
{
  bayes_run_summary *s = crafted(0, 0);
  s->ebfmi[1] = 0.5;
  for (size_t i = 0; i < s->nq; i++) {
    s->q[i].rhat = 1.001;
    s->q[i].ess_bulk = s->q[i].ess_tail = 1000;
  }
  ck_assert_int_eq(bayes_summary_warnings(s), 0);
  ck_assert_int_eq(s->nwarnings, 0);
  char *txt = bayes_summary_text(s);
  ck_assert_ptr_nonnull(strstr(txt, "No problems found"));
  bayes_free(txt);

  s->q[2].rhat = 1.05;
  s->q[2].ess_bulk = 150;
  ck_assert_int_eq(bayes_summary_warnings(s), 0);
  ck_assert_int_eq(s->nwarnings, 2);
  ck_assert_str_eq(s->warnings[0],
                   "R-hat is 1.05 for tau (above 1.01): the chains disagree with each other, "
                   "so they have not converged to the same distribution and the estimates "
                   "cannot be trusted yet. Run longer (more --warmup and --draws) or "
                   "reparameterise the model.");
  ck_assert_str_eq(s->warnings[1],
                   "ESS_bulk is 150 for tau (below 400): the draws hold too little "
                   "independent information to estimate the mean and median reliably. Run "
                   "more draws (e.g. --draws 2000) or reparameterise to reduce "
                   "autocorrelation.");
  /* a value that two decimals would round onto the threshold shows three */
  s->q[2].rhat = 1.0123;
  s->q[2].ess_bulk = 1000;
  ck_assert_int_eq(bayes_summary_warnings(s), 0);
  ck_assert(!strncmp(s->warnings[0], "R-hat is 1.012 for tau (above 1.01)", 35));
  /* several: listed worst first */
  s->q[0].rhat = 1.2;
  s->q[1].rhat = 1.02;
  s->q[0].ess_tail = 90;
  s->q[1].ess_tail = 80;
  ck_assert_int_eq(bayes_summary_warnings(s), 0);
  ck_assert_int_eq(s->nwarnings, 2);
  ck_assert(!strncmp(s->warnings[0],
                     "R-hat is above 1.01 for lp__ (1.20), mu (1.02) and tau (1.012): ", 63));
  ck_assert(!strncmp(s->warnings[1], "ESS_tail is below 400 for mu (80) and lp__ (90): ", 49));
  /* NaN (a constant quantity) is not a warning */
  for (size_t i = 0; i < s->nq; i++) s->q[i].rhat = s->q[i].ess_bulk = s->q[i].ess_tail = NAN;
  ck_assert_int_eq(bayes_summary_warnings(s), 0);
  ck_assert_int_eq(s->nwarnings, 0);
  bayes_summary_free(s);
}
END_TEST

START_TEST(test_summary_many_quantities)
{
  enum { NQ = 7 };
  static double buf[20 * NQ];
  const char *nm[NQ];
  char names[NQ][24];
  for (int j = 0; j < NQ; j++) {
    snprintf(names[j], sizeof names[j], "theta.%d", j + 1);
    nm[j] = names[j];
    for (int i = 0; i < 20; i++) buf[i * NQ + j] = sin(i * (j + 1.0));
  }
  const double *ch[1] = {buf};
  bayes_summary_input in = {.method = "advi", .nchains = 1, .ndraws = 20, .ncols = NQ,
                            .names = nm, .chains = ch, .warmup = -1, .total_seconds = 3};
  bayes_run_summary *s = bayes_summary_compute(&in, NULL, 0);
  ck_assert_ptr_nonnull(s);
  ck_assert(!s->has_divergent && !s->has_treedepth && !s->has_energy);
  for (int j = 0; j < NQ; j++) s->q[j].rhat = 1.1 + 0.01 * j, s->q[j].ess_bulk = s->q[j].ess_tail = 1e4;
  ck_assert_int_eq(bayes_summary_warnings(s), 0);
  ck_assert_int_eq(s->nwarnings, 1);
  ck_assert(!strncmp(s->warnings[0],
                     "R-hat is above 1.01 for 7 quantities, worst theta.7 (1.16), theta.6 "
                     "(1.15) and theta.5 (1.14): ", 91));
  char *j = bayes_summary_json(s);
  ck_assert_ptr_nonnull(strstr(j, "\"divergences\": null,\n  \"max_treedepth_hits\": null,\n"
                                  "  \"ebfmi\": [],\n"));
  ck_assert_ptr_nonnull(strstr(j, "\"warmup\": null,\n  \"seed\": null,"));
  ck_assert_ptr_nonnull(strstr(j, "\"elapsed\": {\"warmup\": [null], \"sampling\": [null], "
                                  "\"total\": 3}"));
  bayes_free(j);
  bayes_summary_free(s);
  /* bad input */
  char err[64];
  in.nchains = 0;
  ck_assert_ptr_null(bayes_summary_compute(&in, err, sizeof err));
  ck_assert_str_eq(err, "no draws to summarise");
}
END_TEST

START_TEST(test_summary_text)
{
  bayes_run_summary *s = crafted(1, 0);
  s->q[1].rhat = NAN;
  s->q[2].mean = 123456.789;
  s->q[2].sd = 1.5e-7;
  char *t = bayes_summary_text(s);
  ck_assert_ptr_nonnull(t);
  ck_assert(!strncmp(t, "nuts: 2 chains of 200 draws (after 1000 warmup iterations), seed 7, "
                        "3.75 s\n\n", 75));
  /* the table: a header and one line per quantity, all equally long, columns aligned */
  const char *hdr = strstr(t, "name");
  ck_assert_ptr_nonnull(hdr);
  size_t len = strcspn(hdr, "\n");
  const char *p = hdr;
  for (int i = 0; i < 4; i++) {
    ck_assert_uint_eq(strcspn(p, "\n"), len);
    p += len + 1;
  }
  ck_assert_ptr_nonnull(strstr(hdr, "ess_bulk  ess_tail   rhat\n") ? hdr : NULL);
  ck_assert_ptr_nonnull(strstr(t, "\nmu  "));
  ck_assert_ptr_nonnull(strstr(t, " NA\n"));          /* NaN R-hat */
  ck_assert_ptr_nonnull(strstr(t, " 123457 "));       /* 4 significant digits, no exponent */
  ck_assert_ptr_nonnull(strstr(t, " 1.500e-07 "));
  ck_assert_ptr_nonnull(strstr(t, "Divergences: 1."));
  ck_assert_ptr_nonnull(strstr(t, "\nWarning: 1 of 400 transitions ended with a divergence."));
  /* warnings wrapped at 88 columns */
  for (const char *l = t; *l;) {
    size_t n = strcspn(l, "\n");
    if (!strncmp(l, "Warning: ", 9) || !strncmp(l, "         ", 9))
      ck_assert_msg(n <= 88, "long line: %.*s", (int)n, l);
    l += n + (l[n] ? 1 : 0);
  }
  bayes_free(t);
  bayes_summary_free(s);
}
END_TEST

START_TEST(test_summary_json)
{
  bayes_run_summary *s = crafted(3, 0);
  s->q[0].rhat = NAN;
  s->q[0].mcse_mean = INFINITY;
  char *j = bayes_summary_json(s);
  ck_assert_ptr_nonnull(j);
  const char *keys[] = {"{\n  \"method\": \"nuts\",\n  \"chains\": 2,\n  \"draws_per_chain\": 200,\n"
                        "  \"warmup\": 1000,\n  \"seed\": 7,\n  \"divergences\": 3,\n"
                        "  \"max_treedepth_hits\": 0,\n  \"ebfmi\": [",
                        "\"elapsed\": {\"warmup\": [1.5, 1.25], \"sampling\": [2, 2.5], "
                        "\"total\": 3.75},\n  \"warnings\": [\n    \"3 of 400 transitions",
                        "\"quantities\": {\n    \"lp__\": {\"mean\": ",
                        "\"mcse_mean\": null, \"q5\": ", "\"rhat\": null},\n    \"mu\": {",
                        "\"tau\": {\"mean\": "};
  const char *p = j;
  for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
    const char *q = strstr(p, keys[k]);
    ck_assert_msg(q != NULL, "missing (in order) %s in\n%s", keys[k], j);
    p = q;
  }
  ck_assert(!strcmp(j + strlen(j) - 8, "}\n  }\n}\n"));
  /* balanced brackets outside strings, and no NaN or Infinity tokens */
  int depth = 0;
  bool in_str = false;
  for (const char *c = j; *c; c++) {
    if (in_str) {
      if (*c == '\\') c++;
      else if (*c == '"') in_str = false;
      continue;
    }
    if (*c == '"') in_str = true;
    else if (*c == '{' || *c == '[') depth++;
    else if (*c == '}' || *c == ']') ck_assert_int_ge(--depth, 0);
    else if (!strncmp(c, "null", 4)) c += 3;
    else ck_assert_msg(!isalpha((unsigned char)*c) || *c == 'e' || *c == 'E',
                       "stray token at %.10s", c);
  }
  ck_assert_int_eq(depth, 0);
  ck_assert(!in_str);
  /* written atomically: the file, and no temporary left */
  make_tmpdir();
  char path[300], tmp[340], err[256];
  snprintf(path, sizeof path, "%s/summary.json", tmpdir);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  ck_assert_int_eq(bayes_summary_write_json(s, path, err, sizeof err), 0);
  char *back = bt_slurp(path);
  ck_assert_str_eq(back, j);
  ck_assert(!exists(tmp));
  free(back);
  snprintf(path, sizeof path, "%s/nope/summary.json", tmpdir);
  ck_assert_int_eq(bayes_summary_write_json(s, path, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "cannot create"));
  remove_tmpdir();
  bayes_free(j);
  bayes_summary_free(s);
}
END_TEST

/* a whole file read back and summarised: the path `bayesrun summary` takes */
START_TEST(test_summary_from_file)
{
  char path[600];
  snprintf(path, sizeof path, "%s/tests/data/stancsv/rstan_eight_schools.csv", bt_srcdir());
  bayes_src src;
  bayes_csv_table t;
  bayes_diag d;
  ck_assert_int_eq(read_file(path, &src, &t, &d), 0);
  const double *ch[1] = {t.values + t.nwarmup * t.ncols};
  bayes_summary_input in = {.method = "nuts", .nchains = 1, .ndraws = t.nrows - t.nwarmup,
                            .ncols = t.ncols, .names = (const char *const *)t.names,
                            .chains = ch, .warmup = t.num_warmup, .seed = t.seed,
                            .has_seed = t.has_seed, .max_depth = t.max_depth,
                            .total_seconds = NAN};
  bayes_run_summary *s = bayes_summary_compute(&in, NULL, 0);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(s->nq, 1 + 2 + 8 + 8);
  ck_assert_str_eq(s->names[1], "mu");
  double m = 0;
  for (size_t i = 0; i < in.ndraws; i++) m += ch[0][i * t.ncols + 7];
  ck_assert_double_eq_tol(s->q[1].mean, m / (double)in.ndraws, 1e-12);
  ck_assert(isnan(s->total_seconds));
  bayes_summary_free(s);
  bayes_csv_table_destroy(&t);
  bayes_src_destroy(&src);
  bayes_diag_destroy(&d);
}
END_TEST

/* out of memory anywhere: NULL / an error, never a crash or a leak */
START_TEST(test_oom)
{
  char path[600];
  snprintf(path, sizeof path, "%s/tests/data/stancsv/cmdstan233_bernoulli.csv", bt_srcdir());
  bayes_src src;
  ck_assert_int_eq(bayes_src_read(&src, path), 0);
  for (long k = 1; k < 400; k++) {
    bayes_csv_table t;
    bayes_diag d;
    bayes_csv_table_init(&t);
    bayes_diag_init(&d);
    bayes_fail_alloc_after(k);
    int rc = bayes_csv_read(&src, &t, &d);
    bayes_fail_alloc_after(0);
    ck_assert(rc == 0 || rc == BAYES_EINTERNAL);
    if (rc == 0) {
      ck_assert_int_eq(t.nrows, 10);
    }
    bayes_csv_table_destroy(&t);
    bayes_diag_destroy(&d);
  }
  bayes_src_destroy(&src);
  for (long k = 1; k < 400; k++) {
    bayes_fail_alloc_after(k);
    bayes_run_summary *s = crafted_try();
    bayes_fail_alloc_after(0);
    bayes_summary_free(s);
  }
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("stancsv");
  TCase *tc = tcase_create("csv");
  tcase_add_test(tc, test_roundtrip);
  tcase_add_test(tc, test_temp_file);
  tcase_add_test(tc, test_golden);
  tcase_add_test(tc, test_golden_normal);
  tcase_add_test(tc, test_default_markers);
  tcase_add_test(tc, test_read_cmdstan);
  tcase_add_test(tc, test_read_rstan);
  tcase_add_test(tc, test_read_variants);
  tcase_add_test(tc, test_malformed);
  suite_add_tcase(s, tc);
  tc = tcase_create("summary");
  tcase_add_test(tc, test_ebfmi);
  tcase_add_test(tc, test_summary_sampler_checks);
  tcase_add_test(tc, test_summary_rhat_ess_warnings);
  tcase_add_test(tc, test_summary_many_quantities);
  tcase_add_test(tc, test_summary_text);
  tcase_add_test(tc, test_summary_json);
  tcase_add_test(tc, test_summary_from_file);
  tcase_add_test(tc, test_oom);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return bt_run_suite(suite()); }
