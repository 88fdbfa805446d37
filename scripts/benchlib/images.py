"""Seeded random images in OCI layouts: one image, or an index of several platforms.

Each layer is a tar of one random file, gzip level 1, from a fixed seed: every run of the
bench moves the same bytes, and nothing compresses."""
import gzip, hashlib, io, json, os, tarfile

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"


def _put(layout, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs/sha256", d), "wb") as f:
        f.write(data)
    return d


def _write_index_json(layout, tag, media_type, digest, size):
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{"mediaType": media_type, "digest": "sha256:" + digest,
                                                      "size": size,
                                                      "annotations": {"org.opencontainers.image.ref.name": tag}}]}, f)


def build_image(layout, layers, layer_size, rng, os_name="linux", arch="amd64", variant=None):
    """Writes the blobs and the manifest of one image into `layout`; no index.json."""
    os.makedirs(os.path.join(layout, "blobs/sha256"), exist_ok=True)
    blobs, descs, diff_ids = [], [], []
    for i in range(layers):
        tbuf = io.BytesIO()
        with tarfile.open(fileobj=tbuf, mode="w", format=tarfile.USTAR_FORMAT) as t:
            ti = tarfile.TarInfo("layer%d.bin" % i)
            ti.size, ti.mtime, ti.mode = layer_size, 0, 0o644
            t.addfile(ti, io.BytesIO(rng.randbytes(layer_size)))
        raw = tbuf.getvalue()
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        gz = gzip.compress(raw, compresslevel=1, mtime=0)
        del raw, tbuf
        d = _put(layout, gz)
        blobs.append((d, len(gz)))
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + d,
                      "size": len(gz)})
    platform = {"architecture": arch, "os": os_name}
    if variant:
        platform["variant"] = variant
    cfg = json.dumps(dict(platform, config={}, rootfs={"type": "layers", "diff_ids": diff_ids})).encode()
    cd = _put(layout, cfg)
    blobs.append((cd, len(cfg)))
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": "sha256:" + cd, "size": len(cfg)},
                           "layers": descs}).encode()
    md = _put(layout, manifest)
    return {"layout": layout, "blobs": blobs, "manifest": manifest, "media_type": MANIFEST,
            "digest": "sha256:" + md, "platform": platform, "bytes": sum(s for _, s in blobs)}


def make_image(layout, tag, layers, layer_size, rng):
    """One image in its own layout, tagged `tag`."""
    image = build_image(layout, layers, layer_size, rng)
    _write_index_json(layout, tag, MANIFEST, image["digest"][7:], len(image["manifest"]))
    image["tag"] = tag
    return image


PLATFORMS = [("linux", "amd64", None), ("linux", "arm64", None), ("linux", "arm", "v7"), ("linux", "s390x", None)]


def make_index(layout, tag, platforms, layers, layer_size, rng):
    """An index of one image per platform, all in one layout, tagged `tag`."""
    children = [build_image(layout, layers, layer_size, rng, *p) for p in platforms]
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX,
                        "manifests": [{"mediaType": MANIFEST, "digest": c["digest"], "size": len(c["manifest"]),
                                       "platform": c["platform"]} for c in children]}).encode()
    digest = _put(layout, index)
    _write_index_json(layout, tag, INDEX, digest, len(index))
    return {"layout": layout, "tag": tag, "blobs": [], "children": children, "manifest": index,
            "media_type": INDEX, "digest": "sha256:" + digest,
            "all_blobs": [b for c in children for b in c["blobs"]],
            "bytes": sum(c["bytes"] for c in children)}
