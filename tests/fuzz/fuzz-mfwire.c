/*
 * fuzz-mfwire.c - mfwire.c's reading of what a provider sends back, and
 * its making of a request body from a model.request record.  The first
 * byte picks the wire (OpenAI or Anthropic) and what the rest is: 0 a
 * whole answer's body (au_mf_response_parse, au_mf_error_message), 1 an
 * event stream fed through sse.c to au_mf_stream_event, 2 a request
 * record (au_mf_request_body).  An error message must keep its promise:
 * at most 300 bytes and "...", no control characters.
 */
#include "fuzz.h"

static int
event(const char *type, const char *data, size_t len, void *arg)
{
	jv delta;
	char *err = NULL;
	int rc = au_mf_stream_event(arg, type, data, len, &delta, &err);

	jv_free(delta);
	free(err);
	return rc < 0;
}

static void
whole(enum au_mf_wire w, const char *s, size_t n)
{
	char *msg;
	size_t i;

	jv_free(au_mf_response_parse(w, s, n));
	if ((msg = au_mf_error_message(w, s, n)) == NULL)
		return;
	if (strlen(msg) > 303)
		abort();
	for (i = 0; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			abort();
	free(msg);
}

static void
stream(enum au_mf_wire w, const char *s, size_t n)
{
	struct au_sse *sse = au_sse_new(4096);
	struct au_mf_stream *ms = au_mf_stream_new(w);

	if (au_sse_feed(sse, s, n, event, ms) == 0)
		jv_free(au_mf_stream_result(ms));
	au_mf_stream_free(ms);
	au_sse_free(sse);
}

static void
request(enum au_mf_wire w, const char *s, size_t n, int stream_it)
{
	size_t at;
	jv req;

	if (au_json_check(s, n, &at) != NULL)
		return;
	req = jv_parse_sized(s, (int)n);
	jv_free(au_mf_request_body(w, req, "m", stream_it ? 0 : 1024,
	    stream_it));
	jv_free(req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum au_mf_wire w;
	const char *s = (const char *)data + 1;

	if (size < 1)
		return 0;
	w = data[0] & 1 ? AU_MF_ANTHROPIC : AU_MF_OPENAI;
	switch ((data[0] >> 1) % 3) {
	case 0:
		whole(w, s, size - 1);
		break;
	case 1:
		stream(w, s, size - 1);
		break;
	default:
		request(w, s, size - 1, data[0] & 8);
		break;
	}
	return 0;
}
