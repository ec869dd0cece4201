"""A raw event listener for the tests: logs every envelope it is sent as one line of LOG (its
process name, the header line, the payload with \\, newline and tab escaped, tab-separated),
and answers as told.
Usage: listener.py LOG [--reject-first] [--die-first MARKER] [--never-ready]
                       [--hold-until FILE...]   (-- ends the list)
  --reject-first  answer FAIL to the first delivery of each serial, OK after
  --die-first M   exit without answering the first event if file M does not exist (creating it)
  --never-ready   never say READY (events pile up in the pool's buffer)
  --hold-until F  before answering, wait until every file F exists (each delivery first
                  creates <LOG>.got-<serial>)"""
import os
import sys
import time

args = sys.argv[1:]
log = args.pop(0)
reject_first = "--reject-first" in args
never_ready = "--never-ready" in args
die_marker = args[args.index("--die-first") + 1] if "--die-first" in args else None
hold = []
if "--hold-until" in args:
    rest = args[args.index("--hold-until") + 1:]
    hold = rest[: rest.index("--")] if "--" in rest else rest
name = os.environ.get("SUPERVISOR_PROCESS_NAME", "?")
seen = set()
stdin = sys.stdin.buffer
stdout = sys.stdout.buffer

if never_ready:
    while stdin.read(1):
        pass
    sys.exit(0)

while True:
    stdout.write(b"READY\n")
    stdout.flush()
    line = stdin.readline()
    if not line:
        sys.exit(0)
    text = line.decode("utf-8")
    headers = dict(x.split(":", 1) for x in text.split())
    # len counts characters, as Python's len(str): read bytes until that many characters.
    want = int(headers["len"])
    data = b""
    while len(data.decode("utf-8", "ignore")) < want:
        data += stdin.read(1)
    payload = data.decode("utf-8")
    serial = headers["serial"]
    with open(log, "a") as f:
        escaped = payload.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
        f.write(f"{name}\t{text.rstrip(chr(10))}\t{escaped}\n")
    if die_marker and not os.path.exists(die_marker):
        open(die_marker, "w").close()
        os._exit(1)
    if hold:
        open(f"{log}.got-{serial}", "w").close()
        deadline = time.time() + 60
        while not all(os.path.exists(h) for h in hold) and time.time() < deadline:
            time.sleep(0.02)
    if reject_first and serial not in seen:
        seen.add(serial)
        stdout.write(b"RESULT 4\nFAIL")
    else:
        stdout.write(b"RESULT 2\nOK")
    stdout.flush()
