//! Namespace `/admin`: the official Admin UI's (`--admin-ui`, through tether-admin), or the
//! testbed's own, which checks a token in the auth.

use serde_json::Value;
use tether_axum::socket::{ConnectError, Socket, SocketIo};

/// `--admin-mode` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum AdminMode {
    /// The live view of every socket.
    Development,
    /// Stats only.
    Production,
}

/// The official Admin UI's namespace at `/admin`: user `admin`, password `changeit`.
pub(crate) fn admin_ui(io: &SocketIo, mode: AdminMode) -> tether_admin::Admin {
    let hash = match bcrypt::hash("changeit", 10) {
        Ok(hash) => hash,
        Err(err) => {
            eprintln!("error: cannot hash the admin password: {err}");
            std::process::exit(1);
        }
    };
    let auth = match tether_admin::Auth::basic("admin", hash) {
        Ok(auth) => auth,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    };
    let mode = match mode {
        AdminMode::Development => tether_admin::Mode::Development,
        AdminMode::Production => tether_admin::Mode::Production,
    };
    let config = tether_admin::AdminConfig::new(auth)
        .mode(mode)
        .server_id("testbed");
    match tether_admin::instrument(io, config) {
        Ok(admin) => admin,
        Err(err) => {
            eprintln!("error: cannot set up the admin: {err}");
            std::process::exit(1);
        }
    }
}

/// The testbed's own `/admin`: a token in the auth, refused with data.
pub(crate) fn token_admin(io: &SocketIo) {
    io.ns("/admin", |socket: Socket| async move {
        let _ = socket.emit("hello", "admin");
    })
    .middleware(|socket: Socket| async move {
        let token = socket
            .auth::<Value>()
            .ok()
            .and_then(|a| a.get("token").cloned());
        if token == Some(Value::from("secret")) {
            Ok(())
        } else {
            Err(ConnectError::new("unauthorized").with_data(&serde_json::json!({ "code": 401 })))
        }
    });
}
