/* cli/logs_api.h — `glassbox logs` through the daemon's API (cmd_logs.c
 * falls back to reading the journal itself when no daemon runs). */
#ifndef GB_CLI_LOGS_API_H
#define GB_CLI_LOGS_API_H

struct gb_logs_args {
	const char *name;
	const char *since, *until; /* as given: the API parses them */
	const char *level;         /* severity name */
	const char *cls;           /* class_uid */
	int follow, json, colour;
	long last;                 /* -n N: only the last N (0 = all) */
};

/* 0 when the daemon answered (*status = the exit status), -ENOENT or
 * -ECONNREFUSED when no daemon runs, other -errno (message printed). */
int gb_logs_api(const struct gb_logs_args *a, int *status);

#endif
