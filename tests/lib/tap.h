/*
 * tap.h - the Test Anything Protocol for the C unit tests of lib/: each
 * check prints "ok N - what" or "not ok N - what" with the values seen,
 * and done() prints the plan and returns the exit status.  A program need
 * not use every kind of check, hence the "unused" attributes.
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, \
	    __VA_ARGS__)
#define is_str(got, want, ...) \
	tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
/* is_str of a malloc'd string, which it then frees. */
#define is_str_free(got, want, ...) \
	tap_is_str_free((got), (want), __FILE__, __LINE__, __VA_ARGS__)

/* What every check prints: its line, and for a failure where it is and,
 * unless got is NULL, the values seen. */
static void __attribute__((format(printf, 6, 0)))
tap_report(int cond, const char *file, int line, const char *got,
    const char *want, const char *fmt, va_list ap)
{
	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	vprintf(fmt, ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   at %s:%d\n", file, line);
		if (got != NULL)
			printf("#   got: %s\n#  want: %s\n", got, want);
	}
}

static void __attribute__((format(printf, 4, 5), unused))
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_report(cond, file, line, NULL, NULL, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 5, 6), unused))
tap_is_int(long long got, long long want, const char *file, int line,
    const char *fmt, ...)
{
	char g[24], w[24];
	va_list ap;

	snprintf(g, sizeof g, "%lld", got);
	snprintf(w, sizeof w, "%lld", want);
	va_start(ap, fmt);
	tap_report(got == want, file, line, g, w, fmt, ap);
	va_end(ap);
}

/* The string checks' comparison, NULL equal only to NULL. */
static void __attribute__((format(printf, 5, 0)))
tap_vis_str(const char *got, const char *want, const char *file, int line,
    const char *fmt, va_list ap)
{
	int cond = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);

	tap_report(cond, file, line, got ? got : "(null)",
	    want ? want : "(null)", fmt, ap);
}

static void __attribute__((format(printf, 5, 6), unused))
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vis_str(got, want, file, line, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 5, 6), unused))
tap_is_str_free(char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vis_str(got, want, file, line, fmt, ap);
	va_end(ap);
	free(got);
}

static int
done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
