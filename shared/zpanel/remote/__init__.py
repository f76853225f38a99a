"""Where commands run: this machine (subprocess, or the Docker Engine API on its socket) or a
server over SSH (asyncssh), one executor per server record (``servers.py``).

Thin on purpose: what to run and in which order is decided by pure code in the services; this
package only runs argv lists and reports exit codes and output. Nothing is imported here, so a
module that needs only the errors or the op model does not load the executors.
"""
