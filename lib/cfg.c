/*
 * cfg.c - reading JSON configuration files (cfg.h): whole, checked, each
 * problem noted with its file and line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"

int
cfg_slurp(const char *path, struct au_buf *b)
{
	char chunk[8192];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return au_seterr(errno == ENOENT ? EX_NOINPUT : EX_IOERR,
		    "%s:", path);
	au_buf_adds(b, "");
	while ((r = read(fd, chunk, sizeof chunk)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			au_seterr(EX_IOERR, "%s:", path);
			close(fd);
			return EX_IOERR;
		}
		au_buf_add(b, chunk, (size_t)r);
	}
	close(fd);
	return 0;
}

static void AU_PRINTF(3, 0)
vproblem(struct cfg *c, long line, const char *fmt, va_list ap)
{
	struct au_buf b = AU_BUF_INIT;

	au_buf_addf(&b, "%s:%ld: ", au_esc(c->file), line);
	if (c->what != NULL)
		au_buf_addf(&b, "%s: ", c->what);
	au_buf_grow(&b, 256);
	b.len += (size_t)vsnprintf(b.s + b.len, b.cap - b.len, fmt, ap);
	if (b.len >= b.cap)
		b.len = b.cap - 1;
	*c->problems = jv_array_append(*c->problems, jv_string(b.s));
	au_buf_free(&b);
	c->bad = 1;
}

void
cfg_problem_at(struct cfg *c, long line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(c, line, fmt, ap);
	va_end(ap);
}

void
cfg_problem(struct cfg *c, const char *ptr, const char *fmt, ...)
{
	struct au_buf p = AU_BUF_INIT;
	long line;
	va_list ap;

	au_buf_adds(&p, c->base);
	au_buf_adds(&p, ptr);
	if ((line = au_json_line(c->text, c->n, p.s)) == 0)
		line = au_json_line(c->text, c->n, c->base);
	au_buf_free(&p);
	va_start(ap, fmt);
	vproblem(c, line, fmt, ap);
	va_end(ap);
}

jv
cfg_parse(struct cfg *c)
{
	size_t at = 0;
	const char *err = au_json_check(c->text, c->n, &at);
	long line = 1;
	size_t i;

	if (err != NULL) {
		for (i = 0; i < at; i++)
			line += c->text[i] == '\n';
		cfg_problem_at(c, line, "%s", err);
		return jv_invalid();
	}
	return jv_parse_sized(c->text, (int)c->n);
}

const char *
cfg_jstr(jv v)
{
	if (jv_get_kind(v) != JV_KIND_STRING ||
	    strlen(jv_string_value(v)) != (size_t)jv_string_length_bytes(
	    jv_copy(v)))
		return NULL;
	return jv_string_value(v);
}

void
cfg_only(struct cfg *c, jv o, const char *ptr, const char *const *known)
{
	int i;

	jv_object_foreach(o, k, v) {
		const char *s = jv_string_value(k);

		for (i = 0; known[i] != NULL && strcmp(known[i], s) != 0; i++)
			;
		if (known[i] == NULL) {
			char sub[512];

			snprintf(sub, sizeof sub, "%s/%s", ptr, s);
			cfg_problem(c, sub, "unknown field %s", au_quote(s));
		}
		jv_free(k);
		jv_free(v);
	}
}

int
cfg_dups(struct cfg *c, jv dups, const char *base, int exact)
{
	size_t len = strlen(base);
	int found = 0;

	jv_array_foreach(dups, i, d) {
		const char *p = au_jv_str(d, "pointer");
		jv line = jv_object_get(jv_copy(d), jv_string("line"));
		jv first = jv_object_get(jv_copy(d), jv_string("first"));

		if (exact ? strcmp(p, base) == 0 : strncmp(p, base, len) == 0 &&
		    p[len] == '/') {
			cfg_problem_at(c, (long)jv_number_value(line), "key %s "
			    "is given twice (first at line %ld)",
			    au_quote(strrchr(p, '/') + 1),
			    (long)jv_number_value(first));
			found = 1;
		}
		jv_free(line);
		jv_free(first);
		jv_free(d);
	}
	return found;
}

int
cfg_base_add(struct cfg *c, const char *name)
{
	size_t n = strlen(c->base);

	if (n + 1 >= sizeof c->base)
		return -1;
	c->base[n++] = '/';
	for (; *name != '\0'; name++) {
		if (n + 3 >= sizeof c->base)
			return -1;
		if (*name == '~' || *name == '/') {
			c->base[n++] = '~';
			c->base[n++] = *name == '~' ? '0' : '1';
		} else
			c->base[n++] = *name;
	}
	c->base[n] = '\0';
	return 0;
}
