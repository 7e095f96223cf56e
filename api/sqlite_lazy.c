/* api/sqlite_lazy.c — see sqlite_lazy.h.  This file alone sees the real names. */
#define GB_SQLITE_LAZY_IMPL
#include "api/sqlite_lazy.h"

#include "common/array.h"
#include "common/log.h"
#include "exporter/dl_load.h"

struct gb_sqlite3_api gb_sqlite3;

static void load(void);
static struct gb_dl_lazy lib = GB_DL_LAZY_INIT(load);

static void load(void)
{
	struct gb_sqlite3_api *a = &gb_sqlite3;
	const struct gb_dl_sym syms[] = {
		{ "sqlite3_bind_int", &a->bind_int },
		{ "sqlite3_bind_int64", &a->bind_int64 },
		{ "sqlite3_bind_null", &a->bind_null },
		{ "sqlite3_bind_text", &a->bind_text },
		{ "sqlite3_busy_timeout", &a->busy_timeout },
		{ "sqlite3_clear_bindings", &a->clear_bindings },
		{ "sqlite3_column_int", &a->column_int },
		{ "sqlite3_column_int64", &a->column_int64 },
		{ "sqlite3_column_text", &a->column_text },
		{ "sqlite3_exec", &a->exec },
		{ "sqlite3_finalize", &a->finalize },
		{ "sqlite3_last_insert_rowid", &a->last_insert_rowid },
		{ "sqlite3_prepare_v2", &a->prepare_v2 },
		{ "sqlite3_prepare_v3", &a->prepare_v3 },
		{ "sqlite3_reset", &a->reset },
		{ "sqlite3_step", &a->step },
		{ "sqlite3_open_v2", &a->open_v2 },
		{ "sqlite3_close", &a->close },
		{ "sqlite3_errmsg", &a->errmsg },
		{ "sqlite3_errstr", &a->errstr },
		{ "sqlite3_free", &a->free },
	};
	if (gb_dl_load("libsqlite3.so.0", syms, GB_ARRAY_LEN(syms), lib.why, sizeof lib.why) == 0)
		lib.loaded = a;
}

int gb_sqlite3_open_v2(const char *path, sqlite3 **db, int flags, const char *vfs)
{
	char err[300];
	*db = NULL;
	if (!gb_dl_lazy_get(&lib, err, sizeof err)) {
		gb_log_error("advisor", "%s", err);
		return SQLITE_CANTOPEN;
	}
	return gb_sqlite3.open_v2(path, db, flags, vfs);
}

/* Each is reached only after an open was tried, so pthread_once has run
 * (and this is the synchronised way to read its outcome).  Without the
 * library no database was opened: nothing to close or free. */
static int loaded(void)
{
	char err[8];
	return gb_dl_lazy_get(&lib, err, sizeof err) != NULL;
}

int gb_sqlite3_close(sqlite3 *db)
{
	return loaded() ? gb_sqlite3.close(db) : SQLITE_OK;
}

const char *gb_sqlite3_errmsg(sqlite3 *db)
{
	return loaded() ? gb_sqlite3.errmsg(db) : lib.why;
}

const char *gb_sqlite3_errstr(int rc)
{
	return loaded() ? gb_sqlite3.errstr(rc) : lib.why;
}

void gb_sqlite3_free(void *p)
{
	if (loaded())
		gb_sqlite3.free(p);
}
