#!/usr/bin/env python3
"""Dump how supervisor's config parser sees each file, one JSON line per file.

Usage: python3 dump.py FILE...   (stdlib only; expected.jsonl was made with Python 3.11)
Files are dumped sorted by file name (basename, code point order), whatever the
argument order. Output is pure ASCII JSON (non-ASCII as \\uXXXX escapes), one line each.

Parser: exactly supervisor 4.3.0's UnhosedConfigParser (supervisor/options.py), i.e.
  configparser.RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False)
with every other argument left at its default: comment_prefixes=('#', ';'),
delimiters=('=', ':'), allow_no_value=False, empty_lines_in_values=True,
default_section='DEFAULT', interpolation=None (Raw: no '%' processing),
optionxform=str.lower (supervisor does not override it), dict_type=dict.
UnhosedConfigParser only adds helpers (saneget/getdefault/expand_here/read
bookkeeping) that do not change parsing, so this script does not import supervisor.

Reading: supervisor does `fp = open(path, 'r')` then `parser.read_file(fp)`
(ServerOptions.read_config; [include] files via RawConfigParser.read(), which also
opens in text mode with the default encoding). So: the locale encoding (UTF-8 here;
no BOM stripping: a BOM stays as U+FEFF on line 1), universal newlines (\\r\\n and a
lone \\r both end a line), and lines split only on '\\n' after that translation. We do
the same with encoding pinned to 'utf-8' so the output does not depend on the locale.

Output per file:
  {"file": NAME, "ok": true, "sections": [[SECTION, [[KEY, VALUE], ...]], ...],
   "defaults": [[KEY, VALUE], ...]}
  {"file": NAME, "ok": false, "error": "ExceptionClass", "line": N, "lines": [N, ...]}
"sections" lists parser.sections() in order (DEFAULT excluded, as supervisor sees it)
and, for each, parser.items(section): this is what supervisor sees, because it only
reads values through get()/saneget()/options()/items()/has_option(), all of which merge
[DEFAULT] into every section (defaults first in items() order, overridden in place).
"defaults" is the raw [DEFAULT] content, for information (supervisor never reads it
directly). "line" is the exception's lineno (MissingSectionHeaderError) or the first
bad line of a ParsingError; "lines" lists all bad lines of a ParsingError. Errors that
are not configparser errors (UnicodeDecodeError) have no line.
"""
import configparser
import json
import os
import sys


def make_parser():
    # Same constructor arguments as supervisor.options.UnhosedConfigParser on Python 3.
    return configparser.RawConfigParser(inline_comment_prefixes=(';', '#'),
                                        strict=False)


def dump(path):
    name = os.path.basename(path)
    parser = make_parser()
    try:
        with open(path, 'r', encoding='utf-8') as fp:  # text mode, universal newlines
            parser.read_file(fp)
    except (configparser.Error, UnicodeError) as e:
        out = {"file": name, "ok": False, "error": type(e).__name__}
        errors = getattr(e, 'errors', None)
        lineno = getattr(e, 'lineno', None)
        if lineno is None and errors:
            lineno = errors[0][0]
        if lineno is not None:
            out["line"] = lineno
        if errors and not isinstance(e, configparser.MissingSectionHeaderError):
            out["lines"] = [err[0] for err in errors]
        return out
    sections = [[s, [[k, v] for k, v in parser.items(s)]] for s in parser.sections()]
    defaults = [[k, v] for k, v in parser.defaults().items()]
    return {"file": name, "ok": True, "sections": sections, "defaults": defaults}


def main(argv):
    for path in sorted(argv, key=os.path.basename):
        # ensure_ascii: values may hold U+2028/U+0085 etc., which some line splitters
        # (Python's str.splitlines) would treat as line breaks.
        sys.stdout.write(json.dumps(dump(path), ensure_ascii=True) + "\n")
    sys.stdout.flush()


if __name__ == '__main__':
    main(sys.argv[1:])
