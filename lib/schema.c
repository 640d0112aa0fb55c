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

	/* 2: aw-sched runs them.  aw_tasks' new columns and aw_runs.state are
	 * derived: each event carries them as they stand after it, so that
	 * the tables can be rebuilt from aw_events alone.  Claims, attempts
	 * and schedulers are bookkeeping, not state.  The approval queue is
	 * shared with the gateway. */
	"ALTER TABLE aw_tasks ADD COLUMN needs TEXT;"
	"ALTER TABLE aw_tasks ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE aw_tasks ADD COLUMN exit_code INTEGER;"
	"ALTER TABLE aw_tasks ADD COLUMN error TEXT;"
	"ALTER TABLE aw_tasks ADD COLUMN ready_at INTEGER;"
	"ALTER TABLE aw_tasks ADD COLUMN approval_id TEXT;"
	"ALTER TABLE aw_tasks ADD COLUMN approval INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE aw_tasks ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;"
	"UPDATE aw_tasks SET needs = json_extract(record, '$.needs'),"
	"  approval = json_extract(record, '$.approval') IS 'required';"
	"CREATE INDEX aw_tasks_state ON aw_tasks(run_id, state, priority DESC,"
	"  level, id);"
	"CREATE TABLE aw_events ("
	"  run_id TEXT NOT NULL REFERENCES aw_runs(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  ts TEXT NOT NULL,"
	"  task_id TEXT,"
	"  attempt INTEGER NOT NULL DEFAULT 0,"
	"  from_state TEXT NOT NULL,"
	"  to_state TEXT NOT NULL,"
	"  exit_code INTEGER,"
	"  error TEXT,"
	"  ready_at INTEGER,"
	"  approval_id TEXT,"
	"  lost INTEGER NOT NULL DEFAULT 0,"
	"  detail TEXT,"
	"  PRIMARY KEY (run_id, seq)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE aw_schedulers ("
	"  id TEXT PRIMARY KEY,"
	"  run_id TEXT NOT NULL REFERENCES aw_runs(id) ON DELETE CASCADE,"
	"  who TEXT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  pid_start TEXT,"
	"  started INTEGER NOT NULL,"
	"  heartbeat INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE aw_claims ("
	"  run_id TEXT NOT NULL,"
	"  task_id TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  scheduler TEXT NOT NULL,"
	"  lease_until INTEGER NOT NULL,"
	"  pid INTEGER,"
	"  pid_start TEXT,"
	"  PRIMARY KEY (run_id, task_id),"
	"  FOREIGN KEY (run_id, task_id) REFERENCES aw_tasks(run_id, id)"
	"    ON DELETE CASCADE"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE aw_attempts ("
	"  run_id TEXT NOT NULL,"
	"  task_id TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  scheduler TEXT,"
	"  worker TEXT,"
	"  host TEXT,"
	"  command TEXT,"
	"  pid INTEGER,"
	"  started INTEGER NOT NULL,"
	"  ended INTEGER,"
	"  exit_code INTEGER,"
	"  timed_out INTEGER NOT NULL DEFAULT 0,"
	"  stdout_path TEXT,"
	"  stderr_path TEXT,"
	"  stdout_bytes INTEGER NOT NULL DEFAULT 0,"
	"  stderr_bytes INTEGER NOT NULL DEFAULT 0,"
	"  truncated INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (run_id, task_id, attempt),"
	"  FOREIGN KEY (run_id, task_id) REFERENCES aw_tasks(run_id, id)"
	"    ON DELETE CASCADE"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE approval_requests ("
	"  id TEXT PRIMARY KEY,"
	"  created TEXT NOT NULL,"
	"  requester TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  summary TEXT,"
	"  details TEXT,"
	"  status TEXT NOT NULL DEFAULT 'pending',"
	"  decided_by TEXT,"
	"  decided_at TEXT,"
	"  reason TEXT,"
	"  expires_at TEXT"
	") STRICT;"
	"CREATE INDEX approval_requests_status ON approval_requests(status,"
	"  created);",

	/* 3: the audit log (agentutils-audit(5)).  Events are sealed with
	 * AES-256-GCM and chained by hash; what the chain covers is stored in
	 * the clear (content, the digest of the salted field commitments) so
	 * that the chain checks without the key.  The keys themselves live
	 * in files, never here: audit_keys only names each epoch's key. */
	"CREATE TABLE audit_meta ("
	"  name TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	") STRICT;"
	"CREATE TABLE audit_keys ("
	"  epoch INTEGER PRIMARY KEY,"
	"  key_id TEXT NOT NULL,"
	"  created INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE audit_events ("
	"  seq INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  epoch INTEGER NOT NULL,"
	"  nonce BLOB NOT NULL,"
	"  sealed BLOB NOT NULL,"
	"  content BLOB NOT NULL,"
	"  hash BLOB NOT NULL"
	") STRICT;"
	"CREATE TABLE audit_checkpoints ("
	"  size INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  head BLOB NOT NULL,"
	"  note TEXT NOT NULL"
	") STRICT;",

	/* 4: the tool gateway's grants (tg-grant, ws-approve --always).  A
	 * revoked grant stays, marked, so that the table tells its history
	 * as the audit log does; cond is its jq condition. */
	"CREATE TABLE tg_grants ("
	"  id TEXT PRIMARY KEY,"
	"  created TEXT NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  tool TEXT NOT NULL,"
	"  cond TEXT,"
	"  expires_at TEXT,"
	"  note TEXT,"
	"  approval_id TEXT,"
	"  revoked_at TEXT,"
	"  revoked_by TEXT"
	") STRICT;",

	/* 5: the tool gateway's cache of its MCP servers' tools/list, by
	 * server: the tools as the server gave them (a JSON array) and when
	 * they were fetched (ms since the epoch). */
	"CREATE TABLE tg_mcp_tools ("
	"  server TEXT PRIMARY KEY,"
	"  fetched INTEGER NOT NULL,"
	"  tools TEXT NOT NULL"
	") STRICT;",

	/* 6: the model fabric.  mf_usage has one row per model.request that
	 * mf-route answered or refused (ts in ms since the epoch; cost in
	 * US dollars; status ok, error or refused).  mf_circuit is each
	 * provider's circuit breaker, shared by every mf-route: closed (with
	 * its run of failures), open until a time, or half-open while one
	 * process probes it. */
	"CREATE TABLE mf_usage ("
	"  id INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  request_id TEXT,"
	"  run_id TEXT,"
	"  task_id TEXT,"
	"  provider TEXT,"
	"  model TEXT,"
	"  input_tokens INTEGER NOT NULL DEFAULT 0,"
	"  output_tokens INTEGER NOT NULL DEFAULT 0,"
	"  cached_tokens INTEGER NOT NULL DEFAULT 0,"
	"  cost_usd REAL NOT NULL DEFAULT 0,"
	"  latency_ms INTEGER,"
	"  ttft_ms INTEGER,"
	"  status TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  error TEXT"
	") STRICT;"
	"CREATE INDEX mf_usage_ts ON mf_usage(ts);"
	"CREATE INDEX mf_usage_run ON mf_usage(run_id) WHERE run_id IS NOT NULL;"
	"CREATE TABLE mf_circuit ("
	"  provider TEXT PRIMARY KEY,"
	"  state TEXT NOT NULL,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  until INTEGER NOT NULL DEFAULT 0"
	") STRICT;",

	/* 7: tk-note's notes.  n is the rowid that the full-text index
	 * (external content, FTS5) and the tag index refer to; id is the
	 * note's name outside.  tags is a JSON array of strings, sorted.
	 * The index ranks by bm25, the title weighing most, then the tags,
	 * then the body; with ORDER BY rank FTS5 sorts, so that only the
	 * rows returned have their columns computed (snippets are dear).
	 * Triggers keep both indexes in step with tk_notes, so that a write
	 * by any program, or by hand, cannot leave them behind. */
	"CREATE TABLE tk_notes ("
	"  n INTEGER PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  title TEXT NOT NULL,"
	"  tags TEXT NOT NULL DEFAULT '[]',"
	"  body TEXT NOT NULL,"
	"  created TEXT NOT NULL,"
	"  updated TEXT NOT NULL"
	") STRICT;"
	"CREATE INDEX tk_notes_updated ON tk_notes(updated);"
	"CREATE TABLE tk_note_tags ("
	"  tag TEXT NOT NULL,"
	"  note INTEGER NOT NULL,"
	"  PRIMARY KEY (tag, note)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX tk_note_tags_note ON tk_note_tags(note);"
	"CREATE VIRTUAL TABLE tk_notes_fts USING fts5(title, tags, body,"
	"  content = 'tk_notes', content_rowid = 'n',"
	"  tokenize = 'unicode61 remove_diacritics 2');"
	"INSERT INTO tk_notes_fts(tk_notes_fts, rank)"
	"  VALUES ('rank', 'bm25(10.0, 5.0, 1.0)');"
	"CREATE TRIGGER tk_notes_ai AFTER INSERT ON tk_notes BEGIN"
	"  INSERT INTO tk_notes_fts(rowid, title, tags, body)"
	"    VALUES (new.n, new.title, new.tags, new.body);"
	"  INSERT INTO tk_note_tags(tag, note)"
	"    SELECT value, new.n FROM json_each(new.tags);"
	"END;"
	"CREATE TRIGGER tk_notes_ad AFTER DELETE ON tk_notes BEGIN"
	"  INSERT INTO tk_notes_fts(tk_notes_fts, rowid, title, tags, body)"
	"    VALUES ('delete', old.n, old.title, old.tags, old.body);"
	"  DELETE FROM tk_note_tags WHERE note = old.n;"
	"END;"
	"CREATE TRIGGER tk_notes_au AFTER UPDATE ON tk_notes BEGIN"
	"  INSERT INTO tk_notes_fts(tk_notes_fts, rowid, title, tags, body)"
	"    VALUES ('delete', old.n, old.title, old.tags, old.body);"
	"  INSERT INTO tk_notes_fts(rowid, title, tags, body)"
	"    VALUES (new.n, new.title, new.tags, new.body);"
	"  DELETE FROM tk_note_tags WHERE note = old.n;"
	"  INSERT INTO tk_note_tags(tag, note)"
	"    SELECT value, new.n FROM json_each(new.tags);"
	"END;",
	/* 8: workspace sessions (ws-pty, ws-session).  A session is a row of
	 * ws_sessions: its kind, its state (running while its process is,
	 * detached while a holder keeps it with nobody attached, exited when
	 * its program ended, dead when its holder vanished, killed when it
	 * was stopped from outside), its program (argv as a JSON array), the
	 * process that keeps it (holder_pid: ws-pty itself, or the holder of
	 * a detached session, with its Unix socket), its terminal size and
	 * asciicast file.  Times are ms since the epoch.  ws_events is its
	 * transcript, append-only: each input record as given, and the
	 * output between them as a segment: its size and SHA-256, and its
	 * first 64 KiB as text (data), so that the table stays bounded by the
	 * inputs, not by what a program prints. */
	"CREATE TABLE ws_sessions ("
	"  id TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('terminal', 'browser', 'file')),"
	"  state TEXT NOT NULL CHECK (state IN ('running', 'detached',"
	"    'exited', 'dead', 'killed')),"
	"  pid INTEGER,"
	"  holder_pid INTEGER,"
	"  socket TEXT,"
	"  argv TEXT,"
	"  cwd TEXT,"
	"  cols INTEGER,"
	"  rows INTEGER,"
	"  \"cast\" TEXT,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  ended INTEGER,"
	"  exit_code INTEGER,"
	"  signal TEXT"
	") STRICT;"
	"CREATE INDEX ws_sessions_state ON ws_sessions(state);"
	"CREATE TABLE ws_events ("
	"  session_id TEXT NOT NULL REFERENCES ws_sessions(id)"
	"    ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  ts INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  record TEXT,"
	"  data TEXT,"
	"  bytes INTEGER,"
	"  sha256 TEXT,"
	"  PRIMARY KEY (session_id, seq)"
	") STRICT, WITHOUT ROWID;",
	/* 9: file sessions (ws-session open, tk-file --session).  A file
	 * session binds a workspace root (root, its real path) and has no
	 * process: it is open until it is closed.  SQLite cannot widen a
	 * CHECK, so ws_sessions is made anew; ws_events is kept aside
	 * meanwhile, since dropping ws_sessions would cascade to it. */
	"CREATE TABLE ws_events_old AS SELECT * FROM ws_events;"
	"DROP TABLE ws_events;"
	"CREATE TABLE ws_sessions_new ("
	"  id TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('terminal', 'browser', 'file')),"
	"  state TEXT NOT NULL CHECK (state IN ('running', 'detached',"
	"    'exited', 'dead', 'killed', 'open', 'closed')),"
	"  pid INTEGER,"
	"  holder_pid INTEGER,"
	"  socket TEXT,"
	"  argv TEXT,"
	"  cwd TEXT,"
	"  root TEXT,"
	"  cols INTEGER,"
	"  rows INTEGER,"
	"  \"cast\" TEXT,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  ended INTEGER,"
	"  exit_code INTEGER,"
	"  signal TEXT"
	") STRICT;"
	"INSERT INTO ws_sessions_new (id, kind, state, pid, holder_pid, socket,"
	"  argv, cwd, cols, rows, \"cast\", created, updated, ended, exit_code,"
	"  signal) SELECT id, kind, state, pid, holder_pid, socket, argv, cwd,"
	"  cols, rows, \"cast\", created, updated, ended, exit_code, signal"
	"  FROM ws_sessions;"
	"DROP TABLE ws_sessions;"
	"ALTER TABLE ws_sessions_new RENAME TO ws_sessions;"
	"CREATE INDEX ws_sessions_state ON ws_sessions(state);"
	"CREATE TABLE ws_events ("
	"  session_id TEXT NOT NULL REFERENCES ws_sessions(id)"
	"    ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  ts INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  record TEXT,"
	"  data TEXT,"
	"  bytes INTEGER,"
	"  sha256 TEXT,"
	"  PRIMARY KEY (session_id, seq)"
	") STRICT, WITHOUT ROWID;"
	"INSERT INTO ws_events SELECT session_id, seq, ts, kind, record, data,"
	"  bytes, sha256 FROM ws_events_old;"
	"DROP TABLE ws_events_old;",
};

const int schema_nsteps = sizeof schema_steps / sizeof schema_steps[0];
