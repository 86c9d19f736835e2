/* Unit tests for the bounded big-endian writer and reader (mikey/bytes.h):
 * network byte order, the bound of a heap and of a fixed buffer, the
 * sticky failure, growth across many steps, and reads that stop at the
 * end of the input. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mikey/bytes.h"

START_TEST(writes_are_big_endian)
{
  struct mk_writer w;
  unsigned char *out = NULL;
  size_t len = 0;
  static const unsigned char want[] = { 0xAB, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF,
                                        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                        'x', 'y' };
  mk_writer_heap(&w, 1024);
  mk_put_u8(&w, 0xAB);
  mk_put_u16(&w, 0x1234);
  mk_put_u32(&w, 0xDEADBEEFu);
  mk_put_u64(&w, 0x0102030405060708ull);
  mk_put(&w, "xy", 2);
  mk_put(&w, NULL, 0);
  ck_assert_int_eq(mk_writer_take(&w, &out, &len), 0);
  ck_assert_uint_eq(len, sizeof want);
  ck_assert_mem_eq(out, want, sizeof want);
  ck_assert_ptr_null(w.p);
  free(out);
}
END_TEST

START_TEST(heap_grows_up_to_its_bound_and_no_further)
{
  struct mk_writer w;
  unsigned char *out = NULL;
  size_t len = 0;
  mk_writer_heap(&w, 70000);
  for (uint32_t i = 0; i < 70000 / 4; i++)
    mk_put_u32(&w, i);
  ck_assert(!w.failed);
  ck_assert_int_eq(mk_writer_take(&w, &out, &len), 0);
  ck_assert_uint_eq(len, 70000);
  ck_assert_uint_eq(out[4 * 1234 + 2], (1234 >> 8) & 0xFF);
  ck_assert_uint_eq(out[4 * 1234 + 3], 1234 & 0xFF);
  free(out);

  mk_writer_heap(&w, 5);
  mk_put_u32(&w, 1);
  mk_put_u8(&w, 2);
  ck_assert(!w.failed);
  mk_put_u8(&w, 3);                  /* one past the bound */
  ck_assert(w.failed);
  ck_assert_uint_eq(w.len, 5);
  out = NULL;
  ck_assert_int_eq(mk_writer_take(&w, &out, &len), -1);
  ck_assert_ptr_null(out);
  ck_assert_ptr_null(w.p);
}
END_TEST

START_TEST(failure_is_sticky)
{
  struct mk_writer w;
  unsigned char *out = NULL;
  size_t len = 0;
  mk_writer_heap(&w, 100);
  mk_put_u8(&w, 1);
  mk_writer_fail(&w);
  mk_put_u8(&w, 2);
  ck_assert_uint_eq(w.len, 1);
  ck_assert_int_eq(mk_writer_take(&w, &out, &len), -1);
  /* an empty writer has nothing to hand over */
  mk_writer_heap(&w, 100);
  ck_assert_int_eq(mk_writer_take(&w, &out, &len), -1);
  ck_assert_ptr_null(out);
}
END_TEST

START_TEST(fixed_buffer_is_never_exceeded)
{
  unsigned char buf[8];
  struct mk_writer w;
  memset(buf, 0xEE, sizeof buf);
  mk_writer_fixed(&w, buf, 6);
  mk_put_u32(&w, 0x01020304u);
  mk_put_u16(&w, 0x0506);
  ck_assert(!w.failed);
  ck_assert_uint_eq(w.len, 6);
  mk_put_u8(&w, 7);
  ck_assert(w.failed);
  ck_assert_uint_eq(buf[6], 0xEE);   /* untouched past the bound */
  static const unsigned char want[] = { 1, 2, 3, 4, 5, 6 };
  ck_assert_mem_eq(buf, want, sizeof want);
  /* a write that does not fit at all writes nothing */
  mk_writer_fixed(&w, buf, 3);
  mk_put_u32(&w, 0xFFFFFFFFu);
  ck_assert(w.failed);
  ck_assert_uint_eq(w.len, 0);
  ck_assert_uint_eq(buf[0], 1);
  mk_writer_free(&w);
  ck_assert_ptr_eq(w.p, buf);        /* the caller's array is not freed */
}
END_TEST

START_TEST(reads_are_big_endian_and_bounded)
{
  static const unsigned char in[] = { 0xAB, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 'x', 'y' };
  struct mk_reader r;
  mk_reader_init(&r, in, sizeof in);
  ck_assert_uint_eq(mk_get_u8(&r), 0xAB);
  ck_assert_uint_eq(mk_get_u16(&r), 0x1234);
  ck_assert_uint_eq(mk_get_u32(&r), 0xDEADBEEFu);
  const unsigned char *p = mk_get_bytes(&r, 2);
  ck_assert_ptr_eq(p, in + 7);
  ck_assert_ptr_null(r.why);
  ck_assert_uint_eq(r.pos, sizeof in);
  ck_assert_ptr_eq(mk_get_bytes(&r, 0), in + sizeof in);
  ck_assert_uint_eq(mk_get_u8(&r), 0);
  ck_assert_str_eq(r.why, "truncated payload");

  /* a 32-bit read with three bytes left fails and consumes nothing */
  mk_reader_init(&r, in, 3);
  ck_assert_uint_eq(mk_get_u32(&r), 0);
  ck_assert_uint_eq(r.pos, 0);
  ck_assert_ptr_null(mk_get_bytes(&r, 1));   /* sticky: no read after a failure */
  ck_assert_uint_eq(mk_get_u16(&r), 0);
}
END_TEST

START_TEST(first_failure_is_kept)
{
  struct mk_reader r;
  mk_reader_init(&r, NULL, 0);
  ck_assert(!mk_read_fail(&r, "first"));
  ck_assert(!mk_read_fail(&r, "second"));
  ck_assert_str_eq(r.why, "first");
  ck_assert_ptr_null(mk_get_bytes(&r, 0));
}
END_TEST

int main(void)
{
  Suite *s = suite_create("mikey_bytes");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, writes_are_big_endian);
  tcase_add_test(tc, heap_grows_up_to_its_bound_and_no_further);
  tcase_add_test(tc, failure_is_sticky);
  tcase_add_test(tc, fixed_buffer_is_never_exceeded);
  tcase_add_test(tc, reads_are_big_endian_and_bounded);
  tcase_add_test(tc, first_failure_is_kept);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
