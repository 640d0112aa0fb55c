/*
 * fuzz-html.c - tk-md's HTML reader (cmd/tk-md/html.c): the input is the
 * file, parsed by libxml2's HTML parser and written as Markdown.  The
 * Markdown must be valid UTF-8 whatever the bytes were (the parser
 * decodes them), and no larger than the input, nested to the depth the
 * reader allows, and tables of the cells it allows can make it.
 */
#include "fuzz-tkmd.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct au_buf md = AU_BUF_INIT;

	fuzz_tkmd(tkmd_htmldoc, data, size, NULL, (size_t)1 << 20, FUZZ_UTF8,
	    1024, &md);
	au_buf_free(&md);
	return 0;
}
