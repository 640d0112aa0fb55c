#!/usr/bin/env bats
# pipeline: one run across every family, end to end.  aw-plan stores a
# plan of a run task, a tool task (tg-invoke, the tool in firejail), a
# prompt task (mf-route, to the test provider on loopback) and a task
# that needs a person's approval; aw-sched runs it up to the approval
# (--no-wait, 75), ws-approve approves, aw-sched --run finishes it;
# audit-verify checks the log and audit-export bundles the run, the
# bundle checked with tar, sha256sum and openssl alone.  The pipeline
# runs once (setup_file), its statuses and outputs kept in files; each
# test checks one of its outcomes.  Where firejail cannot make a sandbox
# the plan has no tool task and the tool's test says why it skips.

load helper

setup_file() {
	D=$BATS_FILE_TMPDIR
	export D
	export HOME=$D/home
	export XDG_STATE_HOME=$HOME/.local/state
	export XDG_CONFIG_HOME=$HOME/.config
	unset AGENTUTILS_DB AGENTUTILS_BUSY_TIMEOUT
	C=$XDG_CONFIG_HOME/agentutils
	mkdir -p "$HOME" "$D/work/data" "$C/tools.d"
	cd "$D/work" || return
	audit-write --init

	if ! command -v firejail >/dev/null; then
		echo "firejail is not installed (make deps installs it)" >"$D/nosandbox"
	elif ! firejail --quiet --noprofile true 2>/dev/null; then
		echo "firejail cannot make a sandbox here" >"$D/nosandbox"
	fi
	printf '%s\n' '{"name": "sha256", "description": "the SHA-256 of a file",
	    "command": ["sha256sum", "--", "{path}"],
	    "sandbox": {"read": ["'"$D/work/data"'"], "timeout": "10s"},
	    "input_schema": {"type": "object",
	      "properties": {"path": {"type": "string"}}, "required": ["path"],
	      "additionalProperties": false},
	    "annotations": {"read_only": true}}' >"$C/tools.d/sha256.json"
	echo '{"default": "deny", "rules": [{"tool": "sha256", "decision": "allow"}]}' \
	    >"$C/policy.json"

	python3 "$TOP/tests/mf/provider.py" --port-file "$D/port" \
	    --log "$D/provider.log" >"$D/provider.out" 2>&1 3>&- &
	echo $! >"$D/provider.pid"
	for _ in $(seq 200); do
		[ -s "$D/port" ] && break
		sleep 0.05
	done
	printf '%s\n' '{"providers": {"local": {"kind": "openai-compatible",
	    "base_url": "http://127.0.0.1:'"$(cat "$D/port")"'/v1"}},
	  "models": {"default": {"provider": "local", "upstream": "test-model",
	    "price": {"input": 1, "output": 2}}}}' >"$C/models.json"

	{
		echo '{"id":"build","run":["sh","-c","printf '"'"'release 1\\n'"'"' >data/app.txt"]}'
		[ -e "$D/nosandbox" ] ||
		    echo '{"id":"sum","kind":"tool","tool":"sha256","args":{"path":"data/app.txt"},"deps":["build"]}'
		echo '{"id":"notes","kind":"prompt","prompt":"write the release note","deps":["build"]}'
		echo '{"id":"ship","run":"cp data/app.txt shipped.txt","deps":["build","notes"],"approval":"required"}'
	} >tasks.ndjson
	step plan aw-plan tasks.ndjson
	RUN=$(head -n 1 plan.out | jq -r .id)
	echo "$RUN" >"$D/run"
	step sched1 timeout 60 aw-sched -q -j4 --no-wait plan.out
	step pending ws-approve list --format ndjson
	step approve ws-approve approve "$(jq -r .id pending.out)" \
	    --reason "notes read" --format ndjson
	step sched2 timeout 60 aw-sched -q --run "$RUN"
	step verify audit-verify
	step export audit-export --run "$RUN" -o bundle.tar.gz
	kill "$(cat "$D/provider.pid")"
}

# step NAME CMD...: run CMD, its output in NAME.out, its errors in
# NAME.err and its exit status in NAME.status.
step() {
	local name=$1 rc=0
	shift
	"$@" >"$name.out" 2>"$name.err" || rc=$?
	echo "$rc" >"$name.status"
}

setup() {
	export HOME=$D/home
	export XDG_STATE_HOME=$HOME/.local/state
	export XDG_CONFIG_HOME=$HOME/.config
	cd "$D/work" || return
	RUN=$(cat "$D/run")
}

teardown_file() {
	kill "$(cat "$BATS_FILE_TMPDIR/provider.pid")" 2>/dev/null || :
}

# moves TASK: the moves of TASK in both runs of aw-sched, in order.
moves() {
	cat sched1.out sched2.out | jq -r --arg t "$1" 'select(.type ==
	    "task.event" and .task == $t) | "\(.from)>\(.to)"' | paste -sd ' '
}

# log TASK: what the task wrote on its standard output, as aw-ctl logs
# shows it.
log() {
	aw-ctl logs "$RUN" "$1"
}

# records: the audit log, unredacted and decrypted, one record a line.
records() {
	echo '{"names": []}' >"$BATS_TEST_TMPDIR/profile.json"
	audit-export --profile "$BATS_TEST_TMPDIR/profile.json" \
	    --format ndjson -o - | jq -c .record
}

@test "aw-sched stops at the approval with 75, every other task done; the events are records" {
	assert_equal "$(cat plan.status sched1.status)" "0
75"
	assert_equal "$(cat sched1.err)" ""
	valid <sched1.out
	assert_equal "$(moves build)" "pending>ready ready>running running>done"
	assert_equal "$(moves notes)" \
	    "pending>ready ready>running running>done"
	assert_equal "$(jq -r 'select(.type == "run.event") | .to' sched1.out)" running
	assert_equal "$(jq -r 'select(.task == "ship") | "\(.from)>\(.to)"' sched1.out)" \
	    "pending>waiting_approval"
}

@test "the run task ran in the working directory" {
	assert_equal "$(cat data/app.txt)" "release 1"
	run log build
	assert_success
	assert_output ""
}

@test "the tool task ran its ToolSpec through tg-invoke in firejail" {
	[ ! -e "$D/nosandbox" ] || skip "$(cat "$D/nosandbox")"
	assert_equal "$(moves sum)" "pending>ready ready>running running>done"
	run --separate-stderr log sum
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.type, .id, .tool, .decision, .is_error, .exit_code]' <<<"$output")" \
	    '["tool.result","sum","sha256","allow",false,0]'
	assert_equal "$(jq -r '.content[0].text' <<<"$output")" "$(sha256sum data/app.txt)"
	# the gateway's decision and the result, audited around the call
	assert_equal "$(records | jq -r 'select(.tool == "sha256") | .type' | paste -sd ' ')" \
	    "tool.call tool.decision tool.result"
	# naming the run and task, so that the run's bundle has them too
	assert_equal "$(tar -xzOf bundle.tar.gz events.ndjson | jq -r 'select(.record.tool == "sha256") | "\(.record.type) \(.record.run) \(.record.task)"' | paste -sd ' ')" \
	    "tool.call $RUN sum tool.decision $RUN sum tool.result $RUN sum"
}

@test "the prompt task asked the test provider through mf-route" {
	run --separate-stderr log notes
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.type, .request_id, .provider, .model, .upstream_model, .content, .finish_reason]' <<<"$output")" \
	    '["model.response","notes","local","default","test-model","echo: write the release note","stop"]'
	# what the provider got: the model's upstream name and the prompt
	assert_equal "$(jq -c '[.path, .body.model, .body.messages[-1].content]' "$D/provider.log")" \
	    '["/v1/chat/completions","test-model","write the release note"]'
	# usage by run and task: 4 words in, 5 out, at 1 and 2 USD a million
	run mf-usage --by task --format ndjson
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.task, .requests, .input_tokens, .output_tokens, .cost_usd]' <<<"$output")" \
	    '["notes",1,4,5,1.4e-05]'
	assert_equal "$(db "SELECT run_id, task_id, status FROM mf_usage")" "$RUN|notes|ok"
}

@test "ws-approve approved the request; aw-sched --run finished the run" {
	valid <pending.out
	assert_equal "$(jq -c '[.type, .requester, .subject, .status, .details.id]' pending.out)" \
	    "[\"approval.request\",\"aw-sched\",\"run $RUN task ship\",\"pending\",\"ship\"]"
	assert_equal "$(cat approve.status)" 0
	valid <approve.out
	assert_equal "$(jq -c '[.id, .status, .reason, .decided_by]' approve.out)" \
	    "[$(jq .id pending.out),\"approved\",\"notes read\",\"$(id -un)\"]"
	assert_equal "$(cat sched2.status)" 0
	valid <sched2.out
	assert_equal "$(moves ship)" \
	    "pending>waiting_approval waiting_approval>ready ready>running running>done"
	assert_equal "$(jq -r 'select(.type == "run.event") | .to' sched2.out)" done
	assert_equal "$(cat shipped.txt)" "release 1"
	run aw-ctl status "$RUN" --format ndjson
	assert_equal "$(jq -r 'select(.type == "run.status") | .state' <<<"$output")" done
}

@test "the audit log verifies and holds every task's moves, the approval and the model call" {
	assert_equal "$(cat verify.status)" 0
	valid <verify.out
	assert_equal "$(jq -c '[.ok, .events > 0, .unsigned_tail]' verify.out)" '[true,true,0]'
	records >log.ndjson
	# the log has each move aw-sched wrote, in order
	diff -u <(cat sched1.out sched2.out | jq -c .) \
	    <(jq -c 'select(.run_id == "'"$RUN"'")' log.ndjson)
	# the approval: the request the ship task waited for, then its release
	assert_equal "$(jq -r 'select(.task == "ship" and .approval_id != null) | "\(.from)>\(.to) \(.approval_id)"' log.ndjson | head -n 2 | paste -sd ' ')" \
	    "pending>waiting_approval $(jq -r .id pending.out) waiting_approval>ready $(jq -r .id pending.out)"
	assert_equal "$(jq -c 'select(.type == "model.call") | [.run, .task, .provider, .model]' log.ndjson)" \
	    "[\"$RUN\",\"notes\",\"local\",\"default\"]"
}

# sha256hex HEX: the SHA-256, by openssl, of the bytes HEX spells.
sha256hex() {
	local h
	printf "$(sed 's/../\\x&/g' <<<"$1")" | openssl dgst -sha256 -r |
	    { read -r h _ && echo "$h"; }
}

@test "the run's bundle checks with tar, sha256sum and openssl alone" {
	assert_equal "$(cat export.status)" 0
	assert_equal "$(tar -tzf bundle.tar.gz | paste -sd ' ')" \
	    "events.ndjson chain.ndjson checkpoint checkpoint.sig pubkey.pem manifest.json SHA256SUMS SHA256SUMS.sig"
	mkdir b
	tar -xzf bundle.tar.gz -C b
	cd b
	run sha256sum -c SHA256SUMS
	assert_success
	assert_equal "${#lines[@]}" 6
	openssl pkeyutl -verify -pubin -inkey pubkey.pem -rawin \
	    -in SHA256SUMS -sigfile SHA256SUMS.sig
	openssl pkeyutl -verify -pubin -inkey pubkey.pem -rawin \
	    -in checkpoint -sigfile checkpoint.sig
	# the key that signed is the log's own
	cmp pubkey.pem "$XDG_CONFIG_HOME/agentutils/audit-sign.pub"
	# every move of the run is in it, and nothing of another run
	assert_equal "$(jq -c '.record | select(.type == "task.event" or .type == "run.event")' events.ndjson | wc -l)" \
	    "$(cat ../sched1.out ../sched2.out | wc -l)"
	assert_equal "$(jq -r '.record | .run_id // .run' events.ndjson | sort -u)" "$RUN"
	# the chain, link by link, SHA-256 by openssl, up to the checkpoint
	local prev seq ts ep content sealed hash
	prev=$(head -n 1 chain.ndjson | jq -r .hash)
	assert [ "$(wc -l <chain.ndjson)" -gt 2 ]
	while read -r seq ts ep content sealed hash; do
		# "au.chain" NUL prev u64(seq) u64(ts) u32(epoch) content sealed
		prev=$(sha256hex "$(printf '61752e636861696e00%s%016x%016x%08x%s%s' \
		    "$prev" "$seq" "$ts" "$ep" "$content" "$sealed")")
		assert_equal "$prev" "$hash"
	done < <(tail -n +2 chain.ndjson | jq -r '"\(.seq) \(.ts_ms) \(.epoch) \(.content) \(.sealed) \(.hash)"')
	assert_equal "$(sed -n 3p checkpoint | openssl base64 -d | od -An -tx1 | tr -d ' \n')" "$prev"
	assert_equal "$(sed -n 2p checkpoint)" "$(tail -n 1 chain.ndjson | jq .seq)"
	# and each check fails on a bundle changed by one byte
	sed -i '1s/"type"/"typo"/' events.ndjson
	run sha256sum -c --quiet SHA256SUMS
	assert_failure
	assert_output "events.ndjson: FAILED
sha256sum: WARNING: 1 computed checksum did NOT match"
	sed -i '1s/^./&&/' SHA256SUMS
	run openssl pkeyutl -verify -pubin -inkey pubkey.pem -rawin \
	    -in SHA256SUMS -sigfile SHA256SUMS.sig
	assert_failure
}

# demo [VAR=VALUE...]: examples/demo.sh (make demo) into demo/ of the
# test, offline: no provider configured, unless the arguments set one.
demo() {
	env -u OPENAI_API_KEY -u ANTHROPIC_API_KEY -u AGENTUTILS_DEMO_URL \
	    AU_DEMO_OUT="$BATS_TEST_TMPDIR/demo" "$@" "$TOP/examples/demo.sh"
}

@test "make demo: the pipeline on the shipped examples, offline, and its summary" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr demo
	assert_success
	assert_line --regexp '^the prompt goes to the test provider, tests/mf/provider.py on 127.0.0.1:[0-9]+, which echoes the prompt'
	local out=$BATS_TEST_TMPDIR/demo sum
	sum=$(sed -n '/^== summary$/,$p' <<<"$output")
	assert_equal "$(sed -n 2p <<<"$sum" | sed 's/[0-9A-Z]\{26\}/ID/; s/in [0-9]* s/in N s/')" \
	    "ran:      run ID: 10 tasks, done in N s (10 done)"
	assert_equal "$(sed -n 3p <<<"$sum")" "kinds:    1 prompt, 8 run, 1 tool"
	if firejail --quiet --noprofile true 2>/dev/null; then
		assert_equal "$(sed -n 4p <<<"$sum")" \
		    "tool:     sha256 in firejail, allowed by policy.json: $(cd "$out" && sha256sum out/app)"
	else
		assert_equal "$(sed -n 4p <<<"$sum")" "tool:     none (firejail cannot make a sandbox here)"
	fi
	assert_equal "$(sed -n 5p <<<"$sum")" \
	    "model:    local (local-model): echo: Write a one-line release note for app 0.1.0: it builds, its unit tests pass and its manual is written."
	assert_equal "$(sed -n 6p <<<"$sum" | sed 's/[0-9A-Z]\{26\}/ID/; s/at [-0-9T:.]*Z/at TS/')" \
	    "approved: run ID task package (tar -cf out/app.tar out/app out/manual.txt), by $(id -un) at TS: the tests passed"
	assert_equal "$(sed -n 7p <<<"$sum")" "cost:     1 request, 19 tokens in, 20 out: 0 USD (mf-usage)"
	assert_equal "$(sed -n 9p <<<"$sum")" \
	    "bundle:   $out/run.tar.gz ($(tar -xzOf "$out/run.tar.gz" events.ndjson | wc -l) events, checked above with sha256sum and openssl)"
	assert [ -s "$out/out/app.tar" ]
	audit-verify --db "$out/state.db" \
	    --pubkey "$out/config/agentutils/audit-sign.pub" >/dev/null
	# the test provider is stopped
	run curl -sS "http://127.0.0.1:$(cat "$out/port")/"
	assert_failure 7
}

@test "make demo stops the test provider when a step fails" {
	cd "$BATS_TEST_TMPDIR"
	mkdir bin
	ln -s "$AU_BIN"/* bin/
	rm bin/aw-ctl
	printf '#!/bin/sh\necho "aw-ctl: broken for the test" >&2\nexit 70\n' >bin/aw-ctl
	chmod +x bin/aw-ctl
	run --separate-stderr demo AU_BIN="$PWD/bin"
	assert_failure 70
	# the first step that fails ends it
	assert_equal "${stderr##*$'\n'}" "aw-ctl: broken for the test"
	run curl -sS "http://127.0.0.1:$(cat demo/port)/"
	assert_failure 7
}

@test "make demo sends the prompt to the local server of AGENTUTILS_DEMO_URL" {
	cd "$BATS_TEST_TMPDIR"
	python3 "$TOP/tests/mf/provider.py" --port-file port --reply "Release 0.1.0." \
	    --log requests.log >/dev/null 2>&1 3>&- &
	echo $! >provider.pid
	for _ in $(seq 200); do
		[ -s port ] && break
		sleep 0.05
	done
	run --separate-stderr demo AGENTUTILS_DEMO_URL="http://127.0.0.1:$(cat port)/v1" \
	    AGENTUTILS_DEMO_MODEL=small
	kill "$(cat provider.pid)"
	assert_success
	assert_line "the prompt goes to small at http://127.0.0.1:$(cat port)/v1 (AGENTUTILS_DEMO_URL)"
	assert_line "model:    local (small): Release 0.1.0."
	assert_equal "$(jq -c '[.path, .body.model]' requests.log)" '["/v1/chat/completions","small"]'
	assert [ ! -e demo/port ]
}
