#!/usr/bin/env python3
"""Offline checks of docs/schedulers/kubernetes (no cluster needed).

Usage: check_kubernetes.py [--cli MESBACKUP]

  1. cronjob.yaml validates against Kubernetes' own OpenAPI schemas, strictly (unknown fields are
     errors), for the oldest version it needs (1.27: CronJob timeZone) and the newest the installed
     kubernetes-validate knows; the checker first proves it rejects a broken copy.
  2. kubectl reads the manifests offline (`kubectl label --local -f ... -o yaml`: `kubectl create
     --dry-run=client` needs an API server for discovery, even with --validate=false). When kubectl is
     missing this step says so and is NOT counted as passed.
  3. The promises of the README: concurrencyPolicy Forbid, startingDeadlineSeconds, history limits,
     no Job retries, non-root, read-only root filesystem, no privilege escalation, all capabilities
     dropped; every token from a Secret (secretKeyRef) into exactly the variables the config's
     token_env names; the config from the ConfigMap at the path the container's args name; every
     environment's output folder on the PersistentVolumeClaim.
  4. The Dockerfile: a scratch final stage with the CA bundle and the release's static binary
     (the artifact name ./scripts/release writes), the CronJob's user, ENTRYPOINT + CMD as the args.
  5. With --cli: the ConfigMap's mesbackup.toml is accepted by the real CLI (`run --dry-run --json`,
     the output folders moved to a temporary folder, the token variables set), one plan per
     environment.
Exit code 1 when any check that ran failed.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import kubernetes_validate
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "docs/schedulers/kubernetes"
MANIFEST = K8S / "cronjob.yaml"
DOCKERFILE = K8S / "Dockerfile"
VERSIONS = ["1.27.0", kubernetes_validate.latest_version()]

failures: list[str] = []
skipped: list[str] = []
passed = 0


def check(condition: bool, message: str) -> None:
    global passed
    if condition:
        passed += 1
    else:
        failures.append(message)
        print(f"FAIL {message}")


def schema_errors(doc: dict, version: str) -> list[str]:
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as e:
        return [f"{'.'.join(str(p) for p in e.path)}: {e.message}"]
    except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as e:
        return [f"no schema: {e}"]
    return []


def main() -> int:
    cli = None
    if len(sys.argv) == 3 and sys.argv[1] == "--cli":
        cli = sys.argv[2]
    elif len(sys.argv) != 1:
        print(__doc__)
        return 2

    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8")) if d]
    by_kind = {d["kind"]: d for d in docs}
    check(
        sorted(by_kind) == ["ConfigMap", "CronJob", "PersistentVolumeClaim"],
        f"cronjob.yaml: expected a ConfigMap, a PersistentVolumeClaim and a CronJob, got {sorted(by_kind)}",
    )
    cron = by_kind.get("CronJob", {})

    # 1. Kubernetes' schemas, strict; first prove that a broken copy is rejected.
    broken = copy.deepcopy(cron)
    pod = broken["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod["containers"][0]["securityContex"] = {"runAsNonRoot": True}  # a typo: unknown field
    broken["spec"]["startingDeadlineSeconds"] = "1h"  # a wrong type
    probe = schema_errors(broken, VERSIONS[-1])
    if not probe:
        print("self-test FAILED: a CronJob with an unknown field and a wrong type validated")
        return 1
    print(f"self-test: a broken CronJob was rejected ({probe[0]})")
    for version in VERSIONS:
        for doc in docs:
            errors = schema_errors(doc, version)
            check(not errors, f"{doc['kind']}/{doc['metadata']['name']} against Kubernetes {version}: {errors}")
    print(f"schemas: {len(docs)} resources valid (strict) for Kubernetes {' and '.join(VERSIONS)}")

    # 2. kubectl reads the files without a cluster.
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        skipped.append("kubectl")
        print(
            "kubectl did not run: no kubectl on PATH (Debian: apt-get install kubernetes-client); NOT counted as passed"
        )
    else:
        with tempfile.TemporaryDirectory() as tmp:
            bad = Path(tmp) / "bad.yaml"
            bad.write_text("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x\n", encoding="utf-8")
            proc = subprocess.run(
                [kubectl, "label", "--local", "-f", str(bad), "-o", "yaml", "checked=yes"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            if proc.returncode == 0:
                print("self-test FAILED: kubectl accepted broken YAML offline")
                return 1
        proc = subprocess.run(
            [kubectl, "label", "--local", "-f", str(MANIFEST), "-o", "json", "checked=yes"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        check(proc.returncode == 0, f"kubectl label --local -f cronjob.yaml failed: {proc.stderr.strip()[:500]}")
        if proc.returncode == 0:
            # One JSON object per resource, one after the other.
            items, text, pos, decoder = [], proc.stdout, 0, json.JSONDecoder()
            while text[pos:].strip():
                pos += len(text[pos:]) - len(text[pos:].lstrip())
                obj, pos = decoder.raw_decode(text, pos)
                items.extend(obj.get("items", [obj]))
            kinds = sorted(i["kind"] for i in items)
            check(kinds == sorted(by_kind), f"kubectl read {kinds}, the file has {sorted(by_kind)}")
            print(f"kubectl ({kubectl}) read {', '.join(kinds)} offline")

    # 3. What the README promises.
    spec = cron.get("spec", {})
    job = spec.get("jobTemplate", {}).get("spec", {})
    pod = job.get("template", {}).get("spec", {})
    container = (pod.get("containers") or [{}])[0]
    csc = container.get("securityContext", {})
    psc = pod.get("securityContext", {})
    check(spec.get("concurrencyPolicy") == "Forbid", "CronJob: concurrencyPolicy must be Forbid")
    check(isinstance(spec.get("startingDeadlineSeconds"), int), "CronJob: startingDeadlineSeconds missing")
    check(
        isinstance(spec.get("successfulJobsHistoryLimit"), int) and isinstance(spec.get("failedJobsHistoryLimit"), int),
        "CronJob: successfulJobsHistoryLimit / failedJobsHistoryLimit missing",
    )
    check(
        job.get("backoffLimit") == 0 and pod.get("restartPolicy") == "Never",
        "Job: no retries (backoffLimit 0, restartPolicy Never)",
    )
    check(
        psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0, "pod: runAsNonRoot with a non-zero runAsUser"
    )
    check(csc.get("readOnlyRootFilesystem") is True, "container: readOnlyRootFilesystem must be true")
    check(csc.get("allowPrivilegeEscalation") is False, "container: allowPrivilegeEscalation must be false")
    check(csc.get("capabilities", {}).get("drop") == ["ALL"], "container: capabilities.drop must be [ALL]")

    configmap = by_kind.get("ConfigMap", {})
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["name"]: m for m in container.get("volumeMounts", [])}
    config_volume = next((n for n, v in volumes.items() if "configMap" in v), None)
    pvc_volume = next((n for n, v in volumes.items() if "persistentVolumeClaim" in v), None)
    check(
        config_volume is not None
        and volumes[config_volume]["configMap"]["name"] == configmap.get("metadata", {}).get("name"),
        "the config volume must come from the ConfigMap in this file",
    )
    check(
        pvc_volume is not None
        and volumes[pvc_volume]["persistentVolumeClaim"]["claimName"]
        == by_kind.get("PersistentVolumeClaim", {}).get("metadata", {}).get("name"),
        "the backups volume must be the PersistentVolumeClaim in this file",
    )
    args = container.get("args", [])
    config_path = args[args.index("--config") + 1] if "--config" in args else ""
    config_mount = mounts.get(config_volume, {}).get("mountPath", "") if config_volume else ""
    key = config_path[len(config_mount) + 1 :] if config_mount and config_path.startswith(config_mount + "/") else None
    check(
        args[:1] == ["run"] and key in configmap.get("data", {}),
        f"args {args}: --config must name a key of the ConfigMap under {config_mount}",
    )
    config_text = configmap.get("data", {}).get(key or "", "")
    config = tomllib.loads(config_text) if config_text else {"environment": []}
    token_vars = {e["token_env"] for e in config["environment"] if "token_env" in e}
    check(
        all("token_env" in e for e in config["environment"]) and len(config["environment"]) >= 1,
        "every environment of the ConfigMap's config takes its token by token_env",
    )
    env = container.get("env", [])
    from_secret = {e["name"] for e in env if e.get("valueFrom", {}).get("secretKeyRef")}
    check(
        from_secret == token_vars,
        f"the Secret's variables {sorted(from_secret)} must be exactly the config's token_env {sorted(token_vars)}",
    )
    check(all("value" not in e for e in env), "no env value is written inline in the manifest")
    backups_mount = mounts.get(pvc_volume, {}).get("mountPath", "/nonexistent") if pvc_volume else "/nonexistent"
    for e in config["environment"]:
        check(
            str(e.get("out", "")).startswith(backups_mount + "/"),
            f"environment {e.get('name')}: out {e.get('out')} is not on the PersistentVolumeClaim ({backups_mount})",
        )

    # 4. The Dockerfile.
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    stages = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    check(stages[-1:] == ["scratch"], f"Dockerfile: the final stage must be FROM scratch, got {stages}")
    final = dockerfile[dockerfile.rindex("FROM scratch") :] if "FROM scratch" in dockerfile else ""
    check("/etc/ssl/certs/ca-certificates.crt" in final, "Dockerfile: the CA bundle is not copied into the image")
    release = (ROOT / "scripts/release").read_text(encoding="utf-8")
    check(
        '"$dist/mesbackup-$version-linux-x64"' in release and "dist/mesbackup-${VERSION}-linux-x64" in final,
        "Dockerfile: must copy the release's static CLI (dist/mesbackup-VERSION-linux-x64)",
    )
    user = re.search(r"^USER\s+(\d+)(?::(\d+))?", final, re.MULTILINE)
    check(
        user is not None
        and int(user.group(1)) == psc.get("runAsUser")
        and int(user.group(2) or -1) == psc.get("runAsGroup"),
        "Dockerfile: USER must be the CronJob's runAsUser:runAsGroup",
    )
    entry = re.search(r"^ENTRYPOINT\s+(\[.*\])", final, re.MULTILINE)
    cmd = re.search(r"^CMD\s+(\[.*\])", final, re.MULTILINE)
    check(
        entry is not None and cmd is not None and json.loads(cmd.group(1)) == args,
        "Dockerfile: CMD must be the CronJob's args",
    )
    check(
        entry is not None
        and json.loads(entry.group(1)) == ["/usr/local/bin/mesbackup"]
        and "/usr/local/bin/mesbackup" in final,
        "Dockerfile: ENTRYPOINT must be the copied binary",
    )

    # 5. The real CLI accepts the config.
    if cli:
        with tempfile.TemporaryDirectory() as tmp:
            moved = config_text.replace(f'"{backups_mount}/', f'"{tmp}/backups/')
            path = Path(tmp) / "mesbackup.toml"
            path.write_text(moved, encoding="utf-8")
            child_env = {k: v for k, v in os.environ.items() if not k.startswith("MES_")}
            child_env.update({v: "placeholder-token" for v in token_vars})
            proc = subprocess.run(
                [cli, "run", "--dry-run", "--json", "--config", str(path)],
                capture_output=True,
                text=True,
                env=child_env,
                timeout=60,
                check=False,
            )
            check(
                proc.returncode == 0,
                f"mesbackup run --dry-run refused the ConfigMap's config: {proc.stderr.strip()[:500]}",
            )
            events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
            plans = events[-1].get("environments", []) if events else []
            check(
                [p["name"] for p in plans] == [e["name"] for e in config["environment"]],
                f"mesbackup run --dry-run: expected a plan per environment, got {events}",
            )
            print(f"the ConfigMap's config: {len(plans)} environment(s) planned by {cli}")
    else:
        skipped.append("the config through the CLI")
        print("the ConfigMap's config was not run through the CLI (no --cli given); NOT counted as passed")

    print(
        f"kubernetes: {passed} checks passed, {len(failures)} failed"
        + (f", skipped (not counted as passed): {', '.join(skipped)}" if skipped else "")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
