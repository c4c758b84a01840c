#!/usr/bin/python3
"""The guest's pid 1 (there is no systemd in a local guest).

Boot: cloud-init's four stages fed by the NoCloud seed local-azure wrote, sshd once cloud-init
has written the host keys (like ssh.service, ordered after cloud-init.service), then every unit
enabled for multi-user.target (the systemctl stand-in starts them). It then reaps orphans until
local-azure sends SIGTERM (deallocate / power off / delete), stops the units and exits, which
ends the pid namespace and every process in it.
"""
import os
import signal
import subprocess
import sys
import time

STAGES = [
    ["cloud-init", "init", "--local"],
    ["cloud-init", "init"],
    ["systemctl", "start", "ssh.service"],
    ["cloud-init", "modules", "--mode", "config"],
    ["cloud-init", "modules", "--mode", "final"],
    ["systemctl", "__boot"],
]

AGENT_AFTER = ["cloud-init", "init"]


class Stop(Exception):
    pass


def log(msg):
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} guest-init: {msg}", flush=True)


def on_term(_sig, _frame):
    # Raised out of waitpid (PEP 475 would otherwise resume the wait).
    raise Stop()


def boot_sequence():
    # A child of pid 1, so pid 1 stays free to reap every orphan meanwhile.
    for argv in STAGES:
        log("+ " + " ".join(argv))
        rc = subprocess.call(argv)
        if rc != 0:
            log(f"{argv[0]} {argv[1]} exited with status {rc}")
        if argv == AGENT_AFTER:
            # The Azure Linux agent (walinuxagent.service) starts once cloud-init's network stage
            # is done (After=cloud-init.service); from then on it runs Run Commands. local-azure
            # reports the VM agent Ready (and runs Run Commands) once this marker exists.
            with open("/run/local-azure-agent-ready", "w") as f:
                f.write("ok\n")
            log("VM agent ready")
    log("boot sequence finished")
    # Marker for local-azure (and for people): the guest reached multi-user.
    with open("/run/local-azure-booted", "w") as f:
        f.write("ok\n")


def main():
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    os.makedirs("/run/systemd/system", exist_ok=True)  # cloud-init manages services with systemctl
    log("booting")
    seq = subprocess.Popen([sys.executable, __file__, "--sequence"])
    try:
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                time.sleep(0.5)
    except Stop:
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    log("shutting down")
    if seq.poll() is None:
        seq.kill()
    subprocess.call(["systemctl", "__halt"], timeout=60)
    os.kill(-1, signal.SIGTERM)
    deadline = time.time() + 5
    while time.time() < deadline and [p for p in os.listdir("/proc") if p.isdigit() and p != "1"]:
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    log("halted")


if __name__ == "__main__":
    if sys.argv[1:] == ["--sequence"]:
        boot_sequence()
    else:
        main()
