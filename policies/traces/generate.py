#!/usr/bin/env python3
"""Generates flash-sale-spike.jsonl, a synthetic 60-second flash-sale trace.

Deterministic (seeded RNG): running it again produces the same bytes.

    python3 policies/traces/generate.py > policies/traces/flash-sale-spike.jsonl

Timeline (t = seconds from the start of the trace):
  0-20 s   warm-up, 50 requests/s: browsing, a few shoppers join the waiting room early
  20-30 s  the deal opens: 3,000 requests/s from ~20,000 users on ~2,000 addresses
  30-60 s  sustained 500 requests/s while stock lasts
  19.5-35 s  four abusive addresses (bots) hammer the API on top of that
Two carrier-grade NAT addresses carry 100 shoppers each, so per-IP limits can be judged fairly.
A small share of traffic comes from partners (label tier: partner, header X-Api-Key).
"""
import json
import random
import sys

SEED = 20261125
rng = random.Random(SEED)

USERS = 20_000
ADDRESSES = 2_000
NAT_ADDRESSES = ["100.64.0.1", "100.64.0.2"]
NAT_USERS_EACH = 100
PARTNER_KEYS = ["pk-acme", "pk-globex", "pk-initech"]


def address_of(user: int) -> str:
    if user < len(NAT_ADDRESSES) * NAT_USERS_EACH:
        return NAT_ADDRESSES[user // NAT_USERS_EACH]
    a = (user * 7919) % ADDRESSES  # ~10 shoppers per home/office address
    return f"10.{a // 250}.{a % 250}.1"


def pick(weights):
    r = rng.random() * sum(w for _, w in weights)
    for value, w in weights:
        r -= w
        if r < 0:
            return value
    return weights[-1][0]


WARM_UP = [("deals", 20), ("deal", 35), ("product", 15), ("stock", 15), ("joinWaitingRoom", 10), ("order", 5)]
SPIKE = [("createOrder", 30), ("joinWaitingRoom", 30), ("stock", 20), ("deal", 12), ("admission", 5), ("order", 3)]
SUSTAINED = [("createOrder", 25), ("joinWaitingRoom", 15), ("stock", 25), ("deal", 20), ("order", 10), ("cancelOrder", 2), ("deals", 3)]
DEAL_OPS = {"deal", "product", "stock", "joinWaitingRoom", "createOrder", "admission", "cancelOrder"}
USER_OPS = {"order", "joinWaitingRoom", "createOrder", "admission", "cancelOrder"}


def shopper_request(t, mix, deal):
    op = pick(mix)
    request = {"t": round(t, 4), "op": op}
    if op in DEAL_OPS:
        request["deal"] = deal
    user = rng.randrange(USERS)
    # Browsing is often anonymous; anything about orders or the queue needs a signed-in user.
    if op in USER_OPS or rng.random() < 0.6:
        request["user"] = f"u-{user:05d}"
    request["ip"] = address_of(user)
    if rng.random() < 0.01:
        request["labels"] = {"tier": "partner"}
        request["headers"] = {"x-api-key": rng.choice(PARTNER_KEYS)}
    return request


def bot_requests(t0, t1):
    """(address, rate per second, operation, user chooser)."""
    bots = [
        ("203.0.113.10", 120, "createOrder", lambda: "bot-1"),                      # one account, hammering
        ("203.0.113.11", 120, "createOrder", lambda: f"bot-{rng.randrange(500):03d}"),  # account farm
        ("203.0.113.12", 80, "stock", lambda: None),                                # stock poller
        ("203.0.113.13", 60, "joinWaitingRoom", lambda: f"bot-q{rng.randrange(50):02d}"),
    ]
    out = []
    for ip, rate, op, user in bots:
        n = int((t1 - t0) * rate)
        for _ in range(n):
            request = {"t": round(rng.uniform(t0, t1), 4), "op": op, "deal": "deal-7"}
            u = user()
            if u:
                request["user"] = u
            request["ip"] = ip
            out.append(request)
    return out


def main():
    requests = []
    for second in range(60):
        if second < 20:
            rate, mix = 50, WARM_UP
        elif second < 30:
            rate, mix = 3000, SPIKE
        else:
            rate, mix = 500, SUSTAINED
        for _ in range(rate):
            deal = "deal-7" if second >= 20 or rng.random() < 0.8 else "deal-8"
            requests.append(shopper_request(second + rng.random(), mix, deal))
    requests += bot_requests(19.5, 35.0)
    requests.sort(key=lambda r: r["t"])
    out = sys.stdout
    for request in requests:
        out.write(json.dumps(request, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
