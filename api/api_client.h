/* api/api_client.h — the CLI's side of the REST API: HTTP/1.1 over the
 * daemon's unix socket (<root>/run/glassbox/api.sock, common/paths.h), the
 * answer parsed by libhttp-parser.
 *
 * Ownership: *body is the caller's (free).
 */
#ifndef GB_API_API_CLIENT_H
#define GB_API_API_CLIENT_H

#include <stddef.h>

/* <root>/run/glassbox/api.sock into buf. */
void gb_apic_socket(const char *root, char *buf, size_t len);

/* One request: method "GET", "PUT", "PATCH"; path with query string
 * ("/v1/..."); body may be NULL.  0 with *status and *body (NUL-terminated)
 * or -ENOENT / -ECONNREFUSED when no daemon answers, other -errno; err
 * gets a sentence on failure. */
int gb_apic_request(const char *root, const char *method, const char *path, const char *body,
                    size_t body_len, long *status, char **body_out, char *err, size_t errlen);

/* A streaming GET (follow=1): on_line(arg, line, len) for every line of
 * the answer as it arrives (without the newline); a non-zero return ends
 * the stream.  Returns like gb_apic_request; *status is the HTTP status. */
int gb_apic_stream(const char *root, const char *path,
                   int (*on_line)(void *arg, const char *line, size_t len), void *arg,
                   long *status, char *err, size_t errlen);

/* The API's time syntax, for the CLI's checks: RFC 3339 with or without
 * fractions and with Z or an offset, a duration ago (10m), epoch ms. */
#include <stdint.h>
int gb_apic_parse_time(const char *s, int64_t *ms);

#endif
