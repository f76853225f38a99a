from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.builder.helpers import tree
from zpanel.models import BuildSettings
from zpanel_builder.baseimages import BaseImages
from zpanel_builder.errors import DetectError, InvalidSource
from zpanel_builder.recipe import plan_build

IMAGES = BaseImages.all("local:1")


def test_procfile_web_line_becomes_the_start_command() -> None:
    recipe = plan_build(tree("python-procfile"), BuildSettings(), IMAGES)
    assert recipe.kind == "generated"
    assert recipe.dockerfile is None
    assert recipe.dockerfile_text.endswith('CMD ["sh", "-c", "exec gunicorn --bind 0.0.0.0:$PORT wsgi:app"]\n')
    assert recipe.description == (
        "detected a python app; start command (Procfile web: line): gunicorn --bind 0.0.0.0:$PORT wsgi:app"
    )


def test_auto_prefers_the_repository_dockerfile(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    (tmp_path / "index.html").write_text("hi")
    (tmp_path / "Procfile").write_text("web: ./serve\n")
    recipe = plan_build(tmp_path, BuildSettings(target="prod"), IMAGES)
    assert (recipe.kind, recipe.dockerfile, recipe.dockerfile_text, recipe.target, recipe.start_command) == (
        "dockerfile",
        (tmp_path / "Dockerfile").resolve(),
        "FROM x\n",
        "prod",
        "./serve",
    )


def test_static_kind_serves_even_a_node_tree() -> None:
    recipe = plan_build(tree("node-nolock"), BuildSettings(kind="static"), IMAGES)
    assert "COPY public/ /www/\n" in recipe.dockerfile_text


def test_dockerfile_kind_without_a_dockerfile_fails_clearly() -> None:
    with pytest.raises(DetectError, match="no Dockerfile at 'docker/Dockerfile'"):
        plan_build(tree("static-root"), BuildSettings(kind="dockerfile", dockerfile="docker/Dockerfile"), IMAGES)


def test_paths_outside_the_repository_are_refused(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "secret").write_text("FROM x\n")
    os.symlink(tmp_path / "secret", tmp_path / "repo" / "Dockerfile")
    with pytest.raises(
        InvalidSource, match=re.escape("the Dockerfile path 'Dockerfile' points outside the repository")
    ):
        plan_build(tmp_path / "repo", BuildSettings(), IMAGES)
    with pytest.raises(InvalidSource, match=re.escape("the build context path '../' points outside the repository")):
        plan_build(tmp_path / "repo", BuildSettings(context="../"), IMAGES)
