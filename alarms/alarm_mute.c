/* The alarm manager's muting: silences (host, site, label) and
 * maintenance windows in force, replaced whole at each read of the
 * operators' changes (alarms/alarm.h). */
#include "alarms/alarm_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "rules/rule_conf.h"

/* ---- muting ----------------------------------------------------------------- */

static int label_matches(const struct alarm *al, const char *kv)
{
	const char *eq = strchr(kv, '=');
	cJSON *l, *v;
	int ok;

	if (!eq || !al->labels || !(l = cJSON_Parse(al->labels)))
		return 0;
	char key[128];
	snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
	v = cJSON_GetObjectItemCaseSensitive(l, key);
	ok = cJSON_IsString(v) && strcmp(v->valuestring, eq + 1) == 0;
	cJSON_Delete(l);
	return ok;
}

/* The silence or window in force now that covers al, into al->muted;
 * 1 when muted. */
int vgl__al_muted_now(const struct vgl_alarms *a, const struct alarm *al, int64_t now, char *out,
		     size_t n)
{
	const char *host = vgl__al_host_name(a, al), *site = vgl__al_host_site(a, al);

	for (size_t i = 0; i < a->n_sil; i++) {
		const struct silence *s = &a->sil[i];

		if (now < s->start_ms || now >= s->end_ms)
			continue;
		if ((s->host && strcmp(s->host, host) != 0) ||
		    (s->site && (!site || strcmp(s->site, site) != 0)) ||
		    (s->label && !label_matches(al, s->label)))
			continue;
		snprintf(out, n, "silence:%lld", (long long)s->id);
		return 1;
	}
	for (size_t i = 0; i < a->n_win; i++) {
		const struct window *w = &a->win[i];

		if (now < w->start_ms || now >= w->end_ms)
			continue;
		if ((w->host_id && w->host_id == al->host_id) ||
		    (w->site && site && strcmp(w->site, site) == 0)) {
			snprintf(out, n, "maintenance:%lld", (long long)w->id);
			return 1;
		}
	}
	out[0] = '\0';
	return 0;
}

/* ---- control (operators' changes) ------------------------------------------- */

void vgl__al_free_silences(struct silence *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].host);
		free(s[i].site);
		free(s[i].label);
	}
	free(s);
}

void vgl__al_free_windows(struct window *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].site);
	free(w);
}

void vgl_alarms_control_begin(struct vgl_alarms *a)
{
	vgl__al_free_silences(a->sil_new, a->n_sil_new);
	vgl__al_free_windows(a->win_new, a->n_win_new);
	a->sil_new = NULL;
	a->win_new = NULL;
	a->n_sil_new = a->n_win_new = 0;
	a->in_control = 1;
	a->control_oom = 0;
}

int vgl_alarms_silence(struct vgl_alarms *a, const struct vgl_store_silence *s)
{
	struct silence *n = realloc(a->sil_new, (a->n_sil_new + 1) * sizeof(*n)), *x;

	if (!n) {
		a->control_oom = 1;
		return -ENOMEM;
	}
	a->sil_new = n;
	x = &n[a->n_sil_new];
	memset(x, 0, sizeof(*x));
	x->id = s->id;
	x->start_ms = s->start_ms;
	x->end_ms = s->end_ms;
	if ((s->host && !(x->host = strdup(s->host))) || (s->site && !(x->site = strdup(s->site))) ||
	    (s->label && !(x->label = strdup(s->label)))) {
		free(x->host);
		free(x->site);
		a->control_oom = 1;
		return -ENOMEM;
	}
	a->n_sil_new++;
	return 0;
}

int vgl_alarms_window(struct vgl_alarms *a, const struct vgl_store_window *w)
{
	struct window *n, *x;

	if (w->cancelled)
		return 0;
	if (!(n = realloc(a->win_new, (a->n_win_new + 1) * sizeof(*n)))) {
		a->control_oom = 1;
		return -ENOMEM;
	}
	a->win_new = n;
	x = &n[a->n_win_new];
	memset(x, 0, sizeof(*x));
	x->id = w->id;
	x->host_id = w->host_id;
	x->start_ms = w->start_ms;
	x->end_ms = w->end_ms;
	if (w->site && !(x->site = strdup(w->site))) {
		a->control_oom = 1;
		return -ENOMEM;
	}
	a->n_win_new++;
	return 0;
}

void vgl_alarms_control_end(struct vgl_alarms *a)
{
	if (!a->in_control)
		return;
	a->in_control = 0;
	/* a partial read must not unmute what it did not see */
	if (a->control_oom)
		return;
	vgl__al_free_silences(a->sil, a->n_sil);
	vgl__al_free_windows(a->win, a->n_win);
	a->sil = a->sil_new;
	a->n_sil = a->n_sil_new;
	a->win = a->win_new;
	a->n_win = a->n_win_new;
	a->sil_new = NULL;
	a->win_new = NULL;
	a->n_sil_new = a->n_win_new = 0;
}
