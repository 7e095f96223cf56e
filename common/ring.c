/* common/ring.c — the shared-memory event ring (contract: ring.h, design:
 * docs/ring.md).
 *
 * File layout: one 4 KiB header page, then the data area (power of two).
 * Positions are 64-bit byte counters that never wrap; position & mask is the
 * offset in the data area.  Every record starts 8-byte aligned with a
 * struct rec_hdr; a record never straddles the end of the area (a PAD record
 * fills the tail instead).
 *
 * Reservation takes {head position, next sequence} in ONE 16-byte CAS, so
 * sequence order is position order and the consumer can read by position
 * and see sequences in order.  A drop (ring full) advances only the sequence:
 * the gap is how the consumer learns, exactly, which sequences were lost.
 */
#include "common/ring.h"
#include "common/record.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

/* ThreadSanitizer cannot see synchronisation that goes through another
 * process: a producer thread reuses space that another thread of its
 * process published, after the consumer (elsewhere) freed it.  Tell TSan
 * about that edge: publish releases, a reservation acquires, on one sync
 * object.  No code at all in other builds. */
#if defined(__SANITIZE_THREAD__)
#define GB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GB_TSAN 1
#endif
#endif
#ifdef GB_TSAN
#include <sanitizer/tsan_interface.h>
#define TSAN_RELEASE(a) __tsan_release(a)
#define TSAN_ACQUIRE(a) __tsan_acquire(a)
#else
#define TSAN_RELEASE(a) ((void)(a))
#define TSAN_ACQUIRE(a) ((void)(a))
#endif

#define RING_MAGIC 0x474252494e473031ull /* "GBRING01" */
#define RING_LAYOUT 1u
#define HDR_PAGE 4096u
#define REC_ALIGN 8u
#define PAD_TYPE 0xffffu
#define ST_RESERVED 1u
#define ST_PUBLISHED 2u
#define TAG_MULT 0x9e3779b97f4a7c15ull /* mixes the generation into the tag */

/* The pair a producer claims with one CAS.  16-byte aligned for cmpxchg16b. */
struct claim {
	uint64_t head; /* next free byte position */
	uint64_t seq;  /* next sequence number */
};

struct shared {
	uint64_t magic;
	uint32_t layout, hdr_size;
	uint64_t size; /* data area bytes */
	_Atomic uint64_t generation;
	char sandbox_id[64];

	_Alignas(64) struct claim claim; /* producers: 16-byte CAS only */
	_Atomic uint64_t dropped;        /* all time */
	_Atomic uint64_t drop_first;     /* pending range; UINT64_MAX = none */
	_Atomic uint64_t drop_last;

	_Alignas(64) _Atomic uint64_t tail; /* consumer: first unconsumed byte */
	_Atomic uint64_t read_seq;          /* consumer: next expected sequence */
	_Atomic uint64_t abandoned;
	_Atomic uint64_t prev_read_seq, prev_next_seq; /* unread range of the last generation */

	_Alignas(64) _Atomic uint32_t wake;    /* futex word, bumped on wake */
	_Atomic uint32_t waiting;              /* consumer is (about to be) asleep */
};
_Static_assert(sizeof(struct shared) <= HDR_PAGE, "header page");

/* Record header in the data area.  `mark` = tag << 2 | state; the tag binds
 * the header to its position and generation, so a stale header left from an
 * earlier lap or generation never looks current. */
struct rec_hdr {
	_Atomic uint64_t mark;
	uint32_t len; /* payload bytes */
	uint16_t type, flags;
	uint64_t seq;
	uint64_t ts_ns;
	int32_t pid;  /* reserving process, for the abandon rule */
	uint32_t check; /* hash of the fields above, for the header-less scan */
};
#define REC_HDR sizeof(struct rec_hdr)
_Static_assert(REC_HDR % REC_ALIGN == 0, "aligned header");

enum role { PRODUCER, CONSUMER };

struct gb_ring {
	struct shared *sh;
	unsigned char *data;
	size_t map_len;
	uint64_t size, mask;
	enum role role;
	/* consumer-only state */
	uint64_t gen_seen;
	int abandon_ms;
	uint64_t stuck_pos;     /* position the consumer is waiting on */
	struct timespec stuck_since;
	bool skipped_headerless; /* next gap is (partly) an abandoned slot */
	struct gb_ring_entry pending; /* what next() handed out, for consume() */
	uint64_t pending_next_tail;
	bool has_pending;
	/* The consumer's position as this handle sees it.  Published to the
	 * shared header (read_seq, then tail) by consume(), or — with
	 * deferred_commit — only by gb_ring_commit(). */
	uint64_t ltail, lseq;
	bool deferred;
	/* producer: the consumer's tail as last seen.  Space only grows, so a
	 * stale value is safe (it underestimates); the shared tail, a cache line
	 * the consumer writes per record, is read only when this says "full". */
	_Atomic uint64_t tail_cache;
};

static uint64_t align8(uint64_t v)
{
	return (v + REC_ALIGN - 1) & ~(uint64_t)(REC_ALIGN - 1);
}

static uint64_t tag_of(uint64_t gen, uint64_t pos)
{
	return ((pos >> 3) ^ (gen * TAG_MULT)) & (UINT64_MAX >> 2);
}

static uint32_t hdr_check(const struct rec_hdr *h)
{
	uint64_t x = (uint64_t)h->len * 0x100000001b3ull ^ ((uint64_t)h->type << 16 | h->flags) ^
	             h->seq * TAG_MULT ^ h->ts_ns ^ (uint64_t)(uint32_t)h->pid << 7;
	x ^= x >> 29;
	return (uint32_t)(x * 0xbf58476d1ce4e5b9ull >> 32) | 1u;
}

static struct rec_hdr *hdr_at(const struct gb_ring *r, uint64_t pos)
{
	return (struct rec_hdr *)(void *)(r->data + (pos & r->mask));
}

/* ---- 16-byte claim word ---- */

/* One 16-byte compare-and-swap.  On x86-64 it is the instruction itself,
 * not the compiler's __sync builtin: sanitizer runtimes emulate 16-byte
 * atomics with a lock *inside one process* (a read, a compare, a write back),
 * which is not atomic against the consumer in another process — under TSan
 * that emulation lost producers' updates.  The instruction is atomic across
 * processes in every build.  On failure *exp becomes the current value. */
static bool cas16(struct claim *word, struct claim *exp, struct claim neu)
{
#if defined(__x86_64__)
	uint64_t lo = exp->head, hi = exp->seq;
	bool ok;
	__asm__ __volatile__("lock cmpxchg16b %1"
	                     : "=@ccz"(ok), "+m"(*word), "+a"(lo), "+d"(hi)
	                     : "b"(neu.head), "c"(neu.seq)
	                     : "memory");
	exp->head = lo;
	exp->seq = hi;
	return ok;
#else
	unsigned __int128 o, n, prev;
	memcpy(&o, exp, sizeof o);
	memcpy(&n, &neu, sizeof n);
	prev = __sync_val_compare_and_swap((unsigned __int128 *)(void *)word, o, n);
	if (prev == o)
		return true;
	memcpy(exp, &prev, sizeof *exp);
	return false;
#endif
}

static struct claim claim_load(struct shared *sh)
{
	/* A CAS that can only succeed by writing back the same value is an atomic
	 * 16-byte load (cmpxchg16b has no plain-load form). */
	struct claim c = { 0, 0 };
	cas16(&sh->claim, &c, c);
	TSAN_ACQUIRE(&sh->claim);
	return c;
}

/* Try to replace *cur by neu.  On failure *cur becomes the current value, so
 * a retry needs no separate load (one locked instruction per attempt). */
static bool claim_cas(struct shared *sh, struct claim *cur, struct claim neu)
{
	TSAN_RELEASE(&sh->claim);
	bool ok = cas16(&sh->claim, cur, neu);
	TSAN_ACQUIRE(&sh->claim);
	return ok;
}

/* Publishing store of a record's mark.  Under TSan the release on the
 * ring's sync object must come *before* the store, or a producer that
 * reuses the space after the consumer (in another process, invisible to
 * TSan) freed it would race with the store itself; so there the store is
 * made by an instruction TSan does not instrument, after the release.  The
 * consumer acquires the same sync object when it takes the record. */
static void mark_store_published(struct shared *sh, _Atomic uint64_t *mark, uint64_t v)
{
#if defined(GB_TSAN) && defined(__x86_64__)
	TSAN_RELEASE(&sh->tail);
	/* an x86-64 store is a release store */
	__asm__ __volatile__("movq %1, %0" : "=m"(*(uint64_t *)(void *)mark) : "r"(v) : "memory");
#else
	(void)sh;
	atomic_store_explicit(mark, v, memory_order_release);
#endif
}

/* ---- futex ---- */

static void futex_wait(_Atomic uint32_t *w, uint32_t val, int timeout_ms)
{
	struct timespec ts, *tp = NULL;
	if (timeout_ms >= 0) {
		ts = gb_ms_ts(timeout_ms);
		tp = &ts;
	}
	/* Shared (not PRIVATE) futex: producers live in other processes. */
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, val, tp, NULL, 0);
}

static void wake_consumer(struct shared *sh)
{
	/* Pairs with the seq_cst store of `waiting` in consumer_sleep(): either
	 * the consumer sees our published record on its re-check, or we see it
	 * waiting.  When it is awake we make no syscall. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&sh->waiting, memory_order_relaxed) &&
	    atomic_exchange(&sh->waiting, 0)) {
		atomic_fetch_add(&sh->wake, 1);
		syscall(SYS_futex, (uint32_t *)&sh->wake, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
}

/* ---- open / create ---- */

static int map_file(int fd, enum role role, struct gb_ring **out)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size < HDR_PAGE + 4096)
		return -EINVAL;
	size_t len = (size_t)st.st_size;
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	struct shared *sh = m;
	uint64_t size = sh->size;
	if (sh->magic != RING_MAGIC || sh->layout != RING_LAYOUT || sh->hdr_size != HDR_PAGE ||
	    size < 4096 || (size & (size - 1)) != 0 || size + HDR_PAGE != len) {
		munmap(m, len);
		return -EINVAL;
	}
	struct gb_ring *r = calloc(1, sizeof *r);
	if (!r) {
		munmap(m, len);
		return -ENOMEM;
	}
	r->sh = sh;
	r->data = (unsigned char *)m + HDR_PAGE;
	r->map_len = len;
	r->size = size;
	r->mask = size - 1;
	r->role = role;
	r->abandon_ms = 2000;
	r->gen_seen = atomic_load(&sh->generation);
	r->stuck_pos = UINT64_MAX;
	r->lseq = atomic_load(&sh->read_seq);
	r->ltail = atomic_load(&sh->tail);
	atomic_store(&r->tail_cache, r->ltail);
	*out = r;
	return 0;
}

int gb_ring_create(const char *path, const struct gb_ring_opts *opts, struct gb_ring **out)
{
	uint64_t size = opts && opts->size ? opts->size : GB_RING_DEFAULT_SIZE;
	if (size < 4096 || (size & (size - 1)) != 0 || size > (1ull << 40))
		return -EINVAL;
	const char *sid = opts && opts->sandbox_id ? opts->sandbox_id : "";
	if (strlen(sid) >= sizeof ((struct shared *)0)->sandbox_id)
		return -ENAMETOOLONG;

	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	struct stat st;
	/* errno speaks only for a failed fstat; a file that is no regular file
	 * (O_NOFOLLOW stops links, not fifos or devices) is EINVAL */
	int bad = fstat(fd, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EINVAL : 0;
	if (bad < 0) {
		close(fd);
		return bad;
	}
	uint64_t old_gen = 0, old_read = 0, old_next = 0;
	if ((uint64_t)st.st_size >= sizeof(struct shared)) {
		struct shared old;
		if (pread(fd, &old, sizeof old, 0) == (ssize_t)sizeof old && old.magic == RING_MAGIC) {
			old_gen = old.generation;
			old_read = old.read_seq;
			old_next = old.claim.seq;
		}
	}
	if (ftruncate(fd, (off_t)(HDR_PAGE + size)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	void *m = mmap(NULL, HDR_PAGE + size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		int e = -errno;
		close(fd);
		return e;
	}
	/* Re-initialising an existing ring: a consumer may still have it mapped.
	 * The generation is bumped last, so a consumer that sees the new
	 * generation sees reset counters; stale record headers carry the old
	 * generation in their tags and are never taken as current. */
	struct shared *sh = m;
	memset(&sh->claim, 0, sizeof sh->claim);
	atomic_store(&sh->dropped, 0);
	atomic_store(&sh->drop_first, UINT64_MAX);
	atomic_store(&sh->drop_last, 0);
	atomic_store(&sh->tail, 0);
	atomic_store(&sh->read_seq, 0);
	atomic_store(&sh->abandoned, 0);
	atomic_store(&sh->waiting, 0);
	atomic_store(&sh->prev_read_seq, old_read);
	atomic_store(&sh->prev_next_seq, old_next);
	sh->size = size;
	sh->layout = RING_LAYOUT;
	sh->hdr_size = HDR_PAGE;
	memset(sh->sandbox_id, 0, sizeof sh->sandbox_id);
	memcpy(sh->sandbox_id, sid, strlen(sid));
	atomic_store(&sh->generation, old_gen + 1);
	sh->magic = RING_MAGIC;
	atomic_thread_fence(memory_order_release);
	if (old_gen) /* wake a sleeping consumer so it notices the new generation */
		syscall(SYS_futex, (uint32_t *)&sh->wake, FUTEX_WAKE, 1, NULL, NULL, 0);
	munmap(m, HDR_PAGE + size);
	int rc = map_file(fd, PRODUCER, out);
	close(fd);
	return rc;
}

static int open_role(const char *path, enum role role, struct gb_ring **out)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	int rc = map_file(fd, role, out);
	close(fd);
	return rc;
}

int gb_ring_open_producer(const char *path, struct gb_ring **out)
{
	return open_role(path, PRODUCER, out);
}

int gb_ring_open_consumer(const char *path, struct gb_ring **out)
{
	return open_role(path, CONSUMER, out);
}

void gb_ring_close(struct gb_ring *r)
{
	if (!r)
		return;
	munmap(r->sh, r->map_len);
	free(r);
}

const char *gb_ring_sandbox_id(const struct gb_ring *r)
{
	return r->sh->sandbox_id;
}

uint64_t gb_ring_generation(const struct gb_ring *r)
{
	return atomic_load(&r->sh->generation);
}

size_t gb_ring_max_record(const struct gb_ring *r)
{
	/* Half the area: a record plus the padding before it always fits in an
	 * empty ring, whatever the current offset. */
	uint64_t m = r->size / 2 - REC_HDR;
	return m > UINT32_MAX ? UINT32_MAX : (size_t)m;
}

/* ---- producer ---- */

static void note_drop(struct shared *sh, uint64_t seq)
{
	atomic_fetch_add(&sh->dropped, 1);
	uint64_t f = atomic_load(&sh->drop_first);
	while (seq < f && !atomic_compare_exchange_weak(&sh->drop_first, &f, seq))
		;
	uint64_t l = atomic_load(&sh->drop_last);
	while (seq > l && !atomic_compare_exchange_weak(&sh->drop_last, &l, seq))
		;
}

/* getpid() is a system call on every glibc we build with; the producer
 * needs its pid per record (the abandon rule), so cache it, and forget it
 * in a forked child. */
static _Atomic int32_t cached_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;
static void pid_forget(void)
{
	atomic_store(&cached_pid, 0);
}
static void pid_init(void)
{
	pthread_atfork(NULL, NULL, pid_forget);
}
static int32_t my_pid(void)
{
	int32_t p = atomic_load_explicit(&cached_pid, memory_order_relaxed);
	if (p == 0) {
		pthread_once(&pid_once, pid_init);
		p = (int32_t)getpid();
		atomic_store_explicit(&cached_pid, p, memory_order_relaxed);
	}
	return p;
}

static void sleep_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000L };
	nanosleep(&ts, NULL);
}

int gb_ring_reserve(struct gb_ring *r, uint16_t type, uint16_t flags, size_t len, unsigned wflags,
                    int timeout_ms, struct gb_ring_slot *slot)
{
	if (r->role != PRODUCER)
		return -EPERM;
	if (len > gb_ring_max_record(r) || type == PAD_TYPE)
		return -EMSGSIZE;
	struct shared *sh = r->sh;
	uint64_t need = REC_HDR + align8(len);
	uint64_t deadline = 0;
	long backoff = 50;
	/* The first guess for the CAS comes from two plain atomic 8-byte loads
	 * (no locked instruction); a torn pair only makes the CAS fail, and the
	 * failed CAS returns the real value. */
	struct claim cur = { __atomic_load_n(&sh->claim.head, __ATOMIC_RELAXED),
		             __atomic_load_n(&sh->claim.seq, __ATOMIC_RELAXED) }, neu;
	uint64_t pad;
	for (;;) {
		uint64_t tail = atomic_load_explicit(&r->tail_cache, memory_order_acquire);
		uint64_t off = cur.head & r->mask;
		/* A record never straddles the end: pad to the next lap. */
		pad = off + need > r->size ? r->size - off : 0;
		neu.seq = cur.seq + 1;
		if (cur.head + pad + need - tail <= r->size) {
			neu.head = cur.head + pad + need;
			if (claim_cas(sh, &cur, neu))
				break;
			continue;
		}
		/* Looks full by the cached tail: look at the real one. */
		uint64_t fresh = atomic_load_explicit(&sh->tail, memory_order_acquire);
		if (fresh != tail) {
			atomic_store_explicit(&r->tail_cache, fresh, memory_order_release);
			continue;
		}
		if (wflags & GB_RING_WAIT) {
			uint64_t now = gb_now_ns(CLOCK_MONOTONIC);
			if (!deadline)
				deadline = now + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ull;
			if (now < deadline) {
				wake_consumer(sh);
				sleep_us(backoff);
				backoff = backoff < 2000 ? backoff * 2 : 2000;
				cur = claim_load(sh);
				continue;
			}
		}
		/* Full: consume a sequence number without space, so the loss shows up
		 * as a gap exactly where it happened. */
		neu.head = cur.head;
		if (!claim_cas(sh, &cur, neu))
			continue;
		note_drop(sh, cur.seq);
		wake_consumer(sh);
		return (wflags & GB_RING_WAIT) ? -ETIMEDOUT : -ENOBUFS;
	}

	uint64_t gen = atomic_load_explicit(&sh->generation, memory_order_relaxed);
	uint64_t pos = cur.head;
	TSAN_ACQUIRE(&sh->tail); /* the space was freed after its last publish */
	if (pad >= REC_HDR) { /* a shorter tail is skipped implicitly */
		struct rec_hdr *p = hdr_at(r, pos);
		p->len = (uint32_t)(pad - REC_HDR);
		p->type = PAD_TYPE;
		p->flags = 0;
		p->seq = UINT64_MAX;
		p->ts_ns = 0;
		p->pid = my_pid();
		p->check = hdr_check(p);
		mark_store_published(sh, &p->mark, tag_of(gen, pos) << 2 | ST_PUBLISHED);
	}
	pos += pad;
	struct rec_hdr *h = hdr_at(r, pos);
	h->len = (uint32_t)len;
	h->type = type;
	h->flags = flags;
	h->seq = cur.seq;
	h->ts_ns = gb_now_ns(CLOCK_REALTIME);
	h->pid = my_pid();
	h->check = hdr_check(h);
	atomic_store_explicit(&h->mark, tag_of(gen, pos) << 2 | ST_RESERVED, memory_order_release);
	slot->data = (unsigned char *)h + REC_HDR;
	slot->len = len;
	slot->seq = cur.seq;
	slot->priv_ = h;
	return 0;
}

void gb_ring_publish(struct gb_ring *r, struct gb_ring_slot *slot)
{
	struct rec_hdr *h = slot->priv_;
	uint64_t m = atomic_load_explicit(&h->mark, memory_order_relaxed);
	mark_store_published(r->sh, &h->mark, (m & ~(uint64_t)3) | ST_PUBLISHED);
	wake_consumer(r->sh);
}

int gb_ring_write(struct gb_ring *r, uint16_t type, uint16_t flags, const void *payload, size_t len,
                  unsigned wflags, int timeout_ms, uint64_t *seq)
{
	struct gb_ring_slot s;
	int rc = gb_ring_reserve(r, type, flags, len, wflags, timeout_ms, &s);
	if (rc < 0)
		return rc;
	if (len)
		memcpy(s.data, payload, len);
	if (seq)
		*seq = s.seq;
	gb_ring_publish(r, &s);
	return 0;
}

/* ---- consumer ---- */

void gb_ring_consumer_set(struct gb_ring *r, const struct gb_ring_consumer_opts *o)
{
	r->abandon_ms = o && o->abandon_ms > 0 ? o->abandon_ms : 2000;
	bool was = r->deferred;
	r->deferred = o && o->deferred_commit;
	if (was && !r->deferred)
		gb_ring_commit(r);
}

/* Publish the handle's position: sequence first, then tail, so a restart
 * between the two finds the record again and skips it by sequence. */
static void publish_pos(struct gb_ring *r)
{
	atomic_store_explicit(&r->sh->read_seq, r->lseq, memory_order_release);
	atomic_store_explicit(&r->sh->tail, r->ltail, memory_order_release);
}

/* The consumer moved past bytes that hold no record for it. */
static void skip_to(struct gb_ring *r, uint64_t tail)
{
	r->ltail = tail;
	if (!r->deferred)
		atomic_store_explicit(&r->sh->tail, tail, memory_order_release);
}

void gb_ring_commit(struct gb_ring *r)
{
	if (r->role == CONSUMER)
		publish_pos(r);
}

void gb_ring_rewind(struct gb_ring *r)
{
	if (r->role != CONSUMER)
		return;
	r->lseq = atomic_load(&r->sh->read_seq);
	r->ltail = atomic_load(&r->sh->tail);
	r->has_pending = false;
	r->stuck_pos = UINT64_MAX;
	r->skipped_headerless = false;
}

static bool pid_dead(int32_t pid)
{
	return pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH);
}

static void loss_entry(struct gb_ring_entry *e, uint8_t cause, uint64_t first, uint64_t last)
{
	memset(e, 0, sizeof *e);
	e->is_loss = 1;
	e->type = GB_REC_LOSS;
	e->loss_cause = cause;
	e->first_seq = first;
	e->last_seq = last;
	e->count = last - first + 1;
	e->seq = first;
}

/* Has the consumer waited on `pos` for longer than the abandon window? */
static bool stuck_too_long(struct gb_ring *r, uint64_t pos)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (r->stuck_pos != pos) {
		r->stuck_pos = pos;
		r->stuck_since = now;
		return false;
	}
	return gb_ts_diff_ms(&r->stuck_since, &now) >= r->abandon_ms;
}

/* A producer died between its CAS and writing the header: the length is
 * unknown.  Find the next current header (tag and check both match) between
 * pos and head; all of [pos, found) belonged to the dead reservation. */
static uint64_t scan_next_header(struct gb_ring *r, uint64_t pos, uint64_t head, uint64_t gen)
{
	for (uint64_t p = pos + REC_ALIGN; p < head; p += REC_ALIGN) {
		if ((p & r->mask) + REC_HDR > r->size)
			continue;
		struct rec_hdr *h = hdr_at(r, p);
		uint64_t m = atomic_load_explicit(&h->mark, memory_order_acquire);
		if (m >> 2 == tag_of(gen, p) && (m & 3) && h->check == hdr_check(h))
			return p;
	}
	return head;
}

/* Is the header at pos current (this generation, this position) and in a
 * state?  Returns the state (0 = not written for this lap yet). */
static unsigned hdr_state(const struct gb_ring *r, const struct rec_hdr *h, uint64_t gen, uint64_t pos)
{
	uint64_t m = atomic_load_explicit(&((struct rec_hdr *)h)->mark, memory_order_acquire);
	return m >> 2 == tag_of(gen, pos) ? (unsigned)(m & 3) : 0;
}

/* What try_next() does with an attempt that produced no entry yet. */
enum next_rc {
	NEXT_NONE = 0,  /* nothing ready: sleep or return */
	NEXT_ENTRY = 1, /* *e is filled */
	NEXT_AGAIN = 2, /* progress without an entry (skipped padding, an
	                 * already consumed record, a dead header): call again */
};

static enum next_rc loss_before(struct gb_ring *r, struct gb_ring_entry *e, uint64_t rseq, uint64_t seq,
                                uint64_t tail)
{
	loss_entry(e, r->skipped_headerless ? GB_LOSS_ABANDONED : GB_LOSS_RING_FULL, rseq, seq - 1);
	r->pending_next_tail = tail;
	return NEXT_ENTRY;
}

/* What sits at the consumer position, as seen by classify(). */
enum look_kind {
	LOOK_IDLE,        /* nothing reserved or dropped since our position */
	LOOK_GENERATION,  /* a producer re-created the ring */
	LOOK_PUBLISHED,   /* a published record at our position (l->h) */
	LOOK_DROPPED,     /* nothing reserved, but sequences up to l->c.seq were taken */
	LOOK_WRAP,        /* too little room for a header before the end */
	LOOK_UNPUBLISHED, /* reserved but not published, or no header yet (l->hst) */
};

struct look {
	uint64_t gen, tail, rseq;
	struct rec_hdr *h; /* header at tail (LOOK_PUBLISHED, LOOK_UNPUBLISHED) */
	unsigned hst;      /* its state (0 = not written for this lap yet) */
	struct claim c;    /* producers' claim word (read only on the slow path) */
};

/* The decision tree of the consumer, with no side effects: try_next() acts
 * on its answer, ready() only asks whether it would make progress, so the
 * two cannot drift apart. */
static enum look_kind classify(struct gb_ring *r, struct look *l)
{
	struct shared *sh = r->sh;
	l->gen = atomic_load(&sh->generation);
	if (l->gen != r->gen_seen)
		return LOOK_GENERATION;
	l->tail = r->ltail;
	l->rseq = r->lseq;
	/* Fast path: a published record at our position needs no look at the
	 * producers' claim word (reading it is a locked 16-byte CAS that would
	 * pull the producers' cache line over).  The tag in the mark binds it
	 * to this position and generation, so it cannot be a stale lap. */
	bool fits = (l->tail & r->mask) + REC_HDR <= r->size;
	if (fits) {
		l->h = hdr_at(r, l->tail);
		l->hst = hdr_state(r, l->h, l->gen, l->tail);
		if (l->hst == ST_PUBLISHED)
			return LOOK_PUBLISHED;
	} else {
		l->h = NULL;
		l->hst = 0;
	}
	/* Idle check with plain shared reads: while nothing was reserved or
	 * dropped, a polling consumer must not take the claim word's cache line
	 * away from the producers.  Only a change earns the exact 16-byte read. */
	if (__atomic_load_n(&sh->claim.head, __ATOMIC_ACQUIRE) == l->tail &&
	    __atomic_load_n(&sh->claim.seq, __ATOMIC_ACQUIRE) == l->rseq)
		return LOOK_IDLE;
	l->c = claim_load(sh);
	if (l->c.head == l->tail)
		/* Nothing reserved: any sequence taken beyond read_seq was dropped. */
		return l->c.seq > l->rseq ? LOOK_DROPPED : LOOK_IDLE;
	if (!fits)
		return LOOK_WRAP;
	/* Read the header again: it may have been published since. */
	l->hst = hdr_state(r, l->h, l->gen, l->tail);
	return l->hst == ST_PUBLISHED ? LOOK_PUBLISHED : LOOK_UNPUBLISHED;
}

/* The record at `tail` is published: hand it out (or skip padding and
 * records consumed before a restart; or report drops before it). */
static enum next_rc take_published(struct gb_ring *r, struct gb_ring_entry *e, struct rec_hdr *h,
                                   uint64_t tail, uint64_t rseq)
{
	TSAN_ACQUIRE(&r->sh->tail); /* pairs with mark_store_published */
	r->stuck_pos = UINT64_MAX;
	uint64_t next = tail + REC_HDR + align8(h->len);
	if (h->type == PAD_TYPE || h->seq < rseq) {
		/* padding, or a record consumed just before a restart (read_seq
		 * is stored before tail) */
		skip_to(r, next);
		return NEXT_AGAIN;
	}
	if (h->seq > rseq)
		return loss_before(r, e, rseq, h->seq, tail);
	memset(e, 0, sizeof *e);
	e->type = h->type;
	e->flags = h->flags;
	e->seq = h->seq;
	e->ts_ns = h->ts_ns;
	e->data = (const unsigned char *)h + REC_HDR;
	e->len = h->len;
	r->pending_next_tail = next;
	return NEXT_ENTRY;
}

/* A reservation at our position is not published: wait for it, or, after
 * the abandon window, reclaim it from a dead producer. */
static enum next_rc take_unpublished(struct gb_ring *r, struct gb_ring_entry *e, const struct look *l)
{
	struct shared *sh = r->sh;
	if (!stuck_too_long(r, l->tail))
		return NEXT_NONE;
	struct rec_hdr *h = l->h;
	if (l->hst == ST_RESERVED) {
		if (!pid_dead(h->pid))
			return NEXT_NONE; /* alive and slow: never reclaim a live reservation */
		if (h->seq > l->rseq)
			return loss_before(r, e, l->rseq, h->seq, l->tail); /* earlier drops first */
		loss_entry(e, GB_LOSS_ABANDONED, h->seq, h->seq);
		r->pending_next_tail = l->tail + REC_HDR + align8(h->len);
		atomic_fetch_add(&sh->abandoned, 1);
		return NEXT_ENTRY;
	}
	/* Header never written: the reserving process died within a few
	 * instructions of its CAS (or is stopped exactly there; docs/ring.md).
	 * Its sequence number shows up as the next gap, reported ABANDONED. */
	uint64_t next = scan_next_header(r, l->tail, l->c.head, l->gen);
	skip_to(r, next);
	atomic_fetch_add(&sh->abandoned, 1);
	r->skipped_headerless = true;
	r->stuck_pos = UINT64_MAX;
	return NEXT_AGAIN;
}

/* One attempt to produce an entry at the consumer position. */
static enum next_rc try_next(struct gb_ring *r, struct gb_ring_entry *e)
{
	struct look l;
	switch (classify(r, &l)) {
	case LOOK_IDLE:
		return NEXT_NONE;
	case LOOK_GENERATION: {
		/* Report what the old generation still held unread (the creator
		 * saved the old counters). */
		struct shared *sh = r->sh;
		r->gen_seen = l.gen;
		r->stuck_pos = UINT64_MAX;
		r->skipped_headerless = false;
		r->ltail = r->lseq = 0; /* the creator reset the shared position */
		uint64_t f = atomic_load(&sh->prev_read_seq), n = atomic_load(&sh->prev_next_seq);
		loss_entry(e, GB_LOSS_GENERATION, f, n > f ? n - 1 : f);
		e->count = n > f ? n - f : 0;
		return NEXT_ENTRY;
	}
	case LOOK_PUBLISHED:
		return take_published(r, e, l.h, l.tail, l.rseq);
	case LOOK_DROPPED:
		return loss_before(r, e, l.rseq, l.c.seq, l.tail);
	case LOOK_WRAP:
		/* Producers padded implicitly to the next lap. */
		skip_to(r, (l.tail | r->mask) + 1);
		return NEXT_AGAIN;
	case LOOK_UNPUBLISHED:
		return take_unpublished(r, e, &l);
	}
	return NEXT_NONE;
}

/* Would try_next() make progress now?  A reservation still unpublished
 * counts as not ready: the sleep slices apply the abandon rule. */
static bool ready(struct gb_ring *r)
{
	struct look l;
	enum look_kind k = classify(r, &l);
	return k != LOOK_IDLE && k != LOOK_UNPUBLISHED;
}

#define SPIN_CHECKS 4096 /* ~20-50 us of polling before sleeping */

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

static void consumer_sleep(struct gb_ring *r, int timeout_ms)
{
	struct shared *sh = r->sh;
	/* Under load the next record is usually microseconds away: poll a
	 * little before announcing sleep, so producers rarely find the
	 * consumer asleep and rarely pay for a FUTEX_WAKE. */
	for (int i = 0; i < SPIN_CHECKS; i++) {
		if (ready(r))
			return;
		cpu_relax();
	}
	uint32_t w = atomic_load(&sh->wake);
	atomic_store(&sh->waiting, 1);
	/* Re-check after announcing: a producer that published before it could
	 * see `waiting` is caught here; one that publishes later wakes us. */
	if (!ready(r))
		futex_wait(&sh->wake, w, timeout_ms);
	atomic_store(&sh->waiting, 0);
}

int gb_ring_next(struct gb_ring *r, struct gb_ring_entry *e, int timeout_ms)
{
	if (r->role != CONSUMER)
		return -EPERM;
	uint64_t deadline = 0;
	if (timeout_ms > 0)
		deadline = gb_now_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		enum next_rc rc = try_next(r, e);
		if (rc == NEXT_AGAIN)
			continue;
		if (rc == NEXT_ENTRY) {
			r->pending = *e;
			r->has_pending = true;
			return 1;
		}
		if (timeout_ms == 0)
			return 0;
		/* Sleep in slices short enough to apply the abandon rule in time. */
		uint64_t slice = (uint64_t)r->abandon_ms / 4 + 1;
		if (r->stuck_pos != UINT64_MAX && slice > 10)
			slice = 10;
		if (timeout_ms > 0) {
			uint64_t now = gb_now_ns(CLOCK_MONOTONIC);
			if (now >= deadline)
				return 0;
			uint64_t left = (deadline - now + 999999) / 1000000ull;
			if (left < slice)
				slice = left;
		}
		consumer_sleep(r, (int)slice);
	}
}

void gb_ring_consume(struct gb_ring *r)
{
	struct shared *sh = r->sh;
	if (!r->has_pending)
		return;
	const struct gb_ring_entry *p = &r->pending;
	r->has_pending = false;
	if (p->is_loss) {
		r->skipped_headerless = false;
		if (p->loss_cause == GB_LOSS_GENERATION)
			return; /* the creator already reset the counters */
		if (p->loss_cause == GB_LOSS_RING_FULL) {
			/* the pending drop range is reported: clear it */
			uint64_t f = atomic_load(&sh->drop_first);
			if (atomic_load(&sh->drop_last) <= p->last_seq && f >= p->first_seq)
				atomic_compare_exchange_strong(&sh->drop_first, &f, UINT64_MAX);
		}
	}
	r->lseq = p->is_loss ? p->last_seq + 1 : p->seq + 1;
	r->ltail = r->pending_next_tail;
	if (!r->deferred)
		publish_pos(r);
}

void gb_ring_stats(const struct gb_ring *r, struct gb_ring_stats *s)
{
	struct shared *sh = r->sh;
	struct claim c = claim_load(sh);
	uint64_t tail = atomic_load(&sh->tail);
	memset(s, 0, sizeof *s);
	s->generation = atomic_load(&sh->generation);
	s->next_seq = c.seq;
	s->read_seq = atomic_load(&sh->read_seq);
	s->dropped = atomic_load(&sh->dropped);
	uint64_t f = atomic_load(&sh->drop_first);
	if (f != UINT64_MAX) {
		s->drop_first = f;
		s->drop_last = atomic_load(&sh->drop_last);
	}
	s->abandoned = atomic_load(&sh->abandoned);
	s->size = (size_t)r->size;
	s->used = (size_t)(c.head - tail);
}
