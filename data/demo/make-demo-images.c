/* make-demo-images.c: draws the demo project's dataset at build time.
 *
 * Usage: make-demo-images OUTDIR
 * Writes 24 PNG images (128x128, coloured shapes on plain or striped backgrounds)
 * and OUTDIR/metadata.csv with one caption per image. Everything is derived from
 * the image index, so every build produces the same files.
 */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_IMAGES 24
#define DEMO_SIZE   128
#define PI 3.14159265358979323846

typedef struct { const char *name; double r, g, b; } Colour;

static const Colour colours[] = {
  { "red",    0.86, 0.16, 0.16 },
  { "orange", 0.96, 0.55, 0.10 },
  { "yellow", 0.97, 0.86, 0.18 },
  { "green",  0.18, 0.66, 0.30 },
  { "blue",   0.16, 0.36, 0.82 },
  { "purple", 0.55, 0.26, 0.70 },
  { "white",  0.96, 0.96, 0.94 },
  { "black",  0.10, 0.10, 0.12 },
};
#define N_COLOURS (sizeof colours / sizeof colours[0])

static const char *const shapes[] = { "circle", "square", "triangle", "star", "ring", "diamond" };
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

/* "an orange background", "a red background". */
static const char *
article (const char *word)
{
  return strchr ("aeiou", word[0]) ? "an" : "a";
}

static void
draw_background (cairo_t *cr, const Colour *bg, const Colour *stripe, int striped)
{
  cairo_set_source_rgb (cr, bg->r, bg->g, bg->b);
  cairo_paint (cr);
  if (!striped)
    return;
  /* Diagonal stripes, 12 px wide, in the second colour. */
  cairo_save (cr);
  cairo_set_source_rgb (cr, stripe->r, stripe->g, stripe->b);
  cairo_translate (cr, DEMO_SIZE / 2.0, DEMO_SIZE / 2.0);
  cairo_rotate (cr, PI / 4);
  for (int x = -DEMO_SIZE; x < DEMO_SIZE; x += 24)
    cairo_rectangle (cr, x, -DEMO_SIZE, 12, 2 * DEMO_SIZE);
  cairo_fill (cr);
  cairo_restore (cr);
}

static void
draw_shape (cairo_t *cr, unsigned shape, const Colour *fg)
{
  const double c = DEMO_SIZE / 2.0, r = DEMO_SIZE * 0.32;

  cairo_new_path (cr);
  switch (shape)
    {
    case 0: /* circle */
      cairo_arc (cr, c, c, r, 0, 2 * PI);
      break;
    case 1: /* square */
      cairo_rectangle (cr, c - r * 0.85, c - r * 0.85, r * 1.7, r * 1.7);
      break;
    case 2: /* triangle */
      cairo_move_to (cr, c, c - r);
      cairo_line_to (cr, c + r * 0.95, c + r * 0.7);
      cairo_line_to (cr, c - r * 0.95, c + r * 0.7);
      cairo_close_path (cr);
      break;
    case 3: /* five-pointed star */
      for (int i = 0; i < 10; i++)
        {
          double a = -PI / 2 + i * PI / 5, rr = (i % 2) ? r * 0.45 : r;
          if (i == 0)
            cairo_move_to (cr, c + rr * cos (a), c + rr * sin (a));
          else
            cairo_line_to (cr, c + rr * cos (a), c + rr * sin (a));
        }
      cairo_close_path (cr);
      break;
    case 4: /* ring: even-odd fill leaves the hole */
      cairo_set_fill_rule (cr, CAIRO_FILL_RULE_EVEN_ODD);
      cairo_arc (cr, c, c, r, 0, 2 * PI);
      cairo_new_sub_path (cr);
      cairo_arc (cr, c, c, r * 0.55, 0, 2 * PI);
      break;
    default: /* diamond */
      cairo_move_to (cr, c, c - r);
      cairo_line_to (cr, c + r * 0.75, c);
      cairo_line_to (cr, c, c + r);
      cairo_line_to (cr, c - r * 0.75, c);
      cairo_close_path (cr);
      break;
    }
  cairo_set_source_rgb (cr, fg->r, fg->g, fg->b);
  cairo_fill_preserve (cr);
  /* A thin dark outline keeps light shapes readable on light backgrounds. */
  cairo_set_source_rgba (cr, 0, 0, 0, 0.35);
  cairo_set_line_width (cr, 2);
  cairo_stroke (cr);
  cairo_set_fill_rule (cr, CAIRO_FILL_RULE_WINDING);
}

int
main (int argc, char **argv)
{
  char path[4096];
  FILE *csv;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s OUTDIR\n", argv[0]);
      return 2;
    }

  snprintf (path, sizeof path, "%s/metadata.csv", argv[1]);
  csv = fopen (path, "w");
  if (csv == NULL)
    {
      perror (path);
      return 1;
    }
  fputs ("filename,prompt\n", csv);

  for (unsigned i = 0; i < DEMO_IMAGES; i++)
    {
      unsigned shape = i % N_SHAPES;
      unsigned round = i / N_SHAPES;            /* 0..3 */
      const Colour *fg = &colours[(i * 5) % 6]; /* the six saturated colours */
      const Colour *bg = &colours[(i * 5 + 2 + round) % N_COLOURS];
      const Colour *stripe;
      int striped = round % 2;
      cairo_surface_t *surface;
      cairo_t *cr;
      char name[64];

      if (bg == fg)
        bg = &colours[6];
      stripe = (bg == &colours[7]) ? &colours[6] : &colours[7]; /* contrast with bg */

      surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, DEMO_SIZE, DEMO_SIZE);
      cr = cairo_create (surface);
      draw_background (cr, bg, stripe, striped);
      draw_shape (cr, shape, fg);
      cairo_destroy (cr);

      snprintf (name, sizeof name, "shape-%02u-%s-%s.png", i + 1, fg->name, shapes[shape]);
      snprintf (path, sizeof path, "%s/%s", argv[1], name);
      if (cairo_surface_write_to_png (surface, path) != CAIRO_STATUS_SUCCESS)
        {
          fprintf (stderr, "%s: cannot write the image\n", path);
          cairo_surface_destroy (surface);
          fclose (csv);
          return 1;
        }
      cairo_surface_destroy (surface);

      if (striped)
        fprintf (csv, "%s,\"%s %s %s on a striped %s and %s background, flat illustration\"\n",
                 name, article (fg->name), fg->name, shapes[shape], bg->name, stripe->name);
      else
        fprintf (csv, "%s,\"%s %s %s on %s %s background, flat illustration\"\n",
                 name, article (fg->name), fg->name, shapes[shape], article (bg->name), bg->name);
    }

  if (fclose (csv) != 0)
    {
      perror ("metadata.csv");
      return 1;
    }
  return 0;
}
