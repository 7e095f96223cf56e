/* exporter/tar.c — ustar members in and out (contract: tar.h). */
#include "exporter/tar.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BLK 512

static unsigned checksum(const unsigned char h[BLK])
{
	unsigned s = 0;
	for (int i = 0; i < BLK; i++)
		s += (i >= 148 && i < 156) ? ' ' : h[i];
	return s;
}

static bool safe_name(const char *n)
{
	if (!*n || *n == '/')
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-' || *p == '/'))
			return false;
	/* every component: not empty, not "." nor ".." */
	for (const char *c = n; *c;) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += l + (e ? 1 : 0);
		if (e && !*c)
			return false; /* trailing slash: a directory */
	}
	return true;
}

/* w-1 octal digits and a NUL; -1 when v does not fit (11 digits: 8 GiB). */
static int put_oct(unsigned char *p, size_t w, uint64_t v)
{
	p[w - 1] = 0;
	for (size_t i = w - 1; i-- > 0; v >>= 3)
		p[i] = (unsigned char)('0' + (v & 7));
	return v ? -1 : 0;
}

int gb_tar_add(FILE *f, const char *name, const void *data, size_t len, int64_t mtime)
{
	unsigned char h[BLK];
	if (strlen(name) >= 100 || !safe_name(name))
		return -EINVAL;
	memset(h, 0, sizeof h);
	memcpy(h, name, strlen(name));
	put_oct(h + 100, 8, 0644);
	put_oct(h + 108, 8, 0);
	put_oct(h + 116, 8, 0);
	if (put_oct(h + 124, 12, len) < 0)
		return -EFBIG;
	put_oct(h + 136, 12, (uint64_t)(mtime > 0 ? mtime : 0));
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	put_oct(h + 148, 7, checksum(h)); /* 6 digits, NUL, space */
	h[155] = ' ';
	static const unsigned char zero[BLK];
	size_t pad = (BLK - len % BLK) % BLK;
	if (fwrite(h, 1, BLK, f) != BLK || (len && fwrite(data, 1, len, f) != len) ||
	    (pad && fwrite(zero, 1, pad, f) != pad))
		return -EIO;
	return 0;
}

int gb_tar_finish(FILE *f)
{
	static const unsigned char zero[2 * BLK];
	return fwrite(zero, 1, sizeof zero, f) == sizeof zero && fflush(f) == 0 ? 0 : -EIO;
}

/* An octal field: digits, then spaces or NULs only. */
static int octal(const unsigned char *p, size_t n, uint64_t *v)
{
	size_t i = 0;
	*v = 0;
	while (i < n && p[i] == ' ')
		i++;
	size_t digits = 0;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++, digits++) {
		if (*v >> 60)
			return -1;
		*v = *v * 8 + (uint64_t)(p[i] - '0');
	}
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != 0)
			return -1;
	return digits ? 0 : -1;
}

int gb_tar_next(FILE *f, char name[100], char **data, size_t *len, size_t max_len)
{
	unsigned char h[BLK];
	*data = NULL;
	*len = 0;
	size_t got = fread(h, 1, BLK, f);
	if (got == 0)
		return -EBADMSG; /* no end-of-archive blocks: truncated */
	if (got != BLK)
		return -EBADMSG;
	bool zero = true;
	for (int i = 0; i < BLK && zero; i++)
		zero = h[i] == 0;
	if (zero)
		return 0;
	uint64_t sum, size;
	if (octal(h + 148, 8, &sum) < 0 || sum != checksum(h) || octal(h + 124, 12, &size) < 0)
		return -EBADMSG;
	if ((h[156] != '0' && h[156] != 0) || memchr(h, 0, 100) == NULL || h[345] != 0)
		return -EBADMSG; /* not a regular file, or a name using the prefix field */
	memcpy(name, h, 100);
	if (!safe_name(name))
		return -EBADMSG;
	if (size > max_len)
		return -EFBIG;
	char *d = malloc(size ? (size_t)size : 1);
	if (!d)
		return -ENOMEM;
	size_t pad = (BLK - size % BLK) % BLK;
	char skip[BLK];
	if ((size && fread(d, 1, (size_t)size, f) != size) || (pad && fread(skip, 1, pad, f) != pad)) {
		free(d);
		return -EBADMSG;
	}
	*data = d;
	*len = (size_t)size;
	return 1;
}
