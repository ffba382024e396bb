/* MIB name resolution for the SNMP back end's config (collectors/
 * snmp_conf.c), over net-snmp's MIB parser: the rest of vigil sees only
 * resolved OIDs and enums.
 *
 * net-snmp keeps one MIB tree per process and cannot unload a module, so
 * the MIB layer is initialised once; each config load only adds search
 * directories and reads modules into that tree. A module read by one load
 * stays loaded for the life of the process. */
#ifndef VGL_SNMP_MIB_H
#define VGL_SNMP_MIB_H

#include <stddef.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/types.h>

#include "conf/conf.h"

/* Makes dirs (highest priority first) the places modules are looked up in,
 * ahead of the project's shipped directory. n == 0 means the system dirs.
 * Missing dirs are skipped. 0, or -1 if net-snmp could not be set up. */
int vgl_snmp_mib_use_dirs(const char *const *dirs, size_t n);

/* Reads a module by name. 0, or -1 when no searched directory has it. */
int vgl_snmp_mib_load_module(const char *name);

/* "MODULE::name[.index...]" or a numeric ".1.3.6..." into oid/len, with the
 * enumerated labels of the MIB object it names (*enums NULL and *n_enums 0
 * when none; free with vgl_snmp_mib_free_enums). 0, or -1 with a message. */
int vgl_snmp_mib_resolve(const char *text, oid *out, size_t *out_len,
		     struct vgl_conf_enum **enums, size_t *n_enums,
		     char *msg, size_t msglen);

void vgl_snmp_mib_free_enums(struct vgl_conf_enum *enums, size_t n);

/* The shipped module directory: $VIGIL_MIBDIR, else VGL_MIBDIR. */
const char *vgl_snmp_mib_shipped_dir(void);

#endif
