"""Runs tests of supervisor's own end-to-end suite (shipped in the pip package as
supervisor/tests/test_end_to_end.py) with our supervisord in place of
`python -m supervisor.supervisord`: every pexpect.spawn of that module runs the binary given in
$SUPERVISORD instead, with the same arguments.
Usage: e2e_ours.py TestName...  |  e2e_ours.py --all-but TestName..."""

import os
import sys
import unittest

os.environ["END_TO_END"] = "1"
import pexpect  # noqa: E402

ours = os.environ["SUPERVISORD"]
real_spawn = pexpect.spawn


class Spawn(real_spawn):
    def __init__(self, command, args=(), *a, **kw):
        args = list(args)
        if args[:2] == ["-m", "supervisor.supervisord"]:
            command, args = ours, args[2:]
        super().__init__(command, args, *a, **kw)


pexpect.spawn = Spawn

from supervisor.tests import test_end_to_end  # noqa: E402

names = sys.argv[1:]
if names[:1] == ["--all-but"]:
    skip = set(names[1:])
    names = [n for n in unittest.TestLoader().getTestCaseNames(test_end_to_end.EndToEndTests)
             if n not in skip]
suite = unittest.TestSuite(test_end_to_end.EndToEndTests(name) for name in names)
result = unittest.TextTestRunner(verbosity=2).run(suite)
sys.exit(0 if result.wasSuccessful() else 1)
