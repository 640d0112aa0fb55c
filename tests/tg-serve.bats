#!/usr/bin/env bats
# tg-serve: the gateway as an MCP server over stdio.  Version
# negotiation, tools/list pages, tools/call through the same validate,
# decide, run and audit path as tg-invoke, the JSON-RPC errors (parse
# error, invalid request, unknown method, bad cursor), notifications left
# unanswered, the tools of MCP servers behind it (over stdio and
# Streamable HTTP), and tg-invoke as its client.  Input read on while a
# call runs: pings answered at once, other requests after it in order,
# notifications/cancelled stopping a local tool (its process gone) or an
# MCP server's call (cancelled upstream), unanswered and audited.  The
# same while a call waits for approval: a cancelled one never runs, its
# request withdrawn.

load helper

setup() {
	home
	C=$XDG_CONFIG_HOME/agentutils
	mkdir -p "$C/tools.d"
	for t in basename echo; do
		printf '{"name": "%s", "command": ["%s", "{text}"],
		    "input_schema": {"type": "object", "properties":
		    {"text": {"type": "string"}}, "required": ["text"]},
		    "annotations": {"read_only": true}}\n' "$t" "$t" \
		    >"$C/tools.d/$t.json"
	done
	printf '{"name": "rm", "command": ["rm", "{path}"],
	    "input_schema": {"type": "object", "properties":
	    {"path": {"type": "string"}}}}\n' >"$C/tools.d/rm.json"
	echo '{"default": "deny", "rules": [{"annotations": {"read_only": true}, "decision": "allow"}]}' >"$C/policy.json"
}

teardown() {
	http_stop
}

INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}'
INITIALIZED='{"jsonrpc":"2.0","method":"notifications/initialized"}'

# serve MESSAGE...: a session with tg-serve, the answers on output.
serve() {
	printf '%s\n' "$INIT" "$INITIALIZED" "$@" |
	    tg-serve --sandbox=none --page-size 2
}

@test "initialize: the client's version if we speak it, else ours" {
	run --separate-stderr serve
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(jq -c '[.id, .result.protocolVersion, .result.capabilities, .result.serverInfo.name]' <<<"$output")" '[0,"2025-06-18",{"tools":{"listChanged":false}},"agentutils"]'
	run tg-serve --sandbox=none <<<'{"jsonrpc":"2.0","id":"a","method":"initialize","params":{"protocolVersion":"1999-01-01"}}'
	assert_equal "$(jq -r .result.protocolVersion <<<"$output")" 2025-11-25
}

@test "tools/list: every tool, page by page, as MCP Tools" {
	run serve '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' \
	    '{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"2"}}' \
	    '{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"9"}}'
	assert_success
	assert_equal "$(jq -c 'select(.id == 1) | [(.result.tools | map(.name)), .result.nextCursor]' <<<"$output")" '[["basename","echo"],"2"]'
	assert_equal "$(jq -c 'select(.id == 2) | [(.result.tools | map(.name)), .result.nextCursor]' <<<"$output")" '[["rm"],null]'
	assert_equal "$(jq -c 'select(.id == 1) | .result.tools[0] | [.inputSchema.required, .annotations.readOnlyHint]' <<<"$output")" '[["text"],true]'
	assert_equal "$(jq -c 'select(.id == 3) | .error.code' <<<"$output")" -32602
}

@test "tools/call: run, invalid arguments, denied; each audited" {
	run serve '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"basename","arguments":{"text":"/x/abc"}}}' \
	    '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":5}}}' \
	    '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"rm","arguments":{"path":"/x"}}}' \
	    '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"nope"}}'
	assert_success
	assert_equal "$(jq -c 'select(.id == 1) | .result' <<<"$output")" '{"content":[{"type":"text","text":"abc\n"}],"isError":false}'
	assert_equal "$(jq -c 'select(.id == 2) | [.result.isError, .result.content[1].text]' <<<"$output")" '[true,"[{\"instance\":\"/text\",\"schema\":\"/properties/text/type\",\"error\":\"expected string, got number\"}]"]'
	assert_equal "$(jq -c 'select(.id == 3) | [.result.isError, .result.content[0].text]' <<<"$output")" '[true,"no rule or grant matches: the default is deny"]'
	assert_equal "$(jq -c 'select(.id == 4) | [.result.isError, .result.content[0].text]' <<<"$output")" '[true,"no such tool"]'
	audit-export --format ndjson -o audit.ndjson
	assert_equal "$(jq -r '.record | select(.type == "tool.decision") | .tool + " " + .decision' audit.ndjson | tr '\n' ' ')" "basename allow rm deny "
}

@test "JSON-RPC errors: parse error, invalid request, unknown method; notifications unanswered" {
	run serve 'not json' '[1,2]' '{"jsonrpc":"2.0","id":7,"method":"resources/list"}' \
	    '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}' \
	    '{"jsonrpc":"2.0","id":8,"method":"ping"}' \
	    '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{}}'
	assert_success
	assert_equal "$(jq -c '[.id, (.error.code // .result)]' <<<"$output" | tr '\n' ' ')" '[0,{"protocolVersion":"2025-06-18","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"agentutils","version":"'"$(tg-serve --version | awk '{print $3}')"'"}}] [null,-32700] [null,-32600] [7,-32601] [8,{}] [9,-32602] '
}

@test "the tools of MCP servers behind it are listed and called" {
	printf '{"mcpServers": {"t": {"command": "python3", "args": ["%s"]}}}\n' \
	    "$TOP/tests/mcp/server.py" >"$C/mcp.json"
	echo '{"default": "allow"}' >"$C/policy.json"
	run serve '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"3"}}' \
	    '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t/add","arguments":{"a":2,"b":3}}}'
	assert_success
	assert_equal "$(jq -c 'select(.id == 1) | .result.tools | map(.name)' <<<"$output")" '["t/echo","t/add"]'

	assert_equal "$(jq -c 'select(.id == 2) | .result' <<<"$output")" '{"content":[{"type":"text","text":"5"}],"structuredContent":{"sum":5},"isError":false}'
}

@test "the tools of an MCP server over Streamable HTTP behind it are listed and called" {
	http_server --reply sse
	echo '{"default": "allow"}' >"$C/policy.json"
	run serve '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"3"}}' \
	    '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"h/add","arguments":{"a":2,"b":3}}}'
	assert_success
	assert_equal "$(jq -c 'select(.id == 1) | .result.tools | map(.name)' <<<"$output")" '["h/echo","h/add"]'
	assert_equal "$(jq -c 'select(.id == 2) | .result' <<<"$output")" '{"content":[{"type":"text","text":"5"}],"structuredContent":{"sum":5},"isError":false}'
	assert_equal "$(grep -c 'session .* deleted' server.err)" 1
}

@test "tg-invoke is a client of tg-serve: a gateway behind a gateway" {
	printf '{"mcpServers": {"gw": {"command": "%s", "args": ["--sandbox=none"],
	    "sandbox": {"env": ["XDG_CONFIG_HOME", "XDG_STATE_HOME"]}}}}\n' \
	    "$AU_BIN/tg-serve" >mcp.json
	echo '{"default": "allow"}' >outer.json
	run --separate-stderr tg-invoke --sandbox=none --mcp mcp.json --policy outer.json <<-EOF
	{"type":"tool.call","id":1,"tool":"gw/basename","args":{"text":"/x/abc"}}
	{"type":"tool.call","id":2,"tool":"gw/rm","args":{"path":"/x"}}
	EOF
	assert_failure 1
	assert_equal "$(jq -c '[.id, .is_error, .content[0].text]' <<<"$output" | tr '\n' ' ')" '[1,false,"abc\n"] [2,true,"no rule or grant matches: the default is deny"] '
}

# slowtool: a tool that writes its pid to its path, then sleeps.
slowtool() {
	printf '{"name": "slow", "command": ["sh", "-c",
	    "echo $$ >\\"$0\\"; exec sleep 30", "{path}"],
	    "input_schema": {"type": "object", "properties":
	    {"path": {"type": "string"}}},
	    "annotations": {"read_only": true}}\n' >"$C/tools.d/slow.json"
}

# call ID TOOL ARGS: a tools/call request.
call() {
	printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s}}\n' "$1" "$2" "$3"
}

# cancel ID: notifications/cancelled for request ID.
cancel() {
	printf '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":%s,"reason":"not needed"}}\n' "$1"
}

# waitfor CMD...: until CMD succeeds, for 10s at most.
waitfor() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# answered ID: whether tg-serve has answered request ID in out (written
# through a pipe, so that it comes line by line).
answered() {
	jq -e "select(.id == $1)" out >/dev/null 2>&1
}

@test "notifications/cancelled stops a local tool: no answer, the process gone, audited" {
	slowtool
	SECONDS=0
	{
		printf '%s\n' "$INIT" "$INITIALIZED"
		call 5 slow '{"path":"'"$PWD"'/slow.pid"}'
		waitfor test -s slow.pid
		cancel 5
		call 6 echo '{"text":"next"}'
	} | tg-serve --sandbox=none --timeout 20s >out 2>err
	assert_equal "$(cat err)" ""
	assert [ "$SECONDS" -lt 10 ]
	assert_equal "$(jq -c '[.id, .result.content[0].text]' out | tr '\n' ' ')" '[0,null] [6,"next\n"] '
	run kill -0 "$(cat slow.pid)"
	assert_failure
	run audit-verify --key "$XDG_CONFIG_HOME/agentutils/audit.key"
	assert_success
	assert_equal "$(jq -c '[.ok, .decrypted]' <<<"$output")" '[true,true]'
	audit-export --format ndjson -o audit.ndjson
	assert_equal "$(jq -c '.record | select(.type == "tool.result" and .tool == "slow") | [.id, .is_error, .cancelled, .exit_code, .timed_out]' audit.ndjson)" '[5,true,true,143,null]'
}

@test "while a call runs: ping answered at once, other requests after it in order, cancellations of the unknown and the answered ignored" {
	slowtool
	{
		printf '%s\n' "$INIT" "$INITIALIZED"
		call 5 slow '{"path":"'"$PWD"'/slow.pid"}'
		waitfor test -s slow.pid
		printf '%s\n' '{"jsonrpc":"2.0","id":6,"method":"tools/list"}' \
		    '{"jsonrpc":"2.0","id":7,"method":"ping"}'
		cancel 99
		call 9 echo '{"text":"never"}'
		cancel 9
		printf '%s\n' '{"jsonrpc":"2.0","id":10,"method":"initialize","params":{}}'
		cancel 10
		waitfor answered 7
		kill -0 "$(cat slow.pid)" && echo running >during
		cancel 5
		waitfor answered 10
		cancel 6
		printf '%s\n' '{"jsonrpc":"2.0","id":8,"method":"ping"}'
	} | tg-serve --sandbox=none --timeout 20s 2>err | cat >out
	assert_equal "$(cat during)" running
	assert_equal "$(jq -c .id out | tr '\n' ' ')" '0 7 6 10 8 '
	assert_equal "$(jq -c 'select(.id == 7 or .id == 8) | .result' out | tr '\n' ' ')" '{} {} '
	assert_equal "$(jq -c 'select(.id == 6) | .result.tools | length' out)" 4
	audit-export --format ndjson -o audit.ndjson
	assert_equal "$(jq -c '.record | select(.type == "tool.call") | .id' audit.ndjson | tr '\n' ' ')" '5 '
}

@test "notifications/cancelled cancels an MCP server's call upstream: no answer, audited" {
	printf '{"mcpServers": {"t": {"command": "python3", "args": ["%s"]}}}\n' \
	    "$TOP/tests/mcp/server.py" >"$C/mcp.json"
	echo '{"default": "allow"}' >"$C/policy.json"
	SECONDS=0
	{
		printf '%s\n' "$INIT" "$INITIALIZED" \
		    '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
		waitfor answered 1
		call 5 t/sleep '{"ms":20000}'
		# answered before the call ends: the call is on its way
		sleep 0.5
		printf '%s\n' '{"jsonrpc":"2.0","id":7,"method":"ping"}'
		waitfor answered 7
		cancel 5
		call 6 t/stats '{}'
	} | tg-serve --sandbox=none 2>err | cat >out
	assert_equal "$(cat err)" ""
	assert [ "$SECONDS" -lt 15 ]
	assert_equal "$(jq -c .id out | tr '\n' ' ')" '0 1 7 6 '
	assert_equal "$(jq -c 'select(.id == 6) | .result.structuredContent.cancelled | map(.reason)' out)" '["given up by the caller"]'
	audit-export --format ndjson -o audit.ndjson
	assert_equal "$(jq -c '.record | select(.type == "tool.result" and .tool == "t/sleep") | [.id, .is_error, .cancelled, .content[0].text]' audit.ndjson)" '[5,true,true,"tools/call \"sleep\": cancelled"]'
}

# pending: the id of the one approval request pending, if there is one.
pending() {
	id=$(ws-approve list | jq -r .id) && [ -n "$id" ]
}

@test "while a call waits for approval: ping answered at once, other requests after it; a cancellation runs nothing, unanswered, audited, the request withdrawn" {
	printf '{"name": "touch", "command": ["touch", "{path}"],
	    "input_schema": {"type": "object", "properties":
	    {"path": {"type": "string"}}}}\n' >"$C/tools.d/touch.json"
	echo '{"default": "ask", "rules": [{"annotations": {"read_only": true}, "decision": "allow"}]}' >"$C/policy.json"
	args='{"path":"'"$PWD"'/made"}'
	SECONDS=0
	{
		printf '%s\n' "$INIT" "$INITIALIZED"
		call 5 touch "$args"
		waitfor pending
		echo "$id" >first
		printf '%s\n' '{"jsonrpc":"2.0","id":7,"method":"ping"}'
		call 8 echo '{"text":"after"}'
		waitfor answered 7
		ws-approve show "$id" | jq -r .status >during
		cancel 5
		waitfor answered 8
		test -e made && echo ran >early
		# the call again: a request of its own, approved, runs
		call 9 touch "$args"
		waitfor pending
		ws-approve approve "$id" >/dev/null
		waitfor answered 9
	} | tg-serve --sandbox=none --approval-timeout 30s 2>err | cat >out
	assert [ "$SECONDS" -lt 25 ]
	assert_equal "$(cat during)" pending
	assert_equal "$(jq -c .id out | tr '\n' ' ')" '0 7 8 9 '
	assert_equal "$(jq -c 'select(.id == 8 or .id == 9) | .result | [.isError, .content[0].text]' out | tr '\n' ' ')" \
	    '[false,"after\n"] [false,""] '
	assert [ ! -e early ]
	assert [ -e made ]
	id=$(cat first)
	assert_equal "$(ws-approve show "$id" | jq -r '[.status, .decided_by] | join(" ")')" "withdrawn requester"
	run ws-approve approve "$id"
	assert_failure 1
	audit-export --format ndjson -o audit.ndjson
	jq -c '.record | select(.type == "tool.result")' audit.ndjson | valid
	assert_equal "$(jq -c '.record | select(.type == "tool.result" and .tool == "touch") | [.id, .decision, .is_error, .cancelled, .approval == "'"$id"'", .content[0].text]' audit.ndjson | tr '\n' ' ')" \
	    '[5,"ask",true,true,true,"approval '"$id"' withdrawn: the call was cancelled"] [9,"ask",false,null,false,""] '
}

@test "usage errors are 64; without firejail 69" {
	run --separate-stderr tg-serve --page-size 0
	assert_failure 64
	run --separate-stderr tg-serve extra
	assert_failure 64
	run --separate-stderr env PATH=/nonexistent "$AU_BIN/tg-serve"
	assert_failure 69
}
