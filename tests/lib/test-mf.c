/*
 * test-mf.c - mf.c: models.json loaded in part with file:line problems
 * (and its budgets whole or not at all), defaults, keys from the
 * environment and from 0600 files, estimates and costs, routing (each
 * exclusion, each strategy, fallbacks), the circuit breaker in the state
 * file (opening, the cool-down, one probe, closing) and what was spent.
 */
#define _XOPEN_SOURCE 700
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "agentutils.h"
#include "tap.h"
#include "testutil.h"

/* Load text as models.json: the configuration (or NULL) and its
 * problems joined by '\n' in *probs (malloc'd). */
static struct au_mf_conf *
load(const char *text, int *rc, char **probs)
{
	struct au_mf_conf *c;
	struct au_buf b = AU_BUF_INIT;
	jv p = jv_array();

	writefile(at("models.json"), text, strlen(text));
	*rc = au_mf_load(at("models.json"), &c, &p);
	au_buf_adds(&b, "");
	jv_array_foreach(p, i, s) {
		const char *t = strstr(jv_string_value(s), "models.json:");

		au_buf_addf(&b, "%s%s", i ? "\n" : "", t ? t : "?");
		jv_free(s);
	}
	jv_free(p);
	*probs = b.s;
	return c;
}

static void
test_load(void)
{
	struct au_mf_conf *c;
	struct au_mf_model *m;
	char *probs;
	int rc;

	c = load("{\"providers\": {\n"
	    "  \"o\": {\"kind\": \"openai\"},\n"
	    "  \"a\": {\"kind\": \"anthropic\", \"timeout\": \"5s\",\n"
	    "    \"headers\": {\"X-Team\": \"t\"}, \"max_concurrency\": 3,\n"
	    "    \"circuit\": {\"failures\": 2, \"cooldown\": \"1m\"}},\n"
	    "  \"bad\": {\"kind\": \"gopher\"},\n"
	    "  \"nourl\": {\"kind\": \"openai-compatible\"},\n"
	    "  \"l\": {\"kind\": \"openai-compatible\", \"base_url\": "
	    "\"http://h:1/v1/\"}},\n"
	    " \"models\": {\n"
	    "  \"m1\": {\"provider\": \"o\", \"price\": {\"input\": 2, "
	    "\"output\": 4}},\n"
	    "  \"m2\": {\"provider\": \"bad\"},\n"
	    "  \"m3\": {\"provider\": \"a\", \"upstream\": \"claude\", "
	    "\"capabilities\": [\"tools\", \"smell\"]},\n"
	    "  \"m4\": {\"provider\": \"l\", \"context_window\": 100, "
	    "\"capabilities\": [\"vision\"]}},\n"
	    " \"routes\": {\n"
	    "  \"r\": {\"candidates\": [\"m1\", \"m4\"], \"fallbacks\": "
	    "[\"m1\"]},\n"
	    "  \"m1\": {\"candidates\": [\"m1\"]},\n"
	    "  \"w\": {\"candidates\": [\"m1\"], \"weights\": {\"m9\": 1}},\n"
	    "  \"e\": {\"candidates\": [\"m2\"], \"strategy\": \"slowest\"}},\n"
	    " \"colour\": 1}\n", &rc, &probs);
	is_int(rc, 0, "load: problems leave the rest loaded");
	is_str(probs, "models.json:19: unknown field \"colour\"\n"
	    "models.json:6: provider \"bad\": kind: expected openai, "
	    "anthropic or openai-compatible\n"
	    "models.json:7: provider \"nourl\": an openai-compatible provider "
	    "needs a base_url\n"
	    "models.json:11: model \"m2\": provider \"bad\" is not configured "
	    "(or was skipped)\n"
	    "models.json:12: model \"m3\": capabilities[1]: expected tools, "
	    "vision, json or stream\n"
	    "models.json:16: route \"m1\": a model has the name \"m1\" too\n"
	    "models.json:17: route \"w\": weights: \"m9\" is not a "
	    "candidate\n"
	    "models.json:18: route \"e\": candidates[0]: \"m2\" is not a "
	    "configured model\n"
	    "models.json:18: route \"e\": strategy: expected ordered, "
	    "cheapest, fastest, least-busy or weighted",
	    "load: each problem with its line");
	free(probs);
	is_int(c->nproviders, 3, "load: three providers");
	is_int(c->nmodels, 2, "load: two models");
	is_int(c->nroutes, 1, "load: one route");
	is_str(c->providers[0].base_url, "https://api.openai.com/v1",
	    "load: OpenAI's default base_url");
	is_int(c->providers[0].timeout_ms, 600000, "load: default timeout");
	is_int(c->providers[0].max_concurrency, 16, "load: default "
	    "concurrency");
	is_str(c->providers[1].base_url, "https://api.anthropic.com/v1",
	    "load: Anthropic's default base_url");
	is_int(c->providers[1].timeout_ms, 5000, "load: timeout");
	is_str(c->providers[1].headers[0], "X-Team: t", "load: headers");
	is_int(c->providers[1].cb_failures, 2, "load: circuit failures");
	is_int(c->providers[1].cb_cooldown_ms, 60000, "load: cool-down");
	is_str(c->providers[2].base_url, "http://h:1/v1", "load: a trailing "
	    "slash dropped");
	m = au_mf_model_find(c, "m1");
	ok(m != NULL && strcmp(m->upstream, "m1") == 0 && m->max_output ==
	    4096 && m->price_cached == 2, "load: model defaults");
	ok(au_mf_model_find(c, "m3") == NULL, "load: a bad model skipped");
	ok(au_mf_route_find(c, "r") != NULL &&
	    au_mf_route_find(c, "r")->nfallback == 1, "load: route");
	ok(c->daily_usd < 0 && c->run_usd < 0, "load: no budgets");
	au_mf_free(c);

	c = load("{\"budgets\": {\"daily_usd\": 1, \"run_usd\": \"x\"},\n"
	    " \"providers\": {\"o\": {\"kind\": \"openai\"}}}", &rc, &probs);
	is_int(rc, EX_CONFIG, "load: bad budgets load nothing");
	ok(c == NULL, "load: nothing");
	is_str(probs, "models.json:1: budgets: run_usd: expected a number "
	    ">= 0", "load: the budget's problem");
	free(probs);

	c = load("{\"providers\": {\"o\": {\"kind\": \"openai\"}, "
	    "\"o\": {\"kind\": \"openai\"}}}", &rc, &probs);
	is_str(probs, "models.json:1: provider \"o\": key \"o\" is given twice (first at "
	    "line 1)", "load: a name given twice");
	is_int(c->nproviders, 0, "load: neither of the twins");
	free(probs);
	au_mf_free(c);

	c = load("{\"providers\": [", &rc, &probs);
	ok(strncmp(probs, "models.json:1: invalid JSON", 27) == 0,
	    "load: bad JSON");
	free(probs);
	au_mf_free(c);
	is_int(au_mf_load(at("none.json"), &c, NULL), EX_NOINPUT,
	    "load: a missing file is 66");
}

static void
test_keys(void)
{
	struct au_mf_provider p = { 0 };
	char *key;

	p.name = "p";
	is_int(au_mf_key(&p, &key), 0, "key: none configured");
	ok(key == NULL, "key: none");
	p.key_env = "TEST_MF_KEY";
	unsetenv("TEST_MF_KEY");
	is_int(au_mf_key(&p, &key), EX_CONFIG, "key: an unset variable");
	is_str(au_errmsg(), "provider \"p\": $TEST_MF_KEY is not set",
	    "key: says which");
	setenv("TEST_MF_KEY", "sk-1", 1);
	is_int(au_mf_key(&p, &key), 0, "key: from the environment");
	is_str_free(key, "sk-1", "key: the variable's value");
	p.key_env = NULL;
	p.key_file = at("key");
	writefile(p.key_file, "sk-2\n", 5);
	is_int(au_mf_key(&p, &key), 0, "key: from a 0600 file");
	is_str_free(key, "sk-2", "key: its line");
	chmod(p.key_file, 0644);
	is_int(au_mf_key(&p, &key), EX_CONFIG, "key: a file others read");
	chmod(p.key_file, 0600);
	writefile(p.key_file, "a\nb\n", 4);
	is_int(au_mf_key(&p, &key), EX_CONFIG, "key: two lines");
	unlink(p.key_file);
	is_int(au_mf_key(&p, &key), EX_NOINPUT, "key: a missing file");
}

static void
test_costs(void)
{
	struct au_mf_model m = { 0 };
	jv r = jv_parse("{\"messages\":[{\"role\":\"user\",\"content\":"
	    "\"hello\"}]}");

	/* [{"role":"user","content":"hello"}] is 35 bytes */
	is_int(au_mf_estimate(r), 9, "estimate: four bytes a token, up");
	jv_free(r);
	m.price_in = 2;
	m.price_out = 10;
	m.price_cached = 1;
	m.max_output = 1000;
	ok(au_mf_cost(&m, 1000000, 0, 0) == 2, "cost: input");
	ok(au_mf_cost(&m, 1000000, 100000, 500000) == 2.5, "cost: cached "
	    "input at its price, output");
	ok(au_mf_cost_max(&m, 0, 0) == 0.01, "cost max: max_output");
	ok(au_mf_cost_max(&m, 0, 100) == 0.001, "cost max: max_tokens");
	ok(au_mf_cost_max(&m, 0, 5000) == 0.01, "cost max: at most "
	    "max_output");
}

/* The order of w's models, joined by ' ', and the exclusions. */
static char *
route(struct au_mf_conf *c, sqlite3 *db, struct au_mf_want *w)
{
	struct au_mf_model *order[16];
	struct au_buf b = AU_BUF_INIT;
	jv ex, exl;
	int i, n = au_mf_route(c, db, w, order, &ex);

	au_buf_adds(&b, "");
	if (n < 0)
		au_buf_addf(&b, "error: %s", au_errmsg());
	for (i = 0; i < n; i++)
		au_buf_addf(&b, "%s%s", i ? " " : "", order[i]->name);
	exl = jv_object_get(ex, jv_string("excluded"));
	if (jv_get_kind(exl) != JV_KIND_ARRAY) {
		jv_free(exl);
		exl = jv_array();
	}
	jv_array_foreach(exl, j, e) {
		au_buf_addf(&b, " | %s: %s", au_jv_str(e, "model"),
		    au_jv_str(e, "reason"));
		jv_free(e);
		(void)j;
	}
	jv_free(exl);
	return b.s;
}

static void
test_route(sqlite3 *db)
{
	struct au_mf_conf *c;
	struct au_mf_want w = { 0 };
	char *probs;
	int rc, i, first = 0;

	c = load("{\"providers\": {\"p\": {\"kind\": \"openai\", "
	    "\"max_concurrency\": 4}, \"q\": {\"kind\": \"openai\", "
	    "\"max_concurrency\": 4, \"circuit\": {\"failures\": 2, "
	    "\"cooldown\": \"1h\"}}},\n"
	    " \"models\": {\n"
	    "  \"a\": {\"provider\": \"p\", \"context_window\": 50, "
	    "\"max_output\": 1000, \"price\": {\"input\": 3, \"output\": 3}, \"capabilities\": "
	    "[\"tools\"]},\n"
	    "  \"b\": {\"provider\": \"p\", \"max_output\": 1000, "
	    "\"price\": {\"input\": 1, \"output\": 1}, \"capabilities\": [\"tools\", \"vision\"]},\n"
	    "  \"c\": {\"provider\": \"q\", \"max_output\": 1000, "
	    "\"price\": {\"input\": 2, \"output\": 2}, \"capabilities\": [\"tools\", \"vision\"]}},\n"
	    " \"routes\": {\n"
	    "  \"ord\": {\"candidates\": [\"a\", \"b\", \"c\"], "
	    "\"fallbacks\": [\"b\"]},\n"
	    "  \"cheap\": {\"candidates\": [\"a\", \"b\", \"c\"], "
	    "\"strategy\": \"cheapest\"},\n"
	    "  \"fast\": {\"candidates\": [\"a\", \"b\", \"c\"], "
	    "\"strategy\": \"fastest\"},\n"
	    "  \"busy\": {\"candidates\": [\"a\", \"c\"], \"strategy\": "
	    "\"least-busy\"},\n"
	    "  \"wt\": {\"candidates\": [\"a\", \"b\"], \"strategy\": "
	    "\"weighted\", \"weights\": {\"a\": 99, \"b\": 1}, "
	    "\"fallbacks\": [\"c\"]}}}\n", &rc, &probs);
	is_str(probs, "", "route: the configuration loads");
	free(probs);
	w.budget_left = -1;
	w.name = "ord";
	is_str_free(route(c, db, &w), "a b c", "route: ordered; a fallback "
	    "already a candidate is not tried twice");
	w.name = "b";
	is_str_free(route(c, db, &w), "b", "route: a model by its name");
	w.name = "nothing";
	is_str_free(route(c, db, &w), "error: \"nothing\" is neither a model "
	    "nor a route in models.json", "route: an unknown name");
	w.name = "ord";
	w.needs = AU_MF_VISION;
	is_str_free(route(c, db, &w), "b c | a: lacks capability vision",
	    "route: a capability missing");
	w.needs = 0;
	w.tokens = 45;
	w.max_tokens = 10;
	is_str_free(route(c, db, &w), "b c | a: prompt of about 45 tokens "
	    "and max_tokens exceeds its context window of 50",
	    "route: the context window");
	w.tokens = 0;
	w.max_tokens = 0;
	w.budget_left = 0.0025;
	is_str_free(route(c, db, &w), "b c | a: would break the budget: up "
	    "to $0.003000, $0.002500 left", "route: the budget");
	w.budget_left = -1;
	w.name = "cheap";
	is_str_free(route(c, db, &w), "b c a", "route: cheapest");
	c->models[0].latency_ms = 10;
	c->models[2].latency_ms = 5;
	w.name = "fast";
	is_str_free(route(c, db, &w), "b c a", "route: fastest, the "
	    "unmeasured first");
	c->providers[0].busy = 3;
	c->providers[1].busy = 1;
	w.name = "busy";
	is_str_free(route(c, db, &w), "c a", "route: least busy");
	w.name = "wt";
	for (i = 0; i < 200; i++) {
		char *s = route(c, db, &w);

		first += s[0] == 'a';
		ok(strcmp(s, "a b c") == 0 || strcmp(s, "b a c") == 0,
		    "route: weighted, fallback last (%s)", s);
		free(s);
	}
	ok(first > 180, "route: weighted by the weights (%d of 200 a)",
	    first);

	/* The circuit of q opens after two failures, in the state file. */
	w.name = "ord";
	is_int(au_mf_circuit_report(db, &c->providers[1], 0), 0, "circuit: "
	    "a failure");
	is_str_free(route(c, db, &w), "a b c", "circuit: one failure of two "
	    "leaves it closed");
	au_mf_circuit_report(db, &c->providers[1], 0);
	{
		char *s = route(c, db, &w);

		ok(strncmp(s, "a b | c: circuit of q open until ", 33) == 0,
		    "circuit: open after two (%s)", s);
		free(s);
	}
	/* The cool-down over, one probe may go: the next is refused. */
	au_db_exec(db, "UPDATE mf_circuit SET until = 1");
	w.claim = 1;
	is_str_free(route(c, db, &w), "a b c", "circuit: half-open, the "
	    "probe claimed");
	{
		char *s = route(c, db, &w);

		ok(strncmp(s, "a b | c: circuit of q half-open, being probed, "
		    "until ", 52) == 0, "circuit: no second probe (%s)", s);
		free(s);
	}
	au_mf_circuit_report(db, &c->providers[1], 0);
	{
		char *s = route(c, db, &w);

		ok(strstr(s, "c: circuit of q open until") != NULL,
		    "circuit: a failed probe opens it again (%s)", s);
		free(s);
	}
	au_db_exec(db, "UPDATE mf_circuit SET until = 1");
	is_str_free(route(c, db, &w), "a b c", "circuit: probed again");
	au_mf_circuit_report(db, &c->providers[1], 1);
	is_str_free(route(c, db, &w), "a b c", "circuit: closed by a "
	    "success");
	is_str_free(route(c, db, &w), "a b c", "circuit: stays closed");
	au_mf_free(c);
}

static void
test_spent(sqlite3 *db)
{
	double usd;

	au_db_exec(db, "INSERT INTO mf_usage (ts, run_id, cost_usd, status) "
	    "VALUES (1000, 'R', 0.5, 'ok'), (2000, 'R', 0.25, 'ok'), "
	    "(2000, 'S', 1, 'ok'), (500, NULL, 4, 'ok')");
	is_int(au_mf_spent(db, 0, NULL, &usd), 0, "spent: all");
	ok(usd == 5.75, "spent: the sum (%g)", usd);
	au_mf_spent(db, 1000, NULL, &usd);
	ok(usd == 1.75, "spent: since (%g)", usd);
	au_mf_spent(db, 0, "R", &usd);
	ok(usd == 0.75, "spent: of a run (%g)", usd);
	au_mf_spent(db, 0, "none", &usd);
	ok(usd == 0, "spent: of a run with nothing");
}

int
main(void)
{
	sqlite3 *db;

	tmpdir_make("test-mf");
	test_load();
	test_keys();
	test_costs();
	if (au_db_open(at("state.db"), &db) != 0)
		return 2;
	test_route(db);
	test_spent(db);
	au_db_close(db);
	tmpdir_remove();
	return done();
}
