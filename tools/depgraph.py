#!/usr/bin/env python3
"""Dependency cycles of the pluto tree, and its size per folder.

    tools/depgraph.py [--src DIR] [--build DIR] [--scope src,clients] [--explain] [--check]

Builds two file-level graphs and merges them at the level of "modules"
(x.c and x.h are one node, named by the path without its extension):

  include graph  x -> y when x.c or x.h says #include "y.h"
  call graph     x -> y when an object compiled from x.c has an undefined
                 symbol that the object compiled from y.c defines (`nm` on
                 the objects of the build dir; compile_commands.json maps
                 objects back to sources)

and prints the strongly connected components with more than one member,
largest first: a component is a set of modules that all reach each other,
i.e. a dependency cycle. Each member is tagged with its layer (see
LAYER_ORDER below) so a cycle that mixes layers shows. Then lines per
folder: src/*, src/daemon/*, clients/*, tests/*.

With --check it prints only what breaks the layering (an edge pointing up
LAYER_ORDER, a module in no layer, a cycle whose modules lie in more than
one folder) and exits 1 if anything does; the unit suite runs it on the
build dir (tests/unit/meson.build, unit-layers).

Python 3 standard library only; needs `nm` (binutils) for the call graph.
Without a build dir only the include graph is used.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE_EXT = ('.c', '.h')
# nm symbol kinds that define a global symbol (text, data, bss, rodata, common, weak)
DEFINED_KINDS = set('TDBRCVWGS')

# THE LAYERING, lowest first. Every dependency (include or call) points
# down this list or stays inside its layer; a layer reaches one above it
# only through a hook the upper one registers (engine_register,
# routing_init, kernel_set_acquire_handler, log_set_subject_ops,
# views_set_manager_facts, ...). `--check` enforces it.
#
#   common   src/common          util, ip, id, errors, words, debug classes
#   policy   src/policy          algorithms and proposals
#   log      src/daemon/{log,log_limit}  the logger (knows connections only through ops),
#            src/daemon/journal  its journal sender, and the rate limit of what
#                        unauthenticated peers make it say
#   model    src/daemon/{connections,conn_options,state,events,progress,views,addresspool,
#                        secrets,keys,rsa_text,engine}   the daemon's data
#                        (engine: the narrow ops table the engine registers)
#   klips    src/klips/          kernel backends, routing, updown
#   wire     src/daemon/wire/    IKEv1 wire format, NAT-T framing
#   crypto   src/daemon/crypto/  IKE key derivation and ciphers;
#            src/daemon/helpers/ the threads that run them off the event loop
#   config   src/daemon/{options,ipsec_conf}  the command line, ipsec.conf(5)
#   io       src/daemon/{demux,rxload}  sockets and interfaces, overload control of new Main Modes
#   engine   src/daemon/ikev1/   the IKEv1 engine
#   control  src/daemon/{control,control_batch,config_apply,heap}  the commands every front end calls,
#                        start-up and reload from the configuration file, the heap policy
#   bus      src/bus/            D-Bus and Varlink front ends
#   main     src/daemon/main     the composition root: registers every hook
#   clients  clients/            separate programs (whack, ipsecctl)
LAYER_ORDER = ('common', 'policy', 'log', 'model', 'klips', 'wire', 'crypto', 'config', 'io',
               'engine', 'control', 'bus', 'main', 'clients')

# layer of a module, first matching rule wins (modules are paths without
# the extension)
LAYERS = (
    (re.compile(r'^src/daemon/main$'), 'main'),
    (re.compile(r'^src/daemon/ikev1/'), 'engine'),
    (re.compile(r'^src/daemon/wire/'), 'wire'),
    (re.compile(r'^src/daemon/crypto/'), 'crypto'),
    (re.compile(r'^src/daemon/helpers/'), 'crypto'),
    (re.compile(r'^src/daemon/(log|journal|log_limit)$'), 'log'),
    (re.compile(r'^src/daemon/(connections|conn_options|state|events|progress|views|secrets|keys|pubkey_cache|addresspool'
                r'|rsa_text|engine)$'), 'model'),
    (re.compile(r'^src/daemon/(options|ipsec_conf)$'), 'config'),
    (re.compile(r'^src/daemon/(demux|rxload)$'), 'io'),
    (re.compile(r'^src/daemon/(control|control_batch|config_apply|heap)$'), 'control'),
    (re.compile(r'^src/klips/'), 'klips'),
    (re.compile(r'^src/bus/'), 'bus'),
    (re.compile(r'^src/policy/'), 'policy'),
    (re.compile(r'^src/common/'), 'common'),
    (re.compile(r'^clients/'), 'clients'),
    (re.compile(r'^tests/'), 'tests'),   # outside the order: tests may reach anything
)


# Before issue 9 the engine, the wire format and crypto lay flat in
# src/daemon/; these names (the list) tag them there, so a tree
# from before the move is measured by the same layers.
FLAT_LAYERS = (
    (re.compile(r'^src/daemon/(ikev1.*|main_mode|quick_mode|informational|ike_state|ike_sa|rekey|dpd'
                r'|nat_traversal|peer_replace|vendor)$'), 'engine'),
    (re.compile(r'^src/daemon/packet.*$'), 'wire'),
    (re.compile(r'^src/daemon/crypto.*$'), 'crypto'),
)


def layer_of(module):
    for pattern, name in FLAT_LAYERS + LAYERS:
        if pattern.match(module):
            return name
    return 'other'


def module_of(path):
    """src/daemon/ikev1/dpd.c and .h -> src/daemon/ikev1/dpd"""
    return os.path.splitext(path)[0]


def source_files(root, scope):
    """Relative paths of the .c/.h files under the scope folders."""
    found = []
    for top in scope:
        base = os.path.join(root, top)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith('.') and not d.startswith('build'))
            for name in sorted(filenames):
                if name.endswith(SOURCE_EXT):
                    found.append(os.path.relpath(os.path.join(dirpath, name), root))
    return found


def resolve_include(root, includer, target, known):
    """The tree path an #include "target" in includer names, or None
    (generated headers such as config.h, or files outside the scope).
    Tried like the compiler: the includer's folder, then the include
    directories the build passes (the tree root and src/)."""
    for base in (os.path.dirname(includer), 'src', ''):
        candidate = os.path.normpath(os.path.join(base, target))
        if candidate in known:
            return candidate
    return None


def include_edges(root, files):
    known = set(files)
    edges = set()
    for path in files:
        with open(os.path.join(root, path), encoding='utf-8', errors='replace') as f:
            for line in f:
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                target = resolve_include(root, path, m.group(1), known)
                if target:
                    edges.add((path, target))
    return edges


def objects_of_build(root, build):
    """(object path, source path relative to root) for every compiled
    object compile_commands.json lists."""
    db_path = os.path.join(build, 'compile_commands.json')
    with open(db_path) as f:
        db = json.load(f)
    pairs = []
    for entry in db:
        directory = entry.get('directory', build)
        src = os.path.normpath(os.path.join(directory, entry['file']))
        obj = os.path.normpath(os.path.join(directory, entry['output']))
        rel = os.path.relpath(src, root)
        if os.path.exists(obj) and not rel.startswith('..'):
            pairs.append((obj, rel))
    return pairs


def nm_symbols(obj):
    """(defined, undefined) global symbol sets of one object file."""
    out = subprocess.run(['nm', '-P', obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == 'U':
            undefined.add(name)
        elif kind in DEFINED_KINDS:
            defined.add(name)
    return defined, undefined


def call_edges(root, build, files):
    """x.c -> y.c when x's object uses a symbol y's object defines.
    A symbol defined by several sources (test stubs, main()) resolves to
    the definers in the user's own top-level tree first (src/ code is
    linked with src/ code), then to src/, then to all of them."""
    in_scope = set(files)
    defined_by = collections.defaultdict(set)
    used_by = collections.defaultdict(set)
    for obj, src in objects_of_build(root, build):
        if src not in in_scope:
            continue
        defined, undefined = nm_symbols(obj)
        for sym in defined:
            defined_by[sym].add(src)
        used_by[src] |= undefined
    edges = set()
    for user, symbols in used_by.items():
        top = user.split('/', 1)[0]
        for sym in symbols:
            definers = defined_by.get(sym)
            if not definers:
                continue  # libc, OpenSSL, libsystemd, sanitizer runtime
            for pick in ([d for d in definers if d.split('/', 1)[0] == top],
                         [d for d in definers if d.startswith('src/')],
                         list(definers)):
                if pick:
                    definers = pick
                    break
            for d in definers:
                if d != user:
                    edges.add((user, d))
    return edges


def module_graph(edges):
    graph = collections.defaultdict(set)
    for a, b in edges:
        ma, mb = module_of(a), module_of(b)
        graph[ma]
        graph[mb]
        if ma != mb:
            graph[ma].add(mb)
    return graph


def strongly_connected(graph):
    """Tarjan's algorithm, iterative (the tree is deeper than Python's
    recursion limit allows for comfort)."""
    index, low, on_stack = {}, {}, set()
    stack, components, counter = [], [], [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def print_cycles(title, graph, out, explain=False):
    cycles = [c for c in strongly_connected(graph) if len(c) > 1]
    cycles.sort(key=lambda c: (-len(c), c))
    largest = len(cycles[0]) if cycles else 0
    out.write('== %s: %d modules, %d edges, %d cycles, largest %d modules\n'
              % (title, len(graph), sum(len(v) for v in graph.values()), len(cycles), largest))
    for c in cycles:
        layers = collections.Counter(layer_of(m) for m in c)
        mix = ', '.join('%s %d' % (k, v) for k, v in sorted(layers.items()))
        out.write('  cycle of %d modules (%s):\n' % (len(c), mix))
        for m in c:
            out.write('    %-8s %s\n' % (layer_of(m), m))
        if explain:
            members = set(c)
            for a in c:
                for b in sorted(graph[a] & members):
                    if layer_of(a) != layer_of(b):
                        out.write('      crosses: %s -> %s\n' % (a, b))
    return largest


def check_layers(graph, out):
    """The layering as a rule: name every edge that points up
    LAYER_ORDER, every module in no layer, and every cycle whose modules
    lie in more than one folder. Returns the number of problems."""
    rank = {name: i for i, name in enumerate(LAYER_ORDER)}
    problems = 0
    for a in sorted(graph):
        la = layer_of(a)
        if la == 'other':
            out.write('no layer: %s (add it to LAYERS in tools/depgraph.py)\n' % a)
            problems += 1
            continue
        for b in sorted(graph[a]):
            lb = layer_of(b)
            if la == 'tests' or lb not in rank:
                continue  # tests may reach anything; b's own line reports 'other'
            if rank[la] < rank[lb]:
                out.write('points up: %s (%s) -> %s (%s)\n' % (a, la, b, lb))
                problems += 1
    cycles = [c for c in strongly_connected(graph) if len(c) > 1]
    cycles.sort(key=lambda c: (-len(c), c))
    for c in cycles:
        folders = sorted(set(os.path.dirname(m) for m in c))
        if len(folders) > 1:
            out.write('cycle across folders (%s): %s\n' % (', '.join(folders), ' '.join(c)))
            problems += 1
    largest = len(cycles[0]) if cycles else 0
    out.write('layering: %s (%d modules, %d edges, %d cycles, largest %d modules%s)\n'
              % ('ok' if not problems else 'FAILED, %d problems' % problems,
                 len(graph), sum(len(v) for v in graph.values()), len(cycles), largest,
                 ': ' + ' '.join(cycles[0]) if cycles else ''))
    return problems


def print_layers(graph, out):
    """Edges between layers, and the pairs of layers that depend on each
    other both ways (each such pair is a loop waiting to happen)."""
    between = collections.Counter()
    for a, targets in graph.items():
        for b in targets:
            la, lb = layer_of(a), layer_of(b)
            if la != lb:
                between[(la, lb)] += 1
    out.write('== module edges between layers (include + call)\n')
    for (la, lb), n in sorted(between.items()):
        out.write('  %-8s -> %-8s %4d\n' % (la, lb, n))
    both = sorted((la, lb) for (la, lb) in between if la < lb and (lb, la) in between)
    out.write('  both ways: %s\n' % (', '.join('%s <-> %s' % p for p in both) if both else 'none'))


def count_lines(path):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return 0
    if b'\0' in data[:8192]:
        return 0  # binary (captures, keys in DER, ...)
    return data.count(b'\n')


def tracked_files(root):
    try:
        out = subprocess.run(['git', '-C', root, 'ls-files', '-z'], capture_output=True, check=True).stdout
        return [p for p in out.decode('utf-8', 'replace').split('\0') if p]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith('.') and not d.startswith('build')]
            files += [os.path.relpath(os.path.join(dirpath, n), root) for n in filenames]
        return files


def folder_key(path):
    """The folder a file is counted under: src/<x>, src/daemon/<x>
    (files directly in src/daemon count as src/daemon/.), clients/<x>,
    tests/<x>; None for everything else."""
    parts = path.split('/')
    if parts[0] not in ('src', 'clients', 'tests') or len(parts) < 2:
        return None
    if len(parts) == 2:
        return parts[0] + '/.'
    if parts[:2] == ['src', 'daemon']:
        return 'src/daemon/' + (parts[2] if len(parts) > 3 else '.')
    return parts[0] + '/' + parts[1]


def print_lines(root, out):
    lines = collections.Counter()
    code = collections.Counter()
    for path in tracked_files(root):
        key = folder_key(path)
        if not key:
            continue
        n = count_lines(os.path.join(root, path))
        lines[key] += n
        if path.endswith(SOURCE_EXT):
            code[key] += n
    out.write('== lines per folder (all tracked text files / of them .c and .h)\n')
    for key in sorted(lines):
        out.write('  %-24s %7d %7d\n' % (key, lines[key], code[key]))
    daemon = [k for k in lines if k.startswith('src/daemon/')]
    out.write('  %-24s %7d %7d\n' % ('src/daemon (all)', sum(lines[k] for k in daemon),
                                     sum(code[k] for k in daemon)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--src', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'),
                    help='the source tree (default: this script\'s tree)')
    ap.add_argument('--build', help='a configured and built build dir (for the call graph)')
    ap.add_argument('--scope', default='src,clients',
                    help='comma-separated top folders whose files are nodes (default src,clients)')
    ap.add_argument('--explain', action='store_true',
                    help='list the edges inside each cycle that cross layers')
    ap.add_argument('--check', action='store_true',
                    help='only check the layering (LAYER_ORDER): exit 1 naming each edge that points '
                         'up, each module in no layer and each cycle across folders')
    args = ap.parse_args()
    root = os.path.abspath(args.src)
    scope = [s for s in args.scope.split(',') if s]
    files = source_files(root, scope)
    out = sys.stdout

    if args.check:
        if not files:
            out.write('layering: no sources under %s in %s\n' % (','.join(scope), root))
            return 2
        edges = include_edges(root, files)
        if args.build:
            edges |= call_edges(root, os.path.abspath(args.build), files)
        return 1 if check_layers(module_graph(edges), out) else 0

    inc = include_edges(root, files)
    print_cycles('include graph', module_graph(inc), out, args.explain)
    edges = set(inc)
    if args.build:
        calls = call_edges(root, os.path.abspath(args.build), files)
        print_cycles('call graph', module_graph(calls), out, args.explain)
        edges |= calls
    merged = module_graph(edges)
    largest = print_cycles('include + call graph', merged, out, args.explain)
    print_layers(merged, out)
    print_lines(root, out)
    out.write('largest cycle: %d modules\n' % largest)
    return 0


if __name__ == '__main__':
    sys.exit(main())
