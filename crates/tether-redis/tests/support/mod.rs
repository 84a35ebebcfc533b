//! A `redis-server` of the test's own: Debian's binary on a free loopback port, no
//! persistence, stopped (by its pid) when dropped. Nothing uses a Redis that happens to run.

#![allow(dead_code, reason = "each test binary uses its own subset")]

pub(crate) mod cluster;
pub(crate) mod wire;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running redis-server.
#[derive(Debug)]
pub(crate) struct RedisServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
}

impl RedisServer {
    /// Starts one on a free port and waits until it accepts connections. A port found free
    /// can be taken by another test before the server binds it, so a start that fails tries
    /// a fresh port, up to [`START_ATTEMPTS`] times.
    pub(crate) fn start() -> RedisServer {
        let (child, port) = retry(|| {
            let port = free_port();
            spawn_ready(port, &[]).map(|child| (child, port))
        });
        RedisServer { child, port }
    }

    /// Starts one on `port` and waits until it accepts connections (it says so on stdout).
    pub(crate) fn start_on(port: u16) -> RedisServer {
        let child = retry(|| spawn_ready(port, &[]));
        RedisServer { child, port }
    }

    /// Kills it (SIGKILL: no goodbye to its clients) and starts a fresh one, empty, on the
    /// same port.
    pub(crate) fn restart(&mut self) {
        self.stop();
        *self = RedisServer::start_on(self.port);
    }

    /// Kills it and waits until it is gone.
    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops it answering, as a Redis too busy to read would (SIGSTOP), until `resume`.
    pub(crate) fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on (SIGCONT).
    pub(crate) fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let status = Command::new("kill")
            .args([which, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {which} failed");
    }

    /// Its URL.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// How many times a start is tried before the test fails with the server's own words.
const START_ATTEMPTS: usize = 5;

/// Runs `start` until it succeeds, at most [`START_ATTEMPTS`] times; panics with every
/// failure's reason after the last.
fn retry<T>(mut start: impl FnMut() -> Result<T, String>) -> T {
    let mut failures = Vec::new();
    for _ in 0..START_ATTEMPTS {
        match start() {
            Ok(started) => return started,
            Err(why) => failures.push(why),
        }
    }
    panic!(
        "redis-server did not start in {START_ATTEMPTS} attempts:\n{}",
        failures.join("\n")
    );
}

/// Starts redis-server on `port` with `extra` arguments (no persistence, loopback only) and
/// waits until it accepts connections (it says so on stdout). If it exits first (a port
/// taken, say), the error carries what it printed.
fn spawn_ready(port: u16, extra: &[&str]) -> Result<Child, String> {
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server runs (scripts/setup installs Debian's)");
    let stdout = child.stdout.take().expect("its stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut said = Vec::new();
    let mut ready = false;
    for line in lines.by_ref().take(200).map_while(Result::ok) {
        if line.contains("Ready to accept connections") {
            ready = true;
            break;
        }
        said.push(line);
    }
    // Keep reading its output so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    if !ready {
        let _ = child.kill();
        let _ = child.wait();
        let last = said.split_off(said.len().saturating_sub(5));
        return Err(format!(
            "  on port {port}: {}",
            if last.is_empty() {
                "no output".to_owned()
            } else {
                last.join(" / ")
            }
        ));
    }
    Ok(child)
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port on 127.0.0.1 (bound, then released).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A Redis Cluster of the test's own: three masters (no replicas) on free ports, each with
/// its own cluster bus port and config file in a directory of its own, the 16,384 slots
/// spread over them by `redis-cli --cluster create`; killed and removed when dropped.
#[derive(Debug)]
pub(crate) struct RedisClusterServers {
    children: Vec<Child>,
    /// The masters' ports.
    pub(crate) ports: Vec<u16>,
    dir: std::path::PathBuf,
}

impl RedisClusterServers {
    /// Starts three masters and makes them one cluster.
    pub(crate) fn start() -> RedisClusterServers {
        let dir = std::env::temp_dir().join(format!(
            "tether-redis-cluster-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("a directory for the cluster's files");
        let mut servers = RedisClusterServers {
            children: Vec::new(),
            ports: Vec::new(),
            dir,
        };
        for _ in 0..3 {
            let dir = servers.dir.to_string_lossy().into_owned();
            let (child, port) = retry(|| {
                let (port, bus) = (free_port(), free_port());
                let conf = format!("nodes-{port}.conf");
                let bus = bus.to_string();
                let args = [
                    "--cluster-enabled",
                    "yes",
                    "--cluster-port",
                    &bus,
                    "--cluster-config-file",
                    &conf,
                    "--dir",
                    &dir,
                ];
                spawn_ready(port, &args).map(|child| (child, port))
            });
            servers.children.push(child);
            servers.ports.push(port);
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for port in &servers.ports {
            create.arg(format!("127.0.0.1:{port}"));
        }
        let out = create
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("All 16384 slots covered"),
            "redis-cli --cluster create failed: {text}"
        );
        servers
    }

    /// One URL per master.
    pub(crate) fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|port| format!("redis://127.0.0.1:{port}"))
            .collect()
    }
}

impl Drop for RedisClusterServers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
