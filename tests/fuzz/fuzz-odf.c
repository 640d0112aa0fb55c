/*
 * fuzz-odf.c - tk-md's readers of the packages named by their mimetype
 * member: ODT, ODS and ODP (cmd/tk-md/odf.c) and EPUB (html.c).  The
 * first byte picks the reader (bits 0-1, in that order), whether the rest
 * is the members of a zip made here (fuzz-tkmd.h: "name\n" and the bytes,
 * a NUL after each), deflated (bit 2) or stored, or the zip itself (bit
 * 3), and --max-size (bits 4-5: 0 a tight 4 KiB, else 1 MiB).  The
 * Markdown must be valid UTF-8 and no larger than the limits allow.
 */
#include "fuzz-tkmd.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int (*const readers[])(struct tkmd *) = {
		tkmd_odt, tkmd_ods, tkmd_odp, tkmd_epub
	};
	struct au_buf zip = AU_BUF_INIT, md = AU_BUF_INIT;
	size_t max;

	if (size < 1)
		return 0;
	max = (data[0] >> 4 & 3) == 0 ? 4096 : (size_t)1 << 20;
	if (data[0] & 8)
		au_buf_add(&zip, data + 1, size - 1);
	else
		fuzz_zip(data + 1, size - 1, data[0] & 4, &zip);
	fuzz_tkmd(readers[data[0] & 3], zip.s, zip.len, NULL, max,
	    FUZZ_ZIP | FUZZ_UTF8, 1024, &md);
	au_buf_free(&zip);
	au_buf_free(&md);
	return 0;
}
