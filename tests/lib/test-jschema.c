/*
 * test-jschema.c - jschema.c: for every keyword, instances that pass and
 * instances that fail (a table of schema, instance, verdict, each also
 * checked for the same verdict with and without errors asked for); the
 * errors' instance and schema pointers and messages; schemas refused
 * when compiling, each with the pointer it names (bad keyword values,
 * bad regular expressions, $refs that lead nowhere or loop); ECMA-262
 * readings of patterns; the cap on errors.
 */
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"
#include "tap.h"

static jv
parse(const char *text)
{
	jv v = jv_parse(text);

	if (!jv_is_valid(v)) {
		printf("Bail out! bad JSON in the test: %s\n", text);
		exit(2);
	}
	return v;
}

/* Whether inst is valid against schema: 1 or 0; -1 when the schema does
 * not compile; -2 when the verdicts with and without errors differ, or
 * a valid instance has errors. */
static int
verdict(const char *schema, const char *inst)
{
	struct au_jschema *s;
	jv v, errs;
	int quick, full, n;

	if (au_jschema_compile(parse(schema), &s) != 0)
		return -1;
	v = parse(inst);
	quick = au_jschema_validate(s, v, NULL);
	full = au_jschema_validate(s, v, &errs);
	n = jv_array_length(errs);
	jv_free(v);
	au_jschema_free(s);
	if (quick != full || (full == 0) != (n == 0))
		return -2;
	return !full;
}

/* The errors for inst as compact JSON, or the compile error. */
static const char *
errors(const char *schema, const char *inst)
{
	static char *last;
	struct au_jschema *s;
	struct au_buf b = AU_BUF_INIT;
	jv v, errs;

	free(last);
	if (au_jschema_compile(parse(schema), &s) != 0)
		return last = au_xstrdup(au_errmsg());
	v = parse(inst);
	au_jschema_validate(s, v, &errs);
	au_buf_adds(&b, "");
	au_json_dump(&b, errs);
	jv_free(errs);
	jv_free(v);
	au_jschema_free(s);
	return last = b.s;
}

/* The message of a schema that does not compile, or "compiled". */
static const char *
refused(const char *schema)
{
	struct au_jschema *s;
	int rc = au_jschema_compile(parse(schema), &s);

	if (rc == 0) {
		au_jschema_free(s);
		return "compiled";
	}
	if (rc != EX_DATAERR)
		return "not 65";
	return au_errmsg();
}

static const struct {
	const char *schema, *inst;
	int valid;
} cases[] = {
	/* boolean schemas */
	{ "true", "{\"a\":1}", 1 },
	{ "false", "null", 0 },
	{ "{}", "[1,\"x\"]", 1 },
	/* type */
	{ "{\"type\":\"null\"}", "null", 1 },
	{ "{\"type\":\"null\"}", "false", 0 },
	{ "{\"type\":\"boolean\"}", "true", 1 },
	{ "{\"type\":\"boolean\"}", "0", 0 },
	{ "{\"type\":\"object\"}", "{}", 1 },
	{ "{\"type\":\"object\"}", "[]", 0 },
	{ "{\"type\":\"array\"}", "[]", 1 },
	{ "{\"type\":\"array\"}", "{}", 0 },
	{ "{\"type\":\"number\"}", "1.5", 1 },
	{ "{\"type\":\"number\"}", "\"1\"", 0 },
	{ "{\"type\":\"string\"}", "\"\"", 1 },
	{ "{\"type\":\"string\"}", "null", 0 },
	{ "{\"type\":\"integer\"}", "3", 1 },
	{ "{\"type\":\"integer\"}", "1.0", 1 },
	{ "{\"type\":\"integer\"}", "-0", 1 },
	{ "{\"type\":\"integer\"}", "1e300", 1 },
	{ "{\"type\":\"integer\"}", "1.5", 0 },
	{ "{\"type\":\"integer\"}", "true", 0 },
	{ "{\"type\":[\"string\",\"null\"]}", "null", 1 },
	{ "{\"type\":[\"string\",\"null\"]}", "\"a\"", 1 },
	{ "{\"type\":[\"string\",\"null\"]}", "0", 0 },
	{ "{\"type\":[\"integer\",\"boolean\"]}", "2.0", 1 },
	/* enum and const: JSON equality, 1 and 1.0 equal, true not 1 */
	{ "{\"enum\":[1,\"a\",null]}", "1.0", 1 },
	{ "{\"enum\":[1,\"a\",null]}", "null", 1 },
	{ "{\"enum\":[1,\"a\",null]}", "true", 0 },
	{ "{\"enum\":[1,\"a\",null]}", "\"A\"", 0 },
	{ "{\"enum\":[[1,{\"b\":2}]]}", "[1.0,{\"b\":2.0}]", 1 },
	{ "{\"enum\":[[1,{\"b\":2}]]}", "[1,{\"b\":2,\"c\":3}]", 0 },
	{ "{\"enum\":[]}", "1", 0 },
	{ "{\"enum\":[false]}", "0", 0 },
	{ "{\"enum\":[0]}", "false", 0 },
	{ "{\"const\":{\"a\":[1,2]}}", "{\"a\":[1,2.0]}", 1 },
	{ "{\"const\":{\"a\":[1,2]}}", "{\"a\":[2,1]}", 0 },
	{ "{\"const\":null}", "null", 1 },
	{ "{\"const\":null}", "false", 0 },
	{ "{\"const\":\"\\u00e9\"}", "\"\\u00e9\"", 1 },
	/* numbers */
	{ "{\"minimum\":1.5}", "1.5", 1 },
	{ "{\"minimum\":1.5}", "1.4", 0 },
	{ "{\"minimum\":1.5}", "\"0\"", 1 },
	{ "{\"maximum\":3}", "3.0", 1 },
	{ "{\"maximum\":3}", "3.0001", 0 },
	{ "{\"exclusiveMinimum\":0}", "0.0001", 1 },
	{ "{\"exclusiveMinimum\":0}", "0", 0 },
	{ "{\"exclusiveMaximum\":-1}", "-1.5", 1 },
	{ "{\"exclusiveMaximum\":-1}", "-1", 0 },
	{ "{\"minimum\":0,\"exclusiveMaximum\":1}", "0", 1 },
	{ "{\"minimum\":0,\"exclusiveMaximum\":1}", "1", 0 },
	{ "{\"multipleOf\":2}", "10", 1 },
	{ "{\"multipleOf\":2}", "7", 0 },
	{ "{\"multipleOf\":2}", "4.0", 1 },
	{ "{\"multipleOf\":1.5}", "4.5", 1 },
	{ "{\"multipleOf\":1.5}", "35", 0 },
	{ "{\"multipleOf\":0.0001}", "0.0075", 1 },
	{ "{\"multipleOf\":0.01}", "4.35", 0 },
	{ "{\"multipleOf\":0.5}", "-2.5", 1 },
	{ "{\"multipleOf\":0.123456789}", "1e308", 0 },
	{ "{\"multipleOf\":3}", "9007199254740991", 0 },
	{ "{\"multipleOf\":1e-300}", "1", 1 },
	/* strings: lengths in code points */
	{ "{\"minLength\":2}", "\"ab\"", 1 },
	{ "{\"minLength\":2}", "\"a\"", 0 },
	{ "{\"maxLength\":2}", "\"\\u00e9\\u00e9\"", 1 },
	{ "{\"maxLength\":2}", "\"\\ud83d\\ude00\\ud83d\\ude00\"", 1 },
	{ "{\"maxLength\":1}", "\"\\ud83d\\ude00\\ud83d\\ude00\"", 0 },
	{ "{\"maxLength\":2}", "\"abc\"", 0 },
	{ "{\"minLength\":2.0}", "\"ab\"", 1 },
	{ "{\"minLength\":5}", "12", 1 },
	{ "{\"maxLength\":0}", "\"\"", 1 },
	/* pattern: ECMA-262, not anchored */
	{ "{\"pattern\":\"b+\"}", "\"abbc\"", 1 },
	{ "{\"pattern\":\"^b+$\"}", "\"abbc\"", 0 },
	{ "{\"pattern\":\"^a\"}", "3", 1 },
	{ "{\"pattern\":\"^[a-z]+$\"}", "\"abc\\n\"", 0 },
	{ "{\"pattern\":\"^abc$\"}", "\"x\\nabc\"", 0 },
	{ "{\"pattern\":\"^a.c$\"}", "\"a\\nc\"", 0 },
	{ "{\"pattern\":\"^a.c$\"}", "\"a\\rc\"", 0 },
	{ "{\"pattern\":\"^a.c$\"}", "\"a\\u00e9c\"", 1 },
	{ "{\"pattern\":\"^\\\\d+$\"}", "\"123\"", 1 },
	{ "{\"pattern\":\"^\\\\d+$\"}", "\"\\u0661\"", 0 },
	{ "{\"pattern\":\"^\\\\w+$\"}", "\"\\u00e9\"", 0 },
	{ "{\"pattern\":\"^\\\\s$\"}", "\"\\u00a0\"", 1 },
	{ "{\"pattern\":\"^\\\\s$\"}", "\"\\ufeff\"", 1 },
	{ "{\"pattern\":\"^\\\\s$\"}", "\"\\u2003\"", 1 },
	{ "{\"pattern\":\"^\\\\s$\"}", "\"\\u0001\"", 0 },
	{ "{\"pattern\":\"^\\\\S$\"}", "\"\\ufeff\"", 0 },
	{ "{\"pattern\":\"^\\\\S$\"}", "\"\\u2013\"", 1 },
	{ "{\"pattern\":\"^[\\\\sx]+$\"}", "\" x\\ufeff\"", 1 },
	{ "{\"pattern\":\"^[a\\\\S]+$\"}", "\"ab\"", 1 },
	{ "{\"pattern\":\"^[a\\\\S]+$\"}", "\"a b\"", 0 },
	{ "{\"pattern\":\"^\\\\cC\\\\t$\"}", "\"\\u0003\\t\"", 1 },
	{ "{\"pattern\":\"^a.c$\"}", "\"a\\u2028c\"", 0 },
	{ "{\"pattern\":\"\\\\p{Letter}cole\"}", "\"l'\\u00e9cole\"", 1 },
	{ "{\"pattern\":\"^[a[b]]$\"}", "\"b]\"", 1 },
	{ "{\"pattern\":\"^\\\\u0041$\"}", "\"A\"", 1 },
	{ "{\"pattern\":\"^[^]$\"}", "\"\\n\"", 1 },
	{ "{\"pattern\":\"[]\"}", "\"\"", 0 },
	{ "{\"pattern\":\"^[[]$\"}", "\"[\"", 1 },
	{ "{\"pattern\":\"^[a&&b]$\"}", "\"&\"", 1 },
	{ "{\"pattern\":\"^[$^.]+$\"}", "\"$^.\"", 1 },
	{ "{\"pattern\":\"^\\\\$\\\\.$\"}", "\"$.\"", 1 },
	{ "{\"pattern\":\"^(?<y>\\\\d{4})-\\\\k<y>$\"}", "\"2024-2024\"", 1 },
	{ "{\"pattern\":\"(?<!a)b\"}", "\"ab\"", 0 },
	{ "{\"pattern\":\"\\\\p{L}\"}", "\"\\u00e9\"", 1 },
	/* arrays */
	{ "{\"minItems\":1}", "[]", 0 },
	{ "{\"minItems\":1}", "[0]", 1 },
	{ "{\"maxItems\":1}", "[0,1]", 0 },
	{ "{\"maxItems\":1}", "{\"a\":1,\"b\":2}", 1 },
	{ "{\"uniqueItems\":true}", "[1,2,3]", 1 },
	{ "{\"uniqueItems\":true}", "[1,2,1.0]", 0 },
	{ "{\"uniqueItems\":true}",
	  "[{\"a\":1,\"b\":2},{\"b\":2,\"a\":1}]", 0 },
	{ "{\"uniqueItems\":true}", "[[1],[true]]", 1 },
	{ "{\"uniqueItems\":true}", "[0,false,null,\"\",[],{}]", 1 },
	{ "{\"uniqueItems\":false}", "[1,1]", 1 },
	{ "{\"uniqueItems\":true}",
	  "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]", 1 },
	{ "{\"uniqueItems\":true}",
	  "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,9.0]", 0 },
	{ "{\"uniqueItems\":true}",
	  "[[0],[1],[2],[3],[4],[5],[6],[7],[8],[9],[10],[11],[12],[13],"
	  "[14],[15],[16],[17],[18],{\"a\":[0]},{\"a\":[0.0]}]", 0 },
	{ "{\"items\":{\"type\":\"integer\"}}", "[1,2,3]", 1 },
	{ "{\"items\":{\"type\":\"integer\"}}", "[1,\"2\",3]", 0 },
	{ "{\"items\":false}", "[]", 1 },
	{ "{\"items\":false}", "[1]", 0 },
	{ "{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"number\"}]}",
	  "[\"a\",1,null]", 1 },
	{ "{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"number\"}]}",
	  "[1]", 0 },
	{ "{\"prefixItems\":[{\"type\":\"string\"}],\"items\":false}",
	  "[\"a\"]", 1 },
	{ "{\"prefixItems\":[{\"type\":\"string\"}],\"items\":false}",
	  "[\"a\",\"b\"]", 0 },
	{ "{\"prefixItems\":[true],\"items\":{\"type\":\"null\"}}",
	  "[1,null,null]", 1 },
	{ "{\"prefixItems\":[true],\"items\":{\"type\":\"null\"}}",
	  "[1,null,2]", 0 },
	{ "{\"contains\":{\"const\":3}}", "[1,2,3]", 1 },
	{ "{\"contains\":{\"const\":3}}", "[1,2]", 0 },
	{ "{\"contains\":{\"const\":3}}", "[]", 0 },
	{ "{\"contains\":{\"const\":3}}", "\"x\"", 1 },
	{ "{\"contains\":{\"const\":3},\"minContains\":2}", "[3,1,3]", 1 },
	{ "{\"contains\":{\"const\":3},\"minContains\":2}", "[3,1]", 0 },
	{ "{\"contains\":{\"const\":3},\"maxContains\":1}", "[3,1]", 1 },
	{ "{\"contains\":{\"const\":3},\"maxContains\":1}", "[3,3]", 0 },
	{ "{\"contains\":{\"const\":3},\"maxContains\":1}", "[1]", 0 },
	{ "{\"contains\":{\"const\":3},\"minContains\":0}", "[]", 1 },
	{ "{\"contains\":{\"const\":3},\"minContains\":0,\"maxContains\":1}",
	  "[3,3]", 0 },
	{ "{\"contains\":{\"const\":3},\"minContains\":2,\"maxContains\":3}",
	  "[3,3,3]", 1 },
	{ "{\"contains\":{\"const\":3},\"minContains\":2,\"maxContains\":3}",
	  "[3,3,3,3]", 0 },
	{ "{\"minContains\":2}", "[]", 1 },
	{ "{\"maxContains\":0}", "[1]", 1 },
	{ "{\"contains\":false}", "[1]", 0 },
	/* objects */
	{ "{\"required\":[\"a\",\"b\"]}", "{\"a\":1,\"b\":null}", 1 },
	{ "{\"required\":[\"a\",\"b\"]}", "{\"a\":1}", 0 },
	{ "{\"required\":[\"a\"]}", "[\"a\"]", 1 },
	{ "{\"required\":[]}", "{}", 1 },
	{ "{\"minProperties\":1}", "{}", 0 },
	{ "{\"maxProperties\":1}", "{\"a\":1,\"b\":2}", 0 },
	{ "{\"maxProperties\":1}", "{\"a\":1}", 1 },
	{ "{\"properties\":{\"a\":{\"type\":\"string\"}}}", "{\"a\":\"x\"}",
	  1 },
	{ "{\"properties\":{\"a\":{\"type\":\"string\"}}}", "{\"a\":1}", 0 },
	{ "{\"properties\":{\"a\":{\"type\":\"string\"}}}", "{\"b\":1}", 1 },
	{ "{\"properties\":{\"a\":false}}", "{\"a\":1}", 0 },
	{ "{\"properties\":{\"a/b~c\":{\"type\":\"null\"}}}",
	  "{\"a/b~c\":null}", 1 },
	{ "{\"patternProperties\":{\"^x-\":{\"type\":\"integer\"}}}",
	  "{\"x-a\":1,\"y\":\"s\"}", 1 },
	{ "{\"patternProperties\":{\"^x-\":{\"type\":\"integer\"}}}",
	  "{\"x-a\":\"s\"}", 0 },
	{ "{\"patternProperties\":{\"a\":{\"minimum\":2},"
	  "\"b\":{\"maximum\":3}}}",
	  "{\"ab\":2.5}", 1 },
	{ "{\"patternProperties\":{\"a\":{\"minimum\":2},"
	  "\"b\":{\"maximum\":3}}}",
	  "{\"ab\":4}", 0 },
	{ "{\"additionalProperties\":false}", "{}", 1 },
	{ "{\"additionalProperties\":false}", "{\"a\":1}", 0 },
	{ "{\"properties\":{\"a\":true},\"patternProperties\":{\"^b\":true},"
	  "\"additionalProperties\":false}", "{\"a\":1,\"bc\":2}", 1 },
	{ "{\"properties\":{\"a\":true},\"patternProperties\":{\"^b\":true},"
	  "\"additionalProperties\":false}", "{\"a\":1,\"cb\":2}", 0 },
	{ "{\"properties\":{\"a\":true},"
	  "\"additionalProperties\":{\"type\":\"string\"}}",
	  "{\"a\":1,\"b\":\"x\"}", 1 },
	{ "{\"properties\":{\"a\":true},"
	  "\"additionalProperties\":{\"type\":\"string\"}}",
	  "{\"a\":1,\"b\":2}", 0 },
	{ "{\"propertyNames\":{\"maxLength\":2}}", "{\"ab\":1}", 1 },
	{ "{\"propertyNames\":{\"maxLength\":2}}", "{\"abc\":1}", 0 },
	{ "{\"propertyNames\":{\"pattern\":\"^[a-z]+$\"}}", "{\"a1\":1}", 0 },
	{ "{\"propertyNames\":false}", "{}", 1 },
	{ "{\"propertyNames\":false}", "{\"a\":1}", 0 },
	{ "{\"dependentRequired\":{\"a\":[\"b\",\"c\"]}}",
	  "{\"a\":1,\"b\":1,\"c\":1}", 1 },
	{ "{\"dependentRequired\":{\"a\":[\"b\",\"c\"]}}", "{\"a\":1,\"b\":1}",
	  0 },
	{ "{\"dependentRequired\":{\"a\":[\"b\"]}}", "{\"b\":1}", 1 },
	{ "{\"dependentRequired\":{\"a\":[]}}", "{\"a\":1}", 1 },
	{ "{\"dependentSchemas\":{\"a\":{\"required\":[\"b\"]}}}",
	  "{\"a\":1,\"b\":2}", 1 },
	{ "{\"dependentSchemas\":{\"a\":{\"required\":[\"b\"]}}}", "{\"a\":1}",
	  0 },
	{ "{\"dependentSchemas\":{\"a\":false}}", "{\"b\":1}", 1 },
	{ "{\"dependentSchemas\":{\"a\":false}}", "{\"a\":1}", 0 },
	/* applicators */
	{ "{\"allOf\":[{\"minimum\":1},{\"maximum\":3}]}", "2", 1 },
	{ "{\"allOf\":[{\"minimum\":1},{\"maximum\":3}]}", "4", 0 },
	{ "{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":3}]}", "\"a\"", 1 },
	{ "{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":3}]}", "2", 0 },
	{ "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}", "2", 1 },
	{ "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}", "3.5", 1 },
	{ "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}", "4", 0 },
	{ "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}", "1.5", 0 },
	{ "{\"oneOf\":[true,true,false]}", "1", 0 },
	{ "{\"not\":{\"type\":\"null\"}}", "1", 1 },
	{ "{\"not\":{\"type\":\"null\"}}", "null", 0 },
	{ "{\"not\":true}", "1", 0 },
	{ "{\"not\":false}", "1", 1 },
	{ "{\"if\":{\"minimum\":10},\"then\":{\"multipleOf\":5},"
	  "\"else\":{\"maximum\":3}}", "15", 1 },
	{ "{\"if\":{\"minimum\":10},\"then\":{\"multipleOf\":5},"
	  "\"else\":{\"maximum\":3}}", "12", 0 },
	{ "{\"if\":{\"minimum\":10},\"then\":{\"multipleOf\":5},"
	  "\"else\":{\"maximum\":3}}", "2", 1 },
	{ "{\"if\":{\"minimum\":10},\"then\":{\"multipleOf\":5},"
	  "\"else\":{\"maximum\":3}}", "5", 0 },
	{ "{\"if\":false,\"then\":false}", "1", 1 },
	{ "{\"if\":true,\"else\":false}", "1", 1 },
	{ "{\"then\":false,\"else\":false}", "1", 1 },
	{ "{\"if\":false}", "1", 1 },
	/* format is an annotation; unknown keywords are ignored */
	{ "{\"format\":\"email\"}", "\"not an address\"", 1 },
	{ "{\"format\":\"date-time\"}", "\"yesterday\"", 1 },
	{ "{\"frobnicate\":{\"type\":\"string\"}}", "1", 1 },
	{ "{\"definitions\":{\"x\":{\"type\":\"string\"}},"
	  "\"$ref\":\"#/definitions/x\"}", "1", 0 },
	{ "{\"additionalItems\":false,\"items\":true}", "[1,2]", 1 },
	/* $ref: to $defs, the root, escaped and percent-encoded tokens,
	 * array members, with siblings, recursion */
	{ "{\"$defs\":{\"p\":{\"type\":\"integer\"}},\"$ref\":\"#/$defs/p\"}",
	  "1", 1 },
	{ "{\"$defs\":{\"p\":{\"type\":\"integer\"}},\"$ref\":\"#/$defs/p\"}",
	  "1.5", 0 },
	{ "{\"$defs\":{\"a~b\":{\"const\":1},\"c/d\":{\"const\":2}},"
	  "\"anyOf\":[{\"$ref\":\"#/$defs/a~0b\"},"
	  "{\"$ref\":\"#/$defs/c~1d\"}]}",
	  "2", 1 },
	{ "{\"$defs\":{\"a~b\":{\"const\":1},\"c/d\":{\"const\":2}},"
	  "\"anyOf\":[{\"$ref\":\"#/$defs/a~0b\"},"
	  "{\"$ref\":\"#/$defs/c~1d\"}]}",
	  "3", 0 },
	{ "{\"$defs\":{\"a b%\":{\"const\":1}},\"$ref\":\"#/$defs/a%20b%25\"}",
	  "1", 1 },
	{ "{\"$defs\":{\"a b%\":{\"const\":1}},\"$ref\":\"#/$defs/a%20b%25\"}",
	  "2", 0 },
	{ "{\"allOf\":[{\"const\":7}],\"$ref\":\"#/allOf/0\"}", "7", 1 },
	{ "{\"allOf\":[true,{\"const\":7}],\"not\":{\"$ref\":\"#/allOf/1\"}}",
	  "7", 0 },
	{ "{\"$defs\":{\"s\":{\"type\":\"string\"}},\"$ref\":\"#/$defs/s\","
	  "\"maxLength\":2}", "\"abc\"", 0 },
	{ "{\"properties\":{\"next\":{\"$ref\":\"#\"}},\"required\":[\"v\"]}",
	  "{\"v\":1,\"next\":{\"v\":2,\"next\":{\"v\":3}}}", 1 },
	{ "{\"properties\":{\"next\":{\"$ref\":\"#\"}},\"required\":[\"v\"]}",
	  "{\"v\":1,\"next\":{\"v\":2,\"next\":{}}}", 0 },
	{ "{\"$id\":\"https://example.com/s\",\"$defs\":{\"n\":{\"type\":"
	  "\"null\"}},\"$ref\":\"https://example.com/s#/$defs/n\"}", "null",
	  1 },
	{ "{\"$id\":\"https://example.com/s\",\"$defs\":{\"n\":{\"type\":"
	  "\"null\"}},\"$ref\":\"https://example.com/s#/$defs/n\"}", "0", 0 },
	{ "{\"$defs\":{\"t\":{\"type\":\"array\",\"items\":{\"anyOf\":["
	  "{\"type\":\"integer\"},{\"$ref\":\"#/$defs/t\"}]}}},"
	  "\"$ref\":\"#/$defs/t\"}", "[1,[2,[3,[]]]]", 1 },
	{ "{\"$defs\":{\"t\":{\"type\":\"array\",\"items\":{\"anyOf\":["
	  "{\"type\":\"integer\"},{\"$ref\":\"#/$defs/t\"}]}}},"
	  "\"$ref\":\"#/$defs/t\"}", "[1,[2,[\"3\"]]]", 0 },
	{ "{\"$ref\":\"#/$defs/a\",\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},"
	  "\"b\":{\"minimum\":5}}}", "4", 0 },
	{ "{\"propertyNames\":{\"$ref\":\"#\"},\"maxLength\":1}",
	  "{\"a\":{\"bc\":1}}", 1 },
	{ "{\"propertyNames\":{\"$ref\":\"#\"},\"maxLength\":1}",
	  "{\"ab\":1}", 0 },
};

static void
test_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		is_int(verdict(cases[i].schema, cases[i].inst), cases[i].valid,
		    "%s %s %s", cases[i].schema, cases[i].valid ? "accepts" :
		    "refuses", cases[i].inst);
}

static void
test_errors(void)
{
	is_str(errors("{\"type\":\"integer\"}", "1"), "[]",
	    "errors: none for a valid instance");
	is_str(errors("{\"type\":\"integer\"}", "\"1\""),
	    "[{\"instance\":\"\",\"schema\":\"/type\","
	    "\"error\":\"expected integer, got string\"}]",
	    "errors: the root's pointers are empty");
	is_str(errors("{\"type\":[\"string\",\"null\"]}", "1.5"),
	    "[{\"instance\":\"\",\"schema\":\"/type\","
	    "\"error\":\"expected null or string, got number\"}]",
	    "errors: a list of types");
	is_str(errors("{\"properties\":{\"a\":{\"items\":{\"type\":"
	    "\"integer\"}}}}", "{\"a\":[1,\"x\"]}"),
	    "[{\"instance\":\"/a/1\",\"schema\":\"/properties/a/items/type\","
	    "\"error\":\"expected integer, got string\"}]",
	    "errors: nested pointers");
	is_str(errors("{\"properties\":{\"a/b\":{\"properties\":{\"c~d\":"
	    "{\"type\":\"null\"}}}}}", "{\"a/b\":{\"c~d\":0}}"),
	    "[{\"instance\":\"/a~1b/c~0d\","
	    "\"schema\":\"/properties/a~1b/properties/c~0d/type\","
	    "\"error\":\"expected null, got number\"}]",
	    "errors: ~ and / escaped in both pointers");
	is_str(errors("{\"required\":[\"a\",\"b\"],\"properties\":{\"c\":"
	    "{\"minimum\":2}}}", "{\"c\":1}"),
	    "[{\"instance\":\"\",\"schema\":\"/required\","
	    "\"error\":\"missing required property \\\"a\\\"\"},"
	    "{\"instance\":\"\",\"schema\":\"/required\","
	    "\"error\":\"missing required property \\\"b\\\"\"},"
	    "{\"instance\":\"/c\",\"schema\":\"/properties/c/minimum\","
	    "\"error\":\"1 is less than the minimum 2\"}]",
	    "errors: every failure, not only the first");
	is_str(errors("{\"$defs\":{\"n\":{\"type\":\"number\"}},"
	    "\"items\":{\"$ref\":\"#/$defs/n\"}}", "[0,null]"),
	    "[{\"instance\":\"/1\",\"schema\":\"/$defs/n/type\","
	    "\"error\":\"expected number, got null\"}]",
	    "errors: through $ref, the keyword where it is defined");
	is_str(errors("{\"additionalProperties\":false}", "{\"x\":1}"),
	    "[{\"instance\":\"/x\",\"schema\":\"/additionalProperties\","
	    "\"error\":\"property \\\"x\\\" is not allowed\"}]",
	    "errors: an additional property, at its place");
	is_str(errors("{\"prefixItems\":[true],\"items\":false}", "[1,2]"),
	    "[{\"instance\":\"/1\",\"schema\":\"/items\","
	    "\"error\":\"no item allowed after the first 1\"}]",
	    "errors: items false");
	is_str(errors("{\"properties\":{\"a\":false}}", "{\"a\":1}"),
	    "[{\"instance\":\"/a\",\"schema\":\"/properties/a\","
	    "\"error\":\"no value is allowed here\"}]",
	    "errors: a false schema");
	is_str(errors("{\"minLength\":3,\"pattern\":\"^a\"}", "\"b\""),
	    "[{\"instance\":\"\",\"schema\":\"/minLength\","
	    "\"error\":\"length 1, less than the minimum 3\"},"
	    "{\"instance\":\"\",\"schema\":\"/pattern\","
	    "\"error\":\"\\\"b\\\" does not match the pattern "
	    "\\\"^a\\\"\"}]", "errors: minLength and pattern");
	is_str(errors("{\"exclusiveMaximum\":0.1,\"multipleOf\":0.25}",
	    "0.3"),
	    "[{\"instance\":\"\",\"schema\":\"/exclusiveMaximum\","
	    "\"error\":\"0.3 is not less than 0.1\"},"
	    "{\"instance\":\"\",\"schema\":\"/multipleOf\","
	    "\"error\":\"0.3 is not a multiple of 0.25\"}]",
	    "errors: numbers as JSON writes them");
	is_str(errors("{\"uniqueItems\":true,\"maxItems\":2}", "[1,2,1]"),
	    "[{\"instance\":\"\",\"schema\":\"/maxItems\","
	    "\"error\":\"item count 3, more than the maximum 2\"},"
	    "{\"instance\":\"\",\"schema\":\"/uniqueItems\","
	    "\"error\":\"items 0 and 2 are equal\"}]",
	    "errors: maxItems and uniqueItems");
	is_str(errors("{\"contains\":{\"type\":\"string\"},\"maxContains\":1}",
	    "[\"a\",\"b\"]"),
	    "[{\"instance\":\"\",\"schema\":\"/maxContains\","
	    "\"error\":\"contains matches 2, more than the maximum 1\"}]",
	    "errors: maxContains");
	is_str(errors("{\"contains\":{\"type\":\"string\"}}", "[1]"),
	    "[{\"instance\":\"\",\"schema\":\"/contains\","
	    "\"error\":\"no item matches the contains schema\"}]",
	    "errors: contains");
	is_str(errors("{\"oneOf\":[{\"minimum\":0},{\"maximum\":9},"
	    "{\"type\":\"number\"}]}", "5"),
	    "[{\"instance\":\"\",\"schema\":\"/oneOf\","
	    "\"error\":\"matches schemas 0 and 1, expected exactly one\"}]",
	    "errors: oneOf with two matches");
	is_str(errors("{\"anyOf\":[{\"type\":\"string\"},{\"type\":"
	    "\"null\"}]}", "5"),
	    "[{\"instance\":\"\",\"schema\":\"/anyOf\","
	    "\"error\":\"matches none of the 2 schemas\"}]",
	    "errors: anyOf");
	is_str(errors("{\"not\":{\"const\":5}}", "5"),
	    "[{\"instance\":\"\",\"schema\":\"/not\","
	    "\"error\":\"matches the schema it must not\"}]", "errors: not");
	is_str(errors("{\"if\":{\"type\":\"string\"},\"then\":{\"minLength\":"
	    "2}}", "\"a\""),
	    "[{\"instance\":\"\",\"schema\":\"/then/minLength\","
	    "\"error\":\"length 1, less than the minimum 2\"}]",
	    "errors: then, with its own pointer");
	is_str(errors("{\"dependentRequired\":{\"a\":[\"b\"]}}", "{\"a\":1}"),
	    "[{\"instance\":\"\",\"schema\":\"/dependentRequired\","
	    "\"error\":\"property \\\"a\\\" requires property \\\"b\\\"\"}]",
	    "errors: dependentRequired");
	is_str(errors("{\"propertyNames\":{\"maxLength\":1}}",
	    "{\"ab\":1}"),
	    "[{\"instance\":\"\",\"schema\":\"/propertyNames\","
	    "\"error\":\"property name \\\"ab\\\" is not allowed\"}]",
	    "errors: propertyNames, at the object");
	is_str(errors("{\"enum\":[\"a\",\"b\"],\"const\":\"a\"}", "\"c\""),
	    "[{\"instance\":\"\",\"schema\":\"/const\","
	    "\"error\":\"expected \\\"a\\\"\"},"
	    "{\"instance\":\"\",\"schema\":\"/enum\","
	    "\"error\":\"expected one of [\\\"a\\\",\\\"b\\\"]\"}]",
	    "errors: const and enum");
	is_str(errors("{\"patternProperties\":{\"^n\":{\"type\":\"number\"}}}",
	    "{\"n1\":\"x\"}"),
	    "[{\"instance\":\"/n1\",\"schema\":\"/patternProperties/^n/type\","
	    "\"error\":\"expected number, got string\"}]",
	    "errors: patternProperties");
}

/* More errors than the cap: exactly AU_JSCHEMA_MAXERR of them. */
static void
test_cap(void)
{
	struct au_jschema *s;
	jv a = jv_array(), errs;
	int i;

	for (i = 0; i < 3 * AU_JSCHEMA_MAXERR; i++)
		a = jv_array_append(a, jv_string("x"));
	is_int(au_jschema_compile(parse("{\"items\":{\"type\":\"integer\"}}"),
	    &s), 0, "cap: compiles");
	is_int(au_jschema_validate(s, a, &errs), 1, "cap: invalid");
	is_int(jv_array_length(errs), AU_JSCHEMA_MAXERR,
	    "cap: %d errors", AU_JSCHEMA_MAXERR);
	is_int(au_jschema_validate(s, a, NULL), 1, "cap: invalid, quietly");
	jv_free(a);
	au_jschema_free(s);
}

static void
test_refused(void)
{
	static const struct {
		const char *schema, *msg;
	} bad[] = {
		{ "1", "schema at \"\": expected a schema (an object or a "
		  "boolean)" },
		{ "{\"properties\":{\"a\":[]}}", "schema at "
		  "\"/properties/a\": expected a schema (an object or a "
		  "boolean)" },
		{ "{\"type\":\"strin\"}", "schema at \"/type\": unknown type "
		  "\"strin\"" },
		{ "{\"type\":[\"string\",\"string\"]}", "schema at \"/type\": "
		  "a type is named twice" },
		{ "{\"type\":[]}", "schema at \"/type\": expected at least "
		  "one type" },
		{ "{\"type\":[1]}", "schema at \"/type\": expected a string "
		  "or an array of strings" },
		{ "{\"enum\":1}", "schema at \"/enum\": expected an array" },
		{ "{\"minimum\":\"1\"}", "schema at \"/minimum\": expected a "
		  "number" },
		{ "{\"multipleOf\":0}", "schema at \"/multipleOf\": expected "
		  "a number greater than 0" },
		{ "{\"multipleOf\":-2}", "schema at \"/multipleOf\": expected "
		  "a number greater than 0" },
		{ "{\"minLength\":-1}", "schema at \"/minLength\": expected a "
		  "non-negative integer" },
		{ "{\"maxItems\":1.5}", "schema at \"/maxItems\": expected a "
		  "non-negative integer" },
		{ "{\"maxContains\":null}", "schema at \"/maxContains\": "
		  "expected a non-negative integer" },
		{ "{\"uniqueItems\":1}", "schema at \"/uniqueItems\": expected "
		  "a boolean" },
		{ "{\"pattern\":1}", "schema at \"/pattern\": expected a "
		  "string" },
		{ "{\"pattern\":\"a(b\"}", "schema at \"/pattern\": bad "
		  "regular expression \"a(b\": end pattern with unmatched "
		  "parenthesis" },
		{ "{\"items\":{\"pattern\":\"[z-a]\"}}", "schema at "
		  "\"/items/pattern\": bad regular expression \"[z-a]\": "
		  "empty range in char class" },
		{ "{\"patternProperties\":{\"*\":true}}", "schema at "
		  "\"/patternProperties/*\": bad regular expression \"*\": "
		  "target of repeat operator is not specified" },
		{ "{\"required\":[\"a\",1]}", "schema at \"/required\": "
		  "expected an array of strings" },
		{ "{\"required\":[\"a\",\"a\"]}", "schema at \"/required\": "
		  "a name is listed twice" },
		{ "{\"dependentRequired\":{\"a\":\"b\"}}", "schema at "
		  "\"/dependentRequired/a\": expected an array of strings" },
		{ "{\"dependentSchemas\":{\"a\":0}}", "schema at "
		  "\"/dependentSchemas/a\": expected a schema (an object or "
		  "a boolean)" },
		{ "{\"properties\":[]}", "schema at \"/properties\": expected "
		  "an object of schemas" },
		{ "{\"items\":[{}]}", "schema at \"/items\": expected a "
		  "schema (an object or a boolean)" },
		{ "{\"prefixItems\":[]}", "schema at \"/prefixItems\": "
		  "expected a non-empty array of schemas" },
		{ "{\"anyOf\":{}}", "schema at \"/anyOf\": expected a "
		  "non-empty array of schemas" },
		{ "{\"allOf\":[true,3]}", "schema at \"/allOf/1\": expected "
		  "a schema (an object or a boolean)" },
		{ "{\"$defs\":{\"x\":{\"minimum\":true}}}", "schema at "
		  "\"/$defs/x/minimum\": expected a number" },
		{ "{\"format\":7}", "schema at \"/format\": expected a "
		  "string" },
		{ "{\"unevaluatedProperties\":false}", "schema at "
		  "\"/unevaluatedProperties\": keyword not supported" },
		{ "{\"$dynamicRef\":\"#x\"}", "schema at \"/$dynamicRef\": "
		  "keyword not supported" },
		{ "{\"$ref\":3}", "schema at \"/$ref\": expected a string" },
		{ "{\"$ref\":\"#/$defs/nope\"}", "schema at \"/$ref\": $ref: "
		  "no such place in the schema" },
		{ "{\"$ref\":\"#/allOf/01\",\"allOf\":[true,true]}",
		  "schema at \"/$ref\": $ref: no such place in the schema" },
		{ "{\"$ref\":\"#/allOf/2\",\"allOf\":[true,true]}",
		  "schema at \"/$ref\": $ref: no such place in the schema" },
		{ "{\"$ref\":\"#/a~2\"}", "schema at \"/$ref\": $ref: no such "
		  "place in the schema" },
		{ "{\"$ref\":\"#anchor\"}", "schema at \"/$ref\": $ref: "
		  "expected a JSON pointer after '#'" },
		{ "{\"$ref\":\"#/a%zz\"}", "schema at \"/$ref\": $ref: "
		  "expected a JSON pointer after '#'" },
		{ "{\"$ref\":\"other.json#/a\"}", "schema at \"/$ref\": only "
		  "a $ref within the schema (\"#\" and a JSON pointer) is "
		  "supported" },
		{ "{\"$defs\":{\"x\":{\"$ref\":\"#/minimum\"}},\"minimum\":1}",
		  "schema at \"/$defs/x/$ref\": $ref: not a schema" },
		{ "{\"properties\":{\"a\":{\"$id\":\"b\",\"items\":{\"$ref\":"
		  "\"#\"}}}}", "schema at \"/properties/a/items/$ref\": $ref "
		  "inside a subschema with an $id of its own is not "
		  "supported" },
		{ "{\"$ref\":\"#\"}", "schema at \"\": $ref loop: \"\" -> "
		  "\"\"" },
		{ "{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"not\":"
		  "{\"$ref\":\"#/$defs/a\"}}}}", "schema at \"/$defs/a\": $ref "
		  "loop: \"/$defs/a\" -> \"/$defs/b\" -> \"/$defs/b/not\" -> "
		  "\"/$defs/a\"" },
		{ "{\"anyOf\":[{\"type\":\"string\"},{\"$ref\":\"#\"}]}",
		  "schema at \"\": $ref loop: \"\" -> \"/anyOf/1\" -> \"\"" },
		{ "{\"if\":{\"$ref\":\"#/then\"},\"then\":{\"$ref\":\"#/if\"}}",
		  "schema at \"/if\": $ref loop: \"/if\" -> \"/then\" -> "
		  "\"/if\"" },
		{ "{\"dependentSchemas\":{\"a\":{\"$ref\":\"#\"}}}",
		  "schema at \"\": $ref loop: \"\" -> \"/dependentSchemas/a\" "
		  "-> \"\"" },
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		is_str(refused(bad[i].schema), bad[i].msg, "refused: %s",
		    bad[i].schema);
	is_str(refused("{\"$schema\":\"https://json-schema.org/draft/"
	    "2020-12/schema\",\"$id\":\"urn:x\",\"$comment\":\"c\","
	    "\"$anchor\":\"a\",\"definitions\":{\"x\":1},\"dependencies\":"
	    "3}"), "compiled", "compiles: core keywords and unknown ones");
	is_str(refused("{\"$defs\":{\"l\":{\"type\":\"object\",\"properties\":"
	    "{\"next\":{\"$ref\":\"#/$defs/l\"}}}},\"$ref\":\"#/$defs/l\"}"),
	    "compiled", "compiles: recursion through an instance step");
	is_str(refused("{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},"
	    "\"b\":{\"$ref\":\"#/$defs/c\"},\"c\":true},"
	    "\"allOf\":[{\"$ref\":\"#/$defs/a\"},{\"$ref\":\"#/$defs/a\"}]}"),
	    "compiled", "compiles: a chain and a diamond of $refs");
}

int
main(void)
{
	test_cases();
	test_errors();
	test_cap();
	test_refused();
	return done();
}
