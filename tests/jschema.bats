#!/usr/bin/env bats
# lib/jschema.c through its test driver (build/tests/jschema-driver): the
# verdicts and errors it gives, schemas it refuses, and the differential
# test (tests/jschema-diff) against Debian's python3-jsonschema on the
# corpus in tests/fixtures/jschema and on schemas made up at random.

load helper

DRIVER=${AU_BUILD:-$TOP/build}/tests/jschema-driver
CORPUS=$BATS_TEST_DIRNAME/fixtures/jschema/corpus.ndjson

# oracle: skip unless /usr/bin/python3 has the jsonschema module (python3
# on PATH may be another one without it).
oracle() {
	/usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
		skip "no python3-jsonschema for /usr/bin/python3 (make deps installs it)"
}

@test "the driver gives a verdict per instance and the errors with both pointers" {
	run "$DRIVER" -e <<-'EOF'
	{"schema":{"type":"object","properties":{"n":{"type":"integer","minimum":1},"tags":{"type":"array","items":{"type":"string"}}},"required":["n"],"additionalProperties":false},"tests":[{"data":{"n":2,"tags":["a"]}},{"data":{"n":0.5,"tags":["a",3],"x":null}},{"data":[]}]}
	EOF
	assert_success
	assert_output - <<-'EOF'
	{"valid":[true,false,false],"errors":[[],[{"instance":"/n","schema":"/properties/n/type","error":"expected integer, got number"},{"instance":"/n","schema":"/properties/n/minimum","error":"0.5 is less than the minimum 1"},{"instance":"/tags/1","schema":"/properties/tags/items/type","error":"expected string, got number"},{"instance":"/x","schema":"/additionalProperties","error":"property \"x\" is not allowed"}],[{"instance":"","schema":"/type","error":"expected object, got array"}]]}
	EOF
}

@test "a schema that does not compile is refused with the pointer of the bad keyword" {
	run "$DRIVER" <<-'EOF'
	{"schema":{"properties":{"a":{"minLength":"3"}}},"tests":[{"data":{}}]}
	{"schema":{"patternProperties":{"(":true}},"tests":[]}
	{"schema":{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}}},"tests":[]}
	{"schema":{"$ref":"#/$defs/missing"},"tests":[]}
	{"schema":true,"tests":[{"data":1}]}
	EOF
	assert_success
	assert_output - <<-'EOF'
	{"error":"schema at \"/properties/a/minLength\": expected a non-negative integer"}
	{"error":"schema at \"/patternProperties/(\": bad regular expression \"(\": end pattern with unmatched parenthesis"}
	{"error":"schema at \"/$defs/a\": $ref loop: \"/$defs/a\" -> \"/$defs/b\" -> \"/$defs/a\""}
	{"error":"schema at \"/$ref\": $ref: no such place in the schema"}
	{"valid":[true]}
	EOF
}

@test "a bad input line is reported with its line and the status says so" {
	run --separate-stderr "$DRIVER" <<-'EOF'
	{"schema":true,"tests":[]}
	not json
	EOF
	assert_failure 65
	assert_output '{"valid":[]}'
	[[ $stderr == *"<stdin>:2:"* ]]
}

@test "the corpus: every keyword, each verdict as expected and as python3-jsonschema gives it" {
	oracle
	run "$TOP/tests/jschema-diff" -k "$DRIVER" "$CORPUS"
	assert_success
	assert_output --regexp '^jschema-diff: [0-9]+ groups \(2 refused\), [0-9]+ instances .*, 0 disagreements$'
}

@test "3000 random schemas, 10 instances each: the verdicts of python3-jsonschema" {
	oracle
	run "$TOP/tests/jschema-diff" -s 20261201 -n 3000 "$DRIVER"
	assert_success
	assert_output --regexp '^jschema-diff: 3000 groups \(0 refused\), 30000 instances \([0-9]{4,} valid, [0-9]{4,} invalid\), 0 disagreements$'
}

@test "jschema-diff reports a disagreement and fails" {
	oracle
	printf '%s\n' '{"description":"wrong on purpose","schema":{"type":"integer"},"tests":[{"data":1.5,"valid":true}]}' >wrong.ndjson
	printf '%s\n' '{"description":"few keywords","schema":{"type":"integer"},"tests":[]}' >few.ndjson
	run "$TOP/tests/jschema-diff" "$DRIVER" wrong.ndjson
	assert_failure 1
	assert_line --partial 'wrong.ndjson:1: {"type": "integer"} on 1.5: ours False, python3-jsonschema False, expected True'
	run "$TOP/tests/jschema-diff" -k "$DRIVER" few.ndjson
	assert_failure 1
	assert_output --partial 'jschema-diff: no group uses enum, const,'
}
