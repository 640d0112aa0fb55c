/*
 * tg-list - the tool gateway's registry as records: a "tool" record for
 * each local tool of tools.d and an "mcp.server" record for each server
 * of mcp.json, or with --check, whether all of the configuration (the
 * policy too) is right.  A bad file or entry is reported with its
 * file:line and left out; the rest is listed, and the exit status says so.
 */
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"

enum { O_TOOLS = AU_LONG, O_MCP, O_POLICY, O_CHECK, O_REFRESH, O_TTL };

static const struct au_opt opts[] = {
	{ O_TOOLS, "tools", "DIR", "the ToolSpecs in DIR, not tools.d",
	    "DIR" },
	{ O_MCP, "mcp", "FILE", "the MCP servers in FILE, not mcp.json",
	    "FILE" },
	{ O_POLICY, "policy", "FILE", "--check: the policy in FILE, not "
	    "policy.json", "FILE" },
	{ O_CHECK, "check", NULL, "check the configuration, list nothing",
	    NULL },
	{ O_REFRESH, "refresh", NULL, "ask the MCP servers, not the cache",
	    NULL },
	{ O_TTL, "ttl", "DUR", "cached tools younger than DUR do (1h)",
	    NULL },
	{ AU_GW_SANDBOX, "sandbox", "KIND", "MCP servers in firejail or none",
	    "firejail none" },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"tg-list", "",
	"List the tools and MCP servers of the tool gateway.",
	opts, AU_USE_DB | AU_USE_TABLE, NULL
};

/* Report each problem; how many there were. */
static int
report(jv problems)
{
	int n = jv_array_length(jv_copy(problems));

	jv_array_foreach(problems, i, p) {
		au_err("%s", jv_string_value(p));
		jv_free(p);
	}
	jv_free(problems);
	return n;
}

/* A line of the table: name, kind, what it runs, and its description. */
static void
row(const char *name, const char *kind, const char *what, const char *desc)
{
	struct au_buf b = AU_BUF_INIT;

	au_buf_addf(&b, "%-24s %-10s %-30s %s", name, kind, what,
	    desc ? desc : "");
	while (b.len > 0 && b.s[b.len - 1] == ' ')
		b.s[--b.len] = '\0';
	au_out_line(b.s, b.len);
	au_buf_free(&b);
}

static void
list(const struct au_tg_reg *reg, int table)
{
	size_t i;

	for (i = 0; i < reg->ntools; i++) {
		const struct au_tg_tool *t = &reg->tools[i];
		char kind[16];

		if (!table) {
			au_out_rec(t->record);
			continue;
		}
		snprintf(kind, sizeof kind, "%s%s%s",
		    t->annotations & AU_TG_READ_ONLY ? "ro" : "rw",
		    t->sandbox.network ? " net" : "",
		    t->annotations & AU_TG_DESTRUCTIVE &&
		    !(t->annotations & AU_TG_READ_ONLY) ? " !" : "");
		row(t->name, kind, t->command[0], au_jv_str(t->record,
		    "description"));
	}
	for (i = 0; i < reg->nservers; i++) {
		const struct au_tg_server *s = &reg->servers[i];

		if (!table)
			au_out_rec(s->record);
		else
			row(s->name, "mcp", s->command ? s->command : s->url,
			    NULL);
	}
}

/* The tools of the MCP servers of reg, cached or asked for; a server
 * that cannot be reached is noted in *problems. */
static void
list_mcp(struct au_gw_conf *c, struct au_tg_reg *reg, int64_t ttl,
    int table, jv *problems)
{
	struct au_gw *g;
	jv recs;
	int rc;

	c->reg = reg;
	c->listing = 1;
	c->noaudit = 1;
	g = au_xgw_open(c);
	if ((rc = au_gw_listed(g, ttl, &recs, problems)) != 0 &&
	    rc != EX_UNAVAILABLE)
		au_die(rc, "%s", au_errmsg());
	jv_array_foreach(recs, i, r) {
		if (table) {
			jv t = jv_object_get(jv_copy(r), jv_string("tool"));

			row(au_jv_str(r, "name"), "mcp tool",
			    au_jv_str(r, "fetched"), au_jv_str(t,
			    "description"));
			jv_free(t);
		} else
			au_out_rec(r);
		jv_free(r);
	}
	jv_free(recs);
	au_xgw_close(g, c);
}

int
main(int argc, char **argv)
{
	const char *arg, *tools = NULL, *mcp = NULL, *policy = NULL;
	struct au_tg_policy *pol = NULL;
	struct au_tg_reg *reg;
	jv problems = jv_array();
	struct au_gw_conf gc = AU_GW_CONF_INIT;
	int64_t ttl = 60 * 60 * 1000;
	int c, check = 0, rc, bad, unreached = 0;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case O_TOOLS:
			tools = arg;
			break;
		case O_MCP:
			mcp = arg;
			break;
		case O_POLICY:
			policy = arg;
			break;
		case O_CHECK:
			check = 1;
			break;
		case O_REFRESH:
			ttl = 0;
			break;
		case O_TTL:
			ttl = au_opt_dur(&cmd, "--ttl", arg);
			break;
		default:
			au_gw_opt(&cmd, &gc, c, arg);
			break;
		}
	}
	if (au_optind < argc)
		au_usage_die(&cmd, "no operands expected");
	if (policy != NULL && !check)
		au_usage_die(&cmd, "--policy goes with --check");
	au_out_init();
	if ((rc = au_tg_load(tools, mcp, &reg, &problems)) != 0) {
		report(problems);
		au_die(rc, "%s", au_errmsg());
	}
	if (check) {
		rc = au_tg_policy_load(policy, &pol, &problems);
		au_tg_policy_free(pol);
		if (rc != 0 && rc != EX_CONFIG) {
			report(problems);
			au_die(rc, "%s", au_errmsg());
		}
	} else {
		list(reg, au_table());
		unreached = jv_array_length(jv_copy(problems));
		if (reg->nservers > 0)
			list_mcp(&gc, reg, ttl, au_table(), &problems);
		unreached = jv_array_length(jv_copy(problems)) - unreached;
	}
	bad = report(problems);
	au_tg_free(reg);
	au_out_close();
	if (bad > 0 && check)
		au_note("%d problem%s", bad, bad == 1 ? "" : "s");
	return bad > unreached ? EX_CONFIG : unreached ? EX_UNAVAILABLE : 0;
}
