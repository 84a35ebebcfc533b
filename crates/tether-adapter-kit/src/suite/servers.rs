//! Server-side emits, the node count, every room, and timeouts when a node never answers.

use serde_json::json;
use std::collections::BTreeSet;
use tether_core::adapter::AdapterError;
use tether_core::socket::{AckError, EmitError};

use super::{Cluster, SHORT, layout};

pub(super) async fn server_side_emit<C: Cluster>(cluster: C) {
    let (mut nodes, _members) = layout(&cluster).await;
    let answers = nodes[0]
        .io
        .server_side_emit_with_ack("hello", &"from node-0")
        .await
        .expect("answered");
    let names: BTreeSet<String> = answers
        .iter()
        .map(|a| a.data::<String>().expect("a name"))
        .collect();
    let others: BTreeSet<String> = nodes[1..].iter().map(|n| n.name.clone()).collect();
    assert_eq!(
        names, others,
        "one answer from every other node, none from the emitter"
    );
    nodes[0]
        .io
        .server_side_emit("note", &json!({ "n": 1 }))
        .await
        .expect("sent");
    for node in &mut nodes[1..] {
        assert_eq!(node.note().await, json!({ "n": 1 }));
    }
    assert!(!nodes[0].has_note(), "the emitter does not hear itself");
}

pub(super) async fn count_and_rooms<C: Cluster>(cluster: C) {
    let (nodes, members) = layout(&cluster).await;
    for node in &nodes {
        assert_eq!(node.io.server_count().await, Ok(nodes.len()));
    }
    let rooms = nodes[nodes.len() - 1].io.to("any").all_rooms().await;
    if !cluster.has_all_rooms() {
        assert!(
            matches!(rooms, Err(AdapterError::Unsupported(_))),
            "an adapter without all_rooms says so: {rooms:?}"
        );
        return;
    }
    let rooms: BTreeSet<String> = rooms
        .expect("rooms")
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut want: BTreeSet<String> = ["r1", "r2"].iter().map(|r| (*r).to_owned()).collect();
    want.extend(members.iter().map(|m| m.id().to_string()));
    assert_eq!(rooms, want);
}

pub(super) async fn silent_node_timeouts<C: Cluster>(cluster: C) {
    let Some(_silent) = cluster.silent_node().await else {
        tracing::info!("this adapter cannot have a silent node: case skipped");
        return;
    };
    let (nodes, mut members) = layout(&cluster).await;
    assert_eq!(
        nodes[0].io.server_count().await,
        Ok(nodes.len() + 1),
        "the silent node counts"
    );
    let fetched = nodes[0].io.timeout(SHORT).fetch_sockets().await;
    assert!(
        matches!(fetched, Err(AdapterError::Timeout { received, expected, .. }) if received == nodes.len() - 1 && expected == nodes.len()),
        "fetch times out waiting for the silent node: {fetched:?}"
    );
    let emitted = nodes[0]
        .io
        .timeout(SHORT)
        .server_side_emit_with_ack("hello", &1)
        .await;
    assert!(
        matches!(
            emitted,
            Err(EmitError::Adapter(AdapterError::Timeout { .. }))
        ),
        "server-side emit times out: {emitted:?}"
    );
    // Every client answers, but the silent node never says how many it reached.
    let acks = nodes[0]
        .io
        .timeout(SHORT)
        .emit_with_ack("q", &"?")
        .expect("emitted");
    for (i, member) in members.iter_mut().enumerate() {
        let (_, id, _) = member.client.event().await;
        member
            .client
            .send(&format!("43{}[{i}]", id.expect("an ack id")))
            .await;
    }
    let mut got = acks.await;
    assert_eq!(got.pop(), Some(Err(AckError::Timeout)));
    assert_eq!(got.len(), members.len());
    assert!(got.iter().all(Result::is_ok));
}
