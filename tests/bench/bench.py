#!/usr/bin/env python3
"""supervisord-rs against Python's supervisord, on the same workloads in the same run.

Usage: tests/bench/run [--quick]   (builds the static release binaries first)

Everything is measured from outside the daemons (/proc, files the children write), so that no
measurement wakes a daemon: polling Python's daemon would flatter its 1-second loop. Machines
here are noisy: read the ratios, not the absolute numbers.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TICK = os.sysconf("SC_CLK_TCK")
with open("/proc/stat") as f:
    BTIME = next(int(l.split()[1]) for l in f if l.startswith("btime"))


def children(pid):
    out = []
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid):
    s = stat_fields(pid)
    return (int(s[11]) + int(s[12])) / TICK


def start_epoch(pid):
    return BTIME + int(stat_fields(pid)[19]) / TICK


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for l in f:
            if l.startswith(key + ":"):
                return int(l.split()[1])
    return 0


def wait_until(what, cond, timeout=120, step=0.02):
    t0 = time.time()
    while True:
        v = cond()
        if v:
            return v
        if time.time() - t0 > timeout:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(step)


class Daemon:
    """One supervisord (ours or Python's) in its own temp dir."""

    def __init__(self, kind, programs, bins):
        self.kind, self.bins = kind, bins
        self.dir = tempfile.mkdtemp(prefix=f"bench-{kind}-")
        self.sock = os.path.join(self.dir, "s.sock")
        conf = (
            f"[supervisord]\nlogfile={self.dir}/main.log\npidfile={self.dir}/sd.pid\n"
            f"childlogdir={self.dir}\nloglevel=info\nminfds=4096\n"
            f"[unix_http_server]\nfile={self.sock}\n"
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
            f"[supervisorctl]\nserverurl=unix://{self.sock}\n" + programs
        )
        self.conf = os.path.join(self.dir, "supervisord.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        if kind == "ours":
            cmd = [bins["ours"], "-c", self.conf, "-s"]
        else:
            cmd = [bins["python"], "-n", "-c", self.conf]
        self.t0 = time.time()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     cwd=self.dir)
        self.pid = self.proc.pid

    def wait_children(self, n, timeout=120):
        return wait_until(f"{n} children of {self.kind}", lambda: len(children(self.pid)) >= n and
                          children(self.pid), timeout)

    def stop(self):
        try:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def sleepers(n, prefix="p"):
    return "".join(f"[program:{prefix}{i}]\ncommand=sleep 100000\nstartsecs=0\n"
                   "stdout_logfile=NONE\nstderr_logfile=NONE\n" for i in range(n))


def both(fn, bins, *args):
    return {k: fn(k, bins, *args) for k in ("ours", "python")}


# --- workloads -------------------------------------------------------------------------------

def memory(kind, bins, n):
    d = Daemon(kind, sleepers(n), bins)
    try:
        d.wait_children(n)
        time.sleep(2)
        return status_kb(d.pid, "VmRSS") / 1024, status_kb(d.pid, "RssAnon") / 1024
    finally:
        d.stop()


def idle_cpu(kind, bins, n, secs):
    d = Daemon(kind, sleepers(n), bins)
    try:
        d.wait_children(n)
        time.sleep(2)
        c0 = cpu_seconds(d.pid)
        time.sleep(secs)
        return 100 * (cpu_seconds(d.pid) - c0) / secs
    finally:
        d.stop()


def startup(kind, bins, n):
    d = Daemon(kind, sleepers(n), bins)
    try:
        kids = d.wait_children(n)
        # Both ends on the kernel's clock (jiffies since boot): the daemon's own start, and the
        # last child's fork.
        return max(start_epoch(k) for k in kids) - start_epoch(d.pid)
    finally:
        d.stop()


def restart_latency(kind, bins, kills):
    stamp = os.path.join(tempfile.mkdtemp(prefix="bench-stamp-"), "stamp")
    d = Daemon(kind, f"[program:victim]\ncommand={bins['helpers']} stamp {stamp}\nstartsecs=0\n"
               "autorestart=true\nstdout_logfile=NONE\nstderr_logfile=NONE\n", bins)
    try:
        lat = []
        for _ in range(kills):
            pid = d.wait_children(1)[0]
            old = wait_until("a stamp", lambda: os.path.exists(stamp) and open(stamp).read().strip())
            t_kill = time.time_ns()
            os.kill(pid, signal.SIGKILL)
            new = wait_until("the replacement", lambda: (open(stamp).read().strip() or old) != old and
                             open(stamp).read().strip(), step=0.0005)
            lat.append((int(new) - t_kill) / 1e6)
        lat.sort()
        return lat
    finally:
        d.stop()


def log_throughput(kind, bins, mb, chunk, writers=1, siblings=0, mode="writer"):
    per = mb * 1_000_000 // writers
    progs = ""
    for w in range(writers):
        progs += (f"[program:w{w}]\ncommand={bins['helpers']} {mode} {per} {chunk}\nstartsecs=0\n"
                  f"autorestart=false\nenvironment=STAMP=\"%(here)s/stamp{w}\"\n"
                  f"stdout_logfile=%(here)s/w{w}.log\nstdout_logfile_maxbytes=50MB\n"
                  "stdout_logfile_backups=5\nstderr_logfile=NONE\n")
    progs += sleepers(siblings, "idle")
    d = Daemon(kind, progs, bins)
    try:
        stamps = [os.path.join(d.dir, f"stamp{w}") for w in range(writers)]
        d.wait_children(writers + siblings)
        c0 = cpu_seconds(d.pid)
        wait_until("the writers", lambda: all(os.path.exists(s) and open(s).read().strip() for s in stamps),
                   timeout=600, step=0.05)
        cpu = cpu_seconds(d.pid) - c0
        spans = [tuple(map(int, open(s).read().split())) for s in stamps]
        secs = (max(e for _, e in spans) - min(s for s, _ in spans)) / 1e9
        peak = status_kb(d.pid, "VmHWM") / 1024
        total = per * writers
        return {"mbs": total / 1e6 / secs, "cpu_per_gb": cpu / (total / 1e9), "peak_mb": peak}
    finally:
        d.stop()




def api(kind, bins, n_calls):
    d = Daemon(kind, sleepers(200), bins)
    try:
        d.wait_children(200)
        time.sleep(1)
        out = {}
        modes = [("xmlrpc", d.sock)]
        if kind == "ours":
            modes.append(("grpc", d.sock))
        for mode, url in modes:
            calls = n_calls if kind == "ours" else max(20, n_calls // 10)
            c0 = cpu_seconds(d.pid)
            r = subprocess.run([bins["bench_api"], mode, url, str(calls)],
                               capture_output=True, text=True, check=True)
            # The daemon's own cost, whatever the client's speed (one warm-up call included).
            cpu_ms = (cpu_seconds(d.pid) - c0) * 1000 / (calls + 1)
            rps, p50, p99 = map(float, r.stdout.split())
            out[mode] = {"rps": rps, "p50": p50, "p99": p99, "cpu_ms": cpu_ms}
        ctl = bins["ours_ctl"] if kind == "ours" else bins["python_ctl"]
        walls = []
        for _ in range(15):
            t = time.perf_counter()
            subprocess.run([ctl, "-s", f"unix://{d.sock}", "status"], capture_output=True)
            walls.append((time.perf_counter() - t) * 1000)
        out["ctl_status_ms"] = statistics.median(walls)
        return out
    finally:
        d.stop()


NOTES = """
Notes:
- Restart latency is measured passively: a child writes its exec time to a file; Python's
  needs about a second per kill, so it gets fewer kills ({python_kills}).
- Idle RSS counts the pages of the binary's code that are mapped, not only the heap. The
  kernel maps code 64 KiB around each page that runs, so the release daemon's code is linked
  in the order it runs (supervisord/link-order.txt, regenerated by tests/bench/link-order):
  the code an idle daemon has run sits together. If the RSS rows grow after large changes,
  regenerate that file.
- Requests per second come from one native client (tests/src/bin/bench_api.rs) calling in a
  loop on one connection; the daemon's CPU per call is its own cost, whatever the client's.
- The 41-byte-line rows are bound by the writer, not by either daemon: compare them with the
  same writer into `cat > /dev/null` (section 8). With a write() per line the writer's own
  system calls set the pace for any reader; what the daemon costs shows in its CPU seconds
  per GB.
"""


# --- the run ---------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    a = ap.parse_args()
    q = a.quick
    venv = os.environ.get("SUPERVISOR_VENV", os.path.join(ROOT, ".venv"))
    rel = os.path.join(ROOT, "target/x86_64-unknown-linux-gnu/release")
    bins = {
        "ours": os.path.join(rel, "supervisord"),
        "ours_ctl": os.path.join(rel, "supervisorctl"),
        "bench_api": os.path.join(rel, "bench_api"),
        "python": os.path.join(venv, "bin/supervisord"),
        "python_ctl": os.path.join(venv, "bin/supervisorctl"),
        "venv_python": os.path.join(venv, "bin/python"),
    }
    work = tempfile.mkdtemp(prefix="bench-")
    bins["helpers"] = os.path.join(work, "helpers")
    subprocess.run(["cc", "-O2", "-o", bins["helpers"], os.path.join(HERE, "helpers.c")], check=True)
    started = time.time()
    R = {}
    rows = []

    def row(name, ours, python, unit, better="lower", fmt="{:.2f}"):
        if python and ours:
            ratio = python / ours if better == "lower" else ours / python
            rtxt = f"{ratio:.1f}x"
        elif python and ours == 0 and better == "lower":
            rtxt = "inf"
        else:
            rtxt = "n/a"
        rows.append((name, fmt.format(ours) if ours is not None else "-",
                     fmt.format(python) if python is not None else "-", unit, rtxt))
        print(f"{name:<52} {rows[-1][1]:>12} {rows[-1][2]:>12} {unit:<8} {rtxt:>8}", flush=True)

    print(f"{'workload':<52} {'ours':>12} {'python':>12} {'unit':<8} {'better':>8}")
    for n in ([1, 200] if q else [1, 200, 1000]):
        m = both(memory, bins, n)
        row(f"1. idle RSS, {n} programs", m["ours"][0], m["python"][0], "MB")
        if n == 200:
            row(f"1.   of which private (RssAnon), {n} programs", m["ours"][1], m["python"][1], "MB")
    secs = 10 if q else 30
    c = both(idle_cpu, bins, 200, secs)
    row(f"2. idle CPU, 200 programs, {secs} s", c["ours"], c["python"], "%", fmt="{:.3f}")
    for n in ([200] if q else [200, 1000]):
        s = both(startup, bins, n)
        row(f"3. start-up to {n} RUNNING", s["ours"], s["python"], "s", fmt="{:.3f}")
    kills = {"ours": 50 if q else 200, "python": 5 if q else 40}
    lat = {k: restart_latency(k, bins, kills[k]) for k in ("ours", "python")}
    p = lambda l, x: l[min(len(l) - 1, int(len(l) * x))]
    row(f"4. restart after SIGKILL, p50 ({kills['ours']}/{kills['python']} kills)", p(lat["ours"], .5), p(lat["python"], .5), "ms")
    row("4. restart after SIGKILL, p99", p(lat["ours"], .99), p(lat["python"], .99), "ms")
    mb = 100 if q else 500
    peak = {}
    for label, chunk, writers, sib, mode in [
            ("64 KiB writes", 65536, 1, 0, "writer"),
            ("41-byte lines (stdio)", 41, 1, 0, "printer"),
            ("41-byte lines, a write() each", 41, 1, 0, "writer"),
            ("64 KiB, 199 idle siblings", 65536, 1, 199, "writer"),
            ("20 writers at once", 65536, 20, 0, "writer")]:
        t = both(log_throughput, bins, mb, chunk, writers, sib, mode)
        if label == "64 KiB writes":
            t64 = t
        row(f"5. log {mb} MB, {label}", t["ours"]["mbs"], t["python"]["mbs"], "MB/s", better="higher", fmt="{:.0f}")
        row(f"5.   daemon CPU per GB, {label}", t["ours"]["cpu_per_gb"], t["python"]["cpu_per_gb"], "s/GB")
        for k in t:
            peak[k] = max(peak.get(k, 0), t[k]["peak_mb"])
    api_r = both(api, bins, 300 if q else 1000)
    row("6. getAllProcessInfo (200) XML-RPC req/s", api_r["ours"]["xmlrpc"]["rps"], api_r["python"]["xmlrpc"]["rps"], "req/s", better="higher", fmt="{:.0f}")
    row("6. getAllProcessInfo (200) XML-RPC p50", api_r["ours"]["xmlrpc"]["p50"], api_r["python"]["xmlrpc"]["p50"], "ms")
    row("6. getAllProcessInfo (200) XML-RPC p99", api_r["ours"]["xmlrpc"]["p99"], api_r["python"]["xmlrpc"]["p99"], "ms")
    row("6. getAllProcessInfo (200) XML-RPC daemon CPU per call", api_r["ours"]["xmlrpc"]["cpu_ms"], api_r["python"]["xmlrpc"]["cpu_ms"], "ms", fmt="{:.3f}")
    row("6. GetAllProcessInfo (200) gRPC req/s (ours)", api_r["ours"]["grpc"]["rps"], api_r["python"]["xmlrpc"]["rps"], "req/s", better="higher", fmt="{:.0f}")
    row("6. GetAllProcessInfo (200) gRPC p50 (ours)", api_r["ours"]["grpc"]["p50"], None, "ms")
    row("6. GetAllProcessInfo (200) gRPC daemon CPU per call (ours)", api_r["ours"]["grpc"]["cpu_ms"], api_r["python"]["xmlrpc"]["cpu_ms"], "ms", fmt="{:.3f}")
    row("6. supervisorctl status wall time (each its own)", api_r["ours"]["ctl_status_ms"], api_r["python"]["ctl_status_ms"], "ms", fmt="{:.1f}")
    for name in ("ours", "ours_ctl"):
        stripped = os.path.join(work, "stripped")
        subprocess.run(["strip", "-o", stripped, bins[name]], check=True)
        label = "supervisord" if name == "ours" else "supervisorctl"
        row(f"7. {label} binary (static, stripped as packaged)", os.path.getsize(stripped) / 1e6, None, "MB")
        row(f"7. {label} binary (static, with symbols as built)", os.path.getsize(bins[name]) / 1e6, None, "MB")
    row("7. daemon peak RSS during workload 5", peak["ours"], peak["python"], "MB")
    fe = float(subprocess.run([bins["helpers"], "forkexec", "500" if q else "2000"], capture_output=True, text=True).stdout)
    # The pipe varies by a third from one run to the next here: the median of five.
    pp = statistics.median(
        float(subprocess.run([bins["helpers"], "pipe", str(250_000_000 if q else 1_000_000_000)],
                             capture_output=True, text=True).stdout) for _ in range(5))
    row("8. reference: fork+exec+wait of /bin/true", fe, None, "us", fmt="{:.0f}")
    row("8. reference: raw pipe into cat > /dev/null (median of 5)", pp, None, "MB/s", better="higher", fmt="{:.0f}")
    row("8.   log with 64 KiB writes, as a share of it", 100 * t64["ours"]["mbs"] / pp, 100 * t64["python"]["mbs"] / pp, "%", better="higher", fmt="{:.0f}")
    for label, args in [("41-byte lines (stdio)", ["41", "stdio"]), ("41-byte lines, a write() each", ["41"])]:
        total = str((200_000_000 if "stdio" in args else 50_000_000) // (4 if q else 1))
        ref = float(subprocess.run([bins["helpers"], "pipe", total, *args], capture_output=True, text=True).stdout)
        row(f"8. reference: {label} into cat > /dev/null", ref, None, "MB/s", better="higher", fmt="{:.0f}")
    symbols = {l.split()[-1] for l in subprocess.run(["nm", "--defined-only", bins["ours"]],
               capture_output=True, text=True).stdout.splitlines() if l.strip()}
    listed = [l.strip() for l in open(os.path.join(ROOT, "supervisord/link-order.txt"))
              if l.strip() and not l.startswith("#")]
    found = 100 * sum(n in symbols for n in listed) / max(1, len(listed))
    row("9. link-order.txt names found in the daemon (staleness)", found, None, "%", better="higher", fmt="{:.0f}")
    took = time.time() - started
    pyver = subprocess.run([bins["python"], "--version"], capture_output=True, text=True).stdout.strip()
    with open(a.out, "w") as f:
        f.write("# Benchmark results\n\n")
        f.write(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
        f.write(f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}\n")
        f.write(f"- compared with: Python supervisord {pyver} ({sys.version.split()[0]})\n")
        f.write(f"- command: `tests/bench/run{' --quick' if q else ''}` ({took:.0f} s)\n")
        f.write("- ratio: how many times better ours is (python/ours for costs, ours/python for rates)\n\n")
        f.write("| workload | ours | python | unit | ours better by |\n|---|---:|---:|---|---:|\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
        f.write(NOTES.format(python_kills=kills["python"]))
    print(f"\nwrote {a.out} in {took:.0f} s")


if __name__ == "__main__":
    main()
