/* main.c: lora-engine, the training engine and headless CLI. */
#include "config.h"

#include <stdio.h>
#include <string.h>

int
main (int argc, char **argv)
{
  if (argc > 1 && strcmp (argv[1], "--version") == 0)
    {
      printf ("lora-engine %s\n", PACKAGE_VERSION);
      return 0;
    }
  fprintf (stderr, "usage: lora-engine --version\n");
  return 2;
}
