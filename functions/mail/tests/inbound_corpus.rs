//! Every message of the mail corpus (`tests/fixtures/mail-corpus`: RFC
//! examples, legacy clients, other libraries' fixtures, deliberately broken
//! mail) goes through the inbound functions: nothing may panic, every
//! rejection has a stable code, and chosen messages decode as they should.
//!
//! The corpus holds no delivery status notification; bounces are tested
//! with hand-written reports in `inbound_messages.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use taquilla_mail::inbound::{
    MailKind, ParseError, ParsedMail, body_marker, classify, parse, split_quoted,
    split_quoted_html, subject_ticket_number,
};

const FOLDERS: [&str; 4] = ["rfc", "legacy", "thirdparty", "malformed"];

fn corpus_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mail-corpus");
    assert!(
        dir.join("README.md").is_file(),
        "the mail corpus is missing: expected it at {} (tests/fixtures/mail-corpus)",
        dir.display()
    );
    dir
}

/// `(folder/NNN.eml, bytes)` for every message of the corpus, in order.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir();
    let mut all = Vec::new();
    for folder in FOLDERS {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(folder))
            .unwrap_or_else(|e| panic!("cannot read {folder}/ of the corpus: {e}"))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        assert!(
            !files.is_empty(),
            "{folder}/ of the corpus holds no .eml file"
        );
        for path in files {
            let name = format!("{folder}/{}", path.file_name().unwrap().to_string_lossy());
            all.push((name, std::fs::read(&path).unwrap()));
        }
    }
    all
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn parsed(name: &str) -> ParsedMail {
    parse(&read(name)).unwrap_or_else(|e| panic!("{name} is rejected: {} {e}", e.code()))
}

/// The message with a From field put in front: how the corpus's sender-less
/// messages show what the MIME layer recovers from them.
fn with_sender(raw: &[u8]) -> Vec<u8> {
    let mut out = b"From: Corpus <corpus@example.org>\r\n".to_vec();
    out.extend_from_slice(raw);
    out
}

/// Runs everything that looks at a parsed message, checking the invariants
/// that hold for any input.
fn exercise(name: &str, mail: &ParsedMail, raw: &[u8]) {
    assert_eq!(mail.raw_size, raw.len(), "{name}");
    assert!(mail.from.address.contains('@'), "{name}");
    assert!(!mail.dedupe_key.is_empty(), "{name}");
    let (new, quoted) = split_quoted(&mail.text);
    assert_eq!(
        format!("{new}{quoted}"),
        mail.text,
        "{name}: the text split lost bytes"
    );
    if let Some(html) = &mail.html {
        let (new, quoted) = split_quoted_html(html);
        assert_eq!(
            format!("{new}{quoted}"),
            *html,
            "{name}: the HTML split lost bytes"
        );
        let _ = body_marker(html);
    }
    let _ = body_marker(&mail.text);
    let _ = subject_ticket_number(&mail.subject);
    let _ = classify(mail);
    for a in &mail.attachments {
        assert!(!a.file_name.is_empty(), "{name}");
        assert!(
            !a.file_name.contains(['/', '\\']),
            "{name}: {}",
            a.file_name
        );
        assert!(a.content_type.contains('/'), "{name}: {}", a.content_type);
    }
}

#[test]
fn every_corpus_message_is_parsed_or_rejected_with_a_code_and_nothing_panics() {
    let corpus = corpus();
    assert_eq!(corpus.len(), 107, "the corpus README promises 107 messages");
    let mut parsed = 0;
    let mut rejected: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut recovered = 0;
    for (name, raw) in &corpus {
        match parse(raw) {
            Ok(mail) => {
                parsed += 1;
                exercise(name, &mail, raw);
            }
            Err(e) => {
                rejected.entry(e.code()).or_default().push(name.clone());
                // What the MIME layer makes of it once it has a sender.
                let raw = with_sender(raw);
                match parse(&raw) {
                    Ok(mail) => {
                        recovered += 1;
                        exercise(name, &mail, &raw);
                    }
                    Err(e) => assert!(
                        matches!(e, ParseError::Malformed(_) | ParseError::Unparseable(_)),
                        "{name} with a sender: {e}"
                    ),
                }
            }
        }
    }
    println!(
        "corpus: {} messages, {parsed} parsed, {} rejected",
        corpus.len(),
        corpus.len() - parsed
    );
    for (code, names) in &rejected {
        println!("  {code}: {} ({})", names.len(), names.join(" "));
    }
    println!("  rejected ones recovered once given a sender: {recovered}");

    // Every rejection in this corpus is a message without a sender: none
    // is empty, none is unparseable, and none of its broken structures
    // makes the parser give up.
    assert_eq!(
        rejected.keys().copied().collect::<Vec<_>>(),
        ["mail_no_sender"]
    );
    assert_eq!(parsed, 74);
    assert_eq!(recovered, corpus.len() - parsed);
}

#[test]
fn subjects_are_decoded_from_rfc_2047_in_any_charset() {
    assert_eq!(
        parsed("legacy/002.eml").subject,
        "Die Hasen und die Frösche"
    );
    // Windows-1252 encoded word.
    assert_eq!(
        parsed("legacy/012.eml").subject,
        "Die Hasen und die Frösche (Microsoft Outlook 00)"
    );
    // A raw 8-bit byte inside an ISO-8859-1 encoded word.
    assert_eq!(
        parsed("legacy/009.eml").subject,
        "Die Hasen und die Frösche"
    );
    // UTF-8, base64 (the message itself has no sender).
    let mail = parse(&with_sender(&read("thirdparty/010.eml"))).unwrap();
    assert_eq!(mail.subject, "こんにちは");
    assert_eq!(mail.text, "人権の無視及");
}

#[test]
fn latin1_bodies_are_decoded_to_utf8() {
    let mail = parsed("legacy/036.eml");
    assert!(
        mail.text.starts_with("Die Hasen und die Frösche"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("über ihre"));
    // 8-bit Latin-1 with no charset at all, and Latin-1 labelled UTF-8.
    for name in ["legacy/052.eml", "legacy/033.eml"] {
        let text = parsed(name).text;
        assert!(
            text.starts_with("Die Hasen und die Frösche"),
            "{name}: {text}"
        );
        assert!(!text.contains(char::REPLACEMENT_CHARACTER), "{name}");
    }
    // Windows-1252 quoted-printable (sender added: the file has none).
    let mail = parse(&with_sender(&read("malformed/018.eml"))).unwrap();
    assert!(
        mail.text
            .contains("Enviado desde mi BlackBerry® de Vodafone"),
        "{}",
        mail.text
    );
}

#[test]
fn attachment_names_are_decoded_from_rfc_2231_and_the_file_keeps_its_charset() {
    let mail = parsed("legacy/045.eml");
    assert_eq!(mail.attachments.len(), 1);
    let a = &mail.attachments[0];
    assert_eq!(a.file_name, "HasenundFrösche.txt");
    assert_eq!(a.content_type, "text/plain");
    assert!(!a.inline);
    assert!(
        a.bytes.starts_with(b"Die Hasen und die Fr\xf6sche"),
        "the ISO-8859-1 bytes as sent"
    );
    // A raw 8-bit name, read as Windows-1252.
    let names: Vec<String> = parsed("legacy/023.eml")
        .attachments
        .into_iter()
        .map(|a| a.file_name)
        .collect();
    assert!(
        names.contains(&"HasenundFrösche.txt".to_owned()),
        "{names:?}"
    );
}

#[test]
fn inline_cid_images_are_marked_inline_and_the_html_keeps_its_links() {
    let mail = parsed("thirdparty/016.eml");
    let html = mail.html.as_deref().unwrap();
    assert_eq!(mail.attachments.len(), 1);
    let image = &mail.attachments[0];
    assert_eq!(image.content_type, "image/png");
    assert_eq!(
        image.content_id.as_deref(),
        Some("part1.8C5E6A81.D0C1B91A@example.com")
    );
    assert!(image.inline);
    assert!(image.bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(html.contains("cid:part1.8C5E6A81.D0C1B91A@example.com"));
    // Made from the HTML: the message has no text part.
    assert_eq!(mail.text, "Search for höhö");

    // An inline image beside a real attachment.
    let mail = parsed("thirdparty/019.eml");
    let flags: Vec<(&str, bool)> = mail
        .attachments
        .iter()
        .map(|a| (a.file_name.as_str(), a.inline))
        .collect();
    assert_eq!(
        flags,
        [("kigaaldcbanejcbi.png", true), ("attach2.png", false)]
    );
}

#[test]
fn attached_messages_become_eml_files_that_parse_again() {
    let mail = parsed("rfc/002.eml");
    assert_eq!(mail.text.lines().next(), Some("Fred,"));
    assert_eq!(mail.attachments.len(), 1);
    let eml = &mail.attachments[0];
    assert_eq!(eml.content_type, "message/rfc822");
    assert_eq!(eml.file_name, "Map of Argentina with Description.eml");
    let inner = parse(&eml.bytes).unwrap();
    assert_eq!(inner.from.address, "president@whitehouse.gov");
    assert_eq!(inner.subject, "Map of Argentina with Description");
    assert_eq!(inner.attachments[0].file_name, "map_of_Argentina.gif");
    assert_eq!(inner.attachments[0].content_type, "image/gif");
    assert!(!inner.attachments[0].bytes.is_empty());

    // Base64-encoded attached message, with the name its sender gave.
    let mail = parse(&with_sender(&read("rfc/008.eml"))).unwrap();
    let eml = &mail.attachments[0];
    assert_eq!(eml.file_name, "attached_email.eml");
    let inner = parse(&eml.bytes).unwrap();
    assert_eq!(inner.subject, "HTML test");
    assert_eq!(inner.from.address, "email@example.com");

    // A "message" that is not one stays a file, not an error.
    let mail = parsed("malformed/022.eml");
    assert_eq!(mail.text, "hello");
    assert_eq!(mail.attachments[0].file_name, "broken.eml");
    assert!(
        mail.attachments[0]
            .bytes
            .starts_with(b"this attachment is not a valid eml")
    );
}

#[test]
fn the_dedupe_key_is_the_message_id_or_a_hash_of_the_bytes() {
    let mail = parsed("legacy/045.eml");
    assert_eq!(
        mail.message_id.as_deref(),
        Some("Pine.LNX.4.21.0005191024380.8452-200000@penguin.example.com")
    );
    assert_eq!(mail.dedupe_key, mail.message_id.clone().unwrap());

    let raw = read("rfc/000.eml");
    let mail = parse(&raw).unwrap();
    assert_eq!(mail.message_id, None);
    assert_eq!(mail.dedupe_key, hex::encode(Sha256::digest(&raw)));
    assert_eq!(mail.dedupe_key.len(), 64);
    // The same bytes delivered twice give the same key.
    assert_eq!(parse(&raw).unwrap().dedupe_key, mail.dedupe_key);
}

#[test]
fn headers_addresses_and_dates_are_decoded() {
    let mail = parsed("legacy/045.eml");
    assert_eq!(mail.from.address, "doug@penguin.example.com");
    assert_eq!(mail.from.name.as_deref(), Some("Doug Sauder"));
    let to: Vec<(Option<&str>, &str)> = mail
        .to
        .iter()
        .map(|m| (m.name.as_deref(), m.address.as_str()))
        .collect();
    assert_eq!(
        to,
        [
            (Some("Joe Blow"), "blow@example.com"),
            (Some("Heinz Müller"), "mueller@example.com")
        ]
    );
    // Fri, 19 May 2000 10:26:12 -0400
    assert_eq!(mail.date, Some(958_746_372_000));
    assert_eq!(mail.header("subject"), Some("Die Hasen und die Frösche"));
    assert_eq!(
        mail.headers.first().map(|(n, _)| n.as_str()),
        Some("Date"),
        "header fields keep their order"
    );

    let mail = parsed("thirdparty/015.eml");
    assert_eq!(mail.delivered_to, ["jonas.sterr@gmx.net"]);
    assert_eq!(mail.header_values("Authentication-Results").count(), 2);
    assert_eq!(mail.header("X-Sender"), Some("jsterr@proxforge.de"));
    // "(#5290765)" is some other system's number, not our tag.
    assert_eq!(subject_ticket_number(&mail.subject), None);
}

#[test]
fn a_list_message_is_bulk_and_a_personal_one_regular() {
    let list = classify(&parsed("thirdparty/014.eml"));
    assert_eq!(list.kind, MailKind::Bulk);
    assert!(
        list.signals.iter().any(|s| s.starts_with("List-Id")),
        "{:?}",
        list.signals
    );
    assert!(!list.may_auto_respond());

    let personal = classify(&parsed("thirdparty/015.eml"));
    assert_eq!(personal.kind, MailKind::Regular);
    assert!(personal.may_auto_respond());
}

#[test]
fn signed_and_broken_messages_keep_their_text() {
    // multipart/signed with a bogus signature: the text is what matters.
    let mail = parsed("malformed/015.eml");
    assert_eq!(mail.text, "There was a day \na happy day");
    assert_eq!(mail.attachments[0].file_name, "signature.asc");
    // "Content-Disposition: ;" and a bad Content-ID.
    let mail = parsed("malformed/017.eml");
    assert_eq!(
        mail.attachments[0].file_name, "attachment-1.png",
        "a safe name made up"
    );
    assert_eq!(mail.attachments[0].bytes, b"hello world\n");
}

#[test]
fn messages_without_any_sender_address_are_rejected() {
    for name in ["rfc/004.eml", "thirdparty/000.eml", "malformed/019.eml"] {
        assert_eq!(parse(&read(name)), Err(ParseError::NoSender), "{name}");
    }
}
