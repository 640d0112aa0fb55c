#!/usr/bin/env bats
# tg-grant: add (glob, jq condition, expiry, note), list (in force, or
# --all with expired and revoked), revoke (twice is 1, unknown is 66),
# every change in the audit log, and the usage errors.

load helper

@test "add, list and revoke, with valid records" {
	USER=alice run --separate-stderr tg-grant add --tool 'fs/*' --where '.args.path | startswith("/srv")' --note 'files are fine'
	assert_success
	assert_equal "$stderr" ""
	echo "$output" | valid
	assert_equal "$(jq -r '[.tool, .where, .note, .status, .created_by] | join(" ")' <<<"$output")" "fs/* .args.path | startswith(\"/srv\") files are fine active alice"
	id=$(jq -r .id <<<"$output")
	tg-grant add --tool grep >/dev/null
	run tg-grant list
	assert_equal "${#lines[@]}" 2
	echo "$output" | valid
	run tg-grant revoke "$id"
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -r .status <<<"$output")" revoked
	run tg-grant list
	assert_equal "$(jq -r .tool <<<"$output")" grep
	run tg-grant list --all
	assert_equal "$(jq -r .status <<<"$output" | tr '\n' ' ')" "revoked active "
	run tg-grant --format table list
	assert_output --regexp '^[0-9A-Z]{26}  active   grep +-  +-$'
}

@test "an expired grant is ignored, and listed with --all" {
	tg-grant add --tool x --expires 1500ms >/dev/null
	run tg-grant list
	assert_equal "${#lines[@]}" 1
	sleep 1.6
	run tg-grant list
	assert_output ""
	run tg-grant list --all
	assert_equal "$(jq -r .status <<<"$output")" expired
	echo "$output" | valid
}

@test "every change goes to the audit log" {
	id=$(tg-grant add --tool x | jq -r .id)
	tg-grant revoke "$id" >/dev/null
	audit-export --format ndjson -o audit.ndjson
	assert_equal "$(jq -r 'select(.record.type == "tool.grant") | .record.status' audit.ndjson | tr '\n' ' ')" "active revoked "
}

@test "without audit keys it warns and goes on" {
	nokeys
	run --separate-stderr tg-grant add --tool x
	assert_success
	assert_regex "$stderr" '^tg-grant: not audited: '
	run --separate-stderr tg-grant -q add --tool y
	assert_success
	assert_equal "$stderr" ""
}

@test "revoking twice is 1, an unknown id 66" {
	id=$(tg-grant add --tool x | jq -r .id)
	tg-grant revoke "$id" >/dev/null
	run --separate-stderr tg-grant revoke "$id"
	assert_failure 1
	assert_equal "$stderr" "tg-grant: grant \"$id\" is revoked already"
	run --separate-stderr tg-grant revoke nonesuch
	assert_failure 66
	assert_equal "$stderr" 'tg-grant: no grant "nonesuch"'
}

@test "bad globs, jq and durations are 64 and add nothing" {
	run --separate-stderr tg-grant add --tool 'a['
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "tg-grant: --tool: glob \"a[\": '[' without its ']'"
	run --separate-stderr tg-grant add --tool ''
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "tg-grant: --tool: empty glob"
	run --separate-stderr tg-grant add --tool x --where '.a |'
	assert_failure 64
	assert_regex "${stderr_lines[0]}" '^tg-grant: --where: syntax error'
	run --separate-stderr tg-grant add --tool x --expires soon
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'tg-grant: --expires: invalid duration "soon"'
	run tg-grant list --all
	assert_output ""
}

@test "usage errors are 64" {
	for args in "" "nope" "add" "list x" "revoke" "revoke a b" "list --tool x" "revoke x --all"; do
		run --separate-stderr tg-grant $args
		assert_failure 64
	done
	run --separate-stderr tg-grant add
	assert_equal "${stderr_lines[0]}" "tg-grant: add: needs --tool"
	run --separate-stderr tg-grant list --note x
	assert_equal "${stderr_lines[0]}" "tg-grant: --tool, --where, --expires and --note go with add"
}
