/*
 * fuzz-jschema.c - jschema.c's compiler and validator: the input is a
 * schema, a NUL byte and an instance, each JSON text read as every
 * agentutils file is (au_json_check, then jq's parser).  A schema that
 * compiles must give each instance one verdict, the same with errors
 * asked for as without, with errors exactly when invalid.
 */
#include "fuzz.h"

static jv
parse(const char *s, size_t n)
{
	size_t at;

	if (au_json_check(s, n, &at) != NULL)
		return jv_invalid();
	return jv_parse_sized(s, (int)n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct au_jschema *js;
	const char *a, *b;
	size_t alen, blen;
	jv schema, inst, errors;
	int plain, rc;

	fuzz_split(data, size, &a, &alen, &b, &blen);
	schema = parse(a, alen);
	if (!jv_is_valid(schema)) {
		jv_free(schema);
		return 0;
	}
	if (au_jschema_compile(schema, &js) != 0)
		return 0;
	inst = parse(b, blen);
	if (jv_is_valid(inst)) {
		plain = au_jschema_validate(js, inst, NULL);
		rc = au_jschema_validate(js, inst, &errors);
		if (rc != plain || (rc == 0) != (jv_array_length(errors) == 0))
			abort();
	}
	jv_free(inst);
	au_jschema_free(js);
	return 0;
}
