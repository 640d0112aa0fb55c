/*
 * fuzz-mcp.c - mcp.c's handling of what a server says, through the stdio
 * transport as a program meets it: the server is cat(1) writing the input
 * (lines of JSON-RPC) back, whatever it is asked.  The session is opened
 * (our requests are numbered from 1: initialize), then tools/list,
 * tools/call and ping are asked of it, each taking its answer, or the
 * session's end, from what is left.  The MCP functions are reached only
 * through a transport, and this is the smallest real one.
 */
#include "fuzz.h"

static void
notify(void *arg, const char *method, jv params)
{
	(void)arg;
	if (method == NULL || !jv_is_valid(params))
		abort();
}

static void
note(void *arg, const char *msg)
{
	(void)arg;
	if (msg == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[300];
	char *argv[] = { "cat", path, NULL };
	struct au_mcp_conf c = { 0 };
	struct au_mcp *m;
	jv v;

	snprintf(path, sizeof path, "%s/server", fuzz_dir());
	fuzz_file(path, data, size);
	c.argv = argv;
	c.timeout_ms = 2000;
	c.grace_ms = 500;
	c.max_msg = 4096;
	c.notify = notify;
	c.note = note;
	if (au_mcp_open(&c, &m) == 0) {
		au_mcp_tools(m, &v);
		jv_free(v);
		au_mcp_call(m, "t", jv_object(), 0, &v);
		jv_free(v);
		au_mcp_ping(m);
		au_mcp_close(m);
	}
	unlink(path);
	return 0;
}
