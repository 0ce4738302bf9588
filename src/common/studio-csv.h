/* studio-csv.h: the one reader and the one writer of caption CSV files
 * (`metadata.csv`: `filename,prompt`, RFC 4180).
 *
 * Reading accepts UTF-8 with or without a byte order mark, CRLF or LF line ends,
 * quoted fields holding commas, doubled quotes and line breaks, an optional header
 * row, a missing final line end, and blank lines (skipped). Anything else (a stray
 * quote, an unterminated quoted field, invalid UTF-8, a row with the wrong number of
 * fields) is a GError that names the file and the line.
 *
 * Writing emits the header `filename,prompt`, LF line ends, quotes a field only when
 * it needs it, and replaces the file atomically.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define STUDIO_CSV_ERROR (studio_csv_error_quark ())
GQuark studio_csv_error_quark (void);

typedef enum {
  STUDIO_CSV_ERROR_IO,        /* cannot read or write the file */
  STUDIO_CSV_ERROR_ENCODING,  /* not UTF-8 (or a NUL byte) */
  STUDIO_CSV_ERROR_SYNTAX,    /* stray or unterminated quote */
  STUDIO_CSV_ERROR_FIELDS,    /* a row without exactly two fields */
} StudioCsvError;

/* One caption row. LINE is the 1-based line of the file where the row starts. */
typedef struct {
  char *filename;
  char *prompt;
  guint line;
} StudioCsvRow;

StudioCsvRow *studio_csv_row_new (const char *filename, const char *prompt, guint line);
void          studio_csv_row_free (StudioCsvRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StudioCsvRow, studio_csv_row_free)

/* Generic RFC 4180 reader: a GPtrArray of records, each a GPtrArray of char*
 * fields; LINES (optional) receives the start line of each record (guint array).
 * NAME is used in messages (usually the file's path). Blank lines are skipped and a
 * leading BOM is dropped. */
GPtrArray *studio_csv_parse_records (const char *data, gsize len, const char *name,
                                     GArray **lines, GError **error);

/* Caption rows of a `filename,prompt` file: a GPtrArray of StudioCsvRow*. The header
 * row is detected (first row reading filename/file_name/file/image/path, then
 * prompt/caption/text, any case) and dropped. */
GPtrArray *studio_csv_parse (const char *data, gsize len, const char *name, GError **error);
GPtrArray *studio_csv_load (const char *path, GError **error);

/* Quotes FIELD when it holds a comma, a quote, a line break, or leading or trailing
 * spaces; appends it to OUT. */
void       studio_csv_append_field (GString *out, const char *field);
/* The whole file, header first, LF line ends. ROWS holds StudioCsvRow*. */
char      *studio_csv_to_string (GPtrArray *rows, gsize *len);
gboolean   studio_csv_save (const char *path, GPtrArray *rows, GError **error);

G_END_DECLS
