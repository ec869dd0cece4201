#!/usr/bin/env python3
"""Writes supervisord/link-order.txt: the daemon's functions in the order the linker should lay
them out (see supervisord/build.rs for why).

Usage: tests/bench/link-order   (builds the static release binary, then runs this)

The release binary runs under callgrind twice over: first a start-up of a typical config and a
few idle seconds (phase 1: what every idle daemon has run), then clients at work (phase 2:
status, start/stop, a crash and its restart, XML-RPC, the web page, /metrics, reread/update,
log tails, shutdown). The functions each phase ran, by their symbol names in the binary, become
the file: phase 1 first, then what phase 2 added.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REL = os.path.join(ROOT, "target/x86_64-unknown-linux-gnu/release")
DAEMON = os.path.join(REL, "supervisord")
CTL = os.path.join(REL, "supervisorctl")
OUT = os.path.join(ROOT, "supervisord/link-order.txt")


def wait_until(what, cond, timeout=300):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def text_symbols(binary):
    out = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True,
                         check=True).stdout
    return {p[2] for p in (l.split() for l in out.splitlines()) if len(p) == 3 and p[1] in "tTwWiI"}


def functions(dump):
    """Function names in a callgrind dump (written with --compress-strings=no), in order."""
    names, seen = [], set()
    with open(dump) as f:
        for line in f:
            if line.startswith("fn="):
                # callgrind marks recursion depth with 'N.
                name = re.sub(r"'\d+$", "", line[3:].strip())
                if name not in seen:
                    seen.add(name)
                    names.append(name)
    return names


def main():
    symbols = text_symbols(DAEMON)
    if len(symbols) < 1000:
        raise SystemExit(f"{DAEMON} has no symbol table: build it with the release profile")
    work = tempfile.mkdtemp(prefix="link-order-")
    port = free_port()
    sock = os.path.join(work, "s.sock")
    progs = "".join(
        f"[program:sleeper{i}]\ncommand=sleep 100000\nstartsecs={i % 2}\n" for i in range(40))
    conf = f"""[supervisord]
logfile={work}/supervisord.log
pidfile={work}/supervisord.pid
childlogdir={work}
[unix_http_server]
file={sock}
[inet_http_server]
port=127.0.0.1:{port}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://{sock}
[program:talker]
command=sh -c 'echo out; echo err >&2; exec sleep 100000'
startsecs=1
autorestart=true
[program:once]
command=true
startsecs=0
autorestart=false
[program:web]
command=sleep 100000
numprocs=2
process_name=%(program_name)s_%(process_num)s
environment=A="1",B="two"
[group:pair]
programs=web
{progs}"""
    path = os.path.join(work, "supervisord.conf")
    with open(path, "w") as f:
        f.write(conf)
    dump = os.path.join(work, "cg.out")
    daemon = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={dump}", "--demangle=no",
         "--dump-instr=no", "--compress-strings=no", "--compress-pos=no", DAEMON, "-c", path],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    try:
        log = os.path.join(work, "supervisord.log")
        running = lambda: os.path.exists(log) and open(log).read().count("entered RUNNING") >= 43
        wait_until("every program RUNNING", running)
        time.sleep(3)  # idle: the timers and loops an idle daemon runs
        subprocess.run(["callgrind_control", "--dump=phase1", str(daemon.pid)], check=True,
                       capture_output=True)
        ctl = lambda *a: subprocess.run([CTL, "-c", path, *a], capture_output=True, timeout=300)
        for args in (["status"], ["pid", "all"], ["stop", "talker"], ["start", "talker"],
                     ["restart", "pair:*"], ["signal", "HUP", "sleeper1"], ["tail", "talker"],
                     ["tail", "talker", "stderr"], ["maintail"], ["avail"], ["reread"],
                     ["update"], ["clear", "talker"], ["version"]):
            ctl(*args)
        pid = int(ctl("pid", "sleeper0").stdout)
        os.kill(pid, signal.SIGKILL)
        wait_until("the restart", lambda: ctl("pid", "sleeper0").stdout.strip() not in
                   (b"", b"0", str(pid).encode()))
        url = f"http://127.0.0.1:{port}"
        body = ("<?xml version='1.0'?><methodCall><methodName>supervisor.getAllProcessInfo"
                "</methodName><params></params></methodCall>")
        for args in (["-d", body, "-H", "Content-Type: text/xml", f"{url}/RPC2"],
                     [f"{url}/"], [f"{url}/metrics"], ["-m", "5", f"{url}/logtail/talker"],
                     ["-m", "5", f"{url}/events"]):
            subprocess.run(["curl", "-s", "-o", "/dev/null", *args])
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=300)
    finally:
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)  # it stops its children
            try:
                daemon.wait(timeout=300)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
    # callgrind names requested dumps cg.out.1, cg.out.2, …; the one at exit is plain cg.out.
    numbered = sorted((f for f in os.listdir(work) if f.startswith("cg.out.")),
                      key=lambda f: int(f.rsplit(".", 1)[1]))
    dumps = numbered + ["cg.out"]
    first = [n for n in functions(os.path.join(work, dumps[0])) if n in symbols]
    rest = []
    seen = set(first)
    for d in dumps[1:]:
        for n in functions(os.path.join(work, d)):
            if n in symbols and n not in seen:
                seen.add(n)
                rest.append(n)
    with open(OUT, "w") as f:
        f.write("# Generated by tests/bench/link-order: the release daemon's functions in link order.\n"
                "# Phase 1: start-up and idle.\n")
        # Sorted within a phase: the file then changes only where the code did, and names
        # group by crate and module, which is as good a neighbourhood as any.
        f.writelines(n + "\n" for n in sorted(first))
        f.write("# Phase 2: serving clients, crashes and restarts, shutdown.\n")
        f.writelines(n + "\n" for n in sorted(rest))
    print(f"wrote {OUT}: {len(first)} + {len(rest)} functions, from {len(dumps)} dumps")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
