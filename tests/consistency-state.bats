#!/usr/bin/env bats
# consistency-state: the state file is the migrations of lib/schema.c and
# nothing else.  A file that the programs have all used holds exactly the
# tables, indexes and triggers those migrations make, each table with a
# family's prefix; and a file that an older agentutils left at any
# earlier step (build/tests/schema-driver applies only the first N
# migrations), with rows in it, is migrated forward by today's programs
# with its rows intact and readable.  (tests/lib/test-db.c covers opening
# a fresh file, its version and a newer one refused.)

load helper

driver() {
	"${AU_BUILD:-$TOP/build}/tests/schema-driver" "$@"
}

# The schema of the state file $1: type, name and SQL of each object.
objects() {
	sqlite3 "$1" "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
}

@test "the programs' state file holds the migrations' tables, each of a family" {
	export AGENTUTILS_DB=$PWD/used.db
	aw-plan "$TOP/examples/build.ndjson" >/dev/null
	aw-ctl runs >/dev/null
	tg-grant add --tool 'fs/*' >/dev/null
	ws-approve list >/dev/null
	mf-usage >/dev/null
	echo body | tk-note add --title t >/dev/null
	ws-session list >/dev/null
	echo '{"type":"x"}' | audit-write >/dev/null
	driver steps.db "$(driver -n)"
	[ "$(sqlite3 used.db 'PRAGMA user_version')" -eq "$(driver -n)" ]
	diff -u <(objects steps.db) <(objects used.db)
	run sqlite3 used.db "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT GLOB 'sqlite_*'"
	assert_success
	[ "${#lines[@]}" -ge 10 ]
	# The families of DESIGN.md.
	for t in "${lines[@]}"; do
		[[ $t =~ ^(aw|audit|tg|mf|tk|ws|approval)_[a-z0-9_]+$ ]] || {
			echo "table $t belongs to no family" >&2
			return 1
		}
	done
}

# rows N FILE: what an agentutils at step N had stored, by the tables it
# had: a run of two tasks (b needs a GPU and an approval), a pending
# approval request, audit metadata, a grant, a cached MCP tool list, a
# model call, a note, a session.
rows() {
	local n=$1 f=$2 ts=2026-01-02T03:04:05.000Z
	{
		echo "PRAGMA foreign_keys = ON;"
		[ "$n" -lt 1 ] || cat <<-SQL
		INSERT INTO aw_runs (id, created, tasks, levels, record) VALUES
		  ('01J0000000000000000000000R', '$ts', 2, 2,
		   '{"type":"run","id":"01J0000000000000000000000R","tasks":2,"levels":2}');
		INSERT INTO aw_tasks (run_id, id, ord, level, kind, priority, record) VALUES
		  ('01J0000000000000000000000R', 'a', 0, 0, 'run', 0,
		   '{"type":"task","id":"a","run":"true"}'),
		  ('01J0000000000000000000000R', 'b', 1, 1, 'run', 5,
		   '{"type":"task","id":"b","run":"true","deps":["a"],"needs":["gpu"],"approval":"required"}');
		INSERT INTO aw_deps VALUES ('01J0000000000000000000000R', 'b', 'a');
		SQL
		[ "$n" -lt 2 ] || cat <<-SQL
		INSERT INTO approval_requests (id, created, requester, subject, summary)
		  VALUES ('01J0000000000000000000000A', '$ts', 'alice', 'tool x/y', 'may I');
		SQL
		[ "$n" -lt 3 ] || cat <<-SQL
		INSERT INTO audit_meta VALUES ('left', 'by step $n');
		SQL
		[ "$n" -lt 4 ] || cat <<-SQL
		INSERT INTO tg_grants (id, created, created_by, tool, note)
		  VALUES ('01J0000000000000000000000G', '$ts', 'alice', 'fs/*', 'from step $n');
		SQL
		[ "$n" -lt 5 ] || cat <<-SQL
		INSERT INTO tg_mcp_tools VALUES ('s', 1767322800000, '[]');
		SQL
		[ "$n" -lt 6 ] || cat <<-SQL
		INSERT INTO mf_usage (ts, request_id, provider, model, input_tokens,
		  output_tokens, cost_usd, status) VALUES
		  (1767322800000, 'r1', 'p', 'small', 10, 20, 0.25, 'ok');
		SQL
		[ "$n" -lt 7 ] || cat <<-SQL
		INSERT INTO tk_notes (id, title, tags, body, created, updated) VALUES
		  ('01J0000000000000000000000N', 'Old note', '["kept"]',
		   'written before the upgrade', '$ts', '$ts');
		SQL
		[ "$n" -lt 8 ] || cat <<-SQL
		INSERT INTO ws_sessions (id, kind, state, argv, created, updated, ended, exit_code)
		  VALUES ('01J0000000000000000000000S', 'terminal', 'exited', '["true"]',
		   1767322800000, 1767322800000, 1767322800000, 0);
		SQL
	} | sqlite3 -bail "$f"
}

@test "a state file at any earlier step is migrated forward with its rows" {
	local last n
	last=$(driver -n)
	for ((n = 0; n < last; n++)); do
		export AGENTUTILS_DB=$PWD/step$n.db
		driver "$AGENTUTILS_DB" "$n"
		rows "$n" "$AGENTUTILS_DB"
		[ "$(sqlite3 "$AGENTUTILS_DB" 'PRAGMA user_version')" -eq "$n" ]
		run aw-ctl runs
		assert_success
		if [ "$n" -ge 1 ]; then
			assert_output --partial '"id":"01J0000000000000000000000R"'
			run aw-ctl status 01J0000000000000000000000R b
			assert_success
			echo "$output" | valid
			assert_output --partial '"task":"b"'
			# Step 2 derived its columns from the record.
			[ "$n" -ne 1 ] || [ "$(sqlite3 "$AGENTUTILS_DB" "SELECT needs, approval FROM aw_tasks WHERE id = 'b'")" = '["gpu"]|1' ] ||
				{ echo "step $n: aw_tasks.needs and approval not derived" >&2; return 1; }
		else
			assert_output ""
		fi
		[ "$(sqlite3 "$AGENTUTILS_DB" 'PRAGMA user_version')" -eq "$last" ] ||
			{ echo "step $n: not migrated to $last" >&2; return 1; }
		run ws-approve list
		assert_success
		if [ "$n" -ge 2 ]; then
			assert_output --partial '"id":"01J0000000000000000000000A"'
			echo "$output" | valid
		fi
		if [ "$n" -ge 3 ]; then
			[ "$(sqlite3 "$AGENTUTILS_DB" "SELECT value FROM audit_meta WHERE name = 'left'")" = "by step $n" ]
		fi
		run tg-grant list
		assert_success
		if [ "$n" -ge 4 ]; then
			assert_output --partial "\"note\":\"from step $n\""
			echo "$output" | valid
		fi
		run mf-usage
		assert_success
		if [ "$n" -ge 6 ]; then
			assert_output --partial '"cost_usd":0.25'
			echo "$output" | valid
		fi
		run tk-note search upgrade
		if [ "$n" -ge 7 ]; then
			assert_success
			assert_output --partial '"title":"Old note"'
			echo "$output" | valid
		fi
		run ws-session list
		assert_success
		if [ "$n" -ge 8 ]; then
			assert_output --partial '"id":"01J0000000000000000000000S"'
			echo "$output" | valid
		fi
	done
}

@test "a file migrated from any earlier step has the schema of a fresh one" {
	local last n
	last=$(driver -n)
	driver fresh.db "$last"
	for ((n = 0; n < last; n++)); do
		driver "old$n.db" "$n"
		AGENTUTILS_DB=$PWD/old$n.db ws-session list >/dev/null
		diff -u <(objects fresh.db) <(objects "old$n.db") ||
			{ echo "step $n migrated differs from a fresh file" >&2; return 1; }
	done
}
