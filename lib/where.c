/*
 * where.c - jq expressions that select records (--where), compiled once
 * with libjq and run per record.  Compiling loads jq's builtins, which
 * costs milliseconds, so programs compile only when --where is given.
 */
#include <stdlib.h>
#include <string.h>

#include <jq.h>

#include "agentutils.h"

struct au_where {
	jq_state *jq;
};

/* Collect jq's compile messages; jq hands each one over to us. */
static void
collect(void *data, jv msg)
{
	struct au_buf *b = data;

	if (jv_get_kind(msg) == JV_KIND_STRING) {
		const char *s = jv_string_value(msg);

		if (strncmp(s, "jq: ", 4) == 0)
			s += 4;
		if (strncmp(s, "error: ", 7) == 0)
			s += 7;
		if (strstr(s, "compile error") == NULL) {
			/* jq puts the expression on a line of its own. */
			if (b->len > 0)
				au_buf_adds(b, "; ");
			for (; *s != '\0'; s++)
				if (*s != '\n')
					au_buf_addc(b, *s);
				else if (s[1] != '\0')
					au_buf_adds(b, " ");
			while (b->len > 0 && b->s[b->len - 1] == ' ')
				b->s[--b->len] = '\0';
		}
	}
	jv_free(msg);
}

struct au_where *
au_where_new(const char *expr)
{
	struct au_buf msgs = AU_BUF_INIT;
	struct au_where *w;
	jq_state *jq = jq_init();

	if (jq == NULL) {
		au_seterr(EX_SOFTWARE, "cannot start jq");
		return NULL;
	}
	jq_set_error_cb(jq, collect, &msgs);
	if (!jq_compile(jq, expr)) {
		au_seterr(EX_USAGE, "%s", msgs.len ? msgs.s : "compile error");
		au_buf_free(&msgs);
		jq_teardown(&jq);
		return NULL;
	}
	au_buf_free(&msgs);
	jq_set_error_cb(jq, NULL, NULL);
	w = au_xmalloc(sizeof *w);
	w->jq = jq;
	return w;
}

struct au_where *
au_xwhere_new(const char *expr)
{
	struct au_where *w = au_where_new(expr);

	if (w == NULL)
		au_die(EX_USAGE, "--where: %s", au_errmsg());
	return w;
}

/* The end of jq's output r (consumed): 0 when it just ended, -1 when it
 * is an error, with au_errmsg() set to its message. */
static int
jq_end(jv r)
{
	jv msg;

	if (!jv_invalid_has_msg(jv_copy(r))) {
		jv_free(r);
		return 0;
	}
	msg = jv_invalid_get_msg(r);
	if (jv_get_kind(msg) == JV_KIND_STRING) {
		au_seterr(-1, "%s", jv_string_value(msg));
	} else {
		struct au_buf b = AU_BUF_INIT;

		au_json_dump(&b, msg);
		au_seterr(-1, "%s (not a string)", b.s);
		au_buf_free(&b);
	}
	jv_free(msg);
	return -1;
}

int
au_where_test(struct au_where *w, jv v)
{
	jv r;
	int ok;

	jq_start(w->jq, jv_copy(v), 0);
	r = jq_next(w->jq);
	if (jv_is_valid(r)) {
		ok = jv_get_kind(r) != JV_KIND_NULL &&
		    jv_get_kind(r) != JV_KIND_FALSE;
		jv_free(r);
		return ok;
	}
	return jq_end(r);
}

void
au_where_free(struct au_where *w)
{
	if (w == NULL)
		return;
	jq_teardown(&w->jq);
	free(w);
}

int
au_where_all(struct au_where *w, jv v, jv *out)
{
	jv r;

	*out = jv_array();
	jq_start(w->jq, jv_copy(v), 0);
	while (jv_is_valid(r = jq_next(w->jq)))
		*out = jv_array_append(*out, r);
	return jq_end(r);
}
