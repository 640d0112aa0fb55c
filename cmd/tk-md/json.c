/*
 * json.c - JSON and NDJSON: objects become the rows of a GFM table (an
 * array of objects, or a line of NDJSON each), their columns the keys in
 * the order first seen; anything else is shown as it is, in a fenced json
 * block (JSON indented by two, NDJSON line by line).
 */
#include <string.h>

#include "tkmd.h"

/* One cell of the table: a string as escaped text, null as nothing, any
 * other value as compact JSON. */
static void
cell(struct au_buf *arena, jv v)
{
	struct au_buf b = AU_BUF_INIT;

	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
	case JV_KIND_INVALID:
		break;
	case JV_KIND_STRING:
		tkmd_esc_inline(arena, jv_string_value(v),
		    (size_t)jv_string_length_bytes(jv_copy(v)));
		break;
	default:
		au_json_dump(&b, v);
		tkmd_esc_inline(arena, b.s, b.len);
		break;
	}
	au_buf_addc(arena, '\0');
	au_buf_free(&b);
	jv_free(v);
}

/* The rows (an array of objects, consumed) as a table. */
static void
table(struct tkmd *d, jv rows)
{
	jv keys = jv_array(), seen = jv_object();
	struct au_buf arena = AU_BUF_INIT;
	size_t nr = (size_t)jv_array_length(jv_copy(rows)) + 1, nc, i, j, *off;
	char **cells;

	jv_array_foreach(rows, i_, r) {
		jv_object_foreach(r, k, v) {
			jv_free(v);
			if (jv_object_has(jv_copy(seen), jv_copy(k))) {
				jv_free(k);
				continue;
			}
			seen = jv_object_set(seen, jv_copy(k), jv_true());
			keys = jv_array_append(keys, k);
		}
		jv_free(r);
		(void)i_;
	}
	nc = (size_t)jv_array_length(jv_copy(keys));
	off = au_xcalloc(nr * nc + 1, sizeof *off);
	for (j = 0; j < nc; j++) {
		jv k = jv_array_get(jv_copy(keys), (int)j);

		off[j] = arena.len;
		cell(&arena, k);
	}
	for (i = 1; i < nr; i++) {
		jv r = jv_array_get(jv_copy(rows), (int)i - 1);

		for (j = 0; j < nc; j++) {
			off[i * nc + j] = arena.len;
			cell(&arena, jv_object_get(jv_copy(r),
			    jv_array_get(jv_copy(keys), (int)j)));
		}
		jv_free(r);
	}
	cells = au_xcalloc(nr * nc + 1, sizeof *cells);
	for (i = 0; i < nr * nc; i++)
		cells[i] = arena.s + off[i];
	tkmd_table(d->out, cells, nr, nc);
	d->meta = jv_object_set(d->meta, jv_string("rows"),
	    jv_number((double)nr - 1));
	free(cells);
	free(off);
	au_buf_free(&arena);
	jv_free(keys);
	jv_free(seen);
	jv_free(rows);
}

/* Whether v (borrowed) is a non-empty array of objects. */
static int
objects(jv v)
{
	int ok = jv_get_kind(v) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(v)) > 0;

	if (!ok)
		return 0;
	jv_array_foreach(v, i, e) {
		ok = ok && jv_get_kind(e) == JV_KIND_OBJECT;
		jv_free(e);
		(void)i;
	}
	return ok;
}

int
tkmd_json(struct tkmd *d)
{
	const char *s = (const char *)d->data, *end = s + d->len, *p, *nl;
	jv v, rows = jv_array();
	size_t at;

	if (au_json_check(s, d->len, &at) == NULL) {
		v = jv_parse_sized(s, (int)d->len);
		if (objects(v)) {
			jv_free(rows);
			table(d, v);
			return 0;
		}
		v = jv_dump_string(v, JV_PRINT_INDENT_FLAGS(2));
		tkmd_code(d->out, "json", jv_string_value(v),
		    (size_t)jv_string_length_bytes(jv_copy(v)));
		jv_free(v);
		jv_free(rows);
		return 0;
	}
	for (p = s; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (p + strspn(p, " \t\r") >= nl)
			continue;
		if (au_json_check(p, (size_t)(nl - p), &at) != NULL) {
			jv_free(rows);
			return tkmd_fail(d, "not JSON nor NDJSON");
		}
		rows = jv_array_append(rows, jv_parse_sized(p, (int)(nl - p)));
	}
	if (objects(rows)) {
		table(d, rows);
		return 0;
	}
	jv_free(rows);
	tkmd_code(d->out, "json", s, d->len);
	return 0;
}
