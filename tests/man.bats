#!/usr/bin/env bats
# The manual: every page is clean under mandoc -Tlint, and every example
# in every page's EXAMPLES runs and prints what the page says.

load helper

# mandoc checks .Xr references against the installed manuals: a page of
# ours that is not installed yet, or a stale mandoc.db, is not a defect
# of the page.
lint() {
	mandoc -Tlint "$1" 2>&1 |
	    grep -v -e 'referenced manual not found' -e 'outdated mandoc.db' || true
}

@test "every page is clean under mandoc -Tlint" {
	for page in "$TOP"/man/man*/*.[0-9]; do
		assert_equal "$(lint "$page")" ""
	done
}

@test "every page has the sections a user looks for" {
	for page in "$TOP"/man/man1/*.1; do
		for sh in NAME SYNOPSIS DESCRIPTION ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
			grep -q "^\.Sh $sh\$" "$page" || fail "$page: no $sh"
		done
	done
}

@test "the examples of every page run and print what the page shows" {
	cp -R "$TOP/examples" .
	for page in "$TOP"/man/man*/*.[0-9]; do
		run "$TOP/tests/man-examples" "$page"
		assert_success
	done
}
