from __future__ import annotations

import re

import pytest

from tests.builder.helpers import tree
from zpanel_builder.detect import GoPlan, NodePlan, PythonPlan, StaticPlan, detect
from zpanel_builder.errors import DetectError


def test_node_npm_with_lockfile_build_and_start_script() -> None:
    assert detect(tree("node-npm")) == NodePlan(
        package_manager="npm",
        install_files=("package.json", "package-lock.json", ".npmrc"),
        install="npm ci",
        build="npm run build",
        start="npm start",
    )


def test_node_yarn_lockfile_chooses_yarn() -> None:
    assert detect(tree("node-yarn")) == NodePlan(
        package_manager="yarn",
        install_files=("package.json", "yarn.lock"),
        install="yarn install --frozen-lockfile",
        build=None,
        start="yarn start",
    )


def test_node_pnpm_lockfile_wins_over_a_stale_yarn_lock() -> None:
    plan = detect(tree("node-pnpm"))
    assert isinstance(plan, NodePlan)
    assert (plan.package_manager, plan.install, plan.install_files) == (
        "pnpm",
        "corepack enable && pnpm install --frozen-lockfile",
        ("package.json", "pnpm-lock.yaml"),
    )


def test_node_without_start_script_runs_main() -> None:
    plan = detect(tree("node-main"))
    assert isinstance(plan, NodePlan)
    assert (plan.start, plan.install) == ("node lib/app.js", "npm install")


def test_node_without_lockfile_or_main_runs_index_js_not_static() -> None:
    plan = detect(tree("node-nolock"))
    assert isinstance(plan, NodePlan)
    assert (plan.install_files, plan.start) == (("package.json",), "node index.js")


def test_python_django_runs_gunicorn_on_the_wsgi_module() -> None:
    assert detect(tree("python-django")) == PythonPlan(
        install_files=("requirements.txt",),
        install="pip install -r requirements.txt",
        framework="django",
        start="gunicorn --bind 0.0.0.0:$PORT mysite.wsgi",
    )


def test_python_fastapi_from_pyproject_finds_the_app_object_and_adds_uvicorn() -> None:
    assert detect(tree("python-fastapi")) == PythonPlan(
        install_files=(),
        install="pip install . && pip install uvicorn",
        framework="fastapi",
        start="uvicorn app.main:api --host 0.0.0.0 --port $PORT",
    )


def test_python_pipfile_with_lock_installs_with_deploy() -> None:
    assert detect(tree("python-pipfile")) == PythonPlan(
        install_files=("Pipfile", "Pipfile.lock"),
        install="pip install pipenv && pipenv install --system --deploy",
        framework="fastapi",
        start="uvicorn main:app --host 0.0.0.0 --port $PORT",
    )


def test_python_plain_runs_main_py() -> None:
    plan = detect(tree("python-plain"))
    assert isinstance(plan, PythonPlan)
    assert (plan.framework, plan.start) == (None, "python main.py")


def test_go_root_main_package_wins_over_public_folder() -> None:
    assert detect(tree("go-root")) == GoPlan(has_go_sum=True, package=".")


def test_go_single_cmd_package() -> None:
    assert detect(tree("go-cmd")) == GoPlan(has_go_sum=False, package="./cmd/server")


@pytest.mark.parametrize(("name", "root"), [("static-root", "."), ("static-dist", "dist"), ("static-public", "public")])
def test_static_roots(name: str, root: str) -> None:
    assert detect(tree(name)) == StaticPlan(root=root)


def test_nothing_detected_says_what_was_looked_for() -> None:
    with pytest.raises(DetectError, match=r"looked for go.mod, package.json.*add a Dockerfile"):
        detect(tree("empty"))


def test_invalid_package_json_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "package.json").write_text("{not json")
    with pytest.raises(DetectError, match=re.escape("package.json is not valid JSON")):
        detect(tmp_path)
