/* UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing
 * past U+10FFFF. Text enters vigil from config files, the command line,
 * case documents and SNMP agents; what vigil writes as JSON must be valid
 * UTF-8 whatever came in, or strict parsers reject the whole document. */
#ifndef VGL_UTF8_H
#define VGL_UTF8_H

#include <stddef.h>

/* Bytes of the valid sequence starting at s (1 to 4), or 0 when the bytes
 * at s are not valid UTF-8. n > 0. */
size_t vgl_utf8_seq(const unsigned char *s, size_t n);
/* Offset of the first byte that is not valid UTF-8, or n if all is. */
size_t vgl_utf8_check(const char *s, size_t n);
/* A NUL-terminated copy of s[0..n) in which each byte that does not start
 * a valid sequence became U+FFFD; malloc'd, NULL when out of memory. */
char *vgl_utf8_clean(const char *s, size_t n);

#endif
