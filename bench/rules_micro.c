/* bench/rules_micro.c: the alarm rules' CPU per poll, without SNMP.
 *
 *   rules_micro CONFIG HOSTS POLLS
 *
 * CONFIG is a vigil.json whose first host's profile has rules (bench/
 * rules_micro.sh writes one with bench/gen.py and VIGIL_BENCH_RULES=1: the
 * benchmark's ten rules, seven with windows, over its 20 metrics). HOSTS
 * rule states are created for that profile, as the daemon keeps one per
 * host; POLLS polls are fed to them round-robin (host k % HOSTS, 30 s
 * apart per host), each a good poll of all 20 metrics whose counters grow
 * and whose gauges stay put, as a quiet snmpd answers: no rule fires. The
 * same loop without the vgl_rules_observe call is timed too (filling the
 * values), and subtracted. CPU is CLOCK_PROCESS_CPUTIME_ID. Prints ns of
 * CPU per poll (10 rules evaluated) and per value (poll / 20).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "rules/rules.h"

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long events;

static void on_event(void *ctx, const struct vgl_rule_event *ev)
{
	(void)ctx;
	(void)ev;
	events++;
}

/* A quiet snmpd's answer for host h at round k: counters grow, the rest
 * stays. Metric names decide which is which, once (kind_of); fill is
 * then a few stores, so that the loop alone costs little next to the
 * rules. */
enum kind { K_COUNTER, K_UP, K_MTU, K_SPEED, K_ZERO };

static enum kind kind_of(const char *n)
{
	if (strstr(n, "Octets") || strstr(n, "Pkts") || strstr(n, "UpTime"))
		return K_COUNTER;
	if (strcmp(n, "ifOperStatus") == 0 || strcmp(n, "ifAdminStatus") == 0)
		return K_UP;
	if (strcmp(n, "ifMtu") == 0)
		return K_MTU;
	if (strcmp(n, "ifSpeed") == 0)
		return K_SPEED;
	return K_ZERO;
}

static void fill(const enum kind *kinds, size_t n, struct vgl_value *vals, size_t h, size_t k)
{
	static const double fixed[] = { 0, 1, 65536, 10000000, 0 };

	for (size_t i = 0; i < n; i++) {
		vals[i].v = kinds[i] == K_COUNTER ? (double)(h * 7 + k * 3000 + i) : fixed[kinds[i]];
		vals[i].q = VGL_Q_OK;
	}
}

int main(int argc, char **argv)
{
	struct vgl_conf *c;
	struct vgl_conf_errors errs = { 0 };

	if (argc != 4) {
		fprintf(stderr, "usage: rules_micro CONFIG HOSTS POLLS\n");
		return 2;
	}
	size_t hosts = strtoul(argv[2], NULL, 10), polls = strtoul(argv[3], NULL, 10);
	if (vgl_conf_load(argv[1], &c, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		return 1;
	}
	vgl_conf_errors_free(&errs);
	const struct vgl_conf_profile *p = c->hosts[0].profile;
	const struct vgl_conf_rule **list = calloc(p->n_rules, sizeof(*list));
	struct vgl_rules **r = calloc(hosts, sizeof(*r));
	struct vgl_value *vals = calloc(p->n_metrics, sizeof(*vals));
	enum kind *kinds = calloc(p->n_metrics, sizeof(*kinds));
	if (!list || !r || !vals || !kinds || p->n_sources < 1)
		return 1;
	for (size_t i = 0; i < p->n_metrics; i++)
		kinds[i] = kind_of(p->metrics[i].name);
	for (size_t i = 0; i < p->n_rules; i++)
		list[i] = &p->rules[i];
	int64_t t0 = 1764800000000LL;
	for (size_t h = 0; h < hosts; h++)
		if (!(r[h] = vgl_rules_create(list, p->n_rules, p, t0)))
			return 1;

	struct vgl_poll_result pr = { 0 };
	pr.source = 0;
	pr.quality = VGL_Q_OK;
	pr.n_values = p->sources[0].n_metrics;
	pr.metrics = p->sources[0].metrics;
	pr.values = vals;
	pr.interval_ms = p->sources[0].interval_ms;
	uint32_t iv = p->sources[0].interval_ms;

	/* warm the windows: 25 rounds (12.5 min at 30 s) fill every ring */
	size_t warm = hosts * 25;
	for (size_t k = 0; k < warm; k++) {
		size_t h = k % hosts, round = k / hosts;
		fill(kinds, p->n_metrics, vals, h, round);
		pr.host = 0;
		pr.ts_ms = t0 + (int64_t)round * iv + (int64_t)(h % 1000);
		vgl_rules_observe(r[h], &pr, vals, NULL, NULL, on_event, NULL);
	}
	volatile double sink = 0;
	double a = cpu_s();
	for (size_t k = warm; k < warm + polls; k++) {
		size_t h = k % hosts, round = k / hosts;
		fill(kinds, p->n_metrics, vals, h, round);
		pr.ts_ms = t0 + (int64_t)round * iv + (int64_t)(h % 1000);
		sink += vals[3].v + (double)pr.ts_ms;
	}
	double b = cpu_s();
	unsigned long ev0 = events;
	for (size_t k = warm; k < warm + polls; k++) {
		size_t h = k % hosts, round = k / hosts;
		fill(kinds, p->n_metrics, vals, h, round);
		pr.ts_ms = t0 + (int64_t)round * iv + (int64_t)(h % 1000);
		vgl_rules_observe(r[h], &pr, vals, NULL, NULL, on_event, NULL);
	}
	double d = cpu_s();
	double base = (b - a) / polls * 1e9, with = (d - b) / polls * 1e9, net = with - base;
	printf("rules_micro: %zu rules, %zu metrics, %zu hosts, %zu polls: %.1f ns CPU per poll "
	       "(loop alone %.1f, with rules %.1f), %.2f ns per value; %lu rule events "
	       "(warm-up %lu)\n",
	       p->n_rules, p->n_metrics, hosts, polls, net, base, with, net / pr.n_values,
	       events - ev0, ev0);
	for (size_t h = 0; h < hosts; h++)
		vgl_rules_free(r[h]);
	free(r);
	free(list);
	free(vals);
	free(kinds);
	vgl_conf_free(c);
	(void)sink;
	return 0;
}
