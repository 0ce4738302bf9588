/* test-csv.c: the caption CSV reader and writer, corner case by corner case. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "studio-csv.h"

static GPtrArray *
parse_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *rows = studio_csv_parse (text, strlen (text), "test.csv", &error);
  g_assert_no_error (error);
  g_assert_nonnull (rows);
  return rows;
}

static StudioCsvRow *
row_at (GPtrArray *rows, guint i)
{
  g_assert_cmpuint (i, <, rows->len);
  return g_ptr_array_index (rows, i);
}

static void
assert_row (GPtrArray *rows, guint i, const char *filename, const char *prompt, guint line)
{
  StudioCsvRow *row = row_at (rows, i);
  g_assert_cmpstr (row->filename, ==, filename);
  g_assert_cmpstr (row->prompt, ==, prompt);
  g_assert_cmpuint (row->line, ==, line);
}

/* Parses TEXT expecting error CODE whose message names test.csv and "line LINE". */
static void
assert_parse_error (const char *text, gsize len, StudioCsvError code, guint line)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = studio_csv_parse (text, len, "test.csv", &error);
  g_autofree char *where = g_strdup_printf ("line %u:", line);

  g_assert_null (rows);
  g_assert_error (error, STUDIO_CSV_ERROR, (int) code);
  g_assert_nonnull (strstr (error->message, "test.csv"));
  if (strstr (error->message, where) == NULL)
    g_error ("expected “%s” in “%s”", where, error->message);
}

static void
test_plain_rows (void)
{
  g_autoptr (GPtrArray) rows = parse_ok ("a.png,a red square\nb.jpg,a blue circle\n");
  g_assert_cmpuint (rows->len, ==, 2);
  assert_row (rows, 0, "a.png", "a red square", 1);
  assert_row (rows, 1, "b.jpg", "a blue circle", 2);
}

static void
test_header_detected (void)
{
  g_autoptr (GPtrArray) rows = parse_ok ("filename,prompt\na.png,cat\n");
  g_assert_cmpuint (rows->len, ==, 1);
  assert_row (rows, 0, "a.png", "cat", 2);

  g_autoptr (GPtrArray) other = parse_ok ("File_Name , Caption\na.png,cat\n");
  g_assert_cmpuint (other->len, ==, 1);

  /* Only the first row can be a header. */
  g_autoptr (GPtrArray) later = parse_ok ("a.png,cat\nfilename,prompt\n");
  g_assert_cmpuint (later->len, ==, 2);
  assert_row (later, 1, "filename", "prompt", 2);
}

static void
test_quoted_comma_and_quotes (void)
{
  g_autoptr (GPtrArray) rows =
    parse_ok ("a.png,\"a cat, sitting, on a mat\"\n"
              "b.png,\"she said \"\"hi\"\" twice\"\n"
              "\"c,d.png\",\"\"\n"
              "e.png,\"\"\"\"\n");
  g_assert_cmpuint (rows->len, ==, 4);
  assert_row (rows, 0, "a.png", "a cat, sitting, on a mat", 1);
  assert_row (rows, 1, "b.png", "she said \"hi\" twice", 2);
  assert_row (rows, 2, "c,d.png", "", 3);
  assert_row (rows, 3, "e.png", "\"", 4);
}

static void
test_newline_inside_quotes (void)
{
  g_autoptr (GPtrArray) rows =
    parse_ok ("a.png,\"first line\nsecond line\n\nfourth\"\nb.png,after\n");
  g_assert_cmpuint (rows->len, ==, 2);
  assert_row (rows, 0, "a.png", "first line\nsecond line\n\nfourth", 1);
  /* Lines are counted in the file, so b.png starts on line 5. */
  assert_row (rows, 1, "b.png", "after", 5);
}

static void
test_bom_crlf_no_final_newline (void)
{
  g_autoptr (GPtrArray) rows =
    parse_ok ("\xEF\xBB\xBF" "filename,prompt\r\na.png,one\r\nb.png,\"two\r\nlines\"\r\nc.png,three");
  g_assert_cmpuint (rows->len, ==, 3);
  assert_row (rows, 0, "a.png", "one", 2);
  assert_row (rows, 1, "b.png", "two\r\nlines", 3);
  assert_row (rows, 2, "c.png", "three", 5);

  /* A BOM before a header that is not one: the first file name has no BOM in it. */
  g_autoptr (GPtrArray) nohdr = parse_ok ("\xEF\xBB\xBF" "a.png,x");
  assert_row (nohdr, 0, "a.png", "x", 1);
}

static void
test_blank_lines_skipped (void)
{
  g_autoptr (GPtrArray) rows = parse_ok ("\n\na.png,one\n\n   \r\n\nb.png,two\n\n");
  g_assert_cmpuint (rows->len, ==, 2);
  assert_row (rows, 0, "a.png", "one", 3);
  assert_row (rows, 1, "b.png", "two", 7);

  g_autoptr (GPtrArray) empty = parse_ok ("");
  g_assert_cmpuint (empty->len, ==, 0);
  g_autoptr (GPtrArray) header_only = parse_ok ("filename,prompt\n");
  g_assert_cmpuint (header_only->len, ==, 0);
}

static void
test_unicode_captions (void)
{
  g_autoptr (GPtrArray) rows =
    parse_ok ("猫.png,一只橘猫坐在窗台上，阳光明媚\n"
              "dog.png,\"a dog 🐕, happy 😀\"\n"
              "é.png,café crème\n");
  g_assert_cmpuint (rows->len, ==, 3);
  assert_row (rows, 0, "猫.png", "一只橘猫坐在窗台上，阳光明媚", 1);
  assert_row (rows, 1, "dog.png", "a dog 🐕, happy 😀", 2);
  assert_row (rows, 2, "é.png", "café crème", 3);
}

/* Bad CSV, grouped by what is wrong: each case's error code and the line its message
 * names. LEN 0: up to the text's NUL (a case with a NUL inside gives its length). */
typedef struct {
  const char *text;
  gsize len;
  StudioCsvError code;
  guint line;
} ParseErrorCase;

static const ParseErrorCase stray_quote[] = {
  { "a.png,fine\nb.png,also fine\nc.png,a 5\" figure\nd.png,x\n", 0, STUDIO_CSV_ERROR_SYNTAX, 3 },
  { "filename,prompt\nbad\"name.png,x\n", 0, STUDIO_CSV_ERROR_SYNTAX, 2 },
  { "a.png,\"quoted\" tail\n", 0, STUDIO_CSV_ERROR_SYNTAX, 1 },
  { 0 },
};

/* an unterminated quote names the line it starts on */
static const ParseErrorCase unterminated_quote[] = {
  { "a.png,ok\nb.png,\"never closed\nc.png,x\nd.png,y\n", 0, STUDIO_CSV_ERROR_SYNTAX, 2 },
  { 0 },
};

static const char with_nul[] = "a.png,ok\nb.png,x\nc.png,y\0z\n";
static const ParseErrorCase invalid_utf8[] = {
  { "a.png,ok\nb.png,caf\xe9\n", 0, STUDIO_CSV_ERROR_ENCODING, 2 },   /* Latin-1 */
  { with_nul, sizeof with_nul - 1, STUDIO_CSV_ERROR_ENCODING, 3 },
  { 0 },
};

static const ParseErrorCase field_count[] = {
  { "a.png,ok\nb.png,a cat, sitting\n", 0, STUDIO_CSV_ERROR_FIELDS, 2 },   /* three */
  { "a.png,ok\n\nb.png\n", 0, STUDIO_CSV_ERROR_FIELDS, 3 },                /* one */
  { ",caption\n", 0, STUDIO_CSV_ERROR_FIELDS, 1 },                         /* no name */
  { 0 },
};

static void
test_parse_errors (gconstpointer data)
{
  for (const ParseErrorCase *c = data; c->text != NULL; c++)
    assert_parse_error (c->text, c->len ? c->len : strlen (c->text), c->code, c->line);
}

static void
test_writer_quotes_only_when_needed (void)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_csv_row_free);
  g_ptr_array_add (rows, studio_csv_row_new ("a.png", "plain words", 0));
  g_ptr_array_add (rows, studio_csv_row_new ("b.png", "with, comma", 0));
  g_ptr_array_add (rows, studio_csv_row_new ("c.png", "5\" tall", 0));
  g_ptr_array_add (rows, studio_csv_row_new ("d.png", "two\nlines", 0));
  g_ptr_array_add (rows, studio_csv_row_new ("e.png", " padded ", 0));
  g_ptr_array_add (rows, studio_csv_row_new ("f.png", "", 0));
  g_ptr_array_add (rows, studio_csv_row_new ("猫.png", "橘猫", 0));

  gsize len = 0;
  g_autofree char *text = studio_csv_to_string (rows, &len);
  g_assert_cmpstr (text, ==,
                   "filename,prompt\n"
                   "a.png,plain words\n"
                   "b.png,\"with, comma\"\n"
                   "c.png,\"5\"\" tall\"\n"
                   "d.png,\"two\nlines\"\n"
                   "e.png,\" padded \"\n"
                   "f.png,\n"
                   "猫.png,橘猫\n");
  g_assert_cmpuint (len, ==, strlen (text));
}

static void
test_writer_round_trip (void)
{
  static const char *const nasty[] = {
    "", "\"", "\"\"", ",", ",,,", "a,\"b\",c", "line1\nline2", "crlf\r\ninside",
    "lone\rcr", "  leading and trailing  ", "\ttab", "emoji 🎨🖌️ and 中文，标点",
    "ends with quote\"", "\"starts with quote", "filename,prompt", "trailing comma,",
    NULL
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("csv-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "metadata.csv", NULL);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_csv_row_free);

  for (guint i = 0; nasty[i]; i++)
    {
      g_autofree char *name = g_strdup_printf ("img %u, \"x\".png", i);
      g_ptr_array_add (rows, studio_csv_row_new (name, nasty[i], 0));
    }
  g_assert_true (studio_csv_save (path, rows, &error));
  g_assert_no_error (error);

  g_autoptr (GPtrArray) back = studio_csv_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->len, ==, rows->len);
  for (guint i = 0; i < rows->len; i++)
    {
      StudioCsvRow *a = g_ptr_array_index (rows, i), *b = g_ptr_array_index (back, i);
      g_assert_cmpstr (a->filename, ==, b->filename);
      g_assert_cmpstr (a->prompt, ==, b->prompt);
    }

  /* Writing what was read gives the same bytes. */
  g_autofree char *first = NULL, *second = NULL;
  g_assert_true (g_file_get_contents (path, &first, NULL, NULL));
  g_assert_true (studio_csv_save (path, back, &error));
  g_assert_true (g_file_get_contents (path, &second, NULL, NULL));
  g_assert_cmpstr (first, ==, second);
  g_assert_false (g_str_has_suffix (first, "\r\n"));

  g_remove (path);
  g_rmdir (dir);
}

static void
test_load_missing_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = studio_csv_load ("/nonexistent/metadata.csv", &error);
  g_assert_null (rows);
  g_assert_error (error, STUDIO_CSV_ERROR, STUDIO_CSV_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/metadata.csv"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/csv/plain-rows", test_plain_rows);
  g_test_add_func ("/csv/header-detected", test_header_detected);
  g_test_add_func ("/csv/quoted-comma-and-quotes", test_quoted_comma_and_quotes);
  g_test_add_func ("/csv/newline-inside-quotes", test_newline_inside_quotes);
  g_test_add_func ("/csv/bom-crlf-no-final-newline", test_bom_crlf_no_final_newline);
  g_test_add_func ("/csv/blank-lines-skipped", test_blank_lines_skipped);
  g_test_add_func ("/csv/unicode-captions", test_unicode_captions);
  g_test_add_data_func ("/csv/stray-quote-error-line", stray_quote, test_parse_errors);
  g_test_add_data_func ("/csv/unterminated-quote", unterminated_quote, test_parse_errors);
  g_test_add_data_func ("/csv/invalid-utf8-error-line", invalid_utf8, test_parse_errors);
  g_test_add_data_func ("/csv/field-count-errors", field_count, test_parse_errors);
  g_test_add_func ("/csv/writer-quotes-only-when-needed", test_writer_quotes_only_when_needed);
  g_test_add_func ("/csv/writer-round-trip", test_writer_round_trip);
  g_test_add_func ("/csv/load-missing-file", test_load_missing_file);

  return g_test_run ();
}
