#!/usr/bin/env bats
# audit-write: the keys --init makes and the modes it insists on, events
# appended as a gap-free chain (checked with sqlite3 and audit-verify),
# receipts, --tee byte for byte, bad lines, --where, encryption at rest,
# key rotation, checkpoints, signals on a FIFO, commits when the input
# pauses, four writers at once, a full disk and a full standard output.

load helper

setup() {
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_STATE_HOME=$HOME/.local/state
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/config
	export AGENTUTILS_DB=$BATS_TEST_TMPDIR/state.db
	unset AGENTUTILS_BUSY_TIMEOUT
	mkdir -p "$HOME"
	cd "$BATS_TEST_TMPDIR" || return
	K=$XDG_CONFIG_HOME/agentutils
	MNT=
}

teardown() {
	# the background writers of a failed test, and the tmpfs
	exec 5>&- 6<&- 7<&- 2>/dev/null || true
	[[ -z $MNT ]] || umount "$MNT" 2>/dev/null || true
}

# db SQL: run SQL on the state file of the test.
db() {
	sqlite3 "$AGENTUTILS_DB" "$@"
}

# keys: the keys of the test, where --init puts them.
keys() {
	audit-write --init
}

# events N [FIRST]: N records, numbered from FIRST (1).
events() {
	seq "${2:-1}" $((${2:-1} + $1 - 1)) | sed 's/.*/{"type":"t","n":&}/'
}

# mode FILE: its permission bits in octal.
mode() {
	stat -c %a "$1"
}

# rows: the log as "seq hash" lines, as receipts give them.
rows() {
	db "SELECT seq || ' ' || lower(hex(hash)) FROM audit_events ORDER BY seq"
}

# receipts: the receipts in $output as "seq hash" lines.
receipts() {
	jq -r '"\(.seq) \(.hash)"' <<<"$output"
}

# gapless N: the log holds exactly the events 1..N.
gapless() {
	assert_equal "$(db "SELECT count(*), min(seq), max(seq), count(DISTINCT seq) FROM audit_events")" "$1|1|$1|$1"
}

# checkpoints: the sizes of the checkpoints, in order, on one line.
checkpoints() {
	db "SELECT size FROM audit_checkpoints ORDER BY size" | paste -sd ' '
}

# verified [ARG...]: audit-verify --key passes; its record in VERIFY.
verified() {
	run --separate-stderr audit-verify --key "$K/audit.key" "$@"
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	VERIFY=$output
}

# vfield NAME: a field of the audit.verify record of verified.
vfield() {
	jq -r ".$1" <<<"$VERIFY"
}

# waitrows N: wait until the log holds N events (10 s at most).
waitrows() {
	local i
	for ((i = 0; i < 200; i++)); do
		[[ $(db "SELECT count(*) FROM audit_events" 2>/dev/null) -ge $1 ]] && return 0
		sleep 0.05
	done
	echo "waitrows: never $1 events" >&2
	return 1
}

# ---- keys ----

@test "--init makes audit.key and audit-sign.key 0600 and audit-sign.pub 0644, a real key pair" {
	run --separate-stderr audit-write --init
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	assert_equal "$(mode "$K")" 700
	assert_equal "$(mode "$K/audit.key")" 600
	assert_equal "$(mode "$K/audit-sign.key")" 600
	assert_equal "$(mode "$K/audit-sign.pub")" 644
	# one key, of epoch 1, 32 bytes in hex
	assert_equal "$(grep -v '^#' "$K/audit.key" | sed 's/[0-9a-f]\{64\}$/KEY/')" "1 KEY"
	# the public key is the signing key's, and both are Ed25519
	run openssl pkey -in "$K/audit-sign.key" -pubout
	assert_success
	assert_equal "$output" "$(cat "$K/audit-sign.pub")"
	run openssl pkey -pubin -in "$K/audit-sign.pub" -noout -text
	assert_output --partial "ED25519"
	# and no state file was needed for it
	assert [ ! -e "$AGENTUTILS_DB" ]
	# -v says so
	rm -r "$K"
	run --separate-stderr audit-write -v --init
	assert_success
	assert_equal "$stderr" "audit-write: keys created"
}

@test "a second --init exits 73 and changes nothing" {
	keys
	sums=$(sha256sum "$K"/* && stat -c '%n %a %Y' "$K"/*)
	run --separate-stderr audit-write --init
	assert_failure 73
	assert_output ""
	assert_equal "$stderr" "audit-write: $K/audit.key: exists already; not replacing a key"
	assert_equal "$(sha256sum "$K"/* && stat -c '%n %a %Y' "$K"/*)" "$sums"
	# any one of the three is enough to refuse; none is made then
	rm "$K/audit.key" "$K/audit-sign.key"
	run --separate-stderr audit-write --init
	assert_failure 73
	assert_equal "$stderr" "audit-write: $K/audit-sign.pub: exists already; not replacing a key"
	assert_equal "$(ls "$K")" audit-sign.pub
}

@test "without keys: 66, and the message says how to make them" {
	run --separate-stderr audit-write <<<'{"a":1}'
	assert_failure 66
	assert_output ""
	assert_equal "$stderr" "audit-write: $K/audit.key: No such file or directory (audit-write --init makes the keys)"
	assert_equal "$(db "SELECT count(*) FROM audit_events")" 0
	# the signing key alone missing
	keys
	rm "$K/audit-sign.key"
	run --separate-stderr audit-write <<<'{"a":1}'
	assert_failure 66
	assert_equal "$stderr" "audit-write: $K/audit-sign.key: No such file or directory (audit-write --init makes the keys)"
	assert_equal "$(db "SELECT count(*) FROM audit_events")" 0
}

@test "a key file others may read: 78, naming the file and its mode; nothing recorded" {
	keys
	for f in audit.key audit-sign.key; do
		for m in 644 640 604; do
			chmod "$m" "$K/$f"
			run --separate-stderr audit-write <<<'{"a":1}'
			assert_failure 78
			assert_output ""
			assert_equal "$stderr" "audit-write: $K/$f: secret file has mode 0$m; it must be 0600 or stricter (chmod 600 $K/$f)"
		done
		chmod 600 "$K/$f"
	done
	assert_equal "$(db "SELECT count(*) FROM audit_events")" 0
	# 0400 is stricter, and fine
	chmod 400 "$K/audit.key" "$K/audit-sign.key"
	run audit-write <<<'{"a":1}'
	assert_success
	gapless 1
	# rotating refuses a loose key file too
	chmod 644 "$K/audit.key"
	run --separate-stderr audit-write --rotate
	assert_failure 78
	assert_equal "$(grep -vc '^#' "$K/audit.key")" 1
}

@test "--key, --signing-key and --pubkey: the keys where they are named, and only there" {
	run audit-write --init --key k/enc --signing-key k/sign --pubkey k/pub
	assert_success
	assert [ ! -e "$K" ]
	assert_equal "$(mode k/enc) $(mode k/sign) $(mode k/pub)" "600 600 644"
	# the default places are empty: without the options, no keys
	run audit-write <<<'{"a":1}'
	assert_failure 66
	events 5 | audit-write --key k/enc --signing-key k/sign
	gapless 5
	# checked with that public key; the default one does not exist
	run --separate-stderr audit-verify
	assert_failure 66
	assert_equal "$stderr" "audit-verify: $K/audit-sign.pub: No such file or directory"
	run --separate-stderr audit-verify --pubkey k/pub --key k/enc
	assert_success
	assert_equal "$(jq -c '[.events, .decrypted]' <<<"$output")" '[5,true]'
	# --rotate rotates the file named
	run audit-write --rotate --key k/enc
	assert_success
	assert_equal "$(grep -v '^#' k/enc | cut -d' ' -f1 | paste -sd ' ')" "1 2"
}

@test "signing keys made by openssl: read in either PEM form; not Ed25519 is 78" {
	audit-write --init --key k/enc --signing-key k/sign --pubkey k/pub
	openssl genpkey -algorithm ed25519 -out s.pem 2>/dev/null
	openssl pkey -in s.pem -pubout -out p.pem
	chmod 600 s.pem
	events 3 | audit-write --key k/enc --signing-key s.pem
	run --separate-stderr audit-verify --pubkey p.pem --key k/enc
	assert_success
	assert_equal "$(jq -c '[.events, .decrypted]' <<<"$output")" '[3,true]'
	# the other key's checkpoints do not verify under this one
	run --separate-stderr audit-verify --pubkey k/pub
	assert_failure
	# the same keys with CRLF line ends and a comment before them
	{ echo 'made by openssl'; sed 's/$/\r/' s.pem; } >s2.pem
	{ echo 'made by openssl'; sed 's/$/\r/' p.pem; } >p2.pem
	chmod 600 s2.pem
	events 2 4 | audit-write --key k/enc --signing-key s2.pem
	run --separate-stderr audit-verify --pubkey p2.pem --key k/enc
	assert_success
	assert_equal "$(jq -c '[.events, .decrypted]' <<<"$output")" '[5,true]'
	# not an Ed25519 key
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out ec.pem 2>/dev/null
	chmod 600 ec.pem
	run --separate-stderr audit-write --key k/enc --signing-key ec.pem <<<'{"a":1}'
	assert_failure 78
	assert_equal "$stderr" "audit-write: ec.pem: not an Ed25519 private key in PEM"
	# the first 16 bytes of an Ed25519 key before other bytes
	head -c 40 s.pem >cut.pem
	chmod 600 cut.pem
	run --separate-stderr audit-write --key k/enc --signing-key cut.pem <<<'{"a":1}'
	assert_failure 78
	gapless 5
}

# ---- appending ----

@test "N records: seq 1..N, a receipt per record equal to its row, audit-verify passes" {
	keys
	events 100 >in.ndjson
	run --separate-stderr audit-write --receipts in.ndjson
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	assert_equal "${#lines[@]}" 100
	assert_equal "$(jq -c 'keys_unsorted' <<<"${lines[0]}")" '["type","seq","hash"]'
	gapless 100
	assert_equal "$(receipts)" "$(rows)"
	# every hash is another
	assert_equal "$(db "SELECT count(DISTINCT hash) FROM audit_events")" 100
	# the state file is private
	assert_equal "$(mode "$AGENTUTILS_DB")" 600
	verified
	assert_equal "$(jq -c '[.events, .first_seq, .last_seq, .unsigned_tail, .decrypted]' <<<"$VERIFY")" '[100,1,100,0,true]'
	# a second writer goes on where the first stopped
	run audit-write --receipts < <(events 3 101)
	assert_success
	assert_equal "$(jq -r .seq <<<"$output" | paste -sd ' ')" "101 102 103"
	assert_equal "$(receipts)" "$(rows | tail -n 3)"
	gapless 103
	verified
	# --sync: the same outcome, one commit per event
	run audit-write --sync --receipts < <(events 2 104)
	assert_success
	assert_equal "$(receipts)" "$(rows | tail -n 2)"
	gapless 105
}

@test "--tee: the input passes through byte for byte, and every record is recorded" {
	keys
	cat >in.ndjson <<-'EOF'
	{"z":1,"a":2,"type":"odd order"}
	{  "spaced" :   [ 1 , 2,3 ]   ,"x":{ } }
	{"n":1.0,"m":1e3,"k":-0,"big":12345678901234567890123,"f":1.50,"e":2E-3}
	{"s":"caf\u00e9 \"q\" \/ \t","u":"é ☃ 😀","nul":null,"t":true,"f":false}
	{"dup":1,"dup":2}
	{"nested":{"deeper":{"deepest":[[],[{}],"x"]}}}
	EOF
	run --separate-stderr sh -c 'audit-write --tee in.ndjson >out.ndjson'
	assert_success
	assert_equal "$stderr" ""
	cmp in.ndjson out.ndjson
	gapless 6
	verified
	# from standard input, into a pipe, the same
	audit-write --tee <in.ndjson | cat >out2.ndjson
	cmp in.ndjson out2.ndjson
	gapless 12
	# with --where, everything still passes through
	audit-write --tee --where 'has("dup")' <in.ndjson >out3.ndjson
	cmp in.ndjson out3.ndjson
	gapless 13
}

@test "--tee and --receipts together: 64, nothing read, nothing recorded" {
	keys
	run --separate-stderr audit-write --tee --receipts <<<'{"a":1}'
	assert_failure 64
	assert_output ""
	assert_equal "${stderr_lines[0]}" "audit-write: --tee and --receipts: choose one"
	assert_regex "${stderr_lines[1]}" "^usage: audit-write "
	assert [ ! -e "$AGENTUTILS_DB" ]
}

@test "bad lines: every good line recorded, each bad one reported as FILE:LINE, 65" {
	keys
	cat >mixed.ndjson <<-'EOF'
	{"good":1}
	not json
	[1,2]
	{"good":2}
	"a string"
	42
	{"unfinished":
	{"good":3}
	{"a":1}{"b":2}
	{"good":4}
	EOF
	run --separate-stderr audit-write --receipts mixed.ndjson
	assert_failure 65
	printf '%s\n' "$output" | valid
	assert_equal "${#lines[@]}" 4
	assert_equal "$(receipts)" "$(rows)"
	gapless 4
	assert_equal "${#stderr_lines[@]}" 6
	assert_equal "$(cut -d: -f1-3 <<<"$stderr" | paste -sd ' ')" \
	    "audit-write: mixed.ndjson:2 audit-write: mixed.ndjson:3 audit-write: mixed.ndjson:5 audit-write: mixed.ndjson:6 audit-write: mixed.ndjson:7 audit-write: mixed.ndjson:9"
	assert_equal "${stderr_lines[1]}" "audit-write: mixed.ndjson:3: not a JSON object (found array)"
	assert_equal "${stderr_lines[2]}" "audit-write: mixed.ndjson:5: not a JSON object (found string)"
	assert_equal "${stderr_lines[3]}" "audit-write: mixed.ndjson:6: not a JSON object (found number)"
	assert_regex "${stderr_lines[0]}" "^audit-write: mixed.ndjson:2: invalid JSON: "
	verified
	# on standard input: "<stdin>"; with --tee only the good lines pass
	run --separate-stderr sh -c 'audit-write --tee <mixed.ndjson'
	assert_failure 65
	assert_equal "$output" "$(grep good mixed.ndjson)"
	assert_equal "$(cut -d: -f1-3 <<<"$stderr" | sed -n 1p)" "audit-write: <stdin>:2"
	gapless 8
	# a missing operand is 66; the other operands are still read
	events 2 >two.ndjson
	run --separate-stderr audit-write nosuch.ndjson two.ndjson
	assert_failure 66
	assert_equal "$stderr" "audit-write: nosuch.ndjson: No such file or directory"
	gapless 10
}

@test "a record nested deeper than jq parses: 65, FILE:LINE, with --where or not; the log still exports" {
	keys
	# jq 1.6 parses 127 objects inside the record, not 128 (an object
	# whose value is being read takes two of its 256 levels)
	nest() {
		python3 -c "import sys; d = int(sys.argv[1]); print('{\"n\":' + '{\"x\":' * d + '1' + '}' * d + '}')" "$1"
	}
	{ nest 127; nest 128; nest 127; } >deep.ndjson
	for w in "" "--where=true"; do
		run --separate-stderr audit-write $w deep.ndjson
		assert_failure 65
		assert_equal "${#stderr_lines[@]}" 1
		assert_regex "$stderr" "^audit-write: deep.ndjson:2: invalid JSON: "
	done
	gapless 4
	run --separate-stderr audit-export --format ndjson -o -
	assert_success
	assert_equal "${#lines[@]}" 4
}

@test "--where records only the matching records; --tee passes them all" {
	keys
	printf '%s\n' '{"type":"x","n":1}' '{"type":"y","n":2}' '{"type":"x","n":3}' \
	    '{"n":4}' '{"type":"x","n":5}' >in.ndjson
	run --separate-stderr audit-write --where '.type=="x"' --receipts in.ndjson
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_equal "$(receipts)" "$(rows)"
	gapless 3
	run --separate-stderr sh -c "audit-write --where '.type==\"x\"' --tee in.ndjson"
	assert_success
	assert_equal "$output" "$(cat in.ndjson)"
	gapless 6
	verified
	# a filter that fails on a record rejects it (65); one that does not
	# compile is a usage error
	run --separate-stderr audit-write --where '.n.bad' --receipts in.ndjson
	assert_failure 65
	assert_output ""
	assert_equal "${stderr_lines[0]}" 'audit-write: in.ndjson:1: --where: Cannot index number with string "bad"'
	assert_equal "${#stderr_lines[@]}" 5
	run --separate-stderr audit-write --where '.[' in.ndjson
	assert_failure 64
	gapless 6
}

@test "encrypted at rest: the content is nowhere in the state file; keys are in no argv and no message" {
	keys
	secret=ZEBRA-PLATYPUS-7731-$RANDOM
	mkfifo in out
	audit-write -v --receipts <in >out 2>err &
	pid=$!
	exec 5>in 6<out
	printf '{"type":"secret","password":"%s","note":"%s"}\n' "$secret" "$secret" >&5
	read -r -t 5 -u 6 line
	assert_equal "$(jq -r .seq <<<"$line")" 1
	# while the writer holds the file open: not in the database, its WAL
	# or its shared memory
	for f in "$AGENTUTILS_DB"*; do
		assert_equal "$f: $(grep -c -a "$secret" "$f")" "$f: 0"
	done
	# nor is any key in its argv
	assert_equal "$(tr '\0' ' ' </proc/$pid/cmdline)" "audit-write -v --receipts "
	events 200 >&5
	exec 5>&-
	wait "$pid"
	exec 6<&-
	ls "$AGENTUTILS_DB"*
	for f in "$AGENTUTILS_DB"*; do
		assert_equal "$f: $(grep -c -a "$secret" "$f")" "$f: 0"
		assert_equal "$f: $(grep -c -a '"type":"t"' "$f")" "$f: 0"
	done
	gapless 201
	# the keys are not in the state file, nor in anything it said
	key=$(grep -v '^#' "$K/audit.key" | cut -d' ' -f2)
	priv=$(grep -v -- '-----' "$K/audit-sign.key")
	for f in "$AGENTUTILS_DB"* err; do
		assert_equal "$f: $(grep -c -a -i -e "$key" -e "$priv" "$f")" "$f: 0"
	done
	run --separate-stderr audit-verify -v --key "$K/audit.key"
	assert_success
	refute_output --partial "$secret"
	[[ $stderr != *"$key"* && $stderr != *"$secret"* ]]
	# no option takes a key itself: every key option names a file
	run audit-write --help
	assert_equal "$(grep -o -- '--[a-z-]*key[a-z-]* [A-Z]*' <<<"$output" | sort -u | paste -sd ' ')" \
	    "--key FILE --pubkey FILE --signing-key FILE"
}

@test "--rotate: epoch 2 appended to the key file (still 0600); later events carry it; both verify" {
	keys
	events 5 | audit-write
	first=$(grep '^1 ' "$K/audit.key")
	cp "$K/audit.key" old.key
	run --separate-stderr audit-write -v --rotate
	assert_success
	assert_output ""
	assert_equal "$stderr" "audit-write: key epoch 2"
	assert_equal "$(mode "$K/audit.key")" 600
	assert_equal "$(grep -v '^#' "$K/audit.key" | cut -c1-2 | paste -sd ' ')" "1  2 "
	# epoch 1 is kept as it was, epoch 2 is another key
	assert_equal "$(grep '^1 ' "$K/audit.key")" "$first"
	assert [ "$(grep '^2 ' "$K/audit.key" | cut -d' ' -f2)" != "${first#1 }" ]
	assert [ ! -e "$K/audit.key.new" ]
	assert_equal "$(db "SELECT epoch FROM audit_keys ORDER BY epoch" | paste -sd ' ')" "1 2"
	events 5 6 | audit-write
	assert_equal "$(db "SELECT epoch FROM audit_events ORDER BY seq" | paste -sd ' ')" "1 1 1 1 1 2 2 2 2 2"
	gapless 10
	verified
	assert_equal "$(jq -c '[.events, .decrypted]' <<<"$VERIFY")" '[10,true]'
	# the old key file opens epoch 1 only
	run --separate-stderr audit-verify --key old.key
	assert_failure 1
	assert_equal "$stderr" "audit-verify: $AGENTUTILS_DB: seq 6: no key for epoch 2"
	# a writer with the key file from before the rotation is refused:
	# it would go on sealing under the retired key
	run --separate-stderr audit-write --key old.key <<<'{"a":1}'
	assert_failure 78
	assert_equal "$stderr" "audit-write: the audit log is at key epoch 2; this key file's newest is 1 (a key file from before --rotate?)"
	gapless 10
	# --rotate takes no operands and no other mode
	run audit-write --rotate --tee
	assert_failure 64
	run audit-write --rotate in.ndjson
	assert_failure 64
	run audit-write --rotate --init
	assert_failure 64
	# rotating again: epoch 3
	run audit-write --rotate
	assert_success
	assert_equal "$(grep -v '^#' "$K/audit.key" | cut -d' ' -f1 | paste -sd ' ')" "1 2 3"
}

@test "a key file that is not the log's key of its epoch: 78" {
	keys
	events 3 | audit-write
	mkdir other
	audit-write --init --key other/k --signing-key other/s --pubkey other/p
	run --separate-stderr audit-write --key other/k <<<'{"a":1}'
	assert_failure 78
	assert_regex "$stderr" "^audit-write: the audit log's key of epoch 1 is [0-9a-f]{16}; this key file's is [0-9a-f]{16} \\(the wrong key file\\?\\)$"
	gapless 3
	# a malformed key file
	printf '1 nothex\n' >bad.key
	chmod 600 bad.key
	run --separate-stderr audit-write --key bad.key <<<'{"a":1}'
	assert_failure 78
	assert_equal "$stderr" "audit-write: bad.key:1: expected \"EPOCH KEY\", the key in 64 hex digits"
	gapless 3
}

@test "checkpoints every --checkpoint-events N and at exit" {
	keys
	events 35 | audit-write --checkpoint-events 10
	gapless 35
	assert_equal "$(checkpoints)" "10 20 30 35"
	# each one's head is the hash of the event it stops at
	assert_equal "$(db "SELECT count(*) FROM audit_checkpoints c JOIN audit_events e ON e.seq = c.size AND e.hash = c.head")" 4
	verified
	assert_equal "$(jq -c '[.events, .checkpoints, .unsigned_tail]' <<<"$VERIFY")" '[35,4,0]'
	# nothing appended, no checkpoint; one more event, one more
	audit-write </dev/null
	assert_equal "$(checkpoints)" "10 20 30 35"
	events 1 36 | audit-write
	assert_equal "$(checkpoints)" "10 20 30 35 36"
	# the default is 1000
	events 2100 37 | audit-write
	assert_equal "$(checkpoints)" "10 20 30 35 36 1036 2036 2136"
	for bad in 0 -1 x 1.5 ""; do
		run --separate-stderr audit-write --checkpoint-events "$bad"
		assert_failure 64
		assert_equal "${stderr_lines[0]}" "audit-write: --checkpoint-events: not a positive number: \"$bad\""
	done
	run audit-write --checkpoint-interval 0
	assert_failure 64
	run audit-write --checkpoint-interval soon
	assert_failure 64
}

@test "--checkpoint-interval: a checkpoint at the first event after the interval, while running" {
	keys
	mkfifo in out
	audit-write --receipts --checkpoint-interval 200ms <in >out &
	pid=$!
	exec 5>in 6<out
	echo '{"n":1}' >&5
	read -r -t 5 -u 6 line
	sleep 0.4
	echo '{"n":2}' >&5
	read -r -t 5 -u 6 line
	assert_equal "$(jq -r .seq <<<"$line")" 2
	# the writer still runs, and has signed the log up to event 2
	kill -0 "$pid"
	assert_equal "$(db "SELECT max(size) FROM audit_checkpoints")" 2
	exec 5>&-
	wait "$pid"
	exec 6<&-
	verified
}

# ---- signals, pauses, many writers ----

@test "SIGTERM while reading a FIFO that stays open: 143, all of it recorded and signed" {
	keys
	mkfifo in out
	audit-write --receipts --checkpoint-events 1000 <in >out 2>err &
	pid=$!
	exec 5>in 6<out
	events 25 >&5
	for ((i = 1; i <= 25; i++)); do
		read -r -t 5 -u 6 line
	done
	assert_equal "$(jq -r .seq <<<"$line")" 25
	# the writer waits for more, the FIFO still open
	kill -0 "$pid"
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	exec 5>&- 6<&-
	assert_equal "$rc" 143
	assert_equal "$(cat err)" ""
	gapless 25
	assert_equal "$(checkpoints)" 25
	verified
	assert_equal "$(jq -c '[.events, .checkpoints, .unsigned_tail]' <<<"$VERIFY")" '[25,1,0]'
	# SIGINT and SIGHUP the same: 130, 129
	for sig in INT:130 HUP:129; do
		audit-write <in 2>err &
		pid=$!
		exec 5>in
		events 5 >&5
		waitrows $((25 + 5 * ${n:=1}))
		kill -"${sig%:*}" "$pid"
		rc=0
		wait "$pid" || rc=$?
		exec 5>&-
		assert_equal "$sig $rc" "$sig ${sig#*:}"
		n=$((n + 1))
	done
	gapless 35
	assert_equal "$(checkpoints)" "25 30 35"
}

@test "a signal mid-stream: every line taken off the pipe is recorded, the rest is left in it" {
	keys
	events 30000 >big.ndjson
	mkfifo in
	audit-write <in 2>err &
	pid=$!
	exec 5<>in
	cat big.ndjson >&5 &
	feeder=$!
	waitrows 1
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 143
	# what the writer did not read is still in the FIFO
	cat <&5 >left &
	drain=$!
	wait "$feeder"
	sleep 0.5
	kill "$drain"
	wait "$drain" || true
	exec 5>&-
	recorded=$(db "SELECT count(*) FROM audit_events")
	assert_equal "$((recorded + $(wc -l <left)))" 30000
	assert [ "$recorded" -ge 1 ]
	gapless "$recorded"
	# in order: the log is a prefix of the input and the FIFO holds the
	# rest - but for the line the signal cut: the writer had read its
	# start, and that start is lost (left holds only its end)
	next=$(sed -n "$((recorded + 1))p" big.ndjson)
	[[ $next == *"$(head -n 1 left)" ]] ||
	    fail "the FIFO starts with $(head -n 1 left), not (the end of) $next"
	verified
	assert_equal "$(jq -c '[.events, .unsigned_tail]' <<<"$VERIFY")" "[$recorded,0]"
	assert_equal "$(cat err)" ""
}

@test "input that pauses: each receipt comes (committed) before the next line is written" {
	keys
	mkfifo in out
	audit-write --receipts <in >out 2>err &
	pid=$!
	exec 5>in 6<out
	for ((i = 1; i <= 10; i++)); do
		printf '{"n":%d}\n' "$i" >&5
		line=
		read -r -t 1 -u 6 line || fail "no receipt for line $i within 1 s"
		assert_equal "$(jq -r .seq <<<"$line")" "$i"
		# on record by the time it is said
		assert_equal "$(db "SELECT lower(hex(hash)) FROM audit_events WHERE seq = $i")" \
		    "$(jq -r .hash <<<"$line")"
		sleep 0.05
	done
	exec 5>&-
	wait "$pid"
	exec 6<&-
	gapless 10
	verified
}

@test "four writers at once, 5,000 events each: 20,000 events, gap-free, and it verifies" {
	keys
	for w in 1 2 3 4; do
		events 5000 >"in.$w"
		sed -i "s/\"type\":\"t\"/\"type\":\"w$w\"/" "in.$w"
	done
	# the state file exists before they start, and does not
	audit-write </dev/null
	for w in 1 2 3 4; do
		timeout 120 audit-write --receipts "in.$w" >"r.$w" 2>"e.$w" &
		pids[w]=$!
	done
	for w in 1 2 3 4; do
		rc=0
		wait "${pids[w]}" || rc=$?
		assert_equal "writer $w: $rc $(cat "e.$w")" "writer $w: 0 "
		assert_equal "$(wc -l <"r.$w")" 5000
	done
	gapless 20000
	# each writer's receipts are rows of the log, and no seq twice
	output=$(cat r.1 r.2 r.3 r.4)
	assert_equal "$(receipts | sort)" "$(rows | sort)"
	valid <r.1
	# each writer's own events kept their order
	for w in 1 2 3 4; do
		assert_equal "$(jq -r .seq "r.$w" | sort -n -c && echo sorted)" sorted
	done
	verified
	assert_equal "$(jq -c '[.events, .last_seq, .unsigned_tail, .decrypted]' <<<"$VERIFY")" '[20000,20000,0,true]'
}

# ---- faults ----

@test "a full filesystem: 74 with a message; once there is room, what was committed verifies" {
	[[ $(id -u) == 0 ]] || skip "needs root to mount a tmpfs"
	mkdir mnt
	mount -t tmpfs -o size=8m tmpfs mnt 2>mount.err ||
	    skip "cannot mount a tmpfs here: $(cat mount.err)"
	MNT=$BATS_TEST_TMPDIR/mnt
	export AGENTUTILS_DB=$MNT/state.db
	keys
	pad=$(printf '%0200d' 0)
	# full in the middle of the stream
	dd if=/dev/zero of=mnt/fill bs=4k count=1280 status=none
	events 20000 | sed "s/}\$/,\"pad\":\"$pad\"}/" >big.ndjson
	run --separate-stderr audit-write --receipts big.ndjson
	assert_failure 74
	assert_regex "$stderr" "^audit-write: [0-9]+ events not recorded: $AGENTUTILS_DB: .*(full|disk I/O error)"
	# what it said it recorded it did, and no more
	committed=$(db "SELECT count(*) FROM audit_events")
	assert [ "$committed" -ge 1 ]
	assert [ "$committed" -lt 20000 ]
	assert_equal "${#lines[@]}" "$committed"
	assert_equal "$(receipts)" "$(rows)"
	rm mnt/fill
	verified
	assert_equal "$(vfield events)" "$committed"
	# full to the last block (what the WAL holds already it may reuse)
	dd if=/dev/zero of=mnt/fill bs=4k status=none 2>/dev/null || true
	run --separate-stderr audit-write --receipts big.ndjson
	assert_failure 74
	assert_regex "$stderr" "^audit-write: .*$AGENTUTILS_DB: .*(full|disk I/O error)"
	assert_equal "$(receipts)" "$(rows | tail -n +$((committed + 1)))"
	committed=$(db "SELECT count(*) FROM audit_events")
	rm mnt/fill
	gapless "$committed"
	verified
	# and there is room again
	events 3 | audit-write
	gapless $((committed + 3))
	verified
}

@test "standard output on a full device: 74, with --tee and with --receipts" {
	keys
	events 10 >in.ndjson
	run --separate-stderr sh -c 'audit-write --tee in.ndjson >/dev/full'
	assert_failure 74
	assert_equal "$stderr" "audit-write: write error: No space left on device"
	run --separate-stderr sh -c 'audit-write --receipts in.ndjson >/dev/full'
	assert_failure 74
	assert_equal "$stderr" "audit-write: write error: No space left on device"
	# the log itself is whole
	run audit-verify
	assert_success
}

# ---- usage ----

@test "--help and --version exit 0; an unknown option or a stray mode exits 64" {
	run --separate-stderr audit-write --help
	assert_success
	assert_regex "${lines[0]}" "^usage: audit-write "
	assert_output --partial "--receipts"
	assert_equal "$stderr" ""
	run --separate-stderr audit-write --version
	assert_success
	assert_output "audit-write (agentutils) $(sed -n 's/^VERSION = //p' "$TOP/Makefile")"
	run --separate-stderr audit-write --frobnicate
	assert_failure 64
	assert_output ""
	assert_equal "${stderr_lines[0]}" 'audit-write: unknown option "--frobnicate"'
	assert_regex "${stderr_lines[1]}" "^usage: audit-write "
	run --separate-stderr audit-write --init extra
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "audit-write: --init and --rotate take no operands and no other mode"
	assert [ ! -e "$K" ]
}
