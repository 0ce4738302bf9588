/* hf-config.c: reading and writing the config.json of an HF LLaMA-family folder. */
#include "hf-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic-file.h"
#include "json-config.h"
#include "read-file.h"

static const char *const supported_archs[] = { "LlamaForCausalLM", "MistralForCausalLM" };

/* A count that config.json must have (REQUIRED) or may have. */
static bool
get_int (const le_json_doc *doc, uint32_t obj, const char *key, bool required, int64_t *out,
         const char *label, le_error *err)
{
  if (required && le_json_config_member (doc, obj, key) == LE_JSON_NONE)
    return le_fail (err, LE_ERR_FORMAT, "%s: key \"%s\" is missing; a LLaMA config.json "
                    "needs it", label, key);
  return le_json_config_uint (doc, obj, key, INT32_MAX, out, label, err);
}

/* A token id, or the first of a list of them (Llama 3 instruct lists several EOS ids). */
static bool
get_token_id (const le_json_doc *doc, uint32_t obj, const char *key, int32_t *out,
              const char *label, le_error *err)
{
  uint32_t v = le_json_config_member (doc, obj, key);
  if (v == LE_JSON_NONE)
    return true;
  if (doc->nodes[v].type == LE_JSON_ARRAY && doc->nodes[v].count > 0)
    v = doc->nodes[v].first;
  uint64_t u;
  if (doc->nodes[v].type != LE_JSON_NUMBER || !le_json_uint64 (doc, v, &u) || u > INT32_MAX)
    return le_fail (err, LE_ERR_FORMAT, "%s: \"%s\" must be a token id", label, key);
  *out = (int32_t) u;
  return true;
}

static bool
parse_rope_scaling (const le_json_doc *doc, uint32_t obj, llama_config *cfg, const char *label,
                    le_error *err)
{
  uint32_t rs = le_json_config_member (doc, obj, "rope_scaling");
  if (rs == LE_JSON_NONE)
    return true;
  if (doc->nodes[rs].type != LE_JSON_OBJECT)
    return le_fail (err, LE_ERR_FORMAT, "%s: \"rope_scaling\" must be an object or null", label);
  uint32_t t = le_json_member (doc, rs, "rope_type");
  if (t == LE_JSON_NONE)
    t = le_json_member (doc, rs, "type");
  if (t == LE_JSON_NONE || doc->nodes[t].type != LE_JSON_STRING)
    return le_fail (err, LE_ERR_FORMAT, "%s: \"rope_scaling\" needs a \"rope_type\"", label);
  const char *type = le_json_string (doc, t);
  double factor = 0;
  if (!le_json_config_number (doc, rs, "factor", &factor, label, err))
    return false;
  if (!(factor > 0))
    return le_fail (err, LE_ERR_FORMAT, "%s: rope_scaling \"factor\" must be a positive number",
                    label);
  if (strcmp (type, "llama3") == 0)
    {
      double lo = 1, hi = 4, orig = 8192;
      if (!le_json_config_number (doc, rs, "low_freq_factor", &lo, label, err)
          || !le_json_config_number (doc, rs, "high_freq_factor", &hi, label, err)
          || !le_json_config_number (doc, rs, "original_max_position_embeddings", &orig, label, err))
        return false;
      if (!(hi > lo) || !(orig > 0))
        return le_fail (err, LE_ERR_FORMAT, "%s: rope_scaling needs high_freq_factor > "
                        "low_freq_factor and original_max_position_embeddings > 0", label);
      cfg->scaling = (rope_scaling) { (float) factor, (float) lo, (float) hi, (float) orig };
      return true;
    }
  if (strcmp (type, "linear") == 0)
    {
      cfg->rope_linear_factor = (float) factor;
      return true;
    }
  return le_fail (err, LE_ERR_UNSUPPORTED, "%s: rope_scaling type \"%s\" is not supported; "
                  "supported: llama3, linear", label, type);
}

bool
llama_config_parse (const char *text, size_t len, const char *label, llama_config *cfg,
                    le_error *err)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->rope_theta = 10000.0f;
  cfg->rope_linear_factor = 1.0f;
  cfg->rms_eps = 1e-6f;
  cfg->bos_id = cfg->eos_id = -1;
  cfg->max_positions = 2048;

  le_json_doc doc;
  if (!le_json_parse (&doc, text, len, err))
    return le_error_prefix (err, "%s: ", label);
  bool ok = false;
  if (doc.nodes[0].type != LE_JSON_OBJECT)
    {
      le_fail (err, LE_ERR_FORMAT, "%s: not a JSON object", label);
      goto out;
    }
  uint32_t archs = le_json_member (&doc, 0, "architectures");
  uint32_t mt = le_json_member (&doc, 0, "model_type");
  if (mt != LE_JSON_NONE && doc.nodes[mt].type == LE_JSON_STRING)
    snprintf (cfg->model_type, sizeof cfg->model_type, "%s", le_json_string (&doc, mt));
  if (archs != LE_JSON_NONE && doc.nodes[archs].type == LE_JSON_ARRAY
      && doc.nodes[archs].count > 0
      && doc.nodes[doc.nodes[archs].first].type == LE_JSON_STRING)
    snprintf (cfg->architecture, sizeof cfg->architecture, "%s",
              le_json_string (&doc, doc.nodes[archs].first));
  else if (strcmp (cfg->model_type, "llama") == 0)
    snprintf (cfg->architecture, sizeof cfg->architecture, "LlamaForCausalLM");
  else if (strcmp (cfg->model_type, "mistral") == 0)
    snprintf (cfg->architecture, sizeof cfg->architecture, "MistralForCausalLM");
  else
    snprintf (cfg->architecture, sizeof cfg->architecture, "%s",
              cfg->model_type[0] ? cfg->model_type : "(none given)");
  bool known = false;
  for (size_t i = 0; i < sizeof supported_archs / sizeof supported_archs[0]; i++)
    known |= strcmp (cfg->architecture, supported_archs[i]) == 0;
  if (!known)
    {
      le_fail (err, LE_ERR_UNSUPPORTED, "%s: architecture %s is not supported; supported: "
               "LlamaForCausalLM, MistralForCausalLM", label, cfg->architecture);
      goto out;
    }

  if (!get_int (&doc, 0, "hidden_size", true, &cfg->hidden, label, err)
      || !get_int (&doc, 0, "intermediate_size", true, &cfg->intermediate, label, err)
      || !get_int (&doc, 0, "num_hidden_layers", true, &cfg->n_layers, label, err)
      || !get_int (&doc, 0, "num_attention_heads", true, &cfg->n_heads, label, err)
      || !get_int (&doc, 0, "vocab_size", true, &cfg->vocab, label, err)
      || !get_int (&doc, 0, "num_key_value_heads", false, &cfg->n_kv_heads, label, err)
      || !get_int (&doc, 0, "head_dim", false, &cfg->head_dim, label, err)
      || !get_int (&doc, 0, "max_position_embeddings", false, &cfg->max_positions, label, err)
      || !get_token_id (&doc, 0, "bos_token_id", &cfg->bos_id, label, err)
      || !get_token_id (&doc, 0, "eos_token_id", &cfg->eos_id, label, err)
      || !le_json_config_bool (&doc, 0, "tie_word_embeddings", &cfg->tie_embeddings, label, err))
    goto out;
  double eps = cfg->rms_eps, theta = cfg->rope_theta;
  if (!le_json_config_number (&doc, 0, "rms_norm_eps", &eps, label, err)
      || !le_json_config_number (&doc, 0, "rope_theta", &theta, label, err))
    goto out;
  cfg->rms_eps = (float) eps;
  cfg->rope_theta = (float) theta;
  if (!parse_rope_scaling (&doc, 0, cfg, label, err))
    goto out;
  uint32_t sw = le_json_member (&doc, 0, "sliding_window");
  int64_t window = 0;
  if (sw != LE_JSON_NONE && doc.nodes[sw].type == LE_JSON_NUMBER
      && !get_int (&doc, 0, "sliding_window", false, &window, label, err))
    goto out;
  uint32_t td = le_json_member (&doc, 0, "torch_dtype");
  if (td != LE_JSON_NONE && doc.nodes[td].type == LE_JSON_STRING)
    snprintf (cfg->torch_dtype, sizeof cfg->torch_dtype, "%s", le_json_string (&doc, td));

  if (cfg->n_kv_heads == 0)
    cfg->n_kv_heads = cfg->n_heads;
  if (cfg->hidden == 0 || cfg->intermediate == 0 || cfg->n_layers == 0 || cfg->n_heads == 0
      || cfg->vocab == 0)
    {
      le_fail (err, LE_ERR_FORMAT, "%s: hidden_size, intermediate_size, num_hidden_layers, "
               "num_attention_heads and vocab_size must be positive", label);
      goto out;
    }
  if (cfg->head_dim == 0)
    {
      if (cfg->hidden % cfg->n_heads != 0)
        {
          le_fail (err, LE_ERR_FORMAT, "%s: hidden_size %lld is not a multiple of "
                   "num_attention_heads %lld", label, (long long) cfg->hidden,
                   (long long) cfg->n_heads);
          goto out;
        }
      cfg->head_dim = cfg->hidden / cfg->n_heads;
    }
  if (cfg->head_dim % 2 != 0)
    {
      le_fail (err, LE_ERR_FORMAT, "%s: head dimension %lld must be even for RoPE", label,
               (long long) cfg->head_dim);
      goto out;
    }
  if (cfg->n_heads % cfg->n_kv_heads != 0)
    {
      le_fail (err, LE_ERR_FORMAT, "%s: num_attention_heads %lld is not a multiple of "
               "num_key_value_heads %lld", label, (long long) cfg->n_heads,
               (long long) cfg->n_kv_heads);
      goto out;
    }
  if (window > 0 && window < cfg->max_positions)
    fprintf (stderr, "note: %s: sliding_window %lld is ignored; sequences up to that length "
             "behave as in the original model\n", label, (long long) window);
  ok = true;
out:
  le_json_free (&doc);
  return ok;
}

bool
llama_config_load (const char *folder, llama_config *cfg, le_error *err)
{
  char path[2048];
  le_file_in_folder (path, sizeof path, folder, "config.json");
  size_t len;
  char *text = le_read_file (path, 64u << 20, "a config file", &len, err);
  if (text == NULL)
    return false;
  bool ok = llama_config_parse (text, len, path, cfg, err);
  free (text);
  return ok;
}

bool
llama_config_save (const llama_config *cfg, const char *path, le_error *err)
{
  char rope[512] = "null";
  if (cfg->scaling.factor > 0)
    snprintf (rope, sizeof rope, "{\"factor\": %.6f, \"low_freq_factor\": %.6f, "
              "\"high_freq_factor\": %.6f, \"original_max_position_embeddings\": %.0f, "
              "\"rope_type\": \"llama3\"}", cfg->scaling.factor, cfg->scaling.low_freq_factor,
              cfg->scaling.high_freq_factor, cfg->scaling.original_max_position);
  else if (cfg->rope_linear_factor != 1.0f)
    snprintf (rope, sizeof rope, "{\"factor\": %.6f, \"type\": \"linear\"}",
              cfg->rope_linear_factor);
  char text[4096];
  int n = snprintf (text, sizeof text,
    "{\n"
    "  \"architectures\": [\"%s\"],\n"
    "  \"model_type\": \"%s\",\n"
    "  \"hidden_size\": %lld,\n"
    "  \"intermediate_size\": %lld,\n"
    "  \"num_hidden_layers\": %lld,\n"
    "  \"num_attention_heads\": %lld,\n"
    "  \"num_key_value_heads\": %lld,\n"
    "  \"max_position_embeddings\": %lld,\n"
    "  \"rms_norm_eps\": %.9g,\n"
    "  \"rope_theta\": %.9g,\n"
    "  \"rope_scaling\": %s,\n"
    "  \"vocab_size\": %lld,\n"
    "  \"tie_word_embeddings\": %s,\n"
    "  \"bos_token_id\": %d,\n"
    "  \"eos_token_id\": %d,\n"
    "  \"hidden_act\": \"silu\",\n"
    "  \"attention_bias\": false,\n"
    "  \"torch_dtype\": \"%s\"\n"
    "}\n",
    cfg->architecture, cfg->model_type, (long long) cfg->hidden,
    (long long) cfg->intermediate, (long long) cfg->n_layers, (long long) cfg->n_heads,
    (long long) cfg->n_kv_heads, (long long) cfg->max_positions, cfg->rms_eps,
    cfg->rope_theta, rope, (long long) cfg->vocab, cfg->tie_embeddings ? "true" : "false",
    cfg->bos_id, cfg->eos_id, cfg->torch_dtype[0] ? cfg->torch_dtype : "float32");
  if (n < 0 || (size_t) n >= sizeof text)
    return le_fail (err, LE_ERR_INVALID, "config.json text too long");
  return le_atomic_write_file (path, text, (size_t) n, err);
}
