# helper.bash - loaded by every bats suite: the built programs first on
# PATH, a home, state and configuration of the test's own, bats-assert,
# and small helpers for golden files and record checks.

bats_require_minimum_version 1.5.0

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
: "${AU_BIN:=$TOP/build/bin}"
PATH=$AU_BIN:$PATH
export TOP AU_BIN PATH

# home: a home, state and configuration of the test's own, with audit
# keys, the current directory the test's; what setup() does, for a
# suite's own setup() to begin with.
home() {
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_STATE_HOME=$HOME/.local/state
	export XDG_CONFIG_HOME=$HOME/.config
	unset AGENTUTILS_DB AGENTUTILS_BUSY_TIMEOUT
	mkdir -p "$HOME"
	cd "$BATS_TEST_TMPDIR" || return
	# The audit keys a user makes once: aw-sched audits every
	# transition with them.  A suite about the keys themselves removes
	# them (nokeys).
	audit-write --init
}

setup() {
	home
}

# nokeys: a home without audit keys.
nokeys() {
	rm -rf "$XDG_CONFIG_HOME/agentutils"
}

# golden NAME: compare standard input with tests/golden/NAME.
golden() {
	diff -u "$TOP/tests/golden/$1" -
}

# valid: every record on standard input validates against its schema.
valid() {
	"$TOP/tests/validate"
}

# norm: hide what changes from run to run (ids, times) in records.
norm() {
	sed -e 's/"\(id\|run_id\)":"[0-7][0-9A-HJKMNP-TV-Z]\{25\}"/"\1":"ULID"/g' \
	    -e 's/"ts":"[^"]*"/"ts":"TS"/g' \
	    -e 's/digraph "[0-7][0-9A-HJKMNP-TV-Z]\{25\}"/digraph "ULID"/'
}

# db SQL: run SQL on the default state file of the test.
db() {
	sqlite3 "$XDG_STATE_HOME/agentutils/state.db" "$@"
}

# http_server [OPTION...]: tests/mcp/server.py over Streamable HTTP in
# the background (its stderr in server.err), and mcp.json with the
# server h at its URL, its headers $HEADERS (default none); http_stop
# stops it, for a suite's teardown.
http_server() {
	rm -f port
	python3 "$TOP/tests/mcp/server.py" --http port "$@" 2>server.err 3>&- &
	HTTPD=$!
	until [ -s port ]; do sleep 0.05; done
	mkdir -p "$XDG_CONFIG_HOME/agentutils"
	printf '{"mcpServers": {"h": {"url": "http://127.0.0.1:%s/mcp", "headers": %s}}}\n' \
	    "$(cat port)" "${HEADERS:-{\}}" >"$XDG_CONFIG_HOME/agentutils/mcp.json"
}

http_stop() {
	[ -z "${HTTPD:-}" ] || kill "$HTTPD"
	HTTPD=
}

# needs_firejail: skip, saying why, where firejail cannot run.
needs_firejail() {
	command -v firejail >/dev/null ||
	    skip "firejail is not installed (make deps installs it)"
	firejail --quiet --noprofile true 2>/dev/null ||
	    skip "firejail cannot make a sandbox here"
}

# ended PID: until process PID, not a child of ours, has ended (10 s at
# most); then whether it has.
ended() {
	for _ in $(seq 200); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}
