//! Hand-written messages for what the corpus lacks: every classification
//! (auto-replies, lists, bounces, SES verdicts), every quoted-history style
//! in English, Spanish and Catalan, and the edges of parsing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use taquilla_mail::inbound::{
    MailKind, ParseError, ParsedMail, Verdict, body_marker, classify, parse, plus_tag,
    split_quoted, split_quoted_html, subject_ticket_number,
};

/// A message with the given extra header lines, subject and plain body,
/// CRLF line ends as on the wire.
fn message(headers: &str, subject: &str, body: &str) -> Vec<u8> {
    let mut raw = String::from(
        "From: Ana Pons <Ana.Pons@Example.EDU>\n\
         To: Suport <suport@uni.example>\n\
         Date: Mon, 15 Jan 2024 09:30:00 +0100\n\
         Message-ID: <m1@example.edu>\n",
    );
    raw.push_str(&format!("Subject: {subject}\n"));
    for line in headers.lines().filter(|l| !l.trim().is_empty()) {
        raw.push_str(line.trim());
        raw.push('\n');
    }
    raw.push_str("Content-Type: text/plain; charset=utf-8\n\n");
    raw.push_str(body);
    raw.replace('\n', "\r\n").into_bytes()
}

fn parsed(raw: &[u8]) -> ParsedMail {
    parse(raw).unwrap_or_else(|e| panic!("rejected: {} {e}", e.code()))
}

fn kind(headers: &str, subject: &str) -> MailKind {
    classify(&parsed(&message(headers, subject, "Body\n"))).kind
}

// ---------------------------------------------------------------------
// Classification

#[test]
fn a_plain_message_from_a_person_may_get_an_auto_response() {
    let c = classify(&parsed(&message(
        "",
        "No puc entrar al campus virtual",
        "Hola\n",
    )));
    assert_eq!(c.kind, MailKind::Regular);
    assert!(c.may_auto_respond());
    assert!(c.signals.is_empty());
}

#[test]
fn rfc_3834_auto_submitted_marks_auto_replies_except_no() {
    for value in [
        "auto-replied",
        "auto-generated",
        "auto-notified; owner-email=\"x@y.z\"",
    ] {
        let c = classify(&parsed(&message(
            &format!("Auto-Submitted: {value}"),
            "Hi",
            "x",
        )));
        assert_eq!(c.kind, MailKind::AutoReply, "{value}");
        assert!(!c.may_auto_respond());
        assert!(c.signals[0].starts_with("Auto-Submitted"));
    }
    assert_eq!(kind("Auto-Submitted: no", "Hi"), MailKind::Regular);
    assert_eq!(kind("Auto-Submitted: No", "Hi"), MailKind::Regular);
}

#[test]
fn x_autoreply_and_x_autorespond_mark_auto_replies() {
    assert_eq!(kind("X-Autoreply: yes", "Re: hola"), MailKind::AutoReply);
    assert_eq!(
        kind("X-Autorespond: Vacation", "Re: hola"),
        MailKind::AutoReply
    );
    assert_eq!(
        kind("Precedence: auto_reply", "Re: hola"),
        MailKind::AutoReply
    );
}

#[test]
fn vacation_subjects_count_only_with_a_header_behind_them() {
    // Outlook's out-of-office notice: subject plus X-Auto-Response-Suppress.
    for subject in [
        "Automatic reply: VPN",
        "Respuesta automática: VPN",
        "Resposta automàtica: VPN",
        "Out of Office: VPN",
        "Fuera de la oficina: VPN",
    ] {
        assert_eq!(
            kind("X-Auto-Response-Suppress: All", subject),
            MailKind::AutoReply,
            "{subject}"
        );
        // A person may write the same words.
        assert_eq!(kind("", subject), MailKind::Regular, "{subject}");
    }
    // A null Return-Path backs it too.
    assert_eq!(
        kind("Return-Path: <>", "Absència: VPN"),
        MailKind::AutoReply
    );
}

#[test]
fn x_auto_response_suppress_alone_only_forbids_auto_responses() {
    let c = classify(&parsed(&message(
        "X-Auto-Response-Suppress: OOF, AutoReply",
        "Dubte",
        "x",
    )));
    assert_eq!(c.kind, MailKind::Regular);
    assert!(c.suppress_auto_response);
    assert!(!c.may_auto_respond());
    let c = classify(&parsed(&message(
        "X-Auto-Response-Suppress: None",
        "Dubte",
        "x",
    )));
    assert!(c.may_auto_respond());
}

#[test]
fn precedence_and_list_headers_mark_bulk_mail() {
    for headers in [
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: list",
        "List-Id: Estudiants <estudiants.uni.example>",
        "List-Unsubscribe: <mailto:unsubscribe@news.example>",
    ] {
        let c = classify(&parsed(&message(headers, "Newsletter", "x")));
        assert_eq!(c.kind, MailKind::Bulk, "{headers}");
        assert!(c.bulk);
        assert!(!c.may_auto_respond(), "{headers}");
    }
}

/// A delivery status notification as Postfix writes it.
const DSN: &str = "Return-Path: <>\r\n\
From: MAILER-DAEMON@mx.uni.example (Mail Delivery System)\r\n\
To: suport@uni.example\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
Auto-Submitted: auto-replied\r\n\
Date: Mon, 15 Jan 2024 10:00:00 +0100\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status;\r\n\
\tboundary=\"B1\"\r\n\
\r\n\
--B1\r\n\
Content-Description: Notification\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
\r\n\
I'm sorry to have to inform you that your message could not\r\n\
be delivered to one or more recipients.\r\n\
\r\n\
--B1\r\n\
Content-Description: Delivery report\r\n\
Content-Type: message/delivery-status\r\n\
\r\n\
Reporting-MTA: dns; mx.uni.example\r\n\
X-Postfix-Queue-ID: 4F1D2A3B\r\n\
Arrival-Date: Mon, 15 Jan 2024 09:59:58 +0100\r\n\
\r\n\
Final-Recipient: rfc822; Nobody@Example.COM\r\n\
Original-Recipient: rfc822;nobody@example.com\r\n\
Action: failed\r\n\
Status: 5.1.1\r\n\
Remote-MTA: dns; mx.example.com\r\n\
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.com>: Recipient address\r\n\
\x20   rejected: User unknown\r\n\
\r\n\
Final-Recipient: rfc822; slow@example.net\r\n\
Action: delayed\r\n\
Status: 4.4.1\r\n\
\r\n\
--B1\r\n\
Content-Description: Undelivered Message Headers\r\n\
Content-Type: text/rfc822-headers\r\n\
\r\n\
From: suport@uni.example\r\n\
To: nobody@example.com\r\n\
Subject: [#123456] La teva sol·licitud\r\n\
Message-ID: <t123456.1@uni.example>\r\n\
\r\n\
--B1--\r\n";

#[test]
fn a_multipart_report_dsn_is_a_bounce_with_its_recipients_and_codes() {
    let mail = parsed(DSN.as_bytes());
    let c = classify(&mail);
    assert_eq!(c.kind, MailKind::Bounce);
    assert!(!c.may_auto_respond());
    let bounce = c.bounce.as_ref().unwrap();
    assert_eq!(bounce.reporting_mta.as_deref(), Some("mx.uni.example"));
    let found: Vec<(&str, Option<&str>, Option<&str>, bool)> = bounce
        .recipients
        .iter()
        .map(|r| {
            (
                r.address.as_str(),
                r.action.as_deref(),
                r.status.as_deref(),
                r.is_permanent(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("nobody@example.com", Some("failed"), Some("5.1.1"), true),
            ("slow@example.net", Some("delayed"), Some("4.4.1"), false),
        ]
    );
    assert_eq!(
        bounce.recipients[0].diagnostic.as_deref(),
        Some("550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown")
    );
    assert!(bounce.is_permanent());
    // The human part is the text; the report and the returned headers are
    // kept as files.
    assert!(mail.text.starts_with("I'm sorry"));
    let types: Vec<&str> = mail
        .attachments
        .iter()
        .map(|a| a.content_type.as_str())
        .collect();
    assert_eq!(types, ["message/delivery-status", "text/rfc822-headers"]);
}

#[test]
fn exim_bounces_name_their_failed_recipients_in_a_header() {
    let raw = message(
        "X-Failed-Recipients: gone@example.com\nAuto-Submitted: auto-replied",
        "Mail delivery failed: returning message to sender",
        "This message was created automatically by mail delivery software.\n",
    );
    let raw = String::from_utf8(raw).unwrap().replace(
        "From: Ana Pons <Ana.Pons@Example.EDU>",
        "From: Mail Delivery System <Mailer-Daemon@mx.example.com>",
    );
    let c = classify(&parsed(raw.as_bytes()));
    assert_eq!(c.kind, MailKind::Bounce);
    let recipients = &c.bounce.unwrap().recipients;
    assert_eq!(recipients.len(), 1);
    assert_eq!(recipients[0].address, "gone@example.com");
    assert!(recipients[0].is_permanent());
}

#[test]
fn mailer_daemon_and_postmaster_senders_are_bounces() {
    for from in ["MAILER-DAEMON@mx.example.com", "postmaster@example.org"] {
        let raw = String::from_utf8(message("", "Delivery failure", "x"))
            .unwrap()
            .replace("Ana Pons <Ana.Pons@Example.EDU>", from);
        let c = classify(&parsed(raw.as_bytes()));
        assert_eq!(c.kind, MailKind::Bounce, "{from}");
        assert!(c.bounce.unwrap().recipients.is_empty());
    }
}

#[test]
fn read_receipts_are_automatic_mail() {
    let raw = "From: ana@example.edu\r\nTo: suport@uni.example\r\nSubject: Read: VPN\r\n\
Content-Type: multipart/report; report-type=disposition-notification; boundary=R\r\n\r\n\
--R\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n\
--R\r\nContent-Type: message/disposition-notification\r\n\r\n\
Final-Recipient: rfc822; ana@example.edu\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n\
--R--\r\n";
    let c = classify(&parsed(raw.as_bytes()));
    assert_eq!(c.kind, MailKind::AutoReply);
    assert!(c.bounce.is_none());
}

#[test]
fn ses_spam_and_virus_verdicts_stop_auto_responses_and_fail_wins() {
    let c = classify(&parsed(&message(
        "X-SES-Spam-Verdict: PASS\nX-SES-Virus-Verdict: PASS",
        "Hola",
        "x",
    )));
    assert_eq!(
        (c.spam.clone(), c.virus.clone()),
        (Some(Verdict::Pass), Some(Verdict::Pass))
    );
    assert!(c.may_auto_respond());

    let c = classify(&parsed(&message(
        "X-SES-Spam-Verdict: FAIL",
        "You won",
        "x",
    )));
    assert!(c.is_spam());
    assert_eq!(c.kind, MailKind::Regular);
    assert!(!c.may_auto_respond());

    let c = classify(&parsed(&message(
        "X-SES-Virus-Verdict: FAIL",
        "Invoice",
        "x",
    )));
    assert!(c.has_virus());
    assert!(!c.may_auto_respond());

    // A sender cannot vouch for itself above SES's own verdict.
    let c = classify(&parsed(&message(
        "X-SES-Spam-Verdict: PASS\nX-SES-Spam-Verdict: FAIL",
        "x",
        "x",
    )));
    assert!(c.is_spam());
    let c = classify(&parsed(&message("X-SES-Spam-Verdict: GRAY", "x", "x")));
    assert_eq!(c.spam, Some(Verdict::Gray));
}

// ---------------------------------------------------------------------
// Parsing

#[test]
fn empty_input_and_bytes_without_headers_are_rejected_with_codes() {
    assert_eq!(parse(b""), Err(ParseError::Empty));
    assert_eq!(
        parse(b" \r\n\t\r\n").map_err(|e| e.code()),
        Err("mail_empty")
    );
    for garbage in [
        &b"hello world, no headers here"[..],
        b"\x00\x01\x02\xff\xfe",
        b"\r\n\r\nbody only",
    ] {
        let err = parse(garbage).unwrap_err();
        assert!(
            matches!(err, ParseError::Unparseable(_) | ParseError::NoSender),
            "{garbage:?}: {err:?}"
        );
    }
}

#[test]
fn a_message_without_message_id_subject_or_body_is_accepted() {
    let raw = b"From: ana@example.edu\r\nTo: suport@uni.example\r\n\r\n";
    let mail = parsed(raw);
    assert_eq!(mail.message_id, None);
    assert_eq!(mail.dedupe_key.len(), 64);
    assert_eq!(mail.subject, "");
    assert_eq!(mail.text, "");
    assert_eq!(mail.html, None);
    assert!(mail.attachments.is_empty());
    assert_eq!(mail.date, None);
    // Without even a blank line after the headers, or the last line end.
    for raw in [
        &b"From: ana@example.edu\r\n"[..],
        b"Subject: x\r\nFrom: ana@example.edu",
    ] {
        let mail = parsed(raw);
        assert_eq!(mail.from.address, "ana@example.edu");
        assert_eq!(mail.raw_size, raw.len());
    }
}

#[test]
fn a_malformed_digest_that_panics_the_parser_is_rejected_not_propagated() {
    // This shape trips a debug assertion inside mail-parser.
    let raw = b"From: Llista <llista@example.org>\r\n\
Subject: Resum diari\r\n\
Content-Type: multipart/digest; boundary=1\r\n\
\r\n\
--1\r\n\
\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
\r\n\
--1--";
    let result = parse(raw);
    if cfg!(debug_assertions) {
        let err = result.unwrap_err();
        assert_eq!(err.code(), "mail_malformed");
        assert!(err.to_string().contains("Invalid part ID"), "{err}");
    } else if let Err(err) = result {
        // Release builds have no such assertion; if they still refuse the
        // message, it is as malformed, never as a panic.
        assert_ne!(err.code(), "mail_malformed", "{err}");
    }
    // The same process keeps parsing normally afterwards.
    assert!(parse(&message("", "Després", "x")).is_ok());
}

#[test]
fn the_sender_falls_back_to_sender_then_reply_to() {
    let raw = b"From: Moderator-Address\r\nSender: Lista <owner-lista@Example.org>\r\nSubject: x\r\n\r\nx";
    assert_eq!(parsed(raw).from.address, "owner-lista@example.org");
    let raw = b"From: undisclosed\r\nReply-To: Ana <ana@example.edu>\r\nSubject: x\r\n\r\nx";
    let mail = parsed(raw);
    assert_eq!(mail.from.address, "ana@example.edu");
    assert_eq!(mail.reply_addresses()[0].address, "ana@example.edu");
    assert_eq!(
        parse(b"From: nobody\r\nSubject: x\r\n\r\nx"),
        Err(ParseError::NoSender)
    );
}

#[test]
fn addresses_are_lower_case_and_envelope_recipients_collected() {
    let raw = "From: =?utf-8?q?Jordi_Vila=C3=A7a?= <Jordi.Vilaca@UNI.example>\r\n\
To: \"Suport TIC\" <Suport+Abc123@Uni.Example>, grup: a@x.org, b@x.org;\r\n\
Cc: c@x.org\r\n\
Reply-To: jordi@home.example\r\n\
Delivered-To: suport+abc123@uni.example\r\n\
X-Original-To: tic@uni.example\r\n\
Delivered-To: suport+abc123@uni.example\r\n\
In-Reply-To: <t42.1@uni.example>\r\n\
References: <t42.0@uni.example>\r\n <t42.1@uni.example>\r\n\
Subject: RE: [#000042] Wifi\r\n\
\r\n\
Ja funciona.\r\n";
    let mail = parsed(raw.as_bytes());
    assert_eq!(mail.from.name.as_deref(), Some("Jordi Vilaça"));
    assert_eq!(mail.from.address, "jordi.vilaca@uni.example");
    let to: Vec<&str> = mail.to.iter().map(|m| m.address.as_str()).collect();
    assert_eq!(to, ["suport+abc123@uni.example", "a@x.org", "b@x.org"]);
    assert_eq!(mail.cc[0].address, "c@x.org");
    assert_eq!(
        mail.delivered_to,
        ["suport+abc123@uni.example", "tic@uni.example"]
    );
    assert_eq!(mail.in_reply_to, ["t42.1@uni.example"]);
    assert_eq!(mail.references, ["t42.0@uni.example", "t42.1@uni.example"]);
    // The threading hints.
    assert_eq!(
        subject_ticket_number(&mail.subject).as_deref(),
        Some("000042")
    );
    assert_eq!(
        plus_tag(&mail.delivered_to[0]),
        Some(("suport".to_owned(), "abc123".to_owned()))
    );
}

#[test]
fn latin1_and_windows_1252_bodies_become_utf8() {
    let mut raw = b"From: ana@example.edu\r\nSubject: =?ISO-8859-1?Q?Matr=EDcula?=\r\n\
Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(b"La administraci\xf3n no me deja pagar la matr\xedcula.\r\n");
    let mail = parsed(&raw);
    assert_eq!(mail.subject, "Matrícula");
    assert_eq!(
        mail.text,
        "La administración no me deja pagar la matrícula."
    );

    let raw = b"From: ana@example.edu\r\nSubject: x\r\n\
Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
Quota: 50 =80 =93curs 24/25=94\r\n";
    assert_eq!(parsed(raw).text, "Quota: 50 € “curs 24/25”");
}

#[test]
fn html_only_mail_gets_a_text_body_and_keeps_its_html_raw() {
    let raw = b"From: ana@example.edu\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<html><head><style>p{color:red}</style></head><body><p>Bon dia,</p>\
<p>adjunto la <b>captura</b>: <img src=\"cid:img1@x\"></p><script>alert(1)</script></body></html>\r\n";
    let mail = parsed(raw);
    assert_eq!(mail.text, "Bon dia,\n\nadjunto la captura:");
    let html = mail.html.unwrap();
    assert!(
        html.contains("cid:img1@x") && html.contains("<script>"),
        "kept as sent"
    );
}

#[test]
fn attachment_names_from_rfc_2231_continuations_and_rfc_2047_are_decoded_and_made_safe() {
    let raw = "From: ana@example.edu\r\nSubject: Documents\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"X\"\r\n\r\n\
--X\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAdjunto los documentos.\r\n\
--X\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment;\r\n filename*0*=utf-8''sol%C2%B7licitud%20de;\r\n filename*1*=%20beca.pdf\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n\
--X\r\nContent-Type: application/pdf; name=\"=?UTF-8?Q?matr=C3=ADcula.pdf?=\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n\
--X\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"../../etc/passwd\"\r\n\r\nroot\r\n\
--X\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment\r\n\
Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n\
--X--\r\n";
    let mail = parsed(raw.as_bytes());
    let names: Vec<&str> = mail
        .attachments
        .iter()
        .map(|a| a.file_name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "sol·licitud de beca.pdf",
            "matrícula.pdf",
            "passwd",
            "attachment-4.jpg"
        ]
    );
    assert_eq!(mail.attachments[0].bytes, b"%PDF-1.4\n");
    assert!(mail.attachments.iter().all(|a| !a.inline));
    assert_eq!(mail.text, "Adjunto los documentos.");
}

#[test]
fn every_header_field_is_kept_decoded_and_in_order() {
    let raw = "From: ana@example.edu\r\nX-Campus: =?utf-8?q?Bellaterra_=C2=B7_UAB?=\r\nSubject: x\r\n\
X-Long: first part\r\n  second part\r\nX-Campus: Sabadell\r\n\r\nx";
    let mail = parsed(raw.as_bytes());
    let names: Vec<&str> = mail.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["From", "X-Campus", "Subject", "X-Long", "X-Campus"]);
    assert_eq!(mail.header("x-campus"), Some("Bellaterra · UAB"));
    assert_eq!(
        mail.header_values("X-CAMPUS").collect::<Vec<_>>(),
        ["Bellaterra · UAB", "Sabadell"]
    );
    assert_eq!(mail.header("X-Long"), Some("first part second part"));
}

// ---------------------------------------------------------------------
// Quoted history, plain text

fn quoted_part(text: &str) -> &str {
    let (new, quoted) = split_quoted(text);
    assert_eq!(format!("{new}{quoted}"), text);
    quoted
}

#[test]
fn gmail_attributions_in_english_spanish_and_catalan() {
    for (new, attribution) in [
        (
            "Thanks, it works now.",
            "On Mon, 15 Jan 2024 at 10:00, Suport TIC <suport@uni.example> wrote:",
        ),
        (
            "Gracias, ya funciona.",
            "El lun, 15 ene 2024 a las 10:00, Suport TIC (<suport@uni.example>) escribió:",
        ),
        (
            "Gràcies, ja funciona.",
            "El dl., 15 de gen. 2024 a les 10:00, Suport TIC (<suport@uni.example>) va escriure:",
        ),
        ("Gràcies!", "El 15/1/24 a les 10:00, Suport TIC ha escrit:"),
    ] {
        let text = format!("{new}\n\n{attribution}\n\n> Hola,\n> prova de reiniciar.\n");
        let quoted = quoted_part(&text);
        assert!(quoted.starts_with(attribution), "{attribution}");
        assert_eq!(split_quoted(&text).0.trim(), new);
    }
}

#[test]
fn outlook_separators_and_header_blocks_in_english_spanish_and_catalan() {
    let cases = [
        "-----Original Message-----\nFrom: Suport TIC <suport@uni.example>\nSent: Monday, January 15, 2024 10:00 AM\nTo: Ana Pons\nSubject: RE: VPN\n\nHola",
        "-----Mensaje original-----\nDe: Suport TIC\nEnviado el: lunes, 15 de enero de 2024 10:00\nPara: Ana Pons\nAsunto: RE: VPN\n\nHola",
        "-----Missatge original-----\nDe: Suport TIC\nEnviat: dilluns, 15 de gener de 2024 10:00\nPer a: Ana Pons\nAssumpte: RE: VPN\n\nHola",
        "________________________________\nDe: Suport TIC <suport@uni.example>\nEnviado: lunes, 15 de enero de 2024 10:00\nPara: Ana Pons\nAsunto: VPN\n\nHola",
        "________________________________\nDe: Suport TIC\nEnviat el: dilluns, 15 de gener de 2024 10:00\nPer a: Ana Pons\nAssumpte: VPN\n\nHola",
        "From: Suport TIC <suport@uni.example>\nSent: 15 January 2024 10:00\nTo: Ana Pons\nSubject: VPN\n\nHello",
        "*From:* Suport TIC <suport@uni.example>\n*Sent:* Monday, January 15, 2024 10:00\n*To:* Ana Pons\n*Subject:* VPN\n\nHello",
    ];
    for history in cases {
        let text = format!("Fet, gràcies.\n\n{history}\n");
        let quoted = quoted_part(&text);
        assert_eq!(quoted, format!("{history}\n"), "{history}");
    }
}

#[test]
fn a_trailing_block_of_quoted_lines_is_history() {
    let text = "Sí, des de casa.\n\n> Des d'on et connectes?\n> \n> > Hola\n";
    assert_eq!(
        quoted_part(text),
        "> Des d'on et connectes?\n> \n> > Hola\n"
    );
}

// ---------------------------------------------------------------------
// Quoted history, HTML

fn quoted_html(html: &str) -> &str {
    let (new, quoted) = split_quoted_html(html);
    assert_eq!(format!("{new}{quoted}"), html);
    quoted
}

#[test]
fn gmail_quote_divs() {
    for (attribution, class) in [
        (
            "On Mon, 15 Jan 2024 at 10:00, Suport &lt;suport@uni.example&gt; wrote:",
            "gmail_quote",
        ),
        (
            "El lun, 15 ene 2024 a las 10:00, Suport (&lt;suport@uni.example&gt;) escribió:",
            "gmail_quote gmail_quote_container",
        ),
        (
            "El dl., 15 de gen. 2024 a les 10:00, Suport (&lt;suport@uni.example&gt;) va escriure:",
            "gmail_quote",
        ),
    ] {
        let html = format!(
            "<div dir=\"ltr\">Ja funciona</div><br><div class=\"{class}\"><div dir=\"ltr\" class=\"gmail_attr\">{attribution}<br></div>\
             <blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex\">Hola</blockquote></div>"
        );
        assert!(
            quoted_html(&html).starts_with("<br><div class=\"gmail_quote"),
            "{class}"
        );
    }
}

#[test]
fn apple_mail_and_thunderbird_citations() {
    let apple = "<html><body dir=\"auto\">Gràcies<br><div><br><blockquote type=\"cite\"><div>El 15 gen 2024, a les 10:00, Suport &lt;suport@uni.example&gt; va escriure:</div><br><div>Hola</div></blockquote></div></body></html>";
    assert!(quoted_html(apple).starts_with("<br><div><br><blockquote type=\"cite\">"));

    let thunderbird = "<html><body><p>Gracias</p>\n<div class=\"moz-cite-prefix\">El 15/1/24 a las 10:00, Suport escribió:<br></div>\n<blockquote type=\"cite\" cite=\"mid:t1@uni.example\">Hola</blockquote></body></html>";
    assert!(quoted_html(thunderbird).starts_with("<div class=\"moz-cite-prefix\">"));
}

#[test]
fn outlook_reply_blocks() {
    // Outlook on the web and the new Outlook.
    let web = "<div>Done</div><div id=\"appendonsend\"></div>\
<hr style=\"display:inline-block;width:98%\" tabindex=\"-1\"><div id=\"divRplyFwdMsg\" dir=\"ltr\">\
<font face=\"Calibri\"><b>From:</b> Suport<br><b>Sent:</b> Monday<br><b>To:</b> Ana<br><b>Subject:</b> VPN</font></div><div>Hola</div>";
    assert!(quoted_html(web).starts_with("<hr style="));

    // Outlook for Windows, Spanish: the bordered block has no id.
    let desktop = "<div class=WordSection1><p class=MsoNormal>Hecho<o:p></o:p></p>\
<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>\
<p class=MsoNormal><b>De:</b> Suport TIC &lt;suport@uni.example&gt; <br><b>Enviado el:</b> lunes, 15 de enero de 2024 10:00<br>\
<b>Para:</b> Ana Pons<br><b>Asunto:</b> RE: VPN<o:p></o:p></p></div><p class=MsoNormal>Hola<o:p></o:p></p></div>";
    assert!(quoted_html(desktop).starts_with("<div style='border:none;border-top"));

    // Catalan, with the separator line.
    let catalan = "<div>Fet</div><div>-----Missatge original-----<br>De: Suport<br>Enviat: dilluns<br>Per a: Ana<br>Assumpte: VPN</div>";
    assert!(quoted_html(catalan).starts_with("<div>-----Missatge original-----"));
}

#[test]
fn html_without_history_stays_whole() {
    let html = "<p>Bon dia,</p><p>No puc imprimir. Diu: <i>From: tray 2</i>.</p>";
    assert_eq!(quoted_html(html), "");
}

#[test]
fn a_body_marker_is_found_in_the_quoted_html_history() {
    let html = "<div>Ok</div><div class=\"gmail_quote\"><blockquote class=\"gmail_quote\">\
<p style=\"color:#999\">[ref:<span>ab12</span>CD34]</p></blockquote></div>";
    assert_eq!(body_marker(html).as_deref(), Some("ab12cd34"));
    let (_, quoted) = split_quoted_html(html);
    assert_eq!(body_marker(quoted).as_deref(), Some("ab12cd34"));
}
