/* Internals shared by the threadpool side of the IPMI collector's files
 * (not an API): collectors/ipmi_io.c (setup, the per-BMC state, a poll's
 * steps and failures, the hard deadline, the session, the chassis, the
 * poll), collectors/ipmi_sdr.c (the SDR cache, the sensors) and
 * collectors/ipmi_sel.c (the SEL, its cursor, the class table). The
 * design: the top of each. */
#ifndef VGL_IPMI_IO_INT_H
#define VGL_IPMI_IO_INT_H

#include <stddef.h>
#include <stdint.h>

#include <freeipmi/freeipmi.h>

#include "collectors/ipmi_io.h"

#define SEL_NONE 0xFFFF         /* Get SEL/SDR "next record": no more */

/* One readable sensor of the SDR: what a reading and a SEL text need. */
struct sdr_sensor {
	char name[40];
	char unit[24];
	uint8_t number, owner, lun;     /* owner: IPMB slave address (8-bit) */
	uint8_t owner_sw;               /* owned by system software: not readable */
	uint8_t ev_type, type;
	uint8_t convert;                /* the factors below turn a raw reading into a value */
	uint8_t lin, fmt;
	int8_t r_exp, b_exp;
	int16_t m, b;
};

struct sdr_cache {
	struct sdr_sensor *s;
	size_t n, cap;
	uint16_t count;                 /* Get SDR Repository Info when read */
	uint32_t add_ts, erase_ts;
};

struct sel_pos {
	uint16_t id;                    /* last entry taken; 0: none (SEL empty) */
	uint32_t rec_ts;                /* its timestamp */
	uint32_t erase_ts, add_ts;      /* Get SEL Info then */
	uint16_t entries;
};

struct vgl_ipmi_bmc {
	struct sdr_cache sdr;           /* complete, or n == 0 and valid == 0 */
	int sdr_valid;
	/* an SDR read in progress, resumed by the next poll while the
	 * repository info stays what it was */
	struct sdr_cache pend;
	int pending;
	uint16_t pend_next;
	unsigned pend_records;
	int sdr_pieces;                 /* the BMC refuses whole-record Get SDR */
	int ping_silent;                /* opened a session without answering the ping */
	struct sel_pos sel;
	int have_cursor;
	int sel_at_end;                 /* the last poll followed the SEL to its end */
};

/* What a step returns: SOFT, the BMC refused one command (noted in the
 * detail; the poll goes on); FATAL, the poll is over (its quality set). */
enum { DONE = 0, SOFT = -1, FATAL = -2 };

struct run {
	struct vgl_ipmi_bmc *b;
	const struct vgl_ipmi_target *t;
	struct vgl_ipmi_reading *out;
	ipmi_ctx_t ctx;
	int64_t start, deadline;
	const char *step;
	int soft_noted;
};

/* ipmi_io.c */
ipmi_interpret_ctx_t vgl__ipmi_interp_ctx(void);
int64_t vgl__ipmi_mono_ms(void);
int64_t vgl__ipmi_left_ms(const struct run *r);
void vgl__ipmi_set_q(struct run *r, enum vgl_quality q, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vgl__ipmi_begin(struct run *r, const char *step);
int vgl__ipmi_comp_code(fiid_obj_t rs);
int vgl__ipmi_session_lost(int e);
int vgl__ipmi_cmd_failed(struct run *r, fiid_obj_t rs);
int vgl__ipmi_raw_cmd(struct run *r, uint8_t lun, uint8_t netfn, fiid_obj_t rq, fiid_obj_t rs);
int vgl__ipmi_get_u64(fiid_obj_t o, const char *field, uint64_t *v);

/* ipmi_sdr.c */
int vgl__ipmi_update_sdr(struct run *r);
int vgl__ipmi_read_sensors(struct run *r);

/* ipmi_sel.c */
int vgl__ipmi_parse_cursor(const char *c, struct sel_pos *p);
void vgl__ipmi_format_cursor(const struct sel_pos *p, char *buf, size_t len);
int vgl__ipmi_read_sel(struct run *r, struct sel_pos *np, int *at_end);

#endif
