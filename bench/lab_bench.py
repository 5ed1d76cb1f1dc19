#!/usr/bin/env python3
"""Lab benchmarks for BENCHMARKS.md (issue: the lab runs).

Usage: python3 bench/lab_bench.py [startup|rss|throughput|tsdb|all]
Builds nothing: run `cargo build --release` first. Traffic stays on loopback;
every lab started here is stopped (and its processes with it) before exit.
"""
import json, os, random, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "firedrill")


def free_block(n):
    for _ in range(200):
        base = random.randint(10000, 32000)  # below the ephemeral port range
        ok = True
        for p in range(base, base + n):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                ok = False
            finally:
                s.close()
            if not ok:
                break
        if ok:
            return base
    raise SystemExit("no free ports")


def http(method, url, body=None, timeout=5):
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception:
        return None


class Lab:
    def __init__(self, rps, topology="shop", scrape="5s"):
        self.dir = tempfile.mkdtemp(prefix="fd-bench-")
        base = free_block(60)
        self.cp = base
        self.base = base + 1
        self.url = f"http://127.0.0.1:{self.cp}"
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [BIN, "up", "--topology", topology, "--data-dir", self.dir, "--listen", f"127.0.0.1:{self.cp}",
             "--base-port", str(self.base), "--rps", str(rps), "--scrape-interval", scrape],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)

    def wait_record(self, limit=30):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if os.path.exists(os.path.join(self.dir, "lab.json")):
                return
            time.sleep(0.01)
        raise SystemExit("lab did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def pids(self):
        out = [self.proc.pid]
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                cmd = open(f"/proc/{p}/cmdline", "rb").read().decode(errors="replace")
            except OSError:
                continue
            if "__instance" in cmd and self.dir in cmd:
                out.append(int(p))
        return out

    def rss_bytes(self):
        total = 0
        for p in self.pids():
            try:
                for line in open(f"/proc/{p}/status"):
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total

    def journeys(self):
        text = urllib.request.urlopen(self.url + "/loadgen/metrics", timeout=5).read().decode()
        ok = bad = 0.0
        for line in text.splitlines():
            if line.startswith("loadgen_journeys_total{"):
                v = float(line.rsplit(" ", 1)[1])
                if 'outcome="success"' in line:
                    ok += v
                else:
                    bad += v
        return ok, bad


def checkout_once(front):
    steps = [("GET", "/"), ("GET", "/product/OLJCESPC7Z"), ("POST", "/cart"), ("POST", "/cart/checkout")]
    for m, p in steps:
        s = http(m, front + p, body=b"" if m == "POST" else None, timeout=2)
        if s is None or s >= 400:
            return False
    return True


def startup(runs=5):
    """Time from `firedrill up` starting to a first successful checkout journey."""
    times = []
    for _ in range(runs):
        lab = Lab(rps=20)
        front = f"http://127.0.0.1:{lab.base}"
        end = time.monotonic() + 30
        while time.monotonic() < end and not checkout_once(front):
            time.sleep(0.01)
        times.append(time.monotonic() - lab.t0)
        lab.stop()
    print(json.dumps({"bench": "up_to_first_checkout_seconds", "runs": [round(t, 3) for t in times],
                      "median": round(statistics.median(times), 3)}))


def rss(rps_list=(20, 200), settle=30):
    for rps in rps_list:
        lab = Lab(rps=rps)
        lab.wait_record()
        time.sleep(settle)
        samples = []
        for _ in range(5):
            samples.append(lab.rss_bytes())
            time.sleep(1)
        n = len(lab.pids())
        lab.stop()
        print(json.dumps({"bench": "shop_total_rss_mib", "rps": rps, "processes": n,
                          "median_mib": round(statistics.median(samples) / 2**20, 1)}))


def throughput(levels=(50, 100, 200, 400, 600, 800, 1200), window=20):
    """Highest journey arrival rate the lab sustains: >=95% of target done and <1% failures."""
    best = 0
    for rps in levels:
        lab = Lab(rps=rps)
        lab.wait_record()
        time.sleep(5)
        ok0, bad0 = lab.journeys()
        time.sleep(window)
        ok1, bad1 = lab.journeys()
        lab.stop()
        done = (ok1 - ok0) / window
        fail = (bad1 - bad0) / max(1.0, (ok1 - ok0) + (bad1 - bad0))
        sustained = done >= 0.95 * rps and fail < 0.01
        print(json.dumps({"bench": "journeys_per_second", "target": rps, "succeeded_per_s": round(done, 1),
                          "failure_ratio": round(fail, 4), "sustained": sustained}))
        if sustained:
            best = rps
        else:
            break
    print(json.dumps({"bench": "max_sustained_journeys_per_second", "value": best}))


def tsdb(seconds=int(os.environ.get("TSDB_SECONDS", "300"))):
    """Bytes per sample and memory per series of the store on real lab data (1 s scrapes)."""
    lab = Lab(rps=20, scrape="1s")
    lab.wait_record()
    time.sleep(seconds)
    st = json.load(urllib.request.urlopen(lab.url + "/api/v1/status/tsdb", timeout=10))["data"]
    lab.stop()
    head, fd = st["headStats"], st["firedrill"]
    print(json.dumps({"bench": "tsdb_on_lab_data", "seconds": seconds, "series": head["numSeries"],
                      "samples": fd["samples"], "bytes_per_sample": round(fd["bytesPerSample"], 3),
                      "memory_per_series_bytes": round(fd["memoryBytes"] / max(1, head["numSeries"]))}))


if __name__ == "__main__":
    if not os.path.exists(BIN):
        raise SystemExit("build first: cargo build --release")
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("startup", "all"):
        startup()
    if what in ("rss", "all"):
        rss()
    if what in ("throughput", "all"):
        throughput()
    if what in ("tsdb", "all"):
        tsdb()
