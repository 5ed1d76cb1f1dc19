#!/usr/bin/env python3
"""Soak benchmark for BENCHMARKS.md (issue 11, "Long runs"): does anything grow?

The shop at 200 journeys/s for 30 minutes; every minute a fault is injected
(alternating kinds and services, so alerts fire, resolve and notify) and
cleared half a minute later. At each sample time it records the control
plane's RSS and open files (/proc/PID/status, /proc/PID/fd), its threads,
the database (journal and notification log) and the metrics store sizes, and
the journeys done.

Usage: python3 bench/soak.py [--minutes 30] [--samples 5,30] [--rps 200]
Builds nothing: run `cargo build --release` first. Prints one JSON line per
sample and a summary line; the lab is stopped (and its processes with it)
before exit.
"""
import argparse, json, os, signal, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab_bench import BIN, Lab  # noqa: E402

FAULTS = [
    {"kind": "error", "service": "productcatalog", "percent": 50, "status": 500},
    {"kind": "latency", "service": "currency", "delay": "300ms", "percent": 100},
    {"kind": "refuse", "service": "ad"},
    {"kind": "pause", "service": "recommendation"},
]


def request(lab, method, path, body=None, timeout=10):
    token = open(os.path.join(lab.dir, "token")).read().strip()
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(lab.url + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except Exception as e:  # the lab is busy: counted, not fatal
        return None, str(e)


def proc_status(pid):
    out = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM", "Threads"):
            out[k] = int(v.split()[0])
    return out


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def sample(lab, minute, faults_done, fault_errors):
    pid = lab.proc.pid
    st = proc_status(pid)
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    db = sum(os.path.getsize(os.path.join(lab.dir, f)) for f in os.listdir(lab.dir)
             if f.startswith("firedrill.db"))
    ok, bad = lab.journeys()
    _, notes = request(lab, "GET", "/api/lab/notifications?limit=1000")
    _, events = request(lab, "GET", "/api/events?limit=100000")
    return {
        "bench": "soak_sample", "minute": minute,
        "cp_rss_mib": round(st["VmRSS"] / 1024, 1), "cp_hwm_mib": round(st["VmHWM"] / 1024, 1),
        "cp_threads": st["Threads"], "cp_open_files": fds,
        "database_mib": round(db / 2**20, 2), "tsdb_mib": round(dir_bytes(os.path.join(lab.dir, "tsdb")) / 2**20, 2),
        "instance_logs_mib": round(dir_bytes(os.path.join(lab.dir, "logs")) / 2**20, 2),
        "journal_events": len(events["data"]) if isinstance(events, dict) else None,
        "notifications_page": len(notes["data"]) if isinstance(notes, dict) else None,
        "journeys_ok": int(ok), "journeys_failed": int(bad),
        "faults_injected": faults_done, "fault_request_errors": fault_errors,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--samples", default="5,30", help="minutes at which to sample, comma-separated")
    ap.add_argument("--rps", type=float, default=200)
    args = ap.parse_args()
    if not os.path.exists(BIN):
        raise SystemExit("build first: cargo build --release")
    marks = sorted(float(m) for m in args.samples.split(","))
    lab = Lab(rps=args.rps)
    signal.signal(signal.SIGTERM, lambda *_: (lab.stop(), sys.exit(1)))
    try:
        lab.wait_record()
        t0 = time.monotonic()
        faults_done = fault_errors = 0
        next_fault, active, clear_at = 0.0, None, None
        results = []
        while True:
            now = (time.monotonic() - t0) / 60
            if active is not None and now >= clear_at:
                s, _ = request(lab, "DELETE", f"/api/faults/{active}")
                fault_errors += 0 if s and s < 300 else 1
                active = None
            if now >= next_fault and now < args.minutes:
                spec = dict(FAULTS[faults_done % len(FAULTS)], **{"for": "5m"})
                s, body = request(lab, "POST", "/api/faults", spec)
                if s and s < 300 and isinstance(body, dict):
                    active = body["data"]["id"]
                    clear_at = now + 0.5
                else:
                    fault_errors += 1
                    print(json.dumps({"bench": "soak_fault_error", "minute": round(now, 2), "status": s,
                                      "answer": str(body)[:300]}), flush=True)
                faults_done += 1
                next_fault += 1.0
            if marks and now >= marks[0]:
                r = sample(lab, marks.pop(0), faults_done, fault_errors)
                results.append(r)
                print(json.dumps(r), flush=True)
            if now >= args.minutes and not marks:
                break
            time.sleep(0.5)
        first, last = results[0], results[-1]
        print(json.dumps({
            "bench": "soak_summary", "rps": args.rps, "minutes": args.minutes,
            "cp_rss_growth_mib": round(last["cp_rss_mib"] - first["cp_rss_mib"], 1),
            "cp_open_files_growth": last["cp_open_files"] - first["cp_open_files"],
            "alive": lab.proc.poll() is None,
        }), flush=True)
    finally:
        lab.stop()


if __name__ == "__main__":
    main()
