#!/usr/bin/env bats
# tk-file: every operation from the command line and as records; every
# escape the issue lists ("..", absolute paths, symlinks out and in, a
# directory swapped for a symlink while operations run, hard links, long
# paths, non-UTF-8 names, FIFOs, sockets and devices) through openat2 and
# through the O_NOFOLLOW walk alike; atomic and conditional writes under
# parallel writers; patch all or nothing; the audit log; file sessions
# (--session: the root, the transcript, a closed session); every exit
# status.

load helper

setup() {
	home
	mkdir ws out
	echo canary >out/canary
	W=$BATS_TEST_TMPDIR/ws
	O=$BATS_TEST_TMPDIR/out
}

# A test that fails midway still stops its background loops (they end
# when the file stop exists) and unmounts its tmpfs.
teardown() {
	touch "$BATS_TEST_TMPDIR/stop"
	wait
	! mountpoint -q "$BATS_TEST_TMPDIR/mnt" || umount "$BATS_TEST_TMPDIR/mnt"
}

# tf ARGS...: tk-file on the workspace, never hanging the suite.
tf() {
	timeout 60 tk-file --root "$W" "$@"
}

# outside_untouched: out/ holds the canary and nothing else, unchanged,
# and nothing new appeared beside the workspace.
outside_untouched() {
	assert_equal "$(cat "$O/canary")" canary
	assert_equal "$(ls -A "$O")" canary
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR" | grep -v -e '^ws$' -e '^out$' -e '^home$' -e '\.ndjson$' -e '^[a-z]*\.out$' -e '^separate-stderr-' | tr '\n' ' ')" ""
}

# both CMD...: CMD through openat2, then through the walk.
both() {
	AGENTUTILS_NO_OPENAT2= "$@" || return
	AGENTUTILS_NO_OPENAT2=1 "$@"
}

# ---- the operations ----

@test "write, read, append, stat: records that validate, with sizes and hashes" {
	run --separate-stderr tf write notes/a.txt <<<"hello"
	assert_failure 66
	assert_equal "$stderr" 'tk-file: write: "notes/a.txt": no such file or directory'
	printf 'one\ntwo\n' | tf write a.txt >w.ndjson
	valid <w.ndjson
	assert_equal "$(jq -c '[.op, .path, .ok, .size, .sha256, .mode]' w.ndjson)" \
	    "[\"write\",\"a.txt\",true,8,\"$(sha256sum <ws/a.txt | cut -c1-64)\",\"0644\"]"
	printf 'three\n' | tf append a.txt >ap.ndjson
	valid <ap.ndjson
	assert_equal "$(cat ws/a.txt)" "$(printf 'one\ntwo\nthree')"
	assert_equal "$(jq -r .prev_sha256 ap.ndjson)" "$(jq -r .sha256 w.ndjson)"
	run tf read a.txt
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.content, .total_lines, .size]' <<<"$output")" '["one\ntwo\nthree\n",3,14]'
	run tf stat a.txt
	echo "$output" | valid
	assert_equal "$(jq -c '[.kind, .size, .sha256 == ("'"$(sha256sum <ws/a.txt | cut -c1-64)"'")]' <<<"$output")" '["file",14,true]'
	printf 'new\n' | tf append fresh.out >/dev/null
	assert_equal "$(cat ws/fresh.out)" new
}

@test "a rewritten file keeps its mode; a new one is 0644 less the umask" {
	echo x >ws/run.sh
	chmod 0750 ws/run.sh
	echo y | tf write run.sh >/dev/null
	assert_equal "$(stat -c %a ws/run.sh)" 750
	(umask 027 && echo z | tf write new.txt >/dev/null)
	assert_equal "$(stat -c %a ws/new.txt)" 640
}

@test "read: line ranges" {
	seq 1 30 >ws/n.txt
	assert_equal "$(tf read --lines 10-12 n.txt | jq -c '[.content, .lines, .total_lines]')" '["10\n11\n12\n","10-12",30]'
	assert_equal "$(tf read --lines 29- n.txt | jq -r .content)" "$(printf '29\n30')"
	assert_equal "$(tf read --lines -2 n.txt | jq -r .content)" "$(printf '1\n2')"
	assert_equal "$(tf read --lines 7 n.txt | jq -r .content)" 7
	assert_equal "$(tf read --lines 40-50 n.txt | jq -c '[.content, .total_lines]')" '["",30]'
	printf 'a\nb' >ws/nonl.txt
	assert_equal "$(tf read --lines 2 nonl.txt | jq -c '[.content, .total_lines]')" '["b",2]'
	for bad in 0 5-3 - x 1-x 2-1; do
		run --separate-stderr tf read --lines "$bad" n.txt
		assert_failure 65
		assert_equal "$stderr" 'tk-file: read: "lines": not a range (10-20, 10-, -20, 7)'
	done
}

@test "read: binary files refused unless --binary, then in base64" {
	head -c 3000 /dev/urandom >ws/bin
	printf 'abc\0def' >ws/nul
	printf 'caf\xe9\n' >ws/latin1
	for f in bin nul latin1; do
		run --separate-stderr tf read "$f"
		assert_failure 65
		assert_equal "$stderr" "tk-file: read: \"$f\": a binary file (--binary reads it in base64)"
		tf read --binary "$f" | jq -r .content_base64 | base64 -d | cmp - "ws/$f"
	done
	run tf read --binary --lines 1 nul
	assert_failure 65
	# --binary reads text as text
	echo text >ws/t
	assert_equal "$(tf read --binary t | jq -r .content)" text
	# and bytes written in base64 arrive as they were
	jq -nc --arg b "$(base64 -w0 ws/bin)" '{type:"file.op",op:"write",path:"copy",content_base64:$b}' | tf >/dev/null
	cmp ws/bin ws/copy
	# a binary standard input is written as it is
	tf write copy2 <ws/bin >/dev/null
	cmp ws/bin ws/copy2
}

@test "--max-size limits reads and writes" {
	head -c 2048 /dev/zero | tr '\0' a >ws/big
	run --separate-stderr tf --max-size 1K read big
	assert_failure 65
	assert_equal "$stderr" 'tk-file: read: "big": 2048 bytes, more than --max-size'
	run --separate-stderr tf --max-size 1K write big2 <ws/big
	assert_failure 65
	assert_equal "$stderr" 'tk-file: standard input: more than --max-size'
	echo '{"type":"file.op","op":"append","path":"small","content":"0123456789"}' >ap.ndjson
	echo 0123456789 >ws/small
	head -c 1010 /dev/zero | tr '\0' b >>ws/small
	run --separate-stderr tf --max-size 1K ap.ndjson
	assert_failure 65
	assert_regex "$stderr" 'tk-file: ap.ndjson:1: append: "small": 1031 bytes, more than --max-size$'
	assert_equal "$(wc -c <ws/small)" 1021
	run tf --max-size lots read big
	assert_failure 64
}

@test "list: entries with kind, size and mtime, dotfiles too, recursive with a depth" {
	mkdir -p ws/d/e/f
	echo 1 >ws/.hidden
	echo 22 >ws/d/two
	echo 333 >ws/d/e/three
	ln -s d/two ws/link
	run tf list
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -r 'select(.type == "file.entry") | "\(.path) \(.kind) \(.size)"' <<<"$output" | tr '\n' ',')" ".hidden file 2,d dir 4096,link symlink 5,"
	assert_equal "$(jq -r 'select(.type == "file.entry" and .kind == "symlink") | .target' <<<"$output")" d/two
	assert_equal "$(tail -n 1 <<<"$output" | jq -c '[.type, .entries]')" '["file.result",3]'
	assert_equal "$(tf list -r | jq -r 'select(.type == "file.entry") | .path' | tr '\n' ' ')" ".hidden d d/e d/e/f d/e/three d/two link "
	assert_equal "$(tf list -r --depth 2 | jq -r 'select(.type == "file.entry") | .path' | tr '\n' ' ')" ".hidden d d/e d/two link "
	assert_equal "$(tf list d/e | jq -r 'select(.type == "file.entry") | .path' | tr '\n' ' ')" "d/e/f d/e/three "
	assert_equal "$(tf list d/two | jq -r 'select(.type == "file.entry") | .path')" d/two
	echo '{"type":"file.op","id":7,"op":"list","path":"d","recursive":true}' | tf >l.ndjson
	assert_equal "$(jq -r .id l.ndjson | sort -u)" 7
}

@test "mkdir, mv, rm" {
	run --separate-stderr tf mkdir a/b
	assert_failure 66
	tf mkdir -p a/b/c >/dev/null
	assert [ -d ws/a/b/c ]
	tf mkdir -p a/b/c >/dev/null
	run --separate-stderr tf mkdir a/b/c
	assert_failure 73
	assert_equal "$stderr" 'tk-file: mkdir: "a/b/c": exists'
	echo x >ws/f
	run --separate-stderr tf mkdir -p f/g
	assert_failure 73
	echo content >ws/a/b/c/file
	tf mv a/b/c/file moved >/dev/null
	assert_equal "$(cat ws/moved)" content
	run --separate-stderr tf mv moved f
	assert_failure 73
	assert_equal "$stderr" 'tk-file: mv: "f": exists'
	assert_equal "$(cat ws/f)" x
	run --separate-stderr tf rm a
	assert_failure 65
	assert_equal "$stderr" 'tk-file: rm: "a": a directory (--recursive removes it)'
	run tf rm -r a
	assert_success
	echo "$output" | valid
	assert [ ! -e ws/a ]
	tf rm f >/dev/null
	assert [ ! -e ws/f ]
	run tf rm f
	assert_failure 66
	run --separate-stderr tf rm .
	assert_failure 65
	assert_equal "$stderr" 'tk-file: rm: ".": the root itself'
}

@test "search: fixed strings and regular expressions, binary files skipped, a limit" {
	mkdir -p ws/src/sub
	printf 'int main;\n// TODO one\n' >ws/src/a.c
	printf 'TODO two\nnothing\nTODO three\n' >ws/src/sub/b.txt
	printf 'TODO\0binary' >ws/src/bin
	run tf search TODO
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -r 'select(.type == "file.match") | "\(.path):\(.line):\(.text)"' <<<"$output" | tr '\n' '|')" \
	    "src/a.c:2:// TODO one|src/sub/b.txt:1:TODO two|src/sub/b.txt:3:TODO three|"
	assert_equal "$(tail -n 1 <<<"$output" | jq -c '[.matches, .files]')" '[3,2]'
	assert_equal "$(tf search --regex '^TODO t[wh]' src/sub | jq -r 'select(.type == "file.match") | .line' | tr '\n' ' ')" "1 3 "
	run tf search --limit 2 TODO
	assert_equal "$(tail -n 1 <<<"$output" | jq -c '[.matches, .truncated]')" '[2,true]'
	run --separate-stderr tf search nowhere-to-be-found
	assert_failure 1
	assert_equal "$stderr" ""
	assert_equal "$(jq -c '[.ok, .matches]' <<<"$output")" '[false,0]'
	run --separate-stderr tf search --regex '[' .
	assert_failure 65
	assert_regex "$stderr" '^tk-file: search: "pattern": '
	assert_equal "$(tf search --depth 1 TODO src | jq -r 'select(.type == "file.match") | .path' | sort -u)" src/a.c
}

# ---- patch ----

@test "patch: a unified diff, with an offset, all or nothing" {
	seq 1 10 >ws/n
	cat >d.diff <<-'EOF'
	--- a/n
	+++ b/n
	@@ -2,3 +2,3 @@
	 2
	-3
	+three
	 4
	@@ -8,2 +8,3 @@
	 8
	+eight and a half
	 9
	EOF
	run tf patch n <d.diff
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.hunks, .prev_size]' <<<"$output")" '[2,21]'
	assert_equal "$(tr '\n' ' ' <ws/n)" "1 2 three 4 5 6 7 8 eight and a half 9 10 "
	# the same diff on a file with two lines more at the top: found by
	# its offset
	{ printf 'x\ny\n'; seq 1 10; } >ws/m
	tf patch m <d.diff >/dev/null
	assert_equal "$(tr '\n' ' ' <ws/m)" "x y 1 2 three 4 5 6 7 8 eight and a half 9 10 "
	# the first hunk applies, the second does not: nothing changes
	seq 1 10 | sed 's/^9$/nine/' >ws/k
	before=$(sha256sum <ws/k)
	run --separate-stderr tf patch k <d.diff
	assert_failure 1
	assert_equal "$stderr" 'tk-file: patch: hunk 2 (diff line 8) does not apply: line 9 differs (nor does it within 100 lines)'
	echo "$output" | valid
	assert_equal "$(jq -c .mismatch <<<"$output")" '{"hunk":2,"line":9,"found":"nine\n","expected":"9\n"}'
	assert_equal "$(sha256sum <ws/k)" "$before"
	assert_equal "$(ls -A ws | tr '\n' ' ')" "k m n "
}

@test "patch: a missing newline at the end, both ways" {
	printf 'a\nb' >ws/f
	printf '%s\n' '--- f' '+++ f' '@@ -1,2 +1,2 @@' ' a' '-b' '\ No newline at end of file' '+b' >add.diff
	tf patch f <add.diff >/dev/null
	assert_equal "$(od -c ws/f | head -n 1)" "$(printf 'a\nb\n' | od -c | head -n 1)"
	printf '%s\n' '--- f' '+++ f' '@@ -1,2 +1,2 @@' ' a' '-b' '+c' '\ No newline at end of file' >drop.diff
	tf patch f <drop.diff >/dev/null
	assert_equal "$(od -c ws/f | head -n 1)" "$(printf 'a\nc' | od -c | head -n 1)"
}

@test "patch: bad diffs are 65 and change nothing" {
	echo a >ws/f
	printf 'just text\n' | { run --separate-stderr tf patch f; }
	run --separate-stderr tf patch f <<<"just text"
	assert_failure 65
	assert_equal "$stderr" 'tk-file: patch: diff: no hunk'
	printf '%s\n' '--- f' '+++ f' '@@ -1 +1 @@' '-a' '+b' '--- g' '+++ g' '@@ -1 +1 @@' '-a' '+b' >two.diff
	run --separate-stderr tf patch f <two.diff
	assert_failure 65
	assert_equal "$stderr" 'tk-file: patch: diff line 6: a second file; one file at a time'
	printf '%s\n' '@@ -1,3 +1,3 @@' ' a' >short.diff
	run --separate-stderr tf patch f <short.diff
	assert_failure 65
	assert_equal "$stderr" 'tk-file: patch: diff: hunk 1 is cut short'
	assert_equal "$(cat ws/f)" a
	run tf patch nofile <short.diff
	assert_failure 66
}

@test "patch: exact edits, each found exactly once, all or nothing" {
	printf 'alpha beta\ngamma beta\n' >ws/f
	run tf patch f <<<'[{"search":"alpha","replace":"ALPHA"},{"search":"gamma","replace":"GAMMA"}]'
	assert_success
	assert_equal "$(jq .edits <<<"$output")" 2
	assert_equal "$(cat ws/f)" "$(printf 'ALPHA beta\nGAMMA beta')"
	before=$(sha256sum <ws/f)
	run --separate-stderr tf patch f <<<'[{"search":"ALPHA","replace":"x"},{"search":"beta","replace":"y"}]'
	assert_failure 1
	assert_equal "$stderr" 'tk-file: patch: edit 2: the search text is found 2 times, not once'
	run --separate-stderr tf patch f <<<'[{"search":"ALPHA","replace":"x"},{"search":"delta","replace":"y"}]'
	assert_failure 1
	assert_equal "$stderr" 'tk-file: patch: edit 2: the search text is found 0 times, not once'
	run --separate-stderr tf patch f <<<'[{"search":"","replace":"x"}]'
	assert_failure 65
	assert_equal "$(sha256sum <ws/f)" "$before"
	run --separate-stderr tf patch f <<<'[oops'
	assert_failure 65
	assert_equal "$stderr" 'tk-file: standard input: not a JSON array of edits'
}

# ---- escapes ----

# links: the workspace with symlinks out (absolute and relative, to a
# directory and to a file) and in.
links() {
	rm -rf "$W" && mkdir -p "$W/d/e"
	echo inside >"$W/in.txt"
	ln -s "$O" "$W/abs"
	ln -s ../out "$W/rel"
	ln -s "$O/canary" "$W/canary-link"
	ln -s ../../out "$W/d/e/up"
	ln -s in.txt "$W/inlink"
	ln -s d "$W/dirlink"
}

# escapes: every way out, through each operation, with openat2 or the
# walk as the caller's environment says.  A path whose last component
# is a symlink names the link itself: stat and list show it, mv and rm
# move and remove the link, and nothing reads or writes through it.
escapes() {
	local p op link
	for p in .. ../out/canary ../../etc/passwd d/../../out/canary d/e/../../../out/canary \
	    d/.. d/e/.. ./.. d/./../.. "$O/canary" /etc/passwd //etc/passwd \
	    abs/canary rel/canary canary-link d/e/up/canary abs rel abs/new rel/new \
	    inlink dirlink/e dirlink/new; do
		links
		link=
		[[ $p == abs || $p == rel || $p == canary-link || $p == inlink ]] && link=1
		run --separate-stderr tf read "$p"
		assert_failure 77
		for op in stat list; do
			run --separate-stderr tf "$op" "$p"
			if [[ $link ]]; then
				assert_success
				assert_equal "$(jq -r 'select(.kind) | .kind' <<<"$output" | sort -u)" symlink
			else
				assert_failure 77
			fi
		done
		for op in write append; do
			run --separate-stderr tf "$op" "$p" <<<"pwned"
			assert_failure 77
		done
		run --separate-stderr tf patch "$p" <<<'[{"search":"canary","replace":"pwned"}]'
		assert_failure 77
		run --separate-stderr tf mkdir -p "$p/x"
		assert_failure 77
		run --separate-stderr tf search canary "$p"
		[[ $status == 77 || $status == 1 ]] || fail "search $p: status $status"
		run --separate-stderr tf mv in.txt "$p"
		[[ $status == 77 || ($link && $status == 73) ]] || fail "mv to $p: status $status"
		run --separate-stderr tf mv "$p" stolen
		[[ $status == 77 || $link ]] || fail "mv $p: status $status"
		run --separate-stderr tf rm "$p"
		[[ $status == 77 || ($link && $status == 66) ]] || fail "rm $p: status $status"
		outside_untouched
		assert_equal "$(cat "$W/in.txt")" inside
	done
}

@test "no escape through openat2: .., absolute paths, symlinks out and in" {
	AGENTUTILS_NO_OPENAT2= escapes
}

@test "no escape through the walk: the same attempts" {
	AGENTUTILS_NO_OPENAT2=1 escapes
}

@test "the messages name the way out that was refused" {
	ln -s "$O" ws/abs
	run --separate-stderr tf read ../out/canary
	assert_equal "$stderr" 'tk-file: read: "../out/canary": ".." leaves the root'
	run --separate-stderr tf read "$O/canary"
	assert_equal "$stderr" "tk-file: read: \"$O/canary\": absolute path, not beneath the root"
	for m in '' 1; do
		run --separate-stderr env AGENTUTILS_NO_OPENAT2=$m tk-file --root ws read abs/canary
		assert_equal "$stderr" 'tk-file: read: "abs/canary": a symlink on the way, not followed'
		run --separate-stderr env AGENTUTILS_NO_OPENAT2=$m tk-file --root ws read abs
		assert_equal "$stderr" 'tk-file: read: "abs": a symlink, not followed'
	done
	run tf stat abs
	assert_success
	assert_equal "$(jq -c '[.kind, .target]' <<<"$output")" "[\"symlink\",\"$O\"]"
}

@test "rm -r never follows a symlink out; rm and mv of a symlink touch only the link" {
	for m in '' 1; do
		export AGENTUTILS_NO_OPENAT2=$m
		mkdir -p ws/tree/sub
		ln -s "$O" ws/tree/sub/out
		ln -s "$O/canary" ws/tree/c
		tf rm -r tree >/dev/null
		assert [ ! -e ws/tree ]
		ln -s "$O" ws/link
		tf mv link link2 >/dev/null
		tf rm link2 >/dev/null
		assert [ ! -L ws/link2 ]
		outside_untouched
	done
}

# swapper: swap ws/d for a symlink to out/ and back, as fast as it can,
# until the file stop exists.
swapper() {
	while [ ! -e stop ]; do
		mv ws/d ws/d.real 2>/dev/null || true
		ln -s "$O" ws/d 2>/dev/null || true
		rm -f ws/d 2>/dev/null || true
		mv ws/d.real ws/d 2>/dev/null || true
	done
}

# race: many operations on ws/d/... while swapper runs.
race() {
	local i
	rm -f stop
	mkdir -p ws/d
	echo inside >ws/d/canary
	for i in $(seq 1 300); do
		printf '{"type":"file.op","op":"write","path":"d/canary","content":"pwned %s"}\n' "$i"
		printf '{"type":"file.op","op":"append","path":"d/canary","content":"more"}\n'
		printf '{"type":"file.op","op":"read","path":"d/canary"}\n'
		printf '{"type":"file.op","op":"mkdir","path":"d/new%s","parents":true}\n' "$i"
		printf '{"type":"file.op","op":"write","path":"d/new%s/f","content":"x"}\n' "$i"
		printf '{"type":"file.op","op":"mv","path":"d/canary","to":"d/moved"}\n'
		printf '{"type":"file.op","op":"mv","path":"d/moved","to":"d/canary"}\n'
		printf '{"type":"file.op","op":"rm","path":"d/new%s","recursive":true}\n' "$i"
		printf '{"type":"file.op","op":"list","path":"d","recursive":true}\n'
	done >race.ndjson
	swapper &
	local pid=$!
	tf --no-audit race.ndjson >race.out 2>/dev/null || true
	touch stop
	wait "$pid" || true
	rm stop
	[ -d ws/d ] || mv ws/d.real ws/d
	outside_untouched
	# the race was real: some operations were refused on the way
	assert [ "$(jq -r 'select(.ok == false) | .exit_code' race.out | sort -u | tr '\n' ' ')" != "" ]
	assert [ "$(jq -r 'select(.ok == true and .op == "write")' race.out | wc -l)" -gt 0 ]
}

@test "a directory swapped for a symlink during operations: nothing outside is touched (openat2)" {
	AGENTUTILS_NO_OPENAT2= race
}

@test "a directory swapped for a symlink during operations: nothing outside is touched (walk)" {
	AGENTUTILS_NO_OPENAT2=1 race
}

@test "a hard link to a file outside is a file of the root: read, but a write replaces only the link" {
	ln "$O/canary" ws/hard || skip "no hard links across these directories"
	assert_equal "$(tf read hard | jq -r .content)" canary
	echo changed | tf write hard >/dev/null
	printf 'more\n' | tf append hard >/dev/null
	tf patch hard <<<'[{"search":"changed","replace":"patched"}]' >/dev/null
	assert_equal "$(cat ws/hard)" "$(printf 'patched\nmore')"
	assert_equal "$(stat -c %h "$O/canary")" 1
	tf rm hard >/dev/null
	outside_untouched
}

@test "very long paths: many components work, PATH_MAX and NAME_MAX are 65" {
	deep=$(printf 'a/%.0s' $(seq 1 1500))
	deep=${deep%/}
	for m in '' 1; do
		export AGENTUTILS_NO_OPENAT2=$m
		tf mkdir -p "$deep" >/dev/null
		echo deep | tf write "$deep/f" >/dev/null
		assert_equal "$(tf read "$deep/f" | jq -r .content)" deep
		run --separate-stderr tf read "$deep/$(printf 'b%.0s' $(seq 1 1100))"
		assert_failure 65
		assert_regex "$stderr" 'path too long \(4095 bytes at most\)$'
		run --separate-stderr tf write "$(printf 'n%.0s' $(seq 1 300))" <<<x
		assert_failure 65
		assert_regex "$stderr" ': name too long$'
		run --separate-stderr tf mkdir -p "a/$(printf 'n%.0s' $(seq 1 300))/b"
		assert_failure 65
		tf rm -r a >/dev/null
	done
	assert [ ! -e ws/a ]
}

@test "names that are not UTF-8: U+FFFD in path, the bytes in path_base64, and back" {
	name=$(printf 'caf\xe9.txt')
	echo latin >"ws/$name"
	run tf list
	echo "$output" | valid
	assert_equal "$(jq -r 'select(.type == "file.entry") | .path_base64' <<<"$output")" "$(printf '%s' "$name" | base64)"
	assert_equal "$(jq -r 'select(.type == "file.entry") | .path' <<<"$output")" "caf�.txt"
	b64=$(printf '%s' "$name" | base64)
	echo "{\"type\":\"file.op\",\"op\":\"read\",\"path_base64\":\"$b64\"}" | tf >r.ndjson
	assert_equal "$(jq -r .content r.ndjson)" latin
	valid <r.ndjson
	echo "{\"type\":\"file.op\",\"op\":\"mv\",\"path_base64\":\"$b64\",\"to\":\"utf8.txt\"}" | tf >/dev/null
	assert_equal "$(cat ws/utf8.txt)" latin
	assert_equal "$(tf read "utf8.txt" | jq -r .content)" latin
	echo x | tf write "$name" >/dev/null
	assert_equal "$(cat "ws/$name")" x
	run tf <<<'{"type":"file.op","op":"read","path_base64":"not base64!"}'
	assert_failure 65
}

@test "FIFOs, sockets and devices are refused at once, never waited on" {
	mkfifo ws/fifo
	python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("ws/sock")'
	devs=""
	if mknod ws/null c 1 3 2>/dev/null; then devs=null; fi
	for f in fifo sock $devs; do
		for op in read write append patch; do
			run --separate-stderr timeout 10 tk-file --root ws "$op" "$f" </dev/null
			assert_failure 77
			assert_regex "$stderr" "\"$f\": a (fifo|socket|char), not a regular file: refused$"
		done
	done
	run timeout 10 tk-file --root ws search x
	assert_failure 1
	assert_equal "$(timeout 10 tk-file --root ws list | jq -r 'select(.type == "file.entry") | .kind' | tr '\n' ' ')" "fifo ${devs:+char }socket "
	[ -n "$devs" ] || skip "cannot make a device node here"
}

# ---- atomic and conditional writes ----

@test "--if-match: a mismatch is 1 and changes nothing; parallel writers, exactly one wins" {
	echo v1 >ws/f
	h=$(sha256sum <ws/f | cut -c1-64)
	run --separate-stderr tf write --if-match 0000000000000000000000000000000000000000000000000000000000000000 f <<<v2
	assert_failure 1
	assert_regex "$stderr" '^tk-file: write: "f": content is [0-9a-f]{12}\.\.\., not 000000000000\.\.\.: changed meanwhile\?$'
	assert_equal "$(cat ws/f)" v1
	for op in append rm; do
		run tf "$op" --if-match 0000000000000000000000000000000000000000000000000000000000000000 f <<<x
		assert_failure 1
	done
	run tf mv --if-match 0000000000000000000000000000000000000000000000000000000000000000 f g
	assert_failure 1
	run tf patch --if-match 0000000000000000000000000000000000000000000000000000000000000000 f <<<'[{"search":"v1","replace":"v2"}]'
	assert_failure 1
	run tf write --if-match "$h" nofile <<<x
	assert_failure 1
	assert_equal "$(cat ws/f)" v1
	assert [ ! -e ws/g ]
	for i in $(seq 1 24); do
		(rc=0; tf --no-audit write --if-match "$h" f <<<"writer $i" >/dev/null 2>&1 || rc=$?; echo $rc >"rc.$i") &
	done
	wait
	assert_equal "$(cat rc.* | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')" "0x1 1x23 "
	winner=$(grep -l '^0$' rc.* | sed 's/rc\.//')
	assert_equal "$(cat ws/f)" "writer $winner"
	rm rc.*
	assert_equal "$(ls -A ws)" f
	# with the right hash each change goes through
	h=$(sha256sum <ws/f | cut -c1-64)
	tf mv --if-match "$h" f g >/dev/null
	tf rm --if-match "$h" g >/dev/null
	assert [ ! -e ws/g ]
}

@test "atomic: a reader never sees a half-written file" {
	a=$(head -c 200000 /dev/zero | tr '\0' a)
	b=$(head -c 200000 /dev/zero | tr '\0' b)
	printf '%s' "$a" >ws/f
	rm -f stop
	(
		while [ ! -e stop ]; do
			c=$(cat ws/f)
			if [ "$c" != "$a" ] && [ "$c" != "$b" ]; then
				echo torn >torn
			fi
		done
	) &
	reader=$!
	for i in $(seq 1 30); do
		printf '%s' "$b" | tf --no-audit write f >/dev/null
		printf '%s' "$a" | tf --no-audit write f >/dev/null
	done
	touch stop
	wait "$reader"
	assert [ ! -e torn ]
	assert_equal "$(ls -A ws)" f
}

@test "a full disk: 74, the old file intact, no temporary file left" {
	[[ $(id -u) == 0 ]] || skip "needs root to mount a tmpfs"
	mkdir mnt
	mount -t tmpfs -o size=1m tmpfs mnt 2>mount.err ||
	    skip "cannot mount a tmpfs here: $(cat mount.err)"
	echo old >mnt/f
	run --separate-stderr bash -c 'head -c 2000000 /dev/zero | tk-file --no-audit --root mnt write f'
	assert_failure 74
	assert_regex "$stderr" '^tk-file: write: "f": No space left on device$'
	assert_equal "$(cat mnt/f)" old
	assert_equal "$(ls -A mnt)" f
	umount mnt
}

# ---- streams, audit, exit statuses ----

@test "a stream of operations: each answered in order with its id, a failure stops nothing" {
	cat >ops.ndjson <<-'EOF'
	{"type":"file.op","id":"1","op":"write","path":"a.txt","content":"hello\n"}
	{"type":"file.op","id":"2","op":"read","path":"../etc/passwd"}
	{"type":"not.an.op"}
	{"type":"file.op","id":3,"op":"read","path":"a.txt"}
	{"type":"file.op","id":"4","op":"frob","path":"a.txt"}
	{"type":"file.op","id":"5","op":"read"}
	{"type":"file.op","id":"6","op":"read","path":"missing"}
	{"type":"file.op","id":"7","op":"list","depth":"deep"}
	EOF
	run --separate-stderr tf ops.ndjson
	assert_failure 77
	echo "$output" | valid
	assert_equal "$(jq -c '[.id, .ok, .exit_code]' <<<"$output" | tr '\n' ' ')" \
	    '["1",true,null] ["2",false,77] [3,true,null] ["4",false,65] ["5",false,65] ["6",false,66] ["7",false,65] '
	assert_equal "$stderr" "$(printf '%s\n' \
	    'tk-file: ops.ndjson:2: read: "../etc/passwd": ".." leaves the root' \
	    'tk-file: ops.ndjson:3: not a file.op record' \
	    'tk-file: ops.ndjson:5: frob: "op": "frob", not one of read, write, append, list, stat, mkdir, rm, mv, patch, search' \
	    'tk-file: ops.ndjson:6: read: needs "path"' \
	    'tk-file: ops.ndjson:7: read: "missing": no such file or directory' \
	    'tk-file: ops.ndjson:8: list: "depth": not a positive integer')"
	grep -v not.an.op ops.ndjson >clean.ndjson
	run tf --where '.id == 3' clean.ndjson
	assert_success
	assert_equal "$(jq -r .content <<<"$output")" hello
	run tf --where '.id == "6"' clean.ndjson
	assert_failure 66
	run tf <<<'{"type":"not.an.op"}'
	assert_failure 65
}

@test "every change is audited, without contents; reads are not; --no-audit" {
	echo secret-content | tf write a.txt >/dev/null
	tf read a.txt >/dev/null
	tf patch a.txt <<<'[{"search":"secret-content","replace":"other-secret"}]' >/dev/null
	tf mv a.txt b.txt >/dev/null
	tf read ../x >/dev/null || true
	tf write ../x <<<"secret-content" >/dev/null || true
	tf rm b.txt >/dev/null
	echo x | tf --no-audit write c.txt >/dev/null
	audit-export --format ndjson -o audit.ndjson
	assert_equal "$(jq -r 'select(.record.type == "file.result") | "\(.record.op) \(.record.path) \(.record.ok)"' audit.ndjson | tr '\n' ',')" \
	    "write a.txt true,patch a.txt true,mv a.txt true,write ../x false,rm b.txt true,"
	assert_equal "$(jq -r 'select(.record.type == "file.result") | .record.root' audit.ndjson | sort -u)" "$(cd ws && pwd -P)"
	assert_equal "$(jq -r 'select(.record.op == "patch") | [.record.prev_sha256, .record.sha256] | map(length) | join(" ")' audit.ndjson)" "64 64"
	run grep -c secret audit.ndjson
	assert_output 0
}

@test "without audit keys it warns once and goes on; a read never opens the state file" {
	nokeys
	run --separate-stderr tf read nothing
	assert_failure 66
	assert [ ! -e "$XDG_STATE_HOME/agentutils/state.db" ]
	printf '%s\n' '{"type":"file.op","op":"write","path":"a","content":"x"}' '{"type":"file.op","op":"write","path":"b","content":"y"}' >w.ndjson
	run --separate-stderr tf w.ndjson
	assert_success
	assert_regex "$stderr" '^tk-file: not audited: '
	assert_equal "${#stderr_lines[@]}" 1
	run --separate-stderr tf -q w.ndjson
	assert_equal "$stderr" ""
}

# ---- file sessions ----

@test "--session: operations beneath the session's root, each in its transcript with what it wrote" {
	mkdir ws/sub
	sid=$(ws-session open file ws | jq -r .id)
	echo hello >h.out
	tk-file --session "$sid" write sub/a.txt <h.out >w.ndjson
	assert_equal "$(cat ws/sub/a.txt)" hello
	printf '%s\n' '{"type":"file.op","id":"r","op":"read","path":"sub/a.txt"}' \
	    '{"type":"file.op","id":"l","op":"list","recursive":true}' >ops.ndjson
	tk-file --session "$sid" ops.ndjson >ops.out
	valid <ops.out
	assert_equal "$(jq -c '[.id, .type, .path]' ops.out | tr '\n' ' ')" \
	    '["r","file.result","sub/a.txt"] ["l","file.entry","sub"] ["l","file.entry","sub/a.txt"] ["l","file.result","."] '
	run --separate-stderr tk-file --session "$sid" read ../out/canary
	assert_failure 77
	assert_equal "$stderr" 'tk-file: read: "../out/canary": ".." leaves the root'
	outside_untouched
	ws-session transcript "$sid" >t.ndjson
	valid <t.ndjson
	assert_equal "$(jq -c '[.seq, .kind, .record.type, .record.op]' t.ndjson | tr '\n' ' ')" \
	    '[1,"input","file.op","write"] [2,"output","file.result","write"] [3,"input","file.op","read"] [4,"output","file.result","read"] [5,"input","file.op","list"] [6,"output","file.result","list"] [7,"input","file.op","read"] [8,"output","file.result","read"] '
	# A write's content is kept as output is, apart from its record.
	assert_equal "$(jq -c 'select(.seq == 1) | [.record.content, .data, .bytes, .sha256]' t.ndjson)" \
	    "[null,\"hello\\n\",6,\"$(sha256sum <h.out | cut -c1-64)\"]"
	assert_equal "$(jq -r 'select(.seq == 2) | .record.sha256' t.ndjson)" "$(sha256sum <h.out | cut -c1-64)"
	# An output is what the operation wrote, its result the record
	# without the content a read gave.
	assert_equal "$(jq -j 'select(.seq == 2) | .data' t.ndjson)" "$(cat w.ndjson)"
	head -1 ops.out >r.out
	assert_equal "$(jq -c 'select(.seq == 4) | [.record.id, .record.ok, .record.content, .bytes, .sha256]' t.ndjson)" \
	    "[\"r\",true,null,$(wc -c <r.out),\"$(sha256sum <r.out | cut -c1-64)\"]"
	assert_equal "$(jq -j 'select(.seq == 4) | .data' t.ndjson)" "$(cat r.out)"
	assert_equal "$(jq -j 'select(.seq == 6) | .data' t.ndjson)" "$(tail -3 ops.out)"
	assert_equal "$(jq -c 'select(.seq == 8) | .record | [.ok, .exit_code]' t.ndjson)" '[false,77]'
	run ws-session --format table transcript "$sid"
	assert_line --index 0 --regexp '^[0-9T:.-]+Z > \{"type":"file.op","op":"write","path":"sub/a.txt"\}$'
	assert_line --index 1 --regexp '^[0-9T:.-]+Z < \{"type":"file.result","op":"write","path":"sub/a.txt","ok":true,'
}

@test "--session: the transcript keeps 64 KiB of a large write and of a large read, their whole size and hash; of bytes no text" {
	sid=$(ws-session open file ws | jq -r .id)
	head -c 200000 /dev/zero | tr '\0' x >big
	tk-file --session "$sid" write big.txt <big >/dev/null
	tk-file --session "$sid" read big.txt >read.out
	ws-session transcript "$sid" >t.ndjson
	assert_equal "$(jq -c 'select(.seq == 1) | [(.data | length), .bytes, .sha256]' t.ndjson)" \
	    "[65536,200000,\"$(sha256sum <big | cut -c1-64)\"]"
	assert_equal "$(jq -c 'select(.seq == 4) | [(.data | length), .bytes, .sha256, .record.size]' t.ndjson)" \
	    "[65536,$(wc -c <read.out),\"$(sha256sum <read.out | cut -c1-64)\",200000]"
	assert_equal "$(jq -j 'select(.seq == 4) | .data' t.ndjson)" "$(head -c 65536 read.out)"
	# Bytes that are not text: their size and hash, no data.
	printf '\377\376\0x' >bin.out
	tk-file --session "$sid" write bin <bin.out >/dev/null
	assert_equal "$(ws-session transcript "$sid" | jq -c 'select(.seq == 5) | [.record.content_base64, .data, .bytes, .sha256]')" \
	    "[null,null,4,\"$(sha256sum <bin.out | cut -c1-64)\"]"
}

@test "--session: changes are audited with the session's id" {
	sid=$(ws-session open file ws | jq -r .id)
	echo x | tk-file --session "$sid" write a.txt >/dev/null
	tk-file --session "$sid" read a.txt >/dev/null
	echo y | tk-file --root ws write b.txt >/dev/null
	audit-export --format ndjson -o audit.ndjson
	assert_equal "$(jq -r 'select(.record.type == "file.result") | "\(.record.path) \(.record.session)"' audit.ndjson | tr '\n' ,)" \
	    "a.txt $sid,b.txt null,"
}

@test "--session: a closed session refuses, even in the middle of a stream; gc takes its transcript" {
	sid=$(ws-session open file ws | jq -r .id)
	mkfifo in
	tk-file --session "$sid" <in >stream.out 2>stream.err 3>&- &
	tf_pid=$!
	exec 7>in
	echo '{"type":"file.op","id":1,"op":"write","path":"a","content":"1"}' >&7
	for _ in $(seq 200); do
		[ -s stream.out ] && break
		sleep 0.05
	done
	ws-session kill "$sid" >/dev/null
	echo '{"type":"file.op","id":2,"op":"write","path":"b","content":"2"}' >&7
	exec 7>&-
	wait "$tf_pid" || rc=$?
	assert_equal "$rc" 69
	assert_equal "$(cat stream.err)" "tk-file: session $sid has ended (closed)"
	assert_equal "$(jq -c .id stream.out)" 1
	assert [ -f ws/a ] && assert [ ! -e ws/b ]
	run --separate-stderr tk-file --session "$sid" list
	assert_failure 69
	assert_equal "$stderr" "tk-file: session $sid has ended (closed)"
	assert_equal "$(ws-session transcript "$sid" | jq -c .seq | tr '\n' ' ')" '1 2 '
	ws-session gc >/dev/null
	assert_equal "$(db 'SELECT count(*) FROM ws_events')" 0
	run --separate-stderr tk-file --session "$sid" list
	assert_failure 66
	assert_equal "$stderr" "tk-file: no session \"$sid\""
}

@test "--session: a terminal session is 69, an unknown id 66, a missing root 66, with --root 64" {
	tid=$(ws-pty -- true </dev/null | jq -r 'select(.type == "session.exit") | .id')
	run --separate-stderr tk-file --session "$tid" list
	assert_failure 69
	assert_equal "$stderr" "tk-file: session $tid is a terminal session, not a file session"
	run --separate-stderr tk-file --session 01M8RVPHEM10XTM5J7SA6ZVWRT list
	assert_failure 66
	assert_equal "$stderr" 'tk-file: no session "01M8RVPHEM10XTM5J7SA6ZVWRT"'
	mkdir gone
	sid=$(ws-session open file gone | jq -r .id)
	rmdir gone
	run --separate-stderr tk-file --session "$sid" list
	assert_failure 66
	assert_equal "$stderr" "tk-file: the session's root \"$(pwd -P)/gone\": No such file or directory"
	run --separate-stderr tk-file --session "$sid" --root ws list
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'tk-file: --root and --session do not go together'
	assert_equal "$(db "SELECT count(*) FROM ws_events")" 0
}

@test "usage errors are 64; a missing root or input is 66; a failed write of output 74" {
	run --separate-stderr tk-file read x
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'tk-file: --root DIR or --session ID is required'
	run --separate-stderr tf read
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'tk-file: read: missing operand'
	run --separate-stderr tf mv a
	assert_failure 64
	run --separate-stderr tf read a b
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'tk-file: read: too many operands'
	run --separate-stderr tf write --lines 1-2 a
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'tk-file: lines does not go with write'
	run --separate-stderr tf --if-match abc write a
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'tk-file: --if-match: not a SHA-256 in hex: "abc"'
	run --separate-stderr tf --depth 0 list
	assert_failure 64
	run --separate-stderr tf -r ops.ndjson
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "tk-file: the options of an operation go with its word; records carry their own"
	run --separate-stderr tk-file --root nowhere list
	assert_failure 66
	assert_equal "$stderr" 'tk-file: --root "nowhere": No such file or directory'
	run --separate-stderr tf no-such-input.ndjson
	assert_failure 66
	echo x >ws/f
	run --separate-stderr bash -c 'tk-file --root ws read f >/dev/full'
	assert_failure 74
}
