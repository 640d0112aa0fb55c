/*
 * mcp.c - a client of the Model Context Protocol: the session (initialize
 * and version negotiation, tools/list page by page, tools/call with a
 * timeout that cancels, ping, the server's own requests and
 * notifications) over a transport that carries JSON-RPC messages: stdio,
 * the server as our child, a message per line on its stdin and stdout;
 * or Streamable HTTP, each message POSTed to the server's URL through
 * libcurl (loaded when first needed) and a request's reply one JSON body
 * or an event stream of messages, taken up again with a GET and
 * Last-Event-ID where the server ends it early.  Every wait is a poll
 * against a deadline, so that a server that floods, stalls, lies or dies
 * costs an error message and never a hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>

#include "agentutils.h"

extern char **environ;

#define DEF_TIMEOUT 30000
#define DEF_GRACE 2000
#define DEF_MAX_MSG ((size_t)16 << 20)
#define DEF_MAX_STDERR ((size_t)64 << 10)
#define CHUNK 65536
#define TIMEOUT EX_TEMPFAIL	/* a transport's recv at the deadline */
#define STOPPED (-1)		/* or when its watch said stop */

/* The versions we speak, the one we offer first. */
static const char *const versions[] = {
	AU_MCP_VERSION, "2025-06-18", "2025-03-26", "2024-11-05",
};
#define NVERSIONS (sizeof versions / sizeof versions[0])

/*
 * A way to carry JSON-RPC messages to a server and back.  send sends the
 * n bytes of one message, a request of ours if request is set (whose
 * answer recv is to wait for, and which may go out only then); recv
 * gives the next message by the deadline (au_mono_ms): 0 with *msg,
 * TIMEOUT, STOPPED when the watch w (or NULL) says so, or 69 when the
 * connection is over; agreed, if the transport has it, learns the
 * protocol version of the session; end closes it and tells how the
 * server ended; errtail gives the last of what the server said on the
 * side.  Failures are told with au_seterr.
 */
struct transport {
	int (*send)(void *t, const char *s, size_t n, int request);
	int (*recv)(void *t, int64_t deadline, struct au_watch *w, jv *msg);
	void (*agreed)(void *t, const char *version);
	int (*end)(void *t);
	const char *(*errtail)(void *t, size_t *len);
};

/* The keys of JSON-RPC messages, made once per session. */
enum { K_JSONRPC, K_ID, K_METHOD, K_PARAMS, K_RESULT, K_ERROR, K_CODE,
	K_MESSAGE, NKEYS };
static const char *const keys[NKEYS] = { "jsonrpc", "id", "method",
	"params", "result", "error", "code", "message" };

struct au_mcp {
	const struct transport *tr;
	void *t;
	jv key[NKEYS];
	struct au_buf msg;	/* the message being made */
	int request;		/* and whether it is a request */
	int64_t next_id;	/* our requests are numbered 1, 2, ... */
	jv sent;		/* requests sent, not yet waited for, by id */
	jv early;		/* answers to them come before their turn */
	int64_t timeout;
	char *over;		/* why the session is over, or NULL */
	const char *version;
	jv server;		/* the initialize result */
	void (*notify)(void *, const char *, jv);
	void (*note)(void *, const char *);
	void *arg;
	struct au_watch *watch;	/* while a tools/call waits, or NULL */
};

/* ---- the stdio transport ---------------------------------------------- */

struct stdio {
	struct au_proc p;	/* fd[]: its stdin, stdout, stderr, or -1 */
	struct au_buf in;	/* from its stdout, taken up to inoff */
	size_t inoff, scan;	/* scan: no newline before it */
	struct au_buf out;	/* to its stdin, written up to outoff */
	size_t outoff;
	struct au_buf err;	/* its stderr: the last max_err bytes */
	size_t passed;		/* bytes of its stderr copied to ours */
	size_t max_msg, max_err;
	int pass_err;
	int64_t grace;
	int code;		/* how it ended, or -1 while we do not know */
	int killed;		/* we ended it after it closed its output */
};

static void
closefd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Write what is queued for the server as far as its stdin takes it now.
 * A server that stopped reading gets nothing more: its answers, or its
 * end, will tell. */
static void
flush_out(struct stdio *t)
{
	ssize_t n;

	while (t->outoff < t->out.len) {
		n = send(t->p.fd[0], t->out.s + t->outoff,
		    t->out.len - t->outoff, MSG_NOSIGNAL);
		if (n > 0) {
			t->outoff += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
				closefd(&t->p.fd[0]);
			break;
		}
	}
	if (t->outoff == t->out.len || t->p.fd[0] < 0)
		t->out.len = t->outoff = 0;
}

/* Keep what the server wrote on its stderr: the last max_err bytes, and
 * the first max_err passed on to ours if asked. */
static void
read_err(struct stdio *t)
{
	char buf[CHUNK];
	size_t k;
	ssize_t n;

	n = read(t->p.fd[2], buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN ||
	    errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		closefd(&t->p.fd[2]);
		return;
	}
	au_buf_add(&t->err, buf, (size_t)n);
	if (t->err.len > 2 * t->max_err) {
		memmove(t->err.s, t->err.s + t->err.len - t->max_err,
		    t->max_err + 1);
		t->err.len = t->max_err;
	}
	if (!t->pass_err || t->passed > t->max_err)
		return;
	k = t->max_err - t->passed < (size_t)n ? t->max_err - t->passed :
	    (size_t)n;
	if (k > 0 && write(STDERR_FILENO, buf, k) < 0)
		t->pass_err = 0;
	t->passed += k;
	if (k < (size_t)n) {
		au_err("the server's stderr is over %zu bytes: the rest is "
		    "not shown", t->max_err);
		t->passed++;
	}
}

/* Read what the server wrote on its stdout, never holding more than one
 * message's limit of an unfinished line (and a chunk). */
static void
read_out(struct stdio *t)
{
	ssize_t n;

	if (t->inoff > 0) {
		memmove(t->in.s, t->in.s + t->inoff, t->in.len - t->inoff);
		t->in.len -= t->inoff;
		t->scan -= t->inoff;
		t->inoff = 0;
	}
	au_buf_grow(&t->in, CHUNK);
	n = read(t->p.fd[1], t->in.s + t->in.len, t->in.cap - t->in.len - 1);
	if (n > 0) {
		t->in.len += (size_t)n;
		t->in.s[t->in.len] = '\0';
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN &&
	    errno != EWOULDBLOCK)) {
		closefd(&t->p.fd[1]);
	}
}

/* Wait for something to happen until deadline, and do it: 0, TIMEOUT,
 * STOPPED when w (or NULL) says so, or 70 when poll fails. */
static int
pump(struct stdio *t, int64_t deadline, struct au_watch *w)
{
	struct pollfd pfd[4];
	int nfd = 0, slot[3] = { -1, -1, -1 }, ws = -1, i, r;
	int64_t left = deadline - au_mono_ms();

	if (left <= 0)
		return TIMEOUT;
	for (i = 0; i < 3; i++) {
		if (t->p.fd[i] < 0 || (i == 0 && t->outoff == t->out.len))
			continue;
		slot[i] = nfd;
		pfd[nfd].fd = t->p.fd[i];
		pfd[nfd].events = i == 0 ? POLLOUT : POLLIN;
		pfd[nfd++].revents = 0;
	}
	if (w != NULL && w->fd >= 0) {
		ws = nfd;
		pfd[nfd].fd = w->fd;
		pfd[nfd].events = POLLIN;
		pfd[nfd++].revents = 0;
	}
	r = poll(pfd, (nfds_t)nfd, left > INT_MAX ? INT_MAX : (int)left);
	if (r < 0 && errno != EINTR)
		return au_seterr(EX_SOFTWARE, "poll:");
	if (r <= 0)
		return r == 0 ? TIMEOUT : 0;
	if (slot[2] >= 0 && pfd[slot[2]].revents)
		read_err(t);
	if (slot[0] >= 0 && pfd[slot[0]].revents)
		flush_out(t);
	if (slot[1] >= 0 && pfd[slot[1]].revents)
		read_out(t);
	if (ws >= 0 && pfd[ws].revents && w->fn(w->arg)) {
		w->stopped = 1;
		return STOPPED;
	}
	return 0;
}

/* The last line of the server's stderr, quoted, or NULL. */
static const char *
last_words(struct stdio *t)
{
	const char *s = t->err.s, *e, *b;
	char line[256];
	size_t n;

	if (t->err.len == 0)
		return NULL;
	e = s + t->err.len;
	while (e > s && (e[-1] == '\n' || e[-1] == '\r'))
		e--;
	for (b = e; b > s && b[-1] != '\n'; b--)
		;
	if (b == e)
		return NULL;
	n = (size_t)(e - b) < sizeof line - 1 ? (size_t)(e - b) :
	    sizeof line - 1;
	memcpy(line, b, n);
	line[n] = '\0';
	return au_quote(line);
}

/* The server closed its output: wait for its end (draining its stderr
 * first, for its last words) and say what became of it. */
static int
gone(struct stdio *t)
{
	int64_t deadline = au_mono_ms() + t->grace;
	const char *words;
	char how[64];

	if (t->code < 0) {
		while (t->p.fd[2] >= 0 && pump(t, deadline, NULL) == 0)
			;
		t->code = au_proc_wait(&t->p, t->grace, t->grace, &t->killed);
	}
	if (t->killed)
		snprintf(how, sizeof how, "closed its output");
	else if (t->code > 128)
		snprintf(how, sizeof how, "was killed by signal %d",
		    t->code - 128);
	else
		snprintf(how, sizeof how, "exited with status %d", t->code);
	words = last_words(t);
	return au_seterr(EX_UNAVAILABLE, "the server %s%s%s", how,
	    words ? "; its stderr ends " : "", words ? words : "");
}

/* A request waits to be written until its answer is waited for, so that
 * the requests sent together go in one write. */
static int
stdio_send(void *vt, const char *s, size_t n, int request)
{
	struct stdio *t = vt;

	if (t->p.fd[0] < 0)
		return 0;
	au_buf_add(&t->out, s, n);
	au_buf_addc(&t->out, '\n');
	if (!request)
		flush_out(t);
	return 0;
}

/* One line as a JSON-RPC message: 0, or 69 when it is not JSON. */
static int
parse(const char *s, size_t n, jv *msg)
{
	const char *what;
	char head[128];
	size_t at;

	if ((what = au_json_check(s, n, &at)) == NULL) {
		*msg = jv_parse_sized(s, (int)n);
		if (jv_is_valid(*msg))
			return 0;
		what = "invalid JSON";
		jv_free(*msg);
		at = 0;
	}
	snprintf(head, sizeof head, "%.*s", n < sizeof head ? (int)n :
	    (int)sizeof head - 1, s);
	return au_seterr(EX_UNAVAILABLE, "the server sent a malformed "
	    "message: %s at byte %zu of %s", what, at + 1, au_quote(head));
}

static int
blank(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == 0;
}

static int
stdio_recv(void *vt, int64_t deadline, struct au_watch *w, jv *msg)
{
	struct stdio *t = vt;
	char *s, *nl;
	size_t n;
	int rc;

	for (;;) {
		nl = t->scan < t->in.len ? memchr(t->in.s + t->scan, '\n',
		    t->in.len - t->scan) : NULL;
		if (nl != NULL) {
			s = t->in.s + t->inoff;
			n = (size_t)(nl - s);
			t->inoff = t->scan = (size_t)(nl - t->in.s) + 1;
			if (n > t->max_msg)
				break;
			if (n > 0 && s[n - 1] == '\r')
				n--;
			if (blank(s, n))
				continue;
			return parse(s, n, msg);
		}
		t->scan = t->in.len;
		if (t->in.len - t->inoff > t->max_msg)
			break;
		if (t->p.fd[1] < 0)
			return gone(t);
		if (t->outoff < t->out.len)
			flush_out(t);
		if ((rc = pump(t, deadline, w)) != 0)
			return rc;
	}
	t->in.len = t->inoff = t->scan = 0;
	return au_seterr(EX_UNAVAILABLE, "the server sent a message over "
	    "%zu bytes", t->max_msg);
}

static int
stdio_end(void *vt)
{
	struct stdio *t = vt;
	int code = t->code;

	if (code < 0) {
		if (t->p.fd[0] >= 0)
			flush_out(t);
		closefd(&t->p.fd[0]);
		code = au_proc_wait(&t->p, t->grace, t->grace, NULL);
	}
	au_buf_free(&t->in);
	au_buf_free(&t->out);
	au_buf_free(&t->err);
	free(t);
	return code;
}

static const char *
stdio_errtail(void *vt, size_t *len)
{
	struct stdio *t = vt;
	size_t n = t->err.len < t->max_err ? t->err.len : t->max_err;

	*len = n;
	return t->err.s ? t->err.s + t->err.len - n : "";
}

static const struct transport stdio_transport = {
	stdio_send, stdio_recv, NULL, stdio_end, stdio_errtail,
};

/* Our environment with the NAME=VALUE strings of extra set over it; the
 * array is malloc'd, the strings are borrowed. */
static char **
mkenv(char *const *extra)
{
	size_t n, k, i, j, len;
	const char *eq;
	char **env;

	for (n = 0; environ[n] != NULL; n++)
		;
	for (k = 0; extra[k] != NULL; k++)
		;
	env = au_xcalloc(n + k + 1, sizeof *env);
	memcpy(env, environ, n * sizeof *env);
	for (j = 0; j < k; j++) {
		eq = strchr(extra[j], '=');
		len = eq ? (size_t)(eq - extra[j]) + 1 : strlen(extra[j]) + 1;
		for (i = 0; i < n && strncmp(env[i], extra[j], len) != 0; i++)
			;
		env[i] = extra[j];
		if (i == n)
			n++;
	}
	return env;
}

/*
 * The server's stdin is a socket, not a pipe: send(MSG_NOSIGNAL) to a
 * server gone fails with EPIPE without raising SIGPIPE, in one system
 * call, where a pipe would need the signal blocked and unblocked around
 * every write (and a call costs a few system calls in all).  A program
 * reads a stream socket on its stdin as it reads a pipe.
 */
static int
stdio_start(const struct au_mcp_conf *c, struct stdio **tp)
{
	struct au_spawn sp = { c->argv, NULL, c->dir,
	    { -1, AU_FD_PIPE, AU_FD_PIPE }, 1, NULL, 0, c->cgroup };
	struct stdio *t;
	char **env, why[900];
	int rc, i, sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return au_seterr(EX_SOFTWARE, "socketpair:");
	sp.fd[0] = sv[1];
	t = au_xcalloc(1, sizeof *t);
	env = c->env && !c->envp ? mkenv(c->env) : NULL;
	sp.envp = c->envp ? c->envp : env;
	rc = au_spawn(&sp, &t->p);
	free(env);
	close(sv[1]);
	if (rc != 0) {
		snprintf(why, sizeof why, "%s", au_errmsg());
		close(sv[0]);
		free(t);
		return au_seterr(EX_UNAVAILABLE, "cannot start the server: "
		    "%s", why);
	}
	t->p.fd[0] = sv[0];
	shutdown(sv[0], SHUT_RD);
	for (i = 0; i < 3; i++)
		fcntl(t->p.fd[i], F_SETFL, fcntl(t->p.fd[i], F_GETFL) |
		    O_NONBLOCK);
	t->max_msg = c->max_msg ? c->max_msg : DEF_MAX_MSG;
	/* jv_parse_sized takes an int. */
	if (t->max_msg > INT_MAX - 1)
		t->max_msg = INT_MAX - 1;
	t->max_err = c->max_stderr ? c->max_stderr : DEF_MAX_STDERR;
	t->pass_err = c->pass_stderr;
	t->grace = c->grace_ms > 0 ? c->grace_ms : DEF_GRACE;
	t->code = -1;
	*tp = t;
	return 0;
}

/* ---- the Streamable HTTP transport ------------------------------------ */

/*
 * libcurl, loaded by the first HTTP transport.  Linked, it and the thirty
 * libraries it needs would be mapped into every tg- program at start:
 * some nine million instructions, a third of a sandboxed tg-invoke call,
 * for a transport most configurations never use.  (systemd loads its
 * optional libraries the same way.)
 */
static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	CURLcode (*easy_perform)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	void (*easy_cleanup)(CURL *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int,
	    int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} cu;
static pthread_once_t cu_once = PTHREAD_ONCE_INIT;
static char cu_err[256];

static void
cu_load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

#define CU(f) (*(void **)&cu.f = dlsym(h, "curl_" #f)) == NULL
	if (h == NULL) {
		snprintf(cu_err, sizeof cu_err, "%s", dlerror());
		return;
	}
	if (CU(global_init) || CU(easy_init) || CU(easy_setopt) ||
	    CU(easy_getinfo) || CU(easy_perform) || CU(easy_strerror) ||
	    CU(easy_cleanup) || CU(multi_init) || CU(multi_add_handle) ||
	    CU(multi_remove_handle) || CU(multi_perform) || CU(multi_poll) ||
	    CU(multi_info_read) || CU(multi_cleanup) || CU(slist_append) ||
	    CU(slist_free_all)) {
		snprintf(cu_err, sizeof cu_err, "%s", dlerror());
		cu.global_init = NULL;
		return;
	}
#undef CU
	if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(cu_err, sizeof cu_err, "curl_global_init failed");
		cu.global_init = NULL;
	}
}

/*
 * A request of ours is POSTed on the main handle, in a multi handle so
 * that its reply is read as it comes, against our deadline: one JSON
 * body, or an event stream whose messages (the server's notifications
 * and requests, then the answer) are handed out one by one.  Our
 * notifications and answers, which the server acknowledges with 202 and
 * nothing more, and the DELETE that ends the session go on the side
 * handle, each within the grace period: they may have to go while a
 * reply is still streaming in.  Each handle keeps its connection alive
 * from one message to the next.  A reply stream that ends or breaks
 * without the answer, once it has given an event id, is resumed as the
 * protocol (2025-11-25) has it: a GET on the main handle with
 * Last-Event-ID, after the wait its last "retry" asked for (a second if
 * none), until the answer comes or the request's deadline.
 */
enum { R_NONE, R_JSON, R_SSE, R_STATUS, R_BADTYPE };

struct http {
	CURLM *multi;
	CURL *main, *side;
	char *url;
	struct curl_slist *base;	/* the configured headers and ours */
	struct curl_slist *hdrs;	/* and the session's, made again */
	int dirty;			/* when these change */
	char *session;		/* Mcp-Session-Id */
	char *version;		/* MCP-Protocol-Version */
	int active;		/* a request's reply is under way */
	int answered;		/* it held an answer */
	int reply;		/* R_*: what it is */
	struct au_buf in;	/* a JSON reply, or the start of an error's */
	struct au_sse *sse;
	char *lastid;		/* the reply stream's last event id */
	long long retry;	/* the wait it asked for before a resumption */
	int64_t resume_at;	/* when to take it up again; 0: not to */
	struct curl_slist *gethdrs;	/* the resumption's headers */
	jv *queue;		/* messages read, not handed out yet */
	size_t qhead, qlen, qcap;
	char *err;		/* why the connection is over, or NULL */
	char errbuf[CURL_ERROR_SIZE];
	size_t max_msg;
	int64_t grace;
};

static void
http_queue(struct http *t, jv msg)
{
	if (jv_get_kind(msg) == JV_KIND_OBJECT)
		t->answered |= !jv_object_has(jv_copy(msg),
		    jv_string("method")) && (jv_object_has(jv_copy(msg),
		    jv_string("result")) || jv_object_has(jv_copy(msg),
		    jv_string("error")));
	if (t->qhead > 0 && t->qhead == t->qlen)
		t->qhead = t->qlen = 0;
	t->queue = au_grow(t->queue, &t->qcap, t->qlen + 1, sizeof *t->queue);
	t->queue[t->qlen++] = msg;
}

/* The connection is over: why, from au_errmsg(), unless known already;
 * 0 for curl's callbacks, which stop the transfer. */
static size_t
http_over(struct http *t)
{
	if (t->err == NULL)
		t->err = au_xstrdup(au_errmsg());
	return 0;
}

static int
on_event(const char *event, const char *data, size_t len, void *arg)
{
	struct http *t = arg;
	jv msg;

	if (strcmp(event, "message") != 0 || blank(data, len))
		return 0;
	if (parse(data, len, &msg) != 0) {
		http_over(t);
		return 1;
	}
	http_queue(t, msg);
	return 0;
}

/* What the reply to a request is, from its status and content type. */
static void
classify(struct http *t)
{
	const char *ct = NULL;
	long status = 0;

	cu.easy_getinfo(t->main, CURLINFO_RESPONSE_CODE, &status);
	cu.easy_getinfo(t->main, CURLINFO_CONTENT_TYPE, &ct);
	if (status < 200 || status > 299)
		t->reply = R_STATUS;
	else if (ct != NULL && strncasecmp(ct, "application/json", 16) == 0)
		t->reply = R_JSON;
	else if (ct != NULL && strncasecmp(ct, "text/event-stream", 17) == 0)
		t->reply = R_SSE;
	else {
		t->reply = R_BADTYPE;
		au_seterr(EX_UNAVAILABLE, "the server answered with content "
		    "type %s, not application/json or text/event-stream",
		    ct ? au_quote(ct) : "(none)");
		http_over(t);
	}
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct http *t = arg;
	size_t len = size * n, keep;
	int rc;

	if (t->reply == R_NONE)
		classify(t);
	switch (t->reply) {
	case R_JSON:
		if (t->in.len + len > t->max_msg) {
			au_seterr(EX_UNAVAILABLE, "the server sent a message "
			    "over %zu bytes", t->max_msg);
			return http_over(t);
		}
		au_buf_add(&t->in, p, len);
		break;
	case R_SSE:
		rc = au_sse_feed(t->sse, p, len, on_event, t);
		if (rc == -1) {
			au_seterr(EX_UNAVAILABLE, "the server sent %s",
			    au_errmsg());
			return http_over(t);
		}
		if (rc != 0)
			return 0;
		break;
	case R_STATUS:
		keep = t->in.len < 200 ? 200 - t->in.len : 0;
		au_buf_add(&t->in, p, len < keep ? len : keep);
		break;
	default:
		return 0;
	}
	return len;
}

/* A header line of a reply: the session's id is kept. */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http *t = arg;
	size_t len = size * n, i;
	char *v, *e;

	if (len > 15 && strncasecmp(p, "mcp-session-id:", 15) == 0 &&
	    t->session == NULL) {
		for (v = p + 15, e = p + len; v < e && (*v == ' ' ||
		    *v == '\t'); v++)
			;
		while (e > v && (e[-1] == '\r' || e[-1] == '\n' ||
		    e[-1] == ' ' || e[-1] == '\t'))
			e--;
		for (i = 0; v + i < e && v[i] > 0x20 && v[i] < 0x7f; i++)
			;
		if (v + i < e || e == v) {
			au_seterr(EX_UNAVAILABLE, "the server sent a session "
			    "id that is not visible ASCII");
			return http_over(t);
		}
		t->session = au_xstrndup(v, (size_t)(e - v));
		t->dirty = 1;
	}
	return len;
}

/* h with line appended; h as it was when curl has no memory for it. */
static struct curl_slist *
hdr_line(struct curl_slist *h, const char *line)
{
	struct curl_slist *n = cu.slist_append(h, line);

	return n != NULL ? n : h;
}

/* h with "name: value" appended. */
static struct curl_slist *
hdr_add(struct curl_slist *h, const char *name, const char *value)
{
	char *line = au_xasprintf("%s: %s", name, value);

	h = hdr_line(h, line);
	free(line);
	return h;
}

/* A new list of the lines of l. */
static struct curl_slist *
hdr_copy(const struct curl_slist *l)
{
	struct curl_slist *h = NULL;

	for (; l != NULL; l = l->next)
		h = hdr_line(h, l->data);
	return h;
}

/* The headers of a message, made again when the session's changed. */
static struct curl_slist *
headers(struct http *t)
{
	struct curl_slist *h;

	if (t->hdrs != NULL && !t->dirty)
		return t->hdrs;
	h = hdr_copy(t->base);
	if (t->session != NULL)
		h = hdr_add(h, "Mcp-Session-Id", t->session);
	if (t->version != NULL)
		h = hdr_add(h, "MCP-Protocol-Version", t->version);
	cu.slist_free_all(t->hdrs);
	t->hdrs = h;
	t->dirty = 0;
	return h;
}

/* A reply stream over without the answer: whether it can be resumed,
 * an event id having come, and if so when. */
static int
resumable(struct http *t)
{
	const char *id = au_sse_last_id(t->sse);

	/* A stream without ids keeps the last; an empty one clears it. */
	if (id != NULL) {
		free(t->lastid);
		t->lastid = *id != '\0' ? au_xstrdup(id) : NULL;
	}
	if (au_sse_retry(t->sse) >= 0)
		t->retry = au_sse_retry(t->sse);
	if (t->lastid == NULL)
		return 0;
	t->resume_at = au_mono_ms() + (t->retry >= 0 ? t->retry : 1000);
	return 1;
}

/* The request's reply ended with code: what it held is queued, and
 * what went wrong kept for recv. */
static void
finish(struct http *t, CURLcode code)
{
	long status = 0;
	char *e;
	jv msg;

	t->active = 0;
	cu.multi_remove_handle(t->multi, t->main);
	if (t->err != NULL || (t->answered && code != CURLE_OK))
		return;
	if (!t->answered && t->reply == R_SSE && resumable(t))
		return;
	cu.easy_getinfo(t->main, CURLINFO_RESPONSE_CODE, &status);
	if (code != CURLE_OK) {
		au_seterr(EX_UNAVAILABLE, "%s: %s", status ? "the server's "
		    "reply broke off" : "cannot reach the server",
		    *t->errbuf ? t->errbuf : cu.easy_strerror(code));
	} else if (status == 404 && t->session != NULL) {
		au_seterr(EX_UNAVAILABLE, "the session expired: the server "
		    "answered HTTP 404 to its id");
	} else if (status < 200 || status > 299) {
		for (e = t->in.s; e != NULL && *e != '\0' && *e != '\n' &&
		    *e != '\r'; e++)
			;
		if (e != NULL)
			*e = '\0';
		au_seterr(EX_UNAVAILABLE, "the server answered HTTP %ld%s%s",
		    status, t->in.len ? ": " : "", t->in.len ?
		    au_quote(t->in.s) : "");
	} else if (t->reply == R_JSON && parse(t->in.s ? t->in.s : "",
	    t->in.len, &msg) != 0) {
		/* parse said why */
	} else {
		if (t->reply == R_JSON)
			http_queue(t, msg);
		if (t->answered)
			return;
		au_seterr(EX_UNAVAILABLE, status == 202 ? "the server "
		    "answered 202 Accepted to a request" : "the server's "
		    "reply ended without an answer");
	}
	http_over(t);
}

/* Move the request's reply on: wait for it until deadline, or until w
 * (or NULL) says stop. */
static int
http_pump(struct http *t, int64_t deadline, struct au_watch *w)
{
	int64_t left = deadline - au_mono_ms();
	struct curl_waitfd wfd = { w != NULL ? w->fd : -1, CURL_WAIT_POLLIN,
	    0 };
	struct pollfd pw = { -1, POLLIN, 0 };
	CURLMsg *cm;
	int still, n;

	if (left <= 0)
		return TIMEOUT;
	if (cu.multi_perform(t->multi, &still) != CURLM_OK)
		return au_seterr(EX_SOFTWARE, "curl_multi_perform failed");
	while ((cm = cu.multi_info_read(t->multi, &n)) != NULL)
		if (cm->msg == CURLMSG_DONE)
			finish(t, cm->data.result);
	if (!t->active || t->qhead < t->qlen)
		return 0;
	if (cu.multi_poll(t->multi, wfd.fd >= 0 ? &wfd : NULL, wfd.fd >= 0,
	    left > INT_MAX ? INT_MAX : (int)left, NULL) != CURLM_OK)
		return au_seterr(EX_SOFTWARE, "curl_multi_poll failed");
	/* Asked again: curl's revents do not tell POLLHUP, the end of a
	 * pipe, which would wake us at once every time. */
	pw.fd = wfd.fd;
	if (pw.fd >= 0 && poll(&pw, 1, 0) > 0 && w->fn(w->arg)) {
		w->stopped = 1;
		return STOPPED;
	}
	return 0;
}

/* Stop reading the request's reply: its connection is closed, and its
 * stream not resumed. */
static void
http_drop(struct http *t)
{
	if (t->active)
		cu.multi_remove_handle(t->multi, t->main);
	t->active = 0;
	t->resume_at = 0;
}

/* Read the request's reply from a fresh stream, the headers given. */
static int
http_restart(struct http *t, struct curl_slist *h)
{
	t->reply = R_NONE;
	t->in.len = 0;
	au_sse_free(t->sse);
	t->sse = au_sse_new(t->max_msg);
	*t->errbuf = '\0';
	cu.easy_setopt(t->main, CURLOPT_HTTPHEADER, h);
	if (cu.multi_add_handle(t->multi, t->main) != CURLM_OK)
		return au_seterr(EX_SOFTWARE, "curl_multi_add_handle failed");
	t->active = 1;
	return 0;
}

/* Take the reply stream up again where it ended, when its time has
 * come: a GET with Last-Event-ID.  TIMEOUT if the deadline comes first,
 * STOPPED if w (or NULL) says so meanwhile. */
static int
http_resume(struct http *t, int64_t deadline, struct au_watch *w)
{
	struct curl_slist *h;
	int64_t now = au_mono_ms();

	/* Past the deadline, nothing more is asked for. */
	if (now >= deadline)
		return TIMEOUT;
	if (t->resume_at > now) {
		if (au_watch_wait(w, (t->resume_at < deadline ? t->resume_at :
		    deadline) - now))
			return STOPPED;
		if ((now = au_mono_ms()) < t->resume_at)
			return now >= deadline ? TIMEOUT : 0;
	}
	h = hdr_add(hdr_copy(headers(t)), "Last-Event-ID", t->lastid);
	cu.slist_free_all(t->gethdrs);
	t->gethdrs = h;
	t->resume_at = 0;
	cu.easy_setopt(t->main, CURLOPT_HTTPGET, 1L);
	return http_restart(t, h);
}

/* POST a notification or an answer, or DELETE the session (s NULL), on
 * the side handle within the grace period. */
static int
http_side(struct http *t, const char *s, size_t n)
{
	CURLcode code;
	long status = 0;

	cu.easy_setopt(t->side, CURLOPT_HTTPHEADER, headers(t));
	if (s != NULL) {
		cu.easy_setopt(t->side, CURLOPT_CUSTOMREQUEST, NULL);
		cu.easy_setopt(t->side, CURLOPT_POSTFIELDSIZE, (long)n);
		cu.easy_setopt(t->side, CURLOPT_COPYPOSTFIELDS, s);
	} else {
		cu.easy_setopt(t->side, CURLOPT_HTTPGET, 1L);
		cu.easy_setopt(t->side, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	*t->errbuf = '\0';
	code = cu.easy_perform(t->side);
	cu.easy_getinfo(t->side, CURLINFO_RESPONSE_CODE, &status);
	if (code != CURLE_OK)
		return au_seterr(EX_UNAVAILABLE, "cannot reach the server: %s",
		    *t->errbuf ? t->errbuf : cu.easy_strerror(code));
	if (status == 404 && t->session != NULL)
		return au_seterr(EX_UNAVAILABLE, "the session expired: the "
		    "server answered HTTP 404 to its id");
	if (s != NULL && (status < 200 || status > 299))
		return au_seterr(EX_UNAVAILABLE, "the server answered HTTP %ld "
		    "to a notification", status);
	return 0;
}

static int
http_send(void *vt, const char *s, size_t n, int request)
{
	struct http *t = vt;
	int64_t deadline = au_mono_ms() + t->grace;

	if (t->err != NULL)
		return au_seterr(EX_UNAVAILABLE, "%s", t->err);
	if (!request) {
		if (http_side(t, s, n) != 0)
			http_over(t);
		return 0;
	}
	/* The last reply, answered, is about to end: let it, and keep its
	 * connection. */
	while (t->active && t->answered && http_pump(t, deadline, NULL) == 0)
		;
	http_drop(t);
	if (t->err != NULL)
		return au_seterr(EX_UNAVAILABLE, "%s", t->err);
	t->answered = 0;
	free(t->lastid);
	t->lastid = NULL;
	t->retry = -1;
	cu.easy_setopt(t->main, CURLOPT_POSTFIELDSIZE, (long)n);
	cu.easy_setopt(t->main, CURLOPT_COPYPOSTFIELDS, s);
	return http_restart(t, headers(t));
}

static int
http_recv(void *vt, int64_t deadline, struct au_watch *w, jv *msg)
{
	struct http *t = vt;
	int rc;

	for (;;) {
		if (t->qhead < t->qlen) {
			*msg = t->queue[t->qhead++];
			return 0;
		}
		if (t->err != NULL)
			return au_seterr(EX_UNAVAILABLE, "%s", t->err);
		if (!t->active && t->resume_at == 0)
			return au_seterr(EX_UNAVAILABLE, "the server's reply "
			    "ended without an answer");
		rc = t->active ? http_pump(t, deadline, w) :
		    http_resume(t, deadline, w);
		if (rc != 0) {
			/* A request past its deadline or stopped is given
			 * up: its late answer is not waited for. */
			if (rc == TIMEOUT || rc == STOPPED)
				http_drop(t);
			return rc;
		}
	}
}

static void
http_agreed(void *vt, const char *version)
{
	struct http *t = vt;

	free(t->version);
	t->version = au_xstrdup(version);
	t->dirty = 1;
}

static int
http_end(void *vt)
{
	struct http *t = vt;

	http_drop(t);
	if (t->session != NULL && t->err == NULL)
		http_side(t, NULL, 0);
	while (t->qhead < t->qlen)
		jv_free(t->queue[t->qhead++]);
	free(t->queue);
	cu.easy_cleanup(t->main);
	cu.easy_cleanup(t->side);
	cu.multi_cleanup(t->multi);
	cu.slist_free_all(t->base);
	cu.slist_free_all(t->hdrs);
	cu.slist_free_all(t->gethdrs);
	free(t->lastid);
	au_sse_free(t->sse);
	au_buf_free(&t->in);
	free(t->url);
	free(t->session);
	free(t->version);
	free(t->err);
	free(t);
	return 0;
}

static const char *
http_errtail(void *vt, size_t *len)
{
	(void)vt;
	*len = 0;
	return "";
}

static const struct transport http_transport = {
	http_send, http_recv, http_agreed, http_end, http_errtail,
};

/* The options both handles share. */
static int
http_handle(struct http *t, CURL **hp, size_t (*data)(char *, size_t,
    size_t, void *))
{
	CURL *h;

	if ((*hp = h = cu.easy_init()) == NULL)
		return au_seterr(EX_SOFTWARE, "curl_easy_init failed");
	cu.easy_setopt(h, CURLOPT_URL, t->url);
	cu.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
	cu.easy_setopt(h, CURLOPT_USERAGENT, "agentutils/" AU_VERSION);
	cu.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	cu.easy_setopt(h, CURLOPT_WRITEFUNCTION, data);
	cu.easy_setopt(h, CURLOPT_WRITEDATA, t);
	cu.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	cu.easy_setopt(h, CURLOPT_HEADERDATA, t);
	cu.easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	return 0;
}

/* The side handle's replies are not read. */
static size_t
on_side(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int
http_start(const struct au_mcp_conf *c, struct http **tp)
{
	static const char *const ours[] = {
		"Accept: application/json, text/event-stream",
		"Content-Type: application/json", "Expect:",
	};
	struct http *t;
	char *const *h;
	size_t i;

	pthread_once(&cu_once, cu_load);
	if (cu.global_init == NULL)
		return au_seterr(EX_UNAVAILABLE, "MCP over HTTP needs libcurl "
		    "(Debian: libcurl4): %s", cu_err);
	t = au_xcalloc(1, sizeof *t);
	t->url = au_xstrdup(c->url);
	t->max_msg = c->max_msg ? c->max_msg : DEF_MAX_MSG;
	if (t->max_msg > INT_MAX - 1)
		t->max_msg = INT_MAX - 1;
	t->grace = c->grace_ms > 0 ? c->grace_ms : DEF_GRACE;
	t->retry = -1;
	for (h = c->headers; h != NULL && *h != NULL; h++)
		t->base = hdr_line(t->base, *h);
	for (i = 0; i < sizeof ours / sizeof ours[0]; i++)
		t->base = hdr_line(t->base, ours[i]);
	if ((t->multi = cu.multi_init()) == NULL ||
	    http_handle(t, &t->main, on_data) != 0 ||
	    http_handle(t, &t->side, on_side) != 0) {
		http_end(t);
		return au_seterr(EX_SOFTWARE, "cannot set up libcurl");
	}
	cu.easy_setopt(t->side, CURLOPT_TIMEOUT_MS, (long)t->grace);
	cu.easy_setopt(t->main, CURLOPT_POST, 1L);
	*tp = t;
	return 0;
}

/* ---- the session ------------------------------------------------------ */

static void AU_PRINTF(2, 3)
note(struct au_mcp *m, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (m->note != NULL)
		m->note(m->arg, buf);
	else
		au_note("%s", buf);
}

/* Fail what is under way with code, au_errmsg() prefixed by "what: ";
 * with 69 the session is over, and says so from now on. */
static int
fail(struct au_mcp *m, const char *what, int code)
{
	char why[1024];

	snprintf(why, sizeof why, "%s", au_errmsg());
	if (code == EX_UNAVAILABLE && m->over == NULL)
		m->over = au_xstrdup(why);
	return au_seterr(code, "%s: %s", what, why);
}

/* A message the server sent in a form JSON-RPC does not have. */
static int
bad(struct au_mcp *m, const char *what, const char *why, jv msg)
{
	struct au_buf b = AU_BUF_INIT;
	char head[128];

	au_json_dump(&b, msg);
	jv_free(msg);
	snprintf(head, sizeof head, "%s", b.s);
	au_buf_free(&b);
	au_seterr(EX_UNAVAILABLE, "the server sent %s: %s", why,
	    au_quote(head));
	return fail(m, what, EX_UNAVAILABLE);
}

/* The value at key k of object v (borrowed), or jv_invalid(). */
static jv
get(struct au_mcp *m, jv v, int k)
{
	return jv_object_get(jv_copy(v), jv_copy(m->key[k]));
}

/* Send a message: the start of it in m->msg (see begin), then the text
 * of params if not NULL. */
static int
end_send(struct au_mcp *m, const char *params, size_t len)
{
	if (params != NULL) {
		au_buf_adds(&m->msg, ",\"params\":");
		au_buf_add(&m->msg, params, len);
	}
	au_buf_addc(&m->msg, '}');
	return m->tr->send(m->t, m->msg.s, m->msg.len, m->request);
}

/* Start a message in m->msg: a request with id > 0, a notification with
 * method alone, an answer without method. */
static void
begin(struct au_mcp *m, int64_t id, const char *method)
{
	m->msg.len = 0;
	m->request = id > 0 && method != NULL;
	au_buf_adds(&m->msg, "{\"jsonrpc\":\"2.0\"");
	if (id > 0) {
		au_buf_adds(&m->msg, ",\"id\":");
		au_buf_addint(&m->msg, id);
	}
	if (method != NULL) {
		au_buf_adds(&m->msg, ",\"method\":");
		au_json_str(&m->msg, method, strlen(method));
	}
}

/* Answer the request msg of the server: ping, or "method not found". */
static void
answer(struct au_mcp *m, jv msg, const char *method)
{
	jv id = get(m, msg, K_ID);
	char *text;

	begin(m, 0, NULL);
	au_buf_adds(&m->msg, ",\"id\":");
	au_json_dump(&m->msg, id);
	jv_free(id);
	if (strcmp(method, "ping") == 0) {
		au_buf_adds(&m->msg, ",\"result\":{}");
	} else {
		note(m, "the server asked for %s, which is not offered: "
		    "answered method not found", au_quote(method));
		text = au_xasprintf("Method not found: %s", method);
		au_buf_adds(&m->msg, ",\"error\":{\"code\":-32601,"
		    "\"message\":");
		au_json_str(&m->msg, text, strlen(text));
		au_buf_addc(&m->msg, '}');
		free(text);
	}
	end_send(m, NULL, 0);
	jv_free(msg);
}

/* Hand a notification of the server to the caller, unless it is
 * progress of another request than want (one cancelled, say). */
static void
notified(struct au_mcp *m, jv msg, const char *method, int64_t want)
{
	jv params, token;

	if (m->notify != NULL) {
		params = get(m, msg, K_PARAMS);
		if (!jv_is_valid(params)) {
			jv_free(params);
			params = jv_null();
		}
		token = jv_get_kind(params) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(params),
		    jv_string("progressToken")) : jv_invalid();
		if (strcmp(method, "notifications/progress") == 0 &&
		    (!au_jv_isint(token) ||
		    jv_number_value(token) != (double)want))
			note(m, "progress of a request that is over was "
			    "ignored");
		else
			m->notify(m->arg, method, params);
		jv_free(token);
		jv_free(params);
	}
	jv_free(msg);
}

/* Note an answer to something other than request want, and drop it. */
static void
stray(struct au_mcp *m, jv msg, jv id, int64_t want)
{
	struct au_buf b = AU_BUF_INIT;

	au_json_dump(&b, id);
	if (au_jv_isint(id) && jv_number_value(id) >= 1 &&
	    jv_number_value(id) < (double)want)
		note(m, "a late answer to request %s was ignored", b.s);
	else
		note(m, "an answer to request %.200s, which was never made, "
		    "was ignored", b.s);
	au_buf_free(&b);
	jv_free(id);
	jv_free(msg);
}

/* Request id as a key of m->sent and m->early. */
static jv
idkey(int64_t id)
{
	return jv_string_fmt("%lld", (long long)id);
}

/* Deal with one message from the server while waiting for the answer to
 * request want: 0 when it was something else; 2 the answer, in *out; 1
 * an error answer, in *out; 69 not a JSON-RPC message. */
static int
dispatch(struct au_mcp *m, const char *what, int64_t want, jv msg,
    jv *out)
{
	jv v, id, res, err, code;
	int ok, rc;

	if (jv_get_kind(msg) != JV_KIND_OBJECT)
		return bad(m, what, "a message that is not JSON-RPC 2.0", msg);
	v = get(m, msg, K_JSONRPC);
	ok = jv_get_kind(v) == JV_KIND_STRING &&
	    strcmp(jv_string_value(v), "2.0") == 0;
	jv_free(v);
	if (!ok)
		return bad(m, what, "a message that is not JSON-RPC 2.0", msg);
	v = get(m, msg, K_METHOD);
	id = get(m, msg, K_ID);
	if (jv_get_kind(v) == JV_KIND_STRING) {
		if (jv_is_valid(id))
			answer(m, msg, jv_string_value(v));
		else
			notified(m, msg, jv_string_value(v), want);
		jv_free(v);
		jv_free(id);
		return 0;
	}
	jv_free(v);
	res = get(m, msg, K_RESULT);
	err = get(m, msg, K_ERROR);
	ok = jv_is_valid(id) && jv_is_valid(res) != jv_is_valid(err);
	if (ok && (!au_jv_isint(id) || jv_number_value(id) != (double)want)) {
		jv_free(res);
		jv_free(err);
		if (au_jv_isint(id) && jv_object_has(jv_copy(m->sent),
		    idkey((int64_t)jv_number_value(id)))) {
			m->early = jv_object_set(m->early,
			    idkey((int64_t)jv_number_value(id)), msg);
			jv_free(id);
			return 0;
		}
		stray(m, msg, id, want);
		return 0;
	}
	jv_free(id);
	if (!ok) {
		jv_free(res);
		jv_free(err);
		return bad(m, what, "a message that is neither request, "
		    "notification nor answer", msg);
	}
	if (jv_is_valid(res)) {
		jv_free(msg);
		*out = res;
		return 2;
	}
	code = get(m, err, K_CODE);
	v = get(m, err, K_MESSAGE);
	if (!au_jv_isint(code) || jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(code);
		jv_free(v);
		jv_free(err);
		return bad(m, what, "a malformed error", msg);
	}
	rc = au_seterr(1, "%s: the server answered error %.0f: %.800s",
	    what, jv_number_value(code), jv_string_value(v));
	jv_free(code);
	jv_free(v);
	jv_free(msg);
	*out = err;
	return rc;
}

/* Send a request with params (JSON text, or NULL): 0 with its id in
 * *id, or 69 when the session is over. */
static int
send_request(struct au_mcp *m, const char *what, const char *method,
    const struct au_buf *params, int64_t *id)
{
	int rc;

	*id = m->next_id++;
	if (m->over != NULL)
		return au_seterr(EX_UNAVAILABLE, "%s: the session is over: "
		    "%s", what, m->over);
	begin(m, *id, method);
	rc = end_send(m, params ? params->s : NULL, params ?
	    params->len : 0);
	if (rc != 0)
		return fail(m, what, rc);
	m->sent = jv_object_set(m->sent, idkey(*id), jv_true());
	return 0;
}

/* Wait for the answer to request id until deadline (ms, the time it was
 * given, for messages) or until w (or NULL) says stop, the answers to
 * other requests sent kept for their turn: 0 with the result in *out, 1
 * with the error there, or (*out invalid) 75 after cancelling it, when
 * cancel is set, else 69; or 69. */
static int
await(struct au_mcp *m, const char *what, int64_t id, int64_t deadline,
    int64_t ms, int cancel, struct au_watch *w, jv *out)
{
	jv key = idkey(id), msg;
	int rc;

	*out = jv_invalid();
	msg = jv_object_get(jv_copy(m->early), jv_copy(key));
	m->early = jv_object_delete(m->early, jv_copy(key));
	m->sent = jv_object_delete(m->sent, key);
	if (jv_is_valid(msg)) {
		rc = dispatch(m, what, id, msg, out);
		return rc == 2 ? 0 : rc;
	}
	jv_free(msg);
	for (;;) {
		/* recv hands out what it holds without waiting: a server
		 * that floods notifications must not keep us past the
		 * deadline. */
		rc = au_mono_ms() < deadline ?
		    m->tr->recv(m->t, deadline, w, &msg) : TIMEOUT;
		if (rc == TIMEOUT || rc == STOPPED)
			break;
		if (rc != 0)
			return fail(m, what, rc);
		rc = dispatch(m, what, id, msg, out);
		if (rc != 0)
			return rc == 2 ? 0 : rc;
	}
	if (!cancel) {
		au_seterr(EX_UNAVAILABLE, "no answer within %lldms",
		    (long long)ms);
		return fail(m, what, EX_UNAVAILABLE);
	}
	begin(m, 0, "notifications/cancelled");
	if (rc == STOPPED) {
		au_buf_addf(&m->msg, ",\"params\":{\"requestId\":%lld,"
		    "\"reason\":\"given up by the caller\"}", (long long)id);
		end_send(m, NULL, 0);
		return au_seterr(TIMEOUT, "%s: cancelled", what);
	}
	au_buf_addf(&m->msg, ",\"params\":{\"requestId\":%lld,\"reason\":"
	    "\"no answer within %lldms\"}", (long long)id, (long long)ms);
	end_send(m, NULL, 0);
	return au_seterr(TIMEOUT, "%s: no answer within %lldms (cancelled)",
	    what, (long long)ms);
}

/* Send a request and wait for its answer until deadline, as await. */
static int
request(struct au_mcp *m, const char *what, const char *method,
    const struct au_buf *params, int64_t deadline, int cancel, jv *out)
{
	int64_t id, ms = deadline - au_mono_ms();
	int rc;

	*out = jv_invalid();
	if ((rc = send_request(m, what, method, params, &id)) != 0)
		return rc;
	return await(m, what, id, deadline, ms, cancel, NULL, out);
}

static int
initialize(struct au_mcp *m)
{
	struct au_buf p = AU_BUF_INIT;
	jv res, v;
	size_t i;
	int rc;

	au_buf_adds(&p, "{\"protocolVersion\":\"" AU_MCP_VERSION "\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":\"agentutils\","
	    "\"version\":");
	au_json_str(&p, AU_VERSION, strlen(AU_VERSION));
	au_buf_adds(&p, "}}");
	rc = request(m, "initialize", "initialize", &p,
	    au_mono_ms() + m->timeout, 0, &res);
	au_buf_free(&p);
	if (rc != 0) {
		jv_free(res);
		return EX_UNAVAILABLE;
	}
	if (jv_get_kind(res) != JV_KIND_OBJECT)
		return bad(m, "initialize", "a result that is not an object",
		    res);
	v = jv_object_get(jv_copy(res), jv_string("protocolVersion"));
	for (i = 0; i < NVERSIONS && jv_get_kind(v) == JV_KIND_STRING; i++)
		if (strcmp(jv_string_value(v), versions[i]) == 0)
			break;
	if (jv_get_kind(v) != JV_KIND_STRING || i == NVERSIONS) {
		au_seterr(EX_UNAVAILABLE, "the server speaks protocol version "
		    "%s, not one of %s, %s, %s, %s",
		    jv_get_kind(v) == JV_KIND_STRING ?
		    au_quote(jv_string_value(v)) : "(none)",
		    versions[0], versions[1], versions[2], versions[3]);
		jv_free(v);
		jv_free(res);
		return fail(m, "initialize", EX_UNAVAILABLE);
	}
	jv_free(v);
	m->version = versions[i];
	m->server = res;
	if (m->tr->agreed != NULL)
		m->tr->agreed(m->t, m->version);
	begin(m, 0, "notifications/initialized");
	end_send(m, NULL, 0);
	return 0;
}

int
au_mcp_open(const struct au_mcp_conf *c, struct au_mcp **mp)
{
	struct au_mcp *m;
	struct stdio *t = NULL;
	struct http *h = NULL;
	char why[1024];
	int rc, i;

	*mp = NULL;
	if (c->url != NULL)
		rc = http_start(c, &h);
	else
		rc = stdio_start(c, &t);
	if (rc != 0)
		return rc;
	m = au_xcalloc(1, sizeof *m);
	m->tr = c->url != NULL ? &http_transport : &stdio_transport;
	m->t = c->url != NULL ? (void *)h : (void *)t;
	m->next_id = 1;
	m->timeout = c->timeout_ms > 0 ? c->timeout_ms : DEF_TIMEOUT;
	m->server = jv_invalid();
	for (i = 0; i < NKEYS; i++)
		m->key[i] = jv_string(keys[i]);
	m->sent = jv_object();
	m->early = jv_object();
	m->notify = c->notify;
	m->note = c->note;
	m->arg = c->arg;
	m->watch = c->watch;
	if ((rc = initialize(m)) != 0) {
		snprintf(why, sizeof why, "%s", au_errmsg());
		au_mcp_close(m);
		return au_seterr(rc, "%s", why);
	}
	*mp = m;
	return 0;
}

const char *
au_mcp_version(const struct au_mcp *m)
{
	return m->version;
}

jv
au_mcp_server(const struct au_mcp *m)
{
	return jv_copy(m->server);
}

int
au_mcp_tools(struct au_mcp *m, jv *tools)
{
	int64_t deadline = au_mono_ms() + m->timeout;
	struct au_buf p = AU_BUF_INIT;
	jv res, page, cursor;
	int rc;

	*tools = jv_array();
	au_buf_adds(&p, "{}");
	for (;;) {
		rc = request(m, "tools/list", "tools/list", &p, deadline, 1,
		    &res);
		if (rc != 0) {
			jv_free(res);
			break;
		}
		page = jv_object_get(jv_copy(res), jv_string("tools"));
		cursor = jv_object_get(jv_copy(res), jv_string("nextCursor"));
		if (jv_get_kind(page) != JV_KIND_ARRAY ||
		    (jv_is_valid(cursor) &&
		    jv_get_kind(cursor) != JV_KIND_STRING &&
		    jv_get_kind(cursor) != JV_KIND_NULL)) {
			jv_free(page);
			jv_free(cursor);
			rc = bad(m, "tools/list", "a malformed result", res);
			break;
		}
		jv_free(res);
		*tools = jv_array_concat(*tools, page);
		if (jv_get_kind(cursor) != JV_KIND_STRING) {
			jv_free(cursor);
			au_buf_free(&p);
			return 0;
		}
		p.len = 0;
		au_buf_adds(&p, "{\"cursor\":");
		au_json_dump(&p, cursor);
		au_buf_addc(&p, '}');
		jv_free(cursor);
	}
	au_buf_free(&p);
	jv_free(*tools);
	*tools = jv_invalid();
	return rc;
}

int
au_mcp_call(struct au_mcp *m, const char *tool, jv args,
    int64_t timeout_ms, jv *result)
{
	int64_t id;
	int rc;

	*result = jv_invalid();
	if ((rc = au_mcp_call_send(m, tool, args, &id)) != 0)
		return rc;
	return au_mcp_call_wait(m, tool, id, timeout_ms, result);
}

int
au_mcp_call_send(struct au_mcp *m, const char *tool, jv args, int64_t *id)
{
	struct au_buf p = AU_BUF_INIT;
	char what[300];
	int rc;

	snprintf(what, sizeof what, "tools/call %s", au_quote(tool));
	au_buf_adds(&p, "{\"name\":");
	au_json_str(&p, tool, strlen(tool));
	if (jv_get_kind(args) != JV_KIND_NULL) {
		au_buf_adds(&p, ",\"arguments\":");
		au_json_dump(&p, args);
	}
	jv_free(args);
	if (m->notify != NULL) {
		au_buf_adds(&p, ",\"_meta\":{\"progressToken\":");
		au_buf_addint(&p, m->next_id);
		au_buf_addc(&p, '}');
	}
	au_buf_addc(&p, '}');
	rc = send_request(m, what, "tools/call", &p, id);
	au_buf_free(&p);
	return rc;
}

int
au_mcp_call_wait(struct au_mcp *m, const char *tool, int64_t id,
    int64_t timeout_ms, jv *result)
{
	int64_t ms = timeout_ms > 0 ? timeout_ms : m->timeout;
	char what[300];
	int rc;

	snprintf(what, sizeof what, "tools/call %s", au_quote(tool));
	rc = await(m, what, id, au_mono_ms() + ms, ms, 1, m->watch, result);
	if (rc == 0 && jv_get_kind(*result) != JV_KIND_OBJECT) {
		rc = bad(m, what, "a result that is not an object", *result);
		*result = jv_invalid();
	}
	return rc;
}

int
au_mcp_pipelines(const struct au_mcp *m)
{
	return m->tr == &stdio_transport;
}

int
au_mcp_ping(struct au_mcp *m)
{
	jv res;
	int rc;

	rc = request(m, "ping", "ping", NULL, au_mono_ms() + m->timeout, 1,
	    &res);
	jv_free(res);
	return rc;
}

const char *
au_mcp_stderr(const struct au_mcp *m, size_t *len)
{
	return m->tr->errtail(m->t, len);
}

int
au_mcp_close(struct au_mcp *m)
{
	int code, i;

	if (m == NULL)
		return 0;
	code = m->tr->end(m->t);
	for (i = 0; i < NKEYS; i++)
		jv_free(m->key[i]);
	au_buf_free(&m->msg);
	jv_free(m->server);
	jv_free(m->sent);
	jv_free(m->early);
	free(m->over);
	free(m);
	return code;
}
