/*
 * schema.h - the migration list, shared by schema.c and db.c only; not
 * part of the public header.
 */
#ifndef AU_SCHEMA_H
#define AU_SCHEMA_H

extern const char *const schema_steps[];
extern const int schema_nsteps;

#endif
