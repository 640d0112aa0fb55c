/*
 * tg-invoke - call tools through the gateway.  Each tool.call record is
 * checked against the tool's input schema, decided by the policy (deny,
 * then grants, then allow, then ask), its decision audited before
 * anything runs, then run: a local tool inside firejail with the profile
 * its spec asks for, an MCP server's tool through one session per server
 * for the whole stream.  A tool.result record answers each call, and the
 * call, the decision and the result go to the audit log with the values
 * of secret-looking fields removed.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "agentutils.h"

enum {
	O_TOOL = AU_LONG, O_ARGS, O_TOOLS, O_MCP, O_POLICY, O_DRYRUN,
	O_NOWAIT, O_APPROVAL, O_TIMEOUT, O_MAXOUT, O_SANDBOX, O_NOAUDIT
};

static const struct au_opt opts[] = {
	{ O_TOOL, "tool", "NAME", "call NAME once, not the calls read",
	    NULL },
	{ O_ARGS, "args", "JSON", "--tool: its arguments (default {})",
	    NULL },
	{ O_TOOLS, "tools", "DIR", "the ToolSpecs in DIR, not tools.d",
	    "DIR" },
	{ O_MCP, "mcp", "FILE", "the MCP servers in FILE, not mcp.json",
	    "FILE" },
	{ O_POLICY, "policy", "FILE", "the policy in FILE, not policy.json",
	    "FILE" },
	{ O_DRYRUN, "dry-run", NULL, "write the decisions, run nothing",
	    NULL },
	{ O_NOWAIT, "no-wait", NULL, "file approval requests, do not wait "
	    "(exit 75)", NULL },
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
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"tg-invoke", "[file ...]",
	"Call tools under the gateway's policy, sandboxed and audited.",
	opts, AU_USE_DB, NULL
};

static sqlite3 *db;
static struct au_audit *audit;
static struct au_tg_reg *reg;
static struct au_tg_policy *policy;
static int dryrun, nowait, nosandbox, worst;
static int64_t approval_ms = 5 * 60 * 1000, timeout_ms = 60 * 1000;
static size_t max_output = 1 << 20;
static volatile sig_atomic_t stop;

/* The compiled input schemas, by tool name: their index in compiled_v,
 * and the names (the map's keys). */
static struct au_map *schemas;
static struct au_jschema **compiled_v;
static char **compiled_n;
static size_t ncompiled, capcompiled, capnames;

/* The MCP sessions, one per server, open until the end. */
struct session {
	const struct au_tg_server *server;
	struct au_mcp *mcp;
	jv tools;		/* its tools/list, by name */
};
static struct session *sessions;
static size_t nsessions, capsessions;

static void
onsignal(int sig)
{
	stop = sig;
}

/* Keep the worse of the exit statuses: a failed tool (1), then a call
 * left waiting (75), a bad call (65), a denied one (77), something that
 * cannot run at all (69). */
static void
outcome(int rc)
{
	static const int rank[] = { 0, 1, EX_TEMPFAIL, EX_DATAERR, EX_NOPERM,
	    EX_UNAVAILABLE };
	int i, r = -1, w = -1;

	for (i = 0; i < (int)(sizeof rank / sizeof rank[0]); i++) {
		if (rank[i] == rc)
			r = i;
		if (rank[i] == worst)
			w = i;
	}
	if (r > w)
		worst = rc;
}

/* Append rec (consumed), secrets removed, to the audit log. */
static void
record(jv rec)
{
	int rc;

	rec = au_jv_redact_names(rec, NULL);
	if (audit != NULL && (rc = au_audit_append(audit, rec, NULL,
	    NULL)) != 0)
		au_die(rc, "audit: %s", au_errmsg());
	jv_free(rec);
}

/* A tool.result for call, to be filled in. */
static jv
result(jv call, const char *decision)
{
	jv r = JV_OBJECT(jv_string("type"), jv_string("tool.result"));
	jv id = jv_object_get(jv_copy(call), jv_string("id"));

	if (jv_is_valid(id) && jv_get_kind(id) != JV_KIND_NULL)
		r = jv_object_set(r, jv_string("id"), id);
	else
		jv_free(id);
	r = jv_object_set(r, jv_string("tool"), jv_object_get(jv_copy(call),
	    jv_string("tool")));
	if (decision != NULL)
		r = jv_object_set(r, jv_string("decision"),
		    jv_string(decision));
	return r;
}

/* r (consumed) as an error result saying text, written and audited. */
static void
fail(jv r, const char *text, int rc)
{
	r = jv_object_set(r, jv_string("content"), JV_ARRAY(JV_OBJECT(
	    jv_string("type"), jv_string("text"), jv_string("text"),
	    jv_string(text))));
	r = jv_object_set(r, jv_string("is_error"), jv_true());
	au_out_rec(r);
	record(r);
	outcome(rc);
}

/* The session with server s, opened on first use: NULL when it cannot
 * be (69, reported). */
static struct session *
session(const struct au_tg_server *s)
{
	struct au_mcp_conf c;
	struct session *x;
	char **argv = NULL, **env, **base, **cmdv;
	size_t i, n;
	int rc;
	jv tools;

	for (i = 0; i < nsessions; i++)
		if (sessions[i].server == s)
			return sessions[i].mcp ? &sessions[i] : NULL;
	sessions = au_grow(sessions, &capsessions, nsessions + 1,
	    sizeof *sessions);
	x = &sessions[nsessions++];
	x->server = s;
	x->mcp = NULL;
	x->tools = jv_object();
	if (s->command == NULL) {
		au_err("%s: Streamable HTTP servers are not supported yet",
		    s->name);
		return NULL;
	}
	for (n = 0; s->args != NULL && s->args[n] != NULL; n++)
		;
	cmdv = au_xcalloc(n + 2, sizeof *cmdv);
	cmdv[0] = (char *)s->command;
	for (i = 0; i < n; i++)
		cmdv[i + 1] = s->args[i];
	if (!nosandbox && (rc = au_sandbox_argv(&s->sandbox, cmdv,
	    &argv)) != 0) {
		au_err("%s: %s", s->name, au_errmsg());
		free(cmdv);
		return NULL;
	}
	base = au_xcalloc((size_t)jv_object_length(jv_copy(s->env)) + 1,
	    sizeof *base);
	n = 0;
	jv_object_foreach(s->env, k, v) {
		if (jv_get_kind(v) == JV_KIND_STRING)
			base[n++] = au_xasprintf("%s=%s", jv_string_value(k),
			    jv_string_value(v));
		jv_free(k);
		jv_free(v);
	}
	env = au_sandbox_env(&s->sandbox, base);
	memset(&c, 0, sizeof c);
	c.argv = argv != NULL ? argv : cmdv;
	c.envp = env;
	c.timeout_ms = s->sandbox.timeout_ms > 0 ? s->sandbox.timeout_ms :
	    timeout_ms;
	rc = au_mcp_open(&c, &x->mcp);
	if (rc == 0 && (rc = au_mcp_tools(x->mcp, &tools)) == 0) {
		jv_array_foreach(tools, i2, t) {
			const char *name = au_jv_str(t, "name");

			if (name != NULL)
				x->tools = jv_object_set(x->tools,
				    jv_string(name), t);
			else
				jv_free(t);
		}
		jv_free(tools);
	}
	if (rc != 0) {
		au_err("%s: %s", s->name, au_errmsg());
		au_mcp_close(x->mcp);
		x->mcp = NULL;
	}
	au_tg_strv_free(argv);
	au_tg_strv_free(env);
	au_tg_strv_free(base);
	free(cmdv);
	return x->mcp ? x : NULL;
}

/* The annotations of an MCP tool (borrowed), as AU_TG_* bits, with MCP's
 * defaults. */
static unsigned
hints(jv tool)
{
	jv a = jv_object_get(jv_copy(tool), jv_string("annotations"));
	static const struct {
		const char *hint;
		unsigned bit;
		int dflt;
	} h[] = {
		{ "readOnlyHint", AU_TG_READ_ONLY, 0 },
		{ "destructiveHint", AU_TG_DESTRUCTIVE, 1 },
		{ "idempotentHint", AU_TG_IDEMPOTENT, 0 },
		{ "openWorldHint", AU_TG_OPEN_WORLD, 1 },
	};
	unsigned bits = 0;
	size_t i;

	for (i = 0; i < sizeof h / sizeof h[0]; i++) {
		jv v = jv_get_kind(a) == JV_KIND_OBJECT ? jv_object_get(
		    jv_copy(a), jv_string(h[i].hint)) : jv_invalid();
		int on = jv_get_kind(v) == JV_KIND_TRUE ? 1 :
		    jv_get_kind(v) == JV_KIND_FALSE ? 0 : h[i].dflt;

		jv_free(v);
		if (on)
			bits |= h[i].bit;
	}
	if (bits & AU_TG_READ_ONLY)
		bits &= ~(unsigned)AU_TG_DESTRUCTIVE;
	jv_free(a);
	return bits;
}

/* The compiled schema of the tool called name (schema consumed): NULL
 * with the problem in *why when it does not compile. */
static struct au_jschema *
compiled(const char *name, jv schema, char **why)
{
	long i = au_map_get(schemas, name, strlen(name));
	struct au_jschema *s;

	*why = NULL;
	if (i >= 0) {
		jv_free(schema);
		return compiled_v[i];
	}
	if (!jv_is_valid(schema) || jv_get_kind(schema) == JV_KIND_NULL) {
		jv_free(schema);
		schema = jv_true();
	}
	if (au_jschema_compile(schema, &s) != 0) {
		*why = au_xstrdup(au_errmsg());
		return NULL;
	}
	compiled_v = au_grow(compiled_v, &capcompiled, ncompiled + 1,
	    sizeof *compiled_v);
	compiled_n = au_grow(compiled_n, &capnames, ncompiled + 1,
	    sizeof *compiled_n);
	compiled_v[ncompiled] = s;
	compiled_n[ncompiled] = au_xstrdup(name);
	au_map_put(schemas, compiled_n[ncompiled], strlen(name),
	    (long)ncompiled);
	ncompiled++;
	return s;
}

/* Wait for the decision on approval request id: 0 approved, 77 denied,
 * 75 nobody answered in time; *why says which. */
static int
wait_approval(const char *id, char **why)
{
	struct timespec nap = { 0, 100 * 1000000 };
	int64_t until = au_mono_ms() + approval_ms;
	const char *st, *reason;
	int rc;
	jv r;

	*why = NULL;
	for (;;) {
		if ((rc = au_approval_expire(db)) != 0 ||
		    (rc = au_approval_get(db, id, &r)) != 0)
			au_die(rc, "%s", au_errmsg());
		st = au_jv_str(r, "status");
		reason = au_jv_str(r, "reason");
		if (strcmp(st, "approved") == 0 || strcmp(st, "denied") == 0) {
			rc = strcmp(st, "approved") == 0 ? 0 : EX_NOPERM;
			*why = au_xasprintf("approval %s %s%s%s", id, st,
			    reason ? ": " : "", reason ? reason : "");
			jv_free(r);
			return rc;
		}
		jv_free(r);
		if (strcmp(st, "pending") != 0 || stop ||
		    au_mono_ms() >= until) {
			*why = au_xasprintf("approval %s not given in time",
			    id);
			return EX_TEMPFAIL;
		}
		nanosleep(&nap, NULL);
	}
}

/* The status of the latest approval request an earlier run filed for
 * this very call (safe, borrowed: the same tool, id and arguments), its
 * id in id; NULL if there is none. */
static char *
earlier(jv safe, char id[AU_ID_LEN])
{
	const char *cid = au_jv_str(safe, "id"), *req, *subj;
	char *want, *st = NULL;
	jv list, d;
	int rc;

	if (cid == NULL)
		return NULL;
	want = au_xasprintf("tool %s call %s", au_jv_str(safe, "tool"), cid);
	if ((rc = au_approval_expire(db)) != 0 ||
	    (rc = au_approval_list(db, NULL, &list)) != 0)
		au_die(rc, "%s", au_errmsg());
	jv_array_foreach(list, i, r) {
		req = au_jv_str(r, "requester");
		subj = au_jv_str(r, "subject");
		if (req != NULL && subj != NULL && strcmp(req, au_prog) == 0 &&
		    strcmp(subj, want) == 0) {
			d = jv_object_get(jv_copy(r), jv_string("details"));
			if (jv_equal(d, jv_copy(safe))) {
				free(st);
				st = au_xstrdup(au_jv_str(r, "status"));
				snprintf(id, AU_ID_LEN, "%s",
				    au_jv_str(r, "id"));
			}
		}
		jv_free(r);
	}
	jv_free(list);
	free(want);
	return st;
}

/* Whether the call may go on after an "ask": 1, or 0 with its result
 * written. */
static int
asked(jv call)
{
	jv safe = au_jv_redact_names(jv_copy(call), NULL), r;
	char id[AU_ID_LEN], *st = earlier(safe, id), *why = NULL;
	int rc;

	if (st != NULL && strcmp(st, "approved") == 0)
		rc = 0;
	else if (st != NULL && strcmp(st, "denied") == 0) {
		why = au_xasprintf("approval %s denied", id);
		rc = EX_NOPERM;
	} else {
		if ((st == NULL || strcmp(st, "pending") != 0) &&
		    (rc = au_tg_ask(db, safe, au_now_ms() + approval_ms,
		    id)) != 0)
			au_die(rc, "%s", au_errmsg());
		if (nowait) {
			why = au_xasprintf("approval %s pending", id);
			rc = EX_TEMPFAIL;
		} else {
			au_note("waiting for approval %s", id);
			rc = wait_approval(id, &why);
		}
	}
	free(st);
	jv_free(safe);
	if (rc != 0) {
		r = result(call, rc == EX_NOPERM ? "deny" : "ask");
		r = jv_object_set(r, jv_string("approval"), jv_string(id));
		fail(r, why, rc);
	}
	free(why);
	return rc == 0;
}

/* Run local tool t on args (borrowed) into the result r (consumed). */
static void
run_local(const struct au_tg_tool *t, jv args, jv r)
{
	struct au_spawn sp;
	struct au_capture c;
	char **argv, **full = NULL, **env;
	int rc;
	jv out, content;

	if ((rc = au_tg_argv(t->command, args, &argv)) != 0) {
		fail(r, au_errmsg(), rc);
		return;
	}
	if (!nosandbox && (rc = au_sandbox_argv(&t->sandbox, argv,
	    &full)) != 0) {
		au_tg_strv_free(argv);
		fail(r, au_errmsg(), rc);
		return;
	}
	env = au_sandbox_env(&t->sandbox, NULL);
	memset(&sp, 0, sizeof sp);
	sp.argv = full != NULL ? full : argv;
	sp.envp = env;
	sp.fd[0] = AU_FD_NULL;
	sp.limits = t->sandbox.limits;
	sp.nlimits = t->sandbox.nlimits;
	rc = au_capture(&sp, max_output, t->sandbox.timeout_ms > 0 ?
	    t->sandbox.timeout_ms : timeout_ms, 2000, &c);
	au_tg_strv_free(argv);
	au_tg_strv_free(full);
	au_tg_strv_free(env);
	if (c.out == NULL) {
		au_capture_free(&c);
		fail(r, au_errmsg(), rc == 127 && !nosandbox ?
		    EX_UNAVAILABLE : rc);
		return;
	}
	content = JV_ARRAY(JV_OBJECT(jv_string("type"), jv_string("text"),
	    jv_string("text"), jv_string_sized(c.out, (int)c.nout)));
	r = jv_object_set(r, jv_string("content"), content);
	out = jv_object_get(jv_copy(t->record), jv_string("output_schema"));
	if (jv_is_valid(out) && jv_get_kind(out) != JV_KIND_NULL && rc == 0)
		r = jv_object_set(r, jv_string("structured_content"),
		    jv_parse_sized(c.out, (int)c.nout));
	jv_free(out);
	if (c.nerr > 0)
		r = jv_object_set(r, jv_string("stderr"),
		    jv_string_sized(c.err, (int)c.nerr));
	r = jv_object_set(r, jv_string("is_error"), jv_bool(rc != 0));
	r = jv_object_set(r, jv_string("exit_code"), jv_number(rc));
	if (c.timed_out)
		r = jv_object_set(r, jv_string("timed_out"), jv_true());
	if (c.truncated)
		r = jv_object_set(r, jv_string("truncated"), jv_true());
	r = jv_object_set(r, jv_string("duration_ms"), jv_number(
	    (double)c.ms));
	au_capture_free(&c);
	au_out_rec(r);
	record(r);
	outcome(rc != 0);
}

/* Call MCP tool name of session x on args (borrowed) into r (consumed). */
static void
run_mcp(struct session *x, const char *name, jv args, jv r)
{
	int64_t start = au_mono_ms(), t = x->server->sandbox.timeout_ms;
	jv res, v;
	int rc;

	rc = au_mcp_call(x->mcp, name, jv_copy(args), t > 0 ? t : timeout_ms,
	    &res);
	if (rc != 0 && rc != 1) {
		jv_free(res);
		fail(r, au_errmsg(), rc == EX_TEMPFAIL ? 1 : EX_UNAVAILABLE);
		return;
	}
	if (rc == 1) {
		fail(r, au_jv_str(res, "message") ? au_jv_str(res, "message") :
		    "the server answered with an error", 1);
		jv_free(res);
		return;
	}
	v = jv_object_get(jv_copy(res), jv_string("content"));
	r = jv_object_set(r, jv_string("content"), jv_get_kind(v) ==
	    JV_KIND_ARRAY ? v : (jv_free(v), jv_array()));
	v = jv_object_get(jv_copy(res), jv_string("structuredContent"));
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		r = jv_object_set(r, jv_string("structured_content"), v);
	else
		jv_free(v);
	v = jv_object_get(res, jv_string("isError"));
	rc = jv_get_kind(v) == JV_KIND_TRUE;
	jv_free(v);
	r = jv_object_set(r, jv_string("is_error"), jv_bool(rc));
	r = jv_object_set(r, jv_string("duration_ms"), jv_number(
	    (double)(au_mono_ms() - start)));
	au_out_rec(r);
	record(r);
	outcome(rc);
}

/* The MCP server of a name "server/tool", or NULL. */
static const struct au_tg_server *
server_of(const char *name, const char **tool)
{
	const char *slash = strchr(name, '/');
	size_t i;

	if (slash == NULL)
		return NULL;
	for (i = 0; i < reg->nservers; i++)
		if (strlen(reg->servers[i].name) == (size_t)(slash - name) &&
		    strncmp(reg->servers[i].name, name, (size_t)(slash -
		    name)) == 0) {
			*tool = slash + 1;
			return &reg->servers[i];
		}
	return NULL;
}

/* One call: validate, decide, audit the decision, ask, run. */
static void
invoke(jv call)
{
	const struct au_tg_tool *t;
	const struct au_tg_server *srv = NULL;
	struct au_tg_tool mt;
	struct au_jschema *js;
	struct session *x = NULL;
	const char *name = au_jv_str(call, "tool"), *mname = NULL, *d;
	char *why;
	jv args, errs, dec, schema, mtool = jv_null();

	args = jv_object_get(jv_copy(call), jv_string("args"));
	if (!jv_is_valid(args) || jv_get_kind(args) == JV_KIND_NULL) {
		jv_free(args);
		args = jv_object();
	}
	record(jv_copy(call));
	if ((t = au_tg_find(reg, name)) != NULL) {
		schema = jv_object_get(jv_copy(t->record),
		    jv_string("input_schema"));
	} else if ((srv = server_of(name, &mname)) != NULL &&
	    (x = session(srv)) != NULL) {
		mtool = jv_object_get(jv_copy(x->tools), jv_string(mname));
		if (!jv_is_valid(mtool) || jv_get_kind(mtool) ==
		    JV_KIND_NULL) {
			jv_free(mtool);
			jv_free(args);
			fail(result(call, NULL), "no such tool", EX_DATAERR);
			return;
		}
		memset(&mt, 0, sizeof mt);
		mt.name = name;
		mt.server = srv->name;
		mt.annotations = hints(mtool);
		mt.record = mtool;
		t = &mt;
		schema = jv_object_get(jv_copy(mtool),
		    jv_string("inputSchema"));
	} else {
		jv_free(args);
		if (srv != NULL)
			fail(result(call, NULL), "MCP server unavailable",
			    EX_UNAVAILABLE);
		else
			fail(result(call, NULL), "no such tool", EX_DATAERR);
		return;
	}
	if ((js = compiled(name, schema, &why)) == NULL) {
		fail(result(call, NULL), why, EX_DATAERR);
		free(why);
		goto out;
	}
	if (au_jschema_validate(js, args, &errs) != 0) {
		jv r = result(call, NULL);

		r = jv_object_set(r, jv_string("errors"), errs);
		fail(r, "the arguments do not fit the tool's input schema",
		    EX_DATAERR);
		goto out;
	}
	jv_free(errs);
	dec = au_tg_decide(policy, t, call, au_now_ms());
	record(jv_copy(dec));
	d = au_jv_str(dec, "decision");
	if (dryrun) {
		au_out_rec(dec);
		jv_free(dec);
		goto out;
	}
	if (strcmp(d, "deny") == 0) {
		fail(result(call, "deny"), au_jv_str(dec, "reason"),
		    EX_NOPERM);
		jv_free(dec);
		goto out;
	}
	if (strcmp(d, "ask") == 0 && !asked(call)) {
		jv_free(dec);
		goto out;
	}
	jv_free(dec);
	if (x != NULL)
		run_mcp(x, mname, args, result(call, d));
	else
		run_local(t, args, result(call, d));
out:
	jv_free(args);
	jv_free(mtool);
}

/* Whether rec is a tool.call we can take; else reported. */
static int
callable(struct au_in *in, const struct au_rec *rec)
{
	const char *type = au_jv_str(rec->v, "type");
	jv args = jv_object_get(jv_copy(rec->v), jv_string("args"));
	jv_kind k = jv_get_kind(args);

	jv_free(args);
	if (type == NULL || strcmp(type, "tool.call") != 0)
		au_in_reject(in, rec, "not a tool.call record");
	else if (au_jv_str(rec->v, "tool") == NULL)
		au_in_reject(in, rec, "a tool.call needs a \"tool\" name");
	else if (k != JV_KIND_INVALID && k != JV_KIND_NULL &&
	    k != JV_KIND_OBJECT)
		au_in_reject(in, rec, "\"args\" must be an object");
	else
		return 1;
	return 0;
}

static void
report(jv problems)
{
	jv_array_foreach(problems, i, p) {
		au_warn("%s", jv_string_value(p));
		jv_free(p);
	}
	jv_free(problems);
}

/* Open the audit log: without keys, say how to make them. */
static void
open_audit(void)
{
	struct au_audit_files f = { NULL, NULL, NULL };
	int rc;

	if ((rc = au_audit_open(db, &f, 0, 0, &audit)) != 0)
		au_die(rc, "audit: %s (audit-write --init makes the keys; "
		    "--no-audit says not to audit)", au_errmsg());
}

int
main(int argc, char **argv)
{
	const char *arg, *tool = NULL, *argstr = NULL, *tools = NULL;
	const char *mcp = NULL, *pfile = NULL;
	int c, rc, noaudit = 0;
	jv problems = jv_array(), grants, call;
	struct au_rec rec;
	struct au_in *in;
	uint64_t size;
	size_t i;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case O_TOOL:
			tool = arg;
			break;
		case O_ARGS:
			argstr = arg;
			break;
		case O_TOOLS:
			tools = arg;
			break;
		case O_MCP:
			mcp = arg;
			break;
		case O_POLICY:
			pfile = arg;
			break;
		case O_DRYRUN:
			dryrun = 1;
			break;
		case O_NOWAIT:
			nowait = 1;
			break;
		case O_APPROVAL:
			approval_ms = au_opt_dur(&cmd, "--approval-timeout",
			    arg);
			break;
		case O_TIMEOUT:
			timeout_ms = au_opt_dur(&cmd, "--timeout", arg);
			break;
		case O_MAXOUT:
			if (au_size_parse(arg, &size) != 0 || size == 0 ||
			    size > (uint64_t)1 << 30)
				au_usage_die(&cmd, "--max-output: bad size "
				    "%s", au_quote(arg));
			max_output = (size_t)size;
			break;
		case O_SANDBOX:
			if (strcmp(arg, "none") == 0)
				nosandbox = 1;
			else if (strcmp(arg, "firejail") != 0)
				au_usage_die(&cmd, "--sandbox: firejail or "
				    "none, not %s", au_quote(arg));
			break;
		case O_NOAUDIT:
			noaudit = 1;
			break;
		}
	}
	if (argstr != NULL && tool == NULL)
		au_usage_die(&cmd, "--args goes with --tool");
	if (tool != NULL && au_optind < argc)
		au_usage_die(&cmd, "--tool takes no file operands");
	call = jv_null();
	if (tool != NULL) {
		jv a = argstr ? jv_parse(argstr) : jv_object();

		if (jv_get_kind(a) != JV_KIND_OBJECT)
			au_usage_die(&cmd, "--args: not a JSON object");
		call = JV_OBJECT(jv_string("type"), jv_string("tool.call"),
		    jv_string("tool"), jv_string(tool), jv_string("args"), a);
	}
	if (!nosandbox && !dryrun) {
		char *fj = au_which("firejail");

		if (fj == NULL)
			au_die(EX_UNAVAILABLE, "firejail: not found (make "
			    "deps installs it; --sandbox=none runs tools "
			    "unconfined)");
		free(fj);
	}
	au_out_init();
	if ((rc = au_tg_load(tools, mcp, &reg, &problems)) != 0) {
		report(problems);
		au_die(rc, "%s", au_errmsg());
	}
	if ((rc = au_tg_policy_load(pfile, &policy, &problems)) != 0) {
		report(problems);
		au_die(rc, "%s", au_errmsg());
	}
	report(problems);
	db = au_xdb_open();
	if ((rc = au_tg_grant_list(db, 0, au_now_ms(), &grants)) != 0 ||
	    (rc = au_tg_policy_grants(policy, grants)) != 0)
		au_die(rc, "%s", au_errmsg());
	if (!noaudit)
		open_audit();
	else if (nosandbox)
		au_note("neither sandboxed nor audited");
	if (audit != NULL && nosandbox)
		record(JV_OBJECT(jv_string("type"), jv_string("tool.sandbox"),
		    jv_string("sandbox"), jv_string("none"), jv_string("by"),
		    jv_string(au_user())));
	schemas = au_map_new(16);
	au_catch_stop(onsignal);
	if (tool != NULL) {
		invoke(call);
		jv_free(call);
	} else {
		in = au_in_open(argv + au_optind, argc - au_optind);
		while (!stop && au_in_next(in, &rec)) {
			if (callable(in, &rec))
				invoke(rec.v);
			jv_free(rec.v);
		}
		outcome(au_in_status(in));
		au_in_close(in);
	}
	for (i = 0; i < nsessions; i++) {
		au_mcp_close(sessions[i].mcp);
		jv_free(sessions[i].tools);
	}
	free(sessions);
	au_map_free(schemas);
	for (i = 0; i < ncompiled; i++) {
		au_jschema_free(compiled_v[i]);
		free(compiled_n[i]);
	}
	free(compiled_v);
	free(compiled_n);
	if (audit != NULL && au_audit_close(audit) != 0)
		au_die(EX_IOERR, "audit: %s", au_errmsg());
	au_tg_policy_free(policy);
	au_tg_free(reg);
	sqlite3_close(db);
	au_out_close();
	return stop ? 128 + stop : worst;
}
