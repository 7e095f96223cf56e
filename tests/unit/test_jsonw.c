/* Unit tests for common/buf and common/jsonw: structure, escaping, and that
 * hostile bytes always produce valid JSON (parsed back with jansson). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/jsonw.h"

static void test_buf_grows(void **state)
{
	struct gb_buf b = GB_BUF_INIT;
	assert_string_equal(gb_buf_cstr(&b), "");
	for (int i = 0; i < 10000; i++)
		gb_buf_printf(&b, "%d,", i);
	assert_int_equal(b.err, 0);
	assert_true(strncmp(b.data, "0,1,2,", 6) == 0);
	assert_true(strstr(b.data, ",9999,") != NULL);
	gb_buf_reset(&b);
	assert_int_equal(b.len, 0);
	gb_buf_printf(&b, "%0300d", 7); /* longer than the printf fast path */
	assert_int_equal(b.len, 300);
	gb_buf_free(&b);
}

static void test_structure(void **state)
{
	struct gb_buf b = GB_BUF_INIT;
	struct gb_jsonw w;
	gb_jw_init(&w, &b);
	gb_jw_obj_begin(&w);
	gb_jw_kint(&w, "a", -5);
	gb_jw_kuint(&w, "b", UINT64_MAX);
	gb_jw_key(&w, "c");
	gb_jw_arr_begin(&w);
	gb_jw_bool(&w, true);
	gb_jw_null(&w);
	gb_jw_obj_begin(&w);
	gb_jw_obj_end(&w);
	gb_jw_str(&w, NULL);
	gb_jw_arr_end(&w);
	gb_jw_kstr(&w, "d", "x");
	gb_jw_key(&w, "e");
	gb_jw_raw(&w, "[1,2]", 5);
	gb_jw_obj_end(&w);
	assert_string_equal(gb_buf_cstr(&b),
	    "{\"a\":-5,\"b\":18446744073709551615,\"c\":[true,null,{},null],\"d\":\"x\",\"e\":[1,2]}");
	gb_buf_free(&b);
}

static void test_escaping(void **state)
{
	struct gb_buf b = GB_BUF_INIT;
	struct gb_jsonw w;
	gb_jw_init(&w, &b);
	const char in[] = "q\"b\\n\nr\rt\t\x01\x1f\x7f caf\xc3\xa9 \xff\xc0\xaf \xed\xa0\x80 \xf0\x9f\x98\x80";
	gb_jw_strn(&w, in, sizeof in - 1);
	assert_string_equal(gb_buf_cstr(&b),
	    "\"q\\\"b\\\\n\\nr\\rt\\t\\u0001\\u001f\x7f caf\xc3\xa9 \\ufffd\\ufffd\\ufffd "
	    "\\ufffd\\ufffd\\ufffd \xf0\x9f\x98\x80\"");
	gb_buf_free(&b);
}

/* Random bytes (bounded loop) must always round-trip through jansson as one
 * valid JSON string on one line. */
static void test_hostile_bytes_stay_valid(void **state)
{
	unsigned seed = 12345;
	for (int iter = 0; iter < 2000; iter++) {
		char in[64];
		size_t n = (size_t)(rand_r(&seed) % (int)sizeof in);
		for (size_t i = 0; i < n; i++)
			in[i] = (char)rand_r(&seed);
		struct gb_buf b = GB_BUF_INIT;
		struct gb_jsonw w;
		gb_jw_init(&w, &b);
		gb_jw_obj_begin(&w);
		gb_jw_key(&w, "k");
		gb_jw_strn(&w, in, n);
		gb_jw_obj_end(&w);
		assert_null(memchr(b.data, '\n', b.len));
		json_error_t err;
		json_t *j = json_loadb(b.data, b.len, JSON_ALLOW_NUL, &err);
		assert_non_null(j);
		assert_true(json_is_string(json_object_get(j, "k")));
		json_decref(j);
		gb_buf_free(&b);
	}
}

static void test_depth_overflow(void **state)
{
	struct gb_buf b = GB_BUF_INIT;
	struct gb_jsonw w;
	gb_jw_init(&w, &b);
	for (int i = 0; i < GB_JW_MAX_DEPTH + 1; i++)
		gb_jw_arr_begin(&w);
	assert_true(w.overflow);
	gb_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_grows),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_hostile_bytes_stay_valid),
		cmocka_unit_test(test_depth_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
