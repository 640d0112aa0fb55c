/*
 * rawsqlite - the peer of audit-write in tests/bench/audit: the same lines
 * stored in SQLite with nothing else done, as fast as SQLite goes.
 *
 *   rawsqlite DB FILE BATCH SYNC
 *
 * reads FILE line by line and inserts each line, as a blob, into the
 * table raw(seq INTEGER PRIMARY KEY, data BLOB) of a new database DB in
 * WAL mode, committing every BATCH rows; SYNC is "normal" (synchronous =
 * NORMAL, as audit-write's batches) or "full" (synchronous = FULL, as
 * audit-write --sync).  Prints the number of rows.  Exit 1 on any error.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

static void
check(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE) {
		fprintf(stderr, "rawsqlite: %s: %s\n", what,
		    sqlite3_errmsg(db));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *ins;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long batch, rows = 0;
	FILE *f;

	if (argc != 5 || (batch = atol(argv[3])) < 1) {
		fprintf(stderr, "usage: rawsqlite DB FILE BATCH normal|full\n");
		return 1;
	}
	if ((f = fopen(argv[2], "r")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
		fprintf(stderr, "rawsqlite: %s: cannot open\n", argv[1]);
		return 1;
	}
	check(db, sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL,
	    NULL), "wal");
	check(db, sqlite3_exec(db, strcmp(argv[4], "full") == 0 ?
	    "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", NULL,
	    NULL, NULL), "synchronous");
	check(db, sqlite3_exec(db, "CREATE TABLE raw (seq INTEGER PRIMARY "
	    "KEY, data BLOB NOT NULL)", NULL, NULL, NULL), "create");
	check(db, sqlite3_prepare_v2(db, "INSERT INTO raw (data) VALUES (?1)",
	    -1, &ins, NULL), "prepare");
	while ((n = getline(&line, &cap, f)) > 0) {
		if (rows % batch == 0)
			check(db, sqlite3_exec(db, "BEGIN IMMEDIATE", NULL,
			    NULL, NULL), "begin");
		sqlite3_bind_blob(ins, 1, line, (int)n - (line[n - 1] == '\n'),
		    SQLITE_STATIC);
		check(db, sqlite3_step(ins), "insert");
		sqlite3_reset(ins);
		if (++rows % batch == 0)
			check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
			    "commit");
	}
	if (rows % batch != 0)
		check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
		    "commit");
	sqlite3_finalize(ins);
	check(db, sqlite3_close(db), "close");
	free(line);
	fclose(f);
	printf("%ld\n", rows);
	return 0;
}
