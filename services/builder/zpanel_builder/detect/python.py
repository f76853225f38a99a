"""Python: requirements.txt, pyproject.toml or Pipfile. Django runs under gunicorn, FastAPI under
uvicorn, anything else as ``python main.py``."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from zpanel_builder.detect.plan import PythonPlan
from zpanel_builder.errors import DetectError

_MARKERS = ("requirements.txt", "pyproject.toml", "Pipfile", "manage.py", "main.py")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_FASTAPI_APP = re.compile(r"^(\w+)\s*(?::[^=]+)?=\s*FastAPI\(", re.MULTILINE)
_FASTAPI_FILES = ("main.py", "app.py", "app/main.py", "src/main.py", "api/main.py")


def matches(root: Path) -> bool:
    return any((root / m).is_file() for m in _MARKERS)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(requirements: list[str]) -> set[str]:
    found = set()
    for line in requirements:
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-") and (m := _NAME.match(line)):
            found.add(_norm(m.group(1)))
    return found


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DetectError(f"{path.name} is not valid TOML ({exc}): fix it or add a Dockerfile") from exc


def _dependencies(root: Path) -> tuple[set[str], tuple[str, ...], str]:
    """Package names, the files the install step needs, and the install command (before extras)."""
    if (root / "requirements.txt").is_file():
        lines = (root / "requirements.txt").read_text(errors="replace").splitlines()
        return _names(lines), ("requirements.txt",), "pip install -r requirements.txt"
    if (root / "pyproject.toml").is_file():
        data = _toml(root / "pyproject.toml")
        deps = list(data.get("project", {}).get("dependencies", []))
        deps += list(data.get("tool", {}).get("poetry", {}).get("dependencies", {}))
        # `pip install .` builds the project itself, so it needs the whole source.
        return _names(deps), (), "pip install ."
    if (root / "Pipfile").is_file():
        data = _toml(root / "Pipfile")
        files = ("Pipfile", "Pipfile.lock") if (root / "Pipfile.lock").is_file() else ("Pipfile",)
        deploy = " --deploy" if len(files) == 2 else ""
        return _names(list(data.get("packages", {}))), files, f"pip install pipenv && pipenv install --system{deploy}"
    return set(), (), ""


def _django_start(root: Path) -> str:
    wsgi = sorted(p.parent.name for p in root.glob("*/wsgi.py"))
    if not wsgi:
        raise DetectError("a Django project needs <project>/wsgi.py next to manage.py, or a Procfile web: line")
    return f"gunicorn --bind 0.0.0.0:$PORT {wsgi[0]}.wsgi"


def _fastapi_start(root: Path) -> str:
    for rel in _FASTAPI_FILES:
        path = root / rel
        if path.is_file() and (m := _FASTAPI_APP.search(path.read_text(errors="replace"))):
            module = rel.removesuffix(".py").replace("/", ".")
            return f"uvicorn {module}:{m.group(1)} --host 0.0.0.0 --port $PORT"
    return "uvicorn main:app --host 0.0.0.0 --port $PORT"


def detect(root: Path) -> PythonPlan:
    names, files, install = _dependencies(root)
    extras: list[str] = []
    framework: str | None = None
    start: str | None
    if "django" in names or (root / "manage.py").is_file():
        framework, start = "django", _django_start(root)
        extras = [] if "gunicorn" in names else ["gunicorn"]
    elif "fastapi" in names:
        framework, start = "fastapi", _fastapi_start(root)
        extras = [] if "uvicorn" in names else ["uvicorn"]
    else:
        start = "python main.py" if (root / "main.py").is_file() else None
    if extras:
        install = f"{install} && pip install {' '.join(extras)}" if install else f"pip install {' '.join(extras)}"
    return PythonPlan(install_files=files, install=install, framework=framework, start=start)
