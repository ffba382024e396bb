/* Modbus in the config (collectors/modbus_conf.c) and the requests its
 * metrics become (collectors/modbus_plan.c): defaults, every key, the
 * errors with FILE:LINE:COL, and coalescing under the protocol's and the
 * device's limits. */
#include "collectors/modbus_conf.h"
#include "collectors/modbus_plan.h"
#include "conf/backend.h"
#include "conf/conf.h"
#include "test/test.h"
#include "test/unit/conf_util.h"

static const struct vgl_conf_metric *metric(const struct vgl_conf_profile *p, const char *name)
{
	for (size_t i = 0; i < p->n_metrics; i++)
		if (strcmp(p->metrics[i].name, name) == 0)
			return &p->metrics[i];
	fprintf(stderr, "no metric %s\n", name);
	ASSERT(0);
	return NULL;
}

#define MB(m) ((const struct vgl_modbus_metric *)metric(p, m)->spec)

TEST(modbus_conf_source_and_metrics)
{
	struct vgl_conf *c = load_ok(
		"{ \"hosts\": [ { \"name\": \"ups-1\", \"address\": \"127.0.0.1\",\n"
		"  \"sources\": { \"mb\": { \"type\": \"modbus\", \"port\": 1502, \"unit\": 3,\n"
		"                         \"max_registers\": 60, \"max_gap\": 2 } },\n"
		"  \"metrics\": {\n"
		"    \"load\": { \"source\": \"mb\", \"register\": 10 },\n"
		"    \"vin\": { \"source\": \"mb\", \"table\": \"input\", \"register\": 20, \"type\": \"float32\",\n"
		"             \"order\": \"CDAB\", \"scale\": 0.1, \"offset\": -2.5 },\n"
		"    \"on_battery\": { \"source\": \"mb\", \"register\": 30, \"bit\": 3 },\n"
		"    \"breaker\": { \"source\": \"mb\", \"table\": \"coil\", \"register\": 7 },\n"
		"    \"mode\": { \"source\": \"mb\", \"register\": 31, \"enum\": { \"online\": 2, \"battery\": 3 } },\n"
		"    \"kwh\": { \"source\": \"mb\", \"register\": 40, \"type\": \"uint64\", \"order\": \"DCBA\" } } } ] }");
	const struct vgl_conf_profile *p = c->hosts[0].profile;
	const struct vgl_modbus_source *s = p->sources[0].spec;

	ASSERT_STREQ(p->sources[0].be->type, "modbus");
	ASSERT_EQ(p->sources[0].interval_ms, 10000);
	ASSERT_EQ(p->sources[0].timeout_ms, 1000);
	ASSERT_EQ(s->transport, VGL_MB_TCP);
	ASSERT_EQ(s->port, 1502);
	ASSERT_EQ(s->unit, 3);
	ASSERT_EQ(s->max_registers, 60);
	ASSERT_EQ(s->max_bits, 2000);
	ASSERT_EQ(s->max_gap, 2);
	ASSERT(s->address == NULL);

	ASSERT_EQ(MB("load")->table, VGL_MB_HOLDING);
	ASSERT_EQ(MB("load")->type, VGL_MB_UINT16);
	ASSERT_EQ(MB("load")->bit, VGL_MB_NO_BIT);
	ASSERT_STREQ(metric(p, "load")->text, "holding:10:uint16:ABCD");
	ASSERT_EQ(MB("vin")->table, VGL_MB_INPUT);
	ASSERT_EQ(MB("vin")->type, VGL_MB_FLOAT32);
	ASSERT_EQ(MB("vin")->order, VGL_MB_CDAB);
	ASSERT(MB("vin")->scale == 0.1 && MB("vin")->offset == -2.5);
	ASSERT_EQ(MB("on_battery")->type, VGL_MB_BOOL);
	ASSERT_EQ(MB("on_battery")->bit, 3);
	ASSERT_STREQ(metric(p, "on_battery")->text, "holding:30.3");
	ASSERT_EQ(MB("breaker")->table, VGL_MB_COIL);
	ASSERT_EQ(MB("breaker")->type, VGL_MB_BOOL);
	ASSERT_EQ(metric(p, "mode")->n_enums, 2);
	ASSERT_EQ(MB("kwh")->type, VGL_MB_UINT64);
	vgl_conf_free(c);
}

TEST(modbus_conf_rtu_and_gateway)
{
	struct vgl_conf *c = load_ok(
		"{ \"templates\": { \"crac\": {\n"
		"    \"sources\": { \"mb\": { \"type\": \"modbus\", \"device\": \"/dev/ttyUSB0\", \"baud\": 19200,\n"
		"                           \"parity\": \"even\", \"stop_bits\": 2, \"unit\": 5 } },\n"
		"    \"metrics\": { \"t\": { \"source\": \"mb\", \"register\": 1, \"type\": \"int16\" } } } },\n"
		"  \"hosts\": [ { \"name\": \"crac-1\", \"address\": \"crac-1\", \"template\": \"crac\" },\n"
		"             { \"name\": \"crac-2\", \"address\": \"crac-2\", \"template\": \"crac\",\n"
		"               \"sources\": { \"mb\": { \"unit\": 6 } } },\n"
		"             { \"name\": \"crac-3\", \"address\": \"crac-3\", \"template\": \"crac\",\n"
		"               \"sources\": { \"mb\": { \"address\": \"127.0.0.8\", \"port\": 5020 } } },\n"
		"             { \"name\": \"meter\", \"address\": \"m\",\n"
		"               \"sources\": { \"mb\": { \"type\": \"modbus\", \"address\": \"127.0.0.9\", \"unit\": 17 } },\n"
		"               \"metrics\": { \"w\": { \"source\": \"mb\", \"register\": 0 } } } ] }");
	const struct vgl_modbus_source *a = c->hosts[0].profile->sources[0].spec;
	const struct vgl_modbus_source *b = c->hosts[1].profile->sources[0].spec;
	const struct vgl_modbus_source *g = c->hosts[2].profile->sources[0].spec;
	const struct vgl_modbus_source *m = c->hosts[3].profile->sources[0].spec;

	ASSERT_EQ(a->transport, VGL_MB_RTU);
	ASSERT_STREQ(a->device, "/dev/ttyUSB0");
	ASSERT_EQ(a->baud, 19200);
	ASSERT_EQ(a->parity, 'E');
	ASSERT_EQ(a->data_bits, 8);
	ASSERT_EQ(a->stop_bits, 2);
	ASSERT_EQ(a->unit, 5);
	/* the host's unit over the template's line */
	ASSERT_EQ(b->transport, VGL_MB_RTU);
	ASSERT_STREQ(b->device, "/dev/ttyUSB0");
	ASSERT_EQ(b->unit, 6);
	/* the host moves its template's serial device behind a TCP gateway */
	ASSERT_EQ(g->transport, VGL_MB_TCP);
	ASSERT(g->device == NULL);
	ASSERT_STREQ(g->address, "127.0.0.8");
	ASSERT_EQ(g->port, 5020);
	ASSERT_EQ(g->unit, 5);
	ASSERT_STREQ(m->address, "127.0.0.9");
	ASSERT_EQ(m->unit, 17);
	vgl_conf_free(c);
}

#define MBH "{ \"hosts\": [ { \"name\": \"d\", \"address\": \"127.0.0.1\",\n" \
	"  \"sources\": { \"mb\": { \"type\": \"modbus\" } },\n"

TEST(modbus_conf_errors)
{
	expect_error(MBH "  \"metrics\": { \"x\": { \"source\": \"mb\", \"table\": \"holding\" } } } ] }",
		     "3:21: hosts[0].metrics.x: missing required key 'register'");
	expect_error(MBH "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 65536 } } } ] }",
		     "3:51: hosts[0].metrics.x.register: expected an integer 0-65535, got 65536");
	expect_error(MBH "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 1, \"type\": \"float\" } } } ] }",
		     "3:62: hosts[0].metrics.x.type: expected one of bool, int16, uint16, int32, "
		     "uint32, int64, uint64, float32, float64, got \"float\"");
	expect_error(MBH "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 1, \"type\": \"int32\", \"order\": \"abcd\" } } } ] }",
		     "3:80: hosts[0].metrics.x.order: expected one of \"ABCD\", \"CDAB\", \"BADC\", "
		     "\"DCBA\", got \"abcd\"");
	expect_error(MBH "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 1, \"table\": \"holdings\" } } } ] }",
		     "3:63: hosts[0].metrics.x.table: expected one of \"holding\", \"input\", \"coil\", "
		     "\"discrete\", got \"holdings\"");
	expect_error(MBH "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 1, \"table\": \"coil\", \"type\": \"uint16\" } } } ] }",
		     "3:79: hosts[0].metrics.x: a coil is one bit: type bool, no \"bit\" or \"order\"");
	expect_error(MBH "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 1, \"type\": \"int32\", \"bit\": 2 } } } ] }",
		     "3:78: hosts[0].metrics.x.bit: \"bit\" picks a bool out of a register: type must be "
		     "bool, not int32");
	expect_error(MBH "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 1, \"bit\": 16 } } } ] }",
		     "3:61: hosts[0].metrics.x.bit: expected an integer 0-15, got 16");
	expect_error(MBH "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 65535, \"type\": \"float32\" } } } ] }",
		     "3:51: hosts[0].metrics.x.register: a float32 at 65535 runs past register 65535");
	expect_error(MBH "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 1, \"scale\": \"ten\" } } } ] }",
		     "3:63: hosts[0].metrics.x.scale: expected a number -1e+12..1e+12, got a string");
	expect_error(MBH "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 1, \"scale\": 0 } } } ] }",
		     "3:63: hosts[0].metrics.x.scale: must not be 0");
	expect_error(MBH "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 1, \"bit\": 1, \"scale\": 2 } } } ] }",
		     "3:73: hosts[0].metrics.x: a bool takes no scale or offset");
	expect_error("{ \"hosts\": [ { \"name\": \"d\", \"address\": \"127.0.0.1\",\n"
		     "  \"sources\": { \"mb\": { \"type\": \"modbus\", \"device\": \"/dev/ttyS0\", \"port\": 5020 } },\n"
		     "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 1 } } } ] }",
		     "2:22: hosts[0].sources.mb: a modbus source is either TCP (\"address\", \"port\") "
		     "or RTU (\"device\"), not both");
	expect_error("{ \"hosts\": [ { \"name\": \"d\", \"address\": \"127.0.0.1\",\n"
		     "  \"sources\": { \"mb\": { \"type\": \"modbus\", \"device\": \"/dev/ttyS0\", \"unit\": 0 } },\n"
		     "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 1 } } } ] }",
		     "2:22: hosts[0].sources.mb: unit 0: an RTU unit id is 1..247");
	expect_error("{ \"hosts\": [ { \"name\": \"d\", \"address\": \"127.0.0.1\",\n"
		     "  \"sources\": { \"mb\": { \"type\": \"modbus\", \"parity\": \"mark\" } },\n"
		     "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 1 } } } ] }",
		     "2:52: hosts[0].sources.mb.parity: expected \"none\", \"even\" or \"odd\", got \"mark\"");
	expect_error("{ \"hosts\": [ { \"name\": \"d\", \"address\": \"127.0.0.1\",\n"
		     "  \"sources\": { \"mb\": { \"type\": \"modbus\", \"max_registers\": 126 } },\n"
		     "  \"metrics\": { \"x\": { \"source\": \"mb\", \"register\": 1 } } } ] }",
		     "2:59: hosts[0].sources.mb.max_registers: expected an integer 1-125, got 126");
}

/* ---- coalescing -------------------------------------------------------- */

static struct vgl_modbus_source limits(uint16_t regs, uint16_t bits, uint16_t gap)
{
	return (struct vgl_modbus_source){ .max_registers = regs, .max_bits = bits, .max_gap = gap };
}

static struct vgl_modbus_metric reg(uint8_t table, uint16_t r, uint8_t type)
{
	return (struct vgl_modbus_metric){ .table = table, .reg = r, .type = type,
					   .bit = VGL_MB_NO_BIT, .scale = 1 };
}

static void plan(const struct vgl_modbus_source *s, const struct vgl_modbus_metric *m, size_t n,
		 struct vgl_mb_plan *p)
{
	const struct vgl_modbus_metric *ptr[300];

	ASSERT(n <= 300);
	for (size_t i = 0; i < n; i++)
		ptr[i] = &m[i];
	ASSERT_EQ(vgl_mb_plan_build(s, ptr, n, p), 0);
}

TEST(modbus_plan_adjacent_registers_join)
{
	/* two blocks of 20 in mixed order, and a float spanning 2 */
	struct vgl_modbus_metric m[41];
	struct vgl_modbus_source s = limits(125, 2000, 0);
	struct vgl_mb_plan p;
	size_t n = 0;

	for (int i = 19; i >= 0; i--)
		m[n++] = reg(VGL_MB_HOLDING, (uint16_t)(100 + i), VGL_MB_UINT16);
	for (int i = 0; i < 20; i++)
		m[n++] = reg(VGL_MB_INPUT, (uint16_t)(200 + i), VGL_MB_INT16);
	m[n++] = reg(VGL_MB_HOLDING, 120, VGL_MB_FLOAT32);  /* 120-121: adjacent */
	plan(&s, m, n, &p);
	ASSERT_EQ(p.n_req, 2);
	ASSERT_EQ(p.req[0].table, VGL_MB_HOLDING);
	ASSERT_EQ(p.req[0].start, 100);
	ASSERT_EQ(p.req[0].count, 22);
	ASSERT_EQ(p.req[0].n, 21);
	ASSERT_EQ(p.req[1].table, VGL_MB_INPUT);
	ASSERT_EQ(p.req[1].start, 200);
	ASSERT_EQ(p.req[1].count, 20);
	ASSERT_EQ(p.max_words, 22);
	/* every metric is in exactly one request, in address order */
	ASSERT_EQ(p.order[0], 19);
	ASSERT_EQ(p.order[20], 40);
	vgl_mb_plan_free(&p);
}

TEST(modbus_plan_limits_gaps_and_bits)
{
	struct vgl_modbus_metric m[300];
	struct vgl_mb_plan p;
	struct vgl_modbus_source s = limits(125, 2000, 0);
	size_t n = 0;

	/* 300 adjacent registers: 125 + 125 + 50 */
	for (int i = 0; i < 300; i++)
		m[n++] = reg(VGL_MB_HOLDING, (uint16_t)i, VGL_MB_UINT16);
	plan(&s, m, n, &p);
	ASSERT_EQ(p.n_req, 3);
	ASSERT_EQ(p.req[0].count, 125);
	ASSERT_EQ(p.req[1].start, 125);
	ASSERT_EQ(p.req[2].count, 50);
	vgl_mb_plan_free(&p);

	/* a device that takes 10 at a time */
	s = limits(10, 2000, 0);
	plan(&s, m, 25, &p);
	ASSERT_EQ(p.n_req, 3);
	ASSERT_EQ(p.req[2].count, 5);
	vgl_mb_plan_free(&p);

	/* holes: 0, 3, 4, 9 -- with no gap allowed 3 requests; gap 2 joins
	 * 0 and 3-4, gap 4 joins all */
	n = 0;
	m[n++] = reg(VGL_MB_HOLDING, 0, VGL_MB_UINT16);
	m[n++] = reg(VGL_MB_HOLDING, 3, VGL_MB_UINT32);
	m[n++] = reg(VGL_MB_HOLDING, 9, VGL_MB_UINT16);
	s = limits(125, 2000, 0);
	plan(&s, m, n, &p);
	ASSERT_EQ(p.n_req, 3);
	vgl_mb_plan_free(&p);
	s = limits(125, 2000, 2);
	plan(&s, m, n, &p);
	ASSERT_EQ(p.n_req, 2);
	ASSERT_EQ(p.req[0].count, 5);
	vgl_mb_plan_free(&p);
	s = limits(125, 2000, 4);
	plan(&s, m, n, &p);
	ASSERT_EQ(p.n_req, 1);
	ASSERT_EQ(p.req[0].count, 10);
	vgl_mb_plan_free(&p);

	/* bits: 2000 per request, coils and inputs apart; a bool of a
	 * register shares its word's read */
	n = 0;
	for (int i = 0; i < 2100; i += 10)
		m[n++] = reg(VGL_MB_COIL, (uint16_t)i, VGL_MB_BOOL);
	m[n++] = reg(VGL_MB_DISCRETE, 5, VGL_MB_BOOL);
	s = limits(125, 2000, 9);
	plan(&s, m, n, &p);
	ASSERT_EQ(p.n_req, 3);
	ASSERT_EQ(p.req[0].table, VGL_MB_COIL);
	ASSERT_EQ(p.req[0].count, 1991);        /* 0..1990 */
	ASSERT_EQ(p.req[1].start, 2000);
	ASSERT_EQ(p.req[2].table, VGL_MB_DISCRETE);
	vgl_mb_plan_free(&p);

	n = 0;
	m[n] = reg(VGL_MB_HOLDING, 30, VGL_MB_BOOL);
	m[n++].bit = 3;
	m[n++] = reg(VGL_MB_HOLDING, 30, VGL_MB_UINT16);
	m[n] = reg(VGL_MB_HOLDING, 30, VGL_MB_BOOL);
	m[n++].bit = 4;
	plan(&s, m, n, &p);
	ASSERT_EQ(p.n_req, 1);
	ASSERT_EQ(p.req[0].count, 1);
	ASSERT_EQ(p.req[0].n, 3);
	vgl_mb_plan_free(&p);

	/* a float64 under max_registers 2 still gets its 4 */
	s = limits(2, 2000, 0);
	m[0] = reg(VGL_MB_HOLDING, 0, VGL_MB_FLOAT64);
	m[1] = reg(VGL_MB_HOLDING, 4, VGL_MB_UINT16);
	plan(&s, m, 2, &p);
	ASSERT_EQ(p.n_req, 2);
	ASSERT_EQ(p.req[0].count, 4);
	vgl_mb_plan_free(&p);
}
