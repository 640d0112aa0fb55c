#!/bin/sh
# demo.sh - the main job on the shipped examples, run by "make demo".  It
# grows with each family.  The state file and the drawings go to
# build/demo/, so they can be looked at afterwards.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=${AU_BIN:-$top/build/bin}:$PATH
out=$top/build/demo
rm -rf "$out"
mkdir -p "$out"
AGENTUTILS_DB=$out/state.db
# The demo's own audit keys, not the user's.
XDG_CONFIG_HOME=$out/config
export PATH AGENTUTILS_DB XDG_CONFIG_HOME
cd "$top"

say() {
	printf '\n== %s\n' "$*"
}

say "plan examples/build.ndjson and store it as a run"
aw-plan -v examples/build.ndjson >"$out/plan.ndjson"
run=$(head -n 1 "$out/plan.ndjson")
echo "$run"

say "the order (aw-plan --dry-run --format tsv)"
aw-plan --dry-run --format tsv examples/build.ndjson

say "the longest chain by estimate (--critical-path)"
aw-plan --dry-run --critical-path --format tsv examples/build.ndjson

say "a planner turns a goal into tasks (--goal, --planner-cmd)"
aw-plan --dry-run --format tsv --planner-cmd examples/planner.sh \
    --goal 'fetch the data then clean it then train the model then write the report'

say "a broken plan is refused, with every problem at its line"
printf '%s\n' '{"id":"a","run":"true","deps":["c"]}' \
    '{"id":"b","run":"true","deps":["a"]}' \
    '{"id":"c","run":"true","deps":["b"]}' \
    '{"id":"d","run":"true","deps":["nowhere"]}' >"$out/broken.ndjson"
status=0
aw-plan --dry-run "$out/broken.ndjson" || status=$?
echo "(exit status $status)"

say "the audit keys (audit-write --init): every transition is audited"
audit-write -v --init

say "run it: aw-sched -j2 (the package task waits for a person's approval)"
cd "$out"
status=0
aw-sched -j2 -q --no-wait "$out/plan.ndjson" >"$out/events.ndjson" || status=$?
jq -r 'select(.type == "task.event") | "\(.task) \(.from) -> \(.to)"' \
    "$out/events.ndjson"
echo "(exit status $status: only an approval is left)"

say "a person approves it (ws-approve), and the run resumes (aw-sched --run)"
request=$(ws-approve list --format ndjson | jq -r .id)
ws-approve approve "$request" --reason "the tests passed" --format table
aw-sched -q --run "$(jq -r .id <"$out/plan.ndjson" | head -n 1)" |
    jq -r 'select(.type == "task.event") | "\(.task) \(.from) -> \(.to)"'
cd "$top"

say "the control plane: aw-ctl status, and a replay of the event log"
run=$(head -n 1 "$out/plan.ndjson" | jq -r .id)
aw-ctl --format table status "$run"
aw-ctl --format ndjson replay "$run"

say "the audit log: sealed, chained and signed; checked with the key"
audit-verify --key "$XDG_CONFIG_HOME/agentutils/audit.key" |
    jq -c '{ok, events, checkpoints, unsigned_tail, decrypted}'
echo '{"type":"decision","what":"release","by":"demo"}' |
    audit-write --receipts | jq -c '{type, seq}'

say "an export of the run's events, redacted, that anyone can check"
run=$(head -n 1 "$out/plan.ndjson" | jq -r .id)
audit-export --run "$run" -o "$out/run.tar.gz"
mkdir -p "$out/bundle"
tar -xzf "$out/run.tar.gz" -C "$out/bundle"
(
	cd "$out/bundle"
	ls
	sha256sum -c SHA256SUMS
	openssl pkeyutl -verify -pubin -inkey pubkey.pem -rawin \
	    -in SHA256SUMS -sigfile SHA256SUMS.sig
	openssl pkeyutl -verify -pubin -inkey pubkey.pem -rawin \
	    -in checkpoint -sigfile checkpoint.sig
)
audit-verify --pubkey "$XDG_CONFIG_HOME/agentutils/audit-sign.pub" \
    "$out/run.tar.gz" | jq -c '{ok, source, events}'

say "in the state file ($AGENTUTILS_DB)"
sqlite3 "$AGENTUTILS_DB" "SELECT 'run ' || id || ': ' || tasks || ' tasks, ' || levels || ' levels, ' || state FROM aw_runs"

say "drawn with Graphviz"
aw-plan --dry-run --format dot examples/build.ndjson >"$out/plan.dot"
echo "wrote $out/plan.dot"
if command -v dot >/dev/null 2>&1; then
	dot -Tsvg "$out/plan.dot" >"$out/plan.svg"
	echo "wrote $out/plan.svg"
else
	echo "(dot is not installed: no SVG)"
fi
