/*
 * tk-md - convert documents to Markdown: DOCX, XLSX, PPTX, ODT, ODS, ODP,
 * EPUB, HTML, CSV/TSV, JSON/NDJSON, and plain text and Markdown passed
 * through.  The format is found from the content, never from the name: the
 * members of a zip ([Content_Types].xml of OOXML, mimetype of ODF and
 * EPUB), the first bytes of HTML, the shape of CSV and JSON.  Each file is
 * read whole, detected and handed to its converter (in cmd/tk-md/), which
 * writes the Markdown to memory; the Markdown, or a document record with
 * it, goes out in the order of the operands, however many files (-j)
 * convert at once.  A file that is corrupt or of no known format is
 * reported, exit 65, and the others still convert.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parserInternals.h>

#include "tk-md/tkmd.h"

enum { O_RECORDS = AU_LONG, O_PROBE, O_MEDIA, O_MAXSIZE };

static const struct au_opt opts[] = {
	{ 'o', "output", "FILE", "write to FILE instead of standard output",
	    "FILE" },
	{ O_RECORDS, "records", NULL, "write one document record per file",
	    NULL },
	{ O_PROBE, "probe", NULL, "only detect the format and read the "
	    "metadata, as records", NULL },
	{ O_MEDIA, "extract-media", "DIR", "write images to DIR and link "
	    "them from there", "DIR" },
	{ O_MAXSIZE, "max-size", "SIZE", "expand no zip member, nor all of "
	    "them, beyond SIZE (default 256M)", NULL },
	{ 'j', "jobs", "N", "convert up to N files at once (default 1)", NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"tk-md", "[file ...]",
	"Convert documents (DOCX, XLSX, PPTX, ODF, EPUB, HTML, CSV, JSON, "
	"text) to Markdown.",
	opts, 0, "FILE"
};

static int passthrough(struct tkmd *d);

/*
 * The formats, as records name them, and their converters.  A format
 * detected but without a converter yet is reported as such (65).
 */
enum {
	F_TEXT, F_CSV, F_TSV, F_JSON, F_NDJSON, F_HTML, F_DOCX, F_XLSX, F_PPTX,
	F_ODT, F_ODS, F_ODP, F_EPUB
};
static const struct {
	const char *name;
	int (*conv)(struct tkmd *);
} fmts[] = {
	[F_TEXT] = { "text", passthrough },
	[F_CSV] = { "csv", tkmd_csv },
	[F_TSV] = { "tsv", tkmd_csv },
	[F_JSON] = { "json", tkmd_json },
	[F_NDJSON] = { "ndjson", tkmd_json },
	[F_HTML] = { "html", tkmd_htmldoc },
	[F_DOCX] = { "docx", tkmd_docx },
	[F_XLSX] = { "xlsx", tkmd_xlsx },
	[F_PPTX] = { "pptx", tkmd_pptx },
	[F_ODT] = { "odt", tkmd_odt },
	[F_ODS] = { "ods", tkmd_ods },
	[F_ODP] = { "odp", tkmd_odp },
	[F_EPUB] = { "epub", tkmd_epub },
};

/* One file to convert, and what came of it. */
struct job {
	const char *arg;	/* the operand ("-": standard input) */
	const char *name;	/* its name in messages and records */
	int rc;			/* 0, or its exit status */
	int media_failed;	/* converted, but a medium was not written */
	char why[256];
	jv rec;			/* the document record */
	char *md;		/* the Markdown */
	size_t mdlen;
	int64_t ms;		/* how long it took */
	int done;
};

static int records, probe, nworkers = 1;
static const char *media;
static size_t max_size = (size_t)256 << 20;

/* The jobs, and the workers' share of them. */
static struct job *jobs;
static size_t njobs, nextjob;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;

/* Plain text and Markdown, as they are, less a byte order mark. */
static int
passthrough(struct tkmd *d)
{
	fwrite(d->data, 1, d->len, d->out);
	if (d->len > 0 && d->data[d->len - 1] != '\n')
		putc('\n', d->out);
	return 0;
}

/* Nothing is ever fetched for a document: not a DTD, not an entity. */
static xmlParserInputPtr
noload(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url, (void)id, (void)ctxt;
	return NULL;
}

static int
prefix(const unsigned char *s, size_t n, const char *p)
{
	size_t l = strlen(p);

	return n >= l && strncasecmp((const char *)s, p, l) == 0;
}

/* Whether the text starts, past blanks, comments and an XML declaration,
 * as an HTML document does. */
static int
ishtml(const unsigned char *s, size_t n)
{
	static const char *const starts[] = { "<!doctype html", "<html",
	    "<head", "<body", NULL };
	const unsigned char *p = s, *end = s + n, *close;
	int i;

	for (;;) {
		while (p < end && strchr(" \t\r\n", *p) != NULL && *p != '\0')
			p++;
		if (prefix(p, (size_t)(end - p), "<!--"))
			close = memmem(p, (size_t)(end - p), "-->", 3);
		else if (prefix(p, (size_t)(end - p), "<?xml"))
			close = memmem(p, (size_t)(end - p), "?>", 2);
		else
			break;
		if (close == NULL)
			return 0;
		p = close + 2;
	}
	for (i = 0; starts[i] != NULL; i++)
		if (prefix(p, (size_t)(end - p), starts[i]))
			return 1;
	return 0;
}

/* Whether every line that is not blank is one JSON value, and one is. */
static int
isndjson(const unsigned char *s, size_t n)
{
	const unsigned char *p = s, *end = s + n, *nl;
	size_t at;
	int any = 0;

	for (; p < end; p = nl + 1) {
		const unsigned char *q;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		for (q = p; q < nl && strchr(" \t\r", *q) != NULL && *q; q++)
			;
		if (q == nl)
			continue;
		if (au_json_check((const char *)p, (size_t)(nl - p), &at) !=
		    NULL)
			return 0;
		any = 1;
	}
	return any;
}

/* The format of an OOXML package from the content type of its main part. */
static int
ooxml(struct tkmd *d)
{
	static const struct {
		const char *has;
		int fmt;
	} kinds[] = {
		{ "wordprocessingml", F_DOCX }, { "ms-word", F_DOCX },
		{ "spreadsheetml", F_XLSX }, { "ms-excel", F_XLSX },
		{ "presentationml", F_PPTX }, { "ms-powerpoint", F_PPTX },
	};
	xmlDocPtr doc = tkmd_xml(d, "[Content_Types].xml", 1);
	xmlNodePtr n;
	int fmt = -1;
	size_t i;

	if (doc == NULL)
		return -1;
	for (n = xmlDocGetRootElement(doc)->children; n != NULL && fmt < 0;
	    n = n->next) {
		xmlChar *ct, *part;
		size_t l;

		if (n->type != XML_ELEMENT_NODE ||
		    !xmlStrEqual(n->name, BAD_CAST "Override"))
			continue;
		ct = xmlGetProp(n, BAD_CAST "ContentType");
		part = xmlGetProp(n, BAD_CAST "PartName");
		l = ct != NULL ? strlen((char *)ct) : 0;
		if (part != NULL && l > 9 &&
		    strcmp((char *)ct + l - 9, ".main+xml") == 0)
			for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
				if (strstr((char *)ct, kinds[i].has) != NULL) {
					fmt = kinds[i].fmt;
					d->part = au_xstrdup((char *)part +
					    (part[0] == '/'));
					break;
				}
		xmlFree(ct);
		xmlFree(part);
	}
	xmlFreeDoc(doc);
	if (fmt < 0)
		return tkmd_fail(d, "[Content_Types].xml names no main part "
		    "of a known document type");
	return fmt;
}

/* The format of a zip: ODF or EPUB by its mimetype member, OOXML by its
 * content types. */
static int
zipped(struct tkmd *d)
{
	static const struct {
		const char *type;
		int fmt;
	} kinds[] = {
		{ "application/vnd.oasis.opendocument.text", F_ODT },
		{ "application/vnd.oasis.opendocument.spreadsheet", F_ODS },
		{ "application/vnd.oasis.opendocument.presentation", F_ODP },
		{ "application/epub+zip", F_EPUB },
	};
	const unsigned char *buf;
	char type[65];
	size_t len, i;
	int rc;

	if (tkmd_zip_open(d) != 0)
		return -1;
	if ((rc = tkmd_member(d, "mimetype", &buf, &len)) < 0)
		return -1;
	if (rc == 0) {
		while (len > 0 && strchr(" \t\r\n", buf[len - 1]) != NULL)
			len--;
		for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
			if (strlen(kinds[i].type) == len &&
			    memcmp(buf, kinds[i].type, len) == 0)
				return kinds[i].fmt;
		snprintf(type, sizeof type, "%.*s", (int)(len < 64 ? len : 64),
		    (const char *)buf);
		return tkmd_fail(d, "a zip of unknown mimetype %s",
		    au_quote(type));
	}
	if (tkmd_member(d, "[Content_Types].xml", &buf, &len) == 1)
		return tkmd_fail(d, "a zip archive, not a document "
		    "([Content_Types].xml and mimetype missing)");
	return ooxml(d);
}

/* The format of the document by its content, or -1 (why set). */
static int
detect(struct tkmd *d)
{
	size_t head = d->len < 65536 ? d->len : 65536, at;
	int delim;

	if (prefix(d->data, d->len, "PK\x03\x04") ||
	    prefix(d->data, d->len, "PK\x05\x06"))
		return zipped(d);
	if (prefix(d->data, d->len, "%PDF-"))
		return tkmd_fail(d, "PDF is not a format tk-md converts");
	if (prefix(d->data, d->len, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"))
		return tkmd_fail(d, "a legacy Office (OLE2) file: tk-md "
		    "converts only DOCX, XLSX and PPTX");
	if (memchr(d->data, '\0', head) != NULL ||
	    au_utf8_valid((const char *)d->data, head) + 4 < head)
		return tkmd_fail(d, "binary data of no format tk-md knows");
	if (prefix(d->data, d->len, "\xef\xbb\xbf")) {
		d->data += 3;
		d->len -= 3;
	}
	if (ishtml(d->data, d->len))
		return F_HTML;
	at = strspn((const char *)d->data, " \t\r\n");
	if (at < d->len && (d->data[at] == '{' || d->data[at] == '[')) {
		if (au_json_check((const char *)d->data, d->len, &at) == NULL)
			return F_JSON;
		if (isndjson(d->data, d->len))
			return F_NDJSON;
	}
	if ((delim = tkmd_csv_sniff((const char *)d->data, d->len)) != 0)
		return delim == '\t' ? F_TSV : F_CSV;
	return F_TEXT;
}

/* The text of the first element called name in doc, or NULL. */
static xmlChar *
first(xmlNodePtr n, const char *name)
{
	xmlChar *s;

	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrEqual(n->name, BAD_CAST name))
			return xmlNodeGetContent(n);
		if ((s = first(n->children, name)) != NULL)
			return s;
	}
	return NULL;
}

/* A count from docProps/app.xml as metadata. */
static void
count(struct tkmd *d, xmlDocPtr app, const char *elem, const char *key)
{
	xmlChar *s = app != NULL ? first(app->children, elem) : NULL;
	char *end;
	long v;

	if (s == NULL)
		return;
	v = strtol((char *)s, &end, 10);
	if (end != (char *)s && *end == '\0' && v >= 0)
		d->meta = jv_object_set(d->meta, jv_string(key), jv_number(v));
	xmlFree(s);
}

/* The children called item of the element list in the main part, as
 * metadata: the sheets of a workbook, the slides of a presentation. */
static void
parts(struct tkmd *d, const char *list, const char *item, const char *key)
{
	xmlDocPtr doc = tkmd_xml(d, d->part, 0);
	xmlNodePtr n;
	int k = 0;

	if (doc == NULL)
		return;
	n = tkmd_child(xmlDocGetRootElement(doc), list);
	for (n = n != NULL ? n->children : NULL; n != NULL; n = n->next)
		k += tkmd_isel(n, item);
	d->meta = jv_object_set(d->meta, jv_string(key), jv_number(k));
	xmlFreeDoc(doc);
}

/* What an OOXML package says of itself: its title, the pages its
 * application counted, its sheets or slides. */
static void
props(struct tkmd *d, int fmt)
{
	xmlDocPtr core = tkmd_xml(d, "docProps/core.xml", 0), app;
	xmlChar *title = core != NULL ? first(core->children, "title") : NULL;

	if (title != NULL && *title != '\0')
		d->meta = jv_object_set(d->meta, jv_string("title"),
		    jv_string((char *)title));
	xmlFree(title);
	xmlFreeDoc(core);
	app = tkmd_xml(d, "docProps/app.xml", 0);
	count(d, app, "Pages", "pages");
	xmlFreeDoc(app);
	if (fmt == F_XLSX)
		parts(d, "sheets", "sheet", "sheets");
	if (fmt == F_PPTX)
		parts(d, "sldIdLst", "sldId", "slides");
	d->why[0] = '\0';
}

/* Words of the Markdown: runs of letters and digits, any non-ASCII byte
 * counting as a letter, less the targets of links and images. */
static long
words(const char *s, size_t n)
{
	size_t i;
	long w = 0;
	int in = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int letter;

		if (c == ']' && i + 1 < n && s[i + 1] == '(') {
			while (i < n && s[i] != ')' && s[i] != '\n')
				i++;
			in = 0;
			continue;
		}
		letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c >= 0x80;
		w += letter && !in;
		in = letter;
	}
	return w;
}

/* The text of the first level-1 heading of Markdown, or NULL. */
static jv
heading(const char *s, size_t n)
{
	const char *p = s, *end = s + n, *nl;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl - p > 2 && p[0] == '#' && p[1] == ' ')
			return jv_string_sized(p + 2, (int)(nl - p - 2));
	}
	return jv_null();
}

/* Read the file of job j whole into *buf: 0, or its exit status. */
static int
slurp(struct job *j, unsigned char **buf, size_t *len)
{
	struct au_buf b = AU_BUF_INIT;
	struct stat st;
	ssize_t r;
	int fd = 0;

	if (strcmp(j->arg, "-") != 0 &&
	    (fd = open(j->arg, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(j->why, sizeof j->why, "%s", strerror(errno));
		return EX_NOINPUT;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(j->why, sizeof j->why, "is a directory");
		close(fd);
		return EX_NOINPUT;
	}
	if (S_ISREG(st.st_mode))
		au_buf_grow(&b, (size_t)st.st_size + 1);
	for (;;) {
		au_buf_grow(&b, 65536);
		r = read(fd, b.s + b.len, b.cap - b.len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		b.len += (size_t)r;
	}
	if (r < 0) {
		snprintf(j->why, sizeof j->why, "read error: %s",
		    strerror(errno));
		au_buf_free(&b);
	}
	if (fd != 0)
		close(fd);
	if (r < 0)
		return EX_IOERR;
	b.s[b.len] = '\0';
	*buf = (unsigned char *)b.s;
	*len = b.len;
	return 0;
}

/* Convert the file of job j into its record. */
static void
convert(struct job *j)
{
	struct tkmd d;
	unsigned char *buf;
	char *md = NULL;
	size_t mdlen = 0;
	int fmt, rc;
	int64_t t0 = au_mono_ms();

	j->rec = jv_object_set(jv_object(), jv_string("type"),
	    jv_string("document"));
	j->rec = jv_object_set(j->rec, jv_string("path"), jv_string(j->name));
	if ((j->rc = slurp(j, &buf, &d.len)) != 0)
		return;
	d.path = j->name;
	d.data = buf;
	d.zip = NULL;
	d.part = NULL;
	d.out = NULL;
	d.meta = jv_object();
	d.media = media;
	d.max_size = max_size;
	d.nmedia = 0;
	d.media_failed = 0;
	d.why[0] = '\0';
	if ((fmt = detect(&d)) >= 0) {
		j->rec = jv_object_set(j->rec, jv_string("format"),
		    jv_string(fmts[fmt].name));
		if (fmt == F_DOCX || fmt == F_XLSX || fmt == F_PPTX)
			props(&d, fmt);
	}
	if (fmt >= 0 && fmts[fmt].conv == NULL)
		fmt = tkmd_fail(&d, "%s documents are not converted yet",
		    fmts[fmt].name);
	if (fmt >= 0 && !probe) {
		d.out = tkmd_xmem(&md, &mdlen);
		rc = fmts[fmt].conv(&d);
		if (fclose(d.out) != 0)
			au_die(EX_SOFTWARE, "fclose:");
		if (rc != 0)
			fmt = -1;
	}
	if (fmt < 0) {
		j->rc = EX_DATAERR;
		snprintf(j->why, sizeof j->why, "%s", d.why);
	} else {
		jv_object_foreach(d.meta, k, v)
			j->rec = jv_object_set(j->rec, k, v);
		/* The Markdown is looked through only for the record that
		 * shows what is found: on a large sheet counting the words
		 * costs as much as writing the table. */
		if (md != NULL && records &&
		    !jv_object_has(jv_copy(j->rec), jv_string("title")))
			j->rec = jv_object_set(j->rec, jv_string("title"),
			    heading(md, mdlen));
		if (md != NULL && records) {
			j->rec = jv_object_set(j->rec, jv_string("words"),
			    jv_number((double)words(md, mdlen)));
			j->rec = jv_object_set(j->rec, jv_string("markdown"),
			    jv_string_sized(md, (int)mdlen));
		}
		if (md != NULL && !records) {
			j->md = md;
			j->mdlen = mdlen;
			md = NULL;
		}
	}
	j->media_failed = d.media_failed;
	jv_free(d.meta);
	free(md);
	tkmd_zip_close(&d);
	free((char *)d.part);
	free(buf);
	j->ms = au_mono_ms() - t0;
}

static void *
worker(void *arg)
{
	size_t i;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&lock);
		i = nextjob++;
		pthread_mutex_unlock(&lock);
		if (i >= njobs)
			return NULL;
		convert(&jobs[i]);
		pthread_mutex_lock(&lock);
		jobs[i].done = 1;
		pthread_cond_broadcast(&ready);
		pthread_mutex_unlock(&lock);
	}
}

/* Write out job j: its record, or its Markdown; or say what went wrong. */
static void
emit(struct job *j)
{
	static int written;

	au_note("%s: %s, %lld ms", au_esc(j->name), au_jv_str(j->rec,
	    "format") != NULL ? au_jv_str(j->rec, "format") : "unknown",
	    (long long)j->ms);
	if (j->rc != 0) {
		au_err("%s: %s", au_esc(j->name), j->why);
		if (records || probe) {
			j->rec = jv_object_set(j->rec, jv_string("error"),
			    jv_string(j->why));
			au_out_rec(j->rec);
		}
	} else if (records || probe) {
		au_out_rec(j->rec);
	} else {
		if (written++)
			au_out_text("\n", 1);
		au_out_text(j->md, j->mdlen);
		au_out_eol();
	}
	jv_free(j->rec);
	free(j->md);
}

int
main(int argc, char **argv)
{
	static const int rank[] = { 0, EX_NOINPUT, EX_DATAERR, EX_IOERR };
	const char *arg, *output = NULL;
	pthread_t *tids;
	uint64_t size;
	char *end;
	long n;
	size_t i;
	int c, status = 0, progress;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case 'o':
			output = arg;
			break;
		case O_RECORDS:
			records = 1;
			break;
		case O_PROBE:
			probe = 1;
			break;
		case O_MEDIA:
			media = arg;
			break;
		case O_MAXSIZE:
			if (au_size_parse(arg, &size) != 0 || size == 0 ||
			    size > SIZE_MAX / 2)
				au_usage_die(&cmd, "--max-size: %s is not a "
				    "size", au_quote(arg));
			max_size = (size_t)size;
			break;
		case 'j':
			errno = 0;
			n = strtol(arg, &end, 10);
			if (errno || end == arg || *end || n < 1 || n > 256)
				au_usage_die(&cmd, "-j: %s is not a number "
				    "from 1 to 256", au_quote(arg));
			nworkers = (int)n;
			break;
		}
	}
	argc -= au_optind;
	argv += au_optind;
	if (output != NULL) {
		c = au_xout_open(output, 0666);
		if (dup2(c, STDOUT_FILENO) < 0 || close(c) != 0)
			au_die(EX_CANTCREAT, "%s: cannot create:",
			    au_esc(output));
	}
	if (media != NULL && mkdir(media, 0777) != 0 && errno != EEXIST)
		au_die(EX_CANTCREAT, "%s: cannot create:", au_esc(media));
	au_out_init();
	xmlInitParser();
	xmlSetExternalEntityLoader(noload);

	njobs = argc > 0 ? (size_t)argc : 1;
	jobs = au_xcalloc(njobs, sizeof *jobs);
	for (i = 0; i < njobs; i++) {
		jobs[i].arg = argc > 0 ? argv[i] : "-";
		jobs[i].name = strcmp(jobs[i].arg, "-") == 0 ? "<stdin>" :
		    jobs[i].arg;
	}
	if ((size_t)nworkers > njobs)
		nworkers = (int)njobs;
	tids = au_xcalloc((size_t)nworkers, sizeof *tids);
	for (c = 0; nworkers > 1 && c < nworkers; c++)
		if ((errno = pthread_create(&tids[c], NULL, worker, NULL)))
			au_die(EX_SOFTWARE, "pthread_create:");
	progress = nworkers > 1 && !au_quiet && isatty(STDERR_FILENO);
	for (i = 0; i < njobs; i++) {
		if (nworkers == 1) {
			convert(&jobs[i]);
		} else {
			pthread_mutex_lock(&lock);
			while (!jobs[i].done)
				pthread_cond_wait(&ready, &lock);
			pthread_mutex_unlock(&lock);
		}
		if (progress)
			fprintf(stderr, "\r\033[K");
		emit(&jobs[i]);
		status = au_worse(status, jobs[i].rc, rank, 4);
		if (jobs[i].media_failed)
			status = au_worse(status, EX_IOERR, rank, 4);
		if (progress)
			fprintf(stderr, "tk-md: %zu/%zu files", i + 1, njobs);
	}
	if (progress)
		fprintf(stderr, "\r\033[K");
	for (c = 0; nworkers > 1 && c < nworkers; c++)
		pthread_join(tids[c], NULL);
	free(tids);
	free(jobs);
	xmlCleanupParser();
	au_out_close();
	if (output != NULL)
		au_xout_commit();
	return status;
}
