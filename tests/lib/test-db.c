/*
 * test-db.c - db.c: where the state file is (--db, $AGENTUTILS_DB,
 * $XDG_STATE_HOME, $HOME), what opening makes (a 0600 file in 0700
 * directories, WAL, foreign keys, the busy timeout, the schema at its
 * version with family-prefixed tables, no second migration), what it
 * refuses (a newer schema 78, not a database 74, uncreatable 73, busy 75),
 * au_db_run's parameters and changes, and transactions: commit, rollback,
 * a second writer giving up with 75 after $AGENTUTILS_BUSY_TIMEOUT, and
 * the log kept after the last close but folded and truncated when long.
 * Everything lives in a mkdtemp directory.
 */
#define _XOPEN_SOURCE 700
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

/* The first column of the first row of sql, as an int. */
static int
qint(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The same as text, in a static buffer. */
static const char *
qtext(sqlite3 *db, const char *sql)
{
	static char buf[256];
	sqlite3_stmt *st;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return "(error)";
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, sizeof buf, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

static int
mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void
test_path(void)
{
	char want[4096];
	struct passwd *pw;

	unsetenv("AGENTUTILS_DB");
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/au", 1);
	is_str_free(au_db_path(NULL),
	    "/home/au/.local/state/agentutils/state.db",
	    "path: $HOME/.local/state");
	setenv("XDG_STATE_HOME", "/xdg/state", 1);
	is_str_free(au_db_path(NULL), "/xdg/state/agentutils/state.db",
	    "path: $XDG_STATE_HOME before $HOME");
	setenv("XDG_STATE_HOME", "relative/state", 1);
	is_str_free(au_db_path(NULL),
	    "/home/au/.local/state/agentutils/state.db",
	    "path: a relative $XDG_STATE_HOME is ignored");
	setenv("XDG_STATE_HOME", "", 1);
	is_str_free(au_db_path(NULL),
	    "/home/au/.local/state/agentutils/state.db",
	    "path: an empty $XDG_STATE_HOME is ignored");
	setenv("XDG_STATE_HOME", "/xdg/state", 1);
	setenv("AGENTUTILS_DB", "/env/au.db", 1);
	is_str_free(au_db_path(NULL), "/env/au.db",
	    "path: $AGENTUTILS_DB before $XDG_STATE_HOME");
	is_str_free(au_db_path("/opt/x.db"), "/opt/x.db",
	    "path: --db before all");
	is_str_free(au_db_path(""), "/env/au.db",
	    "path: an empty --db is ignored");
	setenv("AGENTUTILS_DB", "", 1);
	is_str_free(au_db_path(NULL), "/xdg/state/agentutils/state.db",
	    "path: an empty $AGENTUTILS_DB is ignored");
	unsetenv("AGENTUTILS_DB");
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	pw = getpwuid(getuid());
	snprintf(want, sizeof want, "%s/.local/state/agentutils/state.db",
	    pw ? pw->pw_dir : "");
	is_str_free(au_db_path(NULL), want,
	    "path: no $HOME: the passwd entry");
	setenv("HOME", tmpdir, 1);
}

static void
test_open(void)
{
	const char *path = at("a/b/state.db");
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	int rc, n = 0, alien = 0;

	rc = au_db_open(path, &db);
	is_int(rc, 0, "open: creates %s", path);
	ok(db != NULL, "open: gives the connection");
	if (db == NULL)
		return;
	is_int(mode(at("a")), 0700, "open: new directory a is 0700");
	is_int(mode(at("a/b")), 0700, "open: new directory a/b is 0700");
	is_int(mode(path), 0600, "open: the file is 0600");
	is_str(qtext(db, "PRAGMA journal_mode"), "wal", "open: WAL");
	is_int(mode(at("a/b/state.db-wal")), 0600, "open: the WAL is 0600");
	is_int(qint(db, "PRAGMA foreign_keys"), 1, "open: foreign keys on");
	is_int(qint(db, "PRAGMA busy_timeout"), 200,
	    "open: busy timeout from $AGENTUTILS_BUSY_TIMEOUT");
	ok(au_db_schema_version() >= 1, "schema version is at least 1");
	is_int(qint(db, "PRAGMA user_version"), au_db_schema_version(),
	    "open: user_version is the schema version");

	/* Every table carries its family's prefix. */
	sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = "
	    "'table'", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		n++;
		if (strncmp(t, "aw_", 3) && strncmp(t, "tg_", 3) &&
		    strncmp(t, "audit_", 6) && strncmp(t, "mf_", 3) &&
		    strncmp(t, "tk_", 3) && strncmp(t, "ws_", 3) &&
		    strncmp(t, "approval_", 9)) {
			printf("# table %s\n", t);
			alien++;
		}
	}
	sqlite3_finalize(st);
	ok(n >= 3 && alien == 0, "open: %d tables, all prefixed by family",
	    n);

	is_int(au_db_exec(db, "INSERT INTO aw_tasks (run_id, id, ord, level, "
	    "kind, priority, record) VALUES ('none', 't', 0, 0, 'run', 0, "
	    "'{}')"), EX_IOERR, "exec: a foreign key violation is 74");
	ok(strstr(au_errmsg(), "FOREIGN KEY") != NULL && strstr(au_errmsg(),
	    path) != NULL, "exec: errmsg names the file and the reason (%s)",
	    au_errmsg());
	is_int(au_db_exec(db, "SELEKT 1"), EX_IOERR, "exec: bad SQL is 74");
	ok(strstr(au_errmsg(), "syntax error") != NULL,
	    "exec: errmsg says why (%s)", au_errmsg());

	n = -1;
	is_int(au_db_run(db, "INSERT INTO audit_meta (name, value) VALUES "
	    "(?1, ?2), (?3, ?2)", &n, 3, "a", "v", "b"), 0, "run: insert");
	is_int(n, 2, "run: two rows changed");
	is_int(au_db_run(db, "UPDATE audit_meta SET value = 'w' WHERE name "
	    "= ?1", &n, 1, "nope"), 0, "run: update nothing");
	is_int(n, 0, "run: no rows changed");
	is_int(au_db_run(db, "INSERT INTO audit_meta (name, value) VALUES "
	    "('c', ?1)", NULL, 1, NULL), EX_IOERR, "run: NULL binds NULL (a "
	    "NOT NULL column refuses it)");
	is_int(au_db_run(db, "SELEKT ?1", NULL, 1, "x"), EX_IOERR,
	    "run: bad SQL is 74");
	au_db_close(db);
}

#define RUN(id) "INSERT INTO aw_runs (id, created, tasks, levels, record) " \
	"VALUES ('" id "', '2026-01-01T00:00:00.000Z', 0, 0, '{}')"

static void
test_tx(void)
{
	const char *path = at("a/b/state.db");
	sqlite3 *db, *c;
	int rc;

	if (au_db_open(path, &db) != 0)
		return;
	is_int(au_db_begin(db), 0, "tx: begin");
	is_int(au_db_exec(db, RUN("r1")), 0, "tx: insert");
	au_db_rollback(db);
	is_int(qint(db, "SELECT count(*) FROM aw_runs"), 0,
	    "tx: rollback undoes");
	au_db_rollback(db);
	ok(sqlite3_get_autocommit(db), "tx: rollback without one is "
	    "harmless");
	is_int(au_db_begin(db), 0, "tx: begin again");
	is_int(au_db_exec(db, RUN("r1")), 0, "tx: insert again");
	is_int(au_db_commit(db), 0, "tx: commit");
	is_int(au_db_commit(db), EX_IOERR, "tx: commit without one is 74");
	au_db_close(db);

	/* Reopening keeps the data and does not migrate again: a migration
	 * would need the write lock another connection holds. */
	if (au_db_open(path, &db) != 0)
		return;
	is_int(qint(db, "SELECT count(*) FROM aw_runs"), 1,
	    "reopen: the data is there");
	is_int(au_db_begin(db), 0, "reopen: hold the write lock");
	rc = au_db_open(path, &c);
	is_int(rc, 0, "reopen: opens while another connection writes");
	if (rc == 0) {
		is_int(qint(c, "PRAGMA user_version"),
		    au_db_schema_version(), "reopen: same version");
		au_db_close(c);
	}
	au_db_rollback(db);
	au_db_close(db);
}

static void
test_busy(void)
{
	const char *path = at("a/b/state.db");
	sqlite3 *a, *b, *raw;
	int64_t t0, ms;

	if (au_db_open(path, &a) != 0 || au_db_open(path, &b) != 0)
		return;
	is_int(au_db_begin(a), 0, "busy: the first writer begins");
	t0 = au_mono_ms();
	is_int(au_db_begin(b), EX_TEMPFAIL, "busy: the second gets 75");
	ms = au_mono_ms() - t0;
	ok(ms >= 150 && ms < 2000, "busy: after the 200ms timeout (%lld ms)",
	    (long long)ms);
	ok(strstr(au_errmsg(), "busy") != NULL && strstr(au_errmsg(),
	    "200ms") != NULL && strstr(au_errmsg(), path) != NULL,
	    "busy: errmsg says busy, the timeout and the file (%s)",
	    au_errmsg());
	ok(sqlite3_get_autocommit(b), "busy: no transaction left open");
	is_int(au_db_exec(b, RUN("r2")), EX_TEMPFAIL, "busy: a write "
	    "outside a transaction is 75 too");
	is_int(au_db_exec(a, RUN("r2")), 0, "busy: the first writes");
	is_int(au_db_commit(a), 0, "busy: and commits");
	is_int(au_db_begin(b), 0, "busy: then the second begins");
	is_int(au_db_exec(b, RUN("r3")), 0, "busy: writes");
	is_int(au_db_commit(b), 0, "busy: and commits");
	is_int(qint(a, "SELECT count(*) FROM aw_runs"), 3,
	    "busy: both writes are there");
	au_db_close(a);
	au_db_close(b);

	/* A fresh file whose creation another writer holds up. */
	if (sqlite3_open(at("fresh.db"), &raw) != SQLITE_OK)
		return;
	sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	a = (sqlite3 *)1;
	is_int(au_db_open(at("fresh.db"), &a), EX_TEMPFAIL,
	    "busy: opening a file another writer holds is 75");
	ok(a == NULL, "busy: no connection then");
	sqlite3_exec(raw, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(raw);
}

static void
test_refuse(void)
{
	char junk[5000];
	sqlite3 *db, *raw;
	int rc;

	if (sqlite3_open(at("newer.db"), &raw) == SQLITE_OK) {
		sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL,
		    NULL);
		sqlite3_close(raw);
	}
	db = (sqlite3 *)1;
	is_int(au_db_open(at("newer.db"), &db), EX_CONFIG,
	    "refuse: a newer schema is 78");
	ok(db == NULL, "refuse: no connection then");
	ok(strstr(au_errmsg(), "99") != NULL && strstr(au_errmsg(), "newer")
	    != NULL, "refuse: errmsg says so (%s)", au_errmsg());

	memset(junk, 'x', sizeof junk);
	writefile(at("junk.db"), junk, sizeof junk);
	db = (sqlite3 *)1;
	is_int(au_db_open(at("junk.db"), &db), EX_IOERR,
	    "refuse: not a database is 74");
	ok(db == NULL, "refuse: no connection then");
	ok(strstr(au_errmsg(), "not a database") != NULL,
	    "refuse: errmsg says so (%s)", au_errmsg());
	is_int(mode(at("junk.db")), 0600, "refuse: the file is left as it "
	    "was");

	writefile(at("file"), "x", 1);
	is_int(au_db_open(at("file/sub/state.db"), &db), EX_CANTCREAT,
	    "refuse: a directory under a file is 73");
	ok(strstr(au_errmsg(), "file/sub") != NULL, "refuse: errmsg names "
	    "it (%s)", au_errmsg());
	rc = au_db_open(at("file/state.db"), &db);
	is_int(rc, EX_CANTCREAT, "refuse: a file under a file is 73 (%s)",
	    au_errmsg());
	if (rc == 0)
		au_db_close(db);
	is_int(au_db_open(tmpdir, &db), EX_CANTCREAT,
	    "refuse: a directory is 73");
}

static void
xopen_bad(void)
{
	au_setprog("test-db");
	au_opts.db = at("file/sub/state.db");
	au_xdb_open();
}

static void
test_xopen(void)
{
	char want[4096];
	struct child c;
	sqlite3 *db;

	au_opts.db = at("x/state.db");
	db = au_xdb_open();
	ok(db != NULL && mode(at("x/state.db")) == 0600,
	    "xopen: opens au_opts.db");
	au_db_close(db);
	au_opts.db = NULL;

	child_run(xopen_bad, &c);
	ok(c.code == EX_CANTCREAT, "xopen: dies with 73");
	snprintf(want, sizeof want, "test-db: %s: cannot create directory: "
	    "Not a directory\n", at("file/sub"));
	is_str(c.err, want, "xopen: with the message");
}

/* A run leaves the log beside the file, its commits in it, for the next
 * run to read; nothing is lost when nobody folds it back. */
static void
test_keep_log(void)
{
	const char *path = at("k/state.db");
	sqlite3 *db = NULL;
	struct stat st;

	if (au_db_open(path, &db) != 0 || au_db_exec(db, "CREATE TABLE "
	    "aw_kept (x); INSERT INTO aw_kept VALUES (42)") != 0) {
		ok(0, "keep: open and write: %s", au_errmsg());
		return;
	}
	au_db_close(db);
	ok(stat(at("k/state.db-wal"), &st) == 0 && st.st_size > 0,
	    "keep: the log stays after the last close, not empty");
	db = NULL;
	is_int(au_db_open(path, &db), 0, "keep: opened again");
	if (db == NULL)
		return;
	is_int(qint(db, "SELECT x FROM aw_kept"), 42,
	    "keep: the next run reads what the last one wrote");
	au_db_close(db);
}

/* The size of the log of path, or -1. */
static long long
logsize(const char *path)
{
	char wal[1024];
	struct stat st;

	snprintf(wal, sizeof wal, "%s-wal", path);
	return stat(wal, &st) == 0 ? (long long)st.st_size : -1;
}

/* A commit that leaves more than 1000 pages in the log folds them into
 * the file and truncates the log, so that the next run has none to read;
 * while a reader needs the log it stays, and the commit does not wait. */
static void
test_fold(void)
{
	const char *path = at("f/state.db");
	static const char *big = "BEGIN; CREATE TABLE IF NOT EXISTS aw_big "
	    "(x); WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
	    "FROM i WHERE n < 1200) INSERT INTO aw_big SELECT "
	    "randomblob(3000) FROM i; COMMIT";
	sqlite3 *db, *r;
	int64_t t0, ms;

	/* A wait for the reader would be long enough to tell from the
	 * writing of 3.6 MB on a loaded machine. */
	setenv("AGENTUTILS_BUSY_TIMEOUT", "5s", 1);
	if (au_db_open(path, &db) != 0 || au_db_open(path, &r) != 0) {
		ok(0, "fold: open: %s", au_errmsg());
		return;
	}
	is_int(au_db_exec(db, RUN("r1")), 0, "fold: a small commit");
	ok(logsize(path) > 0, "fold: stays in the log (%lld bytes)",
	    logsize(path));
	is_int(au_db_exec(r, "BEGIN"), 0, "fold: a reader begins");
	is_int(qint(r, "SELECT count(*) FROM aw_runs"), 1,
	    "fold: and reads from the log");
	t0 = au_mono_ms();
	is_int(au_db_exec(db, big), 0, "fold: a big commit while it reads");
	ms = au_mono_ms() - t0;
	ok(ms < 2500, "fold: without waiting for the reader (%lld ms)",
	    (long long)ms);
	ok(logsize(path) > 1000 * 4096, "fold: the log stays for the reader "
	    "(%lld bytes)", logsize(path));
	is_int(au_db_exec(r, "COMMIT"), 0, "fold: the reader ends");
	is_int(au_db_exec(db, RUN("r2")), 0, "fold: the next commit");
	is_int(logsize(path), 0, "fold: truncates the log");
	is_int(au_db_exec(db, big), 0, "fold: another big commit");
	is_int(logsize(path), 0, "fold: truncates it at once");
	au_db_close(r);
	au_db_close(db);
	if (au_db_open(path, &db) != 0)
		return;
	is_int(qint(db, "SELECT count(*) FROM aw_big"), 2400,
	    "fold: every row is in the file");
	is_int(qint(db, "SELECT count(*) FROM aw_runs"), 2,
	    "fold: the small commits too");
	au_db_close(db);
	setenv("AGENTUTILS_BUSY_TIMEOUT", "200ms", 1);
}

/* Closing with a megabyte of log or more folds it, unless a reader still
 * needs it: the next to close then does. */
static void
test_close_fold(void)
{
	const char *path = at("c/state.db");
	static const char *mid = "BEGIN; CREATE TABLE IF NOT EXISTS aw_mid "
	    "(x); WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
	    "FROM i WHERE n < 300) INSERT INTO aw_mid SELECT "
	    "randomblob(3000) FROM i; COMMIT";
	sqlite3 *db, *r;

	if (au_db_open(path, &db) != 0 || au_db_open(path, &r) != 0) {
		ok(0, "close fold: open: %s", au_errmsg());
		return;
	}
	is_int(au_db_exec(db, mid), 0, "close fold: 300 pages written");
	ok(logsize(path) > 1048576 && logsize(path) < 1000 * 4096,
	    "close fold: in the log, not folded by the commit (%lld bytes)",
	    logsize(path));
	is_int(au_db_exec(r, "BEGIN"), 0, "close fold: a reader begins");
	is_int(qint(r, "SELECT count(*) FROM aw_mid"), 300,
	    "close fold: and reads from the log");
	au_db_close(db);
	ok(logsize(path) > 1048576, "close fold: the log stays for the "
	    "reader (%lld bytes)", logsize(path));
	is_int(au_db_exec(r, "COMMIT"), 0, "close fold: the reader ends");
	au_db_close(r);
	is_int(logsize(path), 0, "close fold: the last to close folds it");
	if (au_db_open(path, &db) != 0)
		return;
	is_int(qint(db, "SELECT count(*) FROM aw_mid"), 300,
	    "close fold: every row is in the file");
	au_db_close(db);
}

/* au_db_stmt: one prepared statement a connection and text, handed out
 * reset and unbound, finalized by au_db_close (or sqlite3_close, which
 * it calls, would fail with statements left). */
static void
test_stmt(void)
{
	static const char sql[] = "SELECT ?1 + 1";
	sqlite3_stmt *st, *again, *other;
	sqlite3 *db, *c;

	if (au_db_open(at("stmt.db"), &db) != 0 || au_db_open(at("stmt.db"),
	    &c) != 0)
		return;
	is_int(au_db_stmt(db, sql, &st), 0, "stmt: prepared");
	sqlite3_bind_int(st, 1, 41);
	is_int(sqlite3_step(st), SQLITE_ROW, "stmt: run");
	is_int(sqlite3_column_int(st, 0), 42, "stmt: its answer");
	is_int(au_db_stmt(db, sql, &again), 0, "stmt: asked again");
	ok(again == st, "stmt: the same statement");
	ok(!sqlite3_stmt_busy(again), "stmt: reset");
	is_int(sqlite3_step(again), SQLITE_ROW, "stmt: run again");
	is_int(sqlite3_column_type(again, 0), SQLITE_NULL,
	    "stmt: without the old binding");
	sqlite3_reset(again);
	is_int(au_db_stmt(c, sql, &other), 0, "stmt: another connection");
	ok(other != st, "stmt: has its own");
	is_int(au_db_stmt(db, "SELEC nothing", &other), EX_IOERR,
	    "stmt: bad SQL is 74");
	au_db_close(db);
	ok(sqlite3_next_stmt(c, NULL) != NULL, "stmt: the other connection's "
	    "is kept");
	au_db_close(c);
}

/* No connection at all (sqlite3_open_v2 out of memory): still an error
 * and a message, not a crash. */
static void
test_error_null(void)
{
	is_int(au_db_error(NULL, SQLITE_NOMEM), EX_IOERR,
	    "error without a connection: 74");
	is_str(au_errmsg(), "out of memory",
	    "error without a connection: says what");
	is_int(au_db_error(NULL, SQLITE_BUSY), EX_TEMPFAIL,
	    "error without a connection: busy is 75");
}

int
main(void)
{
	tmpdir_make("test-db");
	setenv("AGENTUTILS_BUSY_TIMEOUT", "200ms", 1);
	test_path();
	test_open();
	test_tx();
	test_stmt();
	test_busy();
	test_refuse();
	test_xopen();
	test_keep_log();
	test_fold();
	test_close_fold();
	test_error_null();
	tmpdir_remove();
	return done();
}
