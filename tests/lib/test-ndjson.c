/*
 * test-ndjson.c - ndjson.c.  Input: fixture files in a mkdtemp directory
 * read into a transcript ("file:line record" for each record, "! message"
 * for each line of stderr at the point it was printed, "= status" at the
 * end) that is compared with the one expected: blank lines, CRLF, a last
 * line without a newline, bad lines of every kind (status 65), missing
 * files and directories among good ones (66), file names escaped in
 * messages, standard input, --max-line at the limit, in the middle of a
 * buffer, across reads and on a line that never ends, 50,000 lines
 * through the helper threads with every line number checked in order, a
 * pipe written in pieces, au_in_prepare with and without drop and with
 * au_in_prepare_text, au_in_reject, and closing early while a writer
 * keeps a pipe open (in a child, for LeakSanitizer).  Output, in forked
 * children: records and text into a file, flushing per record on a pipe
 * but not on a file, and a full disk exiting 74.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

static int errfd;		/* stderr goes here while reading */
static off_t errseen;		/* how much of it the transcripts have */
static int saved_err = -1;
static int polled;		/* transcripts read with au_in_polled */

static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&ts, NULL);
}

/* Send stderr to errfd (on) or back (off). */
static void
capture(int on)
{
	fflush(stderr);
	if (on) {
		saved_err = dup(STDERR_FILENO);
		dup2(errfd, STDERR_FILENO);
	} else {
		dup2(saved_err, STDERR_FILENO);
		close(saved_err);
	}
}

/* s without the directory: names as the reader would see them in a
 * directory of their own. */
static const char *
rel(const char *s)
{
	size_t n = strlen(tmpdir);

	return strncmp(s, tmpdir, n) == 0 && s[n] == '/' ? s + n + 1 : s;
}

/* Append to t, as "! line", each line written to stderr since the last
 * call, with the directory taken out of it. */
static void
newerr(struct au_buf *t)
{
	struct au_buf b = AU_BUF_INIT;
	char buf[8192], *line, *nl, *p;
	size_t n = strlen(tmpdir);
	ssize_t r;

	while ((r = pread(errfd, buf, sizeof buf, errseen)) > 0) {
		au_buf_add(&b, buf, (size_t)r);
		errseen += r;
	}
	for (line = b.s; line != NULL && *line != '\0'; line = nl ? nl + 1 :
	    NULL) {
		nl = strchr(line, '\n');
		au_buf_adds(t, "! ");
		for (p = line; *p != '\0' && *p != '\n'; p++) {
			if (strncmp(p, tmpdir, n) == 0 && p[n] == '/')
				p += n + 1;
			au_buf_addc(t, *p);
		}
		au_buf_addc(t, '\n');
	}
	au_buf_free(&b);
}

/* Read all of in and close it: the transcript, malloc'd. */
static char *
transcript(struct au_in *in)
{
	struct au_buf t = AU_BUF_INIT;
	struct au_rec rec;
	int r;

	au_buf_adds(&t, "");
	if (polled)
		au_in_polled(in);
	capture(1);
	for (;;) {
		r = au_in_next(in, &rec);
		newerr(&t);
		if (r == 0)
			break;
		au_buf_addf(&t, "%s:%ld ", rel(rec.file), rec.line);
		au_json_dump(&t, rec.v);
		au_buf_addc(&t, '\n');
		jv_free(rec.v);
	}
	capture(0);
	au_buf_addf(&t, "= %d\n", au_in_status(in));
	au_in_close(in);
	return t.s;
}

/* The transcript of reading the named files of tmpdir. */
static char *
readfiles(const char *const *names)
{
	char *paths[8] = { NULL };
	int n;

	for (n = 0; names[n] != NULL && n < 8; n++)
		paths[n] = at(names[n]);
	return transcript(au_in_open(paths, n));
}

/* Compare a long transcript, showing where it first differs. */
static void
same(const char *got, const char *want, const char *what)
{
	size_t i = 0;

	while (got[i] != '\0' && got[i] == want[i])
		i++;
	ok(got[i] == want[i], "%s (%zu bytes)", what, strlen(want));
	if (got[i] != want[i])
		printf("#   differs at byte %zu:\n#   got: %.80s\n#  want: "
		    "%.80s\n", i, got + (i > 20 ? i - 20 : 0),
		    want + (i > 20 ? i - 20 : 0));
}

static void
fixtures(void)
{
	static const char a[] = "{\"a\":1}\n\n  \t\n{\"b\":2}\r\n\r\n"
	    "{\"c\":[1,2]} \n{\"d\":\"x\"}";
	static const char b[] = "{\"ok\":1}\n{bad\n[\"array\"]\n\"str\"\n"
	    "{\"u\":\"\xff\"}\n{\"a\":1} {\"b\":2}\n{\"a\":\nnull\n"
	    "{\"v\":\"\xc3\xa9\xed\xa0\x80\"}\n{\"z\":\"a\0b\"}\n"
	    "{\"e\":\"\\u00e9\\ud83d\\ude00\"}\n{\"s\":\"\\udc00\"}\n"
	    "{\"ok\":2}\n";
	static const char c[] = "{\"c\":1}\n{\"c\":2}\n";

	writefile(at("a.ndjson"), a, sizeof a - 1);
	writefile(at("b.ndjson"), b, sizeof b - 1);
	writefile(at("c.ndjson"), c, sizeof c - 1);
	writefile(at("empty.ndjson"), "", 0);
	writefile(at("we\tird.ndjson"), "[1]\n{\"ok\":1}\n", 12);
	mkdir(at("sub"), 0700);
}

/* What reading a.ndjson and b.ndjson gives, up to the status line. */
#define A_LINES \
	"a.ndjson:1 {\"a\":1}\n" \
	"a.ndjson:4 {\"b\":2}\n" \
	"a.ndjson:6 {\"c\":[1,2]}\n" \
	"a.ndjson:7 {\"d\":\"x\"}\n"
#define B_LINES \
	"b.ndjson:1 {\"ok\":1}\n" \
	"! test-ndjson: b.ndjson:2: invalid JSON: expected a string key " \
	"(column 2)\n" \
	"! test-ndjson: b.ndjson:3: not a JSON object (found array)\n" \
	"! test-ndjson: b.ndjson:4: not a JSON object (found string)\n" \
	"! test-ndjson: b.ndjson:5: invalid UTF-8 (column 7)\n" \
	"! test-ndjson: b.ndjson:6: invalid JSON: unexpected data after " \
	"the value (column 9)\n" \
	"! test-ndjson: b.ndjson:7: invalid JSON: expected a value " \
	"(column 6)\n" \
	"! test-ndjson: b.ndjson:8: not a JSON object (found null)\n" \
	"! test-ndjson: b.ndjson:9: invalid UTF-8 (column 9)\n" \
	"! test-ndjson: b.ndjson:10: invalid JSON: control character in " \
	"a string (column 8)\n" \
	"b.ndjson:11 {\"e\":\"\xc3\xa9\xf0\x9f\x98\x80\"}\n" \
	"! test-ndjson: b.ndjson:12: invalid JSON: lone low surrogate " \
	"escape (column 7)\n" \
	"b.ndjson:13 {\"ok\":2}\n"

static void
test_lines(void)
{
	static const char *const a[] = { "a.ndjson", NULL };
	static const char *const b[] = { "b.ndjson", NULL };
	static const char *const many[] = { "a.ndjson", "missing.ndjson",
	    "empty.ndjson", "sub", "c.ndjson", NULL };
	static const char *const badmiss[] = { "b.ndjson", "missing.ndjson",
	    NULL };
	static const char *const weird[] = { "we\tird.ndjson", "mis\nsing",
	    NULL };

	is_str_free(readfiles(a),
	    A_LINES
	    "= 0\n",
	    "in: blank lines, CRLF, trailing space, no final newline");
	is_str_free(readfiles(b),
	    B_LINES
	    "= 65\n",
	    "in: each bad line reported in order and skipped, status 65");
	is_str_free(readfiles(many),
	    A_LINES
	    "! test-ndjson: missing.ndjson: No such file or directory\n"
	    "! test-ndjson: sub: Is a directory\n"
	    "c.ndjson:1 {\"c\":1}\n"
	    "c.ndjson:2 {\"c\":2}\n"
	    "= 66\n",
	    "in: a missing file and a directory reported, the others read, "
	    "status 66");
	is_str_free(readfiles(badmiss),
	    B_LINES
	    "! test-ndjson: missing.ndjson: No such file or directory\n"
	    "= 66\n",
	    "in: a missing file outranks bad lines");
	is_str_free(readfiles(weird),
	    "! test-ndjson: we\\tird.ndjson:1: not a JSON object (found "
	    "array)\n"
	    "we\tird.ndjson:2 {\"ok\":1}\n"
	    "! test-ndjson: mis\\nsing: No such file or directory\n"
	    "= 66\n",
	    "in: control characters in file names are escaped in messages");
}

/* The transcript of reading file as standard input, named or not. */
static char *
readstdin(const char *file, int dash)
{
	static char *const dashes[] = { "-" };
	int fd = open(at(file), O_RDONLY), saved = dup(STDIN_FILENO);
	char *t;

	dup2(fd, STDIN_FILENO);
	close(fd);
	t = transcript(au_in_open(dash ? dashes : NULL, dash));
	dup2(saved, STDIN_FILENO);
	close(saved);
	return t;
}

static void
test_stdin(void)
{
	is_str_free(readstdin("c.ndjson", 0),
	    "<stdin>:1 {\"c\":1}\n<stdin>:2 {\"c\":2}\n= 0\n",
	    "in: no operands is standard input");
	is_str_free(readstdin("c.ndjson", 1),
	    "<stdin>:1 {\"c\":1}\n<stdin>:2 {\"c\":2}\n= 0\n",
	    "in: \"-\" is standard input");
	ok(fcntl(STDIN_FILENO, F_GETFD) >= 0, "in: standard input is not "
	    "closed");
}

/* {"s":"xxx..."} of n bytes in all. */
static void
addline(struct au_buf *b, size_t n, const char *end)
{
	size_t i;

	au_buf_adds(b, "{\"s\":\"");
	for (i = 0; i + 8 < n; i++)
		au_buf_addc(b, 'x');
	au_buf_adds(b, "\"}");
	au_buf_adds(b, end);
}

static void
test_max_line(void)
{
	static const char *const m[] = { "m.ndjson", NULL };
	static const char *const big[] = { "big.ndjson", NULL };
	static const char *const huge[] = { "huge.ndjson", NULL };
	struct au_buf f = AU_BUF_INIT, want = AU_BUF_INIT, line = AU_BUF_INIT;
	long n;

	au_buf_adds(&f, "{\"a\":1}\n");
	addline(&f, 64, "\n");
	addline(&f, 65, "\n");
	addline(&f, 64, "\r\n");
	addline(&f, 200, "\n");
	au_buf_adds(&f, "{\"b\":2}\n");
	addline(&f, 200, "");
	writefile(at("m.ndjson"), f.s, f.len);
	addline(&line, 64, "");
	au_buf_addf(&want, "m.ndjson:1 {\"a\":1}\n"
	    "m.ndjson:2 %s\n"
	    "! test-ndjson: m.ndjson:3: line too long (more than 64 bytes)\n"
	    "m.ndjson:4 %s\n"
	    "! test-ndjson: m.ndjson:5: line too long (more than 64 bytes)\n"
	    "m.ndjson:6 {\"b\":2}\n"
	    "! test-ndjson: m.ndjson:7: line too long (more than 64 bytes)\n"
	    "= 65\n", line.s, line.s);
	au_opts.max_line = 64;
	is_str_free(readfiles(m), want.s, "in: --max-line 64: 64 bytes pass, "
	    "longer lines are reported once, the next line read");

	/* Short lines up to near the end of the first 256 KiB read, a line
	 * of 5000 bytes across it, more short lines, a line of 600,000
	 * bytes across several reads, and short lines again. */
	f.len = 0;
	want.len = 0;
	for (n = 1; f.len < 262000; n++) {
		au_buf_addf(&f, "{\"n\":%ld}\n", n);
		au_buf_addf(&want, "big.ndjson:%ld {\"n\":%ld}\n", n, n);
	}
	addline(&f, 5000, "\n");
	au_buf_addf(&want, "! test-ndjson: big.ndjson:%ld: line too long "
	    "(more than 1000 bytes)\n", n++);
	for (; f.len < 400000; n++) {
		au_buf_addf(&f, "{\"n\":%ld}\n", n);
		au_buf_addf(&want, "big.ndjson:%ld {\"n\":%ld}\n", n, n);
	}
	addline(&f, 600000, "\n");
	au_buf_addf(&want, "! test-ndjson: big.ndjson:%ld: line too long "
	    "(more than 1000 bytes)\n", n++);
	for (; f.len < 1100000; n++) {
		au_buf_addf(&f, "{\"n\":%ld}\n", n);
		au_buf_addf(&want, "big.ndjson:%ld {\"n\":%ld}\n", n, n);
	}
	au_buf_adds(&want, "= 65\n");
	writefile(at("big.ndjson"), f.s, f.len);
	au_opts.max_line = 1000;
	free(line.s);
	line.s = readfiles(big);
	same(line.s, want.s, "in: --max-line 1000: long lines across reads "
	    "reported once, every other line read");

	/* Without --max-line a line of 1 MB is fine. */
	au_opts.max_line = 16u << 20;
	f.len = 0;
	addline(&f, 1000000, "\n{\"after\":true}\n");
	writefile(at("huge.ndjson"), f.s, f.len);
	free(line.s);
	line.s = readfiles(huge);
	ok(strncmp(line.s, "huge.ndjson:1 {\"s\":\"xxx", 23) == 0 &&
	    strlen(line.s) > 1000015 && strcmp(line.s + 1000015,
	    "huge.ndjson:2 {\"after\":true}\n= 0\n") == 0,
	    "in: a line of 1 MB is read whole");
	au_buf_free(&f);
	au_buf_free(&want);
	au_buf_free(&line);
}

/* The member n of a record (borrowed), or -1. */
static intptr_t
nof(jv v)
{
	jv n = jv_object_get(jv_copy(v), jv_string("n"));
	intptr_t r = jv_get_kind(n) == JV_KIND_NUMBER ?
	    (intptr_t)jv_number_value(n) : -1;

	jv_free(n);
	return r;
}

/* What au_in_prepare runs in the reading threads: count, and say n. */
static void *
prep_n(jv v, void *arg)
{
	atomic_fetch_add((atomic_long *)arg, 1);
	return (void *)nof(v);
}

/* What au_in_prepare_text runs: n of the lines below with an even n,
 * and NULL for the others, which go to prep_n. */
static void *
prep_text(const char *s, size_t len, void *arg)
{
	long n;

	if (len < 6 || memcmp(s, "{\"n\":", 5) != 0 ||
	    (n = strtol(s + 5, NULL, 10)) % 2 != 0)
		return NULL;
	atomic_fetch_add((atomic_long *)arg, 1);
	return (void *)(intptr_t)n;
}

/* Whether line n of the large input is blank or bad. */
#define BAD(n) ((n) % 9973 == 0)
#define BLANK(n) ((n) % 1000 == 500)

/* Many lines with blank and bad ones among them: every record must come
 * with its line, in order, and each complaint just before the first
 * record after it.  With au_in_prepare; with drop the records are gone
 * and only what prep_n made arrives; with text too (drop 2), half of them
 * from prep_text. */
static void
test_large(long nlines, int drop)
{
	struct au_buf f = AU_BUF_INIT, got = AU_BUF_INIT, want = AU_BUF_INIT;
	const char *how = drop == 2 ? ", text" : drop ? ", drop" : "";
	char *path = at("large.ndjson");
	struct au_rec rec;
	struct au_in *in;
	atomic_long calls = 0;
	long n, last = 0, records = 0, badline = 0, badprep = 0, badv = 0;
	long badmsg = 0;
	int r;

	for (n = 1; n <= nlines; n++) {
		if (BAD(n))
			au_buf_adds(&f, "[\"not an object\"]\n");
		else if (BLANK(n))
			au_buf_adds(&f, "\n");
		else
			au_buf_addf(&f, "{\"n\":%ld,\"pad\":\"0123456789\"}\n",
			    n);
	}
	writefile(path, f.s, f.len);
	in = au_in_open(&path, 1);
	au_in_prepare(in, prep_n, &calls, drop);
	if (drop == 2)
		au_in_prepare_text(in, prep_text);
	capture(1);
	do {
		r = au_in_next(in, &rec);
		/* The line the record should have, and the complaints due
		 * before it. */
		want.len = 0;
		au_buf_adds(&want, "");
		for (n = last + 1; n <= nlines && (BAD(n) || BLANK(n)); n++)
			if (BAD(n))
				au_buf_addf(&want, "! test-ndjson: "
				    "large.ndjson:%ld: not a JSON object "
				    "(found array)\n", n);
		got.len = 0;
		au_buf_adds(&got, "");
		newerr(&got);
		if (strcmp(got.s, want.s) != 0 && badmsg++ == 0)
			printf("# before line %ld: got %s# want %s", n, got.s,
			    want.s);
		if (r == 0) {
			if (n <= nlines)
				badline++;
			break;
		}
		if (rec.line != n || strcmp(rel(rec.file), "large.ndjson")
		    != 0) {
			if (badline++ == 0)
				printf("# line %ld, want %ld\n", rec.line, n);
		}
		if ((intptr_t)rec.prep != n)
			badprep++;
		if (drop ? jv_is_valid(rec.v) : nof(rec.v) != n)
			badv++;
		jv_free(rec.v);
		records++;
		last = n;
	} while (r);
	capture(0);
	is_int(records, nlines - nlines / 9973 - (nlines + 500) / 1000,
	    "large %ld%s: every record", nlines, how);
	is_int(badline, 0, "large %ld%s: each with its line, in order",
	    nlines, how);
	is_int(badmsg, 0, "large %ld%s: complaints in order, each before the "
	    "next record", nlines, how);
	is_int(atomic_load(&calls), records, "large %ld%s: prepare ran once "
	    "a record", nlines, how);
	is_int(badprep, 0, "large %ld%s: its result in rec.prep", nlines,
	    how);
	is_int(badv, 0, drop ? "large %ld%s: rec.v is invalid" :
	    "large %ld%s: rec.v is the record", nlines, how);
	is_int(au_in_status(in), nlines >= 9973 ? 65 : 0,
	    "large %ld%s: status", nlines, how);
	au_in_close(in);
	au_buf_free(&f);
	au_buf_free(&got);
	au_buf_free(&want);
}

static void
test_reject(void)
{
	char *path = at("c.ndjson");
	struct au_buf t = AU_BUF_INIT;
	struct au_in *in = au_in_open(&path, 1);
	struct au_rec rec;

	au_buf_adds(&t, "");
	capture(1);
	while (au_in_next(in, &rec)) {
		if (rec.line == 1)
			au_in_reject(in, &rec, "bad id %s", au_quote("c1"));
		newerr(&t);
		au_buf_addf(&t, "%s:%ld\n", rel(rec.file), rec.line);
		jv_free(rec.v);
	}
	capture(0);
	au_buf_addf(&t, "= %d\n", au_in_status(in));
	au_in_close(in);
	is_str(t.s, "! test-ndjson: c.ndjson:1: bad id \"c1\"\nc.ndjson:1\n"
	    "c.ndjson:2\n= 65\n", "reject: reported as file:line, status 65");
	au_buf_free(&t);
}

/* A writer thread: each piece written after a pause of ms. */
struct writer {
	int fd;
	const char *const *pieces;
	long ms;
	int close;
	pthread_t thread;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	size_t i, n;

	for (i = 0; w->pieces[i] != NULL; i++) {
		nap(w->ms);
		n = strlen(w->pieces[i]);
		if (write(w->fd, w->pieces[i], n) != (ssize_t)n)
			break;
	}
	if (w->close)
		close(w->fd);
	return NULL;
}

static void
test_pipe(void)
{
	static const char *const pieces[] = { "{\"a\":", "1}\n{\"b\":2}\n\n",
	    "{\"c\"", ":3}\n{\"d\":", "4}", NULL };
	struct writer w = { .fd = -1, .pieces = pieces, .ms = 20, .close = 1 };
	int fds[2];

	if (pipe(fds) != 0)
		return;
	w.fd = fds[1];
	pthread_create(&w.thread, NULL, writer_main, &w);
	is_str_free(transcript(au_in_fdopen(fds[0], "pipe")),
	    "pipe:1 {\"a\":1}\npipe:2 {\"b\":2}\npipe:4 {\"c\":3}\n"
	    "pipe:5 {\"d\":4}\n= 0\n",
	    "fdopen: a pipe written in pieces, lines split across writes");
	pthread_join(w.thread, NULL);
	ok(fcntl(fds[0], F_GETFD) >= 0, "fdopen: close leaves the fd open");
	close(fds[0]);
}

/* ---- output ---- */

/* The pipes out_wait takes turns by: it says it is ready on one and waits
 * for the go on the other. */
static int go[2], ready[2];

static void
out_records(void)
{
	jv v = jv_parse("{\"type\":\"task\",\"id\":\"t\\u00e9\",\"n\":[1,2.5,"
	    "null]}");

	au_out_init();
	au_out_rec(v);
	au_out_text("plain ", 6);
	au_out_text("text\n", 5);
	au_out_eol();
	au_out_rec(v);
	jv_free(v);
	au_out_close();
}

/* Write a record, say so with a byte on ready, wait for a byte on go,
 * write another. */
static void
out_wait(void)
{
	jv v = jv_parse("{\"n\":1}");
	char c;

	au_out_init();
	au_out_rec(v);
	if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
		_exit(3);
	au_out_rec(v);
	jv_free(v);
	au_out_close();
}

static void
out_full(void)
{
	jv v = jv_parse("{\"n\":1}");

	au_out_init();
	au_out_rec(v);
	jv_free(v);
	au_out_close();
	_exit(0);
}

static void
out_full_big(void)
{
	static char big[1 << 20];

	memset(big, 'x', sizeof big);
	au_out_init();
	au_out_text(big, sizeof big);
	_exit(0);
}

struct next {
	struct au_in *in;
	struct au_rec rec;
	int r;
	pthread_t thread;
};

static void *
next_main(void *arg)
{
	struct next *n = arg;

	n->r = au_in_next(n->in, &n->rec);
	return NULL;
}

/* A line past --max-line is reported as soon as it is too long, not when
 * (if ever) it ends: the reader does not keep it.  A pipe shows it. */
static void
test_endless(void)
{
	struct au_buf t = AU_BUF_INIT;
	struct next n = { .r = -1 };
	char x[5000];
	int fds[2], i, found = 0;

	if (pipe(fds) != 0)
		return;
	memset(x, 'x', sizeof x);
	if (write(fds[1], "{\"a\":1}\n", 8) != 8 ||
	    write(fds[1], x, sizeof x) != (ssize_t)sizeof x)
		perror("write");
	au_opts.max_line = 1000;
	n.in = au_in_fdopen(fds[0], "pipe");
	au_opts.max_line = 16u << 20;
	capture(1);
	n.r = au_in_next(n.in, &n.rec);
	ok(n.r == 1 && n.rec.line == 1, "endless: the line before it");
	if (n.r == 1)
		jv_free(n.rec.v);
	pthread_create(&n.thread, NULL, next_main, &n);
	for (i = 0; i < 200 && !found; i++) {
		nap(10);
		newerr(&t);
		found = t.s != NULL && strcmp(t.s, "! test-ndjson: pipe:2: "
		    "line too long (more than 1000 bytes)\n") == 0;
	}
	ok(found, "endless: reported while the line goes on (%s)",
	    au_quote(t.s ? t.s : ""));
	if (write(fds[1], "yyy\n{\"b\":2}\n", 11) != 11)
		perror("write");
	close(fds[1]);
	pthread_join(n.thread, NULL);
	ok(n.r == 1 && n.rec.line == 3, "endless: the line after it");
	if (n.r == 1)
		jv_free(n.rec.v);
	is_int(au_in_next(n.in, &n.rec), 0, "endless: then the end");
	capture(0);
	is_int(au_in_status(n.in), EX_DATAERR, "endless: status 65");
	au_in_close(n.in);
	close(fds[0]);
	au_buf_free(&t);
}

/* In a child, so that LeakSanitizer looks at what closing leaves: close
 * while the reader waits in read(2) for a writer that keeps the pipe
 * open, then while it waits for room, with many batches queued.  Each
 * check's outcome, '1' or '0', goes to stdout. */
static void
early_close(void)
{
	static const char *lines[101];
	struct writer w = { .fd = -1, .pieces = lines, .ms = 1 };
	char got[4] = "0000";
	struct au_rec rec;
	struct au_in *in;
	int fds[2], i;
	int64_t t0;

	if (pipe(fds) != 0 || write(fds[1], "{\"x\":1}\n{\"x\":2}\n", 16) !=
	    16)
		_exit(2);
	in = au_in_fdopen(fds[0], "pipe");
	if (au_in_next(in, &rec) == 1 && rec.line == 1) {
		got[0] = '1';
		jv_free(rec.v);
	}
	t0 = au_mono_ms();
	au_in_close(in);
	got[1] = au_mono_ms() - t0 < 1000 ? '1' : '0';
	close(fds[0]);
	close(fds[1]);

	for (i = 0; i < 100; i++)
		lines[i] = "{\"many\":\"batches, one a line\"}\n";
	if (pipe(fds) != 0)
		_exit(2);
	w.fd = fds[1];
	pthread_create(&w.thread, NULL, writer_main, &w);
	in = au_in_fdopen(fds[0], "pipe");
	if (au_in_next(in, &rec) == 1 && rec.line == 1) {
		got[2] = '1';
		jv_free(rec.v);
	}
	nap(250);
	t0 = au_mono_ms();
	au_in_close(in);
	got[3] = au_mono_ms() - t0 < 1000 ? '1' : '0';
	pthread_join(w.thread, NULL);
	close(fds[0]);
	close(fds[1]);
	if (write(STDOUT_FILENO, got, 4) != 4)
		_exit(2);
}

static void
test_early_close(void)
{
	static const char *const what[4] = {
		"close while reading: the first record came",
		"close while reading: returns while the writer holds the pipe "
		    "open",
		"close with a full queue: the first record came",
		"close with a full queue: returns while the reader waits for "
		    "room",
	};
	struct child c;
	char *p, *nl;
	int i;

	au_in_close(au_in_fdopen(0, "unused"));
	ok(1, "close: before reading anything");

	child_run(early_close, &c);
	for (i = 0; i < 4; i++)
		ok(strlen(c.out) == 4 && c.out[i] == '1', "%s", what[i]);
	ok(c.code == 0, "close: the child ends well, nothing leaked (status "
	    "%d)", c.code);
	for (p = c.err, i = 0; *p != '\0' && i < 20; p = nl + 1, i++) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		printf("# %.*s\n", (int)(nl - p), p);
	}
}

static void
test_out(void)
{
	static const char rec[] = "{\"type\":\"task\",\"id\":\"t\xc3\xa9\","
	    "\"n\":[1,2.5,null]}\n";
	char s[4096], line[64];
	int fd, null = open("/dev/null", O_WRONLY), out[2], err;
	struct child c;
	struct pollfd pfd;
	ssize_t n;
	pid_t pid;

	child_run(out_records, &c);
	is_int(c.code, 0, "out: records and text into a file");
	ok(strncmp(c.out, rec, sizeof rec - 1) == 0 &&
	    strncmp(c.out + sizeof rec - 1, "plain text\n", 11) == 0 &&
	    strcmp(c.out + sizeof rec - 1 + 11, rec) == 0,
	    "out: compact records and the text, in order (%s)",
	    au_quote(c.out));

	/* On a pipe each record arrives while the child waits. */
	if (pipe(go) != 0 || pipe(ready) != 0 || pipe(out) != 0)
		return;
	pid = child_start(out_wait, out[1], null);
	close(out[1]);
	close(go[0]);
	close(ready[1]);
	pfd.fd = out[0];
	pfd.events = POLLIN;
	n = poll(&pfd, 1, 2000) == 1 ? read(out[0], line, sizeof line - 1) : 0;
	line[n > 0 ? n : 0] = '\0';
	is_str(line, "{\"n\":1}\n", "out: flushed per record on a pipe");
	if (read(ready[0], line, 1) != 1 || write(go[1], "g", 1) != 1)
		perror("ready, go");
	close(go[1]);
	close(ready[0]);
	n = read(out[0], line, sizeof line - 1);
	line[n > 0 ? n : 0] = '\0';
	is_str(line, "{\"n\":1}\n", "out: the second record");
	is_int(child_wait(pid), 0, "out: the child ends well");
	close(out[0]);

	/* On a file records wait in the buffer. */
	if (pipe(go) != 0 || pipe(ready) != 0)
		return;
	fd = tmpfd();
	pid = child_start(out_wait, fd, null);
	close(go[0]);
	close(ready[1]);
	n = read(ready[0], line, 1);
	readall(fd, s, sizeof s);
	ok(n == 1 && *s == '\0', "out: a file is not flushed per record "
	    "(%s)", au_quote(s));
	if (write(go[1], "g", 1) != 1)
		perror("write");
	close(go[1]);
	close(ready[0]);
	is_int(child_wait(pid), 0, "out: the child ends well");
	readall(fd, s, sizeof s);
	is_str(s, "{\"n\":1}\n{\"n\":1}\n", "out: both records at the close");
	close(fd);

	/* A full disk. */
	fd = open("/dev/full", O_WRONLY);
	err = tmpfd();
	is_int(child_wait(child_start(out_full, fd, err)), EX_IOERR,
	    "out: /dev/full exits 74 at the close");
	readall(err, s, sizeof s);
	is_str(s, "test-ndjson: write error: No space left on device\n",
	    "out: and says so");
	close(err);
	err = tmpfd();
	is_int(child_wait(child_start(out_full_big, fd, err)), EX_IOERR,
	    "out: /dev/full exits 74 when 1 MB of text does not fit");
	readall(err, s, sizeof s);
	is_str(s, "test-ndjson: write error: No space left on device\n",
	    "out: and says so");
	close(err);
	close(fd);
	close(null);
}

/* au_in_notify: the callback runs in the reading thread when records
 * are ready and at the end, so that a poll loop can be woken. */
static int notified_fd = -1;

static void
notified(void *arg)
{
	(void)arg;
	if (write(notified_fd, "n", 1) != 1)
		_exit(2);
}

static void
test_notify(void)
{
	struct au_rec rec;
	struct au_in *in;
	int fds[2], wake[2], n = 0;
	char c;

	if (pipe(fds) != 0 || pipe(wake) != 0)
		_exit(2);
	notified_fd = wake[1];
	in = au_in_fdopen(fds[0], "pipe");
	au_in_notify(in, notified, NULL);
	is_int(au_in_wait(in, 0), 0, "notify: nothing ready yet");
	if (write(fds[1], "{\"x\":1}\n", 8) != 8)
		_exit(2);
	is_int(read(wake[0], &c, 1), 1, "notify: called once a record is ready");
	is_int(au_in_wait(in, 0), 1, "notify: and then the record is there");
	if (au_in_next(in, &rec) == 1)
		n++;
	jv_free(rec.v);
	close(fds[1]);
	is_int(read(wake[0], &c, 1), 1, "notify: called at the end");
	is_int(au_in_next(in, &rec), 0, "notify: the end");
	is_int(n, 1, "notify: one record");
	au_in_close(in);
	close(fds[0]);
	close(wake[0]);
	close(wake[1]);
}

/* Write s to fd, or end the test run. */
static void
put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		_exit(2);
}

/* au_in_wait says 1 only for a record (or the end), not for a bad line
 * alone, with a reading thread or without. */
static void
test_wait_bad(int nothread)
{
	struct au_buf t = AU_BUF_INIT;
	struct au_rec rec;
	struct au_in *in;
	int fds[2], r;

	if (pipe(fds) != 0)
		_exit(2);
	in = au_in_fdopen(fds[0], "pipe");
	if (nothread)
		au_in_polled(in);
	put(fds[1], "{bad\n");
	capture(1);
	r = au_in_wait(in, 200);
	newerr(&t);
	capture(0);
	is_int(r, 0, "wait%s: a bad line alone is no record", nothread ?
	    " (polled)" : "");
	is_str(t.s, "! test-ndjson: pipe:1: invalid JSON: expected a string "
	    "key (column 2)\n", "wait%s: and is reported", nothread ? " (polled)" :
	    "");
	put(fds[1], "{\"x\":1}\n");
	is_int(au_in_wait(in, 5000), 1, "wait%s: the record after it is",
	    nothread ? " (polled)" : "");
	is_int(au_in_next(in, &rec), 1, "wait%s: and is read", nothread ?
	    " (polled)" : "");
	is_int(rec.line, 2, "wait%s: from line 2", nothread ? " (polled)" : "");
	jv_free(rec.v);
	close(fds[1]);
	is_int(au_in_next(in, &rec), 0, "wait%s: the end", nothread ?
	    " (polled)" : "");
	is_int(au_in_status(in), 65, "wait%s: status 65", nothread ?
	    " (polled)" : "");
	au_in_close(in);
	close(fds[0]);
	au_buf_free(&t);
}

/* au_in_polled: nothing is read but in au_in_wait and au_in_next, and
 * au_in_fd is what to poll between them. */
static void
test_polled(void)
{
	struct au_rec rec;
	struct au_in *in;
	struct pollfd pfd;
	int fds[2];

	if (pipe(fds) != 0)
		_exit(2);
	in = au_in_fdopen(fds[0], "pipe");
	au_in_polled(in);
	is_int(au_in_wait(in, 0), 0, "polled: nothing ready yet");
	is_int(au_in_fd(in), fds[0], "polled: the pipe is what to poll");
	put(fds[1], "{\"a\":1}\n{\"b\"");
	pfd.fd = au_in_fd(in);
	pfd.events = POLLIN;
	is_int(poll(&pfd, 1, 5000), 1, "polled: the pipe is readable");
	is_int(au_in_wait(in, 0), 1, "polled: a record read and ready");
	is_int(au_in_next(in, &rec), 1, "polled: and handed out");
	is_int(rec.line, 1, "polled: line 1");
	jv_free(rec.v);
	is_int(au_in_wait(in, 0), 0, "polled: half a line is no record");
	is_int(au_in_wait(in, 50), 0, "polled: nor after a while");
	put(fds[1], ":2}\n{\"c\":3}\n{\"d\":4}");
	is_int(au_in_wait(in, 5000), 1, "polled: its other half makes it one");
	is_int(au_in_next(in, &rec), 1, "polled: handed out");
	is_int(rec.line, 2, "polled: line 2");
	jv_free(rec.v);
	is_int(au_in_fd(in), -1, "polled: nothing to poll while the next is "
	    "read already");
	is_int(au_in_wait(in, 0), 1, "polled: the next, read with it, too");
	is_int(au_in_next(in, &rec), 1, "polled: handed out");
	jv_free(rec.v);
	close(fds[1]);
	is_int(au_in_next(in, &rec), 1, "polled: the last line, without its "
	    "newline, at the end");
	is_int(rec.line, 4, "polled: line 4");
	jv_free(rec.v);
	is_int(au_in_next(in, &rec), 0, "polled: then the end");
	is_int(au_in_wait(in, 0), 1, "polled: which is ready at once");
	is_int(au_in_fd(in), -1, "polled: with nothing to poll");
	au_in_close(in);
	close(fds[0]);
}

int
main(void)
{
	tmpdir_make("test-ndjson");
	errfd = tmpfd();
	au_setprog("test-ndjson");
	test_out();
	fixtures();
	test_lines();
	test_stdin();
	test_max_line();
	test_large(50000, 0);
	test_large(5000, 1);
	test_large(5000, 2);
	test_reject();
	test_pipe();
	test_endless();
	test_early_close();
	test_notify();
	test_wait_bad(0);
	test_wait_bad(1);
	test_polled();
	/* Without a reading thread, the same reading. */
	polled = 1;
	test_lines();
	test_stdin();
	test_max_line();
	test_pipe();
	close(errfd);
	tmpdir_remove();
	return done();
}
