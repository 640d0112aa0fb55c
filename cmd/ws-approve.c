/*
 * ws-approve - the human in the loop: list the approval requests that
 * programs have filed (a task marked "approval":"required", later a tool
 * call under an "ask" policy), show one, approve or deny it with a
 * reason, wait for a decision, or walk the pending ones on a terminal.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentutils.h"

enum { O_REASON = AU_LONG, O_TIMEOUT, O_ALL, O_ALWAYS };

static const struct au_opt opts[] = {
	{ 'i', "interactive", NULL, "walk the pending requests on a terminal",
	    NULL },
	{ O_ALL, "all", NULL, "list: decided requests too", NULL },
	{ O_REASON, "reason", "TEXT", "approve, deny: why", NULL },
	{ O_ALWAYS, "always", NULL, "approve a tool call: and grant the tool "
	    "from now on", NULL },
	{ O_TIMEOUT, "timeout", "DUR", "wait: give up after DUR (exit 75)",
	    NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"ws-approve", "list\n"
	"show ID\n"
	"approve ID\n"
	"deny ID\n"
	"wait ID",
	"Answer the approval requests programs are waiting on.",
	opts, AU_USE_DB | AU_USE_TABLE, "list show approve deny wait"
};

static sqlite3 *db;
static int table;

static void
put(jv r)
{
	struct au_buf b = AU_BUF_INIT;
	const char *k[] = { "id", "status", "requester", "subject", "summary",
	    NULL };
	int i;

	if (!table) {
		au_out_rec(r);
		jv_free(r);
		return;
	}
	for (i = 0; k[i]; i++) {
		const char *v = au_jv_str(r, k[i]);

		au_buf_addf(&b, i < 4 ? "%-*s  " : "%.*s", i == 0 ? 26 :
		    i == 1 ? 8 : i == 2 ? 10 : i == 3 ? 30 : 200,
		    v ? v : "-");
	}
	au_out_line(b.s, b.len);
	au_buf_free(&b);
	jv_free(r);
}

static int
cmd_list(int all)
{
	jv list;
	int rc, i, n;

	if ((rc = au_approval_expire(db)) != 0 ||
	    (rc = au_approval_list(db, all ? NULL : "pending", &list)) != 0)
		au_die(rc, "%s", au_errmsg());
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++)
		put(jv_array_get(jv_copy(list), i));
	jv_free(list);
	return 0;
}

static jv
get(const char *id)
{
	jv r;
	int rc;

	if ((rc = au_approval_expire(db)) != 0 ||
	    (rc = au_approval_get(db, id, &r)) != 0)
		au_die(rc, "%s", au_errmsg());
	return r;
}

/* The audit log every decision goes to, opened at the first: a
 * warning and no audit while there are no keys. */
static struct au_audit *log_;
static int log_opened;

static struct au_audit *
audit(void)
{
	if (!log_opened) {
		log_ = au_xaudit_open(db, "audit-write --init makes the keys");
		log_opened = 1;
	}
	return log_;
}

/* Decide id, and with --always grant its tool, in one transaction with
 * their audit events; 0, or the error said. */
static int
settle(const char *id, int approve, const char *reason, const char *tool)
{
	struct au_audit *a = audit();
	char *note;
	jv g;
	int rc;

	/* A busy state file is said, as any failure: -i goes on to the
	 * next request. */
	if ((rc = au_db_begin(db)) != 0) {
		au_err("%s", au_errmsg());
		return rc;
	}
	rc = au_approval_decide(db, a, id, approve, au_user(), reason);
	if (rc == 0 && tool != NULL) {
		note = au_xasprintf("approved always%s%s", reason ? ": " : "",
		    reason ? reason : "");
		if ((rc = au_tg_grant_add(db, a, tool, NULL, 0, note,
		    au_user(), id, &g)) == 0)
			jv_free(g);
		free(note);
	}
	if (rc != 0) {
		au_db_rollback(db);
		au_err("%s", au_errmsg());
		return rc;
	}
	if ((rc = au_db_commit(db)) != 0) {
		au_db_rollback(db);
		au_err("%s", au_errmsg());
	}
	return rc;
}

/* With --always, the approval of a tool call also grants the tool. */
static int
always(const char *id, const char *reason)
{
	char *tool;
	jv r = get(id);
	int rc;

	if ((tool = au_tg_asked(r)) == NULL)
		au_die(EX_DATAERR, "--always: request %s is not about a tool "
		    "call", au_quote(id));
	jv_free(r);
	rc = settle(id, 1, reason, tool);
	free(tool);
	if (rc == 0)
		put(get(id));
	return rc;
}

static int
decide(const char *id, int approve, const char *reason)
{
	int rc = settle(id, approve, reason, NULL);

	if (rc == 0)
		put(get(id));
	return rc;
}

static volatile sig_atomic_t stop;

static void
onsignal(int sig)
{
	stop = sig;
}

/* 0 approved, 1 denied or expired, 75 still pending after timeout. */
static int
cmd_wait(const char *id, int64_t timeout)
{
	int rc;
	jv r;

	signal(SIGINT, onsignal);
	signal(SIGTERM, onsignal);
	rc = au_approval_wait(db, id, timeout, &stop, &r);
	if (rc == EX_TEMPFAIL) {
		jv_free(r);
		if (stop)
			return 128 + stop;
		au_note("request %s is still pending", id);
		return EX_TEMPFAIL;
	}
	if (rc != 0)
		au_die(rc, "%s", au_errmsg());
	rc = strcmp(au_jv_str(r, "status"), "approved") == 0 ? 0 : 1;
	put(r);
	return rc;
}

/* A line from the terminal, without its newline; NULL at its end. */
static char *
ask(const char *prompt)
{
	static char *line;
	static size_t cap;
	ssize_t n;

	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	if ((n = getline(&line, &cap, stdin)) < 0)
		return NULL;
	if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = '\0';
	return line;
}

static int
cmd_interactive(void)
{
	jv list, r, d;
	const char *id;
	char *a, *why;
	int rc, i, n;

	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
		au_usage_die(&cmd, "-i needs a terminal");
	if ((rc = au_approval_expire(db)) != 0 ||
	    (rc = au_approval_list(db, "pending", &list)) != 0)
		au_die(rc, "%s", au_errmsg());
	n = jv_array_length(jv_copy(list));
	if (n == 0)
		fprintf(stderr, "no pending requests\n");
	for (i = 0; i < n; i++) {
		struct au_buf b = AU_BUF_INIT;

		r = jv_array_get(jv_copy(list), i);
		id = au_jv_str(r, "id");
		d = jv_object_get(jv_copy(r), jv_string("details"));
		if (jv_is_valid(d))
			au_json_dump(&b, d);
		fprintf(stderr, "\n%s from %s\n  %s\n  %s\n%s%s%s",
		    id, au_jv_str(r, "requester"), au_jv_str(r, "subject"),
		    au_jv_str(r, "summary") ? au_jv_str(r, "summary") : "",
		    b.len ? "  " : "", b.len ? b.s : "", b.len ? "\n" : "");
		au_buf_free(&b);
		jv_free(d);
		for (;;) {
			a = ask("approve? [y]es, [n]o, [s]kip, [q]uit ");
			if (a == NULL || *a == 'q') {
				jv_free(r);
				jv_free(list);
				return 0;
			}
			if (*a == 's')
				break;
			if (*a == 'y' || *a == 'n') {
				int yes = *a == 'y';

				do
					why = ask(yes ? "reason (optional): " :
					    "reason: ");
				while (!yes && why != NULL && *why == '\0');
				if (why == NULL) {
					jv_free(r);
					jv_free(list);
					return 0;
				}
				settle(id, yes, why && *why ? why : NULL, NULL);
				break;
			}
		}
		jv_free(r);
	}
	jv_free(list);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *arg, *what, *reason = NULL;
	int64_t timeout = -1;
	int c, all = 0, inter = 0, alw = 0, rc;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case 'i':
			inter = 1;
			break;
		case O_ALL:
			all = 1;
			break;
		case O_REASON:
			reason = arg;
			break;
		case O_ALWAYS:
			alw = 1;
			break;
		case O_TIMEOUT:
			timeout = au_opt_dur(&cmd, "--timeout", arg);
			break;
		}
	}
	argc -= au_optind;
	argv += au_optind;
	table = au_table();
	if (inter && argc > 0)
		au_usage_die(&cmd, "-i takes no command");
	if (!inter && argc == 0)
		au_usage_die(&cmd, "no command");
	what = inter ? "-i" : argv[0];
	if (!inter && strcmp(what, "list") != 0 && argc != 2)
		au_usage_die(&cmd, "%s: needs one request id", what);
	if (!inter && strcmp(what, "list") == 0 && argc != 1)
		au_usage_die(&cmd, "list: takes no operands");
	if (!inter && strcmp(what, "deny") == 0 && reason == NULL)
		au_usage_die(&cmd, "deny: needs --reason");
	if (alw && (inter || strcmp(what, "approve") != 0))
		au_usage_die(&cmd, "--always goes with approve");
	au_out_init();
	db = au_xdb_open();
	if (inter)
		rc = cmd_interactive();
	else if (strcmp(what, "list") == 0)
		rc = cmd_list(all);
	else if (strcmp(what, "show") == 0) {
		put(get(argv[1]));
		rc = 0;
	} else if (strcmp(what, "approve") == 0 && alw)
		rc = always(argv[1], reason);
	else if (strcmp(what, "approve") == 0)
		rc = decide(argv[1], 1, reason);
	else if (strcmp(what, "deny") == 0)
		rc = decide(argv[1], 0, reason);
	else if (strcmp(what, "wait") == 0)
		rc = cmd_wait(argv[1], timeout);
	else
		au_usage_die(&cmd, "unknown command %s", au_quote(what));
	if (log_ != NULL && au_audit_close(log_) != 0)
		au_die(EX_IOERR, "audit: %s", au_errmsg());
	au_db_close(db);
	au_out_close();
	return rc;
}
