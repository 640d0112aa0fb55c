#!/usr/bin/env bats
# tests/fuzz: every fuzz target replays its committed corpus (and, with
# SAN=1, under ASan and UBSan), built with cc as build/tests/replay-NAME,
# so that make check needs no clang and a fixed crash stays fixed.  The
# fuzzing itself is "make fuzz" (tests/fuzz/README).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR" || return
}

# replay NAME: the corpus of NAME, each input once.
replay() {
	run --separate-stderr "${AU_BUILD:-$TOP/build}/tests/replay-$1" \
	    "$TOP"/tests/fuzz/corpus/"$1"/*
	assert_success
}

@test "every target in the Makefile has its source and a corpus" {
	targets=$(sed -n 's/^FUZZ_TARGETS = //p' "$TOP/Makefile")
	[ -n "$targets" ]
	for t in $targets; do
		[ -f "$TOP/tests/fuzz/fuzz-$t.c" ] || fail "no fuzz-$t.c"
		ls "$TOP/tests/fuzz/corpus/$t"/* >/dev/null || fail "no corpus for $t"
	done
	for f in "$TOP"/tests/fuzz/fuzz-*.c; do
		t=${f##*/fuzz-}
		[[ " $targets " == *" ${t%.c} "* ]] || fail "${t%.c} is not in FUZZ_TARGETS"
	done
}

@test "ndjson: the corpus replays" { replay ndjson; }
@test "time: the corpus replays" { replay time; }
@test "jschema: the corpus replays" { replay jschema; }
@test "mcp: the corpus replays" { replay mcp; }
@test "sse: the corpus replays" { replay sse; }
@test "cfg: the corpus replays" { replay cfg; }
@test "mfwire: the corpus replays" { replay mfwire; }
@test "csv: the corpus replays" { replay csv; }
@test "html: the corpus replays" { replay html; }
@test "ooxml: the corpus replays" { replay ooxml; }
@test "odf: the corpus replays" { replay odf; }
@test "xscan: the corpus replays" { replay xscan; }

@test "replay: an input the parser refuses is no failure, a missing file is 66" {
	printf '%s' '2026-13-45T99:99:99Z' >in
	run "${AU_BUILD:-$TOP/build}/tests/replay-time" in
	assert_success
	run "${AU_BUILD:-$TOP/build}/tests/replay-time" missing
	assert_failure 66
	assert_output --partial 'missing: No such file or directory'
}
