//! Fetch, remote join / leave / emit, and remote disconnects, from any node to any node.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use tether_core::socket::{RemoteSocket, SocketIo};

use super::{Cluster, expect_before_marker, layout};

fn by_name(sockets: &[RemoteSocket]) -> BTreeMap<String, &RemoteSocket> {
    sockets
        .iter()
        .map(|s| {
            let name = s.data::<Value>().expect("data")["name"]
                .as_str()
                .expect("a name")
                .to_owned();
            (name, s)
        })
        .collect()
}

pub(super) async fn fetch_with_data<C: Cluster>(cluster: C) {
    let (nodes, members) = layout(&cluster).await;
    let last = nodes.len() - 1;
    let all = nodes[last].io.fetch_sockets().await.expect("fetched");
    let found = by_name(&all);
    assert_eq!(
        found.keys().map(String::as_str).collect::<Vec<_>>(),
        ["a", "b", "c", "d"]
    );
    for member in &members {
        let remote = found[member.name];
        assert_eq!(remote.id(), member.id());
        assert_eq!(remote.ns(), "/");
        assert_eq!(remote.handshake().auth, json!({ "name": member.name }));
        assert_eq!(remote.handshake().query.get("EIO"), Some(&json!("4")));
        let mut rooms: Vec<String> = remote.rooms().iter().map(|r| r.to_string()).collect();
        rooms.sort();
        let mut want: Vec<String> = member
            .socket
            .rooms()
            .iter()
            .map(|r| r.to_string())
            .collect();
        want.sort();
        assert_eq!(rooms, want, "{}'s rooms", member.name);
        assert_eq!(remote.is_local(), member.node == last);
    }
    let r2 = nodes[0].io.to("r2").fetch_sockets().await.expect("fetched");
    assert_eq!(
        by_name(&r2).keys().map(String::as_str).collect::<Vec<_>>(),
        ["b", "c"]
    );
    let not_r1 = nodes[0]
        .io
        .except("r1")
        .fetch_sockets()
        .await
        .expect("fetched");
    assert_eq!(
        by_name(&not_r1)
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["c", "d"]
    );
    let local = nodes[0].io.local().fetch_sockets().await.expect("fetched");
    assert_eq!(local.len(), members.iter().filter(|m| m.node == 0).count());
}

/// Waits until a remote join shows: the other nodes apply it when it reaches them, and a fetch
/// (which they answer after what came before it) shows they have; then a broker adapter that
/// subscribes per room has its subscription once settled.
async fn joined<C: Cluster>(cluster: &C, io: &SocketIo, room: &str, want: &[&str]) {
    let in_room = io.to(room).fetch_sockets().await.expect("fetched");
    assert_eq!(
        by_name(&in_room)
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        want
    );
    cluster.settle().await;
}

pub(super) async fn remote_join_leave<C: Cluster>(cluster: C) {
    let (nodes, mut members) = layout(&cluster).await;
    let last = nodes.len() - 1;
    nodes[0]
        .io
        .to("r1")
        .sockets_join(["x"])
        .await
        .expect("joined");
    joined(&cluster, &nodes[0].io, "x", &["a", "b"]).await;
    nodes[0].io.to("x").emit("in-x", &1).expect("emitted");
    expect_before_marker(
        &nodes[0].io,
        &mut members,
        &[("a", &["in-x"]), ("b", &["in-x"])],
    )
    .await;
    nodes[0].io.sockets_leave(["x"]).await.expect("left");
    nodes[0].io.to("x").emit("in-x", &2).expect("emitted");
    expect_before_marker(&nodes[0].io, &mut members, &[]).await;
    // A RemoteSocket fetched on one node acts on whichever node holds it.
    let all = nodes[0].io.fetch_sockets().await.expect("fetched");
    let c = *by_name(&all).get("c").expect("c is found");
    c.join(["y"]).await.expect("joined");
    joined(&cluster, &nodes[0].io, "y", &["c"]).await;
    nodes[0].io.to("y").emit("in-y", &3).expect("emitted");
    expect_before_marker(&nodes[0].io, &mut members, &[("c", &["in-y"])]).await;
    c.leave(["y"]).await.expect("left");
    c.emit("direct", &4).expect("emitted");
    nodes[0].io.to("y").emit("in-y", &5).expect("emitted");
    expect_before_marker(&nodes[0].io, &mut members, &[("c", &["direct"])]).await;
    assert!(
        members[2].socket.rooms().iter().all(|r| r != "y"),
        "c left y on its node ({last})"
    );
}

pub(super) async fn remote_disconnect<C: Cluster>(cluster: C) {
    let (nodes, mut members) = layout(&cluster).await;
    let b = members[1].id();
    nodes[0]
        .io
        .to(b.as_str())
        .disconnect_sockets(false)
        .await
        .expect("sent");
    assert_eq!(members[1].client.recv().await, "41", "b left the namespace");
    let all = nodes[0].io.fetch_sockets().await.expect("fetched");
    let found = by_name(&all);
    assert!(!found.contains_key("b"), "b is gone everywhere");
    found["c"].disconnect(true).await.expect("sent");
    assert_eq!(
        members[2].client.closed().await,
        ["41"],
        "c got a DISCONNECT, then its connection closed"
    );
    // The others are still there.
    nodes[0].io.emit("still", &1).expect("emitted");
    for i in [0, 3] {
        assert_eq!(members[i].client.event().await.0, "still");
    }
}
