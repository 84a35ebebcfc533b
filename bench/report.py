#!/usr/bin/env python3
"""Turns bench/run's raw.jsonl into a markdown table of medians and ratios, and a PNG chart.

    python3 bench/report.py bench/results/raw.jsonl bench/results.md bench/results.png

The chart needs matplotlib; if it is missing, the script tries `pip install matplotlib` once and
otherwise writes the table alone.
"""

import json
import statistics
import subprocess
import sys

# (scenario id, metric path, label, higher is better, target for tether vs socketioxide)
ROWS = [
    ("echo-ws-32", "rate", "round trips/s", True, ("ratio", 1.3)),
    ("echo-ws-32", "latency_us.p99", "p99 latency (µs)", False, ("ratio", 1.0)),
    ("echo-ws-32-ack", "rate", "round trips/s", True, None),
    ("echo-ws-1k", "rate", "round trips/s", True, ("ratio", 1.3)),
    ("echo-polling-32", "rate", "round trips/s", True, ("ratio", 1.5)),
    ("echo-polling-32-ack", "rate", "round trips/s", True, ("ratio", 1.5)),
    ("echo-polling-1k", "rate", "round trips/s", True, None),
    ("broadcast-saturate", "rate", "deliveries/s", True, ("ratio", 1.5)),
    ("broadcast-saturate", "missing", "missing (sum of rounds)", False, ("zero", 0)),
    ("broadcast-rate", "latency_us.p50", "delivery p50 (µs)", False, None),
    ("broadcast-rate", "latency_us.p99", "delivery p99 (µs)", False, None),
    ("broadcast-paced-250", "latency_us.p99", "delivery p99 (µs), 250/s open loop", False, ("ratio", 1.0)),
    ("broadcast-paced-250", "cpu_us_per_delivery", "server CPU µs per delivery, 250/s", False, ("ratio", 1.0)),
    ("broadcast-paced-250", "missing", "missing (sum of rounds), 250/s", False, ("zero", 0)),
    ("broadcast-paced-500", "latency_us.p99", "delivery p99 (µs), 500/s open loop", False, ("ratio", 1.0)),
    ("broadcast-paced-500", "cpu_us_per_delivery", "server CPU µs per delivery, 500/s", False, ("ratio", 1.0)),
    ("broadcast-paced-500", "missing", "missing (sum of rounds), 500/s", False, ("zero", 0)),
    ("broadcast-cross", "rate", "deliveries/s, two nodes on Redis", True, ("ratio", 1.5)),
    ("broadcast-cross", "latency_us.p99", "delivery p99 (µs), two nodes", False, ("ratio", 1.0)),
    ("broadcast-cross", "cpu_us_per_delivery", "both nodes' CPU µs per delivery", False, None),
    ("broadcast-cross", "missing", "missing (sum of rounds)", False, ("zero", 0)),
    ("idle", "rss_per_conn_kib", "server KiB per connection", False, ("at_most", 5.0)),
    ("idle", "connect_rate", "connects/s", True, None),
    ("handshake-ws", "rate", "sessions/s", True, ("ratio", 1.5)),
    ("handshake-polling", "rate", "sessions/s", True, ("ratio", 1.5)),
]
SERVERS = ["tether", "socketioxide", "node", "raw"]
PEERS = ["socketioxide", "node", "raw"]


def get(obj, path):
    for key in path.split("."):
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj if isinstance(obj, (int, float)) else None


def fmt(x):
    if x is None:
        return "—"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else f"{int(x)}"


def load(path):
    meta, samples, soak = {}, {}, []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            if "meta" in rec:
                meta = rec["meta"]
            elif rec.get("id") == "soak":
                soak.append(rec["result"])
            else:
                samples.setdefault((rec["id"], rec["server"]), []).append(rec["result"])
    return meta, samples, soak


def main():
    raw, md_path, png_path = sys.argv[1], sys.argv[2], sys.argv[3]
    meta, samples, soak = load(raw)
    servers = [s for s in SERVERS if any(k[1] == s for k in samples)]
    peers = [p for p in PEERS if p in servers]

    table = []  # (id, label, higher, {server: median}, target)
    for sid, path, label, higher, target in ROWS:
        med = {}
        for s in servers:
            vals = [get(r, path) for r in samples.get((sid, s), [])]
            vals = [v for v in vals if v is not None]
            if vals:
                med[s] = sum(vals) if path == "missing" else statistics.median(vals)
        if med:
            table.append((sid, path, label, higher, med, target))

    out = []
    out.append("# Benchmark results\n")
    out.append(
        f"Machine: {meta.get('machine', '?')}. Server and load generator share it"
        + (" (server pinned to CPU 0, load generator to CPU 1)." if meta.get("pin") else ".")
    )
    out.append(
        f"{meta.get('rounds', '?')} interleaved rounds (A B C, then C B A, ...) of "
        f"{meta.get('duration', '?')} s per measurement, each on a freshly started server; "
        f"medians of the rounds. Echo: {meta.get('echo_clients')} clients. Broadcast: "
        f"{meta.get('bcast_clients')} receivers, one emitter flat out (8 broadcasts in flight), "
        f"and {meta.get('bcast_rate_clients')} receivers at {meta.get('bcast_rate')}/s. Idle: "
        f"{meta.get('idle_clients')} WebSocket connections. Handshake: "
        f"{meta.get('handshake_workers')} workers. Run {meta.get('date', '')}.\n"
    )
    head = ["scenario", "metric"] + servers + [f"tether ÷ {p}" for p in peers] + ["target", "met"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    chart = []  # (row label, {peer: advantage})
    for sid, path, label, higher, med, target in table:
        t = med.get("tether")
        cells = [sid, label + ("" if higher else " ↓")]
        cells += [fmt(med.get(s)) for s in servers]
        adv = {}
        for p in peers:
            v = med.get(p)
            if t is None or v is None or path == "missing":
                cells.append("—")
                continue
            ratio = t / v if v else None
            cells.append(f"{ratio:.2f}×" if ratio is not None else "—")
            if t and v:
                adv[p] = (t / v) if higher else (v / t)
        tgt, met = "", ""
        if target and t is not None:
            kind, x = target
            sx = med.get("socketioxide")
            if kind == "ratio" and sx:
                ok = (t / sx >= x) if higher else (t <= sx * x)
                tgt = f"≥ {x}× socketioxide" if higher else "≤ socketioxide"
                met = "yes" if ok else "no"
            elif kind == "zero":
                tgt, met = "0", ("yes" if t == 0 else "no")
            elif kind == "at_most":
                tgt, met = f"≤ {x}", ("yes" if t <= x else "no")
        cells += [tgt, met]
        out.append("| " + " | ".join(cells) + " |")
        if adv and path != "missing":
            chart.append((f"{sid}\n{label}", adv))
    out.append("")
    out.append("↓ = lower is better. Ratios are tether's value over the peer's. `raw` is a bare")
    out.append("tungstenite WebSocket echo (no Socket.IO), a reference rather than a ceiling.\n")

    for r in soak:
        out.append("## Soak (tether)\n")
        keys = [
            "sessions", "errors", "seconds", "rate", "rss_start_kib", "rss_baseline_kib",
            "rss_loaded_kib", "sessions_loaded", "rss_end_kib", "rss_growth_pct",
            "sessions_end", "settle_s", "ok",
        ]
        out.append("| " + " | ".join(keys) + " |")
        out.append("|" + "---|" * len(keys))
        out.append("| " + " | ".join(str(r.get(k, "—")) for k in keys) + " |\n")

    out.append("![tether's advantage over each peer](results.png)\n")
    with open(md_path, "w") as f:
        f.write("\n".join(out))
    print("\n".join(out))

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "matplotlib"], check=False)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not available: no chart", file=sys.stderr)
        return
    labels = [c[0] for c in chart]
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(labels) + 1.5))
    height = 0.8 / max(1, len(peers))
    colors = {"socketioxide": "#d95f02", "node": "#1b9e77", "raw": "#7570b3"}
    for i, p in enumerate(peers):
        ys = [j + i * height for j in range(len(labels))]
        xs = [c[1].get(p, 0) for c in chart]
        ax.barh(ys, xs, height=height, label=f"vs {p}", color=colors.get(p))
        for y, x in zip(ys, xs):
            if x:
                ax.text(x, y, f" {x:.2f}×", va="center", fontsize=7)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    ax.xaxis.set_major_locator(FixedLocator([0.25, 0.5, 1, 2, 4, 8]))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks([j + height * (len(peers) - 1) / 2 for j in range(len(labels))])
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("tether's advantage (×, log scale): > 1 means tether is better")
    ax.set_title(f"tether vs peers — medians of {meta.get('rounds', '?')} interleaved rounds, "
                 f"{meta.get('machine', '').split(',')[0]}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(peers), fontsize=8)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    print(f"wrote {md_path} and {png_path}")


if __name__ == "__main__":
    main()
