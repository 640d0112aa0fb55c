/*
 * json.c - JSON text for jv values, written straight into a buffer (jq's
 * own dump goes through a jv string and is several times slower), UTF-8
 * validation (jq 1.6 silently replaces bad bytes), where in a JSON text a
 * value stands (for "file:line:" in configuration files) and which keys
 * repeat, and small accessors.
 */
#include <float.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"

void
au_json_str(struct au_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	char *o;

	/* Room for the worst case, then write straight into the buffer. */
	au_buf_grow(b, 6 * n + 2);
	o = b->s + b->len;
	*o++ = '"';
	for (; p < e; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\' && *p != 0x7f) {
			*o++ = (char)*p;
			continue;
		}
		*o++ = '\\';
		switch (*p) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o++ = '"';
	*o = '\0';
	b->len = (size_t)(o - b->s);
}

static void
dump_number(struct au_buf *b, double d)
{
	char tmp[32];
	int prec;

	if (isnan(d)) {
		au_buf_add(b, "null", 4);
		return;
	}
	if (d > DBL_MAX)
		d = DBL_MAX;
	if (d < -DBL_MAX)
		d = -DBL_MAX;
	if (fabs(d) < 1e17 && d == (double)(int64_t)d &&
	    !(d == 0 && signbit(d))) {
		au_buf_addint(b, (int64_t)d);
		return;
	}
	/* The shortest form that reads back as the same double. */
	for (prec = 15; prec < 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(tmp, sizeof tmp, "%.17g", d);
	au_buf_adds(b, tmp);
}

void
au_json_dump(struct au_buf *b, jv v)
{
	int i, n, first;

	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
	case JV_KIND_INVALID:
		au_buf_add(b, "null", 4);
		break;
	case JV_KIND_TRUE:
		au_buf_add(b, "true", 4);
		break;
	case JV_KIND_FALSE:
		au_buf_add(b, "false", 5);
		break;
	case JV_KIND_NUMBER:
		dump_number(b, jv_number_value(v));
		break;
	case JV_KIND_STRING:
		au_json_str(b, jv_string_value(v),
		    (size_t)jv_string_length_bytes(jv_copy(v)));
		break;
	case JV_KIND_ARRAY:
		au_buf_addc(b, '[');
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			jv e = jv_array_get(jv_copy(v), i);

			if (i > 0)
				au_buf_addc(b, ',');
			au_json_dump(b, e);
			jv_free(e);
		}
		au_buf_addc(b, ']');
		break;
	case JV_KIND_OBJECT:
		au_buf_addc(b, '{');
		first = 1;
		for (i = jv_object_iter(v); jv_object_iter_valid(v, i);
		    i = jv_object_iter_next(v, i)) {
			jv k = jv_object_iter_key(v, i);
			jv e = jv_object_iter_value(v, i);

			if (!first)
				au_buf_addc(b, ',');
			first = 0;
			au_json_str(b, jv_string_value(k),
			    (size_t)jv_string_length_bytes(jv_copy(k)));
			au_buf_addc(b, ':');
			au_json_dump(b, e);
			jv_free(k);
			jv_free(e);
		}
		au_buf_addc(b, '}');
		break;
	}
}

size_t
au_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;
	uint64_t w;
	unsigned c;

	while (i < n) {
		/* ASCII runs go eight bytes at a time. */
		while (i + 8 <= n) {
			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080u)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4;
		else
			return i;
		if (i + len > n)
			return i;
		if ((s[i + 1] & 0xc0) != 0x80 ||
		    (len > 2 && (s[i + 2] & 0xc0) != 0x80) ||
		    (len > 3 && (s[i + 3] & 0xc0) != 0x80))
			return i;
		/* Overlong forms, surrogates, and beyond U+10FFFF. */
		if ((c == 0xe0 && s[i + 1] < 0xa0) ||
		    (c == 0xed && s[i + 1] > 0x9f) ||
		    (c == 0xf0 && s[i + 1] < 0x90) ||
		    (c == 0xf4 && s[i + 1] > 0x8f))
			return i;
		i += len;
	}
	return n;
}

/* The length of the UTF-8 sequence at p (before e), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *p, const unsigned char *e)
{
	size_t len = au_utf8_valid((const char *)p,
	    (size_t)(e - p) < 4 ? (size_t)(e - p) : 4);

	if (len == 0)
		return 0;
	return p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
}

static int
hex4(const unsigned char *p, const unsigned char *e, unsigned *v)
{
	int i;

	if (e - p < 4)
		return -1;
	for (*v = 0, i = 0; i < 4; i++) {
		unsigned c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*v |= (c | 0x20) - 'a' + 10;
		else
			return -1;
	}
	return 0;
}

/* Scan the string at *pp (at its opening quote); NULL or what is wrong,
 * with *pp at the offending byte. */
static const char *
scan_string(const unsigned char **pp, const unsigned char *e)
{
	const unsigned char *p = *pp + 1, *start = *pp;
	unsigned u, lo;
	size_t len;

	for (;;) {
		while (p < e && *p >= 0x20 && *p < 0x80 && *p != '"' &&
		    *p != '\\')
			p++;
		*pp = p;
		if (p == e) {
			*pp = start;
			return "invalid JSON: unterminated string";
		}
		if (*p == '"') {
			*pp = p + 1;
			return NULL;
		}
		if (*p < 0x20)
			return "invalid JSON: control character in a string";
		if (*p >= 0x80) {
			if ((len = utf8_seq(p, e)) == 0)
				return "invalid UTF-8";
			p += len;
			continue;
		}
		/* A backslash. */
		if (++p == e) {
			*pp = start;
			return "invalid JSON: unterminated string";
		}
		if (strchr("\"\\/bfnrt", *p) != NULL && *p != '\0') {
			p++;
			continue;
		}
		if (*p != 'u' || hex4(p + 1, e, &u) != 0) {
			*pp = p - 1;
			return "invalid JSON: invalid escape";
		}
		p += 5;
		if (u >= 0xdc00 && u <= 0xdfff) {
			*pp = p - 6;
			return "invalid JSON: lone low surrogate escape";
		}
		if (u >= 0xd800 && u <= 0xdbff) {
			if (e - p < 6 || p[0] != '\\' || p[1] != 'u' ||
			    hex4(p + 2, e, &lo) != 0 || lo < 0xdc00 ||
			    lo > 0xdfff) {
				*pp = p - 6;
				return "invalid JSON: high surrogate escape "
				    "without its low half";
			}
			p += 6;
		}
	}
}

static const char *
scan_number(const unsigned char **pp, const unsigned char *e)
{
	const unsigned char *p = *pp, *d;

	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0') {
		p++;
	} else {
		for (d = p; p < e && *p >= '0' && *p <= '9'; p++)
			;
		if (p == d)
			return "invalid JSON: invalid number";
	}
	if (p < e && *p == '.') {
		for (d = ++p; p < e && *p >= '0' && *p <= '9'; p++)
			;
		if (p == d) {
			*pp = p;
			return "invalid JSON: invalid number";
		}
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		if (++p < e && (*p == '+' || *p == '-'))
			p++;
		for (d = p; p < e && *p >= '0' && *p <= '9'; p++)
			;
		if (p == d) {
			*pp = p;
			return "invalid JSON: invalid number";
		}
	}
	*pp = p;
	return NULL;
}

/* jq 1.6 refuses deeper nesting itself: 256 levels of its stack, on
 * which an object whose value is being read holds its key too. */
#define MAXDEPTH 256

const char *
au_json_check(const char *str, size_t n, size_t *at)
{
	const unsigned char *s = (const unsigned char *)str, *p = s, *e = s + n;
	unsigned char stack[MAXDEPTH];	/* '{' or '[' */
	const char *err = NULL;
	int depth = 0, keys = 0;	/* keys: objects open in stack */
	enum { VALUE, KEY, AFTER } st = VALUE;

#define WS() while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || \
    *p == '\r')) p++
	for (;;) {
		WS();
		if (st == AFTER) {
			if (depth == 0) {
				if (p != e)
					err = "invalid JSON: unexpected data "
					    "after the value";
				break;
			}
			if (p < e && *p == ',') {
				p++;
				st = stack[depth - 1] == '{' ? KEY : VALUE;
			} else if (p < e && *p == (stack[depth - 1] == '{' ?
			    '}' : ']')) {
				keys -= stack[--depth] == '{';
				p++;
			} else {
				err = stack[depth - 1] == '{' ?
				    "invalid JSON: expected ',' or '}'" :
				    "invalid JSON: expected ',' or ']'";
				break;
			}
			continue;
		}
		if (st == KEY) {
			if (p == e || *p != '"') {
				err = "invalid JSON: expected a string key";
				break;
			}
			if ((err = scan_string(&p, e)) != NULL)
				break;
			WS();
			if (p == e || *p != ':') {
				err = "invalid JSON: expected ':' after a key";
				break;
			}
			p++;
			st = VALUE;
			continue;
		}
		if (p == e) {
			err = "invalid JSON: expected a value";
			break;
		}
		switch (*p) {
		case '{':
		case '[':
			if (depth + keys >= MAXDEPTH) {
				err = "invalid JSON: nested deeper than jq "
				    "parses (256 levels, an object two)";
				goto out;
			}
			stack[depth++] = *p++;
			WS();
			if (p < e && *p == (stack[depth - 1] == '{' ? '}' :
			    ']')) {
				p++;
				depth--;
				st = AFTER;
			} else {
				keys += stack[depth - 1] == '{';
				st = stack[depth - 1] == '{' ? KEY : VALUE;
			}
			continue;
		case '"':
			err = scan_string(&p, e);
			break;
		case 't':
		case 'f':
		case 'n': {
			const char *lit = *p == 't' ? "true" :
			    *p == 'f' ? "false" : "null";
			size_t len = strlen(lit);

			if ((size_t)(e - p) < len || memcmp(p, lit, len) != 0 ||
			    (p + len < e && ((p[len] | 0x20) >= 'a' &&
			    (p[len] | 0x20) <= 'z')))
				err = "invalid JSON: invalid literal";
			else
				p += len;
			break;
		}
		default:
			if (*p == '-' || (*p >= '0' && *p <= '9'))
				err = scan_number(&p, e);
			else if (*p >= 0x80 && utf8_seq(p, e) == 0)
				err = "invalid UTF-8";
			else
				err = "invalid JSON: expected a value";
		}
		if (err != NULL)
			break;
		st = AFTER;
	}
#undef WS
out:
	if (err != NULL && at != NULL)
		*at = (size_t)(p - s);
	return err;
}

/* A walk over JSON text that au_json_check accepts: the JSON Pointer of
 * the value at hand in path, and the line it is on. */
struct walk {
	const unsigned char *p, *e;
	long line;
	struct au_buf path;
	const char *want;	/* the pointer sought, or NULL */
	long found;		/* its line */
	jv dups;		/* repeated keys, or invalid when not sought */
};

static void
walk_ws(struct walk *w)
{
	for (; w->p < w->e && (*w->p == ' ' || *w->p == '\t' ||
	    *w->p == '\n' || *w->p == '\r'); w->p++)
		if (*w->p == '\n')
			w->line++;
}

/* Add "/" and the key k (escaped as RFC 6901 says) to the path. */
static void
walk_push(struct walk *w, const char *k)
{
	au_buf_addc(&w->path, '/');
	for (; *k != '\0'; k++)
		if (*k == '~')
			au_buf_adds(&w->path, "~0");
		else if (*k == '/')
			au_buf_adds(&w->path, "~1");
		else
			au_buf_addc(&w->path, *k);
}

/* Walk the value at w->p, whose entry starts on line at: its key's
 * line for a member of an object, else 0 for its own. */
static void
walk_value(struct walk *w, long at)
{
	size_t len = w->path.len;
	const unsigned char *q;
	jv seen, k, prev;
	long i = 0, line = 0;
	char open;

	walk_ws(w);
	if (w->want != NULL && strcmp(w->path.s, w->want) == 0)
		w->found = at ? at : w->line;
	if (*w->p != '{' && *w->p != '[') {
		if (*w->p == '"')
			scan_string(&w->p, w->e);
		else
			while (w->p < w->e && strchr(",]} \t\r\n", *w->p) ==
			    NULL)
				w->p++;
		return;
	}
	seen = jv_object();
	open = *w->p++;
	for (;;) {
		walk_ws(w);
		if (*w->p == '}' || *w->p == ']')
			break;
		if (*w->p == ',') {
			w->p++;
			walk_ws(w);
		}
		if (open == '[') {
			char n[24];

			snprintf(n, sizeof n, "%ld", i++);
			walk_push(w, n);
		} else {
			line = w->line;
			q = w->p;
			scan_string(&q, w->e);
			k = jv_parse_sized((const char *)w->p, (int)(q - w->p));
			w->p = q;
			walk_ws(w);
			w->p++;		/* the ':' */
			walk_push(w, jv_string_value(k));
			prev = jv_object_get(jv_copy(seen), jv_copy(k));
			if (jv_is_valid(prev) && jv_is_valid(w->dups))
				w->dups = jv_array_append(w->dups,
				    JV_OBJECT(jv_string("pointer"),
				    jv_string(w->path.s), jv_string("line"),
				    jv_number(line), jv_string("first"), prev));
			else
				jv_free(prev);
			seen = jv_object_set(seen, k, jv_number(line));
		}
		walk_value(w, open == '{' ? line : 0);
		w->path.len = len;
		w->path.s[len] = '\0';
	}
	w->p++;
	jv_free(seen);
}

/* Walk the n bytes of JSON text at s, looking for want and collecting
 * repeated keys in dups (or not, if it is invalid). */
static void
walk(const char *s, size_t n, struct walk *w)
{
	w->p = (const unsigned char *)s;
	w->e = w->p + n;
	w->line = 1;
	w->path.len = 0;
	au_buf_adds(&w->path, "");
	w->found = 0;
	walk_value(w, 0);
	au_buf_free(&w->path);
}

long
au_json_line(const char *s, size_t n, const char *ptr)
{
	struct walk w = { NULL, NULL, 0, AU_BUF_INIT, ptr, 0, jv_invalid() };

	walk(s, n, &w);
	return w.found;
}

jv
au_json_dups(const char *s, size_t n)
{
	struct walk w = { NULL, NULL, 0, AU_BUF_INIT, NULL, 0, jv_array() };

	walk(s, n, &w);
	return w.dups;
}

const char *
au_jv_str(jv o, const char *key)
{
	jv v;
	const char *s = NULL;

	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return NULL;
	v = jv_object_get(jv_copy(o), jv_string(key));
	if (jv_get_kind(v) == JV_KIND_STRING)
		s = jv_string_value(v);	/* o still holds a reference */
	jv_free(v);
	return s;
}

const char *
au_jv_kind(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_NULL: return "null";
	case JV_KIND_TRUE:
	case JV_KIND_FALSE: return "boolean";
	case JV_KIND_NUMBER: return "number";
	case JV_KIND_STRING: return "string";
	case JV_KIND_ARRAY: return "array";
	case JV_KIND_OBJECT: return "object";
	default: return "invalid";
	}
}

int
au_jv_isint(jv v)
{
	double d;

	if (jv_get_kind(v) != JV_KIND_NUMBER)
		return 0;
	d = jv_number_value(v);
	return d == floor(d) && d >= -9223372036854775808.0 &&
	    d < 9223372036854775808.0;
}

const char *const au_secret_names[] = {
	"*token*", "*secret*", "*password*", "*key*", "authorization", NULL
};

/* Whether s matches glob g as fnmatch(g, s, 0) says, by hand when g has
 * no '?', '[' or '\\' (the secret names' globs): fnmatch's generality
 * costs more than the rest of a record's redaction. */
static int
glob_match(const char *g, const char *s)
{
	const char *gs = NULL, *ss = NULL;

	if (strpbrk(g, "?[\\") != NULL)
		return fnmatch(g, s, 0) == 0;
	while (*s != '\0') {
		if (*g == '*') {
			gs = ++g;
			ss = s;
		} else if (*g == *s) {
			g++;
			s++;
		} else if (gs != NULL) {
			g = gs;
			s = ++ss;
		} else
			return 0;
	}
	while (*g == '*')
		g++;
	return *g == '\0';
}

/* Whether the n bytes of name, in lower case, match one of the globs.
 * Member names are short: lowered on the stack, not the heap, as this
 * runs for every member of every audited record. */
static int
secret_name(const char *name, size_t n, const char *const *globs)
{
	char buf[64], *low = n < sizeof buf ? buf : au_xmalloc(n + 1);
	size_t i;
	int hit = 0;

	for (i = 0; i < n; i++)
		low[i] = name[i] >= 'A' && name[i] <= 'Z' ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	low[n] = '\0';
	for (; !hit && *globs != NULL; globs++)
		hit = glob_match(*globs, low);
	if (low != buf)
		free(low);
	return hit;
}

/* A record with nothing to redact is given back as it is, not rebuilt:
 * a member or element is set only when its value changed. */
jv
au_jv_redact_names(jv v, const char *const *globs)
{
	jv it, y;
	int i, n;

	if (globs == NULL)
		globs = au_secret_names;
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			it = jv_array_get(jv_copy(v), i);
			y = au_jv_redact_names(jv_copy(it), globs);
			if (jv_identical(it, jv_copy(y)))
				jv_free(y);
			else
				v = jv_array_set(v, i, y);
		}
	} else if (jv_get_kind(v) == JV_KIND_OBJECT) {
		it = jv_copy(v);
		jv_object_foreach(it, k, x) {
			if (secret_name(jv_string_value(k),
			    (size_t)jv_string_length_bytes(jv_copy(k)),
			    globs)) {
				jv_free(x);
				v = jv_object_set(v, k, jv_string("[REDACTED]"));
				continue;
			}
			y = au_jv_redact_names(jv_copy(x), globs);
			if (jv_identical(x, jv_copy(y))) {
				jv_free(k);
				jv_free(y);
			} else
				v = jv_object_set(v, k, y);
		}
		jv_free(it);
	}
	return v;
}
