/*
 * fuzz.h - what the libFuzzer targets of tests/fuzz share: the entry
 * point's prototype, the input as a C string, as a file, and cut in two.
 * Static functions, as in tests/lib/tap.h, so that each target stays one
 * program of one file.  A helper that cannot go on (no temporary file)
 * aborts: that is a broken machine, and libFuzzer then says so.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentutils.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (a NUL in it ends it early). */
static __attribute__((unused)) char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Write the input to path, replacing what was there. */
static void __attribute__((unused))
fuzz_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}

/* A directory of our own for the whole run, made at the first call and
 * removed at the end: a target unlinks what it puts there each time. */
static char fuzz_tmp[256];

static void __attribute__((unused))
fuzz_rmdir(void)
{
	rmdir(fuzz_tmp);
}

static __attribute__((unused)) const char *
fuzz_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (fuzz_tmp[0] == '\0') {
		snprintf(fuzz_tmp, sizeof fuzz_tmp, "%s/au-fuzz.XXXXXX",
		    tmp && *tmp ? tmp : "/tmp");
		if (mkdtemp(fuzz_tmp) == NULL)
			abort();
		atexit(fuzz_rmdir);
	}
	return fuzz_tmp;
}

/* Cut the input at its first NUL byte: the part before it in *a, after
 * it in *b (the whole in *a and none in *b when there is none). */
static void __attribute__((unused))
fuzz_split(const uint8_t *data, size_t size, const char **a, size_t *alen,
    const char **b, size_t *blen)
{
	const uint8_t *nul = memchr(data, '\0', size);

	*a = (const char *)data;
	*alen = nul ? (size_t)(nul - data) : size;
	*b = nul ? (const char *)nul + 1 : (const char *)data + size;
	*blen = nul ? size - *alen - 1 : 0;
}

#endif
