/*
 * scaledrv - the writer of tests/bench/scale: runs of tiny tasks driven
 * through lib/aw.c with the transactions aw-sched makes, with no process
 * behind a task, so that what is measured is the event log in the state
 * file and not fork and exec.
 *
 *   scaledrv DB RUNS TASKS JOBS
 *
 * stores RUNS plans of TASKS independent tasks each (the command true,
 * the records as aw-plan writes them) in the state file DB, with
 * au_aw_store as aw-plan does, and runs each as aw-sched -jJOBS does:
 * turn after turn, one write transaction a turn with the housekeeping
 * tick (every 50 ms, or when nothing runs), the attempts claimed in the
 * turn before ended with status 0 (au_aw_ended, au_aw_report), up to
 * JOBS ready tasks claimed (au_aw_claim, and the record read for the
 * task's standard input), and the run finished once nothing runs; then
 * the events are drained.  The tasks take no time: each ends in the turn
 * after its claim.
 *
 * A writer that finds the state file locked by another waits as the
 * library's busy timeout does (SQLite's sleeps of 1, 2, 5 ... 100 ms, up
 * to 5 s in all, or $AGENTUTILS_BUSY_TIMEOUT), through a busy
 * handler of its own that counts those sleeps.
 *
 * After each run it prints one line: the run's number, the events it
 * drained, the nanoseconds since the first plan was stored, the
 * microseconds of CPU used (user and system), the write transactions, the
 * sleeps for a busy state file, the milliseconds slept, and the bytes of
 * DB and its -wal.  Exit with the library's exit code on an error; when
 * the state file stayed busy past the timeout, the line of the run so far
 * first, and 75.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "agentutils.h"

struct tally {
	int64_t events, txns, sleeps, slept_ms, timeout_ms;
};

/* What the line after each run reports, and what it is about. */
static struct tally tally = { 0, 0, 0, 0, 5000 };
static const char *dbpath;
static char *walpath;
static int64_t t0;
static int runno;

struct gen {
	const char *run;
	int n, i;
	char id[32], rec[256];
};

static int64_t
nsnow(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void report(void);

static void
ok(int rc)
{
	if (rc == EX_TEMPFAIL)
		report();
	if (rc != 0)
		au_die(rc, "%s", au_errmsg());
}

/* au_aw_store's source: task i of the plan, as aw-plan writes it. */
static int
next(void *arg, struct au_aw_task *t)
{
	struct gen *g = arg;
	int len;

	if (g->i == g->n)
		return 0;
	g->i++;
	snprintf(g->id, sizeof g->id, "t%d", g->i);
	len = snprintf(g->rec, sizeof g->rec, "{\"type\":\"task\",\"id\":\"%s\","
	    "\"kind\":\"run\",\"run\":\"true\",\"run_id\":\"%s\","
	    "\"order\":%d,\"level\":0}", g->id, g->run, g->i);
	memset(t, 0, sizeof *t);
	t->id = g->id;
	t->idlen = strlen(g->id);
	t->order = g->i;
	t->kind = "run";
	t->record = g->rec;
	t->reclen = (size_t)len;
	return 1;
}

static void
store(sqlite3 *db, int tasks, char run[AU_ID_LEN])
{
	struct gen g = { run, tasks, 0, "", "" };
	struct au_aw_run r;
	char ts[AU_TS_LEN];
	char *rec;

	au_ulid(run);
	au_ts_fmt(au_now_ms(), ts);
	rec = au_xasprintf("{\"type\":\"run\",\"id\":\"%s\",\"ts\":\"%s\","
	    "\"tasks\":%d,\"levels\":1}", run, ts, tasks);
	r.id = run;
	r.ts = ts;
	r.goal = NULL;
	r.record = rec;
	r.tasks = tasks;
	r.levels = 1;
	ok(au_aw_store(db, &r, next, &g));
	free(rec);
}

/* SQLite's busy timeout, counted: the sleeps of sqliteDefaultBusyCallback,
 * until the timeout is spent. */
static int
busy(void *arg, int count)
{
	static const int delays[] = { 1, 2, 5, 10, 15, 20, 25, 25, 25, 50,
		50, 100 };
	static const int totals[] = { 0, 1, 3, 8, 18, 33, 53, 78, 103, 128,
		178, 228 };
	struct tally *t = arg;
	int n = (int)(sizeof delays / sizeof delays[0]);
	int64_t delay, prior;
	struct timespec ts;

	if (count < n) {
		delay = delays[count];
		prior = totals[count];
	} else {
		delay = delays[n - 1];
		prior = totals[n - 1] + delay * (count - (n - 1));
	}
	if (prior + delay > t->timeout_ms)
		delay = t->timeout_ms - prior;
	if (delay <= 0)
		return 0;
	ts.tv_sec = delay / 1000;
	ts.tv_nsec = (long)(delay % 1000) * 1000000;
	nanosleep(&ts, NULL);
	t->sleeps++;
	t->slept_ms += delay;
	return 1;
}

static int64_t
cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static void
drive(sqlite3 *db, const char *run, int jobs, struct tally *t)
{
	char **task = au_xcalloc((size_t)jobs, sizeof *task);
	int *attempt = au_xcalloc((size_t)jobs, sizeof *attempt);
	int64_t *started = au_xcalloc((size_t)jobs, sizeof *started);
	int64_t now, lasttick = 0;
	int nrun = 0, started_run = 0, finished = 0, i, n, rc;
	struct au_aw *aw;
	jv ready, events;

	ok(au_aw_open(db, run, "scaledrv", &aw));
	while (!finished) {
		now = au_now_ms();
		ok(au_db_begin(db));
		t->txns++;
		if (!started_run)
			ok(au_aw_start(aw));
		started_run = 1;
		if (now - lasttick >= 50 || nrun == 0) {
			ok(au_aw_tick(aw));
			lasttick = now;
		}
		for (i = 0; i < nrun; i++) {
			struct au_aw_attempt a = { "local", "true", NULL, NULL,
			    0, started[i], now, 0, 0, 0, 0, 0 };
			struct au_aw_result r = { 0, 0, 0, NULL };

			ok(au_aw_ended(aw, task[i], attempt[i], &a));
			ok(au_aw_report(aw, task[i], attempt[i], &r,
			    jv_object_set(jv_object(), jv_string("duration_ms"),
			    jv_number((double)(now - started[i])))));
			free(task[i]);
		}
		nrun = 0;
		ready = au_aw_ready(aw, jobs);
		if (!jv_is_valid(ready))
			au_die(EX_IOERR, "%s", au_errmsg());
		n = jv_array_length(jv_copy(ready));
		for (i = 0; i < n; i++) {
			jv r = jv_array_get(jv_copy(ready), i);

			rc = au_aw_claim(aw, au_jv_str(r, "id"),
			    jv_object_set(jv_object(), jv_string("worker"),
			    jv_string("local")), &attempt[nrun]);
			if (rc > 1)
				ok(rc);
			if (rc == 0) {
				task[nrun] = au_xstrdup(au_jv_str(r, "id"));
				free(au_aw_record(aw, task[nrun]));
				started[nrun++] = now;
			}
			jv_free(r);
		}
		jv_free(ready);
		if (nrun == 0)
			ok(au_aw_finish(aw, &finished));
		ok(au_db_commit(db));
		events = au_aw_drain(aw);
		t->events += jv_array_length(jv_copy(events));
		jv_free(events);
	}
	au_aw_close(aw);
	free(task);
	free(attempt);
	free(started);
}

static long long
bytes(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* The line of the runs so far. */
static void
report(void)
{
	printf("%d %lld %lld %lld %lld %lld %lld %lld %lld\n", runno,
	    (long long)tally.events, (long long)(nsnow() - t0),
	    (long long)cpu_us(), (long long)tally.txns,
	    (long long)tally.sleeps, (long long)tally.slept_ms,
	    bytes(dbpath), bytes(walpath));
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	const char *e = getenv("AGENTUTILS_BUSY_TIMEOUT");
	char run[AU_ID_LEN];
	int runs, tasks, jobs;
	sqlite3 *db;

	au_setprog(argv[0]);
	if (argc != 5 || (runs = atoi(argv[2])) < 1 ||
	    (tasks = atoi(argv[3])) < 1 || (jobs = atoi(argv[4])) < 1)
		au_die(EX_USAGE, "usage: scaledrv DB RUNS TASKS JOBS");
	if (e != NULL && au_dur_parse(e, &tally.timeout_ms) != 0)
		au_die(EX_USAGE, "AGENTUTILS_BUSY_TIMEOUT: %s", au_errmsg());
	dbpath = argv[1];
	walpath = au_xasprintf("%s-wal", dbpath);
	t0 = nsnow();
	ok(au_db_open(dbpath, &db));
	sqlite3_busy_handler(db, busy, &tally);
	for (runno = 1; runno <= runs; runno++) {
		store(db, tasks, run);
		drive(db, run, jobs, &tally);
		report();
	}
	free(walpath);
	au_db_close(db);
	return 0;
}
