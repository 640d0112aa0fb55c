#!/usr/bin/env bats
# ws-approve: the approval requests aw-sched files for tasks marked
# "approval":"required", listed, shown, approved, denied, waited for,
# walked on a terminal, and what the run does with the answers; approve
# --always for a tool call's request (agentutils-tools(5)).

load helper

F=$BATS_TEST_DIRNAME/fixtures/ws-approve

# plan FILE: store a plan in plan.ndjson; its run id in RUN.
plan() {
	aw-plan "$@" >plan.ndjson || return
	RUN=$(head -n 1 plan.ndjson | jq -r .id)
}

# file FILE [aw-sched options]: plan it and run it as far as it goes
# without the approvals (aw-sched --no-wait exits 75 then).
file() {
	local f=$1
	shift
	plan "$f"
	run timeout 30 aw-sched -j1 --no-wait "$@" plan.ndjson
	assert_failure 75
}

# request TASK: the id of the request filed for TASK of the run.
request() {
	db "SELECT approval_id FROM aw_tasks WHERE run_id = '$RUN' AND id = '$1'"
}

# normx: norm, and every id (in subjects too) and time.
normx() {
	norm | sed -e 's/[0-7][0-9A-HJKMNP-TV-Z]\{25\}/ULID/g' \
	    -e 's/"\(created\|decided_at\|expires_at\)":"[^"]*"/"\1":"TS"/g'
}

@test "aw-sched files a request for each task that needs one; list shows the pending ones" {
	file "$F/approvals.ndjson"
	# the run went on without them
	assert [ "$(db "SELECT state FROM aw_tasks WHERE id = 'free'")" = done ]
	assert_equal "$(db "SELECT count(*) FROM approval_requests")" 2
	run --separate-stderr ws-approve list
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	normx <<<"$output" | golden ws-approve/list.ndjson
	assert_equal "$(jq -r .id <<<"$output" | tr '\n' ' ')" "$(request deploy) $(request drop) "
	assert_equal "$(jq -r .subject <<<"${lines[0]}")" "run $RUN task deploy"
	# the details are the task as planned
	assert_equal "$(jq -c .details <<<"${lines[1]}")" "$(grep '"id":"drop"' plan.ndjson)"
}

@test "list: nothing pending is nothing at all" {
	run --separate-stderr ws-approve list
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

@test "show ID: the request's record" {
	file "$F/approvals.ndjson"
	run --separate-stderr ws-approve show "$(request drop)"
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	assert_output "$(ws-approve list | sed -n 2p)"
}

@test "approve ID --reason: approved by \$USER, with the reason, and gone from the list" {
	file "$F/approvals.ndjson"
	id=$(request deploy)
	USER=alice run --separate-stderr ws-approve approve --reason "looks fine" "$id"
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c '[.id, .status, .decided_by, .reason]' <<<"$output")" \
	    "[\"$id\",\"approved\",\"alice\",\"looks fine\"]"
	assert_equal "$(jq -r .decided_at <<<"$output")" "$(db "SELECT decided_at FROM approval_requests WHERE id = '$id'")"
	assert_output "$(ws-approve show "$id")"
	# pending only, unless --all
	assert_equal "$(ws-approve list | jq -r .id)" "$(request drop)"
	run ws-approve list --all
	assert_success
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -r '"\(.id) \(.status)"' <<<"$output" | tr '\n' ',')" \
	    "$id approved,$(request drop) pending,"
	# without a reason: none
	USER=alice run ws-approve approve "$(request drop)"
	assert_success
	assert_equal "$(jq -c '[.status, .decided_by, has("reason")]' <<<"$output")" '["approved","alice",false]'
}

@test "deny ID --reason: denied by \$USER with the reason; without --reason it is a usage error" {
	file "$F/approvals.ndjson"
	id=$(request drop)
	run --separate-stderr ws-approve deny "$id"
	assert_failure 64
	assert_output ""
	assert_equal "${stderr_lines[0]}" "ws-approve: deny: needs --reason"
	assert_equal "$(ws-approve show "$id" | jq -r .status)" pending
	USER=bob run --separate-stderr ws-approve deny --reason "too risky" "$id"
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c '[.status, .decided_by, .reason]' <<<"$output")" '["denied","bob","too risky"]'
}

@test "deciding twice: 1, with what it was decided already" {
	file "$F/approvals.ndjson"
	ws-approve approve "$(request deploy)" >/dev/null
	ws-approve deny --reason no "$(request drop)" >/dev/null
	run --separate-stderr ws-approve deny --reason "changed my mind" "$(request deploy)"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "ws-approve: request $(request deploy) is approved already"
	run --separate-stderr ws-approve approve "$(request drop)"
	assert_failure 1
	assert_equal "$stderr" "ws-approve: request $(request drop) is denied already"
	# the first answer stands
	assert_equal "$(ws-approve show "$(request deploy)" | jq -r .status)" approved
	assert_equal "$(ws-approve show "$(request drop)" | jq -c '[.status, .reason]')" '["denied","no"]'
}

@test "every decision goes to the audit log, as the decided request, once" {
	file "$F/approvals.ndjson"
	USER=alice ws-approve approve --reason "looks fine" "$(request deploy)" >/dev/null
	USER=bob ws-approve deny --reason "too risky" "$(request drop)" >/dev/null
	run ws-approve approve "$(request drop)"
	assert_failure 1
	echo '{"names": []}' >profile.json
	audit-export --profile profile.json --format ndjson -o audit.ndjson
	run jq -c 'select(.record.type == "approval.request") | .record | [.id, .status, .decided_by, .reason]' audit.ndjson
	assert_output "[\"$(request deploy)\",\"approved\",\"alice\",\"looks fine\"]
[\"$(request drop)\",\"denied\",\"bob\",\"too risky\"]"
	jq -c '.record' audit.ndjson | grep approval.request | valid
	audit-verify >/dev/null
}

@test "a state file busy past its timeout: 75, said, and the request still pending" {
	file "$F/approvals.ndjson"
	id=$(request deploy)
	sqlite3 "$XDG_STATE_HOME/agentutils/state.db" "BEGIN IMMEDIATE; SELECT 1;" ".shell sleep 2" "COMMIT;" >/dev/null &
	sleep 0.5
	AGENTUTILS_BUSY_TIMEOUT=100ms run --separate-stderr ws-approve approve "$id"
	assert_failure 75
	assert_regex "$stderr" '^ws-approve: .*(busy|locked)'
	wait
	assert_equal "$(ws-approve show "$id" | jq -r .status)" pending
}

@test "without audit keys a decision is made, with a warning that it is not audited" {
	file "$F/approvals.ndjson"
	nokeys
	run --separate-stderr ws-approve approve "$(request deploy)"
	assert_success
	assert_regex "$stderr" '^ws-approve: not audited: .*audit-write --init makes the keys'
	assert_equal "$(ws-approve show "$(request deploy)" | jq -r .status)" approved
}

@test "an unknown id: 66 from show, approve, deny and wait" {
	file "$F/approvals.ndjson"
	for c in show approve "deny --reason x" wait "wait --timeout 1s"; do
		run --separate-stderr timeout 10 ws-approve $c 01NOSUCHREQUEST00000000000
		assert_equal "$c: $status $stderr" "$c: 66 ws-approve: no approval request \"01NOSUCHREQUEST00000000000\""
		assert_equal "$output" ""
	done
}

@test "wait: 0 once approved, with the decided request" {
	file "$F/approvals.ndjson"
	id=$(request deploy)
	timeout 20 ws-approve wait "$id" >wait.out 2>wait.err &
	pid=$!
	sleep 0.3
	kill -0 "$pid"			# still waiting
	USER=carol ws-approve approve --reason ok "$id" >/dev/null
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(cat wait.err)" ""
	valid <wait.out
	assert_equal "$(jq -c '[.id, .status, .decided_by]' wait.out)" "[\"$id\",\"approved\",\"carol\"]"
	# decided before: at once
	run timeout 5 ws-approve wait "$id"
	assert_success
}

@test "wait: 1 once denied" {
	file "$F/approvals.ndjson"
	id=$(request drop)
	timeout 20 ws-approve wait "$id" >wait.out 2>wait.err &
	pid=$!
	sleep 0.2
	ws-approve deny --reason "not today" "$id" >/dev/null
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 1
	valid <wait.out
	assert_equal "$(jq -c '[.status, .reason]' wait.out)" '["denied","not today"]'
}

@test "wait: 1 for a request that expired (aw-sched --approval-timeout); the task dies of it" {
	plan "$F/one.ndjson"
	run timeout 30 aw-sched -j1 --approval-timeout 300ms plan.ndjson
	assert_failure 1
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -r 'select(.task) | "\(.task) \(.to) \(.error // "")"' <<<"$output" | tr '\n' ',')" \
	    'deploy waiting_approval ,deploy dead approval expired,notify skipped dependency "deploy" was not approved,'
	id=$(request deploy)
	run --separate-stderr timeout 5 ws-approve wait "$id"
	assert_failure 1
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c '[.status, .decided_by, has("expires_at")]' <<<"$output")" '["expired","timeout",true]'
	# an expired request counts as denied: too late to answer
	run --separate-stderr ws-approve approve "$id"
	assert_failure 1
	assert_equal "$stderr" "ws-approve: request $id is expired already"
	assert [ ! -e deployed ]
}

@test "wait --timeout: 75 while the request is still pending" {
	file "$F/approvals.ndjson"
	id=$(request deploy)
	start=$(date +%s%N)
	run --separate-stderr timeout 10 ws-approve wait --timeout 300ms "$id"
	elapsed=$((($(date +%s%N) - start) / 1000000))
	assert_failure 75
	assert_output ""
	assert_equal "$stderr" ""
	assert [ "$elapsed" -ge 300 ]
	assert [ "$elapsed" -lt 5000 ]
	run --separate-stderr timeout 10 ws-approve -v wait --timeout 100ms "$id"
	assert_failure 75
	assert_equal "$stderr" "ws-approve: request $id is still pending"
	run --separate-stderr ws-approve wait --timeout soon "$id"
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'ws-approve: --timeout: invalid duration "soon"'
	assert_equal "$(ws-approve show "$id" | jq -r .status)" pending
}

@test "-i without a terminal is a usage error" {
	file "$F/approvals.ndjson"
	run --separate-stderr ws-approve -i </dev/null
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "ws-approve: -i needs a terminal"
	run --separate-stderr ws-approve -i list
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "ws-approve: -i takes no command"
	assert_equal "$(ws-approve list | wc -l)" 2
}

@test "-i on a terminal: yes, no with a reason, skip, each request in turn" {
	command -v script >/dev/null || skip "needs script(1) from util-linux for a terminal"
	file "$F/three.ndjson"
	# y (no reason); a stray answer asked again, then n with a reason; s
	printf 'y\n\nmaybe\nn\nnot now\ns\n' >answers
	USER=dave run timeout 20 script -qec "ws-approve -i" /dev/null <answers
	assert_success
	assert_output --partial "$(request first) from aw-sched"
	assert_output --partial "run $RUN task second"
	assert_output --partial "approve? [y]es, [n]o, [s]kip, [q]uit"
	assert_equal "$(ws-approve show "$(request first)" | jq -c '[.status, .decided_by, has("reason")]')" \
	    '["approved","dave",false]'
	assert_equal "$(ws-approve show "$(request second)" | jq -c '[.status, .decided_by, .reason]')" \
	    '["denied","dave","not now"]'
	assert_equal "$(ws-approve show "$(request third)" | jq -r .status)" pending
	ws-approve list --all | valid
	# q stops at once; nothing pending says so
	printf 'q\n' >answers
	run timeout 20 script -qec "ws-approve -i" /dev/null <answers
	assert_success
	assert_equal "$(ws-approve show "$(request third)" | jq -r .status)" pending
	ws-approve approve "$(request third)" >/dev/null
	run timeout 20 script -qec "ws-approve -i" /dev/null </dev/null
	assert_success
	assert_output --partial "no pending requests"
}

@test "approved: aw-sched --run finishes the run, the task and its dependents done" {
	file "$F/one.ndjson"
	assert [ ! -e deployed ]
	ws-approve approve --reason "go ahead" "$(request deploy)" >/dev/null
	run timeout 30 aw-sched -j1 --run "$RUN"
	assert_success
	printf '%s\n' "$output" | valid
	assert [ -e deployed ]
	assert [ -e notified ]
	assert_equal "$(jq -r 'select(.task == "deploy") | "\(.from)>\(.to)"' <<<"$output" | tr '\n' ' ')" \
	    "waiting_approval>ready ready>running running>done "
	assert_equal "$(aw-ctl status "$RUN" | jq -r .state)" done
	run aw-ctl replay "$RUN"
	assert_success
}

@test "denied: the task is dead with \"approval denied: REASON\", its dependents skipped, the rest done" {
	file "$F/approvals.ndjson"
	touch precious
	ws-approve approve "$(request deploy)" >/dev/null
	ws-approve deny --reason "too risky" "$(request drop)" >/dev/null
	run timeout 30 aw-sched -j1 --run "$RUN"
	assert_failure 1
	printf '%s\n' "$output" | valid
	assert [ -e precious ]
	assert [ -e notified ]
	run aw-ctl status "$RUN" drop
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c '[.state, .error, .approval_id]' <<<"$output")" \
	    "[\"dead\",\"approval denied: too risky\",\"$(request drop)\"]"
	assert_equal "$(aw-ctl status "$RUN" | jq -c '[.state, .counts.done, .counts.dead]')" '["failed",3,1]'
	assert_equal "$(aw-ctl dlq "$RUN" | jq -r .task)" drop
	run aw-ctl replay "$RUN"
	assert_success
}

@test "denied with dependents: they are skipped, and say why" {
	file "$F/one.ndjson"
	ws-approve deny --reason "not this week" "$(request deploy)" >/dev/null
	run timeout 30 aw-sched -j1 --run "$RUN"
	assert_failure 1
	assert_equal "$(aw-ctl status "$RUN" notify | jq -c '[.state, .error]')" \
	    '["skipped","dependency \"deploy\" was not approved"]'
	assert [ ! -e deployed ]
}

# toolcall ID TOOL: file the request the gateway files for a call ID of
# TOOL under "ask", as agentutils-tools(5) describes it.
toolcall() {
	db "INSERT INTO approval_requests
	    (id, created, requester, subject, summary, details) VALUES
	    ('01M8R80DZR0QS9PYN8XAPMH2X1', '2026-12-01T08:00:00.000Z',
	    'tg-invoke', 'tool $2 call $1', '{\"p\":1}',
	    '{\"type\":\"tool.call\",\"id\":\"$1\",\"tool\":\"$2\",\"args\":{\"p\":1}}')"
}

@test "approve --always: a tool call approved, and its tool granted, audited" {
	ws-approve list >/dev/null
	toolcall c1 fs/read
	USER=alice run --separate-stderr ws-approve --always --reason 'reads are fine' approve 01M8R80DZR0QS9PYN8XAPMH2X1
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(jq -r '.status + " " + .decided_by' <<<"$output")" "approved alice"
	run tg-grant list
	assert_equal "$(jq -r '[.tool, .approval_id, .note, .created_by] | join(" ")' <<<"$output")" "fs/read 01M8R80DZR0QS9PYN8XAPMH2X1 approved always: reads are fine alice"
	echo "$output" | valid
	audit-export --format ndjson -o audit.ndjson
	assert_equal "$(jq -r 'select(.record.type == "tool.grant") | .record.tool' audit.ndjson)" fs/read
	# decided already: 1, and no second grant
	run --separate-stderr ws-approve --always approve 01M8R80DZR0QS9PYN8XAPMH2X1
	assert_failure 1
	assert_equal "$(tg-grant list | wc -l)" 1
}

@test "approve --always: a request that is not about a tool call is 65, and stays pending" {
	file "$F/approvals.ndjson"
	id=$(request deploy)
	run --separate-stderr ws-approve --always approve "$id"
	assert_failure 65
	assert_equal "$stderr" "ws-approve: --always: request \"$id\" is not about a tool call"
	assert_equal "$(ws-approve show "$id" | jq -r .status)" pending
	run tg-grant list
	assert_output ""
}

@test "--always goes with approve only" {
	run --separate-stderr ws-approve --always deny x --reason no
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "ws-approve: --always goes with approve"
}

@test "--format table: a line per request" {
	file "$F/approvals.ndjson"
	run ws-approve --format table list
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[0]}" "$(request deploy)  pending   aw-sched    run $RUN task deploy  touch deployed"
	assert_equal "${lines[1]}" "$(request drop)  pending   aw-sched    run $RUN task drop  [\"rm\",\"-f\",\"precious\"]"
	run ws-approve --format xml list
	assert_failure 64
}

@test "usage: no command, an unknown one, a missing or extra operand" {
	run --separate-stderr ws-approve
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "ws-approve: no command"
	run --separate-stderr ws-approve frobnicate X
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'ws-approve: unknown command "frobnicate"'
	for c in show approve deny wait; do
		run --separate-stderr ws-approve $c
		assert_equal "$status ${stderr_lines[0]}" "64 ws-approve: $c: needs one request id"
		run --separate-stderr ws-approve $c A B
		assert_equal "$status ${stderr_lines[0]}" "64 ws-approve: $c: needs one request id"
	done
	run --separate-stderr ws-approve list X
	assert_equal "$status ${stderr_lines[0]}" "64 ws-approve: list: takes no operands"
}
