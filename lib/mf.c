/*
 * mf.c - the model fabric's configuration and decisions: models.json
 * (providers, models, routes, budgets; agentutils-models(5)), the order
 * in which a request tries models, each provider's circuit breaker kept
 * in the state file so that every mf-route shares it, and what was
 * spent.  The HTTP side lives in mf-route; the wire formats in mfwire.c.
 */
#define _XOPEN_SOURCE 700	/* drand48 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cfg.h"

static const char *const capwords[] = { "tools", "vision", "json", "stream",
    NULL };
static const char *const strategies[] = { "ordered", "cheapest", "fastest",
    "least-busy", "weighted", NULL };

unsigned
au_mf_cap(const char *word)
{
	int i;

	for (i = 0; capwords[i] != NULL; i++)
		if (strcmp(capwords[i], word) == 0)
			return 1u << i;
	return 0;
}

static int
word_index(const char *const *words, const char *w)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(words[i], w) == 0)
			return i;
	return -1;
}

/* ---- loading ------------------------------------------------------------ */

/* A duration member of o at key into *ms, if present: 0, or -1 noted. */
static int
dur_member(struct cfg *c, jv o, const char *key, int64_t *ms)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));
	const char *s = cfg_jstr(v);
	char ptr[64];
	int rc = 0;

	if (jv_is_valid(v) && (s == NULL || au_dur_parse(s, ms) != 0 ||
	    *ms <= 0)) {
		snprintf(ptr, sizeof ptr, "/%s", key);
		cfg_problem(c, ptr, "%s: expected a duration such as \"30s\"",
		    key);
		rc = -1;
	}
	jv_free(v);
	return rc;
}

/* A non-negative number member (an integer with integral) into *d. */
static int
num_member(struct cfg *c, jv o, const char *ptr, const char *key, int integral,
    double *d)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));
	char sub[128];
	int rc = 0;

	if (jv_is_valid(v)) {
		if (jv_get_kind(v) != JV_KIND_NUMBER ||
		    jv_number_value(v) < 0 || (integral && !au_jv_isint(v))) {
			snprintf(sub, sizeof sub, "%s/%s", ptr, key);
			cfg_problem(c, sub, "%s: expected a %s", key, integral ?
			    "whole number >= 0" : "number >= 0");
			rc = -1;
		} else
			*d = jv_number_value(v);
	}
	jv_free(v);
	return rc;
}

/* An HTTP header's name: a token of RFC 9110. */
static int
header_name_ok(const char *s)
{
	size_t n = strspn(s, "!#$%&'*+-.^_`|~0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

	return n > 0 && s[n] == '\0';
}

static char **
headers(struct cfg *c, jv h)
{
	char **a;
	int n = 0;

	if (jv_get_kind(h) != JV_KIND_OBJECT) {
		cfg_problem(c, "/headers", "headers: expected an object of "
		    "strings");
		return NULL;
	}
	a = au_xcalloc((size_t)jv_object_length(jv_copy(h)) + 1, sizeof *a);
	jv_object_foreach(h, k, v) {
		const char *name = jv_string_value(k), *val = cfg_jstr(v);
		char ptr[512];

		snprintf(ptr, sizeof ptr, "/headers/%s", name);
		if (!header_name_ok(name))
			cfg_problem(c, ptr, "headers: %s is not a header name",
			    au_quote(name));
		else if (val == NULL || strpbrk(val, "\r\n") != NULL)
			cfg_problem(c, ptr, "headers: %s: expected a string "
			    "on one line", au_quote(name));
		else
			a[n++] = au_xasprintf("%s: %s", name, val);
		jv_free(k);
		jv_free(v);
	}
	return a;
}

static void
strv_free(char **v)
{
	char **p;

	for (p = v; p != NULL && *p != NULL; p++)
		free(*p);
	free(v);
}

static void
provider_free(struct au_mf_provider *p)
{
	free(p->name);
	free(p->base_url);
	free(p->key_env);
	free(p->key_file);
	strv_free(p->headers);
}

static void
add_provider(struct au_mf_conf *mc, struct cfg *c, const char *name, jv o)
{
	static const char *const known[] = { "kind", "base_url",
	    "api_key_env", "api_key_file", "headers", "connect_timeout",
	    "timeout", "idle_timeout", "max_concurrency", "circuit", NULL };
	static const char *const kinds[] = { "openai", "anthropic",
	    "openai-compatible", NULL };
	static const char *const defaults[] = { "https://api.openai.com/v1",
	    "https://api.anthropic.com/v1", NULL };
	struct au_mf_provider p = { 0 };
	jv v;
	const char *s;
	double d;

	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		cfg_problem(c, "", "expected an object");
		return;
	}
	cfg_only(c, o, "", known);
	p.name = au_xstrdup(name);
	p.connect_ms = 10000;
	p.timeout_ms = 600000;
	p.idle_ms = 60000;
	p.max_concurrency = 16;
	p.cb_failures = 5;
	p.cb_cooldown_ms = 30000;
	v = jv_object_get(jv_copy(o), jv_string("kind"));
	if ((s = cfg_jstr(v)) == NULL || (p.kind = word_index(kinds, s)) < 0)
		cfg_problem(c, "/kind", "kind: expected openai, anthropic or "
		    "openai-compatible");
	jv_free(v);
	v = jv_object_get(jv_copy(o), jv_string("base_url"));
	if ((s = cfg_jstr(v)) != NULL && (strncmp(s, "http://", 7) == 0 ||
	    strncmp(s, "https://", 8) == 0) && strpbrk(s, " \r\n") == NULL) {
		p.base_url = au_xstrdup(s);
		if (strlen(s) > 8 && p.base_url[strlen(s) - 1] == '/')
			p.base_url[strlen(s) - 1] = '\0';
	} else if (jv_is_valid(v))
		cfg_problem(c, "/base_url", "base_url: expected an http:// or "
		    "https:// URL");
	else if (!c->bad && defaults[p.kind] != NULL)
		p.base_url = au_xstrdup(defaults[p.kind]);
	else if (!c->bad)
		cfg_problem(c, "", "an openai-compatible provider needs a "
		    "base_url");
	jv_free(v);
	v = jv_object_get(jv_copy(o), jv_string("api_key_env"));
	if ((s = cfg_jstr(v)) != NULL && *s != '\0' && strchr(s, '=') == NULL)
		p.key_env = au_xstrdup(s);
	else if (jv_is_valid(v))
		cfg_problem(c, "/api_key_env", "api_key_env: expected the name "
		    "of an environment variable");
	jv_free(v);
	v = jv_object_get(jv_copy(o), jv_string("api_key_file"));
	if ((s = cfg_jstr(v)) != NULL && *s == '/')
		p.key_file = au_xstrdup(s);
	else if (jv_is_valid(v))
		cfg_problem(c, "/api_key_file", "api_key_file: expected an "
		    "absolute path");
	jv_free(v);
	if (p.key_env != NULL && p.key_file != NULL)
		cfg_problem(c, "/api_key_file", "give api_key_env or "
		    "api_key_file, not both");
	v = jv_object_get(jv_copy(o), jv_string("headers"));
	p.headers = jv_is_valid(v) ? headers(c, v) :
	    au_xcalloc(1, sizeof *p.headers);
	jv_free(v);
	dur_member(c, o, "connect_timeout", &p.connect_ms);
	dur_member(c, o, "timeout", &p.timeout_ms);
	dur_member(c, o, "idle_timeout", &p.idle_ms);
	d = p.max_concurrency;
	if (num_member(c, o, "", "max_concurrency", 1, &d) == 0) {
		if (d < 1 || d > 4096)
			cfg_problem(c, "/max_concurrency", "max_concurrency: "
			    "expected 1 to 4096");
		p.max_concurrency = (int)d;
	}
	v = jv_object_get(jv_copy(o), jv_string("circuit"));
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		static const char *const cknown[] = { "failures", "cooldown",
		    NULL };
		jv cd = jv_object_get(jv_copy(v), jv_string("cooldown"));
		const char *cs = cfg_jstr(cd);

		cfg_only(c, v, "/circuit", cknown);
		d = p.cb_failures;
		if (num_member(c, v, "/circuit", "failures", 1, &d) == 0) {
			if (d < 1 || d > 1000000)
				cfg_problem(c, "/circuit/failures", "circuit."
				    "failures: expected 1 or more");
			p.cb_failures = (int)d;
		}
		if (jv_is_valid(cd) && (cs == NULL ||
		    au_dur_parse(cs, &p.cb_cooldown_ms) != 0))
			cfg_problem(c, "/circuit/cooldown", "circuit.cooldown: "
			    "expected a duration such as \"30s\"");
		jv_free(cd);
	} else if (jv_is_valid(v))
		cfg_problem(c, "/circuit", "circuit: expected an object");
	jv_free(v);
	if (c->bad) {
		provider_free(&p);
		return;
	}
	mc->providers = au_xreallocarray(mc->providers,
	    (size_t)mc->nproviders + 1, sizeof p);
	mc->providers[mc->nproviders++] = p;
}

static struct au_mf_provider *
provider_find(const struct au_mf_conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nproviders; i++)
		if (strcmp(c->providers[i].name, name) == 0)
			return &c->providers[i];
	return NULL;
}

static void
add_model(struct au_mf_conf *mc, struct cfg *c, const char *name, jv o)
{
	static const char *const known[] = { "provider", "upstream",
	    "context_window", "max_output", "price", "capabilities", NULL };
	static const char *const pknown[] = { "input", "output",
	    "cached_input", NULL };
	struct au_mf_model m = { 0 };
	double d;
	jv v;
	const char *s;

	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		cfg_problem(c, "", "expected an object");
		return;
	}
	cfg_only(c, o, "", known);
	m.latency_ms = -1;
	m.max_output = 4096;
	v = jv_object_get(jv_copy(o), jv_string("provider"));
	if ((s = cfg_jstr(v)) == NULL)
		cfg_problem(c, "/provider", "provider: expected the name of a "
		    "provider");
	else if ((m.provider = provider_find(mc, s)) == NULL)
		cfg_problem(c, "/provider", "provider %s is not configured "
		    "(or was skipped)", au_quote(s));
	jv_free(v);
	v = jv_object_get(jv_copy(o), jv_string("upstream"));
	if ((s = cfg_jstr(v)) != NULL && *s != '\0')
		m.upstream = au_xstrdup(s);
	else if (jv_is_valid(v))
		cfg_problem(c, "/upstream", "upstream: expected a model name");
	jv_free(v);
	d = 0;
	if (num_member(c, o, "", "context_window", 1, &d) == 0)
		m.context = (int64_t)d;
	d = (double)m.max_output;
	if (num_member(c, o, "", "max_output", 1, &d) == 0) {
		if (d < 1)
			cfg_problem(c, "/max_output", "max_output: expected 1 "
			    "or more");
		m.max_output = (int64_t)d;
	}
	v = jv_object_get(jv_copy(o), jv_string("price"));
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		cfg_only(c, v, "/price", pknown);
		num_member(c, v, "/price", "input", 0, &m.price_in);
		num_member(c, v, "/price", "output", 0, &m.price_out);
		m.price_cached = m.price_in;
		num_member(c, v, "/price", "cached_input", 0, &m.price_cached);
	} else if (jv_is_valid(v))
		cfg_problem(c, "/price", "price: expected an object of USD per "
		    "million tokens");
	jv_free(v);
	v = jv_object_get(jv_copy(o), jv_string("capabilities"));
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		jv_array_foreach(v, i, e) {
			unsigned bit = cfg_jstr(e) ? au_mf_cap(cfg_jstr(e)) : 0;
			char ptr[64];

			snprintf(ptr, sizeof ptr, "/capabilities/%d", i);
			if (bit == 0)
				cfg_problem(c, ptr, "capabilities[%d]: expected "
				    "tools, vision, json or stream", i);
			m.caps |= bit;
			jv_free(e);
		}
	} else if (jv_is_valid(v))
		cfg_problem(c, "/capabilities", "capabilities: expected an "
		    "array");
	jv_free(v);
	if (c->bad) {
		free(m.upstream);
		return;
	}
	m.name = au_xstrdup(name);
	if (m.upstream == NULL)
		m.upstream = au_xstrdup(name);
	mc->models = au_xreallocarray(mc->models, (size_t)mc->nmodels + 1,
	    sizeof m);
	mc->models[mc->nmodels++] = m;
}

/* A route's list of models at key into *out (its length in *n). */
static void
model_list(struct au_mf_conf *mc, struct cfg *c, jv o, const char *key,
    struct au_mf_model ***out, int *n)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));
	char ptr[64];

	*out = NULL;
	*n = 0;
	if (!jv_is_valid(v))
		return;
	snprintf(ptr, sizeof ptr, "/%s", key);
	if (jv_get_kind(v) != JV_KIND_ARRAY) {
		cfg_problem(c, ptr, "%s: expected an array of model names",
		    key);
		jv_free(v);
		return;
	}
	*out = au_xcalloc((size_t)jv_array_length(jv_copy(v)) + 1,
	    sizeof **out);
	jv_array_foreach(v, i, e) {
		const char *s = cfg_jstr(e);
		struct au_mf_model *m = s ? au_mf_model_find(mc, s) : NULL;

		snprintf(ptr, sizeof ptr, "/%s/%d", key, i);
		if (m == NULL)
			cfg_problem(c, ptr, "%s[%d]: %s is not a configured "
			    "model", key, i, s ? au_quote(s) : "this");
		else
			(*out)[(*n)++] = m;
		jv_free(e);
	}
	jv_free(v);
}

static void
add_route(struct au_mf_conf *mc, struct cfg *c, const char *name, jv o)
{
	static const char *const known[] = { "candidates", "strategy",
	    "weights", "fallbacks", NULL };
	struct au_mf_route r = { 0 };
	jv v, w;
	const char *s;
	int i;

	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		cfg_problem(c, "", "expected an object");
		return;
	}
	cfg_only(c, o, "", known);
	if (au_mf_model_find(mc, name) != NULL)
		cfg_problem(c, "", "a model has the name %s too",
		    au_quote(name));
	model_list(mc, c, o, "candidates", &r.cand, &r.ncand);
	if (r.ncand == 0 && !c->bad)
		cfg_problem(c, "/candidates", "candidates: a route needs at "
		    "least one model");
	model_list(mc, c, o, "fallbacks", &r.fallback, &r.nfallback);
	v = jv_object_get(jv_copy(o), jv_string("strategy"));
	if ((s = cfg_jstr(v)) != NULL)
		r.strategy = word_index(strategies, s);
	if ((s == NULL && jv_is_valid(v)) || r.strategy < 0)
		cfg_problem(c, "/strategy", "strategy: expected ordered, "
		    "cheapest, fastest, least-busy or weighted");
	jv_free(v);
	r.weight = au_xcalloc((size_t)r.ncand + 1, sizeof *r.weight);
	for (i = 0; i < r.ncand; i++)
		r.weight[i] = 1;
	w = jv_object_get(jv_copy(o), jv_string("weights"));
	if (jv_get_kind(w) == JV_KIND_OBJECT) {
		jv_object_foreach(w, k, e) {
			const char *mn = jv_string_value(k);
			char ptr[512];

			snprintf(ptr, sizeof ptr, "/weights/%s", mn);
			for (i = 0; i < r.ncand &&
			    strcmp(r.cand[i]->name, mn) != 0; i++)
				;
			if (i == r.ncand)
				cfg_problem(c, ptr, "weights: %s is not a "
				    "candidate", au_quote(mn));
			else if (jv_get_kind(e) != JV_KIND_NUMBER ||
			    !(jv_number_value(e) > 0))
				cfg_problem(c, ptr, "weights: %s: expected a "
				    "number > 0", au_quote(mn));
			else
				r.weight[i] = jv_number_value(e);
			jv_free(k);
			jv_free(e);
		}
	} else if (jv_is_valid(w))
		cfg_problem(c, "/weights", "weights: expected an object of "
		    "model names and numbers");
	jv_free(w);
	if (c->bad) {
		free(r.cand);
		free(r.fallback);
		free(r.weight);
		return;
	}
	r.name = au_xstrdup(name);
	mc->routes = au_xreallocarray(mc->routes, (size_t)mc->nroutes + 1,
	    sizeof r);
	mc->routes[mc->nroutes++] = r;
}

/* The budgets b (consumed), whole or not at all: 0 or 78. */
static int
budgets(struct au_mf_conf *mc, struct cfg *c, jv b)
{
	static const char *const known[] = { "daily_usd", "run_usd", NULL };

	if (!jv_is_valid(b)) {
		jv_free(b);
		return 0;
	}
	snprintf(c->base, sizeof c->base, "/budgets");
	c->what = "budgets";
	c->bad = 0;
	if (jv_get_kind(b) != JV_KIND_OBJECT)
		cfg_problem(c, "", "expected an object");
	else {
		cfg_only(c, b, "", known);
		num_member(c, b, "", "daily_usd", 0, &mc->daily_usd);
		num_member(c, b, "", "run_usd", 0, &mc->run_usd);
	}
	jv_free(b);
	return c->bad ? EX_CONFIG : 0;
}

/* An entry's loader: the entry (borrowed) added unless it has problems. */
typedef void (*adder)(struct au_mf_conf *, struct cfg *, const char *, jv);

/* Each entry of the object at key through add. */
static void
section(struct au_mf_conf *mc, struct cfg *c, jv all, jv dups,
    const char *key, const char *what, adder add)
{
	jv o = jv_object_get(jv_copy(all), jv_string(key));
	char label[300];

	if (!jv_is_valid(o)) {
		jv_free(o);
		return;
	}
	snprintf(c->base, sizeof c->base, "/%s", key);
	c->what = NULL;
	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		cfg_problem(c, "", "%s: expected an object", key);
		jv_free(o);
		return;
	}
	jv_object_foreach(o, k, e) {
		const char *name = jv_string_value(k);

		snprintf(c->base, sizeof c->base, "/%s", key);
		snprintf(label, sizeof label, "%s %s", what, au_quote(name));
		c->what = label;
		c->bad = 0;
		if (cfg_base_add(c, name) != 0 || *name == '\0' ||
		    strpbrk(name, " \t\r\n") != NULL)
			cfg_problem_at(c, au_json_line(c->text, c->n,
			    c->base), "expected a name without spaces");
		else if (!cfg_dups(c, dups, c->base, 1) &&
		    !cfg_dups(c, dups, c->base, 0))
			add(mc, c, name, e);
		jv_free(e);
		jv_free(k);
	}
	jv_free(o);
}

int
au_mf_load(const char *path, struct au_mf_conf **out, jv *problems)
{
	static const char *const known[] = { "providers", "models", "routes",
	    "budgets", NULL };
	struct au_buf b = AU_BUF_INIT;
	struct cfg c = { NULL, NULL, 0, "", NULL, problems, 0 };
	struct au_mf_conf *mc;
	char *def = NULL;
	jv all, dups;
	int rc, i;

	*out = NULL;
	if (path == NULL && (path = def = au_config_path("models.json")) ==
	    NULL)
		return EX_CONFIG;
	if ((rc = cfg_slurp(path, &b)) != 0) {
		free(def);
		au_buf_free(&b);
		return rc;
	}
	c.file = path;
	c.text = b.s;
	c.n = b.len;
	mc = au_xcalloc(1, sizeof *mc);
	mc->daily_usd = mc->run_usd = -1;
	all = cfg_parse(&c);
	if (jv_is_valid(all) && jv_get_kind(all) != JV_KIND_OBJECT)
		cfg_problem(&c, "", "expected an object of providers, models "
		    "and routes");
	if (jv_get_kind(all) == JV_KIND_OBJECT) {
		dups = au_json_dups(b.s, b.len);
		for (i = 0; known[i] != NULL; i++) {
			snprintf(c.base, sizeof c.base, "/%s", known[i]);
			cfg_dups(&c, dups, c.base, 1);
		}
		c.base[0] = '\0';
		cfg_only(&c, all, "", known);
		rc = budgets(mc, &c, jv_object_get(jv_copy(all),
		    jv_string("budgets")));
		section(mc, &c, all, dups, "providers", "provider",
		    add_provider);
		section(mc, &c, all, dups, "models", "model", add_model);
		section(mc, &c, all, dups, "routes", "route", add_route);
		jv_free(dups);
	}
	jv_free(all);
	au_buf_free(&b);
	if (rc != 0) {
		au_seterr(rc, "%s: its budgets are not valid; nothing loaded",
		    path);
		au_mf_free(mc);
		mc = NULL;
	}
	free(def);
	*out = mc;
	return rc;
}

void
au_mf_free(struct au_mf_conf *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nproviders; i++)
		provider_free(&c->providers[i]);
	for (i = 0; i < c->nmodels; i++) {
		free(c->models[i].name);
		free(c->models[i].upstream);
	}
	for (i = 0; i < c->nroutes; i++) {
		free(c->routes[i].name);
		free(c->routes[i].cand);
		free(c->routes[i].weight);
		free(c->routes[i].fallback);
	}
	free(c->providers);
	free(c->models);
	free(c->routes);
	free(c);
}

struct au_mf_model *
au_mf_model_find(const struct au_mf_conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nmodels; i++)
		if (strcmp(c->models[i].name, name) == 0)
			return &c->models[i];
	return NULL;
}

struct au_mf_route *
au_mf_route_find(const struct au_mf_conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nroutes; i++)
		if (strcmp(c->routes[i].name, name) == 0)
			return &c->routes[i];
	return NULL;
}

int
au_mf_key(const struct au_mf_provider *p, char **key)
{
	struct au_buf b = AU_BUF_INIT;
	const char *e;
	char chunk[512];
	ssize_t r;
	int fd, rc;

	*key = NULL;
	if (p->key_env != NULL) {
		if ((e = getenv(p->key_env)) == NULL || *e == '\0')
			return au_seterr(EX_CONFIG, "provider %s: $%s is not "
			    "set", au_quote(p->name), p->key_env);
		*key = au_xstrdup(e);
		return 0;
	}
	if (p->key_file == NULL)
		return 0;
	if ((rc = au_secret_open(p->key_file, &fd)) != 0)
		return rc;
	while ((r = read(fd, chunk, sizeof chunk)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || b.len > 65536) {
			close(fd);
			au_buf_free(&b);
			return au_seterr(EX_CONFIG, "%s: unreadable or too long",
			    p->key_file);
		}
		au_buf_add(&b, chunk, (size_t)r);
	}
	close(fd);
	while (b.len > 0 && strchr(" \t\r\n", b.s[b.len - 1]) != NULL)
		b.s[--b.len] = '\0';
	if (b.len == 0 || strlen(b.s) != b.len || strpbrk(b.s, "\r\n") != NULL) {
		au_buf_free(&b);
		return au_seterr(EX_CONFIG, "%s: expected the key on one line",
		    p->key_file);
	}
	*key = b.s;
	return 0;
}

/* ---- costs and estimates ------------------------------------------------ */

int64_t
au_mf_estimate(jv rec)
{
	static const char *const keys[] = { "system", "messages", "tools",
	    NULL };
	struct au_buf b = AU_BUF_INIT;
	int64_t n;
	int i;

	for (i = 0; keys[i] != NULL; i++) {
		jv v = jv_object_get(jv_copy(rec), jv_string(keys[i]));

		if (jv_is_valid(v))
			au_json_dump(&b, v);
		jv_free(v);
	}
	n = (int64_t)(b.len + 3) / 4;
	au_buf_free(&b);
	return n;
}

double
au_mf_cost(const struct au_mf_model *m, int64_t in, int64_t out,
    int64_t cached)
{
	if (cached > in)
		cached = in;
	return ((double)(in - cached) * m->price_in +
	    (double)cached * m->price_cached +
	    (double)out * m->price_out) / 1e6;
}

double
au_mf_cost_max(const struct au_mf_model *m, int64_t tokens,
    int64_t max_tokens)
{
	if (max_tokens <= 0 || max_tokens > m->max_output)
		max_tokens = m->max_output;
	return au_mf_cost(m, tokens, max_tokens, 0);
}

/* ---- circuits ----------------------------------------------------------- */

/* The provider's circuit as the state file has it: "closed" (or no row),
 * "open" or "half-open", until when. */
static int
circuit_get(sqlite3 *db, const char *provider, char state[16],
    int64_t *until)
{
	sqlite3_stmt *st;
	int rc;

	strcpy(state, "closed");
	*until = 0;
	if (db == NULL)
		return 0;
	/* Looked up for every request routed: kept prepared. */
	if ((rc = au_db_stmt(db, "SELECT state, until FROM mf_circuit WHERE "
	    "provider = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(state, 16, "%s", (const char *)sqlite3_column_text(st,
		    0));
		*until = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : au_db_error(db, rc);
}

/* Whether p may be tried now; why not in why. */
static int
circuit_allows(sqlite3 *db, const struct au_mf_provider *p, int claim,
    char *why, size_t n)
{
	char state[16], buf[32], was[32], ts[AU_TS_LEN];
	int64_t until, now = au_now_ms();
	int changed = 0;

	if (circuit_get(db, p->name, state, &until) != 0) {
		snprintf(why, n, "circuit unknown: %s", au_errmsg());
		return 0;
	}
	if (strcmp(state, "closed") == 0)
		return 1;
	if (until > now) {
		snprintf(why, n, "circuit of %s %s until %s", p->name,
		    strcmp(state, "open") == 0 ? "open" : "half-open, being "
		    "probed,", au_ts_fmt(until, ts));
		return 0;
	}
	if (!claim)
		return 1;
	/* The circuit's time is up: one process probes it, for at most the
	 * provider's timeout. */
	snprintf(buf, sizeof buf, "%lld", (long long)(now + p->timeout_ms));
	snprintf(was, sizeof was, "%lld", (long long)until);
	if (au_db_run(db, "UPDATE mf_circuit SET state = 'half-open', until "
	    "= CAST(?2 AS INTEGER) WHERE provider = ?1 AND state = ?3 AND until "
	    "= CAST(?4 AS INTEGER)", &changed,
	    4, p->name, buf, state, was) != 0 || changed == 0) {
		snprintf(why, n, "circuit of %s half-open, being probed by "
		    "another process", p->name);
		return 0;
	}
	return 1;
}

int
au_mf_circuit_report(sqlite3 *db, const struct au_mf_provider *p, int ok)
{
	char until[32], fail[16];
	sqlite3_stmt *st;
	int rc;

	if (ok) {
		/* Reported for every request answered: kept prepared. */
		if ((rc = au_db_stmt(db, "UPDATE mf_circuit SET state = "
		    "'closed', failures = 0, until = 0 WHERE provider = ?1 AND "
		    "(state != 'closed' OR failures > 0)", &st)) != 0)
			return rc;
		sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : au_db_error(db, rc);
	}
	snprintf(until, sizeof until, "%lld",
	    (long long)(au_now_ms() + p->cb_cooldown_ms));
	snprintf(fail, sizeof fail, "%d", p->cb_failures);
	/* au_db_run binds text: the numbers are cast back. */
	return au_db_run(db, "INSERT INTO mf_circuit (provider, state, "
	    "failures, until) VALUES (?1, iif(CAST(?3 AS INTEGER) <= 1, "
	    "'open', 'closed'), 1, iif(CAST(?3 AS INTEGER) <= 1, "
	    "CAST(?2 AS INTEGER), 0)) ON CONFLICT (provider) DO UPDATE SET "
	    "failures = failures + 1, state = iif(state = 'half-open' OR "
	    "failures + 1 >= CAST(?3 AS INTEGER), 'open', 'closed'), until = "
	    "iif(state = 'half-open' OR failures + 1 >= CAST(?3 AS INTEGER), "
	    "CAST(?2 AS INTEGER), 0)", NULL, 3, p->name, until, fail);
}

/* ---- routing ------------------------------------------------------------ */

static void
exclude(jv *explain, const struct au_mf_model *m, const char *why)
{
	jv ex = jv_object_get(jv_copy(*explain), jv_string("excluded"));

	ex = jv_array_append(ex, JV_OBJECT(jv_string("model"),
	    jv_string(m->name), jv_string("reason"), jv_string(why)));
	*explain = jv_object_set(*explain, jv_string("excluded"), ex);
}

struct keyed {
	struct au_mf_model *m;
	double key;
	int ord;
};

static int
by_key(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->ord - y->ord;
}

/* Whether m can take the request; why not in why. */
static int
eligible(struct au_mf_model *m, struct sqlite3 *db,
    const struct au_mf_want *w, char *why, size_t n)
{
	unsigned missing = w->needs & ~m->caps;
	int64_t out = w->max_tokens > 0 ? w->max_tokens : 0;
	double cost;
	int i;

	if (missing != 0) {
		for (i = 0; !(missing & (1u << i)); i++)
			;
		snprintf(why, n, "lacks capability %s", capwords[i]);
		return 0;
	}
	if (m->context > 0 && w->tokens + out > m->context) {
		snprintf(why, n, "prompt of about %lld tokens%s exceeds its "
		    "context window of %lld", (long long)w->tokens, out ?
		    " and max_tokens" : "", (long long)m->context);
		return 0;
	}
	cost = au_mf_cost_max(m, w->tokens, w->max_tokens);
	if (w->budget_left >= 0 && cost > w->budget_left) {
		snprintf(why, n, "would break the budget: up to $%.6f, $%.6f "
		    "left", cost, w->budget_left);
		return 0;
	}
	return circuit_allows(db, m->provider, w->claim, why, n);
}

int
au_mf_route(struct au_mf_conf *c, struct sqlite3 *db,
    const struct au_mf_want *w, struct au_mf_model **order, jv *explain)
{
	struct au_mf_route *r = au_mf_route_find(c, w->name);
	struct au_mf_model *one = au_mf_model_find(c, w->name);
	struct keyed *k;
	jv cands = jv_array(), ord = jv_array();
	char why[256];
	int i, n = 0, nk = 0, strategy;

	*explain = JV_OBJECT(jv_string("type"), jv_string("model.route"));
	if (r == NULL && one == NULL) {
		jv_free(cands);
		jv_free(ord);
		return au_seterr(EX_DATAERR, "%s is neither a model nor a "
		    "route in models.json", au_quote(w->name)), -1;
	}
	strategy = r != NULL ? r->strategy : AU_MF_ORDERED;
	*explain = jv_object_set(*explain, jv_string(r ? "route" : "model"),
	    jv_string(w->name));
	*explain = jv_object_set(*explain, jv_string("strategy"),
	    jv_string(strategies[strategy]));
	*explain = jv_object_set(*explain, jv_string("prompt_tokens"),
	    jv_number((double)w->tokens));
	*explain = jv_object_set(*explain, jv_string("excluded"), jv_array());
	k = au_xcalloc((size_t)(r ? r->ncand : 1) + 1, sizeof *k);
	for (i = 0; i < (r ? r->ncand : 1); i++) {
		struct au_mf_model *m = r ? r->cand[i] : one;
		double key = i;

		cands = jv_array_append(cands, jv_string(m->name));
		if (!eligible(m, db, w, why, sizeof why)) {
			exclude(explain, m, why);
			continue;
		}
		switch (strategy) {
		case AU_MF_CHEAPEST:
			key = au_mf_cost_max(m, w->tokens, w->max_tokens);
			break;
		case AU_MF_FASTEST:
			/* Unmeasured models first, so that they get measured. */
			key = m->latency_ms < 0 ? -1 : m->latency_ms;
			break;
		case AU_MF_LEAST_BUSY:
			key = (double)m->provider->busy /
			    m->provider->max_concurrency;
			break;
		case AU_MF_WEIGHTED:
			/* Efraimidis and Spirakis: u^(1/w), largest first. */
			key = -pow(drand48(), 1 / r->weight[i]);
			break;
		}
		k[nk].m = m;
		k[nk].key = key;
		k[nk].ord = i;
		nk++;
	}
	qsort(k, (size_t)nk, sizeof *k, by_key);
	for (i = 0; i < nk; i++)
		order[n++] = k[i].m;
	free(k);
	for (i = 0; r != NULL && i < r->nfallback; i++) {
		struct au_mf_model *m = r->fallback[i];
		int j;

		for (j = 0; j < n && order[j] != m; j++)
			;
		if (j < n)
			continue;
		cands = jv_array_append(cands, jv_string(m->name));
		if (eligible(m, db, w, why, sizeof why))
			order[n++] = m;
		else
			exclude(explain, m, why);
	}
	for (i = 0; i < n; i++)
		ord = jv_array_append(ord, jv_string(order[i]->name));
	*explain = jv_object_set(*explain, jv_string("candidates"), cands);
	*explain = jv_object_set(*explain, jv_string("order"), ord);
	*explain = jv_object_set(*explain, jv_string("choice"), n > 0 ?
	    jv_string(order[0]->name) : jv_null());
	return n;
}

/* ---- what was measured and spent ---------------------------------------- */

int
au_mf_latency_load(struct au_mf_conf *c, struct sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT model, avg(latency_ms) FROM "
	    "mf_usage WHERE ts > ?1 AND status = 'ok' GROUP BY model", -1,
	    &st, NULL);
	if (rc != SQLITE_OK)
		return au_db_error(db, rc);
	sqlite3_bind_int64(st, 1, au_now_ms() - 86400000);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		struct au_mf_model *m = name ? au_mf_model_find(c, name) :
		    NULL;

		if (m != NULL)
			m->latency_ms = sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : au_db_error(db, rc);
}

int
au_mf_spent(struct sqlite3 *db, int64_t since_ms, const char *run,
    double *usd)
{
	sqlite3_stmt *st;
	int rc;

	*usd = 0;
	rc = sqlite3_prepare_v2(db, run != NULL ?
	    "SELECT total(cost_usd) FROM mf_usage WHERE run_id = ?2 AND ts >= ?1" :
	    "SELECT total(cost_usd) FROM mf_usage WHERE ts >= ?1", -1, &st,
	    NULL);
	if (rc != SQLITE_OK)
		return au_db_error(db, rc);
	sqlite3_bind_int64(st, 1, since_ms);
	if (run != NULL)
		sqlite3_bind_text(st, 2, run, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*usd = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : au_db_error(db, rc);
}
