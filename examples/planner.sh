#!/bin/sh
# planner.sh - a deterministic example planner for aw-plan --planner-cmd.
#
# It reads the goal record aw-plan writes on its standard input,
#   {"type":"goal","text":"fetch the data then clean it then train"}
# splits the text at each " then " into steps, and prints one task record
# per step, each depending on the one before:
#   {"type":"task","id":"step-1","run":["echo","fetch the data"]}
# The text stays JSON-escaped from input to output, so no quoting is
# needed; it relies on "text" being the goal record's last field, as
# aw-plan writes it.  A real planner asks a model (see mf-route).
set -eu
IFS= read -r goal || true
text=$(printf '%s\n' "$goal" | sed -n 's/^.*"text":"//; s/"}[[:space:]]*$//p')
[ -n "$text" ] || { echo "planner.sh: no goal text on standard input" >&2; exit 65; }
printf '%s\n' "$text" | awk '{
	n = split($0, steps, / then /)
	for (i = 1; i <= n; i++) {
		printf "{\"type\":\"task\",\"id\":\"step-%d\",\"run\":[\"echo\",\"%s\"]", i, steps[i]
		if (i > 1)
			printf ",\"deps\":[\"step-%d\"]", i - 1
		printf "}\n"
	}
}'
