//! What the library logs, through `tracing`: its events carry the session's span (`sid`) and a
//! socket's span (`id`, `ns`) around the application's handlers; routine work is at debug,
//! nothing at info on a session's path, and limits or broken rules at warn. A real
//! `Engine<SocketIo>` on its polling API, a subscriber that writes into a buffer.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use support::{Client, engine};
use tether_core::socket::{Socket, SocketIo};
use tracing::level_filters::LevelFilter;

/// The log, as the formatter writes it.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }
}

/// A subscriber at `level` writing into a fresh log, for this thread (the tests run on
/// tokio's current-thread runtime, so every task logs here).
fn capture(level: LevelFilter) -> (Log, tracing::subscriber::DefaultGuard) {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (log, tracing::subscriber::set_default(subscriber))
}

fn server() -> SocketIo {
    let io = SocketIo::builder().build();
    io.ns("/", |socket: Socket| async move {
        socket.on("work", |socket: Socket| async move {
            tracing::debug!("the handler at work");
            let _ = socket.emit("done", &true);
        });
    });
    io
}

#[tokio::test(start_paused = true)]
async fn a_handlers_log_lines_carry_the_session_and_the_socket() {
    let (log, _guard) = capture(LevelFilter::DEBUG);
    let engine = engine(&server());
    let mut c = Client::open(&engine);
    let id = c.connect("/").await;
    c.send(r#"42["work"]"#).await;
    assert_eq!(c.recv().await, r#"42["done",true]"#);
    let text = log.text();
    let line = text
        .lines()
        .find(|l| l.contains("the handler at work"))
        .unwrap_or_else(|| panic!("no handler line in:\n{text}"));
    let sid = c.sid.to_string();
    assert!(
        line.contains(&format!("session{{sid={sid} request=\"post\"}}")),
        "{line}"
    );
    assert!(
        line.contains(&format!("socket{{id={id} ns=\"/\"}}")),
        "{line}"
    );
    assert!(line.contains("DEBUG"), "{line}");
    // the library's own routine lines, at debug
    for routine in ["session opened", "socket connected", "event"] {
        assert!(
            text.lines()
                .any(|l| l.contains("DEBUG") && l.contains(routine)),
            "{routine} in:\n{text}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn nothing_at_info_on_a_sessions_path() {
    let (log, _guard) = capture(LevelFilter::INFO);
    let engine = engine(&server());
    let mut c = Client::open(&engine);
    c.connect("/").await;
    for _ in 0..10 {
        c.send(r#"42["work"]"#).await;
        assert_eq!(c.recv().await, r#"42["done",true]"#);
    }
    c.send("41").await;
    c.send("1").await;
    c.assert_closed().await;
    assert_eq!(
        log.text(),
        "",
        "a whole session, and not one line at info or above"
    );
}

#[tokio::test(start_paused = true)]
async fn a_broken_rule_is_a_warning() {
    let (log, _guard) = capture(LevelFilter::INFO);
    let engine = engine(&server());
    let mut c = Client::open(&engine);
    c.connect("/").await;
    // a second GET while the client's poll is held
    let _ = engine.poll(c.sid).await;
    c.assert_closed().await;
    let text = log.text();
    assert!(
        text.lines().any(|l| l.contains("WARN")
            && l.contains("session closed")
            && l.contains("duplicate poll")
            && l.contains(&c.sid.to_string())),
        "{text}"
    );
}
