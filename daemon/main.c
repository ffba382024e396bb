/* vigild: options, config check, open-file limit, the loop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>

#include <uv.h>

#include "core/version.h"
#include "conf/backend.h"
#include "conf/conf.h"
#include "core/log.h"
#include "daemon/sdnotify.h"
#include "daemon/vigil.h"
#include "storage/sql.h"

#define DEFAULT_CONF "/etc/vigil/vigil.json"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigild [-c FILE] [-t] [-v]\n"
		"\n"
		"Polls the hosts of the configuration, decides per host when it is in the\n"
		"Unavailable State and why, and records those intervals in SQLite.\n"
		"Runs in the foreground; logs to stderr with syslog priority prefixes.\n"
		"\n"
		"  -c, --config FILE  configuration file (default " DEFAULT_CONF ")\n"
		"  -t, --test         check the configuration, print every error as\n"
		"                     FILE:LINE:COL: key.path: message, and exit\n"
		"                     (0 valid, 1 invalid) without starting\n"
		"  -v, --verbose      debug logging\n"
		"  -V, --version      print the version and exit\n"
		"  -h, --help         this text\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop gracefully (storage flushed, open intervals\n"
		"stay open); SIGHUP reloads the configuration (an invalid one is rejected\n"
		"and the running one stays).\n");
}

/* The SNMP collector shares one socket among up to 512 hosts, so even
 * 100,000 hosts need a few hundred descriptors: within the 1024 soft limit a
 * default systemd service gets. A Modbus device keeps a TCP connection of
 * its own, kept above FD_SETSIZE for libmodbus's select() (docs/modbus.md):
 * a site with Modbus needs 1024 + one per device. A Redfish BMC keeps its
 * TLS connection open between polls (one descriptor each, on the loop's
 * poll, no select()). Should a site need more
 * than it has, raise the soft limit toward the hard one and say so rather
 * than fail at connect time. */
static void raise_nofile_limit(const struct vgl_conf *conf)
{
	struct rlimit rl;
	size_t hosts = conf->n_hosts, modbus = 0, redfish = 0;
	rlim_t want = (rlim_t)(hosts / 256) + 256;

	for (size_t i = 0; i < conf->n_hosts; i++)
		for (size_t j = 0; j < conf->hosts[i].profile->n_sources; j++)
		{
			const char *col = conf->hosts[i].profile->sources[j].be->collector;

			modbus += strcmp(col, "modbus") == 0;
			redfish += strcmp(col, "redfish") == 0;
		}
	want += (rlim_t)redfish;
	if (modbus && want < (rlim_t)(FD_SETSIZE + modbus + 64))
		want = (rlim_t)(FD_SETSIZE + modbus + redfish + 64);

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		vgl_log_errno(VGL_LOG_WARNING, "getrlimit(RLIMIT_NOFILE)");
		return;
	}
	if (rl.rlim_cur >= want)
		return;
	rlim_t old = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
	if (rl.rlim_cur == old) {
		vgl_warn("the hard open-file limit %llu is below the %llu wanted for %zu hosts; "
			 "raise LimitNOFILE", (unsigned long long)rl.rlim_max,
			 (unsigned long long)want, hosts);
		return;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		vgl_log_errno(VGL_LOG_WARNING, "cannot raise the open-file limit from %llu",
			      (unsigned long long)old);
		return;
	}
	vgl_notice("raised the open-file soft limit from %llu to %llu for %zu hosts",
		   (unsigned long long)old, (unsigned long long)rl.rlim_cur, hosts);
	if (rl.rlim_cur < want)
		vgl_warn("the hard open-file limit %llu is below the %llu wanted; raise "
			 "LimitNOFILE", (unsigned long long)rl.rlim_max, (unsigned long long)want);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONF;
	struct vgl_conf_errors errs = { 0 };
	struct vgl_conf *conf = NULL;
	struct vigil *v = NULL;
	struct vgl_sd_watchdog *wd = NULL;
	uv_loop_t loop;
	int test_only = 0, c, rv;

	while ((c = getopt_long(argc, argv, "c:tvVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 't': test_only = 1; break;
		case 'v': vgl_log_set_level(VGL_LOG_DEBUG); break;
		case 'V': printf("vigild %s\n", VGL_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vigild: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	if (vgl_conf_load(path, &conf, &errs) != 0) {
		/* Plain lines for -t (a person reads them); prefixed otherwise. */
		for (size_t i = 0; i < errs.n; i++) {
			if (test_only)
				fprintf(stderr, "%s\n", errs.msgs[i]);
			else
				vgl_err("%s", errs.msgs[i]);
		}
		if (test_only)
			fprintf(stderr, "configuration %s has %zu error(s)\n", path, errs.n);
		vgl_conf_errors_free(&errs);
		return 1;
	}
	vgl_conf_errors_free(&errs);
	for (size_t i = 0; i < conf->n_warnings; i++) {
		if (test_only)
			fprintf(stderr, "warning: %s\n", conf->warnings[i]);
		else
			vgl_warn("%s", conf->warnings[i]);
	}
	if (test_only) {
		printf("configuration %s OK: %zu hosts\n", path, conf->n_hosts);
		vgl_conf_free(conf);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	raise_nofile_limit(conf);
	if ((rv = uv_loop_init(&loop)) != 0) {
		vgl_err("uv_loop_init: %s", uv_strerror(rv));
		vgl_conf_free(conf);
		return 1;
	}
	vgl_notice("vigild %s starting: %s, %zu hosts, database %s", VGL_VERSION, path,
		   conf->n_hosts, conf->db_path);
	if (vgl_vigil_start(&loop, conf, &v) != 0) {
		uv_loop_close(&loop);
		return 1;
	}
	/* systemd's watchdog (WatchdogSec=), pinged from this loop. Should
	 * the timer fail (logged), the pings are missing and systemd
	 * restarts the daemon: the outcome of a loop that cannot run one. */
	(void)vgl_sd_watchdog_start(&loop, &wd);
	uv_run(&loop, UV_RUN_DEFAULT);
	/* The loop ended with the daemon's own handles (the watchdog's is
	 * unreferenced); one more run for the watchdog's close callback. */
	if (wd) {
		vgl_sd_watchdog_close(wd);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	vgl_vigil_free(v);
	rv = uv_loop_close(&loop);
	if (rv != 0)
		vgl_err("event loop closed with handles still open: %s", uv_strerror(rv));
	vgl_notice("vigild stopped");
	return rv == 0 ? 0 : 1;
}
