/*
 * test-mem.c - mem.c: the x allocators and their overflow checks (which
 * must die with 70, seen in forked children), au_grow's doubling, the
 * au_buf appenders (NUL-terminated after every add, printf output of any
 * length, integers to INT64_MIN) and au_xasprintf.
 */
#define _XOPEN_SOURCE 700
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

/* The exit code of fn run in a child (128 + signal if killed, SIGALRM if
 * it loops). */
static int
child_code(void (*fn)(void))
{
	struct child c;

	child_run(fn, &c);
	return c.code;
}

/* Sizes no allocator can give (under ASan with allocator_may_return_null,
 * as tests/run sets it). */
static void
malloc_huge(void)
{
	au_xmalloc(SIZE_MAX);
}

static void
calloc_overflow(void)
{
	au_xcalloc(SIZE_MAX / 2, 4);
}

static void
realloc_huge(void)
{
	au_xrealloc(NULL, SIZE_MAX - 1);
}

static void
reallocarray_overflow(void)
{
	au_xreallocarray(NULL, SIZE_MAX / 2, 4);
}

static void
grow_overflow(void)
{
	size_t cap = 16;

	au_grow(NULL, &cap, SIZE_MAX / 4, sizeof(long));
}

/* len + more + 1 wraps around: the buffer must not think it has room. */
static void
buf_grow_overflow(void)
{
	struct au_buf b = AU_BUF_INIT;

	au_buf_adds(&b, "0123456789");
	au_buf_grow(&b, SIZE_MAX - 5);
}

/* Rounding n up to the alignment wraps around to 0. */
static void
test_alloc(void)
{
	char *s, *p;
	int *z;
	size_t i;
	int all;

	p = au_xmalloc(0);
	ok(p != NULL, "au_xmalloc(0) is not NULL");
	free(p);
	z = au_xcalloc(1000, sizeof *z);
	for (i = 0, all = 1; i < 1000; i++)
		if (z[i] != 0)
			all = 0;
	ok(all, "au_xcalloc zeroes");
	z[999] = 7;
	z = au_xrealloc(z, 100000 * sizeof *z);
	is_int(z[999], 7, "au_xrealloc keeps the contents");
	z = au_xreallocarray(z, 10, sizeof *z);
	is_int(z[9], 0, "au_xreallocarray shrinks and keeps");
	free(z);

	s = au_xstrdup("hello");
	is_str(s, "hello", "au_xstrdup");
	free(s);
	s = au_xstrndup("abcdef", 3);
	is_str(s, "abc", "au_xstrndup takes n bytes");
	free(s);
	s = au_xstrndup("a\0b", 3);
	ok(memcmp(s, "a\0b", 4) == 0,
	    "au_xstrndup copies NUL bytes, then a NUL");
	free(s);

	is_int(child_code(malloc_huge), EX_SOFTWARE,
	    "au_xmalloc: an impossible size dies with 70");
	is_int(child_code(calloc_overflow), EX_SOFTWARE,
	    "au_xcalloc: n * size overflow dies with 70");
	is_int(child_code(realloc_huge), EX_SOFTWARE,
	    "au_xrealloc: an impossible size dies with 70");
	is_int(child_code(reallocarray_overflow), EX_SOFTWARE,
	    "au_xreallocarray: n * size overflow dies with 70");
	is_int(child_code(grow_overflow), EX_SOFTWARE,
	    "au_grow: an impossible size dies with 70");
	is_int(child_code(buf_grow_overflow), EX_SOFTWARE,
	    "au_buf_grow: len + more overflow dies with 70");
}

static void
test_grow(void)
{
	size_t cap = 0, i;
	int *p = NULL, *q, all;

	p = au_grow(p, &cap, 1, sizeof *p);
	is_int(cap, 16, "grow: first capacity is 16");
	for (i = 0; i < 16; i++)
		p[i] = (int)i;
	q = au_grow(p, &cap, 16, sizeof *p);
	ok(q == p && cap == 16, "grow: no change when it fits");
	p = au_grow(p, &cap, 17, sizeof *p);
	is_int(cap, 32, "grow: doubles");
	p = au_grow(p, &cap, 1000, sizeof *p);
	is_int(cap, 1024, "grow: doubles until it fits");
	for (i = 16; i < 1000; i++)
		p[i] = (int)i;
	p = au_grow(p, &cap, 100000, sizeof *p);
	is_int(cap, 131072, "grow: from 1024 to 131072");
	for (i = 0, all = 1; i < 1000; i++)
		if (p[i] != (int)i)
			all = 0;
	ok(all, "grow: contents kept");
	free(p);

	/* Appending one by one. */
	p = NULL;
	cap = 0;
	for (i = 0; i < 100000; i++) {
		p = au_grow(p, &cap, i + 1, sizeof *p);
		p[i] = (int)i * 3;
	}
	for (i = 0, all = 1; i < 100000; i++)
		if (p[i] != (int)i * 3)
			all = 0;
	ok(all && cap >= 100000 && cap < 200000, "grow: 100000 appends");
	free(p);
}

static void
test_buf(void)
{
	struct au_buf b = AU_BUF_INIT;
	char big[10001], want[400];
	size_t k, m, i;
	int all;

	au_buf_add(&b, "", 0);
	ok(b.s != NULL && b.len == 0 && b.s[0] == '\0',
	    "buf: empty add leaves \"\"");
	au_buf_add(&b, "ab", 2);
	is_str(b.s, "ab", "buf: add");
	au_buf_add(&b, "c\0d", 3);
	ok(b.len == 5 && memcmp(b.s, "abc\0d", 6) == 0,
	    "buf: add copies NUL bytes and ends with one");
	au_buf_free(&b);
	ok(b.s == NULL && b.len == 0 && b.cap == 0, "buf: free resets");

	for (i = 0; i < 1000; i++)
		au_buf_addc(&b, (char)('a' + i % 26));
	for (i = 0, all = 1; i < 1000; i++)
		if (b.s[i] != (char)('a' + i % 26))
			all = 0;
	ok(all && b.len == 1000 && b.s[1000] == '\0' && b.cap > 1000,
	    "buf: 1000 addc");
	au_buf_free(&b);

	au_buf_adds(&b, "x=");
	au_buf_addf(&b, "%d-%s", 42, "y");
	au_buf_adds(&b, ";");
	is_str(b.s, "x=42-y;", "buf: adds and addf append");
	is_int(b.len, 7, "buf: len");
	au_buf_addf(&b, "%s", "");
	is_int(b.len, 7, "buf: addf of nothing");

	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	au_buf_addf(&b, "<%s>", big);
	ok(b.len == 7 + 10002 && strncmp(b.s, "x=42-y;<z", 9) == 0 &&
	    b.s[b.len - 1] == '>' && b.s[b.len] == '\0' &&
	    strspn(b.s + 8, "z") == 10000, "buf: addf of 10002 bytes");
	au_buf_free(&b);

	/* Every output length around every fill level of the buffer. */
	memset(big, 'q', 300);
	all = 1;
	for (k = 0; k < 140; k++) {
		for (m = 0; m < 140; m++) {
			memset(want, 'p', k);
			memset(want + k, 'q', m);
			want[k + m] = '\0';
			au_buf_add(&b, want, k);
			au_buf_addf(&b, "%.*s", (int)m, big);
			if (b.len != k + m || strcmp(b.s, want) != 0)
				all = 0;
			au_buf_free(&b);
		}
	}
	ok(all, "buf: addf of 0..139 bytes after 0..139 bytes");

	au_buf_addint(&b, 0);
	au_buf_addc(&b, ' ');
	au_buf_addint(&b, -1);
	au_buf_addc(&b, ' ');
	au_buf_addint(&b, 1234567890123);
	au_buf_addc(&b, ' ');
	au_buf_addint(&b, INT64_MAX);
	au_buf_addc(&b, ' ');
	au_buf_addint(&b, INT64_MIN);
	is_str(b.s, "0 -1 1234567890123 9223372036854775807 "
	    "-9223372036854775808", "buf: addint to INT64_MIN");
	au_buf_free(&b);

	au_buf_grow(&b, 1000);
	ok(b.cap >= 1001 && b.len == 0, "buf: grow makes room, adds nothing");
	au_buf_free(&b);
}

static void
test_asprintf(void)
{
	char big[5001], *s;

	s = au_xasprintf("%s=%d", "k", 5);
	is_str(s, "k=5", "au_xasprintf");
	free(s);
	s = au_xasprintf("%s", "");
	is_str(s, "", "au_xasprintf of nothing");
	free(s);
	memset(big, 'w', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	s = au_xasprintf("[%s]", big);
	ok(strlen(s) == 5002 && s[0] == '[' && s[5001] == ']' &&
	    strspn(s + 1, "w") == 5000, "au_xasprintf of 5002 bytes");
	free(s);
}

int
main(void)
{
	test_alloc();
	test_grow();
	test_buf();
	test_asprintf();
	return done();
}
