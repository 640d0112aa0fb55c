/*
 * schema.c - every table of the state file, as one ordered list of
 * forward-only migrations.  PRAGMA user_version counts the steps applied;
 * a family changes its tables by appending a step, never by editing one.
 * Tables carry their family's prefix (aw_, tg_, audit_, mf_, tk_, ws_,
 * approval_).
 */
#include "schema.h"

const char *const schema_steps[] = {
	/* 1: aw-plan stores runs, their tasks and the dependency edges. */
	"CREATE TABLE aw_runs ("
	"  id TEXT PRIMARY KEY,"
	"  created TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'planned',"
	"  tasks INTEGER NOT NULL,"
	"  levels INTEGER NOT NULL,"
	"  goal TEXT,"
	"  record TEXT NOT NULL"
	") STRICT;"
	"CREATE TABLE aw_tasks ("
	"  run_id TEXT NOT NULL REFERENCES aw_runs(id) ON DELETE CASCADE,"
	"  id TEXT NOT NULL,"
	"  ord INTEGER NOT NULL,"
	"  level INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  priority INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending',"
	"  record TEXT NOT NULL,"
	"  PRIMARY KEY (run_id, id)"
	") STRICT;"
	"CREATE UNIQUE INDEX aw_tasks_ord ON aw_tasks(run_id, ord);"
	"CREATE TABLE aw_deps ("
	"  run_id TEXT NOT NULL,"
	"  task_id TEXT NOT NULL,"
	"  dep_id TEXT NOT NULL,"
	"  PRIMARY KEY (run_id, task_id, dep_id),"
	"  FOREIGN KEY (run_id, task_id) REFERENCES aw_tasks(run_id, id)"
	"    ON DELETE CASCADE,"
	"  FOREIGN KEY (run_id, dep_id) REFERENCES aw_tasks(run_id, id)"
	"    ON DELETE CASCADE"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX aw_deps_dep ON aw_deps(run_id, dep_id);",
};

const int schema_nsteps = sizeof schema_steps / sizeof schema_steps[0];
