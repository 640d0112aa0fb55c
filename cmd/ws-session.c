/*
 * ws-session - the workspace sessions of the state file: list them, show
 * one, read its transcript, kill it, and clear away the ended ones; and
 * open a file session, which binds a workspace root for tk-file.
 * Before each command the sessions whose holder is gone are marked dead.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentutils.h"

enum { O_GRACE = AU_LONG };

static const struct au_opt opts[] = {
	{ O_GRACE, "grace", "DUR", "kill: SIGKILL after DUR (default 5s)",
	    NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"ws-session", "list\n"
	"show ID\n"
	"transcript ID\n"
	"kill ID\n"
	"gc\n"
	"open file DIR",
	"List, show, read and end workspace sessions; open file sessions.",
	opts, AU_USE_DB | AU_USE_TABLE, "list show transcript kill gc open"
};

static sqlite3 *db;
static int table;

static void
put(jv r)
{
	struct au_buf b = AU_BUF_INIT;

	if (!table) {
		au_out_rec(r);
		jv_free(r);
		return;
	}
	au_table_cell(&b, r, "id", 26, 2);
	au_table_cell(&b, r, "kind", 8, 2);
	au_table_cell(&b, r, "state", 8, 2);
	au_table_cell(&b, r, "exit_code", 4, 2);
	au_table_cell(&b, r, "created", 24, 2);
	au_table_cell(&b, r, au_jv_str(r, "root") ? "root" : "argv", 0, 0);
	au_out_line(b.s, b.len);
	au_buf_free(&b);
	jv_free(r);
}

/* A transcript event as a table line: its time, ">" (or "x" when it was
 * denied) and the input record, or "<" and a file session's result; or
 * the output as text. */
static void
put_event(jv e)
{
	struct au_buf b = AU_BUF_INIT;
	jv r;

	if (!table) {
		au_out_rec(e);
		jv_free(e);
		return;
	}
	r = jv_object_get(jv_copy(e), jv_string("record"));
	if (jv_is_valid(r)) {
		au_buf_addf(&b, "%s %s ", au_jv_str(e, "ts"),
		    strcmp(au_jv_str(e, "kind"), "input") == 0 ? ">" :
		    strcmp(au_jv_str(e, "kind"), "output") == 0 ? "<" : "x");
		au_json_dump(&b, r);
		au_out_line(b.s, b.len);
	} else if (au_jv_str(e, "data") != NULL) {
		const char *d = au_jv_str(e, "data");
		size_t n = strlen(d);

		/* The output as it was, ended by a newline if it was not,
		 * so that the next input starts a line. */
		if (n > 0 && d[n - 1] == '\n')
			au_out_text(d, n);
		else
			au_out_line(d, n);
		au_out_eol();
	}
	jv_free(r);
	au_buf_free(&b);
	jv_free(e);
}

static jv
xget(const char *id)
{
	jv r;
	int rc;

	if ((rc = au_ws_get(db, id, &r)) != 0)
		au_die(rc, "%s", au_errmsg());
	return r;
}

static pid_t
pidof(jv r, const char *k)
{
	jv v = jv_object_get(jv_copy(r), jv_string(k));
	pid_t p = jv_get_kind(v) == JV_KIND_NUMBER ?
	    (pid_t)jv_number_value(v) : 0;

	jv_free(v);
	return p;
}

/* End session id: its holder gets SIGTERM and ends it (hanging up its
 * program, recording it killed); a holder that has not within grace
 * gets SIGKILL, and its program too, and the session is marked killed
 * here.  A file session, with no process, is closed.  1 when the
 * session has ended already. */
static int
cmd_kill(const char *id, int64_t grace)
{
	jv r = xget(id);
	pid_t holder = pidof(r, "holder_pid"), prog = pidof(r, "pid");
	int64_t until;
	int rc, file = strcmp(au_jv_str(r, "kind"), "file") == 0;

	if (au_ws_final(au_jv_str(r, "state"))) {
		au_err("session %s has %s already", id,
		    strcmp(au_jv_str(r, "state"), "exited") == 0 ? "exited" :
		    strcmp(au_jv_str(r, "state"), "dead") == 0 ? "died" :
		    strcmp(au_jv_str(r, "state"), "closed") == 0 ?
		    "been closed" : "been killed");
		jv_free(r);
		return 1;
	}
	jv_free(r);
	if (file) {
		if ((rc = au_ws_update(db, id, JV_OBJECT(jv_string("state"),
		    jv_string("closed")))) != 0)
			au_die(rc, "%s", au_errmsg());
		put(xget(id));
		return 0;
	}
	kill(holder, SIGTERM);
	until = au_mono_ms() + grace;
	for (;;) {
		struct timespec ts = { 0, 50000000 };

		r = xget(id);
		if (au_ws_final(au_jv_str(r, "state"))) {
			put(r);
			return 0;
		}
		jv_free(r);
		if (au_mono_ms() >= until)
			break;
		nanosleep(&ts, NULL);
	}
	kill(holder, SIGKILL);
	if (prog > 0)
		kill(-prog, SIGKILL);
	if ((rc = au_ws_update(db, id, JV_OBJECT(jv_string("state"),
	    jv_string("killed"), jv_string("signal"), jv_string("KILL"),
	    jv_string("exit_code"), jv_number(128 + SIGKILL)))) != 0)
		au_die(rc, "%s", au_errmsg());
	put(xget(id));
	return 0;
}

/* Delete the ended sessions with their transcripts, in one transaction,
 * then what is left of their browsers' directories. */
static int
cmd_gc(int dead)
{
	char ts[AU_TS_LEN];
	int n;
	jv r, list;

	au_xdb_begin(db);
	if (au_ws_list(db, NULL, &list) != 0 ||
	    au_db_run(db, "DELETE FROM ws_events WHERE session_id IN (SELECT "
	    "id FROM ws_sessions WHERE state IN ('exited', 'dead', "
	    "'killed', 'closed'))", NULL, 0) != 0 ||
	    au_db_run(db, "DELETE FROM ws_sessions WHERE state IN ('exited', "
	    "'dead', 'killed', 'closed')", &n, 0) != 0)
		au_die(EX_IOERR, "%s", au_errmsg());
	au_xdb_commit(db);
	jv_array_foreach(list, i, s) {
		if (au_ws_final(au_jv_str(s, "state")))
			au_ws_clear(s);
		jv_free(s);
	}
	jv_free(list);
	r = JV_OBJECT(jv_string("type"), jv_string("session.gc"),
	    jv_string("ts"), jv_string(au_ts_fmt(au_now_ms(), ts)),
	    jv_string("sessions"), jv_number(n), jv_string("dead"),
	    jv_number(dead));
	if (table) {
		char line[128];

		snprintf(line, sizeof line, "%d sessions removed (%d found "
		    "dead)", n, dead);
		au_out_line(line, strlen(line));
	} else {
		au_out_rec(r);
	}
	jv_free(r);
	return 0;
}

/* Open a file session on the directory dir: its real path is the root
 * that tk-file --session works beneath. */
static int
cmd_open(const char *dir)
{
	char id[AU_ID_LEN], *root, *cwd;
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		au_die(EX_NOINPUT, "%s:", au_quote(dir));
	close(fd);
	if ((root = realpath(dir, NULL)) == NULL)
		au_die(EX_NOINPUT, "%s:", au_quote(dir));
	cwd = getcwd(NULL, 0);
	if ((rc = au_ws_create(db, JV_OBJECT(jv_string("kind"),
	    jv_string("file"), jv_string("state"), jv_string("open"),
	    jv_string("root"), jv_string(root), jv_string("cwd"),
	    cwd ? jv_string(cwd) : jv_null()), id)) != 0)
		au_die(rc, "%s", au_errmsg());
	free(root);
	free(cwd);
	put(xget(id));
	return 0;
}

int
main(int argc, char **argv)
{
	const char *arg, *what;
	int64_t grace = 5000;
	int c, rc = 0, dead, i, n;
	jv list;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case O_GRACE:
			grace = au_opt_dur(&cmd, "--grace", arg);
			break;
		}
	}
	argc -= au_optind;
	argv += au_optind;
	if (argc == 0)
		au_usage_die(&cmd, "no command");
	what = argv[0];
	if (strcmp(what, "list") == 0 || strcmp(what, "gc") == 0) {
		if (argc != 1)
			au_usage_die(&cmd, "%s: takes no operands", what);
	} else if (strcmp(what, "show") == 0 ||
	    strcmp(what, "transcript") == 0 || strcmp(what, "kill") == 0) {
		if (argc != 2)
			au_usage_die(&cmd, "%s: needs one session id", what);
	} else if (strcmp(what, "open") == 0) {
		if (argc != 3)
			au_usage_die(&cmd, "open: needs a kind and a directory");
		if (strcmp(argv[1], "file") != 0)
			au_usage_die(&cmd, "open: %s: only file sessions are "
			    "opened here", au_quote(argv[1]));
	} else {
		au_usage_die(&cmd, "unknown command %s", au_quote(what));
	}
	table = au_table();
	au_out_init();
	db = au_xdb_open();
	if ((rc = au_ws_reap(db, &dead)) != 0)
		au_die(rc, "%s", au_errmsg());
	if (strcmp(what, "list") == 0) {
		if ((rc = au_ws_list(db, NULL, &list)) != 0)
			au_die(rc, "%s", au_errmsg());
		n = jv_array_length(jv_copy(list));
		for (i = 0; i < n; i++)
			put(jv_array_get(jv_copy(list), i));
		jv_free(list);
	} else if (strcmp(what, "show") == 0) {
		put(xget(argv[1]));
	} else if (strcmp(what, "transcript") == 0) {
		jv_free(xget(argv[1]));
		if ((rc = au_ws_transcript(db, argv[1], &list)) != 0)
			au_die(rc, "%s", au_errmsg());
		n = jv_array_length(jv_copy(list));
		for (i = 0; i < n; i++)
			put_event(jv_array_get(jv_copy(list), i));
		jv_free(list);
	} else if (strcmp(what, "kill") == 0) {
		rc = cmd_kill(argv[1], grace);
	} else if (strcmp(what, "open") == 0) {
		rc = cmd_open(argv[2]);
	} else {
		rc = cmd_gc(dead);
	}
	au_db_close(db);
	au_out_close();
	return rc;
}
