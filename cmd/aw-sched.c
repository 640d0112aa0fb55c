/*
 * aw-sched - execute a run: launch its ready tasks on workers with free
 * slots, follow them, retry or bury them by their policy, and write every
 * transition as a task.event record, the way make -j and GNU parallel do
 * but with every step in the state file first.
 *
 * One loop: a transaction does the bookkeeping of a turn (results in,
 * retries due, approvals, tasks claimed), then the claimed tasks start,
 * then we wait in poll(2) for output, ends of children, signals and
 * timers.  A transition is committed before we act on it, so a kill -9
 * at any moment leaves a state file the next aw-sched --run resumes from.
 *
 * With --executor slurm an attempt is a Slurm job instead of a child:
 * submitted held in the turn that claims it, its job id in the claim's
 * event, released once that is committed, followed by its result file
 * and squeue, and adopted by the next aw-sched of the run if we die.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentutils.h"
#include "aw-sched/slurm.h"

enum {
	O_WORKERS = AU_LONG, O_RUN, O_RETRY, O_FAILFAST, O_NOWAIT,
	O_APPROVAL, O_GRACE, O_JOBLOG, O_LOGCAP, O_LEASE, O_NOAUDIT, O_EXECUTOR
};

static const struct au_opt opts[] = {
	{ 'j', "jobs", "N", "run up to N tasks at once (default: the "
	    "processors)", NULL },
	{ O_WORKERS, "workers", "FILE", "the workers, their capabilities and "
	    "slots", "FILE" },
	{ O_RUN, "run", "ID", "resume the stored run ID", NULL },
	{ O_RETRY, "retry", "POLICY", "the default retry policy: N attempts, "
	    "or attempts=N,delay=D,factor=F,max=D,jitter=J", NULL },
	{ O_FAILFAST, "fail-fast", NULL, "launch nothing more once a task "
	    "dies", NULL },
	{ O_NOWAIT, "no-wait", NULL, "exit 75 when only approvals are left",
	    NULL },
	{ O_APPROVAL, "approval-timeout", "DUR", "approval requests expire "
	    "after DUR", NULL },
	{ O_GRACE, "grace", "DUR", "between SIGTERM and SIGKILL (default 5s)",
	    NULL },
	{ O_JOBLOG, "joblog", "FILE", "write GNU parallel's joblog to FILE",
	    "FILE" },
	{ O_LOGCAP, "log-cap", "SIZE", "keep at most SIZE of each output "
	    "(default 1M)", NULL },
	{ O_LEASE, "lease", "DUR", "claims of a silent scheduler expire "
	    "after DUR (default 30s)", NULL },
	{ O_NOAUDIT, "no-audit", NULL, "keep the transitions out of the "
	    "audit log", NULL },
	{ O_EXECUTOR, "executor", "NAME", "run tasks as local processes or "
	    "as Slurm jobs (default local)", "local slurm" },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"aw-sched", "[file ...]",
	"Execute a run of tasks from a plan (or resume a stored run).",
	opts, AU_USE_DB, "FILE"
};

struct worker {
	char *id;
	char **caps;
	int ncaps;
	int slots, used;
	char *prefix;		/* a command prefix, or NULL */
	char *partition;	/* Slurm: its partition, or NULL */
	jv gres, constraint;	/* Slurm: needs to --gres, --constraint */
};

/* A running attempt. */
struct job {
	char *task;
	int attempt, order, worker;
	struct au_proc p;
	char *command;		/* for the joblog */
	char *record;		/* the task's record, read with its claim */
	int64_t started, deadline, killat;	/* ms; 0 none */
	int timed_out, cancelled, stopped, reaped, status;
	int noted;		/* its process is in the state file */
	int unrunnable;		/* it cannot run here: no retry */
	int sig;		/* the signal that ended it, or 0 */
	char *why;		/* why it could not start, or NULL */
	int logfd[2];		/* -1 until the first output */
	char *logpath[2];
	int64_t bytes[2];
	int truncated;
	char *sjob;		/* its Slurm job id, or NULL */
	char *rcpath;		/* where its job script writes its status */
	int sheld;		/* submitted held: to release */
	int scancel;		/* to cancel (1), cancelled (2) */
	int sfound;		/* seen in squeue after its adoption */
};

static struct worker *workers;
static int nworkers;
static struct job *jobs;
static size_t njobs, jobs_cap;
static sqlite3 *db;
static struct au_aw *aw;
static char runid[128];
static char *logdir;
static uint64_t logcap = 1u << 20;
static int64_t grace = 5000;
static int failfast, nowait, tripped, noaudit;
static struct au_audit *audit;
static FILE *joblog;
static int wake[2] = { -1, -1 };	/* the signal handlers' self-pipe */
static volatile sig_atomic_t stopsig;
static int progress;
static int64_t t0;
static int slurm;		/* --executor slurm */
static int64_t polled;		/* when squeue was last asked */

/* How often squeue is asked about the jobs that have not ended: once per
 * poll for all of them, not once per job. */
#define SLURM_POLL_MS 500
#define SLURM_TURN_MS 250

/* The statements of every turn, prepared once: parsing BEGIN and COMMIT
 * again each turn was a measurable part of a turn on tiny tasks. */
enum { Q_BEGIN, Q_COMMIT, Q_VERSION, Q_MINE, Q_RETRY, Q_ATTEMPT, NQ };
static const char *const qsql[NQ] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_VERSION] = "PRAGMA data_version",
	[Q_MINE] = "SELECT state = 'running' AND attempt = ?3 FROM aw_tasks "
	    "WHERE run_id = ?1 AND id = ?2",
	[Q_RETRY] = "SELECT min(ready_at) FROM aw_tasks WHERE run_id = ?1 AND "
	    "state = 'retrying'",
	[Q_ATTEMPT] = "SELECT attempt FROM aw_tasks WHERE run_id = ?1 AND "
	    "id = ?2",
};
static sqlite3_stmt *qs[NQ];

static void
onsignal(int sig)
{
	int e = errno;

	if (sig != SIGCHLD && stopsig == 0)
		stopsig = sig;
	if (write(wake[1], "", 1) < 0)
		(void)0;	/* the pipe is full: a wake-up is pending */
	errno = e;
}

static AU_NORETURN void abandon(int rc);

/* Statement i, reset, with the run bound to ?1 where it has one. */
static sqlite3_stmt *
q(int i)
{
	if (qs[i] == NULL && sqlite3_prepare_v3(db, qsql[i], -1,
	    SQLITE_PREPARE_PERSISTENT, &qs[i], NULL) != SQLITE_OK)
		abandon(au_db_error(db, sqlite3_errcode(db)));
	sqlite3_reset(qs[i]);
	if (sqlite3_bind_parameter_count(qs[i]) > 0)
		sqlite3_bind_text(qs[i], 1, runid, -1, SQLITE_STATIC);
	return qs[i];
}

/* Step statement i that returns no rows: 0, or the error (rolled back). */
static int
q_exec(int i)
{
	sqlite3_stmt *s = q(i);
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	rc = au_db_error(db, rc);
	au_db_rollback(db);
	return rc;
}

/* ---- the workers ---- */

static void
default_worker(int slots)
{
	workers = au_xcalloc(1, sizeof *workers);
	workers[0].id = au_xstrdup("local");
	workers[0].slots = slots;
	workers[0].ncaps = -1;	/* takes every task */
	workers[0].gres = jv_object();
	workers[0].constraint = jv_object();
	nworkers = 1;
}

/* The map of needs to Slurm options in field name of worker record rec
 * (an object of strings), its keys added to w's capabilities; 1 if it is
 * not such a map. */
static int
read_map(struct au_in *in, struct au_rec *rec, const char *name,
    struct worker *w, jv *map)
{
	jv m = jv_object_get(jv_copy(rec->v), jv_string(name));
	int bad = 0;

	*map = jv_object();
	if (!jv_is_valid(m)) {
		jv_free(m);
		return 0;
	}
	if (jv_get_kind(m) != JV_KIND_OBJECT) {
		au_in_reject(in, rec, "%s: expected an object of strings",
		    name);
		jv_free(m);
		return 1;
	}
	jv_object_foreach(m, k, v) {
		if (jv_get_kind(v) != JV_KIND_STRING) {
			au_in_reject(in, rec, "%s.%s: expected a string", name,
			    jv_string_value(k));
			bad = 1;
		} else {
			w->caps = au_xreallocarray(w->caps, (size_t)w->ncaps +
			    2, sizeof *w->caps);
			w->caps[w->ncaps++] = au_xstrdup(jv_string_value(k));
			*map = jv_object_set(*map, jv_copy(k), jv_copy(v));
		}
		jv_free(k);
		jv_free(v);
	}
	jv_free(m);
	return bad;
}

static void
read_workers(const char *path)
{
	char *files[] = { (char *)path };
	struct au_in *in = au_in_open(files, 1);
	struct au_rec rec;
	int bad = 0, i, n;

	while (au_in_next(in, &rec)) {
		struct worker w = { NULL, NULL, 0, 1, 0, NULL, NULL,
		    jv_null(), jv_null() };
		jv caps = jv_object_get(jv_copy(rec.v),
		    jv_string("capabilities"));
		jv slots = jv_object_get(jv_copy(rec.v), jv_string("slots"));
		const char *id = au_jv_str(rec.v, "id");
		const char *prefix = au_jv_str(rec.v, "command");
		const char *part = au_jv_str(rec.v, "partition");

		if (id == NULL || *id == '\0') {
			au_in_reject(in, &rec, "a worker needs an \"id\"");
			bad = 1;
		}
		if (jv_is_valid(slots) && (!au_jv_isint(slots) ||
		    jv_number_value(slots) < 1 ||
		    jv_number_value(slots) > 1e4)) {
			au_in_reject(in, &rec, "slots: expected an integer "
			    "from 1 to 10000");
			bad = 1;
		} else if (jv_is_valid(slots)) {
			w.slots = (int)jv_number_value(slots);
		}
		if (jv_get_kind(caps) == JV_KIND_ARRAY) {
			n = jv_array_length(jv_copy(caps));
			w.caps = au_xcalloc((size_t)n + 1, sizeof *w.caps);
			for (i = 0; i < n; i++) {
				jv c = jv_array_get(jv_copy(caps), i);

				if (jv_get_kind(c) == JV_KIND_STRING) {
					w.caps[w.ncaps++] =
					    au_xstrdup(jv_string_value(c));
				} else {
					au_in_reject(in, &rec, "capabilities"
					    "[%d]: expected a string", i);
					bad = 1;
				}
				jv_free(c);
			}
		} else if (jv_is_valid(caps)) {
			au_in_reject(in, &rec, "capabilities: expected an "
			    "array of strings");
			bad = 1;
		}
		if (id != NULL)
			w.id = au_xstrdup(id);
		if (prefix != NULL)
			w.prefix = au_xstrdup(prefix);
		if (part != NULL)
			w.partition = au_xstrdup(part);
		bad |= read_map(in, &rec, "gres", &w, &w.gres);
		bad |= read_map(in, &rec, "constraint", &w, &w.constraint);
		jv_free(caps);
		jv_free(slots);
		jv_free(rec.v);
		workers = au_xreallocarray(workers, (size_t)nworkers + 1,
		    sizeof *workers);
		workers[nworkers++] = w;
	}
	if (bad || au_in_status(in) != 0)
		exit(au_in_status(in) == EX_NOINPUT ? EX_NOINPUT : EX_CONFIG);
	au_in_close(in);
	if (nworkers == 0)
		au_die(EX_CONFIG, "%s: no workers", path);
}

/* Whether worker w has every capability in needs (a JSON array). */
static int
capable(const struct worker *w, jv needs)
{
	int i, j, n = jv_array_length(jv_copy(needs)), ok = 1;

	if (w->ncaps < 0)
		return 1;
	for (i = 0; i < n && ok; i++) {
		jv e = jv_array_get(jv_copy(needs), i);

		for (ok = 0, j = 0; !ok && j < w->ncaps; j++)
			ok = jv_get_kind(e) == JV_KIND_STRING &&
			    strcmp(w->caps[j], jv_string_value(e)) == 0;
		jv_free(e);
	}
	return ok;
}

/* The free worker for a task needing needs, least loaded first; -1. */
static int
pick(jv needs)
{
	int i, best = -1;

	for (i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];

		if (w->used >= w->slots || !capable(w, needs))
			continue;
		if (best < 0 || (int64_t)w->used * workers[best].slots <
		    (int64_t)workers[best].used * w->slots)
			best = i;
	}
	return best;
}

/* Every unfinished task no worker can ever take, reported at once. */
static void
check_capable(void)
{
	sqlite3_stmt *s;
	int bad = 0, i, ok;

	if (sqlite3_prepare_v2(db, "SELECT id, needs FROM aw_tasks WHERE "
	    "run_id = ?1 AND needs IS NOT NULL AND state NOT IN ('done', "
	    "'dead', 'skipped', 'cancelled') ORDER BY ord", -1, &s, NULL) !=
	    SQLITE_OK)
		au_die(EX_SOFTWARE, "prepare: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(s, 1, runid, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		jv needs = jv_parse((const char *)sqlite3_column_text(s, 1));

		for (ok = 0, i = 0; !ok && i < nworkers; i++)
			ok = capable(&workers[i], needs);
		if (!ok) {
			struct au_buf b = AU_BUF_INIT;

			au_json_dump(&b, needs);
			au_err("run %s: task %s needs %s, which no worker has",
			    runid, au_quote((const char *)
			    sqlite3_column_text(s, 0)), b.s);
			au_buf_free(&b);
			bad = 1;
		}
		jv_free(needs);
	}
	sqlite3_finalize(s);
	if (bad)
		exit(EX_DATAERR);
}

/* ---- the plan ---- */

/* Read a plan (aw-plan's output); store it unless its run is stored. */
static void
read_plan(char **files, int nfiles)
{
	struct au_in *in = au_in_open(files, nfiles);
	struct { jv *tasks; size_t n; } pl = { NULL, 0 };
	size_t cap = 0, i;
	struct au_rec rec;
	jv run = jv_invalid();
	const char *type;
	int bad = 0, rc, stored;

	while (au_in_next(in, &rec)) {
		type = au_jv_str(rec.v, "type");
		if (type != NULL && strcmp(type, "run") == 0 &&
		    !jv_is_valid(run) && au_jv_str(rec.v, "id") != NULL) {
			run = rec.v;
			continue;
		}
		if (type != NULL && strcmp(type, "task") == 0 &&
		    au_jv_str(rec.v, "id") != NULL &&
		    au_jv_isint(jv_object_get(jv_copy(rec.v),
		    jv_string("order")))) {
			pl.tasks = au_grow(pl.tasks, &cap, pl.n + 1,
			    sizeof *pl.tasks);
			pl.tasks[pl.n++] = rec.v;
			continue;
		}
		au_in_reject(in, &rec, "not a record of a plan (plan tasks "
		    "with aw-plan first)");
		jv_free(rec.v);
		bad = 1;
	}
	if (!jv_is_valid(run) && !bad && au_in_status(in) == 0) {
		au_err("%s: no run record (plan tasks with aw-plan first)",
		    nfiles > 0 ? au_esc(files[0]) : "<stdin>");
		bad = 1;
	}
	rc = au_in_status(in);
	au_in_close(in);
	if (bad || rc != 0)
		exit(rc ? rc : EX_DATAERR);
	snprintf(runid, sizeof runid, "%s", au_jv_str(run, "id"));
	for (i = 0; i < pl.n; i++)
		if (strcmp(au_jv_str(pl.tasks[i], "run_id") ?
		    au_jv_str(pl.tasks[i], "run_id") : "", runid) != 0)
			au_die(EX_DATAERR, "task %s is not of run %s",
			    au_quote(au_jv_str(pl.tasks[i], "id")), runid);
	if ((rc = au_aw_store_plan(db, run, pl.tasks, pl.n, &stored)) != 0)
		au_die(rc, "%s", au_errmsg());
	if (stored)
		au_note("stored run %s: %zu tasks", runid, pl.n);
	for (i = 0; i < pl.n; i++)
		jv_free(pl.tasks[i]);
	free(pl.tasks);
	jv_free(run);
}

/* ---- output ---- */

/* Whether a task died in this turn (for --fail-fast, before claiming). */
static int
died(void)
{
	jv ev = au_aw_pending(aw);
	int i, n = jv_array_length(jv_copy(ev)), dead = 0;

	for (i = 0; i < n && !dead; i++) {
		jv e = jv_array_get(jv_copy(ev), i);
		const char *to = au_jv_str(e, "to");

		dead = to != NULL && strcmp(to, "dead") == 0;
		jv_free(e);
	}
	jv_free(ev);
	return dead;
}

/* Write the events; 1 if a task now waits to be retried. */
static int
emit(jv events)
{
	int i, n = jv_array_length(jv_copy(events)), retried = 0;
	const char *to;

	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(events), i);

		to = au_jv_str(e, "to");
		if (failfast && to != NULL && strcmp(to, "dead") == 0)
			tripped = 1;
		if (to != NULL && strcmp(to, "retrying") == 0)
			retried = 1;
		au_out_rec(e);
		jv_free(e);
	}
	jv_free(events);
	return retried;
}

static void
show_progress(int final)
{
	static int64_t last;
	int c[AU_AW_NSTATES], total = 0, i, finished;
	int64_t now = au_mono_ms(), el;
	char eta[32] = "?";

	if (!progress || (!final && now - last < 200) ||
	    au_aw_counts(aw, c) != 0)
		return;
	last = now;
	for (i = 0; i < AU_AW_NSTATES; i++)
		total += c[i];
	finished = c[AU_AW_DONE] + c[AU_AW_DEAD] + c[AU_AW_SKIPPED] +
	    c[AU_AW_CANCELLED];
	el = now - t0;
	if (finished > 0 && finished < total)
		snprintf(eta, sizeof eta, "%llds", (long long)(el *
		    (total - finished) / finished / 1000));
	else if (finished == total)
		snprintf(eta, sizeof eta, "0s");
	fprintf(stderr, "\r%s: done %d, running %d, failed %d, waiting %d, "
	    "total %d, %llds, eta %s\033[K%s", au_prog, c[AU_AW_DONE],
	    c[AU_AW_RUNNING], c[AU_AW_DEAD] + c[AU_AW_SKIPPED],
	    c[AU_AW_WAITING], total, (long long)(el / 1000), eta,
	    final ? "\n" : "");
}

/* GNU parallel's joblog line for a finished attempt. */
static void
log_job(const struct job *j, int64_t ended)
{
	int ex = j->sig ? 0 : j->status, sig = j->sig;

	if (joblog == NULL)
		return;
	fprintf(joblog, "%d\t%s\t%lld.%03lld\t%lld.%03lld\t0\t%lld\t%d\t%d\t"
	    "%s\n", j->order, workers[j->worker].id,
	    (long long)(j->started / 1000), (long long)(j->started % 1000),
	    (long long)((ended - j->started) / 1000),
	    (long long)((ended - j->started) % 1000), (long long)j->bytes[0],
	    ex, sig, j->command);
	if (fflush(joblog) != 0)
		au_die(EX_IOERR, "joblog:");
}

/* ---- starting a task ---- */

/* Whether s needs a shell: anything beyond words of plain characters, or
 * a first word the shell knows itself (exit, cd, export...). */
static int
needs_shell(const char *s)
{
	static const char *const builtins[] = { "exit", "cd", "export", "set",
	    "unset", "exec", "eval", ".", "source", "alias", "read", "wait",
	    "trap", "shift", "return", "break", "continue", "umask", "ulimit",
	    "times", "readonly", "local", "command", "type", "hash", "getopts",
	    "if", "for", "while", "until", "case", "!", NULL };
	size_t n = strcspn(s, " ");
	int i;

	for (i = 0; builtins[i]; i++)
		if (strlen(builtins[i]) == n && strncmp(s, builtins[i], n) == 0)
			return 1;
	for (; *s; s++)
		if (!(*s == ' ' || *s == '-' || *s == '_' || *s == '.' ||
		    *s == '/' || *s == '=' || *s == ':' || *s == ',' ||
		    *s == '+' || *s == '@' || *s == '%' ||
		    (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z')))
			return 1;
	return 0;
}

/* s quoted for /bin/sh, appended to b. */
static void
shquote(struct au_buf *b, const char *s)
{
	au_buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			au_buf_adds(b, "'\\''");
		else
			au_buf_addc(b, *s);
	}
	au_buf_addc(b, '\'');
}

/* The argv of a task (a NULL-ended array of malloc'd strings), or NULL
 * with *why set when it cannot run here. */
static char **
argv_of(jv rec, const struct worker *w, char **why)
{
	const char *kind = au_jv_str(rec, "kind"), *prog = NULL;
	jv run = jv_object_get(jv_copy(rec), jv_string("run"));
	char **argv = NULL, *path;
	size_t n = 0, cap = 0;
	int i, len;

	*why = NULL;
	if (kind != NULL && strcmp(kind, "tool") == 0)
		prog = "tg-invoke";
	else if (kind != NULL && strcmp(kind, "prompt") == 0)
		prog = "mf-route";
	if (prog != NULL) {
		if ((path = au_which(prog)) == NULL) {
			*why = au_xasprintf("%s tasks need %s, which is not "
			    "available", kind, prog);
			jv_free(run);
			return NULL;
		}
		free(path);
		argv = au_grow(argv, &cap, 2, sizeof *argv);
		argv[n++] = au_xstrdup(prog);
	} else if (jv_get_kind(run) == JV_KIND_ARRAY) {
		len = jv_array_length(jv_copy(run));
		for (i = 0; i < len; i++) {
			jv e = jv_array_get(jv_copy(run), i);

			argv = au_grow(argv, &cap, n + 2, sizeof *argv);
			argv[n++] = au_xstrdup(jv_get_kind(e) ==
			    JV_KIND_STRING ? jv_string_value(e) : "");
			jv_free(e);
		}
	} else if (jv_get_kind(run) == JV_KIND_STRING &&
	    !needs_shell(jv_string_value(run))) {
		/* Plain words need no shell: make does the same. */
		char *copy = au_xstrdup(jv_string_value(run)), *tok, *save;

		for (tok = strtok_r(copy, " ", &save); tok;
		    tok = strtok_r(NULL, " ", &save)) {
			argv = au_grow(argv, &cap, n + 2, sizeof *argv);
			argv[n++] = au_xstrdup(tok);
		}
		free(copy);
	} else if (jv_get_kind(run) == JV_KIND_STRING) {
		argv = au_grow(argv, &cap, 4, sizeof *argv);
		argv[n++] = au_xstrdup("/bin/sh");
		argv[n++] = au_xstrdup("-c");
		argv[n++] = au_xstrdup(jv_string_value(run));
	}
	jv_free(run);
	if (n == 0) {
		*why = au_xstrdup("nothing to run");
		free(argv);
		return NULL;
	}
	argv[n] = NULL;
	if (w->prefix != NULL) {
		/* The prefix is shell text: the words go to it quoted. */
		struct au_buf b = AU_BUF_INIT;

		au_buf_adds(&b, w->prefix);
		for (i = 0; argv[i]; i++) {
			au_buf_addc(&b, ' ');
			shquote(&b, argv[i]);
			free(argv[i]);
		}
		argv = au_xreallocarray(argv, 4, sizeof *argv);
		argv[0] = au_xstrdup("/bin/sh");
		argv[1] = au_xstrdup("-c");
		argv[2] = b.s;
		argv[3] = NULL;
	}
	return argv;
}

static void
argv_free(char **argv)
{
	size_t i;

	for (i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* The environment of a task: ours, with the run, task and attempt, the
 * three malloc'd strings from (*own). */
static char **
env_of(const struct job *j, size_t *own)
{
	extern char **environ;
	char **env;
	size_t n = 0, i, k = 0;

	while (environ[n])
		n++;
	env = au_xcalloc(n + 4, sizeof *env);
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "AGENTUTILS_RUN=", 15) != 0 &&
		    strncmp(environ[i], "AGENTUTILS_TASK=", 16) != 0 &&
		    strncmp(environ[i], "AGENTUTILS_ATTEMPT=", 19) != 0)
			env[k++] = environ[i];
	*own = k;
	env[k++] = au_xasprintf("AGENTUTILS_RUN=%s", runid);
	env[k++] = au_xasprintf("AGENTUTILS_TASK=%s", j->task);
	env[k++] = au_xasprintf("AGENTUTILS_ATTEMPT=%d", j->attempt);
	env[k] = NULL;
	return env;
}

/* A descriptor holding the task record, for its standard input.  One
 * pwritev at offset 0 leaves the offset at the start for the child. */
static int
stdin_of(const char *record)
{
	struct iovec iov[2] = { { (void *)record, strlen(record) },
	    { (void *)"\n", 1 } };
	int fd = memfd_create("task", MFD_CLOEXEC);

	if (fd < 0 || pwritev(fd, iov, 2, 0) != (ssize_t)(iov[0].iov_len + 1))
		au_die(EX_SOFTWARE, "memfd:");
	return fd;
}

static struct job *
newjob(const char *task, int attempt, int worker)
{
	struct job *j;

	jobs = au_grow(jobs, &jobs_cap, njobs + 1, sizeof *jobs);
	j = &jobs[njobs++];
	memset(j, 0, sizeof *j);
	j->task = au_xstrdup(task);
	j->attempt = attempt;
	j->worker = worker;
	j->logfd[0] = j->logfd[1] = -1;
	j->p.pid = -1;
	j->p.fd[0] = j->p.fd[1] = j->p.fd[2] = -1;
	workers[worker].used++;
	return j;
}

/* The command of a task for its worker, as the joblog shows it
 * (malloc'd); its argv in *argvp, or NULL with *why. */
static char *
command_of(jv rec, const struct worker *w, char ***argvp, char **why)
{
	struct au_buf b = AU_BUF_INIT;
	int i;

	*argvp = argv_of(rec, w, why);
	for (i = 0; *argvp && (*argvp)[i]; i++) {
		if (i > 0)
			au_buf_addc(&b, ' ');
		au_buf_adds(&b, (*argvp)[i]);
	}
	return b.s ? b.s : au_xstrdup("");
}

/* The order of a task record, or 0. */
static int
order_of(jv rec)
{
	jv ord = jv_object_get(jv_copy(rec), jv_string("order"));
	int n = jv_get_kind(ord) == JV_KIND_NUMBER ?
	    (int)jv_number_value(ord) : 0;

	jv_free(ord);
	return n;
}

/* Start a claimed attempt; one that cannot start ends at once. */
static void
launch(struct job *j)
{
	char *text = j->record, *why = NULL, **argv, **env;
	jv rec = text ? jv_parse(text) : jv_object();
	struct au_spawn sp = { NULL, NULL, NULL,
	    { -1, AU_FD_PIPE, AU_FD_PIPE }, 1, NULL, 0, NULL };
	const char *timeout = au_jv_str(rec, "timeout");
	int64_t ms;
	size_t own;
	int rc, i;

	j->record = NULL;	/* text has it now */
	j->started = au_now_ms();
	j->order = order_of(rec);
	if (timeout != NULL && au_dur_parse(timeout, &ms) == 0 && ms > 0)
		j->deadline = j->started + ms;
	if (slurm) {
		/* Submitted with its claim; released after this. */
		j->sheld = j->sjob != NULL;
		if (j->sjob == NULL) {
			j->reaped = 1;
			j->status = 127;
			j->unrunnable = 1;
			au_err("run %s: task %s: %s", runid, au_quote(j->task),
			    j->why);
			free(j->command);
			j->command = j->why;
			j->why = NULL;
		}
		free(text);
		jv_free(rec);
		return;
	}
	j->command = command_of(rec, &workers[j->worker], &argv, &why);
	if (argv == NULL) {
		j->reaped = 1;
		j->status = 127;
		j->unrunnable = 1;
		au_err("run %s: task %s: %s", runid, au_quote(j->task), why);
		free(j->command);
		j->command = why;
		free(text);
		jv_free(rec);
		return;
	}
	env = env_of(j, &own);
	sp.argv = argv;
	sp.envp = env;
	sp.fd[0] = stdin_of(text ? text : "{}");
	rc = au_spawn(&sp, &j->p);
	close(sp.fd[0]);
	if (rc != 0) {
		/* 126 or 127: the attempt ends as a shell's would. */
		au_err("run %s: task %s: %s", runid, au_quote(j->task),
		    au_errmsg());
		j->why = au_xstrdup(au_errmsg());
		j->reaped = 1;
		j->status = rc;
	} else {
		for (i = 1; i <= 2; i++)
			fcntl(j->p.fd[i], F_SETFL, O_NONBLOCK);
	}
	for (i = 0; i < 3; i++)
		free(env[own + i]);
	free(env);
	argv_free(argv);
	free(text);
	jv_free(rec);
}

/* ---- Slurm jobs ---- */

/* Where an attempt's file ext is kept (malloc'd), its directory made:
 * next to the state file, which a Slurm job shares with us. */
static char *
attempt_path(int order, int attempt, const char *ext)
{
	char *dir = au_xasprintf("%s/%s", logdir, runid), *path;

	if (mkdir(logdir, 0700) != 0 && errno != EEXIST)
		au_die(EX_CANTCREAT, "%s: cannot create directory:", logdir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		au_die(EX_CANTCREAT, "%s: cannot create directory:", dir);
	path = au_xasprintf("%s/%d.%d.%s", dir, order, attempt, ext);
	free(dir);
	return path;
}

/* What map makes of the needs of task record rec, joined by sep
 * (malloc'd), or NULL when it maps none of them. */
static char *
mapped(jv rec, jv map, const char *sep)
{
	jv needs = jv_object_get(jv_copy(rec), jv_string("needs"));
	struct au_buf b = AU_BUF_INIT;
	int i, n;

	n = jv_get_kind(needs) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(needs)) : 0;
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(needs), i);
		jv v = jv_get_kind(e) == JV_KIND_STRING ?
		    jv_object_get(jv_copy(map), jv_copy(e)) : jv_invalid();

		if (jv_get_kind(v) == JV_KIND_STRING) {
			if (b.len > 0)
				au_buf_adds(&b, sep);
			au_buf_adds(&b, jv_string_value(v));
		}
		jv_free(v);
		jv_free(e);
	}
	jv_free(needs);
	return b.s;
}

/* The job script of an attempt: the variables a local attempt has, its
 * command with the task record on its standard input, and its status
 * written to rcpath (renamed into place: a file there is whole). */
static char *
script_of(const struct job *j, char **argv, const char *in)
{
	struct au_buf b = AU_BUF_INIT;
	int i;

	au_buf_adds(&b, "#!/bin/sh\nAGENTUTILS_RUN=");
	shquote(&b, runid);
	au_buf_adds(&b, " AGENTUTILS_TASK=");
	shquote(&b, j->task);
	au_buf_addf(&b, " AGENTUTILS_ATTEMPT=%d\nexport AGENTUTILS_RUN "
	    "AGENTUTILS_TASK AGENTUTILS_ATTEMPT\n", j->attempt);
	for (i = 0; argv[i]; i++) {
		shquote(&b, argv[i]);
		au_buf_addc(&b, ' ');
	}
	au_buf_adds(&b, "<");
	shquote(&b, in);
	au_buf_adds(&b, "\necho $? >");
	shquote(&b, j->rcpath);
	au_buf_adds(&b, ".tmp && mv -f ");
	shquote(&b, j->rcpath);
	au_buf_adds(&b, ".tmp ");
	shquote(&b, j->rcpath);
	au_buf_addc(&b, '\n');
	return b.s;
}

/* Submit attempt j (its record in j->record) as a held job: j->sjob, or
 * j->why when it cannot run (Slurm refused it).  Dies (69) when Slurm
 * cannot be asked. */
static void
submit(struct job *j)
{
	const struct worker *w = &workers[j->worker];
	jv rec = jv_parse(j->record);
	const char *timeout = au_jv_str(rec, "timeout");
	jv cpus = jv_object_get(jv_copy(rec), jv_string("cpus"));
	const char *mem = au_jv_str(rec, "mem");
	struct slurm_job sj = { NULL, j->task, NULL, w->partition, NULL,
	    NULL, NULL, NULL, 0, 0, 0 };
	char **argv, *in, *why = NULL;
	int fd, rc;

	j->order = order_of(rec);
	j->command = command_of(rec, w, &argv, &why);
	if (argv == NULL) {
		j->why = why;
		jv_free(cpus);
		jv_free(rec);
		return;
	}
	if (timeout != NULL && au_dur_parse(timeout, &sj.time_ms) != 0)
		sj.time_ms = 0;
	if (au_jv_isint(cpus) && jv_number_value(cpus) >= 1)
		sj.cpus = (int)jv_number_value(cpus);
	if (mem != NULL && au_size_parse(mem, &sj.mem) != 0)
		j->why = au_xasprintf("mem: invalid size %s", au_quote(mem));
	in = attempt_path(j->order, j->attempt, "in");
	j->rcpath = attempt_path(j->order, j->attempt, "rc");
	j->logpath[0] = attempt_path(j->order, j->attempt, "out");
	j->logpath[1] = attempt_path(j->order, j->attempt, "err");
	fd = open(in, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, j->record, strlen(j->record)) < 0 ||
	    write(fd, "\n", 1) != 1 || close(fd) != 0)
		au_die(EX_CANTCREAT, "%s:", in);
	sj.script = script_of(j, argv, in);
	sj.comment = au_xasprintf("agentutils run=%s task=%s attempt=%d",
	    runid, j->task, j->attempt);
	sj.gres = mapped(rec, w->gres, ",");
	sj.constraint = mapped(rec, w->constraint, "&");
	sj.out = j->logpath[0];
	sj.err = j->logpath[1];
	if (j->why == NULL) {
		rc = slurm_submit(&sj, &j->sjob);
		if (rc == 1)
			j->why = au_xstrdup(au_errmsg());
		else if (rc != 0)
			au_die(rc, "%s", au_errmsg());
	}
	free((char *)sj.script);
	free((char *)sj.comment);
	free((char *)sj.gres);
	free((char *)sj.constraint);
	free(in);
	argv_free(argv);
	jv_free(cpus);
	jv_free(rec);
}

/* The output of an ended job as a local attempt keeps it: at most logcap
 * bytes of each stream, and no file for a stream that stayed empty. */
static void
collect(struct job *j)
{
	struct stat st;
	int i;

	for (i = 0; i < 2; i++) {
		if (j->logpath[i] == NULL || stat(j->logpath[i], &st) != 0)
			st.st_size = 0;
		j->bytes[i] = (int64_t)st.st_size;
		if ((uint64_t)st.st_size > logcap) {
			j->truncated = 1;
			if (truncate(j->logpath[i], (off_t)logcap) != 0)
				au_die(EX_IOERR, "%s:", j->logpath[i]);
		}
		if (st.st_size == 0 && j->logpath[i] != NULL) {
			unlink(j->logpath[i]);
			free(j->logpath[i]);
			j->logpath[i] = NULL;
		}
	}
}

/* Whether job j has written its status (then it has ended). */
static int
result(struct job *j)
{
	char buf[32];
	ssize_t n;
	int fd;

	if ((fd = open(j->rcpath, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	j->status = atoi(buf);
	j->reaped = 1;
	collect(j);
	return 1;
}

/* Cancel, release, and follow the jobs: their result files at each
 * turn, squeue for all of them at once every SLURM_POLL_MS. */
static void
follow(int64_t now)
{
	struct au_buf ask = AU_BUF_INIT, cancel = AU_BUF_INIT,
	    release = AU_BUF_INIT;
	jv states, st;
	const char *state, *reason;
	size_t i;

	for (i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];

		if (j->sjob == NULL || j->reaped || result(j))
			continue;
		if (j->scancel == 1) {
			au_buf_addf(&cancel, "%s%s", cancel.len ? "," : "",
			    j->sjob);
			j->scancel = 2;
		}
		au_buf_addf(&ask, "%s%s", ask.len ? "," : "", j->sjob);
	}
	/* A job that ends meanwhile cannot be cancelled: not an error. */
	if (cancel.s != NULL && slurm_cancel(cancel.s) != 0)
		au_warn("%s", au_errmsg());
	if (ask.s == NULL || (now - polled < SLURM_POLL_MS &&
	    cancel.s == NULL)) {
		au_buf_free(&ask);
		au_buf_free(&cancel);
		return;
	}
	polled = now;
	if (slurm_states(ask.s, &states) != 0)
		au_die(EX_UNAVAILABLE, "%s", au_errmsg());
	for (i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];

		if (j->sjob == NULL || j->reaped)
			continue;
		st = jv_object_get(jv_copy(states), jv_string(j->sjob));
		state = jv_is_valid(st) ? au_jv_str(st, "state") : NULL;
		reason = jv_is_valid(st) ? au_jv_str(st, "reason") : NULL;
		if (state != NULL && !slurm_ended(state)) {
			/* Held by an aw-sched that died before it let go. */
			if (strcmp(state, "PENDING") == 0 &&
			    strcmp(reason, "JobHeldUser") == 0 && !j->sheld)
				au_buf_addf(&release, "%s%s", release.len ?
				    "," : "", j->sjob);
		} else if (!result(j)) {
			/* Killed before its script could say how it ended. */
			j->reaped = 1;
			if (state != NULL && strcmp(state, "TIMEOUT") == 0)
				j->timed_out = 1;
			j->status = j->timed_out || j->cancelled ||
			    j->stopped ? 128 + SIGTERM : 1;
			j->why = state != NULL ? au_xasprintf("Slurm job %s "
			    "ended %s (%s)", j->sjob, state, reason) :
			    au_xasprintf("Slurm job %s is gone without a "
			    "result", j->sjob);
			collect(j);
		}
		jv_free(st);
	}
	jv_free(states);
	if (release.s != NULL && slurm_release(release.s) != 0)
		au_warn("%s", au_errmsg());
	au_buf_free(&ask);
	au_buf_free(&cancel);
	au_buf_free(&release);
}

/* Release the jobs submitted in this turn, now that their claims are
 * committed: all in one scontrol call. */
static void
release_new(size_t from)
{
	struct au_buf ids = AU_BUF_INIT;
	size_t i;

	for (i = from; i < njobs; i++)
		if (jobs[i].sheld) {
			au_buf_addf(&ids, "%s%s", ids.len ? "," : "",
			    jobs[i].sjob);
			jobs[i].sheld = 0;
		}
	if (ids.s != NULL && slurm_release(ids.s) != 0)
		au_die(EX_UNAVAILABLE, "%s", au_errmsg());
	au_buf_free(&ids);
}

/* Follow the jobs of the run's schedulers that are gone (we resume after
 * a crash): their attempts go on, nothing is run twice. */
static void
adopt(void)
{
	jv list;
	int i, n, w, rc;

	if ((rc = au_aw_adopt(aw, "job", &list)) != 0)
		abandon(rc);
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++) {
		jv a = jv_array_get(jv_copy(list), i), rec;
		jv att = jv_object_get(jv_copy(a), jv_string("attempt"));
		jv job = jv_object_get(jv_copy(a), jv_string("job"));
		const char *wid = au_jv_str(a, "worker"), *timeout;
		char *text, **argv, *why = NULL;
		struct job *j;
		int64_t ms;

		for (w = nworkers - 1; w > 0; w--)
			if (wid != NULL && strcmp(workers[w].id, wid) == 0)
				break;
		j = newjob(au_jv_str(a, "id"), (int)jv_number_value(att), w);
		text = au_aw_record(aw, j->task);
		rec = text ? jv_parse(text) : jv_object();
		j->sjob = au_xstrdup(jv_get_kind(job) == JV_KIND_STRING ?
		    jv_string_value(job) : "0");
		if (au_ts_parse(au_jv_str(a, "ts"), &j->started) != 0)
			j->started = au_now_ms();
		timeout = au_jv_str(rec, "timeout");
		if (timeout != NULL && au_dur_parse(timeout, &ms) == 0 &&
		    ms > 0)
			j->deadline = j->started + ms;
		j->order = order_of(rec);
		j->command = command_of(rec, &workers[w], &argv, &why);
		j->rcpath = attempt_path(j->order, j->attempt, "rc");
		j->logpath[0] = attempt_path(j->order, j->attempt, "out");
		j->logpath[1] = attempt_path(j->order, j->attempt, "err");
		au_note("run %s: task %s: following Slurm job %s", runid,
		    au_quote(j->task), j->sjob);
		argv_free(argv);
		free(why);
		free(text);
		jv_free(rec);
		jv_free(job);
		jv_free(att);
		jv_free(a);
	}
	jv_free(list);
}

/* The held jobs of this run when we start (the first question to the
 * controller: one that cannot be reached is found out here). */
static jv
held_jobs(void)
{
	char *prefix = au_xasprintf("agentutils run=%s ", runid);
	jv held;

	if (slurm_held(prefix, &held) != 0)
		au_die(EX_UNAVAILABLE, "%s", au_errmsg());
	free(prefix);
	return held;
}

/* Cancel the jobs held when we started that no claim names: submitted by
 * an aw-sched killed before it could commit their claims. */
static void
forget_held(jv held)
{
	struct au_buf ids = AU_BUF_INIT;
	int i, n, ours;
	size_t k;

	n = jv_array_length(jv_copy(held));
	for (i = 0; i < n; i++) {
		jv id = jv_array_get(jv_copy(held), i);

		for (ours = 0, k = 0; !ours && k < njobs; k++)
			ours = jobs[k].sjob != NULL && strcmp(jobs[k].sjob,
			    jv_string_value(id)) == 0;
		if (!ours)
			au_buf_addf(&ids, "%s%s", ids.len ? "," : "",
			    jv_string_value(id));
		jv_free(id);
	}
	if (ids.s != NULL && slurm_cancel(ids.s) != 0)
		au_warn("%s", au_errmsg());
	au_buf_free(&ids);
	jv_free(held);
}

/* ---- following tasks ---- */

/* Keep up to logcap bytes of stream i (0 out, 1 err) of a job. */
static void
keep(struct job *j, int i, const char *buf, size_t n)
{
	static const char *const ext[] = { "out", "err" };
	size_t room;

	if ((uint64_t)j->bytes[i] < logcap) {
		if (j->logfd[i] < 0) {
			j->logpath[i] = attempt_path(j->order, j->attempt,
			    ext[i]);
			j->logfd[i] = open(j->logpath[i], O_WRONLY | O_CREAT |
			    O_TRUNC | O_CLOEXEC, 0600);
			if (j->logfd[i] < 0)
				au_die(EX_CANTCREAT, "%s:", j->logpath[i]);
		}
		room = (size_t)(logcap - (uint64_t)j->bytes[i]);
		if (write(j->logfd[i], buf, n < room ? n : room) < 0)
			au_die(EX_IOERR, "%s:", j->logpath[i]);
		if (n > room)
			j->truncated = 1;
	} else {
		j->truncated = 1;
	}
	j->bytes[i] += (int64_t)n;
}

/* Read what a job's output pipe i (1 or 2) has; close it at its end. */
static void
take(struct job *j, int i)
{
	char buf[65536];
	ssize_t n;

	while (j->p.fd[i] >= 0) {
		n = read(j->p.fd[i], buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(j->p.fd[i]);
			j->p.fd[i] = -1;
			return;
		}
		keep(j, i - 1, buf, (size_t)n);
	}
}

/* Collect the ends of children.  A group we were stopping loses its
 * stragglers before the leader is reaped, while its id is still ours. */
static void
reap(void)
{
	siginfo_t si;
	size_t i;
	int st;

	for (i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];

		if (j->reaped || j->p.pid <= 0)
			continue;
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)j->p.pid, &si, WEXITED | WNOHANG |
		    WNOWAIT) != 0 || si.si_pid != j->p.pid)
			continue;
		if (j->timed_out || j->cancelled || j->stopped)
			kill(-j->p.pid, SIGKILL);
		while (waitpid(j->p.pid, &st, 0) < 0 && errno == EINTR)
			;
		j->status = au_exit_code(st);
		j->sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
		j->reaped = 1;
		/* What is in the pipes now is all the leader wrote; a
		 * grandchild holding them open is not waited for. */
		take(j, 1);
		take(j, 2);
		for (st = 1; st <= 2; st++)
			if (j->p.fd[st] >= 0) {
				close(j->p.fd[st]);
				j->p.fd[st] = -1;
			}
	}
}

static void stop(struct job *j, int sig);

/* Timeouts, and the SIGKILL after a SIGTERM's grace. */
static void
timers(int64_t now)
{
	size_t i;

	for (i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];

		if (j->sjob != NULL && !j->reaped && j->deadline > 0 &&
		    now >= j->deadline && !j->timed_out) {
			j->timed_out = 1;
			stop(j, SIGTERM);
		}
		if (j->reaped || j->p.pid <= 0)
			continue;
		if (j->deadline > 0 && now >= j->deadline && j->killat == 0) {
			j->timed_out = 1;
			kill(-j->p.pid, SIGTERM);
			j->killat = now + grace;
		}
		if (j->killat > 0 && now >= j->killat) {
			kill(-j->p.pid, SIGKILL);
			j->killat = INT64_MAX;
		}
	}
}

/* Stop job j's group with sig, and kill it after the grace period; a
 * Slurm job is cancelled (scancel has Slurm's KillWait for a grace). */
static void
stop(struct job *j, int sig)
{
	if (j->sjob != NULL && !j->reaped && j->scancel == 0)
		j->scancel = 1;
	if (j->reaped || j->p.pid <= 0)
		return;
	kill(-j->p.pid, sig);
	if (j->killat == 0)
		j->killat = au_now_ms() + grace;
}

/* Whether another connection has written the state file since the last
 * call: then tasks may have been cancelled behind our back (or taken
 * over), and the run paused. */
static int
changed(void)
{
	static int64_t version = -1;
	sqlite3_stmt *dv = q(Q_VERSION), *st;
	int64_t v;
	size_t i;

	if (sqlite3_step(dv) != SQLITE_ROW)
		abandon(au_db_error(db, sqlite3_errcode(db)));
	v = sqlite3_column_int64(dv, 0);
	sqlite3_reset(dv);	/* a statement left open holds a snapshot */
	if (v == version)
		return 0;
	version = v;
	for (i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];

		if (j->reaped || j->cancelled || (j->p.pid <= 0 &&
		    j->sjob == NULL))
			continue;
		st = q(Q_MINE);
		sqlite3_bind_text(st, 2, j->task, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, j->attempt);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_int(st, 0) == 0) {
			j->cancelled = 1;
			stop(j, SIGTERM);
		}
		sqlite3_reset(st);
	}
	return 1;
}

/* Report the jobs that have ended, and forget them. */
static void
report(void)
{
	size_t i = 0;
	int rc;

	while (i < njobs) {
		struct job *j = &jobs[i];
		int64_t now = au_now_ms();

		if (!j->reaped || j->p.fd[1] >= 0 || j->p.fd[2] >= 0) {
			i++;
			continue;
		}
		rc = 0;
		if (j->stopped && j->status != 0) {
			struct au_aw_attempt a = { workers[j->worker].id,
			    j->command, j->logpath[0], j->logpath[1],
			    j->p.pid, j->started, now, j->status,
			    j->timed_out, j->truncated, j->bytes[0],
			    j->bytes[1] };
			char why[64];

			snprintf(why, sizeof why, "aw-sched got signal %d",
			    j->stopped);
			rc = au_aw_ended(aw, j->task, j->attempt, &a);
			if (rc == 0)
				rc = au_aw_interrupt(aw, j->task, j->attempt,
				    why);
		} else {
			struct au_aw_result r = { j->status, j->timed_out,
			    j->unrunnable, NULL };
			char *err = NULL;
			jv d = jv_object_set(jv_object(),
			    jv_string("duration_ms"),
			    jv_number((double)(now - j->started)));

			if (j->sjob != NULL)
				d = jv_object_set(d, jv_string("job"),
				    jv_string(j->sjob));

			if (j->timed_out)
				r.error = err = au_xasprintf("timed out after "
				    "%.3gs", (double)(j->deadline -
				    j->started) /
				    1000);
			else if (j->unrunnable)
				r.error = j->command;
			else if (j->why != NULL)
				r.error = j->why;
			struct au_aw_attempt a = { workers[j->worker].id,
			    j->command, j->logpath[0], j->logpath[1],
			    j->p.pid, j->started, now, j->status,
			    j->timed_out, j->truncated, j->bytes[0],
			    j->bytes[1] };

			rc = au_aw_ended(aw, j->task, j->attempt, &a);
			if (rc == 0)
				rc = au_aw_report(aw, j->task, j->attempt, &r,
				    d);
			else
				jv_free(d);
			free(err);
		}
		if (rc != 0)
			au_die(rc, "%s", au_errmsg());
		log_job(j, now);
		workers[j->worker].used--;
		if (j->logfd[0] >= 0)
			close(j->logfd[0]);
		if (j->logfd[1] >= 0)
			close(j->logfd[1]);
		free(j->logpath[0]);
		free(j->logpath[1]);
		free(j->task);
		free(j->command);
		free(j->why);
		free(j->sjob);
		free(j->rcpath);
		jobs[i] = jobs[--njobs];
	}
}

/* Claim ready task id for worker w as a Slurm job, submitted held in
 * this transaction so that its claim's event names the job: we hold the
 * write lock, so the task is still ready. */
static void
claim_job(const char *id, int w)
{
	sqlite3_stmt *s = q(Q_ATTEMPT);
	struct job *j;
	jv detail;
	int attempt = 0, rc;

	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		attempt = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	j = newjob(id, attempt + 1, w);
	j->record = au_aw_record(aw, id);
	submit(j);
	detail = jv_object_set(jv_object(), jv_string("worker"),
	    jv_string(workers[w].id));
	if (j->sjob != NULL)
		detail = jv_object_set(detail, jv_string("job"),
		    jv_string(j->sjob));
	if ((rc = au_aw_claim(aw, id, detail, &attempt)) != 0) {
		if (j->sjob != NULL)
			slurm_cancel(j->sjob);
		au_die(rc == 1 ? EX_SOFTWARE : rc, "%s", au_errmsg());
	}
}

/* Claim ready tasks for the free slots; 1 if there may be more to claim
 * (a turn submits Slurm jobs for at most SLURM_TURN_MS, as it holds the
 * state file's write lock meanwhile). */
static int
claim(void)
{
	int freeslots = 0, i, n, w, attempt, rc;
	int64_t t = au_mono_ms();
	jv ready;

	for (i = 0; i < nworkers; i++)
		freeslots += workers[i].slots - workers[i].used;
	if (freeslots <= 0)
		return 0;
	/* With capabilities to match, look further down the list. */
	ready = au_aw_ready(aw, workers[0].ncaps < 0 ? freeslots :
	    freeslots * 4 + 16);
	if (!jv_is_valid(ready))
		au_die(EX_IOERR, "%s", au_errmsg());
	n = jv_array_length(jv_copy(ready));
	for (i = 0; i < n && freeslots > 0 && !(slurm &&
	    au_mono_ms() - t >= SLURM_TURN_MS); i++) {
		jv task = jv_array_get(jv_copy(ready), i);
		jv needs = jv_object_get(jv_copy(task), jv_string("needs"));
		const char *id = au_jv_str(task, "id");

		if ((w = pick(needs)) >= 0 && slurm) {
			claim_job(id, w);
			freeslots--;
		} else if (w >= 0) {
			rc = au_aw_claim(aw, id, jv_object_set(jv_object(),
			    jv_string("worker"), jv_string(workers[w].id)),
			    &attempt);
			if (rc > 1)
				au_die(rc, "%s", au_errmsg());
			if (rc == 0) {
				newjob(id, attempt, w)->record =
				    au_aw_record(aw, id);
				freeslots--;
			}
		}
		jv_free(needs);
		jv_free(task);
	}
	jv_free(ready);
	return i < n && freeslots > 0;
}

/* When the next retry is due (epoch ms), or 0. */
static int64_t
next_retry(void)
{
	sqlite3_stmt *s = q(Q_RETRY);
	int64_t at = 0;

	if (sqlite3_step(s) == SQLITE_ROW)
		at = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return at;
}

/* Wait for output, children, signals, or the next timer. */
static void
wait_events(int64_t timeout)
{
	struct pollfd *pfd = au_xcalloc(njobs * 2 + 1, sizeof *pfd);
	struct job **who = au_xcalloc(njobs * 2 + 1, sizeof *who);
	int *which = au_xcalloc(njobs * 2 + 1, sizeof *which);
	size_t n = 1, i;
	char buf[256];
	int k;

	pfd[0].fd = wake[0];
	pfd[0].events = POLLIN;
	for (i = 0; i < njobs; i++)
		for (k = 1; k <= 2; k++)
			if (jobs[i].p.fd[k] >= 0) {
				pfd[n].fd = jobs[i].p.fd[k];
				pfd[n].events = POLLIN;
				who[n] = &jobs[i];
				which[n++] = k;
			}
	if (poll(pfd, n, timeout > INT_MAX ? INT_MAX : (int)timeout) > 0) {
		if (pfd[0].revents)
			while (read(wake[0], buf, sizeof buf) > 0)
				;
		for (i = 1; i < n; i++)
			if (pfd[i].revents)
				take(who[i], which[i]);
	}
	free(pfd);
	free(who);
	free(which);
}

/* Kill our children's groups and leave: the state file could not be
 * written, and the next aw-sched --run starts their tasks again. */
static AU_NORETURN void
abandon(int rc)
{
	size_t i;

	for (i = 0; i < njobs; i++)
		if (!jobs[i].reaped && jobs[i].p.pid > 0)
			kill(-jobs[i].p.pid, SIGKILL);
	au_die(rc, "%s", au_errmsg());
}

static int
schedule(void)
{
	int64_t now, timeout, at = 0, lasttick = 0, counted = 0;
	int c[AU_AW_NSTATES], paused = 0, finished = 0, rc, started = 0;
	int news, retried, more = 0;
	size_t i, fresh;
	jv held = slurm ? held_jobs() : jv_null();

	for (;;) {
		now = au_now_ms();
		timers(now);
		reap();
		if (slurm)
			follow(now);
		if (stopsig) {
			for (i = 0; i < njobs; i++)
				if (!jobs[i].stopped && !jobs[i].reaped) {
					jobs[i].stopped = stopsig;
					stop(&jobs[i], stopsig);
				}
		}
		if ((rc = q_exec(Q_BEGIN)) != 0)
			abandon(rc);
		if (!started && (rc = au_aw_start(aw)) != 0)
			abandon(rc);
		if (!started && slurm)
			adopt();
		if (now - lasttick >= 50 || njobs == 0) {
			if ((rc = au_aw_tick(aw)) != 0)
				abandon(rc);
			lasttick = now;
		}
		/* Note the processes that have run a tick: a scheduler that
		 * finds them orphaned kills their groups by these.  Reading
		 * /proc for every tiny task cost a tenth of a turn; one cut
		 * short before its note is found by its environment. */
		for (i = 0; i < njobs; i++)
			if (!jobs[i].noted && !jobs[i].reaped &&
			    jobs[i].p.pid > 0 && now - jobs[i].started >= 50 &&
			    (jobs[i].noted = 1) && (rc = au_aw_started(aw,
			    jobs[i].task, jobs[i].p.pid)) != 0)
				abandon(rc);
		report();
		if ((news = changed()) && (rc = au_aw_paused(aw, &paused)) != 0)
			abandon(rc);
		fresh = njobs;
		if (failfast && !tripped)
			tripped = died();
		more = !stopsig && paused == 0 && !tripped && claim();
		if (njobs == 0 && (rc = au_aw_finish(aw, &finished)) != 0)
			abandon(rc);
		if ((rc = q_exec(Q_COMMIT)) != 0)
			abandon(rc);
		retried = emit(au_aw_drain(aw));
		for (i = fresh; i < njobs; i++)
			launch(&jobs[i]);
		if (slurm)
			release_new(fresh);
		if (slurm && !started)
			forget_held(held);
		started = 1;
		show_progress(0);
		if (finished || (njobs == 0 && (stopsig || tripped ||
		    paused == 2)))
			break;
		/* Counting every state walks every task: only when idle.
		 * When the next retry is due changes with what others
		 * write, with our own retries, and with time. */
		if (njobs == 0 && (rc = au_aw_counts(aw, c)) != 0)
			abandon(rc);
		if (news || retried || now - counted >= 200 || njobs == 0) {
			at = next_retry();
			counted = now;
		}
		if (nowait && njobs == 0 && c[AU_AW_WAITING] > 0 &&
		    c[AU_AW_READY] + c[AU_AW_RUNNING] + c[AU_AW_RETRYING] +
		    c[AU_AW_INTERRUPTED] == 0) {
			show_progress(1);
			au_note("only approvals are left: come back later");
			return EX_TEMPFAIL;
		}
		/* Sleep until a child, a signal, or the next timer. */
		/* Others may cancel our tasks, decide approvals, run
		 * tasks of this run: look again every 200ms. */
		timeout = 200;
		if (slurm)
			timeout = more ? 0 : 100;
		if (at > 0 && at - now < timeout)
			timeout = at - now;
		for (i = 0; i < njobs; i++) {
			if (jobs[i].reaped) {
				timeout = 0;
				break;
			}
			if (jobs[i].deadline > 0 && jobs[i].killat == 0 &&
			    jobs[i].deadline - now < timeout)
				timeout = jobs[i].deadline - now;
			if (jobs[i].killat > 0 && jobs[i].killat < INT64_MAX &&
			    jobs[i].killat - now < timeout)
				timeout = jobs[i].killat - now;
		}
		wait_events(timeout < 0 ? 0 : timeout);
	}
	show_progress(1);
	if (stopsig)
		return 128 + stopsig;
	if ((rc = au_aw_counts(aw, c)) != 0)
		au_die(rc, "%s", au_errmsg());
	return c[AU_AW_DEAD] + c[AU_AW_SKIPPED] + c[AU_AW_CANCELLED] > 0 ||
	    tripped ? 1 : 0;
}

/* --retry: "N" attempts, or attempts=N,delay=D,factor=F,max=D,jitter=J. */
static void
parse_policy(const char *spec, struct au_aw_policy *p)
{
	char *copy = au_xstrdup(spec), *item, *save, *eq, *end;
	int64_t ms;
	double d;
	long n;

	if (*spec >= '0' && *spec <= '9') {
		/* A bare number: the attempts. */
		n = strtol(spec, &end, 10);
		if (*end != '\0' || n < 1 || n > 1000)
			goto bad;
		p->attempts = (int)n;
		free(copy);
		return;
	}
	if (*spec == '\0')
		goto bad;
	for (item = strtok_r(copy, ",", &save); item;
	    item = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(item, '=')) == NULL)
			goto bad;
		*eq++ = '\0';
		if (strcmp(item, "attempts") == 0) {
			n = strtol(eq, &end, 10);
			if (*eq == '\0' || *end != '\0' || n < 1 || n > 1000)
				goto bad;
			p->attempts = (int)n;
		} else if (strcmp(item, "delay") == 0 ||
		    strcmp(item, "max") == 0) {
			if (au_dur_parse(eq, &ms) != 0)
				goto bad;
			*(strcmp(item, "delay") == 0 ? &p->delay_ms :
			    &p->max_ms) = ms;
		} else if (strcmp(item, "factor") == 0 ||
		    strcmp(item, "jitter") == 0) {
			d = strtod(eq, &end);
			if (*eq == '\0' || *end != '\0' ||
			    (strcmp(item, "factor") == 0 ? d < 1 || d > 100 :
			    d < 0 || d > 1))
				goto bad;
			*(strcmp(item, "factor") == 0 ? &p->factor :
			    &p->jitter) = d;
		} else {
			goto bad;
		}
	}
	/* Empty items (",,") are no policy either. */
	if (strstr(spec, ",,") != NULL || spec[0] == ',' ||
	    spec[strlen(spec) - 1] == ',')
		goto bad;
	free(copy);
	return;
bad:
	free(copy);
	au_usage_die(&cmd, "--retry: invalid policy %s", au_quote(spec));
}

/* Every transition goes to the audit log too, in its transaction; with
 * no audit key yet, say so once and run unaudited. */
static void
open_audit(void)
{
	audit = au_xaudit_open(db, "audit-write --init makes the keys; "
	    "--no-audit says not to audit");
	if (audit != NULL)
		au_aw_set_audit(aw, audit);
}

int
main(int argc, char **argv)
{
	const char *arg, *run = NULL, *workerfile = NULL, *joblogfile = NULL;
	struct au_aw_policy pol = { 1, 1000, 300000, 2, 0 };
	int64_t approval = 0, lease = 30000;
	long slots = sysconf(_SC_NPROCESSORS_ONLN);
	struct sigaction sa;
	char *dbpath, *slash, *end;
	uint64_t size;
	int c, rc;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case 'j':
			slots = strtol(arg, &end, 10);
			if (*arg == '\0' || *end != '\0' || slots < 1 ||
			    slots > 10000)
				au_usage_die(&cmd, "-j: expected a number from "
				    "1 to 10000, not %s", au_quote(arg));
			break;
		case O_WORKERS:
			workerfile = arg;
			break;
		case O_RUN:
			run = arg;
			break;
		case O_RETRY:
			parse_policy(arg, &pol);
			break;
		case O_FAILFAST:
			failfast = 1;
			break;
		case O_NOWAIT:
			nowait = 1;
			break;
		case O_APPROVAL:
			approval = au_opt_dur(&cmd, "--approval-timeout", arg);
			break;
		case O_GRACE:
			grace = au_opt_dur(&cmd, "--grace", arg);
			break;
		case O_JOBLOG:
			joblogfile = arg;
			break;
		case O_LOGCAP:
			if (au_size_parse(arg, &size) != 0)
				au_usage_die(&cmd, "--log-cap: invalid size %s",
				    au_quote(arg));
			logcap = size;
			break;
		case O_LEASE:
			lease = au_opt_dur(&cmd, "--lease", arg);
			if (lease < 1000)
				au_usage_die(&cmd, "--lease: at least 1s");
			break;
		case O_NOAUDIT:
			noaudit = 1;
			break;
		case O_EXECUTOR:
			if (strcmp(arg, "slurm") == 0)
				slurm = 1;
			else if (strcmp(arg, "local") != 0)
				au_usage_die(&cmd, "--executor: expected local "
				    "or slurm, not %s", au_quote(arg));
			break;
		}
	}
	argc -= au_optind;
	argv += au_optind;
	if (run != NULL && argc > 0)
		au_usage_die(&cmd, "--run takes no file operands");
	if (slurm && slurm_check() != 0)
		au_die(EX_UNAVAILABLE, "%s", au_errmsg());
	if (workerfile != NULL)
		read_workers(workerfile);
	else
		default_worker(slots > 0 ? (int)slots : 1);

	au_out_init();
	db = au_xdb_open();
	if (run != NULL)
		snprintf(runid, sizeof runid, "%s", run);
	else
		read_plan(argv, argc);
	if ((rc = au_aw_open(db, runid, "aw-sched", &aw)) != 0)
		au_die(rc, "%s", au_errmsg());
	au_aw_set_policy(aw, &pol);
	au_aw_set_approval_timeout(aw, approval);
	au_aw_set_lease(aw, lease);
	if (!noaudit)
		open_audit();
	if (workerfile != NULL)
		check_capable();
	dbpath = au_db_path(au_opts.db);
	if ((slash = strrchr(dbpath, '/')) != NULL)
		*slash = '\0';
	logdir = au_xasprintf("%s/logs", slash ? dbpath : ".");
	free(dbpath);
	if (joblogfile != NULL) {
		if ((joblog = fopen(joblogfile, "w")) == NULL)
			au_die(EX_CANTCREAT, "%s:", joblogfile);
		fprintf(joblog, "Seq\tHost\tStarttime\tJobRuntime\tSend\t"
		    "Receive\tExitval\tSignal\tCommand\n");
	}
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0)
		au_die(EX_SOFTWARE, "pipe:");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	progress = isatty(STDERR_FILENO) && !au_quiet;
	t0 = au_mono_ms();

	rc = schedule();

	for (c = 0; c < NQ; c++)
		sqlite3_finalize(qs[c]);
	au_aw_close(aw);
	if (audit != NULL && au_audit_close(audit) != 0)
		au_die(EX_IOERR, "audit: %s", au_errmsg());
	au_db_close(db);
	if (joblog != NULL && fclose(joblog) != 0)
		au_die(EX_IOERR, "joblog:");
	au_out_close();
	return rc;
}
