/*
 * aw.c - runs of tasks in the state file: storing a plan, the task state
 * machine (the one place transitions are checked), the event log every
 * transition is written to in the same transaction, claims with leases
 * so that several schedulers share a run, results and the retry policy,
 * approvals, and the replay that proves the state derives from the log.
 * aw-sched, aw-ctl and other runtimes (through the shared library) all
 * drive runs through these functions.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentutils.h"

/* ---- the state machine ---- */

static const char *const statename[AU_AW_NSTATES] = {
	"pending", "ready", "waiting_approval", "running", "retrying",
	"failed", "dead", "done", "skipped", "cancelled", "interrupted",
};

#define B(s) (1u << (s))
/* legal[from] holds the states a task may go to from there. */
static const unsigned legal[AU_AW_NSTATES] = {
	[AU_AW_PENDING] = B(AU_AW_READY) | B(AU_AW_WAITING) |
	    B(AU_AW_SKIPPED) | B(AU_AW_CANCELLED),
	[AU_AW_READY] = B(AU_AW_RUNNING) | B(AU_AW_CANCELLED),
	[AU_AW_WAITING] = B(AU_AW_READY) | B(AU_AW_DEAD) | B(AU_AW_CANCELLED),
	[AU_AW_RUNNING] = B(AU_AW_DONE) | B(AU_AW_RETRYING) | B(AU_AW_FAILED) |
	    B(AU_AW_INTERRUPTED) | B(AU_AW_CANCELLED),
	[AU_AW_RETRYING] = B(AU_AW_READY) | B(AU_AW_CANCELLED),
	[AU_AW_FAILED] = B(AU_AW_DEAD),
	[AU_AW_DEAD] = B(AU_AW_READY) | B(AU_AW_PENDING),
	[AU_AW_DONE] = 0,
	[AU_AW_SKIPPED] = B(AU_AW_PENDING) | B(AU_AW_CANCELLED),
	[AU_AW_CANCELLED] = 0,
	[AU_AW_INTERRUPTED] = B(AU_AW_READY) | B(AU_AW_CANCELLED),
};

/* Where a run (planned, running, paused, done, failed, cancelled) may go
 * from each of its states. */
static const char *const runlegal[] = {
	"planned>running", "planned>paused", "planned>cancelled",
	"running>paused", "running>done", "running>failed",
	"running>cancelled", "paused>running", "paused>cancelled",
	"done>running", "failed>running", NULL
};

const char *
au_aw_state_name(int s)
{
	return s >= 0 && s < AU_AW_NSTATES ? statename[s] : "?";
}

int
au_aw_state(const char *name)
{
	int i;

	for (i = 0; i < AU_AW_NSTATES; i++)
		if (strcmp(statename[i], name) == 0)
			return i;
	return -1;
}

int
au_aw_legal(int from, int to)
{
	return from >= 0 && from < AU_AW_NSTATES && to >= 0 &&
	    to < AU_AW_NSTATES && (legal[from] & B(to)) != 0;
}

int
au_aw_terminal(int s)
{
	return s == AU_AW_DONE || s == AU_AW_DEAD || s == AU_AW_SKIPPED ||
	    s == AU_AW_CANCELLED;
}

static int
run_legal(const char *from, const char *to)
{
	char edge[64];
	int i;

	snprintf(edge, sizeof edge, "%s>%s", from, to);
	for (i = 0; runlegal[i]; i++)
		if (strcmp(runlegal[i], edge) == 0)
			return 1;
	return 0;
}

/* ---- the handle ---- */

enum {
	S_TASK, S_SETTASK, S_SEQ, S_EVENT, S_RUN, S_SETRUN, S_DEPENDENTS,
	S_UNDONE, S_DEPSOF, S_READY, S_CLAIM, S_UNCLAIM, S_DUE, S_WAITING,
	S_ORPHANS, S_HEARTBEAT, S_LEASE, S_LIVE, S_ATTEMPT, S_STARTED, S_COUNTS,
	S_RECORD, S_OPEN, S_INTERRUPTED, S_BLOCKED, S_EXPIRE, S_CLAIMED, NSTMT
};

static const char *const sql[NSTMT] = {
	[S_TASK] = "SELECT state, attempt, exit_code, error, ready_at, "
	    "approval_id, approval, lost FROM aw_tasks WHERE run_id = ?1 AND "
	    "id = ?2",
	[S_SETTASK] = "UPDATE aw_tasks SET state = ?3, attempt = ?4, "
	    "exit_code = ?5, error = ?6, ready_at = ?7, approval_id = ?8, "
	    "lost = ?9 WHERE run_id = ?1 AND id = ?2",
	[S_SEQ] = "SELECT coalesce(max(seq), 0) + 1 FROM aw_events "
	    "WHERE run_id = ?1",
	[S_EVENT] = "INSERT INTO aw_events (run_id, seq, ts, task_id, attempt,"
	    " from_state, to_state, exit_code, error, ready_at, approval_id,"
	    " detail, lost) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	    " ?11, ?12, ?13)",
	[S_RUN] = "SELECT state FROM aw_runs WHERE id = ?1",
	[S_SETRUN] = "UPDATE aw_runs SET state = ?2 WHERE id = ?1",
	[S_DEPENDENTS] = "SELECT t.id, t.state FROM aw_deps d JOIN aw_tasks t "
	    "ON t.run_id = d.run_id AND t.id = d.task_id "
	    "WHERE d.run_id = ?1 AND d.dep_id = ?2",
	[S_UNDONE] = "SELECT count(*) FROM aw_deps d JOIN aw_tasks t "
	    "ON t.run_id = d.run_id AND t.id = d.dep_id "
	    "WHERE d.run_id = ?1 AND d.task_id = ?2 AND t.state != 'done'",
	[S_DEPSOF] = "SELECT id FROM aw_tasks t WHERE run_id = ?1 AND "
	    "state = 'pending' AND NOT EXISTS (SELECT 1 FROM aw_deps d "
	    "JOIN aw_tasks u ON u.run_id = d.run_id AND u.id = d.dep_id "
	    "WHERE d.run_id = t.run_id AND d.task_id = t.id "
	    "AND u.state != 'done') ORDER BY ord",
	[S_READY] = "SELECT id, needs FROM aw_tasks WHERE run_id = ?1 AND "
	    "state = 'ready' ORDER BY priority DESC, level, id LIMIT ?2",
	[S_CLAIM] = "INSERT OR REPLACE INTO aw_claims (run_id, task_id, "
	    "attempt, scheduler, lease_until) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_UNCLAIM] = "DELETE FROM aw_claims WHERE run_id = ?1 AND "
	    "task_id = ?2",
	[S_DUE] = "SELECT id FROM aw_tasks WHERE run_id = ?1 AND "
	    "state = 'retrying' AND ready_at <= ?2 "
	    "ORDER BY priority DESC, level, id",
	[S_WAITING] = "SELECT t.id, a.status, a.reason, a.expires_at FROM "
	    "aw_tasks t JOIN approval_requests a ON a.id = t.approval_id "
	    "WHERE t.run_id = ?1 AND t.state = 'waiting_approval' "
	    "ORDER BY t.priority DESC, t.level, t.id",
	[S_ORPHANS] = "SELECT t.id, c.scheduler, c.pid, c.pid_start, "
	    "c.lease_until, s.host, s.pid, s.pid_start, t.attempt "
	    "FROM aw_tasks t "
	    "LEFT JOIN aw_claims c ON c.run_id = t.run_id AND c.task_id = t.id "
	    "LEFT JOIN aw_schedulers s ON s.id = c.scheduler "
	    "WHERE t.run_id = ?1 AND t.state = 'running' "
	    "AND (c.scheduler IS NULL OR c.scheduler != ?2) "
	    "ORDER BY t.priority DESC, t.level, t.id",
	[S_HEARTBEAT] = "UPDATE aw_schedulers SET heartbeat = ?3 "
	    "WHERE run_id = ?1 AND id = ?2",
	[S_LEASE] = "UPDATE aw_claims SET lease_until = ?3 "
	    "WHERE run_id = ?1 AND scheduler = ?2",
	[S_LIVE] = "INSERT INTO aw_schedulers (run_id, id, who, host, pid, "
	    "pid_start, started, heartbeat) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "?7, ?7)",
	[S_ATTEMPT] = "INSERT OR REPLACE INTO aw_attempts (run_id, task_id, "
	    "attempt, scheduler, worker, host, command, pid, started, ended, "
	    "exit_code, timed_out, stdout_path, stderr_path, stdout_bytes, "
	    "stderr_bytes, truncated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
	    "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
	[S_STARTED] = "UPDATE aw_claims SET pid = ?3, pid_start = ?4 "
	    "WHERE run_id = ?1 AND task_id = ?2",
	[S_COUNTS] = "SELECT state, count(*) FROM aw_tasks WHERE run_id = ?1 "
	    "GROUP BY state",
	[S_RECORD] = "SELECT record FROM aw_tasks WHERE run_id = ?1 AND "
	    "id = ?2",
	[S_OPEN] = "SELECT id FROM aw_tasks WHERE run_id = ?1 AND state NOT "
	    "IN ('done', 'dead', 'skipped', 'cancelled') ORDER BY ord",
	[S_BLOCKED] = "SELECT count(*) FROM aw_deps d JOIN aw_tasks t "
	    "ON t.run_id = d.run_id AND t.id = d.dep_id "
	    "WHERE d.run_id = ?1 AND d.task_id = ?2 AND "
	    "t.state IN ('dead', 'skipped', 'cancelled')",
	[S_INTERRUPTED] = "SELECT id FROM aw_tasks WHERE run_id = ?1 AND "
	    "state = 'interrupted' ORDER BY priority DESC, level, id",
	/* au_approval_expire's UPDATE, prepared once for every tick. */
	[S_EXPIRE] = "UPDATE approval_requests SET status = 'expired', "
	    "decided_at = ?2, decided_by = 'timeout' WHERE status = 'pending' "
	    "AND expires_at IS NOT NULL AND expires_at <= ?2",
	[S_CLAIMED] = "SELECT ts, detail FROM aw_events WHERE run_id = ?1 AND "
	    "task_id = ?2 AND attempt = ?3 AND to_state = 'running' "
	    "ORDER BY seq DESC LIMIT 1",
};

struct au_aw {
	sqlite3 *db;
	char run[AU_ID_LEN + 64];
	char id[AU_ID_LEN];	/* this scheduler */
	char host[256];
	sqlite3_stmt *st[NSTMT];
	struct au_aw_policy policy;
	int64_t approval_ms;	/* approval requests expire after, or 0 */
	int64_t lease_ms;
	jv events;		/* recorded since the last au_aw_drain */
	int64_t seq;		/* the next seq in this transaction, or 0 */
	struct au_audit *audit;	/* every event goes here too, or NULL */
};

static sqlite3_stmt *
stmt(struct au_aw *aw, int i)
{
	sqlite3_stmt *s = aw->st[i];

	if (s == NULL) {
		if (sqlite3_prepare_v3(aw->db, sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &aw->st[i], NULL) != SQLITE_OK)
			au_die(EX_SOFTWARE, "prepare: %s",
			    sqlite3_errmsg(aw->db));
		s = aw->st[i];
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	sqlite3_bind_text(s, 1, aw->run, -1, SQLITE_STATIC);
	return s;
}

/* Step a statement that returns no rows. */
static int
done(struct au_aw *aw, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : au_db_error(aw->db, rc);
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static char *
col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? au_xstrdup((const char *)t) : NULL;
}

/* The start time of process pid, from /proc: with the pid, it names a
 * process uniquely, where the pid alone may have been reused. */
static char *
pid_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, field;

	/* open and read, not stdio: this runs for every task started. */
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	do
		n = read(fd, buf, sizeof buf - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	/* Field 2 is "(comm)", which may hold spaces: count after it. */
	if ((p = strrchr(buf, ')')) == NULL)
		return NULL;
	for (field = 2; *p != '\0' && field < 22; p++)
		if (*p == ' ')
			field++;
	n = (ssize_t)strcspn(p, " ");
	return n ? au_xstrndup(p, (size_t)n) : NULL;
}

/* Whether process pid, started at start, is still there. */
static int
alive(pid_t pid, const char *start)
{
	char *now;
	int same;

	if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH))
		return 0;
	if (start == NULL)
		return 1;
	now = pid_start(pid);
	same = now != NULL && strcmp(now, start) == 0;
	free(now);
	return same;
}

/* A commit or a rollback ends what we know of the log's end. */
static int
forget_seq(void *arg)
{
	((struct au_aw *)arg)->seq = 0;
	return 0;
}

static void
forget_seq_rb(void *arg)
{
	struct au_aw *aw = arg;

	/* What was rolled back did not happen. */
	forget_seq(aw);
	jv_free(aw->events);
	aw->events = jv_array();
}

int
au_aw_open(sqlite3 *db, const char *run, const char *who, struct au_aw **out)
{
	struct au_aw *aw;
	sqlite3_stmt *s;
	char *start;
	int rc;

	*out = NULL;
	aw = au_xcalloc(1, sizeof *aw);
	aw->db = db;
	snprintf(aw->run, sizeof aw->run, "%s", run);
	au_ulid(aw->id);
	if (gethostname(aw->host, sizeof aw->host - 1) != 0)
		snprintf(aw->host, sizeof aw->host, "localhost");
	aw->policy.attempts = 1;
	aw->policy.delay_ms = 1000;
	aw->policy.factor = 2;
	aw->policy.max_ms = 300000;
	aw->policy.jitter = 0;
	aw->lease_ms = 30000;
	aw->events = jv_array();
	s = stmt(aw, S_RUN);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? au_seterr(EX_NOINPUT, "no run %s in "
		    "the state file", au_quote(run)) : au_db_error(db, rc);
		au_aw_close(aw);
		return rc;
	}
	sqlite3_commit_hook(db, forget_seq, aw);
	sqlite3_rollback_hook(db, forget_seq_rb, aw);
	start = pid_start(getpid());
	s = stmt(aw, S_LIVE);
	sqlite3_bind_text(s, 2, aw->id, -1, SQLITE_STATIC);
	bind_text(s, 3, who);
	sqlite3_bind_text(s, 4, aw->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, getpid());
	bind_text(s, 6, start);
	sqlite3_bind_int64(s, 7, au_now_ms());
	free(start);
	if ((rc = done(aw, s)) != 0) {
		au_aw_close(aw);
		return rc;
	}
	*out = aw;
	return 0;
}

void
au_aw_close(struct au_aw *aw)
{
	int i;

	if (aw == NULL)
		return;
	sqlite3_commit_hook(aw->db, NULL, NULL);
	sqlite3_rollback_hook(aw->db, NULL, NULL);
	if (aw->st[S_LIVE] != NULL) {
		/* We are gone: say so, unless claims still name us. */
		sqlite3_stmt *s = NULL;

		if (sqlite3_prepare_v2(aw->db, "DELETE FROM aw_schedulers "
		    "WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM aw_claims "
		    "WHERE scheduler = ?1)", -1, &s, NULL) == SQLITE_OK) {
			sqlite3_bind_text(s, 1, aw->id, -1, SQLITE_STATIC);
			sqlite3_step(s);
		}
		sqlite3_finalize(s);
	}
	for (i = 0; i < NSTMT; i++)
		sqlite3_finalize(aw->st[i]);
	jv_free(aw->events);
	free(aw);
}

const char *
au_aw_id(const struct au_aw *aw)
{
	return aw->id;
}

const char *
au_aw_run(const struct au_aw *aw)
{
	return aw->run;
}

void
au_aw_set_policy(struct au_aw *aw, const struct au_aw_policy *p)
{
	aw->policy = *p;
}

void
au_aw_set_approval_timeout(struct au_aw *aw, int64_t ms)
{
	aw->approval_ms = ms;
}

void
au_aw_set_lease(struct au_aw *aw, int64_t ms)
{
	aw->lease_ms = ms;
}

jv
au_aw_pending(struct au_aw *aw)
{
	return jv_copy(aw->events);
}

jv
au_aw_drain(struct au_aw *aw)
{
	jv e = aw->events;

	aw->events = jv_array();
	return e;
}

/* ---- transitions ---- */

/* A task's derived state: what every event carries after it. */
struct snap {
	int state;
	int attempt;
	int has_exit, exit_code;
	char *error;
	int64_t ready_at;	/* 0: none */
	char *approval;
	int lost;		/* attempts cut short, which do not count */
	int asks;		/* it needs an approval (not state: a fact) */
};

static void
snap_free(struct snap *s)
{
	free(s->error);
	free(s->approval);
	s->error = s->approval = NULL;
}

static int
load(struct au_aw *aw, const char *task, struct snap *sn)
{
	sqlite3_stmt *s = stmt(aw, S_TASK);
	int rc;

	sqlite3_bind_text(s, 2, task, -1, SQLITE_STATIC);
	memset(sn, 0, sizeof *sn);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			return au_seterr(EX_NOINPUT, "run %s has no task %s",
			    aw->run, au_quote(task));
		return au_db_error(aw->db, rc);
	}
	sn->state = au_aw_state((const char *)sqlite3_column_text(s, 0));
	sn->attempt = sqlite3_column_int(s, 1);
	if ((sn->has_exit = sqlite3_column_type(s, 2) != SQLITE_NULL))
		sn->exit_code = sqlite3_column_int(s, 2);
	sn->error = col_text(s, 3);
	sn->ready_at = sqlite3_column_int64(s, 4);
	sn->approval = col_text(s, 5);
	sn->asks = sqlite3_column_int(s, 6);
	sn->lost = sqlite3_column_int(s, 7);
	sqlite3_reset(s);
	return 0;
}

/* The next seq of the run's log: under the write lock, so gap-free.
 * Within one transaction nobody else writes, so it is counted, not read
 * again. */
static int
nextseq(struct au_aw *aw, int64_t *seq)
{
	sqlite3_stmt *s;
	int rc;

	if (aw->seq == 0) {
		s = stmt(aw, S_SEQ);
		if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
			sqlite3_reset(s);
			return au_db_error(aw->db, rc);
		}
		aw->seq = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	*seq = aw->seq++;
	return 0;
}

/* Add the event's record to what au_aw_drain hands out, and to the audit
 * log, in the same transaction: 0, or the audit log's failure. */
static int
remember(struct au_aw *aw, int64_t seq, const char *ts, const char *task,
    int attempt, const char *from, const char *to, const struct snap *sn,
    jv detail)
{
	jv e = jv_object();
	int rc;

	e = jv_object_set(e, jv_string("type"),
	    jv_string(task ? "task.event" : "run.event"));
	e = jv_object_set(e, jv_string("run_id"), jv_string(aw->run));
	e = jv_object_set(e, jv_string("seq"), jv_number((double)seq));
	e = jv_object_set(e, jv_string("ts"), jv_string(ts));
	if (task != NULL) {
		e = jv_object_set(e, jv_string("task"), jv_string(task));
		e = jv_object_set(e, jv_string("attempt"), jv_number(attempt));
	}
	e = jv_object_set(e, jv_string("from"), jv_string(from));
	e = jv_object_set(e, jv_string("to"), jv_string(to));
	if (sn != NULL && sn->has_exit)
		e = jv_object_set(e, jv_string("exit_code"),
		    jv_number(sn->exit_code));
	if (sn != NULL && sn->error != NULL)
		e = jv_object_set(e, jv_string("error"), jv_string(sn->error));
	if (sn != NULL && sn->ready_at > 0) {
		char at[AU_TS_LEN];

		e = jv_object_set(e, jv_string("ready_at"),
		    jv_string(au_ts_fmt(sn->ready_at, at)));
	}
	if (sn != NULL && sn->approval != NULL)
		e = jv_object_set(e, jv_string("approval_id"),
		    jv_string(sn->approval));
	if (sn != NULL && sn->lost > 0)
		e = jv_object_set(e, jv_string("lost"), jv_number(sn->lost));
	if (jv_get_kind(detail) == JV_KIND_OBJECT) {
		jv_object_foreach(detail, k, v)
			e = jv_object_set(e, k, v);
	}
	jv_free(detail);
	if (aw->audit != NULL && (rc = au_audit_append(aw->audit, e, NULL,
	    NULL)) != 0) {
		jv_free(e);
		return rc;
	}
	aw->events = jv_array_append(aw->events, e);
	return 0;
}

/* Append an event to the log: task's (NULL: the run's) move from to, with
 * the state after it in sn (NULL for the run) and detail (consumed on
 * failure only: on success it goes to remember()).  Its seq and time are
 * set in *seq and ts. */
static int
log_event(struct au_aw *aw, const char *task, const char *from,
    const char *to, const struct snap *sn, jv detail, int64_t *seq,
    char ts[AU_TS_LEN])
{
	struct au_buf b = AU_BUF_INIT;
	sqlite3_stmt *s;
	int rc;

	if ((rc = nextseq(aw, seq)) != 0) {
		jv_free(detail);
		return rc;
	}
	au_ts_fmt(au_now_ms(), ts);
	s = stmt(aw, S_EVENT);
	sqlite3_bind_int64(s, 2, *seq);
	sqlite3_bind_text(s, 3, ts, -1, SQLITE_STATIC);
	bind_text(s, 4, task);
	sqlite3_bind_int(s, 5, sn ? sn->attempt : 0);
	sqlite3_bind_text(s, 6, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, to, -1, SQLITE_STATIC);
	if (sn != NULL && sn->has_exit)
		sqlite3_bind_int(s, 8, sn->exit_code);
	bind_text(s, 9, sn ? sn->error : NULL);
	if (sn != NULL && sn->ready_at > 0)
		sqlite3_bind_int64(s, 10, sn->ready_at);
	bind_text(s, 11, sn ? sn->approval : NULL);
	if (jv_get_kind(detail) == JV_KIND_OBJECT) {
		au_json_dump(&b, detail);
		sqlite3_bind_text(s, 12, b.s, (int)b.len, SQLITE_TRANSIENT);
		au_buf_free(&b);
	}
	sqlite3_bind_int(s, 13, sn ? sn->lost : 0);
	if ((rc = done(aw, s)) != 0)
		jv_free(detail);
	return rc;
}

/* Write the event that takes task from its state in old to the state in
 * sn, and make sn the task's state.  detail (consumed) adds fields that
 * are not state: worker, pid, signal, duration.  Refuses (70) a move the
 * state machine does not allow. */
static int
move(struct au_aw *aw, const char *task, const struct snap *old,
    const struct snap *sn, jv detail)
{
	const char *from = statename[old->state], *to = statename[sn->state];
	char ts[AU_TS_LEN];
	sqlite3_stmt *s;
	int64_t seq;
	int rc;

	if (!au_aw_legal(old->state, sn->state)) {
		jv_free(detail);
		return au_seterr(EX_SOFTWARE, "task %s: illegal transition "
		    "%s -> %s", au_quote(task), from, to);
	}
	if ((rc = log_event(aw, task, from, to, sn, detail, &seq, ts)) != 0)
		return rc;
	s = stmt(aw, S_SETTASK);
	sqlite3_bind_text(s, 2, task, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, sn->attempt);
	if (sn->has_exit)
		sqlite3_bind_int(s, 5, sn->exit_code);
	bind_text(s, 6, sn->error);
	if (sn->ready_at > 0)
		sqlite3_bind_int64(s, 7, sn->ready_at);
	bind_text(s, 8, sn->approval);
	sqlite3_bind_int(s, 9, sn->lost);
	if ((rc = done(aw, s)) != 0) {
		jv_free(detail);
		return rc;
	}
	return remember(aw, seq, ts, task, sn->attempt, from, to, sn,
	    detail);
}

/* Move task to state to, keeping the rest of its state. */
static int
go(struct au_aw *aw, const char *task, int to, jv detail)
{
	struct snap old, sn;
	int rc;

	if ((rc = load(aw, task, &old)) != 0) {
		jv_free(detail);
		return rc;
	}
	sn = old;
	sn.state = to;
	rc = move(aw, task, &old, &sn, detail);
	snap_free(&old);
	return rc;
}

static int
run_state(struct au_aw *aw, char *buf, size_t size)
{
	sqlite3_stmt *s = stmt(aw, S_RUN);
	int rc = sqlite3_step(s);

	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return au_db_error(aw->db, rc == SQLITE_DONE ? SQLITE_ERROR :
		    rc);
	}
	snprintf(buf, size, "%s", sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	return 0;
}

/* Move the run to state to (nothing when it is there already). */
static int
run_go(struct au_aw *aw, const char *to, jv detail)
{
	char from[32], ts[AU_TS_LEN];
	sqlite3_stmt *s;
	int64_t seq;
	int rc;

	if ((rc = run_state(aw, from, sizeof from)) != 0 ||
	    strcmp(from, to) == 0) {
		jv_free(detail);
		return rc;
	}
	if (!run_legal(from, to)) {
		jv_free(detail);
		return au_seterr(EX_SOFTWARE, "run %s: illegal transition "
		    "%s -> %s", aw->run, from, to);
	}
	if ((rc = log_event(aw, NULL, from, to, NULL, detail, &seq, ts)) != 0)
		return rc;
	s = stmt(aw, S_SETRUN);
	sqlite3_bind_text(s, 2, to, -1, SQLITE_STATIC);
	if ((rc = done(aw, s)) != 0) {
		jv_free(detail);
		return rc;
	}
	return remember(aw, seq, ts, NULL, 0, from, to, NULL, detail);
}

/* The ids a query returns in its first column (a NULL-ended array). */
static char **
ids(struct au_aw *aw, sqlite3_stmt *s, int *rcp)
{
	char **v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = au_grow(v, &cap, n + 2, sizeof *v);
		v[n++] = col_text(s, 0);
	}
	sqlite3_reset(s);
	*rcp = rc == SQLITE_DONE ? 0 : au_db_error(aw->db, rc);
	v = au_grow(v, &cap, n + 1, sizeof *v);
	v[n] = NULL;
	return v;
}

static void
ids_free(char **v)
{
	size_t i;

	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* The task's record (malloc'd JSON text), or NULL. */
static char *
record(struct au_aw *aw, const char *task)
{
	sqlite3_stmt *s = stmt(aw, S_RECORD);
	char *r = NULL;

	sqlite3_bind_text(s, 2, task, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		r = col_text(s, 0);
	}
	sqlite3_reset(s);
	return r;
}

/* A pending task whose dependencies are done: ready, or waiting for an
 * approval when its record asks for one. */
static int
release(struct au_aw *aw, const char *task)
{
	char *rec, id[AU_ID_LEN], subject[512];
	struct au_buf summary = AU_BUF_INIT;
	struct snap old, sn;
	int rc;
	jv r, cmd;

	if ((rc = load(aw, task, &old)) != 0)
		return rc;
	sn = old;
	if (!old.asks) {
		sn.state = AU_AW_READY;
		rc = move(aw, task, &old, &sn, jv_null());
		snap_free(&old);
		return rc;
	}
	rec = record(aw, task);
	r = rec ? jv_parse(rec) : jv_object();
	snprintf(subject, sizeof subject, "run %s task %s", aw->run, task);
	cmd = jv_object_get(jv_copy(r), jv_string("run"));
	if (jv_get_kind(cmd) == JV_KIND_STRING)
		au_buf_adds(&summary, jv_string_value(cmd));
	else
		au_json_dump(&summary, jv_is_valid(cmd) ? cmd : r);
	jv_free(cmd);
	rc = au_approval_create(aw->db, "aw-sched", subject, summary.s, rec,
	    aw->approval_ms > 0 ? au_now_ms() + aw->approval_ms : 0, id);
	au_buf_free(&summary);
	jv_free(r);
	free(rec);
	if (rc == 0) {
		sn.state = AU_AW_WAITING;
		sn.approval = id;
		rc = move(aw, task, &old, &sn, jv_null());
	}
	snap_free(&old);
	return rc;
}

/* Release the dependents of a task just done whose other dependencies are
 * done too. */
static int
promote(struct au_aw *aw, const char *task)
{
	sqlite3_stmt *s = stmt(aw, S_DEPENDENTS);
	char **dep, **p;
	int rc, left;

	sqlite3_bind_text(s, 2, task, -1, SQLITE_STATIC);
	/* Only the pending ones: ids() reads the first column. */
	dep = ids(aw, s, &rc);
	for (p = dep; rc == 0 && *p; p++) {
		struct snap sn;

		if ((rc = load(aw, *p, &sn)) != 0)
			break;
		left = sn.state;
		snap_free(&sn);
		if (left != AU_AW_PENDING)
			continue;
		s = stmt(aw, S_UNDONE);
		sqlite3_bind_text(s, 2, *p, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		left = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
		sqlite3_reset(s);
		rc = left < 0 ? au_db_error(aw->db, rc) : 0;
		if (rc == 0 && left == 0)
			rc = release(aw, *p);
	}
	ids_free(dep);
	return rc;
}

/* Skip every pending task that depends, however indirectly, on task. */
static int
skip_dependents(struct au_aw *aw, const char *task, const char *why)
{
	char **work = NULL, **dep, **p, *t;
	size_t n = 0, cap = 0;
	sqlite3_stmt *sq;
	int rc = 0;

	work = au_grow(work, &cap, 1, sizeof *work);
	work[n++] = au_xstrdup(task);
	while (n > 0) {
		t = work[--n];
		sq = stmt(aw, S_DEPENDENTS);
		sqlite3_bind_text(sq, 2, t, -1, SQLITE_STATIC);
		dep = ids(aw, sq, &rc);
		for (p = dep; rc == 0 && *p; p++) {
			struct snap old, sn;

			if ((rc = load(aw, *p, &old)) != 0)
				break;
			if (old.state == AU_AW_PENDING) {
				sn = old;
				sn.state = AU_AW_SKIPPED;
				sn.error = au_xasprintf("dependency %s %s",
				    au_quote(t), why);
				rc = move(aw, *p, &old, &sn, jv_null());
				free(sn.error);
				sn.error = old.error;
				work = au_grow(work, &cap, n + 1, sizeof *work);
				work[n++] = au_xstrdup(*p);
			}
			snap_free(&old);
		}
		ids_free(dep);
		free(t);
		if (rc != 0)
			break;
	}
	while (n > 0)
		free(work[--n]);
	free(work);
	return rc;
}

static int again(struct au_aw *aw, const char *task, const struct snap *in);

/* ---- driving a run ---- */

int
au_aw_start(struct au_aw *aw)
{
	char state[32];
	char **ready, **p;
	int rc;

	if ((rc = run_state(aw, state, sizeof state)) != 0)
		return rc;
	if (strcmp(state, "planned") == 0 &&
	    (rc = run_go(aw, "running", jv_null())) != 0)
		return rc;
	ready = ids(aw, stmt(aw, S_DEPSOF), &rc);
	for (p = ready; rc == 0 && *p; p++)
		rc = release(aw, *p);
	ids_free(ready);
	if (rc != 0)
		return rc;
	/* Tasks a scheduler stopped by a signal left interrupted. */
	ready = ids(aw, stmt(aw, S_INTERRUPTED), &rc);
	for (p = ready; rc == 0 && *p; p++) {
		struct snap sn;

		if ((rc = load(aw, *p, &sn)) == 0)
			rc = again(aw, *p, &sn);
		snap_free(&sn);
	}
	ids_free(ready);
	return rc;
}

char *
au_aw_record(struct au_aw *aw, const char *task)
{
	return record(aw, task);
}

int
au_aw_interrupt(struct au_aw *aw, const char *task, int attempt,
    const char *why)
{
	struct snap old, sn;
	sqlite3_stmt *s;
	int rc;

	if ((rc = load(aw, task, &old)) != 0)
		return rc;
	if (old.state != AU_AW_RUNNING || old.attempt != attempt) {
		snap_free(&old);
		return 0;	/* not that attempt's any more */
	}
	s = stmt(aw, S_UNCLAIM);
	sqlite3_bind_text(s, 2, task, -1, SQLITE_STATIC);
	if ((rc = done(aw, s)) == 0) {
		sn = old;
		sn.state = AU_AW_INTERRUPTED;
		rc = move(aw, task, &old, &sn, jv_object_set(jv_object(),
		    jv_string("reason"), jv_string(why)));
	}
	snap_free(&old);
	return rc;
}

jv
au_aw_ready(struct au_aw *aw, int limit)
{
	sqlite3_stmt *s = stmt(aw, S_READY);
	jv list = jv_array();
	int rc;

	sqlite3_bind_int(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		jv t = jv_object_set(jv_object(), jv_string("id"),
		    jv_string((const char *)sqlite3_column_text(s, 0)));
		const char *needs = (const char *)sqlite3_column_text(s, 1);

		t = jv_object_set(t, jv_string("needs"),
		    needs ? jv_parse(needs) : jv_array());
		list = jv_array_append(list, t);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		jv_free(list);
		au_db_error(aw->db, rc);
		return jv_invalid();
	}
	return list;
}

int
au_aw_claim(struct au_aw *aw, const char *task, jv detail, int *attempt)
{
	struct snap old, sn;
	sqlite3_stmt *s;
	int rc;

	if ((rc = load(aw, task, &old)) != 0) {
		jv_free(detail);
		return rc;
	}
	if (old.state != AU_AW_READY) {
		snap_free(&old);
		jv_free(detail);
		return au_seterr(1, "task %s is %s, not ready", au_quote(task),
		    au_aw_state_name(old.state));
	}
	sn = old;
	sn.state = AU_AW_RUNNING;
	sn.attempt = old.attempt + 1;
	sn.ready_at = 0;
	sn.has_exit = 0;	/* what the last attempt left is history */
	sn.error = NULL;
	rc = move(aw, task, &old, &sn, detail);
	snap_free(&old);
	if (rc != 0)
		return rc;
	s = stmt(aw, S_CLAIM);
	sqlite3_bind_text(s, 2, task, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, sn.attempt);
	sqlite3_bind_text(s, 4, aw->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, au_now_ms() + aw->lease_ms);
	*attempt = sn.attempt;
	return done(aw, s);
}

int
au_aw_started(struct au_aw *aw, const char *task, pid_t pid)
{
	sqlite3_stmt *s = stmt(aw, S_STARTED);
	char *start = pid > 0 ? pid_start(pid) : NULL;

	sqlite3_bind_text(s, 2, task, -1, SQLITE_STATIC);
	if (pid > 0)
		sqlite3_bind_int64(s, 3, pid);
	bind_text(s, 4, start);
	free(start);
	return done(aw, s);
}

/* The retry policy of a task: its record's "retry" over the default. */
static void
policy(struct au_aw *aw, jv rec, struct au_aw_policy *p, jv *nonretry)
{
	jv r = jv_object_get(jv_copy(rec), jv_string("retry")), v;
	int64_t ms;

	*p = aw->policy;
	*nonretry = jv_array();
	if (jv_get_kind(r) != JV_KIND_OBJECT) {
		jv_free(r);
		return;
	}
	v = jv_object_get(jv_copy(r), jv_string("attempts"));
	if (jv_get_kind(v) == JV_KIND_NUMBER)
		p->attempts = (int)jv_number_value(v);
	jv_free(v);
	if (au_jv_str(r, "delay") && au_dur_parse(au_jv_str(r, "delay"),
	    &ms) == 0)
		p->delay_ms = ms;
	if (au_jv_str(r, "max") && au_dur_parse(au_jv_str(r, "max"), &ms) == 0)
		p->max_ms = ms;
	v = jv_object_get(jv_copy(r), jv_string("factor"));
	if (jv_get_kind(v) == JV_KIND_NUMBER)
		p->factor = jv_number_value(v);
	jv_free(v);
	v = jv_object_get(jv_copy(r), jv_string("jitter"));
	if (jv_get_kind(v) == JV_KIND_NUMBER)
		p->jitter = jv_number_value(v);
	jv_free(v);
	v = jv_object_get(jv_copy(r), jv_string("non_retryable"));
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		jv_free(*nonretry);
		*nonretry = v;
	} else {
		jv_free(v);
	}
	jv_free(r);
}

/* A fraction in [0, 1) from (run, task, attempt): the same on a replay. */
static double
unit_hash(const char *run, const char *task, int attempt)
{
	uint64_t h = 0xcbf29ce484222325u;
	const char *s;

	for (s = run; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	h = (h ^ '/') * 0x100000001b3u;
	for (s = task; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	h = (h ^ (uint64_t)attempt) * 0x100000001b3u;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	return (double)(h >> 11) / 9007199254740992.0;
}

int64_t
au_aw_backoff(const struct au_aw_policy *p, const char *run,
    const char *task, int attempt)
{
	double d = (double)p->delay_ms * pow(p->factor, attempt - 1);

	if (d > (double)p->max_ms)
		d = (double)p->max_ms;
	/* jitter j spreads the delay over [d(1 - j), d(1 + j)). */
	d *= 1 + p->jitter * (2 * unit_hash(run, task, attempt) - 1);
	return d < 0 ? 0 : (int64_t)d;
}

static char *
describe(const struct au_aw_result *r)
{
	if (r->error != NULL)
		return au_xstrdup(r->error);
	if (r->timed_out)
		return au_xstrdup("timed out");
	if (r->exit_code > 128)
		return au_xasprintf("killed by signal %d", r->exit_code - 128);
	return au_xasprintf("exited with status %d", r->exit_code);
}

/* After a task died: skip what depends on it. */
static int
died(struct au_aw *aw, const char *task)
{
	return skip_dependents(aw, task, "died");
}

/* The end of an attempt that did not succeed: retry it, or let it die. */
static int
fail(struct au_aw *aw, const char *task, struct snap *old, int exit_code,
    char *error, int retryable, jv detail)
{
	struct au_aw_policy p;
	struct snap sn;
	jv nonretry, rec;
	char *text = record(aw, task);
	int i, n, allowed, rc;

	rec = text ? jv_parse(text) : jv_object();
	free(text);
	policy(aw, rec, &p, &nonretry);
	jv_free(rec);
	n = jv_array_length(jv_copy(nonretry));
	for (i = 0; i < n && retryable; i++) {
		jv e = jv_array_get(jv_copy(nonretry), i);

		if (jv_get_kind(e) == JV_KIND_NUMBER &&
		    (int)jv_number_value(e) == exit_code && exit_code != 75)
			retryable = 0;
		jv_free(e);
	}
	jv_free(nonretry);
	allowed = p.attempts;
	if (exit_code == EX_TEMPFAIL && allowed < 3)
		allowed = 3;		/* a temporary failure: try again */
	if (exit_code == EX_NOPERM)
		retryable = 0;	/* denied: trying again will not do */
	sn = *old;
	sn.has_exit = 1;
	sn.exit_code = exit_code;
	sn.error = error;
	if (retryable && old->attempt - old->lost < allowed) {
		int64_t delay = au_aw_backoff(&p, aw->run, task, old->attempt);

		sn.state = AU_AW_RETRYING;
		sn.ready_at = au_now_ms() + delay;
		detail = jv_object_set(jv_get_kind(detail) == JV_KIND_OBJECT ?
		    detail : jv_object(), jv_string("delay_ms"),
		    jv_number((double)delay));
		rc = move(aw, task, old, &sn, detail);
		sn.error = NULL;
		return rc;
	}
	sn.state = AU_AW_FAILED;
	if ((rc = move(aw, task, old, &sn, detail)) == 0) {
		struct snap f = sn;

		sn.state = AU_AW_DEAD;
		rc = move(aw, task, &f, &sn, jv_null());
	}
	if (rc == 0)
		rc = died(aw, task);
	return rc;
}

int
au_aw_report(struct au_aw *aw, const char *task, int attempt,
    const struct au_aw_result *r, jv detail)
{
	struct snap old, sn;
	sqlite3_stmt *s;
	char *err;
	int rc;

	if ((rc = load(aw, task, &old)) != 0) {
		jv_free(detail);
		return rc;
	}
	if (old.state != AU_AW_RUNNING || old.attempt != attempt) {
		/* Cancelled, or taken over, while it ran: not ours now. */
		snap_free(&old);
		jv_free(detail);
		return 0;
	}
	s = stmt(aw, S_UNCLAIM);
	sqlite3_bind_text(s, 2, task, -1, SQLITE_STATIC);
	if ((rc = done(aw, s)) != 0) {
		snap_free(&old);
		jv_free(detail);
		return rc;
	}
	if (r->exit_code == 0 && !r->timed_out && r->error == NULL) {
		sn = old;
		sn.state = AU_AW_DONE;
		sn.has_exit = 1;
		sn.exit_code = 0;
		sn.error = NULL;
		rc = move(aw, task, &old, &sn, detail);
		snap_free(&old);
		return rc ? rc : promote(aw, task);
	}
	err = describe(r);
	rc = fail(aw, task, &old, r->exit_code, err, !r->unrunnable, detail);
	free(err);
	snap_free(&old);
	return rc;
}

int
au_aw_ended(struct au_aw *aw, const char *task, int attempt,
    const struct au_aw_attempt *a)
{
	sqlite3_stmt *s = stmt(aw, S_ATTEMPT);

	sqlite3_bind_text(s, 2, task, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, attempt);
	sqlite3_bind_text(s, 4, aw->id, -1, SQLITE_STATIC);
	bind_text(s, 5, a->worker);
	sqlite3_bind_text(s, 6, aw->host, -1, SQLITE_STATIC);
	bind_text(s, 7, a->command);
	if (a->pid > 0)
		sqlite3_bind_int64(s, 8, a->pid);
	sqlite3_bind_int64(s, 9, a->started);
	sqlite3_bind_int64(s, 10, a->ended);
	sqlite3_bind_int(s, 11, a->exit_code);
	sqlite3_bind_int(s, 12, a->timed_out);
	bind_text(s, 13, a->out);
	bind_text(s, 14, a->err);
	sqlite3_bind_int64(s, 15, a->out_bytes);
	sqlite3_bind_int64(s, 16, a->err_bytes);
	sqlite3_bind_int(s, 17, a->truncated);
	return done(aw, s);
}

/* An interrupted task is ready again: the attempt did not end by its own
 * doing, so it costs no attempt and waits for no backoff. */
static int
again(struct au_aw *aw, const char *task, const struct snap *in)
{
	struct snap sn = *in;

	sn.state = AU_AW_READY;
	sn.lost = in->lost + 1;
	return move(aw, task, in, &sn, jv_null());
}

/* Whether the NUL-separated environment env holds the string var. */
static int
has_var(const char *env, size_t n, const char *var)
{
	size_t len = strlen(var) + 1;
	const char *p = env, *e = env + n;

	for (; p < e; p += strlen(p) + 1)
		if ((size_t)(e - p) >= len && memcmp(p, var, len) == 0)
			return 1;
	return 0;
}

/* Kill the process groups of the processes of this host whose
 * environment says they run the given attempt of the task. */
static void
kill_by_env(const char *run, const char *task, int attempt)
{
	char *vars[3], path[64], *buf = NULL;
	struct dirent *d;
	size_t cap = 0, n, got;
	DIR *proc;
	FILE *f;
	pid_t pid, pg;

	if ((proc = opendir("/proc")) == NULL)
		return;
	vars[0] = au_xasprintf("AGENTUTILS_RUN=%s", run);
	vars[1] = au_xasprintf("AGENTUTILS_TASK=%s", task);
	vars[2] = au_xasprintf("AGENTUTILS_ATTEMPT=%d", attempt);
	while ((d = readdir(proc)) != NULL) {
		if ((pid = (pid_t)atol(d->d_name)) <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = 0;
		do {
			buf = au_grow(buf, &cap, n + 4096, 1);
			got = fread(buf + n, 1, 4096, f);
			n += got;
		} while (got > 0);
		fclose(f);
		if (has_var(buf, n, vars[0]) && has_var(buf, n, vars[1]) &&
		    has_var(buf, n, vars[2]) && (pg = getpgid(pid)) > 1)
			kill(-pg, SIGKILL);
	}
	closedir(proc);
	free(vars[0]);
	free(vars[1]);
	free(vars[2]);
	free(buf);
}

/* Whether the scheduler of a row of S_ORPHANS is gone: no claim or no
 * scheduler row, a process of this host that is no more, or a lease of
 * another host that has run out. */
static int
gone(struct au_aw *aw, sqlite3_stmt *s, int64_t now)
{
	const char *host = (const char *)sqlite3_column_text(s, 5);

	if (sqlite3_column_type(s, 1) == SQLITE_NULL || host == NULL)
		return 1;
	if (strcmp(host, aw->host) == 0)
		return !alive((pid_t)sqlite3_column_int64(s, 6),
		    (const char *)sqlite3_column_text(s, 7));
	return sqlite3_column_int64(s, 4) < now;
}

/* Running tasks whose scheduler is gone: interrupted, then tried again
 * by their policy.  A process of theirs still alive here is killed first,
 * so that an attempt never runs twice at once. */
static int
orphans(struct au_aw *aw, int64_t now)
{
	sqlite3_stmt *s = stmt(aw, S_ORPHANS);
	struct { char *task; pid_t pid; char *start; int here, attempt; } *o =
	    NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	sqlite3_bind_text(s, 2, aw->id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *host = (const char *)sqlite3_column_text(s, 5);

		if (!gone(aw, s, now))
			continue;
		o = au_grow(o, &cap, n + 1, sizeof *o);
		o[n].task = col_text(s, 0);
		o[n].pid = (pid_t)sqlite3_column_int64(s, 2);
		o[n].here = host && strcmp(host, aw->host) == 0;
		o[n].start = o[n].here ? col_text(s, 3) : NULL;
		o[n].attempt = sqlite3_column_int(s, 8);
		n++;
	}
	sqlite3_reset(s);
	rc = rc == SQLITE_DONE ? 0 : au_db_error(aw->db, rc);
	for (i = 0; i < n; i++) {
		if (rc == 0) {
			struct snap old, sn;

			if (o[i].start != NULL && alive(o[i].pid, o[i].start))
				kill(-o[i].pid, SIGKILL);
			else if (o[i].here && o[i].pid <= 0)
				/* Started, but its pid never made it to the
				 * state file: find it by its environment. */
				kill_by_env(aw->run, o[i].task, o[i].attempt);
			if ((rc = load(aw, o[i].task, &old)) == 0) {
				sn = old;
				sn.state = AU_AW_INTERRUPTED;
				rc = move(aw, o[i].task, &old, &sn,
				    jv_object_set(jv_object(),
				    jv_string("reason"),
				    jv_string("its scheduler is gone")));
				if (rc == 0)
					rc = again(aw, o[i].task, &sn);
				snap_free(&old);
			}
			s = stmt(aw, S_UNCLAIM);
			sqlite3_bind_text(s, 2, o[i].task, -1, SQLITE_STATIC);
			if (rc == 0)
				rc = done(aw, s);
		}
		free(o[i].task);
		free(o[i].start);
	}
	free(o);
	return rc;
}

int
au_aw_adopt(struct au_aw *aw, const char *key, jv *list)
{
	sqlite3_stmt *s = stmt(aw, S_ORPHANS);
	struct { char *task; int attempt; } *o = NULL;
	int64_t now = au_now_ms();
	size_t n = 0, cap = 0, i;
	int rc;

	*list = jv_array();
	sqlite3_bind_text(s, 2, aw->id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!gone(aw, s, now))
			continue;
		o = au_grow(o, &cap, n + 1, sizeof *o);
		o[n].task = col_text(s, 0);
		o[n++].attempt = sqlite3_column_int(s, 8);
	}
	sqlite3_reset(s);
	rc = rc == SQLITE_DONE ? 0 : au_db_error(aw->db, rc);
	for (i = 0; i < n; i++) {
		jv d = jv_invalid(), job;

		s = stmt(aw, S_CLAIMED);
		sqlite3_bind_text(s, 2, o[i].task, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, o[i].attempt);
		if (rc == 0 && sqlite3_step(s) == SQLITE_ROW &&
		    sqlite3_column_type(s, 1) == SQLITE_TEXT)
			d = jv_object_set(jv_object_set(jv_object_set(jv_parse(
			    (const char *)sqlite3_column_text(s, 1)),
			    jv_string("id"), jv_string(o[i].task)),
			    jv_string("attempt"), jv_number(o[i].attempt)),
			    jv_string("ts"), jv_string((const char *)
			    sqlite3_column_text(s, 0)));
		sqlite3_reset(s);
		job = jv_get_kind(d) == JV_KIND_OBJECT ? jv_object_get(
		    jv_copy(d), jv_string(key)) : jv_invalid();
		if (jv_is_valid(job)) {
			s = stmt(aw, S_CLAIM);
			sqlite3_bind_text(s, 2, o[i].task, -1, SQLITE_STATIC);
			sqlite3_bind_int(s, 3, o[i].attempt);
			sqlite3_bind_text(s, 4, aw->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 5, now + aw->lease_ms);
			if ((rc = done(aw, s)) == 0)
				*list = jv_array_append(*list, jv_copy(d));
		}
		jv_free(job);
		jv_free(d);
		free(o[i].task);
	}
	free(o);
	return rc;
}

/* Tasks waiting for approvals that have been decided, or have expired. */
static int
decided(struct au_aw *aw)
{
	sqlite3_stmt *s = stmt(aw, S_WAITING);
	struct { char *task, *status, *reason; } *d = NULL;
	size_t n = 0, cap = 0, i;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (strcmp((const char *)sqlite3_column_text(s, 1),
		    "pending") == 0)
			continue;
		d = au_grow(d, &cap, n + 1, sizeof *d);
		d[n].task = col_text(s, 0);
		d[n].status = col_text(s, 1);
		d[n].reason = col_text(s, 2);
		n++;
	}
	sqlite3_reset(s);
	rc = rc == SQLITE_DONE ? 0 : au_db_error(aw->db, rc);
	for (i = 0; i < n; i++) {
		if (rc == 0 && strcmp(d[i].status, "approved") == 0) {
			rc = go(aw, d[i].task, AU_AW_READY, jv_null());
		} else if (rc == 0) {
			struct snap old, sn;

			if ((rc = load(aw, d[i].task, &old)) == 0) {
				sn = old;
				sn.state = AU_AW_DEAD;
				sn.error = au_xasprintf("approval %s%s%s",
				    d[i].status, d[i].reason ? ": " : "",
				    d[i].reason ? d[i].reason : "");
				rc = move(aw, d[i].task, &old, &sn,
				    jv_null());
				free(sn.error);
				snap_free(&old);
			}
			if (rc == 0)
				rc = skip_dependents(aw, d[i].task,
				    "was not approved");
		}
		free(d[i].task);
		free(d[i].status);
		free(d[i].reason);
	}
	free(d);
	return rc;
}

int
au_aw_tick(struct au_aw *aw)
{
	int64_t now = au_now_ms();
	char ts[AU_TS_LEN];
	sqlite3_stmt *s;
	char **due, **p;
	int rc;

	/* Our heartbeat and leases first: we are alive. */
	s = stmt(aw, S_HEARTBEAT);
	sqlite3_bind_text(s, 2, aw->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	if ((rc = done(aw, s)) != 0)
		return rc;
	s = stmt(aw, S_LEASE);
	sqlite3_bind_text(s, 2, aw->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now + aw->lease_ms);
	if ((rc = done(aw, s)) != 0)
		return rc;
	/* Retries whose delay is over. */
	s = stmt(aw, S_DUE);
	sqlite3_bind_int64(s, 2, now);
	due = ids(aw, s, &rc);
	for (p = due; rc == 0 && *p; p++)
		rc = go(aw, *p, AU_AW_READY, jv_null());
	ids_free(due);
	if (rc != 0)
		return rc;
	/* Approvals decided, or expired. */
	s = stmt(aw, S_EXPIRE);
	sqlite3_bind_text(s, 2, au_ts_fmt(now, ts), -1, SQLITE_STATIC);
	if ((rc = done(aw, s)) != 0)
		return rc;
	if ((rc = decided(aw)) != 0)
		return rc;
	return orphans(aw, now);
}

int
au_aw_counts(struct au_aw *aw, int counts[AU_AW_NSTATES])
{
	sqlite3_stmt *s = stmt(aw, S_COUNTS);
	int rc, st;

	memset(counts, 0, AU_AW_NSTATES * sizeof *counts);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((st = au_aw_state((const char *)
		    sqlite3_column_text(s, 0))) >= 0)
			counts[st] = sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : au_db_error(aw->db, rc);
}

int
au_aw_finish(struct au_aw *aw, int *finished)
{
	int c[AU_AW_NSTATES], i, open = 0, rc;
	char state[32];

	*finished = 0;
	if ((rc = au_aw_counts(aw, c)) != 0 ||
	    (rc = run_state(aw, state, sizeof state)) != 0)
		return rc;
	for (i = 0; i < AU_AW_NSTATES; i++)
		if (!au_aw_terminal(i))
			open += c[i];
	if (open > 0)
		return 0;
	*finished = 1;
	if (strcmp(state, "running") != 0)
		return 0;
	return run_go(aw, c[AU_AW_DEAD] + c[AU_AW_SKIPPED] +
	    c[AU_AW_CANCELLED] > 0 ? "failed" : "done", jv_null());
}

/* 1 (with the message) if the run is over: done, failed or cancelled. */
static int
finished(struct au_aw *aw)
{
	char state[32];
	int rc;

	if ((rc = run_state(aw, state, sizeof state)) != 0)
		return rc;
	if (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
	    strcmp(state, "cancelled") == 0)
		return au_seterr(1, "run %s is %s already", aw->run, state);
	return 0;
}

int
au_aw_cancel(struct au_aw *aw, const char *task, const char *why)
{
	struct snap old, sn;
	char **all, **p;
	int rc;

	if (task != NULL) {
		if ((rc = load(aw, task, &old)) != 0)
			return rc;
		if (au_aw_terminal(old.state)) {
			snap_free(&old);
			return au_seterr(1, "task %s is %s already",
			    au_quote(task), au_aw_state_name(old.state));
		}
		sn = old;
		sn.state = AU_AW_CANCELLED;
		sn.error = (char *)why;
		rc = move(aw, task, &old, &sn, jv_null());
		if (rc == 0 && old.state == AU_AW_WAITING)
			rc = au_approval_withdraw(aw->db, old.approval);
		snap_free(&old);
		return rc ? rc : skip_dependents(aw, task, "was cancelled");
	}
	if ((rc = finished(aw)) != 0)
		return rc;
	all = ids(aw, stmt(aw, S_OPEN), &rc);
	for (p = all; rc == 0 && *p; p++) {
		if ((rc = load(aw, *p, &old)) != 0)
			break;
		sn = old;
		sn.state = AU_AW_CANCELLED;
		sn.error = (char *)why;
		if (au_aw_legal(old.state, AU_AW_CANCELLED))
			rc = move(aw, *p, &old, &sn, jv_null());
		if (rc == 0 && old.state == AU_AW_WAITING)
			rc = au_approval_withdraw(aw->db, old.approval);
		snap_free(&old);
	}
	ids_free(all);
	return rc ? rc : run_go(aw, "cancelled", jv_null());
}

/* Whether a dependency of task is still dead, skipped or cancelled. */
static int
blocked(struct au_aw *aw, const char *task, int *held)
{
	sqlite3_stmt *s = stmt(aw, S_BLOCKED);
	int rc;

	sqlite3_bind_text(s, 2, task, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*held = rc == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : au_db_error(aw->db, rc);
}

int
au_aw_requeue(struct au_aw *aw, const char *task)
{
	struct snap old, sn;
	char **work = NULL, **dep, *t, state[32];
	size_t n = 0, cap = 0, i;
	sqlite3_stmt *s;
	int rc, held;

	if ((rc = run_state(aw, state, sizeof state)) != 0)
		return rc;
	if (strcmp(state, "cancelled") == 0)
		return au_seterr(1, "run %s is cancelled", aw->run);
	if ((rc = load(aw, task, &old)) != 0)
		return rc;
	if (old.state != AU_AW_DEAD) {
		snap_free(&old);
		return au_seterr(1, "task %s is %s, not dead", au_quote(task),
		    au_aw_state_name(old.state));
	}
	sn = old;
	sn.state = old.asks ? AU_AW_PENDING : AU_AW_READY;
	sn.error = NULL;
	sn.has_exit = 0;
	sn.approval = NULL;
	rc = move(aw, task, &old, &sn, jv_object_set(jv_object(),
	    jv_string("reason"), jv_string("requeued")));
	snap_free(&old);
	/* One that needs a person's yes asks again. */
	if (rc == 0 && sn.state == AU_AW_PENDING)
		rc = release(aw, task);
	/* Its skipped dependents, and theirs, wait again. */
	work = au_grow(work, &cap, 1, sizeof *work);
	work[n++] = au_xstrdup(task);
	while (rc == 0 && n > 0) {
		t = work[--n];
		s = stmt(aw, S_DEPENDENTS);
		sqlite3_bind_text(s, 2, t, -1, SQLITE_STATIC);
		dep = ids(aw, s, &rc);
		for (i = 0; rc == 0 && dep[i]; i++) {
			if ((rc = load(aw, dep[i], &old)) != 0)
				break;
			if (old.state == AU_AW_SKIPPED &&
			    (rc = blocked(aw, dep[i], &held)) == 0 && !held) {
				sn = old;
				sn.state = AU_AW_PENDING;
				sn.error = NULL;
				rc = move(aw, dep[i], &old, &sn, jv_null());
				work = au_grow(work, &cap, n + 1,
				    sizeof *work);
				work[n++] = au_xstrdup(dep[i]);
			}
			snap_free(&old);
		}
		ids_free(dep);
		free(t);
	}
	while (n > 0)
		free(work[--n]);
	free(work);
	if (rc == 0) {
		if ((rc = run_state(aw, state, sizeof state)) == 0 &&
		    (strcmp(state, "failed") == 0 ||
		    strcmp(state, "done") == 0))
			rc = run_go(aw, "running", jv_null());
	}
	return rc;
}

void
au_aw_set_audit(struct au_aw *aw, struct au_audit *a)
{
	aw->audit = a;
}

int
au_aw_pause(struct au_aw *aw, int pause)
{
	char state[32];
	int rc;

	if ((rc = run_state(aw, state, sizeof state)) != 0 ||
	    (rc = finished(aw)) != 0)
		return rc;
	if (pause && strcmp(state, "paused") != 0)
		return run_go(aw, "paused", jv_null());
	if (!pause && strcmp(state, "paused") == 0)
		return run_go(aw, "running", jv_null());
	return au_seterr(1, "run %s is %s", aw->run, state);
}

int
au_aw_paused(struct au_aw *aw, int *paused)
{
	char state[32];
	int rc;

	if ((rc = run_state(aw, state, sizeof state)) == 0)
		*paused = strcmp(state, "paused") == 0 ? 1 :
		    strcmp(state, "cancelled") == 0 ? 2 : 0;
	return rc;
}

/* ---- storing a plan ---- */

int
au_aw_store(sqlite3 *db, const struct au_aw_run *r,
    int (*next)(void *, struct au_aw_task *), void *arg)
{
	static const char *const q[] = {
		"INSERT INTO aw_runs (id, created, tasks, levels, goal, "
		"record) "
		"VALUES (?, ?, ?, ?, ?, ?)",
		"INSERT INTO aw_tasks (run_id, id, ord, level, kind, priority, "
		"needs, record, approval) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		"INSERT INTO aw_deps (run_id, task_id, dep_id) "
		"VALUES (?, ?, ?)",
	};
	sqlite3_stmt *s[3] = { NULL, NULL, NULL };
	struct au_aw_task t;
	size_t i;
	int rc, k;

	if ((rc = au_db_begin(db)) != 0)
		return rc;
	for (k = 0; k < 3; k++)
		if ((rc = sqlite3_prepare_v2(db, q[k], -1, &s[k], NULL)) !=
		    SQLITE_OK)
			goto fail;
	sqlite3_bind_text(s[0], 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s[0], 2, r->ts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s[0], 3, r->tasks);
	sqlite3_bind_int(s[0], 4, r->levels);
	bind_text(s[0], 5, r->goal);
	sqlite3_bind_text(s[0], 6, r->record, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s[0])) != SQLITE_DONE)
		goto fail;
	sqlite3_bind_text(s[1], 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s[2], 1, r->id, -1, SQLITE_STATIC);
	while ((k = next(arg, &t)) > 0) {
		sqlite3_bind_text(s[1], 2, t.id, (int)t.idlen, SQLITE_STATIC);
		sqlite3_bind_int(s[1], 3, t.order);
		sqlite3_bind_int(s[1], 4, t.level);
		sqlite3_bind_text(s[1], 5, t.kind, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s[1], 6, t.priority);
		if (t.needs != NULL)
			sqlite3_bind_text(s[1], 7, t.needs, (int)t.needslen,
			    SQLITE_STATIC);
		else
			sqlite3_bind_null(s[1], 7);
		sqlite3_bind_text(s[1], 8, t.record, (int)t.reclen,
		    SQLITE_STATIC);
		sqlite3_bind_int(s[1], 9, t.approval != 0);
		if ((rc = sqlite3_step(s[1])) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(s[1]);
		sqlite3_bind_text(s[2], 2, t.id, (int)t.idlen, SQLITE_STATIC);
		for (i = 0; i < t.ndeps; i++) {
			sqlite3_bind_text(s[2], 3, t.deps[i].s,
			    (int)t.deps[i].len, SQLITE_STATIC);
			if ((rc = sqlite3_step(s[2])) != SQLITE_DONE)
				goto fail;
			sqlite3_reset(s[2]);
		}
	}
	if (k < 0) {
		rc = EX_DATAERR;	/* next() said why */
		goto out;
	}
	for (k = 0; k < 3; k++)
		sqlite3_finalize(s[k]);
	return au_db_commit(db);
fail:
	rc = au_db_error(db, rc);
out:
	for (k = 0; k < 3; k++)
		sqlite3_finalize(s[k]);
	au_db_rollback(db);
	return rc;
}

/* A plan given as records: its tasks one by one for au_aw_store. */
struct planin {
	jv *tasks;
	size_t n, i;
	struct au_str *deps;
	size_t deps_cap;
	struct au_buf rec, needs;
};

static int
plan_task(void *arg, struct au_aw_task *t)
{
	struct planin *pl = arg;
	jv r, d;
	int i, n;

	if (pl->i == pl->n)
		return 0;
	r = pl->tasks[pl->i++];
	pl->rec.len = pl->needs.len = 0;
	au_json_dump(&pl->rec, r);
	t->id = au_jv_str(r, "id");
	t->idlen = strlen(t->id);
	t->order = (int)jv_number_value(jv_object_get(jv_copy(r),
	    jv_string("order")));
	t->level = (int)jv_number_value(jv_object_get(jv_copy(r),
	    jv_string("level")));
	t->kind = au_jv_str(r, "kind") ? au_jv_str(r, "kind") : "run";
	d = jv_object_get(jv_copy(r), jv_string("priority"));
	t->priority = jv_get_kind(d) == JV_KIND_NUMBER ?
	    (int64_t)jv_number_value(d) : 0;
	jv_free(d);
	d = jv_object_get(jv_copy(r), jv_string("needs"));
	if (jv_get_kind(d) == JV_KIND_ARRAY)
		au_json_dump(&pl->needs, d);
	jv_free(d);
	t->needs = pl->needs.len ? pl->needs.s : NULL;
	t->needslen = pl->needs.len;
	t->record = pl->rec.s;
	t->reclen = pl->rec.len;
	t->approval = au_jv_str(r, "approval") != NULL &&
	    strcmp(au_jv_str(r, "approval"), "required") == 0;
	d = jv_object_get(jv_copy(r), jv_string("deps"));
	n = jv_get_kind(d) == JV_KIND_ARRAY ? jv_array_length(jv_copy(d)) : 0;
	pl->deps = au_grow(pl->deps, &pl->deps_cap, (size_t)n + 1,
	    sizeof *pl->deps);
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(d), i);

		/* The string lives on in r, which lives in pl->tasks. */
		pl->deps[i].s = jv_string_value(e);
		pl->deps[i].len = strlen(pl->deps[i].s);
		jv_free(e);
	}
	jv_free(d);
	t->deps = pl->deps;
	t->ndeps = (size_t)n;
	return 1;
}

int
au_aw_store_plan(sqlite3 *db, jv run, const jv *tasks, size_t n, int *stored)
{
	struct planin pl = { (jv *)tasks, n, 0, NULL, 0, AU_BUF_INIT,
	    AU_BUF_INIT };
	const char *id = au_jv_str(run, "id");
	struct au_buf b = AU_BUF_INIT;
	struct au_aw_run r;
	sqlite3_stmt *s;
	jv lv;
	int rc;

	*stored = 0;
	if (id == NULL)
		return au_seterr(EX_DATAERR, "a run record needs an id");
	if ((rc = sqlite3_prepare_v2(db, "SELECT 1 FROM aw_runs WHERE id = ?1",
	    -1, &s, NULL)) != SQLITE_OK)
		return au_db_error(db, rc);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return au_db_error(db, rc);
	au_json_dump(&b, run);
	lv = jv_object_get(jv_copy(run), jv_string("levels"));
	r.id = id;
	r.ts = au_jv_str(run, "ts") ? au_jv_str(run, "ts") : "";
	r.goal = au_jv_str(run, "goal");
	r.record = b.s;
	r.tasks = (int64_t)n;
	r.levels = jv_get_kind(lv) == JV_KIND_NUMBER ?
	    (int)jv_number_value(lv) : 0;
	jv_free(lv);
	rc = au_aw_store(db, &r, plan_task, &pl);
	au_buf_free(&b);
	free(pl.deps);
	au_buf_free(&pl.rec);
	au_buf_free(&pl.needs);
	*stored = rc == 0;
	return rc;
}

/* ---- reading the log ---- */

int
au_aw_events(sqlite3 *db, const char *run, int64_t after, jv *list)
{
	sqlite3_stmt *s;
	char at[AU_TS_LEN];
	int rc;

	*list = jv_array();
	if ((rc = sqlite3_prepare_v2(db, "SELECT seq, ts, task_id, attempt, "
	    "from_state, to_state, exit_code, error, ready_at, approval_id, "
	    "detail, lost FROM aw_events WHERE run_id = ?1 AND seq > ?2 "
	    "ORDER BY seq", -1, &s, NULL)) != SQLITE_OK)
		return au_db_error(db, rc);
	sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, after);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int task = sqlite3_column_type(s, 2) != SQLITE_NULL;
		jv e = jv_object_set(jv_object(), jv_string("type"),
		    jv_string(task ? "task.event" : "run.event"));
		const char *detail = (const char *)sqlite3_column_text(s, 10);

		e = jv_object_set(e, jv_string("run_id"), jv_string(run));
		e = jv_object_set(e, jv_string("seq"),
		    jv_number((double)sqlite3_column_int64(s, 0)));
		e = jv_object_set(e, jv_string("ts"), jv_string((const char *)
		    sqlite3_column_text(s, 1)));
		if (task) {
			e = jv_object_set(e, jv_string("task"), jv_string(
			    (const char *)sqlite3_column_text(s, 2)));
			e = jv_object_set(e, jv_string("attempt"),
			    jv_number(sqlite3_column_int(s, 3)));
		}
		e = jv_object_set(e, jv_string("from"), jv_string(
		    (const char *)sqlite3_column_text(s, 4)));
		e = jv_object_set(e, jv_string("to"), jv_string(
		    (const char *)sqlite3_column_text(s, 5)));
		if (sqlite3_column_type(s, 6) != SQLITE_NULL)
			e = jv_object_set(e, jv_string("exit_code"),
			    jv_number(sqlite3_column_int(s, 6)));
		if (sqlite3_column_type(s, 7) != SQLITE_NULL)
			e = jv_object_set(e, jv_string("error"), jv_string(
			    (const char *)sqlite3_column_text(s, 7)));
		if (sqlite3_column_type(s, 8) != SQLITE_NULL)
			e = jv_object_set(e, jv_string("ready_at"), jv_string(
			    au_ts_fmt(sqlite3_column_int64(s, 8), at)));
		if (sqlite3_column_type(s, 9) != SQLITE_NULL)
			e = jv_object_set(e, jv_string("approval_id"),
			    jv_string((const char *)sqlite3_column_text(s, 9)));
		if (sqlite3_column_int(s, 11) > 0)
			e = jv_object_set(e, jv_string("lost"),
			    jv_number(sqlite3_column_int(s, 11)));
		if (detail != NULL) {
			jv d = jv_parse(detail);

			if (jv_get_kind(d) == JV_KIND_OBJECT) {
				jv_object_foreach(d, k, v)
					e = jv_object_set(e, k, v);
			}
			jv_free(d);
		}
		*list = jv_array_append(*list, e);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : au_db_error(db, rc);
}

/* ---- replay ---- */

/* Compare what one column holds with what the events say. */
static void
differ(jv *problems, const char *task, const char *what, const char *stored,
    const char *derived)
{
	if ((stored == NULL) != (derived == NULL) ||
	    (stored != NULL && strcmp(stored, derived) != 0))
		*problems = jv_array_append(*problems, jv_string_fmt(
		    "task %s: %s is %s in the table, %s from the events",
		    au_quote(task), what, stored ? stored : "null",
		    derived ? derived : "null"));
}

int
au_aw_replay(sqlite3 *db, const char *run, jv *problems)
{
	static const char *const cols[] = { "state", "attempt", "exit_code",
	    "error", "ready_at", "approval_id", "lost" };
	sqlite3_stmt *s = NULL;
	struct au_map *byid = au_map_new(64);
	char **ids = NULL, *(*derived)[7] = NULL, *(*stored)[7] = NULL;
	char runstate[32] = "planned", *key;
	size_t n = 0, cap = 0, i, k;
	int64_t expect = 1;
	long t;
	int rc;

	*problems = jv_array();
	rc = sqlite3_prepare_v2(db, "SELECT id, state, attempt, exit_code, "
	    "error, ready_at, approval_id, lost FROM aw_tasks WHERE "
	    "run_id = ?1 ORDER BY ord", -1, &s, NULL);
	if (rc != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ids = au_grow(ids, &cap, n + 1, sizeof *ids);
		derived = au_xreallocarray(derived, cap, sizeof *derived);
		stored = au_xreallocarray(stored, cap, sizeof *stored);
		ids[n] = col_text(s, 0);
		for (k = 0; k < 7; k++) {
			stored[n][k] = col_text(s, (int)k + 1);
			derived[n][k] = NULL;
		}
		derived[n][0] = au_xstrdup("pending");
		derived[n][1] = au_xstrdup("0");
		derived[n][6] = au_xstrdup("0");
		n++;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (rc != SQLITE_DONE)
		goto dberr;
	for (i = 0; i < n; i++)
		au_map_put(byid, ids[i], strlen(ids[i]), (long)i);
	rc = sqlite3_prepare_v2(db, "SELECT seq, task_id, from_state, "
	    "to_state, attempt, exit_code, error, ready_at, approval_id, lost "
	    "FROM aw_events WHERE run_id = ?1 ORDER BY seq", -1, &s, NULL);
	if (rc != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(s, 0);
		const char *from = (const char *)sqlite3_column_text(s, 2);
		const char *to = (const char *)sqlite3_column_text(s, 3);

		if (seq != expect)
			*problems = jv_array_append(*problems, jv_string_fmt(
			    "event %lld: expected seq %lld", (long long)seq,
			    (long long)expect));
		expect = seq + 1;
		if (sqlite3_column_type(s, 1) == SQLITE_NULL) {
			if (strcmp(from, runstate) != 0 || !run_legal(from, to))
				*problems = jv_array_append(*problems,
				    jv_string_fmt("event %lld: run %s -> %s "
				    "after %s", (long long)seq, from, to,
				    runstate));
			snprintf(runstate, sizeof runstate, "%s", to);
			continue;
		}
		key = (char *)sqlite3_column_text(s, 1);
		if ((t = au_map_get(byid, key, strlen(key))) < 0) {
			*problems = jv_array_append(*problems, jv_string_fmt(
			    "event %lld: no task %s", (long long)seq,
			    au_quote(key)));
			continue;
		}
		if (strcmp(from, derived[t][0]) != 0 ||
		    !au_aw_legal(au_aw_state(from), au_aw_state(to)))
			*problems = jv_array_append(*problems, jv_string_fmt(
			    "event %lld: task %s %s -> %s after %s",
			    (long long)seq, au_quote(key), from, to,
			    derived[t][0]));
		for (k = 0; k < 7; k++) {
			free(derived[t][k]);
			derived[t][k] = col_text(s, k == 0 ? 3 : (int)k + 3);
		}
	}
	sqlite3_finalize(s);
	s = NULL;
	if (rc != SQLITE_DONE)
		goto dberr;
	for (i = 0; i < n; i++)
		for (k = 0; k < 7; k++)
			differ(problems, ids[i], cols[k], stored[i][k],
			    derived[i][k]);
	rc = sqlite3_prepare_v2(db, "SELECT state FROM aw_runs WHERE id = ?1",
	    -1, &s, NULL);
	if (rc != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? au_seterr(EX_NOINPUT, "no run %s in "
		    "the state file", au_quote(run)) : au_db_error(db, rc);
		goto out;
	}
	if (strcmp((const char *)sqlite3_column_text(s, 0), runstate) != 0)
		*problems = jv_array_append(*problems, jv_string_fmt("run: "
		    "state is %s in the table, %s from the events",
		    sqlite3_column_text(s, 0), runstate));
	rc = jv_array_length(jv_copy(*problems)) > 0;
	goto out;
dberr:
	rc = au_db_error(db, rc);
out:
	sqlite3_finalize(s);
	for (i = 0; i < n; i++) {
		for (k = 0; k < 7; k++) {
			free(derived[i][k]);
			free(stored[i][k]);
		}
		free(ids[i]);
	}
	free(ids);
	free(derived);
	free(stored);
	au_map_free(byid);
	return rc;
}
