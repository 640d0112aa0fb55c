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

#include <sqlite3.h>

#include "agentutils.h"

enum {
	O_TOOLS = AU_LONG, O_MCP, O_POLICY, O_NOWAIT, O_APPROVAL, O_TIMEOUT,
	O_MAXOUT, O_SANDBOX, O_NOAUDIT, O_PAGE
};

static const struct au_opt opts[] = {
	{ O_TOOLS, "tools", "DIR", "the ToolSpecs in DIR, not tools.d",
	    "DIR" },
	{ O_MCP, "mcp", "FILE", "the MCP servers in FILE, not mcp.json",
	    "FILE" },
	{ O_POLICY, "policy", "FILE", "the policy in FILE, not policy.json",
	    "FILE" },
	{ O_NOWAIT, "no-wait", NULL, "answer asked calls at once, as errors",
	    NULL },
	{ O_APPROVAL, "approval-timeout", "DUR", "wait DUR at most for an "
	    "approval (default 5m)", NULL },
	{ O_TIMEOUT, "timeout", "DUR", "a call's time unless its spec says "
	    "(default 60s)", NULL },
	{ O_MAXOUT, "max-output", "SIZE", "keep SIZE of a tool's output "
	    "(default 1M)", NULL },
	{ O_SANDBOX, "sandbox", "KIND", "firejail (the default) or none",
	    "firejail none" },
	{ O_NOAUDIT, "no-audit", NULL, "keep the calls out of the audit log",
	    NULL },
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
	struct au_gw_conf c = { NULL, NULL, NULL, NULL, NULL, 0, 0, 0,
	    5 * 60 * 1000, 60 * 1000, 1 << 20, &stop };
	struct au_audit_files f = { NULL, NULL, NULL };
	const char *arg;
	char *line = NULL, *end;
	size_t cap = 0, at;
	ssize_t n;
	long lineno = 0;
	int ch, rc, noaudit = 0;
	jv problems = jv_array(), m;
	uint64_t size;

	au_setprog(argv[0]);
	while ((ch = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (ch) {
		case O_TOOLS:
			c.tools = arg;
			break;
		case O_MCP:
			c.mcp = arg;
			break;
		case O_POLICY:
			c.policy = arg;
			break;
		case O_NOWAIT:
			c.nowait = 1;
			break;
		case O_APPROVAL:
			c.approval_ms = au_opt_dur(&cmd, "--approval-timeout",
			    arg);
			break;
		case O_TIMEOUT:
			c.timeout_ms = au_opt_dur(&cmd, "--timeout", arg);
			break;
		case O_MAXOUT:
			if (au_size_parse(arg, &size) != 0 || size == 0 ||
			    size > (uint64_t)1 << 30)
				au_usage_die(&cmd, "--max-output: bad size "
				    "%s", au_quote(arg));
			c.max_output = (size_t)size;
			break;
		case O_SANDBOX:
			if (strcmp(arg, "none") == 0)
				c.nosandbox = 1;
			else if (strcmp(arg, "firejail") != 0)
				au_usage_die(&cmd, "--sandbox: firejail or "
				    "none, not %s", au_quote(arg));
			break;
		case O_NOAUDIT:
			noaudit = 1;
			break;
		case O_PAGE:
			page = (int)strtol(arg, &end, 10);
			if (*arg == '\0' || *end != '\0' || page < 1 ||
			    page > 10000)
				au_usage_die(&cmd, "--page-size: 1 to 10000, "
				    "not %s", au_quote(arg));
			break;
		}
	}
	if (au_optind < argc)
		au_usage_die(&cmd, "no operands expected");
	if (!c.nosandbox) {
		char *fj = au_which("firejail");

		if (fj == NULL)
			au_die(EX_UNAVAILABLE, "firejail: not found (make "
			    "deps installs it; --sandbox=none runs tools "
			    "unconfined)");
		free(fj);
	}
	au_out_init();
	c.db = au_xdb_open();
	if (!noaudit && (rc = au_audit_open(c.db, &f, 0, 0, &c.audit)) != 0)
		au_die(rc, "audit: %s (audit-write --init makes the keys; "
		    "--no-audit says not to audit)", au_errmsg());
	if ((rc = au_gw_open(&c, &gw, &problems)) != 0) {
		jv_array_foreach(problems, i, p) {
			au_err("%s", jv_string_value(p));
			jv_free(p);
		}
		au_die(rc, "%s", au_errmsg());
	}
	jv_array_foreach(problems, i, p) {
		au_warn("%s", jv_string_value(p));
		jv_free(p);
	}
	jv_free(problems);
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
	au_gw_close(gw);
	if (c.audit != NULL && au_audit_close(c.audit) != 0)
		au_die(EX_IOERR, "audit: %s", au_errmsg());
	sqlite3_close(c.db);
	au_out_close();
	return stop ? 128 + stop : 0;
}
