/* The config loader: walks the checked JSON tokens of the main file, its
 * include directory and secret files into a struct vgl_conf, collecting
 * every error with its file:line:col and key path (conf/json.h).
 *
 * Order of work: every file is parsed first (templates and hosts may sit in
 * any file), then the back ends' top-level keys (SNMP's MIB search dirs),
 * then each template is compiled once into a profile (conf/profile.c),
 * then the hosts. A host that names a template and
 * overrides nothing points at the template's profile; any override builds
 * a profile of its own from the template's plus the host's keys.
 */
#include "conf/conf.h"
#include "storage/sql.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/backend.h"
#include "conf/json.h"
#include "conf/ld.h"
#include "core/vtime.h"
#include "rules/expr.h"
#include "sla/sla.h"

/* ---- interned strings ------------------------------------------------------ */

struct vgl__strpool {
	char **slots;           /* open addressing; NULL = free */
	size_t cap, n;
};

static uint64_t hash_str(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static int pool_grow(struct vgl__strpool *p)
{
	size_t cap = p->cap ? p->cap * 2 : 64;
	char **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < p->cap; i++) {
		char *s = p->slots[i];
		size_t j;
		if (!s)
			continue;
		j = hash_str(s, strlen(s)) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = s;
	}
	free(p->slots);
	p->slots = slots;
	p->cap = cap;
	return 0;
}

/* The pool's copy of s; NULL on out of memory. */
static char *pool_intern(struct vgl__strpool *p, const char *s)
{
	size_t j;

	if ((p->n + 1) * 2 > p->cap && pool_grow(p) != 0)
		return NULL;
	j = hash_str(s, strlen(s)) & (p->cap - 1);
	while (p->slots[j]) {
		if (strcmp(p->slots[j], s) == 0)
			return p->slots[j];
		j = (j + 1) & (p->cap - 1);
	}
	if (!(p->slots[j] = strdup(s)))
		return NULL;
	p->n++;
	return p->slots[j];
}

static void pool_free(struct vgl__strpool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->cap; i++)
		free(p->slots[i]);
	free(p->slots);
	free(p);
}

static int conf_add_profile(struct ld *l, struct vgl_conf_profile *p)
{
	struct vgl_conf *c = l->c;

	if (c->n_profiles == l->cap_profiles) {
		size_t cap = l->cap_profiles ? l->cap_profiles * 2 : 16;
		struct vgl_conf_profile **n = realloc(c->profiles, cap * sizeof(*n));
		if (!n)
			return -1;
		c->profiles = n;
		l->cap_profiles = cap;
	}
	c->profiles[c->n_profiles++] = p;
	return 0;
}

/* ---- templates --------------------------------------------------------------- */

enum { T_SNMP, T_SOURCES, T_METRICS, T_AVAIL, T_COUNTERS, T_RULES, T_N };
static const char *const tmpl_keys[] = { "snmp", "sources", "metrics", "availability",
					 "sla_counters", "rules", NULL };

static int tmpl_cmp(const void *a, const void *b)
{
	const struct tmpl *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	/* Equal names keep file order, so the first declared is reported
	 * as the original. */
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void collect_templates(struct ld *l, struct vgl__doc *d, int obj)
{
	struct kp root = { NULL, "templates", -1, 0 };
	int k = obj + 1;

	if (vgl__want_type(l, d, obj, &root, VGL_J_OBJECT, "an object") != 0)
		return;
	for (int i = 0; i < d->tok[obj].size; i++) {
		int v = k + 1;
		struct tmpl *t;

		k = d->tok[v].next;
		if (vgl__earlier_key(d, obj, v - 1) >= 0) {
			struct kp ck = { &root, d->text + d->tok[v - 1].start,
					 d->tok[v - 1].end - d->tok[v - 1].start, 0 };
			vgl__errk(l, d, vgl__tok_pos(d, v - 1), &ck, "duplicate key");
			continue;
		}
		if (l->n_tmpls == l->cap_tmpls) {
			size_t cap = l->cap_tmpls ? l->cap_tmpls * 2 : 8;
			struct tmpl *n = realloc(l->tmpls, cap * sizeof(*n));
			if (!n) {
				vgl__oom(l);
				return;
			}
			l->tmpls = n;
			l->cap_tmpls = cap;
		}
		t = &l->tmpls[l->n_tmpls];
		memset(t, 0, sizeof(*t));
		if (!(t->name = vgl__tok_str(d, v - 1))) {
			vgl__oom(l);
			return;
		}
		t->d = d;
		t->obj = v;
		t->name_tok = v - 1;
		t->seq = l->n_tmpls++;
	}
}

static void compile_template(struct ld *l, struct tmpl *t)
{
	struct kp root = { NULL, "templates", -1, 0 };
	struct kp tk = { &root, t->name, -1, 0 };
	const struct vgl__doc *d = t->d;
	size_t before = l->n_errs;
	int v[T_N];
	struct prof_toks pt;

	t->snmp = t->sources = t->metrics = t->avail = t->counters = t->rules = -1;
	if (vgl__want_type(l, d, t->obj, &tk, VGL_J_OBJECT, "an object") != 0)
		return;
	vgl__obj_fields(l, d, t->obj, &tk, tmpl_keys, v);
	pt = (struct prof_toks){ v[T_SNMP], v[T_SOURCES], v[T_METRICS], v[T_AVAIL], v[T_COUNTERS],
				 v[T_RULES], 0 };
	t->rules = pt.rules;
	t->snmp = pt.snmp;
	t->sources = pt.sources;
	t->metrics = pt.metrics;
	t->avail = pt.avail;
	t->counters = pt.counters;
	if (!(t->prof = vgl__profile_new()) || !(t->prof->template_name = strdup(t->name))) {
		vgl__oom(l);
		return;
	}
	vgl__profile_compile(l, d, &tk, &pt, t->prof, &t->when_tok, &t->rule_toks);
	t->ok = l->n_errs == before;
}

static struct tmpl *find_template(struct ld *l, const char *name)
{
	size_t lo = 0, hi = l->n_tmpls;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, l->tmpls[mid].name);
		if (c == 0) {
			/* The first of equal names: the one that counts. */
			while (mid > 0 && strcmp(l->tmpls[mid - 1].name, name) == 0)
				mid--;
			return &l->tmpls[mid];
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- hosts ------------------------------------------------------------------- */

enum { H_NAME, H_ADDRESS, H_SITE, H_SERVICE, H_CUSTOMER, H_TEMPLATE, H_SNMP, H_METRICS,
       H_AVAIL, H_START, H_END, H_COUNTERS, H_SOURCES, H_FEEDS, H_DEPENDS, H_UPLINK,
       H_RULES, H_N };
static const char *const host_keys[] = {
	"name", "address", "site", "service", "customer", "template", "snmp", "metrics",
	"availability", "service_start", "service_end", "sla_counters", "sources", "feeds",
	"depends_on", "uplink", "rules", NULL,
};

static int valid_host_name(const char *s)
{
	if (!*s || strlen(s) > 128)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static int valid_address(const char *s)
{
	if (!*s || strlen(s) > 253)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '.' || *s == '-' || *s == ':' ||
		      *s == '_' || *s == '%'))
			return 0;
	return 1;
}

/* Index of the host named name, or inserts idx under it and returns -1. */
static long host_name_seen(struct ld *l, const char *name, size_t idx)
{
	size_t j;

	if ((l->c->n_hosts + 1) * 2 > l->hcap) {
		size_t cap = l->hcap ? l->hcap * 2 : 1024;
		uint32_t *n = calloc(cap, sizeof(*n));
		if (!n)
			return -2;
		for (size_t i = 0; i < l->hcap; i++) {
			uint32_t h = l->hidx[i];
			const char *s;
			if (!h)
				continue;
			s = l->c->hosts[h - 1].name;
			j = hash_str(s, strlen(s)) & (cap - 1);
			while (n[j])
				j = (j + 1) & (cap - 1);
			n[j] = h;
		}
		free(l->hidx);
		l->hidx = n;
		l->hcap = cap;
	}
	j = hash_str(name, strlen(name)) & (l->hcap - 1);
	while (l->hidx[j]) {
		if (strcmp(l->c->hosts[l->hidx[j] - 1].name, name) == 0)
			return (long)l->hidx[j] - 1;
		j = (j + 1) & (l->hcap - 1);
	}
	l->hidx[j] = (uint32_t)idx + 1;
	return -1;
}

long vgl__host_find(struct ld *l, const char *name)
{
	size_t j;

	if (!l->hcap)
		return -1;
	j = hash_str(name, strlen(name)) & (l->hcap - 1);
	while (l->hidx[j]) {
		if (strcmp(l->c->hosts[l->hidx[j] - 1].name, name) == 0)
			return (long)l->hidx[j] - 1;
		j = (j + 1) & (l->hcap - 1);
	}
	return -1;
}

static int host_str(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		    char **out, int interned)
{
	char *s;

	if (vgl__get_str(l, d, v, kp, &s) != 0)
		return -1;
	if (!*s) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "must not be empty");
		free(s);
		return -1;
	}
	if (!interned) {
		*out = s;
		return 0;
	}
	*out = pool_intern(l->c->strings, s);
	free(s);
	if (!*out) {
		vgl__oom(l);
		return -1;
	}
	return 0;
}

static int host_time(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		     int64_t *out)
{
	char *s;
	int r;

	*out = 0;
	if (vgl__is_null(d, v))
		return 0;
	if (vgl__get_str(l, d, v, kp, &s) != 0)
		return -1;
	r = vgl_parse_iso(s, out);
	if (r != 0)
		vgl__errk(l, d, vgl__tok_pos(d, v), kp,
		     "expected an ISO-8601 time like \"2026-01-01T00:00:00.000Z\" or null, got \"%s\"",
		     s);
	free(s);
	return r;
}

static void load_host(struct ld *l, struct vgl__doc *d, int obj, const struct kp *hk)
{
	struct vgl_conf *c = l->c;
	struct vgl_conf_host *h;
	int v[H_N], line, col;
	struct tmpl *t = NULL;
	char *tname = NULL;
	long seen;
	size_t before = l->n_errs;
	struct prof_toks pt;
#define KP(i) (&(struct kp){ hk, host_keys[i], -1, 0 })

	if (vgl__want_type(l, d, obj, hk, VGL_J_OBJECT, "an object") != 0)
		return;
	if (c->n_hosts == l->cap_hosts) {
		size_t cap = l->cap_hosts ? l->cap_hosts * 2 : 64;
		struct vgl_conf_host *n = realloc(c->hosts, cap * sizeof(*n));
		if (!n) {
			vgl__oom(l);
			return;
		}
		c->hosts = n;
		l->cap_hosts = cap;
	}
	h = &c->hosts[c->n_hosts];
	memset(h, 0, sizeof(*h));
	vgl__obj_fields(l, d, obj, hk, host_keys, v);
	vgl__doc_linecol(d, vgl__tok_pos(d, obj), &line, &col);
	h->line = line;
	if (!(h->file = pool_intern(c->strings, d->path))) {
		vgl__oom(l);
		return;
	}

	if (v[H_NAME] < 0) {
		vgl__errk(l, d, vgl__tok_pos(d, obj), hk, "missing required key 'name'");
	} else if (host_str(l, d, v[H_NAME], KP(H_NAME), &h->name, 0) == 0 &&
		   !valid_host_name(h->name)) {
		vgl__errk(l, d, vgl__tok_pos(d, v[H_NAME]), KP(H_NAME),
		     "host name must be 1-128 of [A-Za-z0-9._-]");
	}
	if (v[H_ADDRESS] < 0) {
		vgl__errk(l, d, vgl__tok_pos(d, obj), hk, "missing required key 'address'");
	} else if (host_str(l, d, v[H_ADDRESS], KP(H_ADDRESS), &h->address, 0) == 0 &&
		   !valid_address(h->address)) {
		vgl__errk(l, d, vgl__tok_pos(d, v[H_ADDRESS]), KP(H_ADDRESS),
		     "expected an IPv4/IPv6 address or a DNS name");
	}
	if (v[H_SITE] >= 0)
		host_str(l, d, v[H_SITE], KP(H_SITE), &h->site, 1);
	if (v[H_CUSTOMER] >= 0)
		host_str(l, d, v[H_CUSTOMER], KP(H_CUSTOMER), &h->customer, 1);
	if (v[H_SERVICE] >= 0 && host_str(l, d, v[H_SERVICE], KP(H_SERVICE), &h->service, 1) == 0) {
		h->policy = vgl_conf_policy(c, h->service);
		if (!h->policy) {
			char list[128];
			vgl__preset_list(c, list, sizeof(list));
			vgl__errk(l, d, vgl__tok_pos(d, v[H_SERVICE]), KP(H_SERVICE),
			     "unknown service '%s': expected a preset (%s) or a policy "
			     "defined under \"policies\"", h->service, list);
		}
	}
	if (v[H_START] >= 0)
		host_time(l, d, v[H_START], KP(H_START), &h->service_start_ms);
	if (v[H_END] >= 0 && host_time(l, d, v[H_END], KP(H_END), &h->service_end_ms) == 0 &&
	    h->service_start_ms && h->service_end_ms && h->service_end_ms <= h->service_start_ms)
		vgl__errk(l, d, vgl__tok_pos(d, v[H_END]), KP(H_END),
		     "service_end must be after service_start");
	if (v[H_TEMPLATE] >= 0 && vgl__get_str(l, d, v[H_TEMPLATE], KP(H_TEMPLATE), &tname) == 0) {
		t = find_template(l, tname);
		if (!t)
			vgl__errk(l, d, vgl__tok_pos(d, v[H_TEMPLATE]), KP(H_TEMPLATE),
			     "unknown template '%s'", tname);
		free(tname);
		if (!t)
			goto out;
	} else if (v[H_TEMPLATE] >= 0) {
		goto out;
	}

	pt = (struct prof_toks){ v[H_SNMP], v[H_SOURCES], v[H_METRICS], v[H_AVAIL], v[H_COUNTERS],
				 v[H_RULES], v[H_FEEDS] >= 0 || v[H_DEPENDS] >= 0 };
	if (t && pt.snmp < 0 && pt.sources < 0 && pt.metrics < 0 && pt.avail < 0 &&
	    pt.counters < 0 && pt.rules < 0) {
		if (!t->prof)
			goto out;
		vgl__template_check(l, t);
		if (!t->in_conf) {
			if (conf_add_profile(l, t->prof) != 0) {
				vgl__oom(l);
				goto out;
			}
			t->in_conf = 1;
		}
		t->prof->refs++;
		h->profile = t->prof;
	} else if (!t || t->prof) {
		struct vgl_conf_profile *p = vgl__profile_for_host(l, d, obj, hk, &pt, t,
								   h->name ? h->name : "?", before);
		if (!p)
			goto out;
		if (conf_add_profile(l, p) != 0) {
			vgl__profile_free(p);
			vgl__oom(l);
			goto out;
		}
		p->refs = 1;
		h->profile = p;
	}
	if (h->profile && h->address && v[H_ADDRESS] >= 0)
		vgl__profile_host_check(l, h->profile, d, v[H_ADDRESS], KP(H_ADDRESS), h->address);
out:
	if (h->name && valid_host_name(h->name)) {
		seen = host_name_seen(l, h->name, c->n_hosts);
		if (seen == -2) {
			vgl__oom(l);
		} else if (seen >= 0) {
			vgl__errk(l, d, vgl__tok_pos(d, v[H_NAME]), KP(H_NAME),
			     "duplicate host name '%s' (first declared at %s:%d)", h->name,
			     c->hosts[seen].file, c->hosts[seen].line);
			free(h->name);
			free(h->address);
			return;
		}
	}
	if (!h->name) {
		/* Not indexable; the load fails anyway, but the record must
		 * still be freed with the rest. */
		if (!(h->name = strdup(""))) {
			free(h->address);
			vgl__oom(l);
			return;
		}
	}
	if (v[H_FEEDS] >= 0 || v[H_DEPENDS] >= 0 || v[H_UPLINK] >= 0)
		vgl__topo_note(l, c->n_hosts, d, hk->idx, v[H_FEEDS], v[H_DEPENDS], v[H_UPLINK]);
	c->n_hosts++;
#undef KP
}

static void load_hosts(struct ld *l, struct vgl__doc *d, int arr)
{
	struct kp root = { NULL, "hosts", -1, 0 };
	int e = arr + 1;

	for (int i = 0; i < d->tok[arr].size; i++, e = d->tok[e].next) {
		struct kp hk = { &root, NULL, 0, i };
		load_host(l, d, e, &hk);
	}
}

/* ---- files ------------------------------------------------------------------ */

static int add_hsrc(struct ld *l, struct vgl__doc *d, int arr)
{
	struct kp root = { NULL, "hosts", -1, 0 };
	struct host_src *n;

	if (vgl__want_type(l, d, arr, &root, VGL_J_ARRAY, "an array") != 0)
		return -1;
	n = realloc(l->hsrc, (l->n_hsrc + 1) * sizeof(*n));
	if (!n) {
		vgl__oom(l);
		return -1;
	}
	l->hsrc = n;
	l->hsrc[l->n_hsrc++] = (struct host_src){ d, arr };
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_one_include_dir(struct ld *l, const struct vgl__doc *md, int v,
				 const struct kp *ikp)
{
	static const char *const keys[] = { "hosts", "templates", NULL };
	const struct kp ik = *ikp;
	char *rel, *dir = NULL, **names = NULL;
	size_t n = 0, cap = 0;
	DIR *dp;
	struct dirent *de;

	if (vgl__get_str(l, md, v, &ik, &rel) != 0)
		return;
	if (!(dir = vgl__join_path(l->main_dir, rel))) {
		vgl__oom(l);
		goto free_rel;
	}
	dp = opendir(dir);
	if (!dp) {
		vgl__errk(l, md, vgl__tok_pos(md, v), &ik, "include directory '%s': %s", dir,
		     strerror(errno));
		goto free_dir;
	}
	while ((de = readdir(dp))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nn = realloc(names, nc * sizeof(*nn));
			if (!nn) {
				vgl__oom(l);
				goto close_dir;
			}
			names = nn;
			cap = nc;
		}
		if (!(names[n] = vgl__join_path(dir, de->d_name))) {
			vgl__oom(l);
			goto close_dir;
		}
		n++;
	}
	/* Name order, so hosts keep a stable order across reloads. */
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct vgl__doc *d;
		int f[2];

		if (vgl__doc_load(names[i], &l->e, &d) != 0) {
			l->n_errs++;
			continue;
		}
		if (vgl__add_doc(l, d) != 0)
			continue;
		vgl__obj_fields(l, d, 0, NULL, keys, f);
		if (f[1] >= 0)
			collect_templates(l, d, f[1]);
		if (f[0] >= 0)
			add_hsrc(l, d, f[0]);
	}
close_dir:
	closedir(dp);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
free_dir:
	free(dir);
free_rel:
	free(rel);
}

/* "include": one directory, or a list of them read in the order given
 * (site hosts, then shipped device profiles, ...). */
static void load_include_dir(struct ld *l, const struct vgl__doc *md, int v)
{
	struct kp ik = { NULL, "include", -1, 0 };
	int e = v + 1;

	if (md->tok[v].type != VGL_J_ARRAY) {
		load_one_include_dir(l, md, v, &ik);
		return;
	}
	for (int i = 0; i < md->tok[v].size; i++, e = md->tok[e].next)
		load_one_include_dir(l, md, e, &(struct kp){ &ik, NULL, 0, i });
}

enum { M_STORAGE, M_INCLUDE, M_TEMPLATES, M_HOSTS, M_SLA, M_POLICIES, M_ALARMS, M_CHANNELS,
       M_ESCALATION, M_API, M_N };
static const char *const main_keys[] = {
	"storage", "include", "templates", "hosts", "sla", "policies", "alarms", "channels",
	"escalation", "api", NULL,
};
#define MAX_MAIN_KEYS 32

/* The loader's own top-level keys, then every back end's ("snmp", "mibs"). */
static size_t all_main_keys(const char **keys)
{
	size_t n = 0;

	for (; main_keys[n]; n++)
		keys[n] = main_keys[n];
	for (size_t i = 0; i < vgl_conf_backend_count(); i++)
		for (const char *const *g = vgl_conf_backend_at(i)->global_keys;
		     g && *g && n < MAX_MAIN_KEYS; g++)
			keys[n++] = *g;
	keys[n] = NULL;
	return n;
}


/* Caught by -t rather than at the first write: a database must be a regular
 * file, or not exist yet (SQLite creates it, with its -wal and -shm beside
 * it) under a path whose parent, if it exists, is a directory. 1 (error
 * reported) or 0. */
static int db_path_bad(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		       const char *path)
{
	struct stat st;
	char *dir;
	int bad = 0;

	if (stat(path, &st) == 0) {
		if (S_ISREG(st.st_mode))
			return 0;
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "'%s' %s", path,
		     S_ISDIR(st.st_mode) ? "is a directory, not a database file"
		     : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "is a device, not a database file"
								   : "is not a regular file");
		return 1;
	}
	if (errno != ENOENT) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "'%s': %s", path, strerror(errno));
		return 1;
	}
	if (!(dir = vgl__dir_of(path))) {
		vgl__oom(l);
		return 1;
	}
	/* A directory still to be made (systemd's StateDirectory=) is fine. */
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		vgl__errk(l, d, vgl__tok_pos(d, v), kp, "'%s': '%s' is not a directory", path, dir);
		bad = 1;
	}
	free(dir);
	return bad;
}

static void load_storage(struct ld *l, const struct vgl__doc *d, int obj)
{
	static const char *const keys[] = { "path", "batch_ms", "heartbeat_s", "url", NULL };
	struct kp sk = { NULL, "storage", -1, 0 };
	int v[4];
	long x;
	char *s;

	if (vgl__want_type(l, d, obj, &sk, VGL_J_OBJECT, "an object") != 0)
		return;
	vgl__obj_fields(l, d, obj, &sk, keys, v);
	if (v[0] >= 0 && vgl__get_str(l, d, v[0], &(struct kp){ &sk, "path", -1, 0 }, &s) == 0) {
		if (!*s) {
			vgl__errk(l, d, vgl__tok_pos(d, v[0]), &(struct kp){ &sk, "path", -1, 0 },
			     "must not be empty");
		} else {
			char *p = vgl__join_path(l->main_dir, s);
			if (!p)
				vgl__oom(l);
			else if (!db_path_bad(l, d, v[0], &(struct kp){ &sk, "path", -1, 0 }, p))
				vgl__set_str(&l->c->db_path, p);
			else
				free(p);
		}
		free(s);
	}
	/* PostgreSQL instead of the file (docs/scale-out.md). The URL is
	 * logged as the store's name, so it must not carry the password:
	 * libpq reads that from PGPASSFILE (~/.pgpass by default). */
	if (v[3] >= 0 && vgl__get_str(l, d, v[3], &(struct kp){ &sk, "url", -1, 0 }, &s) == 0) {
		const char *at = strchr(s, '@'), *rest = strstr(s, "://");
		const char *colon = rest && at ? memchr(rest + 3, ':', (size_t)(at - rest - 3)) : NULL;

		if (v[0] >= 0)
			vgl__errk(l, d, vgl__tok_pos(d, v[3]), &(struct kp){ &sk, "url", -1, 0 },
				  "give either path (SQLite) or url (PostgreSQL), not both");
		else if (!vgl_sql_target_is_pg(s))
			vgl__errk(l, d, vgl__tok_pos(d, v[3]), &(struct kp){ &sk, "url", -1, 0 },
				  "'%s' is not a postgresql:// URL", s);
		else if (colon || strstr(s, "password="))
			vgl__errk(l, d, vgl__tok_pos(d, v[3]), &(struct kp){ &sk, "url", -1, 0 },
				  "must not carry the password (it would be logged): put it in "
				  "the file PGPASSFILE names (mode 0600)");
		else {
			vgl__set_str(&l->c->db_path, s);
			s = NULL;
		}
		free(s);
	}
	if (v[1] >= 0 && vgl__get_int(l, d, v[1], &(struct kp){ &sk, "batch_ms", -1, 0 }, 10, 60000,
				 &x) == 0)
		l->c->batch_ms = (uint32_t)x;
	if (v[2] >= 0 && vgl__get_int(l, d, v[2], &(struct kp){ &sk, "heartbeat_s", -1, 0 }, 1, 3600,
				 &x) == 0)
		l->c->heartbeat_ms = (uint32_t)x * 1000;
}


static void ld_free(struct ld *l)
{
	vgl__topo_free_notes(l);
	for (size_t i = 0; i < l->n_tmpls; i++) {
		if (!l->tmpls[i].in_conf)
			vgl__profile_free(l->tmpls[i].prof);
		free(l->tmpls[i].name);
		free(l->tmpls[i].when_tok);
		free(l->tmpls[i].rule_toks);
	}
	free(l->tmpls);
	for (size_t i = 0; i < l->n_docs; i++)
		vgl__doc_free(l->docs[i]);
	free(l->docs);
	free(l->hsrc);
	free(l->hidx);
	free(l->main_dir);
}

int vgl_conf_load(const char *path, struct vgl_conf **out, struct vgl_conf_errors *errs)
{
	struct ld l = { 0 };
	struct vgl_conf *c;
	struct vgl__doc *md;
	int v[MAX_MAIN_KEYS + 1];
	const char *keys[MAX_MAIN_KEYS + 1];

	all_main_keys(keys);
	*out = NULL;
	errs->msgs = NULL;
	errs->n = 0;
	l.e.out = errs;
	c = l.c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path)) || !(c->strings = calloc(1, sizeof(*c->strings))) ||
	    !(l.main_dir = vgl__dir_of(path)) || !(c->db_path = vgl__join_path(l.main_dir, "vigil.db"))) {
		vgl__oom(&l);
		goto finish;
	}
	c->batch_ms = 1000;
	c->heartbeat_ms = 10000;
	snprintf(c->sla_tz, sizeof(c->sla_tz), "UTC");

	if (vgl__doc_load(path, &l.e, &md) != 0) {
		l.n_errs++;
		goto finish;
	}
	if (vgl__add_doc(&l, md) != 0)
		goto finish;
	vgl__obj_fields(&l, md, 0, NULL, keys, v);
	if (v[M_STORAGE] >= 0)
		load_storage(&l, md, v[M_STORAGE]);
	if (v[M_API] >= 0)
		vgl__load_api(&l, md, v[M_API]);
	/* Zone, presets and policies before any host names its service. */
	if (v[M_SLA] >= 0)
		vgl__load_sla(&l, md, v[M_SLA]);
	if (vgl__make_presets(c) != 0) {
		vgl__oom(&l);
		goto finish;
	}
	if (v[M_POLICIES] >= 0)
		vgl__load_policies(&l, md, v[M_POLICIES]);
	/* Before any template: a back end may need its globals to parse
	 * metrics (SNMP's MIB directories and modules). */
	vgl__load_backend_globals(&l, md, 0);
	if (v[M_TEMPLATES] >= 0)
		collect_templates(&l, md, v[M_TEMPLATES]);
	if (v[M_HOSTS] >= 0)
		add_hsrc(&l, md, v[M_HOSTS]);
	if (v[M_INCLUDE] >= 0)
		load_include_dir(&l, md, v[M_INCLUDE]);

	if (l.n_tmpls)
		qsort(l.tmpls, l.n_tmpls, sizeof(*l.tmpls), tmpl_cmp);
	for (size_t i = 0; i < l.n_tmpls; i++) {
		struct tmpl *t = &l.tmpls[i];
		if (i > 0 && strcmp(t[-1].name, t->name) == 0) {
			const struct tmpl *first = find_template(&l, t->name);
			int line, col;
			struct kp root = { NULL, "templates", -1, 0 };
			vgl__doc_linecol(first->d, vgl__tok_pos(first->d, first->name_tok), &line, &col);
			vgl__errk(&l, t->d, vgl__tok_pos(t->d, t->name_tok),
			     &(struct kp){ &root, t->name, -1, 0 },
			     "duplicate template name (first defined at %s:%d:%d)", first->d->path,
			     line, col);
			continue;
		}
		compile_template(&l, t);
	}
	for (size_t i = 0; i < l.n_hsrc; i++)
		load_hosts(&l, l.hsrc[i].d, l.hsrc[i].arr);
	vgl__topo_resolve(&l);
	if (l.n_errs == 0)
		vgl__rules_resolve_ext(&l);
	vgl__load_alarms(&l, md, v[M_ALARMS], v[M_CHANNELS], v[M_ESCALATION]);
	if (l.n_errs == 0 && c->n_hosts == 0)
		vgl__err_add(&l.e, "%s: no hosts configured", path);

finish:
	l.e.closing = 1;
	if (l.e.dropped)
		vgl__err_add(&l.e, "%s: %zu more errors not shown", path, l.e.dropped);
	if (l.e.oom)
		vgl__err_add(&l.e, "%s: out of memory while loading", path);
	ld_free(&l);
	if (errs->n > 0 || l.n_errs > 0 || l.e.oom) {
		if (errs->n == 0)
			vgl__err_add(&l.e, "%s: failed to load", path);
		vgl_conf_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void vgl_conf_free(struct vgl_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_hosts; i++) {
		free(c->hosts[i].name);
		free(c->hosts[i].address);
		for (uint32_t k = 0; k < c->hosts[i].n_feeds; k++)
			free(c->hosts[i].feeds[k].text);
		free(c->hosts[i].uplink.text);
		free(c->hosts[i].feeds);
		free(c->hosts[i].depends_on);
		free(c->hosts[i].rule_refs);
	}
	free(c->hosts);
	for (size_t i = 0; i < c->n_profiles; i++)
		vgl__profile_free(c->profiles[i]);
	free(c->profiles);
	free(c->policies);
	free(c->presets);
	vgl_alarm_conf_free(c->alarm_conf);
	vgl_conf_api_free(c->api);
	for (size_t i = 0; i < c->n_be_globals; i++)
		if (c->be_globals[i])
			vgl_conf_backend_at(i)->global_free(c->be_globals[i]);
	free(c->be_globals);
	pool_free(c->strings);
	for (size_t i = 0; i < c->n_warnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	free(c->db_path);
	free(c->path);
	free(c);
}

void vgl_conf_errors_free(struct vgl_conf_errors *errs)
{
	if (!errs)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

const struct vgl_conf_host *vgl_conf_find_host(const struct vgl_conf *c, const char *name)
{
	for (size_t i = 0; c && name && i < c->n_hosts; i++)
		if (strcmp(c->hosts[i].name, name) == 0)
			return &c->hosts[i];
	return NULL;
}
