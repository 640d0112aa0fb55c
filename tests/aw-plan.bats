#!/usr/bin/env bats
# aw-plan: plans from task records, every format, the state file, planners,
# and every kind of bad input with its exact message and exit status.

load helper
load mf/provider

F=$BATS_TEST_DIRNAME/fixtures/aw-plan

@test "plans the example build: a run record, then every task once, after its deps" {
	run --separate-stderr aw-plan "$TOP/examples/build.ndjson"
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	assert_equal "$(printf '%s\n' "$output" | head -n 1 | jq -r .type)" run
	assert_equal "$(printf '%s\n' "$output" | jq -s 'length')" 9
	# order is 1..8 and every dependency comes earlier than its task
	run jq -s -e '.[1:] as $t | ($t | map(.order)) == [range(1; 9)] and
	    all($t[]; . as $x | all(($x.deps // [])[];
	    . as $d | ($t[] | select(.id == $d) | .order) < $x.order))' \
	    <<<"$output"
	assert_success
}

@test "the order is deterministic: priority first, then input order" {
	cd "$F"
	run aw-plan -n -f tsv priority.ndjson
	assert_success
	golden aw-plan/priority.tsv <<<"$output"
	first=$(aw-plan -n priority.ndjson | norm)
	second=$(aw-plan -n priority.ndjson | norm)
	assert_equal "$first" "$second"
}

@test "levels are the longest path from a root" {
	run aw-plan -n "$F/estimate.ndjson"
	assert_success
	assert_equal "$(jq -r 'select(.type=="task") | "\(.id)=\(.level)"' <<<"$output" | tr '\n' ' ')" \
	    "a=0 b=1 c=1 d=2 e=3 "
	assert_equal "$(head -n 1 <<<"$output" | jq .levels)" 4
}

@test "unknown fields are kept, the plan's own fields replaced, kind defaulted" {
	cd "$F"
	run aw-plan -n mixed.ndjson
	assert_success
	norm <<<"$output" | golden aw-plan/mixed.ndjson
	printf '%s\n' "$output" | valid
}

@test "CRLF line ends and blank lines are fine" {
	run aw-plan -n -f tsv "$F/crlf.ndjson"
	assert_success
	assert_line --index 3 "$(printf '3\t2\tc\trun\t0\tb')"
}

@test "stores the run in the state file, created 0600 in a 0700 directory" {
	run aw-plan "$TOP/examples/build.ndjson"
	assert_success
	id=$(head -n 1 <<<"$output" | jq -r .id)
	assert_equal "$(db "SELECT id, tasks, levels, state FROM aw_runs")" "$id|8|6|planned"
	assert_equal "$(db "SELECT count(*) FROM aw_tasks WHERE run_id = '$id'")" 8
	assert_equal "$(db "SELECT count(*) FROM aw_deps WHERE run_id = '$id'")" 9
	assert_equal "$(db "SELECT group_concat(id, ' ') FROM (SELECT id FROM aw_tasks ORDER BY ord)")" \
	    "fetch configure compile-lib compile-cli link test-unit docs package"
	# the stored record is the printed one
	assert_equal "$(db "SELECT record FROM aw_tasks WHERE id = 'package'")" \
	    "$(grep '"id":"package"' <<<"$output")"
	assert_equal "$(stat -c %a "$XDG_STATE_HOME/agentutils/state.db")" 600
	assert_equal "$(stat -c %a "$XDG_STATE_HOME/agentutils")" 700
	assert_equal "$(db "PRAGMA journal_mode")" wal
}

@test "--db and AGENTUTILS_DB choose the state file" {
	run aw-plan --db "$BATS_TEST_TMPDIR/a/b/one.db" "$F/priority.ndjson"
	assert_success
	AGENTUTILS_DB=$BATS_TEST_TMPDIR/two.db run aw-plan "$F/priority.ndjson"
	assert_success
	assert_equal "$(sqlite3 "$BATS_TEST_TMPDIR/a/b/one.db" "SELECT count(*) FROM aw_tasks")" 6
	assert_equal "$(sqlite3 "$BATS_TEST_TMPDIR/two.db" "SELECT count(*) FROM aw_tasks")" 6
	assert [ ! -e "$XDG_STATE_HOME/agentutils/state.db" ]
}

@test "--dry-run stores nothing" {
	run aw-plan --dry-run "$F/priority.ndjson"
	assert_success
	assert [ ! -e "$XDG_STATE_HOME/agentutils/state.db" ]
}

@test "two runs of one plan are two runs" {
	aw-plan "$F/priority.ndjson" >/dev/null
	aw-plan "$F/priority.ndjson" >/dev/null
	assert_equal "$(db "SELECT count(*) FROM aw_runs")" 2
	assert_equal "$(db "SELECT count(DISTINCT run_id) FROM aw_tasks")" 2
}

@test "reads standard input, '-', and several files in turn" {
	cd "$F"
	run aw-plan -n <priority.ndjson
	assert_success
	assert_equal "$(head -n 1 <<<"$output" | jq -c .sources)" '["-"]'
	printf '{"id":"z","run":"true","deps":["a"]}\n' >"$BATS_TEST_TMPDIR/z.ndjson"
	run aw-plan -n -f tsv priority.ndjson - <"$BATS_TEST_TMPDIR/z.ndjson"
	assert_success
	assert_line --regexp "^[0-9]+$(printf '\t1\tz\trun\t0\ta')\$"
	run aw-plan -n priority.ndjson "$BATS_TEST_TMPDIR/z.ndjson"
	assert_equal "$(head -n 1 <<<"$output" | jq -c .sources)" \
	    "[\"priority.ndjson\",\"$BATS_TEST_TMPDIR/z.ndjson\"]"
}

@test "a plan can be planned again: its run record is skipped" {
	aw-plan -n "$TOP/examples/build.ndjson" >plan.ndjson
	run aw-plan -n -f tsv plan.ndjson
	assert_success
	assert_equal "$output" "$(aw-plan -n -f tsv "$TOP/examples/build.ndjson")"
}

@test "an empty input is an empty plan" {
	run aw-plan -n </dev/null
	assert_success
	assert_equal "$(jq -c '[.type, .tasks, .levels]' <<<"$output")" '["run",0,0]'
}

@test "--format dot is a graph dot can render, one rank per level" {
	cd "$F"
	run aw-plan -n -f dot priority.ndjson
	assert_success
	norm <<<"$output" | golden aw-plan/priority.dot
	aw-plan -n -f dot "$TOP/examples/build.ndjson" | dot -Tsvg >"$BATS_TEST_TMPDIR/plan.svg"
	grep -q '<svg' "$BATS_TEST_TMPDIR/plan.svg"
}

@test "--format dot quotes ids that need it" {
	printf '{"id":"a \\"b\\" \\\\c","run":"true"}\n{"id":"d","run":"true","deps":["a \\"b\\" \\\\c"]}\n' >q.ndjson
	run aw-plan -n -f dot q.ndjson
	assert_success
	assert_line --partial '"a \"b\" \\c" -> "d";'
	aw-plan -n -f dot q.ndjson | dot -Tsvg >/dev/null
}

@test "--critical-path: the longest chain by estimate, in every format" {
	cd "$F"
	run aw-plan -n --critical-path estimate.ndjson
	assert_success
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c '[.tasks, .estimate_ms]' <<<"$output")" '[["a","c","d","e"],750000]'
	run aw-plan -n --critical-path -f tsv estimate.ndjson
	golden aw-plan/estimate-critical.tsv <<<"$output"
	run aw-plan -n --critical-path -f dot estimate.ndjson
	assert_line --partial '"c" -> "d" [color=red, penwidth=2];'
	refute_line --partial '"a" -> "b" [color=red'
}

@test "--critical-path still stores the whole plan, with the path's length" {
	run aw-plan --critical-path "$F/estimate.ndjson"
	assert_success
	assert_equal "$(db "SELECT tasks, json_extract(record, '\$.critical_path_ms') FROM aw_runs")" "5|750000"
}

@test "--where selects tasks" {
	cd "$F"
	run aw-plan -n -f tsv --where '(.priority // 0) >= 0' priority.ndjson
	assert_success
	refute_line --partial 'e	run'
	assert_equal "${#lines[@]}" 6
}

@test "--where: a dependency left out is an error" {
	cd "$F"
	run --separate-stderr aw-plan -n --where '.id != "a"' priority.ndjson
	assert_failure 65
	assert_equal "$output" ""
	golden aw-plan/where-dep.err <<<"$stderr"
}

@test "--where: a jq syntax error is a usage error" {
	run --separate-stderr aw-plan -n --where '.id ==' "$F/priority.ndjson"
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-plan: --where: syntax error, unexpected $end (Unix shell quoting issues?) at <top-level>, line 1: .id =='
}

@test "--where: a jq error on a record is reported at its line" {
	cd "$F"
	run --separate-stderr aw-plan -n --where '.id | test(1)' priority.ndjson
	assert_failure 65
	assert_equal "${#stderr_lines[@]}" 6
	assert_equal "${stderr_lines[0]}" 'aw-plan: priority.ndjson:1: --where: number not a string or array'
}

@test "bad JSON: every bad line reported with its place, nothing written" {
	cd "$F"
	run --separate-stderr aw-plan bad-json.ndjson
	assert_failure 65
	assert_equal "$output" ""
	golden aw-plan/bad-json.err <<<"$stderr"
	assert [ ! -e "$XDG_STATE_HOME/agentutils/state.db" ]
}

@test "file names with control characters are escaped in messages" {
	printf '{oops\n' >"$(printf 'bad\nname')"
	run --separate-stderr aw-plan -n "$(printf 'bad\nname')"
	assert_failure 65
	assert_equal "$stderr" 'aw-plan: bad\nname:1: invalid JSON: expected a string key (column 2)'
}

@test "invalid UTF-8 is reported, not replaced" {
	cd "$F"
	run --separate-stderr aw-plan -n utf8.ndjson
	assert_failure 65
	assert_equal "$stderr" "aw-plan: utf8.ndjson:1: invalid UTF-8 (column 11)"
}

@test "wrong fields: every problem of every record" {
	cd "$F"
	run --separate-stderr aw-plan fields.ndjson
	assert_failure 65
	assert_equal "$output" ""
	golden aw-plan/fields.err <<<"$stderr"
}

@test "graph errors: duplicates, unknown and self dependencies" {
	cd "$F"
	run --separate-stderr aw-plan graph.ndjson
	assert_failure 65
	assert_equal "$output" ""
	golden aw-plan/graph.err <<<"$stderr"
}

@test "cycles are printed as their path, one per cycle" {
	cd "$F"
	run --separate-stderr aw-plan cycle.ndjson
	assert_failure 65
	assert_equal "$output" ""
	golden aw-plan/cycle.err <<<"$stderr"
	assert [ ! -e "$XDG_STATE_HOME/agentutils/state.db" ]
}

@test "problems of every kind are reported together" {
	cd "$F"
	run --separate-stderr aw-plan all-at-once.ndjson
	assert_failure 65
	assert_equal "$output" ""
	golden aw-plan/all-at-once.err <<<"$stderr"
}

@test "a dependency named twice is a warning; -q silences it" {
	cd "$F"
	run --separate-stderr aw-plan -n dup.ndjson
	assert_success
	assert_equal "$stderr" 'aw-plan: dup.ndjson:2: duplicate dependency "a" ignored'
	run --separate-stderr aw-plan -n -q dup.ndjson
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(jq -s 'length' <<<"$output")" 3
}

@test "-v tells what was stored" {
	run --separate-stderr aw-plan -v "$F/priority.ndjson"
	assert_success
	id=$(head -n 1 <<<"$output" | jq -r .id)
	assert_equal "$stderr" "aw-plan: stored run $id: 6 tasks, 3 levels"
}

@test "a missing file: 66, the other files still checked, nothing planned" {
	cd "$F"
	run --separate-stderr aw-plan nope.ndjson fields.ndjson
	assert_failure 66
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" 'aw-plan: nope.ndjson: No such file or directory'
	assert_equal "${#stderr_lines[@]}" 24
	run --separate-stderr aw-plan "$F"
	assert_failure 66
	assert_equal "$stderr" "aw-plan: $F: Is a directory"
}

@test "--max-line: a longer line is reported once and skipped" {
	{
		printf '{"id":"a","run":"true"}\n'
		printf '{"id":"long","run":"%s"}\n' "$(head -c 300000 /dev/zero | tr '\0' x)"
		printf '{"id":"b","run":"true","deps":["a"]}\n'
	} >long.ndjson
	run --separate-stderr aw-plan -n --max-line 1K long.ndjson
	assert_failure 65
	assert_equal "$stderr" "aw-plan: long.ndjson:2: line too long (more than 1024 bytes)"
	run aw-plan -n long.ndjson
	assert_success
	run --separate-stderr aw-plan --max-line 0 long.ndjson
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-plan: --max-line: invalid size "0" (1 to 1G)'
}

@test "planner: --goal with the example planner" {
	run aw-plan -n --goal 'fetch the data then clean it then train' \
	    --planner-cmd "$TOP/examples/planner.sh"
	assert_success
	printf '%s\n' "$output" | valid
	assert_equal "$(head -n 1 <<<"$output" | jq -c '[.goal, .sources]')" \
	    '["fetch the data then clean it then train",["planner"]]'
	assert_equal "$(jq -r 'select(.type=="task") | .run[1]' <<<"$output" | tr '\n' '|')" \
	    "fetch the data|clean it|train|"
}

@test "planner: the goal record it reads" {
	run aw-plan -n --goal 'say "hi"' --planner-cmd "cat >$BATS_TEST_TMPDIR/goal.json"
	assert_success
	assert_equal "$(cat goal.json)" '{"type":"goal","text":"say \"hi\""}'
	valid <goal.json
}

@test "planner: its bad output is reported as planner:LINE" {
	run --separate-stderr aw-plan -n --goal x \
	    --planner-cmd 'echo "{\"id\":\"a\",\"run\":\"true\"}"; echo "{oops"; echo "{\"id\":\"b\"}"'
	assert_failure 65
	assert_equal "$stderr" 'aw-plan: planner:2: invalid JSON: expected a string key (column 2)
aw-plan: planner:3: missing "run" (the command of a run task)'
}

@test "planner: its failure passes its exit status on" {
	run --separate-stderr aw-plan -n --goal x --planner-cmd 'echo oh no >&2; exit 3'
	assert_failure 3
	assert_equal "$stderr" "oh no
aw-plan: planner: exited with status 3"
	run --separate-stderr aw-plan -n --goal x --planner-cmd 'kill -TERM $$'
	assert_failure 143
	assert_equal "$stderr" "aw-plan: planner: killed by signal 15"
	run -127 --separate-stderr aw-plan -n --goal x --planner-cmd 'no-such-planner-here'
	assert_equal "$stderr" "/bin/sh: 1: no-such-planner-here: not found
aw-plan: planner: exited with status 127"
}

@test "planner: a planner that does not read its input is fine" {
	run aw-plan -n --goal "$(head -c 100000 /dev/zero | tr '\0' g)" \
	    --planner-cmd 'echo "{\"id\":\"a\",\"run\":\"true\"}"'
	assert_success
	assert_equal "$(jq -s 'length' <<<"$output")" 2
}

@test "planner: a big goal and a planner that writes before it reads" {
	run timeout 20 aw-plan -n -f tsv --goal "$(head -c 100000 /dev/zero | tr '\0' g)" \
	    --planner-cmd 'i=0; while [ $i -lt 3000 ]; do echo "{\"id\":\"t$i\",\"run\":\"x\"}"; i=$((i+1)); done; cat >/dev/null'
	assert_success
	assert_equal "${#lines[@]}" 3001
}

@test "planner: --where selects among the planned tasks" {
	run aw-plan -n -f tsv --where '.id != "step-3"' --goal 'a then b then c' \
	    --planner-cmd "$TOP/examples/planner.sh"
	assert_success
	assert_equal "${#lines[@]}" 3
	refute_line --partial step-3
}

@test "planner: a planner failing while SIGCHLD is ignored still fails" {
	run -3 python3 -c '
import signal, subprocess, sys
sys.exit(subprocess.run(sys.argv[1:], preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN)).returncode)
' aw-plan -n --goal x --planner-cmd 'echo "{\"id\":\"a\",\"run\":\"x\"}"; exit 3'
}

@test "planner: usage errors" {
	run --separate-stderr aw-plan --goal x
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-plan: --goal needs --planner mf or --planner-cmd'
	run --separate-stderr aw-plan --planner-cmd true
	assert_failure 64
	run --separate-stderr aw-plan --goal x --planner mf --planner-cmd true
	assert_failure 64
	run --separate-stderr aw-plan --goal x --planner oracle
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-plan: --planner: unknown planner "oracle" (mf)'
	run --separate-stderr aw-plan --goal x --planner-cmd true file.ndjson
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-plan: --goal takes no file operands'
}

@test "usage errors: unknown option, bad format, missing argument" {
	run --separate-stderr aw-plan --frobnicate
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-plan: unknown option "--frobnicate"'
	assert_regex "${stderr_lines[1]}" '^usage: aw-plan '
	run --separate-stderr aw-plan -x
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-plan: unknown option "-x"'
	run --separate-stderr aw-plan -f yaml
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-plan: --format: unknown format "yaml" (ndjson, dot or tsv)'
	run --separate-stderr aw-plan --format
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-plan: option "--format" needs an argument'
}

@test "usage errors: an argument to a flag, an ambiguous abbreviation" {
	run --separate-stderr aw-plan --dry-run=yes
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-plan: option "--dry-run" takes no argument'
	run --separate-stderr aw-plan --d
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-plan: ambiguous option "--d"'
	run aw-plan --dry -f tsv "$F/priority.ndjson"
	assert_success
}

@test "a type that is not a string, a dependency with a control character" {
	printf '{"type":5,"id":"x","run":"y"}\n{"id":"z","run":"y","deps":["a\\u0000b"]}\n' >t.ndjson
	run --separate-stderr aw-plan -n t.ndjson
	assert_failure 65
	assert_equal "$stderr" 'aw-plan: t.ndjson:1: type: expected a string, found number
aw-plan: t.ndjson:2: deps[0]: control character in "a"'
}

@test "closed standard output or input is an error, not a quiet success" {
	run --separate-stderr sh -c 'aw-plan "$1" >&-' sh "$F/priority.ndjson"
	assert_failure 74
	assert_equal "$stderr" "aw-plan: write error: Bad file descriptor"
	run --separate-stderr sh -c 'aw-plan -n <&-'
	assert_failure 74
	assert_equal "$stderr" "aw-plan: <stdin>: Bad file descriptor"
}

@test "--critical-path runs from a root, longest by estimate then by tasks" {
	printf '{"id":"a","run":"x"}\n{"id":"b","run":"x","deps":["a"]}\n{"id":"c","run":"x","deps":["b"],"estimate":"1s"}\n{"id":"d","run":"x","estimate":"1s"}\n' >c.ndjson
	run aw-plan -n --critical-path c.ndjson
	assert_success
	assert_equal "$(jq -c '[.tasks, .estimate_ms]' <<<"$output")" '[["a","b","c"],1000]'
	printf '{"id":"a","run":"x","estimate":"36500d"}\n{"id":"b","run":"x","deps":["a"],"estimate":"36500d"}\n' >big.ndjson
	run aw-plan -n --critical-path big.ndjson
	assert_success
	assert_equal "$(jq .estimate_ms <<<"$output")" 6307200000000
	run --separate-stderr aw-plan -n --critical-path <<<'{"id":"a","run":"x","estimate":"104000000000d"}'
	assert_failure 65
}

@test "--format dot stays linear on a long chain" {
	awk 'BEGIN { print "{\"id\":\"t0\",\"run\":\"x\"}"; for (i = 1; i < 50000; i++) printf "{\"id\":\"t%d\",\"run\":\"x\",\"deps\":[\"t%d\"]}\n", i, i - 1 }' >chain.ndjson
	run timeout 10 aw-plan -n -f dot chain.ndjson
	assert_success
	assert_equal "${#lines[@]}" 100003
}

@test "the state file busy past the timeout: 75, nothing stored" {
	aw-plan "$F/priority.ndjson" >/dev/null
	# hold the write lock from another process
	(echo 'BEGIN IMMEDIATE;'; sleep 3; echo 'COMMIT;') |
	    sqlite3 "$XDG_STATE_HOME/agentutils/state.db" &
	sleep 0.5
	AGENTUTILS_BUSY_TIMEOUT=300ms run --separate-stderr aw-plan "$F/priority.ndjson"
	assert_failure 75
	assert_equal "$output" ""
	assert_equal "$stderr" "aw-plan: $XDG_STATE_HOME/agentutils/state.db: state file is busy (gave up after 300ms)"
	wait
	assert_equal "$(db "SELECT count(*) FROM aw_runs")" 1
	assert_equal "$(db "PRAGMA integrity_check")" ok
}

@test "a state file from a newer agentutils: 78" {
	aw-plan "$F/priority.ndjson" >/dev/null
	# The version a fresh file gets is the one this program knows.
	known=$(db "PRAGMA user_version")
	db "PRAGMA user_version = 999"
	run --separate-stderr aw-plan "$F/priority.ndjson"
	assert_failure 78
	assert_equal "$stderr" "aw-plan: $XDG_STATE_HOME/agentutils/state.db: schema version 999 is newer than this program knows ($known): upgrade agentutils"
}

@test "a state file that is not a database: 74" {
	echo "not sqlite at all, just text that is long enough to matter......" >bad.db
	run --separate-stderr aw-plan --db bad.db "$F/priority.ndjson"
	assert_failure 74
	assert_equal "$stderr" "aw-plan: $BATS_TEST_TMPDIR/bad.db: file is not a database"
}

@test "a state file that cannot be created: 73" {
	touch plainfile
	run --separate-stderr aw-plan --db plainfile/sub/state.db "$F/priority.ndjson"
	assert_failure 73
	assert_equal "$stderr" "aw-plan: plainfile/sub: cannot create directory: Not a directory"
	run --separate-stderr aw-plan --db plainfile/state.db "$F/priority.ndjson"
	assert_failure 73
	assert_equal "$stderr" "aw-plan: plainfile/state.db: Not a directory"
}

@test "a full disk: 74, not a silent truncation" {
	run --separate-stderr sh -c 'aw-plan -n "$1" >/dev/full' sh "$TOP/examples/build.ndjson"
	assert_failure 74
	assert_equal "$stderr" "aw-plan: write error: No space left on device"
}

@test "a big graph plans (20,000 tasks, 100,000 edges)" {
	awk 'BEGIN { srand(7); for (i = 0; i < 20000; i++) {
		printf "{\"id\":\"t%d\",\"run\":\"true\",\"deps\":[", i
		n = i ? 5 : 0; for (j = 0; j < n; j++) printf "%s\"t%d\"", j ? "," : "", int(rand() * i)
		print "]}" } }' >big.ndjson
	run aw-plan -n -q -f tsv big.ndjson
	assert_success
	assert_equal "${#lines[@]}" 20001
}

# planner_models: models.json with the route "planner" to the provider.
planner_models() {
	mkdir -p "$XDG_CONFIG_HOME/agentutils"
	cat >"$XDG_CONFIG_HOME/agentutils/models.json" <<-EOF
	{"providers": {"fake": {"kind": "openai", "base_url": "$URL/v1"}},
	 "models": {"m": {"provider": "fake", "price": {"input": 1, "output": 1}}},
	 "routes": {"planner": {"candidates": ["m"]}}}
	EOF
}

@test "--planner mf: the model's tasks, code fences aside, planned and stored; the request is the prompt and the goal" {
	cat >answer <<-'EOF'
	```json
	{"type":"task","id":"fetch","kind":"run","run":"echo fetch"}
	{"type":"task","id":"build","kind":"run","run":"echo build","deps":["fetch"]}
	```
	EOF
	provider --reply-file answer --log requests.log
	planner_models
	run --separate-stderr aw-plan --goal 'build the thing' --planner mf --prompt "$TOP/share/agentutils/planner.md"
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -r 'select(.type == "task") | .id' <<<"$output" | paste -sd ' ')" "fetch build"
	run_id=$(head -1 <<<"$output" | jq -r .id)
	assert_equal "$(db "SELECT count(*) FROM aw_tasks WHERE run_id = '$run_id'")" 2
	assert_equal "$(jq -r '.body.messages[0].content' requests.log)" "$(cat "$TOP/share/agentutils/planner.md")"
	assert_equal "$(jq -r '.body.messages[1].content' requests.log)" "build the thing"
	assert_equal "$(db "SELECT run_id, task_id, status FROM mf_usage")" "$run_id|plan|ok"
}

@test "--planner mf: bad model output is reported as model:LINE, exit 65, nothing stored" {
	printf '%s\n' 'Here is your plan:' '{"type":"task","id":"a","kind":"run","run":"x","deps":["nope"]}' >answer
	provider --reply-file answer
	planner_models
	run --separate-stderr aw-plan --goal g --planner mf --prompt "$TOP/share/agentutils/planner.md"
	assert_failure 65
	assert_output ''
	[[ $stderr == *"model:1: invalid JSON"* ]]
	[[ $stderr == *'model:2: unknown dependency "nope"'* ]]
	assert_equal "$(db 'SELECT count(*) FROM aw_runs')" 0
}

@test "--planner mf: a model that cannot answer, a missing prompt, --model" {
	provider --status 500
	planner_models
	run --separate-stderr aw-plan --goal g --planner mf --prompt "$TOP/share/agentutils/planner.md"
	assert_failure 69
	[[ $stderr == *"the model planner: HTTP 500"* ]]
	run --separate-stderr aw-plan --goal g --planner mf --prompt nowhere.md
	assert_failure 66
	run --separate-stderr aw-plan --goal g --planner mf --model gpt-9 --prompt "$TOP/share/agentutils/planner.md"
	assert_failure 65
	[[ $stderr == *'"gpt-9" is neither a model nor a route'* ]]
}
