/*
 * test-approval.c - approval.c, the approval queue in a state file in a
 * mkdtemp directory: filing requests (ids sortable by time, the record's
 * fields, details kept as JSON when they are JSON), deciding them once
 * (approve, deny, a second decision 1, an unknown id 66), withdrawing,
 * expiring (at their time, and before a late decision), listing oldest
 * first with and without a status, and all of it inside a caller's
 * transaction that is rolled back; waiting for a decision until the
 * timeout, *stop or a watch that says stop.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

static sqlite3 *db;

static void
bail(const char *what)
{
	printf("Bail out! %s (%s)\n", what, au_errmsg());
	exit(2);
}

/* The request id as a record, or bail. */
static jv
get(const char *id)
{
	jv rec;

	if (au_approval_get(db, id, &rec) != 0)
		bail(id);
	return rec;
}

/* Field key of request id, as compact JSON (malloc'd); "absent" when the
 * record has no such field. */
static char *
field(const char *id, const char *key)
{
	struct au_buf b = AU_BUF_INIT;
	jv rec = get(id), v = jv_object_get(rec, jv_string(key));

	if (!jv_is_valid(v)) {
		jv_free(v);
		return au_xstrdup("absent");
	}
	au_json_dump(&b, v);
	jv_free(v);
	return b.s;
}

/* The ids and statuses of a list (consumed): "ID:status ..." with ids cut
 * to the names given in map (pairs of id and name, NULL-ended). */
static char *
names(jv list, char *const *map)
{
	struct au_buf b = AU_BUF_INIT;
	int i, n = jv_array_length(jv_copy(list)), k;

	au_buf_grow(&b, 1);
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(list), i);
		const char *id = au_jv_str(e, "id"), *name = "?";

		for (k = 0; map[k] != NULL; k += 2)
			if (id && strcmp(map[k], id) == 0)
				name = map[k + 1];
		au_buf_addf(&b, "%s%s:%s", i ? " " : "", name,
		    au_jv_str(e, "status") ? au_jv_str(e, "status") : "-");
		if (!au_jv_str(e, "type") || strcmp(au_jv_str(e, "type"),
		    "approval.request") != 0)
			au_buf_adds(&b, "(not an approval.request)");
		jv_free(e);
	}
	jv_free(list);
	return b.s;
}

static int
recent(const char *ts)
{
	int64_t ms;

	return ts != NULL && strlen(ts) == 24 && ts[23] == 'Z' &&
	    au_ts_parse(ts, &ms) == 0 && ms > au_now_ms() - 60000 &&
	    ms <= au_now_ms();
}

static char a[AU_ID_LEN], b[AU_ID_LEN], c[AU_ID_LEN], d[AU_ID_LEN],
    e[AU_ID_LEN], f[AU_ID_LEN], g[AU_ID_LEN];

static void
test_create(void)
{
	char want[AU_TS_LEN];
	int64_t later = au_now_ms() + 3600000;
	jv rec, det;

	is_int(au_approval_create(db, "aw-sched", "run r task t",
	    "deploy prod", "{\"id\":\"t\",\"run\":\"deploy prod\"}", 0, a), 0,
	    "create: a request");
	is_int(strlen(a), 26, "create: its id is a ULID (%s)", a);
	is_int(au_approval_create(db, "tg-invoke", "tool rm", NULL, NULL, 0,
	    b), 0, "create: without summary and details");
	is_int(au_approval_create(db, "me", "plain", "s", "not JSON {", later,
	    c), 0, "create: details that are not JSON, an expiry");
	ok(strcmp(a, b) < 0 && strcmp(b, c) < 0,
	    "create: ids sort in the order made");

	rec = get(a);
	is_str(au_jv_str(rec, "type"), "approval.request",
	    "get: an approval.request record");
	is_str(au_jv_str(rec, "id"), a, "get: its id");
	is_str(au_jv_str(rec, "requester"), "aw-sched", "get: requester");
	is_str(au_jv_str(rec, "subject"), "run r task t", "get: subject");
	is_str(au_jv_str(rec, "summary"), "deploy prod", "get: summary");
	is_str(au_jv_str(rec, "status"), "pending", "get: pending");
	ok(recent(au_jv_str(rec, "created")), "get: created now, RFC 3339 "
	    "UTC with milliseconds (%s)", au_jv_str(rec, "created"));
	det = jv_object_get(jv_copy(rec), jv_string("details"));
	ok(jv_get_kind(det) == JV_KIND_OBJECT && au_jv_str(det, "run") &&
	    strcmp(au_jv_str(det, "run"), "deploy prod") == 0,
	    "get: details that are JSON, as JSON");
	jv_free(det);
	jv_free(rec);
	is_str_free(field(a, "expires_at"), "absent",
	    "get: no expiry, no expires_at");
	is_str_free(field(a, "decided_by"), "absent",
	    "get: undecided, no decided_by");
	is_str_free(field(a, "decided_at"), "absent",
	    "get: undecided, no decided_at");
	is_str_free(field(a, "reason"), "absent", "get: no reason yet");
	is_str_free(field(b, "summary"), "absent", "get: no summary");
	is_str_free(field(b, "details"), "absent", "get: no details");
	is_str_free(field(c, "details"), "\"not JSON {\"",
	    "get: details that are not JSON, as a string");
	{
		char q[AU_TS_LEN + 2];

		snprintf(q, sizeof q, "\"%s\"", au_ts_fmt(later, want));
		is_str_free(field(c, "expires_at"), q,
		    "get: expires_at, the time given");
	}

	rec = jv_null();
	is_int(au_approval_get(db, "nope", &rec), EX_NOINPUT,
	    "get: no such request, 66");
	ok(!jv_is_valid(rec), "get: and no record");
	jv_free(rec);
	is_str(au_errmsg(), "no approval request \"nope\"", "get: says so");
}

static void
test_decide(void)
{
	is_int(au_approval_decide(db, NULL, a, 1, "alice", "looks fine"), 0,
	    "decide: approve");
	is_str_free(field(a, "status"), "\"approved\"", "decide: approved");
	is_str_free(field(a, "decided_by"), "\"alice\"", "decide: by alice");
	is_str_free(field(a, "reason"), "\"looks fine\"",
	    "decide: with the reason");
	{
		jv rec = get(a);

		ok(recent(au_jv_str(rec, "decided_at")),
		    "decide: decided_at now (%s)",
		    au_jv_str(rec, "decided_at"));
		jv_free(rec);
	}
	is_int(au_approval_decide(db, NULL, a, 0, "bob", "no"), 1,
	    "decide: a second time, 1");
	{
		char want[128];

		snprintf(want, sizeof want, "request %s is approved already",
		    a);
		is_str(au_errmsg(), want, "decide: says so");
	}
	is_str_free(field(a, "status"), "\"approved\"",
	    "decide: the first decision stands");
	is_str_free(field(a, "decided_by"), "\"alice\"",
	    "decide: by the first");
	is_int(au_approval_decide(db, NULL, a, 1, "alice", "again"), 1,
	    "decide: approving twice, 1 too");

	is_int(au_approval_decide(db, NULL, b, 0, "bob", NULL), 0,
	    "decide: deny without a reason");
	is_str_free(field(b, "status"), "\"denied\"", "decide: denied");
	is_str_free(field(b, "reason"), "absent", "decide: no reason");
	is_int(au_approval_decide(db, NULL, b, 1, "alice", NULL), 1,
	    "decide: approving a denied request, 1");

	is_int(au_approval_decide(db, NULL, "nope", 1, "alice", NULL), EX_NOINPUT,
	    "decide: no such request, 66");
	is_str(au_errmsg(), "no approval request \"nope\"", "decide: says so");
}

static void
test_withdraw(void)
{
	is_int(au_approval_create(db, "aw-sched", "w", NULL, NULL, 0, d), 0,
	    "withdraw: a request");
	is_int(au_approval_withdraw(db, d), 0, "withdraw: it");
	is_str_free(field(d, "status"), "\"withdrawn\"",
	    "withdraw: withdrawn");
	is_str_free(field(d, "decided_by"), "\"requester\"",
	    "withdraw: by the requester");
	is_int(au_approval_withdraw(db, d), 0, "withdraw: again, 0");
	is_str_free(field(d, "status"), "\"withdrawn\"",
	    "withdraw: still withdrawn");
	is_int(au_approval_decide(db, NULL, d, 1, "alice", NULL), 1,
	    "withdraw: approving a withdrawn request, 1");
	is_int(au_approval_withdraw(db, a), 0,
	    "withdraw: an approved request, 0");
	is_str_free(field(a, "status"), "\"approved\"",
	    "withdraw: it stays approved");
}

static void
test_expire(void)
{
	int64_t now = au_now_ms();

	is_int(au_approval_create(db, "aw-sched", "old", NULL, NULL,
	    now - 1000, e), 0, "expire: a request whose time is past");
	is_int(au_approval_create(db, "aw-sched", "late", NULL, NULL,
	    now - 1000, f), 0, "expire: another");
	is_str_free(field(e, "status"), "\"pending\"",
	    "expire: pending until expired");
	is_int(au_approval_expire(db), 0, "expire");
	is_str_free(field(e, "status"), "\"expired\"", "expire: expired");
	is_str_free(field(e, "decided_by"), "\"timeout\"",
	    "expire: by timeout");
	is_str_free(field(c, "status"), "\"pending\"",
	    "expire: one due in an hour stays pending");
	is_str_free(field(a, "status"), "\"approved\"",
	    "expire: decided ones stay as they are");
	is_int(au_approval_decide(db, NULL, e, 1, "alice", NULL), 1,
	    "expire: approving an expired request, 1");
	{
		char want[128];

		snprintf(want, sizeof want, "request %s is expired already",
		    e);
		is_str(au_errmsg(), want, "expire: says so");
	}
	/* f was expired by the call above too: make one past its time that
	 * nobody has expired yet. */
	is_int(au_approval_create(db, "aw-sched", "later", NULL, NULL,
	    now - 500, g), 0, "expire: one more past its time");
	is_str_free(field(g, "status"), "\"pending\"",
	    "expire: pending, not expired yet");
	is_int(au_approval_decide(db, NULL, g, 1, "alice", NULL), 1,
	    "expire: a decision after its time comes too late, 1");
	is_str_free(field(g, "status"), "\"expired\"", "expire: expired");
	is_str_free(field(f, "status"), "\"expired\"",
	    "expire: every request past its time expires");
}

static void
test_list(void)
{
	char *const map[] = { a, "a", b, "b", c, "c", d, "d", e, "e", f, "f",
	    g, "g", NULL };
	jv list;

	is_int(au_approval_list(db, NULL, &list), 0, "list: all");
	is_str_free(names(list, map), "a:approved b:denied c:pending "
	    "d:withdrawn e:expired f:expired g:expired",
	    "list: all, oldest first");
	is_int(au_approval_list(db, "pending", &list), 0, "list: pending");
	is_str_free(names(list, map), "c:pending", "list: the pending one");
	is_int(au_approval_list(db, "expired", &list), 0, "list: expired");
	is_str_free(names(list, map), "e:expired f:expired g:expired",
	    "list: the expired ones, oldest first");
	is_int(au_approval_list(db, "nonsense", &list), 0,
	    "list: an unknown status");
	is_int(jv_array_length(list), 0, "list: none");
}

/* The queue works in the caller's transaction, as aw.c uses it. */
static void
test_transaction(void)
{
	char id[AU_ID_LEN];
	jv rec;

	is_int(au_db_begin(db), 0, "tx: begin");
	is_int(au_approval_create(db, "aw-sched", "tx", NULL, NULL, 0, id), 0,
	    "tx: create");
	is_int(au_approval_decide(db, NULL, c, 0, "bob", "in tx"), 0,
	    "tx: decide");
	au_db_rollback(db);
	rec = jv_null();
	is_int(au_approval_get(db, id, &rec), EX_NOINPUT,
	    "tx: rolled back, the request is gone");
	jv_free(rec);
	is_str_free(field(c, "status"), "\"pending\"",
	    "tx: rolled back, the decision too");
	is_int(au_db_begin(db), 0, "tx: begin");
	is_int(au_approval_decide(db, NULL, c, 0, "bob", "in tx"), 0,
	    "tx: decide");
	is_int(au_db_commit(db), 0, "tx: commit");
	is_str_free(field(c, "status"), "\"denied\"", "tx: committed");
}

static int nwatched;

/* A watch that counts its calls and says stop at an 'x' on its pipe. */
static int
at_x(void *arg)
{
	struct au_watch *w = arg;
	char ch;

	nwatched++;
	return read(w->fd, &ch, 1) == 1 && ch == 'x';
}

static void
test_wait(void)
{
	volatile sig_atomic_t stop = 0;
	struct au_watch w = { -1, at_x, &w, 0 };
	char id[AU_ID_LEN];
	int64_t t0;
	int fd[2];
	jv rec;

	if (au_approval_create(db, "tg-serve", "wait", NULL, NULL, 0,
	    id) != 0 || pipe(fd) != 0)
		bail("wait: a request");
	t0 = au_mono_ms();
	is_int(au_approval_wait(db, id, 250, NULL, &rec), EX_TEMPFAIL,
	    "wait: nobody answers, 75");
	ok(au_mono_ms() - t0 >= 250, "wait: at the timeout");
	is_str(au_jv_str(rec, "status"), "pending", "wait: still pending");
	jv_free(rec);
	w.fd = fd[0];
	if (write(fd[1], "nx", 2) != 2)
		bail("wait: write");
	t0 = au_mono_ms();
	is_int(au_approval_wait_watch(db, id, 5000, &stop, &w, &rec), EX_TEMPFAIL,
	    "wait: the watch says stop, 75");
	ok(au_mono_ms() - t0 < 1000, "wait: at once (%lld ms)",
	    (long long)(au_mono_ms() - t0));
	is_int(nwatched, 2, "wait: its fn called for each byte");
	is_int(w.stopped, 1, "wait: stopped set");
	is_str(au_jv_str(rec, "status"), "pending", "wait: the request "
	    "left pending");
	jv_free(rec);
	w.stopped = 0;
	stop = 1;
	is_int(au_approval_wait_watch(db, id, 5000, &stop, &w, &rec), EX_TEMPFAIL,
	    "wait: *stop set, 75");
	jv_free(rec);
	if (au_approval_decide(db, NULL, id, 1, "alice", NULL) != 0)
		bail("wait: decide");
	is_int(au_approval_wait_watch(db, id, 5000, &stop, &w, &rec), 0,
	    "wait: decided, 0 even when told to stop");
	is_str(au_jv_str(rec, "status"), "approved", "wait: its record");
	jv_free(rec);
	close(fd[0]);
	close(fd[1]);
}

int
main(void)
{
	tmpdir_make("test-approval");
	au_setprog("test-approval");
	if (au_db_open(at("state.db"), &db) != 0)
		bail("open");
	test_create();
	test_decide();
	test_withdraw();
	test_expire();
	test_list();
	test_transaction();
	test_wait();
	au_db_close(db);
	tmpdir_remove();
	return done();
}
