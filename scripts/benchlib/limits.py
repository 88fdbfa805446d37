"""The curl limits: what the registry, the link and this disk allow with no client logic.

The round-trip cases use one curl with every blob in parallel (`--parallel
--parallel-immediate`, `-H 'Expect:'` so that no upload waits for a 100-continue): GET into
files for a pull, a parallel batch of POSTs then a parallel batch of PUTs for a push.  The
copy limit pipes a GET from the source into a PUT at the destination, every blob at once.
The protocol's floor is that limit plus what no client can skip: the manifest fetched before
its blobs are known (an index, then its images, then their blobs), and a pushed manifest put
after its blobs, each round on fresh connections as an HTTP/1.1 client opens them.
The 1 GiB loopback cases keep one curl process per blob, as their figures always have: one
curl process moving 1 GiB of parallel transfers on one thread would be a limit of curl."""

WAIT_ALL = "\nfail=0; for p in $(jobs -p); do wait $p || fail=1; done; exit $fail\n"


def _curl(ctx, n):
    return "curl -sSf%s --parallel --parallel-immediate --parallel-max %d" % (
        " -k" if ctx.scheme == "https" else "", max(1, min(n, 300)))


def _url(ctx, host, path):
    return "%s://%s%s" % (ctx.scheme, host, path)


def _post_batch(ctx, host, repo, n):
    """Bash that leaves n upload locations, one a line, in $locs."""
    urls = " ".join("-o /dev/null %s" % _url(ctx, host, "/v2/%s/blobs/uploads/" % repo) for _ in range(n))
    return ("locs=$(%s -X POST -w '%%header{location}\\n' %s)\n" % (_curl(ctx, n), urls) +
            'locs=$(printf "%%s\\n" "$locs" | tr -d "\\r" | grep . | '
            'sed "s#^/#%s/#")\n' % _url(ctx, host, ""))


def get_parallel(blobs, repo="bench/img"):
    """Every blob in one parallel GET, each into a file, then synced (as both tools sync)."""
    def cmd(ctx):
        args = " ".join("-o %s/%s %s" % (ctx.d, d, _url(ctx, ctx.host, "/v2/%s/blobs/sha256:%s" % (repo, d)))
                        for d, _ in blobs)
        files = " ".join("%s/%s" % (ctx.d, d) for d, _ in blobs)
        return (["bash", "-c", "set -e\n%s %s\nsync %s\n" % (_curl(ctx, len(blobs)), args, files)], None, None)
    return cmd


ACCEPT = ("-H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
          "application/vnd.docker.distribution.manifest.list.v2+json, "
          "application/vnd.docker.distribution.manifest.v2+json'")


def get_after_manifests(image, repo="bench/img", tag="1"):
    """The pull floor: the manifest by tag (for an index, then its images at once), and then
    every blob at once, as get_parallel."""
    rounds = [[tag]] + ([[c["digest"] for c in image["children"]]] if image.get("children") else [])
    blobs = image.get("all_blobs") or image["blobs"]

    def cmd(ctx):
        script = "set -e\n"
        for refs in rounds:
            urls = " ".join("-o /dev/null %s" % _url(ctx, ctx.host, "/v2/%s/manifests/%s" % (repo, r)) for r in refs)
            script += "%s %s %s\n" % (_curl(ctx, len(refs)), ACCEPT, urls)
        argv, _, _ = get_parallel(blobs, repo)(ctx)
        return (["bash", "-c", script + argv[2]], None, None)
    return cmd


def put_then_manifest(image):
    """The push floor: put_parallel, then the manifest PUT that must follow its blobs."""
    def cmd(ctx):
        argv, _, _ = put_parallel(image["layout"], image["blobs"])(ctx)
        manifest = "%s/blobs/sha256/%s" % (image["layout"], image["digest"][7:])
        put = "%s -X PUT -o /dev/null -H 'Content-Type: %s' --data-binary @%s %s\n" % (
            _curl(ctx, 1), image["media_type"], manifest, _url(ctx, ctx.host, "/v2/%s/manifests/1" % ctx.repo))
        return (["bash", "-c", argv[2] + put], None, None)
    return cmd


def put_parallel(layout, blobs):
    """A parallel batch of POSTs, then a parallel batch of PUTs, one per blob."""
    def cmd(ctx):
        digests = " ".join(d for d, _ in blobs)
        script = ("set -e\n" + _post_batch(ctx, ctx.host, ctx.repo, len(blobs)) +
                  "blobs=(%s); args=(); i=0\n" % digests +
                  'while read -r loc; do d=${blobs[$i]}; i=$((i+1)); '
                  'args+=(-o /dev/null -T %s/blobs/sha256/$d "$loc&digest=sha256:$d"); done <<< "$locs"\n' % layout +
                  '[ "$i" -eq "${#blobs[@]}" ] || { echo "got $i upload locations"; exit 1; }\n' +
                  "%s -H 'Expect:' -H 'Content-Type: application/octet-stream' \"${args[@]}\"\n" % _curl(ctx, len(blobs)))
        return (["bash", "-c", script], None, None)
    return cmd


def copy_parallel(blobs, src_repo="bench/img"):
    """A parallel batch of POSTs at the destination, then every blob GET from the source piped
    into its PUT, all at once."""
    def cmd(ctx):
        src, dst = ctx.hosts
        k = " -k" if ctx.scheme == "https" else ""
        digests = " ".join(d for d, _ in blobs)
        script = ("set -e\n" + _post_batch(ctx, dst, ctx.repo, len(blobs)) +
                  "blobs=(%s); i=0\n" % digests +
                  'while read -r loc; do d=${blobs[$i]}; i=$((i+1)); '
                  '( curl -sSf%s %s$d | curl -sSf%s -o /dev/null -H "Expect:" '
                  '-H "Content-Type: application/octet-stream" -T - "$loc&digest=sha256:$d" ) & '
                  'done <<< "$locs"\n' % (k, _url(ctx, src, "/v2/%s/blobs/sha256:" % src_repo), k) +
                  '[ "$i" -eq "${#blobs[@]}" ] || { echo "got $i upload locations"; exit 1; }\n' + WAIT_ALL)
        return (["bash", "-c", script], None, None)
    return cmd


def get_each(blobs, repo="bench/img"):
    """The 1 GiB pull limit: one curl per blob, each into a file it syncs."""
    def cmd(ctx):
        k = " -k" if ctx.scheme == "https" else ""
        parts = ["( curl -sSf%s -o %s/%s %s && sync %s/%s ) &" % (
            k, ctx.d, x, _url(ctx, ctx.host, "/v2/%s/blobs/sha256:%s" % (repo, x)), ctx.d, x) for x, _ in blobs]
        return (["bash", "-c", "\n".join(parts) + WAIT_ALL], None, None)
    return cmd


def put_each(layout, blobs):
    """The 1 GiB push limit: one POST and one PUT per blob, every blob in its own curl."""
    def cmd(ctx):
        k = " -k" if ctx.scheme == "https" else ""
        one = ('loc=$(curl -sSf%s -D - -o /dev/null -X POST %s '
               '| sed -n "s/^[Ll]ocation: *//p" | tr -d "\\r"); case $loc in /*) loc=%s$loc;; esac; '
               'curl -sSf%s -o /dev/null -T %s/blobs/sha256/%s "$loc&digest=sha256:%s"')
        parts = ["( %s ) &" % (one % (k, _url(ctx, ctx.host, "/v2/%s/blobs/uploads/" % ctx.repo),
                                      _url(ctx, ctx.host, ""), k, layout, x, x)) for x, _ in blobs]
        return (["bash", "-c", "\n".join(parts) + WAIT_ALL], None, None)
    return cmd
