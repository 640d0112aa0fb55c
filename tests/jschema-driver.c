/*
 * jschema-driver.c - lib/jschema.c from the command line, for the
 * differential test (tests/jschema-diff) and the benchmark
 * (tests/bench/jschema); built by make, never installed.
 *
 *   jschema-driver [-e] [-n N]
 *
 * Reads groups, one per line: {"schema": S, "tests": [{"data": I}, ...]}
 * (other fields ignored).  For each prints {"valid": [true, false, ...]},
 * one verdict per test, with -e also "errors": [[...], ...] (and exit 70
 * if a verdict given with errors is not the one given without, or if an
 * instance has errors only when valid), or {"error": "..."} when S does
 * not compile.  With -n it validates every
 * instance N times, prints nothing per group, and ends with one line:
 * "VALIDATIONS SECONDS" (compiling not counted).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentutils.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct au_jschema *s;
	struct au_in *in;
	struct au_rec rec;
	long reps = 0, r, count = 0;
	int opt, showerr = 0, i, len, rc;
	char line[64];
	double spent = 0, t0;
	jv tests, data, out, verdicts, errs, e;

	au_setprog(argv[0]);
	while ((opt = getopt(argc, argv, "en:")) != -1) {
		if (opt == 'e')
			showerr = 1;
		else if (opt == 'n' && (reps = atol(optarg)) > 0)
			continue;
		else
			au_die(EX_USAGE, "usage: jschema-driver [-e] [-n N]");
	}
	au_out_init();
	in = au_in_fdopen(0, "<stdin>");
	while (au_in_next(in, &rec)) {
		if (au_jschema_compile(jv_object_get(jv_copy(rec.v),
		    jv_string("schema")), &s) != 0) {
			if (reps == 0) {
				out = jv_object_set(jv_object(),
				    jv_string("error"),
				    jv_string(au_errmsg()));
				au_out_rec(out);
				jv_free(out);
			}
			jv_free(rec.v);
			continue;
		}
		tests = jv_object_get(rec.v, jv_string("tests"));
		len = jv_get_kind(tests) == JV_KIND_ARRAY ?
		    jv_array_length(jv_copy(tests)) : 0;
		verdicts = jv_array();
		errs = jv_array();
		for (i = 0; i < len; i++) {
			data = jv_object_get(jv_array_get(jv_copy(tests), i),
			    jv_string("data"));
			if (reps > 0) {
				t0 = now();
				for (r = 0; r < reps; r++)
					au_jschema_validate(s, data, NULL);
				spent += now() - t0;
				count += reps;
			} else if (showerr) {
				r = au_jschema_validate(s, data, &e);
				if (r != au_jschema_validate(s, data, NULL) ||
				    (r == 0) != (jv_array_length(jv_copy(e)) ==
				    0))
					au_die(EX_SOFTWARE, "line %ld: the "
					    "verdicts with and without errors "
					    "differ", rec.line);
				verdicts = jv_array_append(verdicts,
				    jv_bool(!r));
				errs = jv_array_append(errs, e);
			} else {
				verdicts = jv_array_append(verdicts,
				    jv_bool(!au_jschema_validate(s, data,
				    NULL)));
			}
			jv_free(data);
		}
		jv_free(tests);
		au_jschema_free(s);
		out = jv_object_set(jv_object(), jv_string("valid"), verdicts);
		if (showerr)
			out = jv_object_set(out, jv_string("errors"), errs);
		else
			jv_free(errs);
		if (reps == 0)
			au_out_rec(out);
		jv_free(out);
	}
	if (reps > 0) {
		snprintf(line, sizeof line, "%ld %.6f", count, spent);
		au_out_line(line, strlen(line));
	}
	rc = au_in_status(in);
	au_in_close(in);
	au_out_close();
	return rc;
}
