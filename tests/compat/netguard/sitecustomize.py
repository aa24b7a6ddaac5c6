"""Loaded by every Python the version-matrix tests start (their PYTHONPATH names this folder): a connection to, or
a name lookup of, anything but this machine is refused and written to HSMBACKUP_NET_LOG, and the test that caused
it fails. Older az releases look for the instance-metadata address, check for updates or discover authorities on
their own; none of that may leave the machine.
"""

import errno
import ipaddress
import json
import os
import socket

_LOG = os.environ.get("HSMBACKUP_NET_LOG")
_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def _is_local(host):
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what, target):
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"pid": os.getpid(), "what": what, "target": repr(target)}) + "\n")
    raise OSError(errno.ENETUNREACH, f"test network guard: {what} {target!r} is off this machine")


def connect(self, address):
    if isinstance(address, tuple) and not _is_local(address[0]):
        _refuse("connect", address)
    return _connect(self, address)


def connect_ex(self, address):
    if isinstance(address, tuple) and not _is_local(address[0]):
        _refuse("connect", address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if not _is_local(name):
        _refuse("lookup", name)
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
