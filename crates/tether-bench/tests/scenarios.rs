//! A short run of every scenario against the tether bench server (in this process, on
//! 127.0.0.1, port 0): the results line must be well-formed and nothing may be missing. No
//! timed assertions: the machine is shared.

use clap::Parser;
use serde_json::Value;
use std::time::Duration;
use tether_bench::Cli;

/// Starts a bench server on its own runtime and thread; returns its URL.
fn server(ping_interval: u64, ping_timeout: u64) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr"))
                .expect("send addr");
            let opts = bench_server::Options {
                ping_interval: Duration::from_millis(ping_interval),
                ping_timeout: Duration::from_millis(ping_timeout),
                ..bench_server::Options::default()
            };
            bench_server::serve(listener, &opts).await.expect("serve");
        });
    });
    let addr = rx.recv().expect("server address");
    format!("http://{addr}")
}

async fn until_cut(cut: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = cut.wait_for(|cut| *cut).await;
}

async fn run(args: &[&str]) -> Value {
    let mut argv = vec!["tether-bench"];
    argv.extend_from_slice(args);
    argv.push("--quiet");
    let cli = Cli::try_parse_from(argv).expect("arguments");
    let outcome = tether_bench::run(&cli.scenario)
        .await
        .expect("the scenario runs");
    // The line the binary prints must parse back.
    let line = outcome.json.to_string();
    let json: Value = serde_json::from_str(&line).expect("one JSON line");
    assert!(!line.contains('\n'));
    assert_eq!(json["ok"], Value::Bool(true), "{json}");
    assert!(outcome.ok, "{json}");
    json
}

fn uint(json: &Value, key: &str) -> u64 {
    json[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not a count in {json}"))
}

fn float(json: &Value, key: &str) -> f64 {
    json[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {json}"))
}

fn latency_ok(json: &Value) {
    let l = &json["latency_us"];
    let (p50, p99, max) = (
        l["p50"].as_u64().expect("p50"),
        l["p99"].as_u64().expect("p99"),
        l["max"].as_u64().expect("max"),
    );
    assert!(p50 <= p99 && p99 <= max, "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_every_transport_and_mode() {
    let url = server(25_000, 20_000);
    for (transport, ack, size) in [
        ("websocket", false, "32"),
        ("websocket", true, "1024"),
        ("polling", false, "1024"),
        ("polling", true, "32"),
        ("streaming", false, "1024"),
        ("streaming", true, "32"),
    ] {
        let mut args = vec![
            "echo",
            "--url",
            &url,
            "--clients",
            "4",
            "--count",
            "200",
            "--duration",
            "30",
            "--transport",
            transport,
            "--size",
            size,
        ];
        if ack {
            args.push("--ack");
        }
        let json = run(&args).await;
        assert_eq!(json["scenario"], "echo");
        assert_eq!(json["transport"], transport);
        assert_eq!(json["ack"], ack);
        assert_eq!(uint(&json, "round_trips"), 200, "{json}");
        assert_eq!(uint(&json, "missing"), 0, "{json}");
        assert_eq!(uint(&json, "errors"), 0, "{json}");
        assert!(float(&json, "rate") > 0.0);
        latency_ok(&json);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_delivers_everything() {
    let url = server(25_000, 20_000);
    for transport in ["websocket", "polling", "streaming"] {
        let json = run(&[
            "broadcast",
            "--url",
            &url,
            "--clients",
            "20",
            "--count",
            "50",
            "--duration",
            "30",
            "--drain",
            "30",
            "--transport",
            transport,
        ])
        .await;
        assert_eq!(json["scenario"], "broadcast");
        assert_eq!(uint(&json, "receivers"), 20, "{json}");
        assert_eq!(uint(&json, "broadcasts"), 50, "{json}");
        assert_eq!(uint(&json, "deliveries"), 1000, "{json}");
        assert_eq!(uint(&json, "missing"), 0, "{json}");
        assert_eq!(uint(&json, "receive_errors"), 0, "{json}");
        latency_ok(&json);
    }
    // At a rate, not flat out.
    let json = run(&[
        "broadcast",
        "--url",
        &url,
        "--clients",
        "5",
        "--count",
        "10",
        "--rate",
        "100",
        "--duration",
        "30",
    ])
    .await;
    assert_eq!(uint(&json, "deliveries"), 50, "{json}");
    assert_eq!(uint(&json, "missing"), 0, "{json}");
    assert!(json["server_cpu_s"].is_null(), "no pid, no CPU: {json}");
    // Open loop, with the server's CPU (the server runs in this process).
    let pid = std::process::id().to_string();
    let json = run(&[
        "broadcast",
        "--url",
        &url,
        "--clients",
        "5",
        "--count",
        "20",
        "--rate",
        "200",
        "--window",
        "1000000",
        "--duration",
        "30",
        "--pid",
        &pid,
    ])
    .await;
    assert_eq!(uint(&json, "deliveries"), 100, "{json}");
    assert_eq!(uint(&json, "window_stalls"), 0, "{json}");
    assert!(float(&json, "server_cpu_s") >= 0.0, "{json}");
    assert!(float(&json, "cpu_us_per_delivery") >= 0.0, "{json}");
    // A fleet's two processes (here this one twice) are counted together.
    let json = run(&[
        "broadcast",
        "--url",
        &url,
        "--clients",
        "2",
        "--count",
        "5",
        "--duration",
        "30",
        "--pid",
        &pid,
        "--pid2",
        &pid,
    ])
    .await;
    assert_eq!(uint(&json, "deliveries"), 10, "{json}");
    assert!(float(&json, "server_cpu_s") >= 0.0, "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_reads_memory_from_stats_and_proc() {
    let url = server(25_000, 20_000);
    let json = run(&["idle", "--url", &url, "--clients", "50", "--settle", "0.1"]).await;
    assert_eq!(json["scenario"], "idle");
    assert_eq!(uint(&json, "connected"), 50, "{json}");
    assert_eq!(uint(&json, "connect_errors"), 0, "{json}");
    assert_eq!(uint(&json, "dropped_while_idle"), 0, "{json}");
    assert!(uint(&json, "sessions_after") >= 50, "{json}");
    assert!(uint(&json, "rss_after_kib") > 0);
    float(&json, "rss_per_conn_kib");

    let pid = std::process::id().to_string();
    let json = run(&[
        "idle",
        "--url",
        &url,
        "--clients",
        "10",
        "--settle",
        "0",
        "--pid",
        &pid,
    ])
    .await;
    assert_eq!(uint(&json, "connected"), 10, "{json}");
    assert!(uint(&json, "rss_after_kib") > 0);
    assert_eq!(json["sessions_after"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshakes_on_both_transports() {
    let url = server(25_000, 20_000);
    for transport in ["websocket", "polling"] {
        let json = run(&[
            "handshake",
            "--url",
            &url,
            "--workers",
            "4",
            "--count",
            "100",
            "--duration",
            "30",
            "--transport",
            transport,
        ])
        .await;
        assert_eq!(json["scenario"], "handshake");
        assert_eq!(uint(&json, "sessions"), 100, "{json}");
        assert_eq!(uint(&json, "errors"), 0, "{json}");
        latency_ok(&json);
    }
}

/// A paced broadcast of `count` at `rate` per second to `clients` receivers on `transport`,
/// against a server that pings every 50 ms and waits 1 s for the pong (wide, so a loaded
/// machine meets it); the emitter is on WebSocket.
async fn heartbeat_broadcast(clients: &str, count: &str, rate: &str, transport: &str) -> Value {
    let url = server(50, 1_000);
    #[rustfmt::skip]
    let args = [
        "broadcast", "--url", &url, "--clients", clients, "--count", count, "--rate", rate,
        "--duration", "30", "--drain", "30", "--transport", transport,
    ];
    run(&args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_receivers_answer_the_heartbeat() {
    // The run lasts 3 s, so a receiver that did not answer pings would be dropped at about
    // 1.05 s and its deliveries would go missing.
    for transport in ["websocket", "polling"] {
        let json = heartbeat_broadcast("4", "30", "10", transport).await;
        assert_eq!(uint(&json, "deliveries"), 120, "{transport}: {json}");
        assert_eq!(uint(&json, "missing"), 0, "{transport}: {json}");
        assert_eq!(uint(&json, "receive_errors"), 0, "{transport}: {json}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emitter_answers_the_heartbeat_between_slow_broadcasts() {
    // 1.25 s between broadcasts, longer than the 1 s pong window: an emitter that read its
    // connection only between broadcasts was dropped (CI saw it as a broken pipe).
    let json = heartbeat_broadcast("2", "3", "0.8", "websocket").await;
    assert_eq!(json["first_error"], Value::Null, "{json}");
    assert_eq!(uint(&json, "deliveries"), 6, "{json}");
    assert_eq!(uint(&json, "missing"), 0, "{json}");
}

/// A TCP proxy on 127.0.0.1 to `upstream` that cuts every connection through it (and refuses
/// new ones) once the server has sent `needle` on any of them: a server that dies mid-run.
async fn cutting_proxy(upstream: std::net::SocketAddr, needle: &'static [u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (cut, _) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            if *cut.borrow() {
                continue;
            }
            let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                continue;
            };
            let (mut from_client, mut to_client) = client.into_split();
            let (mut from_server, mut to_server) = server.into_split();
            let (mut up_cut, mut down_cut, cut) = (cut.subscribe(), cut.subscribe(), cut.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = tokio::io::copy(&mut from_client, &mut to_server) => {}
                    () = until_cut(&mut up_cut) => {}
                }
            });
            tokio::spawn(async move {
                let mut buf = vec![0; 64 * 1024];
                loop {
                    tokio::select! {
                        read = from_server.read(&mut buf) => {
                            let Ok(n @ 1..) = read else { return };
                            if to_client.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                            if buf[..n].windows(needle.len()).any(|w| w == needle) {
                                cut.send_replace(true);
                            }
                        }
                        () = until_cut(&mut down_cut) => return,
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_dies_mid_broadcast_ends_the_run_with_the_emitters_error() {
    // Every connection is cut when the first `news` reaches a receiver. The emitter, waiting
    // 20 s on its pace for the second broadcast, learns it from its connection, and the run
    // ends with its error there: one broadcast sent, not a second into a dead server.
    let server = server(25_000, 20_000);
    let upstream = server
        .strip_prefix("http://")
        .and_then(|a| a.parse().ok())
        .expect("the server's address");
    let url = cutting_proxy(upstream, b"news").await;
    #[rustfmt::skip]
    let argv = [
        "tether-bench", "broadcast", "--url", &url, "--clients", "2", "--count", "100",
        "--rate", "0.05", "--duration", "60", "--drain", "0", "--quiet",
    ];
    let cli = Cli::try_parse_from(argv).expect("arguments");
    let outcome = tether_bench::run(&cli.scenario)
        .await
        .expect("the run reports");
    let json = outcome.json;
    assert!(!outcome.ok, "{json}");
    assert!(json["first_error"].is_string(), "{json}");
    assert_eq!(uint(&json, "broadcasts"), 1, "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_returns_to_zero_sessions() {
    // Short heartbeats, so abandoned sessions go within a second or two.
    let url = server(600, 400);
    let json = run(&[
        "soak",
        "--url",
        &url,
        "--sessions",
        "280",
        "--warmup",
        "70",
        "--concurrency",
        "16",
        "--duration",
        "120",
        "--settle",
        "60",
        // The server shares this process with the client and the other tests: the RSS check
        // is for a server of its own (bench/run), here it only has to be read.
        "--rss-tolerance",
        "100000",
    ])
    .await;
    assert_eq!(json["scenario"], "soak");
    assert_eq!(uint(&json, "sessions"), 280, "{json}");
    assert_eq!(uint(&json, "errors"), 0, "{json}");
    assert_eq!(uint(&json, "sessions_end"), 0, "{json}");
    assert_eq!(json["sessions_returned_to_zero"], true);
    for (kind, counts) in json["kinds"].as_object().expect("kinds") {
        assert_eq!(counts["done"], 40, "{kind}: {json}");
    }
}

#[tokio::test]
async fn refuses_other_hosts() {
    let cli = Cli::try_parse_from(["tether-bench", "echo", "--url", "http://192.168.1.1:3000"])
        .expect("arguments");
    assert!(tether_bench::run(&cli.scenario).await.is_err());
}

#[tokio::test]
async fn a_second_pid_needs_a_first_and_a_process_behind_it() {
    let url = server(25_000, 20_000);
    let alone = Cli::try_parse_from(["tether-bench", "broadcast", "--url", &url, "--pid2", "1"]);
    assert!(alone.is_err(), "--pid2 without --pid is refused");
    // A pid no process has (above Linux's pid_max of 2^22): a clear error, not a number.
    let pid = std::process::id().to_string();
    let cli = Cli::try_parse_from([
        "tether-bench",
        "broadcast",
        "--url",
        &url,
        "--clients",
        "1",
        "--count",
        "1",
        "--pid",
        &pid,
        "--pid2",
        "4194305",
    ])
    .expect("arguments");
    let err = tether_bench::run(&cli.scenario)
        .await
        .expect_err("no such process");
    assert!(err.to_string().contains("/proc/4194305/stat"), "{err}");
}
