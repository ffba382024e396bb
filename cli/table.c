#include "cli/table.h"

#include <stdlib.h>
#include <string.h>

struct vgl_table {
	size_t ncols;
	size_t nrows;           /* including the header */
	size_t cap;
	char **cells;           /* nrows * ncols */
	size_t *width;
};

static char *clean_copy(const char *s)
{
	char *c;

	if (!s || !*s)
		s = "-";
	c = strdup(s);
	if (!c)
		return NULL;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return c;
}

/* Display width: counts UTF-8 code points, not bytes, so names with
 * accents still line up (wide CJK glyphs will not; good enough). */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

struct vgl_table *vgl_table_new(size_t ncols, const char *const *header)
{
	struct vgl_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	t->width = calloc(ncols, sizeof(*t->width));
	if (!t->width || vgl_table_add(t, header) != 0) {
		vgl_table_free(t);
		return NULL;
	}
	return t;
}

int vgl_table_add(struct vgl_table *t, const char *const *cells)
{
	size_t base = t->nrows * t->ncols;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));

		if (!c)
			return -1;
		t->cells = c;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		size_t w;

		t->cells[base + i] = clean_copy(cells[i]);
		if (!t->cells[base + i]) {
			while (i-- > 0)
				free(t->cells[base + i]);
			return -1;
		}
		w = text_width(t->cells[base + i]);
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
	return 0;
}

size_t vgl_table_rows(const struct vgl_table *t)
{
	return t->nrows - 1;
}

int vgl_table_print(const struct vgl_table *t, FILE *f)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const char *c = t->cells[r * t->ncols + i];
			int last = i + 1 == t->ncols;

			if (fputs(c, f) == EOF)
				return -1;
			if (last)
				break;
			for (size_t w = text_width(c); w < t->width[i] + 2; w++)
				if (fputc(' ', f) == EOF)
					return -1;
		}
		if (fputc('\n', f) == EOF)
			return -1;
	}
	return 0;
}

void vgl_table_free(struct vgl_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t);
}
