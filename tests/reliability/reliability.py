#!/usr/bin/env python3
"""Hostile and heavy inputs against our supervisord and Python's, side by side: each row gives
the figure for both and the value a supervisor should show. Writes tests/reliability/RESULTS.md.

Usage: tests/reliability/run [--quick]   (builds the static release binaries first)

Everything is measured from outside (/proc, the files children write, the daemons' sockets).
"""
import argparse
import os
import platform
import random
import signal
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "bench"))
import bench  # noqa: E402  (its Daemon, /proc readers and waits)
from bench import Daemon, children, status_kb, wait_until  # noqa: E402

KINDS = ["ours", "python"]


def marked(marker):
    """Pids whose environment carries `marker` (the daemon's children and theirs)."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/environ", "rb") as f:
                if marker.encode() in f.read():
                    with open(f"/proc/{p}/stat") as s:
                        if s.read().rsplit(")", 1)[1].split()[0] != "Z":
                            out.append(int(p))
        except OSError:
            pass
    return out


def kill_all(pids):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def xmlrpc_call(sock_path, body, timeout=5.0):
    """One raw HTTP/1.0 POST of `body` to /RPC2 on the unix socket: the status line, or None."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(b"POST /RPC2 HTTP/1.0\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data.split(b"\r\n", 1)[0].decode(errors="replace")
    except OSError:
        return None
    finally:
        s.close()


GET_STATE = (b"<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName>"
             b"<params></params></methodCall>")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def orphans_after_term(kind, bins, n):
    """n programs, half of them `sh -c` trees (stopasgroup): what is left after SIGTERM."""
    marker = f"RELIABILITY_{kind}_{os.getpid()}_{random.randrange(1 << 30)}"
    progs = "".join(
        f"[program:p{i}]\ncommand=" + ("sleep 100000" if i % 2 else
                                       "sh -c 'sleep 100000 & sleep 100000 & wait'")
        + "\nstartsecs=0\nstopasgroup=true\nstdout_logfile=NONE\nstderr_logfile=NONE\n"
        f"environment={marker}=1\n" for i in range(n))
    d = Daemon(kind, progs, bins)
    try:
        wait_until("every tree", lambda: len(marked(marker)) >= n + n // 2 * 2, timeout=120)
        d.proc.send_signal(signal.SIGTERM)
        d.proc.wait(timeout=120)
        left = marked(marker)
        kill_all(left)
        return len(left)
    finally:
        d.stop()


def killed_daemon_leftovers(kind, bins, n):
    """kill -9 of the daemon with n programs running: how many run on unsupervised."""
    marker = f"RELIABILITY_{kind}_{os.getpid()}_{random.randrange(1 << 30)}"
    progs = "".join(f"[program:p{i}]\ncommand=sleep 100000\nstartsecs=0\nstdout_logfile=NONE\n"
                    f"stderr_logfile=NONE\nenvironment={marker}=1\n" for i in range(n))
    d = Daemon(kind, progs, bins)
    try:
        wait_until("the programs", lambda: len(marked(marker)) >= n, timeout=120)
        d.proc.kill()
        d.proc.wait()
        # The kernel's parent-death signal is immediate; give the stragglers a moment.
        deadline = time.time() + 5
        while marked(marker) and time.time() < deadline:
            time.sleep(0.05)
        left = marked(marker)
        kill_all(left)
        return len(left)
    finally:
        d.stop()


def lines_lost(kind, bins, mb):
    """A program prints numbered lines, `mb` MB, through rotation: bytes missing from the files
    (rotation may cut a line in two, so bytes are counted, not lines)."""
    per_file = 10 * 1000 * 1000
    backups = mb * 1000 * 1000 // per_file + 3
    lines = mb * 1000 * 1000 // 20
    work = tempfile.mkdtemp(prefix="rel-")
    d = Daemon(kind, f"[program:w]\ncommand=sh -c 'seq -f %%019.0f 1 {lines}; exec sleep 100000'\n"
               f"startsecs=0\nautorestart=false\nstdout_logfile={work}/out.log\n"
               f"stdout_logfile_maxbytes={per_file}\nstdout_logfile_backups={backups}\n", bins)
    try:
        def complete():
            try:
                with open(f"{work}/out.log", "rb") as f:
                    f.seek(max(0, os.path.getsize(f"{work}/out.log") - 40))
                    return b"%019d\n" % lines in f.read()
            except OSError:
                return False
        wait_until("the last line", lambda: complete() or d.proc.poll() is not None,
                   timeout=600, step=0.2)
        if d.proc.poll() is not None:
            return None
        seen = sum(os.path.getsize(os.path.join(work, name))
                   for name in os.listdir(work) if name.startswith("out.log"))
        return lines * 20 - seen
    finally:
        d.stop()


def hup_storm(kind, bins, hups):
    """`hups` SIGHUPs 100 ms apart: does the daemon answer afterwards, and run its programs?"""
    progs = "".join(f"[program:p{i}]\ncommand=sleep 100000\nstartsecs=0\n"
                    "stdout_logfile=NONE\nstderr_logfile=NONE\n" for i in range(20))
    d = Daemon(kind, progs, bins)
    try:
        d.wait_children(20)
        for _ in range(hups):
            d.proc.send_signal(signal.SIGHUP)
            time.sleep(0.1)
        ok = wait_until("an answer", lambda: (xmlrpc_call(d.sock, GET_STATE) or "").endswith("200 OK"),
                        timeout=60)
        d.wait_children(20, timeout=120)
        return 1 if ok and d.proc.poll() is None else 0
    except SystemExit:
        return 0
    finally:
        d.stop()


def malformed_requests(kind, bins, n):
    """n hostile XML-RPC bodies (junk, truncation, deep nesting, huge strings): 1 if the daemon
    still answers getState afterwards, 0 if it died or hangs."""
    rnd = random.Random(7)
    d = Daemon(kind, "[program:p]\ncommand=sleep 100000\nstartsecs=0\n", bins)
    try:
        d.wait_children(1)
        bodies = [
            b"<a>" * 50000 + b"</a>" * 50000,
            (b"<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName>"
             b"<params><param><value>" + b"<array><data><value>" * 5000
             + b"</value></data></array>" * 5000 + b"</value></param></params></methodCall>"),
            b"<?xml version='1.0'?><methodCall><methodName>" + b"x" * 1_000_000 + b"</methodName>",
        ]
        for i in range(n):
            if i < len(bodies):
                body = bodies[i]
            else:
                base = bytearray(GET_STATE)
                for _ in range(rnd.randrange(1, 8)):
                    base[rnd.randrange(len(base))] = rnd.randrange(256)
                body = bytes(base[: rnd.randrange(len(base) + 1)])
            xmlrpc_call(d.sock, body, timeout=10)
            if d.proc.poll() is not None:
                return 0
        return 1 if (xmlrpc_call(d.sock, GET_STATE) or "").endswith("200 OK") else 0
    finally:
        d.stop()


def restarts_rss(kind, bins, restarts):
    """A program that exits at once, restarted `restarts` times: the daemon's RSS growth (MB)."""
    work = tempfile.mkdtemp(prefix="rel-")
    d = Daemon(kind, f"[program:quick]\ncommand=sh -c 'echo x >> {work}/count'\nstartsecs=0\n"
               "autorestart=true\nstdout_logfile=NONE\nstderr_logfile=NONE\n", bins)
    try:
        count = lambda: os.path.getsize(f"{work}/count") // 2 if os.path.exists(f"{work}/count") else 0
        wait_until("a few restarts", lambda: count() >= 50, timeout=600)
        before = status_kb(d.pid, "VmRSS")
        wait_until(f"{restarts} restarts", lambda: count() >= restarts + 50, timeout=1800, step=0.2)
        return (status_kb(d.pid, "VmRSS") - before) / 1024
    finally:
        d.stop()


def idle_connections_latency(kind, bins, n):
    """n connections that say nothing, then one getState: its latency (ms)."""
    d = Daemon(kind, "", bins)
    socks = []
    try:
        wait_until("the socket", lambda: os.path.exists(d.sock))
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.sock)
            socks.append(s)
        t = time.time()
        r = xmlrpc_call(d.sock, GET_STATE, timeout=30)
        ms = (time.time() - t) * 1000
        return ms if r and r.endswith("200 OK") else None
    finally:
        for s in socks:
            s.close()
        d.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    a = ap.parse_args()
    q = a.quick
    venv = os.environ.get("SUPERVISOR_VENV", os.path.join(ROOT, ".venv"))
    rel = os.path.join(ROOT, "target/x86_64-unknown-linux-gnu/release")
    bins = {"ours": os.path.join(rel, "supervisord"),
            "python": os.path.join(venv, "bin/supervisord")}
    bench.KINDS[:] = KINDS
    started = time.time()
    rows = []

    def row(name, vals, unit, expected):
        show = lambda v: "-" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))
        rows.append((name, show(vals.get("ours")), show(vals.get("python")), expected, unit))
        print(f"{name:<62} {rows[-1][1]:>8} {rows[-1][2]:>8}  expected {expected} {unit}",
              flush=True)

    each = lambda fn, *args: {k: fn(k, bins, *args) for k in KINDS}
    n = 50 if q else 200
    row(f"programs and `sh -c` trees left after TERM ({n} programs)",
        each(orphans_after_term, n), "processes", "0")
    row(f"programs left running after kill -9 of the daemon ({n} programs)",
        each(killed_daemon_leftovers, n), "processes", "0 (ours by design; Python keeps them)")
    mb = 100 if q else 1000
    row(f"bytes lost through {mb} MB of rotated output", each(lines_lost, mb), "bytes", "0")
    hups = 20 if q else 50
    row(f"answers after {hups} SIGHUPs 100 ms apart (1 = yes)", each(hup_storm, hups), "", "1")
    bad = 1000 if q else 10000
    row(f"answers after {bad} malformed XML-RPC requests (1 = yes)",
        each(malformed_requests, bad), "", "1")
    rs = 200 if q else 2000
    row(f"RSS growth over {rs} restarts of a program that exits at once",
        each(restarts_rss, rs), "MB", "about 0")
    conns = 200 if q else 1000
    row(f"getState latency with {conns} silent connections open",
        each(idle_connections_latency, conns), "ms", "under 1000")
    took = time.time() - started
    pyver = "Python supervisord " + open(os.path.join(
        venv, "lib", f"python{sys.version_info.major}.{sys.version_info.minor}",
        "site-packages", "supervisor", "version.txt")).read().strip()
    with open(a.out, "w") as f:
        f.write("# Reliability results\n\n")
        f.write(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
        f.write(f"- machine: {platform.machine()}, {os.cpu_count()} cores\n")
        f.write(f"- compared with: {pyver}\n")
        f.write(f"- command: `tests/reliability/run{' --quick' if q else ''}` ({took:.0f} s)\n\n")
        f.write("| scenario | ours | python | expected | unit |\n|---|---:|---:|---|---|\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
    print(f"\nwrote {a.out} in {took:.0f} s")


if __name__ == "__main__":
    main()
