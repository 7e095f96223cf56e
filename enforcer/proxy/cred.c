/* enforcer/proxy/cred.c — the credential store: secrets read from root's
 * files into memory that is never dumped nor inherited (see cred.h). */
#include "enforcer/proxy/cred.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enforcer/proxy/cred_int.h"

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* A failed system call on spec s's file, with the reason. */
static int fail_sys(char *err, size_t errlen, const struct gb_cred_spec *s, const char *what)
{
	int e = errno;
	snprintf(err, errlen, "credential %s: %s: %s: %s", s->name, s->file, what, strerror(e));
	return -e;
}

/* The secret of spec s into dst (GB_CRED_SECRET_MAX + 1 bytes of the
 * protected mapping); its length into *len. */
static int read_secret(const struct gb_cred_spec *s, char *dst, size_t *len, char *err, size_t errlen)
{
	/* O_NOFOLLOW: the file named, not what a symlink in its place points
	 * at; O_NONBLOCK: a FIFO cannot hold the start up (refused below). */
	int fd = open(s->file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return fail_sys(err, errlen, s, "cannot open");
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0)
		rc = fail_sys(err, errlen, s, "cannot stat");
	else if (!S_ISREG(st.st_mode))
		rc = fail(err, errlen, -EINVAL, "credential %s: %s: not a regular file", s->name, s->file);
	else if (st.st_uid != 0 || (st.st_mode & 077))
		rc = fail(err, errlen, -EPERM,
		          "credential %s: %s: must be owned by root with mode 0600 (no group or other "
		          "access); fix with chown root:root and chmod 600",
		          s->name, s->file);
	else if (st.st_size > GB_CRED_SECRET_MAX + 2)
		rc = fail(err, errlen, -EFBIG, "credential %s: %s: larger than 4096 bytes", s->name, s->file);
	size_t got = 0;
	while (rc == 0) {
		ssize_t n = read(fd, dst + got, GB_CRED_SECRET_MAX + 2 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fail_sys(err, errlen, s, "cannot read");
			break;
		}
		got += (size_t)n;
		if (n == 0 || got == GB_CRED_SECRET_MAX + 2)
			break;
	}
	close(fd);
	if (rc == 0 && got && dst[got - 1] == '\n')
		got--;
	if (rc == 0 && got && dst[got - 1] == '\r')
		got--;
	if (rc == 0 && got > GB_CRED_SECRET_MAX)
		rc = fail(err, errlen, -EFBIG, "credential %s: %s: larger than 4096 bytes", s->name, s->file);
	if (rc == 0 && !got)
		rc = fail(err, errlen, -EINVAL, "credential %s: %s: empty", s->name, s->file);
	for (size_t i = 0; rc == 0 && i < got; i++) {
		unsigned char ch = (unsigned char)dst[i];
		if (ch < 0x21 || ch > 0x7e || ch == '"' || ch == '\\') {
			char pos[64];
			snprintf(pos, sizeof pos, "%zu", i);
			/* the position only: the byte itself may be part of the secret */
			rc = fail(err, errlen, -EINVAL,
			          "credential %s: the secret may hold only visible ASCII other than '\"' and "
			          "'\\' (it goes into headers and JSON as it is); byte %s is not",
			          s->name, pos);
		}
	}
	if (rc < 0)
		explicit_bzero(dst, GB_CRED_SECRET_MAX + 2);
	*len = rc == 0 ? got : 0;
	return rc;
}

int gb_creds_load(const struct gb_cred_spec *specs, size_t n, struct gb_creds **out, char *err,
                  size_t errlen)
{
	*out = NULL;
	if (n > GB_CRED_MAX) {
		snprintf(err, errlen, "at most %d credentials", GB_CRED_MAX);
		return -E2BIG;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(specs[i].name, specs[j].name) || !strcmp(specs[i].env, specs[j].env)) {
				snprintf(err, errlen, "credentials %s and %s: the same %s", specs[j].name,
				         specs[i].name, strcmp(specs[i].name, specs[j].name) ? "variable" : "name");
				return -EINVAL;
			}
	struct gb_creds *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->n = n;
	if (n) {
		/* Whoever holds secrets leaves no core behind, and no other
		 * process of the same uid may read its memory (ptrace, /proc). */
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		long pg = sysconf(_SC_PAGESIZE);
		size_t slot = GB_CRED_SECRET_MAX + 2;
		c->map_len = ((n * slot) + (size_t)pg - 1) / (size_t)pg * (size_t)pg;
		c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c->map == MAP_FAILED) {
			c->map = NULL;
			free(c);
			snprintf(err, errlen, "credential memory: %s", strerror(errno));
			return -ENOMEM;
		}
		if (madvise(c->map, c->map_len, MADV_DONTDUMP) < 0 ||
		    madvise(c->map, c->map_len, MADV_DONTFORK) < 0) {
			int e = errno;
			gb_creds_free(c);
			snprintf(err, errlen, "credential memory: madvise: %s", strerror(e));
			return -e;
		}
		(void)mlock(c->map, c->map_len); /* best effort: never swapped when allowed */
		for (size_t i = 0; i < n; i++) {
			c->spec[i] = specs[i];
			c->secret[i] = c->map + i * slot;
			int rc = read_secret(&specs[i], c->secret[i], &c->secret_len[i], err, errlen);
			if (rc < 0) {
				gb_creds_free(c);
				return rc;
			}
		}
	}
	*out = c;
	return 0;
}

void gb_creds_free(struct gb_creds *c)
{
	if (!c)
		return;
	if (c->map) {
		explicit_bzero(c->map, c->map_len);
		munlock(c->map, c->map_len);
		munmap(c->map, c->map_len);
	}
	free(c);
}

size_t gb_creds_count(const struct gb_creds *c)
{
	return c ? c->n : 0;
}

const struct gb_cred_spec *gb_creds_spec(const struct gb_creds *c, size_t i)
{
	return c && i < c->n ? &c->spec[i] : NULL;
}

void gb_creds_placeholder(const struct gb_creds *c, size_t i, char *out, size_t n)
{
	snprintf(out, n, "%s%s", GB_CRED_PREFIX, c && i < c->n ? c->spec[i].name : "");
}

bool gb_creds_bound(const struct gb_creds *c, const char *host, uint16_t port, char *name, size_t n)
{
	for (size_t i = 0; c && i < c->n; i++)
		for (size_t h = 0; h < c->spec[i].n_hosts; h++)
			if (gb_cred_host_match(&c->spec[i].hosts[h], host, port)) {
				if (n)
					snprintf(name, n, "%s", c->spec[i].name);
				return true;
			}
	return false;
}

void gb_creds_used_names(const struct gb_creds *c, uint64_t used, char *out, size_t n)
{
	size_t o = 0;
	if (n)
		out[0] = 0;
	for (size_t i = 0; c && i < c->n && i < 64; i++) {
		if (!(used & (UINT64_C(1) << i)))
			continue;
		int w = snprintf(out + o, n > o ? n - o : 0, "%s%s", o ? "," : "", c->spec[i].name);
		if (w < 0 || o + (size_t)w >= n)
			break;
		o += (size_t)w;
	}
}
