"""Parses /metrics with prometheus_client's own text parser and checks the series.
Usage: metrics_check.py URL"""
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

body = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
families = {f.name: f for f in text_string_to_metric_families(body)}


def sample(metric, **labels):
    for f in families.values():
        for s in f.samples:
            if s.name == metric and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    raise SystemExit("FAIL missing %s %s\n%s" % (metric, labels, body))


assert sample("node_supervisord_up", name="runner", group="runner") == 1.0
assert sample("node_supervisord_up", name="idle", group="idle") == 0.0
assert sample("node_supervisord_state", name="runner", group="runner") == 20.0
assert sample("node_supervisord_state", name="idle", group="idle") == 0.0
assert sample("node_supervisord_start_time_seconds", name="runner", group="runner") > 1.7e9
assert sample("node_supervisord_exit_status", name="runner", group="runner") == 0.0
assert sample("supervisord_process_resident_memory_bytes", name="runner", group="runner") > 0
assert sample("supervisord_process_spawns", name="runner", group="runner") >= 1
assert sample("supervisord_daemon_resident_memory_bytes") > 0
print("all ok")
