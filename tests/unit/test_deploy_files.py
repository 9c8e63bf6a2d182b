"""The deployment files, checked statically (no Docker daemon here): migrations stay a single explicit
step (the bot image never migrates), the `webhook` compose profile runs two replicas behind the
proxy after `migrate`, and the alert rules are valid and use only metrics the bot exports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.factory import SHUTDOWN_GRACE_SECONDS
from bot.metrics import METRIC_NAMES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(document, dict)
    return document


def test_the_image_runs_only_the_bot() -> None:
    commands = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD")]
    assert commands == ['CMD ["python", "-m", "bot"]']


def test_the_image_checks_liveness_on_the_port_that_serves_it() -> None:
    (check,) = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("HEALTHCHECK")]
    assert "/healthz" in check and "WEB_PORT" in check and "METRICS_PORT" in check


def test_compose_migrates_once_before_the_bot() -> None:
    services = compose()["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["python", "-m", "bot", "migrate"]
    assert migrate["restart"] == "no"
    assert "profiles" not in migrate  # in every profile
    for name in ("bot", "bot-webhook"):
        bot = services[name]
        assert bot["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert bot["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert bot["depends_on"]["redis"] == {"condition": "service_healthy"}
        assert "command" not in bot  # the image's CMD: the bot only
        assert bot["image"] == migrate["image"] == "coinsight"


def test_the_webhook_profile_runs_two_replicas_behind_the_proxy_on_postgres_and_redis() -> None:
    services = compose()["services"]
    replicas = services["bot-webhook"]
    assert replicas["profiles"] == ["webhook"]
    assert replicas["deploy"]["replicas"] == 2
    assert "ports" not in replicas  # reached through the proxy (and Prometheus), never published
    env = replicas["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:")  # the scheduler's leader lease, one shared limiter
    assert env["WEB_PORT"] == "8080" and env["WEB_HOST"] == "0.0.0.0" and env["LOG_FORMAT"] == "json"
    assert "WEBHOOK_URL" not in env and "WEBHOOK_SECRET" not in env  # secrets from .env, not the file
    assert services["bot"].get("profiles") is None  # `docker compose up`: polling, as before

    proxy = services["proxy"]
    assert proxy["profiles"] == ["webhook"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert {"80:80", "443:443"} <= set(proxy["ports"])
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert caddyfile.count("{") == caddyfile.count("}")
    assert re.search(r"handle /webhook\* \{\s*reverse_proxy \{", caddyfile)
    assert re.search(r"dynamic a \{\s*name bot-webhook\s*port 8080", caddyfile)
    assert "/metrics" not in caddyfile.split("#", 1)[0]  # not public

    prometheus = services["prometheus"]
    assert prometheus["profiles"] == ["webhook"]
    assert "./deploy/alerts.yml:/etc/prometheus/alerts.yml:ro" in prometheus["volumes"]
    volumes = set(compose()["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert (source.startswith("./") and (ROOT / source).exists()) or source in volumes, volume


def test_prometheus_scrapes_every_replica_and_loads_the_rules() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "coinsight" and job["metrics_path"] == "/metrics"
    (dns,) = job["dns_sd_configs"]
    assert dns == {"names": ["bot-webhook"], "type": "A", "port": 8080, "refresh_interval": "30s"}


SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}
DURATION = re.compile(r"^\d+[smhd]$")


def test_alert_rules_are_valid_and_use_only_exported_metrics() -> None:
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
    (group,) = rules["groups"]
    assert group["name"] == "coinsight"
    names = [rule["alert"] for rule in group["rules"]]
    assert len(names) == len(set(names)) >= 8
    exported = {name + suffix for name, kind in METRIC_NAMES.items() for suffix in SUFFIXES[kind]}
    for rule in group["rules"]:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        expr = rule["expr"].strip()
        assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), rule["alert"]
        assert DURATION.match(rule.get("for", "0s")), rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
        used = set(re.findall(r"\b(coinsight_[a-z0-9_]+)", expr))
        assert used <= exported, (rule["alert"], used - exported)
        assert used or "up{" in expr, rule["alert"]
        for selector in re.findall(r"\{([^}]*)\}", expr):
            labels = {m for m in re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", selector)}
            assert labels <= {"job", "outcome", "exchange", "name", "type", "model", "kind", "window"}, labels
    # The alert names the README's runbook explains, all of them.
    readme = (ROOT / "README.md").read_text()
    assert [name for name in names if f"`{name}`" not in readme] == []


def test_make_run_migrates_then_starts_the_bot() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run: .*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe is not None
    assert recipe.group(1).split("\n")[:2] == ["\t$(BIN)/python -m bot migrate", "\t$(BIN)/python -m bot"]


def test_docker_waits_for_the_bots_own_shutdown() -> None:
    """Docker kills a container 10 s after SIGTERM unless told otherwise; the bot's shutdown takes up
    to SHUTDOWN_GRACE_SECONDS (updates in flight, the sender, the scheduler's runs)."""
    services = compose()["services"]
    for name in ("bot", "bot-webhook"):
        period = str(services[name]["stop_grace_period"])
        assert period.endswith("s") and float(period[:-1]) > SHUTDOWN_GRACE_SECONDS, name
