/* net-snmp's MIB parser behind three calls. See collectors/snmp_mib.h.
 *
 * Quietness: net-snmp prints "Cannot find module" and parse errors through
 * snmp_log, and at init it reads a long default module list most of which
 * Debian does not ship. So the init turns MIB errors and warnings off,
 * loads no default modules, and modules are only read after checking that
 * a searched directory has them (which_module), because the "MIB search
 * path" line it prints for a missing module ignores the error switch. */
#include "collectors/snmp_mib.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <net-snmp/net-snmp-includes.h>

#ifndef VGL_MIBDIR
#define VGL_MIBDIR "/usr/share/vigil/mibs"
#endif

static pthread_once_t mib_once = PTHREAD_ONCE_INIT;
static int mib_ok;

const char *vgl_snmp_mib_shipped_dir(void)
{
	const char *d = getenv("VIGIL_MIBDIR");
	return d && *d ? d : VGL_MIBDIR;
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void mib_init_once(void)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_ERRORS, 0);
	netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
	snmp_set_save_descriptions(0);
	/* An empty MIBS stops net-snmp's default module list (dozens of
	 * modules Debian lacks) from being read, with noise, at init. This
	 * runs once, before any other thread exists in vigild or vigil. */
	if (setenv("MIBS", "", 1) != 0)
		return;
	/* The shipped dir goes in first: net-snmp lets the directory added
	 * last win for a module both have, so every dir added later (system
	 * or config) takes precedence over the project's minimal modules. */
	netsnmp_set_mib_directory(vgl_snmp_mib_shipped_dir());
	netsnmp_init_mib();
	mib_ok = get_tree_head() != NULL;
	/* The first module net-snmp cannot find (say one a vendor MIB
	 * imports) makes it print the search path once per process, whatever
	 * the error switch says. Spend that once here, into a discarding log
	 * handler, so it never reaches stderr. */
	{
		netsnmp_log_handler *h = netsnmp_register_loghandler(NETSNMP_LOGHANDLER_NONE,
								     LOG_DEBUG);
		if (h) {
			netsnmp_read_module("VIGIL-NO-SUCH-MODULE");
			netsnmp_remove_loghandler(h);
		}
	}
}

int vgl_snmp_mib_use_dirs(const char *const *dirs, size_t n)
{
	static const char *const sys[] = {
		"/usr/share/snmp/mibs", "~/.snmp/mibs",
		"/usr/share/snmp/mibs/iana", "/usr/share/snmp/mibs/ietf",
	};
	char home[PATH_MAX];

	if (pthread_once(&mib_once, mib_init_once) != 0 || !mib_ok)
		return -1;
	if (n == 0) {
		dirs = sys;
		n = sizeof(sys) / sizeof(sys[0]);
	}
	/* Added lowest priority first, since the last added wins. */
	for (size_t i = n; i-- > 0;) {
		const char *d = dirs[i];
		if (d[0] == '~' && d[1] == '/') {
			const char *h = getenv("HOME");
			int w;
			if (!h)
				continue;
			w = snprintf(home, sizeof(home), "%s%s", h, d + 1);
			if (w < 0 || (size_t)w >= sizeof(home))
				continue;
			d = home;
		}
		if (is_dir(d))
			add_mibdir(d);
	}
	return 0;
}

int vgl_snmp_mib_load_module(const char *name)
{
	if (pthread_once(&mib_once, mib_init_once) != 0 || !mib_ok)
		return -1;
	if (which_module(name) < 0)
		return -1;
	netsnmp_read_module(name);
	return 0;
}

/* ".1.3.6.1" or "1.3.6.1": digits and dots only, parsed here so numeric
 * OIDs never depend on the MIB layer. 1 = numeric and valid, 0 = not
 * numeric, -1 = numeric but malformed. */
static int parse_numeric(const char *s, oid *out, size_t *len)
{
	const char *p = s;
	size_t n = 0;

	if (*p == '.')
		p++;
	if (!isdigit((unsigned char)*p))
		return *p == '\0' && p != s ? -1 : 0;
	for (const char *q = p; *q; q++)
		if (!isdigit((unsigned char)*q) && *q != '.')
			return 0;
	while (*p) {
		unsigned long long v = 0;
		if (!isdigit((unsigned char)*p) || n == MAX_OID_LEN)
			return -1;
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (unsigned)(*p++ - '0');
			if (v > 0xffffffffULL)
				return -1;
		}
		out[n++] = (oid)v;
		if (*p == '.') {
			p++;
			if (!*p)
				return -1;
		}
	}
	*len = n;
	return n >= 2 ? 1 : -1;
}

void vgl_snmp_mib_free_enums(struct vgl_conf_enum *enums, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(enums[i].label);
	free(enums);
}

static int copy_enums(const struct enum_list *el, struct vgl_conf_enum **enums, size_t *n_enums)
{
	size_t n = 0, i = 0;
	struct vgl_conf_enum *e;

	for (const struct enum_list *p = el; p; p = p->next)
		n++;
	if (n == 0)
		return 0;
	e = calloc(n, sizeof(*e));
	if (!e)
		return -1;
	for (const struct enum_list *p = el; p; p = p->next, i++) {
		e[i].value = p->value;
		e[i].label = strdup(p->label ? p->label : "");
		if (!e[i].label) {
			vgl_snmp_mib_free_enums(e, i);
			return -1;
		}
	}
	*enums = e;
	*n_enums = n;
	return 0;
}

int vgl_snmp_mib_resolve(const char *text, oid *out, size_t *out_len,
		     struct vgl_conf_enum **enums, size_t *n_enums,
		     char *msg, size_t msglen)
{
	char module[128];
	const char *sep;
	struct tree *tp;
	int r;

	*enums = NULL;
	*n_enums = 0;
	r = parse_numeric(text, out, out_len);
	if (r == 1)
		return 0;
	if (r < 0) {
		snprintf(msg, msglen, "malformed numeric OID '%s'", text);
		return -1;
	}
	sep = strstr(text, "::");
	if (!sep || sep == text || (size_t)(sep - text) >= sizeof(module) || !sep[2]) {
		snprintf(msg, msglen, "'%s' is neither a numeric OID (.1.3.6...) "
			 "nor a MIB name (MODULE::object)", text);
		return -1;
	}
	memcpy(module, text, (size_t)(sep - text));
	module[sep - text] = '\0';
	if (vgl_snmp_mib_load_module(module) != 0) {
		snprintf(msg, msglen, "cannot resolve '%s': MIB module '%s' not found",
			 text, module);
		return -1;
	}
	*out_len = MAX_OID_LEN;
	if (!read_objid(text, out, out_len)) {
		snprintf(msg, msglen, "cannot resolve '%s': no such object in MIB module '%s'",
			 text, module);
		return -1;
	}
	tp = get_tree(out, *out_len, get_tree_head());
	if (tp && tp->enums && copy_enums(tp->enums, enums, n_enums) != 0) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	return 0;
}
