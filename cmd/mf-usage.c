/*
 * mf-usage - what the model fabric has used: tokens, cost, requests,
 * errors and latency percentiles from mf_usage, in all or by model,
 * provider, day, run or task; or, with --budget, what is spent against
 * each budget of models.json.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "agentutils.h"

enum { O_BY = AU_LONG, O_SINCE, O_UNTIL, O_BUDGET, O_MODELS };

static const struct au_opt opts[] = {
	{ O_BY, "by", "KEY", "one record per model, provider, day, run or "
	    "task", "model provider day run task" },
	{ O_SINCE, "since", "TIME", "from TIME (RFC 3339, or a duration "
	    "ago)", NULL },
	{ O_UNTIL, "until", "TIME", "before TIME", NULL },
	{ O_BUDGET, "budget", NULL, "spend against each budget of "
	    "models.json", NULL },
	{ O_MODELS, "models", "FILE", "the models.json to read", "FILE" },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"mf-usage", "", "Tokens, cost, errors and latency of model requests.",
	opts, AU_USE_DB | AU_USE_TABLE, NULL
};

/* The SQL expression of each --by key. */
static const char *const bys[][2] = {
	{ "model", "model" },
	{ "provider", "provider" },
	{ "day", "strftime('%Y-%m-%d', ts / 1000, 'unixepoch')" },
	{ "run", "run_id" },
	{ "task", "task_id" },
};

/* A time option: RFC 3339, or a duration before now. */
static int64_t
when(const char *opt, const char *arg)
{
	int64_t ms;

	if (au_ts_parse(arg, &ms) == 0)
		return ms;
	if (au_dur_parse(arg, &ms) == 0)
		return au_now_ms() - ms;
	au_usage_die(&cmd, "%s: expected an RFC 3339 time or a duration "
	    "such as 7d", opt);
}

/* The q-th quantile (nearest rank) of the n sorted values v. */
static jv
quantile(const int64_t *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return jv_null();
	i = (size_t)(q * (double)n + 0.999999);
	return jv_number((double)v[i == 0 ? 0 : i - 1]);
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static jv
percentiles(int64_t *v, size_t n)
{
	if (n > 0)
		qsort(v, n, sizeof *v, cmp64);
	return JV_OBJECT(jv_string("p50"), quantile(v, n, 0.5),
	    jv_string("p90"), quantile(v, n, 0.9), jv_string("p99"),
	    quantile(v, n, 0.99), jv_string("max"), quantile(v, n, 1));
}

struct group {
	int64_t requests, errors, refused, in, out, cached;
	double cost;
	int64_t *lat, *ttft;
	size_t nlat, latcap, nttft, ttftcap;
};

static void
put_table_head(int table, int budget, const char *by)
{
	char line[256], head[16];
	int n, i;

	if (!table)
		return;
	for (i = 0; by != NULL && by[i] != '\0' && i < 15; i++)
		head[i] = (char)(by[i] - 'a' + 'A');
	head[i] = '\0';
	if (budget)
		n = snprintf(line, sizeof line, "%-8s %-26s %12s %12s %12s",
		    "BUDGET", "SCOPE", "LIMIT", "SPENT", "LEFT");
	else
		n = snprintf(line, sizeof line, "%-26s %8s %6s %10s %10s "
		    "%12s %8s %8s", by ? head : "ALL", "REQUESTS", "ERRORS",
		    "INPUT", "OUTPUT", "COST_USD", "P50_MS", "P99_MS");
	au_out_line(line, (size_t)n);
}

/* Write the record of group g, keyed by key (NULL: the whole). */
static void
put_group(int table, const char *by, const char *key, struct group *g)
{
	jv r = JV_OBJECT(jv_string("type"), jv_string("model.usage"));
	jv lat = percentiles(g->lat, g->nlat);

	if (by != NULL)
		r = jv_object_set(r, jv_string(by), key ? jv_string(key) :
		    jv_null());
	r = jv_object_set(r, jv_string("requests"),
	    jv_number((double)g->requests));
	r = jv_object_set(r, jv_string("errors"),
	    jv_number((double)g->errors));
	r = jv_object_set(r, jv_string("refused"),
	    jv_number((double)g->refused));
	r = jv_object_set(r, jv_string("input_tokens"),
	    jv_number((double)g->in));
	r = jv_object_set(r, jv_string("output_tokens"),
	    jv_number((double)g->out));
	r = jv_object_set(r, jv_string("cached_tokens"),
	    jv_number((double)g->cached));
	r = jv_object_set(r, jv_string("cost_usd"), jv_number(g->cost));
	if (table) {
		char line[256];
		jv p50 = jv_object_get(jv_copy(lat), jv_string("p50"));
		jv p99 = jv_object_get(jv_copy(lat), jv_string("p99"));
		int n = snprintf(line, sizeof line, "%-26.26s %8lld %6lld "
		    "%10lld %10lld %12.6f %8.0f %8.0f", key ? key : "-",
		    (long long)g->requests, (long long)g->errors,
		    (long long)g->in, (long long)g->out, g->cost,
		    jv_get_kind(p50) == JV_KIND_NUMBER ? jv_number_value(p50) :
		    0, jv_get_kind(p99) == JV_KIND_NUMBER ?
		    jv_number_value(p99) : 0);

		jv_free(p50);
		jv_free(p99);
		au_out_line(line, (size_t)n);
		jv_free(lat);
	} else {
		r = jv_object_set(r, jv_string("latency_ms"), lat);
		r = jv_object_set(r, jv_string("ttft_ms"),
		    percentiles(g->ttft, g->nttft));
		au_out_rec(r);
	}
	jv_free(r);
	free(g->lat);
	free(g->ttft);
	memset(g, 0, sizeof *g);
}

static void
usage(sqlite3 *db, int table, int by, int64_t since, int64_t until)
{
	struct au_buf q = AU_BUF_INIT;
	struct group g = { 0 };
	sqlite3_stmt *st;
	char *key = NULL;
	int rc, any = 0;

	au_buf_addf(&q, "SELECT %s, status, input_tokens, output_tokens, "
	    "cached_tokens, cost_usd, latency_ms, ttft_ms FROM mf_usage "
	    "WHERE ts >= ?1 AND ts < ?2 ORDER BY 1", by >= 0 ? bys[by][1] :
	    "NULL");
	if ((rc = sqlite3_prepare_v2(db, q.s, -1, &st, NULL)) != SQLITE_OK)
		au_die(au_db_error(db, rc), "%s", au_errmsg());
	au_buf_free(&q);
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	put_table_head(table, 0, by >= 0 ? bys[by][0] : NULL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *status = (const char *)sqlite3_column_text(st, 1);

		if (any && (k == NULL ? key != NULL : key == NULL ||
		    strcmp(k, key) != 0)) {
			put_group(table, by >= 0 ? bys[by][0] : NULL, key, &g);
			free(key);
			key = NULL;
		}
		if (k != NULL && key == NULL)
			key = au_xstrdup(k);
		any = 1;
		g.requests++;
		g.errors += strcmp(status, "error") == 0;
		g.refused += strcmp(status, "refused") == 0;
		g.in += sqlite3_column_int64(st, 2);
		g.out += sqlite3_column_int64(st, 3);
		g.cached += sqlite3_column_int64(st, 4);
		g.cost += sqlite3_column_double(st, 5);
		if (strcmp(status, "ok") == 0 &&
		    sqlite3_column_type(st, 6) != SQLITE_NULL) {
			g.lat = au_grow(g.lat, &g.latcap, g.nlat + 1,
			    sizeof *g.lat);
			g.lat[g.nlat++] = sqlite3_column_int64(st, 6);
		}
		if (strcmp(status, "ok") == 0 &&
		    sqlite3_column_type(st, 7) != SQLITE_NULL) {
			g.ttft = au_grow(g.ttft, &g.ttftcap, g.nttft + 1,
			    sizeof *g.ttft);
			g.ttft[g.nttft++] = sqlite3_column_int64(st, 7);
		}
	}
	if (rc != SQLITE_DONE)
		au_die(au_db_error(db, rc), "%s", au_errmsg());
	sqlite3_finalize(st);
	/* Without --by there is one record, of nothing if need be. */
	if (any || by < 0)
		put_group(table, by >= 0 ? bys[by][0] : NULL, key, &g);
	free(key);
}

static void
put_budget(int table, const char *which, const char *scope, double limit,
    double spent)
{
	jv r;

	if (table) {
		char line[256];
		int n = snprintf(line, sizeof line, "%-8s %-26.26s %12.6f "
		    "%12.6f %12.6f", which, scope, limit, spent, limit - spent);

		au_out_line(line, (size_t)n);
		return;
	}
	r = JV_OBJECT(jv_string("type"), jv_string("model.budget"),
	    jv_string("budget"), jv_string(which), jv_string("scope"),
	    jv_string(scope), jv_string("limit_usd"), jv_number(limit),
	    jv_string("spent_usd"), jv_number(spent), jv_string("left_usd"),
	    jv_number(limit - spent));
	au_out_rec(r);
	jv_free(r);
}

/* Spend against each budget: today's, and each run's since since. */
static void
budgets(sqlite3 *db, const char *models, int table, int64_t since)
{
	struct au_mf_conf *c;
	jv problems = jv_array();
	int64_t now = au_now_ms();
	char day[AU_TS_LEN];
	double spent;
	sqlite3_stmt *st;
	int rc = au_mf_load(models, &c, &problems);

	jv_array_foreach(problems, i, p) {
		au_warn("%s", jv_string_value(p));
		jv_free(p);
		(void)i;
	}
	jv_free(problems);
	if (rc != 0)
		au_die(rc, "%s", au_errmsg());
	put_table_head(table, 1, NULL);
	if (c->daily_usd >= 0) {
		if (au_mf_spent(db, now - now % 86400000, NULL, &spent) != 0)
			au_die(EX_IOERR, "%s", au_errmsg());
		au_ts_fmt(now - now % 86400000, day);
		day[10] = '\0';
		put_budget(table, "daily", day, c->daily_usd, spent);
	}
	if (c->run_usd >= 0) {
		rc = sqlite3_prepare_v2(db, "SELECT run_id, total(cost_usd) "
		    "FROM mf_usage WHERE run_id IS NOT NULL GROUP BY run_id "
		    "HAVING max(ts) >= ?1 ORDER BY run_id", -1, &st, NULL);
		if (rc != SQLITE_OK)
			au_die(au_db_error(db, rc), "%s", au_errmsg());
		sqlite3_bind_int64(st, 1, since);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			put_budget(table, "run", (const char *)
			    sqlite3_column_text(st, 0), c->run_usd,
			    sqlite3_column_double(st, 1));
		if (rc != SQLITE_DONE)
			au_die(au_db_error(db, rc), "%s", au_errmsg());
		sqlite3_finalize(st);
	}
	au_mf_free(c);
}

int
main(int argc, char **argv)
{
	const char *arg, *models = NULL;
	int64_t since = 0, until = INT64_MAX;
	int c, by = -1, budget = 0, i, table;
	sqlite3 *db;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1)
		switch (c) {
		case O_BY:
			for (i = 0; i < (int)(sizeof bys / sizeof bys[0]) &&
			    strcmp(bys[i][0], arg) != 0; i++)
				;
			if (i == (int)(sizeof bys / sizeof bys[0]))
				au_usage_die(&cmd, "--by: expected model, "
				    "provider, day, run or task");
			by = i;
			break;
		case O_SINCE:
			since = when("--since", arg);
			break;
		case O_UNTIL:
			until = when("--until", arg);
			break;
		case O_BUDGET:
			budget = 1;
			break;
		case O_MODELS:
			models = arg;
			break;
		}
	if (au_optind != argc)
		au_usage_die(&cmd, "no operands are taken");
	if (budget && by >= 0)
		au_usage_die(&cmd, "--budget and --by do not go together");
	table = au_table();
	db = au_xdb_open();
	au_out_init();
	if (budget)
		budgets(db, models, table, since);
	else
		usage(db, table, by, since, until);
	au_db_close(db);
	au_out_close();
	return 0;
}
