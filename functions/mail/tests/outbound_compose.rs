//! Composed mail parsed back with mail-parser (the parser the inbound half
//! uses): headers, decoded bodies and attachments must come back as they
//! went in, and the bytes must be a message every mailer accepts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use mail_parser::{Message, MessageParser, MimeHeaders};
use taquilla_core::domain::ids::InstanceId;
use taquilla_core::domain::instance::Language;
use taquilla_core::mailer::{self, OutgoingMail};
use taquilla_core::sanitize::Body;
use taquilla_mail::outbound::*;

const DATE: i64 = 1_773_139_260; // Tue, 10 Mar 2026 10:41:00 +0000

fn parse(mail: &OutgoingMail) -> Message<'_> {
    MessageParser::default()
        .parse(&mail.raw)
        .expect("the composed mail parses")
}

/// What every composed mail must be: CRLF only, no line over 998 octets,
/// header lines folded at 78 where they can be, and accepted by the mailer
/// port.
fn assert_well_formed(mail: &OutgoingMail) {
    mailer::validate(mail).expect("mailer::validate accepts it");
    assert!(mailer::uses_crlf(&mail.raw));
    let raw = &mail.raw;
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' {
            assert!(i > 0 && raw[i - 1] == b'\r', "bare LF at byte {i}");
        }
    }
    let text = String::from_utf8_lossy(raw);
    let (header, _) = text.split_once("\r\n\r\n").expect("a header section");
    for line in text.split("\r\n") {
        assert!(line.len() <= 998, "line of {} octets", line.len());
    }
    for line in header.split("\r\n") {
        assert!(line.is_ascii(), "8-bit header line {line:?}");
        // Longer only when it is one token that cannot be folded (a long
        // Message-ID), after the field name if any.
        let token = line
            .split_once(": ")
            .map_or(line, |(_, value)| value)
            .trim_start();
        assert!(
            line.len() <= 78 || !token.contains(' '),
            "header line of {} octets: {line:?}",
            line.len()
        );
    }
}

fn header<'a>(message: &'a Message<'a>, name: &'a str) -> Option<&'a str> {
    message.header(name).and_then(|value| value.as_text())
}

fn content_language(message: &Message<'_>) -> Vec<String> {
    let value = message.content_language();
    match (value.as_text(), value.as_text_list()) {
        (Some(one), _) => vec![one.to_owned()],
        (None, Some(list)) => list.iter().map(|l| l.to_string()).collect(),
        (None, None) => Vec::new(),
    }
}

fn catalan_variables() -> Variables {
    Variables {
        instance: InstanceVars {
            name: "Secretaria de l'Escola d'Enginyeria".into(),
            url: "https://tiquets.example.edu/eng/".into(),
        },
        recipient: PersonVars::new("Núria Puig i Ferrer", "nuria.puig@example.edu"),
        ticket: Some(TicketVars {
            number: "ENG-004815".into(),
            subject: "Canvi de grup de pràctiques del segon quadrimestre (assignatura d'Àlgebra Lineal)".into(),
            status: "Resolt".into(),
            priority: "Normal".into(),
            department: "Secretaria".into(),
            created: "10/03/2026 09:41".into(),
            link: Some("https://tiquets.example.edu/eng/t/ENG-004815?k=Zm9vYmFy".into()),
            ..TicketVars::default()
        }),
        user: Some(UserVars {
            name: "Núria Puig i Ferrer".into(),
            email: "nuria.puig@example.edu".into(),
            organisation: None,
        }),
        agent: Some(PersonVars::new("Jordi Serra", "jordi.serra@example.edu")),
        response: Some(EntryVars::new(
            "Jordi Serra",
            &Body::Html(
                "<p>Hola, Núria,</p><p>Ja us hem canviat al grup <b>B2</b>. L'horari és a l'adjunt.</p>"
                    .into(),
            ),
        )),
        signature: Some("Jordi Serra\nSecretaria de l'Escola d'Enginyeria".into()),
        ..Variables::default()
    }
}

fn long_references() -> Vec<String> {
    (0..25)
        .map(|i| format!("<{i:02}.20260310094100.a1b2c3d4e5f60718293a4b5c6d7e8f90@mail.estudiants.example.edu>"))
        .collect()
}

#[test]
fn a_catalan_response_round_trips_headers_and_both_bodies() {
    let rendered = render(
        TemplateKind::Response,
        Language::Ca,
        &TemplateTexts::default(),
        &catalan_variables(),
    )
    .unwrap();
    let references = long_references();
    let parent = references.last().unwrap().clone();
    let outgoing = Outgoing {
        from: Mailbox::new(
            "Secretaria de l'Escola d'Enginyeria · Informàtica",
            "secretaria.eng@example.edu",
        ),
        to: vec![Mailbox::new(
            "Núria Puig i Ferrer",
            "nuria.puig@example.edu",
        )],
        cc: vec![Mailbox::new("Àlex Martí", "alex.marti@example.edu")],
        bcc: vec![Mailbox::address("arxiu@example.edu")],
        reply_to: Some(Mailbox::new(
            "Secretaria de l'Escola d'Enginyeria",
            "secretaria.eng+t4815.k7QxZ2@example.edu",
        )),
        date: DATE,
        message_id: Some("<resp-4815-3@tiquets.example.edu>".into()),
        in_reply_to: Some(parent.clone()),
        references: references.clone(),
        auto_submitted: TemplateKind::Response.auto_submitted(),
        language: Some(Language::Ca),
        loop_tag: Some(LoopTag {
            instance: InstanceId::parse("eng").unwrap(),
            ticket: Some("ENG-004815".into()),
        }),
        ..Outgoing::default()
    }
    .with_rendered(&rendered);
    let mail = compose(&outgoing).unwrap();
    assert_well_formed(&mail);
    assert_eq!(mail.from, "secretaria.eng@example.edu");
    assert_eq!(
        mail.recipients,
        [
            "nuria.puig@example.edu",
            "alex.marti@example.edu",
            "arxiu@example.edu"
        ]
    );

    let message = parse(&mail);
    assert_eq!(message.subject(), Some(rendered.subject.as_str()));
    assert_eq!(
        message.subject(),
        Some(
            "[#ENG-004815] Canvi de grup de pràctiques del segon quadrimestre (assignatura d'Àlgebra Lineal)"
        )
    );
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(
        from.name(),
        Some("Secretaria de l'Escola d'Enginyeria · Informàtica")
    );
    assert_eq!(from.address(), Some("secretaria.eng@example.edu"));
    let to = message.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some("Núria Puig i Ferrer"));
    assert_eq!(
        message.cc().unwrap().first().unwrap().name(),
        Some("Àlex Martí")
    );
    assert!(message.bcc().is_none(), "Bcc stays in the envelope");
    assert!(!String::from_utf8_lossy(&mail.raw).contains("arxiu@example.edu"));
    assert_eq!(
        message.reply_to().unwrap().first().unwrap().address(),
        Some("secretaria.eng+t4815.k7QxZ2@example.edu")
    );
    assert_eq!(
        message.message_id(),
        Some("resp-4815-3@tiquets.example.edu")
    );
    assert_eq!(
        message.in_reply_to().as_text(),
        Some(&parent[1..parent.len() - 1])
    );
    let parsed_refs: Vec<String> = message
        .references()
        .as_text_list()
        .unwrap()
        .iter()
        .map(|id| format!("<{id}>"))
        .collect();
    assert_eq!(parsed_refs, references);
    assert_eq!(message.date().unwrap().to_timestamp(), DATE);
    assert_eq!(
        header(&message, "Auto-Submitted"),
        None,
        "a person wrote it"
    );
    assert_eq!(content_language(&message), ["ca"]);
    assert_eq!(header(&message, INSTANCE_HEADER), Some("eng"));
    assert_eq!(header(&message, TICKET_HEADER), Some("ENG-004815"));

    // Bodies: the plain text and the HTML come back exactly.
    assert_eq!(
        message.body_text(0).unwrap(),
        rendered.text.replace('\n', "\r\n")
    );
    assert_eq!(
        message.body_html(0).unwrap(),
        rendered.html.replace('\n', "\r\n")
    );
    assert!(
        message
            .body_text(0)
            .unwrap()
            .contains("Ja us hem canviat al grup B2.")
    );
    assert!(message.body_html(0).unwrap().contains("<b>B2</b>"));
    assert_eq!(message.attachment_count(), 0);
    assert!(
        message
            .root_part()
            .is_content_type("multipart", "alternative")
    );
}

#[test]
fn a_spanish_auto_response_carries_the_robot_headers() {
    let variables = Variables {
        instance: InstanceVars {
            name: "Oficina de Relaciones Internacionales".into(),
            url: "https://tiquets.example.edu/ori/".into(),
        },
        recipient: PersonVars::new("José Ángel Muñoz", "jose.munoz@example.net"),
        ticket: Some(TicketVars {
            number: "ORI-2231".into(),
            subject: "¿Puedo convalidar asignaturas cursadas en Bolonia?".into(),
            department: "Movilidad".into(),
            topic: Some("Erasmus+".into()),
            link: Some("https://tiquets.example.edu/ori/t/ORI-2231?k=cXV4".into()),
            ..TicketVars::default()
        }),
        message: Some(EntryVars::new(
            "José Ángel Muñoz",
            &Body::Text("Buenos días:\nQuería saber si puedo convalidar…".into()),
        )),
        ..Variables::default()
    };
    let kind = TemplateKind::NewTicketAutoresponse;
    let rendered = render(kind, Language::Es, &TemplateTexts::default(), &variables).unwrap();
    let mail = compose(
        &Outgoing {
            from: Mailbox::new("Oficina de Relaciones Internacionales", "ori@example.edu"),
            return_path: Some("bounces+ori-2231@example.edu".into()),
            to: vec![Mailbox::new("José Ángel Muñoz", "jose.munoz@example.net")],
            date: DATE,
            in_reply_to: Some("<CAB+x=1@mail.example.net>".into()),
            auto_submitted: kind.auto_submitted(),
            language: Some(Language::Es),
            loop_tag: Some(LoopTag {
                instance: InstanceId::parse("ori").unwrap(),
                ticket: Some("ORI-2231".into()),
            }),
            ..Outgoing::default()
        }
        .with_rendered(&rendered),
    )
    .unwrap();
    assert_well_formed(&mail);
    assert_eq!(mail.from, "bounces+ori-2231@example.edu");

    let message = parse(&mail);
    assert_eq!(
        message.subject(),
        Some(
            "[#ORI-2231] Hemos recibido su solicitud: ¿Puedo convalidar asignaturas cursadas en Bolonia?"
        )
    );
    assert_eq!(header(&message, "Auto-Submitted"), Some("auto-replied"));
    assert_eq!(content_language(&message), ["es"]);
    assert_eq!(header(&message, "X-Auto-Response-Suppress"), Some("All"));
    assert_eq!(header(&message, "Precedence"), Some("bulk"));
    assert_eq!(
        message.in_reply_to().as_text(),
        Some("CAB+x=1@mail.example.net")
    );
    assert_eq!(
        message.references().as_text(),
        Some("CAB+x=1@mail.example.net"),
        "the parent is the thread's reference"
    );
    let id = message.message_id().unwrap();
    assert!(
        id.ends_with("@example.edu") && id.len() == 36 + "@example.edu".len(),
        "{id}"
    );
    let text = message.body_text(0).unwrap();
    assert!(text.contains("Hola, José Ángel Muñoz:"), "{text}");
    assert!(
        text.contains("> Quería saber si puedo convalidar…"),
        "{text}"
    );
    assert!(text.contains("https://tiquets.example.edu/ori/t/ORI-2231?k=cXV4"));
    let html = message.body_html(0).unwrap();
    assert!(html.contains("<html lang=\"es\">"));
    assert!(html.contains("Erasmus+"));
}

#[test]
fn attachments_and_inline_images_come_back_byte_for_byte() {
    let pdf: Vec<u8> = (0..70_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    // A text file with bare LF and trailing spaces: a transfer encoding that
    // touched line ends would change it.
    let csv = "nom;nota  \nÀlex;8,5\nNúria;9\n".as_bytes().to_vec();
    let png = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0xff,
    ];
    let long_name = "Resolució de la sol·licitud de reconeixement de crèdits — curs 2025-2026 (versió definitiva signada).pdf";
    let attachments = vec![
        Attachment {
            filename: long_name.into(),
            content_type: "application/pdf".into(),
            data: pdf.clone(),
        },
        Attachment {
            filename: "C:\\Users\\secretaria\\notes_àlgebra.csv".into(),
            content_type: "Text/CSV".into(),
            data: csv.clone(),
        },
    ];
    let mail = compose(&Outgoing {
        from: Mailbox::new("Secretaria", "secretaria@example.edu"),
        to: vec![Mailbox::address("nuria.puig@example.edu")],
        subject: "Documentació adjunta".into(),
        date: DATE,
        text: "Us enviem la resolució.\n".into(),
        html: Some(
            "<p>Us enviem la resolució.</p><p><img src=\"cid:logo.eng@example.edu\" alt=\"\"></p>"
                .into(),
        ),
        attachments,
        inline_images: vec![InlineImage {
            content_id: "<logo.eng@example.edu>".into(),
            content_type: "image/png".into(),
            data: png.clone(),
        }],
        ..Outgoing::default()
    })
    .unwrap();
    assert_well_formed(&mail);

    let message = parse(&mail);
    assert!(message.root_part().is_content_type("multipart", "mixed"));
    assert_eq!(message.body_text(0).unwrap(), "Us enviem la resolució.\r\n");
    assert!(
        message
            .body_html(0)
            .unwrap()
            .contains("cid:logo.eng@example.edu")
    );

    let parts: Vec<_> = message.attachments().collect();
    let named = |name: &str| {
        parts
            .iter()
            .find(|part| part.attachment_name() == Some(name))
            .unwrap_or_else(|| panic!("no attachment named {name:?}"))
    };
    let pdf_part = named(long_name);
    assert_eq!(pdf_part.contents(), pdf.as_slice());
    assert!(pdf_part.is_content_type("application", "pdf"));
    assert_eq!(pdf_part.content_transfer_encoding(), Some("base64"));
    let csv_part = named("notes_àlgebra.csv");
    assert_eq!(csv_part.contents(), csv.as_slice());
    assert!(csv_part.is_content_type("text", "csv"));
    assert_eq!(csv_part.content_transfer_encoding(), Some("base64"));
    assert!(csv_part.content_disposition().unwrap().is_attachment());

    let image = parts
        .iter()
        .find(|part| part.content_id() == Some("logo.eng@example.edu"))
        .expect("the inline image");
    assert_eq!(image.contents(), png.as_slice());
    assert!(image.content_disposition().unwrap().is_inline());
    let raw = String::from_utf8_lossy(&mail.raw);
    assert!(
        raw.contains("multipart/related"),
        "the image sits beside the HTML"
    );
    assert!(
        raw.contains("filename*0*=UTF-8''Resoluci%C3%B3"),
        "RFC 2231 file name"
    );
}

#[test]
fn a_mail_to_bcc_recipients_only_discloses_none() {
    let mail = compose(&Outgoing {
        from: Mailbox::new("Servei d'Informàtica", "si@example.edu"),
        bcc: vec![
            Mailbox::address("agent1@example.edu"),
            Mailbox::address("agent2@example.edu"),
        ],
        subject: "[#SI-77] Tiquet nou: la impressora de la sala 2 no imprimeix".into(),
        date: DATE,
        auto_submitted: AutoSubmitted::AutoGenerated,
        text: "Ha arribat un tiquet nou.".into(),
        ..Outgoing::default()
    })
    .unwrap();
    assert_well_formed(&mail);
    assert_eq!(
        mail.recipients,
        ["agent1@example.edu", "agent2@example.edu"]
    );
    let message = parse(&mail);
    assert!(message.bcc().is_none());
    assert_eq!(header(&message, "Auto-Submitted"), Some("auto-generated"));
    let raw = String::from_utf8_lossy(&mail.raw);
    assert!(!raw.contains("agent1@example.edu") && !raw.contains("agent2@example.edu"));
    assert!(message.root_part().is_content_type("text", "plain"));
}
