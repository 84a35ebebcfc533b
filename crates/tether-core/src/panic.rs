//! The text of a caught panic, for the log line that reports it.
//!
//! Layer: the lowest; names nothing of the crate.

use std::any::Any;

/// The panic's message: its `&str` or `String` payload, or `"(not a string)"`.
pub(crate) fn message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)")
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages() {
        let text = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(super::message(&*text), "plain");
        let formatted = std::panic::catch_unwind(|| panic!("n = {}", 1)).unwrap_err();
        assert_eq!(super::message(&*formatted), "n = 1");
        let other = std::panic::catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert_eq!(super::message(&*other), "(not a string)");
    }
}
