/*
 * fuzz-html.c - tk-md's HTML reader (cmd/tk-md/html.c) on a file that
 * tk-md's detection would hand it (no NUL, UTF-8 but for a few bytes at
 * the end, a byte order mark dropped), parsed by libxml2's HTML parser
 * and written as Markdown.  The Markdown must be valid UTF-8, and no
 * larger than the input, nested to the depth the reader allows, and
 * tables of the cells it allows can make it.
 */
#include "fuzz-tkmd.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct au_buf md = AU_BUF_INIT;
	const char *s = (const char *)data;
	size_t head = size < 65536 ? size : 65536;

	if (memchr(s, '\0', head) != NULL || au_utf8_valid(s, head) + 4 < head)
		return 0;
	if (size >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		size -= 3;
	}
	fuzz_tkmd(tkmd_htmldoc, s, size, NULL, (size_t)1 << 20, FUZZ_UTF8,
	    1024, &md);
	au_buf_free(&md);
	return 0;
}
