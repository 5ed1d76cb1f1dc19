#!/usr/bin/env python3
"""Drill benchmarks for BENCHMARKS.md (issue: drills).

Usage: python3 bench/drill_bench.py [runs]
Builds nothing: run `cargo build --release` first. Starts a shop lab per run
(scrape every 1 s), starts the bad-release drill and measures:
  - drill start -> fault start (the planned delay, from the drill's state);
  - fault start -> first symptom visible in metrics (the frontend's product
    page 5xx rate, as a PromQL query sees it);
  - drill start -> first symptom;
  - the engine's cost per evaluation tick (firedrill_drill_tick_duration_seconds
    on the control plane's /metrics: mean over the run).
Traffic stays on loopback; every lab is stopped before exit.
"""
import json, os, statistics, sys, time, urllib.parse, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab_bench import Lab  # noqa: E402

SYMPTOM = 'sum(rate(http_server_request_duration_seconds_count{job="frontend",http_route="/product/{id}",http_response_status_code=~"5.."}[5s]))'


def call(lab, method, path, body=None):
    token = open(os.path.join(lab.dir, "token")).read().strip()
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(lab.url + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def query(lab, expr):
    v = call(lab, "GET", "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    res = v["data"]["result"]
    return float(res[0]["value"][1]) if res else 0.0


def tick_stats(lab):
    text = urllib.request.urlopen(lab.url + "/metrics", timeout=5).read().decode()
    total = count = 0.0
    buckets = []
    for line in text.splitlines():
        if line.startswith("firedrill_drill_tick_duration_seconds_bucket"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), float(line.rsplit(" ", 1)[1])))
        if line.startswith("firedrill_drill_tick_duration_seconds_sum"):
            total = float(line.rsplit(" ", 1)[1])
        elif line.startswith("firedrill_drill_tick_duration_seconds_count"):
            count = float(line.rsplit(" ", 1)[1])
    # The median tick: the first bucket holding half the ticks (an upper bound).
    p50 = next((le for le, c in buckets if count and c >= count / 2), None)
    return total, count, p50


def one_run(seed):
    lab = Lab(rps=20, scrape="1s")
    try:
        lab.wait_record()
        time.sleep(3)  # a few scrapes of healthy traffic first
        t_start = time.monotonic()
        d = call(lab, "POST", "/api/drills", {"scenario": "bad-release", "trainee": "alice", "seed": seed})["data"]
        fault_at = None
        symptom_at = None
        end = t_start + 180
        while time.monotonic() < end and symptom_at is None:
            if fault_at is None:
                st = call(lab, "GET", "/api/drills/current/state")["data"]
                if st["state"]["faults"][0]["started"]:
                    fault_at = time.monotonic()
            if query(lab, SYMPTOM) > 0:
                symptom_at = time.monotonic()
            time.sleep(0.2)
        total, count, p50 = tick_stats(lab)
        call(lab, "POST", "/api/drills/current/end")
        return {
            "drill": d["id"], "seed": seed,
            "start_to_fault_s": round(fault_at - t_start, 2) if fault_at else None,
            "fault_to_symptom_s": round(symptom_at - fault_at, 2) if symptom_at and fault_at else None,
            "start_to_symptom_s": round(symptom_at - t_start, 2) if symptom_at else None,
            "tick_mean_ms": round(1000 * total / count, 3) if count else None,
            "tick_p50_ms_at_most": round(1000 * p50, 3) if p50 is not None else None,
            "ticks": int(count),
        }
    finally:
        lab.stop()


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    results = [one_run(seed) for seed in range(1, runs + 1)]
    for r in results:
        print(json.dumps(r))

    def med(k):
        xs = [r[k] for r in results if r[k] is not None]
        return round(statistics.median(xs), 3) if xs else None
    print(json.dumps({"bench": "drill", "runs": runs, "median_start_to_fault_s": med("start_to_fault_s"),
                      "median_fault_to_symptom_s": med("fault_to_symptom_s"),
                      "median_start_to_symptom_s": med("start_to_symptom_s"),
                      "median_tick_mean_ms": med("tick_mean_ms"),
                      "median_tick_p50_ms_at_most": med("tick_p50_ms_at_most")}))


if __name__ == "__main__":
    main()
