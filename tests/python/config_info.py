"""Prints supervisor.getAllConfigInfo() of the daemon on a unix socket as JSON, each value as
[type name, value], with the daemon's directory written as {D} and AUTO log names' random part
as XXXX, one process per line; keys given after DIR are left out.
Usage: config_info.py SOCKET DIR [KEY...]"""
import json
import re
import sys
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

sock, d, drop = sys.argv[1], sys.argv[2], set(sys.argv[3:])
proxy = xmlrpc.client.ServerProxy("http://127.0.0.1", SupervisorTransport(None, None, "unix://" + sock))


def norm(v):
    if isinstance(v, str):
        v = re.sub(r"---supervisor-[A-Za-z0-9_]+\.log$", "---supervisor-XXXX.log", v.replace(d, "{D}"))
    return [type(v).__name__, v]


for c in proxy.supervisor.getAllConfigInfo():
    print(json.dumps({k: norm(v) for k, v in c.items() if k not in drop}, sort_keys=True))
