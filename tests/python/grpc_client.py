"""A gRPC client that is not ours: Python's grpcio with stubs generated from proto/.

Usage: grpc_client.py PROTO_DIR SOCKET_PATH
Generates the stubs into a temp dir, then exercises the API over the unix socket and prints
one line per check ("ok <what>"); exits non-zero on the first failure.
"""
import os
import subprocess
import sys
import tempfile

proto_dir, socket_path = sys.argv[1], sys.argv[2]
out = tempfile.mkdtemp()
subprocess.check_call([
    sys.executable, "-m", "grpc_tools.protoc", "-I", proto_dir,
    "--python_out", out, "--grpc_python_out", out,
    os.path.join(proto_dir, "supervisor.proto"),
])
sys.path.insert(0, out)

import grpc  # noqa: E402
import supervisor_pb2 as pb  # noqa: E402
import supervisor_pb2_grpc as rpc  # noqa: E402

# Over a unix socket grpc-core sends the socket path as :authority, which HTTP/2 servers
# (hyper here) reject: name the authority, as every unix-socket gRPC client should.
channel = grpc.insecure_channel("unix://" + socket_path,
                                options=[("grpc.default_authority", "localhost")])
api = rpc.SupervisorStub(channel)


def check(cond, what):
    if not cond:
        print("FAIL " + what)
        sys.exit(1)
    print("ok " + what)


def subscribe(req):
    """Subscribe, and return once the daemon is known to send to this subscriber: a stream
    starts on the server some time after the call, and what happens before is not sent. A
    "sync" remote event is sent until one arrives (later ones may still come: skip them)."""
    import threading
    events = api.Subscribe(req)
    arrived = threading.Event()

    def ping():
        while not arrived.wait(0.05):
            api.SendRemoteCommEvent(pb.SendRemoteCommEventRequest(type="sync", data=""))

    t = threading.Thread(target=ping, daemon=True)
    t.start()
    for ev in events:
        if ev.WhichOneof("kind") == "remote_communication" and ev.remote_communication.type == "sync":
            break
    arrived.set()
    t.join()
    return events


def not_sync(events):
    return (ev for ev in events
            if not (ev.WhichOneof("kind") == "remote_communication"
                    and ev.remote_communication.type == "sync"))


v = api.GetVersion(pb.GetVersionRequest())
check(v.api_version == "3.0", "GetVersion api 3.0")
infos = api.GetAllProcessInfo(pb.GetAllProcessInfoRequest()).processes
names = [(p.group, p.name) for p in infos]
check(names == sorted(names) and ("py", "py") in names, "GetAllProcessInfo sorted, has py")
py = [p for p in infos if p.name == "py"][0]
check(py.state == pb.PROCESS_STATE_RUNNING and py.statename == "RUNNING" and py.pid > 0,
      "py RUNNING with a pid")
check(py.description.startswith("pid %d, uptime " % py.pid), "description")
r = api.StopProcess(pb.StopProcessRequest(name="py", wait=True))
check(r.info.statename == "STOPPED", "StopProcess wait")
r = api.StartProcess(pb.StartProcessRequest(name="py", wait=True))
check(r.info.statename == "RUNNING", "StartProcess wait")
try:
    api.GetProcessInfo(pb.GetProcessInfoRequest(name="nosuch"))
    check(False, "BAD_NAME fault")
except grpc.RpcError as e:
    md = dict(e.trailing_metadata() or ())
    check(e.code() == grpc.StatusCode.NOT_FOUND, "BAD_NAME is NOT_FOUND")
    check(md.get("supervisor-fault-code") == "10" and md.get("supervisor-fault-name") == "BAD_NAME",
          "fault code and name in metadata")
    check(e.details() == "BAD_NAME: nosuch", "fault string")
res = api.StartProcessGroup(pb.StartProcessGroupRequest(name="py", wait=True)).results
check(list(res) == [], "nothing to start in a running group")
events = subscribe(pb.SubscribeRequest())
api.StopProcess(pb.StopProcessRequest(name="py", wait=False))
seen = []
for ev in not_sync(events):
    if ev.WhichOneof("kind") == "process_state_changed":
        seen.append(ev.process_state_changed.to_state)
        if ev.process_state_changed.to_state == pb.PROCESS_STATE_STOPPED:
            break
check(seen[-2:] == [pb.PROCESS_STATE_STOPPING, pb.PROCESS_STATE_STOPPED], "Subscribe streams changes")
events.cancel()

# A remote communication event sent over XML-RPC reaches gRPC subscribers.
import xmlrpc.client  # noqa: E402
from supervisor.xmlrpc import SupervisorTransport  # noqa: E402
xproxy = xmlrpc.client.ServerProxy(
    "http://127.0.0.1", transport=SupervisorTransport(None, None, "unix://" + socket_path))
events = subscribe(pb.SubscribeRequest())
check(xproxy.supervisor.sendRemoteCommEvent("deploy", "version 42") is True,
      "sendRemoteCommEvent returns True")
for ev in not_sync(events):
    if ev.WhichOneof("kind") == "remote_communication":
        rc = ev.remote_communication
        check(rc.type == "deploy" and rc.data == "version 42",
              "Subscribe gets the remote communication event")
        break
events.cancel()

# The gRPC equivalent, and a filter by type: the state changes between are not sent, the
# remote event is, typed, with supervisor's name and payload.
events = subscribe(pb.SubscribeRequest(events=["remote_communication"]))
api.StartProcess(pb.StartProcessRequest(name="py", wait=True))
api.SendRemoteCommEvent(pb.SendRemoteCommEventRequest(type="t", data="line 1\nline 2"))
ev = next(not_sync(events))
check(ev.WhichOneof("kind") == "remote_communication" and ev.type_name == "REMOTE_COMMUNICATION"
      and ev.payload == "type:t\nline 1\nline 2", "SendRemoteCommEvent, Subscribe filtered by type")
events.cancel()
try:
    next(api.Subscribe(pb.SubscribeRequest(events=["PROCESS_STAT"])))
    check(False, "an unknown event type is refused")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and "PROCESS_STAT" in e.details(),
          "an unknown event type is refused")
pools = api.GetEventPools(pb.GetEventPoolsRequest()).pools
check(list(pools) == [], "GetEventPools without listeners")

# A subscriber that stops reading must learn that it missed events, not see a silent gap.
# Its own channel, with a small receive window, so the backlog reaches the daemon quickly.
slow_channel = grpc.insecure_channel("unix://" + socket_path, options=[
    ("grpc.default_authority", "localhost"), ("grpc.http2.bdp_probe", 0),
    ("grpc.http2.lookahead_bytes", 4096)])
slow = rpc.SupervisorStub(slow_channel).Subscribe(pb.SubscribeRequest(), timeout=120)
made = 0
while made < 6000:  # well past the daemon's 1024 buffered events plus the transport's windows
    api.StopAllProcesses(pb.StopAllProcessesRequest(wait=True))
    api.StartAllProcesses(pb.StartAllProcessesRequest(wait=True))
    made += 4 * len(api.GetAllProcessInfo(pb.GetAllProcessInfoRequest()).processes)
received = 0
try:
    for ev in slow:
        received += 1
    check(False, "a lagging subscriber gets DATA_LOSS")
except grpc.RpcError as e:
    check(e.code() == grpc.StatusCode.DATA_LOSS and "missed" in e.details(),
          "a lagging subscriber gets DATA_LOSS (%s: %s)" % (e.code(), e.details()))
check(0 < received < made, "it first got the events it had room for (%d of %d)" % (received, made))
# The standard services generic tools rely on: health and reflection.
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc  # noqa: E402

health = health_pb2_grpc.HealthStub(channel)
h = health.Check(health_pb2.HealthCheckRequest(service="supervisor.v1.Supervisor"))
check(h.status == health_pb2.HealthCheckResponse.SERVING, "health SERVING")
refl = reflection_pb2_grpc.ServerReflectionStub(channel)
resp = next(refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
services = [s.name for s in resp.list_services_response.service]
check("supervisor.v1.Supervisor" in services, "reflection lists the service")
state = api.GetState(pb.GetStateRequest())
check(state.statecode == 1 and state.statename == "RUNNING", "GetState")
print("all ok")
