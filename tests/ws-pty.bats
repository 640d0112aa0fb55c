#!/usr/bin/env bats
# ws-pty: bash, python3 and vi driven by records, with waits and screen
# snapshots; resize seen by stty inside; Ctrl-C interrupting sleep; a
# child that ignores SIGHUP; output split inside a character and bytes
# that are not UTF-8; the asciicast checked by asciinema cat and by
# parsing; the session, its transcript and the audit log; an interactive
# run on a terminal; every failure path and its status.

load helper

PROMPT='{"type":"wait","for":"[$#] $"}'

# pty CMD... : ws-pty driven by the records on standard input, at most
# 20 s, its records in out.ndjson and its stderr in err.
pty() {
	timeout 20 ws-pty "$@" >out.ndjson 2>err
}

# data: what the program wrote, from the session.output records.
data() {
	jq -j 'select(.type == "session.output") | .data' out.ndjson
}

# settle: until the session.exit record has come through the process
# substitution of a background ws-pty (5 s at most).
settle() {
	for _ in $(seq 100); do
		grep -q session.exit out.ndjson && return
		sleep 0.05
	done
}

# last TYPE: the last record of TYPE.
last() {
	jq -c "select(.type == \"$1\")" out.ndjson | tail -n 1
}

@test "bash: wait for the prompt, type, wait for the answer, screen; its status passed on" {
	run pty -- bash --norc --noprofile -i <<EOF
$PROMPT
{"type":"input","data":"echo sum \$((6*7))\n"}
{"type":"wait","for":"sum 42"}
$PROMPT
{"type":"screen"}
{"type":"input","data":"exit 3\n"}
EOF
	assert_failure 3
	valid <out.ndjson
	assert_equal "$(cat err)" ""
	data | grep -q $'sum 42\r'
	screen=$(last session.screen)
	assert_equal "$(jq -c '[.cols, .rows, (.lines | length), .lines[1], .cursor.row]' <<<"$screen")" '[80,24,24,"sum 42",2]'
	assert_regex "$(jq -r '.lines[0]' <<<"$screen")" '[$#] echo sum \$\(\(6\*7\)\)$'
	assert_equal "$(last session.exit | jq -c '[.exit_code, has("signal")]')" '[3,false]'
	id=$(last session.exit | jq -r .id)
	assert_equal "$(jq -r .id out.ndjson | sort -u)" "$id"
}

@test "python3: the REPL answers, C-d ends it with status 0" {
	run pty -- python3 -q <<'EOF'
{"type":"wait","for":">>> $"}
{"type":"input","data":"print(6 * 7)\n"}
{"type":"wait","for":"^42"}
{"type":"wait","for":">>> $"}
{"type":"keys","keys":["C-d"]}
EOF
	assert_success
	valid <out.ndjson
	data | grep -q $'^42\r$'
	assert_equal "$(last session.exit | jq .exit_code)" 0
}

@test "vi: a full-screen program reads right on the screen, keys drive it" {
	command -v vi >/dev/null || skip "no vi (Debian package vim or vim-tiny)"
	printf 'alpha\nbeta\n' >f.txt
	run pty --cols 40 --rows 10 -- vi -u NONE -N f.txt <<'EOF'
{"type":"wait","for":"2L, 11B"}
{"type":"wait","for":"\\[9;1H~"}
{"type":"screen"}
{"type":"keys","keys":["G","o"]}
{"type":"input","data":"gamma"}
{"type":"keys","keys":["Esc",":","w","q","Enter"]}
EOF
	assert_success
	valid <out.ndjson
	screen=$(last session.screen)
	assert_equal "$(jq -c '.lines[0:3]' <<<"$screen")" '["alpha","beta","~"]'
	assert_regex "$(jq -r '.lines[9]' <<<"$screen")" 'f.txt'
	assert_equal "$(jq -c '[.cols, .rows]' <<<"$screen")" '[40,10]'
	assert_equal "$(cat f.txt)" "$(printf 'alpha\nbeta\ngamma')"
}

@test "resize: stty size inside sees it, the session row and the cast too" {
	run pty --cast c.cast -- bash --norc --noprofile -i <<EOF
$PROMPT
{"type":"input","data":"stty size\n"}
{"type":"wait","for":"24 80"}
{"type":"resize","cols":100,"rows":30}
{"type":"input","data":"stty size\n"}
{"type":"wait","for":"30 100"}
$PROMPT
{"type":"screen"}
{"type":"input","data":"exit\n"}
EOF
	assert_success
	assert_equal "$(last session.screen | jq -c '[.cols, .rows, (.lines | length)]')" '[100,30,30]'
	id=$(last session.exit | jq -r .id)
	assert_equal "$(db "SELECT cols, rows, state, exit_code FROM ws_sessions WHERE id = '$id'")" "100|30|exited|0"
	assert_equal "$(jq -c 'select(.[1] == "r")' c.cast)" "$(printf '%s' '[' "$(jq -c 'select(.[1] == "r") | .[0]' c.cast)" ',"r","100x30"]')"
}

@test "C-c interrupts sleep 100 at once" {
	start=$(date +%s)
	run pty -- bash --norc --noprofile -i <<EOF
$PROMPT
{"type":"input","data":"sh -c 'echo go; exec sleep 100'\n"}
{"type":"wait","for":"\rgo\r"}
{"type":"keys","keys":["C-c"]}
$PROMPT
{"type":"input","data":"echo status \$?\n"}
{"type":"wait","for":"status 130"}
{"type":"input","data":"exit 0\n"}
EOF
	assert_success
	[ $(($(date +%s) - start)) -lt 10 ]
	data | grep -q '\^C'
}

@test "signal: INT to the foreground program, by name" {
	run pty -- bash --norc --noprofile -i <<EOF
$PROMPT
{"type":"input","data":"sh -c 'echo go; exec sleep 100'\n"}
{"type":"wait","for":"\rgo\r"}
{"type":"signal","name":"INT"}
$PROMPT
{"type":"input","data":"echo status \$?\n"}
{"type":"wait","for":"status 130"}
{"type":"input","data":"exit 4\n"}
EOF
	assert_failure 4
}

@test "stopped from outside: the program is hung up, killed 2 s later if it ignores SIGHUP" {
	mkfifo in
	timeout 20 ws-pty -- sh -c 'trap "" HUP; echo ready; exec sleep 100' <in > >(cat >out.ndjson) 2>err 3>&- &
	pid=$!
	exec 7>in
	until grep -q ready out.ndjson 2>/dev/null; do sleep 0.05; done
	start=$(date +%s%N)
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	exec 7>&-
	settle
	took=$((($(date +%s%N) - start) / 1000000))
	assert_equal "$rc" 137
	[ "$took" -ge 1900 ] && [ "$took" -lt 8000 ]
	assert_equal "$(last session.exit | jq -c '[.exit_code, .signal]')" '[137,"KILL"]'
	id=$(last session.exit | jq -r .id)
	assert_equal "$(db "SELECT state, signal FROM ws_sessions WHERE id = '$id'")" "killed|KILL"
}

@test "stopped from outside: a program that takes the hang-up ends at once" {
	mkfifo in
	timeout 20 ws-pty -- sh -c 'echo ready; exec sleep 100' <in > >(cat >out.ndjson) 2>err 3>&- &
	pid=$!
	exec 7>in
	until grep -q ready out.ndjson 2>/dev/null; do sleep 0.05; done
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	exec 7>&-
	settle
	assert_equal "$rc" 129
	assert_equal "$(last session.exit | jq -r .signal)" HUP
}

@test "output: a character split between two reads stays whole; bytes that are not UTF-8 become U+FFFD" {
	run pty -- sh -c 'printf "\303"; sleep 0.3; printf "\251\n"; sleep 0.3; printf "a\377b\n"' </dev/null
	assert_success
	valid <out.ndjson
	assert_equal "$(jq -c 'select(.type == "session.output") | .data' out.ndjson)" "$(printf '"é\\r\\n"\n"a\357\277\275b\\r\\n"')"
	assert_equal "$(data)" "$(printf 'é\r\na\357\277\275b\r')"
	assert_equal "$(jq -c 'select(.invalid) | .invalid' out.ndjson)" 1
}

@test "output: its size and SHA-256 in session.exit are those of the bytes written" {
	run pty -- printf 'abc\n' </dev/null
	assert_success
	assert_equal "$(last session.exit | jq -c '[.output_bytes, .output_sha256]')" \
	    "[5,\"$(printf 'abc\r\n' | sha256sum | cut -d' ' -f1)\"]"
}

@test "--cast: an asciicast v2 that asciinema cat plays and that parses" {
	run pty --cast c.cast --cols 90 --rows 20 -- bash --norc --noprofile -i <<EOF
$PROMPT
{"type":"input","data":"echo cast\$((1+1))\n"}
{"type":"wait","for":"cast2"}
{"type":"input","data":"exit\n"}
EOF
	assert_success
	head -n 1 c.cast | jq -e '.version == 2 and .width == 90 and .height == 20 and (.timestamp | type) == "number" and .env.TERM == "xterm-256color"'
	tail -n +2 c.cast | jq -e -s 'all(.[]; length == 3 and (.[0] | type) == "number" and (.[1] == "o" or .[1] == "i" or .[1] == "r") and (.[2] | type) == "string")'
	tail -n +2 c.cast | jq -e -s '[.[][0]] == ([.[][0]] | sort)'
	assert_equal "$(tail -n +2 c.cast | jq -r 'select(.[1] == "i") | .[2]' | head -n 1)" 'echo cast$((1+1))'
	script -qc "asciinema cat c.cast" /dev/null </dev/null >played
	grep -q cast2 played
	assert_equal "$(last session.exit | jq -r .cast_sha256)" "$(sha256sum c.cast | cut -d' ' -f1)"
}

@test "the session and its transcript in the state file" {
	run pty -- bash --norc --noprofile -i <<EOF
$PROMPT
{"type":"input","data":"echo on\"\"e\n"}
{"type":"wait","for":"one\r\n"}
{"type":"input","data":"exit\n"}
EOF
	assert_success
	id=$(last session.exit | jq -r .id)
	assert_equal "$(db "SELECT kind, state, exit_code, json_extract(argv, '\$[0]'), holder_pid IS NOT NULL, pid IS NOT NULL, ended IS NOT NULL FROM ws_sessions WHERE id = '$id'")" "terminal|exited|0|bash|1|1|1"
	assert_equal "$(db "SELECT group_concat(json_extract(record, '\$.type'), ' ') FROM (SELECT record FROM ws_events WHERE session_id = '$id' AND kind = 'input' ORDER BY seq)")" \
	    "wait input wait input"
	assert_equal "$(db "SELECT count(*) FROM ws_events a JOIN ws_events b ON b.session_id = a.session_id AND b.seq = a.seq + 1 WHERE a.session_id = '$id' AND a.kind = 'output' AND b.kind = 'output'")" 0
	db "SELECT data FROM ws_events WHERE session_id = '$id' AND kind = 'output'" | grep -q $'one\r$'
	assert_equal "$(db "SELECT count(*) FROM ws_events WHERE session_id = '$id' AND kind = 'output' AND length(sha256) = 64")" \
	    "$(db "SELECT count(*) FROM ws_events WHERE session_id = '$id' AND kind = 'output'")"
	assert_equal "$(db "SELECT sum(bytes) FROM ws_events WHERE session_id = '$id'")" "$(last session.exit | jq .output_bytes)"
}

@test "audit: the start, every input with the output before it, and the end with the cast's hash" {
	run pty --cast c.cast -- bash --norc --noprofile -i <<EOF
$PROMPT
{"type":"input","data":"exit 0\n"}
EOF
	assert_success
	id=$(last session.exit | jq -r .id)
	audit-export --format ndjson -o - >audit.ndjson
	assert_equal "$(jq -r "select(.record.id == \"$id\") | .record.type" audit.ndjson | tr '\n' ' ')" \
	    "session.start session.input session.input session.exit "
	assert_equal "$(jq -r "select(.record.type == \"session.input\") | .record.record.type" audit.ndjson | tr '\n' ' ')" "wait input "
	assert_equal "$(jq -r 'select(.record.type == "session.exit") | .record.cast_sha256' audit.ndjson)" "$(sha256sum c.cast | cut -d' ' -f1)"
	jq -c 'select(.record.type == "session.input") | .record.output_sha256' audit.ndjson | grep -qv '"e3b0c442'
}

@test "--no-audit: nothing in the audit log" {
	run pty --no-audit -- true </dev/null
	assert_success
	assert_equal "$(db 'SELECT count(*) FROM audit_events')" 0
}

@test "interactive on a terminal: raw while it runs, the terminal as it was after" {
	command -v script >/dev/null || skip "no script(1)"
	script -qec 'stty -g; ws-pty --cast c.cast -- sh -c "stty size; echo hello; exit 2"; echo "rc=$?"; stty -g' /dev/null </dev/null >typescript
	sed -n 1p typescript | tr -d '\r' >before
	grep -q hello typescript
	grep -q 'rc=2' typescript
	tail -n 1 typescript | tr -d '\r' >after
	diff before after
	tail -n +2 c.cast | jq -r 'select(.[1] == "o") | .[2]' | grep -q hello
}

@test "failures: bad records are reported, skipped and counted (65), the rest goes on" {
	run pty -- bash --norc --noprofile -i <<EOF
$PROMPT
not json
{"type":"keys","keys":["C-c","Nope"]}
{"type":"wait","for":"(("}
{"type":"bogus"}
{"type":"resize","cols":0,"rows":10}
{"type":"signal","name":"NOPE"}
{"data":"x"}
{"type":"input","data":"exit 0\n"}
EOF
	assert_failure 65
	valid <out.ndjson
	assert_equal "$(jq -r 'select(.type == "session.error") | "\(.line): \(.error)"' out.ndjson)" "$(cat <<'EOF'
3: keys: unknown key "Nope"
4: wait: bad regular expression "((": Unmatched ( or \(
5: unknown record type "bogus"
6: resize: "cols" and "rows" must be whole numbers from 1 to 1000
7: signal: unknown signal "NOPE"
8: no "type"
EOF
)"
	grep -q '^ws-pty: <stdin>:2: invalid JSON' err
	grep -q '^ws-pty: <stdin>:3: keys: unknown key "Nope"$' err
	assert_equal "$(last session.exit | jq .exit_code)" 0
}

@test "failures: a wait that times out is an error record and status 75, the rest goes on" {
	run pty -- bash --norc --noprofile -i <<EOF
$PROMPT
{"type":"wait","for":"never","timeout":"300ms"}
{"type":"input","data":"exit 0\n"}
EOF
	assert_failure 75
	assert_equal "$(jq -c 'select(.type == "session.error") | [.line, .error]' out.ndjson)" '[2,"wait: \"never\" did not come in time"]'
	grep -q '^ws-pty: <stdin>:2: wait: "never" did not come in time$' err
	assert_equal "$(last session.exit | jq .exit_code)" 0
}

@test "failures: a command not found is 127, one that cannot run 126, both recorded" {
	run -127 --separate-stderr ws-pty -- no-such-command </dev/null
	assert_failure 127
	assert_equal "$stderr" 'ws-pty: "no-such-command": command not found'
	assert_equal "$(jq -c '[.type, .exit_code]' <<<"$output")" '["session.exit",127]'
	printf 'x' >notexec
	run --separate-stderr ws-pty -- ./notexec </dev/null
	assert_failure 126
	assert_regex "$stderr" '^ws-pty: "./notexec": cannot run: Permission denied$'
	assert_equal "$(db "SELECT group_concat(exit_code) FROM ws_sessions")" "127,126"
}

@test "usage: no command, a bad size" {
	run --separate-stderr ws-pty
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'ws-pty: no command'
	run --separate-stderr ws-pty --cols 0 -- true
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'ws-pty: --cols: "0" is not a whole number from 1 to 1000'
}

@test "after the program ends: screen and wait still done, other records refused, a pending wait fails (75)" {
	# The first wait holds the rest back until the program has ended.
	run pty --rows 3 -- sh -c 'echo last words' <<'EOF'
{"type":"wait","for":"never"}
{"type":"wait","for":"last words"}
{"type":"screen"}
{"type":"input","data":"too late\n"}
EOF
	assert_failure 75
	assert_equal "$(last session.screen | jq -c .lines)" '["last words","",""]'
	assert_equal "$(jq -c 'select(.type == "session.error") | [.line, .error]' out.ndjson)" "$(printf '%s\n' \
	    '[1,"wait: \"never\" did not come before the program ended"]' '[4,"\"input\": the program has ended"]')"
}

@test "a wait with no output at all times out on its own" {
	run pty -- sleep 2 <<'EOF'
{"type":"wait","for":"never","timeout":"200ms"}
EOF
	assert_failure 75
	assert_equal "$(jq -c 'select(.type == "session.error") | [.line, .error]' out.ndjson)" '[1,"wait: \"never\" did not come in time"]'
}

# pending: the id of the one pending approval request, once there is one.
pending() {
	for _ in $(seq 200); do
		id=$(ws-approve --format ndjson list | jq -r .id)
		[ -n "$id" ] && { echo "$id"; return; }
		sleep 0.05
	done
}

@test "approval required: approved, it is typed; denied, it is recorded and skipped (77)" {
	mkfifo in
	ws-pty -- bash --norc --noprofile -i <in > >(cat >out.ndjson) 2>err 3>&- &
	pid=$!
	exec 7>in
	echo "$PROMPT" >&7
	echo '{"type":"input","data":"echo y$((1+1))\n","approval":"required"}' >&7
	req=$(pending)
	[ -n "$req" ]
	assert_equal "$(ws-approve --format ndjson show "$req" | jq -c '[.requester, .details.data]')" '["ws-pty","echo y$((1+1))\n"]'
	ws-approve approve "$req" >/dev/null
	echo '{"type":"wait","for":"y2\r\n"}' >&7
	echo '{"type":"input","data":"echo n$((1+1))\n","approval":"required"}' >&7
	req2=$(pending)
	ws-approve deny "$req2" --reason 'not now' >/dev/null
	echo '{"type":"input","data":"exit 0\n"}' >&7
	exec 7>&-
	wait "$pid" || rc=$?
	settle
	assert_equal "$rc" 77
	valid <out.ndjson
	data | grep -q $'y2\r'
	! data | grep -q 'n\$((1+1))'
	assert_regex "$(jq -r 'select(.type == "session.error") | .error' out.ndjson)" "^approval $req2: denied by .+: not now\$"
	id=$(last session.exit | jq -r .id)
	assert_equal "$(db "SELECT json_extract(record, '\$.data') FROM ws_events WHERE session_id = '$id' AND kind = 'denied'")" 'echo n$((1+1))'
}

@test "approval required: no answer within --approval-timeout is 75, the request withdrawn" {
	run pty --approval-timeout 200ms -- sh -c 'read x; echo "got $x"' <<'EOF'
{"type":"input","data":"secret\n","approval":"required"}
{"type":"input","data":"plain\n"}
EOF
	assert_failure 75
	data | grep -q 'got plain'
	assert_regex "$(jq -r 'select(.type == "session.error") | .error' out.ndjson)" '^approval [0-9A-Z]{26}: no answer in time$'
	assert_equal "$(ws-approve --format ndjson list --all | jq -r .status)" withdrawn
}

# policy: a policy for terminal lines: sudo denied, rm -rf asked about,
# the rest allowed.
policy() {
	cat >policy.json <<-'JSON'
	{"default": "allow", "rules": [
	 {"label": "no sudo", "tool": "ws-pty/input",
	  "where": ".args.line | test(\"^\\\\s*sudo\\\\b\")", "decision": "deny"},
	 {"label": "ask before rm -rf", "tool": "ws-pty/input",
	  "where": ".args.line | test(\"\\\\brm\\\\s+-(\\\\w*[rR]\\\\w*f|\\\\w*f\\\\w*[rR])\")",
	  "decision": "ask"}]}
	JSON
}

@test "--policy: each line decided: sudo denied (77) and skipped, rm -rf waits for approval, echo allowed" {
	policy
	touch victim
	mkfifo in
	ws-pty --policy policy.json -- bash --norc --noprofile -i <in > >(cat >out.ndjson) 2>err 3>&- &
	pid=$!
	exec 7>in
	echo "$PROMPT" >&7
	echo '{"type":"input","data":"echo a$((1+1))\nsudo true; echo b$((1+1))\n"}' >&7
	echo '{"type":"input","data":"echo c$((1+1))\n"}' >&7
	echo '{"type":"wait","for":"c2\r\n"}' >&7
	echo '{"type":"input","data":"rm -rf victim; echo d$((1+1))\n"}' >&7
	req=$(pending)
	[ -n "$req" ]
	assert_equal "$(ws-approve --format ndjson show "$req" | jq -c '[.requester, .details.data]')" '["ws-pty","rm -rf victim; echo d$((1+1))\n"]'
	ws-approve approve "$req" >/dev/null
	echo '{"type":"wait","for":"d2\r\n"}' >&7
	echo '{"type":"input","data":"exit 0\n"}' >&7
	exec 7>&-
	wait "$pid" || rc=$?
	settle
	assert_equal "$rc" 77
	valid <out.ndjson
	# The record with a denied line is skipped whole; the others typed.
	! data | grep -q 'a2'
	data | grep -q $'c2\r'
	data | grep -q $'d2\r'
	[ ! -e victim ]
	assert_equal "$(jq -c 'select(.type == "session.error") | [.line, .status, .error]' out.ndjson)" \
	    '[2,77,"policy: \"sudo true; echo b$((1+1))\" denied: rule \"no sudo\" denies"]'
	assert_equal "$(cat err)" 'ws-pty: <stdin>:2: policy: "sudo true; echo b$((1+1))" denied: rule "no sudo" denies'
	id=$(last session.exit | jq -r .id)
	assert_equal "$(db "SELECT kind FROM ws_events WHERE session_id = '$id' AND record IS NOT NULL ORDER BY seq" | tr '\n' ' ')" \
	    "input denied input input input input input "
}

@test "--policy: an ask not answered in time is 75; a policy that does not load is 78, a missing one 66" {
	policy
	run pty --policy policy.json --approval-timeout 200ms -- sh -c 'read x; echo "got $x"' <<'EOF'
{"type":"input","data":"rm -fr /nothing\n"}
{"type":"input","data":"plain\n"}
EOF
	assert_failure 75
	data | grep -q 'got plain'
	assert_equal "$(ws-approve --format ndjson list --all | jq -r .status)" withdrawn
	echo '{"rules": [{"decision": "maybe"}]}' >bad.json
	run --separate-stderr ws-pty --policy bad.json -- true
	assert_failure 78
	assert_equal "$stderr" "$(printf '%s\n' 'ws-pty: bad.json:1: rules[0]: decision: expected "allow", "deny" or "ask"' 'ws-pty: bad.json: the policy does not load')"
	run --separate-stderr ws-pty --policy missing.json -- true
	assert_failure 66
	assert_equal "$stderr" 'ws-pty: missing.json: No such file or directory'
}

# detached ARGS...: a session left to a holder (ws-pty --detach), its
# sockets under a runtime directory of the test's own; its record in
# detached.json, its id in ID, its holder's pid in HOLDER.
detached() {
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/run
	mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
	timeout 20 ws-pty --detach "$@" >detached.json 3>&-
	ID=$(jq -r .id detached.json)
	HOLDER=$(jq -r .holder_pid detached.json)
}

# attach: ws-pty --session ID fed by the records on standard input, its
# records in out.ndjson and its stderr in err.
attach() {
	timeout 20 ws-pty --session "$ID" >out.ndjson 2>err
}

teardown() {
	if [ -n "${HOLDER:-}" ]; then
		kill -9 "$HOLDER" 2>/dev/null || true
	fi
}

@test "--detach: a holder listens on a socket of mode 0600 in a directory of mode 0700; the session record is printed" {
	detached -- bash --norc --noprofile -i
	valid <detached.json
	assert_equal "$(jq -c '[.type, .state, .kind, .argv[0]]' detached.json)" '["session","detached","terminal","bash"]'
	sock=$(jq -r .socket detached.json)
	assert_equal "$sock" "$XDG_RUNTIME_DIR/agentutils/$ID"
	assert_equal "$(stat -c '%F %a' "$sock")" "socket 600"
	assert_equal "$(stat -c %a "$XDG_RUNTIME_DIR/agentutils")" 700
	# The holder is in a session of its own without a terminal, and
	# writes to /dev/null.
	[ "$(ps -o sess= -p "$HOLDER")" != "$(ps -o sess= -p $$)" ]
	assert_equal "$(ps -o tty= -p "$HOLDER" | tr -d ' ')" "?"
	assert_equal "$(readlink /proc/"$HOLDER"/fd/1)" /dev/null
	assert_equal "$(readlink /proc/"$HOLDER"/fd/2)" /dev/null
	assert_equal "$(db "SELECT state, holder_pid FROM ws_sessions")" "detached|$HOLDER"
}

@test "--session: attach, send and read; re-attach finds the same shell; the end comes to the one attached" {
	detached -- bash --norc --noprofile -i
	run attach <<-EOF
	$PROMPT
	{"type":"input","data":"x=\$((6*7)); echo sum \$x\n"}
	{"type":"wait","for":"sum 42"}
	EOF
	assert_success
	valid <out.ndjson
	data | grep -q $'sum 42\r'
	assert_equal "$(jq -r .id out.ndjson | sort -u)" "$ID"
	# Again: the variable is still set.
	run attach <<-EOF
	{"type":"input","data":"echo again \$x\n"}
	{"type":"wait","for":"again 42"}
	$PROMPT
	{"type":"screen"}
	EOF
	assert_success
	valid <out.ndjson
	assert_equal "$(last session.screen | jq -r '.lines[1, 3]')" "$(printf 'sum 42\nagain 42')"
	# The end: the session.exit record, then the attach ends with the
	# program's status, its own input still open.
	mkfifo in
	timeout 20 ws-pty --session "$ID" <in >out.ndjson 2>err 3>&- &
	pid=$!
	exec 7>in
	echo '{"type":"input","data":"exit 3\n"}' >&7
	wait "$pid" || rc=$?
	exec 7>&-
	assert_equal "${rc:-0}" 3
	valid <out.ndjson
	assert_equal "$(last session.exit | jq -c '[.id, .exit_code]')" "[\"$ID\",3]"
	assert_equal "$(db "SELECT state, exit_code FROM ws_sessions")" "exited|3"
	# The holder has gone, and its socket with it.
	ended "$HOLDER"
	[ ! -e "$(jq -r .socket detached.json)" ]
	# The transcript holds the inputs of all three attaches.
	assert_equal "$(ws-session transcript "$ID" | jq -r 'select(.kind == "input") | .record.type' | sort | uniq -c | tr -s ' ')" \
	    "$(printf ' 3 input\n 1 screen\n 4 wait')"
	run --separate-stderr ws-pty --session "$ID" </dev/null
	assert_failure 69
	assert_equal "$stderr" "ws-pty: session $ID has ended (exited)"
}

@test "--session: a second attach while one is attached is refused (75), the first goes on" {
	detached -- bash --norc --noprofile -i
	mkfifo in
	timeout 20 ws-pty --session "$ID" <in > >(cat >first.ndjson) 2>err 3>&- &
	pid=$!
	exec 7>in
	echo "$PROMPT" >&7
	echo '{"type":"input","data":"echo on\"\"e\n"}' >&7
	until grep -q 'one' first.ndjson 2>/dev/null; do sleep 0.05; done
	run attach <<<'{"type":"screen"}'
	assert_failure 75
	valid <out.ndjson
	assert_equal "$(jq -c '[.type, .status, .error]' out.ndjson)" '["session.error",75,"the session is attached elsewhere"]'
	echo '{"type":"input","data":"echo tw\"\"o\n"}' >&7
	echo '{"type":"wait","for":"two"}' >&7
	exec 7>&-
	wait "$pid"
	for _ in $(seq 100); do
		grep -q 'two' first.ndjson && break
		sleep 0.05
	done
	grep -q 'two' first.ndjson
}

@test "--session: a holder killed -9 is found dead (69), its socket cleared; ws-session lists it dead" {
	detached -- sleep 100
	prog=$(jq -r .pid detached.json)
	kill -9 "$HOLDER"
	ended "$HOLDER"
	run attach <<<'{"type":"screen"}'
	assert_failure 69
	assert_equal "$(cat err)" "ws-pty: session $ID: its holder is gone; marked dead"
	assert_equal "$(cat out.ndjson)" ""
	[ ! -e "$(jq -r .socket detached.json)" ]
	assert_equal "$(ws-session list | jq -r .state)" dead
	# Its terminal closed with the holder: the program was hung up.
	ended "$prog"
	run --separate-stderr ws-pty --session "$ID" </dev/null
	assert_failure 69
	assert_equal "$stderr" "ws-pty: session $ID has ended (dead)"
}

@test "ws-session kill: the holder of a detached session hangs its program up and records it killed" {
	detached -- sleep 100
	run ws-session kill "$ID"
	assert_success
	assert_equal "$(jq -c '[.state, .signal, .exit_code]' <<<"$output")" '["killed","HUP",129]'
	ended "$HOLDER"
	[ ! -e "$(jq -r .socket detached.json)" ]
}

@test "--detach: a command not found is 127; --session: no such session 66, one not detached 69, usage 64" {
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/run
	mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
	run -127 --separate-stderr ws-pty --detach -- no-such-command
	assert_failure 127
	assert_equal "$stderr" 'ws-pty: "no-such-command": command not found'
	assert_equal "$output" ""
	run --separate-stderr ws-pty --session 01AAAAAAAAAAAAAAAAAAAAAAAA </dev/null
	assert_failure 66
	assert_equal "$stderr" 'ws-pty: no session "01AAAAAAAAAAAAAAAAAAAAAAAA"'
	mkfifo in
	ws-pty -- sleep 100 <in >/dev/null 2>&1 3>&- &
	pid=$!
	exec 7>in
	for _ in $(seq 100); do
		ID=$(db "SELECT id FROM ws_sessions WHERE state = 'running'")
		[ -n "$ID" ] && break
		sleep 0.05
	done
	run --separate-stderr ws-pty --session "$ID" </dev/null
	assert_failure 69
	assert_equal "$stderr" "ws-pty: session $ID is not detached"
	kill -TERM "$pid"
	exec 7>&-
	wait "$pid" || true
	run --separate-stderr ws-pty --session "$ID" -- true
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'ws-pty: --session takes no command, --detach or --policy'
}

@test "--detach --policy: the holder decides; a denied line is 77 for the client attached" {
	policy
	detached --policy policy.json -- bash --norc --noprofile -i
	run attach <<-EOF
	$PROMPT
	{"type":"input","data":"sudo id\n"}
	{"type":"input","data":"echo fin\"\"e\n"}
	{"type":"wait","for":"fine\r\n"}
	EOF
	assert_failure 77
	valid <out.ndjson
	assert_equal "$(jq -c 'select(.type == "session.error") | [.line, .status]' out.ndjson)" '[2,77]'
	assert_equal "$(jq -r 'select(.type == "session.output") | .data' out.ndjson | grep -c sudo)" 0
}
