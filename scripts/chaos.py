"""Randomized fault runs on the real local stack, checked afterwards (scripts/chaos, make chaos).

One run is one flash sale: a fresh deal whose size, per-customer limit and shoppers' load shape
are drawn from the run's seed; two order workers and two gateways (release build) behind
fault-injecting links (chaos_proxy.py); shoppers through the real waiting room (k6/chaos.js);
faults from the same seed injected during the spike. Then the checker: `flashdeal verify`
(no oversell — now and at every moment of the event log —, conservation, every accepted order and
every order a shopper was given decided once, no duplicate events, limits kept) and this file's own
checks of what shoppers saw (every answer a designed one). A run's seed alone replays it:
`scripts/chaos --seed N --runs 1`.
"""
import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chaos_proxy import Links  # noqa: E402
import chaos_report  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STACK = os.path.join(ROOT, "scripts", "stack")
STACK_DIR = os.environ.get("FLASHDEAL_STACK_DIR", os.path.join(ROOT, ".stack"))
KAFKA_PORT = int(os.environ.get("FLASHDEAL_KAFKA_PORT", "19092"))
REDIS_PORT = int(os.environ.get("FLASHDEAL_REDIS_PORT", "16379"))
MONGO_PORT = int(os.environ.get("FLASHDEAL_MONGO_PORT", "27117"))

# Every fault type; a run's first fault cycles through them with the seed (consecutive seeds cover all).
FAULTS = ["worker-kill", "gateway-kill", "redis-kill", "redis-lossy", "broker-kill", "broker-store-kill",
          "mongo-down", "net-delay", "net-loss", "net-partition"]
# Links a network fault can hit: through a proxy of the run, or (broker) the broker's own port,
# which every client reaches directly because the broker advertises it.
PROXIED = ["gateway-redis", "worker-redis", "worker-mongo", "gateway-mongo"]
# Answers that are part of the design (docs/api.md, "Errors"): the business outcomes and UNAVAILABLE.
DESIGNED = {"RATE_LIMITED", "QUEUED", "SOLD_OUT", "DEAL_NOT_OPEN", "DEAL_ENDED", "LIMIT_EXCEEDED",
            "PASS_USED", "UNAVAILABLE"}
# A gateway killed mid-request: its open connections reset, the only moment "no answer" is designed.
RESET_WINDOW_MS = 2000


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


_handed_out = set()
# Set when the runner is told to stop: a fault's heal starts no process after that.
STOPPING = threading.Event()


def free_port():
    """A loopback port nothing listens on, below the kernel's ephemeral range (a port the kernel
    handed out for a moment could go to an outgoing connection before the process binds it), and
    never one this runner handed out recently: the probe's socket is closed before the process that
    gets the port binds it, so two picks of one run could otherwise return the same free port (the
    likely way seed 4113's gateway found its port taken at start)."""
    if len(_handed_out) > 2000:
        _handed_out.clear()
    while True:
        port = random.randint(21000, 26000)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            _handed_out.add(port)
            return port


def now_ms():
    return int(time.time() * 1000)


# ------------------------------------------------------------------------------------------------
# The plan of a run: everything drawn from its seed.

def plan(seed, faults_per_run=None, only=None):
    r = random.Random(seed)
    limit = r.randint(1, 3)
    p = {
        "seed": seed,
        "stock": r.randint(40, 400),
        "limit": limit,
        "quantity_max": r.randint(1, limit + 1),
        "warmup_s": 4, "warmup_rate": r.randint(5, 20),
        "spike_s": r.randint(4, 8), "spike_rate": r.randint(60, 180),
        "sustain_s": r.randint(8, 14), "sustain_rate": r.randint(15, 50),
        "admission_rate": r.randint(15, 60),
    }
    kinds = only or FAULTS
    if faults_per_run:
        chosen = [kinds[(faults_per_run * seed + k) % len(kinds)] for k in range(faults_per_run)]
    else:
        n = r.choices([1, 2, 3], weights=[50, 35, 15])[0]
        chosen = [kinds[seed % len(kinds)]] + [r.choice(kinds) for _ in range(n - 1)]
    # Faults land while the deal is selling: within the load and before the admissions the
    # waiting room paces can have taken the whole stock.
    window_s = min(p["spike_s"] + p["sustain_s"] * 0.6, max(2.0, 0.9 * p["stock"] / p["admission_rate"]))
    p["faults"] = [fault(r, kind, window_s) for kind in chosen]
    return p


def fault(r, kind, window_s):
    f = {"kind": kind, "at_ms": int(r.uniform(0, window_s) * 1000)}
    if kind in ("worker-kill", "gateway-kill"):
        f["which"] = r.randint(0, 1)
        f["down_ms"] = r.choice([0, r.randint(200, 4000)])
    elif kind in ("redis-kill", "broker-kill", "broker-store-kill"):
        f["down_ms"] = r.choice([0, r.randint(300, 3000)])
    elif kind == "redis-lossy":
        f["lost_ms"] = r.randint(200, 1500)
        f["down_ms"] = r.choice([0, r.randint(300, 3000)])
    elif kind == "mongo-down":
        f["down_ms"] = r.randint(1000, 8000)
    elif kind == "net-delay":
        f["link"] = r.choice(PROXIED)
        f["delay_ms"], f["jitter_ms"] = r.randint(20, 400), r.randint(0, 200)
        f["down_ms"] = r.randint(2000, 8000)
    elif kind == "net-loss":
        f["link"] = r.choice(PROXIED + ["broker"])
        f["loss"] = round(r.uniform(0.05, 0.4), 2)
        f["down_ms"] = r.randint(2000, 8000)
    elif kind == "net-partition":
        f["link"] = r.choice(PROXIED + ["broker"])
        f["down_ms"] = r.randint(1000, 6000)
    return f


def resource(f):
    """What a fault acts on (the broker's link is the broker: its restart probes that port)."""
    kind = f["kind"]
    if "which" in f:
        return f"{kind.split('-')[0]}-{f['which']}"
    if kind in ("broker-kill", "broker-store-kill") or f.get("link") == "broker":
        return "broker"
    if kind in ("redis-kill", "redis-lossy", "mongo-down"):
        return kind.split("-")[0]
    return f"link:{f['link']}"


def describe(f):
    extra = {"net-delay": lambda: f" {f['link']} +{f['delay_ms']}±{f['jitter_ms']} ms",
             "net-loss": lambda: f" {f['link']} {int(f['loss'] * 100)} %",
             "net-partition": lambda: f" {f['link']}",
             "redis-lossy": lambda: f" losing its last {f['lost_ms']} ms"}.get(f["kind"], lambda: "")()
    which = f" #{f['which'] + 1}" if "which" in f else ""
    return f"{f['kind']}{which}{extra} at +{f['at_ms']} ms for {f['down_ms']} ms"


# ------------------------------------------------------------------------------------------------
# Packet drops on a link's port (iptables; every rule carries the comment, so cleanup finds all).

class Firewall:
    # One tag per local stack, so a campaign on a second stack and `make test`'s runs on the default
    # one never remove each other's rules.
    TAG = "flashdeal-chaos-" + hashlib.sha1(os.path.abspath(STACK_DIR).encode()).hexdigest()[:10]

    def __init__(self):
        self.rules = []

    def _rule(self, port, direction, extra):
        return ["INPUT", "-p", "tcp", direction, str(port)] + extra + [
            "-m", "comment", "--comment", self.TAG, "-j", "DROP"]

    def drop(self, port, probability=None):
        extra = ["-m", "statistic", "--mode", "random", "--probability", str(probability)] if probability else []
        added = []
        for direction in ("--dport", "--sport"):
            rule = self._rule(port, direction, extra)
            subprocess.run(["iptables", "-I"] + rule, check=True)
            added.append(rule)
        self.rules.append(added)
        return added

    def lift(self, added):
        for rule in added:
            subprocess.run(["iptables", "-D"] + rule, check=False, stderr=subprocess.DEVNULL)
        if added in self.rules:
            self.rules.remove(added)

    @classmethod
    def clean_all(cls):
        """Removes every rule a chaos run left (an interrupted run included)."""
        out = subprocess.run(["iptables", "-S", "INPUT"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if f"--comment {cls.TAG} " in line + " " and line.startswith("-A "):
                subprocess.run(["iptables", "-D"] + line.split()[1:], check=False)


def stack(*args):
    return subprocess.run([STACK, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def restart(*args, keep_logs=None):
    """`scripts/stack start …`, tried five times, 1, 2, 4 and 8 s apart (the broker's object store,
    killed, has failed to start again at once, three times in a row); the failed attempts are
    returned for the run's record, and each failed server's log is copied to `keep_logs`."""
    failures = []
    for attempt in range(5):
        result = stack("start", *args)
        if result.returncode == 0:
            break
        failures.append(result.stderr.strip()[-300:])
        if keep_logs:
            for svc in ("redis", "kafka", "mongo", "s3"):
                log_file = os.path.join(STACK_DIR, svc, f"{svc}.log")
                if svc in result.stderr and os.path.exists(log_file):
                    shutil.copy(log_file, os.path.join(keep_logs, f"{svc}-start-failure-{attempt + 1}.log"))
        time.sleep(2 ** attempt)
    result.failures = failures
    return result


# ------------------------------------------------------------------------------------------------
# One run.

class Run:
    def __init__(self, p, args, out):
        self.p = p
        self.args = args
        self.bin = args.bin
        self.id = f"chaos-{p['seed']}-{time.strftime('%H%M%S')}"
        self.dir = os.path.join(out, self.id)
        os.makedirs(self.dir)
        self.prefix = f"{self.id}."
        self.group = f"{self.id}-workers"
        self.links = Links(p["seed"])
        self.firewall = Firewall()
        self.workers = [None, None]
        self.gateways = [None, None]
        self.worker_ports = [free_port(), free_port()]
        self.gateway_ports = [free_port(), free_port()]
        self.timeline = []  # what was done when: {"fault", "injected_ms", "healed_ms", "error"}
        self.lock = threading.Lock()
        self.k6 = None
        self.resources = {}  # what a fault acts on → a lock held from its injection to its heal
        self.env = dict(os.environ)
        self.env.update({
            "FLASHDEAL_TOPIC_PREFIX": self.prefix, "FLASHDEAL_WORKER_GROUP": self.group,
            "FLASHDEAL_TOPIC_PARTITIONS": "12", "FLASHDEAL_DRAIN_MS": "0", "LOG_LEVEL": "warning",
            "FLASHDEAL_JWT_SECRET": f"chaos-secret-{os.urandom(16).hex()}",
            "FLASHDEAL_PASS_KEYS": f"c1:chaos-pass-key-{os.urandom(16).hex()}",
        })

    # The processes, each pointed at its links.
    def endpoints(self, role):
        return {"FLASHDEAL_REDIS_URL": f"redis://127.0.0.1:{self.link_ports[role + '-redis']}",
                "FLASHDEAL_MONGO_URI": f"mongodb://127.0.0.1:{self.link_ports[role + '-mongo']}/"}

    def start_worker(self, i):
        if STOPPING.is_set():
            return
        env = dict(self.env, FLASHDEAL_HTTP_PORT=str(self.worker_ports[i]),
                   FLASHDEAL_WORKER_RESEND_AFTER_MS=os.environ.get("RESEND_AFTER_MS", "10000"),
                   **self.endpoints("worker"))
        with open(os.path.join(self.dir, f"worker-{i + 1}.log"), "a") as out:
            self.workers[i] = subprocess.Popen([os.path.join(self.bin, "flashdeal-worker")], env=env,
                                               stdout=out, stderr=subprocess.STDOUT)

    def start_gateway(self, i):
        if STOPPING.is_set():
            return
        env = dict(self.env, FLASHDEAL_HTTP_PORT=str(self.gateway_ports[i]),
                   FLASHDEAL_POLICY_FILE="Benchmarks/gateway-policies.yaml", FLASHDEAL_ADMISSION_RATE=str(self.p["admission_rate"]),
                   FLASHDEAL_RATELIMIT_BUDGET_MS="50", FLASHDEAL_ORDER_DELIVERY_TIMEOUT_MS="10000",
                   **self.endpoints("gateway"))
        with open(os.path.join(self.dir, f"gateway-{i + 1}.log"), "a") as out:
            self.gateways[i] = subprocess.Popen([os.path.join(self.bin, "flashdeal-gateway")], env=env,
                                                stdout=out, stderr=subprocess.STDOUT)

    def ready(self, port, proc, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if proc.poll() is not None:
                return False
            if subprocess.run(["curl", "-fs", "-o", "/dev/null", f"http://127.0.0.1:{port}/readyz"]).returncode == 0:
                return True
            time.sleep(0.2)
        return False

    def cli(self, *args, **kw):
        return subprocess.run([os.path.join(self.bin, "flashdeal"), *args], env=self.env, text=True,
                              capture_output=True, **kw)

    def up(self):
        self.link_ports = {
            "gateway-redis": self.links.add("gateway-redis", [("127.0.0.1", REDIS_PORT)]),
            "worker-redis": self.links.add("worker-redis", [("127.0.0.1", REDIS_PORT)]),
            "gateway-mongo": self.links.add("gateway-mongo", [("127.0.0.1", MONGO_PORT)]),
            "worker-mongo": self.links.add("worker-mongo", [("127.0.0.1", MONGO_PORT)]),
        }
        self.link_ports["broker"] = KAFKA_PORT
        for i in (0, 1):
            self.start_worker(i)
            self.start_gateway(i)
        for name, port, proc in [("worker 1", self.worker_ports[0], self.workers[0]),
                                 ("worker 2", self.worker_ports[1], self.workers[1]),
                                 ("gateway 1", self.gateway_ports[0], self.gateways[0]),
                                 ("gateway 2", self.gateway_ports[1], self.gateways[1])]:
            if not self.ready(port, proc):
                raise RuntimeError(f"{name} did not become ready (its log is in {self.dir})")
        self.lb_port = self.links.add("shoppers", [("127.0.0.1", port) for port in self.gateway_ports])

    # Faults.
    def inject(self, f):
        kind = f["kind"]
        if kind == "worker-kill":
            self.workers[f["which"]].kill()
            self.workers[f["which"]].wait()
        elif kind == "gateway-kill":
            self.gateways[f["which"]].kill()
            self.gateways[f["which"]].wait()
        elif kind == "redis-kill":
            stack("kill", "redis")
        elif kind == "redis-lossy":
            # A machine crash with appendfsync everysec: the server comes back from an append-only
            # file that lacks its last writes. The files as they were lost_ms ago replace the ones
            # the killed server leaves.
            aof = os.path.join(STACK_DIR, "redis", "appendonlydir")
            earlier = os.path.join(self.dir, "redis-aof-earlier")
            shutil.copytree(aof, earlier)
            time.sleep(f["lost_ms"] / 1000)
            stack("kill", "redis")
            shutil.rmtree(aof)
            shutil.copytree(earlier, aof)
            shutil.rmtree(earlier)
        elif kind == "broker-kill":
            stack("kill", "kafka")
        elif kind == "broker-store-kill":
            stack("kill", "kafka", "s3")
        elif kind == "mongo-down":
            stack("kill", "mongo")
        elif kind == "net-delay":
            self.links.set_delay(f["link"], f["delay_ms"], f["jitter_ms"])
        elif kind == "net-loss":
            return self.firewall.drop(self.link_ports[f["link"]], f["loss"])
        elif kind == "net-partition":
            return self.firewall.drop(self.link_ports[f["link"]])
        return None

    def heal(self, f, handle):
        kind = f["kind"]
        if kind == "worker-kill":
            self.start_worker(f["which"])
        elif kind == "gateway-kill":
            self.start_gateway(f["which"])
        elif kind in ("redis-kill", "redis-lossy"):
            return restart("redis", keep_logs=self.dir)
        elif kind in ("broker-kill", "broker-store-kill"):
            return restart("kafka", keep_logs=self.dir)
        elif kind == "mongo-down":
            return restart("mongo", keep_logs=self.dir)
        elif kind == "net-delay":
            self.links.set_delay(f["link"], 0, 0)
        elif handle is not None:
            self.firewall.lift(handle)
        return None

    def run_fault(self, f, opened_at):
        entry = {"fault": f, "description": describe(f)}
        try:
            wait = (opened_at + f["at_ms"] - now_ms()) / 1000
            if wait > 0:
                time.sleep(wait)
            # Two faults on one thing do not overlap: the later one waits until the earlier has healed.
            with self.resources.setdefault(resource(f), threading.Lock()):
                self.inject_and_heal(f, entry)
        except Exception as e:  # recorded; the run fails on it
            entry["error"] = f"{type(e).__name__}: {e}"
        with self.lock:
            self.timeline.append(entry)

    def inject_and_heal(self, f, entry):
        entry["injected_ms"] = now_ms()
        handle = self.inject(f)
        time.sleep(f["down_ms"] / 1000)
        result = self.heal(f, handle)
        entry["healed_ms"] = now_ms()
        if result is not None and result.failures:
            entry["restart_failures"] = result.failures
        if result is not None and result.returncode != 0:
            entry["error"] = f"could not restart: {result.stderr.strip()[-300:]}"

    def down(self):
        if self.k6 and self.k6.poll() is None:
            self.k6.kill()
        for proc in self.workers + self.gateways:
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers + self.gateways:
            if proc:
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for handle in list(self.firewall.rules):
            self.firewall.lift(handle)
        self.links.close()

    def sale(self):
        p = self.p
        opens_in = p["warmup_s"] + 3
        made = self.cli("deal", "create", "--id", self.id, "--product", "chaos-product", "--title", f"Chaos sale {self.id}",
                        "--price", "9.99", "--currency", "EUR", "--stock", str(p["stock"]), "--limit", str(p["limit"]),
                        "--starts-in", f"{opens_in}s", "--duration", "10m")
        if made.returncode != 0:
            raise RuntimeError(f"deal create failed: {made.stderr.strip()}")
        opened_at = now_ms() + opens_in * 1000
        shoppers = (p["warmup_s"] * p["warmup_rate"] + (p["spike_s"] + 1) * p["spike_rate"]
                    + (p["sustain_s"] + 1) * p["sustain_rate"] + 50)
        tokens = os.path.join(self.dir, "tokens.tsv")
        with open(tokens, "w") as out:
            minted = subprocess.run([os.path.join(self.bin, "flashdeal"), "token", "--count", str(shoppers),
                                     "--user-prefix", f"{self.id}-u", "--ttl", "3600"], env=self.env, stdout=out)
        if minted.returncode != 0:
            raise RuntimeError("flashdeal token failed")
        k6_env = {"BASE_URL": f"http://127.0.0.1:{self.lb_port}", "DEAL": self.id, "TOKENS": tokens,
                  "WARMUP_SECONDS": p["warmup_s"], "WARMUP_RATE": p["warmup_rate"], "SPIKE_RATE": p["spike_rate"],
                  "SPIKE_SECONDS": p["spike_s"], "SUSTAIN_RATE": p["sustain_rate"],
                  "SUSTAIN_SECONDS": p["sustain_s"], "QUANTITY_MAX": p["quantity_max"]}
        command = [self.args.k6, "run", "--no-usage-report", "--quiet", "--console-output",
                   os.path.join(self.dir, "events.log"), "--summary-export", os.path.join(self.dir, "k6.json")]
        for k, v in k6_env.items():
            command += ["-e", f"{k}={v}"]
        command.append(os.path.join(ROOT, "k6", "chaos.js"))
        with open(os.path.join(self.dir, "k6.txt"), "w") as out:
            k6 = self.k6 = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=self.env)
        threads = [threading.Thread(target=self.run_fault, args=(f, opened_at)) for f in p["faults"]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        k6.wait()
        return opened_at

    def verify(self, told_file):
        result = self.cli("verify", "--deal", self.id, "--topic-prefix", self.prefix, "--wait",
                          str(self.args.verify_wait), "--expect-orders", told_file)
        with open(os.path.join(self.dir, "verify.txt"), "w") as out:
            out.write(result.stdout + result.stderr)
        return result


EVENT = re.compile(r'msg="(\d+) ([A-Z_]+) ?([^"]*)"')


def read_events(path):
    """The shoppers' console lines: (ms, kind, fields)."""
    events = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                m = EVENT.search(line)
                if m:
                    events.append((int(m.group(1)), m.group(2), m.group(3).split()))
    except FileNotFoundError:
        pass
    return events


def recovery(times, start, end):
    """Seconds after `end` (the heal) until the first event, and the longest gap (s) between events
    around the fault, from the last one before `start` to that first one; None when none came."""
    after = [t for t in times if t >= end]
    if not after:
        return None, None
    first = after[0]
    around = [t for t in times if start - 60_000 <= t <= first]
    before = [t for t in around if t < start]
    points = ([before[-1]] if before else []) + [t for t in around if t >= start]
    gap = max((b - a for a, b in zip(points, points[1:])), default=0)
    return round((first - end) / 1000, 2), round(gap / 1000, 2)


def check(run, opened_at):
    """The run's result: counts, recovery per fault, answers by code, violations."""
    events = read_events(os.path.join(run.dir, "events.log"))
    told = {}
    for ms, kind, fields in events:
        if kind == "ORDER_ID" and len(fields) >= 2:
            told.setdefault(fields[0], set()).add(fields[1])
    told_file = os.path.join(run.dir, "order-ids.txt")
    with open(told_file, "w") as out:
        out.write("".join(f"{order}\n" for order in sorted(told)))
    verify = run.verify(told_file)
    text = verify.stdout + verify.stderr
    violations = []
    in_fail = False
    for line in text.splitlines():
        if line.startswith("invariants: FAIL"):
            in_fail = True
        elif in_fail and line.startswith("  - "):
            violations.append(line[4:])
    if verify.returncode != 0 and not violations:
        violations.append(f"flashdeal verify failed: {text.strip()[-400:]}")
    statuses = dict(re.findall(r"(PENDING|CONFIRMED|REJECTED|FAILED|CANCELLED) (\d+)", text))
    answers = {}
    # Each gateway's outages: from its kill until 2 s after it was started again (time to listen).
    outages = {}
    for e in run.timeline:
        if e["fault"]["kind"] == "gateway-kill" and "injected_ms" in e:
            end = e.get("healed_ms", e["injected_ms"]) + RESET_WINDOW_MS
            outages.setdefault(e["fault"]["which"], []).append((e["injected_ms"], end))
    kills = [start for spans in outages.values() for start, _ in spans]

    def no_gateway_up(ms):
        return len(outages) == len(run.gateways) and all(
            any(a <= ms <= b for a, b in spans) for spans in outages.values())
    lossy = [e["injected_ms"] for e in run.timeline if e["fault"]["kind"] == "redis-lossy" and "injected_ms" in e]
    for ms, kind, fields in events:
        if kind != "ANSWER" or len(fields) < 2:
            continue
        code = fields[1]
        since = next((int(x[6:]) for x in fields[2:] if x.startswith("since=") and x[6:].isdigit()), None)
        extra = [x for x in fields[2:] if not x.startswith("since=")]
        answers[code] = answers.get(code, 0) + 1
        if code in DESIGNED:
            continue
        if code == "HTTP_0" and any(k - 200 <= ms <= k + RESET_WINDOW_MS for k in kills):
            continue  # the requests a killed gateway had in flight
        if code == "HTTP_0" and no_gateway_up(ms):
            continue  # every gateway killed at once: nothing to answer (a real balancer would say 503)
        if code == "HTTP_0" and since and any(since <= k + 200 and k <= ms for k in kills):
            # No request of this shopper since the kill: its kept-alive connection may have been to
            # the killed gateway, and fails when next used, however long the shopper slept.
            continue
        if code == "NOT_FOUND" and fields[0] == "admission" and any(ms >= t for t in lossy):
            continue  # a ticket issued in the writes Redis lost: the shopper is told, and joins again
        if code == "PASS_INVALID" and fields[0] == "createOrder" and extra == ["UNKNOWN"] \
                and any(ms >= t for t in lossy):
            continue  # a pass issued or bound in the writes Redis lost; an order it was kept for is still sent
        violations.append(f"undesigned answer {code} to {fields[0]} at +{ms - opened_at} ms")
    for e in run.timeline:
        if "error" in e:
            violations.append(f"fault {e['description']}: {e['error']}")
    admitted = sorted(ms for ms, kind, _ in events if kind == "ADMITTED")
    decided = sorted(ms for ms, kind, _ in events if kind == "DECIDED")
    faults = []
    for e in sorted(run.timeline, key=lambda e: e.get("injected_ms", 0)):
        entry = {"kind": e["fault"]["kind"], "description": e["description"],
                 "restart_retries": len(e.get("restart_failures", []))}
        if "injected_ms" in e and "healed_ms" in e:
            entry["at_ms"] = e["injected_ms"] - opened_at
            entry["admission_after_s"], entry["admission_gap_s"] = recovery(admitted, e["injected_ms"], e["healed_ms"])
            entry["decisions_after_s"], entry["decisions_gap_s"] = recovery(decided, e["injected_ms"], e["healed_ms"])
        faults.append(entry)
    unknown_only = sum(1 for hows in told.values() if hows == {"UNKNOWN"})
    return {
        "seed": run.p["seed"], "id": run.id, "plan": run.p, "faults": faults,
        "told": len(told), "unknown_only": unknown_only, "admitted": len(admitted),
        "accepted": int(m.group(1)) if (m := re.search(r"accepted by the gateway per Redis: (\d+)", text)) else None,
        "statuses": {k: int(v) for k, v in statuses.items()},
        "sold": int(m.group(1)) if (m := re.search(r"sold \(confirmed\) : (\d+)", text)) else None,
        "peak": int(m.group(1)) if (m := re.search(r"at most (\d+) held", text)) else None,
        "answers": answers, "violations": violations, "verdict": "PASS" if not violations else "FAIL",
    }


def drop_topics(prefix, group):
    subprocess.run(["bash", "-c", f'. "{ROOT}/scripts/lib.sh" && drop_topics "$1" "$2"', "_", prefix, group],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def one(p, args, out):
    run = Run(p, args, out)
    log(f"run seed {p['seed']}: stock {p['stock']}, limit {p['limit']}, spike {p['spike_rate']}/s × {p['spike_s']} s, "
        f"{p['admission_rate']} admissions/s; "
        + "; ".join(describe(f) for f in p["faults"]))
    started = time.time()
    try:
        run.up()
        opened_at = run.sale()
        result = check(run, opened_at)
    except Exception as e:
        result = {"seed": p["seed"], "id": run.id, "plan": p, "faults": [], "answers": {}, "statuses": {},
                  "violations": [f"the run did not complete: {type(e).__name__}: {e}"], "verdict": "FAIL"}
    finally:
        run.down()
        # Whatever a fault left down comes back before the next run (not when told to stop).
        for svc in ("redis", "kafka", "mongo"):
            if not STOPPING.is_set():
                stack("start", svc)
    result["seconds"] = round(time.time() - started, 1)
    with open(os.path.join(run.dir, "result.json"), "w") as f:
        json.dump(result, f, indent=1)
    if result["verdict"] == "PASS":
        drop_topics(run.prefix, run.group)
    return result


def machine():
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024 // 1024
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {"host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(), "memory_gib": mem,
            "commit": commit + ("+changes" if dirty else "")}


def main():
    a = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    a.add_argument("--runs", type=int, default=20)
    a.add_argument("--seed", type=int, default=None, help="the first run's seed (runs take seed, seed+1, …)")
    a.add_argument("--faults-per-run", type=int, default=None, help="fixed number of faults, cycling through every type")
    a.add_argument("--only", default="", help="comma-separated fault types to draw from")
    a.add_argument("--bin", required=True)
    a.add_argument("--k6", required=True)
    a.add_argument("--out", required=True)
    a.add_argument("--command", default="scripts/chaos")
    a.add_argument("--verify-wait", type=int, default=150)
    a.add_argument("--stock", type=int, default=None, help="every deal this size (instead of the seed's)")
    a.add_argument("--expect-violation", default=None, metavar="REGEX",
                   help="a check of the checker: succeed only if every run has a violation matching REGEX")
    args = a.parse_args()
    only = [k for k in args.only.split(",") if k]
    for k in only:
        if k not in FAULTS:
            sys.exit(f"unknown fault type {k} (types: {', '.join(FAULTS)})")
    seed = args.seed if args.seed is not None else int(time.time()) % 100000
    os.makedirs(args.out, exist_ok=True)

    def stop(signum, _frame):
        # The run's own `finally` then stops its processes (no fault heals after this) and lifts
        # its faults. SIGINT too: a shell starts a background job with SIGINT ignored.
        STOPPING.set()
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    Firewall.clean_all()
    results = []
    meta = {"command": args.command, "machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "first_seed": seed, "runs": args.runs}
    try:
        for i in range(args.runs):
            p = plan(seed + i, args.faults_per_run, only or None)
            if args.stock:
                p["stock"] = args.stock
            result = one(p, args, args.out)
            results.append(result)
            line = (f"run {i + 1}/{args.runs} seed {result['seed']}: {result['verdict']} in {result['seconds']} s — "
                    f"told {result.get('told', '?')}, {result.get('statuses', {})}")
            log(line)
            for v in result["violations"][:10]:
                log(f"    {v}")
            with open(os.path.join(args.out, "results.jsonl"), "a") as f:
                f.write(json.dumps(result) + "\n")
            meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
            chaos_report.write(args.out, meta, results)
    finally:
        Firewall.clean_all()
    print(open(os.path.join(args.out, "report.md")).read() if results else "no runs")
    if args.expect_violation:
        pattern = re.compile(args.expect_violation)
        missed = [r for r in results if not any(pattern.search(v) for v in r["violations"])]
        for r in missed:
            print(f"the checker MISSED the injected bug in the run of seed {r['seed']} (no violation matches "
                  f"{args.expect_violation!r})")
        if results and not missed:
            print(f"the checker caught it: every run has a violation matching {args.expect_violation!r}")
        return 1 if missed or not results else 0
    failed = [r for r in results if r["verdict"] != "PASS"]
    for r in failed:
        print(f"FAILED seed {r['seed']}: replay with scripts/chaos --seed {r['seed']} --runs 1"
              + (f" --faults-per-run {args.faults_per_run}" if args.faults_per_run else "")
              + (f" --only {args.only}" if args.only else ""))
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
