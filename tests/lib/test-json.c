/*
 * test-json.c - json.c: au_json_dump of every kind of value compared with
 * the exact text expected (string escapes, numbers from -0 to 1e300 and
 * beyond the exact integers, nesting, key order), round trips through
 * jq's parser, au_json_str, au_utf8_valid on valid and invalid sequences
 * of every length, au_json_check on valid JSON and on each kind of
 * mistake with the offset it names, au_json_line and au_json_dups on
 * nested text over lines, the accessors au_jv_str, au_jv_kind,
 * au_jv_isint, and au_jv_redact_names at every depth, its members in
 * their order, a record with nothing secret given back as it is.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"
#include "tap.h"

/* au_json_dump of v as a string, consuming v. */
static const char *
dump(jv v)
{
	static struct au_buf b;

	b.len = 0;
	au_buf_adds(&b, "");
	au_json_dump(&b, v);
	jv_free(v);
	return b.s;
}

static void
test_dump_scalars(void)
{
	is_str(dump(jv_null()), "null", "dump: null");
	is_str(dump(jv_true()), "true", "dump: true");
	is_str(dump(jv_false()), "false", "dump: false");
	is_str(dump(jv_invalid()), "null", "dump: invalid as null");
	is_str(dump(jv_number(0)), "0", "dump: 0");
	is_str(dump(jv_number(-0.0)), "-0", "dump: -0 keeps its sign");
	is_str(dump(jv_number(1)), "1", "dump: 1");
	is_str(dump(jv_number(-42)), "-42", "dump: -42");
	is_str(dump(jv_number(0.1)), "0.1", "dump: 0.1");
	is_str(dump(jv_number(1.5)), "1.5", "dump: 1.5");
	is_str(dump(jv_number(-2.25)), "-2.25", "dump: -2.25");
	is_str(dump(jv_number(1.0 / 3)), "0.3333333333333333",
	    "dump: 1/3 in 16 digits");
	is_str(dump(jv_number(0.1 + 0.2)), "0.30000000000000004",
	    "dump: 0.1 + 0.2 needs 17 digits");
	is_str(dump(jv_number(1e300)), "1e+300", "dump: 1e300");
	is_str(dump(jv_number(-1e-300)), "-1e-300", "dump: -1e-300");
	is_str(dump(jv_number(123456789.125)), "123456789.125",
	    "dump: 123456789.125");
	is_str(dump(jv_number(1e16)), "10000000000000000", "dump: 1e16");
	is_str(dump(jv_number(99999999999999984.0)), "99999999999999984",
	    "dump: the largest integer below 1e17");
	is_str(dump(jv_number(-9007199254740993.0)), "-9007199254740992",
	    "dump: -(2^53 + 1) as the double it is");
	is_str(dump(jv_number(1e17)), "1e+17", "dump: 1e17");
	is_str(dump(jv_number(9223372036854775808.0)),
	    "9.223372036854776e+18", "dump: 2^63");
	is_str(dump(jv_number(NAN)), "null", "dump: NaN as null");
	is_str(dump(jv_number(INFINITY)), "1.7976931348623157e+308",
	    "dump: infinity as DBL_MAX");
	is_str(dump(jv_number(-INFINITY)), "-1.7976931348623157e+308",
	    "dump: -infinity as -DBL_MAX");
}

static void
test_dump_strings(void)
{
	is_str(dump(jv_string("")), "\"\"", "dump: empty string");
	is_str(dump(jv_string("plain text")), "\"plain text\"",
	    "dump: plain string");
	is_str(dump(jv_string("a\"b\\c/d")), "\"a\\\"b\\\\c/d\"",
	    "dump: quote and backslash escaped, slash not");
	is_str(dump(jv_string("\b\f\n\r\t")), "\"\\b\\f\\n\\r\\t\"",
	    "dump: short escapes");
	is_str(dump(jv_string("\x01\x1f\x7f")), "\"\\u0001\\u001f\\u007f\"",
	    "dump: other controls and DEL as \\u00XX");
	is_str(dump(jv_string_sized("a\0b", 3)), "\"a\\u0000b\"",
	    "dump: NUL as \\u0000");
	is_str(dump(jv_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")),
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
	    "dump: UTF-8 passes through");
	is_str(dump(jv_string("\xe2\x80\xa8")), "\"\xe2\x80\xa8\"",
	    "dump: U+2028 passes through");
}

static void
test_dump_nested(void)
{
	struct au_buf b = AU_BUF_INIT;
	jv v, o;
	const char *doc = "{\"z\":1,\"a\":[1,\"two\",null,true,false,"
	    "{\"x\":[[]],\"\":{}}],\"m\":{\"k\\\"\\n\":-0.5}}";

	is_str(dump(jv_array()), "[]", "dump: empty array");
	is_str(dump(jv_object()), "{}", "dump: empty object");
	v = jv_array_append(jv_array_append(jv_array(), jv_number(1)),
	    jv_array_append(jv_array(), jv_string("x")));
	is_str(dump(v), "[1,[\"x\"]]", "dump: nested arrays");
	o = jv_object_set(jv_object(), jv_string("b"), jv_number(1));
	o = jv_object_set(o, jv_string("a"), jv_object_set(jv_object(),
	    jv_string("c"), jv_array()));
	o = jv_object_set(o, jv_string("c"), jv_null());
	is_str(dump(o), "{\"b\":1,\"a\":{\"c\":[]},\"c\":null}",
	    "dump: keys in the order they were set");

	v = jv_parse(doc);
	is_str(dump(jv_copy(v)), doc, "dump: a parsed document as it was");

	/* Dumping borrows: v is still whole, and the buffer is appended
	 * to. */
	au_buf_adds(&b, "x=");
	au_json_dump(&b, v);
	au_json_dump(&b, v);
	ok(b.len == 2 + 2 * strlen(doc) && strncmp(b.s, "x=", 2) == 0 &&
	    strncmp(b.s + 2, doc, strlen(doc)) == 0 &&
	    strcmp(b.s + 2 + strlen(doc), doc) == 0,
	    "dump: appends, borrows its value");
	jv_free(v);
	au_buf_free(&b);
}

/* Dumps that jq reads back as the same value. */
static void
test_dump_roundtrip(void)
{
	struct au_buf b = AU_BUF_INIT;
	uint64_t x = 0x2545f4914f6cdd1du, bits;
	char s[128 * 8];
	double d;
	jv v, back;
	int i, bad = 0, badstr = 0;

	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		bits = x;
		memcpy(&d, &bits, sizeof d);
		if (!isfinite(d))
			continue;
		b.len = 0;
		au_json_dump(&b, jv_number(d));
		if (strtod(b.s, NULL) != d || strlen(b.s) > 24 ||
		    au_json_check(b.s, b.len, NULL) != NULL) {
			if (bad++ == 0)
				printf("# %.17g -> %s\n", d, b.s);
		}
	}
	is_int(bad, 0, "dump: random doubles are valid JSON, read back "
	    "exactly, in at most 24 characters");

	/* Every ASCII byte, NUL included, many times over. */
	for (i = 0; i < (int)sizeof s; i++)
		s[i] = (char)(i % 128);
	b.len = 0;
	au_json_str(&b, s, sizeof s);
	v = jv_parse_sized(b.s, (int)b.len);
	if (jv_get_kind(v) != JV_KIND_STRING ||
	    jv_string_length_bytes(jv_copy(v)) != (int)sizeof s ||
	    memcmp(jv_string_value(v), s, sizeof s) != 0)
		badstr = 1;
	ok(!badstr, "json_str: all of ASCII reads back the same");
	back = jv_parse(b.s);
	ok(jv_equal(v, back), "json_str: the text is valid JSON");
	au_buf_free(&b);
}

static void
test_json_str(void)
{
	struct au_buf b = AU_BUF_INIT;

	au_json_str(&b, "a\"\nbc", 3);
	is_str(b.s, "\"a\\\"\\n\"", "json_str: only n bytes");
	is_int(b.len, 7, "json_str: len");
	au_json_str(&b, "", 0);
	is_str(b.s, "\"a\\\"\\n\"\"\"", "json_str: empty string appended");
	b.len = 0;
	au_json_str(&b, "\xc3\xa9\x1f", 3);
	is_str(b.s, "\"\xc3\xa9\\u001f\"", "json_str: UTF-8 and a control");
	au_buf_free(&b);
}

static void
test_utf8(void)
{
	struct {
		const char *s;
		size_t n, want;
		const char *what;
	} c[] = {
		{ "", 0, 0, "empty" },
		{ "plain ascii text", 16, 16, "ASCII" },
		{ "a\0b", 3, 3, "NUL is valid" },
		{ "\x7f", 1, 1, "DEL" },
		{ "\xc2\x80", 2, 2, "2 bytes, U+0080" },
		{ "\xc3\xa9", 2, 2, "2 bytes, U+00E9" },
		{ "\xdf\xbf", 2, 2, "2 bytes, U+07FF" },
		{ "\xe0\xa0\x80", 3, 3, "3 bytes, U+0800" },
		{ "\xe2\x82\xac", 3, 3, "3 bytes, U+20AC" },
		{ "\xed\x9f\xbf", 3, 3, "3 bytes, U+D7FF" },
		{ "\xee\x80\x80", 3, 3, "3 bytes, U+E000" },
		{ "\xef\xbf\xbf", 3, 3, "3 bytes, U+FFFF" },
		{ "\xf0\x90\x80\x80", 4, 4, "4 bytes, U+10000" },
		{ "\xf0\x9f\x98\x80", 4, 4, "4 bytes, U+1F600" },
		{ "\xf4\x8f\xbf\xbf", 4, 4, "4 bytes, U+10FFFF" },
		{ "\xc0\x80", 2, 0, "overlong NUL" },
		{ "\xc1\xbf", 2, 0, "overlong 2 bytes" },
		{ "\xe0\x80\x80", 3, 0, "overlong 3 bytes" },
		{ "\xe0\x9f\xbf", 3, 0, "overlong U+07FF in 3 bytes" },
		{ "\xf0\x80\x80\x80", 4, 0, "overlong 4 bytes" },
		{ "\xf0\x8f\xbf\xbf", 4, 0, "overlong U+FFFF in 4 bytes" },
		{ "\xed\xa0\x80", 3, 0, "surrogate U+D800" },
		{ "\xed\xbf\xbf", 3, 0, "surrogate U+DFFF" },
		{ "\xf4\x90\x80\x80", 4, 0, "U+110000" },
		{ "\xf5\x80\x80\x80", 4, 0, "F5 lead byte" },
		{ "\xf8\x88\x80\x80\x80", 5, 0, "5-byte form" },
		{ "\xfe", 1, 0, "FE" },
		{ "\xff", 1, 0, "FF" },
		{ "\x80", 1, 0, "lone continuation" },
		{ "\xc3", 1, 0, "truncated 2 bytes" },
		{ "ab\xe2\x82", 4, 2, "truncated 3 bytes after ASCII" },
		{ "\xf0\x9f\x98", 3, 0, "truncated 4 bytes" },
		{ "\xc3\xa9", 1, 0, "n cuts a sequence" },
		{ "\xc3\x28", 2, 0, "bad continuation in 2 bytes" },
		{ "\xe2\x28\xac", 3, 0, "bad second byte in 3 bytes" },
		{ "\xe2\x82\x28", 3, 0, "bad third byte in 3 bytes" },
		{ "\xf0\x9f\x98\x28", 4, 0, "bad fourth byte in 4 bytes" },
		{ "abcdefghij\xff", 11, 10, "bad byte after the fast path" },
		{ "abcdefgh\xc3\xa9" "abcdefgh\xc3", 19, 18,
		    "position after runs of ASCII" },
		{ "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "abc\xed\xa0\x80", 15,
		    12, "position after mixed sequences" },
	};
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++)
		is_int(au_utf8_valid(c[i].s, c[i].n), c[i].want, "utf8: %s",
		    c[i].what);
}

static void
test_check(void)
{
	static const char *const valid[] = {
		"{}", "[]", "0", "-0", "12", "-1.25E-3", "1.5e+10", "2e5",
		"\"\"", "true", "false", "null", "\"\x7f\"",
		"\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"",
		"\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
		" \t\r\n{ \"a\" : [ 1 , -2.5 , \"x\" ] , \"b\" : { } ,"
		    " \"c\":null}\r\n",
		"[[],{},[{\"\":[true,false]}]]",
	};
	static const struct {
		const char *s;
		size_t n;	/* 0: strlen */
		const char *err;
		size_t at;
	} bad[] = {
		{ "", 0, "invalid JSON: expected a value", 0 },
		{ "   ", 0, "invalid JSON: expected a value", 3 },
		{ "{", 0, "invalid JSON: expected a string key", 1 },
		{ "{a:1}", 0, "invalid JSON: expected a string key", 1 },
		{ "{\"a\"}", 0, "invalid JSON: expected ':' after a key", 4 },
		{ "{\"a\":}", 0, "invalid JSON: expected a value", 5 },
		{ "{\"a\":1", 0, "invalid JSON: expected ',' or '}'", 6 },
		{ "{\"a\":1,}", 0, "invalid JSON: expected a string key", 7 },
		{ "{\"a\":1]", 0, "invalid JSON: expected ',' or '}'", 6 },
		{ "[1,]", 0, "invalid JSON: expected a value", 3 },
		{ "[1 2]", 0, "invalid JSON: expected ',' or ']'", 3 },
		{ "[", 0, "invalid JSON: expected a value", 1 },
		{ "]", 0, "invalid JSON: expected a value", 0 },
		{ "{} {}", 0, "invalid JSON: unexpected data after the value",
		    3 },
		{ "01", 0, "invalid JSON: unexpected data after the value", 1 },
		{ "1x", 0, "invalid JSON: unexpected data after the value", 1 },
		{ "-", 0, "invalid JSON: invalid number", 0 },
		{ "-a", 0, "invalid JSON: invalid number", 0 },
		{ "1.", 0, "invalid JSON: invalid number", 2 },
		{ "1.e5", 0, "invalid JSON: invalid number", 2 },
		{ "1e", 0, "invalid JSON: invalid number", 2 },
		{ "1e+", 0, "invalid JSON: invalid number", 3 },
		{ ".5", 0, "invalid JSON: expected a value", 0 },
		{ "+1", 0, "invalid JSON: expected a value", 0 },
		{ "tru", 0, "invalid JSON: invalid literal", 0 },
		{ "truex", 0, "invalid JSON: invalid literal", 0 },
		{ "[nul]", 0, "invalid JSON: invalid literal", 1 },
		{ "True", 0, "invalid JSON: expected a value", 0 },
		{ "NaN", 0, "invalid JSON: expected a value", 0 },
		{ "'a'", 0, "invalid JSON: expected a value", 0 },
		{ "\"abc", 0, "invalid JSON: unterminated string", 0 },
		{ "[\"a\\", 0, "invalid JSON: unterminated string", 1 },
		{ "\"a\nb\"", 0, "invalid JSON: control character in a "
		    "string", 2 },
		{ "\"a\tb\"", 0, "invalid JSON: control character in a "
		    "string", 2 },
		{ "\"a\0b\"", 5, "invalid JSON: control character in a "
		    "string", 2 },
		{ "\"a\\x\"", 0, "invalid JSON: invalid escape", 2 },
		{ "\"\\u12g4\"", 0, "invalid JSON: invalid escape", 1 },
		{ "\"\\u12\"", 0, "invalid JSON: invalid escape", 1 },
		{ "\"\\udc00\"", 0, "invalid JSON: lone low surrogate escape",
		    1 },
		{ "\"\\ud800\"", 0, "invalid JSON: high surrogate escape "
		    "without its low half", 1 },
		{ "\"x\\ud800\\u0041\"", 0, "invalid JSON: high surrogate "
		    "escape without its low half", 2 },
		{ "\"\xff\"", 0, "invalid UTF-8", 1 },
		{ "\"\xc3\"", 0, "invalid UTF-8", 1 },
		{ "\"\xed\xa0\x80\"", 0, "invalid UTF-8", 1 },
		{ "\"\xc0\x80\"", 0, "invalid UTF-8", 1 },
		{ "\xff", 0, "invalid UTF-8", 0 },
		{ "\xc3\xa9", 0, "invalid JSON: expected a value", 0 },
		{ "{\"a\":1}\0", 8, "invalid JSON: unexpected data after the "
		    "value", 7 },
	};
	char deep[5002];
	size_t i, at, n;
	const char *err;
	int bad_valid = 0;

	for (i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		at = 12345;
		if ((err = au_json_check(valid[i], strlen(valid[i]), &at))) {
			printf("# %s: %s at %zu\n", au_quote(valid[i]), err,
			    at);
			bad_valid++;
		}
	}
	is_int(bad_valid, 0, "check: %zu valid texts pass",
	    sizeof valid / sizeof valid[0]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		n = bad[i].n ? bad[i].n : strlen(bad[i].s);
		at = 12345;
		err = au_json_check(bad[i].s, n, &at);
		is_str(err, bad[i].err, "check: %s", au_quote(bad[i].s));
		is_int(at, bad[i].at, "check: %s at offset %zu",
		    au_quote(bad[i].s), bad[i].at);
	}

	/* As deep as jq 1.6 parses, and deeper. */
	memset(deep, '[', 256);
	memset(deep + 256, ']', 256);
	is_str(au_json_check(deep, 512, NULL), NULL, "check: 256 levels "
	    "pass");
	memset(deep, '[', 2501);
	memset(deep + 2501, ']', 2501);
	at = 0;
	is_str(au_json_check(deep, 5002, &at), "invalid JSON: nested deeper "
	    "than jq parses (256 levels, an object two)", "check: 2501 "
	    "levels are refused");
	is_int(at, 256, "check: at the 257th");
	/* An object whose value is being read holds its key on jq's stack
	 * too: 128 objects are as deep as it goes. */
	for (i = 0; i < 129; i++)
		memcpy(deep + 5 * i, "{\"a\":", 5);
	deep[645] = '1';
	memset(deep + 646, '}', 129);
	is_str(au_json_check(deep + 5, 640 + 1 + 128, NULL), NULL, "check: "
	    "128 objects pass");
	at = 0;
	is_str(au_json_check(deep, 645 + 1 + 129, &at), "invalid JSON: "
	    "nested deeper than jq parses (256 levels, an object two)",
	    "check: 129 objects are refused");
	is_int(at, 640, "check: at the 129th");
	ok(au_json_check("x", 1, NULL) != NULL, "check: at may be NULL");
}

static void
test_accessors(void)
{
	jv o = jv_parse("{\"id\":\"t1\",\"n\":3,\"z\":null,\"\":\"empty\","
	    "\"o\":{\"id\":\"inner\"}}");
	jv a = jv_parse("[\"id\"]");
	const char *id;

	id = au_jv_str(o, "id");
	is_str(id, "t1", "jv_str: a string member");
	is_str(au_jv_str(o, "n"), NULL, "jv_str: a number is NULL");
	is_str(au_jv_str(o, "z"), NULL, "jv_str: null is NULL");
	is_str(au_jv_str(o, "absent"), NULL, "jv_str: absent is NULL");
	is_str(au_jv_str(o, ""), "empty", "jv_str: the empty key");
	is_str(au_jv_str(a, "id"), NULL, "jv_str: an array is NULL");
	is_str(au_jv_str(jv_null(), "id"), NULL, "jv_str: null is NULL");
	is_str(au_jv_str(jv_invalid(), "id"), NULL,
	    "jv_str: invalid is NULL");
	is_str(id, "t1", "jv_str: the pointer lives as long as the object");
	ok(jv_get_refcnt(o) == 1, "jv_str: borrows the object");

	is_str(au_jv_kind(o), "object", "kind: object");
	is_str(au_jv_kind(a), "array", "kind: array");
	is_str(au_jv_kind(jv_null()), "null", "kind: null");
	is_str(au_jv_kind(jv_true()), "boolean", "kind: true");
	is_str(au_jv_kind(jv_false()), "boolean", "kind: false");
	is_str(au_jv_kind(jv_number(1)), "number", "kind: number");
	is_str(au_jv_kind(jv_invalid()), "invalid", "kind: invalid");
	ok(jv_get_refcnt(o) == 1 && jv_get_refcnt(a) == 1,
	    "kind: borrows its value");
	jv_free(o);
	jv_free(a);
	o = jv_string("s");
	is_str(au_jv_kind(o), "string", "kind: string");
	jv_free(o);

	ok(au_jv_isint(jv_number(0)), "isint: 0");
	ok(au_jv_isint(jv_number(-0.0)), "isint: -0");
	ok(au_jv_isint(jv_number(-3)), "isint: -3");
	ok(au_jv_isint(jv_number(1e15)), "isint: 1e15");
	ok(au_jv_isint(jv_number(9007199254740993.0)), "isint: 2^53 + 1");
	ok(au_jv_isint(jv_number(9e18)), "isint: 9e18");
	ok(au_jv_isint(jv_number(9.22e18)), "isint: 9.22e18 < INT64_MAX");
	ok(au_jv_isint(jv_number((double)INT64_MIN)), "isint: INT64_MIN");
	ok(!au_jv_isint(jv_number(9223372036854775808.0)),
	    "isint: 2^63 is out of range");
	ok(!au_jv_isint(jv_number(-9223372036854777856.0)),
	    "isint: the double below INT64_MIN is out of range");
	ok(!au_jv_isint(jv_number(1e19)), "isint: 1e19");
	ok(!au_jv_isint(jv_number(3.5)), "isint: 3.5");
	ok(!au_jv_isint(jv_number(-0.25)), "isint: -0.25");
	ok(!au_jv_isint(jv_number(NAN)), "isint: NaN");
	ok(!au_jv_isint(jv_number(INFINITY)), "isint: infinity");
	ok(!au_jv_isint(jv_number(-INFINITY)), "isint: -infinity");
	ok(!au_jv_isint(jv_true()), "isint: true");
	o = jv_string("3");
	ok(!au_jv_isint(o), "isint: the string \"3\"");
	jv_free(o);
}

static void
test_positions(void)
{
	static const char doc[] = "{\n"
	    "  \"a\": [1,\n"
	    "    {\"b/c\": \"x\", \"t~\": null},\n"
	    "\n"
	    "    [ ]],\n"
	    "  \"s\": \"{[,\\\"\",\n"
	    "  \"a\": {\"k\": 1, \"k\":\n"
	    "    2}\n"
	    "}\n";
	size_t n = sizeof doc - 1;
	jv d;

	ok(au_json_check(doc, n, NULL) == NULL, "positions: the text is JSON");
	is_int(au_json_line(doc, n, ""), 1, "line: the whole");
	is_int(au_json_line(doc, n, "/s"), 6, "line: a string with brackets");
	is_int(au_json_line(doc, n, "/a"), 7, "line: a repeated key, the last");
	is_int(au_json_line(doc, n, "/a/k"), 7, "line: in the last");
	is_int(au_json_line(doc, n, "/nope"), 0, "line: none");
	is_int(au_json_line("[1,\n[2,\n3]]", 11, "/1/1"), 3,
	    "line: array indexes");
	is_int(au_json_line("{\"b/c\":\n{\"t~\":\n1}}", 17, "/b~1c/t~0"), 2,
	    "line: escaped pointer tokens");
	is_int(au_json_line("{\"a\":\n1}", 8, "/a"), 1, "line: the key's");
	d = au_json_dups(doc, n);
	is_str(dump(jv_copy(d)), "[{\"pointer\":\"/a\",\"line\":7,"
	    "\"first\":2},{\"pointer\":\"/a/k\",\"line\":7,\"first\":7}]",
	    "dups: in order, with both lines");
	jv_free(d);
	d = au_json_dups("{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}", 39);
	is_int(jv_array_length(d), 0, "dups: the same key in other objects");
}

static void
test_redact(void)
{
	static const char *const globs[] = { "*pin*", NULL };
	static const char *const mixed[] = { "a*b", "pre*", "*suf", "exact",
	    "q?q", "[ab]z", "\\*\\*", NULL };
	jv v, r;

	v = jv_parse("{\"id\":1,\"API_Key\":\"k\",\"args\":{\"text\":\"t\","
	    "\"auth\":{\"token\":[1]},\"list\":[{\"password\":\"p\"},2]},"
	    "\"authorization\":\"b\",\"z\":null}");
	is_str(dump(au_jv_redact_names(jv_copy(v), NULL)),
	    "{\"id\":1,\"API_Key\":\"[REDACTED]\",\"args\":{\"text\":\"t\","
	    "\"auth\":{\"token\":\"[REDACTED]\"},\"list\":[{\"password\":"
	    "\"[REDACTED]\"},2]},\"authorization\":\"[REDACTED]\","
	    "\"z\":null}", "redact: at every depth, in order, any case");
	is_str(dump(jv_copy(v)), "{\"id\":1,\"API_Key\":\"k\",\"args\":"
	    "{\"text\":\"t\",\"auth\":{\"token\":[1]},\"list\":[{"
	    "\"password\":\"p\"},2]},\"authorization\":\"b\",\"z\":null}",
	    "redact: the value given is left as it was");
	is_str(dump(au_jv_redact_names(jv_copy(v), globs)), "{\"id\":1,"
	    "\"API_Key\":\"k\",\"args\":{\"text\":\"t\",\"auth\":{\"token\":"
	    "[1]},\"list\":[{\"password\":\"p\"},2]},\"authorization\":\"b\","
	    "\"z\":null}", "redact: other globs, nothing matches");
	jv_free(v);
	v = jv_parse("{\"type\":\"tool.call\",\"args\":{\"a\":[{\"b\":1}],"
	    "\"keep\":\"x\"}}");
	r = au_jv_redact_names(jv_copy(v), NULL);
	ok(jv_identical(jv_copy(v), jv_copy(r)),
	    "redact: nothing secret, the very same value back");
	jv_free(r);
	r = au_jv_redact_names(jv_copy(v), globs);
	ok(jv_identical(jv_copy(v), r), "redact: no match, the same value");
	v = jv_object_set(v, jv_string("Long_Spinning_Name_Over_Sixty_Four_"
	    "Bytes_Long_To_Lower_Off_The_Stack"), jv_true());
	is_str(dump(au_jv_redact_names(v, globs)), "{\"type\":\"tool.call\","
	    "\"args\":{\"a\":[{\"b\":1}],\"keep\":\"x\"},\"Long_Spinning_"
	    "Name_Over_Sixty_Four_Bytes_Long_To_Lower_Off_The_Stack\":"
	    "\"[REDACTED]\"}", "redact: a long name, matched all the same");
	v = jv_parse("{\"aXb\":0,\"ab\":0,\"axxbx\":0,\"abab\":0,\"ba\":0,"
	    "\"pre_\":0,\"_suf\":0,\"exact\":0,\"exacto\":0,\"q1q\":0,"
	    "\"q12q\":0,\"cz\":0,\"bz\":0,\"**\":0}");
	is_str(dump(au_jv_redact_names(v, mixed)), "{\"aXb\":\"[REDACTED]\","
	    "\"ab\":\"[REDACTED]\",\"axxbx\":0,\"abab\":\"[REDACTED]\","
	    "\"ba\":0,\"pre_\":\"[REDACTED]\",\"_suf\":\"[REDACTED]\","
	    "\"exact\":\"[REDACTED]\",\"exacto\":0,\"q1q\":\"[REDACTED]\","
	    "\"q12q\":0,\"cz\":0,\"bz\":\"[REDACTED]\",\"**\":\"[REDACTED]\"}",
	    "redact: globs with *, ? and [], as fnmatch matches them");
}

int
main(void)
{
	test_dump_scalars();
	test_dump_strings();
	test_dump_nested();
	test_dump_roundtrip();
	test_json_str();
	test_utf8();
	test_check();
	test_positions();
	test_accessors();
	test_redact();
	return done();
}
