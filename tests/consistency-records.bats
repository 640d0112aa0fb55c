#!/usr/bin/env bats
# consistency-records: the record types the programs write and the JSON
# Schemas of share/schemas agree, both ways.
#
# Statically, from the source at test time (tests/record-types): every
# dotted record type that cmd/ and lib/ build has a schema, and every
# schema names a type the source spells.  Dynamically, a corpus of real
# invocations of every program, family by family, errors included: what
# each writes on standard output, and every event it left in the audit
# log (exported unredacted), goes through tests/validate; the last tests
# check that the corpus holds every program and every type that has a
# schema.  The corpus is BATS_FILE_TMPDIR/corpus/TEST/NN-PROG.ndjson.

load helper
load mf/provider

setup() {
	home
	C=$XDG_CONFIG_HOME/agentutils
	mkdir -p "$C/tools.d"
}

# ran PROG: PROG is in the corpus.
ran() {
	echo "$1" >>"$BATS_FILE_TMPDIR/ran"
}

# corpus NAME: the name of the corpus's next file, NAME in it: a test's
# files, in order, are BATS_FILE_TMPDIR/corpus/TEST/NN-NAME.ndjson.
corpus() {
	local d=$BATS_FILE_TMPDIR/corpus/$BATS_TEST_NUMBER
	mkdir -p "$d"
	printf '%s/%02d-%s.ndjson' "$d" "$(ls "$d" | wc -l)" "$1"
}

# keep STATUS COMMAND...: run COMMAND, which must exit with STATUS; its
# output, in last.ndjson, joins the corpus.
keep() {
	local want=$1 rc=0 prog=$2
	shift
	[ "$prog" != timeout ] || prog=$3
	ran "$prog"
	"$@" >last.ndjson || rc=$?
	cp last.ndjson "$(corpus "$prog")"
	[ "$rc" -eq "$want" ] || {
		echo "$*: exit $rc, not $want" >&2
		return 1
	}
}

# fed FILE: records a program reads join the corpus: a schema of an
# input type is used by the program that reads it.
fed() {
	cp "$1" "$(corpus "input-${1##*/}")"
}

# checked: the test's corpus is valid records (a problem is named by its
# file, which names the program).
checked() {
	"$TOP/tests/validate" "$BATS_FILE_TMPDIR/corpus/$BATS_TEST_NUMBER"/*
}

# audited: every event of the audit log, unredacted, joins the corpus,
# the audit.event records and the records inside them; then checked.
audited() {
	echo '{"names": []}' >profile.json
	keep 0 audit-export --profile profile.json --format ndjson -o -
	jq -c .record last.ndjson >"$(corpus audit-log)"
	checked
}

@test "static: each dotted type the source writes has a schema, each schema a writer" {
	run "$TOP/tests/record-types"
	assert_success
	assert_output ""
}

@test "aw: plans, a run with a retry, a death and an approval, its control" {
	cat >tasks.ndjson <<-'EOF'
	{"type":"task","id":"a","run":"true","estimate":"2s"}
	{"type":"task","id":"b","run":"exit 3","deps":["a"]}
	{"type":"task","id":"c","run":"true","approval":"required"}
	{"type":"task","id":"d","run":"true","deps":["b"]}
	EOF
	keep 0 aw-plan -n --critical-path tasks.ndjson
	keep 0 aw-plan --goal 'fetch then build' --planner-cmd "tee goal.ndjson | $TOP/examples/planner.sh"
	cp goal.ndjson "$(corpus aw-plan-goal)"
	keep 65 aw-plan -n "$TOP/tests/fixtures/aw-plan/cycle.ndjson"
	keep 0 aw-plan tasks.ndjson
	run=$(head -n 1 last.ndjson | jq -r .id)
	keep 75 aw-sched --no-wait --retry 2 -j2 --run "$run"
	keep 0 ws-approve list
	keep 0 ws-approve approve "$(jq -r .id last.ndjson)"
	keep 1 aw-sched --run "$run"
	keep 0 aw-ctl runs
	keep 0 aw-ctl status "$run"
	keep 0 aw-ctl status "$run" b
	keep 0 aw-ctl events "$run"
	keep 0 aw-ctl dlq "$run"
	keep 0 aw-ctl replay "$run"
	keep 0 aw-ctl gc --older-than 0
	keep 66 aw-ctl status nonesuch
	audited
}

@test "audit: receipts, verification of the log and of a bundle, the bundle" {
	aw-plan -n "$TOP/examples/build.ndjson" >plan.ndjson
	keep 0 audit-write --receipts plan.ndjson
	keep 0 audit-write --tee plan.ndjson
	keep 0 audit-verify
	keep 0 audit-export -o - --format ndjson
	keep 0 audit-export -o bundle.tar.gz
	keep 0 audit-verify bundle.tar.gz
	mkdir bundle
	tar -xzf bundle.tar.gz -C bundle
	keep 0 jq -c . bundle/manifest.json
	audited
	sqlite3 "$XDG_STATE_HOME/agentutils/state.db" "UPDATE audit_events SET content = zeroblob(32) WHERE seq = 2"
	keep 1 audit-verify
	keep 64 audit-export
	checked
}

@test "tg: the registry with an MCP server, grants, calls decided, run and refused" {
	printf '{"mcpServers": {"t": {"command": "python3", "args": ["%s"]}}}\n' \
	    "$TOP/tests/mcp/server.py" >"$C/mcp.json"
	printf '{"name": "hello", "command": ["echo", "hello", "{who}"], "sandbox": {},
	    "input_schema": {"type": "object", "properties": {"who": {"type": "string"}}},
	    "annotations": {"read_only": true}}\n' >"$C/tools.d/hello.json"
	echo '{"default": "ask", "rules": [{"label": "ro", "annotations": {"read_only": true}, "decision": "allow"}, {"label": "no", "tool": "t/add", "decision": "deny"}, {"label": "steps", "tool": "t/progress", "decision": "allow"}]}' >"$C/policy.json"
	keep 0 tg-list --sandbox=none
	keep 0 tg-grant add --tool 't/echo' --note 'echo is fine'
	keep 0 tg-grant list
	keep 0 tg-invoke --sandbox=none --tool hello --args '{"who": "you"}'
	keep 0 tg-invoke --sandbox=none --notifications <<-'EOF'
	{"type":"tool.call","id":"p","tool":"t/progress","args":{"steps":2}}
	{"type":"tool.call","id":"e","tool":"t/echo","args":{"text":"hi"}}
	EOF
	keep 0 tg-invoke --sandbox=none --dry-run --tool t/echo --args '{"text": "hi"}'
	keep 77 tg-invoke --sandbox=none --tool t/add --args '{"a": 1, "b": 2}'
	keep 75 tg-invoke --sandbox=none --no-wait --tool t/log --args '{"text": "x"}'
	keep 65 tg-invoke --sandbox=none --tool t/nope
	printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}' \
	    '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t/echo","arguments":{"text":"hi"}}}' |
	    tg-serve --sandbox=none >served.ndjson
	ran tg-serve
	[ "$(jq -r 'select(.id == 2) | .result.content[0].text' served.ndjson)" = hi ]
	keep 0 tg-grant revoke "$(tg-grant list | jq -r .id)"
	keep 66 tg-grant revoke nonesuch
	audited
}

@test "mf: answers, streamed, explained, failed, refused; aw-plan's request; the accounts" {
	echo '{"type":"task","id":"t","run":"true"}' >answer
	provider --reply-file answer
	cat >"$C/models.json" <<-EOF
	{"providers": {"fake": {"kind": "openai", "base_url": "$URL/v1"},
	  "gone": {"kind": "openai", "base_url": "http://127.0.0.1:1/v1"}},
	 "models": {"m": {"provider": "fake", "price": {"input": 1, "output": 1},
	   "capabilities": ["stream"]},
	  "g": {"provider": "gone"}},
	 "routes": {"planner": {"candidates": ["m"]}},
	 "budgets": {"daily_usd": 1000}}
	EOF
	keep 0 mf-route -m m hello
	keep 0 mf-route --stream -m planner hello
	keep 0 mf-route --explain -m planner hello
	keep 69 mf-route --retries 0 -m g hello
	keep 65 mf-route <<<'{"type":"model.request","messages":[{"role":"user","content":"x"}]}'
	keep 77 mf-route --budget-usd 0 -m m hello
	# aw-plan's request to mf-route, recorded on its way by a shim.
	mkdir shim
	printf '#!/bin/sh\ntee -a "%s/requests.ndjson" | exec "%s/mf-route" "$@"\n' \
	    "$PWD" "$(command -v mf-route | xargs dirname)" >shim/mf-route
	chmod +x shim/mf-route
	PATH=$PWD/shim:$PATH keep 0 aw-plan -n --goal 'one task' --planner mf \
	    --prompt "$TOP/share/agentutils/planner.md"
	keep 0 cat requests.ndjson
	keep 0 mf-usage
	keep 0 mf-usage --by model
	keep 0 mf-usage --budget
	audited
}

@test "tk: notes, files, media, documents, slides, a preview server" {
	keep 0 tk-note add --title 'Deploy' --tag ops --body 'drain first'
	id=$(jq -r .id last.ndjson)
	keep 0 tk-note list
	keep 0 tk-note search drain
	keep 0 tk-note tag "$id" +release
	keep 1 tk-note search nothing
	keep 0 tk-note rm "$id"
	keep 66 tk-note show "$id"
	mkdir ws
	echo hello >ws/a.txt
	keep 0 tk-file --root ws list
	keep 0 tk-file --root ws read a.txt
	keep 0 tk-file --root ws search hello
	cat >ops.ndjson <<-'EOF'
	{"type":"file.op","id":1,"op":"write","path":"b.txt","content":"two\n"}
	{"type":"file.op","id":2,"op":"stat","path":"b.txt"}
	{"type":"file.op","id":3,"op":"read","path":"../escape"}
	EOF
	fed ops.ndjson
	keep 77 tk-file --root ws ops.ndjson
	keep 66 tk-file --root ws read nonesuch
	printf '\x89PNG\r\n\x1a\n' >i.png
	keep 0 tk-media ws/a.txt
	keep 66 tk-media nonesuch
	printf 'a,b\n1,2\n' >t.csv
	keep 0 tk-md --records t.csv
	keep 66 tk-md --records nonesuch.csv
	cat >slides.ndjson <<-'EOF'
	{"type":"slide","title":"Opening","subtitle":"by the records"}
	{"type":"slide","title":"Records","bullets":["one",["two deep"]],"table":[["h1","h2"],[1,true]],"notes":"notes"}
	EOF
	fed slides.ndjson
	keep 0 tk-doc -o deck.pptx pptx slides.ndjson
	[ -s deck.pptx ]
	mkdir site
	echo hi >site/a.txt
	tk-serve --port 0 --log site >serve.ndjson 2>/dev/null 3>&- &
	pid=$!
	ran tk-serve
	for _ in $(seq 100); do
		[ -s serve.ndjson ] && break
		sleep 0.05
	done
	curl -s -o /dev/null "$(head -n 1 serve.ndjson | jq -r .url)a.txt"
	kill -TERM "$pid"
	wait "$pid" || :
	keep 0 cat serve.ndjson
	audited
}

@test "ws: a terminal session driven, its errors, the sessions, a transcript, gc" {
	keep 65 timeout 20 ws-pty -- sh -c 'read x; echo "got $x"; read y' <<-'EOF'
	{"type":"input","data":"hi\n"}
	{"type":"wait","for":"got hi"}
	{"type":"screen"}
	{"type":"bogus"}
	{"type":"input","data":"bye\n"}
	EOF
	id=$(head -n 1 last.ndjson | jq -r .id)
	keep 0 ws-session list
	keep 0 ws-session show "$id"
	keep 0 ws-session transcript "$id"
	keep 1 ws-session kill "$id"
	keep 66 ws-session show nonesuch
	keep 0 ws-session gc
	audited
}

@test "ws: a browser driven, a command refused" {
	command -v chromium >/dev/null || {
		echo browser.command browser.result >"$BATS_FILE_TMPDIR/skipped"
		skip "chromium is not installed (tools/deps.sh installs it)"
	}
	mkdir site
	echo '<!doctype html><title>T</title><h1 id="h">Hello</h1>' >site/index.html
	tk-serve --port 0 site >serve.ndjson 2>/dev/null 3>&- &
	pid=$!
	for _ in $(seq 100); do
		[ -s serve.ndjson ] && break
		sleep 0.05
	done
	url=$(head -n 1 serve.ndjson | jq -r .url)
	cat >cmds.ndjson <<-EOF
	{"type":"browser.command","id":1,"command":"navigate","url":"$url"}
	{"type":"browser.command","id":2,"command":"text","selector":"#h"}
	{"type":"browser.command","id":3,"command":"eval","expression":"nonesuch()"}
	{"type":"browser.command","id":4,"command":"close"}
	EOF
	fed cmds.ndjson
	keep 1 timeout 60 ws-browser cmds.ndjson
	kill "$pid"
	wait "$pid" || :
	[ "$(jq -r 'select(.id == 2) | .text' last.ndjson)" = Hello ]
	audited
}

@test "the corpus has every program in it" {
	local p missing=0
	for p in $(sed -n 's/^PROGS = //p' "$TOP/Makefile"); do
		grep -qxF "$p" "$BATS_FILE_TMPDIR/ran" || {
			echo "$p: not in the corpus" >&2
			missing=$((missing + 1))
		}
	done
	[ "$missing" -eq 0 ]
}

@test "the corpus has a record of every type that has a schema" {
	local t missing=0
	cat "$BATS_FILE_TMPDIR"/corpus/*/*.ndjson | jq -r .type | sort -u >seen
	[ -s seen ]
	for t in "$TOP"/share/schemas/*.schema.json; do
		t=${t##*/}
		t=${t%.schema.json}
		[ "$t" != defs ] || continue
		grep -qxF "$t" seen ||
		    grep -qwF "$t" "$BATS_FILE_TMPDIR/skipped" 2>/dev/null || {
			echo "share/schemas/$t.schema.json: no invocation wrote type $t" >&2
			missing=$((missing + 1))
		}
	done
	[ "$missing" -eq 0 ]
	[ ! -e "$BATS_FILE_TMPDIR/skipped" ] ||
		skip "not seen, their test skipped: $(cat "$BATS_FILE_TMPDIR/skipped")"
}
