#!/usr/bin/env python3
"""Offline validation of Flash Deal's Kubernetes manifests (entry point: scripts/k8s-check).

No cluster is needed. For every overlay (k8s/overlays/*) and every combination listed in
k8s/combinations.txt (one per line: `<overlay> [component ...]`, `#` starts a comment) it:

1. renders the manifests with `kubectl kustomize` (a combination through a temporary
   k8s/.render/<overlay>-<component>...<.pid>/kustomization.yaml, removed afterwards);
2. validates every core-kind document against the Kubernetes 1.32 strict JSON schemas bundled
   with kubernetes-validate (the same schemas and rules as `kubernetes-validate -k 1.32 --strict`,
   called as a library so that every error of a document is printed; a kind it has no schema for
   is a failure, not the tool's WARN);
3. validates every custom-resource document (API group with a dot, not *.k8s.io) against the
   hand-written schema k8s/schemas/<group>/<kind lower-case>_<version>.json; a custom kind without
   a schema is a failure. The schemas may refer to core types (a Rollout's pod template, a
   Workflow task's container) through https://kubernetes.io/api/_definitions.json, which resolves
   to kubernetes-validate's 1.32 strict definitions, and to each other by $id. A subschema's
   "x-message" replaces jsonschema's wording for the errors that subschema itself raises (used
   for oneOf/anyOf/not rules, whose default messages say little);
4. runs the project assertions below over the rendered documents.

Before any of that it proves itself on fixtures (k8s/schemas/fixtures/): every good/*.yaml must
be accepted, every bad/*.yaml rejected by the schema layer with each message named on its
`# expect: <substring>` lines, every assert-bad/*.yaml (a tiny rendered output) rejected by the
assertion layer with the expected message, and every assert-good/*.yaml accepted by both layers.

Project assertions (one function each, `check_*` below):
- autoscaler targets: every ScaledObject and HPA scaleTargetRef names a Deployment, StatefulSet or
  Rollout of that kind (with the matching apiVersion) in the output; one autoscaler per workload; a
  Deployment that a Rollout takes over through workloadRef is not scaled itself; a Rollout's
  workloadRef names a rendered Deployment.
- selectors: every Service selector, PodDisruptionBudget selector and NetworkPolicy podSelector
  matches the pod-template labels of at least one workload (an empty NetworkPolicy podSelector, the
  default deny, is allowed; a podSelector on chaos-mesh.org/workflow must name a rendered Chaos
  Mesh Workflow with Task templates, whose pods Chaos Mesh labels so); a Service's named
  targetPort exists in the selected pods; a ServiceMonitor selects a Service that has its endpoint
  ports; a PodMonitor selects pods that have its ports; each workload's selector matches its own template labels; selectors of workloads,
  Services, PDBs and NetworkPolicies use only app.kubernetes.io/name (required in workload
  selectors) and app.kubernetes.io/instance (Chaos Mesh Task-pod selectors excepted).
- config references: every ConfigMap and Secret a workload refers to (volumes, projected volumes,
  envFrom, env valueFrom; Deployments, StatefulSets, DaemonSets, Jobs, CronJobs and Rollouts, a
  Rollout with workloadRef through its Deployment) is rendered — ConfigMap keys too — or, for a
  Secret, is in ALLOWED_EXTERNAL_SECRETS (created by the operator, never committed). No Secret
  with data or stringData may be rendered at all.
- pod hardening for every Deployment, StatefulSet, DaemonSet and Rollout with a template: each
  container has livenessProbe and readinessProbe (and startupProbe for the main container of the
  apps in STARTUP_PROBE_APPS), cpu and memory requests and a memory limit, runAsNonRoot,
  readOnlyRootFilesystem true, allowPrivilegeEscalation false, capabilities.drop ALL, not
  privileged, seccompProfile RuntimeDefault (pod or container level); init containers the same
  without probes; the pod sets automountServiceAccountToken: false; terminationGracePeriodSeconds
  (default 30) >= FLASHDEAL_DRAIN_MS/1000 + 5 whenever a container sets FLASHDEAL_DRAIN_MS (a literal
  value or a rendered ConfigMap's key), and likewise for http.drainMs of the gateway config file
  named by FLASHDEAL_GATEWAY_CONFIG when it is a key of a rendered, mounted ConfigMap and the
  container does not set FLASHDEAL_DRAIN_MS (the environment wins over the file).
- disruption budgets: each app in PDB_APPS is rendered and has a PDB selecting its pods, with
  maxUnavailable (not minAvailable) and unhealthyPodEvictionPolicy: AlwaysAllow.
- kafka triggers: maxReplicaCount (KEDA default 100) <= the partitions of the KafkaTopic whose
  spec.topicName (else metadata.name) is the trigger's topic; without such a KafkaTopic in the
  output, <= DEFAULT_TOPIC_PARTITIONS (a note says so). A trigger without a literal topic fails.
- cron pre-scale windows: see the conventions below.
- PrometheusRule: when the output has PrometheusRules, their groups (all of them, by name) equal
  the groups of prometheus/rules/*.yml, compared as parsed YAML.
- Argo: a Rollout's canary/stable/active/preview Services and its AnalysisTemplates exist, and the
  args an AnalysisTemplate needs are passed; Chaos Mesh Workflows name existing templates in entry,
  children and conditionalBranches, and chaos inside a Workflow uses the template's deadline, not
  a duration; every Chaos Mesh selector and target selector with labels (PodChaos, NetworkChaos,
  StressChaos, and the bodies inside Schedules and Workflows) matches the pods of a rendered
  workload in its namespaces, so that no experiment silently does nothing.
Once per run (not per rendering): every configMapGenerator `files:` entry under k8s/ whose
basename is a key of MIRROR_SOURCES equals that source (k8s/ copies of policies/*.yaml,
Gateway/gateway.yaml, prometheus/rules/*.yml, because kustomize cannot load files outside k8s/):
byte for byte.

Conventions (annotations on a ScaledObject that has cron triggers):
  flashdeal.io/sale-start: "HH:MM"  or  "<minute> <hour> <day-of-month> <month> <day-of-week>"
      The sale start(s), in the cron trigger's own timezone; several are separated by ";".
      "HH:MM" means: on the days the cron trigger fires. A cron form names the days as the
      trigger's fields do (e.g. "0 12 24 11 *"). Minute and hour must be single numbers, in the
      sale start and in the triggers' start/end. Every ScaledObject with a cron trigger has this
      annotation or the next one.
  flashdeal.io/sale-start.<trigger name>: "2026-12-24T11:00:00Z"
      One sale's start as an RFC 3339 instant, for the cron trigger of that name only (what
      `flashdeal autoscale prescale` writes, with the trigger it appends).
  flashdeal.io/pod-ready-seconds: "<seconds>"
      Optional: how long a new pod takes to become ready. Without it the checker uses the worst
      case of the target's main-container startupProbe (its readinessProbe if it has none):
      initialDelaySeconds + periodSeconds x failureThreshold (Kubernetes defaults 0, 10, 3). With
      it, a note is printed when it is below that worst case.
  Rule: every sale start lies inside some cron trigger's window [start, end) whose start is at
  least the pod-ready time before the sale, and every cron trigger's window contains a sale start.

Usage: scripts/k8s-check [--root DIR] [--schemas DIR] [--fixtures-only] [--keep-render]
Exit status 0 when everything passes, 1 with every problem listed otherwise, 2 on a usage error.
"""

import argparse
import collections
import datetime
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import zoneinfo

import jsonschema
import yaml
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

try:
    from kubernetes_validate import utils as kv_utils
except ImportError:  # pragma: no cover - reported by scripts/k8s-check
    sys.exit("k8s_check: kubernetes-validate is not installed (run scripts/setup)")

# --- Constants --------------------------------------------------------------------------------

KUBERNETES_VERSION = "1.32"
# Partitions assumed for a kafka trigger's topic when no KafkaTopic for it is rendered
# (the partition count is the most workers that consume in parallel).
DEFAULT_TOPIC_PARTITIONS = 24
# Secrets created by the operator out of band: referenced, never committed.
ALLOWED_EXTERNAL_SECRETS = {"flashdeal-secrets"}
# Apps (see app_name: pod label app.kubernetes.io/component, else app.kubernetes.io/name less the
# "flashdeal-" prefix, else the workload's name) that must be rendered in every overlay and
# combination, need a startupProbe on their main container (the container named like the app,
# else the first), and need a PDB.
STARTUP_PROBE_APPS = ("gateway", "order-worker")
PDB_APPS = ("gateway", "order-worker")
APP_NAME_PREFIX = "flashdeal-"
SELECTOR_KEYS = ("app.kubernetes.io/name", "app.kubernetes.io/instance")
REQUIRED_SELECTOR_KEY = "app.kubernetes.io/name"
DRAIN_ENV = "FLASHDEAL_DRAIN_MS"
CONFIG_FILE_ENV = "FLASHDEAL_GATEWAY_CONFIG"  # its http.drainMs counts when FLASHDEAL_DRAIN_MS is unset
DRAIN_MARGIN_SECONDS = 5
ANN_SALE_START = "flashdeal.io/sale-start"
ANN_POD_READY = "flashdeal.io/pod-ready-seconds"
PROMETHEUS_RULE_FILES = "prometheus/rules/*.yml"
# Basename of a configMapGenerator file under k8s/ -> (the file, from the repo root, it mirrors;
# None for a byte-for-byte copy, or the top-level keys the copy may set differently, the rest
# being compared as parsed YAML so comments may differ).
MIRROR_SOURCES = {
    "flash-sale.yaml": ("policies/flash-sale.yaml", None),
    "minimal.yaml": ("policies/minimal.yaml", None),
    # Byte for byte: in a pod the environment (FLASHDEAL_HTTP_HOST=0.0.0.0, FLASHDEAL_DRAIN_MS) wins
    # over the file's http block, as every variable wins over the file.
    "gateway.yaml": ("Gateway/gateway.yaml", None),
    "flashdeal-alerts.yml": ("prometheus/rules/flashdeal-alerts.yml", None),
    "flashdeal-recording.yml": ("prometheus/rules/flashdeal-recording.yml", None),
}
K8S_DEFINITIONS_ID = "https://kubernetes.io/api/_definitions.json"

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Rollout")
SCALABLE_API = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "Rollout": "argoproj.io/v1alpha1"}
# Labels Chaos Mesh puts on a Workflow's Task pods (pkg/workflow/controllers/task_reconciler.go):
# a NetworkPolicy may select those pods by them.
CHAOS_BODIES = ("podChaos", "networkChaos", "stressChaos")
CHAOS_TASK_POD_LABELS = ("chaos-mesh.org/workflow", "chaos-mesh.org/controlled-by")
PROBE_DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "failureThreshold": 3}


# --- YAML -------------------------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    """SafeLoader without timestamps (Kubernetes keeps 2024-11-24 a string) and with `=`."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def load_documents(text):
    return [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]


def expectations(path):
    with open(path) as f:
        return [m.group(1).strip() for m in re.finditer(r"^\s*#\s*expect:\s*(.+?)\s*$", f.read(), re.M)]


# --- Small helpers ----------------------------------------------------------------------------

def meta(doc):
    m = doc.get("metadata")
    return m if isinstance(m, dict) else {}


def name_of(doc):
    return meta(doc).get("name", "?")


def ns_of(doc):
    return meta(doc).get("namespace") or ""


def ident(doc):
    return "%s/%s" % (doc.get("kind", "?"), name_of(doc))


def dig(obj, *keys, default=None):
    for k in keys:
        if isinstance(obj, dict) and k in obj:
            obj = obj[k]
        elif isinstance(obj, list) and isinstance(k, int) and -len(obj) <= k < len(obj):
            obj = obj[k]
        else:
            return default
    return obj


def labels_match(selector_labels, labels):
    return all(labels.get(k) == v for k, v in (selector_labels or {}).items())


def label_selector_matches(selector, labels):
    """A metav1.LabelSelector (matchLabels + matchExpressions) against a label map."""
    selector = selector or {}
    if not labels_match(selector.get("matchLabels"), labels):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def selector_keys(selector):
    selector = selector or {}
    keys = list((selector.get("matchLabels") or {}).keys())
    keys += [e.get("key") for e in selector.get("matchExpressions") or []]
    return keys


def short(text, limit=400):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit // 2] + " … " + text[-limit // 2:]


def json_path(path):
    out = ""
    for p in path:
        out += "[%d]" % p if isinstance(p, int) else ("." if out else "") + str(p)
    return out or "(document)"


def first_difference(a, b, path=""):
    """The path of the first difference between two parsed YAML values, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a.keys()) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                return "%s.%s" % (path, k) if path else str(k)
            d = first_difference(a[k], b[k], "%s.%s" % (path, k) if path else str(k))
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None if len(a) == len(b) else "%s (length %d vs %d)" % (path, len(a), len(b))
    return None if a == b and type(a) is type(b) else (path or "(value)")


def compact_message(error):
    """jsonschema's message with a long instance (a whole object) shortened to {…} or […]."""
    if isinstance(error.schema, dict) and "x-message" in error.schema:
        return error.schema["x-message"]  # the schema's own wording for a oneOf/anyOf/not
    message, instance = error.message, repr(error.instance)
    if len(instance) > 60 and instance in message:
        message = message.replace(instance, "{…}" if isinstance(error.instance, dict) else "[…]" if isinstance(error.instance, list) else short(instance, 60))
    return message


# --- Schema layer -----------------------------------------------------------------------------

class Schemas:
    """Core kinds: kubernetes-validate's strict schemas. Custom kinds: k8s/schemas/<group>/<kind>_<version>.json."""

    def __init__(self, schema_dir, k8s_version=KUBERNETES_VERSION):
        self.schema_dir = schema_dir
        wanted = kv_utils.major_minor(k8s_version)
        versions = [v for v in kv_utils.all_versions() if kv_utils.major_minor(v) <= wanted]
        if not versions:
            raise SystemExit("k8s_check: kubernetes-validate has no schemas for Kubernetes %s" % k8s_version)
        self.kv_version = versions[-1]
        self.kv_dir = "kubernetes-json-schema/v%s-local-strict" % self.kv_version
        definitions = kv_utils.schema_contents("%s/_definitions.json" % self.kv_dir, k8s_version)
        resources = [(definitions.get("$id", K8S_DEFINITIONS_ID), Resource.from_contents(definitions))]
        self.custom = {}  # (group, version, kind lower) -> schema
        self.load_problems = []
        for path in sorted(glob.glob(os.path.join(schema_dir, "**", "*.json"), recursive=True)):
            rel = os.path.relpath(path, schema_dir)
            if rel.split(os.sep)[0] == "fixtures":
                continue
            try:
                with open(path) as f:
                    schema = json.load(f)
                jsonschema.Draft202012Validator.check_schema(schema)
            except (ValueError, jsonschema.SchemaError) as e:
                self.load_problems.append("schema %s: %s" % (rel, short(e, 300)))
                continue
            if "$id" not in schema:
                self.load_problems.append("schema %s has no $id" % rel)
                continue
            resources.append((schema["$id"], Resource.from_contents(schema)))
            parts = rel.split(os.sep)
            base = os.path.splitext(parts[-1])[0]
            if len(parts) == 2 and not base.startswith("_"):
                m = re.match(r"^([a-z0-9]+)_(v[0-9a-z]+)$", base)
                if not m:
                    self.load_problems.append("schema %s: name is not <kind>_<version>.json" % rel)
                    continue
                self.custom[(parts[0], m.group(2), m.group(1))] = schema
        self.registry = Registry().with_resources(resources)
        self._validators = {}

    @staticmethod
    def is_custom(api_version):
        group = api_version.split("/")[0] if "/" in api_version else ""
        return "." in group and not group.endswith(".k8s.io")

    def _validator(self, doc):
        api, kind = doc["apiVersion"], doc["kind"]
        key = (api, kind)
        if key in self._validators:
            return self._validators[key]
        if self.is_custom(api):
            group, version = api.split("/", 1)
            schema = self.custom.get((group, version, kind.lower()))
            if schema is None:
                result = "custom kind %s %s has no schema: write k8s/schemas/%s/%s_%s.json" % (
                    api, kind, group, kind.lower(), version)
            else:
                result = jsonschema.Draft202012Validator(schema, registry=self.registry)
        else:
            # kubernetes-validate's own file naming: rbac.authorization.k8s.io/v1 -> rbac-v1
            api_part = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api)
            try:
                schema = kv_utils.schema_contents("%s/%s-%s.json" % (self.kv_dir, kind.lower(), api_part),
                                                  KUBERNETES_VERSION)
                registry = self.registry.with_resource(schema.get("$id", ""), Resource.from_contents(schema))
                result = jsonschema.Draft202012Validator(schema, registry=registry)
            except FileNotFoundError:
                result = "kind %s %s is unknown to Kubernetes %s (kubernetes-validate %s has no schema for it)" % (
                    api, kind, KUBERNETES_VERSION, self.kv_version)
        self._validators[key] = result
        return result

    def validate(self, doc):
        """Every schema error of one document, as strings."""
        if not isinstance(doc, dict):
            return ["a document is not a mapping: %s" % short(doc, 100)]
        missing = [f for f in ("apiVersion", "kind") if not isinstance(doc.get(f), str)]
        if missing or not isinstance(meta(doc).get("name"), str):
            return ["%s: a document without %s" % (ident(doc), ", ".join(missing + ["metadata.name"]))]
        validator = self._validator(doc)
        if isinstance(validator, str):
            return ["%s: %s" % (ident(doc), validator)]
        problems = []
        for e in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
            message = compact_message(e)
            if e.context and "x-message" not in e.schema:
                message += " (%s)" % compact_message(best_match(e.context))
            line = "%s: %s: %s" % (ident(doc), json_path(e.absolute_path), short(message))
            if line not in problems:
                problems.append(line)
        return problems


# --- Project assertions -----------------------------------------------------------------------

class Ctx:
    """One rendered output: its documents, indexes, and the notes the checks leave."""

    def __init__(self, docs, root):
        self.docs = [d for d in docs if isinstance(d, dict)]
        self.root = root
        self.notes = []
        self.index = {}
        for d in self.docs:
            self.index[(ns_of(d), d.get("kind"), name_of(d))] = d

    def of(self, *kinds):
        return [d for d in self.docs if d.get("kind") in kinds]

    def get(self, ns, kind, name):
        return self.index.get((ns, kind, name))

    def template(self, workload):
        """The pod template of a workload; a Rollout with workloadRef takes its Deployment's."""
        spec = workload.get("spec") or {}
        if workload.get("kind") == "Rollout" and spec.get("workloadRef"):
            ref = spec["workloadRef"]
            target = self.get(ns_of(workload), ref.get("kind", "Deployment"), ref.get("name"))
            return dig(target, "spec", "template")
        if workload.get("kind") == "CronJob":
            return dig(spec, "jobTemplate", "spec", "template")
        return spec.get("template")

    def workloads(self):
        """(workload, pod template) for Deployments, StatefulSets, DaemonSets and Rollouts."""
        out = []
        for w in self.of(*WORKLOAD_KINDS):
            t = self.template(w)
            if isinstance(t, dict):
                out.append((w, t))
        return out

    def pod_labels(self, template):
        return dig(template, "metadata", "labels", default={}) or {}


def app_name(workload, template):
    """Which app a workload runs: its pod label app.kubernetes.io/component, else
    app.kubernetes.io/name without the "flashdeal-" prefix, else the workload's name."""
    labels = dig(template, "metadata", "labels", default={}) or {}
    own = meta(workload).get("labels") or {}
    for key in ("app.kubernetes.io/component", "app.kubernetes.io/name"):
        value = labels.get(key) or own.get(key)
        if value:
            value = value[len(APP_NAME_PREFIX):] if value.startswith(APP_NAME_PREFIX) else value
            if key == "app.kubernetes.io/name" or value in STARTUP_PROBE_APPS + PDB_APPS:
                return value
    return name_of(workload)


def main_container(template, app):
    containers = dig(template, "spec", "containers", default=[]) or []
    for c in containers:
        if c.get("name") == app:
            return c
    return containers[0] if containers else None


def check_scale_targets(ctx):
    targeted = collections.defaultdict(list)
    for auto in ctx.of("ScaledObject", "HorizontalPodAutoscaler"):
        ref = dig(auto, "spec", "scaleTargetRef", default={}) or {}
        if auto["kind"] == "ScaledObject":
            kind, api = ref.get("kind", "Deployment"), ref.get("apiVersion", "apps/v1")
        else:
            kind, api = ref.get("kind"), ref.get("apiVersion")
        name = ref.get("name")
        if kind not in SCALABLE_API:
            yield "%s: scaleTargetRef kind %s; expected one of %s" % (ident(auto), kind, ", ".join(SCALABLE_API))
            continue
        if api != SCALABLE_API[kind]:
            yield "%s: scaleTargetRef %s %s has apiVersion %s; a %s is %s" % (
                ident(auto), kind, name, api, kind, SCALABLE_API[kind])
        if ctx.get(ns_of(auto), kind, name) is None:
            present = sorted(ident(w) for w in ctx.of(*SCALABLE_API))
            yield "%s: scaleTargetRef names %s/%s, which is not in the output (workloads: %s)" % (
                ident(auto), kind, name, ", ".join(present) or "none")
        targeted[(ns_of(auto), kind, name)].append(ident(auto))
    for (ns, kind, name), autos in sorted(targeted.items()):
        if len(autos) > 1:
            yield "%s/%s is scaled by %d autoscalers (%s); they would fight over its replicas" % (
                kind, name, len(autos), ", ".join(autos))
    for ro in ctx.of("Rollout"):
        ref = dig(ro, "spec", "workloadRef")
        if not ref:
            continue
        if ctx.get(ns_of(ro), ref.get("kind", "Deployment"), ref.get("name")) is None:
            yield "%s: workloadRef names %s/%s, which is not in the output" % (
                ident(ro), ref.get("kind", "Deployment"), ref.get("name"))
        elif (ns_of(ro), "Deployment", ref.get("name")) in targeted:
            yield "%s: Deployment/%s is taken over by this Rollout (workloadRef) but %s scales the Deployment; scale the Rollout instead" % (
                ident(ro), ref.get("name"), ", ".join(targeted[(ns_of(ro), "Deployment", ref.get("name"))]))


def chaos_task_pods(ctx):
    """(namespace, labels, workflow, pod template) for the Task pods of each Chaos Mesh Workflow."""
    for wf in ctx.of("Workflow"):
        if str(wf.get("apiVersion", "")).startswith("chaos-mesh.org/"):
            for t in dig(wf, "spec", "templates", default=[]) or []:
                if t.get("templateType") == "Task" and dig(t, "task", "container"):
                    labels = {CHAOS_TASK_POD_LABELS[0]: name_of(wf), CHAOS_TASK_POD_LABELS[1]: "?"}
                    yield ns_of(wf), labels, wf, {"metadata": {"labels": labels}, "spec": {"containers": [t["task"]["container"]]}}


def check_selectors_match(ctx):
    pods = [(ns_of(w), ctx.pod_labels(t), w, t) for w, t in ctx.workloads()]
    task_pods = list(chaos_task_pods(ctx))

    def matching(ns, pred):
        return [(w, t) for pns, labels, w, t in pods if pns == ns and pred(labels)]

    for svc in ctx.of("Service"):
        sel = dig(svc, "spec", "selector")
        if not sel or dig(svc, "spec", "type") == "ExternalName":
            continue
        hits = matching(ns_of(svc), lambda labels: labels_match(sel, labels))
        if not hits:
            yield "%s: selector %s matches no workload's pod labels" % (ident(svc), json.dumps(sel, sort_keys=True))
            continue
        for port in dig(svc, "spec", "ports", default=[]) or []:
            tp = port.get("targetPort")
            if isinstance(tp, str):
                names = {p.get("name") for _, t in hits for c in dig(t, "spec", "containers", default=[]) or []
                         for p in c.get("ports") or []}
                if tp not in names:
                    yield "%s: port %s targets the named port %r, which no selected pod declares (%s)" % (
                        ident(svc), port.get("name", port.get("port")), tp, ", ".join(sorted(ident(w) for w, _ in hits)))
    for pdb in ctx.of("PodDisruptionBudget"):
        sel = dig(pdb, "spec", "selector")
        if not sel or not (sel.get("matchLabels") or sel.get("matchExpressions")):
            yield "%s: empty selector: the budget would cover every pod of the namespace" % ident(pdb)
        elif not matching(ns_of(pdb), lambda labels: label_selector_matches(sel, labels)):
            yield "%s: selector %s matches no workload's pod labels" % (ident(pdb), json.dumps(sel, sort_keys=True))
    for np in ctx.of("NetworkPolicy"):
        sel = dig(np, "spec", "podSelector") or {}
        if not (sel.get("matchLabels") or sel.get("matchExpressions")):
            continue  # the default deny (or allow) for every pod of the namespace
        if set(selector_keys(sel)) <= set(CHAOS_TASK_POD_LABELS):
            # Chaos Mesh Task pods: their chaos-mesh.org/controlled-by value is the workflow node's
            # generated name, so only chaos-mesh.org/workflow can be compared.
            sel_wf = {k: v for k, v in (sel.get("matchLabels") or {}).items() if k == CHAOS_TASK_POD_LABELS[0]}
            if not [1 for pns, labels, _, _ in task_pods if pns == ns_of(np) and labels_match(sel_wf, labels)]:
                yield "%s: podSelector %s matches the Task pods of no rendered Chaos Mesh Workflow" % (
                    ident(np), json.dumps(sel, sort_keys=True))
        elif not matching(ns_of(np), lambda labels: label_selector_matches(sel, labels)):
            yield "%s: podSelector %s matches no workload's pod labels" % (ident(np), json.dumps(sel, sort_keys=True))
    for sm in ctx.of("ServiceMonitor"):
        sel = dig(sm, "spec", "selector") or {}
        nsel = dig(sm, "spec", "namespaceSelector") or {}
        namespaces = None if nsel.get("any") else set(nsel.get("matchNames") or [ns_of(sm)])
        services = [s for s in ctx.of("Service")
                    if (namespaces is None or ns_of(s) in namespaces)
                    and label_selector_matches(sel, meta(s).get("labels") or {})]
        if not services:
            yield "%s: selector %s matches no Service's labels" % (ident(sm), json.dumps(sel, sort_keys=True))
            continue
        port_names = {p.get("name") for s in services for p in dig(s, "spec", "ports", default=[]) or []}
        for ep in dig(sm, "spec", "endpoints", default=[]) or []:
            if ep.get("port") and ep["port"] not in port_names:
                yield "%s: endpoint port %r is not a port name of the selected Services (%s)" % (
                    ident(sm), ep["port"], ", ".join(sorted(ident(s) for s in services)))
    for pm in ctx.of("PodMonitor"):
        sel = dig(pm, "spec", "selector") or {}
        nsel = dig(pm, "spec", "namespaceSelector") or {}
        namespaces = None if nsel.get("any") else set(nsel.get("matchNames") or [ns_of(pm)])
        hits = [(w, t) for pns, labels, w, t in pods
                if (namespaces is None or pns in namespaces) and label_selector_matches(sel, labels)]
        if not hits:
            yield "%s: selector %s matches no workload's pod labels" % (ident(pm), json.dumps(sel, sort_keys=True))
            continue
        names = {p.get("name") for _, t in hits for c in dig(t, "spec", "containers", default=[]) or []
                 for p in c.get("ports") or []}
        for ep in dig(pm, "spec", "podMetricsEndpoints", default=[]) or []:
            if ep.get("port") and ep["port"] not in names:
                yield "%s: podMetricsEndpoints port %r is not a container port name of the selected pods" % (
                    ident(pm), ep["port"])


def check_selector_keys(ctx):
    def bad_keys(keys):
        return sorted(set(k for k in keys if k not in SELECTOR_KEYS))

    for w in ctx.of(*WORKLOAD_KINDS):
        sel = dig(w, "spec", "selector")
        if sel is None:
            if w["kind"] != "Rollout" or not dig(w, "spec", "workloadRef"):
                yield "%s: no spec.selector" % ident(w)
            continue
        keys = selector_keys(sel)
        if bad_keys(keys):
            yield "%s: selector uses %s; selectors use only %s" % (ident(w), ", ".join(bad_keys(keys)), " and ".join(SELECTOR_KEYS))
        if REQUIRED_SELECTOR_KEY not in keys:
            yield "%s: selector lacks %s" % (ident(w), REQUIRED_SELECTOR_KEY)
        template = dig(w, "spec", "template")
        if isinstance(template, dict) and not label_selector_matches(sel, ctx.pod_labels(template)):
            yield "%s: selector %s does not match its own pod template labels %s" % (
                ident(w), json.dumps(sel, sort_keys=True), json.dumps(ctx.pod_labels(template), sort_keys=True))
    for svc in ctx.of("Service"):
        keys = list((dig(svc, "spec", "selector") or {}).keys())
        if bad_keys(keys):
            yield "%s: selector uses %s; selectors use only %s" % (ident(svc), ", ".join(bad_keys(keys)), " and ".join(SELECTOR_KEYS))
    for pdb in ctx.of("PodDisruptionBudget"):
        keys = selector_keys(dig(pdb, "spec", "selector"))
        if bad_keys(keys):
            yield "%s: selector uses %s; selectors use only %s" % (ident(pdb), ", ".join(bad_keys(keys)), " and ".join(SELECTOR_KEYS))
    for np in ctx.of("NetworkPolicy"):
        keys = selector_keys(dig(np, "spec", "podSelector"))
        if keys and set(keys) <= set(CHAOS_TASK_POD_LABELS):
            continue  # selects Chaos Mesh's Task pods, which carry only Chaos Mesh's labels
        if bad_keys(keys):
            yield "%s: podSelector uses %s; selectors use only %s" % (ident(np), ", ".join(bad_keys(keys)), " and ".join(SELECTOR_KEYS))


def config_refs(pod_spec):
    """(kind, name, key or None, optional, where) for every ConfigMap/Secret a pod spec refers to."""
    for v in pod_spec.get("volumes") or []:
        if "configMap" in v:
            cm = v["configMap"] or {}
            keys = [i.get("key") for i in cm.get("items") or []] or [None]
            for k in keys:
                yield "ConfigMap", cm.get("name"), k, cm.get("optional", False), "volume %s" % v.get("name")
        if "secret" in v:
            s = v["secret"] or {}
            yield "Secret", s.get("secretName"), None, s.get("optional", False), "volume %s" % v.get("name")
        for src in dig(v, "projected", "sources", default=[]) or []:
            if "configMap" in src:
                cm = src["configMap"] or {}
                keys = [i.get("key") for i in cm.get("items") or []] or [None]
                for k in keys:
                    yield "ConfigMap", cm.get("name"), k, cm.get("optional", False), "projected volume %s" % v.get("name")
            if "secret" in src:
                s = src["secret"] or {}
                yield "Secret", s.get("name"), None, s.get("optional", False), "projected volume %s" % v.get("name")
    for group in ("initContainers", "containers", "ephemeralContainers"):
        for c in pod_spec.get(group) or []:
            where = "container %s" % c.get("name")
            for ef in c.get("envFrom") or []:
                if "configMapRef" in ef:
                    r = ef["configMapRef"] or {}
                    yield "ConfigMap", r.get("name"), None, r.get("optional", False), where + " envFrom"
                if "secretRef" in ef:
                    r = ef["secretRef"] or {}
                    yield "Secret", r.get("name"), None, r.get("optional", False), where + " envFrom"
            for e in c.get("env") or []:
                vf = e.get("valueFrom") or {}
                if "configMapKeyRef" in vf:
                    r = vf["configMapKeyRef"] or {}
                    yield "ConfigMap", r.get("name"), r.get("key"), r.get("optional", False), where + " env " + str(e.get("name"))
                if "secretKeyRef" in vf:
                    r = vf["secretKeyRef"] or {}
                    yield "Secret", r.get("name"), None, r.get("optional", False), where + " env " + str(e.get("name"))


def check_config_refs(ctx):
    for s in ctx.of("Secret"):
        if s.get("data") or s.get("stringData"):
            yield "%s: a Secret with data/stringData is rendered; secrets are created by the operator, never committed" % ident(s)
    for w in ctx.of("Deployment", "StatefulSet", "DaemonSet", "Rollout", "Job", "CronJob"):
        if w["kind"] == "Rollout" and dig(w, "spec", "workloadRef"):
            continue  # its template is the Deployment's, checked there
        pod_spec = dig(ctx.template(w), "spec") or {}
        for kind, name, key, optional, where in config_refs(pod_spec):
            if optional:
                continue
            obj = ctx.get(ns_of(w), kind, name)
            if obj is None:
                if kind == "Secret" and name in ALLOWED_EXTERNAL_SECRETS:
                    continue
                hint = " (nor in ALLOWED_EXTERNAL_SECRETS)" if kind == "Secret" else ""
                yield "%s: %s refers to %s %s, which is not in the output%s" % (ident(w), where, kind, name, hint)
            elif kind == "ConfigMap" and key is not None:
                if key not in (obj.get("data") or {}) and key not in (obj.get("binaryData") or {}):
                    yield "%s: %s refers to key %r of ConfigMap/%s, which has keys %s" % (
                        ident(w), where, key, name, ", ".join(sorted((obj.get("data") or {}).keys())) or "none")


def drain_ms(ctx, workload, pod_spec):
    """FLASHDEAL_DRAIN_MS as set for any container (literal, configMapKeyRef, or envFrom configMap)."""
    found = []
    for c in pod_spec.get("containers") or []:
        for ef in c.get("envFrom") or []:
            cm = ctx.get(ns_of(workload), "ConfigMap", dig(ef, "configMapRef", "name"))
            if cm and DRAIN_ENV in (cm.get("data") or {}):
                found.append((c.get("name"), cm["data"][DRAIN_ENV], "%s (envFrom ConfigMap %s)" % (DRAIN_ENV, name_of(cm))))
        for e in c.get("env") or []:
            if e.get("name") != DRAIN_ENV:
                continue
            if "value" in e:
                found.append((c.get("name"), e["value"], DRAIN_ENV))
            ref = dig(e, "valueFrom", "configMapKeyRef")
            if ref:
                cm = ctx.get(ns_of(workload), "ConfigMap", ref.get("name"))
                if cm and ref.get("key") in (cm.get("data") or {}):
                    found.append((c.get("name"), cm["data"][ref["key"]], "%s (ConfigMap %s)" % (DRAIN_ENV, name_of(cm))))
        config_path = next((e.get("value") for e in c.get("env") or [] if e.get("name") == CONFIG_FILE_ENV), None)
        # The environment wins over the file: its http.drainMs counts only when the variable is unset.
        if config_path and not any(name == c.get("name") for name, _, _ in found):
            value = config_file_drain(ctx, workload, pod_spec, c, config_path)
            if value is not None:
                found.append((c.get("name"), value, "http.drainMs of %s (%s)" % (config_path, CONFIG_FILE_ENV)))
    return found


def config_file_drain(ctx, workload, pod_spec, container, path):
    """http.drainMs of the gateway config file named by FLASHDEAL_GATEWAY_CONFIG, when that file is
    a key of a rendered ConfigMap mounted in the container (used when FLASHDEAL_DRAIN_MS is unset)."""
    for mount in container.get("volumeMounts") or []:
        mount_path = (mount.get("mountPath") or "").rstrip("/")
        if not path.startswith(mount_path + "/"):
            continue
        key = mount.get("subPath") or path[len(mount_path) + 1:]
        volume = next((v for v in pod_spec.get("volumes") or [] if v.get("name") == mount.get("name")), {})
        cm = ctx.get(ns_of(workload), "ConfigMap", dig(volume, "configMap", "name"))
        text = dig(cm, "data", key)
        if isinstance(text, str):
            try:
                return dig(yaml.load(text, Loader=_Loader), "http", "drainMs")
            except yaml.YAMLError:
                return None
    return None


def check_pod_hardening(ctx):
    for w in ctx.of("Deployment", "StatefulSet", "DaemonSet", "Rollout"):
        if w["kind"] == "Rollout" and dig(w, "spec", "workloadRef"):
            continue  # its Deployment is checked
        template = dig(w, "spec", "template")
        if not isinstance(template, dict):
            continue
        spec = template.get("spec") or {}
        app = app_name(w, template)
        pod_sc = spec.get("securityContext") or {}
        if spec.get("automountServiceAccountToken") is not False:
            yield "%s: pod spec must set automountServiceAccountToken: false" % ident(w)
        groups = [("container", c, True) for c in spec.get("containers") or []]
        groups += [("init container", c, False) for c in spec.get("initContainers") or []]
        for label, c, probes in groups:
            where = "%s: %s %s" % (ident(w), label, c.get("name"))
            missing = []
            if probes:
                missing += [p for p in ("livenessProbe", "readinessProbe") if not c.get(p)]
            res = c.get("resources") or {}
            missing += ["resources.requests.%s" % r for r in ("cpu", "memory") if not dig(res, "requests", r)]
            if not dig(res, "limits", "memory"):
                missing.append("resources.limits.memory")
            if missing:
                yield "%s lacks %s" % (where, ", ".join(missing))
            sc = c.get("securityContext") or {}
            bad = []
            if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
                bad.append("runAsNonRoot: true")
            if sc.get("readOnlyRootFilesystem") is not True:
                bad.append("readOnlyRootFilesystem: true")
            if sc.get("allowPrivilegeEscalation") is not False:
                bad.append("allowPrivilegeEscalation: false")
            if "ALL" not in (dig(sc, "capabilities", "drop") or []):
                bad.append("capabilities.drop: [ALL]")
            if sc.get("privileged") is True:
                bad.append("privileged: false")
            seccomp = sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}
            if seccomp.get("type") != "RuntimeDefault":
                bad.append("seccompProfile.type: RuntimeDefault (pod or container)")
            if bad:
                yield "%s: securityContext must set %s" % (where, ", ".join(bad))
        if app in STARTUP_PROBE_APPS:
            c = main_container(template, app)
            if c is not None and not c.get("startupProbe"):
                yield "%s: container %s (main container of %s) lacks startupProbe" % (ident(w), c.get("name"), app)
        grace = spec.get("terminationGracePeriodSeconds", 30)
        for container, value, source in drain_ms(ctx, w, spec):
            try:
                ms = int(str(value))
            except ValueError:
                yield "%s: container %s: %s is %r, not a number of milliseconds" % (ident(w), container, source, value)
                continue
            need = ms / 1000 + DRAIN_MARGIN_SECONDS
            if grace < need:
                yield "%s: terminationGracePeriodSeconds %s < %s/1000 + %d = %g (container %s: %s = %s)" % (
                    ident(w), grace, DRAIN_ENV, DRAIN_MARGIN_SECONDS, need, container, source, value)


def check_pdbs(ctx):
    for app in PDB_APPS:
        pods = [(w, t) for w, t in ctx.workloads() if app_name(w, t) == app]
        if not pods:
            yield "no workload of app %s (pod label app.kubernetes.io/component, or app.kubernetes.io/name less \"%s\") is rendered" % (app, APP_NAME_PREFIX)
            continue
        for w, t in pods:
            if w["kind"] == "Deployment" and any(
                    dig(r, "spec", "workloadRef", "name") == name_of(w) and ns_of(r) == ns_of(w) for r in ctx.of("Rollout")):
                continue  # the Rollout that takes it over is checked
            labels = ctx.pod_labels(t)
            pdbs = [p for p in ctx.of("PodDisruptionBudget")
                    if ns_of(p) == ns_of(w) and dig(p, "spec", "selector")
                    and (dig(p, "spec", "selector", "matchLabels") or dig(p, "spec", "selector", "matchExpressions"))
                    and label_selector_matches(dig(p, "spec", "selector"), labels)]
            if not pdbs:
                yield "%s (%s): no PodDisruptionBudget selects its pods" % (ident(w), app)
            for p in pdbs:
                spec = p.get("spec") or {}
                if "maxUnavailable" not in spec or "minAvailable" in spec:
                    yield "%s (for %s): use maxUnavailable, not minAvailable" % (ident(p), app)
                if spec.get("unhealthyPodEvictionPolicy") != "AlwaysAllow":
                    yield "%s (for %s): unhealthyPodEvictionPolicy must be AlwaysAllow" % (ident(p), app)


def check_kafka_partitions(ctx):
    topics = {}
    for kt in ctx.of("KafkaTopic"):
        topics[dig(kt, "spec", "topicName") or name_of(kt)] = (dig(kt, "spec", "partitions"), ident(kt))
    for so in ctx.of("ScaledObject"):
        max_replicas = dig(so, "spec", "maxReplicaCount", default=100)
        for i, trig in enumerate(dig(so, "spec", "triggers", default=[]) or []):
            if trig.get("type") != "kafka":
                continue
            topic = dig(trig, "metadata", "topic")
            if not isinstance(topic, str) or not topic:
                yield "%s: kafka trigger %s has no literal metadata.topic; set it (without it KEDA counts every topic the group committed to) so the partition cap can be checked" % (
                    ident(so), trig.get("name", "#%d" % i))
                continue
            if topic in topics and isinstance(topics[topic][0], int):
                partitions, source = topics[topic]
            else:
                partitions, source = DEFAULT_TOPIC_PARTITIONS, "DEFAULT_TOPIC_PARTITIONS in scripts/k8s_check.py"
                ctx.notes.append("%s: no KafkaTopic for topic %s is rendered; maxReplicaCount compared with the default of %d partitions" % (
                    ident(so), topic, DEFAULT_TOPIC_PARTITIONS))
            if max_replicas > partitions:
                yield "%s: maxReplicaCount %d > %d partitions of topic %s (%s): replicas past the partition count sit idle (KEDA caps the kafka scaler's replicas at the partition count)" % (
                    ident(so), max_replicas, partitions, topic, source)


def parse_sale_time(text):
    """'HH:MM' -> (None, minutes); '<m> <h> <dom> <mon> <dow>' -> ((dom, mon, dow), minutes)."""
    text = text.strip()
    m = re.match(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$", text)
    if m:
        return None, int(m.group(1)) * 60 + int(m.group(2))
    return parse_cron_time(text)


def parse_sale_instant(text, timezone):
    """An RFC 3339 instant (`flashdeal autoscale prescale` writes them), as (days, minute-of-day) in
    the trigger's timezone."""
    try:
        instant = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("%r is not an RFC 3339 instant such as 2026-12-24T11:00:00Z" % text)
    if instant.tzinfo is None:
        raise ValueError("%r has no UTC offset" % text)
    try:
        local = instant.astimezone(zoneinfo.ZoneInfo(timezone or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("the trigger's timezone %r is not an IANA time zone" % timezone)
    return (str(local.day), str(local.month), "*"), local.hour * 60 + local.minute


def parse_cron_time(text):
    fields = str(text).split()
    if len(fields) != 5:
        raise ValueError("%r is neither HH:MM nor a 5-field cron expression" % text)
    if not (fields[0].isdigit() and fields[1].isdigit() and int(fields[0]) < 60 and int(fields[1]) < 24):
        raise ValueError("%r: minute and hour must be single numbers to be checked" % text)
    return (fields[2], fields[3], fields[4]), int(fields[1]) * 60 + int(fields[0])


def minutes_after(start, later):
    """Minutes from the time `start` to the next time `later`, each (days, minute-of-day) where days
    is (day-of-month, month, day-of-week) or None ("on the days of `start`")."""
    (sdays, smin), (ldays, lmin) = start, later
    daily = ("*", "*", "*")
    if ldays is None or ldays == sdays or sdays == daily:
        d = lmin - smin
        if d < 0 and (ldays is None or sdays == daily):
            d += 1440  # the next day
        return d
    if all(x.isdigit() for x in (sdays[0], sdays[1], ldays[0], ldays[1])) and sdays[2] == ldays[2] == "*":
        s = datetime.datetime(2001, int(sdays[1]), int(sdays[0])) + datetime.timedelta(minutes=smin)
        l = datetime.datetime(2001, int(ldays[1]), int(ldays[0])) + datetime.timedelta(minutes=lmin)
        if l < s:
            l = l.replace(year=2002)
        return int((l - s).total_seconds() // 60)
    raise ValueError("cannot relate the days of %s and %s" % (" ".join(sdays), " ".join(ldays)))


def pod_ready_seconds(ctx, so):
    ann = meta(so).get("annotations") or {}
    if ANN_POD_READY in ann:
        try:
            seconds = int(str(ann[ANN_POD_READY]))
        except ValueError:
            raise ValueError("annotation %s=%r is not a number of seconds" % (ANN_POD_READY, ann[ANN_POD_READY]))
        try:
            probe_seconds, probe_source = probe_ready_seconds(ctx, so)
            if probe_seconds > seconds:
                ctx.notes.append("%s: %s=%d is below the %s worst case %d s" % (
                    ident(so), ANN_POD_READY, seconds, probe_source, probe_seconds))
        except ValueError:
            pass
        return seconds, "annotation %s" % ANN_POD_READY
    return probe_ready_seconds(ctx, so)


def probe_ready_seconds(ctx, so):
    ref = dig(so, "spec", "scaleTargetRef", default={}) or {}
    target = ctx.get(ns_of(so), ref.get("kind", "Deployment"), ref.get("name"))
    if target is None:
        raise ValueError("its scaleTargetRef is not rendered")
    template = ctx.template(target)
    c = main_container(template, app_name(target, template or {})) if template else None
    probe_name = "startupProbe" if c and c.get("startupProbe") else "readinessProbe"
    probe = (c or {}).get(probe_name)
    if not probe:
        raise ValueError("the main container of %s has no startupProbe nor readinessProbe; set %s" % (ident(target), ANN_POD_READY))
    p = {k: probe.get(k, v) for k, v in PROBE_DEFAULTS.items()}
    seconds = p["initialDelaySeconds"] + p["periodSeconds"] * p["failureThreshold"]
    return seconds, "%s of %s container %s: %d + %d x %d" % (
        probe_name, ident(target), c.get("name"), p["initialDelaySeconds"], p["periodSeconds"], p["failureThreshold"])


def check_cron_windows(ctx):
    for so in ctx.of("ScaledObject"):
        crons = [(i, t) for i, t in enumerate(dig(so, "spec", "triggers", default=[]) or []) if t.get("type") == "cron"]
        if not crons:
            continue
        ann = meta(so).get("annotations") or {}
        named = {k[len(ANN_SALE_START) + 1:]: v for k, v in ann.items() if k.startswith(ANN_SALE_START + ".")}
        if ANN_SALE_START not in ann and not named:
            yield "%s: has cron triggers but no annotation %s (\"HH:MM\" or a cron expression, in the trigger's timezone) nor %s.<trigger name>" % (
                ident(so), ANN_SALE_START, ANN_SALE_START)
            continue
        # (text, sale, the one trigger it belongs to or None for any)
        sales = []
        try:
            sales = [(s.strip(), parse_sale_time(s), None)
                     for s in str(ann.get(ANN_SALE_START, "")).split(";") if s.strip()]
        except ValueError as e:
            yield "%s: annotation %s: %s" % (ident(so), ANN_SALE_START, e)
            continue
        bad = False
        for trigger_name, text in sorted(named.items()):
            trig = next((t for _, t in crons if t.get("name") == trigger_name), None)
            if trig is None:
                yield "%s: annotation %s.%s names no cron trigger" % (ident(so), ANN_SALE_START, trigger_name)
                bad = True
                continue
            try:
                sales.append((text, parse_sale_instant(text, (trig.get("metadata") or {}).get("timezone")), trigger_name))
            except ValueError as e:
                yield "%s: annotation %s.%s: %s" % (ident(so), ANN_SALE_START, trigger_name, e)
                bad = True
        if bad:
            continue
        try:
            ready, ready_source = pod_ready_seconds(ctx, so)
        except ValueError as e:
            yield "%s: cannot compute the pod-ready time: %s" % (ident(so), e)
            continue
        windows = []
        for i, trig in crons:
            md = trig.get("metadata") or {}
            label = "cron trigger %s (%s–%s %s)" % (trig.get("name", "#%d" % i), md.get("start"), md.get("end"), md.get("timezone"))
            try:
                start, end = parse_cron_time(md.get("start")), parse_cron_time(md.get("end"))
                length = minutes_after(start, end)
            except (ValueError, TypeError) as e:
                yield "%s: %s: %s" % (ident(so), label, e)
                continue
            if length <= 0:
                yield "%s: %s: the window ends before it starts" % (ident(so), label)
                continue
            windows.append((label, trig.get("name"), start, length))
        covered_windows = set()
        for text, sale, only in sales:
            ok, reasons = False, []
            for label, name, start, length in windows:
                if only is not None and name != only:
                    continue
                try:
                    lead = minutes_after(start, sale)
                except ValueError as e:
                    reasons.append("%s: %s" % (label, e))
                    continue
                if not 0 <= lead < length:
                    reasons.append("%s does not contain it" % label)
                    continue
                covered_windows.add(label)
                if lead * 60 >= ready:
                    ok = True
                else:
                    reasons.append("%s opens %d min before it, less than the pod-ready time %d s (%s)" % (
                        label, lead, ready, ready_source))
            if not ok:
                yield "%s: sale start %r is not preceded by a cron window opening at least %d s before it: %s" % (
                    ident(so), text, ready, "; ".join(reasons) or "no usable cron trigger")
        for label, _, _, _ in windows:
            if label not in covered_windows:
                yield "%s: %s contains no sale start of %s" % (
                    ident(so), label, "; ".join("%s" % t for t, _, _ in sales) or "its annotations")


def check_prometheus_rules(ctx):
    rules = ctx.of("PrometheusRule")
    if not rules:
        return
    rendered = collections.OrderedDict()
    for pr in rules:
        for g in dig(pr, "spec", "groups", default=[]) or []:
            if g.get("name") in rendered:
                yield "%s: rule group %s is rendered twice" % (ident(pr), g.get("name"))
            rendered[g.get("name")] = (g, ident(pr))
    source = collections.OrderedDict()
    files = sorted(glob.glob(os.path.join(ctx.root, PROMETHEUS_RULE_FILES)))
    for path in files:
        with open(path) as f:
            for g in (yaml.load(f, Loader=_Loader) or {}).get("groups") or []:
                source[g.get("name")] = (g, os.path.relpath(path, ctx.root))
    for name, (g, where) in source.items():
        if name not in rendered:
            yield "PrometheusRule: group %s of %s is not rendered" % (name, where)
        else:
            diff = first_difference(rendered[name][0], g)
            if diff:
                yield "%s: group %s differs from %s at %s" % (rendered[name][1], name, where, diff)
    for name, (g, who) in rendered.items():
        if name not in source:
            yield "%s: group %s is in no file of %s" % (who, name, PROMETHEUS_RULE_FILES)


def check_argo_references(ctx):
    templates = {(ns_of(t), name_of(t)): t for t in ctx.of("AnalysisTemplate")}
    for ro in ctx.of("Rollout"):
        strategy = dig(ro, "spec", "strategy", default={}) or {}
        canary, blue = strategy.get("canary") or {}, strategy.get("blueGreen") or {}
        for field, holder in (("canaryService", canary), ("stableService", canary),
                              ("activeService", blue), ("previewService", blue)):
            svc = holder.get(field)
            if svc and ctx.get(ns_of(ro), "Service", svc) is None:
                yield "%s: %s %s is not in the output" % (ident(ro), field, svc)
        analyses = [("background analysis", canary.get("analysis"))]
        analyses += [("step %d analysis" % i, s.get("analysis")) for i, s in enumerate(canary.get("steps") or [])]
        analyses += [("prePromotionAnalysis", blue.get("prePromotionAnalysis")),
                     ("postPromotionAnalysis", blue.get("postPromotionAnalysis"))]
        for where, analysis in analyses:
            if not analysis:
                continue
            passed = {a.get("name") for a in analysis.get("args") or []}
            for ref in analysis.get("templates") or []:
                if ref.get("clusterScope"):
                    continue
                at = templates.get((ns_of(ro), ref.get("templateName")))
                if at is None:
                    yield "%s: %s uses AnalysisTemplate %s, which is not in the output" % (ident(ro), where, ref.get("templateName"))
                    continue
                for arg in dig(at, "spec", "args", default=[]) or []:
                    if "value" not in arg and "valueFrom" not in arg and arg.get("name") not in passed:
                        yield "%s: %s does not pass arg %s that AnalysisTemplate/%s needs" % (
                            ident(ro), where, arg.get("name"), name_of(at))


def check_chaos_workflows(ctx):
    for wf in ctx.of("Workflow"):
        if dig(wf, "apiVersion", default="").split("/")[0] != "chaos-mesh.org":
            continue
        tpls = dig(wf, "spec", "templates", default=[]) or []
        names = {t.get("name") for t in tpls}
        entry = dig(wf, "spec", "entry")
        if entry not in names:
            yield "%s: entry %s names no template" % (ident(wf), entry)
        for t in tpls:
            for child in t.get("children") or []:
                if child not in names:
                    yield "%s: template %s: child %s names no template" % (ident(wf), t.get("name"), child)
            for b in t.get("conditionalBranches") or []:
                if b.get("target") not in names:
                    yield "%s: template %s: conditional branch target %s names no template" % (ident(wf), t.get("name"), b.get("target"))
            for body in ("podChaos", "networkChaos", "stressChaos"):
                if isinstance(t.get(body), dict) and "duration" in t[body]:
                    yield "%s: template %s: %s sets duration; inside a Workflow bound it with the template's deadline" % (
                        ident(wf), t.get("name"), body)


def chaos_bodies(doc):
    """(where, chaos spec) for a Chaos Mesh object: the kind's own spec, a Schedule's body, a
    Workflow template's body (and a Workflow template's Schedule body)."""
    kind, spec = doc.get("kind"), doc.get("spec") or {}
    if kind in ("PodChaos", "NetworkChaos", "StressChaos"):
        yield "", spec
    elif kind == "Schedule":
        for body in CHAOS_BODIES:
            if isinstance(spec.get(body), dict):
                yield " %s" % body, spec[body]
    elif kind == "Workflow":
        for t in spec.get("templates") or []:
            for body in CHAOS_BODIES:
                if isinstance(t.get(body), dict):
                    yield " template %s %s" % (t.get("name"), body), t[body]
            sched = t.get("schedule") or {}
            for body in CHAOS_BODIES:
                if isinstance(sched.get(body), dict):
                    yield " template %s schedule %s" % (t.get("name"), body), sched[body]


def check_chaos_selectors(ctx):
    pods = [(ns_of(w), ctx.pod_labels(t)) for w, t in ctx.workloads()]
    for doc in ctx.docs:
        if not str(doc.get("apiVersion", "")).startswith("chaos-mesh.org/"):
            continue
        for where, body in chaos_bodies(doc):
            selectors = [("selector", body.get("selector"))]
            if isinstance(body.get("target"), dict):
                selectors.append(("target selector", body["target"].get("selector")))
            for label, sel in selectors:
                if not isinstance(sel, dict) or not (sel.get("labelSelectors") or sel.get("expressionSelectors")):
                    continue
                namespaces = set(sel.get("namespaces") or [ns_of(doc)])
                as_selector = {"matchLabels": sel.get("labelSelectors"), "matchExpressions": sel.get("expressionSelectors")}
                if not any(pns in namespaces and label_selector_matches(as_selector, labels) for pns, labels in pods):
                    yield "%s%s: %s %s matches no rendered workload's pods in %s: the experiment would do nothing" % (
                        ident(doc), where, label, json.dumps(sel.get("labelSelectors") or sel.get("expressionSelectors"), sort_keys=True),
                        ", ".join(sorted(namespaces)) or "its namespace")


ASSERTIONS = [
    check_scale_targets,
    check_selectors_match,
    check_selector_keys,
    check_config_refs,
    check_pod_hardening,
    check_pdbs,
    check_kafka_partitions,
    check_cron_windows,
    check_prometheus_rules,
    check_argo_references,
    check_chaos_workflows,
    check_chaos_selectors,
]


def run_assertions(ctx):
    problems = []
    for check in ASSERTIONS:
        try:
            problems.extend(check(ctx) or [])
        except Exception as e:  # a check must not hide the others
            problems.append("%s crashed: %s: %s" % (check.__name__, type(e).__name__, short(e, 200)))
    return problems


# --- Tree-level: mirrored generator files -----------------------------------------------------

def generator_files(k8s_dir):
    """(kustomization path, file path) for every configMapGenerator files: entry under k8s/."""
    for dirpath, dirnames, filenames in os.walk(k8s_dir):
        dirnames[:] = sorted(d for d in dirnames if d not in (".render", "schemas"))
        for fn in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
            if fn not in filenames:
                continue
            kpath = os.path.join(dirpath, fn)
            try:
                with open(kpath) as f:
                    k = yaml.load(f, Loader=_Loader) or {}
            except yaml.YAMLError:
                continue  # kustomize reports it when rendering
            for gen in k.get("configMapGenerator") or []:
                for entry in gen.get("files") or []:
                    path = str(entry).split("=", 1)[-1]
                    yield kpath, os.path.normpath(os.path.join(dirpath, path))


def check_mirrors(root):
    problems, checked = [], []
    for kpath, path in generator_files(os.path.join(root, "k8s")):
        if os.path.basename(path) not in MIRROR_SOURCES:
            continue
        source_rel, own_keys = MIRROR_SOURCES[os.path.basename(path)]
        rel = os.path.relpath(path, root)
        source = os.path.join(root, source_rel)
        if not os.path.exists(path):
            continue  # kustomize reports the missing file
        if not os.path.exists(source):
            problems.append("%s mirrors %s, which does not exist" % (rel, source_rel))
            continue
        with open(path, "rb") as a, open(source, "rb") as b:
            da, db = a.read(), b.read()
        if own_keys is not None:
            try:
                ya, yb = yaml.load(da, Loader=_Loader), yaml.load(db, Loader=_Loader)
            except yaml.YAMLError as e:
                problems.append("%s: not YAML: %s" % (rel, short(e, 200)))
                continue
            if isinstance(ya, dict) and isinstance(yb, dict):
                ya = {k: v for k, v in ya.items() if k not in own_keys}
                yb = {k: v for k, v in yb.items() if k not in own_keys}
            diff = first_difference(ya, yb)
            if diff:
                problems.append("%s (configMapGenerator in %s) differs from %s at %s (only %s may differ)" % (
                    rel, os.path.relpath(kpath, root), source_rel, diff, ", ".join(own_keys)))
            checked.append("%s = %s except %s" % (rel, source_rel, ", ".join(own_keys)))
            continue
        if da != db:
            la, lb = da.decode(errors="replace").splitlines(), db.decode(errors="replace").splitlines()
            line = next((i + 1 for i, (x, y) in enumerate(zip(la, lb)) if x != y), min(len(la), len(lb)) + 1)
            problems.append("%s (configMapGenerator in %s) differs from %s from line %d: copy it again (cp %s %s)" % (
                rel, os.path.relpath(kpath, root), source_rel, line, source_rel, rel))
        checked.append("%s = %s" % (rel, source_rel))
    return problems, sorted(set(checked))


# --- Rendering --------------------------------------------------------------------------------

def kustomize(kubectl, directory):
    try:
        proc = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "kubectl kustomize %s: %s" % (directory, e)
    if proc.returncode != 0:
        return None, "kubectl kustomize %s failed: %s" % (directory, short(proc.stderr.strip(), 1200))
    try:
        return load_documents(proc.stdout), None
    except yaml.YAMLError as e:
        return None, "kubectl kustomize %s: output is not YAML: %s" % (directory, short(e, 300))


def read_combinations(path):
    combos, problems = [], []
    if not os.path.exists(path):
        return combos, ["%s is missing (one combination a line: <overlay> [component ...])" % path]
    with open(path) as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if words:
                combos.append((n, words))
    return combos, problems


def render_targets(root, kubectl, keep):
    """(label, documents or None, problem or None) for every overlay and combination."""
    k8s = os.path.join(root, "k8s")
    overlays_dir = os.path.join(k8s, "overlays")
    overlays = sorted(d for d in os.listdir(overlays_dir)
                      if os.path.isdir(os.path.join(overlays_dir, d))) if os.path.isdir(overlays_dir) else []
    if not overlays:
        yield "k8s/overlays", None, "no overlays under %s" % os.path.relpath(overlays_dir, root)
    for o in overlays:
        docs, err = kustomize(kubectl, os.path.join(overlays_dir, o))
        yield o, docs, err
    combos, problems = read_combinations(os.path.join(k8s, "combinations.txt"))
    for p in problems:
        yield "k8s/combinations.txt", None, p
    render_root = os.path.join(k8s, ".render")
    seen = set(overlays)  # a line with an overlay alone is the overlay's own rendering, done above
    for n, (overlay, *components) in combos:
        label = " ".join([overlay] + components)
        if label in seen:
            continue
        seen.add(label)
        missing = [p for p in ["overlays/" + overlay] + ["components/" + c for c in components]
                   if not os.path.isdir(os.path.join(k8s, p))]
        if missing:
            yield label, None, "k8s/combinations.txt line %d: no directory k8s/%s" % (n, ", k8s/".join(missing))
            continue
        # The pid keeps two checkers running at once (a writer's and `make test`) apart.
        directory = os.path.join(render_root, "%s.%d" % ("-".join([overlay] + components), os.getpid()))
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "kustomization.yaml"), "w") as f:
            f.write("# generated by scripts/k8s_check.py for the combination %r; removed after rendering\n" % label)
            yaml.safe_dump({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                            "resources": ["../../overlays/" + overlay],
                            "components": ["../../components/" + c for c in components]}, f, sort_keys=False)
        try:
            docs, err = kustomize(kubectl, directory)
        finally:
            if not keep:
                shutil.rmtree(directory, ignore_errors=True)
        yield label, docs, err
    if not keep and os.path.isdir(render_root) and not os.listdir(render_root):
        os.rmdir(render_root)


# --- Fixtures ---------------------------------------------------------------------------------

def run_fixtures(schemas, fixtures_dir, root):
    problems, counts = [], collections.Counter()

    def files(sub):
        return sorted(glob.glob(os.path.join(fixtures_dir, sub, "*.yaml")))

    def load(path):
        with open(path) as f:
            return load_documents(f.read())

    rel = lambda p: os.path.relpath(p, root)  # noqa: E731
    for path in files("good"):
        errors = [e for d in load(path) for e in schemas.validate(d)]
        if errors:
            problems.append("the checker rejects the good fixture %s: %s" % (rel(path), "; ".join(errors)))
        counts["good"] += 1
    for sub, layer in (("bad", "schema"), ("assert-bad", "assertion")):
        for path in files(sub):
            expected = expectations(path)
            if not expected:
                problems.append("fixture %s has no '# expect: <message>' line" % rel(path))
                continue
            docs = load(path)
            if layer == "schema":
                errors = [e for d in docs for e in schemas.validate(d)]
            else:
                errors = run_assertions(Ctx(docs, root))
            if not errors:
                problems.append("the checker does not reject %s (expected: %s)" % (rel(path), "; ".join(expected)))
            else:
                text = "\n".join(errors)
                for exp in expected:
                    if exp not in text:
                        problems.append("the checker rejects %s, but without %r: %s" % (rel(path), exp, "; ".join(errors)))
            counts[sub] += 1
    for path in files("assert-good"):
        docs = load(path)
        errors = [e for d in docs for e in schemas.validate(d)] + run_assertions(Ctx(docs, root))
        if errors:
            problems.append("the checker rejects the assert-good fixture %s: %s" % (rel(path), "; ".join(errors)))
        counts["assert-good"] += 1
    for sub, least in (("good", 1), ("bad", 1), ("assert-bad", 1)):
        if counts[sub] < least:
            problems.append("no fixtures in %s" % os.path.join(rel(fixtures_dir), sub))
    return problems, counts


# --- Main -------------------------------------------------------------------------------------

def kinds_summary(docs):
    c = collections.Counter(d.get("kind", "?") for d in docs if isinstance(d, dict))
    return " ".join("%s×%d" % (k, n) if n > 1 else k for k, n in sorted(c.items()))


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap = argparse.ArgumentParser(description="Offline validation of k8s/ (see the top of scripts/k8s_check.py).")
    ap.add_argument("--root", default=repo, help="repository root holding k8s/, prometheus/rules, policies/, Gateway/ (default: this repo)")
    ap.add_argument("--schemas", default=None, help="schema directory (default: <root>/k8s/schemas, else this repo's)")
    ap.add_argument("--fixtures-only", action="store_true", help="only prove the checker on its fixtures")
    ap.add_argument("--keep-render", action="store_true", help="keep k8s/.render/ for inspection")
    ap.add_argument("--kubectl", default=os.environ.get("KUBECTL", "kubectl"))
    args = ap.parse_args(argv)
    root = os.path.abspath(args.root)
    schema_dir = args.schemas or next(
        (d for d in (os.path.join(root, "k8s", "schemas"), os.path.join(repo, "k8s", "schemas")) if os.path.isdir(d)), None)
    if schema_dir is None:
        print("k8s-check: no schema directory (k8s/schemas)", file=sys.stderr)
        return 2

    schemas = Schemas(schema_dir)
    problems = list(schemas.load_problems)
    # The fixtures belong to the schemas: they run against the repository that holds them (its
    # prometheus/rules for the PrometheusRule fixture), whatever --root names.
    schema_repo = os.path.dirname(os.path.dirname(os.path.abspath(schema_dir)))
    fixture_problems, counts = run_fixtures(schemas, os.path.join(schema_dir, "fixtures"), schema_repo)
    problems += fixture_problems
    print("k8s-check: fixtures: %d good accepted, %d bad rejected, %d assert-bad rejected, %d assert-good accepted%s" % (
        counts["good"], counts["bad"], counts["assert-bad"], counts["assert-good"],
        "" if not fixture_problems else " — %d FIXTURE PROBLEMS" % len(fixture_problems)))
    if args.fixtures_only:
        return report(problems)

    mirror_problems, mirrors = check_mirrors(root)
    problems += mirror_problems
    print("k8s-check: generator copies: %s%s" % (", ".join(mirrors) or "none found",
                                                 "" if not mirror_problems else " — %d differ" % len(mirror_problems)))
    width = 0
    results = []
    for label, docs, err in render_targets(root, args.kubectl, args.keep_render):
        width = max(width, len(label))
        if err:
            results.append((label, None, [err], []))
            continue
        own = ["%s" % e for d in docs for e in schemas.validate(d)]
        ctx = Ctx(docs, root)
        own += run_assertions(ctx)
        results.append((label, docs, own, sorted(set(ctx.notes))))
    for label, docs, own, notes in results:
        if docs is None:
            print("%-*s  not rendered — FAILED" % (width, label))
        else:
            print("%-*s  %3d documents  %s  %s" % (width, label, len(docs), kinds_summary(docs),
                                                   "ok" if not own else "FAILED (%d)" % len(own)))
        for n in notes:
            print("%-*s  note: %s" % (width, "", n))
        problems += ["[%s] %s" % (label, p) for p in own]
    return report(problems)


def report(problems):
    if problems:
        print("\nproblems:")
        for p in problems:
            print("  - " + p)
        print("k8s-check: %d problem%s" % (len(problems), "" if len(problems) == 1 else "s"))
        return 1
    print("k8s-check: all ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
