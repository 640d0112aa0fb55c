/*
 * fuzz-cfg.c - the configuration readers built on cfg.c, each from a
 * file as a program meets it: the first byte picks which, the rest is the
 * file.  0 models.json (au_mf_load), 1 policy.json (au_tg_policy_parse,
 * from memory), 2 mcp.json and 3 a ToolSpec in tools.d (au_tg_load).
 * Each problem noted must be a string "file:line: what".
 */
#include <sys/stat.h>

#include "fuzz.h"

static void
check(jv problems)
{
	const char *s;

	jv_array_foreach(problems, i, p) {
		if (jv_get_kind(p) != JV_KIND_STRING)
			abort();
		s = jv_string_value(p);
		if (strncmp(s, fuzz_dir(), strlen(fuzz_dir())) != 0 &&
		    strncmp(s, "fuzz:", 5) != 0)
			abort();
		jv_free(p);
	}
	jv_free(problems);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char file[320], tools[300];
	struct au_mf_conf *mf;
	struct au_tg_policy *pol;
	struct au_tg_reg *reg;
	jv problems;

	if (size < 1)
		return 0;
	problems = jv_array();
	snprintf(tools, sizeof tools, "%s/tools.d", fuzz_dir());
	snprintf(file, sizeof file, "%s/%s", data[0] % 4 == 3 ? tools :
	    fuzz_dir(), data[0] % 4 == 3 ? "tool.json" : "conf.json");
	mkdir(tools, 0700);
	switch (data[0] % 4) {
	case 0:
		fuzz_file(file, data + 1, size - 1);
		if (au_mf_load(file, &mf, &problems) == 0)
			au_mf_free(mf);
		break;
	case 1:
		if (au_tg_policy_parse("fuzz", (const char *)data + 1,
		    size - 1, &pol, &problems) == 0)
			au_tg_policy_free(pol);
		break;
	default:
		/* The ToolSpecs are read before mcp.json, which for them
		 * is missing (66) and never read. */
		fuzz_file(file, data + 1, size - 1);
		if (au_tg_load(tools, data[0] % 4 == 2 ? file : tools,
		    &reg, &problems) == 0)
			au_tg_free(reg);
		break;
	}
	check(problems);
	unlink(file);
	rmdir(tools);
	return 0;
}
