/*
 * gateway.c - a tool call from start to end, as tg-invoke and tg-serve
 * make it: the arguments checked against the tool's input schema, the
 * policy's decision (deny, then grants, then allow, then ask) audited
 * before anything runs, a person asked through the approval queue when
 * the policy says so, then a local tool run in firejail, or an MCP
 * server's tool called through one session per server, and the call, the
 * decision and the result in the audit log with the values of
 * secret-looking fields removed.  Calls made as a batch share the
 * transactions of their events, and their MCP requests are sent together.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "agentutils.h"

/* An MCP server's session, open from its first call to the end. */
struct session {
	struct au_gw *gw;
	const struct au_tg_server *server;
	struct au_mcp *mcp;
	jv list;		/* its tools/list, in its order */
	jv tools;		/* the same by name */
	int64_t fetched;	/* when the list came, ms since the epoch */
	char *why;		/* why it is not open */
	char *cgroup;		/* its pids cgroup (root), or NULL */
};

struct au_gw {
	const struct au_gw_conf *c;
	struct au_tg_reg *reg;
	struct au_tg_policy *policy;
	struct au_map *schemas;	/* compiled input schemas by tool name: */
	struct au_jschema **sv;	/* their index here */
	char **sn;		/* and their names, the map's keys */
	size_t ns, capsv, capsn;
	struct session **sessions;	/* each where its server's
					 * notifications find it */
	size_t nsessions, capsessions;
};

/* rec (consumed), secrets removed, made ready to append to the audit
 * log (NULL when calls are not audited); within a task of aw-sched, with
 * the run and task it is for (AGENTUTILS_RUN and AGENTUTILS_TASK), so
 * that audit-export --run finds it. */
static struct au_audit_prep *
prepared(struct au_gw *g, jv rec)
{
	const char *run = getenv("AGENTUTILS_RUN");
	const char *task = getenv("AGENTUTILS_TASK");
	struct au_audit_prep *p;

	if (g->c->audit == NULL) {
		jv_free(rec);
		return NULL;
	}
	if (run != NULL && *run != '\0')
		rec = jv_object_set(rec, jv_string("run"), jv_string(run));
	if (task != NULL && *task != '\0')
		rec = jv_object_set(rec, jv_string("task"), jv_string(task));
	rec = au_jv_redact_names(rec, NULL);
	p = au_audit_prepare(rec);
	jv_free(rec);
	if (p == NULL)
		au_die(EX_DATAERR, "audit: %s", au_errmsg());
	return p;
}

/* Append p (consumed; NULL: nothing) to the audit log. */
static void
append(struct au_gw *g, struct au_audit_prep *p)
{
	int rc;

	if (p != NULL && (rc = au_audit_append_prep(g->c->audit, p, NULL,
	    NULL)) != 0)
		au_die(rc, "audit: %s", au_errmsg());
}

/* Append rec (consumed) to the audit log, as prepared makes it. */
static void
record(struct au_gw *g, jv rec)
{
	append(g, prepared(g, rec));
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

/* r (consumed) as an error result saying text, with code in *rc. */
static jv
fail(jv r, const char *text, int code, int *rc)
{
	r = jv_object_set(r, jv_string("content"), JV_ARRAY(JV_OBJECT(
	    jv_string("type"), jv_string("text"), jv_string("text"),
	    jv_string(text))));
	r = jv_object_set(r, jv_string("is_error"), jv_true());
	*rc = code;
	return r;
}

/* A notification of x's server, passed on. */
static void
notified(void *arg, const char *method, jv params)
{
	struct session *x = arg;

	x->gw->c->notify(x->gw->c->arg, x->server->name, method, params);
}

/* Keep the tools x's server listed, and when, in the cache: 0, or
 * 75/74. */
static int
remember(struct au_gw *g, struct session *x)
{
	struct au_buf b = AU_BUF_INIT;
	char ms[24];
	int rc;

	au_json_dump(&b, x->list);
	x->fetched = au_now_ms();
	snprintf(ms, sizeof ms, "%lld", (long long)x->fetched);
	rc = au_db_run(g->c->db, "INSERT OR REPLACE INTO tg_mcp_tools "
	    "(server, fetched, tools) VALUES (?1, ?2, ?3)", NULL, 3,
	    x->server->name, ms, b.s);
	au_buf_free(&b);
	return rc;
}

/* The value v of a header with each ${NAME} in it replaced by the
 * variable's value: 0 with *out (malloc'd), or 78 for a variable that is
 * not set or a value that is not one line. */
static int
expand(const char *v, char **out)
{
	struct au_buf b = AU_BUF_INIT;
	const char *e, *val;
	char name[128];

	au_buf_adds(&b, "");
	for (; *v != '\0'; v++) {
		if (v[0] != '$' || v[1] != '{' || (e = strchr(v, '}')) ==
		    NULL || (size_t)(e - v - 2) >= sizeof name) {
			au_buf_addc(&b, *v);
			continue;
		}
		snprintf(name, sizeof name, "%.*s", (int)(e - v - 2), v + 2);
		if ((val = getenv(name)) == NULL) {
			au_buf_free(&b);
			return au_seterr(EX_CONFIG, "variable %s is not set",
			    au_quote(name));
		}
		au_buf_adds(&b, val);
		v = e;
	}
	if (strpbrk(b.s, "\r\n") != NULL) {
		au_buf_free(&b);
		return au_seterr(EX_CONFIG, "the value is not one line");
	}
	*out = b.s;
	return 0;
}

/* The headers of HTTP server s as "Name: value" strings (NULL-ended):
 * 0, or 78 with au_errmsg() naming the header (never its value). */
static int
http_headers(const struct au_tg_server *s, char ***hv)
{
	size_t n = 0;
	char *val = NULL;
	int rc = 0;

	*hv = au_xcalloc((size_t)jv_object_length(jv_copy(s->headers)) + 1,
	    sizeof **hv);
	jv_object_foreach(s->headers, k, v) {
		if (rc == 0 && (rc = expand(jv_string_value(v), &val)) != 0)
			au_seterr(rc, "header %s: %s",
			    au_quote(jv_string_value(k)), au_errmsg());
		else if (val != NULL) {
			(*hv)[n++] = au_xasprintf("%s: %s",
			    jv_string_value(k), val);
			free(val);
			val = NULL;
		}
		jv_free(k);
		jv_free(v);
	}
	return rc;
}

/* The session with server s, opened on first use: NULL when it cannot
 * be, the reason in its why. */
static struct session *
session(struct au_gw *g, const struct au_tg_server *s)
{
	struct au_mcp_conf c;
	struct session *x;
	char **argv = NULL, **env = NULL, **base = NULL, **cmdv = NULL;
	char **hv = NULL;
	size_t i, n;
	int rc;
	jv tools;

	for (i = 0; i < g->nsessions; i++)
		if (g->sessions[i]->server == s)
			return g->sessions[i];
	g->sessions = au_grow(g->sessions, &g->capsessions,
	    g->nsessions + 1, sizeof *g->sessions);
	x = g->sessions[g->nsessions++] = au_xcalloc(1, sizeof *x);
	x->gw = g;
	x->server = s;
	x->tools = jv_object();
	x->list = jv_array();
	memset(&c, 0, sizeof c);
	if (s->url != NULL && http_headers(s, &hv) != 0) {
		x->why = au_xasprintf("%s: %s", s->name, au_errmsg());
		au_tg_strv_free(hv);
		return x;
	}
	c.url = s->url;
	c.headers = hv;
	if (s->command != NULL) {
		for (n = 0; s->args != NULL && s->args[n] != NULL; n++)
			;
		cmdv = au_xcalloc(n + 2, sizeof *cmdv);
		cmdv[0] = (char *)s->command;
		for (i = 0; i < n; i++)
			cmdv[i + 1] = s->args[i];
		if (!g->c->nosandbox && (au_sandbox_argv(&s->sandbox, cmdv,
		    &argv) != 0 || au_sandbox_cgroup(&s->sandbox,
		    &x->cgroup) != 0)) {
			x->why = au_xasprintf("%s: %s", s->name, au_errmsg());
			au_tg_strv_free(argv);
			free(cmdv);
			return x;
		}
		base = au_xcalloc((size_t)jv_object_length(jv_copy(s->env)) +
		    1, sizeof *base);
		n = 0;
		jv_object_foreach(s->env, k, v) {
			if (jv_get_kind(v) == JV_KIND_STRING)
				base[n++] = au_xasprintf("%s=%s",
				    jv_string_value(k), jv_string_value(v));
			jv_free(k);
			jv_free(v);
		}
		env = au_sandbox_env(&s->sandbox, base);
		c.argv = argv != NULL ? argv : cmdv;
		c.envp = env;
		c.cgroup = x->cgroup;
	}
	c.timeout_ms = s->sandbox.timeout_ms > 0 ? s->sandbox.timeout_ms :
	    g->c->timeout_ms;
	c.watch = g->c->watch;
	if (g->c->notify != NULL) {
		c.notify = notified;
		c.arg = x;
	}
	rc = au_mcp_open(&c, &x->mcp);
	if (rc == 0 && (rc = au_mcp_tools(x->mcp, &tools)) == 0) {
		jv_array_foreach(tools, j, t) {
			const char *name = au_jv_str(t, "name");

			if (name != NULL)
				x->tools = jv_object_set(x->tools,
				    jv_string(name), jv_copy(t));
			jv_free(t);
		}
		jv_free(x->list);
		x->list = tools;
		if (remember(g, x) != 0)
			au_note("%s: tools not cached: %s", s->name,
			    au_errmsg());
	}
	if (rc != 0) {
		x->why = au_xasprintf("%s: %s", s->name, au_errmsg());
		au_mcp_close(x->mcp);
		x->mcp = NULL;
		au_sandbox_cgroup_end(x->cgroup);
		x->cgroup = NULL;
	}
	au_tg_strv_free(argv);
	au_tg_strv_free(env);
	au_tg_strv_free(base);
	au_tg_strv_free(hv);
	free(cmdv);
	return x;
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
compiled(struct au_gw *g, const char *name, jv schema, char **why)
{
	long i = au_map_get(g->schemas, name, strlen(name));
	struct au_jschema *s;

	*why = NULL;
	if (i >= 0) {
		jv_free(schema);
		return g->sv[i];
	}
	if (!jv_is_valid(schema) || jv_get_kind(schema) == JV_KIND_NULL) {
		jv_free(schema);
		schema = jv_true();
	}
	if (au_jschema_compile(schema, &s) != 0) {
		*why = au_xstrdup(au_errmsg());
		return NULL;
	}
	g->sv = au_grow(g->sv, &g->capsv, g->ns + 1, sizeof *g->sv);
	g->sn = au_grow(g->sn, &g->capsn, g->ns + 1, sizeof *g->sn);
	g->sv[g->ns] = s;
	g->sn[g->ns] = au_xstrdup(name);
	au_map_put(g->schemas, g->sn[g->ns], strlen(name), (long)g->ns);
	g->ns++;
	return s;
}

/* Whether the watch said stop: the client gave the call up. */
static int
cancelled(const struct au_gw *g)
{
	return g->c->watch != NULL && g->c->watch->stopped;
}

/* Wait for the decision on approval request id, watching meanwhile: 0
 * approved, 77 denied, 75 nobody answered in time, or the call was given
 * up first (the request withdrawn); *why says which. */
static int
wait_approval(struct au_gw *g, const char *id, char **why)
{
	const char *st, *reason;
	int rc;
	jv r;

	rc = au_approval_wait_watch(g->c->db, id, g->c->approval_ms,
	    g->c->stop, g->c->watch, &r);
	if (rc != 0 && rc != EX_TEMPFAIL)
		au_die(rc, "%s", au_errmsg());
	st = au_jv_str(r, "status");
	reason = au_jv_str(r, "reason");
	/* Given up, even as the answer came: nothing runs.  The answer is
	 * wanted no more (a client's retry is a request of its own, MCP
	 * ids being used once), so nobody is left a request to answer. */
	if (cancelled(g)) {
		if ((rc = au_approval_withdraw(g->c->db, id)) != 0)
			au_die(rc, "%s", au_errmsg());
		rc = EX_TEMPFAIL;
		*why = au_xasprintf("approval %s %s: the call was cancelled",
		    id, strcmp(st, "pending") == 0 ? "withdrawn" : st);
	} else if (strcmp(st, "approved") == 0 || strcmp(st, "denied") == 0) {
		rc = strcmp(st, "approved") == 0 ? 0 : EX_NOPERM;
		*why = au_xasprintf("approval %s %s%s%s", id, st,
		    reason ? ": " : "", reason ? reason : "");
	} else {
		rc = EX_TEMPFAIL;
		*why = au_xasprintf("approval %s not given in time", id);
	}
	jv_free(r);
	return rc;
}

/* The status of the latest approval request an earlier run filed for
 * this very call (safe, borrowed: the same tool, id and arguments), its
 * id in id; NULL if there is none. */
static char *
earlier(struct au_gw *g, jv safe, char id[AU_ID_LEN])
{
	char *want = au_tg_ask_subject(safe), *st = NULL;
	const char *req, *subj;
	jv list, d;
	int rc;

	/* A call without an id is never the same call again. */
	if (want == NULL || strstr(want, " call ") == NULL) {
		free(want);
		return NULL;
	}
	if ((rc = au_approval_expire(g->c->db)) != 0 ||
	    (rc = au_approval_list(g->c->db, NULL, &list)) != 0)
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

/* After an "ask": 0 when the call may go on, else its exit status with
 * its result in *res. */
static int
asked(struct au_gw *g, jv call, jv *res)
{
	jv safe = au_jv_redact_names(jv_copy(call), NULL), r;
	char id[AU_ID_LEN], *st = earlier(g, safe, id), *why = NULL;
	int rc, code;

	if (st != NULL && strcmp(st, "approved") == 0)
		code = 0;
	else if (st != NULL && strcmp(st, "denied") == 0) {
		why = au_xasprintf("approval %s denied", id);
		code = EX_NOPERM;
	} else {
		if ((st == NULL || strcmp(st, "pending") != 0) &&
		    (rc = au_tg_ask(g->c->db, safe, au_now_ms() +
		    g->c->approval_ms, id)) != 0)
			au_die(rc, "%s", au_errmsg());
		if (g->c->nowait) {
			why = au_xasprintf("approval %s pending", id);
			code = EX_TEMPFAIL;
		} else {
			au_note("waiting for approval %s", id);
			code = wait_approval(g, id, &why);
		}
	}
	free(st);
	jv_free(safe);
	if (code != 0) {
		r = result(call, code == EX_NOPERM ? "deny" : "ask");
		r = jv_object_set(r, jv_string("approval"), jv_string(id));
		*res = fail(r, why, code, &rc);
		if (cancelled(g))
			*res = jv_object_set(*res, jv_string("cancelled"),
			    jv_true());
	}
	free(why);
	return code;
}

/* Run local tool t on args (borrowed) into the result r (consumed). */
static jv
run_local(struct au_gw *g, const struct au_tg_tool *t, jv args, jv r,
    int *rc)
{
	struct au_spawn sp;
	struct au_capture c;
	char **argv, **full = NULL, **env, *procs = NULL;
	int code;
	jv out, content;

	if ((code = au_tg_argv(t->command, args, &argv)) != 0)
		return fail(r, au_errmsg(), code, rc);
	if (!g->c->nosandbox && (code = au_sandbox_argv(&t->sandbox, argv,
	    &full)) != 0) {
		au_tg_strv_free(argv);
		return fail(r, au_errmsg(), code, rc);
	}
	if (full != NULL && (code = au_sandbox_cgroup(&t->sandbox,
	    &procs)) != 0) {
		au_tg_strv_free(argv);
		au_tg_strv_free(full);
		return fail(r, au_errmsg(), code, rc);
	}
	env = au_sandbox_env(&t->sandbox, NULL);
	memset(&sp, 0, sizeof sp);
	sp.argv = full != NULL ? full : argv;
	sp.envp = env;
	sp.fd[0] = AU_FD_NULL;
	sp.limits = t->sandbox.limits;
	sp.nlimits = t->sandbox.nlimits;
	sp.cgroup = procs;
	code = au_capture_watch(&sp, g->c->max_output, t->sandbox.timeout_ms >
	    0 ? t->sandbox.timeout_ms : g->c->timeout_ms, 2000, g->c->watch,
	    &c);
	au_sandbox_cgroup_end(procs);
	au_tg_strv_free(argv);
	au_tg_strv_free(full);
	au_tg_strv_free(env);
	if (c.out == NULL) {
		au_capture_free(&c);
		return fail(r, au_errmsg(), code == 127 &&
		    !g->c->nosandbox ? EX_UNAVAILABLE : code, rc);
	}
	content = JV_ARRAY(JV_OBJECT(jv_string("type"), jv_string("text"),
	    jv_string("text"), jv_string_sized(c.out, (int)c.nout)));
	r = jv_object_set(r, jv_string("content"), content);
	out = jv_object_get(jv_copy(t->record), jv_string("output_schema"));
	if (jv_is_valid(out) && jv_get_kind(out) != JV_KIND_NULL &&
	    code == 0)
		r = jv_object_set(r, jv_string("structured_content"),
		    jv_parse_sized(c.out, (int)c.nout));
	jv_free(out);
	if (c.nerr > 0)
		r = jv_object_set(r, jv_string("stderr"),
		    jv_string_sized(c.err, (int)c.nerr));
	r = jv_object_set(r, jv_string("is_error"), jv_bool(code != 0));
	r = jv_object_set(r, jv_string("exit_code"), jv_number(code));
	if (c.timed_out)
		r = jv_object_set(r, jv_string("timed_out"), jv_true());
	if (c.truncated)
		r = jv_object_set(r, jv_string("truncated"), jv_true());
	r = jv_object_set(r, jv_string("duration_ms"), jv_number(
	    (double)c.ms));
	au_capture_free(&c);
	*rc = code != 0;
	return r;
}

/* The answer to call id of MCP tool name of session x, sent at start,
 * into r (consumed). */
static jv
run_mcp(struct au_gw *g, struct session *x, const char *name, int64_t id,
    int64_t start, jv r, int *rc)
{
	int64_t t = x->server->sandbox.timeout_ms;
	jv res, v;
	int code;

	code = au_mcp_call_wait(x->mcp, name, id, t > 0 ? t :
	    g->c->timeout_ms, &res);
	if (code != 0 && code != 1) {
		jv_free(res);
		return fail(r, au_errmsg(), code == EX_TEMPFAIL ? 1 :
		    EX_UNAVAILABLE, rc);
	}
	if (code == 1) {
		r = fail(r, au_jv_str(res, "message") ? au_jv_str(res,
		    "message") : "the server answered with an error", 1, rc);
		jv_free(res);
		return r;
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
	code = jv_get_kind(v) == JV_KIND_TRUE;
	jv_free(v);
	r = jv_object_set(r, jv_string("is_error"), jv_bool(code));
	r = jv_object_set(r, jv_string("duration_ms"), jv_number(
	    (double)(au_mono_ms() - start)));
	*rc = code;
	return r;
}

/* The MCP server of a name "server/tool", or NULL. */
static const struct au_tg_server *
server_of(struct au_gw *g, const char *name, const char **tool)
{
	const char *slash = strchr(name, '/');
	size_t i;

	if (slash == NULL)
		return NULL;
	for (i = 0; i < g->reg->nservers; i++)
		if (strlen(g->reg->servers[i].name) == (size_t)(slash -
		    name) && strncmp(g->reg->servers[i].name, name,
		    (size_t)(slash - name)) == 0) {
			*tool = slash + 1;
			return &g->reg->servers[i];
		}
	return NULL;
}

/* A call of a batch on its way: what au_gw_calls learns of it before
 * anything is audited, then its result. */
struct pending {
	jv call;		/* the tool.call record (borrowed) */
	jv args;		/* its arguments, an object */
	const struct au_tg_tool *t;	/* its tool, or NULL */
	struct au_tg_tool mt;	/* an MCP tool, as t points to */
	jv mtool;		/* an MCP tool's Tool object, or null */
	struct session *x;	/* an MCP tool's session, or NULL */
	const char *mname;	/* an MCP tool's name on its server */
	jv dec;			/* its tool.decision, or jv_invalid() */
	jv res;			/* its result once known, or jv_invalid() */
	int rc;			/* and its exit status */
	int ask;		/* the decision was ask */
	int ran;		/* its tool ran: its result is to be audited */
	int64_t id;		/* its MCP request, once sent */
	int64_t start;		/* and when */
	struct au_audit_prep *prep;	/* its result's event, made ready */
};

/* Find p's tool, check its arguments and decide on it, audited nothing
 * yet: p->res is set when the call ends here (bad, denied, dry run). */
static void
decide(struct au_gw *g, struct pending *p)
{
	const struct au_tg_server *srv = NULL;
	struct au_jschema *js;
	const char *name = au_jv_str(p->call, "tool"), *d;
	char *why;
	jv errs, schema;

	p->args = jv_object_get(jv_copy(p->call), jv_string("args"));
	if (!jv_is_valid(p->args) || jv_get_kind(p->args) == JV_KIND_NULL) {
		jv_free(p->args);
		p->args = jv_object();
	}
	if ((p->t = au_tg_find(g->reg, name)) != NULL) {
		schema = jv_object_get(jv_copy(p->t->record),
		    jv_string("input_schema"));
	} else if ((srv = server_of(g, name, &p->mname)) != NULL &&
	    (p->x = session(g, srv))->mcp != NULL) {
		p->mtool = jv_object_get(jv_copy(p->x->tools),
		    jv_string(p->mname));
		if (jv_get_kind(p->mtool) != JV_KIND_OBJECT) {
			p->res = fail(result(p->call, NULL), "no such tool",
			    EX_DATAERR, &p->rc);
			return;
		}
		p->mt.name = name;
		p->mt.server = srv->name;
		p->mt.annotations = hints(p->mtool);
		p->mt.record = p->mtool;
		p->t = &p->mt;
		schema = jv_object_get(jv_copy(p->mtool),
		    jv_string("inputSchema"));
	} else {
		if (srv != NULL) {
			why = au_xasprintf("MCP server unavailable: %s",
			    p->x->why);
			p->res = fail(result(p->call, NULL), why,
			    EX_UNAVAILABLE, &p->rc);
			free(why);
		} else
			p->res = fail(result(p->call, NULL), "no such tool",
			    EX_DATAERR, &p->rc);
		return;
	}
	if ((js = compiled(g, name, schema, &why)) == NULL) {
		p->res = fail(result(p->call, NULL), why, EX_DATAERR, &p->rc);
		free(why);
		return;
	}
	if (au_jschema_validate(js, p->args, &errs) != 0) {
		p->res = jv_object_set(result(p->call, NULL),
		    jv_string("errors"), errs);
		p->res = fail(p->res, "the arguments do not fit the tool's "
		    "input schema", EX_DATAERR, &p->rc);
		return;
	}
	jv_free(errs);
	p->dec = au_tg_decide(g->policy, p->t, p->call, au_now_ms());
	d = au_jv_str(p->dec, "decision");
	if (g->c->dryrun) {
		p->res = jv_copy(p->dec);
		p->rc = 0;
	} else if (strcmp(d, "deny") == 0)
		p->res = fail(result(p->call, "deny"), au_jv_str(p->dec,
		    "reason"), EX_NOPERM, &p->rc);
	else
		p->ask = strcmp(d, "ask") == 0;
}

/* Send p's call to its MCP server: a result when that fails. */
static void
send_mcp(struct pending *p)
{
	p->ran = 1;
	p->start = au_mono_ms();
	if (au_mcp_call_send(p->x->mcp, p->mname, jv_copy(p->args),
	    &p->id) != 0)
		p->res = fail(result(p->call, au_jv_str(p->dec, "decision")),
		    au_errmsg(), EX_UNAVAILABLE, &p->rc);
}

/* Whether p's MCP call may go out while others are on their way: its
 * server says the tool only reads and takes several calls at once; not
 * with notifications, which must name the call they are of. */
static int
ahead(const struct au_gw *g, const struct pending *p)
{
	return !jv_is_valid(p->res) && p->x != NULL && p->id == 0 &&
	    g->c->notify == NULL && (p->t->annotations & AU_TG_READ_ONLY) &&
	    au_mcp_pipelines(p->x->mcp);
}

/* Run p's tool, its decision audited, into p->res; an MCP call may have
 * been sent already. */
static void
run(struct au_gw *g, struct pending *p)
{
	jv r;

	if (p->x != NULL && p->id == 0)
		send_mcp(p);
	if (jv_is_valid(p->res))
		return;
	p->ran = 1;
	r = result(p->call, au_jv_str(p->dec, "decision"));
	if (p->x != NULL)
		p->res = run_mcp(g, p->x, p->mname, p->id, p->start, r,
		    &p->rc);
	else
		p->res = run_local(g, p->t, p->args, r, &p->rc);
	/* Audited as such, told from a timeout or a failure. */
	if (cancelled(g))
		p->res = jv_object_set(p->res, jv_string("cancelled"),
		    jv_true());
}

/* Open a transaction for the events that follow, when they are audited:
 * one commit for many events, the log's head read once for them all. */
static void
tx_begin(struct au_gw *g)
{
	int rc;

	if (g->c->audit != NULL && (rc = au_audit_begin(g->c->audit)) != 0)
		au_die(rc, "audit: %s", au_errmsg());
}

static void
tx_commit(struct au_gw *g)
{
	int rc;

	if (g->c->audit != NULL && (rc = au_audit_commit(g->c->audit)) != 0)
		au_die(rc, "audit: %s", au_errmsg());
}

static void
pending_free(struct pending *p)
{
	jv_free(p->args);
	jv_free(p->mtool);
	jv_free(p->dec);
	jv_free(p->res);
	au_audit_prep_free(p->prep);
}

static int
stopped(struct au_gw *g)
{
	return g->c->stop != NULL && *g->c->stop;
}

/* The calls p[0..n), the last of which may wait for an approval (the
 * others do not): decided, their call and decision events committed at
 * once; then run, and their results committed at once; then handed to
 * fn in order.  An approval is waited for only after the calls before it
 * are answered. */
static void
segment(struct au_gw *g, struct pending *p, size_t n,
    void (*fn)(void *, size_t, jv, int), void *arg, size_t base)
{
	size_t i, j, ran = 0, held = n > 0 && p[n - 1].ask ? n - 1 : n;

	tx_begin(g);
	for (i = 0; i < n; i++) {
		record(g, jv_copy(p[i].call));
		if (jv_is_valid(p[i].dec))
			record(g, jv_copy(p[i].dec));
		/* With --dry-run the result is the decision. */
		if (jv_is_valid(p[i].res) && !(g->c->dryrun &&
		    jv_is_valid(p[i].dec)))
			record(g, jv_copy(p[i].res));
	}
	tx_commit(g);
	for (i = 0; i < held; i++) {
		/* A run of calls that only read goes out at once: the server
		 * works on the next while we take the last answer.  A call
		 * that may change something goes alone, once those before it
		 * are answered, so that the calls after it see what it did
		 * (a server may well work on several at once). */
		for (j = i; j < held && ahead(g, &p[j]); j++)
			send_mcp(&p[j]);
		if (!jv_is_valid(p[i].res))
			run(g, &p[i]);
		/* Made ready while the server works on the next. */
		if (p[i].ran)
			p[i].prep = prepared(g, jv_copy(p[i].res));
		ran += p[i].ran;
	}
	if (ran > 0) {
		tx_begin(g);
		for (i = 0; i < held; i++) {
			append(g, p[i].prep);
			p[i].prep = NULL;
		}
		tx_commit(g);
	}
	for (i = 0; i < held; i++) {
		fn(arg, base + i, p[i].res, p[i].rc);
		p[i].res = jv_invalid();
	}
	if (held < n) {
		p = &p[held];
		if ((p->rc = asked(g, p->call, &p->res)) == 0)
			run(g, p);
		record(g, jv_copy(p->res));
		fn(arg, base + held, p->res, p->rc);
		p->res = jv_invalid();
	}
}

void
au_gw_calls(struct au_gw *g, const jv *calls, size_t n,
    void (*fn)(void *, size_t, jv, int), void *arg)
{
	struct pending *p = au_xcalloc(n > 0 ? n : 1, sizeof *p);
	size_t i, start = 0;

	/* A signal (c->stop) ends the calls after those decided. */
	for (i = 0; i < n; i++) {
		p[i].call = calls[i];
		p[i].mtool = jv_null();
		p[i].dec = jv_invalid();
		p[i].res = jv_invalid();
		decide(g, &p[i]);
		if (p[i].ask || i + 1 == n || stopped(g)) {
			segment(g, p + start, i + 1 - start, fn, arg, start);
			start = i + 1;
			if (stopped(g))
				break;
		}
	}
	n = i < n ? i + 1 : n;
	for (i = 0; i < n; i++)
		pending_free(&p[i]);
	free(p);
}

/* au_gw_call's hand: the one result. */
static void
keep(void *arg, size_t i, jv res, int rc)
{
	struct pending *p = arg;

	(void)i;
	p->res = res;
	p->rc = rc;
}

jv
au_gw_call(struct au_gw *g, jv call, int *rc)
{
	struct pending one;

	au_gw_calls(g, &call, 1, keep, &one);
	*rc = one.rc;
	return one.res;
}

int
au_gw_open(const struct au_gw_conf *c, struct au_gw **gp, jv *problems)
{
	struct au_gw *g = au_xcalloc(1, sizeof *g);
	jv grants;
	int rc;

	*gp = NULL;
	g->c = c;
	g->reg = c->reg;
	if ((c->reg == NULL && (rc = au_tg_load(c->tools, c->mcp, &g->reg,
	    problems)) != 0) || (!c->listing &&
	    ((rc = au_tg_policy_load(c->policy, &g->policy, problems)) != 0 ||
	    (rc = au_tg_grant_list(c->db, 0, au_now_ms(), &grants)) != 0 ||
	    (rc = au_tg_policy_grants(g->policy, grants)) != 0))) {
		au_gw_close(g);
		return rc;
	}
	g->schemas = au_map_new(16);
	if (c->nosandbox && c->audit != NULL)
		record(g, JV_OBJECT(jv_string("type"),
		    jv_string("tool.sandbox"), jv_string("sandbox"),
		    jv_string("none"), jv_string("by"), jv_string(au_user())));
	*gp = g;
	return 0;
}

/* A local tool's record (borrowed) as MCP's Tool. */
static jv
mcp_tool(jv rec)
{
	static const char *const names[][2] = {
		{ "read_only", "readOnlyHint" },
		{ "destructive", "destructiveHint" },
		{ "idempotent", "idempotentHint" },
		{ "open_world", "openWorldHint" },
	};
	static const char *const fields[][2] = {
		{ "name", "name" }, { "title", "title" },
		{ "description", "description" },
		{ "input_schema", "inputSchema" },
		{ "output_schema", "outputSchema" },
	};
	jv t = jv_object(), a = jv_object(), ann, v;
	size_t i;

	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		v = jv_object_get(jv_copy(rec), jv_string(fields[i][0]));
		if (jv_is_valid(v))
			t = jv_object_set(t, jv_string(fields[i][1]), v);
		else
			jv_free(v);
	}
	ann = jv_object_get(jv_copy(rec), jv_string("annotations"));
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		v = jv_object_get(jv_copy(ann), jv_string(names[i][0]));
		if (jv_is_valid(v))
			a = jv_object_set(a, jv_string(names[i][1]), v);
		else
			jv_free(v);
	}
	jv_free(ann);
	return jv_object_set(t, jv_string("annotations"), a);
}

int
au_gw_tools(struct au_gw *g, jv *tools)
{
	struct session *x;
	size_t i;
	char *name;

	*tools = jv_array();
	for (i = 0; i < g->reg->ntools; i++)
		*tools = jv_array_append(*tools,
		    mcp_tool(g->reg->tools[i].record));
	for (i = 0; i < g->reg->nservers; i++) {
		x = session(g, &g->reg->servers[i]);
		if (x->mcp == NULL) {
			au_note("%s", x->why);
			continue;
		}
		jv_array_foreach(x->list, j, t) {
			const char *n = au_jv_str(t, "name");

			if (n == NULL) {
				jv_free(t);
				continue;
			}
			name = au_xasprintf("%s/%s", x->server->name, n);
			*tools = jv_array_append(*tools, jv_object_set(t,
			    jv_string("name"), jv_string(name)));
			free(name);
		}
	}
	return 0;
}

/* The tools of server s as cached: 0 with *tools and *fetched, 1 none. */
static int
cached(struct au_gw *g, const char *server, jv *tools, int64_t *fetched)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(g->c->db, "SELECT fetched, tools FROM "
	    "tg_mcp_tools WHERE server = ?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return au_db_error(g->c->db, rc);
	sqlite3_bind_text(st, 1, server, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*fetched = sqlite3_column_int64(st, 0);
		*tools = jv_parse((const char *)sqlite3_column_text(st, 1));
		rc = jv_get_kind(*tools) == JV_KIND_ARRAY ? 0 : 1;
		if (rc != 0)
			jv_free(*tools);
	} else
		rc = rc == SQLITE_DONE ? 1 : au_db_error(g->c->db, rc);
	sqlite3_finalize(st);
	return rc;
}

int
au_gw_listed(struct au_gw *g, int64_t ttl_ms, jv *recs, jv *problems)
{
	char ts[AU_TS_LEN], *name;
	struct session *x;
	int64_t fetched = 0;
	jv tools;
	size_t i;
	int rc, bad = 0;

	*recs = jv_array();
	for (i = 0; i < g->reg->nservers; i++) {
		const struct au_tg_server *s = &g->reg->servers[i];

		if ((rc = cached(g, s->name, &tools, &fetched)) > 1)
			return rc;
		if (rc != 0 || ttl_ms <= 0 || au_now_ms() - fetched >= ttl_ms) {
			x = session(g, s);
			if (x->mcp != NULL) {
				if (rc == 0)
					jv_free(tools);
				tools = jv_copy(x->list);
				fetched = x->fetched;
				rc = 0;
			} else {
				*problems = jv_array_append(*problems,
				    jv_string(x->why));
				bad = 1;
			}
		}
		if (rc != 0)
			continue;
		au_ts_fmt(fetched, ts);
		jv_array_foreach(tools, j, t) {
			const char *n = au_jv_str(t, "name");

			if (n == NULL) {
				jv_free(t);
				continue;
			}
			name = au_xasprintf("%s/%s", s->name, n);
			*recs = jv_array_append(*recs, JV_OBJECT(
			    jv_string("type"), jv_string("mcp.tool"),
			    jv_string("name"), jv_string(name),
			    jv_string("server"), jv_string(s->name),
			    jv_string("fetched"), jv_string(ts),
			    jv_string("tool"), t));
			free(name);
		}
		jv_free(tools);
	}
	return bad ? EX_UNAVAILABLE : 0;
}

void
au_gw_close(struct au_gw *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nsessions; i++) {
		au_mcp_close(g->sessions[i]->mcp);
		au_sandbox_cgroup_end(g->sessions[i]->cgroup);
		jv_free(g->sessions[i]->tools);
		jv_free(g->sessions[i]->list);
		free(g->sessions[i]->why);
		free(g->sessions[i]);
	}
	free(g->sessions);
	if (g->schemas != NULL)
		au_map_free(g->schemas);
	for (i = 0; i < g->ns; i++) {
		au_jschema_free(g->sv[i]);
		free(g->sn[i]);
	}
	free(g->sv);
	free(g->sn);
	au_tg_policy_free(g->policy);
	if (g->reg != g->c->reg)
		au_tg_free(g->reg);
	free(g);
}

int
au_gw_opt(const struct au_cmd *cmd, struct au_gw_conf *c, int id,
    const char *arg)
{
	uint64_t size;

	switch (id) {
	case AU_GW_TOOLS:
		c->tools = arg;
		break;
	case AU_GW_MCP:
		c->mcp = arg;
		break;
	case AU_GW_POLICY:
		c->policy = arg;
		break;
	case AU_GW_NOWAIT:
		c->nowait = 1;
		break;
	case AU_GW_APPROVAL:
		c->approval_ms = au_opt_dur(cmd, "--approval-timeout", arg);
		break;
	case AU_GW_TIMEOUT:
		c->timeout_ms = au_opt_dur(cmd, "--timeout", arg);
		break;
	case AU_GW_MAXOUT:
		if (au_size_parse(arg, &size) != 0 || size == 0 ||
		    size > (uint64_t)1 << 30)
			au_usage_die(cmd, "--max-output: bad size %s",
			    au_quote(arg));
		c->max_output = (size_t)size;
		break;
	case AU_GW_SANDBOX:
		if (strcmp(arg, "none") == 0)
			c->nosandbox = 1;
		else if (strcmp(arg, "firejail") != 0)
			au_usage_die(cmd, "--sandbox: firejail or none, not %s",
			    au_quote(arg));
		break;
	case AU_GW_NOAUDIT:
		c->noaudit = 1;
		break;
	default:
		return 0;
	}
	return 1;
}

struct au_gw *
au_xgw_open(struct au_gw_conf *c)
{
	struct au_audit_files f = { NULL, NULL, NULL };
	jv problems = jv_array();
	struct au_gw *g;
	char *fj;
	int rc;

	if (!c->nosandbox && !c->dryrun) {
		if ((fj = au_which("firejail")) == NULL)
			au_die(EX_UNAVAILABLE, "firejail: not found (make "
			    "deps installs it; --sandbox=none runs tools "
			    "unconfined)");
		free(fj);
	}
	c->db = au_xdb_open();
	if (!c->noaudit && (rc = au_audit_open(c->db, &f, 0, 0,
	    &c->audit)) != 0)
		au_die(rc, "audit: %s (audit-write --init makes the keys; "
		    "--no-audit says not to audit)", au_errmsg());
	rc = au_gw_open(c, &g, &problems);
	jv_array_foreach(problems, i, p) {
		if (rc != 0)
			au_err("%s", jv_string_value(p));
		else
			au_warn("%s", jv_string_value(p));
		jv_free(p);
	}
	jv_free(problems);
	if (rc != 0)
		au_die(rc, "%s", au_errmsg());
	return g;
}

void
au_xgw_close(struct au_gw *g, struct au_gw_conf *c)
{
	au_gw_close(g);
	if (c->audit != NULL && au_audit_close(c->audit) != 0)
		au_die(EX_IOERR, "audit: %s", au_errmsg());
	c->audit = NULL;
	au_db_close(c->db);
	c->db = NULL;
}
