#!/usr/bin/env bats
# mf-route against the fake provider (tests/mf/provider.py) over loopback
# HTTP: both wire formats, streams, retries, fallbacks, the circuit
# breaker shared through the state file, budgets, and the key kept out
# of everything.

load helper

PROVIDER=$BATS_TEST_DIRNAME/mf/provider.py
SECRET=sk-test-5ecret-Key-0123456789

setup() {
	home
	mkdir -p "$XDG_CONFIG_HOME/agentutils"
	export MF_KEY=$SECRET
	PIDS=
}

teardown() {
	local p
	for p in $PIDS; do
		kill "$p" 2>/dev/null || :
	done
}

# provider NAME FLAGS...: start a fake provider; its port in $NAME, its
# request count in NAME.count, its log in NAME.log.
provider() {
	local name=$1 port
	shift
	rm -f "$name.port"
	python3 "$PROVIDER" --port-file "$name.port" --count-file \
	    "$name.count" --log "$name.log" "$@" 3>&- >"$name.out" 2>&1 &
	PIDS="$PIDS $!"
	printf -v "${name}_pid" '%s' "$!"
	for _ in $(seq 200); do
		[ -s "$name.port" ] && break
		sleep 0.05
	done
	port=$(cat "$name.port")
	printf -v "$name" '%s' "$port"
}

# count NAME: the requests provider NAME has had.
count() {
	cat "$1.count" 2>/dev/null || echo 0
}

# models: standard input as models.json.
models() {
	cat >"$XDG_CONFIG_HOME/agentutils/models.json"
}

# one KIND: one provider "p" of KIND on port $a, model "m" on it.
one() {
	models <<-EOF
	{"providers": {"p": {"kind": "$1", "base_url": "http://127.0.0.1:$a/v1",
	  "api_key_env": "MF_KEY", "circuit": {"failures": 100}}},
	 "models": {"m": {"provider": "p", "upstream": "up-m",
	  "context_window": 1000, "max_output": 100,
	  "price": {"input": 1, "output": 2},
	  "capabilities": ["tools", "json", "stream"]}}}
	EOF
}

# two: providers "a" and "b" (OpenAI, Anthropic), models "ma" and "mb",
# route "r" trying ma then mb.
two() {
	models <<-EOF
	{"providers": {
	  "a": {"kind": "openai", "base_url": "http://127.0.0.1:$a/v1",
	    "api_key_env": "MF_KEY", "circuit": {"failures": ${1:-100},
	    "cooldown": "${2:-60s}"}},
	  "b": {"kind": "anthropic", "base_url": "http://127.0.0.1:$b/v1",
	    "api_key_env": "MF_KEY"}},
	 "models": {
	  "ma": {"provider": "a", "price": {"input": 1, "output": 1}},
	  "mb": {"provider": "b", "price": {"input": 0.5, "output": 0.5}}},
	 "routes": {"r": {"candidates": ["ma", "mb"]}}}
	EOF
}

req() {
	printf '{"type":"model.request","id":"%s","model":"%s","messages":[{"role":"user","content":"%s"}]}\n' "$@"
}

# piped ARGS...: mf-route ARGS in the background, its requests written
# through fd 5, its answers read through fd 6, its errors in err
piped() {
	mkfifo in out
	mf-route "$@" <in >out 2>err &
	pid=$!
	exec 5>in 6<out
}

# unpipe STATUS: close the requests, wait for mf-route, check its status
unpipe() {
	local st=0

	exec 5>&-
	wait "$pid" || st=$?
	exec 6<&-
	assert_equal "$st" "$1"
}

@test "-m: a prompt to an OpenAI provider, answered as a model.response record" {
	provider a
	one openai
	run --separate-stderr mf-route -m m hello there world
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -r .content <<<"$output")" "echo: hello there world"
	assert_equal "$(jq -c '[.provider, .model, .upstream_model, .finish_reason]' <<<"$output")" '["p","m","up-m","stop"]'
	assert_equal "$(jq -c .usage <<<"$output")" '{"input_tokens":3,"output_tokens":4,"cached_tokens":0}'
	# 3 input tokens at $1, 4 output at $2 per million
	assert_equal "$(jq .cost_usd <<<"$output")" 1.1e-05
	assert_equal "$(jq '.attempts | length' <<<"$output")" 1
	assert_equal "$(jq -r '.body.model' a.log)" up-m
	assert_equal "$(jq -r .auth_ok a.log)" true
	assert_equal "$(db 'SELECT provider, model, input_tokens, output_tokens, status, attempts FROM mf_usage')" "p|m|3|4|ok|1"
	assert_equal "$(db "SELECT count(*) FROM audit_events")" 1
}

@test "-m: an Anthropic provider, the prompt from standard input, --text" {
	provider a
	one anthropic
	run --separate-stderr mf-route -m m --text --system 'be brief' <<<"from stdin"
	assert_success
	assert_output "echo: from stdin"
	assert_equal "$(jq -r .body.system a.log)" "be brief"
	assert_equal "$(jq -r .anthropic_version a.log)" 2023-06-01
}

@test "--stream: model.delta records as the words come, then the response" {
	provider a
	one openai
	run --separate-stderr mf-route -m m --stream one two three
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -r 'select(.type == "model.delta") | .text' <<<"$output" | tr -d '\n')" "echo: one two three"
	assert_equal "$(jq -s '[.[] | select(.type == "model.delta") | .index] | . == [range(length)]' <<<"$output")" true
	last=$(tail -n 1 <<<"$output")
	assert_equal "$(jq -r .type <<<"$last")" model.response
	assert_equal "$(jq -r .content <<<"$last")" "echo: one two three"
	assert_equal "$(jq '.ttft_ms <= .latency_ms' <<<"$last")" true
	assert_equal "$(jq .usage.output_tokens <<<"$last")" 4
	assert_equal "$(jq .body.stream a.log)" true
}

@test "--stream --text on Anthropic: the text as it comes" {
	provider a
	one anthropic
	run --separate-stderr mf-route -m m --stream --text a b c
	assert_success
	assert_output "echo: a b c"
}

@test "a tool call comes back with its arguments as an object" {
	provider a --tool-call 'grep:{"pattern":"x","path":"."}'
	one openai
	printf '%s\n' '{"type":"model.request","id":"t1","model":"m","messages":[{"role":"user","content":"find x"}],"tools":[{"name":"grep","description":"search","input_schema":{"type":"object"}}]}' >in.ndjson
	run --separate-stderr mf-route in.ndjson
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.finish_reason, .tool_calls[0].name, .tool_calls[0].arguments]' <<<"$output")" '["tool_calls","grep",{"pattern":"x","path":"."}]'
}

@test "429 with Retry-After: retried after the wait, then answered" {
	provider a --fail-first 2 --status 429 --retry-after 1
	one openai
	start=$(date +%s%N)
	run --separate-stderr mf-route -m m hi
	end=$(date +%s%N)
	assert_success
	assert_equal "$(count a)" 3
	assert_equal "$(jq -c '[.attempts[].status]' <<<"$output")" '[429,429,200]'
	(( (end - start) / 1000000 >= 2000 ))
}

@test "500s are retried with backoff; --retries 0 gives up at once" {
	provider a --fail-first 1
	one openai
	run --separate-stderr mf-route -m m hi
	assert_success
	assert_equal "$(jq -c '[.attempts[].status]' <<<"$output")" '[500,200]'
	run --separate-stderr mf-route --retries 0 -m m hi
	assert_success
	provider b --status 503
	sed -i "s/:$a\//:$b\//" "$XDG_CONFIG_HOME/agentutils/models.json"
	run --separate-stderr mf-route --retries 0 -m m hi
	assert_failure 69
	assert_equal "$(count b)" 1
	assert_equal "$(jq -r .error <<<"$output")" "HTTP 503: $(jq -r .error <<<"$output" | sed 's/^HTTP 503: //')"
	[[ $stderr == *"HTTP 503"* ]]
	assert_equal "$(db "SELECT status FROM mf_usage ORDER BY id DESC LIMIT 1")" error
}

@test "401 is not retried: the error says why, the route falls back to the next model" {
	provider a --status 401
	provider b
	two
	run --separate-stderr mf-route -m ma hi
	assert_failure 69
	assert_equal "$(count a)" 1
	[[ $(jq -r .error <<<"$output") == "HTTP 401: "* ]]
	run --separate-stderr mf-route -m r hi
	assert_success
	assert_equal "$(jq -r '[.provider, .model] | join(" ")' <<<"$output")" "b mb"
	assert_equal "$(jq -c '[.attempts[] | [.model, .status]]' <<<"$output")" '[["ma",401],["mb",200]]'
}

@test "a dropped connection, malformed JSON and a wrong content type fail over" {
	provider a --drop
	provider b
	two
	run --separate-stderr mf-route --retries 1 -m r hi
	assert_success
	assert_equal "$(jq -c '[.attempts[] | [.model, .status]]' <<<"$output")" '[["ma",null],["ma",null],["mb",200]]'
	kill "$a_pid"
	provider a --malformed
	two
	run --separate-stderr mf-route -m r hi
	assert_success
	[[ $(jq -r '.attempts[0].error' <<<"$output") == *malformed* ]]
	provider a --content-type text/html
	two
	run --separate-stderr mf-route -m r hi
	assert_success
	[[ $(jq -r '.attempts[0].error' <<<"$output") == *text/html* ]]
	assert_equal "$(jq -r .model <<<"$output")" mb
}

@test "a stalled stream ends at the idle timeout and the next model answers" {
	provider a --stall-after 0
	provider b
	two
	jq '.providers.a.idle_timeout = "500ms"' "$XDG_CONFIG_HOME/agentutils/models.json" >m.json
	run --separate-stderr mf-route --models m.json --retries 0 --stream -m r hi
	assert_success
	assert_equal "$(jq -r 'select(.type == "model.response") | .attempts[0].error' <<<"$output")" "no data for 500 ms"
	assert_equal "$(jq -r 'select(.type == "model.response") | .model' <<<"$output")" mb
}

@test "a stream that stalls after words were written is not retried elsewhere" {
	provider a --stall-after 3
	provider b
	two
	jq '.providers.a.idle_timeout = "300ms"' "$XDG_CONFIG_HOME/agentutils/models.json" >m.json
	run --separate-stderr mf-route --models m.json --stream -m r one two three four
	assert_failure 69
	assert_equal "$(count b)" 0
	assert [ "$(jq -s '[.[] | select(.type == "model.delta")] | length' <<<"$output")" -ge 1 ]
}

@test "the total timeout ends a slow reply" {
	provider a --delay 3000
	one openai
	jq '.providers.p.timeout = "300ms"' "$XDG_CONFIG_HOME/agentutils/models.json" >m.json
	run --separate-stderr mf-route --models m.json --retries 0 -m m hi
	assert_failure 69
	[[ $(jq -r .error <<<"$output") == *"imeout"* ]]
}

@test "the circuit opens after its failures, is shared by the next process, and a probe closes it" {
	provider a --status 500
	provider b
	two 2 60s
	run --separate-stderr mf-route --retries 0 -m ma hi
	assert_failure 69
	assert_equal "$(db "SELECT state, failures FROM mf_circuit WHERE provider = 'a'")" "closed|1"
	run --separate-stderr mf-route --retries 0 -m ma hi
	assert_equal "$(db "SELECT state FROM mf_circuit WHERE provider = 'a'")" open
	# another process: a is not even asked
	run --separate-stderr mf-route -m r hi
	assert_success
	assert_equal "$(count a)" 2
	assert_equal "$(jq -r .model <<<"$output")" mb
	run --separate-stderr mf-route --explain -m r hi
	[[ $(jq -r '.excluded[0].reason' <<<"$output") == "circuit of a open until "* ]]
	# the cool-down is over (the state file says so); the probe
	# succeeds and closes the circuit
	kill "$a_pid"
	provider a
	two 2 60s
	db "UPDATE mf_circuit SET until = 1"
	run --separate-stderr mf-route -m ma hi
	assert_success
	assert_equal "$(db "SELECT state, failures FROM mf_circuit WHERE provider = 'a'")" "closed|0"
}

@test "a failed probe opens the circuit again" {
	provider a --status 500
	two 1 1s
	run --separate-stderr mf-route --retries 0 -m ma hi
	assert_equal "$(db "SELECT state FROM mf_circuit WHERE provider = 'a'")" open
	sleep 1.2
	run --separate-stderr mf-route --retries 0 -m ma hi
	assert_failure 69
	assert_equal "$(count a)" 2
	assert_equal "$(db "SELECT state, until > strftime('%s') * 1000 FROM mf_circuit WHERE provider = 'a'")" "open|1"
}

@test "--budget-usd: a request that could cost more is refused before it is sent" {
	provider a
	one openai
	# a prompt of 41 bytes of JSON, 11 tokens at $1, and up to 100 at
	# $2 per million: $0.000211
	run --separate-stderr mf-route --budget-usd 0.00021 -m m hi there you
	assert_failure 77
	assert_equal "$(count a)" 0
	[[ $stderr == *"would break the budget"* ]]
	assert_equal "$(db "SELECT status FROM mf_usage")" refused
	run --separate-stderr mf-route --budget-usd 0.000211 -m m hi there you
	assert_success
}

@test "daily and per-run budgets in models.json count what the state file has spent" {
	provider a
	one openai
	jq '.budgets = {"daily_usd": 0.001, "run_usd": 0.0005}' "$XDG_CONFIG_HOME/agentutils/models.json" >m.json
	mf-route --models m.json -m m hi >/dev/null
	db "INSERT INTO mf_usage (ts, run_id, cost_usd, status) VALUES (strftime('%s') * 1000, 'R1', 0.0004, 'ok')"
	req q1 m hi | jq -c '.metadata = {"run": "R1", "task": "t"}' >in.ndjson
	run --separate-stderr mf-route --models m.json in.ndjson
	assert_failure 77
	req q2 m hi | jq -c '.metadata = {"run": "R2"}' >in.ndjson
	run --separate-stderr mf-route --models m.json in.ndjson
	assert_success
	assert_equal "$(db "SELECT run_id, task_id FROM mf_usage WHERE request_id = 'q2'")" "R2|"
	db "INSERT INTO mf_usage (ts, cost_usd, status) VALUES (strftime('%s') * 1000, 0.0009, 'ok')"
	run --separate-stderr mf-route --models m.json in.ndjson
	assert_failure 77
}

@test "budgets that are not valid load nothing: exit 78" {
	one openai
	jq '.budgets = {"daily_usd": "ten"}' "$XDG_CONFIG_HOME/agentutils/models.json" >m.json
	run --separate-stderr mf-route --models m.json -m m hi
	assert_failure 78
	[[ $stderr == *"m.json:"*"budgets: daily_usd: expected a number >= 0"* ]]
}

@test "--explain: candidates, exclusions with their reasons, the order; nothing sent" {
	provider a
	models <<-EOF
	{"providers": {"p": {"kind": "openai", "base_url": "http://127.0.0.1:$a/v1"}},
	 "models": {
	  "small": {"provider": "p", "context_window": 20, "capabilities": ["tools"],
	    "price": {"input": 1, "output": 1}},
	  "blind": {"provider": "p", "context_window": 100000, "capabilities": ["tools"],
	    "price": {"input": 0.1, "output": 0.1}},
	  "big": {"provider": "p", "context_window": 100000, "capabilities": ["tools", "vision"],
	    "price": {"input": 5, "output": 5}},
	  "cheap": {"provider": "p", "context_window": 100000, "capabilities": ["tools", "vision"],
	    "price": {"input": 0.5, "output": 0.5}}},
	 "routes": {"r": {"candidates": ["small", "blind", "big", "cheap"], "strategy": "cheapest"}}}
	EOF
	long=$(printf 'word %.0s' $(seq 40))
	req x r "$long" | jq -c '.needs = ["vision"]' >in.ndjson
	run --separate-stderr mf-route --explain in.ndjson
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.request_id, .strategy, .candidates, .order, .choice]' <<<"$output")" '["x","cheapest",["small","blind","big","cheap"],["cheap","big"],"cheap"]'
	assert_equal "$(jq -r '.excluded[] | "\(.model): \(.reason)"' <<<"$output")" "small: lacks capability vision
blind: lacks capability vision"
	req y r "$long" >in.ndjson
	run --separate-stderr mf-route --explain in.ndjson
	[[ $(jq -r '.excluded[0].reason' <<<"$output") == "prompt of about "*" tokens exceeds its context window of 20" ]]
	assert_equal "$(jq -c .order <<<"$output")" '["blind","cheap","big"]'
	assert_equal "$(count a)" 0
}

@test "weighted routes pick by weight; ordered keeps the list; fallbacks come last" {
	models <<-EOF
	{"providers": {"p": {"kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1"}},
	 "models": {"x": {"provider": "p"}, "y": {"provider": "p"}, "z": {"provider": "p"}},
	 "routes": {"w": {"candidates": ["x", "y"], "strategy": "weighted", "weights": {"x": 9, "y": 1}, "fallbacks": ["z"]},
	            "o": {"candidates": ["y", "x"], "fallbacks": ["z", "y"]}}}
	EOF
	for i in $(seq 200); do req "$i" w hi; done >in.ndjson
	run --separate-stderr mf-route --explain in.ndjson
	assert_success
	x=$(jq -r .choice <<<"$output" | grep -c x)
	(( x > 150 && x < 200 ))
	assert_equal "$(jq -c .order <<<"$output" | sort -u | tr '\n' ' ')" '["x","y","z"] ["y","x","z"] '
	req 1 o hi >in.ndjson
	run mf-route --explain in.ndjson
	assert_equal "$(jq -c .order <<<"$output")" '["y","x","z"]'
}

@test "-j: requests run at once; answers in completion order, or in input order with --keep-order" {
	provider a --delay 300
	one openai
	for i in $(seq 20); do req "r$i" m "hi $i"; done >in.ndjson
	start=$(date +%s%N)
	run --separate-stderr mf-route -j 20 in.ndjson
	end=$(date +%s%N)
	assert_success
	assert_equal "$(jq -r .request_id <<<"$output" | sort | tr '\n' ' ')" "$(seq 20 | sed 's/^/r/' | sort | tr '\n' ' ')"
	(( (end - start) / 1000000 < 3000 ))
	run --separate-stderr mf-route -j 20 --keep-order in.ndjson
	assert_equal "$(jq -r .request_id <<<"$output" | tr '\n' ' ')" "$(seq 20 | sed 's/^/r/' | tr '\n' ' ')"
	assert_equal "$(db 'SELECT count(*) FROM mf_usage')" 40
}

@test "-j 1: requests read already go one after the other without waiting for anything else" {
	provider a
	one openai
	for i in $(seq 30); do req "r$i" m hi; done >in.ndjson
	start=$(date +%s%N)
	run --separate-stderr mf-route -j 1 in.ndjson
	end=$(date +%s%N)
	assert_success
	assert_equal "$(jq -r .request_id <<<"$output" | paste -sd ' ')" "$(seq 30 | sed 's/^/r/' | paste -sd ' ')"
	# each used to wait out a second of idle polling
	(( (end - start) / 1000000 < 10000 ))
}

@test "a slow writer: each answer comes while the writer waits; half lines wait for their other half" {
	provider a
	one openai
	piped -j 4
	req r1 m hi >&5
	read -r -t 5 -u 6 line
	assert_equal "$(jq -r .request_id <<<"$line")" r1
	# the first half of a request, then the rest
	req r2 m hi | head -c 40 >&5
	sleep 0.3
	kill -0 "$pid"
	req r2 m hi | tail -c +41 >&5
	read -r -t 5 -u 6 line
	assert_equal "$(jq -r .request_id <<<"$line")" r2
	unpipe 0
	assert_equal "$(cat err)" ""
	assert_equal "$(db 'SELECT group_concat(request_id) FROM (SELECT request_id FROM mf_usage ORDER BY rowid)')" r1,r2
}

@test "a bad line alone does not hold up the answers in flight" {
	provider a --delay 1000
	one openai
	piped -j 4
	req r1 m hi >&5
	# read on its own, while r1 is in flight
	for _ in $(seq 100); do
		[ "$(count a)" = 1 ] && break
		sleep 0.05
	done
	echo '{bad' >&5
	# r1 is answered though no line follows the bad one
	read -r -t 5 -u 6 line
	assert_equal "$(jq -r .request_id <<<"$line")" r1
	unpipe 65
	assert_equal "$(cat err)" "mf-route: <stdin>:2: invalid JSON: expected a string key (column 2)"
}

@test "standard input closed with requests in flight and a last line without a newline: all answered and recorded" {
	provider a --delay 300
	one openai
	mkfifo in
	mf-route -j 8 <in >out 2>err &
	pid=$!
	exec 5>in
	req r1 m hi >&5
	req r2 m hi >&5
	sleep 0.1
	req r3 m hi | tr -d '\n' >&5
	exec 5>&-
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 0
	assert_equal "$(cat err)" ""
	assert_equal "$(jq -r 'select(.content == "echo: hi") | .request_id' out | sort | paste -sd ' ')" "r1 r2 r3"
	assert_equal "$(db 'SELECT count(*) FROM mf_usage WHERE status = '"'ok'"'')" 3
	assert_equal "$(db 'SELECT count(*) FROM audit_events')" 3
}

@test "max_concurrency holds a provider to that many requests in flight" {
	provider a --delay 300
	one openai
	jq '.providers.p.max_concurrency = 2' "$XDG_CONFIG_HOME/agentutils/models.json" >m.json
	for i in $(seq 6); do req "r$i" m hi; done >in.ndjson
	start=$(date +%s%N)
	run --separate-stderr mf-route --models m.json -j 6 in.ndjson
	end=$(date +%s%N)
	assert_success
	(( (end - start) / 1000000 >= 900 ))
}

@test "a bad record is reported with its line and skipped; the others are answered" {
	provider a
	one openai
	{ req r1 m hi; echo '{"type":"task","id":"x"}'; echo '{"type":"tool.call"}'; echo '{"type":"model.request","id":"r3","model":"m","messages":{}}';
	  echo '{"type":"model.request","id":"r4","model":"nope","messages":[]}'; req r5 m hi; } >in.ndjson
	run --separate-stderr mf-route in.ndjson
	assert_failure 65
	assert_equal "$(jq -r .request_id <<<"$output" | sort | tr '\n' ' ')" "r1 r4 r5 "
	[[ $stderr == *"in.ndjson:2: not a prompt task"* ]]
	[[ $stderr == *"in.ndjson:3: not a model.request record"* ]]
	[[ $stderr == *'in.ndjson:4: "messages" must be an array'* ]]
	assert_equal "$(jq -r 'select(.request_id == "r4") | .error' <<<"$output")" '"nope" is neither a model nor a route in models.json'
}

@test "models.json problems are reported with file and line; the rest loads" {
	provider a
	models <<-EOF
	{"providers": {"p": {"kind": "openai", "base_url": "http://127.0.0.1:$a/v1"},
	               "bad": {"kind": "gopher"}},
	 "models": {"m": {"provider": "p"},
	            "n": {"provider": "bad"},
	            "o": {"provider": "p", "colour": "red"}}}
	EOF
	run --separate-stderr mf-route -m m hi
	assert_failure 78
	assert_equal "$(jq -r .content <<<"$output")" "echo: hi"
	[[ $stderr == *"models.json:2: provider \"bad\": kind: expected openai, anthropic or openai-compatible"* ]]
	[[ $stderr == *"models.json:4: model \"n\": provider \"bad\" is not configured (or was skipped)"* ]]
	[[ $stderr == *"models.json:5: model \"o\": unknown field \"colour\""* ]]
	run --separate-stderr mf-route --models nowhere.json -m m hi
	assert_failure 66
}

@test "the key is sent, and never appears in output, errors, the state file or the audit log" {
	provider a --key "$SECRET" --status 401
	one openai
	run mf-route --audit-content -v -m m "hi $SECRET"
	provider b --key "$SECRET"
	sed -i "s/:$a\//:$b\//" "$XDG_CONFIG_HOME/agentutils/models.json"
	run mf-route --stream -m m hi
	assert_success
	assert_equal "$(jq -r .auth_ok b.log)" true
	refute_output --partial "$SECRET"
	! grep -ra -- "$SECRET" "$XDG_STATE_HOME" $(ls "$XDG_CONFIG_HOME"/agentutils/* | grep -v models.json)
	audit-export -o bundle.tar >/dev/null
	! grep -a -- "$SECRET" bundle.tar
}

@test "a key file must be 0600; an unset key variable is a configuration error" {
	provider a
	one openai
	echo "$SECRET" >key
	chmod 644 key
	jq --arg k "$PWD/key" '.providers.p |= (del(.api_key_env) | .api_key_file = $k)' "$XDG_CONFIG_HOME/agentutils/models.json" >m.json
	run --separate-stderr mf-route --models m.json -m m hi
	assert_failure 78
	chmod 600 key
	run --separate-stderr mf-route --models m.json -m m hi
	assert_success
	unset MF_KEY
	run --separate-stderr mf-route -m m hi
	assert_failure 78
	[[ $stderr == *'$MF_KEY is not set'* ]]
}

@test "--no-audit keeps requests out of the audit log; without keys mf-route warns and goes on" {
	provider a
	one openai
	mf-route --no-audit -m m hi >/dev/null
	assert_equal "$(db "SELECT count(*) FROM audit_events")" 0
	nokeys
	mkdir -p "$XDG_CONFIG_HOME/agentutils"
	one openai
	run --separate-stderr mf-route -m m hi
	assert_success
	[[ $stderr == *"not audited"* ]]
}

@test "usage errors exit 64" {
	run mf-route -j 0
	assert_failure 64
	run mf-route --budget-usd lots
	assert_failure 64
	run mf-route --system x
	assert_failure 64
}
