#!/usr/bin/env python3
"""Checks deploy/ (docker-compose.yml, Dockerfile, logstore.json, wp.json, prometheus.yml).

Docker cannot run on the machines this project is tested on, so the files are checked instead:
they parse, they agree with each other (service names, ports, mounts, endpoints, scrape
targets), and every LogStore's exact command line passes `wp-logstore --check-config` (the
daemon's own parser and checks), with the config file mounted into the container replaced by
the one in deploy/.

usage: deploy_files_test.py PATH_TO_WP_LOGSTORE
"""
import json
import os
import re
import subprocess
import sys
import urllib.parse

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
problems = []


def check(condition, message):
    if not condition:
        problems.append(message)
    return condition


def load_compose():
    with open(os.path.join(DEPLOY, "docker-compose.yml")) as f:
        return yaml.safe_load(f)  # merge keys (<<: *logstore) included


def mounts(service):
    """container path -> host path (relative to deploy/) of bind mounts; volumes by name."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[0:2]
        out[target] = source
    return out


def host_port(address):
    host, _, port = address.rpartition(":")
    return host, int(port)


def check_logstore(name, service, compose, logstore_config, binary):
    command = service["command"]
    check(command[0] == "wp-logstore", f"{name}: runs {command[0]}, not wp-logstore")
    args = command[1:]
    flags = dict(zip(args[0::2], args[1::2]))
    check(flags.get("--node") == name, f"{name}: --node is {flags.get('--node')}")
    listen_port = host_port(logstore_config["listen"])[1]
    metrics_port = host_port(logstore_config["metrics_listen"])[1]
    check(flags.get("--advertise") == f"{name}:{listen_port}",
          f"{name}: advertises {flags.get('--advertise')}, peers dial {name}:{listen_port}")
    volume_mounts = mounts(service)
    config_in_container = flags.get("--config")
    config_on_host = volume_mounts.get(config_in_container)
    check(config_on_host == "./logstore.json",
          f"{name}: {config_in_container} is not deploy/logstore.json mounted")
    data_volume = volume_mounts.get(logstore_config["data_dir"])
    check(data_volume in compose.get("volumes", {}),
          f"{name}: data_dir {logstore_config['data_dir']} is not on a named volume")
    health = " ".join(service["healthcheck"]["test"])
    check(f":{metrics_port}/health" in health, f"{name}: healthcheck does not ask /health")
    check(service["build"]["dockerfile"] == "deploy/Dockerfile", f"{name}: built elsewhere")
    # The daemon's own checks, on the exact command line.
    host_args = [os.path.join(DEPLOY, "logstore.json") if a == config_in_container else a
                 for a in args]
    env = dict(os.environ, **{k: str(v) for k, v in service.get("environment", {}).items()})
    result = subprocess.run([binary, *host_args, "--check-config"], capture_output=True,
                            text=True, env=env)
    check(result.returncode == 0,
          f"{name}: wp-logstore --check-config failed: {result.stderr.strip()}")
    check(f"node {name}," in result.stdout, f"{name}: --check-config said: {result.stdout}")
    return f"{name}:{metrics_port}"


def check_endpoints(what, config, services):
    for endpoint in config["meta_store"]["endpoints"]:
        host = host_port(endpoint)[0]
        check(host in services, f"{what}: etcd endpoint {endpoint} is no service")
    url = urllib.parse.urlparse(config["object_store"]["endpoint"])
    check(url.hostname in services, f"{what}: object store {url.hostname} is no service")


def main():
    binary = sys.argv[1]
    compose = load_compose()
    services = compose["services"]
    with open(os.path.join(DEPLOY, "logstore.json")) as f:
        logstore_config = json.load(f)
    with open(os.path.join(DEPLOY, "wp.json")) as f:
        client_config = json.load(f)
    logstores = sorted(s for s in services if s.startswith("logstore-"))
    check(logstores == [f"logstore-{i}" for i in range(1, 5)], f"LogStores: {logstores}")
    for required in ("etcd", "minio", "minio-bucket", "prometheus", "wp"):
        check(required in services, f"no {required} service")
    targets = {check_logstore(n, services[n], compose, logstore_config, binary)
               for n in logstores}
    with open(os.path.join(DEPLOY, "prometheus.yml")) as f:
        prometheus = yaml.safe_load(f)
    scraped = {t for job in prometheus["scrape_configs"]
               for c in job["static_configs"] for t in c["targets"]}
    check(scraped == targets, f"Prometheus scrapes {sorted(scraped)}, LogStores serve "
                              f"{sorted(targets)}")
    check_endpoints("logstore.json", logstore_config, services)
    check_endpoints("wp.json", client_config, services)
    check(client_config.get("mode") == "quorum", "wp.json is not in quorum mode")
    check(client_config["meta_store"] == logstore_config["meta_store"],
          "wp.json and logstore.json use different etcd settings")
    check(client_config["object_store"] == logstore_config["object_store"],
          "wp.json and logstore.json use different object stores")
    bucket = logstore_config["object_store"]["bucket"]
    check(f"local/{bucket}" in " ".join(services["minio-bucket"]["command"]),
          f"minio-bucket does not create bucket '{bucket}'")
    with open(os.path.join(DEPLOY, "Dockerfile")) as f:
        dockerfile = f.read()
    check(re.search(r"ninja -C /build wp wp-logstore", dockerfile) is not None,
          "the Dockerfile does not build wp and wp-logstore")
    check("libcpp-httplib-dev" in dockerfile, "the Dockerfile lacks cpp-httplib")
    check("-DWAL_PLANTED_BUGS=OFF" in dockerfile,
          "the Dockerfile builds with planted bugs honoured (WAL_PLANTED_BUGS is ON by default)")
    exposed = set(re.findall(r"^EXPOSE (.*)$", dockerfile, re.M)[0].split())
    listen_port = str(host_port(logstore_config["listen"])[1])
    metrics_port = str(host_port(logstore_config["metrics_listen"])[1])
    check({listen_port, metrics_port} <= exposed, f"the Dockerfile exposes {exposed}")
    for problem in problems:
        print("FAIL:", problem)
    if problems:
        return 1
    print(f"deploy/ ok: {len(services)} services, {len(logstores)} LogStores checked by "
          f"wp-logstore --check-config, {len(scraped)} scrape targets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
