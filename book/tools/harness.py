"""harness: boot the kernel under QEMU and talk to it, for the tests.

The chapters' tests (tangled to build/src/tests/*.py) use this module; the
runner (book/tools/runtests) imports them and runs every @test.  A test
receives a Test object `t`:

    m = t.boot(cpus=4, args="ktest")   # start QEMU; returns a Machine
    m.expect(r"regex")                 # wait until the output matches
    m.send("q"), m.sendline("ls")      # type at the console
    status = m.wait_exit()             # wait for QEMU to power off
    t.check(cond, "message"), t.equal(got, want, "what")
    out = t.run(["cmd", ...])          # run a host command, fail if it fails

Any failure raises TestFailure; the runner saves the transcript of every
machine the test booted in build/test/.
"""
import os, re, select, shlex, shutil, signal, subprocess, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
KERNEL = os.path.join(BUILD, "kernel", "kernel")
FSIMG = os.path.join(BUILD, "fs.img")

REGISTRY = []                       # (name, function, timeout) in load order


def test(name, timeout=120):
    """Decorator: register a test under a one-line name."""
    def register(fn):
        REGISTRY.append((name, fn, timeout))
        return fn
    return register


class TestFailure(Exception):
    pass


def sparse_copy(src, dst, block=65536):
    """Copy src to dst, leaving holes for blocks of zeros: a fresh disk
    image is mostly zeros, and a hundred tests each keep a copy."""
    zero = bytes(block)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while True:
            data = fin.read(block)
            if not data:
                break
            if data == zero[:len(data)]:
                fout.seek(len(data), os.SEEK_CUR)
            else:
                fout.write(data)
        fout.truncate()


class Machine:
    """One QEMU run: its console output so far, and a read position."""

    def __init__(self, cmd, transcript):
        self.cmd = cmd
        self.transcript = transcript
        self.out = ""               # everything the machine printed
        self.pos = 0                # expect() searches from here
        self.log = open(transcript, "w")
        self.log.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def _read(self, timeout):
        """Read what is available within `timeout` seconds; False at EOF."""
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], max(timeout, 0))
        if not ready:
            return True
        data = os.read(fd, 65536)
        if not data:
            return False
        text = data.decode("utf-8", "replace").replace("\r\n", "\n")
        self.out += text
        self.log.write(text)
        self.log.flush()
        return True

    def expect(self, pattern, timeout=30):
        """Wait for `pattern` (a regex, multiline) in output not yet matched.

        Returns the match and moves the read position past it."""
        rx = re.compile(pattern, re.MULTILINE)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.out, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.time()
            if left <= 0:
                raise TestFailure(f"timed out after {timeout}s waiting for "
                                  f"/{pattern}/; last output: "
                                  f"{self.tail()!r}")
            if not self._read(min(left, 0.5)):
                m = rx.search(self.out, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise TestFailure(f"QEMU exited (status {self.proc.wait()}) "
                                  f"before /{pattern}/ appeared; last output: "
                                  f"{self.tail()!r}")

    def expect_none(self, pattern, within=1.0):
        """Fail if `pattern` appears in the output during `within` seconds."""
        rx = re.compile(pattern, re.MULTILINE)
        deadline = time.time() + within
        while time.time() < deadline:
            if rx.search(self.out, self.pos):
                raise TestFailure(f"unexpected output matching /{pattern}/")
            if not self._read(deadline - time.time()):
                break
        if rx.search(self.out, self.pos):
            raise TestFailure(f"unexpected output matching /{pattern}/")

    def send(self, text):
        self.log.write(f"\n[sent {text!r}]\n")
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise TestFailure("QEMU is no longer running; could not type "
                              f"{text!r}")

    def sendline(self, text):
        self.send(text + "\n")

    def wait_exit(self, timeout=30):
        """Wait for QEMU to exit (the kernel powered off); its status."""
        deadline = time.time() + timeout
        while self.proc.poll() is None:
            if time.time() > deadline:
                self.kill()
                raise TestFailure(f"QEMU still running after {timeout}s "
                                  f"(expected it to power off); last output: "
                                  f"{self.tail()!r}")
            self._read(0.2)
        while self._read(0):        # drain what is left in the pipe
            if self.proc.stdout.closed:
                break
            if not select.select([self.proc.stdout], [], [], 0)[0]:
                break
        return self.proc.returncode

    def tail(self, n=300):
        return self.out[-n:]

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    def close(self):
        self.kill()
        self.log.close()


class Test:
    """What a test function receives."""

    def __init__(self, name, slug, testdir):
        self.name, self.slug, self.testdir = name, slug, testdir
        self.machines = []
        self.disks = []             # the image each machine booted with
        self.copies = []            # the private copies boot() made

    def boot(self, cpus=1, args="", mem="128M", kernel=KERNEL, extra=(),
             disk=None, rng=None):
        """Start QEMU.  disk: a disk image to attach as virtio-blk device
        0; by default a private copy of build/fs.img (when it exists), so
        that no test sees another's changes; False for no disk.  rng:
        whether to attach the virtio entropy device on virtio-mmio bus 1
        (chapter guides); by default it comes with the disk."""
        if not os.path.exists(kernel):
            raise TestFailure(f"no kernel at {kernel}: the build failed")
        cmd = ["qemu-system-riscv64", "-machine", "virt", "-bios", "none",
               "-kernel", kernel, "-m", mem, "-smp", str(cpus),
               "-display", "none", "-monitor", "none", "-serial", "stdio"]
        if args:
            cmd += ["-append", args]
        n = len(self.machines)
        stem = os.path.join(self.testdir, f"{self.slug}{'-' + str(n) if n else ''}")
        if disk is None and os.path.exists(FSIMG):
            disk = stem + ".img"
            sparse_copy(FSIMG, disk)
            self.copies.append(disk)
        if disk:
            # cache=unsafe: QEMU still offers and obeys the flush
            # command, and every write reaches the image file, but it
            # does not make the host sync the file to its own disk, which
            # would cost milliseconds per flush and tell the tests nothing.
            cmd += ["-global", "virtio-mmio.force-legacy=false",
                    "-drive", f"file={disk},if=none,format=raw,id=x0,cache=unsafe",
                    "-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0"]
        if rng is None:
            rng = bool(disk)
        if rng:
            if not disk:
                cmd += ["-global", "virtio-mmio.force-legacy=false"]
            cmd += ["-device", "virtio-rng-device,bus=virtio-mmio-bus.1"]
        self.disks.append(disk)
        cmd += list(extra)
        path = stem + ".log"
        m = Machine(cmd, path)
        self.machines.append(m)
        return m

    def check(self, cond, message):
        if not cond:
            raise TestFailure(message)

    def equal(self, got, want, what="value"):
        if got != want:
            raise TestFailure(f"{what}: expected {want!r}, got {got!r}")

    def run(self, cmd, ok=True, timeout=300):
        """Run a host command; fail unless its exit status is 0 (if ok)."""
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                           timeout=timeout)
        if ok and r.returncode != 0:
            raise TestFailure(f"{' '.join(cmd)} exited {r.returncode}: "
                              f"{(r.stdout + r.stderr)[-500:]}")
        return r

    def close(self):
        for m in self.machines:
            m.close()

    def fsck_copies(self):
        """Check every private disk copy with fsck, once QEMU is gone: a
        test passes only if it left its disk consistent, wherever QEMU
        was stopped.  Skipped before mkfs/fsck exist (the early chapters)."""
        fsck = os.path.join(BUILD, "mkfs", "fsck")
        if not os.path.exists(fsck):
            return
        self.close()
        for d in self.copies:
            r = subprocess.run([fsck, d], capture_output=True, text=True)
            if r.returncode != 0:
                raise TestFailure(f"fsck finds problems in the disk it left, {d}:\n"
                                  + (r.stdout + r.stderr)[-600:])

    def discard_copies(self):
        """Remove the private disk copies (the runner does so when the
        test passed; a failed test keeps them beside its transcript)."""
        for d in self.copies:
            if os.path.exists(d):
                os.remove(d)


def shell(t, cpus=1, **kw):
    """Boot a machine (t.boot's arguments) and wait for the shell's first
    prompt; returns the Machine."""
    m = t.boot(cpus=cpus, **kw)
    m.expect(r"\$ ", timeout=30)
    return m


def run(m, line, prompt=r"\$ ", timeout=30):
    """Type line and return what the system printed between the echo of
    the line and the next prompt, without carriage returns.  Matching the
    echo first keeps one command's output out of the next one's."""
    m.sendline(line)
    r = m.expect(re.escape(line) + r"\r?\n(?s:(.*?))" + prompt, timeout=timeout)
    return r.group(1).replace("\r", "")
