#!/usr/bin/env bats
# The conventions every program keeps (STYLE.md): its four files, --help
# and --version, usage errors, a usage line equal to its manual's
# SYNOPSIS, and shipped completions equal to what its option table makes.

load helper

# programs: one per cmd/*.c; a program's other files, in cmd/<prog>/,
# are its own and not programs.
programs() {
	for p in "$TOP"/cmd/*.c; do
		p=${p##*/}
		echo "${p%.c}"
	done
}

@test "every program has its man page, bats suite, completions and binary" {
	for p in $(programs); do
		assert [ -f "$TOP/man/man1/$p.1" ]
		assert [ -f "$TOP/tests/$p.bats" ]
		assert [ -f "$TOP/completions/bash/$p" ]
		assert [ -f "$TOP/completions/zsh/_$p" ]
		assert [ -f "$TOP/completions/fish/$p.fish" ]
		assert [ -x "$AU_BIN/$p" ]
		grep -q "^PROGS = .*\\<$p\\>" "$TOP/Makefile" || fail "$p is not in PROGS"
	done
}

@test "--help and --version exit 0 and say the right things" {
	version=$(sed -n 's/^VERSION = //p' "$TOP/Makefile")
	for p in $(programs); do
		run --separate-stderr "$p" --help
		assert_success
		assert_regex "${lines[0]}" "^usage: $p "
		assert_equal "$stderr" ""
		run --separate-stderr "$p" --version
		assert_success
		assert_equal "$output" "$p (agentutils) $version"
	done
}

@test "an unknown option exits 64 with the usage on standard error" {
	for p in $(programs); do
		run --separate-stderr "$p" --no-such-option
		assert_failure 64
		assert_equal "$output" ""
		assert_equal "${stderr_lines[0]}" "$p: unknown option \"--no-such-option\""
		assert_regex "${stderr_lines[1]}" "^usage: $p "
	done
}

# synopsis PROGRAM: the man page's SYNOPSIS as one line of words.
synopsis() {
	mandoc -Tascii -O width=1000 "$TOP/man/man1/$1.1" | col -b |
	    awk '/^SYNOPSIS/ { on = 1; next } on && /^[A-Z]/ { exit } on' |
	    tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//'
}

# usage PROGRAM: the usage lines of --help as one line of words.
usage() {
	"$1" --help | awk '/^$/ { exit } { print }' | sed 's/^usage: //' |
	    tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//'
}

@test "the usage is the man page SYNOPSIS, word for word" {
	for p in $(programs); do
		assert_equal "$(usage "$p")" "$(synopsis "$p")"
	done
}

@test "every option of --help is in the man page" {
	for p in $(programs); do
		for o in $("$p" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
			grep -q -e "Fl \\\\${o#-}\\>" "$TOP/man/man1/$p.1" ||
			    fail "$p: $o is not in man/man1/$p.1"
		done
	done
}

@test "the shipped completions are what the option tables make" {
	for p in $(programs); do
		"$p" --completion bash | diff -u "$TOP/completions/bash/$p" -
		"$p" --completion zsh | diff -u "$TOP/completions/zsh/_$p" -
		"$p" --completion fish | diff -u "$TOP/completions/fish/$p.fish" -
	done
}

@test "--completion refuses an unknown shell" {
	run --separate-stderr aw-plan --completion tcsh
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'aw-plan: --completion: unknown shell "tcsh" (bash, zsh or fish)'
}
