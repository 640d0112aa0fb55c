#!/usr/bin/env bats
# consistency-exit: every exit status a program can return, as its source
# has it (tests/exit-codes follows main() through the program and lib/),
# is listed in its man page's EXIT STATUS, and no page lists one that its
# program never returns.

load helper

@test "every page's EXIT STATUS lists exactly what its program returns" {
	run "$TOP/tests/exit-codes"
	assert_success
	assert_output ""
}

@test "every program returns 64 for usage, and some other failure" {
	run "$TOP/tests/exit-codes" -l
	assert_success
	[ "${#lines[@]}" -eq "$(sed -n 's/^PROGS = //p' "$TOP/Makefile" | wc -w)" ]
	for l in "${lines[@]}"; do
		[[ $l =~ ^[a-z-]+\ (1\ )?64\ [0-9] ]] || {
			echo "no 64 and more: $l" >&2
			return 1
		}
	done
}

# A copy of the tree to break: the sources linked, the pages copied.
tree() {
	mkdir tree
	ln -s "$TOP/cmd" "$TOP/lib" "$TOP/Makefile" tree/
	cp -r "$TOP/man" tree/
}

@test "a code the program returns but its page lacks is named" {
	tree
	sed -i '/^\.It 66$/,/^\.It 70$/{/^\.It 70$/!d}' tree/man/man1/tg-grant.1
	AU_TOP=$PWD/tree run "$TOP/tests/exit-codes" tg-grant
	assert_failure 1
	assert_output --regexp '^exit-codes: man/man1/tg-grant\.1: EXIT STATUS lacks 66, which tg-grant returns \(.*\)$'
}

@test "a code the page lists but the program never returns is named" {
	tree
	sed -i 's/^\.It 70$/.It 69\nA service is unavailable.\n.It 70/' tree/man/man1/tg-grant.1
	AU_TOP=$PWD/tree run "$TOP/tests/exit-codes" tg-grant
	assert_failure 1
	assert_output "exit-codes: man/man1/tg-grant.1: EXIT STATUS lists 69, which tg-grant never returns"
}

@test "signals caught and passed on as 128 + N are codes too" {
	run "$TOP/tests/exit-codes" -l audit-write tg-invoke
	assert_success
	assert_line --regexp '^audit-write .* 129 130 143$'
	assert_line --regexp '^tg-invoke .* 129 130 143$'
}
