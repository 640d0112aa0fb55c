/*
 * approval.c - the approval queue in the state file: a program that needs
 * a person's yes (a task marked "approval":"required", a tool call under
 * an "ask" policy) files a request; ws-approve answers it; the requester
 * waits, or comes back later.  A request that expires counts as denied.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "agentutils.h"

int
au_approval_create(sqlite3 *db, const char *requester, const char *subject,
    const char *summary, const char *details, int64_t expires_ms,
    char id[AU_ID_LEN])
{
	char now[AU_TS_LEN], exp[AU_TS_LEN];

	au_ulid(id);
	au_ts_fmt(au_now_ms(), now);
	if (expires_ms > 0)
		au_ts_fmt(expires_ms, exp);
	return au_db_run(db, "INSERT INTO approval_requests (id, created, "
	    "requester, subject, summary, details, expires_at) VALUES (?1, "
	    "?2, ?3, ?4, ?5, ?6, ?7)", NULL, 7, id, now, requester, subject,
	    summary, details, expires_ms > 0 ? exp : NULL);
}

int
au_approval_expire(sqlite3 *db)
{
	char now[AU_TS_LEN];

	au_ts_fmt(au_now_ms(), now);
	return au_db_run(db, "UPDATE approval_requests SET status = 'expired', "
	    "decided_at = ?1, decided_by = 'timeout' WHERE status = 'pending' "
	    "AND expires_at IS NOT NULL AND expires_at <= ?1", NULL, 1, now);
}

int
au_approval_withdraw(sqlite3 *db, const char *id)
{
	char now[AU_TS_LEN];

	au_ts_fmt(au_now_ms(), now);
	return au_db_run(db, "UPDATE approval_requests SET status = "
	    "'withdrawn', decided_at = ?2, decided_by = 'requester' WHERE id = "
	    "?1 AND status = 'pending'", NULL, 2, id, now);
}

int
au_approval_decide(sqlite3 *db, struct au_audit *a, const char *id,
    int approve, const char *by, const char *reason)
{
	char now[AU_TS_LEN];
	jv rec;
	int rc, n;

	if ((rc = au_approval_expire(db)) != 0)
		return rc;
	au_ts_fmt(au_now_ms(), now);
	rc = au_db_run(db, "UPDATE approval_requests SET status = ?2, "
	    "decided_by = ?3, decided_at = ?4, reason = ?5 WHERE id = ?1 AND "
	    "status = 'pending'", &n, 5, id, approve ? "approved" : "denied",
	    by, now, reason);
	if (rc != 0)
		return rc;
	if (n == 1) {
		if (a == NULL || (rc = au_approval_get(db, id, &rec)) != 0)
			return rc;
		rc = au_audit_append(a, rec, NULL, NULL);
		jv_free(rec);
		return rc;
	}
	if ((rc = au_approval_get(db, id, &rec)) != 0)
		return rc;
	rc = au_seterr(1, "request %s is %s already", id,
	    au_jv_str(rec, "status"));
	jv_free(rec);
	return rc;
}

static const char cols[] = "id, created, requester, subject, summary, "
    "details, status, decided_by, decided_at, reason, expires_at";

/* The record of the current row of s (selected with cols). */
static jv
row(sqlite3_stmt *s)
{
	jv r = jv_object_set(jv_object(), jv_string("type"),
	    jv_string("approval.request"));
	int i;

	for (i = 0; i < sqlite3_column_count(s); i++) {
		const char *name = sqlite3_column_name(s, i);
		const char *v = (const char *)sqlite3_column_text(s, i);
		jv d;

		if (v == NULL)
			continue;
		if (strcmp(name, "details") == 0 &&
		    jv_is_valid(d = jv_parse(v))) {
			r = jv_object_set(r, jv_string(name), d);
			continue;
		}
		if (strcmp(name, "details") == 0)
			jv_free(d);
		r = jv_object_set(r, jv_string(name), jv_string(v));
	}
	return r;
}

int
au_approval_get(sqlite3 *db, const char *id, jv *rec)
{
	char q[256];
	sqlite3_stmt *s;
	int rc;

	*rec = jv_invalid();
	snprintf(q, sizeof q, "SELECT %s FROM approval_requests WHERE id = ?1",
	    cols);
	if ((rc = sqlite3_prepare_v2(db, q, -1, &s, NULL)) != SQLITE_OK)
		return au_db_error(db, rc);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*rec = row(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return au_seterr(EX_NOINPUT, "no approval request %s",
		    au_quote(id));
	return rc == SQLITE_ROW ? 0 : au_db_error(db, rc);
}

int
au_approval_list(sqlite3 *db, const char *status, jv *list)
{
	char q[256];
	sqlite3_stmt *s;
	int rc;

	*list = jv_array();
	snprintf(q, sizeof q, "SELECT %s FROM approval_requests WHERE ?1 IS "
	    "NULL OR status = ?1 ORDER BY created, id", cols);
	if ((rc = sqlite3_prepare_v2(db, q, -1, &s, NULL)) != SQLITE_OK)
		return au_db_error(db, rc);
	if (status != NULL)
		sqlite3_bind_text(s, 1, status, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*list = jv_array_append(*list, row(s));
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : au_db_error(db, rc);
}

int
au_approval_wait(sqlite3 *db, const char *id, int64_t timeout_ms,
    volatile sig_atomic_t *stop, jv *rec)
{
	return au_approval_wait_watch(db, id, timeout_ms, stop, NULL, rec);
}

int
au_approval_wait_watch(sqlite3 *db, const char *id, int64_t timeout_ms,
    volatile sig_atomic_t *stop, struct au_watch *w, jv *rec)
{
	int64_t until = au_mono_ms() + timeout_ms;
	int rc;

	for (;;) {
		*rec = jv_invalid();
		if ((rc = au_approval_expire(db)) != 0 ||
		    (rc = au_approval_get(db, id, rec)) != 0)
			return rc;
		if (strcmp(au_jv_str(*rec, "status"), "pending") != 0)
			return 0;
		if ((stop != NULL && *stop) || (w != NULL && w->stopped) ||
		    (timeout_ms >= 0 && au_mono_ms() >= until))
			return EX_TEMPFAIL;
		jv_free(*rec);
		au_watch_wait(w, 100);
	}
}
