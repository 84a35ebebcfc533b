//! The server under test: where it is (loopback only) and how to read its sessions and memory.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::{Common, Result};

/// The server's address and Engine.IO path, with a shared HTTP client for polling.
#[derive(Debug, Clone)]
pub struct Target {
    /// `127.0.0.1:PORT`.
    pub addr: SocketAddr,
    /// The Engine.IO path, with both slashes (`/socket.io/`).
    pub path: String,
    /// HTTP client for long-polling and `/stats` (keep-alive, no proxy, `TCP_NODELAY`).
    pub http: reqwest::Client,
}

impl Target {
    /// Parses `url` (`http://127.0.0.1:3000`), refusing any host that is not a loopback address.
    pub fn new(url: &str, path: &str) -> Result<Target> {
        let parsed = reqwest::Url::parse(url)?;
        if parsed.scheme() != "http" {
            return Err(format!("only http:// URLs are supported, not {url}").into());
        }
        let host = parsed.host_str().ok_or("the URL has no host")?;
        let ip: IpAddr = match host {
            "localhost" => IpAddr::from([127, 0, 0, 1]),
            h => h.trim_matches(|c| c == '[' || c == ']').parse()?,
        };
        if !ip.is_loopback() {
            return Err(format!("refusing {ip}: the bench only targets loopback addresses").into());
        }
        let port = parsed
            .port_or_known_default()
            .ok_or("the URL has no port")?;
        let mut path = path.to_owned();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        if !path.ends_with('/') {
            path.push('/');
        }
        let http = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Target {
            addr: SocketAddr::new(ip, port),
            path,
            http,
        })
    }

    /// From the shared command-line settings.
    pub fn from_common(common: &Common) -> Result<Target> {
        Target::new(&common.url, &common.path)
    }

    /// The polling URL, with `&sid=...` when `sid` is given.
    pub fn polling_url(&self, sid: Option<&str>) -> String {
        match sid {
            Some(sid) => format!(
                "http://{}{}?EIO=4&transport=polling&sid={sid}",
                self.addr, self.path
            ),
            None => format!("http://{}{}?EIO=4&transport=polling", self.addr, self.path),
        }
    }

    /// The URL of an HTTP transport (`polling`, `streaming`), with `&sid=...` once open.
    pub fn transport_url(&self, transport: &str, sid: Option<&str>) -> String {
        let base = format!(
            "http://{}{}?EIO=4&transport={transport}",
            self.addr, self.path
        );
        match sid {
            Some(sid) => format!("{base}&sid={sid}"),
            None => base,
        }
    }

    /// The WebSocket URL, with `&sid=...` for an upgrade.
    pub fn ws_url(&self, sid: Option<&str>) -> String {
        match sid {
            Some(sid) => format!(
                "ws://{}{}?EIO=4&transport=websocket&sid={sid}",
                self.addr, self.path
            ),
            None => format!("ws://{}{}?EIO=4&transport=websocket", self.addr, self.path),
        }
    }

    /// The URL of a bare WebSocket server (the raw reference): `ws://addr/`.
    pub fn raw_ws_url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

/// Reads the server's session count and RSS.
#[derive(Debug, Clone)]
pub enum Probe {
    /// `GET` a URL answering `{"sessions": n, "rss_kib": n}`.
    Stats {
        /// The URL.
        url: String,
        /// The client.
        http: reqwest::Client,
    },
    /// `/proc/<pid>/status` (RSS only).
    Pid(u32),
}

/// One reading of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// Open sessions, when the server says.
    pub sessions: Option<u64>,
    /// Resident memory in KiB.
    pub rss_kib: u64,
}

impl Probe {
    /// `--pid` if given, else `--stats-url`, else `<url>/stats`.
    pub fn from_common(common: &Common, target: &Target) -> Probe {
        match (common.pid, &common.stats_url) {
            (Some(pid), _) => Probe::Pid(pid),
            (None, Some(url)) => Probe::Stats {
                url: url.clone(),
                http: target.http.clone(),
            },
            (None, None) => Probe::Stats {
                url: format!("http://{}/stats", target.addr),
                http: target.http.clone(),
            },
        }
    }

    /// Reads the server once.
    pub async fn read(&self) -> Result<Reading> {
        match self {
            Probe::Stats { url, http } => {
                let bytes = http
                    .get(url)
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await?
                    .error_for_status()?
                    .bytes()
                    .await?;
                let body: serde_json::Value = serde_json::from_slice(&bytes)?;
                let sessions = body.get("sessions").and_then(serde_json::Value::as_u64);
                let rss_kib = body
                    .get("rss_kib")
                    .and_then(serde_json::Value::as_u64)
                    .ok_or("the stats answer has no rss_kib")?;
                Ok(Reading { sessions, rss_kib })
            }
            Probe::Pid(pid) => Ok(Reading {
                sessions: None,
                rss_kib: proc_rss_kib(*pid)?,
            }),
        }
    }
}

/// `VmRSS` of a process, in KiB.
pub fn proc_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmRSS in /proc/{pid}/status").into())
}

/// CPU time a process has used (user and system), in seconds, from `/proc/<pid>/stat` (its
/// clock ticks are `USER_HZ`, 100 per second on Linux).
pub fn proc_cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("/proc/{pid}/stat: {e} (is process {pid} running?)"))?;
    parse_cpu_seconds(&stat).ok_or_else(|| format!("unreadable /proc/{pid}/stat").into())
}

/// utime + stime of a `/proc/<pid>/stat` line. The name in parentheses may hold spaces, so the
/// fields are counted from the last `)`: state is the first after it, utime the 12th.
fn parse_cpu_seconds(stat: &str) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_time_from_a_stat_line() {
        let line = "4321 (bench server) S 1 4321 4321 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0";
        assert_eq!(parse_cpu_seconds(line), Some(3.25));
        assert_eq!(parse_cpu_seconds("4321 (x) S 1"), None);
        let own = proc_cpu_seconds(std::process::id()).expect("own stat");
        assert!(own >= 0.0);
    }

    #[test]
    fn only_loopback() {
        assert!(Target::new("http://127.0.0.1:3000", "/socket.io/").is_ok());
        assert!(Target::new("http://localhost:3000", "socket.io").is_ok());
        assert!(Target::new("http://[::1]:3000", "/socket.io/").is_ok());
        assert!(Target::new("http://10.0.0.1:3000", "/socket.io/").is_err());
        assert!(Target::new("http://example.com:3000", "/socket.io/").is_err());
        let t = Target::new("http://127.0.0.1:3000", "socket.io").unwrap();
        assert_eq!(
            t.ws_url(Some("x")),
            "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket&sid=x"
        );
    }
}
