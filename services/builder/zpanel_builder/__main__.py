"""``python -m zpanel_builder``: the builder service (see worker.py)."""

from zpanel.lazy import refuse_unused_extras

refuse_unused_extras()  # before structlog is imported: it would pull in rich (see zpanel.lazy)

from zpanel.service import run  # noqa: E402
from zpanel_builder.worker import setup  # noqa: E402

if __name__ == "__main__":
    run("builder", setup)
