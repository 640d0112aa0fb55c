#!/usr/bin/env bats
# aw-sched: runs of plans in order, on workers, with retries, timeouts,
# approvals, signals, kill -9 at any moment, two schedulers on one run,
# a busy state file, and every kind of bad input with its exit status.
# The events it writes are checked as records (valid), against the event
# log in the state file, and against what the tasks themselves noted.

load helper

F=$BATS_TEST_DIRNAME/fixtures/aw-sched

# plan [-n] FILE...: plan.ndjson, the plan of FILE (stored in the state
# file by aw-plan, unless -n: then aw-sched stores it); RUN is its id.
plan() {
	aw-plan "$@" >plan.ndjson || return
	RUN=$(head -n 1 plan.ndjson | jq -r .id)
}

# sched ARG...: aw-sched, but never for more than 30 seconds.
sched() {
	timeout 30 aw-sched "$@"
}

# start ARG...: aw-sched in the background, its output in out.N and its
# errors in err.N (N counts the starts of the test); PID is its pid.
start() {
	NSTART=$((${NSTART:-0} + 1))
	aw-sched "$@" >"out.$NSTART" 2>"err.$NSTART" 3>&- &
	PID=$!
}

# gone PID: that process has ended (a zombie nobody reaps has ended too).
gone() {
	local st
	st=$(ps -o stat= -p "$1") || return 0
	[[ $st == Z* ]]
}

# finish [SECONDS]: wait for the aw-sched of start (20 s at most, then it
# is killed); STATUS is its exit status, output its output.
finish() {
	local i
	for ((i = 0; i < ${1:-20} * 20; i++)); do
		gone "$PID" && break
		sleep 0.05
	done
	gone "$PID" || kill -9 "$PID"
	STATUS=0
	wait "$PID" || STATUS=$?
	output=$(cat "out.$NSTART")
}

# waitfor SQL VALUE: wait until SQL gives VALUE (10 s at most).
waitfor() {
	local i
	for ((i = 0; i < 200; i++)); do
		[[ $(db "$1" 2>/dev/null) == "$2" ]] && return 0
		sleep 0.05
	done
	echo "waitfor: $1: $(db "$1"), never $2" >&2
	return 1
}

# waitfile FILE...: wait until every FILE exists (10 s at most).
waitfile() {
	local i f ok
	for ((i = 0; i < 200; i++)); do
		ok=1
		for f; do [[ -e $f ]] || ok=0; done
		((ok)) && return 0
		sleep 0.05
	done
	echo "waitfile: $* never came" >&2
	return 1
}

# moves [TASK]: the task events of $output as "task:from>to", one line.
moves() {
	jq -r --arg t "${1:-}" 'select(.type == "task.event" and
	    ($t == "" or .task == $t)) | "\(.task):\(.from)>\(.to)"' \
	    <<<"$output" | paste -sd ' '
}

# launched: the tasks of $output in the order they were launched.
launched() {
	jq -r 'select(.type == "task.event" and .to == "running") | .task' \
	    <<<"$output" | paste -sd ' '
}

# state TASK: its state in the state file.
state() {
	db "SELECT state FROM aw_tasks WHERE run_id = '$RUN' AND id = '$1'"
}

# logged: the event log of $RUN is whole and explains the tables: seq
# 1..N without a gap, every task's events chained (each from is the last
# to), and the last event of each task (and of the run) is its state.
logged() {
	local r
	r=$(db "WITH last AS (SELECT task_id, to_state, attempt FROM aw_events e
	    WHERE run_id = '$RUN' AND task_id IS NOT NULL AND seq = (SELECT
	    max(seq) FROM aw_events f WHERE f.run_id = e.run_id AND
	    f.task_id = e.task_id))
	  SELECT (SELECT count(*) = max(seq) FROM aw_events WHERE run_id = '$RUN'),
	  (SELECT count(*) FROM (SELECT from_state, lag(to_state, 1, 'pending')
	    OVER (PARTITION BY task_id ORDER BY seq) AS prev FROM aw_events
	    WHERE run_id = '$RUN' AND task_id IS NOT NULL) WHERE from_state != prev),
	  (SELECT count(*) FROM aw_tasks t LEFT JOIN last l ON l.task_id = t.id
	    WHERE t.run_id = '$RUN' AND (coalesce(l.to_state, 'pending') != t.state
	    OR coalesce(l.attempt, 0) != t.attempt)),
	  (SELECT state FROM aw_runs WHERE id = '$RUN') = coalesce((SELECT to_state
	    FROM aw_events WHERE run_id = '$RUN' AND task_id IS NULL ORDER BY seq
	    DESC LIMIT 1), 'planned')")
	[[ $r == "1|0|0|1" ]] || { echo "logged: $r (expected 1|0|0|1)" >&2; return 1; }
}

# as_logged: the events of $output are the state file's log of $RUN.
as_logged() {
	diff -u <(db "SELECT seq, coalesce(task_id, ''), attempt, from_state,
	    to_state FROM aw_events WHERE run_id = '$RUN' ORDER BY seq") \
	    <(jq -r '[.seq, .task // "", .attempt // 0, .from, .to] |
	    map(tostring) | join("|")' <<<"$output")
}

# jq's ms: the epoch milliseconds of an RFC 3339 time with milliseconds.
MS='def ms: (.[0:19] + "Z" | fromdateiso8601) * 1000 + (.[20:23] | tonumber);'

# ---- order and the event log ----

@test "-j1 runs by priority, then level, then id; the events are the log" {
	plan -n "$F/priority.ndjson"
	run --separate-stderr sched -j1 plan.ndjson
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	assert_equal "$(launched)" "x2 y a x1 z m n"
	jq -c 'del(.duration_ms)' <<<"$output" | norm | golden aw-sched/priority.ndjson
	as_logged
	logged
	assert_equal "$(db "SELECT state, count(*) FROM aw_tasks WHERE run_id = '$RUN' GROUP BY state")" "done|7"
	assert_equal "$(db "SELECT state FROM aw_runs WHERE id = '$RUN'")" done
	# every event is on its own line as it happens, with this run's id
	assert_equal "$(jq -r .run_id <<<"$output" | sort -u)" "$RUN"
	assert_equal "$(db "SELECT count(*) FROM aw_attempts WHERE run_id = '$RUN' AND exit_code = 0 AND worker = 'local'")" 7
}

@test "-j1 and the same outcomes: two runs give the same event sequence" {
	plan "$F/same.ndjson"
	run --separate-stderr sched -j1 plan.ndjson
	assert_failure 1
	printf '%s\n' "$output" | valid
	logged
	first=$(jq -c 'del(.ts, .run_id, .duration_ms, .ready_at)' <<<"$output")
	assert_equal "$(moves)" "r:pending>ready s:pending>ready f:pending>ready r:ready>running r:running>retrying s:ready>running r:retrying>ready s:running>done r:ready>running r:running>done h:pending>ready f:ready>running f:running>failed f:failed>dead g:pending>skipped h:ready>running h:running>done"
	plan "$F/same.ndjson"
	run --separate-stderr sched -j1 plan.ndjson
	assert_failure 1
	logged
	second=$(jq -c 'del(.ts, .run_id, .duration_ms, .ready_at)' <<<"$output")
	assert_equal "$second" "$first"
	assert_equal "$(db "SELECT count(DISTINCT run_id) FROM aw_events")" 2
}

@test "a plan fed again resumes its run: stored once, nothing runs twice" {
	plan -n "$F/priority.ndjson"
	run --separate-stderr sched -v -j2 plan.ndjson
	assert_success
	assert_equal "$stderr" "aw-sched: stored run $RUN: 7 tasks"
	run --separate-stderr sched -v -j2 plan.ndjson
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	assert_equal "$(db "SELECT count(*) FROM aw_runs")" 1
	assert_equal "$(db "SELECT count(*) FROM aw_tasks")" 7
	assert_equal "$(db "SELECT count(*) FROM aw_attempts")" 7
	# a run aw-plan stored is run, not stored again; --run finds it too
	plan "$F/priority.ndjson"
	run --separate-stderr sched -v --run "$RUN"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(launched | wc -w)" 7
	assert_equal "$(db "SELECT count(*) FROM aw_runs")" 2
}

@test "programs opening a new state file at once do not trip over each other" {
	echo '{"id":"a","run":"true"}' >one.ndjson
	for ((n = 0; n < 20; n++)); do
		export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state$n
		pids=()
		for k in 1 2 3 4 5 6; do
			timeout 20 aw-sched --run 01ARZ3NDEKTSV4RRFFQ69G5FAV 2>"err.$n.$k" 3>&- &
			pids+=($!)
		done
		run --separate-stderr bash -c 'aw-plan one.ndjson | timeout 20 aw-sched'
		assert_equal "$n: $status: $stderr" "$n: 0: "
		assert_equal "$(jq -r 'select(.type == "task.event") | .to' <<<"$output" | tail -n 1)" done
		for k in 1 2 3 4 5 6; do
			st=0
			wait "${pids[k - 1]}" || st=$?
			assert_equal "$n.$k: $st $(cat "err.$n.$k")" \
			    "$n.$k: 66 aw-sched: no run \"01ARZ3NDEKTSV4RRFFQ69G5FAV\" in the state file"
		done
	done
}

# ---- how tasks run ----

@test "run: an argv as it is, plain words without a shell, the rest with /bin/sh -c" {
	cat >tasks.ndjson <<'EOF'
{"id":"argv","run":["printf","%s|","a b","$HOME","it's"]}
{"id":"words","run":"printf %s-%s a b"}
{"id":"shell","run":"echo $((1 + 2)) && echo two >&2"}
{"id":"builtin","run":"exit 3"}
EOF
	plan tasks.ndjson
	run --separate-stderr sched -j1 plan.ndjson
	assert_failure 1
	printf '%s\n' "$output" | valid
	assert_equal "$(db "SELECT group_concat(task_id || '=' || command, ';') FROM (SELECT task_id, command FROM aw_attempts WHERE run_id = '$RUN' ORDER BY task_id)")" \
	    "argv=printf %s| a b \$HOME it's;builtin=/bin/sh -c exit 3;shell=/bin/sh -c echo \$((1 + 2)) && echo two >&2;words=printf %s-%s a b"
	logs=$XDG_STATE_HOME/agentutils/logs/$RUN
	assert_equal "$(cat "$logs/1.1.out")" "a b|\$HOME|it's|"
	assert_equal "$(cat "$logs/2.1.out")" "a-b"
	assert_equal "$(cat "$logs/3.1.out")" "3"
	assert_equal "$(cat "$logs/3.1.err")" "two"
	assert_equal "$(jq -c 'select(.task == "builtin" and .to == "dead") | [.exit_code, .error]' <<<"$output")" \
	    '[3,"exited with status 3"]'
}

@test "a command that is not there (127) or cannot run (126) dies, with why on stderr" {
	touch notexec
	cat >tasks.ndjson <<'EOF'
{"id":"missing","run":"no-such-command-here arg"}
{"id":"notexec","run":["./notexec"]}
EOF
	plan tasks.ndjson
	run --separate-stderr sched -j1 plan.ndjson
	assert_failure 1
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c 'select(.to == "dead") | [.task, .exit_code]' <<<"$output" | paste -sd ' ')" \
	    '["missing",127] ["notexec",126]'
	assert_equal "$stderr" "aw-sched: run $RUN: task \"missing\": no-such-command-here: command not found
aw-sched: run $RUN: task \"notexec\": ./notexec: cannot execute: Permission denied"
}

@test "a prompt task asks its model through mf-route; the usage row names the run and the task" {
	load mf/provider
	provider
	mkdir -p "$XDG_CONFIG_HOME/agentutils"
	printf '%s\n' "{\"providers\": {\"fake\": {\"kind\": \"anthropic\", \"base_url\": \"$URL/v1\"}}," \
	    '"models": {"default": {"provider": "fake"}, "big": {"provider": "fake"}}}' \
	    >"$XDG_CONFIG_HOME/agentutils/models.json"
	printf '%s\n' '{"id":"p","kind":"prompt","prompt":"hello there"}' \
	    '{"id":"q","kind":"prompt","prompt":"and you","model":"big","deps":["p"]}' >tasks.ndjson
	plan tasks.ndjson
	run --separate-stderr sched -j1 plan.ndjson
	assert_success
	assert_equal "$(moves p)" "p:pending>ready p:ready>running p:running>done"
	assert_equal "$(db "SELECT run_id, task_id, model, status FROM mf_usage ORDER BY id" | paste -sd ' ')" "$RUN|p|default|ok $RUN|q|big|ok"
}

@test "a prompt task dies at once: mf-route is not available" {
	cat >tasks.ndjson <<'EOF'
{"id":"p","kind":"prompt","prompt":"hello","retry":{"attempts":3,"delay":"10ms"}}
{"id":"after","run":"true","deps":["p"]}
EOF
	plan tasks.ndjson
	mkdir bin
	ln -s "$AU_BIN/aw-sched" bin/aw-sched
	PATH=$PWD/bin:/usr/bin:/bin run --separate-stderr sched -j1 plan.ndjson
	assert_failure 1
	printf '%s\n' "$output" | valid
	assert_equal "$(moves)" "p:pending>ready p:ready>running p:running>failed p:failed>dead after:pending>skipped"
	assert_equal "$(jq -r 'select(.to == "dead") | .error' <<<"$output")" \
	    "prompt tasks need mf-route, which is not available"
	assert_equal "$stderr" "aw-sched: run $RUN: task \"p\": prompt tasks need mf-route, which is not available"
}

@test "a tool task runs through tg-invoke: its tool, its args, the gateway's policy" {
	command -v firejail >/dev/null ||
	    skip "firejail is not installed (make deps installs it)"
	C=$XDG_CONFIG_HOME/agentutils
	mkdir -p "$C/tools.d"
	echo '{"name": "echo", "command": ["echo", "{text}"], "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}}, "annotations": {"read_only": true}}' >"$C/tools.d/echo.json"
	echo '{"default": "deny", "rules": [{"tool": "echo", "decision": "allow"}]}' >"$C/policy.json"
	cat >tasks.ndjson <<'EOF'
{"id":"t","kind":"tool","tool":"echo","args":{"text":"from a task"}}
{"id":"x","kind":"tool","tool":"rm","retry":{"attempts":1}}
{"id":"after","run":"true","deps":["x"]}
EOF
	plan tasks.ndjson
	run --separate-stderr sched -j1 plan.ndjson
	assert_failure 1
	assert_equal "$(moves t)" "t:pending>ready t:ready>running t:running>done"
	assert_equal "$(moves x)" "x:pending>ready x:ready>running x:running>failed x:failed>dead"
	run aw-ctl logs "$RUN" t
	assert_equal "$(jq -c '[.id, .decision, .content[0].text]' <<<"$output")" '["t","allow","from a task\n"]'
	run aw-ctl logs "$RUN" x
	assert_equal "$(jq -c '[.id, .content[0].text]' <<<"$output")" '["x","no such tool"]'
}

@test "the task record is on standard input; AGENTUTILS_RUN, _TASK, _ATTEMPT in the environment" {
	cat >tasks.ndjson <<'EOF'
{"id":"e","run":["sh","-c","cat >rec.$AGENTUTILS_ATTEMPT; env | grep ^AGENTUTILS_ | sort >env.$AGENTUTILS_ATTEMPT; [ $AGENTUTILS_ATTEMPT -ge 2 ]"],"retry":{"attempts":2,"delay":"10ms"},"owner":"me"}
EOF
	plan tasks.ndjson
	AGENTUTILS_TASK=stale AGENTUTILS_ATTEMPT=9 run --separate-stderr sched plan.ndjson
	assert_success
	assert_equal "$(cat rec.1)" "$(grep '"id":"e"' plan.ndjson)"
	assert_equal "$(cat rec.2)" "$(grep '"id":"e"' plan.ndjson)"
	assert_equal "$(cat env.1)" "AGENTUTILS_ATTEMPT=1
AGENTUTILS_RUN=$RUN
AGENTUTILS_TASK=e"
	assert_equal "$(cat env.2)" "AGENTUTILS_ATTEMPT=2
AGENTUTILS_RUN=$RUN
AGENTUTILS_TASK=e"
}

@test "logs: stdout and stderr of every attempt under the state directory, capped by --log-cap" {
	cat >tasks.ndjson <<'EOF'
{"id":"twice","run":"echo out $AGENTUTILS_ATTEMPT; echo err $AGENTUTILS_ATTEMPT >&2; [ $AGENTUTILS_ATTEMPT -ge 2 ]","retry":{"attempts":2,"delay":"10ms"}}
{"id":"big","run":"head -c 5000 /dev/zero | tr '\\0' x; head -c 300 /dev/zero | tr '\\0' y >&2"}
{"id":"quiet","run":"true"}
EOF
	plan tasks.ndjson
	run --separate-stderr sched -j1 --log-cap 1K plan.ndjson
	assert_success
	logs=$XDG_STATE_HOME/agentutils/logs/$RUN
	assert_equal "$(cd "$logs" && ls | paste -sd ' ')" "1.1.err 1.1.out 1.2.err 1.2.out 2.1.err 2.1.out"
	assert_equal "$(cat "$logs/1.1.out") $(cat "$logs/1.1.err") $(cat "$logs/1.2.out") $(cat "$logs/1.2.err")" \
	    "out 1 err 1 out 2 err 2"
	assert_equal "$(stat -c %s "$logs/2.1.out") $(stat -c %s "$logs/2.1.err")" "1024 300"
	assert_equal "$(tr -d x <"$logs/2.1.out" | wc -c)" 0
	assert_equal "$(stat -c %a "$logs" "$logs/1.1.out" | paste -sd ' ')" "700 600"
	assert_equal "$(db "SELECT task_id, attempt, stdout_path, stderr_path, stdout_bytes, stderr_bytes, truncated FROM aw_attempts WHERE run_id = '$RUN' ORDER BY task_id, attempt")" \
	    "big|1|$logs/2.1.out|$logs/2.1.err|5000|300|1
quiet|1|||0|0|0
twice|1|$logs/1.1.out|$logs/1.1.err|6|6|0
twice|2|$logs/1.2.out|$logs/1.2.err|6|6|0"
	# --db moves the logs along with the state file
	plan -n tasks.ndjson
	run --separate-stderr sched --db "$BATS_TEST_TMPDIR/other/state.db" plan.ndjson
	assert_success
	assert [ -s "$BATS_TEST_TMPDIR/other/logs/$RUN/2.1.out" ]
}

# ---- failure policy ----

@test "retries back off by the policy (delay, factor, max), as the events record" {
	cat >tasks.ndjson <<'EOF'
{"id":"r","run":"exit 3","retry":{"attempts":4,"delay":"200ms","factor":2,"max":"500ms"}}
EOF
	plan tasks.ndjson
	run --separate-stderr sched plan.ndjson
	assert_failure 1
	printf '%s\n' "$output" | valid
	logged
	assert_equal "$(moves)" "r:pending>ready r:ready>running r:running>retrying r:retrying>ready r:ready>running r:running>retrying r:retrying>ready r:ready>running r:running>retrying r:retrying>ready r:ready>running r:running>failed r:failed>dead"
	assert_equal "$(jq -c 'select(.to == "retrying") | .delay_ms' <<<"$output" | paste -sd ' ')" "200 400 500"
	# ready_at is the delay after the failure; the next attempt starts
	# when it is due, not before (and not much after)
	run jq -s -c "$MS"'
	    [.[] | select(.type == "task.event")] as $e
	    | [$e[] | select(.to == "retrying")] as $r
	    | [$e[] | select(.to == "running")] as $go
	    | [range(0; $r | length) as $i
	       | { delay: $r[$i].delay_ms,
	           lead: (($r[$i].ready_at | ms) - ($r[$i].ts | ms)),
	           late: (($go[$i + 1].ts | ms) - ($r[$i].ready_at | ms)) }]
	    | map(.lead <= .delay and .lead >= .delay - 50 and .late >= 0 and .late < 1000)' <<<"$output"
	assert_output "[true,true,true]"
	assert_equal "$(db "SELECT state, attempt, exit_code, error FROM aw_tasks WHERE run_id = '$RUN'")" \
	    "dead|4|3|exited with status 3"
	assert_equal "$(db "SELECT group_concat(attempt || ':' || exit_code, ' ') FROM aw_attempts WHERE run_id = '$RUN'")" \
	    "1:3 2:3 3:3 4:3"
}

@test "--retry is the default policy; a task's retry overrides it field by field" {
	cat >tasks.ndjson <<'EOF'
{"id":"dflt","run":"exit 1"}
{"id":"own","run":"exit 1","retry":{"attempts":2}}
{"id":"fast","run":"exit 1","retry":{"delay":"10ms","factor":1}}
EOF
	plan tasks.ndjson
	run --separate-stderr sched -j3 --retry attempts=3,delay=100ms,factor=2,max=150ms plan.ndjson
	assert_failure 1
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -r 'select(.to == "retrying") | "\(.task)=\(.delay_ms)"' <<<"$output" | sort | paste -sd ' ')" \
	    "dflt=100 dflt=150 fast=10 fast=10 own=100"
	assert_equal "$(db "SELECT group_concat(id || ':' || attempt, ' ') FROM aw_tasks WHERE run_id = '$RUN'")" \
	    "dflt:3 own:2 fast:3"
	# a bare number is the attempts
	plan tasks.ndjson
	run --separate-stderr sched -j3 --retry 2 plan.ndjson
	assert_failure 1
	assert_equal "$(db "SELECT group_concat(id || ':' || attempt, ' ') FROM aw_tasks WHERE run_id = '$RUN'")" \
	    "dflt:2 own:2 fast:2"
}

@test "jitter spreads the delays, the same way for the same run, task and attempt" {
	cat >tasks.ndjson <<'EOF'
{"id":"j","run":"exit 1","retry":{"attempts":4,"delay":"100ms","factor":1,"jitter":0.5}}
{"id":"k","run":"exit 1","retry":{"attempts":4,"delay":"100ms","factor":1,"jitter":0.5}}
EOF
	plan -n tasks.ndjson
	run --separate-stderr sched -j2 --db one.db plan.ndjson
	assert_failure 1
	one=$(jq -r 'select(.to == "retrying") | "\(.task) \(.attempt) \(.delay_ms)"' <<<"$output" | sort)
	run --separate-stderr sched -j2 --db two.db plan.ndjson
	assert_failure 1
	two=$(jq -r 'select(.to == "retrying") | "\(.task) \(.attempt) \(.delay_ms)"' <<<"$output" | sort)
	assert_equal "$two" "$one"
	assert_equal "$(wc -l <<<"$one")" 6
	# within [50, 150), and not all the same
	run awk '$3 < 50 || $3 >= 150 { bad++ } { seen[$3] } END { n = 0; for (d in seen) n++; print bad + 0, (n > 1) }' <<<"$one"
	assert_output "0 1"
}

@test "non_retryable exit codes die at once; the others are retried" {
	cat >tasks.ndjson <<'EOF'
{"id":"two","run":"exit 2","retry":{"attempts":3,"delay":"10ms","non_retryable":[2,4]}}
{"id":"three","run":"exit 3","retry":{"attempts":3,"delay":"10ms","non_retryable":[2,4]}}
EOF
	plan tasks.ndjson
	run --separate-stderr sched -j2 plan.ndjson
	assert_failure 1
	printf '%s\n' "$output" | valid
	assert_equal "$(moves two)" "two:pending>ready two:ready>running two:running>failed two:failed>dead"
	assert_equal "$(jq -c 'select(.task == "three" and .from == "running") | [.attempt, .to, .exit_code]' <<<"$output" | paste -sd ' ')" \
	    '[1,"retrying",3] [2,"retrying",3] [3,"failed",3]'
}

@test "exit 75 is retried (3 attempts at least, even when non_retryable); 77 never" {
	cat >tasks.ndjson <<'EOF'
{"id":"temp","run":"exit 75","retry":{"delay":"10ms"}}
{"id":"temp5","run":"exit 75","retry":{"attempts":5,"delay":"10ms"}}
{"id":"tempnr","run":"exit 75","retry":{"delay":"10ms","non_retryable":[75]}}
{"id":"denied","run":"exit 77","retry":{"attempts":3,"delay":"10ms"}}
EOF
	plan tasks.ndjson
	run --separate-stderr sched -j4 plan.ndjson
	assert_failure 1
	printf '%s\n' "$output" | valid
	assert_equal "$(db "SELECT group_concat(id || ':' || state || ':' || attempt || ':' || exit_code, ' ') FROM aw_tasks WHERE run_id = '$RUN'")" \
	    "temp:dead:3:75 temp5:dead:5:75 tempnr:dead:3:75 denied:dead:1:77"
	assert_equal "$(moves denied)" "denied:pending>ready denied:ready>running denied:running>failed denied:failed>dead"
}

@test "a timeout kills the task's whole group: TERM, then KILL after --grace; it is a failed attempt" {
	cat >tasks.ndjson <<'EOF'
{"id":"t","run":"sleep 30 & echo $! >bg.$AGENTUTILS_ATTEMPT; sleep 30","timeout":"500ms","retry":{"attempts":2,"delay":"10ms"}}
{"id":"stubborn","run":"trap '' TERM; sh -c 'echo $$ >bgs; exec sleep 30' & sleep 30","timeout":"300ms"}
EOF
	plan tasks.ndjson
	SECONDS=0
	run --separate-stderr sched -j2 --grace 300ms plan.ndjson
	assert_failure 1
	assert [ "$SECONDS" -lt 10 ]
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c 'select(.task == "t" and .from == "running") | [.attempt, .to, .exit_code, .error]' <<<"$output" | paste -sd ' ')" \
	    '[1,"retrying",143,"timed out after 0.5s"] [2,"failed",143,"timed out after 0.5s"]'
	assert_equal "$(jq -c 'select(.task == "stubborn" and .from == "running") | [.to, .exit_code, .error]' <<<"$output")" \
	    '["failed",137,"timed out after 0.3s"]'
	# the KILL came only after the grace
	run jq 'select(.task == "stubborn" and .from == "running") | .duration_ms >= 550 and .duration_ms < 5000' <<<"$output"
	assert_output true
	assert_equal "$(db "SELECT count(*), sum(timed_out) FROM aw_attempts WHERE run_id = '$RUN'")" "3|3"
	# and nothing of theirs is left running
	gone "$(cat bg.1)"
	gone "$(cat bg.2)"
	gone "$(cat bgs)"
}

@test "dead letter: a dead task keeps its last error, dependents are skipped, the rest finishes" {
	plan "$F/graph.ndjson"
	run --separate-stderr sched -j1 plan.ndjson
	assert_failure 1
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	logged
	assert_equal "$(db "SELECT id, state, exit_code, error FROM aw_tasks WHERE run_id = '$RUN' ORDER BY id")" \
	    'a|dead|3|exited with status 3
b|skipped||dependency "a" died
c|skipped||dependency "b" died
d|skipped||dependency "a" died
e|done|0|
f|done|0|'
	# the independent branch ran after the death
	run jq -s '(map(select(.task == "a" and .to == "dead"))[0].seq) <
	    (map(select(.task == "f" and .to == "done"))[0].seq)' <<<"$output"
	assert_output true
	assert_equal "$(db "SELECT state FROM aw_runs WHERE id = '$RUN'")" failed
	assert_equal "$(db "SELECT count(*) FROM aw_attempts WHERE run_id = '$RUN' AND task_id IN ('b', 'c', 'd')")" 0
}

@test "--fail-fast: nothing more is launched after the first death; running tasks finish" {
	cat >tasks.ndjson <<'EOF'
{"id":"a","run":"exit 1","priority":2}
{"id":"b","run":"true"}
{"id":"c","run":"true","deps":["b"]}
EOF
	plan tasks.ndjson
	run --separate-stderr sched -j1 --fail-fast plan.ndjson
	assert_failure 1
	printf '%s\n' "$output" | valid
	assert_equal "$(launched)" "a"
	assert_equal "$(state b) $(state c)" "ready pending"
	assert_equal "$(db "SELECT state FROM aw_runs WHERE id = '$RUN'")" running
	logged
	# the run goes on later, without --fail-fast
	run --separate-stderr sched -j1 --run "$RUN"
	assert_failure 1
	assert_equal "$(launched)" "b c"
	# with -j2 the task already running is not stopped
	cat >tasks.ndjson <<'EOF'
{"id":"f","run":"sleep 0.2; exit 1","priority":2}
{"id":"s","run":"sleep 0.8","priority":1}
{"id":"t","run":"true"}
EOF
	plan tasks.ndjson
	run --separate-stderr sched -j2 --fail-fast plan.ndjson
	assert_failure 1
	assert_equal "$(launched)" "f s"
	assert_equal "$(state f) $(state s) $(state t)" "dead done ready"
}

# ---- approvals ----

approval_plan() {
	cat >tasks.ndjson <<'EOF'
{"id":"a","run":"echo deploy >>deployed","approval":"required"}
{"id":"b","run":"true","deps":["a"]}
{"id":"c","run":"sleep 0.2"}
EOF
	plan tasks.ndjson
}

@test "approval: the task waits while the rest runs; approved, it runs" {
	approval_plan
	start -j2 plan.ndjson
	waitfor "SELECT state FROM aw_tasks WHERE id = 'c'" done
	assert_equal "$(state a) $(state b)" "waiting_approval pending"
	assert [ ! -e deployed ]
	req=$(db "SELECT id FROM approval_requests")
	assert_equal "$(db "SELECT requester, subject, summary, status, decided_at IS NULL, expires_at IS NULL FROM approval_requests")" \
	    "aw-sched|run $RUN task a|echo deploy >>deployed|pending|1|1"
	assert_equal "$(db "SELECT details FROM approval_requests")" "$(grep '"id":"a"' plan.ndjson)"
	assert_equal "$(db "SELECT approval_id FROM aw_tasks WHERE id = 'a'")" "$req"
	db "UPDATE approval_requests SET status = 'approved', decided_by = 'test', decided_at = '2030-01-01T00:00:00.000Z' WHERE id = '$req'"
	finish
	assert_equal "$STATUS" 0
	printf '%s\n' "$output" | valid
	assert_equal "$(moves a)" "a:pending>waiting_approval a:waiting_approval>ready a:ready>running a:running>done"
	assert_equal "$(jq -r 'select(.task == "a" and .to == "waiting_approval") | .approval_id' <<<"$output")" "$req"
	assert_equal "$(cat deployed)" deploy
	assert_equal "$(state b)" done
	logged
}

@test "approval denied: the task dies with the reason, its dependents are skipped" {
	approval_plan
	start -j2 plan.ndjson
	waitfor "SELECT state FROM aw_tasks WHERE id = 'c'" done
	db "UPDATE approval_requests SET status = 'denied', decided_by = 'test', reason = 'not today'"
	finish
	assert_equal "$STATUS" 1
	printf '%s\n' "$output" | valid
	assert_equal "$(moves a) $(moves b)" "a:pending>waiting_approval a:waiting_approval>dead b:pending>skipped"
	assert_equal "$(db "SELECT id, state, error FROM aw_tasks WHERE id IN ('a', 'b') ORDER BY id")" \
	    'a|dead|approval denied: not today
b|skipped|dependency "a" was not approved'
	assert [ ! -e deployed ]
	logged
}

@test "--approval-timeout: a request nobody answers expires, and counts as denied" {
	approval_plan
	SECONDS=0
	run --separate-stderr sched -j2 --approval-timeout 300ms plan.ndjson
	assert_failure 1
	printf '%s\n' "$output" | valid
	assert_equal "$(db "SELECT status, decided_by, round((julianday(expires_at) - julianday(created)) * 86400000) BETWEEN 290 AND 300 FROM approval_requests")" \
	    "expired|timeout|1"
	assert_equal "$(db "SELECT id, state, error FROM aw_tasks WHERE id IN ('a', 'b') ORDER BY id")" \
	    'a|dead|approval expired
b|skipped|dependency "a" was not approved'
	assert [ ! -e deployed ]
	assert [ "$SECONDS" -lt 10 ]
}

@test "--no-wait: 75 when only approvals are left; a later run takes the answer" {
	approval_plan
	run --separate-stderr sched -j2 --no-wait plan.ndjson
	assert_failure 75
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	assert_equal "$(state a) $(state b) $(state c)" "waiting_approval pending done"
	# again: nothing new, the same request
	run --separate-stderr sched -v --no-wait --run "$RUN"
	assert_failure 75
	assert_equal "$output" ""
	assert_equal "$stderr" "aw-sched: only approvals are left: come back later"
	assert_equal "$(db "SELECT count(*) FROM approval_requests")" 1
	db "UPDATE approval_requests SET status = 'approved'"
	run --separate-stderr sched --no-wait --run "$RUN"
	assert_success
	assert_equal "$(launched)" "a b"
	assert_equal "$(cat deployed)" deploy
	logged
}

# ---- workers ----

@test "capabilities: a task runs on a worker that has all it needs" {
	plan "$F/needs.ndjson"
	run --separate-stderr sched --workers "$F/workers.ndjson" plan.ndjson
	assert_success
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -r 'select(.type == "task.event" and .to == "running") | "\(.task)@\(.worker)"' <<<"$output" | sort | grep -v '^any@\|^none@' | paste -sd ' ')" \
	    "build@w1 fetch@w1 train@w2"
	# each ran through its worker's prefix
	assert_equal "$(db "SELECT group_concat(task_id || '=' || worker, ' ') FROM (SELECT task_id, worker FROM aw_attempts WHERE run_id = '$RUN' AND task_id IN ('build', 'fetch', 'train') ORDER BY task_id)")" \
	    "build=w1 fetch=w1 train=w2"
	logs=$XDG_STATE_HOME/agentutils/logs/$RUN
	for t in build fetch train any none; do
		o=$(db "SELECT ord FROM aw_tasks WHERE id = '$t'")
		assert_equal "$t $(cat "$logs/$o.1.out")" "$t $(db "SELECT worker FROM aw_attempts WHERE task_id = '$t'")"
	done
}

@test "tasks no worker can take: all reported at once, nothing runs, 65" {
	plan "$F/impossible.ndjson"
	run --separate-stderr sched --workers "$F/workers.ndjson" plan.ndjson
	assert_failure 65
	assert_equal "$output" ""
	assert_equal "$stderr" "aw-sched: run $RUN: task \"tpu\" needs [\"tpu\"], which no worker has
aw-sched: run $RUN: task \"both\" needs [\"gpu\",\"net\"], which no worker has"
	assert_equal "$(db "SELECT count(*) FROM aw_events")" 0
	assert_equal "$(db "SELECT count(*) FROM aw_attempts")" 0
	# the default worker takes every task
	echo '{"id":"all","capabilities":["cc","tpu","gpu","net"]}' >all.ndjson
	run --separate-stderr sched --run "$RUN" --workers all.ndjson
	assert_success
	assert_equal "$(launched | wc -w)" 4
	plan "$F/impossible.ndjson"
	run --separate-stderr sched -j2 plan.ndjson
	assert_success
}

@test "worker slots: never more tasks at once than a worker has slots, and both used" {
	jq -nc --arg m "$F/mark.sh" 'range(1; 10) | {id: "t\(.)", run: ["sh", $m, "0.3"]}' >tasks.ndjson
	plan tasks.ndjson
	run --separate-stderr sched --workers "$F/workers.ndjson" plan.ndjson
	assert_success
	printf '%s\n' "$output" | valid
	events=$output
	# as the tasks saw it
	run bash -c "sort -k4,4n marks | awk '{ c[\$5] += \$3 == \"start\" ? 1 : -1; if (c[\$5] > m[\$5]) m[\$5] = c[\$5] }
	    END { for (w in m) print w, m[w] }' | sort | paste -sd ' '"
	assert_output "w1 2 w2 1"
	# as the events say it
	run jq -s -c 'reduce (.[] | select(.type == "task.event")) as $e ({on: {}, n: {}, max: {}};
	    if $e.to == "running" then .on[$e.task] = $e.worker | .n[$e.worker] += 1
	        | .max[$e.worker] = ([.max[$e.worker], .n[$e.worker]] | max)
	    elif $e.from == "running" then .n[.on[$e.task]] -= 1 else . end) | .max' <<<"$events"
	assert_output '{"w1":2,"w2":1}'
	# -j3: the default worker's three slots
	plan tasks.ndjson
	rm marks
	run --separate-stderr sched -j3 plan.ndjson
	assert_success
	run bash -c "sort -k4,4n marks | awk '{ c += \$3 == \"start\" ? 1 : -1; if (c > m) m = c } END { print m }'"
	assert_output 3
}

@test "a worker's command prefix runs the task, its words quoted" {
	echo '{"id":"w","command":"env FOO=bar"}' >w.ndjson
	cat >tasks.ndjson <<'EOF'
{"id":"foo","run":["sh","-c","echo $FOO"]}
{"id":"words","run":["printf","%s\\n","it's","$HOME","a  b"]}
{"id":"str","run":"echo \"$FOO\" | tr a-z A-Z"}
EOF
	plan tasks.ndjson
	run --separate-stderr sched -j1 --workers w.ndjson plan.ndjson
	assert_success
	logs=$XDG_STATE_HOME/agentutils/logs/$RUN
	assert_equal "$(cat "$logs/1.1.out")" bar
	assert_equal "$(cat "$logs/2.1.out")" "it's
\$HOME
a  b"
	assert_equal "$(cat "$logs/3.1.out")" BAR
	assert_equal "$(db "SELECT command FROM aw_attempts WHERE task_id = 'foo'")" "/bin/sh -c env FOO=bar 'sh' '-c' 'echo \$FOO'"
}

@test "workers files: every bad worker reported (78), a missing file is 66" {
	printf '%s\n' '{"capabilities":["x"]}' '{"id":"b","slots":0}' '{"id":"c","capabilities":"gpu"}' '{"id":"d","slots":2.5}' \
	    '{"id":"e","capabilities":["cc",1]}' >bad.ndjson
	plan "$F/priority.ndjson"
	run --separate-stderr sched --workers bad.ndjson plan.ndjson
	assert_failure 78
	assert_equal "$output" ""
	assert_equal "$stderr" 'aw-sched: bad.ndjson:1: a worker needs an "id"
aw-sched: bad.ndjson:2: slots: expected an integer from 1 to 10000
aw-sched: bad.ndjson:3: capabilities: expected an array of strings
aw-sched: bad.ndjson:4: slots: expected an integer from 1 to 10000
aw-sched: bad.ndjson:5: capabilities[1]: expected a string'
	: >empty.ndjson
	run --separate-stderr sched --workers empty.ndjson plan.ndjson
	assert_failure 78
	assert_equal "$stderr" "aw-sched: empty.ndjson: no workers"
	run --separate-stderr sched --workers nope.ndjson plan.ndjson
	assert_failure 66
	assert_equal "$stderr" "aw-sched: nope.ndjson: No such file or directory"
	assert_equal "$(db "SELECT count(*) FROM aw_events")" 0
}

# ---- the joblog ----

@test "--joblog writes GNU parallel's joblog: a header, then a line per attempt" {
	plan "$F/joblog.ndjson"
	t0=$(date +%s)
	run --separate-stderr sched -j1 --grace 100ms --joblog jl.tsv plan.ndjson
	assert_failure 1
	t1=$(date +%s)
	assert_equal "$(head -n 1 jl.tsv)" "$(printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand')"
	assert_equal "$(wc -l <jl.tsv)" 6
	assert_equal "$(awk -F '\t' 'NF != 9' jl.tsv)" ""
	# Seq Host Send Receive Exitval Signal Command, by Seq
	assert_equal "$(tail -n +2 jl.tsv | sort -n | cut -f 1,2,5-)" "$(printf '%s\n' \
	    "1	local	0	5	0	0	printf hello" \
	    "2	local	0	0	3	0	/bin/sh -c exit 3" \
	    "3	local	0	0	0	9	/bin/sh -c kill -9 \$\$" \
	    "4	local	0	0	0	15	sleep 5" \
	    "5	local	0	0	130	0	/bin/sh -c exit 130")"
	# Starttime in seconds since the epoch, JobRuntime in seconds, both to the ms
	run awk -F '\t' -v t0="$t0" -v t1="$t1" 'NR > 1 && !($3 ~ /^[0-9]+\.[0-9][0-9][0-9]$/ &&
	    $4 ~ /^[0-9]+\.[0-9][0-9][0-9]$/ && $3 >= t0 && $3 <= t1 + 1) { print "bad:", $0 }
	    NR > 1 && $1 == 4 && $4 < 0.2 { print "too short:", $0 }' jl.tsv
	assert_output ""
	# it can not be created: 73
	run --separate-stderr sched --joblog nodir/jl.tsv --run "$RUN"
	assert_failure 73
	assert_equal "$stderr" "aw-sched: nodir/jl.tsv: No such file or directory"
}

# ---- signals, crashes and other schedulers ----

@test "SIGINT: 130, the running tasks get it and are interrupted; --run resumes them" {
	cat >tasks.ndjson <<'EOF'
{"id":"a","run":"trap 'echo INT >a.sig; exit 1' INT; echo $AGENTUTILS_ATTEMPT >>a.att; [ $AGENTUTILS_ATTEMPT != 1 ] || { sleep 10 & wait; }"}
{"id":"b","run":"trap 'echo INT >b.sig; exit 1' INT; echo $AGENTUTILS_ATTEMPT >>b.att; [ $AGENTUTILS_ATTEMPT != 1 ] || { sleep 10 & wait; }"}
{"id":"c","run":"true","deps":["a"]}
EOF
	plan tasks.ndjson
	start -j2 --grace 2s plan.ndjson
	waitfile a.att b.att
	kill -INT "$PID"
	finish
	assert_equal "$STATUS" 130
	printf '%s\n' "$output" | valid
	assert_equal "$(cat a.sig b.sig)" "INT
INT"
	assert_equal "$(jq -c 'select(.to == "interrupted") | [.task, .attempt, .reason]' <<<"$output" | sort | paste -sd ' ')" \
	    '["a",1,"aw-sched got signal 2"] ["b",1,"aw-sched got signal 2"]'
	assert_equal "$(state a) $(state b) $(state c)" "interrupted interrupted pending"
	logged
	run --separate-stderr sched -j2 --run "$RUN"
	assert_success
	printf '%s\n' "$output" | valid
	assert_equal "$(moves a)" "a:interrupted>ready a:ready>running a:running>done"
	assert_equal "$(cat a.att b.att | paste -sd ' ')" "1 2 1 2"
	assert_equal "$(state c)" done
	logged
}

@test "SIGTERM: 143; a task that ignores it is killed after --grace; the run resumes" {
	cat >tasks.ndjson <<'EOF'
{"id":"a","run":"trap 'exit 1' TERM; echo $AGENTUTILS_ATTEMPT >>a.att; [ $AGENTUTILS_ATTEMPT != 1 ] || { sleep 10 & wait; }"}
{"id":"deaf","run":"trap '' TERM; echo $$ >deaf.pid; echo $AGENTUTILS_ATTEMPT >>deaf.att; [ $AGENTUTILS_ATTEMPT != 1 ] || sleep 10"}
EOF
	plan tasks.ndjson
	start -j2 --grace 300ms plan.ndjson
	waitfile a.att deaf.att
	SECONDS=0
	kill -TERM "$PID"
	finish
	assert_equal "$STATUS" 143
	assert [ "$SECONDS" -lt 5 ]
	gone "$(cat deaf.pid)"
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c 'select(.to == "interrupted") | [.task, .reason]' <<<"$output" | sort | paste -sd ' ')" \
	    '["a","aw-sched got signal 15"] ["deaf","aw-sched got signal 15"]'
	# the stubborn one went only after the grace
	run jq -s "$MS"'map(select(.task == "deaf" and (.to == "running" or .to == "interrupted")) | .ts | ms)
	    | .[1] - .[0] >= 250' <<<"$output"
	assert_output true
	run --separate-stderr sched -j2 --run "$RUN"
	assert_success
	assert_equal "$(cat a.att deaf.att | paste -sd ' ')" "1 2 1 2"
	logged
}

@test "an interrupted attempt is on record with its logs, like any other" {
	cat >tasks.ndjson <<'EOF'
{"id":"a","run":"echo out $AGENTUTILS_ATTEMPT; echo $AGENTUTILS_ATTEMPT >>a.att; [ $AGENTUTILS_ATTEMPT != 1 ] || sleep 10"}
EOF
	plan tasks.ndjson
	start --joblog jl.tsv plan.ndjson
	waitfile a.att
	kill -TERM "$PID"
	finish
	assert_equal "$STATUS" 143
	# the joblog has it
	assert_equal "$(tail -n +2 jl.tsv | cut -f 1,2,7,8)" "$(printf '1\tlocal\t0\t15')"
	run --separate-stderr sched --run "$RUN"
	assert_success
	logs=$XDG_STATE_HOME/agentutils/logs/$RUN
	assert_equal "$(cat "$logs/1.1.out")" "out 1"
	# and so does aw_attempts, where aw-ctl logs looks
	assert_equal "$(db "SELECT group_concat(attempt || ':' || coalesce(stdout_path, '-'), ' ') FROM (SELECT attempt, stdout_path FROM aw_attempts WHERE run_id = '$RUN' ORDER BY attempt)")" \
	    "1:$logs/1.1.out 2:$logs/1.2.out"
}

@test "an interrupted attempt costs no attempt: the task still gets all its tries" {
	cat >tasks.ndjson <<'EOF'
{"id":"s","run":"echo $AGENTUTILS_ATTEMPT >>s.att; [ $AGENTUTILS_ATTEMPT != 1 ] || sleep 10; exit 1","retry":{"attempts":2,"delay":"10ms"}}
EOF
	plan tasks.ndjson
	start plan.ndjson
	waitfile s.att
	kill -TERM "$PID"
	finish
	assert_equal "$STATUS" 143
	run --separate-stderr sched --run "$RUN"
	assert_failure 1
	# two tries that ended by themselves, as the policy says, after the
	# one the signal ended
	assert_equal "$(jq -c 'select(.type == "task.event" and .from == "running") | [.to, .exit_code]' <<<"$output" | paste -sd ' ')" \
	    '["retrying",1] ["failed",1]'
}

@test "kill -9: the next aw-sched finds the orphaned task, kills what is left of it, runs it again" {
	cat >tasks.ndjson <<'EOF'
{"id":"s","run":"echo $$ >pid.$AGENTUTILS_ATTEMPT; echo $AGENTUTILS_ATTEMPT start >>marks; [ $AGENTUTILS_ATTEMPT != 1 ] || sleep 10; echo $AGENTUTILS_ATTEMPT end >>marks"}
EOF
	plan tasks.ndjson
	aw-sched plan.ndjson >out.1 3>&- &
	waitfor "SELECT pid IS NOT NULL FROM aw_claims WHERE task_id = 's'" 1
	kill -9 $!
	wait $! 2>/dev/null || true
	# the task outlived its scheduler
	run gone "$(cat pid.1)"
	assert_failure
	run --separate-stderr sched plan.ndjson
	assert_success
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c 'select(.type == "task.event") | [.attempt, .from, .to, .reason]' <<<"$output" | paste -sd ' ')" \
	    '[1,"running","interrupted","its scheduler is gone"] [1,"interrupted","ready",null] [2,"ready","running",null] [2,"running","done",null]'
	gone "$(cat pid.1)"
	assert_equal "$(cat marks | paste -sd ' ')" "1 start 2 start 2 end"
	logged
}

@test "kill -9 right after a launch: the orphan does not run on beside the next attempt" {
	cat >tasks.ndjson <<'EOF'
{"id":"s","run":"echo $$ >pid.$AGENTUTILS_ATTEMPT; echo $AGENTUTILS_ATTEMPT start >>marks; [ $AGENTUTILS_ATTEMPT != 1 ] || sleep 1.5; echo $AGENTUTILS_ATTEMPT end >>marks"}
EOF
	plan tasks.ndjson
	aw-sched plan.ndjson >out.1 3>&- &
	waitfile pid.1
	kill -9 $!
	wait $! 2>/dev/null || true
	run --separate-stderr sched plan.ndjson
	assert_success
	assert_equal "$(state s)" done
	sleep 2
	# attempt 1 was killed before attempt 2 started: it never ended by itself
	assert_equal "$(cat marks | paste -sd ' ')" "1 start 2 start 2 end"
	gone "$(cat pid.1)"
}

# kill_loop ROUND: plan 40 short tasks (5 chains of 8), start aw-sched on
# them and kill -9 it 5 times at random moments, then let one finish.
kill_loop() {
	local r=$1 k
	mkdir "round$r"
	cd "round$r" || return
	jq -nc --arg m "$F/mark.sh" 'range(1; 41) as $i
	    | {id: "t\($i)", run: ["sh", $m, "0.\($i * 7 % 3 + 1)"]}
	    + if $i > 5 then {deps: ["t\($i - 5)"]} else {} end' >tasks.ndjson
	aw-plan -n tasks.ndjson >plan.ndjson
	for ((k = 0; k < 5; k++)); do
		aw-sched -j$((RANDOM % 4 + 2)) plan.ndjson >"out.$k" 2>"err.$k" 3>&- &
		sleep "0.$((RANDOM % 6))$((RANDOM % 10))"
		kill -9 $!
		wait $! 2>/dev/null || true
	done
	timeout 60 aw-sched -j4 plan.ndjson >out.end 2>err.end
	echo $? >status
	cd ..
}

@test "kill -9 at 25 random moments: nothing lost, nothing run twice" {
	for r in 1 2 3 4 5; do
		kill_loop $r
	done
	sleep 0.5	# what a killed scheduler left behind has ended
	for r in 1 2 3 4 5; do
		cd "$BATS_TEST_TMPDIR/round$r"
		RUN=$(head -n 1 plan.ndjson | jq -r .id)
		assert_equal "round $r: $(cat status) $(cat err.end)" "round $r: 0 "
		cat out.* | valid
		# nothing lost: every task done, by exactly one done event
		assert_equal "$(db "SELECT state, count(*) FROM aw_tasks WHERE run_id = '$RUN' GROUP BY state")" "done|40"
		assert_equal "$(db "SELECT count(*), count(DISTINCT task_id) FROM aw_events WHERE run_id = '$RUN' AND task_id IS NOT NULL AND to_state = 'done'")" "40|40"
		logged
		# every attempt but the last of a task was interrupted
		assert_equal "$(db "SELECT count(*) FROM aw_tasks t WHERE run_id = '$RUN' AND attempt !=
		    1 + (SELECT count(*) FROM aw_events e WHERE e.run_id = t.run_id AND e.task_id = t.id
		    AND from_state = 'running' AND to_state = 'interrupted')")" 0
		# nothing run twice: no attempt started twice, the done attempt is
		# the last that started, and it ran to its end
		assert_equal "$(awk '$3 == "start" { print $1, $2 }' marks | sort | uniq -d)" ""
		assert_equal "$(awk '$3 == "start" && $2 > last[$1] { last[$1] = $2 }
		    END { for (t in last) print t, last[t] }' marks | sort)" \
		    "$(db "SELECT task_id || ' ' || attempt FROM aw_events WHERE run_id = '$RUN' AND task_id IS NOT NULL AND to_state = 'done'" | sort)"
		assert_equal "$(awk '$3 == "end" { print $1, $2 }' marks | sort | uniq -d)" ""
		while read -r t a; do
			grep -q "^$t $a end " marks || fail "round $r: $t $a never ended"
		done < <(db "SELECT task_id, attempt FROM aw_events WHERE run_id = '$RUN' AND task_id IS NOT NULL AND to_state = 'done'" | tr '|' ' ')
	done
	# the kills hit tasks while they ran (some of the 25: under a
	# sanitizer on a loaded machine a scheduler may not have started
	# any task yet when its kill comes; 9 were seen there)
	assert [ "$(db "SELECT count(*) FROM aw_events WHERE from_state = 'running' AND to_state = 'interrupted'")" -ge 5 ]
	# and no attempt ran on beside the next one of its task: an attempt
	# that ends after a later attempt of its task started outlived its
	# scheduler unkilled
	for r in 1 2 3 4 5; do
		run awk '$3 == "start" { cur[$1] = $2 } $3 == "end" && cur[$1] != $2 {
		    print "round '"$r"': " $1 " attempt " $2 " ended while attempt " cur[$1] " ran" }' \
		    "$BATS_TEST_TMPDIR/round$r/marks"
		assert_output ""
	done
}

@test "two schedulers on one run share the work; no task runs twice" {
	jq -nc --arg m "$F/mark.sh" 'range(1; 25) | {id: "t\(.)", run: ["sh", $m, "0.15"]}
	    + if . > 12 then {deps: ["t\(. - 12)"]} else {} end' >tasks.ndjson
	plan tasks.ndjson
	start -j2 --run "$RUN"
	one=$PID
	start -j2 --run "$RUN"
	two=$PID
	PID=$one NSTART=1 finish
	assert_equal "$STATUS" 0
	PID=$two NSTART=2 finish
	assert_equal "$STATUS" 0
	assert_equal "$(cat err.1 err.2)" ""
	cat out.1 out.2 | valid
	assert_equal "$(db "SELECT state, count(*) FROM aw_tasks WHERE run_id = '$RUN' GROUP BY state")" "done|24"
	assert_equal "$(db "SELECT count(*), count(DISTINCT task_id), count(DISTINCT scheduler) FROM aw_attempts WHERE run_id = '$RUN'")" "24|24|2"
	assert_equal "$(awk '$3 == "start"' marks | wc -l)" 24
	assert_equal "$(awk '$3 == "start" { print $1 }' marks | sort | uniq -d)" ""
	# each event written once, by one of them, and all of them are the log
	output=$(cat out.1 out.2 | jq -s -c 'sort_by(.seq)[]')
	as_logged
	logged
}

@test "the state file locked by a writer: 75 after the busy timeout, nothing corrupted" {
	plan -n "$F/priority.ndjson"
	aw-plan "$F/graph.ndjson" >/dev/null	# the state file exists
	(echo 'BEGIN IMMEDIATE;'; sleep 3; echo 'COMMIT;') |
	    sqlite3 "$XDG_STATE_HOME/agentutils/state.db" 3>&- &
	sleep 0.5
	AGENTUTILS_BUSY_TIMEOUT=300ms run --separate-stderr sched plan.ndjson
	assert_failure 75
	assert_equal "$output" ""
	assert_equal "$stderr" "aw-sched: $XDG_STATE_HOME/agentutils/state.db: state file is busy (gave up after 300ms)"
	wait
	assert_equal "$(db "PRAGMA integrity_check")" ok
	assert_equal "$(db "SELECT count(*) FROM aw_runs WHERE id = '$RUN'")" 0
	run --separate-stderr sched plan.ndjson
	assert_success
}

@test "the state file locked in the middle of a run: 75, the tasks killed, the run resumes" {
	cat >tasks.ndjson <<'EOF'
{"id":"a","run":"echo $$ >a.pid; sleep 2"}
{"id":"b","run":"sleep 2"}
EOF
	plan tasks.ndjson
	AGENTUTILS_BUSY_TIMEOUT=300ms start -j2 plan.ndjson
	waitfile a.pid
	(echo 'BEGIN IMMEDIATE;'; sleep 3; echo 'COMMIT;') |
	    sqlite3 "$XDG_STATE_HOME/agentutils/state.db" 3>&- &
	locker=$!
	finish 10
	assert_equal "$STATUS" 75
	assert_equal "$(cat err.1)" "aw-sched: $XDG_STATE_HOME/agentutils/state.db: state file is busy (gave up after 300ms)"
	gone "$(cat a.pid)"
	wait "$locker"
	assert_equal "$(db "PRAGMA integrity_check")" ok
	logged
	run --separate-stderr sched -j2 --run "$RUN"
	assert_success
	assert_equal "$(db "SELECT state, count(*) FROM aw_tasks WHERE run_id = '$RUN' GROUP BY state")" "done|2"
	logged
}

# ---- bad input and usage ----

@test "input that is not a plan: 65, every bad line named, nothing stored" {
	cat >tasks.ndjson <<'EOF'
{"id":"a","run":"true"}
{"id":"b","run":"true","deps":["a"]}
EOF
	run --separate-stderr sched tasks.ndjson
	assert_failure 65
	assert_equal "$output" ""
	assert_equal "$stderr" "aw-sched: tasks.ndjson:1: not a record of a plan (plan tasks with aw-plan first)
aw-sched: tasks.ndjson:2: not a record of a plan (plan tasks with aw-plan first)"
	run --separate-stderr sched </dev/null
	assert_failure 65
	assert_equal "$stderr" "aw-sched: <stdin>: no run record (plan tasks with aw-plan first)"
	# a bad line among good ones
	aw-plan -n tasks.ndjson >plan.ndjson
	sed '2s/.*/{oops/' plan.ndjson >bad.ndjson
	run --separate-stderr sched bad.ndjson
	assert_failure 65
	assert_equal "$stderr" "aw-sched: bad.ndjson:2: invalid JSON: expected a string key (column 2)"
	# two runs in one plan
	aw-plan -n tasks.ndjson | head -n 1 | cat plan.ndjson - >two.ndjson
	run --separate-stderr sched two.ndjson
	assert_failure 65
	assert_equal "$stderr" "aw-sched: two.ndjson:4: not a record of a plan (plan tasks with aw-plan first)"
	# tasks of another run
	aw-plan -n tasks.ndjson | head -n 1 >other.ndjson
	tail -n +2 plan.ndjson >>other.ndjson
	run --separate-stderr sched other.ndjson
	assert_failure 65
	assert_equal "$stderr" "aw-sched: task \"a\" is not of run $(head -n 1 other.ndjson | jq -r .id)"
	assert_equal "$(db "SELECT count(*) FROM aw_runs")" 0
	# a file that is not there
	run --separate-stderr sched nope.ndjson
	assert_failure 66
	assert_equal "$stderr" "aw-sched: nope.ndjson: No such file or directory"
}

@test "--run: a run the state file does not have is 66" {
	plan "$F/priority.ndjson"
	run --separate-stderr sched --run 01ARZ3NDEKTSV4RRFFQ69G5FAV
	assert_failure 66
	assert_equal "$output" ""
	assert_equal "$stderr" 'aw-sched: no run "01ARZ3NDEKTSV4RRFFQ69G5FAV" in the state file'
	assert_equal "$(db "SELECT count(*) FROM aw_events")" 0
}

@test "usage errors: 64, with the usage" {
	run --separate-stderr sched -j 0
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-sched: -j: expected a number from 1 to 10000, not "0"'
	assert_regex "${stderr_lines[1]}" '^usage: aw-sched '
	run --separate-stderr sched -j x
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-sched: -j: expected a number from 1 to 10000, not "x"'
	for p in attempts=0 attempts=1001 foo 3,delay=1s delay=soon factor=0.5 jitter=2 attempts=2,bogus=1; do
		run --separate-stderr sched --retry "$p"
		assert_failure 64
		assert_equal "${stderr_lines[0]}" "aw-sched: --retry: invalid policy \"$p\""
	done
	run --separate-stderr sched --run 01ARZ3NDEKTSV4RRFFQ69G5FAV plan.ndjson
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "aw-sched: --run takes no file operands"
	run --separate-stderr sched --grace soon
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-sched: --grace: invalid duration "soon"'
	run --separate-stderr sched --approval-timeout soon
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-sched: --approval-timeout: invalid duration "soon"'
	run --separate-stderr sched --log-cap lots
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-sched: --log-cap: invalid size "lots"'
	run --separate-stderr sched --lease 10ms
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-sched: --lease: at least 1s'
	run --separate-stderr sched --frobnicate
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-sched: unknown option "--frobnicate"'
	assert [ ! -e "$XDG_STATE_HOME/agentutils/state.db" ]
}

@test "usage errors: an empty --retry is not a policy" {
	run --separate-stderr sched --retry '' </dev/null
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-sched: --retry: invalid policy ""'
}

@test "standard output closed or full: 74, and the run is still on record" {
	plan "$F/priority.ndjson"
	run --separate-stderr sh -c 'aw-sched -j2 plan.ndjson >&-'
	assert_failure 74
	assert_equal "$stderr" "aw-sched: write error: Bad file descriptor"
	plan "$F/priority.ndjson"
	run --separate-stderr sh -c 'timeout 30 aw-sched -j2 plan.ndjson >/dev/full'
	assert_failure 74
	assert_equal "$stderr" "aw-sched: write error: No space left on device"
	logged
	run --separate-stderr sched --run "$RUN"
	assert_success
	logged
}

@test "a progress line on a terminal only, never with -q" {
	plan "$F/priority.ndjson"
	run script -qec "timeout 30 aw-sched -j2 plan.ndjson >/dev/null" /dev/null
	assert_success
	assert_output --partial "aw-sched: done 7, running 0, failed 0, waiting 0, total 7"
	plan "$F/priority.ndjson"
	run script -qec "timeout 30 aw-sched -q -j2 plan.ndjson >/dev/null" /dev/null
	assert_success
	assert_output ""
}

@test "the audit log: every transition, in its transaction; it verifies with the key" {
	plan "$F/priority.ndjson"
	run --separate-stderr sched -j2 plan.ndjson
	assert_success
	assert_equal "$stderr" ""
	n=$(db "SELECT count(*) FROM aw_events WHERE run_id = '$RUN'")
	assert [ "$n" -gt 14 ]
	assert_equal "$(db 'SELECT count(*) FROM audit_events')" "$n"
	assert_equal "$(db 'SELECT max(size) FROM audit_checkpoints')" "$n"
	run --separate-stderr audit-verify --key "$XDG_CONFIG_HOME/agentutils/audit.key"
	assert_success
	assert_equal "$(jq -c '{events, unsigned_tail, decrypted}' <<<"$output")" \
	    "{\"events\":$n,\"unsigned_tail\":0,\"decrypted\":true}"
	# Sealed: no task's command is in the state file's audit rows.
	assert_equal "$(db "SELECT count(*) FROM audit_events WHERE instr(sealed, 'task') > 0")" 0
}

@test "--no-audit leaves the audit log alone; without keys: said once, and the run goes on" {
	plan "$F/priority.ndjson"
	run --separate-stderr sched -j2 --no-audit plan.ndjson
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(db 'SELECT count(*) FROM audit_events')" 0
	nokeys
	plan "$F/priority.ndjson"
	run --separate-stderr sched -j2 plan.ndjson
	assert_success
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "^aw-sched: not audited: .*/agentutils/audit.key: No such file or directory \(audit-write --init makes the keys; --no-audit says not to audit\)$"
	assert_equal "$(db 'SELECT count(*) FROM audit_events')" 0
	assert_equal "$(db "SELECT state FROM aw_runs WHERE id = '$RUN'")" done
}

@test "an audit key readable by others: 78 before anything runs" {
	plan "$F/priority.ndjson"
	chmod 644 "$XDG_CONFIG_HOME/agentutils/audit.key"
	run --separate-stderr sched -j2 plan.ndjson
	assert_failure 78
	assert_regex "$stderr" "^aw-sched: audit: .*/audit.key: secret file has mode 0644; it must be 0600 or stricter"
	assert_equal "$output" ""
	assert_equal "$(db "SELECT count(*) FROM aw_events WHERE run_id = '$RUN'")" 0
}
