//! Codec tests, part two: encoders and round trips, no panic on any prefix, hostile JSON.

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

const PH0: &str = r#"{"_placeholder":true,"num":0}"#;
const PH1: &str = r#"{"_placeholder":true,"num":1}"#;

mod never_panics {
    use super::*;

    /// Every prefix of some valid packets, plus every cut at each byte of a multi-byte
    /// character: the decoder answers, it never panics or slices a character in two.
    #[test]
    fn on_any_prefix() {
        let valid = [
            r#"0/admin,{"token":"é"}"#.to_owned(),
            r#"2/admin,17["foo","☃"]"#.to_owned(),
            format!(r#"52-/é,789["message-with-ack",{PH0},{PH1}]"#),
            format!("61-17[{PH0}]"),
            r#"4/random,{"message":"Invalid namespace"}"#.to_owned(),
        ];
        for text in &valid {
            ok(text);
            for end in (0..text.len()).filter(|&end| text.is_char_boundary(end)) {
                let _ = dec(&text[..end]);
            }
        }
    }

    #[test]
    fn on_multibyte_text_everywhere() {
        for text in [
            "2é",
            "5é-[]",
            "51é[]",
            "51-é",
            "2/é",
            "2/é,é",
            "0/ü,",
            "2/,",
            "2/",
            "0/",
            "1/,",
            "5/",
            "51-/",
            "2,[\"a\"]",
        ] {
            let _ = dec(text);
        }
        assert_eq!(
            ok(r#"2/é,1["a"]"#),
            packet(PacketKind::Event, "/é", Some(1), 0, &[r#""a""#])
        );
        assert_eq!(ok("0/"), packet(PacketKind::Connect, "/", None, 0, &[]));
    }
}

mod encode {
    use super::*;

    fn header(kind: PacketKind, nsp: &str, id: Option<u64>, attachments: usize) -> String {
        let mut out = String::new();
        write_header(&mut out, kind, nsp, id, attachments);
        out
    }

    #[test]
    fn type_digits() {
        let kinds = [
            (PacketKind::Connect, '0', false),
            (PacketKind::Disconnect, '1', false),
            (PacketKind::Event, '2', false),
            (PacketKind::Ack, '3', false),
            (PacketKind::ConnectError, '4', false),
            (PacketKind::BinaryEvent, '5', true),
            (PacketKind::BinaryAck, '6', true),
        ];
        for (kind, digit, binary) in kinds {
            assert_eq!(
                (kind.digit(), kind.is_binary()),
                (digit, binary),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn headers() {
        assert_eq!(header(PacketKind::Connect, "/", None, 0), "0");
        assert_eq!(
            header(PacketKind::Disconnect, "/admin", None, 0),
            "1/admin,"
        );
        assert_eq!(header(PacketKind::Event, "/", Some(0), 0), "20");
        assert_eq!(
            header(PacketKind::Event, "/admin", Some(17), 0),
            "2/admin,17"
        );
        assert_eq!(header(PacketKind::Ack, "/", Some(456), 0), "3456");
        assert_eq!(
            header(PacketKind::ConnectError, "/random", None, 0),
            "4/random,"
        );
        assert_eq!(header(PacketKind::BinaryEvent, "/", None, 1), "51-");
        assert_eq!(
            header(PacketKind::BinaryEvent, "/admin", Some(789), 2),
            "52-/admin,789"
        );
        assert_eq!(header(PacketKind::BinaryAck, "/", Some(17), 1), "61-17");
        assert_eq!(
            header(PacketKind::BinaryAck, "/", Some(u64::MAX), 10),
            "610-18446744073709551615"
        );
    }

    #[test]
    fn header_appends() {
        let mut out = String::from("4");
        write_header(&mut out, PacketKind::Ack, "/x", Some(1), 0);
        assert_eq!(out, "43/x,1");
    }

    #[test]
    fn attachment_count_only_on_binary_types() {
        assert_eq!(header(PacketKind::Event, "/", None, 3), "2");
        assert_eq!(header(PacketKind::Ack, "/", Some(1), 3), "31");
    }

    #[test]
    fn events() {
        assert_eq!(
            encode_array(PacketKind::Event, "/", None, 0, [r#""foo""#, r#""bar""#]),
            r#"42["foo","bar"]"#
        );
        assert_eq!(
            encode_array(PacketKind::Event, "/admin", Some(17), 0, [r#""foo""#]),
            r#"42/admin,17["foo"]"#
        );
        assert_eq!(
            encode_array(
                PacketKind::Event,
                "/",
                None,
                0,
                [r#""message-back""#, "1", r#""2""#, r#"{"3":[true]}"#]
            ),
            r#"42["message-back",1,"2",{"3":[true]}]"#
        );
        assert_eq!(
            encode_array(PacketKind::Event, "/custom", None, 0, [r#""auth""#, "{}"]),
            r#"42/custom,["auth",{}]"#
        );
    }

    #[test]
    fn arguments_are_written_as_given() {
        assert_eq!(
            encode_array(
                PacketKind::Event,
                "/",
                None,
                0,
                [r#""m""#, r#"{ "z" : 1, "a":2 }"#, "[ ]"]
            ),
            r#"42["m",{ "z" : 1, "a":2 },[ ]]"#
        );
    }

    #[test]
    fn acks() {
        assert_eq!(
            encode_array(PacketKind::Ack, "/admin", Some(17), 0, [r#""ok""#]),
            r#"43/admin,17["ok"]"#
        );
        assert_eq!(
            encode_array(PacketKind::Ack, "/", Some(17), 0, []),
            "4317[]"
        );
        assert_eq!(
            encode_array(
                PacketKind::Ack,
                "/",
                Some(456),
                0,
                ["1", r#""2""#, r#"{"3":[false]}"#]
            ),
            r#"43456[1,"2",{"3":[false]}]"#
        );
    }

    #[test]
    fn binary_packets() {
        let ph0 = placeholder(0);
        let ph1 = placeholder(1);
        assert_eq!(
            encode_array(
                PacketKind::BinaryEvent,
                "/",
                None,
                1,
                [r#""up""#, ph0.as_str()]
            ),
            r#"451-["up",{"_placeholder":true,"num":0}]"#
        );
        assert_eq!(
            encode_array(
                PacketKind::BinaryEvent,
                "/",
                None,
                2,
                [r#""message-back""#, ph0.as_str(), ph1.as_str()]
            ),
            r#"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        );
        assert_eq!(
            encode_array(PacketKind::BinaryAck, "/", Some(17), 1, [ph0.as_str()]),
            r#"461-17[{"_placeholder":true,"num":0}]"#
        );
        assert_eq!(
            encode_array(
                PacketKind::BinaryAck,
                "/",
                Some(789),
                2,
                [ph0.as_str(), ph1.as_str()]
            ),
            r#"462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        );
    }

    #[test]
    fn objects() {
        assert_eq!(encode_object(PacketKind::Connect, "/", None), "40");
        assert_eq!(
            encode_object(PacketKind::Connect, "/", Some(r#"{"sid":"abc"}"#)),
            r#"40{"sid":"abc"}"#
        );
        assert_eq!(
            encode_object(PacketKind::Connect, "/custom", Some(r#"{"sid":"abc"}"#)),
            r#"40/custom,{"sid":"abc"}"#
        );
        assert_eq!(encode_object(PacketKind::Disconnect, "/", None), "41");
        assert_eq!(
            encode_object(PacketKind::Disconnect, "/admin", None),
            "41/admin,"
        );
        assert_eq!(
            encode_object(
                PacketKind::ConnectError,
                "/random",
                Some(r#"{"message":"Invalid namespace"}"#)
            ),
            r#"44/random,{"message":"Invalid namespace"}"#
        );
        assert_eq!(
            encode_object(
                PacketKind::ConnectError,
                "/",
                Some(r#"{"message":"Not authorized","data":{"b":1,"a":2}}"#)
            ),
            r#"44{"message":"Not authorized","data":{"b":1,"a":2}}"#
        );
    }

    #[test]
    fn placeholders() {
        assert_eq!(placeholder(0), PH0);
        assert_eq!(placeholder(1), PH1);
        assert_eq!(placeholder(9), r#"{"_placeholder":true,"num":9}"#);
    }

    /// What the encoders write, the decoder reads back unchanged (after the Engine.IO `4`).
    #[test]
    fn round_trip() {
        let cases = [
            packet(PacketKind::Connect, "/", None, 0, &[]),
            packet(
                PacketKind::Connect,
                "/admin",
                None,
                0,
                &[r#"{"token":"x"}"#],
            ),
            packet(PacketKind::Disconnect, "/", None, 0, &[]),
            packet(PacketKind::Disconnect, "/admin", None, 0, &[]),
            packet(
                PacketKind::ConnectError,
                "/",
                None,
                0,
                &[r#"{"message":"no"}"#],
            ),
            packet(PacketKind::Event, "/", None, 0, &[r#""foo""#, "1"]),
            packet(PacketKind::Event, "/admin", Some(17), 0, &[r#""foo""#]),
            packet(PacketKind::Event, "/", Some(0), 0, &["7"]),
            packet(PacketKind::Ack, "/", Some(17), 0, &[]),
            packet(PacketKind::Ack, "/admin", Some(17), 0, &[r#""ok""#, "{}"]),
            packet(PacketKind::BinaryEvent, "/", None, 1, &[r#""up""#, PH0]),
            packet(PacketKind::BinaryEvent, "/x", Some(3), 2, &["1", PH0, PH1]),
            packet(PacketKind::BinaryAck, "/", Some(17), 1, &[PH0]),
            packet(
                PacketKind::BinaryAck,
                "/admin",
                Some(u64::MAX),
                2,
                &[PH1, PH0],
            ),
        ];
        for p in cases {
            let args = p.args.iter().map(|a| &**a);
            let wire = match p.kind {
                PacketKind::Connect | PacketKind::Disconnect | PacketKind::ConnectError => {
                    encode_object(p.kind, &p.nsp, p.args.first().map(|a| &**a))
                }
                _ => encode_array(p.kind, &p.nsp, p.id, p.attachments, args),
            };
            let text = wire.strip_prefix('4').expect("an Engine.IO message");
            assert_eq!(dec(text).as_ref(), Ok(&p), "{wire}");
        }
    }
}

mod hostile {
    use super::*;

    #[test]
    fn a_megabyte_of_open_brackets_is_an_error_not_a_stack_overflow() {
        let text = format!("2{}", "[".repeat(1 << 20));
        assert_eq!(decode(text.into()), Err(DecodeError::BadJson));
    }

    #[test]
    fn deep_but_valid_nesting_decodes_without_recursion() {
        let depth = 100_000;
        let text = format!("2[\"deep\",{}{}]", "[".repeat(depth), "]".repeat(depth));
        let packet = decode(text.into()).expect("valid JSON");
        assert_eq!(packet.args.len(), 2);
        assert_eq!(packet.args[1].len(), 2 * depth);
    }

    #[test]
    fn deep_nesting_inside_a_binary_packet_is_refused_by_the_placeholder_check() {
        // The placeholder check parses into a Value, which stops at serde_json's depth of 128.
        let depth = 1000;
        let text = format!(
            "51-[\"x\",{}{{\"_placeholder\":true,\"num\":0}}{}]",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert_eq!(decode(text.into()), Err(DecodeError::BadJson));
    }
}
