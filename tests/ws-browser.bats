#!/usr/bin/env bats
# ws-browser: headless Chromium driven by browser.command records against
# pages tk-serve serves on loopback: navigate, eval, click, type, text and
# html; screenshots that are real PNGs of the expected size, a real PDF; a
# page that never loads, a script that never ends; a browser killed -9;
# bad records and commands; the network limits (a host off loopback
# refused, and allowed by --allow); approvals given and denied; the audit
# log; detached sessions (attached to twice, a second client refused, a
# browser and a holder killed -9, ended by quit and by ws-session kill).
# Chromium takes a second or two to start, so each test is one
# invocation (or one detached browser) with several commands.

load helper

setup() {
	home
	chrome=$(command -v chromium || true)
	[ -n "$chrome" ] || skip "chromium is not installed (tools/deps.sh installs it)"
	mkdir -p site
	cat >site/index.html <<'HTML'
<!doctype html>
<html><head><title>Test page</title>
<style>body { margin: 0 } #tall { height: 2000px }</style></head>
<body><h1 id="h">Hello</h1>
<button id="b" onclick="document.getElementById('h').textContent = 'Clicked'">Go</button>
<input id="q">
<p id="out"></p>
<div id="tall"></div>
<script>
document.getElementById('q').addEventListener('input', function (e) {
	document.getElementById('out').textContent = 'typed ' + e.target.value;
});
</script>
</body></html>
HTML
	printf '<!doctype html><title>Later</title><script>setTimeout(function () { var p = document.createElement("p"); p.id = "late"; p.textContent = "late"; document.body.appendChild(p); }, 300);</script>\n' >site/later.html
	printf 'plain\n' >site/a.txt
}

teardown() {
	for p in ${spid:-} ${hpid:-}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	# The holders of detached sessions and their browsers, whatever
	# the test left.
	if [ -f "$XDG_STATE_HOME/agentutils/state.db" ]; then
		db "SELECT holder_pid, pid FROM ws_sessions WHERE holder_pid IS NOT NULL" |
		while IFS='|' read -r h c; do
			kill -9 "$h" 2>/dev/null || true
			[ -z "$c" ] || kill -9 -- "-$c" 2>/dev/null || true
		done
	fi
}

# serve [OPTION ...]: tk-serve site on a free port in the background; url.
serve() {
	tk-serve --port 0 "$@" site >serve.ndjson 2>serve.err 3>&- &
	spid=$!
	for _ in $(seq 100); do
		[ -s serve.ndjson ] && break
		sleep 0.05
	done
	port=$(head -1 serve.ndjson | jq -r .port)
	url=http://127.0.0.1:$port/
}

# cmds: browser.command records from lines of "COMMAND JSON-MEMBERS".
cmd() {
	printf '{"type":"browser.command","command":"%s"%s}\n' "$1" "${2:+,$2}"
}

@test "navigate, eval, click, type, text and html on a served page; the records validate" {
	serve
	{
		cmd navigate "\"id\":1,\"url\":\"$url\""
		cmd eval '"id":2,"expression":"document.title + \" \" + (6 * 7)"'
		cmd eval '"id":3,"expression":"new Promise(r => setTimeout(() => r({a: [1, null, \"x\"]}), 50))"'
		cmd eval '"id":4,"expression":"undefined"'
		cmd click '"id":5,"selector":"#b"'
		cmd text '"id":6,"selector":"#h"'
		cmd type '"id":7,"selector":"#q","text":"héllo"'
		cmd text '"id":8,"selector":"#out"'
		cmd eval '"id":9,"expression":"document.getElementById(\"q\").value"'
		cmd html '"id":10,"selector":"h1"'
		cmd text '"id":11'
		cmd navigate "\"id\":12,\"url\":\"${url}later.html\""
		cmd wait '"id":13,"selector":"#late"'
		cmd text '"id":14,"selector":"#late"'
		cmd close '"id":15'
	} >cmds.ndjson
	mkdir tmp
	TMPDIR=$PWD/tmp run --separate-stderr ws-browser --no-audit cmds.ndjson
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" >out.ndjson
	valid <out.ndjson
	assert_equal "$(jq -c 'del(.elapsed_ms, .x, .y)' out.ndjson | head -10)" \
"{\"type\":\"browser.result\",\"id\":1,\"command\":\"navigate\",\"url\":\"$url\",\"title\":\"Test page\",\"page\":1,\"ok\":true}
{\"type\":\"browser.result\",\"id\":2,\"command\":\"eval\",\"value\":\"Test page 42\",\"page\":1,\"ok\":true}
{\"type\":\"browser.result\",\"id\":3,\"command\":\"eval\",\"value\":{\"a\":[1,null,\"x\"]},\"page\":1,\"ok\":true}
{\"type\":\"browser.result\",\"id\":4,\"command\":\"eval\",\"value\":null,\"page\":1,\"ok\":true}
{\"type\":\"browser.result\",\"id\":5,\"command\":\"click\",\"page\":1,\"ok\":true}
{\"type\":\"browser.result\",\"id\":6,\"command\":\"text\",\"text\":\"Clicked\",\"page\":1,\"ok\":true}
{\"type\":\"browser.result\",\"id\":7,\"command\":\"type\",\"page\":1,\"ok\":true}
{\"type\":\"browser.result\",\"id\":8,\"command\":\"text\",\"text\":\"typed héllo\",\"page\":1,\"ok\":true}
{\"type\":\"browser.result\",\"id\":9,\"command\":\"eval\",\"value\":\"héllo\",\"page\":1,\"ok\":true}
{\"type\":\"browser.result\",\"id\":10,\"command\":\"html\",\"html\":\"<h1 id=\\\"h\\\">Clicked</h1>\",\"page\":1,\"ok\":true}"
	# the click was a real one, at the button's center
	assert_equal "$(jq -r 'select(.id == 5) | (.x > 0 and .y > 0)' out.ndjson)" true
	assert_equal "$(jq -r 'select(.id == 11) | .text | test("^Clicked\nGo")' out.ndjson)" true
	assert_equal "$(jq -c 'select(.id >= 12) | [.id, .ok, .title // .text // null]' out.ndjson)" \
'[12,true,"Later"]
[13,true,null]
[14,true,"late"]
[15,true,null]'
	# the profile and the log are gone with the browser
	assert_equal "$(ls -A tmp)" ""
	# the browser was a session, now exited; its transcript is each
	# command and its result, what a result carried kept as a digest
	assert_equal "$(ws-session list | jq -c '[.kind, .state, (.holder_pid > 0), (.pid > 0)]')" \
	    '["browser","exited",true,true]'
	ws-session transcript "$(ws-session list | jq -r .id)" >tr.ndjson
	valid <tr.ndjson
	assert_equal "$(jq -s length tr.ndjson)" 30
	assert_equal "$(jq -c '[.kind, .record.type, .record.id]' tr.ndjson | head -4)" \
'["input","browser.command",1]
["output","browser.result",1]
["input","browser.command",2]
["output","browser.result",2]'
	html='<h1 id="h">Clicked</h1>'
	assert_equal "$(jq -c 'select(.kind == "output" and .record.id == 10) | [.record.html, .record.ok, .data, .bytes, .sha256]' tr.ndjson)" \
	    "$(jq -nc --arg h "$html" --arg s "$(printf %s "$html" | sha256sum | cut -d' ' -f1)" '[null, true, $h, ($h | length), $s]')"
	assert_equal "$(jq -c 'select(.kind == "output" and .record.id == 2) | [.record.value, .data]' tr.ndjson)" \
	    '[null,"\"Test page 42\""]'
	assert_equal "$(jq -c 'select(.kind == "output" and .record.id == 5) | [.data, .bytes, .sha256]' tr.ndjson)" \
	    '[null,null,null]'
}

@test "screenshots are PNGs of the viewport, of a record's size, of the full page and of a clip; pdf is a PDF" {
	serve
	{
		cmd navigate "\"url\":\"$url\""
		cmd screenshot '"id":"v","path":"v.png"'
		cmd screenshot '"id":"r","path":"r.png","width":400,"height":300'
		cmd screenshot '"id":"f","path":"f.png","full_page":true'
		cmd screenshot '"id":"c","path":"c.png","clip":{"x":10,"y":20,"width":120,"height":50}'
		cmd screenshot '"id":"after","path":"a.png"'
		cmd pdf '"id":"p","path":"p.pdf"'
	} | ws-browser --no-audit --width 640 --height 480 >out.ndjson
	valid <out.ndjson
	# width and height from the IHDR chunk, as the records say
	ihdr() {
		python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read(24)
assert d[:8] == b"\x89PNG\r\n\x1a\n" and d[12:16] == b"IHDR", "not a PNG"
print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1"
	}
	assert_equal "$(ihdr v.png)" 640x480
	assert_equal "$(ihdr r.png)" 400x300
	assert_equal "$(ihdr f.png | cut -dx -f1)" 640
	[ "$(ihdr f.png | cut -dx -f2)" -gt 2000 ]
	assert_equal "$(ihdr c.png)" 120x50
	# the viewport is back to its size after a record's own
	assert_equal "$(ihdr a.png)" 640x480
	assert_equal "$(jq -r 'select(.id == "v" or .id == "r" or .id == "c") | "\(.width)x\(.height) \(.bytes)"' out.ndjson)" \
	    "640x480 $(stat -c %s v.png)
400x300 $(stat -c %s r.png)
120x50 $(stat -c %s c.png)"
	run file -b v.png
	assert_output --partial 'PNG image data, 640 x 480'
	run file -b p.pdf
	assert_output --partial 'PDF document'
	assert_equal "$(head -c 5 p.pdf)" '%PDF-'
	assert_equal "$(jq -r 'select(.id == "p") | .bytes' out.ndjson)" "$(stat -c %s p.pdf)"
	# in the transcript a PDF is its size and digest, not its bytes
	assert_equal "$(ws-session transcript "$(ws-session list | jq -r .id)" | jq -c 'select(.kind == "output" and .record.id == "p") | [.data, .bytes, .sha256]')" \
	    "[null,$(stat -c %s p.pdf),\"$(sha256sum <p.pdf | cut -d' ' -f1)\"]"
}

@test "failures are results: an exception, nothing matching, bad commands, a file not writable; bad lines reported" {
	serve
	{
		cmd navigate "\"url\":\"$url\""
		cmd eval '"id":1,"expression":"throw new Error(\"boom\")"'
		cmd eval '"id":2,"expression":"Promise.reject(new TypeError(\"nope\"))"'
		cmd click '"id":3,"selector":"#missing"'
		cmd text '"id":4,"selector":"#missing"'
		cmd click '"id":5'
		cmd fly '"id":6'
		echo '{"type":"browser.command","id":7}'
		cmd wait '"id":8,"for":"dinner"'
		cmd eval '"id":9,"expression":"1","timeout":"soon"'
		cmd screenshot '"id":10,"path":"no/such/dir/x.png"'
		cmd eval '"id":11,"expression":"1","page":7'
		echo 'not json'
		echo '{"type":"other"}'
		cmd eval '"id":12,"expression":"\"still here\""'
	} >cmds.ndjson
	run --separate-stderr ws-browser --no-audit cmds.ndjson
	# the worst of 1, 65 and 73
	assert_failure 73
	printf '%s\n' "$output" >out.ndjson
	valid <out.ndjson
	assert_equal "$(jq -r 'select(.id) | "\(.id) \(.exit_code // 0) \(.error // .value)"' out.ndjson)" \
'1 1 Error: boom
2 1 TypeError: nope
3 1 Error: nothing matches #missing
4 1 Error: nothing matches #missing
5 65 "selector" is missing or not a string
6 65 no command "fly"
7 65 "command" is missing
8 65 "for" is load or networkidle, not "dinner"
9 65 "timeout": "soon" is not a duration
10 73 "no/such/dir/x.png": No such file or directory
11 65 no page 7 is open
12 0 still here'
	assert_equal "$stderr" "ws-browser: cmds.ndjson:13: invalid JSON: invalid literal (column 1)
ws-browser: cmds.ndjson:14: not a browser.command record"
}

@test "a page that never loads and a script that never ends: 75 at the timeout, and the page goes on" {
	serve
	python3 "$TOP/tests/browser/hang.py" hport 3>&- &
	hpid=$!
	until [ -s hport ]; do sleep 0.05; done
	{
		cmd navigate "\"id\":1,\"url\":\"$url\""
		cmd navigate "\"id\":2,\"url\":\"http://127.0.0.1:$(cat hport)/\",\"timeout\":\"1s\""
		cmd eval '"id":3,"expression":"while (true) {}","timeout":"1s"'
		cmd eval '"id":4,"expression":"new Promise(function () {})","timeout":"500ms"'
		cmd wait '"id":5,"selector":"#never","timeout":"500ms"'
		cmd eval '"id":6,"expression":"document.title"'
	} >cmds.ndjson
	start=$(date +%s)
	run --separate-stderr ws-browser --no-audit --timeout 20s cmds.ndjson
	assert_failure 75
	printf '%s\n' "$output" >out.ndjson
	valid <out.ndjson
	assert_equal "$(jq -r '"\(.id) \(.exit_code // 0) \(.error // .value)"' out.ndjson)" \
"1 0 null
2 75 \"http://127.0.0.1:$(cat hport)/\" did not answer in time
3 75 the script did not end in time
4 75 the script did not end in time
5 75 nothing matched \"#never\" in time
6 0 Test page"
	# each waited its own timeout, not the 20s of --timeout
	assert_equal "$(jq -r 'select(.id >= 2 and .id <= 5) | .elapsed_ms < 3000' out.ndjson | sort -u)" true
	[ $(($(date +%s) - start)) -lt 30 ]
}

@test "a browser killed -9 in the middle of a command: that command and the rest fail 69, the log is kept" {
	mkfifo cmds
	mkdir tmp
	# output to a pipe, so that each record comes out at once
	mkfifo outp
	cat outp >out.ndjson &
	TMPDIR=$PWD/tmp ws-browser --no-audit <cmds >outp 2>err.txt 3>&- &
	wpid=$!
	exec 5>cmds
	cmd eval '"id":1,"expression":"1"' >&5
	cmd eval '"id":2,"expression":"new Promise(function () {})"' >&5
	cmd eval '"id":3,"expression":"1"' >&5
	# the browser is ws-browser's child; once the first answer is out,
	# the second command is under way
	for _ in $(seq 1200); do
		[ -s out.ndjson ] && break
		sleep 0.05
	done
	cpid=$(pgrep -P "$wpid")
	[ -n "$cpid" ]
	sleep 0.5
	kill -9 "$cpid"
	exec 5>&-
	rc=0
	wait "$wpid" || rc=$?
	wait
	assert_equal "$rc" 69
	valid <out.ndjson
	assert_equal "$(jq -r '"\(.id) \(.exit_code // 0) \(.error // .value)"' out.ndjson)" \
'1 0 1
2 69 the browser was killed by signal 9
3 69 the browser was killed by signal 9'
	run cat err.txt
	assert_output --regexp "^ws-browser: the browser was killed by signal 9 \\(its log: $PWD/tmp/ws-browser\\.[^/]*/chromium\\.log\\)\$"
	log=$(sed -n 's/.*its log: \(.*\))$/\1/p' err.txt)
	# Chromium's own complaints are in it, and its profile is gone
	[ -s "$log" ]
	assert_equal "$(ls -A "${log%/chromium.log}")" chromium.log
	# and nothing of that browser is left running (once its orphans,
	# killed, are reaped by init)
	for _ in $(seq 40); do
		pgrep -g "$cpid" >/dev/null || break
		sleep 0.05
	done
	run pgrep -g "$cpid"
	assert_failure
}

@test "SIGTERM while waiting for records: the browser closed, its directory removed, 143" {
	mkfifo cmds
	mkdir tmp
	# output to a pipe, so that each record comes out at once
	mkfifo outp
	cat outp >out.ndjson &
	TMPDIR=$PWD/tmp ws-browser --no-audit <cmds >outp 2>err.txt 3>&- &
	wpid=$!
	exec 5>cmds
	cmd eval '"id":1,"expression":"6 * 7"' >&5
	for _ in $(seq 600); do
		[ -s out.ndjson ] && break
		sleep 0.05
	done
	cpid=$(pgrep -P "$wpid")
	[ -n "$cpid" ]
	kill -TERM "$wpid"
	rc=0
	wait "$wpid" || rc=$?
	exec 5>&-
	wait
	assert_equal "$rc" 143
	assert_equal "$(jq -c '[.id, .value]' out.ndjson)" '[1,42]'
	assert_equal "$(cat err.txt)" ""
	assert_equal "$(ws-session list | jq -c '[.kind, .state]')" '["browser","killed"]'
	assert_equal "$(ws-session transcript "$(ws-session list | jq -r .id)" | jq -c '[.kind, .record.id]')" \
'["input",1]
["output",1]'
	assert_equal "$(ls -A tmp | grep ws-browser)" ""
	for _ in $(seq 40); do
		pgrep -g "$cpid" >/dev/null || break
		sleep 0.05
	done
	run pgrep -g "$cpid"
	assert_failure
}

@test "network limits: loopback by default, a host off it refused and its requests failed; --allow lets it in" {
	ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9.]+$' | grep -v '^127\.' | head -1)
	[ -n "$ip" ] || skip "no address off loopback to try"
	serve --bind 0.0.0.0
	curl -sf "http://$ip:$port/a.txt" >/dev/null || skip "this host cannot reach its own address $ip"
	far=http://$ip:$port/
	{
		cmd navigate "\"id\":1,\"url\":\"${url}\""
		cmd navigate "\"id\":2,\"url\":\"${far}\""
		cmd eval "\"id\":3,\"expression\":\"fetch('${far}a.txt').then(r => r.text(), e => 'failed: ' + e.message)\""
		cmd navigate '"id":4,"url":"file:///etc/passwd"'
		cmd eval "\"id\":5,\"expression\":\"fetch('${url}a.txt').then(r => r.text())\""
	} >cmds.ndjson
	run --separate-stderr ws-browser --no-audit cmds.ndjson
	assert_failure 77
	printf '%s\n' "$output" >out.ndjson
	assert_equal "$(jq -r '"\(.id) \(.exit_code // 0) \(.error // .value)"' out.ndjson)" \
"1 0 null
2 77 \"$far\" is beyond the network limits
3 0 failed: Failed to fetch
4 77 \"file:///etc/passwd\" is beyond the network limits
5 0 plain"
	# the same with the host allowed: it loads and fetches
	run --separate-stderr ws-browser --no-audit --allow "localhost,$ip" cmds.ndjson
	printf '%s\n' "$output" >out.ndjson
	assert_equal "$(jq -r 'select(.id <= 3) | "\(.id) \(.exit_code // 0) \(.title // .value)"' out.ndjson)" \
"1 0 Test page
2 0 Test page
3 0 plain"
	# and with no limits at all, file: URLs too
	head -4 cmds.ndjson >any.ndjson
	run --separate-stderr ws-browser --no-audit --net any any.ndjson
	assert_success
	printf '%s\n' "$output" >out.ndjson
	assert_equal "$(jq -r '"\(.id) \(.ok) \(.url // .value)"' out.ndjson)" \
"1 true $url
2 true $far
3 true plain

4 true file:///etc/passwd"
}

@test "approval required: approved, the command runs; denied, it is recorded and skipped (77); unanswered, 75" {
	serve
	mkfifo cmds
	ws-browser --approval-timeout 10s <cmds >out.ndjson 2>err.txt 3>&- &
	wpid=$!
	exec 5>cmds
	cmd navigate "\"id\":1,\"url\":\"$url\",\"approval\":\"required\"" >&5
	until id=$(ws-approve list | jq -r .id) && [ -n "$id" ]; do sleep 0.1; done
	assert_equal "$(ws-approve show "$id" | jq -r '[.requester, .subject, .summary] | join(" / ")')" "ws-browser / browser navigate id 1 / $url"
	ws-approve approve "$id" --reason fine >/dev/null
	cmd eval '"id":2,"expression":"document.title = \"changed\"","approval":"required"' >&5
	until id2=$(ws-approve list | jq -r .id) && [ -n "$id2" ]; do sleep 0.1; done
	ws-approve deny "$id2" --reason "not today" >/dev/null
	cmd eval '"id":3,"expression":"document.title"' >&5
	cmd eval '"id":4,"expression":"1","approval":"required"' >&5
	exec 5>&-
	rc=0
	wait "$wpid" || rc=$?
	assert_equal "$rc" 77
	valid <out.ndjson
	assert_equal "$(jq -r '"\(.id) \(.approval // "-") \(.exit_code // 0) \(.error // .title // .value)"' out.ndjson)" \
"1 $id 0 Test page
2 $id2 77 approval $id2 denied: not today
3 - 0 Test page
4 $(jq -r 'select(.id == 4) | .approval' out.ndjson) 75 approval $(jq -r 'select(.id == 4) | .approval' out.ndjson) not given in time"
	assert_equal "$(ws-approve show "$(jq -r 'select(.id == 4) | .approval' out.ndjson)" | jq -r .status)" expired
	# all in the audit log, the denial too, with what they found
	audit-export --format ndjson -o audit.ndjson
	assert_equal "$(jq -r 'select(.record.type == "browser.call") | "\(.record.command.id) \(.record.command.command) \(.record.ok) \(.record.approval // "-")"' audit.ndjson)" \
"1 navigate true $id
2 eval false $id2
3 eval true -
4 eval false $(jq -r 'select(.id == 4) | .approval' out.ndjson)"
	assert_equal "$(jq -r 'select(.record.type == "browser.call" and .record.command.id == 3) | .record.sha256' audit.ndjson)" \
	    "$(printf '"Test page"' | sha256sum | cut -d' ' -f1)"
}

@test "no chromium: 69 before any record; usage errors 64" {
	AGENTUTILS_CHROMIUM=/nonexistent/chromium run --separate-stderr ws-browser --no-audit </dev/null
	assert_failure 69
	assert_equal "$stderr" 'ws-browser: "/nonexistent/chromium": not found (Debian'"'"'s package chromium)'
	for bad in "--net world" "--width 0" "--height x" "--timeout 5" "--net any --allow example.com" "--allow a/b"; do
		run --separate-stderr ws-browser $bad </dev/null
		assert_failure 64
	done
	run --separate-stderr ws-browser --net world
	assert_equal "${stderr_lines[0]}" 'ws-browser: --net: loopback or any, not "world"'
}

# detached [OPTION ...]: a browser left to a holder (ws-browser --detach),
# its socket under a runtime directory and its profile under a TMPDIR of
# the test's own; its record in detached.json, its id in ID, the
# holder's pid in HOLDER, the browser's in CHROME.
detached() {
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/run TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
	mkdir -p "$TMPDIR"
	timeout 90 ws-browser --detach "$@" >detached.json 3>&-
	ID=$(jq -r .id detached.json)
	HOLDER=$(jq -r .holder_pid detached.json)
	CHROME=$(jq -r .pid detached.json)
}

# attach [FILE ...]: ws-browser --session ID, its results in out.ndjson
# and its stderr in err.
attach() {
	timeout 60 ws-browser --session "$ID" "$@" >out.ndjson 2>err
}

@test "--detach, --session: two attaches see the same page, a second client at once is refused (75), quit ends it all; audited with the session" {
	serve
	detached
	valid <detached.json
	assert_equal "$(jq -c '[.type, .kind, .state]' detached.json)" '["session","browser","detached"]'
	# the socket as ws-pty's holders make it (tests/ws-pty.bats)
	sock=$(jq -r .socket detached.json)
	assert_equal "$sock" "$XDG_RUNTIME_DIR/agentutils/$ID"
	[ -S "$sock" ]
	# the browser is the holder's child, its profile in the directory
	# the session names
	assert_equal "$(ps -o ppid= -p "$CHROME" | tr -d ' ')" "$HOLDER"
	dir=$(jq -r .cwd detached.json)
	[ -d "$dir/profile" ]
	assert_equal "$(readlink /proc/"$HOLDER"/fd/2)" /dev/null
	run attach <<-EOF
	$(cmd navigate "\"id\":1,\"url\":\"$url\"")
	$(cmd eval '"id":2,"expression":"window.kept = 6 * 7"')
	EOF
	assert_success
	valid <out.ndjson
	assert_equal "$(jq -c '[.id, .ok, .title // .value]' out.ndjson)" '[1,true,"Test page"]
[2,true,42]'
	# the next attach, from a file: the same page, its state kept
	{
		cmd eval '"id":3,"expression":"window.kept + \" \" + location.href"'
		cmd text '"id":4,"selector":"#h"'
	} >cmds.ndjson
	run attach cmds.ndjson
	assert_success
	valid <out.ndjson
	assert_equal "$(jq -c '[.id, .page, .value // .text]' out.ndjson)" "[3,1,\"42 $url\"]
[4,1,\"Hello\"]"
	# one client at a time
	mkfifo in
	# output to a pipe, so that each record comes out at once
	timeout 60 ws-browser --session "$ID" <in > >(cat >first.ndjson) 2>/dev/null 3>&- &
	first=$!
	exec 7>in
	cmd eval '"id":5,"expression":"document.title"' >&7
	until [ -s first.ndjson ]; do sleep 0.05; done
	run attach <<<"$(cmd eval '"id":6,"expression":"1"')"
	assert_failure 75
	valid <out.ndjson
	assert_equal "$(jq -c '[.type, .id, .status, .error]' out.ndjson)" "[\"session.error\",\"$ID\",75,\"the session is attached elsewhere\"]"
	cmd click '"id":7,"selector":"#b"' >&7
	exec 7>&-
	wait "$first"
	for _ in $(seq 100); do
		[ "$(wc -l <first.ndjson)" = 2 ] && break
		sleep 0.05
	done
	assert_equal "$(jq -c '[.id, .ok]' first.ndjson)" '[5,true]
[7,true]'
	# quit: the browser closed, the holder gone with its socket, the
	# profile removed, the session exited
	run attach <<<"$(cmd quit '"id":8')
$(cmd eval '"id":9,"expression":"1"')"
	assert_success
	valid <out.ndjson
	assert_equal "$(jq -c '[.id, .command, .ok]' out.ndjson)" '[8,"quit",true]'
	ended "$HOLDER"
	ended "$CHROME"
	[ ! -e "$sock" ]
	[ ! -e "$dir" ]
	assert_equal "$(ws-session show "$ID" | jq -c '[.state, .exit_code]')" '["exited",0]'
	run --separate-stderr ws-browser --session "$ID" </dev/null
	assert_failure 69
	assert_equal "$stderr" "ws-browser: session $ID has ended (exited)"
	# every command of every attach in the audit log, naming the session
	audit-export --format ndjson -o audit.ndjson
	assert_equal "$(jq -r 'select(.record.type == "browser.call") | "\(.record.command.id) \(.record.session)"' audit.ndjson)" \
"1 $ID
2 $ID
3 $ID
4 $ID
5 $ID
7 $ID
8 $ID"
}

@test "--detach: a browser killed -9 ends the session: the command under way fails 69, then a session.error 69; exited with KILL" {
	detached --no-audit
	mkfifo in outp
	cat outp >out.ndjson &
	timeout 60 ws-browser --session "$ID" <in >outp 2>err 3>&- &
	pid=$!
	exec 7>in
	cmd eval '"id":1,"expression":"1"' >&7
	cmd eval '"id":2,"expression":"new Promise(function () {})"' >&7
	until [ -s out.ndjson ]; do sleep 0.05; done
	sleep 0.5
	kill -9 "$CHROME"
	rc=0
	wait "$pid" || rc=$?
	exec 7>&-
	wait
	assert_equal "$rc" 69
	valid <out.ndjson
	assert_equal "$(jq -c '[.type, .id, .exit_code // .status, .error // .value]' out.ndjson)" \
"[\"browser.result\",1,null,1]
[\"browser.result\",2,69,\"the browser was killed by signal 9\"]
[\"session.error\",\"$ID\",69,\"the browser was killed by signal 9\"]"
	assert_equal "$(ws-session show "$ID" | jq -c '[.state, .exit_code, .signal]')" '["exited",137,"KILL"]'
	ended "$HOLDER"
	[ ! -e "$(jq -r .socket detached.json)" ]
	# the profile removed, Chromium's log kept until ws-session gc
	assert_equal "$(ls -A "$(jq -r .cwd detached.json)")" chromium.log
	assert_equal "$(ws-session gc | jq -c '[.sessions, .dead]')" '[1,0]'
	[ ! -e "$(jq -r .cwd detached.json)" ]
	[ -d "$TMPDIR" ]
}

@test "--detach: a holder killed -9 is found dead by the next attach (69) and by ws-session; its browser ends" {
	detached --no-audit
	kill -9 "$HOLDER"
	ended "$HOLDER"
	run attach <<<"$(cmd eval '"expression":"1"')"
	assert_failure 69
	assert_equal "$(cat err)" "ws-browser: session $ID: its holder is gone; marked dead"
	assert_equal "$(cat out.ndjson)" ""
	[ ! -e "$(jq -r .socket detached.json)" ]
	assert_equal "$(ws-session list | jq -r .state)" dead
	# the browser finds its pipe closed and ends
	ended "$CHROME"
	# the profile and the log stay until ws-session gc
	[ -d "$(jq -r .cwd detached.json)/profile" ]
	assert_equal "$(ws-session gc | jq -c '[.sessions, .dead]')" '[1,0]'
	[ ! -e "$(jq -r .cwd detached.json)" ]
}

@test "ws-session kill: the holder closes the browser, removes the profile and records the session killed" {
	detached --no-audit
	# The browser closes as it would at the end (a second or two, more
	# on a busy machine), not SIGKILLed with its holder at --grace.
	run ws-session --grace 60s kill "$ID"
	assert_success
	valid <<<"$output"
	assert_equal "$(jq -c '[.kind, .state]' <<<"$output")" '["browser","killed"]'
	ended "$HOLDER"
	ended "$CHROME"
	[ ! -e "$(jq -r .socket detached.json)" ]
	[ ! -e "$(jq -r .cwd detached.json)" ]
	assert_equal "$(ws-session list | jq -r .state)" killed
}

@test "--session: no such session 66, a terminal session 69, options of the browser 64; --detach: with commands 64, without a browser 69" {
	run --separate-stderr ws-browser --session 01AAAAAAAAAAAAAAAAAAAAAAAA </dev/null
	assert_failure 66
	assert_equal "$stderr" 'ws-browser: no session "01AAAAAAAAAAAAAAAAAAAAAAAA"'
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/run
	mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
	ws-pty --detach -- sleep 100 >pty.json 3>&-
	HOLDER=$(jq -r .holder_pid pty.json)
	run --separate-stderr ws-browser --session "$(jq -r .id pty.json)" </dev/null
	assert_failure 69
	assert_equal "$stderr" "ws-browser: session $(jq -r .id pty.json) is a terminal session"
	kill -9 "$HOLDER"
	run --separate-stderr ws-browser --session X --width 100 </dev/null
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "ws-browser: --session: the browser's options go with --detach"
	run --separate-stderr ws-browser --detach cmds.ndjson
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "ws-browser: --detach reads no commands"
	# a browser that cannot start: the holder says why and gives up,
	# no session is left
	AGENTUTILS_CHROMIUM=/nonexistent/chromium run --separate-stderr ws-browser --detach --no-audit
	assert_failure 69
	assert_equal "$output" ""
	assert_equal "$stderr" 'ws-browser: "/nonexistent/chromium": not found (Debian'"'"'s package chromium)'
	assert_equal "$(ws-session list | jq -r .kind)" terminal
}
