//! tether-axum (in progress)
