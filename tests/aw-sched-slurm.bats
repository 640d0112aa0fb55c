#!/usr/bin/env bats
# aw-sched --executor slurm: the same plans, event log and aw-ctl as
# local runs, each attempt a job of a single-node Slurm cluster that the
# suite starts for itself (tests/slurm/start: munged, slurmctld, slurmd,
# as root).  Where that cluster cannot start, the tests that need it are
# skipped with the reason.

load helper

setup_file() {
	SLURM_DIR=$(mktemp -d /tmp/aw-slurm.XXXXXX)
	export SLURM_DIR
	if conf=$("$BATS_TEST_DIRNAME/slurm/start" "$SLURM_DIR" 2>&1); then
		export SLURM_CONF=$conf
	else
		export SLURM_SKIP="no Slurm here: ${conf##*slurm: }"
	fi
}

teardown_file() {
	[ ! -x "$SLURM_DIR/stop" ] || "$SLURM_DIR/stop"
	rm -rf "$SLURM_DIR"
}

# needslurm: skip, with the reason, where the cluster did not start.
needslurm() {
	[ -z "${SLURM_SKIP:-}" ] || skip "$SLURM_SKIP"
}

# plan FILE: plan.ndjson, the plan of FILE; RUN is its id.
plan() {
	aw-plan "$@" >plan.ndjson || return
	RUN=$(head -n 1 plan.ndjson | jq -r .id)
}

# start ARG...: aw-sched --executor slurm in the background, its output in
# out.N and errors in err.N (N counts the starts); PID is its pid.
start() {
	NSTART=$((${NSTART:-0} + 1))
	aw-sched --executor slurm "$@" >"out.$NSTART" 2>"err.$NSTART" 3>&- &
	PID=$!
}

# finish [SECONDS]: wait for the aw-sched of start (60 s at most, then it
# is killed); STATUS is its exit status, output its output.
finish() {
	local i
	for ((i = 0; i < ${1:-60} * 10; i++)); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$PID" 2>/dev/null || true
	STATUS=0
	wait "$PID" || STATUS=$?
	output=$(cat "out.$NSTART")
}

# waitfor SQL VALUE [SECONDS]: wait until SQL gives VALUE (30 s at most).
waitfor() {
	local i
	for ((i = 0; i < ${3:-30} * 10; i++)); do
		[[ $(db "$1" 2>/dev/null) == "$2" ]] && return 0
		sleep 0.1
	done
	echo "waitfor: $1: $(db "$1"), never $2" >&2
	return 1
}

# job TASK: the Slurm job of TASK's last claim, from its event.
job() {
	db "SELECT json_extract(detail, '$.job') FROM aw_events WHERE
	    run_id = '$RUN' AND task_id = '$1' AND to_state = 'running'
	    ORDER BY seq DESC LIMIT 1"
}

# queued JOB: the job is pending, running or completing in squeue.
queued() {
	[[ -n $(squeue --noheader --jobs="$1" 2>/dev/null) ]]
}

# state TASK: its state in the state file.
state() {
	db "SELECT state FROM aw_tasks WHERE run_id = '$RUN' AND id = '$1'"
}

@test "--executor takes local or slurm" {
	run aw-sched --executor lsf
	assert_failure 64
	assert_line --index 0 'aw-sched: --executor: expected local or slurm, not "lsf"'
}

@test "without Slurm's commands: 69, naming the one missing" {
	echo '{"id":"a","run":"true"}' >t.ndjson
	plan t.ndjson
	run env PATH="$AU_BIN" aw-sched --executor slurm plan.ndjson
	assert_failure 69
	assert_output "aw-sched: sbatch not found: --executor slurm needs Slurm's client commands"
}

@test "a controller that does not answer: 69 with squeue's reason, nothing run" {
	needslurm
	# Nothing listens on port 9; a short MessageTimeout gives up sooner.
	sed 's/^SlurmctldPort=.*/SlurmctldPort=9/; s/^MessageTimeout=.*/MessageTimeout=1/' \
	    "$SLURM_CONF" >bad.conf
	echo '{"id":"a","run":"touch ran"}' >t.ndjson
	plan t.ndjson
	SLURM_CONF=$PWD/bad.conf run aw-sched --executor slurm plan.ndjson
	assert_failure 69
	assert_output --partial "aw-sched: squeue: slurm_load_jobs error: Unable to contact slurm controller"
	[ ! -e ran ]
	assert_equal "$(state a)" pending
}

@test "a DAG of 200 tasks, aw-sched killed -9 midway and resumed: each ran once" {
	needslurm
	local i
	for ((i = 1; i <= 200; i++)); do
		if ((i <= 20)); then
			printf '{"id":"t%d","run":"echo t%d >>%s/ran"}\n' $i $i "$PWD"
		else
			printf '{"id":"t%d","run":"echo t%d >>%s/ran","deps":["t%d","t%d"]}\n' \
			    $i $i "$PWD" $((i - 20)) $((i - 13))
		fi
	done >dag.ndjson
	plan dag.ndjson
	start -j 16 plan.ndjson
	waitfor "SELECT count(*) >= 40 FROM aw_tasks WHERE run_id = '$RUN' AND state = 'done'" 1 90
	kill -9 "$PID"
	finish
	assert_equal "$STATUS" 137
	# Some attempts were running when it died: the next one follows them.
	run db "SELECT count(*) > 0 FROM aw_tasks WHERE run_id = '$RUN' AND state = 'running'"
	assert_output 1
	start -v -j 16 --run "$RUN"
	finish 150
	assert_equal "$STATUS" 0
	assert_equal "$(wc -l <ran)" 200
	assert_equal "$(sort ran | uniq -d)" ""
	assert_equal "$(sort -u ran | wc -l)" 200
	grep -q 'following Slurm job' err.2
	# Every attempt was its job's, and the first: nothing was run twice.
	run db "SELECT count(*), sum(attempt = 1), sum(lost) FROM aw_tasks WHERE run_id = '$RUN' AND state = 'done'"
	assert_output "200|200|0"
	run db "SELECT count(DISTINCT json_extract(detail, '$.job')) FROM aw_events WHERE run_id = '$RUN' AND to_state = 'running'"
	assert_output 200
	cat out.1 out.2 | valid
	run aw-ctl status "$RUN"
	assert_success
	assert_equal "$(jq -r '.state, .counts.done' <<<"$output" | paste -sd ' ')" "done 200"
	run aw-ctl replay "$RUN"
	assert_success
}

@test "resume: a job that ended while aw-sched was dead gives its result, a running one is followed" {
	needslurm
	cat >t.ndjson <<-EOF2
	{"id":"quick","run":"sleep 1; echo quick >>$PWD/ran; echo out"}
	{"id":"slow","run":"sleep 8; echo slow >>$PWD/ran"}
	EOF2
	plan t.ndjson
	start -j 2 plan.ndjson
	waitfor "SELECT count(*) FROM aw_tasks WHERE run_id = '$RUN' AND state = 'running'" 2
	kill -9 "$PID"
	finish
	local quick slow i
	quick=$(job quick) slow=$(job slow)
	for ((i = 0; i < 300; i++)); do
		[ -s ran ] && break
		sleep 0.1
	done
	assert_equal "$(cat ran)" quick
	queued "$slow"
	start --run "$RUN"
	finish
	assert_equal "$STATUS" 0
	assert_equal "$(sort ran | paste -sd ' ')" "quick slow"
	run jq -r 'select(.to == "done") | "\(.task) \(.job) \(.attempt)"' out.2
	assert_output --partial "quick $quick 1"
	assert_output --partial "slow $slow 1"
	run aw-ctl logs "$RUN" quick
	assert_output out
}

@test "a held job of a submission that was never committed is cancelled on resume" {
	needslurm
	echo '{"id":"a","run":"true"}' >t.ndjson
	plan t.ndjson
	local id
	id=$(printf '#!/bin/sh\ntouch %s/stray\n' "$PWD" | sbatch --parsable --hold \
	    --comment="agentutils run=$RUN task=a attempt=1" --output=/dev/null)
	queued "$id"
	start --run "$RUN"
	finish
	assert_equal "$STATUS" 0
	! queued "$id"
	[ ! -e stray ]
	assert_equal "$(state a)" done
}

@test "resources: needs, cpus, mem, partition and timeout become sbatch options" {
	needslurm
	cat >workers.ndjson <<-'EOF2'
	{"id":"cpu","slots":2}
	{"id":"gpu","slots":2,"partition":"gpu","gres":{"gpu":"gpu:1"},"constraint":{"fast":"fast"},"capabilities":["big"]}
	EOF2
	cat >t.ndjson <<-'EOF2'
	{"id":"g","run":"sleep 3","needs":["gpu","fast","big"],"cpus":2,"mem":"100M","timeout":"90s"}
	{"id":"p","run":"sleep 3"}
	EOF2
	plan t.ndjson
	start --workers workers.ndjson plan.ndjson
	waitfor "SELECT count(*) FROM aw_tasks WHERE run_id = '$RUN' AND state = 'running'" 2
	local g p
	g=$(job g) p=$(job p)
	run scontrol show job "$g"
	assert_output --regexp 'Partition=gpu '
	assert_output --regexp 'TimeLimit=00:02:00 '
	assert_output --regexp 'NumCPUs=2 '
	assert_output --regexp 'MinMemoryNode=100M '
	assert_output --regexp 'Features=fast '
	assert_output --regexp 'TresPerNode=gres:gpu:1'
	assert_output --regexp "Comment=agentutils run=$RUN task=g attempt=1"
	assert_output --regexp 'JobName=g[[:space:]]'
	run scontrol show job "$p"
	assert_output --regexp 'Partition=debug '
	assert_output --regexp 'TimeLimit=UNLIMITED '
	refute_output --regexp 'TresPerNode'
	finish
	assert_equal "$STATUS" 0
	run jq -r 'select(.to == "running") | "\(.task) \(.worker)"' out.1
	assert_output --partial "g gpu"
	assert_output --partial "p cpu"
}

@test "a failing task: its status and stderr as a local run keeps them, dependents skipped, exit 1" {
	needslurm
	cat >t.ndjson <<-'EOF2'
	{"id":"f","run":"echo to out; echo to err >&2; exit 3"}
	{"id":"d","run":"true","deps":["f"]}
	{"id":"k","run":"kill -USR1 $$"}
	EOF2
	plan t.ndjson
	start plan.ndjson
	finish
	assert_equal "$STATUS" 1
	run jq -r 'select(.type == "task.event" and .to != "running" and .to != "ready") | "\(.task) \(.to) \(.exit_code) \(.error)"' out.1
	assert_line "f failed 3 exited with status 3"
	assert_line "f dead 3 exited with status 3"
	assert_line 'd skipped null dependency "f" died'
	assert_line "k dead 138 killed by signal 10"
	run aw-ctl logs "$RUN" f
	assert_output "to out"
	run aw-ctl logs --stderr "$RUN" f
	assert_output "to err"
	valid <out.1
}

@test "timeout: the job is cancelled at the task's timeout, and leaves squeue" {
	needslurm
	echo '{"id":"s","run":"sleep 60","timeout":"2s"}' >t.ndjson
	plan t.ndjson
	start plan.ndjson
	finish 30
	assert_equal "$STATUS" 1
	run jq -r 'select(.to == "dead") | "\(.exit_code) \(.error)"' out.1
	assert_output "143 timed out after 2s"
	run scontrol show job "$(job s)"
	assert_output --regexp 'TimeLimit=00:01:00 '
	! queued "$(job s)"
}

@test "aw-ctl cancel: the task's job is cancelled, the rest of the run goes on" {
	needslurm
	cat >t.ndjson <<-'EOF2'
	{"id":"long","run":"sleep 60"}
	{"id":"short","run":"sleep 2"}
	EOF2
	plan t.ndjson
	start plan.ndjson
	waitfor "SELECT count(*) FROM aw_tasks WHERE run_id = '$RUN' AND state = 'running'" 2
	run aw-ctl cancel "$RUN" long
	assert_success
	finish 30
	assert_equal "$STATUS" 1
	assert_equal "$(state long) $(state short)" "cancelled done"
	! queued "$(job long)"
}

@test "SIGTERM: every job cancelled, the tasks interrupted; --run runs them again" {
	needslurm
	cat >t.ndjson <<-EOF2
	{"id":"a","run":"sleep 60"}
	{"id":"b","run":"echo b >>$PWD/ran; sleep 60"}
	EOF2
	plan t.ndjson
	start plan.ndjson
	waitfor "SELECT count(*) FROM aw_tasks WHERE run_id = '$RUN' AND state = 'running'" 2
	local a b
	a=$(job a) b=$(job b)
	kill -TERM "$PID"
	finish 30
	assert_equal "$STATUS" 143
	! queued "$a"
	! queued "$b"
	assert_equal "$(state a) $(state b)" "interrupted interrupted"
	sed -i 's/sleep 60/true/' t.ndjson
	db "UPDATE aw_tasks SET record = replace(record, 'sleep 60', 'true') WHERE run_id = '$RUN'"
	start --run "$RUN"
	finish
	assert_equal "$STATUS" 0
	assert_equal "$(state a) $(state b)" "done done"
}

@test "a task Slurm refuses dies at once, without a retry" {
	needslurm
	echo '{"id":"w","partition":"nosuch"}' >workers.ndjson
	echo '{"id":"a","run":"true","retry":{"attempts":3}}' >t.ndjson
	plan t.ndjson
	start --workers workers.ndjson plan.ndjson
	finish
	assert_equal "$STATUS" 1
	run jq -r 'select(.to == "dead") | "\(.exit_code) \(.error)"' out.1
	assert_output "127 sbatch: Invalid partition name specified"
	assert_equal "$(db "SELECT attempt FROM aw_tasks WHERE run_id = '$RUN'")" 1
}
