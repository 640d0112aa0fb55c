/*
 * cfg.h - reading JSON configuration files the way every agentutils file
 * is read: whole, checked by au_json_check, with each problem noted as
 * "file:line: what" (the line found from the value's JSON Pointer), so
 * that a loader can skip a bad entry and keep the rest.  Internal to the
 * library, like schema.h: the loaders in tg.c and mf.c share it.
 */
#ifndef AU_CFG_H
#define AU_CFG_H

#include "agentutils.h"

/* What is being read: the file, its text, the JSON Pointer of the entry
 * at hand ("" for the whole file), its name for messages, where problems
 * go (an array of strings), and whether the entry has one. */
struct cfg {
	const char *file;
	const char *text;
	size_t n;
	char base[512];
	const char *what;
	jv *problems;
	int bad;
};

/* The whole of path into b: 0, 66 missing, 74 unreadable. */
int cfg_slurp(const char *path, struct au_buf *b);
/* Note "file:line: [what: ]MSG" and mark the entry bad. */
void cfg_problem_at(struct cfg *c, long line, const char *fmt, ...)
    AU_PRINTF(3, 4);
/* The same at the line of the value at base + ptr (or the entry's). */
void cfg_problem(struct cfg *c, const char *ptr, const char *fmt, ...)
    AU_PRINTF(3, 4);
/* The value of c's text, or invalid with the problem noted. */
jv cfg_parse(struct cfg *c);
/* The string v (borrowed) holds if it has no NUL in it, or NULL. */
const char *cfg_jstr(jv v);
/* Note the unknown keys of object o (borrowed, at ptr under base):
 * known is NULL-ended. */
void cfg_only(struct cfg *c, jv o, const char *ptr,
    const char *const *known);
/* Note the keys of dups (au_json_dups) that repeat inside the entry at
 * base, or with exact, the entry itself repeated: whether there were. */
int cfg_dups(struct cfg *c, jv dups, const char *base, int exact);
/* Append the JSON Pointer token for name to c->base ('~' and '/'
 * escaped); 0, or -1 when it does not fit. */
int cfg_base_add(struct cfg *c, const char *name);

#endif
