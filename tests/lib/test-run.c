/*
 * test-run.c - run.c, the embedding API, on a state file in a mkdtemp
 * directory, as another runtime would call it: au_run_open with a plan
 * (stored once), with a run id, with neither or both (64), an unknown
 * run (66), a bad plan (65); ready, claim and next (0 with a task, 1 none
 * now, 2 over); report (done, failed and retried by the task's policy, a
 * stale attempt ignored); events after a seq as NDJSON; answer (approve,
 * deny, twice 1, unknown 66); a paused run handing out nothing, and a
 * cancelled one over; two handles sharing a run; every string released
 * with au_free.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

static const char *dbpath;

static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&ts, NULL);
}

static void
bail(const char *what)
{
	printf("Bail out! %s (%s)\n", what, au_errmsg());
	exit(2);
}

/* is_str of a string the library returned, released with au_free. */
#define is_str_au(got, want, ...) do { \
	char *got_ = (got); \
	is_str(got_, (want), __VA_ARGS__); \
	au_free(got_); \
} while (0)

/* A column of a task of run, as text (malloc'd), through a connection of
 * our own. */
static char *
tcol(const char *run, const char *task, const char *col)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *q, *v = NULL;

	if (au_db_open(dbpath, &db) != 0)
		bail("open");
	q = sqlite3_mprintf("SELECT %s FROM aw_tasks WHERE run_id = %Q AND "
	    "id = %Q", col, run, task);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL)
			v = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_free(q);
	au_db_close(db);
	return v;
}

static char *
runstate(const char *run)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *v = NULL;

	if (au_db_open(dbpath, &db) != 0)
		bail("open");
	if (sqlite3_prepare_v2(db, "SELECT state FROM aw_runs WHERE id = ?1",
	    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			v = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	au_db_close(db);
	return v;
}

/* Steer run as aw-ctl does, through a handle of its own: pause (1),
 * resume (0) or cancel (2). */
static int
steer(const char *run, int what)
{
	struct au_aw *aw;
	sqlite3 *db;
	int rc;

	if (au_db_open(dbpath, &db) != 0)
		bail("open");
	if ((rc = au_aw_open(db, run, "aw-ctl", &aw)) == 0) {
		if ((rc = au_db_begin(db)) == 0) {
			rc = what == 2 ? au_aw_cancel(aw, NULL, "stop") :
			    au_aw_pause(aw, what);
			if (rc == 0)
				rc = au_db_commit(db);
			else
				au_db_rollback(db);
		}
		au_aw_close(aw);
	}
	au_db_close(db);
	return rc;
}

/* The NDJSON text of events (borrowed) as "task:from>to" words. */
static char *
words(const char *ndjson)
{
	struct au_buf b = AU_BUF_INIT;
	const char *p = ndjson, *nl;

	au_buf_grow(&b, 1);
	while (p && *p) {
		jv e;
		const char *t;

		nl = strchr(p, '\n');
		e = jv_parse_sized(p, nl ? (int)(nl - p) : (int)strlen(p));
		t = au_jv_str(e, "task");
		au_buf_addf(&b, "%s%s:%s>%s", b.len ? " " : "", t ? t : "run",
		    au_jv_str(e, "from") ? au_jv_str(e, "from") : "?",
		    au_jv_str(e, "to") ? au_jv_str(e, "to") : "?");
		jv_free(e);
		p = nl ? nl + 1 : NULL;
	}
	return b.s;
}

/* The events of r after seq, as words. */
static char *
events(struct au_run *r, int64_t after)
{
	char *text = NULL, *w;
	int rc;

	if ((rc = au_run_events(r, after, &text)) != 0)
		return au_xasprintf("(failed with %d: %s)", rc, au_errmsg());
	w = words(text);
	au_free(text);
	return w;
}

/* The number of lines of the events of r. */
static int
nevents(struct au_run *r)
{
	char *text = NULL, *p;
	int n = 0;

	if (au_run_events(r, 0, &text) != 0)
		return -1;
	for (p = text; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	au_free(text);
	return n;
}

#define RUN(id) "{\"type\":\"run\",\"id\":\"" id "\",\"ts\":" \
	"\"2026-01-01T00:00:00.000Z\",\"tasks\":4,\"levels\":2}\n"

static const char plan1[] =
	RUN("run-1")
	"{\"type\":\"task\",\"id\":\"a\",\"kind\":\"run\",\"run\":\"make a\","
	"\"needs\":[\"gpu\"],\"run_id\":\"run-1\",\"order\":1,\"level\":0}\n"
	"\n"
	"{\"type\":\"task\",\"id\":\"b\",\"kind\":\"run\",\"run\":\"make b\","
	"\"priority\":2,\"run_id\":\"run-1\",\"order\":2,\"level\":0}\n"
	"{\"type\":\"task\",\"id\":\"c\",\"kind\":\"run\",\"run\":\"make c\","
	"\"deps\":[\"a\",\"b\"],\"retry\":{\"attempts\":2,\"delay\":\"1ms\"},"
	"\"run_id\":\"run-1\",\"order\":3,\"level\":1}\n"
	"{\"type\":\"task\",\"id\":\"d\",\"kind\":\"run\",\"run\":\"ship\","
	"\"deps\":[\"c\"],\"approval\":\"required\",\"run_id\":\"run-1\","
	"\"order\":4,\"level\":2}\n";

static void
test_open(void)
{
	struct au_run *r = (struct au_run *)&r;

	is_int(au_run_open(dbpath, NULL, NULL, &r), EX_USAGE,
	    "open: neither a run nor a plan, 64");
	ok(r == NULL, "open: and no handle");
	is_str(au_errmsg(), "au_run_open: give either a run id or a plan",
	    "open: says so");
	is_int(au_run_open(dbpath, "run-1", plan1, &r), EX_USAGE,
	    "open: both, 64");
	ok(r == NULL, "open: and no handle");
	is_int(au_run_open(dbpath, "run-1", NULL, &r), EX_NOINPUT,
	    "open: a run that is not stored, 66");
	is_str(au_errmsg(), "no run \"run-1\" in the state file",
	    "open: says so");
	ok(r == NULL, "open: and no handle");
	is_int(au_run_open(dbpath, NULL, RUN("run-x") "{\"type\":\"task\","
	    "\"id\":\"a\",\"order\":1,\"level\":0}\n{\"type\":\n", &r),
	    EX_DATAERR, "open: a plan with a bad line, 65");
	is_str(au_errmsg(), "plan:3: invalid JSON", "open: says where");
	is_int(au_run_open(dbpath, NULL, "{\"type\":\"task\",\"id\":\"a\","
	    "\"order\":1,\"level\":0}\n", &r), EX_DATAERR,
	    "open: a plan without a run record, 65");
	is_str(au_errmsg(), "plan: no run record", "open: says so");
	is_int(au_run_open(dbpath, NULL, RUN("run-x") "{\"id\":\"a\","
	    "\"run\":\"true\"}\n", &r), EX_DATAERR,
	    "open: task specs not planned yet, 65");
	is_str(au_errmsg(), "plan:2: not a record of a plan (plan tasks with "
	    "aw-plan first)", "open: says what to do");
	is_int(au_run_open(dbpath, "run-x", NULL, &r), EX_NOINPUT,
	    "open: nothing of the bad plans was stored");
	is_int(au_run_open("/dev/null/state.db", NULL, plan1, &r),
	    EX_CANTCREAT, "open: a state file that cannot be made, 73");
	ok(r == NULL, "open: and no handle");
}

static void
test_run(void)
{
	struct au_run *r = NULL, *r2 = NULL;
	char *json = NULL, *task = NULL, *rec = NULL, *text = NULL, *id;
	int att = -1, att2 = -1, n;

	is_int(au_run_open(dbpath, NULL, plan1, &r), 0,
	    "open: with a plan (a blank line in it)");
	if (r == NULL)
		bail("open run-1");
	is_str(au_run_id(r), "run-1", "open: the run's id");
	is_int(nevents(r), 0, "open: the run has not started");
	is_int(au_run_open(dbpath, NULL, plan1, &r2), 0,
	    "open: the same plan again");
	is_int(nevents(r2), 0, "open: nothing new");
	au_run_close(r2);
	r2 = NULL;

	is_int(au_run_ready(r, &json), 0, "ready: the first call starts it");
	is_str_au(json, "[{\"id\":\"b\",\"needs\":[]},{\"id\":\"a\","
	    "\"needs\":[\"gpu\"]}]", "ready: b then a, with their needs");
	is_str_free(events(r, 0), "run:planned>running a:pending>ready "
	    "b:pending>ready", "events: the start");
	is_str_free(runstate("run-1"), "running", "ready: the run runs");

	rec = (char *)&rec;
	is_int(au_run_claim(r, "c", &att, &rec), 1,
	    "claim: a pending task, 1");
	ok(rec == NULL, "claim: and no record");
	is_str(au_errmsg(), "task \"c\" is pending, not ready",
	    "claim: says so");
	is_int(au_run_claim(r, "nope", &att, &rec), EX_NOINPUT,
	    "claim: no such task, 66");
	is_int(au_run_claim(r, "a", &att, &rec), 0, "claim: a");
	is_int(att, 1, "claim: attempt 1");
	is_str_au(rec, "{\"type\":\"task\",\"id\":\"a\",\"kind\":\"run\","
	    "\"run\":\"make a\",\"needs\":[\"gpu\"],\"run_id\":\"run-1\","
	    "\"order\":1,\"level\":0}", "claim: a's record, as planned");
	is_int(au_run_claim(r, "a", &att, &rec), 1, "claim: a again, 1");

	/* A second worker on the same run. */
	is_int(au_run_open(dbpath, "run-1", NULL, &r2), 0,
	    "open: a second handle, by the run's id");
	if (r2 == NULL)
		bail("open run-1 by id");
	is_int(au_run_next(r2, &task, &rec, &att2), 0,
	    "next: the second gets a task");
	is_str_au(task, "b", "next: b, the only one ready");
	is_int(att2, 1, "next: attempt 1");
	ok(rec != NULL && strstr(rec, "\"id\":\"b\"") != NULL,
	    "next: with its record");
	au_free(rec);
	task = rec = (char *)&rec;
	is_int(au_run_next(r, &task, &rec, &att), 1,
	    "next: nothing ready now, 1");
	ok(task == NULL && rec == NULL, "next: and no task");
	is_str_free(tcol("run-1", "a", "state"), "running",
	    "next: the first's task left alone");

	is_int(au_run_report(r, "a", 1, 0, NULL), 0, "report: a done");
	is_int(au_run_report(r2, "b", 1, 0, NULL), 0, "report: b done");
	is_str_free(events(r, 5), "a:running>done b:running>done "
	    "c:pending>ready", "events: after 5, a and b done, c released");
	au_run_close(r2);
	r2 = NULL;

	is_int(au_run_next(r, &task, &rec, &att), 0, "next: c");
	is_str_au(task, "c", "next: c");
	au_free(rec);
	is_int(au_run_report(r, "c", att, 3, "it broke"), 0,
	    "report: c failed");
	is_str_free(tcol("run-1", "c", "state || ' ' || exit_code || ' ' || "
	    "error"), "retrying 3 it broke",
	    "report: c retrying by its policy, with the error given");
	nap(3);
	is_int(au_run_next(r, &task, &rec, &att), 0, "next: c again");
	is_str_au(task, "c", "next: c, due");
	au_free(rec);
	is_int(att, 2, "next: attempt 2");
	is_int(au_run_report(r, "c", att, 0, NULL), 0, "report: c done");

	/* d waits for an approval. */
	task = rec = (char *)&rec;
	is_int(au_run_next(r, &task, &rec, &att), 1,
	    "next: only d is left, waiting for its approval: 1");
	ok(task == NULL && rec == NULL, "next: and no task");
	id = tcol("run-1", "d", "approval_id");
	if (id == NULL)
		bail("no approval for d");
	if (au_run_events(r, 0, &text) != 0)
		bail("events");
	ok(strstr(text, id) != NULL,
	    "events: the request's id is in d's event");
	au_free(text);
	is_int(au_run_answer(r, "nope", 1, NULL), EX_NOINPUT,
	    "answer: no such request, 66");
	is_int(au_run_answer(r, id, 1, "go"), 0, "answer: approve");
	is_int(au_run_answer(r, id, 0, "no"), 1, "answer: again, 1");
	{
		sqlite3 *db;
		jv req;

		if (au_db_open(dbpath, &db) != 0 ||
		    au_approval_get(db, id, &req) != 0)
			bail("approval");
		is_str(au_jv_str(req, "status"), "approved",
		    "answer: approved");
		is_str(au_jv_str(req, "decided_by"), "au_run",
		    "answer: decided by au_run");
		is_str(au_jv_str(req, "reason"), "go", "answer: the reason");
		jv_free(req);
		au_db_close(db);
	}
	free(id);
	is_int(au_run_next(r, &task, &rec, &att), 0, "next: d, approved");
	is_str_au(task, "d", "next: d");
	au_free(rec);
	is_int(au_run_report(r, "d", att, 0, NULL), 0, "report: d done");
	is_str_free(runstate("run-1"), "done",
	    "report: the last one ends the run");
	task = rec = (char *)&rec;
	is_int(au_run_next(r, &task, &rec, &att), 2, "next: the run is "
	    "over, 2");
	ok(task == NULL && rec == NULL, "next: and no task");
	is_int(au_run_ready(r, &json), 0, "ready: of a finished run");
	is_str_au(json, "[]", "ready: none");

	n = nevents(r);
	is_int(n, 18, "events: 18 in all");
	is_str_free(events(r, (int64_t)n - 2), "d:running>done "
	    "run:running>done", "events: the last two");
	if (au_run_events(r, (int64_t)n, &text) != 0)
		bail("events");
	is_str_au(text, "", "events: after the last, the empty string");
	if (au_run_events(r, 0, &text) != 0)
		bail("events");
	{
		jv e = jv_parse_sized(text, (int)(strchr(text, '\n') - text));

		is_str(au_jv_str(e, "type"), "run.event",
		    "events: the first is a run.event record");
		is_str(au_jv_str(e, "run_id"), "run-1", "events: of run-1");
		jv_free(e);
	}
	ok(text[strlen(text) - 1] == '\n', "events: each line ends");
	au_free(text);
	{
		sqlite3 *db;
		jv problems;

		if (au_db_open(dbpath, &db) != 0)
			bail("open");
		is_int(au_aw_replay(db, "run-1", &problems), 0,
		    "replay: the run's tables derive from its events");
		jv_free(problems);
		au_db_close(db);
	}
	au_run_close(r);
}

static const char plan2[] =
	RUN("run-2")
	"{\"type\":\"task\",\"id\":\"a\",\"run\":\"x\",\"run_id\":\"run-2\","
	"\"order\":1,\"level\":0}\n"
	"{\"type\":\"task\",\"id\":\"b\",\"run\":\"y\",\"run_id\":\"run-2\","
	"\"order\":2,\"level\":0}\n"
	"{\"type\":\"task\",\"id\":\"c\",\"run\":\"z\",\"approval\":"
	"\"required\",\"run_id\":\"run-2\",\"order\":3,\"level\":0}\n"
	"{\"type\":\"task\",\"id\":\"e\",\"deps\":[\"c\"],\"run_id\":"
	"\"run-2\",\"order\":4,\"level\":1}";

static void
test_steer(void)
{
	struct au_run *r = NULL;
	char *task = NULL, *rec = NULL, *id;
	int att = -1;

	setenv("AGENTUTILS_DB", dbpath, 1);
	is_int(au_run_open(NULL, NULL, plan2, &r), 0, "open: the state file "
	    "of $AGENTUTILS_DB (a plan without a last newline)");
	if (r == NULL)
		bail("open run-2");
	unsetenv("AGENTUTILS_DB");

	is_int(steer("run-2", 1), 0, "pause: the run, before it starts");
	task = rec = (char *)&rec;
	is_int(au_run_next(r, &task, &rec, &att), 1,
	    "next: a paused run hands out nothing, 1");
	ok(task == NULL && rec == NULL, "next: and no task");
	is_str_free(tcol("run-2", "a", "state"), "ready",
	    "next: though a is ready");
	is_int(au_run_claim(r, "a", &att, &rec), 1,
	    "claim: a task of a paused run, 1");
	is_str(au_errmsg(), "run run-2 is paused", "claim: says so");
	is_str_free(tcol("run-2", "a", "state"), "ready",
	    "claim: a stays ready");
	is_int(steer("run-2", 0), 0, "resume");
	is_int(au_run_next(r, &task, &rec, &att), 0, "next: a task again");
	is_str_au(task, "a", "next: a");
	au_free(rec);
	is_int(au_run_report(r, "a", att, 0, "no output"), 0,
	    "report: exit 0 with an error");
	is_str_free(tcol("run-2", "a", "state || ' ' || error"),
	    "dead no output", "report: is a failure, not retried by default");

	id = tcol("run-2", "c", "approval_id");
	if (id == NULL)
		bail("no approval for c");
	is_int(au_run_answer(r, id, 0, "not today"), 0, "answer: deny");
	free(id);
	is_int(au_run_claim(r, "b", &att, &rec), 0, "claim: b");
	au_free(rec);
	is_str_free(tcol("run-2", "c", "state || ' ' || error"),
	    "dead approval denied: not today", "answer: c dead, denied");
	is_str_free(tcol("run-2", "e", "state"), "skipped",
	    "answer: e skipped");

	is_int(steer("run-2", 2), 0, "cancel: the run");
	task = rec = (char *)&rec;
	is_int(au_run_next(r, &task, &rec, &att), 2,
	    "next: a cancelled run is over, 2");
	ok(task == NULL && rec == NULL, "next: and no task");
	is_int(au_run_report(r, "b", 1, 0, NULL), 0,
	    "report: b's attempt ends, 0");
	is_str_free(tcol("run-2", "b", "state"), "cancelled",
	    "report: b stays cancelled");
	is_str_free(runstate("run-2"), "cancelled",
	    "the run stays cancelled");
	au_run_close(r);
	au_run_close(NULL);
	au_free(NULL);
	ok(1, "au_run_close(NULL) and au_free(NULL) do nothing");
}

static const char plan3[] =
	RUN("run-3")
	"{\"type\":\"task\",\"id\":\"t\",\"run\":\"x\",\"run_id\":\"run-3\","
	"\"order\":1,\"level\":0}\n";

/* A report for an attempt that is not the task's changes nothing, not
 * even at the next turn. */
static void
test_stale(void)
{
	struct au_run *r = NULL;
	char *task = NULL, *rec = NULL, *json = NULL;
	int att = -1;

	is_int(au_run_open(dbpath, NULL, plan3, &r), 0, "stale: open");
	if (r == NULL)
		bail("open run-3");
	is_int(au_run_next(r, &task, &rec, &att), 0, "stale: next");
	is_str_au(task, "t", "stale: t");
	au_free(rec);
	is_int(att, 1, "stale: attempt 1");
	is_int(au_run_report(r, "t", 2, 0, NULL), 0,
	    "stale: a report for attempt 2, 0");
	is_str_free(tcol("run-3", "t", "state || ' ' || attempt"),
	    "running 1", "stale: ignored");
	is_int(au_run_ready(r, &json), 0, "stale: the next turn");
	au_free(json);
	is_str_free(tcol("run-3", "t", "state || ' ' || attempt"),
	    "running 1", "stale: t still runs its attempt 1");
	is_str_free(events(r, 2), "t:ready>running",
	    "stale: no event since the claim");
	is_int(au_run_report(r, "t", 1, 0, NULL), 0, "stale: t done");
	is_str_free(runstate("run-3"), "done", "stale: the run done");
	task = rec = (char *)&rec;
	is_int(au_run_next(r, &task, &rec, &att), 2, "stale: over, 2");
	au_free(task);
	au_free(rec);
	au_run_close(r);
}

int
main(void)
{
	tmpdir_make("test-run");
	au_setprog("test-run");
	unsetenv("AGENTUTILS_DB");
	dbpath = strdup(at("state.db"));
	test_open();
	test_run();
	test_steer();
	test_stale();
	tmpdir_remove();
	return done();
}
