/* expr.y — pure, reentrant bison grammar of the expression language (spec §4; EBNF and
 * precedence table in GRAMMAR.md). Builds bayes_ast nodes in the caller's arena and
 * reports syntax errors as located diagnostics in plain words. Must not print, exit, or
 * let any input (however deep or malformed) overflow a stack. */

%define api.pure full
%define api.prefix {bayes_yy}
%define api.token.prefix {BAYES_T_}
%define parse.error custom
%locations
%parse-param {void *scanner} {bayes_expr_ctx *ctx}
%lex-param {void *scanner}

%code requires {
#include <setjmp.h>
#include <stddef.h>

#include "ast.h"

/* A semantic value for expressions: the node and the height of its tree, so that the
 * nesting limit is checked as nodes are built (later stages recurse over the AST). */
typedef struct {
  bayes_ast *n;
  int depth;
} bayes_expr_sv;

typedef struct bayes_expr_item {
  struct bayes_expr_item *next;
  bayes_ast *n;
  const char *kw;      /* keyword of a call argument, or NULL */
} bayes_expr_item;

typedef struct {
  bayes_expr_item *head, *tail;
  int n, depth, has_kw;
} bayes_expr_list;

typedef struct {
  const char *s;       /* NAME: arena copy */
  double num;          /* NUM */
  int is_int;
} bayes_expr_tok;

/* A token's place in the expression text: byte offset and 0-based line/char column. */
typedef struct {
  int kind;            /* token kind (0: none yet) */
  size_t off, len;
  int line, col, end_line, end_col;
} bayes_expr_tokinfo;

/* Everything one parse shares between ast.c, the scanner and the parser. */
typedef struct bayes_expr_ctx {
  bayes_arena *a;
  bayes_diag *d;
  bayes_expr_loc loc;
  const char *text;    /* the expression, for token texts in messages */
  size_t len;
  const int *linelen;  /* characters on each text line */
  int nlines;
  bayes_ast *result;
  int nerr;            /* errors this parse reported */
  jmp_buf fatal;       /* flex's YY_FATAL_ERROR (out of memory) jumps here */
  /* scanner state */
  size_t off;
  int line, col;
  bayes_expr_tokinfo cur, prev;
  struct { char c; int line, col; } br[BAYES_EXPR_MAX_DEPTH + 1];
  int nbr;
  char bad_close;      /* the current ')' or ']' closes nothing or the wrong bracket */
} bayes_expr_ctx;
}

%code provides {
/* Reports an error at text positions (0-based line/char column) of the expression. */
void bayes_expr_error_at(bayes_expr_ctx *ctx, int l0, int c0, int l1, int c1,
                         const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Makes the scanner allocate its buffer stack now (see expr_lex.l). */
void bayes_expr_lex_reserve(void *scanner);
}

%union {
  bayes_expr_tok tok;
  bayes_expr_sv e;
  bayes_expr_list l;
}

%code {
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The whole parser stack lives in yyparse's frame: it never grows on the heap, and an
 * input that would need more (only possible when far deeper than the nesting limit)
 * ends with bison's "memory exhausted", reported as the nesting error. */
#define YYINITDEPTH 2000
#define YYMAXDEPTH 2000

int bayes_yylex(BAYES_YYSTYPE *lval, BAYES_YYLTYPE *lloc, void *scanner);
static void bayes_yyerror(BAYES_YYLTYPE *lloc, void *scanner, bayes_expr_ctx *ctx,
                          const char *msg);

static bayes_ast *mknode(bayes_expr_ctx *ctx, bayes_ast_kind kind, const BAYES_YYLTYPE *l);
static bayes_expr_sv finish(bayes_expr_ctx *ctx, bayes_ast *n, int depth,
                            const BAYES_YYLTYPE *l);
static bayes_expr_sv mk1(bayes_expr_ctx *ctx, bayes_ast_kind kind, int op,
                         bayes_expr_sv a, const BAYES_YYLTYPE *l);
static bayes_expr_sv mk2(bayes_expr_ctx *ctx, bayes_ast_kind kind, int op,
                         bayes_expr_sv a, bayes_expr_sv b, const BAYES_YYLTYPE *l);
static bayes_expr_sv mk3(bayes_expr_ctx *ctx, bayes_ast_kind kind, bayes_expr_sv a,
                         bayes_expr_sv b, bayes_expr_sv c, const BAYES_YYLTYPE *l);
static bayes_expr_sv mkleaf(bayes_expr_ctx *ctx, bayes_ast_kind kind, bayes_expr_tok t,
                            const BAYES_YYLTYPE *l);
static int list_add(bayes_expr_ctx *ctx, bayes_expr_list *li, bayes_expr_sv e,
                    const char *kw);
static bayes_expr_sv mklist(bayes_expr_ctx *ctx, bayes_ast_kind kind, bayes_ast *first,
                            int first_depth, const bayes_expr_list *li,
                            const BAYES_YYLTYPE *l);
static bayes_expr_sv mkcall(bayes_expr_ctx *ctx, bayes_expr_sv f, const bayes_expr_list *li,
                            const BAYES_YYLTYPE *l);
static bayes_expr_sv mklambda(bayes_expr_ctx *ctx, const bayes_expr_list *params,
                              bayes_expr_sv body, const BAYES_YYLTYPE *l);

#define CHECK(v) do { if (!(v).n) YYABORT; } while (0)
#define LIST1(dst, e, kw) do { memset(&(dst), 0, sizeof(dst)); \
    if (list_add(ctx, &(dst), (e), (kw)) != 0) YYABORT; } while (0)
#define LISTN(dst, src, e, kw) do { (dst) = (src); \
    if (list_add(ctx, &(dst), (e), (kw)) != 0) YYABORT; } while (0)
}

%token <tok> NUM "number" NAME "name"
%token EQ "==" NE "!=" LE "<=" GE ">=" AND "&&" OR "||" ARROW "->"
%token FOR "for" IN "in"

%type <e> expr cond binexp postfix primary idx
%type <l> args arglist exprlist idxlist

%left OR
%left AND
%left EQ NE
%left '<' LE '>' GE
%left '+' '-'
%left '*' '/' '@'
%precedence UNARY
%right '^'

%start top

%%

top: expr                     { ctx->result = $1.n; }
   ;

expr: cond
    | NAME ARROW expr         {
        bayes_expr_list p;
        bayes_expr_tok t = $1;
        bayes_expr_sv nm = mkleaf(ctx, BAYES_AST_NAME, t, &@1);
        CHECK(nm);
        LIST1(p, nm, NULL);
        $$ = mklambda(ctx, &p, $3, &@$); CHECK($$);
      }
    | '(' ')' ARROW expr      {
        bayes_expr_list p;
        memset(&p, 0, sizeof p);
        $$ = mklambda(ctx, &p, $4, &@$); CHECK($$);
      }
    | '(' expr ')' ARROW expr {
        bayes_expr_list p;
        LIST1(p, $2, NULL);
        $$ = mklambda(ctx, &p, $5, &@$); CHECK($$);
      }
    | '(' expr ',' exprlist ')' ARROW expr {
        bayes_expr_list p, q = $4;
        LIST1(p, $2, NULL);
        /* splice: p = [$2] ++ $4 */
        p.head->next = q.head;
        if (q.tail) p.tail = q.tail;
        p.n += q.n;
        $$ = mklambda(ctx, &p, $7, &@$); CHECK($$);
      }
    ;

cond: binexp
    | binexp '?' expr ':' cond  { $$ = mk3(ctx, BAYES_AST_COND, $1, $3, $5, &@$); CHECK($$); }
    ;

binexp: binexp OR binexp      { $$ = mk2(ctx, BAYES_AST_BINOP, BAYES_OP_OR, $1, $3, &@$); CHECK($$); }
      | binexp AND binexp     { $$ = mk2(ctx, BAYES_AST_BINOP, BAYES_OP_AND, $1, $3, &@$); CHECK($$); }
      | binexp EQ binexp      { $$ = mk2(ctx, BAYES_AST_BINOP, BAYES_OP_EQ, $1, $3, &@$); CHECK($$); }
      | binexp NE binexp      { $$ = mk2(ctx, BAYES_AST_BINOP, BAYES_OP_NE, $1, $3, &@$); CHECK($$); }
      | binexp '<' binexp     { $$ = mk2(ctx, BAYES_AST_BINOP, '<', $1, $3, &@$); CHECK($$); }
      | binexp LE binexp      { $$ = mk2(ctx, BAYES_AST_BINOP, BAYES_OP_LE, $1, $3, &@$); CHECK($$); }
      | binexp '>' binexp     { $$ = mk2(ctx, BAYES_AST_BINOP, '>', $1, $3, &@$); CHECK($$); }
      | binexp GE binexp      { $$ = mk2(ctx, BAYES_AST_BINOP, BAYES_OP_GE, $1, $3, &@$); CHECK($$); }
      | binexp '+' binexp     { $$ = mk2(ctx, BAYES_AST_BINOP, '+', $1, $3, &@$); CHECK($$); }
      | binexp '-' binexp     { $$ = mk2(ctx, BAYES_AST_BINOP, '-', $1, $3, &@$); CHECK($$); }
      | binexp '*' binexp     { $$ = mk2(ctx, BAYES_AST_BINOP, '*', $1, $3, &@$); CHECK($$); }
      | binexp '/' binexp     { $$ = mk2(ctx, BAYES_AST_BINOP, '/', $1, $3, &@$); CHECK($$); }
      | binexp '@' binexp     { $$ = mk2(ctx, BAYES_AST_BINOP, '@', $1, $3, &@$); CHECK($$); }
      | '-' binexp %prec UNARY { $$ = mk1(ctx, BAYES_AST_UNOP, '-', $2, &@$); CHECK($$); }
      | '+' binexp %prec UNARY { $$ = mk1(ctx, BAYES_AST_UNOP, '+', $2, &@$); CHECK($$); }
      | '!' binexp %prec UNARY { $$ = mk1(ctx, BAYES_AST_UNOP, '!', $2, &@$); CHECK($$); }
      | binexp '^' binexp     { $$ = mk2(ctx, BAYES_AST_BINOP, '^', $1, $3, &@$); CHECK($$); }
      | postfix
      ;

postfix: primary
       | postfix '(' args ')'    { $$ = mkcall(ctx, $1, &$3, &@$); CHECK($$); }
       | postfix '[' idxlist ']' {
           $$ = mklist(ctx, BAYES_AST_INDEX, $1.n, $1.depth, &$3, &@$); CHECK($$);
         }
       | postfix '\''            { $$ = mk1(ctx, BAYES_AST_TRANSPOSE, 0, $1, &@$); CHECK($$); }
       ;

primary: NUM                  { $$ = mkleaf(ctx, BAYES_AST_NUM, $1, &@$); CHECK($$); }
       | NAME                 { $$ = mkleaf(ctx, BAYES_AST_NAME, $1, &@$); CHECK($$); }
       | '(' expr ')'         { $$ = $2; }
       | '[' ']'              {
           bayes_expr_list e;
           memset(&e, 0, sizeof e);
           $$ = mklist(ctx, BAYES_AST_VEC, NULL, 0, &e, &@$); CHECK($$);
         }
       | '[' exprlist ']'     { $$ = mklist(ctx, BAYES_AST_VEC, NULL, 0, &$2, &@$); CHECK($$); }
       | '[' expr FOR NAME IN expr ':' expr ']' {
           BAYES_YYLTYPE rl = @6;
           rl.last_line = @8.last_line;
           rl.last_column = @8.last_column;
           bayes_expr_sv r = mk2(ctx, BAYES_AST_RANGE, 0, $6, $8, &rl);
           CHECK(r);
           $$ = mk2(ctx, BAYES_AST_COMPR, 0, $2, r, &@$); CHECK($$);
           $$.n->name = $4.s;
         }
       | '[' expr FOR NAME IN expr ']' {
           $$ = mk2(ctx, BAYES_AST_COMPR, 0, $2, $6, &@$); CHECK($$);
           $$.n->name = $4.s;
         }
       ;

exprlist: expr                { LIST1($$, $1, NULL); }
        | exprlist ',' expr   { LISTN($$, $1, $3, NULL); }
        ;

args: %empty                  { memset(&$$, 0, sizeof $$); }
    | arglist
    ;

arglist: expr                 { LIST1($$, $1, NULL); }
       | NAME '=' expr        { LIST1($$, $3, $1.s); }
       | arglist ',' expr     {
           if ($1.has_kw) {
             bayes_expr_error_at(ctx, @3.first_line, @3.first_column, @3.last_line,
                                 @3.last_column, "positional argument after keyword argument");
             YYABORT;
           }
           LISTN($$, $1, $3, NULL);
         }
       | arglist ',' NAME '=' expr {
           for (bayes_expr_item *it = $1.head; it; it = it->next)
             if (it->kw && strcmp(it->kw, $3.s) == 0) {
               bayes_expr_error_at(ctx, @3.first_line, @3.first_column, @3.last_line,
                                   @3.last_column, "keyword argument '%s' given twice", $3.s);
               YYABORT;
             }
           LISTN($$, $1, $5, $3.s);
         }
       ;

idxlist: idx                  { LIST1($$, $1, NULL); }
       | idxlist ',' idx      { LISTN($$, $1, $3, NULL); }
       ;

idx: expr
   | ':'                      {
       bayes_ast *n = mknode(ctx, BAYES_AST_ALL, &@$);
       if (!n) YYABORT;
       $$ = finish(ctx, n, 1, &@$); CHECK($$);
     }
   | ':' expr                 {
       bayes_expr_sv none = {NULL, 0};
       $$ = mk2(ctx, BAYES_AST_RANGE, 0, none, $2, &@$); CHECK($$);
     }
   | expr ':'                 {
       bayes_expr_sv none = {NULL, 0};
       $$ = mk2(ctx, BAYES_AST_RANGE, 0, $1, none, &@$); CHECK($$);
     }
   | expr ':' expr            { $$ = mk2(ctx, BAYES_AST_RANGE, 0, $1, $3, &@$); CHECK($$); }
   ;

%%

static void oom(bayes_expr_ctx *ctx)
{
  ctx->d->oom = 1;
  bayes_error(ctx->d, NULL, 0, 0, 0, "out of memory while parsing an expression");
  ctx->nerr++;
}

void bayes_expr_error_at(bayes_expr_ctx *ctx, int l0, int c0, int l1, int c1,
                         const char *fmt, ...)
{
  va_list ap;
  int line = ctx->loc.line + l0;
  int col = (l0 == 0 ? ctx->loc.col : ctx->loc.cont_col) + c0;
  int len;

  if (l1 == l0) len = c1 - c0;
  else len = (l0 >= 0 && l0 < ctx->nlines ? ctx->linelen[l0] : c0 + 1) - c0;
  if (len < 1) len = 1;
  va_start(ap, fmt);
  bayes_diag_vadd(ctx->d, BAYES_DIAG_ERROR, ctx->loc.src, ctx->loc.src ? line : 0, col,
                  len, fmt, ap);
  va_end(ap);
  ctx->nerr++;
}

static bayes_ast *mknode(bayes_expr_ctx *ctx, bayes_ast_kind kind, const BAYES_YYLTYPE *l)
{
  bayes_ast *n = bayes_arena_alloc(ctx->a, sizeof *n);
  if (!n) {
    oom(ctx);
    return NULL;
  }
  n->kind = kind;
  n->line = ctx->loc.line + l->first_line;
  n->col = (l->first_line == 0 ? ctx->loc.col : ctx->loc.cont_col) + l->first_column;
  if (l->last_line == l->first_line)
    n->len = l->last_column - l->first_column;
  else if (l->first_line < ctx->nlines)
    n->len = ctx->linelen[l->first_line] - l->first_column;
  if (n->len < 1) n->len = 1;
  return n;
}

/* Applies the nesting limit to a finished node. */
static bayes_expr_sv finish(bayes_expr_ctx *ctx, bayes_ast *n, int depth,
                            const BAYES_YYLTYPE *l)
{
  bayes_expr_sv r = {n, depth};
  if (depth > BAYES_EXPR_MAX_DEPTH) {
    bayes_expr_error_at(ctx, l->first_line, l->first_column, l->last_line, l->last_column,
                        "expression nested deeper than %d levels", BAYES_EXPR_MAX_DEPTH);
    r.n = NULL;
  }
  return r;
}

static bayes_ast **kids(bayes_expr_ctx *ctx, bayes_ast *n, int k)
{
  n->nkids = k;
  n->kids = bayes_arena_alloc(ctx->a, (size_t)(k ? k : 1) * sizeof *n->kids);
  if (!n->kids) oom(ctx);
  return n->kids;
}

static bayes_expr_sv mkleaf(bayes_expr_ctx *ctx, bayes_ast_kind kind, bayes_expr_tok t,
                            const BAYES_YYLTYPE *l)
{
  bayes_expr_sv r = {NULL, 0};
  bayes_ast *n = mknode(ctx, kind, l);
  if (!n) return r;
  if (kind == BAYES_AST_NUM) {
    n->num = t.num;
    n->is_int = t.is_int != 0;
  } else {
    n->name = t.s;
  }
  return finish(ctx, n, 1, l);
}

static bayes_expr_sv mk1(bayes_expr_ctx *ctx, bayes_ast_kind kind, int op,
                         bayes_expr_sv a, const BAYES_YYLTYPE *l)
{
  bayes_expr_sv r = {NULL, 0};
  bayes_ast *n = mknode(ctx, kind, l);
  if (!n || !kids(ctx, n, 1)) return r;
  n->op = op;
  n->kids[0] = a.n;
  return finish(ctx, n, a.depth + 1, l);
}

static bayes_expr_sv mk2(bayes_expr_ctx *ctx, bayes_ast_kind kind, int op,
                         bayes_expr_sv a, bayes_expr_sv b, const BAYES_YYLTYPE *l)
{
  bayes_expr_sv r = {NULL, 0};
  bayes_ast *n = mknode(ctx, kind, l);
  if (!n || !kids(ctx, n, 2)) return r;
  n->op = op;
  n->kids[0] = a.n;
  n->kids[1] = b.n;
  return finish(ctx, n, (a.depth > b.depth ? a.depth : b.depth) + 1, l);
}

static bayes_expr_sv mk3(bayes_expr_ctx *ctx, bayes_ast_kind kind, bayes_expr_sv a,
                         bayes_expr_sv b, bayes_expr_sv c, const BAYES_YYLTYPE *l)
{
  bayes_expr_sv r = {NULL, 0};
  bayes_ast *n = mknode(ctx, kind, l);
  if (!n || !kids(ctx, n, 3)) return r;
  n->kids[0] = a.n;
  n->kids[1] = b.n;
  n->kids[2] = c.n;
  int d = a.depth > b.depth ? a.depth : b.depth;
  if (c.depth > d) d = c.depth;
  return finish(ctx, n, d + 1, l);
}

static int list_add(bayes_expr_ctx *ctx, bayes_expr_list *li, bayes_expr_sv e,
                    const char *kw)
{
  bayes_expr_item *it = bayes_arena_alloc(ctx->a, sizeof *it);
  if (!it) {
    oom(ctx);
    return -1;
  }
  it->n = e.n;
  it->kw = kw;
  if (li->tail) li->tail->next = it;
  else li->head = it;
  li->tail = it;
  li->n++;
  if (e.depth > li->depth) li->depth = e.depth;
  if (kw) li->has_kw = 1;
  return 0;
}

/* INDEX (first = base) or VEC (first = NULL) with the list's items as further kids. */
static bayes_expr_sv mklist(bayes_expr_ctx *ctx, bayes_ast_kind kind, bayes_ast *first,
                            int first_depth, const bayes_expr_list *li,
                            const BAYES_YYLTYPE *l)
{
  bayes_expr_sv r = {NULL, 0};
  bayes_ast *n = mknode(ctx, kind, l);
  int k = li->n + (first != NULL), i = 0;
  if (!n || !kids(ctx, n, k)) return r;
  if (first) n->kids[i++] = first;
  for (const bayes_expr_item *it = li->head; it; it = it->next) n->kids[i++] = it->n;
  int d = li->depth > first_depth ? li->depth : first_depth;
  return finish(ctx, n, d + 1, l);
}

static bayes_expr_sv mkcall(bayes_expr_ctx *ctx, bayes_expr_sv f, const bayes_expr_list *li,
                            const BAYES_YYLTYPE *l)
{
  bayes_expr_sv r = {NULL, 0};
  if (f.n->kind != BAYES_AST_NAME) {
    bayes_expr_error_at(ctx, l->first_line, l->first_column, l->last_line, l->last_column,
                        "only a function name can be called");
    return r;
  }
  bayes_ast *n = mknode(ctx, BAYES_AST_CALL, l);
  if (!n || !kids(ctx, n, li->n)) return r;
  n->name = f.n->name;
  if (li->has_kw) {
    n->kw = bayes_arena_alloc(ctx->a, (size_t)li->n * sizeof *n->kw);
    if (!n->kw) {
      oom(ctx);
      return r;
    }
  }
  int i = 0;
  for (const bayes_expr_item *it = li->head; it; it = it->next, i++) {
    n->kids[i] = it->n;
    if (n->kw) n->kw[i] = it->kw;
  }
  return finish(ctx, n, li->depth + 1, l);
}

static bayes_expr_sv mklambda(bayes_expr_ctx *ctx, const bayes_expr_list *params,
                              bayes_expr_sv body, const BAYES_YYLTYPE *l)
{
  bayes_expr_sv r = {NULL, 0};
  for (const bayes_expr_item *it = params->head; it; it = it->next) {
    const bayes_ast *p = it->n;
    if (p->kind != BAYES_AST_NAME) {
      bayes_diag_add(ctx->d, BAYES_DIAG_ERROR, ctx->loc.src, ctx->loc.src ? p->line : 0,
                     p->col, p->len, "a lambda parameter must be a name");
      ctx->nerr++;
      return r;
    }
    for (const bayes_expr_item *jt = params->head; jt != it; jt = jt->next)
      if (strcmp(jt->n->name, p->name) == 0) {
        bayes_diag_add(ctx->d, BAYES_DIAG_ERROR, ctx->loc.src, ctx->loc.src ? p->line : 0,
                       p->col, p->len, "lambda parameter '%s' appears twice", p->name);
        ctx->nerr++;
        return r;
      }
  }
  bayes_ast *n = mknode(ctx, BAYES_AST_LAMBDA, l);
  if (!n || !kids(ctx, n, 1)) return r;
  n->kids[0] = body.n;
  n->nparams = params->n;
  n->params = bayes_arena_alloc(ctx->a, (size_t)(params->n ? params->n : 1) *
                                            sizeof *n->params);
  if (!n->params) {
    oom(ctx);
    return r;
  }
  int i = 0;
  for (const bayes_expr_item *it = params->head; it; it = it->next) n->params[i++] = it->n->name;
  return finish(ctx, n, body.depth + 1, l);
}

/* ---- error messages in plain words ---- */

static int is_operator_tok(int kind)
{
  switch (kind) {
  case '+': case '-': case '*': case '/': case '^': case '@': case '<': case '>':
  case '!': case '?': case ':': case ',': case '(': case '[': case '=':
  case BAYES_T_EQ: case BAYES_T_NE: case BAYES_T_LE: case BAYES_T_GE: case BAYES_T_AND:
  case BAYES_T_OR: case BAYES_T_ARROW: case BAYES_T_IN:
    return 1;
  default:
    return 0;
  }
}

/* "'+'", "name 'mu'", "number '3'" for the token described by ti; at most 40 bytes of a
 * long token are shown. */
static void describe(const bayes_expr_ctx *ctx, const bayes_expr_tokinfo *ti, char *buf,
                     size_t sz)
{
  int n = ti->len > 40 ? 40 : (int)ti->len;
  const char *s = ctx->text + ti->off;
  const char *more = ti->len > 40 ? "..." : "";
  if (ti->kind == BAYES_T_NAME) snprintf(buf, sz, "name '%.*s%s'", n, s, more);
  else if (ti->kind == BAYES_T_NUM) snprintf(buf, sz, "number '%.*s%s'", n, s, more);
  else snprintf(buf, sz, "'%.*s'", n, s);
}

static const char *sym_word(yysymbol_kind_t k)
{
  switch (k) {
  case YYSYMBOL_NAME: return "a name";
  case YYSYMBOL_NUM: return "a number";
  case YYSYMBOL_YYEOF: return "the end of the expression";
  default: return NULL;
  }
}

static int yyreport_syntax_error(const yypcontext_t *yyctx, void *scanner,
                                 bayes_expr_ctx *ctx)
{
  const BAYES_YYLTYPE *l = yypcontext_location(yyctx);
  yysymbol_kind_t tok = yypcontext_token(yyctx);
  char what[64], prev[64];
  int l0 = l->first_line, c0 = l->first_column, l1 = l->last_line, c1 = l->last_column;
  int prev_op = ctx->prev.kind && is_operator_tok(ctx->prev.kind);

  prev[0] = '\0';
  if (ctx->prev.kind) describe(ctx, &ctx->prev, prev, sizeof prev);

  if (tok == YYSYMBOL_YYEOF) {
    /* the caret goes just after the last token, not after trailing blanks */
    l0 = l1 = ctx->cur.kind ? ctx->cur.end_line : 0;
    c0 = ctx->cur.kind ? ctx->cur.end_col : 0;
    c1 = c0 + 1;
    if (!ctx->cur.kind) {
      bayes_expr_error_at(ctx, l0, c0, l1, c1, "the expression is empty");
    } else if (is_operator_tok(ctx->cur.kind) && ctx->cur.kind != '(' &&
               ctx->cur.kind != '[') {
      char last[64];
      describe(ctx, &ctx->cur, last, sizeof last);
      bayes_expr_error_at(ctx, l0, c0, l1, c1, "expected an expression after %s", last);
    } else if (ctx->nbr > 0) {
      char close = ctx->br[ctx->nbr - 1].c == '(' ? ')' : ']';
      bayes_expr_error_at(ctx, l0, c0, l1, c1,
                          "unexpected end of expression; is a '%c' missing?", close);
      int bl = ctx->br[ctx->nbr - 1].line, bc = ctx->br[ctx->nbr - 1].col;
      bayes_diag_add(ctx->d, BAYES_DIAG_NOTE, ctx->loc.src,
                     ctx->loc.src ? ctx->loc.line + bl : 0,
                     (bl == 0 ? ctx->loc.col : ctx->loc.cont_col) + bc, 1,
                     "unbalanced '%c'", ctx->br[ctx->nbr - 1].c);
    } else {
      yysymbol_kind_t exp[4];
      int ne = yypcontext_expected_tokens(yyctx, exp, 4);
      if (ne == 1 && exp[0] == YYSYMBOL_ARROW)
        bayes_expr_error_at(ctx, l0, c0, l1, c1,
                            "unexpected end of expression; a list in parentheses must "
                            "be followed by '->' (a lambda)");
      else
        bayes_expr_error_at(ctx, l0, c0, l1, c1, "unexpected end of expression");
    }
    return 0;
  }

  describe(ctx, &ctx->cur, what, sizeof what);
  if (ctx->bad_close && ctx->nbr == 0) {
    bayes_expr_error_at(ctx, l0, c0, l1, c1, "unbalanced '%c'", ctx->bad_close);
  } else if (ctx->bad_close) {
    char open = ctx->br[ctx->nbr - 1].c;
    bayes_expr_error_at(ctx, l0, c0, l1, c1, "unexpected '%c'; is a '%c' missing?",
                        ctx->bad_close, open == '(' ? ')' : ']');
  } else if (prev_op && (tok == YYSYMBOL_YYerror || tok == YYSYMBOL_YYUNDEF ||
                         !sym_word(tok))) {
    /* an operator followed by something that cannot start an operand */
    bayes_expr_error_at(ctx, l0, c0, l1, c1, "expected an expression after %s, found %s",
                        prev, what);
  } else if (ctx->cur.kind == '=') {
    bayes_expr_error_at(ctx, l0, c0, l1, c1, "unexpected '='; did you mean '=='?");
  } else {
    yysymbol_kind_t exp[5];
    int ne = yypcontext_expected_tokens(yyctx, exp, 5);
    int listable = ne > 0 && ne <= 4;
    for (int i = 0; i < ne && listable; i++)
      if (exp[i] == YYSYMBOL_NUM || exp[i] == YYSYMBOL_YYEOF) listable = 0;
    if (listable) {
      char lst[128];
      size_t k = 0;
      lst[0] = '\0';
      for (int i = 0; i < ne; i++) {
        const char *w = sym_word(exp[i]);
        const char *nm = yysymbol_name(exp[i]);
        /* bison may name "->" with or without double quotes; '=' comes single-quoted */
        int nl = (int)strlen(nm), q = nm[0] == '"';
        const char *sep = i == 0 ? "" : i == ne - 1 ? " or " : ", ";
        if (w)
          k += (size_t)snprintf(lst + k, sizeof lst - k, "%s%s", sep, w);
        else if (q)
          k += (size_t)snprintf(lst + k, sizeof lst - k, "%s'%.*s'", sep, nl - 2, nm + 1);
        else if (nm[0] == '\'')
          k += (size_t)snprintf(lst + k, sizeof lst - k, "%s%s", sep, nm);
        else
          k += (size_t)snprintf(lst + k, sizeof lst - k, "%s'%s'", sep, nm);
        if (k >= sizeof lst) break;
      }
      bayes_expr_error_at(ctx, l0, c0, l1, c1, "unexpected %s; expected %s", what, lst);
    } else {
      bayes_expr_error_at(ctx, l0, c0, l1, c1, "unexpected %s", what);
    }
  }
  return 0;
}

static void bayes_yyerror(BAYES_YYLTYPE *lloc, void *scanner, bayes_expr_ctx *ctx,
                          const char *msg)
{
  /* with a custom error reporter bison calls this only when its fixed-size stack is
   * exhausted, i.e. for input nested far beyond the limit */
  bayes_expr_error_at(ctx, lloc->first_line, lloc->first_column, lloc->last_line,
                      lloc->last_column, "expression nested deeper than %d levels",
                      BAYES_EXPR_MAX_DEPTH);
}
