/*
 * agentutils.h - the one public header of libagentutils, the library every
 * agentutils program links and other runtimes may call through FFI.
 *
 * Conventions that hold for the whole library:
 *
 * - Exit codes are those of <sysexits.h>: EX_USAGE 64, EX_DATAERR 65,
 *   EX_NOINPUT 66, EX_UNAVAILABLE 69, EX_SOFTWARE 70, EX_CANTCREAT 73,
 *   EX_IOERR 74, EX_TEMPFAIL 75, EX_NOPERM 77, EX_CONFIG 78; 1 means "the
 *   answer is negative".
 * - Functions with an x prefix die (print "prog: what" and exit with the
 *   code that fits) on failure.  Plain functions return 0 on success or an
 *   exit code on failure and leave a message for au_errmsg().
 * - jv ownership follows jq: a function consumes the jv values it is given
 *   unless its comment says it borrows them, and a jv it returns belongs to
 *   the caller.  Plain pointers returned by the library are the caller's to
 *   free() unless the comment says otherwise.
 */
#ifndef AGENTUTILS_H
#define AGENTUTILS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sysexits.h>

#include <jv.h>

struct sqlite3;
struct sqlite3_stmt;

#define AU_NORETURN _Noreturn
#define AU_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- errors and program name (err.c) ---------------------------------- */

extern const char *au_prog;	/* program name for messages */
extern int au_quiet;		/* -q: only errors on stderr */
extern int au_verbose;		/* -v: notes on stderr */

/* Set au_prog from argv[0] (its last path component), and make sure
 * descriptors 0, 1 and 2 are open (on /dev/null if they were closed). */
void au_setprog(const char *argv0);
/* Print "prog: MSG" and exit with code; a trailing ':' in fmt appends
 * ": strerror(errno)". */
AU_NORETURN void au_die(int code, const char *fmt, ...) AU_PRINTF(2, 3);
/* Print "prog: MSG" to stderr, like au_die without exiting. */
void au_err(const char *fmt, ...) AU_PRINTF(1, 2);
/* au_err unless -q: for warnings that do not change the outcome. */
void au_warn(const char *fmt, ...) AU_PRINTF(1, 2);
/* au_err only with -v: progress notes. */
void au_note(const char *fmt, ...) AU_PRINTF(1, 2);
/* Record a message for au_errmsg() (same trailing ':' rule), which may
 * be among the arguments; returns code. */
int au_seterr(int code, const char *fmt, ...) AU_PRINTF(2, 3);
/* The message of the last failed plain call in this thread. */
const char *au_errmsg(void);
/* Of the exit statuses worst and rc, the one further along rank (n
 * statuses, from best to worst; worst must be among them): a program's
 * overall status over many inputs.  An rc not in rank changes nothing. */
int au_worse(int worst, int rc, const int *rank, size_t n);
/* s in double quotes with control characters, '"' and '\' escaped; the
 * result lives in one of eight rotating per-thread buffers (256 bytes,
 * longer names are cut with "..."). */
const char *au_quote(const char *s);
/* The same without the quotes, for file names in "file:line:". */
const char *au_esc(const char *s);
/* Print "prog: FILE:LINE: MSG", the file name escaped. */
void au_errat(const char *file, long line, const char *fmt, ...)
    AU_PRINTF(3, 4);

/* ---- memory and buffers (mem.c) --------------------------------------- */

void *au_xmalloc(size_t n);
void *au_xcalloc(size_t n, size_t size);
void *au_xrealloc(void *p, size_t n);
/* realloc of an array of n members of size bytes, checked for overflow. */
void *au_xreallocarray(void *p, size_t n, size_t size);
/* p, an array with room for *cap members of size bytes, made to hold at
 * least need of them: doubling, so that appending one by one is cheap. */
void *au_grow(void *p, size_t *cap, size_t need, size_t size);
char *au_xstrdup(const char *s);
/* A NUL-terminated copy of the n bytes at s (NULs among them too). */
char *au_xstrndup(const char *s, size_t n);
/* malloc'd printf. */
char *au_xasprintf(const char *fmt, ...) AU_PRINTF(1, 2);

/* A growable byte buffer; always NUL-terminated after any add. */
struct au_buf {
	char *s;
	size_t len, cap;
};
#define AU_BUF_INIT { NULL, 0, 0 }
void au_buf_grow(struct au_buf *b, size_t more);
void au_buf_add(struct au_buf *b, const void *p, size_t n);
void au_buf_addc(struct au_buf *b, char c);
void au_buf_adds(struct au_buf *b, const char *s);
void au_buf_addf(struct au_buf *b, const char *fmt, ...) AU_PRINTF(2, 3);
void au_buf_addint(struct au_buf *b, int64_t v);
void au_buf_free(struct au_buf *b);

/* ---- files: one that appears whole, a tree removed (out.c) ----------- */

/* A new file beside path (same directory) named ".BASETAG.XXXXXX", opened
 * read-write, its name malloc'd in *name; path "" : "PROGTAG.XXXXXX" in
 * $TMPDIR or /tmp.  Dies EX_CANTCREAT naming path. */
int au_xtemp_near(const char *path, const char *tag, char **name);
/* The output file that will become path: a file from au_xtemp_near with
 * mode (less the umask), removed at exit and on SIGINT, SIGTERM or SIGHUP
 * (the handlers au_catch_stop sets) unless au_xout_commit named it first.
 * path "" : a temporary file only, for output copied elsewhere, always
 * removed.  One at a time.  Returns its descriptor; dies EX_CANTCREAT. */
int au_xout_open(const char *path, mode_t mode);
/* The output file's temporary name while it is open, or NULL. */
const char *au_out_name(void);
/* Sync the output file (the caller has written and closed it) and rename
 * it over path; dies EX_IOERR or EX_CANTCREAT. */
void au_xout_commit(void);
/* Remove path and everything beneath it, symbolic links as links (never
 * what they name), going on past what cannot be removed: 0 (a path that
 * does not exist too), or -1 with errno of the first failure. */
int au_rmtree(const char *path);

/* ---- string map (map.c) ----------------------------------------------- */

/* An open-addressing hash map from byte strings to non-negative longs.  It
 * does not copy keys: they must outlive the map. */
struct au_map;
struct au_map *au_map_new(size_t hint);
/* The value of key, or -1. */
long au_map_get(const struct au_map *m, const char *key, size_t len);
/* Insert key -> val unless present; returns the value already there, or -1
 * when key was inserted. */
long au_map_put(struct au_map *m, const char *key, size_t len, long val);
size_t au_map_count(const struct au_map *m);
void au_map_free(struct au_map *m);

/* ---- options (opt.c) -------------------------------------------------- */

/* One command-line option.  id is the short option character, or a value
 * from AU_LONG upward for a long-only option.  arg names the argument (NULL
 * for a flag); complete says how a shell completes it: NULL (nothing),
 * "FILE", "DIR", "CMD", or a space-separated list of the accepted words. */
struct au_opt {
	int id;
	const char *name;
	const char *arg;
	const char *help;
	const char *complete;
};
#define AU_LONG 256

/* Shared options a program takes besides -h, --version, -q and -v. */
enum {
	AU_USE_DB = 1,		/* --db PATH */
	AU_USE_RECORDS = 2,	/* --where JQ, --max-line SIZE */
	AU_USE_TABLE = 4,	/* --format ndjson|table */
};

/* A program's command line: its name, the operands part of its synopsis
 * (one form per line), a one-line summary for --help, its own options
 * ended by a zeroed entry, the shared options it takes, and how a shell
 * completes its operands ("FILE", "DIR", NULL, or a word list).  An
 * option that the operands part names with its argument ("-o OUT") is a
 * required one: usage shows it there, not among the bracketed ones. */
struct au_cmd {
	const char *name;
	const char *operands;
	const char *summary;
	const struct au_opt *opts;
	unsigned use;
	const char *complete;
};

/* What the shared options set. */
struct au_opts {
	const char *db;		/* --db, or NULL */
	const char *where;	/* --where, or NULL */
	size_t max_line;	/* --max-line, default 16 MiB */
	int table;		/* --format table: 1, ndjson: 0, none: -1 */
};
extern struct au_opts au_opts;

/* Next option of argv: its id, with *arg set to its argument, or -1 when
 * the options end; afterwards au_optind is the first operand.  One
 * command line per process: getopt's state is not reset.  The shared
 * options are handled here (--help, --version and --completion print and
 * exit 0); an unknown option or a missing argument exits 64. */
int au_getopt(const struct au_cmd *cmd, int argc, char **argv,
    const char **arg);
extern int au_optind;
/* Whether to write a table for people: --format, or else whether standard
 * output is a terminal. */
int au_table(void);
/* The duration arg of option opt in ms, or die with 64. */
int64_t au_opt_dur(const struct au_cmd *cmd, const char *opt,
    const char *arg);
/* "prog: MSG" then the usage on stderr, exit 64. */
AU_NORETURN void au_usage_die(const struct au_cmd *cmd, const char *fmt, ...)
    AU_PRINTF(2, 3);
/* Write the usage lines ("usage: prog ...") to f. */
void au_usage(const struct au_cmd *cmd, FILE *f);
/* Write a bash, zsh or fish completion script; 0, or -1 for another shell. */
int au_completion(const struct au_cmd *cmd, const char *shell, FILE *f);

/* ---- time, durations, sizes, ids (time.c) ----------------------------- */

#define AU_TS_LEN 25	/* "2026-01-02T03:04:05.678Z" and its NUL */
#define AU_ID_LEN 27	/* 26 Crockford base32 characters and a NUL */

/* Milliseconds since the epoch, wall clock. */
int64_t au_now_ms(void);
/* Milliseconds from a monotonic clock, for intervals. */
int64_t au_mono_ms(void);
/* Format ms since the epoch as RFC 3339 UTC with milliseconds into buf. */
char *au_ts_fmt(int64_t ms, char buf[AU_TS_LEN]);
/* Parse RFC 3339 (any offset, optional fraction) into ms; 0 or -1. */
int au_ts_parse(const char *s, int64_t *ms);
/* Parse a duration ("250ms", "1.5s", "2m", "1h30m", "7d") into ms; 0 or
 * -1.  A bare number without a unit, and more than 100 years, are refused. */
int au_dur_parse(const char *s, int64_t *ms);
/* Parse a size ("512", "64K", "16M", "1G", binary multiples); 0 or -1. */
int au_size_parse(const char *s, uint64_t *bytes);
/* A new ULID: time-sortable, and increasing within one millisecond. */
char *au_ulid(char buf[AU_ID_LEN]);

/* ---- JSON values (json.c) --------------------------------------------- */

/* Append v (borrowed) to b as compact JSON, keys in their stored order. */
void au_json_dump(struct au_buf *b, jv v);
/* Append the n bytes at s to b as a JSON string. */
void au_json_str(struct au_buf *b, const char *s, size_t n);
/* Length of the valid UTF-8 prefix of s (n when all of it is valid). */
size_t au_utf8_valid(const char *s, size_t n);
/* Check that the n bytes at s are one JSON value (RFC 8259) in valid
 * UTF-8, white space around it allowed: NULL, or what is wrong ("invalid
 * JSON: ...", "invalid UTF-8") with *at set to the offending byte's
 * offset.  Catches what jq 1.6's parser would leak on, or accept. */
const char *au_json_check(const char *s, size_t n, size_t *at);
/* The line (from 1) where the value at JSON Pointer ptr ("" for the
 * whole, "/servers/0") starts, or its key, in the n bytes at s, JSON text
 * that au_json_check accepts; the last where a key repeats; 0 if none. */
long au_json_line(const char *s, size_t n, const char *ptr);
/* The keys that repeat in their object in s (checked as above), as an
 * array of {"pointer", "line", "first"}: the repeat and the first line. */
jv au_json_dups(const char *s, size_t n);
/* The string at key of object o (borrowed), or NULL if absent or not a
 * string; the pointer lives as long as o. */
const char *au_jv_str(jv o, const char *key);
/* Name of the JSON type of v (borrowed): "object", "string", ... */
const char *au_jv_kind(jv v);
/* Whether v (borrowed) is a number with an integral value in int64 range. */
int au_jv_isint(jv v);

/* Globs of the member names whose values are secret: "*token*",
 * "*secret*", "*password*", "*key*", "authorization"; NULL-ended. */
extern const char *const au_secret_names[];
/* v (consumed) with the value of every member whose name, in lower case,
 * matches one of globs (NULL-ended; NULL: au_secret_names) replaced by
 * "[REDACTED]", at any depth. */
jv au_jv_redact_names(jv v, const char *const *globs);

/* ---- records in and out (ndjson.c) ------------------------------------ */

/* One record read by au_in_next. */
struct au_rec {
	jv v;			/* the object, now the caller's */
	const char *file;	/* its file name: the one given to au_in_open
				 * or au_in_fdopen, or "<stdin>" */
	long line;		/* its line number */
	void *prep;		/* what the au_in_prepare function made */
	const char *raw;	/* with au_in_keepraw: the line as read, less
				 * its newline, until the next au_in_next */
	size_t rawlen;
};

/* Open the named files in turn (nfiles 0 means standard input; "-" names
 * standard input) for reading records of at most au_opts.max_line bytes. */
struct au_in *au_in_open(char *const *files, int nfiles);
/* Read records from fd, calling it name in messages. */
struct au_in *au_in_fdopen(int fd, const char *name);
/* Read the next record: 1, or 0 at the end of all input.  Blank lines are
 * skipped; lines that are not a JSON object in valid UTF-8, or too long,
 * are reported as "prog: file:line: what" and skipped. */
int au_in_next(struct au_in *in, struct au_rec *rec);
/* Have fn(record, arg) run on every record in the reading threads, before
 * au_in_next hands it out with fn's result in rec->prep: per-record work
 * in parallel.  fn borrows the record and must be thread-safe; what it
 * returns must be one malloc'd block (or NULL), freed with free() if
 * au_in_close comes before the record is handed out.  With drop set the
 * record is freed after fn and rec->v is jv_invalid().  Call before the
 * first au_in_next. */
void au_in_prepare(struct au_in *in, void *(*fn)(jv, void *), void *arg,
    int drop);
/* With drop set, offer each line that au_json_check accepts to text
 * (arg as for fn) first: what it returns, unless NULL, is the record's
 * rec->prep, and the line is never parsed.  Call after au_in_prepare. */
void au_in_prepare_text(struct au_in *in,
    void *(*text)(const char *, size_t, void *));
/* Keep each record's line as read, for rec->raw.  Call before the
 * first au_in_next. */
void au_in_keepraw(struct au_in *in);
/* Call fn(arg) in the reading thread whenever records, or the end, have
 * become ready for au_in_next: to wake a loop that polls other things
 * too (curl_multi_wakeup, a write to a pipe).  fn must be thread-safe.
 * Call before the first au_in_next. */
void au_in_notify(struct au_in *in, void (*fn)(void *), void *arg);
/* Read in the caller's thread, within au_in_next and au_in_wait, not in a
 * reading thread: for a loop that polls au_in_fd itself, and so saves a
 * thread's wake-up a record.  Call before the first au_in_next. */
void au_in_polled(struct au_in *in);
/* With au_in_polled: the descriptor to poll before more can be read, or
 * -1 when au_in_wait(in, 0) may say 1 without it (records read already,
 * the end, the next file to open). */
int au_in_fd(const struct au_in *in);
/* Whether au_in_next would return at once (a record, or the end), waiting
 * up to ms milliseconds for it: 1 or 0.  Bad lines before the next
 * record are reported here, as au_in_next would. */
int au_in_wait(struct au_in *in, int64_t ms);
/* Read no more: au_in_next hands out what was read already, then 0. */
void au_in_stop(struct au_in *in);
/* Report "prog: file:line: MSG" for rec, and mark the input bad (65). */
void au_in_reject(struct au_in *in, const struct au_rec *rec,
    const char *fmt, ...) AU_PRINTF(3, 4);
/* The worst trouble met so far: 0, 65 bad lines, 66 unopenable file, 74
 * read error. */
int au_in_status(const struct au_in *in);
/* Close the input (not the fd of au_in_fdopen). */
void au_in_close(struct au_in *in);

/* Prepare standard output: flushed per record on a pipe or a terminal. */
void au_out_init(void);
/* Write the record v (borrowed) and a newline. */
void au_out_rec(jv v);
/* Write n bytes of text. */
void au_out_text(const char *s, size_t n);
/* Write n bytes of text and a newline, as one line. */
void au_out_line(const char *s, size_t n);
/* A cell of a table line for people, added to b: r's field key as text
 * (a string with its control characters escaped, a number, an array's
 * items apart by spaces, anything else as JSON; "-" when missing or
 * null), padded to width and followed by gap spaces, or as it is when
 * width is 0. */
void au_table_cell(struct au_buf *b, jv r, const char *key, int width,
    int gap);
/* Flush if output is per line; call at the end of each text line. */
void au_out_eol(void);
/* Flush and close standard output; a write error exits 74. */
void au_out_close(void);

/* ---- jq filters (where.c) --------------------------------------------- */

struct au_where;
/* Compile a jq expression; NULL with au_errmsg() set on a syntax error. */
struct au_where *au_where_new(const char *expr);
/* Compile or die with 64: for --where. */
struct au_where *au_xwhere_new(const char *expr);
/* 1 if the first result for v (borrowed) is truthy, 0 if not or if there
 * is none, -1 on a jq error (au_errmsg() says which). */
int au_where_test(struct au_where *w, jv v);
/* Every result of w for v (borrowed), as an array in *out: 0, or -1 on a
 * jq error (au_errmsg() says which) with the results before it. */
int au_where_all(struct au_where *w, jv v, jv *out);
void au_where_free(struct au_where *w);

/* ---- the state file (db.c, schema.c) ---------------------------------- */

/* Open (creating mode 0600 in a 0700 directory) and migrate the state
 * file.  0, or 73 cannot create, 74 not a usable database, 75 busy past
 * the timeout, 78 a newer schema than this library knows. */
int au_db_open(const char *path, struct sqlite3 **db);
/* au_db_open of au_db_path(au_opts.db), or die. */
struct sqlite3 *au_xdb_open(void);
/* Schema version a fresh state file gets from this library. */
int au_db_schema_version(void);
/* Start a write transaction (BEGIN IMMEDIATE, waiting for the busy
 * timeout): 0, 75 busy, 74 other failure. */
int au_db_begin(struct sqlite3 *db);
/* Commit: 0, 75 busy, 74 other failure. */
int au_db_commit(struct sqlite3 *db);
/* Roll back whatever transaction is open. */
void au_db_rollback(struct sqlite3 *db);
/* The exit code for an SQLite result code rc on db (75 busy, 74 else),
 * with au_errmsg() set. */
int au_db_error(struct sqlite3 *db, int rc);
/* Run SQL without results: 0, or 75/74 as above. */
int au_db_exec(struct sqlite3 *db, const char *sql);
/* Run one statement of sql with its n text parameters (NULL binds NULL):
 * 0, or 75/74; *changes (if not NULL) gets how many rows it changed. */
int au_db_run(struct sqlite3 *db, const char *sql, int *changes, int n, ...);
/* sql (a string that lives as long as db, a literal) prepared on db the
 * first time and kept until au_db_close, in *st reset with no bindings;
 * reset it after stepping.  0, or 75/74 as above. */
int au_db_stmt(struct sqlite3 *db, const char *sql,
    struct sqlite3_stmt **st);
/* The x versions die with the message. */
void au_xdb_begin(struct sqlite3 *db);
void au_xdb_commit(struct sqlite3 *db);
/* Close the state file. */
void au_db_close(struct sqlite3 *db);

/* ---- runs of tasks (aw.c) ---------------------------------------------
 *
 * A run is a stored plan: its tasks, their dependencies, and the event log
 * of every transition.  The functions below work inside the caller's
 * write transaction (au_db_begin ... au_db_commit), so that a batch of
 * transitions is one commit; the events they record are handed out by
 * au_aw_drain once committed.  They return 0 or an exit code, with
 * au_errmsg() set: 70 for a transition the state machine refuses, 1 for
 * a request that does not apply (cancelling a finished task). */

enum {
	AU_AW_PENDING, AU_AW_READY, AU_AW_WAITING, AU_AW_RUNNING,
	AU_AW_RETRYING, AU_AW_FAILED, AU_AW_DEAD, AU_AW_DONE, AU_AW_SKIPPED,
	AU_AW_CANCELLED, AU_AW_INTERRUPTED, AU_AW_NSTATES
};

/* The name of state s ("waiting_approval" for AU_AW_WAITING). */
const char *au_aw_state_name(int s);
/* The state called name, or -1. */
int au_aw_state(const char *name);
/* Whether a task may go from state from to state to. */
int au_aw_legal(int from, int to);
/* Whether state s is final for the run: done, dead, skipped, cancelled. */
int au_aw_terminal(int s);

/* How failed attempts are retried: attempts in all, the delay before the
 * second, growing by factor up to max, spread by +/- jitter (0 to 1). */
struct au_aw_policy {
	int attempts;
	int64_t delay_ms, max_ms;
	double factor, jitter;
};
/* The delay before attempt + 1: the same for the same run, task and
 * attempt, so that a replayed run waits alike. */
int64_t au_aw_backoff(const struct au_aw_policy *p, const char *run,
    const char *task, int attempt);

/* How an attempt ended. */
struct au_aw_result {
	int exit_code;		/* status, 128 + signal, 126, 127 */
	int timed_out;
	int unrunnable;		/* it could never run: do not retry */
	const char *error;	/* why, or NULL to describe exit_code */
};

struct au_aw;
/* Take part in run on db as a scheduler named who (registered with this
 * process, host and start time, so that others can tell when it is
 * gone).  66 when there is no such run.  It sets db's commit and
 * rollback hooks until au_aw_close. */
int au_aw_open(struct sqlite3 *db, const char *run, const char *who,
    struct au_aw **aw);
void au_aw_close(struct au_aw *aw);
/* This scheduler's id, and the run's. */
const char *au_aw_id(const struct au_aw *aw);
const char *au_aw_run(const struct au_aw *aw);
void au_aw_set_policy(struct au_aw *aw, const struct au_aw_policy *p);
/* Approval requests filed from now on expire after ms (0: never). */
void au_aw_set_approval_timeout(struct au_aw *aw, int64_t ms);
/* Claims older than ms without a heartbeat are taken as abandoned. */
void au_aw_set_lease(struct au_aw *aw, int64_t ms);
/* Append every event of aw to the audit log a (borrowed; NULL: no
 * more) in the transaction that records it, so that the run's log and
 * the audit log never disagree. */
struct au_audit;
void au_aw_set_audit(struct au_aw *aw, struct au_audit *a);
/* The events recorded since the last call: an array of task.event and
 * run.event records. */
jv au_aw_drain(struct au_aw *aw);
/* The same events, without handing them out: for a look before commit. */
jv au_aw_pending(struct au_aw *aw);

/* Start (or resume) the run: planned becomes running, and tasks whose
 * dependencies are done become ready (or wait for their approval). */
int au_aw_start(struct au_aw *aw);
/* The housekeeping of a scheduler's turn: heartbeat and leases, retries
 * whose delay is over, approvals decided or expired, and running tasks
 * of schedulers that are gone (interrupted, then ready again: an attempt
 * cut short costs no attempt). */
int au_aw_tick(struct au_aw *aw);
/* Running tasks of schedulers that are gone whose claim's detail has
 * key (a batch system's job id): claimed by aw instead of interrupted, in
 * *list as that detail with "id", "attempt" and the claim's "ts". */
int au_aw_adopt(struct au_aw *aw, const char *key, jv *list);
/* Up to limit ready tasks, best first (priority, then level, then id),
 * as {"id", "needs"} objects; invalid on error. */
jv au_aw_ready(struct au_aw *aw, int limit);
/* Claim ready task for an attempt (ready -> running, detail consumed and
 * added to the event); *attempt is its number.  1 if it is not ready. */
int au_aw_claim(struct au_aw *aw, const char *task, jv detail,
    int *attempt);
/* Note the process group leader running task's attempt: a scheduler
 * that finds the task orphaned kills the group, if it is still that
 * process (its start time is noted too). */
int au_aw_started(struct au_aw *aw, const char *task, pid_t pid);
/* How an attempt ended: done (its dependents released), retrying by the
 * policy, or dead (its dependents skipped).  Ignored when the task is no
 * longer in that attempt (cancelled, taken over). */
int au_aw_report(struct au_aw *aw, const char *task, int attempt,
    const struct au_aw_result *r, jv detail);
/* An attempt stopped from outside (the scheduler got a signal): running
 * becomes interrupted, to be tried again when the run resumes. */
int au_aw_interrupt(struct au_aw *aw, const char *task, int attempt,
    const char *why);
/* The task's record as stored (malloc'd JSON text), or NULL. */
char *au_aw_record(struct au_aw *aw, const char *task);
/* An attempt as it went, for aw-ctl logs and the joblog. */
struct au_aw_attempt {
	const char *worker, *command;
	const char *out, *err;	/* where its output is kept, or NULL */
	pid_t pid;
	int64_t started, ended;	/* epoch ms */
	int exit_code, timed_out, truncated;
	int64_t out_bytes, err_bytes;
};
/* Record an attempt that has ended. */
int au_aw_ended(struct au_aw *aw, const char *task, int attempt,
    const struct au_aw_attempt *a);
/* How many tasks are in each state. */
int au_aw_counts(struct au_aw *aw, int counts[AU_AW_NSTATES]);
/* When no task can change any more, end the run (done, or failed if a
 * task is dead, skipped or cancelled) and set *finished. */
int au_aw_finish(struct au_aw *aw, int *finished);
/* Cancel task, or with NULL every unfinished task and the run. */
int au_aw_cancel(struct au_aw *aw, const char *task, const char *why);
/* A dead task ready again, and its skipped dependents pending again. */
int au_aw_requeue(struct au_aw *aw, const char *task);
/* Pause (1) or resume (0) the run. */
int au_aw_pause(struct au_aw *aw, int pause);
/* *paused: 1 if the run is paused, 2 if cancelled, else 0. */
int au_aw_paused(struct au_aw *aw, int *paused);

/* The events of run after seq, as the records au_aw_drain gave. */
int au_aw_events(struct sqlite3 *db, const char *run, int64_t after,
    jv *list);
/* Rebuild the state of run from its events alone and compare it with the
 * tables: 0 equal, 1 not (each difference a string in *problems). */
int au_aw_replay(struct sqlite3 *db, const char *run, jv *problems);

/* A string that is not NUL-terminated. */
struct au_str {
	const char *s;
	size_t len;
};

/* A plan to store: the run, and its tasks one by one from next(), which
 * returns 1 with *t filled, 0 at the end, -1 on an error (au_errmsg()).
 * Strings need to live only until the following call. */
struct au_aw_run {
	const char *id, *ts, *goal, *record;
	int64_t tasks;
	int levels;
};
struct au_aw_task {
	const char *id;
	size_t idlen;
	int order, level;
	const char *kind;
	int64_t priority;
	const char *needs;	/* its needs as a JSON array, or NULL */
	size_t needslen;
	const char *record;	/* the task record as JSON */
	size_t reclen;
	int approval;		/* it needs a person's approval to run */
	const struct au_str *deps;
	size_t ndeps;
};
/* Store a plan in one transaction of its own. */
int au_aw_store(struct sqlite3 *db, const struct au_aw_run *r,
    int (*next)(void *, struct au_aw_task *), void *arg);
/* Store a plan given as records (aw-plan's output: the run record and
 * its task records, borrowed), unless its run is stored already;
 * *stored says which. */
int au_aw_store_plan(struct sqlite3 *db, jv run, const jv *tasks, size_t n,
    int *stored);

/* ---- the embedding API (run.c) -----------------------------------------
 *
 * For other runtimes: plain C strings in and out.  Strings the library
 * returns through char ** are the caller's, to release with au_free; the
 * const char * ones belong to the library.  Every call is one transaction
 * of its own.  Calls return 0, or an exit code with au_errmsg() set. */

struct au_run;
/* Open the run with id run in the state file dbpath (NULL: the usual
 * one), or with run NULL store plan (aw-plan's output, NDJSON text) and
 * open its run. */
int au_run_open(const char *dbpath, const char *run, const char *plan,
    struct au_run **r);
/* The run's id. */
const char *au_run_id(const struct au_run *r);
/* The ready tasks as a JSON array of {"id","needs"}, best first. */
int au_run_ready(struct au_run *r, char **json);
/* Claim task for an attempt: its number and its record (JSON); 1 if it
 * is not ready. */
int au_run_claim(struct au_run *r, const char *task, int *attempt,
    char **record);
/* Claim the best ready task: 0 with its id, record and attempt; 1 when
 * none is ready now (come back later); 2 when the run is over. */
int au_run_next(struct au_run *r, char **task, char **record, int *attempt);
/* How task's attempt ended: exit_code (0 done) and why, or NULL. */
int au_run_report(struct au_run *r, const char *task, int attempt,
    int exit_code, const char *error);
/* The events after seq, as NDJSON text. */
int au_run_events(struct au_run *r, int64_t after, char **ndjson);
/* Approve (1) or deny (0) the approval request id. */
int au_run_answer(struct au_run *r, const char *id, int approve,
    const char *reason);
void au_run_close(struct au_run *r);
/* Free what the library returned through a char **. */
void au_free(void *p);

/* ---- the approval queue (approval.c) ---------------------------------- */

/* File a request; its id into id.  expires_ms (epoch ms) or 0: never. */
int au_approval_create(struct sqlite3 *db, const char *requester,
    const char *subject, const char *summary, const char *details,
    int64_t expires_ms, char id[AU_ID_LEN]);
/* The approval.request record of id; 66 if there is none. */
int au_approval_get(struct sqlite3 *db, const char *id, jv *rec);
/* Approve (1) or deny (0) a pending request; 1 if it is not pending.
 * With a, the decided request is appended to the audit log too: the
 * caller holds the transaction that makes both or neither. */
int au_approval_decide(struct sqlite3 *db, struct au_audit *a,
    const char *id, int approve, const char *by, const char *reason);
/* The requester no longer needs the answer: a pending request becomes
 * withdrawn. */
int au_approval_withdraw(struct sqlite3 *db, const char *id);
/* Pending requests past their time become expired. */
int au_approval_expire(struct sqlite3 *db);
/* The requests with status (NULL: all), oldest first, as records. */
int au_approval_list(struct sqlite3 *db, const char *status, jv *list);
/* Wait for request id to be decided, looking every 100 ms, for up to
 * timeout_ms (-1: no limit) or until *stop (if not NULL) is set: 0 with
 * *rec its record once it is not pending (expired ones made so), 75
 * with *rec its pending record, or a failure of the state file. */
int au_approval_wait(struct sqlite3 *db, const char *id, int64_t timeout_ms,
    volatile sig_atomic_t *stop, jv *rec);
struct au_watch;
/* au_approval_wait, watching w meanwhile (au_watch_wait; or NULL): 75
 * too as soon as w says stop. */
int au_approval_wait_watch(struct sqlite3 *db, const char *id,
    int64_t timeout_ms, volatile sig_atomic_t *stop, struct au_watch *w,
    jv *rec);

/* ---- processes (proc.c) ----------------------------------------------- */

/* Have fn catch SIGINT, SIGTERM and SIGHUP (without SA_RESTART), for a
 * program that finishes what it must before it stops. */
void au_catch_stop(void (*fn)(int));

enum {
	AU_FD_INHERIT = -1,	/* the child shares our descriptor */
	AU_FD_PIPE = -2,	/* a pipe; the parent's end is in au_proc.fd */
	AU_FD_NULL = -3,	/* /dev/null */
};

struct au_limit {
	int resource;		/* RLIMIT_* */
	rlim_t soft, hard;
};

/* What to run and how.  fd[0..2] are AU_FD_* or a descriptor to give the
 * child as its stdin, stdout or stderr. */
struct au_spawn {
	char *const *argv;	/* argv[0] is looked up in PATH */
	char *const *envp;	/* NULL: the parent's environment */
	const char *dir;	/* NULL: the current directory */
	int fd[3];
	int pgroup;		/* 1: the child leads a new process group */
	const struct au_limit *limits;
	int nlimits;
	const char *cgroup;	/* NULL, or the cgroup.procs file of the
				 * cgroup the child joins before its exec */
};

struct au_proc {
	pid_t pid;
	int fd[3];		/* the parent's ends of pipes, or -1 */
};

/* Start a child.  0; 127 not found or 126 cannot execute (nothing to
 * wait for); 70 a system failure; au_errmsg() says why. */
int au_spawn(const struct au_spawn *sp, struct au_proc *p);
/* Wait for the child, closing the pipe ends still open.  With timeout_ms
 * >= 0 a child still running then gets SIGTERM (its group with pgroup),
 * and SIGKILL grace_ms later; *timed_out says so.  Returns its end as an
 * exit code: the status, or 128 + signal (70 if it cannot be waited for). */
int au_proc_wait(struct au_proc *p, int64_t timeout_ms, int64_t grace_ms,
    int *timed_out);
/* What a child wrote and how it ended, for au_capture. */
struct au_capture {
	char *out, *err;	/* its stdout and stderr, NUL-terminated */
	size_t nout, nerr;	/* their lengths, max at most */
	int truncated;		/* it wrote more than max to one of them */
	int timed_out;		/* it was stopped at the timeout */
	int64_t ms;		/* how long it ran */
};
/* Run sp's child in a process group of its own with its stdout and
 * stderr read into c (the first max bytes of each), stopping the group
 * as au_proc_wait does when timeout_ms (-1: none) runs out.  Returns what
 * au_proc_wait returns, or au_spawn's failure (c empty then).  Free c
 * with au_capture_free either way. */
int au_capture(const struct au_spawn *sp, size_t max, int64_t timeout_ms,
    int64_t grace_ms, struct au_capture *c);
/* A way to be told, while waiting, to stop now: fd is polled with what is
 * waited for, and when it is readable fn(arg) says 1 to stop (setting
 * stopped) or 0 to go on; fn may set fd to -1 to be polled no more. */
struct au_watch {
	int fd;
	int (*fn)(void *arg);
	void *arg;
	int stopped;		/* set when fn says stop; its owner clears it */
};
/* au_capture, watching w (or NULL): the group is stopped as at a timeout
 * when w says so, and c->timed_out is not set then. */
int au_capture_watch(const struct au_spawn *sp, size_t max,
    int64_t timeout_ms, int64_t grace_ms, struct au_watch *w,
    struct au_capture *c);
/* Wait ms, watching w (or NULL: a plain sleep): 1 as soon as w says
 * stop; 0 when the time is up or a signal comes first. */
int au_watch_wait(struct au_watch *w, int64_t ms);
void au_capture_free(struct au_capture *c);
/* The path execvp would run for name (malloc'd), or NULL. */
char *au_which(const char *name);
/* The exit code for a waitpid status: the status, or 128 + signal. */
int au_exit_code(int wstatus);

/* ---- MCP client (mcp.c) -----------------------------------------------
 *
 * A client session of the Model Context Protocol with one server over
 * stdio, the server our child, in a process group of its own, reading
 * and writing JSON-RPC 2.0 messages one per line; or over Streamable
 * HTTP (libcurl), each message POSTed to the server's URL, a request
 * answered by a JSON body or an event stream, the session's id and
 * protocol version sent with every message after initialize.  Each call
 * sends one request and waits for its answer; meanwhile it answers the
 * server's pings, answers any other request of the server (sampling,
 * elicitation, roots, ...) with error -32601, hands notifications to the
 * caller, and keeps the last of the server's stderr.  No call waits past
 * its timeout, and no message bigger than the limit is buffered.
 *
 * Calls return 0 or, with au_errmsg() set: 1 the server answered with a
 * JSON-RPC error; 75 no answer in time, or a tools/call given up at
 * the watch's word (the request was cancelled with
 * notifications/cancelled); 69 the session is over: the server could not
 * be started or reached, exited, closed its output, sent a malformed or
 * oversized message, answered with an HTTP error or another content type,
 * ended the session, or answered initialize badly, and every later call
 * returns 69
 * at once.  After 1 and 75 the session goes on.  A session belongs to one
 * thread at a time; the callbacks must not call back into it.
 */
#define AU_MCP_VERSION "2025-11-25"	/* the protocol version offered */

struct au_mcp_conf {
	const char *url;	/* a Streamable HTTP server's endpoint; or
				 * NULL, and a stdio server: */
	char *const *headers;	/* "Name: value" sent to it with every
				 * message, NULL-terminated; or NULL */
	char *const *argv;	/* the server's command (a sandbox's first,
				 * if any); argv[0] is looked up in PATH */
	char *const *env;	/* "NAME=VALUE" set on top of our environment
				 * for it, NULL-terminated; or NULL */
	char *const *envp;	/* or its whole environment, in place of
				 * ours and env; or NULL */
	const char *dir;	/* its working directory, or NULL */
	const char *cgroup;	/* the cgroup.procs file of a cgroup it
				 * joins (au_spawn's cgroup), or NULL */
	int64_t timeout_ms;	/* initialize, tools/list, ping; 0: 30 s */
	int64_t grace_ms;	/* on closing, the wait after closing its
				 * stdin and again after SIGTERM; over HTTP
				 * the longest a notification, an answer or
				 * the DELETE may take; 0: 2 s */
	size_t max_msg;		/* biggest message taken; 0: 16 MiB */
	size_t max_stderr;	/* bytes of its stderr kept (the last ones)
				 * and passed on (the first); 0: 64 KiB */
	int pass_stderr;	/* 1: copy its stderr to ours as well */
	/* fn(arg, method, params) for each notification the server sends
	 * (notifications/progress of the call under way, and any other:
	 * notifications/message, ...): params is borrowed, jv_null() when
	 * absent.  NULL: they are dropped. */
	void (*notify)(void *arg, const char *method, jv params);
	/* fn(arg, msg) for what is noted and ignored: answers to requests
	 * nobody waits for, requests of the server it cannot have answered.
	 * NULL: au_note. */
	void (*note)(void *arg, const char *msg);
	void *arg;
	/* While a tools/call waits: when it says stop, the call is
	 * cancelled as at its timeout (borrowed, living as long as the
	 * session); or NULL. */
	struct au_watch *watch;
};

struct au_mcp;
/* Start the server of c, or reach it at c->url (c borrowed; c->argv,
 * c->env and c->headers need to live only during the call), and
 * initialize the session: *m, or NULL on failure (69, or 70 a system
 * failure). */
int au_mcp_open(const struct au_mcp_conf *c, struct au_mcp **m);
/* The protocol version the server chose (lives as long as m). */
const char *au_mcp_version(const struct au_mcp *m);
/* The server's initialize result: serverInfo, capabilities, ... */
jv au_mcp_server(const struct au_mcp *m);
/* Every tool of the server, all pages of tools/list in one array, within
 * one timeout. */
int au_mcp_tools(struct au_mcp *m, jv *tools);
/* Call tool with args (an object, or jv_null() for none) within
 * timeout_ms (0: the session's timeout).  0 with the result in *result
 * (isError in it says whether the tool failed), or 1 with the JSON-RPC
 * error object there; jv_invalid() otherwise.  With notify set, the call
 * asks for progress notifications, its progressToken its request id. */
int au_mcp_call(struct au_mcp *m, const char *tool, jv args,
    int64_t timeout_ms, jv *result);
/* au_mcp_call in two steps, so that several calls can be on their way
 * at once (pipelined, where au_mcp_pipelines says the transport can):
 * au_mcp_call_send sends the call (args consumed), 0 with its request id
 * in *id or 69; au_mcp_call_wait waits timeout_ms from now (or until
 * the session's watch says stop) for its answer, keeping those of other
 * calls sent for their turn, and returns as au_mcp_call.  Wait for
 * every call sent, in any order.  Progress of a call is handed on only
 * while it is waited for. */
int au_mcp_call_send(struct au_mcp *m, const char *tool, jv args,
    int64_t *id);
int au_mcp_call_wait(struct au_mcp *m, const char *tool, int64_t id,
    int64_t timeout_ms, jv *result);
/* Whether requests may be sent before earlier ones are answered: 1 over
 * stdio, 0 over HTTP (one request at a time). */
int au_mcp_pipelines(const struct au_mcp *m);
/* Ping the server. */
int au_mcp_ping(struct au_mcp *m);
/* The last bytes of the server's stderr (up to max_stderr), *len of
 * them (none over HTTP); NUL-terminated, living until the next call on
 * m. */
const char *au_mcp_stderr(const struct au_mcp *m, size_t *len);
/* End the session: close the server's stdin, wait the grace period, then
 * SIGTERM its process group, wait again, SIGKILL.  Returns how the server
 * ended, as au_proc_wait tells it; frees m (NULL is a no-op, 0).  Over
 * HTTP: a DELETE of the session within the grace period, and 0. */
int au_mcp_close(struct au_mcp *m);

/* ---- the audit log (audit.c) ------------------------------------------
 *
 * Events are appended to audit_events, each sealed with AES-256-GCM under
 * the key of the current epoch (associated data: its sequence number and
 * the previous hash) and chained: hash = SHA-256 over the previous hash,
 * the sequence number, the time, the key epoch, the content digest (of
 * one salted commitment per leaf of the record) and the digest of nonce
 * and ciphertext.  Signed checkpoints (Ed25519) fix the size and head.
 * agentutils-audit(5) gives every byte.  An au_audit handle belongs to
 * one thread; several handles, in threads or processes, may append to
 * one state file at once. */

#define AU_AUDIT_HASH 32	/* bytes of a hash */
#define AU_AUDIT_SALT 32	/* bytes of an event's salt */
#define AU_AUDIT_NONCE 12	/* bytes of a GCM nonce */
#define AU_AUDIT_TAG 16		/* bytes of a GCM tag */

/* Where the keys live: files named by options, or NULL for the defaults
 * under $XDG_CONFIG_HOME/agentutils/ (audit.key, audit-sign.key,
 * audit-sign.pub). */
struct au_audit_files {
	const char *key;	/* encryption keys, one "EPOCH HEX" per line */
	const char *signing;	/* Ed25519 private key, PKCS#8 PEM */
	const char *pubkey;	/* its public key, SubjectPublicKeyInfo PEM */
};

/* Create the encryption key file (epoch 1) and the signing key pair,
 * mode 0600 (the public key 0644): 0, 73 when one exists already or
 * cannot be written. */
int au_audit_init(const struct au_audit_files *f);
/* Start a new key epoch: a new key appended to the key file (replaced
 * atomically) and named in db.  *epoch is set to it.  0, 78, 73, 74. */
int au_audit_rotate(struct sqlite3 *db, const struct au_audit_files *f,
    int *epoch);

/* The encryption keys of every epoch, read from a 0600 file. */
struct au_audit_keys;
int au_audit_keys_load(const char *path, struct au_audit_keys **k);
void au_audit_keys_free(struct au_audit_keys *k);
/* An Ed25519 public key for checking checkpoints. */
struct au_audit_pub;
int au_audit_pub_load(const char *path, struct au_audit_pub **p);
/* The same from the n bytes of PEM at pem, named name in messages. */
int au_audit_pub_parse(const char *name, const char *pem, size_t n,
    struct au_audit_pub **p);
void au_audit_pub_free(struct au_audit_pub *p);

struct au_audit;
/* Append to the log in db with the keys of f: 0, 66 a key file is
 * missing (au_audit_init makes them), 78 one is not 0600, or malformed,
 * or not the key the log knows for its epoch, or older than the log's
 * latest epoch.  Checkpoints are signed every cp_events events and every
 * cp_ms milliseconds (0: the defaults, 1000 events and 10 s) and when the
 * handle is closed. */
int au_audit_open(struct sqlite3 *db, const struct au_audit_files *f,
    int64_t cp_events, int64_t cp_ms, struct au_audit **a);
/* au_audit_open with the default keys, for a program that audits what
 * it changes: NULL after a warning "not audited: why (hint)" when there
 * are no keys yet (so that it goes on unaudited); any other failure
 * dies. */
struct au_audit *au_xaudit_open(struct sqlite3 *db, const char *hint);
/* Append rec (borrowed) as the next event, in the caller's transaction
 * if one is open, else in one of its own.  seq and hash (may be NULL)
 * receive the event's number and hash.  0, or 75/74 from the state
 * file, 65 when rec is not an object. */
int au_audit_append(struct au_audit *a, jv rec, int64_t *seq,
    unsigned char hash[AU_AUDIT_HASH]);
/* The same in two steps, so that the costly part can run in parallel:
 * au_audit_prepare (thread-safe; rec borrowed) salts, digests and
 * serializes a record, NULL with au_errmsg() set when it is not an
 * object; au_audit_append_prep appends it and frees it.  A prepared
 * record is one malloc'd block (au_in_prepare can hand it over); one
 * not appended is freed with au_audit_prep_free, which wipes it. */
struct au_audit_prep;
struct au_audit_prep *au_audit_prepare(jv rec);
/* The same for a line of JSON text that au_json_check accepts, sealed as
 * it stands, unparsed: NULL when au_json_dump would not write its record
 * so (white space, other escapes or numbers, twin names...). */
struct au_audit_prep *au_audit_prepare_text(const char *json, size_t n);
int au_audit_append_prep(struct au_audit *a, struct au_audit_prep *p,
    int64_t *seq, unsigned char hash[AU_AUDIT_HASH]);
void au_audit_prep_free(struct au_audit_prep *p);
/* Begin a write transaction for a run of appends that reads the log's
 * head once, not per event: 0, or 75/74.  End it with au_audit_commit
 * (0, or 75/74 rolled back) or au_audit_rollback, not au_db_*. */
int au_audit_begin(struct au_audit *a);
int au_audit_commit(struct au_audit *a);
void au_audit_rollback(struct au_audit *a);
/* Sign a checkpoint of the log as it stands now, unless one of this size
 * exists: 0, or 75/74. */
int au_audit_checkpoint(struct au_audit *a);
/* Sign the n bytes at msg with the log's Ed25519 key (for files that
 * travel with an export): 0 or 70. */
int au_audit_sign(struct au_audit *a, const void *msg, size_t n,
    unsigned char sig[64]);
/* The log's name in its checkpoints: "agentutils.audit/" and its id. */
const char *au_audit_origin(const struct au_audit *a);
/* Whether p is the public half of the log's signing key: 1 or 0. */
int au_audit_pub_matches(const struct au_audit *a,
    const struct au_audit_pub *p);
/* Checkpoint if anything was appended since the last, and free: 0 or the
 * checkpoint's failure. */
int au_audit_close(struct au_audit *a);

/* SHA-256 as sha256sum(1) computes it, fed piece by piece: for the
 * checksums of files that travel with an export.  au_sha256_end frees. */
struct au_sha256;
struct au_sha256 *au_sha256_new(void);
void au_sha256_add(struct au_sha256 *h, const void *p, size_t n);
void au_sha256_end(struct au_sha256 *h, unsigned char out[AU_AUDIT_HASH]);

/* The building blocks, for checking a log or an export. */
/* hash of an event from the previous hash and what it covers. */
void au_audit_chain(const unsigned char prev[AU_AUDIT_HASH], int64_t seq,
    int64_t ts, int epoch, const unsigned char content[AU_AUDIT_HASH],
    const unsigned char sealed[AU_AUDIT_HASH],
    unsigned char out[AU_AUDIT_HASH]);
/* The digest of a nonce and ciphertext (tag included). */
void au_audit_sealed(const unsigned char nonce[AU_AUDIT_NONCE],
    const unsigned char *ct, size_t n, unsigned char out[AU_AUDIT_HASH]);
/* Open an event sealed under keys: the record and its salt, or 1 with
 * au_errmsg() saying why (no key for the epoch, a bad tag, not JSON). */
int au_audit_open_event(const struct au_audit_keys *k, int64_t seq,
    const unsigned char prev[AU_AUDIT_HASH], int epoch,
    const unsigned char nonce[AU_AUDIT_NONCE], const unsigned char *ct,
    size_t n, jv *rec, unsigned char salt[AU_AUDIT_SALT]);
/* The same, but only the content digest of the record, recomputed from
 * its text as sealed, unparsed: quicker, for checking every event.  k
 * keeps a cipher context for the next call (one thread at a time). */
int au_audit_open_digest(struct au_audit_keys *k, int64_t seq,
    const unsigned char prev[AU_AUDIT_HASH], int epoch,
    const unsigned char nonce[AU_AUDIT_NONCE], const unsigned char *ct,
    size_t n, unsigned char content[AU_AUDIT_HASH]);
/* The key id of epoch's key in k (16 hex digits), or NULL. */
const char *au_audit_key_id(const struct au_audit_keys *k, int epoch);
/* The content digest of rec (borrowed).  Each leaf's salt is derived from
 * salt when it is not NULL, else looked up in salts (an object of JSON
 * Pointer -> hex); the leaves named in redacted (pointer -> hex
 * commitment) count with their commitment, and rec must hold
 * "[REDACTED]" at them or above them, nothing beneath.  0, or 1 with
 * au_errmsg() set. */
int au_audit_digest(jv rec, const unsigned char *salt, jv salts,
    jv redacted, unsigned char out[AU_AUDIT_HASH]);
/* rec (borrowed) with the subtrees at the JSON Pointers in roots (an
 * array, borrowed) replaced by "[REDACTED]": an object with "record",
 * "salts" (of the leaves left) and "redacted" (commitments of the leaves
 * removed), which au_audit_digest checks; with nothing to remove,
 * "salt" (hex) instead of "salts". */
jv au_audit_redact(jv rec, const unsigned char salt[AU_AUDIT_SALT],
    jv roots);
/* Check a checkpoint note against pub: 0 with its size, head and time,
 * or 1 with au_errmsg() set. */
int au_audit_note_check(const struct au_audit_pub *pub, const char *note,
    int64_t *size, unsigned char head[AU_AUDIT_HASH], int64_t *ts);
/* Check the body of a note and its raw signature: the same. */
int au_audit_body_check(const struct au_audit_pub *pub, const char *body,
    const unsigned char sig[64], int64_t *size,
    unsigned char head[AU_AUDIT_HASH], int64_t *ts);
/* Check a raw Ed25519 signature of n bytes: 0, or 1 with au_errmsg(). */
int au_audit_pub_verify(const struct au_audit_pub *pub, const void *msg,
    size_t n, const unsigned char sig[64]);
/* The note's body, the text its signature covers, and the raw 64-byte
 * signature, for checking with openssl: 0 or 1. */
int au_audit_note_split(const char *note, char **body,
    unsigned char sig[64]);
/* Hex of n bytes into out (2n + 1 bytes); parse back: 0 or -1. */
char *au_hex(const unsigned char *p, size_t n, char *out);
int au_unhex(const char *s, unsigned char *p, size_t n);

/* ---- the tool gateway: registry, policy, grants (tg.c) -----------------
 *
 * agentutils-tools(5) describes the files: ToolSpecs in tools.d/NAME.json,
 * MCP servers in mcp.json, the policy in policy.json.  Problems found
 * while loading are appended to the caller's array *problems as strings
 * "file:line: what", for the caller to report ("prog: " before each). */

/* MCP's tool annotations, as bits. */
enum {
	AU_TG_READ_ONLY = 1,
	AU_TG_DESTRUCTIVE = 2,	/* default: set unless read-only */
	AU_TG_IDEMPOTENT = 4,
	AU_TG_OPEN_WORLD = 8,	/* default set, as in MCP */
};

/* What a local tool or a stdio MCP server needs of its sandbox. */
struct au_tg_sandbox {
	int network;		/* it may use the network */
	char **read, **write;	/* paths it may read, write; NULL-ended */
	char **env;		/* variables passed on to it; NULL-ended */
	struct au_limit limits[4];	/* RLIMIT_AS, _CPU, _NPROC, _FSIZE */
	int nlimits;		/* those given */
	int64_t timeout_ms;	/* 0: the caller's default */
};

struct au_tg_tool {
	const char *name;	/* "grep", or "server/tool" for MCP */
	const char *server;	/* its MCP server, or NULL: a local tool */
	char **command;		/* argv template, NULL-ended (local) */
	unsigned annotations;	/* AU_TG_* */
	struct au_tg_sandbox sandbox;
	jv record;		/* the "tool" record tg-list writes */
	const char *file;	/* where it is defined */
	long line;
};

struct au_tg_server {
	const char *name;
	const char *command;	/* a stdio server: its program, */
	char **args;		/* its arguments (NULL-ended), */
	jv env;			/* and variables set for it (secret) */
	const char *url;	/* a Streamable HTTP server: its endpoint */
	jv headers;		/* and its HTTP headers (secret) */
	struct au_tg_sandbox sandbox;	/* stdio servers */
	jv record;		/* the "mcp.server" record, values left out */
	const char *file;
	long line;
};

struct au_tg_reg {
	struct au_tg_tool *tools;	/* by file name, then order in it */
	size_t ntools;
	struct au_tg_server *servers;	/* in their order in mcp.json */
	size_t nservers;
};

/* Load the ToolSpecs in the directory tools and the servers in the file
 * mcp (NULL: tools.d and mcp.json of the configuration, which may be
 * missing).  A bad file or entry is noted in *problems and skipped;
 * tools whose name is taken already too.  0, or 66 a named directory or
 * file is missing, 74 unreadable, 78 no home directory. */
int au_tg_load(const char *tools, const char *mcp, struct au_tg_reg **reg,
    jv *problems);
/* The tool called name, or NULL. */
const struct au_tg_tool *au_tg_find(const struct au_tg_reg *reg,
    const char *name);
void au_tg_free(struct au_tg_reg *reg);
/* Whether g is a usable glob: not empty, no control characters, each '['
 * closed; 0, or 65 with au_errmsg(). */
int au_tg_glob_check(const char *g);

/* The argv of a call: the words of tmpl (NULL-ended) with each word
 * "{name}" replaced by args' member name (borrowed): a string as it is,
 * another value as JSON text, a missing or null one dropping the word.
 * Nothing goes through a shell.  0 with *argv (free with
 * au_tg_strv_free), or 65 for a string with a NUL byte. */
int au_tg_argv(char *const *tmpl, jv args, char ***argv);
/* Free a NULL-ended array of strings and the strings. */
void au_tg_strv_free(char **v);

/* The policy: its rules, its default, and the grants given to it.  It
 * loads whole or not at all (78 with every problem noted). */
struct au_tg_policy;
/* Load path (NULL: policy.json of the configuration; missing, an empty
 * policy whose default is "ask"): 0, 66 a named file is missing, 74, 78. */
int au_tg_policy_load(const char *path, struct au_tg_policy **p,
    jv *problems);
/* The same from the n bytes at text, called file in messages. */
int au_tg_policy_parse(const char *file, const char *text, size_t n,
    struct au_tg_policy **p, jv *problems);
/* The grants to weigh (tool.grant records, as au_tg_grant_list gives;
 * revoked ones are left out), in place of any given before: 0, or 65. */
int au_tg_policy_grants(struct au_tg_policy *p, jv grants);
/* The tool.decision record on call (a tool.call record, borrowed) of
 * tool t at now_ms: a matching deny rule wins, then a grant in force,
 * then an allow rule, then an ask rule, then the default. */
jv au_tg_decide(struct au_tg_policy *p, const struct au_tg_tool *t, jv call,
    int64_t now_ms);
void au_tg_policy_free(struct au_tg_policy *p);

/* Grants in the state file; a change goes to the audit log a (NULL:
 * none) in its transaction, the caller's if one is open.  Add one for
 * the tools matching glob tool, calls matching jq where (or NULL),
 * until expires_ms (0: no end), by whom, why (note), from which approval
 * request (or NULL): 0 with its tool.grant record, 64 a bad glob or jq. */
int au_tg_grant_add(struct sqlite3 *db, struct au_audit *a, const char *tool,
    const char *where, int64_t expires_ms, const char *note, const char *by,
    const char *approval, jv *grant);
/* Revoke grant id: 0 with its record, 66 no such grant, 1 revoked
 * already. */
int au_tg_grant_revoke(struct sqlite3 *db, struct au_audit *a,
    const char *id, const char *by, jv *grant);
/* The grants in force at now_ms (all with all), oldest first. */
int au_tg_grant_list(struct sqlite3 *db, int all, int64_t now_ms, jv *list);

/* File the approval request for call (borrowed) that "ask" needs, from
 * au_prog: subject au_tg_ask_subject's, summary its arguments as JSON,
 * details the call record. */
int au_tg_ask(struct sqlite3 *db, jv call, int64_t expires_ms,
    char id[AU_ID_LEN]);
/* The subject of that request (malloc'd): "tool NAME call ID", ID the
 * call's id, a string as it is or a number as JSON writes it; "tool
 * NAME" for a call with no such id; NULL for a call without a valid
 * tool name. */
char *au_tg_ask_subject(jv call);
/* The tool an approval.request record (borrowed) is about, if au_tg_ask
 * filed it (malloc'd), else NULL. */
char *au_tg_asked(jv request);

/* ---- a tool call from start to end (gateway.c) ------------------------
 *
 * tg-invoke(1) tells the steps: validate, decide, ask, run, audit. */

struct au_gw_conf {
	struct sqlite3 *db;	/* grants and approval requests */
	struct au_audit *audit;	/* where calls are audited, or NULL */
	const char *tools, *mcp, *policy;	/* NULL: the defaults */
	int dryrun;		/* decide, run nothing */
	int nowait;		/* file approval requests, do not wait */
	int nosandbox;		/* run without firejail (audited) */
	int64_t approval_ms;	/* an approval request's time */
	int64_t timeout_ms;	/* a call's time when its spec gives none */
	size_t max_output;	/* bytes of a tool's stdout, stderr kept */
	volatile sig_atomic_t *stop;	/* set: stop waiting; or NULL */
	int noaudit;		/* au_xgw_open: open no audit log */
	/* fn(arg, server, method, params) for each notification of an MCP
	 * server during a call (progress, log messages): params borrowed.
	 * NULL: dropped. */
	void (*notify)(void *arg, const char *server, const char *method,
	    jv params);
	void *arg;
	struct au_tg_reg *reg;	/* the registry, loaded already (borrowed);
				 * NULL: loaded from tools and mcp */
	int listing;		/* only au_gw_listed: no policy, no grants */
	/* While a tool runs, an MCP call or an approval waits: when it
	 * says stop, the tool is stopped as at its timeout, the call
	 * cancelled, or the approval request withdrawn and nothing run,
	 * and the result says "cancelled"; or NULL. */
	struct au_watch *watch;
};
/* The defaults: approvals 5m, calls 60s, output 1M. */
#define AU_GW_CONF_INIT { NULL, NULL, NULL, NULL, NULL, 0, 0, 0, \
	5 * 60 * 1000, 60 * 1000, 1 << 20, NULL, 0, NULL, NULL, NULL, 0, \
	NULL }

/* The options of the programs that make calls, for their option tables:
 * AU_GW_OPTS_CONF the files (--tools, --mcp, --policy), AU_GW_OPTS_RUN
 * how calls run (--no-wait, --approval-timeout, --timeout, --max-output,
 * --sandbox, --no-audit); au_gw_opt takes them. */
enum {
	AU_GW_TOOLS = AU_LONG + 64, AU_GW_MCP, AU_GW_POLICY, AU_GW_NOWAIT,
	AU_GW_APPROVAL, AU_GW_TIMEOUT, AU_GW_MAXOUT, AU_GW_SANDBOX,
	AU_GW_NOAUDIT
};
#define AU_GW_OPTS_CONF \
	{ AU_GW_TOOLS, "tools", "DIR", "the ToolSpecs in DIR, not tools.d", \
	    "DIR" }, \
	{ AU_GW_MCP, "mcp", "FILE", "the MCP servers in FILE, not mcp.json", \
	    "FILE" }, \
	{ AU_GW_POLICY, "policy", "FILE", "the policy in FILE, not " \
	    "policy.json", "FILE" }
#define AU_GW_OPTS_RUN \
	{ AU_GW_NOWAIT, "no-wait", NULL, "file approval requests, do not " \
	    "wait", NULL }, \
	{ AU_GW_APPROVAL, "approval-timeout", "DUR", "wait DUR at most for " \
	    "an approval (default 5m)", NULL }, \
	{ AU_GW_TIMEOUT, "timeout", "DUR", "a call's time unless its spec " \
	    "says (default 60s)", NULL }, \
	{ AU_GW_MAXOUT, "max-output", "SIZE", "keep SIZE of a tool's output " \
	    "(default 1M)", NULL }, \
	{ AU_GW_SANDBOX, "sandbox", "KIND", "firejail (the default) or none", \
	    "firejail none" }, \
	{ AU_GW_NOAUDIT, "no-audit", NULL, "keep the calls out of the audit " \
	    "log", NULL }
/* Take option id (an AU_GW_* one) with its arg into c: 1, or 0 for
 * another option.  A bad value exits 64 with cmd's usage. */
int au_gw_opt(const struct au_cmd *cmd, struct au_gw_conf *c, int id,
    const char *arg);
/* Open what c asks for, for a program: firejail looked for (unless
 * nosandbox or dryrun: 69 without it), the state file into c->db, the
 * audit log into c->audit (unless noaudit: 66 or 78 without keys), then
 * the gateway, its loading problems warned about; dies on failure. */
struct au_gw *au_xgw_open(struct au_gw_conf *c);
/* au_gw_close, then the audit log of c closed (74 if that fails), and
 * the state file. */
void au_xgw_close(struct au_gw *g, struct au_gw_conf *c);
struct au_gw;
/* Load the registry, the policy and the grants: 0, or what au_tg_load,
 * au_tg_policy_load or the state file say, the problems of loading in
 * *problems either way.  c must outlive *g; the gateway reads it as it
 * goes, so a change of c->arg, say, holds from the next call. */
int au_gw_open(const struct au_gw_conf *c, struct au_gw **g, jv *problems);
/* Make the call (a tool.call record, borrowed): its tool.result record
 * (with dryrun its tool.decision), and in *rc its exit status: 0, 1 the
 * tool failed, 65 a bad call, 69 cannot run, 75 waiting for an approval,
 * 77 denied.  Dies only when the state file or the audit log fails. */
jv au_gw_call(struct au_gw *g, jv call, int *rc);
/* Make the n calls (borrowed) as au_gw_call makes each, as a batch: the
 * call and decision events of all committed in one transaction before
 * any runs, their results in another after all ran; fn(arg, i, result
 * (consumed), rc) for each in order.  An ask ends a batch: the calls
 * before it are answered before it waits. */
void au_gw_calls(struct au_gw *g, const jv *calls, size_t n,
    void (*fn)(void *arg, size_t i, jv res, int rc), void *arg);
/* Every tool, local and of the MCP servers that answer, as MCP's Tool
 * objects (inputSchema, annotations' hints), server tools named
 * server/tool: 0. */
int au_gw_tools(struct au_gw *g, jv *tools);
/* The tools of every MCP server, as "mcp.tool" records (name
 * server/tool, server, fetched, and the MCP Tool object as tool): from
 * the cache in the state file when it is younger than ttl_ms, else from
 * the server, whose answer is cached.  A server that cannot be reached
 * is noted in *problems and its cached tools, if any, listed: 69 then,
 * else 0 (or 75/74 from the state file). */
int au_gw_listed(struct au_gw *g, int64_t ttl_ms, jv *recs, jv *problems);
/* End the MCP sessions and free (NULL: nothing). */
void au_gw_close(struct au_gw *g);

/* ---- the sandbox (sandbox.c) ------------------------------------------
 *
 * agentutils-tools(5) tells what a sandbox allows. */

/* The firejail command line that runs cmd (NULL-ended) confined to sb:
 * no network unless sb->network, the file system read-only but for
 * sb->write, a private home and /tmp showing only the paths of sb beneath
 * them, no capabilities, no new privileges, seccomp, sb's limits.  0 with
 * *argv (free with au_tg_strv_free), or 78 for a relative path. */
int au_sandbox_argv(const struct au_tg_sandbox *sb, char *const *cmd,
    char ***argv);
/* The environment of a sandboxed program: PATH, HOME, USER, LOGNAME,
 * LANG, LC_ALL, LC_CTYPE, LC_MESSAGES, TZ and TERM, and the variables
 * sb->env names, as we have them, then the NAME=VALUE strings of extra
 * (NULL-ended, or NULL) over them.  Free with au_tg_strv_free. */
char **au_sandbox_env(const struct au_tg_sandbox *sb, char *const *extra);
/* Root is not bound by RLIMIT_NPROC: for root and a sandbox with an
 * nproc limit, a pids cgroup of its own beneath ours (cgroup v1's pids
 * hierarchy, or v2 where our cgroup gives pids to its children) allowing
 * nproc processes besides firejail's own two.  0 with *procs its
 * cgroup.procs file, for au_spawn's (or au_mcp_conf's) cgroup, or NULL
 * when there is none to make (not root, no nproc limit, no such
 * hierarchy); 69 when it cannot be made. */
int au_sandbox_cgroup(const struct au_tg_sandbox *sb, char **procs);
/* Remove the cgroup of procs once its processes have ended; free procs
 * (NULL is nothing). */
void au_sandbox_cgroup_end(char *procs);

/* ---- the model fabric: models.json, routes, circuits, spend (mf.c) -----
 *
 * agentutils-models(5) describes the file.  It loads what it can and
 * reports the rest, except its budgets, which load whole or not at all
 * (a budget skipped would let spending through). */

enum { AU_MF_OPENAI_KIND, AU_MF_ANTHROPIC_KIND, AU_MF_COMPAT_KIND };
enum { AU_MF_TOOLS = 1, AU_MF_VISION = 2, AU_MF_JSON = 4, AU_MF_STREAM = 8 };
enum { AU_MF_ORDERED, AU_MF_CHEAPEST, AU_MF_FASTEST, AU_MF_LEAST_BUSY,
    AU_MF_WEIGHTED };

struct au_mf_provider {
	char *name;
	int kind;		/* AU_MF_*_KIND */
	char *base_url;		/* without a trailing '/' */
	char *key_env;		/* the key's environment variable, or NULL */
	char *key_file;		/* the key's 0600 file, or NULL */
	char **headers;		/* "Name: value" lines, NULL-ended */
	int64_t connect_ms, timeout_ms, idle_ms;
	int max_concurrency;
	int cb_failures;	/* failures in a row that open the circuit */
	int64_t cb_cooldown_ms;	/* how long it stays open */
	int busy;		/* requests in flight: the caller keeps it */
};

struct au_mf_model {
	char *name;
	char *upstream;		/* the provider's name for it */
	struct au_mf_provider *provider;
	int64_t context;	/* tokens; 0 unknown */
	int64_t max_output;	/* tokens */
	double price_in, price_out, price_cached;  /* USD per million */
	unsigned caps;		/* AU_MF_TOOLS ... */
	double latency_ms;	/* measured (au_mf_latency_load); < 0 none */
};

struct au_mf_route {
	char *name;
	int strategy;		/* AU_MF_ORDERED ... */
	struct au_mf_model **cand;	/* ordered by the strategy */
	double *weight;		/* of each candidate */
	int ncand;
	struct au_mf_model **fallback;	/* tried after them, as listed */
	int nfallback;
};

struct au_mf_conf {
	struct au_mf_provider *providers;
	int nproviders;
	struct au_mf_model *models;
	int nmodels;
	struct au_mf_route *routes;
	int nroutes;
	double daily_usd, run_usd;	/* budgets; < 0 none */
};

/* Load models.json (path, or NULL for the default): 0 with what loaded
 * in *c and the problems (strings "file:line: what") appended to
 * *problems; 66 missing, 74 unreadable, 78 its budgets are bad (nothing
 * loaded). */
int au_mf_load(const char *path, struct au_mf_conf **c, jv *problems);
void au_mf_free(struct au_mf_conf *c);
struct au_mf_model *au_mf_model_find(const struct au_mf_conf *c,
    const char *name);
struct au_mf_route *au_mf_route_find(const struct au_mf_conf *c,
    const char *name);
/* The capability bit of a word ("tools", ...), or 0. */
unsigned au_mf_cap(const char *word);
/* The provider's API key, read from its variable or file: 0 with *key
 * malloc'd (NULL when none is configured), 78 the variable is unset or
 * empty or the file unsafe, 66 the file is missing. */
int au_mf_key(const struct au_mf_provider *p, char **key);

/* A request's prompt in tokens, estimated (4 bytes of JSON a token) from
 * its system, messages and tools (rec borrowed). */
int64_t au_mf_estimate(jv rec);
/* The most a request can cost on m: its prompt and max_tokens (0: the
 * model's max_output), in USD. */
double au_mf_cost_max(const struct au_mf_model *m, int64_t tokens,
    int64_t max_tokens);
/* What a response cost, from its usage. */
double au_mf_cost(const struct au_mf_model *m, int64_t in, int64_t out,
    int64_t cached);

/* What the router weighs a request by. */
struct au_mf_want {
	const char *name;	/* a model or a route */
	unsigned needs;		/* AU_MF_TOOLS ... */
	int64_t tokens;		/* the prompt, estimated */
	int64_t max_tokens;	/* 0: each model's max_output */
	double budget_left;	/* USD; < 0 no budget */
	int claim;		/* may claim a half-open circuit's probe */
};
/* The models to try for w, in order, into order (room for
 * 2 * c->nmodels); their number, and the decision in *explain (a new
 * object: candidates, strategy, excluded [{model, reason}], order).
 * Candidates are dropped for a missing capability, a context window too
 * small, an open circuit (db may be NULL: none are), or the budget.
 * -1 (65) when the name is neither a model nor a route. */
int au_mf_route(struct au_mf_conf *c, struct sqlite3 *db,
    const struct au_mf_want *w, struct au_mf_model **order, jv *explain);
/* Tell the provider's circuit how a request went: ok, or failed (a
 * connection error, a timeout or a 5xx); 0 or 75/74. */
int au_mf_circuit_report(struct sqlite3 *db, const struct au_mf_provider *p,
    int ok);
/* Each model's mean latency over its successful requests of the last
 * day, from mf_usage, into latency_ms. */
int au_mf_latency_load(struct au_mf_conf *c, struct sqlite3 *db);
/* USD spent since since_ms, in run if not NULL (all runs if NULL): 0 or
 * 74/75. */
int au_mf_spent(struct sqlite3 *db, int64_t since_ms, const char *run,
    double *usd);

/* ---- configuration and secrets (conf.c) ------------------------------- */

/* $XDG_CONFIG_HOME/agentutils/NAME, or ~/.config/agentutils/NAME;
 * malloc'd, or NULL (78, au_errmsg()) without a home directory. */
char *au_config_path(const char *name);
/* Who is acting, for the record: $USER, or the login name of the real
 * user id (static storage). */
const char *au_user(void);
/* The state file path: opt (--db), $AGENTUTILS_DB, then
 * $XDG_STATE_HOME/agentutils/state.db or ~/.local/state/agentutils/...;
 * malloc'd, or NULL as above. */
char *au_db_path(const char *opt);
/* Open a secret file for reading: it must be a regular file owned by us
 * and not readable or writable by group or others.  0 with *fd set; 66
 * missing or unreadable; 78 unsafe mode or owner. */
int au_secret_open(const char *path, int *fd);

/* ---- JSON Schema (jschema.c) ------------------------------------------
 *
 * Draft 2020-12 validation: every keyword of the validation vocabulary,
 * the applicators, boolean schemas, and $ref to JSON pointers within the
 * schema ("#", "#/$defs/name"); format is an annotation only; patterns
 * are ECMA-262 regular expressions; unknown keywords are ignored.
 * $dynamicRef, unevaluatedItems, unevaluatedProperties and $refs to other
 * documents or anchors are refused. */

#define AU_JSCHEMA_MAXERR 100	/* errors reported per instance at most */

struct au_jschema;
/* Compile schema once for many validations: 0, or 65 with au_errmsg()
 * naming the pointer of the bad part ("schema at \"/properties/a/type\":
 * ..."), a bad regular expression or a $ref loop among them. */
int au_jschema_compile(jv schema, struct au_jschema **s);
/* Validate instance (borrowed): 0 valid, 1 invalid.  With errors not
 * NULL, *errors is an array of {"instance", "schema", "error"} objects:
 * the instance's JSON pointer, the failing keyword's pointer in the
 * schema, and why (empty when valid). */
int au_jschema_validate(const struct au_jschema *s, jv instance,
    jv *errors);
void au_jschema_free(struct au_jschema *s);

/* ---- model wire formats (sse.c, mfwire.c) -----------------------------
 *
 * A model.request record (agentutils-records(5), model.request.schema.json)
 * holds "messages": {"role": "user"|"assistant"|"tool"|"system",
 * "content": TEXT or blocks [{"type":"text","text"}, {"type":"image",
 * "media_type","data" (base64)} or {"type":"image","url"}]}, an assistant's
 * "tool_calls" [{"id","name","arguments": OBJECT}], a tool result's
 * "tool_call_id" and "is_error"; and "system", "max_tokens",
 * "temperature", "tools" [{"name","description","input_schema"}],
 * "tool_choice" ("auto"|"none"|"required"|{"name"}), "response_format"
 * ({"type":"text"|"json"} or {"type":"json_schema","name","schema",
 * "strict"}).  An answer normalizes to {"content": TEXT, "tool_calls":
 * [{"id","name","arguments": OBJECT}], "finish_reason": "stop"|"length"|
 * "tool_calls"|"content_filter"|null, "usage": {"input_tokens" (cached
 * ones too), "output_tokens", "cached_tokens"}, "upstream_model"}.
 * mfwire.c's opening comment tells how each maps to each provider. */

/* Server-sent events, read incrementally: events of at most max_event
 * bytes of data (0: 1 MiB). */
struct au_sse *au_sse_new(size_t max_event);
/* Feed len bytes; cb(event type ("message" if none), data (lines joined
 * with LF, NUL-terminated), its length, arg) runs per complete event.
 * 0; cb's nonzero return (the rest of buf dropped); -1 with au_errmsg()
 * for an event or a line over max_event. */
int au_sse_feed(struct au_sse *s, const char *buf, size_t len,
    int (*cb)(const char *event, const char *data, size_t len, void *arg),
    void *arg);
/* The id of the last event (one without data too): NULL while the
 * stream has given none, "" when it cleared it with an empty one; the
 * reconnection time the stream asked for in ms, -1 if it did not. */
const char *au_sse_last_id(const struct au_sse *s);
long long au_sse_retry(const struct au_sse *s);
void au_sse_free(struct au_sse *s);

enum au_mf_wire { AU_MF_OPENAI, AU_MF_ANTHROPIC };

/* The body of request req (borrowed) for a provider of wire w and its
 * model upstream_model: max_tokens when req has none (0: none; Anthropic
 * needs one), streamed if stream.  jv_invalid_with_msg saying what is
 * wrong in req ("messages[2]: unknown role \"x\"") if it cannot be. */
jv au_mf_request_body(enum au_mf_wire w, jv req, const char *upstream_model,
    long max_tokens, int stream);
/* A whole answer's body: the normalized answer, or jv_invalid_with_msg
 * ("malformed response: ...", or "the provider's error: ..."). */
jv au_mf_response_parse(enum au_mf_wire w, const char *body, size_t len);
/* The message of an error body, either provider's shape: malloc'd, at
 * most 300 bytes and "...", no control characters; NULL if none. */
char *au_mf_error_message(enum au_mf_wire w, const char *body, size_t len);

/* A streamed answer, fed event by event (from au_sse_feed). */
struct au_mf_stream *au_mf_stream_new(enum au_mf_wire w);
/* One event: 0 more to come, 1 complete ([DONE], message_stop), -1 a
 * malformed or error event (*err malloc'd: "overloaded_error:
 * Overloaded").  *delta: what to report, {"text"} and/or {"tool_call":
 * {"index" (in tool_calls), "id" and "name" (first fragment only),
 * "arguments" (a fragment of JSON text)}}, or jv_invalid(). */
int au_mf_stream_event(struct au_mf_stream *s, const char *event,
    const char *data, size_t len, jv *delta, char **err);
/* The answer so far, as au_mf_response_parse gives it (finish_reason
 * null if it never came); jv_invalid_with_msg for bad tool arguments. */
jv au_mf_stream_result(struct au_mf_stream *s);
void au_mf_stream_free(struct au_mf_stream *s);

/* ---- paths beneath a root (beneath.c) ---------------------------------
 *
 * A path given to a confined program is relative to a root directory and
 * may not leave it: it is checked first (not absolute, no "..", shorter
 * than PATH_MAX), then resolved from the root's descriptor by openat2(2)
 * with RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS and RESOLVE_NO_MAGICLINKS, or,
 * without openat2 (or with $AGENTUTILS_NO_OPENAT2 set, for tests), one
 * component at a time with O_NOFOLLOW.  No symlink is followed, not even
 * one that stays inside.  Calls return 0, or with au_errmsg() set: 65 a
 * bad path (empty, too long), 66 missing or a component not a directory,
 * 73 exists (au_beneath_mkdir), 75 renamed under us too often, 77 an
 * absolute path, "..", a symlink on the way, or permission denied; 74
 * anything else. */

/* Check path: 0 with *clean (if not NULL) its components joined by one
 * '/' ("." for the root itself; malloc'd). */
int au_beneath_check(const char *path, char **clean);
/* Open path beneath the directory root with flags (O_CLOEXEC added;
 * O_NOFOLLOW in effect) and mode (for O_CREAT): *fd. */
int au_beneath_open(int root, const char *path, int flags, mode_t mode,
    int *fd);
/* Open the directory holding path's last component: *dir (O_RDONLY) and
 * *name, that component (malloc'd); 65 for the root itself. */
int au_beneath_parent(int root, const char *path, int *dir, char **name);
/* Make the directory path (mode before the umask), and with parents
 * its missing parents, none of them through a symlink; with parents an
 * existing directory is no error. */
int au_beneath_mkdir(int root, const char *path, int parents, mode_t mode);
/* Open the directory name in dir (one component) without following a
 * symlink: its fd, or -1 with errno set (ELOOP for a symlink). */
int au_beneath_opendir(int dir, const char *name);
/* The exit code for errno e met at path, as above, with au_errmsg()
 * "\"PATH\": what". */
int au_beneath_err(int e, const char *path);
/* Whether paths are resolved by the walk rather than openat2: 1 or 0. */
int au_beneath_walking(void);

/* ---- workspace sessions (ws.c) ---------------------------------------
 *
 * A terminal, browser or file session is a row of ws_sessions, read as a
 * "session" record (session.schema.json): id, kind, state (running,
 * detached, exited, dead, killed; a file session open or closed), pid
 * (its program), holder_pid (the process that keeps it) and socket
 * (where a detached one listens), argv, cwd, cols, rows, cast, created,
 * updated, ended (RFC 3339), exit_code, signal, root (a file session's).  Its transcript, ws_events, is append-only: input
 * records, and output segments (size, SHA-256, and the first AU_WS_KEEP
 * bytes as text).  Calls return 0, or with au_errmsg() set 65 bad
 * fields, 66 no such session, 75/74 from the state file. */

#define AU_WS_KEEP 65536	/* bytes of an output segment kept as text */

/* Whether state is final: exited, dead, killed or closed. */
int au_ws_final(const char *state);
/* Store a new session from fields (consumed; an object of the columns
 * above, kind required, state running if absent): its id into id. */
int au_ws_create(struct sqlite3 *db, jv fields, char id[AU_ID_LEN]);
/* Set the columns fields (consumed) names; a final state sets ended. */
int au_ws_update(struct sqlite3 *db, const char *id, jv fields);
/* The session record of id. */
int au_ws_get(struct sqlite3 *db, const char *id, jv *rec);
/* The sessions in state (NULL: all), oldest first. */
int au_ws_list(struct sqlite3 *db, const char *state, jv *list);
/* Append to id's transcript an event of kind ("input", "output",
 * "denied"): the record rec (consumed; jv_null() for none), text (the
 * n bytes at data, cut to AU_WS_KEEP at a character's start; NULL for
 * none), a size in bytes (-1: none) and a SHA-256 in hex (or NULL). */
int au_ws_log(struct sqlite3 *db, const char *id, const char *kind, jv rec,
    const char *data, size_t n, int64_t bytes, const char *sha256);
/* The transcript of id as session.event records, in order. */
int au_ws_transcript(struct sqlite3 *db, const char *id, jv *list);
/* Whether the holder pid is alive and, if path is not NULL, accepts a
 * connection on the Unix socket path: 1 or 0. */
int au_ws_alive(pid_t holder, const char *path);
/* Mark dead each session not final whose holder is not alive (a file
 * session has none to lose); *n says how many. */
int au_ws_reap(struct sqlite3 *db, int *n);
/* For a browser session rec (borrowed), remove what is left of the
 * temporary directory ws-browser made for it, its cwd (named
 * ws-browser.*, else untouched): the log of a browser that crashed, the
 * profile of one whose holder was killed.  Nothing for another kind. */
void au_ws_clear(jv rec);
/* The runtime directory for sockets, made mode 0700 if missing:
 * $XDG_RUNTIME_DIR/agentutils, or /tmp/agentutils-UID without it (an
 * absolute XDG_RUNTIME_DIR); *dir malloc'd.  73 cannot make it, 78 it
 * is not a directory of ours with mode 0700. */
int au_ws_rundir(char **dir);

/* A holder keeps a detached session for the command that started it
 * and serves one client at a time on RUNDIR/ID; a client (ws-pty
 * --session, ws-browser --session) attaches with records both ways.
 * Detach first, before opening anything the holder keeps: the command
 * exits from au_ws_xdetach, and the holder goes on. */
struct au_ws_holder;
/* Fork twice: the grandchild, in a session of its own, standard input
 * and output /dev/null, no other file of its caller's open, is the
 * holder, for whom this returns.  The command waits for the holder's
 * word (au_ws_xlisten) and exits: 0 having printed the session record,
 * the start's failure as the holder gave it, or 70 without a word. */
struct au_ws_holder *au_ws_xdetach(void);
/* With code 0, listen on RUNDIR/ID (0600) and record the socket in
 * session id; then give the command its word, code, and send standard
 * error to /dev/null.  A code not 0 is a start that failed (id unused). */
void au_ws_xlisten(struct au_ws_holder *h, struct sqlite3 *db,
    const char *id, int code);
/* The listening socket, to poll for clients. */
int au_ws_fd(const struct au_ws_holder *h);
/* Take a client knocking: its records (notify(arg) when ready, as
 * au_in_notify), or NULL when none came or one is attached already
 * (the newcomer is sent a session.error, status 75, and closed). */
struct au_in *au_ws_accept(struct au_ws_holder *h, void (*notify)(void *),
    void *arg);
/* A record line (n bytes, no newline) to the client, if one is attached
 * and still reading. */
void au_ws_send(struct au_ws_holder *h, const char *s, size_t n);
/* A session.error to the client, if any: its input line (0: none), the
 * status it counts as, the message. */
void au_ws_error(struct au_ws_holder *h, long line, int code,
    const char *msg);
/* The client goes: its records closed, its connection too. */
void au_ws_drop(struct au_ws_holder *h);
/* The end: the client dropped, the socket closed and removed, h freed. */
void au_ws_close(struct au_ws_holder *h);
/* Attach to session id of kind: its holder gets the records of files
 * (as au_in_open), those keep (NULL: all) lets through, one a line, the
 * line numbers kept; each line it sends back is written out, and fn
 * gets it as a record (borrowed) when it is one.  0 once the holder has
 * closed the connection, *instatus the input's au_in_status; 66 no such
 * session, 69 another kind, ended, not detached, or a holder gone (the
 * session then marked dead and its socket removed). */
int au_ws_attach(struct sqlite3 *db, const char *id, const char *kind,
    char *const *files, int nfiles,
    int (*keep)(struct au_in *, struct au_rec *, void *),
    void (*fn)(jv, void *), void *arg, int *instatus);

#endif
