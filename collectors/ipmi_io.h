/* One IPMI poll of one BMC, blocking: the threadpool side of the IPMI
 * collector (collectors/ipmi.c). FreeIPMI's libraries over LAN_2_0
 * (RMCP+), one session per call, opened and closed within it.
 *
 * Threads: vgl_ipmi_poll runs on a libuv worker; the loop never calls into
 * FreeIPMI. A struct vgl_ipmi_bmc is used by one call at a time (the
 * collector keeps one job per BMC in flight) and owned by the loop
 * between calls.
 *
 * Deadline: a BMC that stops answering, at any step, returns within
 * timeout_ms (plus scheduling): the whole call, not each request, is
 * bounded. FreeIPMI cannot change a session's timeouts once it is open, so
 * the session is opened with session timeout = the time left and
 * retransmission timeout = a third of it, the time left is checked before
 * each request, and a per-call timer signal aimed at the calling thread
 * (a real-time signal with an empty handler, installed once; skipped when
 * the process already handles that signal) interrupts FreeIPMI's wait at
 * the deadline (collectors/ipmi_io.c). Name resolution (getaddrinfo) is
 * outside that bound: give BMCs as address literals.
 */
#ifndef VGL_IPMI_IO_H
#define VGL_IPMI_IO_H

#include <stddef.h>
#include <stdint.h>

#include "core/bmc.h"
#include "core/quality.h"

struct vgl_ipmi_bmc;    /* per-BMC state kept between polls: the SDR cache
			 * and its repository timestamps, the SEL cursor */

struct vgl_ipmi_target {
	const char *host;       /* IPv4/IPv6 literal or name */
	uint16_t port;          /* 623 */
	const char *username, *password;
	uint8_t cipher_suite;   /* 0..17 */
	int privilege;          /* enum vgl_bmc_priv (collectors/bmc_conf.h) */
	uint32_t timeout_ms;    /* the whole call's deadline */
};

/* One sensor read from the SDR's full and compact sensor records. */
struct vgl_ipmi_sensor {
	char name[40];          /* SDR id string ("CPU Temp"; a shared compact
				 * record's sensors get its instance suffix) */
	char unit[24];          /* "degrees C", "RPM", "" */
	double value;           /* converted reading; valid when have_value. A
				 * discrete sensor's is its state bits (bit n:
				 * offset n asserted) */
	int have_value;         /* 0: reading unavailable / scanning disabled,
				 * or a sensor behind another controller (not
				 * bridged) */
	int state;              /* enum vgl_bmc_state from the threshold or
				 * discrete state bits; UNKNOWN without a reading */
};

#define VGL_IPMI_MAX_SENSORS 256
#define VGL_IPMI_MAX_EVENTS 64  /* new SEL entries taken per poll; the rest next poll */

/* Whatever the quality, the sensors read before a failure are listed;
 * with quality != OK no events are given (n_events 0, sel_cleared 0) and
 * the cursor stays put, so the next poll reads those entries again. */
struct vgl_ipmi_reading {
	enum vgl_quality quality;       /* VGL_Q_OK, TIMEOUT, AUTH, REFUSED, ERROR */
	char detail[160];               /* why, when quality != OK ("no answer within
					 * 2000 ms (2000 ms spent) during Get SEL
					 * Entry"); with OK, the first command the BMC
					 * refused, if any (the poll still counts) */
	int power;                      /* enum vgl_bmc_power */
	unsigned last_power_event;      /* VGL_BMC_LPE_* */
	size_t n_sensors;
	struct vgl_ipmi_sensor sensors[VGL_IPMI_MAX_SENSORS];
	size_t n_events;
	struct vgl_bmc_event events[VGL_IPMI_MAX_EVENTS];
	char event_text[VGL_IPMI_MAX_EVENTS][128];      /* events[i].text points here */
	int sdr_reread;                 /* the SDR was (re)read in this poll (a long
					 * one may take several polls) */
	int sel_cleared;                /* the SEL was cleared or wrapped since the cursor */
	char cursor[64];                /* the SEL cursor after this poll, "" before
					 * the first that read the SEL:
					 * "sel1:ID:RECTS:ERASETS:ADDTS:ENTRIES" */
};

/* NULL when out of memory. cursor: a cursor an earlier run stored, or
 * NULL; with none (or one this version cannot read), the first poll reads
 * no old entries: it sets the cursor to the SEL's last record (history is
 * not evidence). */
struct vgl_ipmi_bmc *vgl_ipmi_bmc_new(const char *cursor);
void vgl_ipmi_bmc_free(struct vgl_ipmi_bmc *b);

/* Opens a session, reads the chassis status, the SDR (only when the
 * repository's addition/erase timestamps moved since the cached copy),
 * every sensor, and the SEL entries after the cursor; closes the
 * session. Fills *out (every field, whatever the quality). Never clears
 * the SEL. */
void vgl_ipmi_poll(struct vgl_ipmi_bmc *b, const struct vgl_ipmi_target *t,
		   struct vgl_ipmi_reading *out);

/* The class of one SEL system event record for attribution (exposed for
 * its unit test): sensor type, event type, event data 1 offset, and
 * direction (1 deassertion). */
enum vgl_bmc_event_class vgl_ipmi_sel_class(uint8_t sensor_type, uint8_t event_type,
					    uint8_t offset, int deassert);

#endif
