/* ast.c — drives the reentrant expression scanner and parser (grammar/) over one
 * expression, and dumps ASTs as S-expressions for `--dump ast` and golden tests.
 * Must not print; every syntax error goes to the caller's bayes_diag. */
#include "ast.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "expr.h"
/* the scanner header needs the parser's value and location types under flex's names */
#define YYSTYPE BAYES_YYSTYPE
#define YYLTYPE BAYES_YYLTYPE
#include "expr_lex.h"

/* Characters (not bytes) on each line of the text, so that a node spanning lines can be
 * underlined to the end of its first line. */
static int *line_lengths(const char *text, size_t len, int *nlines)
{
  int n = 1;
  for (size_t i = 0; i < len; i++) n += text[i] == '\n';
  int *ll = bayes_calloc((size_t)n, sizeof *ll);
  if (!ll) return NULL;
  int k = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c == '\n') k++;
    else if ((c & 0xC0) != 0x80) ll[k]++;
  }
  *nlines = n;
  return ll;
}

bayes_ast *bayes_parse_expr(bayes_arena *a, const char *text, const bayes_expr_loc *loc,
                            bayes_diag *d)
{
  /* volatile: these are read after longjmp from the scanner's out-of-memory exit */
  bayes_expr_ctx *volatile ctx = NULL;
  int *volatile linelen = NULL;
  char *volatile buf = NULL;
  yyscan_t volatile scanner = NULL;
  bayes_ast *result = NULL;
  size_t len = strlen(text);

  if (len > (size_t)0x3FFFFFFF) {
    /* positions are ints; no sane model has a gigabyte expression */
    bayes_error(d, loc ? loc->src : NULL, loc && loc->src ? loc->line : 0,
                loc ? loc->col : 1, 1, "expression is too long");
    return NULL;
  }
  ctx = bayes_calloc(1, sizeof *ctx);
  if (!ctx) goto oom;
  ctx->a = a;
  ctx->d = d;
  if (loc) {
    ctx->loc = *loc;
  } else {
    ctx->loc.line = ctx->loc.col = ctx->loc.cont_col = 1;
  }
  ctx->text = text;
  ctx->len = len;
  int nl = 0;
  linelen = line_lengths(text, len, &nl);
  if (!linelen) goto oom;
  ctx->linelen = linelen;
  ctx->nlines = nl;

  /* The scanner works in place on a copy ending in the two NULs flex wants (what
   * yy_scan_bytes would do, but owning the copy keeps the out-of-memory path leak-free). */
  buf = bayes_malloc(len + 2);
  if (!buf) goto oom;
  memcpy(buf, text, len);
  buf[len] = buf[len + 1] = '\0';
  if (setjmp(ctx->fatal)) goto oom;
  yyscan_t sc;
  if (bayes_yylex_init_extra(ctx, &sc) != 0) goto oom;
  scanner = sc;
  bayes_expr_lex_reserve(scanner);
  if (!bayes_yy_scan_buffer(buf, len + 2, scanner)) goto oom;
  int rc = bayes_yyparse(scanner, ctx);
  if (rc == 0 && ctx->nerr == 0 && ctx->result) result = ctx->result;
  else if (ctx->nerr == 0)
    /* bison aborted without a message: an error token from the scanner always reports
     * first, so this means memory ran out */
    goto oom;
  bayes_yylex_destroy(scanner);
  bayes_free(buf);
  bayes_free(linelen);
  bayes_free(ctx);
  return result;

oom:
  d->oom = 1;
  bayes_error(d, NULL, 0, 0, 0, "out of memory while parsing an expression");
  if (scanner) bayes_yylex_destroy(scanner);
  bayes_free(buf);
  bayes_free(linelen);
  bayes_free(ctx);
  return NULL;
}

/* ---- S-expression dump ---- */

static const char *op_str(int op)
{
  switch (op) {
  case BAYES_OP_EQ: return "==";
  case BAYES_OP_NE: return "!=";
  case BAYES_OP_LE: return "<=";
  case BAYES_OP_GE: return ">=";
  case BAYES_OP_AND: return "&&";
  case BAYES_OP_OR: return "||";
  case '+': return "+";
  case '-': return "-";
  case '*': return "*";
  case '/': return "/";
  case '^': return "^";
  case '@': return "@";
  case '<': return "<";
  case '>': return ">";
  default:
    return "?op";
  }
}

static void dump_num(const bayes_ast *e, bayes_sb *sb)
{
  if (e->is_int && e->num >= -9007199254740992.0 && e->num <= 9007199254740992.0) {
    bayes_sb_printf(sb, "%.0f", e->num);
    return;
  }
  size_t start = sb->len;
  bayes_sb_double(sb, e->num);
  if (sb->oom) return;
  /* a real must read back as a real: 1.0 dumps as "1.0", not "1" */
  const char *s = sb->s + start;
  if (!strpbrk(s, ".eEnN")) bayes_sb_puts(sb, ".0");
}

static void dump_kids(const bayes_ast *e, int from, bayes_sb *sb)
{
  for (int i = from; i < e->nkids; i++) {
    bayes_sb_putc(sb, ' ');
    bayes_ast_dump(e->kids[i], sb);
  }
}

void bayes_ast_dump(const bayes_ast *e, bayes_sb *sb)
{
  if (!e) {
    bayes_sb_putc(sb, '_');
    return;
  }
  switch (e->kind) {
  case BAYES_AST_NUM:
    dump_num(e, sb);
    break;
  case BAYES_AST_NAME:
    bayes_sb_puts(sb, e->name ? e->name : "?");
    break;
  case BAYES_AST_CALL:
    bayes_sb_printf(sb, "(call %s", e->name ? e->name : "?");
    for (int i = 0; i < e->nkids; i++) {
      bayes_sb_putc(sb, ' ');
      if (e->kw && e->kw[i]) {
        bayes_sb_printf(sb, "(kw %s ", e->kw[i]);
        bayes_ast_dump(e->kids[i], sb);
        bayes_sb_putc(sb, ')');
      } else {
        bayes_ast_dump(e->kids[i], sb);
      }
    }
    bayes_sb_putc(sb, ')');
    break;
  case BAYES_AST_INDEX:
    bayes_sb_puts(sb, "(index");
    dump_kids(e, 0, sb);
    bayes_sb_putc(sb, ')');
    break;
  case BAYES_AST_BINOP:
    bayes_sb_printf(sb, "(%s", op_str(e->op));
    dump_kids(e, 0, sb);
    bayes_sb_putc(sb, ')');
    break;
  case BAYES_AST_UNOP:
    bayes_sb_puts(sb, e->op == '-' ? "(neg" : e->op == '+' ? "(pos" : "(not");
    dump_kids(e, 0, sb);
    bayes_sb_putc(sb, ')');
    break;
  case BAYES_AST_COND:
    bayes_sb_puts(sb, "(?");
    dump_kids(e, 0, sb);
    bayes_sb_putc(sb, ')');
    break;
  case BAYES_AST_VEC:
    bayes_sb_puts(sb, "(vec");
    dump_kids(e, 0, sb);
    bayes_sb_putc(sb, ')');
    break;
  case BAYES_AST_COMPR:
    bayes_sb_printf(sb, "(for %s ", e->name ? e->name : "?");
    bayes_ast_dump(e->nkids > 1 ? e->kids[1] : NULL, sb);
    bayes_sb_putc(sb, ' ');
    bayes_ast_dump(e->nkids > 0 ? e->kids[0] : NULL, sb);
    bayes_sb_putc(sb, ')');
    break;
  case BAYES_AST_LAMBDA:
    bayes_sb_puts(sb, "(lambda (");
    for (int i = 0; i < e->nparams; i++) {
      if (i) bayes_sb_putc(sb, ' ');
      bayes_sb_puts(sb, e->params[i]);
    }
    bayes_sb_puts(sb, ") ");
    bayes_ast_dump(e->nkids > 0 ? e->kids[0] : NULL, sb);
    bayes_sb_putc(sb, ')');
    break;
  case BAYES_AST_RANGE:
    bayes_sb_puts(sb, "(:");
    dump_kids(e, 0, sb);
    bayes_sb_putc(sb, ')');
    break;
  case BAYES_AST_ALL:
    bayes_sb_putc(sb, ':');
    break;
  case BAYES_AST_TRANSPOSE:
    bayes_sb_puts(sb, "(t");
    dump_kids(e, 0, sb);
    bayes_sb_putc(sb, ')');
    break;
  default:
    bayes_sb_printf(sb, "(?kind%d)", (int)e->kind);
    break;
  }
}
