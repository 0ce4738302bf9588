/* cmd-eval.c: `lora-engine eval --config C [--adapter DIR]`: the loss of the model (and
 * adapter) over the whole text dataset, without dropout: summed cross-entropy of every
 * counted target token divided by their number, printed as {"loss": ..., "tokens": ...}. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "text-dataset.h"
#include "text-session.h"

int
cmd_eval (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  g_autofree char *adapter = NULL;
  g_autofree char *device = NULL;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "The training config (YAML, task_type text-generation)", "FILE" },
    { "adapter", 'a', 0, G_OPTION_ARG_FILENAME, &adapter,
      "A PEFT adapter folder (adapter_config.json, adapter_model.safetensors)", "DIR" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device,
      "auto, cpu or cuda (default: the config's device)", "DEVICE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- measure the loss");
  g_option_context_set_summary (context,
    "Prints {\"loss\": L, \"tokens\": N} for the dataset of train_data_dir: the mean\n"
    "cross-entropy of every counted target token (BOS excluded; for prompt/completion\n"
    "lines only the completion and EOS), without dropout.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (config_path == NULL)
    {
      fprintf (stderr, "%s: --config FILE is required (see %s --help)\n", argv[0], argv[0]);
      return CLI_EXIT_USAGE;
    }
  TextSession s;
  if (!text_session_open (&s, argv[0], config_path, adapter, device))
    {
      text_session_close (&s);
      return CLI_EXIT_PROBLEMS;
    }
  le_error err = { 0 };
  int status = CLI_EXIT_PROBLEMS;
  graph *g = NULL;
  int32_t *tokens = NULL;
  uint8_t *count = NULL;
  text_dataset *ds = text_dataset_load (s.config->train_data_dir, s.tok,
                                        s.config->sequence_length, &err);
  if (ds == NULL)
    goto out;
  const char *warning = text_dataset_cut_warning (ds);
  if (warning)
    fprintf (stderr, "warning: %s\n", warning);
  g = graph_new (s.be, &err);
  if (g == NULL)
    goto out;
  graph_set_grad_enabled (g, false);
  graph_set_training (g, false);
  int64_t batch = s.config->batch_size < 1 ? 1 : s.config->batch_size > 1024 ? 1024
                 : s.config->batch_size;
  tokens = malloc ((size_t) (batch * s.config->sequence_length) * sizeof *tokens);
  count = malloc ((size_t) (batch * s.config->sequence_length));
  if (tokens == NULL || count == NULL)
    {
      le_fail (&err, LE_ERR_MEMORY, "out of memory");
      goto out;
    }
  double total = 0;
  int64_t counted = 0;
  for (int64_t first = 0; first < ds->n_samples; first += batch)
    {
      int64_t idx[1024];   /* batch_size is at most 1024 (the config's range) */
      int64_t b = ds->n_samples - first < batch ? ds->n_samples - first : batch;
      for (int64_t i = 0; i < b; i++)
        idx[i] = first + i;
      int64_t t = text_dataset_batch_len (ds, idx, b);
      text_dataset_batch (ds, idx, b, t, tokens, count);
      graph_reset (g);
      double sum = 0;
      int64_t n = 0;
      if (llama_forward_loss (s.model, g, tokens, count, b, t, &sum, &n) == NULL)
        {
          graph_take_error (g, &err);
          goto out;
        }
      total += sum;
      counted += n;
    }
  printf ("{\"loss\": %.9g, \"tokens\": %lld}\n", counted ? total / (double) counted : 0.0,
          (long long) counted);
  status = CLI_EXIT_OK;
out:
  if (status != CLI_EXIT_OK)
    fprintf (stderr, "%s: %s\n", argv[0], err.message);
  free (tokens);
  free (count);
  graph_free (g);
  text_dataset_free (ds);
  text_session_close (&s);
  return status;
}
