/*
 * test-err.c - err.c: au_quote's and au_esc's escaping, cutting and
 * rotating buffers; au_seterr and au_errmsg with the trailing ':' rule,
 * kept per thread; au_setprog's name and its reopening of closed standard
 * descriptors; and what au_die, au_err, au_errat, au_warn and au_note
 * print and how they end, seen from forked children whose output goes to
 * files.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

static void
test_quote(void)
{
	char name[400], want[404];
	const char *q[8], *names[8] = { "a", "b c", "\"", "", "d\n", "e",
	    "f\\", "g\th" }, *wants[8] = { "\"a\"", "\"b c\"", "\"\\\"\"",
	    "\"\"", "\"d\\n\"", "\"e\"", "\"f\\\\\"", "\"g\\th\"" };
	const char *r;
	size_t len, i;
	int all;

	is_str(au_quote("plain"), "\"plain\"", "quote: plain name");
	is_str(au_quote(""), "\"\"", "quote: empty name");
	is_str(au_quote("a\"b\\c"), "\"a\\\"b\\\\c\"",
	    "quote: double quote and backslash");
	is_str(au_quote("l1\nl2\tx"), "\"l1\\nl2\\tx\"",
	    "quote: newline and tab");
	is_str(au_quote("\x01\x1f\x7f\r\x1b"), "\"\\x01\\x1f\\x7f\\x0d\\x1b\"",
	    "quote: other control bytes as \\xNN");
	is_str(au_quote("caf\xc3\xa9 \xe2\x82\xac"),
	    "\"caf\xc3\xa9 \xe2\x82\xac\"", "quote: UTF-8 passes through");
	is_str(au_quote("it's $x"), "\"it's $x\"",
	    "quote: quote and dollar are not escaped");

	/* A long name is cut with "..." and stays within 256 bytes. */
	memset(name, 'a', 300);
	name[300] = '\0';
	r = au_quote(name);
	len = strlen(r);
	ok(len < 256, "quote: long name fits the buffer (%zu bytes)", len);
	ok(len >= 200, "quote: long name is not cut early (%zu bytes)", len);
	ok(len > 4 && strcmp(r + len - 4, "...\"") == 0,
	    "quote: long name ends with ...\" (%s)", r + (len > 10 ? len - 10 :
	    0));
	ok(r[0] == '"' && strspn(r + 1, "a") == len - 5,
	    "quote: long name keeps its start");

	/* Cutting never splits an escape. */
	memset(name, '\n', 200);
	name[200] = '\0';
	r = au_quote(name);
	len = strlen(r);
	ok(len < 256 && len > 4 && strcmp(r + len - 4, "...\"") == 0 &&
	    (len - 5) % 2 == 0, "quote: newlines cut between escapes");
	for (i = 0; i + 5 < len && r[1 + i] == "\\n"[i % 2]; i++)
		;
	is_int(i, len - 5, "quote: only whole \\n escapes before the cut");
	memset(name, '\x02', 100);
	name[100] = '\0';
	r = au_quote(name);
	len = strlen(r);
	ok(len < 256 && len > 4 && strcmp(r + len - 4, "...\"") == 0 &&
	    (len - 5) % 4 == 0 && strncmp(r + len - 8, "\\x02", 4) == 0,
	    "quote: \\xNN escapes cut whole (%zu bytes)", len);

	/* A short name is never cut. */
	memset(name, 'b', 200);
	name[200] = '\0';
	snprintf(want, sizeof want, "\"%s\"", name);
	is_str(au_quote(name), want, "quote: 200 bytes are not cut");

	/* Eight results are usable at once. */
	for (i = 0; i < 8; i++)
		q[i] = au_quote(names[i]);
	for (i = 0, all = 1; i < 8; i++)
		if (strcmp(q[i], wants[i]) != 0)
			all = 0;
	ok(all, "quote: eight results live at once");
}

static void
test_esc(void)
{
	char name[400];
	const char *r;
	size_t len;

	is_str(au_esc("plain.ndjson"), "plain.ndjson", "esc: no quotes");
	is_str(au_esc(""), "", "esc: empty name");
	is_str(au_esc("a\nb\tc\x01\x7f"), "a\\nb\\tc\\x01\\x7f",
	    "esc: control bytes escaped");
	is_str(au_esc("say \"hi\""), "say \"hi\"",
	    "esc: a double quote needs no escape without quotes");
	memset(name, 'a', 300);
	name[300] = '\0';
	r = au_esc(name);
	len = strlen(r);
	ok(len < 256 && len >= 200 && strcmp(r + len - 3, "...") == 0,
	    "esc: long name cut with ... (%zu bytes)", len);
}

static void *
thread_err(void *arg)
{
	(void)arg;
	au_seterr(1, "in the thread");
	return au_xstrdup(au_errmsg());
}

static void
test_seterr(void)
{
	char big[2000];
	pthread_t t;
	void *r = NULL;
	int rc;

	errno = ENOENT;
	rc = au_seterr(66, "open %s:", "x.json");
	is_int(rc, 66, "seterr: returns the code");
	is_str(au_errmsg(), "open x.json: No such file or directory",
	    "seterr: trailing ':' appends strerror(errno)");
	is_int(errno, ENOENT, "seterr: errno is kept");

	errno = EACCES;
	is_int(au_seterr(65, "line %d: bad", 12), 65, "seterr: code 65");
	is_str(au_errmsg(), "line 12: bad", "seterr: no ':' no strerror");

	errno = EACCES;
	au_seterr(1, "a: b");
	is_str(au_errmsg(), "a: b", "seterr: ':' inside is just text");

	au_seterr(1, "wrapped: %s (%s)", au_errmsg(), au_errmsg());
	is_str(au_errmsg(), "wrapped: a: b (a: b)",
	    "seterr: the last message among the arguments");

	errno = EACCES;
	au_seterr(1, "%s", "ends with:");
	is_str(au_errmsg(), "ends with:",
	    "seterr: a ':' from an argument is not the rule");

	errno = 0;
	au_seterr(1, "zero:");
	is_str(au_errmsg(), "zero: Success", "seterr: errno 0 says so");

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	au_seterr(1, "%s", big);
	ok(strlen(au_errmsg()) > 500 && strlen(au_errmsg()) < sizeof big &&
	    strspn(au_errmsg(), "x") == strlen(au_errmsg()),
	    "seterr: a long message is cut, not overflowed");

	au_seterr(1, "in main");
	rc = pthread_create(&t, NULL, thread_err, NULL);
	if (rc == 0)
		pthread_join(t, &r);
	is_str(r, "in the thread", "errmsg: the thread sees its own");
	is_str(au_errmsg(), "in main", "errmsg: main keeps its own");
	free(r);
}

static void
test_setprog(void)
{
	const char *old;

	au_setprog("/usr/local/bin/aw-plan");
	is_str(au_prog, "aw-plan", "setprog: last path component");
	au_setprog("aw-sched");
	is_str(au_prog, "aw-sched", "setprog: plain name");
	au_setprog("./build/bin/tg-invoke");
	is_str(au_prog, "tg-invoke", "setprog: relative path");
	old = au_prog;
	au_setprog(NULL);
	ok(au_prog == old, "setprog: NULL keeps the name");
	au_setprog("");
	ok(au_prog == old, "setprog: empty keeps the name");
}

/* In a child with 0, 1 and 2 closed: after au_setprog they are open on
 * /dev/null and nothing else is left open.  The exit code says what
 * failed. */
static void
closed_fds(void)
{
	struct stat st, null;
	int fd, lowest, i;

	if ((lowest = open("/dev/null", O_RDONLY)) < 0 || stat("/dev/null",
	    &null) != 0)
		_exit(10);
	close(lowest);
	close(0);
	close(1);
	close(2);
	au_setprog("t");
	for (i = 0; i < 3; i++)
		if (fstat(i, &st) != 0 || st.st_rdev != null.st_rdev)
			_exit(11 + i);
	if ((fd = open("/dev/null", O_RDONLY)) != lowest)
		_exit(20);
	_exit(0);
}

static void
die_plain(void)
{
	au_setprog("/x/test-err");
	au_die(65, "bad %s at %d", "input", 3);
}

static void
die_errno(void)
{
	au_setprog("test-err");
	errno = EACCES;
	au_die(74, "open %s:", "f.db");
}

static void
die_flushes(void)
{
	au_setprog("test-err");
	printf("partial output");
	au_die(1, "then the end");
}

static void
err_continues(void)
{
	au_setprog("test-err");
	errno = EINTR;
	au_err("first %d", 1);
	if (errno != EINTR)
		_exit(3);
	errno = ENOENT;
	au_err("second:");
	_exit(7);
}

static void
errat(void)
{
	au_setprog("test-err");
	au_errat("in\nput.ndjson", 12, "bad %s", "id");
	_exit(5);
}

static void
warn_quiet(void)
{
	au_setprog("test-err");
	au_quiet = 1;
	au_warn("hidden");
	au_err("shown");
	au_quiet = 0;
	au_warn("warned");
}

static void
note_verbose(void)
{
	au_setprog("test-err");
	au_note("not verbose");
	au_verbose = 1;
	au_note("verbose %s", "note");
	au_quiet = 1;
	au_note("quiet wins");
}

static void
test_die(void)
{
	struct child c;

	child_run(closed_fds, &c);
	is_int(c.code, 0, "setprog: closed 0, 1, 2 reopened on /dev/null, "
	    "no descriptor left over");

	child_run(die_plain, &c);
	is_int(c.code, 65, "die: exits with its code");
	is_str(c.err, "test-err: bad input at 3\n", "die: prog: message");
	is_str(c.out, "", "die: nothing on stdout");

	child_run(die_errno, &c);
	is_int(c.code, 74, "die: code 74");
	is_str(c.err, "test-err: open f.db: Permission denied\n",
	    "die: trailing ':' appends strerror(errno)");

	child_run(die_flushes, &c);
	is_int(c.code, 1, "die: code 1");
	is_str(c.out, "partial output", "die: stdout is flushed first");
	is_str(c.err, "test-err: then the end\n", "die: its message");

	child_run(err_continues, &c);
	is_int(c.code, 7, "err: does not exit and keeps errno");
	is_str(c.err, "test-err: first 1\ntest-err: second: No such file or "
	    "directory\n", "err: messages with the ':' rule");

	child_run(errat, &c);
	is_int(c.code, 5, "errat: does not exit");
	is_str(c.err, "test-err: in\\nput.ndjson:12: bad id\n",
	    "errat: prog: file:line: message, the file name escaped");

	child_run(warn_quiet, &c);
	is_str(c.err, "test-err: shown\ntest-err: warned\n",
	    "warn: silenced by -q, err is not");

	child_run(note_verbose, &c);
	is_str(c.err, "test-err: verbose note\n",
	    "note: only with -v and without -q");
}

static void
test_worse(void)
{
	static const int rank[] = { 0, 1, EX_TEMPFAIL, EX_DATAERR };
	size_t n = sizeof rank / sizeof rank[0];

	is_int(au_worse(0, 1, rank, n), 1, "worse: 1 after 0");
	is_int(au_worse(EX_DATAERR, 1, rank, n), EX_DATAERR, "worse: 65 stays "
	    "over 1");
	is_int(au_worse(1, EX_TEMPFAIL, rank, n), EX_TEMPFAIL, "worse: 75 "
	    "over 1");
	is_int(au_worse(1, EX_IOERR, rank, n), 1, "worse: a status not "
	    "ranked changes nothing");
	is_int(au_worse(EX_TEMPFAIL, 0, rank, n), EX_TEMPFAIL, "worse: 0 "
	    "never wins");
}

int
main(void)
{
	test_worse();
	test_quote();
	test_esc();
	test_seterr();
	test_setprog();
	test_die();
	return done();
}
