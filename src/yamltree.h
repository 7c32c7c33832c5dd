/* yamltree.h — a YAML document loaded with libyaml's event API into a tree whose every
 * node keeps its source position. Anchors/aliases are resolved; duplicate mapping keys,
 * nesting deeper than BAYES_YAML_MAX_DEPTH and more than BAYES_YAML_MAX_NODES nodes are
 * located errors. Knows nothing about models. */
#ifndef BAYES_YAMLTREE_H
#define BAYES_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "util.h"

#define BAYES_YAML_MAX_DEPTH 64
#define BAYES_YAML_MAX_NODES 10000000

typedef enum { BAYES_Y_SCALAR, BAYES_Y_SEQ, BAYES_Y_MAP } bayes_ykind;

typedef enum {
  BAYES_YS_PLAIN,
  BAYES_YS_SINGLE,    /* 'quoted' */
  BAYES_YS_DOUBLE,    /* "quoted" */
  BAYES_YS_BLOCK      /* | or > */
} bayes_ystyle;

typedef struct bayes_ynode {
  bayes_ykind kind;
  int line, col;          /* 1-based position of the node's first character */
  int end_line, end_col;  /* position just after the node */
  /* scalar */
  const char *str;        /* NUL-terminated, arena-owned */
  size_t slen;
  bayes_ystyle style;
  /* sequence: items[0..n-1]; mapping: keys[i] -> vals[i] (keys are scalars) */
  size_t n;
  struct bayes_ynode **items;
  struct bayes_ynode **keys, **vals;
  bool flow;              /* written in flow style ([...] / {...}) */
} bayes_ynode;

/* Loads the single document of src. Returns the root (NULL on error, reported in d). An
 * empty document is an error ("the file is empty"). */
bayes_ynode *bayes_yaml_load(bayes_arena *a, const bayes_src *src, bayes_diag *d);

/* Mapping lookup; NULL if absent. */
bayes_ynode *bayes_ymap_get(const bayes_ynode *map, const char *key);

#endif
