/* api/sqlite_lazy.h — SQLite, loaded when the advisor first opens its ledger.
 *
 * Why not link it: every `glassbox run` (which never opens the ledger) paid
 * for loading and relocating libsqlite3 at each sandbox start (with GnuTLS,
 * ~3.5 ms of CPU per exec of the binary; bench_run, docs/benchmarks.md).
 * The header still gives the types and constants; the functions the
 * advisor calls are renamed here to calls through a table that dlopen fills
 * from "libsqlite3.so.0" (sqlite_lazy.c) the first time sqlite3_open_v2 is
 * called.  advisor_int.h includes this right after <sqlite3.h>, so the
 * advisor's code reads as plain SQLite.  A function the advisor starts to
 * use needs its line here and in sqlite_lazy.c (the link fails until then).
 *
 * If the library cannot be loaded, sqlite3_open_v2 logs why, sets *db to
 * NULL and returns SQLITE_CANTOPEN; sqlite3_errstr then gives the reason and
 * sqlite3_close/sqlite3_free/sqlite3_errmsg are safe to call.  Every other
 * function is only reached through an open database, i.e. after the load.
 *
 * Ownership: the table is process-wide, loaded once, never unloaded. */
#ifndef GB_API_SQLITE_LAZY_H
#define GB_API_SQLITE_LAZY_H

#include <sqlite3.h>

struct gb_sqlite3_api {
	__typeof__(sqlite3_bind_int) *bind_int;
	__typeof__(sqlite3_bind_int64) *bind_int64;
	__typeof__(sqlite3_bind_null) *bind_null;
	__typeof__(sqlite3_bind_text) *bind_text;
	__typeof__(sqlite3_busy_timeout) *busy_timeout;
	__typeof__(sqlite3_clear_bindings) *clear_bindings;
	__typeof__(sqlite3_column_int) *column_int;
	__typeof__(sqlite3_column_int64) *column_int64;
	__typeof__(sqlite3_column_text) *column_text;
	__typeof__(sqlite3_exec) *exec;
	__typeof__(sqlite3_finalize) *finalize;
	__typeof__(sqlite3_last_insert_rowid) *last_insert_rowid;
	__typeof__(sqlite3_prepare_v2) *prepare_v2;
	__typeof__(sqlite3_prepare_v3) *prepare_v3;
	__typeof__(sqlite3_reset) *reset;
	__typeof__(sqlite3_step) *step;
	/* behind the wrappers below */
	__typeof__(sqlite3_open_v2) *open_v2;
	__typeof__(sqlite3_close) *close;
	__typeof__(sqlite3_errmsg) *errmsg;
	__typeof__(sqlite3_errstr) *errstr;
	__typeof__(sqlite3_free) *free;
};
extern struct gb_sqlite3_api gb_sqlite3;

/* Loads the library first (once, any thread). */
int gb_sqlite3_open_v2(const char *path, sqlite3 **db, int flags, const char *vfs);
/* Safe before (or without) a successful load. */
int gb_sqlite3_close(sqlite3 *db);
const char *gb_sqlite3_errmsg(sqlite3 *db);
const char *gb_sqlite3_errstr(int rc);
void gb_sqlite3_free(void *p);

#ifndef GB_SQLITE_LAZY_IMPL
#define sqlite3_bind_int (*gb_sqlite3.bind_int)
#define sqlite3_bind_int64 (*gb_sqlite3.bind_int64)
#define sqlite3_bind_null (*gb_sqlite3.bind_null)
#define sqlite3_bind_text (*gb_sqlite3.bind_text)
#define sqlite3_busy_timeout (*gb_sqlite3.busy_timeout)
#define sqlite3_clear_bindings (*gb_sqlite3.clear_bindings)
#define sqlite3_column_int (*gb_sqlite3.column_int)
#define sqlite3_column_int64 (*gb_sqlite3.column_int64)
#define sqlite3_column_text (*gb_sqlite3.column_text)
#define sqlite3_exec (*gb_sqlite3.exec)
#define sqlite3_finalize (*gb_sqlite3.finalize)
#define sqlite3_last_insert_rowid (*gb_sqlite3.last_insert_rowid)
#define sqlite3_prepare_v2 (*gb_sqlite3.prepare_v2)
#define sqlite3_prepare_v3 (*gb_sqlite3.prepare_v3)
#define sqlite3_reset (*gb_sqlite3.reset)
#define sqlite3_step (*gb_sqlite3.step)
#define sqlite3_open_v2 gb_sqlite3_open_v2
#define sqlite3_close gb_sqlite3_close
#define sqlite3_errmsg gb_sqlite3_errmsg
#define sqlite3_errstr gb_sqlite3_errstr
#define sqlite3_free gb_sqlite3_free
#endif

#endif
