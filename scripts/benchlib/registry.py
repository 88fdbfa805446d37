"""Real distribution registries on free loopback ports, their request counts, and seeding.

Why the bench does not reuse the test bed (tests/it/support): that code lives inside the
integration-test crate, so using it means building and running the test harness and timing it
too; the bench must time release binaries side by side with skopeo from a plain script.  It
starts the same real registry the same way (`docker-registry serve` with a generated config on
a free loopback port, htpasswd for auth, an openssl-made certificate for TLS), keeping only
what it measures with: the access log on (for request counts) and logging otherwise off (so
logging does not cost time)."""
import http.client, os, re, shutil, socket, ssl, subprocess, tempfile, time, urllib.parse

# A request in the registry's access log (Apache combined format).
ACCESS_LINE = re.compile(r'"(GET|HEAD|POST|PUT|PATCH|DELETE) (/\S*) HTTP/([0-9.]+)"')


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def make_cert(work):
    """A CA and a server certificate it signed for 127.0.0.1: (cert, key, CA cert) paths.
    (rustls refuses a self-signed CA certificate as the server's own.)"""
    p = lambda name: os.path.join(work, name)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ssl_run = lambda *args: subprocess.run(["openssl"] + list(args), check=True, capture_output=True)
    ssl_run("req", "-x509", *ec, "-days", "2", "-subj", "/CN=hoist bench CA", "-keyout", p("ca.key"), "-out", p("ca.crt"))
    ssl_run("req", *ec, "-subj", "/CN=127.0.0.1", "-keyout", p("tls.key"), "-out", p("tls.csr"))
    with open(p("ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    ssl_run("x509", "-req", "-in", p("tls.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", p("ext.cnf"), "-out", p("tls.crt"))
    return p("tls.crt"), p("tls.key"), p("ca.crt")


class Registry:
    def __init__(self, work, htpasswd=None, tls=None):
        """tls: (cert, key, CA) to serve HTTPS (distribution offers HTTP/2 there), else plain HTTP."""
        self.dir = tempfile.mkdtemp(prefix="reg-", dir=work)
        self.addr = "127.0.0.1:%d" % free_port()
        self.tls = tls
        auth = "auth: { htpasswd: { realm: bench, path: %s } }\n" % htpasswd if htpasswd else ""
        tls_cfg = ", tls: { certificate: %s, key: %s }" % tls[:2] if tls else ""
        cfg = os.path.join(self.dir, "config.yml")
        with open(cfg, "w") as f:
            f.write("version: 0.1\nlog: { level: error, accesslog: { disabled: false } }\n"
                    "storage: { filesystem: { rootdirectory: %s/data } }\n"
                    "http: { addr: %s%s }\n%s" % (self.dir, self.addr, tls_cfg, auth))
        self.errlog = open(os.path.join(self.dir, "registry.log"), "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", cfg], stdout=self.errlog, stderr=self.errlog)
        host, port = self.addr.split(":")
        for _ in range(200):
            try:
                socket.create_connection((host, int(port)), 0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise SystemExit("registry did not start: " + open(self.errlog.name).read())

    def connection(self):
        if self.tls:
            return http.client.HTTPSConnection(self.addr, context=ssl._create_unverified_context())
        return http.client.HTTPConnection(self.addr)

    def requests(self):
        """{method: count} of every request the registry has answered so far, from its access
        log; under "_ping" how many of them were `GET /v2/`, under "_http2" how many came over
        HTTP/2.

        The log line is written when the handler returns, which can be just after a client
        has read the whole body; a marker request of our own is logged after it."""
        marker = "/v2/?bench-marker=%d" % time.monotonic_ns()
        c = self.connection()
        c.request("GET", marker)
        c.getresponse().read()
        c.close()
        for _ in range(200):
            with open(self.errlog.name) as f:
                lines = f.read().splitlines()
            mine = [i for i, line in enumerate(lines) if marker in line]
            if mine:
                break
            time.sleep(0.01)
        else:
            raise SystemExit("the registry did not log the marker request")
        counts = {}
        for line in lines[:mine[0]]:
            m = ACCESS_LINE.search(line)
            if m and "bench-marker" not in line:
                counts[m.group(1)] = counts.get(m.group(1), 0) + 1
                if m.group(1) == "GET" and m.group(2) == "/v2/":
                    counts["_ping"] = counts.get("_ping", 0) + 1
                if m.group(3).startswith("2"):
                    counts["_http2"] = counts.get("_http2", 0) + 1
        return counts

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.errlog.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def upload(reg, repo, image, ref=None):
    """Seed a registry directly (not through the proxy, not with a tool under test): an image's
    blobs and manifest, or an index's children first and then the index."""
    for child in image.get("children", []):
        upload(reg, repo, child, child["digest"])
    for d, size in image["blobs"]:
        c = reg.connection()
        c.request("POST", "/v2/%s/blobs/uploads/" % repo)
        r = c.getresponse(); r.read()
        loc = urllib.parse.urlsplit(r.getheader("Location"))
        path = loc.path + "?" + (loc.query + "&" if loc.query else "") + "digest=sha256:" + d
        with open(os.path.join(image["layout"], "blobs/sha256", d), "rb") as f:
            c.request("PUT", path, body=f, headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"})
            r = c.getresponse(); r.read()
        assert r.status == 201, (r.status, d)
        c.close()
    c = reg.connection()
    c.request("PUT", "/v2/%s/manifests/%s" % (repo, ref or image["tag"]), body=image["manifest"],
              headers={"Content-Type": image["media_type"]})
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
