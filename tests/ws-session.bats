#!/usr/bin/env bats
# ws-session: the sessions ws-pty leaves in the state file listed and
# shown (records and a table), a transcript read back, a running session
# killed (its holder ends it; one that does not is SIGKILLed after
# --grace), a holder killed -9 found dead, the ended ones cleared away,
# file sessions opened, listed, closed and cleared away (never reaped),
# and the failure paths.

load helper

PROMPT='{"type":"wait","for":"[$#] $"}'

# session ARGS...: a ws-pty session that has ended; its id on stdout.
session() {
	ws-pty "$@" 2>/dev/null | jq -r 'select(.type == "session.exit") | .id'
}

# running: a ws-pty session of bash in the background, fed from the fifo
# in (held open on fd 7), its records in out.ndjson; PTY holds its pid.
# Waits until the session is in the state file and bash has prompted.
running() {
	mkfifo in
	ws-pty -- bash --norc --noprofile -i <in > >(cat >out.ndjson) 2>err 3>&- &
	PTY=$!
	exec 7>in
	echo "$PROMPT" >&7
	echo '{"type":"input","data":"echo rea\"\"dy\n"}' >&7
	for _ in $(seq 200); do
		grep -q 'ready' out.ndjson 2>/dev/null && break
		sleep 0.05
	done
	ID=$(db "SELECT id FROM ws_sessions WHERE state = 'running'")
}

@test "list and show: every session as a record, a table on request" {
	a=$(session -- sh -c 'exit 2' </dev/null)
	b=$(session --cols 100 -- true </dev/null)
	run --separate-stderr ws-session list
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -r .id <<<"$output" | tr '\n' ' ')" "$a $b "
	assert_equal "$(jq -c '[.kind, .state, .exit_code, .argv]' <<<"${lines[0]}")" '["terminal","exited",2,["sh","-c","exit 2"]]'
	run ws-session show "$b"
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.id, .cols, .rows, .cwd]' <<<"$output")" "[\"$b\",100,24,\"$PWD\"]"
	run ws-session --format table list
	assert_line --index 0 --regexp "^$a  terminal  exited    2     [0-9T:.-]+Z  sh -c exit 2\$"
	assert_line --index 1 --regexp "^$b  terminal  exited    0 .* true\$"
}

@test "transcript: inputs and the output between them, as records and as text" {
	id=$(session -- bash --norc --noprofile -i <<EOF
$PROMPT
{"type":"input","data":"echo on\"\"e\n"}
{"type":"wait","for":"one\r\n"}
{"type":"input","data":"exit\n"}
EOF
)
	run ws-session transcript "$id"
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -r 'select(.kind == "input") | .record.type' <<<"$output" | tr '\n' ' ')" "wait input wait input "
	assert_equal "$(jq -s '[.[].seq] == ([range(1; length + 1)])' <<<"$output")" true
	assert_equal "$(jq -s '[.[] | select(.kind == "output") | .bytes] | add' <<<"$output")" \
	    "$(db "SELECT sum(bytes) FROM ws_events WHERE session_id = '$id'")"
	run ws-session --format table transcript "$id"
	assert_line --regexp '^[0-9T:.-]+Z > \{"type":"input","data":"echo on\\"\\"e\\n"\}$'
	assert_line --partial $'\rone\r'
}

@test "kill: the holder hangs the program up and records it killed; a second kill is 1" {
	running
	[ -n "$ID" ]
	run ws-session kill "$ID"
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.state, .exit_code, .signal]' <<<"$output")" '["killed",129,"HUP"]'
	wait "$PTY" || rc=$?
	exec 7>&-
	assert_equal "$rc" 129
	run --separate-stderr ws-session kill "$ID"
	assert_failure 1
	assert_equal "$stderr" "ws-session: session $ID has been killed already"
}

@test "kill: a holder that does not end the session is SIGKILLed after --grace" {
	# A stand-in holder that ignores SIGTERM, and its "program".
	sh -c 'trap "" TERM; exec sleep 100' 3>&- &
	holder=$!
	setsid sleep 100 3>&- &
	prog=$!
	ws-pty -- true </dev/null >/dev/null
	db "UPDATE ws_sessions SET state = 'running', holder_pid = $holder, pid = $prog, ended = NULL"
	id=$(db "SELECT id FROM ws_sessions")
	start=$(date +%s%N)
	run ws-session --grace 300ms kill "$id"
	took=$((($(date +%s%N) - start) / 1000000))
	assert_success
	assert_equal "$(jq -c '[.state, .exit_code, .signal]' <<<"$output")" '["killed",137,"KILL"]'
	[ "$took" -ge 300 ] && [ "$took" -lt 3000 ]
	wait "$holder" || hrc=$?
	assert_equal "$hrc" 137
	sleep 0.1
	! kill -0 "$prog" 2>/dev/null
}

@test "a holder killed -9 is found dead, and its program hung up" {
	running
	[ -n "$ID" ]
	bash_pid=$(db "SELECT pid FROM ws_sessions WHERE id = '$ID'")
	kill -9 "$PTY"
	wait "$PTY" || true
	exec 7>&-
	run ws-session show "$ID"
	assert_success
	assert_equal "$(jq -r .state <<<"$output")" dead
	jq -e '.ended' <<<"$output" >/dev/null
	for _ in $(seq 40); do
		kill -0 "$bash_pid" 2>/dev/null || break
		sleep 0.05
	done
	! kill -0 "$bash_pid" 2>/dev/null
}

@test "gc: the ended sessions and their transcripts go, the running one stays" {
	session -- true </dev/null >/dev/null
	session -- sh -c 'echo x' </dev/null >/dev/null
	running
	run ws-session gc
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.sessions, .dead]' <<<"$output")" '[2,0]'
	assert_equal "$(db 'SELECT count(*) FROM ws_sessions')" 1
	assert_equal "$(db "SELECT count(*) FROM ws_events WHERE session_id != '$ID'")" 0
	echo '{"type":"input","data":"exit\n"}' >&7
	exec 7>&-
	wait "$PTY"
	run ws-session --format table gc
	assert_output '1 sessions removed (0 found dead)'
}

@test "open file: a session on a directory's real path, shown and listed with its root" {
	mkdir -p ws/sub
	ln -s ws link
	run --separate-stderr ws-session open file link/sub
	assert_success
	echo "$output" | valid
	id=$(jq -r .id <<<"$output")
	assert_equal "$(jq -c '[.kind, .state, .root, .cwd, .holder_pid, .ended]' <<<"$output")" \
	    "[\"file\",\"open\",\"$(cd ws/sub && pwd -P)\",\"$PWD\",null,null]"
	run ws-session show "$id"
	assert_success
	assert_equal "$(jq -r .root <<<"$output")" "$(cd ws/sub && pwd -P)"
	run ws-session --format table list
	assert_output --regexp "^$id  file      open      -     [0-9T:.-]+Z  $(cd ws/sub && pwd -P)\$"
	# No holder, and never found dead for it.
	run ws-session gc
	assert_equal "$(jq -c '[.sessions, .dead]' <<<"$output")" '[0,0]'
	assert_equal "$(ws-session show "$id" | jq -r .state)" open
}

@test "kill closes a file session (no process to signal); a second kill is 1; gc removes it" {
	mkdir ws
	id=$(ws-session open file ws | jq -r .id)
	run --separate-stderr ws-session kill "$id"
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.state, .exit_code, .signal]' <<<"$output")" '["closed",null,null]'
	jq -e .ended <<<"$output" >/dev/null
	run --separate-stderr ws-session kill "$id"
	assert_failure 1
	assert_equal "$stderr" "ws-session: session $id has been closed already"
	open=$(ws-session open file ws | jq -r .id)
	run ws-session gc
	assert_success
	assert_equal "$(jq -c '[.sessions, .dead]' <<<"$output")" '[1,0]'
	assert_equal "$(ws-session list | jq -r .id)" "$open"
	assert [ -d ws ]
}

@test "open: a directory that is missing or not one is 66; a kind other than file, or operands missing, 64" {
	touch plain
	run --separate-stderr ws-session open file nowhere
	assert_failure 66
	assert_equal "$stderr" 'ws-session: "nowhere": No such file or directory'
	run --separate-stderr ws-session open file plain
	assert_failure 66
	assert_equal "$stderr" 'ws-session: "plain": Not a directory'
	run --separate-stderr ws-session open terminal .
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'ws-session: open: "terminal": only file sessions are opened here'
	run --separate-stderr ws-session open file
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'ws-session: open: needs a kind and a directory'
	run --separate-stderr ws-session open file . more
	assert_failure 64
	assert_equal "$(ws-session list)" ""
}

@test "failures: no such session 66, usage 64" {
	run --separate-stderr ws-session show 01M8RVPHEM10XTM5J7SA6ZVWRT
	assert_failure 66
	assert_equal "$stderr" 'ws-session: no session "01M8RVPHEM10XTM5J7SA6ZVWRT"'
	run --separate-stderr ws-session transcript nope
	assert_failure 66
	run --separate-stderr ws-session kill nope
	assert_failure 66
	run --separate-stderr ws-session
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'ws-session: no command'
	run --separate-stderr ws-session frob
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'ws-session: unknown command "frob"'
	run --separate-stderr ws-session show
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'ws-session: show: needs one session id'
	run --separate-stderr ws-session list extra
	assert_failure 64
}
