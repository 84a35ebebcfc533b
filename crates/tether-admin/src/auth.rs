//! Who may use the Admin UI: nobody checked ([`Auth::None`]), or one user whose password is
//! checked against a bcrypt hash ([`Auth::basic`]), off the async executor. A login gets a
//! session id (16 hex characters, as Node's) kept in a [`SessionStore`], so a reload of the
//! UI logs in again without the password.
//!
//! Layer: values and the session store; names nothing else of the crate.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::Mutex;

/// At most this many session ids in a [`MemoryStore`]; the oldest goes first.
pub const MAX_SESSIONS: usize = 10_000;

/// The message of the CONNECT_ERROR for a refused login: the UI checks for exactly this text.
pub const INVALID_CREDENTIALS: &str = "invalid credentials";

/// How the admin namespace checks who connects.
#[derive(Clone)]
pub enum Auth {
    /// Anyone may connect (Node's `auth: false`): for a UI behind your own access control.
    None,
    /// One user, the password checked against a bcrypt hash (`$2a$`, `$2b$`, `$2x$`, `$2y$`).
    Basic {
        /// The user name.
        username: String,
        /// The bcrypt hash of the password.
        hash: String,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("Auth::None"),
            Auth::Basic { username, .. } => f
                .debug_struct("Auth::Basic")
                .field("username", username)
                .finish_non_exhaustive(),
        }
    }
}

/// Why an [`Auth`] could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The password is not a bcrypt hash.
    NotABcryptHash,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::NotABcryptHash => f.write_str("the password must be a bcrypt hash"),
        }
    }
}

impl std::error::Error for AuthError {}

impl Auth {
    /// One user with this bcrypt hash of the password (`bcrypt::hash("changeit", 10)`, or
    /// `htpasswd -nbBC 10 admin changeit`); anything else is refused here, not at login.
    pub fn basic(username: impl Into<String>, hash: impl Into<String>) -> Result<Auth, AuthError> {
        let hash = hash.into();
        if hash.parse::<bcrypt::HashParts>().is_err() {
            return Err(AuthError::NotABcryptHash);
        }
        Ok(Auth::Basic {
            username: username.into(),
            hash,
        })
    }

    /// Whether `username` and `password` are the user's. The bcrypt check runs on a blocking
    /// thread (tens of milliseconds at cost 10), never on the async executor.
    pub(crate) async fn check(&self, username: Option<&str>, password: Option<&str>) -> bool {
        let Auth::Basic {
            username: user,
            hash,
        } = self
        else {
            return true;
        };
        let (Some(username), Some(password)) = (username, password) else {
            return false;
        };
        if username != user {
            return false;
        }
        let (password, hash) = (password.to_owned(), hash.clone());
        tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
            .await
            .unwrap_or(false)
    }
}

/// Where login sessions are kept. Shared by every node of a cluster when the store is (the
/// default [`MemoryStore`] is per node).
pub trait SessionStore: Send + Sync + 'static {
    /// Keeps a session id.
    fn save(&self, id: &str);
    /// Whether the id was kept.
    fn exists(&self, id: &str) -> bool;
}

/// Session ids in this process's memory, at most [`MAX_SESSIONS`].
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<(HashSet<String>, VecDeque<String>)>,
}

impl SessionStore for MemoryStore {
    fn save(&self, id: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.0.insert(id.to_owned()) {
            inner.1.push_back(id.to_owned());
        }
        while inner.1.len() > MAX_SESSIONS {
            if let Some(old) = inner.1.pop_front() {
                inner.0.remove(&old);
            }
        }
    }

    fn exists(&self, id: &str) -> bool {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0.contains(id)
    }
}

/// A new session id: 8 random bytes as 16 hex characters.
pub(crate) fn session_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: a session id nobody can guess cannot be made; this one never
        // matches a stored one (it is not 16 hex characters).
        return "unavailable".to_owned();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_checked_when_the_auth_is_made() {
        assert_eq!(
            Auth::basic("admin", "changeit").err(),
            Some(AuthError::NotABcryptHash)
        );
        let hash = bcrypt::hash("changeit", 4).expect("hash");
        assert!(Auth::basic("admin", hash).is_ok());
    }

    #[tokio::test]
    async fn the_password_is_checked_off_the_executor() {
        let auth = Auth::basic("admin", bcrypt::hash("changeit", 4).expect("hash")).expect("auth");
        assert!(auth.check(Some("admin"), Some("changeit")).await);
        assert!(!auth.check(Some("admin"), Some("wrong")).await);
        assert!(!auth.check(Some("root"), Some("changeit")).await);
        assert!(!auth.check(None, Some("changeit")).await);
        assert!(!auth.check(Some("admin"), None).await);
        assert!(Auth::None.check(None, None).await);
    }

    #[test]
    fn session_ids_are_16_hex_characters_and_the_store_is_bounded() {
        let id = session_id();
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(session_id(), id);
        let store = MemoryStore::default();
        for i in 0..=MAX_SESSIONS {
            store.save(&format!("s{i}"));
        }
        assert!(!store.exists("s0"), "the oldest went first");
        assert!(store.exists("s1") && store.exists(&format!("s{MAX_SESSIONS}")));
        store.save("s1");
        assert!(store.exists("s1"));
    }
}
