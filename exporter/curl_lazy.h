/* exporter/curl_lazy.h — libcurl, loaded when the first HTTP sink opens.
 *
 * Why not link it: libcurl's dependency tree (librtmp -> GnuTLS, p11-kit,
 * Kerberos, LDAP, ...) runs its constructors at every start of the
 * glassbox binary — an empty program linked with -lcurl starts in 5.8 ms
 * instead of 0.8 ms here — and `glassbox run`, which never sends HTTP,
 * paid that on every sandbox start (bench_run).  The headers still give
 * the types; the functions come from dlopen("libcurl.so.4").
 *
 * Ownership: the table is process-wide, loaded once, never unloaded. */
#ifndef GB_EXPORTER_CURL_LAZY_H
#define GB_EXPORTER_CURL_LAZY_H

#include <curl/curl.h>
#include <stddef.h>

struct gb_curl_api {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	/* the URL parser (config_sink.c: a sink URL that can never work) */
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
	const char *(*url_strerror)(CURLUcode);
	void (*free)(void *);
};

/* The loaded API (curl_global_init done), or NULL with the reason in err. */
const struct gb_curl_api *gb_curl(char *err, size_t errlen);

#endif
