//! Socket.IO v5 rules beyond the official suite (PROTOCOL.md Part 2), on real sockets.
//! The fixture's `/socket.io/` endpoint, the same helpers as `socketio.rs`.

mod sio_common;

use reqwest::Method;
use sio_common::{
    Frame, PH0, PH1, Server, assert_closed_at_once, assert_connect_reply, packets, polling_query,
    recv, recv_packet, recv_text, send_binary, send_text,
};

/// Joins `/` over polling and reads the CONNECT reply and the `auth` event.
async fn join_main_polling(server: &Server, sid: &str) {
    server.push(sid, "40").await;
    let got = server.poll_packets(sid, 2).await;
    assert_connect_reply(&got[0], "40");
    assert_eq!(got[1], r#"42["auth",{}]"#);
}

mod beyond_the_suite {
    use super::*;

    mod http_long_polling {
        use super::*;

        /// The CONNECT reply comes first, then what the connection handler emitted.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn connect_reply_then_auth_event() {
            let server = Server::steady().await;
            let sid = server.open_polling().await.sid;
            server.push(&sid, r#"40{"token":"123"}"#).await;
            let got = server.poll_packets(&sid, 2).await;
            assert_connect_reply(&got[0], "40");
            assert_eq!(got[1], r#"42["auth",{"token":"123"}]"#);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn event_and_ack_echoed() {
            let server = Server::steady().await;
            let sid = server.open_polling().await.sid;
            join_main_polling(&server, &sid).await;
            server
                .push(
                    &sid,
                    "42[\"message\",{\"b\":1,\"a\":2}]\x1e4217[\"message-with-ack\",\"x\"]",
                )
                .await;
            assert_eq!(
                server.poll_packets(&sid, 2).await,
                [r#"42["message-back",{"b":1,"a":2}]"#, r#"4317["x"]"#]
            );
        }

        /// PROTOCOL.md 2.4: attachments travel as `b<base64>` packets of the same payload.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn binary_event_echoed_as_base64() {
            let server = Server::steady().await;
            let sid = server.open_polling().await.sid;
            join_main_polling(&server, &sid).await;
            server
                .push(&sid, &format!("451-[\"message\",{PH0}]\x1ebAQID"))
                .await;
            assert_eq!(
                server.poll_packets(&sid, 2).await,
                [format!(r#"451-["message-back",{PH0}]"#), "bAQID".to_owned()]
            );
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn binary_ack_echoed_as_base64() {
            let server = Server::steady().await;
            let sid = server.open_polling().await.sid;
            join_main_polling(&server, &sid).await;
            server
                .push(
                    &sid,
                    &format!("452-9[\"message-with-ack\",{PH0},{PH1}]\x1ebAQID\x1ebBAUG"),
                )
                .await;
            assert_eq!(
                server.poll_packets(&sid, 3).await,
                [
                    format!("462-9[{PH0},{PH1}]"),
                    "bAQID".to_owned(),
                    "bBAUG".to_owned()
                ]
            );
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn unknown_namespace_keeps_the_connection() {
            let server = Server::steady().await;
            let sid = server.open_polling().await.sid;
            server.push(&sid, "40/random,").await;
            assert_eq!(
                server.poll_packets(&sid, 1).await,
                [r#"44/random,{"message":"Invalid namespace"}"#]
            );
            join_main_polling(&server, &sid).await;
        }

        /// A protocol violation ends the Engine.IO session; later requests get 400.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn invalid_packet_ends_the_session() {
            let server = Server::steady().await;
            let sid = server.open_polling().await.sid;
            join_main_polling(&server, &sid).await;
            // Cutting the POST's connection would be accepted too, as for Engine.IO (1.5).
            let _ = server
                .try_request(Method::POST, &polling_query(&sid), Some("42{}"))
                .await;
            let poll = server.poll(&sid).await;
            let closed_packet = poll.status == 200 && packets(&poll.body).last() == Some(&"1");
            assert!(poll.status == 400 || closed_packet, "{poll:?}");
            if closed_packet {
                let poll = server.poll(&sid).await;
                assert_eq!(poll.status, 400, "{poll:?}");
            }
        }
    }

    mod websocket {
        use super::*;

        /// Each namespace gets its own socket id, distinct from the Engine.IO sid.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn each_namespace_has_its_own_socket_id() {
            let server = Server::steady().await;
            let (mut ws, open) = server.open_ws().await;
            send_text(&mut ws, "40").await;
            let main = assert_connect_reply(&recv_text(&mut ws).await, "40");
            assert_eq!(recv_text(&mut ws).await, r#"42["auth",{}]"#);
            send_text(&mut ws, "40/custom,").await;
            let custom = assert_connect_reply(&recv_text(&mut ws).await, "40/custom,");
            assert_eq!(recv_text(&mut ws).await, r#"42/custom,["auth",{}]"#);
            assert_ne!(main, custom);
            assert_ne!(main, open.sid);
            assert_ne!(custom, open.sid);
        }

        /// Once a namespace is joined, the connect timeout no longer applies: four heartbeats
        /// (1.2 s) later the connection still echoes.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn joined_connection_outlives_the_connect_timeout() {
            let server = Server::pinging().await;
            let mut ws = server.connect_main().await;
            for round in 0..4 {
                assert_eq!(recv(&mut ws).await, Frame::text("2"), "round {round}");
                send_text(&mut ws, "3").await;
            }
            send_text(&mut ws, r#"42["message","late"]"#).await;
            assert_eq!(
                recv_packet(&mut ws).await,
                Frame::text(r#"42["message-back","late"]"#)
            );
        }

        /// The server's echo keeps each argument's text: key order, unicode, escapes.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn arguments_echoed_byte_for_byte() {
            let server = Server::steady().await;
            let mut ws = server.connect_main().await;
            let args = r#"{"z":1,"a":{"y":[null,false]},"é":"☃"},"a\"b\\c\n",-1.5e-7,[]"#;
            send_text(&mut ws, &format!(r#"42["message",{args}]"#)).await;
            assert_eq!(
                recv_packet(&mut ws).await,
                Frame::Text(format!(r#"42["message-back",{args}]"#))
            );
        }

        /// A numeric event name is allowed (PROTOCOL.md 2.2); nothing handles it here.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn numeric_event_name_is_accepted() {
            let server = Server::steady().await;
            let mut ws = server.connect_main().await;
            send_text(&mut ws, "42[1,2]").await;
            send_text(&mut ws, r#"42["message","after"]"#).await;
            assert_eq!(
                recv_packet(&mut ws).await,
                Frame::text(r#"42["message-back","after"]"#)
            );
        }

        /// An ACK for an id the server never used is ignored (PROTOCOL.md 2.4).
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn ack_for_an_unknown_id_is_ignored() {
            let server = Server::steady().await;
            let mut ws = server.connect_main().await;
            send_text(&mut ws, r#"43999["x"]"#).await;
            send_text(&mut ws, r#"42["message","after"]"#).await;
            assert_eq!(
                recv_packet(&mut ws).await,
                Frame::text(r#"42["message-back","after"]"#)
            );
        }

        /// An event for `/custom` after leaving it goes to a namespace not joined: close.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn event_after_leaving_a_namespace_closes() {
            let server = Server::steady().await;
            let mut ws = server.connect_main().await;
            send_text(&mut ws, "40/custom,").await;
            assert_connect_reply(&recv_text(&mut ws).await, "40/custom,");
            assert_eq!(recv_text(&mut ws).await, r#"42/custom,["auth",{}]"#);
            send_text(&mut ws, "41/custom,").await;
            send_text(&mut ws, r#"42/custom,["message","x"]"#).await;
            assert_closed_at_once(&mut ws).await;
        }

        /// The first Socket.IO packet must be a CONNECT (PROTOCOL.md 2.3).
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn event_before_connect_closes() {
            let server = Server::steady().await;
            let (mut ws, _open) = server.open_ws().await;
            send_text(&mut ws, r#"42["message","x"]"#).await;
            assert_closed_at_once(&mut ws).await;
        }

        /// Each of these, sent by a client joined to `/` only, breaks PROTOCOL.md 2.2 or 2.3
        /// and closes the connection at once.
        async fn assert_closes(frames: &[Frame]) {
            let server = Server::steady().await;
            let mut ws = server.connect_main().await;
            for frame in frames {
                match frame {
                    Frame::Text(text) => send_text(&mut ws, text).await,
                    Frame::Binary(data) => send_binary(&mut ws, data).await,
                    Frame::Closed => unreachable!("not a frame to send"),
                }
            }
            assert_closed_at_once(&mut ws).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn event_for_a_namespace_not_joined_closes() {
            assert_closes(&[Frame::text(r#"42/custom,["message","x"]"#)]).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn ack_for_a_namespace_not_joined_closes() {
            assert_closes(&[Frame::text(r#"43/custom,1["x"]"#)]).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn disconnect_from_a_namespace_not_joined_closes() {
            assert_closes(&[Frame::text("41/custom,")]).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn second_connect_to_a_joined_namespace_closes() {
            assert_closes(&[Frame::text("40")]).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn reserved_event_name_closes() {
            assert_closes(&[Frame::text(r#"42["disconnect"]"#)]).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn event_with_an_empty_array_closes() {
            assert_closes(&[Frame::text("42[]")]).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn connect_with_a_string_payload_closes() {
            assert_closes(&[Frame::text(r#"40/custom,"str""#)]).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn zero_attachments_closes() {
            assert_closes(&[Frame::text(r#"450-["message"]"#)]).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn more_than_ten_attachments_closes() {
            assert_closes(&[Frame::text(&format!(r#"4511-["message",{PH0}]"#))]).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn text_while_attachments_are_due_closes() {
            assert_closes(&[
                Frame::Text(format!(r#"452-["message",{PH0},{PH1}]"#)),
                Frame::Binary(vec![1, 2, 3]),
                Frame::text(r#"42["message","x"]"#),
            ])
            .await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn binary_without_a_binary_header_closes() {
            assert_closes(&[Frame::Binary(vec![1, 2, 3])]).await;
        }

        /// PROTOCOL.md 2.2: a placeholder whose num is out of range is an error (the
        /// reference parser throws "illegal attachments" and closes).
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn placeholder_out_of_range_closes() {
            assert_closes(&[
                Frame::text(r#"451-["message",{"_placeholder":true,"num":1}]"#),
                Frame::Binary(vec![1, 2, 3]),
            ])
            .await;
        }
    }
}
