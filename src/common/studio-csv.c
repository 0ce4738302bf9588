/* studio-csv.c: RFC 4180 reader and writer for caption CSV files (see the header). */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "studio-atomic-file.h"
#include "studio-csv.h"

G_DEFINE_QUARK (studio-csv-error-quark, studio_csv_error)

StudioCsvRow *
studio_csv_row_new (const char *filename, const char *prompt, guint line)
{
  StudioCsvRow *row = g_new0 (StudioCsvRow, 1);
  row->filename = g_strdup (filename);
  row->prompt = g_strdup (prompt);
  row->line = line;
  return row;
}

void
studio_csv_row_free (StudioCsvRow *row)
{
  if (row == NULL)
    return;
  g_free (row->filename);
  g_free (row->prompt);
  g_free (row);
}

/* Line of the byte at OFFSET; a line ends with LF, CRLF or a lone CR. */
static guint
line_of_offset (const char *data, gsize offset)
{
  guint line = 1;
  for (gsize i = 0; i < offset; i++)
    {
      if (data[i] == '\n')
        line++;
      else if (data[i] == '\r' && (i + 1 >= offset || data[i + 1] != '\n'))
        line++;
    }
  return line;
}

static gboolean
is_line_end (char c)
{
  return c == '\n' || c == '\r';
}

static gboolean
is_blank_record (GPtrArray *fields)
{
  if (fields->len != 1)
    return FALSE;
  for (const char *p = g_ptr_array_index (fields, 0); *p; p++)
    if (*p != ' ' && *p != '\t')
      return FALSE;
  return TRUE;
}

GPtrArray *
studio_csv_parse_records (const char *data, gsize len, const char *name,
                          GArray **lines, GError **error)
{
  const char *invalid = NULL;
  gsize pos = 0;
  guint line = 1;

  if (name == NULL)
    name = "CSV";

  /* Validate first, so that every later message can speak of characters. A NUL byte
   * counts as invalid too: no text editor writes one into a caption file. */
  if (!g_utf8_validate (data, len, &invalid))
    {
      g_set_error (error, STUDIO_CSV_ERROR, STUDIO_CSV_ERROR_ENCODING,
                   _("“%s” line %u: not valid UTF-8 text; save the file as UTF-8 "
                   "(most editors offer it under “Save As” → encoding)"),
                   name, line_of_offset (data, invalid - data));
      return NULL;
    }

  if (len >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
    pos = 3;

  g_autoptr (GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr (GArray) starts = g_array_new (FALSE, FALSE, sizeof (guint));

  while (pos < len)
    {
      guint record_line = line;

      if (is_line_end (data[pos]))
        {
          /* A blank line. */
          if (data[pos] == '\r' && pos + 1 < len && data[pos + 1] == '\n')
            pos++;
          pos++;
          line++;
          continue;
        }

      g_autoptr (GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
      for (;;)
        {
          g_autoptr (GString) field = g_string_new (NULL);

          if (pos < len && data[pos] == '"')
            {
              guint quote_line = line;
              pos++;
              for (;;)
                {
                  if (pos >= len)
                    {
                      g_set_error (error, STUDIO_CSV_ERROR, STUDIO_CSV_ERROR_SYNTAX,
                                   _("“%s” line %u: a quoted field is never closed; add "
                                   "the missing closing quote (\")"),
                                   name, quote_line);
                      return NULL;
                    }
                  char c = data[pos];
                  if (c == '"')
                    {
                      if (pos + 1 < len && data[pos + 1] == '"')
                        {
                          g_string_append_c (field, '"');
                          pos += 2;
                          continue;
                        }
                      pos++;
                      break;
                    }
                  if (c == '\n' || (c == '\r' && (pos + 1 >= len || data[pos + 1] != '\n')))
                    line++;
                  g_string_append_c (field, c);
                  pos++;
                }
              if (pos < len && data[pos] != ',' && !is_line_end (data[pos]))
                {
                  g_set_error (error, STUDIO_CSV_ERROR, STUDIO_CSV_ERROR_SYNTAX,
                               _("“%s” line %u: text follows a closing quote; a quote "
                               "inside a quoted field must be doubled (\"\")"),
                               name, line);
                  return NULL;
                }
            }
          else
            {
              while (pos < len && data[pos] != ',' && !is_line_end (data[pos]))
                {
                  if (data[pos] == '"')
                    {
                      g_set_error (error, STUDIO_CSV_ERROR, STUDIO_CSV_ERROR_SYNTAX,
                                   _("“%s” line %u: stray quote (\") inside an unquoted "
                                   "field; put the whole field in quotes and double "
                                   "the quote (\"\")"),
                                   name, line);
                      return NULL;
                    }
                  g_string_append_c (field, data[pos]);
                  pos++;
                }
            }

          g_ptr_array_add (fields, g_string_free (g_steal_pointer (&field), FALSE));
          if (pos < len && data[pos] == ',')
            {
              pos++;
              continue;
            }
          break;
        }

      if (pos < len)
        {
          if (data[pos] == '\r' && pos + 1 < len && data[pos + 1] == '\n')
            pos++;
          pos++;
          line++;
        }

      if (is_blank_record (fields))
        continue;
      g_ptr_array_add (records, g_steal_pointer (&fields));
      g_array_append_val (starts, record_line);
    }

  if (lines != NULL)
    *lines = g_steal_pointer (&starts);
  return g_steal_pointer (&records);
}

static gboolean
is_header (GPtrArray *fields)
{
  static const char *const first[] = { "filename", "file_name", "file", "image", "path", NULL };
  static const char *const second[] = { "prompt", "caption", "text", NULL };

  if (fields->len != 2)
    return FALSE;
  g_autofree char *a = g_ascii_strdown (g_ptr_array_index (fields, 0), -1);
  g_autofree char *b = g_ascii_strdown (g_ptr_array_index (fields, 1), -1);
  return g_strv_contains (first, g_strstrip (a)) && g_strv_contains (second, g_strstrip (b));
}

GPtrArray *
studio_csv_parse (const char *data, gsize len, const char *name, GError **error)
{
  g_autoptr (GArray) lines = NULL;
  g_autoptr (GPtrArray) records = studio_csv_parse_records (data, len, name, &lines, error);
  if (records == NULL)
    return NULL;

  if (name == NULL)
    name = "CSV";

  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_csv_row_free);
  for (guint i = 0; i < records->len; i++)
    {
      GPtrArray *fields = g_ptr_array_index (records, i);
      guint line = g_array_index (lines, guint, i);

      if (i == 0 && is_header (fields))
        continue;
      if (fields->len != 2)
        {
          if (fields->len == 1)
            g_set_error (error, STUDIO_CSV_ERROR, STUDIO_CSV_ERROR_FIELDS,
                         _("“%s” line %u: only one field; each row needs a file name, a "
                         "comma, and the caption (filename,prompt)"), name, line);
          else
            g_set_error (error, STUDIO_CSV_ERROR, STUDIO_CSV_ERROR_FIELDS,
                         _("“%s” line %u: %u fields where 2 (filename,prompt) were "
                         "expected; put a caption that holds commas in double quotes"),
                         name, line, fields->len);
          g_ptr_array_unref (rows);
          return NULL;
        }

      g_autofree char *filename = g_strstrip (g_strdup (g_ptr_array_index (fields, 0)));
      if (*filename == '\0')
        {
          g_set_error (error, STUDIO_CSV_ERROR, STUDIO_CSV_ERROR_FIELDS,
                       _("“%s” line %u: the file name is empty"), name, line);
          g_ptr_array_unref (rows);
          return NULL;
        }
      g_ptr_array_add (rows, studio_csv_row_new (filename, g_ptr_array_index (fields, 1), line));
    }
  return rows;
}

GPtrArray *
studio_csv_load (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) local_error = NULL;

  if (!g_file_get_contents (path, &data, &len, &local_error))
    {
      g_set_error (error, STUDIO_CSV_ERROR, STUDIO_CSV_ERROR_IO,
                   _("Cannot read the caption file: %s"), local_error->message);
      return NULL;
    }
  return studio_csv_parse (data, len, path, error);
}

void
studio_csv_append_field (GString *out, const char *field)
{
  gsize n = strlen (field);
  gboolean quote = strpbrk (field, ",\"\r\n") != NULL ||
                   (n > 0 && (g_ascii_isspace (field[0]) || g_ascii_isspace (field[n - 1])));

  if (!quote)
    {
      g_string_append_len (out, field, n);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = field; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

char *
studio_csv_to_string (GPtrArray *rows, gsize *len)
{
  GString *out = g_string_new ("filename,prompt\n");
  for (guint i = 0; i < rows->len; i++)
    {
      StudioCsvRow *row = g_ptr_array_index (rows, i);
      studio_csv_append_field (out, row->filename);
      g_string_append_c (out, ',');
      studio_csv_append_field (out, row->prompt ? row->prompt : "");
      g_string_append_c (out, '\n');
    }
  if (len != NULL)
    *len = out->len;
  return g_string_free (out, FALSE);
}

gboolean
studio_csv_save (const char *path, GPtrArray *rows, GError **error)
{
  gsize len = 0;
  g_autofree char *text = studio_csv_to_string (rows, &len);
  g_autoptr (GError) local_error = NULL;

  if (!studio_atomic_write (path, text, len, &local_error))
    {
      g_set_error (error, STUDIO_CSV_ERROR, STUDIO_CSV_ERROR_IO,
                   _("Cannot save the caption file: %s"), local_error->message);
      return FALSE;
    }
  return TRUE;
}
