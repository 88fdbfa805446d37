"""The table: every case beside its targets (issues 15 and 16), and the JSON of the run.

A figure never fails the bench; a target missed is marked MISS in the table."""
import json, time

# label prefix: (hoist / skopeo at most, hoist / curl limit at most); None = reported only.
TARGETS = {
    "pull 1 GiB": (0.8, 1.2), "push 1 GiB": (0.8, 1.2), "push 10 @20ms": (0.3, None),
    "pull 10 @20ms": (None, None), "re-push": (0.5, None), "login": (None, None),
    "copy 1 GiB": (0.7, 1.2), "copy same registry": (None, None), "re-copy": (None, None),
}
RSS_BUDGET_KIB = 32 * 1024


def targets_for(label):
    if label in TARGETS:
        return TARGETS[label]
    if label.endswith("@20ms"):  # issue 15: every case <= 1.2 x curl; pull <= 0.6, push <= 0.25 x skopeo
        return (0.25 if label.startswith("push") else 0.6, 1.2)
    return (None, None)


def extra_verdicts(label, h, n_blobs):
    """The request-count targets of issue 16's same-registry copy and re-copy."""
    if label == "copy same registry":  # mounts only: no blob bytes, one manifest PUT
        ok = h["methods"].get("PATCH", 0) == 0 and h["methods"].get("PUT", 0) <= 1
        return ["%smounts only" % ("ok " if ok else "MISS ")]
    if label == "re-copy":
        ok = h["requests"] - h["pings"] <= 2
        return ["%s<=2 requests after auth" % ("ok " if ok else "MISS ")]
    return []


def rows_of(results, n_blobs):
    rows = []
    for label, r in results.items():
        h, s, lim, base, floor = r["hoist"], r.get("skopeo"), r.get("curl"), r.get("base"), r.get("floor")
        ratio = h["seconds"] / s["seconds"] if s else None
        vs_lim = h["seconds"] / lim["seconds"] if lim else None
        ts, tl = targets_for(label)
        verdict = []
        if ts is not None and ratio is not None:
            verdict.append("%s<=%.2gxS" % ("ok " if ratio <= ts else "MISS ", ts))
        if tl is not None and vs_lim is not None:
            verdict.append("%s<=%.1fxL" % ("ok " if vs_lim <= tl else "MISS ", tl))
        verdict += extra_verdicts(label, h, n_blobs)
        verdict.append("%sRSS" % ("ok " if h["peak_rss_kib"] <= RSS_BUDGET_KIB else "MISS "))
        s = s or {"seconds": None, "cpu_seconds": None, "peak_rss_kib": 0, "requests": None, "methods": {},
                  "all_seconds": []}
        rows.append({"case": label, "hoist_s": h["seconds"], "skopeo_s": s["seconds"], "ratio": ratio,
                     "base_s": base["seconds"] if base else None,
                     "hoist_vs_base": h["seconds"] / base["seconds"] if base else None,
                     "base_cpu_s": base["cpu_seconds"] if base else None,
                     "base_rtts": base.get("rtts") if base else None,
                     "limit_s": lim["seconds"] if lim else None, "hoist_vs_limit": vs_lim,
                     "floor_s": floor["seconds"] if floor else None,
                     "hoist_vs_floor": h["seconds"] / floor["seconds"] if floor else None,
                     "floor_rtts": floor.get("rtts") if floor else None,
                     "hoist_rtts": h.get("rtts"), "limit_rtts": lim.get("rtts") if lim else None,
                     "hoist_cpu_s": h["cpu_seconds"], "skopeo_cpu_s": s["cpu_seconds"],
                     "limit_cpu_s": lim["cpu_seconds"] if lim else None,
                     "hoist_rss_mib": h["peak_rss_kib"] / 1024, "skopeo_rss_mib": s["peak_rss_kib"] / 1024,
                     "hoist_requests": h["requests"], "skopeo_requests": s["requests"],
                     "limit_requests": lim["requests"] if lim else None,
                     "hoist_methods": h["methods"], "skopeo_methods": s["methods"],
                     "hoist_all_s": h["all_seconds"], "skopeo_all_s": s["all_seconds"],
                     "targets": ", ".join(verdict), "met": all(v.startswith("ok") for v in verdict)})
    return rows


def print_table(rows, title, notes, failures):
    f = lambda v, fmt: (fmt % v) if v is not None else "-"
    print("\n" + title)
    hdr = "%-26s %8s %8s %6s %8s %6s %9s %11s %11s %11s  %s" % (
        "case", "hoist s", "skopeo s", "xS", "curl s", "xL", "RTTs h/L", "CPU s h/S", "RSS MiB h/S", "reqs h/S/L",
        "targets")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        rtts = "%s/%s" % (f(r["hoist_rtts"], "%.1f"), f(r["limit_rtts"], "%.1f")) if r["hoist_rtts"] else "-"
        base = "; base %.3f s, hoist/base %.2f" % (r["base_s"], r["hoist_vs_base"]) if r["base_s"] else ""
        if r["floor_s"]:
            base += "; floor %.3f s (%.1f RTTs), hoist/floor %.2f" % (r["floor_s"], r["floor_rtts"], r["hoist_vs_floor"])
        print("%-26s %8.3f %8s %6s %8s %6s %9s %11s %11s %11s  %s%s" % (
            r["case"], r["hoist_s"], f(r["skopeo_s"], "%.3f"), f(r["ratio"], "%.2f"), f(r["limit_s"], "%.3f"),
            f(r["hoist_vs_limit"], "%.2f"), rtts, "%.2f/%s" % (r["hoist_cpu_s"], f(r["skopeo_cpu_s"], "%.2f")),
            "%.1f/%.1f" % (r["hoist_rss_mib"], r["skopeo_rss_mib"]),
            "%d/%s/%s" % (r["hoist_requests"], f(r["skopeo_requests"], "%d"), f(r["limit_requests"], "%d")),
            r["targets"], base))
    for n in notes:
        print("note: " + n)
    if failures:
        print("FAILED cases: " + ", ".join(failures))


def write_json(path, meta, rows, notes, failures):
    with open(path, "w") as fh:
        json.dump(dict(meta, time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), rows=rows, notes=notes,
                       failures=failures), fh, indent=1)


def markdown(rows):
    """The README's two tables: cases on loopback, and cases through the latency proxy."""
    f = lambda v, fmt="%.3f s": (fmt % v) if v is not None else ""
    bold = lambda v: ("**%.2f**" % v) if v is not None else ""

    def target(label, which, value):
        t = targets_for(label)[which]
        if t is None or value is None:
            return ""
        return "≤ %.2g %s" % (t, "✓" if value <= t else "✗")

    def extra(r):
        return ", ".join(v.split(" ", 1)[1] + (" ✓" if v.startswith("ok") else " ✗")
                         for v in r["targets"].split(", ") if "xS" not in v and "xL" not in v and "RSS" not in v)

    out = ["| case | hoist | skopeo | hoist ÷ skopeo | target | hoist ÷ curl limit | target | peak RSS hoist / skopeo "
           "| CPU s hoist / skopeo | requests hoist / skopeo |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in (r for r in rows if r["hoist_rtts"] is None):
        out.append("| %s | %s | %s | %s | %s | %s | %s | %.1f / %.1f MiB | %.2f / %s | %d / %s%s |" % (
            r["case"], f(r["hoist_s"]), f(r["skopeo_s"]), bold(r["ratio"]), target(r["case"], 0, r["ratio"]),
            f(r["hoist_vs_limit"], "%.2f"), target(r["case"], 1, r["hoist_vs_limit"]), r["hoist_rss_mib"],
            r["skopeo_rss_mib"], r["hoist_cpu_s"], f(r["skopeo_cpu_s"], "%.2f"), r["hoist_requests"],
            f(r["skopeo_requests"], "%d"), (" (" + extra(r) + ")") if extra(r) else ""))
    out += ["", "| case | hoist | skopeo | hoist ÷ skopeo | target | curl limit | hoist ÷ curl | target "
            "| protocol floor | hoist ÷ floor | round trips hoist / floor / curl "
            "| requests hoist / skopeo / curl | CPU s hoist / skopeo "
            "| peak RSS hoist / skopeo |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in (r for r in rows if r["hoist_rtts"] is not None):
        trips = " / ".join("%.1f" % v for v in (r["hoist_rtts"], r["floor_rtts"], r["limit_rtts"]) if v is not None)
        requests = " / ".join("%d" % v for v in (r["hoist_requests"], r["skopeo_requests"], r["limit_requests"])
                              if v is not None)
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                   "| %.2f / %s | %.1f / %.1f MiB |" % (
                       r["case"], f(r["hoist_s"]), f(r["skopeo_s"]), bold(r["ratio"]),
                       target(r["case"], 0, r["ratio"]), f(r["limit_s"]), bold(r["hoist_vs_limit"]),
                       target(r["case"], 1, r["hoist_vs_limit"]), f(r["floor_s"]), bold(r["hoist_vs_floor"]),
                       trips, requests,
                       r["hoist_cpu_s"], f(r["skopeo_cpu_s"], "%.2f"), r["hoist_rss_mib"], r["skopeo_rss_mib"]))
    return "\n".join(out) + "\n"
