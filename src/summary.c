/* summary.c — the run summary: per-quantity figures through diagnostics.h, the sampler
 * checks (divergences, tree depth, E-BFMI), warnings worded for students, the terminal
 * table and summary.json. Pure formatting and arithmetic on draws already in memory:
 * it reads no model and prints nothing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "summary.h"
#include "util.h"


double bayes_ebfmi(const double *energy, size_t n, size_t stride)
{
  if (n < 2) return NAN;
  double mean = 0;
  for (size_t t = 0; t < n; t++) mean += energy[t * stride];
  mean /= (double)n;
  double num = 0, den = 0;
  for (size_t t = 0; t < n; t++) {
    double e = energy[t * stride];
    den += (e - mean) * (e - mean);
    if (t) {
      double de = e - energy[(t - 1) * stride];
      num += de * de;
    }
  }
  return den > 0 ? num / den : NAN;
}

/* lp__ is summarised like a quantity (as CmdStan's stansummary and posterior do); the
 * other columns ending in "__" describe the sampler, not the posterior */
static bool is_quantity(const char *name)
{
  size_t n = strlen(name);
  if (n >= 2 && name[n - 1] == '_' && name[n - 2] == '_') return !strcmp(name, "lp__");
  return true;
}

static long find_col(const bayes_summary_input *in, const char *name)
{
  for (size_t j = 0; j < in->ncols; j++)
    if (in->names[j] && !strcmp(in->names[j], name)) return (long)j;
  return -1;
}

void bayes_summary_free(bayes_run_summary *s)
{
  if (!s) return;
  bayes_free(s->method);
  if (s->names)
    for (size_t i = 0; i < s->nq; i++) bayes_free(s->names[i]);
  bayes_free(s->names);
  bayes_free(s->q);
  bayes_free(s->ebfmi);
  bayes_free(s->warmup_seconds);
  bayes_free(s->sampling_seconds);
  for (size_t i = 0; i < s->nwarnings; i++) bayes_free(s->warnings[i]);
  bayes_free(s->warnings);
  for (size_t i = 0; i < s->nnotes; i++) bayes_free(s->notes[i]);
  bayes_free(s->notes);
  bayes_free(s->failure);
  bayes_free(s->details_text);
  bayes_free(s->details_json);
  bayes_free(s);
}

/* a copy of an optional string: 0, or -1 out of memory */
static int dup_opt(char **dst, const char *src)
{
  *dst = NULL;
  return src && !(*dst = bayes_strdup(src)) ? -1 : 0;
}

bayes_run_summary *bayes_summary_compute(const bayes_summary_input *in, char *err,
                                         size_t errlen)
{
  bayes_run_summary *s = NULL;
  double *col = NULL, *work = NULL;
  const double **ptr = NULL;
  if (!in || !in->nchains || (!in->ndraws && !in->failure) || !in->chains || !in->names) {
    bayes_errf(err, errlen, "no draws to summarise");
    return NULL;
  }
  for (size_t c = 0; c < in->nchains; c++)
    if (!in->chains[c]) {
      bayes_errf(err, errlen, "chain %zu has no draws", c + 1);
      return NULL;
    }
  size_t nc = in->nchains, nd = in->ndraws, stride = in->ncols;
  s = bayes_calloc(1, sizeof *s);
  if (!s) goto oom;
  s->method = bayes_strdup(in->method ? in->method : "");
  s->nchains = nc;
  s->ndraws = nd;
  s->warmup = in->warmup;
  s->seed = in->seed;
  s->has_seed = in->has_seed;
  s->max_depth = in->max_depth > 0 ? in->max_depth : 10;
  s->names = bayes_calloc(in->ncols ? in->ncols : 1, sizeof *s->names);
  s->q = bayes_calloc(in->ncols ? in->ncols : 1, sizeof *s->q);
  s->ebfmi = bayes_calloc(nc, sizeof *s->ebfmi);
  s->warmup_seconds = bayes_calloc(nc, sizeof(double));
  s->sampling_seconds = bayes_calloc(nc, sizeof(double));
  col = bayes_malloc((nc * nd + 1) * sizeof *col);
  work = bayes_malloc((bayes_summary_work(nc, nd) + 1) * sizeof *work);
  ptr = bayes_malloc(nc * sizeof *ptr);
  if (!s->method || !s->names || !s->q || !s->ebfmi || !s->warmup_seconds ||
      !s->sampling_seconds || !col || !work || !ptr)
    goto oom;
  s->approximate = in->approximate;
  s->psis_khat = in->approximate ? in->psis_khat : NAN;
  s->psis_resampled = in->psis_resampled;
  if (dup_opt(&s->failure, in->failure) || dup_opt(&s->details_text, in->details_text) ||
      dup_opt(&s->details_json, in->details_json))
    goto oom;
  if (in->nnotes) {
    if (!(s->notes = bayes_calloc(in->nnotes, sizeof *s->notes))) goto oom;
    for (; s->nnotes < in->nnotes; s->nnotes++)
      if (dup_opt(&s->notes[s->nnotes], in->notes[s->nnotes] ? in->notes[s->nnotes] : ""))
        goto oom;
  }
  for (size_t c = 0; c < nc; c++) ptr[c] = col + c * nd;

  for (size_t j = 0; j < in->ncols && nd > 0; j++) {
    if (!in->names[j] || !is_quantity(in->names[j])) continue;
    /* CmdStan's variational output holds lp__ = 0 for every draw: not a quantity */
    if (!strcmp(in->names[j], "lp__") && in->method && !strcmp(in->method, "advi")) continue;
    for (size_t c = 0; c < nc; c++)
      for (size_t i = 0; i < nd; i++) col[c * nd + i] = in->chains[c][i * stride + j];
    bayes_qsummary *q = &s->q[s->nq];
    if (bayes_summarise(ptr, nc, nd, work, q) != 0) {
      bayes_errf(err, errlen, "cannot summarise %s", in->names[j]);
      goto fail;
    }
    if (!(s->names[s->nq] = bayes_strdup(in->names[j]))) goto oom;
    s->nq++;
  }

  long jd = find_col(in, "divergent__"), jt = find_col(in, "treedepth__"),
       je = find_col(in, "energy__");
  s->has_divergent = jd >= 0;
  s->has_treedepth = jt >= 0 && !strcmp(s->method, "nuts");
  s->has_energy = je >= 0;
  double maxtotal = NAN;
  for (size_t c = 0; c < nc; c++) {
    const double *x = in->chains[c];
    for (size_t i = 0; i < nd; i++) {
      if (jd >= 0 && x[i * stride + (size_t)jd] != 0 && !isnan(x[i * stride + (size_t)jd]))
        s->divergences++;
      if (s->has_treedepth && x[i * stride + (size_t)jt] >= s->max_depth) s->treedepth_hits++;
    }
    s->ebfmi[c] = je >= 0 ? bayes_ebfmi(x + je, nd, stride) : NAN;
    s->warmup_seconds[c] = in->warmup_seconds ? in->warmup_seconds[c] : NAN;
    s->sampling_seconds[c] = in->sampling_seconds ? in->sampling_seconds[c] : NAN;
    double tot = s->warmup_seconds[c] + s->sampling_seconds[c];
    if (isfinite(tot) && (isnan(maxtotal) || tot > maxtotal)) maxtotal = tot;
  }
  s->total_seconds = isnan(in->total_seconds) ? maxtotal : in->total_seconds;
  if (bayes_summary_warnings(s)) goto oom;
  bayes_free(col);
  bayes_free(work);
  bayes_free(ptr);
  return s;
oom:
  bayes_errf(err, errlen, "out of memory");
fail:
  bayes_free(col);
  bayes_free(work);
  bayes_free(ptr);
  bayes_summary_free(s);
  return NULL;
}

/* ==== warnings ==== */

/* an R-hat to two decimals, or three when two would round it down onto the threshold */
static void put_rhat(bayes_sb *sb, double r)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%.2f", r);
  if (strtod(buf, NULL) <= BAYES_SUMMARY_RHAT_MAX) snprintf(buf, sizeof buf, "%.3f", r);
  bayes_sb_puts(sb, buf);
}

/* two decimals, or two significant digits for tiny values (0.0003, not 0.00) */
static const char *fmt_ebfmi(char *buf, double v)
{
  snprintf(buf, 32, v < 0.095 ? "%.2g" : "%.2f", v);
  return buf;
}

typedef struct {
  size_t i;
  double v;
} ranked;

static int by_v_desc(const void *a, const void *b)
{
  double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
  return (x < y) - (x > y);
}

static int by_v_asc(const void *a, const void *b) { return -by_v_desc(a, b); }

static int add_warning(bayes_run_summary *s, bayes_sb *sb)
{
  if (sb->oom) return -1;
  char **w = bayes_realloc(s->warnings, (s->nwarnings + 1) * sizeof *w);
  if (!w) return -1;
  s->warnings = w;
  if (!(w[s->nwarnings] = bayes_strdup(bayes_sb_cstr(sb)))) return -1;
  s->nwarnings++;
  sb->len = 0;
  if (sb->s) sb->s[0] = 0;
  return 0;
}

/* "X is V for NAME (above T)" for one quantity; "X is above T for a (v), b (v) and c (v)"
 * for up to BAYES_SUMMARY_WORST_SHOWN; "... for N quantities, worst a (v), ..." beyond */
static void list_quantities(bayes_sb *sb, const bayes_run_summary *s, const ranked *r,
                            size_t n, const char *what, const char *rel, double thr,
                            bool is_rhat)
{
  char t[32];
  snprintf(t, sizeof t, is_rhat ? "%.2f" : "%.0f", thr);
  if (n == 1) {
    bayes_sb_printf(sb, "%s is ", what);
    if (is_rhat)
      put_rhat(sb, r[0].v);
    else
      bayes_sb_printf(sb, "%.0f", r[0].v);
    bayes_sb_printf(sb, " for %s (%s %s)", s->names[r[0].i], rel, t);
    return;
  }
  bayes_sb_printf(sb, "%s is %s %s for ", what, rel, t);
  size_t shown = n <= BAYES_SUMMARY_WORST_SHOWN ? n : BAYES_SUMMARY_WORST_SHOWN;
  if (n > shown) bayes_sb_printf(sb, "%zu quantities, worst ", n);
  for (size_t k = 0; k < shown; k++) {
    if (k) bayes_sb_puts(sb, k + 1 == shown ? " and " : ", ");
    bayes_sb_printf(sb, "%s (", s->names[r[k].i]);
    if (is_rhat)
      put_rhat(sb, r[k].v);
    else
      bayes_sb_printf(sb, "%.0f", r[k].v);
    bayes_sb_putc(sb, ')');
  }
}

int bayes_summary_warnings(bayes_run_summary *s)
{
  for (size_t i = 0; i < s->nwarnings; i++) bayes_free(s->warnings[i]);
  bayes_free(s->warnings);
  s->warnings = NULL;
  s->nwarnings = 0;
  bayes_sb sb;
  bayes_sb_init(&sb);
  ranked *r = bayes_malloc((s->nq > s->nchains ? s->nq : s->nchains) * sizeof *r + 1);
  if (!r) return -1;
  long total = (long)(s->nchains * s->ndraws);
  size_t n;
  char b[32];

  if (s->psis_khat > BAYES_SUMMARY_KHAT_MAX) {
    bayes_sb_printf(&sb,
                    "PSIS k-hat is %.2f (above %.1f): the %s approximation is a poor fit to "
                    "the posterior, so its means, sds and quantiles may be far off%s. Use "
                    "NUTS for trustworthy numbers%s.",
                    s->psis_khat, BAYES_SUMMARY_KHAT_MAX, s->method,
                    s->psis_resampled ? ", even after importance resampling" : "",
                    s->psis_resampled ? "" : ", or --psis-resample to correct it partly");
    if (add_warning(s, &sb)) goto oom;
  }
  for (size_t i = 0; i < s->nnotes; i++) {
    bayes_sb_puts(&sb, s->notes[i]);
    if (add_warning(s, &sb)) goto oom;
  }

  if (s->has_divergent && s->divergences > 0) {
    bayes_sb_printf(&sb,
                    "%ld of %ld transitions ended with a divergence. The sampler could not "
                    "follow the posterior's curvature there, so the draws may be biased. Try "
                    "a non-centred parameterisation or increase adapt_delta (e.g. "
                    "--adapt-delta 0.95).",
                    s->divergences, total);
    if (add_warning(s, &sb)) goto oom;
  }
  if (s->has_treedepth && s->treedepth_hits > 0) {
    bayes_sb_printf(&sb,
                    "%ld of %ld transitions stopped at the maximum tree depth (%d). This does "
                    "not bias the draws, but the sampler is taking many small steps and "
                    "explores slowly. Reparameterise (e.g. give parameters similar scales) "
                    "or raise the limit (e.g. --max-depth %d).",
                    s->treedepth_hits, total, s->max_depth, s->max_depth + 2);
    if (add_warning(s, &sb)) goto oom;
  }
  n = 0;
  for (size_t c = 0; c < s->nchains; c++)
    if (s->ebfmi[c] < BAYES_SUMMARY_EBFMI_MIN) r[n++] = (ranked){c, s->ebfmi[c]};
  if (n) {
    if (n == 1) {
      bayes_sb_printf(&sb, "E-BFMI is %s in chain %zu (below %.1f)", fmt_ebfmi(b, r[0].v),
                      r[0].i + 1, BAYES_SUMMARY_EBFMI_MIN);
    } else {
      bayes_sb_printf(&sb, "E-BFMI is below %.1f in chains ", BAYES_SUMMARY_EBFMI_MIN);
      for (size_t k = 0; k < n; k++) {
        if (k) bayes_sb_puts(&sb, k + 1 == n ? " and " : ", ");
        bayes_sb_printf(&sb, "%zu (%s)", r[k].i + 1, fmt_ebfmi(b, r[k].v));
      }
    }
    bayes_sb_puts(&sb, ": the sampler moves only slowly between energy levels, so it may "
                       "not reach the tails of the posterior. Try a non-centred "
                       "parameterisation or tighter priors on scale parameters.");
    if (add_warning(s, &sb)) goto oom;
  }
  n = 0;
  for (size_t i = 0; i < s->nq; i++)
    if (s->q[i].rhat > BAYES_SUMMARY_RHAT_MAX) r[n++] = (ranked){i, s->q[i].rhat};
  if (n) {
    qsort(r, n, sizeof *r, by_v_desc);
    list_quantities(&sb, s, r, n, "R-hat", "above", BAYES_SUMMARY_RHAT_MAX, true);
    bayes_sb_puts(&sb, s->nchains > 1
                           ? ": the chains disagree with each other, so they have not "
                             "converged to the same distribution and the estimates cannot be "
                             "trusted yet."
                           : ": the first and second halves of the chain disagree, so it has "
                             "not converged and the estimates cannot be trusted yet.");
    bayes_sb_puts(&sb, " Run longer (more --warmup and --draws) or reparameterise the model.");
    if (add_warning(s, &sb)) goto oom;
  }
  n = 0;
  for (size_t i = 0; i < s->nq; i++)
    if (s->q[i].ess_bulk < BAYES_SUMMARY_ESS_MIN) r[n++] = (ranked){i, s->q[i].ess_bulk};
  if (n) {
    qsort(r, n, sizeof *r, by_v_asc);
    list_quantities(&sb, s, r, n, "ESS_bulk", "below", BAYES_SUMMARY_ESS_MIN, false);
    bayes_sb_puts(&sb, ": the draws hold too little independent information to estimate "
                       "the mean and median reliably. Run more draws (e.g. --draws 2000) "
                       "or reparameterise to reduce autocorrelation.");
    if (add_warning(s, &sb)) goto oom;
  }
  n = 0;
  for (size_t i = 0; i < s->nq; i++)
    if (s->q[i].ess_tail < BAYES_SUMMARY_ESS_MIN) r[n++] = (ranked){i, s->q[i].ess_tail};
  if (n) {
    qsort(r, n, sizeof *r, by_v_asc);
    list_quantities(&sb, s, r, n, "ESS_tail", "below", BAYES_SUMMARY_ESS_MIN, false);
    bayes_sb_puts(&sb, ": too few effectively independent draws reach the tails to estimate "
                       "the 5% and 95% quantiles reliably. Run more draws or "
                       "reparameterise.");
    if (add_warning(s, &sb)) goto oom;
  }
  bayes_free(r);
  bayes_sb_destroy(&sb);
  return 0;
oom:
  bayes_free(r);
  bayes_sb_destroy(&sb);
  return -1;
}

/* ==== the table ==== */

/* 4 significant digits in fixed notation for ordinary magnitudes, else scientific
 * (what posterior's print and stansummary show); NA where undefined */
static void fmt_sig(char *buf, size_t n, double x)
{
  if (isnan(x)) {
    snprintf(buf, n, "NA");
    return;
  }
  if (isinf(x)) {
    snprintf(buf, n, x > 0 ? "Inf" : "-Inf");
    return;
  }
  double a = fabs(x);
  if (a == 0) {
    snprintf(buf, n, "0");
  } else if (a >= 1e-3 && a < 1e6) {
    int dec = 3 - (int)floor(log10(a));
    if (dec < 0) dec = 0;
    snprintf(buf, n, "%.*f", dec, x);
    /* rounding may carry into a new digit (9.9996 -> 10.000): drop the extra one */
    if (dec > 0 && fabs(strtod(buf, NULL)) >= pow(10, 4 - dec)) snprintf(buf, n, "%.*f", dec - 1, x);
  } else {
    snprintf(buf, n, "%.3e", x);
  }
}

static void fmt_ess(char *buf, size_t n, double x)
{
  if (isfinite(x))
    snprintf(buf, n, "%.0f", x);
  else
    snprintf(buf, n, "NA");
}

static void fmt_rhat(char *buf, size_t n, double x)
{
  if (isfinite(x))
    snprintf(buf, n, "%.3f", x);
  else
    snprintf(buf, n, "NA");
}

#define NCOL 10

/* one paragraph, wrapped at `width` columns, continuation lines indented by `indent` */
static void put_wrapped(bayes_sb *sb, const char *first, const char *text, int indent,
                        int width)
{
  bayes_sb_puts(sb, first);
  int col = (int)strlen(first);
  const char *p = text;
  bool start = true;
  while (*p) {
    while (*p == ' ') p++;
    const char *e = p;
    while (*e && *e != ' ') e++;
    int wl = (int)(e - p);
    if (!start && col + 1 + wl > width) {
      bayes_sb_printf(sb, "\n%*s", indent, "");
      col = indent;
    } else if (!start) {
      bayes_sb_putc(sb, ' ');
      col++;
    }
    bayes_sb_putn(sb, p, (size_t)wl);
    col += wl;
    start = false;
    p = e;
  }
  bayes_sb_putc(sb, '\n');
}

char *bayes_summary_text(const bayes_run_summary *s)
{
  static const char *const head[NCOL] = {"name", "mean", "sd", "mcse", "q5", "q50", "q95",
                                          "ess_bulk", "ess_tail", "rhat"};
  bayes_sb sb;
  bayes_sb_init(&sb);
  char(*cell)[NCOL][32] = bayes_malloc((s->nq ? s->nq : 1) * sizeof *cell);
  if (!cell) return NULL;
  int w[NCOL];
  for (int k = 0; k < NCOL; k++) w[k] = (int)strlen(head[k]);
  for (size_t i = 0; i < s->nq; i++) {
    const bayes_qsummary *q = &s->q[i];
    snprintf(cell[i][0], 32, "%s", "");
    fmt_sig(cell[i][1], 32, q->mean);
    fmt_sig(cell[i][2], 32, q->sd);
    fmt_sig(cell[i][3], 32, q->mcse_mean);
    fmt_sig(cell[i][4], 32, q->q5);
    fmt_sig(cell[i][5], 32, q->q50);
    fmt_sig(cell[i][6], 32, q->q95);
    fmt_ess(cell[i][7], 32, q->ess_bulk);
    fmt_ess(cell[i][8], 32, q->ess_tail);
    fmt_rhat(cell[i][9], 32, q->rhat);
    int nl = (int)strlen(s->names[i]);
    if (nl > w[0]) w[0] = nl;
    for (int k = 1; k < NCOL; k++)
      if ((int)strlen(cell[i][k]) > w[k]) w[k] = (int)strlen(cell[i][k]);
  }
  if (s->failure) put_wrapped(&sb, "DID NOT CONVERGE: ", s->failure, 18, 88);
  if (s->approximate && s->ndraws == 1)
    bayes_sb_printf(&sb, "%s: the mode", *s->method ? s->method : "optimize");
  else if (s->approximate && s->ndraws == 0)
    bayes_sb_printf(&sb, "%s: no draws", s->method);
  else if (s->approximate)
    bayes_sb_printf(&sb, "%s: %zu draws from the approximation%s", s->method, s->ndraws,
                    s->psis_resampled ? " (importance-resampled)" : "");
  else
    bayes_sb_printf(&sb, "%s: %zu chain%s of %zu draws", *s->method ? s->method : "draws",
                    s->nchains, s->nchains == 1 ? "" : "s", s->ndraws);
  if (s->warmup >= 0 && !s->approximate)
    bayes_sb_printf(&sb, " (after %ld warmup iterations)", s->warmup);
  if (s->has_seed) bayes_sb_printf(&sb, ", seed %llu", (unsigned long long)s->seed);
  if (isfinite(s->total_seconds)) bayes_sb_printf(&sb, ", %.3g s", s->total_seconds);
  bayes_sb_puts(&sb, "\n\n");
  /* a mode is one point: its value is all there is to show */
  int ncol = s->approximate && s->ndraws == 1 ? 2 : NCOL;
  if (ncol == 2) {
    w[1] = (int)strlen("value");
    for (size_t i = 0; i < s->nq; i++)
      if ((int)strlen(cell[i][1]) > w[1]) w[1] = (int)strlen(cell[i][1]);
  }
  if (s->nq) {
    bayes_sb_printf(&sb, "%-*s", w[0], head[0]);
    for (int k = 1; k < ncol; k++) bayes_sb_printf(&sb, "  %*s", w[k], ncol == 2 ? "value" : head[k]);
    bayes_sb_putc(&sb, '\n');
  }
  for (size_t i = 0; i < s->nq; i++) {
    bayes_sb_printf(&sb, "%-*s", w[0], s->names[i]);
    for (int k = 1; k < ncol; k++) bayes_sb_printf(&sb, "  %*s", w[k], cell[i][k]);
    bayes_sb_putc(&sb, '\n');
  }
  bayes_free(cell);
  if (s->nq) bayes_sb_putc(&sb, '\n');
  /* the method's report: each line a paragraph, wrapped like the warnings */
  for (const char *p = s->details_text ? s->details_text : ""; *p;) {
    size_t k = strcspn(p, "\n");
    char *line = bayes_strndup(p, k);
    if (!line) {
      bayes_sb_destroy(&sb);
      return NULL;
    }
    put_wrapped(&sb, "", line, 0, 88);
    bayes_free(line);
    p += k + (p[k] == '\n');
  }
  if (s->has_divergent) bayes_sb_printf(&sb, "Divergences: %ld.", s->divergences);
  if (s->has_treedepth)
    bayes_sb_printf(&sb, "%sTransitions at the maximum tree depth: %ld.",
                    s->has_divergent ? " " : "", s->treedepth_hits);
  if (s->has_energy) {
    bayes_sb_printf(&sb, "%sE-BFMI per chain:", s->has_divergent || s->has_treedepth ? " " : "");
    for (size_t c = 0; c < s->nchains; c++) {
      char b[32];
      bayes_sb_printf(&sb, " %s", isnan(s->ebfmi[c]) ? "NA" : fmt_ebfmi(b, s->ebfmi[c]));
    }
    bayes_sb_putc(&sb, '.');
  }
  if (s->has_divergent || s->has_treedepth || s->has_energy) bayes_sb_putc(&sb, '\n');
  if (s->nwarnings == 0 && s->approximate && !s->failure) {
    if (!isnan(s->psis_khat)) {
      char line[160];
      snprintf(line, sizeof line, "PSIS k-hat %.2f is at most %.1f, so the approximation "
               "covers the posterior well.", s->psis_khat, BAYES_SUMMARY_KHAT_MAX);
      put_wrapped(&sb, "No problems found: ", line, 0, 88);
    }
  } else if (s->nwarnings == 0 && !s->failure) {
    bayes_sb_puts(&sb, "No problems found: ");
    bayes_sb_puts(&sb, s->has_divergent ? "no divergences, " : "");
    bayes_sb_puts(&sb, s->has_treedepth ? "no tree-depth saturation, " : "");
    bayes_sb_puts(&sb, s->has_energy ? "E-BFMI above 0.3, " : "");
    bayes_sb_puts(&sb, "R-hat at most 1.01 and ESS at least 400 everywhere.\n");
  }
  for (size_t i = 0; i < s->nwarnings; i++) put_wrapped(&sb, "Warning: ", s->warnings[i], 9, 88);
  if (sb.oom) {
    bayes_sb_destroy(&sb);
    return NULL;
  }
  return sb.s ? sb.s : bayes_strdup("");
}

/* ==== summary.json ==== */

static void json_array(bayes_sb *sb, const double *x, size_t n)
{
  bayes_sb_putc(sb, '[');
  for (size_t i = 0; i < n; i++) {
    if (i) bayes_sb_puts(sb, ", ");
    bayes_sb_json_number(sb, x[i]);
  }
  bayes_sb_putc(sb, ']');
}

char *bayes_summary_json(const bayes_run_summary *s)
{
  bayes_sb sb;
  bayes_sb_init(&sb);
  bayes_sb_puts(&sb, "{\n  \"method\": ");
  bayes_sb_json_string(&sb, s->method);
  bayes_sb_printf(&sb, ",\n  \"chains\": %zu,\n  \"draws_per_chain\": %zu,\n  \"warmup\": ",
                  s->nchains, s->ndraws);
  if (s->warmup >= 0)
    bayes_sb_printf(&sb, "%ld", s->warmup);
  else
    bayes_sb_puts(&sb, "null");
  bayes_sb_puts(&sb, ",\n  \"seed\": ");
  if (s->has_seed)
    bayes_sb_printf(&sb, "%llu", (unsigned long long)s->seed);
  else
    bayes_sb_puts(&sb, "null");
  if (s->approximate) {
    bayes_sb_printf(&sb, ",\n  \"converged\": %s,\n  \"failure\": ", s->failure ? "false" : "true");
    if (s->failure)
      bayes_sb_json_string(&sb, s->failure);
    else
      bayes_sb_puts(&sb, "null");
    bayes_sb_puts(&sb, ",\n  \"psis_khat\": ");
    bayes_sb_json_number(&sb, s->psis_khat);
    bayes_sb_printf(&sb, ",\n  \"psis_resampled\": %s,\n  \"details\": {%s}",
                    s->psis_resampled ? "true" : "false",
                    s->details_json ? s->details_json : "");
  }
  bayes_sb_puts(&sb, ",\n  \"divergences\": ");
  if (s->has_divergent)
    bayes_sb_printf(&sb, "%ld", s->divergences);
  else
    bayes_sb_puts(&sb, "null");
  bayes_sb_puts(&sb, ",\n  \"max_treedepth_hits\": ");
  if (s->has_treedepth)
    bayes_sb_printf(&sb, "%ld", s->treedepth_hits);
  else
    bayes_sb_puts(&sb, "null");
  bayes_sb_puts(&sb, ",\n  \"ebfmi\": ");
  if (s->has_energy)
    json_array(&sb, s->ebfmi, s->nchains);
  else
    bayes_sb_puts(&sb, "[]");
  bayes_sb_puts(&sb, ",\n  \"elapsed\": {\"warmup\": ");
  json_array(&sb, s->warmup_seconds, s->nchains);
  bayes_sb_puts(&sb, ", \"sampling\": ");
  json_array(&sb, s->sampling_seconds, s->nchains);
  bayes_sb_puts(&sb, ", \"total\": ");
  bayes_sb_json_number(&sb, s->total_seconds);
  bayes_sb_puts(&sb, "},\n  \"warnings\": [");
  for (size_t i = 0; i < s->nwarnings; i++) {
    bayes_sb_puts(&sb, i ? ",\n    " : "\n    ");
    bayes_sb_json_string(&sb, s->warnings[i]);
  }
  bayes_sb_puts(&sb, s->nwarnings ? "\n  ],\n  \"quantities\": {" : "],\n  \"quantities\": {");
  for (size_t i = 0; i < s->nq; i++) {
    const bayes_qsummary *q = &s->q[i];
    bayes_sb_puts(&sb, i ? ",\n    " : "\n    ");
    bayes_sb_json_string(&sb, s->names[i]);
    const struct {
      const char *k;
      double v;
    } f[] = {{"mean", q->mean},       {"sd", q->sd},   {"mcse_mean", q->mcse_mean},
             {"q5", q->q5},           {"q50", q->q50}, {"q95", q->q95},
             {"ess_bulk", q->ess_bulk}, {"ess_tail", q->ess_tail}, {"rhat", q->rhat}};
    bayes_sb_puts(&sb, ": {");
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
      bayes_sb_printf(&sb, "%s\"%s\": ", k ? ", " : "", f[k].k);
      bayes_sb_json_number(&sb, f[k].v);
    }
    bayes_sb_putc(&sb, '}');
  }
  bayes_sb_puts(&sb, s->nq ? "\n  }\n}\n" : "}\n}\n");
  if (sb.oom) {
    bayes_sb_destroy(&sb);
    return NULL;
  }
  return sb.s;
}

int bayes_summary_write_json(const bayes_run_summary *s, const char *path, char *err,
                             size_t errlen)
{
  char *text = bayes_summary_json(s);
  if (!text) {
    bayes_errf(err, errlen, "out of memory");
    return -1;
  }
  bayes_afile af;
  int rc = bayes_afile_open(&af, path, err, errlen);
  if (rc == 0) {
    size_t n = strlen(text);
    if (fwrite(text, 1, n, af.f) != n) {
      bayes_errf(err, errlen, "cannot write %s: %s", af.tmp, strerror(errno));
      bayes_afile_abort(&af);
      rc = -1;
    } else {
      rc = bayes_afile_commit(&af, err, errlen);
    }
  }
  bayes_free(text);
  return rc;
}
