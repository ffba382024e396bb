#include "core/utf8.h"

#include <stdlib.h>
#include <string.h>

size_t vgl_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	/* The second byte's range narrows for the first bytes that would
	 * otherwise allow overlong forms (E0, F0), surrogates (ED) or code
	 * points past U+10FFFF (F4). */
	unsigned lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

size_t vgl_utf8_check(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		size_t k;

		if (u[i] < 0x80) {
			i++;
			continue;
		}
		k = vgl_utf8_seq(u + i, n - i);
		if (!k)
			return i;
		i += k;
	}
	return n;
}

char *vgl_utf8_clean(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	/* each bad byte grows to the 3 bytes of U+FFFD */
	char *out = n <= (((size_t)-1) - 1) / 3 ? malloc(3 * n + 1) : NULL, *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = vgl_utf8_seq(u + i, n - i);

		if (k) {
			memcpy(o, s + i, k);
			o += k;
			i += k;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	*o = '\0';
	return out;
}
