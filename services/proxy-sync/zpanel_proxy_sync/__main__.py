"""``python -m zpanel_proxy_sync``: the proxy-sync service (see worker.py)."""

from zpanel.lazy import refuse_unused_extras

refuse_unused_extras()  # before structlog is imported: it would pull in rich (see zpanel.lazy)

from zpanel.service import run  # noqa: E402
from zpanel_proxy_sync.worker import setup  # noqa: E402

if __name__ == "__main__":
    run("proxy-sync", setup)
