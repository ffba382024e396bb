/* What the files of the delivery engine share (notify.c: channels, queues,
 * reporting, close; notify_http.c: libcurl on the loop; notify_exec.c:
 * children). Nothing outside notify/ includes it.
 *
 * An attempt is in exactly one place: its channel's queue, its channel's
 * running list, or the engine's finished list, whose done callbacks a
 * zero-delay timer (kick) delivers: so done never runs inside send, nor
 * inside a curl or libuv callback that is still using the attempt. */
#ifndef VGL_NOTIFY_INT_H
#define VGL_NOTIFY_INT_H

#include <curl/curl.h>

#include "notify/notify.h"

enum { NA_QUEUED, NA_RUNNING, NA_FINISHED };

struct nchan;

struct nattempt {
	struct vgl_notify *n;
	struct nchan *ch;
	struct nattempt *prev, *next;
	int64_t token;
	char *snapshot;
	char *body;                     /* what is sent: the rendered payload */
	int where;                      /* NA_* */
	int ok;
	char error[256];

	/* http */
	CURL *easy;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
	char resp[128];                 /* the start of the answer, for an error */
	size_t resp_len;
	int in_multi;
	int in_failq;
	struct nattempt *next_fail;
	char local_err[128];

	/* exec, email */
	uv_process_t proc;
	uv_pipe_t errp;
	uv_timer_t timer;
	int handles;                    /* of the three, still open */
	int exited, killed, abandoned;
	int64_t exit_status;
	int term_signal;
	char errline[160];
	size_t errlen;
	int errline_done;
};

struct nchan {
	struct vgl_channel_conf conf;
	char *post_url;                 /* webhook: url; alertmanager: url/api/v2/alerts */
	struct nattempt *qhead, *qtail;
	struct nattempt *running;
	size_t n_running;
};

struct nsock {
	struct vgl_notify *n;
	uv_poll_t poll;
	curl_socket_t fd;
	struct nsock *prev, *next;
};

struct vgl_notify {
	uv_loop_t *loop;
	struct nchan *ch;
	size_t n_ch;
	vgl_notify_done_fn *done;
	void *ctx;
	size_t in_flight;

	CURLM *multi;
	uv_timer_t curl_timer;
	int curl_timer_open;
	struct nsock *socks;
	struct nattempt *failq;

	uv_timer_t kick;
	struct nattempt *fin_head, *fin_tail;

	size_t open;                    /* uv handles not yet closed */
	int closing;
	void (*closed)(void *arg);
	void *closed_arg;
};

/* notify.c */
/* a leaves its channel's running list for the finished list; ok/error set. */
void vgl__nt_finish(struct nattempt *a);
void vgl__nt_handle_closed(struct vgl_notify *n);
void vgl__nt_free(struct nattempt *a);

/* notify_http.c */
int vgl__nt_http_open(struct vgl_notify *n);
/* Starts a's post; on failure a is finished with the reason. */
void vgl__nt_http_start(struct nattempt *a);
/* Drops a running post without a report (close). */
void vgl__nt_http_abandon(struct nattempt *a);
void vgl__nt_http_close(struct vgl_notify *n);

/* notify_exec.c */
void vgl__nt_spawn_start(struct nattempt *a);
/* SIGKILLs a running child; a is freed once its handles are closed. */
void vgl__nt_spawn_abandon(struct nattempt *a);

#endif
