#!/usr/bin/env python3
"""Rewrite the old logging calls into the logger API of src/daemon/log.h.

    plog_full(prio, msgid, rc, c, st, fmt, ...)  ->  llog(LOGGER, STREAM, msgid, fmt, ...)
                                                  or llog_rc(LOGGER, STREAM, rc, msgid, fmt, ...)
    plog(fmt, ...)      -> llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC, fmt, ...)
    plog_err(fmt, ...)  -> llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC, fmt, ...)
    clog(c, fmt, ...)   -> llog(CONN_LOGGER(c), LS_INFO, MSGID_GENERIC, fmt, ...)

The (priority, whack code) pair of plog_full becomes ONE stream when it is
one of the pairs of log.c's stream_table; any other whack code (RC_SUCCESS,
RC_NEW_STATE + n, RC_NOTIFICATION + n, failure codes) stays explicit in
llog_rc, with the stream that has the call's priority. Every message keeps
its priority and its whack code exactly.

The (c, st) pair becomes the cheapest logger that means the same:
NULL, NULL -> GLOBAL_LOGGER; c, NULL -> CONN_LOGGER(c); NULL, st or
st->connection, st -> STATE_LOGGER(st) (log.c takes the connection from the
state); anything else -> LOGGER(c, st).

Usage: tools/convert-logging.py [--check] [ROOT]   (ROOT: the source tree, default .)
Rewrites every *.c and *.h under ROOT/src, ROOT/tests and ROOT/clients except
log.[ch] themselves. Idempotent: converted calls are not matched again.
Prints each call it could not convert and exits 1 if any remain;
--check only reports (exit 1 when something is left to convert).
"""
import os
import re
import sys

OLD_NAMES = ('plog_full', 'plog_err', 'plog', 'clog')
SKIP_FILES = {os.path.join('src', 'daemon', 'log.h'), os.path.join('src', 'daemon', 'log.c')}
SCAN_DIRS = ('src', 'tests', 'clients')

PRIORITY = {
    '3': 'err', 'LOG_ERR': 'err',
    '4': 'warning', 'LOG_WARNING': 'warning',
    '5': 'notice', 'LOG_NOTICE': 'notice',
    '6': 'info', 'LOG_INFO': 'info',
}
# log.c's stream_table, read the other way round
STREAM_OF_PAIR = {
    ('info', 'RC_LOG'): 'LS_INFO',
    ('notice', 'RC_LOG'): 'LS_NOTICE',
    ('warning', 'RC_LOG'): 'LS_WARNING',
    ('warning', 'RC_LOG_SERIOUS'): 'LS_SERIOUS',
    ('err', 'RC_LOG_SERIOUS'): 'LS_ERROR',
}
# llog_rc: the stream that has the priority (a warning with its own whack
# code is a failure: v1_fail)
STREAM_OF_PRIORITY = {'info': 'LS_INFO', 'notice': 'LS_NOTICE', 'warning': 'LS_SERIOUS', 'err': 'LS_ERROR'}


class Unconvertible(Exception):
    pass


def code_mask(text):
    """A copy of text where comments and string/char literals are blanked
    (same length, newlines kept), so searches only see code."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = ' '
            i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != '\n':
                    out[k] = ' '
            i = j
        elif ch in '"\'':
            j = i + 1
            while j < n and text[j] != ch:
                j += 2 if text[j] == '\\' else 1
            for k in range(i + 1, min(j, n)):
                if out[k] != '\n':
                    out[k] = ' '
            i = j + 1
        else:
            i += 1
    return ''.join(out)


def split_args(text, mask, open_paren):
    """Top-level arguments of the call whose '(' is at open_paren:
    list of (start, end) spans, and the index of the closing ')'."""
    depth = 0
    spans = []
    start = open_paren + 1
    for i in range(open_paren, len(mask)):
        ch = mask[i]
        if ch in '([{':
            depth += 1
        elif ch in ')]}':
            depth -= 1
            if depth == 0:
                spans.append((start, i))
                return spans, i
        elif ch == ',' and depth == 1:
            spans.append((start, i))
            start = i + 1
    raise Unconvertible('no closing parenthesis')


def clean(expr):
    """An argument on one line: line breaks (and macro continuations) become
    one blank."""
    return re.sub(r'\s*\\?\n\s*', ' ', expr).strip()


def norm(expr):
    """An expression without comments, blanks and redundant outer parentheses."""
    expr = re.sub(r'/\*.*?\*/', '', clean(expr), flags=re.S)
    expr = re.sub(r'\s+', '', expr)
    while expr.startswith('(') and expr.endswith(')') and balanced(expr[1:-1]):
        expr = expr[1:-1]
    return expr


def balanced(expr):
    depth = 0
    for ch in expr:
        depth += ch == '('
        depth -= ch == ')'
        if depth < 0:
            return False
    return depth == 0


def is_null(expr):
    return norm(expr) in ('NULL', '0', '(void*)0')


def logger_of(c, st):
    c_text, st_text = clean(c), clean(st)
    if is_null(c) and is_null(st):
        return 'GLOBAL_LOGGER'
    if is_null(st):
        return 'CONN_LOGGER(%s)' % c_text
    if is_null(c) or norm(c) == norm(st) + '->connection' or norm(c) == '(' + norm(st) + ')->connection':
        return 'STATE_LOGGER(%s)' % st_text
    return 'LOGGER(%s, %s)' % (c_text, st_text)


def whack_code(rc):
    """rc without a cast to enum whack_rc (llog_rc takes any integer code)."""
    text = clean(rc)
    m = re.match(r'^\(\s*enum\s+whack_rc\s*\)\s*', text)
    if m:
        rest = text[m.end():]
        if rest.startswith('(') and rest.endswith(')') and balanced(rest[1:-1]):
            rest = rest[1:-1].strip()
        if re.fullmatch(r'[\w\s+\->.()\[\]]+', rest):
            return rest
        return text
    return text


def new_head(name, text, spans):
    """The replacement for name( ... up to the format argument, and the
    index of the first span kept verbatim."""
    arg = lambda k: text[spans[k][0]:spans[k][1]]
    if name == 'plog':
        return 'llog(GLOBAL_LOGGER, LS_INFO, MSGID_GENERIC,', 0
    if name == 'plog_err':
        return 'llog(GLOBAL_LOGGER, LS_ERROR, MSGID_GENERIC,', 0
    if name == 'clog':
        if len(spans) < 2:
            raise Unconvertible('clog without a format')
        return 'llog(CONN_LOGGER(%s), LS_INFO, MSGID_GENERIC,' % clean(arg(0)), 1
    # plog_full
    if len(spans) < 6:
        raise Unconvertible('plog_full with %d arguments' % len(spans))
    prio = PRIORITY.get(norm(arg(0)))
    if prio is None:
        raise Unconvertible('priority %r is not a constant' % arg(0).strip())
    msgid = clean(arg(1))
    rc = arg(2)
    logger = logger_of(arg(3), arg(4))
    stream = STREAM_OF_PAIR.get((prio, norm(rc)))
    if stream:
        return 'llog(%s, %s, %s,' % (logger, stream, msgid), 5
    return 'llog_rc(%s, %s, %s, %s,' % (logger, STREAM_OF_PRIORITY[prio], whack_code(rc), msgid), 5


def column(line_text, upto):
    col = 0
    for ch in line_text[:upto]:
        col = (col // 8 + 1) * 8 if ch == '\t' else col + 1
    return col


def indent_to(col):
    return '\t' * (col // 8) + ' ' * (col % 8)


def realign(call_text, old_paren_col, new_paren_col):
    """Continuation lines aligned under the old '(' move under the new one."""
    if '\\\n' in call_text or old_paren_col == new_paren_col:
        return call_text
    lines = call_text.split('\n')
    for k in range(1, len(lines)):
        stripped = lines[k].lstrip(' \t')
        lead = lines[k][:len(lines[k]) - len(stripped)]
        width = column(lead, len(lead))
        if stripped and width == old_paren_col + 1:
            lines[k] = indent_to(new_paren_col + 1) + stripped
    return '\n'.join(lines)


CALL = re.compile(r'(?<![\w.>])(%s)\s*\(' % '|'.join(OLD_NAMES))
MENTION = re.compile(r'\b(%s)\b' % '|'.join(OLD_NAMES))


def convert_text(text, path, problems):
    converted = 0
    while True:
        mask = code_mask(text)
        progressed = False
        for m in CALL.finditer(mask):
            name = m.group(1)
            line_no = text.count('\n', 0, m.start()) + 1
            # a definition of the old API (a prototype or #define) is not a call
            line_start = text.rfind('\n', 0, m.start()) + 1
            before = mask[line_start:m.start()]
            if re.search(r'#\s*define\s*$', before) or re.search(r'\b(void|int)\s*$', before):
                continue
            try:
                open_paren = m.end() - 1
                spans, close = split_args(text, mask, open_paren)
                head, keep_from = new_head(name, text, spans)
            except Unconvertible as e:
                key = (path, line_no)
                if key not in problems:
                    problems[key] = '%s:%d: %s: %s' % (path, line_no, name, e)
                continue
            # keep the format argument and everything after it verbatim,
            # including the blanks (and line break) before it
            keep_start = spans[keep_from][0]
            kept = text[keep_start:close + 1]
            line_end = text.find('\n', m.start())
            line_text = text[line_start:line_end if line_end >= 0 else len(text)]
            old_col = column(line_text, open_paren - line_start)
            new_col = column(line_text, m.start() - line_start) + head.index('(')
            if '\n' in text[open_paren:keep_start] and not kept.lstrip(' \t').startswith('\n') \
                    and '\\\n' not in text[m.start():close]:
                # the call broke its line in the arguments that went: break
                # before the format instead
                kept = '\n' + indent_to(new_col + 1) + kept.lstrip(' \t')
            elif not kept[:1].isspace():
                kept = ' ' + kept
            new_call = realign(head + kept, old_col, new_col)
            text = text[:m.start()] + new_call + text[close + 1:]
            converted += 1
            progressed = True
            break   # the text moved: search again
        if not progressed:
            return text, converted


def comment_mentions(text):
    """Comments that name the old calls as "plog_full()": say llog() now."""
    mask = code_mask(text)
    out, last, n = [], 0, 0
    for m in re.finditer(r'\b(plog_full|plog_err|plog|clog)\(\)', text):
        if mask[m.start()] == ' ':          # inside a comment or string
            out.append(text[last:m.start()])
            out.append('llog()')
            last = m.end()
            n += 1
    out.append(text[last:])
    return ''.join(out), n


def remaining(text, path):
    mask = code_mask(text)
    left = []
    for m in MENTION.finditer(mask):
        line_no = text.count('\n', 0, m.start()) + 1
        left.append('%s:%d: %s is still used' % (path, line_no, m.group(1)))
    return left


def source_files(root):
    for top in SCAN_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
            for f in sorted(filenames):
                if f.endswith(('.c', '.h')):
                    full = os.path.join(dirpath, f)
                    rel = os.path.relpath(full, root)
                    if rel not in SKIP_FILES:
                        yield full, rel


def main(argv):
    check = '--check' in argv
    args = [a for a in argv if a != '--check']
    root = args[0] if args else '.'
    total, files, problems, left = 0, 0, {}, []
    for full, rel in source_files(root):
        with open(full, encoding='utf-8') as fh:
            text = fh.read()
        new, n = convert_text(text, rel, problems)
        new, mentions = comment_mentions(new)
        if n or mentions:
            files += 1
            total += n
            print('%s: %d call%s%s' % (rel, n, '' if n == 1 else 's',
                                       ', %d comment mention%s' % (mentions, '' if mentions == 1 else 's')
                                       if mentions else ''))
            if not check:
                with open(full, 'w', encoding='utf-8') as fh:
                    fh.write(new)
        left += remaining(new if not check else text, rel) if check else remaining(new, rel)
    verb = 'to convert' if check else 'converted'
    print('%d call%s %s in %d file%s' % (total, '' if total == 1 else 's', verb, files, '' if files == 1 else 's'))
    for p in sorted(problems.values()):
        print('NOT CONVERTED: ' + p, file=sys.stderr)
    seen = {p.split(': ')[0] for p in problems.values()}
    for l in left:
        if l.split(': ')[0] not in seen:
            print('LEFT: ' + l, file=sys.stderr)
    if problems or left:
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
