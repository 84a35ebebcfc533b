//! The upgrade of a polling session to WebSocket: `2probe`, `3probe`, then `5`.

use std::time::Instant;

use super::{LastPoll, Session, State, Upgrade, UpgradeId, UpgradeStep};
use crate::engine::packet::Packet;
use crate::engine::request::{RequestError, TransportKind};

impl Session {
    /// A WebSocket wants to take over this polling (or streaming) session. Refused (and the
    /// WebSocket is to be closed, the session left as it is) when the session is closed,
    /// already on WebSocket, or being upgraded by another WebSocket.
    pub fn upgrade_begin(&mut self, now: Instant) -> Result<UpgradeId, RequestError> {
        self.tick(now);
        if self.state != State::Open {
            return Err(RequestError::UnknownSid);
        }
        if self.transport == TransportKind::WebSocket || self.upgrade != Upgrade::None {
            return Err(RequestError::BadRequest);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.upgrade = Upgrade::Probing {
            id,
            until: now + self.upgrade_timeout,
            probed: false,
        };
        Ok(UpgradeId(id))
    }

    /// Whether upgrade `id` is still under way (a probed one outlives a server close, whose
    /// last packets it may carry).
    pub fn is_upgrading(&self, id: UpgradeId) -> bool {
        matches!(self.state, State::Open | State::Closing { .. })
            && matches!(self.upgrade, Upgrade::Probing { id: current, .. } if current == id.0)
    }

    /// A packet arrived on the WebSocket of upgrade `id`: `2probe` first, then `5`; anything
    /// else aborts the upgrade and leaves the polling session as it was.
    pub fn upgrade_packet(&mut self, id: UpgradeId, packet: &Packet, now: Instant) -> UpgradeStep {
        self.tick(now);
        let Upgrade::Probing {
            id: current,
            until,
            probed,
        } = self.upgrade
        else {
            return UpgradeStep::Abort;
        };
        if current != id.0 {
            return UpgradeStep::Abort;
        }
        // Closed by the server after the probe: the client's `5` moves the session, and
        // what is queued with it, to the WebSocket, which flushes it and closes.
        if let State::Closing {
            reason,
            last: LastPoll::Flush,
            ..
        } = self.state
        {
            if probed && *packet == Packet::Upgrade {
                // (not counted as an upgrade: the session was counted closed already)
                self.upgrade = Upgrade::None;
                self.transport = TransportKind::WebSocket;
                self.state = State::Closed(reason);
                self.effects.remove = true;
                self.effects.wake_poll = true;
                self.effects.wake_ws = true;
                return UpgradeStep::Upgraded;
            }
            self.end_upgrade();
            return UpgradeStep::Abort;
        }
        if self.state != State::Open {
            return UpgradeStep::Abort;
        }
        match (probed, packet) {
            (false, Packet::Ping { probe: true }) => {
                self.upgrade = Upgrade::Probing {
                    id: current,
                    until,
                    probed: true,
                };
                // Complete a held poll (end the stream) with a noop so the client can pause.
                self.effects.wake_poll = true;
                UpgradeStep::SendProbeReply
            }
            (true, Packet::Upgrade) => {
                self.upgrade = Upgrade::None;
                self.effects.upgraded_from = Some(self.transport);
                self.transport = TransportKind::WebSocket;
                self.effects.wake_poll = true;
                self.effects.wake_ws = true;
                UpgradeStep::Upgraded
            }
            _ => {
                self.end_upgrade();
                UpgradeStep::Abort
            }
        }
    }

    /// The WebSocket of upgrade `id` went away: the upgrade is over, polling goes on. An
    /// older upgrade's WebSocket giving up leaves a newer upgrade alone.
    pub fn abort_upgrade(&mut self, id: UpgradeId) {
        if matches!(self.upgrade, Upgrade::Probing { id: current, .. } if current == id.0) {
            self.end_upgrade();
        }
    }

    pub(super) fn end_upgrade(&mut self) {
        if self.upgrade != Upgrade::None {
            self.upgrade = Upgrade::None;
            self.effects.wake_ws = true;
        }
    }
}
