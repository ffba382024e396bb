/* The SDR and the sensors of one IPMI poll (collectors/ipmi_io_int.h), on
 * the threadpool with the rest of it (collectors/ipmi_io.c).
 *
 * SDR. The sensor records (full and compact) are kept in memory as what a
 * reading needs (number, owner, LUN, types, name, unit, conversion
 * factors); no file. They are read again when Get SDR Repository Info's
 * record count or addition/erase timestamps move. A large repository is
 * read over several polls: each poll spends at most half the time it has
 * left on it (one record at least) and the next resumes at the record it
 * stopped at, so a slow BMC with hundreds of records still ends up with a
 * cache, and meanwhile its sensors are read from the old one.
 */
#include "collectors/ipmi_io_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SDR_MAX_RECORDS 4096    /* a repository longer than this is looping */
#define SDR_CHUNK 16            /* partial Get SDR size when the whole record fails */
#define TOO_MANY_BYTES IPMI_COMP_CODE_CANNOT_RETURN_REQUESTED_NUMBER_OF_BYTES

/* ---- SDR ------------------------------------------------------------------- */

static void sanitize(char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
			s[i] = '?';
	while (n && s[n - 1] == ' ')
		s[--n] = 0;
}

/* The ID string at rec[at] (type/length byte, then the bytes). FreeIPMI
 * copies the bytes whatever their type; 6-bit packed ASCII (type 10b,
 * four characters in three bytes, which sdrcomp uses for names without
 * lower case) is unpacked here. */
static void id_string(const uint8_t *rec, size_t len, size_t at, char *dst, size_t cap)
{
	size_t n, k = 0;
	uint8_t tl;

	dst[0] = 0;
	if (at >= len || cap < 2)
		return;
	tl = rec[at];
	n = tl & 0x1F;
	/* the length counts bytes by the spec, characters by some tools:
	 * the record's end bounds it either way */
	if (n > len - at - 1 || (tl >> 6) == 2)
		n = len - at - 1;
	if ((tl >> 6) == 2) {
		const uint8_t *p = rec + at + 1;
		uint32_t bits = 0;
		unsigned nbits = 0;

		for (size_t i = 0; i < n && k + 1 < cap && k < 16; i++) {
			bits |= (uint32_t)p[i] << nbits;
			nbits += 8;
			while (nbits >= 6 && k + 1 < cap && k < 16) {
				dst[k++] = (char)(0x20 + (bits & 0x3F));
				bits >>= 6;
				nbits -= 6;
			}
		}
		dst[k] = 0;
	} else {
		for (size_t i = 0; i < n && k + 1 < cap && rec[at + 1 + i]; i++)
			dst[k++] = (char)rec[at + 1 + i];
		dst[k] = 0;
	}
	sanitize(dst);
}

/* Adds the sensors of one full or compact record to c (a compact record
 * may stand for several, "share count"). -1 when out of memory. */
static int sdr_take(ipmi_sdr_ctx_t sc, const uint8_t *rec, unsigned len, struct sdr_cache *c)
{
	struct sdr_sensor s;
	uint8_t rtype, id_type, owner, lun, chan, pct, mod, rate, base, modunit;
	uint8_t share = 1, mod_type = 0, mod_off = 0, entity_share = 0;
	uint16_t rid;
	char id[20];

	if (ipmi_sdr_parse_record_id_and_type(sc, rec, len, &rid, &rtype) < 0 ||
	    (rtype != IPMI_SDR_FORMAT_FULL_SENSOR_RECORD &&
	     rtype != IPMI_SDR_FORMAT_COMPACT_SENSOR_RECORD))
		return 0;
	memset(&s, 0, sizeof(s));
	if (ipmi_sdr_parse_sensor_owner_id(sc, rec, len, &id_type, &owner) < 0 ||
	    ipmi_sdr_parse_sensor_owner_lun(sc, rec, len, &lun, &chan) < 0 ||
	    ipmi_sdr_parse_sensor_number(sc, rec, len, &s.number) < 0 ||
	    ipmi_sdr_parse_sensor_type(sc, rec, len, &s.type) < 0 ||
	    ipmi_sdr_parse_event_reading_type_code(sc, rec, len, &s.ev_type) < 0)
		return 0;       /* a record FreeIPMI cannot parse is skipped */
	s.owner_sw = id_type == IPMI_SDR_SENSOR_OWNER_ID_TYPE_SYSTEM_SOFTWARE_ID;
	s.owner = (uint8_t)(owner << 1 | id_type);
	s.lun = lun;
	if (ipmi_sdr_parse_sensor_units(sc, rec, len, &pct, &mod, &rate, &base, &modunit) == 0 &&
	    base != IPMI_SENSOR_UNIT_UNSPECIFIED &&
	    ipmi_sensor_units_string(pct, mod, rate, base, modunit, s.unit, sizeof(s.unit), 0) < 0)
		s.unit[0] = 0;
	if (rtype == IPMI_SDR_FORMAT_FULL_SENSOR_RECORD) {
		if (ipmi_sdr_parse_sensor_decoding_data(sc, rec, len, &s.r_exp, &s.b_exp, &s.m, &s.b,
							&s.lin, &s.fmt) == 0)
			s.convert = IPMI_SDR_ANALOG_DATA_FORMAT_VALID(s.fmt) &&
				    IPMI_SDR_LINEARIZATION_IS_LINEAR(s.lin);
		id_string(rec, len, 47, id, sizeof(id));
	} else {
		if (ipmi_sdr_parse_sensor_record_sharing(sc, rec, len, &share, &mod_type, &mod_off,
							 &entity_share) < 0 || share == 0)
			share = 1;
		id_string(rec, len, 31, id, sizeof(id));
	}
	for (unsigned i = 0; i < share; i++) {
		struct sdr_sensor *d;

		if (c->n == VGL_IPMI_MAX_SENSORS)
			return 0;
		if (c->n == c->cap) {
			size_t ncap = c->cap ? c->cap * 2 : 32;
			struct sdr_sensor *ns = realloc(c->s, ncap * sizeof(*ns));

			if (!ns)
				return -1;
			c->s = ns;
			c->cap = ncap;
		}
		d = &c->s[c->n++];
		*d = s;
		d->number = (uint8_t)(s.number + i);
		if (share == 1) {
			snprintf(d->name, sizeof(d->name), "%s", id);
		} else if (mod_type == IPMI_SDR_ID_STRING_INSTANCE_MODIFIER_TYPE_ALPHA) {
			/* offset 0 is "A", 25 "Z", 26 "AA" */
			unsigned v = mod_off + i;

			if (v < 26)
				snprintf(d->name, sizeof(d->name), "%s %c", id, 'A' + v);
			else
				snprintf(d->name, sizeof(d->name), "%s %c%c", id, 'A' + v / 26 - 1,
					 'A' + v % 26);
		} else {
			snprintf(d->name, sizeof(d->name), "%s %u", id, mod_off + i);
		}
	}
	return 0;
}

static int reserve_sdr(struct run *r, uint16_t *resv)
{
	fiid_obj_t rs;
	uint64_t v;
	int rc = DONE;

	if (vgl__ipmi_begin(r, "Reserve SDR Repository") != 0)
		return FATAL;
	if (!(rs = fiid_obj_create(tmpl_cmd_reserve_sdr_repository_rs))) {
		vgl__ipmi_set_q(r, VGL_Q_ERROR, "%s: %s", r->step, strerror(errno));
		return FATAL;
	}
	*resv = 0;
	if (ipmi_cmd_reserve_sdr_repository(r->ctx, rs) < 0) {
		/* without reservations, whole-record reads still work */
		rc = vgl__ipmi_cmd_failed(r, rs) == FATAL ? FATAL : DONE;
	} else if (vgl__ipmi_get_u64(rs, "reservation_id", &v) == 0) {
		*resv = (uint16_t)v;
	}
	fiid_obj_destroy(rs);
	return rc;
}

/* One Get SDR: DONE with *got bytes at buf, or the completion code in
 * *cc and SOFT, or FATAL. */
static int get_sdr(struct run *r, fiid_obj_t rs, uint16_t resv, uint16_t rid, uint8_t off,
		   uint8_t count, uint8_t *buf, size_t cap, int *got, uint16_t *next, int *cc)
{
	uint64_t v;
	int n;

	*cc = -1;
	if (vgl__ipmi_begin(r, "Get SDR") != 0)
		return FATAL;
	fiid_obj_clear(rs);
	if (ipmi_cmd_get_sdr(r->ctx, resv, rid, off, count, rs) < 0) {
		*cc = vgl__ipmi_comp_code(rs);
		if (vgl__ipmi_left_ms(r) <= 0 || vgl__ipmi_session_lost(ipmi_ctx_errnum(r->ctx)))
			return vgl__ipmi_cmd_failed(r, rs);
		return SOFT;
	}
	if (vgl__ipmi_get_u64(rs, "next_record_id", &v) != 0 ||
	    (n = fiid_obj_get_data(rs, "record_data", buf, (unsigned)cap)) < 0) {
		*cc = IPMI_COMP_CODE_UNSPECIFIED_ERROR;
		return SOFT;
	}
	*next = (uint16_t)v;
	*got = n;
	return DONE;
}

/* Reads SDR record rid into rec: whole while the BMC can send whole
 * records, else (from the first refusal on, *pieces) the 5-byte header
 * and then the rest in pieces, which need the reservation: cancelled,
 * it is renewed and the record read again. DONE, SOFT (the BMC refused;
 * noted) or FATAL. */
static int read_record(struct run *r, fiid_obj_t rs, uint16_t *resv, int *pieces, uint16_t rid,
		       uint8_t *rec, unsigned *len, uint16_t *next)
{
	uint8_t part[IPMI_SDR_MAX_RECORD_LENGTH];
	int got = 0, cc, rc;
	unsigned want, off, n, chunk = SDR_CHUNK;

	for (int tries = 0; tries < 4; tries++) {
		if (!*pieces) {
			rc = get_sdr(r, rs, *resv, rid, 0, IPMI_SDR_READ_ENTIRE_RECORD_BYTES_TO_READ,
				     rec, IPMI_SDR_MAX_RECORD_LENGTH, &got, next, &cc);
			if (rc == DONE && got >= 5 && (unsigned)got >= 5u + rec[4]) {
				*len = 5u + rec[4];
				return DONE;
			}
			if (rc == FATAL)
				return FATAL;
			if (rc == SOFT && cc == IPMI_COMP_CODE_RESERVATION_CANCELLED)
				goto renew;
			/* "cannot return that many bytes" (ipmi_sim, IPMB-bound
			 * BMCs), an unspecified error, or a short answer */
			if (rc == SOFT && cc != TOO_MANY_BYTES && cc != IPMI_COMP_CODE_UNSPECIFIED_ERROR)
				return vgl__ipmi_cmd_failed(r, rs);
			*pieces = 1;
		}
		want = 5;
		for (off = 0; off < want; off += (unsigned)got) {
			n = off == 0 ? 5 : want - off < chunk ? want - off : chunk;
			rc = get_sdr(r, rs, *resv, rid, (uint8_t)off, (uint8_t)n, part, sizeof(part),
				     &got, next, &cc);
			if (rc == SOFT && cc == IPMI_COMP_CODE_RESERVATION_CANCELLED)
				goto renew;
			if (rc == SOFT && cc == TOO_MANY_BYTES && off > 0 && chunk > 4) {
				chunk -= 4;
				got = 0;
				continue;
			}
			if (rc == FATAL)
				return FATAL;
			if (rc != DONE || got <= 0 || (off == 0 && got < 5))
				return vgl__ipmi_cmd_failed(r, rs);
			if ((unsigned)got > n)
				got = (int)n;
			memcpy(rec + off, part, (size_t)got);
			if (off == 0)
				want = 5u + rec[4];
		}
		*len = want;
		return DONE;
renew:
		if ((rc = reserve_sdr(r, resv)) != DONE)
			return rc;
	}
	/* someone keeps reserving or changing the SDR under us */
	if (!r->soft_noted) {
		r->soft_noted = 1;
		snprintf(r->out->detail, sizeof(r->out->detail),
			 "Get SDR: reservation cancelled 4 times in a row");
	}
	return SOFT;
}

static int sdr_info(struct run *r, uint16_t *count, uint32_t *add_ts, uint32_t *erase_ts)
{
	fiid_obj_t rs;
	uint64_t c, a, e;
	int rc = DONE;

	if (vgl__ipmi_begin(r, "Get SDR Repository Info") != 0)
		return FATAL;
	if (!(rs = fiid_obj_create(tmpl_cmd_get_sdr_repository_info_rs))) {
		vgl__ipmi_set_q(r, VGL_Q_ERROR, "%s: %s", r->step, strerror(errno));
		return FATAL;
	}
	if (ipmi_cmd_get_sdr_repository_info(r->ctx, rs) < 0) {
		rc = vgl__ipmi_cmd_failed(r, rs);
	} else if (vgl__ipmi_get_u64(rs, "record_count", &c) != 0 ||
		   vgl__ipmi_get_u64(rs, "most_recent_addition_timestamp", &a) != 0 ||
		   vgl__ipmi_get_u64(rs, "most_recent_erase_timestamp", &e) != 0) {
		rc = vgl__ipmi_cmd_failed(r, rs);
	} else {
		*count = (uint16_t)c;
		*add_ts = (uint32_t)a;
		*erase_ts = (uint32_t)e;
	}
	fiid_obj_destroy(rs);
	return rc;
}

/* Brings the SDR cache up to date, spending at most half the budget on
 * reading; a read not finished resumes next poll. FATAL ends the poll;
 * anything else leaves the cache as good as it can be. */
int vgl__ipmi_update_sdr(struct run *r)
{
	struct vgl_ipmi_bmc *b = r->b;
	uint8_t rec[IPMI_SDR_MAX_RECORD_LENGTH];
	ipmi_sdr_ctx_t sc = NULL;
	fiid_obj_t rs = NULL;
	uint16_t count = 0, resv = 0, rid, next = SEL_NONE;
	uint32_t add32 = 0, erase32 = 0;
	unsigned len = 0, taken = 0;
	int64_t stop_at;
	int rc;

	if ((rc = sdr_info(r, &count, &add32, &erase32)) != DONE)
		return rc;
	if (b->sdr_valid && b->sdr.count == count && b->sdr.add_ts == add32 &&
	    b->sdr.erase_ts == erase32)
		return DONE;
	if (b->pending && (b->pend.count != count || b->pend.add_ts != add32 ||
			   b->pend.erase_ts != erase32)) {
		/* it changed under a read in progress: start over */
		b->pending = 0;
	}
	if (!b->pending) {
		b->pend.n = 0;
		b->pend.count = count;
		b->pend.add_ts = add32;
		b->pend.erase_ts = erase32;
		b->pend_next = 0x0000;  /* the first record */
		b->pend_records = 0;
		b->pending = 1;
	}
	if (count == 0) {
		/* nothing to read (Get SDR of record 0 would be refused) */
		b->pend.n = 0;
		goto complete;
	}
	/* half of what is left, so that the sensors and the SEL get read
	 * too; at least one record per poll, however slow the BMC */
	stop_at = vgl__ipmi_mono_ms() + vgl__ipmi_left_ms(r) / 2;
	if (!(sc = ipmi_sdr_ctx_create()) || !(rs = fiid_obj_create(tmpl_cmd_get_sdr_rs))) {
		vgl__ipmi_set_q(r, VGL_Q_ERROR, "SDR: %s", strerror(errno));
		rc = FATAL;
		goto out;
	}
	if ((rc = reserve_sdr(r, &resv)) != DONE)
		goto out;
	r->out->sdr_reread = 1;
	for (rid = b->pend_next; rid != SEL_NONE;) {
		if (taken++ && vgl__ipmi_mono_ms() >= stop_at)
			goto out;       /* the rest next poll */
		if (++b->pend_records > SDR_MAX_RECORDS) {
			b->pending = 0;
			snprintf(r->out->detail, sizeof(r->out->detail),
				 "SDR: more than %d records, not read", SDR_MAX_RECORDS);
			goto out;
		}
		rc = read_record(r, rs, &resv, &b->sdr_pieces, rid, rec, &len, &next);
		if (rc != DONE) {
			/* refused: try again next poll from here */
			b->pend_records--;
			goto out;
		}
		if (sdr_take(sc, rec, len, &b->pend) != 0) {
			vgl__ipmi_set_q(r, VGL_Q_ERROR, "SDR: out of memory");
			rc = FATAL;
			goto out;
		}
		if (next == rid)
			break;          /* a BMC pointing at itself would loop */
		rid = next;
		b->pend_next = rid;
	}
complete:
	/* complete: it replaces the cache */
	free(b->sdr.s);
	b->sdr = b->pend;
	b->sdr_valid = 1;
	b->pend = (struct sdr_cache){ 0 };
	b->pending = 0;
	rc = DONE;
out:
	fiid_obj_destroy(rs);
	if (sc)
		ipmi_sdr_ctx_destroy(sc);
	return rc == FATAL ? FATAL : DONE;
}

/* ---- sensors --------------------------------------------------------------- */

static int threshold_state(uint8_t bits)
{
	/* Get Sensor Reading byte 3 of a threshold sensor: at or beyond
	 * 0 lnc, 1 lc, 2 lnr, 3 unc, 4 uc, 5 unr */
	if (bits & 0x36)
		return VGL_BMC_CRITICAL;
	if (bits & 0x09)
		return VGL_BMC_WARNING;
	return VGL_BMC_OK;
}

static int read_sensor(struct run *r, const struct sdr_sensor *s, fiid_obj_t rq, fiid_obj_t rs,
		       struct vgl_ipmi_sensor *o)
{
	uint64_t raw, state, scanning, m1, m2;
	uint16_t mask;
	int rc;

	snprintf(o->name, sizeof(o->name), "%s", s->name);
	snprintf(o->unit, sizeof(o->unit), "%s", s->unit);
	o->value = 0;
	o->have_value = 0;
	o->state = VGL_BMC_UNKNOWN;
	/* sensors of other controllers need bridging, which FreeIPMI's tools
	 * leave off by default too (a BMC that bridges badly makes each one
	 * a timeout) */
	if (s->owner_sw || s->owner != IPMI_SLAVE_ADDRESS_BMC)
		return DONE;
	if (vgl__ipmi_begin(r, "Get Sensor Reading") != 0)
		return FATAL;
	fiid_obj_clear(rq);
	fiid_obj_clear(rs);
	if (fill_cmd_get_sensor_reading(s->number, rq) < 0) {
		vgl__ipmi_set_q(r, VGL_Q_ERROR, "%s: %s", r->step, strerror(errno));
		return FATAL;
	}
	if ((rc = vgl__ipmi_raw_cmd(r, s->lun, IPMI_NET_FN_SENSOR_EVENT_RQ, rq, rs)) != DONE)
		return rc == FATAL ? FATAL : DONE;
	if (vgl__ipmi_get_u64(rs, "reading_state", &state) != 0 ||
	    vgl__ipmi_get_u64(rs, "sensor_scanning", &scanning) != 0 ||
	    state == IPMI_SENSOR_READING_STATE_UNAVAILABLE ||
	    scanning == IPMI_SENSOR_SCANNING_ON_THIS_SENSOR_DISABLE ||
	    vgl__ipmi_get_u64(rs, "sensor_reading", &raw) != 0)
		return DONE;
	/* some BMCs leave out the state bytes (a Dell quirk FreeIPMI notes):
	 * no state bits asserted */
	(void)vgl__ipmi_get_u64(rs, "sensor_event_bitmask1", &m1);
	(void)vgl__ipmi_get_u64(rs, "sensor_event_bitmask2", &m2);
	mask = (uint16_t)(m1 | (m2 & 0x7F) << 8);
	if (s->ev_type == IPMI_EVENT_READING_TYPE_CODE_THRESHOLD) {
		double v;

		o->state = threshold_state((uint8_t)m1);
		if (s->convert && ipmi_sensor_decode_value(s->r_exp, s->b_exp, s->m, s->b, s->lin,
							   s->fmt, (uint8_t)raw, &v) == 0) {
			o->value = v;
			o->have_value = 1;
		}
	} else {
		ipmi_interpret_ctx_t ic = vgl__ipmi_interp_ctx();
		unsigned st;

		/* a discrete sensor's reading is its state bits */
		o->value = mask;
		o->have_value = 1;
		o->state = VGL_BMC_OK;
		if (ic && ipmi_interpret_sensor(ic, s->ev_type, s->type, mask, &st) == 0) {
			if (st == IPMI_INTERPRET_STATE_WARNING)
				o->state = VGL_BMC_WARNING;
			else if (st == IPMI_INTERPRET_STATE_CRITICAL)
				o->state = VGL_BMC_CRITICAL;
		}
	}
	return DONE;
}

int vgl__ipmi_read_sensors(struct run *r)
{
	const struct sdr_cache *c = &r->b->sdr;
	fiid_obj_t rq, rs;
	int rc = DONE;

	if (!r->b->sdr_valid || c->n == 0)
		return DONE;
	rq = fiid_obj_create(tmpl_cmd_get_sensor_reading_rq);
	rs = fiid_obj_create(tmpl_cmd_get_sensor_reading_rs);
	if (!rq || !rs) {
		vgl__ipmi_set_q(r, VGL_Q_ERROR, "Get Sensor Reading: %s", strerror(errno));
		rc = FATAL;
		goto out;
	}
	for (size_t i = 0; i < c->n && i < VGL_IPMI_MAX_SENSORS; i++) {
		rc = read_sensor(r, &c->s[i], rq, rs, &r->out->sensors[r->out->n_sensors]);
		r->out->n_sensors++;
		if (rc == FATAL)
			break;
	}
out:
	fiid_obj_destroy(rq);
	fiid_obj_destroy(rs);
	return rc;
}
