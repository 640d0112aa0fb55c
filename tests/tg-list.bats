#!/usr/bin/env bats
# tg-list: the registry as records (tools of tools.d, servers of
# mcp.json, their tools from the cache or the servers), partial loading
# with file:line problems and exit 78, --check over the policy too, and
# the missing files and usage errors.

load helper

conf() {
	C=$XDG_CONFIG_HOME/agentutils
	mkdir -p "$C/tools.d"
}

teardown() {
	http_stop
}

wc_tool() {
	cat >"$C/tools.d/wc.json" <<-'J'
	{"name": "wc",
	 "description": "count words",
	 "input_schema": {"type": "object", "properties": {"file": {"type": "string"}}},
	 "command": ["wc", "-w", "--", "{file}"],
	 "sandbox": {"read": ["/srv"], "limits": {"as": "1M", "cpu": "1.5s"}, "timeout": "2s", "env": ["LANG"]},
	 "annotations": {"read_only": true}}
	J
}

@test "no configuration at all lists nothing" {
	run --separate-stderr tg-list
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

@test "tools and servers as records, in their normal form, valid" {
	conf
	wc_tool
	cat >"$C/mcp.json" <<-'J'
	{"mcpServers": {
	  "files": {"command": "mcp-files", "args": ["/srv"], "env": {"FILES_TOKEN": "s3cret"}},
	  "search": {"type": "http", "url": "http://127.0.0.1:1/mcp", "headers": {"Authorization": "Bearer s3cret"}}
	}, "otherClientSetting": true}
	J
	# neither server can be reached: each is reported, 69
	run --separate-stderr tg-list --sandbox=none
	assert_failure 69
	assert_regex "${stderr_lines[0]}" '^tg-list: files: cannot start the server: '
	assert_regex "${stderr_lines[1]}" '^tg-list: search: initialize: cannot reach the server: .*port 1'
	assert_equal "${#stderr_lines[@]}" 2
	assert_equal "${#lines[@]}" 3
	echo "$output" | valid
	refute_output --partial s3cret
	refute_regex "$stderr" s3cret
	list=$output
	run jq -c 'del(.input_schema, .description)' <<<"${lines[0]}"
	assert_output '{"type":"tool","name":"wc","command":["wc","-w","--","{file}"],"sandbox":{"network":false,"read":["/srv"],"write":[],"env":["LANG"],"limits":{"as":1048576,"cpu_ms":1500},"timeout_ms":2000},"annotations":{"read_only":true,"destructive":false,"idempotent":false,"open_world":true},"file":"'"$C"'/tools.d/wc.json","line":1}'
	assert_equal "$(jq -r '.name + " " + .transport + " " + (.env // .headers | join(","))' <<<"$(tail -n 2 <<<"$list")")" "$(printf 'files stdio FILES_TOKEN\nsearch http Authorization')"
	run tg-list --sandbox=none --format table
	assert_failure 69
	assert_line --regexp '^wc +ro +wc +count words$'
	assert_line --regexp '^search +mcp +http://127.0.0.1:1/mcp$'
}

@test "a bad file or entry is reported with file:line and skipped, the rest listed, exit 78" {
	conf
	wc_tool
	printf '{"name": "x",\n "input_schema": {' >"$C/tools.d/broken.json"
	cat >"$C/tools.d/many.json" <<-'J'
	[
	  {"name": "wc", "input_schema": {"type": "object"}, "command": ["wc"]},
	  {"name": "ok", "input_schema": {"type": "object"}, "command": ["true"]},
	  {"name": "num", "input_schema": {"type": "object"}, "command": ["echo", 5],
	   "sandbox": {"network": "yes"}, "colour": "red"},
	  {"name": "twice", "name": "twice"}
	]
	J
	cat >"$C/mcp.json" <<-'J'
	{"mcpServers": {
	  "a": {"command": "x"},
	  "a": {"command": "y"},
	  "b": {"url": "ftp://x"},
	  "c": {"url": "http://x/",
	        "headers": {"X-Ok": "${T}", "Bad Name": "v", "X-Two": "a\r\nX-Evil: 1"}}
	}}
	J
	run --separate-stderr tg-list
	assert_failure 78
	assert_equal "$(jq -r .name <<<"$output" | tr '\n' ' ')" "wc ok "
	assert_equal "$stderr" "tg-list: $C/tools.d/broken.json:2: invalid JSON: expected a string key
tg-list: $C/tools.d/many.json:5: tool \"num\": unknown field \"colour\"
tg-list: $C/tools.d/many.json:4: tool \"num\": command[1]: expected strings
tg-list: $C/tools.d/many.json:5: tool \"num\": sandbox.network: expected true or false, not string
tg-list: $C/tools.d/many.json:6: key \"name\" is given twice (first at line 6)
tg-list: $C/tools.d/wc.json:1: tool \"wc\": defined already at $C/tools.d/many.json:2
tg-list: $C/mcp.json:3: key \"a\" is given twice (first at line 2)
tg-list: $C/mcp.json:4: server \"b\": url: expected an http or https URL
tg-list: $C/mcp.json:6: server \"c\": headers: \"Bad Name\": expected a header name and a value of one line
tg-list: $C/mcp.json:6: server \"c\": headers: \"X-Two\": expected a header name and a value of one line"
}

@test "schemas the validator refuses are problems: a bad type, a bad pattern, a \$ref loop" {
	conf
	cat >"$C/tools.d/bad.json" <<-'J'
	[
	  {"name": "t1", "command": ["true"],
	   "input_schema": {"type": "object", "properties": {"a": {"type": "strin"}}}},
	  {"name": "t2", "command": ["true"],
	   "input_schema": {"type": "object", "properties": {"a": {"pattern": "("}}}},
	  {"name": "t3", "command": ["true"], "input_schema": {"type": "object"},
	   "output_schema": {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}}},
	  {"name": "ok", "command": ["true"], "input_schema": {"type": "object"}}
	]
	J
	run --separate-stderr tg-list
	assert_failure 78
	assert_equal "$(jq -r .name <<<"$output")" ok
	assert_equal "${#stderr_lines[@]}" 3
	assert_equal "${stderr_lines[0]}" "tg-list: $C/tools.d/bad.json:3: tool \"t1\": input_schema: schema at \"/properties/a/type\": unknown type \"strin\""
	assert_regex "${stderr_lines[1]}" "^tg-list: $C/tools.d/bad.json:5: tool \"t2\": input_schema: .*pattern"
	assert_regex "${stderr_lines[2]}" "^tg-list: $C/tools.d/bad.json:7: tool \"t3\": output_schema: .*loop"
}

@test "--check lists nothing, checks the policy too, and exits 78 after every problem" {
	conf
	wc_tool
	run --separate-stderr tg-list --check
	assert_success
	assert_output ""
	printf '{"default": "maybe",\n "rules": [{"tool": "a[", "decision": "allow"},\n {"where": ".a |", "decision": "deny"}]}\n' >"$C/policy.json"
	echo '{"name": "bad"}' >"$C/tools.d/bad.json"
	run --separate-stderr tg-list --check -v
	assert_failure 78
	assert_output ""
	assert_equal "${stderr_lines[0]}" "tg-list: $C/tools.d/bad.json:1: tool \"bad\": input_schema: missing"
	assert_equal "${stderr_lines[1]}" "tg-list: $C/tools.d/bad.json:1: tool \"bad\": command: missing"
	assert_equal "${stderr_lines[2]}" "tg-list: $C/policy.json:1: default: expected \"allow\", \"deny\" or \"ask\""
	assert_equal "${stderr_lines[3]}" "tg-list: $C/policy.json:2: rules[0]: tool[0]: expected globs"
	assert_regex "${stderr_lines[4]}" "^tg-list: $C/policy.json:3: rules\\[1\\]: where: syntax error"
	assert_equal "${stderr_lines[5]}" "tg-list: 5 problems"
}

@test "--tools, --mcp and --policy name other files" {
	mkdir t
	echo '{"name":"t1","input_schema":{"type":"object"},"command":["true"]}' >t/a.json
	echo 'not json' >t/.hidden.json
	echo '{"mcpServers":{"s":{"command":"srv"}}}' >m.json
	echo '{"default":"deny"}' >p.json
	run --separate-stderr tg-list --sandbox=none --tools t --mcp m.json
	assert_failure 69
	assert_equal "$(jq -r .name <<<"$output" | tr '\n' ' ')" "t1 s "
	run tg-list --check --tools t --mcp m.json --policy p.json
	assert_success
	echo '{"rules":[{}]}' >p.json
	run --separate-stderr tg-list --check --policy p.json
	assert_failure 78
	assert_equal "$stderr" 'tg-list: p.json:1: rules[0]: decision: expected "allow", "deny" or "ask"'
}

@test "a named directory or file that is missing is 66" {
	run --separate-stderr tg-list --tools nonesuch
	assert_failure 66
	assert_equal "$stderr" "tg-list: nonesuch: No such file or directory"
	run --separate-stderr tg-list --mcp nonesuch.json
	assert_failure 66
	run --separate-stderr tg-list --check --policy nonesuch.json
	assert_failure 66
	assert_equal "$stderr" "tg-list: nonesuch.json: No such file or directory"
}

@test "usage errors are 64" {
	run --separate-stderr tg-list extra
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "tg-list: no operands expected"
	run --separate-stderr tg-list --policy p.json
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "tg-list: --policy goes with --check"
}

# server COMMAND: mcp.json with the server t, started by COMMAND.
server() {
	printf '{"mcpServers": {"t": {"command": "%s", "args": ["%s"]}}}\n' \
	    "$1" "$TOP/tests/mcp/server.py" >"$C/mcp.json"
}

@test "an MCP server's tools: asked for once, then from the cache until the TTL" {
	conf
	server python3
	run --separate-stderr tg-list --sandbox=none
	assert_success
	assert_equal "$stderr" ""
	echo "$output" | valid
	assert_equal "$(jq -r 'select(.type == "mcp.tool") | .name' <<<"$output" | head -3 | paste -sd ' ')" "t/echo t/add t/sleep"
	fetched=$(jq -r 'select(.name == "t/echo") | .fetched' <<<"$output")
	assert_equal "$(sqlite3 "$XDG_STATE_HOME/agentutils/state.db" 'SELECT server FROM tg_mcp_tools')" t
	# the server cannot start any more: the cache answers, as it was
	server /nonexistent/python3
	run --separate-stderr tg-list --sandbox=none
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(jq -r 'select(.name == "t/echo") | .fetched' <<<"$output")" "$fetched"
	# --refresh (and a TTL it is past) asks the server: 69, the cached
	# tools still listed
	for opt in --refresh "--ttl 1ms"; do
		run --separate-stderr tg-list --sandbox=none $opt
		assert_failure 69
		assert_regex "$stderr" '^tg-list: t: cannot start the server'
		assert_equal "$(jq -r 'select(.name == "t/echo") | .fetched' <<<"$output")" "$fetched"
	done
}

@test "tg-invoke refreshes the cache when it starts a server; a server never reached lists nothing" {
	conf
	server /nonexistent/python3
	run --separate-stderr tg-list --sandbox=none
	assert_failure 69
	assert_equal "$(jq -r .type <<<"$output")" mcp.server
	server python3
	echo '{"default": "allow"}' >"$C/policy.json"
	tg-invoke --sandbox=none --tool t/echo --args '{"text": "x"}' >/dev/null
	server /nonexistent/python3
	run --separate-stderr tg-list --sandbox=none
	assert_success
	assert_equal "$(jq -r 'select(.type == "mcp.tool") | .name' <<<"$output" | head -1)" t/echo
	run tg-list --sandbox=none --format table
	assert_line --regexp '^t/echo +mcp tool +[0-9T:.Z-]+ +Say the text back\.$'
}

@test "an HTTP server's tools: cached like a stdio server's, --refresh asks it" {
	conf
	http_server --reply sse
	run --separate-stderr tg-list
	assert_success
	assert_equal "$stderr" ""
	echo "$output" | valid
	assert_equal "$(jq -r 'select(.type == "mcp.tool") | .name' <<<"$output" | head -3 | paste -sd ' ')" "h/echo h/add h/sleep"
	fetched=$(jq -r 'select(.name == "h/echo") | .fetched' <<<"$output")
	assert_equal "$(grep -c 'session .* deleted' server.err)" 1
	# gone: the cache answers; --refresh asks, 69, the cache still listed
	http_stop
	run --separate-stderr tg-list
	assert_success
	assert_equal "$(jq -r 'select(.name == "h/echo") | .fetched' <<<"$output")" "$fetched"
	run --separate-stderr tg-list --refresh
	assert_failure 69
	assert_regex "$stderr" '^tg-list: h: initialize: cannot reach the server: '
	assert_equal "$(jq -r 'select(.name == "h/echo") | .fetched' <<<"$output")" "$fetched"
}
