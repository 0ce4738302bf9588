#!/usr/bin/env python3
# make_unicode_dump.py OUTDIR: what Python's unicodedata and str.lower() say about every
# code point, for test-tokenizer-unicode.c to compare with the engine's compact tables:
# OUTDIR/class.bin (one byte per code point: the TOK_UC_* class) and OUTDIR/lower.bin
# (one little-endian uint32 per code point: its lower case, itself when str.lower()
# gives several code points or none differs).
import os
import struct
import sys
import unicodedata

CLASS = {'L': 1, 'N': 2, 'C': 3, 'Zs': 4, 'M': 5}

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
classes = bytearray(0x110000)
lower = bytearray(4 * 0x110000)
for cp in range(0x110000):
    cat = unicodedata.category(chr(cp))
    classes[cp] = CLASS['Zs'] if cat == 'Zs' else CLASS.get(cat[0], 0)
    lo = cp
    if not 0xD800 <= cp <= 0xDFFF:
        s = chr(cp).lower()
        if len(s) == 1:
            lo = ord(s)
    struct.pack_into('<I', lower, 4 * cp, lo)
with open(os.path.join(out, 'class.bin'), 'wb') as f:
    f.write(classes)
with open(os.path.join(out, 'lower.bin'), 'wb') as f:
    f.write(lower)
