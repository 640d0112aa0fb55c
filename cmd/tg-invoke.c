/*
 * tg-invoke - call tools through the gateway: each tool.call record read
 * (or made from --tool and --args) is validated, decided, asked about,
 * run and audited as lib/gateway.c does it, and answered with a
 * tool.result record, in order.  A stream of calls keeps one session per
 * MCP server, and the calls read together are made as one batch, audited
 * with two commits in all.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"

enum { O_TOOL = AU_LONG, O_ARGS, O_DRYRUN, O_NOTIFY };

static const struct au_opt opts[] = {
	{ O_TOOL, "tool", "NAME", "call NAME once, not the calls read",
	    NULL },
	{ O_ARGS, "args", "JSON", "--tool: its arguments (default {})",
	    NULL },
	AU_GW_OPTS_CONF,
	{ O_DRYRUN, "dry-run", NULL, "write the decisions, run nothing",
	    NULL },
	AU_GW_OPTS_RUN,
	{ O_NOTIFY, "notifications", NULL, "pass on MCP servers' progress "
	    "and log messages", NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"tg-invoke", "[file ...]",
	"Call tools under the gateway's policy, sandboxed and audited.",
	opts, AU_USE_DB, NULL
};

/* The most calls made as one batch.  With --notifications a batch is
 * one call, so that each notification names the call it is about. */
#define BATCH 256

static volatile sig_atomic_t stop;
static int worst;

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

	worst = au_worse(worst, rc, rank, sizeof rank / sizeof rank[0]);
}

/* The call rec stands for (a new value): a tool.call as it is, or a tool
 * task of aw-sched (its record on our standard input) as the call of its
 * tool with its args, its id the task's; jv_invalid(), reported, for
 * anything else. */
static jv
as_call(struct au_in *in, const struct au_rec *rec)
{
	const char *type = au_jv_str(rec->v, "type");
	const char *kind = au_jv_str(rec->v, "kind");
	jv args = jv_object_get(jv_copy(rec->v), jv_string("args"));
	jv_kind k = jv_get_kind(args);
	int task = type != NULL && strcmp(type, "task") == 0;

	if (!task && (type == NULL || strcmp(type, "tool.call") != 0))
		au_in_reject(in, rec, "not a tool.call record");
	else if (task && (kind == NULL || strcmp(kind, "tool") != 0))
		au_in_reject(in, rec, "not a tool task");
	else if (au_jv_str(rec->v, "tool") == NULL)
		au_in_reject(in, rec, "a tool.call needs a \"tool\" name");
	else if (k != JV_KIND_INVALID && k != JV_KIND_NULL &&
	    k != JV_KIND_OBJECT)
		au_in_reject(in, rec, "\"args\" must be an object");
	else if (!task) {
		jv_free(args);
		return jv_copy(rec->v);
	} else
		return JV_OBJECT(jv_string("type"), jv_string("tool.call"),
		    jv_string("id"), jv_object_get(jv_copy(rec->v),
		    jv_string("id")), jv_string("tool"),
		    jv_object_get(jv_copy(rec->v), jv_string("tool")),
		    jv_string("args"), k == JV_KIND_OBJECT ? args :
		    (jv_free(args), jv_object()));
	jv_free(args);
	return jv_invalid();
}

/* A notification of an MCP server during the call arg (a jv *), as a
 * record. */
static void
notified(void *arg, const char *server, const char *method, jv params)
{
	jv id = jv_object_get(jv_copy(*(jv *)arg), jv_string("id"));
	jv r = JV_OBJECT(jv_string("type"), jv_string("tool.notification"));

	if (jv_is_valid(id) && jv_get_kind(id) != JV_KIND_NULL)
		r = jv_object_set(r, jv_string("id"), id);
	else
		jv_free(id);
	r = jv_object_set(r, jv_string("server"), jv_string(server));
	r = jv_object_set(r, jv_string("method"), jv_string(method));
	r = jv_object_set(r, jv_string("params"), jv_copy(params));
	au_out_rec(r);
	jv_free(r);
}

/* A call's result, in its turn. */
static void
answered(void *arg, size_t i, jv r, int rc)
{
	(void)arg;
	(void)i;
	au_out_rec(r);
	jv_free(r);
	outcome(rc);
}

/* Make the n calls as one batch; a notification names the first (the
 * only one: see BATCH). */
static void
invoke(struct au_gw *g, struct au_gw_conf *c, jv *calls, size_t n)
{
	c->arg = calls;
	au_gw_calls(g, calls, n, answered, NULL);
	c->arg = NULL;
}

/* Make the calls of in in batches: those read already, up to max, not
 * waiting for more, so that a batch costs two commits and not three per
 * call, and a stream of calls one at a time is still answered at
 * once. */
static void
stream(struct au_gw *g, struct au_gw_conf *c, struct au_in *in, size_t max)
{
	jv *calls = au_xcalloc(max, sizeof *calls);
	struct au_rec rec;
	size_t n, i;
	int more = 1;

	while (more && !stop) {
		n = 0;
		while (!stop && n < max && (n == 0 || au_in_wait(in, 0)) &&
		    (more = au_in_next(in, &rec))) {
			calls[n] = as_call(in, &rec);
			if (jv_is_valid(calls[n]))
				n++;
			jv_free(rec.v);
		}
		invoke(g, c, calls, n);
		for (i = 0; i < n; i++)
			jv_free(calls[i]);
	}
	free(calls);
}

int
main(int argc, char **argv)
{
	struct au_gw_conf c = AU_GW_CONF_INIT;
	const char *arg, *tool = NULL, *argstr = NULL;
	jv call = jv_null();
	struct au_gw *g;
	struct au_in *in;
	int ch;

	au_setprog(argv[0]);
	c.stop = &stop;
	while ((ch = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		if (au_gw_opt(&cmd, &c, ch, arg))
			continue;
		switch (ch) {
		case O_TOOL:
			tool = arg;
			break;
		case O_ARGS:
			argstr = arg;
			break;
		case O_DRYRUN:
			c.dryrun = 1;
			break;
		case O_NOTIFY:
			c.notify = notified;
			break;
		}
	}
	if (argstr != NULL && tool == NULL)
		au_usage_die(&cmd, "--args goes with --tool");
	if (tool != NULL && au_optind < argc)
		au_usage_die(&cmd, "--tool takes no file operands");
	if (tool != NULL) {
		jv a = argstr ? jv_parse(argstr) : jv_object();

		if (jv_get_kind(a) != JV_KIND_OBJECT)
			au_usage_die(&cmd, "--args: not a JSON object");
		call = JV_OBJECT(jv_string("type"), jv_string("tool.call"),
		    jv_string("tool"), jv_string(tool), jv_string("args"), a);
	}
	au_out_init();
	g = au_xgw_open(&c);
	au_catch_stop(onsignal);
	if (tool != NULL) {
		invoke(g, &c, &call, 1);
		jv_free(call);
	} else {
		in = au_in_open(argv + au_optind, argc - au_optind);
		stream(g, &c, in, c.notify != NULL ? 1 : BATCH);
		outcome(au_in_status(in));
		au_in_close(in);
	}
	au_xgw_close(g, &c);
	au_out_close();
	return stop ? 128 + stop : worst;
}
