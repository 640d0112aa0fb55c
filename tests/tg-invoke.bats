#!/usr/bin/env bats
# tg-invoke: a local tool run in firejail and an MCP server's tools, each
# call validated, decided (allow, deny, ask with approve and deny, grants,
# --dry-run, --no-wait) and audited before it runs, secrets kept out of
# the log; bad calls, timeouts and output caps; and the sandbox escape
# suite: each escape must fail inside the sandbox.

load helper

setup() {
	home
	C=$XDG_CONFIG_HOME/agentutils
	D=$BATS_TEST_TMPDIR/data
	mkdir -p "$C/tools.d" "$D"
	echo "hello world" >"$D/f.txt"
	tool grep '["grep", "-n", "-e", "{pattern}", "--", "{path}"]' \
	    '{"read": ["'"$D"'"]}' \
	    '{"pattern": {"type": "string"}, "path": {"type": "string"}}' \
	    '["pattern", "path"]' '{"read_only": true}'
	policy '{"default": "deny", "rules": [{"label": "ro", "annotations": {"read_only": true}, "decision": "allow"}]}'
}

# tool NAME COMMAND SANDBOX [PROPERTIES [REQUIRED [ANNOTATIONS]]]: a
# ToolSpec in tools.d.
tool() {
	printf '{"name": "%s", "command": %s, "sandbox": %s,
	    "input_schema": {"type": "object", "properties": %s,
	    "required": %s, "additionalProperties": false},
	    "annotations": %s}\n' "$1" "$2" "$3" "${4:-{\}}" "${5:-[]}" \
	    "${6:-{\}}" >"$C/tools.d/$1.json"
}

policy() {
	printf '%s\n' "$1" >"$C/policy.json"
}

# events: the audit log, unredacted, one record per line.
events() {
	echo '{"names": []}' >profile.json
	audit-export --profile profile.json --format ndjson -o events.ndjson
	jq -c .record events.ndjson
}

# shell NAME SCRIPT [SANDBOX]: a tool running sh -c SCRIPT, allowed.
shell() {
	tool "$1" '["sh", "-c", "'"$2"'"]' "${3:-{\}}" '{}' '[]' \
	    '{"read_only": true}'
}

@test "a local tool runs in firejail and answers with a tool.result" {
	needs_firejail
	run --separate-stderr tg-invoke --tool grep --args '{"pattern": "hello", "path": "'"$D/f.txt"'"}'
	assert_success
	assert_equal "$stderr" ""
	echo "$output" | valid
	assert_equal "$(jq -c '[.decision, .content, .is_error, .exit_code]' <<<"$output")" '["allow",[{"type":"text","text":"1:hello world\n"}],false,0]'
	# the call, the decision before the result, in the audit log
	assert_equal "$(events | jq -r .type | tr '\n' ' ')" "tool.call tool.decision tool.result "
	audit-verify >/dev/null
}

@test "calls read from standard input keep their ids; a failing tool is 1" {
	needs_firejail
	run tg-invoke <<-EOF
	{"type":"tool.call","id":"a","tool":"grep","args":{"pattern":"hello","path":"$D/f.txt"}}
	{"type":"tool.call","id":7,"tool":"grep","args":{"pattern":"absent","path":"$D/f.txt"}}
	EOF
	assert_failure 1
	echo "$output" | valid
	assert_equal "$(jq -c '[.id, .is_error, .exit_code]' <<<"$output" | tr '\n' ' ')" '["a",false,0] [7,true,1] '
}

@test "arguments that do not fit the schema: 65, the errors named, nothing run" {
	shell touch "touch $BATS_TEST_TMPDIR/ran" '{"write": ["'"$BATS_TEST_TMPDIR"'"]}'
	tool touch '["touch", "'"$BATS_TEST_TMPDIR/ran"'"]' '{}' \
	    '{"n": {"type": "integer", "minimum": 1}}' '["n"]' '{"read_only": true}'
	run --separate-stderr tg-invoke --sandbox=none --tool touch --args '{"n": 0, "x": 1}'
	assert_failure 65
	echo "$output" | valid
	assert_equal "$(jq -c '[.is_error, (.errors | map(.instance + " " + .schema))]' <<<"$output")" '[true,["/n /properties/n/minimum","/x /additionalProperties"]]'
	assert [ ! -e ran ]
	# --sandbox=none is on record; the call and its result, no decision
	assert_equal "$(events | jq -r .type | tr '\n' ' ')" "tool.sandbox tool.call tool.result "
}

@test "deny: 77, the reason given, nothing run" {
	tool touch '["touch", "'"$BATS_TEST_TMPDIR/ran"'"]' '{}'
	run --separate-stderr tg-invoke --sandbox=none --tool touch
	assert_failure 77
	echo "$output" | valid
	assert_equal "$(jq -r '[.decision, .content[0].text] | join(" / ")' <<<"$output")" 'deny / no rule or grant matches: the default is deny'
	assert [ ! -e ran ]
	assert_equal "$(events | jq -r 'select(.type == "tool.decision") | .decision')" deny
}

@test "--dry-run writes the decisions and runs nothing" {
	tool touch '["touch", "'"$BATS_TEST_TMPDIR/ran"'"]' '{}'
	policy '{"default": "allow"}'
	run --separate-stderr tg-invoke --dry-run --tool touch
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -r '[.type, .decision] | join(" ")' <<<"$output")" "tool.decision allow"
	assert [ ! -e ran ]
}

@test "ask with --no-wait: 75 and a pending request; a grant then allows" {
	tool touch '["touch", "'"$BATS_TEST_TMPDIR/ran"'"]' '{}'
	policy '{"default": "ask"}'
	run --separate-stderr tg-invoke --sandbox=none --no-wait --tool touch
	assert_failure 75
	echo "$output" | valid
	id=$(jq -r .approval <<<"$output")
	assert_equal "$(ws-approve show "$id" | jq -r '[.status, .subject] | join(" ")')" "pending tool touch"
	assert [ ! -e ran ]
	tg-grant add --tool touch >/dev/null
	run tg-invoke --sandbox=none --tool touch
	assert_success
	assert [ -e ran ]
}

@test "ask: approved while it waits, the tool runs; denied, 77" {
	tool touch '["touch", "'"$BATS_TEST_TMPDIR/ran"'"]' '{}'
	policy '{"default": "ask"}'
	tg-invoke --sandbox=none --tool touch >out.ndjson &
	until id=$(ws-approve list | jq -r .id) && [ -n "$id" ]; do sleep 0.1; done
	ws-approve approve "$id" --reason fine >/dev/null
	wait $!
	assert [ -e ran ]
	assert_equal "$(jq -r .decision out.ndjson)" ask
	rm ran
	tg-invoke --sandbox=none --tool touch >out.ndjson &
	pid=$!
	until id=$(ws-approve list | jq -r .id) && [ -n "$id" ]; do sleep 0.1; done
	ws-approve deny "$id" --reason "not today" >/dev/null
	st=0
	wait $pid || st=$?
	assert_equal "$st" 77
	assert [ ! -e ran ]
	assert_equal "$(jq -r '[.decision, .content[0].text] | join(" / ")' out.ndjson)" "deny / approval $id denied: not today"
}

@test "ask: nobody answers within --approval-timeout, 75, the request expired" {
	tool touch '["touch", "'"$BATS_TEST_TMPDIR/ran"'"]' '{}'
	policy '{"default": "ask"}'
	run --separate-stderr tg-invoke --sandbox=none --approval-timeout 300ms --tool touch
	assert_failure 75
	id=$(jq -r .approval <<<"$output")
	assert_equal "$(jq -r .content[0].text <<<"$output")" "approval $id not given in time"
	assert_equal "$(ws-approve show "$id" | jq -r .status)" expired
	assert [ ! -e ran ]
}

@test "ask --no-wait, then the same call again: one request, its answer used" {
	tool touch '["touch", "'"$BATS_TEST_TMPDIR/ran"'"]' '{}'
	policy '{"default": "ask"}'
	call='{"type":"tool.call","id":"c1","tool":"touch","args":{}}'
	run tg-invoke --sandbox=none --no-wait <<<"$call"
	assert_failure 75
	id=$(jq -r .approval <<<"$output")
	run tg-invoke --sandbox=none --no-wait <<<"$call"
	assert_failure 75
	assert_equal "$(jq -r .approval <<<"$output")" "$id"
	assert_equal "$(ws-approve list | wc -l)" 1
	# other arguments, or another id: another request
	run tg-invoke --sandbox=none --no-wait <<<'{"type":"tool.call","id":"c2","tool":"touch"}'
	assert_failure 75
	assert [ "$(jq -r .approval <<<"$output")" != "$id" ]
	ws-approve approve "$id" >/dev/null
	run tg-invoke --sandbox=none --no-wait <<<"$call"
	assert_success
	assert [ -e ran ]
	ws-approve deny "$(ws-approve list | jq -r .id)" --reason no >/dev/null
	run tg-invoke --sandbox=none --no-wait <<<'{"type":"tool.call","id":"c2","tool":"touch"}'
	assert_failure 77
}

@test "ask --no-wait with a numeric call id: the same call again finds its request" {
	tool touch '["touch", "'"$BATS_TEST_TMPDIR/ran"'"]' '{}'
	policy '{"default": "ask"}'
	call='{"type":"tool.call","id":7,"tool":"touch","args":{}}'
	run tg-invoke --sandbox=none --no-wait <<<"$call"
	assert_failure 75
	id=$(jq -r .approval <<<"$output")
	assert_equal "$(ws-approve list | jq -r .subject)" "tool touch call 7"
	run tg-invoke --sandbox=none --no-wait <<<"$call"
	assert_failure 75
	assert_equal "$(jq -r .approval <<<"$output")" "$id"
	# the string "7" is another call
	run tg-invoke --sandbox=none --no-wait <<<'{"type":"tool.call","id":"7","tool":"touch","args":{}}'
	assert_failure 75
	assert [ "$(jq -r .approval <<<"$output")" != "$id" ]
	assert_equal "$(ws-approve list | wc -l)" 2
	ws-approve approve "$id" >/dev/null
	run tg-invoke --sandbox=none --no-wait <<<"$call"
	assert_success
	assert [ -e ran ]
}

@test "secret-looking fields stay out of the audit log and the approval queue" {
	tool echo '["echo", "{msg}"]' '{}' '{"msg": {"type": "string"}, "api_key": {"type": "string"}}'
	policy '{"default": "ask"}'
	run tg-invoke --sandbox=none --no-wait --tool echo --args '{"msg": "hi", "api_key": "s3cr3t-value"}'
	assert_failure 75
	events >all.ndjson
	run grep -c s3cr3t-value all.ndjson
	assert_output 0
	assert_equal "$(jq -r 'select(.type == "tool.call") | .args.api_key' all.ndjson)" "[REDACTED]"
	run sqlite3 "$XDG_STATE_HOME/agentutils/state.db" "SELECT count(*) FROM approval_requests WHERE details LIKE '%s3cr3t%'"
	assert_output 0
}

@test "a tool over its timeout is stopped: is_error, timed_out" {
	tool slow '["sleep", "10"]' '{"timeout": "300ms"}' '{}' '[]' '{"read_only": true}'
	SECONDS=0
	run tg-invoke --sandbox=none --tool slow
	assert_failure 1
	assert [ "$SECONDS" -lt 5 ]
	assert_equal "$(jq -c '[.is_error, .timed_out, .exit_code]' <<<"$output")" '[true,true,143]'
}

@test "--max-output keeps the first bytes and says so" {
	shell yes 'yes | head -c 100000'
	run tg-invoke --sandbox=none --max-output 10 --tool yes
	assert_success
	assert_equal "$(jq -c '[.content[0].text, .truncated]' <<<"$output")" '["y\ny\ny\ny\ny\n",true]'
}

@test "bad calls: reported with file:line, the others answered; unknown tools 65" {
	shell ok 'echo ok'
	printf '%s\n' '{"type":"tool.call","tool":"ok"}' 'nonsense' \
	    '{"type":"task","id":"x"}' '{"type":"tool.call","tool":"ok","args":[1]}' \
	    '{"type":"tool.call","tool":"nope"}' >calls.ndjson
	run --separate-stderr tg-invoke --sandbox=none calls.ndjson
	assert_failure 65
	assert_equal "${stderr_lines[0]}" "tg-invoke: calls.ndjson:2: invalid JSON: invalid literal (column 1)"
	assert_equal "${stderr_lines[1]}" "tg-invoke: calls.ndjson:3: not a tool task"
	assert_equal "${stderr_lines[2]}" 'tg-invoke: calls.ndjson:4: "args" must be an object'
	assert_equal "$(jq -r '.content[0].text | rtrimstr("\n")' <<<"$output" | tr '\n' '/')" "ok/no such tool/"
}

@test "usage errors are 64" {
	run --separate-stderr tg-invoke --args '{}'
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "tg-invoke: --args goes with --tool"
	run --separate-stderr tg-invoke --tool x --args '[1]'
	assert_failure 64
	run --separate-stderr tg-invoke --sandbox=docker --tool x
	assert_failure 64
	run --separate-stderr tg-invoke --tool x file
	assert_failure 64
}

@test "without firejail: 69, unless --sandbox=none, which is audited" {
	shell ok 'echo ok'
	run --separate-stderr env PATH=/nonexistent "$AU_BIN/tg-invoke" --tool ok
	assert_failure 69
	assert_equal "$stderr" "tg-invoke: firejail: not found (make deps installs it; --sandbox=none runs tools unconfined)"
	run tg-invoke --sandbox=none --tool ok
	assert_success
	assert_equal "$(events | jq -r 'select(.type == "tool.sandbox") | .sandbox')" none
}

@test "within a task of aw-sched the audit events name the run and task, and audit-export --run takes them" {
	shell ok 'echo ok'
	AGENTUTILS_RUN=r1 AGENTUTILS_TASK=t1 tg-invoke --sandbox=none --tool ok
	tg-invoke --sandbox=none --tool ok
	events >all.ndjson
	valid <all.ndjson
	assert_equal "$(jq -r 'select(.tool == "ok") | "\(.type) \(.run // "-") \(.task // "-")"' all.ndjson)" \
"tool.call r1 t1
tool.decision r1 t1
tool.result r1 t1
tool.call - -
tool.decision - -
tool.result - -"
	audit-export --run r1 --format ndjson -o r1.ndjson
	assert_equal "$(jq -r '.record.type' r1.ndjson | paste -sd ' ')" \
	    "tool.sandbox tool.call tool.decision tool.result"
}

@test "without audit keys: refused, unless --no-audit" {
	shell ok 'echo ok'
	nokeys
	mkdir -p "$C/tools.d"
	shell ok 'echo ok'
	policy '{"default": "allow"}'
	run --separate-stderr tg-invoke --sandbox=none --tool ok
	assert_failure 66
	assert_regex "$stderr" '^tg-invoke: audit: .*audit-write --init makes the keys'
	run tg-invoke --sandbox=none --no-audit --tool ok
	assert_success
}

@test "MCP: a stream of calls through one server session, in firejail" {
	needs_firejail
	# the server's script is declared: the sandbox shows nothing of a
	# private /tmp or home, where the sources may be
	printf '{"mcpServers": {"t": {"command": "python3", "args": ["%s"], "env": {"T_TOKEN": "abc"}, "sandbox": {"read": ["%s"]}}}}\n' \
	    "$TOP/tests/mcp/server.py" "$TOP/tests/mcp" >"$C/mcp.json"
	policy '{"default": "allow"}'
	run --separate-stderr tg-invoke <<-EOF
	{"type":"tool.call","id":1,"tool":"t/echo","args":{"text":"hi"}}
	{"type":"tool.call","id":2,"tool":"t/add","args":{"a":1,"b":2}}
	{"type":"tool.call","id":3,"tool":"t/add","args":{"a":"x"}}
	{"type":"tool.call","id":4,"tool":"t/nope"}
	EOF
	assert_failure 65
	echo "$output" | valid
	assert_equal "$(jq -c '[.id, .is_error, .content[0].text, .structured_content]' <<<"$output" | tr '\n' ' ')" \
	    '[1,false,"hi",null] [2,false,"3",{"sum":3}] [3,true,"the arguments do not fit the tool'"'"'s input schema",null] [4,true,"no such tool",null] '
}

@test "MCP: run by root, a server with an nproc limit is in a pids cgroup of its own for the session" {
	needs_firejail
	[ "$(id -u)" = 0 ] || skip "the pids cgroup is made for root only (RLIMIT_NPROC binds a user)"
	awk '$0 ~ / - cgroup / && $NF ~ /(^|,)pids(,|$)/ { f = 1 } END { exit !f }' /proc/self/mountinfo ||
	    skip "no cgroup v1 pids hierarchy here to look into"
	printf '{"mcpServers": {"t": {"command": "python3", "args": ["%s"], "sandbox": {"read": ["%s"], "limits": {"nproc": 10}}}}}\n' \
	    "$TOP/tests/mcp/server.py" "$TOP/tests/mcp" >"$C/mcp.json"
	policy '{"default": "allow"}'
	tg-invoke --tool t/sleep --args '{"ms": 3000}' >out.json 2>err.txt &
	pid=$!
	dir=
	for _ in $(seq 100); do
		dir=$(find /sys/fs/cgroup/pids -maxdepth 2 -name "agentutils.$pid.*")
		[ -z "$dir" ] || [ -z "$(cat "$dir/cgroup.procs")" ] || break
		sleep 0.05
	done
	[ -n "$dir" ]
	assert_equal "$(cat "$dir/pids.max")" 12
	# the server's firejail and what it runs, and nothing of ours
	procs=$(cat "$dir/cgroup.procs")
	[ -n "$procs" ]
	refute_regex "$procs" "(^|
)$pid(
|$)"
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 0
	assert_equal "$(jq -c .is_error out.json)" false
	[ ! -e "$dir" ]
}

@test "MCP: --notifications passes on progress and log messages, before the result" {
	printf '{"mcpServers": {"t": {"command": "python3", "args": ["%s"]}}}\n' \
	    "$TOP/tests/mcp/server.py" >"$C/mcp.json"
	policy '{"default": "allow"}'
	run --separate-stderr tg-invoke --sandbox=none --notifications <<-EOF
	{"type":"tool.call","id":"p","tool":"t/progress","args":{"steps":2}}
	{"type":"tool.call","id":"l","tool":"t/log","args":{"text":"hello"}}
	EOF
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.type, .id, .method // .content[0].text]' <<<"$output" | paste -sd ' ')" \
	    '["tool.notification","p","notifications/progress"] ["tool.notification","p","notifications/progress"] ["tool.result","p","done"] ["tool.notification","l","notifications/message"] ["tool.result","l","logged"]'
	# without the option, nothing but the results
	run tg-invoke --sandbox=none --tool t/progress --args '{"steps": 2}'
	assert_equal "$(jq -r .type <<<"$output")" tool.result
}

# mcp_server: the test server in mcp.json as "t", unsandboxed.
mcp_server() {
	printf '{"mcpServers": {"t": {"command": "python3", "args": ["%s"]}}}\n' \
	    "$TOP/tests/mcp/server.py" >"$C/mcp.json"
}

# kinds: the audit log as "type:id" words, in the order of the log.
kinds() {
	events | jq -r '[.type, .id] | join(":")' | paste -sd ' '
}

@test "a batch: calls read together are decided and audited before any runs, their results after, in order" {
	mcp_server
	policy '{"default": "allow", "rules": [{"tool": "t/fail", "decision": "deny"}]}'
	run --separate-stderr tg-invoke --sandbox=none <<-EOF
	{"type":"tool.call","id":"a","tool":"t/echo","args":{"text":"one"}}
	{"type":"tool.call","id":"b","tool":"t/fail","args":{"text":"no"}}
	{"type":"tool.call","id":"c","tool":"t/add","args":{"a":1,"b":2}}
	{"type":"tool.call","id":"d","tool":"t/add","args":{"a":"x"}}
	{"type":"tool.call","id":"e","tool":"t/echo","args":{"text":"two"}}
	EOF
	assert_failure 77
	echo "$output" | valid
	assert_equal "$(jq -c '[.id, .decision, .content[0].text]' <<<"$output" | paste -sd ' ')" \
	    '["a","allow","one"] ["b","deny","rule \"rules[0]\" denies"] ["c","allow","3"] ["d",null,"the arguments do not fit the tool'"'"'s input schema"] ["e","allow","two"]'
	# one transaction of calls and decisions (a denial's and a bad
	# call's results with them: nothing runs), then one of results
	assert_equal "$(kinds)" "tool.sandbox: tool.call:a tool.decision:a tool.call:b tool.decision:b tool.result:b tool.call:c tool.decision:c tool.call:d tool.result:d tool.call:e tool.decision:e tool.result:a tool.result:c tool.result:e"
	audit-verify >/dev/null
}

@test "a batch ends at an ask: the calls before it are answered before it waits" {
	mcp_server
	policy '{"default": "allow", "rules": [{"tool": "t/add", "decision": "ask"}]}'
	cat >calls.ndjson <<-EOF
	{"type":"tool.call","id":"a","tool":"t/echo","args":{"text":"one"}}
	{"type":"tool.call","id":"b","tool":"t/add","args":{"a":1,"b":2}}
	{"type":"tool.call","id":"c","tool":"t/echo","args":{"text":"two"}}
	EOF
	mkfifo out
	tg-invoke --sandbox=none calls.ndjson >out &
	pid=$!
	cat out >out.ndjson &
	until id=$(ws-approve list | jq -r .id) && [ -n "$id" ]; do sleep 0.1; done
	for i in $(seq 50); do
		[ -s out.ndjson ] && break
		sleep 0.1
	done
	assert_equal "$(jq -c '[.id, .content[0].text]' out.ndjson)" '["a","one"]'
	assert_equal "$(kinds)" "tool.sandbox: tool.call:a tool.decision:a tool.call:b tool.decision:b tool.result:a"
	ws-approve approve "$id" >/dev/null
	wait "$pid"
	wait
	assert_equal "$(jq -c '[.id, .decision, .content[0].text]' out.ndjson | paste -sd ' ')" \
	    '["a","allow","one"] ["b","ask","3"] ["c","allow","two"]'
	# the answer (ws-approve audits it) between the result before the ask
	# and the asked call's own
	assert_equal "$(kinds)" "tool.sandbox: tool.call:a tool.decision:a tool.call:b tool.decision:b tool.result:a approval.request:$id tool.result:b tool.call:c tool.decision:c tool.result:c"
	audit-verify >/dev/null
}

@test "killed after its results are out, tg-invoke leaves their events in the audit log" {
	mcp_server
	policy '{"default": "allow"}'
	mkfifo in out
	tg-invoke --sandbox=none <in >out &
	pid=$!
	cat out >out.ndjson &
	# the input stays open: tg-invoke waits for more when it is killed
	exec 4>in
	printf '{"type":"tool.call","id":"%s","tool":"t/echo","args":{"text":"%s"}}\n' a 1 b 2 c 3 >&4
	for i in $(seq 100); do
		[ "$(wc -l <out.ndjson)" -eq 3 ] && break
		sleep 0.1
	done
	kill -9 "$pid"
	st=0
	wait "$pid" || st=$?
	exec 4>&-
	wait
	assert_equal "$st" 137
	assert_equal "$(jq -r .id out.ndjson | paste -sd ' ')" "a b c"
	assert_equal "$(kinds)" "tool.sandbox: tool.call:a tool.decision:a tool.call:b tool.decision:b tool.call:c tool.decision:c tool.result:a tool.result:b tool.result:c"
	audit-verify >/dev/null
}

@test "MCP: a server that cannot start is 69, and the calls say so" {
	printf '{"mcpServers": {"t": {"command": "/nonexistent/server"}}}\n' >"$C/mcp.json"
	policy '{"default": "allow"}'
	run --separate-stderr tg-invoke --sandbox=none --tool t/echo
	assert_failure 69
	assert_regex "$(jq -r .content[0].text <<<"$output")" '^MCP server unavailable: t: cannot start the server: '
}

teardown() {
	http_stop
}

@test "MCP over HTTP: a stream of calls through one session, headers from the environment kept secret" {
	policy '{"default": "allow"}'
	HEADERS='{"Authorization": "Bearer ${H_TOKEN}"}'
	http_server --reply sse --require-header "Authorization: Bearer s3cr3t-token"
	H_TOKEN=s3cr3t-token run --separate-stderr tg-invoke --sandbox=none --notifications <<-EOF
	{"type":"tool.call","id":1,"tool":"h/echo","args":{"text":"hi"}}
	{"type":"tool.call","id":2,"tool":"h/add","args":{"a":1,"b":2}}
	{"type":"tool.call","id":3,"tool":"h/add","args":{"a":"x"}}
	{"type":"tool.call","id":4,"tool":"h/nope"}
	{"type":"tool.call","id":5,"tool":"h/progress","args":{"steps":1}}
	EOF
	assert_failure 65
	echo "$output" | valid
	assert_equal "$(jq -c '[.id, .is_error, .content[0].text // .method, .structured_content]' <<<"$output" | tr '\n' ' ')" \
	    '[1,false,"hi",null] [2,false,"3",{"sum":3}] [3,true,"the arguments do not fit the tool'"'"'s input schema",null] [4,true,"no such tool",null] [5,null,"notifications/progress",null] [5,false,"done",null] '
	# one session, ended when tg-invoke was
	assert_equal "$(grep -c 'session .* deleted' server.err)" 1
	events >all.ndjson
	run grep -c s3cr3t-token all.ndjson
	assert_output 0
	refute_regex "$stderr" s3cr3t-token
	# a variable that is not set: the server is not asked at all
	run --separate-stderr tg-invoke --sandbox=none --tool h/echo --args '{"text": "x"}'
	assert_failure 69
	assert_equal "$(jq -r .content[0].text <<<"$output")" 'MCP server unavailable: h: header "Authorization": variable "H_TOKEN" is not set'
}

@test "MCP over HTTP: JSON replies, a timeout cancelled, the session going on" {
	policy '{"default": "allow"}'
	http_server --reply json
	run --separate-stderr tg-invoke --sandbox=none --timeout 300ms <<-EOF
	{"type":"tool.call","id":1,"tool":"h/sleep","args":{"ms":5000}}
	{"type":"tool.call","id":2,"tool":"h/stats"}
	EOF
	assert_failure 1
	assert_equal "$(jq -r '.content[0].text' <<<"${lines[0]}")" 'tools/call "sleep": no answer within 300ms (cancelled)'
	assert_equal "$(jq -c '.structured_content | [.cancelled[0].reason, .protocol_header]' <<<"${lines[1]}")" '["no answer within 300ms","2025-11-25"]'
}

@test "MCP over HTTP: hostile and absent servers are 69, each saying why" {
	policy '{"default": "allow"}'
	call() {
		run --separate-stderr tg-invoke --sandbox=none --timeout 1s --tool h/echo --args '{"text": "x"}'
		assert_failure 69
		text=$(jq -r .content[0].text <<<"$output")
	}
	http_server --content-type text/html
	call
	assert_equal "$text" 'MCP server unavailable: h: initialize: the server answered with content type "text/html", not application/json or text/event-stream'
	http_stop
	http_server --reply sse --garbage
	call
	assert_equal "$text" 'tools/call "echo": the server sent a malformed message: invalid JSON: invalid literal at byte 1 of "this is {not JSON"'
	http_stop
	http_server --expire 4
	call
	assert_equal "$text" 'tools/call "echo": the session expired: the server answered HTTP 404 to its id'
	http_stop
	http_server --silent
	SECONDS=0
	call
	assert_equal "$text" 'MCP server unavailable: h: initialize: no answer within 1000ms'
	assert [ "$SECONDS" -lt 10 ]
	http_stop
	echo '{"mcpServers": {"h": {"url": "http://127.0.0.1:1/mcp"}}}' >"$C/mcp.json"
	call
	assert_regex "$text" '^MCP server unavailable: h: initialize: cannot reach the server: .*port 1'
}

# ---- the sandbox escape suite ------------------------------------------

@test "escape: no network, not even loopback" {
	needs_firejail
	python3 -c 'import socket,time,sys
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(30)' >port &
	lpid=$!
	until [ -s port ]; do sleep 0.05; done
	tool connect '["python3", "-c", "import socket; socket.create_connection((\"127.0.0.1\", '"$(cat port)"'), 2); print(\"connected\")"]' '{}' '{}' '[]' '{"read_only": true}'
	run tg-invoke --tool connect
	kill $lpid
	assert_failure 1
	refute_output --partial connected
	assert_regex "$(jq -r .stderr <<<"$output")" 'Network is unreachable|Connection refused'
}

@test "escape: no writing outside the writable paths, nor by path traversal" {
	needs_firejail
	mkdir -p w
	tool put '["sh", "-c", "echo x > \"$1\"", "put", "{path}"]' '{"write": ["'"$BATS_TEST_TMPDIR/w"'"]}' '{"path": {"type": "string"}}' '["path"]' '{"read_only": true}'
	run tg-invoke --tool put --args '{"path": "'"$BATS_TEST_TMPDIR/w/ok"'"}'
	assert_success
	assert [ -e w/ok ]
	# outside, the file system is read-only (or, in a private /tmp or
	# home, not there at all)
	for p in /etc/agentutils-escape "$TOP/agentutils-escape"; do
		run tg-invoke --tool put --args '{"path": "'"$p"'"}'
		assert_failure 1
		assert_regex "$(jq -r .stderr <<<"$output")" 'Read-only file system|Directory nonexistent'
	done
	# /tmp and the home are private: what is written there stays there
	for p in "$BATS_TEST_TMPDIR/outside" "$BATS_TEST_TMPDIR/w/../outside" "$HOME/x"; do
		run tg-invoke --tool put --args '{"path": "'"$p"'"}'
	done
	assert [ ! -e "$TOP/agentutils-escape" ]
	assert [ ! -e outside ]
	assert [ ! -e "$HOME/x" ]
	assert [ ! -e /etc/agentutils-escape ]
}

@test "escape: the home is private, its secrets unreadable" {
	needs_firejail
	mkdir -p "$HOME/.ssh"
	echo "PRIVATE KEY" >"$HOME/.ssh/id_ed25519"
	tool cat '["cat", "{path}"]' '{}' '{"path": {"type": "string"}}' '["path"]' '{"read_only": true}'
	run tg-invoke --tool cat --args '{"path": "'"$HOME/.ssh/id_ed25519"'"}'
	assert_failure 1
	refute_output --partial "PRIVATE KEY"
}

@test "escape: no capabilities, no new privileges, no setuid" {
	needs_firejail
	shell status 'grep -E \"^(CapEff|NoNewPrivs)\" /proc/self/status'
	run tg-invoke --tool status
	assert_success
	assert_equal "$(jq -r .content[0].text <<<"$output")" "CapEff:	0000000000000000
NoNewPrivs:	1"
}

@test "escape: a fork bomb is stopped, never more than its nproc at once" {
	needs_firejail
	# RLIMIT_NPROC binds a user; root is bounded by a pids cgroup, which
	# needs cgroup v1's pids hierarchy or v2 giving pids to children.
	if [ "$(id -u)" = 0 ] &&
	    ! awk '$0 ~ / - cgroup / && $NF ~ /(^|,)pids(,|$)/ { f = 1 } END { exit !f }' /proc/self/mountinfo &&
	    ! grep -qw pids "/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)/cgroup.subtree_control" 2>/dev/null; then
		skip "root, and no pids cgroup to bound the processes with"
	fi
	# The shell stays, so that the sandbox lives until the timeout.
	shell bomb 'b() { b | b & }; b; sleep 5' '{"timeout": "2s", "limits": {"nproc": 64}}'
	SECONDS=0
	tg-invoke --tool bomb >out.json 2>err.txt &
	pid=$!
	most=0 cg=0
	while kill -0 "$pid" 2>/dev/null; do
		# the processes beneath tg-invoke
		n=$(ps -e -o pid=,ppid= | awk -v root="$pid" '{ p[$1] = $2 }
		    END { for (k in p) { q = k; while (q in p && q != root && q > 1) q = p[q]; n += q == root } print n + 0 }')
		[ "$n" -le "$most" ] || most=$n
		# root: the kernel's own count, in the sandbox's pids cgroup
		for f in $(find /sys/fs/cgroup -maxdepth 3 -name "agentutils.$pid.*" 2>/dev/null); do
			c=$(cat "$f/pids.current" 2>/dev/null) || continue
			[ "$c" -le "$cg" ] || cg=$c
		done
		sleep 0.05
	done
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 1
	assert [ "$SECONDS" -lt 20 ]
	assert_equal "$(jq -c '[.is_error, .timed_out]' out.json)" '[true,true]'
	# the bomb's processes and firejail's own two, at most: exactly by
	# the cgroup's count; ps reads /proc a process at a time, so one that
	# ended and one forked meanwhile may both be counted, a few over
	assert [ "$most" -gt 10 ]
	assert [ "$cg" -le 66 ]
	assert [ "$most" -le 70 ]
	# nothing of it is left, nor its cgroup
	sleep 0.5
	assert_equal "$(ps -e -o ppid= | grep -cx " *$pid")" 0
	assert_equal "$(find /sys/fs/cgroup -maxdepth 3 -name 'agentutils.*' 2>/dev/null)" ""
}

@test "escape: API keys in our environment do not reach tools" {
	needs_firejail
	tool env '["env"]' '{"env": ["GIVEN"]}' '{}' '[]' '{"read_only": true}'
	OPENAI_API_KEY=sk-secret GITHUB_TOKEN=ghp-secret GIVEN=yes run tg-invoke --tool env
	assert_success
	refute_output --partial secret
	assert_regex "$(jq -r .content[0].text <<<"$output")" '(^|
)GIVEN=yes(
|$)'
}

@test "escape: shell metacharacters and options in arguments stay one word" {
	needs_firejail
	for p in '; touch pwned' '$(touch pwned)' '`touch pwned`' '--version' '-f/etc/passwd' '|touch pwned'; do
		run tg-invoke --tool grep --args "$(jq -nc --arg p "$p" --arg f "$D/f.txt" '{pattern: $p, path: $f}')"
		assert_failure 1
		assert_equal "$(jq -r .content[0].text <<<"$output")" ""
	done
	assert [ ! -e pwned ]
	assert [ ! -e "$D/pwned" ]
}
