/* See conf/json.h. jsmn finds the tokens and their offsets; syn_value()
 * then walks them and checks what jsmn does not: the separators between
 * tokens, the literals, control characters in strings, and that nothing
 * follows the top-level value. A syntax error ends the file: what follows
 * it cannot be trusted. */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "conf/json.h"
#include "core/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Configs nest a handful of levels; this bounds the checker's recursion. */
#define MAX_DEPTH 64
/* A config bigger than this is a mistake (100,000 hosts take ~10 MB). */
#define MAX_FILE (512u << 20)

/* ---- errors ------------------------------------------------------------ */

static void err_push(struct vgl__errs *e, char *msg)
{
	struct vgl_conf_errors *o = e->out;
	char **m;

	for (size_t i = 0; i < o->n; i++) {
		if (strcmp(o->msgs[i], msg) == 0) {
			free(msg);
			return;
		}
	}
	if (o->n >= VGL__MAX_ERRORS && !e->closing) {
		e->dropped++;
		free(msg);
		return;
	}
	m = realloc(o->msgs, (o->n + 1) * sizeof(*m));
	if (!m) {
		e->oom = 1;
		free(msg);
		return;
	}
	o->msgs = m;
	o->msgs[o->n++] = msg;
}

static void err_vadd(struct vgl__errs *e, const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0) {
		e->oom = 1;
		return;
	}
	err_push(e, msg);
}

void vgl__err_add(struct vgl__errs *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vadd(e, fmt, ap);
	va_end(ap);
}

void vgl__err_vat(struct vgl__errs *e, const struct vgl__doc *d, size_t off,
		  const char *path, const char *fmt, va_list ap)
{
	char *body, *msg;
	int line, col, r;

	if (vasprintf(&body, fmt, ap) < 0) {
		e->oom = 1;
		return;
	}
	vgl__doc_linecol(d, off, &line, &col);
	if (path && *path)
		r = asprintf(&msg, "%s:%d:%d: %s: %s", d->path, line, col, path, body);
	else
		r = asprintf(&msg, "%s:%d:%d: %s", d->path, line, col, body);
	free(body);
	if (r < 0) {
		e->oom = 1;
		return;
	}
	err_push(e, msg);
}

void vgl__err_at(struct vgl__errs *e, const struct vgl__doc *d, size_t off,
		 const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vgl__err_vat(e, d, off, path, fmt, ap);
	va_end(ap);
}

/* ---- positions ----------------------------------------------------------- */

void vgl__doc_linecol(const struct vgl__doc *d, size_t off, int *line, int *col)
{
	size_t lo = 0, hi = d->nlines;

	/* The last line start <= off. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	*line = (int)lo + 1;
	*col = (int)(off - d->lines[lo]) + 1;
}

static int index_lines(struct vgl__doc *d)
{
	size_t n = 1, k = 1;

	for (size_t i = 0; i < d->len; i++)
		n += d->text[i] == '\n';
	d->lines = malloc(n * sizeof(*d->lines));
	if (!d->lines)
		return -1;
	d->lines[0] = 0;
	for (size_t i = 0; i < d->len; i++)
		if (d->text[i] == '\n')
			d->lines[k++] = i + 1;
	d->nlines = n;
	return 0;
}

/* ---- comments -------------------------------------------------------------- */

/* Blanks // and block comments in place, keeping newlines so every offset
 * still maps to the line:col the user sees. Returns the offset of an
 * unterminated block comment, or -1. */
static long strip_comments(char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (s[i] == '"') {
			for (i++; i < len && s[i] != '"' && s[i] != '\n'; i++)
				if (s[i] == '\\' && i + 1 < len)
					i++;
			i++;
		} else if (s[i] == '/' && i + 1 < len && s[i + 1] == '/') {
			while (i < len && s[i] != '\n')
				s[i++] = ' ';
		} else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
			size_t start = i;
			s[i++] = ' ';
			s[i++] = ' ';
			while (i < len && !(s[i] == '*' && i + 1 < len && s[i + 1] == '/')) {
				if (s[i] != '\n')
					s[i] = ' ';
				i++;
			}
			if (i >= len)
				return (long)start;
			s[i++] = ' ';
			s[i++] = ' ';
		} else {
			i++;
		}
	}
	return -1;
}

/* ---- grammar check ------------------------------------------------------- */

struct syn {
	struct vgl__doc *d;
	struct vgl__errs *e;
};

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t raw_start(const struct vgl__doc *d, int t)
{
	return (size_t)d->tok[t].start - (d->tok[t].type == VGL_J_STRING);
}

static size_t raw_end(const struct vgl__doc *d, int t)
{
	return (size_t)d->tok[t].end + (d->tok[t].type == VGL_J_STRING);
}

static void syn_err(struct syn *x, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void syn_err(struct syn *x, size_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vgl__err_vat(x->e, x->d, off, NULL, fmt, ap);
	va_end(ap);
}

static void syn_unexpected(struct syn *x, size_t off, const char *expected)
{
	char c = off < x->d->len ? x->d->text[off] : '\0';

	if (off >= x->d->len)
		syn_err(x, off, "syntax error: unexpected end of file, expected %s", expected);
	else if (x->d->secret)
		syn_err(x, off, "syntax error: unexpected text, expected %s", expected);
	else if (c >= 0x21 && c <= 0x7e)
		syn_err(x, off, "syntax error: unexpected '%c', expected %s", c, expected);
	else
		syn_err(x, off, "syntax error: unexpected byte 0x%02x, expected %s",
			(unsigned char)c, expected);
}

/* [from, to) must be whitespace around exactly one `sep` (none if 0). */
static int syn_gap(struct syn *x, size_t from, size_t to, char sep, const char *expected)
{
	size_t i = from;
	int seen = 0;

	for (; i < to; i++) {
		if (is_ws(x->d->text[i]))
			continue;
		if (sep && !seen && x->d->text[i] == sep) {
			seen = 1;
			continue;
		}
		syn_unexpected(x, i, expected);
		return -1;
	}
	if (sep && !seen) {
		/* Point at what stands where the separator should be. */
		size_t at = from;
		while (at < to && is_ws(x->d->text[at]))
			at++;
		syn_unexpected(x, at, expected);
		return -1;
	}
	return 0;
}

static int syn_number(const char *s, size_t n)
{
	size_t i = 0;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		size_t j = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == j)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t j;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		j = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == j)
			return 0;
	}
	return i == n;
}

static int syn_value(struct syn *x, int t, int depth);

static int syn_members(struct syn *x, int t, int depth)
{
	struct vgl__doc *d = x->d;
	int is_obj = d->tok[t].type == VGL_J_OBJECT;
	const char *close_exp = is_obj ? "',' or '}'" : "',' or ']'";
	size_t pos = (size_t)d->tok[t].start + 1;
	int j = t + 1;

	for (int k = 0; k < d->tok[t].size; k++) {
		if (j >= d->ntok) {
			syn_unexpected(x, pos, "a value");
			return -1;
		}
		if (syn_gap(x, pos, raw_start(d, j), k ? ',' : 0,
			    k ? close_exp : (is_obj ? "a string key or '}'" : "a value or ']'")) != 0)
			return -1;
		if (is_obj) {
			int v = j + 1;
			if (d->tok[j].type != VGL_J_STRING) {
				syn_unexpected(x, raw_start(d, j), "a string key");
				return -1;
			}
			if (d->tok[j].size != 1 || v >= d->ntok) {
				/* jsmn hangs a value that follows without a comma
				 * off the previous key; find where the comma was
				 * missing. */
				size_t at = raw_end(d, j);
				if (v < d->ntok && d->tok[j].size > 1)
					at = raw_end(d, v);
				while (at < d->len && is_ws(d->text[at]))
					at++;
				syn_unexpected(x, at, d->tok[j].size > 1 ? close_exp : "':'");
				return -1;
			}
			if (syn_gap(x, raw_end(d, j), raw_start(d, v), ':', "':'") != 0)
				return -1;
			j = v;
		}
		/* A container's end covers its whole subtree. */
		pos = raw_end(d, j);
		if ((j = syn_value(x, j, depth + 1)) < 0)
			return -1;
	}
	if (d->tok[t].size) {
		size_t at = pos;
		while (at < d->len && is_ws(d->text[at]))
			at++;
		if (at < d->len && d->text[at] == ',') {
			syn_err(x, at, "syntax error: trailing ',' before '%c'", is_obj ? '}' : ']');
			return -1;
		}
	}
	if (syn_gap(x, pos, (size_t)d->tok[t].end - 1, 0,
		    d->tok[t].size ? close_exp : (is_obj ? "a string key or '}'" : "a value or ']'")) != 0)
		return -1;
	d->tok[t].next = j;
	return j;
}

static int syn_value(struct syn *x, int t, int depth)
{
	struct vgl__doc *d = x->d;
	struct vgl__tok *k = &d->tok[t];
	const char *s = d->text + k->start;
	size_t n = (size_t)(k->end - k->start);

	if (depth > MAX_DEPTH) {
		syn_err(x, raw_start(d, t), "syntax error: nested more than %d levels", MAX_DEPTH);
		return -1;
	}
	switch (k->type) {
	case VGL_J_OBJECT:
	case VGL_J_ARRAY:
		return syn_members(x, t, depth);
	case VGL_J_STRING:
		for (size_t i = 0; i < n; i++) {
			if ((unsigned char)s[i] < 0x20) {
				syn_err(x, (size_t)k->start + i,
					"syntax error: control character in string");
				return -1;
			}
			if (s[i] == '\\' && i + 5 < n && strncmp(s + i, "\\u0000", 6) == 0) {
				syn_err(x, (size_t)k->start + i, "syntax error: NUL in string");
				return -1;
			}
			if (s[i] == '\\')
				i++;
		}
		break;
	case VGL_J_PRIMITIVE:
		if (!((n == 4 && !memcmp(s, "true", 4)) || (n == 5 && !memcmp(s, "false", 5)) ||
		      (n == 4 && !memcmp(s, "null", 4)) || syn_number(s, n))) {
			if (d->secret)
				syn_err(x, raw_start(d, t), "syntax error: invalid literal (its "
					"text is not shown: a secret file)");
			else
				syn_err(x, raw_start(d, t), "syntax error: invalid literal '%.*s'",
					n > 40 ? 40 : (int)n, s);
			return -1;
		}
		break;
	default:
		syn_err(x, raw_start(d, t), "syntax error");
		return -1;
	}
	if (k->size != 0) {
		/* jsmn made something a child of a scalar: a stray ':'. */
		size_t at = raw_end(d, t);
		while (at < d->len && is_ws(d->text[at]))
			at++;
		syn_unexpected(x, at, "',' or a closing bracket");
		return -1;
	}
	k->next = t + 1;
	return t + 1;
}

/* ---- documents ------------------------------------------------------------- */

/* jsmn closes a bracket by walking back over the open tokens, so a deep
 * file costs depth^2 (80,000 levels took 6 s): refuse deep nesting in one
 * linear pass before it runs. Strings are skipped (comments are blanked
 * already); an unterminated one is left for jsmn to report. Returns the
 * offset of the first bracket past MAX_DEPTH, or -1. */
static long too_deep(const char *t, size_t n)
{
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		switch (t[i]) {
		case '"':
			for (i++; i < n && t[i] != '"'; i++)
				if (t[i] == '\\')
					i++;
			break;
		case '{': case '[':
			if (++depth > MAX_DEPTH)
				return (long)i;
			break;
		case '}': case ']':
			depth--;
			break;
		default:
			break;
		}
	}
	return -1;
}

static int tokenize(struct vgl__doc *d, struct vgl__errs *e)
{
	jsmn_parser p;
	jsmntok_t *toks = NULL;
	unsigned cap = (unsigned)(d->len / 8 + 64);
	int r;
	struct syn x = { d, e };

	jsmn_init(&p);
	for (;;) {
		jsmntok_t *nt = realloc(toks, cap * sizeof(*toks));
		if (!nt) {
			free(toks);
			vgl__err_add(e, "%s: out of memory", d->path);
			return -1;
		}
		toks = nt;
		r = jsmn_parse(&p, d->text, d->len, toks, cap);
		if (r != JSMN_ERROR_NOMEM)
			break;
		cap *= 2;
	}
	if (r < 0) {
		size_t at = p.pos;
		if (r == JSMN_ERROR_PART && at >= d->len)
			vgl__err_at(e, d, d->len, NULL,
				    "syntax error: unexpected end of file (unclosed '{' or '[')");
		else if (r == JSMN_ERROR_PART)
			vgl__err_at(e, d, at, NULL, "syntax error: unterminated string");
		else if (at < d->len && d->text[at] == '"')
			vgl__err_at(e, d, at, NULL, "syntax error: invalid escape in string");
		else
			syn_unexpected(&x, at, "a value");
		free(toks);
		return -1;
	}
	if (r == 0) {
		free(toks);
		vgl__err_at(e, d, d->len, NULL, "syntax error: empty file, expected an object");
		return -1;
	}
	d->tok = malloc((size_t)r * sizeof(*d->tok));
	if (!d->tok) {
		free(toks);
		vgl__err_add(e, "%s: out of memory", d->path);
		return -1;
	}
	for (int i = 0; i < r; i++)
		d->tok[i] = (struct vgl__tok){ (int)toks[i].type, toks[i].start, toks[i].end,
					       toks[i].size, i + 1 };
	d->ntok = r;
	free(toks);

	if (syn_gap(&x, 0, raw_start(d, 0), 0, "'{'") != 0)
		return -1;
	if (d->tok[0].type != VGL_J_OBJECT) {
		vgl__err_at(e, d, raw_start(d, 0), NULL,
			    "syntax error: the file must hold one JSON object");
		return -1;
	}
	if (syn_value(&x, 0, 0) < 0)
		return -1;
	if (syn_gap(&x, raw_end(d, 0), d->len, 0, "end of file") != 0)
		return -1;
	return 0;
}

static int doc_parse(const char *path, const char *text, size_t len, int secret,
		     const struct stat *st, struct vgl__errs *e, struct vgl__doc **out)
{
	struct vgl__doc *d = calloc(1, sizeof(*d));
	long bad;

	if (!d || !(d->path = strdup(path)) || !(d->text = malloc(len + 1))) {
		vgl__err_add(e, "%s: out of memory", path);
		vgl__doc_free(d);
		return -1;
	}
	d->secret = secret;
	if (st)
		d->st = *st;
	memcpy(d->text, text, len);
	d->text[len] = '\0';
	d->len = len;
	if (index_lines(d) != 0) {
		vgl__err_add(e, "%s: out of memory", path);
		goto fail;
	}
	{
		const char *nul = memchr(d->text, '\0', len);
		if (nul) {
			vgl__err_at(e, d, (size_t)(nul - d->text), NULL,
				    "syntax error: NUL byte in file");
			goto fail;
		}
	}
	bad = strip_comments(d->text, len);
	if (bad >= 0) {
		vgl__err_at(e, d, (size_t)bad, NULL, "syntax error: unterminated /* comment");
		goto fail;
	}
	/* Comments are blanked by now; anything else that is not UTF-8 would
	 * end up in a name or a note, and from there in JSON output. */
	{
		size_t at = vgl_utf8_check(d->text, len);

		if (at < len) {
			if (secret)
				vgl__err_at(e, d, at, NULL, "syntax error: invalid UTF-8");
			else
				vgl__err_at(e, d, at, NULL, "syntax error: invalid UTF-8 (byte 0x%02x)",
					    (unsigned char)d->text[at]);
			goto fail;
		}
	}
	bad = too_deep(d->text, len);
	if (bad >= 0) {
		vgl__err_at(e, d, (size_t)bad, NULL, "syntax error: nested more than %d levels",
			    MAX_DEPTH);
		goto fail;
	}
	if (tokenize(d, e) != 0)
		goto fail;
	*out = d;
	return 0;
fail:
	vgl__doc_free(d);
	return -1;
}

int vgl__doc_parse(const char *path, const char *text, size_t len, struct vgl__errs *e,
		   struct vgl__doc **out)
{
	return doc_parse(path, text, len, 0, NULL, e, out);
}

static const char *not_regular(mode_t m)
{
	if (S_ISDIR(m))
		return "is a directory, not a file";
	if (S_ISFIFO(m))
		return "is a FIFO, not a regular file";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "is a device, not a regular file";
	if (S_ISSOCK(m))
		return "is a socket, not a regular file";
	return "not a regular file";
}

static int doc_load(const char *path, int secret, struct vgl__errs *e, struct vgl__doc **out)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, r;

	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer
	 * (a reload worker stuck there kept a SIGTERM from stopping vigild);
	 * it has no effect on the regular file read below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		vgl__err_add(e, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		vgl__err_add(e, "%s: %s", path, strerror(errno));
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		vgl__err_add(e, "%s: %s", path, not_regular(st.st_mode));
		goto close_fd;
	}
	if ((uint64_t)st.st_size > MAX_FILE) {
		vgl__err_add(e, "%s: larger than %u MiB", path, MAX_FILE >> 20);
		goto close_fd;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		vgl__err_add(e, "%s: out of memory", path);
		goto close_fd;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vgl__err_add(e, "%s: %s", path, strerror(errno));
			goto free_buf;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	r = doc_parse(path, buf, got, secret, &st, e, out);
	free(buf);
	return r;
free_buf:
	free(buf);
close_fd:
	close(fd);
	return -1;
}

int vgl__doc_load(const char *path, struct vgl__errs *e, struct vgl__doc **out)
{
	return doc_load(path, 0, e, out);
}

int vgl__doc_load_secret(const char *path, struct vgl__errs *e, struct vgl__doc **out)
{
	return doc_load(path, 1, e, out);
}

void vgl__doc_free(struct vgl__doc *d)
{
	if (!d)
		return;
	free(d->path);
	free(d->text);
	free(d->tok);
	free(d->lines);
	free(d);
}

/* ---- token access ---------------------------------------------------------- */

size_t vgl__tok_pos(const struct vgl__doc *d, int t)
{
	return raw_start(d, t);
}

int vgl__tok_is(const struct vgl__doc *d, int t, const char *s)
{
	size_t n = strlen(s);
	return d->tok[t].type == VGL_J_STRING && (size_t)(d->tok[t].end - d->tok[t].start) == n &&
	       memcmp(d->text + d->tok[t].start, s, n) == 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

static unsigned hex4(const char *s)
{
	return (unsigned)(hexval(s[0]) << 12 | hexval(s[1]) << 8 | hexval(s[2]) << 4 | hexval(s[3]));
}

static char *put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

char *vgl__tok_str(const struct vgl__doc *d, int t)
{
	const char *s = d->text + d->tok[t].start;
	size_t n = (size_t)(d->tok[t].end - d->tok[t].start);
	/* An escape never decodes to more bytes than it is written with. */
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			*o++ = s[i];
			continue;
		}
		switch (s[++i]) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned cp = hex4(s + i + 1);
			i += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && s[i + 1] == '\\' &&
			    s[i + 2] == 'u') {
				unsigned lo = hex4(s + i + 3);
				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				}
			}
			if (cp >= 0xd800 && cp < 0xe000)
				cp = 0xfffd;    /* a lone surrogate */
			o = put_utf8(o, cp);
			break;
		}
		default: *o++ = s[i]; break;    /* " \ / */
		}
	}
	*o = '\0';
	return out;
}

const char *vgl__tok_kind(const struct vgl__doc *d, int t)
{
	const struct vgl__tok *k = &d->tok[t];

	switch (k->type) {
	case VGL_J_OBJECT: return "an object";
	case VGL_J_ARRAY: return "an array";
	case VGL_J_STRING: return "a string";
	default: break;
	}
	switch (d->text[k->start]) {
	case 't': case 'f': return "a boolean";
	case 'n': return "null";
	default: return "a number";
	}
}
