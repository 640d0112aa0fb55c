/*
 * ndjson.c - records in and out.  Input comes from the operands in turn (or
 * standard input), one JSON object a line, with each record's file and line
 * kept for messages; a bad line is reported and skipped, never fatal.
 * Output is compact JSON a line, flushed per record on pipes and terminals,
 * and a failed write (a full disk) ends the program with 74.
 *
 * Parsing JSON with libjq is most of the cost of reading, so it happens
 * off the caller's thread: a reader thread reads and splits lines, parses
 * them with helper threads (one per spare processor), and hands the
 * results over in batches, one per read(2), so that a pipeline still sees
 * each line as soon as it arrives.  Complaints travel in the same batches
 * and are printed in input order, as if all of it happened in one thread.
 * A caller that polls other descriptors anyway (au_in_polled) reads in
 * its own thread instead, by the same turns of the reader, when the
 * reader's hand-over would cost more than the parsing it spares: a thread
 * woken for every line that comes one at a time.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agentutils.h"

struct au_opts au_opts = { NULL, NULL, 16u << 20, -1 };

#define CHUNK (256u << 10)
#define MAXQUEUE 16		/* batches parsed ahead at most */
#define MAXHELPERS 3
#define SPLIT 256		/* lines in a batch worth sharing out */

/* One line the reader found and what became of it: a record, or a
 * complaint to print. */
struct item {
	const char *raw;	/* the line, until it is parsed */
	size_t len;
	jv v;			/* the record, or jv_invalid() */
	const char *file;
	long line;
	char *msg;		/* "file:line: what", or NULL */
	char *copy;		/* the line as read, with au_in_keepraw */
	int code;		/* the exit code the complaint means */
	int ok;			/* a record, in v and prep */
	void *prep;
};

/* What to do with each record as it is parsed. */
struct prepare {
	void *(*fn)(jv, void *);
	void *(*text)(const char *, size_t, void *);
	void *arg;
	int drop, keepraw;
	size_t maxline;
};

struct batch {
	struct item *items;
	size_t n, cap;
	struct batch *next;
};

/* A helper thread parses the lines it is given. */
struct helper {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct item *items;
	size_t n;
	int busy, quit;
	const struct prepare *prep;
};

struct au_in {
	/* The reading thread's own. */
	char *const *files;
	int nfiles, next;	/* files to open, and the next one's index */
	int fd, ownfd;
	const char *name;
	long line;
	char *buf;
	size_t cap, start, end;	/* unread data is buf[start, end) */
	int eof, skipping;
	struct prepare prep;
	struct batch *cur;	/* being filled */
	size_t parsed;		/* items of cur parsed so far */
	struct helper helpers[MAXHELPERS];
	int nhelpers;		/* -1 until started */

	/* Shared, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t ready, room;
	void (*notify)(void *);	/* au_in_notify */
	void *notify_arg;
	struct batch *head, *tail;
	struct batch *spare;	/* emptied by the caller, for the reader */
	int queued, done, closing;
	int wake[2];		/* au_in_close's word to the reader */

	/* The caller's own. */
	pthread_t thread;
	int started;
	int polled;		/* au_in_polled: no reading thread */
	struct batch *take;	/* being handed out */
	size_t ti;
	int status;
};

static struct au_in *
newin(void)
{
	struct au_in *in = au_xcalloc(1, sizeof *in);

	in->fd = -1;
	in->prep.maxline = au_opts.max_line ? au_opts.max_line : 16u << 20;
	in->cap = CHUNK;
	in->buf = au_xmalloc(in->cap);
	in->nhelpers = -1;
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->ready, NULL);
	pthread_cond_init(&in->room, NULL);
	if (pipe2(in->wake, O_CLOEXEC) != 0)
		au_die(EX_SOFTWARE, "pipe:");
	return in;
}

struct au_in *
au_in_open(char *const *files, int nfiles)
{
	static char *const dash[] = { "-" };
	struct au_in *in = newin();

	in->files = nfiles > 0 ? files : dash;
	in->nfiles = nfiles > 0 ? nfiles : 1;
	return in;
}

struct au_in *
au_in_fdopen(int fd, const char *name)
{
	struct au_in *in = newin();

	in->fd = fd;
	in->name = name;
	return in;
}

/* A batch to fill: one the caller is done with, or a new one.  A new
 * one's array grew item by item for every read, page faults and copies,
 * and at that size it came from mmap(2): every batch handed over cost
 * the caller a munmap(2) with its TLB shoot-downs. */
static struct batch *
newbatch(struct au_in *in)
{
	struct batch *b;

	pthread_mutex_lock(&in->mu);
	if ((b = in->spare) != NULL)
		in->spare = b->next;
	pthread_mutex_unlock(&in->mu);
	if (b == NULL)
		return au_xcalloc(1, sizeof *b);
	b->next = NULL;
	return b;
}

static struct item *
additem(struct au_in *in)
{
	struct batch *b = in->cur;
	struct item *it;

	if (b == NULL)
		b = in->cur = newbatch(in);
	b->items = au_grow(b->items, &b->cap, b->n + 1, sizeof *b->items);
	it = &b->items[b->n++];
	memset(it, 0, sizeof *it);
	it->v = jv_invalid();
	it->file = in->name;
	it->line = in->line;
	return it;
}

/* Make it a complaint: "file:line: what", or "file: what" for line 0. */
static void
complain(struct item *it, int code, const char *fmt, ...) AU_PRINTF(3, 4);

static void
complain(struct item *it, int code, const char *fmt, ...)
{
	struct au_buf b = AU_BUF_INIT;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (it->line > 0)
		au_buf_addf(&b, "%s:%ld: %s", au_esc(it->file), it->line, msg);
	else
		au_buf_addf(&b, "%s: %s", au_esc(it->file), msg);
	it->msg = b.s;
	it->code = code;
	it->raw = NULL;
}

/* jq says "Unfinished JSON term at EOF at line 1, column 6 (while parsing
 * '...')"; we say "invalid JSON: unfinished JSON term (column 6)". */
static void
badjson(struct item *it, jv msg)
{
	const char *m = jv_get_kind(msg) == JV_KIND_STRING ?
	    jv_string_value(msg) : "parse error";
	const char *cut = strstr(m, " (while parsing");
	const char *at = strstr(m, " at EOF");
	const char *col = strstr(m, "column ");
	size_t n;

	if (at == NULL || (cut != NULL && at > cut))
		at = strstr(m, " at line ");
	n = at ? (size_t)(at - m) : cut ? (size_t)(cut - m) : strlen(m);
	if (col != NULL && (cut == NULL || col < cut))
		complain(it, EX_DATAERR, "invalid JSON: %c%.*s (column %ld)",
		    tolower((unsigned char)m[0]), (int)n - 1, m + 1,
		    strtol(col + 7, NULL, 10));
	else
		complain(it, EX_DATAERR, "invalid JSON: %c%.*s",
		    tolower((unsigned char)m[0]), (int)n - 1, m + 1);
	jv_free(msg);
}

/* Parse the line of an item into its record or its complaint. */
static void
parse(struct item *it, const struct prepare *pp)
{
	size_t maxline = pp->maxline;
	const char *s = it->raw, *what;
	size_t n = it->len, at;
	jv v;

	it->raw = NULL;
	if (n > maxline) {
		complain(it, EX_DATAERR, "line too long (more than %zu bytes)",
		    maxline);
		return;
	}
	if ((what = au_json_check(s, n, &at)) != NULL) {
		complain(it, EX_DATAERR, "%s (column %zu)", what, at + 1);
		return;
	}
	if (pp->text != NULL && pp->drop &&
	    (it->prep = pp->text(s, n, pp->arg)) != NULL) {
		it->ok = 1;
		if (pp->keepraw)
			it->copy = au_xstrndup(s, n);
		return;
	}
	v = jv_parse_sized(s, (int)n);
	if (!jv_is_valid(v)) {
		badjson(it, jv_invalid_get_msg(v));
		return;
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		complain(it, EX_DATAERR, "not a JSON object (found %s)",
		    au_jv_kind(v));
		jv_free(v);
		return;
	}
	it->ok = 1;
	if (pp->keepraw)
		it->copy = au_xstrndup(s, n);
	if (pp->fn != NULL)
		it->prep = pp->fn(v, pp->arg);
	if (pp->drop)
		jv_free(v);
	else
		it->v = v;
}

static void
parse_range(struct item *items, size_t n, const struct prepare *pp)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (items[i].raw != NULL)
			parse(&items[i], pp);
}

static void *
helper_main(void *arg)
{
	struct helper *h = arg;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!h->busy && !h->quit)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->quit)
			break;
		pthread_mutex_unlock(&h->mu);
		parse_range(h->items, h->n, h->prep);
		pthread_mutex_lock(&h->mu);
		h->busy = 0;
		pthread_cond_signal(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static void
start_helpers(struct au_in *in)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct helper *h;
	int i;

	in->nhelpers = 0;
	for (i = 0; i < MAXHELPERS && i < ncpu - 1; i++) {
		h = &in->helpers[i];
		pthread_mutex_init(&h->mu, NULL);
		pthread_cond_init(&h->cv, NULL);
		h->prep = &in->prep;
		if (pthread_create(&h->thread, NULL, helper_main, h) != 0) {
			pthread_mutex_destroy(&h->mu);
			pthread_cond_destroy(&h->cv);
			break;
		}
		in->nhelpers++;
	}
}

/* Parse the lines of the current batch not parsed yet, sharing them out
 * when there are enough to be worth it. */
static void
parse_pending(struct au_in *in)
{
	struct batch *b = in->cur;
	struct item *items;
	size_t n, share, off;
	int i, k;

	if (b == NULL || in->parsed == b->n)
		return;
	items = b->items + in->parsed;
	n = b->n - in->parsed;
	in->parsed = b->n;
	if (n >= SPLIT && in->nhelpers < 0)
		start_helpers(in);
	k = n >= SPLIT && in->nhelpers > 0 ? in->nhelpers + 1 : 1;
	share = n / (size_t)k;
	for (i = 1, off = share; i < k; i++, off += share) {
		struct helper *h = &in->helpers[i - 1];

		pthread_mutex_lock(&h->mu);
		h->items = items + off;
		h->n = i == k - 1 ? n - off : share;
		h->busy = 1;
		pthread_cond_signal(&h->cv);
		pthread_mutex_unlock(&h->mu);
	}
	parse_range(items, share, &in->prep);
	for (i = 1; i < k; i++) {
		struct helper *h = &in->helpers[i - 1];

		pthread_mutex_lock(&h->mu);
		while (h->busy)
			pthread_cond_wait(&h->cv, &h->mu);
		pthread_mutex_unlock(&h->mu);
	}
}

/* Free what the items of b hold, keeping the array. */
static void
clearbatch(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		jv_free(b->items[i].v);
		free(b->items[i].msg);
		free(b->items[i].copy);
		free(b->items[i].prep);	/* never handed out */
	}
	b->n = 0;
}

static void
freebatch(struct batch *b)
{
	if (b == NULL)
		return;
	clearbatch(b);
	free(b->items);
	free(b);
}

/* Queue b for the caller, waiting while the queue is full; 0 when the
 * caller has closed the input instead (b is freed then). */
static int
enqueue(struct au_in *in, struct batch *b)
{
	int open;

	pthread_mutex_lock(&in->mu);
	while (in->queued >= MAXQUEUE && !in->closing)
		pthread_cond_wait(&in->room, &in->mu);
	if ((open = !in->closing)) {
		if (in->tail)
			in->tail->next = b;
		else
			in->head = b;
		in->tail = b;
		in->queued++;
		pthread_cond_signal(&in->ready);
	}
	pthread_mutex_unlock(&in->mu);
	if (open && in->notify != NULL)
		in->notify(in->notify_arg);
	if (!open)
		freebatch(b);
	return open;
}

/* Parse what is pending and hand the batch to the caller; 0 when the
 * caller has closed the input.  Lines point into buf: this must come
 * before buf moves. */
static int
publish(struct au_in *in)
{
	struct batch *b = in->cur;

	if (b == NULL)
		return 1;
	parse_pending(in);
	in->cur = NULL;
	in->parsed = 0;
	return enqueue(in, b);
}

/* Move on to the next operand that opens; 0 when none is left. */
static int
nextfile(struct au_in *in)
{
	const char *f;
	struct stat st;

	if (in->ownfd && in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	in->ownfd = 0;
	while (in->files != NULL && in->next < in->nfiles) {
		f = in->files[in->next++];
		in->line = 0;
		in->start = in->end = 0;
		in->eof = in->skipping = 0;
		if (strcmp(f, "-") == 0) {
			in->fd = STDIN_FILENO;
			in->name = "<stdin>";
			return 1;
		}
		in->name = f;
		in->fd = open(f, O_RDONLY | O_CLOEXEC);
		if (in->fd >= 0 && fstat(in->fd, &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			close(in->fd);
			in->fd = -1;
			errno = EISDIR;
		}
		if (in->fd >= 0) {
			in->ownfd = 1;
			return 1;
		}
		complain(additem(in), EX_NOINPUT, "%s", strerror(errno));
	}
	return 0;
}

/* A line to parse, unless it is blank. */
static void
addline(struct au_in *in, const char *s, size_t n)
{
	struct item *it;
	size_t i;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	for (i = 0; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if (i == n)
		return;
	it = additem(in);
	it->raw = s;
	it->len = n;
}

/* Read more into the buffer, waiting up to ms (-1: as long as it takes)
 * for it: 1, 2 when nothing came in time, 0 at end of file or on error,
 * -1 when the caller has closed the input (it says so on the wake pipe,
 * which also ends a wait for a writer that never comes). */
static int
fill(struct au_in *in, int ms)
{
	struct pollfd pfd[2] = { { in->fd, POLLIN, 0 }, { in->wake[0], POLLIN,
	    0 } };
	ssize_t r;

	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	if (in->cap - in->end < CHUNK / 2) {
		in->cap *= 2;
		in->buf = au_xrealloc(in->buf, in->cap);
	}
	while ((r = poll(pfd, 2, ms)) < 0)
		if (errno != EINTR)
			break;
	if (r == 0)
		return 2;
	if (pfd[1].revents != 0)
		return -1;
	do
		r = read(in->fd, in->buf + in->end, in->cap - in->end);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		complain(additem(in), EX_IOERR, "%s", strerror(errno));
		return 0;
	}
	in->end += (size_t)r;
	return r > 0;
}

/* One turn of reading: hand the complete lines read so far to the
 * caller, or else read more, waiting up to ms (-1: as long as it takes):
 * 1, 2 when nothing came in time, 0 once every input has ended or the
 * caller has closed the input. */
static int
turn(struct au_in *in, int ms)
{
	char *s, *nl;
	size_t n;
	int r;

	if (in->fd < 0 && !nextfile(in)) {
		publish(in);
		return 0;
	}
	/* Every complete line in the buffer. */
	for (;;) {
		s = in->buf + in->start;
		n = in->end - in->start;
		if ((nl = memchr(s, '\n', n)) == NULL)
			break;
		in->start += (size_t)(nl - s) + 1;
		in->line++;
		if (in->skipping)
			in->skipping = 0;
		else
			addline(in, s, (size_t)(nl - s));
	}
	if (n > in->prep.maxline && !in->skipping) {
		/* Say so now, and drop the rest of the line. */
		in->line++;
		complain(additem(in), EX_DATAERR, "line too long (more "
		    "than %zu bytes)", in->prep.maxline);
		in->line--;
		in->skipping = 1;
	}
	if (in->skipping)
		in->start = in->end;
	if (in->cur != NULL)
		return publish(in);
	if (!in->eof && (r = fill(in, ms)) != 0)
		return r < 0 ? 0 : r;
	in->eof = 1;
	if (in->end > in->start) {
		/* The last line has no newline. */
		s = in->buf + in->start;
		n = in->end - in->start;
		in->start = in->end;
		in->line++;
		if (!in->skipping)
			addline(in, s, n);
	}
	if (!publish(in) || in->files == NULL)
		return 0;
	if (in->ownfd)
		close(in->fd);
	in->fd = -1;
	in->ownfd = 0;
	return 1;
}

/* No more will come: say so to the caller. */
static void
finish(struct au_in *in)
{
	pthread_mutex_lock(&in->mu);
	in->done = 1;
	pthread_cond_signal(&in->ready);
	pthread_mutex_unlock(&in->mu);
	if (in->notify != NULL)
		in->notify(in->notify_arg);
}

/* The reading thread: every input in turn, line by line. */
static void *
reader(void *arg)
{
	struct au_in *in = arg;

	while (turn(in, -1) != 0)
		;
	finish(in);
	return NULL;
}

static void
worse(struct au_in *in, int code)
{
	/* Missing input and read errors outrank bad lines. */
	if (in->status == 0 || (in->status == EX_DATAERR && code != EX_DATAERR))
		in->status = code;
}

void
au_in_reject(struct au_in *in, const struct au_rec *rec, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	au_errat(rec->file, rec->line, "%s", msg);
	worse(in, EX_DATAERR);
}


static void
start(struct au_in *in)
{
	int rc;

	if (in->started || in->polled)
		return;
	if ((rc = pthread_create(&in->thread, NULL, reader, in)) != 0) {
		errno = rc;
		au_die(EX_SOFTWARE, "cannot start the reader:");
	}
	in->started = 1;
}

/* Hand out the next batch queued, if there is one: whether there was. */
static int
next_batch(struct au_in *in)
{
	struct batch *used = in->take;

	if (used != NULL)
		clearbatch(used);
	in->ti = 0;
	pthread_mutex_lock(&in->mu);
	if (used != NULL) {
		used->next = in->spare;
		in->spare = used;
	}
	if ((in->take = in->head) != NULL) {
		if ((in->head = in->take->next) == NULL)
			in->tail = NULL;
		in->queued--;
		pthread_cond_signal(&in->room);
	}
	pthread_mutex_unlock(&in->mu);
	return in->take != NULL;
}

int
au_in_next(struct au_in *in, struct au_rec *rec)
{
	struct item *it;

	start(in);
	for (;;) {
		while (in->take != NULL && in->ti < in->take->n) {
			it = &in->take->items[in->ti++];
			if (it->msg != NULL) {
				au_err("%s", it->msg);
				worse(in, it->code);
				continue;
			}
			if (!it->ok)
				continue;
			rec->v = it->v;
			rec->file = it->file;
			rec->line = it->line;
			rec->prep = it->prep;
			rec->raw = it->copy;
			rec->rawlen = it->len;
			it->v = jv_invalid();
			it->prep = NULL;
			return 1;
		}
		if (in->polled)
			while (in->head == NULL && !in->done)
				if (turn(in, -1) == 0)
					finish(in);
		pthread_mutex_lock(&in->mu);
		while (in->head == NULL && !in->done)
			pthread_cond_wait(&in->ready, &in->mu);
		pthread_mutex_unlock(&in->mu);
		if (!next_batch(in))
			return 0;
	}
}

void
au_in_prepare(struct au_in *in, void *(*fn)(jv, void *), void *arg, int drop)
{
	in->prep.fn = fn;
	in->prep.arg = arg;
	in->prep.drop = drop;
}

void
au_in_prepare_text(struct au_in *in,
    void *(*text)(const char *, size_t, void *))
{
	in->prep.text = text;
}

void
au_in_notify(struct au_in *in, void (*fn)(void *), void *arg)
{
	in->notify = fn;
	in->notify_arg = arg;
}

void
au_in_keepraw(struct au_in *in)
{
	in->prep.keepraw = 1;
}

void
au_in_polled(struct au_in *in)
{
	in->polled = 1;
}

int
au_in_fd(const struct au_in *in)
{
	if (!in->polled || in->done || in->head != NULL || (in->take != NULL &&
	    in->ti < in->take->n))
		return -1;
	return in->fd;
}

/* Wait for a batch or the end until end (au_mono_ms) without a reading
 * thread: read what comes by then. */
static void
wait_polled(struct au_in *in, int64_t end)
{
	int64_t left;
	int r;

	while (in->head == NULL && !in->done) {
		left = end - au_mono_ms();
		r = turn(in, left < 0 ? 0 : left > INT_MAX ? INT_MAX :
		    (int)left);
		if (r == 0)
			finish(in);
		else if (r == 2)
			break;
	}
}

int
au_in_wait(struct au_in *in, int64_t ms)
{
	int64_t end = au_mono_ms() + ms;
	struct timespec until;
	struct item *it;
	int r;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += ms % 1000 * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	for (;;) {
		/* Report what au_in_next would, up to the next record: a
		 * batch of bad lines alone is not a record ready. */
		for (; in->take != NULL && in->ti < in->take->n; in->ti++) {
			it = &in->take->items[in->ti];
			if (it->ok)
				return 1;
			if (it->msg != NULL) {
				au_err("%s", it->msg);
				worse(in, it->code);
				free(it->msg);
				it->msg = NULL;
			}
		}
		if (in->polled)
			wait_polled(in, end);
		else {
			start(in);
			pthread_mutex_lock(&in->mu);
			while (in->head == NULL && !in->done && ms > 0 &&
			    pthread_cond_timedwait(&in->ready, &in->mu,
			    &until) == 0)
				;
			pthread_mutex_unlock(&in->mu);
		}
		if (!next_batch(in)) {
			pthread_mutex_lock(&in->mu);
			r = in->done;
			pthread_mutex_unlock(&in->mu);
			return r;
		}
	}
}

void
au_in_stop(struct au_in *in)
{
	/* The reader finds the word in fill(), before its next read, and
	 * ends as at the end of the input; what it queued stays queued. */
	start(in);
	if (write(in->wake[1], "", 1) < 0)
		au_die(EX_SOFTWARE, "wake pipe:");
}

int
au_in_status(const struct au_in *in)
{
	return in->status;
}

void
au_in_close(struct au_in *in)
{
	struct batch *b;
	int i;

	if (in == NULL)
		return;
	if (in->started) {
		/* The reader may be waiting for room, or in poll(2) for a
		 * writer that never comes: tell it on both. */
		pthread_mutex_lock(&in->mu);
		in->closing = 1;
		pthread_cond_signal(&in->room);
		pthread_mutex_unlock(&in->mu);
		if (write(in->wake[1], "", 1) < 0)
			au_die(EX_SOFTWARE, "wake pipe:");
		pthread_join(in->thread, NULL);
	}
	for (i = 0; i < in->nhelpers; i++) {
		struct helper *h = &in->helpers[i];

		pthread_mutex_lock(&h->mu);
		h->quit = 1;
		pthread_cond_signal(&h->cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->thread, NULL);
		pthread_mutex_destroy(&h->mu);
		pthread_cond_destroy(&h->cv);
	}
	while ((b = in->head) != NULL) {
		in->head = b->next;
		freebatch(b);
	}
	while ((b = in->spare) != NULL) {
		in->spare = b->next;
		freebatch(b);
	}
	freebatch(in->take);
	freebatch(in->cur);
	if (in->ownfd && in->fd >= 0)
		close(in->fd);
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->ready);
	pthread_cond_destroy(&in->room);
	close(in->wake[0]);
	close(in->wake[1]);
	free(in->buf);
	free(in);
}

/* ---- output ---- */

static int perline;
static struct au_buf outbuf;
static char stdio_buf[CHUNK];

void
au_out_init(void)
{
	struct stat st;

	perline = isatty(STDOUT_FILENO) ||
	    (fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)));
	/* glibc ignores the size unless it is given the buffer too. */
	setvbuf(stdout, stdio_buf, _IOFBF, sizeof stdio_buf);
}

static AU_NORETURN void
writefail(void)
{
	au_die(EX_IOERR, "write error:");
}

void
au_out_text(const char *s, size_t n)
{
	if (fwrite(s, 1, n, stdout) != n)
		writefail();
}

void
au_out_line(const char *s, size_t n)
{
	au_out_text(s, n);
	au_out_text("\n", 1);
	au_out_eol();
}

void
au_out_eol(void)
{
	if (perline && fflush(stdout) != 0)
		writefail();
}

void
au_out_rec(jv v)
{
	outbuf.len = 0;
	au_json_dump(&outbuf, v);
	au_buf_addc(&outbuf, '\n');
	au_out_text(outbuf.s, outbuf.len);
	au_out_eol();
}

void
au_out_close(void)
{
	au_buf_free(&outbuf);
	if (fflush(stdout) != 0 || ferror(stdout))
		writefail();
	if (fclose(stdout) != 0)
		writefail();
}
