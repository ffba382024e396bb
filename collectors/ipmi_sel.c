/* The SEL side of one IPMI poll (collectors/ipmi_io_int.h): the cursor,
 * the entries new since it and their text, and the class attribution
 * reads them by.
 *
 * SEL. The cursor is "sel1:ID:RECTS:ERASETS:ADDTS:ENTRIES": the id and
 * timestamp of the last entry taken (0:0 when the SEL was empty), and Get
 * SEL Info's last erase time, last addition time and entry count then. A
 * changed erase time, or the cursor's entry gone or holding another
 * timestamp, mean the SEL was cleared or wrapped: reading starts over at
 * its first entry after one CLEARED event. Fewer entries alone (entries
 * deleted) only make the cursor's entry be looked up. Unchanged count and
 * addition time after a poll that reached the end cost one request (Get
 * SEL Info). Nothing here ever deletes or clears an entry.
 */
#include "collectors/ipmi_io_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <freeipmi/spec/ipmi-timestamp-spec.h>

/* ---- the SEL class table ------------------------------------------------ */

#define ANY 0xFF
#define F VGL_BMC_EV_FAULT
#define O VGL_BMC_EV_ORDERLY
#define C VGL_BMC_EV_COMMAND

/* Sensor-specific (event type 6Fh) assertions that say more than INFO, by
 * IPMI 2.0 table 42-3. Left INFO on purpose: predictive failures,
 * correctable errors, presence, redundancy, and AC or PSU input lost
 * (that is the feed failing, not the server: it reaches attribution
 * through the chassis "AC failed" bit and the feed topology). */
#define ROW(type, offset, cls) { IPMI_SENSOR_TYPE_##type, IPMI_SENSOR_TYPE_##type##_##offset, cls }
static const struct { uint8_t type, offset, cls; } sensor_specific[] = {
	ROW(PROCESSOR, IERR, F),
	ROW(PROCESSOR, THERMAL_TRIP, F),
	ROW(PROCESSOR, FRB1_BIST_FAILURE, F),
	ROW(PROCESSOR, FRB2_HANG_IN_POST_FAILURE, F),
	ROW(PROCESSOR, FRB3_PROCESSOR_STARTUP_INITIALIZATION_FAILURE, F),
	ROW(PROCESSOR, CONFIGURATION_ERROR, F),
	ROW(PROCESSOR, SMBIOS_UNCORRECTABLE_CPU_COMPLEX_ERROR, F),
	ROW(PROCESSOR, MACHINE_CHECK_EXCEPTION, F),
	ROW(POWER_SUPPLY, POWER_SUPPLY_FAILURE_DETECTED, F),
	/* power off and power cycle are what a BMC logs on a chassis command */
	ROW(POWER_UNIT, POWER_OFF_POWER_DOWN, C),
	ROW(POWER_UNIT, POWER_CYCLE, C),
	ROW(POWER_UNIT, 240VA_POWER_DOWN, F),
	ROW(POWER_UNIT, INTERLOCK_POWER_DOWN, F),
	ROW(POWER_UNIT, SOFT_POWER_CONTROL_FAILURE, F),
	ROW(POWER_UNIT, POWER_UNIT_FAILURE_DETECTED, F),
	ROW(MEMORY, UNCORRECTABLE_MEMORY_ERROR, F),
	ROW(MEMORY, PARITY, F),
	ROW(MEMORY, MEMORY_SCRUB_FAILED, F),
	ROW(MEMORY, CRITICAL_OVERTEMPERATURE, F),
	ROW(DRIVE_SLOT, DRIVE_FAULT, F),
	ROW(DRIVE_SLOT, IN_FAILED_ARRAY, F),
	/* a watchdog acted (or expired): the OS stopped answering it */
	ROW(WATCHDOG1, BIOS_WATCHDOG_RESET, F),
	ROW(WATCHDOG1, OS_WATCHDOG_RESET, F),
	ROW(WATCHDOG1, OS_WATCHDOG_SHUT_DOWN, F),
	ROW(WATCHDOG1, OS_WATCHDOG_POWER_DOWN, F),
	ROW(WATCHDOG1, OS_WATCHDOG_POWER_CYCLE, F),
	ROW(WATCHDOG1, OS_WATCHDOG_NMI_DIAGNOSTIC_INTERRUPT, F),
	ROW(WATCHDOG1, OS_WATCHDOG_EXPIRED_STATUS_ONLY, F),
	ROW(SYSTEM_EVENT, UNDETERMINED_SYSTEM_HARDWARE_FAILURE, F),
	/* every NMI and uncorrectable bus error but the correctable and
	 * degraded ones; the front panel NMI is pressed on a hung system */
	ROW(CRITICAL_INTERRUPT, FRONT_PANEL_NMI_DIAGNOSTIC_INTERRUPT, F),
	ROW(CRITICAL_INTERRUPT, BUS_TIMEOUT, F),
	ROW(CRITICAL_INTERRUPT, IO_CHANNEL_CHECK_NMI, F),
	ROW(CRITICAL_INTERRUPT, SOFTWARE_NMI, F),
	ROW(CRITICAL_INTERRUPT, PCI_PERR, F),
	ROW(CRITICAL_INTERRUPT, PCI_SERR, F),
	ROW(CRITICAL_INTERRUPT, EISA_FAIL_SAFE_TIMEOUT, F),
	ROW(CRITICAL_INTERRUPT, BUS_UNCORRECTABLE_ERROR, F),
	ROW(CRITICAL_INTERRUPT, FATAL_NMI, F),
	ROW(CRITICAL_INTERRUPT, BUS_FATAL_ERROR, F),
	/* a person at the chassis: counted with the commands */
	ROW(BUTTON_SWITCH, POWER_BUTTON_PRESSED, C),
	ROW(BUTTON_SWITCH, RESET_BUTTON_PRESSED, C),
	ROW(CHIP_SET, SOFT_POWER_CONTROL_FAILURE, F),
	ROW(CHIP_SET, THERMAL_TRIP, F),
	/* hard and warm resets come from a command or the reset button; the
	 * OS resetting itself is a reboot, orderly; power-up and "system
	 * restart" carry no cause here */
	ROW(SYSTEM_BOOT_INITIATED, INITIATED_BY_HARD_RESET, C),
	ROW(SYSTEM_BOOT_INITIATED, INITIATED_BY_WARM_RESET, C),
	ROW(SYSTEM_BOOT_INITIATED, OS_RUN_TIME_SOFTWARE_INITIATED_HARD_RESET, O),
	ROW(SYSTEM_BOOT_INITIATED, OS_RUN_TIME_SOFTWARE_INITIATED_WARM_RESET, O),
	{ IPMI_SENSOR_TYPE_BOOT_ERROR, ANY, F },
	ROW(OS_CRITICAL_STOP, CRITICAL_STOP_DURING_OS_LOAD, F),
	ROW(OS_CRITICAL_STOP, RUN_TIME_CRITICAL_STOP, F),
	ROW(OS_CRITICAL_STOP, OS_GRACEFUL_STOP, O),
	ROW(OS_CRITICAL_STOP, OS_GRACEFUL_SHUTDOWN, O),
	/* PEF asked the OS to shut down and it did, gracefully; whatever
	 * triggered PEF is an entry of its own */
	ROW(OS_CRITICAL_STOP, SOFT_SHUTDOWN_INITIATED_BY_PEF, O),
	ROW(SYSTEM_ACPI_POWER_STATE, S5_G2, O),
	ROW(SYSTEM_ACPI_POWER_STATE, S4_S5_SOFT_OFF, O),
	/* the power button held down: a person forced it off */
	ROW(SYSTEM_ACPI_POWER_STATE, S5_ENTERED_BY_OVERRIDE, C),
	ROW(WATCHDOG2, TIMER_EXPIRED, F),
	ROW(WATCHDOG2, HARD_RESET, F),
	ROW(WATCHDOG2, POWER_DOWN, F),
	ROW(WATCHDOG2, POWER_CYCLE, F),
};
#undef ROW

#undef F
#undef O
#undef C

#define GENERIC(offset) IPMI_GENERIC_EVENT_READING_TYPE_CODE_##offset

enum vgl_bmc_event_class vgl_ipmi_sel_class(uint8_t sensor_type, uint8_t event_type,
					    uint8_t offset, int deassert)
{
	/* a condition going away is never the cause of an outage */
	if (deassert)
		return VGL_BMC_EV_INFO;
	offset &= 0x0F;
	if (event_type == IPMI_EVENT_READING_TYPE_CODE_THRESHOLD) {
		/* crossing a critical or non-recoverable threshold outward;
		 * non-critical ones and the way back are INFO */
		switch (offset) {
		case GENERIC(THRESHOLD_LOWER_CRITICAL_GOING_LOW):
		case GENERIC(THRESHOLD_LOWER_NON_RECOVERABLE_GOING_LOW):
		case GENERIC(THRESHOLD_UPPER_CRITICAL_GOING_HIGH):
		case GENERIC(THRESHOLD_UPPER_NON_RECOVERABLE_GOING_HIGH):
			return VGL_BMC_EV_FAULT;
		default:
			return VGL_BMC_EV_INFO;
		}
	}
	if (event_type == IPMI_EVENT_READING_TYPE_CODE_TRANSITION_SEVERITY) {
		switch (offset) {
		case GENERIC(TRANSITION_SEVERITY_TRANSITION_TO_CRITICAL_FROM_LESS_SEVERE):
		case GENERIC(TRANSITION_SEVERITY_TRANSITION_TO_NON_RECOVERABLE_FROM_LESS_SEVERE):
		case GENERIC(TRANSITION_SEVERITY_TRANSITION_TO_NON_RECOVERABLE):
			return VGL_BMC_EV_FAULT;
		default:
			return VGL_BMC_EV_INFO;
		}
	}
	if (event_type != IPMI_EVENT_READING_TYPE_CODE_SENSOR_SPECIFIC)
		return VGL_BMC_EV_INFO;
	for (size_t i = 0; i < sizeof(sensor_specific) / sizeof(sensor_specific[0]); i++)
		if (sensor_specific[i].type == sensor_type &&
		    (sensor_specific[i].offset == ANY || sensor_specific[i].offset == offset))
			return (enum vgl_bmc_event_class)sensor_specific[i].cls;
	return VGL_BMC_EV_INFO;
}

#undef GENERIC
#undef ANY

/* ---- the cursor ----------------------------------------------------------- */

int vgl__ipmi_parse_cursor(const char *c, struct sel_pos *p)
{
	unsigned id, entries;
	unsigned long rts, ets, ats;
	int end = 0;

	if (sscanf(c, "sel1:%u:%lu:%lu:%lu:%u%n", &id, &rts, &ets, &ats, &entries, &end) != 5 ||
	    c[end] != 0 || id > 0xFFFF || entries > 0xFFFF || rts > 0xFFFFFFFFul ||
	    ets > 0xFFFFFFFFul || ats > 0xFFFFFFFFul)
		return -1;
	*p = (struct sel_pos){ (uint16_t)id, (uint32_t)rts, (uint32_t)ets, (uint32_t)ats,
			       (uint16_t)entries };
	return 0;
}

void vgl__ipmi_format_cursor(const struct sel_pos *p, char *buf, size_t len)
{
	snprintf(buf, len, "sel1:%u:%lu:%lu:%lu:%u", (unsigned)p->id, (unsigned long)p->rec_ts,
		 (unsigned long)p->erase_ts, (unsigned long)p->add_ts, (unsigned)p->entries);
}

/* ---- SEL ------------------------------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t bmc_ms(uint32_t ts)
{
	/* up to 20000000h the clock counts from the BMC's start, not 1970 */
	if (ts <= IPMI_TIMESTAMP_POST_INIT_MAX || ts == IPMI_TIMESTAMP_UNSPECIFIED)
		return 0;
	return (int64_t)ts * 1000;
}

/* The SDR sensor a SEL entry is about: same number and sensor type, from
 * the generator's controller if there are several. A number whose SDR
 * sensor has another type is some other sensor (an entry added by
 * software, an event-only sensor): NULL. */
static const struct sdr_sensor *sensor_of(const struct vgl_ipmi_bmc *b, uint8_t gen,
					  uint8_t number, uint8_t type)
{
	const struct sdr_sensor *any = NULL;

	if (!b->sdr_valid)
		return NULL;
	for (size_t i = 0; i < b->sdr.n; i++) {
		const struct sdr_sensor *s = &b->sdr.s[i];

		if (s->number != number || s->type != type)
			continue;
		if (s->owner == gen)
			return s;
		if (!any)
			any = s;
	}
	return any;
}

static const char *const threshold_names[12] = {
	"Lower Non-critical going low", "Lower Non-critical going high",
	"Lower Critical going low", "Lower Critical going high",
	"Lower Non-recoverable going low", "Lower Non-recoverable going high",
	"Upper Non-critical going low", "Upper Non-critical going high",
	"Upper Critical going low", "Upper Critical going high",
	"Upper Non-recoverable going low", "Upper Non-recoverable going high",
};

static void append_value(char *buf, size_t len, const char *what, const struct sdr_sensor *s,
			 uint8_t raw)
{
	size_t n = strlen(buf);
	double v;

	if (n >= len)
		return;
	if (s && s->convert &&
	    ipmi_sensor_decode_value(s->r_exp, s->b_exp, s->m, s->b, s->lin, s->fmt, raw, &v) == 0)
		snprintf(buf + n, len - n, ", %s %.6g", what, v);
	else
		snprintf(buf + n, len - n, ", %s raw 0x%02x", what, (unsigned)raw);
}

/* snprintf for texts that may be cut short at the buffer's end: through
 * vsnprintf, whose truncation the compiler does not second-guess. */
static void cut_to_fit(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cut_to_fit(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Fills e and text from one 16-byte SEL record. */
static void take_entry(const struct vgl_ipmi_bmc *b, const uint8_t *rec, struct vgl_bmc_event *e,
		       char *text, size_t len)
{
	uint8_t type = rec[2];

	e->id = (uint64_t)rec[0] | (uint64_t)rec[1] << 8;
	e->cls = VGL_BMC_EV_INFO;
	e->bmc_ts_ms = 0;
	if (type == IPMI_SEL_RECORD_TYPE_SYSTEM_EVENT_RECORD) {
		uint8_t gen = rec[7], stype = rec[10], num = rec[11], dir = rec[12] >> 7;
		uint8_t etype = rec[12] & 0x7F, ed1 = rec[13], off = ed1 & 0x0F;
		const struct sdr_sensor *s = sensor_of(b, gen, num, stype);
		char name[64], what[80];
		const char *sname;

		e->bmc_ts_ms = bmc_ms(le32(rec + 3));
		e->cls = vgl_ipmi_sel_class(stype, etype, off, dir);
		if (s) {
			snprintf(name, sizeof(name), "%s", s->name);
		} else {
			sname = ipmi_get_sensor_type_string(stype);
			snprintf(name, sizeof(name), "sensor 0x%02x (%s)", (unsigned)num,
				 sname ? sname : "unknown type");
		}
		what[0] = 0;
		if (etype == IPMI_EVENT_READING_TYPE_CODE_THRESHOLD && off < 12)
			snprintf(what, sizeof(what), "%s", threshold_names[off]);
		else if (IPMI_EVENT_READING_TYPE_CODE_IS_GENERIC(etype))
			(void)ipmi_get_generic_event_message(etype, off, what, sizeof(what));
		else if (etype == IPMI_EVENT_READING_TYPE_CODE_SENSOR_SPECIFIC)
			(void)ipmi_get_sensor_type_message(stype, off, what, sizeof(what));
		if (!what[0])
			snprintf(what, sizeof(what), "event type 0x%02x offset 0x%x", (unsigned)etype,
				 (unsigned)off);
		cut_to_fit(text, len, "%s: %s (%s)", name, what, dir ? "deassert" : "assert");
		/* threshold events say the reading and the threshold when
		 * event data 1 bits 7:6 and 5:4 are 01b */
		if (etype == IPMI_EVENT_READING_TYPE_CODE_THRESHOLD) {
			if ((ed1 >> 6) == 1)
				append_value(text, len, "reading", s, rec[14]);
			if (((ed1 >> 4) & 3) == 1)
				append_value(text, len, "threshold", s, rec[15]);
		}
	} else if (IPMI_SEL_RECORD_TYPE_IS_TIMESTAMPED_OEM(type)) {
		e->bmc_ts_ms = bmc_ms(le32(rec + 3));
		snprintf(text, len, "OEM record type 0x%02x, manufacturer 0x%06lx", (unsigned)type,
			 (unsigned long)(rec[7] | rec[8] << 8 | rec[9] << 16));
	} else if (IPMI_SEL_RECORD_TYPE_IS_NON_TIMESTAMPED_OEM(type)) {
		snprintf(text, len, "OEM record type 0x%02x", (unsigned)type);
	} else {
		snprintf(text, len, "record type 0x%02x", (unsigned)type);
	}
}

static uint32_t record_ts(const uint8_t *rec)
{
	return IPMI_SEL_RECORD_TYPE_IS_NON_TIMESTAMPED_OEM(rec[2]) ? 0 : le32(rec + 3);
}

/* 1 with the record, 0 when the BMC has no such entry, SOFT or FATAL. */
static int sel_entry(struct run *r, fiid_obj_t rs, uint16_t id, uint8_t *rec, uint16_t *next)
{
	uint64_t v;
	int n = 0;

	if (vgl__ipmi_begin(r, "Get SEL Entry") != 0)
		return FATAL;
	fiid_obj_clear(rs);
	/* a whole record needs no reservation (ID 0) */
	if (ipmi_cmd_get_sel_entry(r->ctx, 0, id, 0, IPMI_SEL_READ_ENTIRE_RECORD_BYTES_TO_READ,
				   rs) < 0) {
		if (vgl__ipmi_comp_code(rs) ==
			    IPMI_COMP_CODE_REQUESTED_SENSOR_DATA_OR_RECORD_NOT_PRESENT &&
		    vgl__ipmi_left_ms(r) > 0)
			return 0;
		return vgl__ipmi_cmd_failed(r, rs);
	}
	if (vgl__ipmi_get_u64(rs, "next_record_id", &v) != 0 ||
	    (n = fiid_obj_get_data(rs, "record_data", rec, 16)) != 16) {
		if (!r->soft_noted) {
			r->soft_noted = 1;
			snprintf(r->out->detail, sizeof(r->out->detail),
				 "Get SEL Entry: answer of %d bytes for a 16-byte record", n);
		}
		return SOFT;
	}
	*next = (uint16_t)v;
	return 1;
}

static int sel_info(struct run *r, struct sel_pos *p)
{
	fiid_obj_t rs;
	uint64_t n, a, e;
	int rc = DONE;

	if (vgl__ipmi_begin(r, "Get SEL Info") != 0)
		return FATAL;
	if (!(rs = fiid_obj_create(tmpl_cmd_get_sel_info_rs))) {
		vgl__ipmi_set_q(r, VGL_Q_ERROR, "%s: %s", r->step, strerror(errno));
		return FATAL;
	}
	if (ipmi_cmd_get_sel_info(r->ctx, rs) < 0)
		rc = vgl__ipmi_cmd_failed(r, rs);
	else if (vgl__ipmi_get_u64(rs, "entries", &n) != 0 ||
		 vgl__ipmi_get_u64(rs, "most_recent_addition_timestamp", &a) != 0 ||
		 vgl__ipmi_get_u64(rs, "most_recent_erase_timestamp", &e) != 0)
		rc = vgl__ipmi_cmd_failed(r, rs);
	else {
		p->entries = (uint16_t)n;
		p->add_ts = (uint32_t)a;
		p->erase_ts = (uint32_t)e;
	}
	fiid_obj_destroy(rs);
	return rc;
}

/* Reads the entries new since the cursor into out. The position reached
 * goes to *np and *at_end; committed by the caller when the poll
 * succeeds. */
int vgl__ipmi_read_sel(struct run *r, struct sel_pos *np, int *at_end)
{
	struct vgl_ipmi_bmc *b = r->b;
	struct vgl_ipmi_reading *out = r->out;
	struct sel_pos info = { 0 };
	fiid_obj_t rs;
	uint8_t rec[16];
	uint16_t rid = SEL_NONE, next = SEL_NONE;
	int rc, cleared = 0;

	*np = b->sel;
	*at_end = b->sel_at_end;
	if ((rc = sel_info(r, &info)) != DONE)
		return rc;
	if (!(rs = fiid_obj_create(tmpl_cmd_get_sel_entry_rs))) {
		vgl__ipmi_set_q(r, VGL_Q_ERROR, "Get SEL Entry: %s", strerror(errno));
		return FATAL;
	}
	np->erase_ts = info.erase_ts;
	np->add_ts = info.add_ts;
	np->entries = info.entries;
	if (!b->have_cursor) {
		/* history is not evidence: start at the end */
		np->id = 0;
		np->rec_ts = 0;
		if (info.entries) {
			rc = sel_entry(r, rs, SEL_NONE, rec, &next);    /* FFFFh: the last */
			if (rc < 0)
				goto out;
			if (rc == 1) {
				np->id = (uint16_t)(rec[0] | rec[1] << 8);
				np->rec_ts = record_ts(rec);
			}
		}
		*at_end = 1;
		rc = DONE;
		goto out;
	}
	/* Fewer entries without an erase is a wrap or a deletion: the
	 * cursor's entry decides. Still there, what follows it is intact
	 * and starting over would replay old entries as new; gone (or
	 * another entry under its id), what followed it may be lost. */
	if (info.erase_ts != b->sel.erase_ts) {
		cleared = 1;
	} else if (b->sel.id == 0) {
		rid = info.entries ? 0x0000 : SEL_NONE;         /* 0000h: the first */
	} else if (b->sel_at_end && info.add_ts == b->sel.add_ts &&
		   info.entries == b->sel.entries) {
		rid = SEL_NONE;         /* nothing added since: one request this poll */
	} else {
		rc = sel_entry(r, rs, b->sel.id, rec, &next);
		if (rc < 0)
			goto out;
		if (rc == 0 || record_ts(rec) != b->sel.rec_ts)
			cleared = 1;    /* gone, or its id holds another entry now */
		else
			rid = next;
	}
	if (cleared) {
		struct vgl_bmc_event *e = &out->events[out->n_events];

		snprintf(out->event_text[out->n_events], sizeof(out->event_text[0]),
			 "the SEL was cleared or wrapped since it was last read: entries may be lost");
		*e = (struct vgl_bmc_event){ 0, bmc_ms(info.erase_ts), VGL_BMC_EV_CLEARED,
					     out->event_text[out->n_events] };
		out->n_events++;
		out->sel_cleared = 1;
		np->id = 0;
		np->rec_ts = 0;
		rid = info.entries ? 0x0000 : SEL_NONE;
	}
	while (rid != SEL_NONE && out->n_events < VGL_IPMI_MAX_EVENTS) {
		struct vgl_bmc_event *e = &out->events[out->n_events];

		rc = sel_entry(r, rs, rid, rec, &next);
		if (rc == 0)
			break;  /* gone between Get SEL Info and now: the next poll sees why */
		if (rc < 0)
			goto out;
		take_entry(b, rec, e, out->event_text[out->n_events], sizeof(out->event_text[0]));
		e->text = out->event_text[out->n_events];
		out->n_events++;
		np->id = (uint16_t)(rec[0] | rec[1] << 8);
		np->rec_ts = record_ts(rec);
		if (next == rid)
			break;  /* a BMC pointing at itself would loop */
		rid = next;
	}
	*at_end = rid == SEL_NONE;
	rc = DONE;
out:
	fiid_obj_destroy(rs);
	return rc;
}
