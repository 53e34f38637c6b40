"""The Kubernetes manifests (deploy/kubernetes/) checked offline: every document against the
official schemas that kubernetes-validate ships (strict: an unknown or misspelt field is refused),
and the links between documents that the API server does not check and that break a deployment
silently: probes on ports the container exposes, Services and budgets that select pods, env
references to keys that exist, settings the processes actually read, the image's user and
commands."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from bot.ops.cli import main as bot_cli
from bot.ops.processes import actions_environ, free_port, rasa_environ
from bot.ops.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
KUSTOMIZATION = MANIFESTS / "kustomization.yaml"
#: The oldest Kubernetes the manifests are written for, and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.34", kubernetes_validate.latest_version())

Document = dict[str, Any]


def manifest_files() -> list[Path]:
    return sorted(p for p in MANIFESTS.glob("*.yaml") if p != KUSTOMIZATION)


def documents(path: Path) -> list[Document]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


@cache  # read-only from here on
def all_documents() -> list[Document]:
    return [d for path in manifest_files() for d in documents(path)]


def of_kind(kind: str) -> list[Document]:
    return [d for d in all_documents() if d["kind"] == kind]


def named(kind: str, name: str) -> Document:
    found = [d for d in of_kind(kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name!r}: {len(found)} found"
    return found[0]


def containers(deployment: Document) -> list[Document]:
    pod = deployment["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod["containers"]]


def pod_labels(deployment: Document) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def nulls(value: Any, path: str = "") -> Iterator[str]:
    """Paths of empty values (``key:`` with nothing after it), which the schemas accept."""
    if value is None:
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from nulls(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nulls(item, f"{path}[{index}]")


def known_settings() -> set[str]:
    """What the processes read: the gateway's settings, every name in .env.example (set or
    commented), and what `python -m bot up` hands Rasa and the action server."""
    names = {name.upper() for name in Settings.model_fields}
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    names |= set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    settings = Settings(rasa_token="unit-test-token-0123456789")
    store = {f"{s}_{n}": "x" for s in ("TRACKER_STORE", "LOCK_STORE") for n in ("HOST", "DB")}
    names |= set(rasa_environ(settings, source=store)) | set(actions_environ(settings, source={}))
    return names


def dockerfile_uid() -> int:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"useradd .*--uid (\d+)", dockerfile)
    assert match, "the Dockerfile creates no user with a fixed uid"
    return int(match.group(1))


def dockerfile_ports() -> set[int]:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    return {int(p) for line in re.findall(r"^EXPOSE (.+)$", dockerfile, re.M) for p in line.split()}


def entrypoint_roles() -> set[str]:
    script = (ROOT / "docker" / "entrypoint.sh").read_text(encoding="utf-8")
    return set(re.findall(r"^  ([a-z]+)\)$", script, re.MULTILINE))


def env_references(container: Document) -> Iterator[tuple[str, str, str | None]]:
    """(kind, name, key) of every ConfigMap and Secret the container's environment reads; key
    None for a whole envFrom."""
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            yield "ConfigMap", source["configMapRef"]["name"], None
        if "secretRef" in source:
            yield "Secret", source["secretRef"]["name"], None
    for variable in container.get("env", []):
        value_from = variable.get("valueFrom", {})
        if "configMapKeyRef" in value_from:
            ref = value_from["configMapKeyRef"]
            yield "ConfigMap", ref["name"], ref["key"]
        if "secretKeyRef" in value_from:
            ref = value_from["secretKeyRef"]
            yield "Secret", ref["name"], ref["key"]


def data_keys(document: Document) -> set[str]:
    return {*document.get("data", {}), *document.get("stringData", {})}


def container_environment(container: Document) -> dict[str, str]:
    """Literal values the container gets from its env and from the ConfigMaps it reads whole."""
    values: dict[str, str] = {}
    for kind, name, key in env_references(container):
        if kind == "ConfigMap" and key is None:
            values.update(named("ConfigMap", name)["data"])
    for variable in container.get("env", []):
        if "value" in variable:
            values[variable["name"]] = variable["value"]
    return values


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_every_document_matches_the_kubernetes_schema(path: Path, version: str) -> None:
    docs = documents(path)
    assert docs, f"{path.name} holds no document"
    for document in docs:
        # SchemaNotFoundError (a kind or apiVersion this Kubernetes does not serve) fails too.
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(part) for part in error.path)
            what = f"{document['kind']} {document['metadata']['name']}"
            pytest.fail(f"{path.name}: {what}: {where}: {error.message}", pytrace=False)
        assert not list(nulls(document)), f"{path.name}: empty values"


def test_kustomization_lists_every_manifest_and_sets_the_containers_image() -> None:
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == [p.name for p in manifest_files()]
    image_names = {image["name"] for image in kustomization["images"]}
    for deployment in of_kind("Deployment"):
        for container in containers(deployment):
            assert container["image"].split(":")[0] in image_names, container["name"]


def test_every_object_lives_in_the_namespace() -> None:
    (namespace,) = of_kind("Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for document in all_documents():
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == namespace["metadata"]["name"]


def test_deployments_run_the_images_processes() -> None:
    by_name = {d["metadata"]["name"]: d for d in of_kind("Deployment")}
    assert {"gateway", "engine", "actions", "event-consumer"} <= set(by_name)
    roles = entrypoint_roles()
    assert roles == {"engine", "actions", "gateway"}
    for deployment in by_name.values():
        for container in containers(deployment):
            if "command" in container:  # past the entry point: a command of `python -m bot`
                assert container["command"][:3] == ["/app/.venv/bin/python", "-m", "bot"]
                with pytest.raises(SystemExit) as exited:
                    bot_cli([*container["command"][3:], "--help"])
                assert exited.value.code == 0, f"python -m bot {container['command'][3:]}"
            else:
                assert container["args"][0] in roles
            for port in container.get("ports", []):
                assert port["containerPort"] in dockerfile_ports()
    consumer = containers(by_name["event-consumer"])[0]
    assert consumer["command"][3:] == ["consume-events"]
    gateway = containers(by_name["gateway"])[0]
    port = int(container_environment(gateway)["GATEWAY_PORT"])
    assert port == gateway["ports"][0]["containerPort"]


def test_every_deployment_has_probes_on_what_its_container_serves() -> None:
    for deployment in of_kind("Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            where = f"{deployment['metadata']['name']}/{container['name']}"
            ports = container.get("ports", [])
            exposed = {p["containerPort"] for p in ports} | {p["name"] for p in ports}
            for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
                probe = container.get(kind)
                if probe is None:
                    assert kind == "startupProbe", f"{where} has no {kind}"
                    continue
                handler = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc")
                if ports:
                    assert handler, f"{where}: {kind} must check what the container serves"
                    assert handler["port"] in exposed, f"{where}: {kind} on an unexposed port"
                else:
                    assert "exec" in probe, f"{where} serves nothing: {kind} must run a command"


def test_the_health_routes_are_what_the_processes_serve() -> None:
    paths = {
        d["metadata"]["name"]: {
            kind: c[kind]["httpGet"]["path"]
            for c in d["spec"]["template"]["spec"]["containers"]
            for kind in ("readinessProbe", "livenessProbe")
        }
        for d in of_kind("Deployment")
        if d["metadata"]["name"] != "event-consumer"
    }
    # /health answers 503 while a dependency is down: readiness only, never liveness.
    assert paths["gateway"] == {"readinessProbe": "/health", "livenessProbe": "/"}
    assert paths["actions"] == {"readinessProbe": "/health", "livenessProbe": "/health"}
    # Rasa answers / without its token ("Hello from Rasa"); /status needs the token.
    assert paths["engine"] == {"readinessProbe": "/", "livenessProbe": "/"}


def test_the_consumers_probe_passes_while_connected_to_the_broker_only() -> None:
    """The probes' script itself, run here against this machine's socket table: it passes
    while a connection to EVENT_BROKER_PORT is established, fails on a port nobody talks to."""
    consumer = named("Deployment", "event-consumer")["spec"]["template"]["spec"]["containers"][0]
    assert "EVENT_BROKER_PORT" in container_environment(consumer)
    (script,) = {tuple(consumer[k]["exec"]["command"]) for k in ("readinessProbe", "livenessProbe")}

    def probe(port: int) -> int:
        environ = {"PATH": os.environ["PATH"], "EVENT_BROKER_PORT": str(port)}
        return subprocess.run(script, env=environ, check=False, timeout=10).returncode

    with socket.create_server(("127.0.0.1", 0)) as broker:
        port = broker.getsockname()[1]
        assert probe(port) != 0
        with socket.create_connection(("127.0.0.1", port)), broker.accept()[0]:
            assert probe(port) == 0
        assert probe(free_port()) != 0


def test_services_select_a_deployments_pods_on_a_named_port() -> None:
    deployments = of_kind("Deployment")
    for service in of_kind("Service"):
        selector = service["spec"]["selector"]
        targets = [d for d in deployments if selects(selector, pod_labels(d))]
        assert len(targets) == 1, f"Service {service['metadata']['name']} selects {len(targets)}"
        served = {
            p.get("name")
            for c in targets[0]["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in served


def test_urls_to_our_services_name_a_service_port() -> None:
    services = {s["metadata"]["name"]: s for s in of_kind("Service")}
    checked = 0
    for config_map in of_kind("ConfigMap"):
        for name, value in config_map["data"].items():
            parts = urlsplit(value)
            if parts.scheme == "http" and parts.hostname in services:
                ports = {p["port"] for p in services[parts.hostname]["spec"]["ports"]}
                assert parts.port in ports, f"{config_map['metadata']['name']}: {name}"
                checked += 1
    assert checked >= 3  # RASA_URL, and ACTION_SERVER_URL for the gateway and for Rasa


def test_ingress_routes_to_the_gateway_service() -> None:
    services = {s["metadata"]["name"]: s for s in of_kind("Service")}
    for ingress in of_kind("Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                port_names = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
                assert backend["port"]["name"] in port_names


def test_every_configmap_and_secret_reference_exists() -> None:
    for deployment in of_kind("Deployment"):
        for container in containers(deployment):
            for kind, name, key in env_references(container):
                source = named(kind, name)
                if key is not None:
                    assert key in data_keys(source), f"{container['name']}: {kind} {name}/{key}"


def test_every_setting_given_is_one_a_process_reads() -> None:
    known = known_settings()
    for document in [*of_kind("ConfigMap"), *of_kind("Secret")]:
        unknown = data_keys(document) - known
        assert not unknown, f"{document['metadata']['name']}: {sorted(unknown)}"
    for deployment in of_kind("Deployment"):
        for container in containers(deployment):
            names = {variable["name"] for variable in container.get("env", [])}
            assert not names - known, f"{container['name']}: {sorted(names - known)}"


def test_the_engine_runs_with_the_scale_endpoints_and_their_settings() -> None:
    engine = named("Deployment", "engine")["spec"]["template"]["spec"]["containers"][0]
    given = set(container_environment(engine)) | {v["name"] for v in engine.get("env", [])}
    endpoints_file = container_environment(engine)["RASA_ENDPOINTS"]
    endpoints = (ROOT / endpoints_file).read_text(encoding="utf-8")
    read = set(re.findall(r"\$\{([A-Z0-9_]+)\}", endpoints))
    assert {"tracker_store", "lock_store"} <= set(yaml.safe_load(endpoints))
    assert not read - given, f"{endpoints_file} reads {sorted(read - given)}, not given"


def test_secrets_are_placeholders_only() -> None:
    (secret,) = of_kind("Secret")
    assert "data" not in secret  # stringData only: what is there is readable in review
    for key, value in secret["stringData"].items():
        assert "REPLACE-ME" in value or value == "[]", f"{key} looks like a real secret"


@pytest.mark.parametrize("deployment", ["gateway", "event-consumer"])
def test_the_gateways_settings_as_given_are_accepted_once_the_placeholders_are_replaced(
    deployment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = containers(named("Deployment", deployment))[0]
    secrets = named("Secret", "asistente-secrets")["stringData"]
    given = {
        v["name"]: secrets[v["valueFrom"]["secretKeyRef"]["key"]]
        for v in container.get("env", [])
        if "secretKeyRef" in v.get("valueFrom", {})
    }
    for name, value in {**container_environment(container), **given}.items():
        monkeypatch.setenv(name, value)
    if deployment == "gateway":  # production refuses the placeholders
        with pytest.raises(ValueError, match="RASA_TOKEN must be a real secret"):
            Settings()
    for name, value in given.items():
        monkeypatch.setenv(name, value.replace("REPLACE-ME", "s3cr3t-" + "x" * 25))
    settings = Settings(**({} if "RASA_TOKEN" in given else {"rasa_token": "-" * 32}))
    assert settings.environment == "production"
    assert settings.database_url.startswith("postgresql+asyncpg://")
    if deployment == "gateway":
        assert settings.redis_url and settings.secure_cookies and settings.trusted_proxies
        assert settings.messenger_enabled  # WhatsApp needs WHATSAPP_PHONE_NUMBER_ID too


def test_pods_run_unprivileged_with_resources() -> None:
    uid = dockerfile_uid()
    for deployment in of_kind("Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == uid
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
        for container in containers(deployment):
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["readOnlyRootFilesystem"] is True
            assert security["capabilities"]["drop"] == ["ALL"]
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), container["name"]
            mounts = {m["name"] for m in container.get("volumeMounts", [])}
            assert "tmp" in mounts  # a writable /tmp on the read-only root


def test_budgets_and_autoscalers_target_existing_deployments() -> None:
    deployments = {d["metadata"]["name"]: d for d in of_kind("Deployment")}
    budgeted = set()
    for budget in of_kind("PodDisruptionBudget"):
        selector = budget["spec"]["selector"]["matchLabels"]
        targets = [n for n, d in deployments.items() if selects(selector, pod_labels(d))]
        assert len(targets) == 1, f"PodDisruptionBudget {budget['metadata']['name']}"
        budgeted.add(targets[0])
    replicated = {n for n, d in deployments.items() if d["spec"].get("replicas", 1) > 1}
    assert replicated == budgeted
    scaled = set()
    for autoscaler in of_kind("HorizontalPodAutoscaler"):
        target = autoscaler["spec"]["scaleTargetRef"]
        assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
        assert target["name"] in deployments
        deployment = deployments[target["name"]]
        assert autoscaler["spec"]["minReplicas"] == deployment["spec"]["replicas"]
        # CPU utilization is a share of the request: every container must request CPU.
        for container in containers(deployment):
            assert "cpu" in container["resources"]["requests"]
        scaled.add(target["name"])
    assert scaled == {"gateway", "engine"}
