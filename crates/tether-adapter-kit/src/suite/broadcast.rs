//! Broadcasts across nodes: rooms, except, the sender left out, `local`, and acknowledgements.

use std::collections::BTreeSet;
use tether_core::socket::AckError;

use super::{Cluster, Member, SHORT, expect_before_marker, layout};
use crate::client::WAIT;

pub(super) async fn rooms_and_except<C: Cluster>(cluster: C) {
    let (nodes, mut members) = layout(&cluster).await;
    let last = nodes.len() - 1;
    // `b` is in both rooms: one copy.
    nodes[0]
        .io
        .to("r1")
        .to("r2")
        .emit("both", &1)
        .expect("emitted");
    expect_before_marker(
        &nodes[0].io,
        &mut members,
        &[("a", &["both"]), ("b", &["both"]), ("c", &["both"])],
    )
    .await;
    nodes[last]
        .io
        .to("r2")
        .except("r1")
        .emit("r2-not-r1", &2)
        .expect("emitted");
    expect_before_marker(&nodes[last].io, &mut members, &[("c", &["r2-not-r1"])]).await;
    // A socket's broadcast leaves out the sender, wherever the others are.
    members[0]
        .socket
        .broadcast()
        .emit("from-a", &3)
        .expect("emitted");
    expect_before_marker(
        &nodes[0].io,
        &mut members,
        &[("b", &["from-a"]), ("c", &["from-a"]), ("d", &["from-a"])],
    )
    .await;
    // A room named by a socket id reaches that socket, on its node.
    let c = members[2].id();
    nodes[0]
        .io
        .to(c.as_str())
        .emit("to-c", &4)
        .expect("emitted");
    expect_before_marker(&nodes[0].io, &mut members, &[("c", &["to-c"])]).await;
}

pub(super) async fn local_flag<C: Cluster>(cluster: C) {
    let (nodes, mut members) = layout(&cluster).await;
    let on_node_0: Vec<&str> = members
        .iter()
        .filter(|m| m.node == 0)
        .map(|m| m.name)
        .collect();
    nodes[0].io.local().emit("here", &1).expect("emitted");
    let want: Vec<(&str, &[&str])> = on_node_0
        .iter()
        .map(|name| (*name, &["here"][..]))
        .collect();
    expect_before_marker(&nodes[0].io, &mut members, &want).await;
}

/// Answers the ack request every member got, with its index, except for `silent`.
async fn answer_all(members: &mut [Member], silent: Option<&str>) -> BTreeSet<u64> {
    let mut answered = BTreeSet::new();
    for (i, member) in members.iter_mut().enumerate() {
        let (name, id, args) = member.client.event().await;
        assert_eq!(name, "q", "{} got the question", member.name);
        assert_eq!(args, [serde_json::json!("?")]);
        let id = id.expect("an ack id");
        if silent == Some(member.name) {
            continue;
        }
        member.client.send(&format!("43{id}[{i}]")).await;
        answered.insert(i as u64);
    }
    answered
}

pub(super) async fn acks_from_every_node<C: Cluster>(cluster: C) {
    let (nodes, mut members) = layout(&cluster).await;
    let acks = nodes[0]
        .io
        .timeout(WAIT)
        .emit_with_ack("q", &"?")
        .expect("emitted");
    let answered = answer_all(&mut members, None).await;
    let got: Vec<_> = acks.await;
    let values: BTreeSet<u64> = got
        .iter()
        .map(|a| {
            a.as_ref()
                .expect("every client answered")
                .data::<u64>()
                .expect("a number")
        })
        .collect();
    assert_eq!(
        values, answered,
        "one answer per client, none missing, no timeout"
    );
    assert_eq!(got.len(), members.len());
}

pub(super) async fn acks_timeout<C: Cluster>(cluster: C) {
    let (nodes, mut members) = layout(&cluster).await;
    let last = nodes.len() - 1;
    let mut acks = nodes[last]
        .io
        .timeout(SHORT)
        .emit_with_ack("q", &"?")
        .expect("emitted");
    let answered = answer_all(&mut members, Some("c")).await;
    let mut values = BTreeSet::new();
    for _ in 0..answered.len() {
        let answer = acks
            .next()
            .await
            .expect("an answer")
            .expect("an answer, not an error");
        values.insert(answer.data::<u64>().expect("a number"));
    }
    assert_eq!(values, answered, "the answering clients' acks come first");
    assert_eq!(
        acks.next().await,
        Some(Err(AckError::Timeout)),
        "then the timeout"
    );
    assert_eq!(acks.next().await, None, "and nothing after it");
}
