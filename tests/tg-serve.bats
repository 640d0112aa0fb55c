#!/usr/bin/env bats
# tg-serve: the gateway as an MCP server over stdio.  Version
# negotiation, tools/list pages, tools/call through the same validate,
# decide, run and audit path as tg-invoke, the JSON-RPC errors (parse
# error, invalid request, unknown method, bad cursor), notifications left
# unanswered, the tools of MCP servers behind it (over stdio and
# Streamable HTTP), and tg-invoke as its client.

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

@test "usage errors are 64; without firejail 69" {
	run --separate-stderr tg-serve --page-size 0
	assert_failure 64
	run --separate-stderr tg-serve extra
	assert_failure 64
	run --separate-stderr env PATH=/nonexistent "$AU_BIN/tg-serve"
	assert_failure 69
}
