/* The SQLite back end of storage/sql.h, for the code that also needs the
 * sqlite3 handle itself: opening and migrating (storage/migrate.c), the
 * tests that look at the file with plain SQL. */
#ifndef VGL_SQL_SQLITE_H
#define VGL_SQL_SQLITE_H

#include <sqlite3.h>

#include "storage/sql.h"

/* A struct vgl_sql over an open handle; with owned, vgl_sql_close closes
 * the handle too. NULL when out of memory. */
struct vgl_sql *vgl_sql_sqlite_wrap(sqlite3 *db, int owned);
/* The handle under db, or NULL when db is not SQLite. */
sqlite3 *vgl_sql_sqlite_db(struct vgl_sql *db);

#endif
