/* exporter/tar.h — the few lines of POSIX ustar the evidence bundle needs:
 * regular files with short relative names, written and read back.
 *
 * Why not libarchive: glassbox is one binary, and every library it links
 * is loaded by every `glassbox run` (libarchive pulls in libxml2, liblzma,
 * libbz2, liblz4, libacl and nettle; the exporter already dlopens libcurl
 * and librdkafka to keep that start-up cost away).  A bundle needs one
 * member type, so a writer and a strict reader are ~150 lines.
 *
 * The reader is for untrusted input: only regular files ('0' or NUL type),
 * names of at most 99 bytes from [A-Za-z0-9._/-] with no empty, "." or ".."
 * component and no leading '/', checksums checked, sizes bounded by the
 * caller's limit, and a truncated archive is an error.
 *
 * Ownership: the FILE* is the caller's; the reader's data buffer is
 * malloc'd and given to the caller.
 */
#ifndef GB_EXPORTER_TAR_H
#define GB_EXPORTER_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Append one member (mode 0644, mtime). 0 or -errno. */
int gb_tar_add(FILE *f, const char *name, const void *data, size_t len, int64_t mtime);
/* The two zero blocks that end an archive. */
int gb_tar_finish(FILE *f);

/* Next member: 1 with name (NUL-terminated, 100 bytes) and *data, *len
 * (malloc'd, free it), 0 at the end, -EBADMSG for anything malformed or
 * unsafe, -EFBIG for a member larger than max_len. */
int gb_tar_next(FILE *f, char name[100], char **data, size_t *len, size_t max_len);

#endif
