/* common/fsutil.h — the few file-system steps every part needs, done once
 * and done right: writing all of a buffer, replacing a file atomically and
 * durably, fsyncing a directory, creating a directory path, hex and the
 * SHA-256 of a file.
 *
 * Durability is the point of this header.  A file replaced with
 * gb_write_file_atomic() is, after a crash at any moment, either the old
 * content or the new one, whole: the data goes to PATH.tmp with every byte
 * written (a short write is an error, never a shorter file), is fsync'ed,
 * renamed over PATH, and the directory is fsync'ed so the rename itself
 * survives.  On any failure PATH is untouched and PATH.tmp removed.
 *
 * Errors are negative errno.  Ownership: nothing is allocated; buffers are
 * the caller's.
 */
#ifndef GB_COMMON_FSUTIL_H
#define GB_COMMON_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* write(2) until all of p[0..n) is written, retrying EINTR; a write that
 * makes no progress is -EIO.  0 or -errno. */
int gb_write_all(int fd, const void *p, size_t n);

/* Flags for gb_write_file_atomic. */
#define GB_ATOMIC_NO_FSYNC 1u /* still all-or-nothing for readers, but not
                               * durable across a host crash: for views
                               * rewritten every few seconds (metrics) */

/* Replace path with data[0..len) (see above); the new file gets mode. */
int gb_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         unsigned flags);

/* fsync the directory holding path (a file's creation, rename or removal
 * is durable only then).  path must contain a '/'. */
int gb_fsync_dir(const char *path_in_dir);

/* mkdir -p: every missing component of path, the last with mode `leaf`,
 * the ones above it with `parents`.  An existing directory is fine; an
 * existing non-directory is -ENOTDIR. */
int gb_mkdir_p(const char *path, mode_t parents, mode_t leaf);

/* n bytes as lowercase hex into out (2n + 1 bytes, NUL-terminated). */
void gb_hex(const unsigned char *d, size_t n, char *out);
/* The value of one hex digit (either case), or -1. */
int gb_hex_digit(char c);

/* SHA-256 (OpenSSL EVP) of everything readable from fd, from its current
 * offset, as 64 hex digits + NUL.  On error hex is "". */
int gb_sha256_fd(int fd, char hex[65]);
/* The same for the file at path. */
int gb_sha256_file(const char *path, char hex[65]);

#endif
