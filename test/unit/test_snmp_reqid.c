/* collectors/reqid.c: SipHash-2-4 against the reference vectors, the
 * range of the ids, their spread over the bits, a forked child drawing
 * another stream, and the cost per id. How the collector uses them is in
 * test_snmp.c (snmp_request_ids_are_not_sequential). */
#include "test/test.h"

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collectors/reqid.h"

/* Key 00 01 .. 0f; the outputs are those of the SipHash paper's
 * reference implementation (Aumasson, Bernstein 2012) for the 8-byte
 * message 00 01 .. 07, and for the empty key and message 0 as OpenSSL 3's
 * SIPHASH MAC gives it. */
TEST(snmp_reqid_siphash_vectors)
{
	const uint64_t k0 = 0x0706050403020100ull, k1 = 0x0f0e0d0c0b0a0908ull;

	ASSERT(vgl_reqid_siphash(k0, k1, 0x0706050403020100ull) == 0x93f5f5799a932462ull);
	ASSERT(vgl_reqid_siphash(0, 0, 0) == 0xe849e8bb6ffe2567ull);
}

TEST(snmp_reqid_range_and_spread)
{
	enum { N = 20000 };
	unsigned ones[31] = { 0 };
	uint32_t prev = 0;
	int near = 0;

	ASSERT_EQ(vgl_reqid_init(), 0);
	ASSERT_EQ(vgl_reqid_init(), 0);         /* once per process; later calls agree */
	for (int i = 0; i < N; i++) {
		uint32_t id = vgl_reqid_next();

		ASSERT_GE(id, 1);
		ASSERT_LE(id, 0x7fffffffu);
		for (int b = 0; b < 31; b++)
			ones[b] += (id >> b) & 1;
		/* random 31-bit draws land within 2^16 of the previous one
		 * with odds of 2^-14: a few in 20,000, not thousands */
		near += i && (id > prev ? id - prev : prev - id) < 65536;
		prev = id;
	}
	ASSERT_LT(near, 20);
	/* each bit set in half the draws: 10,000 +- 71 (one sigma) */
	for (int b = 0; b < 31; b++) {
		ASSERT_GT(ones[b], N / 2 - 700);
		ASSERT_LT(ones[b], N / 2 + 700);
	}
}

/* Without the fork handler parent and child share key and counter, so
 * they draw the same next ids. */
TEST(snmp_reqid_fork_child_draws_another_stream)
{
	uint32_t mine[4], theirs[4];
	int fds[2], st;
	pid_t pid;

	ASSERT_EQ(vgl_reqid_init(), 0);
	(void)vgl_reqid_next();
	ASSERT_EQ(pipe(fds), 0);
	pid = fork();
	ASSERT(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < 4; i++)
			theirs[i] = vgl_reqid_next();
		_exit(write(fds[1], theirs, sizeof(theirs)) == (ssize_t)sizeof(theirs) ? 0 : 1);
	}
	close(fds[1]);
	for (int i = 0; i < 4; i++)
		mine[i] = vgl_reqid_next();
	ASSERT_EQ(read(fds[0], theirs, sizeof(theirs)), (ssize_t)sizeof(theirs));
	close(fds[0]);
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			ASSERT_NE(mine[i], theirs[j]);
}

/* One id per request on the v2c hot path: it must stay far below the
 * microsecond or two a request costs. */
TEST(snmp_reqid_cost)
{
	enum { N = 1000000 };
	struct timespec a, b;
	uint32_t x = 0;
	double ns;

	ASSERT_EQ(vgl_reqid_init(), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < N; i++)
		x ^= vgl_reqid_next();
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / N;
	fprintf(stderr, "# %.1f ns per request-id (%08x)\n", ns, (unsigned)x);
	ASSERT(ns < 500);
}
