/*
 * test-sha256.c - au_sha256: the digests sha256sum(1) prints, for the
 * empty input, "abc", and a million bytes fed in uneven pieces.
 */
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"
#include "tap.h"

/* The hex SHA-256 of n bytes of s fed in pieces of step bytes. */
static const char *
sha(const char *s, size_t n, size_t step)
{
	static char hx[2 * AU_AUDIT_HASH + 1];
	unsigned char out[AU_AUDIT_HASH];
	struct au_sha256 *h = au_sha256_new();
	size_t i;

	for (i = 0; i < n; i += step)
		au_sha256_add(h, s + i, n - i < step ? n - i : step);
	au_sha256_end(h, out);
	return au_hex(out, sizeof out, hx);
}

int
main(void)
{
	char *m = malloc(1000000);

	is_str(sha("", 0, 1), "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855", "the empty input");
	is_str(sha("abc", 3, 3), "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad", "abc");
	is_str(sha("abc", 3, 1), "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad", "abc a byte at a time");
	memset(m, 'a', 1000000);
	is_str(sha(m, 1000000, 4099), "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0", "a million a's in pieces");
	free(m);
	return done();
}
