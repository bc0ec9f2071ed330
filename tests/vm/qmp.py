#!/usr/bin/env python3
"""Send monitor commands to a running tests/vm/boot.sh guest.

Usage: tests/vm/qmp.py SOCKET COMMAND...

SOCKET is the QMP socket boot.sh opened (--qmp PATH, or OUT/qmp.sock).
Each COMMAND is a human monitor (HMP) command line, sent through QMP's
human-monitor-command, e.g.:

    tests/vm/qmp.py /tmp/vm/qmp.sock 'device_add e1000e,bus=rp1,id=hot1'
    tests/vm/qmp.py /tmp/vm/qmp.sock 'device_del hot1' 'info pci'

A COMMAND starting with '{' is sent as raw QMP JSON instead.
Prints what each command returns; exits 1 if one failed (HMP commands
report errors as text: a reply that starts with "Error" counts as failed).
Waits up to 30 s for the socket to appear.
"""
import json
import os
import socket
import sys
import time


def connect(path, wait=30.0):
    deadline = time.monotonic() + wait
    while True:
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(path)
            return sock
        except OSError:
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Qmp:
    def __init__(self, path):
        self.sock = connect(path)
        self.buf = b""
        self.recv()  # greeting
        self.call({"execute": "qmp_capabilities"})

    def recv(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("QMP socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, msg):
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self.recv()
            if "event" in reply:
                continue
            return reply


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    qmp = Qmp(argv[1])
    failed = False
    for cmd in argv[2:]:
        if cmd.lstrip().startswith("{"):
            reply = qmp.call(json.loads(cmd))
        else:
            reply = qmp.call({"execute": "human-monitor-command",
                              "arguments": {"command-line": cmd}})
        if "error" in reply:
            failed = True
            print(json.dumps(reply["error"]))
            continue
        ret = reply.get("return")
        if isinstance(ret, str):
            sys.stdout.write(ret)
            if ret.startswith("Error"):
                failed = True
        else:
            print(json.dumps(ret))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
