/* main.c — bayesrun's entry point: dispatches subcommands (check, logdensity, graph) and
 * the default `bayesrun MODEL.yaml` fit, and owns process-wide setup (GSL's error handler
 * off, so that library code gets status codes instead of aborts). */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_errno.h>

#include "cli.h"

static const char usage[] =
    "usage: bayesrun MODEL.yaml [options]        fit a model (default method: nuts;\n"
    "                                            bayesrun MODEL.yaml --help lists options)\n"
    "       bayesrun check MODEL.yaml [--data FILE] [--dump ast|graph|tape] [--verbose]\n"
    "       bayesrun logdensity MODEL.yaml --at POINT.json [--data FILE] [--gradient]\n"
    "                          [--unconstrained] [--jacobian | --no-jacobian]\n"
    "       bayesrun graph MODEL.yaml [--data FILE]\n"
    "       bayesrun summary DIR_OR_CSV... [--json]\n"
    "       bayesrun --help | --version\n"
    "\n"
    "Commands:\n"
    "  check        parse and type-check the model, print what it compiles to\n"
    "  logdensity   print the log density (and its gradient) at a point, as JSON\n"
    "  graph        print the model as a Graphviz DOT graph\n"
    "  summary      diagnostics table of saved draws (CmdStan CSV files)\n"
    "\n"
    "Exit codes: 0 success, 1 a finished run that failed a check you asked for\n"
    "(--fail-on-warnings), 64 bad usage, 65 bad model or data, 66 missing input file,\n"
    "69 the requested method is not available in this build, 70 internal error,\n"
    "73 cannot create the output folder, 74 cannot write output.\n"
    "See bayesrun(1) and doc/manual.md for the model language.\n";

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "bayesrun%s%s: error: ", cmd ? " " : "", cmd ? cmd : "");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'bayesrun --help' for more information.\n");
  return EX_USAGE_;
}

int cli_load(const cli_common *o, bayes_model **m)
{
  bayes_load_opts opts = {o->data, o->verbose};
  char *msgs = NULL;
  int rc = bayes_model_load(o->model, &opts, m, &msgs);
  if (msgs) {
    fputs(msgs, stderr);
    bayes_string_free(msgs);
  }
  if (rc == BAYES_EINTERNAL && !*m)
    fprintf(stderr, "bayesrun: internal error while loading the model (out of memory?); "
                    "please report\n");
  return rc;
}

int main(int argc, char **argv)
{
  gsl_set_error_handler_off();
  bayes_blas_threads(1);
  if (argc < 2) {
    fputs(usage, stderr);
    return EX_USAGE_;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    fputs(usage, stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
    printf("bayesrun %s\n", PACKAGE_VERSION);
    return 0;
  }
  if (strcmp(cmd, "check") == 0) return cli_check(argc - 1, argv + 1);
  if (strcmp(cmd, "logdensity") == 0) return cli_logdensity(argc - 1, argv + 1);
  if (strcmp(cmd, "graph") == 0) return cli_graph(argc - 1, argv + 1);
  if (strcmp(cmd, "summary") == 0) return cli_summary(argc - 1, argv + 1);
  return cli_fit(argc, argv);
}
