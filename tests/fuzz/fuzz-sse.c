/*
 * fuzz-sse.c - sse.c's event stream reader.  The first byte sets the
 * event limit (64 bytes and up, so that the limit is met), the second how
 * the rest is cut into pieces; the same stream fed whole must give the
 * same events (or the same failure) as fed in pieces.
 */
#include "fuzz.h"

static int
collect(const char *event, const char *data, size_t len, void *arg)
{
	struct au_buf *b = arg;

	if (data[len] != '\0')
		abort();
	au_buf_adds(b, event);
	au_buf_addc(b, '\n');
	au_buf_add(b, data, len);
	au_buf_addc(b, '\0');
	return 0;
}

static int
feed(size_t max, const char *s, size_t n, size_t piece, struct au_buf *b)
{
	struct au_sse *sse = au_sse_new(max);
	size_t at, k;
	int rc = 0;

	for (at = 0; at < n && rc == 0; at += k) {
		k = n - at < piece ? n - at : piece;
		rc = au_sse_feed(sse, s + at, k, collect, b);
	}
	au_sse_free(sse);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct au_buf whole = AU_BUF_INIT, pieces = AU_BUF_INIT;
	size_t max, piece;
	int rw, rp;

	if (size < 2)
		return 0;
	max = 64 + (size_t)data[0] * 16;
	piece = 1 + data[1] % 64;
	rw = feed(max, (const char *)data + 2, size - 2, size, &whole);
	rp = feed(max, (const char *)data + 2, size - 2, piece, &pieces);
	if (rw != rp || (rw == 0 && (whole.len != pieces.len ||
	    (whole.len > 0 && memcmp(whole.s, pieces.s, whole.len) != 0))))
		abort();
	au_buf_free(&whole);
	au_buf_free(&pieces);
	return 0;
}
