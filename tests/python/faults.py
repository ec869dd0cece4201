"""Calls methods that fail (and a few that succeed) on the daemon at a unix socket and prints
one line per call: the fault's code and string, or the result. Usage: faults.py SOCKET"""
import sys
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

proxy = xmlrpc.client.ServerProxy(
    "http://127.0.0.1", SupervisorTransport(None, None, "unix://" + sys.argv[1]))
s = proxy.supervisor

CASES = [
    ("readLog(-5, 3)", lambda: s.readLog(-5, 3)),
    ("readProcessStdoutLog(sleeper, 0, -1)", lambda: s.readProcessStdoutLog("sleeper", 0, -1)),
    ("readProcessStderrLog(nolog, 0, 10)", lambda: s.readProcessStderrLog("nolog", 0, 10)),
    ("readLog('0', 0.0) type", lambda: type(s.readLog("0", 0.0)).__name__),
    ("startProcess(nogroup:*)", lambda: s.startProcess("nogroup:*")),
    ("stopProcess(nogroup:)", lambda: s.stopProcess("nogroup:")),
    ("signalProcess(nogroup:*, HUP)", lambda: s.signalProcess("nogroup:*", "HUP")),
    ("startProcess(sleeper)", lambda: s.startProcess("sleeper")),
    ("stopProcess(idle)", lambda: s.stopProcess("idle")),
    ("signalProcess(sleeper, BOGUS)", lambda: s.signalProcess("sleeper", "BOGUS")),
    ("signalProcess(sleeper, 40)", lambda: s.signalProcess("sleeper", "40")),
    ("signalProcess(sleeper, 0)", lambda: s.signalProcess("sleeper", "0")),
    ("signalProcess(idle, HUP)", lambda: s.signalProcess("idle", "HUP")),
    # CONT: delivered, and nothing exits (so no state races between the two daemons).
    ("signalProcessGroup(grp, CONT)", lambda: s.signalProcessGroup("grp", "CONT")),
    ("signalProcessGroup(grp, NOPE)", lambda: s.signalProcessGroup("grp", "NOPE")),
    ("startProcess(badlog, False)", lambda: s.startProcess("badlog", False)),
    ("sendProcessStdin(idle, x)", lambda: s.sendProcessStdin("idle", "x")),
    ("getState(1)", lambda: s.getState(1)),
    ("getProcessInfo()", lambda: s.getProcessInfo()),
    ("getProcessInfo(nosuch)", lambda: s.getProcessInfo("nosuch")),
    ("system.methodHelp([])", lambda: proxy.system.methodHelp([])),
    ("system.methodSignature(nosuch)", lambda: proxy.system.methodSignature("nosuch")),
    ("' supervisor.getState'", lambda: getattr(proxy, " supervisor").getState()),
    ("addProcessGroup(sleeper)", lambda: s.addProcessGroup("sleeper")),
    ("addProcessGroup(nosuch)", lambda: s.addProcessGroup("nosuch")),
    ("removeProcessGroup(sleeper)", lambda: s.removeProcessGroup("sleeper")),
    ("clearProcessLogs(nosuch)", lambda: s.clearProcessLogs("nosuch")),
    ("tailProcessStdoutLog(nosuch, 0, 1)", lambda: s.tailProcessStdoutLog("nosuch", 0, 1)),
    ("startProcessGroup(grp)", lambda: s.startProcessGroup("grp")),
    ("stopProcessGroup(grp)", lambda: s.stopProcessGroup("grp")),
    ("stopProcessGroup(grp) again", lambda: s.stopProcessGroup("grp")),
]


def show(v):
    if isinstance(v, list):
        return repr(sorted((sorted(x.items()) if isinstance(x, dict) else x) for x in v))
    return repr(v)


for name, call in CASES:
    try:
        out = show(call())
    except xmlrpc.client.Fault as f:
        out = f"FAULT {f.faultCode} {f.faultString}"
    print(f"{name} -> {out}")
