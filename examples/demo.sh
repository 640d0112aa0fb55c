#!/bin/sh
# demo.sh - the main job on the shipped examples, run by "make demo": the
# build of examples/build.ndjson and the tasks of examples/release.ndjson
# (a tool and a prompt) planned as one run; run by aw-sched up to the
# approval it needs, approved with ws-approve, finished; the audit log
# verified and the run exported as a bundle that anyone can check; then a
# summary.  The state file, the configuration and the bundle go to
# build/demo/ (or $AU_DEMO_OUT), to be looked at afterwards.
#
# The prompt goes to a real model when one is configured: OPENAI_API_KEY
# (gpt-4o-mini), else ANTHROPIC_API_KEY (claude-3-5-haiku), else
# AGENTUTILS_DEMO_URL, the base URL of a local OpenAI-compatible server
# (such as http://127.0.0.1:8080/v1, with the model AGENTUTILS_DEMO_MODEL,
# default local-model).  Otherwise the project's test provider,
# tests/mf/provider.py, answers on a free loopback port, stopped at the
# end, and the demo stays offline.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=${AU_BIN:-$top/build/bin}:$PATH
out=${AU_DEMO_OUT:-$top/build/demo}
rm -rf "$out"
mkdir -p "$out/config/agentutils/tools.d"
AGENTUTILS_DB=$out/state.db
# The demo's own configuration and audit keys, not the user's.
XDG_CONFIG_HOME=$out/config
export PATH AGENTUTILS_DB XDG_CONFIG_HOME
conf=$XDG_CONFIG_HOME/agentutils
provider=
trap '[ -z "$provider" ] || kill "$provider" 2>/dev/null' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$top"

say() {
	printf '\n== %s\n' "$*"
}

say "the plan: examples/build.ndjson and examples/release.ndjson, checked and ordered"
aw-plan --dry-run --format tsv examples/build.ndjson examples/release.ndjson

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

say "the configuration: audit keys, a ToolSpec and its policy, the models"
audit-write -v --init
# The tool may read the build's output directory and nothing else.
jq --arg dir "$out/out" '.sandbox.read = [$dir]' \
    examples/tools.d/sha256.json >"$conf/tools.d/sha256.json"
cp examples/policy.json "$conf/policy.json"
tg-list | jq -r '"tool \(.name): \(.description)"'
sandbox=yes
if ! command -v firejail >/dev/null 2>&1; then
	sandbox="firejail is not installed (make deps installs it)"
elif ! firejail --quiet --noprofile true 2>/dev/null; then
	sandbox="firejail cannot make a sandbox here"
fi
plan="examples/build.ndjson examples/release.ndjson"
if [ "$sandbox" != yes ]; then
	echo "$sandbox: the tool task is left out"
	jq -c 'select(.kind != "tool")' examples/release.ndjson >"$out/release.ndjson"
	plan="examples/build.ndjson $out/release.ndjson"
fi

# route MODEL [URL [UPSTREAM]]: models.json from examples/, the default
# route to MODEL, the local provider at URL serving the model UPSTREAM.
route() {
	jq --arg m "$1" --arg url "${2:-}" --arg up "${3:-}" '
	    .routes.default.candidates = [$m] |
	    if $url != "" then .providers.local.base_url = $url else . end |
	    if $up != "" then .models.local.upstream = $up else . end' \
	    examples/models.json >"$conf/models.json"
}
if [ -n "${OPENAI_API_KEY:-}" ]; then
	route gpt-4o-mini
	model="gpt-4o-mini at OpenAI (OPENAI_API_KEY)"
elif [ -n "${ANTHROPIC_API_KEY:-}" ]; then
	route claude-haiku
	model="claude-3-5-haiku at Anthropic (ANTHROPIC_API_KEY)"
elif [ -n "${AGENTUTILS_DEMO_URL:-}" ]; then
	route local "$AGENTUTILS_DEMO_URL" "${AGENTUTILS_DEMO_MODEL:-local-model}"
	model="${AGENTUTILS_DEMO_MODEL:-local-model} at $AGENTUTILS_DEMO_URL (AGENTUTILS_DEMO_URL)"
else
	python3 tests/mf/provider.py --port-file "$out/port" \
	    >"$out/provider.log" 2>&1 &
	provider=$!
	i=0
	until [ -s "$out/port" ]; do
		i=$((i + 1))
		if [ "$i" -ge 200 ]; then
			echo "demo: the test provider did not start" >&2
			exit 69
		fi
		sleep 0.05
	done
	route local "http://127.0.0.1:$(cat "$out/port")/v1"
	model="the test provider, tests/mf/provider.py on 127.0.0.1:$(cat "$out/port"), which echoes the prompt (no OPENAI_API_KEY, ANTHROPIC_API_KEY or AGENTUTILS_DEMO_URL set)"
fi
echo "the prompt goes to $model"

say "store the plan as a run (aw-plan)"
# shellcheck disable=SC2086 # the plan's files, split on purpose
aw-plan -v $plan >"$out/plan.ndjson"
run=$(head -n 1 "$out/plan.ndjson" | jq -r .id)

say "run it: aw-sched -j2 (the package task waits for a person's approval)"
cd "$out"
started=$(date +%s)
status=0
aw-sched -j2 -q --no-wait "$out/plan.ndjson" >"$out/events.ndjson" || status=$?
jq -r 'select(.type == "task.event") | "\(.task) \(.from) -> \(.to)"' \
    "$out/events.ndjson"
echo "(exit status $status: only an approval is left)"

say "a person approves it (ws-approve), and the run resumes (aw-sched --run)"
request=$(ws-approve list --format ndjson | jq -r .id)
ws-approve approve "$request" --reason "the tests passed" --format table
aw-sched -q --run "$run" | tee -a "$out/events.ndjson" |
    jq -r 'select(.type == "task.event") | "\(.task) \(.from) -> \(.to)"'
ended=$(date +%s)
cd "$top"

say "what the tool and the model answered (aw-ctl logs)"
if [ "$sandbox" = yes ]; then
	aw-ctl logs "$run" checksum | jq -c '{tool, decision, content: .content[0].text}'
fi
aw-ctl logs "$run" notes | jq -c '{model, upstream_model, content, usage, cost_usd}'

say "the control plane: aw-ctl status, and a replay of the event log"
aw-ctl --format table status "$run"
aw-ctl --format ndjson replay "$run"

say "the audit log: sealed, chained and signed; checked with the key"
audit-verify --key "$conf/audit.key" >"$out/verify.ndjson"
jq -c '{ok, events, checkpoints, unsigned_tail, decrypted}' "$out/verify.ndjson"

say "an export of the run's events, redacted, that anyone can check"
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
audit-verify --pubkey "$conf/audit-sign.pub" "$out/run.tar.gz" |
    jq -c '{ok, source, events}'

say "drawn with Graphviz"
# shellcheck disable=SC2086 # the plan's files, split on purpose
aw-plan --dry-run --format dot $plan >"$out/plan.dot"
echo "wrote $out/plan.dot"
if command -v dot >/dev/null 2>&1; then
	dot -Tsvg "$out/plan.dot" >"$out/plan.svg"
	echo "wrote $out/plan.svg"
else
	echo "(dot is not installed: no SVG)"
fi

say "summary"
aw-ctl --format ndjson status "$run" | jq -r --arg s "$((ended - started))" '
    "ran:      run \(.id): \(.tasks) tasks, \(.state) in \($s) s (" +
    ([.counts | to_entries[] | select(.value > 0) | "\(.value) \(.key)"] |
    join(", ")) + ")"'
jq -r 'select(.type == "task") | .kind' "$out/plan.ndjson" | sort | uniq -c |
    awk '{ k = k sep $1 " " $2; sep = ", " } END { print "kinds:    " k }'
if [ "$sandbox" = yes ]; then
	aw-ctl logs "$run" checksum | jq -r '"tool:     \(.tool) in firejail, \(.decision)ed by policy.json: \(.content[0].text | rtrimstr("\n"))"'
else
	echo "tool:     none ($sandbox)"
fi
aw-ctl logs "$run" notes | jq -r '"model:    \(.model) (\(.upstream_model)): \(.content | gsub("\n"; " ") | .[:120])"'
ws-approve list --all --format ndjson | jq -r '
    "approved: \(.subject) (\(.summary)), by \(.decided_by) at \(.decided_at): \(.reason)"'
mf-usage --format ndjson | jq -r '
    "cost:     \(.requests) request, \(.input_tokens) tokens in, \(.output_tokens) out: \(.cost_usd) USD (mf-usage)"'
jq -r '"audit:    \(.events) events, chain and \(.checkpoints) signed checkpoints verified (audit-verify)"' \
    "$out/verify.ndjson"
echo "bundle:   $out/run.tar.gz ($(tar -xzOf "$out/run.tar.gz" events.ndjson | wc -l | tr -d ' ') events, checked above with sha256sum and openssl)"
echo "state:    $AGENTUTILS_DB"
