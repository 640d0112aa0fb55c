#!/usr/bin/env bats
# mf-usage: the sums of mf_usage, by key and period, and spend against
# the budgets of models.json.

load helper

setup() {
	home
	mf-usage >/dev/null
	now=$(($(date +%s) * 1000))
	day=$((now - 86400000 * 2))
	db "INSERT INTO mf_usage (ts, request_id, run_id, task_id, provider, model, input_tokens, output_tokens, cached_tokens, cost_usd, latency_ms, ttft_ms, status, attempts) VALUES
	    ($now, 'a', 'R1', 't1', 'p', 'm1', 10, 5, 2, 0.25, 100, 10, 'ok', 1),
	    ($now, 'b', 'R1', 't2', 'p', 'm1', 20, 5, 0, 0.5, 300, 30, 'ok', 1),
	    ($now, 'c', 'R2', NULL, 'q', 'm2', 0, 0, 0, 0, 50, NULL, 'error', 3),
	    ($now, 'd', NULL, NULL, NULL, NULL, 0, 0, 0, 0, 1, NULL, 'refused', 0),
	    ($day, 'e', 'R0', NULL, 'q', 'm2', 7, 7, 0, 1, 200, 20, 'ok', 1)"
}

@test "all requests in one record: sums and latency percentiles of those answered" {
	run --separate-stderr mf-usage
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.requests, .errors, .refused, .input_tokens, .output_tokens, .cached_tokens, .cost_usd]' <<<"$output")" '[5,1,1,37,17,2,1.75]'
	assert_equal "$(jq -c '[.latency_ms.p50, .latency_ms.p90, .latency_ms.max, .ttft_ms.p50]' <<<"$output")" '[200,300,300,20]'
}

@test "--by model, provider, run, task, day: one record each, requests without a key first as null" {
	run --separate-stderr mf-usage --by model
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.model, .requests, .cost_usd]' <<<"$output" | paste -sd ' ')" '[null,1,0] ["m1",2,0.75] ["m2",2,1]'
	run mf-usage --by provider
	assert_equal "$(jq -c '[.provider, .requests]' <<<"$output" | paste -sd ' ')" '[null,1] ["p",2] ["q",2]'
	run mf-usage --by run
	assert_equal "$(jq -r '.run // "-"' <<<"$output" | paste -sd ' ')" '- R0 R1 R2'
	run mf-usage --by task
	assert_equal "$(jq -c '[.task, .requests]' <<<"$output" | paste -sd ' ')" '[null,3] ["t1",1] ["t2",1]'
	run mf-usage --by day
	assert_equal "$(jq -c .requests <<<"$output" | paste -sd ' ')" '1 4'
	echo "$output" | valid
}

@test "--since and --until take RFC 3339 times and durations ago" {
	run mf-usage --since 1d
	assert_equal "$(jq .requests <<<"$output")" 4
	run mf-usage --until 1d
	assert_equal "$(jq .requests <<<"$output")" 1
	run mf-usage --since 2000-01-01T00:00:00Z --until 2000-01-02T00:00:00Z
	assert_equal "$(jq -c '[.requests, .latency_ms.p50]' <<<"$output")" '[0,null]'
	run --separate-stderr mf-usage --since yesterday
	assert_failure 64
	[[ $stderr == *"--since: expected an RFC 3339 time or a duration"* ]]
}

@test "--format table: a header and a line each" {
	run mf-usage --by model --format table
	assert_success
	assert_line --index 0 --regexp '^MODEL +REQUESTS +ERRORS +INPUT +OUTPUT +COST_USD +P50_MS +P99_MS$'
	assert_line --index 2 --regexp '^m1 +2 +0 +30 +10 +0\.750000 +100 +300$'
}

@test "--budget: today's spend against daily_usd, each run's against run_usd" {
	echo '{"budgets": {"daily_usd": 2, "run_usd": 0.6}}' >m.json
	run --separate-stderr mf-usage --budget --models m.json
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.budget, .scope, .limit_usd, .spent_usd, .left_usd]' <<<"$output" | sed 1d | paste -sd ' ')" '["run","R0",0.6,1,-0.4] ["run","R1",0.6,0.75,-0.15000000000000002] ["run","R2",0.6,0,0.6]'
	assert_equal "$(head -1 <<<"$output" | jq -c '[.budget, .spent_usd]')" '["daily",0.75]'
	run mf-usage --budget --models m.json --since 1d
	assert_equal "$(jq -r .scope <<<"$output" | sed 1d | paste -sd ' ')" 'R1 R2'
	echo '{"budgets": {"daily_usd": -1}}' >bad.json
	run --separate-stderr mf-usage --budget --models bad.json
	assert_failure 78
	run --separate-stderr mf-usage --budget --models none.json
	assert_failure 66
}

@test "usage errors exit 64" {
	run mf-usage --by colour
	assert_failure 64
	run mf-usage --budget --by model
	assert_failure 64
	run mf-usage extra
	assert_failure 64
}
