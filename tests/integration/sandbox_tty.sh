#!/bin/bash
# tests/integration/sandbox_tty.sh — the interactive terminal keeps working
# inside the private root: CMD's stdio is the caller's pty (a real one, made
# by script(1)), the window size reaches it, /dev/tty opens, Ctrl-C typed on
# the terminal ends CMD with SIGINT, and a pty opened inside comes from the
# sandbox's own devpts (not the host's).
. "$(dirname "$0")/lib/sandbox_lib.sh"
command -v script >/dev/null || { echo "SKIP: script(1) not installed"; exit 0; }
G="$GLASSBOX --root $ROOT run --quiet --workdir $W --"
tty_run() { # CMD... — run under a fresh pty, bounded to 20 s
	timeout 20 script -qec "$*" /dev/null </dev/null | tr -d '\r'
}
check "stdin is a tty" "tty" "$(tty_run "$G /bin/sh -c 'test -t 0 && test -t 1 && echo tty'")"
check "window size reaches CMD" "40 100" "$(tty_run "stty rows 40 cols 100; $G /bin/stty size")"
check "/dev/tty opens" "via-dev-tty" "$(tty_run "$G /bin/sh -c 'echo via-dev-tty >/dev/tty'")"
check "pty from the private devpts" "/dev/pts/0" \
	"$(tty_run "$G /usr/bin/python3 -c 'import os, pty; m, s = pty.openpty(); print(os.ttyname(s))'")"
# Ctrl-C on the terminal: the line discipline sends SIGINT to the
# foreground process group, which CMD shares with the supervisor.  A pty
# driver types it only once CMD has said it runs (a fixed delay raced a
# slow start), then reads until the shell reports CMD's status.  bash, not
# sh: dash dies of the SIGINT too instead of reporting the status.
out=$(timeout 30 python3 - "$G" <<'EOP' 2>&1 | grep -o 'rc=[0-9]*'
import os, pty, re, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp("/bin/bash", ["bash", "-c", sys.argv[1] + " /bin/sh -c 'echo ready; exec /bin/sleep 30'; echo rc=$?"])
buf, sent, end = b"", False, time.monotonic() + 25
while time.monotonic() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    if not sent and b"ready" in buf:
        time.sleep(0.2)  # CMD has exec'd sleep by now; any later moment works too
        os.write(fd, b"\x03")
        sent = True
    if re.search(rb"rc=[0-9]+\r?\n", buf):
        break
sys.stdout.write(buf.decode(errors="replace"))
os.waitpid(pid, 0)
EOP
)
check "Ctrl-C ends CMD with SIGINT" "rc=130" "$out"
finish
