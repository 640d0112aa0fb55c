/*
 * sse.c - server-sent events read incrementally, as the WHATWG HTML
 * standard's "event stream interpretation" has it: bytes in whatever
 * pieces the network gives, events out once their blank line has come.
 * Lines end with LF, CRLF or CR (a CR at the end of one piece waits for
 * the next to see whether an LF follows); a UTF-8 byte order mark at the
 * start of the stream is dropped; a line beginning with ':' is a comment;
 * "field: value" loses one space after the colon.  "event" sets the
 * event's type, "data" adds a line to its data, "id" the last event id
 * (an event's end takes it, data or not: a server primes a stream with
 * an id and no data; an empty one clears it), and "retry" of digits
 * alone the reconnection time, for a client that reconnects with
 * Last-Event-ID.  An event without data is no event, as the standard
 * says.
 */
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"

#define DEF_MAX ((size_t)1 << 20)
/* Room for a field name and its colon beyond max_event in one line. */
#define LINE_SLACK 64

struct au_sse {
	size_t max;		/* bytes of one event's data at most */
	struct au_buf line;	/* a line begun in an earlier piece */
	struct au_buf data;	/* the event's data lines, each and its LF */
	struct au_buf type;	/* the event's type; empty: "message" */
	struct au_buf idbuf;	/* the last id field read */
	struct au_buf lastid;	/* that of the last event */
	int idread;		/* an id field since the last event's end */
	int idseen;		/* an event's end has taken one */
	long long retry;	/* the reconnection time in ms, or -1 */
	int cr;			/* the last piece ended with CR */
	int bom;		/* bytes of the stream seen, up to 3 */
};

static const char bom[] = "\xef\xbb\xbf";

struct au_sse *
au_sse_new(size_t max_event)
{
	struct au_sse *s = au_xcalloc(1, sizeof *s);

	s->max = max_event ? max_event : DEF_MAX;
	s->retry = -1;
	au_buf_adds(&s->data, "");
	au_buf_adds(&s->type, "");
	au_buf_adds(&s->idbuf, "");
	au_buf_adds(&s->lastid, "");
	return s;
}

void
au_sse_free(struct au_sse *s)
{
	if (s == NULL)
		return;
	au_buf_free(&s->line);
	au_buf_free(&s->data);
	au_buf_free(&s->type);
	au_buf_free(&s->idbuf);
	au_buf_free(&s->lastid);
	free(s);
}

const char *
au_sse_last_id(const struct au_sse *s)
{
	return s->idseen ? s->lastid.s : NULL;
}

long long
au_sse_retry(const struct au_sse *s)
{
	return s->retry;
}

static int
toobig(const struct au_sse *s)
{
	return au_seterr(-1, "an event over %zu bytes",
	    s->max);
}

/* "retry": digits alone set the reconnection time; anything else is
 * ignored, and so is a time beyond a day. */
static void
retry(struct au_sse *s, const char *v, size_t n)
{
	long long ms = 0;
	size_t i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' || ms > 86400000)
			return;
		ms = ms * 10 + (v[i] - '0');
	}
	if (ms <= 86400000)
		s->retry = ms;
}

/* Hand the event gathered so far to cb, and begin the next. */
static int
dispatch(struct au_sse *s, int (*cb)(const char *, const char *, size_t,
    void *), void *arg)
{
	int rc = 0;

	s->lastid.len = 0;
	au_buf_add(&s->lastid, s->idbuf.s, s->idbuf.len);
	s->idseen |= s->idread;
	s->idread = 0;
	if (s->data.len > 0) {
		/* Less the LF after the last data line. */
		s->data.s[--s->data.len] = '\0';
		rc = cb(s->type.len ? s->type.s : "message", s->data.s,
		    s->data.len, arg);
	}
	s->data.len = 0;
	s->data.s[0] = '\0';
	s->type.len = 0;
	s->type.s[0] = '\0';
	return rc;
}

/* One line of n bytes at p, its end of line left out. */
static int
line(struct au_sse *s, const char *p, size_t n, int (*cb)(const char *,
    const char *, size_t, void *), void *arg)
{
	const char *colon, *v;
	size_t fn, vn;

	if (n == 0)
		return dispatch(s, cb, arg);
	if (p[0] == ':')
		return 0;
	colon = memchr(p, ':', n);
	fn = colon ? (size_t)(colon - p) : n;
	v = colon ? colon + 1 : p + n;
	vn = n - (size_t)(v - p);
	if (vn > 0 && *v == ' ') {
		v++;
		vn--;
	}
	if (fn == 4 && memcmp(p, "data", 4) == 0) {
		if (s->data.len + vn > s->max)
			return toobig(s);
		au_buf_add(&s->data, v, vn);
		au_buf_addc(&s->data, '\n');
	} else if (fn == 5 && memcmp(p, "event", 5) == 0) {
		s->type.len = 0;
		au_buf_add(&s->type, v, vn);
	} else if (fn == 2 && memcmp(p, "id", 2) == 0) {
		/* An id with a NUL in it is ignored, as the standard says. */
		if (memchr(v, '\0', vn) == NULL) {
			s->idbuf.len = 0;
			au_buf_add(&s->idbuf, v, vn);
			s->idread = 1;
		}
	} else if (fn == 5 && memcmp(p, "retry", 5) == 0) {
		retry(s, v, vn);
	}
	/* Fields nobody knows: dropped. */
	return 0;
}

int
au_sse_feed(struct au_sse *s, const char *buf, size_t len,
    int (*cb)(const char *event, const char *data, size_t len, void *arg),
    void *arg)
{
	const char *end = buf + len, *p;
	int rc;

	/* The byte order mark, which may come split across pieces too. */
	while (s->bom < 3 && buf < end) {
		if (*buf != bom[s->bom]) {
			/* Not a BOM after all: what matched is text. */
			au_buf_add(&s->line, bom, (size_t)s->bom);
			s->bom = 3;
			break;
		}
		buf++;
		s->bom++;
	}
	while (buf < end) {
		if (s->cr) {
			s->cr = 0;
			if (*buf == '\n') {
				buf++;
				continue;
			}
		}
		for (p = buf; p < end && *p != '\n' && *p != '\r'; p++)
			;
		if (s->line.len + (size_t)(p - buf) > s->max + LINE_SLACK)
			return toobig(s);
		if (p == end) {
			au_buf_add(&s->line, buf, (size_t)(p - buf));
			return 0;
		}
		if (s->line.len > 0) {
			au_buf_add(&s->line, buf, (size_t)(p - buf));
			rc = line(s, s->line.s, s->line.len, cb, arg);
			s->line.len = 0;
		} else {
			rc = line(s, buf, (size_t)(p - buf), cb, arg);
		}
		if (rc != 0)
			return rc;
		s->cr = *p == '\r';
		buf = p + 1;
	}
	return 0;
}
