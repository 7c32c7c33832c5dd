/* ast.h — syntax tree of the expression language (grammar/expr.y), allocated in an
 * arena. Every node carries its source position in the model file. The parser is pure
 * and reentrant; it reports syntax errors as located diagnostics. */
#ifndef BAYES_AST_H
#define BAYES_AST_H

#include <stdbool.h>

#include "diag.h"
#include "util.h"

#define BAYES_EXPR_MAX_DEPTH 200  /* nesting limit of expressions */

typedef enum {
  BAYES_AST_NUM,        /* num, is_int */
  BAYES_AST_NAME,       /* name */
  BAYES_AST_CALL,       /* name(kids...), kw[i] = keyword of kid i or NULL */
  BAYES_AST_INDEX,      /* kids[0] = base, kids[1..] = indices (any expr, RANGE or ALL) */
  BAYES_AST_BINOP,      /* op, kids[0], kids[1] */
  BAYES_AST_UNOP,       /* op ('-', '+', '!'), kids[0] */
  BAYES_AST_COND,       /* kids[0] ? kids[1] : kids[2] */
  BAYES_AST_VEC,        /* [kids...] */
  BAYES_AST_COMPR,      /* [kids[0] for name in kids[1]] (kids[1] usually a RANGE) */
  BAYES_AST_LAMBDA,     /* (params...) -> kids[0] ; params[0..nparams-1] */
  BAYES_AST_RANGE,      /* kids[0] : kids[1]; either may be NULL in a slice (x[:3]) */
  BAYES_AST_ALL,        /* a bare ':' in an index */
  BAYES_AST_TRANSPOSE   /* kids[0]' */
} bayes_ast_kind;

/* Binary operator codes beyond single characters '+','-','*','/','^','@','<','>' */
enum {
  BAYES_OP_EQ = 256, BAYES_OP_NE, BAYES_OP_LE, BAYES_OP_GE, BAYES_OP_AND, BAYES_OP_OR
};

typedef struct bayes_ast {
  bayes_ast_kind kind;
  int line, col;        /* 1-based, in the model file */
  int len;              /* characters of source covered on the first line (for carets) */
  double num;
  bool is_int;
  const char *name;
  int op;
  int nkids;
  struct bayes_ast **kids;
  const char **kw;      /* CALL only, may be NULL when no keyword is used */
  int nparams;
  const char **params;  /* LAMBDA only */
} bayes_ast;

/* Where an expression's text sits in the model file, so that positions in the text can
 * be mapped back: text[0] is at (line, col). For quoted scalars col is that of the first
 * character after the quote. Newlines in the text advance the line (col restarts at
 * `cont_col`, the indentation of continuation lines). */
typedef struct {
  const bayes_src *src;
  int line, col, cont_col;
} bayes_expr_loc;

/* Parses one expression. Returns NULL after reporting errors in d. */
bayes_ast *bayes_parse_expr(bayes_arena *a, const char *text, const bayes_expr_loc *loc,
                            bayes_diag *d);

/* S-expression dump for `--dump ast` and golden tests, e.g. (+ mu (* tau eta)). */
void bayes_ast_dump(const bayes_ast *e, bayes_sb *sb);

#endif
