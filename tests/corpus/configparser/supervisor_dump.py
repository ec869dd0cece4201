#!/usr/bin/env python3
"""Load each config file the way Python supervisord 4.x does and dump its processes.

Usage:
    python3 supervisor_dump.py FILE...

Needs the `supervisor` package (e.g. `python3 -m venv V && V/bin/pip install
supervisor`), nothing else beyond the standard library; works on Python 3.8-3.13.
Run it from any directory: relative paths in the configs (logfile, pidfile,
childlogdir, ...) are resolved against the current working directory, exactly as
supervisord does, so the result can depend on the cwd (and on the environment:
%(ENV_X)s expansions, %(host_node_name)s, user names, existing directories).

Output: one JSON line per FILE, sorted by file basename (code point order, then
full path), pure ASCII (json.dumps(..., ensure_ascii=True)):

    {"file": "<basename>", "ok": true,
     "processes": [["<group>:<process name>", "<command>"], ...]}
    {"file": "<basename>", "ok": false, "error": "<message>"}

How a file is loaded: a fresh supervisor.options.ServerOptions() per file, then
`realize(args=['-c', FILE], progname='supervisord')`, which is what
`supervisord -c FILE` runs before it creates anything: it parses the file (and its
[include] files), checks every option (existing directories, users, signals, ...),
builds the process group configs and the server configs, and returns. Nothing is
started and no file, socket or log is created at that stage (AUTO child logs are
only created later by ProcessGroupConfig.after_setuid(), pid/log files and sockets
by supervisord.run()); this script never calls those.

"error" is the text supervisord prints after "Error: " on stderr before it exits
with status 2: every config error goes through Options.usage(msg), which this
script replaces with a function that raises instead of printing and exiting. An
undecodable file is such an error too (UnicodeDecodeError is a ValueError, so
supervisord reports it the same way), e.g. "'utf-8' codec can't decode byte ...".
An exception that supervisord would not catch (it would die with a traceback) is
reported as "<ExceptionClass>: <message>", the traceback's last line.

"processes" lists the processes in the order supervisord starts them: the groups
in the order of options.process_group_configs (supervisor sorts them by
(priority, name) with Config.__lt__ in process_groups_from_parser), and in each
group its process_configs in the order supervisor stores them (ProcessGroup keeps
that order): a [program:x]/[fcgi-program:x]/[eventlistener:x] group's configs are
sorted by (priority, name) (`programs.sort()` in _processes_from_section); a
[group:g] lists each program of its programs= line in that order, each program's
processes sorted. <group> is the group config's name, <process name> the expanded
process_name, <command> the ProcessConfig's command after %(...)s expansion,
verbatim. All three kinds ([program:x], [fcgi-program:x], [eventlistener:x]) are
included. supervisord itself would skip a group whose name repeats an earlier one
(Supervisor.add_process_group) and keep one process per name within a group (a
dict); the dump does not do that and lists every stored config.

Files are read as UTF-8 (supervisord uses the locale encoding, UTF-8 on any usual
system), text mode with universal newlines, no BOM stripping, like open(path, 'r').
"""
import io
import json
import os
import sys

from supervisor import options as sup_options

_ENCODING = 'utf-8'


class UsageError(Exception):
    """Raised in place of supervisord's `usage(msg)` (print + exit(2))."""

    def __init__(self, msg):
        Exception.__init__(self, msg)
        self.msg = msg


class _ExitCalled(Exception):
    def __init__(self, code):
        Exception.__init__(self, code)
        self.code = code


class _Utf8ConfigParser(sup_options.UnhosedConfigParser):
    """UnhosedConfigParser whose read() (used for [include] files) decodes UTF-8."""

    def read(self, filenames, **kwargs):
        kwargs.setdefault('encoding', _ENCODING)
        return sup_options.UnhosedConfigParser.read(self, filenames, **kwargs)


# read_config() builds its parser from the module global: pin [include] reads to
# UTF-8 (the top-level file is opened through ServerOptions.open, patched below).
sup_options.UnhosedConfigParser = _Utf8ConfigParser


def _make_options():
    o = sup_options.ServerOptions()

    def usage(msg):
        raise UsageError(str(msg))

    def exit_(code=0):
        raise _ExitCalled(code)

    def open_(fn, mode='r'):
        if 'b' in mode:
            return open(fn, mode)
        return open(fn, mode, encoding=_ENCODING)

    o.usage = usage
    o.exit = exit_
    o.open = open_
    o.stdout = io.StringIO()
    o.stderr = io.StringIO()
    return o


def load(path):
    """Return the JSON-able result for one config file."""
    name = os.path.basename(path)
    o = _make_options()
    real_stdout, real_stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    try:
        o.realize(args=['-c', path], progname='supervisord')
    except UsageError as e:
        return {'file': name, 'ok': False, 'error': e.msg}
    except _ExitCalled as e:
        return {'file': name, 'ok': False,
                'error': 'supervisord exited with status %r' % (e.code,)}
    except SystemExit as e:
        return {'file': name, 'ok': False,
                'error': 'supervisord exited with status %r' % (e.code,)}
    except Exception as e:  # supervisord would die with a traceback
        return {'file': name, 'ok': False,
                'error': '%s: %s' % (type(e).__name__, e)}
    finally:
        sys.stdout, sys.stderr = real_stdout, real_stderr

    processes = []
    for group in o.process_group_configs:
        for pconfig in group.process_configs:
            processes.append(['%s:%s' % (group.name, pconfig.name),
                              pconfig.command])
    return {'file': name, 'ok': True, 'processes': processes}


def main(argv):
    if not argv:
        sys.stderr.write(__doc__)
        return 2
    paths = sorted(argv, key=lambda p: (os.path.basename(p), p))
    for path in paths:
        result = load(path)
        sys.stdout.write(json.dumps(result, ensure_ascii=True) + '\n')
        sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
