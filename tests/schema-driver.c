/*
 * schema-driver.c - state files as older agentutils left them, for
 * tests/consistency-state.bats; built by make, never installed.
 *
 *   schema-driver FILE N	make FILE with the first N migrations of
 *				lib/schema.c only, user_version N
 *   schema-driver -n		print how many migrations there are
 *
 * It writes through SQLite, never au_db_open, which would migrate the
 * file to the end.
 */
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "agentutils.h"
#include "schema.h"

int
main(int argc, char **argv)
{
	sqlite3 *db;
	char *end, sql[64];
	long n;
	int i;

	au_setprog(argv[0]);
	if (argc == 2 && argv[1][0] == '-' && argv[1][1] == 'n' &&
	    argv[1][2] == '\0') {
		printf("%d\n", schema_nsteps);
		return 0;
	}
	if (argc != 3)
		au_die(EX_USAGE, "usage: schema-driver FILE N | -n");
	n = strtol(argv[2], &end, 10);
	if (*argv[2] == '\0' || *end != '\0' || n < 0 || n > schema_nsteps)
		au_die(EX_USAGE, "%s: not a step from 0 to %d", argv[2],
		    schema_nsteps);
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		au_die(EX_CANTCREAT, "%s: %s", argv[1], sqlite3_errmsg(db));
	for (i = 0; i < n; i++)
		if (sqlite3_exec(db, schema_steps[i], NULL, NULL, NULL) !=
		    SQLITE_OK)
			au_die(EX_SOFTWARE, "step %d: %s", i + 1,
			    sqlite3_errmsg(db));
	snprintf(sql, sizeof sql, "PRAGMA user_version = %ld", n);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_close(db) != SQLITE_OK)
		au_die(EX_IOERR, "%s: %s", argv[1], sqlite3_errmsg(db));
	return 0;
}
