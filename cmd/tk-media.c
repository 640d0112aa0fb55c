/*
 * tk-media - what is this file: one media record per file named, with its
 * MIME type and encoding from libmagic, its size and SHA-256, and what the
 * media libraries read from it: dimensions and EXIF date and orientation
 * (libexif) of images, format, duration, bit rate and streams of audio and
 * video (FFmpeg's libavformat and libavcodec).  A file is read once, as a
 * stream, for the hash; libmagic and libexif see its first MiB, and
 * libavformat reads what it needs through the same descriptor.  Special
 * files are reported, never opened.  A file that cannot be read or whose
 * media is broken still gets its record, with an error member.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libexif/exif-data.h>
#include <libexif/exif-loader.h>
#include <magic.h>

#include "agentutils.h"

static const struct au_opt opts[] = {
	{ 0, NULL, NULL, NULL, NULL }
};

static const struct au_cmd cmd = {
	"tk-media", "[FILE ...]",
	"Identify files and report their media metadata as records.",
	opts, 0, "FILE"
};

/* How much of a file libmagic and libexif see, and the read size. */
#define HEAD (1 << 20)
#define CHUNK (64 << 10)

static magic_t magic;
static int status;

/* Keep the worse status: 74 over 65 over 66. */
static void
worse(int rc)
{
	static const int rank[] = { 0, EX_NOINPUT, EX_DATAERR, EX_IOERR };

	status = au_worse(status, rc, rank, sizeof rank / sizeof rank[0]);
}

/* rec with its error: said on standard error too, and counted. */
static jv
fail(jv rec, const char *path, int rc, const char *fmt, ...)
    AU_PRINTF(4, 5);

static jv
fail(jv rec, const char *path, int rc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	au_err("%s: %s", au_esc(path), msg);
	worse(rc);
	return jv_object_set(rec, jv_string("error"), jv_string(msg));
}

/* The MIME type of a file that is not a regular one, as libmagic names
 * it. */
static const char *
special(mode_t m)
{
	if (S_ISDIR(m))
		return "inode/directory";
	if (S_ISFIFO(m))
		return "inode/fifo";
	if (S_ISCHR(m))
		return "inode/chardevice";
	if (S_ISBLK(m))
		return "inode/blockdevice";
	return "inode/socket";
}

/* Split libmagic's "TYPE; charset=ENC" into the record. */
static jv
mime(jv rec, const char *m)
{
	const char *semi = strchr(m, ';'), *cs;

	if (semi == NULL)
		return jv_object_set(rec, jv_string("mime_type"),
		    jv_string(m));
	rec = jv_object_set(rec, jv_string("mime_type"),
	    jv_string_sized(m, (int)(semi - m)));
	if ((cs = strstr(semi, "charset=")) != NULL)
		rec = jv_object_set(rec, jv_string("encoding"),
		    jv_string(cs + 8));
	return rec;
}

/* EXIF's "YYYY:MM:DD HH:MM:SS" as "YYYY-MM-DDTHH:MM:SS", or NULL. */
static char *
exifdate(const char *s, char out[20])
{
	static const char form[] = "dddd:dd:dd dd:dd:dd";
	int i;

	for (i = 0; form[i] != '\0'; i++)
		if (form[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != form[i])
			return NULL;
	memcpy(out, s, 19);
	out[4] = out[7] = '-';
	out[10] = 'T';
	out[19] = '\0';
	return out;
}

/* The EXIF date taken and orientation found in the head of an image. */
static jv
exif(jv rec, const unsigned char *p, size_t n)
{
	ExifLoader *l = exif_loader_new();
	ExifData *d;
	ExifEntry *e;
	jv x = jv_object();
	char buf[64], date[20];

	exif_loader_write(l, (unsigned char *)p, (unsigned)n);
	d = exif_loader_get_data(l);
	exif_loader_unref(l);
	if (d == NULL) {
		jv_free(x);
		return rec;
	}
	e = exif_content_get_entry(d->ifd[EXIF_IFD_EXIF],
	    EXIF_TAG_DATE_TIME_ORIGINAL);
	if (e != NULL && exifdate(exif_entry_get_value(e, buf, sizeof buf),
	    date) != NULL)
		x = jv_object_set(x, jv_string("date_taken"), jv_string(date));
	e = exif_content_get_entry(d->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
	if (e != NULL && e->format == EXIF_FORMAT_SHORT && e->components == 1) {
		int o = exif_get_short(e->data, exif_data_get_byte_order(d));

		if (o >= 1 && o <= 8)
			x = jv_object_set(x, jv_string("orientation"),
			    jv_number(o));
	}
	exif_data_unref(d);
	if (jv_object_length(jv_copy(x)) == 0) {
		jv_free(x);
		return rec;
	}
	return jv_object_set(rec, jv_string("exif"), x);
}

/* libavformat reads the file through its descriptor, with pread. */
struct src {
	int fd;
	int64_t pos, size;
};

static int
src_read(void *arg, uint8_t *buf, int n)
{
	struct src *s = arg;
	ssize_t r;

	do
		r = pread(s->fd, buf, (size_t)n, s->pos);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return AVERROR(errno);
	if (r == 0)
		return AVERROR_EOF;
	s->pos += r;
	return (int)r;
}

static int64_t
src_seek(void *arg, int64_t off, int whence)
{
	struct src *s = arg;

	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE:
		return s->size;
	case SEEK_SET:
		break;
	case SEEK_CUR:
		off += s->pos;
		break;
	case SEEK_END:
		off += s->size;
		break;
	default:
		return AVERROR(EINVAL);
	}
	if (off < 0)
		return AVERROR(EINVAL);
	return s->pos = off;
}

/* A media file names no other: playlists and concat lists are not
 * followed. */
static int
noopen(struct AVFormatContext *f, AVIOContext **pb, const char *url,
    int flags, AVDictionary **o)
{
	(void)f, (void)pb, (void)url, (void)flags, (void)o;
	return AVERROR(EPERM);
}

static int64_t
ms(int64_t t, AVRational tb)
{
	return av_rescale_q(t, tb, (AVRational){ 1, 1000 });
}

/* One stream as a record member. */
static jv
stream(const AVStream *st)
{
	const AVCodecParameters *c = st->codecpar;
	jv s = jv_object();

	s = jv_object_set(s, jv_string("index"), jv_number(st->index));
	s = jv_object_set(s, jv_string("kind"),
	    jv_string(av_get_media_type_string(c->codec_type) ?
	    av_get_media_type_string(c->codec_type) : "unknown"));
	s = jv_object_set(s, jv_string("codec"),
	    jv_string(avcodec_get_name(c->codec_id)));
	if (c->codec_type == AVMEDIA_TYPE_VIDEO && c->width > 0) {
		s = jv_object_set(s, jv_string("width"), jv_number(c->width));
		s = jv_object_set(s, jv_string("height"),
		    jv_number(c->height));
		if (st->avg_frame_rate.den > 0 && st->avg_frame_rate.num > 0)
			s = jv_object_set(s, jv_string("frame_rate"),
			    jv_number(av_q2d(st->avg_frame_rate)));
	}
	if (c->codec_type == AVMEDIA_TYPE_AUDIO) {
		s = jv_object_set(s, jv_string("sample_rate"),
		    jv_number(c->sample_rate));
		s = jv_object_set(s, jv_string("channels"),
		    jv_number(c->ch_layout.nb_channels));
	}
	if (c->bit_rate > 0)
		s = jv_object_set(s, jv_string("bit_rate"),
		    jv_number((double)c->bit_rate));
	if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
		s = jv_object_set(s, jv_string("duration_ms"),
		    jv_number((double)ms(st->duration, st->time_base)));
	return s;
}

/* What libavformat finds in an image, audio or video file. */
static jv
av(jv rec, const char *path, int fd, int64_t size, int image)
{
	struct src s = { fd, 0, size };
	AVFormatContext *f = avformat_alloc_context();
	unsigned char *buf = av_malloc(CHUNK);
	AVIOContext *io;
	const AVStream *v = NULL;
	jv streams = jv_array();
	unsigned i;
	int rc;

	io = avio_alloc_context(buf, CHUNK, 0, &s, src_read, NULL, src_seek);
	if (f == NULL || buf == NULL || io == NULL)
		au_die(EX_SOFTWARE, "out of memory");
	f->pb = io;
	f->io_open = noopen;
	f->flags |= AVFMT_FLAG_CUSTOM_IO;
	rc = avformat_open_input(&f, NULL, NULL, NULL);
	if (rc == 0)
		rc = avformat_find_stream_info(f, NULL);
	for (i = 0; rc >= 0 && i < f->nb_streams; i++)
		if (v == NULL && f->streams[i]->codecpar->codec_type ==
		    AVMEDIA_TYPE_VIDEO && f->streams[i]->codecpar->width > 0)
			v = f->streams[i];
	/* An image is its picture: one without dimensions is broken. */
	if (rc < 0 || f->nb_streams == 0 || (image && v == NULL)) {
		char e[AV_ERROR_MAX_STRING_SIZE] = "no picture";

		if (rc < 0)
			av_strerror(rc, e, sizeof e);
		else if (f->nb_streams == 0)
			strcpy(e, "no streams");
		avformat_close_input(&f);
		av_freep(&io->buffer);
		avio_context_free(&io);
		jv_free(streams);
		return fail(rec, path, EX_DATAERR, "unreadable media: %s", e);
	}
	for (i = 0; i < f->nb_streams; i++)
		streams = jv_array_append(streams, stream(f->streams[i]));
	if (v != NULL) {
		rec = jv_object_set(rec, jv_string("width"),
		    jv_number(v->codecpar->width));
		rec = jv_object_set(rec, jv_string("height"),
		    jv_number(v->codecpar->height));
	}
	if (image) {
		jv_free(streams);
	} else {
		rec = jv_object_set(rec, jv_string("format"),
		    jv_string(f->iformat->name));
		if (f->duration != AV_NOPTS_VALUE && f->duration > 0)
			rec = jv_object_set(rec, jv_string("duration_ms"),
			    jv_number((double)ms(f->duration, AV_TIME_BASE_Q)));
		if (f->bit_rate > 0)
			rec = jv_object_set(rec, jv_string("bit_rate"),
			    jv_number((double)f->bit_rate));
		rec = jv_object_set(rec, jv_string("streams"), streams);
	}
	avformat_close_input(&f);
	av_freep(&io->buffer);
	avio_context_free(&io);
	return rec;
}

/* Whether libavformat should read a file of MIME type m: 1 an image,
 * 2 audio or video, 0 neither. */
static int
media(const char *m)
{
	if (strncmp(m, "image/", 6) == 0)
		return strncmp(m, "image/svg", 9) == 0 ? 0 : 1;
	if (strncmp(m, "audio/", 6) == 0 || strncmp(m, "video/", 6) == 0 ||
	    strcmp(m, "application/ogg") == 0)
		return 2;
	return 0;
}

/* The record of the regular file open on fd. */
static jv
regular(jv rec, const char *path, int fd)
{
	struct au_sha256 *h = au_sha256_new();
	unsigned char *head = au_xmalloc(HEAD), sum[AU_AUDIT_HASH];
	char hex[2 * AU_AUDIT_HASH + 1], chunk[CHUNK];
	const char *m;
	size_t nhead = 0;
	int64_t size = 0;
	ssize_t r;
	int kind;

	for (;;) {
		if (nhead < HEAD)
			r = read(fd, head + nhead, HEAD - nhead);
		else
			r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		au_sha256_add(h, nhead < HEAD ? head + nhead : (unsigned char *)
		    chunk, (size_t)r);
		if (nhead < HEAD)
			nhead += (size_t)r;
		size += r;
	}
	au_sha256_end(h, sum);
	rec = jv_object_set(rec, jv_string("size"), jv_number((double)size));
	if (r < 0) {
		free(head);
		return fail(rec, path, EX_IOERR, "read: %s", strerror(errno));
	}
	rec = jv_object_set(rec, jv_string("sha256"),
	    jv_string(au_hex(sum, sizeof sum, hex)));
	if ((m = magic_buffer(magic, head, nhead)) == NULL) {
		free(head);
		return fail(rec, path, EX_SOFTWARE, "libmagic: %s",
		    magic_error(magic));
	}
	rec = mime(rec, m);
	kind = media(au_jv_str(rec, "mime_type"));
	if (kind == 1)
		rec = exif(rec, head, nhead);
	free(head);
	if (kind != 0)
		rec = av(rec, path, fd, size, kind == 1);
	return rec;
}

/* The record of the file at path, following symbolic links as a user's
 * own paths are: special files are stat'd and reported, not opened, and a
 * file swapped for one between stat and open is caught by comparing the
 * two. */
static void
one(const char *path)
{
	jv rec = jv_object_set(jv_object(), jv_string("type"),
	    jv_string("media"));
	size_t len = strlen(path);
	char *hexname;
	struct stat st, fst;
	int64_t t0 = au_mono_ms();
	int fd;

	rec = jv_object_set(rec, jv_string("path"),
	    jv_string_sized(path, (int)len));
	if (au_utf8_valid(path, len) != len) {
		hexname = au_xmalloc(2 * len + 1);
		rec = jv_object_set(rec, jv_string("path_hex"),
		    jv_string(au_hex((const unsigned char *)path, len, hexname)));
		free(hexname);
	}
	if (stat(path, &st) != 0) {
		rec = fail(rec, path, EX_NOINPUT, "%s", strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		rec = jv_object_set(rec, jv_string("mime_type"),
		    jv_string(special(st.st_mode)));
	} else if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) < 0) {
		rec = fail(rec, path, EX_NOINPUT, "%s", strerror(errno));
	} else {
		if (fstat(fd, &fst) != 0 || fst.st_dev != st.st_dev ||
		    fst.st_ino != st.st_ino || !S_ISREG(fst.st_mode))
			rec = fail(rec, path, EX_NOINPUT,
			    "changed while it was opened");
		else
			rec = regular(rec, path, fd);
		close(fd);
	}
	au_note("%s: %lld ms", au_esc(path), (long long)(au_mono_ms() - t0));
	au_out_rec(rec);
	jv_free(rec);
}

int
main(int argc, char **argv)
{
	const char *arg;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int c;

	au_setprog(argv[0]);
	while ((c = au_getopt(&cmd, argc, argv, &arg)) != -1)
		;
	argc -= au_optind;
	argv += au_optind;
	au_out_init();
	av_log_set_level(AV_LOG_QUIET);
	if ((magic = magic_open(MAGIC_MIME | MAGIC_ERROR)) == NULL ||
	    magic_load(magic, NULL) != 0)
		au_die(EX_UNAVAILABLE, "libmagic: %s", magic ?
		    magic_error(magic) : strerror(errno));
	for (c = 0; c < argc; c++)
		one(argv[c]);
	if (argc == 0) {
		while ((n = getline(&line, &cap, stdin)) > 0) {
			if (line[n - 1] == '\n')
				line[--n] = '\0';
			if (n > 0)
				one(line);
		}
		if (ferror(stdin))
			au_die(EX_IOERR, "<stdin>: read error:");
		free(line);
	}
	magic_close(magic);
	au_out_close();
	return status;
}
