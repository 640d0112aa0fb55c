/*
 * map.c - an open-addressing hash map from byte strings to longs, with
 * linear probing.  It exists because every program that reads a graph of
 * records (tasks by id, tools by name) needs one, fast.
 */
#include <stdlib.h>
#include <string.h>

#include "agentutils.h"

struct slot {
	const char *key;
	size_t len;
	uint64_t hash;
	long val;
};

struct au_map {
	struct slot *slots;
	size_t mask;		/* capacity - 1, a power of two minus one */
	size_t count;
};

/* A multiply-xorshift hash over 8-byte words; good enough spread for ids. */
static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ n, w;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9u;
		h ^= h >> 31;
		s += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * 0x94d049bb133111ebu;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9u;
	return h ^ (h >> 32);
}

struct au_map *
au_map_new(size_t hint)
{
	struct au_map *m = au_xmalloc(sizeof *m);
	size_t cap = 16;

	while (cap < hint + hint / 2 + 1)
		cap *= 2;
	m->slots = au_xcalloc(cap, sizeof *m->slots);
	m->mask = cap - 1;
	m->count = 0;
	return m;
}

static struct slot *
find(const struct au_map *m, const char *key, size_t len, uint64_t h)
{
	size_t i = (size_t)h & m->mask;
	struct slot *s;

	for (;; i = (i + 1) & m->mask) {
		s = &m->slots[i];
		if (s->key == NULL)
			return s;
		if (s->hash == h && s->len == len &&
		    memcmp(s->key, key, len) == 0)
			return s;
	}
}

static void
grow(struct au_map *m)
{
	struct slot *old = m->slots, *s;
	size_t oldcap = m->mask + 1, i;

	m->slots = au_xcalloc(oldcap * 2, sizeof *m->slots);
	m->mask = oldcap * 2 - 1;
	for (i = 0; i < oldcap; i++) {
		if (old[i].key == NULL)
			continue;
		s = find(m, old[i].key, old[i].len, old[i].hash);
		*s = old[i];
	}
	free(old);
}

long
au_map_get(const struct au_map *m, const char *key, size_t len)
{
	struct slot *s = find(m, key, len, hash(key, len));

	return s->key ? s->val : -1;
}

long
au_map_put(struct au_map *m, const char *key, size_t len, long val)
{
	uint64_t h = hash(key, len);
	struct slot *s = find(m, key, len, h);

	if (s->key)
		return s->val;
	if ((m->count + 1) * 4 > (m->mask + 1) * 3) {
		grow(m);
		s = find(m, key, len, h);
	}
	s->key = key;
	s->len = len;
	s->hash = h;
	s->val = val;
	m->count++;
	return -1;
}

size_t
au_map_count(const struct au_map *m)
{
	return m->count;
}

void
au_map_free(struct au_map *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m);
}
