/* The loader's private state and helpers, shared by the files of conf/
 * (conf.c: files, templates, hosts; profile.c: sources, metrics and
 * conditions; counters_load.c: sla_counters; policy_load.c: SLA policies; parse.c: the back ends' API;
 * ld.c: key paths and typed values). Nothing outside conf/ includes it. */
#ifndef VGL_CONF_LD_H
#define VGL_CONF_LD_H

#include <stddef.h>
#include <stdint.h>

#include "alarms/alarm_row.h"
#include "conf/conf.h"
#include "conf/json.h"

/* One step of a key path, kept on the C stack while the walk is below it
 * and only formatted when an error needs it. */
struct kp {
	const struct kp *up;
	const char *key;        /* NULL: an array index */
	int keylen;             /* -1: key is NUL-terminated */
	long idx;
};

struct tmpl {
	char *name;
	struct vgl__doc *d;
	int obj, name_tok;
	int snmp, sources, metrics, avail;      /* value tokens, -1 when absent */
	int counters;
	struct vgl_conf_profile *prof;
	int *when_tok;                  /* per condition: its "when" token or -1 */
	int rules;                      /* the "rules" token, -1 absent */
	int *rule_toks;                 /* per rule: its "when" and "clear" tokens or -1 */
	int ok;                         /* compiled without errors */
	int checked;                    /* completeness checked for direct use */
	int in_conf;                    /* prof is in conf->profiles */
	size_t seq;                     /* declaration order */
};

struct host_src {
	struct vgl__doc *d;
	int arr;                        /* the "hosts" array token */
};

struct ld {
	struct vgl_conf *c;
	struct vgl__errs e;
	size_t n_errs;                  /* every error reported, repeats included */
	struct vgl__doc **docs;
	size_t n_docs;
	struct tmpl *tmpls;
	size_t n_tmpls, cap_tmpls;
	struct host_src *hsrc;
	size_t n_hsrc;
	uint32_t *hidx;                 /* host name hash: index + 1, 0 = free */
	size_t hcap;
	size_t cap_hosts, cap_profiles;
	char *main_dir;
	struct topo_note *topo;         /* topo_load.c: hosts with feeds or depends_on */
	size_t n_topo, cap_topo;
};

/* What a back end holds while it parses (conf/parse.h). */
struct vgl_cparse {
	struct ld *l;
	const struct vgl__doc *d;
	const struct kp *kp;            /* the object's path */
	int obj;                        /* its token: where "missing ..." goes */
	/* obj stands for a whole value (a plain string metric, a host's
	 * address): keys given with errors are not added to the path. */
	int bare;
};

void vgl__kp_fmt(const struct kp *k, char *buf, size_t n);
void vgl__errk(struct ld *l, const struct vgl__doc *d, size_t off, const struct kp *kp,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void vgl__oom(struct ld *l);
/* "dir/rel", or rel itself when absolute or dir is "." */
char *vgl__join_path(const char *dir, const char *rel);
char *vgl__dir_of(const char *path);
/* Takes d (freed on failure). */
int vgl__add_doc(struct ld *l, struct vgl__doc *d);
/* Adds a warning line (msg is taken). */
void vgl__add_warning(struct ld *l, char *msg);

/* Checks obj's keys against keys (NULL-terminated) and sets vals[i] to the
 * value token of keys[i] or -1. Unknown and repeated keys are errors. */
void vgl__obj_fields(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *kp,
		     const char *const *keys, int *vals);
/* The first earlier key of obj equal to key token k, or -1. For objects
 * whose keys are names (metrics, enum, templates). */
int vgl__earlier_key(const struct vgl__doc *d, int obj, int k);
int vgl__want_type(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		   int type, const char *what);
/* A string value, malloc'd into *out (NULL when it failed). */
int vgl__get_str(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp, char **out);
int vgl__is_integer_tok(const struct vgl__doc *d, int v);
int vgl__get_int(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
		 long lo, long hi, long *out);
int vgl__is_null(const struct vgl__doc *d, int v);
/* Names the expression language can refer to: [A-Za-z_][A-Za-z0-9_.-]*,
 * not a keyword. */
int vgl__is_ident(const char *s);
void vgl__set_str(char **dst, char *v);
/* *dst = strdup(src) (NULL stays NULL); -1 when out of memory. */
int vgl__dup_opt(char **dst, const char *src);

/* conf.c: the index of the host named name, or -1. */
long vgl__host_find(struct ld *l, const char *name);

/* topo_load.c: host idx (declared at d, hosts[hidx]) gave "feeds",
 * "depends_on" and/or "uplink" (tokens, -1 absent): noted now, resolved
 * once every host is known. */
void vgl__topo_note(struct ld *l, size_t idx, const struct vgl__doc *d, long hidx, int feeds,
		    int depends, int uplink);
void vgl__topo_resolve(struct ld *l);
void vgl__topo_free_notes(struct ld *l);

/* rules_load.c (rules/rule_conf.h): a condition's "alarm" (true or an
 * object) and a rule's severity/summary/labels tokens (-1 absent) into
 * out, checked against the metrics a summary may name; a "rules" array
 * into p (toks: per rule its when and clear tokens, for copies); a
 * template's rules re-parsed for a host's profile (0 or -1 out of
 * memory); every host's feed./uplink. references, once hosts are known. */
struct vgl_conf_alarm_spec;
int vgl__alarm_spec_parse(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
			  const struct vgl_conf_metric *ms, size_t n_ms, enum vgl_severity dflt,
			  struct vgl_conf_alarm_spec *out);
int vgl__alarm_fields(struct ld *l, const struct vgl__doc *d, int sev, int sum, int labels,
		      const struct kp *kp, const struct vgl_conf_metric *ms, size_t n_ms,
		      struct vgl_conf_alarm_spec *out);
struct vgl_conf_alarm_spec *vgl__alarm_spec_dup(const struct vgl_conf_alarm_spec *src);
void vgl__rules_compile(struct ld *l, const struct vgl__doc *d, int arr, const struct kp *kp,
			struct vgl_conf_profile *p, int **toks);
int vgl__rules_copy(struct ld *l, struct vgl_conf_profile *p, const struct vgl_conf_profile *base,
		    const struct vgl__doc *d, const int *toks, const struct kp *rk,
		    const char *host_name);
void vgl__rules_resolve_ext(struct ld *l);

/* alarm_load.c (alarms/alarm_conf.h): "alarms", "channels", "escalation"
 * (tokens, -1 absent) into c->alarm_conf, with the defaults. */
void vgl__load_alarms(struct ld *l, const struct vgl__doc *d, int alarms, int channels,
		      int escalation);
void vgl_alarm_conf_free(struct vgl_alarm_conf *a);

/* profile.c */
struct vgl_conf_profile *vgl__profile_new(void);
void vgl__profile_free(struct vgl_conf_profile *p);
/* The keys of a profile in a template or a host; toks of "snmp",
 * "sources", "metrics", "availability", "sla_counters" (-1 absent). */
struct prof_toks {
	int snmp, sources, metrics, avail, counters, rules;
	int topo;               /* the host has feeds or depends_on: it may poll nothing */
};
/* A template's profile from its keys. */
void vgl__profile_compile(struct ld *l, const struct vgl__doc *d, const struct kp *tk,
			  const struct prof_toks *t, struct vgl_conf_profile *p, int **when_tok,
			  int **rule_toks);
/* A host's own profile: base (its template's, may be NULL) with the host's
 * keys laid over. NULL when out of memory. */
struct vgl_conf_profile *vgl__profile_for_host(struct ld *l, const struct vgl__doc *d, int obj,
					       const struct kp *hk, const struct prof_toks *h,
					       struct tmpl *t, const char *host_name,
					       size_t errs_before);
/* Each source's back end on one host's address (addr_tok at akp). */
void vgl__profile_host_check(struct ld *l, const struct vgl_conf_profile *p,
			     const struct vgl__doc *d, int addr_tok, const struct kp *akp,
			     const char *address);
/* The template used as is: checked once, at the template. */
void vgl__template_check(struct ld *l, struct tmpl *t);

/* counters_load.c: the "sla_counters" object obj against p's metrics
 * (owner "template" or "host", for messages); 0 and *out, or -1 after
 * reporting. And a template's pair for a host's profile: 0, -1 (out of
 * memory) or -2 (a name is gone, or the two now come from two sources). */
int vgl__parse_counters(struct ld *l, const struct vgl__doc *d, int obj, const struct kp *kp,
			const struct vgl_conf_profile *p, const char *owner,
			struct vgl_conf_counters *out);
int vgl__counters_rebind(struct vgl_conf_counters *dst, const struct vgl_conf_counters *src,
			 const struct vgl_conf_profile *p);

/* policy_load.c */
int vgl__make_presets(struct vgl_conf *c);
void vgl__preset_list(const struct vgl_conf *c, char *buf, size_t n);
void vgl__load_sla(struct ld *l, const struct vgl__doc *d, int obj);
void vgl__load_policies(struct ld *l, const struct vgl__doc *d, int obj);

/* parse.c: a secret file (st: as stat'ed or as opened) is a regular file
 * only its owner may read, owned by root, this process's user or the main
 * file's owner. 1 (error reported at d's token v) or 0. */
struct stat;
int vgl__secret_file_bad(struct ld *l, const struct vgl__doc *d, int v, const struct kp *kp,
			 const char *path, const struct stat *st);

/* api_load.c: "api" (token obj) into c->api. */
void vgl__load_api(struct ld *l, const struct vgl__doc *d, int obj);
void vgl_conf_api_free(struct vgl_conf_api *a);

/* parse.c: the back ends' top-level keys, once per load. */
void vgl__load_backend_globals(struct ld *l, const struct vgl__doc *md, int main_obj);
int vgl__backend_owns_key(const struct vgl__doc *d, int k);

#endif
