/*
 * xscan.c - a scanner for the large, regular XML parts of a package
 * (worksheets, shared strings), much cheaper than libxml2's SAX2 for
 * them: elements with their attributes, and text only where the caller
 * asks for it.  It is as safe as tkmd_xml: a DOCTYPE is refused, no
 * entity is known but the five predefined ones and character
 * references, and what is not well-formed (a tag unclosed or closed by
 * another name, a bad reference, text outside the root) is refused with
 * the byte where it was found.  The member is scanned block by block as
 * libarchive expands it; only a token cut by a block's end is copied.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "tkmd.h"

/* Deeper than any sheet; libxml2's own default limit. */
#define MAX_DEPTH 256

/* The token at p is cut by the end of the buffer: scan it again later. */
#define CUT 1

static int
bad(struct tkmd_xscan *x, const char *at, const char *what)
{
	return tkmd_fail(x->d, "%s: malformed XML at byte %llu: %s", x->part,
	    (unsigned long long)(x->off + (uint64_t)(at - x->base)), what);
}

/* Classes of bytes, looked up rather than compared: most of a sheet is
 * names and values, and this is where the scan spends its time. */
enum { C_SPACE = 1, C_END = 2, C_VAL = 4, C_COLON = 8, C_APART = 16 };
static const unsigned char cls[256] = {
	['\t'] = C_SPACE | C_END | C_APART, ['\n'] = C_SPACE | C_END | C_APART,
	['\r'] = C_SPACE | C_END | C_APART, [' '] = C_SPACE | C_END | C_APART,
	['/'] = C_END | C_APART, ['>'] = C_END | C_APART, ['='] = C_END,
	['<'] = C_END | C_VAL,
	['"'] = C_END | C_VAL, ['\''] = C_END | C_VAL,
	['&'] = C_END | C_VAL, [':'] = C_COLON,
};

static int
space(char c)
{
	return cls[(unsigned char)c] & C_SPACE;
}

static void
utf8(struct au_buf *b, unsigned long c)
{
	if (c < 0x80) {
		au_buf_addc(b, (char)c);
	} else if (c < 0x800) {
		au_buf_addc(b, (char)(0xC0 | c >> 6));
		au_buf_addc(b, (char)(0x80 | (c & 0x3F)));
	} else if (c < 0x10000) {
		au_buf_addc(b, (char)(0xE0 | c >> 12));
		au_buf_addc(b, (char)(0x80 | (c >> 6 & 0x3F)));
		au_buf_addc(b, (char)(0x80 | (c & 0x3F)));
	} else {
		au_buf_addc(b, (char)(0xF0 | c >> 18));
		au_buf_addc(b, (char)(0x80 | (c >> 12 & 0x3F)));
		au_buf_addc(b, (char)(0x80 | (c >> 6 & 0x3F)));
		au_buf_addc(b, (char)(0x80 | (c & 0x3F)));
	}
}

/* The n bytes at s, their references resolved, onto o: 0, or -1 (why
 * set) for an unknown entity, a bad reference or a '<'. */
static int
decode(struct tkmd_xscan *x, struct au_buf *o, const char *s, size_t n)
{
	static const struct {
		const char *name;
		char c;
	} ents[] = { { "lt", '<' }, { "gt", '>' }, { "amp", '&' },
		{ "quot", '"' }, { "apos", '\'' } };
	const char *end = s + n, *amp, *semi;
	size_t i;

	while (s < end) {
		if ((amp = memchr(s, '&', (size_t)(end - s))) == NULL)
			amp = end;
		if (memchr(s, '<', (size_t)(amp - s)) != NULL)
			return bad(x, memchr(s, '<', (size_t)(amp - s)),
			    "'<' in text or a value");
		au_buf_add(o, s, (size_t)(amp - s));
		if (amp == end)
			break;
		semi = memchr(amp, ';', (size_t)(end - amp));
		if (semi == NULL || semi - amp > 12)
			return bad(x, amp, "'&' that starts no reference");
		s = semi + 1;
		if (amp[1] == '#') {
			const char *p = amp + 2;
			unsigned long c = 0;
			int hex = *p == 'x', digits = 0;

			for (p += hex; p < semi; p++, digits++) {
				int v = *p >= '0' && *p <= '9' ? *p - '0' :
				    hex && (*p | 0x20) >= 'a' &&
				    (*p | 0x20) <= 'f' ? (*p | 0x20) - 'a' + 10 :
				    -1;

				if (v < 0)
					return bad(x, amp, "bad character "
					    "reference");
				c = c * (hex ? 16 : 10) + (unsigned long)v;
			}
			if (digits == 0 || c == 0 || c > 0x10FFFF ||
			    (c >= 0xD800 && c <= 0xDFFF) || (c < 0x20 &&
			    c != '\t' && c != '\n' && c != '\r'))
				return bad(x, amp, "bad character reference");
			utf8(o, c);
			continue;
		}
		for (i = 0; i < sizeof ents / sizeof ents[0]; i++)
			if ((size_t)(semi - amp - 1) == strlen(ents[i].name) &&
			    memcmp(amp + 1, ents[i].name,
			    (size_t)(semi - amp - 1)) == 0)
				break;
		if (i == sizeof ents / sizeof ents[0])
			return bad(x, amp, "undefined entity");
		au_buf_addc(o, ents[i].c);
	}
	return 0;
}

/* The name at p, until a byte that ends it (or end); its local name
 * ("x:c" is "c") starts at *ln. */
static const char *
name(const char *p, const char *end, const char **ln)
{
	unsigned char c;

	*ln = p;
	for (; p < end; p++)
		if ((c = cls[(unsigned char)*p]) != 0) {
			if (c & C_END)
				break;
			*ln = p + 1;
		}
	return p;
}

/* The start tag at p (its '<'): 0 with *next past it, CUT, or -1. */
static int
starttag(struct tkmd_xscan *x, const char *p, const char *end,
    const char **next)
{
	const char *tag = p + 1, *tagln, *ln, *an, *v;
	const char *q = name(tag, end, &tagln);
	size_t nlen = (size_t)(q - tag), lnlen, i;
	int na = 0, empty = 0, decoded = 0;
	char quote;

	if (q == end)
		return CUT;
	if (nlen == 0)
		return bad(x, p, "'<' that starts no tag");
	for (;;) {
		while (q < end && space(*q))
			q++;
		if (q == end)
			return CUT;
		if (*q == '>')
			break;
		if (*q == '/') {
			if (q + 1 == end)
				return CUT;
			if (q[1] != '>')
				return bad(x, q, "'/' in a tag");
			empty = 1;
			q++;
			break;
		}
		an = q;
		if ((q = name(q, end, &ln)) == an)
			return bad(x, q, "a bad attribute");
		lnlen = (size_t)(q - ln);
		/* Most write name="value" with no space around '='. */
		while (q < end && *q != '=' && space(*q))
			q++;
		if (q == end)
			return CUT;
		if (*q != '=')
			return bad(x, q, "an attribute without a value");
		for (q++; q < end && *q != '"' && space(*q); q++)
			;
		if (q == end)
			return CUT;
		if (*q != '"' && *q != '\'')
			return bad(x, q, "an attribute value not quoted");
		quote = *q;
		for (v = ++q; q < end; q++)
			if (cls[(unsigned char)*q] & C_VAL) {
				if (*q == quote)
					break;
				decoded |= *q == '&' || *q == '<';
			}
		if (q == end)
			return CUT;
		if (na < TKMD_XATTRS) {
			x->attr[na].name = ln;
			x->attr[na].nlen = lnlen;
			x->attr[na].val = v;
			x->attr[na].vlen = (size_t)(q - v);
			na++;
		}
		q++;
		if (q < end && !(cls[(unsigned char)*q] & C_APART))
			return bad(x, q, "attributes not apart");
	}
	*next = q + 1;
	if (x->depth == 0 && x->root)
		return bad(x, p, "an element after the root");
	if (x->depth >= MAX_DEPTH)
		return bad(x, p, "nesting too deep");
	if (decoded) {
		/* Rare: values with references, decoded into one buffer
		 * and pointed at once it no longer moves. */
		size_t off[TKMD_XATTRS];

		x->vals.len = 0;
		for (i = 0; i < (size_t)na; i++) {
			off[i] = x->vals.len;
			if (decode(x, &x->vals, x->attr[i].val,
			    x->attr[i].vlen) != 0)
				return -1;
			x->attr[i].vlen = x->vals.len - off[i];
		}
		for (i = 0; i < (size_t)na; i++)
			x->attr[i].val = x->vals.s + off[i];
	}
	x->root = 1;
	lnlen = nlen - (size_t)(tagln - tag);
	if (x->start != NULL)
		x->start(x, tagln, lnlen, x->attr, na);
	if (empty) {
		if (x->end != NULL)
			x->end(x, tagln, lnlen);
		return 0;
	}
	if ((size_t)x->depth == x->capopen)
		x->open = au_grow(x->open, &x->capopen, (size_t)x->depth + 1,
		    sizeof *x->open);
	x->open[x->depth++] = x->names.len;
	if (x->names.cap - x->names.len <= nlen)
		au_buf_grow(&x->names, nlen + 1);
	/* Names are short: a loop costs less than calling memcpy. */
	for (i = 0; i < nlen; i++)
		x->names.s[x->names.len + i] = tag[i];
	x->names.len += nlen;
	return 0;
}

/* The end tag at p: 0 with *next past it, CUT, or -1. */
static int
endtag(struct tkmd_xscan *x, const char *p, const char *end,
    const char **next)
{
	const char *tag = p + 2, *ln, *q = name(tag, end, &ln);
	size_t nlen = (size_t)(q - tag), top, i;

	while (q < end && space(*q))
		q++;
	if (q == end)
		return CUT;
	if (*q != '>')
		return bad(x, q, "a bad end tag");
	if (x->depth == 0)
		return bad(x, p, "an end tag with no element open");
	top = x->open[x->depth - 1];
	if (x->names.len - top != nlen)
		return bad(x, p, "an end tag that closes another element");
	for (i = 0; i < nlen; i++)
		if (x->names.s[top + i] != tag[i])
			return bad(x, p, "an end tag that closes another "
			    "element");
	x->depth--;
	x->names.len = top;
	*next = q + 1;
	if (x->end != NULL)
		x->end(x, ln, nlen - (size_t)(ln - tag));
	return 0;
}

/* The text from p to end (no '<' in it): 0, or -1. */
static int
text(struct tkmd_xscan *x, const char *p, const char *end)
{
	const char *q;
	size_t n;

	if (x->depth == 0) {
		for (q = p; q < end; q++)
			if (!space(*q))
				return bad(x, q, "text outside the root "
				    "element");
		return 0;
	}
	/* As libxml2 does, refuse a part whose text is not UTF-8 (a
	 * reference is ASCII, and what it stands for checked). */
	if ((n = au_utf8_valid(p, (size_t)(end - p))) < (size_t)(end - p))
		return bad(x, p + n, "text not in UTF-8");
	if (!x->collect)
		return 0;
	/* Most text has no reference (and no '<', which ended it). */
	if (memchr(p, '&', (size_t)(end - p)) == NULL) {
		au_buf_add(&x->text, p, (size_t)(end - p));
		return 0;
	}
	return decode(x, &x->text, p, (size_t)(end - p));
}

/* The markup at p, which starts "<!" or "<?": 0 with *next past it,
 * CUT, or -1. */
static int
special(struct tkmd_xscan *x, const char *p, const char *end,
    const char **next)
{
	const char *q;
	size_t n = (size_t)(end - p);

	if (p[1] == '?') {
		for (q = p + 2; q + 1 < end; q++)
			if (q[0] == '?' && q[1] == '>') {
				*next = q + 2;
				return 0;
			}
		return CUT;
	}
	if (n < 9)
		return CUT;
	if (memcmp(p, "<!--", 4) == 0) {
		for (q = p + 4; q + 2 < end; q++)
			if (q[0] == '-' && q[1] == '-' && q[2] == '>') {
				*next = q + 3;
				return 0;
			}
		return CUT;
	}
	if (memcmp(p, "<![CDATA[", 9) == 0) {
		for (q = p + 9; q + 2 < end; q++)
			if (q[0] == ']' && q[1] == ']' && q[2] == '>')
				break;
		if (q + 2 >= end)
			return CUT;
		if (x->depth == 0)
			return bad(x, p, "text outside the root element");
		if (x->collect)
			au_buf_add(&x->text, p + 9, (size_t)(q - p - 9));
		*next = q + 3;
		return 0;
	}
	if (memcmp(p, "<!DOCTYPE", 9) == 0)
		return tkmd_fail(x->d, "%s: document type declaration "
		    "refused", x->part);
	return bad(x, p, "'<!' that starts no comment or CDATA");
}

/*
 * Scan the n bytes at s: how many were consumed (the rest is a token cut
 * by the end, to be scanned again with what follows), or -1.  Text being
 * collected is taken up to a reference that may be cut; other text is
 * consumed whole.
 */
static long
scan(struct tkmd_xscan *x, const char *s, size_t n)
{
	const char *p = s, *end = s + n, *q, *next = NULL;
	int rc;

	x->base = s;
	/* A byte order mark cut by the first block is scanned with the
	 * next, rather than taken for text outside the root. */
	if (x->off == 0 && n < 3 && memcmp(s, "\xEF\xBB\xBF", n) == 0)
		return 0;
	if (x->off == 0 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (p < end) {
		if (*p != '<') {
			if ((q = memchr(p, '<', (size_t)(end - p))) == NULL) {
				q = end;
				if (x->collect && x->depth > 0) {
					const char *amp = memrchr(p, '&',
					    (size_t)(end - p));

					if (amp != NULL && memchr(amp, ';',
					    (size_t)(end - amp)) == NULL)
						q = amp;
				}
			}
			if (text(x, p, q) != 0)
				return -1;
			p = q;
			if (q < end && *q != '<')
				break;
			continue;
		}
		if (p + 1 == end)
			break;
		if (p[1] == '/')
			rc = endtag(x, p, end, &next);
		else if (p[1] == '!' || p[1] == '?')
			rc = special(x, p, end, &next);
		else
			rc = starttag(x, p, end, &next);
		if (rc < 0)
			return -1;
		if (rc == CUT)
			break;
		p = next;
	}
	x->off += (uint64_t)(p - s);
	return (long)(p - s);
}

/* A block of the member: scanned in place, after what was cut before. */
static int
feed(void *arg, const void *blk, size_t n)
{
	struct tkmd_xscan *x = arg;
	const char *s = blk, *gt;
	size_t k;
	long used;
	int first = 1;

	/* The cut token is completed up to the block's first '>'; if it is
	 * still cut (a '>' inside a value), by the whole block, so that a
	 * value full of '>' is not scanned again for each. */
	while (n > 0 && x->cut.len > 0) {
		k = first && (gt = memchr(s, '>', n)) != NULL ?
		    (size_t)(gt - s) + 1 : n;
		first = 0;
		au_buf_add(&x->cut, s, k);
		s += k;
		n -= k;
		if ((used = scan(x, x->cut.s, x->cut.len)) < 0)
			return -1;
		memmove(x->cut.s, x->cut.s + used, x->cut.len - (size_t)used);
		x->cut.len -= (size_t)used;
	}
	if (n == 0)
		return 0;
	if ((used = scan(x, s, n)) < 0)
		return -1;
	au_buf_add(&x->cut, s + used, n - (size_t)used);
	return 0;
}

int
tkmd_xscan(struct tkmd *d, const char *name, struct tkmd_xscan *x,
    int required)
{
	int rc;

	x->d = d;
	x->part = name;
	x->off = 0;
	x->depth = x->root = x->collect = 0;
	x->cut.len = x->names.len = x->text.len = 0;
	rc = tkmd_stream(d, name, feed, x, required);
	if (rc == 0 && x->cut.len > 0) {
		x->base = x->cut.s;
		rc = bad(x, x->cut.s, "the end in the middle of a tag");
	} else if (rc == 0 && x->depth > 0) {
		x->base = NULL;
		rc = tkmd_fail(d, "%s: malformed XML at byte %llu: the end "
		    "with %d elements open", name, (unsigned long long)x->off,
		    x->depth);
	} else if (rc == 0 && !x->root) {
		rc = tkmd_fail(d, "%s: malformed XML: no element", name);
	}
	return rc;
}

void
tkmd_xscan_free(struct tkmd_xscan *x)
{
	au_buf_free(&x->cut);
	au_buf_free(&x->names);
	au_buf_free(&x->text);
	au_buf_free(&x->vals);
	free(x->open);
}
