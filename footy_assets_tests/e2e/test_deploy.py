"""The Kubernetes files agree with each other, with the project and with Dagster's Helm chart: the chart's own
PostgreSQL secret is off and the one the chart reads is the one the documented commands create, every secret the
values name is created, the chart's version is the pinned Dagster release, every key is one the chart knows, and
the image installs the package rather than carrying the source tree.

No helm binary nor the chart can be fetched here, so the chart's keys are listed below (those of its values
schema for the sections these values set); ``helm template`` against the pinned chart is the check to run where
both are at hand.
"""

from __future__ import annotations

import re
import shlex
import tomllib

import pytest
import yaml

from footy_assets.lake.store import PROJECT_ROOT

K8S = PROJECT_ROOT / "deploy" / "k8s"
PG_PASSWORD_KEY = "postgresql-password"  # the key of the secret every Dagster pod of the chart reads

# The keys the chart accepts in the sections these values set (a dict: nested sections; a set: leaf keys).
_TAG_LIMIT = {"key", "value", "limit"}
_USER_DEPLOYMENT = {
    "name",
    "image",
    "port",
    "dagsterApiGrpcArgs",
    "codeServerArgs",
    "includeConfigInLaunchedRuns",
    "env",
    "envConfigMaps",
    "envSecrets",
    "annotations",
    "nodeSelector",
    "affinity",
    "tolerations",
    "podSecurityContext",
    "securityContext",
    "resources",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "labels",
    "volumeMounts",
    "volumes",
    "schedulerName",
}
CHART_KEYS = {
    "global": {
        "postgresqlSecretName",
        "dagsterHome",
        "serviceAccountName",
        "celeryConfigSecretName",
        "dagsterInstanceConfigMap",
    },
    "generatePostgresqlPasswordSecret": set(),
    "dagster-user-deployments": {
        "enabled": set(),
        "enableSubchart": set(),
        "imagePullSecrets": set(),
        "deployments": [_USER_DEPLOYMENT],
    },
    "runLauncher": {
        "type": set(),
        "config": {
            "k8sRunLauncher": {
                "image",
                "imagePullPolicy",
                "jobNamespace",
                "loadInclusterConfig",
                "kubeconfigFile",
                "envConfigMaps",
                "envSecrets",
                "envVars",
                "volumeMounts",
                "volumes",
                "labels",
                "failPodOnRunFailure",
                "resources",
                "schedulerName",
                "securityContext",
                "runK8sConfig",
            }
        },
    },
    "postgresql": {
        "postgresqlScheme",
        "image",
        "enabled",
        "postgresqlHost",
        "postgresqlUsername",
        "postgresqlPassword",
        "postgresqlDatabase",
        "postgresqlParams",
        "service",
    },
    "dagsterDaemon": {
        "enabled": set(),
        "image": set(),
        "heartbeatTolerance": set(),
        "env": set(),
        "envConfigMaps": set(),
        "envSecrets": set(),
        "runMonitoring": set(),
        "runRetries": set(),
        "sensors": set(),
        "schedules": set(),
        "resources": set(),
        "annotations": set(),
        "runCoordinator": {
            "enabled": set(),
            "type": set(),
            "config": {
                "queuedRunCoordinator": {
                    "maxConcurrentRuns": set(),
                    "dequeueIntervalSeconds": set(),
                    "dequeueNumWorkers": set(),
                    "dequeueUseThreads": set(),
                    "tagConcurrencyLimits": [_TAG_LIMIT],
                }
            },
        },
    },
    "telemetry": {"enabled"},
}
RUN_K8S_CONFIG = {"containerConfig", "podSpecConfig", "podTemplateSpecMetadata", "jobSpecConfig", "jobMetadata"}


def unknown_keys(values, known, path: str = "") -> list[str]:
    """The keys of ``values`` (a parsed YAML mapping) that ``known`` does not list, as dotted paths."""
    if isinstance(known, list):  # a list of items, each checked against the one shape given
        return [bad for i, item in enumerate(values) for bad in unknown_keys(item, known[0], f"{path}[{i}]")]
    if not isinstance(values, dict) or not known:
        return []
    found = []
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        if key not in known:
            found.append(where)
        elif isinstance(known, dict):
            found += unknown_keys(value, known[key], where)
    return found


def created_secrets(text: str) -> dict[str, set[str]]:
    """The secrets a text's ``kubectl create secret generic NAME --from-literal=KEY=...`` commands create: their
    names, each with its keys."""
    secrets: dict[str, set[str]] = {}
    for line in text.splitlines():
        line = line.lstrip("# ").strip()
        if not line.startswith("kubectl create secret generic "):
            continue
        words = shlex.split(line)
        secrets[words[4]] = {w.split("=", 2)[1] for w in words[5:] if w.startswith("--from-literal=")}
    return secrets


def chart_versions(text: str) -> list[str]:
    """The chart versions a text's ``helm upgrade --install`` commands pin (None for a command without one)."""
    found = []
    for line in text.splitlines():
        if "helm upgrade --install" in line or "helm install" in line:
            pinned = re.search(r"--version[ =](\S+)", line)
            found.append(pinned.group(1) if pinned else None)
    return found


@pytest.fixture(scope="module")
def values_text() -> str:
    return (K8S / "values.yaml").read_text()


@pytest.fixture(scope="module")
def values(values_text) -> dict:
    return yaml.safe_load(values_text)


def _pins() -> dict[str, str]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    deps = [*project["dependencies"], *project["optional-dependencies"]["postgres"]]
    return dict(d.split("==") for d in deps if "==" in d)


def test_the_chart_makes_no_postgres_secret_and_reads_the_documented_one(values, values_text):
    assert values.get("generatePostgresqlPasswordSecret") is False
    name = values["global"]["postgresqlSecretName"]
    for where, text in (
        ("values.yaml", values_text),
        ("docs/operations/kubernetes.md", (PROJECT_ROOT / "docs/operations/kubernetes.md").read_text()),
    ):
        secrets = created_secrets(text)
        assert PG_PASSWORD_KEY in secrets.get(name, set()), f"{where} does not create {name} with {PG_PASSWORD_KEY}"
    # the chart's own password is not used: no password in the values file
    assert "postgresqlPassword" not in values["postgresql"]


def test_every_secret_the_pods_read_is_created(values, values_text):
    secrets = created_secrets(values_text)
    named = [s["name"] for d in values["dagster-user-deployments"]["deployments"] for s in d.get("envSecrets", [])]
    named += [s["name"] for s in values["runLauncher"]["config"]["k8sRunLauncher"].get("envSecrets", [])]
    assert named and all(name in secrets for name in named), (named, sorted(secrets))
    for name in set(named):
        assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= secrets[name]


def test_the_chart_version_is_the_pinned_dagster_release(values_text):
    dagster = _pins()["dagster"]
    for where, text in (
        ("values.yaml", values_text),
        ("docs/operations/kubernetes.md", (PROJECT_ROOT / "docs/operations/kubernetes.md").read_text()),
    ):
        pinned = chart_versions(text)
        assert pinned and set(pinned) == {dagster}, f"{where}: helm install pins {pinned}, dagster is {dagster}"


def test_every_key_is_one_the_chart_knows(values):
    assert unknown_keys(values, CHART_KEYS) == []
    run_k8s = values["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]
    assert set(run_k8s) <= RUN_K8S_CONFIG
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    # the checker itself: a misspelt key is found where it is
    assert unknown_keys(
        {
            "dagsterDaemon": {
                "runCoordinator": {
                    "config": {"queuedRunCoordinator": {"tagConcurrencyLimits": [{"key": "k", "limits": 1}]}}
                }
            }
        },
        CHART_KEYS,
    ) == ["dagsterDaemon.runCoordinator.config.queuedRunCoordinator.tagConcurrencyLimits[0].limits"]
    assert unknown_keys({"generatePostgresSecret": False}, CHART_KEYS) == ["generatePostgresSecret"]


def test_the_image_installs_the_package_without_the_source_tree():
    dockerfile = (K8S / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[1:]
    assert len(stages) == 2, "a build stage that makes the wheel and the stage that runs"
    final = stages[-1]
    copies = [line for line in final.splitlines() if line.startswith(("COPY", "ADD"))]
    assert copies and all(line.startswith("COPY --from=") for line in copies), copies  # nothing from the context
    assert "pip install" in final and ".whl" in final
    assert re.search(r"^USER (?!0\b|root\b)", final, flags=re.MULTILINE), "runs as an unprivileged user"
    # the Dagster libraries are of the pinned release
    library = _pins()["dagster-postgres"]
    assert re.findall(r"dagster-k8s==(\S+)", final) == [library]
