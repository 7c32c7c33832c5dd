/* cmd_logdensity.c — `bayesrun logdensity`: the log density (and gradient) of a model at
 * a point, as JSON on stdout, for checking models against other tools. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* nested lists, row-major, for a value of the given shape */
static void json_array(bayes_sb *sb, const double *v, int rank, const size_t *dim)
{
  if (rank == 0) {
    bayes_sb_json_number(sb, v[0]);
    return;
  }
  size_t inner = 1;
  for (int j = 1; j < rank; j++) inner *= dim[j];
  bayes_sb_putc(sb, '[');
  for (size_t i = 0; i < dim[0]; i++) {
    if (i) bayes_sb_puts(sb, ", ");
    json_array(sb, v + i * inner, rank - 1, dim + 1);
  }
  bayes_sb_putc(sb, ']');
}

int cli_logdensity(int argc, char **argv)
{
  static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                       {"at", required_argument, 0, 'a'},
                                       {"gradient", no_argument, 0, 'g'},
                                       {"unconstrained", no_argument, 0, 'u'},
                                       {"jacobian", no_argument, 0, 'j'},
                                       {"no-jacobian", no_argument, 0, 'J'},
                                       {"verbose", no_argument, 0, 'v'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  cli_common o;
  memset(&o, 0, sizeof o);
  const char *at = NULL;
  bool gradient = false, unc = false;
  int jac = -1;
  optind = 1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "d:a:guvh", opts, NULL)) != -1) {
    switch (ch) {
    case 'd': o.data = optarg; break;
    case 'a': at = optarg; break;
    case 'g': gradient = true; break;
    case 'u': unc = true; break;
    case 'j':
      if (jac == 0) return cli_usage_error("logdensity", "--jacobian and --no-jacobian contradict each other");
      jac = 1;
      break;
    case 'J':
      if (jac == 1) return cli_usage_error("logdensity", "--jacobian and --no-jacobian contradict each other");
      jac = 0;
      break;
    case 'v': o.verbose = true; break;
    case 'h':
      printf("usage: bayesrun logdensity MODEL.yaml --at POINT.json [--data FILE] [--gradient]\n"
             "                           [--unconstrained] [--jacobian | --no-jacobian]\n"
             "The point gives each parameter's value by name (constrained values unless\n"
             "--unconstrained). The Jacobian of the constraining transforms is included by\n"
             "default only with --unconstrained.\n");
      return 0;
    default:
      if (optopt)
        return cli_usage_error("logdensity", "option '-%c' %s", optopt,
                               strchr("da", optopt) ? "needs an argument" : "is not known");
      return cli_usage_error("logdensity", "unknown or incomplete option '%s'", argv[optind - 1]);
    }
  }
  if (optind >= argc) return cli_usage_error("logdensity", "no model file given");
  if (optind + 1 < argc)
    return cli_usage_error("logdensity", "unexpected argument '%s'", argv[optind + 1]);
  if (!at) return cli_usage_error("logdensity", "--at POINT.json is required");
  if (jac < 0) jac = unc;
  if (gradient && jac && !unc)
    return cli_usage_error("logdensity", "a gradient including the Jacobian is defined on the "
                           "unconstrained space: add --unconstrained, or use --no-jacobian");
  o.model = argv[optind];
  bayes_model *m = NULL;
  int rc = cli_load(&o, &m);
  if (rc) return rc;
  bayes_ws *w = bayes_ws_alloc(m);
  size_t dim = bayes_model_dim(m), np = bayes_model_nparams(m);
  double *theta = bayes_calloc(dim + 1, sizeof *theta);
  double *grad = bayes_calloc(dim + 1, sizeof *grad);
  double **cg = bayes_calloc(np + 1, sizeof *cg);
  bayes_sb sb;
  bayes_sb_init(&sb);
  rc = EX_SOFTWARE_;
  if (!w || !theta || !grad || !cg) goto oom;
  char *msgs = NULL;
  int r = bayes_ws_read_point(w, at, unc, theta, &msgs);
  if (msgs) {
    fputs(msgs, stderr);
    bayes_string_free(msgs);
  }
  if (r) {
    rc = r;
    goto out;
  }
  unsigned flags = jac ? BAYES_LD_JACOBIAN : 0;
  double lp;
  if (gradient && !unc) {
    for (size_t i = 0; i < np; i++) {
      cg[i] = bayes_calloc(bayes_model_param(m, i)->size + 1, sizeof(double));
      if (!cg[i]) goto oom;
    }
    bayes_ws_constrained_gradient(w, theta, flags, &lp, cg);
  } else {
    bayes_ws_log_density(w, theta, flags, &lp, gradient ? grad : NULL);
  }
  bayes_sb_puts(&sb, "{\n  \"log_density\": ");
  bayes_sb_json_number(&sb, lp);
  bayes_sb_printf(&sb, ",\n  \"jacobian\": %s,\n  \"unconstrained\": %s", jac ? "true" : "false",
                  unc ? "true" : "false");
  const char *err = bayes_ws_error(w);
  if (err[0]) {
    bayes_sb_puts(&sb, ",\n  \"error\": ");
    bayes_sb_json_string(&sb, err);
  }
  if (gradient) {
    bayes_sb_puts(&sb, ",\n  \"gradient\": {");
    for (size_t i = 0; i < np; i++) {
      const bayes_param_info *p = bayes_model_param(m, i);
      bayes_sb_puts(&sb, i ? ",\n    " : "\n    ");
      bayes_sb_json_string(&sb, p->name);
      bayes_sb_puts(&sb, ": ");
      if (unc) {
        size_t d1[1] = {p->unc_size};
        json_array(&sb, grad + p->unc_offset, (p->rank == 0 && p->unc_size == 1) ? 0 : 1, d1);
      } else {
        json_array(&sb, cg[i], p->rank, p->dim);
      }
    }
    bayes_sb_puts(&sb, np ? "\n  }" : "}");
  }
  bayes_sb_puts(&sb, "\n}\n");
  if (sb.oom) goto oom;
  fputs(sb.s, stdout);
  if (err[0]) fprintf(stderr, "bayesrun: warning: %s\n", err);
  rc = 0;
  goto out;
oom:
  fprintf(stderr, "bayesrun: out of memory\n");
out:
  bayes_sb_destroy(&sb);
  if (cg)
    for (size_t i = 0; i < np; i++) bayes_free(cg[i]);
  bayes_free(cg);
  bayes_free(theta);
  bayes_free(grad);
  bayes_ws_free(w);
  bayes_model_free(m);
  return rc;
}
