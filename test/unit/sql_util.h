/* The storage modules take a struct vgl_sql (storage/sql.h); the tests
 * hold plain sqlite3 handles for their own SQL. sqw(db) is the borrowed
 * wrapper of db, one per handle, kept in a static table for the test's
 * life: still reachable, so LeakSanitizer does not count it, and a handle
 * address reused after a close wraps the same pointer, which is right. */
#ifndef VGL_TEST_SQL_UTIL_H
#define VGL_TEST_SQL_UTIL_H

#include "storage/sql_sqlite.h"
#include "test/test.h"

static __attribute__((unused)) struct vgl_sql *sqw(sqlite3 *db)
{
	static struct {
		sqlite3 *db;
		struct vgl_sql *w;
	} tab[32];

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (tab[i].db == db)
			return tab[i].w;
		if (!tab[i].db) {
			tab[i].w = vgl_sql_sqlite_wrap(db, 0);
			ASSERT(tab[i].w);
			tab[i].db = db;
			return tab[i].w;
		}
	}
	ASSERT(!"sqw: more than 32 handles in one test");
	return NULL;
}

#endif
