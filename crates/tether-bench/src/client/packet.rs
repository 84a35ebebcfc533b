//! Reading Socket.IO packets the client receives: `<type>[<n>-][<nsp>,][<id>][<json>]`.

/// A Socket.IO packet, borrowed from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SioPacket<'a> {
    /// The type digit as a number (0 CONNECT ... 6 BINARY_ACK).
    pub kind: u8,
    /// The namespace (`/` when absent).
    pub nsp: &'a str,
    /// The ack id.
    pub id: Option<u64>,
    /// The JSON payload (may be empty).
    pub data: &'a str,
}

impl<'a> SioPacket<'a> {
    /// For an EVENT: the event name, when the payload starts with a plain string.
    pub fn event(&self) -> Option<&'a str> {
        let rest = self.data.strip_prefix("[\"")?;
        let end = rest.find('"')?;
        Some(&rest[..end])
    }

    /// For an EVENT: the JSON after the event name (`,...]`, or `]`).
    pub fn after_event(&self) -> Option<&'a str> {
        let name = self.event()?;
        Some(&self.data[2 + name.len() + 1..])
    }
}

/// Parses a Socket.IO packet; `None` if it is malformed.
///
/// ```
/// use tether_bench::client::parse;
/// let p = parse(r#"2/admin,17["news",1]"#).unwrap();
/// assert_eq!((p.kind, p.nsp, p.id, p.event()), (2, "/admin", Some(17), Some("news")));
/// assert_eq!(parse("31[true]").unwrap().id, Some(1));
/// ```
pub fn parse(text: &str) -> Option<SioPacket<'_>> {
    let bytes = text.as_bytes();
    let kind = bytes.first()?.checked_sub(b'0').filter(|k| *k <= 6)?;
    let mut rest = &text[1..];
    if kind == 5 || kind == 6 {
        let dash = rest.find('-')?;
        rest = &rest[dash + 1..];
    }
    let mut nsp = "/";
    if rest.starts_with('/') {
        let end = rest.find(',').unwrap_or(rest.len());
        nsp = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = if digits > 0 {
        Some(rest[..digits].parse().ok()?)
    } else {
        None
    };
    Some(SioPacket {
        kind,
        nsp,
        id,
        data: &rest[digits..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets() {
        let p = parse(r#"2["echo","xx"]"#).unwrap();
        assert_eq!(p.kind, 2);
        assert_eq!(p.event(), Some("echo"));
        assert_eq!(p.after_event(), Some(r#","xx"]"#));
        let p = parse(r#"0{"sid":"a"}"#).unwrap();
        assert_eq!((p.kind, p.id, p.data), (0, None, r#"{"sid":"a"}"#));
        let p = parse(r#"61-4[{"_placeholder":true,"num":0}]"#).unwrap();
        assert_eq!((p.kind, p.id), (6, Some(4)));
        assert_eq!(parse("9"), None);
        assert_eq!(parse(""), None);
    }
}
