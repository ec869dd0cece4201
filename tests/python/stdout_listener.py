"""The listener half of supervisor_stdout (coderanger/supervisor-stdout, Python 2 only on PyPI),
as its main() does: for each event, send the event's payload back as the result; the daemon's
result handler (supervisor_stdout:event_handler) prints it."""
import sys

while True:
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        break
    headers = dict(x.split(":") for x in line.split())
    data = sys.stdin.read(int(headers["len"]))
    sys.stdout.write("RESULT %s\n%s" % (len(data.encode("utf-8")), data))
    sys.stdout.flush()
