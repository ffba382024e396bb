/* The delivery engine's channels, queues and reports (notify/notify.h,
 * notify/notify_int.h). */
#include "notify/notify_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/log.h"
#include "notify/render.h"

void vgl__nt_free(struct nattempt *a)
{
	if (!a)
		return;
	free(a->snapshot);
	free(a->body);
	free(a);
}

static void free_engine(struct vgl_notify *n)
{
	for (size_t i = 0; i < n->n_ch; i++) {
		vgl_channel_conf_clear(&n->ch[i].conf);
		free(n->ch[i].post_url);
	}
	free(n->ch);
	free(n);
}

void vgl__nt_handle_closed(struct vgl_notify *n)
{
	if (--n->open == 0 && n->closing) {
		void (*closed)(void *) = n->closed;
		void *arg = n->closed_arg;

		free_engine(n);
		if (closed)
			closed(arg);
	}
}

static void kick_close_cb(uv_handle_t *h)
{
	vgl__nt_handle_closed(h->data);
}

static void run_unlink(struct nattempt *a)
{
	struct nchan *c = a->ch;

	if (a->prev)
		a->prev->next = a->next;
	else
		c->running = a->next;
	if (a->next)
		a->next->prev = a->prev;
	a->prev = a->next = NULL;
	c->n_running--;
}

static void on_kick(uv_timer_t *t);

void vgl__nt_finish(struct nattempt *a)
{
	struct vgl_notify *n = a->n;
	int rc;

	if (a->where == NA_RUNNING)
		run_unlink(a);
	a->where = NA_FINISHED;
	a->next = NULL;
	if (n->fin_tail)
		n->fin_tail->next = a;
	else
		n->fin_head = a;
	n->fin_tail = a;
	/* a zero timer, not a call: the caller is still inside curl or libuv
	 * with this attempt, or inside vgl_notify_send */
	if ((rc = uv_timer_start(&n->kick, on_kick, 0, 0)) != 0)
		vgl_err("notify: uv_timer_start: %s", uv_strerror(rc));
}

static void start(struct nattempt *a)
{
	struct nchan *c = a->ch;

	a->where = NA_RUNNING;
	a->prev = NULL;
	a->next = c->running;
	if (c->running)
		c->running->prev = a;
	c->running = a;
	c->n_running++;
	if (c->conf.type == VGL_CH_WEBHOOK || c->conf.type == VGL_CH_ALERTMANAGER)
		vgl__nt_http_start(a);
	else
		vgl__nt_spawn_start(a);
}

static void pump(struct nchan *c)
{
	while (c->qhead && c->n_running < VGL_NOTIFY_MAX_RUNNING) {
		struct nattempt *a = c->qhead;

		if (!(c->qhead = a->next))
			c->qtail = NULL;
		a->next = NULL;
		start(a);
	}
}

static void on_kick(uv_timer_t *t)
{
	struct vgl_notify *n = t->data;

	while (n->fin_head && !n->closing) {
		struct nattempt *a = n->fin_head;

		if (!(n->fin_head = a->next))
			n->fin_tail = NULL;
		n->in_flight--;
		/* done may send again, or close: a is off every list first */
		n->done(n->ctx, a->token, a->ok, a->ok ? NULL : a->error);
		vgl__nt_free(a);
	}
	if (n->closing)
		return;
	/* slots freed by what finished go to the queues now */
	for (size_t i = 0; i < n->n_ch; i++)
		pump(&n->ch[i]);
}

static int channel_setup(struct nchan *c, const struct vgl_channel_conf *conf)
{
	if (vgl_channel_conf_copy(&c->conf, conf) != 0)
		return -ENOMEM;
	if (conf->type == VGL_CH_ALERTMANAGER) {
		size_t len = conf->url ? strlen(conf->url) : 0;

		while (len > 0 && conf->url[len - 1] == '/')
			len--;
		if (asprintf(&c->post_url, "%.*s/api/v2/alerts", (int)len,
			     conf->url ? conf->url : "") < 0) {
			c->post_url = NULL;
			return -ENOMEM;
		}
	} else if (conf->type == VGL_CH_WEBHOOK) {
		if (!(c->post_url = strdup(conf->url ? conf->url : "")))
			return -ENOMEM;
	}
	return 0;
}

int vgl_notify_new(uv_loop_t *loop, const struct vgl_channel_conf *ch, size_t n_ch,
		   vgl_notify_done_fn *done, void *ctx, struct vgl_notify **out)
{
	struct vgl_notify *n = calloc(1, sizeof(*n));
	int rc = 0;

	*out = NULL;
	if (!n || !(n->ch = calloc(n_ch ? n_ch : 1, sizeof(*n->ch)))) {
		free(n);
		return -ENOMEM;
	}
	n->loop = loop;
	n->done = done;
	n->ctx = ctx;
	n->n_ch = n_ch;
	for (size_t i = 0; i < n_ch && rc == 0; i++)
		rc = channel_setup(&n->ch[i], &ch[i]);
	if (rc == 0 && (rc = uv_timer_init(loop, &n->kick)) == 0) {
		n->kick.data = n;
		n->open++;
		if ((rc = vgl__nt_http_open(n)) != 0) {
			/* the kick timer is open: the engine goes the close way */
			n->closing = 1;
			uv_close((uv_handle_t *)&n->kick, kick_close_cb);
			return rc;
		}
		*out = n;
		return 0;
	}
	free_engine(n);
	return rc;
}

static struct nchan *find_channel(struct vgl_notify *n, const char *name)
{
	for (size_t i = 0; name && i < n->n_ch; i++)
		if (n->ch[i].conf.name && strcmp(n->ch[i].conf.name, name) == 0)
			return &n->ch[i];
	return NULL;
}

/* What the channel sends for this snapshot: 0, -EINVAL or -ENOMEM. */
static int render(struct nattempt *a)
{
	const struct vgl_channel_conf *c = &a->ch->conf;

	switch (c->type) {
	case VGL_CH_WEBHOOK:
		if (c->format == VGL_WH_PAGERDUTY)
			a->body = vgl_render_pagerduty(a->snapshot, c->routing_key);
		else
			a->body = strdup(a->snapshot);
		break;
	case VGL_CH_ALERTMANAGER:
		a->body = vgl_render_alertmanager(a->snapshot);
		break;
	case VGL_CH_EMAIL:
		a->body = vgl_render_email(a->snapshot, c);
		break;
	case VGL_CH_EXEC:
		a->body = strdup(a->snapshot);
		break;
	}
	return a->body ? 0 : -ENOMEM;
}

int vgl_notify_send(struct vgl_notify *n, const char *channel, int64_t token,
		    const char *snapshot)
{
	struct nchan *c;
	struct nattempt *a;
	cJSON *o;
	int rc;

	if (n->closing)
		return -ESHUTDOWN;
	if (!(c = find_channel(n, channel)))
		return -ENOENT;
	if (!snapshot)
		return -EINVAL;
	/* refused here, not reported later: retrying would never help */
	o = cJSON_Parse(snapshot);
	rc = !o ? -EINVAL : cJSON_IsObject(o) ? 0 : -EINVAL;
	cJSON_Delete(o);
	if (rc)
		return rc;
	if (!(a = calloc(1, sizeof(*a))))
		return -ENOMEM;
	a->n = n;
	a->ch = c;
	a->token = token;
	if (!(a->snapshot = strdup(snapshot)) || (rc = render(a)) != 0) {
		vgl__nt_free(a);
		return -ENOMEM;
	}
	a->where = NA_QUEUED;
	if (c->qtail)
		c->qtail->next = a;
	else
		c->qhead = a;
	c->qtail = a;
	n->in_flight++;
	pump(c);
	return 0;
}

size_t vgl_notify_in_flight(const struct vgl_notify *n)
{
	return n ? n->in_flight : 0;
}

void vgl_notify_close(struct vgl_notify *n, void (*closed)(void *arg), void *arg)
{
	if (!n || n->closing)
		return;
	n->closing = 1;
	n->closed = closed;
	n->closed_arg = arg;
	for (size_t i = 0; i < n->n_ch; i++) {
		struct nchan *c = &n->ch[i];

		while (c->qhead) {
			struct nattempt *a = c->qhead;
			c->qhead = a->next;
			vgl__nt_free(a);
		}
		c->qtail = NULL;
		while (c->running) {
			struct nattempt *a = c->running;

			run_unlink(a);
			a->where = NA_FINISHED;
			if (c->conf.type == VGL_CH_WEBHOOK || c->conf.type == VGL_CH_ALERTMANAGER)
				vgl__nt_http_abandon(a);
			else
				vgl__nt_spawn_abandon(a);
		}
	}
	while (n->fin_head) {
		struct nattempt *a = n->fin_head;
		n->fin_head = a->next;
		vgl__nt_free(a);
	}
	n->fin_tail = NULL;
	n->in_flight = 0;
	vgl__nt_http_close(n);
	uv_close((uv_handle_t *)&n->kick, kick_close_cb);
}
