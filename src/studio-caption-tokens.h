/* studio-caption-tokens.h: a conservative estimate of how many CLIP tokens a caption
 * takes. The exact count needs SD 1.5's vocabulary (49,408 BPE entries), which ships
 * with a base model, not with the app; the editor only has to warn before the 75
 * content tokens (77 with start and end) are used up, so the estimate errs high. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Content tokens CLIP keeps: 77 minus the start and end tokens. */
#define STUDIO_CLIP_MAX_TOKENS 75

/* Never below the real count for English captions: each punctuation mark and digit
 * is one token (as in CLIP's pre-split), a word is one token per 6 letters or part
 * of it, and any other character counts as 2 (byte-level BPE splits them). */
guint studio_caption_estimate_tokens (const char *text);

G_END_DECLS
