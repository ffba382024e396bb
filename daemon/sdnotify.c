/* sd_notify(3) for vigild: see daemon/sdnotify.h. Each message is one
 * datagram to $NOTIFY_SOCKET, so READY=1 and the STATUS= that goes with
 * it arrive together. */
#include "daemon/sdnotify.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "core/log.h"

/* STATUS= is one line for `systemctl status`; longer is cut. */
#define STATUS_MAX 256

/* The notification socket is the process's (one environment variable),
 * and so is whether sending to it fails: as in collectd's c_complain/
 * c_release, a failure is logged once and its end once, not a warning
 * every half WatchdogSec. Loop thread only. */
static int send_failing;

static void notify_send(const char *what, const char *msg)
{
	int rv = sd_notify(0, msg);

	if (rv < 0) {
		if (!send_failing)
			vgl_warn("systemd: cannot send %s to $NOTIFY_SOCKET: %s; further "
				 "failures are not logged until a send succeeds", what,
				 strerror(-rv));
		send_failing = 1;
	} else if (rv > 0 && send_failing) {
		/* rv == 0: no NOTIFY_SOCKET, nothing was sent */
		send_failing = 0;
		vgl_notice("systemd: notifications are received again (%s)", what);
	}
}

/* status into buf (STATUS_MAX) as one line: a newline would end
 * STATUS= and start an assignment of the text's choosing (the text
 * carries a path from the config, say). Longer text is cut. */
static const char *one_line(char buf[STATUS_MAX], const char *status)
{
	snprintf(buf, STATUS_MAX, "%s", status);
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return buf;
}

void vgl_sd_ready(const char *status)
{
	char st[STATUS_MAX], msg[STATUS_MAX + 32];

	if (status)
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", one_line(st, status));
	else
		snprintf(msg, sizeof(msg), "READY=1");
	notify_send("READY=1", msg);
}

void vgl_sd_reloading(const char *status)
{
	char st[STATUS_MAX], msg[STATUS_MAX + 96];
	unsigned long long usec = 0;
	struct timespec ts;
	int n;

	/* systemd >= 253 takes RELOADING=1 with the CLOCK_MONOTONIC time it
	 * was sent at, in microseconds, and older ones ignore the field. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
		usec = (unsigned long long)ts.tv_sec * 1000000ULL +
		       (unsigned long long)ts.tv_nsec / 1000ULL;
	else
		vgl_log_errno(VGL_LOG_WARNING, "clock_gettime(CLOCK_MONOTONIC)");
	n = snprintf(msg, sizeof(msg), "RELOADING=1");
	if (usec)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, "\nMONOTONIC_USEC=%llu", usec);
	if (status)
		snprintf(msg + n, sizeof(msg) - (size_t)n, "\nSTATUS=%s", one_line(st, status));
	notify_send("RELOADING=1", msg);
}

void vgl_sd_stopping(void)
{
	notify_send("STOPPING=1", "STOPPING=1\nSTATUS=stopping: cancelling polls, flushing storage");
}

void vgl_sd_status(const char *fmt, ...)
{
	char raw[STATUS_MAX], st[STATUS_MAX], msg[STATUS_MAX + 16];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;         /* an encoding error: keep the last status */
	snprintf(msg, sizeof(msg), "STATUS=%s", one_line(st, raw));
	notify_send("STATUS=", msg);
}

/* ---- watchdog --------------------------------------------------------- */

struct vgl_sd_watchdog {
	uv_timer_t timer;
};

static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	notify_send("WATCHDOG=1", "WATCHDOG=1");
}

static void on_watchdog_closed(uv_handle_t *h)
{
	free(h->data);
}

int vgl_sd_watchdog_start(uv_loop_t *loop, struct vgl_sd_watchdog **out)
{
	struct vgl_sd_watchdog *w;
	uint64_t usec = 0, period_ms;
	int rv;

	*out = NULL;
	/* sd_watchdog_enabled looks at WATCHDOG_USEC alone: pings with
	 * nowhere to go would only wake the loop. */
	if (!getenv("NOTIFY_SOCKET"))
		return 0;
	rv = sd_watchdog_enabled(0, &usec);
	if (rv < 0) {
		/* systemd set WATCHDOG_USEC or WATCHDOG_PID to something
		 * unreadable: nothing to ping against. */
		vgl_warn("systemd: watchdog settings unreadable (WATCHDOG_USEC, WATCHDOG_PID): "
			 "%s; no watchdog pings", strerror(-rv));
		return 0;
	}
	if (rv == 0)
		return 0;       /* none, or WATCHDOG_PID names another process */
	/* Half the interval, as sd_watchdog_enabled(3) advises: one late
	 * tick (a slow reload step on the loop) is not yet a miss. */
	period_ms = usec / 2000;
	if (period_ms == 0)
		period_ms = 1;
	w = calloc(1, sizeof(*w));
	if (!w) {
		vgl_err("systemd: out of memory setting up the watchdog");
		return UV_ENOMEM;
	}
	if ((rv = uv_timer_init(loop, &w->timer)) != 0) {
		vgl_err("systemd: watchdog timer: %s", uv_strerror(rv));
		free(w);
		return rv;
	}
	w->timer.data = w;
	if ((rv = uv_timer_start(&w->timer, on_watchdog, period_ms, period_ms)) != 0) {
		vgl_err("systemd: watchdog timer: %s", uv_strerror(rv));
		uv_close((uv_handle_t *)&w->timer, on_watchdog_closed);
		return rv;
	}
	/* The daemon's own handles decide when the loop ends (stop closes
	 * them all); this one is closed after uv_run returns. */
	uv_unref((uv_handle_t *)&w->timer);
	vgl_info("systemd: watchdog of %llu ms, WATCHDOG=1 every %llu ms from the loop",
		 (unsigned long long)(usec / 1000), (unsigned long long)period_ms);
	*out = w;
	return 0;
}

void vgl_sd_watchdog_close(struct vgl_sd_watchdog *w)
{
	if (!w)
		return;
	(void)uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, on_watchdog_closed);
}
