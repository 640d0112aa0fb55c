/*
 * fuzz-ndjson.c - ndjson.c's record reader, through a file as a program
 * meets it.  The first byte sets the longest line (16 bytes and up, so
 * that lines over it come), the rest is the file.  Every record handed
 * out must be an object, its line as kept JSON text no longer than the
 * limit, and lines must come in order.  The bad lines' complaints go to
 * stderr: run with -close_fd_mask=2 to hide them.
 */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[300];
	struct au_in *in;
	struct au_rec rec;
	long last = 0;
	size_t at;
	int fd;

	if (size < 1)
		return 0;
	au_opts.max_line = 16 + (size_t)data[0] * 4;
	snprintf(path, sizeof path, "%s/in", fuzz_dir());
	fuzz_file(path, data + 1, size - 1);
	if ((fd = open(path, O_RDONLY)) < 0)
		abort();
	in = au_in_fdopen(fd, "fuzz");
	au_in_keepraw(in);
	while (au_in_next(in, &rec)) {
		if (jv_get_kind(rec.v) != JV_KIND_OBJECT || rec.line <= last ||
		    rec.raw == NULL || rec.rawlen > au_opts.max_line ||
		    au_json_check(rec.raw, rec.rawlen, &at) != NULL)
			abort();
		last = rec.line;
		jv_free(rec.v);
	}
	au_in_close(in);
	close(fd);
	unlink(path);
	return 0;
}
