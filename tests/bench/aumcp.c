/*
 * aumcp - lib/mcp.c's side of tests/bench/mcp: the same calls as rawmcp
 * through au_mcp_open and au_mcp_call.
 *
 *   aumcp N COMMAND [ARG...]
 *   aumcp N URL
 *
 * starts COMMAND as an MCP server over stdio, or reaches the server at
 * URL (http://...) over Streamable HTTP, initializes the session, then
 * makes N
 * calls of the tool echo one after another, each checked for a result
 * that is not an error.  Prints the calls per second of the N calls and
 * the microseconds of CPU this process spent per call.
 * Exit 1 on any error.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "agentutils.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seconds of CPU this process has used, user and system. */
static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int
main(int argc, char **argv)
{
	struct au_mcp_conf conf = { 0 };
	struct au_mcp *m;
	long i, calls;
	double t, c;
	jv res;

	au_setprog("aumcp");
	if (argc < 3 || (calls = atol(argv[1])) < 1)
		au_die(1, "usage: aumcp N COMMAND [ARG...] | aumcp N URL");
	if (strncmp(argv[2], "http://", 7) == 0)
		conf.url = argv[2];
	else
		conf.argv = argv + 2;
	if (au_mcp_open(&conf, &m) != 0)
		au_die(1, "%s", au_errmsg());
	t = now();
	c = cpu();
	for (i = 0; i < calls; i++) {
		if (au_mcp_call(m, "echo", jv_object_set(jv_object(),
		    jv_string("text"), jv_string("hi")), 0, &res) != 0)
			au_die(1, "%s", au_errmsg());
		if (jv_equal(jv_object_get(jv_copy(res),
		    jv_string("isError")), jv_true()))
			au_die(1, "a call failed");
		jv_free(res);
	}
	t = now() - t;
	c = cpu() - c;
	printf("%.0f %.2f\n", calls / t, c * 1e6 / calls);
	return au_mcp_close(m) == 0 ? 0 : 1;
}
