#!/usr/bin/env bats
# aw-ctl: every command on real runs (planned by aw-plan, executed by
# aw-sched): what they print, what they change, and every error with its
# exact message and exit status.

load helper

F=$BATS_TEST_DIRNAME/fixtures/aw-ctl

# plan FILE...: store a plan in plan.ndjson; its run id in RUN.
plan() {
	aw-plan "$@" >plan.ndjson || return
	RUN=$(head -n 1 plan.ndjson | jq -r .id)
}

# sched ARGS...: aw-sched, one task at a time, never hanging the suite.
sched() {
	timeout 30 aw-sched -j1 "$@"
}

# normx: norm, and what else changes from run to run: every id (also
# inside messages), times, durations.
normx() {
	norm | sed -e 's/[0-7][0-9A-HJKMNP-TV-Z]\{25\}/ULID/g' \
	    -e 's/"\(created\|ready_at\)":"[^"]*"/"\1":"TS"/g' \
	    -e 's/"duration_ms":[0-9]*/"duration_ms":N/g'
}

# tnorm: the same for tables.
tnorm() {
	sed -e 's/[0-7][0-9A-HJKMNP-TV-Z]\{25\}/ULID                      /g' \
	    -e 's/[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:]\{8\}\.[0-9]\{3\}Z/YYYY-MM-DDTHH:MM:SS.sssZ/g'
}

# state TASK: the task's state in the table.
state() {
	db "SELECT state FROM aw_tasks WHERE run_id = '$RUN' AND id = '$1'"
}

# until_state TASK STATE: wait (up to 10 s) for the task to get there.
until_state() {
	local i
	for i in $(seq 200); do
		[ "$(state "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	echo "task $1 is $(state "$1"), not $2" >&2
	return 1
}

# The run of dlq.ndjson: a done, b dead (exit 3), c skipped, d done.
dlq_run() {
	plan "$F/dlq.ndjson"
	run -1 sched plan.ndjson
	SCHED=$output
}

@test "runs: one run.status per run, in the order they were made" {
	dlq_run
	first=$RUN
	plan "$F/dlq.ndjson"
	run --separate-stderr aw-ctl runs
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	assert_equal "${#lines[@]}" 2
	assert_equal "$(jq -r .id <<<"${lines[0]}")" "$first"
	assert_equal "$(jq -r .id <<<"${lines[1]}")" "$RUN"
	normx <<<"$output" | golden aw-ctl/runs.ndjson
}

@test "runs: nothing at all in a new state file" {
	run --separate-stderr aw-ctl runs
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

@test "status RUN: the run's state and its tasks counted by state" {
	dlq_run
	run aw-ctl status "$RUN"
	assert_success
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -r .id <<<"$output")" "$RUN"
	assert_equal "$(jq -c '[.state, .tasks, .counts.done, .counts.dead, .counts.skipped]' <<<"$output")" \
	    '["failed",4,2,1,1]'
	assert_equal "$(jq -r .created <<<"$output")" "$(head -n 1 plan.ndjson | jq -r .ts)"
}

@test "status RUN TASK: one task.status with the last attempt's end" {
	dlq_run
	run aw-ctl status "$RUN" b
	assert_success
	printf '%s\n' "$output" | valid
	assert_output "{\"type\":\"task.status\",\"run_id\":\"$RUN\",\"task\":\"b\",\"order\":2,\"state\":\"dead\",\"attempt\":1,\"exit_code\":3,\"error\":\"exited with status 3\"}"
	run aw-ctl status "$RUN" c
	assert_output "{\"type\":\"task.status\",\"run_id\":\"$RUN\",\"task\":\"c\",\"order\":3,\"state\":\"skipped\",\"attempt\":0,\"error\":\"dependency \\\"b\\\" died\"}"
	printf '%s\n' "$output" | valid
	run --separate-stderr aw-ctl status "$RUN" nosuch
	assert_failure 66
	assert_output ""
	assert_equal "$stderr" "aw-ctl: run $RUN has no task \"nosuch\""
}

@test "events: the whole log, exactly what aw-sched wrote as it went" {
	dlq_run
	run --separate-stderr aw-ctl events "$RUN"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$output" "$SCHED"
	printf '%s\n' "$output" | valid
	normx <<<"$output" | golden aw-ctl/dlq-events.ndjson
	# seq counts 1, 2, 3... with no gap
	assert_equal "$(jq -s -c 'map(.seq) == [range(1; length + 1)]' <<<"$output")" true
}

@test "events --after SEQ: only the later ones" {
	dlq_run
	run aw-ctl events --after 9 "$RUN"
	assert_success
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -r .seq <<<"$output" | tr '\n' ' ')" "10 11 12 13 "
	assert_equal "$output" "$(aw-ctl events "$RUN" | tail -n 4)"
	run aw-ctl events --after 13 "$RUN"
	assert_success
	assert_output ""
	run --separate-stderr aw-ctl events --after x "$RUN"
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-ctl: --after: invalid sequence number "x"'
	run --separate-stderr aw-ctl events --after -1 "$RUN"
	assert_failure 64
}

@test "events --follow: follows the log as it grows and returns when the run ends" {
	plan "$F/gate.ndjson"
	timeout 30 aw-sched -j1 plan.ndjson >sched.out 2>sched.err &
	sched_pid=$!
	# through a pipe, which gets every record as it comes
	(
		timeout 30 aw-ctl events --follow "$RUN" 2>follow.err | cat >follow.out
		echo "${PIPESTATUS[0]}" >follow.rc
	) &
	follow_pid=$!
	until_state a running
	sleep 0.3
	# the run goes on: so does the follower, with what there is so far
	kill -0 "$follow_pid"
	assert_equal "$(jq -r .to follow.out | tail -n 1)" running
	touch go
	frc=0; wait "$follow_pid" || frc=$?
	src=0; wait "$sched_pid" || src=$?
	assert_equal "follow $frc $(cat follow.rc), sched $src" "follow 0 0, sched 0"
	assert_equal "$(cat follow.err)" ""
	valid <follow.out
	# every event, the run's end last
	assert_equal "$(cat follow.out)" "$(aw-ctl events "$RUN")"
	assert_equal "$(tail -n 1 follow.out | jq -c '[.type, .to]')" '["run.event","done"]'
	# on a run that has ended, it returns at once; --after still applies
	run timeout 5 aw-ctl events --follow --after 6 "$RUN"
	assert_success
	assert_equal "$(jq -r .seq <<<"$output" | tr '\n' ' ')" "7 8 "
}

@test "logs: standard output and error of the last attempt, or of the one asked for" {
	plan "$F/flaky.ndjson"
	run sched plan.ndjson
	assert_success
	run aw-ctl logs "$RUN" flaky
	assert_success
	assert_output "out 2"
	run aw-ctl logs "$RUN" flaky --stderr
	assert_success
	assert_output "err 2"
	run aw-ctl logs --attempt 1 "$RUN" flaky
	assert_success
	assert_output "out 1"
	run aw-ctl logs --attempt 1 --stderr "$RUN" flaky
	assert_success
	assert_output "err 1"
	# an attempt that wrote nothing shows nothing
	run --separate-stderr aw-ctl logs "$RUN" quiet
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	# the logs live under the state directory, one file per attempt and stream
	assert [ -f "$XDG_STATE_HOME/agentutils/logs/$RUN/1.1.out" ]
	assert [ -f "$XDG_STATE_HOME/agentutils/logs/$RUN/1.2.err" ]
}

@test "logs: an attempt that never was, a task that has not run, a bad --attempt" {
	plan "$F/flaky.ndjson"
	run sched plan.ndjson
	run --separate-stderr aw-ctl logs --attempt 3 "$RUN" flaky
	assert_failure 66
	assert_output ""
	assert_equal "$stderr" "aw-ctl: task \"flaky\" of run $RUN has no attempt 3"
	plan "$F/flaky.ndjson"
	run --separate-stderr aw-ctl logs "$RUN" flaky
	assert_failure 66
	assert_equal "$stderr" "aw-ctl: task \"flaky\" of run $RUN has not run"
	run --separate-stderr aw-ctl logs --attempt 0 "$RUN" flaky
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-ctl: --attempt: invalid attempt "0"'
}

@test "cancel RUN TASK: a running task is cancelled, its scheduler kills it and exits 1" {
	plan "$F/slow.ndjson"
	timeout 30 aw-sched -j2 plan.ndjson >sched.out 2>sched.err &
	sched_pid=$!
	until_state slow running
	for i in $(seq 100); do [ -s slow.pid ] && break; sleep 0.05; done
	pid=$(cat slow.pid)
	kill -0 "$pid"
	run --separate-stderr aw-ctl cancel "$RUN" slow
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	normx <<<"$output" | sed 's/"seq":[0-9]*/"seq":N/' | golden aw-ctl/cancel.ndjson
	src=0; wait "$sched_pid" || src=$?
	assert_equal "$src" 1
	# the sleep is gone, killed by a signal (TERM), and nothing ran after it
	run kill -0 "$pid"
	assert_failure
	assert_equal "$(db "SELECT exit_code FROM aw_attempts WHERE run_id = '$RUN' AND task_id = 'slow'")" 143
	assert_equal "$(state slow) $(state after) $(state other)" "cancelled skipped done"
	assert [ ! -e after.ran ]
	assert_equal "$(aw-ctl status "$RUN" | jq -r .state)" failed
	# the cancel came from another process: in the log, not in aw-sched's output
	assert_equal "$(aw-ctl events "$RUN" | jq -r 'select(.task == "slow") | .to' | tail -n 1)" cancelled
	run aw-ctl replay "$RUN"
	assert_success
}

@test "cancel RUN TASK: a finished task is a negative answer (1), an unknown one missing input (66)" {
	dlq_run
	run --separate-stderr aw-ctl cancel "$RUN" a
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" 'aw-ctl: task "a" is done already'
	run --separate-stderr aw-ctl cancel "$RUN" b
	assert_failure 1
	assert_equal "$stderr" 'aw-ctl: task "b" is dead already'
	# nothing changed
	run aw-ctl replay "$RUN"
	assert_success
	assert_equal "$(aw-ctl events "$RUN" | wc -l)" 13
	# as status says it: the run has no such task
	run --separate-stderr aw-ctl cancel "$RUN" nosuch
	assert_equal "$status $stderr" "66 aw-ctl: run $RUN has no task \"nosuch\""
}

@test "cancel RUN: every unfinished task and the run; aw-sched then runs nothing" {
	plan "$F/once.ndjson"
	run --separate-stderr aw-ctl cancel "$RUN"
	assert_success
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -r '"\(.task // "(run)") \(.from) \(.to)"' <<<"$output" | tr '\n' ',')" \
	    "a pending cancelled,b pending cancelled,c pending cancelled,e pending cancelled,f pending cancelled,(run) planned cancelled,"
	run sched --run "$RUN"
	assert_failure 1
	assert_output ""
	assert [ ! -e b.failed ]
	assert_equal "$(aw-ctl status "$RUN" | jq -c '[.state, .counts.cancelled]')" '["cancelled",5]'
	run aw-ctl replay "$RUN"
	assert_success
}

@test "cancel and pause of a finished run are a negative answer (1), not an internal error" {
	dlq_run
	run --separate-stderr aw-ctl cancel "$RUN"
	c="$status $stderr$output"
	run --separate-stderr aw-ctl pause "$RUN"
	p="$status $stderr$output"
	run --separate-stderr aw-ctl resume "$RUN"
	r="$status $stderr$output"
	assert_equal "cancel: $c; pause: $p; resume: $r" \
	    "cancel: 1 aw-ctl: run $RUN is failed already; pause: 1 aw-ctl: run $RUN is failed already; resume: 1 aw-ctl: run $RUN is failed already"
	run aw-ctl replay "$RUN"
	assert_success
}

@test "pause: a running scheduler launches nothing new until resume" {
	plan "$F/gate.ndjson"
	timeout 30 aw-sched -j2 plan.ndjson >sched.out 2>sched.err &
	sched_pid=$!
	until_state a running
	run --separate-stderr aw-ctl pause "$RUN"
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	assert_equal "$(normx <<<"$output" | sed 's/"seq":[0-9]*/"seq":N/')" \
	    '{"type":"run.event","run_id":"ULID","seq":N,"ts":"TS","from":"running","to":"paused"}'
	run --separate-stderr aw-ctl pause "$RUN"
	assert_failure 1
	assert_equal "$stderr" "aw-ctl: run $RUN is paused"
	# what runs goes on to its end; what becomes ready stays ready
	touch go
	until_state a done
	until_state b ready
	sleep 0.5
	assert_equal "$(state b)" ready
	assert [ ! -e b.ran ]
	kill -0 "$sched_pid"
	assert_equal "$(aw-ctl status "$RUN" | jq -r .state)" paused
	run aw-ctl resume "$RUN"
	assert_success
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c '[.from, .to]' <<<"$output")" '["paused","running"]'
	src=0; wait "$sched_pid" || src=$?
	assert_equal "$src" 0
	assert [ -e b.ran ]
	assert_equal "$(aw-ctl status "$RUN" | jq -r .state)" done
	run --separate-stderr aw-ctl resume "$RUN"
	assert_failure 1
	assert_equal "$stderr" "aw-ctl: run $RUN is done already"
	run aw-ctl replay "$RUN"
	assert_success
}

@test "pause before aw-sched starts: the tasks get ready and wait" {
	plan "$F/once.ndjson"
	run aw-ctl pause "$RUN"
	assert_success
	assert_equal "$(jq -c '[.from, .to]' <<<"$output")" '["planned","paused"]'
	timeout 30 aw-sched -j1 plan.ndjson >sched.out 2>sched.err &
	sched_pid=$!
	until_state a ready
	sleep 0.3
	assert_equal "$(state a)" ready
	assert_equal "$(db "SELECT count(*) FROM aw_attempts WHERE run_id = '$RUN'")" 0
	aw-ctl resume "$RUN" >/dev/null
	src=0; wait "$sched_pid" || src=$?
	assert_equal "$src" 1		# b fails the first time
	assert_equal "$(state a) $(state b)" "done dead"
}

@test "dlq: the dead tasks of every run, or of one" {
	dlq_run
	first=$RUN
	dlq_run
	run --separate-stderr aw-ctl dlq
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	assert_equal "${#lines[@]}" 2
	assert_equal "$(jq -r '"\(.run_id) \(.task) \(.state) \(.exit_code)"' <<<"$output" | sort)" \
	    "$(printf '%s b dead 3\n%s b dead 3\n' "$first" "$RUN" | sort)"
	run aw-ctl dlq "$RUN"
	assert_success
	assert_output "$(aw-ctl status "$RUN" b)"
	plan "$F/flaky.ndjson"
	run sched plan.ndjson
	run aw-ctl dlq "$RUN"
	assert_success
	assert_output ""
}

@test "requeue --all-dead: dead tasks ready, skipped dependents pending, and aw-sched --run finishes the run" {
	plan "$F/once.ndjson"
	run sched plan.ndjson
	assert_failure 1
	assert_equal "$(state b) $(state c) $(state e) $(state f)" "dead skipped skipped done"
	run --separate-stderr aw-ctl requeue --all-dead "$RUN"
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	normx <<<"$output" | sed 's/"seq":[0-9]*/"seq":N/' | golden aw-ctl/requeue.ndjson
	assert_equal "$(state b) $(state c) $(state e)" "ready pending pending"
	assert_equal "$(aw-ctl status "$RUN" | jq -r .state)" running
	run aw-ctl dlq "$RUN"
	assert_output ""
	run sched --run "$RUN"
	assert_success
	printf '%s\n' "$output" | valid
	assert [ -e c.ran ]
	assert [ -e e.ran ]
	assert_equal "$(aw-ctl status "$RUN" | jq -c '[.state, .counts.done]')" '["done",5]'
	# b's second attempt is the one that worked
	assert_equal "$(aw-ctl status "$RUN" b | jq -c '[.state, .attempt]')" '["done",2]'
	run aw-ctl logs "$RUN" b
	assert_output second
	run aw-ctl replay "$RUN"
	assert_success
}

@test "requeue RUN TASK: only a dead task; the ways to get it wrong" {
	plan "$F/once.ndjson"
	run sched plan.ndjson
	run aw-ctl requeue "$RUN" b
	assert_success
	assert_equal "$(state b) $(state c)" "ready pending"
	run --separate-stderr aw-ctl requeue "$RUN" a
	assert_failure 1
	assert_equal "$stderr" 'aw-ctl: task "a" is done, not dead'
	run --separate-stderr aw-ctl requeue --all-dead "$RUN"
	assert_failure 1
	assert_equal "$stderr" "aw-ctl: run $RUN has no dead tasks"
	# neither tasks nor --all-dead, or both: usage
	run --separate-stderr aw-ctl requeue "$RUN"
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "aw-ctl: requeue: name tasks, or --all-dead"
	assert_equal "${stderr_lines[1]%% *}" "usage:"
	run --separate-stderr aw-ctl requeue --all-dead "$RUN" b
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "aw-ctl: requeue: name tasks, or --all-dead"
	run aw-ctl replay "$RUN"
	assert_success
	# as status says it: the run has no such task
	run --separate-stderr aw-ctl requeue "$RUN" nosuch
	assert_equal "$status $stderr" "66 aw-ctl: run $RUN has no task \"nosuch\""
}

@test "replay: equal on finished runs, done or failed, after requeues too" {
	dlq_run
	run --separate-stderr aw-ctl replay "$RUN"
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	assert_output "{\"type\":\"replay\",\"run_id\":\"$RUN\",\"equal\":true,\"problems\":[]}"
	plan "$F/flaky.ndjson"
	sched plan.ndjson >/dev/null
	run aw-ctl replay "$RUN"
	assert_success
	assert_equal "$(jq .equal <<<"$output")" true
	plan "$F/once.ndjson"
	run sched plan.ndjson
	aw-ctl requeue --all-dead "$RUN" >/dev/null
	run sched --run "$RUN"
	run aw-ctl replay "$RUN"
	assert_success
	assert_equal "$(jq .equal <<<"$output")" true
}

@test "replay: a state changed behind the log's back is found and named" {
	dlq_run
	db "UPDATE aw_tasks SET state = 'done' WHERE run_id = '$RUN' AND id = 'b'"
	run --separate-stderr aw-ctl replay "$RUN"
	assert_failure 1
	printf '%s\n' "$output" | valid
	assert_output "{\"type\":\"replay\",\"run_id\":\"$RUN\",\"equal\":false,\"problems\":[\"task \\\"b\\\": state is done in the table, dead from the events\"]}"
	assert_equal "$stderr" "aw-ctl: run $RUN: task \"b\": state is done in the table, dead from the events"
}

@test "replay: an event deleted from the log leaves a gap that is reported" {
	dlq_run
	db "DELETE FROM aw_events WHERE run_id = '$RUN' AND seq = 5"
	run --separate-stderr aw-ctl replay "$RUN"
	assert_failure 1
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -r '.problems[0]' <<<"$output")" "event 6: expected seq 5"
	assert_equal "${stderr_lines[0]}" "aw-ctl: run $RUN: event 6: expected seq 5"
	# the last event deleted: the run's end is missing
	dlq_run
	db "DELETE FROM aw_events WHERE run_id = '$RUN' AND seq = 13"
	run --separate-stderr aw-ctl replay "$RUN"
	assert_failure 1
	assert_equal "$(jq -c .problems <<<"$output")" '["run: state is failed in the table, running from the events"]'
}

@test "gc --older-than: old finished runs go, with their events and logs; the rest stay" {
	dlq_run
	old=$RUN
	dlq_run
	recent=$RUN
	# an old run that is paused, not finished
	plan "$F/dlq.ndjson"
	aw-ctl pause "$RUN" >/dev/null
	paused=$RUN
	assert [ -d "$XDG_STATE_HOME/agentutils/logs/$old" ]
	db "UPDATE aw_events SET ts = '2020-01-01T00:00:00.000Z' WHERE run_id IN ('$old', '$paused');
	    UPDATE aw_runs SET created = '2020-01-01T00:00:00.000Z' WHERE id IN ('$old', '$paused')"
	run --separate-stderr aw-ctl gc --older-than 1d
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	assert_output '{"type":"gc","runs":1}'
	assert [ ! -e "$XDG_STATE_HOME/agentutils/logs/$old" ]
	assert [ -d "$XDG_STATE_HOME/agentutils/logs/$recent" ]
	for t in aw_tasks aw_events aw_attempts aw_deps; do
		assert_equal "$t $(db "SELECT count(*) FROM $t WHERE run_id = '$old'")" "$t 0"
	done
	assert_equal "$(aw-ctl runs | jq -r .id | tr '\n' ' ')" "$recent $paused "
	run aw-ctl status "$old"
	assert_failure 66
	# nothing more to do
	run aw-ctl gc --older-than 1d
	assert_success
	assert_output '{"type":"gc","runs":0}'
}

@test "gc: --older-than is required and must be a duration" {
	run --separate-stderr aw-ctl gc
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "aw-ctl: gc: needs --older-than DUR"
	run --separate-stderr aw-ctl gc --older-than soon
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-ctl: --older-than: invalid duration "soon"'
	run --separate-stderr aw-ctl gc --older-than 1d extra
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "aw-ctl: gc: too many operands"
}

@test "a run that is not in the state file: 66 from every command that names one" {
	aw-plan "$F/dlq.ndjson" >/dev/null
	for c in "status NOSUCH" "status NOSUCH a" "events NOSUCH" "events --follow NOSUCH" \
	    "logs NOSUCH a" "cancel NOSUCH" "cancel NOSUCH a" "pause NOSUCH" "resume NOSUCH" \
	    "dlq NOSUCH" "requeue NOSUCH a" "requeue --all-dead NOSUCH" "replay NOSUCH"; do
		run --separate-stderr timeout 10 aw-ctl $c
		assert_equal "$c: $status $stderr" "$c: 66 aw-ctl: no run \"NOSUCH\" in the state file"
		assert_equal "$output" ""
	done
}

@test "usage: an unknown command, too few or too many operands, a bad --format: 64" {
	run --separate-stderr aw-ctl frobnicate
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-ctl: unknown command "frobnicate"'
	assert_equal "${stderr_lines[1]}" "usage: aw-ctl [-hqv] [--version] [--db PATH] [--follow] [--after SEQ]"
	run --separate-stderr aw-ctl
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "aw-ctl: no command"
	for c in status events logs cancel pause resume requeue replay; do
		run --separate-stderr aw-ctl $c
		assert_equal "$status ${stderr_lines[0]}" "64 aw-ctl: $c: too few operands"
	done
	run --separate-stderr aw-ctl logs R
	assert_equal "$status ${stderr_lines[0]}" "64 aw-ctl: logs: too few operands"
	for c in "runs x" "status R T x" "events R x" "logs R T x" "cancel R T x" "pause R x" \
	    "resume R x" "dlq R x" "replay R x"; do
		run --separate-stderr aw-ctl $c
		assert_equal "$status ${stderr_lines[0]}" "64 aw-ctl: ${c%% *}: too many operands"
	done
	run --separate-stderr aw-ctl --format xml runs
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-ctl: --format: unknown format "xml" (ndjson or table)'
}

@test "--format table: a line per run, task or event for people" {
	dlq_run
	aw-plan "$F/dlq.ndjson" >/dev/null
	run aw-ctl --format table runs
	assert_success
	tnorm <<<"$output" | golden aw-ctl/runs.table
	run aw-ctl --format table status "$RUN" b
	assert_success
	assert_output "2      b                        dead              1   exited with status 3"
	run aw-ctl --format table dlq
	assert_output "2      b                        dead              1   exited with status 3"
	run aw-ctl --format table events "$RUN"
	assert_success
	tnorm <<<"$output" | golden aw-ctl/dlq-events.table
	# a pipe gets records unless asked otherwise
	run aw-ctl runs
	printf '%s\n' "$output" | valid
	assert_equal "$(aw-ctl --format ndjson runs)" "$output"
}

@test "--format ndjson: every record of every command validates" {
	plan "$F/once.ndjson"
	{
		aw-ctl pause "$RUN"
		aw-ctl resume "$RUN"
		sched plan.ndjson
		aw-ctl runs
		aw-ctl status "$RUN"
		aw-ctl status "$RUN" b
		aw-ctl events "$RUN"
		aw-ctl dlq
		aw-ctl requeue --all-dead "$RUN"
		sched --run "$RUN"
		aw-ctl replay "$RUN"
		aw-ctl gc --older-than 1h
		aw-ctl cancel "$RUN" f || true
	} >all.ndjson 2>/dev/null || true
	assert_equal "$(jq -r .type all.ndjson | sort -u | tr '\n' ' ')" \
	    "gc replay run.event run.status task.event task.status "
	valid <all.ndjson
}
