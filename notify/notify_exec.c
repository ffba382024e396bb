/* exec and email attempts: a child by uv_spawn, never a shell, its input
 * in a memfd so that a child that never reads cannot wedge a write (no
 * pipe to fill, no EPIPE), stdout to /dev/null, the first line of stderr
 * kept for the error. The child leads a process group of its own, so the
 * SIGKILL at the time limit also takes whatever it started (a script's
 * sleep). An attempt is finished once the child is reaped and its three
 * handles (process, stderr pipe, timer) are closed. */
#include "notify/notify_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"
#include "notify/render.h"

static void a_handle_closed(uv_handle_t *h)
{
	struct nattempt *a = h->data;
	struct vgl_notify *n = a->n;

	if (--a->handles == 0) {
		if (a->abandoned)
			vgl__nt_free(a);
		else
			vgl__nt_finish(a);
	}
	vgl__nt_handle_closed(n);
}

static void close_h(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, a_handle_closed);
}

/* Input for the child's stdin: a memfd holding text, at offset 0. */
static int input_fd(const char *text, char *err, size_t errlen)
{
	size_t len = strlen(text), off = 0;
	int fd = memfd_create("vigil-notify", MFD_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "stdin buffer: %s", w < 0 ? strerror(errno) : "short write");
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "stdin buffer: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void keep_err(struct nattempt *a, const char *p, size_t len)
{
	for (size_t i = 0; i < len && !a->errline_done; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '\n' || a->errlen + 1 >= sizeof(a->errline)) {
			a->errline_done = 1;
			break;
		}
		a->errline[a->errlen++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
		a->errline[a->errlen] = 0;
	}
}

static void err_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static _Thread_local char scratch[4096];

	/* copied into errline at once: one buffer per loop thread will do */
	(void)h;
	(void)suggested;
	*buf = uv_buf_init(scratch, sizeof(scratch));
}

static void err_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct nattempt *a = s->data;

	if (nread > 0)
		keep_err(a, buf->base, (size_t)nread);
	else if (nread < 0)
		uv_read_stop(s);        /* EOF: the handle closes with the child */
}

/* What stderr holds already when the child is reaped: the read callback
 * may not have run yet, and a grandchild may hold the pipe open. */
static void drain_err(struct nattempt *a)
{
	uv_os_fd_t fd;
	char buf[512];
	ssize_t r;

	if (uv_fileno((uv_handle_t *)&a->errp, &fd) != 0)
		return;
	while (!a->errline_done && (r = read(fd, buf, sizeof(buf))) > 0)
		keep_err(a, buf, (size_t)r);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct nattempt *a = p->data;
	unsigned s = a->ch->conf.timeout_ms / 1000;

	a->exited = 1;
	a->exit_status = status;
	a->term_signal = sig;
	if (!a->abandoned) {
		drain_err(a);
		a->ok = 0;
		if (a->killed)
			snprintf(a->error, sizeof(a->error), "killed after %u s", s);
		else if (sig)
			snprintf(a->error, sizeof(a->error), "signal %d%s%s", sig,
				 a->errlen ? ": " : "", a->errline);
		else if (status != 0)
			snprintf(a->error, sizeof(a->error), "exit %lld%s%s", (long long)status,
				 a->errlen ? ": " : "", a->errline);
		else
			a->ok = 1;
	}
	close_h((uv_handle_t *)&a->timer);
	close_h((uv_handle_t *)&a->errp);
	close_h((uv_handle_t *)&a->proc);
}

static void kill_child(struct nattempt *a)
{
	int rc;

	/* the group first: the child's own children die with it */
	if (a->proc.pid > 0 && kill(-a->proc.pid, SIGKILL) == 0)
		return;
	if ((rc = uv_process_kill(&a->proc, SIGKILL)) != 0 && rc != UV_ESRCH)
		vgl_err("notify: channel %s: kill %d: %s", a->ch->conf.name, (int)a->proc.pid,
			uv_strerror(rc));
}

static void on_limit(uv_timer_t *t)
{
	struct nattempt *a = t->data;

	if (a->exited)
		return;
	a->killed = 1;
	kill_child(a);
}

void vgl__nt_spawn_start(struct nattempt *a)
{
	const struct vgl_channel_conf *c = &a->ch->conf;
	uv_process_options_t o = { 0 };
	uv_stdio_container_t stdio[3];
	char *mail_argv[4], **env = NULL;
	int in = -1, rc;

	a->handles = 0;
	if (c->type == VGL_CH_EXEC ? !c->argv || !c->argv[0] : !c->sendmail) {
		snprintf(a->error, sizeof(a->error), "no program configured");
		goto fail_now;
	}
	if (!(env = vgl_render_exec_env(a->snapshot))) {
		snprintf(a->error, sizeof(a->error), "out of memory (environment)");
		goto fail_now;
	}
	if ((in = input_fd(a->body, a->error, sizeof(a->error))) < 0)
		goto fail_now;
	if ((rc = uv_timer_init(a->n->loop, &a->timer)) != 0) {
		snprintf(a->error, sizeof(a->error), "uv_timer_init: %s", uv_strerror(rc));
		goto fail_now;
	}
	a->timer.data = a;
	a->handles++;
	a->n->open++;
	if ((rc = uv_pipe_init(a->n->loop, &a->errp, 0)) != 0) {
		snprintf(a->error, sizeof(a->error), "uv_pipe_init: %s", uv_strerror(rc));
		goto fail_close;
	}
	a->errp.data = a;
	a->handles++;
	a->n->open++;

	if (c->type == VGL_CH_EMAIL) {
		mail_argv[0] = c->sendmail;
		mail_argv[1] = "-t";
		mail_argv[2] = "-oi";
		mail_argv[3] = NULL;
		o.file = c->sendmail;
		o.args = mail_argv;
	} else {
		o.file = c->argv[0];
		o.args = c->argv;
	}
	o.env = env;
	o.exit_cb = on_exit_cb;
	o.flags = UV_PROCESS_DETACHED;
	stdio[0].flags = UV_INHERIT_FD;
	stdio[0].data.fd = in;
	stdio[1].flags = UV_IGNORE;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&a->errp;
	o.stdio = stdio;
	o.stdio_count = 3;
	a->proc.data = a;
	rc = uv_spawn(a->n->loop, &a->proc, &o);
	/* the handle is initialized either way and must be closed */
	a->handles++;
	a->n->open++;
	close(in);
	in = -1;
	vgl_render_free_env(env);
	env = NULL;
	if (rc != 0) {
		snprintf(a->error, sizeof(a->error), "spawn %s: %s", o.file, uv_strerror(rc));
		close_h((uv_handle_t *)&a->proc);
		goto fail_close;
	}
	if ((rc = uv_read_start((uv_stream_t *)&a->errp, err_alloc, err_read)) != 0)
		vgl_debug("notify: channel %s: stderr: %s", c->name, uv_strerror(rc));
	if ((rc = uv_timer_start(&a->timer, on_limit, c->timeout_ms, 0)) != 0) {
		/* unbounded is not an option: the child goes now */
		snprintf(a->error, sizeof(a->error), "uv_timer_start: %s", uv_strerror(rc));
		a->killed = 1;
		kill_child(a);
	}
	return;

fail_close:
	a->ok = 0;
	if (in >= 0)
		close(in);
	vgl_render_free_env(env);
	close_h((uv_handle_t *)&a->timer);
	if (a->handles >= 2)
		close_h((uv_handle_t *)&a->errp);
	/* finished by the last close callback */
	return;
fail_now:
	a->ok = 0;
	if (in >= 0)
		close(in);
	vgl_render_free_env(env);
	vgl__nt_finish(a);
}

void vgl__nt_spawn_abandon(struct nattempt *a)
{
	a->abandoned = 1;
	if (a->handles == 0) {
		vgl__nt_free(a);
		return;
	}
	/* the process handle stays until the child is reaped (on_exit_cb
	 * closes it): closed now, libuv would never wait for it */
	if (!a->exited && !uv_is_closing((uv_handle_t *)&a->proc))
		kill_child(a);
	close_h((uv_handle_t *)&a->timer);
	close_h((uv_handle_t *)&a->errp);
}
