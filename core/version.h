/* The version of vigild and vigil: what `vigild -V` prints, the runs table
 * records, /metrics and the event stream announce, and debian/changelog
 * carries (test/package.sh checks the two agree). */
#ifndef VGL_VERSION_H
#define VGL_VERSION_H

#define VGL_VERSION "0.15.0"

#endif
