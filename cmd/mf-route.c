/*
 * mf-route - send model.request records to language models: each is
 * routed (models.json's routes, capabilities, context windows, circuits,
 * budgets), sent over HTTP with libcurl's multi interface (-j requests in
 * flight, connections kept), retried and failed over, streamed as
 * model.delta records if asked, and answered with a model.response
 * record; each is a row of mf_usage and an audit event.
 *
 * The input is read in the loop's own thread (au_in_polled): it is one
 * more descriptor for curl_multi_poll beside the transfers, so that a
 * request read costs no other thread's wake-up on the way in.
 */
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "agentutils.h"

enum { O_MODELS = AU_LONG, O_STREAM, O_KEEP, O_EXPLAIN, O_BUDGET, O_RETRIES,
    O_CONTENT, O_NOAUDIT, O_TEXT, O_SYSTEM, O_MAXTOK };

static const struct au_opt opts[] = {
	{ 'm', "model", "NAME", "send the prompt in the operands (or on "
	    "standard input) to NAME, a model or a route", NULL },
	{ O_MODELS, "models", "FILE", "the models.json to read", "FILE" },
	{ 'j', "jobs", "N", "requests in flight at once (default 8)", NULL },
	{ O_STREAM, "stream", NULL, "stream: model.delta records as the text "
	    "comes", NULL },
	{ O_KEEP, "keep-order", NULL, "write responses in the order of the "
	    "requests", NULL },
	{ O_EXPLAIN, "explain", NULL, "write each routing decision; send "
	    "nothing", NULL },
	{ O_BUDGET, "budget-usd", "USD", "refuse requests past this spend",
	    NULL },
	{ O_RETRIES, "retries", "N", "retries of one model (default 2)",
	    NULL },
	{ O_CONTENT, "audit-content", NULL, "put the messages and the answer "
	    "in the audit log too", NULL },
	{ O_NOAUDIT, "no-audit", NULL, "keep the requests out of the audit "
	    "log", NULL },
	{ 't', "text", NULL, "write the answers' text, not records", NULL },
	{ O_SYSTEM, "system", "TEXT", "-m: the system prompt", NULL },
	{ O_MAXTOK, "max-tokens", "N", "-m: the most tokens to answer with",
	    NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"mf-route", "[file ...]\n-m NAME [prompt ...]",
	"Route requests to language models; stream, retry, account.",
	opts, AU_USE_DB | AU_USE_RECORDS, "FILE"
};

/* ---- the settings and the shared state ------------------------------- */

static struct au_mf_conf *conf;
static struct sqlite3 *db;
static struct au_audit *audit;
static CURLM *multi;
static int jobs = 8, retries = 2, stream, keep_order, text, audit_content;
static double budget = -1;	/* --budget-usd; < 0 none */
static double spent, reserved;	/* by this process: done, in flight */
static volatile sig_atomic_t stop;
static int worst;

/* The provider's key, read once: NULL none, or the failure's message. */
struct key {
	char *key;
	char *err;
	int rc;
	int read;
};
static struct key *keys;

static void
onsignal(int sig)
{
	stop = sig;
	if (multi != NULL)
		curl_multi_wakeup(multi);
}

/* Keep the worse exit status: a failed request (69), a refused one (77),
 * a bad one (65), bad configuration (78). */
static void
outcome(int rc)
{
	static const int rank[] = { 0, EX_UNAVAILABLE, EX_NOPERM, EX_DATAERR,
	    EX_CONFIG };

	worst = au_worse(worst, rc, rank, sizeof rank / sizeof rank[0]);
}

/* ---- requests in ------------------------------------------------------ */

static struct au_in *input;	/* the records read, or NULL with -m */
static jv prompt_req;		/* -m's request, until it is taken */
static struct au_where *where;

/* What is wrong with a model.request (or a prompt task), or NULL. */
static const char *
bad_request(jv r)
{
	const char *type = au_jv_str(r, "type"), *kind = au_jv_str(r, "kind");
	jv m = jv_object_get(jv_copy(r), jv_string("messages"));
	jv_kind mk = jv_get_kind(m);
	const char *why = NULL;

	jv_free(m);
	if (type != NULL && strcmp(type, "task") == 0) {
		if (kind == NULL || strcmp(kind, "prompt") != 0)
			why = "not a prompt task";
		else if (au_jv_str(r, "prompt") == NULL)
			why = "a prompt task needs a \"prompt\"";
	} else if (type == NULL || strcmp(type, "model.request") != 0)
		why = "not a model.request record";
	else if (au_jv_str(r, "model") == NULL && au_jv_str(r, "route") ==
	    NULL)
		why = "a model.request needs a \"model\" or a \"route\"";
	else if (mk != JV_KIND_ARRAY)
		why = "\"messages\" must be an array";
	return why;
}

/* r (consumed) as a model.request: a prompt task of aw-sched (its record
 * on our standard input) asks its "model", or the model or route named
 * "default", its prompt as the user's message, its run and id as the
 * metadata. */
static jv
as_request(jv r)
{
	const char *type = au_jv_str(r, "type"), *model;
	const char *run = au_jv_str(r, "run_id"), *id = au_jv_str(r, "id");
	jv req, meta;

	if (strcmp(type, "task") != 0)
		return r;
	meta = jv_object();
	model = au_jv_str(r, "model");
	req = JV_OBJECT(jv_string("type"), jv_string("model.request"),
	    jv_string("model"), jv_string(model ? model : "default"),
	    jv_string("messages"), JV_ARRAY(JV_OBJECT(jv_string("role"),
	    jv_string("user"), jv_string("content"),
	    jv_object_get(jv_copy(r), jv_string("prompt")))));
	if (id != NULL) {
		req = jv_object_set(req, jv_string("id"), jv_string(id));
		meta = jv_object_set(meta, jv_string("task"), jv_string(id));
	}
	if (run != NULL)
		meta = jv_object_set(meta, jv_string("run"), jv_string(run));
	req = jv_object_set(req, jv_string("metadata"), meta);
	jv_free(r);
	return req;
}

/* The next request, if one is ready now (or, with block, once one is),
 * else invalid (then au_in_fd is what to poll for more); *done when none
 * will come.  Bad records are reported with their file and line here. */
static jv
next_request(int block, int *done)
{
	struct au_rec rec;
	const char *why;
	jv r;

	if (input == NULL) {
		r = prompt_req;
		prompt_req = jv_invalid();
		*done = 1;
		return r;
	}
	while (block || au_in_wait(input, 0)) {
		if (!au_in_next(input, &rec)) {
			*done = 1;
			break;
		}
		if ((why = bad_request(rec.v)) != NULL)
			au_in_reject(input, &rec, "%s", why);
		else if (where == NULL || au_where_test(where, rec.v) == 1)
			return as_request(rec.v);
		jv_free(rec.v);
	}
	return jv_invalid();
}

/* ---- one request -------------------------------------------------------- */

enum { R_NEW, R_RUNNING, R_WAITING, R_DONE };

struct req {
	jv rec;
	char id[256];
	long seq;
	int state;
	struct au_mf_model **order;
	int norder, cur, attempt;
	jv attempts;
	int64_t tokens, max_tokens;
	double reserve;
	const char *run, *task;
	int64_t t0, ta, ttft, last, due;
	/* the transfer */
	CURL *h;
	struct curl_slist *hdrs;
	char *body;
	struct au_buf resp;
	char ctype[128];
	char retry_after[64];
	int sse_on, complete, deltas;
	struct au_sse *sse;
	struct au_mf_stream *st;
	char *err;		/* what went wrong in a callback */
	/* the outcome */
	jv out;			/* the model.response record */
	int rc;
	int recorded;		/* its row is in the state file */
	struct au_mf_model *model;
	jv usage;
	double cost;
	struct req *next;
};

static struct req *live;	/* every request not yet written */
static int nlive;
static long nextseq, outseq;

static int
wire_of(const struct au_mf_model *m)
{
	return m->provider->kind == AU_MF_ANTHROPIC_KIND ? AU_MF_ANTHROPIC :
	    AU_MF_OPENAI;
}

/* What the messages ask for besides "needs": tools, images, JSON. */
static unsigned
implied_needs(jv rec)
{
	jv t = jv_object_get(jv_copy(rec), jv_string("tools"));
	jv f = jv_object_get(jv_copy(rec), jv_string("response_format"));
	jv m = jv_object_get(jv_copy(rec), jv_string("messages"));
	const char *ft = jv_get_kind(f) == JV_KIND_OBJECT ?
	    au_jv_str(f, "type") : NULL;
	unsigned needs = 0;

	if (jv_get_kind(t) == JV_KIND_ARRAY && jv_array_length(jv_copy(t)) > 0)
		needs |= AU_MF_TOOLS;
	if (ft != NULL && strcmp(ft, "text") != 0)
		needs |= AU_MF_JSON;
	jv_array_foreach(m, i, msg) {
		jv c = jv_object_get(msg, jv_string("content"));

		if (jv_get_kind(c) == JV_KIND_ARRAY) {
			jv_array_foreach(c, j, b) {
				const char *bt = jv_get_kind(b) ==
				    JV_KIND_OBJECT ? au_jv_str(b, "type") : NULL;

				if (bt != NULL && strcmp(bt, "image") == 0)
					needs |= AU_MF_VISION;
				jv_free(b);
				(void)j;
			}
		}
		jv_free(c);
		(void)i;
	}
	jv_free(t);
	jv_free(f);
	jv_free(m);
	return needs;
}

/* Today's spend in the state file, cached until the next flush. */
static double day_cache = -1;

/* The least that is left of the budgets that bind r: < 0 none bind. */
static double
budget_left(const struct req *r)
{
	double left = 0, s;
	int64_t now = au_now_ms();
	int bound = 0;

	if (budget >= 0) {
		left = budget - spent - reserved;
		bound = 1;
	}
	if (conf->daily_usd >= 0) {
		if (day_cache < 0 && au_mf_spent(db, now - now % 86400000,
		    NULL, &day_cache) != 0)
			au_die(EX_IOERR, "%s", au_errmsg());
		s = conf->daily_usd - day_cache - reserved;
		left = !bound || s < left ? s : left;
		bound = 1;
	}
	if (conf->run_usd >= 0 && r->run != NULL) {
		if (au_mf_spent(db, 0, r->run, &s) != 0)
			au_die(EX_IOERR, "%s", au_errmsg());
		s = conf->run_usd - s - reserved;
		left = !bound || s < left ? s : left;
		bound = 1;
	}
	return !bound ? -1 : left < 0 ? 0 : left;
}

/* ---- answers ------------------------------------------------------------ */

/* A response's start: its own id, and its request's. */
static jv
base_record(const struct req *r)
{
	char id[AU_ID_LEN];

	return JV_OBJECT(jv_string("type"), jv_string("model.response"),
	    jv_string("id"), jv_string(au_ulid(id)), jv_string("request_id"),
	    jv_string(r->id));
}

/* Finish r with an error: why, and the exit status it means. */
static void
fail(struct req *r, int rc, const char *why)
{
	jv o = base_record(r);

	if (r->model != NULL) {
		o = jv_object_set(o, jv_string("provider"),
		    jv_string(r->model->provider->name));
		o = jv_object_set(o, jv_string("model"),
		    jv_string(r->model->name));
	}
	o = jv_object_set(o, jv_string("error"), jv_string(why));
	o = jv_object_set(o, jv_string("latency_ms"),
	    jv_number((double)(au_mono_ms() - r->t0)));
	o = jv_object_set(o, jv_string("attempts"), jv_copy(r->attempts));
	r->out = o;
	r->rc = rc;
	r->state = R_DONE;
	outcome(rc);
	if (text)
		au_err("%s: %s", r->id, why);
	else
		au_warn("%s: %s", r->id, why);
}

/* Finish r with the normalized result res (consumed) from model m. */
static void
succeed(struct req *r, jv res)
{
	struct au_mf_model *m = r->model;
	jv u = jv_object_get(jv_copy(res), jv_string("usage"));
	jv o = base_record(r);
	int64_t in = 0, out = 0, cached = 0;

	if (jv_get_kind(u) == JV_KIND_OBJECT) {
		jv a = jv_object_get(jv_copy(u), jv_string("input_tokens"));
		jv b = jv_object_get(jv_copy(u), jv_string("output_tokens"));
		jv c = jv_object_get(jv_copy(u), jv_string("cached_tokens"));

		in = jv_get_kind(a) == JV_KIND_NUMBER ?
		    (int64_t)jv_number_value(a) : 0;
		out = jv_get_kind(b) == JV_KIND_NUMBER ?
		    (int64_t)jv_number_value(b) : 0;
		cached = jv_get_kind(c) == JV_KIND_NUMBER ?
		    (int64_t)jv_number_value(c) : 0;
		jv_free(a);
		jv_free(b);
		jv_free(c);
	}
	jv_free(u);
	r->cost = au_mf_cost(m, in, out, cached);
	o = jv_object_set(o, jv_string("provider"),
	    jv_string(m->provider->name));
	o = jv_object_set(o, jv_string("model"), jv_string(m->name));
	jv_object_foreach(res, k, v)
		o = jv_object_set(o, k, v);
	jv_free(res);
	o = jv_object_set(o, jv_string("usage"), JV_OBJECT(
	    jv_string("input_tokens"), jv_number((double)in),
	    jv_string("output_tokens"), jv_number((double)out),
	    jv_string("cached_tokens"), jv_number((double)cached)));
	o = jv_object_set(o, jv_string("cost_usd"), jv_number(r->cost));
	o = jv_object_set(o, jv_string("latency_ms"),
	    jv_number((double)(au_mono_ms() - r->t0)));
	o = jv_object_set(o, jv_string("ttft_ms"), r->ttft >= 0 ?
	    jv_number((double)r->ttft) : jv_null());
	o = jv_object_set(o, jv_string("attempts"), jv_copy(r->attempts));
	r->out = o;
	r->rc = 0;
	r->state = R_DONE;
}

/* ---- transfers ---------------------------------------------------------- */

/* Remove the secret from s (in place), should a server echo it. */
static void
scrub(char *s, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	if (n < 4)
		return;
	while ((p = strstr(s, secret)) != NULL) {
		memset(p, '*', 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

static int
on_event(const char *event, const char *data, size_t len, void *arg)
{
	struct req *r = arg;
	jv delta = jv_invalid();
	char *err = NULL;
	int rc = au_mf_stream_event(r->st, event, data, len, &delta, &err);

	if (rc < 0) {
		r->err = err != NULL ? err : au_xstrdup("malformed stream");
		return -1;
	}
	if (jv_is_valid(delta)) {
		if (r->ttft < 0)
			r->ttft = au_mono_ms() - r->t0;
		if (text) {
			const char *t = au_jv_str(delta, "text");

			if (t != NULL)
				au_out_text(t, strlen(t));
			au_out_eol();
		} else {
			jv o = JV_OBJECT(jv_string("type"),
			    jv_string("model.delta"), jv_string("request_id"),
			    jv_string(r->id), jv_string("index"),
			    jv_number(r->deltas));

			jv_object_foreach(delta, k, v)
				o = jv_object_set(o, k, v);
			au_out_rec(o);
			jv_free(o);
		}
		r->deltas++;
	}
	jv_free(delta);
	if (rc == 1)
		r->complete = 1;
	return 0;
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	char *ct = NULL;

	n *= size;
	r->last = au_mono_ms();
	if (r->resp.len == 0 && !r->sse_on) {
		long status = 0;

		curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(r->h, CURLINFO_CONTENT_TYPE, &ct);
		snprintf(r->ctype, sizeof r->ctype, "%s", ct ? ct : "");
		if (stream && status / 100 == 2 && strncasecmp(r->ctype,
		    "text/event-stream", 17) == 0) {
			r->sse_on = 1;
			r->sse = au_sse_new(0);
			r->st = au_mf_stream_new(wire_of(r->model));
		}
	}
	if (r->sse_on) {
		if (au_sse_feed(r->sse, p, n, on_event, r) == 0)
			return n;
		if (r->err == NULL)
			r->err = au_xasprintf("the stream: %s", au_errmsg());
		return 0;
	}
	if (r->resp.len + n > (size_t)64 << 20) {
		r->err = au_xstrdup("response larger than 64M");
		return 0;
	}
	if (r->ttft < 0)
		r->ttft = au_mono_ms() - r->t0;
	au_buf_add(&r->resp, p, n);
	return n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t len = size * n, v;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
		r->retry_after[0] = '\0';
	else if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
		for (v = 12; v < len && (p[v] == ' ' || p[v] == '\t'); v++)
			;
		while (len > v && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
		    p[len - 1] == ' '))
			len--;
		snprintf(r->retry_after, sizeof r->retry_after, "%.*s",
		    (int)(len - v), p + v);
	}
	return size * n;
}

static void
transfer_end(struct req *r)
{
	if (r->h != NULL) {
		curl_multi_remove_handle(multi, r->h);
		curl_easy_cleanup(r->h);
		r->h = NULL;
		r->model->provider->busy--;
	}
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
	free(r->body);
	r->body = NULL;
	au_buf_free(&r->resp);
	au_sse_free(r->sse);
	r->sse = NULL;
	au_mf_stream_free(r->st);
	r->st = NULL;
	r->sse_on = r->complete = 0;
	free(r->err);
	r->err = NULL;
	r->ctype[0] = r->retry_after[0] = '\0';
}

static struct key *
key_of(const struct au_mf_provider *p)
{
	struct key *k = &keys[p - conf->providers];

	if (!k->read) {
		k->read = 1;
		if ((k->rc = au_mf_key(p, &k->key)) != 0)
			k->err = au_xstrdup(au_errmsg());
	}
	return k;
}

static void next_model(struct req *r, int status, const char *why,
    int failure);

/* Start the attempt of r on its current model. */
static void
launch(struct req *r)
{
	struct au_mf_model *m = r->order[r->cur];
	struct au_mf_provider *p = m->provider;
	struct key *k = key_of(p);
	struct au_buf b = AU_BUF_INIT;
	char **hp, *url;
	jv body;

	r->model = m;
	if (k->rc != 0) {
		next_model(r, 0, k->err, 0);
		outcome(k->rc);
		return;
	}
	body = au_mf_request_body(wire_of(m), r->rec, m->upstream,
	    r->max_tokens > 0 ? r->max_tokens : m->max_output, stream);
	if (!jv_is_valid(body)) {
		jv msg = jv_invalid_get_msg(body);

		fail(r, EX_DATAERR, jv_get_kind(msg) == JV_KIND_STRING ?
		    jv_string_value(msg) : "the request cannot be sent");
		jv_free(msg);
		return;
	}
	au_json_dump(&b, body);
	jv_free(body);
	r->body = b.s;
	r->h = curl_easy_init();
	url = au_xasprintf("%s%s", p->base_url, p->kind ==
	    AU_MF_ANTHROPIC_KIND ? "/messages" : "/chat/completions");
	curl_easy_setopt(r->h, CURLOPT_URL, url);
	free(url);
	r->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	r->hdrs = curl_slist_append(r->hdrs, stream ? "Accept: "
	    "text/event-stream, application/json" :
	    "Accept: application/json");
	r->hdrs = curl_slist_append(r->hdrs, "Expect:");
	if (p->kind == AU_MF_ANTHROPIC_KIND)
		r->hdrs = curl_slist_append(r->hdrs,
		    "anthropic-version: 2023-06-01");
	for (hp = p->headers; *hp != NULL; hp++)
		r->hdrs = curl_slist_append(r->hdrs, *hp);
	if (k->key != NULL) {
		char *h = au_xasprintf(p->kind == AU_MF_ANTHROPIC_KIND ?
		    "x-api-key: %s" : "Authorization: Bearer %s", k->key);

		r->hdrs = curl_slist_append(r->hdrs, h);
		explicit_bzero(h, strlen(h));
		free(h);
	}
	curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)b.len);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->h, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)p->connect_ms);
	curl_easy_setopt(r->h, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
	curl_easy_setopt(r->h, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(r->h, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(r->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->h, CURLOPT_USERAGENT, "agentutils/" AU_VERSION);
	r->ta = r->last = au_mono_ms();
	r->state = R_RUNNING;
	p->busy++;
	curl_multi_add_handle(multi, r->h);
}

/* Note an attempt of r: its HTTP status (0 none) and what went wrong. */
static void
attempted(struct req *r, long status, const char *why)
{
	jv a = JV_OBJECT(jv_string("provider"),
	    jv_string(r->model->provider->name), jv_string("model"),
	    jv_string(r->model->name), jv_string("status"), status > 0 ?
	    jv_number((double)status) : jv_null(), jv_string("ms"),
	    jv_number((double)(au_mono_ms() - r->ta)));

	if (why != NULL)
		a = jv_object_set(a, jv_string("error"), jv_string(why));
	r->attempts = jv_array_append(r->attempts, a);
}

/* The circuit reports and finished requests not yet in the state file. */
struct circ {
	struct au_mf_provider *p;
	int ok;
};
static struct circ *circs;
static size_t ncircs, circcap;

static void
circuit(struct au_mf_provider *p, int ok)
{
	circs = au_grow(circs, &circcap, ncircs + 1, sizeof *circs);
	circs[ncircs].p = p;
	circs[ncircs++].ok = ok;
}

/* r's attempt on its model failed for good: the next model, or the end. */
static void
next_model(struct req *r, int status, const char *why, int failure)
{
	if (r->model != NULL && status >= 0)
		attempted(r, status, why);
	if (failure)
		circuit(r->model->provider, 0);
	r->attempt = 0;
	if (r->deltas > 0) {
		fail(r, EX_UNAVAILABLE, why);
		return;
	}
	while (++r->cur < r->norder) {
		/* A later model on a provider whose circuit opened meanwhile
		 * is still tried: the state file learns of it at the next
		 * flush, and a probe is what a half-open circuit wants. */
		if (r->order[r->cur]->provider->busy >=
		    r->order[r->cur]->provider->max_concurrency) {
			r->state = R_WAITING;
			r->due = 0;
			r->model = r->order[r->cur];
			return;
		}
		launch(r);
		return;
	}
	fail(r, EX_UNAVAILABLE, why);
}

/* When to retry, from a Retry-After value (seconds or an HTTP date): ms
 * from now, or -1. */
static int64_t
retry_after(const char *v)
{
	char *end;
	long s;
	time_t t;

	if (*v == '\0')
		return -1;
	s = strtol(v, &end, 10);
	if (*end == '\0' && s >= 0)
		return (int64_t)s * 1000;
	if ((t = curl_getdate(v, NULL)) < 0)
		return -1;
	return (int64_t)t * 1000 > au_now_ms() ? (int64_t)t * 1000 -
	    au_now_ms() : 0;
}

/* r's attempt failed with status (0: no response) for why: again after a
 * while if that may help, else the next model. */
static void
retry_or_next(struct req *r, long status, const char *why, int failure)
{
	int64_t wait = status ? retry_after(r->retry_after) : -1, cap;

	if (r->deltas == 0 && r->attempt < retries && (status == 0 ||
	    status == 408 || status == 429 || status >= 500) && wait <= 60000) {
		attempted(r, status, why);
		if (failure)
			circuit(r->model->provider, 0);
		if (wait < 0) {
			/* exponential, with full jitter above half */
			cap = 250LL << (r->attempt < 7 ? r->attempt : 7);
			wait = cap / 2 + (int64_t)(drand48() * (double)(cap / 2));
		}
		r->attempt++;
		r->state = R_WAITING;
		r->due = au_mono_ms() + wait;
		return;
	}
	next_model(r, (int)status, why, failure);
}

/* A transfer of r ended with code c. */
static void
ended(struct req *r, CURLcode c)
{
	struct key *k = key_of(r->model->provider);
	long status = 0;
	char why[512];
	jv res;

	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
	if (r->err != NULL) {
		snprintf(why, sizeof why, "%s", r->err);
		scrub(why, k->key);
		transfer_end(r);
		retry_or_next(r, status == 200 ? 0 : status, why, 1);
		return;
	}
	if (c != CURLE_OK) {
		snprintf(why, sizeof why, "%s", curl_easy_strerror(c));
		transfer_end(r);
		retry_or_next(r, 0, why, 1);
		return;
	}
	if (status / 100 != 2) {
		char *msg = au_mf_error_message(wire_of(r->model), r->resp.s,
		    r->resp.len);

		snprintf(why, sizeof why, "HTTP %ld%s%s", status, msg ? ": " :
		    "", msg ? msg : "");
		scrub(why, k->key);
		free(msg);
		transfer_end(r);
		retry_or_next(r, status, why, status >= 500);
		return;
	}
	if (r->sse_on) {
		res = au_mf_stream_result(r->st);
		if (!r->complete) {
			jv_free(res);
			transfer_end(r);
			retry_or_next(r, 0, "the stream ended before its end",
			    1);
			return;
		}
	} else if (strncasecmp(r->ctype, "application/json", 16) != 0) {
		snprintf(why, sizeof why, "a reply of type %s, not JSON",
		    au_quote(r->ctype));
		transfer_end(r);
		next_model(r, (int)status, why, 1);
		return;
	} else
		res = au_mf_response_parse(wire_of(r->model), r->resp.s,
		    r->resp.len);
	if (!jv_is_valid(res)) {
		jv msg = jv_invalid_get_msg(res);

		snprintf(why, sizeof why, "%s", jv_get_kind(msg) ==
		    JV_KIND_STRING ? jv_string_value(msg) : "malformed reply");
		jv_free(msg);
		transfer_end(r);
		next_model(r, (int)status, why, 1);
		return;
	}
	attempted(r, status, NULL);
	circuit(r->model->provider, 1);
	transfer_end(r);
	succeed(r, res);
	if (text) {
		const char *t = r->deltas ? NULL : au_jv_str(r->out, "content");

		if (t != NULL)
			au_out_text(t, strlen(t));
		au_out_line("", 0);
	}
}

/* What the router weighs r by, from its record: NULL, or what is wrong
 * with the record. */
static jv
want_of(struct req *r, struct au_mf_want *w)
{
	jv needs = jv_object_get(jv_copy(r->rec), jv_string("needs"));
	jv mt = jv_object_get(jv_copy(r->rec), jv_string("max_tokens"));
	jv meta = jv_object_get(jv_copy(r->rec), jv_string("metadata"));
	jv why = jv_invalid();

	memset(w, 0, sizeof *w);
	if (jv_get_kind(meta) == JV_KIND_OBJECT) {
		r->run = au_jv_str(meta, "run");
		r->task = au_jv_str(meta, "task");
	}
	w->name = au_jv_str(r->rec, "model");
	if (w->name == NULL)
		w->name = au_jv_str(r->rec, "route");
	w->needs = implied_needs(r->rec);
	if (jv_get_kind(needs) == JV_KIND_ARRAY) {
		jv_array_foreach(needs, j, e) {
			unsigned bit = jv_get_kind(e) == JV_KIND_STRING ?
			    au_mf_cap(jv_string_value(e)) : 0;

			if (bit == 0 && !jv_is_valid(why))
				why = jv_string_fmt("needs[%d]: expected "
				    "tools, vision, json or stream", j);
			w->needs |= bit;
			jv_free(e);
		}
	} else if (jv_is_valid(needs) && jv_get_kind(needs) != JV_KIND_NULL)
		why = jv_string("\"needs\" must be an array");
	if (jv_is_valid(mt) && jv_get_kind(mt) != JV_KIND_NULL) {
		if (!au_jv_isint(mt) || jv_number_value(mt) < 1) {
			jv_free(why);
			why = jv_string("\"max_tokens\" must be a whole "
			    "number above 0");
		} else
			r->max_tokens = (int64_t)jv_number_value(mt);
	}
	jv_free(needs);
	jv_free(mt);
	jv_free(meta);
	w->tokens = r->tokens = au_mf_estimate(r->rec);
	w->max_tokens = r->max_tokens;
	w->budget_left = budget_left(r);
	return why;
}

/* Route a new request and start it, or finish it at once. */
static void
start(struct req *r)
{
	struct au_mf_want w;
	const char *id = au_jv_str(r->rec, "id");
	char ulid[AU_ID_LEN];
	jv why, ex;
	int i, n;

	r->t0 = au_mono_ms();
	r->ttft = -1;
	r->attempts = jv_array();
	r->usage = jv_invalid();
	r->out = jv_invalid();
	snprintf(r->id, sizeof r->id, "%s", id ? id : au_ulid(ulid));
	why = want_of(r, &w);
	if (jv_is_valid(why)) {
		fail(r, EX_DATAERR, jv_string_value(why));
		jv_free(why);
		return;
	}
	w.claim = 1;
	r->order = au_xcalloc((size_t)conf->nmodels * 2 + 1, sizeof *r->order);
	n = au_mf_route(conf, db, &w, r->order, &ex);
	if (n < 0) {
		jv_free(ex);
		fail(r, EX_DATAERR, au_errmsg());
		return;
	}
	r->norder = n;
	if (n == 0) {
		jv exl = jv_object_get(jv_copy(ex), jv_string("excluded"));
		int budget_hit = 0;
		struct au_buf b = AU_BUF_INIT;

		au_buf_adds(&b, "no model can take it:");
		jv_array_foreach(exl, j, e) {
			const char *reason = au_jv_str(e, "reason");

			budget_hit |= strncmp(reason, "would break the budget",
			    22) == 0;
			au_buf_addf(&b, "%s %s %s", j ? ";" : "",
			    au_jv_str(e, "model"), reason);
			jv_free(e);
		}
		jv_free(exl);
		jv_free(ex);
		fail(r, budget_hit ? EX_NOPERM : EX_UNAVAILABLE, b.s);
		au_buf_free(&b);
		return;
	}
	jv_free(ex);
	for (i = 0; i < n; i++)
		if (au_mf_cost_max(r->order[i], r->tokens, r->max_tokens) >
		    r->reserve)
			r->reserve = au_mf_cost_max(r->order[i], r->tokens,
			    r->max_tokens);
	reserved += r->reserve;
	r->cur = 0;
	r->model = r->order[0];
	if (r->model->provider->busy >= r->model->provider->max_concurrency) {
		r->state = R_WAITING;
		r->due = 0;
	} else
		launch(r);
}

/* ---- the state file: usage rows, audit events, circuits --------------- */

static sqlite3_stmt *ins;
static int64_t flush_due = -1;

static void
usage_row(struct req *r)
{
	jv u = jv_object_get(jv_copy(r->out), jv_string("usage"));
	const char *err = au_jv_str(r->out, "error");
	int rc;

	sqlite3_reset(ins);
	sqlite3_clear_bindings(ins);
	sqlite3_bind_int64(ins, 1, au_now_ms());
	sqlite3_bind_text(ins, 2, r->id, -1, SQLITE_STATIC);
	if (r->run != NULL)
		sqlite3_bind_text(ins, 3, r->run, -1, SQLITE_STATIC);
	if (r->task != NULL)
		sqlite3_bind_text(ins, 4, r->task, -1, SQLITE_STATIC);
	if (r->model != NULL) {
		sqlite3_bind_text(ins, 5, r->model->provider->name, -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(ins, 6, r->model->name, -1, SQLITE_STATIC);
	}
	if (jv_get_kind(u) == JV_KIND_OBJECT) {
		static const char *const f[] = { "input_tokens",
		    "output_tokens", "cached_tokens" };
		int i;

		for (i = 0; i < 3; i++) {
			jv n = jv_object_get(jv_copy(u), jv_string(f[i]));

			sqlite3_bind_int64(ins, 7 + i,
			    (sqlite3_int64)jv_number_value(n));
			jv_free(n);
		}
	} else
		for (rc = 7; rc <= 9; rc++)
			sqlite3_bind_int64(ins, rc, 0);
	jv_free(u);
	sqlite3_bind_double(ins, 10, r->rc == 0 ? r->cost : 0);
	sqlite3_bind_int64(ins, 11, au_mono_ms() - r->t0);
	if (r->ttft >= 0)
		sqlite3_bind_int64(ins, 12, r->ttft);
	sqlite3_bind_text(ins, 13, r->rc == 0 ? "ok" : r->rc == EX_NOPERM ?
	    "refused" : "error", -1, SQLITE_STATIC);
	sqlite3_bind_int(ins, 14, jv_array_length(jv_copy(r->attempts)));
	if (err != NULL)
		sqlite3_bind_text(ins, 15, err, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(ins)) != SQLITE_DONE)
		au_die(au_db_error(db, rc), "%s", au_errmsg());
}

/* The audit event of r: what was asked of whom, what it cost; the
 * messages and the answer only with --audit-content. */
static void
audit_event(struct req *r)
{
	static const char *const keep[] = { "request_id", "provider", "model",
	    "usage", "cost_usd", "latency_ms", "finish_reason", "error",
	    "attempts", NULL };
	jv e = JV_OBJECT(jv_string("type"), jv_string("model.call"));
	int i, rc;

	for (i = 0; keep[i] != NULL; i++) {
		jv v = jv_object_get(jv_copy(r->out), jv_string(keep[i]));

		if (jv_is_valid(v))
			e = jv_object_set(e, jv_string(keep[i]), v);
		else
			jv_free(v);
	}
	if (r->run != NULL)
		e = jv_object_set(e, jv_string("run"), jv_string(r->run));
	if (r->task != NULL)
		e = jv_object_set(e, jv_string("task"), jv_string(r->task));
	if (audit_content) {
		static const char *const ck[] = { "system", "messages",
		    "tools", NULL };

		for (i = 0; ck[i] != NULL; i++) {
			jv v = jv_object_get(jv_copy(r->rec),
			    jv_string(ck[i]));

			if (jv_is_valid(v))
				e = jv_object_set(e, jv_string(ck[i]), v);
			else
				jv_free(v);
		}
		for (i = 0; i < 2; i++) {
			const char *k = i ? "tool_calls" : "content";
			jv v = jv_object_get(jv_copy(r->out), jv_string(k));

			if (jv_is_valid(v))
				e = jv_object_set(e, jv_string(k), v);
			else
				jv_free(v);
		}
	}
	rc = au_audit_append(audit, e, NULL, NULL);
	jv_free(e);
	if (rc != 0)
		au_die(rc, "audit: %s", au_errmsg());
}

static void
write_out(struct req *r)
{
	if (!text)
		au_out_rec(r->out);
}

/* Record every finished request and circuit report in one transaction,
 * then write the finished requests (in order with --keep-order). */
static void
flush(void)
{
	struct req **pp, *r;
	size_t i;
	int any = 0, again;

	for (r = live; r != NULL; r = r->next)
		any |= r->state == R_DONE && !r->recorded;
	if (!any && ncircs == 0)
		return;
	au_xdb_begin(db);
	for (i = 0; i < ncircs; i++) {
		size_t j;

		/* Of a provider's reports, only the last counts of successes;
		 * every failure counts. */
		for (j = i + 1; circs[i].ok && j < ncircs &&
		    circs[j].p != circs[i].p; j++)
			;
		if (circs[i].ok && j < ncircs)
			continue;
		if (au_mf_circuit_report(db, circs[i].p, circs[i].ok) != 0)
			au_die(EX_IOERR, "%s", au_errmsg());
	}
	ncircs = 0;
	for (r = live; r != NULL; r = r->next)
		if (r->state == R_DONE && !r->recorded) {
			usage_row(r);
			if (audit != NULL)
				audit_event(r);
			r->recorded = 1;
		}
	au_xdb_commit(db);
	day_cache = -1;
	do {
		again = 0;
		for (pp = &live; (r = *pp) != NULL; ) {
			if (r->state != R_DONE || (keep_order && r->seq !=
			    outseq)) {
				pp = &r->next;
				continue;
			}
			write_out(r);
			reserved -= r->reserve;
			if (r->rc == 0)
				spent += r->cost;
			outseq++;
			again = keep_order;
			*pp = r->next;
			nlive--;
			jv_free(r->rec);
			jv_free(r->attempts);
			jv_free(r->usage);
			jv_free(r->out);
			free(r->order);
			free(r);
		}
	} while (again);
	flush_due = -1;
}

/* ---- the loop ----------------------------------------------------------- */

static void
run(void)
{
	struct req *r, **tail;
	struct curl_waitfd in;
	int done = 0, running, left, active, look = 1;
	CURLMsg *msg;

	while (!done || nlive > 0) {
		int64_t now = au_mono_ms(), wake = 1000;

		if (stop)
			break;
		for (active = 0, r = live; r != NULL; r = r->next)
			active += r->state != R_DONE;
		/* look: the input may have requests without a poll. */
		while (look && !done && active < jobs) {
			jv rec = next_request(0, &done);

			if (!jv_is_valid(rec)) {
				look = 0;
				break;
			}
			r = au_xcalloc(1, sizeof *r);
			r->rec = rec;
			r->seq = nextseq++;
			for (tail = &live; *tail != NULL; tail = &(*tail)->next)
				;
			*tail = r;
			nlive++;
			active++;
			start(r);
		}
		for (r = live; r != NULL; r = r->next) {
			struct au_mf_provider *p;

			if (r->state != R_WAITING)
				continue;
			p = r->model->provider;
			if (r->due > now) {
				wake = r->due - now < wake ? r->due - now : wake;
				continue;
			}
			if (p->busy < p->max_concurrency)
				launch(r);
		}
		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&r);
			ended(r, msg->data.result);
		}
		now = au_mono_ms();
		for (r = live; r != NULL; r = r->next) {
			int64_t idle;

			if (r->state != R_RUNNING || !stream)
				continue;
			idle = r->model->provider->idle_ms;
			if (now - r->last >= idle) {
				char why[96];

				snprintf(why, sizeof why, "no data for %lld "
				    "ms", (long long)idle);
				transfer_end(r);
				retry_or_next(r, 0, why, 1);
			} else if (r->last + idle - now < wake)
				wake = r->last + idle - now;
		}
		for (active = 0, r = live; r != NULL; r = r->next)
			active += r->state != R_DONE;
		if (flush_due < 0)
			for (r = live; r != NULL; r = r->next)
				if ((r->state == R_DONE && !r->recorded) ||
				    ncircs > 0) {
					flush_due = now + 20;
					break;
				}
		if (flush_due >= 0 && (active == 0 || now >= flush_due ||
		    nlive >= 4 * jobs))
			flush();
		else if (flush_due >= 0 && flush_due - now < wake)
			wake = flush_due - now;
		if (done && nlive == 0)
			break;
		/* The input is polled while there is room for more, unless
		 * it has requests read already: those are taken at once. */
		in.fd = !done && active < jobs ? au_in_fd(input) : -1;
		if (!done && active < jobs && in.fd < 0) {
			look = 1;
			continue;
		}
		in.events = CURL_WAIT_POLLIN;
		in.revents = 0;
		curl_multi_poll(multi, &in, in.fd >= 0, (int)(wake > 0 ? wake :
		    0), NULL);
		look = in.revents != 0 || (!done && au_in_fd(input) < 0);
	}
	if (stop) {
		for (r = live; r != NULL; r = r->next)
			if (r->state != R_DONE) {
				if (r->state == R_RUNNING)
					transfer_end(r);
				fail(r, EX_TEMPFAIL, "interrupted");
				outcome(EX_TEMPFAIL);
			}
		flush();
	}
}

/* The request of -m: the operands (or standard input) as the prompt. */
static jv
prompt_request(const char *model, char **words, int n, const char *system,
    int64_t max_tokens)
{
	struct au_buf b = AU_BUF_INIT;
	char chunk[8192];
	ssize_t got;
	int i;
	jv r;

	for (i = 0; i < n; i++)
		au_buf_addf(&b, "%s%s", i ? " " : "", words[i]);
	if (n == 0) {
		au_buf_adds(&b, "");
		while ((got = read(0, chunk, sizeof chunk)) != 0) {
			if (got < 0)
				au_die(EX_IOERR, "standard input:");
			au_buf_add(&b, chunk, (size_t)got);
		}
		while (b.len > 0 && b.s[b.len - 1] == '\n')
			b.s[--b.len] = '\0';
	}
	if (au_utf8_valid(b.s, b.len) != b.len)
		au_die(EX_DATAERR, "the prompt is not valid UTF-8");
	if (b.len == 0)
		au_die(EX_DATAERR, "the prompt is empty");
	r = JV_OBJECT(jv_string("type"), jv_string("model.request"),
	    jv_string("model"), jv_string(model), jv_string("messages"),
	    JV_ARRAY(JV_OBJECT(jv_string("role"), jv_string("user"),
	    jv_string("content"), jv_string_sized(b.s, (int)b.len))));
	if (system != NULL)
		r = jv_object_set(r, jv_string("system"), jv_string(system));
	if (max_tokens > 0)
		r = jv_object_set(r, jv_string("max_tokens"),
		    jv_number((double)max_tokens));
	au_buf_free(&b);
	return r;
}

/* --explain: each request's decision, nothing sent. */
static void
explain(void)
{
	struct au_mf_want w;
	struct au_mf_model **order;
	struct req r;
	int done = 0;
	jv why, ex;

	order = au_xcalloc((size_t)conf->nmodels * 2 + 1, sizeof *order);
	while (!done && !stop) {
		memset(&r, 0, sizeof r);
		r.rec = next_request(1, &done);
		if (!jv_is_valid(r.rec))
			continue;
		why = want_of(&r, &w);
		if (jv_is_valid(why)) {
			au_err("%s: %s", au_jv_str(r.rec, "id") ?
			    au_jv_str(r.rec, "id") : "request",
			    jv_string_value(why));
			outcome(EX_DATAERR);
		} else if (au_mf_route(conf, db, &w, order, &ex) < 0) {
			au_err("%s", au_errmsg());
			outcome(EX_DATAERR);
			jv_free(ex);
		} else {
			const char *id = au_jv_str(r.rec, "id");

			if (id != NULL)
				ex = jv_object_set(ex, jv_string("request_id"),
				    jv_string(id));
			au_out_rec(ex);
			jv_free(ex);
		}
		jv_free(why);
		jv_free(r.rec);
	}
	free(order);
}

int
main(int argc, char **argv)
{
	const char *arg, *model = NULL, *models = NULL, *system = NULL;
	int64_t max_tokens = 0;
	int c, no_audit = 0, explaining = 0, rc;
	jv problems = jv_array();
	struct sigaction sa;
	char *end;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1)
		switch (c) {
		case 'm':
			model = arg;
			break;
		case O_MODELS:
			models = arg;
			break;
		case 'j':
			jobs = (int)strtol(arg, &end, 10);
			if (*end != '\0' || jobs < 1 || jobs > 4096)
				au_usage_die(&cmd, "-j: expected 1 to 4096");
			break;
		case O_STREAM:
			stream = 1;
			break;
		case O_KEEP:
			keep_order = 1;
			break;
		case O_EXPLAIN:
			explaining = 1;
			break;
		case O_BUDGET:
			budget = strtod(arg, &end);
			if (*end != '\0' || !(budget >= 0) || isinf(budget))
				au_usage_die(&cmd, "--budget-usd: expected an "
				    "amount in USD");
			break;
		case O_RETRIES:
			retries = (int)strtol(arg, &end, 10);
			if (*end != '\0' || retries < 0 || retries > 100)
				au_usage_die(&cmd, "--retries: expected 0 to "
				    "100");
			break;
		case O_CONTENT:
			audit_content = 1;
			break;
		case O_NOAUDIT:
			no_audit = 1;
			break;
		case 't':
			text = 1;
			break;
		case O_SYSTEM:
			system = arg;
			break;
		case O_MAXTOK:
			max_tokens = strtoll(arg, &end, 10);
			if (*end != '\0' || max_tokens < 1)
				au_usage_die(&cmd, "--max-tokens: expected a "
				    "number above 0");
			break;
		}
	if (model == NULL && (system != NULL || max_tokens > 0))
		au_usage_die(&cmd, "--system and --max-tokens go with -m");

	rc = au_mf_load(models, &conf, &problems);
	jv_array_foreach(problems, i, p) {
		au_err("%s", jv_string_value(p));
		jv_free(p);
		(void)i;
	}
	if (rc != 0)
		au_die(rc, "%s", au_errmsg());
	if (jv_array_length(jv_copy(problems)) > 0)
		outcome(EX_CONFIG);
	jv_free(problems);
	keys = au_xcalloc((size_t)conf->nproviders + 1, sizeof *keys);
	srand48((long)au_now_ms() ^ (long)getpid());

	db = au_xdb_open();
	if (!explaining && !no_audit)
		audit = au_xaudit_open(db, "audit-write --init makes the keys; "
		    "--no-audit says not to audit");
	if (au_mf_latency_load(conf, db) != 0)
		au_die(EX_IOERR, "%s", au_errmsg());
	if (sqlite3_prepare_v2(db, "INSERT INTO mf_usage (ts, request_id, "
	    "run_id, task_id, provider, model, input_tokens, output_tokens, "
	    "cached_tokens, cost_usd, latency_ms, ttft_ms, status, attempts, "
	    "error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
	    "?12, ?13, ?14, ?15)", -1, &ins, NULL) != SQLITE_OK)
		au_die(EX_IOERR, "%s", sqlite3_errmsg(db));

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (multi = curl_multi_init()) == NULL)
		au_die(EX_SOFTWARE, "cannot start libcurl");
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)jobs + 4);
	curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsignal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	au_out_init();
	if (model != NULL)
		prompt_req = prompt_request(model, argv + au_optind,
		    argc - au_optind, system, max_tokens);
	else {
		if (au_opts.where != NULL)
			where = au_xwhere_new(au_opts.where);
		input = au_in_open(argv + au_optind, argc - au_optind);
		au_in_polled(input);
	}
	if (explaining)
		explain();
	else
		run();
	if (input != NULL) {
		outcome(au_in_status(input));
		au_in_close(input);
	}
	jv_free(prompt_req);
	au_where_free(where);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	sqlite3_finalize(ins);
	if ((rc = au_audit_close(audit)) != 0)
		au_die(rc, "audit: %s", au_errmsg());
	au_db_close(db);
	for (c = 0; c < conf->nproviders; c++) {
		if (keys[c].key != NULL)
			explicit_bzero(keys[c].key, strlen(keys[c].key));
		free(keys[c].key);
		free(keys[c].err);
	}
	free(keys);
	free(circs);
	au_mf_free(conf);
	au_out_close();
	return stop ? 128 + stop : worst;
}
