/*
 * mfwire-driver.c - lib/mfwire.c and lib/sse.c from the command line,
 * for the tests that put them against the fake provider over HTTP
 * (tests/mfwire.bats); built by make, never installed.
 *
 *   mfwire-driver openai|anthropic body MODEL MAX_TOKENS [stream]
 *   mfwire-driver openai|anthropic parse|stream|error
 *
 * body reads a model.request record and prints the provider's body (exit
 * 65 and the message when it cannot be); parse reads a whole answer and
 * prints the normalized one; stream reads server-sent events, fed in
 * pieces of 1 to 7 bytes, and prints each delta, then "complete" if the
 * stream said so, then the result; error prints an error body's message.
 * Failures are "ERROR: ..." lines on standard output and exit 65.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentutils.h"

static struct au_buf in;

static void
slurp(void)
{
	char buf[65536];
	ssize_t n;

	au_buf_adds(&in, "");
	while ((n = read(0, buf, sizeof buf)) > 0)
		au_buf_add(&in, buf, (size_t)n);
	if (n < 0)
		au_die(EX_IOERR, "read:");
}

/* Print v (consumed), or its message: 0 or 65. */
static int
print(jv v)
{
	jv m;

	if (!jv_is_valid(v)) {
		m = jv_invalid_get_msg(v);
		printf("ERROR: %s\n", jv_get_kind(m) == JV_KIND_STRING ?
		    jv_string_value(m) : "?");
		jv_free(m);
		return EX_DATAERR;
	}
	au_out_rec(v);
	jv_free(v);
	return 0;
}

struct run {
	struct au_mf_stream *s;
	int complete;
	int rc;
};

static int
event(const char *type, const char *data, size_t len, void *arg)
{
	struct run *r = arg;
	jv delta;
	char *err;
	int rc = au_mf_stream_event(r->s, type, data, len, &delta, &err);

	if (jv_is_valid(delta))
		au_out_rec(delta);
	jv_free(delta);
	if (rc < 0) {
		printf("ERROR: %s\n", err);
		free(err);
		r->rc = EX_DATAERR;
		return 1;
	}
	if (rc == 1)
		r->complete = 1;
	return 0;
}

static int
stream(enum au_mf_wire w)
{
	struct run r = { au_mf_stream_new(w), 0, 0 };
	struct au_sse *sse = au_sse_new(0);
	size_t off, k;

	for (off = 0; off < in.len && r.rc == 0; off += k) {
		k = 1 + off % 7;
		if (k > in.len - off)
			k = in.len - off;
		if (au_sse_feed(sse, in.s + off, k, event, &r) < 0) {
			printf("ERROR: %s\n", au_errmsg());
			r.rc = EX_DATAERR;
		}
	}
	if (r.rc == 0) {
		if (r.complete)
			printf("complete\n");
		r.rc = print(au_mf_stream_result(r.s));
	}
	au_mf_stream_free(r.s);
	au_sse_free(sse);
	return r.rc;
}

int
main(int argc, char **argv)
{
	enum au_mf_wire w;
	char *msg;
	jv req, body;
	int rc = 0;

	au_setprog(argv[0]);
	if (argc < 3 || (strcmp(argv[1], "openai") != 0 &&
	    strcmp(argv[1], "anthropic") != 0))
		au_die(EX_USAGE, "usage: mfwire-driver openai|anthropic "
		    "body|parse|stream|error ...");
	w = strcmp(argv[1], "openai") == 0 ? AU_MF_OPENAI : AU_MF_ANTHROPIC;
	au_out_init();
	slurp();
	if (strcmp(argv[2], "body") == 0 && argc >= 5) {
		req = jv_parse_sized(in.s, (int)in.len);
		body = au_mf_request_body(w, req, argv[3], atol(argv[4]),
		    argc > 5 && strcmp(argv[5], "stream") == 0);
		jv_free(req);
		rc = print(body);
	} else if (strcmp(argv[2], "parse") == 0) {
		rc = print(au_mf_response_parse(w, in.s, in.len));
	} else if (strcmp(argv[2], "stream") == 0) {
		rc = stream(w);
	} else if (strcmp(argv[2], "error") == 0) {
		msg = au_mf_error_message(w, in.s, in.len);
		printf("%s\n", msg ? msg : "(none)");
		free(msg);
	} else {
		au_die(EX_USAGE, "unknown command %s", au_quote(argv[2]));
	}
	au_buf_free(&in);
	au_out_close();
	return rc;
}
