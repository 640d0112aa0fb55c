#!/usr/bin/env bats
# tk-md: documents to Markdown.  Text formats from the committed sources in
# tests/tk-md/, compared with their golden Markdown by diff -u; every error
# path (a missing file, a directory, binary data) says which file and why,
# with its exit status, while the other files still convert.

load helper

F=$BATS_TEST_DIRNAME/tk-md

@test "plain text and Markdown pass through unchanged" {
	run tk-md "$F/notes.md"
	assert_success
	diff -u "$F/notes.md" - <<<"$output"
}

@test "CSV: a GFM table, quoting as RFC 4180 says" {
	tk-md "$F/people.csv" | diff -u "$F/people.md" -
	tr , '\t' <"$F/people.csv" | sed 's/"wrote\t in 1843\t the first program"/wrote, in 1843, the first program/' >people.tsv
	tk-md --records people.tsv | jq -r .format | grep -qx tsv
}

@test "a missing file and a directory: 66, named, the others still convert" {
	mkdir dir
	run --separate-stderr tk-md nope.docx dir "$F/notes.md"
	assert_failure 66
	assert_equal "$stderr" "$(printf '%s\n' 'tk-md: nope.docx: No such file or directory' 'tk-md: dir: is a directory')"
	diff -u "$F/notes.md" - <<<"$output"
}
