/* Unpredictable SNMP request-ids: SipHash-2-4 in counter mode under a
 * per-process random key. See collectors/reqid.h for why.
 *
 * SipHash is a PRF built for short inputs: one 8-byte counter costs eight
 * SipRounds (about 20 ns), cheap enough for every request of the v2c hot
 * path, and unlike a fast linear generator (xorshift, an LCG) its outputs
 * do not give away its state. */
#include "collectors/reqid.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/random.h>
#include <unistd.h>

static uint64_t key[2];
static _Atomic uint64_t counter;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;
static int seed_rc = -EIO;

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND()                                                             \
	do {                                                                   \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);      \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                         \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                         \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);      \
	} while (0)

uint64_t vgl_reqid_siphash(uint64_t k0, uint64_t k1, uint64_t m)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	/* the last block: no message bytes left, the length (8) on top */
	const uint64_t last = (uint64_t)8 << 56;

	v3 ^= m;
	SIPROUND();
	SIPROUND();
	v0 ^= m;
	v3 ^= last;
	SIPROUND();
	SIPROUND();
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND();
	SIPROUND();
	SIPROUND();
	SIPROUND();
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Parent and child of a fork() would otherwise draw the same ids from the
 * same key and counter. The child's key is known to the parent either way;
 * what matters is that the two streams differ, and mixing in the pid
 * cannot fail where a second getrandom() in the child could. */
static void on_fork_child(void)
{
	key[1] ^= vgl_reqid_siphash(key[0], key[1], (uint64_t)getpid());
}

static void seed(void)
{
	unsigned char *p = (unsigned char *)key;
	size_t got = 0;

	while (got < sizeof(key)) {
		ssize_t n = getrandom(p + got, sizeof(key) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			seed_rc = -errno;
			return;
		}
		got += (size_t)n;
	}
	if (pthread_atfork(NULL, NULL, on_fork_child) != 0) {
		seed_rc = -ENOMEM;
		return;
	}
	seed_rc = 0;
}

int vgl_reqid_init(void)
{
	if (pthread_once(&seed_once, seed) != 0)
		return -EIO;
	return seed_rc;
}

uint32_t vgl_reqid_next(void)
{
	for (;;) {
		uint64_t n = atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
		uint32_t id = (uint32_t)vgl_reqid_siphash(key[0], key[1], n) & 0x7fffffffu;
		if (id != 0)
			return id;
	}
}
