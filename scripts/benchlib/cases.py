"""The cases: what each tool runs, against which registries, beside which curl limit.

Loopback (no proxy): pull and push of the big image, re-push, login, and issue 16's copies.
Round trips (through the latency proxy, at 20 and 50 ms): push and pull of 10 x 0.5 MiB and
100 x 256 KiB, and a 4-platform index pulled whole.  A push always goes to a repository no
earlier run used, and skopeo's blob cache is wiped before every skopeo run (measure.py)."""
import copy, os, subprocess

from . import limits
from .measure import Failed, both, check_digest, check_layout, log
from .registry import Registry, upload


class Cases:
    def __init__(self, bench, hoist, jobs, work, images, wanted):
        self.b, self.hoist, self.jobs, self.work = bench, hoist, jobs, work
        self.img, self.wanted = images, wanted
        self.res = {}

    # ---------------------------------------------------------------- helpers
    def registry(self, htpasswd=None):
        return Registry(self.work, htpasswd, self.b.tls)

    def seeded(self, image, count=1, repo="bench/img"):
        """Fresh registries (count of them), the first holding `image` as repo:1."""
        def setup():
            regs = [self.registry() for _ in range(count)]
            upload(regs[0], repo, image, "1")
            return regs
        return setup

    def guard(self, name, label, fn):
        """Runs one case if its group was asked for; a failure is recorded, not raised."""
        if name not in self.wanted:
            return
        log("case %s" % label)
        try:
            self.res[label] = fn()
        except Failed as e:
            self.b.failures.append(label)
            log("FAILED %s: %s" % (label, e))

    def tls_flags(self, *sides):
        return ["--%s-tls-verify=false" % s for s in sides]

    def pull_cmds(self, image, all_platforms=False):
        hoist, jobs = self.hoist, self.jobs
        plat = ["--platform", "all"] if all_platforms else []
        return {
            "hoist": lambda c: ([hoist, "pull", "%s/bench/img:1" % c.host, "--output", c.d + "/out", "--quiet"]
                                + plat + jobs, None, both(check_digest(image), check_layout(image))),
            "skopeo": lambda c: (["skopeo", "copy", "-q"] + self.tls_flags("src") + (["--all"] if all_platforms else [])
                                 + ["docker://%s/bench/img:1" % c.host, "oci:%s/out:1" % c.d], None,
                                 check_layout(image)),
        }

    def push_cmds(self, image):
        hoist, jobs = self.hoist, self.jobs
        return {
            "hoist": lambda c: ([hoist, "push", "%s/%s:1" % (c.host, c.repo), "--from", image["layout"], "--quiet"]
                                + jobs, None, check_digest(image)),
            "skopeo": lambda c: (["skopeo", "copy", "-q"] + self.tls_flags("dest") +
                                 ["oci:%s:1" % image["layout"], "docker://%s/%s:1" % (c.host, c.repo)], None, None),
        }

    def copy_cmds(self, image, same_registry=False):
        hoist, jobs = self.hoist, self.jobs

        def dst(c):
            return c.hosts[0] if same_registry else c.hosts[1]
        return {
            "hoist": lambda c: ([hoist, "copy", "%s/bench/img:1" % c.hosts[0], "%s/%s:1" % (dst(c), c.repo),
                                 "--quiet"] + jobs, None, check_digest(image)),
            "skopeo": lambda c: (["skopeo", "copy", "-q"] + self.tls_flags("src", "dest") +
                                 ["docker://%s/bench/img:1" % c.hosts[0], "docker://%s/%s:1" % (dst(c), c.repo)],
                                 None, None),
        }

    # ------------------------------------------------------------------ cases
    def loopback(self):
        b, big, small = self.b, self.img["big"], self.img["small"]
        with_limit = lambda cmds, curl: dict(cmds, curl=curl) if "limit" in self.wanted else cmds
        self.guard("pull", "pull 1 GiB", lambda: b.measure(
            "pull", self.seeded(big), with_limit(self.pull_cmds(big), limits.get_each(big["blobs"]))))
        self.guard("push", "push 1 GiB", lambda: b.measure(
            "push", lambda: [self.registry()],
            with_limit(self.push_cmds(big), limits.put_each(big["layout"], big["blobs"]))))
        self.guard("latency", "push 10 @20ms", lambda: b.measure(
            "push20ms", lambda: [self.registry()], self.push_cmds(small), delay=0.010))
        self.guard("latency", "pull 10 @20ms", lambda: b.measure(
            "pull20ms", self.seeded(small), self.pull_cmds(small), delay=0.010))
        self.guard("repush", "re-push", lambda: b.measure(
            "repush", self.seeded(big), at_repo(self.push_cmds(big), "bench/img")))
        self.guard("login", "login", self.login)

    def login(self):
        htp = os.path.join(self.work, "htpasswd")
        subprocess.run(["htpasswd", "-Bbc", htp, "bench", "bench-password"], check=True, capture_output=True)

        def check_ok(c, t):
            if "Login Succeeded" not in t:
                raise Failed("no 'Login Succeeded' in: " + t[-500:])
        return self.b.measure("login", lambda: [self.registry(htp)], {
            "hoist": lambda c: ([self.hoist, "login", "-u", "bench", "--password-stdin", c.host],
                                "bench-password\n", check_ok),
            "skopeo": lambda c: (["skopeo", "login", "--tls-verify=false", "--authfile", c.d + "/auth.json",
                                  "-u", "bench", "--password-stdin", c.host], "bench-password\n", check_ok)})

    def round_trips(self, rtts_ms, quick):
        """Issue 15's cases, each beside its curl limit, at every RTT asked for (--quick leaves
        out the 100-layer image: skopeo alone takes 15 s to push it at 20 ms)."""
        b = self.b
        sizes = (("l10", "10 x 0.5 MiB"),) if quick else (("l10", "10 x 0.5 MiB"), ("l100", "100 x 256 KiB"))
        for ms in rtts_ms:
            delay = ms / 2000.0
            for key, what in sizes:
                image = self.img[key]
                self.guard("rtt", "push %s @%dms" % (what, ms), lambda: b.measure(
                    "push%s@%d" % (key, ms), lambda: [self.registry()],
                    dict(self.push_cmds(image), curl=limits.put_parallel(image["layout"], image["blobs"]),
                         floor=limits.put_then_manifest(image)),
                    delay=delay))
                self.guard("rtt", "pull %s @%dms" % (what, ms), lambda: b.measure(
                    "pull%s@%d" % (key, ms), self.seeded(image),
                    dict(self.pull_cmds(image), curl=limits.get_parallel(image["blobs"]),
                         floor=limits.get_after_manifests(image)), delay=delay))
            index = self.img["index"]
            self.guard("rtt", "pull index all @%dms" % ms, lambda: b.measure(
                "index@%d" % ms, self.seeded(index),
                dict(self.pull_cmds(index, all_platforms=True), curl=limits.get_parallel(index["all_blobs"]),
                     floor=limits.get_after_manifests(index)),
                delay=delay))

    def copies(self):
        """Issue 16's cases; skipped with a note while this hoist has no `copy`."""
        if "copy" not in self.wanted:
            return
        probe = subprocess.run([self.hoist, "copy", "--help"], capture_output=True)
        if probe.returncode != 0:
            self.b.notes.append("copy cases skipped: this hoist has no `copy` command")
            log("skipping the copy cases: %s has no `copy` command" % self.hoist)
            return
        b, big = self.b, self.img["big"]
        self.guard("copy", "copy 1 GiB", lambda: b.measure(
            "copy", self.seeded(big, count=2), dict(self.copy_cmds(big), curl=limits.copy_parallel(big["blobs"]))))
        self.guard("copy", "copy same registry", lambda: b.measure(
            "copy-mount", self.seeded(big), self.copy_cmds(big, same_registry=True)))

        def both_hold_it():
            regs = self.seeded(big, count=2)()
            upload(regs[1], "bench/copy", big, "1")
            return regs
        self.guard("copy", "re-copy", lambda: b.measure(
            "recopy", both_hold_it, at_repo(self.copy_cmds(big), "bench/copy")))


def at_repo(cmds, repo):
    """The same commands aimed at `repo` instead of a fresh one: a re-push or a re-copy goes
    where the image already is."""
    def fixed(f):
        def cmd(ctx):
            moved = copy.copy(ctx)
            moved.repo = repo
            return f(moved)
        return cmd
    return {tool: fixed(f) for tool, f in cmds.items()}
