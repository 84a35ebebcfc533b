//! Codec tests on byte literals: every packet type decoded and encoded, every malformed header
//! refused with its precise [`DecodeError`] (never a panic).

use super::*;

/// Decodes a literal (the Socket.IO packet text, without the Engine.IO `4`).
fn dec(text: &str) -> Result<Packet, DecodeError> {
    decode(ByteString::from(text))
}

/// Decodes a literal that must be valid.
fn ok(text: &str) -> Packet {
    dec(text).unwrap_or_else(|err| panic!("{text:?} was refused: {err}"))
}

/// A packet with every field given; `args` as raw JSON texts.
fn packet(
    kind: PacketKind,
    nsp: &'static str,
    id: Option<u64>,
    attachments: usize,
    args: &[&str],
) -> Packet {
    Packet {
        kind,
        nsp: ByteString::from_static(nsp),
        id,
        attachments,
        args: args.iter().map(|a| ByteString::from(*a)).collect(),
    }
}

/// Asserts that every literal is refused with `expected`.
#[track_caller]
fn assert_refused(expected: DecodeError, texts: &[&str]) {
    for text in texts {
        assert_eq!(dec(text), Err(expected.clone()), "decoding {text:?}");
    }
}

const PH0: &str = r#"{"_placeholder":true,"num":0}"#;
const PH1: &str = r#"{"_placeholder":true,"num":1}"#;

mod connect {
    use super::*;

    #[test]
    fn main_namespace_without_auth() {
        assert_eq!(ok("0"), packet(PacketKind::Connect, "/", None, 0, &[]));
    }

    #[test]
    fn main_namespace_with_auth() {
        assert_eq!(
            ok(r#"0{"token":"123"}"#),
            packet(PacketKind::Connect, "/", None, 0, &[r#"{"token":"123"}"#])
        );
    }

    #[test]
    fn custom_namespace_with_auth() {
        assert_eq!(
            ok(r#"0/admin,{"token":"x"}"#),
            packet(
                PacketKind::Connect,
                "/admin",
                None,
                0,
                &[r#"{"token":"x"}"#]
            )
        );
    }

    #[test]
    fn custom_namespace_with_or_without_comma() {
        let expected = packet(PacketKind::Connect, "/custom", None, 0, &[]);
        assert_eq!(ok("0/custom"), expected);
        assert_eq!(ok("0/custom,"), expected);
    }

    #[test]
    fn auth_keeps_its_exact_text() {
        let auth = r#"{ "z" : 1,"a":[true, null],"é":"\u00e9" }"#;
        let p = ok(&format!("0/custom,{auth}"));
        assert_eq!(p.args, [auth]);
    }

    #[test]
    fn auth_must_be_an_object() {
        assert_refused(
            DecodeError::BadPayload,
            &[
                r#"0"str""#,
                "0[]",
                r#"0["a"]"#,
                "0null",
                "0true",
                r#"0/admin,"str""#,
            ],
        );
    }

    #[test]
    fn auth_must_be_json() {
        assert_refused(
            DecodeError::BadJson,
            &["0{", r#"0{"token":}"#, "0{}x", "0{}{}", "0/admin,{"],
        );
    }
}

mod disconnect {
    use super::*;

    #[test]
    fn main_namespace() {
        assert_eq!(ok("1"), packet(PacketKind::Disconnect, "/", None, 0, &[]));
    }

    #[test]
    fn custom_namespace_with_or_without_comma() {
        let expected = packet(PacketKind::Disconnect, "/admin", None, 0, &[]);
        assert_eq!(ok("1/admin,"), expected);
        assert_eq!(ok("1/admin"), expected);
    }

    #[test]
    fn payload_is_an_object_or_nothing() {
        // tether.WebSocket's close code and reason; official clients send none
        let expected = packet(
            PacketKind::Disconnect,
            "/chat",
            None,
            0,
            &[r#"{"code":4000,"reason":"bye"}"#],
        );
        assert_eq!(ok(r#"1/chat,{"code":4000,"reason":"bye"}"#), expected);
        assert_eq!(ok("1{}").args, ["{}"]);
        assert_refused(
            DecodeError::BadPayload,
            &["1[]", r#"1"bye""#, "1/chat,[]", "1null"],
        );
        assert_refused(DecodeError::BadJson, &["1x", "1{", "1/admin,{}x"]);
    }
}

mod event {
    use super::*;

    #[test]
    fn plain() {
        let p = ok(r#"2["foo","bar"]"#);
        assert_eq!(
            p,
            packet(PacketKind::Event, "/", None, 0, &[r#""foo""#, r#""bar""#])
        );
        assert_eq!(p.event_name().as_deref(), Some("foo"));
    }

    #[test]
    fn with_namespace_and_ack_id() {
        let p = ok(r#"2/admin,17["foo"]"#);
        assert_eq!(
            p,
            packet(PacketKind::Event, "/admin", Some(17), 0, &[r#""foo""#])
        );
        assert_eq!(p.event_name().as_deref(), Some("foo"));
    }

    #[test]
    fn ack_id_without_namespace() {
        assert_eq!(
            ok(r#"2456["message-with-ack",1,"2",{"3":[false]}]"#),
            packet(
                PacketKind::Event,
                "/",
                Some(456),
                0,
                &[r#""message-with-ack""#, "1", r#""2""#, r#"{"3":[false]}"#]
            )
        );
    }

    #[test]
    fn ack_id_zero_and_largest() {
        assert_eq!(ok(r#"20["a"]"#).id, Some(0));
        assert_eq!(ok(r#"2007["a"]"#).id, Some(7));
        assert_eq!(ok(r#"218446744073709551615["a"]"#).id, Some(u64::MAX));
    }

    #[test]
    fn numeric_first_element() {
        let p = ok("2[1,2]");
        assert_eq!(p, packet(PacketKind::Event, "/", None, 0, &["1", "2"]));
        assert_eq!(p.event_name(), None);
        assert_eq!(ok("2[-1.5e3]").args, ["-1.5e3"]);
    }

    #[test]
    fn arguments_keep_their_exact_text() {
        let text = r#"2["message" , {"z":1,"a":2}, [ 1,2 ],"\u00e9\n",-0.10,{}]"#;
        let p = ok(text);
        assert_eq!(
            p.args,
            [
                r#""message""#,
                r#"{"z":1,"a":2}"#,
                "[ 1,2 ]",
                r#""\u00e9\n""#,
                "-0.10",
                "{}"
            ]
        );
    }

    #[test]
    fn arguments_are_slices_of_the_input() {
        let text = ByteString::from(r#"2/chat,3["say",{"b":1,"a":2}]"#);
        let range = text.as_bytes().as_ptr_range();
        let p = decode(text.clone()).expect("a valid event");
        assert!(range.contains(&p.nsp.as_bytes().as_ptr()), "nsp copied");
        for arg in &p.args {
            assert!(range.contains(&arg.as_bytes().as_ptr()), "{arg} copied");
        }
    }

    #[test]
    fn unicode_event_name() {
        let p = ok(r#"2["héllo ☃",1]"#);
        assert_eq!(p.args[0], r#""héllo ☃""#);
        assert_eq!(p.event_name().as_deref(), Some("héllo ☃"));
    }

    #[test]
    fn escaped_event_name() {
        assert_eq!(
            ok(r#"2["caf\u00e9"]"#).event_name().as_deref(),
            Some("café")
        );
        assert_eq!(ok(r#"2["a\"b"]"#).event_name().as_deref(), Some("a\"b"));
    }

    #[test]
    fn payload_must_be_a_non_empty_array() {
        assert_refused(
            DecodeError::BadPayload,
            &[
                "2",
                "2{}",
                "2[]",
                r#"2"foo""#,
                "21",
                "2/admin,",
                "2/admin,17",
                "2/admin,[]",
                "217[]",
            ],
        );
    }

    #[test]
    fn first_element_must_be_a_string_or_a_number() {
        assert_refused(
            DecodeError::BadPayload,
            &[
                "2[true]",
                "2[false]",
                "2[null]",
                "2[{}]",
                r#"2[["foo"]]"#,
                r#"2[{"foo":1},2]"#,
            ],
        );
    }

    #[test]
    fn each_reserved_name_is_refused() {
        for name in RESERVED_EVENTS {
            assert_refused(
                DecodeError::ReservedEvent,
                &[
                    &format!(r#"2["{name}"]"#),
                    &format!(r#"2["{name}",1,"x"]"#),
                    &format!(r#"2/admin,5["{name}"]"#),
                    &format!(r#"51-["{name}",{PH0}]"#),
                ],
            );
        }
    }

    #[test]
    fn reserved_name_written_with_escapes_is_refused() {
        assert_refused(
            DecodeError::ReservedEvent,
            &[r#"2["disc\u006fnnect"]"#, r#"2["\u0063onnect",1]"#],
        );
    }

    #[test]
    fn names_close_to_reserved_ones_are_events() {
        for name in [
            "Disconnect",
            "connect ",
            "disconnected",
            "ping",
            "error",
            "",
        ] {
            let text = format!(r#"2["{name}"]"#);
            assert_eq!(ok(&text).event_name().as_deref(), Some(name), "{text}");
        }
    }

    #[test]
    fn garbage_where_the_id_or_json_goes() {
        assert_refused(
            DecodeError::BadPayload,
            &[
                r#"2abc["message-with-ack",1,"2",{"3":[false]}]"#,
                r#"2/admin,abc["a"]"#,
                r#"2-1["a"]"#,
            ],
        );
    }

    #[test]
    fn bad_json() {
        assert_refused(
            DecodeError::BadJson,
            &[
                r#"2["a""#,
                "2[",
                r#"2["a",]"#,
                r#"2["a"]]"#,
                r#"2["a"]x"#,
                r#"2['a']"#,
                r#"2["a",NaN]"#,
                r#"2/admin,1["a"#,
            ],
        );
    }

    #[test]
    fn ack_id_overflow() {
        assert_refused(
            DecodeError::BadId,
            &[
                r#"299999999999999999999999["a"]"#,
                r#"218446744073709551616["a"]"#,
                r#"2/admin,99999999999999999999999999999999999999["a"]"#,
                "399999999999999999999999[]",
            ],
        );
    }
}

mod ack {
    use super::*;

    #[test]
    fn with_namespace() {
        assert_eq!(
            ok(r#"3/admin,17["ok"]"#),
            packet(PacketKind::Ack, "/admin", Some(17), 0, &[r#""ok""#])
        );
    }

    #[test]
    fn empty_array() {
        assert_eq!(ok("317[]"), packet(PacketKind::Ack, "/", Some(17), 0, &[]));
    }

    #[test]
    fn any_arguments_keep_their_exact_text() {
        assert_eq!(
            ok(r#"3456[1,"2",{"3":[false]}, null]"#).args,
            ["1", r#""2""#, r#"{"3":[false]}"#, "null"]
        );
        // The first argument of an ack is not an event name: nothing is reserved.
        assert_eq!(ok(r#"31["disconnect"]"#).args, [r#""disconnect""#]);
        assert_eq!(ok("31[true]").args, ["true"]);
    }

    #[test]
    fn payload_must_be_an_array() {
        assert_refused(
            DecodeError::BadPayload,
            &["317", "317{}", r#"317"ok""#, "3/admin,17", "3/admin,17null"],
        );
        assert_refused(DecodeError::BadJson, &[r#"317["ok""#, "317[,]"]);
    }
}

mod connect_error {
    use super::*;

    #[test]
    fn main_namespace() {
        let json = r#"{"message":"Not authorized","data":{"b":1,"a":2}}"#;
        assert_eq!(
            ok(&format!("4{json}")),
            packet(PacketKind::ConnectError, "/", None, 0, &[json])
        );
    }

    #[test]
    fn custom_namespace() {
        let json = r#"{"message":"Invalid namespace"}"#;
        assert_eq!(
            ok(&format!("4/random,{json}")),
            packet(PacketKind::ConnectError, "/random", None, 0, &[json])
        );
    }

    #[test]
    fn v4_string_payload() {
        assert_eq!(ok(r#"4"Not authorized""#).args, [r#""Not authorized""#]);
    }

    #[test]
    fn bad_json() {
        assert_refused(DecodeError::BadJson, &["4{", r#"4/admin,{"message""#]);
    }
}

mod binary_event {
    use super::*;

    #[test]
    fn one_attachment() {
        let p = ok(&format!(r#"51-["up",{PH0}]"#));
        assert_eq!(
            p,
            packet(PacketKind::BinaryEvent, "/", None, 1, &[r#""up""#, PH0])
        );
        assert_eq!(p.event_name().as_deref(), Some("up"));
    }

    #[test]
    fn namespace_and_ack_id_after_the_count() {
        assert_eq!(
            ok(&format!(r#"52-/admin,789["message-with-ack",{PH0},{PH1}]"#)),
            packet(
                PacketKind::BinaryEvent,
                "/admin",
                Some(789),
                2,
                &[r#""message-with-ack""#, PH0, PH1]
            )
        );
    }

    #[test]
    fn placeholders_nested_and_reordered_keep_their_text() {
        let arg = r#"{"file":{"num":0, "_placeholder":true},"n":1}"#;
        assert_eq!(ok(&format!(r#"51-["up",{arg}]"#)).args[1], arg);
    }

    #[test]
    fn up_to_ten_attachments() {
        assert_eq!(ok(r#"510-["a"]"#).attachments, MAX_ATTACHMENTS);
        assert_eq!(ok(r#"59-["a"]"#).attachments, 9);
    }

    #[test]
    fn attachment_count_out_of_range_or_missing() {
        assert_refused(
            DecodeError::BadAttachments,
            &[
                r#"50-["up"]"#,
                r#"500-["up"]"#,
                r#"511-["up"]"#,
                r#"5100-["up"]"#,
                r#"599999999999999999999999-["up"]"#,
                r#"5-["up"]"#,
                "5x-[]",
                r#"51["up"]"#,
                r#"5["up"]"#,
                "5",
                "51",
                r#"5/admin,1-["up"]"#,
                r#"51x-["up"]"#,
                r#"5-1-["up"]"#,
            ],
        );
    }

    #[test]
    fn payload_rules_of_an_event() {
        assert_refused(
            DecodeError::BadPayload,
            &["51-", "51-{}", "51-[]", "51-[true]"],
        );
        assert_refused(DecodeError::BadJson, &[r#"51-["up""#]);
        assert_refused(DecodeError::BadId, &[r#"51-99999999999999999999999["up"]"#]);
    }
}

mod binary_ack {
    use super::*;

    #[test]
    fn one_attachment() {
        assert_eq!(
            ok(&format!("61-17[{PH0}]")),
            packet(PacketKind::BinaryAck, "/", Some(17), 1, &[PH0])
        );
    }

    #[test]
    fn namespace_and_two_attachments() {
        assert_eq!(
            ok(&format!("62-/admin,789[{PH0},{PH1}]")),
            packet(PacketKind::BinaryAck, "/admin", Some(789), 2, &[PH0, PH1])
        );
    }

    #[test]
    fn attachment_count_out_of_range_or_missing() {
        assert_refused(
            DecodeError::BadAttachments,
            &["60-17[]", "611-17[]", "6-17[]", "617[]", "6x-17[]"],
        );
        assert_refused(DecodeError::BadPayload, &["61-17", "61-17{}"]);
    }
}

mod unknown_type {
    use super::*;

    #[test]
    fn empty_or_unknown_digit() {
        assert_refused(
            DecodeError::UnknownType,
            &[
                "",
                "7",
                r#"7["a"]"#,
                "8",
                "9",
                "a",
                "abc",
                r#"["a"]"#,
                "/admin,",
                " 0",
                "-1",
                "é",
            ],
        );
    }
}

mod whitespace {
    use super::*;

    #[test]
    fn json_may_start_with_whitespace_as_the_reference_parser_allows() {
        assert_eq!(ok("2 [\"a\"]").args, vec![ByteString::from("\"a\"")]);
        assert_eq!(ok("31\n[]").args, Vec::<ByteString>::new());
        assert_eq!(dec("2 {}"), Err(DecodeError::BadPayload));
    }
}
