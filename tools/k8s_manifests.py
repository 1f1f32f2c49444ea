"""The services' Kubernetes workloads, written from one description instead of five copies:

    python tools/k8s_manifests.py           write deploy/k8s/base/services/<service>.yaml and
                                            the partner directory's copy the base mounts
    python tools/k8s_manifests.py --check   fail if a committed file is not what would be written

Each service gets a ServiceAccount, a ConfigMap of its settings, a Deployment (non-root,
read-only root filesystem, no capabilities, probes on /healthz and /readyz, its database
migrated by an init container before the new version serves, Kafka as its own principal with
the password from the Secret Strimzi makes for its KafkaUser), a Service and a
HorizontalPodAutoscaler whose ceiling is the partitions of the topics it reads: a replica
beyond them would get no partition. The overlays set replicas, resources and placement.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gonghui_contracts import TOPICS
from gonghui_contracts.generated import write_or_check
from gonghui_contracts.values import Service

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "deploy/k8s/base/services"
DIRECTORY = ROOT / "deploy/local/partners.json"  # kustomize reads only files under the base
IMAGE = "gonghui"  # the overlays pin registry and tag with `images:`
PORT = 8000
KAFKA_BOOTSTRAP = "gonghui-kafka-bootstrap:9093"  # Strimzi's TLS listener with SCRAM
GRACE_SECONDS = 45  # longer than SHUTDOWN_GRACE_SECONDS (15) plus a batch in flight
Resource = dict[str, Any]
SCRATCH = {"name": "tmp", "mountPath": "/tmp"}  # noqa: S108 — the pod's own emptyDir


@dataclass(frozen=True)
class Workload:
    service: Service
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.service.value

    @property
    def max_replicas(self) -> int:
        """Partitions of the topics it reads (a partner family: each partner's topic has the
        family's); a service that reads none scales on HTTP alone, up to three."""
        read = [spec.partitions for spec in TOPICS if self.service in spec.readers]
        return max(read, default=3)


WORKLOADS = (
    Workload(Service.MEMBERSHIP),
    Workload(Service.AID, {"INJURY_SWEEP_SECONDS": "30", "PAYMENT_CHANNEL": "webhook"}),
    Workload(Service.LEGAL, {"LEGAL_SWEEP_SECONDS": "30"}),
    Workload(Service.SKILLS),
    Workload(Service.NOTIFY, {"NOTIFY_CHANNEL": "webhook", "NOTIFY_LOCALE": "zh"}),
)


# the signed webhooks a service calls outside the cluster: its settings' prefix, the Secret
WEBHOOKS = {
    Service.NOTIFY: ("NOTIFY_WEBHOOK", "notify-webhook"),  # the messaging gateway
    Service.AID: ("PAYMENT_WEBHOOK", "payment-webhook"),  # the payment gateway
}


def labels(workload: Workload) -> dict[str, str]:
    return {"app.kubernetes.io/name": workload.name, "app.kubernetes.io/part-of": "gonghui"}


def manifest(
    api_version: str, kind: str, workload: Workload, name: str = "", **body: Any
) -> Resource:
    """An object of `workload`, named after it unless `name` says otherwise, with its labels."""
    metadata = {"name": name or workload.name, "labels": labels(workload)}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}


def config_map(workload: Workload) -> Resource:
    data = {
        "SERVICE_NAME": workload.name,
        "HTTP_HOST": "0.0.0.0",  # noqa: S104 — inside its pod, behind the Service
        "HTTP_PORT": str(PORT),
        "KAFKA_BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP,
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": f"svc-{workload.name}",
        "KAFKA_SSL_CAFILE": "/etc/kafka-ca/ca.crt",
        "PARTNERS_FILE": "/etc/gonghui/partners/partners.json",
        "DB_MIGRATE_ON_START": "false",  # the init container migrates
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        **workload.settings,
    }
    return manifest("v1", "ConfigMap", workload, f"{workload.name}-config", data=data)


def secret_env(name: str, secret: str, key: str) -> Resource:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def environment(workload: Workload) -> list[Resource]:
    env = [
        # Strimzi's User Operator keeps each KafkaUser's password in a Secret of its name
        secret_env("KAFKA_SASL_PASSWORD", f"svc-{workload.name}", "password"),
        secret_env("DATABASE_URL", f"{workload.name}-database", "url"),
        # optional: without a key ring the service refuses to start (dev allows its built-in
        # development key instead)
        {
            "name": "PII_KEYS",
            "valueFrom": {"secretKeyRef": {"name": "gonghui-pii", "key": "keys", "optional": True}},
        },
        secret_env("REDIS_URL", "gonghui-redis", "url"),
    ]
    webhook = WEBHOOKS.get(workload.service)
    if webhook is not None:
        setting, secret = webhook
        env.append(secret_env(f"{setting}_URL", secret, "url"))
        env.append(secret_env(f"{setting}_SECRET", secret, "secret"))
    return env


def security_context() -> Resource:
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def probe(path: str, period: int, failures: int) -> Resource:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def container(workload: Workload) -> Resource:
    return {
        "name": workload.name,
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": ["python", "-m", f"{workload.name}.main"],
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "envFrom": [
            {"configMapRef": {"name": f"{workload.name}-config"}},
            {"configMapRef": {"name": "gonghui-identity"}},
        ],
        "env": environment(workload),
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "startupProbe": probe("/healthz", 2, 30),
        "livenessProbe": probe("/healthz", 10, 3),
        "readinessProbe": probe("/readyz", 5, 3),
        "securityContext": security_context(),
        "volumeMounts": [
            SCRATCH,
            {"name": "kafka-ca", "mountPath": "/etc/kafka-ca", "readOnly": True},
            {"name": "partners", "mountPath": "/etc/gonghui/partners", "readOnly": True},
        ],
    }


def migrations(workload: Workload) -> Resource:
    return {
        "name": "migrate",
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": ["servicekit", "migrate", workload.name],
        "env": [secret_env("DATABASE_URL", f"{workload.name}-database", "url")],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": security_context(),
        "volumeMounts": [SCRATCH],
    }


def deployment(workload: Workload) -> Resource:
    return manifest(
        "apps/v1",
        "Deployment",
        workload,
        spec={
            "replicas": 1,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app.kubernetes.io/name": workload.name}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {
                    "labels": labels(workload),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(PORT),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "serviceAccountName": workload.name,
                    "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": GRACE_SECONDS,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "initContainers": [migrations(workload)],
                    "containers": [container(workload)],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                        {
                            "name": "kafka-ca",
                            "secret": {
                                "secretName": "gonghui-cluster-ca-cert",
                                "items": [{"key": "ca.crt", "path": "ca.crt"}],
                            },
                        },
                        {"name": "partners", "configMap": {"name": "gonghui-partners"}},
                    ],
                },
            },
        },
    )


def service(workload: Workload) -> Resource:
    return manifest(
        "v1",
        "Service",
        workload,
        spec={
            "selector": {"app.kubernetes.io/name": workload.name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    )


def autoscaler(workload: Workload) -> Resource:
    return manifest(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        workload,
        spec={
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": workload.name,
            },
            "minReplicas": 1,
            "maxReplicas": workload.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    )


def service_account(workload: Workload) -> Resource:
    return manifest("v1", "ServiceAccount", workload, automountServiceAccountToken=False)


def rendered(workload: Workload) -> str:
    resources = [
        service_account(workload),
        config_map(workload),
        deployment(workload),
        service(workload),
        autoscaler(workload),
    ]
    body = yaml.safe_dump_all(resources, sort_keys=False, allow_unicode=True, width=100)
    return (
        f"# The {workload.name} service. Generated by `python tools/k8s_manifests.py`: "
        f"do not edit.\n---\n{body}"
    )


def disruption_budget(workload: Workload) -> Resource:
    return manifest(
        "policy/v1",
        "PodDisruptionBudget",
        workload,
        spec={
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": workload.name}},
        },
    )


def files() -> dict[Path, str]:
    made = {OUT / f"{w.name}.yaml": rendered(w) for w in WORKLOADS}
    names = "".join(f"  - {w.name}.yaml\n" for w in WORKLOADS)
    made[OUT / "kustomization.yaml"] = (
        "# Generated by `python tools/k8s_manifests.py`: do not edit.\n"
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources:\n{names}"
    )
    made[ROOT / "deploy/k8s/base/platform/partners.json"] = DIRECTORY.read_text("utf-8")
    budgets = yaml.safe_dump_all([disruption_budget(w) for w in WORKLOADS], sort_keys=False)
    made[ROOT / "deploy/k8s/overlays/production/disruption-budgets.yaml"] = (
        "# Generated by `python tools/k8s_manifests.py`: do not edit.\n---\n" + budgets
    )
    return made


def main(argv: list[str]) -> int:
    stale = [str(p.relative_to(ROOT)) for p in write_or_check(files(), check="--check" in argv)]
    if stale:
        print(f"stale: {', '.join(stale)}; run `python tools/k8s_manifests.py`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
