/*
 * tg-serve - the tool gateway as an MCP server over stdio: newline-
 * delimited JSON-RPC 2.0 on standard input and output.  initialize
 * negotiates the protocol version, tools/list pages through every tool of
 * the registry (local ToolSpecs, and the tools of the MCP servers behind
 * it, named server/tool), and tools/call goes through exactly the path
 * tg-invoke takes (lib/gateway.c): validate, decide, ask, run, audit.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
			reply(id, call(id, params));
	} else {
		fault(id, -32601, "method not found");
	}
	jv_free(params);
}

int
main(int argc, char **argv)
{
	struct au_gw_conf c = AU_GW_CONF_INIT;
	const char *arg;
	char *line = NULL, *end;
	size_t cap = 0, at;
	ssize_t n;
	long lineno = 0;
	int ch;
	jv m;

	au_setprog(argv[0]);
	c.stop = &stop;
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
	au_catch_stop(onsignal);
	while (!stop && (n = getline(&line, &cap, stdin)) > 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (au_json_check(line, (size_t)n, &at) != NULL) {
			au_note("<stdin>:%ld: not JSON", lineno);
			fault(jv_null(), -32700, "parse error");
			continue;
		}
		m = jv_parse_sized(line, (int)n);
		if (jv_get_kind(m) != JV_KIND_OBJECT)
			fault(jv_null(), -32600, "not a JSON-RPC request");
		else
			handle(m);
		jv_free(m);
	}
	free(line);
	jv_free(tools);
	au_xgw_close(gw, &c);
	au_out_close();
	return stop ? 128 + stop : 0;
}
