/* One host's month computed from the database, and the customer totals of
 * a report: what `vigil sla --month` does between reading its arguments
 * and printing (docs/cli.md, docs/sla.md), for the CLI today and an HTTP
 * API tomorrow. Nothing here prints or exits: errors are a return code and
 * a message in err.
 *
 * Memory stays at one host-month: vgl_host_month streams the host's
 * intervals, maintenance windows and counter samples from the database
 * into one calc; the caller reports it and frees it before the next host.
 * What a whole report keeps is one small record per customer (struct
 * vgl_sla_totals) and the daemon's observed spans, which are per database,
 * not per host, and read once per month bounds (struct vgl_sla_source).
 *
 * Borrowed strings: a host's name and customer are the config's; the
 * config must outlive the month objects and the totals made from it.
 */
#ifndef VGL_SLA_HOST_MONTH_H
#define VGL_SLA_HOST_MONTH_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "sla/sla.h"
#include "storage/sla_db.h"

struct vgl_jw;
struct vgl_host_month;

/* Return codes of vgl_host_month. */
enum vgl_host_month_rc {
	VGL_HOST_MONTH_OK = 0,
	VGL_HOST_MONTH_DB = -1,         /* err: SQLite's reason (the caller names the database) */
	VGL_HOST_MONTH_NOMEM = -2,      /* err: "out of memory" */
	VGL_HOST_MONTH_HOST = -3,       /* err: why this host cannot be computed, naming it:
					 * no service, a zone without that month, a policy
					 * the core refuses, the computation failing */
};

/* The database side of one report: sdb (the caller's; it must outlive the
 * source) and the observed spans read for the last month bounds asked. A
 * report's reads are one snapshot when the caller wraps them in
 * vgl_sla_db_snapshot_begin/end. NULL when out of memory. */
struct vgl_sla_source;
struct vgl_sla_source *vgl_sla_source_new(struct vgl_sla_db *sdb);
void vgl_sla_source_free(struct vgl_sla_source *src);

/* Host h's month (year, month) in its policy's zone, as of now_ms: its
 * intervals (an unknown cause counted as 'unknown', and counted in
 * vgl_host_month_unknown_causes), the windows of the host and its site
 * that are not cancelled, the observed spans and, for the error-rate
 * kinds, its counter samples (SNMP ones wrapping at the host's
 * sla_counters bits) fed into one calc and finished. 0 with *out (free
 * with vgl_host_month_free), or an enum vgl_host_month_rc with err. */
int vgl_host_month(struct vgl_sla_source *src, const struct vgl_conf_host *h, int year,
		   int month, int64_t now_ms, struct vgl_host_month **out, char *err,
		   size_t errlen);
void vgl_host_month_free(struct vgl_host_month *m);

const struct vgl_conf_host *vgl_host_month_host(const struct vgl_host_month *m);
/* "YYYY-MM", as --month spells it. */
const char *vgl_host_month_text(const struct vgl_host_month *m);
/* The finished calc (walk it with vgl_sla_calc_each_part / _each_maint)
 * and its result. */
const struct vgl_sla_calc *vgl_host_month_calc(const struct vgl_host_month *m);
const struct vgl_sla_result *vgl_host_month_result(const struct vgl_host_month *m);
/* Intervals whose cause no writer should have let in, counted as 'unknown'
 * (the customer must not lose by it): worth a note to the operator. */
int vgl_host_month_unknown_causes(const struct vgl_host_month *m);

/* The host's report object (docs/sla.md "The report object", coverage
 * included) plus customer and site, into the object w has open. Errors
 * stay in w. */
void vgl_host_month_json(struct vgl_jw *w, const struct vgl_host_month *m);

/* ---- customer totals ---- */

/* One customer's total over the hosts added so far. */
struct vgl_sla_total {
	const char *customer;           /* the config's string; NULL: hosts without one */
	int64_t hosts;                  /* computed */
	int64_t skipped;                /* without a service */
	int64_t breached;
	const char *const *breached_hosts;      /* their names, n_breached of them */
	size_t n_breached;
	int64_t credit_percent_hosts;   /* owed a credit in percent of their fee (> 0) */
	int64_t credit_percent_sum;
	int64_t credit_days;
	int64_t downtime_ms;
};

/* Customers in order of first appearance, found by name in O(1) (a report
 * of 10,000 hosts of 500 customers must not scan). NULL when out of
 * memory. */
struct vgl_sla_totals;
struct vgl_sla_totals *vgl_sla_totals_new(void);
void vgl_sla_totals_free(struct vgl_sla_totals *t);
/* Adds host h to its customer: m its month, or NULL for a host skipped for
 * having no service. 0, or -ENOMEM (the totals stay as they were, but for
 * a customer record that may now exist with nothing added). */
int vgl_sla_totals_add(struct vgl_sla_totals *t, const struct vgl_conf_host *h,
		       const struct vgl_host_month *m);
size_t vgl_sla_totals_count(const struct vgl_sla_totals *t);
/* i < vgl_sla_totals_count; valid until the next add. */
const struct vgl_sla_total *vgl_sla_totals_at(const struct vgl_sla_totals *t, size_t i);

/* A customer total's object (docs/cli.md, `vigil sla --json`): customer,
 * month, hosts, skipped, breached, breached_hosts, credit_percent_hosts,
 * credit_percent_sum, credit_days, downtime_ms, into the object w has
 * open. */
void vgl_sla_total_json(struct vgl_jw *w, const struct vgl_sla_total *t, const char *month);

#endif
