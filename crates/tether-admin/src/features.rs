//! The features the server tells the UI it has (the `config` event), which decide what the UI
//! shows: exactly Node's lists for each mode.
//!
//! Layer: values.

/// A feature of the admin protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// `emit(nsp, filter, event, ...args)`.
    Emit,
    /// `join(nsp, room, filter)`.
    Join,
    /// `leave(nsp, room, filter)`.
    Leave,
    /// `_disconnect(nsp, close, filter)`.
    Disconnect,
    /// Join for many sockets at once.
    MJoin,
    /// Leave for many sockets at once.
    MLeave,
    /// Disconnect many sockets at once.
    MDisconnect,
    /// `server_stats` carries `aggregatedEvents`.
    AggregatedEvents,
    /// The live view: `all_sockets`, `socket_*`, `room_*`, `event_*` (development mode).
    AllEvents,
}

impl Feature {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Feature::Emit => "EMIT",
            Feature::Join => "JOIN",
            Feature::Leave => "LEAVE",
            Feature::Disconnect => "DISCONNECT",
            Feature::MJoin => "MJOIN",
            Feature::MLeave => "MLEAVE",
            Feature::MDisconnect => "MDISCONNECT",
            Feature::AggregatedEvents => "AGGREGATED_EVENTS",
            Feature::AllEvents => "ALL_EVENTS",
        }
    }
}

/// Development (the live view of every socket) or production (stats only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Everything, as Node's default: the per-socket view costs work on every event.
    #[default]
    Development,
    /// `config` and `server_stats` only: nothing on the per-socket path.
    Production,
}

/// The features of a server in `mode`, read-only or not, in Node's order.
pub fn supported(mode: Mode, readonly: bool) -> Vec<Feature> {
    let mut features = if readonly {
        Vec::new()
    } else {
        vec![
            Feature::Emit,
            Feature::Join,
            Feature::Leave,
            Feature::Disconnect,
            Feature::MJoin,
            Feature::MLeave,
            Feature::MDisconnect,
        ]
    };
    features.push(Feature::AggregatedEvents);
    if mode == Mode::Development {
        features.push(Feature::AllEvents);
    }
    features
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(mode: Mode, readonly: bool) -> Vec<&'static str> {
        supported(mode, readonly)
            .into_iter()
            .map(Feature::as_str)
            .collect()
    }

    #[test]
    fn nodes_lists() {
        let commands = [
            "EMIT",
            "JOIN",
            "LEAVE",
            "DISCONNECT",
            "MJOIN",
            "MLEAVE",
            "MDISCONNECT",
        ];
        let mut dev = commands.to_vec();
        dev.extend(["AGGREGATED_EVENTS", "ALL_EVENTS"]);
        assert_eq!(names(Mode::Development, false), dev);
        let mut prod = commands.to_vec();
        prod.push("AGGREGATED_EVENTS");
        assert_eq!(names(Mode::Production, false), prod);
        assert_eq!(
            names(Mode::Development, true),
            ["AGGREGATED_EVENTS", "ALL_EVENTS"]
        );
        assert_eq!(names(Mode::Production, true), ["AGGREGATED_EVENTS"]);
    }
}
