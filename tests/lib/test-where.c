/*
 * test-where.c - where.c: compiling jq expressions (good ones, syntax
 * errors and unknown functions with au_errmsg set, au_xwhere_new dying
 * with 64), and au_where_test's answers: true, false, no output, only the
 * first output counting, jq runtime errors as -1 with the message, and
 * one compiled expression reused over many records, errors included;
 * au_where_all's every result, and those before an error.
 */
#define _XOPEN_SOURCE 700
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

/* Test expression expr on the JSON text doc. */
static int
test1(const char *expr, const char *doc)
{
	struct au_where *w = au_where_new(expr);
	jv v = jv_parse(doc);
	int r = w ? au_where_test(w, v) : -2;

	jv_free(v);
	au_where_free(w);
	return r;
}

static void
test_compile(void)
{
	struct au_where *w;

	w = au_where_new(".a == 1");
	ok(w != NULL, "new: a good expression compiles");
	au_where_free(w);

	au_seterr(0, "%s", "");
	w = au_where_new("select(");
	ok(w == NULL, "new: a syntax error is NULL");
	ok(strstr(au_errmsg(), "syntax error") != NULL,
	    "new: errmsg says syntax error (%s)", au_errmsg());
	ok(strncmp(au_errmsg(), "jq: ", 4) != 0 &&
	    strstr(au_errmsg(), "compile error") == NULL,
	    "new: without jq's prefix and summary");
	ok(strchr(au_errmsg(), '\n') == NULL,
	    "new: errmsg is one line (%s)", au_quote(au_errmsg()));

	au_seterr(0, "%s", "");
	w = au_where_new("nosuchfn(1)");
	ok(w == NULL, "new: an unknown function is NULL");
	ok(strstr(au_errmsg(), "nosuchfn/1 is not defined") != NULL,
	    "new: errmsg names it (%s)", au_errmsg());

	w = au_where_new(".a |");
	ok(w == NULL && au_errmsg()[0] != '\0',
	    "new: a dangling pipe is NULL with a message");
	au_where_free(NULL);
	ok(1, "free: NULL is harmless");
}

static void
test_answers(void)
{
	is_int(test1(".a == 1", "{\"a\":1}"), 1, "test: true");
	is_int(test1(".a == 1", "{\"a\":2}"), 0, "test: false");
	is_int(test1(".a == 1", "{}"), 0, "test: absent field");
	is_int(test1("empty", "{}"), 0, "test: no output is 0");
	is_int(test1("null", "{}"), 0, "test: null is 0");
	is_int(test1("false", "{}"), 0, "test: false is 0");
	is_int(test1("0", "{}"), 1, "test: 0 is truthy");
	is_int(test1("\"\"", "{}"), 1, "test: \"\" is truthy");
	is_int(test1("[]", "{}"), 1, "test: [] is truthy");
	is_int(test1(".", "{}"), 1, "test: the record itself");
	is_int(test1("false, true", "{}"), 0, "test: only the first output");
	is_int(test1("true, false", "{}"), 1, "test: only the first output "
	    "again");
	is_int(test1("select(.n > 1)", "{\"n\":2}"), 1, "test: select kept");
	is_int(test1("select(.n > 1)", "{\"n\":1}"), 0, "test: select "
	    "dropped");
	is_int(test1(".tags | any(. == \"x\")", "{\"tags\":[\"a\",\"x\"]}"),
	    1, "test: builtins work");
	is_int(test1(".s | test(\"^ab+c$\")", "{\"s\":\"abbc\"}"), 1,
	    "test: regular expressions work");
}

static void
test_errors(void)
{
	struct au_where *w = au_where_new(".a.b == 1");
	jv str = jv_parse("{\"a\":\"x\"}");
	jv good = jv_parse("{\"a\":{\"b\":1}}");

	is_int(au_where_test(w, str), -1, "error: indexing a string is -1");
	ok(strstr(au_errmsg(), "Cannot index string with") != NULL &&
	    strstr(au_errmsg(), "\"b\"") != NULL,
	    "error: errmsg is jq's message (%s)", au_errmsg());
	is_int(au_where_test(w, good), 1, "error: the next record is fine");
	is_int(au_where_test(w, str), -1, "error: and the bad one again");
	ok(jv_get_refcnt(str) == 1 && jv_get_refcnt(good) == 1,
	    "test borrows its record");
	ok(strcmp(au_jv_str(str, "a"), "x") == 0,
	    "the record is unchanged after an error");
	jv_free(str);
	jv_free(good);
	au_where_free(w);

	is_int(test1("error(\"boom\")", "{}"), -1, "error: error(\"boom\")");
	is_str(au_errmsg(), "boom", "error: its message");
	is_int(test1("error({\"x\":1})", "{}"), -1, "error: error(object)");
	is_str(au_errmsg(), "{\"x\":1} (not a string)",
	    "error: a message that is not a string");
	is_int(test1(".n + \"s\"", "{\"n\":1}"), -1, "error: number + string");
	ok(strstr(au_errmsg(), "cannot be added") != NULL,
	    "error: says what (%s)", au_errmsg());
	is_int(test1("empty, error(\"late\")", "{}"), -1,
	    "error: an error as the first output counts");
	is_int(test1("true, error(\"late\")", "{}"), 1,
	    "error: an error after the first output does not");
}

static void
test_reuse(void)
{
	struct au_where *w = au_where_new(
	    "if .n % 1000 == 999 then error(\"bad\") else .n % 3 == 0 end");
	int i, yes = 0, no = 0, err = 0, r;
	jv v;

	for (i = 0; i < 10000; i++) {
		v = jv_object_set(jv_object(), jv_string("n"), jv_number(i));
		r = au_where_test(w, v);
		if (r == 1)
			yes++;
		else if (r == 0)
			no++;
		else
			err++;
		jv_free(v);
	}
	is_int(yes, 3330, "reuse: 10000 records, multiples of 3");
	is_int(no, 6660, "reuse: the others");
	is_int(err, 10, "reuse: and 10 errors in between");
	au_where_free(w);
}

/* au_where_all of expr on doc, as compact JSON (malloc'd), and its
 * answer in *rc. */
static char *
all1(const char *expr, const char *doc, int *rc)
{
	struct au_where *w = au_where_new(expr);
	struct au_buf b = AU_BUF_INIT;
	jv v = jv_parse(doc), out;

	*rc = au_where_all(w, v, &out);
	au_json_dump(&b, out);
	ok(jv_get_refcnt(v) == 1, "all: borrows its record (%s)", expr);
	jv_free(out);
	jv_free(v);
	au_where_free(w);
	return b.s;
}

static void
test_all(void)
{
	int rc;

	is_str_free(all1("path(.a, .b[1].c)", "{}", &rc),
	    "[[\"a\"],[\"b\",1,\"c\"]]", "all: every path");
	is_int(rc, 0, "all: 0");
	is_str_free(all1("empty", "{}", &rc), "[]", "all: no output");
	is_int(rc, 0, "all: no output is 0");
	is_str_free(all1("path(.m[].c)", "{\"m\":[{\"c\":1},\"s\"]}",
	    &rc), "[[\"m\",0,\"c\"]]", "all: the results before an error");
	is_int(rc, -1, "all: then -1");
	ok(strstr(au_errmsg(), "Cannot index string") != NULL,
	    "all: with jq's message (%s)", au_errmsg());
	is_str_free(all1("error({\"x\":1})", "{}", &rc), "[]",
	    "all: an error first");
	is_str(au_errmsg(), "{\"x\":1} (not a string)",
	    "all: a message that is not a string");
}

static void
xwhere_bad(void)
{
	au_setprog("test-where");
	au_xwhere_new("(");
}

static void
test_xwhere(void)
{
	struct au_where *w;
	struct child c;
	size_t len;

	child_run(xwhere_bad, &c);
	len = strlen(c.err);
	ok(c.code == EX_USAGE, "xwhere: a bad expression exits 64");
	ok(strncmp(c.err, "test-where: --where: ", 21) == 0 &&
	    strstr(c.err, "syntax error") != NULL,
	    "xwhere: \"prog: --where: syntax error...\"");
	ok(len > 0 && strchr(c.err, '\n') == c.err + len - 1,
	    "xwhere: the message is one line (%s)", au_quote(c.err));
	w = au_xwhere_new(".");
	ok(w != NULL, "xwhere: a good one compiles");
	au_where_free(w);
}

int
main(void)
{
	test_compile();
	test_answers();
	test_errors();
	test_reuse();
	test_all();
	test_xwhere();
	return done();
}
