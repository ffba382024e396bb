/* The config loader (vgl_conf_load, conf/conf.h) over three files made
 * from one input: the main file, one host file of its include directory
 * and one secret file (mode 0600, as the loader demands), split at the
 * line "%%":
 *
 *   { "include": "hosts.d", ... "secrets": "secret.json" ... }
 *   %%
 *   { "hosts": [ ... ] }
 *   %%
 *   { "community": "..." }
 *
 * They are written to a private directory made at start (under TMPDIR)
 * as vigil.json, hosts.d/h.json and secret.json, and the main file is
 * loaded: JSON with comments, templates, overrides, expressions, MIB
 * names, SLA policies, all validated. A success must hold hosts that can
 * be found by name; a failure must say why. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "test/fuzz/fuzz.h"

static char dir[4096], main_path[4200], host_path[4200], secret_path[4200], inc_path[4200];

static void cleanup(void)
{
	unlink(main_path);
	unlink(host_path);
	unlink(secret_path);
	rmdir(inc_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/vgl-fuzz-conf-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("fuzz_conf: mkdtemp");
		exit(1);
	}
	snprintf(main_path, sizeof(main_path), "%s/vigil.json", dir);
	snprintf(inc_path, sizeof(inc_path), "%s/hosts.d", dir);
	snprintf(host_path, sizeof(host_path), "%s/hosts.d/h.json", dir);
	snprintf(secret_path, sizeof(secret_path), "%s/secret.json", dir);
	if (mkdir(inc_path, 0700) != 0) {
		perror("fuzz_conf: mkdir");
		exit(1);
	}
	if (atexit(cleanup) != 0)
		exit(1);
	return 0;
}

static void put(const char *path, const uint8_t *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || fchmod(fd, mode) != 0) {
		perror(path);
		abort();
	}
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror(path);
			abort();
		}
		p += w;
		n -= (size_t)w;
	}
	if (close(fd) != 0)
		abort();
}

/* The next part of data[*at..size), up to the separator line or the end. */
static size_t part(const uint8_t *data, size_t size, size_t *at, const uint8_t **p)
{
	static const char sep[] = "\n%%\n";
	const uint8_t *s = data + *at;
	const uint8_t *e = memmem(s, size - *at, sep, sizeof(sep) - 1);
	size_t n = e ? (size_t)(e - s) : size - *at;

	*p = s;
	*at += n + (e ? sizeof(sep) - 1 : 0);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vgl_conf *c = NULL;
	struct vgl_conf_errors errs = { 0 };
	const uint8_t *p;
	size_t at = 0, n;

	n = part(data, size, &at, &p);
	put(main_path, p, n, 0644);
	n = part(data, size, &at, &p);
	put(host_path, p, n, 0644);
	n = part(data, size, &at, &p);
	put(secret_path, p, n, 0600);
	if (vgl_conf_load(main_path, &c, &errs) == 0) {
		FUZZ_CHECK(c != NULL && errs.n == 0);
		for (size_t i = 0; i < c->n_hosts; i++) {
			const struct vgl_conf_host *h = &c->hosts[i];

			FUZZ_CHECK(h->name && h->address && h->profile);
			FUZZ_CHECK(vgl_conf_find_host(c, h->name) == h);
			for (size_t k = 0; k < h->profile->n_conds; k++)
				FUZZ_CHECK(h->profile->conds[k].kind != VGL_COND_EXPR ||
					   h->profile->conds[k].expr);
		}
		vgl_conf_free(c);
	} else {
		FUZZ_CHECK(c == NULL && errs.n > 0);
		for (size_t i = 0; i < errs.n; i++)
			FUZZ_CHECK(errs.msgs[i] && errs.msgs[i][0]);
	}
	vgl_conf_errors_free(&errs);
	return 0;
}
