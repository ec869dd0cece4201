"""Python's xmlrpc.client against our /RPC2: values, key sets, sort orders and faults as
supervisor 4.x returns them. Usage: xmlrpc_client.py URL   (http://user:pass@host:port/RPC2)"""
import sys
import time
import xmlrpc.client

s = xmlrpc.client.ServerProxy(sys.argv[1])
sup = s.supervisor


def check(cond, what):
    if not cond:
        print("FAIL " + what)
        sys.exit(1)
    print("ok " + what)


def wait_until(what, cond, timeout=30):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            print("FAIL timed out waiting for " + what)
            sys.exit(1)
        time.sleep(0.05)


def fault(fn, *args):
    try:
        fn(*args)
    except xmlrpc.client.Fault as f:
        return f.faultCode, f.faultString
    return None


check(sup.getAPIVersion() == "3.0" and sup.getVersion() == "3.0", "API version")
check(sup.getState() == {"statecode": 1, "statename": "RUNNING"}, "getState")
check(sup.getIdentification() == "supervisor", "getIdentification")
check(isinstance(sup.getPID(), int), "getPID")
infos = sup.getAllProcessInfo()
keys = ["name", "group", "start", "stop", "now", "state", "statename", "spawnerr", "exitstatus",
        "logfile", "stdout_logfile", "stderr_logfile", "pid", "description"]
check(all(list(i.keys()) == keys for i in infos), "process info keys in supervisor's order")
order = [(i["group"], i["name"]) for i in infos]
check(order == sorted(order), "getAllProcessInfo sorted by group, name")
longrun = sup.getProcessInfo("longrun")
check(longrun["statename"] == "RUNNING" and longrun["description"].startswith("pid "), "getProcessInfo")
check(sup.getProcessInfo("grp:ga")["group"] == "grp", "group:name")
check(fault(sup.getProcessInfo, "nosuch") == (10, "BAD_NAME: nosuch"), "BAD_NAME")
check(fault(sup.startProcess, "longrun") == (60, "ALREADY_STARTED: longrun"), "ALREADY_STARTED")
check(fault(sup.startProcess, "nofile")[0] == 20, "NO_FILE before spawning")
check(sup.getProcessInfo("nofile")["statename"] == "STOPPED", "NO_FILE changes no state")
check(fault(sup.startProcess, "crasher")[0] == 50, "SPAWN_ERROR when it exits within startsecs")
check(fault(sup.stopProcess, "manual") == (70, "NOT_RUNNING: manual"), "NOT_RUNNING")
check(fault(sup.signalProcess, "longrun", "BOGUS")[0] == 11, "BAD_SIGNAL")
check(sup.signalProcess("longrun", "CONT") is True, "signalProcess")
check(fault(sup.getProcessInfo)[0] == 2, "INCORRECT_PARAMETERS for a missing argument")
check(fault(s.supervisor.nosuchMethod)[0] == 1, "UNKNOWN_METHOD")
check(fault(getattr(s, "a.b.c"))[0] == 1, "UNKNOWN_METHOD for three parts")
check(sup.startProcess("manual") is True, "startProcess waits")
check(sup.getProcessInfo("manual")["statename"] == "RUNNING", "started")
check(sup.stopProcess("manual") is True and sup.getProcessInfo("manual")["statename"] == "STOPPED", "stopProcess")
res = sup.stopProcessGroup("grp")
check(sorted(r["name"] for r in res) == ["ga", "gb"] and all(r["status"] == 80 and r["description"] == "OK" for r in res), "stopProcessGroup results")
res = sup.startProcess("grp:*")
check(len(res) == 2, "startProcess with group:* returns results")
check(sup.startProcessGroup("grp") == [], "nothing to start in a running group")
cfg = sup.getAllConfigInfo()
check([c["name"] for c in cfg] == sorted(c["name"] for c in cfg), "getAllConfigInfo sorted by name")
check({"autostart", "command", "group", "group_prio", "inuse", "name", "process_prio", "stopsignal"} <= set(cfg[0]), "config info keys")
wait_until("chatty output", lambda: "out line 2" in sup.readProcessStdoutLog("chatty", 0, 0))
data, offset, overflow = sup.tailProcessStdoutLog("chatty", 0, 5)
check(len(data) == 5 and overflow is True and offset > 5, "tailProcessStdoutLog")
check(sup.readProcessStdoutLog("chatty", -10, 0).endswith("\n"), "read negative offset")
check(fault(sup.readProcessStdoutLog, "chatty", -10, 5)[0] == 3, "BAD_ARGUMENTS")
check("spawned:" in sup.readLog(0, 0), "readLog")
check(sup.sendProcessStdin("echoer", "hello stdin\n") is True, "sendProcessStdin")
wait_until("the echo", lambda: "hello stdin" in sup.readProcessStdoutLog("echoer", 0, 0))
check(fault(sup.sendProcessStdin, "manual", "x")[0] == 70, "stdin of a stopped process")
check(sup.clearProcessLogs("chatty") is True, "clearProcessLogs")
m = s.system.multicall([
    {"methodName": "supervisor.getAPIVersion", "params": []},
    {"methodName": "supervisor.getProcessInfo", "params": ["nosuch"]},
    {"methodName": "system.multicall", "params": [[]]},
    {"params": []},
])
check(m[0] == "3.0", "multicall returns bare values")
check(m[1] == {"faultCode": 10, "faultString": "BAD_NAME: nosuch"}, "multicall faults")
check(m[2]["faultString"] == "INCORRECT_PARAMETERS: Recursive system.multicall forbidden", "no recursion")
check(m[3]["faultString"] == "INCORRECT_PARAMETERS: No methodName", "no methodName")
methods = s.system.listMethods()
check(len(methods) == 41 and methods == sorted(methods), "listMethods")
check(s.system.methodSignature("supervisor.tailProcessStdoutLog") == ["array", "string", "int", "int"], "methodSignature")
check(fault(s.system.methodHelp, "nope")[0] == 4, "methodHelp of an unknown method")
check(sup.reloadConfig() == [[[], [], []]], "reloadConfig with no change")
print("all ok")
