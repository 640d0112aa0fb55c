/*
 * test-aw.c - aw.c, runs of tasks in a state file in a mkdtemp directory.
 * The state machine: every pair of states against the table of
 * aw-sched(1), names and terminal states.  au_aw_backoff: growth by the
 * factor, the cap, jitter within its bounds, the same delay for the same
 * run, task and attempt.  Storing plans (au_aw_store with a next()
 * callback, au_aw_store_plan from records, a failing next(), a plan
 * stored twice).  Runs driven in transactions as aw-sched does: a small
 * run from start to done (order of ready tasks, claims, reports,
 * dependents released, the events drained and read back alike, seq
 * without gaps, replay equal, then unequal after tampering); failures
 * retrying at ready_at, ready after a tick, dead after the last attempt
 * with dependents skipped transitively; exit 77, 75 and non_retryable;
 * refusals (1, 66, and 70 for an illegal move, nothing written);
 * interrupt and resume ("lost" attempts cost nothing); approvals
 * approved, denied, expired and withdrawn; cancel of a task and of a run;
 * requeue; pause and resume; orphans of a scheduler that is gone, on this
 * host (its attempt's process group killed) and on another (its leases
 * run out); and what a stale report or interrupt must leave alone.
 */
#define _XOPEN_SOURCE 700
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

static sqlite3 *db;

static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&ts, NULL);
}

/* A setup step that failed: no test can go on. */
static void __attribute__((format(printf, 1, 2)))
bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (%s)\n", au_errmsg());
	exit(2);
}

/* The first column of the first row of a query (sqlite3_mprintf format,
 * %Q quotes), as an integer: -1 without a row, -2 on an error. */
static long long
qint(sqlite3 *d, const char *fmt, ...)
{
	sqlite3_stmt *st;
	long long v = -1;
	va_list ap;
	char *q;

	va_start(ap, fmt);
	q = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (sqlite3_prepare_v2(d, q, -1, &st, NULL) != SQLITE_OK) {
		printf("# %s: %s\n", q, sqlite3_errmsg(d));
		sqlite3_free(q);
		return -2;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_free(q);
	return v;
}

/* The same as text (malloc'd), NULL for NULL or no row. */
static char *
qtext(sqlite3 *d, const char *fmt, ...)
{
	sqlite3_stmt *st;
	char *v = NULL;
	va_list ap;
	char *q;

	va_start(ap, fmt);
	q = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (sqlite3_prepare_v2(d, q, -1, &st, NULL) != SQLITE_OK) {
		printf("# %s: %s\n", q, sqlite3_errmsg(d));
		sqlite3_free(q);
		return strdup("(error)");
	}
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_free(q);
	return v;
}

static void
exec(sqlite3 *d, const char *sql)
{
	if (au_db_exec(d, sql) != 0)
		bail("%s", sql);
}

/* A column of a task, as text (malloc'd). */
static char *
tcol(const char *run, const char *task, const char *col)
{
	return qtext(db, "SELECT %s FROM aw_tasks WHERE run_id = %Q AND "
	    "id = %Q", col, run, task);
}

#define state(run, task) tcol((run), (task), "state")

static char *
runstate(const char *run)
{
	return qtext(db, "SELECT state FROM aw_runs WHERE id = %Q", run);
}

/* End a transaction begun by TX: commit after 0, else roll back. */
static int
fin(sqlite3 *d, int rc)
{
	if (rc == 0)
		return au_db_commit(d);
	au_db_rollback(d);
	return rc;
}

/* call in a write transaction of its own on d, as aw-sched makes them. */
#define TX(d, call) (au_db_begin(d) != 0 ? -1 : fin((d), (call)))

static jv
worker(const char *w)
{
	return jv_object_set(jv_object(), jv_string("worker"), jv_string(w));
}

static int
claim(struct au_aw *aw, const char *task, int *attempt)
{
	*attempt = -1;
	return TX(db, au_aw_claim(aw, task, worker("w1"), attempt));
}

static int
report(struct au_aw *aw, const char *task, int attempt, int code)
{
	struct au_aw_result r = { code, 0, 0, NULL };

	return TX(db, au_aw_report(aw, task, attempt, &r, jv_null()));
}

static int
finish(struct au_aw *aw)
{
	int finished = -1, rc;

	rc = TX(db, au_aw_finish(aw, &finished));
	return rc ? -rc : finished;
}

/* The events in list (consumed) as "task:from>to" words ("run:" for the
 * run's), for comparing whole sequences at once. */
static char *
words(jv list)
{
	struct au_buf b = AU_BUF_INIT;
	int i, n = jv_array_length(jv_copy(list));

	au_buf_grow(&b, 1);
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(list), i);
		const char *t = au_jv_str(e, "task");

		au_buf_addf(&b, "%s%s:%s>%s", i ? " " : "", t ? t : "run",
		    au_jv_str(e, "from"), au_jv_str(e, "to"));
		jv_free(e);
	}
	jv_free(list);
	return b.s;
}

/* What au_aw_drain hands out, as words. */
static char *
drained(struct au_aw *aw)
{
	return words(au_aw_drain(aw));
}

/* Event i of list (borrowed) without its ts, as compact JSON (malloc'd). */
static char *
event_text(jv list, int i)
{
	struct au_buf b = AU_BUF_INIT;
	jv e = jv_array_get(jv_copy(list), i);

	if (jv_is_valid(e))
		e = jv_object_delete(e, jv_string("ts"));
	au_json_dump(&b, e);
	jv_free(e);
	return b.s;
}

/* The field key of event i of list (borrowed), dumped (malloc'd). */
static char *
event_field(jv list, int i, const char *key)
{
	struct au_buf b = AU_BUF_INIT;
	jv e = jv_array_get(jv_copy(list), i);

	if (jv_is_valid(e))
		e = jv_object_get(e, jv_string(key));
	au_json_dump(&b, e);
	jv_free(e);
	return b.s;
}

/* Store a plan of task records (JSON texts, NULL-ended) as run: "type",
 * "run_id", "order" and "level" are added where missing. */
static void
plan(const char *run, const char *const *texts)
{
	jv tasks[32], r;
	size_t n, i;
	int stored = 0;

	for (n = 0; texts[n] != NULL; n++) {
		jv t = jv_parse(texts[n]), v;

		if (n == 32 || !jv_is_valid(t))
			bail("plan %s: task %zu", run, n);
		t = jv_object_set(t, jv_string("type"), jv_string("task"));
		t = jv_object_set(t, jv_string("run_id"), jv_string(run));
		v = jv_object_get(jv_copy(t), jv_string("order"));
		if (!jv_is_valid(v))
			t = jv_object_set(t, jv_string("order"),
			    jv_number((double)n + 1));
		jv_free(v);
		v = jv_object_get(jv_copy(t), jv_string("level"));
		if (!jv_is_valid(v))
			t = jv_object_set(t, jv_string("level"), jv_number(0));
		jv_free(v);
		tasks[n] = t;
	}
	r = jv_object_set(jv_object(), jv_string("type"), jv_string("run"));
	r = jv_object_set(r, jv_string("id"), jv_string(run));
	r = jv_object_set(r, jv_string("ts"),
	    jv_string("2026-01-01T00:00:00.000Z"));
	r = jv_object_set(r, jv_string("tasks"), jv_number((double)n));
	r = jv_object_set(r, jv_string("levels"), jv_number(1));
	if (au_aw_store_plan(db, r, tasks, n, &stored) != 0 || !stored)
		bail("plan %s", run);
	for (i = 0; i < n; i++)
		jv_free(tasks[i]);
	jv_free(r);
}

static struct au_aw *
open_run(sqlite3 *d, const char *run)
{
	struct au_aw *aw = NULL;
	/* No delay before a retry unless a test asks for one. */
	struct au_aw_policy p = { 1, 0, 0, 1, 0 };

	if (au_aw_open(d, run, "test-aw", &aw) != 0)
		bail("open %s", run);
	au_aw_set_policy(aw, &p);
	return aw;
}

/* The run's log: seq from 1 without gaps, and replay finds the tables
 * derived from it. */
static void
check_log(const char *run)
{
	jv list, problems;
	int i, n, gaps = 0, rc;

	if (au_aw_events(db, run, 0, &list) != 0)
		bail("events %s", run);
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(list), i);
		jv s = jv_object_get(e, jv_string("seq"));

		if (jv_get_kind(s) != JV_KIND_NUMBER ||
		    jv_number_value(s) != i + 1)
			gaps++;
		jv_free(s);
	}
	jv_free(list);
	ok(n > 0 && gaps == 0, "%s: %d events, seq 1 to %d without gaps",
	    run, n, n);
	rc = au_aw_replay(db, run, &problems);
	if (rc != 0) {
		for (i = 0; i < jv_array_length(jv_copy(problems)); i++) {
			jv m = jv_array_get(jv_copy(problems), i);

			printf("# %s\n", jv_string_value(m));
			jv_free(m);
		}
	}
	jv_free(problems);
	is_int(rc, 0, "%s: replay finds the tables derived from the events",
	    run);
}


/* au_aw_replay of run: its status, with its problems joined by " | " in
 * *text (malloc'd). */
static int
replay(const char *run, char **text)
{
	struct au_buf b = AU_BUF_INIT;
	jv problems;
	int rc, i, n;

	rc = au_aw_replay(db, run, &problems);
	au_buf_grow(&b, 1);
	n = jv_array_length(jv_copy(problems));
	for (i = 0; i < n; i++) {
		jv m = jv_array_get(jv_copy(problems), i);

		au_buf_addf(&b, "%s%s", i ? " | " : "", jv_string_value(m));
		jv_free(m);
	}
	jv_free(problems);
	*text = b.s;
	return rc;
}

static int
claim_on(sqlite3 *d, struct au_aw *aw, const char *task, int *attempt)
{
	*attempt = -1;
	return TX(d, au_aw_claim(aw, task, worker("w1"), attempt));
}

static int
report_with(sqlite3 *d, struct au_aw *aw, const char *task, int attempt,
    const struct au_aw_result *r)
{
	return TX(d, au_aw_report(aw, task, attempt, r, jv_null()));
}

static int
tick(struct au_aw *aw)
{
	return TX(db, au_aw_tick(aw));
}

/* A turn as aw-sched takes it: tick, claim task, and report how its
 * attempt ended with r.  The task's state after (malloc'd), and its
 * attempt number in *attempt. */
static char *
attempt_with(struct au_aw *aw, const char *run, const char *task,
    const struct au_aw_result *r, int *attempt)
{
	int rc;

	if ((rc = tick(aw)) != 0 || (rc = claim(aw, task, attempt)) != 0 ||
	    (rc = report_with(db, aw, task, *attempt, r)) != 0)
		return au_xasprintf("(failed with %d: %s)", rc, au_errmsg());
	return state(run, task);
}

/* Run whatever is left of the run to the end, every attempt done: for
 * the end of a test that must leave a finished run behind. */
static void
complete(struct au_aw *aw)
{
	int i, k, n, att;

	for (i = 0; i < 20; i++) {
		jv list;

		if (tick(aw) != 0)
			bail("complete: tick");
		list = au_aw_ready(aw, 100);
		n = jv_array_length(jv_copy(list));
		for (k = 0; k < n; k++) {
			jv t = jv_array_get(jv_copy(list), k);

			if (claim(aw, au_jv_str(t, "id"), &att) == 0)
				report(aw, au_jv_str(t, "id"), att, 0);
			jv_free(t);
		}
		jv_free(list);
		if (finish(aw) == 1)
			break;
		nap(5);
	}
	jv_free(au_aw_drain(aw));
}

/* ---- the state machine ---- */

static void
test_states(void)
{
	static const char *const names[AU_AW_NSTATES] = {
		"pending", "ready", "waiting_approval", "running", "retrying",
		"failed", "dead", "done", "skipped", "cancelled", "interrupted",
	};
	/* The table of aw-sched(1), "States", in the order of names. */
	static const char *const want[AU_AW_NSTATES] = {
		[AU_AW_PENDING] = "ready waiting_approval skipped cancelled",
		[AU_AW_READY] = "running cancelled",
		[AU_AW_WAITING] = "ready dead cancelled",
		[AU_AW_RUNNING] = "retrying failed done cancelled interrupted",
		[AU_AW_RETRYING] = "ready cancelled",
		[AU_AW_FAILED] = "dead",
		[AU_AW_DEAD] = "pending ready",
		[AU_AW_DONE] = "",
		[AU_AW_SKIPPED] = "pending cancelled",
		[AU_AW_CANCELLED] = "",
		[AU_AW_INTERRUPTED] = "ready cancelled",
	};
	int from, to, outside = 0, terminal = 0;

	for (from = 0; from < AU_AW_NSTATES; from++) {
		is_str(au_aw_state_name(from), names[from], "state %d is %s",
		    from, names[from]);
		is_int(au_aw_state(names[from]), from, "au_aw_state(\"%s\")",
		    names[from]);
	}
	is_int(au_aw_state("waiting"), -1, "au_aw_state: unknown name, -1");
	is_int(au_aw_state(""), -1, "au_aw_state: empty name, -1");
	is_str(au_aw_state_name(-1), "?", "au_aw_state_name(-1) is ?");
	is_str(au_aw_state_name(AU_AW_NSTATES), "?",
	    "au_aw_state_name(NSTATES) is ?");

	/* Every pair: the states au_aw_legal allows from each, in the
	 * order of names, against the table. */
	for (from = 0; from < AU_AW_NSTATES; from++) {
		struct au_buf b = AU_BUF_INIT;

		au_buf_grow(&b, 1);
		for (to = 0; to < AU_AW_NSTATES; to++)
			if (au_aw_legal(from, to))
				au_buf_addf(&b, "%s%s", b.len ? " " : "",
				    names[to]);
		is_str(b.s, want[from], "legal: %s goes to exactly: %s",
		    names[from], *want[from] ? want[from] : "(nothing)");
		au_buf_free(&b);
	}
	for (from = -1; from <= AU_AW_NSTATES; from++)
		outside += au_aw_legal(from, -1) + au_aw_legal(-1, from) +
		    au_aw_legal(from, AU_AW_NSTATES) +
		    au_aw_legal(AU_AW_NSTATES, from) + au_aw_legal(from, 99);
	is_int(outside, 0, "legal: states out of range are refused");
	ok(au_aw_legal(AU_AW_DEAD, AU_AW_READY) &&
	    au_aw_legal(AU_AW_DEAD, AU_AW_PENDING),
	    "legal: dead -> ready and dead -> pending");
	for (to = 0; to < AU_AW_NSTATES; to++)
		outside += au_aw_legal(AU_AW_DONE, to) +
		    au_aw_legal(AU_AW_CANCELLED, to) +
		    au_aw_legal(to, to);
	is_int(outside, 0, "legal: done and cancelled go nowhere, and no "
	    "state to itself");
	for (from = 0; from < AU_AW_NSTATES; from++)
		if (au_aw_terminal(from))
			terminal |= 1 << from;
	is_int(terminal, 1 << AU_AW_DONE | 1 << AU_AW_DEAD |
	    1 << AU_AW_SKIPPED | 1 << AU_AW_CANCELLED,
	    "terminal: done, dead, skipped, cancelled and no other");
	ok(!au_aw_terminal(-1) && !au_aw_terminal(AU_AW_NSTATES),
	    "terminal: out of range is not");
}

/* ---- backoff ---- */

static void
test_backoff(void)
{
	struct au_aw_policy p = { 10, 100, 1000, 2, 0 };
	int64_t d, lo = INT64_MAX, hi = 0, v[12];
	int i, inside = 1, differ = 0;

	is_int(au_aw_backoff(&p, "r", "t", 1), 100,
	    "backoff: after attempt 1, delay");
	is_int(au_aw_backoff(&p, "r", "t", 2), 200,
	    "backoff: after attempt 2, delay x factor");
	is_int(au_aw_backoff(&p, "r", "t", 3), 400,
	    "backoff: after attempt 3, delay x factor^2");
	is_int(au_aw_backoff(&p, "r", "t", 4), 800, "backoff: attempt 4");
	is_int(au_aw_backoff(&p, "r", "t", 5), 1000,
	    "backoff: attempt 5, capped at max");
	is_int(au_aw_backoff(&p, "r", "t", 60), 1000,
	    "backoff: attempt 60, capped at max");
	is_int(au_aw_backoff(&p, "r", "t", 5000), 1000,
	    "backoff: attempt 5000 (factor^n is infinite), capped at max");
	p.factor = 1;
	is_int(au_aw_backoff(&p, "r", "t", 7), 100,
	    "backoff: factor 1 is constant");
	p.factor = 3;
	p.max_ms = 100000;
	is_int(au_aw_backoff(&p, "r", "t", 3), 900, "backoff: factor 3");

	/* Jitter 0.5 spreads over [d/2, 3d/2). */
	p.factor = 2;
	p.max_ms = 1000;
	p.jitter = 0.5;
	for (i = 1; i <= 11; i++) {
		int64_t base = i < 5 ? 100 << (i - 1) : 1000;

		v[i] = d = au_aw_backoff(&p, "run-1", "task-1", i);
		if (d < base / 2 || d >= base + base / 2) {
			printf("# attempt %d: %lld not in [%lld, %lld)\n", i,
			    (long long)d, (long long)base / 2,
			    (long long)(base + base / 2));
			inside = 0;
		}
		if (au_aw_backoff(&p, "run-1", "task-1", i) != d) {
			printf("# attempt %d: not the same twice\n", i);
			inside = 0;
		}
	}
	ok(inside, "backoff: jitter 0.5 within [d/2, 3d/2), the same for "
	    "the same run, task and attempt");
	for (i = 6; i <= 11; i++)
		differ += v[i] != v[5];
	ok(differ >= 5, "backoff: at the cap, attempts 5 to 11 differ by "
	    "their jitter (%lld %lld %lld %lld %lld %lld %lld)",
	    (long long)v[5], (long long)v[6], (long long)v[7],
	    (long long)v[8], (long long)v[9], (long long)v[10],
	    (long long)v[11]);
	ok(au_aw_backoff(&p, "run-2", "task-1", 7) != v[7] ||
	    au_aw_backoff(&p, "run-3", "task-1", 7) != v[7],
	    "backoff: another run waits otherwise");
	ok(au_aw_backoff(&p, "run-1", "task-2", 7) != v[7] ||
	    au_aw_backoff(&p, "run-1", "task-3", 7) != v[7],
	    "backoff: another task waits otherwise");

	/* Jitter 1: [0, 2d); 200 tasks cover both ends. */
	p.jitter = 1;
	p.max_ms = 100000;
	for (i = 0; i < 200; i++) {
		char task[16];

		snprintf(task, sizeof task, "t%d", i);
		d = au_aw_backoff(&p, "r", task, 1);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	ok(lo >= 0 && hi < 200 && lo < 50 && hi > 150,
	    "backoff: jitter 1 spreads over [0, 2d) (saw %lld to %lld)",
	    (long long)lo, (long long)hi);
	p.jitter = 0;
	p.delay_ms = 0;
	is_int(au_aw_backoff(&p, "r", "t", 3), 0, "backoff: delay 0, 0");
}

/* ---- storing plans ---- */

/* The tasks of run r-basic, for au_aw_store's next(). */
struct spec {
	const char *id;
	int level;
	int64_t priority;
	const char *needs;
	const char *deps[3];
};

static const struct spec basic[] = {
	{ "a", 0, 0, "[\"gpu\"]", { NULL } },
	{ "b", 0, 5, NULL, { NULL } },
	{ "c", 1, 0, NULL, { "a", "b", NULL } },
	{ "d", 2, 0, NULL, { "c", NULL } },
};

struct feed {
	size_t i, fail_at;
	char rec[256];
	struct au_str deps[3];
};

static int
next_task(void *arg, struct au_aw_task *t)
{
	struct feed *f = arg;
	const struct spec *s;
	size_t k;

	if (f->i == f->fail_at) {
		au_seterr(EX_DATAERR, "task %zu is bad", f->i + 1);
		return -1;
	}
	if (f->i == sizeof basic / sizeof basic[0])
		return 0;
	s = &basic[f->i];
	memset(t, 0, sizeof *t);
	snprintf(f->rec, sizeof f->rec, "{\"type\":\"task\",\"id\":\"%s\","
	    "\"run\":\"echo %s\",\"order\":%zu,\"level\":%d}", s->id, s->id,
	    f->i + 1, s->level);
	t->id = s->id;
	t->idlen = strlen(s->id);
	t->order = (int)f->i + 1;
	t->level = s->level;
	t->kind = "run";
	t->priority = s->priority;
	t->needs = s->needs;
	t->needslen = s->needs ? strlen(s->needs) : 0;
	t->record = f->rec;
	t->reclen = strlen(f->rec);
	for (k = 0; k < 3 && s->deps[k]; k++) {
		f->deps[k].s = s->deps[k];
		f->deps[k].len = strlen(s->deps[k]);
	}
	t->deps = f->deps;
	t->ndeps = k;
	f->i++;
	return 1;
}

static void
test_store(void)
{
	struct au_aw_run r = { "r-basic", "2026-01-01T00:00:00.000Z",
	    "build it", "{\"type\":\"run\",\"id\":\"r-basic\"}", 4, 3 };
	struct feed f;
	struct au_aw *aw = NULL;
	jv run, task;
	int stored = -1;

	memset(&f, 0, sizeof f);
	f.fail_at = (size_t)-1;
	is_int(au_aw_store(db, &r, next_task, &f), 0,
	    "store: a plan of 4 tasks through next()");
	is_int(qint(db, "SELECT count(*) FROM aw_tasks WHERE run_id = "
	    "'r-basic'"), 4, "store: 4 tasks");
	is_str_free(qtext(db, "SELECT group_concat(task_id || '<' || dep_id, "
	    "' ') FROM (SELECT * FROM aw_deps WHERE run_id = 'r-basic' ORDER "
	    "BY task_id, dep_id)"), "c<a c<b d<c", "store: 3 dependencies");
	is_str_free(qtext(db, "SELECT state || ' ' || tasks || ' ' || levels "
	    "|| ' ' || goal || ' ' || created FROM aw_runs WHERE id = "
	    "'r-basic'"), "planned 4 3 build it 2026-01-01T00:00:00.000Z",
	    "store: the run is planned");
	is_str_free(qtext(db, "SELECT group_concat(id || ':' || state || ':' "
	    "|| ord || ':' || level || ':' || priority || ':' || "
	    "coalesce(needs, '-'), ' ') FROM (SELECT * FROM aw_tasks WHERE "
	    "run_id = 'r-basic' ORDER BY ord)"),
	    "a:pending:1:0:0:[\"gpu\"] b:pending:2:0:5:- c:pending:3:1:0:- "
	    "d:pending:4:2:0:-",
	    "store: the tasks pending, with order, level, priority, needs");

	r.id = "r-bad";
	memset(&f, 0, sizeof f);
	f.fail_at = 2;
	is_int(au_aw_store(db, &r, next_task, &f), EX_DATAERR,
	    "store: next() failing is 65");
	is_str(au_errmsg(), "task 3 is bad", "store: with next()'s message");
	is_int(qint(db, "SELECT count(*) FROM aw_runs WHERE id = 'r-bad'") +
	    qint(db, "SELECT count(*) FROM aw_tasks WHERE run_id = 'r-bad'"),
	    0, "store: and nothing of the plan is stored");
	ok(sqlite3_get_autocommit(db), "store: no transaction left open");

	r.id = "r-basic";
	memset(&f, 0, sizeof f);
	f.fail_at = (size_t)-1;
	ok(au_aw_store(db, &r, next_task, &f) != 0,
	    "store: the same run again is refused (%s)", au_errmsg());
	ok(sqlite3_get_autocommit(db), "store: no transaction left open");

	run = jv_parse("{\"type\":\"run\",\"id\":\"r-basic\",\"tasks\":1}");
	task = jv_parse("{\"type\":\"task\",\"id\":\"z\",\"order\":1,"
	    "\"level\":0}");
	is_int(au_aw_store_plan(db, run, &task, 1, &stored), 0,
	    "store_plan: a run stored already, 0");
	is_int(stored, 0, "store_plan: and *stored says it was not stored");
	is_int(qint(db, "SELECT count(*) FROM aw_tasks WHERE run_id = "
	    "'r-basic'"), 4, "store_plan: the stored run is unchanged");
	jv_free(run);
	run = jv_parse("{\"type\":\"run\",\"tasks\":1}");
	stored = -1;
	is_int(au_aw_store_plan(db, run, &task, 1, &stored), EX_DATAERR,
	    "store_plan: a run record without an id, 65");
	is_int(stored, 0, "store_plan: not stored");
	jv_free(run);
	jv_free(task);

	/* Records as aw-plan writes them. */
	run = jv_parse("{\"type\":\"run\",\"id\":\"r-plan\",\"ts\":"
	    "\"2026-02-03T04:05:06.007Z\",\"tasks\":2,\"levels\":2,"
	    "\"goal\":\"g\"}");
	{
		jv t[2];

		t[0] = jv_parse("{\"type\":\"task\",\"id\":\"p\",\"kind\":"
		    "\"tool\",\"run_id\":\"r-plan\",\"order\":1,\"level\":0,"
		    "\"priority\":3,\"needs\":[\"net\"],\"approval\":"
		    "\"required\"}");
		t[1] = jv_parse("{\"type\":\"task\",\"id\":\"q\",\"run\":"
		    "\"true\",\"deps\":[\"p\"],\"run_id\":\"r-plan\","
		    "\"order\":2,\"level\":1}");
		is_int(au_aw_store_plan(db, run, t, 2, &stored), 0,
		    "store_plan: aw-plan's records");
		is_int(stored, 1, "store_plan: *stored says so");
		jv_free(t[0]);
		jv_free(t[1]);
	}
	jv_free(run);
	is_str_free(qtext(db, "SELECT group_concat(id || ':' || kind || ':' "
	    "|| priority || ':' || coalesce(needs, '-') || ':' || approval || "
	    "':' || level, ' ') FROM (SELECT * FROM aw_tasks WHERE run_id = "
	    "'r-plan' ORDER BY ord)"),
	    "p:tool:3:[\"net\"]:1:0 q:run:0:-:0:1",
	    "store_plan: kind, priority, needs, approval, level");
	is_str_free(qtext(db, "SELECT created || ' ' || levels || ' ' || goal "
	    "|| ' ' || record FROM aw_runs WHERE id = 'r-plan'"),
	    "2026-02-03T04:05:06.007Z 2 g {\"type\":\"run\",\"id\":\"r-plan\","
	    "\"ts\":\"2026-02-03T04:05:06.007Z\",\"tasks\":2,\"levels\":2,"
	    "\"goal\":\"g\"}", "store_plan: the run as recorded");
	is_str_free(qtext(db, "SELECT record FROM aw_tasks WHERE run_id = "
	    "'r-plan' AND id = 'q'"), "{\"type\":\"task\",\"id\":\"q\","
	    "\"run\":\"true\",\"deps\":[\"p\"],\"run_id\":\"r-plan\","
	    "\"order\":2,\"level\":1}", "store_plan: the task record kept");
	is_str_free(qtext(db, "SELECT dep_id FROM aw_deps WHERE run_id = "
	    "'r-plan' AND task_id = 'q'"), "p", "store_plan: the dependency");

	aw = (struct au_aw *)&aw;
	is_int(au_aw_open(db, "nope", "test-aw", &aw), EX_NOINPUT,
	    "open: no such run, 66");
	ok(aw == NULL, "open: and no handle");
	is_str(au_errmsg(), "no run \"nope\" in the state file",
	    "open: with the reason");
}

/* ---- a run from start to done ---- */

static void
test_basic(void)
{
	const char *run = "r-basic";
	struct au_aw *aw = open_run(db, run);
	struct au_aw_attempt a = { "w1", "echo d", "/tmp/d.out", NULL, 4242,
	    1000, 1250, 0, 0, 0, 2, 0 };
	jv all = jv_array(), got, list, e;
	char *rec, want[512], at[AU_TS_LEN];
	int c[AU_AW_NSTATES], att = -1, i, n, same;
	int64_t ms = 0;

	is_int(strlen(au_aw_id(aw)), 26, "handle: its id is a ULID");
	is_str(au_aw_run(aw), run, "handle: its run");
	is_int(qint(db, "SELECT count(*) FROM aw_schedulers WHERE id = %Q "
	    "AND run_id = %Q AND who = 'test-aw' AND pid = %d AND pid_start "
	    "IS NOT NULL", au_aw_id(aw), run, (int)getpid()), 1,
	    "handle: registered as a scheduler, with our pid and its start");

	is_int(claim(aw, "a", &att), 1,
	    "claim: a task of a planned run is not ready (1)");
	is_str(au_errmsg(), "task \"a\" is pending, not ready",
	    "claim: says so");
	is_int(finish(aw), 0, "finish: a planned run is not finished");

	is_int(TX(db, au_aw_start(aw)), 0, "start");
	got = au_aw_drain(aw);
	all = jv_array_concat(all, jv_copy(got));
	is_str_free(words(got), "run:planned>running a:pending>ready "
	    "b:pending>ready", "start: the run runs, its roots are ready");
	is_str_free(runstate(run), "running", "start: the run is running");
	is_int(au_aw_counts(aw, c), 0, "counts");
	ok(c[AU_AW_READY] == 2 && c[AU_AW_PENDING] == 2 &&
	    c[AU_AW_RUNNING] == 0 && c[AU_AW_DONE] == 0,
	    "counts: 2 ready, 2 pending");
	is_int(TX(db, au_aw_start(aw)), 0, "start again");
	is_str_free(drained(aw), "", "start again: no events");

	list = au_aw_ready(aw, 10);
	{
		struct au_buf b = AU_BUF_INIT;

		au_json_dump(&b, list);
		is_str(b.s, "[{\"id\":\"b\",\"needs\":[]},{\"id\":\"a\","
		    "\"needs\":[\"gpu\"]}]",
		    "ready: best first (priority 5 before 0), with needs");
		au_buf_free(&b);
	}
	jv_free(list);
	is_int(jv_array_length(au_aw_ready(aw, 1)), 1,
	    "ready: limit 1 gives one");

	is_int(claim(aw, "c", &att), 1, "claim: pending c is refused (1)");
	is_str(au_errmsg(), "task \"c\" is pending, not ready",
	    "claim: with the reason");
	is_int(claim(aw, "zz", &att), EX_NOINPUT, "claim: no such task, 66");
	is_str(au_errmsg(), "run r-basic has no task \"zz\"",
	    "claim: with the reason");
	is_str_free(drained(aw), "", "refused claims: no events");

	is_int(au_db_begin(db), 0, "claim b: begin");
	is_int(au_aw_claim(aw, "b", worker("w1"), &att), 0, "claim b");
	is_int(att, 1, "claim b: attempt 1");
	is_str_free(words(au_aw_pending(aw)), "b:ready>running",
	    "pending: shows the event before the commit");
	is_int(au_db_commit(db), 0, "claim b: commit");
	got = au_aw_drain(aw);
	all = jv_array_concat(all, jv_copy(got));
	is_str_free(event_text(got, 0), "{\"type\":\"task.event\","
	    "\"run_id\":\"r-basic\",\"seq\":4,\"task\":\"b\",\"attempt\":1,"
	    "\"from\":\"ready\",\"to\":\"running\",\"worker\":\"w1\"}",
	    "claim b: the event, with the worker of its detail");
	jv_free(got);
	is_str_free(words(au_aw_pending(aw)), "",
	    "pending: empty after a drain");
	is_int(qint(db, "SELECT attempt FROM aw_claims WHERE run_id = %Q AND "
	    "task_id = 'b' AND scheduler = %Q AND lease_until > %lld", run,
	    au_aw_id(aw), (long long)au_now_ms()), 1,
	    "claim b: a claim of ours for attempt 1, its lease ahead");
	is_int(claim(aw, "b", &att), 1, "claim: running b again, 1");
	is_str(au_errmsg(), "task \"b\" is running, not ready",
	    "claim: with the reason");

	is_int(report(aw, "b", 2, 0), 0,
	    "report: attempt 2 of b (running attempt 1), 0");
	is_str_free(drained(aw), "", "report: for the wrong attempt, ignored");
	is_str_free(state(run, "b"), "running", "report: b still running");

	is_int(report(aw, "b", 1, 0), 0, "report: b done");
	got = au_aw_drain(aw);
	all = jv_array_concat(all, jv_copy(got));
	is_str_free(event_text(got, 0), "{\"type\":\"task.event\","
	    "\"run_id\":\"r-basic\",\"seq\":5,\"task\":\"b\",\"attempt\":1,"
	    "\"from\":\"running\",\"to\":\"done\",\"exit_code\":0}",
	    "report b: the event");
	is_int(jv_array_length(got), 1, "report b: c waits for a too");
	is_int(qint(db, "SELECT count(*) FROM aw_claims WHERE run_id = %Q AND "
	    "task_id = 'b'", run), 0, "report b: its claim is gone");
	is_str_free(tcol(run, "b", "exit_code"), "0", "report b: exit_code 0");

	is_int(claim(aw, "a", &att), 0, "claim a");
	is_int(report(aw, "a", att, 0), 0, "report a done");
	got = au_aw_drain(aw);
	all = jv_array_concat(all, jv_copy(got));
	is_str_free(words(got), "a:ready>running a:running>done "
	    "c:pending>ready", "a done: c is released");
	is_int(finish(aw), 0, "finish: not while tasks are open");
	is_int(claim(aw, "c", &att), 0, "claim c");
	is_int(report(aw, "c", att, 0), 0, "report c done");
	is_int(claim(aw, "d", &att), 0, "claim d");
	is_int(TX(db, au_aw_ended(aw, "d", att, &a)), 0,
	    "ended: d's attempt recorded");
	snprintf(want, sizeof want, "w1 echo d 4242 1000 1250 0 /tmp/d.out - "
	    "2 0 %s", au_aw_id(aw));
	is_str_free(qtext(db, "SELECT worker || ' ' || command || ' ' || "
	    "pid || ' ' || started || ' ' || ended || ' ' || exit_code || ' ' "
	    "|| stdout_path || ' ' || coalesce(stderr_path, '-') || ' ' || "
	    "stdout_bytes || ' ' || timed_out || ' ' || scheduler FROM "
	    "aw_attempts WHERE run_id = %Q AND task_id = 'd' AND attempt = 1",
	    run), want, "ended: the attempt's row");
	is_int(report(aw, "d", att, 0), 0, "report d done");
	got = au_aw_drain(aw);
	all = jv_array_concat(all, jv_copy(got));
	is_str_free(words(got), "c:ready>running c:running>done "
	    "d:pending>ready d:ready>running d:running>done",
	    "c, then d");
	is_int(finish(aw), 1, "finish: every task done, finished");
	got = au_aw_drain(aw);
	all = jv_array_concat(all, jv_copy(got));
	is_str_free(event_text(got, 0), "{\"type\":\"run.event\","
	    "\"run_id\":\"r-basic\",\"seq\":14,\"from\":\"running\","
	    "\"to\":\"done\"}", "finish: the run is done");
	jv_free(got);
	is_str_free(runstate(run), "done", "finish: done in the table");
	is_int(finish(aw), 1, "finish again: finished, nothing to do");
	is_str_free(drained(aw), "", "finish again: no events");
	is_int(au_aw_counts(aw, c), 0, "counts");
	is_int(c[AU_AW_DONE], 4, "counts: 4 done");

	/* What was drained is the log as au_aw_events reads it back. */
	if (au_aw_events(db, run, 0, &list) != 0)
		bail("events");
	n = jv_array_length(jv_copy(list));
	is_int(n, jv_array_length(jv_copy(all)),
	    "events: as many as were drained (14)");
	same = n == 14;
	for (i = 0; i < n; i++) {
		struct au_buf x = AU_BUF_INIT, y = AU_BUF_INIT;
		jv ex = jv_array_get(jv_copy(list), i);
		jv ey = jv_array_get(jv_copy(all), i);

		au_json_dump(&x, ex);
		au_json_dump(&y, ey);
		if (strcmp(x.s, y.s) != 0) {
			printf("# event %d:\n#   drained %s\n#   read    %s\n",
			    i, y.s, x.s);
			same = 0;
		}
		au_buf_free(&x);
		au_buf_free(&y);
		jv_free(ex);
		jv_free(ey);
	}
	ok(same, "events: each is the record drained, field for field");
	e = jv_array_get(jv_copy(list), 0);
	ok(au_jv_str(e, "ts") != NULL && strlen(au_jv_str(e, "ts")) == 24 &&
	    au_ts_parse(au_jv_str(e, "ts"), &ms) == 0 &&
	    ms > au_now_ms() - 60000 && ms <= au_now_ms(),
	    "events: ts is RFC 3339 UTC with milliseconds, and now (%s)",
	    au_ts_fmt(ms, at));
	jv_free(e);
	jv_free(list);
	jv_free(all);
	if (au_aw_events(db, run, 12, &list) != 0)
		bail("events after");
	is_str_free(words(list), "d:running>done run:running>done",
	    "events: after 12, the last two");
	if (au_aw_events(db, run, 14, &list) != 0)
		bail("events after");
	is_int(jv_array_length(list), 0, "events: after the last, none");
	if (au_aw_events(db, "nope", 0, &list) != 0)
		bail("events nope");
	is_int(jv_array_length(list), 0, "events: of no run, none");

	rec = au_aw_record(aw, "a");
	is_str(rec, "{\"type\":\"task\",\"id\":\"a\",\"run\":\"echo a\","
	    "\"order\":1,\"level\":0}", "record: as stored");
	free(rec);
	ok(au_aw_record(aw, "zz") == NULL, "record: no such task, NULL");

	is_int(TX(db, au_aw_cancel(aw, NULL, "late")), 1,
	    "cancel: a done run, 1");
	is_str(au_errmsg(), "run r-basic is done already", "cancel: says so");
	is_int(TX(db, au_aw_cancel(aw, "a", "late")), 1,
	    "cancel: a done task, 1");
	is_str(au_errmsg(), "task \"a\" is done already", "cancel: says so");
	is_int(TX(db, au_aw_pause(aw, 1)), 1, "pause: a done run, 1");
	is_int(TX(db, au_aw_requeue(aw, "a")), 1, "requeue: a done task, 1");
	is_str(au_errmsg(), "task \"a\" is done, not dead",
	    "requeue: says so");
	is_int(TX(db, au_aw_requeue(aw, "zz")), EX_NOINPUT,
	    "requeue: no such task, 66");
	is_str_free(drained(aw), "", "refusals: no events");
	check_log(run);
	au_aw_close(aw);
	is_int(qint(db, "SELECT count(*) FROM aw_schedulers WHERE run_id = "
	    "%Q", run), 0, "close: the scheduler's row is gone");
}

/* Replay tells a tampered table or log. */
static void
test_tamper(void)
{
	const char *run = "r-basic";
	char *p;

	is_int(replay(run, &p), 0, "replay: equal");
	is_str_free(p, "", "replay: no problems");
	exec(db, "UPDATE aw_tasks SET state = 'ready' WHERE run_id = "
	    "'r-basic' AND id = 'd'");
	is_int(replay(run, &p), 1, "replay: a task's state changed, 1");
	is_str_free(p, "task \"d\": state is ready in the table, done from "
	    "the events", "replay: names it");
	exec(db, "UPDATE aw_tasks SET state = 'done', attempt = 7 WHERE "
	    "run_id = 'r-basic' AND id = 'd'");
	is_int(replay(run, &p), 1, "replay: an attempt changed, 1");
	is_str_free(p, "task \"d\": attempt is 7 in the table, 1 from the "
	    "events", "replay: names it");
	exec(db, "UPDATE aw_tasks SET attempt = 1, error = 'x' WHERE "
	    "run_id = 'r-basic' AND id = 'd'");
	is_int(replay(run, &p), 1, "replay: an error added, 1");
	is_str_free(p, "task \"d\": error is x in the table, null from the "
	    "events", "replay: names it");
	exec(db, "UPDATE aw_tasks SET error = NULL WHERE run_id = 'r-basic' "
	    "AND id = 'd'");
	exec(db, "UPDATE aw_runs SET state = 'running' WHERE id = 'r-basic'");
	is_int(replay(run, &p), 1, "replay: the run's state changed, 1");
	is_str_free(p, "run: state is running in the table, done from the "
	    "events", "replay: names it");
	exec(db, "UPDATE aw_runs SET state = 'done' WHERE id = 'r-basic'");
	is_int(replay(run, &p), 0, "replay: equal again once restored");
	free(p);

	exec(db, "DELETE FROM aw_events WHERE run_id = 'r-basic' AND "
	    "seq = 14");
	is_int(replay(run, &p), 1, "replay: the last event deleted, 1");
	is_str_free(p, "run: state is done in the table, running from the "
	    "events", "replay: the run's state is not derived");
	exec(db, "DELETE FROM aw_events WHERE run_id = 'r-basic' AND "
	    "seq = 6");
	is_int(replay(run, &p), 1, "replay: an event in the middle deleted");
	ok(strstr(p, "event 7: expected seq 6") != NULL &&
	    strstr(p, "event 7: task \"a\" running -> done after ready") !=
	    NULL, "replay: names the gap and the move that does not follow "
	    "(%s)", p);
	free(p);
	exec(db, "UPDATE aw_events SET to_state = 'cancelled' WHERE run_id = "
	    "'r-basic' AND seq = 2");
	is_int(replay(run, &p), 1, "replay: an event changed");
	ok(strstr(p, "event 7: task \"a\" running -> done after cancelled") !=
	    NULL, "replay: follows the changed event (%s)", p);
	free(p);
	{
		jv problems;

		is_int(au_aw_replay(db, "nope", &problems), EX_NOINPUT,
		    "replay: no such run, 66");
		jv_free(problems);
	}
}

/* ---- failures and retries ---- */

static void
test_fail(void)
{
	static const char *const tasks[] = {
		"{\"id\":\"x\",\"run\":\"false\",\"retry\":{\"attempts\":3,"
		"\"delay\":\"60ms\",\"factor\":2,\"max\":\"1s\","
		"\"jitter\":0.5}}",
		"{\"id\":\"y\",\"deps\":[\"x\"],\"level\":1}",
		"{\"id\":\"z\",\"deps\":[\"y\"],\"level\":2}",
		"{\"id\":\"w\"}",
		NULL
	};
	const char *run = "r-fail";
	struct au_aw_policy p = { 3, 60, 1000, 2, 0.5 };
	struct au_aw *aw;
	jv got;
	char *s;
	int att = -1, k, c[AU_AW_NSTATES];
	int64_t before, after, ready_at, delay;

	plan(run, tasks);
	aw = open_run(db, run);
	is_int(TX(db, au_aw_start(aw)), 0, "fail: start");
	jv_free(au_aw_drain(aw));
	for (k = 1; k <= 2; k++) {
		is_int(claim(aw, "x", &att), 0, "fail: claim x");
		is_int(att, k, "fail: attempt %d", k);
		jv_free(au_aw_drain(aw));
		before = au_now_ms();
		is_int(report(aw, "x", att, k), 0, "fail: x exits %d", k);
		after = au_now_ms();
		got = au_aw_drain(aw);
		is_str_free(words(jv_copy(got)), "x:running>retrying",
		    "fail: attempt %d of 3 failed, x retrying", k);
		delay = au_aw_backoff(&p, run, "x", k);
		s = event_field(got, 0, "delay_ms");
		ok(atoll(s) == delay, "fail: the event's delay_ms %s is the "
		    "backoff of the task's policy, %lld", s, (long long)delay);
		free(s);
		s = event_field(got, 0, "exit_code");
		ok(atoi(s) == k, "fail: the event's exit_code is %d", k);
		free(s);
		is_str_free(event_field(got, 0, "error"), k == 1 ?
		    "\"exited with status 1\"" : "\"exited with status 2\"",
		    "fail: the event's error");
		s = event_field(got, 0, "ready_at");
		ready_at = 0;
		if (strlen(s) > 2) {
			s[strlen(s) - 1] = '\0';
			au_ts_parse(s + 1, &ready_at);
		}
		ok(ready_at >= before + delay && ready_at <= after + delay,
		    "fail: ready_at %s is the report's time + delay_ms",
		    strlen(s) > 2 ? s + 1 : s);
		free(s);
		jv_free(got);
		s = tcol(run, "x", "ready_at");
		ok(s && atoll(s) == ready_at, "fail: ready_at in the table too "
		    "(%s)", s ? s : "null");
		free(s);
		is_str_free(tcol(run, "x", "exit_code"), k == 1 ? "1" : "2",
		    "fail: exit_code in the table");
		ok(ready_at > au_now_ms(), "fail: ready_at in the future");
		is_int(tick(aw), 0, "fail: tick before ready_at");
		if (au_now_ms() < ready_at)
			is_str_free(drained(aw), "",
			    "fail: x is not due yet, still retrying");
		else
			ok(1, "# SKIP too slow to tick before ready_at");
		nap((long)(ready_at - au_now_ms()) + 2);
		is_int(tick(aw), 0, "fail: tick once due");
		is_str_free(drained(aw), "x:retrying>ready",
		    "fail: x due, ready again");
		is_str_free(tcol(run, "x", "exit_code"), k == 1 ? "1" : "2",
		    "fail: ready keeps the last exit_code");
	}
	is_int(claim(aw, "x", &att), 0, "fail: claim x");
	is_int(att, 3, "fail: attempt 3");
	jv_free(au_aw_drain(aw));
	s = tcol(run, "x", "coalesce(exit_code, 'null') || ' ' || "
	    "coalesce(error, 'null') || ' ' || coalesce(ready_at, 'null')");
	is_str_free(s, "null null null", "fail: a new attempt forgets the "
	    "last's exit_code, error and ready_at");
	is_int(report(aw, "x", att, 3), 0, "fail: x exits 3");
	is_str_free(drained(aw), "x:running>failed x:failed>dead "
	    "y:pending>skipped z:pending>skipped",
	    "fail: the last attempt failed: x dead, y and z skipped");
	is_str_free(tcol(run, "x", "state || ' ' || attempt || ' ' || "
	    "exit_code || ' ' || error"), "dead 3 3 exited with status 3",
	    "fail: x dead after 3 attempts, with its last exit and error");
	is_str_free(tcol(run, "y", "error"), "dependency \"x\" died",
	    "fail: y skipped, with the reason");
	is_str_free(tcol(run, "z", "error"), "dependency \"y\" died",
	    "fail: z skipped, with the reason");
	is_str_free(state(run, "w"), "ready", "fail: w carries on");
	is_int(finish(aw), 0, "fail: not finished while w is open");
	is_int(claim(aw, "w", &att), 0, "fail: claim w");
	is_int(report(aw, "w", att, 0), 0, "fail: w done");
	is_int(finish(aw), 1, "fail: finished");
	is_str_free(drained(aw), "w:ready>running w:running>done "
	    "run:running>failed", "fail: the run failed");
	au_aw_counts(aw, c);
	ok(c[AU_AW_DONE] == 1 && c[AU_AW_DEAD] == 1 && c[AU_AW_SKIPPED] == 2,
	    "fail: counts 1 done, 1 dead, 2 skipped");
	check_log(run);
	au_aw_close(aw);
}

static void
test_codes(void)
{
	static const char *const tasks[] = {
		"{\"id\":\"e77\",\"retry\":{\"attempts\":5}}",
		"{\"id\":\"e75\"}",
		"{\"id\":\"e75x4\",\"retry\":{\"attempts\":4}}",
		"{\"id\":\"nr\",\"retry\":{\"attempts\":5,"
		"\"non_retryable\":[3,4]}}",
		"{\"id\":\"nr5\",\"retry\":{\"attempts\":2,"
		"\"non_retryable\":[3]}}",
		"{\"id\":\"nr75\",\"retry\":{\"non_retryable\":[75]}}",
		"{\"id\":\"unr\",\"retry\":{\"attempts\":5}}",
		"{\"id\":\"sig\"}",
		"{\"id\":\"tmo\"}",
		"{\"id\":\"err\"}",
		"{\"id\":\"ok2\",\"retry\":{\"attempts\":2}}",
		NULL
	};
	const char *run = "r-codes";
	struct au_aw_result r75 = { 75, 0, 0, NULL }, r = { 0, 0, 0, NULL };
	struct au_aw *aw;
	int att = -1, k;

	plan(run, tasks);
	aw = open_run(db, run);
	is_int(TX(db, au_aw_start(aw)), 0, "codes: start");
	r.exit_code = 77;
	is_str_free(attempt_with(aw, run, "e77", &r, &att), "dead",
	    "codes: exit 77 with 5 attempts: dead at once");
	is_int(att, 1, "codes: after 1 attempt");
	for (k = 1; k <= 2; k++)
		is_str_free(attempt_with(aw, run, "e75", &r75, &att),
		    "retrying", "codes: exit 75 with 1 attempt: retried "
		    "(attempt %d)", k);
	is_str_free(attempt_with(aw, run, "e75", &r75, &att), "dead",
	    "codes: exit 75: dead after the third attempt");
	is_int(att, 3, "codes: exit 75 had 3 attempts");
	for (k = 1; k <= 3; k++)
		is_str_free(attempt_with(aw, run, "e75x4", &r75, &att),
		    "retrying", "codes: exit 75 with 4 attempts: retried "
		    "(attempt %d)", k);
	is_str_free(attempt_with(aw, run, "e75x4", &r75, &att), "dead",
	    "codes: exit 75 with 4 attempts: dead after the fourth");
	r.exit_code = 3;
	is_str_free(attempt_with(aw, run, "nr", &r, &att), "dead",
	    "codes: non_retryable 3, exit 3: dead at once");
	r.exit_code = 5;
	is_str_free(attempt_with(aw, run, "nr5", &r, &att), "retrying",
	    "codes: non_retryable [3], exit 5: retried");
	is_str_free(attempt_with(aw, run, "nr5", &r, &att), "dead",
	    "codes: and dead after its 2 attempts");
	is_str_free(attempt_with(aw, run, "nr75", &r75, &att), "retrying",
	    "codes: non_retryable [75], exit 75: retried all the same");
	r.exit_code = 127;
	r.unrunnable = 1;
	r.error = "tool tasks need tg-invoke, which is not available";
	is_str_free(attempt_with(aw, run, "unr", &r, &att), "dead",
	    "codes: unrunnable with 5 attempts: dead at once");
	is_str_free(tcol(run, "unr", "exit_code || ' ' || error"), "127 tool "
	    "tasks need tg-invoke, which is not available",
	    "codes: with the error given");
	r.unrunnable = 0;
	r.error = NULL;
	r.exit_code = 137;
	is_str_free(attempt_with(aw, run, "sig", &r, &att), "dead",
	    "codes: killed");
	is_str_free(tcol(run, "sig", "error"), "killed by signal 9",
	    "codes: error says by which signal");
	r.exit_code = 143;
	r.timed_out = 1;
	is_str_free(attempt_with(aw, run, "tmo", &r, &att), "dead",
	    "codes: timed out");
	is_str_free(tcol(run, "tmo", "error"), "timed out",
	    "codes: error says so");
	r.exit_code = 0;
	r.timed_out = 0;
	r.error = "no output";
	is_str_free(attempt_with(aw, run, "err", &r, &att), "dead",
	    "codes: exit 0 with an error is a failure");
	is_str_free(tcol(run, "err", "exit_code || ' ' || error"),
	    "0 no output", "codes: with its error");
	r.exit_code = 1;
	r.error = NULL;
	is_str_free(attempt_with(aw, run, "ok2", &r, &att), "retrying",
	    "codes: a retried task");
	r.exit_code = 0;
	is_str_free(attempt_with(aw, run, "ok2", &r, &att), "done",
	    "codes: done at its second attempt");
	is_str_free(tcol(run, "ok2", "exit_code || ' ' || "
	    "coalesce(error, 'null')"), "0 null",
	    "codes: done forgets the failure");
	complete(aw);
	is_str_free(runstate(run), "failed", "codes: the run failed");
	check_log(run);
	au_aw_close(aw);
}

/* A move the state machine refuses: 70, and nothing written. */
static void
test_illegal(void)
{
	static const char *const tasks[] = { "{\"id\":\"q\"}",
	    "{\"id\":\"q2\"}", NULL };
	const char *run = "r-illegal";
	struct au_aw *aw;
	long long n;
	int att = -1;
	char *p;

	plan(run, tasks);
	aw = open_run(db, run);
	is_int(TX(db, au_aw_start(aw)), 0, "illegal: start");
	jv_free(au_aw_drain(aw));
	/* A task left failed, which only a crash in the middle of a
	 * transaction could do if transactions were not atomic. */
	exec(db, "UPDATE aw_tasks SET state = 'failed' WHERE run_id = "
	    "'r-illegal' AND id = 'q'");
	n = qint(db, "SELECT count(*) FROM aw_events WHERE run_id = %Q", run);
	is_int(au_db_begin(db), 0, "illegal: begin");
	is_int(au_aw_claim(aw, "q2", worker("w1"), &att), 0,
	    "illegal: claim q2 in the same transaction");
	is_int(au_aw_cancel(aw, "q", "no"), EX_SOFTWARE,
	    "illegal: failed -> cancelled is refused with 70");
	is_str(au_errmsg(), "task \"q\": illegal transition failed -> "
	    "cancelled", "illegal: says which");
	au_db_rollback(db);
	jv_free(au_aw_drain(aw));
	is_int(qint(db, "SELECT count(*) FROM aw_events WHERE run_id = %Q",
	    run), n, "illegal: rolled back, no event written");
	is_str_free(state(run, "q"), "failed", "illegal: q as it was");
	is_str_free(state(run, "q2"), "ready", "illegal: q2 not claimed");
	is_int(replay(run, &p), 1, "illegal: replay sees the tampering");
	is_str_free(p, "task \"q\": state is failed in the table, ready from "
	    "the events", "illegal: and names it");
	au_aw_close(aw);
}

/* ---- interrupted attempts ---- */

static void
test_interrupt(void)
{
	static const char *const tasks[] = {
		"{\"id\":\"t\",\"retry\":{\"attempts\":2}}",
		"{\"id\":\"u\"}",
		NULL
	};
	const char *run = "r-intr";
	struct au_aw *aw;
	jv got;
	int att = -1, c[AU_AW_NSTATES];

	plan(run, tasks);
	aw = open_run(db, run);
	is_int(TX(db, au_aw_start(aw)), 0, "interrupt: start");
	jv_free(au_aw_drain(aw));
	is_int(claim(aw, "t", &att), 0, "interrupt: claim t");
	jv_free(au_aw_drain(aw));
	is_int(TX(db, au_aw_interrupt(aw, "u", 0, "why")), 0,
	    "interrupt: a task that is not running, 0");
	is_str_free(drained(aw), "", "interrupt: and nothing happens");
	is_int(TX(db, au_aw_interrupt(aw, "t", att,
	    "aw-sched got signal 15")), 0, "interrupt: t");
	got = au_aw_drain(aw);
	is_str_free(event_text(got, 0), "{\"type\":\"task.event\","
	    "\"run_id\":\"r-intr\",\"seq\":5,\"task\":\"t\",\"attempt\":1,"
	    "\"from\":\"running\",\"to\":\"interrupted\",\"reason\":"
	    "\"aw-sched got signal 15\"}", "interrupt: the event, with the "
	    "reason");
	jv_free(got);
	is_int(qint(db, "SELECT count(*) FROM aw_claims WHERE run_id = %Q",
	    run), 0, "interrupt: the claim is gone");
	is_int(tick(aw), 0, "interrupt: tick");
	is_str_free(state(run, "t"), "interrupted",
	    "interrupt: a tick leaves it for a resume");
	is_int(finish(aw), 0, "interrupt: the run is not finished");
	au_aw_counts(aw, c);
	is_int(c[AU_AW_INTERRUPTED], 1, "interrupt: counted interrupted");
	is_int(TX(db, au_aw_start(aw)), 0, "interrupt: start again (resume)");
	got = au_aw_drain(aw);
	is_str_free(event_text(got, 0), "{\"type\":\"task.event\","
	    "\"run_id\":\"r-intr\",\"seq\":6,\"task\":\"t\",\"attempt\":1,"
	    "\"from\":\"interrupted\",\"to\":\"ready\",\"lost\":1}",
	    "interrupt: resumed, t ready, 1 attempt lost");
	jv_free(got);
	is_str_free(tcol(run, "t", "state || ' ' || attempt || ' ' || lost"),
	    "ready 1 1", "interrupt: lost in the table");
	is_int(claim(aw, "t", &att), 0, "interrupt: claim t again");
	is_int(att, 2, "interrupt: attempt 2");
	is_int(report(aw, "t", att, 1), 0, "interrupt: t fails");
	is_str_free(state(run, "t"), "retrying", "interrupt: retrying: the "
	    "lost attempt did not count against its 2");
	is_int(tick(aw), 0, "interrupt: tick");
	is_int(claim(aw, "t", &att), 0, "interrupt: claim t");
	is_int(att, 3, "interrupt: attempt 3");
	is_int(report(aw, "t", att, 1), 0, "interrupt: t fails again");
	is_str_free(tcol(run, "t", "state || ' ' || attempt || ' ' || lost"),
	    "dead 3 1", "interrupt: dead after 2 attempts that counted");
	complete(aw);
	check_log(run);
	au_aw_close(aw);
}

/* ---- approvals ---- */

static void
test_approval(void)
{
	static const char *const tasks[] = {
		"{\"id\":\"p1\",\"run\":\"deploy prod\","
		"\"approval\":\"required\"}",
		"{\"id\":\"p1d\",\"deps\":[\"p1\"],\"level\":1}",
		"{\"id\":\"p2\",\"run\":[\"rm\",\"-rf\",\"x\"],"
		"\"approval\":\"required\"}",
		"{\"id\":\"p2d\",\"deps\":[\"p2\"],\"level\":1}",
		"{\"id\":\"p2dd\",\"deps\":[\"p2d\"],\"level\":2}",
		"{\"id\":\"p4\",\"run\":\"true\",\"approval\":\"required\"}",
		"{\"id\":\"p4d\",\"deps\":[\"p4\"],\"level\":1}",
		NULL
	};
	const char *run = "r-appr";
	struct au_aw *aw;
	char *id1, *id2, *id4, *id2b, *s;
	jv rec, got, details;
	int att = -1, c[AU_AW_NSTATES];

	plan(run, tasks);
	aw = open_run(db, run);
	is_int(TX(db, au_aw_start(aw)), 0, "approval: start");
	got = au_aw_drain(aw);
	is_str_free(words(jv_copy(got)), "run:planned>running "
	    "p1:pending>waiting_approval p2:pending>waiting_approval "
	    "p4:pending>waiting_approval",
	    "approval: the tasks that need one wait for it");
	id1 = tcol(run, "p1", "approval_id");
	id2 = tcol(run, "p2", "approval_id");
	id4 = tcol(run, "p4", "approval_id");
	ok(id1 && id2 && id4 && strlen(id1) == 26 && strcmp(id1, id2) &&
	    strcmp(id2, id4) && strcmp(id1, id4),
	    "approval: a request each, with its own id");
	s = event_field(got, 1, "approval_id");
	ok(id1 && strlen(s) == 28 && strncmp(s + 1, id1, 26) == 0,
	    "approval: the event carries the request's id (%s)", s);
	free(s);
	jv_free(got);
	if (!id1 || !id2 || !id4)
		bail("approval ids");

	is_int(au_approval_get(db, id1, &rec), 0, "approval: the request");
	is_str(au_jv_str(rec, "status"), "pending", "approval: pending");
	is_str(au_jv_str(rec, "requester"), "aw-sched",
	    "approval: requester aw-sched");
	is_str(au_jv_str(rec, "subject"), "run r-appr task p1",
	    "approval: subject names the run and task");
	is_str(au_jv_str(rec, "summary"), "deploy prod",
	    "approval: summary is the command");
	details = jv_object_get(jv_copy(rec), jv_string("details"));
	ok(jv_get_kind(details) == JV_KIND_OBJECT &&
	    au_jv_str(details, "id") && !strcmp(au_jv_str(details, "id"),
	    "p1") && au_jv_str(details, "approval"),
	    "approval: details is the task's record");
	jv_free(details);
	ok(au_jv_str(rec, "expires_at") == NULL,
	    "approval: without a timeout it never expires");
	jv_free(rec);
	is_int(au_approval_get(db, id2, &rec), 0, "approval: p2's request");
	is_str(au_jv_str(rec, "summary"), "[\"rm\",\"-rf\",\"x\"]",
	    "approval: summary of an argv command is its JSON");
	jv_free(rec);

	is_int(jv_array_length(au_aw_ready(aw, 10)), 0,
	    "approval: nothing ready");
	au_aw_counts(aw, c);
	is_int(c[AU_AW_WAITING], 3, "approval: 3 waiting");
	is_int(tick(aw), 0, "approval: tick");
	is_str_free(drained(aw), "", "approval: undecided, nothing moves");
	is_int(finish(aw), 0, "approval: waiting tasks are open");

	is_int(au_approval_decide(db, NULL, id1, 1, "alice", "ok"), 0,
	    "approval: approve p1's");
	is_str_free(state(run, "p1"), "waiting_approval",
	    "approval: p1 waits until the next tick");
	is_int(tick(aw), 0, "approval: tick");
	is_str_free(drained(aw), "p1:waiting_approval>ready",
	    "approval: approved, p1 ready");
	is_str_free(tcol(run, "p1", "approval_id"), id1,
	    "approval: p1 keeps its request's id");
	is_int(claim(aw, "p1", &att), 0, "approval: claim p1");
	is_int(report(aw, "p1", att, 0), 0, "approval: p1 done");
	is_str_free(drained(aw), "p1:ready>running p1:running>done "
	    "p1d:pending>ready", "approval: p1d released");
	is_int(claim(aw, "p1d", &att), 0, "approval: claim p1d");
	is_int(report(aw, "p1d", att, 0), 0, "approval: p1d done");
	jv_free(au_aw_drain(aw));

	is_int(au_approval_decide(db, NULL, id2, 0, "bob", "too risky"), 0,
	    "approval: deny p2's");
	is_int(tick(aw), 0, "approval: tick");
	is_str_free(drained(aw), "p2:waiting_approval>dead "
	    "p2d:pending>skipped p2dd:pending>skipped",
	    "approval: denied, p2 dead, its dependents skipped");
	is_str_free(tcol(run, "p2", "error"), "approval denied: too risky",
	    "approval: p2's error gives the reason");
	is_str_free(tcol(run, "p2d", "error"),
	    "dependency \"p2\" was not approved", "approval: p2d's error");
	is_str_free(tcol(run, "p2dd", "error"),
	    "dependency \"p2d\" was not approved", "approval: p2dd's error");

	is_int(TX(db, au_aw_cancel(aw, "p4", "not needed")), 0,
	    "approval: cancel p4 while it waits");
	is_str_free(drained(aw), "p4:waiting_approval>cancelled "
	    "p4d:pending>skipped", "approval: p4 cancelled, p4d skipped");
	is_str_free(tcol(run, "p4", "error"), "not needed",
	    "approval: with the reason");
	is_str_free(tcol(run, "p4d", "error"),
	    "dependency \"p4\" was cancelled", "approval: p4d's error");
	is_int(au_approval_get(db, id4, &rec), 0, "approval: p4's request");
	is_str(au_jv_str(rec, "status"), "withdrawn",
	    "approval: withdrawn with the task");
	is_str(au_jv_str(rec, "decided_by"), "requester",
	    "approval: by the requester");
	jv_free(rec);
	is_int(finish(aw), 1, "approval: finished");
	is_str_free(runstate(run), "failed", "approval: the run failed");

	is_int(TX(db, au_aw_requeue(aw, "p4")), 1,
	    "requeue: a cancelled task, 1");
	is_str(au_errmsg(), "task \"p4\" is cancelled, not dead",
	    "requeue: says so");
	jv_free(au_aw_drain(aw));
	is_int(TX(db, au_aw_requeue(aw, "p2")), 0, "requeue: dead p2");
	got = au_aw_drain(aw);
	is_str_free(words(jv_copy(got)), "p2:dead>pending "
	    "p2:pending>waiting_approval p2d:skipped>pending "
	    "p2dd:skipped>pending run:failed>running",
	    "requeue: p2 asks again, its dependents pending, the run "
	    "running");
	is_str_free(event_field(got, 0, "reason"), "\"requeued\"",
	    "requeue: the event says why");
	jv_free(got);
	id2b = tcol(run, "p2", "approval_id");
	ok(id2b && strcmp(id2b, id2) != 0, "requeue: a new request");
	is_str_free(tcol(run, "p2", "coalesce(error, 'null') || ' ' || "
	    "coalesce(exit_code, 'null')"), "null null",
	    "requeue: the denial forgotten");
	is_str_free(tcol(run, "p2d", "coalesce(error, 'null')"), "null",
	    "requeue: p2d's error forgotten");
	if (!id2b)
		bail("new request");
	is_int(au_approval_get(db, id2b, &rec), 0, "requeue: the new request");
	is_str(au_jv_str(rec, "status"), "pending", "requeue: pending");
	jv_free(rec);
	is_int(au_approval_get(db, id2, &rec), 0, "requeue: the old request");
	is_str(au_jv_str(rec, "status"), "denied", "requeue: still denied");
	jv_free(rec);
	is_int(au_approval_decide(db, NULL, id2b, 1, "bob", NULL), 0,
	    "requeue: approve the new request");
	is_int(tick(aw), 0, "requeue: tick");
	is_str_free(drained(aw), "p2:waiting_approval>ready",
	    "requeue: p2 ready");
	is_int(claim(aw, "p2", &att), 0, "requeue: claim p2");
	is_int(att, 1, "requeue: its first attempt");
	is_int(report(aw, "p2", att, 0), 0, "requeue: p2 done");
	complete(aw);
	is_str_free(qtext(db, "SELECT group_concat(id || ':' || state, ' ') "
	    "FROM (SELECT * FROM aw_tasks WHERE run_id = 'r-appr' ORDER BY "
	    "ord)"), "p1:done p1d:done p2:done p2d:done p2dd:done "
	    "p4:cancelled p4d:skipped", "requeue: the rest of the run done");
	is_str_free(runstate(run), "failed",
	    "requeue: the run failed (p4 was cancelled)");
	check_log(run);
	free(id1);
	free(id2);
	free(id4);
	free(id2b);
	au_aw_close(aw);
}

static void
test_expire(void)
{
	static const char *const tasks[] = {
		"{\"id\":\"e\",\"run\":\"x\",\"approval\":\"required\"}",
		"{\"id\":\"ed\",\"deps\":[\"e\"],\"level\":1}",
		NULL
	};
	const char *run = "r-exp";
	struct au_aw *aw;
	char *id;
	jv rec;

	plan(run, tasks);
	aw = open_run(db, run);
	au_aw_set_approval_timeout(aw, 1);
	is_int(TX(db, au_aw_start(aw)), 0, "expire: start");
	is_str_free(drained(aw), "run:planned>running "
	    "e:pending>waiting_approval", "expire: e waits");
	if ((id = tcol(run, "e", "approval_id")) == NULL)
		bail("expire: no request");
	is_int(au_approval_get(db, id, &rec), 0, "expire: the request");
	ok(au_jv_str(rec, "expires_at") != NULL,
	    "expire: it expires (%s)", au_jv_str(rec, "expires_at"));
	jv_free(rec);
	nap(5);
	is_int(tick(aw), 0, "expire: tick after it expired");
	is_str_free(drained(aw), "e:waiting_approval>dead "
	    "ed:pending>skipped", "expire: e dead, ed skipped");
	is_str_free(tcol(run, "e", "error"), "approval expired",
	    "expire: error says so");
	is_int(au_approval_get(db, id, &rec), 0, "expire: the request");
	is_str(au_jv_str(rec, "status"), "expired", "expire: expired");
	is_str(au_jv_str(rec, "decided_by"), "timeout",
	    "expire: decided by timeout");
	jv_free(rec);
	free(id);
	is_int(finish(aw), 1, "expire: finished");
	check_log(run);
	au_aw_close(aw);
}

/* ---- cancel, pause ---- */

static void
test_cancel(void)
{
	static const char *const tasks[] = {
		"{\"id\":\"a\"}",
		"{\"id\":\"b\",\"deps\":[\"a\"],\"level\":1}",
		"{\"id\":\"c\"}",
		"{\"id\":\"d\",\"retry\":{\"attempts\":2,\"delay\":\"1h\","
		"\"max\":\"1h\"}}",
		"{\"id\":\"w\",\"approval\":\"required\"}",
		NULL
	};
	const char *run = "r-cancel";
	struct au_aw *aw;
	int att = -1, p = -1, a_att;

	plan(run, tasks);
	aw = open_run(db, run);
	is_int(TX(db, au_aw_paused(aw, &p)), 0, "cancel: paused?");
	is_int(p, 0, "cancel: a planned run is not paused");
	is_int(TX(db, au_aw_start(aw)), 0, "cancel: start");
	is_int(claim(aw, "a", &a_att), 0, "cancel: claim a");
	is_int(claim(aw, "d", &att), 0, "cancel: claim d");
	is_int(report(aw, "d", att, 1), 0, "cancel: d fails");
	is_str_free(state(run, "d"), "retrying", "cancel: d retrying");
	jv_free(au_aw_drain(aw));
	is_int(TX(db, au_aw_cancel(aw, "c", "no")), 0, "cancel: c");
	is_str_free(drained(aw), "c:ready>cancelled", "cancel: c cancelled");
	is_str_free(tcol(run, "c", "error"), "no", "cancel: with the reason");
	is_int(TX(db, au_aw_cancel(aw, "c", "no")), 1,
	    "cancel: c again, 1");
	is_str(au_errmsg(), "task \"c\" is cancelled already",
	    "cancel: says so");
	is_int(TX(db, au_aw_cancel(aw, "zz", "no")), EX_NOINPUT,
	    "cancel: no such task, 66");
	is_int(TX(db, au_aw_cancel(aw, NULL, "stop")), 0, "cancel: the run");
	is_str_free(drained(aw), "a:running>cancelled b:pending>cancelled "
	    "d:retrying>cancelled w:waiting_approval>cancelled "
	    "run:running>cancelled",
	    "cancel: every open task cancelled, then the run");
	{
		char *id = tcol(run, "w", "approval_id");
		jv rec = jv_invalid();

		is_int(id ? au_approval_get(db, id, &rec) : -1, 0,
		    "cancel: w's request");
		is_str(au_jv_str(rec, "status"), "withdrawn",
		    "cancel: withdrawn with the run");
		jv_free(rec);
		free(id);
	}
	is_str_free(tcol(run, "d", "error"), "stop",
	    "cancel: with the reason");
	is_int(TX(db, au_aw_paused(aw, &p)), 0, "cancel: paused?");
	is_int(p, 2, "cancel: au_aw_paused says cancelled (2)");
	is_int(TX(db, au_aw_cancel(aw, NULL, "stop")), 1,
	    "cancel: the run again, 1");
	is_str(au_errmsg(), "run r-cancel is cancelled already",
	    "cancel: says so");
	is_int(report(aw, "a", a_att, 0), 0, "cancel: a's attempt ends");
	is_str_free(drained(aw), "", "cancel: its report is ignored");
	is_str_free(state(run, "a"), "cancelled", "cancel: a stays cancelled");
	is_int(tick(aw), 0, "cancel: tick");
	is_str_free(drained(aw), "", "cancel: a retry of a cancelled task "
	    "never comes");
	is_int(finish(aw), 1, "cancel: finished");
	is_str_free(drained(aw), "", "cancel: the run stays cancelled");
	is_int(TX(db, au_aw_pause(aw, 1)), 1, "cancel: pause, 1");
	check_log(run);
	au_aw_close(aw);
}

static void
test_pause(void)
{
	static const char *const tasks[] = { "{\"id\":\"a\"}", NULL };
	const char *run = "r-pause";
	struct au_aw *aw;
	int att = -1, p = -1;

	plan(run, tasks);
	aw = open_run(db, run);
	is_int(TX(db, au_aw_pause(aw, 1)), 0, "pause: a planned run");
	is_str_free(drained(aw), "run:planned>paused", "pause: paused");
	is_int(TX(db, au_aw_paused(aw, &p)), 0, "pause: paused?");
	is_int(p, 1, "pause: au_aw_paused says so (1)");
	is_int(TX(db, au_aw_pause(aw, 1)), 1, "pause: again, 1");
	is_str(au_errmsg(), "run r-pause is paused", "pause: says so");
	is_int(TX(db, au_aw_pause(aw, 0)), 0, "pause: resume");
	is_str_free(drained(aw), "run:paused>running", "pause: running");
	is_int(TX(db, au_aw_pause(aw, 0)), 1, "pause: resume again, 1");
	is_str(au_errmsg(), "run r-pause is running", "pause: says so");
	is_int(TX(db, au_aw_paused(aw, &p)), 0, "pause: paused?");
	is_int(p, 0, "pause: au_aw_paused says no (0)");
	is_int(TX(db, au_aw_start(aw)), 0, "pause: start");
	is_str_free(drained(aw), "a:pending>ready", "pause: a ready");
	is_int(TX(db, au_aw_pause(aw, 1)), 0, "pause: the running run");
	is_str_free(runstate(run), "paused", "pause: paused in the table");
	is_int(TX(db, au_aw_pause(aw, 0)), 0, "pause: resume");
	is_int(claim(aw, "a", &att), 0, "pause: claim a");
	is_int(report(aw, "a", att, 0), 0, "pause: a done");
	is_int(finish(aw), 1, "pause: finished");
	is_str_free(drained(aw), "run:running>paused run:paused>running "
	    "a:ready>running a:running>done run:running>done",
	    "pause: the run's events");
	check_log(run);
	au_aw_close(aw);
}

/* ---- requeue ---- */

static void
test_requeue(void)
{
	static const char *const tasks[] = {
		"{\"id\":\"a\"}",
		"{\"id\":\"b\"}",
		"{\"id\":\"c\",\"deps\":[\"a\",\"b\"],\"level\":1}",
		"{\"id\":\"d\",\"deps\":[\"c\"],\"level\":2}",
		NULL
	};
	const char *run = "r-requeue";
	struct au_aw *aw;
	int att = -1;

	plan(run, tasks);
	aw = open_run(db, run);
	is_int(TX(db, au_aw_start(aw)), 0, "requeue: start");
	jv_free(au_aw_drain(aw));
	is_int(claim(aw, "a", &att), 0, "requeue: claim a");
	jv_free(au_aw_drain(aw));
	is_int(report(aw, "a", att, 1), 0, "requeue: a fails");
	is_str_free(drained(aw), "a:running>failed a:failed>dead "
	    "c:pending>skipped d:pending>skipped",
	    "requeue: a dead, c and d skipped");
	is_int(claim(aw, "b", &att), 0, "requeue: claim b");
	is_int(report(aw, "b", att, 0), 0, "requeue: b done");
	is_int(finish(aw), 1, "requeue: finished");
	is_str_free(drained(aw), "b:ready>running b:running>done "
	    "run:running>failed", "requeue: the run failed");
	is_int(TX(db, au_aw_requeue(aw, "a")), 0, "requeue: a");
	is_str_free(drained(aw), "a:dead>ready c:skipped>pending "
	    "d:skipped>pending run:failed>running",
	    "requeue: a ready, c and d pending, the run running");
	is_str_free(tcol(run, "a", "state || ' ' || attempt || ' ' || "
	    "coalesce(exit_code, 'null') || ' ' || coalesce(error, 'null')"),
	    "ready 1 null null", "requeue: a's failure forgotten, its "
	    "attempt kept");
	is_int(claim(aw, "a", &att), 0, "requeue: claim a");
	is_int(att, 2, "requeue: attempt numbers go on (2)");
	is_int(report(aw, "a", att, 0), 0, "requeue: a done");
	is_str_free(drained(aw), "a:ready>running a:running>done "
	    "c:pending>ready", "requeue: c released");
	complete(aw);
	is_str_free(runstate(run), "done", "requeue: the run done");
	check_log(run);
	au_aw_close(aw);
}

/* A requeue must not leave a task pending behind a dependency that is
 * still dead: the run could never finish. */
static void
test_requeue_diamond(void)
{
	static const char *const tasks[] = {
		"{\"id\":\"a\"}",
		"{\"id\":\"b\"}",
		"{\"id\":\"c\",\"deps\":[\"a\",\"b\"],\"level\":1}",
		NULL
	};
	const char *run = "r-diamond";
	struct au_aw *aw;
	int att = -1;

	plan(run, tasks);
	aw = open_run(db, run);
	is_int(TX(db, au_aw_start(aw)), 0, "diamond: start");
	is_int(claim(aw, "a", &att), 0, "diamond: claim a");
	is_int(report(aw, "a", att, 1), 0, "diamond: a fails");
	is_int(claim(aw, "b", &att), 0, "diamond: claim b");
	is_int(report(aw, "b", att, 1), 0, "diamond: b fails");
	is_int(finish(aw), 1, "diamond: finished, failed");
	jv_free(au_aw_drain(aw));
	is_str_free(tcol(run, "c", "state || ': ' || error"),
	    "skipped: dependency \"a\" died", "diamond: c skipped by a");
	is_int(TX(db, au_aw_requeue(aw, "a")), 0, "diamond: requeue a");
	is_str_free(state(run, "c"), "skipped",
	    "diamond: c stays skipped while b is dead");
	is_int(claim(aw, "a", &att), 0, "diamond: claim a");
	is_int(report(aw, "a", att, 0), 0, "diamond: a done");
	is_int(finish(aw), 1, "diamond: the run can finish (b dead, c "
	    "skipped)");
	is_str_free(runstate(run), "failed", "diamond: failed");
	is_int(TX(db, au_aw_requeue(aw, "b")), 0, "diamond: requeue b");
	is_str_free(state(run, "c"), "pending", "diamond: now c is pending");
	complete(aw);
	is_str_free(qtext(db, "SELECT group_concat(id || ':' || state, ' ') "
	    "FROM (SELECT * FROM aw_tasks WHERE run_id = 'r-diamond' ORDER BY "
	    "ord)"), "a:done b:done c:done", "diamond: all done in the end");
	is_str_free(runstate(run), "done", "diamond: the run done");
	check_log(run);
	au_aw_close(aw);
}

/* ---- several schedulers ---- */

/* A process in a group of its own that waits to be killed. */
static pid_t
sleeper(void)
{
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		setpgid(0, 0);
		alarm(10);
		for (;;)
			pause();
	}
	if (pid > 0)
		setpgid(pid, pid);
	return pid;
}

/* A process in a group of its own, running sleep with the environment
 * aw-sched gives an attempt: the pid once it has been executed. */
static pid_t
attempt_process(const char *run, const char *task, int attempt)
{
	char e[3][128], *envp[4], *argv[] = { "sleep", "10", NULL }, c;
	int fds[2];
	pid_t pid;

	snprintf(e[0], sizeof e[0], "AGENTUTILS_RUN=%s", run);
	snprintf(e[1], sizeof e[1], "AGENTUTILS_TASK=%s", task);
	snprintf(e[2], sizeof e[2], "AGENTUTILS_ATTEMPT=%d", attempt);
	envp[0] = e[0];
	envp[1] = e[1];
	envp[2] = e[2];
	envp[3] = NULL;
	if (pipe(fds) != 0)
		return -1;
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		setpgid(0, 0);
		close(fds[0]);
		execve("/bin/sleep", argv, envp);
		_exit(127);
	}
	close(fds[1]);
	if (pid > 0) {
		setpgid(pid, pid);
		/* EOF once the exec closed the other end. */
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
	}
	close(fds[0]);
	return pid;
}

/* A process id that no process has. */
static pid_t
dead_pid(void)
{
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(0);
	child_wait(pid);
	return pid;
}

static void
test_orphan(void)
{
	static const char *const tasks[] = { "{\"id\":\"t\"}",
	    "{\"id\":\"s\"}", NULL };
	const char *run = "r-orphan";
	struct au_aw *aw1, *aw2;
	sqlite3 *db2;
	pid_t kid, envkid;
	jv got;
	int att = -1, att2 = -1, satt = -1;

	if (au_db_open(at("state.db"), &db2) != 0)
		bail("second connection");
	plan(run, tasks);
	aw1 = open_run(db, run);
	aw2 = open_run(db2, run);
	ok(strcmp(au_aw_id(aw1), au_aw_id(aw2)) != 0,
	    "orphan: two schedulers, two ids");
	is_int(TX(db, au_aw_start(aw1)), 0, "orphan: the first starts");
	is_int(claim(aw1, "t", &att), 0, "orphan: and claims t");
	if ((kid = sleeper()) < 0)
		bail("fork");
	is_int(TX(db, au_aw_started(aw1, "t", kid)), 0,
	    "orphan: t's attempt runs as a process group");
	is_int(qint(db, "SELECT count(*) FROM aw_claims WHERE run_id = %Q AND "
	    "task_id = 't' AND pid = %d AND pid_start IS NOT NULL", run,
	    (int)kid), 1, "orphan: its pid and start time noted in the claim");
	is_int(claim(aw1, "s", &satt), 0, "orphan: the first claims s");
	if ((envkid = attempt_process(run, "s", satt)) < 0)
		bail("fork");
	ok(1, "orphan: s's attempt runs, its pid not noted yet");
	jv_free(au_aw_drain(aw1));

	is_int(TX(db2, au_aw_tick(aw2)), 0, "orphan: the second ticks");
	is_str_free(words(au_aw_drain(aw2)), "",
	    "orphan: the first is alive, its task left alone");
	is_int(kill(kid, 0), 0, "orphan: and its process too");

	{
		char sql[256];

		snprintf(sql, sizeof sql, "UPDATE aw_schedulers SET pid = %d "
		    "WHERE id = '%s'", (int)dead_pid(), au_aw_id(aw1));
		exec(db, sql);
	}
	is_int(TX(db2, au_aw_tick(aw2)), 0,
	    "orphan: the second ticks once the first is gone");
	got = au_aw_drain(aw2);
	is_str_free(words(jv_copy(got)), "s:running>interrupted "
	    "s:interrupted>ready t:running>interrupted t:interrupted>ready",
	    "orphan: s and t interrupted, and ready again");
	is_str_free(event_field(got, 2, "reason"),
	    "\"its scheduler is gone\"", "orphan: with the reason");
	is_str_free(event_field(got, 3, "lost"), "1",
	    "orphan: its attempt lost");
	jv_free(got);
	is_int(child_wait(kid), 128 + SIGKILL,
	    "orphan: t's process group, by its pid, was killed");
	is_int(child_wait(envkid), 128 + SIGKILL,
	    "orphan: s's process group, found by its environment, was "
	    "killed");
	is_int(qint(db, "SELECT count(*) FROM aw_claims WHERE run_id = %Q",
	    run), 0, "orphan: the claim is gone");

	is_int(claim_on(db2, aw2, "t", &att2), 0,
	    "orphan: the second claims t");
	is_int(att2, 2, "orphan: attempt 2");
	is_int(report_with(db, aw1, "t", att, &((struct au_aw_result){ 0, 0,
	    0, NULL })), 0, "orphan: the first reports its attempt 1");
	is_str_free(words(au_aw_drain(aw1)), "",
	    "orphan: ignored, t was taken over");
	is_str_free(tcol(run, "t", "state || ' ' || attempt"), "running 2",
	    "orphan: t running attempt 2");
	is_int(report_with(db2, aw2, "t", att2, &((struct au_aw_result){ 0, 0,
	    0, NULL })), 0, "orphan: the second reports t done");
	is_str_free(tcol(run, "t", "state || ' ' || attempt || ' ' || lost"),
	    "done 2 1", "orphan: done at attempt 2, 1 lost");
	jv_free(au_aw_drain(aw2));
	au_aw_close(aw2);
	au_db_close(db2);
	complete(aw1);
	check_log(run);
	au_aw_close(aw1);
}

/* A running attempt whose claim names a batch job is adopted by the next
 * scheduler instead of interrupted; one that names none is interrupted. */
static void
test_adopt(void)
{
	static const char *const tasks[] = { "{\"id\":\"t\"}",
	    "{\"id\":\"s\"}", NULL };
	const char *run = "r-adopt";
	struct au_aw *aw1, *aw2;
	sqlite3 *db2;
	jv list, a;
	char sql[256];
	int att = -1, satt = -1;

	if (au_db_open(at("state.db"), &db2) != 0)
		bail("second connection");
	plan(run, tasks);
	aw1 = open_run(db, run);
	aw2 = open_run(db2, run);
	is_int(TX(db, au_aw_start(aw1)), 0, "adopt: the first starts");
	is_int(TX(db, au_aw_claim(aw1, "t", jv_object_set(worker("w1"),
	    jv_string("job"), jv_string("42")), &att)), 0,
	    "adopt: it claims t as job 42");
	is_int(claim(aw1, "s", &satt), 0, "adopt: and s with no job");
	jv_free(au_aw_drain(aw1));
	is_int(TX(db2, au_aw_adopt(aw2, "job", &list)), 0,
	    "adopt: the second looks");
	is_int(jv_array_length(list), 0, "adopt: the first is alive: none");

	snprintf(sql, sizeof sql, "UPDATE aw_schedulers SET pid = %d WHERE "
	    "id = '%s'", (int)dead_pid(), au_aw_id(aw1));
	exec(db, sql);
	is_int(TX(db2, au_aw_adopt(aw2, "job", &list)), 0,
	    "adopt: the first is gone");
	is_int(jv_array_length(jv_copy(list)), 1, "adopt: one adopted");
	a = jv_array_get(jv_copy(list), 0);
	is_str(au_jv_str(a, "id"), "t", "adopt: t");
	is_str(au_jv_str(a, "job"), "42", "adopt: with its job");
	is_str(au_jv_str(a, "worker"), "w1", "adopt: and its worker");
	ok(au_jv_str(a, "ts") != NULL, "adopt: and when it was claimed");
	is_int(jv_number_value(jv_object_get(jv_copy(a), jv_string(
	    "attempt"))), att, "adopt: its attempt");
	jv_free(a);
	jv_free(list);
	is_int(qint(db, "SELECT count(*) FROM aw_claims WHERE run_id = %Q AND "
	    "task_id = 't' AND scheduler = %Q", run, au_aw_id(aw2)), 1,
	    "adopt: t is claimed by the second now");
	is_int(TX(db2, au_aw_tick(aw2)), 0, "adopt: the second ticks");
	is_str_free(words(au_aw_drain(aw2)), "s:running>interrupted "
	    "s:interrupted>ready", "adopt: s interrupted, t left running");
	is_int(report_with(db2, aw2, "t", att, &((struct au_aw_result){ 0, 0,
	    0, NULL })), 0, "adopt: the second reports t's job done");
	is_str_free(tcol(run, "t", "state || ' ' || attempt || ' ' || lost"),
	    "done 1 0", "adopt: done at attempt 1, nothing lost");
	is_int(claim_on(db2, aw2, "s", &satt), 0, "adopt: the second claims s");
	is_int(report_with(db2, aw2, "s", satt, &((struct au_aw_result){ 0, 0,
	    0, NULL })), 0, "adopt: and reports it done");
	jv_free(au_aw_drain(aw2));
	au_aw_close(aw2);
	au_db_close(db2);
	check_log(run);
	au_aw_close(aw1);
}

/* A scheduler of another host is gone when its leases run out. */
static void
test_lease(void)
{
	static const char *const tasks[] = { "{\"id\":\"t1\"}",
	    "{\"id\":\"t2\"}", NULL };
	const char *run = "r-lease";
	struct au_aw *aw1, *aw2;
	sqlite3 *db2;
	char sql[256];
	int a1 = -1, a2 = -1;

	if (au_db_open(at("state.db"), &db2) != 0)
		bail("second connection");
	plan(run, tasks);
	aw1 = open_run(db, run);
	aw2 = open_run(db2, run);
	is_int(TX(db, au_aw_start(aw1)), 0, "lease: start");
	au_aw_set_lease(aw1, 60000);
	is_int(claim(aw1, "t1", &a1), 0, "lease: claim t1 for a minute");
	au_aw_set_lease(aw1, 1);
	is_int(claim(aw1, "t2", &a2), 0, "lease: claim t2 for 1ms");
	snprintf(sql, sizeof sql, "UPDATE aw_schedulers SET host = "
	    "'elsewhere.invalid' WHERE id = '%s'", au_aw_id(aw1));
	exec(db, sql);
	jv_free(au_aw_drain(aw1));
	nap(5);
	is_int(TX(db2, au_aw_tick(aw2)), 0, "lease: another scheduler ticks");
	is_str_free(words(au_aw_drain(aw2)), "t2:running>interrupted "
	    "t2:interrupted>ready",
	    "lease: t2's lease ran out, taken over; t1's holds");
	is_str_free(state(run, "t1"), "running", "lease: t1 still running");
	au_aw_set_lease(aw1, 60000);
	is_int(report(aw1, "t1", a1, 0), 0, "lease: t1 done");
	au_aw_close(aw2);
	au_db_close(db2);
	complete(aw1);
	is_str_free(runstate(run), "done", "lease: the run done");
	check_log(run);
	au_aw_close(aw1);
}

/* A report or interrupt for an attempt that is over must change nothing:
 * not the claim of the attempt that runs now either. */
static void
test_stale(void)
{
	static const char *const tasks[] = {
		"{\"id\":\"t\",\"retry\":{\"attempts\":3}}",
		"{\"id\":\"u\",\"retry\":{\"attempts\":3}}",
		NULL
	};
	const char *run = "r-stale";
	struct au_aw *aw;
	int t = -1, u = -1;

	plan(run, tasks);
	aw = open_run(db, run);
	is_int(TX(db, au_aw_start(aw)), 0, "stale: start");
	is_int(claim(aw, "t", &t), 0, "stale: claim t");
	is_int(claim(aw, "u", &u), 0, "stale: claim u");
	is_int(report(aw, "t", t, 1), 0, "stale: t fails");
	is_int(report(aw, "u", u, 1), 0, "stale: u fails");
	is_int(tick(aw), 0, "stale: tick");
	is_int(claim(aw, "t", &t), 0, "stale: claim t again");
	is_int(claim(aw, "u", &u), 0, "stale: claim u again");
	ok(t == 2 && u == 2, "stale: both at attempt 2");
	jv_free(au_aw_drain(aw));

	is_int(report(aw, "t", 1, 0), 0, "stale: a report for t's attempt 1");
	is_str_free(drained(aw), "", "stale: no event");
	is_int(qint(db, "SELECT attempt FROM aw_claims WHERE run_id = %Q AND "
	    "task_id = 't'", run), 2, "stale: t's claim for attempt 2 stays");
	is_int(TX(db, au_aw_interrupt(aw, "u", 1, "late")), 0,
	    "stale: an interrupt for u's attempt 1");
	is_str_free(drained(aw), "", "stale: no event");
	is_int(qint(db, "SELECT attempt FROM aw_claims WHERE run_id = %Q AND "
	    "task_id = 'u'", run), 2, "stale: u's claim for attempt 2 stays");
	is_int(tick(aw), 0, "stale: tick");
	is_str_free(drained(aw), "",
	    "stale: our own running attempts are not taken for orphans");
	is_str_free(qtext(db, "SELECT group_concat(id || ':' || state || ':' "
	    "|| attempt || ':' || lost, ' ') FROM (SELECT * FROM aw_tasks "
	    "WHERE run_id = 'r-stale' ORDER BY ord)"),
	    "t:running:2:0 u:running:2:0", "stale: both still at attempt 2");
	report(aw, "t", t, 0);
	report(aw, "u", u, 0);
	complete(aw);
	check_log(run);
	au_aw_close(aw);
}

/* Events of a transaction rolled back are not handed out: they never
 * happened. */
static void
test_rollback(void)
{
	static const char *const tasks[] = { "{\"id\":\"a\"}",
	    "{\"id\":\"b\"}", NULL };
	const char *run = "r-rb";
	struct au_aw *aw;
	jv got;
	int att = -1;

	plan(run, tasks);
	aw = open_run(db, run);
	is_int(TX(db, au_aw_start(aw)), 0, "rollback: start");
	jv_free(au_aw_drain(aw));
	is_int(au_db_begin(db), 0, "rollback: begin");
	is_int(au_aw_claim(aw, "a", worker("w1"), &att), 0,
	    "rollback: claim a");
	au_db_rollback(db);
	is_str_free(state(run, "a"), "ready", "rollback: a is ready");
	is_str_free(words(au_aw_pending(aw)), "",
	    "rollback: au_aw_pending has no event of it");
	is_str_free(drained(aw), "", "rollback: au_aw_drain hands out none");
	is_int(au_db_begin(db), 0, "rollback: begin");
	is_int(au_aw_claim(aw, "a", worker("w1"), &att), 0,
	    "rollback: claim a");
	is_int(au_aw_claim(aw, "b", worker("w1"), &att), 0,
	    "rollback: claim b, in one transaction");
	is_int(au_db_commit(db), 0, "rollback: commit");
	got = au_aw_drain(aw);
	is_str_free(words(jv_copy(got)), "a:ready>running b:ready>running",
	    "rollback: drained, the committed events only");
	is_str_free(event_field(got, 0, "seq"), "4", "rollback: seq 4");
	is_str_free(event_field(got, 1, "seq"), "5", "rollback: seq 5");
	jv_free(got);
	report(aw, "a", 1, 0);
	report(aw, "b", 1, 0);
	complete(aw);
	check_log(run);
	au_aw_close(aw);
}

int
main(void)
{
	tmpdir_make("test-aw");
	au_setprog("test-aw");
	setenv("AGENTUTILS_BUSY_TIMEOUT", "2s", 1);
	if (au_db_open(at("state.db"), &db) != 0)
		bail("open %s", at("state.db"));
	test_states();
	test_backoff();
	test_store();
	test_basic();
	test_tamper();
	test_fail();
	test_codes();
	test_illegal();
	test_interrupt();
	test_approval();
	test_expire();
	test_cancel();
	test_pause();
	test_requeue();
	test_requeue_diamond();
	test_orphan();
	test_adopt();
	test_lease();
	test_stale();
	test_rollback();
	au_db_close(db);
	tmpdir_remove();
	return done();
}
