/*
 * aw-ctl - the control plane of runs: what runs there are and how far they
 * got, their event logs (followed as they grow), the output of any
 * attempt, and the levers: cancel, pause, resume, requeue from the
 * dead-letter queue.  replay rebuilds a run's state from its events alone
 * and checks it against the tables; gc forgets old finished runs.
 *
 * Records on a pipe, a table for people on a terminal (--format).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentutils.h"

enum { O_FOLLOW = AU_LONG, O_AFTER, O_ATTEMPT, O_ALLDEAD, O_OLDER,
	O_STDERR };

static const struct au_opt opts[] = {
	{ O_FOLLOW, "follow", NULL, "events: keep following until the run "
	    "ends", NULL },
	{ O_AFTER, "after", "SEQ", "events: only those after SEQ", NULL },
	{ O_ATTEMPT, "attempt", "N", "logs: of attempt N (default the last)",
	    NULL },
	{ O_STDERR, "stderr", NULL, "logs: the standard error instead", NULL },
	{ O_ALLDEAD, "all-dead", NULL, "requeue: every dead task", NULL },
	{ O_OLDER, "older-than", "DUR", "gc: runs finished longer ago than "
	    "DUR", NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"aw-ctl", "runs\n"
	"status RUN [TASK]\n"
	"events RUN\n"
	"logs RUN TASK\n"
	"cancel RUN [TASK]\n"
	"pause RUN\n"
	"resume RUN\n"
	"dlq [RUN]\n"
	"requeue RUN [TASK ...]\n"
	"replay RUN\n"
	"gc",
	"Look at runs of tasks and steer them.",
	opts, AU_USE_DB | AU_USE_TABLE,
	"runs status events logs cancel pause resume dlq requeue replay gc"
};

static sqlite3 *db;
static int table;		/* --format table */

/* ---- reading ---- */

static sqlite3_stmt *
prepare(const char *sql)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		au_die(EX_SOFTWARE, "%s", sqlite3_errmsg(db));
	return s;
}

static const char *
col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : NULL;
}

/* Die with 66 unless run is in the state file. */
static void
need_run(const char *run)
{
	sqlite3_stmt *s = prepare("SELECT 1 FROM aw_runs WHERE id = ?1");
	int rc;

	sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		au_die(EX_NOINPUT, "no run %s in the state file",
		    au_quote(run));
	if (rc != SQLITE_ROW)
		au_die(au_db_error(db, rc), "%s", au_errmsg());
}

/* Die with 66 unless run has task. */
static void
need_task(const char *run, const char *task)
{
	sqlite3_stmt *s = prepare("SELECT 1 FROM aw_tasks WHERE run_id = ?1 "
	    "AND id = ?2");
	int rc;

	need_run(run);
	sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, task, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		au_die(EX_NOINPUT, "run %s has no task %s", run,
		    au_quote(task));
}

/* The run.status record of run: its state and how many tasks are where. */
static jv
run_status(const char *run)
{
	sqlite3_stmt *s = prepare("SELECT id, state, created, tasks, goal "
	    "FROM aw_runs WHERE id = ?1");
	jv r = jv_object(), counts = jv_object();
	int i;

	sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		r = jv_object_set(r, jv_string("type"),
		    jv_string("run.status"));
		r = jv_object_set(r, jv_string("id"), jv_string(col(s, 0)));
		r = jv_object_set(r, jv_string("state"), jv_string(col(s, 1)));
		r = jv_object_set(r, jv_string("created"),
		    jv_string(col(s, 2)));
		r = jv_object_set(r, jv_string("tasks"),
		    jv_number(sqlite3_column_int(s, 3)));
		if (col(s, 4))
			r = jv_object_set(r, jv_string("goal"),
			    jv_string(col(s, 4)));
	}
	sqlite3_finalize(s);
	for (i = 0; i < AU_AW_NSTATES; i++)
		counts = jv_object_set(counts, jv_string(au_aw_state_name(i)),
		    jv_number(0));
	s = prepare("SELECT state, count(*) FROM aw_tasks WHERE run_id = ?1 "
	    "GROUP BY state");
	sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW)
		counts = jv_object_set(counts, jv_string(col(s, 0)),
		    jv_number(sqlite3_column_int(s, 1)));
	sqlite3_finalize(s);
	return jv_object_set(r, jv_string("counts"), counts);
}

/* The task.status record of the current row of s (selected by TASKCOLS). */
#define TASKCOLS "run_id, id, state, attempt, exit_code, error, ready_at, " \
	"approval_id, ord"

static jv
task_status(sqlite3_stmt *s)
{
	jv t = jv_object_set(jv_object(), jv_string("type"),
	    jv_string("task.status"));
	char at[AU_TS_LEN];

	t = jv_object_set(t, jv_string("run_id"), jv_string(col(s, 0)));
	t = jv_object_set(t, jv_string("task"), jv_string(col(s, 1)));
	t = jv_object_set(t, jv_string("order"),
	    jv_number(sqlite3_column_int(s, 8)));
	t = jv_object_set(t, jv_string("state"), jv_string(col(s, 2)));
	t = jv_object_set(t, jv_string("attempt"),
	    jv_number(sqlite3_column_int(s, 3)));
	if (sqlite3_column_type(s, 4) != SQLITE_NULL)
		t = jv_object_set(t, jv_string("exit_code"),
		    jv_number(sqlite3_column_int(s, 4)));
	if (col(s, 5))
		t = jv_object_set(t, jv_string("error"), jv_string(col(s, 5)));
	if (sqlite3_column_type(s, 6) != SQLITE_NULL)
		t = jv_object_set(t, jv_string("ready_at"), jv_string(
		    au_ts_fmt(sqlite3_column_int64(s, 6), at)));
	if (col(s, 7))
		t = jv_object_set(t, jv_string("approval_id"),
		    jv_string(col(s, 7)));
	return t;
}

/* ---- writing ---- */

/* Write a record, or a line of a table. */
static void
put(jv r)
{
	struct au_buf b = AU_BUF_INIT;
	const char *type = au_jv_str(r, "type");

	if (!table) {
		au_out_rec(r);
		jv_free(r);
		return;
	}
	if (strcmp(type, "run.status") == 0) {
		jv c = jv_object_get(jv_copy(r), jv_string("counts"));

		au_table_cell(&b, r, "id", 27, 1);
		au_table_cell(&b, r, "state", 10, 1);
		au_table_cell(&b, r, "created", 25, 1);
		au_buf_addf(&b, "%d/%d done", (int)jv_number_value(
		    jv_object_get(jv_copy(c), jv_string("done"))),
		    (int)jv_number_value(jv_object_get(jv_copy(r),
		    jv_string("tasks"))));
		jv_object_foreach(c, k, v) {
			if (strcmp(jv_string_value(k), "done") != 0 &&
			    jv_number_value(v) > 0)
				au_buf_addf(&b, ", %d %s",
				    (int)jv_number_value(v),
				    jv_string_value(k));
			jv_free(k);
			jv_free(v);
		}
		jv_free(c);
	} else if (strcmp(type, "task.status") == 0) {
		au_table_cell(&b, r, "order", 6, 1);
		au_table_cell(&b, r, "task", 24, 1);
		au_table_cell(&b, r, "state", 17, 1);
		au_table_cell(&b, r, "attempt", 3, 1);
		au_table_cell(&b, r, "error", 0, 0);
	} else if (strcmp(type, "task.event") == 0 ||
	    strcmp(type, "run.event") == 0) {
		au_table_cell(&b, r, "seq", 6, 1);
		au_table_cell(&b, r, "ts", 25, 1);
		if (strcmp(type, "task.event") == 0) {
			au_table_cell(&b, r, "task", 24, 1);
			au_table_cell(&b, r, "attempt", 3, 1);
		} else {
			au_buf_addf(&b, "%-24s %-3s ", "(run)", "");
		}
		au_table_cell(&b, r, "from", 0, 0);
		au_buf_adds(&b, " -> ");
		au_table_cell(&b, r, "to", 0, 0);
		if (jv_object_has(jv_copy(r), jv_string("error"))) {
			au_buf_adds(&b, ": ");
			au_table_cell(&b, r, "error", 0, 0);
		}
	} else {
		au_json_dump(&b, r);
	}
	while (b.len > 0 && b.s[b.len - 1] == ' ')
		b.s[--b.len] = '\0';
	au_out_line(b.s, b.len);
	au_buf_free(&b);
	jv_free(r);
}

/* ---- the commands ---- */

static int
cmd_runs(void)
{
	sqlite3_stmt *s = prepare("SELECT id FROM aw_runs ORDER BY id");

	while (sqlite3_step(s) == SQLITE_ROW)
		put(run_status(col(s, 0)));
	sqlite3_finalize(s);
	return 0;
}

static int
cmd_status(const char *run, const char *task)
{
	sqlite3_stmt *s;
	int found = 0;

	need_run(run);
	if (task == NULL) {
		put(run_status(run));
		return 0;
	}
	s = prepare("SELECT " TASKCOLS " FROM aw_tasks WHERE run_id = ?1 AND "
	    "id = ?2");
	sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, task, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		put(task_status(s));
		found = 1;
	}
	sqlite3_finalize(s);
	if (!found)
		au_die(EX_NOINPUT, "run %s has no task %s", run,
		    au_quote(task));
	return 0;
}

/* Write the events of run after seq; the last seq into *last. */
static void
events_after(const char *run, int64_t after, int64_t *last)
{
	jv list, e;
	int rc, i, n;

	if ((rc = au_aw_events(db, run, after, &list)) != 0)
		au_die(rc, "%s", au_errmsg());
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++) {
		e = jv_array_get(jv_copy(list), i);
		*last = (int64_t)jv_number_value(jv_object_get(jv_copy(e),
		    jv_string("seq")));
		put(e);
	}
	jv_free(list);
}

static volatile sig_atomic_t stop;

static void
onsignal(int sig)
{
	stop = sig;
}

static int
cmd_events(const char *run, int64_t after, int follow)
{
	struct timespec nap = { 0, 100 * 1000000 };
	sqlite3_stmt *s;
	char state[32];
	int ended;

	need_run(run);
	signal(SIGINT, onsignal);
	signal(SIGTERM, onsignal);
	for (;;) {
		events_after(run, after, &after);
		if (!follow || stop)
			break;
		s = prepare("SELECT state FROM aw_runs WHERE id = ?1");
		sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
		snprintf(state, sizeof state, "%s", sqlite3_step(s) ==
		    SQLITE_ROW ? col(s, 0) : "cancelled");
		sqlite3_finalize(s);
		ended = strcmp(state, "done") == 0 ||
		    strcmp(state, "failed") == 0 ||
		    strcmp(state, "cancelled") == 0;
		if (ended) {
			/* What came with the end. */
			events_after(run, after, &after);
			break;
		}
		nanosleep(&nap, NULL);
	}
	return stop ? 128 + stop : 0;
}

static int
cmd_logs(const char *run, const char *task, int attempt, int err)
{
	sqlite3_stmt *s = prepare("SELECT attempt, stdout_path, stderr_path "
	    "FROM aw_attempts WHERE run_id = ?1 AND task_id = ?2 AND "
	    "(?3 = 0 OR attempt = ?3) ORDER BY attempt DESC LIMIT 1");
	char buf[65536];
	const char *path;
	FILE *f;
	size_t n;
	int rc;

	need_task(run, task);
	sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, task, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, attempt);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_finalize(s);
		if (attempt > 0)
			au_die(EX_NOINPUT, "task %s of run %s has no attempt "
			    "%d", au_quote(task), run, attempt);
		au_die(EX_NOINPUT, "task %s of run %s has not run",
		    au_quote(task), run);
	}
	path = col(s, err ? 2 : 1);
	if (path == NULL) {
		/* It wrote nothing there: nothing to show. */
		sqlite3_finalize(s);
		return 0;
	}
	if ((f = fopen(path, "r")) == NULL) {
		au_err("%s:", path);
		sqlite3_finalize(s);
		return EX_NOINPUT;
	}
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		au_out_text(buf, n);
	rc = ferror(f) ? EX_IOERR : 0;
	if (rc)
		au_err("%s:", path);
	fclose(f);
	sqlite3_finalize(s);
	return rc;
}

/* Run fn in a write transaction on run, then write the events. */
static int
steer(const char *run, int (*fn)(struct au_aw *, void *), void *arg)
{
	struct au_aw *aw;
	jv ev;
	int rc, i, n;

	need_run(run);
	if ((rc = au_db_begin(db)) != 0)
		au_die(rc, "%s", au_errmsg());
	if ((rc = au_aw_open(db, run, "aw-ctl", &aw)) != 0) {
		au_db_rollback(db);
		au_die(rc, "%s", au_errmsg());
	}
	if ((rc = fn(aw, arg)) != 0) {
		au_err("%s", au_errmsg());
		au_db_rollback(db);
		au_aw_close(aw);
		return rc;
	}
	if ((rc = au_db_commit(db)) != 0)
		au_die(rc, "%s", au_errmsg());
	ev = au_aw_drain(aw);
	n = jv_array_length(jv_copy(ev));
	for (i = 0; i < n; i++)
		put(jv_array_get(jv_copy(ev), i));
	jv_free(ev);
	au_aw_close(aw);
	return 0;
}

static int
do_cancel(struct au_aw *aw, void *task)
{
	return au_aw_cancel(aw, task, "cancelled by aw-ctl");
}

static int
do_pause(struct au_aw *aw, void *arg)
{
	return au_aw_pause(aw, *(int *)arg);
}

/* Requeue the tasks named in a NULL-ended list, or every dead task. */
static int
do_requeue(struct au_aw *aw, void *arg)
{
	char **tasks = arg, **dead = NULL;
	size_t n = 0, cap = 0, i;
	sqlite3_stmt *s;
	int rc = 0;

	if (tasks == NULL) {
		s = prepare("SELECT id FROM aw_tasks WHERE run_id = ?1 AND "
		    "state = 'dead' ORDER BY ord");
		sqlite3_bind_text(s, 1, au_aw_run(aw), -1, SQLITE_STATIC);
		while (sqlite3_step(s) == SQLITE_ROW) {
			dead = au_grow(dead, &cap, n + 2, sizeof *dead);
			dead[n++] = au_xstrdup(col(s, 0));
		}
		sqlite3_finalize(s);
		if (n == 0)
			return au_seterr(1, "run %s has no dead tasks",
			    au_aw_run(aw));
		dead[n] = NULL;
		tasks = dead;
	}
	for (i = 0; rc == 0 && tasks[i]; i++)
		rc = au_aw_requeue(aw, tasks[i]);
	for (i = 0; i < n; i++)
		free(dead[i]);
	free(dead);
	return rc;
}

static int
cmd_dlq(const char *run)
{
	sqlite3_stmt *s = prepare("SELECT " TASKCOLS " FROM aw_tasks WHERE "
	    "(?1 IS NULL OR run_id = ?1) AND state = 'dead' "
	    "ORDER BY run_id, ord");

	if (run != NULL) {
		need_run(run);
		sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
	}
	while (sqlite3_step(s) == SQLITE_ROW)
		put(task_status(s));
	sqlite3_finalize(s);
	return 0;
}

static int
cmd_replay(const char *run)
{
	jv problems, r;
	int rc, i, n;

	need_run(run);
	rc = au_aw_replay(db, run, &problems);
	if (rc > 1)
		au_die(rc, "%s", au_errmsg());
	n = jv_array_length(jv_copy(problems));
	for (i = 0; i < n; i++) {
		jv p = jv_array_get(jv_copy(problems), i);

		au_err("run %s: %s", run, jv_string_value(p));
		jv_free(p);
	}
	r = jv_object_set(jv_object(), jv_string("type"), jv_string("replay"));
	r = jv_object_set(r, jv_string("run_id"), jv_string(run));
	r = jv_object_set(r, jv_string("equal"), jv_bool(rc == 0));
	r = jv_object_set(r, jv_string("problems"), problems);
	put(r);
	return rc;
}

static int
cmd_gc(int64_t older)
{
	char cutoff[AU_TS_LEN], *dbpath, *slash, *dir;
	sqlite3_stmt *s, *del;
	int64_t n = 0;
	int rc;

	au_ts_fmt(au_now_ms() - older, cutoff);
	dbpath = au_db_path(au_opts.db);
	if ((slash = strrchr(dbpath, '/')) != NULL)
		*slash = '\0';
	if ((rc = au_db_begin(db)) != 0)
		au_die(rc, "%s", au_errmsg());
	s = prepare("SELECT r.id FROM aw_runs r WHERE r.state IN ('done', "
	    "'failed', 'cancelled', 'planned') AND coalesce((SELECT max(ts) "
	    "FROM aw_events e WHERE e.run_id = r.id), r.created) < ?1");
	del = prepare("DELETE FROM aw_runs WHERE id = ?1");
	sqlite3_bind_text(s, 1, cutoff, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		sqlite3_bind_text(del, 1, col(s, 0), -1, SQLITE_TRANSIENT);
		if ((rc = sqlite3_step(del)) != SQLITE_DONE)
			au_die(au_db_error(db, rc), "%s", au_errmsg());
		sqlite3_reset(del);
		dir = au_xasprintf("%s/logs/%s", slash ? dbpath : ".",
		    col(s, 0));
		if (au_rmtree(dir) != 0)
			au_warn("%s:", dir);
		free(dir);
		n++;
	}
	sqlite3_finalize(s);
	sqlite3_finalize(del);
	free(dbpath);
	if ((rc = au_db_commit(db)) != 0)
		au_die(rc, "%s", au_errmsg());
	put(jv_object_set(jv_object_set(jv_object(), jv_string("type"),
	    jv_string("gc")), jv_string("runs"), jv_number((double)n)));
	return 0;
}

/* The operands a command takes: at least min, at most max (-1: any). */
static void
operands(const char *name, int argc, int min, int max)
{
	if (argc < min)
		au_usage_die(&cmd, "%s: too few operands", name);
	if (max >= 0 && argc > max)
		au_usage_die(&cmd, "%s: too many operands", name);
}

int
main(int argc, char **argv)
{
	const char *arg, *what;
	int64_t after = 0, older = -1;
	int c, follow = 0, attempt = 0, alldead = 0, err = 0, rc, pause;
	char *end;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case O_FOLLOW:
			follow = 1;
			break;
		case O_AFTER:
			after = strtoll(arg, &end, 10);
			if (*arg == '\0' || *end != '\0' || after < 0)
				au_usage_die(&cmd, "--after: invalid sequence "
				    "number %s", au_quote(arg));
			break;
		case O_ATTEMPT:
			attempt = (int)strtol(arg, &end, 10);
			if (*arg == '\0' || *end != '\0' || attempt < 1)
				au_usage_die(&cmd, "--attempt: invalid attempt "
				    "%s", au_quote(arg));
			break;
		case O_STDERR:
			err = 1;
			break;
		case O_ALLDEAD:
			alldead = 1;
			break;
		case O_OLDER:
			older = au_opt_dur(&cmd, "--older-than", arg);
			break;
		}
	}
	argc -= au_optind;
	argv += au_optind;
	table = au_table();
	if (argc == 0)
		au_usage_die(&cmd, "no command");
	what = *argv++;
	argc--;
	au_out_init();
	db = au_xdb_open();
	if (strcmp(what, "runs") == 0) {
		operands(what, argc, 0, 0);
		rc = cmd_runs();
	} else if (strcmp(what, "status") == 0) {
		operands(what, argc, 1, 2);
		rc = cmd_status(argv[0], argc > 1 ? argv[1] : NULL);
	} else if (strcmp(what, "events") == 0) {
		operands(what, argc, 1, 1);
		rc = cmd_events(argv[0], after, follow);
	} else if (strcmp(what, "logs") == 0) {
		operands(what, argc, 2, 2);
		rc = cmd_logs(argv[0], argv[1], attempt, err);
	} else if (strcmp(what, "cancel") == 0) {
		operands(what, argc, 1, 2);
		rc = steer(argv[0], do_cancel, argc > 1 ? argv[1] : NULL);
	} else if (strcmp(what, "pause") == 0 || strcmp(what, "resume") == 0) {
		operands(what, argc, 1, 1);
		pause = strcmp(what, "pause") == 0;
		rc = steer(argv[0], do_pause, &pause);
	} else if (strcmp(what, "dlq") == 0) {
		operands(what, argc, 0, 1);
		rc = cmd_dlq(argc > 0 ? argv[0] : NULL);
	} else if (strcmp(what, "requeue") == 0) {
		operands(what, argc, 1, -1);
		if (alldead == (argc > 1))
			au_usage_die(&cmd, "requeue: name tasks, or "
			    "--all-dead");
		rc = steer(argv[0], do_requeue, alldead ? NULL : argv + 1);
	} else if (strcmp(what, "replay") == 0) {
		operands(what, argc, 1, 1);
		rc = cmd_replay(argv[0]);
	} else if (strcmp(what, "gc") == 0) {
		operands(what, argc, 0, 0);
		if (older < 0)
			au_usage_die(&cmd, "gc: needs --older-than DUR");
		rc = cmd_gc(older);
	} else {
		au_usage_die(&cmd, "unknown command %s", au_quote(what));
	}
	au_db_close(db);
	au_out_close();
	return rc;
}
