/* stancsv.c — CmdStan's sample CSV: the writer (header laid out as CmdStan 2.33 prints
 * it, so rstan::read_stan_csv, cmdstanpy and posterior parse it; temporary file renamed
 * when complete) and a tolerant reader with located errors. No sampling, no statistics:
 * rows arrive already chosen (warmup, thinning) by the caller. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "bayes.h"
#include "stancsv.h"
#include "util.h"

/* The Stan release whose layout we follow; readers look at these numbers. */
#define STAN_MAJOR 2
#define STAN_MINOR 33
#define STAN_PATCH 0

struct bayes_csv_writer {
  bayes_afile af;  /* written under a temporary name, renamed on close */
  size_t n, nlead;
  bayes_sb line;   /* one row at a time */
};

/* ==== writing ==== */

/* CmdStan prints non-finite values as C++ streams do */
static void put_num(bayes_sb *sb, double x)
{
  if (isnan(x))
    bayes_sb_puts(sb, "nan");
  else if (isinf(x))
    bayes_sb_puts(sb, x > 0 ? "inf" : "-inf");
  else
    bayes_sb_double(sb, x);
}


/* "#<indent>key = value" plus " (Default)" when the value is Stan's default */
void bayes_csv_kv(bayes_sb *sb, int depth, const char *key, const char *val, bool is_default)
{
  bayes_sb_printf(sb, "#%*s%s = %s%s\n", 1 + 2 * depth, "", key, val,
                  is_default ? " (Default)" : "");
}

void bayes_csv_kv_num(bayes_sb *sb, int depth, const char *key, double v, double dflt)
{
  bayes_sb s;
  bayes_sb_init(&s);
  put_num(&s, v);
  bayes_csv_kv(sb, depth, key, bayes_sb_cstr(&s), v == dflt);
  bayes_sb_destroy(&s);
}

static void kv_long(bayes_sb *sb, int depth, const char *key, long v, long dflt)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%ld", v);
  bayes_csv_kv(sb, depth, key, buf, v == dflt);
}

void bayes_csv_section(bayes_sb *sb, int depth, const char *name)
{
  bayes_sb_printf(sb, "#%*s%s\n", 1 + 2 * depth, "", name);
}



static const char *metric_name(bayes_metric_kind k)
{
  return k == BAYES_METRIC_DENSE ? "dense_e" : k == BAYES_METRIC_UNIT ? "unit_e" : "diag_e";
}

static void write_common(bayes_sb *sb, const bayes_csv_header *h, int id, double radius,
                         uint64_t seed_value);

static void write_header(bayes_sb *sb, const bayes_csv_header *h)
{
  const bayes_sampler_cfg *c = h->cfg;
  bayes_sampler_cfg d;
  bayes_sampler_defaults(&d);
  char stamp[64];
  if (h->start_datetime) {
    snprintf(stamp, sizeof stamp, "%s", h->start_datetime);
  } else {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S UTC", &tm);
  }
  const char *method = h->method && *h->method ? h->method : "sample";
  bayes_sb_printf(sb, "# stan_version_major = %d\n# stan_version_minor = %d\n"
                      "# stan_version_patch = %d\n", STAN_MAJOR, STAN_MINOR, STAN_PATCH);
  bayes_sb_printf(sb, "# model = %s\n", h->model ? h->model : "");
  bayes_sb_printf(sb, "# start_datetime = %s\n", stamp);
  bayes_csv_kv(sb, 0, "method", method, !strcmp(method, "sample"));
  if (!c) {
    bayes_sb_puts(sb, h->method_config ? h->method_config : "");
    write_common(sb, h, 1, 2, h->seed);
    return;
  }
  bayes_csv_section(sb, 1, method);
  kv_long(sb, 2, "num_samples", c->draws, d.draws);
  kv_long(sb, 2, "num_warmup", c->warmup, d.warmup);
  /* 0/1, not false/true: rstan 2.21 reads these with as.integer */
  bayes_csv_kv(sb, 2, "save_warmup", h->save_warmup ? "1" : "0", !h->save_warmup);
  kv_long(sb, 2, "thin", c->thin, d.thin);
  bayes_csv_section(sb, 2, "adapt");
  bayes_csv_kv(sb, 3, "engaged", c->adapt ? "1" : "0", c->adapt == d.adapt);
  bayes_csv_kv_num(sb, 3, "gamma", c->gamma, d.gamma);
  bayes_csv_kv_num(sb, 3, "delta", c->delta, d.delta);
  bayes_csv_kv_num(sb, 3, "kappa", c->kappa, d.kappa);
  bayes_csv_kv_num(sb, 3, "t0", c->t0, d.t0);
  kv_long(sb, 3, "init_buffer", c->init_buffer, d.init_buffer);
  kv_long(sb, 3, "term_buffer", c->term_buffer, d.term_buffer);
  kv_long(sb, 3, "window", c->window, d.window);
  bayes_csv_kv(sb, 2, "algorithm", "hmc", 1);
  bayes_csv_section(sb, 3, "hmc");
  if (c->algo == BAYES_ALGO_HMC) {
    bayes_csv_kv(sb, 4, "engine", "static", 0);
    bayes_csv_section(sb, 5, "static");
    bayes_csv_kv_num(sb, 6, "int_time", c->hmc_int_time, d.hmc_int_time);
  } else {
    bayes_csv_kv(sb, 4, "engine", "nuts", 1);
    bayes_csv_section(sb, 5, "nuts");
    kv_long(sb, 6, "max_depth", c->max_depth, d.max_depth);
  }
  bayes_csv_kv(sb, 4, "metric", metric_name(c->metric), c->metric == d.metric);
  bayes_csv_kv(sb, 4, "metric_file", "", 1);
  bayes_csv_kv_num(sb, 4, "stepsize", c->stepsize, d.stepsize);
  bayes_csv_kv_num(sb, 4, "stepsize_jitter", c->stepsize_jitter, d.stepsize_jitter);
  kv_long(sb, 2, "num_chains", h->num_chains > 0 ? h->num_chains : 1, 1);
  write_common(sb, h, c->chain, c->init_radius, c->seed);
}

/* The part of the header every method shares: id, data, init, random, output. */
static void write_common(bayes_sb *sb, const bayes_csv_header *h, int id, double radius,
                         uint64_t seed_value)
{
  kv_long(sb, 0, "id", id, 1);
  bayes_csv_section(sb, 0, "data");
  const char *df = h->data_file ? h->data_file : "";
  bayes_csv_kv(sb, 1, "file", df, !*df);
  bayes_sb s;
  bayes_sb_init(&s);
  if (h->init && *h->init)
    bayes_sb_puts(&s, h->init);
  else
    put_num(&s, radius);
  bayes_csv_kv(sb, 0, "init", bayes_sb_cstr(&s), !strcmp(bayes_sb_cstr(&s), "2"));
  bayes_sb_destroy(&s);
  bayes_csv_section(sb, 0, "random");
  char seed[32];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)seed_value);
  bayes_csv_kv(sb, 1, "seed", seed, 0);
  bayes_csv_section(sb, 0, "output");
  const char *of = h->output_file ? h->output_file : "output.csv";
  bayes_csv_kv(sb, 1, "file", of, !strcmp(of, "output.csv"));
  bayes_csv_kv(sb, 1, "diagnostic_file", "", 1);
  bayes_csv_kv(sb, 1, "refresh", "100", 1);
  /* every value is written in its shortest exact form, not to 6 significant digits */
  bayes_csv_kv(sb, 1, "sig_figs", "17", 0);
  bayes_csv_kv(sb, 1, "profile_file", "profile.csv", 1);
  kv_long(sb, 0, "num_threads", h->num_threads > 0 ? h->num_threads : 1, 1);
  bayes_sb_printf(sb, "# bayesrun_version = %s\n", bayes_version());
}

bayes_csv_writer *bayes_csv_open(const char *path, const bayes_csv_header *h, size_t n,
                                 const char *const *names, char *err, size_t errlen)
{
  bayes_csv_writer *w = bayes_calloc(1, sizeof *w);
  bayes_sb sb;
  bayes_sb_init(&sb);
  if (!w) goto oom;
  bayes_sb_init(&w->line);
  w->n = n;
  write_header(&sb, h);
  if (h->lead) {
    w->nlead = h->nlead;
    for (size_t i = 0; i < h->nlead; i++) {
      if (i) bayes_sb_putc(&sb, ',');
      bayes_sb_puts(&sb, h->lead[i]);
    }
  } else {
    w->nlead = 7;
    bayes_sb_puts(&sb, "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,"
                       "energy__");
  }
  for (size_t i = 0; i < n; i++) {
    if (i || w->nlead) bayes_sb_putc(&sb, ',');
    bayes_sb_puts(&sb, names[i]);
  }
  bayes_sb_putc(&sb, '\n');
  if (sb.oom) goto oom;
  if (bayes_afile_open(&w->af, path, err, errlen) != 0) goto fail;
  if (fwrite(sb.s, 1, sb.len, w->af.f) != sb.len) {
    bayes_errf(err, errlen, "cannot write %s: %s", w->af.tmp, strerror(errno));
    bayes_csv_abort(w);
    bayes_sb_destroy(&sb);
    return NULL;
  }
  bayes_sb_destroy(&sb);
  return w;
oom:
  bayes_errf(err, errlen, "out of memory");
fail:
  bayes_sb_destroy(&sb);
  if (w) {
    bayes_sb_destroy(&w->line);
    bayes_free(w);
  }
  return NULL;
}

static int flush_line(bayes_csv_writer *w)
{
  if (w->line.oom) return -1;
  size_t n = w->line.len;
  w->line.len = 0;
  return fwrite(w->line.s, 1, n, w->af.f) == n ? 0 : -1;
}

int bayes_csv_adaptation(bayes_csv_writer *w, double stepsize, const double *inv_metric,
                         size_t dim, bool dense)
{
  bayes_sb *sb = &w->line;
  bayes_sb_puts(sb, "# Adaptation terminated\n# Step size = ");
  put_num(sb, stepsize);
  bayes_sb_putc(sb, '\n');
  if (!inv_metric) {
    bayes_sb_puts(sb, "# No free parameters for unit metric\n");
  } else {
    bayes_sb_puts(sb, dense ? "# Elements of inverse mass matrix:\n"
                            : "# Diagonal elements of inverse mass matrix:\n");
    size_t rows = dense ? dim : (dim ? 1 : 0);
    for (size_t r = 0; r < rows; r++) {
      bayes_sb_puts(sb, "# ");
      for (size_t j = 0; j < dim; j++) {
        if (j) bayes_sb_puts(sb, ", ");
        put_num(sb, inv_metric[dense ? r * dim + j : j]);
      }
      bayes_sb_putc(sb, '\n');
    }
  }
  return flush_line(w);
}

int bayes_csv_row(bayes_csv_writer *w, const bayes_draw *d, const double *values)
{
  bayes_sb *sb = &w->line;
  put_num(sb, d->lp);
  bayes_sb_putc(sb, ',');
  put_num(sb, d->accept_stat);
  bayes_sb_putc(sb, ',');
  put_num(sb, d->stepsize);
  bayes_sb_printf(sb, ",%d,%d,%d,", d->treedepth, d->n_leapfrog, d->divergent ? 1 : 0);
  put_num(sb, d->energy);
  for (size_t i = 0; i < w->n; i++) {
    bayes_sb_putc(sb, ',');
    put_num(sb, values[i]);
  }
  bayes_sb_putc(sb, '\n');
  return flush_line(w);
}

int bayes_csv_comment(bayes_csv_writer *w, const char *text)
{
  bayes_sb *sb = &w->line;
  while (*text) {
    size_t k = strcspn(text, "\n");
    bayes_sb_puts(sb, k ? "# " : "#");
    bayes_sb_putn(sb, text, k);
    bayes_sb_putc(sb, '\n');
    text += k + (text[k] == '\n');
  }
  return flush_line(w);
}

int bayes_csv_values(bayes_csv_writer *w, const double *lead, const double *values)
{
  bayes_sb *sb = &w->line;
  for (size_t i = 0; i < w->nlead; i++) {
    if (i) bayes_sb_putc(sb, ',');
    put_num(sb, lead[i]);
  }
  for (size_t i = 0; i < w->n; i++) {
    if (i || w->nlead) bayes_sb_putc(sb, ',');
    put_num(sb, values[i]);
  }
  bayes_sb_putc(sb, '\n');
  return flush_line(w);
}

/* CmdStan prints milliseconds / 1000 with the stream's default 6 significant digits */
static void put_seconds(bayes_sb *sb, double s)
{
  if (!isfinite(s) || s < 0) s = 0;
  bayes_sb_printf(sb, "%.6g", round(s * 1000) / 1000);
}

static void free_writer(bayes_csv_writer *w)
{
  bayes_sb_destroy(&w->line);
  bayes_free(w);
}

int bayes_csv_close(bayes_csv_writer *w, double warmup_seconds, double sampling_seconds,
                    char *err, size_t errlen)
{
  bayes_sb *sb = &w->line;
  if (!isfinite(warmup_seconds) || warmup_seconds < 0) warmup_seconds = 0;
  if (!isfinite(sampling_seconds) || sampling_seconds < 0) sampling_seconds = 0;
  double w3 = round(warmup_seconds * 1000) / 1000, s3 = round(sampling_seconds * 1000) / 1000;
  bayes_sb_puts(sb, "# \n#  Elapsed Time: ");
  put_seconds(sb, w3);
  bayes_sb_puts(sb, " seconds (Warm-up)\n#                ");
  put_seconds(sb, s3);
  bayes_sb_puts(sb, " seconds (Sampling)\n#                ");
  put_seconds(sb, w3 + s3);
  bayes_sb_puts(sb, " seconds (Total)\n# \n");
  if (flush_line(w) != 0) {
    bayes_errf(err, errlen, "cannot write %s: %s", w->af.tmp,
               w->line.oom ? "out of memory" : strerror(errno ? errno : EIO));
    bayes_csv_abort(w);
    return -1;
  }
  int rc = bayes_afile_commit(&w->af, err, errlen);
  free_writer(w);
  return rc;
}

void bayes_csv_abort(bayes_csv_writer *w)
{
  if (!w) return;
  bayes_afile_abort(&w->af);
  free_writer(w);
}

/* ==== reading ==== */

void bayes_csv_table_init(bayes_csv_table *t)
{
  memset(t, 0, sizeof *t);
  t->chain_id = 1;
  t->num_warmup = t->num_samples = t->thin = -1;
  t->max_depth = 10;
  t->stepsize = t->warmup_seconds = t->sampling_seconds = t->psis_khat = NAN;
}

void bayes_csv_table_destroy(bayes_csv_table *t)
{
  if (!t) return;
  bayes_free(t->model);
  bayes_free(t->method);
  bayes_free(t->engine);
  bayes_free(t->metric);
  for (size_t i = 0; i < t->ncols; i++) bayes_free(t->names[i]);
  bayes_free(t->names);
  bayes_free(t->values);
  bayes_free(t->inv_metric);
  bayes_free(t->failure);
  bayes_csv_table_init(t);
}

long bayes_csv_column(const bayes_csv_table *t, const char *name)
{
  for (size_t i = 0; i < t->ncols; i++)
    if (!strcmp(t->names[i], name)) return (long)i;
  return -1;
}

typedef struct {
  const bayes_src *src;
  bayes_diag *d;
  bayes_csv_table *t;
  int line;                 /* 1-based number of the current line */
  const char *ls;           /* its start */
  size_t vcap, mcap;
  int oom;
  int adapt_state;          /* 0 none, 1 after "Diagonal elements", 2 after "Elements" */
  int in_footer;
  long iter;                /* rstan's iter (-1 if absent) */
} reader;

static int col_of(const reader *r, const char *p) { return (int)(p - r->ls) + 1; }

static void rerr(reader *r, const char *at, int len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void rerr(reader *r, const char *at, int len, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  bayes_diag_vadd(r->d, BAYES_DIAG_ERROR, r->src, r->line, at ? col_of(r, at) : 1,
                  len > 0 ? len : 1, fmt, ap);
  va_end(ap);
}

static const char *skip_ws(const char *p, const char *e)
{
  while (p < e && (*p == ' ' || *p == '\t')) p++;
  return p;
}

/* A whole cell [p, e) as a number (strtod's forms, including nan and inf). */
static int parse_cell(const char *p, const char *e, double *x)
{
  p = skip_ws(p, e);
  while (e > p && (e[-1] == ' ' || e[-1] == '\t')) e--;
  if (p == e || e - p > 300) return -1;
  char buf[320];
  memcpy(buf, p, (size_t)(e - p));
  buf[e - p] = 0;
  char *end;
  *x = strtod(buf, &end);
  return *end ? -1 : 0;
}

static char *dup_range(reader *r, const char *p, const char *e)
{
  char *s = bayes_strndup(p, (size_t)(e - p));
  if (!s) r->oom = 1;
  return s;
}

static void set_str(reader *r, char **dst, const char *p, const char *e)
{
  char *s = dup_range(r, p, e);
  if (!s) return;
  bayes_free(*dst);
  *dst = s;
}

static int truthy(const char *p, const char *e)
{
  size_t n = (size_t)(e - p);
  return (n == 1 && *p == '1') || (n == 4 && !strncmp(p, "true", 4));
}

/* "# key = value (Default)" in the header: remember what summaries need. */
static void header_comment(reader *r, const char *p, const char *e)
{
  const char *eq = memchr(p, '=', (size_t)(e - p));
  if (!eq) return;
  const char *k = skip_ws(p, eq), *ke = eq;
  while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
  const char *v = skip_ws(eq + 1, e), *ve = e;
  while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
  static const char dflt[] = "(Default)";
  if ((size_t)(ve - v) >= sizeof dflt - 1 && !memcmp(ve - (sizeof dflt - 1), dflt, sizeof dflt - 1)) {
    ve -= sizeof dflt - 1;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
  }
  size_t kl = (size_t)(ke - k);
  bayes_csv_table *t = r->t;
#define KEY(s) (kl == sizeof(s) - 1 && !memcmp(k, s, kl))
  char num[64];
  size_t vl = (size_t)(ve - v) < sizeof num - 1 ? (size_t)(ve - v) : sizeof num - 1;
  memcpy(num, v, vl);
  num[vl] = 0;
  char *end;
  if (KEY("model")) set_str(r, &t->model, v, ve);
  else if (KEY("method")) set_str(r, &t->method, v, ve);
  else if (KEY("engine")) set_str(r, &t->engine, v, ve);
  else if (KEY("metric")) set_str(r, &t->metric, v, ve);
  else if (KEY("save_warmup")) t->save_warmup = truthy(v, ve);
  else if (KEY("sampler_t")) { /* rstan's sample_file: "NUTS(diag_e)", "HMC", ... */
    if (vl >= 4 && !memcmp(num, "NUTS", 4)) set_str(r, &t->engine, "nuts", "nuts" + 4);
    else if (vl >= 3 && !memcmp(num, "HMC", 3)) set_str(r, &t->engine, "static", "static" + 6);
    const char *lp = memchr(v, '(', (size_t)(ve - v));
    if (lp && ve[-1] == ')') set_str(r, &t->metric, lp + 1, ve - 1);
    if (!t->method) set_str(r, &t->method, "sample", "sample" + 6);
  } else if (KEY("iter")) { /* rstan: warmup + sampling iterations */
    long x = strtol(num, &end, 10);
    if (!*end && end != num) r->iter = x;
  } else if (KEY("id") || KEY("chain_id")) {
    long x = strtol(num, &end, 10);
    if (!*end && end != num) t->chain_id = (int)x;
  } else if (KEY("seed")) {
    unsigned long long x = strtoull(num, &end, 10);
    if (!*end && end != num && num[0] != '-') {
      t->seed = x;
      t->has_seed = true;
    }
  } else if (KEY("num_warmup") || KEY("num_samples") || KEY("thin") || KEY("max_depth") ||
             KEY("warmup") || KEY("max_treedepth")) {
    long x = strtol(num, &end, 10);
    if (*end || end == num) return;
    if (KEY("num_warmup") || KEY("warmup")) t->num_warmup = x;
    else if (KEY("num_samples")) t->num_samples = x;
    else if (KEY("thin")) t->thin = x;
    else t->max_depth = (int)x;
  }
#undef KEY
}

static void push_metric(reader *r, double x)
{
  bayes_csv_table *t = r->t;
  if (bayes_grow(&t->inv_metric, &r->mcap, t->metric_len + 1, sizeof(double))) {
    r->oom = 1;
    return;
  }
  t->inv_metric[t->metric_len++] = x;
}

/* A comment after the column names: the adaptation block or the footer. */
static void body_comment(reader *r, const char *p, const char *e)
{
  bayes_csv_table *t = r->t;
  const char *q = skip_ws(p, e);
  size_t n = (size_t)(e - q);
#define STARTS(s) (n >= sizeof(s) - 1 && !memcmp(q, s, sizeof(s) - 1))
  if (STARTS("PSIS k-hat =")) {
    const char *v = q + sizeof("PSIS k-hat =") - 1;
    double x;
    if (!parse_cell(v, e, &x)) t->psis_khat = x;
    return;
  }
  if (STARTS("PSIS resampled = 1")) {
    t->psis_resampled = true;
    return;
  }
  if (STARTS("Did not converge:")) {
    if (!t->failure) set_str(r, &t->failure, skip_ws(q + sizeof("Did not converge:") - 1, e), e);
    return;
  }
  if (STARTS("Adaptation terminated")) {
    t->nwarmup = t->nrows;
    r->adapt_state = 0;
    return;
  }
  if (STARTS("Step size =")) {
    double x;
    const char *v = q + sizeof("Step size =") - 1;
    if (parse_cell(v, e, &x))
      rerr(r, v, (int)(e - v), "the step size is not a number");
    else
      t->stepsize = x;
    return;
  }
  if (STARTS("Diagonal elements of inverse mass matrix:")) {
    r->adapt_state = 1;
    t->dense = false;
    return;
  }
  if (STARTS("Elements of inverse mass matrix:")) {
    r->adapt_state = 2;
    t->dense = true;
    return;
  }
  if (STARTS("Elapsed Time:")) {
    r->in_footer = 1;
    q += sizeof("Elapsed Time:") - 1;
    n = (size_t)(e - q);
  }
  if (r->in_footer) {
    double x = strtod(q, NULL);
    if (strstr(q, "(Warm-up)") && strstr(q, "(Warm-up)") < e) t->warmup_seconds = x;
    else if (strstr(q, "(Sampling)") && strstr(q, "(Sampling)") < e) t->sampling_seconds = x;
    return;
  }
  if (r->adapt_state && n > 0) {
    /* a line of the inverse metric: "v, v, v" */
    size_t before = t->metric_len;
    const char *c = q;
    for (;;) {
      const char *ce = memchr(c, ',', (size_t)(e - c));
      if (!ce) ce = e;
      double x;
      if (parse_cell(c, ce, &x)) {
        if (before == t->metric_len && c == q) { /* not a metric line: the block ended */
          r->adapt_state = 0;
          return;
        }
        const char *a = skip_ws(c, ce);
        rerr(r, a, (int)(ce - a), "this element of the inverse mass matrix is not a number");
        return;
      }
      push_metric(r, x);
      if (ce == e) break;
      c = ce + 1;
    }
    if (r->adapt_state == 1) r->adapt_state = 0; /* the diagonal is one line */
  }
#undef STARTS
}

static void header_line(reader *r, const char *p, const char *e)
{
  bayes_csv_table *t = r->t;
  size_t cap = 0;
  const char *c = p;
  for (;;) {
    const char *ce = memchr(c, ',', (size_t)(e - c));
    if (!ce) ce = e;
    const char *a = skip_ws(c, ce), *b = ce;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
    if (b > a && *a == '"' && b[-1] == '"' && b - a >= 2) a++, b--;
    if (a == b) rerr(r, c, 1, "column %zu has no name", t->ncols + 1);
    if (bayes_grow(&t->names, &cap, t->ncols + 1, sizeof(char *))) {
      r->oom = 1;
      return;
    }
    t->names[t->ncols] = dup_range(r, a, b);
    if (!t->names[t->ncols]) return;
    t->ncols++;
    for (size_t i = 0; i + 1 < t->ncols; i++)
      if (!strcmp(t->names[i], t->names[t->ncols - 1])) {
        rerr(r, a, (int)(b - a), "column '%s' appears twice (also column %zu)",
             t->names[i], i + 1);
        break;
      }
    if (ce == e) break;
    c = ce + 1;
  }
}

static void data_row(reader *r, const char *p, const char *e)
{
  bayes_csv_table *t = r->t;
  size_t need = (t->nrows + 1) * t->ncols;
  if (bayes_grow(&t->values, &r->vcap, need, sizeof(double))) {
    r->oom = 1;
    return;
  }
  double *row = t->values + t->nrows * t->ncols;
  size_t k = 0;
  int bad = 0;
  const char *c = p, *extra = NULL;
  for (;;) {
    const char *ce = memchr(c, ',', (size_t)(e - c));
    if (!ce) ce = e;
    if (k < t->ncols) {
      double x = 0;
      if (parse_cell(c, ce, &x)) {
        if (bad) {
        } else if (skip_ws(c, ce) == ce) {
          rerr(r, c, 1, "empty cell in column '%s'", t->names[k]);
        } else {
          int n = (int)(ce - c);
          rerr(r, c, n, "'%.*s' is not a number (column '%s')", n > 40 ? 40 : n, c,
               t->names[k]);
        }
        bad = 1;
      }
      row[k] = x;
    } else if (!extra) {
      extra = c;
    }
    k++;
    if (ce == e) break;
    c = ce + 1;
  }
  if (k != t->ncols && !bad) {
    if (extra)
      rerr(r, extra, (int)(e - extra),
           "this row has %zu values, but the line of column names has %zu", k, t->ncols);
    else
      rerr(r, e, 1, "this row has only %zu value%s, but the line of column names has %zu",
           k, k == 1 ? "" : "s", t->ncols);
  }
  if (k != t->ncols) bad = 1;
  if (!bad) t->nrows++;
}

int bayes_csv_read(const bayes_src *src, bayes_csv_table *t, bayes_diag *d)
{
  reader r;
  memset(&r, 0, sizeof r);
  r.src = src;
  r.d = d;
  r.t = t;
  r.iter = -1;
  int nerr0 = d->nerr;
  bool have_header = false;
  const char *p = src->text, *end = src->text + src->len;
  while (p < end && !r.oom) {
    const char *e = memchr(p, '\n', (size_t)(end - p));
    const char *next = e ? e + 1 : end;
    if (!e) e = end;
    r.line++;
    r.ls = p;
    const char *le = e;
    if (le > p && le[-1] == '\r') le--;
    const char *q = skip_ws(p, le);
    if (q == le) {
      /* blank line */
    } else if (*q == '#') {
      if (!have_header)
        header_comment(&r, q + 1, le);
      else
        body_comment(&r, q + 1, le);
    } else if (!have_header) {
      double x;
      const char *ce = memchr(q, ',', (size_t)(le - q));
      if (!parse_cell(q, ce ? ce : le, &x)) {
        rerr(&r, q, (int)((ce ? ce : le) - q),
             "expected the line of column names (lp__,accept_stat__,...) before the "
             "draws, but this line holds numbers");
        break;
      }
      header_line(&r, q, le);
      have_header = true;
    } else {
      r.adapt_state = 0;
      data_row(&r, p, le);
      if (d->nerr - nerr0 >= BAYES_MAX_ERRORS) break;
    }
    p = next;
  }
  if (!r.oom && !have_header && d->nerr == nerr0)
    bayes_diag_add(d, BAYES_DIAG_ERROR, src, 0, 0, 1,
                   "no line of column names (lp__,accept_stat__,...): this is not a "
                   "CmdStan CSV file, or it is empty");
  if (!r.oom && t->dense && t->metric_len && d->nerr == nerr0) {
    size_t dim = (size_t)llround(sqrt((double)t->metric_len));
    if (dim * dim != t->metric_len)
      bayes_diag_add(d, BAYES_DIAG_ERROR, src, 0, 0, 1,
                     "the inverse mass matrix has %zu elements, which is not a square "
                     "number", t->metric_len);
  }
  if (t->num_samples < 0 && r.iter >= 0 && t->num_warmup >= 0)
    t->num_samples = r.iter - t->num_warmup;
  /* CmdStan's variational output starts with the approximation's mean: not a draw */
  if (t->method && !strcmp(t->method, "variational") && t->nwarmup == 0 && t->nrows > 0)
    t->nwarmup = 1;
  /* warmup rows without an adaptation block (adaptation off): the header says how many */
  if (t->save_warmup && t->nwarmup == 0 && t->num_warmup > 0) {
    long thin = t->thin > 0 ? t->thin : 1;
    size_t nw = (size_t)((t->num_warmup + thin - 1) / thin);
    t->nwarmup = nw < t->nrows ? nw : t->nrows;
  }
  if (r.oom || !t->model || !t->method || !t->engine || !t->metric) {
    if (!r.oom) {
      char **f[] = {&t->model, &t->method, &t->engine, &t->metric};
      for (size_t i = 0; i < 4; i++)
        if (!*f[i] && !(*f[i] = bayes_strdup(""))) r.oom = 1;
    }
    if (r.oom) {
      bayes_csv_table_destroy(t);
      return BAYES_EINTERNAL;
    }
  }
  if (d->nerr > nerr0 || d->oom) {
    bayes_csv_table_destroy(t);
    return d->oom ? BAYES_EINTERNAL : BAYES_EDATA;
  }
  return 0;
}
