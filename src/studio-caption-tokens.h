/* studio-caption-tokens.h: how many CLIP tokens a caption takes.
 *
 * Exact with the base model's own CLIP tokenizer, found where the engine looks for it
 * (gpu/text/clip-tokenizer.h, le_clip_tokenizer_find: the config's tokenizer_path, the
 * model's tokenizer/ folder or the one next to a single-file checkpoint, then the Hugging
 * Face cache), so the editor counts what training will count. The vocabulary ships with a
 * model, not with the app: until it is loaded, or when there is none, a conservative
 * estimate stands in; it errs high so the editor still warns before the 75 content tokens
 * (77 with start and end) are used up. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Content tokens CLIP keeps: 77 minus the start and end tokens. */
#define STUDIO_CLIP_MAX_TOKENS 75
/* Longer captions are estimated, not tokenized, while typing (see the caption editor). */
#define STUDIO_CAPTION_EXACT_MAX_BYTES 4096

/* Never below the real count for English captions: each punctuation mark and digit
 * is one token (as in CLIP's pre-split), a word is one token per 5 letters or part
 * of it, and any other character counts as 2 (byte-level BPE splits them). */
guint studio_caption_estimate_tokens (const char *text);

/* A loaded CLIP tokenizer, shared by reference (it holds ~50k vocabulary entries). */
typedef struct _StudioClipTokenizer StudioClipTokenizer;

#define STUDIO_TYPE_CLIP_TOKENIZER (studio_clip_tokenizer_get_type ())
GType                studio_clip_tokenizer_get_type (void) G_GNUC_CONST;
StudioClipTokenizer *studio_clip_tokenizer_ref      (StudioClipTokenizer *self);
void                 studio_clip_tokenizer_unref    (StudioClipTokenizer *self);

/* The engine's lookup, blocking (it reads and parses the vocabulary). CONFIGURED is the
 * config's tokenizer_path and BASE_MODEL its base_model; either may be NULL. A miss is a
 * G_IO_ERROR_NOT_FOUND whose message lists every place looked at. */
StudioClipTokenizer *studio_clip_tokenizer_find (const char *configured, const char *base_model,
                                                 GError **error);
/* The same lookup in a GTask thread. A tokenizer found is cached for the life of the
 * process under (CONFIGURED, BASE_MODEL), so each model loads once; misses are not
 * cached (the user may add the files). */
void studio_clip_tokenizer_find_async (const char *configured, const char *base_model,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data);
StudioClipTokenizer *studio_clip_tokenizer_find_finish (GAsyncResult *result, GError **error);
/* The cached tokenizer for (CONFIGURED, BASE_MODEL) without loading anything, or NULL.
 * Transfer full. Main thread only, like the cache it reads. */
StudioClipTokenizer *studio_clip_tokenizer_lookup_cached (const char *configured,
                                                          const char *base_model);

/* The content tokens of TEXT (UTF-8) as CLIP counts them: no start or end token and no
 * cut at 75, so a caption past the limit shows by how much. */
gboolean studio_clip_tokenizer_count (StudioClipTokenizer *self, const char *text,
                                      guint *n_tokens, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StudioClipTokenizer, studio_clip_tokenizer_unref)

G_END_DECLS
