/*
 * jschema.c - JSON Schema (draft 2020-12) validation, for the arguments
 * of tool calls.  A schema is compiled once into a graph of nodes, one per
 * subschema, each holding its keywords checked and converted (regular
 * expressions compiled, $refs resolved, limits as numbers), so that
 * validating an instance is one walk over it with no parsing or lookup
 * of keywords.  Only $refs within the document are resolved: '#' and JSON
 * pointers after it.  A $ref loop (a schema that comes back to itself
 * without stepping into the instance) is refused when compiling, so that
 * validation always ends.  Patterns are ECMA-262 regular expressions,
 * rewritten where Oniguruma reads them otherwise (anchors, '.', classes).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <oniguruma.h>

#include "agentutils.h"

/* Instance types, as bits: an integer is a number too. */
enum {
	T_NULL = 1, T_BOOLEAN = 2, T_OBJECT = 4, T_ARRAY = 8, T_NUMBER = 16,
	T_STRING = 32, T_INTEGER = 64
};
static const char *const type_names[] = {
	"null", "boolean", "object", "array", "number", "string", "integer"
};
#define NTYPES 7

/* Number bounds: num[] and has_num's bits. */
enum { N_MIN, N_MAX, N_XMIN, N_XMAX, N_MULT, NNUM };

/* Counts, -1 when absent: each minimum followed by its maximum. */
enum {
	L_MINLEN, L_MAXLEN, L_MINITEMS, L_MAXITEMS, L_MINPROPS, L_MAXPROPS,
	L_MINCONT, L_MAXCONT, NLIM
};
static const char *const lim_names[NLIM] = {
	"minLength", "maxLength", "minItems", "maxItems", "minProperties",
	"maxProperties", "minContains", "maxContains"
};

struct node;

/* A named subschema: properties, dependentSchemas. */
struct prop {
	jv name;
	struct node *n;
};

/* patternProperties. */
struct pat {
	regex_t *re;
	struct node *n;
};

/* dependentRequired: name requires every one of req. */
struct dep {
	jv name;
	jv *req;
	size_t nreq;
};

/* A list of subschemas: prefixItems, allOf, anyOf, oneOf. */
struct list {
	struct node **n;
	size_t len;
};

struct node {
	char *ptr;		/* its JSON pointer in the document */
	int boolean;		/* a boolean schema: 1 or 0; else -1 */
	int mark;		/* for the $ref loop search */
	unsigned types;		/* T_ bits, 0 when any type will do */
	jv konst, enums;	/* invalid when absent */
	unsigned has_num;
	double num[NNUM];
	double lim[NLIM];
	int unique;
	regex_t *pattern;
	char *pattern_src;
	struct prop *props, *dsch;
	size_t nprops, ndsch;
	struct au_map *propmap;	/* the names of props */
	struct pat *pats;
	size_t npats;
	struct dep *dreq;
	size_t ndreq;
	jv *required;
	size_t nrequired;
	struct list prefix, all, any, one;
	struct node *additional, *propnames, *items, *contains, *not;
	struct node *if_, *then, *else_, *ref;
};

struct au_jschema {
	jv doc;
	struct node **nodes;
	size_t nnodes, cap;
	struct au_map *byptr;	/* node pointer -> index in nodes */
};

/* A $ref seen while compiling, resolved once the tree is done. */
struct pending {
	struct node *n;
	char *ref, *at;
};

/* The state of one compilation. */
struct cc {
	struct au_jschema *s;
	struct au_buf path;	/* the pointer of the value compiled */
	const char *id;		/* the root's $id up to any '#', or NULL */
	size_t idlen;
	int embedded;		/* inside subschemas with an $id of their own */
	struct pending *refs;
	size_t nrefs, refcap;
	struct node **stack;	/* the $ref loop search's path */
	size_t depth;
};

/* ---- regular expressions ---------------------------------------------- */

static OnigSyntaxType ecma_syntax;
static pthread_once_t ecma_once = PTHREAD_ONCE_INIT;

/* Perl's syntax with ECMA-262's \uHHHH and \v. */
static void
ecma_init(void)
{
	onig_copy_syntax(&ecma_syntax, ONIG_SYNTAX_PERL_NG);
	onig_set_syntax_op2(&ecma_syntax, onig_get_syntax_op2(&ecma_syntax) |
	    ONIG_SYN_OP2_ESC_U_HEX4 | ONIG_SYN_OP2_ESC_V_VTAB);
}

/* ECMA-262's white space and line terminators, for \s: Oniguruma's \s
 * has U+0085 and lacks U+FEFF. */
#define ECMA_SPACE "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a" \
	"\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"

/* Rewrite the ECMA-262 pattern p into b where Oniguruma would read it
 * otherwise: '^' and '$' match only at the ends of the string, '.' no line
 * terminator, \s and \S ECMA-262's white space (but for \S in a class,
 * which Oniguruma's cannot express), "[]" nothing, "[^]" anything, and
 * '[' and '&' in a class are plain characters. */
static void
ecma_rewrite(const char *p, size_t n, struct au_buf *b)
{
	size_t i = 0;
	int cls = 0;

	au_buf_adds(b, "");
	while (i < n) {
		if (p[i] == '\\' && i + 1 < n && p[i + 1] == 's') {
			au_buf_adds(b, cls ? ECMA_SPACE : "[" ECMA_SPACE "]");
			i += 2;
		} else if (p[i] == '\\' && i + 1 < n && p[i + 1] == 'S' &&
		    !cls) {
			au_buf_adds(b, "[^" ECMA_SPACE "]");
			i += 2;
		} else if (p[i] == '\\' && i + 1 < n) {
			au_buf_add(b, p + i, 2);
			i += 2;
		} else if (cls) {
			if (p[i] == ']')
				cls = 0;
			if (p[i] == '[' || p[i] == '&')
				au_buf_addc(b, '\\');
			au_buf_addc(b, p[i++]);
		} else if (p[i] == '[' && i + 1 < n && p[i + 1] == ']') {
			au_buf_adds(b, "(?!)");
			i += 2;
		} else if (p[i] == '[' && i + 2 < n && p[i + 1] == '^' &&
		    p[i + 2] == ']') {
			au_buf_adds(b, "[\\s\\S]");
			i += 3;
		} else {
			switch (p[i]) {
			case '[':
				cls = 1;
				au_buf_addc(b, '[');
				if (i + 1 < n && p[i + 1] == '^')
					au_buf_addc(b, p[++i]);
				break;
			case '.':
				au_buf_adds(b, "[^\\n\\r\\u2028\\u2029]");
				break;
			case '^':
				au_buf_adds(b, "\\A");
				break;
			case '$':
				au_buf_adds(b, "\\z");
				break;
			default:
				au_buf_addc(b, p[i]);
			}
			i++;
		}
	}
}

/* Compile the pattern string v (borrowed) into *re: 0, or 65 naming the
 * pointer at. */
static int
regex_new(jv v, const char *at, regex_t **re)
{
	struct au_buf b = AU_BUF_INIT;
	OnigErrorInfo info;
	OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
	int r;

	if (jv_get_kind(v) != JV_KIND_STRING)
		return au_seterr(EX_DATAERR, "schema at %s: expected a string",
		    au_quote(at));
	pthread_once(&ecma_once, ecma_init);
	ecma_rewrite(jv_string_value(v), jv_string_length_bytes(jv_copy(v)),
	    &b);
	r = onig_new(re, (OnigUChar *)b.s, (OnigUChar *)b.s + b.len,
	    ONIG_OPTION_CAPTURE_GROUP | ONIG_OPTION_DIGIT_IS_ASCII |
	    ONIG_OPTION_WORD_IS_ASCII,
	    ONIG_ENCODING_UTF8, &ecma_syntax, &info);
	au_buf_free(&b);
	if (r == ONIG_NORMAL)
		return 0;
	*re = NULL;
	onig_error_code_to_str(msg, r, &info);
	return au_seterr(EX_DATAERR, "schema at %s: bad regular expression "
	    "%s: %s", au_quote(at), au_quote(jv_string_value(v)),
	    (char *)msg);
}

/* Whether re finds a match in the string v (borrowed): 1, 0, or -1 when
 * Oniguruma gives up (too much backtracking). */
static int
regex_match(regex_t *re, jv v)
{
	const OnigUChar *s = (const OnigUChar *)jv_string_value(v);
	const OnigUChar *e = s + jv_string_length_bytes(jv_copy(v));
	int r = onig_search(re, s, e, s, e, NULL, ONIG_OPTION_NONE);

	return r >= 0 ? 1 : r == ONIG_MISMATCH ? 0 : -1;
}

/* ---- compiling -------------------------------------------------------- */

/* Append the JSON pointer token for the n bytes at s to b. */
static void
ptr_add(struct au_buf *b, const char *s, size_t n)
{
	size_t i;

	au_buf_addc(b, '/');
	for (i = 0; i < n; i++) {
		if (s[i] == '~')
			au_buf_adds(b, "~0");
		else if (s[i] == '/')
			au_buf_adds(b, "~1");
		else
			au_buf_addc(b, s[i]);
	}
}

static void
ptr_addstr(struct au_buf *b, jv s)
{
	ptr_add(b, jv_string_value(s), jv_string_length_bytes(jv_copy(s)));
}

static void
ptr_cut(struct au_buf *b, size_t len)
{
	b->len = len;
	b->s[len] = '\0';
}

static int
bad(struct cc *c, const char *what)
{
	return au_seterr(EX_DATAERR, "schema at %s: %s", au_quote(c->path.s),
	    what);
}

static struct node *
node_new(struct cc *c)
{
	struct au_jschema *s = c->s;
	struct node *n = au_xcalloc(1, sizeof *n);
	int i;

	n->ptr = au_xstrdup(c->path.s);
	n->boolean = -1;
	n->konst = jv_invalid();
	n->enums = jv_invalid();
	for (i = 0; i < NLIM; i++)
		n->lim[i] = -1;
	s->nodes = au_grow(s->nodes, &s->cap, s->nnodes + 1, sizeof *s->nodes);
	au_map_put(s->byptr, n->ptr, c->path.len, (long)s->nnodes);
	s->nodes[s->nnodes++] = n;
	return n;
}

static int compile(struct cc *c, jv v, struct node **out);

/* The keyword handlers: v is the keyword's value (borrowed), c->path its
 * pointer. */
typedef int kwfn(struct cc *, struct node *, jv, int);

static int
kw_type(struct cc *c, struct node *n, jv v, int arg)
{
	unsigned bit;
	int i, j, len = 1;
	jv t;

	(void)arg;
	if (jv_get_kind(v) == JV_KIND_ARRAY && (len = jv_array_length(
	    jv_copy(v))) == 0)
		return bad(c, "expected at least one type");
	else if (jv_get_kind(v) != JV_KIND_ARRAY &&
	    jv_get_kind(v) != JV_KIND_STRING)
		return bad(c, "expected a string or an array of strings");
	for (i = 0; i < len; i++) {
		t = jv_get_kind(v) == JV_KIND_ARRAY ?
		    jv_array_get(jv_copy(v), i) : jv_copy(v);
		if (jv_get_kind(t) != JV_KIND_STRING) {
			jv_free(t);
			return bad(c, "expected a string or an array of "
			    "strings");
		}
		for (j = 0; j < NTYPES; j++)
			if (strcmp(jv_string_value(t), type_names[j]) == 0)
				break;
		if (j == NTYPES) {
			au_seterr(EX_DATAERR, "schema at %s: unknown type %s",
			    au_quote(c->path.s), au_quote(jv_string_value(t)));
			jv_free(t);
			return EX_DATAERR;
		}
		jv_free(t);
		bit = 1u << j;
		if (n->types & bit)
			return bad(c, "a type is named twice");
		n->types |= bit;
	}
	return 0;
}

static int
kw_enum(struct cc *c, struct node *n, jv v, int arg)
{
	(void)arg;
	if (jv_get_kind(v) != JV_KIND_ARRAY)
		return bad(c, "expected an array");
	n->enums = jv_copy(v);
	return 0;
}

static int
kw_const(struct cc *c, struct node *n, jv v, int arg)
{
	(void)c;
	(void)arg;
	n->konst = jv_copy(v);
	return 0;
}

static int
kw_num(struct cc *c, struct node *n, jv v, int arg)
{
	if (jv_get_kind(v) != JV_KIND_NUMBER)
		return bad(c, "expected a number");
	if (arg == N_MULT && !(jv_number_value(v) > 0))
		return bad(c, "expected a number greater than 0");
	n->num[arg] = jv_number_value(v);
	n->has_num |= 1u << arg;
	return 0;
}

static int
kw_lim(struct cc *c, struct node *n, jv v, int arg)
{
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : -1;

	if (!(d >= 0) || d != floor(d))
		return bad(c, "expected a non-negative integer");
	n->lim[arg] = d;
	return 0;
}

static int
kw_unique(struct cc *c, struct node *n, jv v, int arg)
{
	(void)arg;
	if (jv_get_kind(v) != JV_KIND_TRUE && jv_get_kind(v) != JV_KIND_FALSE)
		return bad(c, "expected a boolean");
	n->unique = jv_get_kind(v) == JV_KIND_TRUE;
	return 0;
}

static int
kw_pattern(struct cc *c, struct node *n, jv v, int arg)
{
	int rc;

	(void)arg;
	if ((rc = regex_new(v, c->path.s, &n->pattern)) != 0)
		return rc;
	n->pattern_src = au_xstrdup(jv_string_value(v));
	return 0;
}

/* An array of distinct strings, copied into *out. */
static int
strings(struct cc *c, jv v, jv **out, size_t *nout)
{
	int i, j, len;
	jv *a;

	if (jv_get_kind(v) != JV_KIND_ARRAY)
		return bad(c, "expected an array of strings");
	len = jv_array_length(jv_copy(v));
	a = au_xcalloc((size_t)len + 1, sizeof *a);
	*out = a;
	for (i = 0; i < len; i++) {
		a[i] = jv_array_get(jv_copy(v), i);
		*nout = (size_t)i + 1;
		if (jv_get_kind(a[i]) != JV_KIND_STRING)
			return bad(c, "expected an array of strings");
		for (j = 0; j < i; j++)
			if (jv_equal(jv_copy(a[i]), jv_copy(a[j])))
				return bad(c, "a name is listed twice");
	}
	return 0;
}

static int
kw_required(struct cc *c, struct node *n, jv v, int arg)
{
	(void)arg;
	return strings(c, v, &n->required, &n->nrequired);
}

/* The subschema v at c->path plus the token for the n bytes at s. */
static int
sub(struct cc *c, jv v, const char *s, size_t len, struct node **out)
{
	size_t mark = c->path.len;
	int rc;

	ptr_add(&c->path, s, len);
	rc = compile(c, v, out);
	ptr_cut(&c->path, mark);
	return rc;
}

/* A subschema, with the keyword's own pointer. */
static int
kw_schema(struct cc *c, struct node *n, jv v, int arg)
{
	struct node **to[] = {
		&n->additional, &n->propnames, &n->items, &n->contains,
		&n->not, &n->if_, &n->then, &n->else_
	};

	return compile(c, v, to[arg]);
}

/* An object of subschemas, into props (or pats for patternProperties). */
static int
kw_props(struct cc *c, struct node *n, jv v, int arg)
{
	struct prop **pp = arg == 0 ? &n->props : &n->dsch;
	size_t *np = arg == 0 ? &n->nprops : &n->ndsch;
	int i, rc = 0, len;
	jv k, val;

	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return bad(c, "expected an object of schemas");
	len = jv_object_length(jv_copy(v));
	if (arg == 2)
		n->pats = au_xcalloc((size_t)len + 1, sizeof *n->pats);
	else
		*pp = au_xcalloc((size_t)len + 1, sizeof **pp);
	if (arg == 0)
		n->propmap = au_map_new((size_t)len);
	for (i = jv_object_iter(v); rc == 0 && jv_object_iter_valid(v, i);
	    i = jv_object_iter_next(v, i)) {
		k = jv_object_iter_key(v, i);
		val = jv_object_iter_value(v, i);
		if (arg == 2) {
			size_t mark = c->path.len;

			ptr_addstr(&c->path, k);
			rc = regex_new(k, c->path.s, &n->pats[n->npats].re);
			ptr_cut(&c->path, mark);
			if (rc == 0)
				rc = sub(c, val, jv_string_value(k),
				    jv_string_length_bytes(jv_copy(k)),
				    &n->pats[n->npats++].n);
			jv_free(k);
		} else {
			(*pp)[*np].name = k;
			rc = sub(c, val, jv_string_value(k),
			    jv_string_length_bytes(jv_copy(k)), &(*pp)[*np].n);
			if (arg == 0)
				au_map_put(n->propmap, jv_string_value(k),
				    jv_string_length_bytes(jv_copy(k)),
				    (long)*np);
			++*np;
		}
		jv_free(val);
	}
	return rc;
}

/* $defs: compiled for their errors, reached through $ref. */
static int
kw_defs(struct cc *c, struct node *n, jv v, int arg)
{
	struct node *d;
	int i, rc = 0;
	jv k, val;

	(void)n;
	(void)arg;
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return bad(c, "expected an object of schemas");
	for (i = jv_object_iter(v); rc == 0 && jv_object_iter_valid(v, i);
	    i = jv_object_iter_next(v, i)) {
		k = jv_object_iter_key(v, i);
		val = jv_object_iter_value(v, i);
		rc = sub(c, val, jv_string_value(k),
		    jv_string_length_bytes(jv_copy(k)), &d);
		jv_free(k);
		jv_free(val);
	}
	return rc;
}

static int
kw_list(struct cc *c, struct node *n, jv v, int arg)
{
	struct list *l[] = { &n->prefix, &n->all, &n->any, &n->one };
	struct list *to = l[arg];
	char idx[24];
	int i, len, rc = 0;
	jv val;

	if (jv_get_kind(v) != JV_KIND_ARRAY ||
	    (len = jv_array_length(jv_copy(v))) == 0)
		return bad(c, "expected a non-empty array of schemas");
	to->n = au_xcalloc((size_t)len, sizeof *to->n);
	for (i = 0; rc == 0 && i < len; i++) {
		val = jv_array_get(jv_copy(v), i);
		snprintf(idx, sizeof idx, "%d", i);
		rc = sub(c, val, idx, strlen(idx), &to->n[to->len++]);
		jv_free(val);
	}
	return rc;
}

static int
kw_depreq(struct cc *c, struct node *n, jv v, int arg)
{
	size_t mark = c->path.len;
	int i, rc = 0;
	jv k, val;

	(void)arg;
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return bad(c, "expected an object of arrays of strings");
	n->dreq = au_xcalloc((size_t)jv_object_length(jv_copy(v)) + 1,
	    sizeof *n->dreq);
	for (i = jv_object_iter(v); rc == 0 && jv_object_iter_valid(v, i);
	    i = jv_object_iter_next(v, i)) {
		k = jv_object_iter_key(v, i);
		val = jv_object_iter_value(v, i);
		ptr_addstr(&c->path, k);
		n->dreq[n->ndreq].name = k;
		rc = strings(c, val, &n->dreq[n->ndreq].req,
		    &n->dreq[n->ndreq].nreq);
		n->ndreq++;
		ptr_cut(&c->path, mark);
		jv_free(val);
	}
	return rc;
}

static int
kw_ref(struct cc *c, struct node *n, jv v, int arg)
{
	struct pending *p;

	(void)arg;
	if (jv_get_kind(v) != JV_KIND_STRING)
		return bad(c, "expected a string");
	if (c->embedded)
		return bad(c, "$ref inside a subschema with an $id of its "
		    "own is not supported");
	c->refs = au_grow(c->refs, &c->refcap, c->nrefs + 1, sizeof *c->refs);
	p = &c->refs[c->nrefs++];
	p->n = n;
	p->ref = au_xstrdup(jv_string_value(v));
	p->at = au_xstrdup(c->path.s);
	return 0;
}

static int
kw_string(struct cc *c, struct node *n, jv v, int arg)
{
	(void)n;
	(void)arg;
	if (jv_get_kind(v) != JV_KIND_STRING)
		return bad(c, "expected a string");
	return 0;
}

static int
kw_unsupported(struct cc *c, struct node *n, jv v, int arg)
{
	(void)n;
	(void)v;
	(void)arg;
	return bad(c, "keyword not supported");
}

static const struct {
	const char *name;
	kwfn *fn;
	int arg;
} keywords[] = {
	{ "type", kw_type, 0 },
	{ "enum", kw_enum, 0 },
	{ "const", kw_const, 0 },
	{ "minimum", kw_num, N_MIN },
	{ "maximum", kw_num, N_MAX },
	{ "exclusiveMinimum", kw_num, N_XMIN },
	{ "exclusiveMaximum", kw_num, N_XMAX },
	{ "multipleOf", kw_num, N_MULT },
	{ "minLength", kw_lim, L_MINLEN },
	{ "maxLength", kw_lim, L_MAXLEN },
	{ "minItems", kw_lim, L_MINITEMS },
	{ "maxItems", kw_lim, L_MAXITEMS },
	{ "minProperties", kw_lim, L_MINPROPS },
	{ "maxProperties", kw_lim, L_MAXPROPS },
	{ "minContains", kw_lim, L_MINCONT },
	{ "maxContains", kw_lim, L_MAXCONT },
	{ "uniqueItems", kw_unique, 0 },
	{ "pattern", kw_pattern, 0 },
	{ "required", kw_required, 0 },
	{ "properties", kw_props, 0 },
	{ "dependentSchemas", kw_props, 1 },
	{ "patternProperties", kw_props, 2 },
	{ "additionalProperties", kw_schema, 0 },
	{ "propertyNames", kw_schema, 1 },
	{ "items", kw_schema, 2 },
	{ "contains", kw_schema, 3 },
	{ "not", kw_schema, 4 },
	{ "if", kw_schema, 5 },
	{ "then", kw_schema, 6 },
	{ "else", kw_schema, 7 },
	{ "prefixItems", kw_list, 0 },
	{ "allOf", kw_list, 1 },
	{ "anyOf", kw_list, 2 },
	{ "oneOf", kw_list, 3 },
	{ "dependentRequired", kw_depreq, 0 },
	{ "$defs", kw_defs, 0 },
	{ "$ref", kw_ref, 0 },
	{ "$schema", kw_string, 0 },
	{ "$id", kw_string, 0 },
	{ "$anchor", kw_string, 0 },
	{ "$comment", kw_string, 0 },
	{ "format", kw_string, 0 },
	/* Keywords that would make us accept what the schema refuses. */
	{ "$dynamicRef", kw_unsupported, 0 },
	{ "unevaluatedItems", kw_unsupported, 0 },
	{ "unevaluatedProperties", kw_unsupported, 0 },
};

/* The schema v (borrowed) at c->path, compiled once: *out. */
static int
compile(struct cc *c, jv v, struct node **out)
{
	long at = au_map_get(c->s->byptr, c->path.s, c->path.len);
	size_t i, mark = c->path.len;
	int it, rc = 0, id;
	struct node *n;
	const char *name;
	jv k, val;

	if (at >= 0) {
		*out = c->s->nodes[at];
		return 0;
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT &&
	    jv_get_kind(v) != JV_KIND_TRUE && jv_get_kind(v) != JV_KIND_FALSE)
		return bad(c, "expected a schema (an object or a boolean)");
	*out = n = node_new(c);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		n->boolean = jv_get_kind(v) == JV_KIND_TRUE;
		return 0;
	}
	id = n != c->s->nodes[0] && jv_object_has(jv_copy(v),
	    jv_string("$id"));
	c->embedded += id;
	for (it = jv_object_iter(v); rc == 0 && jv_object_iter_valid(v, it);
	    it = jv_object_iter_next(v, it)) {
		k = jv_object_iter_key(v, it);
		name = jv_string_value(k);
		for (i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
			if (strcmp(name, keywords[i].name) == 0)
				break;
		if (i < sizeof keywords / sizeof keywords[0]) {
			val = jv_object_iter_value(v, it);
			ptr_addstr(&c->path, k);
			rc = keywords[i].fn(c, n, val, keywords[i].arg);
			ptr_cut(&c->path, mark);
			jv_free(val);
		}
		jv_free(k);
	}
	c->embedded -= id;
	return rc;
}

/* Decode the %XX escapes of the URI fragment f into b: 0 or -1. */
static int
unpercent(const char *f, struct au_buf *b)
{
	char hex[3] = { 0, 0, 0 };
	char *end;

	au_buf_adds(b, "");
	for (; *f; f++) {
		if (*f != '%') {
			au_buf_addc(b, *f);
			continue;
		}
		if (!f[1] || !f[2])
			return -1;
		hex[0] = f[1];
		hex[1] = f[2];
		au_buf_addc(b, (char)strtol(hex, &end, 16));
		if (end != hex + 2 || hex[0] == '-' || hex[0] == '+')
			return -1;
		f += 2;
	}
	return 0;
}

/* Follow the pointer token tok (still escaped) from *v, which becomes the
 * value there, and add it to path: 0, or -1 with *v invalid. */
static int
step(jv *v, const char *tok, size_t len, struct au_buf *path)
{
	struct au_buf t = AU_BUF_INIT;
	size_t i;
	char *end;
	long idx;

	au_buf_adds(&t, "");
	for (i = 0; i < len; i++) {
		if (tok[i] != '~') {
			au_buf_addc(&t, tok[i]);
		} else if (i + 1 < len && (tok[i + 1] == '0' ||
		    tok[i + 1] == '1')) {
			au_buf_addc(&t, tok[++i] == '0' ? '~' : '/');
		} else {
			au_buf_free(&t);
			jv_free(*v);
			*v = jv_invalid();
			return -1;
		}
	}
	ptr_add(path, t.s, t.len);
	if (jv_get_kind(*v) == JV_KIND_OBJECT) {
		*v = jv_object_get(*v, jv_string_sized(t.s, (int)t.len));
	} else if (jv_get_kind(*v) == JV_KIND_ARRAY && t.len > 0 &&
	    t.len < 10 && strspn(t.s, "0123456789") == t.len &&
	    (t.s[0] != '0' || t.len == 1) && (idx = strtol(t.s, &end, 10)) <
	    jv_array_length(jv_copy(*v))) {
		*v = jv_array_get(*v, (int)idx);
	} else {
		jv_free(*v);
		*v = jv_invalid();
	}
	au_buf_free(&t);
	return jv_is_valid(*v) ? 0 : -1;
}

/* Resolve the $ref p and compile its target. */
static int
resolve(struct cc *c, struct pending *p)
{
	const char *hash = strchr(p->ref, '#'), *f, *slash;
	size_t baselen = hash ? (size_t)(hash - p->ref) : strlen(p->ref);
	struct au_buf frag = AU_BUF_INIT, path = AU_BUF_INIT, keep;
	jv v;
	int rc;

	ptr_cut(&c->path, 0);
	au_buf_adds(&c->path, p->at);
	if (baselen > 0 && (c->id == NULL || baselen != c->idlen ||
	    memcmp(p->ref, c->id, baselen) != 0))
		return bad(c, "only a $ref within the schema (\"#\" and a "
		    "JSON pointer) is supported");
	if (unpercent(hash ? hash + 1 : "", &frag) != 0 ||
	    (frag.len > 0 && frag.s[0] != '/') ||
	    strlen(frag.s) != frag.len) {
		au_buf_free(&frag);
		return bad(c, "$ref: expected a JSON pointer after '#'");
	}
	v = jv_copy(c->s->doc);
	au_buf_adds(&path, "");
	for (f = frag.s; *f; f = slash) {
		f++;
		slash = f + strcspn(f, "/");
		if (step(&v, f, (size_t)(slash - f), &path) != 0) {
			au_buf_free(&frag);
			au_buf_free(&path);
			return bad(c, "$ref: no such place in the schema");
		}
	}
	au_buf_free(&frag);
	if (jv_get_kind(v) != JV_KIND_OBJECT && jv_get_kind(v) !=
	    JV_KIND_TRUE && jv_get_kind(v) != JV_KIND_FALSE) {
		jv_free(v);
		au_buf_free(&path);
		return bad(c, "$ref: not a schema");
	}
	keep = c->path;
	c->path = path;
	rc = compile(c, v, &p->n->ref);
	path = c->path;
	c->path = keep;
	if (rc != 0)
		p->n->ref = NULL;
	au_buf_free(&path);
	jv_free(v);
	return rc;
}

/* The subschemas that apply to the instance n applies to. */
static size_t
inplace(const struct node *n, const struct node **out)
{
	const struct list *l[] = { &n->all, &n->any, &n->one };
	const struct node *one[] = {
		n->ref, n->not, n->if_, n->then, n->else_
	};
	size_t i, j, k = 0;

	for (i = 0; i < sizeof one / sizeof one[0]; i++)
		if (one[i] != NULL)
			out[k++] = one[i];
	for (i = 0; i < 3; i++)
		for (j = 0; j < l[i]->len; j++)
			out[k++] = l[i]->n[j];
	for (i = 0; i < n->ndsch; i++)
		out[k++] = n->dsch[i].n;
	return k;
}

/* Depth-first search for a cycle of in-place subschemas, which only
 * $refs can close: 0, or 65 with the cycle in the message. */
static int
loops(struct cc *c, struct node *n)
{
	const struct node **next;
	struct au_buf b = AU_BUF_INIT;
	size_t i, k;
	int rc = 0;

	if (n->mark == 2)
		return 0;
	if (n->mark == 1) {
		for (i = 0; c->stack[i] != n; i++)
			;
		au_buf_addf(&b, "schema at %s: $ref loop: ",
		    au_quote(n->ptr));
		for (; i < c->depth; i++)
			au_buf_addf(&b, "%s -> ", au_quote(c->stack[i]->ptr));
		au_buf_adds(&b, au_quote(n->ptr));
		rc = au_seterr(EX_DATAERR, "%s", b.s);
		au_buf_free(&b);
		return rc;
	}
	n->mark = 1;
	c->stack[c->depth++] = n;
	next = au_xcalloc(5 + n->all.len + n->any.len + n->one.len +
	    n->ndsch, sizeof *next);
	k = inplace(n, next);
	for (i = 0; rc == 0 && i < k; i++)
		rc = loops(c, (struct node *)next[i]);
	free(next);
	c->depth--;
	n->mark = 2;
	return rc;
}

int
au_jschema_compile(jv schema, struct au_jschema **out)
{
	struct cc c;
	struct au_jschema *s = au_xcalloc(1, sizeof *s);
	struct node *root;
	const char *id;
	size_t i;
	int rc;

	memset(&c, 0, sizeof c);
	c.s = s;
	s->doc = schema;
	s->byptr = au_map_new(16);
	au_buf_adds(&c.path, "");
	if (jv_get_kind(schema) == JV_KIND_OBJECT &&
	    (id = au_jv_str(schema, "$id")) != NULL) {
		c.id = id;
		c.idlen = strcspn(id, "#");
	}
	rc = compile(&c, schema, &root);
	for (i = 0; rc == 0 && i < c.nrefs; i++)
		rc = resolve(&c, &c.refs[i]);
	if (rc == 0) {
		c.stack = au_xcalloc(s->nnodes, sizeof *c.stack);
		for (i = 0; rc == 0 && i < s->nnodes; i++)
			rc = loops(&c, s->nodes[i]);
		free(c.stack);
	}
	for (i = 0; i < c.nrefs; i++) {
		free(c.refs[i].ref);
		free(c.refs[i].at);
	}
	free(c.refs);
	au_buf_free(&c.path);
	if (rc != 0) {
		au_jschema_free(s);
		*out = NULL;
		return rc;
	}
	*out = s;
	return 0;
}

void
au_jschema_free(struct au_jschema *s)
{
	struct node *n;
	size_t i, j;

	if (s == NULL)
		return;
	for (i = 0; i < s->nnodes; i++) {
		n = s->nodes[i];
		free(n->ptr);
		jv_free(n->konst);
		jv_free(n->enums);
		if (n->pattern != NULL)
			onig_free(n->pattern);
		free(n->pattern_src);
		for (j = 0; j < n->nprops; j++)
			jv_free(n->props[j].name);
		free(n->props);
		for (j = 0; j < n->ndsch; j++)
			jv_free(n->dsch[j].name);
		free(n->dsch);
		if (n->propmap != NULL)
			au_map_free(n->propmap);
		for (j = 0; j < n->npats; j++)
			onig_free(n->pats[j].re);
		free(n->pats);
		for (j = 0; j < n->nrequired; j++)
			jv_free(n->required[j]);
		free(n->required);
		for (j = 0; j < n->ndreq; j++) {
			jv_free(n->dreq[j].name);
			while (n->dreq[j].nreq > 0)
				jv_free(n->dreq[j].req[--n->dreq[j].nreq]);
			free(n->dreq[j].req);
		}
		free(n->dreq);
		free(n->prefix.n);
		free(n->all.n);
		free(n->any.n);
		free(n->one.n);
		free(n);
	}
	free(s->nodes);
	au_map_free(s->byptr);
	jv_free(s->doc);
	free(s);
}

/* ---- validating ------------------------------------------------------- */

/* The state of one validation. */
struct vc {
	jv errs;
	int nerr;
	int quiet;		/* only the verdict counts: stop at a failure */
	struct au_buf at;	/* the instance pointer, unless quiet */
};

/* Whether errors are kept no more: only the verdict counts. */
#define DONE(c) ((c)->quiet || (c)->nerr >= AU_JSCHEMA_MAXERR)
#define FAIL(c, ...) (DONE(c) ? 0 : fail((c), __VA_ARGS__))

/* After a failure: go on only to collect more errors. */
#define MISS(c, ok) do { \
		(ok) = 0; \
		if (DONE(c)) \
			return 0; \
	} while (0)

/* Record an error of keyword kw (NULL: the schema itself) of n; 0.  Use
 * FAIL, which spares the arguments' work when no error is kept. */
static int AU_PRINTF(4, 5)
fail(struct vc *c, const struct node *n, const char *kw, const char *fmt,
    ...)
{
	char msg[512];
	va_list ap;
	jv e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	e = jv_object_set(jv_object(), jv_string("instance"),
	    jv_string(c->at.s));
	e = jv_object_set(e, jv_string("schema"), kw == NULL ?
	    jv_string(n->ptr) : jv_string_fmt("%s/%s", n->ptr, kw));
	e = jv_object_set(e, jv_string("error"), jv_string(msg));
	c->errs = jv_array_append(c->errs, e);
	c->nerr++;
	return 0;
}

/* Step into the instance: the key k (a jv string, borrowed) or index i. */
static size_t
enter_key(struct vc *c, jv k)
{
	size_t mark = c->at.len;

	if (!c->quiet)
		ptr_addstr(&c->at, k);
	return mark;
}

static size_t
enter_index(struct vc *c, size_t i)
{
	size_t mark = c->at.len;

	if (!c->quiet)
		au_buf_addf(&c->at, "/%zu", i);
	return mark;
}

static void
leave(struct vc *c, size_t mark)
{
	if (!c->quiet)
		ptr_cut(&c->at, mark);
}

/* v (borrowed) as short JSON text, for messages: in one of four rotating
 * buffers. */
static const char *
show(jv v)
{
	static _Thread_local char bufs[4][96];
	static _Thread_local int next;
	struct au_buf b = AU_BUF_INIT;
	char *out = bufs[next++ % 4];

	au_buf_adds(&b, "");
	au_json_dump(&b, v);
	if (b.len < sizeof bufs[0])
		memcpy(out, b.s, b.len + 1);
	else
		snprintf(out, sizeof bufs[0], "%.*s...",
		    (int)sizeof bufs[0] - 4, b.s);
	au_buf_free(&b);
	return out;
}

static const char *
shownum(double d)
{
	return show(jv_number(d));
}

static unsigned
kind_bits(jv v)
{
	double d;

	switch (jv_get_kind(v)) {
	case JV_KIND_NULL: return T_NULL;
	case JV_KIND_TRUE:
	case JV_KIND_FALSE: return T_BOOLEAN;
	case JV_KIND_OBJECT: return T_OBJECT;
	case JV_KIND_ARRAY: return T_ARRAY;
	case JV_KIND_STRING: return T_STRING;
	case JV_KIND_NUMBER:
		d = jv_number_value(v);
		return isfinite(d) && d == floor(d) ? T_NUMBER | T_INTEGER :
		    T_NUMBER;
	default: return 0;
	}
}

static int check(struct vc *c, const struct node *n, jv v);

/* check quietly: the verdict alone. */
static int
test(struct vc *c, const struct node *n, jv v)
{
	int quiet = c->quiet, r;

	c->quiet = 1;
	r = check(c, n, v);
	c->quiet = quiet;
	return r;
}

static int
check_type(struct vc *c, const struct node *n, jv v)
{
	struct au_buf b = AU_BUF_INIT;
	int i;

	if (DONE(c))
		return 0;
	au_buf_adds(&b, "");
	for (i = 0; i < NTYPES; i++)
		if (n->types & (1u << i))
			au_buf_addf(&b, "%s%s", b.len ? " or " : "",
			    type_names[i]);
	fail(c, n, "type", "expected %s, got %s", b.s, au_jv_kind(v));
	au_buf_free(&b);
	return 0;
}

/* count against the limits lim[min] and lim[min + 1]; what names the
 * count in messages. */
static int
check_count(struct vc *c, const struct node *n, int min, double count,
    const char *what)
{
	int ok = 1;

	if (count < n->lim[min]) {
		FAIL(c, n, lim_names[min], "%s %.0f, less than the minimum "
		    "%.0f", what, count, n->lim[min]);
		MISS(c, ok);
	}
	if (n->lim[min + 1] >= 0 && count > n->lim[min + 1]) {
		FAIL(c, n, lim_names[min + 1], "%s %.0f, more than the maximum "
		    "%.0f", what, count, n->lim[min + 1]);
		MISS(c, ok);
	}
	return ok;
}

static int
check_number(struct vc *c, const struct node *n, double d)
{
	double m, q;
	int ok = 1;

	if ((n->has_num & 1u << N_MIN) && d < n->num[N_MIN]) {
		FAIL(c, n, "minimum", "%s is less than the minimum %s",
		    shownum(d), shownum(n->num[N_MIN]));
		MISS(c, ok);
	}
	if ((n->has_num & 1u << N_MAX) && d > n->num[N_MAX]) {
		FAIL(c, n, "maximum", "%s is greater than the maximum %s",
		    shownum(d), shownum(n->num[N_MAX]));
		MISS(c, ok);
	}
	if ((n->has_num & 1u << N_XMIN) && d <= n->num[N_XMIN]) {
		FAIL(c, n, "exclusiveMinimum", "%s is not greater than %s",
		    shownum(d), shownum(n->num[N_XMIN]));
		MISS(c, ok);
	}
	if ((n->has_num & 1u << N_XMAX) && d >= n->num[N_XMAX]) {
		FAIL(c, n, "exclusiveMaximum", "%s is not less than %s",
		    shownum(d), shownum(n->num[N_XMAX]));
		MISS(c, ok);
	}
	if (n->has_num & 1u << N_MULT) {
		/* Integers exactly; otherwise whether the quotient is
		 * integral, as most implementations judge it. */
		m = n->num[N_MULT];
		q = d / m;
		if (d == floor(d) && m == floor(m) ? fmod(d, m) != 0 :
		    !isfinite(q) || q != floor(q)) {
			FAIL(c, n, "multipleOf", "%s is not a multiple of %s",
			    shownum(d), shownum(m));
			MISS(c, ok);
		}
	}
	return ok;
}

static int
check_string(struct vc *c, const struct node *n, jv v)
{
	int ok = 1, r;

	if ((n->lim[L_MINLEN] >= 0 || n->lim[L_MAXLEN] >= 0) &&
	    !check_count(c, n, L_MINLEN, jv_string_length_codepoints(
	    jv_copy(v)), "length"))
		MISS(c, ok);
	if (n->pattern != NULL && (r = regex_match(n->pattern, v)) != 1) {
		FAIL(c, n, "pattern", r == 0 ? "%s does not match the pattern "
		    "%s" : "%s: the pattern %s needs too much backtracking",
		    show(v), au_quote(n->pattern_src));
		MISS(c, ok);
	}
	return ok;
}

static uint64_t
mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

/* A hash of v (borrowed) that JSON equality keeps: numbers by value,
 * objects whatever the order of their members. */
static uint64_t
jhash(jv v)
{
	const unsigned char *p;
	uint64_t h;
	double d;
	int i, n;
	jv k, x;

	switch (jv_get_kind(v)) {
	case JV_KIND_NUMBER:
		d = jv_number_value(v) + 0.0;	/* -0 as 0 */
		memcpy(&h, &d, sizeof h);
		return mix(h);
	case JV_KIND_STRING:
		p = (const unsigned char *)jv_string_value(v);
		n = jv_string_length_bytes(jv_copy(v));
		for (h = 14695981039346656037ULL, i = 0; i < n; i++)
			h = (h ^ p[i]) * 1099511628211ULL;
		return h;
	case JV_KIND_ARRAY:
		n = jv_array_length(jv_copy(v));
		for (h = 5, i = 0; i < n; i++) {
			x = jv_array_get(jv_copy(v), i);
			h = mix(h + jhash(x));
			jv_free(x);
		}
		return h;
	case JV_KIND_OBJECT:
		h = 6;
		for (i = jv_object_iter(v); jv_object_iter_valid(v, i);
		    i = jv_object_iter_next(v, i)) {
			k = jv_object_iter_key(v, i);
			x = jv_object_iter_value(v, i);
			h += mix(jhash(k) ^ mix(jhash(x)));
			jv_free(k);
			jv_free(x);
		}
		return h;
	default:
		return (uint64_t)jv_get_kind(v);
	}
}

/* Whether array a (borrowed) of len items has two equal ones: the
 * second's index, the first's in *first; or -1.  The items go into a
 * hash table by jhash, compared only when their hashes are equal. */
static int
duplicate(jv a, int len, int *first)
{
	uint64_t hbuf[32], *hash = hbuf;
	int sbuf[64], *slot = sbuf, i, dup = -1;
	size_t mask = 63, s;
	jv x;

	while (mask + 1 < (size_t)len * 2)
		mask = mask << 1 | 1;
	if (len > 32) {
		hash = au_xcalloc((size_t)len, sizeof *hash);
		slot = au_xcalloc(mask + 1, sizeof *slot);
	}
	memset(slot, 0xff, (mask + 1) * sizeof *slot);
	for (i = 0; dup < 0 && i < len; i++) {
		x = jv_array_get(jv_copy(a), i);
		hash[i] = jhash(x);
		for (s = hash[i] & mask; slot[s] >= 0; s = (s + 1) & mask)
			if (hash[slot[s]] == hash[i] && jv_equal(jv_copy(x),
			    jv_array_get(jv_copy(a), slot[s]))) {
				*first = slot[s];
				dup = i;
				break;
			}
		slot[s] = i;
		jv_free(x);
	}
	if (len > 32) {
		free(hash);
		free(slot);
	}
	return dup;
}

static int
check_array(struct vc *c, const struct node *n, jv v)
{
	int len = jv_array_length(jv_copy(v)), i, r, ok = 1, first, count;
	const struct node *s;
	size_t mark;
	jv item;

	if (!check_count(c, n, L_MINITEMS, len, "item count"))
		MISS(c, ok);
	if (n->unique && (r = duplicate(v, len, &first)) >= 0) {
		FAIL(c, n, "uniqueItems", "items %d and %d are equal", first,
		    r);
		MISS(c, ok);
	}
	for (i = 0; i < len; i++) {
		s = (size_t)i < n->prefix.len ? n->prefix.n[i] : n->items;
		if (s == NULL)
			continue;
		item = jv_array_get(jv_copy(v), i);
		mark = enter_index(c, (size_t)i);
		if (s->boolean == 0 && s == n->items)
			r = FAIL(c, s, NULL, "no item allowed after the first "
			    "%zu", n->prefix.len);
		else
			r = check(c, s, item);
		leave(c, mark);
		jv_free(item);
		if (!r)
			MISS(c, ok);
	}
	if (n->contains == NULL)
		return ok;
	for (i = count = 0; i < len; i++) {
		item = jv_array_get(jv_copy(v), i);
		count += test(c, n->contains, item);
		jv_free(item);
		if (n->lim[L_MAXCONT] < 0 && n->lim[L_MINCONT] >= 0 &&
		    count >= n->lim[L_MINCONT])
			break;
		if (n->lim[L_MAXCONT] < 0 && n->lim[L_MINCONT] < 0 && count)
			break;
	}
	if (n->lim[L_MINCONT] < 0 && count == 0) {
		FAIL(c, n, "contains", "no item matches the contains schema");
		MISS(c, ok);
	}
	if (!check_count(c, n, L_MINCONT, count, "contains matches"))
		MISS(c, ok);
	return ok;
}

/* patternProperties, additionalProperties and propertyNames of the
 * member k: val. */
static int
check_member(struct vc *c, const struct node *n, jv k, jv val)
{
	const char *ks = jv_string_value(k);
	size_t klen = (size_t)jv_string_length_bytes(jv_copy(k)), mark, i;
	int known = n->propmap != NULL &&
	    au_map_get(n->propmap, ks, klen) >= 0;
	int ok = 1, r;

	if (n->propnames != NULL && !test(c, n->propnames, k)) {
		FAIL(c, n, "propertyNames", "property name %s is not allowed",
		    show(k));
		MISS(c, ok);
	}
	for (i = 0; i < n->npats; i++) {
		if ((r = regex_match(n->pats[i].re, k)) == 0)
			continue;
		known = 1;
		mark = enter_key(c, k);
		r = r < 0 ? FAIL(c, n, "patternProperties", "property name "
		    "%s: a pattern needs too much backtracking", show(k)) :
		    check(c, n->pats[i].n, val);
		leave(c, mark);
		if (!r)
			MISS(c, ok);
	}
	if (known || n->additional == NULL)
		return ok;
	mark = enter_key(c, k);
	r = n->additional->boolean == 0 ? FAIL(c, n->additional, NULL,
	    "property %s is not allowed", show(k)) :
	    check(c, n->additional, val);
	leave(c, mark);
	if (!r)
		MISS(c, ok);
	return ok;
}

static int
check_object(struct vc *c, const struct node *n, jv v)
{
	int len = jv_object_length(jv_copy(v)), ok = 1, r, i;
	size_t j, mark;
	jv k, val;

	if (!check_count(c, n, L_MINPROPS, len, "property count"))
		MISS(c, ok);
	for (j = 0; j < n->nrequired; j++)
		if (!jv_object_has(jv_copy(v), jv_copy(n->required[j]))) {
			FAIL(c, n, "required", "missing required property %s",
			    show(n->required[j]));
			MISS(c, ok);
		}
	for (j = 0; j < n->ndreq; j++) {
		if (!jv_object_has(jv_copy(v), jv_copy(n->dreq[j].name)))
			continue;
		for (i = 0; (size_t)i < n->dreq[j].nreq; i++)
			if (!jv_object_has(jv_copy(v),
			    jv_copy(n->dreq[j].req[i]))) {
				FAIL(c, n, "dependentRequired", "property %s "
				    "requires property %s",
				    show(n->dreq[j].name),
				    show(n->dreq[j].req[i]));
				MISS(c, ok);
			}
	}
	for (j = 0; j < n->ndsch; j++)
		if (jv_object_has(jv_copy(v), jv_copy(n->dsch[j].name)) &&
		    !check(c, n->dsch[j].n, v))
			MISS(c, ok);
	for (j = 0; j < n->nprops; j++) {
		val = jv_object_get(jv_copy(v), jv_copy(n->props[j].name));
		if (!jv_is_valid(val)) {
			jv_free(val);
			continue;
		}
		mark = enter_key(c, n->props[j].name);
		r = check(c, n->props[j].n, val);
		leave(c, mark);
		jv_free(val);
		if (!r)
			MISS(c, ok);
	}
	if (n->npats == 0 && n->additional == NULL && n->propnames == NULL)
		return ok;
	for (i = jv_object_iter(v); jv_object_iter_valid(v, i);
	    i = jv_object_iter_next(v, i)) {
		k = jv_object_iter_key(v, i);
		val = jv_object_iter_value(v, i);
		r = check_member(c, n, k, val);
		jv_free(k);
		jv_free(val);
		if (!r)
			MISS(c, ok);
	}
	return ok;
}

/* The keywords that apply to any type. */
static int
check_any(struct vc *c, const struct node *n, jv v)
{
	int ok = 1, i, len, matched, first = -1;
	size_t j;

	if (jv_is_valid(n->konst) && !jv_equal(jv_copy(v),
	    jv_copy(n->konst))) {
		FAIL(c, n, "const", "expected %s", show(n->konst));
		MISS(c, ok);
	}
	if (jv_is_valid(n->enums)) {
		len = jv_array_length(jv_copy(n->enums));
		for (i = 0; i < len; i++)
			if (jv_equal(jv_copy(v), jv_array_get(jv_copy(n->enums),
			    i)))
				break;
		if (i == len) {
			FAIL(c, n, "enum", "expected one of %s",
			    show(n->enums));
			MISS(c, ok);
		}
	}
	if (n->ref != NULL && !check(c, n->ref, v))
		MISS(c, ok);
	for (j = 0; j < n->all.len; j++)
		if (!check(c, n->all.n[j], v))
			MISS(c, ok);
	if (n->any.len > 0) {
		for (j = 0; j < n->any.len; j++)
			if (test(c, n->any.n[j], v))
				break;
		if (j == n->any.len) {
			FAIL(c, n, "anyOf", "matches none of the %zu schemas",
			    n->any.len);
			MISS(c, ok);
		}
	}
	if (n->one.len > 0) {
		for (j = 0, matched = 0; j < n->one.len && matched < 2; j++)
			if (test(c, n->one.n[j], v) && matched++ == 0)
				first = (int)j;
		if (matched != 1) {
			if (matched == 0)
				FAIL(c, n, "oneOf", "matches none of the %zu "
				    "schemas", n->one.len);
			else
				FAIL(c, n, "oneOf", "matches schemas %d and "
				    "%zu, expected exactly one", first, j - 1);
			MISS(c, ok);
		}
	}
	if (n->not != NULL && test(c, n->not, v)) {
		FAIL(c, n, "not", "matches the schema it must not");
		MISS(c, ok);
	}
	if (n->if_ != NULL && (n->then != NULL || n->else_ != NULL)) {
		const struct node *branch = test(c, n->if_, v) ? n->then :
		    n->else_;

		if (branch != NULL && !check(c, branch, v))
			MISS(c, ok);
	}
	return ok;
}

static int
check(struct vc *c, const struct node *n, jv v)
{
	unsigned bits;
	int ok = 1;

	if (n->boolean >= 0)
		return n->boolean ? 1 : FAIL(c, n, NULL, "no value is "
		    "allowed here");
	bits = kind_bits(v);
	if (n->types != 0 && !(n->types & bits)) {
		check_type(c, n, v);
		MISS(c, ok);
	}
	if (bits & T_NUMBER) {
		if (n->has_num && !check_number(c, n, jv_number_value(v)))
			MISS(c, ok);
	} else if (bits & T_STRING) {
		if (!check_string(c, n, v))
			MISS(c, ok);
	} else if (bits & T_ARRAY) {
		if (!check_array(c, n, v))
			MISS(c, ok);
	} else if (bits & T_OBJECT) {
		if (!check_object(c, n, v))
			MISS(c, ok);
	}
	if (!check_any(c, n, v))
		MISS(c, ok);
	return ok;
}

int
au_jschema_validate(const struct au_jschema *s, jv instance, jv *errors)
{
	struct vc c;
	int r;

	memset(&c, 0, sizeof c);
	c.quiet = errors == NULL;
	c.errs = c.quiet ? jv_invalid() : jv_array();
	if (!c.quiet)
		au_buf_adds(&c.at, "");
	r = check(&c, s->nodes[0], instance);
	au_buf_free(&c.at);
	if (errors != NULL)
		*errors = c.errs;
	return !r;
}
