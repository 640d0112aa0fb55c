#!/usr/bin/env bats
# consistency-records: the record types the programs write and the JSON
# Schemas of share/schemas agree, both ways.
#
# Statically, from the source at test time (tests/record-types): every
# dotted record type that cmd/ and lib/ build has a schema, and every
# schema names a type the source spells.  Dynamically, a corpus of real
# invocations of every program, family by family, errors included: what
# each writes on standard output, and every event it left in the audit
# log (exported unredacted), goes through tests/validate; the last test
# checks that the corpus holds every type that has a schema.  The corpus
# is BATS_FILE_TMPDIR/corpus.ndjson.

load helper
load mf/provider

setup() {
	home
	C=$XDG_CONFIG_HOME/agentutils
	mkdir -p "$C/tools.d"
}

# keep STATUS COMMAND...: run COMMAND, which must exit with STATUS; its
# output, in last.ndjson, must be valid records, and joins the corpus.
keep() {
	local want=$1 rc=0
	shift
	"$@" >last.ndjson || rc=$?
	cat last.ndjson >>"$BATS_FILE_TMPDIR/corpus.ndjson"
	[ "$rc" -eq "$want" ] || {
		echo "$*: exit $rc, not $want" >&2
		return 1
	}
	valid <last.ndjson || {
		echo "in the output of: $*" >&2
		return 1
	}
}

# audited: every event of the audit log, unredacted, joins the corpus,
# the audit.event records and the records inside them.
audited() {
	echo '{"names": []}' >profile.json
	keep 0 audit-export --profile profile.json --format ndjson -o -
	jq -c .record last.ndjson >records.ndjson
	cat records.ndjson >>"$BATS_FILE_TMPDIR/corpus.ndjson"
	valid <records.ndjson || {
		echo "in the audit log" >&2
		return 1
	}
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
	cat goal.ndjson >>"$BATS_FILE_TMPDIR/corpus.ndjson"
	valid <goal.ndjson
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
	sqlite3 "$XDG_STATE_HOME/agentutils/state.db" "UPDATE audit_events SET content = zeroblob(32) WHERE seq = 2"
	keep 1 audit-verify
	keep 64 audit-export
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

@test "the corpus has a record of every type that has a schema" {
	local t missing=0
	[ -s "$BATS_FILE_TMPDIR/corpus.ndjson" ]
	jq -r .type "$BATS_FILE_TMPDIR/corpus.ndjson" | sort -u >seen
	for t in "$TOP"/share/schemas/*.schema.json; do
		t=${t##*/}
		t=${t%.schema.json}
		[ "$t" != defs ] || continue
		grep -qxF "$t" seen || {
			echo "share/schemas/$t.schema.json: no invocation wrote type $t" >&2
			missing=$((missing + 1))
		}
	done
	[ "$missing" -eq 0 ]
}
