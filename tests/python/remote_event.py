"""Sends REMOTE_COMMUNICATION events through Python's own XML-RPC client and transport.
Usage: remote_event.py SOCKET TYPE DATA [COUNT]   (DATA gets " <i>" appended when COUNT > 1)"""
import sys
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

sock, kind, data = sys.argv[1:4]
count = int(sys.argv[4]) if len(sys.argv) > 4 else 1
proxy = xmlrpc.client.ServerProxy(
    "http://127.0.0.1", transport=SupervisorTransport(None, None, "unix://" + sock)
)
for i in range(count):
    text = data if count == 1 else f"{data} {i}"
    assert proxy.supervisor.sendRemoteCommEvent(kind, text) is True
