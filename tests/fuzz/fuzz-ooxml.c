/*
 * fuzz-ooxml.c - tk-md's DOCX, XLSX and PPTX readers (cmd/tk-md/docx.c,
 * xlsx.c with xscan.c, pptx.c) on a package.  The first byte picks the
 * reader (bits 0-1: DOCX, XLSX, PPTX, DOCX), whether the rest is the
 * members of a zip made here (fuzz-tkmd.h: "name\n" and the bytes, a NUL
 * after each), deflated (bit 2) or stored, or the zip itself (bit 3),
 * and --max-size (bits 4-5: 0 a tight 4 KiB, else 1 MiB).  The main part
 * is where Office puts it (tk-md reads its name from [Content_Types].xml).
 * The Markdown must be valid UTF-8 and no larger than the limits allow.
 */
#include "fuzz-tkmd.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		int (*conv)(struct tkmd *);
		const char *part;
	} readers[] = {
		{ tkmd_docx, "word/document.xml" },
		{ tkmd_xlsx, "xl/workbook.xml" },
		{ tkmd_pptx, "ppt/presentation.xml" },
		{ tkmd_docx, "word/document.xml" },
	};
	struct au_buf zip = AU_BUF_INIT, md = AU_BUF_INIT;
	size_t max;
	int r;

	if (size < 1)
		return 0;
	r = data[0] & 3;
	max = (data[0] >> 4 & 3) == 0 ? 4096 : (size_t)1 << 20;
	if (data[0] & 8)
		au_buf_add(&zip, data + 1, size - 1);
	else
		fuzz_zip(data + 1, size - 1, data[0] & 4, &zip);
	fuzz_tkmd(readers[r].conv, zip.s, zip.len, readers[r].part, max,
	    FUZZ_ZIP | FUZZ_UTF8, 1024, &md);
	au_buf_free(&zip);
	au_buf_free(&md);
	return 0;
}
