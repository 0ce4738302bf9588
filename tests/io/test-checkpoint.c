/* test-checkpoint.c: checkpoints come back bit-exact (weights, AdamW state, run state),
 * resuming equals not stopping, the newest complete checkpoint is found, a damaged one is
 * reported and the one before it used, half-written ones are never picked, pruning keeps
 * the newest N. */
#include <dirent.h>

#include "checkpoint.h"
#include "io-test.h"

enum { NP = 50 };

static float grads_at (int i, int t) { return sinf ((float) (i * 7 + t * 3)) * (1.0f + (float) t); }

static void
train (le_adamw *opt, float *p, int from, int to)
{
  float g[NP];
  for (int t = from; t < to; t++)
    {
      for (int i = 0; i < NP; i++)
        g[i] = grads_at (i, t);
      le_adamw_step (opt, p, g, 1e-2);
    }
}

static le_train_state
state_at (int64_t step)
{
  le_train_state s = {
    .step = step, .epoch = step / 7, .epoch_position = step % 7,
    .data_seed = 18446744073709551557ull, .rng_state = { 0x0123456789abcdefull, ~0ull, 0, 42 },
    .loss_scale = 65536.0,
    .scheduler = { .kind = LE_SCHED_COSINE_WITH_RESTARTS, .base_lr = 1e-4 / 3,
                   .warmup_steps = 10, .total_steps = 1000, .num_cycles = 3 },
  };
  return s;
}

static bool
save (const char *dir, int64_t step, const float *p, const uint16_t *bf, const le_adamw *opt,
      int keep, le_error *err)
{
  st_write_tensor w[] = {
    { .name = "lora.0.A", .dtype = ST_F32, .ndim = 2, .shape = { 5, 10 }, .data = p },
    { .name = "lora.0.B.bf16", .dtype = ST_BF16, .ndim = 1, .shape = { 4 }, .data = bf },
  };
  le_train_state s = state_at (step);
  return le_checkpoint_save (dir, &s, w, 2, opt, keep, NULL, 0, err);
}

static int
count_entries (const char *dir, const char *prefix)
{
  DIR *d = opendir (dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir (d)) != NULL)
    n += strncmp (e->d_name, prefix, strlen (prefix)) == 0;
  if (d)
    closedir (d);
  return n;
}

int
main (void)
{
  char *root = test_tmpdir ("ckpt");
  char dir[4200];
  snprintf (dir, sizeof dir, "%s/out/checkpoints", root);
  le_error err = { 0 };
  le_checkpoint ck;
  bool found = true;
  tap_ok (le_checkpoint_load_latest (dir, &ck, &found, NULL, 0, &err) && !found,
          "no checkpoints folder: nothing found, no error");

  /* Run A: 10 steps straight. Run B: 5 steps, checkpoint, reload into fresh state, 5 more. */
  float pa[NP], pb[NP];
  for (int i = 0; i < NP; i++)
    pa[i] = pb[i] = cosf ((float) i);
  le_adamw oa, ob;
  le_adamw_hparams hp = { 0.9, 0.98, 1e-7, 0.05 };
  le_adamw_init (&oa, NP, hp, &err);
  le_adamw_init (&ob, NP, hp, &err);
  train (&oa, pa, 0, 10);
  train (&ob, pb, 0, 5);
  uint16_t bf[4] = { 0x3f80, 0xbf80, 0x7f80, 0x0001 };
  tap_ok (save (dir, 5, pb, bf, &ob, 0, &err), "saves step 5 (%s)", err.message);
  char expect_dir[4300];
  snprintf (expect_dir, sizeof expect_dir, "%s/step-000005/" LE_CHECKPOINT_FILE, dir);
  tap_ok (access (expect_dir, R_OK) == 0, "as checkpoints/step-000005/" LE_CHECKPOINT_FILE);

  float saved_p[NP], saved_m[NP], saved_v[NP];
  memcpy (saved_p, pb, sizeof pb);
  memcpy (saved_m, ob.m, sizeof saved_m);
  memcpy (saved_v, ob.v, sizeof saved_v);
  le_adamw_free (&ob);
  for (int i = 0; i < NP; i++)
    pb[i] = 0;

  bool ok = le_checkpoint_load_latest (dir, &ck, &found, NULL, 0, &err);
  tap_ok (ok && found, "finds the checkpoint (%s)", err.message);
  if (!found)
    return tap_done ();
  le_train_state want = state_at (5);
  le_train_state *s = &ck.state;
  tap_ok (s->step == 5 && s->epoch == want.epoch && s->epoch_position == want.epoch_position
          && s->data_seed == want.data_seed
          && memcmp (s->rng_state, want.rng_state, sizeof want.rng_state) == 0
          && s->loss_scale == want.loss_scale && s->scheduler.kind == want.scheduler.kind
          && s->scheduler.base_lr == want.scheduler.base_lr
          && s->scheduler.warmup_steps == 10 && s->scheduler.total_steps == 1000
          && s->scheduler.num_cycles == 3, "the run state comes back exactly (u64 seed, RNG, "
          "doubles, scheduler)");
  const st_tensor *a = st_find (ck.file, "lora.0.A"), *b = st_find (ck.file, "lora.0.B.bf16");
  tap_ok (a && b && st_to_f32 (a, pb, NP, &err) && memcmp (pb, saved_p, sizeof pb) == 0
          && b->dtype == ST_BF16 && memcmp (b->data, bf, 8) == 0,
          "weights come back bit-exact in their dtypes");
  le_adamw_hparams other = { 0.5, 0.5, 0.5, 0.5 };
  le_adamw_init (&ob, NP, other, &err);
  tap_ok (le_checkpoint_restore_optimizer (&ck, &ob, &err) && ob.step == 5
          && memcmp (ob.m, saved_m, sizeof saved_m) == 0 && memcmp (ob.v, saved_v, sizeof saved_v) == 0
          && ob.hp.beta1 == hp.beta1 && ob.hp.beta2 == hp.beta2 && ob.hp.eps == hp.eps
          && ob.hp.weight_decay == hp.weight_decay, "AdamW m, v, step and hyperparameters come back bit-exact");
  le_adamw small;
  le_adamw_init (&small, NP - 1, hp, &err);
  err.code = LE_OK;
  tap_ok (!le_checkpoint_restore_optimizer (&ck, &small, &err) && err.code == LE_ERR_INVALID
          && strstr (err.message, "config"), "an optimizer of another size is refused: %s", err.message);
  le_adamw_free (&small);
  le_checkpoint_close (&ck);
  train (&ob, pb, 5, 10);
  tap_ok (memcmp (pa, pb, sizeof pa) == 0 && memcmp (oa.m, ob.m, NP * 4) == 0,
          "5 steps + save + load + 5 steps equals 10 steps, bit for bit");

  /* Newer checkpoints; the newest gets damaged. */
  save (dir, 10, pa, bf, &oa, 0, &err);
  save (dir, 20, pa, bf, &oa, 0, &err);
  char newest[4300];
  snprintf (newest, sizeof newest, "%s/step-000020/" LE_CHECKPOINT_FILE, dir);
  tap_ok (truncate (newest, 100) == 0, "damages step 20 (truncated, like a full disk)");
  char skipped[2048];
  ok = le_checkpoint_load_latest (dir, &ck, &found, skipped, sizeof skipped, &err);
  tap_ok (ok && found && ck.state.step == 10 && strstr (skipped, "step-000020")
          && strstr (skipped, "truncated"), "the damaged one is reported and step 10 used: %s", skipped);
  le_checkpoint_close (&ck);

  /* Half-written: a temp folder of a later step, and a step folder without its file. */
  char tmp[4300];
  snprintf (tmp, sizeof tmp, "%s/.tmp-step-000030", dir);
  mkdir (tmp, 0777);
  snprintf (tmp, sizeof tmp, "%s/.tmp-step-000030/" LE_CHECKPOINT_FILE, dir);
  write_bytes (tmp, "partial", 7);
  snprintf (tmp, sizeof tmp, "%s/step-000040", dir);
  mkdir (tmp, 0777);
  ok = le_checkpoint_load_latest (dir, &ck, &found, skipped, sizeof skipped, &err);
  tap_ok (ok && found && ck.state.step == 10, "a temp folder of a save in progress and an empty "
          "step folder are never picked");
  le_checkpoint_close (&ck);
  rm_rf (tmp);

  /* A file that is valid safetensors but not a checkpoint, or lacks a state key. */
  snprintf (tmp, sizeof tmp, "%s/step-000050", dir);
  mkdir (tmp, 0777);
  snprintf (tmp, sizeof tmp, "%s/step-000050/" LE_CHECKPOINT_FILE, dir);
  st_write_meta fake[] = { { "format", "lora-studio-checkpoint" }, { "format_version", "1" } };
  st_write_tensor one = { .name = "x", .dtype = ST_F32, .ndim = 1, .shape = { 1 }, .data = pa };
  st_write (tmp, &one, 1, fake, 2, &err);
  ok = le_checkpoint_load_latest (dir, &ck, &found, skipped, sizeof skipped, &err);
  tap_ok (ok && found && ck.state.step == 10 && strstr (skipped, "\"step\""),
          "a checkpoint missing its state is skipped, naming what is missing: %s", skipped);
  le_checkpoint_close (&ck);
  snprintf (tmp, sizeof tmp, "%s/step-000050", dir);
  rm_rf (tmp);

  /* Saving again over an existing step replaces it. */
  float changed[NP];
  for (int i = 0; i < NP; i++)
    changed[i] = -1.0f;
  tap_ok (save (dir, 10, changed, bf, &oa, 0, &err), "re-saves step 10 over itself");
  snprintf (tmp, sizeof tmp, "%s/step-000010", dir);
  ok = le_checkpoint_load (tmp, &ck, &err);
  a = ok ? st_find (ck.file, "lora.0.A") : NULL;
  tap_ok (a && ((const float *) a->data)[0] == -1.0f, "the re-saved step holds the new weights");
  if (ok)
    le_checkpoint_close (&ck);

  /* Pruning: keep the newest 2 and remove temp folders. */
  snprintf (tmp, sizeof tmp, "%s/.tmp-step-000099", dir);
  mkdir (tmp, 0777);
  save (dir, 20, pa, bf, &oa, 0, &err);  /* repair 20 */
  err.code = LE_OK;
  err.message[0] = '\0';
  tap_ok (save (dir, 30, pa, bf, &oa, 2, &err), "saves step 30 keeping the last 2 (%s)", err.message);
  snprintf (tmp, sizeof tmp, "%s/step-000030", dir);
  char tmp2[4300];
  snprintf (tmp2, sizeof tmp2, "%s/step-000020", dir);
  tap_ok (count_entries (dir, "step-") == 2 && access (tmp, F_OK) == 0 && access (tmp2, F_OK) == 0
          && count_entries (dir, ".tmp-") == 0, "only steps 20 and 30 remain, no temp folders");

  /* A damaged newest one does not count towards the N kept. */
  save (dir, 40, pa, bf, &oa, 0, &err);
  snprintf (newest, sizeof newest, "%s/step-000040/" LE_CHECKPOINT_FILE, dir);
  truncate (newest, 50);
  tap_ok (le_checkpoint_prune (dir, 1, &err) && access (tmp, F_OK) == 0 && access (tmp2, F_OK) != 0,
          "pruning to 1 with a damaged newest keeps the newest good one (30) and drops 20");
  snprintf (tmp2, sizeof tmp2, "%s/step-000040", dir);
  rm_rf (tmp2);

  /* Every checkpoint damaged: an error, not a silent fresh start. */
  snprintf (newest, sizeof newest, "%s/step-000030/" LE_CHECKPOINT_FILE, dir);
  truncate (newest, 3);
  err.code = LE_OK;
  ok = le_checkpoint_load_latest (dir, &ck, &found, skipped, sizeof skipped, &err);
  tap_ok (!ok && err.code == LE_ERR_FORMAT && strstr (err.message, "no usable checkpoint"),
          "all damaged is an error: %s", err.message);

  le_adamw_free (&oa);
  le_adamw_free (&ob);
  rm_rf (root);
  free (root);
  return tap_done ();
}
