//! A `redis-server` of the test's own: Debian's binary on a free loopback port, no
//! persistence, stopped (by its pid) when dropped. Nothing uses a Redis that happens to run.

#![allow(dead_code, reason = "each test binary uses its own subset")]

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
    /// Starts one and waits until it accepts connections (it says so on stdout).
    pub(crate) fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
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
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/setup installs Debian's)");
        let stdout = child.stdout.take().expect("its stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = lines
            .by_ref()
            .take(200)
            .map_while(Result::ok)
            .any(|line| line.contains("Ready to accept connections"));
        assert!(ready, "redis-server on port {port} did not start");
        // Keep reading its output so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        RedisServer { child, port }
    }

    /// Its URL.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
