/*
 * tg-grant - capability grants: standing permissions, kept in the state
 * file, for calls of the tools a glob matches (and a jq condition
 * allows), weighed by the gateway's policy after its deny rules and
 * before its allow and ask rules.  Every change goes to the audit log.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "agentutils.h"

enum { O_TOOL = AU_LONG, O_WHERE, O_EXPIRES, O_NOTE, O_ALL };

static const struct au_opt opts[] = {
	{ O_TOOL, "tool", "GLOB", "add: the tools granted", NULL },
	{ O_WHERE, "where", "JQ", "add: only calls for which JQ is true",
	    NULL },
	{ O_EXPIRES, "expires", "DUR", "add: the grant ends after DUR",
	    NULL },
	{ O_NOTE, "note", "TEXT", "add: why", NULL },
	{ O_ALL, "all", NULL, "list: expired and revoked grants too", NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"tg-grant", "add --tool GLOB\n"
	"list\n"
	"revoke ID",
	"Add, list and revoke the tool gateway's capability grants.",
	opts, AU_USE_DB | AU_USE_TABLE, "add list revoke"
};

static int table;

static void
put(jv g)
{
	struct au_buf b = AU_BUF_INIT;
	const char *k[] = { "id", "status", "tool", "expires_at", "note",
	    NULL };
	int i;

	if (!table) {
		au_out_rec(g);
		jv_free(g);
		return;
	}
	for (i = 0; k[i] != NULL; i++) {
		const char *v = au_jv_str(g, k[i]);

		au_buf_addf(&b, i < 4 ? "%-*s  " : "%.*s", i == 0 ? 26 :
		    i == 1 ? 7 : i == 2 ? 20 : i == 3 ? 24 : 200, v ? v : "-");
	}
	au_out_line(b.s, b.len);
	au_buf_free(&b);
	jv_free(g);
}

int
main(int argc, char **argv)
{
	const char *arg, *what, *tool = NULL, *where = NULL, *note = NULL;
	int64_t expires = 0;
	struct au_audit *audit = NULL;
	sqlite3 *db;
	jv g;
	int c, all = 0, rc;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case O_TOOL:
			tool = arg;
			break;
		case O_WHERE:
			where = arg;
			break;
		case O_EXPIRES:
			if ((expires = au_opt_dur(&cmd, "--expires", arg)) <= 0)
				au_usage_die(&cmd, "--expires: must be more "
				    "than 0");
			break;
		case O_NOTE:
			note = arg;
			break;
		case O_ALL:
			all = 1;
			break;
		}
	}
	argc -= au_optind;
	argv += au_optind;
	table = au_table();
	if (argc == 0)
		au_usage_die(&cmd, "no command");
	what = argv[0];
	if (strcmp(what, "add") != 0 && strcmp(what, "list") != 0 &&
	    strcmp(what, "revoke") != 0)
		au_usage_die(&cmd, "unknown command %s", au_quote(what));
	if (argc != (strcmp(what, "revoke") == 0 ? 2 : 1))
		au_usage_die(&cmd, strcmp(what, "revoke") == 0 ?
		    "revoke: needs one grant id" : "%s: takes no operands",
		    what);
	if (strcmp(what, "add") == 0 && tool == NULL)
		au_usage_die(&cmd, "add: needs --tool");
	if (strcmp(what, "add") != 0 && (tool || where || note || expires))
		au_usage_die(&cmd, "--tool, --where, --expires and --note go "
		    "with add");
	if (all && strcmp(what, "list") != 0)
		au_usage_die(&cmd, "--all goes with list");
	if (tool != NULL && au_tg_glob_check(tool) != 0)
		au_usage_die(&cmd, "--tool: %s", au_errmsg());
	if (where != NULL)
		au_where_free(au_xwhere_new(where));
	au_out_init();
	db = au_xdb_open();
	if (strcmp(what, "list") == 0) {
		if ((rc = au_tg_grant_list(db, all, au_now_ms(), &g)) != 0)
			au_die(rc, "%s", au_errmsg());
		jv_array_foreach(g, i, e)
			put(e);
		jv_free(g);
	} else {
		/* Without audit keys yet, go on unaudited, as aw-sched
		 * does. */
		audit = au_xaudit_open(db, "audit-write --init makes the "
		    "keys");
		if (strcmp(what, "add") == 0)
			rc = au_tg_grant_add(db, audit, tool, where, expires ?
			    au_now_ms() + expires : 0, note, au_user(), NULL,
			    &g);
		else
			rc = au_tg_grant_revoke(db, audit, argv[1], au_user(),
			    &g);
		if (rc != 0)
			au_err("%s", au_errmsg());
		else
			put(g);
		if (audit != NULL && au_audit_close(audit) != 0)
			au_die(EX_IOERR, "audit: %s", au_errmsg());
	}
	au_db_close(db);
	au_out_close();
	return rc;
}
