/* Runs every TEST() linked into the binary (or those whose name contains
 * argv[1]), each in a forked child with its own scratch directory, prints
 * TAP-like "ok"/"not ok" lines and ends with "N passed, N failed". */
#include "test/test.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

struct test_entry {
	const char *name;
	const char *file;
	vgl_test_fn *fn;
};

static struct test_entry *tests;
static size_t n_tests, cap_tests;
static char tmpdir[256];

void vgl_test_register(const char *name, vgl_test_fn *fn, const char *file)
{
	if (n_tests == cap_tests) {
		size_t cap = cap_tests ? cap_tests * 2 : 64;
		struct test_entry *t = realloc(tests, cap * sizeof(*t));
		if (!t) {
			fprintf(stderr, "test registry: out of memory\n");
			exit(2);
		}
		tests = t;
		cap_tests = cap;
	}
	tests[n_tests++] = (struct test_entry){ name, file, fn };
}

void vgl_test_fail(void)
{
	fflush(stdout);
	fflush(stderr);
	exit(1);
}

const char *vgl_test_tmpdir(void) { return tmpdir; }

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct test_entry *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	return c ? c : strcmp(x->name, y->name);
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	unsigned passed = 0, failed = 0, ran = 0;
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	qsort(tests, n_tests, sizeof(*tests), cmp_entry);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < n_tests; i++) {
		struct test_entry *t = &tests[i];
		int status;
		pid_t pid;

		if (filter && !strstr(t->name, filter))
			continue;
		snprintf(tmpdir, sizeof(tmpdir), "%s/vgl-test-XXXXXX", base);
		if (!mkdtemp(tmpdir)) {
			fprintf(stderr, "mkdtemp %s: %s\n", tmpdir, strerror(errno));
			return 2;
		}
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0) {
			alarm(120); /* a hung test fails instead of hanging CI */
			t->fn();
			fflush(stdout);
			exit(0); /* exit, not _exit: LeakSanitizer runs at exit */
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		ran++;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			passed++;
			printf("ok %u %s\n", ran, t->name);
		} else {
			failed++;
			if (WIFSIGNALED(status))
				printf("not ok %u %s (signal %d)\n", ran, t->name, WTERMSIG(status));
			else
				printf("not ok %u %s (exit %d)\n", ran, t->name, WEXITSTATUS(status));
		}
		fflush(stdout);
	}
	printf("%u passed, %u failed\n", passed, failed);
	free(tests);
	return failed || !ran ? 1 : 0;
}
