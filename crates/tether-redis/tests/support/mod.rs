//! A `redis-server` of the test's own: Debian's binary on a free loopback port, no
//! persistence, stopped (by its pid) when dropped. Nothing uses a Redis that happens to run.

#![allow(dead_code, reason = "each test binary uses its own subset")]

pub(crate) mod cluster;

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
    /// Starts one on a free port and waits until it accepts connections.
    pub(crate) fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        RedisServer::start_on(port)
    }

    /// Starts one on `port` and waits until it accepts connections (it says so on stdout).
    pub(crate) fn start_on(port: u16) -> RedisServer {
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

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
