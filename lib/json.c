/*
 * json.c - JSON text for jv values, written straight into a buffer (jq's
 * own dump goes through a jv string and is several times slower), UTF-8
 * validation (jq 1.6 silently replaces bad bytes), and small accessors.
 */
#include <float.h>
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
	return d == floor(d) && d >= -9.2e18 && d <= 9.2e18;
}
