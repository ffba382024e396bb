/* vigild under systemd (Type=notify, docs/operations.md "systemd"): the
 * state changes of sd_notify(3) and the watchdog, through libsystemd.
 *
 *   start:   READY=1 once polling has started, with STATUS=
 *   SIGHUP:  RELOADING=1 (MONOTONIC_USEC=now), then READY=1 once the
 *            reload is swapped in or dropped
 *   stop:    STOPPING=1 at SIGTERM/SIGINT
 *   running: STATUS= on each stats tick; WATCHDOG=1 at half of
 *            WatchdogSec, from a timer on the loop
 *
 * Without NOTIFY_SOCKET in the environment (not started by systemd) every
 * call is a silent no-op. A failed send is logged once, and its recovery
 * once; it never stops the daemon. Loop thread only. */
#ifndef VGL_SDNOTIFY_H
#define VGL_SDNOTIFY_H

#include <uv.h>

/* READY=1, with STATUS=status unless it is NULL, in one datagram. */
void vgl_sd_ready(const char *status);
/* RELOADING=1 and MONOTONIC_USEC (systemd >= 253 wants both), with
 * STATUS=status unless it is NULL. */
void vgl_sd_reloading(const char *status);
/* STOPPING=1 and STATUS=stopping. */
void vgl_sd_stopping(void);
/* STATUS=: one line, what `systemctl status` shows; a newline in the
 * text becomes a space (it would start another assignment). */
void vgl_sd_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog: when sd_watchdog_enabled(3) says systemd expects pings
 * (WATCHDOG_USEC, and WATCHDOG_PID unset or ours) and NOTIFY_SOCKET is
 * set, a timer on loop sends WATCHDOG=1 every half interval. It runs on
 * the loop thread on purpose: a loop that is stuck stops the pings, and
 * systemd restarts the daemon. The timer is unreferenced (it never keeps
 * uv_run going by itself). *out is NULL when no watchdog is asked for.
 * 0, or a UV_E* code (logged; *out NULL). */
struct vgl_sd_watchdog;
int vgl_sd_watchdog_start(uv_loop_t *loop, struct vgl_sd_watchdog **out);
/* Stops the pings and closes the timer; w (NULL allowed) is freed in the
 * close callback, so run the loop once more before uv_loop_close. */
void vgl_sd_watchdog_close(struct vgl_sd_watchdog *w);

#endif
