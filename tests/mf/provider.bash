# tests/mf/provider.bash - loaded by the suites that talk to the fake
# model provider (tests/mf/provider.py): start it, know its port, stop
# it after each test.

PROVIDER=$TOP/tests/mf/provider.py

# port FILE: the port the provider writes to FILE, once it is there, in
# $P and its base URL in $URL.
port() {
	for _ in $(seq 100); do
		[ -s "$1" ] && break
		sleep 0.05
	done
	P=$(cat "$1")
	URL=http://127.0.0.1:$P
}

# provider FLAGS...: start the fake provider (its output in
# $BATS_TEST_TMPDIR/provider.out), its port in $P.
provider() {
	rm -f "$BATS_TEST_TMPDIR/port"
	python3 "$PROVIDER" --port-file "$BATS_TEST_TMPDIR/port" "$@" \
	    3>&- >"$BATS_TEST_TMPDIR/provider.out" 2>&1 &
	PROVIDER_PID=$!
	port "$BATS_TEST_TMPDIR/port"
}

teardown() {
	[ -z "${PROVIDER_PID:-}" ] || kill "$PROVIDER_PID" 2>/dev/null || :
}
