/*
 * test-time.c - time.c: RFC 3339 timestamps (formatting, parsing with
 * offsets, fractions, leap years, refusal of impossible dates and of
 * missing zones, round trips over ten thousand years), durations and sizes
 * as people write them and what must be refused (more than 100 years among
 * it), the clocks, and ULIDs (alphabet, length, strict order in a tight
 * loop, time prefix).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentutils.h"
#include "tap.h"

static void
test_ts_fmt(void)
{
	char buf[AU_TS_LEN];

	is_str(au_ts_fmt(0, buf), "1970-01-01T00:00:00.000Z", "fmt: epoch");
	is_str(au_ts_fmt(1767323045678, buf), "2026-01-02T03:04:05.678Z",
	    "fmt: 2026-01-02T03:04:05.678Z");
	is_str(au_ts_fmt(-1, buf), "1969-12-31T23:59:59.999Z",
	    "fmt: one ms before the epoch");
	is_str(au_ts_fmt(951782400000, buf), "2000-02-29T00:00:00.000Z",
	    "fmt: leap day 2000");
	is_str(au_ts_fmt(253402300799999, buf), "9999-12-31T23:59:59.999Z",
	    "fmt: last ms of 9999");
	is_str(au_ts_fmt(-62167219200000, buf), "0000-01-01T00:00:00.000Z",
	    "fmt: first ms of year 0");
	is_str(au_ts_fmt(INT64_MAX, buf), "9999-12-31T23:59:59.999Z",
	    "fmt: INT64_MAX is held at 9999");
	is_str(au_ts_fmt(INT64_MIN, buf), "0000-01-01T00:00:00.000Z",
	    "fmt: INT64_MIN is held at 0000");
	ok(au_ts_fmt(5, buf) == buf, "fmt: returns buf");
}

/* Whether s parses to want. */
static int
parses(const char *s, int64_t want)
{
	int64_t ms = -12345;

	return au_ts_parse(s, &ms) == 0 && ms == want;
}

static void
test_ts_parse(void)
{
	static const char *const bad[] = {
		"", "2026", "2026-01-02", "2026-01-02T03:04:05",
		"2026-01-02T03:04:05.678", "2026-01-02T03:04:05Z ",
		" 2026-01-02T03:04:05Z", "2026-01-02T03:04Z",
		"2026-1-02T03:04:05Z", "2026-01-2T03:04:05Z",
		"2026-01-02X03:04:05Z", "2026-01-02T03:04:05.Z",
		"2026-01-02T03:04:05+0530", "2026-01-02T03:04:05+05",
		"2026-01-02T03:04:05+24:00", "2026-01-02T03:04:05+05:60",
		"2026-01-02T03:04:05UTC", "2023-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z", "2024-02-30T00:00:00Z",
		"2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z",
		"2024-00-10T00:00:00Z", "2024-01-00T00:00:00Z",
		"2024-01-32T00:00:00Z", "2024-01-01T24:00:00Z",
		"2024-01-01T23:60:00Z", "2024-01-01T23:59:61Z",
		"2024-01-01T23:59:5aZ", "abcd-01-01T00:00:00Z",
	};
	size_t i, refused = 0;
	int64_t ms;

	ok(parses("2026-01-02T03:04:05.678Z", 1767323045678),
	    "parse: Z with milliseconds");
	ok(parses("2026-01-02T03:04:05Z", 1767323045000),
	    "parse: no fraction");
	ok(parses("2026-01-02t03:04:05.678z", 1767323045678),
	    "parse: lowercase t and z");
	ok(parses("2026-01-02 03:04:05.678Z", 1767323045678),
	    "parse: space for T");
	ok(parses("2026-01-02T08:34:05.678+05:30", 1767323045678),
	    "parse: +05:30");
	ok(parses("2026-01-01T19:04:05.678-08:00", 1767323045678),
	    "parse: -08:00 across midnight");
	ok(parses("2026-01-02T03:04:05.678-00:00", 1767323045678),
	    "parse: -00:00");
	ok(parses("2026-01-02T03:04:05.5Z", 1767323045500),
	    "parse: one fraction digit");
	ok(parses("2026-01-02T03:04:05.05Z", 1767323045050),
	    "parse: two fraction digits");
	ok(parses("2026-01-02T03:04:05.678999999Z", 1767323045678),
	    "parse: digits past milliseconds are dropped");
	ok(parses("1970-01-01T00:00:00Z", 0), "parse: epoch");
	ok(parses("1969-12-31T23:59:59.999Z", -1), "parse: before the epoch");
	ok(parses("2000-02-29T00:00:00Z", 951782400000),
	    "parse: 2000 is a leap year");
	ok(parses("2024-02-29T12:00:00Z", 1709208000000),
	    "parse: 2024-02-29");
	ok(parses("2024-12-31T23:59:59.999Z", 1735689599999),
	    "parse: last ms of a leap year");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (au_ts_parse(bad[i], &ms) == -1)
			refused++;
		else
			printf("# accepted \"%s\"\n", bad[i]);
	}
	is_int(refused, sizeof bad / sizeof bad[0],
	    "parse: %zu impossible or incomplete timestamps refused",
	    sizeof bad / sizeof bad[0]);
}

static void
test_ts_roundtrip(void)
{
	const int64_t lo = -62167219200000, hi = 253402300799999;
	uint64_t x = 88172645463325252u;
	char buf[AU_TS_LEN];
	int64_t ms, back;
	int i, bad = 0;

	/* xorshift64: the same spread of instants on every run. */
	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ms = lo + (int64_t)(x % (uint64_t)(hi - lo + 1));
		if (au_ts_parse(au_ts_fmt(ms, buf), &back) != 0 ||
		    back != ms) {
			if (bad++ == 0)
				printf("# %lld -> %s\n", (long long)ms, buf);
		}
	}
	is_int(bad, 0, "round trip of 20000 instants in years 0000-9999");
}

static int
dur(const char *s, int64_t want)
{
	int64_t ms = -12345;

	return au_dur_parse(s, &ms) == 0 && ms == want;
}

static void
test_dur(void)
{
	static const char *const bad[] = {
		"", "10", "1x", "-1s", "+1s", "0x10s", "s", "ms", ".", ".s",
		"1.5", "1h30", "1 s", " 1s", "1s ", "1S", "1H", "1e3ms",
		"1sm", "1mss", "1,5s", "00", "36600d", "878400h", "36599d24h",
		"99999999999999999999d", "200000000000000h",
	};
	size_t i, refused = 0;
	int64_t ms;

	ok(dur("250ms", 250), "dur: 250ms");
	ok(dur("1.5s", 1500), "dur: 1.5s");
	ok(dur("2m", 120000), "dur: 2m");
	ok(dur("1h", 3600000), "dur: 1h");
	ok(dur("1h30m", 5400000), "dur: 1h30m");
	ok(dur("7d", 604800000), "dur: 7d");
	ok(dur("0", 0), "dur: 0");
	ok(dur("0s", 0), "dur: 0s");
	ok(dur("0.1s", 100), "dur: 0.1s");
	ok(dur(".5s", 500), "dur: .5s");
	ok(dur("1m30s", 90000), "dur: 1m30s");
	ok(dur("1d2h3m4s5ms", 93784005), "dur: 1d2h3m4s5ms");
	ok(dur("1000ms", 1000), "dur: 1000ms");
	ok(dur("36500d", 3153600000000), "dur: 36500d, within 100 years");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (au_dur_parse(bad[i], &ms) == -1)
			refused++;
		else
			printf("# accepted \"%s\"\n", bad[i]);
	}
	is_int(refused, sizeof bad / sizeof bad[0],
	    "dur: %zu malformed durations refused", sizeof bad / sizeof bad[0]);
}

static int
size(const char *s, uint64_t want)
{
	uint64_t n = 12345;

	return au_size_parse(s, &n) == 0 && n == want;
}

static void
test_size(void)
{
	static const char *const bad[] = {
		"", "K", "-1", "+1", " 1", "1 ", "1.5M", "1X", "1KK", "1iB",
		"0x10", "1 K", "18446744073709551616", "16777216T", "1P",
	};
	size_t i, refused = 0;
	uint64_t n;

	ok(size("512", 512), "size: 512");
	ok(size("0", 0), "size: 0");
	ok(size("64K", 65536), "size: 64K");
	ok(size("64k", 65536), "size: 64k");
	ok(size("16M", 16777216), "size: 16M");
	ok(size("1G", 1073741824), "size: 1G");
	ok(size("1T", 1099511627776), "size: 1T");
	ok(size("2KiB", 2048), "size: 2KiB");
	ok(size("3MB", 3145728), "size: 3MB");
	ok(size("512B", 512), "size: 512B");
	ok(size("18446744073709551615", UINT64_MAX), "size: UINT64_MAX");
	ok(size("16777215T", 16777215ull << 40), "size: 16777215T");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (au_size_parse(bad[i], &n) == -1)
			refused++;
		else
			printf("# accepted \"%s\"\n", bad[i]);
	}
	is_int(refused, sizeof bad / sizeof bad[0],
	    "size: %zu malformed sizes refused", sizeof bad / sizeof bad[0]);
}

static void
test_clocks(void)
{
	int64_t now = au_now_ms(), t = (int64_t)time(NULL) * 1000;
	int64_t m0 = au_mono_ms(), m1;
	struct timespec ts = { 0, 20000000 };

	ok(now >= t - 2000 && now <= t + 2000, "now_ms agrees with time()");
	nanosleep(&ts, NULL);
	m1 = au_mono_ms();
	ok(m1 - m0 >= 19 && m1 - m0 < 2000, "mono_ms counts ms (%lld)",
	    (long long)(m1 - m0));
}

/* The time part of a ULID: its first ten characters in base 32. */
static int64_t
ulid_ms(const char *id)
{
	static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	int64_t t = 0;
	int i;

	for (i = 0; i < 10; i++)
		t = t * 32 + (strchr(b32, id[i]) - b32);
	return t;
}

static void
test_ulid(void)
{
	enum { N = 10000 };
	static char ids[N][AU_ID_LEN];
	int64_t t0, t1, t;
	int i, badlen = 0, badchar = 0, order = 0, badtime = 0;

	ok(au_ulid(ids[0]) == ids[0], "ulid: returns buf");
	t0 = au_now_ms();
	for (i = 0; i < N; i++)
		au_ulid(ids[i]);
	t1 = au_now_ms();
	for (i = 0; i < N; i++) {
		if (strlen(ids[i]) != 26)
			badlen++;
		if (strspn(ids[i], "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != 26)
			badchar++;
		else if ((t = ulid_ms(ids[i])) < t0 || t > t1)
			badtime++;
		if (i > 0 && strcmp(ids[i - 1], ids[i]) >= 0)
			order++;
	}
	is_int(badlen, 0, "ulid: 26 characters");
	is_int(badchar, 0, "ulid: Crockford base 32 only");
	is_int(order, 0, "ulid: %d in a row strictly increase", N);
	is_int(badtime, 0, "ulid: time prefix within [%lld, %lld]",
	    (long long)t0, (long long)t1);
	ok(ids[0][0] <= '7', "ulid: first character is at most 7 (%c)",
	    ids[0][0]);
	ok(strcmp(ids[0] + 10, ids[1] + 10) != 0,
	    "ulid: random part changes");
}

int
main(void)
{
	test_ts_fmt();
	test_ts_parse();
	test_ts_roundtrip();
	test_dur();
	test_size();
	test_clocks();
	test_ulid();
	return done();
}
