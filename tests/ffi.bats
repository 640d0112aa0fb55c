#!/usr/bin/env bats
# The embedding API from another runtime: Python's ctypes drives whole
# runs through libagentutils.so.0 while aw-ctl watches from other
# processes, and the log it leaves replays to the same state.

load helper

F=$BATS_TEST_DIRNAME/fixtures/ffi
LIB=${AU_BUILD:-$TOP/build}/libagentutils.so.0

nosan() {
	[ "${AU_SAN:-}" != 1 ] || skip "a sanitizer-built library cannot be loaded into python"
}

# normx: norm, and every id (inside messages too), time and duration.
normx() {
	norm | sed -e 's/[0-7][0-9A-HJKMNP-TV-Z]\{25\}/ULID/g' \
	    -e 's/"\(created\|ready_at\|decided_at\)":"[^"]*"/"\1":"TS"/g' \
	    -e 's/"duration_ms":[0-9]*/"duration_ms":N/g'
}

@test "examples/ffi/run.py shows the API in under 60 lines" {
	run wc -l <"$TOP/examples/ffi/run.py"
	assert [ "$output" -lt 60 ]
	# standard library only
	run grep -E '^(import|from) ' "$TOP/examples/ffi/run.py"
	refute_output --regexp '\b(numpy|requests|cffi)\b'
}

@test "run.py drives a whole run while aw-ctl status watches it from another process" {
	nosan
	aw-plan -n "$F/watched.ndjson" >plan.ndjson
	RUN=$(head -n 1 plan.ndjson | jq -r .id)
	run --separate-stderr timeout 30 /usr/bin/python3 "$TOP/examples/ffi/run.py" "$LIB" plan.ndjson
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$output" "run $RUN
first says hello
first attempt 1 exit 0
watch attempt 1 exit 0
last
last attempt 1 exit 0"
	# the watcher saw the run under way: one task done, itself running
	valid <watch.ndjson
	assert_equal "$(wc -l <watch.ndjson)" 1
	assert_equal "$(jq -c '[.id == "'"$RUN"'", .state, .counts.done, .counts.running, .counts.pending]' watch.ndjson)" \
	    '[true,"running",1,1,1]'
	# and the end
	run aw-ctl status "$RUN"
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c '[.state, .tasks, .counts.done]' <<<"$output")" '["done",3,3]'
	run aw-ctl events "$RUN"
	assert_success
	printf '%s\n' "$output" | valid
	normx <<<"$output" | golden ffi/watched-events.ndjson
	run aw-ctl replay "$RUN"
	assert_success
	assert_equal "$(jq .equal <<<"$output")" true
}

@test "run.py and aw-sched share one run: each task runs once" {
	nosan
	printf '{"id":"t%d","run":"echo $AGENTUTILS_TASK >>ran; sleep 0.05"}\n' 1 2 3 4 5 6 >six.ndjson
	aw-plan "six.ndjson" >plan.ndjson
	RUN=$(head -n 1 plan.ndjson | jq -r .id)
	timeout 30 aw-sched -j1 --run "$RUN" >sched.out 2>sched.err &
	pid=$!
	run --separate-stderr timeout 30 /usr/bin/python3 "$TOP/examples/ffi/run.py" "$LIB" plan.ndjson
	assert_success
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(aw-ctl status "$RUN" | jq -c '[.state, .counts.done]')" '["done",6]'
	# every task once, whoever ran it (run.py's tasks have no AGENTUTILS_TASK)
	assert_equal "$(db "SELECT count(*) FROM aw_events WHERE run_id = '$RUN' AND task_id IS NOT NULL AND to_state = 'running'")" 6
	assert_equal "$(db "SELECT sum(attempt) FROM aw_tasks WHERE run_id = '$RUN'")" 6
	assert_equal "$(wc -l <ran)" 6
	run aw-ctl replay "$RUN"
	assert_success
}

@test "the API call by call: ready, claim, report with a retry, events after a seq, answer, au_free" {
	nosan
	aw-plan -n "$F/api.ndjson" >plan.ndjson
	RUN=$(head -n 1 plan.ndjson | jq -r .id)
	run --separate-stderr timeout 30 /usr/bin/python3 "$F/api.py" "$LIB" plan.ndjson
	assert_equal "$stderr" ""
	assert_success
	said=$output
	# what it did is on record like any run's
	run aw-ctl status "$RUN"
	assert_equal "$(jq -c '[.state, .counts.done]' <<<"$output")" '["done",3]'
	run aw-ctl events "$RUN"
	printf '%s\n' "$output" | valid
	normx <<<"$output" | golden ffi/api-events.ndjson
	run aw-ctl status "$RUN" flaky
	assert_equal "$(jq -c '[.state, .attempt, .exit_code]' <<<"$output")" '["done",2,0]'
	id=$(db "SELECT approval_id FROM aw_tasks WHERE run_id = '$RUN' AND id = 'gate'")
	run ws-approve show "$id"
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c '[.status, .decided_by, .reason]' <<<"$output")" '["approved","au_run","fine by me"]'
	run aw-ctl replay "$RUN"
	assert_success
	# and what each call answered
	normx <<<"$said" | golden ffi/api.out
}
