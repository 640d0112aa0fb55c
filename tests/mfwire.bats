#!/usr/bin/env bats
# lib/mfwire.c and lib/sse.c against the fake provider over HTTP, through
# their test driver (build/tests/mfwire-driver) and curl: the bodies the
# library makes are ones each provider takes (the fake refuses what the
# real APIs refuse), and what the providers answer, whole or streamed,
# comes back as the same normalized answer.

load helper
load mf/provider

DRIVER=${AU_BUILD:-$TOP/build}/tests/mfwire-driver

# Nothing here needs a home or keys.
setup() {
	cd "$BATS_TEST_TMPDIR" || return
}

# ask WIRE REQUEST [stream]: the library's body for the model.request
# REQUEST, sent to the provider; its answer on standard output.
ask() {
	local path=/v1/messages
	[ "$1" = openai ] && path=/v1/chat/completions
	"$DRIVER" "$1" body up-model 256 ${3:-} <<<"$2" >body.json || return
	curl -sS -N -H 'content-type: application/json' \
	    -H 'anthropic-version: 2023-06-01' --data-binary @body.json \
	    "$URL$path"
}

# answer WIRE REQUEST: the provider's whole answer, normalized.
answer() {
	ask "$1" "$2" | "$DRIVER" "$1" parse
}

# streamed WIRE REQUEST: the deltas and the answer of a stream.
streamed() {
	ask "$1" "$2" stream | "$DRIVER" "$1" stream
}

# A conversation with every kind of message.
CONV='{"type":"model.request","id":"r1","model":"m","system":"Be brief.","messages":[
{"role":"system","content":"Use metric units."},
{"role":"user","content":[{"type":"text","text":"What is in this picture?"},{"type":"image","media_type":"image/png","data":"iVBORw0KGgo="}]},
{"role":"assistant","content":"Let me look it up.","tool_calls":[{"id":"c1","name":"grep","arguments":{"pattern":"cat"}}]},
{"role":"tool","tool_call_id":"c1","content":"found three cats"},
{"role":"user","content":"so what next"}],
"tools":[{"name":"grep","description":"Search files.","input_schema":{"type":"object","properties":{"pattern":{"type":"string"}}}}],
"tool_choice":"auto","temperature":0.5}'

@test "a conversation of every kind of message is a body both providers take, and their answers read the same" {
	provider
	for wire in openai anthropic; do
		ask $wire "$CONV" >answer.json
		run "$DRIVER" $wire parse <answer.json
		assert_success
		assert_output '{"content":"echo: so what next","tool_calls":[],"finish_reason":"stop","usage":{"input_tokens":21,"output_tokens":4,"cached_tokens":0},"upstream_model":"up-model"}'
	done
}

@test "cached tokens count among the input tokens of both" {
	provider --cached 5
	for wire in openai anthropic; do
		run answer $wire "$CONV"
		assert_output --partial '"usage":{"input_tokens":21,"output_tokens":4,"cached_tokens":5}'
	done
}

@test "a streamed answer gives text deltas that make the content, and the same answer as whole" {
	provider
	for wire in openai anthropic; do
		answer $wire "$CONV" >whole.json
		ask $wire "$CONV" stream >stream.txt
		run "$DRIVER" $wire stream <stream.txt
		assert_success
		assert_line --index 0 '{"text":"echo: "}'
		assert_line --index 1 '{"text":"so "}'
		assert_line --index 2 '{"text":"what "}'
		assert_line --index 3 '{"text":"next"}'
		assert_line --index 4 complete
		assert_line --index 5 "$(cat whole.json)"
		[ "${#lines[@]}" -eq 6 ]
	done
}

@test "a tool call comes back with its arguments as an object, streamed in fragments that join to them" {
	provider --tool-call 'grep:{"pattern":"a b","path":"src/lib","max":3}'
	for wire in openai anthropic; do
		answer $wire "$CONV" >whole.json
		run jq -c '[.content, .finish_reason, (.tool_calls[] | [.name, .arguments])]' whole.json
		assert_output '["","tool_calls",["grep",{"pattern":"a b","path":"src/lib","max":3}]]'
		streamed $wire "$CONV" >stream.txt
		run sh -c "grep '^{' stream.txt | jq -j 'select(.tool_call) | .tool_call.arguments'"
		assert_output '{"pattern":"a b","path":"src/lib","max":3}'
		run sh -c "grep '^{' stream.txt | jq -c 'select(.tool_call.name) | .tool_call | [.index, .name]'"
		assert_output '[0,"grep"]'
		run sh -c "grep -c tool_call\\\" stream.txt"
		[ "$output" -ge 4 ]
		# the same answer but for the call's id, which is the request's
		run sh -c "tail -n 1 stream.txt | jq -c 'del(.tool_calls[].id)'"
		assert_output "$(jq -c 'del(.tool_calls[].id)' whole.json)"
	done
}

@test "a tool's result ends the calling: the next answer is text" {
	provider --tool-call 'grep:{}'
	conv=$(jq -c '.messages += [{"role":"assistant","tool_calls":[{"id":"c2","name":"grep","arguments":{}}]},{"role":"tool","tool_call_id":"c2","content":"none"}]' <<<"$CONV")
	for wire in openai anthropic; do
		answer $wire "$conv" >answer.json
		run jq -c '[.tool_calls, .finish_reason]' answer.json
		assert_output '[[],"stop"]'
	done
}

@test "anthropic: a JSON Schema answer is the forced tool's input, as text" {
	provider --tool-call 'au_json_verdict:{"ok":true,"why":"fine"}'
	req='{"messages":[{"role":"user","content":"judge"}],"response_format":{"type":"json_schema","name":"verdict","schema":{"type":"object"}}}'
	ask anthropic "$req" >answer.json
	run jq -c '[.tools[-1].name, .tool_choice]' body.json
	assert_output '["au_json_verdict",{"type":"tool","name":"au_json_verdict"}]'
	run "$DRIVER" anthropic parse <answer.json
	assert_output '{"content":"{\"ok\":true,\"why\":\"fine\"}","tool_calls":[],"finish_reason":"stop","usage":{"input_tokens":1,"output_tokens":1,"cached_tokens":0},"upstream_model":"up-model"}'
	ask anthropic "$req" stream >stream.txt
	run "$DRIVER" anthropic stream <stream.txt
	assert_success
	refute_output --partial '"tool_call":'
	run sh -c "'$DRIVER' anthropic stream <stream.txt | grep '^{' | jq -j 'select(.text) | .text'"
	assert_output '{"ok":true,"why":"fine"}'
}

@test "the providers' error bodies give their messages" {
	provider --status 429
	for wire in openai anthropic; do
		ask $wire "$CONV" >answer.json
		run "$DRIVER" $wire error <answer.json
		assert_output 'Rate limit reached for requests'
	done
	kill "$PROVIDER_PID"
	provider --key sk-test
	run answer anthropic "$CONV"
	assert_failure 65
	assert_output "ERROR: the provider's error: authentication_error: Incorrect API key provided"
}

@test "truncated answers are malformed, whole or streamed" {
	provider --malformed
	for wire in openai anthropic; do
		run answer $wire "$CONV"
		assert_failure 65
		assert_output --partial 'ERROR: malformed response: invalid JSON: '
		run streamed $wire "$CONV"
		assert_failure 65
		assert_output --partial 'ERROR: malformed event: invalid JSON: '
	done
}

@test "a stream cut short gives what came, without a finish reason" {
	provider --drop-mid
	for wire in openai anthropic; do
		run streamed $wire "$CONV"
		assert_success
		refute_line complete
		run jq -c '.finish_reason' <<<"${lines[-1]}"
		assert_output null
	done
}

@test "a request the library cannot send is refused with where it is wrong" {
	run "$DRIVER" anthropic body m 0 <<<'{"messages":[{"role":"user","content":"x"},{"role":"robot"}]}'
	assert_failure 65
	assert_output 'ERROR: messages[1]: unknown role "robot"'
}
