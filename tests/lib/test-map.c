/*
 * test-map.c - map.c: put and get, a duplicate put returning the value
 * already there and changing nothing, keys compared by their bytes (NUL
 * bytes inside, length 0, equal prefixes, differences past the first
 * eight bytes), and growth from the smallest table to 200,000 keys.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"
#include "tap.h"

static void
test_basic(void)
{
	struct au_map *m = au_map_new(0);
	char copy[8];

	is_int(au_map_count(m), 0, "empty map counts 0");
	is_int(au_map_get(m, "a", 1), -1, "get on an empty map is -1");
	is_int(au_map_put(m, "a", 1, 0), -1, "put of a new key is -1");
	is_int(au_map_get(m, "a", 1), 0, "get finds value 0");
	is_int(au_map_put(m, "a", 1, 5), 0, "duplicate put returns the old "
	    "value");
	is_int(au_map_get(m, "a", 1), 0, "duplicate put does not replace");
	is_int(au_map_count(m), 1, "duplicate put does not count");

	strcpy(copy, "a");
	is_int(au_map_get(m, copy, 1), 0, "keys compare by bytes, not by "
	    "pointer");
	is_int(au_map_get(m, "ab", 1), 0, "only len bytes of the key count");
	is_int(au_map_get(m, "ab", 2), -1, "a longer key is another key");

	is_int(au_map_put(m, "", 0, 7), -1, "empty key inserted");
	is_int(au_map_get(m, "", 0), 7, "empty key found");
	is_int(au_map_get(m, "a", 0), 7, "length 0 is the empty key");
	is_int(au_map_put(m, "a\0b", 3, 11), -1, "key with a NUL inserted");
	is_int(au_map_put(m, "a\0c", 3, 12), -1, "key differing after the "
	    "NUL inserted");
	is_int(au_map_get(m, "a\0b", 3), 11, "key with a NUL found");
	is_int(au_map_get(m, "a\0c", 3), 12, "the other one too");
	is_int(au_map_get(m, "a\0", 2), -1, "its prefix is not there");
	is_int(au_map_get(m, "a", 1), 0, "\"a\" is still itself");
	is_int(au_map_put(m, "big", 3, LONG_MAX), -1, "put LONG_MAX");
	is_int(au_map_get(m, "big", 3), LONG_MAX, "get LONG_MAX");
	is_int(au_map_count(m), 5, "five keys");
	au_map_free(m);
	au_map_free(NULL);
	ok(1, "au_map_free(NULL) is harmless");
}

static void
test_long_keys(void)
{
	struct au_map *m = au_map_new(4);
	char keys[64][100];
	int i, found = 0;

	/* Keys that differ only in their last byte, at every length. */
	for (i = 0; i < 64; i++) {
		memset(keys[i], 'k', sizeof keys[i]);
		keys[i][i + 1] = (char)('A' + i % 26);
	}
	for (i = 0; i < 64; i++)
		if (au_map_put(m, keys[i], (size_t)i + 2, i) != -1)
			break;
	is_int(i, 64, "64 keys sharing prefixes all inserted");
	for (i = 0; i < 64; i++)
		if (au_map_get(m, keys[i], (size_t)i + 2) == i)
			found++;
	is_int(found, 64, "each found with its own value");
	is_int(au_map_get(m, keys[10], 11), -1,
	    "a prefix of a key is not found");
	au_map_free(m);
}

/* Insert n keys into a map made with hint, then check every one. */
static void
test_many(size_t hint, int n)
{
	struct au_map *m = au_map_new(hint);
	char **keys = au_xcalloc((size_t)n, sizeof *keys), buf[32];
	int i, len, inserted = 0, found = 0, dups = 0, missing = 0;

	for (i = 0; i < n; i++) {
		len = snprintf(buf, sizeof buf, "task-%d", i);
		keys[i] = au_xstrndup(buf, (size_t)len);
		if (au_map_put(m, keys[i], (size_t)len, i) == -1)
			inserted++;
	}
	for (i = 0; i < n; i++) {
		/* Look up with a copy: the map compares bytes. */
		len = snprintf(buf, sizeof buf, "task-%d", i);
		if (au_map_get(m, buf, (size_t)len) == i)
			found++;
		if (au_map_put(m, keys[i], strlen(keys[i]), n + i) == i)
			dups++;
		len = snprintf(buf, sizeof buf, "task-%d", n + i);
		if (au_map_get(m, buf, (size_t)len) == -1)
			missing++;
	}
	is_int(inserted, n, "hint %zu: %d keys inserted", hint, n);
	is_int(au_map_count(m), n, "hint %zu: count", hint);
	is_int(found, n, "hint %zu: every key found with its value", hint);
	is_int(dups, n, "hint %zu: every duplicate returns the old value",
	    hint);
	is_int(missing, n, "hint %zu: absent keys are -1", hint);
	is_int(au_map_count(m), n, "hint %zu: duplicates did not count",
	    hint);
	au_map_free(m);
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

int
main(void)
{
	test_basic();
	test_long_keys();
	test_many(0, 200000);
	test_many(200000, 200000);
	test_many(1, 13);
	return done();
}
