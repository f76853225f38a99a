from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from zpanel_builder.build import BuildSpec, build_argv, build_env, build_key, image_ref
from zpanel_builder.errors import InvalidSource

SHA = "0123456789abcdef0123456789abcdef01234567"
SPEC = BuildSpec(
    image="shop:0123456789ab",
    context=Path("/w/d1"),
    dockerfile_text="FROM x\n",
    app_id="app1",
    commit=SHA,
    deployment_id="dep1",
    target="prod",
    args={"B": "2", "A": "1"},
    secret_names=("TOKEN",),
)


def test_image_ref_is_app_and_commit12() -> None:
    assert image_ref("shop", SHA) == "shop:0123456789ab"
    assert image_ref("127.0.0.1:5000/team/shop", SHA) == "127.0.0.1:5000/team/shop:0123456789ab"
    with pytest.raises(InvalidSource, match="image name 'Shop;x' is not valid"):
        image_ref("Shop;x", SHA)
    with pytest.raises(InvalidSource, match="must be a full hex SHA"):
        image_ref("shop", "main")


def test_build_argv_exact_sorted_and_secrets_as_files() -> None:
    argv = build_argv(
        "/usr/bin/docker",
        SPEC,
        dockerfile=Path("/t/Dockerfile"),
        secret_files={"TOKEN": Path("/t/secret-TOKEN")},
        iidfile=Path("/t/iid"),
        key="k1",
    )
    assert argv == [
        "/usr/bin/docker",
        "build",
        "--progress=plain",
        "--file",
        "/t/Dockerfile",
        "--tag",
        "shop:0123456789ab",
        "--label",
        "zpanel.app=app1",
        "--label",
        "zpanel.build-key=k1",
        "--label",
        f"zpanel.commit={SHA}",
        "--label",
        "zpanel.deployment=dep1",
        "--target",
        "prod",
        "--build-arg",
        "A=1",
        "--build-arg",
        "B=2",
        "--secret",
        "id=TOKEN,src=/t/secret-TOKEN",
        "--iidfile",
        "/t/iid",
        "/w/d1",
    ]


def test_build_key_ignores_per_deployment_facts_and_follows_content() -> None:
    key = build_key(SPEC)
    assert len(key) == 32
    assert build_key(replace(SPEC, deployment_id="dep2", context=Path("/w/other"), args={"A": "1", "B": "2"})) == key
    changed = [
        replace(SPEC, commit="1" * 40),
        replace(SPEC, dockerfile_text="FROM y\n"),
        replace(SPEC, target=None),
        replace(SPEC, args={"A": "1", "B": "3"}),
        replace(SPEC, secret_names=()),
        replace(SPEC, context_path="web"),
    ]
    assert len({build_key(s) for s in changed} | {key}) == len(changed) + 1


def test_spec_refuses_bad_names() -> None:
    with pytest.raises(InvalidSource, match="build variable name 'A B' is not valid"):
        replace(SPEC, args={"A B": "1"})
    with pytest.raises(InvalidSource, match="build target '--x' is not a valid stage name"):
        replace(SPEC, target="--x")


def test_build_env_turns_buildkit_on() -> None:
    assert build_env({"PATH": "/bin"}) == {
        "PATH": "/bin",
        "DOCKER_BUILDKIT": "1",
        "BUILDKIT_PROGRESS": "plain",
        "DOCKER_CLI_HINTS": "false",
    }
