/*
 * audit-write - append records to the audit log: each one sealed with
 * AES-256-GCM, chained by hash, the log signed at checkpoints.  It can sit
 * inside a pipeline (--tee) or answer with receipts; --init makes the keys
 * and --rotate starts a new key epoch.
 */
#include <signal.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "agentutils.h"

enum {
	O_INIT = AU_LONG, O_ROTATE, O_TEE, O_RECEIPTS, O_SYNC, O_KEY,
	O_SIGNING, O_PUBKEY, O_CP_EVENTS, O_CP_EVERY
};

static const struct au_opt opts[] = {
	{ O_TEE, "tee", NULL, "copy the input to standard output", NULL },
	{ O_RECEIPTS, "receipts", NULL, "print an audit.receipt per event",
	    NULL },
	{ O_SYNC, "sync", NULL, "commit each event before reading the next",
	    NULL },
	{ O_INIT, "init", NULL, "create the encryption and signing keys",
	    NULL },
	{ O_ROTATE, "rotate", NULL, "start a new encryption key epoch", NULL },
	{ O_KEY, "key", "FILE", "the encryption key file", "FILE" },
	{ O_SIGNING, "signing-key", "FILE", "the Ed25519 signing key",
	    "FILE" },
	{ O_PUBKEY, "pubkey", "FILE", "--init: where the public key goes",
	    "FILE" },
	{ O_CP_EVENTS, "checkpoint-events", "N",
	    "sign a checkpoint every N events (1000)", NULL },
	{ O_CP_EVERY, "checkpoint-interval", "DUR",
	    "sign a checkpoint at least every DUR (10s)", NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"audit-write", "[file ...]\n--init\n--rotate",
	"Append records to the encrypted, hash-chained audit log.",
	opts, AU_USE_DB | AU_USE_RECORDS, "FILE"
};

/* Events are committed in batches: at most this many, at most this old,
 * and whenever the input pauses for PAUSE_MS. */
#define BATCH 4096
#define BATCH_MS 5
#define PAUSE_MS 2

static volatile sig_atomic_t stopsig;

static void
onsig(int sig)
{
	stopsig = sig;
}

static sqlite3 *db;
static struct au_audit *log_;
static struct au_buf out = AU_BUF_INIT;	/* waiting for the commit */
static size_t batched;

/* Commit the batch, then let its lines out: what reaches standard output
 * is on record. */
static void
flush(void)
{
	int rc;

	if (batched > 0 && (rc = au_audit_commit(log_)) != 0) {
		au_audit_rollback(log_);
		au_die(rc, "%zu events not recorded: %s", batched,
		    au_errmsg());
	}
	batched = 0;
	if (out.len > 0)
		au_out_text(out.s, out.len);
	out.len = 0;
	au_out_eol();
}

static void
receipt(int64_t seq, const unsigned char hash[AU_AUDIT_HASH])
{
	char hx[2 * AU_AUDIT_HASH + 1];

	au_buf_adds(&out, "{\"type\":\"audit.receipt\",\"seq\":");
	au_buf_addint(&out, seq);
	au_buf_addf(&out, ",\"hash\":\"%s\"}\n",
	    au_hex(hash, AU_AUDIT_HASH, hx));
}

static void *
prepare(jv rec, void *arg)
{
	(void)arg;
	return au_audit_prepare(rec);
}

static void *
prepare_text(const char *json, size_t n, void *arg)
{
	(void)arg;
	return au_audit_prepare_text(json, n);
}

int
main(int argc, char **argv)
{
	struct au_audit_files files = { NULL, NULL, NULL };
	int tee = 0, receipts = 0, sync = 0, init = 0, rotate = 0;
	int64_t cp_events = 0, cp_ms = 0, seq, start = 0;
	unsigned char hash[AU_AUDIT_HASH];
	struct au_where *where = NULL;
	struct au_rec rec;
	struct au_in *in;
	const char *arg;
	char *end;
	int c, rc, keep, epoch, stopping = 0;

	au_setprog(argv[0]);
	/* The reading threads salt and digest records with OpenSSL while
	 * this thread may exit (74 on a full disk, say); OpenSSL's atexit
	 * clean-up would free its locks from under them. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	/* SQLite is called from this thread alone, on one connection: its
	 * locks around every call and every allocation (the latter for
	 * memory statistics nobody reads) cost 5% of this thread's work. */
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
#ifdef M_TRIM_THRESHOLD
	/* Records are made in the reading threads and freed here; glibc
	 * gave those threads' heaps back to the kernel and took them again
	 * some 10,000 times in 50,000 records (mprotect and page faults).
	 * Keep up to 64 MiB of free heap instead. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1)
		switch (c) {
		case O_TEE: tee = 1; break;
		case O_RECEIPTS: receipts = 1; break;
		case O_SYNC: sync = 1; break;
		case O_INIT: init = 1; break;
		case O_ROTATE: rotate = 1; break;
		case O_KEY: files.key = arg; break;
		case O_SIGNING: files.signing = arg; break;
		case O_PUBKEY: files.pubkey = arg; break;
		case O_CP_EVENTS:
			cp_events = strtoll(arg, &end, 10);
			if (*arg == '\0' || *end != '\0' || cp_events < 1)
				au_usage_die(&cmd, "--checkpoint-events: not "
				    "a positive number: %s", au_quote(arg));
			break;
		case O_CP_EVERY:
			cp_ms = au_opt_dur(&cmd, "--checkpoint-interval", arg);
			if (cp_ms < 1)
				au_usage_die(&cmd, "--checkpoint-interval: "
				    "must be more than 0");
			break;
		}
	if (tee && receipts)
		au_usage_die(&cmd, "--tee and --receipts: choose one");
	if (init + rotate > 1 || ((init || rotate) && (argc > au_optind ||
	    tee || receipts)))
		au_usage_die(&cmd, "--init and --rotate take no operands and "
		    "no other mode");
	if (init) {
		if ((rc = au_audit_init(&files)) != 0)
			au_die(rc, "%s", au_errmsg());
		au_note("keys created");
		return 0;
	}
	if (rotate) {
		db = au_xdb_open();
		if ((rc = au_audit_rotate(db, &files, &epoch)) != 0)
			au_die(rc, "%s", au_errmsg());
		au_note("key epoch %d", epoch);
		au_db_close(db);
		return 0;
	}
	if (au_opts.where != NULL)
		where = au_xwhere_new(au_opts.where);
	db = au_xdb_open();
	/* Durable at each commit, not only at the WAL's checkpoints. */
	if (sync && (rc = au_db_exec(db, "PRAGMA synchronous = FULL")) != 0)
		au_die(rc, "%s", au_errmsg());
	if ((rc = au_audit_open(db, &files, cp_events, cp_ms, &log_)) != 0)
		au_die(rc, "%s%s", au_errmsg(), rc == EX_NOINPUT ?
		    " (audit-write --init makes the keys)" : "");
	au_catch_stop(onsig);
	au_out_init();
	in = au_in_open(argv + au_optind, argc - au_optind);
	if (tee)
		au_in_keepraw(in);
	/* Salting, digesting and serializing each record happen in the
	 * reading threads; the chain is extended here, in order.  Only
	 * --where needs the records here; without it most lines are never
	 * parsed (au_audit_prepare_text). */
	au_in_prepare(in, prepare, NULL, where == NULL);
	if (where == NULL)
		au_in_prepare_text(in, prepare_text);
	for (;;) {
		/* A signal: read no more, but record what was read already
		 * (the reader may have taken many lines off a pipe). */
		if (stopsig && !stopping) {
			au_in_stop(in);
			stopping = 1;
		}
		/* Commit when the input pauses, and look at the signals
		 * now and then while it does. */
		if (!stopping &&
		    !au_in_wait(in, batched > 0 ? PAUSE_MS : 100)) {
			flush();
			continue;
		}
		if (!au_in_next(in, &rec))
			break;
		keep = 1;
		if (where != NULL && (keep = au_where_test(where, rec.v)) < 0) {
			au_in_reject(in, &rec, "--where: %s", au_errmsg());
			keep = 0;
		}
		if (keep) {
			if (batched == 0) {
				if ((rc = au_audit_begin(log_)) != 0)
					au_die(rc, "%s", au_errmsg());
				start = au_mono_ms();
			}
			rc = rec.prep == NULL ? EX_SOFTWARE :
			    au_audit_append_prep(log_, rec.prep, &seq, hash);
			rec.prep = NULL;
			if (rc != 0) {
				au_audit_rollback(log_);
				au_die(rc, "%s:%ld: %s; %zu events not "
				    "recorded", au_esc(rec.file), rec.line,
				    au_errmsg(), batched + 1);
			}
			batched++;
			if (receipts)
				receipt(seq, hash);
		}
		if (tee) {
			au_buf_add(&out, rec.raw, rec.rawlen);
			au_buf_addc(&out, '\n');
		}
		au_audit_prep_free(rec.prep);
		jv_free(rec.v);
		if (sync || batched >= BATCH ||
		    (batched > 0 && au_mono_ms() - start >= BATCH_MS))
			flush();
	}
	flush();
	if ((rc = au_audit_close(log_)) != 0)
		au_die(rc, "checkpoint: %s", au_errmsg());
	au_db_close(db);
	au_buf_free(&out);
	rc = stopsig ? 128 + stopsig : au_in_status(in);
	au_in_close(in);
	au_where_free(where);
	au_out_close();
	return rc;
}
