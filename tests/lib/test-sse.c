/*
 * test-sse.c - sse.c against the corner cases of the WHATWG event stream
 * interpretation: LF, CRLF and CR line ends, a CR at the end of one piece
 * and its LF in the next, the byte order mark (whole, split, or only
 * begun), comments, fields without a colon or without the space, several
 * data lines, events without data, id and retry kept for a reconnection
 * (an id primed without data, cleared, with a NUL; retry digits only),
 * the event type reset after each event, a last event without its blank
 * line; one sample stream fed whole, byte by byte, and split in two at
 * every byte position giving the same events; events and lines over the
 * limit; a callback that stops the feed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"
#include "tap.h"

/* The events seen, as "type|data" lines (an LF in data shown as "\n"). */
static struct au_buf seen;

static int
collect(const char *event, const char *data, size_t len, void *arg)
{
	size_t i;

	(void)arg;
	au_buf_adds(&seen, event);
	au_buf_addc(&seen, '|');
	for (i = 0; i < len; i++) {
		if (data[i] == '\n')
			au_buf_adds(&seen, "\\n");
		else
			au_buf_addc(&seen, data[i]);
	}
	au_buf_addc(&seen, '\n');
	if (data[len] != '\0')
		au_buf_adds(&seen, "(data not NUL-terminated)\n");
	return 0;
}

static void
reset(void)
{
	seen.len = 0;
	au_buf_adds(&seen, "");
}

/* The events of the n bytes at s fed in pieces of at most step bytes
 * (0: whole), or "ERROR: ..." after them. */
static const char *
feed(const char *s, size_t n, size_t step, size_t max)
{
	struct au_sse *p = au_sse_new(max);
	size_t off, k;
	int rc = 0;

	reset();
	for (off = 0; off < n && rc == 0; off += k) {
		k = step == 0 || n - off < step ? n - off : step;
		rc = au_sse_feed(p, s + off, k, collect, NULL);
	}
	if (rc != 0) {
		au_buf_adds(&seen, "ERROR: ");
		au_buf_adds(&seen, au_errmsg());
	}
	au_sse_free(p);
	return seen.s;
}

static const char *
feeds(const char *s)
{
	return feed(s, strlen(s), 0, 0);
}

/* The last event id and retry after the n bytes at s, fed in pieces of
 * step bytes, as "id|retry" ("(null)" for no id). */
static const char *
resume(const char *s, size_t step)
{
	static char out[128];
	struct au_sse *p = au_sse_new(0);
	size_t n = strlen(s), off, k;

	reset();
	for (off = 0; off < n; off += k) {
		k = step == 0 || n - off < step ? n - off : step;
		au_sse_feed(p, s + off, k, collect, NULL);
	}
	snprintf(out, sizeof out, "%s|%lld", au_sse_last_id(p) ?
	    au_sse_last_id(p) : "(null)", au_sse_retry(p));
	au_sse_free(p);
	return out;
}

static void
test_resume(void)
{
	is_str(resume("data: x\n\n", 0), "(null)|-1", "no id, no retry");
	is_str(resume("id: 41\nretry: 250\ndata:\n\n", 0), "41|250",
	    "a priming event: id and retry, empty data");
	is_str(seen.s, "message|\n", "an event of empty data, for the "
	    "reader to pass over");
	is_str(resume("id: 41\ndata: a\n\nid: 42\ndata: b\n\n", 1), "42|-1",
	    "the last event's id, fed byte by byte");
	is_str(resume("id: 41\ndata: a\n\nid: 42\ndata: b", 0), "41|-1",
	    "an event not ended keeps its id back");
	is_str(resume("id: 41\ndata: a\n\ndata: b\n\n", 0), "41|-1",
	    "an event without id keeps the last");
	is_str(resume("id: 41\n\nid\n\n", 0), "|-1",
	    "an empty id clears it");
	is_str(resume("id: 41\ndata: a\n\nid\ndata: b\n", 0), "41|-1",
	    "an id field of an event not ended is not taken");
	is_str(resume("id: 41\n\nid: 4\0002\n\n", 0), "41|-1",
	    "an id with a NUL is ignored");
	is_str(resume("retry: 100\nretry: 1x\nretry: -5\nretry:\n\n", 0),
	    "(null)|100", "retry of anything but digits is ignored");
	is_str(resume("retry: 99999999999999999999\n\n", 0), "(null)|-1",
	    "and so is one past a day");
}

static void
test_fields(void)
{
	is_str(feeds("data: hello\n\n"), "message|hello\n",
	    "one event, type message when none is given");
	is_str(feeds("event: add\ndata: 1\n\n"), "add|1\n",
	    "the event field sets the type");
	is_str(feeds("data: a\ndata: b\n\ndata: c\n\n"),
	    "message|a\\nb\nmessage|c\n",
	    "data lines joined with LF, events apart at blank lines");
	is_str(feeds("data:x\n\n"), "message|x\n",
	    "no space after the colon");
	is_str(feeds("data:  x\n\n"), "message| x\n",
	    "only one space after the colon is dropped");
	is_str(feeds("data\n\n"), "message|\n",
	    "a field without a colon has an empty value, and counts");
	is_str(feeds("data:\ndata:\n\n"), "message|\\n\n",
	    "two empty data lines make one LF");
	is_str(feeds(": a comment\ndata: x\n: another\n\n"), "message|x\n",
	    "comments are skipped");
	is_str(feeds(":\n\n"), "", "a comment alone is no event");
	is_str(feeds("event: ping\n\ndata: x\n\n"), "message|x\n",
	    "an event without data is none, and its type does not stay");
	is_str(feeds("event: a\ndata: 1\n\ndata: 2\n\n"), "a|1\nmessage|2\n",
	    "the type is reset after each event");
	is_str(feeds("event: a\nevent: b\ndata: 1\n\n"), "b|1\n",
	    "the last event field wins");
	is_str(feeds("event:\ndata: 1\n\n"), "message|1\n",
	    "an empty type is message");
	is_str(feeds("id: 7\nretry: 1000\ndata: x\nid\n\n"), "message|x\n",
	    "id and retry are no part of an event");
	is_str(feeds("foo: bar\nDATA: no\ndata : no\ndata: yes\n\n"),
	    "message|yes\n",
	    "unknown fields dropped; names are exact (case, spaces)");
	is_str(feeds("data: a: b\n\n"), "message|a: b\n",
	    "the first colon splits");
	is_str(feeds("data: x\n"), "", "an event without its blank line "
	    "is not dispatched");
	is_str(feeds("data: x\n\n\n\n"), "message|x\n",
	    "blank lines after an event make no more events");
	is_str(feed("data: a\0b\n\n", 11, 0, 0), "message|a\0b\n",
	    "a NUL byte in data is kept");
	ok(memcmp(seen.s, "message|a\0b\n", 12) == 0 && seen.len == 12,
	    "... with its length");
}

static void
test_line_ends(void)
{
	is_str(feeds("data: a\r\n\r\ndata: b\r\rdata: c\n\n"),
	    "message|a\nmessage|b\nmessage|c\n",
	    "CRLF, CR and LF line ends");
	is_str(feeds("data: a\rdata: b\r\n\n"), "message|a\\nb\n",
	    "CR ends a line inside an event");
	is_str(feeds("data: a\r\n\n"), "message|a\n",
	    "CRLF then LF: one blank line");
	is_str(feeds("data: a\n\r\n"), "message|a\n", "LF then CRLF");
	is_str(feeds("data: a\r\r\n"), "message|a\n",
	    "CR CR LF: the second CR and its LF one blank line");
	is_str(feed("data: a\r", 8, 0, 0), "", "a CR at the end waits");
}

static void
test_bom(void)
{
	is_str(feeds("\xef\xbb\xbf" "data: x\n\n"), "message|x\n",
	    "a byte order mark at the start is dropped");
	is_str(feed("\xef\xbb\xbf" "data: x\n\n", 12, 1, 0), "message|x\n",
	    "... fed byte by byte");
	is_str(feeds("\xef\xbb\xbf\xef\xbb\xbf" "data: x\n\n"), "",
	    "only one: a second makes the field name unknown");
	is_str(feeds("data: x\n\n\xef\xbb\xbf" "data: y\n\n"), "message|x\n",
	    "a BOM later is part of the line");
	is_str(feeds("\xef\xbb" "data: x\n\n"), "",
	    "half a BOM stays in the first line");
	is_str(feeds("\xef" ": c\ndata: x\n\n"), "message|x\n",
	    "... which it spoils, the next line being fine");
}

/* A stream with something of every kind; split anywhere, it must give
 * the same events. */
static const char sample[] =
    "\xef\xbb\xbf: hello\r\n"
    "event: message_start\r\n"
    "data: {\"type\":\"message_start\"}\r\n"
    "\r\n"
    "event: content_block_delta\n"
    "data: {\"text\":\"a\"}\n"
    "data:{\"text\":\"b\"}\n"
    "id: 12\n"
    "\n"
    "retry: 3000\r"
    "event: ping\r"
    "\r"
    "data\r"
    "\r"
    "event: x\r\n"
    "data: last\r\n"
    "\r\n"
    "data: [DONE]\n"
    "\n";

static const char sample_events[] =
    "message_start|{\"type\":\"message_start\"}\n"
    "content_block_delta|{\"text\":\"a\"}\\n{\"text\":\"b\"}\n"
    "message|\n"
    "x|last\n"
    "message|[DONE]\n";

static void
test_split(void)
{
	size_t n = sizeof sample - 1, at, bad = 0, step;
	struct au_sse *p;

	is_str(feed(sample, n, 0, 0), sample_events, "the sample, whole");
	for (step = 1; step <= 7; step++)
		if (strcmp(feed(sample, n, step, 0), sample_events) != 0)
			bad++;
	is_int(bad, 0, "the sample in pieces of 1 to 7 bytes");
	for (at = 0; at <= n; at++) {
		p = au_sse_new(0);
		reset();
		if (au_sse_feed(p, sample, at, collect, NULL) != 0 ||
		    au_sse_feed(p, sample + at, n - at, collect, NULL) != 0 ||
		    strcmp(seen.s, sample_events) != 0) {
			if (bad++ == 0)
				printf("# first split that differs: at %zu, "
				    "giving\n%s", at, seen.s);
		}
		au_sse_free(p);
	}
	is_int(bad, 0, "the sample split in two at each of its %zu+1 "
	    "positions", n);
}

static void
test_limits(void)
{
	static char big[300];

	is_str(feed("data: 12345678\n\n", 16, 0, 8), "message|12345678\n",
	    "an event of exactly max_event bytes");
	is_str(feed("data: 1234\ndata: 567\n\n", 22, 0, 8),
	    "message|1234\\n567\n", "... counting the LF between lines");
	is_str(feed("data: 1234\ndata: 5678\n\n", 23, 0, 8),
	    "ERROR: an event over 8 bytes",
	    "one byte more is an error");
	memset(big, 'x', sizeof big);
	memcpy(big, "data: ", 6);
	is_str(feed(big, sizeof big, 10, 100),
	    "ERROR: an event over 100 bytes",
	    "a line without an end that outgrows the limit");
	is_str(feed(big, 150, 10, 100), "",
	    "a line may be longer than the limit by a field name");
}

static int
stop_at_second(const char *event, const char *data, size_t len, void *arg)
{
	int *n = arg;

	collect(event, data, len, NULL);
	return ++*n == 2 ? 42 : 0;
}

static void
test_stop(void)
{
	struct au_sse *p = au_sse_new(0);
	int n = 0;

	reset();
	is_int(au_sse_feed(p, "data: 1\n\ndata: 2\n\ndata: 3\n\n", 27,
	    stop_at_second, &n), 42, "a callback's nonzero return comes back");
	is_str(seen.s, "message|1\nmessage|2\n", "... and no event after it");
	au_sse_free(p);
	au_sse_free(NULL);
	ok(1, "au_sse_free(NULL) does nothing");
}

int
main(void)
{
	test_fields();
	test_resume();
	test_line_ends();
	test_bom();
	test_split();
	test_limits();
	test_stop();
	au_buf_free(&seen);
	return done();
}
