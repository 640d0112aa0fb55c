/*
 * mem.c - allocation that dies on failure, and the growable buffer that
 * output and messages are built in.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"

static AU_NORETURN void
oom(void)
{
	au_die(EX_SOFTWARE, "out of memory");
}

void *
au_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
au_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
au_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
au_xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		oom();
	return au_xrealloc(p, n * size);
}

void *
au_grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;

	if (need <= *cap)
		return p;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	*cap = n;
	return au_xreallocarray(p, n, size);
}

char *
au_xstrdup(const char *s)
{
	return au_xstrndup(s, strlen(s));
}

char *
au_xstrndup(const char *s, size_t n)
{
	char *p = au_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Append printf output to b. */
static void
vaddf(struct au_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	au_buf_grow(b, 64);
	va_copy(ap2, ap);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	if (n < 0)
		oom();
	if ((size_t)n >= b->cap - b->len) {
		au_buf_grow(b, (size_t)n);
		vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap2);
	}
	va_end(ap2);
	b->len += (size_t)n;
}

char *
au_xasprintf(const char *fmt, ...)
{
	struct au_buf b = AU_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	vaddf(&b, fmt, ap);
	va_end(ap);
	return b.s;
}

void
au_buf_grow(struct au_buf *b, size_t more)
{
	size_t need = b->len + more + 1;

	if (need < b->len)
		oom();
	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap = b->cap > SIZE_MAX / 2 ? need : b->cap * 2;
	b->s = au_xrealloc(b->s, b->cap);
	b->s[b->len] = '\0';	/* a new buffer is an empty string too */
}

void
au_buf_add(struct au_buf *b, const void *p, size_t n)
{
	au_buf_grow(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
au_buf_addc(struct au_buf *b, char c)
{
	if (b->len + 2 > b->cap)
		au_buf_grow(b, 1);
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
}

void
au_buf_adds(struct au_buf *b, const char *s)
{
	au_buf_add(b, s, strlen(s));
}

void
au_buf_addf(struct au_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vaddf(b, fmt, ap);
	va_end(ap);
}

void
au_buf_addint(struct au_buf *b, int64_t v)
{
	char tmp[24], *p = tmp + sizeof tmp;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	au_buf_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

void
au_buf_free(struct au_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}
