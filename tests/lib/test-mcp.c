/*
 * test-mcp.c - mcp.c against tests/mcp/server.py, a real MCP server over
 * stdio, and against a few shell commands that are not: the session
 * (version negotiation, initialized, clientInfo), tools/list over many
 * pages, tools/call (results, isError, JSON-RPC errors, progress and log
 * notifications, stale progress dropped), the server's environment and
 * working directory, ping, the server's own requests (ping answered,
 * sampling, elicitation and roots refused with -32601), a call timing
 * out and cancelled, one given up at its watch's word and cancelled (over
 * HTTP too), late and unknown answers noted and ignored,
 * several calls on their way at once, answered each in its turn; and
 * hostile servers: malformed lines, messages that are not JSON-RPC,
 * messages over the limit, silence, a flood of notifications, exits and
 * signals in the middle, a closed stdin, a flood on stderr (kept and
 * passed on, both capped), a server that ignores the end of stdin and
 * SIGTERM; and the same over Streamable HTTP against server.py --http,
 * with JSON and event-stream replies: the session id and protocol
 * version headers, configured headers, DELETE on close, a timeout
 * cancelled by a POST of its own, wrong content types, sessions that
 * expire, error statuses, nobody listening; a server that ends every
 * reply stream after an event id, its answers fetched by GET with
 * Last-Event-ID after the wait it asked for, a call given up at its
 * watch's word during that wait.  Every case must end in
 * time: each checks how long it took, and an alarm stops the whole test
 * if one hangs.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

#define SERVER AU_SRCDIR "/tests/mcp/server.py"

/* What the callbacks of a session saw. */
static jv notes, notices;

static void
on_notify(void *arg, const char *method, jv params)
{
	(void)arg;
	notices = jv_array_append(notices, jv_object_set(jv_object_set(
	    jv_object(), jv_string("method"), jv_string(method)),
	    jv_string("params"), jv_copy(params)));
}

static void
on_note(void *arg, const char *msg)
{
	(void)arg;
	notes = jv_array_append(notes, jv_string(msg));
}

/* Whether a note holds s. */
static int
noted(const char *s)
{
	int i, n = jv_array_length(jv_copy(notes)), found = 0;

	for (i = 0; i < n && !found; i++) {
		jv v = jv_array_get(jv_copy(notes), i);

		found = strstr(jv_string_value(v), s) != NULL;
		jv_free(v);
	}
	return found;
}

static struct au_mcp_conf conf;
static char *args[16];
static int64_t t0;

/* Make conf start the test server with the options given (a NULL ends
 * them), with short timeouts, and forget what callbacks saw before. */
static void
server(const char *opt, ...)
{
	va_list ap;
	int n = 0;

	args[n++] = "python3";
	args[n++] = SERVER;
	va_start(ap, opt);
	for (; opt != NULL && n < 15; opt = va_arg(ap, const char *))
		args[n++] = (char *)opt;
	va_end(ap);
	args[n] = NULL;
	memset(&conf, 0, sizeof conf);
	conf.argv = args;
	conf.timeout_ms = 5000;
	conf.grace_ms = 500;
	conf.notify = on_notify;
	conf.note = on_note;
	jv_free(notes);
	jv_free(notices);
	notes = jv_array();
	notices = jv_array();
	t0 = au_mono_ms();
}

/* The same with a command of its own instead of the test server. */
static void
command(char *const *argv)
{
	server(NULL);
	conf.argv = argv;
}

static int64_t
took(void)
{
	return au_mono_ms() - t0;
}

/* The value at path (a jq path as an array, given as JSON) of v
 * (borrowed). */
static jv
at_path(jv v, const char *path)
{
	return jv_getpath(jv_copy(v), jv_parse(path));
}

/* The string at path of v (borrowed), malloc'd, or NULL. */
static char *
str_at(jv v, const char *path)
{
	jv s = at_path(v, path);
	char *r = jv_get_kind(s) == JV_KIND_STRING ?
	    au_xstrdup(jv_string_value(s)) : NULL;

	jv_free(s);
	return r;
}

static double
num_at(jv v, const char *path)
{
	jv s = at_path(v, path);
	double d = jv_get_kind(s) == JV_KIND_NUMBER ? jv_number_value(s) : -1;

	jv_free(s);
	return d;
}

/* Call tool with args given as JSON text: the result's first text, or
 * "rc=N" when the call did not return 0; *res keeps the result if res is
 * not NULL. */
static char *
call(struct au_mcp *m, const char *tool, const char *argjson,
    int64_t timeout, jv *res)
{
	jv r;
	int rc = au_mcp_call(m, tool, jv_parse(argjson), timeout, &r);
	char *text = rc == 0 ? str_at(r, "[\"content\",0,\"text\"]") :
	    au_xasprintf("rc=%d", rc);

	if (res != NULL)
		*res = r;
	else
		jv_free(r);
	return text;
}

static void
test_session(void)
{
	static char *env[] = { "AU_MCP_TEST=hello there", "PATH=/usr/bin:/bin",
	    NULL };
	struct au_mcp *m;
	jv tools, res, info;
	int rc;

	server("--page", "3", "--extra", "20", NULL);
	conf.env = env;
	rc = au_mcp_open(&conf, &m);
	is_int(rc, 0, "open: %s", rc ? au_errmsg() : "ok");
	if (rc != 0)
		return;
	is_str(au_mcp_version(m), "2025-11-25", "the version offered is "
	    "taken");
	ok(au_mcp_pipelines(m), "stdio takes several requests on their way");
	info = au_mcp_server(m);
	is_str_free(str_at(info, "[\"serverInfo\",\"name\"]"),
	    "agentutils-test-server", "the server's initialize result");
	jv_free(info);

	is_int(au_mcp_tools(m, &tools), 0, "tools/list");
	is_int(jv_array_length(jv_copy(tools)), 30, "every page merged");
	is_str_free(str_at(tools, "[0,\"name\"]"), "echo", "first tool");
	is_str_free(str_at(tools, "[10,\"name\"]"), "tool_001",
	    "eleventh tool");
	is_str_free(str_at(tools, "[29,\"name\"]"), "tool_020", "last tool");
	is_str_free(str_at(tools, "[1,\"inputSchema\",\"type\"]"), "object",
	    "tools keep their schemas");
	jv_free(tools);

	free(call(m, "stats", "{}", 0, &res));
	is_int(num_at(res, "[\"structuredContent\",\"list_pages\"]"), 10,
	    "ten pages of three asked for");
	ok(jv_equal(at_path(res, "[\"structuredContent\",\"initialized\"]"),
	    jv_true()), "notifications/initialized was sent");
	is_str_free(str_at(res, "[\"structuredContent\",\"client\",\"name\"]"),
	    "agentutils", "clientInfo name");
	is_str_free(str_at(res,
	    "[\"structuredContent\",\"client\",\"version\"]"), AU_VERSION,
	    "clientInfo version");
	jv_free(res);

	is_str_free(call(m, "echo", "{\"text\":\"hello\"}", 0, NULL), "hello",
	    "echo");
	is_str_free(call(m, "add", "{\"a\":2,\"b\":3}", 0, &res), "5", "add");
	is_int(num_at(res, "[\"structuredContent\",\"sum\"]"), 5,
	    "structuredContent");
	jv_free(res);
	is_str_free(call(m, "fail", "{\"text\":\"no luck\"}", 0, &res),
	    "no luck", "a failing tool is a result");
	ok(jv_equal(at_path(res, "[\"isError\"]"), jv_true()),
	    "with isError");
	jv_free(res);
	is_str_free(call(m, "getenv", "{\"name\":\"AU_MCP_TEST\"}", 0, NULL),
	    "hello there", "extra environment");
	is_str_free(call(m, "getenv", "{\"name\":\"HOME\"}", 0, NULL),
	    getenv("HOME") ? getenv("HOME") : "", "and ours under it");

	is_str_free(call(m, "nosuch", "null", 0, &res), "rc=1",
	    "an unknown tool is a JSON-RPC error");
	is_str(au_errmsg(), "tools/call \"nosuch\": the server answered error "
	    "-32602: Unknown tool: nosuch", "its message");
	is_int(num_at(res, "[\"code\"]"), -32602, "the error object");
	jv_free(res);
	is_int(au_mcp_ping(m), 0, "ping");
	is_int(au_mcp_close(m), 0, "the server ends when its stdin does");
	ok(took() < 10000, "in time (%lld ms)", (long long)took());
}

static void
test_versions(void)
{
	static const char *const v[] = { "2025-11-25", "2025-06-18",
	    "2025-03-26", "2024-11-05" };
	struct au_mcp *m;
	size_t i;
	int rc;

	for (i = 0; i < 4; i++) {
		server("--protocol", v[i], NULL);
		rc = au_mcp_open(&conf, &m);
		is_int(rc, 0, "version %s is accepted", v[i]);
		if (rc == 0)
			is_str(au_mcp_version(m), v[i], "and kept");
		au_mcp_close(m);
	}
	server("--old-version", NULL);
	rc = au_mcp_open(&conf, &m);
	is_int(rc, 0, "a server of 2024-11-05 only");
	if (rc == 0)
		is_str(au_mcp_version(m), "2024-11-05", "negotiates down");
	au_mcp_close(m);

	server("--bad-version", NULL);
	is_int(au_mcp_open(&conf, &m), 69, "an unknown version");
	is_str(au_errmsg(), "initialize: the server speaks protocol version "
	    "\"1999-01-01\", not one of 2025-11-25, 2025-06-18, 2025-03-26, "
	    "2024-11-05", "is refused, saying which");
	ok(m == NULL, "no session");
	ok(took() < 10000, "in time (%lld ms)", (long long)took());
}

static void
test_notifications(void)
{
	struct au_mcp *m;
	jv n;

	server(NULL);
	if (au_mcp_open(&conf, &m) != 0) {
		ok(0, "open: %s", au_errmsg());
		return;
	}
	is_str_free(call(m, "progress", "{\"steps\":3,\"stale\":true}", 0,
	    NULL), "done", "progress");
	is_int(jv_array_length(jv_copy(notices)), 3, "three notifications");
	is_str_free(str_at(notices, "[2,\"method\"]"),
	    "notifications/progress", "of progress");
	is_int(num_at(notices, "[2,\"params\",\"progress\"]"), 3,
	    "in order");
	is_int(num_at(notices, "[0,\"params\",\"progressToken\"]"), 2,
	    "for the call's token, its request id");
	ok(noted("progress of a request that is over was ignored"),
	    "progress for another token is noted and dropped");
	is_str(au_mcp_version(m), "2025-11-25", "version");
	jv_free(notices);
	notices = jv_array();
	is_str_free(call(m, "log", "{\"level\":\"warning\",\"text\":"
	    "\"careful\"}", 0, NULL), "logged", "log");
	n = jv_array_get(jv_copy(notices), 0);
	is_str_free(str_at(n, "[\"method\"]"), "notifications/message",
	    "a logging notification");
	is_str_free(str_at(n, "[\"params\",\"data\"]"), "careful",
	    "its data");
	is_str_free(str_at(n, "[\"params\",\"level\"]"), "warning",
	    "its level");
	jv_free(n);
	au_mcp_close(m);

	server(NULL);
	conf.notify = NULL;
	if (au_mcp_open(&conf, &m) != 0) {
		ok(0, "open: %s", au_errmsg());
		return;
	}
	is_str_free(call(m, "progress", "{\"steps\":3}", 0, NULL), "done",
	    "without a notify function no progress is asked for");
	is_int(jv_array_length(jv_copy(notices)), 0, "nor given");
	au_mcp_close(m);
}

static void
test_server_requests(void)
{
	static const char *const refused[] = { "sampling/createMessage",
	    "elicitation/create", "roots/list", "something/else" };
	struct au_mcp *m;
	char argj[128], note[128];
	jv res;
	size_t i;

	server(NULL);
	if (au_mcp_open(&conf, &m) != 0) {
		ok(0, "open: %s", au_errmsg());
		return;
	}
	for (i = 0; i < 4; i++) {
		snprintf(argj, sizeof argj, "{\"method\":\"%s\"}", refused[i]);
		free(call(m, "ask_sampling", argj, 0, &res));
		is_int(num_at(res, "[\"structuredContent\",\"answer\","
		    "\"error\",\"code\"]"), -32601, "%s is answered method "
		    "not found", refused[i]);
		jv_free(res);
		snprintf(note, sizeof note, "the server asked for \"%s\", "
		    "which is not offered", refused[i]);
		ok(noted(note), "and noted");
	}
	free(call(m, "ask_sampling", "{}", 0, &res));
	is_str_free(str_at(res, "[\"structuredContent\",\"answer\",\"error\","
	    "\"message\"]"), "Method not found: sampling/createMessage",
	    "sampling by default");
	jv_free(res);
	free(call(m, "ask_sampling", "{\"method\":\"ping\"}", 0, &res));
	ok(jv_equal(at_path(res, "[\"structuredContent\",\"answer\","
	    "\"result\"]"), jv_object()), "the server's ping is answered");
	jv_free(res);
	is_int(au_mcp_close(m), 0, "close");
}

/* A call of m's server past its timeout (on transport what): cancelled,
 * and the session going on. */
static void
cancelled(struct au_mcp *m, const char *what)
{
	jv res;

	t0 = au_mono_ms();
	is_str_free(call(m, "sleep", "{\"ms\":5000}", 300, NULL), "rc=75",
	    "%s: a call past its timeout", what);
	ok(took() >= 300 && took() < 1500, "ends at the timeout (%lld ms)",
	    (long long)took());
	is_str(au_errmsg(), "tools/call \"sleep\": no answer within 300ms "
	    "(cancelled)", "saying so");
	is_str_free(call(m, "echo", "{\"text\":\"still here\"}", 0, NULL),
	    "still here", "the session goes on");
	free(call(m, "stats", "{}", 0, &res));
	is_int(num_at(res, "[\"structuredContent\",\"cancelled\",0,"
	    "\"requestId\"]"), 2, "notifications/cancelled named the request");
	is_str_free(str_at(res, "[\"structuredContent\",\"cancelled\",0,"
	    "\"reason\"]"), "no answer within 300ms", "with a reason");
	jv_free(res);
}

/* A watch that says stop at an 'x' on its pipe. */
static int
at_x(void *arg)
{
	struct au_watch *w = arg;
	char ch;

	return read(w->fd, &ch, 1) == 1 && ch == 'x';
}

/* A call given up at its watch's word (on transport what): cancelled at
 * once, the server told why (its nth cancellation, of request id), the
 * session going on. */
static void
watched(struct au_mcp *m, struct au_watch *w, const char *what, int nth,
    int id)
{
	char path[64];
	int fd[2];
	jv res;

	if (pipe(fd) != 0) {
		ok(0, "%s: pipe", what);
		return;
	}
	w->fd = fd[0];
	w->stopped = 0;
	is_str_free(call(m, "echo", "{\"text\":\"before\"}", 0, NULL),
	    "before", "%s: a call answered while the watch is quiet", what);
	is_int(w->stopped, 0, "%s: and not stopped", what);
	if (write(fd[1], "nx", 2) != 2)
		ok(0, "%s: write", what);
	t0 = au_mono_ms();
	is_str_free(call(m, "sleep", "{\"ms\":5000}", 3000, NULL), "rc=75",
	    "%s: a call stopped by its watch", what);
	ok(took() < 1500, "%s: at once (%lld ms)", what, (long long)took());
	is_int(w->stopped, 1, "%s: stopped set", what);
	is_str(au_errmsg(), "tools/call \"sleep\": cancelled", "%s: saying so",
	    what);
	close(fd[1]);
	w->fd = -1;
	close(fd[0]);
	free(call(m, "stats", "{}", 0, &res));
	snprintf(path, sizeof path, "[\"structuredContent\",\"cancelled\","
	    "%d,\"requestId\"]", nth);
	is_int(num_at(res, path), id, "%s: notifications/cancelled named "
	    "the request", what);
	snprintf(path, sizeof path, "[\"structuredContent\",\"cancelled\","
	    "%d,\"reason\"]", nth);
	is_str_free(str_at(res, path), "given up by the caller",
	    "%s: with a reason", what);
	jv_free(res);
}

static void
test_watch(void)
{
	struct au_watch w = { -1, at_x, &w, 0 };
	struct au_mcp *m;

	server(NULL);
	conf.watch = &w;
	if (au_mcp_open(&conf, &m) != 0) {
		ok(0, "open: %s", au_errmsg());
		return;
	}
	watched(m, &w, "stdio", 0, 3);
	is_int(au_mcp_close(m), 0, "close");
}

static void
test_timeout(void)
{
	struct au_mcp *m;
	size_t len;

	server(NULL);
	if (au_mcp_open(&conf, &m) != 0) {
		ok(0, "open: %s", au_errmsg());
		return;
	}
	cancelled(m, "stdio");
	ok(strstr(au_mcp_stderr(m, &len), "request 2 cancelled") != NULL,
	    "the server saw it");
	is_int(au_mcp_close(m), 0, "close");

	server("--ignore-cancel", NULL);
	if (au_mcp_open(&conf, &m) != 0) {
		ok(0, "open: %s", au_errmsg());
		return;
	}
	is_str_free(call(m, "sleep", "{\"ms\":400}", 100, NULL), "rc=75",
	    "a server that ignores the cancellation");
	is_str_free(call(m, "echo", "{\"text\":\"next\"}", 0, NULL), "next",
	    "answers late, and the next call gets its own answer");
	ok(noted("a late answer to request 2 was ignored"),
	    "the late one noted");
	au_mcp_close(m);
	ok(took() < 10000, "in time (%lld ms)", (long long)took());
}

/* The answer to call id, waited for up to timeout: its first text, or
 * "rc=N". */
static char *
answer_of(struct au_mcp *m, const char *tool, int64_t id, int64_t timeout)
{
	jv r;
	int rc = au_mcp_call_wait(m, tool, id, timeout, &r);
	char *text = rc == 0 ? str_at(r, "[\"content\",0,\"text\"]") :
	    au_xasprintf("rc=%d", rc);

	jv_free(r);
	return text;
}

static void
test_pipeline(void)
{
	struct au_mcp *m;
	int64_t id[3], slow, next;
	char text[64];
	int i, rc = 0;

	server(NULL);
	if (au_mcp_open(&conf, &m) != 0) {
		ok(0, "open: %s", au_errmsg());
		return;
	}
	for (i = 0; i < 3; i++) {
		snprintf(text, sizeof text, "{\"text\":\"t%d\"}", i);
		rc |= au_mcp_call_send(m, "echo", jv_parse(text), &id[i]);
	}
	is_int(rc, 0, "three calls sent before any answer");
	is_str_free(answer_of(m, "echo", id[2], 0), "t2", "the last, waited "
	    "for first, gets its own answer");
	is_str_free(answer_of(m, "echo", id[0], 0), "t0", "the first, kept "
	    "for its turn");
	is_str_free(answer_of(m, "echo", id[1], 0), "t1", "and the second");
	ok(!noted("ignored"), "no answer was taken for a stray one");

	au_mcp_call_send(m, "sleep", jv_parse("{\"ms\":20000}"), &slow);
	au_mcp_call_send(m, "echo", jv_parse("{\"text\":\"after\"}"), &next);
	is_str_free(answer_of(m, "sleep", slow, 100), "rc=75", "a call "
	    "among others times out, cancelled");
	is_str_free(answer_of(m, "echo", next, 0), "after", "the call sent "
	    "after it still gets its answer");
	is_int(au_mcp_close(m), 0, "close");
	ok(took() < 15000, "in time (%lld ms)",
	    (long long)took());
}

static void
test_hostile(void)
{
	struct au_mcp *m;
	char *text;
	int rc;

	server("--garbage", NULL);
	if (au_mcp_open(&conf, &m) != 0) {
		ok(0, "open: %s", au_errmsg());
		return;
	}
	is_str_free(call(m, "echo", "{\"text\":\"x\"}", 0, NULL), "rc=69",
	    "a malformed line");
	is_str(au_errmsg(), "tools/call \"echo\": the server sent a malformed "
	    "message: invalid JSON: invalid literal at byte 1 of "
	    "\"this is {not JSON\"", "is a protocol error");
	is_int(au_mcp_ping(m), 69, "the session is over");
	ok(strncmp(au_errmsg(), "ping: the session is over: the server sent "
	    "a malformed message", 60) == 0, "and says why: %s", au_errmsg());
	au_mcp_close(m);

	server("--wrong-id", NULL);
	rc = au_mcp_open(&conf, &m);
	is_str_free(rc ? NULL : call(m, "echo", "{\"text\":\"x\"}", 0, NULL),
	    "x", "an answer with a wrong id");
	ok(noted("an answer to request 1002, which was never made, was "
	    "ignored"), "is noted and ignored");
	au_mcp_close(m);

	server("--huge", "3000000", NULL);
	conf.max_msg = 1 << 20;
	rc = au_mcp_open(&conf, &m);
	is_str_free(rc ? NULL : call(m, "echo", "{\"text\":\"x\"}", 0, NULL),
	    "rc=69", "a message over the limit");
	is_str(au_errmsg(), "tools/call \"echo\": the server sent a message "
	    "over 1048576 bytes", "is refused");
	au_mcp_close(m);
	server("--huge", "500000", NULL);
	rc = au_mcp_open(&conf, &m);
	text = rc ? NULL : call(m, "echo", "{}", 0, NULL);
	is_int(text ? strlen(text) : 0, 500000, "a big message within it "
	    "comes whole");
	free(text);
	au_mcp_close(m);

	server("--silent", NULL);
	conf.timeout_ms = 300;
	is_int(au_mcp_open(&conf, &m), 69, "a server that never answers");
	is_str(au_errmsg(), "initialize: no answer within 300ms",
	    "times out");
	ok(took() >= 300 && took() < 10000, "in time (%lld ms)",
	    (long long)took());

	server("--flood", NULL);
	conf.notify = NULL;
	rc = au_mcp_open(&conf, &m);
	t0 = au_mono_ms();
	is_str_free(rc ? NULL : call(m, "echo", "{}", 300, NULL), "rc=75",
	    "a server that floods notifications");
	ok(took() >= 300 && took() < 1500, "still times out (%lld ms)",
	    (long long)took());
	au_mcp_close(m);

	server("--exit-mid-call", NULL);
	rc = au_mcp_open(&conf, &m);
	is_str_free(rc ? NULL : call(m, "echo", "{\"text\":\"x\"}", 0, NULL),
	    "rc=69", "a server that exits in the middle of a call");
	is_str(au_errmsg(), "tools/call \"echo\": the server exited with "
	    "status 3; its stderr ends \"server.py: exiting in the middle of "
	    "a call\"", "names its status and its last words");
	is_int(au_mcp_close(m), 3, "close tells its status");
	ok(took() < 10000, "in time (%lld ms)", (long long)took());
}

static void
test_commands(void)
{
	static char *missing[] = { "/nonexistent/mcp-server", NULL };
	static char *badconf[] = { "sh", "-c", "echo 'bad config' >&2; "
	    "exit 78", NULL };
	static char *pwd[] = { "sh", "-c", "pwd >&2; exit 1", NULL };
	static char *killed[] = { "sh", "-c", "kill -KILL $$", NULL };
	static char *notrpc[] = { "sh", "-c", "read x; echo '{\"hello\":1}'; "
	    "sleep 30", NULL };
	static char *array[] = { "sh", "-c", "read x; echo '[1]'; sleep 30",
	    NULL };
	static char *deaf[] = { "sh", "-c", "exec 0<&-; sleep 0.2; exit 5",
	    NULL };
	struct au_mcp *m;

	command(missing);
	is_int(au_mcp_open(&conf, &m), 69, "a missing command");
	is_str(au_errmsg(), "cannot start the server: /nonexistent/mcp-server: "
	    "command not found", "says so");

	command(badconf);
	is_int(au_mcp_open(&conf, &m), 69, "a server that exits at once");
	is_str(au_errmsg(), "initialize: the server exited with status 78; "
	    "its stderr ends \"bad config\"", "says how, and its last words");

	command(pwd);
	conf.dir = "/";
	is_int(au_mcp_open(&conf, &m), 69, "a server run in a directory");
	is_str(au_errmsg(), "initialize: the server exited with status 1; "
	    "its stderr ends \"/\"", "runs there");
	conf.dir = "/nonexistent";
	is_int(au_mcp_open(&conf, &m), 69, "a directory that is not there");
	is_str(au_errmsg(), "cannot start the server: sh: cannot change "
	    "directory to /nonexistent: No such file or directory",
	    "says so");

	command(killed);
	is_int(au_mcp_open(&conf, &m), 69, "a server killed");
	is_str(au_errmsg(), "initialize: the server was killed by signal 9",
	    "says by what");

	command(notrpc);
	conf.grace_ms = 100;
	is_int(au_mcp_open(&conf, &m), 69, "a message that is not JSON-RPC");
	is_str(au_errmsg(), "initialize: the server sent a message that is "
	    "not JSON-RPC 2.0: \"{\\\"hello\\\":1}\"", "is refused");
	ok(took() < 3000, "and its process group is ended in time (%lld ms)",
	    (long long)took());

	command(array);
	conf.grace_ms = 100;
	is_int(au_mcp_open(&conf, &m), 69, "a message that is not an object");
	is_str(au_errmsg(), "initialize: the server sent a message that is "
	    "not JSON-RPC 2.0: \"[1]\"", "is refused, not a crash");

	command(deaf);
	is_int(au_mcp_open(&conf, &m), 69, "a server that closes its stdin");
	is_str(au_errmsg(), "initialize: the server exited with status 5",
	    "costs no SIGPIPE");
}

static void
noisy(void)
{
	struct au_mcp *m;

	server("--stderr-noise", NULL);
	conf.max_stderr = 1000;
	conf.pass_stderr = 1;
	if (au_mcp_open(&conf, &m) == 0) {
		free(call(m, "echo", "{\"text\":\"x\"}", 0, NULL));
		au_mcp_close(m);
	}
	jv_free(notes);
	jv_free(notices);
	notes = notices = jv_invalid();
}

static void
test_stderr(void)
{
	static char *stubborn[] = { "python3", SERVER, "--stubborn", NULL };
	struct au_mcp *m;
	struct child c;
	const char *err, *msg;
	size_t len;
	int i, rc;

	server("--stderr-noise", NULL);
	conf.max_stderr = 4096;
	rc = au_mcp_open(&conf, &m);
	for (i = 0; i < 5 && rc == 0; i++)
		is_str_free(call(m, "echo", "{\"text\":\"x\"}", 0, NULL), "x",
		    "a server that floods its stderr, call %d", i + 1);
	err = rc ? "" : au_mcp_stderr(m, &len);
	is_int(rc ? 0 : len, 4096, "its stderr is kept up to the limit");
	ok(len > 6 && strcmp(err + len - 7, "noise \n") == 0,
	    "the last of it");
	au_mcp_close(m);

	child_run(noisy, &c);
	msg = "the server's stderr is over 1000 bytes: the rest is not shown";
	ok(strstr(c.err, msg) != NULL, "passed on stderr is cut");
	ok(strlen(c.err) < 1000 + strlen(msg) + 64, "at the limit (%zu)",
	    strlen(c.err));
	ok(strncmp(c.err, "noise noise ", 12) == 0, "after what it wrote");

	command(stubborn);
	conf.grace_ms = 200;
	if (au_mcp_open(&conf, &m) != 0) {
		ok(0, "open: %s", au_errmsg());
		return;
	}
	t0 = au_mono_ms();
	is_int(au_mcp_close(m), 128 + SIGKILL, "a server that ignores the "
	    "end of stdin and SIGTERM is killed");
	ok(took() >= 400 && took() < 1500, "after two grace periods (%lld "
	    "ms)", (long long)took());
}

/* ---- Streamable HTTP --------------------------------------------------- */

static pid_t httpd = -1;
static int httpd_err = -1;	/* its stderr, a file */
static char url[64];

/* Start the test server over HTTP with the options given (a NULL ends
 * them), and make conf a session with it, as server() does: 0, or -1
 * when it does not start listening within ten seconds. */
static int
http_server(const char *opt, ...)
{
	char *argv[20], portfile[64], buf[32];
	va_list ap;
	int n = 0, i, fd;

	snprintf(portfile, sizeof portfile, "%s/port.%d", getenv("TMPDIR") ?
	    getenv("TMPDIR") : "/tmp", (int)getpid());
	unlink(portfile);
	argv[n++] = "python3";
	argv[n++] = SERVER;
	argv[n++] = "--http";
	argv[n++] = portfile;
	va_start(ap, opt);
	for (; opt != NULL && n < 19; opt = va_arg(ap, const char *))
		argv[n++] = (char *)opt;
	va_end(ap);
	argv[n] = NULL;
	if (httpd_err < 0)
		httpd_err = tmpfd();
	if (ftruncate(httpd_err, 0) != 0 || lseek(httpd_err, 0, SEEK_SET) != 0)
		return -1;
	fflush(stdout);
	if ((httpd = fork()) == 0) {
		dup2(httpd_err, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	server(NULL);
	conf.argv = NULL;
	conf.url = url;
	for (i = 0; i < 200; i++) {
		if ((fd = open(portfile, O_RDONLY)) >= 0) {
			readall(fd, buf, sizeof buf);
			close(fd);
			unlink(portfile);
			snprintf(url, sizeof url, "http://127.0.0.1:%d/mcp",
			    atoi(buf));
			t0 = au_mono_ms();
			return 0;
		}
		usleep(50000);
	}
	ok(0, "the HTTP server did not start");
	return -1;
}

static void
http_stop(void)
{
	if (httpd > 0) {
		kill(httpd, SIGTERM);
		child_wait(httpd);
	}
	httpd = -1;
}

/* What the HTTP server said on its stderr. */
static char *
http_said(void)
{
	static char buf[4096];

	readall(httpd_err, buf, sizeof buf);
	return buf;
}

static void
test_http_session(const char *reply)
{
	static char *headers[] = { "X-Test: one two", NULL };
	struct au_mcp *m;
	jv tools, res;
	char *sid;
	int rc;

	if (http_server("--reply", reply, "--page", "3", "--extra", "20",
	    "--require-header", "X-Test: one two", NULL) != 0)
		return;
	conf.headers = headers;
	rc = au_mcp_open(&conf, &m);
	is_int(rc, 0, "HTTP, %s replies: open: %s", reply, rc ? au_errmsg() :
	    "ok");
	if (rc != 0) {
		http_stop();
		return;
	}
	ok(!au_mcp_pipelines(m), "HTTP takes one request at a time");
	is_str(au_mcp_version(m), "2025-11-25", "the version offered is "
	    "taken");
	is_int(au_mcp_tools(m, &tools), 0, "tools/list");
	is_int(jv_array_length(jv_copy(tools)), 30, "every page merged");
	jv_free(tools);
	free(call(m, "stats", "{}", 0, &res));
	ok(jv_equal(at_path(res, "[\"structuredContent\",\"initialized\"]"),
	    jv_true()), "notifications/initialized was sent");
	is_str_free(str_at(res, "[\"structuredContent\",\"protocol_header\"]"),
	    "2025-11-25", "MCP-Protocol-Version follows the negotiation");
	is_str_free(str_at(res, "[\"structuredContent\",\"client\",\"name\"]"),
	    "agentutils", "clientInfo");
	jv_free(res);
	free(call(m, "headers", "{}", 0, &res));
	sid = str_at(res, "[\"structuredContent\",\"mcp-session-id\"]");
	ok(sid != NULL && strlen(sid) == 32, "the session id is sent");
	is_str_free(str_at(res, "[\"structuredContent\",\"x-test\"]"),
	    "one two", "and the configured headers");
	is_str_free(str_at(res, "[\"structuredContent\",\"accept\"]"),
	    "application/json, text/event-stream", "Accept names both");
	jv_free(res);
	is_str_free(call(m, "echo", "{\"text\":\"hello\"}", 0, NULL), "hello",
	    "echo");
	is_str_free(call(m, "add", "{\"a\":2,\"b\":3}", 0, &res), "5", "add");
	is_int(num_at(res, "[\"structuredContent\",\"sum\"]"), 5,
	    "structuredContent");
	jv_free(res);
	is_str_free(call(m, "nosuch", "null", 0, &res), "rc=1",
	    "an unknown tool is a JSON-RPC error");
	is_str(au_errmsg(), "tools/call \"nosuch\": the server answered error "
	    "-32602: Unknown tool: nosuch", "its message");
	jv_free(res);
	is_int(au_mcp_ping(m), 0, "ping");
	is_int(au_mcp_close(m), 0, "close");
	ok(sid != NULL && strstr(http_said(), sid) != NULL,
	    "the session is DELETEd");
	free(sid);
	http_stop();
	ok(took() < 10000, "in time (%lld ms)", (long long)took());
}

static void
test_http_stream(void)
{
	struct au_mcp *m;
	jv res;

	if (http_server("--reply", "sse", NULL) != 0)
		return;
	if (au_mcp_open(&conf, &m) != 0) {
		ok(0, "open: %s", au_errmsg());
		http_stop();
		return;
	}
	is_str_free(call(m, "progress", "{\"steps\":3,\"stale\":true}", 0,
	    NULL), "done", "HTTP: progress on the event stream");
	is_int(jv_array_length(jv_copy(notices)), 3, "three notifications");
	is_int(num_at(notices, "[2,\"params\",\"progress\"]"), 3, "in order");
	ok(noted("progress of a request that is over was ignored"),
	    "progress for another token is dropped");
	free(call(m, "ask_sampling", "{}", 0, &res));
	is_int(num_at(res, "[\"structuredContent\",\"answer\",\"error\","
	    "\"code\"]"), -32601, "the server's request, POSTed back, is "
	    "answered method not found");
	jv_free(res);
	free(call(m, "ask_sampling", "{\"method\":\"ping\"}", 0, &res));
	ok(jv_equal(at_path(res, "[\"structuredContent\",\"answer\","
	    "\"result\"]"), jv_object()), "its ping is answered");
	jv_free(res);
	au_mcp_close(m);
	http_stop();

	if (http_server("--reply", "sse", "--wrong-id", NULL) != 0 ||
	    au_mcp_open(&conf, &m) != 0) {
		http_stop();
		return;
	}
	is_str_free(call(m, "echo", "{\"text\":\"x\"}", 0, NULL), "x",
	    "HTTP: an answer with a wrong id on the stream");
	ok(noted("an answer to request 1002, which was never made, was "
	    "ignored"), "is noted and ignored");
	au_mcp_close(m);
	http_stop();

	if (http_server("--reply", "sse", "--old-version", NULL) != 0 ||
	    au_mcp_open(&conf, &m) != 0) {
		http_stop();
		return;
	}
	is_str(au_mcp_version(m), "2024-11-05", "HTTP: negotiates down");
	free(call(m, "stats", "{}", 0, &res));
	is_str_free(str_at(res, "[\"structuredContent\",\"protocol_header\"]"),
	    "2024-11-05", "and says so in MCP-Protocol-Version");
	jv_free(res);
	au_mcp_close(m);
	http_stop();
}

static void
test_http_timeout(const char *reply)
{
	struct au_watch w = { -1, at_x, &w, 0 };
	struct au_mcp *m;

	if (http_server("--reply", reply, NULL) != 0)
		return;
	conf.watch = &w;
	if (au_mcp_open(&conf, &m) != 0) {
		ok(0, "open: %s", au_errmsg());
		http_stop();
		return;
	}
	cancelled(m, reply[0] == 'j' ? "HTTP, JSON replies" :
	    "HTTP, event-stream replies");
	ok(strstr(http_said(), "request 2 cancelled") != NULL,
	    "the server saw it");
	watched(m, &w, reply[0] == 'j' ? "HTTP, JSON replies" :
	    "HTTP, event-stream replies", 1, 6);
	au_mcp_close(m);
	http_stop();
}

/* Open a session with the server started with the options given, and
 * call echo: the call's "rc=N" or text. */
static char *
http_echo(const char *opt, ...)
{
	char *argv[8], *text;
	struct au_mcp *m;
	va_list ap;
	int n = 0;

	va_start(ap, opt);
	for (; opt != NULL && n < 7; opt = va_arg(ap, const char *))
		argv[n++] = (char *)opt;
	va_end(ap);
	argv[n] = NULL;
	if (http_server(argv[0], argv[1], argv[2], argv[3], NULL) != 0)
		return NULL;
	conf.max_msg = 1 << 20;
	conf.timeout_ms = 2000;
	if (au_mcp_open(&conf, &m) != 0) {
		text = au_xasprintf("open: %s", au_errmsg());
		http_stop();
		return text;
	}
	text = call(m, "echo", "{\"text\":\"x\"}", 0, NULL);
	if (strncmp(text, "rc=69", 5) == 0 && au_mcp_ping(m) != 69)
		ok(0, "the session goes on after 69");
	au_mcp_close(m);
	http_stop();
	return text;
}

static void
test_http_hostile(void)
{
	static const char *const replies[] = { "json", "sse" };
	struct au_mcp *m;
	char *text;
	size_t i;

	for (i = 0; i < 2; i++) {
		is_str_free(http_echo("--reply", replies[i], "--garbage", NULL),
		    "rc=69", "HTTP, %s: a malformed message", replies[i]);
		ok(strncmp(au_errmsg(), "ping: the session is over: the server "
		    "sent a malformed message: invalid JSON", 70) == 0,
		    "ends the session: %s", au_errmsg());
		is_str_free(http_echo("--reply", replies[i], "--huge",
		    "3000000"), "rc=69", "HTTP, %s: a message over the limit",
		    replies[i]);
		is_str(au_errmsg(), i == 0 ? "ping: the session is over: the "
		    "server sent a message over 1048576 bytes" : "ping: the "
		    "session is over: the server sent an event over 1048576 "
		    "bytes", "is refused");
		text = http_echo("--reply", replies[i], "--huge", "500000");
		is_int(text ? strlen(text) : 0, 500000, "HTTP, %s: a big "
		    "message within it comes whole", replies[i]);
		free(text);
		is_str_free(http_echo("--reply", replies[i], "--content-type",
		    "text/html"), "open: initialize: the server answered with "
		    "content type \"text/html\", not application/json or "
		    "text/event-stream", "HTTP, %s: a wrong content type",
		    replies[i]);
		is_str_free(http_echo("--reply", replies[i], "--exit-mid-call",
		    NULL), "rc=69", "HTTP, %s: a server gone in the middle of "
		    "a call", replies[i]);
		ok(strstr(au_errmsg(), "cannot reach the server: ") != NULL,
		    "says so: %s", au_errmsg());
	}
	text = http_echo("--expire", "2", NULL);
	is_str(text, "rc=69", "HTTP: a session that expires");
	is_str(au_errmsg(), "ping: the session is over: the session expired: "
	    "the server answered HTTP 404 to its id", "says so, the id not "
	    "shown");
	free(text);
	is_str_free(http_echo("--require-header", "X-Key: k", NULL),
	    "open: initialize: the server answered HTTP 401: \"Unauthorized\"",
	    "HTTP: an error status, with the start of its body");

	if (http_server("--silent", NULL) != 0)
		return;
	conf.timeout_ms = 300;
	is_int(au_mcp_open(&conf, &m), 69, "HTTP: a server that never "
	    "answers");
	is_str(au_errmsg(), "initialize: no answer within 300ms", "times out");
	ok(took() >= 300 && took() < 3000, "in time (%lld ms)",
	    (long long)took());
	http_stop();

	if (http_server("--reply", "sse", "--flood", NULL) != 0)
		return;
	conf.notify = NULL;
	if (au_mcp_open(&conf, &m) == 0) {
		t0 = au_mono_ms();
		is_str_free(call(m, "echo", "{}", 300, NULL), "rc=75",
		    "HTTP: a server that floods notifications");
		ok(took() >= 300 && took() < 1500, "still times out (%lld ms)",
		    (long long)took());
		au_mcp_close(m);
	}
	http_stop();

	server(NULL);
	conf.argv = NULL;
	conf.url = "http://127.0.0.1:1/mcp";
	is_int(au_mcp_open(&conf, &m), 69, "HTTP: nobody listening");
	ok(strncmp(au_errmsg(), "initialize: cannot reach the server: ", 37) ==
	    0, "says so: %s", au_errmsg());
}

/* A server that ends each reply stream once it has given an event id,
 * as protocol 2025-11-25 allows: the rest comes by GET with
 * Last-Event-ID, an event a stream, each after the "retry" asked for. */
static void
test_http_poll(void)
{
	struct au_mcp *m;
	jv res;

	if (http_server("--reply", "sse", "--poll", "100", NULL) != 0)
		return;
	if (au_mcp_open(&conf, &m) != 0) {
		ok(0, "HTTP, polled: open: %s", au_errmsg());
		http_stop();
		return;
	}
	jv_free(notices);
	notices = jv_array();
	t0 = au_mono_ms();
	is_str_free(call(m, "progress", "{\"steps\":3}", 0, NULL), "done",
	    "HTTP, polled: a call answered on its fourth resumption");
	ok(took() >= 400, "each after the retry asked for (%lld ms)",
	    (long long)took());
	is_int(jv_array_length(jv_copy(notices)), 3, "its notifications too");
	is_int(num_at(notices, "[2,\"params\",\"progress\"]"), 3, "in order");
	free(call(m, "stats", "{}", 0, &res));
	is_int(num_at(res, "[\"structuredContent\",\"resumed\",-4]"), 0,
	    "resumed from the priming event's id");
	is_int(num_at(res, "[\"structuredContent\",\"resumed\",-1]"), 3,
	    "then from each last id");
	jv_free(res);
	t0 = au_mono_ms();
	is_str_free(call(m, "sleep", "{\"ms\":5000}", 300, NULL), "rc=75",
	    "HTTP, polled: a call past its timeout, between resumptions");
	ok(took() >= 300 && took() < 1500, "ends at the timeout (%lld ms)",
	    (long long)took());
	is_str_free(call(m, "echo", "{\"text\":\"still here\"}", 0, NULL),
	    "still here", "the session goes on");
	is_int(au_mcp_close(m), 0, "close");
	http_stop();
}

/* The same, its call given up at its watch's word while it waits to
 * take its stream up again: at once, not after the retry asked for. */
static void
test_http_poll_watch(void)
{
	struct au_watch w = { -1, at_x, &w, 0 };
	struct au_mcp *m;
	pid_t pid;
	int fd[2];

	if (http_server("--reply", "sse", "--poll", "2000", NULL) != 0)
		return;
	conf.watch = &w;
	if (au_mcp_open(&conf, &m) != 0 || pipe(fd) != 0) {
		ok(0, "HTTP, polled, watched: open: %s", au_errmsg());
		http_stop();
		return;
	}
	w.fd = fd[0];
	fflush(stdout);
	if ((pid = fork()) == 0) {
		poll(NULL, 0, 500);
		_exit(write(fd[1], "x", 1) != 1);
	}
	t0 = au_mono_ms();
	is_str_free(call(m, "progress", "{\"steps\":3}", 8000, NULL),
	    "rc=75", "HTTP, polled: a call stopped by its watch between "
	    "resumptions");
	ok(took() >= 400 && took() < 1500, "at once, not after the retry "
	    "asked for (%lld ms)", (long long)took());
	is_int(w.stopped, 1, "stopped set");
	is_str(au_errmsg(), "tools/call \"progress\": cancelled",
	    "saying so");
	is_int(child_wait(pid), 0, "the watch was written to");
	close(fd[0]);
	close(fd[1]);
	w.fd = -1;
	au_mcp_close(m);
	http_stop();
}

int
main(void)
{
	au_setprog("test-mcp");
	alarm(300);
	notes = jv_array();
	notices = jv_array();
	test_session();
	test_versions();
	test_notifications();
	test_server_requests();
	test_timeout();
	test_watch();
	test_pipeline();
	test_hostile();
	test_commands();
	test_stderr();
	test_http_session("json");
	test_http_session("sse");
	test_http_stream();
	test_http_timeout("json");
	test_http_timeout("sse");
	test_http_hostile();
	test_http_poll();
	test_http_poll_watch();
	if (httpd_err >= 0)
		close(httpd_err);
	jv_free(notes);
	jv_free(notices);
	return done();
}
