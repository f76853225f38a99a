"""The applications the end-to-end cases push: busybox httpd sites whose Dockerfiles make each
stage last long enough to be interrupted, or fail where a case needs it to.

Each starts through ``start.sh``, which stops httpd on SIGTERM: as PID 1, httpd alone would ignore
it and every retired version would cost Docker's 10 s stop timeout."""

from __future__ import annotations


def start_script(port: int = 8080, sleep: float = 0, before: str = "") -> str:
    wait = f"sleep {sleep:g}\n" if sleep else ""
    return (
        f"#!/bin/sh\n{before}{wait}httpd -f -p {port} -h /www &\npid=$!\n"
        'trap \'kill "$pid"; exit 0\' TERM INT\nwait "$pid"\n'
    )


def site(version: str, *, port: int = 8080, build_sleep: float = 0, start_sleep: float = 0) -> dict[str, str]:
    """``/`` says ``hello from <version>``. ``build_sleep``: a build step that lasts that long;
    ``start_sleep``: httpd starts only after that long (a slow-to-answer app)."""
    lines = ["FROM zpanel-test/busybox:1", "COPY www /www", "COPY start.sh /start.sh"]
    if build_sleep:
        lines.append(f"RUN echo building {version} && sleep {build_sleep:g}")
    lines.append('CMD ["/start.sh"]')
    return {
        "Dockerfile": "\n".join(lines) + "\n",
        "start.sh": start_script(port, start_sleep),
        "www/index.html": f"hello from {version}\n",
    }


def slow_root(version: str, seconds: float = 1.0) -> dict[str, str]:
    """``/`` is a CGI script that answers after ``seconds`` (busybox httpd runs cgi-bin/index.cgi
    for a directory without index.html); ``/health.txt`` answers at once."""
    return {
        "Dockerfile": "FROM zpanel-test/busybox:1\nRUN rm -f /www/index.html\nCOPY www /www\n"
        'COPY start.sh /start.sh\nCMD ["/start.sh"]\n',
        "start.sh": start_script(),
        "www/health.txt": "ok\n",
        "www/cgi-bin/index.cgi": f'#!/bin/sh\nsleep {seconds:g}\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\n'
        f"echo hello from {version}\n",
    }


def secret_site(version: str, *, port: int = 8080) -> dict[str, str]:
    """Uses the build-time secret BUILD_TOKEN and the runtime secret DB_PASSWORD the way careless
    apps do: both are printed (to the build log, to the container's output); ``/build.sha`` and
    ``/run.sha`` hold their sha256, so the test knows each reached its place."""
    # BuildKit's cache key of a RUN step leaves out the secrets it mounts: name the version in it
    dockerfile = f"""FROM zpanel-test/busybox:1
COPY www /www
COPY start.sh /start.sh
RUN --mount=type=secret,id=BUILD_TOKEN echo "building {version}; build token is $(cat /run/secrets/BUILD_TOKEN)" \\
 && cat /run/secrets/BUILD_TOKEN | sha256sum | cut -c1-64 > /www/build.sha
CMD ["/start.sh"]
"""
    before = 'echo "starting with DB_PASSWORD=$DB_PASSWORD"\nprintf %s "$DB_PASSWORD" | sha256sum | cut -c1-64 > /www/run.sha\n'
    return {
        "Dockerfile": dockerfile,
        "start.sh": start_script(port, before=before),
        "www/index.html": f"hello from {version}\n",
    }
