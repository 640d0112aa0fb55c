/*
 * fuzz-time.c - time.c's parsers of what people write: RFC 3339
 * timestamps, durations and sizes, the input taken as one string.  Beyond
 * surviving it, a timestamp of years 0 to 9999 must come back the same
 * through au_ts_fmt, and a duration must be within 0 and 100 years.
 */
#include "fuzz.h"

#define TS_MIN (-62167219200000LL)	/* 0000-01-01T00:00:00Z */
#define TS_MAX 253402300800000LL	/* 10000-01-01T00:00:00Z */
#define DUR_MAX (100 * 365.25 * 86400000.0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), buf[AU_TS_LEN];
	int64_t ms, back;
	uint64_t bytes;

	if (au_ts_parse(s, &ms) == 0 && ms >= TS_MIN && ms < TS_MAX &&
	    (au_ts_parse(au_ts_fmt(ms, buf), &back) != 0 || back != ms))
		abort();
	if (au_dur_parse(s, &ms) == 0 && (ms < 0 || ms > DUR_MAX))
		abort();
	au_size_parse(s, &bytes);
	free(s);
	return 0;
}
