#!/usr/bin/env bats
# The shell completions work in the shells they are for: bash completes
# options and their arguments, fish too, and zsh parses its files.

load helper

# complete_bash PROGRAM WORD...: what bash offers for the last word.
complete_bash() {
	local p=$1
	shift
	bash -c '
		# compopt works only inside a real completion: stand in for it.
		compopt() { :; }
		source "$1/completions/bash/$2"
		shift 2
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		func=$(complete -p "${COMP_WORDS[0]}" | sed "s/.*-F \([^ ]*\) .*/\1/")
		"$func"
		printf "%s\n" "${COMPREPLY[@]}"
	' sh "$TOP" "$p" "$p" "$@"
}

@test "bash completes long options" {
	run complete_bash aw-plan --for
	assert_success
	assert_output --format
	run complete_bash aw-plan --
	assert_line --critical-path
	assert_line --db
	refute_line --completion
}

@test "bash completes an option's words and files" {
	run complete_bash aw-plan -f ''
	assert_output "$(printf 'ndjson\ndot\ntsv')"
	touch tasks.ndjson
	run complete_bash aw-plan tasks.nd
	assert_output tasks.ndjson
	run complete_bash aw-plan --db tas
	assert_output tasks.ndjson
	run complete_bash aw-plan --goal ''
	assert_output ""
}

@test "fish completes options and their words" {
	run fish -c "source $TOP/completions/fish/aw-plan.fish; complete -C 'aw-plan --for'"
	assert_success
	assert_output "$(printf -- '--format\twrite ndjson (the default), dot or tsv')"
	run fish -c "source $TOP/completions/fish/aw-plan.fish; complete -C 'aw-plan -f '"
	assert_line --partial "$(printf 'tsv\t')"
	assert_equal "${#lines[@]}" 3
}

@test "every completion file parses in its shell" {
	for f in "$TOP"/completions/bash/*; do
		bash -n "$f"
	done
	for f in "$TOP"/completions/zsh/_*; do
		zsh -n "$f"
	done
	for f in "$TOP"/completions/fish/*.fish; do
		fish -n "$f"
	done
}
