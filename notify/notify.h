/* Delivery of notifications on the loop thread (docs/alarms.md
 * "Channels"): one attempt per call, the caller (the alarm manager's
 * outbox) keeps what is owed and retries. Webhook and Alertmanager posts
 * go through one libcurl multi handle the loop drives; exec and email are
 * children spawned with uv_spawn. Nothing here blocks: a receiver that
 * hangs only holds its own attempts until their timeout, and never delays
 * polling or any other channel.
 *
 * Per channel at most VGL_NOTIFY_MAX_RUNNING attempts run at once; the
 * rest wait in memory, first in first out, so a storm of alarms does not
 * open thousands of sockets or processes. */
#ifndef VGL_NOTIFY_H
#define VGL_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "notify/channel.h"

#define VGL_NOTIFY_MAX_RUNNING 16

struct vgl_notify;

/* error: NULL when ok, else what failed, for the outbox's last_error:
 * "HTTP 503", "timeout after 10 s", "exit 3", "exit 3: <stderr's first
 * line>", "killed after 10 s", "connect: refused". */
typedef void vgl_notify_done_fn(void *ctx, int64_t token, int ok, const char *error);

/* Copies the confs. 0, or a negative errno (nothing to close then). */
int vgl_notify_new(uv_loop_t *loop, const struct vgl_channel_conf *ch, size_t n_ch,
		   vgl_notify_done_fn *done, void *ctx, struct vgl_notify **out);

/* One attempt to deliver snapshot (vgl_alarm_json with its notification)
 * to channel; token is the caller's (an outbox row id). 0, or -ENOENT (no
 * such channel), -EINVAL (snapshot not a JSON object), -ENOMEM, -ESHUTDOWN
 * (closing). On 0, done is called exactly once, later, from the loop,
 * never from inside this call. ok: HTTP 2xx, or exit status 0. Each
 * attempt is bounded by its channel's timeout_ms, from when it starts
 * (not from when it was queued). */
int vgl_notify_send(struct vgl_notify *n, const char *channel, int64_t token,
		    const char *snapshot);

/* Attempts accepted whose done has not been called yet (queued included). */
size_t vgl_notify_in_flight(const struct vgl_notify *n);

/* Stops: attempts not yet reported are abandoned and their done is NOT
 * called (the outbox still owes them); running children are SIGKILLed.
 * closed(arg) runs from the loop once every handle is closed, after
 * which n is gone. */
void vgl_notify_close(struct vgl_notify *n, void (*closed)(void *arg), void *arg);

#endif
