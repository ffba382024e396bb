/* The dashboard's files (web/), built into vigild by api/embed_web.py, or
 * read from api.web_dir when the config names one (an install that ships
 * its own, or a developer editing them without rebuilding). */
#ifndef VGL_ASSETS_H
#define VGL_ASSETS_H

#include <stddef.h>

struct vgl_asset {
	const char *path;               /* "/index.html" */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};

/* Ends with a row whose path is NULL. */
extern const struct vgl_asset vgl_assets[];

/* The asset for a request path ("/" is "/index.html"); NULL if none. */
const struct vgl_asset *vgl_asset_find(const char *path);

/* The content type vigild gives a file of that name. */
const char *vgl_asset_type(const char *name);

#endif
