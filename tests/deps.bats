#!/usr/bin/env bats
# make deps (tools/deps.sh): nothing to do when all is there; as root, one
# apt-get update then an install of exactly what is missing; otherwise the
# command to run and 69.  dpkg-query, id and apt-get are stand-ins here.

load helper

stub() {
	mkdir -p stubs
	printf '#!/bin/sh\n%s\n' "$2" >"stubs/$1"
	chmod +x "stubs/$1"
}

# dpkg PACKAGE...: a dpkg-query that finds every package installed but
# the PACKAGEs (removed, their configuration left).
dpkg() {
	stub dpkg-query 'shift 2; for p; do
	    case " '"$*"' " in
	    *" $p "*) echo "$p deinstall ok config-files" ;;
	    *) echo "$p install ok installed" ;;
	    esac
	done'
}

setup() {
	export HOME=$BATS_TEST_TMPDIR/home
	cd "$BATS_TEST_TMPDIR" || return
	# fish and time are "missing"; everything else is installed
	dpkg fish time
	stub apt-get "echo \"apt-get \$*\" >>$BATS_TEST_TMPDIR/apt.log"
}

@test "as root: apt-get update once, then install what is missing" {
	stub id 'echo 0'
	PATH=$BATS_TEST_TMPDIR/stubs:$PATH run "$TOP/tools/deps.sh"
	assert_success
	assert_output "deps: installing fish time"
	assert_equal "$(cat apt.log)" "apt-get update -q
apt-get install -y --no-install-recommends fish time"
}

@test "not root: the command to run, and 69" {
	stub id 'echo 1000'
	PATH=$BATS_TEST_TMPDIR/stubs:$PATH run --separate-stderr "$TOP/tools/deps.sh"
	assert_failure 69
	assert_equal "$stderr" "deps: missing Debian packages: fish time
deps: run as root: apt-get update && apt-get install -y --no-install-recommends fish time"
	assert [ ! -e apt.log ]
}

@test "nothing missing: nothing done" {
	dpkg
	stub id 'echo 1000'
	PATH=$BATS_TEST_TMPDIR/stubs:$PATH run "$TOP/tools/deps.sh"
	assert_success
	assert_output ""
	assert [ ! -e apt.log ]
}

@test "fuzz: the fuzzing toolchain alone, which the rest never asks for" {
	dpkg clang-14 fish
	stub id 'echo 0'
	PATH=$BATS_TEST_TMPDIR/stubs:$PATH run "$TOP/tools/deps.sh" fuzz
	assert_success
	assert_output "deps: installing clang-14"
	assert_equal "$(cat apt.log)" "apt-get update -q
apt-get install -y --no-install-recommends clang-14"
	rm apt.log
	PATH=$BATS_TEST_TMPDIR/stubs:$PATH run "$TOP/tools/deps.sh"
	assert_success
	assert_output "deps: installing fish"
}

@test "a package dpkg-query has never heard of is missing too" {
	stub dpkg-query 'shift 2; for p; do [ "$p" = fish ] || echo "$p install ok installed"; done; echo "dpkg-query: no packages found matching fish" >&2; exit 1'
	stub id 'echo 1000'
	PATH=$BATS_TEST_TMPDIR/stubs:$PATH run --separate-stderr "$TOP/tools/deps.sh"
	assert_failure 69
	assert_equal "$stderr" "deps: missing Debian packages: fish
deps: run as root: apt-get update && apt-get install -y --no-install-recommends fish"
}

# tree: a copy of deps.sh in a tree of its own, with a lock in
# tests/interop, for npm to be run against
tree() {
	mkdir -p tree/tools tree/tests/interop
	cp "$TOP/tools/deps.sh" tree/tools/
	echo '{}' >tree/tests/interop/package-lock.json
}

@test "npm: npm ci when the reference servers are missing or older than the lock, else nothing" {
	tree
	stub npm "echo \"npm \$*\" >>$BATS_TEST_TMPDIR/npm.log; mkdir -p \"\$3/node_modules\"; touch \"\$3/node_modules/.package-lock.json\""
	PATH=$BATS_TEST_TMPDIR/stubs:$PATH run --separate-stderr tree/tools/deps.sh npm
	assert_success
	assert_output "deps: npm ci in tests/interop"
	assert_equal "$(cat npm.log)" "npm ci --prefix $PWD/tree/tests/interop --no-audit --no-fund --loglevel=error"
	rm npm.log
	PATH=$BATS_TEST_TMPDIR/stubs:$PATH run tree/tools/deps.sh npm
	assert_success
	assert_output ""
	assert [ ! -e npm.log ]
	touch -d '+1 hour' tree/tests/interop/package-lock.json
	PATH=$BATS_TEST_TMPDIR/stubs:$PATH run tree/tools/deps.sh npm
	assert_success
	assert_output "deps: npm ci in tests/interop"
}

@test "npm: where npm cannot fetch them, it says so and make deps goes on" {
	tree
	stub npm 'echo "npm ERR! network" >&2; exit 1'
	PATH=$BATS_TEST_TMPDIR/stubs:$PATH run --separate-stderr tree/tools/deps.sh npm
	assert_success
	assert_equal "$stderr" "npm ERR! network
deps: npm ci failed: tests/mcp-interop.bats will be skipped"
}
