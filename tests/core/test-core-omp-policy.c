/* test-core-omp-policy.c: le_omp_wait_policy_reexec bounds how long the engine's OpenMP
 * threads spin between regions by default and leaves a user's choice alone. Runs itself as a
 * child ("child" argument) with a controlled environment and reads what the child saw. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omp-policy.h"
#include "tap.h"

static int starts;   /* how many times this image started in the child: exec resets it */

/* Runs "SELF child" under the environment prefix ENV; the child's one line of output. */
static void
run_child (const char *self, const char *env, char *line, size_t size)
{
  char cmd[4096];
  snprintf (cmd, sizeof cmd, "env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT %s '%s' child",
            env, self);
  line[0] = '\0';
  FILE *p = popen (cmd, "r");
  if (p == NULL)
    return;
  if (fgets (line, (int) size, p) == NULL)
    line[0] = '\0';
  pclose (p);
  line[strcspn (line, "\n")] = '\0';
}

int
main (int argc, char **argv)
{
  if (argc > 1 && strcmp (argv[1], "child") == 0)
    {
      starts++;
      le_omp_wait_policy_reexec (argv);
      const char *w = getenv ("OMP_WAIT_POLICY"), *s = getenv ("GOMP_SPINCOUNT");
      /* the argument survives the re-exec, and the re-executed image returns at once */
      printf ("%s %s %s %d\n", w ? w : "-", s ? s : "-", argv[1], starts);
      return 0;
    }
  char self[4096], line[256];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  self[n > 0 ? n : 0] = '\0';

  run_child (self, "", line, sizeof line);
  tap_ok (strcmp (line, "- " LE_OMP_SPIN_COUNT " child 1") == 0,
          "unset: the program re-executes itself once with GOMP_SPINCOUNT=%s (%s)",
          LE_OMP_SPIN_COUNT, line);
  run_child (self, "OMP_WAIT_POLICY=active", line, sizeof line);
  tap_ok (strcmp (line, "active - child 1") == 0,
          "OMP_WAIT_POLICY=active is the user's choice and is kept (%s)", line);
  run_child (self, "GOMP_SPINCOUNT=1000", line, sizeof line);
  tap_ok (strcmp (line, "- 1000 child 1") == 0,
          "GOMP_SPINCOUNT is the user's choice and is kept (%s)", line);
  return tap_done ();
}
