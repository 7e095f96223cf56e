/* tests/unit/test_sha256.c — common/sha256.h: OpenSSL's SHA-256 called
 * without EVP must give exactly the digests EVP gives (policy hashes and
 * executable hashes are compared across processes, journals and builds).
 * Attacked: FIPS 180-2 vectors, a long input fed in uneven pieces (block
 * boundaries), and random inputs against EVP's SHA-256. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/fsutil.h"
#include "common/sha256.h"

static void hex_of(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	gb_sha256(p, n, md);
	gb_hex(md, 32, out);
}

static void test_vectors(void **state)
{
	(void)state;
	char h[65];
	hex_of("", 0, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hex_of(two, strlen(two), h);
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_million_a_in_pieces(void **state)
{
	(void)state;
	static unsigned char a[1000];
	memset(a, 'a', sizeof a);
	struct gb_sha256 s;
	gb_sha256_init(&s);
	size_t left = 1000000, step = 1;
	while (left) { /* 1, 2, ... 63, 64, 65 ... bytes: every offset in a block */
		size_t n = step < left ? step : left;
		if (n > sizeof a)
			n = sizeof a;
		gb_sha256_update(&s, a, n);
		left -= n;
		step = step % 130 + 1;
	}
	unsigned char md[32];
	char h[65];
	gb_sha256_final(&s, md);
	gb_hex(md, 32, h);
	assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_same_as_evp(void **state)
{
	(void)state;
	srand(13);
	static unsigned char buf[5000];
	for (int r = 0; r < 200; r++) { /* bounded: 200 inputs of at most 5000 bytes */
		size_t n = (size_t)rand() % sizeof buf;
		for (size_t i = 0; i < n; i++)
			buf[i] = (unsigned char)rand();
		unsigned char a[32], b[EVP_MAX_MD_SIZE];
		unsigned bl = 0;
		gb_sha256(buf, n, a);
		assert_int_equal(EVP_Digest(buf, n, b, &bl, EVP_sha256(), NULL), 1);
		assert_int_equal(bl, 32);
		assert_memory_equal(a, b, 32);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_million_a_in_pieces),
		cmocka_unit_test(test_same_as_evp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
