/* Notification channels as configured (docs/alarms.md "Channels"): the
 * top-level "channels" object, parsed through conf/parse.h so errors read
 * FILE:LINE:COL: channels.NAME.KEY like every other config message. Runs
 * wherever the config is loaded (the reload worker, the CLI): no loop, no
 * I/O beyond the secret files it names. */
#ifndef VGL_NOTIFY_CHANNEL_H
#define VGL_NOTIFY_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

struct vgl_cparse;

enum vgl_channel_type { VGL_CH_WEBHOOK, VGL_CH_ALERTMANAGER, VGL_CH_EXEC, VGL_CH_EMAIL };
enum vgl_webhook_format { VGL_WH_VIGIL, VGL_WH_PAGERDUTY };

#define VGL_CH_DEFAULT_TIMEOUT_MS 10000u
#define VGL_CH_DEFAULT_SENDMAIL "/usr/sbin/sendmail"
#define VGL_CH_NAME_MAX 64

struct vgl_channel_conf {
	char *name;
	enum vgl_channel_type type;
	char *url;                 /* webhook: the URL; alertmanager: base URL, POST {url}/api/v2/alerts */
	enum vgl_webhook_format format;
	char *routing_key;         /* pagerduty: "routing_key_file" {"routing_key"} or inline "routing_key" */
	char *bearer;              /* "token_file" {"token"}: Authorization: Bearer */
	char *ca_file;             /* relative to the file that names it */
	int insecure_tls;
	char **argv;               /* exec: "command", argv[0] absolute, NULL-terminated */
	size_t argc;
	char **to;                 /* email */
	size_t n_to;
	char *from;                /* NULL: "vigil" (the MTA qualifies it) */
	char *sendmail;            /* default VGL_CH_DEFAULT_SENDMAIL */
	uint32_t timeout_ms;       /* "timeout_s" 1..300, default 10 */
};

/* "webhook", "alertmanager", "exec", "email". */
const char *vgl_channel_type_name(enum vgl_channel_type t);

/* Parses the "channels" object { NAME: {"type": ..., ...} } at token tok of
 * cp, reporting with full key paths (channels.NAME.url): cp's own path is
 * expected empty. 0 and *out / *n (NULL / 0 for an empty object), or -1
 * with every error already reported through cp and nothing kept. */
int vgl_channels_parse(struct vgl_cparse *cp, int tok, struct vgl_channel_conf **out, size_t *n);
void vgl_channels_free(struct vgl_channel_conf *c, size_t n);

/* Every setting equal, secrets included (a rotated token is a change). */
int vgl_channel_conf_equal(const struct vgl_channel_conf *a, const struct vgl_channel_conf *b);
/* A deep copy into *dst. 0, or -1 when out of memory (dst left empty). */
int vgl_channel_conf_copy(struct vgl_channel_conf *dst, const struct vgl_channel_conf *src);
/* Frees what one conf holds (not the struct itself) and zeroes it. */
void vgl_channel_conf_clear(struct vgl_channel_conf *c);

#endif
