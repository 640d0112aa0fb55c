/*
 * run.c - the embedding API: runs of tasks driven from another runtime
 * (Python's ctypes, Go's cgo, a C program) with nothing but C strings.
 * Each call is one transaction on the state file, so several workers in
 * several processes can share a run with aw-sched, and aw-ctl sees it all.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentutils.h"

struct au_run {
	sqlite3 *db;
	struct au_aw *aw;
	char id[AU_ID_LEN + 64];
	int started;
};

/* Store a plan given as NDJSON text; its run id into r->id. */
static int
store(struct au_run *r, const char *plan)
{
	jv run = jv_invalid(), *tasks = NULL, v;
	size_t n = 0, cap = 0, i;
	const char *p = plan, *nl, *type;
	long line = 0;
	int rc = 0, stored;

	while (*p != '\0' && rc == 0) {
		nl = strchr(p, '\n');
		line++;
		v = jv_parse_sized(p, nl ? (int)(nl - p) : (int)strlen(p));
		p = nl ? nl + 1 : p + strlen(p);
		if (!jv_is_valid(v)) {
			jv m = jv_invalid_get_msg(v);

			/* A blank line is no record, not an error. */
			if (jv_get_kind(m) == JV_KIND_STRING &&
			    strstr(jv_string_value(m), "Expected JSON value"))
				rc = 0;
			else
				rc = au_seterr(EX_DATAERR, "plan:%ld: invalid "
				    "JSON", line);
			jv_free(m);
			continue;
		}
		type = au_jv_str(v, "type");
		if (type != NULL && strcmp(type, "run") == 0 &&
		    !jv_is_valid(run)) {
			run = v;
		} else if (type != NULL && strcmp(type, "task") == 0 &&
		    au_jv_str(v, "id") != NULL) {
			tasks = au_grow(tasks, &cap, n + 1, sizeof *tasks);
			tasks[n++] = v;
		} else {
			rc = au_seterr(EX_DATAERR, "plan:%ld: not a record "
			    "of a "
			    "plan (plan tasks with aw-plan first)", line);
			jv_free(v);
		}
	}
	if (rc == 0 && au_jv_str(run, "id") == NULL)
		rc = au_seterr(EX_DATAERR, "plan: no run record");
	if (rc == 0) {
		snprintf(r->id, sizeof r->id, "%s", au_jv_str(run, "id"));
		rc = au_aw_store_plan(r->db, run, tasks, n, &stored);
	}
	for (i = 0; i < n; i++)
		jv_free(tasks[i]);
	free(tasks);
	jv_free(run);
	return rc;
}

int
au_run_open(const char *dbpath, const char *run, const char *plan,
    struct au_run **out)
{
	struct au_run *r;
	char *path;
	int rc;

	*out = NULL;
	if ((run == NULL) == (plan == NULL))
		return au_seterr(EX_USAGE, "au_run_open: give either a run id "
		    "or a plan");
	if ((path = au_db_path(dbpath)) == NULL)
		return EX_CONFIG;
	r = au_xcalloc(1, sizeof *r);
	rc = au_db_open(path, &r->db);
	free(path);
	if (rc == 0 && plan != NULL)
		rc = store(r, plan);
	else if (rc == 0)
		snprintf(r->id, sizeof r->id, "%s", run);
	if (rc == 0)
		rc = au_aw_open(r->db, r->id, "au_run", &r->aw);
	if (rc != 0) {
		au_run_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

const char *
au_run_id(const struct au_run *r)
{
	return r->id;
}

/* Begin a turn: the transaction, the run started, the housekeeping. */
static int
turn(struct au_run *r)
{
	int rc;

	if ((rc = au_db_begin(r->db)) != 0)
		return rc;
	if (!r->started && (rc = au_aw_start(r->aw)) != 0)
		goto fail;
	r->started = 1;
	if ((rc = au_aw_tick(r->aw)) != 0)
		goto fail;
	return 0;
fail:
	au_db_rollback(r->db);
	return rc;
}

/* End a turn: commit (or roll back after rc), events already stored. */
static int
end(struct au_run *r, int rc)
{
	int c;

	if (rc == 0 || rc == 1 || rc == 2) {
		if ((c = au_db_commit(r->db)) != 0)
			rc = c;
	} else {
		au_db_rollback(r->db);
	}
	jv_free(au_aw_drain(r->aw));
	return rc;
}

static char *
dump(jv v)
{
	struct au_buf b = AU_BUF_INIT;

	au_json_dump(&b, v);
	jv_free(v);
	return b.s;
}

int
au_run_ready(struct au_run *r, char **json)
{
	jv list;
	int rc;

	*json = NULL;
	if ((rc = turn(r)) != 0)
		return rc;
	list = au_aw_ready(r->aw, 1000);
	if (!jv_is_valid(list))
		return end(r, EX_IOERR);
	*json = dump(list);
	return end(r, 0);
}

int
au_run_claim(struct au_run *r, const char *task, int *attempt,
    char **record)
{
	int rc, paused;

	*record = NULL;
	if ((rc = turn(r)) != 0)
		return rc;
	if ((rc = au_aw_paused(r->aw, &paused)) == 0 && paused)
		rc = au_seterr(1, "run %s is paused", r->id);
	if (rc == 0)
		rc = au_aw_claim(r->aw, task, jv_object_set(jv_object(),
		    jv_string("worker"), jv_string("au_run")), attempt);
	if (rc == 0)
		rc = au_aw_started(r->aw, task, getpid());
	if (rc == 0)
		*record = au_aw_record(r->aw, task);
	return end(r, rc);
}

int
au_run_next(struct au_run *r, char **task, char **record, int *attempt)
{
	jv list, t;
	int rc, finished, paused;

	*task = *record = NULL;
	if ((rc = turn(r)) != 0)
		return rc;
	if ((rc = au_aw_paused(r->aw, &paused)) != 0)
		return end(r, rc);
	if (paused)
		return end(r, paused == 2 ? 2 : 1);
	list = au_aw_ready(r->aw, 1);
	if (!jv_is_valid(list))
		return end(r, EX_IOERR);
	if (jv_array_length(jv_copy(list)) == 0) {
		jv_free(list);
		if ((rc = au_aw_finish(r->aw, &finished)) != 0)
			return end(r, rc);
		return end(r, finished ? 2 : 1);
	}
	t = jv_array_get(list, 0);
	*task = au_xstrdup(au_jv_str(t, "id"));
	jv_free(t);
	rc = au_aw_claim(r->aw, *task, jv_object_set(jv_object(),
	    jv_string("worker"), jv_string("au_run")), attempt);
	if (rc == 0)
		rc = au_aw_started(r->aw, *task, getpid());
	if (rc == 0)
		*record = au_aw_record(r->aw, *task);
	if (rc != 0) {
		free(*task);
		*task = NULL;
	}
	return end(r, rc);
}

int
au_run_report(struct au_run *r, const char *task, int attempt,
    int exit_code, const char *error)
{
	struct au_aw_result res = { exit_code, 0, 0, error };
	int rc, finished;

	if ((rc = turn(r)) != 0)
		return rc;
	rc = au_aw_report(r->aw, task, attempt, &res, jv_null());
	if (rc == 0)
		rc = au_aw_finish(r->aw, &finished);
	return end(r, rc);
}

int
au_run_events(struct au_run *r, int64_t after, char **ndjson)
{
	struct au_buf b = AU_BUF_INIT;
	jv list, e;
	int rc, i, n;

	*ndjson = NULL;
	if ((rc = au_aw_events(r->db, r->id, after, &list)) != 0)
		return rc;
	au_buf_grow(&b, 0);
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++) {
		e = jv_array_get(jv_copy(list), i);
		au_json_dump(&b, e);
		au_buf_addc(&b, '\n');
		jv_free(e);
	}
	jv_free(list);
	*ndjson = b.s;
	return 0;
}

int
au_run_answer(struct au_run *r, const char *id, int approve,
    const char *reason)
{
	return au_approval_decide(r->db, NULL, id, approve, "au_run", reason);
}

void
au_run_close(struct au_run *r)
{
	if (r == NULL)
		return;
	au_aw_close(r->aw);
	au_db_close(r->db);
	free(r);
}

void
au_free(void *p)
{
	free(p);
}
