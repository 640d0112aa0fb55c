/*
 * tg-serve - the tool gateway as an MCP server over stdio: newline-
 * delimited JSON-RPC 2.0 on standard input and output.  initialize
 * negotiates the protocol version, tools/list pages through every tool of
 * the registry (local ToolSpecs, and the tools of the MCP servers behind
 * it, named server/tool), and tools/call goes through exactly the path
 * tg-invoke takes (lib/gateway.c): validate, decide, ask, run, audit.
 * Calls are made one at a time, but input is read on while one runs or
 * waits for a person's approval (the gateway's watch): pings are answered
 * at once, a cancellation stops the call, and the other messages wait
 * their turn.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentutils.h"

enum { O_PAGE = AU_LONG };

static const struct au_opt opts[] = {
	AU_GW_OPTS_CONF,
	AU_GW_OPTS_RUN,
	{ O_PAGE, "page-size", "N", "tools/list: N tools a page (default 50)",
	    NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"tg-serve", "",
	"Serve the gateway's tools to MCP clients over stdio.",
	opts, AU_USE_DB, NULL
};

/* The protocol versions spoken, newest first. */
static const char *const versions[] = {
	"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", NULL
};

static volatile sig_atomic_t stop;
static struct au_gw *gw;
static jv tools;		/* the registry as MCP Tools, once listed */
static int page = 50;

static struct au_buf in;	/* read from stdin, taken up to inoff */
static size_t inoff;
static int eof;			/* stdin is over */
static long lineno;
static jv queue;		/* lines taken in, not yet handled: [message],
				 * or [] for one that is not JSON */
static jv running;		/* the id of the call being made, or invalid */
static struct au_watch watch;	/* stdin, while a call is being made */

static void
onsignal(int sig)
{
	stop = sig;
}

/* Write the message m (consumed). */
static void
send(jv m)
{
	au_out_rec(m);
	jv_free(m);
}

static void
reply(jv id, jv res)
{
	send(JV_OBJECT(jv_string("jsonrpc"), jv_string("2.0"),
	    jv_string("id"), id, jv_string("result"), res));
}

static void
fault(jv id, int code, const char *msg)
{
	send(JV_OBJECT(jv_string("jsonrpc"), jv_string("2.0"),
	    jv_string("id"), id, jv_string("error"), JV_OBJECT(
	    jv_string("code"), jv_number(code), jv_string("message"),
	    jv_string(msg))));
}

static jv
initialize(jv params)
{
	const char *want = au_jv_str(params, "protocolVersion");
	const char *v = versions[0];
	int i;

	for (i = 0; want != NULL && versions[i] != NULL; i++)
		if (strcmp(want, versions[i]) == 0)
			v = versions[i];
	return JV_OBJECT(jv_string("protocolVersion"), jv_string(v),
	    jv_string("capabilities"), JV_OBJECT(jv_string("tools"),
	    JV_OBJECT(jv_string("listChanged"), jv_false())),
	    jv_string("serverInfo"), JV_OBJECT(jv_string("name"),
	    jv_string("agentutils"), jv_string("version"),
	    jv_string(AU_VERSION)));
}

/* A page of tools/list from the cursor in params; 0, or -32602 for a
 * cursor we did not give. */
static int
list(jv params, jv *res)
{
	const char *cursor = au_jv_str(params, "cursor");
	char *end, next[32];
	long from = 0, n;

	if (jv_get_kind(tools) == JV_KIND_NULL)
		au_gw_tools(gw, &tools);
	n = jv_array_length(jv_copy(tools));
	if (cursor != NULL) {
		from = strtol(cursor, &end, 10);
		if (*cursor == '\0' || *end != '\0' || from <= 0 || from >= n)
			return -32602;
	}
	*res = jv_array_slice(jv_copy(tools), (int)from, (int)(from + page <
	    n ? from + page : n));
	*res = JV_OBJECT(jv_string("tools"), *res);
	if (from + page < n) {
		snprintf(next, sizeof next, "%ld", from + page);
		*res = jv_object_set(*res, jv_string("nextCursor"),
		    jv_string(next));
	}
	return 0;
}

/* tools/call: the gateway's tool.result as MCP's CallToolResult; id is
 * borrowed. */
static jv
call(jv id, jv params)
{
	jv c = JV_OBJECT(jv_string("type"), jv_string("tool.call"),
	    jv_string("id"), jv_copy(id), jv_string("tool"),
	    jv_object_get(jv_copy(params), jv_string("name")),
	    jv_string("args"), jv_object_get(jv_copy(params),
	    jv_string("arguments")));
	jv r, res, content, v;
	int rc;

	r = au_gw_call(gw, c, &rc);
	jv_free(c);
	content = jv_object_get(jv_copy(r), jv_string("content"));
	v = jv_object_get(jv_copy(r), jv_string("errors"));
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		struct au_buf b = AU_BUF_INIT;

		au_json_dump(&b, v);
		content = jv_array_append(content, JV_OBJECT(
		    jv_string("type"), jv_string("text"), jv_string("text"),
		    jv_string(b.s)));
		au_buf_free(&b);
	}
	jv_free(v);
	res = JV_OBJECT(jv_string("content"), content);
	v = jv_object_get(jv_copy(r), jv_string("structured_content"));
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		res = jv_object_set(res, jv_string("structuredContent"), v);
	else
		jv_free(v);
	res = jv_object_set(res, jv_string("isError"),
	    jv_object_get(r, jv_string("is_error")));
	return res;
}

/* Make call id (consumed) and answer it, unless the client cancels it
 * meanwhile: then the gateway has stopped it (or not run it, if it was
 * waiting for approval) and audited it as cancelled, and the client
 * wants no answer. */
static void
reply_call(jv id, jv params)
{
	jv res;

	running = jv_copy(id);
	watch.fd = eof ? -1 : STDIN_FILENO;
	watch.stopped = 0;
	res = call(id, params);
	jv_free(running);
	running = jv_invalid();
	if (watch.stopped) {
		jv_free(id);
		jv_free(res);
	} else
		reply(id, res);
}

/* One message: a request answered, a notification taken in. */
static void
handle(jv m)
{
	const char *method = au_jv_str(m, "method");
	jv id = jv_object_get(jv_copy(m), jv_string("id"));
	jv params = jv_object_get(jv_copy(m), jv_string("params"));
	int has_id = jv_is_valid(id), rc;
	jv res;

	if (!jv_is_valid(params))
		params = jv_object();
	if (!has_id)
		id = jv_null();
	if (method == NULL) {
		/* an answer to a request we never make */
		if (!has_id || jv_get_kind(id) == JV_KIND_NULL)
			fault(jv_null(), -32600, "not a JSON-RPC request");
		jv_free(id);
	} else if (!has_id) {
		jv_free(id);	/* notifications: nothing to answer */
	} else if (strcmp(method, "initialize") == 0) {
		reply(id, initialize(params));
	} else if (strcmp(method, "ping") == 0) {
		reply(id, jv_object());
	} else if (strcmp(method, "tools/list") == 0) {
		if ((rc = list(params, &res)) != 0)
			fault(id, rc, "invalid cursor");
		else
			reply(id, res);
	} else if (strcmp(method, "tools/call") == 0) {
		if (au_jv_str(params, "name") == NULL)
			fault(id, -32602, "tools/call needs a tool name");
		else
			reply_call(id, params);
	} else {
		fault(id, -32601, "method not found");
	}
	jv_free(params);
}

/* Read what stdin holds, waiting for it if need be; at its end (or a
 * failure to read it, taken as the end) set eof. */
static void
readin(void)
{
	ssize_t n;

	/* What was taken is gone: only a line still coming is kept. */
	if (inoff > 0) {
		memmove(in.s, in.s + inoff, in.len - inoff);
		in.len -= inoff;
		inoff = 0;
	}
	au_buf_grow(&in, 65536);
	n = read(STDIN_FILENO, in.s + in.len, in.cap - in.len);
	if (n > 0)
		in.len += (size_t)n;
	else if (n == 0 || errno != EINTR)
		eof = 1;
}

/* The next line held, without its line end, n bytes at *s: 1, or 0 when
 * no whole line is held (the last may lack its newline at the end). */
static int
take(char **s, size_t *n)
{
	char *nl;

	if (inoff == in.len)
		return 0;
	*s = in.s + inoff;
	nl = memchr(*s, '\n', in.len - inoff);
	if (nl == NULL && !eof)
		return 0;
	*n = nl != NULL ? (size_t)(nl - *s) : in.len - inoff;
	inoff += *n + (nl != NULL);
	lineno++;
	while (*n > 0 && (*s)[*n - 1] == '\r')
		(*n)--;
	return 1;
}

/* Cancel request id (borrowed): 1 if it is the call being made; a request
 * still queued is dropped, but not initialize (MCP: it cannot be
 * cancelled); an id answered already, or unknown, is ignored. */
static int
cancel(jv id)
{
	int i, n = jv_array_length(jv_copy(queue)), found;
	const char *method;
	jv m, v, head;

	if (jv_is_valid(running) && jv_equal(jv_copy(running), jv_copy(id)))
		return 1;
	for (i = 0; i < n; i++) {
		m = jv_getpath(jv_copy(queue), JV_ARRAY(jv_number(i),
		    jv_number(0)));
		v = jv_get_kind(m) == JV_KIND_OBJECT ? jv_object_get(
		    jv_copy(m), jv_string("id")) : jv_invalid();
		method = au_jv_str(m, "method");
		found = method != NULL && strcmp(method, "initialize") != 0 &&
		    jv_equal(jv_copy(v), jv_copy(id));
		jv_free(v);
		jv_free(m);
		if (found) {
			head = jv_array_slice(jv_copy(queue), 0, i);
			queue = jv_array_concat(head, jv_array_slice(queue,
			    i + 1, n));
			break;
		}
	}
	return 0;
}

/* Take in the messages held: each queued, but a cancellation done, and a
 * ping answered at once while a call is being made.  1 if the call is
 * cancelled. */
static int
absorb(void)
{
	const char *method;
	char *s;
	size_t n, at;
	int stopped = 0;
	jv m, v;

	while (take(&s, &n)) {
		if (n == 0)
			continue;
		if (au_json_check(s, n, &at) != NULL) {
			au_note("<stdin>:%ld: not JSON", lineno);
			queue = jv_array_append(queue, jv_array());
			continue;
		}
		m = jv_parse_sized(s, (int)n);
		method = jv_get_kind(m) == JV_KIND_OBJECT ?
		    au_jv_str(m, "method") : NULL;
		v = jv_get_kind(m) == JV_KIND_OBJECT ? jv_object_get(
		    jv_copy(m), jv_string("id")) : jv_invalid();
		if (method != NULL && !jv_is_valid(v) &&
		    strcmp(method, "notifications/cancelled") == 0) {
			jv_free(v);
			v = jv_getpath(jv_copy(m), JV_ARRAY(
			    jv_string("params"), jv_string("requestId")));
			stopped |= cancel(v);
			jv_free(m);
		} else if (method != NULL && jv_is_valid(v) &&
		    jv_is_valid(running) && strcmp(method, "ping") == 0) {
			reply(jv_copy(v), jv_object());
			jv_free(m);
		} else
			queue = jv_array_append(queue, JV_ARRAY(m));
		jv_free(v);
	}
	return stopped;
}

/* The watch on stdin while a call is being made. */
static int
watched(void *arg)
{
	(void)arg;
	readin();
	if (eof)
		watch.fd = -1;
	return absorb();
}

int
main(int argc, char **argv)
{
	struct au_gw_conf c = AU_GW_CONF_INIT;
	const char *arg;
	char *end;
	int ch;
	jv m;

	au_setprog(argv[0]);
	c.stop = &stop;
	watch.fn = watched;
	c.watch = &watch;
	while ((ch = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		if (au_gw_opt(&cmd, &c, ch, arg))
			continue;
		if (ch == O_PAGE) {
			page = (int)strtol(arg, &end, 10);
			if (*arg == '\0' || *end != '\0' || page < 1 ||
			    page > 10000)
				au_usage_die(&cmd, "--page-size: 1 to 10000, "
				    "not %s", au_quote(arg));
		}
	}
	if (au_optind < argc)
		au_usage_die(&cmd, "no operands expected");
	au_out_init();
	gw = au_xgw_open(&c);
	tools = jv_null();
	queue = jv_array();
	running = jv_invalid();
	au_catch_stop(onsignal);
	while (!stop) {
		if (jv_array_length(jv_copy(queue)) == 0) {
			if (eof)
				break;
			readin();
			absorb();
			continue;
		}
		m = jv_array_get(jv_copy(queue), 0);
		queue = jv_array_slice(queue, 1, jv_array_length(
		    jv_copy(queue)));
		m = jv_array_length(jv_copy(m)) > 0 ? jv_array_get(m, 0) :
		    (jv_free(m), jv_invalid());
		if (!jv_is_valid(m))
			fault(jv_null(), -32700, "parse error");
		else if (jv_get_kind(m) != JV_KIND_OBJECT)
			fault(jv_null(), -32600, "not a JSON-RPC request");
		else
			handle(m);
		jv_free(m);
	}
	au_buf_free(&in);
	jv_free(queue);
	jv_free(tools);
	au_xgw_close(gw, &c);
	au_out_close();
	return stop ? 128 + stop : 0;
}
