/* The daemon: one struct owned by the libuv loop thread, holding the
 * config, the store, the collectors and every host's runtime state.
 * main.c parses options and signals; this module wires the rest. */
#ifndef VGL_VIGIL_H
#define VGL_VIGIL_H

#include <uv.h>

#include "conf/conf.h"

struct vigil;

/* Takes ownership of conf. Opens the store (recording the unobserved gap
 * since the previous run), restores open intervals and starts polling.
 * 0 or -1 (logged). */
int vgl_vigil_start(uv_loop_t *loop, struct vgl_conf *conf, struct vigil **out);

/* SIGHUP: loads path again; an invalid config is logged with every error
 * and the running one stays. Hosts that remain keep their state. */
void vgl_vigil_reload(struct vigil *v);

/* SIGTERM/SIGINT: cancels in-flight polls and closes every handle of the
 * daemon; the loop then runs out. Call vgl_vigil_free after uv_run returns:
 * it flushes and closes the store. */
void vgl_vigil_stop(struct vigil *v);
void vgl_vigil_free(struct vigil *v);

#endif
