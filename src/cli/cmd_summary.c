/* cmd_summary.c — `bayesrun summary DIR_OR_CSV...`: the diagnostics table and warnings
 * (or summary.json with --json) from saved CmdStan CSV files, bayesrun's or CmdStan's.
 * A folder stands for every *.csv in it, in name order. Each file is one chain.
 *
 * For main.c:  int cli_summary(int argc, char **argv);   (argv[0] is "summary") */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "diag.h"
#include "psis.h"
#include "stancsv.h"
#include "summary.h"

int cli_summary(int argc, char **argv);

typedef struct {
  char **v;
  size_t n, cap;
} strlist;

static int strlist_add(strlist *l, const char *s)
{
  if (bayes_grow(&l->v, &l->cap, l->n + 1, sizeof *l->v)) return -1;
  if (!(l->v[l->n] = bayes_strdup(s))) return -1;
  l->n++;
  return 0;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suf)
{
  size_t n = strlen(s), m = strlen(suf);
  return n >= m && !strcmp(s + n - m, suf);
}

/* Expands a folder into its *.csv files (sorted). Returns 0 or an exit code. */
static int add_path(strlist *files, const char *path)
{
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "bayesrun summary: error: cannot read %s: %s\n", path, strerror(errno));
    return EX_NOINPUT_;
  }
  if (!S_ISDIR(st.st_mode)) return strlist_add(files, path) ? EX_SOFTWARE_ : 0;
  DIR *d = opendir(path);
  if (!d) {
    fprintf(stderr, "bayesrun summary: error: cannot read folder %s: %s\n", path,
            strerror(errno));
    return EX_NOINPUT_;
  }
  strlist found = {0};
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !ends_with(e->d_name, ".csv")) continue;
    bayes_sb sb;
    bayes_sb_init(&sb);
    bayes_sb_printf(&sb, "%s%s%s", path, ends_with(path, "/") ? "" : "/", e->d_name);
    if (sb.oom || strlist_add(&found, bayes_sb_cstr(&sb))) rc = EX_SOFTWARE_;
    bayes_sb_destroy(&sb);
  }
  closedir(d);
  if (!rc && found.n == 0) {
    fprintf(stderr, "bayesrun summary: error: no .csv files in %s\n", path);
    rc = EX_NOINPUT_;
  }
  if (found.n) qsort(found.v, found.n, sizeof *found.v, cmp_str);
  for (size_t i = 0; i < found.n; i++) {
    if (!rc && strlist_add(files, found.v[i])) rc = EX_SOFTWARE_;
    bayes_free(found.v[i]);
  }
  bayes_free(found.v);
  return rc;
}

static void usage(FILE *f)
{
  fprintf(f, "usage: bayesrun summary DIR_OR_CSV... [--json]\n"
             "Summarises saved draws (CmdStan CSV files, one per chain; a folder means\n"
             "every .csv file in it): mean, sd, MCSE, 5/50/95%% quantiles, ESS_bulk,\n"
             "ESS_tail and R-hat per quantity, then warnings about divergences, tree depth,\n"
             "E-BFMI, R-hat and ESS. --json prints summary.json instead of the table.\n");
}

int cli_summary(int argc, char **argv)
{
  static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  bool json = false;
  optind = 1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
    switch (ch) {
    case 'j': json = true; break;
    case 'h': usage(stdout); return EX_OK_;
    default:
      return cli_usage_error("summary", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind >= argc) return cli_usage_error("summary", "which draws? give a folder or CSV files");

  int rc = 0;
  bool reported = false;
  strlist files = {0};
  bayes_src *src = NULL;
  bayes_csv_table *tab = NULL;
  const double **chains = NULL;
  double *wsec = NULL, *ssec = NULL;
  bayes_run_summary *sum = NULL;
  bayes_diag d;
  bayes_diag_init(&d);
  for (int i = optind; i < argc && !rc; i++) rc = add_path(&files, argv[i]);
  if (rc) goto done;
  size_t n = files.n;
  src = bayes_calloc(n, sizeof *src);
  tab = bayes_calloc(n, sizeof *tab);
  chains = bayes_calloc(n, sizeof *chains);
  wsec = bayes_calloc(n, sizeof *wsec);
  ssec = bayes_calloc(n, sizeof *ssec);
  if (!src || !tab || !chains || !wsec || !ssec) {
    rc = EX_SOFTWARE_;
    goto done;
  }
  for (size_t i = 0; i < n; i++) bayes_csv_table_init(&tab[i]);
  for (size_t i = 0; i < n; i++) {
    int r = bayes_src_read(&src[i], files.v[i]);
    if (r == -2) {
      rc = EX_SOFTWARE_;
      goto done;
    }
    if (r != 0) {
      fprintf(stderr, "bayesrun summary: error: cannot read %s: %s\n", files.v[i],
              strerror(errno));
      rc = EX_NOINPUT_;
      goto done;
    }
    r = bayes_csv_read(&src[i], &tab[i], &d);
    if (r == BAYES_EINTERNAL) {
      rc = EX_SOFTWARE_;
      goto done;
    }
  }
  if (d.nerr) {
    rc = EX_DATAERR_;
    goto done;
  }
  /* every chain must have the same columns and the same number of kept draws */
  const bayes_csv_table *t0 = &tab[0];
  size_t nd = t0->nrows - t0->nwarmup;
  for (size_t i = 1; i < n; i++) {
    const bayes_csv_table *t = &tab[i];
    if (t->ncols != t0->ncols) {
      bayes_diag_add(&d, BAYES_DIAG_ERROR, &src[i], 0, 0, 1,
                     "it has %zu columns, but %s has %zu: are these chains of the same "
                     "model?", t->ncols, files.v[0], t0->ncols);
      continue;
    }
    for (size_t j = 0; j < t->ncols; j++)
      if (strcmp(t->names[j], t0->names[j])) {
        bayes_diag_add(&d, BAYES_DIAG_ERROR, &src[i], 0, 0, 1,
                       "column %zu is '%s', but in %s it is '%s': are these chains of "
                       "the same model?", j + 1, t->names[j], files.v[0], t0->names[j]);
        break;
      }
    if (t->nrows - t->nwarmup != nd)
      bayes_diag_add(&d, BAYES_DIAG_ERROR, &src[i], 0, 0, 1,
                     "it has %zu draws after warmup, but %s has %zu; every chain must "
                     "have as many", t->nrows - t->nwarmup, files.v[0], nd);
  }
  if (!d.nerr && nd == 0)
    bayes_diag_add(&d, BAYES_DIAG_ERROR, &src[0], 0, 0, 1, "it holds no draws after warmup");
  if (d.nerr) {
    rc = EX_DATAERR_;
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    chains[i] = tab[i].values + tab[i].nwarmup * tab[i].ncols;
    wsec[i] = tab[i].warmup_seconds;
    ssec[i] = tab[i].sampling_seconds;
  }
  const char *method = t0->method;
  bool approximate = !strcmp(method, "optimize") || !strcmp(method, "laplace") ||
                     !strcmp(method, "variational") || !strcmp(method, "pathfinder");
  if (!strcmp(method, "sample") || !*method)
    method = !strcmp(t0->engine, "static") ? "hmc" : "nuts";
  if (!strcmp(method, "variational")) method = "advi";
  /* k-hat: as the run recorded it, else from the draws' log densities (target, proposal) */
  double khat = t0->psis_khat;
  long jp = bayes_csv_column(t0, "log_p__"), jq = bayes_csv_column(t0, "log_g__");
  if (!strcmp(method, "pathfinder"))
    jp = bayes_csv_column(t0, "lp__"), jq = bayes_csv_column(t0, "lp_approx__");
  if (approximate && n == 1 && isnan(khat) && !t0->psis_resampled && jp >= 0 && jq >= 0) {
    double *lr = bayes_calloc(nd + 1, sizeof *lr);
    if (!lr) {
      rc = EX_SOFTWARE_;
      goto done;
    }
    for (size_t k = 0; k < nd; k++)
      lr[k] = chains[0][k * t0->ncols + (size_t)jp] - chains[0][k * t0->ncols + (size_t)jq];
    if (bayes_psis(lr, nd, lr, &khat) != 0) khat = NAN;
    bayes_free(lr);
  }
  bayes_summary_input in = {
      .method = method,
      .nchains = n,
      .ndraws = nd,
      .ncols = t0->ncols,
      .names = (const char *const *)t0->names,
      .chains = chains,
      .warmup = t0->num_warmup,
      .seed = t0->seed,
      .has_seed = t0->has_seed,
      .max_depth = t0->max_depth,
      .warmup_seconds = wsec,
      .sampling_seconds = ssec,
      .total_seconds = NAN,
      .approximate = approximate,
      .failure = t0->failure,
      .psis_khat = khat,
      .psis_resampled = t0->psis_resampled,
  };
  char err[256];
  sum = bayes_summary_compute(&in, err, sizeof err);
  if (!sum) {
    fprintf(stderr, "bayesrun summary: internal error: %s; please report\n", err);
    rc = EX_SOFTWARE_;
    reported = true;
    goto done;
  }
  char *out = json ? bayes_summary_json(sum) : bayes_summary_text(sum);
  if (!out) {
    rc = EX_SOFTWARE_;
    goto done;
  }
  fputs(out, stdout);
  bayes_free(out);
  if (fflush(stdout) != 0) {
    fprintf(stderr, "bayesrun summary: error: cannot write the summary: %s\n",
            strerror(errno));
    rc = 74;
  }
done:
  if (d.n) {
    bayes_sb sb;
    bayes_sb_init(&sb);
    bayes_diag_format(&d, &sb);
    fputs(bayes_sb_cstr(&sb), stderr);
    bayes_sb_destroy(&sb);
  }
  if (rc == EX_SOFTWARE_ && !d.n && !reported)
    fprintf(stderr, "bayesrun summary: internal error (out of memory?); please report\n");
  bayes_summary_free(sum);
  bayes_diag_destroy(&d);
  for (size_t i = 0; i < files.n; i++) {
    if (tab) bayes_csv_table_destroy(&tab[i]);
    if (src) bayes_src_destroy(&src[i]);
    bayes_free(files.v[i]);
  }
  bayes_free(files.v);
  bayes_free(src);
  bayes_free(tab);
  bayes_free(chains);
  bayes_free(wsec);
  bayes_free(ssec);
  return rc;
}
