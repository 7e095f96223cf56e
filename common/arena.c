/* common/arena.c — a bump allocator (contract: arena.h): many small
 * allocations, one free.  A loaded policy and a YAML tree each live in one. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"

/* Under AddressSanitizer every allocation is followed by a poisoned red
 * zone, so an overrun inside a block is reported like a heap overflow
 * instead of silently reading the neighbour. */
#if defined(__SANITIZE_ADDRESS__)
#define GB_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GB_ARENA_ASAN 1
#endif
#endif
#ifdef GB_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define REDZONE 32u
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define REDZONE 0u
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct gb_arena_blk {
	struct gb_arena_blk *next;
	size_t used, cap;
	max_align_t data[]; /* aligned for anything */
};

#define BLK_MIN (16u * 1024u)

void *gb_arena_alloc(struct gb_arena *a, size_t n)
{
	const size_t al = _Alignof(max_align_t);
	if (a->err || n > SIZE_MAX / 2)
		goto fail;
	size_t want = n;
	n = (n + al - 1) & ~(al - 1);
	if (!n)
		n = al;
	n += REDZONE;
	struct gb_arena_blk *b = a->head;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > BLK_MIN ? n : BLK_MIN;
		b = malloc(sizeof *b + cap);
		if (!b)
			goto fail;
		b->used = 0;
		b->cap = cap;
		POISON(b->data, cap);
		/* A big one-off block goes behind the head so the head's free
		 * space keeps serving small allocations. */
		if (a->head && cap > BLK_MIN) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	UNPOISON(p, want);
	memset(p, 0, want);
	return p;
fail:
	a->err = -ENOMEM;
	return NULL;
}

char *gb_arena_strndup(struct gb_arena *a, const char *s, size_t n)
{
	char *p = gb_arena_alloc(a, n + 1);
	if (p && n)
		memcpy(p, s, n);
	return p;
}

char *gb_arena_strdup(struct gb_arena *a, const char *s)
{
	return s ? gb_arena_strndup(a, s, strlen(s)) : NULL;
}

void gb_arena_free(struct gb_arena *a)
{
	struct gb_arena_blk *b = a->head, *nx;
	for (; b; b = nx) {
		nx = b->next;
		UNPOISON(b->data, b->cap);
		free(b);
	}
	a->head = NULL;
	a->err = 0;
}
