/*
 * ooxml.c - the package of a PPTX or DOCX: a zip (libarchive's zip
 * writer, deflated members) of XML parts written with libxml2's
 * xmlTextWriter, which does the escaping, and the relationships that tie
 * the parts together.
 */
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "tkdoc.h"

struct tkdoc_zip {
	struct archive *a;
};

struct tkdoc_zip *
tkdoc_zip_open(const char *path)
{
	struct tkdoc_zip *z = au_xmalloc(sizeof *z);

	z->a = archive_write_new();
	if (z->a == NULL || archive_write_set_format_zip(z->a) != ARCHIVE_OK ||
	    archive_write_zip_set_compression_deflate(z->a) != ARCHIVE_OK ||
	    archive_write_open_filename(z->a, path) != ARCHIVE_OK) {
		au_seterr(EX_CANTCREAT, "%s", z->a ? archive_error_string(z->a)
		    : "out of memory");
		archive_write_free(z->a);
		free(z);
		return NULL;
	}
	return z;
}

int
tkdoc_zip_add(struct tkdoc_zip *z, const char *name, const void *p,
    size_t n)
{
	struct archive_entry *e = archive_entry_new();
	int rc = 0;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)n);
	/* A fixed time: the same input makes the same bytes. */
	archive_entry_set_mtime(e, 315532800, 0);
	if (archive_write_header(z->a, e) != ARCHIVE_OK ||
	    (n > 0 && archive_write_data(z->a, p, n) != (la_ssize_t)n))
		rc = au_seterr(EX_IOERR, "%s: %s", name,
		    archive_error_string(z->a));
	archive_entry_free(e);
	return rc;
}

int
tkdoc_zip_close(struct tkdoc_zip *z)
{
	int rc = 0;

	if (archive_write_close(z->a) != ARCHIVE_OK)
		rc = au_seterr(EX_IOERR, "%s", archive_error_string(z->a));
	archive_write_free(z->a);
	free(z);
	return rc;
}

void
tkdoc_part_new(struct tkdoc_part *p)
{
	if ((p->buf = xmlBufferCreate()) == NULL ||
	    (p->w = xmlNewTextWriterMemory(p->buf, 0)) == NULL)
		au_die(EX_SOFTWARE, "libxml2: out of memory");
	xmlTextWriterStartDocument(p->w, NULL, "UTF-8", "yes");
}

int
tkdoc_part_add(struct tkdoc_part *p, struct tkdoc_zip *z, const char *name)
{
	int rc;

	if (xmlTextWriterEndDocument(p->w) < 0)
		au_die(EX_SOFTWARE, "libxml2: %s: cannot write", name);
	xmlFreeTextWriter(p->w);
	rc = tkdoc_zip_add(z, name, xmlBufferContent(p->buf),
	    (size_t)xmlBufferLength(p->buf));
	xmlBufferFree(p->buf);
	return rc;
}

void
tkdoc_start(xmlTextWriterPtr w, const char *name)
{
	xmlTextWriterStartElement(w, BAD_CAST name);
}

void
tkdoc_attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST value);
}

void
tkdoc_attrf(xmlTextWriterPtr w, const char *name, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	tkdoc_attr(w, name, buf);
}

void
tkdoc_text(xmlTextWriterPtr w, const char *s, size_t n)
{
	struct au_buf b = AU_BUF_INIT;
	size_t i;

	/* XML 1.0 carries no C0 control but tab, newline and return. */
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x20 || s[i] == '\t' ||
		    s[i] == '\n' || s[i] == '\r')
			au_buf_addc(&b, s[i]);
	if (b.len > 0)
		xmlTextWriterWriteString(w, BAD_CAST b.s);
	au_buf_free(&b);
}

void
tkdoc_end(xmlTextWriterPtr w)
{
	xmlTextWriterEndElement(w);
}

void
tkdoc_empty(xmlTextWriterPtr w, const char *name, const char *attr,
    const char *value)
{
	tkdoc_start(w, name);
	if (attr != NULL)
		tkdoc_attr(w, attr, value);
	tkdoc_end(w);
}

void
tkdoc_rel(struct tkdoc_rels *r, const char *type, const char *target,
    int external, char id[16])
{
	xmlChar *t = xmlEncodeSpecialChars(NULL, BAD_CAST target);

	snprintf(id, 16, "rId%d", ++r->n);
	au_buf_addf(&r->xml, "<Relationship Id=\"%s\" Type=\"%s%s\" "
	    "Target=\"%s\"%s/>", id, strchr(type, ':') ? "" :
	    "http://schemas.openxmlformats.org/officeDocument/2006/"
	    "relationships/", type, (char *)t, external ?
	    " TargetMode=\"External\"" : "");
	xmlFree(t);
}

int
tkdoc_rels_add(struct tkdoc_rels *r, struct tkdoc_zip *z, const char *name)
{
	struct au_buf b = AU_BUF_INIT;
	int rc;

	au_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\" "
	    "standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas."
	    "openxmlformats.org/package/2006/relationships\">");
	au_buf_add(&b, r->xml.s, r->xml.len);
	au_buf_adds(&b, "</Relationships>");
	rc = tkdoc_zip_add(z, name, b.s, b.len);
	au_buf_free(&b);
	au_buf_free(&r->xml);
	r->n = 0;
	return rc;
}

void
tkdoc_xfrm(xmlTextWriterPtr w, const char *name, long x, long y, long cx,
    long cy)
{
	tkdoc_start(w, name);
	tkdoc_start(w, "a:off");
	tkdoc_attrf(w, "x", "%ld", x);
	tkdoc_attrf(w, "y", "%ld", y);
	tkdoc_end(w);
	tkdoc_start(w, "a:ext");
	tkdoc_attrf(w, "cx", "%ld", cx);
	tkdoc_attrf(w, "cy", "%ld", cy);
	tkdoc_end(w);
	tkdoc_end(w);
}

void
tkdoc_blip(xmlTextWriterPtr w, const char *ns, const char *rid, long x,
    long y, long cx, long cy)
{
	char name[32];

	snprintf(name, sizeof name, "%s:blipFill", ns);
	tkdoc_start(w, name);
	tkdoc_empty(w, "a:blip", "r:embed", rid);
	tkdoc_start(w, "a:stretch");
	tkdoc_empty(w, "a:fillRect", NULL, NULL);
	tkdoc_end(w);
	tkdoc_end(w);
	snprintf(name, sizeof name, "%s:spPr", ns);
	tkdoc_start(w, name);
	tkdoc_xfrm(w, "a:xfrm", x, y, cx, cy);
	tkdoc_start(w, "a:prstGeom");
	tkdoc_attr(w, "prst", "rect");
	tkdoc_empty(w, "a:avLst", NULL, NULL);
	tkdoc_end(w);
	tkdoc_end(w);
}
