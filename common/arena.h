/* common/arena.h — a bump allocator for data built once and freed at once:
 * a YAML tree (common/yaml.h), a loaded policy (common/policy.h).
 *
 * Blocks are zeroed and aligned for any type.  An allocation failure is
 * sticky: once `err` is -ENOMEM every later allocation fails too, so a
 * builder may allocate freely and check `err` once at the end.  Under
 * AddressSanitizer each allocation is followed by a poisoned red zone.
 *
 * Ownership: the arena owns every block allocated from it; gb_arena_free()
 * releases them all (and resets the arena for reuse).  Not thread-safe: one
 * builder at a time.  A zero-initialised struct gb_arena is an empty arena.
 */
#ifndef GB_COMMON_ARENA_H
#define GB_COMMON_ARENA_H

#include <stddef.h>

struct gb_arena_blk;
struct gb_arena {
	struct gb_arena_blk *head;
	int err; /* -ENOMEM once an allocation failed (sticky) */
};

void *gb_arena_alloc(struct gb_arena *a, size_t n); /* zeroed; NULL on failure */
/* Copy of s[0..n) plus a NUL (s may hold NULs; n bytes are copied). */
char *gb_arena_strndup(struct gb_arena *a, const char *s, size_t n);
char *gb_arena_strdup(struct gb_arena *a, const char *s); /* NULL stays NULL */
void gb_arena_free(struct gb_arena *a);

#endif
