/*
 * time.c - clocks, RFC 3339 timestamps, durations and sizes as people
 * write them, and ULIDs: 26-character ids that sort by creation time.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentutils.h"

int64_t
au_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
au_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's method). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

char *
au_ts_fmt(int64_t ms, char buf[AU_TS_LEN])
{
	int64_t days, rem, y;
	int m, d;

	days = ms / 86400000;
	rem = ms % 86400000;
	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		y = y < 0 ? 0 : 9999;
		m = y ? 12 : 1;
		d = y ? 31 : 1;
		rem = y ? 86399999 : 0;
	}
	snprintf(buf, AU_TS_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    (int)y, m, d, (int)(rem / 3600000), (int)(rem / 60000 % 60),
	    (int)(rem / 1000 % 60), (int)(rem % 1000));
	return buf;
}

/* n decimal digits at *s into *v; advances *s. */
static int
digits(const char **s, int n, int *v)
{
	*v = 0;
	while (n-- > 0) {
		if (!isdigit((unsigned char)**s))
			return -1;
		*v = *v * 10 + (*(*s)++ - '0');
	}
	return 0;
}

int
au_ts_parse(const char *s, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, h, mi, sec, frac = 0, scale = 1000, oh, om, leap;
	int64_t t;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d))
		return -1;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -1;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) ||
	    *s++ != ':' || digits(&s, 2, &sec))
		return -1;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		for (; isdigit((unsigned char)*s); s++) {
			if (scale > 1) {
				scale /= 10;
				frac += (*s - '0') * scale;
			}
		}
	}
	leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 60)
		return -1;
	t = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1;

		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
		t -= sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*s != '\0')
		return -1;
	*ms = t * 1000 + frac;
	return 0;
}

/* A hundred years: longer is a mistake, and sums of many stay in range. */
#define MAXDUR (100 * 365.25 * 86400000.0)

int
au_dur_parse(const char *s, int64_t *ms)
{
	double total = 0, v, scale, unit;
	int any;

	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		v = 0;
		any = 0;
		for (; isdigit((unsigned char)*s); s++, any = 1)
			v = v * 10 + (*s - '0');
		if (*s == '.')
			for (s++, scale = 0.1; isdigit((unsigned char)*s);
			    s++, scale /= 10, any = 1)
				v += (*s - '0') * scale;
		if (!any)
			return -1;
		if (strncmp(s, "ms", 2) == 0) {
			unit = 1;
			s += 2;
		} else if (*s == 's') {
			unit = 1000;
			s++;
		} else if (*s == 'm') {
			unit = 60000;
			s++;
		} else if (*s == 'h') {
			unit = 3600000;
			s++;
		} else if (*s == 'd') {
			unit = 86400000;
			s++;
		} else {
			return -1;
		}
		total += v * unit;
		if (total > MAXDUR)
			return -1;
	}
	*ms = (int64_t)(total + 0.5);
	return 0;
}

int
au_size_parse(const char *s, uint64_t *bytes)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': mult = 1ull << 10; end++; break;
	case 'm': case 'M': mult = 1ull << 20; end++; break;
	case 'g': case 'G': mult = 1ull << 30; end++; break;
	case 't': case 'T': mult = 1ull << 40; end++; break;
	}
	if (mult > 1 && *end == 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end != '\0' || (v != 0 && mult > UINT64_MAX / v))
		return -1;
	*bytes = (uint64_t)v * mult;
	return 0;
}

/* The last ULID made in this process: its time and 80 random bits. */
static pthread_mutex_t ulid_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t ulid_ms = -1;
static unsigned char ulid_rand[10];

char *
au_ulid(char buf[AU_ID_LEN])
{
	static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	unsigned char bin[16];
	int64_t now = au_now_ms();
	int i, bit;

	pthread_mutex_lock(&ulid_lock);
	if (now <= ulid_ms) {
		/* Same millisecond (or the clock stepped back): count up. */
		for (i = 9; i >= 0 && ++ulid_rand[i] == 0; i--)
			;
		if (i < 0)
			ulid_ms++;
	} else {
		ulid_ms = now;
		if (getentropy(ulid_rand, sizeof ulid_rand) != 0)
			au_die(EX_SOFTWARE, "getentropy:");
		ulid_rand[0] &= 0x7f;	/* room to count up within a ms */
	}
	for (i = 0; i < 6; i++)
		bin[i] = (unsigned char)(ulid_ms >> (40 - 8 * i));
	memcpy(bin + 6, ulid_rand, 10);
	pthread_mutex_unlock(&ulid_lock);
	/* 26 five-bit groups over 130 bits: two leading zero bits. */
	for (i = 0; i < 26; i++) {
		int v = 0, k;

		for (k = 0; k < 5; k++) {
			bit = i * 5 + k - 2;
			v <<= 1;
			if (bit >= 0)
				v |= (bin[bit / 8] >> (7 - bit % 8)) & 1;
		}
		buf[i] = b32[v];
	}
	buf[26] = '\0';
	return buf;
}
