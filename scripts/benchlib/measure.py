"""Timed runs: each tool in a fresh directory and environment against fresh registries, with
its time, peak RSS, CPU seconds and the requests the registries answered.

Peak RSS and CPU come from GNU time (-f "%M %U %S"): a child forked straight from this script
would report the script's own (large, image-holding) RSS as its high-water mark, because
Linux carries the pre-exec peak over exec.  CPU seconds include the tool's children (curl
under bash)."""
import glob, os, shutil, statistics, subprocess, sys, tempfile, time

from .proxy import Proxy

# skopeo keeps a blob-info cache that lets a later push skip or mount blobs; as root it lives
# here, else under $HOME (a fresh one per run already).  Wiped before every skopeo run.
SKOPEO_ROOT_CACHE = "/var/lib/containers/cache"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Failed(Exception):
    pass


def run(argv, env=None, stdin=None):
    """Run argv, return (seconds, peak RSS in KiB, CPU seconds, output)."""
    out = tempfile.TemporaryFile()
    stats = tempfile.NamedTemporaryFile(prefix="time-", delete=False)
    stats.close()
    t0 = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-q", "-f", "%M %U %S", "-o", stats.name] + argv, env=env,
                         stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=out, stderr=subprocess.STDOUT)
    if stdin is not None:
        p.stdin.write(stdin.encode()); p.stdin.close()
    p.wait()
    dt = time.perf_counter() - t0
    with open(stats.name) as f:
        fields = f.read().strip().splitlines()[-1].split()
    os.unlink(stats.name)
    out.seek(0)
    text = out.read().decode(errors="replace")
    if p.returncode != 0:
        raise Failed("%s exited %d:\n%s" % (" ".join(argv)[:500], p.returncode, text[-3000:]))
    return dt, int(fields[0]), float(fields[1]) + float(fields[2]), text


def wipe_skopeo_cache(home):
    for path in [SKOPEO_ROOT_CACHE if os.geteuid() == 0 else None,
                 os.path.join(home, ".local/share/containers/cache")]:
        if path:
            for f in glob.glob(os.path.join(path, "blob-info-cache-*")):
                os.unlink(f)


class Ctx:
    """One run: its directory, the registry address(es) the tool talks to, a repository name
    no run has used (so a push never finds its blobs from an earlier run), and the scheme."""

    def __init__(self, d, hosts, repo, scheme):
        self.d, self.hosts, self.repo, self.scheme = d, hosts, repo, scheme
        self.host = hosts[0]


class Bench:
    def __init__(self, args, hoist, work, tls=None):
        self.a, self.hoist, self.work, self.tls = args, hoist, work, tls
        self.proxy = Proxy()
        self.failures, self.notes = [], []
        self.n = 0
        self.env = dict(os.environ)
        for k in ("DOCKER_CONFIG", "HOIST_STORE", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR"):
            self.env.pop(k, None)

    def fresh(self, name):
        self.n += 1
        d = os.path.join(self.work, "runs", "%03d-%s" % (self.n, name))
        os.makedirs(d)
        return d

    def tool_env(self, d, hosts):
        e = dict(self.env)
        e["DOCKER_CONFIG"] = os.path.join(d, "docker-config")
        e["HOIST_STORE"] = os.path.join(d, "store")
        e["HOME"] = d  # keeps both tools' caches and auth files out of the real $HOME
        e["REGISTRY_AUTH_FILE"] = os.path.join(d, "auth.json")
        if self.tls:  # hoist trusts the bench's certificate as Docker would: certs.d/HOST:PORT/
            for h in hosts:
                certs = os.path.join(d, "docker-config", "certs.d", h)
                os.makedirs(certs, exist_ok=True)
                shutil.copy(self.tls[2], os.path.join(certs, "ca.crt"))
        return e

    def measure(self, case, setup, cmds, delay=0.0):
        """cmds: {tool: f(Ctx) -> (argv, stdin, check)}; setup() -> [Registry, ...]; with a
        delay, the (only) registry is reached through the latency proxy.  With --baseline,
        another hoist binary ("base") runs hoist's commands in the same load windows."""
        if self.a.baseline and "hoist" in cmds:
            cmds = dict(cmds, base=with_binary(cmds["hoist"], self.a.baseline))
        cmds = {t: f for t, f in cmds.items() if t in ("hoist", "base") or t in self.a.tools}
        samples = {t: [] for t in cmds}
        order = list(cmds)
        for rep in range(self.a.reps):
            for tool in (order if rep % 2 == 0 else order[::-1]):
                regs = setup()
                try:
                    d = self.fresh(case.replace(" ", "_") + "-" + tool)
                    hosts = [r.addr for r in regs]
                    if delay:
                        self.proxy.reset(regs[0].addr, delay)
                        hosts = [self.proxy.addr]
                    ctx = Ctx(d, hosts, "bench/run%d" % self.n, "https" if self.tls else "http")
                    argv, stdin, check = cmds[tool](ctx)
                    env = self.tool_env(d, hosts)
                    if tool == "skopeo":
                        wipe_skopeo_cache(d)
                    before = [r.requests() for r in regs]
                    dt, rss, cpu, text = run(argv, env=env, stdin=stdin)
                    counts = {}
                    for r, b in zip(regs, before):
                        for k, v in r.requests().items():
                            if v > b.get(k, 0):
                                counts[k] = counts.get(k, 0) + v - b.get(k, 0)
                    if check:
                        check(ctx, text)
                    requests = sum(v for k, v in counts.items() if not k.startswith("_"))
                    samples[tool].append((dt, rss, requests, counts, cpu))
                    log("  %-16s %-7s rep %d: %.3f s, %d KiB, %.2f CPU s, %d requests %s" % (
                        case, tool, rep + 1, dt, rss, cpu, requests, dict(sorted(counts.items()))))
                finally:
                    for r in regs:
                        r.stop()
                    shutil.rmtree(os.path.join(self.work, "runs"), ignore_errors=True)
                    os.makedirs(os.path.join(self.work, "runs"), exist_ok=True)
        out = {}
        for tool, s in samples.items():
            out[tool] = {"seconds": statistics.median(x[0] for x in s), "all_seconds": [round(x[0], 4) for x in s],
                         "peak_rss_kib": max(x[1] for x in s), "requests": s[-1][2],
                         "methods": {k: v for k, v in s[-1][3].items() if not k.startswith("_")},
                         "pings": s[-1][3].get("_ping", 0),
                         "cpu_seconds": statistics.median(x[4] for x in s)}
            if delay:
                out[tool]["rtts"] = out[tool]["seconds"] / (2 * delay)
        return out


def with_binary(cmd, binary):
    def swapped(ctx):
        argv, stdin, check = cmd(ctx)
        return [binary] + argv[1:], stdin, check
    return swapped


def check_digest(image):
    def check(ctx, text):
        lines = [l for l in text.split() if l.startswith("sha256:")]
        if image["digest"] not in lines:
            raise Failed("hoist printed %r, expected %s" % (text[-500:], image["digest"]))
    return check


def check_layout(image):
    blobs = image.get("all_blobs") or image["blobs"]

    def check(ctx, text):
        where = os.path.join(ctx.d, "out", "blobs", "sha256")
        missing = [b for b, _ in blobs if not os.path.exists(os.path.join(where, b))]
        if missing:
            raise Failed("pulled layout lacks %d blob(s), e.g. %s" % (len(missing), missing[0]))
    return check


def both(*checks):
    def check(ctx, text):
        for c in checks:
            if c:
                c(ctx, text)
    return check
