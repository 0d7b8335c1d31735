#!/usr/bin/env python3
"""Embed a text file verbatim as a C string: embed.py IN OUT SYMBOL.
Used to serve the Varlink IDL exactly as it stands in the source tree."""
import sys

src, out, sym = sys.argv[1:4]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('/* generated from %s by tools/embed.py: do not edit */\n' % src.split('/')[-1])
    f.write('#include <stddef.h>\n')
    f.write('const char %s[] =\n' % sym)
    chunk = ''.join('\\x%02x' % b for b in data)
    for i in range(0, len(chunk), 96):
        f.write('\t"%s"\n' % chunk[i:i + 96])
    f.write('\t;\n')
    f.write('const size_t %s_len = %d;\n' % (sym, len(data)))
