/*
 * db.c - the state file: where it lives, opening it safely (mode 0600 in a
 * 0700 directory, WAL, busy timeout, foreign keys), migrating it forward,
 * and write transactions that wait for other writers and give up with 75.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentutils.h"
#include "schema.h"

#define BUSY_MS 5000
#define CKPT_FRAMES 1000	/* SQLite's own checkpoint's, 4 MB of log */
#define CLOSE_LOG 1048576	/* bytes of log folded at close */

/* mkdir -p of the directory part of path; new directories get 0700. */
static int
mkparents(const char *path)
{
	char *d = au_xstrdup(path), *p;
	struct stat st;
	int rc = 0;

	for (p = d + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (stat(d, &st) != 0 && mkdir(d, 0700) != 0 &&
		    errno != EEXIST)
			rc = au_seterr(EX_CANTCREAT, "%s: cannot create "
			    "directory:", d);
		*p = '/';
		if (rc)
			break;
	}
	free(d);
	return rc;
}

static int
busy_ms(void)
{
	const char *e = getenv("AGENTUTILS_BUSY_TIMEOUT");
	int64_t ms;

	if (e != NULL && au_dur_parse(e, &ms) == 0 && ms < INT32_MAX)
		return (int)ms;
	return BUSY_MS;
}

/* Map an SQLite result to our exit codes and message.  db may be NULL:
 * sqlite3_open_v2 leaves none when it cannot allocate one. */
static int
dberr(sqlite3 *db, int rc, const char *what)
{
	const char *path = db != NULL ? sqlite3_db_filename(db, "main") :
	    NULL;
	const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	const char *sep = path != NULL && *path != '\0' ? ": " : "";

	if (path == NULL)
		path = "";
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return au_seterr(EX_TEMPFAIL, "%s%sstate file is busy (gave "
		    "up after %dms)", path, sep, busy_ms());
	if (what == NULL)
		return au_seterr(EX_IOERR, "%s%s%s", path, sep, msg);
	return au_seterr(EX_IOERR, "%s%s%s: %s", path, sep, what, msg);
}

int
au_db_error(sqlite3 *db, int rc)
{
	return dberr(db, rc, NULL);
}

int
au_db_exec(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : dberr(db, rc, NULL);
}

int
au_db_run(sqlite3 *db, const char *sql, int *changes, int n, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int rc, i;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL)) != SQLITE_OK)
		return au_db_error(db, rc);
	va_start(ap, n);
	for (i = 1; i <= n; i++) {
		const char *v = va_arg(ap, const char *);

		if (v != NULL)
			sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	}
	va_end(ap);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return au_db_error(db, rc);
	if (changes != NULL)
		*changes = sqlite3_changes(db);
	return 0;
}

/* The statements au_db_stmt keeps, by connection and text.  Parsing a
 * statement costs more than running a small one: a program that runs the
 * same few for every record (mf-route: a circuit looked up, a success
 * reported) keeps them prepared. */
struct kept {
	sqlite3 *db;
	const char *sql;
	sqlite3_stmt *st;
};
static struct kept *kept;
static size_t nkept, keptcap;
static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;

int
au_db_stmt(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	size_t i;
	int rc;

	*st = NULL;
	pthread_mutex_lock(&kept_mu);
	for (i = 0; i < nkept && *st == NULL; i++)
		if (kept[i].db == db && kept[i].sql == sql)
			*st = kept[i].st;
	pthread_mutex_unlock(&kept_mu);
	if (*st != NULL) {
		sqlite3_reset(*st);
		sqlite3_clear_bindings(*st);
		return 0;
	}
	rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	    NULL);
	if (rc != SQLITE_OK)
		return au_db_error(db, rc);
	pthread_mutex_lock(&kept_mu);
	kept = au_grow(kept, &keptcap, nkept + 1, sizeof *kept);
	kept[nkept].db = db;
	kept[nkept].sql = sql;
	kept[nkept++].st = *st;
	pthread_mutex_unlock(&kept_mu);
	return 0;
}

int
au_db_begin(sqlite3 *db)
{
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : dberr(db, rc, "begin");
}

int
au_db_commit(sqlite3 *db)
{
	int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	rc = dberr(db, rc, "commit");
	au_db_rollback(db);
	return rc;
}

void
au_db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

void
au_xdb_begin(sqlite3 *db)
{
	int rc = au_db_begin(db);

	if (rc)
		au_die(rc, "%s", au_errmsg());
}

void
au_xdb_commit(sqlite3 *db)
{
	int rc = au_db_commit(db);

	if (rc)
		au_die(rc, "%s", au_errmsg());
}

static int
user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return dberr(db, rc, "schema version");
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : dberr(db, rc, "schema version");
}

int
au_db_schema_version(void)
{
	return schema_nsteps;
}

static int
migrate(sqlite3 *db)
{
	char sql[64];
	int rc, v;

	if ((rc = user_version(db, &v)) != 0)
		return rc;
	if (v < schema_nsteps) {
		if ((rc = au_db_begin(db)) != 0)
			return rc;
		/* Another process, maybe a newer agentutils, may have
		 * migrated while we waited for the lock. */
		if ((rc = user_version(db, &v)) != 0)
			goto fail;
		if (v < schema_nsteps) {
			for (; v < schema_nsteps; v++)
				if ((rc = au_db_exec(db, schema_steps[v])) != 0)
					goto fail;
			snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
			    v);
			if ((rc = au_db_exec(db, sql)) != 0)
				goto fail;
			return au_db_commit(db);
		}
		au_db_rollback(db);
	}
	if (v > schema_nsteps)
		return au_seterr(EX_CONFIG, "%s: schema version %d is newer "
		    "than this program knows (%d): upgrade agentutils",
		    sqlite3_db_filename(db, "main"), v, schema_nsteps);
	return 0;
fail:
	au_db_rollback(db);
	return rc;
}

/* Fold the log into the file and truncate it, without waiting for anyone.
 * SQLite's own checkpoint folds the log but leaves it whole until the
 * next write, and a process that opens the file while no other has it
 * open reads every frame of the log to rebuild its index: after an import
 * of 100,000 notes (20,000 frames), 80ms more for every run, even a
 * search.  When a reader still needs the log, or a writer has begun, the
 * truncation gives up at once (what could be folded is) and a later
 * commit or close tries again. */
static void
truncate_log(sqlite3 *db, const char *name)
{
	sqlite3_busy_timeout(db, 0);
	sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL,
	    NULL);
	sqlite3_busy_timeout(db, busy_ms());
}

/* After a commit: once the log holds CKPT_FRAMES pages.  A long writer
 * (an import, audit-write) folds that seldom: each fold syncs the file. */
static int
fold(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)arg;
	if (frames >= CKPT_FRAMES)
		truncate_log(db, name);
	return SQLITE_OK;
}

/* The size of the log of db's main file. */
static off_t
logsize(sqlite3 *db)
{
	const char *wal = sqlite3_filename_wal(sqlite3_db_filename(db,
	    "main"));
	struct stat st;

	return wal != NULL && stat(wal, &st) == 0 ? st.st_size : 0;
}

/* Switch to WAL.  On a new file another process may be switching too,
 * and SQLite answers busy without waiting: wait here, like for a lock. */
static int
wal(sqlite3 *db)
{
	int64_t until = au_mono_ms() + busy_ms(), nap = 1;
	struct timespec ts;
	int rc;

	for (;;) {
		rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL,
		    NULL);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			return rc == SQLITE_OK ? 0 : dberr(db, rc, NULL);
		if (au_mono_ms() >= until)
			return dberr(db, rc, NULL);
		ts.tv_sec = 0;
		ts.tv_nsec = nap * 1000000;
		nanosleep(&ts, NULL);
		nap = nap < 32 ? nap * 2 : 32;
	}
}

int
au_db_open(const char *path, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int fd, rc;

	*out = NULL;
	if ((rc = mkparents(path)) != 0)
		return rc;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return au_seterr(errno == ENOENT || errno == EACCES ||
		    errno == EROFS || errno == EISDIR || errno == ENOTDIR ||
		    errno == ELOOP ? EX_CANTCREAT : EX_IOERR, "%s:", path);
	close(fd);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		rc = au_seterr(EX_IOERR, "%s: %s", path, db ?
		    sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return rc;
	}
	sqlite3_busy_timeout(db, busy_ms());
	sqlite3_extended_result_codes(db, 0);
	/* The last process to close the file would checkpoint the log into
	 * it, sync both and delete the log, and the next would make it
	 * anew and sync it and its directory: four syncs for every short
	 * run (a tg-invoke call, an aw-ctl command).  The log stays instead,
	 * beside the file, and is folded into it and truncated as it grows
	 * (fold()) by whoever commits then, and at au_db_close() once it
	 * holds a megabyte. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(db, fold, NULL);
	if ((rc = wal(db)) != 0 || (rc = au_db_exec(db, "PRAGMA synchronous = "
	    "NORMAL; PRAGMA foreign_keys = ON")) != 0 ||
	    (rc = migrate(db)) != 0) {
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

sqlite3 *
au_xdb_open(void)
{
	char *path = au_db_path(au_opts.db);
	sqlite3 *db;
	int rc;

	if (path == NULL)
		au_die(EX_CONFIG, "%s", au_errmsg());
	rc = au_db_open(path, &db);
	free(path);
	if (rc)
		au_die(rc, "%s", au_errmsg());
	return db;
}

/* Closing, a log of CLOSE_LOG bytes or more is folded: the next process
 * to open the file alone reads every frame of the log (3 us a page in
 * this VM), and short runs that each add a few pages (a tg-invoke call
 * adds five) would let it grow to CKPT_FRAMES, a millisecond or two more
 * for every later run, where a fold costs two syncs (5 ms each here)
 * every fifty such runs. */
void
au_db_close(sqlite3 *db)
{
	size_t i, n = 0;

	pthread_mutex_lock(&kept_mu);
	for (i = 0; i < nkept; i++)
		if (kept[i].db == db)
			sqlite3_finalize(kept[i].st);
		else
			kept[n++] = kept[i];
	nkept = n;
	if (nkept == 0) {
		free(kept);
		kept = NULL;
		keptcap = 0;
	}
	pthread_mutex_unlock(&kept_mu);
	if (db != NULL && sqlite3_db_readonly(db, "main") == 0 &&
	    logsize(db) >= CLOSE_LOG)
		truncate_log(db, "main");
	sqlite3_close(db);
}
