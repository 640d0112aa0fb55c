#!/usr/bin/env bats
# audit-export: bundles of the audit log that sha256sum, openssl and a
# reimplementation of agentutils-audit(5) accept, and refuse once edited;
# selection, redaction by names and by jq paths, the covering checkpoint,
# NDJSON output, and every failure with its status and message.

load helper

F=$BATS_TEST_DIRNAME/fixtures/audit-export
KEYS=$BATS_TEST_TMPDIR/home/.config/agentutils

# fill: keys (unless there are some), and four events appended in two
# batches (checkpoints at sizes 2 and 4).
fill() {
	[ -f "$KEYS/audit.key" ] || audit-write --init || return
	printf '%s\n' \
	    '{"type":"tool.call","run":"r1","args":{"cmd":"ls -l","api_key":"K-1"},"messages":[{"role":"user","content":"hi"},{"role":"tool","content":"out"}]}' \
	    '{"type":"note","run":"r2","password":"pw-2","n":2,"empty":{},"list":[]}' |
	    audit-write || return
	printf '%s\n' \
	    '{"type":"tool.call","run":"r2","Authorization":"Bearer B-3","nested":[{"My_Token":"T-3","keep":1}],"a/b~c":{"SECRET":"S-3"}}' \
	    '{"type":"note","run":"r1","text":"done"}' | audit-write
}

# rfc3339 MS: the time MS (ms since the epoch) as RFC 3339.
rfc3339() {
	printf '%s.%03dZ\n' "$(date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%S)" $(($1 % 1000))
}

# unpack BUNDLE DIR: extract a tar.gz or zip into DIR.
unpack() {
	mkdir -p "$2"
	if [ "$(head -c 2 "$1")" = PK ]; then
		unzip -q "$1" -d "$2"
	else
		tar -xzf "$1" -C "$2"
	fi
}

# left: the files in the test's directory besides home and bats' own.
left() {
	ls -A | grep -v -e '^home$' -e '^separate-stderr-' | tr '\n' ' '
}

# sums DIR, sig DIR FILE: the checks of the manual's EXAMPLES.
sums() {
	(cd "$1" && sha256sum --quiet -c SHA256SUMS)
}
sig() {
	(cd "$1" && openssl pkeyutl -verify -pubin -inkey pubkey.pem -rawin \
	    -in "$2" -sigfile "$2.sig")
}

# good DIR: a bundle every check accepts.
good() {
	sums "$1" || return
	sig "$1" SHA256SUMS >/dev/null || return
	sig "$1" checkpoint >/dev/null || return
	"$F/recompute.py" check "$1"
}

@test "the EXAMPLES of audit-export(1) and agentutils-audit(5) typed into one shell, in order, print what the page shows" {
	# man.bats runs each command in a shell of its own; a reader types
	# them into one, where a cd stays done
	local page
	for page in man1/audit-export.1 man5/agentutils-audit.5; do
		mkdir "${page#*/}"
		(cd "${page#*/}" && python3 - "$TOP/tests/man-examples" \
		    "$TOP/man/$page") <<-'PY'
		import importlib.machinery, subprocess, sys
		mx = importlib.machinery.SourceFileLoader("mx", sys.argv[1]).load_module()
		cmds, want = [], []
		for n, cmd, w in mx.sessions(sys.argv[2]):
		    cmds.append(cmd)
		    want += w
		p = subprocess.run(["/bin/sh", "-c", "\n".join(cmds)],
		                   stdout=subprocess.PIPE, text=True)
		got = [l.rstrip() for l in p.stdout.split("\n")][:-1]
		sys.stdout.writelines(l + "\n" for l in mx.difflib.unified_diff(
		    want, got, sys.argv[2], "output", lineterm=""))
		sys.exit(p.returncode != 0 or got != want)
		PY
	done
}

@test "a tar.gz bundle: eight flat files, checked by sha256sum, openssl and the format's hashes" {
	fill
	run --separate-stderr audit-export -o b.tar.gz
	assert_success
	assert_equal "$stderr" ""
	assert_output ""
	assert_equal "$(tar -tzf b.tar.gz | tr '\n' ' ')" \
	    "events.ndjson chain.ndjson checkpoint checkpoint.sig pubkey.pem manifest.json SHA256SUMS SHA256SUMS.sig "
	assert_equal "$(stat -c %a b.tar.gz)" 600
	unpack b.tar.gz d
	run good d
	assert_success
	assert_output "1..4: 4 events"
	(cd d && sha256sum -c SHA256SUMS) | golden audit-export/sums.txt
	valid <d/events.ndjson
	valid <d/manifest.json
	cmp d/pubkey.pem "$KEYS/audit-sign.pub"
	assert_equal "$(stat -c %s d/checkpoint.sig d/SHA256SUMS.sig | tr '\n' ' ')" "64 64 "
	assert_equal "$(head -n 1 d/chain.ndjson)" \
	    '{"seq":0,"hash":"0000000000000000000000000000000000000000000000000000000000000000"}'
	assert_equal "$(jq -r .hash d/chain.ndjson | tail -n 1)" "$(db "SELECT lower(hex(hash)) FROM audit_events WHERE seq = 4")"
	assert_equal "$(sed -n 2p d/checkpoint)" 4
	assert_equal "$(sed -n 1p d/checkpoint)" "$(jq -r .log d/manifest.json)"
	# nothing is left beside the output
	assert_equal "$(left)" "b.tar.gz d "
}

@test "the manifest: the log, the events, the checkpoint, the filters and redactions as given" {
	fill
	audit-export --run r2 --since 2000-01-01T00:00:00Z --redact .n -o b.tar.gz
	unpack b.tar.gz d
	valid <d/manifest.json
	jq -c 'del(.created, .log, .checkpoint.head, .checkpoint.ts)' d/manifest.json |
	    golden audit-export/manifest.json
	assert_equal "$(jq -r .log d/manifest.json)" "agentutils.audit/$(db "SELECT value FROM audit_meta WHERE name = 'log_id'")"
	assert_equal "$(jq -r .checkpoint.head d/manifest.json)" "$(jq -r .hash d/chain.ndjson | tail -n 1)"
	assert_equal "$(jq -r .program_version d/manifest.json)" "$(sed -n 's/^VERSION = //p' "$TOP/Makefile")"
}

@test "audit-verify takes a bundle's own pubkey.pem from memory; one that is no key is named" {
	fill
	audit-export -o b.tar.gz
	unpack b.tar.gz d
	# no temporary file: a TMPDIR that does not exist is no matter
	TMPDIR=$BATS_TEST_TMPDIR/none run --separate-stderr audit-verify d
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(jq -c '[.source, .events]' <<<"$output")" '["bundle",4]'
	echo "not a key" >d/pubkey.pem
	run --separate-stderr audit-verify d
	assert_failure 1
	assert_equal "$stderr" "audit-verify: d: pubkey.pem: not an Ed25519 public key in PEM"
}

@test "a zip bundle, by --format or by the name, passes the same checks" {
	fill
	audit-export --format zip -o b.pkg
	audit-export -o b.zip
	for b in b.pkg b.zip; do
		unpack "$b" "d$b"
		run good "d$b"
		assert_success
		assert_output "1..4: 4 events"
	done
	assert_equal "$(unzip -Z1 b.zip | tr '\n' ' ')" \
	    "events.ndjson chain.ndjson checkpoint checkpoint.sig pubkey.pem manifest.json SHA256SUMS SHA256SUMS.sig "
}

@test "an edited events.ndjson or manifest.json, a removed file, or sums made again fail the checks" {
	fill
	audit-export -o b.tar.gz
	for what in events manifest removed sums checkpoint; do
		rm -rf d
		unpack b.tar.gz d
		case $what in
		events) sed -i 's/ls -l/rm -rf/' d/events.ndjson ;;
		manifest) sed -i 's/"events":4/"events":3/' d/manifest.json ;;
		removed) rm d/chain.ndjson ;;
		sums) sed -i 's/ls -l/rm -rf/' d/events.ndjson
			(cd d && sha256sum events.ndjson chain.ndjson checkpoint \
			    checkpoint.sig pubkey.pem manifest.json >SHA256SUMS) ;;
		checkpoint) sed -i '2s/4/3/' d/checkpoint ;;
		esac
		run --separate-stderr sums d
		case $what in
		events) assert_failure; assert_output "events.ndjson: FAILED" ;;
		manifest) assert_failure; assert_output "manifest.json: FAILED" ;;
		removed) assert_failure; assert_output --partial "chain.ndjson: FAILED open or read" ;;
		sums) assert_success ;;
		checkpoint) assert_failure; assert_output "checkpoint: FAILED" ;;
		esac
		run sig d SHA256SUMS
		if [ "$what" = sums ]; then
			assert_failure
			assert_output --partial "Signature Verification Failure"
		else
			assert_success
		fi
		run sig d checkpoint
		if [ "$what" = checkpoint ]; then
			assert_failure
		else
			assert_success
		fi
	done
}

@test "redaction by default: names like token, secret, password, key, authorization, at any depth, any case" {
	fill
	audit-export -o - | jq -c '[.seq, .record, (.redacted // {} | keys)]' |
	    golden audit-export/default.ndjson
	audit-export -o b.tar.gz
	unpack b.tar.gz d
	# not one secret value in the bundle, compressed or not
	for s in K-1 pw-2 B-3 T-3 S-3; do
		run grep -r -- "$s" d
		assert_failure
	done
	# an event with nothing redacted carries its salt instead
	assert_equal "$(jq -c 'select(.seq == 4) | [has("salt"), has("salts"), has("redacted")]' d/events.ndjson)" \
	    '[true,false,false]'
	assert_equal "$(jq -c 'select(.seq == 1) | [has("salt"), (.salts | keys)]' d/events.ndjson)" \
	    '[false,["/args/cmd","/messages/0/content","/messages/0/role","/messages/1/content","/messages/1/role","/run","/type"]]'
}

@test "--redact: jq paths into objects and arrays, negative indices, paths that fail or lead nowhere" {
	fill
	run --separate-stderr audit-export --redact .args.cmd --redact '.messages[].content' \
	    --redact '.nested[-1].keep' --redact .no.such --redact '.text.x' \
	    --redact '.messages[-5].role' --redact '.messages[1e10]' -o b.tar.gz
	assert_success
	assert_equal "$stderr" ""
	unpack b.tar.gz d
	run good d
	assert_success
	jq -c '[.seq, .record, (.redacted // {} | keys)]' d/events.ndjson |
	    golden audit-export/paths.ndjson
	assert_equal "$(jq -c .redactions.paths d/manifest.json)" \
	    '[".args.cmd",".messages[].content",".nested[-1].keep",".no.such",".text.x",".messages[-5].role",".messages[1e10]"]'
}

@test "--profile replaces the default names; --redact adds to its paths" {
	fill
	echo '{"names":["role","*KEY"],"paths":[".n"]}' >p.json
	audit-export --profile p.json --redact .text -o b.tar.gz
	unpack b.tar.gz d
	run good d
	assert_success
	jq -c '[.seq, .record]' d/events.ndjson | golden audit-export/profile.ndjson
	assert_equal "$(jq -c .redactions d/manifest.json)" \
	    '{"names":["role","*KEY"],"paths":[".n",".text"]}'
	echo '{}' >empty.json
	assert_equal "$(audit-export --profile empty.json -o - | jq -c 'select(.seq == 2) | .record.password')" '"pw-2"'
}

@test "a bad profile is 78, a missing one 66" {
	fill
	for p in '[]' '{"names":"x"}' '{"names":[1]}' '{"name":["x"]}' '{"paths":["(("]}' '{"names":'; do
		printf '%s\n' "$p" >p.json
		run --separate-stderr audit-export --profile p.json -o b.tar.gz
		assert_failure 78
		assert_output ""
		assert_regex "$stderr" "^audit-export: p\\.json(:[0-9]+)?: "
	done
	# a syntax error is named by its line, as in every JSON file read
	printf '{\n  "names": ["*token*"],\n  "paths": [".a" ".b"]\n}\n' >p.json
	run --separate-stderr audit-export --profile p.json -o b.tar.gz
	assert_failure 78
	assert_equal "$stderr" "audit-export: p.json:3: invalid JSON: expected ',' or ']'"
	run --separate-stderr audit-export --profile nope.json -o b.tar.gz
	assert_failure 66
	assert_equal "$stderr" "audit-export: nope.json: No such file or directory"
	assert [ ! -e b.tar.gz ]
}

@test "--type, --run, --where: the selected events, with the chain from the one before to the checkpoint" {
	fill
	audit-export --type note --run r1 -o b.tar.gz
	unpack b.tar.gz d
	run good d
	assert_success
	assert_output "4..4: 1 events"
	assert_equal "$(jq -c '[.seq, .record.text]' d/events.ndjson)" '[4,"done"]'
	assert_equal "$(jq -c .seq d/chain.ndjson | tr '\n' ' ')" "3 4 "
	assert_equal "$(head -n 1 d/chain.ndjson | jq -r .hash)" "$(db "SELECT lower(hex(hash)) FROM audit_events WHERE seq = 3")"
	# the smallest checkpoint that covers the last one selected: size 2
	audit-export --where '.messages | length > 1' -o c.tar.gz
	unpack c.tar.gz e
	run good e
	assert_success
	assert_output "1..2: 1 events"
	assert_equal "$(jq -c '[.checkpoint.size, .first_seq, .last_seq, .filters]' e/manifest.json)" \
	    '[2,1,1,{"where":".messages | length > 1"}]'
	assert_equal "$(tail -n 1 e/chain.ndjson | jq -c 'keys')" '["content","epoch","hash","sealed","seq","ts_ms"]'
}

@test "--since and --until: the append time, at or after and before" {
	fill
	db "UPDATE audit_events SET ts = 1767225600000 + seq * 1000" >/dev/null
	# the times are under the chain: the log now fails its check
	run --separate-stderr audit-export -o - --since 2026-01-01T00:00:02Z
	assert_failure 1
	assert_equal "$stderr" "audit-export: seq 1: the hash does not chain (the log was altered)"
	rm -rf home
	fill
	t2=$(db "SELECT ts FROM audit_events WHERE seq = 2")
	t3=$(db "SELECT ts FROM audit_events WHERE seq = 3")
	[ "$t3" -gt "$t2" ] || skip "events 2 and 3 share a millisecond"
	run audit-export --since "$(rfc3339 "$t3")" -o - --format ndjson
	assert_success
	assert_equal "$(jq -c .seq <<<"$output" | tr '\n' ' ')" "3 4 "
	run audit-export --until "$(rfc3339 "$t3")" -o -
	assert_success
	assert_equal "$(jq -c .seq <<<"$output" | tr '\n' ' ')" "1 2 "
	run audit-export --since 2000-01-01T01:00:00+01:00 --until 2999-01-01T00:00:00Z -o -
	assert_equal "${#lines[@]}" 4
}

@test "nothing selected: a bundle with no events, its chain the checkpoint's size and head" {
	fill
	audit-export --type nothing -o b.tar.gz
	unpack b.tar.gz d
	sums d
	sig d SHA256SUMS
	assert_equal "$(stat -c %s d/events.ndjson)" 0
	assert_equal "$(cat d/chain.ndjson)" "{\"seq\":2,\"hash\":\"$(db "SELECT lower(hex(hash)) FROM audit_events WHERE seq = 2")\"}"
	valid <d/manifest.json
	assert_equal "$(jq -c '[.events, has("first_seq"), .checkpoint.size, .filters]' d/manifest.json)" \
	    '[0,false,2,{"type":"nothing"}]'
}

@test "without a covering checkpoint, one is signed and stored" {
	fill
	db "DELETE FROM audit_checkpoints WHERE size = 4"
	audit-export --run r1 -o b.tar.gz
	unpack b.tar.gz d
	run good d
	assert_success
	assert_output "1..4: 2 events"
	assert_equal "$(db "SELECT group_concat(size) FROM audit_checkpoints")" "2,4"
	# an empty log has nothing to attest; as NDJSON it is nothing
	rm -rf home
	mkdir home
	audit-write --init
	run --separate-stderr audit-export -o b2.tar.gz
	assert_failure 66
	assert_equal "$stderr" "audit-export: the audit log is empty"
	assert [ ! -e b2.tar.gz ]
	run --separate-stderr audit-export -o -
	assert_success
	assert_output ""
}

@test "--format ndjson: the events alone, to a file or to standard output" {
	fill
	run --separate-stderr audit-export -o -
	assert_success
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 4
	printf '%s\n' "$output" | valid
	audit-export -o e.ndjson
	assert_equal "$(cat e.ndjson)" "$output"
	audit-export --format ndjson -o e.out
	assert_equal "$(cat e.out)" "$output"
	audit-export -o b.tar.gz
	unpack b.tar.gz d
	assert_equal "$(cat d/events.ndjson)" "$output"
	# another export of the same events is the same, salts included
	assert_equal "$(audit-export -o -)" "$output"
}

@test "an event that does not open: 1, named by its number, and nothing written" {
	fill
	"$F/recompute.py" forge "$XDG_STATE_HOME/agentutils/state.db" 3
	run --separate-stderr audit-export -o b.tar.gz
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "audit-export: seq 3: GCM tag mismatch (wrong key, or the event was altered)"
	assert_equal "$(left)" ""
	# the events before it still open, and the chain still checks
	run audit-export --until "$(rfc3339 "$(db "SELECT ts FROM audit_events WHERE seq = 3")")" -o b.tar.gz
	assert_success
	unpack b.tar.gz d
	run good d
	assert_success
	assert_output "1..2: 2 events"
}

@test "an altered log: a broken chain or a checkpoint that is not the log's is 1" {
	fill
	db "UPDATE audit_events SET content = zeroblob(32) WHERE seq = 2"
	run --separate-stderr audit-export -o b.tar.gz
	assert_failure 1
	assert_equal "$stderr" "audit-export: seq 2: the hash does not chain (the log was altered)"
	rm -rf home
	fill
	db "UPDATE audit_checkpoints SET note = replace(note, 'time', 'tame') WHERE size = 4"
	run --separate-stderr audit-export -o b.tar.gz
	assert_failure 1
	assert_equal "$stderr" "audit-export: checkpoint 4: bad signature"
	assert [ ! -e b.tar.gz ]
}

@test "--where failing on an event: reported, left out, 65, and the bundle written" {
	fill
	run --separate-stderr audit-export --where '.args.cmd | test("ls")' -o b.tar.gz
	assert_failure 65
	assert_equal "${stderr_lines[0]}" "audit-export: seq 2: --where: null (null) cannot be matched, as it is not a string"
	assert_equal "${#stderr_lines[@]}" 3
	unpack b.tar.gz d
	run good d
	assert_success
	assert_output "1..2: 1 events"
}

@test "key files: missing is 66, not 0600 is 78, another log's key is 78, the wrong public key is 78" {
	fill
	run --separate-stderr audit-export --key nokey -o b.tar.gz
	assert_failure 66
	assert_equal "$stderr" "audit-export: nokey: No such file or directory"
	run --separate-stderr audit-export --pubkey nopub -o b.tar.gz
	assert_failure 66
	chmod 644 "$KEYS/audit.key"
	run --separate-stderr audit-export -o b.tar.gz
	assert_failure 78
	assert_regex "$stderr" "audit\\.key: secret file has mode 0644"
	chmod 600 "$KEYS/audit.key"
	chmod 640 "$KEYS/audit-sign.key"
	run audit-export -o b.tar.gz
	assert_failure 78
	chmod 600 "$KEYS/audit-sign.key"
	echo "1 $(printf '%064d' 7)" >other.key
	chmod 600 other.key
	run --separate-stderr audit-export --key other.key -o b.tar.gz
	assert_failure 78
	assert_regex "$stderr" "key of epoch 1 is [0-9a-f]{16}; this key file's is"
	openssl genpkey -algorithm ed25519 -out other.pem 2>/dev/null
	openssl pkey -in other.pem -pubout -out other.pub
	run --separate-stderr audit-export --pubkey other.pub -o b.tar.gz
	assert_failure 78
	assert_equal "$stderr" "audit-export: other.pub: not the public key of the signing key"
	# ndjson does not need the public key
	run audit-export --pubkey other.pub -o -
	assert_success
	assert [ ! -e b.tar.gz ]
	# no key material in any message
	for f in "$KEYS/audit.key" other.key; do
		k=$(grep -v '^#' "$f" | cut -d ' ' -f 2)
		run grep -r -- "$k" "$BATS_TEST_TMPDIR" --exclude-dir=.config --exclude=other.key
		assert_failure
	done
}

@test "output that cannot be created is 73; a write that fails is 74; neither leaves a file" {
	fill
	run --separate-stderr audit-export -o no/such/dir/b.tar.gz
	assert_failure 73
	assert_equal "$stderr" "audit-export: no/such/dir/b.tar.gz: cannot create: No such file or directory"
	mkdir ro && chmod 555 ro
	if [ "$(id -u)" != 0 ]; then
		run audit-export -o ro/b.tar.gz
		assert_failure 73
	fi
	mkdir out.tar.gz
	run --separate-stderr audit-export -o out.tar.gz
	assert_failure 73
	assert_equal "$stderr" "audit-export: out.tar.gz: cannot create: Is a directory"
	# a file size limit stands for a full disk (the state file's own
	# files are smaller than the limit, the events are not)
	seq 1 400 | jq -c '{type: "note", n: ., text: ("x" * 300)}' | audit-write
	run bash -c 'trap "" XFSZ; ulimit -f 100; audit-export -o big.tar.gz'
	assert_failure 74
	assert_output "audit-export: big.tar.gz: File too large"
	assert_equal "$(left)" "out.tar.gz ro "
}

@test "killed while it waits for the state file: no temporary file left" {
	fill
	dbf=$XDG_STATE_HOME/agentutils/state.db
	# the lock is held until this test lets go of it, however slow the
	# machine (a lock held for a fixed time ran out under load)
	mkfifo lock
	sqlite3 "$dbf" <lock >/dev/null 2>&1 &
	exec 7>lock
	echo "BEGIN IMMEDIATE;" >&7
	# wait until the lock is held, then until the export waits for it
	for i in $(seq 100); do
		sqlite3 "$dbf" "BEGIN IMMEDIATE; COMMIT;" 2>/dev/null || break
		sleep 0.05
	done
	AGENTUTILS_BUSY_TIMEOUT=10s audit-export -o b.tar.gz &
	pid=$!
	for i in $(seq 100); do
		ls -A | grep -q '^\.b\.tar\.gz\.' && break
		sleep 0.05
	done
	sleep 0.2
	assert_regex "$(ls -A)" "\\.b\\.tar\\.gz\\."
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 143
	echo "COMMIT;" >&7
	exec 7>&-
	wait
	rm lock
	assert_equal "$(left)" ""
}

@test "usage errors: 64 with the usage" {
	fill
	for args in "" "-o" "x -o b.tar.gz" "--format tgz -o b" "--format zip -o -" \
	    "--since yesterday -o -" "--until 2026-13-01T00:00:00Z -o -"; do
		run --separate-stderr audit-export $args
		assert_failure 64
		assert_output ""
		assert_regex "${stderr_lines[1]}" "^usage: audit-export "
	done
	run --separate-stderr audit-export --where '(' -o -
	assert_failure 64
	assert_regex "$stderr" "^audit-export: --where: syntax error"
	run --separate-stderr audit-export --redact '.a[' -o -
	assert_failure 64
	assert_regex "$stderr" '^audit-export: --redact: "\.a\[": syntax error'
	run --separate-stderr audit-export --redact '.messages[0:1]' -o -
	assert_failure 64
	assert_output ""
	assert_equal "$stderr" 'audit-export: --redact: ".messages[0:1]": only paths to fields and elements, not slices'
	run --separate-stderr audit-export --format zip -o -
	assert_equal "${stderr_lines[0]}" "audit-export: -o -: only for --format ndjson"
	run --separate-stderr audit-export
	assert_equal "${stderr_lines[0]}" "audit-export: no output: -o OUT"
}

@test "a progress line on a terminal, none with -q" {
	fill
	run script -qec "audit-export -o b.tar.gz" /dev/null
	assert_success
	assert_output --partial "audit-export: 4 events read, 4 selected"
	run script -qec "audit-export -q -o c.tar.gz" /dev/null
	assert_success
	assert_output ""
	run --separate-stderr audit-export -v -o d.tar.gz
	assert_equal "$stderr" "audit-export: 4 events exported"
}
