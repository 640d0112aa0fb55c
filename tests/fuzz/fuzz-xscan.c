/*
 * fuzz-xscan.c - tk-md's scanner of sheets (cmd/tk-md/xscan.c) alone:
 * tkmd_stream and tkmd_fail are this file's, so that the member comes in
 * blocks of the size the first byte sets (1 to 256 bytes) rather than
 * libarchive's, the rest being the member.  The scan in blocks must see
 * the same elements, attributes and text, and end the same way (refused
 * at the same byte, though maybe for another reason: text is decoded up
 * to its last '&' in a block, and an '&' before it whose ';' lies beyond
 * is then "no reference" rather than "bad"), as the scan in one block; and
 * what libxml2 reads as well-formed, without a document type, the scanner
 * must read too, with the same elements and text.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdarg.h>

#include <libxml/parser.h>

#include "fuzz.h"
#include "tk-md/tkmd.h"

/* The member, and the size of its blocks. */
static const char *member;
static size_t memberlen, block;

int
tkmd_fail(struct tkmd *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, sizeof d->why, fmt, ap);
	va_end(ap);
	return -1;
}

int
tkmd_stream(struct tkmd *d, const char *name,
    int (*fn)(void *, const void *, size_t), void *arg, int required)
{
	size_t at, n;

	(void)d, (void)name, (void)required;
	for (at = 0; at < memberlen; at += n) {
		n = memberlen - at < block ? memberlen - at : block;
		if (fn(arg, member + at, n) != 0)
			return -1;
	}
	return 0;
}

/* The length of why up to its reason: "part: malformed XML at byte N". */
static size_t
where(const char *why)
{
	const char *at = strstr(why, " at byte ");

	return at != NULL ? (size_t)(at - why) + 9 + strspn(at + 9,
	    "0123456789") : strlen(why);
}

/* What the scan saw, onto the au_buf of x->arg: text collected since
 * the last element, then the element. */
static void
flush(struct tkmd_xscan *x)
{
	struct au_buf *log = x->arg;

	if (x->text.len > 0) {
		au_buf_addc(log, 'T');
		au_buf_add(log, x->text.s, x->text.len);
		au_buf_addc(log, '\0');
	}
	x->text.len = 0;
}

static void
start(struct tkmd_xscan *x, const char *name, size_t n,
    const struct tkmd_xattr *a, int na)
{
	struct au_buf *log = x->arg;
	int i;

	flush(x);
	au_buf_addc(log, 'S');
	au_buf_add(log, name, n);
	au_buf_addc(log, '\0');
	for (i = 0; i < na; i++) {
		au_buf_addc(log, 'A');
		au_buf_add(log, a[i].name, a[i].nlen);
		au_buf_addc(log, '=');
		au_buf_add(log, a[i].val, a[i].vlen);
		au_buf_addc(log, '\0');
	}
	x->collect = 1;
}

static void
end(struct tkmd_xscan *x, const char *name, size_t n)
{
	struct au_buf *log = x->arg;

	flush(x);
	au_buf_addc(log, 'E');
	au_buf_add(log, name, n);
	au_buf_addc(log, '\0');
}

/* Scan the member in blocks of n: its log (attributes left out unless
 * attrs) onto log, why onto why; 0 or -1. */
static int
scan(size_t n, int attrs, struct au_buf *log, char *why)
{
	struct tkmd d;
	struct tkmd_xscan x;
	size_t i, k, len;
	int rc;

	memset(&d, 0, sizeof d);
	memset(&x, 0, sizeof x);
	x.start = start;
	x.end = end;
	x.arg = log;
	block = n;
	log->len = 0;
	au_buf_add(log, "", 0);
	rc = tkmd_xscan(&d, "sheet.xml", &x, 1);
	tkmd_xscan_free(&x);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1 && d.why[0] == '\0')
		abort();
	memcpy(why, d.why, sizeof d.why);
	for (i = k = 0; !attrs && i < log->len; i += len) {
		len = strlen(log->s + i) + 1;
		if (log->s[i] != 'A') {
			memmove(log->s + k, log->s + i, len);
			k += len;
		}
	}
	if (!attrs)
		log->len = k;
	return rc;
}

/* The local name of element n: libxml2 keeps a prefix it finds no
 * namespace for in the name. */
static const char *
local(xmlNodePtr n)
{
	const char *colon = strrchr((const char *)n->name, ':');

	return colon != NULL ? colon + 1 : (const char *)n->name;
}

/* The text gathered so far onto log, as one entry. */
static void
logtext(struct au_buf *log, struct au_buf *text)
{
	if (text->len > 0) {
		au_buf_addc(log, 'T');
		au_buf_add(log, text->s, text->len);
		au_buf_addc(log, '\0');
		text->len = 0;
	}
}

/* The elements and text of the tree from n onto log, as scan logs them. */
static void
walk(xmlNodePtr n, struct au_buf *log, struct au_buf *text)
{
	for (; n != NULL; n = n->next) {
		if (n->type == XML_TEXT_NODE ||
		    n->type == XML_CDATA_SECTION_NODE) {
			au_buf_adds(text, (const char *)n->content);
			continue;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		logtext(log, text);
		au_buf_addc(log, 'S');
		au_buf_adds(log, local(n));
		au_buf_addc(log, '\0');
		walk(n->children, log, text);
		logtext(log, text);
		au_buf_addc(log, 'E');
		au_buf_adds(log, local(n));
		au_buf_addc(log, '\0');
	}
}

/* Whether libxml2 reads the member as the scanner should: plain UTF-8
 * (no other encoding declared, no CR that it would fold, no NUL, where
 * it stops reading) without a document type.  Its elements and text
 * onto log. */
static int
libxml(struct au_buf *log)
{
	struct au_buf text = AU_BUF_INIT;
	xmlDocPtr doc;

	if (au_utf8_valid(member, memberlen) != memberlen ||
	    memchr(member, '\r', memberlen) != NULL ||
	    memchr(member, '\0', memberlen) != NULL ||
	    memmem(member, memberlen, "encoding", 8) != NULL ||
	    memberlen > INT_MAX)
		return 0;
	doc = xmlReadMemory(member, (int)memberlen, "sheet.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		return 0;
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		return 0;
	}
	log->len = 0;
	au_buf_add(log, "", 0);
	walk(doc->children, log, &text);
	au_buf_free(&text);
	xmlFreeDoc(doc);
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct au_buf whole = AU_BUF_INIT, pieces = AU_BUF_INIT;
	char why[256], pwhy[256];
	int rc;

	if (size < 1)
		return 0;
	member = (const char *)data + 1;
	memberlen = size - 1;
	rc = scan(memberlen + 1, 1, &whole, why);
	if (scan(1 + data[0], 1, &pieces, pwhy) != rc ||
	    where(why) != where(pwhy) || memcmp(why, pwhy, where(why)) != 0 ||
	    whole.len != pieces.len ||
	    memcmp(whole.s, pieces.s, whole.len) != 0)
		abort();
	if (libxml(&pieces) && (scan(memberlen + 1, 0, &whole, why) != 0 ||
	    whole.len != pieces.len || memcmp(whole.s, pieces.s,
	    whole.len) != 0))
		abort();
	au_buf_free(&whole);
	au_buf_free(&pieces);
	return 0;
}
