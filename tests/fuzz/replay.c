/*
 * replay.c - a main for a fuzz target without libFuzzer: each operand, a
 * file, is read whole and given to LLVMFuzzerTestOneInput once.  Built by
 * make (with cc, and with SAN=1 under the sanitizers) as
 * build/tests/replay-NAME, so that make check replays the committed
 * corpus of every target (tests/fuzz.bats) without clang.  Exit 0 when
 * each input ran, 66 for a file it cannot read; a broken promise aborts.
 */
#include "fuzz.h"

/* The whole of path into b: 0, or -1 with errno set. */
static int
slurp(const char *path, struct au_buf *b)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	b->len = 0;
	do {
		au_buf_grow(b, 4096);
		n = fread(b->s + b->len, 1, 4096, f);
		b->len += n;
	} while (n > 0);
	if (ferror(f)) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

int
main(int argc, char **argv)
{
	struct au_buf b = AU_BUF_INIT;
	int i, rc = 0;

	au_setprog(argv[0]);
	for (i = 1; i < argc; i++) {
		if (slurp(argv[i], &b) != 0) {
			au_warn("%s:", argv[i]);
			rc = EX_NOINPUT;
			continue;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)b.s, b.len);
	}
	au_buf_free(&b);
	return rc;
}
