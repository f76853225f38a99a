"""Compose apps: every service with a ``build:`` section becomes one BuildSpec, tagged
``<app>-<service>:<commit12>``. Services with only ``image:`` are pulled by the deployer."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from zpanel_builder.build import BuildSpec, image_ref
from zpanel_builder.errors import DetectError
from zpanel_builder.paths import inside

_SERVICE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")


def _args(raw: Any, service: str) -> dict[str, str]:
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        pairs = [str(item).split("=", 1) for item in raw]
        return {p[0]: p[1] if len(p) == 2 else "" for p in pairs}
    raise DetectError(f"service {service!r}: build.args must be a mapping or a list")


def service_builds(
    root: Path,
    compose_file: str,
    *,
    app_name: str,
    app_id: str,
    commit: str,
    deployment_id: str,
    secret_names: tuple[str, ...] = (),
) -> dict[str, BuildSpec]:
    """One BuildSpec per service that builds, keyed by service name."""
    path = inside(root, compose_file, "compose file")
    if not path.is_file():
        raise DetectError(f"no compose file at {compose_file!r}: add it or fix the application's compose file")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise DetectError(f"{compose_file} is not valid YAML: {exc}") from exc
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict) or not services:
        raise DetectError(f"{compose_file} has no services")
    base = os.path.dirname(os.path.normpath(compose_file))
    specs: dict[str, BuildSpec] = {}
    for name, service in sorted(services.items()):
        if not _SERVICE.match(str(name)):
            raise DetectError(f"compose service name {name!r} is not valid")
        raw = (service or {}).get("build")
        if raw is None:
            continue
        conf = {"context": raw} if isinstance(raw, str) else raw
        if not isinstance(conf, dict):
            raise DetectError(f"service {name!r}: build must be a path or a mapping")
        if "dockerfile_inline" in conf:
            raise DetectError(f"service {name!r}: dockerfile_inline is not supported; commit the Dockerfile")
        rel_context = os.path.normpath(os.path.join(base, str(conf.get("context", "."))))
        context = inside(root, rel_context, f"build context of service {name!r}")
        rel_dockerfile = os.path.normpath(os.path.join(rel_context, str(conf.get("dockerfile", "Dockerfile"))))
        dockerfile = inside(root, rel_dockerfile, f"Dockerfile of service {name!r}")
        if not dockerfile.is_file():
            raise DetectError(f"service {name!r}: no Dockerfile at {rel_dockerfile}")
        specs[name] = BuildSpec(
            image=image_ref(f"{app_name}-{str(name).lower().replace('_', '-')}", commit),
            context=context,
            dockerfile=dockerfile,
            dockerfile_text=dockerfile.read_text(errors="replace"),
            app_id=app_id,
            commit=commit,
            deployment_id=deployment_id,
            target=conf.get("target"),
            args=_args(conf.get("args"), str(name)),
            secret_names=secret_names,
            context_path=rel_context,
        )
    if not specs:
        raise DetectError(f"no service in {compose_file} has a build section: nothing to build")
    return specs


def image_override(images: Mapping[str, str]) -> dict[str, Any]:
    """A compose override document pinning each built service to its image."""
    return {"services": {name: {"image": image} for name, image in sorted(images.items())}}
