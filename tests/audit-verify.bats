#!/usr/bin/env bats
# audit-verify on a state file: a clean log of 50 events signed every 10
# checks out with the right counts; every way of editing a copy of it
# with sqlite3 (a bit of a ciphertext, hash or nonce, an event deleted,
# swapped, forged with the chain recomputed, the tail cut, a checkpoint's
# note or signature replaced) and a wrong key or public key is exit 1,
# naming the first bad event on standard error, with nothing on standard
# output.  Bundles (audit-export) are tested with audit-export.

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
	# the log: 50 events, a checkpoint every 10, the WAL folded in
	audit-write --init
	seq 1 50 | sed 's/.*/{"type":"t","n":&,"msg":"event &"}/' |
	    audit-write --checkpoint-events 10
	sqlite3 "$AGENTUTILS_DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	cp "$AGENTUTILS_DB" t.db
}

# t SQL...: edit the copy, t.db.
t() {
	sqlite3 t.db "$@"
}

# flip TABLE COLUMN WHERE [BYTE]: flip the lowest bit of a byte (4) of a
# blob in t.db.
flip() {
	local h b at=$((2 * ${4:-4}))
	h=$(t "SELECT hex($2) FROM $1 WHERE $3")
	[[ -n $h ]] || { echo "flip: no $2 where $3" >&2; return 1; }
	b=$(printf '%02X' $((16#${h:at:2} ^ 1)))
	t "UPDATE $1 SET $2 = X'${h:0:at}$b${h:at+2}' WHERE $3"
}

# rechain FROM: recompute the hash of every event from FROM on, as a
# forger without the keys can (agentutils-audit(5)): the chain then
# holds, and only the signed checkpoints (and the GCM tags) are left.
rechain() {
	python3 - t.db "$1" <<-'PY'
	import hashlib, sqlite3, struct, sys
	db = sqlite3.connect(sys.argv[1])
	start = int(sys.argv[2])
	prev = bytes(32)
	rows = db.execute("SELECT seq, ts, epoch, nonce, sealed, content, hash "
	                  "FROM audit_events ORDER BY seq").fetchall()
	for seq, ts, epoch, nonce, sealed, content, h in rows:
	    if seq >= start:
	        sd = hashlib.sha256(b"au.sealed\0" + nonce + sealed).digest()
	        h = hashlib.sha256(b"au.chain\0" + prev +
	                           struct.pack(">QQI", seq, ts, epoch) +
	                           content + sd).digest()
	        db.execute("UPDATE audit_events SET hash = ? WHERE seq = ?",
	                   (h, seq))
	    prev = h
	db.commit()
	PY
}

# bad MESSAGE [ARG...]: audit-verify [ARG...] t.db finds tampering, says
# MESSAGE about t.db and nothing else, and writes no record: checking the
# log in one part, and in 50 (each event a part of its own, checked by a
# thread of its own from the hash stored before it), and in 4.
bad() {
	local msg=$1 j
	shift
	for j in 1 50 4; do
		run --separate-stderr audit-verify -j "$j" "$@" t.db
		assert_failure 1
		assert_equal "$stderr" "audit-verify: t.db: $msg"
		assert_equal "$output" ""
	done
}

# both MESSAGE: bad MESSAGE, with the key and without it.
both() {
	bad "$1"
	bad "$1" --key "$K/audit.key"
}

# ---- a clean log ----

@test "a clean log: 0, one audit.verify record with the right counts" {
	run --separate-stderr audit-verify t.db
	assert_success
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 1
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c '[.type, .ok, .source, .path, .events, .first_seq, .last_seq, .checkpoints, .unsigned_tail, .decrypted]' <<<"$output")" \
	    '["audit.verify",true,"db","t.db",50,1,50,5,0,false]'
	run --separate-stderr audit-verify --key "$K/audit.key" t.db
	assert_success
	assert_equal "$stderr" ""
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c '[.events, .first_seq, .last_seq, .checkpoints, .unsigned_tail, .decrypted]' <<<"$output")" \
	    '[50,1,50,5,0,true]'
	# read-only: the file is as it was
	cmp t.db "$AGENTUTILS_DB"
}

@test "-j N: the log checked in N parts at once, the same record" {
	local j
	for j in 1 2 3 4 49 50 64; do
		run --separate-stderr audit-verify -j "$j" --key "$K/audit.key" t.db
		assert_success
		assert_equal "$stderr" ""
		assert_equal "$(jq -c '[.events, .first_seq, .last_seq, .checkpoints, .unsigned_tail, .decrypted]' <<<"$output")" \
		    '[50,1,50,5,0,true]'
		run --separate-stderr audit-verify -j "$j" --from 20 t.db
		assert_success
		assert_equal "$(jq -c '[.events, .first_seq, .last_seq]' <<<"$output")" '[31,20,50]'
	done
	# 4 parts: 1-12, 13-24, 25-36, 37-50; the first bad event is named
	# whichever part finds it, and a part's edges are checked
	flip audit_events sealed "seq = 40"
	flip audit_events sealed "seq = 30"
	bad "seq 30: hash mismatch"
	flip audit_events sealed "seq = 13"
	bad "seq 13: hash mismatch"
	t "DELETE FROM audit_events WHERE seq = 12"
	bad "seq 12: missing"
	t "DELETE FROM audit_events WHERE seq = 11"
	bad "seq 11: missing"
	for j in 0 65 x ""; do
		run --separate-stderr audit-verify -j "$j" t.db
		assert_failure 64
		assert_equal "${stderr_lines[0]}" "audit-verify: -j: expected a number from 1 to 64, not \"$j\""
	done
}

@test "no operand: the state file of \$AGENTUTILS_DB, or of --db" {
	run --separate-stderr audit-verify
	assert_success
	assert_equal "$(jq -r '"\(.path) \(.events)"' <<<"$output")" "$AGENTUTILS_DB 50"
	mv t.db other.db
	run --separate-stderr audit-verify --db other.db
	assert_success
	assert_equal "$(jq -r '"\(.path) \(.events)"' <<<"$output")" "other.db 50"
	AGENTUTILS_DB=$BATS_TEST_TMPDIR/other.db run --separate-stderr audit-verify
	assert_success
	assert_equal "$(jq -r .path <<<"$output")" "$BATS_TEST_TMPDIR/other.db"
}

@test "--from SEQ: checks from SEQ on, trusting the event before it" {
	flip audit_events sealed "seq = 5"
	bad "seq 5: hash mismatch"
	run --separate-stderr audit-verify --from 20 t.db
	assert_success
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c '[.events, .first_seq, .last_seq, .unsigned_tail]' <<<"$output")" '[31,20,50,0]'
	run audit-verify --from 20 --key "$K/audit.key" t.db
	assert_success
	# what comes after is still checked
	flip audit_events sealed "seq = 23"
	bad "seq 23: hash mismatch" --from 20
	# the event before it must be there
	t "DELETE FROM audit_events WHERE seq = 19"
	bad "seq 19: missing" --from 20
	for x in 0 -3 x ""; do
		run --separate-stderr audit-verify --from "$x" t.db
		assert_failure 64
		assert_equal "${stderr_lines[0]}" "audit-verify: --from: not a sequence number: \"$x\""
	done
}

@test "-j 64 short of memory: the record, or 70/74 and a message; never a crash" {
	[ "${AU_SAN:-}" != 1 ] || skip "the sanitizers reserve more address space than any limit here allows"
	local v rc
	# each thread's stack and malloc arena, and SQLite's connections,
	# run out of address space somewhere under these limits
	for v in 100000 150000 200000 300000 1000000; do
		rc=0
		(ulimit -v "$v" && exec audit-verify -j 64 t.db) >out 2>err || rc=$?
		case $rc in
		0)
			assert_equal "$(jq -c '[.events, .last_seq]' out)" '[50,50]'
			assert_equal "$(cat err)" "" ;;
		70 | 74)
			assert_equal "$(cat out)" ""
			[[ $(cat err) == "audit-verify: "*"out of memory" ]] ||
			    fail "limit $v: $(cat err)" ;;
		*)
			fail "limit $v: exit $rc: $(cat err)" ;;
		esac
	done
}

@test "-j 4 while a writer appends: every check passes, none sees fewer events than the one before" {
	mkfifo feed
	audit-write --checkpoint-events 50 <feed 2>writer.err &
	local writer=$! feeder first=0 last=0 n k
	exec 5>feed
	while :; do
		seq 1 20 | sed 's/.*/{"type":"w","n":&}/'
		sleep 0.01
	done >&5 2>/dev/null &
	feeder=$!
	for k in $(seq 1 20); do
		run --separate-stderr audit-verify -j 4 --key "$K/audit.key"
		assert_success
		assert_equal "$stderr" ""
		n=$(jq .events <<<"$output")
		(( n >= last )) || fail "check $k: $n events, after $last"
		(( first > 0 )) || first=$n
		last=$n
	done
	kill "$feeder"
	wait "$feeder" || true
	exec 5>&-
	wait "$writer"
	assert_equal "$(cat writer.err)" ""
	# the checks ran while the log grew
	(( last > first )) || fail "the log did not grow during the checks ($first)"
	run --separate-stderr audit-verify -j 4 --key "$K/audit.key"
	assert_success
	assert_equal "$(jq -c '[.unsigned_tail, .decrypted]' <<<"$output")" '[0,true]'
	(( $(jq .events <<<"$output") >= last )) || fail "fewer events after the checks"
}

@test "an empty log, and an unsigned tail, check out and say so" {
	rm "$AGENTUTILS_DB"*
	audit-write </dev/null
	run --separate-stderr audit-verify
	assert_success
	printf '%s\n' "$output" | valid
	assert_equal "$(jq -c '[.events, .first_seq, .last_seq, .checkpoints, .unsigned_tail]' <<<"$output")" '[0,null,null,0,0]'
	# events after the last checkpoint are chained but not yet signed
	t "DELETE FROM audit_checkpoints WHERE size > 30"
	run --separate-stderr audit-verify t.db
	assert_success
	assert_equal "$(jq -c '[.events, .checkpoints, .unsigned_tail]' <<<"$output")" '[50,3,20]'
}

# ---- the tamper matrix: events ----

@test "one bit of a ciphertext: seq 23: hash mismatch" {
	flip audit_events sealed "seq = 23"
	both "seq 23: hash mismatch"
	# the last byte (the GCM tag) too
	cp "$AGENTUTILS_DB" t.db
	n=$(t "SELECT length(sealed) - 1 FROM audit_events WHERE seq = 23")
	flip audit_events sealed "seq = 23" "$n"
	both "seq 23: hash mismatch"
}

@test "one bit of a hash, of a nonce, of a content digest; the time or the epoch: seq 23" {
	flip audit_events hash "seq = 23"
	both "seq 23: hash mismatch"
	cp "$AGENTUTILS_DB" t.db
	flip audit_events nonce "seq = 23" 0
	both "seq 23: hash mismatch"
	cp "$AGENTUTILS_DB" t.db
	flip audit_events content "seq = 23" 31
	both "seq 23: hash mismatch"
	cp "$AGENTUTILS_DB" t.db
	t "UPDATE audit_events SET ts = ts + 1 WHERE seq = 23"
	both "seq 23: hash mismatch"
	cp "$AGENTUTILS_DB" t.db
	t "UPDATE audit_events SET epoch = 2 WHERE seq = 23"
	both "seq 23: hash mismatch"
	# a row cut short
	cp "$AGENTUTILS_DB" t.db
	t "UPDATE audit_events SET nonce = substr(nonce, 1, 11) WHERE seq = 23"
	both "seq 23: malformed row"
}

@test "an event deleted: seq 23: missing; the first or the last too" {
	t "DELETE FROM audit_events WHERE seq = 23"
	both "seq 23: missing"
	cp "$AGENTUTILS_DB" t.db
	t "DELETE FROM audit_events WHERE seq = 1"
	both "seq 1: missing"
	# the last one: the checkpoint of 50 says there were 50
	cp "$AGENTUTILS_DB" t.db
	t "DELETE FROM audit_events WHERE seq = 50"
	both "truncated: checkpoint 50 signs more events than the log holds (49)"
}

@test "an event filed before seq 1, where the chain starts: named, with --from too" {
	t "INSERT INTO audit_events SELECT 0, ts, epoch, nonce, sealed, content,
	   hash FROM audit_events WHERE seq = 1"
	both "seq 0: before seq 1, where the chain starts"
	bad "seq 0: before seq 1, where the chain starts" --from 20
	cp "$AGENTUTILS_DB" t.db
	t "UPDATE audit_events SET seq = -seq WHERE seq = 50"
	both "seq -50: before seq 1, where the chain starts"
}

@test "two events swapped: seq 23: hash mismatch" {
	t "UPDATE audit_events SET seq = -23 WHERE seq = 23;
	   UPDATE audit_events SET seq = 23 WHERE seq = 24;
	   UPDATE audit_events SET seq = 24 WHERE seq = -23"
	both "seq 23: hash mismatch"
	# the hashes swapped with them, or not: the same
	cp "$AGENTUTILS_DB" t.db
	t "UPDATE audit_events SET content = (SELECT content FROM audit_events WHERE seq = 24),
	   sealed = (SELECT sealed FROM audit_events WHERE seq = 24) WHERE seq = 23"
	both "seq 23: hash mismatch"
}

@test "a forged event in the middle, the rest renumbered: seq 23; with the chain recomputed, checkpoint 30 or the GCM tag" {
	forge() {
		cp "$AGENTUTILS_DB" t.db
		t "UPDATE audit_events SET seq = -seq WHERE seq >= 23;
		   UPDATE audit_events SET seq = 1 - seq WHERE seq < 0;
		   INSERT INTO audit_events SELECT 23, ts, epoch, nonce, sealed,
		     content, hash FROM audit_events WHERE seq = 22"
		assert_equal "$(t "SELECT count(*), max(seq) FROM audit_events")" "51|51"
	}
	forge
	both "seq 23: hash mismatch"
	# a forger who recomputes the chain: only the signatures know
	forge
	rechain 23
	bad "checkpoint 30: head mismatch (the log was rewritten)"
	bad "seq 23: GCM tag mismatch (wrong key, or the event was altered)" --key "$K/audit.key"
	# a ciphertext edited and the chain recomputed
	cp "$AGENTUTILS_DB" t.db
	flip audit_events sealed "seq = 23"
	rechain 23
	bad "checkpoint 30: head mismatch (the log was rewritten)"
	bad "seq 23: GCM tag mismatch (wrong key, or the event was altered)" --key "$K/audit.key"
	# the content digest edited and the chain recomputed: the key opens
	# the event, and its digest is not the one chained
	cp "$AGENTUTILS_DB" t.db
	flip audit_events content "seq = 23"
	rechain 23
	bad "checkpoint 30: head mismatch (the log was rewritten)"
	bad "seq 23: content digest mismatch" --key "$K/audit.key"
	# an event sealed under another key, chained properly
	cp "$AGENTUTILS_DB" t.db
	t "UPDATE audit_events SET sealed = (SELECT sealed FROM audit_events WHERE seq = 22),
	   nonce = (SELECT nonce FROM audit_events WHERE seq = 22) WHERE seq = 23"
	rechain 23
	bad "seq 23: GCM tag mismatch (wrong key, or the event was altered)" --key "$K/audit.key"
}

@test "the tail cut after a checkpoint: truncated" {
	t "DELETE FROM audit_events WHERE seq > 30"
	both "truncated: checkpoint 50 signs more events than the log holds (30)"
	cp "$AGENTUTILS_DB" t.db
	t "DELETE FROM audit_events WHERE seq > 33"
	both "truncated: checkpoint 50 signs more events than the log holds (33)"
	# everything gone, the checkpoints left
	cp "$AGENTUTILS_DB" t.db
	t "DELETE FROM audit_events"
	both "truncated: checkpoint 50 signs more events than the log holds (0)"
}

# ---- the tamper matrix: checkpoints ----

@test "a checkpoint's note edited or replaced: checkpoint 30" {
	# its size in the signed text
	t "UPDATE audit_checkpoints SET note = replace(note, char(10) || '30' || char(10),
	   char(10) || '31' || char(10)) WHERE size = 30"
	both "checkpoint 30: bad signature"
	# its time
	cp "$AGENTUTILS_DB" t.db
	t "UPDATE audit_checkpoints SET note = replace(note, 'time 2', 'time 1') WHERE size = 30"
	both "checkpoint 30: bad signature"
	# another checkpoint's note, signed and all
	cp "$AGENTUTILS_DB" t.db
	t "UPDATE audit_checkpoints SET note = (SELECT note FROM audit_checkpoints
	   WHERE size = 20) WHERE size = 30"
	both "checkpoint 30: its row does not match its signed note"
	# its head (the row's copy)
	cp "$AGENTUTILS_DB" t.db
	flip audit_checkpoints head "size = 30"
	both "checkpoint 30: its row does not match its signed note"
	# nothing but text
	cp "$AGENTUTILS_DB" t.db
	t "UPDATE audit_checkpoints SET note = 'trust me' WHERE size = 30"
	both "checkpoint 30: no blank line before the signature"
}

@test "a checkpoint's signature line replaced or removed: checkpoint 30" {
	# the signature line of checkpoint 20 under the text of 30
	t "UPDATE audit_checkpoints SET note = substr(note, 1, instr(note, char(10) || char(10)) + 1)
	   || (SELECT substr(note, instr(note, char(10) || char(10)) + 2) FROM audit_checkpoints
	   WHERE size = 20) WHERE size = 30"
	both "checkpoint 30: bad signature"
	# one bit of the signature
	cp "$AGENTUTILS_DB" t.db
	sig=$(t "SELECT substr(note, instr(note, char(10) || char(10)) + 2) FROM audit_checkpoints WHERE size = 30")
	b64=${sig##* }
	raw=$(printf '%s' "$b64" | base64 -d | xxd -p -c 256)
	flipped=$(printf '%s%02x%s' "${raw:0:40}" $((16#${raw:40:2} ^ 1)) "${raw:42}" | xxd -r -p | base64 -w0)
	t "UPDATE audit_checkpoints SET note = replace(note, '$b64', '$flipped') WHERE size = 30"
	both "checkpoint 30: bad signature"
	# the signature line gone
	cp "$AGENTUTILS_DB" t.db
	t "UPDATE audit_checkpoints SET note = substr(note, 1, instr(note, char(10) || char(10)) + 1)
	   WHERE size = 30"
	both "checkpoint 30: not signed by this public key"
}

@test "a checkpoint re-filed under another size: its row does not match its note" {
	# the note of 30 re-filed as the checkpoint of 31
	t "UPDATE audit_checkpoints SET size = 31 WHERE size = 30"
	both "checkpoint 31: its row does not match its signed note"
}

# ---- wrong keys ----

@test "another --init's key file: 1, naming the key epoch" {
	mkdir other
	audit-write --init --key other/k --signing-key other/s --pubkey other/p
	log=$(t "SELECT key_id FROM audit_keys WHERE epoch = 1")
	mine=$(python3 -c 'import hashlib, sys
k = bytes.fromhex(open(sys.argv[1]).read().split()[-1])
print(hashlib.sha256(b"au.keyid\0" + k).hexdigest()[:16])' other/k)
	bad "key epoch 1: the key file holds key $mine, the log was written with $log (the wrong key file?)" --key other/k
	# a key file for another epoch only
	printf '7 %s\n' "$(printf '%064d' 0)" >seven.key
	chmod 600 seven.key
	bad "seq 1: no key for epoch 1" --key seven.key
}

@test "another --init's public key: 1, the first checkpoint is not signed by it" {
	mkdir other
	audit-write --init --key other/k --signing-key other/s --pubkey other/p
	bad "checkpoint 10: not signed by this public key" --pubkey other/p
	bad "checkpoint 10: not signed by this public key" --pubkey other/p --key "$K/audit.key"
	# the private key is no public key
	chmod 644 "$K/audit-sign.key"
	run --separate-stderr audit-verify --pubkey "$K/audit-sign.key" t.db
	assert_failure 78
	assert_equal "$stderr" "audit-verify: $K/audit-sign.key: not an Ed25519 public key in PEM"
}

@test "key files: missing 66, loose 78" {
	run --separate-stderr audit-verify --key nosuch.key t.db
	assert_failure 66
	assert_equal "$stderr" "audit-verify: nosuch.key: No such file or directory"
	cp "$K/audit.key" loose.key
	chmod 644 loose.key
	run --separate-stderr audit-verify --key loose.key t.db
	assert_failure 78
	assert_equal "$stderr" "audit-verify: loose.key: secret file has mode 0644; it must be 0600 or stricter (chmod 600 loose.key)"
	rm "$K/audit-sign.pub"
	run --separate-stderr audit-verify t.db
	assert_failure 66
	assert_equal "$stderr" "audit-verify: $K/audit-sign.pub: No such file or directory"
	assert_output ""
}

# ---- not a log ----

@test "a missing file: 66; a file that is neither a state file nor a bundle: 65" {
	run --separate-stderr audit-verify nosuch.db
	assert_failure 66
	assert_equal "$stderr" "audit-verify: nosuch.db: No such file or directory"
	assert_output ""
	AGENTUTILS_DB=$BATS_TEST_TMPDIR/nosuch.db run --separate-stderr audit-verify
	assert_failure 66
	assert_equal "$stderr" "audit-verify: $BATS_TEST_TMPDIR/nosuch.db: No such file or directory"
	assert [ ! -e nosuch.db ]
	echo "hello, world" >junk.txt
	run --separate-stderr audit-verify junk.txt
	assert_failure 65
	assert_regex "$stderr" "^audit-verify: junk.txt: "
	assert_output ""
	: >empty
	run --separate-stderr audit-verify empty
	assert_failure 65
	# a database without an audit log
	sqlite3 plain.db 'CREATE TABLE x (a)'
	run --separate-stderr audit-verify plain.db
	assert_failure 66
	assert_equal "$stderr" "audit-verify: plain.db: no audit log in it (no such table: audit_events)"
}

@test "--help and --version exit 0; an unknown option or two operands exit 64" {
	run --separate-stderr audit-verify --help
	assert_success
	assert_regex "${lines[0]}" "^usage: audit-verify "
	assert_equal "$stderr" ""
	run --separate-stderr audit-verify --version
	assert_success
	assert_output "audit-verify (agentutils) $(sed -n 's/^VERSION = //p' "$TOP/Makefile")"
	run --separate-stderr audit-verify --frobnicate
	assert_failure 64
	assert_output ""
	assert_equal "${stderr_lines[0]}" 'audit-verify: unknown option "--frobnicate"'
	run --separate-stderr audit-verify t.db t.db
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "audit-verify: too many operands"
}
