import pytest
import yaml

from zpanel_deployer.commands import compose
from zpanel_deployer.commands.docker import ContainerSpec, Limits, Publish


def test_document_mirrors_the_docker_run_specs() -> None:
    specs = [
        ContainerSpec(
            name=f"web-d1-{r}",
            image="zpanel/web:abc",
            labels={"zpanel.app": "a1", "zpanel.replica": str(r)},
            env_file="/apps/web/d1/.env",
            publish=(Publish(8080),),
            network="zpanel",
            aliases=("web",),
            volumes=("webdata:/data", "/srv/static:/static:ro"),
            limits=Limits(memory="256m", cpus=1.5, pids=64),
        )
        for r in range(2)
    ]
    doc = compose.document("web-d1", specs)
    assert doc == {
        "name": "web-d1",
        "services": {
            f"web-d1-{r}": {
                "image": "zpanel/web:abc",
                "container_name": f"web-d1-{r}",
                "restart": "unless-stopped",
                "env_file": ["/apps/web/d1/.env"],
                "labels": {"zpanel.app": "a1", "zpanel.replica": str(r)},
                "ports": ["127.0.0.1::8080"],
                "networks": {"zpanel": {"aliases": ["web"]}},
                "volumes": ["webdata:/data", "/srv/static:/static:ro"],
                "mem_limit": "256m",
                "cpus": 1.5,
                "pids_limit": 64,
                "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
            }
            for r in range(2)
        },
        "networks": {"zpanel": {"external": True}},
        "volumes": {"webdata": {"name": "webdata"}},
    }
    assert yaml.safe_load(compose.render(doc)) == doc


def test_minimal_service_has_command_and_no_optional_keys() -> None:
    doc = compose.document("p", [ContainerSpec(name="n", image="i", command=("httpd", "-f"))])
    assert doc == {
        "name": "p",
        "services": {
            "n": {
                "image": "i",
                "container_name": "n",
                "restart": "unless-stopped",
                "command": ["httpd", "-f"],
                "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
            }
        },
    }


def test_env_file_is_literal_key_value_lines() -> None:
    assert compose.env_file({"A": "1", "B": "x y=z 'q'"}) == "A=1\nB=x y=z 'q'\n"
    assert compose.env_file({}) == ""


def test_env_file_refuses_a_newline_in_a_value() -> None:
    with pytest.raises(ValueError, match="environment variable K holds a newline"):
        compose.env_file({"K": "a\nb"})
