from zpanel.remote import engine_ops as E
from zpanel_deployer.commands import docker as D

SPEC = D.ContainerSpec(
    name="web-0123456789ab-0",
    image="zpanel/web:abc",
    labels={"zpanel.app": "a1", "zpanel.deployment": "d1"},
    env_file="/var/lib/zpanel/apps/web/d1/.env",
    publish=(D.Publish(8080),),
)


def test_container_name_uses_12_chars_of_the_deployment_and_the_replica() -> None:
    assert D.container_name("web", "0123456789abcdef0123", 1) == "web-0123456789ab-1"
    assert D.predeploy_name("web", "0123456789abcdef0123") == "web-0123456789ab-predeploy"


def test_publish_lets_docker_pick_the_host_port_on_loopback() -> None:
    assert D.Publish(8080).arg() == "127.0.0.1::8080"
    assert D.Publish(80, 18080).arg() == "127.0.0.1:18080:80"
    assert D.Publish(80, 18080, "0.0.0.0").arg() == "0.0.0.0:18080:80"


def test_run_argv() -> None:
    assert D.run(SPEC) == [
        "docker", "run", "--detach", "--restart", "unless-stopped",
        "--name", "web-0123456789ab-0",
        "--label", "zpanel.app=a1", "--label", "zpanel.deployment=d1",
        "--env-file", "/var/lib/zpanel/apps/web/d1/.env",
        "--publish", "127.0.0.1::8080",
        "--log-opt", "max-size=10m", "--log-opt", "max-file=3",
        "zpanel/web:abc",
    ]  # fmt: skip


def test_run_with_network_volumes_limits_and_command() -> None:
    spec = D.ContainerSpec(
        name="n",
        image="i",
        network="zpanel",
        aliases=("web",),
        volumes=("data:/data", "/srv/x:/x:ro"),
        limits=D.Limits(memory="512m", cpus=0.5, pids=100),
        restart="always",
        command=("httpd", "-f"),
    )
    assert D.run(spec) == [
        "docker", "run", "--detach", "--restart", "always", "--name", "n",
        "--network", "zpanel", "--network-alias", "web",
        "--volume", "data:/data", "--volume", "/srv/x:/x:ro",
        "--memory", "512m", "--cpus", "0.5", "--pids-limit", "100",
        "--log-opt", "max-size=10m", "--log-opt", "max-file=3",
        "i", "httpd", "-f",
    ]  # fmt: skip


def test_create_is_run_without_detach() -> None:
    assert D.create(SPEC)[:4] == ["docker", "create", "--restart", "unless-stopped"]
    assert D.create(SPEC)[4:] == D.run(SPEC)[5:]


def test_one_off_runs_sh_c_and_removes_itself() -> None:
    spec = D.ContainerSpec(name="web-x-predeploy", image="i", env_file="/e")
    assert D.one_off(spec, "./migrate && echo ok") == [
        "docker", "run", "--rm", "--name", "web-x-predeploy", "--env-file", "/e",
        "--log-opt", "max-size=10m", "--log-opt", "max-file=3",
        "i", "sh", "-c", "./migrate && echo ok",
    ]  # fmt: skip


def test_lifecycle_commands() -> None:
    assert D.start("a", "b") == ["docker", "start", "a", "b"]
    assert D.stop("a", timeout=3) == ["docker", "stop", "--time", "3", "a"]
    assert D.rm("a") == ["docker", "rm", "--force", "a"]
    assert D.rm("a", force=False) == ["docker", "rm", "a"]
    assert D.inspect("a") == ["docker", "inspect", "--type", "container", "a"]
    assert D.logs("a", 5) == ["docker", "logs", "--tail", "5", "a"]
    assert D.exec_("a", ["sh", "-c", "x"]) == ["docker", "exec", "a", "sh", "-c", "x"]


def test_ps_filters_by_every_label() -> None:
    assert D.ps({"zpanel.app": "a1", "zpanel.replica": "0"}) == [
        "docker", "ps", "--quiet", "--no-trunc", "--all",
        "--filter", "label=zpanel.app=a1", "--filter", "label=zpanel.replica=0",
    ]  # fmt: skip
    assert D.ps({"zpanel.app": "a1"}, all_=False) == [
        "docker", "ps", "--quiet", "--no-trunc", "--filter", "label=zpanel.app=a1",
    ]  # fmt: skip


def test_image_commands() -> None:
    assert D.image_id("x:1") == ["docker", "image", "inspect", "--format", "{{.Id}}", "x:1"]
    assert D.image_ls("zpanel/web") == ["docker", "image", "ls", "--no-trunc", "--format", "{{json .}}", "zpanel/web"]
    assert D.image_rm("a:1", "a:2") == ["docker", "image", "rm", "a:1", "a:2"]
    assert D.save("x:1") == ["docker", "save", "x:1"]
    assert D.load() == ["docker", "load"]
    assert D.pull("r/x:1") == ["docker", "pull", "--quiet", "r/x:1"]


def test_network_commands() -> None:
    assert D.network_inspect("zpanel") == ["docker", "network", "inspect", "--format", "{{.Id}}", "zpanel"]
    assert D.network_create("zpanel") == ["docker", "network", "create", "--label", "zpanel.managed=true", "zpanel"]


def test_hot_commands_carry_their_engine_api_form() -> None:
    assert D.ps({"zpanel.app": "a1", "zpanel.replica": "0"}).engine == E.ListIds(
        (("all", "1"), ("filters", '{"label":["zpanel.app=a1","zpanel.replica=0"]}'))
    )
    assert D.ps({}, all_=False).engine == E.ListIds(())
    assert D.inspect("a", "b").engine == E.Inspect(("a", "b"))
    assert D.start("a", "b").engine == E.Each("POST", "/containers/{name}/start", ("a", "b"))
    assert D.stop("a", timeout=3).engine == E.Each("POST", "/containers/{name}/stop", ("a",), (("t", "3"),))
    assert D.rm("a").engine == E.Each("DELETE", "/containers/{name}", ("a",), (("force", "1"),))
    assert D.rm("a", force=False).engine == E.Each("DELETE", "/containers/{name}", ("a",))
    assert D.image_id("x:1").engine == E.ImageId("x:1")


def test_run_carries_the_create_body_docker_run_sends() -> None:
    op = D.run(SPEC).engine
    assert op == E.Run("web-0123456789ab-0", op.body, "/var/lib/zpanel/apps/web/d1/.env")
    assert op.body == {
        "Image": "zpanel/web:abc",
        "Labels": {"zpanel.app": "a1", "zpanel.deployment": "d1"},
        "ExposedPorts": {"8080/tcp": {}},
        "HostConfig": {
            "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
            "LogConfig": {"Type": "", "Config": {"max-size": "10m", "max-file": "3"}},
            "NetworkMode": "default",
            "PortBindings": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]},
        },
    }


def test_run_body_with_network_volumes_limits_and_command() -> None:
    spec = D.ContainerSpec(
        name="n",
        image="i",
        network="zpanel",
        aliases=("web",),
        volumes=("data:/data", "/srv/x:/x:ro"),
        limits=D.Limits(memory="512m", cpus=0.5, pids=100),
        restart="always",
        command=("httpd", "-f"),
        publish=(D.Publish(80, 18080, "0.0.0.0"),),
    )
    assert D.run(spec).engine.body == {
        "Image": "i",
        "Labels": {},
        "Cmd": ["httpd", "-f"],
        "ExposedPorts": {"80/tcp": {}},
        "HostConfig": {
            "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0},
            "LogConfig": {"Type": "", "Config": {"max-size": "10m", "max-file": "3"}},
            "NetworkMode": "zpanel",
            "PortBindings": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "18080"}]},
            "Binds": ["data:/data", "/srv/x:/x:ro"],
            "Memory": 512 * 1024 * 1024,
            "NanoCpus": 500_000_000,
            "PidsLimit": 100,
        },
        "NetworkingConfig": {"EndpointsConfig": {"zpanel": {"Aliases": ["web"]}}},
    }


def test_commands_without_an_engine_form_are_plain_lists() -> None:
    spec = D.ContainerSpec(name="p", image="i")
    assert [type(c) for c in (D.one_off(spec, "x"), D.logs("a"), D.image_ls("r"), D.save("x"))] == [list] * 4
