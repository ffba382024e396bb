/* The alarm manager's string map: (host id, kind, rule) and ids to
 * alarms, keys to flap histories (alarms/alarm_int.h). Open addressing
 * with tombstones, grown before half full. */
#include "alarms/alarm_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "rules/rule_conf.h"

/* ---- map -------------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static size_t map_find(const struct map *m, const char *k)
{
	size_t i;

	if (!m->cap)
		return SIZE_MAX;
	for (i = hash_str(k) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] != (char *)1 && strcmp(m->keys[i], k) == 0)
			return i;
	return SIZE_MAX;
}

void *vgl__al_map_get(const struct map *m, const char *k)
{
	size_t i = map_find(m, k);

	return i == SIZE_MAX ? NULL : m->vals[i];
}


static int map_grow(struct map *m)
{
	struct map n = { 0 };

	n.cap = m->cap ? m->cap * 2 : 64;
	if (!(n.keys = calloc(n.cap, sizeof(*n.keys))) || !(n.vals = calloc(n.cap, sizeof(*n.vals)))) {
		free(n.keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] && m->keys[i] != (char *)1) {
			size_t j = hash_str(m->keys[i]) & (n.cap - 1);
			while (n.keys[j])
				j = (j + 1) & (n.cap - 1);
			n.keys[j] = m->keys[i];
			n.vals[j] = m->vals[i];
			n.n++;
		}
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

/* Tombstones count as used, so the table is rebuilt before it fills. */
int vgl__al_map_put(struct map *m, const char *k, void *v)
{
	size_t i = map_find(m, k);
	char *dup;

	if (i != SIZE_MAX) {
		m->vals[i] = v;
		return 0;
	}
	if ((m->n + 1) * 2 > m->cap && map_grow(m) != 0)
		return -ENOMEM;
	if (!(dup = strdup(k)))
		return -ENOMEM;
	for (i = hash_str(k) & (m->cap - 1); m->keys[i] && m->keys[i] != (char *)1;
	     i = (i + 1) & (m->cap - 1))
		;
	m->keys[i] = dup;
	m->vals[i] = v;
	m->n++;
	return 0;
}

void vgl__al_map_del(struct map *m, const char *k)
{
	size_t i = map_find(m, k);

	if (i == SIZE_MAX)
		return;
	free(m->keys[i]);
	m->keys[i] = (char *)1;
	m->vals[i] = NULL;
}

void vgl__al_map_free(struct map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i] != (char *)1)
			free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

void vgl__al_key_of(char *buf, size_t n, int64_t host_id, enum vgl_alarm_kind k, const char *rule)
{
	snprintf(buf, n, "%lld/%d/%s", (long long)host_id, (int)k, rule ? rule : "");
}

void vgl__al_id_key(char *buf, size_t n, int64_t id)
{
	snprintf(buf, n, "%lld", (long long)id);
}
