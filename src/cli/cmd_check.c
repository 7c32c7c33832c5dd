/* cmd_check.c — `bayesrun check` (validate and print the compiled model, or one of its
 * dumps) and `bayesrun graph` (Graphviz DOT). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int parse_common(int argc, char **argv, const char *cmd, cli_common *o,
                        const char **dump)
{
  static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                       {"dump", required_argument, 0, 'D'},
                                       {"verbose", no_argument, 0, 'v'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  optind = 1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "d:vh", opts, NULL)) != -1) {
    switch (ch) {
    case 'd': o->data = optarg; break;
    case 'v': o->verbose = true; break;
    case 'D':
      if (!dump) return cli_usage_error(cmd, "unknown option '--dump'");
      if (strcmp(optarg, "ast") && strcmp(optarg, "graph") && strcmp(optarg, "tape"))
        return cli_usage_error(cmd, "--dump takes ast, graph or tape, not '%s'", optarg);
      *dump = optarg;
      break;
    case 'h':
      printf("usage: bayesrun %s MODEL.yaml [--data FILE]%s [--verbose]\n", cmd,
             dump ? " [--dump ast|graph|tape]" : "");
      return -1;
    default:
      if (optopt)
        return cli_usage_error(cmd, "option '-%c' %s", optopt,
                               strchr("d", optopt) ? "needs an argument" : "is not known");
      return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
  }
  if (optind >= argc) return cli_usage_error(cmd, "no model file given");
  if (optind + 1 < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
  o->model = argv[optind];
  return 0;
}

/* check and graph: load the model, print one text made from it */
static int print_model(int argc, char **argv, const char *cmd, bool dumps)
{
  cli_common o;
  const char *dump = NULL;
  int rc = parse_common(argc, argv, cmd, &o, dumps ? &dump : NULL);
  if (rc) return rc < 0 ? 0 : rc;
  bayes_model *m = NULL;
  rc = cli_load(&o, &m);
  if (rc) return rc;
  char *s = !dumps ? bayes_model_dot(m) : dump ? bayes_model_dump(m, dump) : bayes_model_summary(m);
  bayes_model_free(m);
  if (!s) {
    fprintf(stderr, "bayesrun: out of memory\n");
    return EX_SOFTWARE_;
  }
  fputs(s, stdout);
  bayes_string_free(s);
  return 0;
}

int cli_check(int argc, char **argv) { return print_model(argc, argv, "check", true); }
int cli_graph(int argc, char **argv) { return print_model(argc, argv, "graph", false); }
