/* Aligned text tables for the CLI's human output: rows are collected,
 * then printed with each column as wide as its widest cell. */
#ifndef VGL_CLI_TABLE_H
#define VGL_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct vgl_table;

/* ncols header names; NULL on out of memory. */
struct vgl_table *vgl_table_new(size_t ncols, const char *const *header);
/* Copies ncols cells; NULL or "" shows as "-". Control characters become
 * spaces so a note cannot break the layout. 0 or -1 (out of memory). */
int vgl_table_add(struct vgl_table *t, const char *const *cells);
/* Rows added, not counting the header. */
size_t vgl_table_rows(const struct vgl_table *t);
/* 0, or -1 if writing failed. */
int vgl_table_print(const struct vgl_table *t, FILE *f);
void vgl_table_free(struct vgl_table *t);

#endif
