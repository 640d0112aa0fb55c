#!/usr/bin/env bats
# tests/mf/provider.py, the fake model provider the model fabric's tests
# talk to, checked with curl: both wire formats, streamed and not, and
# each misbehaviour on its own.  The checks double as its documentation.

load helper
load mf/provider

# No program of ours runs here: no home, no keys.
setup() {
	cd "$BATS_TEST_TMPDIR" || return
}

# post PATH BODY [CURL ARGS...]: the reply's body on stdout.
post() {
	local path=$1 body=$2
	shift 2
	curl -sS -N "$@" -H 'content-type: application/json' \
	    --data-binary "$body" "$URL$path"
}

OA='{"model":"gpt-4o","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there world"}]}'
AN='{"model":"claude-x","max_tokens":64,"system":"be brief","messages":[{"role":"user","content":[{"type":"text","text":"hello there world"}]}]}'
TOOLS='"tools":[{"type":"function","function":{"name":"grep","parameters":{"type":"object"}}}]'
ATOOLS='"tools":[{"name":"grep","input_schema":{"type":"object"}}]'

# data: the data of each event of an SSE stream on stdin, one a line.
data() {
	sed -n 's/^data: //p'
}

@test "the port goes to standard output without --port-file" {
	python3 "$PROVIDER" 3>&- >"$BATS_TEST_TMPDIR/out" &
	PROVIDER_PID=$!
	port "$BATS_TEST_TMPDIR/out"
	[[ $P =~ ^[0-9]+$ ]]
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/v1/nowhere"
	assert_output 404
}

@test "OpenAI: a chat completion echoes the last user text, words counted as tokens" {
	provider
	run post /v1/chat/completions "$OA" -D "$BATS_TEST_TMPDIR/h"
	assert_success
	run jq -c '[.object, .model, .choices[0].message.role,
	    .choices[0].message.content, .choices[0].finish_reason,
	    .usage.prompt_tokens, .usage.completion_tokens,
	    .usage.total_tokens, .usage.prompt_tokens_details.cached_tokens]' \
	    <<<"$output"
	assert_output '["chat.completion","gpt-4o","assistant","echo: hello there world","stop",5,4,9,0]'
	run grep -i '^content-length: ' "$BATS_TEST_TMPDIR/h"
	assert_success
	run grep -i '^content-type: application/json' "$BATS_TEST_TMPDIR/h"
	assert_success
}

@test "Anthropic: a message echoes the last user text, words counted as tokens" {
	provider
	run post /v1/messages "$AN"
	assert_success
	run jq -c '[.type, .role, .model, .content, .stop_reason,
	    .stop_sequence, .usage]' <<<"$output"
	assert_output '["message","assistant","claude-x",[{"type":"text","text":"echo: hello there world"}],"end_turn",null,{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":4}]'
}

@test "connections are kept alive between requests" {
	provider
	run curl -sS -v -o /dev/null -o /dev/null \
	    -H 'content-type: application/json' --data-binary "$OA" \
	    "$URL/v1/chat/completions" "$URL/v1/chat/completions"
	assert_success
	assert_output --partial 'Re-using existing connection'
}

@test "replies on a kept-alive connection come at once, not after a delayed ACK" {
	provider
	printf '%s' "$OA" >req.json
	for i in $(seq 100); do
		[ "$i" = 1 ] || echo next
		printf 'url = "%s/v1/chat/completions"\ndata-binary = "@req.json"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$URL"
	done >curl.conf
	start=$(date +%s%N)
	run curl -sS -K curl.conf
	end=$(date +%s%N)
	assert_success
	[ "$(grep -c 200 <<<"$output")" -eq 100 ]
	# Nagle's algorithm against the delayed ACK costs 40 ms a reply: 4 s.
	[ $(((end - start) / 1000000)) -lt 2500 ]
}

@test "64 clients connecting at once are all let in without a SYN retry" {
	provider
	printf '%s' "$OA" >req.json
	for i in $(seq 256); do
		[ "$i" = 1 ] || echo next
		printf 'url = "%s/v1/chat/completions"\ndata-binary = "@req.json"\noutput = "/dev/null"\nwrite-out = "%%{http_code} %%{time_connect}\\n"\n' "$URL"
	done >curl.conf
	run curl -sS --parallel --parallel-max 64 -K curl.conf
	assert_success
	[ "$(grep -c '^200 ' <<<"$output")" -eq 256 ]
	# TCP's first retry of a dropped SYN comes after a second.
	run awk '/^[0-9]+ / && $2 > max { max = $2 } END { print (max < 0.9) ? "fast" : max }' <<<"$output"
	assert_output fast
}

@test "OpenAI: a stream of chunks, one word each, usage chunk when asked, then [DONE]" {
	provider
	body='{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"one two three"}]}'
	run post /v1/chat/completions "$body" -D "$BATS_TEST_TMPDIR/h"
	assert_success
	run grep -i '^content-type: text/event-stream' "$BATS_TEST_TMPDIR/h"
	assert_success
	run grep -i '^transfer-encoding: chunked' "$BATS_TEST_TMPDIR/h"
	assert_success
	post /v1/chat/completions "$body" | data >"$BATS_TEST_TMPDIR/ev"
	run tail -n 1 "$BATS_TEST_TMPDIR/ev"
	assert_output '[DONE]'
	run sh -c "sed '\$d' '$BATS_TEST_TMPDIR/ev' | jq -c '[.object, (.choices | map([.delta, .finish_reason])), .usage]'"
	assert_output - <<-'EOF'
	["chat.completion.chunk",[[{"role":"assistant","content":"","refusal":null},null]],null]
	["chat.completion.chunk",[[{"content":"echo: "},null]],null]
	["chat.completion.chunk",[[{"content":"one "},null]],null]
	["chat.completion.chunk",[[{"content":"two "},null]],null]
	["chat.completion.chunk",[[{"content":"three"},null]],null]
	["chat.completion.chunk",[[{},"stop"]],null]
	["chat.completion.chunk",[],{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}}]
	EOF
}

@test "OpenAI: no usage chunk and no usage members unless include_usage" {
	provider
	run sh -c "curl -sS -N --data-binary '{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}' $URL/v1/chat/completions | sed -n 's/^data: {/{/p' | jq -c 'has(\"usage\")' | sort -u"
	assert_output false
}

@test "Anthropic: the stream's events in the API's order, one word per delta" {
	provider
	body='{"model":"claude-x","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"one two"}]}'
	post /v1/messages "$body" >"$BATS_TEST_TMPDIR/s"
	run sed -n 's/^event: //p' "$BATS_TEST_TMPDIR/s"
	assert_output - <<-'EOF'
	message_start
	content_block_start
	ping
	content_block_delta
	content_block_delta
	content_block_delta
	content_block_stop
	message_delta
	message_stop
	EOF
	run sh -c "sed -n 's/^data: //p' '$BATS_TEST_TMPDIR/s' | jq -c 'select(.type == \"content_block_delta\" or .type == \"message_delta\" or .type == \"message_start\") | [.delta, .usage // .message.usage]'"
	assert_output - <<-'EOF'
	[null,{"input_tokens":2,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}]
	[{"type":"text_delta","text":"echo: "},null]
	[{"type":"text_delta","text":"one "},null]
	[{"type":"text_delta","text":"two"},null]
	[{"stop_reason":"end_turn","stop_sequence":null},{"output_tokens":3}]
	EOF
}

@test "OpenAI: --tool-call answers a request with tools by that call, arguments as a JSON string" {
	provider --tool-call 'grep:{"pattern":"a b","path":"."}'
	run post /v1/chat/completions "{\"model\":\"m\",$TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"find\"}]}"
	run jq -c '.choices[0] | [.finish_reason, .message.content,
	    (.message.tool_calls[] | [.type, .function.name,
	    (.function.arguments | fromjson), (.id | startswith("call_"))])]' \
	    <<<"$output"
	assert_output '["tool_calls",null,["function","grep",{"pattern":"a b","path":"."},true]]'
}

@test "OpenAI: a streamed tool call comes in several argument fragments" {
	provider --tool-call 'grep:{"pattern":"needle","path":"src/lib"}'
	post /v1/chat/completions "{\"model\":\"m\",\"stream\":true,$TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"find\"}]}" |
	    data | sed '$d' >"$BATS_TEST_TMPDIR/ev"
	run jq -r '.choices[0].delta.tool_calls[0].function.arguments // empty' "$BATS_TEST_TMPDIR/ev"
	[ "${#lines[@]}" -ge 3 ]
	run sh -c "jq -j '.choices[0].delta.tool_calls[0].function.arguments // empty' '$BATS_TEST_TMPDIR/ev'"
	assert_output '{"pattern":"needle","path":"src/lib"}'
	run jq -c -s '[.[].choices[0].delta.tool_calls[0] | select(.id) | [.index, .function.name]], [.[].choices[0].finish_reason | select(.)]' "$BATS_TEST_TMPDIR/ev"
	assert_output - <<-'EOF'
	[[0,"grep"]]
	["tool_calls"]
	EOF
}

@test "Anthropic: --tool-call answers by a tool_use block, streamed as input_json_delta fragments" {
	provider --tool-call 'grep:{"pattern":"needle","path":"src/lib"}'
	run post /v1/messages "{\"model\":\"m\",\"max_tokens\":9,$ATOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"find\"}]}"
	run jq -c '[.stop_reason, (.content[] | [.type, .name, .input])]' <<<"$output"
	assert_output '["tool_use",["tool_use","grep",{"pattern":"needle","path":"src/lib"}]]'
	post /v1/messages "{\"model\":\"m\",\"max_tokens\":9,\"stream\":true,$ATOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"find\"}]}" |
	    data >"$BATS_TEST_TMPDIR/ev"
	run jq -c 'select(.type == "content_block_start") | .content_block | [.type, .name, .input]' "$BATS_TEST_TMPDIR/ev"
	assert_output '["tool_use","grep",{}]'
	run jq -r 'select(.delta.type == "input_json_delta") | .delta.partial_json' "$BATS_TEST_TMPDIR/ev"
	[ "${#lines[@]}" -ge 3 ]
	run sh -c "jq -j 'select(.delta.type == \"input_json_delta\") | .delta.partial_json' '$BATS_TEST_TMPDIR/ev'"
	assert_output '{"pattern":"needle","path":"src/lib"}'
	run jq -r 'select(.type == "message_delta") | .delta.stop_reason' "$BATS_TEST_TMPDIR/ev"
	assert_output tool_use
}

@test "--tool-call is not repeated once the last message is the tool's result" {
	provider --tool-call 'grep:{}'
	run post /v1/chat/completions "{\"model\":\"m\",$TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"find\"},{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"grep\",\"arguments\":\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"found it\"}]}"
	run jq -c '.choices[0] | [.finish_reason, .message.content]' <<<"$output"
	assert_output '["stop","echo: find"]'
	run post /v1/messages "{\"model\":\"m\",\"max_tokens\":9,$ATOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"find\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"grep\",\"input\":{}}]},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"found it\"}]}]}"
	run jq -c '[.stop_reason, .content[0].text]' <<<"$output"
	assert_output '["end_turn","echo: find"]'
}

@test "--reply, --reply-file and --cached" {
	provider --reply 'fixed answer' --cached 2
	run post /v1/chat/completions "$OA"
	run jq -c '[.choices[0].message.content, .usage.prompt_tokens, .usage.prompt_tokens_details.cached_tokens]' <<<"$output"
	assert_output '["fixed answer",5,2]'
	run post /v1/messages "$AN"
	run jq -c '[.content[0].text, .usage.input_tokens, .usage.cache_read_input_tokens]' <<<"$output"
	assert_output '["fixed answer",3,2]'
	kill "$PROVIDER_PID"
	printf 'from a file\nof two lines' >"$BATS_TEST_TMPDIR/reply"
	provider --reply-file "$BATS_TEST_TMPDIR/reply"
	run post /v1/messages "$AN"
	run jq -c '[.content[0].text, .usage.output_tokens]' <<<"$output"
	assert_output '["from a file\nof two lines",6]'
}

@test "--key: the right credential header or 401 with the provider's error body" {
	provider --key sk-test-123 --log "$BATS_TEST_TMPDIR/log"
	run post /v1/chat/completions "$OA" -w '\n%{http_code}'
	assert_line --index 0 '{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}'
	assert_line --index 1 401
	run post /v1/chat/completions "$OA" -H 'Authorization: Bearer sk-test-123' -o /dev/null -w '%{http_code}'
	assert_output 200
	run post /v1/messages "$AN" -H 'x-api-key: sk-wrong' -H 'anthropic-version: 2023-06-01' -w '\n%{http_code}'
	assert_line --index 0 '{"type":"error","error":{"type":"authentication_error","message":"Incorrect API key provided"},"request_id":"req_fake"}'
	assert_line --index 1 401
	run post /v1/messages "$AN" -H 'x-api-key: sk-test-123' -o /dev/null -w '%{http_code}'
	assert_output 401
	run post /v1/messages "$AN" -H 'x-api-key: sk-test-123' -H 'anthropic-version: 2023-06-01' -o /dev/null -w '%{http_code}'
	assert_output 200
	run jq -c '[.path, .auth, .anthropic_version, .auth_ok]' "$BATS_TEST_TMPDIR/log"
	assert_output - <<-'EOF'
	["/v1/chat/completions",null,null,false]
	["/v1/chat/completions","authorization",null,true]
	["/v1/messages","x-api-key","2023-06-01",false]
	["/v1/messages","x-api-key",null,false]
	["/v1/messages","x-api-key","2023-06-01",true]
	EOF
	run grep -c sk- "$BATS_TEST_TMPDIR/log"
	assert_output 0
}

@test "--log keeps each request's body as JSON" {
	provider --log "$BATS_TEST_TMPDIR/log"
	post /v1/messages "$AN" >/dev/null
	run jq -c '[.method, .body.messages[0].content[0].text, .body.max_tokens, (.time | test("^[0-9-]+T[0-9:]+Z$"))]' "$BATS_TEST_TMPDIR/log"
	assert_output '["POST","hello there world",64,true]'
}

@test "the provider refuses requests its real counterpart would refuse" {
	provider
	run post /v1/messages '{"model":"m","messages":[{"role":"user","content":"x"}]}' -w '\n%{http_code}'
	assert_line --index 0 --partial '"max_tokens: Field required"'
	assert_line --index 1 400
	run post /v1/messages '{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"},{"role":"user","content":"x"}]}' -w '\n%{http_code}'
	assert_line --index 1 400
	run post /v1/messages '{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"user","content":"y"}]}' -w '\n%{http_code}'
	assert_line --index 0 --partial 'must alternate'
	run post /v1/chat/completions '{"model":"m","messages":[{"role":"tool","content":"x"}]}' -w '\n%{http_code}'
	assert_line --index 0 --partial "missing 'tool_call_id'"
	run post /v1/chat/completions '{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{}}}]}]}' -w '\n%{http_code}'
	assert_line --index 0 --partial "'arguments' must be a string"
	run post /v1/chat/completions '{"model":' -w '\n%{http_code}'
	assert_line --index 1 400
	run post /v1/chat/completions '{"model":"m","messages":[7]}' -w '\n%{http_code}'
	assert_line --index 1 400
}

@test "--status with --retry-after: every reply fails with the error body and the header" {
	provider --status 429 --retry-after 7
	for _ in 1 2; do
		run post /v1/chat/completions "$OA" -D "$BATS_TEST_TMPDIR/h" -w '\n%{http_code}'
		assert_line --index 0 '{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}'
		assert_line --index 1 429
		run grep -i '^retry-after: 7' "$BATS_TEST_TMPDIR/h"
		assert_success
	done
	run post /v1/messages "$AN" -w '\n%{http_code}'
	assert_line --index 0 '{"type":"error","error":{"type":"rate_limit_error","message":"Rate limit reached for requests"},"request_id":"req_fake"}'
}

@test "--retry-after takes an HTTP date verbatim; Anthropic's 529 is overloaded_error" {
	provider --status 529 --retry-after 'Wed, 21 Oct 2015 07:28:00 GMT'
	run post /v1/messages "$AN" -D "$BATS_TEST_TMPDIR/h" -w '\n%{http_code}'
	assert_line --index 0 --partial '"type":"overloaded_error"'
	assert_line --index 1 529
	run grep -i '^retry-after: Wed, 21 Oct 2015 07:28:00 GMT' "$BATS_TEST_TMPDIR/h"
	assert_success
}

@test "--fail-first: the first N requests fail (500 by default), then all is well; --count-file counts" {
	provider --fail-first 2 --count-file "$BATS_TEST_TMPDIR/count"
	run sh -c "for i in 1 2 3 4; do curl -s -o /dev/null -w '%{http_code} ' --data-binary '$OA' $URL/v1/chat/completions; done"
	assert_output '500 500 200 200 '
	run cat "$BATS_TEST_TMPDIR/count"
	assert_output 4
}

@test "--fail-first with --drop: the first request is dropped, the next answered" {
	provider --fail-first 1 --drop
	run post /v1/chat/completions "$OA"
	assert_failure 52
	run post /v1/chat/completions "$OA"
	assert_success
	assert_output --partial '"echo: hello there world"'
}

@test "--delay waits before replying" {
	provider --delay 400
	start=$(date +%s%N)
	post /v1/chat/completions "$OA" >/dev/null
	end=$(date +%s%N)
	[ $(((end - start) / 1000000)) -ge 400 ]
}

@test "--event-delay spaces the events of a stream" {
	provider --event-delay 100
	start=$(date +%s%N)
	run post /v1/messages '{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"a"}]}'
	end=$(date +%s%N)
	assert_output --partial 'event: message_stop'
	# 8 events, 7 gaps
	[ $(((end - start) / 1000000)) -ge 700 ]
}

@test "--stall-after: a stream stops after N events without closing; the provider carries on" {
	provider --stall-after 2
	run post /v1/messages '{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"a b c"}]}' --max-time 1
	assert_failure 28
	run sed -n 's/^event: //p' <<<"$output"
	assert_output - <<-'EOF'
	message_start
	content_block_start
	EOF
	run post /v1/chat/completions "$OA"
	assert_success
	assert_output --partial '"echo: hello there world"'
}

@test "--malformed: 200 with truncated JSON, and a stream cut in its second event" {
	provider --malformed
	run post /v1/chat/completions "$OA" -w '\n%{http_code}'
	assert_line --index 1 200
	run jq . <<<"${lines[0]}"
	assert_failure
	run post /v1/messages "$AN"
	assert_output --partial '"type":"message"'
	run jq . <<<"$output"
	assert_failure
	run post /v1/chat/completions '{"model":"m","stream":true,"messages":[{"role":"user","content":"a"}]}'
	assert_success
	run sh -c "sed -n 's/^data: //p' <<'EOF' | jq -c .object 2>/dev/null
$output
EOF"
	assert_failure
	assert_line --index 0 '"chat.completion.chunk"'
	refute_output --partial DONE
}

@test "--drop closes the connection without a reply" {
	provider --drop
	run post /v1/chat/completions "$OA"
	assert_failure 52
	run post /v1/messages "$AN"
	assert_failure 52
}

@test "--drop-mid sends the headers and half the body, then closes" {
	provider --drop-mid
	run post /v1/chat/completions "$OA" -D "$BATS_TEST_TMPDIR/h"
	assert_failure 18
	grep -q '^HTTP/1.1 200' "$BATS_TEST_TMPDIR/h"
	assert_output --partial '{"id":"chatcmpl-fake'
	run post /v1/messages '{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"a b c d"}]}'
	assert_failure 18
	assert_output --partial 'event: message_start'
	refute_output --partial 'event: message_stop'
}

@test "--content-type puts the wrong type on every reply" {
	provider --content-type text/html
	run post /v1/chat/completions "$OA" -o /dev/null -w '%{content_type}'
	assert_output text/html
	run post /v1/messages '{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"a"}]}' -o /dev/null -w '%{content_type}'
	assert_output text/html
}

@test "a client that goes away in the middle of a stream does not hurt the provider" {
	provider --event-delay 50
	for _ in 1 2 3; do
		run post /v1/messages '{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"a b c d e f g h"}]}' --max-time 0.2
		assert_failure 28
	done
	run post /v1/chat/completions "$OA"
	assert_success
	assert_output --partial '"echo: hello there world"'
	run cat "$BATS_TEST_TMPDIR/provider.out"
	refute_output --partial Traceback
}
