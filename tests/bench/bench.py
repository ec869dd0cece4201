#!/usr/bin/env python3
"""supervisord-rs against the Go supervisord and Python's supervisord, on the same workloads in
the same run, beside the physical limits (fork+exec, a pipe).

Usage: tests/bench/run [--quick]   (builds the static release binaries first)

The Go supervisord is ../shared/peers/go-supervisord beside the repository (or $GO_SUPERVISORD);
without it the Go column is empty.

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

    def __init__(self, kind, programs, bins, wrap=()):
        self.kind, self.bins = kind, bins
        self.dir = tempfile.mkdtemp(prefix=f"bench-{kind}-")
        self.sock = os.path.join(self.dir, "s.sock")
        # The Go supervisord takes NONE for a file name, and %(here)s is spelled out for it.
        programs = programs.replace("%(here)s", self.dir)
        if kind == "go":
            programs = programs.replace("_logfile=NONE\n", "_logfile=/dev/null\n")
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
        elif kind == "go":
            cmd = [bins["go"], "-c", self.conf]
        else:
            cmd = [bins["python"], "-n", "-c", self.conf]
        self.t0 = time.time()
        # A wrapper (`unshare …`) runs the daemon: the daemon's command line follows it.
        cmd = list(wrap) + cmd
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


KINDS = ["ours", "go", "python"]


def each(fn, bins, *args):
    return {k: fn(k, bins, *args) for k in KINDS}


# --- workloads -------------------------------------------------------------------------------

def memory(kind, bins, n):
    d = Daemon(kind, sleepers(n), bins)
    try:
        d.wait_children(n)
        time.sleep(2)
        return status_kb(d.pid, "VmRSS") / 1024, status_kb(d.pid, "RssAnon") / 1024
    finally:
        d.stop()


def settled_cpu(d, n, secs):
    """The daemon's CPU share (%) over `secs` once its `n` children run and it has settled."""
    d.wait_children(n)
    time.sleep(2)
    c0 = cpu_seconds(d.pid)
    time.sleep(secs)
    return 100 * (cpu_seconds(d.pid) - c0) / secs


def idle_cpu(kind, bins, n, secs):
    d = Daemon(kind, sleepers(n), bins)
    try:
        return settled_cpu(d, n, secs)
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




def victim_pid(daemon_pid):
    """The child running `helpers stamp` (the listener is a child too)."""
    for k in children(daemon_pid):
        try:
            if b"stamp" in open(f"/proc/{k}/cmdline", "rb").read():
                return k
        except OSError:
            pass
    return None


def event_latency(kind, bins, kills):
    """SIGKILL of a program → its PROCESS_STATE_EXITED at a listener: ms per kill."""
    work = tempfile.mkdtemp(prefix="bench-ev-")
    got = os.path.join(work, "got")
    d = Daemon(kind, f"[program:victim]\ncommand={bins['helpers']} stamp {work}/stamp\nstartsecs=0\n"
               "autorestart=true\nstdout_logfile=NONE\nstderr_logfile=NONE\n"
               f"[eventlistener:l]\ncommand={bins['helpers']} listener {got}\n"
               "events=PROCESS_STATE_EXITED\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n",
               bins)
    try:
        lines = lambda: open(got).read().split() if os.path.exists(got) else []
        lat = []
        for i in range(kills + 1):
            pid = wait_until("the victim", lambda: victim_pid(d.pid), timeout=30)
            # Let the restart's own work settle: the kill is measured, not the one before it.
            time.sleep(0.05)
            before = len(lines())
            t_kill = time.time_ns()
            os.kill(pid, signal.SIGKILL)
            # The listener stamps the time itself: polling fast would only take CPU from it.
            seen = wait_until("the event", lambda: len(lines()) > before and lines(), timeout=30,
                              step=0.01)
            if i:  # the first one warms up (and waits for the listener to be RUNNING)
                lat.append((int(seen[before]) - t_kill) / 1e6)
        lat.sort()
        return lat
    except (Exception, SystemExit) as e:  # a peer without working listeners: empty column
        print(f"  {kind}: event latency not measured ({e})", flush=True)
        return None
    finally:
        d.stop()
        shutil.rmtree(work, ignore_errors=True)


def event_throughput(kind, bins, per, writers=20, every_us=2000):
    """`writers` programs each write `per` 41-byte lines, one every `every_us` (slow enough for
    every daemon to make one PROCESS_LOG event of each line), while the one listener is not yet
    RUNNING (startsecs): the events wait in the pool's buffer. Then the listener takes them as
    fast as the daemon hands them over."""
    work = tempfile.mkdtemp(prefix="bench-ev-")
    got = os.path.join(work, "got")
    total = per * writers * 41
    fill = per * every_us / 1e6
    progs = "".join(
        f"[program:w{w}]\ncommand={bins['helpers']} ticker {per} {every_us}\nstartsecs=0\n"
        f"autorestart=false\nenvironment=STAMP=\"{work}/stamp{w}\"\nstdout_logfile=NONE\n"
        "stderr_logfile=NONE\nstdout_events_enabled=true\n" for w in range(writers))
    d = Daemon(kind, progs + f"[eventlistener:l]\ncommand={bins['helpers']} listener {got} {total}\n"
               f"events=PROCESS_LOG\nbuffer_size=1000000\nstartsecs={int(fill) + 3}\n"
               "stdout_logfile=NONE\nstderr_logfile=NONE\n", bins)
    try:
        stamps = [f"{work}/stamp{w}" for w in range(writers)]
        wait_until("the writers", lambda: all(os.path.exists(s) for s in stamps), timeout=120)
        c0 = cpu_seconds(d.pid)
        res = wait_until("the listener", lambda: os.path.exists(got) and open(got).read().split(),
                         timeout=600, step=0.05)
        cpu = cpu_seconds(d.pid) - c0
        events, _, first, last = map(int, res)
        secs = (last - first) / 1e9
        return {"events_s": events / secs, "lines_s": per * writers / secs,
                "cpu_per_10k": cpu / events * 10_000, "events": events}
    except (Exception, SystemExit) as e:
        print(f"  {kind}: event throughput not measured ({e})", flush=True)
        return None
    finally:
        d.stop()
        shutil.rmtree(work, ignore_errors=True)


def binary_change(kind, bins, rounds):
    """Replaces a program's executable (mv over it, as a deploy does) and times until the new
    one has started: `restart_when_binary_changed` with each daemon's defaults (ours: inotify
    and a 0.5 s debounce; Go: a 10 s poll). Python's supervisord has no such option."""
    if kind == "python":
        return None
    work = tempfile.mkdtemp(prefix="bench-bin-")
    exe, stamp = os.path.join(work, "victim"), os.path.join(work, "stamp")
    shutil.copy(bins["helpers"], exe)
    d = Daemon(kind, f"[program:victim]\ncommand={exe} stamp {stamp}\nstartsecs=0\n"
               "restart_when_binary_changed=true\nstdout_logfile=NONE\nstderr_logfile=NONE\n", bins)
    try:
        lat = []
        for r in range(rounds):
            old = wait_until("a stamp", lambda: os.path.exists(stamp) and open(stamp).read().strip())
            # The Go supervisord only starts watching after its first poll of the new process.
            time.sleep(1)
            shutil.copy(bins["helpers"], exe + ".new")
            with open(exe + ".new", "ab") as f:
                f.write(b"\0" * (r + 1))
            t0 = time.time_ns()
            os.rename(exe + ".new", exe)
            new = wait_until("the new process", lambda: (open(stamp).read().strip() or old) != old and
                             open(stamp).read().strip(), timeout=60, step=0.005)
            lat.append((int(new) - t0) / 1e6)
        lat.sort()
        return lat
    finally:
        d.stop()
        shutil.rmtree(work, ignore_errors=True)


def watch_cpu(kind, bins, files, secs):
    """The daemon's CPU while it watches a tree of `files` files that nothing changes."""
    if kind == "python":
        return None
    work = tempfile.mkdtemp(prefix="bench-tree-")
    per = 100
    for i in range(files // per):
        sub = os.path.join(work, f"d{i:03}")
        os.mkdir(sub)
        for j in range(per):
            with open(os.path.join(sub, f"f{j:03}.conf"), "wb") as f:
                f.write(os.urandom(1024))
    d = Daemon(kind, f"[program:app]\ncommand=sleep 100000\nstartsecs=0\n"
               f"restart_directory_monitor={work}\nstdout_logfile=NONE\nstderr_logfile=NONE\n", bins)
    try:
        return settled_cpu(d, 1, secs)
    finally:
        d.stop()
        shutil.rmtree(work, ignore_errors=True)


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
            calls = max(20, n_calls // 10) if kind == "python" else n_calls
            c0 = cpu_seconds(d.pid)
            r = subprocess.run([bins["bench_api"], mode, url, str(calls)],
                               capture_output=True, text=True, check=True)
            # The daemon's own cost, whatever the client's speed (one warm-up call included).
            cpu_ms = (cpu_seconds(d.pid) - c0) * 1000 / (calls + 1)
            rps, p50, p99 = map(float, r.stdout.split())
            out[mode] = {"rps": rps, "p50": p50, "p99": p99, "cpu_ms": cpu_ms}
        ctl = {"ours": [bins["ours_ctl"]], "go": [bins["go"], "ctl"],
               "python": [bins["python_ctl"]]}[kind]
        walls = []
        for _ in range(15):
            t = time.perf_counter()
            subprocess.run(ctl + ["-s", f"unix://{d.sock}", "status"], capture_output=True)
            walls.append((time.perf_counter() - t) * 1000)
        out["ctl_status_ms"] = statistics.median(walls)
        return out
    finally:
        d.stop()


NOTES = """
Notes:
- Restart on change (11): each daemon with its defaults. Ours reacts to inotify after a 0.5 s
  quiet period (`restart_debounce`), so a burst of writes is one restart; the Go supervisord
  polls every 10 s and hashes every watched file each time (its idle CPU row). Python's
  supervisord has no such option.
- Each ratio is how many times better ours is than that peer: peer/ours for costs, ours/peer
  for rates. The limit column is what the machine allows at best: N fork+execs for start-up,
  one fork+exec for a restart, the raw pipe (or the same writer into `cat`) for logging.
- Restart latency is measured passively: a child writes its exec time to a file. Python's
  needs about a second per kill, so it gets fewer kills ({python_kills}); the Go supervisord
  gets {go_kills}.
- Idle RSS counts the pages of the binary's code that are mapped, not only the heap. The
  kernel maps code 64 KiB around each page that runs, so the release daemon's code is linked
  in the order it runs (supervisord/link-order.txt, regenerated by tests/bench/link-order):
  the code an idle daemon has run sits together. If the RSS rows grow after large changes,
  regenerate that file.
- Requests per second come from one native client (tests/src/bin/bench_api.rs) calling in a
  loop on one connection; the daemon's CPU per call is its own cost, whatever the client's.
  The Go supervisord answers XML-RPC only (chunked); gRPC is ours alone.
- The 41-byte-line rows are bound by the writer, not by any daemon: compare them with the
  same writer into `cat > /dev/null` (the limit). With a write() per line the writer's own
  system calls set the pace for any reader; what the daemon costs shows in its CPU seconds
  per GB.
- Event rows: the listener is a small C program (tests/bench/helpers.c) answering OK at once,
  so the daemon's side is what is measured. Latency runs from the SIGKILL of a program to the
  listener reading its PROCESS_STATE_EXITED (reaping, the event, the pipe). Throughput: 20
  programs with stdout_events_enabled each write a 41-byte line every 2 ms (one event per line
  in every daemon) while the listener is still STARTING, so the events wait in the pool's
  buffer; then the listener takes them one at a time, as the protocol requires, and the rate
  is measured at the listener from its first event to its last. The Go supervisord seems to
  hand events to a listener before it is RUNNING: by the time its writers are done it has
  delivered most of them, so its rows measure events as they are made (and its CPU row is
  near zero), not the same drain. Its listener gets no PROCESS_STATE_EXITED within 30 s, so
  its latency rows stay empty.
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
        "go": os.environ.get("GO_SUPERVISORD",
                             os.path.join(os.path.dirname(ROOT), "shared/peers/go-supervisord")),
    }
    if not os.access(bins["go"], os.X_OK):
        print(f"no Go supervisord at {bins['go']}: its column stays empty", flush=True)
        KINDS.remove("go")
    work = tempfile.mkdtemp(prefix="bench-")
    bins["helpers"] = os.path.join(work, "helpers")
    subprocess.run(["cc", "-O2", "-o", bins["helpers"], os.path.join(HERE, "helpers.c")], check=True)
    started = time.time()
    rows = []

    def row(name, vals, unit, better="lower", fmt="{:.2f}", limit=None):
        """`vals`: kind -> figure (a kind may be missing)."""
        def ratio(peer):
            o, p = vals.get("ours"), vals.get(peer)
            if o is None or p is None:
                return "n/a"
            if better == "lower":
                return f"{p / o:.1f}x" if o else ("inf" if p else "n/a")
            return f"{o / p:.1f}x" if p else "n/a"
        show = lambda v: "-" if v is None else fmt.format(v)
        rows.append((name, show(vals.get("ours")), show(vals.get("go")), show(vals.get("python")),
                     show(limit), unit, ratio("go"), ratio("python")))
        print(f"{name:<50} " + " ".join(f"{c:>9}" for c in rows[-1][1:5]) +
              f" {unit:<6} {rows[-1][6]:>8} {rows[-1][7]:>8}", flush=True)

    def pick(results, key):
        return {k: (v[key] if isinstance(v, dict) else v) for k, v in results.items()}

    print(f"{'workload':<50} {'ours':>9} {'go':>9} {'python':>9} {'limit':>9} {'unit':<6} "
          f"{'vs go':>8} {'vs py':>8}")
    # The machine's limits first: the rows below are read against them.
    fe = float(subprocess.run([bins["helpers"], "forkexec", "500" if q else "2000"],
                              capture_output=True, text=True).stdout)
    # The pipe varies by a third from one run to the next here: the median of five.
    pp = statistics.median(
        float(subprocess.run([bins["helpers"], "pipe", str(250_000_000 if q else 1_000_000_000)],
                             capture_output=True, text=True).stdout) for _ in range(5))
    writer_limit = {}
    for label, args in [("41-byte lines (stdio)", ["41", "stdio"]),
                        ("41-byte lines, a write() each", ["41"])]:
        total = str((200_000_000 if "stdio" in args else 50_000_000) // (4 if q else 1))
        writer_limit[label] = float(subprocess.run([bins["helpers"], "pipe", total, *args],
                                                   capture_output=True, text=True).stdout)

    for n in ([1, 200] if q else [1, 200, 1000]):
        m = each(memory, bins, n)
        row(f"1. idle RSS, {n} programs", {k: v[0] for k, v in m.items()}, "MB")
        if n == 200:
            row(f"1.   of which private (RssAnon), {n} programs", {k: v[1] for k, v in m.items()}, "MB")
    secs = 10 if q else 30
    row(f"2. idle CPU, 200 programs, {secs} s", each(idle_cpu, bins, 200, secs), "%", fmt="{:.3f}")
    for n in ([200] if q else [200, 1000]):
        row(f"3. start-up to {n} RUNNING", each(startup, bins, n), "s", fmt="{:.3f}",
            limit=n * fe / 1e6)
    kills = {"ours": 50 if q else 200, "go": 10 if q else 40, "python": 5 if q else 40}
    lat = {k: restart_latency(k, bins, kills[k]) for k in KINDS}
    p = lambda l, x: l[min(len(l) - 1, int(len(l) * x))]
    row(f"4. restart after SIGKILL, p50 ({kills['ours']}/{kills['go']}/{kills['python']} kills)",
        {k: p(v, .5) for k, v in lat.items()}, "ms", limit=fe / 1000)
    row("4. restart after SIGKILL, p99", {k: p(v, .99) for k, v in lat.items()}, "ms",
        limit=fe / 1000)
    mb = 100 if q else 500
    peak = {}
    for label, chunk, writers, sib, mode in [
            ("64 KiB writes", 65536, 1, 0, "writer"),
            ("41-byte lines (stdio)", 41, 1, 0, "printer"),
            ("41-byte lines, a write() each", 41, 1, 0, "writer"),
            ("64 KiB, 199 idle siblings", 65536, 1, 199, "writer"),
            ("20 writers at once", 65536, 20, 0, "writer")]:
        t = each(log_throughput, bins, mb, chunk, writers, sib, mode)
        if label == "64 KiB writes":
            t64 = t
        row(f"5. log {mb} MB, {label}", pick(t, "mbs"), "MB/s", better="higher", fmt="{:.0f}",
            limit=writer_limit.get(label, pp))
        row(f"5.   daemon CPU per GB, {label}", pick(t, "cpu_per_gb"), "s/GB")
        for k in t:
            peak[k] = max(peak.get(k, 0), t[k]["peak_mb"])
    api_r = each(api, bins, 300 if q else 1000)
    x = {k: v["xmlrpc"] for k, v in api_r.items()}
    row("6. getAllProcessInfo (200) XML-RPC req/s", pick(x, "rps"), "req/s", better="higher", fmt="{:.0f}")
    row("6. getAllProcessInfo (200) XML-RPC p50", pick(x, "p50"), "ms")
    row("6. getAllProcessInfo (200) XML-RPC p99", pick(x, "p99"), "ms")
    row("6. getAllProcessInfo (200) XML-RPC daemon CPU per call", pick(x, "cpu_ms"), "ms", fmt="{:.3f}")
    g = api_r["ours"]["grpc"]
    # Against the peers' XML-RPC: the same question, each daemon's own protocol.
    row("6. GetAllProcessInfo (200) gRPC req/s (ours)", {**pick(x, "rps"), "ours": g["rps"]},
        "req/s", better="higher", fmt="{:.0f}")
    row("6. GetAllProcessInfo (200) gRPC p50 (ours)", {"ours": g["p50"]}, "ms")
    row("6. GetAllProcessInfo (200) gRPC daemon CPU per call (ours)",
        {**pick(x, "cpu_ms"), "ours": g["cpu_ms"]}, "ms", fmt="{:.3f}")
    row("6. supervisorctl status wall time (each its own)", pick(api_r, "ctl_status_ms"), "ms", fmt="{:.1f}")
    ev_kills = {"ours": 50 if q else 200, "go": 20 if q else 50, "python": 10 if q else 40}
    ev = {k: event_latency(k, bins, ev_kills[k]) for k in KINDS}
    ev = {k: v for k, v in ev.items() if v}
    row(f"10. event delivery, SIGKILL → EXITED at a listener, p50 "
        f"({ev_kills['ours']}/{ev_kills['go']}/{ev_kills['python']} kills)",
        {k: p(v, .5) for k, v in ev.items()}, "ms", fmt="{:.2f}")
    row("10. event delivery, SIGKILL → EXITED at a listener, p99",
        {k: p(v, .99) for k, v in ev.items()}, "ms", fmt="{:.2f}")
    et = each(event_throughput, bins, 250 if q else 1000)
    et = {k: v for k, v in et.items() if v}
    n_ev = "/".join(str(et[k]["events"]) if k in et else "-" for k in ("ours", "go", "python"))
    row(f"10. PROCESS_LOG events to one listener ({n_ev} events)", pick(et, "events_s"), "ev/s",
        better="higher", fmt="{:.0f}")
    row("10.   daemon CPU per 10 000 events", pick(et, "cpu_per_10k"), "s", fmt="{:.3f}")
    rounds = {"ours": 10 if q else 30, "go": 3 if q else 8}
    bc = {k: binary_change(k, bins, rounds[k]) for k in KINDS if k in rounds}
    bc = {k: v for k, v in bc.items() if v}
    row(f"11. binary replaced (mv) → new process, p50 ({rounds['ours']}/{rounds['go']} replacements)",
        {k: p(v, .5) for k, v in bc.items()}, "ms", fmt="{:.0f}")
    row("11. binary replaced (mv) → new process, max", {k: v[-1] for k, v in bc.items()}, "ms",
        fmt="{:.0f}")
    wsecs = 10 if q else 30
    wc = {k: watch_cpu(k, bins, 10_000, wsecs) for k in KINDS if k != "python"}
    row(f"11. idle CPU watching 10 000 files (restart_directory_monitor), {wsecs} s", wc, "%",
        fmt="{:.3f}")
    for name in ("ours", "ours_ctl"):
        stripped = os.path.join(work, "stripped")
        subprocess.run(["strip", "-o", stripped, bins[name]], check=True)
        label = "supervisord" if name == "ours" else "supervisorctl"
        sizes = {"ours": os.path.getsize(stripped) / 1e6}
        if name == "ours" and "go" in KINDS:
            # One binary is the Go supervisord's daemon and client (stripped as built).
            sizes["go"] = os.path.getsize(bins["go"]) / 1e6
        row(f"7. {label} binary (static, stripped as packaged)", sizes, "MB")
        row(f"7. {label} binary (static, with symbols as built)", {"ours": os.path.getsize(bins[name]) / 1e6}, "MB")
    row("7. daemon peak RSS during workload 5", peak, "MB")
    row("8. reference: fork+exec+wait of /bin/true", {}, "us", fmt="{:.0f}", limit=fe)
    row("8. reference: raw pipe into cat > /dev/null (median of 5)", {}, "MB/s", better="higher", fmt="{:.0f}", limit=pp)
    row("8.   log with 64 KiB writes, as a share of it", {k: 100 * v["mbs"] / pp for k, v in t64.items()}, "%", better="higher", fmt="{:.0f}")
    for label, ref in writer_limit.items():
        row(f"8. reference: {label} into cat > /dev/null", {}, "MB/s", better="higher", fmt="{:.0f}", limit=ref)
    symbols = {l.split()[-1] for l in subprocess.run(["nm", "--defined-only", bins["ours"]],
               capture_output=True, text=True).stdout.splitlines() if l.strip()}
    listed = [l.strip() for l in open(os.path.join(ROOT, "supervisord/link-order.txt"))
              if l.strip() and not l.startswith("#")]
    found = 100 * sum(n in symbols for n in listed) / max(1, len(listed))
    row("9. link-order.txt names found in the daemon (staleness)", {"ours": found}, "%", better="higher", fmt="{:.0f}")
    took = time.time() - started
    pyver = subprocess.run([bins["python"], "--version"], capture_output=True, text=True).stdout.strip()
    gover = "-"
    if "go" in KINDS:
        out = subprocess.run([bins["go"], "version"], capture_output=True, text=True).stdout
        gover = " ".join(out.split()) or "?"
    with open(a.out, "w") as f:
        f.write("# Benchmark results\n\n")
        f.write(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
        f.write(f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}\n")
        f.write(f"- compared with: the Go supervisord {gover} (../shared/peers/go-supervisord) and "
                f"Python supervisord {pyver} ({sys.version.split()[0]})\n")
        f.write(f"- command: `tests/bench/run{' --quick' if q else ''}` ({took:.0f} s)\n\n")
        f.write("| workload | ours | go | python | limit | unit | ours vs go | ours vs python |\n"
                "|---|---:|---:|---:|---:|---|---:|---:|\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
        f.write(NOTES.format(python_kills=kills["python"], go_kills=kills["go"]))
    print(f"\nwrote {a.out} in {took:.0f} s")


if __name__ == "__main__":
    main()
