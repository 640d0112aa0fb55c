#!/usr/bin/env bats
# tk-serve: driven with curl over loopback: the first record and port 0,
# files with their MIME types, ranges (206, 416), 304s by ETag and by
# Last-Modified, listings with escaped names, Markdown rendered without
# raw HTML, traversal refused (plain, encoded, symlinks out), dotfiles,
# the live reload's event after a change, the request log, SIGTERM and
# SIGINT, bad options and operands; and headless Chromium taking a
# screenshot of a rendered page.

load helper

setup() {
	home
	mkdir -p site/sub site/.git
	printf 'hello world\n' >site/a.txt
	printf 'body{}\n' >site/s.css
	printf '\x89PNG\r\n' >site/i.png
	printf '{}\n' >site/d.json
	printf 'x' >site/blob.unknownext
	printf 'secret\n' >site/.env
	printf 'ref\n' >site/.git/HEAD
	printf 'outside\n' >outside.txt
	ln -s ../outside.txt site/out
	ln -s a.txt site/in
	touch 'site/sub/<b>&"x.txt'
}

teardown() {
	if [ -n "${pid:-}" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
}

# start [OPTION ...]: tk-serve site on a free port, in the background;
# sets pid and url once the first record is out.
start() {
	tk-serve --port 0 "$@" site >out.ndjson 2>err.txt 3>&- &
	pid=$!
	for _ in $(seq 100); do
		[ -s out.ndjson ] && break
		sleep 0.05
	done
	url=$(head -1 out.ndjson | jq -r .url)
	[ -n "$url" ] && [ "$url" != null ]
}

# get PATH [CURL OPTION ...]: status and body of a GET, as "STATUS BODY".
code() {
	local p=$1
	shift
	curl -s --path-as-is -o body.out -w '%{http_code}' "$@" "$url$p"
}

@test "port 0: the first record gives the URL at once, loopback only, and it validates" {
	start
	run jq -r '[.type, .bind, .root] | join(" ")' < <(head -1 out.ndjson)
	assert_output "serve.listen 127.0.0.1 $PWD/site"
	[[ $url =~ ^http://127\.0\.0\.1:[0-9]+/$ ]]
	port=$(head -1 out.ndjson | jq .port)
	[ "$port" -gt 0 ]
	assert_equal "$url" "http://127.0.0.1:$port/"
	head -1 out.ndjson | valid
	# loopback only: the port is bound on 127.0.0.1, not on every address
	run ss -Htln "sport = :$port"
	assert_output --partial "127.0.0.1:$port"
}

@test "files with their MIME types, HEAD without a body, other methods 405" {
	start
	assert_equal "$(code a.txt)" 200
	assert_equal "$(cat body.out)" 'hello world'
	for f in a.txt:'text/plain; charset=utf-8' s.css:'text/css; charset=utf-8' \
	    i.png:image/png d.json:application/json blob.unknownext:application/octet-stream; do
		run curl -s -o /dev/null -w '%{content_type}' "$url${f%%:*}"
		assert_output "${f#*:}"
	done
	run curl -sI "${url}a.txt"
	assert_line --partial 'Content-Length: 12'
	assert_line --partial 'X-Content-Type-Options: nosniff'
	assert_equal "$(code a.txt -X POST)" 405
	assert_equal "$(code a.txt -X DELETE)" 405
}

@test "ranges: 206 with Content-Range, suffix and open ranges, 416 past the end, several ranges the whole" {
	start
	run curl -s -D h.txt -r 0-4 "${url}a.txt"
	assert_output hello
	run grep -i '^HTTP/1.1 206\|^Content-Range: bytes 0-4/12' h.txt
	assert_equal "${#lines[@]}" 2
	assert_equal "$(curl -s -r 6- "${url}a.txt")" 'world'
	assert_equal "$(curl -s -r -6 "${url}a.txt")" 'world'
	assert_equal "$(code a.txt -r 100-)" 416
	run curl -sI -r 100- "${url}a.txt"
	assert_line --partial 'Content-Range: bytes */12'
	assert_equal "$(code a.txt -r 0-1,3-4)" 200
	assert_equal "$(cat body.out)" 'hello world'
	# If-Range with an old validator: the whole file
	assert_equal "$(code a.txt -r 0-4 -H 'If-Range: "old"')" 200
}

@test "304 by ETag and by Last-Modified; a change makes them stale" {
	start
	curl -s -D h.txt -o /dev/null "${url}a.txt"
	etag=$(sed -n 's/^ETag: \(.*\)\r$/\1/p' h.txt)
	lm=$(sed -n 's/^Last-Modified: \(.*\)\r$/\1/p' h.txt)
	[ -n "$etag" ] && [ -n "$lm" ]
	assert_equal "$(code a.txt -H "If-None-Match: $etag")" 304
	assert_equal "$(code a.txt -H "If-None-Match: \"x\", $etag")" 304
	assert_equal "$(code a.txt -H 'If-None-Match: "x"')" 200
	assert_equal "$(code a.txt -H "If-Modified-Since: $lm")" 304
	assert_equal "$(code a.txt -H 'If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT')" 200
	# If-None-Match wins over If-Modified-Since
	assert_equal "$(code a.txt -H 'If-None-Match: "x"' -H "If-Modified-Since: $lm")" 200
	printf 'hello again\n' >site/a.txt
	touch -d '2099-01-01' site/a.txt
	assert_equal "$(code a.txt -H "If-None-Match: $etag")" 200
	assert_equal "$(code a.txt -H "If-Modified-Since: $lm")" 200
}

@test "listings: sorted, dotfiles hidden, names escaped, a directory without its slash redirected" {
	start
	assert_equal "$(code '')" 200
	run grep -o '<a href="[^"]*">' body.out
	assert_output '<a href="a.txt">
<a href="blob.unknownext">
<a href="d.json">
<a href="i.png">
<a href="in">
<a href="out">
<a href="s.css">
<a href="sub/">'
	assert_equal "$(code sub/)" 200
	run grep -F '<a href="%3Cb%3E%26%22x.txt">&lt;b&gt;&amp;&quot;x.txt</a>' body.out
	assert_success
	run curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "${url}sub"
	assert_output "301 ${url}sub/"
	printf '<p>index</p>\n' >site/sub/index.html
	assert_equal "$(code sub/)" 200
	assert_equal "$(cat body.out)" '<p>index</p>'
}

@test "traversal refused: .. plain and encoded, a symlink out; a symlink within served" {
	echo 'root:x' >passwd
	start
	for p in ../passwd %2e%2e/passwd %2E%2e/passwd sub/../../passwd \
	    sub/%2e%2e/%2e%2e/passwd ..%2fpasswd %2e%2e%2fpasswd ./a.txt; do
		assert_equal "$p $(code "$p")" "$p 403"
	done
	assert_equal "$(code out)" 403
	assert_equal "$(code in)" 200
	assert_equal "$(cat body.out)" 'hello world'
	assert_equal "$(code 'a%00.txt')" 400
	assert_equal "$(code 'a%zz')" 400
	assert_equal "$(code 'a%2')" 400
	assert_equal "$(code 'a%2Etxt')" 200
	assert_equal "$(code nothing)" 404
}

@test "dotfiles: hidden and refused, or listed and served with --dotfiles" {
	start
	assert_equal "$(code .env)" 404
	assert_equal "$(code .git/HEAD)" 404
	assert_equal "$(code %2eenv)" 404
	code '' >/dev/null
	run grep -c 'env\|\.git' body.out
	assert_output 0
	kill "$pid"
	wait "$pid" || true
	start --dotfiles
	assert_equal "$(code .env)" 200
	assert_equal "$(cat body.out)" secret
	assert_equal "$(code .git/HEAD)" 200
	code '' >/dev/null
	run grep -c 'href="\.env"\|href="\.git/"' body.out
	assert_output 2
}

@test "Markdown: rendered with a table, strikethrough and autolinks; raw HTML and javascript: links dropped" {
	cat >site/r.md <<'MD'
# Title

| a | b |
|---|---|
| 1 | 2 |

~~gone~~ and https://example.org here.

<script>alert(1)</script>

<img src=x onerror="alert(2)">

[click](javascript:alert(3))
MD
	start
	assert_equal "$(code r.md)" 200
	run curl -s -o /dev/null -w '%{content_type}' "${url}r.md"
	assert_output 'text/html; charset=utf-8'
	for want in '<h1>Title</h1>' '<th>a</th>' '<td>2</td>' '<del>gone</del>' \
	    '<a href="https://example.org">https://example.org</a>' \
	    '<a href="">click</a>'; do
		run grep -cF "$want" body.out
		assert_equal "$want $output" "$want 1"
	done
	run grep -cF '<!-- raw HTML omitted -->' body.out
	assert_output 2
	run grep -c 'alert\|onerror' body.out
	assert_output 0
	run grep -c '<script' body.out
	assert_output 1
	grep -q '<script src="/.tk-serve/reload.js"></script>' body.out
	run curl -sI "${url}r.md"
	assert_line --partial "Content-Security-Policy: default-src 'self'"
	etag=$(curl -sI "${url}r.md" | sed -n 's/^ETag: \(.*\)\r$/\1/p')
	assert_equal "$(code r.md -H "If-None-Match: $etag")" 304
}

@test "live reload: an event on the stream after a file changes" {
	start
	assert_equal "$(code .tk-serve/reload.js)" 200
	grep -q 'EventSource("/.tk-serve/events")' body.out
	curl -sN --max-time 10 "${url}.tk-serve/events" >events.txt 3>&- &
	cpid=$!
	for _ in $(seq 100); do
		grep -q 'tk-serve' events.txt && break
		sleep 0.05
	done
	run grep -c '^data:' events.txt
	assert_output 0
	printf 'changed\n' >site/sub/new.md
	for _ in $(seq 100); do
		grep -q '^data:' events.txt && break
		sleep 0.05
	done
	kill "$cpid" 2>/dev/null || true
	wait "$cpid" || true
	run grep -c '^data: [0-9]' events.txt
	assert_output 1
	# a change to a hidden file reloads nothing
	curl -sN --max-time 1 "${url}.tk-serve/events" >events2.txt 3>&- &
	cpid=$!
	sleep 0.3
	printf 'x\n' >site/.swap
	wait "$cpid" || true
	run grep -c '^data:' events2.txt
	assert_output 0
}

@test "live reload: a directory made after the start is watched too" {
	start
	mkdir site/later
	sleep 0.2
	curl -sN --max-time 10 "${url}.tk-serve/events" >events.txt 3>&- &
	cpid=$!
	for _ in $(seq 100); do
		grep -q 'tk-serve' events.txt && break
		sleep 0.05
	done
	printf 'x\n' >site/later/x.txt
	for _ in $(seq 100); do
		grep -q '^data:' events.txt && break
		sleep 0.05
	done
	kill "$cpid" 2>/dev/null || true
	wait "$cpid" || true
	run grep -c '^data:' events.txt
	assert_output 1
}

@test "--log: a serve.request record for each request, valid" {
	start --log
	code a.txt >/dev/null
	code nothing >/dev/null
	code a.txt -r 0-1 >/dev/null
	kill -TERM "$pid"
	wait "$pid"
	pid=
	valid <out.ndjson
	run jq -c 'select(.type == "serve.request") | [.method, .path, .status, .bytes]' out.ndjson
	assert_output '["GET","/a.txt",200,12]
["GET","/nothing",404,14]
["GET","/a.txt",206,2]'
}

@test "SIGTERM and SIGINT: exit 0 with a serve.stop record, even with an event stream open" {
	start
	curl -sN --max-time 10 "${url}.tk-serve/events" >/dev/null 3>&- &
	cpid=$!
	sleep 0.2
	code a.txt >/dev/null
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	pid=
	wait "$cpid" || true
	run tail -1 out.ndjson
	assert_equal "$(jq -c '[.type, .signal, .requests]' <<<"$output")" '["serve.stop","SIGTERM",2]'
	valid <out.ndjson
	assert_equal "$(cat err.txt)" ''
	start
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	pid=
	assert_equal "$(tail -1 out.ndjson | jq -r .signal)" SIGINT
}

@test "--bind: another address, IPv6 in brackets" {
	run ip -6 addr show lo
	[[ $output == *::1* ]] || skip "no IPv6 loopback here"
	start --bind ::1
	[[ $url =~ ^http://\[::1\]:[0-9]+/$ ]]
	assert_equal "$(code a.txt)" 200
}

@test "bad options and operands: 64; a missing directory: 66; a port in use: 69" {
	run --separate-stderr tk-serve --port 70000
	assert_failure 64
	assert_equal "${stderr_lines[0]}" 'tk-serve: --port: "70000" is not a port'
	run --separate-stderr tk-serve --port x
	assert_failure 64
	run --separate-stderr tk-serve --bind nowhere.example --port 0 site
	assert_failure 64
	assert_equal "$stderr" 'tk-serve: --bind: "nowhere.example" is not an address'
	run --separate-stderr tk-serve a b
	assert_failure 64
	run --separate-stderr tk-serve --port 0 missing
	assert_failure 66
	assert_equal "$stderr" 'tk-serve: "missing": No such file or directory'
	start
	port=$(head -1 out.ndjson | jq .port)
	run --separate-stderr tk-serve --port "$port" site
	assert_failure 69
	assert_equal "$stderr" "tk-serve: 127.0.0.1 port $port: Address already in use"
}

@test "headless Chromium takes a screenshot of a rendered Markdown page" {
	chrome=$(command -v chromium || command -v chromium-browser || true)
	[ -n "$chrome" ] || skip "chromium is not installed (tools/deps.sh check)"
	printf '# Shot\n\n| a | b |\n|---|---|\n| 1 | 2 |\n' >site/shot.md
	start
	# --no-sandbox: the tests run as root in a container, where
	# Chromium's own sandbox cannot start; the page is our own.
	run timeout 60 "$chrome" --headless --no-sandbox --disable-gpu \
	    --user-data-dir="$PWD/chrome" --screenshot="$PWD/shot.png" \
	    --window-size=640,480 "${url}shot.md"
	[ -s shot.png ] || skip "chromium cannot run here: ${output:0:200}"
	assert_equal "$(head -c 8 shot.png | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a
	assert_equal "$(od -An -tu1 -j16 -N8 shot.png | tr -s ' ')" ' 0 0 2 128 0 0 1 224'
}
