#!/usr/bin/env bats
# tk-note: notes added, shown, edited (with options or an editor on a
# terminal), listed, searched (ranking, snippets, unicode, bad queries),
# tagged and removed; exported to Markdown and imported back to the byte,
# bad files reported by file and line; every change audited; the indexes
# kept in step by the triggers; every error path and its status.

load helper

# add TITLE BODY [TAG ...]: add a note, print its id.
add() {
	local title=$1 body=$2 args=()
	shift 2
	for t in "$@"; do
		args+=(--tag "$t")
	done
	tk-note add --title "$title" --body "$body" "${args[@]}" | jq -r .id
}

@test "add from --body, --file and standard input; show and list write valid records" {
	run --separate-stderr tk-note add --title 'One' --body 'the first' --tag b --tag a --tag b
	assert_success
	assert_equal "$stderr" ""
	echo "$output" | valid
	assert_equal "$(jq -c '[.title, .tags, .body]' <<<"$output")" '["One",["a","b"],"the first"]'
	id=$(jq -r .id <<<"$output")
	printf 'from a file\n' >body.txt
	tk-note add --title Two --file body.txt >/dev/null
	printf 'from stdin\n' | tk-note add --title Three >/dev/null
	printf 'dash\n' | tk-note add --title Four --file - >/dev/null
	run tk-note list
	assert_equal "${#lines[@]}" 4
	echo "$output" | valid
	assert_equal "$(jq -r .title <<<"$output" | tr '\n' ' ')" "Four Three Two One "
	assert_equal "$(jq -r .body <<<"$output" | tr '\n' ' ')" "dash  from stdin  from a file  the first "
	run tk-note show "$id"
	assert_equal "$(jq -r .title <<<"$output")" One
	echo "$output" | valid
}

@test "--format table: a line a note, show as the Markdown file, control characters as ?" {
	id=$(add "$(printf 'bell\a here')" 'x' t1)
	run tk-note --format table list
	assert_output --regexp "^$id  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}  bell\\? here  #t1\$"
	run tk-note --format table show "$id"
	assert_line --index 0 -- '---'
	assert_line --index 1 "id: $id"
	assert_line --index 2 'title: "bell\u0007 here"'
	assert_line --index 7 'x'
}

@test "search: a title hit ranks above body hits, more hits above fewer" {
	add 'Shopping' 'apples and kiwi' >/dev/null
	add 'Kiwi' 'a fruit' >/dev/null
	add 'Twice' 'kiwi here and kiwi there, in a text of some length' >/dev/null
	add 'Once' 'kiwi here and nothing else, in a text of some length' >/dev/null
	add 'Other' 'nothing to see' >/dev/null
	run tk-note search kiwi
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -r .title <<<"$output" | tr '\n' ' ')" "Kiwi Shopping Twice Once "
	assert_equal "$(jq -s 'map(.score) | . == (sort | reverse) and all(. > 0)' <<<"$output")" true
	run tk-note search kiwi --limit 2
	assert_equal "${#lines[@]}" 2
	run tk-note search 'title:kiwi'
	assert_equal "$(jq -r .title <<<"$output")" Kiwi
	run tk-note search 'kiwi NOT fruit' 'NOT apples'
	assert_equal "$(jq -r .title <<<"$output" | tr '\n' ' ')" "Twice Once "
	run tk-note search 'twi*'
	assert_equal "$(jq -r .title <<<"$output")" Twice
	run tk-note search '"kiwi there"'
	assert_equal "$(jq -r .title <<<"$output")" Twice
}

@test "search: snippets mark the words matched, in the body" {
	add 'Long' "$(printf 'word%d ' $(seq 1 40)) the needle is here $(printf 'tail%d ' $(seq 1 40))" >/dev/null
	add 'Short' 'A needle and another Needle.' >/dev/null
	run tk-note search needle
	assert_equal "$(jq -r 'select(.title == "Short") | .snippet' <<<"$output")" 'A [needle] and another [Needle].'
	assert_equal "$(jq -r 'select(.title == "Long") | .snippet' <<<"$output")" '...word35 word36 word37 word38 word39 word40  the [needle] is here tail1 tail2 tail3 tail4 tail5 tail6...'
	run tk-note --format table search 'another'
	assert_line --index 1 '    A needle and [another] Needle.'
}

@test "search: unicode, case and diacritics" {
	add 'Café crème' 'Über naïve façade' >/dev/null
	add 'Ελληνικά' 'Σωκράτης και ΠΛΆΤΩΝ' >/dev/null
	add 'Русский' 'Москва зимой' >/dev/null
	for q in cafe CAFÉ creme uber NAIVE facade; do
		run tk-note search "$q"
		assert_equal "$(jq -r .title <<<"$output")" 'Café crème'
	done
	# Case folds in every script; diacritics go from Latin letters only.
	for q in σωκράτης ΣΩΚΡΆΤΗΣ πλάτων ελληνικά; do
		run tk-note search "$q"
		assert_equal "$(jq -r .title <<<"$output")" 'Ελληνικά'
	done
	run tk-note search москва
	assert_equal "$(jq -r .snippet <<<"$output")" '[Москва] зимой'
}

@test "search: nothing found is 1; a bad query is 65 with a clear message; --literal takes any text" {
	add 'C code' 'see file.c and "quotes" (here)' >/dev/null
	run --separate-stderr tk-note search nothing
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" ""
	for q in 'file.c' 'a AND' '"open' '(' 'nosuch:col'; do
		run --separate-stderr tk-note search "$q"
		assert_failure 65
		assert_output ""
		assert_regex "$stderr" '^tk-note: search: bad query "'
		[[ $stderr != *$'\n'* ]] || fail "more than one line: $stderr"
	done
	run --separate-stderr tk-note search 'file.c'
	assert_equal "$stderr" 'tk-note: search: bad query "file.c": syntax error near "."'
	run --separate-stderr tk-note search 'nosuch:col'
	assert_equal "$stderr" 'tk-note: search: bad query "nosuch:col": no such column: nosuch'
	run tk-note search --literal 'file.c "quotes" (here) AND'
	assert_success
	assert_equal "$(jq -r .title <<<"$output")" 'C code'
	run tk-note search '"file.c"'
	assert_success
}

@test "tag adds and removes, in order; words after tag beginning with - are tags" {
	id=$(add 'T' 'b' keep old)
	run --separate-stderr tk-note tag "$id" +new -old plain
	assert_success
	assert_equal "$(jq -c .tags <<<"$output")" '["keep","new","plain"]'
	run tk-note -q tag "$id" -new -q
	assert_equal "$(jq -c .tags <<<"$output")" '["keep","plain"]'
	run tk-note --db "$XDG_STATE_HOME/agentutils/state.db" tag "$id" -- -plain +x
	assert_equal "$(jq -c .tags <<<"$output")" '["keep","x"]'
	run tk-note tag "$id" +x +a -a
	assert_equal "$(jq -c .tags <<<"$output")" '["keep","x"]'
	run tk-note list --tag keep --tag x
	assert_equal "$(jq -r .id <<<"$output")" "$id"
	run tk-note list --tag keep --tag new
	assert_output ""
	run --separate-stderr tk-note tag "$id" '+a b'
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'tk-note: tag: "a b" is not a tag (letters, digits and "_-.:/" only)'
	run --separate-stderr tk-note tag "$id" --x
	assert_failure 64
	run --separate-stderr tk-note tag nonesuch +a
	assert_failure 66
	assert_equal "$stderr" 'tk-note: no note "nonesuch"'
	for bad in '' '-x' '.x' 'a,b' "$(printf 'x%.0s' $(seq 65))"; do
		run --separate-stderr tk-note add --title t --body b --tag "$bad"
		assert_failure 64
	done
}

@test "edit replaces the title or the body; the same text changes nothing" {
	id=$(add 'Old title' 'old body' t)
	before=$(tk-note show "$id" | jq -r .updated)
	sleep 0.01
	run tk-note edit "$id" --title 'New title'
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -r '[.title, .body] | join("/")' <<<"$output")" 'New title/old body'
	after=$(jq -r .updated <<<"$output")
	[[ $after > $before ]] || fail "updated did not move: $before $after"
	echo 'new body' | tk-note edit "$id" --file - >/dev/null
	run tk-note search old
	assert_failure 1
	run tk-note search new
	assert_equal "$(jq -r .body <<<"$output")" 'new body'
	n=$(audit-export --format ndjson -o - | grep -c '"note.event"')
	run tk-note edit "$id" --title 'New title'
	assert_equal "$(jq -r .updated <<<"$output")" "$(tk-note show "$id" | jq -r .updated)"
	assert_equal "$(audit-export --format ndjson -o - | grep -c '"note.event"')" "$n"
	run --separate-stderr tk-note edit "$id" </dev/null
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'tk-note: edit: --title, --body or --file, or a terminal for the editor'
	run --separate-stderr tk-note edit nonesuch --title x
	assert_failure 66
}

@test "edit on a terminal opens the editor and reads the note back" {
	command -v script >/dev/null || skip "no script(1) to give tk-note a terminal"
	id=$(add 'Edit me' 'body one' t)
	printf '#!/bin/sh\nsed -i -e "s/body one/body two/" -e "s/\\"t\\"/\\"t\\", \\"u\\"/" "$1"\n' >ed.sh
	chmod +x ed.sh
	EDITOR=$PWD/ed.sh VISUAL= script -qec "tk-note edit $id" /dev/null >/dev/null
	run tk-note show "$id"
	assert_equal "$(jq -c '[.body, .tags]' <<<"$output")" '["body two",["t","u"]]'
	printf '#!/bin/sh\nprintf "not a note\\n" >"$1"\n' >bad.sh
	chmod +x bad.sh
	TMPDIR=$PWD run script -qec "VISUAL=$PWD/bad.sh tk-note edit $id; echo status \$?" /dev/null
	assert_output --partial 'no front matter'
	assert_output --partial 'status 65'
	ls "$PWD"/tk-note.*/"$id.md"
	printf '#!/bin/sh\nexit 3\n' >fail.sh
	chmod +x fail.sh
	run script -qec "VISUAL=$PWD/fail.sh tk-note edit $id; echo status \$?" /dev/null
	assert_output --partial 'the editor ended with status 3'
	assert_output --partial 'status 1'
	assert_equal "$(tk-note show "$id" | jq -r .body)" 'body two'
}

@test "rm removes, an unknown id is 66 and the others still go" {
	a=$(add A 'alpha words')
	b=$(add B 'beta words')
	run --separate-stderr tk-note -v rm "$a" nonesuch
	assert_failure 66
	assert_equal "${stderr_lines[0]}" "tk-note: $a: removed"
	assert_equal "${stderr_lines[1]}" 'tk-note: no note "nonesuch"'
	run tk-note list
	assert_equal "$(jq -r .id <<<"$output")" "$b"
	run tk-note search alpha
	assert_failure 1
	run --separate-stderr tk-note show "$a" "$b"
	assert_failure 66
	assert_equal "$(jq -r .id <<<"$output")" "$b"
}

@test "the triggers keep the indexes in step with tk_notes, whoever writes it" {
	id=$(add 'Indexed' 'findme here' x y)
	assert_equal "$(db 'SELECT count(*) FROM tk_note_tags')" 2
	db "DELETE FROM tk_notes WHERE id = '$id'"
	assert_equal "$(db 'SELECT count(*) FROM tk_note_tags')" 0
	run tk-note search findme
	assert_failure 1
	db "INSERT INTO tk_notes_fts(tk_notes_fts) VALUES ('integrity-check')"
}

@test "--where, --since and --limit select" {
	add A 'a' t >/dev/null
	add B 'bb' t >/dev/null
	add C 'ccc' >/dev/null
	run tk-note list --where '.body | length > 1'
	assert_equal "$(jq -r .title <<<"$output" | tr '\n' ' ')" "C B "
	run tk-note list --where '.body | length > 1' --limit 1
	assert_equal "$(jq -r .title <<<"$output")" C
	run tk-note list --limit 2
	assert_equal "${#lines[@]}" 2
	run tk-note list --limit 0
	assert_equal "${#lines[@]}" 3
	run tk-note search a OR bb OR ccc --where '.tags | index("t")' --tag t
	assert_equal "$(jq -r .title <<<"$output" | sort | tr '\n' ' ')" "A B "
	run tk-note list --since 1h
	assert_equal "${#lines[@]}" 3
	run tk-note list --since 2999-01-01T00:00:00Z
	assert_output ""
	db "UPDATE tk_notes SET updated = '2020-01-01T00:00:00.000Z' WHERE title = 'A'"
	run tk-note list --since 2021-01-01T00:00:00+02:00
	assert_equal "$(jq -r .title <<<"$output" | tr '\n' ' ')" "C B "
	run --separate-stderr tk-note list --where '.body | error("boom")'
	assert_failure 65
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 3
	assert_regex "${stderr_lines[0]}" '^tk-note: [0-9A-Z]{26}: --where: boom$'
}

@test "export and import round trip to the byte, awkward titles and bodies included" {
	long=$(printf 'é%.0s' $(seq 40))
	add 'a/b/../c' 'slashes' >/dev/null
	add '..' 'dots' x >/dev/null
	add '.hidden' 'leading dot' >/dev/null
	add '!!!' 'nothing left of the title' >/dev/null
	add 'Same' 'first' >/dev/null
	add 'same' 'second' >/dev/null
	add "$long" 'two-byte letters cut at 64 bytes' >/dev/null
	add "$(printf 'a%.0s' $(seq 63))é" 'no room for the last letter' >/dev/null
	add 'Quote " colon: hash # tab	x' '---
not: front matter
---' >/dev/null
	add 'Ünïcödé 東京' "$(printf '\n\nstarts with blank lines, ends without a newline')" a b >/dev/null
	printf 'body ending in two newlines\n\n' | tk-note add --title 'Newlines' >/dev/null
	tk-note list | sort >before.ndjson
	run --separate-stderr tk-note export out
	assert_success
	assert_output ""
	bang=$(jq -r 'select(.title == "!!!") | .id' before.ndjson)
	same=$(jq -r 'select(.title == "same") | .id' before.ndjson)
	assert_equal "$(cd out && ls | LC_ALL=C sort | tr '\n' ' ')" "a-b-c.md $(printf 'a%.0s' $(seq 63)).md hidden.md newlines.md note-$bang.md note.md quote-colon-hash-tab-x.md same-$same.md same.md Ünïcödé-東京.md $(printf 'é%.0s' $(seq 32)).md "
	rm "$XDG_STATE_HOME/agentutils/state.db"*
	run --separate-stderr tk-note import out
	assert_success
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 11
	echo "$output" | valid
	tk-note list | sort | diff -u before.ndjson -
	tk-note export again
	diff -r out again
	n=$(audit-export --format ndjson -o - | grep -c '"op":"import"')
	assert_equal "$n" 11
	tk-note import out >/dev/null
	assert_equal "$(audit-export --format ndjson -o - | grep -c '"op":"import"')" 11
}

@test "import: hand-written files, without ids or times, YAML lists" {
	mkdir in
	printf -- '---\ntitle: Plain title: with a colon\ntags: [one, "two"]\n---\nbody\n' >in/a.md
	printf -- "---\r\ntitle: 'it''s quoted'\r\n# a comment\r\n\r\ntags:\r\n  - x\r\n  - 'y'\r\ncreated: 2026-01-02T03:04:05+01:00\r\n---\r\n" >in/b.md
	printf -- '---\ntitle: x\n---\n' >in/.hidden.md
	printf -- 'not markdown\n' >in/c.txt
	mkdir in/sub.md
	run --separate-stderr tk-note import in
	assert_success
	assert_equal "$stderr" "tk-note: in/sub.md: not a regular file, skipped"
	echo "$output" | valid
	assert_equal "$(jq -c '[.title, .tags, .body]' <<<"$output" | tr '\n' ' ')" '["Plain title: with a colon",["one","two"],"body\n"] ["it'"'"'s quoted",["x","y"],""] '
	assert_equal "$(jq -r 'select(.title == "it'"'"'s quoted") | [.created, .updated] | join(" ")' <<<"$output")" "2026-01-02T02:04:05.000Z 2026-01-02T02:04:05.000Z"
}

@test "import: bad files are reported as file:line and skipped, the others imported" {
	mkdir in
	id=$(tk-note add --title x --body y | jq -r .id)
	printf -- 'no front matter\n' >in/01.md
	printf -- '---\ntitle: t\nbody: x\n---\n' >in/02.md
	printf -- '---\nid: nope\ntitle: t\n---\n' >in/03.md
	printf -- '---\ntitle: t\n\ncreated: yesterday\n---\n' >in/04.md
	printf -- '---\ntitle: t\n' >in/05.md
	printf -- '---\ntitle: t\n---\nbad \xff byte\n' >in/06.md
	printf -- '---\ntitle: t\n---\nnul \0 byte\n' >in/07.md
	printf -- '---\ntitle: t\ntags: [ok, "not ok"]\n---\n' >in/08.md
	printf -- '---\ntags: []\n---\nno title\n' >in/09.md
	printf -- '---\ntitle: t\ntitle: u\n---\n' >in/10.md
	printf -- '---\ntitle: "unclosed\n---\n' >in/11.md
	printf -- '---\ntitle: good\n---\nimported\n' >in/12.md
	printf -- '---\nid: %s\ntitle: replaced\n---\nby id\n' "$id" >in/13.md
	printf -- '---\ntitle:\n---\n' >in/14.md
	printf -- '---\n- x\ntitle: t\n---\n' >in/15.md
	run --separate-stderr tk-note import in
	assert_failure 65
	assert_equal "$stderr" "tk-note: in/01.md:1: no front matter (a first line \"---\")
tk-note: in/02.md:3: unknown key \"body\"
tk-note: in/03.md:2: id: \"nope\" is not an id
tk-note: in/04.md:4: created: not an RFC 3339 time
tk-note: in/05.md:1: front matter without its closing \"---\"
tk-note: in/06.md:4: not valid UTF-8
tk-note: in/07.md:4: a NUL byte
tk-note: in/08.md:3: tags: item 2 is not a tag (letters, digits and \"_-.:/\" only)
tk-note: in/09.md:1: no title
tk-note: in/10.md:3: \"title\" given twice
tk-note: in/11.md:2: title: a bad quoted string
tk-note: in/14.md:2: title: empty
tk-note: in/15.md:2: not \"key: value\""
	assert_equal "$(jq -r .title <<<"$output" | tr '\n' ' ')" "good replaced "
	run tk-note list
	assert_equal "${#lines[@]}" 2
	assert_equal "$(tk-note show "$id" | jq -r .body)" 'by id'
}

@test "text that is not UTF-8, or holds a NUL byte, is refused with 65" {
	printf 'caf\xe9\n' >latin1.txt
	run --separate-stderr tk-note add --title t --file latin1.txt
	assert_failure 65
	assert_equal "$stderr" 'tk-note: latin1.txt: the body has not valid UTF-8 at byte 3'
	run --separate-stderr tk-note add --title t < <(printf 'a\0b')
	assert_failure 65
	assert_equal "$stderr" 'tk-note: <stdin>: the body has a NUL byte at byte 1'
	run --separate-stderr tk-note add --title "$(printf 'caf\xe9')" --body x
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'tk-note: --title: not valid UTF-8 at byte 3'
	run tk-note list
	assert_output ""
}

@test "every change goes to the audit log, naming the note and the change, not the text" {
	id=$(add 'Secret title' 'secret body' t)
	tk-note tag "$id" +u >/dev/null
	tk-note edit "$id" --body 'other secret' >/dev/null
	tk-note export ex
	tk-note rm "$id"
	tk-note import ex >/dev/null
	tk-note --no-audit add --title 'Unaudited' --body x >/dev/null
	audit-export --format ndjson -o audit.ndjson
	jq -c 'select(.record.type == "note.event") | .record' audit.ndjson | valid
	assert_equal "$(jq -r 'select(.record.type == "note.event") | .record | "\(.id) \(.op)"' audit.ndjson | tr '\n' ' ')" "$id add $id tag $id edit $id rm $id import "
	run grep -c secret audit.ndjson
	assert_output 0
	audit-verify >/dev/null
}

@test "without audit keys it warns and goes on" {
	nokeys
	run --separate-stderr tk-note add --title x --body y
	assert_success
	assert_regex "$stderr" '^tk-note: not audited: '
	run --separate-stderr tk-note -q add --title x --body y
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr tk-note list
	assert_equal "$stderr" ""
}

@test "many notes: imported in one go, listed, searched, ranked" {
	mkdir many
	awk 'BEGIN { for (i = 1; i <= 3000; i++) {
		f = sprintf("many/n%04d.md", i)
		printf "---\ntitle: note %d%s\ntags: [t%d]\n---\n\nbody of note %d with word%d\n", i, i % 1000 == 0 ? " target" : "", i % 3, i, i % 100 > f
		close(f) } }'
	run tk-note --no-audit import many
	assert_success
	assert_equal "${#lines[@]}" 3000
	assert_equal "$(tk-note list --limit 0 | wc -l)" 3000
	assert_equal "$(tk-note list --tag t1 --limit 0 | wc -l)" 1000
	run tk-note search word7
	assert_equal "${#lines[@]}" 20
	assert_equal "$(tk-note search word7 --limit 0 | wc -l)" 30
	run tk-note search target OR word0
	assert_equal "$(jq -r .title <<<"$output" | head -n 3 | tr '\n' ' ')" "note 1000 target note 2000 target note 3000 target "
}

@test "missing things are 66, output that cannot be made is 73" {
	run --separate-stderr tk-note show nonesuch
	assert_failure 66
	assert_equal "$stderr" 'tk-note: no note "nonesuch"'
	run --separate-stderr tk-note add --title t --file nonesuch.txt
	assert_failure 66
	assert_regex "$stderr" '^tk-note: nonesuch.txt: '
	run --separate-stderr tk-note import nonesuch
	assert_failure 66
	assert_regex "$stderr" '^tk-note: nonesuch: '
	add x y >/dev/null
	touch file
	run --separate-stderr tk-note export file/sub
	assert_failure 73
	mkdir ro
	ln -s /nonexistent ro/x.md
	run --separate-stderr tk-note export ro
	assert_failure 73
	assert_regex "$stderr" '^tk-note: ro/x.md: cannot write: '
}

@test "usage errors are 64" {
	for args in "" "nope" "add" "show" "edit" "edit a b" "list x" "search" "rm" "tag" "tag x" \
	    "export" "export a b" "import" "list --title x" "show x --where ." "rm x --tag t" \
	    "add --title x --body y --file z" "add --title x --limit 2" "list --limit -1" \
	    "list --limit x" "list --since soon" "search x --no-audit" "list --where .a|" \
	    "list --literal" "edit x --tag t"; do
		run --separate-stderr tk-note $args
		assert_failure 64
		assert_output ""
	done
	run --separate-stderr tk-note add
	assert_equal "${stderr_lines[0]}" "tk-note: add: needs --title"
	run --separate-stderr tk-note add --title ''
	assert_equal "${stderr_lines[0]}" "tk-note: --title: empty"
	run --separate-stderr tk-note list --title x
	assert_equal "${stderr_lines[0]}" "tk-note: --title does not go with list"
	run --separate-stderr tk-note search ' '
	assert_equal "${stderr_lines[0]}" "tk-note: search: no query"
	run --separate-stderr tk-note list --since soon
	assert_equal "${stderr_lines[0]}" 'tk-note: --since: "soon" is neither a time nor a duration'
	run tk-note list
	assert_output ""
}
